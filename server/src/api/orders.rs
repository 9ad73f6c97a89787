//! Orders over the API: the list (filters, sorting, cursor pages) and one order whole,
//! with the link to it in the panel.

use axum::{
    Json,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use backend::{
    days::Moment,
    orders::{
        OrderStatus,
        customer::{self, CustomerEdit},
        detail::{self, Note, Order, Refund, StoreWrite},
        list::{self, Filter, OrderRow, SortBy},
        notes,
        refunds::{self, NewRefund, Refunded},
        status,
    },
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    error::{ApiError, ApiJson, ApiQuery},
    guard::{ActingCaller, Authenticated},
};
use crate::AppState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OrdersQuery {
    /// One status or several, comma-separated: `processing,on-hold`; empty or left out: all.
    #[param(
        pattern = r"^$|^(pending|processing|on-hold|completed|cancelled|refunded|failed)(,(pending|processing|on-hold|completed|cancelled|refunded|failed))*$"
    )]
    pub status: Option<String>,
    /// Orders from this moment on: a day (`2026-11-01`, from midnight in the shop's time
    /// zone) or an RFC 3339 time.
    pub after: Option<String>,
    /// Orders before this moment (exclusive), in the same forms.
    pub before: Option<String>,
    /// An order number, an email, a phone number, or the start of the customer's first
    /// and last names (`ayş yıl`).
    #[param(max_length = 100)]
    pub search: Option<String>,
    /// A customer's id.
    pub customer: Option<i64>,
    /// `date` (the default) or `total`.
    pub orderby: Option<SortBy>,
    /// `desc` (the default, also when empty) or `asc`.
    #[param(pattern = "^(asc|desc)?$")]
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
    let statuses = list::statuses(query.status.as_deref().unwrap_or_default()).map_err(list_error)?;
    let (after, before) = date_range(&state, query.after.as_deref(), query.before.as_deref()).await?;
    let ascending = list::ascending(query.order.as_deref().unwrap_or_default()).map_err(list_error)?;
    let filter = Filter {
        statuses,
        after,
        before,
        customer_id: query.customer,
        search: query.search,
        sort: query.orderby.unwrap_or_default(),
        ascending,
        per_page: query.per_page.unwrap_or(list::DEFAULT_PER_PAGE),
        cursor: query.cursor.filter(|c| !c.is_empty()),
    };
    let page = list::list(&state.services.db, &state.services.hasher, &filter).await.map_err(list_error)?;
    Ok(Json(OrderPage { items: page.rows, next_cursor: page.next_cursor }))
}

/// A listing's bad filter is a 400 `invalid_query` (not a 422: it is the query string).
pub fn list_error(e: impl Into<backend::Error>) -> ApiError {
    match e.into() {
        backend::Error::Invalid(message) => ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", message),
        other => other.into(),
    }
}

/// A listing's `after` and `before`: each a day (midnight in the shop's time zone) or an
/// RFC 3339 time ([`Moment`]). The shop's settings are read only when a day needs its
/// time zone.
pub async fn date_range(
    state: &AppState,
    after: Option<&str>,
    before: Option<&str>,
) -> Result<(Option<i64>, Option<i64>), ApiError> {
    let read = |text: Option<&str>, field| text.filter(|t| !t.is_empty()).map(|t| Moment::parse(t, field)).transpose();
    let (after, before) = (read(after, "after").map_err(list_error)?, read(before, "before").map_err(list_error)?);
    let needs_tz = [after, before].into_iter().flatten().any(|m| matches!(m, Moment::Day(_)));
    let tz = if needs_tz { backend::settings::get(&state.services.db).await?.tz() } else { chrono_tz::Tz::UTC };
    Ok((after.map(|m| m.at(tz)), before.map(|m| m.at(tz))))
}

#[derive(Serialize, ToSchema)]
pub struct OrderDetail {
    #[serde(flatten)]
    pub order: Order,
    /// The order's page in the panel.
    pub admin_url: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    /// The new status; `refunded` is reached through a refund, not here.
    pub status: OrderStatus,
    /// Needed to reopen a completed or cancelled order; kept in the order's notes.
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

/// Changes an order's status under the transition policy. Each change adds a system
/// note, an audit entry and an `order.status_changed` event.
#[utoipa::path(patch, path = "/orders/{id}", tag = "orders", params(("id" = i64, Path)), request_body = StatusChange,
    responses((status = 200, body = OrderDetail), (status = 404, body = super::error::ErrorBody, description = "`not_found`"),
        (status = 409, body = super::error::ErrorBody, description = "`invalid_transition` (the message lists the allowed next statuses) or `conflict` (changed meanwhile)")))]
pub async fn change_status(
    State(state): State<AppState>,
    acting: ActingCaller,
    Path(id): Path<i64>,
    ApiJson(change): ApiJson<StatusChange>,
) -> Result<Json<OrderDetail>, ApiError> {
    let tz = backend::settings::get(&state.services.db).await?.tz();
    status::change(
        &state.services.db,
        &state.services.order_events,
        tz,
        acting.actor(),
        id,
        change.status,
        change.reason.as_deref(),
    )
    .await?;
    get(State(state), Authenticated(acting.caller), Path(id)).await
}

#[derive(Serialize, ToSchema)]
pub struct RefundList {
    pub items: Vec<Refund>,
}

