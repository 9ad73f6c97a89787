//! The WhatsApp area, for owners and admins: the setup wizard (the account at Meta, the
//! webhook, live checks, templates and which message uses which, a test send), the
//! settings (cart recovery, order notifications, limits, the checkout snippet and the
//! click-to-chat widget with its preview), the recovery dashboard, the carts with each
//! one's timeline, and the message log. What the pages share: their addresses, the
//! area's own navigation, the lists' state filter and pages, the states' badges and the
//! copy button.

pub mod cart;
pub mod carts;
pub mod messages;
pub mod recovery;
pub mod settings;
pub mod setup;

use leptos::prelude::*;
use leptos_router::components::A;

use crate::filters::{Paged, Pager};

pub const SETUP_PATH: &str = "/admin/whatsapp";
pub const SETTINGS_PATH: &str = "/admin/whatsapp/settings";
pub const RECOVERY_PATH: &str = "/admin/whatsapp/recovery";
pub const CARTS_PATH: &str = "/admin/whatsapp/carts";
pub const MESSAGES_PATH: &str = "/admin/whatsapp/messages";
/// Served by the server crate (`whatsapp_export`).
pub const CARTS_CSV_PATH: &str = "/admin/whatsapp/carts.csv";
pub const MESSAGES_CSV_PATH: &str = "/admin/whatsapp/messages.csv";

/// A cart's own page.
pub fn cart_href(id: i64) -> String {
    format!("{CARTS_PATH}/{id}")
}

/// A cart's states as the panel names them: (value, label).
pub const CART_STATES: [(&str, &str); 4] =
    [("open", "Open"), ("recovered", "Recovered"), ("converted", "Bought without a message"), ("stopped", "Stopped")];

/// A message's states as the panel names them: (value, label), in the order a message
/// goes through them.
pub const MESSAGE_STATES: [(&str, &str); 5] =
    [("queued", "Queued"), ("sent", "Sent"), ("delivered", "Delivered"), ("read", "Read"), ("failed", "Failed")];

fn label_of<'a>(states: &[(&'static str, &'static str)], value: &'a str) -> &'a str {
    states.iter().find(|(v, _)| *v == value).map_or(value, |(_, label)| label)
}

/// The state filter of a list (carts, messages), kept in the address.
#[component]
pub fn StateFilter(
    action: &'static str,
    id: &'static str,
    states: &'static [(&'static str, &'static str)],
    current: Signal<String>,
    initial: String,
) -> impl IntoView {
    view! {
        <div class="card">
            <crate::filters::QueryForm action=action>
                <div class="filters">
                    <div class="field">
                        <label for=id>"State"</label>
                        <select id=id name="state" prop:value=move || current.get()>
                            <option value="" selected=initial.is_empty()>"Every state"</option>
                            {states.iter().map(|(value, label)| {
                                let selected = initial == *value;
                                view! { <option value=*value selected=selected>{*label}</option> }
                            }).collect_view()}
                        </select>
                    </div>
                </div>
                <crate::filters::FilterButtons clear=action/>
            </crate::filters::QueryForm>
        </div>
    }
}

/// A page of a list (carts, messages), newest first: the time zone of its times, its
/// `rows` in their `table` or `none` when no row matches the filter, and the links to
/// newer and `older` pages.
#[component]
pub fn ListPage<Q, T, F, V>(
    query: Memo<Q>,
    rows: Vec<T>,
    older: Option<String>,
    time_zone: String,
    none: &'static str,
    table: F,
) -> impl IntoView
where
    Q: Paged + PartialEq + Send + Sync + 'static,
    F: FnOnce(Vec<T>) -> V,
    V: IntoView + 'static,
{
    view! {
        <p class="muted">"Times in "{time_zone}"."</p>
        {if rows.is_empty() { view! { <p class="card">{none}</p> }.into_any() } else { table(rows).into_any() }}
        <Pager query next=older by_age=true/>
    }
}

