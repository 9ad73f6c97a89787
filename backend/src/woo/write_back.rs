//! What people do in Backroom on an order the store keeps, written to the store: status
//! changes (with `manual_update`, so WooCommerce's emails, stock and coupon usage behave as
//! in wp-admin), notes (a customer note is emailed by the store, not by Backroom), the
//! customer's details (each field as typed: a phone keeps its text) and refunds (made by
//! the store, through the payment provider when the manager chose so).
//!
//! A change is made in Backroom at once, and in the same transaction a row of
//! `store_writes` (pending) and a job are queued; the job writes it to the store and
//! settles the row: confirmed, with the store's answer applied, or failed with the
//! store's words and the store's copy of the order read back, so Backroom never silently
//! differs from the store. A status is not written over a change made in the store
//! meanwhile: the order is read first, and a status the store moved elsewhere is shown,
//! not overwritten, nor a customer's field the store changed meanwhile. Changes to one order
//! reach the store in the order they were made. Each change reaches the store once: a status write is idempotent, and
//! a note or a refund whose earlier attempt may have reached the store is looked for
//! before it is sent again (a refund carries its write's id in its `meta_data`).
//!
//! A refund is not made in Backroom first: it is checked (against what remains, less the
//! refunds already on their way), sent, and made here as the store made it. A refusal —
//! a payment provider that cannot refund, or refused — leaves no refund recorded.
//! `api_refund` and `api_restock` are always sent: both default to true in WooCommerce,
//! and a refund sent without them would move money.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use tokio::sync::Notify;
use vocabulary::money;

use super::{
    Woo,
    apply::{self, Mode},
    client::{CallError, Store},
    model,
    webhooks::{self, Fetch},
};
use crate::{
    Error, Result,
    clock::now,
    db::Db,
    jobs::{self, ClaimedJob, Failure, NewJob},
    orders::{
        OrderStatus,
        customer::FieldChange,
        events::{OrderEvent, RefundAsked, Subscriber, Tx},
        refunds::RefundPayment,
    },
};

pub const WRITE_JOB: &str = "woo.write";

/// The key of the refund's `meta_data` entry naming the write that asked for it.
pub const REFUND_META: &str = "backroom_write_id";

/// Payment methods that cannot give money back by themselves (a transfer, a cheque, cash
/// on delivery): their refunds are recorded, never asked of the provider.
const MANUAL_METHODS: [&str; 4] = ["", "bacs", "cheque", "cod"];

/// Whether the payment method an order was paid with can be asked to refund.
pub fn refunds_through(payment_method: &str) -> bool {
    !MANUAL_METHODS.contains(&payment_method)
}

/// How far before a write was queued a note found in the store may be dated and still be
/// taken for it (the two clocks differ).
const CLOCK_SLACK_SECS: i64 = 300;

/// The job that writes one change.
#[derive(Debug, Serialize, Deserialize)]
pub struct Write {
    pub write_id: i64,
}

impl jobs::Payload for Write {
    const KIND: &'static str = WRITE_JOB;
}

/// A change on its way to the store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    Status {
        from: String,
        to: String,
    },
    Note {
        note_id: i64,
        to_customer: bool,
    },
    /// The customer's details: each field's text before and after.
    Customer {
        changes: Vec<FieldChange>,
    },
    /// Amounts as the store writes them (decimal text, the lines before tax).
    Refund {
        amount: String,
        reason: String,
        restock: bool,
        through_gateway: bool,
        lines: Vec<RefundLine>,
    },
}

/// A line of a refund: the order line's id in the store, the amount before tax and the
/// tax given back (decimal text).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundLine {
    pub id: i64,
    pub quantity: i64,
    pub refund_total: String,
    #[serde(default)]
    pub tax: String,
}

