//! The payment transactions page: every payment and refund across the store, newest
//! first, filtered by days (in the shop's time zone), gateway, status and order, a page
//! at a time. Filters and the page's cursor live in the address, so a reload or a shared
//! link shows the same page.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::params::ParamsMap;
use serde::{Deserialize, Serialize};
use vocabulary::orders::{MAX_GATEWAY_CHARS, MAX_ORDER_ID_CHARS, TRANSACTION_STATUSES};

use crate::{
    error::PanelError,
    filters::{DayFields, FilterButtons, Paged, Pager, QueryForm, use_listing_query},
    loaded::{DataTable, Loaded},
};

pub const TRANSACTIONS_PATH: &str = "/admin/transactions";

/// The filters and the page as the address gives them. Days are `YYYY-MM-DD` in the
/// shop's time zone, both included.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TransactionsQuery {
    pub from: String,
    pub to: String,
    pub gateway: String,
    /// Empty, `pending`, `succeeded` or `failed`.
    pub status: String,
    /// An order's id (`1042` or `#1042`).
    pub order: String,
    /// Where this page starts: the previous page's cursor; empty on the first page.
    pub cursor: String,
    /// The pages between the first and this one, for "Previous page" (see [`Paged`]).
    pub prev: String,
}

impl TransactionsQuery {
    pub fn from_params(params: &ParamsMap) -> TransactionsQuery {
        let get = |key| params.get(key).unwrap_or_default();
        TransactionsQuery {
            from: get("from"),
            to: get("to"),
            gateway: get("gateway"),
            status: get("status"),
            order: get("order"),
            cursor: get("cursor"),
            prev: get("prev"),
        }
    }

    /// The backend's filter, with the days turned into instants in the shop's time zone.
    ///
    /// Fails, saying which field, on a malformed day, a "from" after the "to", or an order
    /// that is not an id (or is longer than [`MAX_ORDER_ID_CHARS`]); the backend checks the
    /// status, the gateway and the cursor.
    #[cfg(feature = "ssr")]
    pub fn filter(&self, tz: chrono_tz::Tz) -> Result<backend::orders::transactions::Filter, PanelError> {
        use crate::filters::filled;
        let (after, before) = backend::days::instants(&self.from, &self.to, tz)?;
        let order = self.order.trim();
        let order_id = match order.trim_start_matches('#') {
            "" => None,
            id => Some(
                id.parse::<i64>()
                    .ok()
                    .filter(|id| *id > 0 && order.chars().count() <= MAX_ORDER_ID_CHARS)
                    .ok_or_else(|| PanelError::Message("the order must be an order ID such as 1042".into()))?,
            ),
        };
        Ok(backend::orders::transactions::Filter {
            after,
            before,
            gateway: filled(&self.gateway),
            status: filled(&self.status),
            order_id,
            per_page: backend::orders::list::DEFAULT_PER_PAGE,
            cursor: filled(&self.cursor),
        })
    }
}

impl Paged for TransactionsQuery {
    const PATH: &'static str = TRANSACTIONS_PATH;
    fn filters(&self) -> Vec<(&'static str, &str)> {
        vec![
            ("from", self.from.as_str()),
            ("to", self.to.as_str()),
            ("gateway", self.gateway.as_str()),
            ("status", self.status.as_str()),
            ("order", self.order.as_str()),
        ]
    }
    fn page(&self) -> (&str, &str) {
        (&self.cursor, &self.prev)
    }
    fn at(&self, cursor: String, prev: String) -> TransactionsQuery {
        TransactionsQuery { cursor, prev, ..self.clone() }
    }
}

/// A payment or a refund, as this page and an order's page show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionLine {
    pub order_id: i64,
    pub at: String,
    pub gateway: String,
    pub transaction_id: String,
    /// `payment` or `refund`.
    pub kind: String,
    pub amount: String,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
}

