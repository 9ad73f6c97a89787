//! The master key: 32 bytes from `BACKROOM_MASTER_KEY` (base64), from a key file, or —
//! on first run — generated into `{data_dir}/master.key` with mode 0600. Secrets at rest
//! are encrypted under keys derived from it; server-side HMAC secrets are derived too.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretBox};
use sha2::Sha256;

use crate::{Error, Result, config::Config, db::Db};

pub struct MasterKey(SecretBox<[u8; 32]>);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey([hidden])")
    }
}

/// Where the master key came from.
#[derive(Debug)]
pub enum Origin {
    /// `BACKROOM_MASTER_KEY`, or a key file that was there: named for messages.
    Given(String),
    /// Generated just now into this file: there was none.
    Generated(PathBuf),
}

impl MasterKey {
    /// Loads the key named by the configuration, or creates the default key file.
    ///
    /// Fails when the configured key is not base64 of 32 bytes, when a named key file is
    /// missing, or when the data folder is not writable.
    pub fn load_or_create(config: &Config) -> Result<(MasterKey, Origin)> {
        if let Some(key) = &config.master_key {
            return Ok((parse(key.expose_secret(), &source(config))?, Origin::Given(source(config))));
        }
        let default = default_file(config);
        let path = match &config.master_key_file {
            Some(path) => path,
            None if default.exists() => &default,
            None => {
                let key: [u8; 32] = rand::random();
                // Several processes starting at once on a new data folder: one key wins,
                // and the others read it.
                if write_new_key_file(&default, &STANDARD.encode(key))? {
                    tracing::warn!(
                        path = %default.display(),
                        "generated a new master key; back this file up: without it encrypted settings cannot be read"
                    );
                    return Ok((MasterKey(SecretBox::new(Box::new(key))), Origin::Generated(default)));
                }
                &default
            }
        };
        let source = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::invalid(format!("cannot read the master key file {source}: {e}")))?;
        Ok((parse(&text, &source)?, Origin::Given(source)))
    }

    /// Makes sure this is the key the database's secrets were made with, before anything
    /// uses it. The database keeps a check value derived from the key (which reveals
    /// nothing of it). A different key — or a key generated just now for a database that
    /// holds keys or secrets, as when a backup is restored without its key file — would make
    /// every connection key, app sign-in and saved credential fail one by one; the start
    /// is refused instead, unless `start_anew` says to take this key and lose them.
    pub async fn check(&self, db: &Db, origin: &Origin, start_anew: bool) -> Result<()> {
        let expected = self.check_value();
        let stored: Option<String> =
            sqlx::query_scalar("SELECT master_key_check FROM store_settings WHERE id = 1").fetch_one(db.pool()).await?;
        // A database from before the check was kept has none: a key made just now cannot
        // be its key if anything in it was made with one.
        let made_with_another = match &stored {
            Some(stored) if *stored == expected => None,
            Some(_) => Some(MadeWithTheKey::count(db).await?),
            None if matches!(origin, Origin::Generated(_)) => {
                Some(MadeWithTheKey::count(db).await?).filter(|m| m.any())
            }
            None => None,
        };
        if let Some(made) = made_with_another {
            let lost = made.lost();
            if !start_anew {
                let key = match origin {
                    Origin::Given(source) => {
                        let pending = PathBuf::from(format!("{source}.new"));
                        let hint = if pending.exists() {
                            format!(
                                " (a key rotation stopped half-way: {} is the key this database now needs)",
                                pending.display()
                            )
                        } else {
                            String::new()
                        };
                        format!("the master key from {source}{hint}")
                    }
                    Origin::Generated(path) => {
                        format!("there was no master key, and a new one was made in {}", path.display())
                    }
                };
                return Err(Error::invalid(format!(
                    "{key}, but this database's secrets were made with another key. Put the shop's key back \
                     (the master.key file from the backup, or BACKROOM_MASTER_KEY) and start again. To go on with \
                     this key instead, start with `backroom serve --new-master-key`: {lost}"
                )));
            }
            tracing::warn!("started with a new master key: {lost}");
            return start_anew_with(db, &expected, &lost).await;
        }
        if stored.as_deref() != Some(expected.as_str()) {
            sqlx::query("UPDATE store_settings SET master_key_check = $1 WHERE id = 1")
                .bind(&expected)
                .execute(db.writer())
                .await?;
        }
        Ok(())
    }

    /// What the database keeps to recognise this key: derived from it, revealing nothing.
    fn check_value(&self) -> String {
        STANDARD.encode(self.derive("master-key-check"))
    }

    /// The sealer of stored secrets, with keys derived from this one.
    pub fn sealer(&self) -> crate::sealed::Sealer {
        crate::sealed::Sealer::new(|purpose| self.derive(purpose))
    }

    /// A 32-byte key for one purpose (`"sessions"`, `"connection-keys"`, …), so no two
    /// uses share a key.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        let mut mac =
            <Hmac<Sha256> as KeyInit>::new_from_slice(self.0.expose_secret()).expect("HMAC takes a key of any length");
        mac.update(b"backroom/");
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }

    #[cfg(test)]
    pub(crate) fn for_tests() -> MasterKey {
        MasterKey(SecretBox::new(Box::new([7; 32])))
    }
}

