-- Backroom's foundation schema (SQLite dialect; postgres/ holds the same schema).
-- Times are whole seconds since the Unix epoch, UTC. Money is integer minor units.
-- Only INTEGER, TEXT and REAL column types: the rest of the code reads both dialects alike.

CREATE TABLE store_settings (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    name        TEXT    NOT NULL,
    public_url  TEXT,
    currency    TEXT    NOT NULL,
    time_zone   TEXT    NOT NULL,
    locale      TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL
);
INSERT INTO store_settings (id, name, public_url, currency, time_zone, locale, updated_at)
VALUES (1, 'My shop', NULL, 'TRY', 'Europe/Istanbul', 'en', 0);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('owner', 'admin', 'manager', 'agent')),
    password_hash TEXT    NOT NULL,
    disabled_at   INTEGER,
    created_at    INTEGER NOT NULL
);

CREATE TABLE sessions (
    id_hash      TEXT    PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    ip           TEXT,
    user_agent   TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- Failed sign-ins per subject ('email:…' or 'ip:…'), shared by every instance.
CREATE TABLE sign_in_throttle (
    subject           TEXT    PRIMARY KEY,
    failures          INTEGER NOT NULL,
    window_started_at INTEGER NOT NULL,
    locked_until      INTEGER
);

CREATE TABLE customers (
    id          INTEGER PRIMARY KEY,
    email       TEXT    NOT NULL,
    first_name  TEXT    NOT NULL DEFAULT '',
    last_name   TEXT    NOT NULL DEFAULT '',
    company     TEXT    NOT NULL DEFAULT '',
    phone       TEXT    NOT NULL DEFAULT '',
    country     TEXT    NOT NULL DEFAULT '',
    city        TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
);
CREATE INDEX customers_email ON customers (email);

CREATE TABLE products (
    id             INTEGER PRIMARY KEY,
    kind           TEXT    NOT NULL CHECK (kind IN ('simple', 'variable')),
    name           TEXT    NOT NULL,
    sku            TEXT    UNIQUE,
    status         TEXT    NOT NULL DEFAULT 'publish',
    regular_price  INTEGER,
    sale_price     INTEGER,
    tax_class      TEXT    NOT NULL DEFAULT '',
    manage_stock   INTEGER NOT NULL DEFAULT 0,
    stock_quantity INTEGER,
    stock_status   TEXT    NOT NULL DEFAULT 'instock',
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);

CREATE TABLE product_variations (
    id             INTEGER PRIMARY KEY,
    product_id     INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    sku            TEXT    UNIQUE,
    attributes     TEXT    NOT NULL DEFAULT '{}',
    regular_price  INTEGER NOT NULL,
    sale_price     INTEGER,
    manage_stock   INTEGER NOT NULL DEFAULT 0,
    stock_quantity INTEGER,
    stock_status   TEXT    NOT NULL DEFAULT 'instock',
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX product_variations_product ON product_variations (product_id);

CREATE TABLE orders (
    id                   INTEGER PRIMARY KEY,
    number               TEXT    NOT NULL UNIQUE,
    status               TEXT    NOT NULL CHECK (status IN
                           ('pending', 'processing', 'on-hold', 'completed', 'cancelled', 'refunded', 'failed')),
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
    completed_at         INTEGER
);
CREATE INDEX orders_created ON orders (created_at, id);
CREATE INDEX orders_status_created ON orders (status, created_at, id);
CREATE INDEX orders_customer ON orders (customer_id);
CREATE INDEX orders_billing_email ON orders (billing_email);

CREATE TABLE order_items (
    id           INTEGER PRIMARY KEY,
    order_id     INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    product_id   INTEGER REFERENCES products (id),
    variation_id INTEGER REFERENCES product_variations (id),
    name         TEXT    NOT NULL,
    sku          TEXT    NOT NULL DEFAULT '',
    quantity     INTEGER NOT NULL CHECK (quantity > 0),
    unit_price   INTEGER NOT NULL,
    subtotal     INTEGER NOT NULL,
    subtotal_tax INTEGER NOT NULL DEFAULT 0,
    total        INTEGER NOT NULL,
    total_tax    INTEGER NOT NULL DEFAULT 0,
    tax_class    TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX order_items_order ON order_items (order_id);
CREATE INDEX order_items_product ON order_items (product_id);

CREATE TABLE order_shipping_lines (
    id           INTEGER PRIMARY KEY,
    order_id     INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    method_id    TEXT    NOT NULL,
    method_title TEXT    NOT NULL,
    total        INTEGER NOT NULL,
    total_tax    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX order_shipping_lines_order ON order_shipping_lines (order_id);

CREATE TABLE order_fee_lines (
    id        INTEGER PRIMARY KEY,
    order_id  INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    name      TEXT    NOT NULL,
    total     INTEGER NOT NULL,
    total_tax INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX order_fee_lines_order ON order_fee_lines (order_id);

CREATE TABLE order_coupon_lines (
    id           INTEGER PRIMARY KEY,
    order_id     INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    code         TEXT    NOT NULL,
    discount     INTEGER NOT NULL,
    discount_tax INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX order_coupon_lines_order ON order_coupon_lines (order_id);

CREATE TABLE order_notes (
    id               INTEGER PRIMARY KEY,
    order_id         INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    author_user_id   INTEGER REFERENCES users (id),
    is_customer_note INTEGER NOT NULL DEFAULT 0,
    body             TEXT    NOT NULL,
    created_at       INTEGER NOT NULL
);
CREATE INDEX order_notes_order ON order_notes (order_id);

CREATE TABLE refunds (
    id          INTEGER PRIMARY KEY,
    order_id    INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    amount      INTEGER NOT NULL CHECK (amount > 0),
    reason      TEXT    NOT NULL DEFAULT '',
    restock     INTEGER NOT NULL DEFAULT 0,
    refunded_by INTEGER REFERENCES users (id),
    created_at  INTEGER NOT NULL
);
CREATE INDEX refunds_order ON refunds (order_id);
CREATE INDEX refunds_created ON refunds (created_at);

CREATE TABLE refund_lines (
    id            INTEGER PRIMARY KEY,
    refund_id     INTEGER NOT NULL REFERENCES refunds (id) ON DELETE CASCADE,
    order_item_id INTEGER NOT NULL REFERENCES order_items (id) ON DELETE CASCADE,
    quantity      INTEGER NOT NULL DEFAULT 0,
    amount        INTEGER NOT NULL,
    tax           INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX refund_lines_refund ON refund_lines (refund_id);

CREATE TABLE payment_transactions (
    id             INTEGER PRIMARY KEY,
    order_id       INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    gateway        TEXT    NOT NULL,
    transaction_id TEXT    NOT NULL,
    kind           TEXT    NOT NULL CHECK (kind IN ('payment', 'refund')),
    amount         INTEGER NOT NULL,
    currency       TEXT    NOT NULL,
    status         TEXT    NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    created_at     INTEGER NOT NULL
);
CREATE INDEX payment_transactions_order ON payment_transactions (order_id);
CREATE INDEX payment_transactions_created ON payment_transactions (created_at, id);

-- Sales per day in the shop's time zone, kept with each order change and rebuildable.
CREATE TABLE sales_daily (
    day        TEXT    NOT NULL,
    currency   TEXT    NOT NULL,
    orders     INTEGER NOT NULL DEFAULT 0,
    items      INTEGER NOT NULL DEFAULT 0,
    gross      INTEGER NOT NULL DEFAULT 0,
    refunds    INTEGER NOT NULL DEFAULT 0,
    tax        INTEGER NOT NULL DEFAULT 0,
    shipping   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, currency)
);

CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY,
    at            INTEGER NOT NULL,
    actor_user_id INTEGER,
    actor         TEXT    NOT NULL,
    action        TEXT    NOT NULL,
    target        TEXT    NOT NULL DEFAULT '',
    ip            TEXT,
    outcome       TEXT    NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
    details       TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log (at, id);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

CREATE TABLE jobs (
    id              INTEGER PRIMARY KEY,
    kind            TEXT    NOT NULL,
    payload         TEXT    NOT NULL DEFAULT '{}',
    idempotency_key TEXT    UNIQUE,
    state           TEXT    NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    max_attempts    INTEGER NOT NULL,
    run_at          INTEGER NOT NULL,
    locked_by       TEXT,
    locked_until    INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    finished_at     INTEGER
);
CREATE INDEX jobs_due ON jobs (state, run_at);
