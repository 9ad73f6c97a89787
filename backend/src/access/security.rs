//! The settings the API's guards follow: HTTPS enforcement, the IP allowlist, trusted
//! proxies, the timestamp window, rate limits, the lockout threshold, audit retention and
//! dev mode. Read on every API request, so each instance keeps them in memory and
//! rereads them every few seconds: a change made on one instance reaches the others
//! within [`REFRESH_INTERVAL`].

use std::{
    net::IpAddr,
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::{
    Error, Result,
    audit::{self, Event},
    clock::now,
    db::Db,
    throttle,
    users::User,
};

pub const REFRESH_INTERVAL: Duration = Duration::from_secs(5);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecuritySettings {
    /// Refuse plain HTTP except from loopback or behind a trusted proxy that says https.
    pub https_required: bool,
    /// Empty: every address may use the API.
    pub ip_allowlist: Vec<IpNet>,
    /// Added to `BACKROOM_TRUSTED_PROXIES`.
    pub trusted_proxies: Vec<IpNet>,
    pub timestamp_window_secs: i64,
    /// Requests per minute.
    pub rate_per_credential: i64,
    pub rate_per_ip: i64,
    /// Failed authentications from one IP within the window before it is locked out
    /// for the window.
    pub lockout_failures: i64,
    pub lockout_window_secs: i64,
    pub audit_retention_days: i64,
    /// Allows development-only OAuth redirect URIs such as `exp://`.
    pub dev_mode: bool,
    /// Owners sign in to the panel with a code from their authenticator app too; an owner
    /// without one sets it up before anything else.
    #[serde(default)]
    pub owners_two_factor: bool,
}

impl Default for SecuritySettings {
    fn default() -> Self {
        SecuritySettings {
            https_required: true,
            ip_allowlist: Vec::new(),
            trusted_proxies: Vec::new(),
            timestamp_window_secs: 300,
            rate_per_credential: 120,
            rate_per_ip: 600,
            lockout_failures: 20,
            lockout_window_secs: 600,
            audit_retention_days: 365,
            dev_mode: false,
            owners_two_factor: false,
        }
    }
}

impl SecuritySettings {
    pub fn ip_allowed(&self, ip: IpAddr) -> bool {
        self.ip_allowlist.is_empty() || self.ip_allowlist.iter().any(|net| net.contains(&ip))
    }

    pub fn lockout_policy(&self) -> throttle::Policy {
        throttle::Policy {
            max_failures: self.lockout_failures,
            window_secs: self.lockout_window_secs,
            lockout_secs: self.lockout_window_secs,
        }
    }

    fn check(&self) -> Result<()> {
        let within = |value: i64, low: i64, high: i64, what: &str| {
            if (low..=high).contains(&value) {
                Ok(())
            } else {
                Err(Error::invalid(format!("{what} must be between {low} and {high}")))
            }
        };
        within(self.timestamp_window_secs, 30, 3600, "the timestamp window (seconds)")?;
        within(self.rate_per_credential, 1, 1_000_000, "the rate limit per credential (requests per minute)")?;
        within(self.rate_per_ip, 1, 1_000_000, "the rate limit per IP (requests per minute)")?;
        within(self.lockout_failures, 3, 100_000, "the failed authentications before a lockout")?;
        within(self.lockout_window_secs, 60, 86_400, "the lockout window (seconds)")?;
        within(self.audit_retention_days, 30, 3650, "the audit log retention (days)")?;
        if self.ip_allowlist.len() > 200 || self.trusted_proxies.len() > 50 {
            return Err(Error::invalid("at most 200 allowlist entries and 50 trusted proxies"));
        }
        Ok(())
    }
}

/// Parses a list of CIDRs (one per line or comma-separated; a bare address is a /32 or
/// /128), naming the first entry that does not parse.
pub fn parse_networks(text: &str, what: &str) -> Result<Vec<IpNet>> {
    text.split(['\n', ','])
        .map(str::trim)
        .filter(|entry| !entry.is_empty() && !entry.starts_with('#'))
        .map(|entry| {
            entry.parse::<IpNet>().or_else(|_| entry.parse::<IpAddr>().map(IpNet::from)).map(|net| net.trunc()).map_err(
                |_| {
                    Error::invalid(format!(
                        "{what}: \"{}\" is not an address or a CIDR such as 203.0.113.0/24",
                        entry.chars().take(60).collect::<String>()
                    ))
                },
            )
        })
        .collect()
}

pub fn format_networks(networks: &[IpNet]) -> String {
    networks.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
}

pub async fn get(db: &Db) -> Result<SecuritySettings> {
    let row = sqlx::query(
        "SELECT https_required, ip_allowlist, trusted_proxies, timestamp_window_secs, rate_per_credential, rate_per_ip, \
         lockout_failures, lockout_window_secs, audit_retention_days, dev_mode, owners_two_factor \
         FROM security_settings WHERE id = 1",
    )
    .fetch_one(db.pool())
    .await?;
    // Stored lists were validated on save; an entry that fails now is left out rather
    // than locking everyone out.
    let networks = |column: &str| -> Result<Vec<IpNet>> {
        let text: String = row.try_get(column)?;
        Ok(text.lines().filter_map(|l| l.trim().parse().ok()).collect())
    };
    Ok(SecuritySettings {
        https_required: row.try_get::<i64, _>("https_required")? != 0,
        ip_allowlist: networks("ip_allowlist")?,
        trusted_proxies: networks("trusted_proxies")?,
        timestamp_window_secs: row.try_get("timestamp_window_secs")?,
        rate_per_credential: row.try_get("rate_per_credential")?,
        rate_per_ip: row.try_get("rate_per_ip")?,
        lockout_failures: row.try_get("lockout_failures")?,
        lockout_window_secs: row.try_get("lockout_window_secs")?,
        audit_retention_days: row.try_get("audit_retention_days")?,
        dev_mode: row.try_get::<i64, _>("dev_mode")? != 0,
        owners_two_factor: row.try_get::<i64, _>("owners_two_factor")? != 0,
    })
}

/// Saves new settings (checked first), recording what changed in the audit log.
pub async fn update(db: &Db, actor: &User, ip: Option<&str>, new: SecuritySettings) -> Result<SecuritySettings> {
    new.check()?;
    let old = get(db).await?;
    let mut tx = db.begin().await?;
    sqlx::query(
        "UPDATE security_settings SET https_required = $1, ip_allowlist = $2, trusted_proxies = $3, \
         timestamp_window_secs = $4, rate_per_credential = $5, rate_per_ip = $6, lockout_failures = $7, \
         lockout_window_secs = $8, audit_retention_days = $9, dev_mode = $10, owners_two_factor = $11, updated_at = $12 \
         WHERE id = 1",
    )
    .bind(i64::from(new.https_required))
    .bind(format_networks(&new.ip_allowlist))
    .bind(format_networks(&new.trusted_proxies))
    .bind(new.timestamp_window_secs)
    .bind(new.rate_per_credential)
    .bind(new.rate_per_ip)
    .bind(new.lockout_failures)
    .bind(new.lockout_window_secs)
    .bind(new.audit_retention_days)
    .bind(i64::from(new.dev_mode))
    .bind(i64::from(new.owners_two_factor))
    .bind(now())
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut *tx,
        &Event {
            actor_user_id: Some(actor.id),
            actor: &actor.email,
            action: "security.update",
            target: "security_settings",
            ip,
            details: &changes(&old, &new),
            ..Event::default()
        },
    )
    .await?;
    tx.commit().await?;
    Ok(new)
}

