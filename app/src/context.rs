//! What the server hands the panel: the shop's services ([`Services`], built once in the
//! composition root) and the request's signed-in user. Server functions read them from
//! Leptos's context and the request.

use axum::http::HeaderMap;
use backend::{services::Services, users::User};
use leptos::prelude::*;

use crate::error::PanelError;

/// The client's IP address as the server worked it out (socket, or a trusted proxy's
/// `X-Forwarded-For`); put in the request's extensions by the server.
#[derive(Clone, Debug)]
pub struct ClientIp(pub Option<String>);

/// The shop's services, as the server provided them to this request.
pub fn services() -> Result<Services, PanelError> {
    use_context::<Services>().ok_or(PanelError::Internal)
}

/// Who sent the request: the session resolved once by the server (one database
/// read per request, whatever the page and its server functions ask); put in the
/// request's extensions, `None` when signed out.
#[derive(Clone, Debug)]
pub struct SignedIn(pub Option<User>);

/// The request's headers and client IP.
pub async fn request_info() -> Result<(HeaderMap, Option<String>), PanelError> {
    let (headers, ip): (HeaderMap, Option<axum::Extension<ClientIp>>) =
        leptos_axum::extract().await.map_err(|_| PanelError::Internal)?;
    Ok((headers, ip.and_then(|axum::Extension(ClientIp(ip))| ip)))
}

/// Who is asking, for a session begun now: the client's IP and its `User-Agent`.
pub async fn client() -> Result<(Option<String>, Option<String>), PanelError> {
    let (headers, ip) = request_info().await?;
    let user_agent = headers.get(axum::http::header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned);
    Ok((ip, user_agent))
}

/// The signed-in user, or `SignedOut`.
pub async fn require_user() -> Result<User, PanelError> {
    let signed_in: Option<axum::Extension<SignedIn>> =
        leptos_axum::extract().await.map_err(|_| PanelError::Internal)?;
    signed_in.and_then(|axum::Extension(SignedIn(user))| user).ok_or(PanelError::SignedOut)
}

/// The signed-in user if their role passes `allowed` (e.g. `Role::manages_store`), else
/// `Forbidden`.
pub async fn require_role(allowed: fn(backend::users::Role) -> bool) -> Result<User, PanelError> {
    let user = require_user().await?;
    if allowed(user.role) { Ok(user) } else { Err(PanelError::Forbidden) }
}

/// Who makes a change from the panel, and from where, as the backend's trail (the note,
/// the audit log) names them.
pub struct Acting {
    pub ctx: Services,
    pub user: User,
    pub ip: Option<String>,
}

impl Acting {
    pub fn actor(&self) -> backend::orders::trail::Actor<'_> {
        backend::orders::trail::Actor { user: &self.user, credential: None, ip: self.ip.as_deref() }
    }
}

/// The panel's context and the signed-in user, with the request's address, if their role
/// passes `allowed`; fails as [`require_role`] does.
pub async fn acting(allowed: fn(backend::users::Role) -> bool) -> Result<Acting, PanelError> {
    let ctx = services()?;
    let user = require_role(allowed).await?;
    let (_, ip) = request_info().await?;
    Ok(Acting { ctx, user, ip })
}
