//! `/webhooks/whatsapp`, where Meta calls: GET to verify the subscription, POST with
//! deliveries. A POST's signature is checked over the raw bytes before anything else
//! (a bad one is answered 401 and logged); a good one is stored and answered at once,
//! and the WhatsApp workers apply it.

use axum::{
    Router,
    body::Bytes,
    extract::{Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
};
use backend::whatsapp::webhook;
use secrecy::ExposeSecret;
use serde::Deserialize;

use crate::{AppState, api::error::ApiError};

pub const PATH: &str = "/webhooks/whatsapp";

pub fn router() -> Router<AppState> {
    Router::new().route(PATH, get(verify).post(deliver))
}

#[derive(Deserialize)]
struct Subscription {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    token: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

async fn verify(
    State(state): State<AppState>,
    query: Result<Query<Subscription>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Ok(Query(query)) = query else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            "expected hub.mode, hub.verify_token and hub.challenge",
        ));
    };
    match webhook::verify_subscription(
        &state.services.db,
        query.mode.as_deref(),
        query.token.as_deref(),
        query.challenge.as_deref(),
    )
    .await?
    {
        Some(challenge) => Ok(challenge.into_response()),
        None => {
            tracing::warn!("a WhatsApp webhook verification with a wrong mode or verify token was refused");
            Err(ApiError::new(StatusCode::FORBIDDEN, "forbidden", "the verify token does not match"))
        }
    }
}

async fn deliver(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    let refused = |why: &str| {
        tracing::warn!(reason = why, "a WhatsApp webhook delivery was refused");
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_signature",
            "the X-Hub-Signature-256 signature does not match this body",
        )
    };
    let Some(secret) = state.services.whatsapp.app_secret().await? else {
        return Err(refused("no app secret is set up yet"));
    };
    let header = headers.get("x-hub-signature-256").and_then(|v| v.to_str().ok());
    if !webhook::signature_is_valid(secret.expose_secret().as_bytes(), &body, header) {
        return Err(refused(if header.is_none() { "no signature" } else { "a signature that does not match" }));
    }
    let text = std::str::from_utf8(&body)
        .ok()
        .filter(|t| serde_json::from_str::<serde_json::Value>(t).is_ok_and(|v| v.is_object()));
    let Some(text) = text else {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", "the body is not a JSON object"));
    };
    state.services.whatsapp.intake.receive(vec![text.into(), backend::clock::now().into()]).await?;
    Ok(StatusCode::OK.into_response())
}
