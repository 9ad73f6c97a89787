-- What happened to orders, written in the same transaction as the change: the outbox
-- later capabilities (WhatsApp notifications, accounting sync) read from, in id order.
CREATE TABLE order_events (
    id         INTEGER PRIMARY KEY,
    order_id   INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL,
    payload    TEXT    NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL
);
CREATE INDEX order_events_order ON order_events (order_id);

-- A refund asked for with an Idempotency-Key is made once; a retry gets the same refund.
ALTER TABLE refunds ADD COLUMN idempotency_key TEXT;
ALTER TABLE refunds ADD COLUMN request_hash TEXT;
CREATE UNIQUE INDEX refunds_idempotency ON refunds (order_id, idempotency_key);
