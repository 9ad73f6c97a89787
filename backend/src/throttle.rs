//! Counting failed authentications per subject (`email:…`, `ip:…`, `api-ip:…`) — or, for
//! the support form, every attempt (`support-ip:…`, `support-order:…`) — and locking a
//! subject out after too many, in the database so that every instance agrees. Used by the
//! panel's sign-in, the API's guards and the support form, each with its own policy.

use crate::{Result, clock::now, db::Db};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Failures allowed within `window_secs` before the subject is locked out.
    pub max_failures: i64,
    pub window_secs: i64,
    pub lockout_secs: i64,
}

/// When the lock on any of `subjects` (at most two) ends, if one is in force.
pub async fn locked_until(db: &Db, subjects: &[&str]) -> Result<Option<i64>> {
    let first = subjects.first().copied().unwrap_or("");
    let until: Option<i64> = sqlx::query_scalar(
        "SELECT MAX(locked_until) FROM sign_in_throttle WHERE subject IN ($1, $2) AND locked_until > $3",
    )
    .bind(first)
    .bind(subjects.get(1).copied().unwrap_or(first))
    .bind(now())
    .fetch_one(db.pool())
    .await?;
    Ok(until)
}

/// The failures counted for the subject in its current window.
pub async fn failures(db: &Db, subject: &str, policy: Policy) -> Result<i64> {
    let failures: Option<i64> =
        sqlx::query_scalar("SELECT failures FROM sign_in_throttle WHERE subject = $1 AND window_started_at > $2")
            .bind(subject)
            .bind(now() - policy.window_secs)
            .fetch_optional(db.pool())
            .await?;
    Ok(failures.unwrap_or(0))
}

/// Counts one failure in the subject's current window, locking it at the limit — one
/// statement, so concurrent failures on several instances all count. Returns when the
/// lock ends if this failure started (or met) one.
pub async fn record_failure(db: &Db, subject: &str, policy: Policy) -> Result<Option<i64>> {
    let now = now();
    let (locked_until, _) = record(db, subject, policy).await?;
    Ok(locked_until.filter(|until| *until > now))
}

/// Counts an attempt and answers how many the subject made in its current window, this
/// one included: where a limit must hold for attempts sent at once (each counts before
/// it is checked, so none slips between another's check and its count).
pub async fn count_attempt(db: &Db, subject: &str, policy: Policy) -> Result<i64> {
    Ok(record(db, subject, policy).await?.1)
}

/// One failure (or attempt) counted, in one statement; answers the lock's end and the
/// count in the window.
async fn record(db: &Db, subject: &str, policy: Policy) -> Result<(Option<i64>, i64)> {
    let now = now();
    let row: (Option<i64>, i64) = sqlx::query_as(
        "INSERT INTO sign_in_throttle (subject, failures, window_started_at, locked_until) \
         VALUES ($1, 1, $2, CASE WHEN $4 <= 1 THEN $5 ELSE NULL END) \
         ON CONFLICT (subject) DO UPDATE SET \
           locked_until = CASE \
             WHEN sign_in_throttle.window_started_at > $3 AND sign_in_throttle.failures + 1 >= $4 THEN $5 \
             ELSE sign_in_throttle.locked_until END, \
           failures = CASE WHEN sign_in_throttle.window_started_at > $3 \
             THEN sign_in_throttle.failures + 1 ELSE 1 END, \
           window_started_at = CASE WHEN sign_in_throttle.window_started_at > $3 \
             THEN sign_in_throttle.window_started_at ELSE $2 END \
         RETURNING locked_until, failures",
    )
    .bind(subject)
    .bind(now)
    .bind(now - policy.window_secs)
    .bind(policy.max_failures)
    .bind(now + policy.lockout_secs)
    .fetch_one(db.writer())
    .await?;
    Ok(row)
}

/// Counts an attempt where every attempt counts, not only failures (the support form's
/// limits); the same counting as [`record_failure`].
pub async fn record_attempt(db: &Db, subject: &str, policy: Policy) -> Result<Option<i64>> {
    record_failure(db, subject, policy).await
}

/// Forgets the subject's failures (after a success).
pub async fn clear(db: &Db, subject: &str) -> Result<()> {
    sqlx::query("DELETE FROM sign_in_throttle WHERE subject = $1").bind(subject).execute(db.writer()).await?;
    Ok(())
}

/// Forgets failure windows and locks that ended a day ago or more.
pub async fn delete_stale(db: &Db) -> Result<u64> {
    let cutoff = now() - 24 * 3600;
    let done = sqlx::query(
        "DELETE FROM sign_in_throttle WHERE window_started_at < $1 AND (locked_until IS NULL OR locked_until < $1)",
    )
    .bind(cutoff)
    .execute(db.writer())
    .await?;
    Ok(done.rows_affected())
}
