//! Notes on an order: private to the shop, or to the customer. A customer note also
//! writes an `order.customer_note` event in the same transaction; the mail outbox (which
//! comes with the support capability) sends the email from it, so none is lost.

use super::{
    detail::Note,
    trail::{self, Actor},
};
use crate::{Error, Result, clock::now, db::Db};

pub const MAX_CHARS: usize = 5_000;

pub async fn add(db: &Db, actor: Actor<'_>, order_id: i64, body: &str, to_customer: bool) -> Result<Note> {
    if !actor.user.role.manages_orders() {
        return Err(Error::Forbidden);
    }
    let body = body.trim();
    if body.is_empty() || body.chars().count() > MAX_CHARS {
        return Err(Error::invalid(format!("a note needs 1 to {MAX_CHARS} characters")));
    }
    let now = now();
    let mut tx = db.pool().begin().await?;
    let number: Option<String> = sqlx::query_scalar("SELECT number FROM orders WHERE id = $1").bind(order_id).fetch_optional(&mut *tx).await?;
    let number = number.ok_or(Error::NotFound)?;
    let id = trail::note(&mut tx, order_id, actor, to_customer, body, now).await?;
    if to_customer {
        trail::event(&mut tx, order_id, "order.customer_note", serde_json::json!({ "note_id": id }), now).await?;
    }
    let action = if to_customer { "order.customer_note" } else { "order.note" };
    trail::audit(&mut tx, actor, action, order_id, &number, "").await?;
    tx.commit().await?;
    Ok(Note { id, author_user_id: Some(actor.user.id), to_customer, body: body.to_owned(), created_at: now })
}
