//! The admin panel's routes: the Leptos pages, the server functions behind them, and the
//! gate that sends people to first-run setup or sign-in before any page renders; and what
//! the panel's CSV downloads share.

pub mod csv_export;

use std::sync::atomic::Ordering;

use app::{
    context::{SESSION_COOKIE, SignedIn},
    error::PanelError,
};
use axum::{
    Router,
    body::Body,
    extract::{Request, State},
    http::{HeaderValue, Method, StatusCode, header},
    middleware::{Next, from_fn, from_fn_with_state},
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use leptos::prelude::{provide_context, use_context};
use leptos_axum::LeptosRoutes;

use crate::{AppState, paths};

pub fn router(state: AppState) -> Router<AppState> {
    let routes = leptos_axum::generate_route_list(app::App);
    let ctx = state.services.clone();
    let options = state.leptos_options.clone();
    Router::new()
        .route("/", get(|| async { Redirect::to("/admin") }))
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                provide_context(ctx.clone());
                // The page's inline scripts carry the nonce its policy names.
                let nonce = use_context::<axum::http::request::Parts>()
                    .and_then(|parts| parts.extensions.get::<crate::security_headers::PageNonce>().cloned());
                if let Some(nonce) = nonce {
                    provide_context(leptos::nonce::Nonce::from_value(nonce.0));
                }
            },
            move || app::shell(options.clone()),
        )
        .layer(from_fn(error_status))
        .layer(from_fn_with_state(state, gate))
}

/// Server functions (registered by `leptos_routes_with_context` under `/api/`) answer
/// every error with 500; give each the status it deserves (400 for bad input, 401, 403,
/// 409, 429), so only our own faults are 500s.
async fn error_status(req: Request, next: Next) -> Response {
    let is_server_fn = paths::is_server_function(req.uri().path());
    let response = next.run(req).await;
    if !is_server_fn || response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, crate::BODY_LIMIT).await.unwrap_or_default();
    if let Ok(error) = serde_json::from_slice::<PanelError>(&bytes) {
        parts.status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Before a panel page renders: first run → setup; signed out → sign-in; the setup and
/// sign-in pages are skipped when they have nothing to do.
async fn gate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if req.method() != Method::GET || !paths::is_panel_page(path) {
        return next.run(req).await;
    }
    let (on_setup, on_login) = (path == "/admin/setup", path == "/admin/login");
    match setup_done(&state).await {
        Err(response) => return response,
        Ok(false) if on_setup => return next.run(req).await,
        Ok(false) => return Redirect::to("/admin/setup").into_response(),
        Ok(true) if on_setup => return Redirect::to("/admin/login").into_response(),
        Ok(true) => {}
    }
    let signed_in = req.extensions().get::<SignedIn>().is_some_and(|s| s.0.is_some());
    match (signed_in, on_login) {
        (true, true) => {
            let next = req.uri().query().and_then(|q| {
                form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "next").map(|(_, v)| v.into_owned())
            });
            Redirect::to(app::auth::after_sign_in(next.as_deref())).into_response()
        }
        (false, false) => Redirect::to("/admin/login").into_response(),
        _ => next.run(req).await,
    }
}

/// Sends a signed-out visitor to sign in, and back to `uri` afterwards.
pub fn sign_in_first(uri: &axum::http::Uri) -> Response {
    let here = uri.path_and_query().map_or("/admin", |pq| pq.as_str());
    let next: String = form_urlencoded::byte_serialize(here.as_bytes()).collect();
    Redirect::to(&format!("/admin/login?next={next}")).into_response()
}

/// Resolves the session once for every panel page and server function (through the
/// session layer, [`app::session`]), so the gate and the server functions a page calls
/// share one lookup.
pub async fn resolve_session(mut req: Request, next: Next) -> Response {
    if paths::uses_session(req.uri().path()) {
        let user = match req.extensions().get::<tower_sessions::Session>() {
            Some(session) => match app::session::signed_in(session).await {
                Ok(user) => user,
                // The store has logged the cause.
                Err(_) => return unavailable_now(),
            },
            None => None,
        };
        req.extensions_mut().insert(SignedIn(user));
    }
    next.run(req).await
}

/// Hides the session cookie from the session layer outside the paths that use it, so the
/// REST API, OAuth's token endpoints, the storefront's endpoints and static files neither
/// read a session nor answer with a `Set-Cookie` (one removing a malformed cookie, which a
/// shared cache could hand to everyone).
pub async fn session_cookie_where_used(mut req: Request, next: Next) -> Response {
    if !paths::uses_session(req.uri().path()) && req.headers().contains_key(header::COOKIE) {
        let others: Vec<String> = req
            .headers()
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .map(str::trim)
            .filter(|pair| !pair.is_empty() && pair.split('=').next() != Some(SESSION_COOKIE))
            .map(str::to_owned)
            .collect();
        req.headers_mut().remove(header::COOKIE);
        if let Ok(value) = HeaderValue::from_str(&others.join("; "))
            && !others.is_empty()
        {
            req.headers_mut().insert(header::COOKIE, value);
        }
    }
    next.run(req).await
}

/// Whether the owner exists; once true it stays true, so it is remembered.
async fn setup_done(state: &AppState) -> Result<bool, Response> {
    if state.setup_done.load(Ordering::Relaxed) {
        return Ok(true);
    }
    let done = backend::users::any_exist(&state.services.db).await.map_err(unavailable)?;
    if done {
        state.setup_done.store(true, Ordering::Relaxed);
    }
    Ok(done)
}

fn unavailable(e: backend::Error) -> Response {
    tracing::error!(error = %e.report(), "panel gate could not read the database");
    unavailable_now()
}

fn unavailable_now() -> Response {
    (StatusCode::SERVICE_UNAVAILABLE, "Backroom cannot reach its database right now; try again shortly.")
        .into_response()
}
