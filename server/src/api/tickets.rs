//! Support tickets over the API, for the mobile app: the inbox, one ticket with its
//! thread, a reply (emailed), an internal note, the status and the assignee; and the
//! support form's public back end, `POST /support/tickets`.

use axum::{
    Form, Json,
    extract::{FromRequest, Path, Request, State},
    http::{HeaderMap, StatusCode, header},
};
use backend::support::{
    TicketStatus,
    form::{self, Outcome, Submission},
    settings,
    tickets::{self, Filter, Message, Ticket, TicketRow},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    error::{ApiError, ApiJson, ApiQuery},
    guard::{ActingCaller, Authenticated, ClientAddress},
    orders::list_error,
};
use crate::AppState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TicketsQuery {
    /// `open`, `pending`, `resolved` or `closed`; empty or left out: all.
    #[param(pattern = "^(open|pending|resolved|closed)?$")]
    pub status: Option<String>,
    /// A user's id, or `none` for unassigned tickets.
    pub assignee: Option<String>,
    /// A reference (`T-…`), an order number, an email, or words of the subject or name.
    #[param(max_length = 100)]
    pub search: Option<String>,
    /// 1 to 100; 25 when absent.
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TicketPage {
    pub items: Vec<TicketRow>,
    pub next_cursor: Option<String>,
}

/// Tickets, the most recently active first.
#[utoipa::path(get, path = "/tickets", tag = "support", params(TicketsQuery), responses((status = 200, body = TicketPage)))]
pub async fn list(
    State(state): State<AppState>,
    Authenticated(_): Authenticated,
    ApiQuery(query): ApiQuery<TicketsQuery>,
) -> Result<Json<TicketPage>, ApiError> {
    let assignee = match query.assignee.as_deref() {
        None | Some("") => None,
        Some("none") => Some(None),
        Some(id) => Some(Some(id.parse::<i64>().map_err(|_| {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", "assignee is a user's id or `none`")
        })?)),
    };
    let filter = Filter {
        status: query.status.as_deref().filter(|s| !s.is_empty()).map(str::parse).transpose().map_err(list_error)?,
        assignee,
        search: query.search,
        per_page: query.per_page.unwrap_or(25),
        cursor: query.cursor,
    };
    let page = tickets::list(&state.services.db, &state.services.hasher, &filter).await.map_err(list_error)?;
    Ok(Json(TicketPage { items: page.rows, next_cursor: page.next_cursor }))
}

/// One ticket with its thread and its order's summary.
#[utoipa::path(get, path = "/tickets/{id}", tag = "support", params(("id" = i64, Path)),
    responses((status = 200, body = Ticket), (status = 404, body = super::error::ErrorBody, description = "`not_found`")))]
pub async fn get(
    State(state): State<AppState>,
    Authenticated(_): Authenticated,
    Path(id): Path<i64>,
) -> Result<Json<Ticket>, ApiError> {
    Ok(Json(tickets::get(&state.services.db, id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    /// 1 to 10,000 characters.
    #[schema(min_length = 1, max_length = 10000)]
    pub body: String,
}

/// Replies to the customer: the reply is emailed and joins the thread.
#[utoipa::path(post, path = "/tickets/{id}/replies", tag = "support", params(("id" = i64, Path)), request_body = NewMessage,
    responses((status = 201, body = Message), (status = 404, body = super::error::ErrorBody, description = "`not_found`")))]
pub async fn reply(
    State(state): State<AppState>,
    acting: ActingCaller,
    Path(id): Path<i64>,
    ApiJson(new): ApiJson<NewMessage>,
) -> Result<(StatusCode, Json<Message>), ApiError> {
    Ok((StatusCode::CREATED, Json(tickets::reply(&state.services.db, acting.actor(), id, &new.body).await?)))
}

/// Adds an internal note, never emailed.
#[utoipa::path(post, path = "/tickets/{id}/notes", tag = "support", params(("id" = i64, Path)), request_body = NewMessage,
    responses((status = 201, body = Message), (status = 404, body = super::error::ErrorBody, description = "`not_found`")))]
