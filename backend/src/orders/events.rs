//! Order events: what a change to an order tells the rest of Backroom. Each is written once
//! to the `order_events` outbox inside the change's transaction and handed to the
//! subscribers the composition root registered ([`crate::services::Services`]): the ledger,
//! WhatsApp notifications, and whatever integration comes next. They queue their work in
//! the same transaction, so no change is missed or acted on twice; adding one never
//! touches `orders/`.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// A transaction that writes, as [`crate::db::Db::begin`] opens it.
pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// One change to an order. Statuses are WooCommerce's names (`on-hold`), including those
/// an extension adds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "payload")]
pub enum OrderEvent {
    /// The order moved from one status to another; `by` is the user who moved it.
    #[serde(rename = "order.status_changed")]
    StatusChanged {
        from: String,
        to: String,
        by: Option<i64>,
        #[serde(default)]
        reason: Option<String>,
    },
    /// A refund of `amount` (minor units); `full` when nothing remains refundable.
    #[serde(rename = "order.refunded")]
    Refunded { refund_id: i64, amount: i64, full: bool },
    /// A note for the customer, with the email that carries it (none without an address).
    #[serde(rename = "order.customer_note")]
    CustomerNote { note_id: i64, mail_id: Option<i64> },
    /// A note private to the shop.
    #[serde(rename = "order.private_note")]
    PrivateNote { note_id: i64 },
    /// An order placed in the store reached Backroom, in this status.
    #[serde(rename = "order.arrived")]
    Arrived { status: String },
    /// Someone changed the customer's details on the order in Backroom.
    #[serde(rename = "order.customer_edited")]
    CustomerEdited { changes: Vec<super::customer::FieldChange> },
}

impl OrderEvent {
    /// The status the order entered, for an event that moved it into one.
    pub fn entered(&self) -> Option<&str> {
        match self {
            OrderEvent::StatusChanged { to, .. } => Some(to),
            OrderEvent::Arrived { status } => Some(status),
            OrderEvent::Refunded { .. }
            | OrderEvent::CustomerNote { .. }
            | OrderEvent::PrivateNote { .. }
            | OrderEvent::CustomerEdited { .. } => None,
        }
    }

    /// The name stored in `order_events.kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            OrderEvent::StatusChanged { .. } => "order.status_changed",
            OrderEvent::Refunded { .. } => "order.refunded",
            OrderEvent::CustomerNote { .. } => "order.customer_note",
            OrderEvent::PrivateNote { .. } => "order.private_note",
            OrderEvent::Arrived { .. } => "order.arrived",
            OrderEvent::CustomerEdited { .. } => "order.customer_edited",
        }
    }

    /// The event as stored: its kind and its payload (JSON text).
    fn stored(&self) -> Result<(&'static str, String)> {
        let tagged = serde_json::to_value(self).map_err(Error::internal)?;
        Ok((self.kind(), tagged["payload"].to_string()))
    }

    /// An event read back from `order_events`; `None` for a kind this build does not know.
    pub fn read(kind: &str, payload: &str) -> Option<OrderEvent> {
        let payload: serde_json::Value = serde_json::from_str(payload).ok()?;
        serde_json::from_value(serde_json::json!({ "kind": kind, "payload": payload })).ok()
    }
}

/// A refund asked for in Backroom, checked against what remains refundable, before it is
/// made: for an integration that makes refunds where the order is kept (the store).
#[derive(Clone, Debug)]
pub struct RefundAsked<'a> {
    /// Minor units, tax included.
    pub amount: i64,
    pub lines: Vec<AskedLine>,
    pub reason: &'a str,
    pub restock: bool,
    pub payment: Option<super::refunds::RefundPayment>,
    pub idempotency_key: Option<&'a str>,
}

/// A line of a refund asked for: minor units, `amount` with tax, `tax` the part of it
/// that is tax.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AskedLine {
    pub line_id: i64,
    pub quantity: i64,
    pub amount: i64,
    pub tax: i64,
}

/// Something that acts on order events inside the change's transaction: queues a job,
/// records a document. It must not call out of the process there.
pub trait Subscriber: Send + Sync {
    fn on_order_event<'a>(&'a self, tx: &'a mut Tx, order_id: i64, event: &'a OrderEvent) -> BoxFuture<'a, Result<()>>;

    /// Takes over a refund to make it where the order is kept (queuing that in `tx`): the
    /// id of the pending write, or `None` to leave the refund to Backroom.
    fn take_refund<'a>(
        &'a self,
        _tx: &'a mut Tx,
        _order_id: i64,
        _refund: &'a RefundAsked<'a>,
    ) -> BoxFuture<'a, Result<Option<i64>>> {
        Box::pin(async { Ok(None) })
    }

    /// The change whose events it heard is committed: work it queued may start now.
    fn committed(&self) {}
}

/// The subscribers, in the order they hear of each event.
#[derive(Clone, Default)]
pub struct Subscribers(Vec<Arc<dyn Subscriber>>);

impl Subscribers {
    pub fn new(subscribers: Vec<Arc<dyn Subscriber>>) -> Subscribers {
        Subscribers(subscribers)
    }

    /// Writes `event` to the outbox and hands it to every subscriber, inside `tx`.
    pub async fn publish(&self, tx: &mut Tx, order_id: i64, event: &OrderEvent, at: i64) -> Result<()> {
        let (kind, payload) = event.stored()?;
        sqlx::query("INSERT INTO order_events (order_id, kind, payload, created_at) VALUES ($1, $2, $3, $4)")
            .bind(order_id)
            .bind(kind)
            .bind(payload)
            .bind(at)
            .execute(&mut **tx)
            .await?;
        for subscriber in &self.0 {
            subscriber.on_order_event(tx, order_id, event).await?;
        }
        Ok(())
    }

    /// Tells every subscriber the change is committed (a worker waiting for its next look
    /// at the queue starts on the work the change queued at once).
    pub fn committed(&self) {
        for subscriber in &self.0 {
            subscriber.committed();
        }
    }

    /// Hands `refund` to the first subscriber that takes it over; `None` when none does.
    pub async fn take_refund(&self, tx: &mut Tx, order_id: i64, refund: &RefundAsked<'_>) -> Result<Option<i64>> {
        for subscriber in &self.0 {
            if let Some(write_id) = subscriber.take_refund(tx, order_id, refund).await? {
                return Ok(Some(write_id));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_stored_as_before_and_read_back() {
        let event =
            OrderEvent::StatusChanged { from: "processing".into(), to: "completed".into(), by: Some(3), reason: None };
        let (kind, payload) = event.stored().unwrap();
        assert_eq!(kind, "order.status_changed");
        let stored: serde_json::Value = serde_json::from_str(&payload).unwrap();
        assert_eq!(stored, serde_json::json!({ "from": "processing", "to": "completed", "by": 3, "reason": null }));
        assert_eq!(OrderEvent::read(kind, &payload), Some(event));
        // Rows written before `reason` existed still read.
        let old = OrderEvent::read("order.status_changed", r#"{"from":"pending","to":"failed","by":1}"#).unwrap();
        assert!(matches!(old, OrderEvent::StatusChanged { reason: None, .. }));
        assert_eq!(OrderEvent::read("order.unknown", "{}"), None);
    }
}
