//! The message log: every WhatsApp message Backroom queued, newest first, a page at a
//! time — to whom, what for, with which template, how far it got, and for a failed one
//! Meta's error code, title and details. The state filter and the page live in the
//! address; the whole log downloads as CSV.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::params::ParamsMap;
use serde::{Deserialize, Serialize};

use super::{
    ListPage, MESSAGE_STATES, MESSAGES_CSV_PATH, MESSAGES_PATH, MessageStateBadge, StateFilter, WhatsAppNav, cart_href,
};
use crate::{
    error::PanelError,
    filters::{Paged, use_listing_query},
    loaded::{DataTable, LoadedLatest},
};

/// The filter and page as the address gives them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MessagesQuery {
    /// One of [`MESSAGE_STATES`], or empty for every message.
    pub state: String,
    pub cursor: String,
    pub prev: String,
}

impl MessagesQuery {
    pub fn from_params(params: &ParamsMap) -> MessagesQuery {
        let get = |key| params.get(key).unwrap_or_default();
        MessagesQuery { state: get("state"), cursor: get("cursor"), prev: get("prev") }
    }
}

impl Paged for MessagesQuery {
    const PATH: &'static str = MESSAGES_PATH;
    fn filters(&self) -> Vec<(&'static str, &str)> {
        vec![("state", self.state.as_str())]
    }
    fn page(&self) -> (&str, &str) {
        (&self.cursor, &self.prev)
    }
    fn at(&self, cursor: String, prev: String) -> MessagesQuery {
        MessagesQuery { cursor, prev, ..self.clone() }
    }
}

/// A message in the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageLine {
    pub id: i64,
    pub at: String,
    pub to: String,
    pub purpose: String,
    pub template: String,
    pub state: String,
    /// Meta's error code and title, and its details; empty when none.
    pub error: String,
    pub error_details: String,
    pub wamid: String,
    pub cart_id: Option<i64>,
    pub order_id: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagesView {
    pub messages: Vec<MessageLine>,
    pub older: Option<String>,
    pub time_zone: String,
}

#[server(endpoint = "whatsapp_messages")]
pub async fn whatsapp_messages(query: MessagesQuery) -> Result<MessagesView, PanelError> {
    let ctx = super::ssr::reading().await?;
    let (state, before) = super::carts::state_and_cursor(&query.state, &query.cursor, &MESSAGE_STATES)?;
    let store = backend::settings::get(&ctx.db).await?;
    let tz = store.tz();
    use backend::paging;
    let messages =
        backend::whatsapp::report::messages(&ctx.db, state, before, paging::rows_to_read(super::ssr::PAGE)).await?;
    let page = paging::cut(messages, super::ssr::PAGE, |last| last.id.to_string());
    let older = page.next_cursor;
    Ok(MessagesView {
        messages: page
            .rows
            .into_iter()
            .map(|m| MessageLine {
                id: m.id,
                at: backend::clock::local_minute(m.created_at, tz),
                to: m.to_phone,
                purpose: super::ssr::purpose_label(&m.purpose),
                template: m.template,
                error: match (m.error_code, m.error_title.filter(|t| !t.is_empty())) {
                    (Some(code), Some(title)) => format!("{code}: {title}"),
                    (Some(code), None) => code.to_string(),
                    (None, Some(title)) => title,
                    (None, None) => String::new(),
                },
                // Details of a message still being tried are its latest error, kept while
                // its state stays; they matter once it failed.
                error_details: if m.state == "failed" { m.error_details.unwrap_or_default() } else { String::new() },
                state: m.state,
                wamid: m.wamid.unwrap_or_default(),
                cart_id: m.cart_id,
                order_id: m.order_id,
            })
            .collect(),
        older,
        time_zone: store.time_zone,
    })
}

#[component]
pub fn WhatsAppMessagesPage() -> impl IntoView {
    let query = use_listing_query(MESSAGES_PATH, MessagesQuery::from_params);
    let messages = crate::loaded::load(move || query.get(), whatsapp_messages);
    let initial = query.get_untracked();
    view! {
        <Title text="WhatsApp messages · Backroom"/>
        <h1>"Messages"</h1>
        <WhatsAppNav/>
        <p class="muted">"Every message Backroom queued, newest first. "
            <a class="button" href=MESSAGES_CSV_PATH rel="external" download="backroom-whatsapp-messages.csv">"Download CSV"</a></p>
        <StateFilter action=MESSAGES_PATH id="messages-state" states=&MESSAGE_STATES current=Signal::derive(move || query.with(|q| q.state.clone())) initial=initial.state/>
        <LoadedLatest resource=messages show=move |page: MessagesView| view! {
            <ListPage query rows=page.messages older=page.older time_zone=page.time_zone none="No messages match this filter." table=message_table/>
        }/>
    }
}

fn message_table(messages: Vec<MessageLine>) -> impl IntoView {
    view! {
        <DataTable headings={&["Time", "To", "Purpose", "Template", "State", "Meta's error", "Meta's id"]}>
            {messages.into_iter().map(|m| view! {
                <tr>
                    <td class="nowrap">{m.at}</td>
                    <td class="nowrap">{m.to}</td>
                    <td>
                        {m.purpose}
                        {m.cart_id.map(|id| view! { " · "<a href=cart_href(id)>{format!("cart {id}")}</a> })}
                        {m.order_id.map(|id| view! { " · "<a href=format!("/admin/orders/{id}")>{format!("order {id}")}</a> })}
                    </td>
                    <td><code>{m.template}</code></td>
                    <td><MessageStateBadge state=m.state/></td>
                    <td class="wrap">
                        {m.error}
                        {(!m.error_details.is_empty()).then(|| view! { <span class="stat-sub">" — "{m.error_details}</span> })}
                    </td>
                    <td class="wrap"><code>{m.wamid}</code></td>
                </tr>
            }).collect_view()}
        </DataTable>
    }
}
