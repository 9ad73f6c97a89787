//! The audit log page: events newest first, filtered by actor, action, outcome and dates
//! (kept in the address, so a reload or a shared link shows the same), paged backwards,
//! and exported as CSV with the same filters.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{hooks::use_location, params::ParamsMap};
use serde::{Deserialize, Serialize};
use vocabulary::audit::{MAX_FILTER_CHARS, Outcome};

use crate::{
    error::PanelError,
    filters::{DayFields, FilterButtons, QueryForm, use_listing_query, with_query},
    loaded::{DataTable, Loaded},
};

pub const AUDIT_PATH: &str = "/admin/audit";

/// Entries per page.
pub const PAGE_SIZE: i64 = 100;

/// The filters as typed: the page's address query, the CSV link's, and the form's fields.
/// Dates are `YYYY-MM-DD` days in the shop's time zone, both inclusive.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditQuery {
    pub actor: String,
    pub action: String,
    /// Empty, `success`, `failure` or `denied`.
    pub outcome: String,
    pub from: String,
    pub to: String,
}

impl AuditQuery {
    pub fn from_params(params: &ParamsMap) -> AuditQuery {
        let get = |key| params.get(key).unwrap_or_default();
        AuditQuery {
            actor: get("actor"),
            action: get("action"),
            outcome: get("outcome"),
            from: get("from"),
            to: get("to"),
        }
    }

