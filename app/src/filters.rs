//! Filters kept in the page's address (`?gateway=iyzico&status=failed`), so a reload or
//! a shared link shows the same: the form that puts them there (a plain GET form until
//! the page is interactive, then the router's, which navigates without reloading), and
//! the days they filter by.

use std::sync::Arc;

use leptos::prelude::*;
use leptos_router::components::Form;

#[cfg(feature = "ssr")]
use crate::error::PanelError;

/// A GET form to `action` whose empty fields stay out of the address.
#[component]
pub fn QueryForm(action: &'static str, children: Children) -> impl IntoView {
    let tidy: Arc<dyn Fn(&web_sys::FormData)> = Arc::new(leave_out_empty);
    view! { <Form method="GET" action=action noscroll=true on_form_data=tidy>{children()}</Form> }
}

/// Removes the fields left empty, and the nameless entry the router adds for the submit
/// button (it would end the address in `&=`).
fn leave_out_empty(data: &web_sys::FormData) {
    let empty: Vec<String> = data
        .entries()
        .into_iter()
        .filter_map(|entry| {
            let pair = web_sys::js_sys::Array::from(&entry.ok()?);
            let (key, value) = (pair.get(0).as_string()?, pair.get(1).as_string()?);
            (key.is_empty() || value.trim().is_empty()).then_some(key)
        })
        .collect();
    for key in empty {
        data.delete(&key);
    }
}

/// `from` and `to` days (either may be empty) as the instants a listing filters by: the
/// start of the first day, and the start of the day after the last (it is included).
///
/// Fails, naming the field, on a malformed day or a "from" after the "to".
#[cfg(feature = "ssr")]
pub fn day_range(from: &str, to: &str, tz: chrono_tz::Tz) -> Result<(Option<i64>, Option<i64>), PanelError> {
    let day = |text: &str, field: &str| match text.trim() {
        "" => Ok(None),
        text => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| PanelError::Message(format!("the “{field}” day must look like 2026-01-31"))),
    };
    let (first, last) = (day(from, "from")?, day(to, "to")?);
    if first.zip(last).is_some_and(|(first, last)| first > last) {
        return Err(PanelError::Message("the “from” day is after the “to” day".into()));
    }
    let start = |d: chrono::NaiveDate| backend::sales_daily::day_start(d, tz);
    Ok((first.map(start), last.and_then(|d| d.succ_opt()).map(start)))
}
