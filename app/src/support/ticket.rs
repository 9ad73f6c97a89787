//! One ticket's page: who wrote and about which order, the thread oldest first (the
//! customer's messages, the shop's emailed replies with their email's state, internal
//! notes), and what an agent does with it: reply, note, change the status, assign.
//! Opening the page marks the ticket read.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};
use vocabulary::support::MAX_BODY_CHARS;

use super::{Agent, INBOX_PATH, StatusBadge, refresh_unread_count, statuses};
use crate::{
    error::PanelError,
    forms::{PageActions, action_error, reset_on_success},
    loaded::LoadedRecord,
    orders::OrderStatusBadge,
};

/// The order a ticket is about, as the ticket page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub id: i64,
    pub number: String,
    /// `processing`, for the badge's class.
    pub status: String,
    pub status_label: String,
    pub total: String,
    pub items: i64,
    pub placed: String,
}

/// One message of the thread.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageView {
    /// `customer`, `reply` or `note`.
    pub kind: String,
    pub author: String,
    pub body: String,
    pub at: String,
    /// A reply's email: `queued`, `sent` or `failed`.
    pub mail_state: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketView {
    pub id: i64,
    pub reference: String,
    pub subject: String,
    pub status: String,
    pub customer_name: String,
    pub customer_email: String,
    pub assignee_id: Option<i64>,
    pub assignee: Option<String>,
    pub opened: String,
    pub order: Option<OrderLine>,
    pub messages: Vec<MessageView>,
    /// Who the ticket can be given to.
    pub agents: Vec<Agent>,
    pub time_zone: String,
    /// The ticket had unread messages until this page was opened.
    pub was_unread: bool,
}

/// The ticket, marked read, or `None` when there is no such ticket.
#[server(endpoint = "get_ticket")]
pub async fn get_ticket(id: i64) -> Result<Option<TicketView>, PanelError> {
    use backend::support::tickets;
    let ctx = crate::context::services()?;
    crate::context::require_user().await?;
    let ticket = match tickets::get(&ctx.db, id).await {
        Ok(ticket) => ticket,
        Err(backend::Error::NotFound) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let was_unread = ticket.row.unread;
    if was_unread {
        tickets::mark_read(&ctx.db, id).await?;
    }
    let store = backend::settings::get(&ctx.db).await?;
    let tz = store.tz();
    let at = |t: i64| backend::clock::local_minute(t, tz);
    let mut agents = super::agents(&ctx.db).await?;
    // Someone since disabled still shows as the assignee.
    if let (Some(id), Some(name)) = (ticket.row.assignee_user_id, &ticket.row.assignee_name)
        && !agents.iter().any(|a| a.id == id)
    {
        agents.push(Agent { id, name: format!("{name} (disabled)") });
    }
    let row = ticket.row;
    let customer = row.customer_name.clone();
    Ok(Some(TicketView {
        id: row.id,
        reference: row.reference,
        subject: row.subject,
        status: row.status.as_str().to_owned(),
        customer_name: row.customer_name,
        customer_email: row.customer_email,
        assignee_id: row.assignee_user_id,
        assignee: row.assignee_name,
        opened: at(row.created_at),
        order: ticket.order.map(|o| OrderLine {
            id: o.id,
            number: o.number,
            status: o.status.as_str().to_owned(),
            status_label: o.status.label().to_owned(),
            total: vocabulary::money::format(o.total, &o.currency, &store.locale),
            items: o.items_count,
            placed: at(o.created_at),
        }),
        messages: ticket
            .messages
            .into_iter()
            .map(|m| MessageView {
                author: match m.kind.as_str() {
                    "customer" => customer.clone(),
                    _ => m.author_name.unwrap_or_else(|| "A former user".to_owned()),
                },
                kind: m.kind,
                body: m.body,
                at: at(m.created_at),
                mail_state: m.mail_state,
            })
            .collect(),
        agents,
        time_zone: store.time_zone,
        was_unread,
    }))
}

/// Who is acting: any signed-in user, as every role works tickets.
#[cfg(feature = "ssr")]
async fn acting() -> Result<crate::context::Acting, PanelError> {
    crate::context::acting(|_| true).await
}

/// Emails `body` to the customer and adds it to the thread.
#[server(endpoint = "reply_to_ticket")]
pub async fn reply_to_ticket(id: i64, body: String) -> Result<String, PanelError> {
    let me = acting().await?;
    backend::support::tickets::reply(&me.ctx.db, me.actor(), id, &body).await?;
    Ok("The reply is added and queued to be emailed to the customer.".to_owned())
}

/// Adds an internal note: for the shop, never emailed.
#[server(endpoint = "add_ticket_note")]
pub async fn add_ticket_note(id: i64, body: String) -> Result<String, PanelError> {
    let me = acting().await?;
    backend::support::tickets::note(&me.ctx.db, me.actor(), id, &body).await?;
    Ok("The internal note is added. It was not emailed.".to_owned())
}

#[server(endpoint = "set_ticket_status")]
pub async fn set_ticket_status(id: i64, status: String) -> Result<String, PanelError> {
    use backend::support::{TicketStatus, tickets};
    let me = acting().await?;
    let status: TicketStatus = status.parse()?;
    tickets::set_status(&me.ctx.db, me.actor(), id, status).await?;
    Ok(format!("The ticket is now {}.", status.label().to_lowercase()))
}

/// Gives the ticket to the user `assignee` (an id), or to nobody when it is empty.
#[server(endpoint = "assign_ticket")]
pub async fn assign_ticket(id: i64, assignee: String) -> Result<String, PanelError> {
    let me = acting().await?;
    let assignee = match assignee.trim() {
        "" => None,
        user => {
            Some(user.parse::<i64>().map_err(|_| PanelError::Message("choose a user to assign the ticket to".into()))?)
        }
    };
    let row = backend::support::tickets::assign(&me.ctx.db, me.actor(), id, assignee).await?;
    Ok(match row.assignee_name {
        Some(name) => format!("The ticket is assigned to {name}."),
        None => "The ticket is unassigned.".to_owned(),
    })
}

#[component]
pub fn TicketPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok())));
    let actions = TicketActions {
        reply: ServerAction::<ReplyToTicket>::new(),
        note: ServerAction::<AddTicketNote>::new(),
        status: ServerAction::<SetTicketStatus>::new(),
        assign: ServerAction::<AssignTicket>::new(),
    };
    let page = PageActions::default();
    page.follow(actions.reply);
    page.follow(actions.note);
    page.follow(actions.status);
    page.follow(actions.assign);
    page.after_success(refresh_unread_count);
    let ticket = crate::loaded::load(
        move || (id.get(), page.reloads.get()),
        |(id, _)| async move {
            match id {
                Some(id) => get_ticket(id).await,
                None => Ok(None),
            }
        },
    );
    // Opening an unread ticket lowers the navigation's count.
    Effect::new(move |_| {
        if ticket.with(|t| matches!(t, Some(Ok(Some(t))) if t.was_unread)) {
            refresh_unread_count();
        }
    });
    view! {
        <p class="back-link"><a href=INBOX_PATH>"← Back to the inbox"</a></p>
        <p role="status" class="success">{move || page.done.get()}</p>
        <LoadedRecord resource=ticket thing="ticket" back=INBOX_PATH back_label="Back to the inbox"
            show=move |ticket| view! { <TicketDetail ticket actions/> }/>
    }
}

