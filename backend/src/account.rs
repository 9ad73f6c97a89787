//! A person's own account: changing their password, the current one asked first (ten
//! wrong current passwords within 15 minutes lock the change for 15 minutes, as sign-in
//! does, so a browser left signed in cannot be used to guess the password); resetting a
//! forgotten one with a single-use link sent by email; and an operator setting a new one,
//! or making such a link, from the command line.

use secrecy::SecretString;

use crate::{
    Error, Result,
    access::authenticate::CredentialCache,
    account_links::{self, NewLink, Purpose, RESET_LIFETIME_SECS},
    audit::{self, Outcome},
    clock::now,
    db::Db,
    mail::{outbox, templates},
    passwords, settings, sign_in,
    throttle::{self, Policy},
    users::{self, Email, Revoke, User},
};

/// Reset requests from one address: ten an hour, then refused for an hour.
const RESET_ADDRESS_POLICY: Policy = Policy { max_failures: 10, window_secs: 3600, lockout_secs: 3600 };
/// Reset links sent to one account: three an hour; past that a request is answered as
/// every other and sends nothing, so nobody can fill a person's inbox.
const RESET_ACCOUNT_POLICY: Policy = Policy { max_failures: 3, window_secs: 3600, lockout_secs: 3600 };

/// What a person asks when changing their own password.
pub struct PasswordChange {
    pub current: SecretString,
    pub new: SecretString,
    /// End their other sessions and revoke their application passwords and devices.
    pub sign_out_others: bool,
}

/// Changes `user`'s own password. With [`PasswordChange::sign_out_others`], every other
/// session of theirs ends (`keep` is this browser's session, by its fingerprint) and their
/// application passwords and OAuth devices are revoked, so no credential of theirs this
/// process remembers passes again; the shop's connection keys stay. Returns how many
/// sessions, passwords and devices ended. Audited, failures too.
///
/// Fails with `Invalid` for a wrong current password or a weak new one, and `LockedOut`
/// after too many wrong ones.
pub async fn change_password(
    db: &Db,
    remembered: &CredentialCache,
    user: &User,
    change: PasswordChange,
    keep: Option<&str>,
    ip: Option<&str>,
) -> Result<u64> {
    let subject = change_subject(user.id);
    if let Some(until) = throttle::locked_until(db, &[&subject]).await? {
        audit::record(db.writer(), &change_event(user, ip, Outcome::Denied, "locked out")).await?;
        return Err(Error::LockedOut { retry_after_secs: until - now() });
    }
    let email = Email::parse(&user.email)?;
    let stored = users::find_credentials(db, &email).await?.map(|(_, hash)| hash);
    if !passwords::verify(change.current, stored).await? {
        throttle::record_failure(db, &subject, sign_in::POLICY).await?;
        audit::record(db.writer(), &change_event(user, ip, Outcome::Failure, "wrong current password")).await?;
        return Err(Error::invalid("the current password is not right"));
    }
    let password_hash = passwords::hash(change.new).await?;
    let mut tx = db.begin().await?;
    users::set_password_hash(&mut tx, user.id, &password_hash).await?;
    let ended = if change.sign_out_others {
        let revoke = Revoke::AppPasswordsAndDevices { reason: "password changed" };
        users::sign_out(&mut tx, user.id, keep, revoke).await?
    } else {
        0
    };
    let details = if change.sign_out_others { format!("signed out elsewhere: {ended}") } else { String::new() };
    audit::record(&mut *tx, &change_event(user, ip, Outcome::Success, &details)).await?;
    tx.commit().await?;
    if change.sign_out_others {
        remembered.forget_all();
    }
    // The change is made: a failure to forget the failures only leaves them to expire.
    if let Err(e) = throttle::clear(db, &subject).await {
        tracing::warn!(error = %e.report(), "a password change's failed attempts could not be forgotten");
    }
    Ok(ended)
}

/// Sets a new password for the account with this email, from the command line (an owner
/// locked out, no mail set up): every session of the account ends, its failed sign-ins
/// are forgotten (so no lock keeps the owner out), and the change is in the audit log. Its
/// keys, application passwords and devices stay.
///
/// Fails with `NotFound` for an unknown email and `Invalid` for a weak password.
pub async fn reset_password(db: &Db, email: &Email, password: SecretString) -> Result<User> {
    let user = users::find_by_email(db, email).await?.ok_or(Error::NotFound)?;
    let password_hash = passwords::hash(password).await?;
    forget_locks(db, &user).await?;
    let mut tx = db.begin().await?;
    users::set_password_hash(&mut tx, user.id, &password_hash).await?;
    let ended = users::sign_out(&mut tx, user.id, None, Revoke::SessionsOnly).await?;
    let details = format!("sessions signed out: {ended}");
    audit::record(&mut *tx, &command_line_event("user.password_reset", &user.email, &details)).await?;
    tx.commit().await?;
    Ok(user)
}

