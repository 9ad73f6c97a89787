//! Meta's WhatsApp webhook on both databases: the subscription check, signatures over the
//! raw bytes (Turkish letters escaped as Meta escapes them), and statuses that move our
//! messages forward only, whatever order and however often they arrive.

mod common;

use backend::whatsapp::settings::{self, Credentials};
use common::*;
use hmac::{Hmac, KeyInit, Mac};
use reqwest::StatusCode;
use sha2::Sha256;

const APP_SECRET: &str = "meta-app-secret-5d41402abc4b2a76";

async fn set_up(app: &TestApp) {
    let credentials = Credentials {
        phone_number_id: "106540352242922".into(),
        waba_id: "102290129340398".into(),
        access_token: Some("EAAG-system-user-token".into()),
        app_secret: Some(APP_SECRET.into()),
        graph_version: "v23.0".into(),
        graph_base_url: "https://graph.facebook.com".into(),
    };
    settings::update(&app.db, &app.sealer, &app.owner().await, None, credentials).await.unwrap();
}

fn sign(body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(APP_SECRET.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect::<String>())
}

async fn post(app: &TestApp, body: &[u8], signature: Option<&str>) -> reqwest::Response {
    let mut request =
        app.client.post(app.url("/webhooks/whatsapp")).header("content-type", "application/json").body(body.to_vec());
    if let Some(signature) = signature {
        request = request.header("x-hub-signature-256", signature);
    }
    request.send().await.unwrap()
}

