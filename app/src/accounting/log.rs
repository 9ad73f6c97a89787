//! The accounting errors and log page, for people who manage orders: the documents that
//! need a person (failed, dead, to enter by hand) with a retry for each and for all,
//! the latest bulk syncs, and the request log — every request to the ledger and its
//! answer, filtered by order and to errors, newest first, a page at a time. The log's
//! filters and page live in the address.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::params::ParamsMap;
use serde::{Deserialize, Serialize};

use super::{
    BulkStateBadge, BulkView, DocumentLine, DocumentStateBadge, LOG_PATH, SETTINGS_PATH, bulk_href, kind_label,
};
use crate::{
    error::PanelError,
    filters::{FilterButtons, Paged, Pager, QueryForm, use_listing_query},
    forms::action_error,
    loaded::{DataTable, LoadedLatest},
};

/// The log's filters and page as the address gives them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LogQuery {
    /// An order's id, or empty for every order.
    pub order: String,
    /// Not empty: only the requests that went wrong.
    pub errors: String,
    /// The id this page's entries are older than; empty on the first page.
    pub cursor: String,
    /// The pages between the first and this one, for "Newer" (see [`Paged`]).
    pub prev: String,
}

impl LogQuery {
    pub fn from_params(params: &ParamsMap) -> LogQuery {
        let get = |key| params.get(key).unwrap_or_default();
        LogQuery { order: get("order"), errors: get("errors"), cursor: get("cursor"), prev: get("prev") }
    }

    pub fn errors_only(&self) -> bool {
        !self.errors.trim().is_empty()
    }
}

impl Paged for LogQuery {
    const PATH: &'static str = LOG_PATH;
    fn filters(&self) -> Vec<(&'static str, &str)> {
        vec![("order", self.order.as_str()), ("errors", self.errors.as_str())]
    }
    fn page(&self) -> (&str, &str) {
        (&self.cursor, &self.prev)
    }
    fn at(&self, cursor: String, prev: String) -> LogQuery {
        LogQuery { cursor, prev, ..self.clone() }
    }
}

/// One request to the ledger and its answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    pub id: i64,
    pub at: String,
    pub order_id: Option<i64>,
    /// `invoice.create`, `customer.find`, …
    pub operation: String,
    pub method: String,
    pub url: String,
    /// The HTTP status; `None` when no answer came.
    pub status: Option<i64>,
    pub duration_ms: i64,
    /// Laid out for reading when it is JSON; empty when there was none.
    pub request: String,
    pub response: String,
    /// What went wrong, in plain words; empty when nothing did.
    pub error: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogView {
    pub entries: Vec<LogLine>,
    /// Where the page of older entries starts; absent on the last.
    pub older: Option<String>,
    pub time_zone: String,
}

/// What needs a person, and the latest bulk syncs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    pub problems: Vec<DocumentLine>,
    pub bulk_runs: Vec<BulkView>,
    /// Whether the person may change the settings (the page then links to them).
    pub can_configure: bool,
    pub time_zone: String,
}

/// The page's reading on the server: its limits, the query's ids, the backend's entries
/// as lines.
#[cfg(feature = "ssr")]
pub(super) mod ssr {
    use super::{LogLine, LogQuery};
    use crate::error::PanelError;

    /// Documents that need a person, at most.
    pub(super) const MAX_PROBLEMS: i64 = 100;
    /// Log entries per page.
    pub(super) const LOG_PAGE: i64 = 50;
    /// Bulk syncs listed.
    pub(super) const RECENT_BULK_SYNCS: i64 = 10;

    impl LogQuery {
        /// The order and the entry the page starts before.
        ///
        /// Fails, saying which, when the order or the page is not an id.
        pub(super) fn ids(&self) -> Result<(Option<i64>, Option<i64>), PanelError> {
            let id = |text: &str, says: &str| match text.trim().trim_start_matches('#') {
                "" => Ok(None),
                id => id
                    .parse::<i64>()
                    .ok()
                    .filter(|id| *id > 0)
                    .map(Some)
                    .ok_or_else(|| PanelError::Message(says.to_owned())),
            };
            Ok((
                id(&self.order, "the order must be an order ID such as 1042")?,
                id(&self.cursor, "this page of the log does not exist")?,
            ))
        }
    }