#[cfg(feature = "ssr")]
impl TransactionLine {
    /// Order `order_id`'s transaction `t`, its time in `tz` and its amount in `locale`.
    pub fn new(
        order_id: i64,
        t: backend::orders::detail::Transaction,
        tz: chrono_tz::Tz,
        locale: &str,
    ) -> TransactionLine {
        TransactionLine {
            order_id,
            at: backend::clock::local_minute(t.created_at, tz),
            amount: vocabulary::money::format(t.amount, &t.currency, locale),
            gateway: t.gateway,
            transaction_id: t.transaction_id,
            kind: t.kind,
            status: t.status,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionsView {
    pub rows: Vec<TransactionLine>,
    /// The next page's cursor; absent on the last page.
    pub next_cursor: Option<String>,
    pub time_zone: String,
}

/// One page of the transactions matching `query`. Every role reads them, as over the API.
#[server(endpoint = "store_transactions")]
pub async fn store_transactions(query: TransactionsQuery) -> Result<TransactionsView, PanelError> {
    let ctx = crate::context::services()?;
    crate::context::require_user().await?;
    let store = backend::settings::get(&ctx.db).await?;
    let tz = store.tz();
    let page = backend::orders::transactions::list(&ctx.db, &ctx.hasher, &query.filter(tz)?).await?;
    Ok(TransactionsView {
        rows: page.rows.into_iter().map(|(order_id, t)| TransactionLine::new(order_id, t, tz, &store.locale)).collect(),
        next_cursor: page.next_cursor,
        time_zone: store.time_zone,
    })
}

#[component]
pub fn TransactionsPage() -> impl IntoView {
    let query = use_listing_query(TRANSACTIONS_PATH, TransactionsQuery::from_params);
    let page = crate::loaded::load(move || query.get(), store_transactions);
    view! {
        <Title text="Transactions · Backroom"/>
        <h1>"Transactions"</h1>
        <p class="muted">"Payments and refunds across the store, newest first."</p>
        <TransactionFilters query/>
        <Loaded resource=page show={move |page: TransactionsView| view! {
            <p class="muted">"Times in " {page.time_zone.clone()} "."</p>
            {if page.rows.is_empty() {
                view! { <p class="card">"No transactions match these filters."</p> }.into_any()
            } else {
                view! {
                    <DataTable headings={&["Time", "Order", "Gateway", "Transaction ID", "Kind", "Amount", "Status"]}>
                        {page.rows.into_iter().map(|t| transaction_row(t, true)).collect_view()}
                    </DataTable>
                }.into_any()
            }}
            <Pager query next=page.next_cursor/>
        }}/>
    }
}

/// A transaction's row: when, its order (`with_order`; an order's own page leaves it out),
/// the gateway and its id, payment or refund, the amount and the status.
pub fn transaction_row(t: TransactionLine, with_order: bool) -> impl IntoView {
    let kind = if t.kind == "refund" { "Refund" } else { "Payment" };
    view! {
        <tr>
            <td class="nowrap">{t.at}</td>
            {with_order.then(|| view! { <td><a href=format!("/admin/orders/{}", t.order_id)>{format!("Order {}", t.order_id)}</a></td> })}
            <td>{t.gateway}</td>
            <td><code>{t.transaction_id}</code></td>
            <td>{kind}</td>
            <td class="num nowrap">{t.amount}</td>
            <td><span class=format!("badge transaction-{}", t.status)>{t.status.clone()}</span></td>
        </tr>
    }
}

/// The filter form: its fields become the page's address (a new filter starts again from
/// the first page).
#[component]
fn TransactionFilters(query: Memo<TransactionsQuery>) -> impl IntoView {
    // The fields follow the address, and start from it in the server-rendered page.
    let initial = query.get_untracked();
    let field = move |pick: fn(&TransactionsQuery) -> String| move || query.with(pick);
    view! {
        <div class="card">
            <QueryForm action=TRANSACTIONS_PATH>
                <div class="filters">
                    <DayFields prefix="transactions" from=Signal::derive(field(|q| q.from.clone())) to=Signal::derive(field(|q| q.to.clone()))/>
                    <div class="field">
                        <label for="transactions-gateway">"Gateway"</label>
                        <input id="transactions-gateway" name="gateway" type="search" maxlength=MAX_GATEWAY_CHARS.to_string() placeholder="iyzico"
                            value=initial.gateway.clone() prop:value=field(|q| q.gateway.clone())/>
                    </div>
                    <div class="field">
                        <label for="transactions-status">"Status"</label>
                        <select id="transactions-status" name="status" prop:value=field(|q| q.status.clone())>
                            {[("", "Any")].into_iter().chain(TRANSACTION_STATUSES)
                                .map(|(value, label)| view! { <option value=value selected=initial.status == value>{label}</option> })
                                .collect_view()}
                        </select>
                    </div>
                    <div class="field">
                        <label for="transactions-order">"Order ID"</label>
                        <input id="transactions-order" name="order" type="search" inputmode="numeric" maxlength=MAX_ORDER_ID_CHARS.to_string()
                            value=initial.order.clone() prop:value=field(|q| q.order.clone())/>
                    </div>
                </div>
                <FilterButtons clear=TRANSACTIONS_PATH/>
            </QueryForm>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_page_keeps_the_filters_and_drops_the_cursor() {
        let query =
            TransactionsQuery { gateway: "iyzico".into(), status: "failed".into(), ..TransactionsQuery::default() };
        let second = query.next_page("abc_-1");
        assert_eq!(second.href(), "/admin/transactions?gateway=iyzico&status=failed&cursor=abc_-1");
        assert_eq!(second.first_page().href(), "/admin/transactions?gateway=iyzico&status=failed");
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn days_are_whole_days_in_the_shops_time_zone_and_bad_input_is_named() {
        // Istanbul is UTC+3: 2025-03-01 starts at 21:00 UTC the day before.
        let query =
            TransactionsQuery { from: "2025-03-01".into(), to: "2025-03-01".into(), ..TransactionsQuery::default() };
        let filter = query.filter(chrono_tz::Europe::Istanbul).unwrap();
        assert_eq!((filter.after, filter.before), (Some(1_740_776_400), Some(1_740_776_400 + 86_400)));
        let order = TransactionsQuery { order: " #1042 ".into(), ..TransactionsQuery::default() };
        assert_eq!(order.filter(chrono_tz::UTC).unwrap().order_id, Some(1042));
        for (bad, says) in [
            (TransactionsQuery { from: "01.03.2025".into(), ..TransactionsQuery::default() }, "from must be a day"),
            (
                TransactionsQuery {
                    from: "2025-03-02".into(),
                    to: "2025-03-01".into(),
                    ..TransactionsQuery::default()
                },
                "after",
            ),
            (TransactionsQuery { order: "ORD-7".into(), ..TransactionsQuery::default() }, "order ID"),
            // A real ID, but padded past what the field takes.
            (TransactionsQuery { order: format!("#{:0>20}", 1042), ..TransactionsQuery::default() }, "order ID"),
        ] {
            assert!(bad.filter(chrono_tz::UTC).unwrap_err().to_string().contains(says), "{bad:?}");
        }
    }
}
