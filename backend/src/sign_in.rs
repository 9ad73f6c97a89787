//! Signing in to the panel: one generic error for any wrong part; a lockout after
//! repeated failures on an account from one address, or from one address on many
//! accounts; and, for an account failing from everywhere, a slowdown rather than a lock.
//! Counted in the database, so that every instance agrees.

use secrecy::SecretString;

use crate::{
    Error, Result,
    audit::{self, Outcome},
    clock::now,
    db::Db,
    passwords,
    throttle::{self, Policy},
    users::{self, Email, User},
};

/// Ten failures within 15 minutes on one account from one address lock that account out
/// for that address, for 15 minutes.
pub const POLICY: Policy = Policy { max_failures: 10, window_secs: 15 * 60, lockout_secs: 15 * 60 };

/// An address failing on many accounts (guessing across the team) is locked out itself.
pub const ADDRESS_POLICY: Policy = Policy { max_failures: 30, window_secs: 15 * 60, lockout_secs: 15 * 60 };

/// An account's failures from every address are counted but never lock it, or anyone
/// could lock the team out: past [`POLICY`]'s limit, each attempt on the account is slowed
/// down by [`SLOWDOWN`] instead, right password or not.
const ACCOUNT_POLICY: Policy = Policy { max_failures: i64::MAX, ..POLICY };
pub const SLOWDOWN: std::time::Duration = std::time::Duration::from_secs(2);

pub struct Attempt {
    pub email: String,
    pub password: SecretString,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Checks the credentials; returns the user, for whom the caller starts a session.
///
/// Fails with `LockedOut` while the account is locked for this address, or the address
/// itself is (even for the right password), and with `BadCredentials` for an unknown
/// email, a wrong password or a disabled account alike.
pub async fn sign_in(db: &Db, attempt: &Attempt) -> Result<User> {
    let email = Email::parse(&attempt.email);
    let account = email.as_ref().map_or_else(|_| attempt.email.trim().to_lowercase(), |e| e.as_str().to_owned());
    let ip = attempt.ip.as_deref().unwrap_or("unknown");
    let account_subject = account_subject(&account);
    let pair_subject = pair_subject(&account, ip);
    let ip_subject = format!("ip:{ip}");

    if let Some(until) = throttle::locked_until(db, &[&pair_subject, &ip_subject]).await? {
        audit_attempt(db, attempt, None, Outcome::Denied, "locked out").await?;
        return Err(Error::LockedOut { retry_after_secs: until - now() });
    }
    if throttle::failures(db, &account_subject, ACCOUNT_POLICY).await? >= POLICY.max_failures {
        tokio::time::sleep(SLOWDOWN).await;
    }

    let account = match email {
        Ok(email) => users::find_credentials(db, &email).await?,
        Err(_) => None,
    };
    let (user, stored_hash) = match account {
        Some((user, hash)) => (Some(user), Some(hash)),
        None => (None, None),
    };
    let password_ok = passwords::verify(attempt.password.clone(), stored_hash).await?;
    let user = user.filter(|u| password_ok && !u.disabled);

    let Some(user) = user else {
        throttle::record_failure(db, &pair_subject, POLICY).await?;
        throttle::record_failure(db, &ip_subject, ADDRESS_POLICY).await?;
        throttle::record_failure(db, &account_subject, ACCOUNT_POLICY).await?;
        audit_attempt(db, attempt, None, Outcome::Failure, "").await?;
        return Err(Error::BadCredentials);
    };

    throttle::clear(db, &pair_subject).await?;
    throttle::clear(db, &account_subject).await?;
    audit_attempt(db, attempt, Some(&user), Outcome::Success, "").await?;
    Ok(user)
}

/// Forgets an account's failed sign-ins, from every address: its locks and its slowdown
/// (after an operator set a new password, the owner signs in at once).
pub async fn forget_failures(db: &Db, email: &Email) -> Result<()> {
    let account = email.as_str();
    sqlx::query("DELETE FROM sign_in_throttle WHERE subject = $1 OR subject LIKE $2 ESCAPE '\\'")
        .bind(account_subject(account))
        .bind(pair_subject(&crate::db::like_escape(account), "%"))
        .execute(db.writer())
        .await?;
    Ok(())
}

/// What an account's failures from everywhere are counted under.
fn account_subject(account: &str) -> String {
    format!("email:{account}")
}

/// What an account's failures from one address are counted (and locked) under.
fn pair_subject(account: &str, ip: &str) -> String {
    format!("email-ip:{account}|{ip}")
}

async fn audit_attempt(db: &Db, attempt: &Attempt, user: Option<&User>, outcome: Outcome, details: &str) -> Result<()> {
    let (email, ip, user_agent) = (&attempt.email, attempt.ip.as_deref(), attempt.user_agent.as_deref());
    audit::record(
        db.writer(),
        &audit::Event {
            actor_user_id: user.map(|u| u.id),
            actor: user.map_or(email.trim(), |u| u.email.as_str()),
            action: "panel.sign_in",
            ip,
            user_agent,
            outcome: Some(outcome),
            details,
            ..audit::Event::default()
        },
    )
    .await
}