    impl LogLine {
        pub fn new(e: backend::accounting::log::LogEntry, tz: chrono_tz::Tz) -> LogLine {
            LogLine {
                id: e.id,
                at: backend::clock::format_local(e.created_at, tz, "%Y-%m-%d %H:%M:%S"),
                order_id: e.order_id,
                operation: e.operation,
                method: e.method,
                url: e.url,
                status: e.status,
                duration_ms: e.duration_ms,
                request: e.request.map(readable_json).unwrap_or_default(),
                response: e.response.map(readable_json).unwrap_or_default(),
                error: e.error.unwrap_or_default(),
            }
        }
    }

    /// JSON laid out over lines; anything else as it is.
    fn readable_json(text: String) -> String {
        serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|value| serde_json::to_string_pretty(&value).ok())
            .unwrap_or(text)
    }

    /// What queueing a document again came to, in words.
    pub(in crate::accounting) fn queued_words(queued: backend::accounting::Queued, what: &str) -> String {
        use backend::accounting::Queued;
        match queued {
            Queued::Queued => format!("The {what} is queued; it is sent in a moment."),
            Queued::AlreadySynced => format!("The {what} is already in the ledger."),
            Queued::AlreadyQueued => format!("The {what} is already waiting to be sent."),
        }
    }
}

#[server(endpoint = "accounting_overview")]
pub async fn accounting_overview() -> Result<Overview, PanelError> {
    use backend::accounting::{self, bulk};
    let me = super::ssr::acting().await?;
    let db = &me.ctx.db;
    let store = backend::settings::get(db).await?;
    let tz = store.tz();
    Ok(Overview {
        problems: accounting::problems(db, ssr::MAX_PROBLEMS)
            .await?
            .into_iter()
            .map(|d| DocumentLine::new(d, tz))
            .collect(),
        bulk_runs: bulk::recent(db, ssr::RECENT_BULK_SYNCS)
            .await?
            .into_iter()
            .map(|run| BulkView::new(run, tz))
            .collect(),
        can_configure: me.user.role.manages_store(),
        time_zone: store.time_zone,
    })
}

/// One page of the request log matching `query`, newest first.
#[server(endpoint = "accounting_log")]
pub async fn accounting_log(query: LogQuery) -> Result<LogView, PanelError> {
    let me = super::ssr::acting().await?;
    let db = &me.ctx.db;
    let (order_id, before) = query.ids()?;
    let store = backend::settings::get(db).await?;
    let tz = store.tz();
    use backend::paging;
    let entries = backend::accounting::log::entries(
        db,
        order_id,
        query.errors_only(),
        before,
        paging::rows_to_read(ssr::LOG_PAGE),
    )
    .await?;
    let page = paging::cut(entries, ssr::LOG_PAGE, |last| last.id.to_string());
    Ok(LogView {
        entries: page.rows.into_iter().map(|e| LogLine::new(e, tz)).collect(),
        older: page.next_cursor,
        time_zone: store.time_zone,
    })
}

/// Tries a failed, dead or manual document again now.
#[server(endpoint = "retry_accounting_document")]
pub async fn retry_accounting_document(document_id: i64) -> Result<String, PanelError> {
    let me = super::ssr::acting().await?;
    let queued = backend::accounting::retry(&me.ctx.db, &me.user, me.ip.as_deref(), document_id).await?;
    Ok(ssr::queued_words(queued, "document"))
}

/// Tries every failed and dead document again.
#[server(endpoint = "retry_all_accounting_documents")]
pub async fn retry_all_accounting_documents() -> Result<String, PanelError> {
    let me = super::ssr::acting().await?;
    Ok(match backend::accounting::retry_all(&me.ctx.db, &me.user, me.ip.as_deref()).await? {
        0 => "Nothing was waiting to be retried.".to_owned(),
        1 => "1 document is queued again.".to_owned(),
        n => format!("{n} documents are queued again."),
    })
}

