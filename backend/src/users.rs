//! The people who run the shop: owner, admin, shop manager, support agent.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, AssertSqlSafe, Row};
use vocabulary::people::MAX_NAME_CHARS;
pub use vocabulary::people::{Email, Role};

use crate::{Error, Result, clock::now, db::Db, error::is_unique_violation, passwords};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: i64,
}

pub struct NewUser {
    pub email: Email,
    pub name: String,
    pub role: Role,
    pub password: SecretString,
}

const USER_COLUMNS: &str = "id, email, name, role, disabled_at, created_at";

pub(crate) fn user_from_row(row: &sqlx::any::AnyRow) -> Result<User> {
    Ok(User {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        role: row.try_get::<String, _>("role")?.parse()?,
        disabled: row.try_get::<Option<i64>, _>("disabled_at")?.is_some(),
        created_at: row.try_get("created_at")?,
    })
}

/// Adds a user. Fails with `Conflict` when the email is taken, `Invalid` for a weak password.
pub async fn create(db: &Db, new: NewUser) -> Result<User> {
    insert(db, new, false).await?.ok_or_else(|| Error::internal("insert returned no row"))
}

/// Inserts the user; with `only_first`, only while no user exists. The team is locked
/// first ([`lock_team`]), so two first-run forms sent at once — to one instance or to two
/// on PostgreSQL — are taken one after the other and only the first creates an owner.
async fn insert(db: &Db, new: NewUser, only_first: bool) -> Result<Option<User>> {
    let name = checked_name(&new.name)?;
    let password_hash = passwords::hash(new.password).await?;
    let mut tx = db.begin().await?;
    if only_first {
        lock_team(&mut tx).await?;
    }
    let user = insert_hashed(&mut tx, &new.email, &name, new.role, &password_hash, only_first).await?;
    tx.commit().await?;
    Ok(user)
}

/// A person's name as stored: trimmed, within [`MAX_NAME_CHARS`].
pub(crate) fn checked_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(Error::invalid(format!("the name may have at most {MAX_NAME_CHARS} characters")));
    }
    Ok(name.to_owned())
}

/// Inserts a user whose password is hashed already, inside the caller's transaction;
/// with `only_first`, only while no user exists (`None` otherwise).
pub(crate) async fn insert_hashed(
    conn: &mut AnyConnection,
    email: &Email,
    name: &str,
    role: Role,
    password_hash: &str,
    only_first: bool,
) -> Result<Option<User>> {
    let condition = if only_first { "WHERE NOT EXISTS (SELECT 1 FROM users)" } else { "" };
    let row = sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO users (email, name, role, password_hash, created_at) \
         SELECT $1, $2, $3, $4, $5 {condition} RETURNING {USER_COLUMNS}"
    )))
    .bind(email.as_str())
    .bind(name)
    .bind(role.as_str())
    .bind(password_hash)
    .bind(now())
    .fetch_optional(&mut *conn)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) { Error::Conflict("a user with this email already exists".into()) } else { e.into() }
    })?;
    row.as_ref().map(user_from_row).transpose()
}

/// Begins a change `actor` makes to another person's account: the transaction, holding
/// the team's lock ([`lock_team`]), with the actor as they are now ([`acting_now`]) and the
/// person. Fails with `Invalid` (saying `yourself`) when the person is the actor.
pub(crate) async fn begin_team_change(
    db: &Db,
    actor: &User,
    user_id: i64,
    yourself: &str,
) -> Result<(sqlx::Transaction<'static, sqlx::Any>, User, User)> {
    if actor.id == user_id {
        return Err(Error::invalid(yourself));
    }
    let mut tx = db.begin().await?;
    lock_team(&mut tx).await?;
    let actor = acting_now(&mut tx, actor).await?;
    let target = find_in(&mut tx, user_id).await?;
    Ok((tx, actor, target))
}

/// Takes the team's lock for the rest of the caller's transaction (the store settings
/// row), so that changes which count owners — two owners demoting or disabling each
/// other at once, on one instance or two — are made one after the other, and the shop
/// always keeps an enabled owner.
pub(crate) async fn lock_team(conn: &mut AnyConnection) -> Result<()> {
    sqlx::query("UPDATE store_settings SET updated_at = updated_at WHERE id = 1").execute(&mut *conn).await?;
    Ok(())
}

/// The actor as they are now, under the team's lock: a request that began before their
/// role changed or their account was disabled acts with what they have now.
async fn acting_now(conn: &mut AnyConnection, actor: &User) -> Result<User> {
    let current = find_in(conn, actor.id).await?;
    if current.disabled {
        return Err(Error::Forbidden);
    }
    Ok(current)
}

/// Fails unless an enabled owner other than `user_id` remains.
pub(crate) async fn another_owner_remains(conn: &mut AnyConnection, user_id: i64) -> Result<()> {
    let owners: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'owner' AND disabled_at IS NULL AND id <> $1")
            .bind(user_id)
            .fetch_one(&mut *conn)
            .await?;
    if owners == 0 {
        return Err(Error::invalid("the shop needs at least one enabled owner"));
    }
    Ok(())
}

/// Creates the owner account on first run. Fails with `Conflict` once any user exists,
/// so the first-run page is gone for good.
pub async fn create_first_owner(db: &Db, email: Email, name: String, password: SecretString) -> Result<User> {
    insert(db, NewUser { email, name, role: Role::Owner, password }, true)
        .await?
        .ok_or_else(|| Error::Conflict("the owner account already exists; sign in instead".into()))
}

