//! `/admin/audit.csv`: the audit log as a spreadsheet, with the audit page's filters, for
//! owners and admins signed in to the panel.

use app::{
    audit::AuditQuery,
    context::{ClientIp, SignedIn},
    error::PanelError,
};
use axum::{
    Extension, Router,
    extract::{Query, State},
    http::Uri,
    response::Response,
    routing::get,
};
use backend::{audit, csv, users::User};

use crate::{
    AppState,
    panel::csv_export::{Download, Requester, failed},
};

/// The most entries one export holds.
pub const MAX_ROWS: usize = 10_000;
/// Entries read per query.
const CHUNK: usize = 1_000;

const COLUMNS: [&str; 9] =
    ["time", "actor", "credential", "action", "target", "ip", "user agent", "outcome", "details"];

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/audit.csv", get(export))
}

async fn export(
    State(state): State<AppState>,
    signed_in: Option<Extension<SignedIn>>,
    ip: Option<Extension<ClientIp>>,
    Query(query): Query<AuditQuery>,
    uri: Uri,
) -> Response {
    let requester = match Requester::check(signed_in, ip, &uri, audit::may_read) {
        Ok(requester) => requester,
        Err(refused) => return *refused,
    };
    let (body, rows) = match write(&state, &requester.user, &query).await {
        Ok(written) => written,
        Err(e) => return failed(e),
    };
    let details = format!("{rows} entries as CSV");
    requester
        .deliver(
            &state,
            Download {
                action: "audit.export",
                target: "audit_log",
                details: &details,
                filename: "backroom-audit.csv",
                body,
            },
        )
        .await
}

/// The CSV document and how many entries it holds: newest first, at most [`MAX_ROWS`],
/// read a chunk at a time.
async fn write(state: &AppState, reader: &User, query: &AuditQuery) -> Result<(String, usize), PanelError> {
    let tz = backend::settings::get(&state.services.db).await?.tz();
    let mut filter = query.filter(tz)?;
    let mut out = csv::document(&COLUMNS);
    let mut written = 0;
    while written < MAX_ROWS {
        let want = CHUNK.min(MAX_ROWS - written);
        let entries = audit::search(&state.services.db, reader, &filter, want as i64).await?;
        for e in &entries {
            let at = backend::clock::format_local(e.at, tz, "%Y-%m-%d %H:%M:%S");
            csv::row(
                &mut out,
                [
                    at.as_str(),
                    &e.actor,
                    e.credential.as_deref().unwrap_or(""),
                    &e.action,
                    &e.target,
                    e.ip.as_deref().unwrap_or(""),
                    e.user_agent.as_deref().unwrap_or(""),
                    &e.outcome,
                    &e.details,
                ],
            );
        }
        written += entries.len();
        match entries.last() {
            Some(last) if entries.len() == want => filter.before_id = Some(last.id),
            _ => break,
        }
    }
    Ok((out, written))
}
