//! The headers every answer carries so that browsers keep the panel safe: no other site
//! may frame it (one click on a framed panel could act for the person signed in), pages
//! run only their own scripts, types are never guessed, and nothing private is cached.

use std::sync::Arc;

use axum::{
    extract::Request,
    http::{HeaderValue, header},
    middleware::Next,
    response::Response,
};

/// The value of this request's `nonce` attributes: the panel's inline scripts carry it,
/// and the page's policy allows only scripts from the server or with this nonce.
#[derive(Clone, Debug)]
pub struct PageNonce(pub Arc<str>);

impl PageNonce {
    fn new() -> PageNonce {
        PageNonce(backend::access::secret::random_token(26).into())
    }
}

/// The policy of a page that sets none of its own: the panel's, the consent page's and
/// every error page's. WebAssembly may compile (the panel hydrates with it); inline
/// `style` attributes are allowed, inline scripts only with the nonce.
fn page_policy(nonce: &PageNonce) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{}' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
        nonce.0
    )
}

/// Adds the headers; a page that sets its own policy (the support form, which storefronts
/// frame) keeps it.
pub async fn add(mut req: Request, next: Next) -> Response {
    let nonce = PageNonce::new();
    req.extensions_mut().insert(nonce.clone());
    let private = crate::paths::is_private(req.uri().path());
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.entry(header::REFERRER_POLICY).or_insert(HeaderValue::from_static("same-origin"));
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        if let Ok(policy) = HeaderValue::from_str(&page_policy(&nonce)) {
            headers.insert(header::CONTENT_SECURITY_POLICY, policy);
        }
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    // Unless the answer says otherwise (the storefront's public widget settings may be
    // cached for a minute).
    if private {
        headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    }
    response
}