pub async fn note(
    State(state): State<AppState>,
    acting: ActingCaller,
    Path(id): Path<i64>,
    ApiJson(new): ApiJson<NewMessage>,
) -> Result<(StatusCode, Json<Message>), ApiError> {
    Ok((StatusCode::CREATED, Json(tickets::note(&state.services.db, acting.actor(), id, &new.body).await?)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketChange {
    pub status: Option<TicketStatus>,
    /// A user's id; `null` unassigns. Leave it out to keep the assignee.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub assignee_user_id: Option<Option<i64>>,
}

/// Tells a field sent as `null` (`Some(None)`) from one left out (`None`).
fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Option<i64>>, D::Error> {
    Option::<i64>::deserialize(deserializer).map(Some)
}

/// Changes the status, the assignee, or both.
#[utoipa::path(patch, path = "/tickets/{id}", tag = "support", params(("id" = i64, Path)), request_body = TicketChange,
    responses((status = 200, body = TicketRow), (status = 404, body = super::error::ErrorBody, description = "`not_found`")))]
pub async fn change(
    State(state): State<AppState>,
    acting: ActingCaller,
    Path(id): Path<i64>,
    ApiJson(change): ApiJson<TicketChange>,
) -> Result<Json<TicketRow>, ApiError> {
    let actor = acting.actor();
    // Each change answers the ticket as it then stands; the last one made is the answer.
    if let Some(assignee) = change.assignee_user_id {
        let row = tickets::assign(&state.services.db, actor, id, assignee).await?;
        if change.status.is_none() {
            return Ok(Json(row));
        }
    }
    match change.status {
        Some(status) => Ok(Json(tickets::set_status(&state.services.db, actor, id, status).await?)),
        None => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "give a status, an assignee_user_id, or both",
        )),
    }
}

#[derive(Serialize, ToSchema)]
pub struct SubmissionReceived {
    /// The ticket's reference, for the customer.
    pub reference: String,
    pub message: String,
}

/// The support form's back end (public): JSON or a form post. The order number and
/// email must match an order; any mismatch gets one message (`invalid`) that reveals
/// neither which part was wrong nor whether the order exists. Posts from another origin
/// must come from one the shop allows.
#[utoipa::path(post, path = "/support/tickets", tag = "support", request_body(content = Submission, content_type = "application/json"),
    responses((status = 201, body = SubmissionReceived),
        (status = 403, body = super::error::ErrorBody, description = "`origin_not_allowed`"),
        (status = 422, body = super::error::ErrorBody, description = "`invalid`: a field, or the order and email do not match"),
        (status = 429, body = super::error::ErrorBody, description = "`rate_limited`, per address or per order")))]
pub async fn submit(
    State(state): State<AppState>,
    ClientAddress(ip): ClientAddress,
    headers: HeaderMap,
    request: Request,
) -> Result<(StatusCode, Json<SubmissionReceived>), ApiError> {
    check_origin(&state, &headers).await?;
    let form_post = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let submission = if form_post {
        Form::<Submission>::from_request(request, &state)
            .await
            .map(|Form(s)| s)
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", e.body_text()))?
    } else {
        ApiJson::<Submission>::from_request(request, &state).await?.0
    };
    let ctx = form::Context { ip: ip.as_deref(), panel_url: &state.services.base_url };
    // A bot that filled the honeypot is told what a person would be, and learns nothing.
    let (Outcome::Created { reference } | Outcome::Ignored { decoy: reference }) =
        form::submit(&state.services.db, ctx, &submission).await?;
    let message = format!("Thank you. Your message is ticket {reference}; we have emailed you a copy.");
    Ok((StatusCode::CREATED, Json(SubmissionReceived { reference, message })))
}

/// A post carrying an `Origin` must come from this server or an origin the shop allows
/// (a browser's `Sec-Fetch-Site: same-origin` says the former too).
async fn check_origin(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    if headers.get("sec-fetch-site").is_some_and(|site| site == "same-origin") {
        return Ok(());
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else { return Ok(()) };
    let own = state.services.base_url.trim_end_matches('/');
    let same = origin.eq_ignore_ascii_case(own) || crate::cross_origin::origin_is_host(headers);
    if same || settings::get(&state.services.db).await?.allows_origin(origin) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "origin_not_allowed",
            "this page may not post to the support form; add its origin in the panel's support settings",
        ))
    }
}
