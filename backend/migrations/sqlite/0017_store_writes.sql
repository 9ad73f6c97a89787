-- What people do in Backroom on an order the store keeps (a status change, a note, a
-- refund) on its way to the store: pending until the store confirms it, failed with the
-- store's answer when it refuses.
CREATE TABLE store_writes (
    id         INTEGER PRIMARY KEY,
    order_id   INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    -- The change, as JSON (`write_back::Change`).
    change     TEXT    NOT NULL,
    -- The change in words, as the order page shows it.
    what       TEXT    NOT NULL,
    state      TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'confirmed', 'failed')),
    -- Why it failed, or why it is still waiting (the store's own words where it gave some).
    message    TEXT,
    -- A refund's amount (minor units), while it counts against what remains refundable.
    refund_amount INTEGER,
    -- The Idempotency-Key a refund was asked for with: a retry finds this write.
    idempotency_key TEXT,
    created_at INTEGER NOT NULL,
    settled_at INTEGER
);
CREATE INDEX store_writes_order ON store_writes (order_id, id);
CREATE UNIQUE INDEX store_writes_key ON store_writes (order_id, idempotency_key);
