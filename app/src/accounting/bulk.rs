//! Bulk accounting sync: the orders list's "Sync selected" and "Sync all matching", and
//! a run's own page — its progress, followed about every second while it runs, and a
//! way to cancel it.

use std::{collections::BTreeSet, time::Duration};

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};

use super::{BulkStateBadge, BulkView, LOG_PATH, bulk_href};
use crate::{
    error::PanelError,
    following::{Followed, POLL_EVERY},
    forms::action_error,
    loaded::LoadedRecord,
    orders::query::OrdersQuery,
};

/// Starts a bulk sync of the `selected` orders, or, without a selection, of every order
/// matching the list's `query` (at most the backend's limit); answers the run's id.
///
/// Fails when accounting is not set up, nothing is to be synced, or too many orders
/// match.
#[server(endpoint = "start_bulk_sync", input = leptos::server_fn::codec::Json)]
pub async fn start_bulk_sync(selected: Option<Vec<i64>>, query: OrdersQuery, resync: bool) -> Result<i64, PanelError> {
    use backend::accounting::bulk;

    use crate::orders::query::MatchingOrders;
    let me = super::acting().await?;
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

/// The run, or `None` when there is no such run.
#[server(endpoint = "bulk_sync_progress")]
pub async fn bulk_sync_progress(id: i64) -> Result<Option<BulkView>, PanelError> {
    let me = super::acting().await?;
    let tz = backend::settings::get(&me.ctx.db).await?.tz();
    match backend::accounting::bulk::progress(&me.ctx.db, id).await {
        Ok(run) => Ok(Some(BulkView::new(run, tz))),
        Err(backend::Error::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Stops a running sync: what has not started is cancelled, what is being sent finishes.
#[server(endpoint = "cancel_bulk_sync")]
pub async fn cancel_bulk_sync(id: i64) -> Result<(), PanelError> {
    let me = super::acting().await?;
    backend::accounting::bulk::cancel(&me.ctx.db, &me.user, me.ip.as_deref(), id).await?;
    Ok(())
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

#[component]
pub fn BulkSyncPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok())));
    let run = crate::loaded::load(
        move || id.get(),
        |id| async move {
            match id {
                Some(id) => bulk_sync_progress(id).await,
                None => Ok(None),
            }
        },
    );
    view! {
        <p class="back-link"><a href=LOG_PATH>"← Accounting errors and log"</a></p>
        <LoadedRecord resource=run thing="bulk sync" back=LOG_PATH back_label="Back to the accounting log"
            show=move |run| view! { <BulkProgress run/> }/>
    }
}

/// A run's progress, kept up to date while it runs. The figures change in place, so the
/// Cancel button keeps the focus.
#[component]
fn BulkProgress(run: BulkView) -> impl IntoView {
    let id = run.id;
    let followed = Followed::new(run);
    let (run, problem) = (followed.value, followed.problem);
    let cancel = ServerAction::<CancelBulkSync>::new();
    let cancel_error = action_error(cancel);
    let running = Memo::new(move |_| run.with(BulkView::running));
    let ask = move || bulk_sync_progress(id);
    // Effects run in the browser only: that is where the page follows the run.
    Effect::new(move |_| {
        if running.get_untracked() {
            followed.follow(POLL_EVERY, BulkView::running, ask);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = cancel.value().get() {
            followed.follow(Duration::ZERO, BulkView::running, ask);
        }
    });
    let figure = move |pick: fn(&BulkView) -> i64| move || run.with(pick);
    let finished_with_failures = Memo::new(move |_| run.with(|r| !r.running() && r.failed > 0));
    let state = Memo::new(move |_| run.with(|r| r.state.clone()));
    let description = run.with_untracked(|r| {
        format!("{}{}", r.description, if r.resync { ", resending those already synced" } else { "" })
    });
    view! {
        <Title text="Bulk sync · Backroom"/>
        <header class="order-head">
            <h1>"Bulk sync"</h1>
            {move || view! { <BulkStateBadge state=state.get()/> }}
        </header>
        <p>{description}" · started "{run.with_untracked(|r| r.started.clone())}</p>
        <section class="card" aria-labelledby="bulk-progress-heading">
            <h2 id="bulk-progress-heading">"Progress"</h2>
            <div class="field bulk-progress">
                <label for="bulk-progress">"Orders settled"</label>
                <progress id="bulk-progress" max=move || run.with(|r| r.total.max(1)) value=figure(BulkView::settled)>
                    {move || run.with(|r| format!("{} of {}", r.settled(), r.total))}
                </progress>
            </div>
            <p aria-live="polite" data-testid="bulk-state">{move || run.with(state_sentence)}</p>
            <dl class="order-totals">
                <div><dt>"Synced"</dt><dd data-testid="bulk-done">{figure(|r| r.done)}</dd></div>
                <div><dt>"Skipped (already synced)"</dt><dd data-testid="bulk-skipped">{figure(|r| r.skipped)}</dd></div>
                <div><dt>"Failed"</dt><dd data-testid="bulk-failed">{figure(|r| r.failed)}</dd></div>
                <div><dt>"Cancelled"</dt><dd data-testid="bulk-cancelled">{figure(|r| r.cancelled)}</dd></div>
                <div><dt>"Remaining"</dt><dd data-testid="bulk-remaining">{figure(|r| r.remaining)}</dd></div>
                <div><dt>"Total"</dt><dd data-testid="bulk-total">{figure(|r| r.total)}</dd></div>
            </dl>
            {move || problem.get().map(|e| view! { <p class="error">"The progress could not be refreshed: "{e}</p> })}
            {move || running.get().then(|| view! {
                <ActionForm action=cancel>
                    <input type="hidden" name="id" value=id/>
                    <p class="hint" id="bulk-cancel-hint">"Cancelling leaves out the orders not yet started; those being sent finish."</p>
                    <button type="submit" aria-describedby="bulk-cancel-hint" disabled=move || cancel.pending().get()>"Cancel"</button>
                </ActionForm>
            })}
            {move || cancel_error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            {move || finished_with_failures.get().then(|| view! {
                <p><a href=format!("{LOG_PATH}#problems-heading")>"See what failed, and retry it"</a></p>
            })}
        </section>
    }
}

/// Where the run stands, in one sentence (read out when it changes).
fn state_sentence(run: &BulkView) -> String {
    match run.state.as_str() {
        "running" => "Running: this page follows it.".to_owned(),
        "cancelled" => format!("Cancelled, after {} of {} orders.", run.settled() - run.cancelled, run.total),
        _ if run.failed > 0 => {
            format!("Finished: {} synced, {} skipped, {} failed.", run.done, run.skipped, run.failed)
        }
        _ => format!("Finished: {} synced, {} skipped.", run.done, run.skipped),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(state: &str, done: i64, skipped: i64, failed: i64, cancelled: i64, total: i64) -> BulkView {
        BulkView {
            id: 1,
            description: String::new(),
            resync: false,
            state: state.into(),
            total,
            done,
            skipped,
            failed,
            cancelled,
            remaining: total - done - skipped - failed - cancelled,
            started: String::new(),
            finished: String::new(),
        }
    }

    #[test]
    fn the_state_says_what_came_of_the_run() {
        assert_eq!(state_sentence(&run("finished", 8, 2, 0, 0, 10)), "Finished: 8 synced, 2 skipped.");
        assert_eq!(state_sentence(&run("finished", 7, 2, 1, 0, 10)), "Finished: 7 synced, 2 skipped, 1 failed.");
        assert_eq!(state_sentence(&run("cancelled", 3, 1, 0, 6, 10)), "Cancelled, after 4 of 10 orders.");
    }

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
