//! A person's own account: changing their password, the current one asked first. Ten
//! wrong current passwords within 15 minutes lock the change for 15 minutes (as sign-in
//! does), so a browser left signed in cannot be used to guess the password.

use secrecy::SecretString;

use crate::{
    Error, Result,
    access::authenticate::CredentialCache,
    audit::{self, Outcome},
    clock::now,
    db::Db,
    passwords, sign_in, throttle,
    users::{self, Email, User},
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
    let subject = format!("password-change:{}", user.id);
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
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(&password_hash)
        .bind(user.id)
        .execute(&mut *tx)
        .await?;
    let mut ended = 0;
    if change.sign_out_others {
        let at = now();
        ended += sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND ($2 IS NULL OR id_hash <> $2)")
            .bind(user.id)
            .bind(keep)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        ended += sqlx::query(
            "UPDATE api_credentials SET revoked_at = $1 \
             WHERE user_id = $2 AND kind = 'app_password' AND revoked_at IS NULL",
        )
        .bind(at)
        .bind(user.id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        ended += sqlx::query(
            "UPDATE oauth_grants SET revoked_at = $1, revoked_reason = 'password changed' \
             WHERE user_id = $2 AND revoked_at IS NULL",
        )
        .bind(at)
        .bind(user.id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    }
    let details = if change.sign_out_others { format!("signed out elsewhere: {ended}") } else { String::new() };
    audit::record(&mut *tx, &change_event(user, ip, Outcome::Success, &details)).await?;
    tx.commit().await?;
    throttle::clear(db, &subject).await?;
    if change.sign_out_others {
        remembered.forget_all();
    }
    Ok(ended)
}

fn change_event<'a>(user: &'a User, ip: Option<&'a str>, outcome: Outcome, details: &'a str) -> audit::Event<'a> {
    audit::Event { outcome: Some(outcome), details, ..audit::Event::by(user, "user.password_change", &user.email, ip) }
}
