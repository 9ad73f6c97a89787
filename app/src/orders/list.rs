//! The orders list: its filters live in the address (statuses, days in the shop's time
//! zone, a search applied as it is typed, the sort, the page's cursor), so a reload or a
//! shared link shows the same page. Rows can be walked with the keyboard, selected,
//! exported as CSV and sent to the accounting ledger in bulk; new orders appear on the
//! first page without a reload.

use std::{collections::BTreeSet, time::Duration};

use leptos::{ev, prelude::*};
use leptos_meta::Title;
use leptos_router::{NavigateOptions, hooks::use_navigate};
use serde::{Deserialize, Serialize};
use vocabulary::orders::{MAX_SEARCH_CHARS, OrderStatus};
use wasm_bindgen::JsCast;

use super::{
    CSV_PATH, LIST_PATH, OrderStatusBadge,
    accounting_sync::{BulkSyncStart, SyncToAccounting},
    query::OrdersQuery,
};
use crate::{
    error::PanelError,
    filters::{DayFields, FilterButtons, Paged, Pager, form_fields, use_listing_query},
    loaded::LoadedLatest,
};

/// The most orders one "Export selected" takes.
pub const MAX_SELECTED: usize = 1_000;
/// Where the list's address is kept for the order page's "Back to orders".
pub(crate) const LIST_ADDRESS_KEY: &str = "backroom-orders-list";
/// How long typing pauses before the search runs.
const SEARCH_PAUSE: Duration = Duration::from_millis(250);

/// One row as the list shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderListRow {
    pub id: i64,
    pub number: String,
    /// `processing`, for the badge's class.
    pub status: String,
    pub status_label: String,
    pub created: String,
    pub customer: String,
    pub email: String,
    pub items: i64,
    pub total: String,
    pub payment_method: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrdersView {
    pub rows: Vec<OrderListRow>,
    /// Where the next page starts; absent on the last.
    pub next_cursor: Option<String>,
    pub time_zone: String,
    /// Whether the person may export orders and send them to the ledger (they manage
    /// them): rows can then be selected.
    pub can_export: bool,
}

/// One page of orders matching `query`.
#[server(endpoint = "list_orders")]
pub async fn list_orders(query: OrdersQuery) -> Result<OrdersView, PanelError> {
    use backend::orders::list;
    use vocabulary::money;
    let ctx = crate::context::services()?;
    let me = crate::context::require_user().await?;
    let store = backend::settings::get(&ctx.db).await?;
    let tz = store.tz();
    let page = list::list(&ctx.db, &ctx.hasher, &query.filter(tz)?).await?;
    Ok(OrdersView {
        rows: page
            .rows
            .into_iter()
            .map(|o| OrderListRow {
                id: o.id,
                number: o.number,
                status: o.status.as_str().to_owned(),
                status_label: o.status.label().to_owned(),
                created: backend::clock::local_minute(o.created_at, tz),
                customer: o.customer_name,
                email: o.email,
                items: o.items_count,
                total: money::format(o.total, &o.currency, &store.locale),
                payment_method: o.payment_method,
            })
            .collect(),
        next_cursor: page.next_cursor,
        time_zone: store.time_zone,
        can_export: me.role.manages_orders(),
    })
}

