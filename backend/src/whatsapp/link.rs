//! Recovery links, `/r/{token}`: the token names the cart and the step and when the link
//! stops working, signed with a key derived from the master key. It is checked without
//! the database, so an altered or expired token is refused before anything is read, and
//! it keeps working whatever happened to the cart's messages since.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// What a good token says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Link {
    pub cart_id: i64,
    pub step: i64,
    pub expires_at: i64,
}

/// Why a token is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// Not one of ours, or altered.
    Invalid,
    Expired,
}

#[derive(Clone)]
pub struct Signer {
    key: [u8; 32],
}

impl Signer {
    pub fn new(key: [u8; 32]) -> Signer {
        Signer { key }
    }

    /// The signer a shop starts with, its key derived from the master key; kept sealed in
    /// the database from then on ([`crate::sealed::Place::RecoveryLinksKey`]), so links
    /// already sent go on opening under a new master key.
    pub fn from_master(master: &crate::master_key::MasterKey) -> Signer {
        Signer::new(master.derive("whatsapp-recovery-links"))
    }

    pub(crate) fn key(&self) -> [u8; 32] {
        self.key
    }

    fn mac(&self, text: &str) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key).expect("HMAC takes a key of any length");
        mac.update(text.as_bytes());
        mac.finalize().into_bytes()[..16].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// `{cart}.{step}.{expires}.{signature}`, URL-safe as it is.
    pub fn token(&self, link: Link) -> String {
        let text = format!("{}.{}.{}", link.cart_id, link.step, link.expires_at);
        let signature = self.mac(&text);
        format!("{text}.{signature}")
    }

    pub fn check(&self, token: &str, now: i64) -> Result<Link, Refused> {
        if token.len() > 100 {
            return Err(Refused::Invalid);
        }
        let (text, signature) = token.rsplit_once('.').ok_or(Refused::Invalid)?;
        let expected = self.mac(text);
        let same = expected.len() == signature.len()
            && expected.bytes().zip(signature.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
        if !same {
            return Err(Refused::Invalid);
        }
        let mut parts = text.split('.').map(str::parse::<i64>);
        let (Some(Ok(cart_id)), Some(Ok(step)), Some(Ok(expires_at)), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Refused::Invalid);
        };
        if expires_at < now {
            return Err(Refused::Expired);
        }
        Ok(Link { cart_id, step, expires_at })
    }
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer([key hidden])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_checked_for_its_signature_and_its_expiry() {
        let signer = Signer::new([3; 32]);
        let link = Link { cart_id: 42, step: 2, expires_at: 2_000 };
        let token = signer.token(link);
        assert_eq!(signer.check(&token, 1_000), Ok(link));
        assert_eq!(signer.check(&token, 2_001), Err(Refused::Expired));
        assert_eq!(signer.check(&token.replacen("42.", "43.", 1), 1_000), Err(Refused::Invalid));
        assert_eq!(signer.check(&token.replacen(".2000.", ".9000.", 1), 1_000), Err(Refused::Invalid));
        assert_eq!(Signer::new([4; 32]).check(&token, 1_000), Err(Refused::Invalid));
        for junk in ["", "abc", "1.2.3", "1.2.3.4.5"] {
            assert_eq!(signer.check(junk, 1_000), Err(Refused::Invalid), "{junk}");
        }
    }
}
