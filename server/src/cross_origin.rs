//! CSRF protection for the panel: a state-changing request that a browser marks as
//! cross-site is refused. Browsers send `Sec-Fetch-Site` (or at least `Origin`) with every
//! POST; requests with neither do not come from a browser page, so they carry no ambient
//! cookie risk. Sessions are also `SameSite=Lax`. The REST API and the OAuth token
//! endpoints take no cookies (credentials travel in headers or the body), so they are
//! left to their own guards.

use axum::{
    extract::Request,
    http::{HeaderMap, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

pub async fn refuse_cross_origin_writes(req: Request, next: Next) -> Response {
    if is_safe(req.method()) || takes_no_cookies(req.uri().path()) || allowed(&req) {
        return next.run(req).await;
    }
    tracing::warn!(path = %req.uri().path(), "refused a cross-origin request");
    (StatusCode::FORBIDDEN, "cross-origin request refused").into_response()
}

fn takes_no_cookies(path: &str) -> bool {
    crate::paths::is_rest_api(path) || crate::paths::is_oauth_token_endpoint(path)
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn allowed(req: &Request) -> bool {
    let headers = req.headers();
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some(site) => site == "same-origin" || site == "none",
        None => headers.get(header::ORIGIN).is_none() || origin_is_host(headers),
    }
}

/// Whether the request's `Origin` names the host it was sent to.
pub fn origin_is_host(headers: &HeaderMap) -> bool {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()).unwrap_or("");
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    origin.split_once("://").is_some_and(|(_, origin_host)| !host.is_empty() && origin_host == host)
}
