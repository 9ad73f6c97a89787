//! Refunds: of an amount, or per line (quantity and amount), with a reason and an
//! explicit choice to restock. Never more than what remains refundable, per line and in
//! total, tax included — also when two refunds race for the last lira: the order's row is
//! locked first and its refunded total only moves under that lock. A refund asked for
//! with an idempotency key is made once. The order's totals, the daily sales (on the day
//! of the refund) and — when nothing is left — its status (`refunded`) follow in the same
//! transaction, with a note, an event and an audit entry.
//!
//! An order the store keeps is refunded by the store: once checked here, the refund is
//! handed to the integration that writes it there ([`Subscribers::take_refund`]), and
//! comes back as the store made it. The manager says where the money goes back from: the
//! order's payment provider, or nowhere (returned another way, only recorded).

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Row;
use vocabulary::{money, orders::MAX_REASON_CHARS};

use super::{
    OrderStatus,
    detail::{Refund, StoreWrite},
    events::{AskedLine, OrderEvent, RefundAsked, Subscribers},
    trail::{self, Actor},
};
use crate::{Error, Result, clock::now, db::Db, error::is_unique_violation, sales_daily::Accumulator};

/// A refund as asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewRefund {
    /// Minor units, tax included. With `lines`, it must equal their sum (or be left out).
    pub amount: Option<i64>,
    #[serde(default)]
    pub lines: Vec<NewRefundLine>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 500))]
    pub reason: String,
    /// Put the refunded quantities back in stock. Required: there is no default.
    pub restock: bool,
    /// For an order the store keeps, required: `gateway` gives the money back through the
    /// order's payment provider, `manual` records money returned another way. Backroom's
    /// own orders are recorded only (`manual`, or left out).
    #[serde(default)]
    pub payment: Option<RefundPayment>,
}

/// Where a refund's money goes back from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RefundPayment {
    /// Through the order's payment provider: the store asks it to send the money back.
    Gateway,
    /// Returned another way (cash, a transfer); only recorded.
    Manual,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewRefundLine {
    pub line_id: i64,
    /// Items given back (0 for a price adjustment).
    #[serde(default)]
    pub quantity: i64,
    /// Minor units, tax included.
    pub amount: i64,
}

/// What a refund request produced.
pub enum Refunded {
    /// Made in Backroom: just now (`created`), or found under a retried idempotency key.
    Made { refund: Refund, created: bool },
    /// Sent to the store, which keeps the order; it is made here when the store confirms.
    Sent(StoreWrite),
}

pub const MAX_LINES: usize = 200;

