//! The shape of Backroom's machine secrets — connection keys, application passwords,
//! OAuth codes and tokens: a readable prefix naming the kind, then 256 random bits and a
//! 32-bit checksum in lowercase base32. A mistyped or truncated secret fails the checksum
//! and is refused without a database read. Only an HMAC-SHA256 of a secret, under a key
//! derived from the master key, is stored, and secrets are looked up by it.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::master_key::MasterKey;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretKind {
    ConnectionKey,
    AppPassword,
    AuthorizationCode,
    AccessToken,
    RefreshToken,
}

impl SecretKind {
    const ALL: [SecretKind; 5] = [
        SecretKind::ConnectionKey,
        SecretKind::AppPassword,
        SecretKind::AuthorizationCode,
        SecretKind::AccessToken,
        SecretKind::RefreshToken,
    ];

    pub fn prefix(self) -> &'static str {
        match self {
            SecretKind::ConnectionKey => "brk_",
            SecretKind::AppPassword => "brp_",
            SecretKind::AuthorizationCode => "brc_",
            SecretKind::AccessToken => "bra_",
            SecretKind::RefreshToken => "brr_",
        }
    }
}

const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
const RANDOM_BYTES: usize = 32;
const CHECKSUM_BYTES: usize = 4;
/// 36 bytes are 288 bits: 58 base32 characters, the last carrying 3 bits.
const BODY_CHARS: usize = 58;
/// Every secret's length, prefix included.
pub const SECRET_LENGTH: usize = 4 + BODY_CHARS;

/// A new random secret of `kind`.
pub fn generate(kind: SecretKind) -> String {
    let random: [u8; RANDOM_BYTES] = rand::random();
    let mut bytes = random.to_vec();
    bytes.extend_from_slice(&checksum(kind, &random));
    let mut out = String::with_capacity(SECRET_LENGTH);
    out.push_str(kind.prefix());
    encode(&bytes, &mut out);
    out
}

/// `chars` random characters (5 bits each), for a secret handed to another system that
/// checks no prefix or checksum, such as the secret a store signs webhooks with.
pub fn random_token(chars: usize) -> String {
    (0..chars).map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char).collect()
}

/// What is stored of a random token with entropy enough that no key is needed (a session
/// id, a single-use link's token, a recovery code): its SHA-256, in base64url.
pub fn token_digest(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

/// The kind of a well-formed secret with a valid checksum; `None` for anything else.
/// Reads no database.
pub fn parse(text: &str) -> Option<SecretKind> {
    if text.len() != SECRET_LENGTH {
        return None;
    }
    let kind = SecretKind::ALL.into_iter().find(|k| text.starts_with(k.prefix()))?;
    let bytes = decode(&text[4..])?;
    let (random, sum) = bytes.split_at(RANDOM_BYTES);
    (checksum(kind, random) == sum).then_some(kind)
}

fn checksum(kind: SecretKind, random: &[u8]) -> [u8; CHECKSUM_BYTES] {
    let digest = Sha256::new().chain_update(kind.prefix()).chain_update(random).finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

fn encode(bytes: &[u8], out: &mut String) {
    let (mut buffer, mut bits) = (0u32, 0);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
}

/// Decodes exactly 36 bytes; refuses other lengths, other letters, and stray low bits.
fn decode(text: &str) -> Option<Vec<u8>> {
    if text.len() != BODY_CHARS {
        return None;
    }
    let (mut buffer, mut bits) = (0u32, 0);
    let mut out = Vec::with_capacity(RANDOM_BYTES + CHECKSUM_BYTES);
    for c in text.bytes() {
        let value = ALPHABET.iter().position(|&a| a == c)? as u32;
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    (buffer & ((1 << bits) - 1) == 0).then_some(out)
}

/// Hashes secrets for storage and lookup.
#[derive(Clone)]
pub struct SecretHasher([u8; 32]);

impl std::fmt::Debug for SecretHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretHasher([hidden])")
    }
}

impl SecretHasher {
    pub fn new(key: [u8; 32]) -> SecretHasher {
        SecretHasher(key)
    }

    /// The key a shop starts with, derived from its master key; kept sealed in the
    /// database from then on ([`crate::sealed::Place::ApiSecretsKey`]), so a new master
    /// key leaves every API secret working.
    pub fn from_master(master_key: &MasterKey) -> SecretHasher {
        SecretHasher(master_key.derive("api-secrets"))
    }

    pub(crate) fn key(&self) -> [u8; 32] {
        self.0
    }

    pub fn hash(&self, secret: &str) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        mac.update(secret.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }
}

/// The last four characters, shown so a person can tell secrets apart ("the key ending
/// in …1a2b"); nothing for a secret under 12 characters, where four would give away
/// too much of it.
pub fn last_four(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() < 12 {
        return String::new();
    }
    chars[chars.len() - 4..].iter().collect()
}

/// Whether two secrets are equal, in a time that does not tell how much of them matched.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_end_of_a_long_secret_is_shown() {
        assert_eq!(last_four("abcdefghijkl1234"), "1234");
        assert_eq!(last_four("short"), "");
    }

    #[test]
    fn generated_secrets_parse_and_name_their_kind() {
        for kind in SecretKind::ALL {
            let secret = generate(kind);
            assert_eq!(secret.len(), SECRET_LENGTH);
            assert!(secret.starts_with(kind.prefix()));
            assert_eq!(parse(&secret), Some(kind), "{secret}");
        }
        assert_ne!(generate(SecretKind::ConnectionKey), generate(SecretKind::ConnectionKey));
    }

    #[test]
    fn any_changed_character_fails_the_checksum() {
        let secret = generate(SecretKind::ConnectionKey);
        for i in 4..secret.len() {
            let mut bytes = secret.clone().into_bytes();
            bytes[i] = if bytes[i] == b'a' { b'b' } else { b'a' };
            let changed = String::from_utf8(bytes).unwrap();
            assert_eq!(parse(&changed), None, "position {i}: {changed}");
        }
    }

    #[test]
    fn wrong_shapes_are_refused() {
        let secret = generate(SecretKind::AppPassword);
        assert_eq!(parse(&secret[..secret.len() - 1]), None);
        assert_eq!(parse(&format!("{secret}a")), None);
        assert_eq!(parse(&secret.to_uppercase()), None);
        assert_eq!(parse(&secret.replacen("brp_", "brk_", 1)), None, "the checksum covers the prefix");
        assert_eq!(parse(&"é".repeat(31)), None);
        assert_eq!(parse(""), None);
    }

    #[test]
    fn the_hash_depends_on_the_master_key() {
        let hasher = SecretHasher::from_master(&MasterKey::for_tests());
        assert_eq!(hasher.hash("brk_x"), hasher.hash("brk_x"));
        assert_ne!(hasher.hash("brk_x"), hasher.hash("brk_y"));
    }
}
