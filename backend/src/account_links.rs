//! Single-use links sent by email: a password reset for an account, and an invitation to
//! an address with the role its account will have. A link carries a random token (260
//! bits); only the token's SHA-256 is stored. It is used once — marked used in the same
//! transaction as what it does, so two uses at once cannot both pass — and not after it
//! expires.

use sqlx::{AnyConnection, Row};
use vocabulary::people::{Email, Role};

use crate::{Result, access::secret, clock::now, db::Db};

/// How long a password reset link works.
pub const RESET_LIFETIME_SECS: i64 = 30 * 60;
/// How long an invitation works.
pub const INVITATION_LIFETIME_SECS: i64 = 7 * 24 * 3600;
/// A token's length: 52 base32 characters.
const TOKEN_CHARS: usize = 52;
/// Used and expired links are kept this long (for a person who clicks an old link to be
/// told it was used, not that it never existed), then removed by the nightly clean-up.
const KEPT_SECS: i64 = 30 * 24 * 3600;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    PasswordReset,
    Invitation,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::PasswordReset => "password_reset",
            Purpose::Invitation => "invitation",
        }
    }

    fn lifetime_secs(self) -> i64 {
        match self {
            Purpose::PasswordReset => RESET_LIFETIME_SECS,
            Purpose::Invitation => INVITATION_LIFETIME_SECS,
        }
    }

    /// The panel page the link opens.
    fn page(self) -> &'static str {
        match self {
            Purpose::PasswordReset => "/admin/reset-password",
            Purpose::Invitation => "/admin/invitation",
        }
    }
}

/// A link to make: for an account (a reset) or an address and role (an invitation).
pub(crate) struct NewLink<'a> {
    pub purpose: Purpose,
    pub email: &'a Email,
    pub user_id: Option<i64>,
    pub role: Option<Role>,
    pub created_by: Option<i64>,
}

/// A link still open, or the one just used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub id: i64,
    pub email: String,
    pub user_id: Option<i64>,
    pub role: Option<Role>,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub expires_at: i64,
}

/// Makes a link inside the caller's transaction; returns its address under `base_url`
/// (the only place the token ever is).
pub(crate) async fn issue(conn: &mut AnyConnection, base_url: &str, new: &NewLink<'_>) -> Result<String> {
    let token = secret::random_token(TOKEN_CHARS);
    let at = now();
    sqlx::query(
        "INSERT INTO account_links (purpose, token_hash, email, user_id, role, created_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(new.purpose.as_str())
    .bind(secret::token_digest(&token))
    .bind(new.email.as_str())
    .bind(new.user_id)
    .bind(new.role.map(Role::as_str))
    .bind(new.created_by)
    .bind(at)
    .bind(at + new.purpose.lifetime_secs())
    .execute(&mut *conn)
    .await?;
    Ok(format!("{}{}?token={token}", base_url.trim_end_matches('/'), new.purpose.page()))
}

/// Uses the link, inside the caller's transaction: `None` when the token names no open
/// link of this purpose (unknown, used, closed or expired), and for every later use.
pub(crate) async fn take(conn: &mut AnyConnection, purpose: Purpose, token: &str) -> Result<Option<Link>> {
    if !well_formed(token) {
        return Ok(None);
    }
    let row = sqlx::query(
        "UPDATE account_links SET used_at = $1 \
         WHERE token_hash = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1 \
         RETURNING id, email, user_id, role, created_by, created_at, expires_at",
    )
    .bind(now())
    .bind(secret::token_digest(token))
    .bind(purpose.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(link_from_row).transpose()
}

/// The open link a token names, without using it (for its page to say what it is for).
pub async fn open(db: &Db, purpose: Purpose, token: &str) -> Result<Option<Link>> {
    if !well_formed(token) {
        return Ok(None);
    }
    let row = sqlx::query(
        "SELECT id, email, user_id, role, created_by, created_at, expires_at FROM account_links \
         WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
    )
    .bind(secret::token_digest(token))
    .bind(purpose.as_str())
    .bind(now())
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(link_from_row).transpose()
}

/// Every open link of this purpose, newest first.
pub(crate) async fn all_open(db: &Db, purpose: Purpose) -> Result<Vec<Link>> {
    let rows = sqlx::query(
        "SELECT id, email, user_id, role, created_by, created_at, expires_at FROM account_links \
         WHERE purpose = $1 AND used_at IS NULL AND expires_at > $2 ORDER BY id DESC",
    )
    .bind(purpose.as_str())
    .bind(now())
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(link_from_row).collect()
}

/// Closes the open links of this purpose for the address (`id`: only that one), inside
/// the caller's transaction; returns how many were open.
pub(crate) async fn close(conn: &mut AnyConnection, purpose: Purpose, email: &str, id: Option<i64>) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE account_links SET used_at = $1 \
         WHERE purpose = $2 AND email = $3 AND ($4 IS NULL OR id = $4) AND used_at IS NULL AND expires_at > $1",
    )
    .bind(now())
    .bind(purpose.as_str())
    .bind(email)
    .bind(id)
    .execute(&mut *conn)
    .await?
    .rows_affected())
}

/// Removes links used or expired more than a month ago (the nightly clean-up).
pub(crate) async fn delete_old(db: &Db) -> Result<u64> {
    let before = now() - KEPT_SECS;
    Ok(sqlx::query("DELETE FROM account_links WHERE expires_at < $1 OR used_at < $1")
        .bind(before)
        .execute(db.writer())
        .await?
        .rows_affected())
}

fn link_from_row(row: &sqlx::any::AnyRow) -> Result<Link> {
    Ok(Link {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        user_id: row.try_get("user_id")?,
        role: row.try_get::<Option<String>, _>("role")?.map(|r| r.parse()).transpose()?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
    })
}

/// Whether the text could be a token at all (anything else is refused without a read).
fn well_formed(token: &str) -> bool {
    token.len() == TOKEN_CHARS && token.bytes().all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_token_of_the_right_shape_is_looked_up() {
        let token = secret::random_token(TOKEN_CHARS);
        assert!(well_formed(&token));
        assert!(!well_formed(&token[1..]));
        assert!(!well_formed(&token.to_uppercase()));
        assert!(!well_formed(&format!("{}1", &token[1..])));
        assert!(!well_formed(""));
    }
}
