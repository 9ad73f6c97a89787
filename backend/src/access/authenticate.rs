//! Turning what a request presents into a [`Caller`], or the reason it is refused: the
//! lockout of an address after repeated failures, the credential itself, and — for
//! connection keys — the timestamp window and nonces. Scope and rate limits, which need
//! no database, are the HTTP layer's. A malformed secret or one with a bad checksum
//! costs no database read; a good one costs one read a second per credential and
//! address: a credential that passed is remembered for [`CACHE_TTL`], so a key revoked
//! or a user disabled on another instance stops working within that second (on this
//! instance at once). Failures are never remembered: each one is counted.

use std::{
    collections::HashMap,
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use base64::{Engine, engine::general_purpose::STANDARD};
use sqlx::{AssertSqlSafe, Row};

use super::{
    Caller, CredentialKind, Denied,
    secret::{self, SecretHasher, SecretKind},
    security::SecuritySettings,
};
use crate::{
    Error,
    audit::{self, Event, Outcome},
    clock::now,
    db::Db,
    error::is_unique_violation,
    throttle,
    users::user_from_row,
};

/// How often a credential's "last used" time and address are written, at most.
pub const LAST_USED_INTERVAL_SECS: i64 = 60;

/// How long a credential that passed is remembered by this instance.
pub const CACHE_TTL: Duration = Duration::from_secs(1);
const CACHE_MAX_ENTRIES: usize = 10_000;

/// The PostgreSQL channel instances tell each other on about revocations and lockouts.
const CHANNEL: &str = "backroom_credentials";
/// What a notification on [`CHANNEL`] says when every remembered credential must go (else
/// it names the address that was locked out).
const EVERYTHING: &str = "*";

/// Credentials that passed recently, by secret hash and client address; one per process,
/// in [`crate::services::Services`]. Instances on one PostgreSQL tell each other what
/// they revoke and lock out ([`share_across_instances`]), so none goes on accepting it.
#[derive(Default)]
pub struct CredentialCache {
    entries: Mutex<HashMap<(String, String), Remembered>>,
    /// Bumped by every revocation (keys, passwords, devices, apps, disabled users), here or
    /// in another instance, so that no remembered credential outlives it here.
    revocations: AtomicU64,
    /// Where this instance's revocations and lockouts go to reach the others; unset on
    /// SQLite (one instance) and until [`share_across_instances`] runs.
    announce: std::sync::OnceLock<tokio::sync::mpsc::UnboundedSender<String>>,
}

struct Remembered {
    at: Instant,
    revocations: u64,
    found: Found,
}

impl CredentialCache {
    /// Forgets every credential remembered so far, here and in the other instances:
    /// called after each revocation.
    pub fn forget_all(&self) {
        self.forget_all_here();
        self.tell_the_others(EVERYTHING);
    }

    /// Forgets what passed from one address, here and in the other instances: called when
    /// it is locked out, so that no credential remembered from it passes during the lock.
    fn forget_address(&self, ip_subject: &str) {
        self.forget_address_here(ip_subject);
        self.tell_the_others(ip_subject);
    }

    fn forget_all_here(&self) {
        self.revocations.fetch_add(1, Ordering::Relaxed);
    }

    fn forget_address_here(&self, ip_subject: &str) {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).retain(|(_, ip), _| ip != ip_subject);
    }

    fn tell_the_others(&self, what: &str) {
        if let Some(announce) = self.announce.get() {
            let _ = announce.send(what.to_owned());
        }
    }

    /// What another instance said (or this one: its own notifications come back too).
    fn heard(&self, what: &str) {
        match what {
            EVERYTHING => self.forget_all_here(),
            address => self.forget_address_here(address),
        }
    }

    fn revocations(&self) -> u64 {
        self.revocations.load(Ordering::Relaxed)
    }

    fn get(&self, key: &(String, String)) -> Option<Found> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let entry = entries.get(key)?;
        let fresh = entry.at.elapsed() < CACHE_TTL && entry.revocations == self.revocations();
        fresh.then(|| entry.found.clone())
    }

    fn put(&self, key: (String, String), found: Found, revocations: u64) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CACHE_MAX_ENTRIES {
            entries.retain(|_, e| e.at.elapsed() < CACHE_TTL);
            if entries.len() >= CACHE_MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(key, Remembered { at: Instant::now(), revocations, found });
    }

    fn update(&self, key: &(String, String), change: impl FnOnce(&mut Found)) {
        if let Some(entry) = self.entries.lock().unwrap_or_else(|e| e.into_inner()).get_mut(key) {
            change(&mut entry.found);
        }
    }
}