#[component]
pub fn OrdersPage() -> impl IntoView {
    // Leaving for an order changes the address before this page goes: that address's
    // query is not this list's (and must not fetch it, nor be remembered as it).
    let query = use_listing_query(LIST_PATH, OrdersQuery::from_params);
    let arrivals = crate::live::use_new_orders();
    let orders = crate::loaded::load(
        move || {
            let query = query.get();
            // New orders belong on the first page; a later page stays as its cursor left
            // it, with a link to the newest (below).
            let arrivals = if query.cursor.is_empty() { arrivals.get() } else { 0 };
            (query, arrivals)
        },
        |(query, _)| list_orders(query),
    );
    let selected = RwSignal::new(BTreeSet::<i64>::new());
    let sync_start = BulkSyncStart::create();
    let highlight = RwSignal::new(None::<i64>);
    let search_input = NodeRef::<leptos::html::Input>::new();

    // The order page's "Back to orders" returns to this very list.
    Effect::new(move |_| {
        let href = query.get().href();
        if let Ok(Some(storage)) = window().session_storage() {
            let _ = storage.set_item(LIST_ADDRESS_KEY, &href);
        }
    });
    // A new list: a new walk through it, and arrivals counted from now.
    let arrivals_seen = RwSignal::new(0u64);
    Effect::new(move |_| {
        query.track();
        highlight.set(None);
        arrivals_seen.set(arrivals.get_untracked());
    });
    let keys = window_event_listener(ev::keydown, move |ev| on_list_key(&ev, highlight, search_input));
    on_cleanup(move || keys.remove());

    let newer_waiting = move || arrivals.get() > arrivals_seen.get() && !query.with(|q| q.cursor.is_empty());
    view! {
        <Title text="Orders · Backroom"/>
        <h1>"Orders"</h1>
        <OrderFilters query search_input/>
        {move || newer_waiting().then(|| view! {
            <p class="card notice" role="status">
                "New orders have arrived. "<a href=move || query.get().first_page().href()>"Show the newest"</a>
            </p>
        })}
        <p class="hint" id="orders-keys">
            "Keyboard: "<kbd>"j"</kbd>" / "<kbd>"k"</kbd>" or "<kbd>"↓"</kbd>" / "<kbd>"↑"</kbd>" move through the orders, "
            <kbd>"Enter"</kbd>" opens one, "<kbd>"/"</kbd>" goes to the search."
        </p>
        <LoadedLatest resource=orders show=move |page: OrdersView| view! {
            {page.can_export.then(|| view! {
                <ExportBar query selected/>
                <SyncToAccounting start=sync_start query selected/>
            })}
            <OrdersTable page query selected highlight/>
        }/>
    }
}

/// The keys that walk the list: j/k or the arrows move the highlight (and the focus, so
/// Enter opens the order and screen readers follow), `/` goes to the search. Keys typed
/// into a field are the field's.
fn on_list_key(
    ev: &web_sys::KeyboardEvent,
    highlight: RwSignal<Option<i64>>,
    search_input: NodeRef<leptos::html::Input>,
) {
    if ev.ctrl_key() || ev.meta_key() || ev.alt_key() || ev.default_prevented() || typing_in_field(ev) {
        return;
    }
    let step: isize = match ev.key().as_str() {
        "/" => {
            if let Some(input) = search_input.get_untracked() {
                ev.prevent_default();
                let _ = input.focus();
            }
            return;
        }
        "j" => 1,
        "k" => -1,
        // The arrows scroll the page anywhere but on the list itself.
        "ArrowDown" if focus_on_list() => 1,
        "ArrowUp" if focus_on_list() => -1,
        // With the focus on a row's link Enter follows it; with the focus nowhere (it was
        // on a row that a live update replaced), it opens the highlighted order.
        "Enter" if nothing_focused() => {
            if let Some(link) = highlight.get_untracked().and_then(row_link) {
                ev.prevent_default();
                link.click();
            }
            return;
        }
        _ => return,
    };
    let ids = row_ids();
    if ids.is_empty() {
        return;
    }
    ev.prevent_default();
    let at = highlight.get_untracked().and_then(|id| ids.iter().position(|&i| i == id));
    let next = match at {
        None if step > 0 => 0,
        None => ids.len() - 1,
        Some(at) => at.saturating_add_signed(step).min(ids.len() - 1),
    };
    highlight.set(Some(ids[next]));
    if let Some(link) = row_link(ids[next]) {
        let _ = link.focus();
    }
}

