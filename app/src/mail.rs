//! The email page: who the shop sends as, where its notifications go, a test email, and
//! the outbox — every email with its state, the mail server's reply when one failed,
//! and a way to send a failed one again.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};
use vocabulary::people::{Email, MAX_NAME_CHARS};

use crate::{
    error::PanelError,
    forms::action_error,
    loaded::{DataTable, Loaded},
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailView {
    pub from_name: String,
    pub from_address: String,
    pub notify_address: String,
    /// What is used when the fields above are empty.
    pub sending_as: String,
    /// Where email goes: SMTP, or files in a folder.
    pub delivery: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxRow {
    pub id: i64,
    pub created: String,
    pub kind: String,
    pub to: String,
    pub subject: String,
    pub state: String,
    pub attempts: i64,
    pub last_error: String,
    pub order_id: Option<i64>,
}

#[server(endpoint = "mail_settings")]
pub async fn mail_settings() -> Result<MailView, PanelError> {
    let ctx = crate::context::services()?;
    crate::context::require_role(backend::users::Role::manages_store).await?;
    let s = backend::mail::settings(&ctx.db).await?;
    let sender = s.sender(&backend::settings::get(&ctx.db).await?);
    Ok(MailView {
        sending_as: format!("{} <{}>", sender.name, sender.address),
        from_name: s.from_name,
        from_address: s.from_address,
        notify_address: s.notify_address,
        delivery: ctx.mail.describe().to_string(),
    })
}

#[server(endpoint = "save_mail_settings")]
pub async fn save_mail_settings(
    from_name: String,
    from_address: String,
    notify_address: String,
) -> Result<(), PanelError> {
    let me = crate::context::acting(backend::users::Role::manages_store).await?;
    let new = backend::mail::MailSettings { from_name, from_address, notify_address };
    backend::mail::update_settings(&me.ctx.db, &me.user, me.ip.as_deref(), new).await?;
    Ok(())
}

/// Queues the test email; answers where it goes.
#[server(endpoint = "send_test_mail")]
pub async fn send_test_mail(to: String) -> Result<String, PanelError> {
    let me = crate::context::acting(backend::users::Role::manages_store).await?;
    Ok(backend::mail::send_test(&me.ctx.db, &me.user, me.ip.as_deref(), &to).await?)
}

#[server(endpoint = "outbox")]
pub async fn outbox(state: String) -> Result<Vec<OutboxRow>, PanelError> {
    let ctx = crate::context::services()?;
    crate::context::require_role(backend::users::Role::manages_store).await?;
    if !["", "queued", "sent", "failed"].contains(&state.as_str()) {
        return Err(PanelError::Message("the state must be queued, sent or failed".into()));
    }
    let tz = backend::settings::get(&ctx.db).await?.tz();
    let state = Some(state.as_str()).filter(|s| !s.is_empty());
    // The newest hundred; older ones stay in the outbox table.
    Ok(backend::mail::outbox::recent(&ctx.db, state, None, 100)
        .await?
        .into_iter()
        .map(|m| OutboxRow {
            id: m.id,
            created: backend::clock::local_minute(m.created_at, tz),
            kind: m.kind,
            to: if m.to_name.is_empty() { m.to_address } else { format!("{} <{}>", m.to_name, m.to_address) },
            subject: m.subject,
            state: m.state,
            attempts: m.attempts,
            last_error: m.last_error.unwrap_or_default(),
            order_id: m.order_id,
        })
        .collect())
}

#[server(endpoint = "retry_mail")]
pub async fn retry_mail(mail_id: i64) -> Result<(), PanelError> {
    let ctx = crate::context::services()?;
    crate::context::require_role(backend::users::Role::manages_store).await?;
    backend::mail::outbox::retry(&ctx.db, mail_id).await?;
    Ok(())
}

#[component]
pub fn MailPage() -> impl IntoView {
    let save = ServerAction::<SaveMailSettings>::new();
    let test = ServerAction::<SendTestMail>::new();
    let retry = ServerAction::<RetryMail>::new();
    let settings = crate::loaded::load(move || save.version().get(), |_| mail_settings());
    let state = RwSignal::new(String::new());
    let mails = crate::loaded::load(
        move || (state.get(), test.version().get(), retry.version().get()),
        |(state, _, _)| outbox(state),
    );
    let save_error = action_error(save);
    let test_error = action_error(test);
    let retry_error = action_error(retry);
    let saved = move || matches!(save.value().get(), Some(Ok(())));
    let test_sent = move || test.value().get().and_then(Result::ok);
    view! {
        <Title text="Email · Backroom"/>
        <h1>"Email"</h1>
        <Loaded resource=settings show={move |s: MailView| view! {
            <p class="muted">"Email goes out as " <strong>{s.sending_as.clone()}</strong> ", through " {s.delivery.clone()} "."</p>
            <div class="card">
                <h2>"Sender and notifications"</h2>
                <ActionForm action=save>
                    <div class="field">
                        <label for="from_name">"Sender name (empty: the store name)"</label>
                        <input id="from_name" name="from_name" maxlength=MAX_NAME_CHARS.to_string() value=s.from_name.clone()/>
                    </div>
                    <div class="field">
                        <label for="from_address">"Sender address (empty: no-reply at the shop's domain)"</label>
                        <input id="from_address" name="from_address" type="email" maxlength=Email::MAX_LENGTH.to_string() value=s.from_address.clone()/>
                    </div>
                    <div class="field">
                        <label for="notify_address">"The shop's notification address (new tickets; customers' replies)"</label>
                        <input id="notify_address" name="notify_address" type="email" maxlength=Email::MAX_LENGTH.to_string() value=s.notify_address.clone()/>
                    </div>
                    <button type="submit" class="primary" disabled=move || save.pending().get()>"Save email settings"</button>
                </ActionForm>
                {move || save_error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                {move || saved().then(|| view! { <p class="success" role="status">"Saved."</p> })}
            </div>
        }}/>
        <div class="card">
            <h2>"Send a test email"</h2>
            <ActionForm action=test>
                <div class="field">
                    <label for="test_to">"To (empty: the notification address, else you)"</label>
                    <input id="test_to" name="to" type="email" maxlength=Email::MAX_LENGTH.to_string()/>
                </div>
                <button type="submit" disabled=move || test.pending().get()>"Send test email"</button>
            </ActionForm>
            {move || test_error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            {move || test_sent().map(|to| view! { <p class="success" role="status">"Queued for " {to} "; its state shows below."</p> })}
        </div>
        <h2>"Outbox"</h2>
        <div class="field inline">
            <label for="outbox_state">"Show"</label>
            <select id="outbox_state" on:change=move |ev| state.set(event_target_value(&ev))>
                <option value="">"All"</option>
                <option value="queued">"Queued"</option>
                <option value="sent">"Sent"</option>
                <option value="failed">"Failed"</option>
            </select>
        </div>
        {move || retry_error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        <Loaded resource=mails show={move |rows: Vec<OutboxRow>| {
            if rows.is_empty() {
                return view! { <p class="card">"No emails yet."</p> }.into_any();
            }
            view! {
                <DataTable headings={&["Queued", "What", "To", "Subject", "State", "Attempts", "Mail server's reply", "Action"]}>
                    {rows.into_iter().map(|m| view! {
                        <tr>
                            <td class="nowrap">{m.created}</td>
                            <td>{m.kind}{m.order_id.map(|id| view! { " " <a href=format!("/admin/orders/{id}")>"(order)"</a> })}</td>
                            <td>{m.to}</td>
                            <td class="wrap">{m.subject}</td>
                            <td><span class=format!("badge mail-{}", m.state)>{m.state.clone()}</span></td>
                            <td>{m.attempts}</td>
                            <td class="wrap">{m.last_error}</td>
                            <td>{(m.state == "failed").then(|| view! {
                                <ActionForm action=retry>
                                    <input type="hidden" name="mail_id" value=m.id/>
                                    <button type="submit" aria-label=format!("Send email {} again", m.id)>"Send again"</button>
                                </ActionForm>
                            })}</td>
                        </tr>
                    }).collect_view()}
                </DataTable>
            }.into_any()
        }}/>
    }
}
