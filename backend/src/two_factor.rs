//! Two-factor sign-in with an authenticator app: TOTP (RFC 6238) as every app reads it —
//! six digits, 30-second steps, HMAC-SHA-1 — with a 160-bit secret, sealed at rest. A
//! person turns it on by scanning the secret (a QR code) and typing one code back; they
//! then get ten single-use recovery codes, shown once, for when the phone is gone. A code
//! is compared in constant time, the step before and after are accepted (clocks drift),
//! and no code passes twice: the step a code was taken for is remembered, and only a later
//! one passes after it. Sign-in asks for the code ([`crate::sign_in`]).

use secrecy::ExposeSecret;
use sqlx::{AnyConnection, Row};
use totp_rs::{Builder, Secret, Totp};

use crate::{
    Error, Result,
    access::secret,
    audit,
    clock::now,
    db::Db,
    sealed::{Place, Sealer},
    users::User,
};

/// How many recovery codes a person gets at a time.
pub const RECOVERY_CODES: usize = 10;
/// A recovery code's characters (50 bits), shown as two groups of five.
const RECOVERY_CHARS: usize = 10;
/// The secret's bytes (160 bits, as RFC 4226 recommends).
const SECRET_BYTES: usize = 20;

/// What a person scans (or types) into their app to turn two-factor sign-in on.
#[derive(Clone, Debug)]
pub struct Enrolment {
    /// The secret in base32, for typing in by hand.
    pub secret: String,
    /// The `otpauth://` address the QR code holds.
    pub url: String,
}

/// Where a person stands: off (or begun and not yet confirmed), or on with the recovery
/// codes they have left.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Off,
    On { recovery_codes_left: i64 },
}

pub async fn status(db: &Db, user_id: i64) -> Result<Status> {
    if !is_on(db, user_id).await? {
        return Ok(Status::Off);
    }
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL")
        .bind(user_id)
        .fetch_one(db.pool())
        .await?;
    Ok(Status::On { recovery_codes_left: left })
}

/// Whether the person signs in with a code: one indexed read (every sign-in asks, and
/// every request of an owner while the shop requires it).
pub async fn is_on(db: &Db, user_id: i64) -> Result<bool> {
    let on: Option<i64> = sqlx::query_scalar(
        "SELECT user_id FROM two_factor WHERE user_id = $1 AND confirmed_at IS NOT NULL AND secret_sealed IS NOT NULL",
    )
    .bind(user_id)
    .fetch_optional(db.pool())
    .await?;
    Ok(on.is_some())
}

/// Starts turning two-factor sign-in on: a new secret, kept until a code from the app
/// confirms it ([`confirm`]); starting again replaces it. Fails with `Invalid` when it is
/// on already.
pub async fn begin(db: &Db, sealer: &Sealer, user: &User, shop_name: &str) -> Result<Enrolment> {
    if is_on(db, user.id).await? {
        return Err(Error::invalid("two-factor sign-in is on already; turn it off first to start again"));
    }
    let bytes: [u8; SECRET_BYTES] = rand::random();
    let secret = Secret::from(bytes.to_vec());
    let sealed = sealer.seal(Place::TwoFactorSecret, &secret.to_base32());
    sqlx::query(
        "INSERT INTO two_factor (user_id, secret_sealed, confirmed_at, last_step, created_at) VALUES ($1, $2, NULL, 0, $3) \
         ON CONFLICT (user_id) DO UPDATE SET secret_sealed = $2, confirmed_at = NULL, last_step = 0, created_at = $3",
    )
    .bind(user.id)
    .bind(&sealed)
    .bind(now())
    .execute(db.writer())
    .await?;
    let totp = totp(secret, Some(shop_name), &user.email)?;
    let url = totp.to_url().map_err(|e| Error::internal(format!("the authenticator address: {e}")))?;
    Ok(Enrolment { secret: totp.secret().to_base32(), url })
}

/// Turns two-factor sign-in on with the first code from the app; answers the recovery
/// codes, shown once. Audited. Fails with `Invalid` for a wrong code or when nothing was
/// begun. The person's password is checked first ([`crate::account::turn_on_two_factor`]).
pub(crate) async fn confirm(
    db: &Db,
    sealer: &Sealer,
    user: &User,
    code: &str,
    ip: Option<&str>,
) -> Result<Vec<String>> {
    let mut tx = db.begin().await?;
    if !take_code(&mut tx, sealer, user.id, code, false).await? {
        return Err(Error::invalid("the code is not right; type the six digits your app shows now"));
    }
    sqlx::query("UPDATE two_factor SET confirmed_at = $1 WHERE user_id = $2")
        .bind(now())
        .bind(user.id)
        .execute(&mut *tx)
        .await?;
    let codes = replace_recovery_codes(&mut tx, user.id).await?;
    audit::record(&mut *tx, &audit::Event::by(user, "user.two_factor_on", &user.email, ip)).await?;
    tx.commit().await?;
    Ok(codes)
}

/// Ten new recovery codes in place of the old (all of which stop working), shown once.
/// Audited. Fails with `Invalid` while two-factor sign-in is off. The person's password
/// is checked first ([`crate::account::new_recovery_codes`]).
pub(crate) async fn new_recovery_codes(db: &Db, user: &User, ip: Option<&str>) -> Result<Vec<String>> {
    if !is_on(db, user.id).await? {
        return Err(Error::invalid("two-factor sign-in is off"));
    }
    let mut tx = db.begin().await?;
    let codes = replace_recovery_codes(&mut tx, user.id).await?;
    audit::record(&mut *tx, &audit::Event::by(user, "user.recovery_codes", &user.email, ip)).await?;
    tx.commit().await?;
    Ok(codes)
}