fn status_body(statuses: &str) -> Vec<u8> {
    format!(r#"{{"object":"whatsapp_business_account","entry":[{{"id":"102290129340398","changes":[{{"field":"messages","value":{{"messaging_product":"whatsapp","statuses":[{statuses}]}}}}]}}]}}"#).into_bytes()
}

async fn meta_verifies_the_subscription_with_the_token(engine: Engine) {
    let app = spawn_app(engine).await;
    let token = settings::get(&app.db).await.unwrap().verify_token;
    assert_eq!(token.len(), 32);
    assert_eq!(settings::get(&app.db).await.unwrap().verify_token, token, "made once");
    let wrong = app.get("/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1158201444").await;
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    let missing = app.get("/webhooks/whatsapp?hub.challenge=1158201444").await;
    assert_eq!(missing.status(), StatusCode::FORBIDDEN);
    assert!(settings::get(&app.db).await.unwrap().webhook_verified_at.is_none());
    let right = app
        .get(&format!("/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=1158201444"))
        .await;
    assert_eq!(right.status(), StatusCode::OK);
    assert_eq!(right.text().await.unwrap(), "1158201444");
    assert!(settings::get(&app.db).await.unwrap().webhook_verified_at.is_some());
    app.stop().await;
}

async fn a_delivery_is_taken_only_with_its_signature(engine: Engine) {
    let app = spawn_app(engine).await;
    // Before an app secret is set up, nothing can be verified: refused.
    let body = br#"{"entry":[{"changes":[{"value":{"messages":[{"from":"905321234567","text":{"body":"te\u015fekk\u00fcrler, \u00e7ok g\u00fczel"}}]}}]}]}"#;
    assert_eq!(post(&app, body, Some(&sign(body))).await.status(), StatusCode::UNAUTHORIZED);
    set_up(&app).await;
    let (status, code) = error_code(post(&app, body, None).await).await;
    assert_eq!((status, code.as_str()), (StatusCode::UNAUTHORIZED, "invalid_signature"));
    for wrong in ["sha256=not-hex", "md5=abc", &sign(b"another body"), &sign(body).to_uppercase()] {
        assert_eq!(post(&app, body, Some(wrong)).await.status(), StatusCode::UNAUTHORIZED, "{wrong}");
    }
    // Re-serialised, the same JSON is other bytes: Meta's signature would not match it.
    let reserialised = serde_json::to_vec(&serde_json::from_slice::<serde_json::Value>(body).unwrap()).unwrap();
    assert_eq!(post(&app, &reserialised, Some(&sign(body))).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.count("SELECT COUNT(*) FROM whatsapp_webhook_events").await, 0, "nothing refused is stored");

    assert_eq!(post(&app, body, Some(&sign(body))).await.status(), StatusCode::OK);
    let stored: String =
        sqlx::query_scalar("SELECT body FROM whatsapp_webhook_events").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(stored.as_bytes(), body, "kept as received");
    let (status, code) = error_code(post(&app, b"not json", Some(&sign(b"not json"))).await).await;
    assert_eq!((status, code.as_str()), (StatusCode::BAD_REQUEST, "invalid_json"));
    app.stop().await;
}

async fn statuses_move_messages_forward_only(engine: Engine) {
    let app = spawn_app_with(engine, Options { whatsapp_concurrency: 1, ..Options::default() }).await;
    set_up(&app).await;
    for wamid in ["wamid.A", "wamid.B", "wamid.C"] {
        sqlx::query("INSERT INTO whatsapp_messages (wamid, to_phone, purpose, state, created_at, updated_at) VALUES ($1, '+905321234567', 'test', 'sent', 1, 1)")
            .bind(wamid)
            .execute(app.db.writer())
            .await
            .unwrap();
    }
    let failed = r#"{"id":"wamid.B","status":"failed","timestamp":"1796000050","recipient_id":"905321234567","errors":[{"code":131026,"title":"Message undeliverable","error_data":{"details":"Message Undeliverable."}}]}"#;
    for statuses in [
        r#"{"id":"wamid.A","status":"read","timestamp":"1796000100","recipient_id":"905321234567"}"#.to_owned(),
        // Late and out of order: the read above already says more.
        r#"{"id":"wamid.A","status":"delivered","timestamp":"1796000090","recipient_id":"905321234567"}"#.to_owned(),
        failed.to_owned(),
        failed.to_owned(),
        r#"{"id":"wamid.C","status":"delivered","timestamp":"1796000070","recipient_id":"905321234567"},{"id":"wamid.unknown","status":"read","timestamp":"1796000071"}"#.to_owned(),
    ] {
        let body = status_body(&statuses);
        assert_eq!(post(&app, &body, Some(&sign(&body))).await.status(), StatusCode::OK);
    }
    eventually("every delivery is processed", || async {
        app.count("SELECT COUNT(*) FROM whatsapp_webhook_events WHERE processed_at IS NULL").await == 0
    })
    .await;
    /// wamid, state, delivered_at, read_at, error_code, error_details.
    type MessageRow = (String, String, Option<i64>, Option<i64>, Option<i64>, Option<String>);
    let rows: Vec<MessageRow> = sqlx::query_as(
        "SELECT wamid, state, delivered_at, read_at, error_code, error_details FROM whatsapp_messages ORDER BY wamid",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert_eq!(
        rows,
        vec![
            ("wamid.A".into(), "read".into(), Some(1_796_000_100), Some(1_796_000_100), None, None),
            ("wamid.B".into(), "failed".into(), None, None, Some(131026), Some("Message Undeliverable.".into())),
            ("wamid.C".into(), "delivered".into(), Some(1_796_000_070), None, None, None),
        ]
    );
    app.stop().await;
}

async fn deliveries_arriving_together_are_each_kept_once_as_received(engine: Engine) {
    let app = spawn_app_with(engine, Options { whatsapp_concurrency: 0, ..Options::default() }).await;
    set_up(&app).await;
    // Concurrent deliveries share inserts; each is answered only once it is stored.
    let bodies: Vec<Vec<u8>> =
        (0..60).map(|n| status_body(&format!(r#"{{"id":"wamid.{n}","status":"delivered","timestamp":"17960000{n:02}","recipient_id":"90532123\u00e7{n}"}}"#))).collect();
    let signatures: Vec<String> = bodies.iter().map(|body| sign(body)).collect();
    let answers = futures_util::future::join_all(
        bodies.iter().zip(&signatures).map(|(body, signature)| post(&app, body, Some(signature))),
    )
    .await;
    assert!(
        answers.iter().all(|a| a.status() == StatusCode::OK),
        "{:?}",
        answers.iter().map(|a| a.status()).collect::<Vec<_>>()
    );
    let mut stored: Vec<String> =
        sqlx::query_scalar("SELECT body FROM whatsapp_webhook_events").fetch_all(app.db.pool()).await.unwrap();
    let mut sent: Vec<String> = bodies.iter().map(|b| String::from_utf8(b.clone()).unwrap()).collect();
    stored.sort();
    sent.sort();
    assert_eq!(stored, sent, "every delivery kept once, byte for byte");
    app.stop().await;
}

on_both_databases!(
    deliveries_arriving_together_are_each_kept_once_as_received,
    meta_verifies_the_subscription_with_the_token,
    a_delivery_is_taken_only_with_its_signature,
    statuses_move_messages_forward_only,
);
