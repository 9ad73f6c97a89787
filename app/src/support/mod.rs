//! The support area: the ticket inbox, one ticket's page, and the support form's
//! settings; and the navigation's count of tickets with unread customer messages.

pub mod inbox;
pub mod settings;
pub mod ticket;

use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_location};
use serde::{Deserialize, Serialize};
use vocabulary::support::TicketStatus;

use crate::error::PanelError;

pub const INBOX_PATH: &str = "/admin/support";

/// The ticket statuses as the panel offers them: (value, label), in the order a ticket
/// goes through them.
pub fn statuses() -> impl Iterator<Item = (&'static str, &'static str)> {
    TicketStatus::ALL.into_iter().map(|s| (s.as_str(), s.label()))
}

/// The label of a status value, or the value itself when it is not one of ours.
pub fn status_label(value: &str) -> &str {
    value.parse::<TicketStatus>().map_or(value, |status| status.label())
}

/// Someone a ticket can be given to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agent {
    pub id: i64,
    pub name: String,
}

/// The enabled users, by name: every role may work tickets, so each is an assignee.
#[cfg(feature = "ssr")]
pub(crate) async fn agents(db: &backend::db::Db) -> Result<Vec<Agent>, PanelError> {
    let mut agents: Vec<Agent> = backend::users::list(db)
        .await?
        .into_iter()
        .filter(|u| !u.disabled)
        .map(|u| Agent { id: u.id, name: if u.name.trim().is_empty() { u.email } else { u.name } })
        .collect();
    agents.sort_by_cached_key(|a| a.name.to_lowercase());
    Ok(agents)
}

/// The people tickets can be assigned to, for the inbox's filter.
#[server(endpoint = "support_agents")]
pub async fn support_agents() -> Result<Vec<Agent>, PanelError> {
    let ctx = crate::context::services()?;
    crate::context::require_user().await?;
    agents(&ctx.db).await
}

/// Open and waiting tickets with a customer message nobody has read yet.
#[server(endpoint = "support_unread_count")]
pub async fn support_unread_count() -> Result<i64, PanelError> {
    let ctx = crate::context::services()?;
    crate::context::require_user().await?;
    Ok(backend::support::tickets::unread_count(&ctx.db).await?)
}

/// Asks for the navigation's unread count again; shared through the panel's context so
/// a page that reads or answers a ticket can update it.
#[derive(Clone, Copy)]
pub struct UnreadCount {
    changed: RwSignal<u32>,
}

/// Makes the navigation's unread count available to the panel's pages. Called once, by
/// the panel's frame.
pub fn provide_unread_count() -> UnreadCount {
    let count = UnreadCount { changed: RwSignal::new(0) };
    provide_context(count);
    count
}

/// Fetches the navigation's unread count again (a ticket was read, answered or closed).
pub fn refresh_unread_count() {
    if let Some(count) = use_context::<UnreadCount>() {
        count.changed.update(|n| *n += 1);
    }
}

/// The navigation's Support link, with the unread count when there is one: it reads
/// "Support (3)" and is named "Support (3 unread)" for screen readers (the hidden words are
/// a block of their own: inside the visible text they would add a space to the name). The
/// count is asked for again on each move to another page, and when a page says it changed.
#[component]
pub fn SupportNavLink(count: UnreadCount, label: &'static str) -> impl IntoView {
    let location = use_location();
    let unread =
        crate::loaded::load(move || (location.pathname.get(), count.changed.get()), |_| support_unread_count());
    view! {
        <A href=INBOX_PATH exact=true>
            {label}
            <Transition>
                {move || Suspend::new(async move {
                    unread.await.ok().filter(|n| *n > 0).map(|n| view! {
                        <span class="unread-count" aria-hidden="true">" ("{n}")"</span>
                        <span class="visually-hidden">{format!(" ({n} unread)")}</span>
                    })
                })}
            </Transition>
        </A>
    }
}

/// A ticket's status as a badge: its words, not only its colour.
#[component]
pub fn StatusBadge(status: String) -> impl IntoView {
    let label = status_label(&status).to_owned();
    view! { <span class=format!("badge ticket-{status}")>{label}</span> }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_reads_as_its_label_and_anything_else_as_itself() {
        assert_eq!(status_label("pending"), "Waiting for the customer");
        assert_eq!(status_label("odd"), "odd");
    }
}
