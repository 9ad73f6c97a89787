//! `/admin/live`: open panel pages hear about new orders, whoever wrote them; signed-out
//! visitors get nothing; a stopping server ends the streams instead of waiting on them.

mod common;

use std::time::Duration;

use common::*;
use reqwest::StatusCode;

/// Reads the stream until `wanted` appears in it (up to 10 s); returns what was read.
async fn read_until(response: &mut reqwest::Response, wanted: &str) -> String {
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !seen.contains(wanted) {
        let chunk = tokio::time::timeout_at(deadline, response.chunk())
            .await
            .unwrap_or_else(|_| panic!("no {wanted:?} in {seen:?}"));
        match chunk.unwrap() {
            Some(bytes) => seen.push_str(&String::from_utf8_lossy(&bytes)),
            None => panic!("the stream ended before {wanted:?}: {seen:?}"),
        }
    }
    seen
}

async fn an_open_page_hears_about_new_orders(engine: Engine) {
    let app = spawn_app(engine).await;
    assert_status(&app.get("/admin/live").await, StatusCode::UNAUTHORIZED);
    app.signed_in_owner().await;
    let mut stream = app.client.get(app.url("/admin/live")).send().await.unwrap();
    assert_status(&stream, StatusCode::OK);
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    // Written straight into the database, as another process (or instance) would.
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO orders (number, status, currency, total, items_count, created_at, updated_at) \
         VALUES ('5001', 'processing', 'TRY', 12500, 1, 1, 1) RETURNING id",
    )
    .fetch_one(app.db.writer())
    .await
    .unwrap();
    let seen = read_until(&mut stream, "\n\n").await;
    assert!(seen.contains(&format!("event: orders\ndata: {id}\n")), "{seen:?}");
    // Stopping the server ends the stream rather than waiting for it.
    let stopping = tokio::spawn(app.stop());
    tokio::time::timeout(Duration::from_secs(10), stopping)
        .await
        .expect("the server stops with a stream open")
        .unwrap();
    assert!(matches!(tokio::time::timeout(Duration::from_secs(5), stream.chunk()).await, Ok(Ok(None) | Err(_))));
}

on_both_databases!(an_open_page_hears_about_new_orders);
