//! The audit log: who did what, with which credential, when, from where, and how it went.
//! Append-only: the database refuses updates, and deletes of entries younger than the
//! shortest retention; the retention job prunes what is older than the configured one.

use serde::{Deserialize, Serialize};
use sqlx::Row;
use vocabulary::audit::MAX_FILTER_CHARS;
pub use vocabulary::audit::Outcome;

use vocabulary::people::Role;

use crate::{
    Error, Result,
    clock::now,
    db::{Db, Dynamic, like_escape},
    users::User,
};

/// One event to record. `actor` is a readable name (an email, `system`, `cli`);
/// `credential` names what the actor used, when not a panel session (`connection_key:3`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Event<'a> {
    pub actor_user_id: Option<i64>,
    pub actor: &'a str,
    pub credential: Option<&'a str>,
    pub action: &'a str,
    pub target: &'a str,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub outcome: Option<Outcome>,
    pub details: &'a str,
}

impl<'a> Event<'a> {
    /// `user` did `action` to `target` in the panel, from `ip`: the common case.
    pub fn by(user: &'a crate::users::User, action: &'a str, target: &'a str, ip: Option<&'a str>) -> Event<'a> {
        Event { actor_user_id: Some(user.id), actor: &user.email, action, target, ip, ..Event::default() }
    }
}

/// Records an event, inside the caller's transaction when given one.
pub async fn record<'e, E>(executor: E, event: &Event<'_>) -> Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let clip = |s: &str, n: usize| s.chars().take(n).collect::<String>();
    sqlx::query(
        "INSERT INTO audit_log (at, actor_user_id, actor, credential, action, target, ip, user_agent, outcome, details) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(now())
    .bind(event.actor_user_id)
    .bind(clip(event.actor, 254))
    .bind(event.credential)
    .bind(event.action)
    .bind(clip(event.target, 500))
    .bind(event.ip)
    .bind(event.user_agent.map(|ua| clip(ua, 200)))
    .bind(event.outcome.unwrap_or(Outcome::Success).as_str())
    .bind(clip(event.details, 2000))
    .execute(executor)
    .await?;
    Ok(())
}

/// One recorded event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = AuditEntry))]
pub struct Entry {
    pub id: i64,
    /// Unix seconds.
    pub at: i64,
    pub actor: String,
    /// The credential used, e.g. `connection_key:3`; absent for panel sessions.
    pub credential: Option<String>,
    pub action: String,
    pub target: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// `success`, `failure` or `denied`.
    pub outcome: String,
    pub details: String,
}

/// What to show: every field optional; `before_id` pages backwards from an entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    /// Part of the actor's name or email.
    pub actor: Option<String>,
    /// An action, or its start (`key.` matches every key event).
    pub action: Option<String>,
    pub outcome: Option<Outcome>,
    /// Unix seconds, inclusive.
    pub from: Option<i64>,
    /// Unix seconds, exclusive.
    pub to: Option<i64>,
    pub before_id: Option<i64>,
}

/// Who may read the audit log: owners and admins (it names every person, key and address
/// that did something in the shop).
pub fn may_read(role: Role) -> bool {
    role.manages_store()
}

/// Entries matching `filter`, newest first, at most `limit` (1–1000); `Forbidden` for a
/// `reader` who may not read the log.
pub async fn search(db: &Db, reader: &User, filter: &Filter, limit: i64) -> Result<Vec<Entry>> {
    if !may_read(reader.role) {
        return Err(Error::Forbidden);
    }
    let too_long = |text: &Option<String>| text.as_ref().is_some_and(|t| t.chars().count() > MAX_FILTER_CHARS);
    if too_long(&filter.actor) || too_long(&filter.action) {
        return Err(Error::invalid(format!("actor and action filters are at most {MAX_FILTER_CHARS} characters")));
    }
    let mut q = Dynamic::default();
    if let Some(actor) = filter.actor.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let actor = q.param(format!("%{}%", like_escape(&actor.to_lowercase())));
        q.when(format!("LOWER(actor) LIKE {actor} ESCAPE '\\'"));
    }
    if let Some(action) = filter.action.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let action = q.param(format!("{}%", like_escape(action)));
        q.when(format!("action LIKE {action} ESCAPE '\\'"));
    }
    if let Some(outcome) = filter.outcome {
        let outcome = q.param(outcome.as_str());
        q.when(format!("outcome = {outcome}"));
    }
    for (sql, value) in [("at >= ", filter.from), ("at < ", filter.to), ("id < ", filter.before_id)] {
        if let Some(value) = value {
            let value = q.param(value);
            q.when(format!("{sql}{value}"));
        }
    }
    let limit = q.param(limit.clamp(1, 1000));
    let sql = format!(
        "SELECT id, at, actor, credential, action, target, ip, user_agent, outcome, details FROM audit_log \
         {} ORDER BY id DESC LIMIT {limit}",
        q.where_clause()
    );
    let rows = q.query(sql).fetch_all(db.pool()).await?;
    rows.iter()
        .map(|r| {
            Ok(Entry {
                id: r.try_get("id")?,
                at: r.try_get("at")?,
                actor: r.try_get("actor")?,
                credential: r.try_get("credential")?,
                action: r.try_get("action")?,
                target: r.try_get("target")?,
                ip: r.try_get("ip")?,
                user_agent: r.try_get("user_agent")?,
                outcome: r.try_get("outcome")?,
                details: r.try_get("details")?,
            })
        })
        .collect()
}

/// Deletes entries older than `days` (at least 30, the floor the database enforces).
pub async fn prune(db: &Db, days: i64) -> Result<u64> {
    let cutoff = now() - days.max(30) * 86_400;
    let done = sqlx::query("DELETE FROM audit_log WHERE at < $1").bind(cutoff).execute(db.writer()).await?;
    Ok(done.rows_affected())
}
