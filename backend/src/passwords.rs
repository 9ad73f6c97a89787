//! Human passwords: argon2id with OWASP's parameters (m = 19 MiB, t = 2, p = 1), hashed
//! and verified on the blocking pool so a sign-in never stalls the async workers.

use std::sync::LazyLock;

use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};
use secrecy::{ExposeSecret, SecretString};
use vocabulary::people::{MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS};

use crate::{Error, Result};

fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("OWASP parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A hash of a password nobody has, verified when the account does not exist so that
/// the time taken does not tell whether an email is registered.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_blocking("not a password anyone has").expect("hashing works"));

/// Checks the length rules a new password must meet.
pub fn validate_new(password: &SecretString) -> Result<()> {
    let len = password.expose_secret().chars().count();
    if len < MIN_PASSWORD_CHARS {
        return Err(Error::invalid(format!("the password needs at least {MIN_PASSWORD_CHARS} characters")));
    }
    if len > MAX_PASSWORD_CHARS {
        return Err(Error::invalid(format!("the password may have at most {MAX_PASSWORD_CHARS} characters")));
    }
    Ok(())
}

/// Hashes a new password (after [`validate_new`]) into a PHC string.
pub async fn hash(password: SecretString) -> Result<String> {
    validate_new(&password)?;
    tokio::task::spawn_blocking(move || hash_blocking(password.expose_secret())).await?
}

fn hash_blocking(password: &str) -> Result<String> {
    hasher()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| Error::internal(format!("argon2: {e}")))
}

/// True when `password` matches `stored`; with `None` it checks against a dummy hash and
/// returns false, taking the same time.
pub async fn verify(password: SecretString, stored: Option<String>) -> Result<bool> {
    tokio::task::spawn_blocking(move || {
        let (stored, known) = match &stored {
            Some(s) => (s.as_str(), true),
            None => (DUMMY_HASH.as_str(), false),
        };
        let parsed = PasswordHash::new(stored).map_err(|e| Error::internal(format!("stored hash: {e}")))?;
        // Longer inputs than any valid password are refused after the same work.
        let candidate = password.expose_secret();
        let matches = hasher().verify_password(candidate.as_bytes(), &parsed).is_ok();
        Ok(known && matches && candidate.len() <= MAX_PASSWORD_CHARS * 4)
    })
    .await?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_nothing_else() {
        let stored = hash("correct horse battery".into()).await.unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("correct horse battery".into(), Some(stored.clone())).await.unwrap());
        assert!(!verify("correct horse battery!".into(), Some(stored)).await.unwrap());
        assert!(!verify("anything".into(), None).await.unwrap());
    }

    #[tokio::test]
    async fn short_passwords_are_refused() {
        let e = hash("short".into()).await.unwrap_err();
        assert!(e.to_string().contains("at least 10"));
    }
}
