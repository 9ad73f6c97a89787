//! Which carts an order ends. New orders are read in id order after a watermark, however
//! they arrived; an order matches the open cart of the same phone (in E.164) or email.
//! The cart is **recovered** only when a message went out before the order (and the
//! order's total is recorded); an order before any message closes it as **converted**.
//! Either way its sequence ends. A click alone never counts.
//!
//! Failed, cancelled and draft orders are not purchases and end nothing.

use sqlx::Row;
use vocabulary::phone::Phone;

use super::{carts, config::Config};
use crate::{Result, clock::now, db::Db};

/// How many orders one pass reads.
const BATCH: i64 = 500;

/// Looks at the orders that arrived since the last pass; returns how many carts closed.
/// Safe to run from several workers at once: each change is conditional.
pub async fn scan(db: &Db, config: &Config) -> Result<usize> {
    // One indexed read when nothing is new: every recovery step makes it before sending.
    let orders = sqlx::query(
        "SELECT id, number, status, billing_phone, billing_email, total, created_at FROM orders \
         WHERE id > (SELECT orders_seen_id FROM whatsapp_settings WHERE id = 1) ORDER BY id LIMIT $1",
    )
    .bind(BATCH)
    .fetch_all(db.pool())
    .await?;
    let Some(last) = orders.last() else { return Ok(0) };
    let last: i64 = last.try_get("id")?;
    let mut closed = 0;
    let mut tx = db.begin().await?;
    for order in &orders {
        let status: String = order.try_get("status")?;
        if matches!(status.as_str(), "failed" | "cancelled" | "trash" | "checkout-draft") {
            continue;
        }
        let phone = Phone::parse(&order.try_get::<String, _>("billing_phone")?, &config.default_country)
            .map(String::from)
            .unwrap_or_default();
        let email = order.try_get::<String, _>("billing_email")?.trim().to_lowercase();
        if phone.is_empty() && email.is_empty() {
            continue;
        }
        let cart = sqlx::query(
            "SELECT id, first_messaged_at FROM whatsapp_carts WHERE state = 'open' AND (phone = $1 OR (email = $2 AND email <> '')) ORDER BY id LIMIT 1",
        )
        .bind(&phone)
        .bind(&email)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(cart) = cart else { continue };
        let cart_id: i64 = cart.try_get("id")?;
        let (order_id, number, total, created_at): (i64, String, i64, i64) =
            (order.try_get("id")?, order.try_get("number")?, order.try_get("total")?, order.try_get("created_at")?);
        let messaged_before = cart.try_get::<Option<i64>, _>("first_messaged_at")?.is_some_and(|m| m <= created_at);
        let state = if messaged_before { "recovered" } else { "converted" };
        let at = now();
        let changed = sqlx::query(
            "UPDATE whatsapp_carts SET state = $1, order_id = $2, order_total_minor = $3, next_step = NULL, next_at = NULL, closed_at = $4, updated_at = $4 \
             WHERE id = $5 AND state = 'open'",
        )
        .bind(state)
        .bind(order_id)
        .bind(total)
        .bind(at)
        .bind(cart_id)
        .execute(&mut *tx)
        .await?;
        if changed.rows_affected() == 1 {
            closed += 1;
            let detail = if messaged_before {
                format!("order #{number} placed after a message")
            } else {
                format!("order #{number} placed before any message")
            };
            carts::event(&mut tx, cart_id, state, &detail).await?;
        }
    }
    sqlx::query("UPDATE whatsapp_settings SET orders_seen_id = $1 WHERE id = 1 AND orders_seen_id < $1")
        .bind(last)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(closed)
}
