//! The ticket inbox: the most recently active tickets first, filtered by status, assignee
//! and a search, a page at a time. Filters and the page's cursor live in the address, so
//! a reload or a shared link shows the same page.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::params::ParamsMap;
use serde::{Deserialize, Serialize};
use vocabulary::support::MAX_SEARCH_CHARS;

use super::{Agent, INBOX_PATH, StatusBadge, statuses, support_agents};
use crate::{
    error::PanelError,
    filters::{FilterButtons, Paged, Pager, QueryForm, use_listing_query},
    loaded::LoadedLatest,
};

/// Tickets per page.
pub const PAGE_SIZE: i64 = 25;

/// The filters and the page as the address gives them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct InboxQuery {
    /// Empty (every status) or `open`, `pending`, `resolved`, `closed`.
    pub status: String,
    /// Empty (anyone), `me`, `none` (unassigned) or a user's id.
    pub assignee: String,
    /// A reference (`T-…`), an order number, an email, or words of the subject or name.
    pub search: String,
    /// Where this page starts: the previous page's cursor; empty on the first page.
    pub cursor: String,
    /// The cursors of the pages between the first and this one, oldest first and
    /// dot-separated (cursors are base64url, without dots), for "Previous page".
    pub prev: String,
}

impl InboxQuery {
    pub fn from_params(params: &ParamsMap) -> InboxQuery {
        let get = |key| params.get(key).unwrap_or_default();
        InboxQuery {
            status: get("status"),
            assignee: get("assignee"),
            search: get("search"),
            cursor: get("cursor"),
            prev: get("prev"),
        }
    }

    /// Whether any filter is set (the empty inbox then says so differently).
    pub fn filtered(&self) -> bool {
        ![&self.status, &self.assignee, &self.search].iter().all(|v| v.trim().is_empty())
    }

    /// The backend's filter for one page; `me` is the signed-in user's id.
    ///
    /// Fails, saying what is wrong, on an unknown status or an assignee that is not a
    /// user's id; the backend itself refuses a long search or a broken cursor.
    #[cfg(feature = "ssr")]
    pub fn filter(&self, me: i64) -> Result<backend::support::tickets::Filter, PanelError> {
        use crate::filters::filled;
        let status = match self.status.trim() {
            "" | "all" => None,
            status => Some(status.parse()?),
        };
        let assignee =
            match self.assignee.trim() {
                "" | "anyone" => None,
                "me" => Some(Some(me)),
                "none" => Some(None),
                id => Some(Some(id.parse::<i64>().map_err(|_| {
                    PanelError::Message("the assignee must be anyone, me, unassigned or a user".into())
                })?)),
            };
        Ok(backend::support::tickets::Filter {
            status,
            assignee,
            search: filled(&self.search),
            per_page: PAGE_SIZE,
            cursor: filled(&self.cursor),
        })
    }
}

impl Paged for InboxQuery {
    const PATH: &'static str = INBOX_PATH;
    fn filters(&self) -> Vec<(&'static str, &str)> {
        vec![("status", self.status.as_str()), ("assignee", self.assignee.as_str()), ("search", self.search.as_str())]
    }
    fn page(&self) -> (&str, &str) {
        (&self.cursor, &self.prev)
    }
    fn at(&self, cursor: String, prev: String) -> InboxQuery {
        InboxQuery { cursor, prev, ..self.clone() }
    }
}

/// One ticket as the inbox shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketLine {
    pub id: i64,
    pub reference: String,
    pub subject: String,
    pub customer_name: String,
    pub customer_email: String,
    pub order_id: Option<i64>,
    pub order_number: Option<String>,
    pub status: String,
    pub assignee: Option<String>,
    pub unread: bool,
    pub last_activity: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxView {
    pub rows: Vec<TicketLine>,
    /// Where the next page starts; absent on the last.
    pub next_cursor: Option<String>,
    pub time_zone: String,
    /// Whether the person may change the support form's settings.
    pub can_configure: bool,
}

