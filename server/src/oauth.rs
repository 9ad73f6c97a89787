//! The OAuth 2.0 endpoints for the mobile app: `/oauth/authorize` (sign-in if needed, then
//! a consent page naming the app and the access it asks for), `/oauth/token` and
//! `/oauth/revoke`. The rules are in `backend::access::oauth`; this is their HTTP face,
//! speaking RFC 6749's error format.

use app::context::SignedIn;
use axum::{
    Form, Json, Router,
    extract::{Query, State},
    http::{HeaderMap, StatusCode, header},
    middleware::from_fn_with_state,
    response::{Html, IntoResponse, Response},
    routing::{get, post},
};
use backend::{
    access::oauth::{self, AuthorizeError, AuthorizeParams, OAuthError, Origin},
    users::User,
};
use serde::Deserialize;

use crate::{AppState, api::guard, client_ip::Transport};

pub fn router(state: AppState) -> Router<AppState> {
    let token_endpoints = Router::new()
        .route("/oauth/token", post(token))
        .route("/oauth/revoke", post(revoke))
        .layer(from_fn_with_state(state.clone(), guard::public_rate));
    Router::new()
        .route("/oauth/authorize", get(authorize_page).post(authorize_decision))
        .merge(token_endpoints)
        .route_layer(from_fn_with_state(state, guard::transport))
}

/// Shows the consent page, after sign-in when needed; a request naming an unknown app or
/// an unregistered redirect URI gets an error page and is never redirected.
async fn authorize_page(
    State(state): State<AppState>,
    signed_in: Option<axum::Extension<SignedIn>>,
    Query(params): Query<AuthorizeParams>,
    uri: axum::http::Uri,
) -> Response {
    let request = match oauth::check_authorization(&state.services.db, &params).await {
        Err(e) => return internal(e),
        Ok(Err(error)) => return refuse(&state, error),
        Ok(Ok(request)) => request,
    };
    let Some(user) = signed_in.and_then(|axum::Extension(SignedIn(user))| user) else {
        return crate::panel::sign_in_first(&uri);
    };
    let store = backend::settings::get(&state.services.db).await.map(|s| s.name).unwrap_or_default();
    consent_page(&store, &request, &params, &user)
}

#[derive(Deserialize)]
struct Decision {
    #[serde(flatten)]
    params: AuthorizeParams,
    decision: Option<String>,
}

/// The person's answer on the consent page (a same-origin form post with their session).
async fn authorize_decision(
    State(state): State<AppState>,
    signed_in: Option<axum::Extension<SignedIn>>,
    transport: Option<axum::Extension<Transport>>,
    Form(form): Form<Decision>,
) -> Response {
    let request = match oauth::check_authorization(&state.services.db, &form.params).await {
        Err(e) => return internal(e),
        Ok(Err(error)) => return refuse(&state, error),
        Ok(Ok(request)) => request,
    };
    let Some(user) = signed_in.and_then(|axum::Extension(SignedIn(user))| user) else {
        return (
            StatusCode::UNAUTHORIZED,
            page("Sign in first", "<p>Your session has ended. Go back to the app and start again.</p>"),
        )
            .into_response();
    };
    if form.decision.as_deref() != Some("allow") {
        let error = OAuthError { code: "access_denied", description: "the person declined".into() };
        return redirect_back(
            &state,
            &request.redirect_uri,
            &[("error", error.code), ("error_description", &error.description), ("state", &request.state)],
        );
    }
    let ip = transport.and_then(|axum::Extension(t)| t.ip).map(|ip| ip.to_string());
    match oauth::approve(&state.services.db, &state.services.hasher, &request, &user, ip.as_deref()).await {
        Ok(code) => redirect_back(&state, &request.redirect_uri, &[("code", &code), ("state", &request.state)]),
        Err(e) => internal(e),
    }
}

#[derive(Deserialize)]
struct TokenRequest {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    client_id: Option<String>,
    refresh_token: Option<String>,
}

