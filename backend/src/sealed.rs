//! Secrets at rest — the store's consumer and webhook secrets, the ledger's API key,
//! WhatsApp's token and app secret, and the keys that sign API secrets and recovery
//! links: AES-256-GCM under a key derived from the master key, stored as
//! `v{version}b:` + base64(nonce | ciphertext | tag). The version names the key, so a new
//! one can be introduced while values sealed under the old one are still read, then
//! sealed again. Each value is bound to its place (AES-GCM's associated data names the
//! table and column), so a sealed value copied into another place does not open. A value
//! is opened only where it is used, never shown again in full.
//!
//! Values sealed before places were bound (`v1:`) are sealed again, bound, when the
//! server starts ([`Sealer::bind_all`]).

use std::sync::Arc;

use aes_gcm::{
    Aes256Gcm, Key,
    aead::{Aead, KeyInit, Nonce, Payload},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use secrecy::{ExposeSecret, SecretString};
use sqlx::{AssertSqlSafe, Row};

use crate::{Error, Result, db::Db};

/// The key version new values are sealed under.
const CURRENT_VERSION: u32 = 1;
const NONCE_LEN: usize = 12;

/// Where a sealed value lives; each of these tables has one row, but `two_factor`, which
/// has one a person.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    WooConsumerSecret,
    WooWebhookSecret,
    AccountingApiKey,
    WhatsAppAccessToken,
    WhatsAppAppSecret,
    /// The key API secrets are hashed with ([`crate::access::secret::SecretHasher`]).
    ApiSecretsKey,
    /// The key recovery links are signed with ([`crate::whatsapp::link::Signer`]).
    RecoveryLinksKey,
    /// A person's authenticator secret ([`crate::two_factor`]); one row a person.
    TwoFactorSecret,
}

impl Place {
    pub const ALL: [Place; 8] = [
        Place::WooConsumerSecret,
        Place::WooWebhookSecret,
        Place::AccountingApiKey,
        Place::WhatsAppAccessToken,
        Place::WhatsAppAppSecret,
        Place::ApiSecretsKey,
        Place::RecoveryLinksKey,
        Place::TwoFactorSecret,
    ];

    /// The table and column that hold it.
    pub fn column(self) -> (&'static str, &'static str) {
        match self {
            Place::WooConsumerSecret => ("woo_connection", "consumer_secret"),
            Place::WooWebhookSecret => ("woo_connection", "webhook_secret"),
            Place::AccountingApiKey => ("accounting_settings", "api_key_sealed"),
            Place::WhatsAppAccessToken => ("whatsapp_settings", "access_token_sealed"),
            Place::WhatsAppAppSecret => ("whatsapp_settings", "app_secret_sealed"),
            Place::ApiSecretsKey => ("store_settings", "api_secrets_key"),
            Place::RecoveryLinksKey => ("store_settings", "recovery_links_key"),
            Place::TwoFactorSecret => ("two_factor", "secret_sealed"),
        }
    }

    /// What the column holds when nothing is stored.
    fn empty(self) -> &'static str {
        match self {
            Place::WooConsumerSecret | Place::WooWebhookSecret => "''",
            _ => "NULL",
        }
    }

    fn associated_data(self) -> String {
        let (table, column) = self.column();
        format!("backroom/{table}.{column}")
    }
}

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

fn unreadable() -> Error {
    Error::invalid(
        "a stored secret cannot be decrypted: the master key changed, or the value was altered or moved; enter it again",
    )
}

impl Sealer {
    /// A sealer with the keys `derive` makes for each version's purpose
    /// (`sealed-secrets/v1`); [`crate::master_key::MasterKey::sealer`] derives them from
    /// the master key.
    pub fn new(derive: impl Fn(&str) -> [u8; 32]) -> Sealer {
        let keys = (1..=CURRENT_VERSION)
            .map(|version| {
                let key = derive(&format!("sealed-secrets/v{version}"));
                (version, Aes256Gcm::new(&Key::<Aes256Gcm>::from(key)))
            })
            .collect();
        Sealer { keys: Arc::new(keys) }
    }

    /// Encrypts `plaintext` for `place` under the current key with a fresh random nonce.
    pub fn seal(&self, place: Place, plaintext: &str) -> String {
        let (version, cipher) = self.keys.last().expect("at least one key version");
        let nonce: [u8; NONCE_LEN] = rand::random();
        let aad = place.associated_data();
        let sealed = cipher
            .encrypt(&Nonce::<Aes256Gcm>::from(nonce), Payload { msg: plaintext.as_bytes(), aad: aad.as_bytes() })
            .expect("AES-GCM encrypts any input shorter than 64 GiB");
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!("v{version}b:{}", STANDARD.encode(bytes))
    }