/// True when a key goes into a text field, a list box or an editable element.
fn typing_in_field(ev: &web_sys::KeyboardEvent) -> bool {
    let Some(element) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok()) else { return false };
    match element.tag_name().as_str() {
        "TEXTAREA" | "SELECT" => true,
        "INPUT" => !matches!(
            element.get_attribute("type").as_deref(),
            Some("checkbox" | "radio" | "button" | "submit" | "reset")
        ),
        _ => element.is_content_editable(),
    }
}

/// True when nothing has the focus, or something in the orders table does.
fn focus_on_list() -> bool {
    let Some(active) = document().active_element() else { return true };
    let active: &web_sys::Node = active.as_ref();
    nothing_focused() || document().get_element_by_id("orders-table").is_some_and(|table| table.contains(Some(active)))
}

/// True when the focus rests on the page itself.
fn nothing_focused() -> bool {
    let document = document();
    match (document.active_element(), document.body()) {
        (None, _) => true,
        (Some(active), Some(body)) => active.is_same_node(Some(body.as_ref())),
        (Some(_), None) => false,
    }
}

fn row_ids() -> Vec<i64> {
    let Some(rows) = document().get_element_by_id("orders-rows") else { return Vec::new() };
    let rows = rows.children();
    (0..rows.length()).filter_map(|i| rows.item(i)?.get_attribute("data-id")?.parse().ok()).collect()
}

fn row_link(id: i64) -> Option<web_sys::HtmlElement> {
    document().get_element_by_id(&format!("order-link-{id}"))?.dyn_into().ok()
}

/// The filter form: a GET to this page, so it works before the page is interactive.
/// Once it is, a change applies at once, and the search runs as it is typed.
#[component]
fn OrderFilters(query: Memo<OrdersQuery>, search_input: NodeRef<leptos::html::Input>) -> impl IntoView {
    let initial = query.get_untracked();
    let form = NodeRef::<leptos::html::Form>::new();
    let navigate = use_navigate();
    // Goes to the first page of what the form says; `replace` for each pause in typing,
    // so the back button skips the letters.
    let apply = move |replace: bool| {
        let Some(wanted) = form.get_untracked().and_then(|form| read_form(&form)) else { return false };
        if wanted != query.get_untracked() {
            navigate(&wanted.href(), NavigateOptions { replace, scroll: false, ..NavigateOptions::default() });
        }
        true
    };
    let apply_on_submit = apply.clone();
    let apply_on_change = apply.clone();
    let pending_search = StoredValue::new(None::<TimeoutHandle>);
    let on_search_input = move |_| {
        if let Some(handle) = pending_search.get_value() {
            handle.clear();
        }
        let apply = apply.clone();
        pending_search.set_value(
            set_timeout_with_handle(
                move || {
                    apply(true);
                },
                SEARCH_PAUSE,
            )
            .ok(),
        );
    };
    // A search still waiting when the page goes would reach for a form that is gone.
    on_cleanup(move || {
        if let Some(handle) = pending_search.try_get_value().flatten() {
            handle.clear();
        }
    });
    // The search follows the address (back button, "Clear filters") but never overwrites
    // what is being typed.
    Effect::new(move |_| {
        let search = query.with(|q| q.search.clone());
        if let Some(input) = search_input.get_untracked() {
            let typing = document().active_element().is_some_and(|active| active.is_same_node(Some(input.as_ref())));
            if !typing && input.value() != search {
                input.set_value(&search);
            }
        }
    });
    let field = move |pick: fn(&OrdersQuery) -> String| move || query.with(pick);
    view! {
        <div class="card">
            <form method="get" action=LIST_PATH node_ref=form class="order-filters"
                on:submit=move |ev| if apply_on_submit(false) { ev.prevent_default() }
                on:change=move |ev| {
                    // The search has its own pace (above).
                    let from_search = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()).is_some_and(|t| t.id() == "orders-search");
                    if !from_search {
                        apply_on_change(false);
                    }
                }>
                <div class="field orders-search">
                    <label for="orders-search">"Search"</label>
                    <input id="orders-search" name="search" type="search" node_ref=search_input autocomplete="off"
                        maxlength=MAX_SEARCH_CHARS.to_string() value=initial.search.clone() aria-describedby="orders-search-hint"
                        on:input=on_search_input/>
                    <p class="hint" id="orders-search-hint">"An order number (#1042), an email, a phone number or part of a name."</p>
                </div>
                <fieldset class="status-filter">
                    <legend>"Status"</legend>
                    {OrderStatus::ALL.into_iter().map(|status| {
                        let (value, label) = (status.as_str(), status.label());
                        let id = format!("status-{value}");
                        let checked = move || query.with(|q| q.statuses().any(|s| s == value));
                        view! {
                            <span class="choice">
                                <input type="checkbox" id=id.clone() name="status" value=value checked=checked prop:checked=checked/>
                                <label for=id>{label}</label>
                            </span>
                        }
                    }).collect_view()}
                </fieldset>
                <div class="filters">
                    <DayFields prefix="orders" from=Signal::derive(field(|q| q.from.clone())) to=Signal::derive(field(|q| q.to.clone()))/>
                    <div class="field">
                        <label for="orders-sort">"Sort by"</label>
                        <select id="orders-sort" name="sort" prop:value=field(|q| q.sort.clone())>
                            <option value="" selected=initial.sort.is_empty()>"Date"</option>
                            <option value="total" selected=initial.sort == "total">"Total"</option>
                        </select>
                    </div>
                    <div class="field">
                        <label for="orders-dir">"Direction"</label>
                        <select id="orders-dir" name="dir" prop:value=field(|q| q.dir.clone())>
                            <option value="" selected=initial.dir.is_empty()>"Newest or largest first"</option>
                            <option value="asc" selected=initial.dir == "asc">"Oldest or smallest first"</option>
                        </select>
                    </div>
                </div>
                <FilterButtons clear=LIST_PATH/>
            </form>
        </div>
    }
}