/// `authorization_code` and `refresh_token` grants for public clients (PKCE, no secret).
async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    transport: Option<axum::Extension<Transport>>,
    body: axum::body::Bytes,
) -> Response {
    let Ok(request) = serde_urlencoded_form::<TokenRequest>(&headers, &body) else {
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "send application/x-www-form-urlencoded parameters",
        );
    };
    let ip = transport.and_then(|axum::Extension(t)| t.ip).map(|ip| ip.to_string());
    let user_agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok());
    let origin = Origin { ip: ip.as_deref(), user_agent };
    let client_id = request.client_id.as_deref().unwrap_or("");
    if let Err(refused) = known_client(&state, client_id).await {
        return refused;
    }
    let missing = |name: &str| token_error(StatusCode::BAD_REQUEST, "invalid_request", &format!("{name} is required"));
    let result = match request.grant_type.as_deref() {
        Some("authorization_code") => {
            let (Some(code), Some(redirect_uri)) = (&request.code, &request.redirect_uri) else {
                return missing("code and redirect_uri");
            };
            let Some(verifier) = &request.code_verifier else { return missing("code_verifier") };
            oauth::exchange_code(
                &state.services.db,
                &state.services.hasher,
                &state.services.credentials,
                oauth::CodeExchange { client_id, code, redirect_uri, verifier },
                origin,
            )
            .await
        }
        Some("refresh_token") => {
            let Some(refresh_token) = &request.refresh_token else { return missing("refresh_token") };
            oauth::refresh(
                &state.services.db,
                &state.services.hasher,
                &state.services.credentials,
                client_id,
                refresh_token,
                origin,
            )
            .await
        }
        Some(_) => {
            return token_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "grant_type must be authorization_code or refresh_token",
            );
        }
        None => return missing("grant_type"),
    };
    match result {
        Err(e) => internal(e),
        Ok(Err(error)) => token_error(StatusCode::BAD_REQUEST, error.code, &error.description),
        Ok(Ok(tokens)) => {
            ([(header::CACHE_CONTROL, "no-store"), (header::PRAGMA, "no-cache")], Json(tokens)).into_response()
        }
    }
}

#[derive(Deserialize)]
struct RevokeRequest {
    token: Option<String>,
    client_id: Option<String>,
}

/// RFC 7009: always 200 for a well-formed request, whether or not the token was known.
async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    transport: Option<axum::Extension<Transport>>,
    body: axum::body::Bytes,
) -> Response {
    let Ok(RevokeRequest { token, client_id }) = serde_urlencoded_form::<RevokeRequest>(&headers, &body) else {
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "send application/x-www-form-urlencoded parameters",
        );
    };
    let (Some(token), Some(client_id)) = (token, client_id) else {
        return token_error(StatusCode::BAD_REQUEST, "invalid_request", "token and client_id are required");
    };
    if let Err(refused) = known_client(&state, &client_id).await {
        return refused;
    }
    let ip = transport.and_then(|axum::Extension(t)| t.ip).map(|ip| ip.to_string());
    let user_agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok());
    match oauth::revoke_token(
        &state.services.db,
        &state.services.hasher,
        &state.services.credentials,
        &client_id,
        &token,
        Origin { ip: ip.as_deref(), user_agent },
    )
    .await
    {
        Ok(Ok(())) => StatusCode::OK.into_response(),
        Ok(Err(error)) => token_error(StatusCode::BAD_REQUEST, error.code, &error.description),
        Err(e) => internal(e),
    }
}

/// The token endpoints' public clients identify themselves by `client_id` alone.
async fn known_client(state: &AppState, client_id: &str) -> Result<(), Response> {
    match oauth::find_client(&state.services.db, client_id).await {
        Err(e) => Err(internal(e)),
        Ok(None) => Err(token_error(StatusCode::UNAUTHORIZED, "invalid_client", "unknown or revoked client_id")),
        Ok(Some(_)) => Ok(()),
    }
}

fn serde_urlencoded_form<T: serde::de::DeserializeOwned>(headers: &HeaderMap, body: &[u8]) -> Result<T, ()> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !content_type.starts_with("application/x-www-form-urlencoded") {
        return Err(());
    }
    let pairs: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    // A parameter sent twice is refused (RFC 6749 §3.1).
    let mut names: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    names.sort_unstable();
    if names.windows(2).any(|w| w[0] == w[1]) {
        return Err(());
    }
    let map: serde_json::Map<String, serde_json::Value> = pairs.into_iter().map(|(k, v)| (k, v.into())).collect();
    serde_json::from_value(map.into()).map_err(|_| ())
}

