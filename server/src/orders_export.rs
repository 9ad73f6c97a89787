//! `/admin/orders.csv`: orders as a spreadsheet, for people who manage orders and are
//! signed in to the panel — every order matching the list's filters (its own query), or
//! the orders selected on the list (`ids=1,2,3`).

use app::{
    context::{ClientIp, SignedIn},
    error::PanelError,
    filters::Paged,
    orders::{
        CSV_PATH,
        list::MAX_SELECTED,
        query::{MatchingOrders, OrdersQuery},
    },
};
use axum::{
    Extension, Router,
    extract::{RawQuery, State},
    http::Uri,
    response::Response,
    routing::get,
};
use backend::{
    csv,
    orders::list::{self, ExportRow, MAX_PER_PAGE},
    users::Role,
};
use vocabulary::money::{self, decimal};

use crate::{
    AppState,
    panel::csv_export::{Download, Requester, failed},
};

/// The most orders one export of the filtered list holds.
pub const MAX_ROWS: usize = 10_000;

const COLUMNS: [&str; 10] =
    ["number", "date", "status", "customer", "email", "phone", "items", "total", "currency", "payment method"];

pub fn router() -> Router<AppState> {
    Router::new().route(CSV_PATH, get(export))
}

async fn export(
    State(state): State<AppState>,
    signed_in: Option<Extension<SignedIn>>,
    ip: Option<Extension<ClientIp>>,
    RawQuery(raw): RawQuery,
    uri: Uri,
) -> Response {
    let requester = match Requester::check(signed_in, ip, &uri, Role::manages_orders) {
        Ok(requester) => requester,
        Err(refused) => return *refused,
    };
    let pairs: Vec<(String, String)> =
        form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).into_owned().collect();
    let ids = pairs.iter().find(|(key, _)| key == "ids").map(|(_, ids)| ids.as_str());
    let query = OrdersQuery::from_pairs(pairs.iter().map(|(key, value)| (key, value)));
    let written = match ids {
        Some(ids) => selection(&state, ids).await,
        None => matching(&state, &query).await,
    };
    let (body, rows) = match written {
        Ok(written) => written,
        Err(e) => return failed(e),
    };
    let details = match ids {
        Some(_) => format!("{rows} selected orders as CSV"),
        None => match query.first_page().search_string() {
            filters if filters.is_empty() => format!("{rows} orders as CSV, unfiltered"),
            filters => format!("{rows} orders as CSV; filters: {filters}"),
        },
    };
    let download = Download {
        action: "orders.export",
        target: "orders",
        details: &details,
        filename: "backroom-orders.csv",
        body,
    };
    requester.deliver(&state, download).await
}

/// Every order matching the list's filters, from the first page on, newest first unless
/// the query sorts otherwise; at most [`MAX_ROWS`], read a page at a time. Answers the
/// document and its number of orders.
async fn matching(state: &AppState, query: &OrdersQuery) -> Result<(String, usize), PanelError> {
    let tz = backend::settings::get(&state.services.db).await?.tz();
    let mut pages = MatchingOrders::new(query, tz, MAX_ROWS)?;
    let mut out = csv::document(&COLUMNS);
    let mut written = 0;
    while let Some(ids) = pages.next_page(&state.services.db, &state.services.hasher).await? {
        for row in list::by_ids(&state.services.db, &ids).await? {
            write_row(&mut out, &row, tz);
        }
        written += ids.len();
    }
    Ok((out, written))
}

/// The orders picked on the list (`1,2,3`), newest first.
///
/// Fails when the list is empty, holds something other than ids, or more than
/// [`MAX_SELECTED`] of them.
async fn selection(state: &AppState, ids: &str) -> Result<(String, usize), PanelError> {
    let ids: Vec<i64> = ids
        .split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(|id| id.parse().map_err(|_| PanelError::Message(format!("“{id}” is not an order id"))))
        .collect::<Result<_, _>>()?;
    if ids.is_empty() {
        return Err(PanelError::Message("select at least one order to export".into()));
    }
    if ids.len() > MAX_SELECTED {
        return Err(PanelError::Message(format!(
            "one export takes at most {MAX_SELECTED} selected orders; export all matching instead"
        )));
    }
    let tz = backend::settings::get(&state.services.db).await?.tz();
    let mut rows = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(MAX_PER_PAGE as usize) {
        rows.extend(list::by_ids(&state.services.db, chunk).await?);
    }
    rows.sort_by_key(|r| std::cmp::Reverse((r.row.created_at, r.row.id)));
    rows.dedup_by_key(|r| r.row.id);
    let mut out = csv::document(&COLUMNS);
    for row in &rows {
        write_row(&mut out, row, tz);
    }
    Ok((out, rows.len()))
}

fn write_row(out: &mut String, order: &ExportRow, tz: chrono_tz::Tz) {
    let o = &order.row;
    let date = backend::clock::format_local(o.created_at, tz, "%Y-%m-%d %H:%M");
    let items = o.items_count.to_string();
    let total = decimal(o.total, money::minor_digits(&o.currency));
    csv::row(
        out,
        [
            o.number.as_str(),
            &date,
            o.status.as_str(),
            &o.customer_name,
            &o.email,
            &order.phone,
            &items,
            &total,
            &o.currency,
            &o.payment_method,
        ],
    );
}
