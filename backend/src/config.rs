//! Backroom's configuration: built-in defaults, then an optional TOML file, then the
//! `BACKROOM_*` environment (env wins). One typed struct whose `Debug` hides secrets.

use std::{collections::HashMap, net::SocketAddr, path::PathBuf, time::Duration};

use ipnet::IpNet;
use secrecy::SecretString;
use serde::Deserialize;

use crate::{Error, Result};

#[derive(Clone)]
pub struct Config {
    /// Where the HTTP server listens.
    pub addr: SocketAddr,
    /// `sqlite://…` or `postgres://…`; by default `sqlite://{data_dir}/backroom.db`.
    pub database_url: SecretString,
    /// The URL customers and the mobile app see, when it differs from `http://{addr}`.
    pub public_url: Option<String>,
    /// Base64 of 32 bytes; takes precedence over `master_key_file`.
    pub master_key: Option<SecretString>,
    pub master_key_file: Option<PathBuf>,
    /// Unset: emails are written to `{data_dir}/outbox/` as `.eml` files.
    pub smtp_url: Option<SecretString>,
    /// Peers whose `X-Forwarded-For` / `X-Forwarded-Proto` are believed.
    pub trusted_proxies: Vec<IpNet>,
    /// A `tracing` filter such as `info` or `backroom=debug,sqlx=warn`.
    pub log: String,
    /// Where the SQLite file (by default), the generated master key and the mail outbox live.
    pub data_dir: PathBuf,
    pub session_idle_timeout: Duration,
    pub session_absolute_timeout: Duration,
    /// How many background job workers this process runs (0 disables them).
    pub job_workers: usize,
    /// How many documents this process sends to the ledger at once (its own workers,
    /// besides `job_workers`; 0 sends none).
    pub accounting_concurrency: usize,
    /// How long a request to the ledger may take before it counts as timed out.
    pub accounting_timeout: Duration,
    /// How many WhatsApp messages this process sends at once (its own workers).
    pub whatsapp_concurrency: usize,
    /// How long a request to Meta's Graph API may take.
    pub whatsapp_timeout: Duration,
    /// How long a request to the WooCommerce store may take.
    pub woo_timeout: Duration,
    /// Lets the recovery delays go under ten minutes: for test and staging shops only.
    pub whatsapp_short_delays: bool,
    /// Start with this master key even though the database's secrets were made with
    /// another, losing them. Only from the command line (`serve --new-master-key`), never
    /// from the environment or a file, where it would stay set.
    pub new_master_key: bool,
    /// Unset: no `/metrics`. Set: `/metrics` answers to `Authorization: Bearer {token}`.
    pub metrics_token: Option<SecretString>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |s: &Option<SecretString>| s.as_ref().map(|_| "[hidden]");
        f.debug_struct("Config")
            .field("addr", &self.addr)
            .field("database", &describe_url(secrecy::ExposeSecret::expose_secret(&self.database_url)))
            .field("public_url", &self.public_url)
            .field("master_key", &hidden(&self.master_key))
            .field("master_key_file", &self.master_key_file)
            .field("smtp_url", &hidden(&self.smtp_url))
            .field("trusted_proxies", &self.trusted_proxies)
            .field("log", &self.log)
            .field("data_dir", &self.data_dir)
            .field("session_idle_timeout", &self.session_idle_timeout)
            .field("session_absolute_timeout", &self.session_absolute_timeout)
            .field("job_workers", &self.job_workers)
            .field("accounting_concurrency", &self.accounting_concurrency)
            .field("accounting_timeout", &self.accounting_timeout)
            .field("whatsapp_concurrency", &self.whatsapp_concurrency)
            .field("whatsapp_timeout", &self.whatsapp_timeout)
            .field("woo_timeout", &self.woo_timeout)
            .field("whatsapp_short_delays", &self.whatsapp_short_delays)
            .field("new_master_key", &self.new_master_key)
            .field("metrics_token", &hidden(&self.metrics_token))
            .finish()
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            database_url: SecretString::from("sqlite://data/backroom.db"),
            public_url: None,
            master_key: None,
            master_key_file: None,
            smtp_url: None,
            trusted_proxies: Vec::new(),
            log: "info".into(),
            data_dir: PathBuf::from("data"),
            session_idle_timeout: Duration::from_secs(2 * 3600),
            session_absolute_timeout: Duration::from_secs(7 * 24 * 3600),
            job_workers: 2,
            accounting_concurrency: 8,
            accounting_timeout: Duration::from_secs(20),
            whatsapp_concurrency: 8,
            whatsapp_timeout: Duration::from_secs(10),
            woo_timeout: Duration::from_secs(60),
            whatsapp_short_delays: false,
            new_master_key: false,
            metrics_token: None,
        }
    }
}