/// Keeps this instance's remembered credentials in step with the other instances on the
/// same PostgreSQL: what one revokes or locks out, every one forgets within milliseconds
/// (LISTEN/NOTIFY), instead of accepting it for up to [`CACHE_TTL`]. A lost connection to
/// the channel forgets everything (notifications may have been missed). Nothing to do on
/// SQLite. Runs until `stop`.
pub async fn share_across_instances(
    cache: std::sync::Arc<CredentialCache>,
    db: Db,
    stop: tokio_util::sync::CancellationToken,
) {
    let (pool, mut listener) = match db.listener(CHANNEL).await {
        Ok(Some(listening)) => listening,
        Ok(None) => return,
        Err(e) => {
            tracing::error!(error = %e.report(), "cannot listen for other instances' revocations");
            return;
        }
    };
    let (sender, mut changes) = tokio::sync::mpsc::unbounded_channel::<String>();
    if cache.announce.set(sender).is_err() {
        return;
    }
    let announcing = async {
        while let Some(what) = changes.recv().await {
            let sent = sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(&what).execute(db.writer()).await;
            if let Err(e) = sent {
                tracing::warn!(error = %e, "could not tell the other instances of a revocation");
            }
        }
    };
    let hearing = async {
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) => cache.heard(notification.payload()),
                Ok(None) => cache.forget_all_here(),
                Err(e) => {
                    tracing::warn!(error = %e, "lost the channel to the other instances; retrying");
                    cache.forget_all_here();
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    };
    tokio::select! {
        _ = stop.cancelled() => {}
        _ = announcing => {}
        _ = hearing => {}
    }
    drop(listener);
    pool.close().await;
}

/// What the request carried, already split out of its headers.
#[derive(Clone, Debug, Default)]
pub struct Presented<'a> {
    /// The `Authorization` header's value; `None` when absent.
    pub authorization: Option<&'a str>,
    /// More than one `Authorization` header was sent.
    pub duplicate_authorization: bool,
    pub timestamp: Option<&'a str>,
    pub nonce: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
}

enum Secret<'a> {
    Bearer(&'a str, SecretKind),
    Basic { email: String, password: String },
}

