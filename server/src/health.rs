//! `/healthz` (the process is up) and `/readyz` (the database answers).

use crate::AppState;
use axum::{Router, extract::State, http::StatusCode, routing::get};

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(|| async { "ok" })).route("/readyz", get(ready))
}

async fn ready(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if state.services.db.is_ready().await {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "the database does not answer")
    }
}
