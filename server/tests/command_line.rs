//! The `backroom` command as an operator uses it.

mod common;

use std::{
    io::Write,
    process::{Command, Output, Stdio},
};

use common::*;
use reqwest::StatusCode;

fn backroom(args: &[&str], database_url: &str, stdin: Option<&str>) -> Output {
    let data = std::env::temp_dir().join(format!("backroom-cli-{}", uuid::Uuid::new_v4()));
    let output = backroom_in(&data, args, database_url, stdin);
    let _ = std::fs::remove_dir_all(data);
    output
}

/// Runs `backroom` with a given data folder (where the master key lives).
fn backroom_in(data: &std::path::Path, args: &[&str], database_url: &str, stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_backroom"))
        .args(args)
        .env("BACKROOM_DATABASE_URL", database_url)
        .env("BACKROOM_DATA_DIR", data)
        .env("BACKROOM_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    child.wait_with_output().unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

async fn a_user_added_on_the_command_line_can_sign_in(engine: Engine) {
    let app = spawn_app(engine).await;
    let url = app.database_url.clone();
    let added = backroom(
        &["user", "add", "--email", "Cli@Shop.example", "--role", "owner", "--password-stdin"],
        &url,
        Some("a password from stdin\n"),
    );
    assert!(added.status.success(), "{}", stderr(&added));
    let response = app.sign_in_with(&browser(), "cli@shop.example", "a password from stdin").await;
    assert!(response.status().is_success(), "{}", response.status());
    app.stop().await;
}

async fn a_key_created_on_the_command_line_works_once_printed(engine: Engine) {
    let app = spawn_app(engine).await;
    app.owner().await;
    let url = app.database_url.clone();
    let created = backroom_in(
        &app.data_dir,
        &["key", "create", "--label", "Warehouse tablet", "--scope", "write", "--expires-days", "90"],
        &url,
        None,
    );
    assert!(created.status.success(), "{}", stderr(&created));
    let key = String::from_utf8_lossy(&created.stdout).trim().to_owned();
    assert!(key.starts_with("brk_") && key.len() == 62, "only the key on standard output: {key}");
    assert!(stderr(&created).contains("shown once"), "{}", stderr(&created));
    let response = app.api(reqwest::Method::GET, "/api/v1/me", &key).send().await.unwrap();
    assert_status(&response, StatusCode::OK);
    let me: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        (me["credential"]["label"].as_str(), me["credential"]["scope"].as_str()),
        (Some("Warehouse tablet"), Some("write"))
    );
    assert_eq!(me["user"]["email"], OWNER_EMAIL);

    for (args, message) in [
        (vec!["key", "create", "--label", "x", "--scope", "admin"], "the scope must be read or write"),
        (vec!["key", "create", "--label", "x", "--expires-days", "0"], "between 1 and 3650 days"),
        (vec!["key", "create", "--label", "  "], "the label needs 1 to 80 characters"),
        (vec!["key", "create", "--label", "x", "--user", "nobody@shop.example"], "no such user"),
    ] {
        let refused = backroom_in(&app.data_dir, &args, &url, None);
        assert!(!refused.status.success());
        assert!(stderr(&refused).contains(message), "{args:?}: {}", stderr(&refused));
    }
    app.stop().await;
}

async fn bad_command_line_input_gets_a_clear_message(engine: Engine) {
    let (url, _) = fresh_database(engine).await;
    let negative = backroom(&["demo", "--orders", "-5"], &url, None);
    assert!(!negative.status.success());
    assert!(stderr(&negative).contains("--orders must be between 0 and"), "{}", stderr(&negative));

    let weak = backroom(
        &["user", "add", "--email", "a@shop.example", "--role", "owner", "--password-stdin"],
        &url,
        Some("short\n"),
    );
    assert!(!weak.status.success());
    assert!(stderr(&weak).contains("at least 10 characters"), "{}", stderr(&weak));

    let role = backroom(
        &["user", "add", "--email", "a@shop.example", "--role", "root", "--password-stdin"],
        &url,
        Some("long enough password\n"),
    );
    assert!(stderr(&role).contains("the role must be"), "{}", stderr(&role));
}

async fn settings_are_checked_and_a_new_time_zone_rebuilds_the_daily_sales(engine: Engine) {
    let app = spawn_app(engine).await;
    app.signed_in_owner().await;
    let form = |tz: &'static str| {
        [("name", "Anadolu Home"), ("public_url", ""), ("currency", "try"), ("time_zone", tz), ("locale", "tr")]
    };
    let bad = app.call::<app::settings::SaveSettings>(&app.client, &form("Mars/Olympus")).await;
    assert_status(&bad, StatusCode::BAD_REQUEST);
    let ok = app.call::<app::settings::SaveSettings>(&app.client, &form("Europe/Berlin")).await;
    assert!(ok.status().is_success(), "{}", ok.status());
    let stored = backend::settings::get(&app.db).await.unwrap();
    assert_eq!(
        (stored.currency.as_str(), stored.time_zone.as_str(), stored.locale.as_str()),
        ("TRY", "Europe/Berlin", "tr")
    );
    let rebuilds: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM jobs WHERE kind = 'sales_daily.rebuild'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(rebuilds.0, 1);
    app.stop().await;
}

on_both_databases!(
    a_key_created_on_the_command_line_works_once_printed,
    a_user_added_on_the_command_line_can_sign_in,
    bad_command_line_input_gets_a_clear_message,
    settings_are_checked_and_a_new_time_zone_rebuilds_the_daily_sales,
);

#[test]
fn an_unreachable_database_is_named_without_its_password() {
    let output = backroom(&["migrate"], "postgres://shop:hunter2@127.0.0.1:1/backroom?connect_timeout=1", None);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("cannot open the database at postgres://127.0.0.1:1/backroom"), "{message}");
    assert!(!message.contains("hunter2") && !message.contains("panicked"), "{message}");
}

#[test]
fn an_unwritable_data_folder_is_reported_plainly() {
    let output = Command::new(env!("CARGO_BIN_EXE_backroom"))
        .arg("serve")
        .env_remove("BACKROOM_DATABASE_URL")
        .env("BACKROOM_DATA_DIR", "/proc/backroom-data")
        .env("BACKROOM_ADDR", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("cannot create the database folder /proc/backroom-data"), "{message}");
    assert!(!message.contains("panicked"), "{message}");
}
