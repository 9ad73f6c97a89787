//! Accounting sync over the API: queue one order's invoice for the ledger. Where it is
//! shows in the order itself (`accounting` in `GET /orders/{id}`).

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use backend::accounting::{self, Document, Queued};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    error::{ApiError, ApiJson},
    guard::ActingCaller,
};
use crate::AppState;

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct SyncRequest {
    /// Send an invoice that is already in the ledger again, as an update (never a second
    /// invoice). Without it, a synced order is left as it is.
    #[serde(default)]
    pub resync: bool,
}

#[derive(Serialize, ToSchema)]
pub struct SyncQueued {
    /// `queued`, `already_synced` (nothing to do) or `already_queued`.
    #[schema(value_type = String)]
    pub result: Queued,
    /// The order's documents as they stand now.
    pub documents: Vec<Document>,
}

/// Queues the order's invoice for the accounting ledger (write scope). Answers 202: a
/// job sends it; its state shows in the order's `accounting`.
#[utoipa::path(post, path = "/orders/{id}/accounting-sync", tag = "orders", params(("id" = i64, Path)), request_body(content = Option<SyncRequest>),
    responses((status = 202, body = SyncQueued), (status = 404, body = super::error::ErrorBody, description = "`not_found`"),
        (status = 409, body = super::error::ErrorBody, description = "`conflict`: accounting sync is not set up")))]
pub async fn sync(
    State(state): State<AppState>,
    acting: ActingCaller,
    Path(id): Path<i64>,
    body: Option<ApiJson<Option<SyncRequest>>>,
) -> Result<(StatusCode, Json<SyncQueued>), ApiError> {
    // No body, or `null`: the defaults.
    let request = body.and_then(|ApiJson(r)| r).unwrap_or_default();
    let actor = acting.actor();
    let result =
        accounting::sync_order(&state.services.db, actor.user, actor.credential, actor.ip, id, request.resync).await?;
    let documents = accounting::of_order(&state.services.db, id).await?;
    Ok((StatusCode::ACCEPTED, Json(SyncQueued { result, documents })))
}
