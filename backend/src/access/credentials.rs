//! Connection keys (for the mobile app and integrations; created by owners and admins,
//! acting with their creator's role within their scope) and application passwords (each
//! user's own, used as HTTP Basic `email:password`). Both are shown once, stored as an
//! HMAC, listed by label and last four characters, and revoked or regenerated.

use serde::{Deserialize, Serialize};
use sqlx::{AssertSqlSafe, Row};
use vocabulary::access::MAX_LABEL_CHARS;
pub use vocabulary::access::{CredentialType, MAX_LIFETIME_DAYS};

use super::{
    Scope,
    authenticate::CredentialCache,
    secret::{self, SecretHasher, SecretKind},
};
use crate::{
    Error, Result,
    audit::{self, Event},
    clock::now,
    db::Db,
    typed_text,
    users::User,
};

/// The secret's kind for a credential of this kind (its prefix).
fn secret_kind(kind: CredentialType) -> SecretKind {
    match kind {
        CredentialType::ConnectionKey => SecretKind::ConnectionKey,
        CredentialType::AppPassword => SecretKind::AppPassword,
    }
}

#[derive(Clone, Debug)]
pub struct NewCredential {
    pub kind: CredentialType,
    pub label: String,
    pub scope: Scope,
    /// `None`: never expires.
    pub lifetime_days: Option<i64>,
}

/// A credential as lists show it: never its secret. Times are Unix seconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Credential))]
pub struct CredentialInfo {
    pub id: i64,
    pub kind: CredentialType,
    /// The user it acts as.
    pub user_id: i64,
    pub user_email: String,
    pub label: String,
    pub scope: Scope,
    pub last_four: String,
    pub created_at: i64,
    /// Absent: never expires.
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub last_used_ip: Option<String>,
}

/// A credential just made: the secret is here, and nowhere else ever again.
#[derive(Clone, Debug)]
pub struct Issued {
    pub info: CredentialInfo,
    pub secret: String,
}

/// Who may create and revoke what: connection keys are the store's, so owners and
/// admins; application passwords are their user's, and owners may revoke anyone's.
fn may_manage(actor: &User, kind: CredentialType, owner_id: i64) -> bool {
    match kind {
        CredentialType::ConnectionKey => actor.role.manages_store(),
        CredentialType::AppPassword => actor.id == owner_id || actor.role.oversees_sign_ins(),
    }
}

/// Creates a credential belonging to `actor`.
pub async fn create(
    db: &Db,
    hasher: &SecretHasher,
    actor: &User,
    ip: Option<&str>,
    new: NewCredential,
) -> Result<Issued> {
    if !may_manage(actor, new.kind, actor.id) {
        return Err(Error::Forbidden);
    }
    let label = match typed_text::within(&new.label, MAX_LABEL_CHARS) {
        // No control character anywhere in the label as sent, at its ends neither (the API's
        // document says so; trimming would hide a trailing form feed or line break).
        Some(label) if !new.label.chars().any(char::is_control) => label.to_owned(),
        _ => return Err(Error::invalid(format!("the label needs 1 to {MAX_LABEL_CHARS} characters"))),
    };
    if let Some(days) = new.lifetime_days
        && !(1..=MAX_LIFETIME_DAYS).contains(&days)
    {
        return Err(Error::invalid(format!("the expiry must be between 1 and {MAX_LIFETIME_DAYS} days, or never")));
    }
    let mut tx = db.begin().await?;
    let issued = insert(&mut tx, hasher, actor, new.kind, &label, new.scope, new.lifetime_days).await?;
    audit::record(
        &mut *tx,
        &Event {
            actor_user_id: Some(actor.id),
            actor: &actor.email,
            action: &format!("{}.create", new.kind.audit_prefix()),
            target: &format!("{}:{}", new.kind.as_str(), issued.info.id),
            ip,
            details: &format!("label \"{label}\", scope {}, {}", new.scope, lifetime_text(new.lifetime_days)),
            ..Event::default()
        },
    )
    .await?;
    tx.commit().await?;
    Ok(issued)
}

fn lifetime_text(days: Option<i64>) -> String {
    days.map_or_else(|| "never expires".to_owned(), |d| format!("expires after {d} days"))
}