#[component]
pub fn AccountingLogPage() -> impl IntoView {
    let retry = ServerAction::<RetryAccountingDocument>::new();
    let retry_all = ServerAction::<RetryAllAccountingDocuments>::new();
    let query = use_listing_query(LOG_PATH, LogQuery::from_params);
    let overview =
        crate::loaded::load(move || (retry.version().get(), retry_all.version().get()), |_| accounting_overview());
    let log = crate::loaded::load(
        move || (query.get(), retry.version().get(), retry_all.version().get()),
        |(query, _, _)| accounting_log(query),
    );
    // The latest answer of either retry, for the status line.
    let retried = RwSignal::new(String::new());
    Effect::new(move |_| {
        if let Some(Ok(message)) = retry.value().get() {
            retried.set(message);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(message)) = retry_all.value().get() {
            retried.set(message);
        }
    });
    view! {
        <Title text="Accounting errors and log · Backroom"/>
        <h1>"Accounting errors and log"</h1>
        <LoadedLatest resource=overview show=move |o: Overview| view! {
            <p class="muted">
                "Times in "{o.time_zone.clone()}". "
                {o.can_configure.then(|| view! { <a href=SETTINGS_PATH>"Accounting settings"</a> })}
            </p>
            <Problems problems=o.problems retry retry_all retried/>
            <BulkRuns runs=o.bulk_runs/>
            <RequestLog query log/>
        }/>
    }
}

