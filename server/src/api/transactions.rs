//! `GET /api/v1/transactions`: payment transactions across the store.

use axum::{
    Json,
    extract::State,
    http::StatusCode,
};
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
    orders::parse_moment,
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
    #[param(pattern = "^(pending|succeeded|failed)$")]
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
    let bad = |message: String| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", message);
    let tz = backend::settings::get(&state.db).await?.tz();
    let moment = |text: &Option<String>, name: &str| -> Result<Option<i64>, ApiError> {
        text.as_deref()
            .filter(|t| !t.is_empty())
            .map(|t| parse_moment(t, tz).ok_or_else(|| bad(format!("{name} must be a day such as 2026-11-01 or an RFC 3339 time"))))
            .transpose()
    };
    let filter = Filter {
        after: moment(&query.after, "after")?,
        before: moment(&query.before, "before")?,
        gateway: query.gateway.filter(|g| !g.is_empty()),
        status: query.status.filter(|s| !s.is_empty()),
        order_id: query.order,
        per_page: query.per_page.unwrap_or(DEFAULT_PER_PAGE),
        cursor: query.cursor.filter(|c| !c.is_empty()),
    };
    let page = transactions::list(&state.db, &state.api.hasher, &filter).await.map_err(super::orders::list_error)?;
    let items = page.rows.into_iter().map(|(order_id, transaction)| TransactionRow { order_id, transaction }).collect();
    Ok(Json(TransactionPage { items, next_cursor: page.next_cursor }))
}
