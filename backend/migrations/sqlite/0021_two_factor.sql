-- Two-factor sign-in with an authenticator app. `two_factor` holds a person's secret
-- (sealed), `confirmed_at` once a code from their app matched it, and `last_step`: the
-- latest 30-second step a code was taken for, so that no code passes twice. Their
-- single-use recovery codes keep only a SHA-256 each. A sign-in whose password was right
-- waits for its code in `sign_in_challenges` (by the SHA-256 of the token in the
-- browser's cookie) for five minutes.
CREATE TABLE two_factor (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    secret_sealed TEXT,
    confirmed_at  INTEGER,
    last_step     INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);
CREATE TABLE recovery_codes (
    id        INTEGER PRIMARY KEY,
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT    NOT NULL,
    used_at   INTEGER
);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id, code_hash);
CREATE TABLE sign_in_challenges (
    token_hash TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sign_in_challenges_expires ON sign_in_challenges (expires_at);
-- Owners must sign in with a code from their app.
ALTER TABLE security_settings ADD COLUMN owners_two_factor INTEGER NOT NULL DEFAULT 0;
