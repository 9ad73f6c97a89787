//! Cross-origin access for what the storefront's pages call from the browser: checkout
//! capture and the cart a recovery link puts back answer the shop's origins only (set in
//! the WhatsApp settings) and refuse any other page; the widget's public configuration
//! answers every origin.
//! Preflight requests are answered here. No cookies are involved either way.

use axum::{
    extract::{Request, State},
    http::{HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::{AppState, api::error::ApiError};

pub const CAPTURE_PATH: &str = "/api/v1/carts/capture";
pub const WIDGET_PATH: &str = "/api/v1/whatsapp/widget";
/// Followed by the recovery link's token.
pub const RESTORE_PREFIX: &str = "/api/v1/carts/restore/";

pub async fn allow_storefront(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path != CAPTURE_PATH && path != WIDGET_PATH && !path.starts_with(RESTORE_PREFIX) {
        return next.run(req).await;
    }
    let origin = req.headers().get(header::ORIGIN).cloned();
    let allowed = match (&origin, path == WIDGET_PATH) {
        (_, true) => Some(HeaderValue::from_static("*")),
        (None, false) => None,
        (Some(origin), false) => {
            let config = backend::whatsapp::settings::config(state.services.db.pool()).await.unwrap_or_default();
            let text = origin.to_str().unwrap_or_default();
            if !config.is_shop_origin(text) {
                tracing::warn!(origin = text, path, "refused a storefront call from a page outside the shop");
                return ApiError::new(
                    StatusCode::FORBIDDEN,
                    "origin_not_allowed",
                    "this page is not on one of the shop's origins (WhatsApp settings)",
                )
                .into_response();
            }
            Some(origin.clone())
        }
    };
    let mut response = if req.method() == Method::OPTIONS {
        let mut preflight = StatusCode::NO_CONTENT.into_response();
        let headers = preflight.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST"));
        headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("content-type"));
        headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        preflight
    } else {
        next.run(req).await
    };
    if let Some(allowed) = allowed {
        response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allowed);
        response.headers_mut().append(header::VARY, HeaderValue::from_static("origin"));
    }
    response
}