/// Checks the credentials of an API request. `Err(Error)` only for our own faults (the
/// database); every fault of the request's is a [`Denied`].
pub async fn authenticate(
    db: &Db,
    hasher: &SecretHasher,
    cache: &CredentialCache,
    settings: &SecuritySettings,
    presented: &Presented<'_>,
) -> Result<Result<Caller, Denied>, Error> {
    let secret = match parse_authorization(presented) {
        Ok(secret) => secret,
        Err(denied) => return Ok(Err(denied)),
    };
    let ip_subject = format!("api-ip:{}", presented.ip.unwrap_or("unknown"));
    let now = now();
    let (text, kind) = match &secret {
        Secret::Bearer(token, kind) => (*token, *kind),
        Secret::Basic { password, .. } => (password.as_str(), SecretKind::AppPassword),
    };
    let cache_key = (hasher.hash(text), ip_subject.clone());
    let found = match cache.get(&cache_key) {
        Some(found) => Some(found),
        None => {
            let revocations = cache.revocations();
            let found = lookup(db, &cache_key.0, kind, &ip_subject).await?;
            let passes =
                |f: &&Found| !f.revoked && !f.caller.user.disabled && f.ip_locked_until.is_none_or(|u| u <= now);
            if let Some(found) = found.as_ref().filter(passes) {
                cache.put(cache_key.clone(), found.clone(), revocations);
            }
            found
        }
    };
    let Some(found) = found else {
        let denied = Denied::InvalidCredentials("unknown credential");
        return Ok(Err(failure(db, cache, settings, presented, &ip_subject, None, denied).await?));
    };
    if let Some(until) = found.ip_locked_until.filter(|u| *u > now) {
        return Ok(Err(Denied::LockedOut { retry_after_secs: until - now }));
    }
    let kind = found.caller.kind;
    let mut sent_at = now;
    let refusal = if let Secret::Basic { email, .. } = &secret
        && !email.eq_ignore_ascii_case(&found.caller.user.email)
    {
        Some(Denied::InvalidCredentials("unknown credential"))
    } else if found.revoked {
        Some(if kind == CredentialKind::OauthToken { Denied::TokenRevoked } else { Denied::KeyRevoked })
    } else if found.caller.expires_at.is_some_and(|at| at <= now) {
        Some(if kind == CredentialKind::OauthToken { Denied::TokenExpired } else { Denied::KeyExpired })
    } else if found.caller.user.disabled {
        Some(Denied::InvalidCredentials("the account is disabled"))
    } else if kind == CredentialKind::ConnectionKey {
        match check_timestamp(presented.timestamp, settings.timestamp_window_secs, now) {
            Ok(sent) => {
                sent_at = sent;
                None
            }
            Err(denied) => Some(denied),
        }
    } else {
        None
    };
    if let Some(denied) = refusal {
        return Ok(Err(failure(db, cache, settings, presented, &ip_subject, Some(&found.caller), denied).await?));
    }
    if kind == CredentialKind::ConnectionKey
        && let Some(nonce) = presented.nonce
    {
        if !well_formed_nonce(nonce) {
            return Ok(Err(Denied::NonceInvalid));
        }
        // The request stays acceptable until its timestamp leaves the window; its nonce is
        // kept as long, so a replay is refused for as long as it would otherwise pass.
        let acceptable_until = sent_at.max(now) + settings.timestamp_window_secs;
        if !remember_nonce(db, &found.caller.credential_ref(), nonce, acceptable_until).await? {
            let denied = Denied::NonceReused;
            return Ok(Err(failure(db, cache, settings, presented, &ip_subject, Some(&found.caller), denied).await?));
        }
    }
    if found.ip_failures > 0 {
        throttle::clear(db, &ip_subject).await?;
        cache.update(&cache_key, |f| f.ip_failures = 0);
    }
    if found.last_used_at.is_none_or(|at| at <= now - LAST_USED_INTERVAL_SECS) {
        touch(db, &found.caller, presented.ip, now).await?;
        cache.update(&cache_key, |f| f.last_used_at = Some(now));
    }
    Ok(Ok(found.caller))
}

fn parse_authorization<'a>(presented: &Presented<'a>) -> Result<Secret<'a>, Denied> {
    if presented.duplicate_authorization {
        return Err(Denied::InvalidCredentials("send one Authorization header"));
    }
    let header = presented.authorization.ok_or(Denied::MissingCredentials)?.trim();
    let (scheme, value) = header.split_once(' ').ok_or(Denied::InvalidCredentials("malformed Authorization header"))?;
    let value = value.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return match secret::parse(value) {
            Some(kind @ (SecretKind::ConnectionKey | SecretKind::AccessToken)) => Ok(Secret::Bearer(value, kind)),
            Some(SecretKind::AppPassword) => {
                Err(Denied::InvalidCredentials("send an application password as HTTP Basic"))
            }
            Some(_) => Err(Denied::InvalidCredentials("this token cannot be used on the API")),
            None => Err(Denied::InvalidCredentials("the key is mistyped or incomplete")),
        };
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = STANDARD.decode(value).ok().and_then(|b| String::from_utf8(b).ok());
        let (email, password) = decoded
            .as_deref()
            .and_then(|d| d.split_once(':'))
            .ok_or(Denied::InvalidCredentials("malformed Basic credentials"))?;
        // Only application passwords work here, never a person's sign-in password.
        if secret::parse(password) != Some(SecretKind::AppPassword) {
            return Err(Denied::InvalidCredentials("use an application password, not the sign-in password"));
        }
        return Ok(Secret::Basic { email: email.trim().to_owned(), password: password.to_owned() });
    }
    Err(Denied::InvalidCredentials("the Authorization scheme must be Bearer or Basic"))
}

