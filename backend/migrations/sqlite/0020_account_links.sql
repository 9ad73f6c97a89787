-- Single-use links sent by email: a password reset (for an account) and an invitation (to
-- an address, with the role it will have). Only the SHA-256 of a link's token is kept; a
-- link is used by setting `used_at`, once, before it expires.
CREATE TABLE account_links (
    id         INTEGER PRIMARY KEY,
    purpose    TEXT    NOT NULL CHECK (purpose IN ('password_reset', 'invitation')),
    token_hash TEXT    NOT NULL UNIQUE,
    email      TEXT    NOT NULL,
    user_id    INTEGER REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT    CHECK (role IN ('owner', 'admin', 'manager', 'agent')),
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX account_links_email ON account_links (purpose, email);
CREATE INDEX account_links_expires ON account_links (expires_at);