/// The documents that need a person, each with a retry, and a retry for all.
#[component]
fn Problems(
    problems: Vec<DocumentLine>,
    retry: ServerAction<RetryAccountingDocument>,
    retry_all: ServerAction<RetryAllAccountingDocuments>,
    retried: RwSignal<String>,
) -> impl IntoView {
    let retry_error = action_error(retry);
    let retry_all_error = action_error(retry_all);
    let retryable = problems.iter().any(|d| d.state == "failed" || d.state == "dead");
    view! {
        <section aria-labelledby="problems-heading">
            <h2 id="problems-heading">"Documents that need a person"</h2>
            <p role="status" class="success">{move || retried.get()}</p>
            {move || retry_error().or_else(retry_all_error).map(|e| view! { <p class="error" role="alert">{e}</p> })}
            {if problems.is_empty() {
                view! { <p class="card">"None: every document was sent or is on its way."</p> }.into_any()
            } else {
                view! {
                    {retryable.then(|| view! {
                        <ActionForm action=retry_all>
                            <p><button type="submit" disabled=move || retry_all.pending().get()>"Retry all failed and dead"</button></p>
                        </ActionForm>
                    })}
                    <DataTable headings={&["Order", "Document", "State", "Our number", "Attempts", "What went wrong", "Updated", "Action"]}>
                        {problems.into_iter().map(|d| {
                            let what = format!("{} of order #{}", kind_label(&d.kind).to_lowercase(), d.order_number);
                            view! {
                                <tr>
                                    <td class="nowrap"><a href=format!("/admin/orders/{}", d.order_id)>"#"{d.order_number.clone()}</a></td>
                                    <td>{kind_label(&d.kind).to_owned()}</td>
                                    <td><DocumentStateBadge state=d.state.clone()/></td>
                                    <td class="nowrap">{d.number.clone()}</td>
                                    <td class="num">{d.attempts}</td>
                                    <td class="wrap">{d.last_error.clone()}</td>
                                    <td class="nowrap">{d.updated.clone()}</td>
                                    <td>
                                        <ActionForm action=retry>
                                            <input type="hidden" name="document_id" value=d.id/>
                                            <button type="submit" aria-label=format!("Retry the {what}")>"Retry"</button>
                                        </ActionForm>
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </DataTable>
                }.into_any()
            }}
        </section>
    }
}

/// The latest bulk syncs and how far each got.
#[component]
fn BulkRuns(runs: Vec<BulkView>) -> impl IntoView {
    view! {
        <section aria-labelledby="bulk-heading">
            <h2 id="bulk-heading">"Bulk syncs"</h2>
            {if runs.is_empty() {
                view! { <p class="card">"None yet. Start one from the orders list: select orders, or sync all that match its filters."</p> }.into_any()
            } else {
                view! {
                    <DataTable headings={&["Started", "Orders", "State", "Synced", "Failed", "Finished"]}>
                        {runs.into_iter().map(|run| {
                            let synced = format!("{} of {}", run.done, run.total);
                            view! {
                                <tr>
                                    <td class="nowrap"><a href=bulk_href(run.id)>{run.started.clone()}</a></td>
                                    <td class="wrap">{run.description.clone()}{run.resync.then_some(" (resync)")}</td>
                                    <td><BulkStateBadge state=run.state.clone()/></td>
                                    <td class="num nowrap">{synced}</td>
                                    <td class="num">{run.failed}</td>
                                    <td class="nowrap">{run.finished.clone()}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </DataTable>
                }.into_any()
            }}
        </section>
    }
}

/// The request log with its filters, a page at a time.
#[component]
fn RequestLog(query: Memo<LogQuery>, log: crate::loaded::Load<LogView>) -> impl IntoView {
    let initial = query.get_untracked();
    let errors_only = move || query.with(LogQuery::errors_only);
    view! {
        <section aria-labelledby="log-heading">
            <h2 id="log-heading">"Request log"</h2>
            <p class="muted">"Every request to the ledger and its answer, newest first. Open one to see what was sent and received."</p>
            <div class="card">
                <QueryForm action=LOG_PATH>
                    <div class="filters">
                        <div class="field">
                            <label for="log-order">"Order ID"</label>
                            <input id="log-order" name="order" type="number" min="1" step="1" inputmode="numeric"
                                value=initial.order.clone() prop:value=move || query.with(|q| q.order.clone())/>
                        </div>
                        <div class="field checkbox">
                            <input id="log-errors" name="errors" type="checkbox" value="1" checked=initial.errors_only() prop:checked=errors_only/>
                            <label for="log-errors">"Errors only"</label>
                        </div>
                    </div>
                    <FilterButtons clear=LOG_PATH/>
                </QueryForm>
            </div>
            <LoadedLatest resource=log show=move |page: LogView| view! {
                {if page.entries.is_empty() {
                    view! { <p class="card">"No requests match these filters."</p> }.into_any()
                } else {
                    view! {
                        <ol class="log-entries">
                            {page.entries.into_iter().map(|entry| view! { <LogEntry entry/> }).collect_view()}
                        </ol>
                    }.into_any()
                }}
                <Pager query next=page.older by_age=true/>
            }/>
        </section>
    }
}

#[component]
fn LogEntry(entry: LogLine) -> impl IntoView {
    let failed = !entry.error.is_empty();
    let status = entry.status.map_or_else(|| "no answer".to_owned(), |s| s.to_string());
    let body = |label: &'static str, text: String| {
        view! {
            <p class="log-part">{label}</p>
            {if text.is_empty() {
                view! { <p class="muted">"None."</p> }.into_any()
            } else {
                view! { <pre class="snippet" tabindex="0"><code>{text}</code></pre> }.into_any()
            }}
        }
    };
    view! {
        <li class="card log-entry" class:log-failed=failed>
            <details>
                <summary>
                    <span class="nowrap">{entry.at}</span>" · "
                    <strong>{entry.operation}</strong>" · "
                    <code>{entry.method}" "{entry.url}</code>" · "
                    <span class=if failed { "badge log-status failed" } else { "badge log-status" }>{status}</span>" · "
                    <span class="nowrap">{format!("{} ms", entry.duration_ms)}</span>
                    {entry.order_id.map(|id| view! { " · order "{id} })}
                </summary>
                {body("Request", entry.request)}
                {body("Response", entry.response)}
            </details>
            {failed.then(|| view! { <p class="error log-error">{entry.error}</p> })}
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_pages_back_by_id_and_keeps_its_filters() {
        let first = LogQuery { order: "250".into(), errors: "1".into(), ..LogQuery::default() };
        assert_eq!(first.href(), "/admin/accounting/log?order=250&errors=1");
        let older = first.next_page("479");
        assert_eq!(older.href(), "/admin/accounting/log?order=250&errors=1&cursor=479");
        assert_eq!(older.first_page(), first);
        assert!(older.errors_only());
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn an_order_or_a_page_that_is_not_an_id_is_refused() {
        let ids = |order: &str, cursor: &str| {
            LogQuery { order: order.into(), cursor: cursor.into(), ..LogQuery::default() }.ids()
        };
        assert_eq!(ids(" #1042 ", "479"), Ok((Some(1042), Some(479))));
        assert_eq!(ids("", ""), Ok((None, None)));
        assert!(ids("ORD-7", "").unwrap_err().to_string().contains("order ID"));
        assert!(ids("", "abc").unwrap_err().to_string().contains("page"));
    }
}
