//! The WhatsApp endpoints the storefront calls, without credentials: checkout capture and
//! the cart a recovery link puts back (from the shop's origins only, see
//! [`crate::storefront_cors`]), and the click-to-chat widget's configuration.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use backend::whatsapp::{
    carts::{self, Capture, Captured},
    link::Refused,
    restore::Restore,
    settings, widget,
};
use serde::Serialize;
use utoipa::ToSchema;

use super::error::{ApiError, ApiJson};
use crate::AppState;

#[derive(Serialize, ToSchema)]
pub struct CaptureAnswer {
    /// `captured` (a new cart), `updated` (the contact's open cart) or `forgotten`
    /// (consent was not given: nothing of this phone is kept).
    pub status: String,
}

/// Checkout capture (public): the storefront snippet sends the shopper's phone, name,
/// email, consent and cart as they type. Without consent nothing is stored, and consent
/// withdrawn stops every message to that phone. One open cart per phone: a refresh
/// updates it. At most 100 lines; money in minor units.
#[utoipa::path(post, path = "/carts/capture", tag = "whatsapp", request_body = Capture,
    responses((status = 200, body = CaptureAnswer),
        (status = 403, body = super::error::ErrorBody, description = "`origin_not_allowed`: the page is not on one of the shop's origins"),
        (status = 409, body = super::error::ErrorBody, description = "`conflict`: capture is not set up (no shop origins)"),
        (status = 422, body = super::error::ErrorBody, description = "`invalid`: the phone, consent, lines or restore URL")))]
pub async fn capture(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<Capture>,
) -> Result<Json<CaptureAnswer>, ApiError> {
    let status = match carts::capture(&state.services.whatsapp, input).await? {
        Captured::Captured => "captured",
        Captured::Updated => "updated",
        Captured::Forgotten => "forgotten",
    };
    Ok(Json(CaptureAnswer { status: status.into() }))
}

/// The cart a recovery link puts back (public, for the storefront snippet): the lines
/// with the store's product ids, the coupon the store has for it, and the checkout to go
/// on to. `token` is the link's, as the shop's home page received it (`backroom_restore`).
#[utoipa::path(get, path = "/carts/restore/{token}", tag = "whatsapp",
    params(("token" = String, Path, description = "The recovery link's token")),
    responses((status = 200, body = Restore),
        (status = 403, body = super::error::ErrorBody, description = "`origin_not_allowed`: the page is not on one of the shop's origins"),
        (status = 404, body = super::error::ErrorBody, description = "`not_found`: the token was altered, or its cart is gone"),
        (status = 410, body = super::error::ErrorBody, description = "`expired`: the link has expired")))]
pub async fn restore(State(state): State<AppState>, Path(token): Path<String>) -> Result<Json<Restore>, ApiError> {
    match backend::whatsapp::restore::cart(&state.services.whatsapp, &token).await {
        Ok(restore) => Ok(Json(restore)),
        Err(Refused::Expired) => Err(ApiError::new(StatusCode::GONE, "expired", "this recovery link has expired")),
        Err(Refused::Invalid) => Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", "no cart has this link")),
    }
}

/// The click-to-chat widget's configuration (public), with whether the shop is open now.
#[utoipa::path(get, path = "/whatsapp/widget", tag = "whatsapp",
    responses((status = 200, description = "The widget's configuration", content_type = "application/json")))]
pub async fn widget(
    State(state): State<AppState>,
) -> Result<(StatusCode, [(axum::http::HeaderName, &'static str); 1], Json<widget::PublicWidget>), ApiError> {
    let config = settings::config(state.services.db.pool()).await?;
    let tz = backend::settings::get(&state.services.db).await?.tz();
    let public = widget::public(&config.widget, tz, backend::clock::now());
    Ok((StatusCode::OK, [(axum::http::header::CACHE_CONTROL, "public, max-age=60")], Json(public)))
}
