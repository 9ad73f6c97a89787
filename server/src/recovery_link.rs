//! `/r/{token}`: the link in a recovery message. A good link records the click and
//! redirects to the shop, where the storefront snippet puts the cart back (see
//! `backend::whatsapp::restore`); an altered or expired one gets a short page that says
//! so, and leads to the shop.

use axum::{
    Router,
    extract::{Path, State},
    http::{StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
    routing::get,
};
use backend::whatsapp::{link::Refused, restore};

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/r/{token}", get(follow))
}

async fn follow(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match restore::follow(&state.services.whatsapp, &token).await {
        Ok(url) => ([(header::CACHE_CONTROL, "no-store")], Redirect::to(&url)).into_response(),
        Err(refused) => {
            let (status, title, text) = match refused {
                Refused::Expired => (
                    StatusCode::GONE,
                    "This link has expired",
                    "The link in your WhatsApp message is no longer valid. Your cart may still be waiting in the shop.",
                ),
                Refused::Invalid => (
                    StatusCode::NOT_FOUND,
                    "This link does not work",
                    "The link is incomplete or was changed. Please use the link from your WhatsApp message as it was sent.",
                ),
            };
            let shop = state.services.whatsapp.shop_url().await;
            let back = shop
                .map(|url| format!("<p><a href=\"{}\">Go to the shop</a></p>", backend::mail::templates::escape(&url)))
                .unwrap_or_default();
            let page = format!(
                "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
                 <title>{title}</title><style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;line-height:1.5}}</style></head>\
                 <body><main><h1>{title}</h1><p>{text}</p>{back}</main></body></html>"
            );
            (status, [(header::CACHE_CONTROL, "no-store")], Html(page)).into_response()
        }
    }
}
