//! Secrets at rest — the accounting API key now, WhatsApp's token and app secret later:
//! AES-256-GCM under a key derived from the master key, stored as
//! `v{version}:` + base64(nonce | ciphertext | tag). The version names the key, so a new
//! one can be introduced while values sealed under the old one are still read, then
//! sealed again. A value is opened only where it is used, never shown again in full.

use std::sync::Arc;

use aes_gcm::{
    Aes256Gcm, Key,
    aead::{Aead, KeyInit, Nonce},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use secrecy::SecretString;

use crate::{Error, Result, master_key::MasterKey};

/// The key version new values are sealed under.
const CURRENT_VERSION: u32 = 1;
const NONCE_LEN: usize = 12;

/// Seals and opens secrets; cheap to clone.
#[derive(Clone)]
pub struct Sealer {
    keys: Arc<Vec<(u32, Aes256Gcm)>>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer([keys hidden])")
    }
}

impl Sealer {
    pub fn new(master: &MasterKey) -> Sealer {
        let keys = (1..=CURRENT_VERSION)
            .map(|version| {
                let key = master.derive(&format!("sealed-secrets/v{version}"));
                (version, Aes256Gcm::new(&Key::<Aes256Gcm>::from(key)))
            })
            .collect();
        Sealer { keys: Arc::new(keys) }
    }

    /// Encrypts `plaintext` under the current key with a fresh random nonce.
    pub fn seal(&self, plaintext: &str) -> String {
        let (version, cipher) = self.keys.last().expect("at least one key version");
        let nonce: [u8; NONCE_LEN] = rand::random();
        let sealed = cipher
            .encrypt(&Nonce::<Aes256Gcm>::from(nonce), plaintext.as_bytes())
            .expect("AES-GCM encrypts any input shorter than 64 GiB");
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!("v{version}:{}", STANDARD.encode(bytes))
    }

    /// Decrypts a value [`Sealer::seal`] made. Fails when it was sealed under another
    /// master key, or altered.
    pub fn open(&self, sealed: &str) -> Result<SecretString> {
        let unreadable = || {
            Error::invalid(
                "a stored secret cannot be decrypted: the master key changed, or the value was altered; enter it again",
            )
        };
        let (version, data) = sealed.split_once(':').ok_or_else(unreadable)?;
        let version: u32 = version.strip_prefix('v').and_then(|v| v.parse().ok()).ok_or_else(unreadable)?;
        let (_, cipher) = self.keys.iter().find(|(v, _)| *v == version).ok_or_else(unreadable)?;
        let bytes = STANDARD.decode(data).map_err(|_| unreadable())?;
        if bytes.len() < NONCE_LEN {
            return Err(unreadable());
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::<Aes256Gcm>::try_from(nonce).map_err(|_| unreadable())?;
        let plain = cipher.decrypt(&nonce, ciphertext).map_err(|_| unreadable())?;
        String::from_utf8(plain).map(SecretString::from).map_err(|_| unreadable())
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn a_sealed_value_opens_and_is_not_readable() {
        let sealer = Sealer::new(&MasterKey::for_tests());
        let sealed = sealer.seal("cari-api-key-şifre");
        assert!(sealed.starts_with("v1:"));
        assert!(!sealed.contains("cari"));
        assert_eq!(sealer.open(&sealed).unwrap().expose_secret(), "cari-api-key-şifre");
        assert_ne!(sealer.seal("same"), sealer.seal("same"), "a fresh nonce each time");
    }

    #[test]
    fn an_altered_value_is_refused() {
        let sealer = Sealer::new(&MasterKey::for_tests());
        let sealed = sealer.seal("secret");
        let mut bytes = STANDARD.decode(&sealed[3..]).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert!(sealer.open(&format!("v1:{}", STANDARD.encode(bytes))).is_err());
        assert!(sealer.open("v9:AAAA").is_err());
        assert!(sealer.open("garbage").is_err());
    }
}
