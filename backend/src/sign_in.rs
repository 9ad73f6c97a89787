//! Signing in to the panel: one generic error for any wrong part; a lockout after
//! repeated failures on an account from one address, or from one address on many
//! accounts; and, for an account failing from everywhere, a slowdown rather than a lock.
//! Counted in the database, so that every instance agrees. For a person with two-factor
//! sign-in on ([`crate::two_factor`]), the right password opens a five-minute wait for
//! their code (a challenge); a wrong code counts toward the same locks as a wrong password,
//! and ten codes tried on one account within 15 minutes, from anywhere, lock its code step.

use secrecy::SecretString;

use crate::{
    Error, Result,
    access::secret,
    audit::{self, Outcome},
    clock::now,
    db::Db,
    passwords,
    sealed::Sealer,
    throttle::{self, Policy},
    two_factor,
    users::{self, Email, User},
};

/// Ten codes tried within 15 minutes on one account, from wherever, lock its code step for
/// 15 minutes.
const CODE_POLICY: Policy = POLICY;

/// How long a sign-in waits for its code.
pub const CHALLENGE_SECS: i64 = 5 * 60;
/// A challenge token's characters (260 bits).
const CHALLENGE_CHARS: usize = 52;

/// What the password let through.
pub enum Passed {
    /// The person is signed in; the caller starts their session.
    SignedIn(User),
    /// The person's code is needed: the caller keeps this token (in a cookie) for
    /// [`sign_in_with_code`].
    CodeNeeded { challenge: String },
}

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

/// Checks the credentials; answers the user, for whom the caller starts a session, or,
/// for a person with two-factor sign-in on, the challenge their code answers.
///
/// Fails with `LockedOut` while the account is locked for this address, or the address
/// itself is (even for the right password), and with `BadCredentials` for an unknown
/// email, a wrong password or a disabled account alike.
pub async fn sign_in(db: &Db, attempt: &Attempt) -> Result<Passed> {
    let email = Email::parse(&attempt.email);
    let account = email.as_ref().map_or_else(|_| attempt.email.trim().to_lowercase(), |e| e.as_str().to_owned());
    let ip = attempt.ip.as_deref().unwrap_or("unknown");
    let account_subject = account_subject(&account);
    let pair_subject = pair_subject(&account, ip);
    let ip_subject = format!("ip:{ip}");

    if let Some(until) = throttle::locked_until(db, &[&pair_subject, &ip_subject]).await? {
        audit_attempt(db, &attempt.email, Origin::of(attempt), None, Outcome::Denied, "locked out").await?;
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
        audit_attempt(db, &attempt.email, Origin::of(attempt), None, Outcome::Failure, "").await?;
        return Err(Error::BadCredentials);
    };

    if two_factor::is_on(db, user.id).await? {
        // The failures are forgotten only once the code is right too: the right password
        // again does not buy more guesses at the code.
        let challenge = secret::random_token(CHALLENGE_CHARS);
        sqlx::query("INSERT INTO sign_in_challenges (token_hash, user_id, expires_at) VALUES ($1, $2, $3)")
            .bind(secret::token_digest(&challenge))
            .bind(user.id)
            .bind(now() + CHALLENGE_SECS)
            .execute(db.writer())
            .await?;
        audit_attempt(
            db,
            &attempt.email,
            Origin::of(attempt),
            Some(&user),
            Outcome::Success,
            "password right; code asked",
        )
        .await?;
        return Ok(Passed::CodeNeeded { challenge });
    }
    throttle::clear(db, &pair_subject).await?;
    throttle::clear(db, &account_subject).await?;
    audit_attempt(db, &attempt.email, Origin::of(attempt), Some(&user), Outcome::Success, "").await?;
    Ok(Passed::SignedIn(user))
}

