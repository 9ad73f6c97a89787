-- Accounting sync (Cari.com.tr): the connection and how orders become invoices.
CREATE TABLE accounting_settings (
    id                   INTEGER PRIMARY KEY CHECK (id = 1),
    enabled              INTEGER NOT NULL DEFAULT 0,
    base_url             TEXT    NOT NULL DEFAULT 'https://sistem.cari.com.tr/api',
    company_code         TEXT    NOT NULL DEFAULT '',
    -- The API key, AES-256-GCM sealed under the master key ("v1:" + base64 of nonce,
    -- ciphertext and tag); only its last four characters are ever shown again.
    api_key_sealed       TEXT,
    api_key_hint         TEXT    NOT NULL DEFAULT '',
    invoice_prefix       TEXT    NOT NULL DEFAULT 'WEB',
    -- 'order_number': prefix + the order's number; 'sequence': prefix + our own counter.
    numbering            TEXT    NOT NULL DEFAULT 'order_number' CHECK (numbering IN ('order_number', 'sequence')),
    -- Comma-separated order statuses that queue an invoice.
    trigger_statuses     TEXT    NOT NULL DEFAULT 'completed',
    -- 'credit_note': a refund on a synced order sends a credit note; 'manual': it is listed.
    refunds              TEXT    NOT NULL DEFAULT 'credit_note' CHECK (refunds IN ('credit_note', 'manual')),
    shipping_as_line     INTEGER NOT NULL DEFAULT 1,
    fees_as_line         INTEGER NOT NULL DEFAULT 1,
    -- Our VAT rates (percent) to the ledger's VAT codes: "20=KDV20, 10=KDV10, 1=KDV1, 0=KDV0".
    vat_codes            TEXT    NOT NULL DEFAULT '20=KDV20, 10=KDV10, 1=KDV1, 0=KDV0',
    max_attempts         INTEGER NOT NULL DEFAULT 8,
    log_retention_days   INTEGER NOT NULL DEFAULT 30,
    redact_personal_data INTEGER NOT NULL DEFAULT 0,
    -- Set when the ledger refused the credentials: nothing is sent until they change.
    paused_reason        TEXT,
    updated_at           INTEGER NOT NULL DEFAULT 0
);
INSERT INTO accounting_settings (id) VALUES (1);

-- Our own invoice numbers, per series prefix: handed out once each, in order.
CREATE TABLE accounting_series (
    prefix      TEXT    PRIMARY KEY,
    next_number INTEGER NOT NULL
);

-- Every document sent to the ledger: an order's invoice, a refund's credit note.
CREATE TABLE accounting_documents (
    id                 INTEGER PRIMARY KEY,
    kind               TEXT    NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
    order_id           INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    refund_id          INTEGER REFERENCES refunds (id) ON DELETE CASCADE,
    -- Sent with the document; a retry asks the ledger for it before creating anything.
    reference          TEXT    NOT NULL UNIQUE,
    state              TEXT    NOT NULL CHECK (state IN ('queued', 'synced', 'failed', 'dead', 'manual', 'cancelled')),
    number             TEXT,
    remote_id          TEXT,
    remote_number      TEXT,
    remote_customer_id TEXT,
    -- When the create request first went out: from then on, a retry looks before it creates.
    sent_at            INTEGER,
    resync             INTEGER NOT NULL DEFAULT 0,
    attempts           INTEGER NOT NULL DEFAULT 0,
    last_error         TEXT,
    job_id             INTEGER,
    bulk_id            INTEGER,
    -- How many times it was queued; names its jobs.
    queued_count       INTEGER NOT NULL DEFAULT 0,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    synced_at          INTEGER
);
CREATE INDEX accounting_documents_order ON accounting_documents (order_id);
CREATE INDEX accounting_documents_state ON accounting_documents (state, updated_at);
CREATE INDEX accounting_documents_bulk ON accounting_documents (bulk_id, state);

-- The ledger's customer for each of ours, by what matches them: tax number, national id
-- or email. A row without a remote id is being created by whoever holds the claim.
CREATE TABLE accounting_customers (
    match_key     TEXT    PRIMARY KEY,
    remote_id     TEXT,
    claimed_until INTEGER NOT NULL DEFAULT 0,
    updated_at    INTEGER NOT NULL
);

-- Every request to the ledger and its answer, personal data redacted as configured.
CREATE TABLE accounting_log (
    id          INTEGER PRIMARY KEY,
    document_id INTEGER,
    order_id    INTEGER,
    operation   TEXT    NOT NULL,
    method      TEXT    NOT NULL,
    url         TEXT    NOT NULL,
    status      INTEGER,
    duration_ms INTEGER NOT NULL,
    request     TEXT,
    response    TEXT,
    error       TEXT,
    created_at  INTEGER NOT NULL
);
CREATE INDEX accounting_log_order ON accounting_log (order_id, id);
CREATE INDEX accounting_log_created ON accounting_log (created_at);

-- A bulk sync: the orders it covers and how far it got.
CREATE TABLE accounting_bulk_runs (
    id          INTEGER PRIMARY KEY,
    created_by  INTEGER,
    description TEXT    NOT NULL,
    resync      INTEGER NOT NULL DEFAULT 0,
    state       TEXT    NOT NULL CHECK (state IN ('running', 'cancelled', 'finished')),
    total       INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE TABLE accounting_bulk_items (
    bulk_id  INTEGER NOT NULL REFERENCES accounting_bulk_runs (id) ON DELETE CASCADE,
    order_id INTEGER NOT NULL,
    state    TEXT    NOT NULL CHECK (state IN ('queued', 'done', 'skipped', 'failed', 'cancelled')),
    PRIMARY KEY (bulk_id, order_id)
);
CREATE INDEX accounting_bulk_items_order ON accounting_bulk_items (order_id, state);

-- Tax identifiers the invoice needs (WooCommerce keeps them as billing meta).
ALTER TABLE orders ADD COLUMN billing_tax_number TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN billing_tax_office TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN billing_national_id TEXT NOT NULL DEFAULT '';
