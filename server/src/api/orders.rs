//! Orders over the API: the list (filters, sorting, cursor pages) and one order whole,
//! with the link to it in the panel.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use backend::orders::{
    OrderStatus,
    detail::{self, Order},
    list::{self, Filter, OrderRow, SortBy},
};
use chrono::{NaiveDate, TimeZone};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    error::{ApiError, ApiQuery},
    guard::Authenticated,
};
use crate::AppState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OrdersQuery {
    /// One status or several, comma-separated: `processing,on-hold`.
    #[param(pattern = r"^(pending|processing|on-hold|completed|cancelled|refunded|failed)(,(pending|processing|on-hold|completed|cancelled|refunded|failed))*$")]
    pub status: Option<String>,
    /// Orders from this moment on: a day (`2026-11-01`, from midnight in the shop's time
    /// zone) or an RFC 3339 time.
    pub after: Option<String>,
    /// Orders before this moment (exclusive), in the same forms.
    pub before: Option<String>,
    /// An order number, an email, a phone number or part of the customer's name.
    #[param(max_length = 100)]
    pub search: Option<String>,
    /// A customer's id.
    pub customer: Option<i64>,
    /// `date` (the default) or `total`.
    pub orderby: Option<SortBy>,
    /// `desc` (the default) or `asc`.
    #[param(pattern = "^(asc|desc)$")]
    pub order: Option<String>,
    /// 1 to 100; 25 when absent.
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<i64>,
    /// `next_cursor` of the previous page (with the same filters and sort).
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct OrderPage {
    pub items: Vec<OrderRow>,
    /// Absent on the last page.
    pub next_cursor: Option<String>,
}

/// Orders, newest first unless asked otherwise.
#[utoipa::path(get, path = "/orders", tag = "orders", params(OrdersQuery), responses((status = 200, body = OrderPage)))]
pub async fn list(
    State(state): State<AppState>,
    Authenticated(_): Authenticated,
    ApiQuery(query): ApiQuery<OrdersQuery>,
) -> Result<Json<OrderPage>, ApiError> {
    let bad = |message: String| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", message);
    let statuses = query
        .status
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| s.split(',').map(|one| one.trim().parse::<OrderStatus>()).collect::<Result<Vec<_>, _>>())
        .transpose()
        .map_err(|e| bad(format!("{e}; the statuses are pending, processing, on-hold, completed, cancelled, refunded, failed")))?
        .unwrap_or_default();
    let tz = backend::settings::get(&state.db).await?.tz();
    let moment = |text: &Option<String>, name: &str| -> Result<Option<i64>, ApiError> {
        text.as_deref().filter(|t| !t.is_empty()).map(|t| parse_moment(t, tz).ok_or_else(|| bad(format!("{name} must be a day such as 2026-11-01 or an RFC 3339 time")))).transpose()
    };
    let ascending = match query.order.as_deref() {
        None | Some("") | Some("desc") => false,
        Some("asc") => true,
        Some(_) => return Err(bad("order must be asc or desc".into())),
    };
    let filter = Filter {
        statuses,
        after: moment(&query.after, "after")?,
        before: moment(&query.before, "before")?,
        customer_id: query.customer,
        search: query.search,
        sort: query.orderby.unwrap_or_default(),
        ascending,
        per_page: query.per_page.unwrap_or(list::DEFAULT_PER_PAGE),
        cursor: query.cursor.filter(|c| !c.is_empty()),
    };
    let page = list::list(&state.db, &state.api.hasher, &filter).await.map_err(|e| match e {
        backend::Error::Invalid(message) if message.contains("cursor") => ApiError::new(StatusCode::BAD_REQUEST, "invalid_cursor", message),
        backend::Error::Invalid(message) => bad(message),
        other => other.into(),
    })?;
    Ok(Json(OrderPage { items: page.rows, next_cursor: page.next_cursor }))
}

/// A day at midnight in the shop's time zone, or an RFC 3339 time.
fn parse_moment(text: &str, tz: chrono_tz::Tz) -> Option<i64> {
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return tz.from_local_datetime(&day.and_time(chrono::NaiveTime::MIN)).earliest().map(|t| t.timestamp());
    }
    chrono::DateTime::parse_from_rfc3339(text).ok().map(|t| t.timestamp())
}

#[derive(Serialize, ToSchema)]
pub struct OrderDetail {
    #[serde(flatten)]
    pub order: Order,
    /// The order's page in the panel.
    pub admin_url: String,
}

/// One order, whole.
#[utoipa::path(get, path = "/orders/{id}", tag = "orders", params(("id" = i64, Path)), responses((status = 200, body = OrderDetail), (status = 404, body = super::error::ErrorBody, description = "`not_found`")))]
pub async fn get(State(state): State<AppState>, Authenticated(_): Authenticated, Path(id): Path<i64>) -> Result<Json<OrderDetail>, ApiError> {
    let order = detail::get(&state.db, id).await?;
    let admin_url = format!("{}/admin/orders/{id}", state.panel.base_url.trim_end_matches('/'));
    Ok(Json(OrderDetail { order, admin_url }))
}
