//! The master key: 32 bytes from `BACKROOM_MASTER_KEY` (base64), from a key file, or —
//! on first run — generated into `{data_dir}/master.key` with mode 0600. Secrets at rest
//! are encrypted under keys derived from it; server-side HMAC secrets are derived too.

use std::{io::Write, path::Path};

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretBox};
use sha2::Sha256;

use crate::{Error, Result, config::Config};

pub struct MasterKey(SecretBox<[u8; 32]>);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey([hidden])")
    }
}

impl MasterKey {
    /// Loads the key named by the configuration, or creates the default key file.
    ///
    /// Fails when the configured key is not base64 of 32 bytes, when a named key file is
    /// missing, or when the data folder is not writable.
    pub fn load_or_create(config: &Config) -> Result<MasterKey> {
        if let Some(key) = &config.master_key {
            return parse(key.expose_secret(), "BACKROOM_MASTER_KEY");
        }
        if let Some(path) = &config.master_key_file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Error::invalid(format!("cannot read the master key file {}: {e}", path.display())))?;
            return parse(&text, &path.display().to_string());
        }
        let path = config.data_dir.join("master.key");
        if path.exists() {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| Error::invalid(format!("cannot read the master key file {}: {e}", path.display())))?;
            return parse(&text, &path.display().to_string());
        }
        let key: [u8; 32] = rand::random();
        write_new_key_file(&path, &STANDARD.encode(key))?;
        tracing::warn!(
            path = %path.display(),
            "generated a new master key; back this file up: without it encrypted settings cannot be read"
        );
        Ok(MasterKey(SecretBox::new(Box::new(key))))
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

fn parse(text: &str, source: &str) -> Result<MasterKey> {
    let bytes =
        STANDARD.decode(text.trim()).map_err(|_| Error::invalid(format!("{source}: the master key must be base64")))?;
    let key: [u8; 32] =
        bytes.try_into().map_err(|_| Error::invalid(format!("{source}: the master key must be 32 bytes")))?;
    Ok(MasterKey(SecretBox::new(Box::new(key))))
}

fn write_new_key_file(path: &Path, contents: &str) -> Result<()> {
    let unwritable =
        |e: std::io::Error| Error::invalid(format!("cannot write the master key file {}: {e}", path.display()));
    if let Some(dir) = path.parent() {
        crate::private_files::create_dir(dir).map_err(unwritable)?;
    }
    let mut file = crate::private_files::new_file().open(path).map_err(unwritable)?;
    file.write_all(contents.as_bytes()).map_err(unwritable)?;
    file.write_all(b"\n").map_err(unwritable)?;
    file.sync_all().map_err(unwritable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_run_writes_a_private_key_file_and_reads_it_back() {
        let dir = std::env::temp_dir().join(format!("backroom-key-{}", uuid::Uuid::new_v4()));
        let config = Config { data_dir: dir.clone(), ..Config::default() };
        let first = MasterKey::load_or_create(&config).unwrap();
        let second = MasterKey::load_or_create(&config).unwrap();
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
