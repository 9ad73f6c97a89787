//! The orders list's bulk sync to the accounting ledger: "Sync selected", "Sync all
//! matching" (every order the list's filters match) and the "Resync" tick. A run, once
//! started, has its own page in the accounting area.

use std::collections::BTreeSet;

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use super::query::OrdersQuery;
use crate::{accounting::bulk_href, error::PanelError, forms::action_error};

/// Starts a bulk sync of the `selected` orders, or, without a selection, of every order
/// matching the list's `query` (at most the backend's limit); answers the run's id.
///
/// Fails when accounting is not set up, nothing is to be synced, or too many orders
/// match.
#[server(endpoint = "start_bulk_sync", input = leptos::server_fn::codec::Json)]
pub async fn start_bulk_sync(selected: Option<Vec<i64>>, query: OrdersQuery, resync: bool) -> Result<i64, PanelError> {
    use backend::accounting::bulk;

    use super::query::MatchingOrders;
    let me = super::order::ssr::acting().await?;
    let db = &me.ctx.db;
    let (ids, description) = match selected {
        Some(ids) => {
            let description = match ids.len() {
                1 => "1 selected order".to_owned(),
                n => format!("{n} selected orders"),
            };
            (ids, description)
        }
        None => {
            let tz = backend::settings::get(db).await?.tz();
            // One over the limit, so that too many is refused rather than cut short.
            let mut pages = MatchingOrders::new(&query, tz, bulk::MAX_ORDERS + 1)?;
            let mut ids = Vec::new();
            while let Some(page) = pages.next_page(db, &me.ctx.hasher).await? {
                ids.extend(page);
            }
            (ids, matching_description(&query))
        }
    };
    Ok(bulk::start(db, &me.user, me.ip.as_deref(), &ids, &description, resync).await?)
}

/// "All orders", or the filters that chose them: `orders matching status processing; search “Ayşe”`.
#[cfg(feature = "ssr")]
fn matching_description(query: &OrdersQuery) -> String {
    let filters: Vec<String> =
        [("status", &query.status), ("from", &query.from), ("to", &query.to), ("search", &query.search)]
            .into_iter()
            .filter(|(_, value)| !value.trim().is_empty())
            .map(
                |(name, value)| {
                    if name == "search" { format!("search “{}”", value.trim()) } else { format!("{name} {value}") }
                },
            )
            .collect();
    if filters.is_empty() { "all orders".to_owned() } else { format!("orders matching {}", filters.join("; ")) }
}

/// The orders list's start of a bulk sync: made by the list's page, so that a list that
/// redraws (new orders arriving) neither forgets the "Resync" tick nor loses a start on
/// its way; once started, the page goes to the run's progress.
#[derive(Clone, Copy)]
pub struct BulkSyncStart {
    action: ServerAction<StartBulkSync>,
    resync: RwSignal<bool>,
}

impl BulkSyncStart {
    pub fn create() -> BulkSyncStart {
        let start = BulkSyncStart { action: ServerAction::new(), resync: RwSignal::new(false) };
        let navigate = use_navigate();
        Effect::new(move |_| {
            if let Some(Ok(id)) = start.action.value().get() {
                navigate(&bulk_href(id), Default::default());
            }
        });
        start
    }
}

/// "Sync selected to accounting", "Sync all matching to accounting" and the "Resync"
/// tick, for the orders list's toolbar.
#[component]
pub fn SyncToAccounting(
    start: BulkSyncStart,
    query: Memo<OrdersQuery>,
    selected: RwSignal<BTreeSet<i64>>,
) -> impl IntoView {
    let BulkSyncStart { action, resync } = start;
    let error = action_error(action);
    let pending = move || action.pending().get();
    let sync = move |ids: Option<Vec<i64>>| {
        if !action.pending().get_untracked() {
            action.dispatch(StartBulkSync {
                selected: ids,
                query: query.get_untracked(),
                resync: resync.get_untracked(),
            });
        }
    };
    let sync_selected = move |_| sync(Some(selected.with_untracked(|s| s.iter().copied().collect())));
    let sync_matching = move |_| sync(None);
    view! {
        <div class="orders-toolbar accounting-sync" role="group" aria-label="Accounting sync">
            <button type="button" disabled=move || pending() || selected.with(BTreeSet::is_empty) on:click=sync_selected>
                "Sync selected to accounting"
            </button>
            <button type="button" disabled=pending on:click=sync_matching>"Sync all matching to accounting"</button>
            <span class="choice">
                <input type="checkbox" id="sync-resync" prop:checked=move || resync.get() on:change=move |ev| resync.set(event_target_checked(&ev))/>
                <label for="sync-resync">"Resync already synced orders"</label>
            </span>
            <span role="status" class="muted">{move || pending().then_some("Starting the sync…")}</span>
            {move || error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "ssr")]
    #[test]
    fn a_sync_of_all_matching_is_described_by_its_filters() {
        assert_eq!(matching_description(&OrdersQuery { sort: "total".into(), ..OrdersQuery::default() }), "all orders");
        let query = OrdersQuery {
            status: "processing,completed".into(),
            from: "2026-01-01".into(),
            search: " Ayşe ".into(),
            ..OrdersQuery::default()
        };
        assert_eq!(
            matching_description(&query),
            "orders matching status processing,completed; from 2026-01-01; search “Ayşe”"
        );
    }
}