/// The keys a config file may set; each matches a `BACKROOM_*` variable.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Layer {
    addr: Option<String>,
    database_url: Option<String>,
    public_url: Option<String>,
    master_key: Option<String>,
    master_key_file: Option<String>,
    smtp_url: Option<String>,
    trusted_proxies: Option<String>,
    log: Option<String>,
    data_dir: Option<String>,
    session_idle_minutes: Option<String>,
    session_absolute_days: Option<String>,
    job_workers: Option<String>,
    accounting_concurrency: Option<String>,
    accounting_timeout_secs: Option<String>,
    whatsapp_concurrency: Option<String>,
    whatsapp_timeout_secs: Option<String>,
    woo_timeout_secs: Option<String>,
    whatsapp_short_delays: Option<String>,
    metrics_token: Option<String>,
}

impl Config {
    /// Loads defaults, then the file named by `BACKROOM_CONFIG` (or `backroom.toml` in the
    /// working directory, if present), then the process environment.
    ///
    /// Fails with a message naming the key when a value cannot be parsed.
    pub fn load() -> Result<Config> {
        let env: HashMap<String, String> = std::env::vars().collect();
        Self::load_from(&env)
    }

    /// As [`Config::load`], reading the environment from `env` (for tests).
    pub fn load_from(env: &HashMap<String, String>) -> Result<Config> {
        let file_path = env.get("BACKROOM_CONFIG").map(PathBuf::from).or_else(|| {
            let default = PathBuf::from("backroom.toml");
            default.exists().then_some(default)
        });
        let file_layer = match file_path {
            Some(path) => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| Error::invalid(format!("cannot read config file {}: {e}", path.display())))?;
                toml::from_str::<Layer>(&text)
                    .map_err(|e| Error::invalid(format!("config file {}: {e}", path.display())))?
            }
            None => Layer::default(),
        };
        let mut config = Config::default();
        let env_layer = env_layer(env);
        let database_named = file_layer.database_url.is_some() || env_layer.database_url.is_some();
        config.apply(file_layer)?;
        config.apply(env_layer)?;
        if !database_named {
            config.database_url =
                SecretString::from(format!("sqlite://{}", config.data_dir.join("backroom.db").display()));
        }
        Ok(config)
    }

    fn apply(&mut self, layer: Layer) -> Result<()> {
        if let Some(v) = layer.addr {
            self.addr = v.parse().map_err(|_| invalid_value("addr", "an address such as 127.0.0.1:3000"))?;
        }
        if let Some(v) = layer.database_url {
            self.database_url = SecretString::from(v);
        }
        if let Some(v) = layer.public_url {
            self.public_url = non_empty(v).map(|v| v.trim_end_matches('/').to_owned());
        }
        if let Some(v) = layer.master_key {
            self.master_key = non_empty(v).map(SecretString::from);
        }
        if let Some(v) = layer.master_key_file {
            self.master_key_file = non_empty(v).map(PathBuf::from);
        }
        if let Some(v) = layer.smtp_url {
            self.smtp_url = non_empty(v).map(SecretString::from);
        }
        if let Some(v) = layer.trusted_proxies {
            self.trusted_proxies = v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    s.parse::<IpNet>()
                        .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
                        .map_err(|_| invalid_value("trusted_proxies", "comma-separated CIDRs such as 10.0.0.0/8"))
                })
                .collect::<Result<_>>()?;
        }
        if let Some(v) = layer.log {
            self.log = v;
        }
        if let Some(v) = layer.data_dir {
            self.data_dir = PathBuf::from(v);
        }
        if let Some(v) = layer.session_idle_minutes {
            let minutes: u64 = parse_positive(&v, "session_idle_minutes")?;
            self.session_idle_timeout = Duration::from_secs(minutes * 60);
        }
        if let Some(v) = layer.session_absolute_days {
            let days: u64 = parse_positive(&v, "session_absolute_days")?;
            self.session_absolute_timeout = Duration::from_secs(days * 24 * 3600);
        }
        if let Some(v) = layer.job_workers {
            self.job_workers = v.trim().parse().map_err(|_| invalid_value("job_workers", "a whole number"))?;
        }
        if let Some(v) = layer.accounting_concurrency {
            self.accounting_concurrency = match v.trim().parse() {
                Ok(n) if n <= 64 => n,
                _ => return Err(invalid_value("accounting_concurrency", "a whole number up to 64")),
            };
        }
        if let Some(v) = layer.accounting_timeout_secs {
            self.accounting_timeout = Duration::from_secs(parse_positive(&v, "accounting_timeout_secs")?);
        }
        if let Some(v) = layer.whatsapp_concurrency {
            self.whatsapp_concurrency = match v.trim().parse() {
                Ok(n) if n <= 64 => n,
                _ => return Err(invalid_value("whatsapp_concurrency", "a whole number up to 64")),
            };
        }
        if let Some(v) = layer.whatsapp_timeout_secs {
            self.whatsapp_timeout = Duration::from_secs(parse_positive(&v, "whatsapp_timeout_secs")?);
        }
        if let Some(v) = layer.woo_timeout_secs {
            self.woo_timeout = Duration::from_secs(parse_positive(&v, "woo_timeout_secs")?);
        }
        if let Some(v) = layer.metrics_token {
            self.metrics_token = match non_empty(v) {
                Some(token) if token.len() >= 16 => Some(SecretString::from(token)),
                Some(_) => return Err(invalid_value("metrics_token", "at least 16 characters")),
                None => None,
            };
        }
        if let Some(v) = layer.whatsapp_short_delays {
            self.whatsapp_short_delays = match v.trim() {
                "true" | "1" | "yes" => true,
                "false" | "0" | "no" | "" => false,
                _ => return Err(invalid_value("whatsapp_short_delays", "true or false")),
            };
        }
        Ok(())
    }

    /// The URL people and apps reach this server at, without a trailing slash.
    pub fn base_url(&self) -> String {
        self.public_url.clone().unwrap_or_else(|| format!("http://{}", self.addr))
    }
}