    /// The backend's filter, with the days turned into instants in the shop's time zone.
    ///
    /// Fails, saying which field, on a malformed day, a "from" after the "to", or an
    /// outcome the form does not offer.
    #[cfg(feature = "ssr")]
    pub fn filter(&self, tz: chrono_tz::Tz) -> Result<backend::audit::Filter, PanelError> {
        use backend::audit::Filter;

        use crate::filters::filled;
        let outcome = Some(self.outcome.trim()).filter(|o| !o.is_empty()).map(str::parse::<Outcome>).transpose()?;
        let (from, to) = backend::days::instants(&self.from, &self.to, tz)?;
        Ok(Filter { actor: filled(&self.actor), action: filled(&self.action), outcome, from, to, before_id: None })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub credential: String,
    pub action: String,
    pub target: String,
    pub ip: String,
    pub user_agent: String,
    pub outcome: String,
    pub details: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditResults {
    pub rows: Vec<AuditRow>,
    /// Whether older entries match too.
    pub more: bool,
    pub time_zone: String,
}

/// One page of entries matching `filters`, older than entry `before_id` when given.
#[server(endpoint = "search_audit")]
pub async fn search_audit(filters: AuditQuery, before_id: Option<i64>) -> Result<AuditResults, PanelError> {
    let ctx = crate::context::services()?;
    let me = crate::context::require_role(backend::audit::may_read).await?;
    let store = backend::settings::get(&ctx.db).await?;
    let tz = store.tz();
    let filter = backend::audit::Filter { before_id, ..filters.filter(tz)? };
    use backend::paging;
    let entries = backend::audit::search(&ctx.db, &me, &filter, paging::rows_to_read(PAGE_SIZE)).await?;
    let page = paging::cut(entries, PAGE_SIZE, |last| last.id.to_string());
    let more = page.next_cursor.is_some();
    Ok(AuditResults {
        rows: page
            .rows
            .into_iter()
            .map(|e| AuditRow {
                id: e.id,
                at: backend::clock::format_local(e.at, tz, "%Y-%m-%d %H:%M:%S"),
                actor: e.actor,
                credential: e.credential.unwrap_or_default(),
                action: e.action,
                target: e.target,
                ip: e.ip.unwrap_or_default(),
                user_agent: e.user_agent.unwrap_or_default(),
                outcome: e.outcome,
                details: e.details,
            })
            .collect(),
        more,
        time_zone: store.time_zone,
    })
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let location = use_location();
    let query = use_listing_query(AUDIT_PATH, AuditQuery::from_params);
    let first = crate::loaded::load(move || query.get(), |filters| search_audit(filters, None));
    // Older pages, appended below the first; forgotten when the filters change.
    let older = RwSignal::new(Vec::<AuditRow>::new());
    let older_more = RwSignal::new(None::<bool>);
    let load_older = Action::new(move |before_id: &i64| {
        let (filters, before_id) = (query.get_untracked(), *before_id);
        async move { (filters.clone(), search_audit(filters, Some(before_id)).await) }
    });
    Effect::new(move |_| {
        query.track();
        older.set(Vec::new());
        older_more.set(None);
    });
    Effect::new(move |_| {
        if let Some((filters, Ok(page))) = load_older.value().get()
            // A page asked for under filters since changed is not this list's.
            && filters == query.get_untracked()
        {
            older.update(|rows| rows.extend(page.rows));
            older_more.set(Some(page.more));
        }
    });
    let older_error = move || load_older.value().get().and_then(|(_, result)| result.err()).map(|e| e.to_string());
    let csv_href = move || with_query("/admin/audit.csv", location.search.get().trim_start_matches('?'));
    view! {
        <Title text="Audit log · Backroom"/>
        <h1>"Audit log"</h1>
        <p class="muted">"Every sign-in, every change and every refused API request, newest first."</p>
        <AuditFilters query/>
        <p><a class="button" href=csv_href rel="external" download="backroom-audit.csv">"Export CSV"</a>
            <span class="hint">" (the entries matching these filters, up to 10,000)"</span></p>
        <Loaded resource=first show={move |page: AuditResults| {
            let last_first_page_id = page.rows.last().map(|r| r.id);
            let more = move || older_more.get().unwrap_or(page.more);
            let before_id = move || older.with(|rows| rows.last().map(|r| r.id)).or(last_first_page_id);
            view! {
                <p class="muted">"Times in " {page.time_zone.clone()} "."</p>
                {if page.rows.is_empty() {
                    view! { <p class="card">"No entries match these filters."</p> }.into_any()
                } else {
                    view! {
                        <DataTable headings={&["When", "Who", "Credential", "What", "Target", "From", "User agent", "Outcome", "Details"]}>
                            {page.rows.into_iter().map(audit_row).collect_view()}
                            {move || older.get().into_iter().map(audit_row).collect_view()}
                        </DataTable>
                    }.into_any()
                }}
                {move || older_error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                {move || more().then(|| view! {
                    <button type="button" disabled=move || load_older.pending().get()
                        on:click=move |_| if let Some(id) = before_id() { load_older.dispatch(id); }>
                        "Load older"
                    </button>
                })}
            }
        }}/>
    }
}

fn audit_row(e: AuditRow) -> impl IntoView {
    view! {
        <tr>
            <td class="nowrap">{e.at}</td>
            <td>{e.actor}</td>
            <td>{e.credential}</td>
            <td>{e.action}</td>
            <td>{e.target}</td>
            <td>{e.ip}</td>
            <td class="wrap">{e.user_agent}</td>
            <td><span class=format!("badge outcome-{}", e.outcome)>{e.outcome.clone()}</span></td>
            <td class="wrap wide">{e.details}</td>
        </tr>
    }
}

/// The filter form: its fields become the page's address.
#[component]
fn AuditFilters(query: Memo<AuditQuery>) -> impl IntoView {
    // The fields follow the address (a link or the back button changes it), and start
    // from it in the server-rendered page.
    let initial = query.get_untracked();
    let field = move |pick: fn(&AuditQuery) -> String| move || query.with(pick);
    view! {
        <div class="card">
            <QueryForm action=AUDIT_PATH>
                <div class="filters">
                    <div class="field">
                        <label for="audit-actor">"Actor contains"</label>
                        <input id="audit-actor" name="actor" type="search" maxlength=MAX_FILTER_CHARS.to_string() value=initial.actor.clone() prop:value=field(|q| q.actor.clone())/>
                    </div>
                    <div class="field">
                        <label for="audit-action">"Action starts with"</label>
                        <input id="audit-action" name="action" type="search" maxlength=MAX_FILTER_CHARS.to_string() placeholder="key." value=initial.action.clone() prop:value=field(|q| q.action.clone())/>
                    </div>
                    <div class="field">
                        <label for="audit-outcome">"Outcome"</label>
                        <select id="audit-outcome" name="outcome" prop:value=field(|q| q.outcome.clone())>
                            {[("", "Any")]
                                .into_iter()
                                .chain(Outcome::ALL.map(|o| (o.as_str(), o.label())))
                                .map(|(value, label)| view! { <option value=value selected=initial.outcome == value>{label}</option> })
                                .collect_view()}
                        </select>
                    </div>
                    <DayFields prefix="audit" from=Signal::derive(field(|q| q.from.clone())) to=Signal::derive(field(|q| q.to.clone()))/>
                </div>
                <FilterButtons clear=AUDIT_PATH/>
            </QueryForm>
        </div>
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::AuditQuery;

    fn query(from: &str, to: &str) -> AuditQuery {
        AuditQuery { from: from.into(), to: to.into(), ..AuditQuery::default() }
    }

    #[test]
    fn dates_are_whole_days_in_the_shops_time_zone() {
        let filter = query("2025-03-01", "2025-03-01").filter(chrono_tz::Europe::Istanbul).unwrap();
        // Istanbul is UTC+3: the day runs from 21:00 UTC the day before, for 24 hours.
        assert_eq!(filter.from, Some(1_740_776_400));
        assert_eq!(filter.to, Some(1_740_776_400 + 86_400));
    }

    #[test]
    fn a_day_whose_midnight_is_skipped_starts_at_the_first_hour_that_exists() {
        // Havana moved its clocks from 00:00 to 01:00 on 2023-03-12.
        let filter = query("2023-03-12", "").filter(chrono_tz::America::Havana).unwrap();
        assert_eq!(filter.from, Some(1_678_597_200));
    }

    #[test]
    fn empty_fields_filter_nothing_and_bad_ones_are_named() {
        let filter = AuditQuery { actor: "  ".into(), outcome: "".into(), ..AuditQuery::default() }
            .filter(chrono_tz::UTC)
            .unwrap();
        assert_eq!(filter, backend::audit::Filter::default());
        let denied = AuditQuery { outcome: "denied".into(), action: "key.".into(), ..AuditQuery::default() };
        let filter = denied.filter(chrono_tz::UTC).unwrap();
        assert_eq!((filter.outcome, filter.action.as_deref()), (Some(backend::audit::Outcome::Denied), Some("key.")));
        for (bad, says) in
            [(query("31.01.2025", ""), "from must be a day"), (query("2025-02-01", "2025-01-01"), "after")]
        {
            assert!(bad.filter(chrono_tz::UTC).unwrap_err().to_string().contains(says), "{bad:?}");
        }
        let odd = AuditQuery { outcome: "maybe".into(), ..AuditQuery::default() };
        assert!(odd.filter(chrono_tz::UTC).is_err());
    }
}