/// The second step of a sign-in: the code from the person's app (or a recovery code)
/// for the challenge their password opened. Returns the user, for whom the caller starts
/// a session; the challenge ends.
///
/// Fails with `Invalid` for a wrong code (counted as a wrong password is) or a challenge
/// that is over (five minutes passed, or it was used), and `LockedOut` as [`sign_in`].
pub async fn sign_in_with_code(
    db: &Db,
    sealer: &Sealer,
    challenge: &str,
    code: &str,
    attempt_ip: Option<&str>,
    user_agent: Option<&str>,
) -> Result<User> {
    let over = || Error::invalid("this sign-in is over (it waits five minutes for the code); sign in again");
    let user_id: Option<i64> =
        sqlx::query_scalar("SELECT user_id FROM sign_in_challenges WHERE token_hash = $1 AND expires_at > $2")
            .bind(secret::token_digest(challenge))
            .bind(now())
            .fetch_optional(db.pool())
            .await?;
    let user = users::find(db, user_id.ok_or_else(over)?).await?;
    let ip = attempt_ip.unwrap_or("unknown");
    let (account_subject, pair_subject, ip_subject) =
        (account_subject(&user.email), pair_subject(&user.email, ip), format!("ip:{ip}"));
    let from = Origin { ip: attempt_ip, user_agent };
    let locked = match throttle::locked_until(db, &[&pair_subject, &ip_subject]).await? {
        Some(until) => Some(until),
        None => throttle::locked_until(db, &[&code_subject(user.id)]).await?,
    };
    if let Some(until) = locked {
        audit_attempt(db, &user.email, from, Some(&user), Outcome::Denied, "locked out at the code").await?;
        return Err(Error::LockedOut { retry_after_secs: until - now() });
    }
    // Codes are counted for the account from every address (only someone who knows the
    // password gets this far, so nobody else can lock it), each before it is checked.
    if throttle::count_attempt(db, &code_subject(user.id), CODE_POLICY).await? > CODE_POLICY.max_failures {
        audit_attempt(db, &user.email, from, Some(&user), Outcome::Denied, "too many codes").await?;
        return Err(Error::LockedOut { retry_after_secs: CODE_POLICY.lockout_secs });
    }
    let mut tx = db.begin().await?;
    let ended = sqlx::query("DELETE FROM sign_in_challenges WHERE token_hash = $1 AND expires_at > $2")
        .bind(secret::token_digest(challenge))
        .bind(now())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if ended != 1 {
        return Err(over());
    }
    if user.disabled || !two_factor::verify(&mut tx, sealer, user.id, code).await? {
        // The challenge stays open for another try (the transaction is dropped).
        drop(tx);
        throttle::record_failure(db, &pair_subject, POLICY).await?;
        throttle::record_failure(db, &ip_subject, ADDRESS_POLICY).await?;
        throttle::record_failure(db, &account_subject, ACCOUNT_POLICY).await?;
        audit_attempt(db, &user.email, from, Some(&user), Outcome::Failure, "wrong code").await?;
        return Err(Error::invalid("the code is not right"));
    }
    tx.commit().await?;
    for subject in [pair_subject, account_subject, code_subject(user.id)] {
        throttle::clear(db, &subject).await?;
    }
    audit_attempt(db, &user.email, from, Some(&user), Outcome::Success, "code right").await?;
    Ok(user)
}

/// Removes the sign-ins whose five minutes for a code are over (the nightly clean-up).
pub(crate) async fn delete_expired_challenges(db: &Db) -> Result<u64> {
    Ok(sqlx::query("DELETE FROM sign_in_challenges WHERE expires_at <= $1")
        .bind(now())
        .execute(db.writer())
        .await?
        .rows_affected())
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

/// What the codes tried for an account are counted (and locked) under.
fn code_subject(user_id: i64) -> String {
    format!("code:{user_id}")
}

/// What an account's failures from everywhere are counted under.
fn account_subject(account: &str) -> String {
    format!("email:{account}")
}

/// What an account's failures from one address are counted (and locked) under.
fn pair_subject(account: &str, ip: &str) -> String {
    format!("email-ip:{account}|{ip}")
}

/// Where an attempt came from: its address and browser.
#[derive(Clone, Copy)]
struct Origin<'a> {
    ip: Option<&'a str>,
    user_agent: Option<&'a str>,
}

impl<'a> Origin<'a> {
    fn of(attempt: &'a Attempt) -> Origin<'a> {
        Origin { ip: attempt.ip.as_deref(), user_agent: attempt.user_agent.as_deref() }
    }
}

async fn audit_attempt(
    db: &Db,
    email: &str,
    from: Origin<'_>,
    user: Option<&User>,
    outcome: Outcome,
    details: &str,
) -> Result<()> {
    audit::record(
        db.writer(),
        &audit::Event {
            actor_user_id: user.map(|u| u.id),
            actor: user.map_or(email.trim(), |u| u.email.as_str()),
            action: "panel.sign_in",
            ip: from.ip,
            user_agent: from.user_agent,
            outcome: Some(outcome),
            details,
            ..audit::Event::default()
        },
    )
    .await
}