/// Turns two-factor sign-in off. Audited. The person's password is checked first
/// ([`crate::account::turn_off_two_factor`]).
pub(crate) async fn turn_off(db: &Db, user: &User, ip: Option<&str>) -> Result<()> {
    remove(db, user, &audit::Event::by(user, "user.two_factor_off", &user.email, ip)).await
}

/// Turns two-factor sign-in off for the account with this email, from the command line
/// (a person who lost their phone and their recovery codes). Audited.
///
/// Fails with `NotFound` for an unknown email.
pub async fn turn_off_by_operator(db: &Db, email: &vocabulary::people::Email) -> Result<User> {
    let user = crate::users::find_by_email(db, email).await?.ok_or(Error::NotFound)?;
    let event = audit::Event {
        actor: "command line",
        action: "user.two_factor_off",
        target: &user.email,
        ..audit::Event::default()
    };
    remove(db, &user, &event).await?;
    Ok(user)
}

async fn remove(db: &Db, user: &User, event: &audit::Event<'_>) -> Result<()> {
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM two_factor WHERE user_id = $1").bind(user.id).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user.id).execute(&mut *tx).await?;
    audit::record(&mut *tx, event).await?;
    tx.commit().await?;
    Ok(())
}

/// Takes a code at sign-in: six digits from the app, or a recovery code (used up). Inside
/// the caller's transaction, so that the code is spent only if the sign-in goes through.
pub(crate) async fn verify(conn: &mut AnyConnection, sealer: &Sealer, user_id: i64, code: &str) -> Result<bool> {
    let typed: String = code.chars().filter(|c| !c.is_whitespace() && *c != '-').collect::<String>().to_lowercase();
    if typed.len() == RECOVERY_CHARS {
        let used = sqlx::query(
            "UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
        )
        .bind(now())
        .bind(user_id)
        .bind(secret::token_digest(&typed))
        .execute(&mut *conn)
        .await?;
        return Ok(used.rows_affected() == 1);
    }
    take_code(conn, sealer, user_id, &typed, true).await
}

/// Checks a six-digit code against the person's secret (confirmed or, for `confirmed:
/// false`, still pending) and takes its step, so it cannot pass again.
async fn take_code(
    conn: &mut AnyConnection,
    sealer: &Sealer,
    user_id: i64,
    code: &str,
    confirmed: bool,
) -> Result<bool> {
    let condition = if confirmed { "confirmed_at IS NOT NULL" } else { "confirmed_at IS NULL" };
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT secret_sealed, last_step FROM two_factor WHERE user_id = $1 AND secret_sealed IS NOT NULL AND {condition}"
    )))
    .bind(user_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(false) };
    let sealed: String = row.try_get("secret_sealed")?;
    let secret = Secret::try_from_base32(sealer.open(Place::TwoFactorSecret, &sealed)?.expose_secret())
        .map_err(|e| Error::internal(format!("a stored authenticator secret: {e}")))?;
    let Some(step) = totp(secret, None, "")?.check(code.trim(), now().max(0) as u64) else { return Ok(false) };
    let step = i64::try_from(step).map_err(Error::internal)?;
    // Only a step later than the last one taken: a code seen once (or an older one) fails.
    let taken = sqlx::query("UPDATE two_factor SET last_step = $1 WHERE user_id = $2 AND last_step < $1")
        .bind(step)
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(taken.rows_affected() == 1)
}

fn totp(secret: Secret, issuer: Option<&str>, account: &str) -> Result<Totp> {
    // A colon separates the issuer from the account in the app's list; neither may hold one.
    let clean = |text: &str| text.replace(':', " ").trim().to_owned();
    Builder::new()
        .with_secret(secret)
        .with_skew(1)
        .with_step_duration(30)
        .with_digits(6)
        .with_issuer(issuer.map(clean).filter(|i| !i.is_empty()))
        .with_account_name(clean(account))
        .build()
        .map_err(|e| Error::internal(format!("an authenticator secret: {e}")))
}

async fn replace_recovery_codes(conn: &mut AnyConnection, user_id: i64) -> Result<Vec<String>> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute(&mut *conn).await?;
    let mut codes = Vec::with_capacity(RECOVERY_CODES);
    for _ in 0..RECOVERY_CODES {
        let code = secret::random_token(RECOVERY_CHARS);
        sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
            .bind(user_id)
            .bind(secret::token_digest(&code))
            .execute(&mut *conn)
            .await?;
        codes.push(format!("{}-{}", &code[..5], &code[5..]));
    }
    Ok(codes)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The code an authenticator app shows for `secret` (base32) at `time`.
    pub(crate) fn code_at(secret: &str, time: i64) -> String {
        totp(Secret::try_from_base32(secret).unwrap(), None, "").unwrap().generate(time as u64).to_string()
    }

    #[test]
    fn codes_follow_rfc_6238() {
        // RFC 6238, appendix B: the SHA-1 key "12345678901234567890", eight digits there;
        // the last six of each are what a six-digit app shows.
        let secret = Secret::from(b"12345678901234567890".to_vec()).to_base32();
        for (time, eight) in [(59, "94287082"), (1_111_111_109, "07081804"), (2_000_000_000, "69279037")] {
            assert_eq!(code_at(&secret, time), eight[2..]);
        }
    }

    #[test]
    fn a_colon_never_reaches_the_app_s_label() {
        let totp = totp(Secret::from(vec![7; SECRET_BYTES]), Some("Shop: Istanbul"), "a:b@c.example").unwrap();
        let url = totp.to_url().unwrap();
        let label = url.strip_prefix("otpauth://totp/").and_then(|rest| rest.split('?').next()).unwrap();
        assert_eq!(label.matches(':').count(), 1, "only the issuer's separator: {url}");
        assert!(label.starts_with("Shop%20%20Istanbul:"), "{url}");
    }
}
