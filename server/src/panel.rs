//! The admin panel's routes: the Leptos pages, the server functions behind them, and the
//! gate that sends people to first-run setup or sign-in before any page renders; and what
//! the panel's CSV downloads share.

pub mod csv_export;

use std::sync::atomic::Ordering;

use app::{context::SignedIn, error::PanelError, session::SessionLayer};
use axum::{
    Router,
    body::Body,
    extract::{Request, State},
    http::{Method, StatusCode},
    middleware::{Next, from_fn, from_fn_with_state},
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use leptos::prelude::{provide_context, use_context};
use leptos_axum::LeptosRoutes;
use tower::{Layer, ServiceExt};
use tower_sessions::Session;

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

/// Before a panel page renders: first run → setup; signed out → sign-in (but for the pages
/// seen signed out, [`paths::is_signed_out_page`]); the setup and sign-in pages are
/// skipped when they have nothing to do.
async fn gate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if req.method() != Method::GET || !paths::is_panel_page(path) {
        return next.run(req).await;
    }
    let (on_setup, on_login, signed_out_page) =
        (path == "/admin/setup", path == "/admin/login", paths::is_signed_out_page(path));
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
        (false, _) if !signed_out_page => Redirect::to("/admin/login").into_response(),
        _ => next.run(req).await,
    }
}

/// Where an owner sets two-factor sign-in up when the shop requires it of owners.
const TWO_FACTOR_SETUP: &str = "/admin/two-factor";

/// When the shop requires two-factor sign-in of owners, a signed-in owner without it uses
/// nothing through their session but the page that sets it up, its server functions and
/// signing out: every other page, export and live feed sends them there, every other
/// server function is refused. (Signed out, the sign-in itself asks for the code of an
/// owner who has it.)
pub async fn two_factor_first(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let Some(user) = req.extensions().get::<SignedIn>().and_then(|s| s.0.clone()) else {
        return next.run(req).await;
    };
    let allowed = if paths::is_server_function(path) {
        app::access::two_factor::allowed_before_two_factor(path)
    } else {
        path == TWO_FACTOR_SETUP || paths::is_signed_out_page(path)
    };
    if allowed {
        return next.run(req).await;
    }
    match two_factor_missing(&state, &user).await {
        Err(response) => response,
        Ok(false) => next.run(req).await,
        Ok(true) if paths::is_server_function(path) => {
            let error = PanelError::Message(format!("set up two-factor sign-in first ({TWO_FACTOR_SETUP})"));
            (StatusCode::FORBIDDEN, axum::Json(error)).into_response()
        }
        Ok(true) => Redirect::to(&format!("{TWO_FACTOR_SETUP}?required")).into_response(),
    }
}

/// Whether the shop requires two-factor sign-in of owners and `user` is an owner without
/// it.
async fn two_factor_missing(state: &AppState, user: &backend::users::User) -> Result<bool, Response> {
    if user.role != backend::users::Role::Owner || !state.services.security.get().await.owners_two_factor {
        return Ok(false);
    }
    Ok(!backend::two_factor::is_on(&state.services.db, user.id).await.map_err(unavailable)?)
}

/// Sends a signed-out visitor to sign in, and back to `uri` afterwards.
pub fn sign_in_first(uri: &axum::http::Uri) -> Response {
    let here = uri.path_and_query().map_or("/admin", |pq| pq.as_str());
    let next: String = form_urlencoded::byte_serialize(here.as_bytes()).collect();
    Redirect::to(&format!("/admin/login?next={next}")).into_response()
}

/// Puts the session layer ([`app::session`]) around the paths that use a session (the
/// panel, its server functions and exports, OAuth's consent page); every other path (the
/// REST API, OAuth's token endpoints, the storefront's endpoints, static files) passes
/// straight through, neither reading a session nor answering with a `Set-Cookie`.
pub async fn sessions_where_used(State(layer): State<SessionLayer>, req: Request, next: Next) -> Response {
    if !paths::uses_session(req.uri().path()) {
        return next.run(req).await;
    }
    match layer.layer(next).oneshot(req).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// Resolves the session (where the layer put one) once for every panel page and server
/// function, so the gate and the server functions a page calls share one lookup.
pub async fn resolve_session(mut req: Request, next: Next) -> Response {
    if let Some(session) = req.extensions().get::<Session>().cloned() {
        let user = match app::session::signed_in(&session).await {
            Ok(user) => user,
            // The store has logged the cause.
            Err(_) => return unavailable_now(),
        };
        req.extensions_mut().insert(SignedIn(user));
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