impl Change {
    /// The change in words, for the order page.
    fn describe(&self) -> String {
        match self {
            Change::Status { from, to } => format!("Status {} → {}", label(from), label(to)),
            Change::Note { to_customer: true, .. } => "Note to the customer".to_owned(),
            Change::Note { to_customer: false, .. } => "Private note".to_owned(),
            Change::Customer { changes } => {
                let fields: Vec<String> = changes.iter().map(FieldChange::words).collect();
                format!("Customer details: {}", fields.join(", "))
            }
            Change::Refund { amount, through_gateway: true, .. } => {
                format!("Refund of {amount} through the payment provider")
            }
            Change::Refund { amount, through_gateway: false, .. } => {
                format!("Refund of {amount}, recorded (money returned another way)")
            }
        }
    }
}

fn label(status: &str) -> String {
    OrderStatus::stored(status).map(|s| s.label().to_owned()).unwrap_or_else(|_| status.to_owned())
}

/// The order events that are changes to write: those people made in Backroom. Changes
/// read from the store come back as events too (with no `by`), and are not echoed. A
/// refund's move to `refunded` is not a status to write: WooCommerce would answer it
/// with a refund of its own.
fn change_of(event: &OrderEvent) -> Option<Change> {
    match event {
        OrderEvent::StatusChanged { from, to, by: Some(_), .. } if to != "refunded" => {
            Some(Change::Status { from: from.clone(), to: to.clone() })
        }
        OrderEvent::CustomerNote { note_id, .. } => Some(Change::Note { note_id: *note_id, to_customer: true }),
        OrderEvent::PrivateNote { note_id } => Some(Change::Note { note_id: *note_id, to_customer: false }),
        OrderEvent::CustomerEdited { changes } => Some(Change::Customer { changes: changes.clone() }),
        _ => None,
    }
}

/// Queues Backroom's changes to orders the store keeps, inside the change's transaction,
/// and wakes the WooCommerce worker (`wake`) when the change is committed.
pub struct WriteBack {
    pub wake: Arc<Notify>,
}

impl Subscriber for WriteBack {
    fn committed(&self) {
        self.wake.notify_one();
    }

    fn on_order_event<'a>(&'a self, tx: &'a mut Tx, order_id: i64, event: &'a OrderEvent) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let Some(change) = change_of(event) else { return Ok(()) };
            if !kept_by_the_store(tx, order_id).await? {
                return Ok(());
            }
            if let OrderEvent::CustomerNote { mail_id: Some(mail_id), .. } = event {
                // The store emails its customer notes itself; Backroom's copy would be a second.
                sqlx::query("DELETE FROM mail_outbox WHERE id = $1 AND state = 'queued'")
                    .bind(mail_id)
                    .execute(&mut **tx)
                    .await?;
            }
            if let Change::Status { .. } | Change::Customer { .. } = change {
                // Backroom's copy now differs from the store's: the store's, read back,
                // is written over it even when the store has not changed it since.
                sqlx::query("UPDATE orders SET fingerprint = NULL WHERE id = $1")
                    .bind(order_id)
                    .execute(&mut **tx)
                    .await?;
            }
            queue(tx, order_id, &change, None).await.map(drop)
        })
    }

    fn take_refund<'a>(
        &'a self,
        tx: &'a mut Tx,
        order_id: i64,
        refund: &'a RefundAsked<'a>,
    ) -> BoxFuture<'a, Result<Option<i64>>> {
        Box::pin(async move {
            if !kept_by_the_store(tx, order_id).await? {
                return Ok(None);
            }
            take_refund(tx, order_id, refund).await.map(Some)
        })
    }
}

