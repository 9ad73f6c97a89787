//! `/webhooks/woocommerce`, where the store delivers. The signature (`X-WC-Webhook-Signature`,
//! base64 HMAC-SHA256 of the raw body) is checked before anything else: a bad one is
//! answered 401, logged, and nothing is stored. The unsigned ping WooCommerce sends when a
//! webhook is saved (`webhook_id=N`, form-encoded, no `X-WC-Webhook-*` headers) gets exactly
//! 200 — anything else would make WooCommerce ping again after every delivery. A good
//! delivery is stored and answered at once; it is applied moments later.

use axum::{
    Router,
    body::Bytes,
    extract::{DefaultBodyLimit, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use backend::woo::webhooks;
use secrecy::ExposeSecret;

use crate::{AppState, api::error::ApiError};

pub const PATH: &str = "/webhooks/woocommerce";
/// The largest delivery taken: a store's order with many lines is tens of kilobytes.
pub const BODY_LIMIT: usize = 4 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new().route(PATH, post(deliver)).layer(DefaultBodyLimit::max(BODY_LIMIT))
}

async fn deliver(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let signature = header("x-wc-webhook-signature");
    if signature.is_none() && is_ping(&body) {
        return Ok(StatusCode::OK.into_response());
    }
    let refused = |why: &str| {
        tracing::warn!(reason = why, "a WooCommerce webhook delivery was refused");
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_signature",
            "the X-WC-Webhook-Signature signature does not match this body",
        )
    };
    let Some(secret) = state.services.woo.webhook_secret().await? else {
        return Err(refused("no store is connected"));
    };
    if !webhooks::signature_is_valid(secret.expose_secret().as_bytes(), &body, signature) {
        return Err(refused(if signature.is_none() { "no signature" } else { "a signature that does not match" }));
    }
    let topic = header("x-wc-webhook-topic").map(str::trim).filter(|t| {
        t.len() <= 60 && t.contains('.') && t.bytes().all(|b| b.is_ascii_lowercase() || b == b'.' || b == b'_')
    });
    let Some(topic) = topic else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_topic",
            "X-WC-Webhook-Topic names no topic such as order.updated",
        ));
    };
    let text = std::str::from_utf8(&body)
        .ok()
        .filter(|t| !t.contains('\0') && serde_json::from_str::<serde_json::Value>(t).is_ok_and(|v| v.is_object()));
    let Some(text) = text else {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", "the body is not a JSON object"));
    };
    let webhook_id = header("x-wc-webhook-id").and_then(|v| v.trim().parse().ok());
    webhooks::receive(&state.services.woo, topic, webhook_id, text.to_owned()).await?;
    Ok(StatusCode::OK.into_response())
}

/// WooCommerce's ping: the body `webhook_id=<digits>`.
fn is_ping(body: &[u8]) -> bool {
    std::str::from_utf8(body)
        .ok()
        .and_then(|b| b.trim().strip_prefix("webhook_id="))
        .is_some_and(|id| !id.is_empty() && id.len() <= 20 && id.bytes().all(|b| b.is_ascii_digit()))
}