/// What a rotation did.
pub struct Rotated {
    /// Stored secrets sealed again under the new key.
    pub resealed: usize,
    /// Where the previous key was kept (backups made before the rotation need it); `None`
    /// when the key came from `BACKROOM_MASTER_KEY`.
    pub previous_kept: Option<PathBuf>,
    /// The new key, base64, when it came from `BACKROOM_MASTER_KEY`: the operator puts it
    /// there before the next start.
    pub new_key_for_environment: Option<String>,
}

/// Replaces the master key: every stored secret (the store's, the ledger's, WhatsApp's,
/// and the keys API secrets and recovery links are made with) is sealed again under a new
/// key in one transaction, with the database's check value. Connection keys, app
/// sign-ins, sessions and links already sent keep working. Run with every Backroom
/// process stopped (a running one would go on sealing under the old key).
///
/// A key file gets the new key (written beside it first, then renamed over it once the
/// database has committed), and the previous key is kept as `{file}.{time}.old`.
pub async fn rotate(db: &Db, config: &Config) -> Result<Rotated> {
    let (old, origin) = MasterKey::load_or_create(config)?;
    old.check(db, &origin, false).await?;
    let new: [u8; 32] = rand::random();
    let text = STANDARD.encode(new);
    let new = MasterKey(SecretBox::new(Box::new(new)));
    let file = match (&origin, &config.master_key) {
        (_, Some(_)) => None,
        (Origin::Given(path), None) => Some(PathBuf::from(path)),
        (Origin::Generated(path), None) => Some(path.clone()),
    };
    let pending = file.as_ref().map(|file| PathBuf::from(format!("{}.new", file.display())));
    if let Some(pending) = &pending {
        let _ = std::fs::remove_file(pending);
        if !write_new_key_file(pending, &text)? {
            return Err(Error::invalid(format!(
                "{} appeared meanwhile: is another rotation running?",
                pending.display()
            )));
        }
    }
    let mut tx = db.begin().await?;
    let resealed = old.sealer().reseal_all(&mut tx, &new.sealer(), false).await?;
    sqlx::query("UPDATE store_settings SET master_key_check = $1 WHERE id = 1")
        .bind(new.check_value())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    let (Some(file), Some(pending)) = (file, pending) else {
        return Ok(Rotated { resealed, previous_kept: None, new_key_for_environment: Some(text) });
    };
    let kept = PathBuf::from(format!("{}.{}.old", file.display(), crate::clock::now()));
    let moved = |e: std::io::Error| {
        Error::invalid(format!(
            "the database now needs the key in {}, but it could not be moved into place ({e}): move it to {} by hand",
            pending.display(),
            file.display()
        ))
    };
    std::fs::rename(&file, &kept).map_err(moved)?;
    std::fs::rename(&pending, &file).map_err(moved)?;
    Ok(Rotated { resealed, previous_kept: Some(kept), new_key_for_environment: None })
}

/// Where the configuration takes the master key from: the variable, or the file's path.
pub fn source(config: &Config) -> String {
    match (&config.master_key, &config.master_key_file) {
        (Some(_), _) => "BACKROOM_MASTER_KEY".to_owned(),
        (None, Some(file)) => file.display().to_string(),
        (None, None) => default_file(config).display().to_string(),
    }
}

fn default_file(config: &Config) -> PathBuf {
    config.data_dir.join("master.key")
}

/// Takes a new master key for a database whose secrets were sealed under another, in one
/// transaction: the sealed values are emptied (the keys API secrets and recovery links
/// are made with are made again at start), the credentials made under the old key are
/// revoked, two-factor sign-in is off for everyone (their authenticator secrets cannot be
/// read; their recovery codes go with them), the store is marked disconnected, and the
/// event is audited.
async fn start_anew_with(db: &Db, check: &str, lost: &str) -> Result<()> {
    let now = crate::clock::now();
    let mut tx = db.begin().await?;
    crate::sealed::Sealer::forget_all(&mut tx).await?;
    sqlx::query("DELETE FROM two_factor").execute(&mut *tx).await?;
    sqlx::query("DELETE FROM recovery_codes").execute(&mut *tx).await?;
    sqlx::query("UPDATE api_credentials SET revoked_at = $1 WHERE revoked_at IS NULL")
        .bind(now)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE oauth_grants SET revoked_at = $1, revoked_reason = 'the master key was replaced' WHERE revoked_at IS NULL",
    )
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE woo_connection SET state = 'disconnected', last_error = 'the master key was replaced: connect the store again', \
         last_error_at = $1 WHERE id = 1 AND state <> 'disconnected'",
    )
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE store_settings SET master_key_check = $1 WHERE id = 1").bind(check).execute(&mut *tx).await?;
    let event =
        crate::audit::Event { actor: "system", action: "master_key.replaced", details: lost, ..Default::default() };
    crate::audit::record(&mut *tx, &event).await?;
    tx.commit().await?;
    Ok(())
}