/// Checks a refund of an order the store keeps and queues it for the store.
async fn take_refund(tx: &mut Tx, order_id: i64, refund: &RefundAsked<'_>) -> Result<i64> {
    let Some(payment) = refund.payment else {
        return Err(Error::invalid(
            "the store keeps this order: say whether the money goes back through its payment provider \
             (payment: gateway) or was returned another way (payment: manual)",
        ));
    };
    if let Some(key) = refund.idempotency_key {
        let earlier: Option<i64> =
            sqlx::query_scalar("SELECT id FROM store_writes WHERE order_id = $1 AND idempotency_key = $2")
                .bind(order_id)
                .bind(key)
                .fetch_optional(&mut **tx)
                .await?;
        if let Some(earlier) = earlier {
            return Ok(earlier);
        }
    }
    let order = sqlx::query(
        "SELECT currency, payment_method, payment_method_title, total - refunded_total - \
         CAST(COALESCE((SELECT SUM(w.refund_amount) FROM store_writes w WHERE w.order_id = o.id AND w.state = 'pending'), 0) AS BIGINT) AS remaining \
         FROM orders o WHERE o.id = $1",
    )
    .bind(order_id)
    .fetch_one(&mut **tx)
    .await?;
    let currency: String = order.try_get("currency")?;
    let remaining: i64 = order.try_get("remaining")?;
    if refund.amount > remaining {
        return Err(Error::Conflict(format!(
            "only {} remains refundable once the refunds on their way to the store are made",
            money::format(remaining.max(0), &currency, "en")
        )));
    }
    let through_gateway = payment == RefundPayment::Gateway;
    if through_gateway && !refunds_through(&order.try_get::<String, _>("payment_method")?) {
        return Err(Error::invalid(format!(
            "the order was paid by {}, which cannot give money back by itself: record the refund (payment: manual) \
             once the money is returned",
            order.try_get::<String, _>("payment_method_title")?
        )));
    }
    let digits = money::minor_digits(&currency);
    let change = Change::Refund {
        amount: money::decimal(refund.amount, digits),
        reason: refund.reason.to_owned(),
        restock: refund.restock,
        through_gateway,
        lines: refund
            .lines
            .iter()
            .map(|l| RefundLine {
                id: l.line_id,
                quantity: l.quantity,
                refund_total: money::decimal(l.amount - l.tax, digits),
                tax: money::decimal(l.tax, digits),
            })
            .collect(),
    };
    queue(tx, order_id, &change, Some((refund.amount, refund.idempotency_key))).await
}

