//! Signing in to the panel: one generic error for any wrong part, and a lockout after
//! repeated failures per account and per IP, counted in the database so that every
//! instance agrees.

use secrecy::SecretString;

use crate::{
    Error, Result,
    audit::{self, Outcome},
    clock::now,
    db::Db,
    passwords,
    sessions::{self, SessionPolicy},
    users::{self, Email, User},
};

/// Failures allowed within [`WINDOW_SECS`] before a subject is locked out.
pub const MAX_FAILURES: i64 = 10;
pub const WINDOW_SECS: i64 = 15 * 60;
pub const LOCKOUT_SECS: i64 = 15 * 60;

pub struct Attempt {
    pub email: String,
    pub password: SecretString,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Checks the credentials and starts a session; returns the user and the session token.
///
/// Fails with `LockedOut` while the account or the IP is locked (even for the right
/// password), and with `BadCredentials` for an unknown email, a wrong password or a
/// disabled account alike.
pub async fn sign_in(db: &Db, policy: SessionPolicy, attempt: Attempt) -> Result<(User, String)> {
    let email_subject = format!("email:{}", attempt.email.trim().to_lowercase());
    let ip_subject = attempt.ip.as_deref().map(|ip| format!("ip:{ip}"));
    let subjects: Vec<&str> = std::iter::once(email_subject.as_str()).chain(ip_subject.as_deref()).collect();

    if let Some(until) = locked_until(db, &email_subject, ip_subject.as_deref()).await? {
        audit_attempt(db, &attempt.email, attempt.ip.as_deref(), None, Outcome::Denied, "locked out").await?;
        return Err(Error::LockedOut { retry_after_secs: until - now() });
    }

    let account = match Email::parse(&attempt.email) {
        Ok(email) => users::find_credentials(db, &email).await?,
        Err(_) => None,
    };
    let (user, stored_hash) = match account {
        Some((user, hash)) => (Some(user), Some(hash)),
        None => (None, None),
    };
    let password_ok = passwords::verify(attempt.password, stored_hash).await?;
    let user = user.filter(|u| password_ok && !u.disabled);

    let Some(user) = user else {
        for subject in &subjects {
            record_failure(db, subject).await?;
        }
        audit_attempt(db, &attempt.email, attempt.ip.as_deref(), None, Outcome::Failure, "").await?;
        return Err(Error::BadCredentials);
    };

    sqlx::query("DELETE FROM sign_in_throttle WHERE subject = $1").bind(&email_subject).execute(db.pool()).await?;
    let token = sessions::start(db, policy, user.id, attempt.ip.as_deref(), attempt.user_agent.as_deref()).await?;
    audit_attempt(db, &attempt.email, attempt.ip.as_deref(), Some(&user), Outcome::Success, "").await?;
    Ok((user, token))
}

async fn audit_attempt(db: &Db, email: &str, ip: Option<&str>, user: Option<&User>, outcome: Outcome, details: &str) -> Result<()> {
    audit::record(db.pool(), &audit::Event {
        actor_user_id: user.map(|u| u.id),
        actor: user.map_or(email.trim(), |u| u.email.as_str()),
        action: "panel.sign_in",
        target: "",
        ip,
        outcome,
        details,
    })
    .await
}

/// When the lock on the account or the IP ends, if one is in force.
async fn locked_until(db: &Db, email_subject: &str, ip_subject: Option<&str>) -> Result<Option<i64>> {
    let until: Option<i64> = sqlx::query_scalar(
        "SELECT MAX(locked_until) FROM sign_in_throttle WHERE subject IN ($1, $2) AND locked_until > $3",
    )
    .bind(email_subject)
    .bind(ip_subject.unwrap_or(email_subject))
    .bind(now())
    .fetch_one(db.pool())
    .await?;
    Ok(until)
}

/// Counts one failure in the subject's current window, locking it at the limit — one
/// statement, so concurrent failures on several instances all count.
async fn record_failure(db: &Db, subject: &str) -> Result<()> {
    let now = now();
    sqlx::query(
        "INSERT INTO sign_in_throttle (subject, failures, window_started_at, locked_until) \
         VALUES ($1, 1, $2, NULL) \
         ON CONFLICT (subject) DO UPDATE SET \
           locked_until = CASE \
             WHEN sign_in_throttle.window_started_at > $3 AND sign_in_throttle.failures + 1 >= $4 THEN $5 \
             ELSE sign_in_throttle.locked_until END, \
           failures = CASE WHEN sign_in_throttle.window_started_at > $3 \
             THEN sign_in_throttle.failures + 1 ELSE 1 END, \
           window_started_at = CASE WHEN sign_in_throttle.window_started_at > $3 \
             THEN sign_in_throttle.window_started_at ELSE $2 END",
    )
    .bind(subject)
    .bind(now)
    .bind(now - WINDOW_SECS)
    .bind(MAX_FAILURES)
    .bind(now + LOCKOUT_SECS)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Forgets failure windows and locks that ended a day ago or more.
pub async fn delete_stale(db: &Db) -> Result<u64> {
    let cutoff = now() - 24 * 3600;
    let done = sqlx::query(
        "DELETE FROM sign_in_throttle WHERE window_started_at < $1 AND (locked_until IS NULL OR locked_until < $1)",
    )
    .bind(cutoff)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected())
}