/// Sends a password reset link to the account with this email, through the outbox. The
/// answer is the same whether such an account exists or not (only the audit log tells);
/// a disabled account gets no link. Fails with `Invalid` for text that is no email
/// address, and `RateLimited` past ten requests an hour from one address.
pub async fn request_password_reset(db: &Db, base_url: &str, email: &str, ip: Option<&str>) -> Result<()> {
    let ip_subject = format!("reset-ip:{}", ip.unwrap_or("unknown"));
    if let Some(until) = throttle::locked_until(db, &[&ip_subject]).await? {
        return Err(Error::RateLimited {
            message: "Too many password resets asked from this address. Please try again later.".into(),
            retry_after_secs: (until - now()).max(1),
        });
    }
    throttle::record_attempt(db, &ip_subject, RESET_ADDRESS_POLICY).await?;
    let email = Email::parse(email)?;
    let event = |outcome, details| request_event(email.as_str(), ip, outcome, details);
    let account_subject = format!("reset-account:{email}");
    if throttle::locked_until(db, &[&account_subject]).await?.is_some() {
        return audit::record(db.writer(), &event(Outcome::Denied, "too many links asked for this account")).await;
    }
    throttle::record_attempt(db, &account_subject, RESET_ACCOUNT_POLICY).await?;
    let user = match users::find_by_email(db, &email).await? {
        Some(user) if !user.disabled => user,
        Some(_) => return audit::record(db.writer(), &event(Outcome::Failure, "the account is disabled")).await,
        None => return audit::record(db.writer(), &event(Outcome::Failure, "no such account")).await,
    };
    let store = settings::get(db).await?;
    let mut tx = db.begin().await?;
    let link = account_links::issue(&mut tx, base_url, &reset_link(&user, &email)).await?;
    let content = templates::password_reset((&store).into(), &user.name, &link, RESET_LIFETIME_SECS / 60);
    let mail = outbox::NewMail {
        kind: "user.password_reset",
        to_address: email.as_str(),
        to_name: &user.name,
        content: &content,
        reply_to: None,
        order_id: None,
        ticket_id: None,
    };
    outbox::queue(&mut tx, &mail).await?;
    audit::record(&mut *tx, &event(Outcome::Success, "link sent")).await?;
    tx.commit().await?;
    Ok(())
}

/// Makes a password reset link for the account with this email, for the command line to
/// print (an owner locked out, with no mail set up); nothing is sent. Audited.
///
/// Fails with `NotFound` for an unknown email, and `Invalid` for a disabled account.
pub async fn password_reset_link(db: &Db, base_url: &str, email: &Email) -> Result<String> {
    let user = users::find_by_email(db, email).await?.ok_or(Error::NotFound)?;
    if user.disabled {
        return Err(Error::invalid("the account is disabled; enable it first"));
    }
    let mut tx = db.begin().await?;
    let link = account_links::issue(&mut tx, base_url, &reset_link(&user, email)).await?;
    audit::record(&mut *tx, &command_line_event("user.password_reset_link", &user.email, "")).await?;
    tx.commit().await?;
    Ok(link)
}

/// Sets a new password with a reset link: the link is used up, every session of the
/// account ends and its application passwords and devices are revoked (whoever may have
/// had the password is out), the account's other reset links close, and its sign-in
/// locks are lifted. The person signs in afterwards with the new password.
///
/// Fails with `Invalid` for a link no longer open (used, expired, or its account
/// disabled) and for a weak password.
pub async fn reset_password_with_link(
    db: &Db,
    remembered: &CredentialCache,
    token: &str,
    password: SecretString,
    ip: Option<&str>,
) -> Result<User> {
    let password_hash = passwords::hash(password).await?;
    let closed = || Error::invalid("this link has expired or was already used; ask for a new one");
    let mut tx = db.begin().await?;
    let link = account_links::take(&mut tx, Purpose::PasswordReset, token).await?.ok_or_else(closed)?;
    let user = users::find_in(&mut tx, link.user_id.ok_or_else(closed)?).await?;
    if user.disabled {
        return Err(closed());
    }
    users::set_password_hash(&mut tx, user.id, &password_hash).await?;
    let revoke = Revoke::AppPasswordsAndDevices { reason: "password reset" };
    let ended = users::sign_out(&mut tx, user.id, None, revoke).await?;
    account_links::close(&mut tx, Purpose::PasswordReset, &user.email, None).await?;
    let details = format!("signed out: {ended}");
    audit::record(
        &mut *tx,
        &audit::Event { details: &details, ..audit::Event::by(&user, "user.password_reset", &user.email, ip) },
    )
    .await?;
    tx.commit().await?;
    remembered.forget_all();
    forget_locks(db, &user).await?;
    Ok(user)
}

/// Whether a reset link is still open, and for which address (its page says so).
pub async fn password_reset_open(db: &Db, token: &str) -> Result<Option<String>> {
    Ok(account_links::open(db, Purpose::PasswordReset, token).await?.map(|link| link.email))
}

fn reset_link<'a>(user: &User, email: &'a Email) -> NewLink<'a> {
    NewLink { purpose: Purpose::PasswordReset, email, user_id: Some(user.id), role: None, created_by: None }
}

/// Lifts the account's sign-in locks and slowdown and its password change lock (after a
/// reset, so that no lock keeps the person out).
async fn forget_locks(db: &Db, user: &User) -> Result<()> {
    sign_in::forget_failures(db, &Email::parse(&user.email)?).await?;
    throttle::clear(db, &change_subject(user.id)).await
}

fn request_event<'a>(email: &'a str, ip: Option<&'a str>, outcome: Outcome, details: &'a str) -> audit::Event<'a> {
    audit::Event {
        actor: email,
        action: "user.password_reset_request",
        target: email,
        ip,
        outcome: Some(outcome),
        details,
        ..audit::Event::default()
    }
}

fn command_line_event<'a>(action: &'a str, target: &'a str, details: &'a str) -> audit::Event<'a> {
    audit::Event { actor: "command line", action, target, details, ..audit::Event::default() }
}

/// What wrong current passwords in a password change are counted (and locked) under.
fn change_subject(user_id: i64) -> String {
    format!("password-change:{user_id}")
}

fn change_event<'a>(user: &'a User, ip: Option<&'a str>, outcome: Outcome, details: &'a str) -> audit::Event<'a> {
    audit::Event { outcome: Some(outcome), details, ..audit::Event::by(user, "user.password_change", &user.email, ip) }
}
