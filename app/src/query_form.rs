//! Filter forms whose fields become the page's address (`?gateway=iyzico&status=failed`),
//! so a reload or a shared link shows the same: a plain GET form until the page is
//! interactive, then the router's, which navigates without reloading.

use std::sync::Arc;

use leptos::prelude::*;
use leptos_router::components::Form;

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