/// A cart's state as a badge: its words, not only its colour.
#[component]
pub fn CartStateBadge(state: String) -> impl IntoView {
    let label = label_of(&CART_STATES, &state).to_owned();
    view! { <span class=format!("badge wa-cart-{state}")>{label}</span> }
}

/// A message's state as a badge.
#[component]
pub fn MessageStateBadge(state: String) -> impl IntoView {
    let label = label_of(&MESSAGE_STATES, &state).to_owned();
    view! { <span class=format!("badge wa-message-{state}")>{label}</span> }
}

/// The area's pages, the current one marked.
#[component]
pub fn WhatsAppNav() -> impl IntoView {
    view! {
        <nav class="periods area-nav" aria-label="WhatsApp pages">
            <A href=SETUP_PATH exact=true>"Setup"</A>
            <A href=SETTINGS_PATH exact=true>"Settings"</A>
            <A href=RECOVERY_PATH exact=true>"Recovery"</A>
            <A href=CARTS_PATH>"Carts"</A>
            <A href=MESSAGES_PATH exact=true>"Messages"</A>
        </nav>
    }
}

/// A button that copies `text` (shown in the field `field`, so it can be selected when the
/// browser does not let Backroom copy); it says "Copied" once it did. `what` completes
/// its name for screen readers ("Copy the callback URL").
#[component]
pub fn CopyButton(text: String, field: &'static str, what: &'static str) -> impl IntoView {
    let copied = RwSignal::new(false);
    let status = RwSignal::new(String::new());
    let copy = move |_| {
        let text = text.clone();
        leptos::task::spawn_local(async move {
            if crate::access::copy_to_clipboard(&text).await {
                copied.set(true);
                status.set(String::new());
            } else {
                copied.set(false);
                status.set(if select_field(field) {
                    "This browser did not let Backroom copy; the text is selected, press Ctrl+C (⌘C on a Mac)."
                        .to_owned()
                } else {
                    "This browser did not let Backroom copy; select the text and copy it.".to_owned()
                });
            }
        });
    };
    view! {
        <button type="button" class="copy" on:click=copy>
            {move || if copied.get() { "Copied" } else { "Copy" }}
            <span class="visually-hidden">{format!(" {what}")}</span>
        </button>
        <span class="copy-status" role="status">{move || status.get()}</span>
    }
}

/// Focuses the field `id` and selects its text; false when there is no such field.
fn select_field(id: &str) -> bool {
    use wasm_bindgen::JsCast;
    use web_sys::js_sys::{Function, Reflect};
    let Some(field) = document().get_element_by_id(id) else { return false };
    if let Some(element) = field.dyn_ref::<web_sys::HtmlElement>() {
        let _ = element.focus();
    }
    Reflect::get(&field, &"select".into())
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
        .is_some_and(|select| select.call0(&field).is_ok())
}

/// The area's reading and acting on the server: who may, and how lists are paged.
#[cfg(feature = "ssr")]
mod ssr {
    /// Rows a page of a list (carts, messages) shows.
    pub(super) const PAGE: i64 = 50;

    /// The context and user of a page's reads: owners and admins, as for every WhatsApp page.
    pub(super) async fn reading() -> Result<backend::services::Services, crate::error::PanelError> {
        let ctx = crate::context::services()?;
        crate::context::require_role(backend::users::Role::manages_store).await?;
        Ok(ctx)
    }

    /// Who changes the WhatsApp settings: an owner or an admin (the backend checks again).
    pub(super) async fn acting() -> Result<crate::context::Acting, crate::error::PanelError> {
        crate::context::acting(backend::users::Role::manages_store).await
    }

    /// A message's purpose in words: the backend's label, "Test send", or the stored value.
    pub(super) fn purpose_label(purpose: &str) -> String {
        use backend::whatsapp::config::Purpose;
        match Purpose::ALL.into_iter().find(|p| p.as_str() == purpose) {
            Some(p) => p.label().to_owned(),
            None if purpose == "test" => "Test send".to_owned(),
            None => purpose.to_owned(),
        }
    }
}
