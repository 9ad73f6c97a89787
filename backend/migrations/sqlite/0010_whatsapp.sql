-- WhatsApp (Meta Cloud API): the account, and what Meta tells us about our messages.
CREATE TABLE whatsapp_settings (
    id                  INTEGER PRIMARY KEY CHECK (id = 1),
    phone_number_id     TEXT    NOT NULL DEFAULT '',
    waba_id             TEXT    NOT NULL DEFAULT '',
    -- The system-user token and the app secret, sealed like every secret at rest.
    access_token_sealed TEXT,
    app_secret_sealed   TEXT,
    graph_version       TEXT    NOT NULL DEFAULT 'v23.0',
    graph_base_url      TEXT    NOT NULL DEFAULT 'https://graph.facebook.com',
    -- What Meta must send back when it verifies the webhook; generated on first read.
    verify_token        TEXT    NOT NULL DEFAULT '',
    webhook_verified_at INTEGER,
    updated_at          INTEGER NOT NULL DEFAULT 0
);
INSERT INTO whatsapp_settings (id) VALUES (1);

-- Every message we send, and how far it got (sent → delivered → read, or failed).
CREATE TABLE whatsapp_messages (
    id            INTEGER PRIMARY KEY,
    -- Meta's id for it (wamid…), known once the send succeeded.
    wamid         TEXT    UNIQUE,
    to_phone      TEXT    NOT NULL,
    purpose       TEXT    NOT NULL,
    template      TEXT    NOT NULL DEFAULT '',
    state         TEXT    NOT NULL CHECK (state IN ('queued', 'sent', 'delivered', 'read', 'failed')),
    error_code    INTEGER,
    error_title   TEXT,
    error_details TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    sent_at       INTEGER,
    delivered_at  INTEGER,
    read_at       INTEGER
);

-- Webhook deliveries, stored as received (after the signature check) and processed by a job.
CREATE TABLE whatsapp_webhook_events (
    id           INTEGER PRIMARY KEY,
    body         TEXT    NOT NULL,
    received_at  INTEGER NOT NULL,
    processed_at INTEGER
);