/// What the filter form says, from its first page.
fn read_form(form: &web_sys::HtmlFormElement) -> Option<OrdersQuery> {
    let data = web_sys::FormData::new_with_form(form).ok()?;
    let mut query = OrdersQuery::from_pairs(form_fields(&data));
    // Blanks typed around a search are not part of it, but the ones inside are.
    query.search = query.search.trim().to_owned();
    Some(query)
}

/// "Export all matching" and "Export selected", with how many are selected.
#[component]
fn ExportBar(query: Memo<OrdersQuery>, selected: RwSignal<BTreeSet<i64>>) -> impl IntoView {
    let count = move || selected.with(BTreeSet::len);
    let selection_href = move || {
        let ids = selected.with(|s| s.iter().map(ToString::to_string).collect::<Vec<_>>().join(","));
        format!("{CSV_PATH}?ids={ids}")
    };
    view! {
        <div class="orders-toolbar">
            <a class="button" href=move || query.get().csv_href() rel="external" download="backroom-orders.csv">"Export all matching as CSV"</a>
            // None selected, or more than one export takes: nothing to export.
            {move || if (1..=MAX_SELECTED).contains(&count()) {
                view! {
                    <a class="button" href=selection_href rel="external" download="backroom-orders-selected.csv">"Export selected as CSV"</a>
                }.into_any()
            } else {
                view! { <button type="button" disabled>"Export selected as CSV"</button> }.into_any()
            }}
            <span role="status" class="muted">{move || match count() {
                0 => "No orders selected.".to_owned(),
                1 => "1 order selected.".to_owned(),
                n if n > MAX_SELECTED => format!("{n} orders selected: one export takes at most {MAX_SELECTED}."),
                n => format!("{n} orders selected."),
            }}</span>
            {move || (count() > 0).then(|| view! {
                <button type="button" on:click=move |_| selected.set(BTreeSet::new())>"Clear selection"</button>
            })}
            <span class="hint">" (“all matching”: up to 10,000 orders)"</span>
        </div>
    }
}

