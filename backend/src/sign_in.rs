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
    throttle::{self, Policy},
    users::{self, Email, User},
};

/// Ten failures within 15 minutes lock the account and the IP out for 15 minutes.
pub const POLICY: Policy = Policy { max_failures: 10, window_secs: 15 * 60, lockout_secs: 15 * 60 };

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

    if let Some(until) = throttle::locked_until(db, &subjects).await? {
        audit_attempt(db, &attempt, None, Outcome::Denied, "locked out").await?;
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
    let password_ok = passwords::verify(attempt.password.clone(), stored_hash).await?;
    let user = user.filter(|u| password_ok && !u.disabled);

    let Some(user) = user else {
        for subject in &subjects {
            throttle::record_failure(db, subject, POLICY).await?;
        }
        audit_attempt(db, &attempt, None, Outcome::Failure, "").await?;
        return Err(Error::BadCredentials);
    };

    throttle::clear(db, &email_subject).await?;
    let token = sessions::start(db, policy, user.id, attempt.ip.as_deref(), attempt.user_agent.as_deref()).await?;
    audit_attempt(db, &attempt, Some(&user), Outcome::Success, "").await?;
    Ok((user, token))
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
