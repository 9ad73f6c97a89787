//! A person's own account: changing their password, and turning two-factor sign-in on or
//! off or making new recovery codes, the current password asked first each time (ten
//! wrong ones within 15 minutes lock these changes for 15 minutes, as sign-in does, so a
//! browser left signed in cannot be used to guess the password); resetting a forgotten
//! password with a single-use link sent by email; and an operator setting a new one, or
//! making such a link, from the command line.

use secrecy::SecretString;

use crate::{
    Error, Result,
    access::authenticate::CredentialCache,
    account_links::{self, NewLink, Purpose, RESET_LIFETIME_SECS},
    audit::{self, Outcome},
    clock::now,
    db::Db,
    mail::{outbox, templates},
    passwords,
    sealed::Sealer,
    settings, sign_in,
    throttle::{self, Policy},
    two_factor,
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
    confirm_password(db, user, change.current, ip, "user.password_change").await?;
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
    audit::record(&mut *tx, &own_event(user, ip, "user.password_change", Outcome::Success, &details)).await?;
    tx.commit().await?;
    if change.sign_out_others {
        remembered.forget_all();
    }
    // The change is made: a failure to forget the failures only leaves them to expire.
    if let Err(e) = throttle::clear(db, &change_subject(user.id)).await {
        tracing::warn!(error = %e.report(), "a password change's failed attempts could not be forgotten");
    }
    Ok(ended)
}

/// Turns two-factor sign-in on with the first code from the person's app, their password
/// asked too (so a browser left signed in cannot tie the account to someone else's
/// phone); answers the recovery codes, shown once.
pub async fn turn_on_two_factor(
    db: &Db,
    sealer: &Sealer,
    user: &User,
    code: &str,
    password: SecretString,
    ip: Option<&str>,
) -> Result<Vec<String>> {
    confirm_password(db, user, password, ip, "user.two_factor_on").await?;
    two_factor::confirm(db, sealer, user, code, ip).await
}

/// New recovery codes in place of the old, the password asked first; shown once.
pub async fn new_recovery_codes(db: &Db, user: &User, password: SecretString, ip: Option<&str>) -> Result<Vec<String>> {
    confirm_password(db, user, password, ip, "user.recovery_codes").await?;
    two_factor::new_recovery_codes(db, user, ip).await
}

/// Turns two-factor sign-in off, the password asked first. Fails with `Invalid` when the
/// shop requires it of `user` (`required`).
pub async fn turn_off_two_factor(
    db: &Db,
    user: &User,
    password: SecretString,
    required: bool,
    ip: Option<&str>,
) -> Result<()> {
    if required {
        return Err(Error::invalid("the shop requires two-factor sign-in of owners; it stays on"));
    }
    confirm_password(db, user, password, ip, "user.two_factor_off").await?;
    two_factor::turn_off(db, user, ip).await
}

/// Checks the signed-in person's own password before a change to their account
/// (`action`, as the audit log names it): a wrong one is audited and counted, and ten in
/// 15 minutes lock every such change for 15 minutes.
async fn confirm_password(db: &Db, user: &User, password: SecretString, ip: Option<&str>, action: &str) -> Result<()> {
    let subject = change_subject(user.id);
    if let Some(until) = throttle::locked_until(db, &[&subject]).await? {
        audit::record(db.writer(), &own_event(user, ip, action, Outcome::Denied, "locked out")).await?;
        return Err(Error::LockedOut { retry_after_secs: until - now() });
    }
    let email = Email::parse(&user.email)?;
    let stored = users::find_credentials(db, &email).await?.map(|(_, hash)| hash);
    if !passwords::verify(password, stored).await? {
        throttle::record_failure(db, &subject, sign_in::POLICY).await?;
        audit::record(db.writer(), &own_event(user, ip, action, Outcome::Failure, "wrong current password")).await?;
        return Err(Error::invalid("the current password is not right"));
    }
    Ok(())
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
    // Each request counts before it is checked, so requests sent at once cannot pass the
    // limits together.
    let ip_subject = format!("reset-ip:{}", ip.unwrap_or("unknown"));
    if throttle::count_attempt(db, &ip_subject, RESET_ADDRESS_POLICY).await? > RESET_ADDRESS_POLICY.max_failures {
        return Err(Error::RateLimited {
            message: "Too many password resets asked from this address. Please try again later.".into(),
            retry_after_secs: RESET_ADDRESS_POLICY.window_secs,
        });
    }
    let email = Email::parse(email)?;
    let event = |outcome, details| request_event(email.as_str(), ip, outcome, details);
    let account_subject = format!("reset-account:{email}");
    if throttle::count_attempt(db, &account_subject, RESET_ACCOUNT_POLICY).await? > RESET_ACCOUNT_POLICY.max_failures {
        return audit::record(db.writer(), &event(Outcome::Denied, "too many links asked for this account")).await;
    }
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
    let closed = || Error::invalid("this link has expired or was already used; ask for a new one");
    // A cheap look first: the password is hashed (slow on purpose) only for an open link.
    account_links::open(db, Purpose::PasswordReset, token).await?.ok_or_else(closed)?;
    let password_hash = passwords::hash(password).await?;
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

/// What wrong current passwords in a change to one's account are counted (and locked)
/// under.
fn change_subject(user_id: i64) -> String {
    format!("password-change:{user_id}")
}

fn own_event<'a>(
    user: &'a User,
    ip: Option<&'a str>,
    action: &'a str,
    outcome: Outcome,
    details: &'a str,
) -> audit::Event<'a> {
    audit::Event { outcome: Some(outcome), details, ..audit::Event::by(user, action, &user.email, ip) }
}