async fn insert(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    hasher: &SecretHasher,
    owner: &User,
    kind: CredentialType,
    label: &str,
    scope: Scope,
    lifetime_days: Option<i64>,
) -> Result<Issued> {
    let secret = secret::generate(secret_kind(kind));
    let created_at = now();
    let expires_at = lifetime_days.map(|d| created_at + d * 86_400);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO api_credentials (kind, user_id, label, scope, secret_hash, last_four, lifetime_days, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(kind.as_str())
    .bind(owner.id)
    .bind(label)
    .bind(scope.as_str())
    .bind(hasher.hash(&secret))
    .bind(secret::last_four(&secret))
    .bind(lifetime_days)
    .bind(created_at)
    .bind(expires_at)
    .fetch_one(&mut **tx)
    .await?;
    let info = CredentialInfo {
        id,
        kind,
        user_id: owner.id,
        user_email: owner.email.clone(),
        label: label.to_owned(),
        scope,
        last_four: secret::last_four(&secret),
        created_at,
        expires_at,
        revoked_at: None,
        last_used_at: None,
        last_used_ip: None,
    };
    Ok(Issued { info, secret })
}

const COLUMNS: &str = "c.id, c.kind, c.user_id, u.email AS user_email, c.label, c.scope, c.last_four, c.lifetime_days, \
     c.created_at, c.expires_at, c.revoked_at, c.last_used_at, c.last_used_ip";

fn from_row(row: &sqlx::any::AnyRow) -> Result<CredentialInfo> {
    Ok(CredentialInfo {
        id: row.try_get("id")?,
        kind: match row.try_get::<String, _>("kind")?.as_str() {
            "connection_key" => CredentialType::ConnectionKey,
            _ => CredentialType::AppPassword,
        },
        user_id: row.try_get("user_id")?,
        user_email: row.try_get("user_email")?,
        label: row.try_get("label")?,
        scope: row.try_get::<String, _>("scope")?.parse()?,
        last_four: row.try_get("last_four")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
        last_used_at: row.try_get("last_used_at")?,
        last_used_ip: row.try_get("last_used_ip")?,
    })
}

/// What `reader` may see of the credentials of `kind`, newest first (revoked ones stay
/// listed for 30 days, so a person can see what happened): the shop's connection keys for
/// owners and admins (`Forbidden` for anyone else), and their own application passwords
/// for anyone.
pub async fn list(db: &Db, reader: &User, kind: CredentialType) -> Result<Vec<CredentialInfo>> {
    let user_id = match kind {
        CredentialType::ConnectionKey if reader.role.manages_store() => None,
        CredentialType::ConnectionKey => return Err(Error::Forbidden),
        CredentialType::AppPassword => Some(reader.id),
    };
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM api_credentials c JOIN users u ON u.id = c.user_id \
         WHERE c.kind = $1 AND ($2 = 0 OR c.user_id = $2) AND (c.revoked_at IS NULL OR c.revoked_at > $3) \
         ORDER BY c.id DESC LIMIT 500"
    )))
    .bind(kind.as_str())
    .bind(user_id.unwrap_or(0))
    .bind(now() - 30 * 86_400)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(from_row).collect()
}

async fn find(db: &Db, id: i64) -> Result<(CredentialInfo, Option<i64>)> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM api_credentials c JOIN users u ON u.id = c.user_id WHERE c.id = $1"
    )))
    .bind(id)
    .fetch_optional(db.pool())
    .await?
    .ok_or(Error::NotFound)?;
    Ok((from_row(&row)?, row.try_get("lifetime_days")?))
}

/// Revokes a credential of `kind`: from now on it gets 401 `key_revoked`.
pub async fn revoke(
    db: &Db,
    remembered: &CredentialCache,
    actor: &User,
    ip: Option<&str>,
    kind: CredentialType,
    id: i64,
) -> Result<()> {
    let (info, _) = find(db, id).await?;
    if info.kind != kind {
        return Err(Error::NotFound);
    }
    if !may_manage(actor, info.kind, info.user_id) {
        return Err(Error::Forbidden);
    }
    let mut tx = db.begin().await?;
    let done = sqlx::query("UPDATE api_credentials SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now())
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(Error::Conflict(format!("this {} is already revoked", info.kind.noun())));
    }
    remembered.forget_all();
    audit::record(
        &mut *tx,
        &Event {
            actor_user_id: Some(actor.id),
            actor: &actor.email,
            action: &format!("{}.revoke", info.kind.audit_prefix()),
            target: &format!("{}:{id}", info.kind.as_str()),
            ip,
            details: &format!("label \"{}\"", info.label),
            ..Event::default()
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Replaces a credential's secret: the old one is revoked, a new one with the same label,
/// scope and lifetime (counted from now) is made.
pub async fn regenerate(
    db: &Db,
    hasher: &SecretHasher,
    remembered: &CredentialCache,
    actor: &User,
    ip: Option<&str>,
    id: i64,
) -> Result<Issued> {
    let (info, lifetime_days) = find(db, id).await?;
    if !may_manage(actor, info.kind, info.user_id) {
        return Err(Error::Forbidden);
    }
    let owner = crate::users::find(db, info.user_id).await?;
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE api_credentials SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now())
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let issued = insert(&mut tx, hasher, &owner, info.kind, &info.label, info.scope, lifetime_days).await?;
    remembered.forget_all();
    audit::record(
        &mut *tx,
        &Event {
            actor_user_id: Some(actor.id),
            actor: &actor.email,
            action: &format!("{}.regenerate", info.kind.audit_prefix()),
            target: &format!("{}:{}", info.kind.as_str(), issued.info.id),
            ip,
            details: &format!("label \"{}\", replaces {}:{id}", info.label, info.kind.as_str()),
            ..Event::default()
        },
    )
    .await?;
    tx.commit().await?;
    Ok(issued)
}