/// The connection-key timestamp: Unix seconds within the window of the server's clock.
/// Returns the time sent.
pub fn check_timestamp(timestamp: Option<&str>, window_secs: i64, now: i64) -> Result<i64, Denied> {
    let sent: i64 = timestamp
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= 12 && t.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|t| t.parse().ok())
        .ok_or(Denied::TimestampInvalid)?;
    if (sent - now).abs() > window_secs { Err(Denied::TimestampExpired) } else { Ok(sent) }
}

fn well_formed_nonce(nonce: &str) -> bool {
    (8..=64).contains(&nonce.len()) && nonce.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Stores the nonce; false when this credential already used it within the window.
async fn remember_nonce(db: &Db, credential: &str, nonce: &str, expires_at: i64) -> Result<bool, Error> {
    // A nonce whose window has passed may be reused: its row is replaced.
    sqlx::query("DELETE FROM api_nonces WHERE credential = $1 AND nonce = $2 AND expires_at < $3")
        .bind(credential)
        .bind(nonce)
        .bind(now())
        .execute(db.writer())
        .await?;
    let inserted = sqlx::query("INSERT INTO api_nonces (credential, nonce, expires_at) VALUES ($1, $2, $3)")
        .bind(credential)
        .bind(nonce)
        .bind(expires_at)
        .execute(db.writer())
        .await;
    match inserted {
        Ok(_) => Ok(true),
        Err(e) if is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Deletes nonces whose window has passed.
pub async fn delete_expired_nonces(db: &Db) -> Result<u64, Error> {
    let done = sqlx::query("DELETE FROM api_nonces WHERE expires_at < $1").bind(now()).execute(db.writer()).await?;
    Ok(done.rows_affected())
}

#[derive(Clone)]
struct Found {
    caller: Caller,
    revoked: bool,
    last_used_at: Option<i64>,
    ip_failures: i64,
    ip_locked_until: Option<i64>,
}

const USER: &str = "u.id, u.email, u.name, u.role, u.disabled_at, u.created_at";
const THROTTLE: &str = "t.failures AS ip_failures, t.locked_until AS ip_locked_until";

/// The credential with its user and the address's failure count, in one read.
async fn lookup(db: &Db, secret_hash: &str, kind: SecretKind, ip_subject: &str) -> Result<Option<Found>, Error> {
    let sql = match kind {
        SecretKind::AccessToken => format!(
            "SELECT g.id AS credential_id, 'oauth_token' AS kind, cl.name AS label, g.scope, k.expires_at, \
             CAST(CASE WHEN g.revoked_at IS NULL AND cl.revoked_at IS NULL THEN 0 ELSE 1 END AS BIGINT) AS revoked, \
             g.last_used_at, {USER}, {THROTTLE} \
             FROM oauth_tokens k JOIN oauth_grants g ON g.id = k.grant_id JOIN oauth_clients cl ON cl.id = g.client_id \
             JOIN users u ON u.id = g.user_id LEFT JOIN sign_in_throttle t ON t.subject = $2 \
             WHERE k.token_hash = $1 AND k.kind = 'access'"
        ),
        _ => format!(
            "SELECT c.id AS credential_id, c.kind, c.label, c.scope, c.expires_at, \
             CAST(CASE WHEN c.revoked_at IS NULL THEN 0 ELSE 1 END AS BIGINT) AS revoked, c.last_used_at, {USER}, {THROTTLE} \
             FROM api_credentials c JOIN users u ON u.id = c.user_id LEFT JOIN sign_in_throttle t ON t.subject = $2 \
             WHERE c.secret_hash = $1 AND c.kind = $3"
        ),
    };
    let mut query = sqlx::query(AssertSqlSafe(sql)).bind(secret_hash).bind(ip_subject);
    match kind {
        SecretKind::AccessToken => {}
        SecretKind::ConnectionKey => query = query.bind("connection_key"),
        _ => query = query.bind("app_password"),
    }
    let row = query.fetch_optional(db.pool()).await?;
    let Some(row) = row else { return Ok(None) };
    let kind = match row.try_get::<String, _>("kind")?.as_str() {
        "connection_key" => CredentialKind::ConnectionKey,
        "app_password" => CredentialKind::AppPassword,
        _ => CredentialKind::OauthToken,
    };
    Ok(Some(Found {
        caller: Caller {
            user: user_from_row(&row)?,
            kind,
            credential_id: row.try_get("credential_id")?,
            label: row.try_get("label")?,
            scope: row.try_get::<String, _>("scope")?.parse()?,
            expires_at: row.try_get("expires_at")?,
        },
        revoked: row.try_get::<i64, _>("revoked")? != 0,
        last_used_at: row.try_get("last_used_at")?,
        ip_failures: row.try_get::<Option<i64>, _>("ip_failures")?.unwrap_or(0),
        ip_locked_until: row.try_get("ip_locked_until")?,
    }))
}

/// Counts a failed authentication against the address and records it; the failure that
/// reaches the threshold answers `locked_out` at once (the audit log shows the lock
/// starting), and so does every request from the address until the lock ends.
async fn failure(
    db: &Db,
    cache: &CredentialCache,
    settings: &SecuritySettings,
    presented: &Presented<'_>,
    ip_subject: &str,
    caller: Option<&Caller>,
    denied: Denied,
) -> Result<Denied, Error> {
    if let Some(until) = throttle::locked_until(db, &[ip_subject]).await? {
        return Ok(Denied::LockedOut { retry_after_secs: until - now() });
    }
    let locked_until = if denied.counts_toward_lockout() {
        throttle::record_failure(db, ip_subject, settings.lockout_policy()).await?
    } else {
        None
    };
    if locked_until.is_some() {
        cache.forget_address(ip_subject);
    }
    let denied = match locked_until {
        Some(until) => Denied::LockedOut { retry_after_secs: until - now() },
        None => denied,
    };
    let credential = caller.map(Caller::credential_ref);
    audit::record(
        db.writer(),
        &Event {
            actor_user_id: caller.map(|c| c.user.id),
            actor: caller.map_or("unknown", |c| c.user.email.as_str()),
            credential: credential.as_deref(),
            action: "api.authenticate",
            ip: presented.ip,
            user_agent: presented.user_agent,
            outcome: Some(Outcome::Failure),
            details: denied.code(),
            ..Event::default()
        },
    )
    .await?;
    Ok(denied)
}

async fn touch(db: &Db, caller: &Caller, ip: Option<&str>, now: i64) -> Result<(), Error> {
    let table = if caller.kind == CredentialKind::OauthToken { "oauth_grants" } else { "api_credentials" };
    sqlx::query(AssertSqlSafe(format!(
        "UPDATE {table} SET last_used_at = $1, last_used_ip = $2 WHERE id = $3 AND (last_used_at IS NULL OR last_used_at <= $4)"
    )))
    .bind(now)
    .bind(ip)
    .bind(caller.credential_id)
    .bind(now - LAST_USED_INTERVAL_SECS)
    .execute(db.writer())
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_must_be_numbers_within_the_window() {
        let now = 1_800_000_000;
        assert_eq!(check_timestamp(Some("1800000100"), 300, now), Ok(1_800_000_100));
        assert_eq!(check_timestamp(Some("1799999700"), 300, now), Ok(1_799_999_700));
        assert_eq!(check_timestamp(Some("1800000301"), 300, now), Err(Denied::TimestampExpired));
        assert_eq!(check_timestamp(Some("99999999999"), 300, now), Err(Denied::TimestampExpired));
        for bad in [None, Some(""), Some("abc"), Some("-5"), Some("1.5e9"), Some("9999999999999999999999")] {
            assert_eq!(check_timestamp(bad, 300, now), Err(Denied::TimestampInvalid), "{bad:?}");
        }
    }
}
