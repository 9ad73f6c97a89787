//! Opaque page cursors: the sort key of the last row a page showed, for one listing and
//! one sort order, signed with the server's secret so a tampered cursor is refused
//! rather than obeyed. Keyset paging: new rows arriving never shift the pages.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use crate::{Error, Result, access::secret::SecretHasher};

/// A cursor for `listing` (e.g. `orders:date:desc`) ending at `key`.
pub fn encode(hasher: &SecretHasher, listing: &str, key: &[i64]) -> String {
    let payload = format!("{listing}|{}", key.iter().map(ToString::to_string).collect::<Vec<_>>().join(","));
    let signature = &hasher.hash(&format!("cursor:{payload}"))[..12];
    URL_SAFE_NO_PAD.encode(format!("{payload}|{signature}"))
}

/// The key in a cursor made by [`encode`] for the same `listing` with `parts` numbers.
pub fn decode(hasher: &SecretHasher, listing: &str, cursor: &str, parts: usize) -> Result<Vec<i64>> {
    let tampered = || {
        Error::InvalidCursor(
            "the cursor is not one we gave out for this list and sort order; start from the first page".into(),
        )
    };
    let text = URL_SAFE_NO_PAD.decode(cursor).ok().and_then(|b| String::from_utf8(b).ok()).ok_or_else(tampered)?;
    let (payload, signature) = text.rsplit_once('|').ok_or_else(tampered)?;
    if hasher.hash(&format!("cursor:{payload}"))[..12] != *signature {
        return Err(tampered());
    }
    let (made_for, key) = payload.rsplit_once('|').ok_or_else(tampered)?;
    if made_for != listing {
        return Err(tampered());
    }
    let key: Vec<i64> = key.split(',').map(|n| n.parse().map_err(|_| tampered())).collect::<Result<_>>()?;
    if key.len() == parts { Ok(key) } else { Err(tampered()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::master_key::MasterKey;

    #[test]
    fn cursors_round_trip_and_refuse_tampering_or_another_listing() {
        let hasher = SecretHasher::from_master(&MasterKey::for_tests());
        let cursor = encode(&hasher, "orders:date:desc", &[1_795_000_000, 42]);
        assert_eq!(decode(&hasher, "orders:date:desc", &cursor, 2).unwrap(), vec![1_795_000_000, 42]);
        assert!(decode(&hasher, "orders:total:desc", &cursor, 2).is_err());
        let forged = URL_SAFE_NO_PAD.encode("orders:date:desc|1795000000,41|aaaaaaaaaaaa");
        assert!(decode(&hasher, "orders:date:desc", &forged, 2).is_err());
        assert!(decode(&hasher, "orders:date:desc", "not a cursor", 2).is_err());
    }
}
