-- The WooCommerce connection. Orders keep whatever status the store gives them (an
-- extension's own, such as `shipped`), so their status check goes.
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
-- The store's `date_modified_gmt` of the copy we hold: a newer one replaces it, an older
-- or equal one changes nothing. NULL for orders that did not come from a store.
ALTER TABLE orders ADD COLUMN modified_at BIGINT;
ALTER TABLE orders ADD COLUMN transaction_id TEXT NOT NULL DEFAULT '';
CREATE INDEX orders_modified ON orders (modified_at);

-- What else a store's copy needs: when the store last changed it, and the store's own ids
-- of what Backroom also makes itself (refunds, notes).
ALTER TABLE products ADD COLUMN modified_at BIGINT;
-- WooCommerce's product type (simple, variable, grouped, external); `kind` is how Backroom
-- treats it (variable or simple).
ALTER TABLE products ADD COLUMN woo_type TEXT NOT NULL DEFAULT '';
ALTER TABLE products ADD COLUMN slug TEXT NOT NULL DEFAULT '';
ALTER TABLE product_variations ADD COLUMN modified_at BIGINT;
ALTER TABLE customers ADD COLUMN modified_at BIGINT;
ALTER TABLE customers ADD COLUMN username TEXT NOT NULL DEFAULT '';
ALTER TABLE refunds ADD COLUMN woo_id BIGINT;
-- Whether the store sent the money back through the payment gateway (else by hand).
ALTER TABLE refunds ADD COLUMN refunded_payment BIGINT NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX refunds_woo ON refunds (woo_id);
ALTER TABLE order_notes ADD COLUMN woo_id BIGINT;
-- Who wrote a note in the store ("system", or the person's name there).
ALTER TABLE order_notes ADD COLUMN author TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX order_notes_woo ON order_notes (woo_id);
-- What a transaction stands for in the store (`order:12`, `refund:34`), so reading the
-- store again finds it instead of adding another.
ALTER TABLE payment_transactions ADD COLUMN source TEXT;
CREATE UNIQUE INDEX payment_transactions_source ON payment_transactions (source);

CREATE TABLE coupons (
    id                   BIGINT PRIMARY KEY,
    code                 TEXT    NOT NULL,
    discount_type        TEXT    NOT NULL,
    -- As the store says it: a percentage for `percent`, money (decimal) otherwise.
    amount               TEXT    NOT NULL,
    description          TEXT    NOT NULL DEFAULT '',
    expires_at           BIGINT,
    usage_count          BIGINT NOT NULL DEFAULT 0,
    usage_limit          BIGINT,
    usage_limit_per_user BIGINT,
    individual_use       BIGINT NOT NULL DEFAULT 0,
    free_shipping        BIGINT NOT NULL DEFAULT 0,
    minimum_amount       TEXT    NOT NULL DEFAULT '',
    maximum_amount       TEXT    NOT NULL DEFAULT '',
    email_restrictions   TEXT    NOT NULL DEFAULT '[]',
    status               TEXT    NOT NULL DEFAULT 'publish',
    created_at           BIGINT NOT NULL,
    modified_at          BIGINT
);
CREATE UNIQUE INDEX coupons_code ON coupons (code);

CREATE TABLE product_categories (
    id        BIGINT PRIMARY KEY,
    name      TEXT    NOT NULL,
    slug      TEXT    NOT NULL,
    parent_id BIGINT
);
CREATE TABLE product_tags (
    id   BIGINT PRIMARY KEY,
    name TEXT    NOT NULL,
    slug TEXT    NOT NULL
);
-- The store's global attributes (colour, size); a product's own, local attributes stay in
-- its attributes list.
CREATE TABLE product_attributes (
    id   BIGINT PRIMARY KEY,
    name TEXT    NOT NULL,
    slug TEXT    NOT NULL
);
CREATE TABLE product_category_links (
    product_id  BIGINT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    category_id BIGINT NOT NULL,
    PRIMARY KEY (product_id, category_id)
);
CREATE TABLE product_tag_links (
    product_id BIGINT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    tag_id     BIGINT NOT NULL,
    PRIMARY KEY (product_id, tag_id)
);

-- The one store Backroom serves, and how it is reached. The key and secrets are sealed
-- like every secret (AES-256-GCM under a key derived from the master key).
CREATE TABLE woo_connection (
    id                    BIGINT PRIMARY KEY CHECK (id = 1),
    state                 TEXT    NOT NULL DEFAULT 'disconnected',
    url                   TEXT    NOT NULL DEFAULT '',
    -- How requests authenticate: basic, query (the key in the query string) or oauth1.
    auth                  TEXT    NOT NULL DEFAULT '',
    consumer_key          TEXT    NOT NULL DEFAULT '',
    consumer_secret       TEXT    NOT NULL DEFAULT '',
    webhook_secret        TEXT    NOT NULL DEFAULT '',
    -- What the store said of itself at the last check.
    store                 TEXT    NOT NULL DEFAULT '{}',
    reconcile_minutes     BIGINT NOT NULL DEFAULT 5,
    concurrency           BIGINT NOT NULL DEFAULT 2,
    -- Reconcile asks for what changed since these (minus an overlap).
    orders_watermark      BIGINT,
    products_watermark    BIGINT,
    coupons_watermark     BIGINT,
    customers_scanned_at  BIGINT,
    deletions_checked_at  BIGINT,
    last_delivery_at      BIGINT,
    last_reconcile_at     BIGINT,
    -- How far behind the store the last reconcile found Backroom, in seconds.
    last_reconcile_lag    BIGINT,
    -- Changes a reconcile found that no webhook had brought.
    reconcile_caught      BIGINT NOT NULL DEFAULT 0,
    last_error            TEXT,
    last_error_at         BIGINT,
    connected_at          BIGINT,
    updated_at            BIGINT NOT NULL DEFAULT 0
);
INSERT INTO woo_connection (id) VALUES (1);

-- The webhooks Backroom made in the store, and what it last saw of each.
CREATE TABLE woo_webhooks (
    id             BIGINT PRIMARY KEY,
    topic          TEXT    NOT NULL,
    status         TEXT    NOT NULL,
    checked_at     BIGINT,
    reactivated_at BIGINT,
    reactivations  BIGINT NOT NULL DEFAULT 0
);

-- The import, one row per kind of thing, with the cursor it resumes from.
CREATE TABLE woo_import (
    resource    TEXT    PRIMARY KEY,
    state       TEXT    NOT NULL DEFAULT 'pending',
    next_page   BIGINT NOT NULL DEFAULT 1,
    total       BIGINT,
    done        BIGINT NOT NULL DEFAULT 0,
    started_at  BIGINT,
    finished_at BIGINT
);
-- The import as a whole: which process runs it now (a lease another takes over when that
-- process dies), and how it ended.
CREATE TABLE woo_import_run (
    id          BIGINT PRIMARY KEY CHECK (id = 1),
    state       TEXT    NOT NULL DEFAULT 'idle',
    runner      TEXT,
    lease_until BIGINT,
    started_at  BIGINT,
    finished_at BIGINT,
    error       TEXT
);
INSERT INTO woo_import_run (id) VALUES (1);

-- Webhook deliveries as they arrived (signature checked), applied by a job.
CREATE TABLE woo_deliveries (
    id          BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    received_at BIGINT NOT NULL,
    webhook_id  BIGINT,
    topic       TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    applied_at  BIGINT,
    outcome     TEXT
);
CREATE INDEX woo_deliveries_pending ON woo_deliveries (applied_at, id);
