//! Changing an order's status by hand, under the explicit policy of
//! [`OrderStatus::next`](vocabulary::orders::OrderStatus::next): each status lists where
//! it may go, some moves need a reason (reopening a completed or cancelled order), nothing
//! leaves `refunded`, and nothing enters it here — a refund does that. A change writes, in
//! one transaction: the order, a system note, an `order.status_changed` event for later
//! work (notifications, accounting), the audit entry, and the daily sales figures.

use chrono_tz::Tz;
use sqlx::Row;
use vocabulary::orders::MAX_REASON_CHARS;

use super::{
    OrderStatus,
    events::{OrderEvent, Subscribers},
    trail::{self, Actor},
};
use crate::{
    Error, Result,
    clock::now,
    db::Db,
    sales_daily::{Accumulator, SaleFacts, SoldLine, counts_as_sale},
};

/// Moves the order to `to`, returning the status it left.
pub async fn change(
    db: &Db,
    events: &Subscribers,
    tz: Tz,
    actor: Actor<'_>,
    order_id: i64,
    to: OrderStatus,
    reason: Option<&str>,
) -> Result<OrderStatus> {
    if !actor.user.role.manages_orders() {
        return Err(Error::Forbidden);
    }
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if reason.is_some_and(|r| r.chars().count() > MAX_REASON_CHARS) {
        return Err(Error::invalid(format!("the reason is at most {MAX_REASON_CHARS} characters")));
    }
    let mut tx = db.begin().await?;
    let row = sqlx::query("SELECT number, status, created_at, currency, total, items_count, total_tax, shipping_total FROM orders WHERE id = $1")
        .bind(order_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(Error::NotFound)?;
    let from = OrderStatus::stored(&row.try_get::<String, _>("status")?)?;
    let Some(&(_, needs_reason)) = from.next().iter().find(|(next, _)| *next == to) else {
        return Err(Error::InvalidTransition {
            from: from.as_str().to_owned(),
            to: to.as_str().to_owned(),
            allowed: from.next().iter().map(|(s, _)| s.as_str().to_owned()).collect(),
        });
    };
    if needs_reason && reason.is_none() {
        return Err(Error::invalid(format!("moving an order from {} to {} needs a reason", from.label(), to.label())));
    }
    let now = now();
    let moved = sqlx::query(
        "UPDATE orders SET status = $1, updated_at = $2, completed_at = CASE WHEN $1 = 'completed' THEN $2 ELSE completed_at END \
         WHERE id = $3 AND status = $4",
    )
    .bind(to.as_str())
    .bind(now)
    .bind(order_id)
    .bind(from.as_str())
    .execute(&mut *tx)
    .await?;
    if moved.rows_affected() == 0 {
        return Err(Error::Conflict("the order's status changed meanwhile; reload it and try again".into()));
    }
    let note = match reason {
        Some(reason) => {
            format!("Status changed from {} to {} by {}. Reason: {reason}", from.label(), to.label(), actor.user.email)
        }
        None => format!("Status changed from {} to {} by {}.", from.label(), to.label(), actor.user.email),
    };
    trail::note(&mut tx, order_id, actor, false, &note, now).await?;
    let event = OrderEvent::StatusChanged {
        from: from.as_str().into(),
        to: to.as_str().into(),
        by: Some(actor.user.id),
        reason: reason.map(Into::into),
    };
    events.publish(&mut tx, order_id, &event, now).await?;
    let details =
        format!("{} → {}{}", from.as_str(), to.as_str(), reason.map(|r| format!("; {r}")).unwrap_or_default());
    trail::audit(&mut tx, actor, "order.status_changed", order_id, &row.try_get::<String, _>("number")?, &details)
        .await?;
    let currency: String = row.try_get("currency")?;
    let counts_changed = counts_as_sale(from.as_str()) != counts_as_sale(to.as_str());
    // The lines are read only when the order enters or leaves the sales.
    let lines = if counts_changed { SoldLine::of_order(&mut tx, order_id).await? } else { Vec::new() };
    let facts = |status: OrderStatus| -> Result<SaleFacts<'_>> {
        Ok(SaleFacts {
            created_at: row.try_get("created_at")?,
            status: status.as_str(),
            currency: &currency,
            total: row.try_get("total")?,
            items: row.try_get("items_count")?,
            tax: row.try_get("total_tax")?,
            shipping: row.try_get("shipping_total")?,
            lines: &lines,
        })
    };
    if counts_changed {
        let mut sales = Accumulator::default();
        sales.remove_order(tz, &facts(from)?);
        sales.add_order(tz, &facts(to)?);
        sales.add_to_table(&mut tx).await?;
    }
    tx.commit().await?;
    events.committed();
    Ok(from)
}