fn env_layer(env: &HashMap<String, String>) -> Layer {
    let get = |key: &str| env.get(&format!("BACKROOM_{}", key.to_ascii_uppercase())).cloned();
    Layer {
        addr: get("addr"),
        database_url: get("database_url"),
        public_url: get("public_url"),
        master_key: get("master_key"),
        master_key_file: get("master_key_file"),
        smtp_url: get("smtp_url"),
        trusted_proxies: get("trusted_proxies"),
        log: get("log"),
        data_dir: get("data_dir"),
        session_idle_minutes: get("session_idle_minutes"),
        session_absolute_days: get("session_absolute_days"),
        job_workers: get("job_workers"),
        accounting_concurrency: get("accounting_concurrency"),
        accounting_timeout_secs: get("accounting_timeout_secs"),
        whatsapp_concurrency: get("whatsapp_concurrency"),
        whatsapp_timeout_secs: get("whatsapp_timeout_secs"),
        woo_timeout_secs: get("woo_timeout_secs"),
        whatsapp_short_delays: get("whatsapp_short_delays"),
        metrics_token: get("metrics_token"),
    }
}

fn non_empty(v: String) -> Option<String> {
    let v = v.trim().to_owned();
    (!v.is_empty()).then_some(v)
}

fn parse_positive(v: &str, key: &str) -> Result<u64> {
    match v.trim().parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(invalid_value(key, "a whole number above zero")),
    }
}

fn invalid_value(key: &str, expected: &str) -> Error {
    Error::invalid(format!("BACKROOM_{}: expected {expected}", key.to_ascii_uppercase()))
}

/// The database URL without its password, fit for logs and error messages.
pub fn describe_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, tail) = match rest.find('/') {
                Some(i) => rest.split_at(i),
                None => (rest, ""),
            };
            let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
            let tail = tail.split_once('?').map_or(tail, |(path, _)| path);
            format!("{scheme}://{host}{tail}")
        }
        None => "(unrecognised URL)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn described_urls_hide_passwords_and_options() {
        assert_eq!(
            describe_url("postgres://shop:hunter2@db:5432/backroom?sslmode=require"),
            "postgres://db:5432/backroom"
        );
        assert_eq!(describe_url("sqlite://data/backroom.db"), "sqlite://data/backroom.db");
    }

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn environment_overrides_defaults() {
        let c = Config::load_from(&env(&[
            ("BACKROOM_ADDR", "0.0.0.0:8080"),
            ("BACKROOM_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1"),
            ("BACKROOM_SESSION_IDLE_MINUTES", "30"),
        ]))
        .unwrap();
        assert_eq!(c.addr.port(), 8080);
        assert_eq!(c.trusted_proxies.len(), 2);
        assert_eq!(c.session_idle_timeout, Duration::from_secs(1800));
    }

    #[test]
    fn debug_output_hides_secrets() {
        let c = Config::load_from(&env(&[
            ("BACKROOM_MASTER_KEY", "c2VjcmV0LXNlY3JldC1zZWNyZXQ="),
            ("BACKROOM_DATABASE_URL", "postgres://shop:hunter2@db.internal/shop"),
            ("BACKROOM_SMTP_URL", "smtps://mail:pa55word@mail.example"),
        ]))
        .unwrap();
        let printed = format!("{c:?}");
        for secret in ["c2VjcmV0", "hunter2", "pa55word"] {
            assert!(!printed.contains(secret), "{printed}");
        }
    }

    #[test]
    fn the_default_database_lives_in_the_data_folder() {
        use secrecy::ExposeSecret;
        let c = Config::load_from(&env(&[("BACKROOM_DATA_DIR", "/var/lib/backroom")])).unwrap();
        assert_eq!(c.database_url.expose_secret(), "sqlite:///var/lib/backroom/backroom.db");
        let c = Config::load_from(&env(&[])).unwrap();
        assert_eq!(c.database_url.expose_secret(), "sqlite://data/backroom.db");
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        let e = Config::load_from(&env(&[("BACKROOM_ADDR", "not an address")])).unwrap_err();
        assert!(e.to_string().contains("BACKROOM_ADDR"), "{e}");
    }
}