/// Whether the order came from the store and the store is still connected.
async fn kept_by_the_store(tx: &mut Tx, order_id: i64) -> Result<bool> {
    let kept: Option<i64> = sqlx::query_scalar(
        "SELECT o.id FROM orders o, woo_connection c \
         WHERE o.id = $1 AND o.modified_at IS NOT NULL AND c.id = 1 AND c.state = 'connected'",
    )
    .bind(order_id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(kept.is_some())
}

/// Queues `change` and the job that writes it; a refund with its amount (minor units) and
/// the Idempotency-Key it was asked with. Returns the write's id.
async fn queue(tx: &mut Tx, order_id: i64, change: &Change, refund: Option<(i64, Option<&str>)>) -> Result<i64> {
    let write_id: i64 = sqlx::query_scalar(
        "INSERT INTO store_writes (order_id, change, what, state, refund_amount, idempotency_key, created_at) \
         VALUES ($1, $2, $3, 'pending', $4, $5, $6) RETURNING id",
    )
    .bind(order_id)
    .bind(serde_json::to_string(change).map_err(Error::internal)?)
    .bind(change.describe())
    .bind(refund.map(|(amount, _)| amount))
    .bind(refund.and_then(|(_, key)| key))
    .bind(now())
    .fetch_one(&mut **tx)
    .await?;
    jobs::enqueue(&mut **tx, &NewJob::of(&Write { write_id })).await?;
    Ok(write_id)
}

/// A pending write as stored.
struct Pending {
    id: i64,
    order_id: i64,
    change: Change,
    created_at: i64,
}

async fn pending(db: &Db, write_id: i64) -> Result<Option<Pending>> {
    let row = sqlx::query("SELECT order_id, change, created_at FROM store_writes WHERE id = $1 AND state = 'pending'")
        .bind(write_id)
        .fetch_optional(db.pool())
        .await?;
    let Some(row) = row else { return Ok(None) };
    let change: String = row.try_get("change")?;
    Ok(Some(Pending {
        id: write_id,
        order_id: row.try_get("order_id")?,
        change: serde_json::from_str(&change).map_err(Error::internal)?,
        created_at: row.try_get("created_at")?,
    }))
}

/// How a write ended at the store.
enum Outcome {
    /// Done; the store's copy of the order is applied, and what the store did besides
    /// that the order should say.
    Confirmed(model::Order, Option<String>),
    /// The note (Backroom's id) is in the store, under the store's id.
    NoteAdded { note_id: i64, woo_id: i64 },
    /// The store made the refund; its copy of the order (refunded total, status) after
    /// it, when that could be read (otherwise the order is read again later).
    Refunded(model::Refund, Option<model::Order>),
    /// Not done, for this reason; the store's copy, when read, is applied.
    Refused(String, Option<model::Order>),
}

/// Runs one write: to the store, then settles its row. A store that cannot be reached is
/// tried again (the job's backoff); after the last attempt the write fails like a refusal.
pub async fn run(woo: &Woo, job: &ClaimedJob) -> std::result::Result<(), Failure> {
    let Write { write_id } = job.payload()?;
    let Some(write) = pending(&woo.db, write_id).await? else { return Ok(()) };
    // Changes reach the store in the order they were made: one waits while an earlier
    // change to the same order is on its way (a retried edit must not land after the one
    // made after it, which would then find the store "changed meanwhile").
    let first: Option<i64> =
        sqlx::query_scalar("SELECT MIN(id) FROM store_writes WHERE order_id = $1 AND state = 'pending'")
            .bind(write.order_id)
            .fetch_one(woo.db.pool())
            .await
            .map_err(Error::from)?;
    if first.is_some_and(|first| first < write.id) {
        let reason = "waiting for an earlier change to this order to reach the store".to_owned();
        return Err(Failure::RetryAt { reason, at: now() + 1 });
    }
    let Some(store) = super::connection::store(woo).await? else {
        let reason = "The store was disconnected before the change reached it.".to_owned();
        settle(woo, &write, Outcome::Refused(reason, None)).await?;
        return Ok(());
    };
    let sent = match &write.change {
        Change::Status { from, to } => write_status(&store, &write, from, to).await,
        Change::Note { note_id, to_customer } => {
            let body: Option<String> = sqlx::query_scalar("SELECT body FROM order_notes WHERE id = $1")
                .bind(note_id)
                .fetch_optional(woo.db.pool())
                .await?;
            match body {
                Some(body) => write_note(&store, &write, (*note_id, &body, *to_customer), job.attempt > 1).await,
                None => Ok(Outcome::Refused("The note was deleted before it reached the store.".into(), None)),
            }
        }
        Change::Customer { changes } => write_customer(&store, &write, changes).await,
        Change::Refund { amount, reason, restock, through_gateway, lines } => {
            let asked = serde_json::json!({
                "amount": amount,
                "reason": reason,
                "api_refund": through_gateway,
                "api_restock": restock,
            });
            write_refund(&store, &write, (asked, lines), job.attempt > 1).await
        }
    };
    let outcome = match sent {
        Ok(outcome) => outcome,
        Err(error) => match webhooks::failure(error) {
            Failure::Dead(reason) => Outcome::Refused(reason, None),
            Failure::Retry(reason) if job.attempt >= job.max_attempts => Outcome::Refused(
                format!("The store could not be reached for {} attempts; the last answer: {reason}", job.attempt),
                None,
            ),
            waiting => {
                sqlx::query("UPDATE store_writes SET message = $1 WHERE id = $2 AND state = 'pending'")
                    .bind(format!("Waiting for the store: {}", waiting.reason()))
                    .bind(write.id)
                    .execute(woo.db.writer())
                    .await?;
                return Err(waiting);
            }
        },
    };
    settle(woo, &write, outcome).await?;
    Ok(())
}

/// Moves the order to `to` in the store, unless the store moved it elsewhere meanwhile.
async fn write_status(store: &Store, write: &Pending, from: &str, to: &str) -> std::result::Result<Outcome, CallError> {
    let path = format!("/orders/{}", write.order_id);
    let current: model::Order = store.get(&path, &[]).await?.json()?;
    if current.status == to {
        // An earlier attempt got there (its answer was lost), or someone did the same.
        return Ok(Outcome::Confirmed(current, None));
    }
    if current.status != from {
        let reason = format!(
            "The order was changed in the store meanwhile (it is {} there); Backroom shows the store's copy.",
            label(&current.status)
        );
        return Ok(Outcome::Refused(reason, Some(current)));
    }
    let body = serde_json::json!({ "status": to, "manual_update": true });
    let updated: model::Order = store.send(Method::PUT, &path, &[], Some(&body)).await?.json()?;
    if updated.status != to {
        // A plugin of the store's answered the move with a status of its own.
        let reason = format!("The store kept the order {} instead.", label(&updated.status));
        return Ok(Outcome::Refused(reason, Some(updated)));
    }
    Ok(Outcome::Confirmed(updated, None))
}

/// Changes the customer's fields on the order in the store, unless the store changed one
/// of them meanwhile (then its copy is shown).
async fn write_customer(
    store: &Store,
    write: &Pending,
    changes: &[FieldChange],
) -> std::result::Result<Outcome, CallError> {
    let path = format!("/orders/{}", write.order_id);
    let order: model::Order = store.get(&path, &[]).await?.json()?;
    // The store's text as Backroom keeps it (an e-mail in small letters).
    let theirs = |change: &FieldChange| {
        let (address, field) = change.split();
        let text = if address == "shipping" { order.shipping.field(field) } else { order.billing.field(field) }.trim();
        if field == "email" { text.to_lowercase() } else { text.to_owned() }
    };
    if changes.iter().all(|c| theirs(c) == c.to) {
        // An earlier attempt got there (its answer was lost), or someone did the same.
        return Ok(Outcome::Confirmed(order, None));
    }
    let moved: Vec<String> =
        changes.iter().filter(|c| theirs(c) != c.from.trim() && theirs(c) != c.to).map(FieldChange::words).collect();
    if !moved.is_empty() {
        let reason = format!(
            "The customer's details were changed in the store meanwhile ({}); Backroom shows the store's copy.",
            moved.join(", ")
        );
        return Ok(Outcome::Refused(reason, Some(order)));
    }
    let mut body = serde_json::json!({});
    for change in changes {
        let (address, field) = change.split();
        // WooCommerce takes no empty e-mail, but null clears it.
        let cleared = field == "email" && change.to.is_empty();
        body[address][field] = if cleared { serde_json::Value::Null } else { change.to.clone().into() };
    }
    let updated: model::Order = store.send(Method::PUT, &path, &[], Some(&body)).await?.json()?;
    // WooCommerce's REST API recalculates an order's totals whenever its addresses are
    // written (wp-admin's order screen does not): a total that moved is said on the order.
    let moved = (updated.total != order.total || updated.total_tax != order.total_tax).then(|| {
        format!(
            "The store recalculated the order's totals as it took the new details: total {} (tax {}), before {} (tax {}).",
            updated.total.0, updated.total_tax.0, order.total.0, order.total_tax.0
        )
    });
    Ok(Outcome::Confirmed(updated, moved))
}

/// Adds the note (Backroom's id, its text, whether it is for the customer) to the order
/// in the store, once: when an earlier attempt may have added it, the store's notes are
/// looked through first.
async fn write_note(
    store: &Store,
    write: &Pending,
    (note_id, body, to_customer): (i64, &str, bool),
    tried_before: bool,
) -> std::result::Result<Outcome, CallError> {
    let path = format!("/orders/{}/notes", write.order_id);
    if tried_before {
        let notes: Vec<model::Note> = store.get(&path, &[("per_page", "100".to_owned())]).await?.json()?;
        let ours = notes.into_iter().find(|n| {
            n.customer_note == to_customer
                && n.note.trim() == model::plain_text(body).trim()
                && n.date_created_gmt.is_none_or(|at| at >= write.created_at - CLOCK_SLACK_SECS)
        });
        if let Some(note) = ours {
            return Ok(Outcome::NoteAdded { note_id, woo_id: note.id });
        }
    }
    let body = serde_json::json!({ "note": body, "customer_note": to_customer });
    let note: model::Note = store.send(Method::POST, &path, &[], Some(&body)).await?.json()?;
    Ok(Outcome::NoteAdded { note_id, woo_id: note.id })
}

/// Asks the store for the refund (`asked`: WooCommerce's fields but the lines), once: when
/// an earlier attempt may have made it, the order's refunds are looked through for the one
/// carrying this write's id.
async fn write_refund(
    store: &Store,
    write: &Pending,
    (mut asked, lines): (serde_json::Value, &[RefundLine]),
    tried_before: bool,
) -> std::result::Result<Outcome, CallError> {
    let path = format!("/orders/{}/refunds", write.order_id);
    let marker = write.id.to_string();
    // The order as the store has it with the refund, so the refund and the order's
    // refunded total show together. The refund is made whatever this read comes to.
    let with_order = |refund| async move {
        let order = match store.get(&format!("/orders/{}", write.order_id), &[]).await.and_then(|a| a.json()) {
            Ok(order) => Some(order),
            Err(e) => {
                tracing::warn!(order = write.order_id, error = %e, "the refunded order could not be read back yet");
                None
            }
        };
        Outcome::Refunded(refund, order)
    };
    if tried_before {
        let made: Vec<model::Refund> = store.get(&path, &[("per_page", "100".to_owned())]).await?.json()?;
        let ours = made.into_iter().find(|r| {
            r.meta_data.iter().any(|m| m.key == REFUND_META && m.value.as_str().is_some_and(|v| v == marker))
        });
        if let Some(refund) = ours {
            return Ok(with_order(refund).await);
        }
    }
    // A line's tax is given back by tax rate, as the store keeps it on the line.
    let taxed = lines.iter().any(|l| l.tax.chars().any(|c| matches!(c, '1'..='9')));
    let order: Option<model::Order> =
        if taxed { Some(store.get(&format!("/orders/{}", write.order_id), &[]).await?.json()?) } else { None };
    asked["line_items"] = store_lines(lines, order.as_ref());
    asked["meta_data"] = serde_json::json!([{ "key": REFUND_META, "value": marker }]);
    match store.send(Method::POST, &path, &[], Some(&asked)).await {
        Ok(answer) => Ok(with_order(answer.json()?).await),
        // WooCommerce deleted the refund it had begun: the provider refused, or the amount.
        Err(CallError::Refused { code, message, .. })
            if code == "woocommerce_rest_cannot_create_order_refund"
                || code == "woocommerce_rest_invalid_order_refund" =>
        {
            Ok(Outcome::Refused(format!("The store did not make the refund: {message}"), None))
        }
        Err(e) => Err(e),
    }
}

/// A refund's lines as WooCommerce takes them: each line's tax split over the tax rates of
/// the store's line (`order`) in their proportion, so the store's tax reports show it given
/// back; a line the store keeps no tax rate on carries its tax in its total.
fn store_lines(lines: &[RefundLine], order: Option<&model::Order>) -> serde_json::Value {
    let digits = order.map_or(2, |o| money::minor_digits(&o.currency));
    let minor = |text: &str| model::minor_units(text, digits).unwrap_or(0);
    let lines = lines.iter().map(|line| {
        let (before_tax, tax) = (minor(&line.refund_total), minor(&line.tax));
        if tax == 0 {
            return serde_json::json!({ "id": line.id, "quantity": line.quantity, "refund_total": line.refund_total });
        }
        let rates: Vec<(i64, i64)> = order
            .and_then(|o| o.line_items.iter().find(|l| l.id == line.id))
            .map(|l| {
                l.taxes
                    .iter()
                    .map(|t| (t.id, t.total.minor(digits).unwrap_or(0)))
                    .filter(|(_, total)| *total > 0)
                    .collect()
            })
            .unwrap_or_default();
        let of_all: i64 = rates.iter().map(|(_, total)| total).sum();
        if of_all == 0 {
            return serde_json::json!({
                "id": line.id,
                "quantity": line.quantity,
                "refund_total": money::decimal(before_tax + tax, digits),
            });
        }
        let by_rate: Vec<serde_json::Value> = apportion(
            tax,
            &rates.iter().map(|(_, total)| *total).collect::<Vec<_>>(),
        )
        .into_iter()
        .zip(&rates)
        .map(|(share, (rate, _))| serde_json::json!({ "id": rate, "refund_total": money::decimal(share, digits) }))
        .collect();
        serde_json::json!({
            "id": line.id,
            "quantity": line.quantity,
            "refund_total": money::decimal(before_tax, digits),
            "refund_tax": by_rate,
        })
    });
    serde_json::Value::Array(lines.collect())
}

/// `amount` split over `weights` (all above zero) in their proportion, in whole minor units
/// adding up to it: each its share rounded down, and the units left over to those whose
/// shares lost the most in rounding.
fn apportion(amount: i64, weights: &[i64]) -> Vec<i64> {
    let of_all: i128 = weights.iter().map(|w| i128::from(*w)).sum();
    let exact: Vec<(i128, i128)> = weights
        .iter()
        .map(|w| (i128::from(amount) * i128::from(*w) / of_all, i128::from(amount) * i128::from(*w) % of_all))
        .collect();
    let mut shares: Vec<i64> = exact.iter().map(|(share, _)| i64::try_from(*share).unwrap_or(0)).collect();
    let left = amount - shares.iter().sum::<i64>();
    let mut by_remainder: Vec<usize> = (0..weights.len()).collect();
    by_remainder.sort_by_key(|i| std::cmp::Reverse(exact[*i].1));
    for i in by_remainder.into_iter().take(usize::try_from(left).unwrap_or(0)) {
        shares[i] += 1;
    }
    shares
}

/// Records how the write ended and applies the store's copy of the order; a refusal
/// without a copy queues a fetch of it, so the order shows what the store has.
async fn settle(woo: &Woo, write: &Pending, outcome: Outcome) -> Result<()> {
    let settings = crate::settings::get(&woo.db).await?;
    let mode = Mode::Live { events: &woo.events, tz: settings.tz() };
    let mut tx = woo.db.begin().await?;
    // The write's end, and what brings the order in step with the store: its copy, when
    // the store sent one, or else a read of it.
    let (state, message, copy, read_back) = match outcome {
        Outcome::Confirmed(order, said) => ("confirmed", said, Some(order), false),
        Outcome::NoteAdded { note_id, woo_id } => {
            // The store's id on Backroom's note: reading the store's notes adds no copy.
            sqlx::query("UPDATE order_notes SET woo_id = $1 WHERE id = $2 AND woo_id IS NULL")
                .bind(woo_id)
                .bind(note_id)
                .execute(&mut *tx)
                .await?;
            ("confirmed", None, None, false)
        }
        Outcome::Refunded(mut refund, order) => {
            refund.parent_id = write.order_id;
            apply::refunds(&mut tx, woo.db.backend(), &[refund], mode).await?;
            let read_back = order.is_none();
            ("confirmed", None, order, read_back)
        }
        Outcome::Refused(reason, copy) => {
            let read_back = copy.is_none();
            ("failed", Some(reason), copy, read_back)
        }
    };
    sqlx::query("UPDATE store_writes SET state = $1, message = $2, settled_at = $3 WHERE id = $4")
        .bind(state)
        .bind(&message)
        .bind(now())
        .bind(write.id)
        .execute(&mut *tx)
        .await?;
    if let Some(order) = copy {
        apply::orders(&mut tx, woo.db.backend(), &[order], mode).await?;
    }
    if read_back {
        jobs::enqueue(&mut *tx, &NewJob::of(&Fetch { what: "order".into(), id: write.order_id })).await?;
    }
    tx.commit().await?;
    if let Some(reason) = &message {
        tracing::warn!(order = write.order_id, write = write.id, reason, "the store did not take a change");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_changes_made_in_backroom_are_written() {
        let moved =
            |by| OrderEvent::StatusChanged { from: "processing".into(), to: "completed".into(), by, reason: None };
        assert_eq!(
            change_of(&moved(Some(1))),
            Some(Change::Status { from: "processing".into(), to: "completed".into() })
        );
        assert_eq!(change_of(&moved(None)), None, "a change read from the store is not echoed");
        let refunded =
            OrderEvent::StatusChanged { from: "processing".into(), to: "refunded".into(), by: Some(1), reason: None };
        assert_eq!(change_of(&refunded), None);
        assert_eq!(change_of(&OrderEvent::Arrived { status: "processing".into() }), None);
        assert_eq!(
            change_of(&OrderEvent::PrivateNote { note_id: 4 }),
            Some(Change::Note { note_id: 4, to_customer: false })
        );
        assert_eq!(
            Change::Status { from: "on-hold".into(), to: "processing".into() }.describe(),
            "Status On hold → Processing"
        );
    }

    #[test]
    fn a_lines_tax_is_given_back_by_the_stores_tax_rates() {
        let order: model::Order = serde_json::from_value(serde_json::json!({
            "id": 7, "currency": "TRY",
            "line_items": [
                { "id": 1, "taxes": [{ "id": 3, "total": "20.00" }, { "id": 4, "total": "10.00", "subtotal": "" }] },
                { "id": 2, "taxes": [] },
            ],
        }))
        .unwrap();
        let line = |id, refund_total: &str, tax: &str| RefundLine {
            id,
            quantity: 1,
            refund_total: refund_total.into(),
            tax: tax.into(),
        };
        let asked =
            [line(1, "100.00", "10.00"), line(2, "50.00", "9.00"), line(1, "8.00", ""), line(2, "1.234", "0.000")];
        assert_eq!(
            store_lines(&asked, Some(&order)),
            serde_json::json!([
                { "id": 1, "quantity": 1, "refund_total": "100.00",
                  "refund_tax": [{ "id": 3, "refund_total": "6.67" }, { "id": 4, "refund_total": "3.33" }] },
                { "id": 2, "quantity": 1, "refund_total": "59.00" },
                { "id": 1, "quantity": 1, "refund_total": "8.00" },
                { "id": 2, "quantity": 1, "refund_total": "1.234" },
            ])
        );
    }

    #[test]
    fn a_split_adds_up_and_never_goes_below_zero() {
        assert_eq!(apportion(1000, &[2000, 1000]), vec![667, 333]);
        assert_eq!(apportion(2, &[30, 30, 30, 10]), vec![1, 1, 0, 0]);
        assert_eq!(apportion(2, &[26, 26, 26, 22]), vec![1, 1, 0, 0]);
        assert_eq!(apportion(7, &[1, 1, 1]), vec![3, 2, 2]);
        for (amount, weights) in [(101, vec![3, 3, 3]), (5, vec![1, 1000, 7]), (0, vec![5, 5])] {
            let shares = apportion(amount, &weights);
            assert_eq!(shares.iter().sum::<i64>(), amount, "{weights:?}");
            assert!(shares.iter().all(|s| *s >= 0), "{shares:?}");
        }
    }
}
