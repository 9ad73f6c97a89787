//! Panel sessions, kept in the database so every instance sees the same ones: a random
//! token in an HttpOnly cookie, stored only as its SHA-256. A new token at every sign-in;
//! an idle and an absolute timeout; "sign out everywhere".

use std::time::Duration;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::{Result, clock::now, db::Db, users::User};

/// How long a session lives.
#[derive(Clone, Copy, Debug)]
pub struct SessionPolicy {
    pub idle_timeout: Duration,
    pub absolute_timeout: Duration,
}

/// `last_seen_at` is written at most this often, so reading pages costs no writes.
const TOUCH_INTERVAL_SECS: i64 = 60;
const TOKEN_LENGTH: usize = 43;

fn token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

/// A token shaped like ours; anything else is refused without a database read.
fn well_formed(token: &str) -> bool {
    token.len() == TOKEN_LENGTH && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Starts a session for `user_id` and returns the token for the cookie.
pub async fn start(
    db: &Db,
    policy: SessionPolicy,
    user_id: i64,
    ip: Option<&str>,
    user_agent: Option<&str>,
) -> Result<String> {
    let token = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    let now = now();
    sqlx::query(
        "INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at, ip, user_agent) \
         VALUES ($1, $2, $3, $3, $4, $5, $6)",
    )
    .bind(token_hash(&token))
    .bind(user_id)
    .bind(now)
    .bind(now + policy.absolute_timeout.as_secs() as i64)
    .bind(ip)
    .bind(user_agent.map(|ua| ua.chars().take(200).collect::<String>()))
    .execute(db.writer())
    .await?;
    Ok(token)
}

/// The signed-in user for a token, or `None` for an unknown, expired or forged token or a
/// disabled account. An expired session is deleted on sight.
pub async fn resolve(db: &Db, policy: SessionPolicy, token: &str) -> Result<Option<User>> {
    if !well_formed(token) {
        return Ok(None);
    }
    let hash = token_hash(token);
    let Some(row) = sqlx::query(
        "SELECT s.last_seen_at, s.expires_at, u.id, u.email, u.name, u.role, u.disabled_at, u.created_at \
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1",
    )
    .bind(&hash)
    .fetch_optional(db.pool())
    .await?
    else {
        return Ok(None);
    };
    let now = now();
    let last_seen: i64 = row.try_get("last_seen_at")?;
    let expires: i64 = row.try_get("expires_at")?;
    if expires <= now || last_seen + policy.idle_timeout.as_secs() as i64 <= now {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(&hash).execute(db.writer()).await?;
        return Ok(None);
    }
    let user = crate::users::user_from_row(&row)?;
    if user.disabled {
        return Ok(None);
    }
    if now - last_seen >= TOUCH_INTERVAL_SECS {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
            .bind(now)
            .bind(&hash)
            .execute(db.writer())
            .await?;
    }
    Ok(Some(user))
}

/// Ends one session (sign out).
pub async fn end(db: &Db, token: &str) -> Result<()> {
    if well_formed(token) {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(token_hash(token)).execute(db.writer()).await?;
    }
    Ok(())
}

/// Ends every session of a user (sign out everywhere); returns how many ended.
pub async fn end_all(db: &Db, user_id: i64) -> Result<u64> {
    let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(db.writer()).await?;
    Ok(done.rows_affected())
}

/// A browser signed in to the panel, as the list of sessions shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActiveSession {
    /// The stored fingerprint of the session's token: names it, but cannot sign in.
    pub id: String,
    pub user_id: i64,
    pub user_email: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// The fingerprint [`ActiveSession::id`] of a session token, to tell the caller's own.
pub fn id_of(token: &str) -> String {
    token_hash(token)
}

/// The sessions still alive, of one user or (with `None`) everyone's, most recently
/// seen first.
pub async fn active(db: &Db, policy: SessionPolicy, user_id: Option<i64>) -> Result<Vec<ActiveSession>> {
    let now = now();
    let rows = sqlx::query(
        "SELECT s.id_hash, s.user_id, u.email, s.created_at, s.last_seen_at, s.ip, s.user_agent \
         FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.expires_at > $1 AND s.last_seen_at > $2 AND ($3 IS NULL OR s.user_id = $3) \
         ORDER BY s.last_seen_at DESC, s.created_at DESC LIMIT 500",
    )
    .bind(now)
    .bind(now - policy.idle_timeout.as_secs() as i64)
    .bind(user_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(ActiveSession {
                id: row.try_get("id_hash")?,
                user_id: row.try_get("user_id")?,
                user_email: row.try_get("email")?,
                created_at: row.try_get("created_at")?,
                last_seen_at: row.try_get("last_seen_at")?,
                ip: row.try_get("ip")?,
                user_agent: row.try_get("user_agent")?,
            })
        })
        .collect()
}

/// Ends one session by its id: a person may end their own, an owner anyone's. Recorded
/// in the audit log.
pub async fn end_by_id(db: &Db, actor: &User, ip: Option<&str>, id: &str) -> Result<()> {
    let mut tx = db.begin().await?;
    let owner: Option<(i64, String)> = sqlx::query_as(
        "SELECT s.user_id, u.email FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((user_id, email)) = owner else { return Err(crate::Error::NotFound) };
    if user_id != actor.id && !actor.role.manages_users() {
        return Err(crate::Error::Forbidden);
    }
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(id).execute(&mut *tx).await?;
    crate::audit::record(
        &mut *tx,
        &crate::audit::Event {
            actor_user_id: Some(actor.id),
            actor: &actor.email,
            action: "session.end",
            target: &email,
            ip,
            ..crate::audit::Event::default()
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes sessions past either timeout; returns how many.
pub async fn delete_expired(db: &Db, policy: SessionPolicy) -> Result<u64> {
    let now = now();
    let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
        .bind(now)
        .bind(now - policy.idle_timeout.as_secs() as i64)
        .execute(db.writer())
        .await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_tokens_of_our_shape_are_looked_up() {
        assert!(well_formed(&URL_SAFE_NO_PAD.encode([1u8; 32])));
        assert!(!well_formed("short"));
        assert!(!well_formed(&"é".repeat(43)));
        assert!(!well_formed(&format!("{}'", "a".repeat(42))));
    }
}
