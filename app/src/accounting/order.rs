//! An order's accounting, on the order's page: its invoice and credit notes and where
//! each is, "Sync now", and the order's latest requests to the ledger.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{DocumentLine, DocumentStateBadge, kind_label};
use crate::{error::PanelError, filters::Paged, forms::action_error};

/// Requests shown on the order's page; the log page has them all.
#[cfg(feature = "ssr")]
const TIMELINE_ENTRIES: i64 = 20;

/// One request to the ledger about the order, in short.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineLine {
    pub at: String,
    pub operation: String,
    /// The HTTP status; `None` when no answer came.
    pub status: Option<i64>,
    /// What went wrong, in plain words; empty when nothing did.
    pub error: String,
}

/// The order's latest requests to the ledger, newest first.
#[cfg(feature = "ssr")]
pub async fn timeline(db: &backend::db::Db, order_id: i64, tz: chrono_tz::Tz) -> Result<Vec<TimelineLine>, PanelError> {
    Ok(backend::accounting::log::entries(db, Some(order_id), false, None, TIMELINE_ENTRIES)
        .await?
        .into_iter()
        .map(|e| TimelineLine {
            at: backend::clock::format_local(e.created_at, tz, "%Y-%m-%d %H:%M:%S"),
            operation: e.operation,
            status: e.status,
            error: e.error.unwrap_or_default(),
        })
        .collect())
}

/// Queues the order's invoice for the ledger (`resync`: send one already there again, as
/// an update); answers what came of it, for the page's status line.
///
/// Fails when accounting is not set up.
#[server(endpoint = "sync_order_to_accounting")]
pub async fn sync_order_to_accounting(id: i64, resync: Option<String>) -> Result<String, PanelError> {
    let me = super::ssr::acting().await?;
    let queued =
        backend::accounting::sync_order(&me.ctx.db, &me.user, None, me.ip.as_deref(), id, resync.is_some()).await?;
    Ok(super::log::ssr::queued_words(queued, "invoice"))
}

/// The order's part: its documents for everyone; "Sync now" and the requests for those
/// who manage orders (`can_sync`).
#[component]
pub fn OrderAccounting(
    order_id: i64,
    documents: Vec<DocumentLine>,
    timeline: Vec<TimelineLine>,
    can_sync: bool,
    sync: ServerAction<SyncOrderToAccounting>,
) -> impl IntoView {
    view! {
        <section aria-labelledby="accounting-heading">
            <h2 id="accounting-heading">"Accounting"</h2>
            {if documents.is_empty() {
                view! { <p class="card muted">"Not sent to the ledger."</p> }.into_any()
            } else {
                view! { <Documents documents/> }.into_any()
            }}
            {can_sync.then(|| view! {
                <div class="order-columns">
                    <SyncForm order_id sync/>
                    <Timeline order_id timeline/>
                </div>
            })}
        </section>
    }
}

#[component]
fn Documents(documents: Vec<DocumentLine>) -> impl IntoView {
    view! {
        <div class="card table-wrap" tabindex="0" role="region" aria-labelledby="accounting-heading">
            <table data-testid="accounting-documents">
                <thead>
                    <tr>
                        <th scope="col">"Document"</th>
                        <th scope="col">"State"</th>
                        <th scope="col">"Our number"</th>
                        <th scope="col">"Ledger's number"</th>
                        <th scope="col" class="num">"Attempts"</th>
                        <th scope="col">"What went wrong"</th>
                        <th scope="col">"Synced"</th>
                    </tr>
                </thead>
                <tbody>
                    {documents.into_iter().map(|d| view! {
                        <tr>
                            <td>{kind_label(&d.kind).to_owned()}</td>
                            <td><DocumentStateBadge state=d.state/></td>
                            <td class="nowrap">{d.number}</td>
                            <td class="nowrap">{d.remote_number}</td>
                            <td class="num">{d.attempts}</td>
                            <td class="wrap">{d.last_error}</td>
                            <td class="nowrap">{d.synced}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn SyncForm(order_id: i64, sync: ServerAction<SyncOrderToAccounting>) -> impl IntoView {
    let error = action_error(sync);
    view! {
        <section class="card" aria-labelledby="accounting-sync-heading">
            <h3 id="accounting-sync-heading">"Send to the ledger"</h3>
            <ActionForm action=sync>
                <input type="hidden" name="id" value=order_id/>
                <div class="field checkbox">
                    <input id="accounting-resync" name="resync" type="checkbox" value="on" aria-describedby="accounting-resync-hint"/>
                    <label for="accounting-resync">"Resync"</label>
                </div>
                <p class="hint field-hint" id="accounting-resync-hint">"Sends an invoice already in the ledger again, as an update: never a second invoice."</p>
                {move || error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                <button type="submit" disabled=move || sync.pending().get()>"Sync now"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn Timeline(order_id: i64, timeline: Vec<TimelineLine>) -> impl IntoView {
    let full_log = super::log::LogQuery { order: order_id.to_string(), ..Default::default() }.href();
    view! {
        <section class="card" aria-labelledby="accounting-timeline-heading">
            <h3 id="accounting-timeline-heading">"Requests to the ledger"</h3>
            {if timeline.is_empty() {
                view! { <p class="muted">"None yet."</p> }.into_any()
            } else {
                view! {
                    <ol class="accounting-timeline" data-testid="accounting-timeline">
                        {timeline.into_iter().map(|t| {
                            let status = t.status.map_or_else(|| "no answer".to_owned(), |s| s.to_string());
                            let failed = !t.error.is_empty();
                            view! {
                                <li>
                                    <span class="nowrap muted">{t.at}</span>" "
                                    <strong>{t.operation}</strong>" "
                                    <span class=if failed { "badge log-status failed" } else { "badge log-status" }>{status}</span>
                                    {failed.then(|| view! { <span class="error">" "{t.error}</span> })}
                                </li>
                            }
                        }).collect_view()}
                    </ol>
                }.into_any()
            }}
            <p><a href=full_log>"The order's full request log"</a></p>
        </section>
    }
}
