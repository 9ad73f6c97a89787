//! Email through the outbox to a real SMTP server on loopback (aiosmtpd, see
//! `smtp_sink.py`): a customer note arrives with both parts and its Turkish letters; a
//! server that answers 451 first gets the message once it answers 250; a 550 marks the
//! email failed with the server's reply; a server that is down and comes back loses
//! nothing; no SMTP URL writes `.eml` files; names with line breaks add no header.

mod common;
mod smtp;

use backend::{
    access::Scope,
    demo::{self, DemoOptions},
    mail,
};
use common::*;
use reqwest::{Method, StatusCode};
use smtp::SmtpSink;

async fn mail_row(app: &TestApp, id: i64) -> (String, i64, Option<String>) {
    sqlx::query_as("SELECT state, attempts, last_error FROM mail_outbox WHERE id = $1")
        .bind(id)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

/// Lets a retry that waits for its backoff run now (as if the time had passed).
async fn skip_backoff(app: &TestApp) {
    sqlx::query("UPDATE jobs SET run_at = 0 WHERE kind = 'mail.send' AND state = 'queued'")
        .execute(app.db.writer())
        .await
        .unwrap();
}

async fn app_with_smtp(engine: Engine, smtp_url: Option<String>) -> TestApp {
    spawn_app_with(engine, Options { job_workers: 1, smtp_url, ..Options::default() }).await
}

async fn a_customer_note_arrives_with_both_parts_and_its_turkish_letters(engine: Engine) {
    let sink = SmtpSink::start(0, None);
    let app = app_with_smtp(engine, Some(sink.url())).await;
    let key = app.key(Scope::Write).await;
    demo::load(&app.db, DemoOptions { orders: 20, seed: 3 }, |_| {}).await.unwrap();
    sqlx::query("UPDATE store_settings SET name = 'Çiçek Evi', locale = 'tr' WHERE id = 1")
        .execute(app.db.writer())
        .await
        .unwrap();
    // A name with a line break in it must not become a header of its own.
    sqlx::query("UPDATE orders SET billing_first_name = $1, billing_last_name = 'Öztürk', billing_email = 'sukru@example.com' WHERE id = 1")
        .bind("Şükrü\r\nBcc: everyone@example.com")
        .execute(app.db.writer())
        .await
        .unwrap();
    let note = "Kargonuz yolda <script>alert('ğ')</script>\nİyi günler!";
    let response = app
        .api(Method::POST, "/api/v1/orders/1/notes", &key)
        .json(&serde_json::json!({ "note": note, "to_customer": true }))
        .send()
        .await
        .unwrap();
    assert_status(&response, StatusCode::CREATED);

    eventually("the note is received", || async { sink.received().len() == 1 }).await;
    let mail = &sink.received()[0];
    assert_eq!(mail["rcpt_tos"], serde_json::json!(["sukru@example.com"]), "only the customer receives it");
    assert_eq!(mail["subject"], "Çiçek Evi: #1 numaralı siparişiniz hakkında bir not");
    assert!(
        mail["to"].as_str().unwrap().contains("Şükrü Bcc: everyone@example.com Öztürk"),
        "{}\n{}",
        mail["to"],
        mail["raw_headers"].as_str().unwrap()
    );
    assert!(!mail["header_names"].as_array().unwrap().iter().any(|h| h.as_str().unwrap().eq_ignore_ascii_case("bcc")));
    assert!(mail["from"].as_str().unwrap().starts_with("Çiçek Evi <no-reply@"), "{}", mail["from"]);
    let text = mail["text"].as_str().unwrap();
    assert!(text.contains("> Kargonuz yolda <script>alert('ğ')</script>") && text.contains("> İyi günler!"), "{text}");
    let html = mail["html"].as_str().unwrap();
    assert!(html.contains("Kargonuz yolda &lt;script&gt;alert(&#39;ğ&#39;)&lt;/script&gt;<br>İyi günler!"), "{html}");
    assert!(!html.contains("<script>"));
    // The server has the message before the sender records its 250, so wait for the record.
    let (id, message_id): (i64, String) = sqlx::query_as("SELECT id, message_id FROM mail_outbox WHERE order_id = 1")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    eventually("the 250 is recorded", || async { mail_row(&app, id).await.0 != "queued" }).await;
    assert_eq!(mail_row(&app, id).await, ("sent".to_string(), 1, None));
    assert!(mail["message_id"].as_str().unwrap().contains(&message_id));
    // A private note sends nothing.
    let response = app
        .api(Method::POST, "/api/v1/orders/1/notes", &key)
        .json(&serde_json::json!({ "note": "Paketlendi" }))
        .send()
        .await
        .unwrap();
    assert_status(&response, StatusCode::CREATED);
    let queued: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM mail_outbox").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(queued, 1);
    app.stop().await;
}

async fn a_temporary_refusal_is_retried_and_the_message_arrives_once(engine: Engine) {
    let sink = SmtpSink::start(1, None);
    let app = app_with_smtp(engine, Some(sink.url())).await;
    let owner = app.owner().await;
    mail::send_test(&app.db, &owner, None, "elif@example.com").await.unwrap();
    let id: i64 = sqlx::query_scalar("SELECT id FROM mail_outbox").fetch_one(app.db.pool()).await.unwrap();
    eventually("the 451 is recorded", || async { mail_row(&app, id).await.1 == 1 }).await;
    let (state, _, error) = mail_row(&app, id).await;
    assert_eq!(state, "queued");
    assert!(error.as_deref().unwrap_or("").contains("451"), "{error:?}");
    assert!(sink.received().is_empty());
    skip_backoff(&app).await;
    eventually("the retry is sent", || async { mail_row(&app, id).await.0 == "sent" }).await;
    assert_eq!(mail_row(&app, id).await.1, 2);
    assert_eq!(sink.received().len(), 1);
    assert_eq!(sink.received()[0]["rcpt_tos"], serde_json::json!(["elif@example.com"]));
    app.stop().await;
}

async fn a_permanent_refusal_marks_the_email_failed_with_the_servers_reply(engine: Engine) {
    let sink = SmtpSink::start(0, None);
    let app = app_with_smtp(engine, Some(sink.url())).await;
    let owner = app.owner().await;
    mail::send_test(&app.db, &owner, None, "reject-me@example.com").await.unwrap();
    let id: i64 = sqlx::query_scalar("SELECT id FROM mail_outbox").fetch_one(app.db.pool()).await.unwrap();
    eventually("the 550 is recorded", || async { mail_row(&app, id).await.0 == "failed" }).await;
    let (_, attempts, error) = mail_row(&app, id).await;
    assert_eq!(attempts, 1, "a permanent refusal is not retried");
    assert!(error.as_deref().unwrap_or("").contains("mailbox unavailable"), "{error:?}");
    // Sending it again is the manager's choice; it is queued once more.
    mail::outbox::retry(&app.db, id).await.unwrap();
    eventually("the second refusal is recorded", || async { mail_row(&app, id).await.1 == 2 }).await;
    assert_eq!(mail_row(&app, id).await.0, "failed");
    assert!(mail::outbox::retry(&app.db, 999).await.is_err());
    assert!(sink.received().is_empty());
    app.stop().await;
}

async fn a_mail_server_that_is_down_then_back_loses_nothing(engine: Engine) {
    let port = free_port();
    let app = app_with_smtp(engine, Some(format!("smtp://127.0.0.1:{port}"))).await;
    let owner = app.owner().await;
    for to in ["a@example.com", "b@example.com"] {
        mail::send_test(&app.db, &owner, None, to).await.unwrap();
    }
    eventually("both attempts failed", || async {
        let failed: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM mail_outbox WHERE attempts >= 1 AND state = 'queued'")
                .fetch_one(app.db.pool())
                .await
                .unwrap();
        failed == 2
    })
    .await;
    let sink = SmtpSink::start(0, Some(port));
    skip_backoff(&app).await;
    eventually("both are sent", || async { sink.received().len() == 2 }).await;
    let mut to: Vec<String> = sink.received().iter().map(|m| m["rcpt_tos"][0].as_str().unwrap().to_owned()).collect();
    to.sort();
    assert_eq!(to, ["a@example.com", "b@example.com"]);
    app.stop().await;
}

async fn without_an_smtp_url_email_is_written_to_the_outbox_folder(engine: Engine) {
    let app = app_with_smtp(engine, None).await;
    let owner = app.owner().await;
    let to = mail::send_test(&app.db, &owner, None, "").await.unwrap();
    assert_eq!(to, owner.email.to_string(), "no notification address: the person asking");
    let outbox = app.data_dir.join("outbox");
    eventually("the .eml file is written", || async {
        std::fs::read_dir(&outbox)
            .map(|d| d.filter_map(Result::ok).any(|e| e.path().extension().is_some_and(|x| x == "eml")))
            .unwrap_or(false)
    })
    .await;
    let file = std::fs::read_dir(&outbox)
        .unwrap()
        .filter_map(Result::ok)
        .find(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .unwrap();
    let eml = std::fs::read_to_string(file.path()).unwrap();
    assert!(eml.contains("multipart/alternative") && eml.contains("text/html") && eml.contains("text/plain"), "{eml}");
    assert!(file.file_name().to_str().unwrap().ends_with("-mail-test.eml"));
    app.stop().await;
}

async fn mail_settings_are_checked_and_audited(engine: Engine) {
    let app = spawn_app(engine).await;
    let owner = app.owner().await;
    let bad = mail::MailSettings { from_address: "not an address".into(), ..Default::default() };
    assert!(
        mail::update_settings(&app.db, &owner, None, bad).await.unwrap_err().to_string().contains("sender address")
    );
    let long = mail::MailSettings { notify_address: format!("{}@example.com", "a".repeat(300)), ..Default::default() };
    assert!(mail::update_settings(&app.db, &owner, None, long).await.is_err());
    let good = mail::MailSettings {
        from_name: "Çiçek\r\nEvi".into(),
        from_address: "shop@example.com".into(),
        notify_address: "orders@example.com".into(),
    };
    let saved = mail::update_settings(&app.db, &owner, None, good).await.unwrap();
    assert_eq!((saved.from_name.as_str(), saved.from_address.as_str()), ("Çiçek Evi", "shop@example.com"));
    let to = mail::send_test(&app.db, &owner, None, "").await.unwrap();
    assert_eq!(to, "orders@example.com");
    let audited: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action IN ('mail.settings.update', 'mail.test')")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(audited, 2);
    let agent = app.user("agent@example.com", backend::users::Role::Agent).await;
    assert!(matches!(mail::send_test(&app.db, &agent, None, "").await, Err(backend::Error::Forbidden)));
    app.stop().await;
}

on_both_databases!(
    a_customer_note_arrives_with_both_parts_and_its_turkish_letters,
    a_temporary_refusal_is_retried_and_the_message_arrives_once,
    a_permanent_refusal_marks_the_email_failed_with_the_servers_reply,
    a_mail_server_that_is_down_then_back_loses_nothing,
    without_an_smtp_url_email_is_written_to_the_outbox_folder,
    mail_settings_are_checked_and_audited,
);
