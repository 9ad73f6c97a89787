//! Notes on an order: private to the shop, or to the customer. A customer note is
//! emailed to the order's billing address: the email is queued in the mail outbox in the
//! same transaction as the note (with an `order.customer_note` event for other
//! listeners), so none is lost. An order without a usable email address keeps the note
//! and sends nothing. A private note tells the other listeners too (`order.private_note`):
//! on an order the store keeps, both go to the store.

use sqlx::Row;
use vocabulary::orders::MAX_NOTE_CHARS;

use super::{
    detail::Note,
    events::{OrderEvent, Subscribers},
    trail::{self, Actor},
};
use crate::{
    Error, Result,
    clock::now,
    db::Db,
    mail::{
        outbox::{self, NewMail},
        templates::{self, Shop},
    },
    settings, typed_text,
};

pub async fn add(
    db: &Db,
    events: &Subscribers,
    actor: Actor<'_>,
    order_id: i64,
    body: &str,
    to_customer: bool,
) -> Result<Note> {
    if !actor.user.role.manages_orders() {
        return Err(Error::Forbidden);
    }
    let body = typed_text::within(body, MAX_NOTE_CHARS)
        .ok_or_else(|| Error::invalid(format!("a note needs 1 to {MAX_NOTE_CHARS} characters")))?;
    let now = now();
    // What a customer note's email needs, read only for one.
    let mail = if to_customer { Some((settings::get(db).await?, crate::mail::settings(db).await?)) } else { None };
    let mut tx = db.begin().await?;
    let order =
        sqlx::query("SELECT number, billing_first_name, billing_last_name, billing_email FROM orders WHERE id = $1")
            .bind(order_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(Error::NotFound)?;
    let number: String = order.try_get("number")?;
    let id = trail::note(&mut tx, order_id, actor, to_customer, body, now).await?;
    if let Some((store, mail_settings)) = &mail {
        let email: String = order.try_get("billing_email")?;
        let name = format!(
            "{} {}",
            order.try_get::<String, _>("billing_first_name")?,
            order.try_get::<String, _>("billing_last_name")?
        );
        let mail = if outbox::parse_address(&email).is_ok() {
            let content = templates::customer_note(Shop::from(store), &number, &name, body);
            let new = NewMail {
                kind: "order.customer_note",
                to_address: &email,
                to_name: &name,
                content: &content,
                reply_to: mail_settings.reply_to(),
                order_id: Some(order_id),
                ticket_id: None,
            };
            Some(outbox::queue(&mut tx, &new).await?)
        } else {
            tracing::info!(order = order_id, "a customer note was not emailed: the order has no usable email address");
            None
        };
        events.publish(&mut tx, order_id, &OrderEvent::CustomerNote { note_id: id, mail_id: mail }, now).await?;
    } else {
        events.publish(&mut tx, order_id, &OrderEvent::PrivateNote { note_id: id }, now).await?;
    }
    let action = if to_customer { "order.customer_note" } else { "order.note" };
    trail::audit(&mut tx, actor, action, order_id, &number, "").await?;
    tx.commit().await?;
    events.committed();
    Ok(Note { id, author_user_id: Some(actor.user.id), to_customer, body: body.to_owned(), created_at: now })
}
