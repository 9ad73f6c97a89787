-- The support form: where it may be embedded and how often it may be used.
CREATE TABLE support_settings (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    -- Origins (https://shop.example) allowed to embed /support/embed, one per line.
    embed_origins   TEXT    NOT NULL DEFAULT '',
    per_ip_per_hour INTEGER NOT NULL DEFAULT 5,
    per_order_per_day INTEGER NOT NULL DEFAULT 3,
    updated_at      INTEGER NOT NULL DEFAULT 0
);
INSERT INTO support_settings (id) VALUES (1);

-- A customer's question about an order, and its thread.
CREATE TABLE tickets (
    id               INTEGER PRIMARY KEY,
    -- What the customer and the emails call it, e.g. T-7KQ3M9; in reply subjects too.
    reference        TEXT    NOT NULL UNIQUE,
    order_id         INTEGER REFERENCES orders (id) ON DELETE SET NULL,
    customer_email   TEXT    NOT NULL,
    customer_name    TEXT    NOT NULL DEFAULT '',
    subject          TEXT    NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN ('open', 'pending', 'resolved', 'closed')),
    assignee_user_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    -- Whether the shop has seen the customer's latest message.
    unread           INTEGER NOT NULL DEFAULT 1,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX tickets_updated ON tickets (updated_at, id);
CREATE INDEX tickets_status_updated ON tickets (status, updated_at, id);
CREATE INDEX tickets_order ON tickets (order_id);

CREATE TABLE ticket_messages (
    id             INTEGER PRIMARY KEY,
    ticket_id      INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    -- customer: from the form (or, later, an emailed reply); reply: emailed to the
    -- customer; note: internal, never emailed.
    kind           TEXT    NOT NULL CHECK (kind IN ('customer', 'reply', 'note')),
    author_user_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    body           TEXT    NOT NULL,
    mail_id        INTEGER,
    created_at     INTEGER NOT NULL
);
CREATE INDEX ticket_messages_ticket ON ticket_messages (ticket_id, id);
ALTER TABLE mail_outbox ADD COLUMN ticket_id INTEGER;