/// What can be done to a ticket, one action each.
#[derive(Clone, Copy)]
struct TicketActions {
    reply: ServerAction<ReplyToTicket>,
    note: ServerAction<AddTicketNote>,
    status: ServerAction<SetTicketStatus>,
    assign: ServerAction<AssignTicket>,
}

#[component]
fn TicketDetail(ticket: TicketView, actions: TicketActions) -> impl IntoView {
    let title = format!("{} · {} · Backroom", ticket.reference, ticket.subject);
    view! {
        <Title text=title/>
        <header class="ticket-head">
            <p class="ticket-reference"><code>{ticket.reference.clone()}</code></p>
            <h1>{ticket.subject.clone()}</h1>
            <StatusBadge status=ticket.status.clone()/>
        </header>
        <dl class="ticket-facts">
            <div><dt>"Customer"</dt><dd>{ticket.customer_name.clone()}" "
                <a href=format!("mailto:{}", ticket.customer_email)>{ticket.customer_email.clone()}</a></dd></div>
            <div><dt>"Opened"</dt><dd>{ticket.opened.clone()}</dd></div>
            <div><dt>"Assignee"</dt><dd>{ticket.assignee.clone().unwrap_or_else(|| "Unassigned".to_owned())}</dd></div>
        </dl>
        <p class="muted">"Times in "{ticket.time_zone.clone()}"."</p>
        <OrderSummary order=ticket.order.clone()/>
        <section aria-labelledby="thread-heading">
            <h2 id="thread-heading">"Conversation"</h2>
            <ol class="thread">
                {ticket.messages.iter().cloned().map(message).collect_view()}
            </ol>
        </section>
        <div class="ticket-columns">
            <ReplyForm id=ticket.id customer_email=ticket.customer_email.clone() action=actions.reply/>
            <NoteForm id=ticket.id action=actions.note/>
        </div>
        <div class="ticket-columns">
            <StatusForm id=ticket.id current=ticket.status.clone() action=actions.status/>
            <AssignForm ticket action=actions.assign/>
        </div>
    }
}

#[component]
fn OrderSummary(order: Option<OrderLine>) -> impl IntoView {
    let Some(o) = order else {
        return view! {
            <section class="card" aria-labelledby="ticket-order-heading">
                <h2 id="ticket-order-heading">"Order"</h2>
                <p class="muted">"The order this ticket was about is no longer in Backroom."</p>
            </section>
        }
        .into_any();
    };
    let items = if o.items == 1 { "1 item".to_owned() } else { format!("{} items", o.items) };
    view! {
        <section class="card" aria-labelledby="ticket-order-heading">
            <h2 id="ticket-order-heading">"Order "<a href=format!("/admin/orders/{}", o.id)>"#"{o.number.clone()}</a></h2>
            <dl class="ticket-facts">
                <div><dt>"Status"</dt><dd><OrderStatusBadge status=o.status label=o.status_label/></dd></div>
                <div><dt>"Total"</dt><dd>{o.total}" ("{items}")"</dd></div>
                <div><dt>"Placed"</dt><dd>{o.placed}</dd></div>
            </dl>
        </section>
    }
    .into_any()
}