/// What a database holds that was made with its master key: connection keys and app
/// passwords, app sign-ins (OAuth), and saved connections' secrets.
struct MadeWithTheKey {
    keys: i64,
    grants: i64,
    saved: i64,
}

impl MadeWithTheKey {
    async fn count(db: &Db) -> Result<MadeWithTheKey> {
        let count = |sql: &'static str| async move { sqlx::query_scalar::<_, i64>(sql).fetch_one(db.pool()).await };
        Ok(MadeWithTheKey {
            keys: count("SELECT COUNT(*) FROM api_credentials WHERE revoked_at IS NULL").await?,
            grants: count("SELECT COUNT(*) FROM oauth_grants WHERE revoked_at IS NULL").await?,
            saved: count(
                "SELECT (SELECT COUNT(*) FROM woo_connection WHERE consumer_secret <> '') \
                 + (SELECT COUNT(*) FROM accounting_settings WHERE api_key_sealed IS NOT NULL) \
                 + (SELECT COUNT(*) FROM whatsapp_settings WHERE access_token_sealed IS NOT NULL OR app_secret_sealed IS NOT NULL)",
            )
            .await?,
        })
    }

    fn any(&self) -> bool {
        self.keys + self.grants + self.saved > 0
    }

    /// What stops working when the key they were made with is replaced.
    fn lost(&self) -> String {
        let MadeWithTheKey { keys, grants, saved } = self;
        format!(
            "{keys} connection keys and app passwords and {grants} signed-in app devices stop working and must be made \
             again, {saved} saved connections (WooCommerce, accounting, WhatsApp) must have their secrets entered again, \
             and recovery links already sent stop opening; panel passwords and all shop data are kept"
        )
    }
}

fn parse(text: &str, source: &str) -> Result<MasterKey> {
    let bytes =
        STANDARD.decode(text.trim()).map_err(|_| Error::invalid(format!("{source}: the master key must be base64")))?;
    let key: [u8; 32] =
        bytes.try_into().map_err(|_| Error::invalid(format!("{source}: the master key must be 32 bytes")))?;
    Ok(MasterKey(SecretBox::new(Box::new(key))))
}

/// Writes a new key file whole (under a temporary name, then linked to its name, which
/// fails if the name exists); false when another process made it first.
fn write_new_key_file(path: &Path, contents: &str) -> Result<bool> {
    let unwritable =
        |e: std::io::Error| Error::invalid(format!("cannot write the master key file {}: {e}", path.display()));
    if let Some(dir) = path.parent() {
        crate::private_files::create_dir(dir).map_err(unwritable)?;
    }
    let partial = PathBuf::from(format!("{}.{}.partial", path.display(), uuid::Uuid::new_v4().simple()));
    let written = crate::private_files::new_file().open(&partial).and_then(|mut file| {
        file.write_all(contents.as_bytes())?;
        file.write_all(b"\n")?;
        file.sync_all()
    });
    let linked = written.and_then(|()| std::fs::hard_link(&partial, path));
    let _ = std::fs::remove_file(&partial);
    match linked {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(unwritable(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_run_writes_a_private_key_file_and_reads_it_back() {
        let dir = std::env::temp_dir().join(format!("backroom-key-{}", uuid::Uuid::new_v4()));
        let config = Config { data_dir: dir.clone(), ..Config::default() };
        let (first, origin) = MasterKey::load_or_create(&config).unwrap();
        assert!(matches!(origin, Origin::Generated(_)));
        let (second, origin) = MasterKey::load_or_create(&config).unwrap();
        assert!(matches!(origin, Origin::Given(_)));
        assert_eq!(first.derive("x"), second.derive("x"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("master.key")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn derived_keys_differ_by_purpose() {
        let key = MasterKey::for_tests();
        assert_ne!(key.derive("sessions"), key.derive("connection-keys"));
    }

    #[test]
    fn a_short_key_is_refused() {
        let config = Config { master_key: Some("c2hvcnQ=".into()), ..Config::default() };
        let e = MasterKey::load_or_create(&config).unwrap_err();
        assert!(e.to_string().contains("32 bytes"), "{e}");
    }
}
