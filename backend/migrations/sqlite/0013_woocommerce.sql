-- no-transaction
-- The WooCommerce connection. Orders keep whatever status the store gives them (an
-- extension's own, such as `shipped`), so their status check goes: SQLite drops a check
-- only by rebuilding the table, which needs foreign keys off (else dropping the old table
-- would empty every table that references it) and so runs outside the migrator's
-- transaction, in one of its own.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE orders_rebuilt (
    id                   INTEGER PRIMARY KEY,
    number               TEXT    NOT NULL UNIQUE,
    status               TEXT    NOT NULL,
    currency             TEXT    NOT NULL,
    customer_id          INTEGER REFERENCES customers (id),
    billing_first_name   TEXT    NOT NULL DEFAULT '',
    billing_last_name    TEXT    NOT NULL DEFAULT '',
    billing_company      TEXT    NOT NULL DEFAULT '',
    billing_address_1    TEXT    NOT NULL DEFAULT '',
    billing_address_2    TEXT    NOT NULL DEFAULT '',
    billing_city         TEXT    NOT NULL DEFAULT '',
    billing_state        TEXT    NOT NULL DEFAULT '',
    billing_postcode     TEXT    NOT NULL DEFAULT '',
    billing_country      TEXT    NOT NULL DEFAULT '',
    billing_email        TEXT    NOT NULL DEFAULT '',
    billing_phone        TEXT    NOT NULL DEFAULT '',
    shipping_first_name  TEXT    NOT NULL DEFAULT '',
    shipping_last_name   TEXT    NOT NULL DEFAULT '',
    shipping_company     TEXT    NOT NULL DEFAULT '',
    shipping_address_1   TEXT    NOT NULL DEFAULT '',
    shipping_address_2   TEXT    NOT NULL DEFAULT '',
    shipping_city        TEXT    NOT NULL DEFAULT '',
    shipping_state       TEXT    NOT NULL DEFAULT '',
    shipping_postcode    TEXT    NOT NULL DEFAULT '',
    shipping_country     TEXT    NOT NULL DEFAULT '',
    shipping_phone       TEXT    NOT NULL DEFAULT '',
    payment_method       TEXT    NOT NULL DEFAULT '',
    payment_method_title TEXT    NOT NULL DEFAULT '',
    customer_note        TEXT    NOT NULL DEFAULT '',
    discount_total       INTEGER NOT NULL DEFAULT 0,
    discount_tax         INTEGER NOT NULL DEFAULT 0,
    shipping_total       INTEGER NOT NULL DEFAULT 0,
    shipping_tax         INTEGER NOT NULL DEFAULT 0,
    fee_total            INTEGER NOT NULL DEFAULT 0,
    cart_tax             INTEGER NOT NULL DEFAULT 0,
    total_tax            INTEGER NOT NULL DEFAULT 0,
    total                INTEGER NOT NULL DEFAULT 0,
    refunded_total       INTEGER NOT NULL DEFAULT 0,
    items_count          INTEGER NOT NULL DEFAULT 0,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    paid_at              INTEGER,
    completed_at         INTEGER,
    billing_tax_number   TEXT    NOT NULL DEFAULT '',
    billing_tax_office   TEXT    NOT NULL DEFAULT '',
    billing_national_id  TEXT    NOT NULL DEFAULT '',
    -- The store's `date_modified_gmt` of the copy we hold: a newer one replaces it, an
    -- older or equal one changes nothing. NULL for orders that did not come from a store.
    modified_at          INTEGER,
    transaction_id       TEXT    NOT NULL DEFAULT ''
);
INSERT INTO orders_rebuilt (
    id, number, status, currency, customer_id, billing_first_name, billing_last_name, billing_company,
    billing_address_1, billing_address_2, billing_city, billing_state, billing_postcode, billing_country,
    billing_email, billing_phone, shipping_first_name, shipping_last_name, shipping_company, shipping_address_1,
    shipping_address_2, shipping_city, shipping_state, shipping_postcode, shipping_country, shipping_phone,
    payment_method, payment_method_title, customer_note, discount_total, discount_tax, shipping_total,
    shipping_tax, fee_total, cart_tax, total_tax, total, refunded_total, items_count, created_at, updated_at,
    paid_at, completed_at, billing_tax_number, billing_tax_office, billing_national_id)
SELECT
    id, number, status, currency, customer_id, billing_first_name, billing_last_name, billing_company,
    billing_address_1, billing_address_2, billing_city, billing_state, billing_postcode, billing_country,
    billing_email, billing_phone, shipping_first_name, shipping_last_name, shipping_company, shipping_address_1,
    shipping_address_2, shipping_city, shipping_state, shipping_postcode, shipping_country, shipping_phone,
    payment_method, payment_method_title, customer_note, discount_total, discount_tax, shipping_total,
    shipping_tax, fee_total, cart_tax, total_tax, total, refunded_total, items_count, created_at, updated_at,
    paid_at, completed_at, billing_tax_number, billing_tax_office, billing_national_id
FROM orders;
DROP TABLE orders;
ALTER TABLE orders_rebuilt RENAME TO orders;
CREATE INDEX orders_created ON orders (created_at, id);
CREATE INDEX orders_status_created ON orders (status, created_at, id);
CREATE INDEX orders_customer ON orders (customer_id);
CREATE INDEX orders_billing_email ON orders (billing_email);
CREATE INDEX orders_first_name ON orders (LOWER(billing_first_name), created_at);
CREATE INDEX orders_last_name ON orders (LOWER(billing_last_name), created_at);
CREATE INDEX orders_modified ON orders (modified_at);

-- What else a store's copy needs: when the store last changed it, and the store's own ids
-- of what Backroom also makes itself (refunds, notes).
ALTER TABLE products ADD COLUMN modified_at INTEGER;
-- WooCommerce's product type (simple, variable, grouped, external); `kind` is how Backroom
-- treats it (variable or simple).
ALTER TABLE products ADD COLUMN woo_type TEXT NOT NULL DEFAULT '';
ALTER TABLE products ADD COLUMN slug TEXT NOT NULL DEFAULT '';
ALTER TABLE product_variations ADD COLUMN modified_at INTEGER;
ALTER TABLE customers ADD COLUMN modified_at INTEGER;
ALTER TABLE customers ADD COLUMN username TEXT NOT NULL DEFAULT '';
ALTER TABLE refunds ADD COLUMN woo_id INTEGER;
-- Whether the store sent the money back through the payment gateway (else by hand).
ALTER TABLE refunds ADD COLUMN refunded_payment INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX refunds_woo ON refunds (woo_id);
ALTER TABLE order_notes ADD COLUMN woo_id INTEGER;
-- Who wrote a note in the store ("system", or the person's name there).
ALTER TABLE order_notes ADD COLUMN author TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX order_notes_woo ON order_notes (woo_id);
-- What a transaction stands for in the store (`order:12`, `refund:34`), so reading the
-- store again finds it instead of adding another.
ALTER TABLE payment_transactions ADD COLUMN source TEXT;
CREATE UNIQUE INDEX payment_transactions_source ON payment_transactions (source);

CREATE TABLE coupons (
    id                   INTEGER PRIMARY KEY,
    code                 TEXT    NOT NULL,
    discount_type        TEXT    NOT NULL,
    -- As the store says it: a percentage for `percent`, money (decimal) otherwise.
    amount               TEXT    NOT NULL,
    description          TEXT    NOT NULL DEFAULT '',
    expires_at           INTEGER,
    usage_count          INTEGER NOT NULL DEFAULT 0,
    usage_limit          INTEGER,
    usage_limit_per_user INTEGER,
    individual_use       INTEGER NOT NULL DEFAULT 0,
    free_shipping        INTEGER NOT NULL DEFAULT 0,
    minimum_amount       TEXT    NOT NULL DEFAULT '',
    maximum_amount       TEXT    NOT NULL DEFAULT '',
    email_restrictions   TEXT    NOT NULL DEFAULT '[]',
    status               TEXT    NOT NULL DEFAULT 'publish',
    created_at           INTEGER NOT NULL,
    modified_at          INTEGER
);
CREATE UNIQUE INDEX coupons_code ON coupons (code);

CREATE TABLE product_categories (
    id        INTEGER PRIMARY KEY,
    name      TEXT    NOT NULL,
    slug      TEXT    NOT NULL,
    parent_id INTEGER
);
CREATE TABLE product_tags (
    id   INTEGER PRIMARY KEY,
    name TEXT    NOT NULL,
    slug TEXT    NOT NULL
);
-- The store's global attributes (colour, size); a product's own, local attributes stay in
-- its attributes list.
CREATE TABLE product_attributes (
    id   INTEGER PRIMARY KEY,
    name TEXT    NOT NULL,
    slug TEXT    NOT NULL
);
CREATE TABLE product_category_links (
    product_id  INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    category_id INTEGER NOT NULL,
    PRIMARY KEY (product_id, category_id)
);
CREATE TABLE product_tag_links (
    product_id INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    tag_id     INTEGER NOT NULL,
    PRIMARY KEY (product_id, tag_id)
);

-- The one store Backroom serves, and how it is reached. The key and secrets are sealed
-- like every secret (AES-256-GCM under a key derived from the master key).
CREATE TABLE woo_connection (
    id                    INTEGER PRIMARY KEY CHECK (id = 1),
    state                 TEXT    NOT NULL DEFAULT 'disconnected',
    url                   TEXT    NOT NULL DEFAULT '',
    -- How requests authenticate: basic, query (the key in the query string) or oauth1.
    auth                  TEXT    NOT NULL DEFAULT '',
    consumer_key          TEXT    NOT NULL DEFAULT '',
    consumer_secret       TEXT    NOT NULL DEFAULT '',
    webhook_secret        TEXT    NOT NULL DEFAULT '',
    -- What the store said of itself at the last check.
    store                 TEXT    NOT NULL DEFAULT '{}',
    reconcile_minutes     INTEGER NOT NULL DEFAULT 5,
    concurrency           INTEGER NOT NULL DEFAULT 2,
    -- Reconcile asks for what changed since these (minus an overlap).
    orders_watermark      INTEGER,
    products_watermark    INTEGER,
    coupons_watermark     INTEGER,
    customers_scanned_at  INTEGER,
    deletions_checked_at  INTEGER,
    last_delivery_at      INTEGER,
    last_reconcile_at     INTEGER,
    -- How far behind the store the last reconcile found Backroom, in seconds.
    last_reconcile_lag    INTEGER,
    -- Changes a reconcile found that no webhook had brought.
    reconcile_caught      INTEGER NOT NULL DEFAULT 0,
    last_error            TEXT,
    last_error_at         INTEGER,
    connected_at          INTEGER,
    updated_at            INTEGER NOT NULL DEFAULT 0
);
INSERT INTO woo_connection (id) VALUES (1);

-- The webhooks Backroom made in the store, and what it last saw of each.
CREATE TABLE woo_webhooks (
    id             INTEGER PRIMARY KEY,
    topic          TEXT    NOT NULL,
    status         TEXT    NOT NULL,
    checked_at     INTEGER,
    reactivated_at INTEGER,
    reactivations  INTEGER NOT NULL DEFAULT 0
);

-- The import, one row per kind of thing, with the cursor it resumes from.
CREATE TABLE woo_import (
    resource    TEXT    PRIMARY KEY,
    state       TEXT    NOT NULL DEFAULT 'pending',
    next_page   INTEGER NOT NULL DEFAULT 1,
    total       INTEGER,
    done        INTEGER NOT NULL DEFAULT 0,
    started_at  INTEGER,
    finished_at INTEGER
);
-- The import as a whole: which process runs it now (a lease another takes over when that
-- process dies), and how it ended.
CREATE TABLE woo_import_run (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    state       TEXT    NOT NULL DEFAULT 'idle',
    runner      TEXT,
    lease_until INTEGER,
    started_at  INTEGER,
    finished_at INTEGER,
    error       TEXT
);
INSERT INTO woo_import_run (id) VALUES (1);

-- Webhook deliveries as they arrived (signature checked), applied by a job.
CREATE TABLE woo_deliveries (
    id          INTEGER PRIMARY KEY,
    received_at INTEGER NOT NULL,
    webhook_id  INTEGER,
    topic       TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    applied_at  INTEGER,
    outcome     TEXT
);
CREATE INDEX woo_deliveries_pending ON woo_deliveries (applied_at, id);
COMMIT;
PRAGMA foreign_keys = ON;
