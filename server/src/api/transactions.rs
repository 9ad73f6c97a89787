//! `GET /api/v1/transactions`: payment transactions across the store.

use axum::{Json, extract::State};
use backend::orders::{
    detail::Transaction,
    list::DEFAULT_PER_PAGE,
    transactions::{self, Filter},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    error::{ApiError, ApiQuery},
    guard::Authenticated,
    orders::{date_range, list_error},
};
use crate::AppState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TransactionsQuery {
    /// From this moment on: a day (midnight in the shop's time zone) or an RFC 3339 time.
    pub after: Option<String>,
    /// Before this moment (exclusive), in the same forms.
    pub before: Option<String>,
    /// A payment gateway's id, e.g. `iyzico`.
    #[param(max_length = 100)]
    pub gateway: Option<String>,
    /// `pending`, `succeeded` or `failed`; empty or left out: all.
    #[param(pattern = "^(pending|succeeded|failed)?$")]
    pub status: Option<String>,
    /// One order's transactions.
    pub order: Option<i64>,
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TransactionRow {
    pub order_id: i64,
    #[serde(flatten)]
    pub transaction: Transaction,
}

#[derive(Serialize, ToSchema)]
pub struct TransactionPage {
    pub items: Vec<TransactionRow>,
    pub next_cursor: Option<String>,
}

/// Payment transactions, newest first.
#[utoipa::path(get, path = "/transactions", tag = "orders", params(TransactionsQuery), responses((status = 200, body = TransactionPage)))]
pub async fn list(
    State(state): State<AppState>,
    Authenticated(_): Authenticated,
    ApiQuery(query): ApiQuery<TransactionsQuery>,
) -> Result<Json<TransactionPage>, ApiError> {
    let (after, before) = date_range(&state, query.after.as_deref(), query.before.as_deref()).await?;
    let filter = Filter {
        after,
        before,
        gateway: query.gateway.filter(|g| !g.is_empty()),
        status: query.status.filter(|s| !s.is_empty()),
        order_id: query.order,
        per_page: query.per_page.unwrap_or(DEFAULT_PER_PAGE),
        cursor: query.cursor.filter(|c| !c.is_empty()),
    };
    let page = transactions::list(&state.services.db, &state.services.hasher, &filter).await.map_err(list_error)?;
    let items = page.rows.into_iter().map(|(order_id, transaction)| TransactionRow { order_id, transaction }).collect();
    Ok(Json(TransactionPage { items, next_cursor: page.next_cursor }))
}
