-- WhatsApp beyond the account: what the shop configured (recovery, notifications, the
-- widget, limits) as one typed document, the account's templates, the people who agreed
-- to messages, the carts we try to recover, and what happened to each.
ALTER TABLE whatsapp_settings ADD COLUMN config TEXT NOT NULL DEFAULT '{}';
-- The newest order the recovery attribution has looked at.
ALTER TABLE whatsapp_settings ADD COLUMN orders_seen_id INTEGER NOT NULL DEFAULT 0;
-- Pre-existing orders are not purchases after a message: start after them.
UPDATE whatsapp_settings SET orders_seen_id = COALESCE((SELECT MAX(id) FROM orders), 0);

-- The account's templates as Meta last listed them.
CREATE TABLE whatsapp_templates (
    name        TEXT    NOT NULL,
    language    TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    category    TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    body_params INTEGER NOT NULL,
    -- Whether it has a URL button whose suffix we fill (the recovery link's token).
    url_button  INTEGER NOT NULL,
    -- Why we cannot send it (media header, header parameters…), or NULL.
    unsupported TEXT,
    fetched_at  INTEGER NOT NULL,
    PRIMARY KEY (name, language)
);

-- One row per phone: when it agreed to messages, and when it opted out (a STOP reply or
-- consent withdrawn at checkout). Opted out wins until the phone agrees again.
CREATE TABLE whatsapp_contacts (
    phone          TEXT    PRIMARY KEY,
    consented_at   INTEGER,
    opted_out_at   INTEGER,
    opt_out_source TEXT,
    updated_at     INTEGER NOT NULL
);

-- Checkouts left unfinished. One open cart per phone: a refresh updates it.
CREATE TABLE whatsapp_carts (
    id                  INTEGER PRIMARY KEY,
    phone               TEXT    NOT NULL,
    email               TEXT    NOT NULL DEFAULT '',
    name                TEXT    NOT NULL DEFAULT '',
    lines               TEXT    NOT NULL,
    total_minor         INTEGER NOT NULL,
    currency            TEXT    NOT NULL,
    restore_url         TEXT    NOT NULL,
    state               TEXT    NOT NULL CHECK (state IN ('open', 'recovered', 'converted', 'stopped')),
    stop_reason         TEXT,
    captured_at         INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    -- The step (1, 2, 3) whose message is scheduled, and when it is due.
    next_step           INTEGER,
    next_at             INTEGER,
    first_messaged_at   INTEGER,
    last_messaged_at    INTEGER,
    steps_sent          INTEGER NOT NULL DEFAULT 0,
    clicks              INTEGER NOT NULL DEFAULT 0,
    first_clicked_at    INTEGER,
    coupon_code         TEXT,
    coupon_percent      INTEGER,
    coupon_expires_at   INTEGER,
    coupon_min_minor    INTEGER,
    order_id            INTEGER,
    order_total_minor   INTEGER,
    closed_at           INTEGER
);
CREATE UNIQUE INDEX whatsapp_carts_open_phone ON whatsapp_carts (phone) WHERE state = 'open';
CREATE INDEX whatsapp_carts_open_email ON whatsapp_carts (email) WHERE state = 'open';
CREATE INDEX whatsapp_carts_captured ON whatsapp_carts (captured_at);

-- A cart's timeline: captured, updated, messaged, delivered, clicked, recovered, stopped.
CREATE TABLE whatsapp_cart_events (
    id      INTEGER PRIMARY KEY,
    cart_id INTEGER NOT NULL REFERENCES whatsapp_carts (id) ON DELETE CASCADE,
    at      INTEGER NOT NULL,
    kind    TEXT    NOT NULL,
    detail  TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX whatsapp_cart_events_cart ON whatsapp_cart_events (cart_id, id);

-- What a message is for, and the one key that makes it once (cart and step, order and
-- status, or a test send).
ALTER TABLE whatsapp_messages ADD COLUMN idempotency_key TEXT;
ALTER TABLE whatsapp_messages ADD COLUMN cart_id INTEGER;
ALTER TABLE whatsapp_messages ADD COLUMN step INTEGER;
ALTER TABLE whatsapp_messages ADD COLUMN order_id INTEGER;
ALTER TABLE whatsapp_messages ADD COLUMN language TEXT NOT NULL DEFAULT '';
-- The request body as Meta receives it.
ALTER TABLE whatsapp_messages ADD COLUMN request TEXT NOT NULL DEFAULT '';
-- Set just before the request goes out: a message with it and no wamid may have been
-- sent by a process that died, and is not sent again.
ALTER TABLE whatsapp_messages ADD COLUMN attempted_at INTEGER;
ALTER TABLE whatsapp_messages ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX whatsapp_messages_idempotency ON whatsapp_messages (idempotency_key);
CREATE INDEX whatsapp_messages_created ON whatsapp_messages (created_at);
CREATE INDEX whatsapp_messages_cart ON whatsapp_messages (cart_id);
CREATE INDEX whatsapp_messages_attempted ON whatsapp_messages (attempted_at);