/// The order's refunds, oldest first.
#[utoipa::path(get, path = "/orders/{id}/refunds", tag = "orders", params(("id" = i64, Path)),
    responses((status = 200, body = RefundList), (status = 404, body = super::error::ErrorBody, description = "`not_found`")))]
pub async fn refunds(
    State(state): State<AppState>,
    Authenticated(_): Authenticated,
    Path(id): Path<i64>,
) -> Result<Json<RefundList>, ApiError> {
    Ok(Json(RefundList { items: detail::refunds(&state.services.db, id).await? }))
}

/// Refunds an amount, or lines (quantity and amount each), never more than remains
/// refundable. Send an `Idempotency-Key` header: a retry with the same key and body gets
/// the same refund (200) instead of a second one; the same key with another body, 409.
/// An order the WooCommerce store keeps is refunded by the store: say `payment` (through
/// the payment provider, or recorded), and the answer (202) is the write on its way; the
/// refund appears on the order when the store has made it (its `store_writes` say how it
/// went).
#[utoipa::path(post, path = "/orders/{id}/refunds", tag = "orders", request_body = NewRefund,
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses((status = 201, body = Refund, description = "Refunded"), (status = 200, body = Refund, description = "Already refunded under this Idempotency-Key"),
        (status = 202, body = StoreWrite, description = "Sent to the store, which keeps the order"),
        (status = 404, body = super::error::ErrorBody, description = "`not_found`"),
        (status = 409, body = super::error::ErrorBody, description = "`conflict`: more than remains refundable, or an order that cannot be refunded")))]
pub async fn refund(
    State(state): State<AppState>,
    acting: ActingCaller,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(new): ApiJson<NewRefund>,
) -> Result<Response, ApiError> {
    let keys: Vec<&str> = headers.get_all("idempotency-key").iter().filter_map(|v| v.to_str().ok()).collect();
    if keys.len() > 1 {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "bad_request", "send one Idempotency-Key header"));
    }
    let tz = backend::settings::get(&state.services.db).await?.tz();
    let done = refunds::refund(
        &state.services.db,
        &state.services.order_events,
        tz,
        acting.actor(),
        id,
        &new,
        keys.first().copied(),
    )
    .await?;
    Ok(match done {
        Refunded::Made { refund, created } => {
            (if created { StatusCode::CREATED } else { StatusCode::OK }, Json(refund)).into_response()
        }
        Refunded::Sent(write) => (StatusCode::ACCEPTED, Json(write)).into_response(),
    })
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNote {
    /// 1 to 5,000 characters.
    #[schema(min_length = 1, max_length = 5000)]
    pub note: String,
    /// Meant for the customer: emailed to the order's billing address through the mail
    /// outbox; otherwise it stays private to the shop.
    #[serde(default)]
    pub to_customer: bool,
}

/// Adds a note to the order.
#[utoipa::path(post, path = "/orders/{id}/notes", tag = "orders", params(("id" = i64, Path)), request_body = NewNote,
    responses((status = 201, body = Note), (status = 404, body = super::error::ErrorBody, description = "`not_found`")))]
pub async fn add_note(
    State(state): State<AppState>,
    acting: ActingCaller,
    Path(id): Path<i64>,
    ApiJson(new): ApiJson<NewNote>,
) -> Result<(StatusCode, Json<Note>), ApiError> {
    let note =
        notes::add(&state.services.db, &state.services.order_events, acting.actor(), id, &new.note, new.to_customer)
            .await?;
    Ok((StatusCode::CREATED, Json(note)))
}

/// Changes the customer's details on the order: the billing and shipping fields given
/// (each kept as typed), the others as they are. On an order the WooCommerce store keeps,
/// the change is also sent to the store: its `store_writes` say how that went.
#[utoipa::path(patch, path = "/orders/{id}/customer", tag = "orders", params(("id" = i64, Path)), request_body = CustomerEdit,
    responses((status = 200, body = OrderDetail), (status = 404, body = super::error::ErrorBody, description = "`not_found`"),
        (status = 409, body = super::error::ErrorBody, description = "`conflict`: a field was changed meanwhile"),
        (status = 422, body = super::error::ErrorBody, description = "`invalid`: a field too long, on several lines, or not of its kind")))]
pub async fn edit_customer(
    State(state): State<AppState>,
    acting: ActingCaller,
    Path(id): Path<i64>,
    ApiJson(edit): ApiJson<CustomerEdit>,
) -> Result<Json<OrderDetail>, ApiError> {
    customer::edit(&state.services.db, &state.services.order_events, acting.actor(), id, &edit).await?;
    get(State(state), Authenticated(acting.caller), Path(id)).await
}

/// One order, whole.
#[utoipa::path(get, path = "/orders/{id}", tag = "orders", params(("id" = i64, Path)), responses((status = 200, body = OrderDetail), (status = 404, body = super::error::ErrorBody, description = "`not_found`")))]
pub async fn get(
    State(state): State<AppState>,
    Authenticated(_): Authenticated,
    Path(id): Path<i64>,
) -> Result<Json<OrderDetail>, ApiError> {
    let order = detail::get(&state.services.db, id).await?;
    let admin_url = format!("{}/admin/orders/{id}", state.services.base_url.trim_end_matches('/'));
    Ok(Json(OrderDetail { order, admin_url }))
}