/// True once at least one user exists (the first run is over).
pub async fn any_exist(db: &Db) -> Result<bool> {
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM (SELECT 1 FROM users LIMIT 1) AS one_user")
        .fetch_one(db.pool())
        .await?;
    Ok(count > 0)
}

pub async fn find(db: &Db, id: i64) -> Result<User> {
    find_in(&mut *db.pool().acquire().await?, id).await
}

/// [`find`], inside the caller's transaction.
pub(crate) async fn find_in(conn: &mut AnyConnection, id: i64) -> Result<User> {
    let row = sqlx::query(AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1")))
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    user_from_row(&row)
}

pub async fn find_by_email(db: &Db, email: &Email) -> Result<Option<User>> {
    Ok(find_credentials(db, email).await?.map(|(user, _)| user))
}

/// The earliest owner still enabled.
pub async fn first_owner(db: &Db) -> Result<Option<User>> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {USER_COLUMNS} FROM users WHERE role = 'owner' AND disabled_at IS NULL ORDER BY id LIMIT 1"
    )))
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(user_from_row).transpose()
}

/// The user and stored password hash for an email, if such an account exists.
pub(crate) async fn find_credentials(db: &Db, email: &Email) -> Result<Option<(User, String)>> {
    let row = sqlx::query(AssertSqlSafe(format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = $1")))
        .bind(email.as_str())
        .fetch_optional(db.pool())
        .await?;
    row.map(|row| Ok((user_from_row(&row)?, row.try_get("password_hash")?))).transpose()
}

pub async fn list(db: &Db) -> Result<Vec<User>> {
    let rows = sqlx::query(AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users ORDER BY id")))
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(user_from_row).collect()
}

/// Disables or re-enables an account. Disabling signs the user out everywhere. The last
/// enabled owner cannot be disabled, nobody disables themselves, and only an owner acts
/// on an owner. The panel calls [`crate::access::set_user_disabled`], which also forgets
/// the account's remembered credentials.
pub(crate) async fn set_disabled(db: &Db, actor: &User, user_id: i64, disabled: bool) -> Result<User> {
    if !actor.role.manages_team() {
        return Err(Error::Forbidden);
    }
    let (mut tx, actor, target) = begin_team_change(db, actor, user_id, "you cannot disable your own account").await?;
    if !actor.role.may_manage(target.role) {
        return Err(Error::Forbidden);
    }
    if disabled && target.role == Role::Owner {
        another_owner_remains(&mut tx, user_id).await?;
    }
    let disabled_at = disabled.then(now);
    sqlx::query("UPDATE users SET disabled_at = $1 WHERE id = $2")
        .bind(disabled_at)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    if disabled {
        // Everything the person could still act through ends now, for good: enabling the
        // account again brings back none of it.
        sign_out(&mut tx, user_id, None, Revoke::Everything { reason: "user disabled" }).await?;
    }
    tx.commit().await?;
    find(db, user_id).await
}

/// Stores a person's new role, inside the caller's transaction (which holds the team's
/// lock, [`lock_team`]).
pub(crate) async fn store_role(conn: &mut AnyConnection, user_id: i64, role: Role) -> Result<()> {
    sqlx::query("UPDATE users SET role = $1 WHERE id = $2")
        .bind(role.as_str())
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// What signing a person out revokes besides their panel sessions.
pub(crate) enum Revoke<'a> {
    /// Nothing: their keys, application passwords and devices stay.
    SessionsOnly,
    /// Their application passwords and OAuth devices (`reason` recorded on the devices);
    /// the connection keys they made stay, being the shop's.
    AppPasswordsAndDevices { reason: &'a str },
    /// Every credential of theirs and their OAuth devices.
    Everything { reason: &'a str },
}

/// Signs `user_id` out, inside the caller's transaction: every panel session of theirs
/// but `keep` (a session's fingerprint) ends, and what `revoke` names is revoked. Returns
/// how many sessions, credentials and devices ended.
pub(crate) async fn sign_out(
    conn: &mut AnyConnection,
    user_id: i64,
    keep: Option<&str>,
    revoke: Revoke<'_>,
) -> Result<u64> {
    let mut ended = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND ($2 IS NULL OR id_hash <> $2)")
        .bind(user_id)
        .bind(keep)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    // A sign-in waiting for its code would become a session: it ends too.
    sqlx::query("DELETE FROM sign_in_challenges WHERE user_id = $1").bind(user_id).execute(&mut *conn).await?;
    let (kinds, reason) = match revoke {
        Revoke::SessionsOnly => return Ok(ended),
        Revoke::AppPasswordsAndDevices { reason } => ("AND kind = 'app_password'", reason),
        Revoke::Everything { reason } => ("", reason),
    };
    let at = now();
    ended += sqlx::query(AssertSqlSafe(format!(
        "UPDATE api_credentials SET revoked_at = $1 WHERE user_id = $2 {kinds} AND revoked_at IS NULL"
    )))
    .bind(at)
    .bind(user_id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    ended += sqlx::query(
        "UPDATE oauth_grants SET revoked_at = $1, revoked_reason = $2 WHERE user_id = $3 AND revoked_at IS NULL",
    )
    .bind(at)
    .bind(reason)
    .bind(user_id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(ended)
}

/// Stores a new password's hash for `user_id`, inside the caller's transaction.
pub(crate) async fn set_password_hash(conn: &mut AnyConnection, user_id: i64, password_hash: &str) -> Result<()> {
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(password_hash)
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
