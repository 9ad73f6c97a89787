//! The `backroom` command as an operator uses it.

mod common;

use std::process::{Command, Output, Stdio};

use common::*;
use reqwest::StatusCode;

fn backroom(args: &[&str], database_url: &str, stdin: Option<&str>) -> Output {
    let data = std::env::temp_dir().join(format!("backroom-cli-{}", uuid::Uuid::new_v4()));
    let output = backroom_in(&data, args, database_url, stdin);
    let _ = std::fs::remove_dir_all(data);
    output
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

async fn a_locked_out_owner_sets_a_new_password_on_the_command_line(engine: Engine) {
    let app = spawn_app(engine).await;
    app.signed_in_owner().await;
    assert_status(&app.get("/admin").await, StatusCode::OK);
    let url = app.database_url.clone();
    let reset = |email: &str, password: &str| {
        backroom(&["user", "reset-password", "--email", email, "--password-stdin"], &url, Some(password))
    };

    // Locked out from here by guessing.
    for _ in 0..11 {
        app.sign_in_with(&browser(), OWNER_EMAIL, "a wrong guess").await;
    }
    assert_status(&app.sign_in_with(&browser(), OWNER_EMAIL, OWNER_PASSWORD).await, StatusCode::TOO_MANY_REQUESTS);
    let sessions = app.count("SELECT COUNT(*) FROM sessions").await;
    assert!(sessions >= 1);
    let done = reset(&OWNER_EMAIL.to_uppercase(), "a brand new password\n");
    assert!(done.status.success(), "{}", stderr(&done));
    assert!(String::from_utf8_lossy(&done.stdout).contains(OWNER_EMAIL), "{}", String::from_utf8_lossy(&done.stdout));
    assert_eq!(location(&app.get("/admin").await), "/admin/login", "every session of theirs is signed out");
    let old = app.sign_in_with(&browser(), OWNER_EMAIL, OWNER_PASSWORD).await;
    assert_status(&old, StatusCode::UNAUTHORIZED);
    let new = app.sign_in_with(&browser(), OWNER_EMAIL, "a brand new password").await;
    assert!(new.status().is_success() || new.status().is_redirection(), "the lock is gone too: {}", new.status());
    let audited: (String, String) =
        sqlx::query_as("SELECT actor, details FROM audit_log WHERE action = 'user.password_reset'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(audited, ("command line".to_owned(), format!("sessions signed out: {sessions}")));

    let unknown = reset("nobody@shop.example", "a brand new password\n");
    assert!(!unknown.status.success());
    assert!(stderr(&unknown).contains("no user has the email nobody@shop.example"), "{}", stderr(&unknown));
    let weak = reset(OWNER_EMAIL, "short\n");
    assert!(!weak.status.success());
    assert!(stderr(&weak).contains("at least 10 characters"), "{}", stderr(&weak));
    app.stop().await;
}

async fn a_reset_link_printed_on_the_command_line_sets_a_new_password(engine: Engine) {
    let app = spawn_app(engine).await;
    app.signed_in_owner().await;
    let url = app.database_url.clone();
    let made = backroom_in(&app.data_dir, &["user", "reset-password", "--email", OWNER_EMAIL], &url, None);
    assert!(made.status.success(), "{}", stderr(&made));
    let link = String::from_utf8_lossy(&made.stdout).trim().to_owned();
    let (page, token) =
        link.split_once("?token=").unwrap_or_else(|| panic!("only the link on standard output: {link}"));
    assert!(page.ends_with("/admin/reset-password"), "{link}");
    assert!(stderr(&made).contains("30 minutes"), "{}", stderr(&made));
    let reset = app
        .call::<app::account_links::ResetPassword>(
            &browser(),
            &[("token", token), ("password", "a brand new password")],
        )
        .await;
    assert_eq!(location(&reset), "/admin/login?reset=done", "{}", reset.status());
    assert_eq!(location(&app.get("/admin").await), "/admin/login", "every session of theirs is signed out");
    let signed_in = app.sign_in_with(&browser(), OWNER_EMAIL, "a brand new password").await;
    assert!(signed_in.status().is_success() || signed_in.status().is_redirection(), "{}", signed_in.status());
    let audited = app
        .count("SELECT COUNT(*) FROM audit_log WHERE action = 'user.password_reset_link' AND actor = 'command line'")
        .await;
    assert_eq!(audited, 1);

    let unknown = backroom_in(&app.data_dir, &["user", "reset-password", "--email", "nobody@shop.example"], &url, None);
    assert!(!unknown.status.success());
    assert!(stderr(&unknown).contains("no user has the email nobody@shop.example"), "{}", stderr(&unknown));
    app.stop().await;
}

async fn two_factor_sign_in_is_turned_off_on_the_command_line(engine: Engine) {
    let app = spawn_app(engine).await;
    let owner = app.owner().await;
    let enrolment = backend::two_factor::begin(&app.db, &app.sealer, &owner, "Test Shop").await.unwrap();
    let secret = totp_rs::Secret::try_from_base32(&enrolment.secret).unwrap();
    let code = totp_rs::Builder::new().with_secret(secret).build().unwrap().generate(backend::clock::now() as u64);
    let password = OWNER_PASSWORD.to_owned().into();
    backend::account::turn_on_two_factor(&app.db, &app.sealer, &owner, &code.to_string(), password, None)
        .await
        .unwrap();
    let asked = app.sign_in_with(&browser(), OWNER_EMAIL, OWNER_PASSWORD).await;
    assert!(location(&asked).starts_with("/admin/sign-in-code"), "{}", location(&asked));

    let url = app.database_url.clone();
    let off = backroom(&["user", "two-factor-off", "--email", OWNER_EMAIL], &url, None);
    assert!(off.status.success(), "{}", stderr(&off));
    let signed_in = app.sign_in_with(&browser(), OWNER_EMAIL, OWNER_PASSWORD).await;
    assert_eq!(location(&signed_in), "/admin");
    let audited = app
        .count("SELECT COUNT(*) FROM audit_log WHERE action = 'user.two_factor_off' AND actor = 'command line'")
        .await;
    assert_eq!(audited, 1);
    let unknown = backroom(&["user", "two-factor-off", "--email", "nobody@shop.example"], &url, None);
    assert!(stderr(&unknown).contains("no user has the email nobody@shop.example"), "{}", stderr(&unknown));
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

/// A database restored without its master key (or started with another key) would fail
/// every key, app sign-in and saved secret one by one; the start is refused, naming what
/// the operator can do, until they choose to go on with the new key and lose those.
async fn a_database_without_its_master_key_refuses_to_start_until_told(engine: Engine) {
    let app = spawn_app(engine).await;
    app.owner().await;
    // One connection key, made under the shop's key.
    app.key(backend::access::Scope::Read).await;
    let url = app.database_url.clone();
    let elsewhere = std::env::temp_dir().join(format!("backroom-restored-{}", uuid::Uuid::new_v4()));
    let create = ["key", "create", "--label", "After the restore"];

    let refused = backroom_in(&elsewhere, &create, &url, None);
    assert!(!refused.status.success());
    let message = stderr(&refused);
    for said in
        ["there was no master key", "made with another key", "backroom serve --new-master-key", "1 connection keys"]
    {
        assert!(message.contains(said), "{said:?} in {message}");
    }
    assert!(!message.contains("panicked"), "{message}");
    let check = || async {
        sqlx::query_scalar::<_, Option<String>>("SELECT master_key_check FROM store_settings WHERE id = 1")
            .fetch_one(app.db.pool())
            .await
            .unwrap()
    };
    let before = check().await;
    assert!(before.is_some(), "the running shop's key is recorded");

    // Told to, it starts with the new key and says what was lost.
    let mut serving = Command::new(env!("CARGO_BIN_EXE_backroom"))
        .args(["serve", "--new-master-key"])
        .env("BACKROOM_DATABASE_URL", &url)
        .env("BACKROOM_DATA_DIR", &elsewhere)
        .env("BACKROOM_ADDR", "127.0.0.1:0")
        .env("BACKROOM_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while check().await == before && started.elapsed() < std::time::Duration::from_secs(30) {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    serving.kill().unwrap();
    let said = String::from_utf8_lossy(&serving.wait_with_output().unwrap().stderr).into_owned();
    assert_ne!(check().await, before, "the new key is now the shop's: {said}");
    assert!(said.contains("started with a new master key") && said.contains("1 connection keys"), "{said}");
    // What was made under the lost key is revoked (it could never work again), and the
    // start is in the audit log.
    let pool = app.db.pool().clone();
    let count = |sql: &'static str| {
        let pool = pool.clone();
        async move { sqlx::query_scalar::<_, i64>(sql).fetch_one(&pool).await.unwrap() }
    };
    assert_eq!(count("SELECT COUNT(*) FROM api_credentials WHERE revoked_at IS NULL").await, 0);
    assert_eq!(count("SELECT COUNT(*) FROM audit_log WHERE action = 'master_key.replaced'").await, 1);

    // From now on the new key starts, and the old one is refused in its turn.
    let created = backroom_in(&elsewhere, &create, &url, None);
    assert!(created.status.success(), "{}", stderr(&created));
    let old = backroom_in(&app.data_dir, &create, &url, None);
    assert!(stderr(&old).contains("made with another key"), "{}", stderr(&old));
    let _ = std::fs::remove_dir_all(elsewhere);
    app.stop().await;
}

/// A backup taken while the shop is busy is a consistent shop: restored elsewhere, every
/// order's total equals its lines, each order's refunded total its refunds, and the daily
/// sales a rebuild from the orders. A database holding a shop is replaced only when told.
async fn a_backup_taken_under_writes_restores_a_consistent_shop(engine: Engine) {
    let app = spawn_app(engine).await;
    let url = app.database_url.clone();
    let file = app.data_dir.join("shop-backup.db");
    let path = file.to_str().unwrap().to_owned();
    if engine == Engine::Postgres {
        let refused = backroom_in(&app.data_dir, &["backup", "--to", &path], &url, None);
        assert!(!refused.status.success() && stderr(&refused).contains("pg_dump"), "{}", stderr(&refused));
        let refused = backroom_in(&app.data_dir, &["restore", "--from", &path], &url, None);
        assert!(!refused.status.success() && stderr(&refused).contains("pg_restore"), "{}", stderr(&refused));
        app.stop().await;
        return;
    }
    backend::demo::load(&app.db, backend::demo::DemoOptions { orders: 2_000, seed: 3 }, |_| {}).await.unwrap();
    let key = app.key(backend::access::Scope::Write).await;
    let orders: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM orders WHERE status = 'completed' AND refunded_total = 0 ORDER BY id LIMIT 400",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();

    // Refunds of one lira go on, through the API, while the backup is taken.
    let writing = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let writer = {
        let (writing, client, base, key) = (writing.clone(), app.client.clone(), app.url(""), key.clone());
        tokio::spawn(async move {
            let mut made = 0;
            for id in orders {
                if !writing.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                let response = client
                    .post(format!("{base}/api/v1/orders/{id}/refunds"))
                    .bearer_auth(&key)
                    .header("x-backroom-timestamp", backend::clock::now().to_string())
                    .json(&serde_json::json!({ "amount": 100, "restock": false }))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), StatusCode::CREATED);
                made += 1;
            }
            made
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let data_dir = app.data_dir.clone();
    let (backup_url, backup_path) = (url.clone(), path.clone());
    let backed_up = tokio::task::spawn_blocking(move || {
        backroom_in(&data_dir, &["backup", "--to", &backup_path], &backup_url, None)
    })
    .await
    .unwrap();
    writing.store(false, std::sync::atomic::Ordering::Relaxed);
    let made = writer.await.unwrap();
    assert!(backed_up.status.success(), "{}", stderr(&backed_up));
    assert!(made > 0, "writes went on around the backup");
    assert!(stderr(&backed_up).contains("the master key is not in a backup"), "{}", stderr(&backed_up));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let again = backroom_in(&app.data_dir, &["backup", "--to", &path], &url, None);
    assert!(stderr(&again).contains("exists; name a new file"), "{}", stderr(&again));

    // The shop's own database is not overwritten without --force.
    let refused = backroom_in(&app.data_dir, &["restore", "--from", &path], &url, None);
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("holds a shop") && stderr(&refused).contains("--force"), "{}", stderr(&refused));
    let not_a_backup = app.data_dir.join("notes.txt");
    std::fs::write(&not_a_backup, "not a database").unwrap();
    let refused = backroom_in(&app.data_dir, &["restore", "--from", not_a_backup.to_str().unwrap()], &url, None);
    assert!(stderr(&refused).contains("is not a Backroom backup"), "{}", stderr(&refused));

    // Restored in a new place, it is whole.
    let (restored_url, restored_dir) = fresh_database(Engine::Sqlite).await;
    let restored = backroom_in(&restored_dir, &["restore", "--from", &path], &restored_url, None);
    assert!(restored.status.success(), "{}", stderr(&restored));
    let db = backend::db::Db::connect(&restored_url).await.unwrap();
    let count = |sql: &'static str| {
        let db = db.clone();
        async move { sqlx::query_scalar::<_, i64>(sql).fetch_one(db.pool()).await.unwrap() }
    };
    assert_eq!(count("SELECT COUNT(*) FROM orders").await, 2_000);
    assert_the_shop_is_whole(&db).await;
    db.close().await;
    app.stop().await;
}

/// A new master key: every stored secret sealed again under it, the database's check
/// moved to it, the previous key kept for older backups; what was made before (connection
/// keys, sealed settings) keeps working under the new key, and no longer under the old.
async fn the_master_key_is_rotated_and_everything_made_before_keeps_working(engine: Engine) {
    use backend::{
        access::{
            Scope,
            credentials::{self, CredentialType, NewCredential},
            secret::SecretHasher,
        },
        master_key::MasterKey,
        sealed::Place,
    };
    use secrecy::ExposeSecret;
    let (url, data_dir) = fresh_database(engine).await;
    let port = free_port();
    let start = serve_processes(&url, &data_dir, &[("BACKROOM_ADDR", format!("127.0.0.1:{port}"))]);
    let mut serving = start();
    let db = backend::db::Db::connect(&url).await.unwrap();
    eventually("the server has stored its keys", || async {
        sqlx::query_scalar::<_, Option<String>>("SELECT recovery_links_key FROM store_settings WHERE id = 1")
            .fetch_one(db.pool())
            .await
            .is_ok_and(|key| key.is_some())
    })
    .await;
    let (master, owner) = master_key_and_owner(&db, &data_dir).await;
    let new = NewCredential {
        kind: CredentialType::ConnectionKey,
        label: "Before".into(),
        scope: Scope::Read,
        lifetime_days: None,
    };
    let key = credentials::create(&db, &SecretHasher::from_master(&master), &owner, None, new).await.unwrap().secret;
    let old_sealer = master.sealer();
    sqlx::query("UPDATE accounting_settings SET api_key_sealed = $1 WHERE id = 1")
        .bind(old_sealer.seal(Place::AccountingApiKey, "cari-api-key"))
        .execute(db.writer())
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let me = || {
        client
            .get(format!("http://127.0.0.1:{port}/api/v1/me"))
            .bearer_auth(&key)
            .header("x-backroom-timestamp", backend::clock::now().to_string())
            .send()
    };
    eventually("the server answers", || async { me().await.is_ok() }).await;
    assert_eq!(me().await.unwrap().status(), StatusCode::OK);
    serving.kill().unwrap();
    serving.wait().unwrap();

    let key_file = data_dir.join("master.key");
    let before = std::fs::read_to_string(&key_file).unwrap();
    let rotated = backroom_in(&data_dir, &["rotate-master-key"], &url, None);
    assert!(rotated.status.success(), "{}", stderr(&rotated));
    assert!(stderr(&rotated).contains("stored secrets sealed again"), "{}", stderr(&rotated));
    assert_ne!(std::fs::read_to_string(&key_file).unwrap(), before);
    let kept: Vec<_> = std::fs::read_dir(&data_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".old"))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(std::fs::read_to_string(&kept[0]).unwrap(), before, "the previous key is kept");

    // The sealed setting opens under the new key only.
    let stored: String = sqlx::query_scalar("SELECT api_key_sealed FROM accounting_settings WHERE id = 1")
        .fetch_one(db.pool())
        .await
        .unwrap();
    let config = backend::config::Config { master_key_file: Some(key_file.clone()), ..Default::default() };
    let new_sealer = MasterKey::load_or_create(&config).unwrap().0.sealer();
    assert_eq!(new_sealer.open(Place::AccountingApiKey, &stored).unwrap().expose_secret(), "cari-api-key");
    assert!(old_sealer.open(Place::AccountingApiKey, &stored).is_err());

    // Served with the new key, the connection key made before works.
    let mut serving = start();
    eventually("the server answers again", || async { me().await.is_ok() }).await;
    assert_eq!(me().await.unwrap().status(), StatusCode::OK);
    serving.kill().unwrap();
    serving.wait().unwrap();
    // The old key is refused from now on.
    std::fs::write(&key_file, &before).unwrap();
    let refused = backroom_in(&data_dir, &["key", "create", "--label", "x"], &url, None);
    assert!(stderr(&refused).contains("made with another key"), "{}", stderr(&refused));
    db.close().await;
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
    a_database_without_its_master_key_refuses_to_start_until_told,
    a_backup_taken_under_writes_restores_a_consistent_shop,
    the_master_key_is_rotated_and_everything_made_before_keeps_working,
    a_user_added_on_the_command_line_can_sign_in,
    a_locked_out_owner_sets_a_new_password_on_the_command_line,
    a_reset_link_printed_on_the_command_line_sets_a_new_password,
    two_factor_sign_in_is_turned_off_on_the_command_line,
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
