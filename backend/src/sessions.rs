//! Panel sessions, kept in the database so every instance sees the same ones. The panel's
//! session layer (tower-sessions, in `app::session`) carries the id in an HttpOnly cookie
//! and gives a new one at every sign-in; here the id is stored only as its SHA-256, with
//! an idle and an absolute timeout, and "sign out everywhere".

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::{Result, clock::now, db::Db, error::is_unique_violation, users::User};

/// How long a session lives.
#[derive(Clone, Copy, Debug)]
pub struct SessionPolicy {
    pub idle_timeout: Duration,
    pub absolute_timeout: Duration,
}

/// `last_seen_at` is written at most this often, so reading pages costs no writes.
const TOUCH_INTERVAL_SECS: i64 = 60;
/// The longest user agent kept with a session.
const MAX_USER_AGENT_CHARS: usize = 200;

/// What a session holds: who signed in, and from where. Read afresh with the session on
/// every request, so a disabled account or a changed role counts at once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionData {
    pub user: User,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// A live session: what it holds, and when it ends unless used again (the earlier of its
/// idle and absolute timeouts).
#[derive(Clone, Debug)]
pub struct Live {
    pub data: SessionData,
    pub ends_at: i64,
}

fn id_hash(id: &str) -> String {
    crate::access::secret::token_digest(id)
}

/// Stores a new session under `id`; `false` when that id is taken (the caller draws
/// another).
pub async fn create(db: &Db, policy: SessionPolicy, id: &str, data: &SessionData) -> Result<bool> {
    let now = now();
    let created = sqlx::query(
        "INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at, ip, user_agent) \
         VALUES ($1, $2, $3, $3, $4, $5, $6)",
    )
    .bind(id_hash(id))
    .bind(data.user.id)
    .bind(now)
    .bind(now + policy.absolute_timeout.as_secs() as i64)
    .bind(data.ip.as_deref())
    .bind(data.user_agent.as_deref().map(|ua| ua.chars().take(MAX_USER_AGENT_CHARS).collect::<String>()))
    .execute(db.writer())
    .await;
    match created {
        Ok(_) => Ok(true),
        Err(e) if is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// The live session with this id, or `None` for an unknown or expired one or a disabled
/// account. An expired session is deleted on sight; a live one is marked seen (at most
/// once a minute).
pub async fn resolve(db: &Db, policy: SessionPolicy, id: &str) -> Result<Option<Live>> {
    let hash = id_hash(id);
    let Some(row) = sqlx::query(
        "SELECT s.last_seen_at, s.expires_at, s.ip, s.user_agent, \
         u.id, u.email, u.name, u.role, u.disabled_at, u.created_at \
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
    let idle_ends = last_seen + policy.idle_timeout.as_secs() as i64;
    if expires <= now || idle_ends <= now {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(&hash).execute(db.writer()).await?;
        return Ok(None);
    }
    let user = crate::users::user_from_row(&row)?;
    if user.disabled {
        return Ok(None);
    }
    let seen = if now - last_seen >= TOUCH_INTERVAL_SECS {
        mark_seen(db, &hash, now).await?;
        now
    } else {
        last_seen
    };
    let ends_at = expires.min(seen + policy.idle_timeout.as_secs() as i64);
    let data = SessionData { user, ip: row.try_get("ip")?, user_agent: row.try_get("user_agent")? };
    Ok(Some(Live { data, ends_at }))
}

/// Marks a session seen now. A session ended meanwhile (signed out elsewhere) stays ended.
pub async fn touch(db: &Db, id: &str) -> Result<()> {
    mark_seen(db, &id_hash(id), now()).await
}

async fn mark_seen(db: &Db, hash: &str, at: i64) -> Result<()> {
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
        .bind(at)
        .bind(hash)
        .execute(db.writer())
        .await?;
    Ok(())
}

/// Ends one session (sign out).
pub async fn end(db: &Db, id: &str) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(id_hash(id)).execute(db.writer()).await?;
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
    /// The stored fingerprint of the session's id: names it, but cannot sign in.
    pub id: String,
    pub user_id: i64,
    pub user_email: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// The fingerprint [`ActiveSession::id`] of a session id, to tell the caller's own.
pub fn fingerprint(id: &str) -> String {
    id_hash(id)
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
    if user_id != actor.id && !actor.role.oversees_sign_ins() {
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
