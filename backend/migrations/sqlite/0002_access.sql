-- Access for the mobile app and integrations: connection keys, application passwords,
-- OAuth, the API's guards and their settings, and a richer, prunable audit log.

CREATE TABLE security_settings (
    id                    INTEGER PRIMARY KEY CHECK (id = 1),
    https_required        INTEGER NOT NULL DEFAULT 1,
    ip_allowlist          TEXT    NOT NULL DEFAULT '',
    trusted_proxies       TEXT    NOT NULL DEFAULT '',
    timestamp_window_secs INTEGER NOT NULL DEFAULT 300,
    rate_per_credential   INTEGER NOT NULL DEFAULT 120,
    rate_per_ip           INTEGER NOT NULL DEFAULT 600,
    lockout_failures      INTEGER NOT NULL DEFAULT 20,
    lockout_window_secs   INTEGER NOT NULL DEFAULT 600,
    audit_retention_days  INTEGER NOT NULL DEFAULT 365,
    dev_mode              INTEGER NOT NULL DEFAULT 0,
    updated_at            INTEGER NOT NULL DEFAULT 0
);
INSERT INTO security_settings (id) VALUES (1);

-- Connection keys and application passwords: stored only as HMAC-SHA256 of the secret.
CREATE TABLE api_credentials (
    id            INTEGER PRIMARY KEY,
    kind          TEXT    NOT NULL CHECK (kind IN ('connection_key', 'app_password')),
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    label         TEXT    NOT NULL,
    scope         TEXT    NOT NULL CHECK (scope IN ('read', 'write')),
    secret_hash   TEXT    NOT NULL UNIQUE,
    last_four     TEXT    NOT NULL,
    lifetime_days INTEGER,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER,
    revoked_at    INTEGER,
    last_used_at  INTEGER,
    last_used_ip  TEXT
);
CREATE INDEX api_credentials_user ON api_credentials (user_id, kind);

CREATE TABLE oauth_clients (
    id            INTEGER PRIMARY KEY,
    client_id     TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    redirect_uris TEXT    NOT NULL,
    scope         TEXT    NOT NULL CHECK (scope IN ('read', 'write')),
    created_at    INTEGER NOT NULL,
    revoked_at    INTEGER
);

-- One app signed in on one device: the family of its tokens.
CREATE TABLE oauth_grants (
    id             INTEGER PRIMARY KEY,
    client_id      INTEGER NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scope          TEXT    NOT NULL CHECK (scope IN ('read', 'write')),
    device         TEXT    NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL,
    last_used_at   INTEGER,
    last_used_ip   TEXT,
    revoked_at     INTEGER,
    revoked_reason TEXT
);
CREATE INDEX oauth_grants_user ON oauth_grants (user_id);

CREATE TABLE oauth_codes (
    code_hash      TEXT    PRIMARY KEY,
    client_id      INTEGER NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri   TEXT    NOT NULL,
    scope          TEXT    NOT NULL,
    code_challenge TEXT    NOT NULL,
    expires_at     INTEGER NOT NULL,
    used_at        INTEGER,
    grant_id       INTEGER REFERENCES oauth_grants (id) ON DELETE CASCADE
);
CREATE INDEX oauth_codes_expires ON oauth_codes (expires_at);

CREATE TABLE oauth_tokens (
    token_hash TEXT    PRIMARY KEY,
    grant_id   INTEGER NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL CHECK (kind IN ('access', 'refresh')),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    rotated_at INTEGER
);
CREATE INDEX oauth_tokens_grant ON oauth_tokens (grant_id);
CREATE INDEX oauth_tokens_expires ON oauth_tokens (expires_at);

-- Nonces seen with connection-key requests, kept for the timestamp window.
CREATE TABLE api_nonces (
    credential TEXT    NOT NULL,
    nonce      TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (credential, nonce)
);
CREATE INDEX api_nonces_expires ON api_nonces (expires_at);

ALTER TABLE audit_log ADD COLUMN credential TEXT;
ALTER TABLE audit_log ADD COLUMN user_agent TEXT;
CREATE INDEX audit_log_action ON audit_log (action, at);

-- Still append-only, but the retention job may delete entries older than 30 days (the
-- shortest retention the settings allow).
DROP TRIGGER audit_log_no_delete;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN old.at > CAST(strftime('%s', 'now') AS INTEGER) - 30 * 86400
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