#[component]
fn OrdersTable(
    page: OrdersView,
    query: Memo<OrdersQuery>,
    selected: RwSignal<BTreeSet<i64>>,
    highlight: RwSignal<Option<i64>>,
) -> impl IntoView {
    let count = page.rows.len();
    let shown = match count {
        0 => "No orders match these filters.".to_owned(),
        1 => "1 order on this page.".to_owned(),
        n => format!("{n} orders on this page."),
    };
    let ids: Vec<i64> = page.rows.iter().map(|r| r.id).collect();
    let all_ids = ids.clone();
    let all_selected = move || !ids.is_empty() && selected.with(|s| ids.iter().all(|id| s.contains(id)));
    let select_page = move |ev: leptos::ev::Event| {
        let on = event_target_checked(&ev);
        selected.update(|s| {
            for id in &all_ids {
                if on {
                    s.insert(*id)
                } else {
                    s.remove(id)
                };
            }
        });
    };
    let next = page.next_cursor.clone();
    let selectable = page.can_export;
    view! {
        <p class="muted"><span role="status">{shown}</span>" Times in "{page.time_zone.clone()}"."</p>
        {(count > 0).then(|| view! {
            <div class="card table-wrap" tabindex="0" role="region" aria-label="Orders" aria-describedby="orders-keys">
                <table id="orders-table" class="orders-table">
                    <thead>
                        <tr>
                            {selectable.then(|| view! {
                                <th scope="col" class="select">
                                    <input type="checkbox" id="select-page" prop:checked=all_selected on:change=select_page/>
                                    <label for="select-page">"All"</label>
                                </th>
                            })}
                            <th scope="col">"Order"</th>
                            <th scope="col">"Date"</th>
                            <th scope="col">"Customer"</th>
                            <th scope="col">"Email"</th>
                            <th scope="col">"Status"</th>
                            <th scope="col" class="num">"Items"</th>
                            <th scope="col" class="num">"Total"</th>
                            <th scope="col">"Payment"</th>
                        </tr>
                    </thead>
                    <tbody id="orders-rows">
                        {page.rows.into_iter().map(|row| view! { <OrderRowView row selectable selected highlight/> }).collect_view()}
                    </tbody>
                </table>
            </div>
        })}
        <Pager query next/>
    }
}

#[component]
fn OrderRowView(
    row: OrderListRow,
    selectable: bool,
    selected: RwSignal<BTreeSet<i64>>,
    highlight: RwSignal<Option<i64>>,
) -> impl IntoView {
    let id = row.id;
    let toggle = move |ev: leptos::ev::Event| {
        let on = event_target_checked(&ev);
        selected.update(|s| {
            if on {
                s.insert(id)
            } else {
                s.remove(&id)
            };
        });
    };
    let select_label = format!("Select order #{}", row.number);
    view! {
        <tr data-id=id class:highlighted=move || highlight.get() == Some(id)>
            {selectable.then(|| view! {
                <td class="select">
                    <input type="checkbox" id=format!("select-{id}") aria-label=select_label
                        prop:checked=move || selected.with(|s| s.contains(&id)) on:change=toggle/>
                </td>
            })}
            <td class="nowrap">
                <a id=format!("order-link-{id}") href=format!("{LIST_PATH}/{id}") on:focus=move |_| highlight.set(Some(id))>
                    "#"{row.number}
                </a>
            </td>
            <td class="nowrap">{row.created}</td>
            <td>{row.customer}</td>
            <td>{row.email}</td>
            <td><OrderStatusBadge status=row.status label=row.status_label/></td>
            <td class="num">{row.items}</td>
            <td class="num nowrap">{row.total}</td>
            <td>{row.payment_method}</td>
        </tr>
    }
}
