//! `GET /api/v1/audit`: the audit log for owners and admins, newest first, filtered and
//! paged with an opaque cursor.

use axum::{Json, extract::State, http::StatusCode};
use backend::{
    audit::{self, Entry, Filter, Outcome},
    cursor, paging,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    error::{ApiError, ApiQuery},
    guard::Authenticated,
};
use crate::AppState;

pub const MAX_PER_PAGE: i64 = 100;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Part of the actor's email or name.
    pub actor: Option<String>,
    /// An action or its beginning, e.g. `key.` for every connection-key event.
    pub action: Option<String>,
    /// `success`, `failure` or `denied`.
    #[param(pattern = "^(success|failure|denied)?$")]
    pub outcome: Option<String>,
    /// Unix seconds, inclusive.
    pub from: Option<i64>,
    /// Unix seconds, exclusive.
    pub to: Option<i64>,
    /// 1 to 100; 50 when absent.
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<Entry>,
    /// Absent on the last page.
    pub next_cursor: Option<String>,
}

/// The audit log (owners and admins).
#[utoipa::path(get, path = "/audit", tag = "audit", params(AuditQuery), responses((status = 200, body = AuditPage)))]
pub async fn list(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    // Who may not read the log is told so before anything about the query.
    if !audit::may_read(caller.user.role) {
        return Err(backend::Error::Forbidden.into());
    }
    let bad = |code, message: &str| ApiError::new(StatusCode::BAD_REQUEST, code, message);
    let per_page = query.per_page.unwrap_or(50);
    if !(1..=MAX_PER_PAGE).contains(&per_page) {
        return Err(bad("invalid_query", "per_page must be between 1 and 100"));
    }
    let outcome = query.outcome.as_deref().filter(|o| !o.is_empty()).map(str::parse::<Outcome>).transpose();
    let outcome = outcome.map_err(|e| bad("invalid_query", &e.0))?;
    let before_id = match query.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => cursor::decode(&state.services.hasher, "audit", c, 1)?.first().copied(),
        None => None,
    };
    let filter =
        Filter { actor: query.actor, action: query.action, outcome, from: query.from, to: query.to, before_id };
    let entries = audit::search(&state.services.db, &caller.user, &filter, paging::rows_to_read(per_page))
        .await
        .map_err(super::orders::list_error)?;
    let page = paging::cut(entries, per_page, |last| cursor::encode(&state.services.hasher, "audit", &[last.id]));
    Ok(Json(AuditPage { items: page.rows, next_cursor: page.next_cursor }))
}
