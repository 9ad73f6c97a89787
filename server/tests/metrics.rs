//! `/metrics` for whoever runs Backroom: off unless a token is set, then only for that
//! token; requests counted by route template and status with latency histograms, and the
//! job queue, outbox and pools as the database has them.

mod common;

use backend::{access::Scope, jobs};
use common::*;
use reqwest::{Method, StatusCode, header};

const TOKEN: &str = "scrape-me-0123456789";

/// The value of the sample line that starts with `series ` (labels included).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

async fn metrics_are_off_by_default(engine: Engine) {
    let app = spawn_app(engine).await;
    let response = app.client.get(app.url("/metrics")).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}

async fn metrics_count_requests_by_route_and_read_the_queue(engine: Engine) {
    let app = spawn_app_with(engine, Options { metrics_token: Some(TOKEN), ..Options::default() }).await;
    for wrong in [None, Some("scrape-me-0123456788"), Some("")] {
        let mut request = app.client.get(app.url("/metrics"));
        if let Some(token) = wrong {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{wrong:?}");
        assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
    }
    let key = app.key(Scope::Read).await;
    for _ in 0..3 {
        assert_status(&app.api(Method::GET, "/api/v1/me", &key).send().await.unwrap(), StatusCode::OK);
    }
    // Two orders that do not exist: one series for the route's template, not one per id.
    for id in [999_001, 999_002] {
        let response = app.api(Method::GET, &format!("/api/v1/orders/{id}"), &key).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }
    // Paths that match no route add no series.
    app.client.get(app.url("/no-such-page-7f3a")).send().await.unwrap();
    jobs::enqueue(app.db.writer(), &jobs::NewJob::now("metrics.probe")).await.unwrap();

    let response = app.client.get(app.url("/metrics")).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let text = response.text().await.unwrap();
    let me = r#"method="GET",route="/api/v1/me""#;
    assert_eq!(sample(&text, &format!("backroom_http_requests_total{{{me},status=\"200\"}}")), Some(3.0), "{text}");
    assert_eq!(sample(&text, &format!("backroom_http_request_duration_seconds_count{{{me}}}")), Some(3.0));
    assert_eq!(sample(&text, &format!("backroom_http_request_duration_seconds_bucket{{{me},le=\"+Inf\"}}")), Some(3.0));
    let order = r#"method="GET",route="/api/v1/orders/{id}",status="404""#;
    assert_eq!(sample(&text, &format!("backroom_http_requests_total{{{order}}}")), Some(2.0), "{text}");
    assert!(!text.contains("999001") && !text.contains("no-such-page"), "{text}");
    // Buckets only grow.
    let buckets: Vec<f64> = text
        .lines()
        .filter(|l| l.starts_with(&format!("backroom_http_request_duration_seconds_bucket{{{me}")))
        .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(buckets.len(), 13);
    assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{buckets:?}");

    assert_eq!(sample(&text, r#"backroom_jobs_queued{kind="metrics.probe"}"#), Some(1.0), "{text}");
    assert!(sample(&text, r#"backroom_jobs_oldest_due_seconds{kind="metrics.probe"}"#).is_some());
    assert_eq!(sample(&text, "backroom_mail_outbox_queued"), Some(0.0));
    assert_eq!(sample(&text, "backroom_woo_deliveries_waiting"), Some(0.0));
    assert!(sample(&text, r#"backroom_db_connections{pool="read"}"#).is_some_and(|n| n >= 1.0), "{text}");
    app.stop().await;
}

on_both_databases!(metrics_are_off_by_default, metrics_count_requests_by_route_and_read_the_queue);