    /// Decrypts a value [`Sealer::seal`] made for `place`. Fails when it was sealed under
    /// another master key, for another place, or altered.
    pub fn open(&self, place: Place, sealed: &str) -> Result<SecretString> {
        self.open_as(Some(place), sealed)
    }

    /// `place` None: a value sealed before places were bound (`v1:`).
    fn open_as(&self, place: Option<Place>, sealed: &str) -> Result<SecretString> {
        let (version, data) = sealed.split_once(':').ok_or_else(unreadable)?;
        let version = version.strip_prefix('v').ok_or_else(unreadable)?;
        let version = match place {
            Some(_) => version.strip_suffix('b').ok_or_else(unreadable)?,
            None => version,
        };
        let version: u32 = version.parse().map_err(|_| unreadable())?;
        let (_, cipher) = self.keys.iter().find(|(v, _)| *v == version).ok_or_else(unreadable)?;
        let bytes = STANDARD.decode(data).map_err(|_| unreadable())?;
        if bytes.len() < NONCE_LEN {
            return Err(unreadable());
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::<Aes256Gcm>::try_from(nonce).map_err(|_| unreadable())?;
        let aad = place.map(Place::associated_data).unwrap_or_default();
        let plain =
            cipher.decrypt(&nonce, Payload { msg: ciphertext, aad: aad.as_bytes() }).map_err(|_| unreadable())?;
        String::from_utf8(plain).map(SecretString::from).map_err(|_| unreadable())
    }

    /// Seals stored values again with `to`, in `tx`: each opened by this sealer (bound to
    /// its place, or from before places were bound), then sealed for its place; with
    /// `only_unbound`, only those from before. Returns how many were sealed again.
    pub async fn reseal_all(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        to: &Sealer,
        only_unbound: bool,
    ) -> Result<usize> {
        let mut changed = 0;
        for place in Place::ALL {
            let (table, column) = place.column();
            let rows = sqlx::query(AssertSqlSafe(format!(
                "SELECT id, {column} AS sealed FROM {table} WHERE {column} IS NOT NULL AND {column} <> ''"
            )))
            .fetch_all(&mut **tx)
            .await?;
            for row in rows {
                let sealed: String = row.try_get("sealed")?;
                let bound = sealed.split_once(':').is_some_and(|(version, _)| version.ends_with('b'));
                if only_unbound && bound {
                    continue;
                }
                let plain = self.open_as(bound.then_some(place), &sealed)?;
                sqlx::query(AssertSqlSafe(format!("UPDATE {table} SET {column} = $1 WHERE id = $2")))
                    .bind(to.seal(place, plain.expose_secret()))
                    .bind(row.try_get::<i64, _>("id")?)
                    .execute(&mut **tx)
                    .await?;
                changed += 1;
            }
        }
        Ok(changed)
    }

    /// Empties every place, in `tx`: for a start with a new master key, when what was
    /// sealed under the old one can no longer be opened.
    pub async fn forget_all(tx: &mut sqlx::Transaction<'_, sqlx::Any>) -> Result<()> {
        for place in Place::ALL {
            let (table, column) = place.column();
            sqlx::query(AssertSqlSafe(format!("UPDATE {table} SET {column} = {}", place.empty())))
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// Binds every value sealed before places were bound to its place, at start.
    pub async fn bind_all(&self, db: &Db) -> Result<()> {
        let mut tx = db.begin().await?;
        let changed = self.reseal_all(&mut tx, self, true).await?;
        tx.commit().await?;
        if changed > 0 {
            tracing::info!(changed, "stored secrets sealed again, each bound to its place");
        }
        Ok(())
    }

    /// The 32-byte key kept sealed at `place`: made and stored the first time (from
    /// `first`, so what it signed before it was stored goes on being accepted).
    pub async fn stored_key(&self, db: &Db, place: Place, first: impl FnOnce() -> [u8; 32]) -> Result<[u8; 32]> {
        let (table, column) = place.column();
        let read = format!("SELECT {column} FROM {table} WHERE id = 1");
        let stored: Option<String> = sqlx::query_scalar(AssertSqlSafe(read.clone())).fetch_one(db.pool()).await?;
        let sealed = match stored {
            Some(sealed) => sealed,
            None => {
                let fresh = self.seal(place, &STANDARD.encode(first()));
                // Another instance starting at the same moment may store its own first.
                sqlx::query(AssertSqlSafe(format!(
                    "UPDATE {table} SET {column} = $1 WHERE id = 1 AND {column} IS NULL"
                )))
                .bind(&fresh)
                .execute(db.writer())
                .await?;
                sqlx::query_scalar(AssertSqlSafe(read)).fetch_one(db.writer()).await?
            }
        };
        let key = STANDARD.decode(self.open(place, &sealed)?.expose_secret()).map_err(|_| unreadable())?;
        key.try_into().map_err(|_| unreadable())
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    /// A sealer with fixed keys, one per purpose.
    fn test_sealer() -> Sealer {
        Sealer::new(|purpose| {
            let mut key = [7; 32];
            for (at, byte) in purpose.bytes().enumerate() {
                key[at % 32] ^= byte;
            }
            key
        })
    }

    #[test]
    fn a_sealed_value_opens_and_is_not_readable() {
        let sealer = test_sealer();
        let sealed = sealer.seal(Place::AccountingApiKey, "cari-api-key-şifre");
        assert!(sealed.starts_with("v1b:"));
        assert!(!sealed.contains("cari"));
        assert_eq!(sealer.open(Place::AccountingApiKey, &sealed).unwrap().expose_secret(), "cari-api-key-şifre");
        let same = || sealer.seal(Place::AccountingApiKey, "same");
        assert_ne!(same(), same(), "a fresh nonce each time");
    }

    #[test]
    fn a_value_moved_to_another_place_does_not_open() {
        let sealer = test_sealer();
        let token = sealer.seal(Place::WhatsAppAccessToken, "meta-token");
        assert!(sealer.open(Place::WhatsAppAppSecret, &token).is_err());
        assert!(sealer.open(Place::WooConsumerSecret, &token).is_err());
        // Nor is a bound value read as one from before places were bound.
        assert!(sealer.open_as(None, &token).is_err());
        assert_eq!(sealer.open(Place::WhatsAppAccessToken, &token).unwrap().expose_secret(), "meta-token");
    }

    /// A value as sealed before places were bound: `v1:`, no associated data.
    fn seal_unbound(sealer: &Sealer, plaintext: &str) -> String {
        let (_, cipher) = &sealer.keys[0];
        let nonce: [u8; NONCE_LEN] = rand::random();
        let mut bytes = nonce.to_vec();
        bytes.extend(cipher.encrypt(&Nonce::<Aes256Gcm>::from(nonce), plaintext.as_bytes()).unwrap());
        format!("v1:{}", STANDARD.encode(bytes))
    }

    #[tokio::test]
    async fn values_sealed_before_places_were_bound_are_bound_at_start() {
        let dir = std::env::temp_dir().join(format!("backroom-sealed-{}", uuid::Uuid::new_v4()));
        let db = Db::connect(&format!("sqlite://{}", dir.join("backroom.db").display())).await.unwrap();
        db.migrate().await.unwrap();
        let sealer = test_sealer();
        let legacy = seal_unbound(&sealer, "cari-api-key");
        assert_eq!(sealer.open_as(None, &legacy).unwrap().expose_secret(), "cari-api-key");
        assert!(sealer.open(Place::AccountingApiKey, &legacy).is_err(), "a value must be bound to be opened");
        sqlx::query("UPDATE accounting_settings SET api_key_sealed = $1 WHERE id = 1")
            .bind(&legacy)
            .execute(db.writer())
            .await
            .unwrap();
        sealer.bind_all(&db).await.unwrap();
        let stored: String = sqlx::query_scalar("SELECT api_key_sealed FROM accounting_settings WHERE id = 1")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert!(stored.starts_with("v1b:"), "{stored}");
        assert_eq!(sealer.open(Place::AccountingApiKey, &stored).unwrap().expose_secret(), "cari-api-key");
        // Already bound: a second start leaves it as it is.
        sealer.bind_all(&db).await.unwrap();
        let again: String = sqlx::query_scalar("SELECT api_key_sealed FROM accounting_settings WHERE id = 1")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(again, stored);
        db.close().await;
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn an_altered_value_is_refused() {
        let sealer = test_sealer();
        let sealed = sealer.seal(Place::AccountingApiKey, "secret");
        let mut bytes = STANDARD.decode(&sealed[4..]).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert!(sealer.open(Place::AccountingApiKey, &format!("v1b:{}", STANDARD.encode(bytes))).is_err());
        for garbage in ["v9b:AAAA", "v1:AAAA", "garbage", "vb:AAAA"] {
            assert!(sealer.open(Place::AccountingApiKey, garbage).is_err(), "{garbage}");
        }
    }
}