pub async fn refund(
    db: &Db,
    events: &Subscribers,
    tz: Tz,
    actor: Actor<'_>,
    order_id: i64,
    new: &NewRefund,
    idempotency_key: Option<&str>,
) -> Result<Refunded> {
    if !actor.user.role.manages_orders() {
        return Err(Error::Forbidden);
    }
    check_shape(new)?;
    let request_hash = hex(&Sha256::digest(serde_json::to_vec(new).unwrap_or_default()));
    if let Some(key) = idempotency_key {
        if key.is_empty() || key.len() > 200 {
            return Err(Error::invalid("the Idempotency-Key is 1 to 200 characters"));
        }
        if let Some(made) = made_with_key(db.pool(), order_id, key, &request_hash).await? {
            return answer(db, order_id, made, false).await;
        }
    }
    let now = now();
    let mut tx = db.begin().await?;
    // Take the order's row first: every refund of this order waits here for the others.
    let locked = sqlx::query("UPDATE orders SET updated_at = $1 WHERE id = $2")
        .bind(now)
        .bind(order_id)
        .execute(&mut *tx)
        .await?;
    if locked.rows_affected() == 0 {
        return Err(Error::NotFound);
    }
    // A retry that arrived while the first request was being made waited for the order's
    // row above; the first one's refund is now there, and is the answer.
    if let Some(key) = idempotency_key
        && let Some(made) = made_with_key(&mut *tx, order_id, key, &request_hash).await?
    {
        tx.rollback().await?;
        return answer(db, order_id, made, false).await;
    }
    let order = sqlx::query("SELECT number, status, currency, total, refunded_total FROM orders WHERE id = $1")
        .bind(order_id)
        .fetch_one(&mut *tx)
        .await?;
    let status = OrderStatus::stored(&order.try_get::<String, _>("status")?)?;
    let currency: String = order.try_get("currency")?;
    let remaining = order.try_get::<i64, _>("total")? - order.try_get::<i64, _>("refunded_total")?;
    if !status.is_refundable() {
        return Err(Error::Conflict(format!("an order that is {} cannot be refunded", status.label().to_lowercase())));
    }
    let lines = line_amounts(&mut tx, order_id, &new.lines).await?;
    let amount = new.amount.unwrap_or_else(|| new.lines.iter().map(|l| l.amount).sum());
    if amount > remaining {
        return Err(Error::Conflict(format!(
            "only {} remains refundable on this order",
            money::format(remaining, &currency, "en")
        )));
    }
    let asked = RefundAsked {
        amount,
        lines: new
            .lines
            .iter()
            .zip(&lines)
            .map(|(line, item)| AskedLine {
                line_id: line.line_id,
                quantity: line.quantity,
                amount: line.amount,
                tax: item.tax_of(line.amount),
            })
            .collect(),
        reason: new.reason.trim(),
        restock: new.restock,
        payment: new.payment,
        idempotency_key,
    };
    if let Some(write_id) = events.take_refund(&mut tx, order_id, &asked).await? {
        let number: String = order.try_get("number")?;
        let shown = money::format(amount, &currency, "en");
        trail::audit(&mut tx, actor, "order.refund_sent", order_id, &number, &shown).await?;
        tx.commit().await?;
        events.committed();
        return Ok(Refunded::Sent(super::detail::store_write(db, write_id).await?));
    }
    if new.payment == Some(RefundPayment::Gateway) {
        return Err(Error::invalid(
            "only the store refunds through a payment provider, and it does not keep this order: record the refund (`manual`)",
        ));
    }
    let refund_id: i64 = sqlx::query_scalar(
        "INSERT INTO refunds (order_id, amount, reason, restock, refunded_by, created_at, idempotency_key, request_hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(order_id)
    .bind(amount)
    .bind(new.reason.trim())
    .bind(i64::from(new.restock))
    .bind(actor.user.id)
    .bind(now)
    .bind(idempotency_key)
    .bind(&request_hash)
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| if is_unique_violation(&e) { Error::Conflict("this Idempotency-Key is being used by another refund right now".into()) } else { e.into() })?;
    for (line, item) in new.lines.iter().zip(&lines) {
        // Kept as WooCommerce keeps a refund's line (and an order's): before tax, and its tax.
        let tax = item.tax_of(line.amount);
        sqlx::query(
            "INSERT INTO refund_lines (refund_id, order_item_id, quantity, amount, tax) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(refund_id)
        .bind(line.line_id)
        .bind(line.quantity)
        .bind(line.amount - tax)
        .bind(tax)
        .execute(&mut *tx)
        .await?;
        if new.restock && line.quantity > 0 {
            restock(&mut tx, item, line.quantity, now).await?;
        }
    }
    sqlx::query("UPDATE orders SET refunded_total = refunded_total + $1 WHERE id = $2")
        .bind(amount)
        .bind(order_id)
        .execute(&mut *tx)
        .await?;
    let fully = amount == remaining;
    if fully {
        sqlx::query("UPDATE orders SET status = 'refunded' WHERE id = $1").bind(order_id).execute(&mut *tx).await?;
    }
    let shown = money::format(amount, &currency, "en");
    let reason = if new.reason.trim().is_empty() { String::new() } else { format!(": {}", new.reason.trim()) };
    let note = format!(
        "Refunded {shown} by {}{reason}.{}",
        actor.user.email,
        if fully { " The order is fully refunded." } else { "" }
    );
    trail::note(&mut tx, order_id, actor, false, &note, now).await?;
    events.publish(&mut tx, order_id, &OrderEvent::Refunded { refund_id, amount, full: fully }, now).await?;
    if fully {
        let changed = OrderEvent::StatusChanged {
            from: status.as_str().into(),
            to: "refunded".into(),
            by: Some(actor.user.id),
            reason: None,
        };
        events.publish(&mut tx, order_id, &changed, now).await?;
    }
    let details = format!("{shown}{reason}{}", if new.restock { " (restocked)" } else { "" });
    trail::audit(&mut tx, actor, "order.refunded", order_id, &order.try_get::<String, _>("number")?, &details).await?;
    let mut sales = Accumulator::default();
    sales.add_refund(tz, now, &currency, amount);
    sales.add_to_table(&mut tx).await?;
    tx.commit().await?;
    events.committed();
    answer(db, order_id, refund_id, true).await
}

fn check_shape(new: &NewRefund) -> Result<()> {
    if new.lines.len() > MAX_LINES {
        return Err(Error::invalid(format!("at most {MAX_LINES} lines in one refund")));
    }
    if new.reason.chars().count() > MAX_REASON_CHARS {
        return Err(Error::invalid(format!("the reason is at most {MAX_REASON_CHARS} characters")));
    }
    for line in &new.lines {
        if line.quantity < 0 || line.amount < 0 {
            return Err(Error::invalid("line quantities and amounts cannot be negative"));
        }
    }
    let mut ids: Vec<i64> = new.lines.iter().map(|l| l.line_id).collect();
    ids.sort_unstable();
    if ids.windows(2).any(|w| w[0] == w[1]) {
        return Err(Error::invalid("each line may appear once in a refund"));
    }
    let lines_sum: i64 = new.lines.iter().map(|l| l.amount).sum();
    let amount = match (new.amount, new.lines.is_empty()) {
        (None, true) => return Err(Error::invalid("give an amount, or lines to refund")),
        (Some(amount), false) if amount != lines_sum => {
            return Err(Error::invalid("the amount must equal the sum of the lines' amounts"));
        }
        (Some(amount), _) => amount,
        (None, false) => lines_sum,
    };
    if amount <= 0 {
        return Err(Error::invalid("the amount to refund must be more than zero"));
    }
    Ok(())
}

struct ItemRemaining {
    product_id: Option<i64>,
    variation_id: Option<i64>,
    total_with_tax: i64,
    tax: i64,
}

impl ItemRemaining {
    /// The tax in `amount` (tax included) given back on this line, in the line's own ratio.
    fn tax_of(&self, amount: i64) -> i64 {
        if self.total_with_tax == 0 { 0 } else { amount * self.tax / self.total_with_tax }
    }
}

/// Checks each line against what remains refundable on it (under the order's lock).
async fn line_amounts(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    order_id: i64,
    lines: &[NewRefundLine],
) -> Result<Vec<ItemRemaining>> {
    let mut out = Vec::with_capacity(lines.len());
    for line in lines {
        let item = sqlx::query(
            "SELECT i.product_id, i.variation_id, i.quantity, i.total, i.total_tax, \
             CAST(COALESCE((SELECT SUM(l.quantity) FROM refund_lines l WHERE l.order_item_id = i.id), 0) AS BIGINT) AS refunded_quantity, \
             CAST(COALESCE((SELECT SUM(l.amount + l.tax) FROM refund_lines l WHERE l.order_item_id = i.id), 0) AS BIGINT) AS refunded_amount \
             FROM order_items i WHERE i.id = $1 AND i.order_id = $2",
        )
        .bind(line.line_id)
        .bind(order_id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| Error::invalid(format!("line {} is not part of this order", line.line_id)))?;
        let quantity_left = item.try_get::<i64, _>("quantity")? - item.try_get::<i64, _>("refunded_quantity")?;
        let total_with_tax = item.try_get::<i64, _>("total")? + item.try_get::<i64, _>("total_tax")?;
        let amount_left = total_with_tax - item.try_get::<i64, _>("refunded_amount")?;
        if line.quantity > quantity_left {
            return Err(Error::Conflict(format!("line {}: only {quantity_left} left to refund", line.line_id)));
        }
        if line.amount > amount_left {
            return Err(Error::Conflict(format!(
                "line {}: only {amount_left} (minor units) left to refund",
                line.line_id
            )));
        }
        out.push(ItemRemaining {
            product_id: item.try_get("product_id")?,
            variation_id: item.try_get("variation_id")?,
            total_with_tax,
            tax: item.try_get("total_tax")?,
        });
    }
    Ok(out)
}

async fn restock(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    item: &ItemRemaining,
    quantity: i64,
    now: i64,
) -> Result<()> {
    let (table, id) = match (item.variation_id, item.product_id) {
        (Some(variation), _) => ("product_variations", variation),
        (None, Some(product)) => ("products", product),
        (None, None) => return Ok(()),
    };
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE {table} SET stock_quantity = stock_quantity + $1, updated_at = $2 WHERE id = $3 AND manage_stock = 1"
    )))
    .bind(quantity)
    .bind(now)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The id of the refund an earlier request with this key made; a different request under
/// the same key is refused.
async fn made_with_key<'e, E>(executor: E, order_id: i64, key: &str, request_hash: &str) -> Result<Option<i64>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row = sqlx::query("SELECT id, request_hash FROM refunds WHERE order_id = $1 AND idempotency_key = $2")
        .bind(order_id)
        .bind(key)
        .fetch_optional(executor)
        .await?;
    let Some(row) = row else { return Ok(None) };
    if row.try_get::<Option<String>, _>("request_hash")?.as_deref() != Some(request_hash) {
        return Err(Error::Conflict("this Idempotency-Key was used for a different refund".into()));
    }
    Ok(Some(row.try_get("id")?))
}

/// The refund as answered: made by this request, or by the first one with its key.
async fn answer(db: &Db, order_id: i64, refund_id: i64, created: bool) -> Result<Refunded> {
    let refund =
        super::detail::refunds(db, order_id).await?.into_iter().find(|r| r.id == refund_id).ok_or(Error::NotFound)?;
    Ok(Refunded::Made { refund, created })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
