//! A bulk accounting sync's own page: its progress, followed about every second while it
//! runs, and a way to cancel it. The orders list starts a run (`orders::accounting_sync`).

use std::time::Duration;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::{BulkStateBadge, BulkView, LOG_PATH};
use crate::{
    error::PanelError,
    following::{Followed, POLL_EVERY},
    forms::action_error,
    loaded::LoadedRecord,
};

/// The run, or `None` when there is no such run.
#[server(endpoint = "bulk_sync_progress")]
pub async fn bulk_sync_progress(id: i64) -> Result<Option<BulkView>, PanelError> {
    let me = super::ssr::acting().await?;
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
    let me = super::ssr::acting().await?;
    backend::accounting::bulk::cancel(&me.ctx.db, &me.user, me.ip.as_deref(), id).await?;
    Ok(())
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
}