pub(crate) fn token_error(status: StatusCode, code: &str, description: &str) -> Response {
    let body = serde_json::json!({ "error": code, "error_description": description });
    (status, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}

/// Back to the app with `pairs`, and `iss` naming this server (RFC 9207), so an app
/// that talks to several can tell whose answer this is.
fn redirect_back(state: &AppState, redirect_uri: &str, pairs: &[(&str, &str)]) -> Response {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        query.append_pair(k, v);
    }
    query.append_pair("iss", state.services.base_url.trim_end_matches('/'));
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    let location = format!("{redirect_uri}{separator}{}", query.finish());
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}

fn refuse(server: &AppState, error: AuthorizeError) -> Response {
    match error {
        AuthorizeError::Page(error) => (
            StatusCode::BAD_REQUEST,
            page(
                "This sign-in link is not valid",
                &format!(
                    "<p>{}</p><p class=\"muted\">Error code: <code>{}</code></p>",
                    escape(&error.description),
                    error.code
                ),
            ),
        )
            .into_response(),
        AuthorizeError::Redirect { redirect_uri, error, state } => {
            let mut pairs = vec![("error", error.code), ("error_description", error.description.as_str())];
            if let Some(state) = &state {
                pairs.push(("state", state));
            }
            redirect_back(server, &redirect_uri, &pairs)
        }
    }
}

fn internal(e: backend::Error) -> Response {
    tracing::error!(error = %e.report(), "OAuth request failed");
    (StatusCode::INTERNAL_SERVER_ERROR, page("Something went wrong", "<p>Please try again in a moment.</p>"))
        .into_response()
}

fn consent_page(store: &str, request: &oauth::AuthorizationRequest, params: &AuthorizeParams, user: &User) -> Response {
    let hidden = [
        ("response_type", params.response_type.as_deref()),
        ("client_id", params.client_id.as_deref()),
        ("redirect_uri", params.redirect_uri.as_deref()),
        ("scope", params.scope.as_deref()),
        ("state", params.state.as_deref()),
        ("code_challenge", params.code_challenge.as_deref()),
        ("code_challenge_method", params.code_challenge_method.as_deref()),
    ]
    .iter()
    .filter_map(|(name, value)| {
        value.map(|v| format!("<input type=\"hidden\" name=\"{name}\" value=\"{}\">", escape(v)))
    })
    .collect::<String>();
    let access = match request.scope {
        backend::access::Scope::Read => "see the shop's orders, customers, products, tickets and reports",
        backend::access::Scope::Write => {
            "see and change the shop's orders, refunds, products and tickets, as you could in the panel"
        }
    };
    let body = format!(
        "<p><strong>{app}</strong> asks to act as <strong>{email}</strong> ({role}) in <strong>{store}</strong>.</p>\
         <p>It will be able to {access}.</p>\
         <p class=\"muted\">You can sign this device out at any time under Access &amp; keys → Devices.</p>\
         <form method=\"post\" action=\"/oauth/authorize\">{hidden}\
         <div class=\"actions\"><button type=\"submit\" name=\"decision\" value=\"allow\" class=\"primary\">Allow</button> \
         <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></div></form>",
        app = escape(&request.client.name),
        email = escape(&user.email),
        role = user.role.label(),
        store = escape(store),
    );
    page(&format!("Allow {}?", request.client.name), &body)
}

/// A small page in the panel's style, for the OAuth flow. Like every page it is never
/// shown inside another site's frame (`security_headers`), where a hidden "Allow" button
/// could be clicked for the person.
fn page(title: &str, body: &str) -> Response {
    Html(format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta name=\"color-scheme\" content=\"light dark\">\
         <title>{t} · Backroom</title><link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\">\
         <link rel=\"stylesheet\" href=\"/pkg/backroom.css\"></head>\
         <body><main class=\"auth-page\"><div class=\"card\"><h1>{t}</h1>{body}</div></main></body></html>",
        t = escape(title)
    ))
    .into_response()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}