/// "field: old → new" for each changed field.
fn changes(old: &SecuritySettings, new: &SecuritySettings) -> String {
    let (old, new) = (serde_json::to_value(old).unwrap_or_default(), serde_json::to_value(new).unwrap_or_default());
    let (Some(old), Some(new)) = (old.as_object(), new.as_object()) else { return String::new() };
    new.iter()
        .filter(|(k, v)| old.get(*k) != Some(v))
        .map(|(k, v)| format!("{k}: {} → {v}", old.get(k).cloned().unwrap_or_default()))
        .collect::<Vec<_>>()
        .join("; ")
}

/// This instance's copy of the settings.
pub struct SecurityCache {
    db: Db,
    current: RwLock<(Instant, Arc<SecuritySettings>)>,
}

impl SecurityCache {
    pub async fn load(db: Db) -> Result<Arc<SecurityCache>> {
        let settings = get(&db).await?;
        Ok(Arc::new(SecurityCache { db, current: RwLock::new((Instant::now(), Arc::new(settings))) }))
    }

    /// The settings, reread from the database when the copy is older than
    /// [`REFRESH_INTERVAL`]; if the database cannot be read, the last copy.
    pub async fn get(&self) -> Arc<SecuritySettings> {
        let (read_at, settings) = {
            let current = self.current.read().unwrap_or_else(|e| e.into_inner());
            (current.0, current.1.clone())
        };
        if read_at.elapsed() < REFRESH_INTERVAL {
            return settings;
        }
        // Whoever comes first after the interval refreshes; the others keep the old copy.
        self.current.write().unwrap_or_else(|e| e.into_inner()).0 = Instant::now();
        match get(&self.db).await {
            Ok(fresh) => {
                let fresh = Arc::new(fresh);
                *self.current.write().unwrap_or_else(|e| e.into_inner()) = (Instant::now(), fresh.clone());
                fresh
            }
            Err(e) => {
                tracing::warn!(error = %e.report(), "could not reread the security settings; keeping the last ones");
                settings
            }
        }
    }

    /// The copy as it is, without touching the database (for synchronous callers).
    pub fn cached(&self) -> Arc<SecuritySettings> {
        self.current.read().unwrap_or_else(|e| e.into_inner()).1.clone()
    }

    /// Takes settings just saved on this instance at once.
    pub fn set(&self, settings: SecuritySettings) {
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = (Instant::now(), Arc::new(settings));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_parse_with_the_bad_entry_named() {
        let nets = parse_networks("10.0.0.0/8\n 203.0.113.7 , ::1\n# office\n", "IP allowlist").unwrap();
        assert_eq!(format_networks(&nets), "10.0.0.0/8\n203.0.113.7/32\n::1/128");
        let e = parse_networks("10.0.0.0/8\n10.0.0/8", "IP allowlist").unwrap_err();
        assert!(e.to_string().contains("\"10.0.0/8\" is not"), "{e}");
    }

    #[test]
    fn an_empty_allowlist_allows_everyone() {
        let mut s = SecuritySettings::default();
        assert!(s.ip_allowed("198.51.100.1".parse().unwrap()));
        s.ip_allowlist = parse_networks("10.0.0.0/8", "x").unwrap();
        assert!(s.ip_allowed("10.1.2.3".parse().unwrap()));
        assert!(!s.ip_allowed("198.51.100.1".parse().unwrap()));
    }
}
