//! `/healthz` (the process is up) and `/readyz` (the database answers).

use axum::{Router, extract::State, http::StatusCode, routing::get};
use backend::db::Db;

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(|| async { "ok" })).route("/readyz", get(ready))
}

async fn ready(State(db): State<Db>) -> (StatusCode, &'static str) {
    if db.is_ready().await {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "the database does not answer")
    }
}
