//! Notes on an order: private to the shop, or to the customer. A customer note also
//! writes an `order.customer_note` event in the same transaction; the mail outbox (which
//! comes with the support capability) sends the email from it, so none is lost.

use super::{detail::Note, status::Actor};
use crate::{
    Error, Result,
    audit::{self, Event},
    clock::now,
    db::Db,
};

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
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO order_notes (order_id, author_user_id, is_customer_note, body, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(order_id)
    .bind(actor.user.id)
    .bind(i64::from(to_customer))
    .bind(body)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    if to_customer {
        sqlx::query("INSERT INTO order_events (order_id, kind, payload, created_at) VALUES ($1, 'order.customer_note', $2, $3)")
            .bind(order_id)
            .bind(serde_json::json!({ "note_id": id }).to_string())
            .bind(now)
            .execute(&mut *tx)
            .await?;
    }
    audit::record(&mut *tx, &Event {
        actor_user_id: Some(actor.user.id),
        actor: &actor.user.email,
        credential: actor.credential,
        action: if to_customer { "order.customer_note" } else { "order.note" },
        target: &format!("order:{order_id} #{number}"),
        ip: actor.ip,
        ..Event::default()
    })
    .await?;
    tx.commit().await?;
    Ok(Note { id, author_user_id: Some(actor.user.id), to_customer, body: body.to_owned(), created_at: now })
}
