//! Filters kept in the page's address (`?gateway=iyzico&status=failed`), so a reload or
//! a shared link shows the same: the addresses themselves, the form that puts filters
//! there (a plain GET form until the page is interactive, then the router's, which
//! navigates without reloading), the days they filter by, the period a report is for, and
//! the cursor pages of a listing with its "First", "Previous" and "Next" links.

use std::sync::Arc;

use leptos::prelude::*;
use leptos_router::{components::Form, hooks::use_location, params::ParamsMap};
use serde::{Deserialize, Serialize};

/// Earlier pages a listing remembers for "Previous page"; from further on, "First page"
/// remains.
const MAX_PREV: usize = 20;

/// The query string (no `?`) of the fields that are set, values encoded as the browser's
/// `encodeURIComponent` does, so the server-rendered links and the browser's are the same.
pub fn query_string<V: AsRef<str>>(fields: &[(&str, V)]) -> String {
    fields
        .iter()
        .map(|(key, value)| (key, value.as_ref()))
        .filter(|(_, value)| !value.is_empty())
        .map(|(key, value)| format!("{key}={}", encode_component(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `path`, with `query` (no `?`) when there is one.
pub fn with_query(path: &str, query: &str) -> String {
    if query.is_empty() { path.to_owned() } else { format!("{path}?{query}") }
}

fn encode_component(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The filters of the listing at `path`, as `read` from the address. Leaving the page
/// changes the address before the page goes: while the address is elsewhere the filters
/// shown stay as they were, so another page's query is neither fetched as this listing's
/// nor remembered as it.
pub fn use_listing_query<Q>(path: &'static str, read: fn(&ParamsMap) -> Q) -> Memo<Q>
where
    Q: Clone + PartialEq + Send + Sync + 'static,
{
    let location = use_location();
    Memo::new(move |shown: Option<&Q>| match shown {
        Some(shown) if location.pathname.get() != path => shown.clone(),
        _ => read(&location.query.get()),
    })
}

/// A field as a filter: its text trimmed, or `None` when it is blank.
#[cfg(feature = "ssr")]
pub fn filled(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|text| !text.is_empty())
}

/// A GET form to `action` whose empty fields stay out of the address.
#[component]
pub fn QueryForm(action: &'static str, children: Children) -> impl IntoView {
    let tidy: Arc<dyn Fn(&web_sys::FormData)> = Arc::new(leave_out_empty);
    view! { <Form method="GET" action=action noscroll=true on_form_data=tidy>{children()}</Form> }
}

/// Removes the fields left empty, and the nameless entry the router adds for the submit
/// button (it would end the address in `&=`).
fn leave_out_empty(data: &web_sys::FormData) {
    for (key, value) in form_fields(data) {
        if key.is_empty() || value.trim().is_empty() {
            data.delete(&key);
        }
    }
}

/// A form's text fields as (name, value) pairs, in the form's order.
pub fn form_fields(data: &web_sys::FormData) -> Vec<(String, String)> {
    data.entries()
        .into_iter()
        .filter_map(|entry| {
            let pair = web_sys::js_sys::Array::from(&entry.ok()?);
            Some((pair.get(0).as_string()?, pair.get(1).as_string()?))
        })
        .collect()
}

/// A filter form's "Filter" button, and the link back to the listing unfiltered (`clear`).
#[component]
pub fn FilterButtons(clear: &'static str) -> impl IntoView {
    view! {
        <div class="form-actions">
            <button type="submit" class="primary">"Filter"</button>
            <a href=clear>"Clear filters"</a>
        </div>
    }
}

/// A report's period as the address gives it: `period=7d`, or `from=…&to=…` days (both
/// included). Nothing means the page's default period.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PeriodQuery {
    pub period: String,
    pub from: String,
    pub to: String,
}

impl PeriodQuery {
    pub fn from_params(params: &ParamsMap) -> PeriodQuery {
        let get = |key| params.get(key).unwrap_or_default();
        PeriodQuery { period: get("period"), from: get("from"), to: get("to") }
    }

    /// Which ready-made period the address asks for (`default` when it names none); `None`
    /// for days of one's choosing.
    pub fn ready_made<'q>(&'q self, default: &'q str) -> Option<&'q str> {
        match (self.period.as_str(), self.from.is_empty() && self.to.is_empty()) {
            (_, false) => None,
            ("", true) => Some(default),
            (period, true) => Some(period),
        }
    }
}

/// Ready-made periods as links (the one `query` asks for marked, `default_period` when it
/// names none), and a form for days of one's choosing. Both change the address; the page
/// follows it.
#[component]
pub fn PeriodChoice(
    path: &'static str,
    periods: &'static [(&'static str, &'static str)],
    query: Memo<PeriodQuery>,
    default_period: &'static str,
    prefix: &'static str,
    legend: &'static str,
    submit: &'static str,
) -> impl IntoView {
    let from = Signal::derive(move || query.with(|q| q.from.clone()));
    let to = Signal::derive(move || query.with(|q| q.to.clone()));
    view! {
        <div class="card report-periods">
            <nav class="periods" aria-label="Period">
                {periods.iter().map(|(period, label)| view! {
                    <a href=format!("{path}?period={period}")
                        aria-current=move || query.with(|q| (q.ready_made(default_period) == Some(*period)).then_some("page"))>
                        {*label}
                    </a>
                }).collect_view()}
            </nav>
            <QueryForm action=path>
                <fieldset>
                    <legend>{legend}</legend>
                    <div class="range">
                        <DayFields prefix from to required=true/>
                        <button type="submit">{submit}</button>
                    </div>
                </fieldset>
            </QueryForm>
        </div>
    }
}

/// The "From (day)" and "To (day, included)" fields of a filter form, with ids that start
/// with `prefix`. They show the address's days: from the start in the server-rendered
/// page, and as the address changes after (a link, the back button).
#[component]
pub fn DayFields(
    prefix: &'static str,
    from: Signal<String>,
    to: Signal<String>,
    #[prop(optional)] required: bool,
) -> impl IntoView {
    let (from_id, to_id) = (format!("{prefix}-from"), format!("{prefix}-to"));
    view! {
        <div class="field">
            <label for=from_id.clone()>"From (day)"</label>
            <input id=from_id name="from" type="date" required=required value=from.get_untracked() prop:value=move || from.get()/>
        </div>
        <div class="field">
            <label for=to_id.clone()>"To (day, included)"</label>
            <input id=to_id name="to" type="date" required=required value=to.get_untracked() prop:value=move || to.get()/>
        </div>
    }
}

/// A listing's filters and its place among cursor pages, as its address keeps them: the
/// `cursor` where this page starts (empty on the first page), and `prev`, the cursors of
/// the pages between the first and this one, oldest first and dot-separated (cursors are
/// base64url, without dots), for "Previous page".
pub trait Paged: Clone {
    /// The listing's own address.
    const PATH: &'static str;
    /// The filters, named as in the address and in its order.
    fn filters(&self) -> Vec<(&'static str, &str)>;
    /// This page: `(cursor, prev)`.
    fn page(&self) -> (&str, &str);
    /// The same filters at another page.
    fn at(&self, cursor: String, prev: String) -> Self;

    /// The query string (no `?`) of the filters that are set, then the page.
    fn search_string(&self) -> String {
        let (cursor, prev) = self.page();
        let mut fields = self.filters();
        fields.extend([("cursor", cursor), ("prev", prev)]);
        query_string(&fields)
    }

    /// The listing's address with these filters, at this page.
    fn href(&self) -> String {
        with_query(Self::PATH, &self.search_string())
    }

    fn is_first_page(&self) -> bool {
        self.page().0.is_empty()
    }

    /// The same filters, from the first page.
    fn first_page(&self) -> Self {
        self.at(String::new(), String::new())
    }

    /// The page that starts at `cursor` (the one this page's results gave), remembering
    /// this one for "Previous page".
    fn next_page(&self, cursor: &str) -> Self {
        let (this, prev) = self.page();
        let mut prev: Vec<&str> = prev_cursors(prev).collect();
        // The first page has no cursor: going back to it needs none.
        if !this.is_empty() {
            prev.push(this);
        }
        let keep_from = prev.len().saturating_sub(MAX_PREV);
        self.at(cursor.to_owned(), prev[keep_from..].join("."))
    }

    /// The page before this one, if this is not the first.
    fn previous_page(&self) -> Option<Self> {
        if self.is_first_page() {
            return None;
        }
        let mut prev: Vec<&str> = prev_cursors(self.page().1).collect();
        let cursor = prev.pop().unwrap_or_default().to_owned();
        Some(self.at(cursor, prev.join(".")))
    }
}

fn prev_cursors(prev: &str) -> impl Iterator<Item = &str> {
    prev.split('.').filter(|c| !c.is_empty())
}

/// The links between a listing's pages: "First page" and "Previous page" (when they are
/// not the same), and "Next page" to the page starting at `next`, when there is one. A
/// listing of events, newest first, says so (`by_age`): "Newest", "Newer" and "Older".
#[component]
pub fn Pager<Q>(query: Memo<Q>, next: Option<String>, #[prop(optional)] by_age: bool) -> impl IntoView
where
    Q: Paged + PartialEq + Send + Sync + 'static,
{
    let (first, previous, following) =
        if by_age { ("Newest", "Newer", "Older") } else { ("First page", "Previous page", "Next page") };
    view! {
        <nav class="pager" aria-label="Pages">
            {move || query.with(|q| (!q.is_first_page()).then(|| view! { <a href=q.first_page().href()>{first}</a> }))}
            {move || query.with(|q| q.previous_page().filter(|p| !p.is_first_page()).map(|p| view! { <a href=p.href() rel="prev">{previous}</a> }))}
            {move || next.clone().map(|cursor| view! { <a href=query.with(|q| q.next_page(&cursor).href()) rel="next">{following}</a> })}
        </nav>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, Default, PartialEq)]
    struct Listing {
        search: String,
        cursor: String,
        prev: String,
    }

    impl Paged for Listing {
        const PATH: &'static str = "/admin/list";
        fn filters(&self) -> Vec<(&'static str, &str)> {
            vec![("search", self.search.as_str())]
        }
        fn page(&self) -> (&str, &str) {
            (&self.cursor, &self.prev)
        }
        fn at(&self, cursor: String, prev: String) -> Listing {
            Listing { cursor, prev, ..self.clone() }
        }
    }

    #[test]
    fn an_address_carries_only_what_is_set_encoded_as_the_browser_does() {
        assert_eq!(Listing::default().href(), "/admin/list");
        let listing = Listing { search: "Ayşe & co (2)".into(), ..Listing::default() };
        assert_eq!(listing.href(), "/admin/list?search=Ay%C5%9Fe%20%26%20co%20(2)");
    }

    #[test]
    fn pages_go_forward_and_back_to_the_first() {
        let first = Listing { search: "x".into(), ..Listing::default() };
        assert_eq!(first.previous_page(), None);
        let second = first.next_page("c1");
        assert_eq!((second.cursor.as_str(), second.prev.as_str()), ("c1", ""));
        let third = second.next_page("c2");
        assert_eq!((third.cursor.as_str(), third.prev.as_str()), ("c2", "c1"));
        assert_eq!(third.previous_page(), Some(second.clone()));
        assert_eq!(second.previous_page(), Some(first.clone()));
        assert_eq!(third.first_page(), first);
    }

    #[test]
    fn only_the_latest_earlier_pages_are_remembered() {
        let mut listing = Listing::default();
        for i in 0..30 {
            listing = listing.next_page(&format!("c{i}"));
        }
        assert_eq!(listing.prev.split('.').count(), MAX_PREV);
        assert_eq!(listing.previous_page().map(|p| p.cursor), Some("c28".to_owned()));
    }
}