/// One page of the tickets matching `query`.
#[server(endpoint = "list_tickets")]
pub async fn list_tickets(query: InboxQuery) -> Result<InboxView, PanelError> {
    use backend::support::tickets;
    let ctx = crate::context::services()?;
    let me = crate::context::require_user().await?;
    let store = backend::settings::get(&ctx.db).await?;
    let tz = store.tz();
    let page = tickets::list(&ctx.db, &ctx.hasher, &query.filter(me.id)?).await?;
    Ok(InboxView {
        rows: page
            .rows
            .into_iter()
            .map(|t| TicketLine {
                id: t.id,
                reference: t.reference,
                subject: t.subject,
                customer_name: t.customer_name,
                customer_email: t.customer_email,
                order_id: t.order_id,
                order_number: t.order_number,
                status: t.status.as_str().to_owned(),
                assignee: t.assignee_name,
                unread: t.unread,
                last_activity: backend::clock::local_minute(t.updated_at, tz),
            })
            .collect(),
        next_cursor: page.next_cursor,
        time_zone: store.time_zone,
        can_configure: me.role.manages_store(),
    })
}

#[component]
pub fn InboxPage() -> impl IntoView {
    // Leaving for a ticket changes the address before this page goes: that address's
    // query is not this inbox's, and must not fetch it.
    let query = use_listing_query(INBOX_PATH, InboxQuery::from_params);
    let tickets = crate::loaded::load(move || query.get(), list_tickets);
    view! {
        <Title text="Support · Backroom"/>
        <h1>"Support"</h1>
        <p class="muted">"Customers’ questions about their orders, the most recently active first."</p>
        <InboxFilters query/>
        <LoadedLatest resource=tickets show=move |page: InboxView| view! { <TicketsTable page query/> }/>
    }
}

#[component]
fn TicketsTable(page: InboxView, query: Memo<InboxQuery>) -> impl IntoView {
    let count = page.rows.len();
    let unread = page.rows.iter().filter(|r| r.unread).count();
    let shown = match count {
        1 => "1 ticket on this page".to_owned(),
        n => format!("{n} tickets on this page"),
    };
    let shown = if unread == 0 { format!("{shown}.") } else { format!("{shown}, {unread} unread.") };
    let empty = if query.with_untracked(InboxQuery::filtered) {
        "No tickets match these filters."
    } else {
        "No tickets yet. When a customer writes through the support form, the ticket appears here."
    };
    let next = page.next_cursor.clone();
    view! {
        {page.can_configure.then(|| view! {
            <p class="support-settings-link"><a href=format!("{INBOX_PATH}/settings")>"Support form settings"</a></p>
        })}
        {if count == 0 {
            view! { <p class="card" role="status">{empty}</p> }.into_any()
        } else {
            view! {
                <p class="muted"><span role="status">{shown}</span>" Times in "{page.time_zone.clone()}"."</p>
                <div class="card table-wrap" tabindex="0" role="region" aria-label="Tickets">
                    <table class="tickets-table">
                        <thead>
                            <tr>
                                <th scope="col">"Ticket"</th>
                                <th scope="col">"Subject"</th>
                                <th scope="col">"Customer"</th>
                                <th scope="col">"Order"</th>
                                <th scope="col">"Status"</th>
                                <th scope="col">"Assignee"</th>
                                <th scope="col">"Last activity"</th>
                            </tr>
                        </thead>
                        <tbody id="tickets-rows">
                            {page.rows.into_iter().map(ticket_row).collect_view()}
                        </tbody>
                    </table>
                </div>
            }.into_any()
        }}
        <Pager query next/>
    }
}

fn ticket_row(t: TicketLine) -> impl IntoView {
    view! {
        <tr data-id=t.id class:unread=t.unread>
            <td class="nowrap"><code>{t.reference}</code></td>
            <td class="wrap">
                <a href=format!("{INBOX_PATH}/{}", t.id)>{t.subject}</a>
                {t.unread.then(|| view! { " " <span class="badge unread-marker">"Unread"</span> })}
            </td>
            <td>{t.customer_name}<br/><span class="muted">{t.customer_email}</span></td>
            <td class="nowrap">{match (t.order_id, t.order_number) {
                (Some(id), Some(number)) => view! { <a href=format!("/admin/orders/{id}")>"#"{number}</a> }.into_any(),
                _ => view! { <span class="muted">"—"</span> }.into_any(),
            }}</td>
            <td><StatusBadge status=t.status/></td>
            <td>{match t.assignee {
                Some(name) => view! { <span>{name}</span> }.into_any(),
                None => view! { <span class="muted">"Unassigned"</span> }.into_any(),
            }}</td>
            <td class="nowrap">{t.last_activity}</td>
        </tr>
    }
}

