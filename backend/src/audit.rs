//! The audit log: who did what, when, from where, and how it went. Append-only (the
//! database refuses updates and deletes).

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::{Result, clock::now, db::Db};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    Failure,
    Denied,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Denied => "denied",
        }
    }
}

/// One event to record. `actor` is a readable name (an email, `system`, `cli`).
pub struct Event<'a> {
    pub actor_user_id: Option<i64>,
    pub actor: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    pub ip: Option<&'a str>,
    pub outcome: Outcome,
    pub details: &'a str,
}

/// Records an event, inside the caller's transaction when given one.
pub async fn record<'e, E>(executor: E, event: &Event<'_>) -> Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO audit_log (at, actor_user_id, actor, action, target, ip, outcome, details) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(now())
    .bind(event.actor_user_id)
    .bind(event.actor)
    .bind(event.action)
    .bind(event.target)
    .bind(event.ip)
    .bind(event.outcome.as_str())
    .bind(event.details)
    .execute(executor)
    .await?;
    Ok(())
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Entry {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub ip: Option<String>,
    pub outcome: String,
    pub details: String,
}

/// The newest entries, newest first.
pub async fn recent(db: &Db, limit: i64) -> Result<Vec<Entry>> {
    let rows = sqlx::query(
        "SELECT id, at, actor, action, target, ip, outcome, details FROM audit_log ORDER BY at DESC, id DESC LIMIT $1",
    )
    .bind(limit.clamp(1, 500))
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Entry {
                id: r.try_get("id")?,
                at: r.try_get("at")?,
                actor: r.try_get("actor")?,
                action: r.try_get("action")?,
                target: r.try_get("target")?,
                ip: r.try_get("ip")?,
                outcome: r.try_get("outcome")?,
                details: r.try_get("details")?,
            })
        })
        .collect()
}
