//! The guards every API request passes, in this order, each with its own error code:
//! HTTPS (`https_required`), the IP allowlist (`ip_not_allowed`), then — on endpoints that
//! need a caller — the lockout of the address and the credentials (401 codes, 429
//! `locked_out`), the connection-key timestamp and nonce, the scope (`insufficient_scope`:
//! reads need `read`, anything else `write`), and the rate limits per credential and per
//! address (`rate_limited`). Writes are recorded in the audit log with their outcome.

use std::sync::Arc;

use axum::{
    extract::{FromRequestParts, OriginalUri, Request, State},
    http::{HeaderMap, Method, request::Parts},
    middleware::Next,
    response::{IntoResponse, Response},
};
use backend::{
    access::{
        Caller, Denied, Scope,
        authenticate::{Presented, authenticate},
        security::SecuritySettings,
    },
    audit::{self, Event, Outcome},
    orders::trail::Actor,
};

use super::error::ApiError;
use crate::{AppState, client_ip::Transport};

/// HTTPS and the IP allowlist: for every API request, public ones included. Leaves the
/// settings it read in the request for the guards after it.
pub async fn transport(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let settings = state.services.security.get().await;
    let transport = req.extensions().get::<Transport>().copied().unwrap_or_default();
    if settings.https_required && !transport.https && !transport.ip.is_some_and(|ip| ip.is_loopback()) {
        return ApiError::from(Denied::HttpsRequired).into_response();
    }
    if let Some(ip) = transport.ip
        && !settings.ip_allowed(ip)
    {
        return ApiError::from(Denied::IpNotAllowed).into_response();
    }
    req.extensions_mut().insert(settings);
    next.run(req).await
}

/// The settings [`transport`] read for this request, if it ran.
fn settings_read(req: &Request) -> Option<Arc<SecuritySettings>> {
    req.extensions().get::<Arc<SecuritySettings>>().cloned()
}

/// The per-address rate limit, for endpoints anyone may call.
pub async fn public_rate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let settings = match settings_read(&req) {
        Some(settings) => settings,
        None => state.services.security.get().await,
    };
    if let Some(ip) = req.extensions().get::<Transport>().and_then(|t| t.ip)
        && let Err(retry_after_secs) = state.rates.check_address(ip, settings.rate_per_ip)
    {
        return ApiError::from(Denied::RateLimited { retry_after_secs }).into_response();
    }
    next.run(req).await
}

/// Credentials, timestamp and nonce, scope, rate limits; then the handler, with the
/// [`Caller`] in the request's extensions; then the audit entry for a write.
pub async fn caller(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let settings = match settings_read(&req) {
        Some(settings) => settings,
        None => state.services.security.get().await,
    };
    let ip = req.extensions().get::<Transport>().and_then(|t| t.ip);
    let ip_text = ip.map(|ip| ip.to_string());
    let headers = req.headers();
    let user_agent = header(headers, "user-agent").map(str::to_owned);
    let authorizations = headers.get_all("authorization").iter().count();
    // An Authorization header that is not text is sent, but malformed.
    let authorization = headers.get("authorization").map(|v| v.to_str().unwrap_or(""));
    let presented = Presented {
        authorization,
        duplicate_authorization: authorizations > 1,
        timestamp: header(headers, "x-backroom-timestamp"),
        nonce: header(headers, "x-backroom-nonce"),
        ip: ip_text.as_deref(),
        user_agent: user_agent.as_deref(),
    };
    let duplicate_signing_headers =
        ["x-backroom-timestamp", "x-backroom-nonce"].iter().any(|name| headers.get_all(*name).iter().count() > 1);
    let caller = match authenticate(
        &state.services.db,
        &state.services.hasher,
        &state.services.credentials,
        &settings,
        &presented,
    )
    .await
    {
        Err(e) => return ApiError::from(e).into_response(),
        Ok(Err(denied)) => return ApiError::from(denied).into_response(),
        Ok(Ok(caller)) => caller,
    };
    if duplicate_signing_headers {
        return ApiError::from(Denied::TimestampInvalid).into_response();
    }
    let needed = if matches!(*req.method(), Method::GET | Method::HEAD) { Scope::Read } else { Scope::Write };
    if !caller.scope.allows(needed) {
        return ApiError::from(Denied::InsufficientScope { needed }).into_response();
    }
    let limited = state
        .rates
        .check_credential(caller.kind, caller.credential_id, settings.rate_per_credential)
        .and_then(|()| ip.map_or(Ok(()), |ip| state.rates.check_address(ip, settings.rate_per_ip)));
    if let Err(retry_after_secs) = limited {
        return ApiError::from(Denied::RateLimited { retry_after_secs }).into_response();
    }

    let write = needed == Scope::Write;
    let path =
        req.extensions().get::<OriginalUri>().map_or_else(|| req.uri().path().to_owned(), |u| u.path().to_owned());
    let target = format!("{} {path}", req.method());
    req.extensions_mut().insert(caller.clone());
    let response = next.run(req).await;
    if write {
        let status = response.status();
        let outcome = if status.is_success() {
            Outcome::Success
        } else if status.is_client_error() {
            Outcome::Denied
        } else {
            Outcome::Failure
        };
        let credential = caller.credential_ref();
        let recorded = audit::record(
            state.services.db.writer(),
            &Event {
                actor_user_id: Some(caller.user.id),
                actor: &caller.user.email,
                credential: Some(&credential),
                action: "api.write",
                target: &target,
                ip: ip_text.as_deref(),
                user_agent: user_agent.as_deref(),
                outcome: Some(outcome),
                details: status.as_str(),
            },
        )
        .await;
        if let Err(e) = recorded {
            tracing::error!(error = %e.report(), "could not record an API write in the audit log");
        }
    }
    response
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The authenticated caller, for handlers behind [`caller`].
pub struct Authenticated(pub Caller);

impl<S: Send + Sync> FromRequestParts<S> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts.extensions.get::<Caller>().cloned().map(Authenticated).ok_or_else(|| {
            tracing::error!(path = %parts.uri.path(), "an API handler that needs a caller is routed without the guard");
            ApiError::from(backend::Error::internal("no caller"))
        })
    }
}

/// The client's address as text, for the audit log.
pub struct ClientAddress(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, std::convert::Infallible> {
        Ok(ClientAddress(parts.extensions.get::<Transport>().and_then(|t| t.ip).map(|ip| ip.to_string())))
    }
}

/// The authenticated caller making a change, and from where: what the backend's trail (an
/// order's note, the audit log) names, for handlers behind [`caller`].
pub struct ActingCaller {
    pub caller: Caller,
    /// How the audit log names the credential (`connection_key:3`), kept for [`Self::actor`].
    credential: String,
    ip: Option<String>,
}

impl ActingCaller {
    pub fn actor(&self) -> Actor<'_> {
        Actor { user: &self.caller.user, credential: Some(&self.credential), ip: self.ip.as_deref() }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ActingCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Authenticated(caller) = Authenticated::from_request_parts(parts, state).await?;
        let Ok(ClientAddress(ip)) = ClientAddress::from_request_parts(parts, state).await;
        Ok(ActingCaller { credential: caller.credential_ref(), caller, ip })
    }
}