/// The filter form: its fields become the page's address (a new filter starts again from
/// the first page).
#[component]
fn InboxFilters(query: Memo<InboxQuery>) -> impl IntoView {
    // The fields follow the address (a link or the back button changes it), and start
    // from it in the server-rendered page.
    let initial = query.get_untracked();
    let agents = crate::loaded::load(|| (), |_| support_agents());
    let statuses = [("", "All")].into_iter().chain(statuses());
    view! {
        <div class="card">
            <QueryForm action=INBOX_PATH>
                <div class="filters">
                    <div class="field">
                        <label for="tickets-status">"Status"</label>
                        <select id="tickets-status" name="status">
                            {statuses.map(|(value, label)| view! {
                                <option value=value selected=initial.status == value
                                    prop:selected=move || query.with(|q| q.status == value)>{label}</option>
                            }).collect_view()}
                        </select>
                    </div>
                    <div class="field">
                        <label for="tickets-assignee">"Assignee"</label>
                        // The users arrive after the page; until then the choices every
                        // inbox has.
                        <Suspense fallback=move || view! { <AssigneeSelect query agents=Vec::new()/> }>
                            {move || Suspend::new(async move {
                                view! { <AssigneeSelect query agents=agents.await.unwrap_or_default()/> }
                            })}
                        </Suspense>
                    </div>
                    <div class="field">
                        <label for="tickets-search">"Search"</label>
                        <input id="tickets-search" name="search" type="search" maxlength=MAX_SEARCH_CHARS.to_string()
                            aria-describedby="tickets-search-hint" value=initial.search.clone()
                            prop:value=move || query.with(|q| q.search.clone())/>
                        <p class="hint" id="tickets-search-hint">"A reference (T-…), an order number, an email, or words of the subject or name."</p>
                    </div>
                </div>
                <FilterButtons clear=INBOX_PATH/>
            </QueryForm>
        </div>
    }
}

#[component]
fn AssigneeSelect(query: Memo<InboxQuery>, agents: Vec<Agent>) -> impl IntoView {
    let fixed = [("", "Anyone"), ("me", "Me"), ("none", "Unassigned")]
        .map(|(value, label)| (value.to_owned(), label.to_owned()));
    let choices = fixed.into_iter().chain(agents.into_iter().map(|a| (a.id.to_string(), a.name)));
    let initial = query.get_untracked().assignee;
    view! {
        <select id="tickets-assignee" name="assignee">
            {choices.map(|(value, label)| {
                let chosen = value.clone();
                view! {
                    <option value=value.clone() selected=initial == value
                        prop:selected=move || query.with(|q| q.assignee == chosen)>{label}</option>
                }
            }).collect_view()}
        </select>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(status: &str, assignee: &str, search: &str) -> InboxQuery {
        InboxQuery { status: status.into(), assignee: assignee.into(), search: search.into(), ..InboxQuery::default() }
    }

    #[test]
    fn an_address_carries_only_what_is_set() {
        assert_eq!(InboxQuery::default().href(), "/admin/support");
        assert_eq!(query("open", "", "Ayşe & co").href(), "/admin/support?status=open&search=Ay%C5%9Fe%20%26%20co");
    }

    #[test]
    fn a_new_page_keeps_the_filters() {
        let first = query("", "me", "");
        let third = first.next_page("c1").next_page("c2");
        assert_eq!(third.href(), "/admin/support?assignee=me&cursor=c2&prev=c1");
        assert_eq!(third.first_page(), first);
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn the_filters_become_the_backends() {
        let filter = query("pending", "me", "  T-7kq3m9 ").filter(42).unwrap();
        assert_eq!(filter.status, Some(backend::support::TicketStatus::Pending));
        assert_eq!(filter.assignee, Some(Some(42)));
        assert_eq!(filter.search.as_deref(), Some("T-7kq3m9"));
        assert_eq!(query("", "none", "").filter(1).unwrap().assignee, Some(None));
        assert_eq!(query("", "7", "").filter(1).unwrap().assignee, Some(Some(7)));
        assert_eq!(query("", "", "").filter(1).unwrap().assignee, None);
        assert!(query("waiting", "", "").filter(1).is_err());
        assert!(query("", "someone", "").filter(1).unwrap_err().to_string().contains("assignee"));
    }
}
