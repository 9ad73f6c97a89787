//! A person's own account: changing their password, the current one asked first (ten
//! wrong current passwords within 15 minutes lock the change for 15 minutes, as sign-in
//! does, so a browser left signed in cannot be used to guess the password); and an
//! operator setting a new one from the command line.

use secrecy::SecretString;

use crate::{
    Error, Result,
    access::authenticate::CredentialCache,
    audit::{self, Outcome},
    clock::now,
    db::Db,
    passwords, sign_in, throttle,
    users::{self, Email, Revoke, User},
};

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
    sign_in::forget_failures(db, email).await?;
    throttle::clear(db, &change_subject(user.id)).await?;
    let mut tx = db.begin().await?;
    users::set_password_hash(&mut tx, user.id, &password_hash).await?;
    let ended = users::sign_out(&mut tx, user.id, None, Revoke::SessionsOnly).await?;
    let details = format!("sessions signed out: {ended}");
    audit::record(
        &mut *tx,
        &audit::Event {
            actor: "command line",
            action: "user.password_reset",
            target: &user.email,
            details: &details,
            ..audit::Event::default()
        },
    )
    .await?;
    tx.commit().await?;
    Ok(user)
}

/// What wrong current passwords in a password change are counted (and locked) under.
fn change_subject(user_id: i64) -> String {
    format!("password-change:{user_id}")
}

fn change_event<'a>(user: &'a User, ip: Option<&'a str>, outcome: Outcome, details: &'a str) -> audit::Event<'a> {
    audit::Event { outcome: Some(outcome), details, ..audit::Event::by(user, "user.password_change", &user.email, ip) }
}