/// One message: who and when, what kind (a note says it was not emailed; a reply says
/// how its email fares), and the text exactly as written — as text, never as markup.
fn message(m: MessageView) -> impl IntoView {
    let kind = match m.kind.as_str() {
        "customer" => "From the customer".to_owned(),
        "reply" => match m.mail_state.as_deref() {
            Some("sent") => "Reply — emailed".to_owned(),
            Some("failed") => "Reply — the email failed; see Email in the navigation".to_owned(),
            Some(state) => format!("Reply — email {state}"),
            None => "Reply".to_owned(),
        },
        "note" => "Internal note — not emailed".to_owned(),
        other => other.to_owned(),
    };
    view! {
        <li class=format!("card message message-{}", m.kind) data-kind=m.kind.clone()>
            <p class="message-meta">
                <strong class="message-kind">{kind}</strong>" · "{m.author}" · "{m.at}
            </p>
            <p class="message-body">{m.body}</p>
        </li>
    }
}

#[component]
fn ReplyForm(id: i64, customer_email: String, action: ServerAction<ReplyToTicket>) -> impl IntoView {
    let error = action_error(action);
    let form = NodeRef::<leptos::html::Form>::new();
    reset_on_success(action, form);
    view! {
        <section class="card" aria-labelledby="reply-heading">
            <h2 id="reply-heading">"Reply to the customer"</h2>
            <ActionForm action node_ref=form>
                <input type="hidden" name="id" value=id/>
                <div class="field">
                    <label for="reply-body">"Reply"</label>
                    <textarea id="reply-body" name="body" rows="6" maxlength=MAX_BODY_CHARS.to_string() required
                        aria-describedby="reply-hint"></textarea>
                    <p class="hint" id="reply-hint">"Emailed to "{customer_email}" and added to the conversation. An open ticket then waits for the customer."</p>
                </div>
                {move || error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                <button type="submit" class="primary" disabled=move || action.pending().get()>"Send reply"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn NoteForm(id: i64, action: ServerAction<AddTicketNote>) -> impl IntoView {
    let error = action_error(action);
    let form = NodeRef::<leptos::html::Form>::new();
    reset_on_success(action, form);
    view! {
        <section class="card note-form" aria-labelledby="ticket-note-heading">
            <h2 id="ticket-note-heading">"Internal note"</h2>
            <ActionForm action node_ref=form>
                <input type="hidden" name="id" value=id/>
                <div class="field">
                    <label for="ticket-note-body">"Note"</label>
                    <textarea id="ticket-note-body" name="body" rows="4" maxlength=MAX_BODY_CHARS.to_string() required
                        aria-describedby="ticket-note-hint"></textarea>
                    <p class="hint" id="ticket-note-hint">"For the shop only: it is never emailed to the customer."</p>
                </div>
                {move || error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                <button type="submit" disabled=move || action.pending().get()>"Add internal note"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn StatusForm(id: i64, current: String, action: ServerAction<SetTicketStatus>) -> impl IntoView {
    let error = action_error(action);
    view! {
        <section class="card" aria-labelledby="ticket-status-heading">
            <h2 id="ticket-status-heading">"Change the status"</h2>
            <ActionForm action>
                <input type="hidden" name="id" value=id/>
                <div class="field">
                    <label for="ticket-status">"Status"</label>
                    <select id="ticket-status" name="status">
                        {statuses().map(|(value, label)| view! {
                            <option value=value selected=current == value>{label}</option>
                        }).collect_view()}
                    </select>
                </div>
                {move || error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                <button type="submit" disabled=move || action.pending().get()>"Change status"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn AssignForm(ticket: TicketView, action: ServerAction<AssignTicket>) -> impl IntoView {
    let error = action_error(action);
    let current = ticket.assignee_id;
    view! {
        <section class="card" aria-labelledby="ticket-assignee-heading">
            <h2 id="ticket-assignee-heading">"Assignee"</h2>
            <ActionForm action>
                <input type="hidden" name="id" value=ticket.id/>
                <div class="field">
                    <label for="ticket-assignee">"Assign to"</label>
                    <select id="ticket-assignee" name="assignee">
                        <option value="" selected=current.is_none()>"Nobody"</option>
                        {ticket.agents.into_iter().map(|a| view! {
                            <option value=a.id.to_string() selected=current == Some(a.id)>{a.name}</option>
                        }).collect_view()}
                    </select>
                </div>
                {move || error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                <button type="submit" disabled=move || action.pending().get()>"Assign"</button>
            </ActionForm>
        </section>
    }
}
