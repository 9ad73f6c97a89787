-- Email: who sends it and where the shop's own notifications go.
CREATE TABLE mail_settings (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    from_name      TEXT    NOT NULL DEFAULT '',
    from_address   TEXT    NOT NULL DEFAULT '',
    notify_address TEXT    NOT NULL DEFAULT '',
    updated_at     INTEGER NOT NULL DEFAULT 0
);
INSERT INTO mail_settings (id) VALUES (1);

-- The outbox: every email, written in the same transaction as what caused it, then
-- sent by a job. The rendered message is kept as it was decided, with a Message-ID
-- that stays the same across retries.
CREATE TABLE mail_outbox (
    id           INTEGER PRIMARY KEY,
    kind         TEXT    NOT NULL,
    to_address   TEXT    NOT NULL,
    to_name      TEXT    NOT NULL DEFAULT '',
    subject      TEXT    NOT NULL,
    text_body    TEXT    NOT NULL,
    html_body    TEXT    NOT NULL,
    reply_to     TEXT,
    message_id   TEXT    NOT NULL UNIQUE,
    state        TEXT    NOT NULL CHECK (state IN ('queued', 'sent', 'failed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    -- The mail server's reply to the last failed attempt.
    last_error   TEXT,
    order_id     INTEGER,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    sent_at      INTEGER
);
CREATE INDEX mail_outbox_state ON mail_outbox (state, id);
