//! What the panel's CSV downloads share (`/admin/orders.csv`, `/admin/audit.csv`,
//! `/admin/reports/sales.csv`): who may take one, the audit entry each copy leaves, the
//! download itself, and a refusal said plainly.

use app::{
    context::{ClientIp, SignedIn},
    error::PanelError,
};
use axum::{
    Extension,
    http::{StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use backend::{audit, users::User};

use crate::AppState;

/// Someone signed in to the panel, asking for a download.
pub struct Requester {
    pub user: User,
    ip: Option<String>,
}

/// A document ready to download, and what the audit log says of it.
pub struct Download<'a> {
    /// The audit entry's action (`orders.export`) and target (`orders`).
    pub action: &'a str,
    pub target: &'a str,
    pub details: &'a str,
    /// The file name the browser saves it under.
    pub filename: &'a str,
    pub body: String,
}

impl Requester {
    /// The signed-in user asking for `uri`, if their role passes `allowed`. Fails with the
    /// answer to send: to sign in first (and come back), or 403.
    pub fn check(
        signed_in: Option<Extension<SignedIn>>,
        ip: Option<Extension<ClientIp>>,
        uri: &Uri,
        allowed: fn(backend::users::Role) -> bool,
    ) -> Result<Requester, Box<Response>> {
        let Some(user) = signed_in.and_then(|Extension(SignedIn(user))| user) else {
            return Err(Box::new(super::sign_in_first(uri)));
        };
        if !allowed(user.role) {
            return Err(Box::new(failed(PanelError::Forbidden)));
        }
        Ok(Requester { user, ip: ip.and_then(|Extension(ClientIp(ip))| ip) })
    }

    /// Records who took a copy in the audit log (a copy of customers' details, or of the
    /// log itself, is worth knowing), then answers the document as a download; an error
    /// when the entry could not be written, and no document.
    pub async fn deliver(&self, state: &AppState, download: Download<'_>) -> Response {
        let event = audit::Event {
            details: download.details,
            ..audit::Event::by(&self.user, download.action, download.target, self.ip.as_deref())
        };
        let recorded = audit::record(state.services.db.writer(), &event).await;
        if let Err(e) = recorded {
            return failed(e.into());
        }
        let disposition = format!("attachment; filename=\"{}\"", download.filename);
        (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (header::CONTENT_DISPOSITION, disposition),
                (header::CACHE_CONTROL, "no-store".to_owned()),
            ],
            download.body,
        )
            .into_response()
    }
}

/// A refused or failed download: the error's status, and its message as plain text.
pub fn failed(e: PanelError) -> Response {
    (StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), e.to_string()).into_response()
}
