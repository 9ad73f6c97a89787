//! One-legged OAuth 1.0a exactly as WooCommerce verifies it (`WC_REST_Authentication::
//! check_oauth_signature`), for stores reached over plain HTTP, where WooCommerce never
//! attempts Basic authentication. The parameters are the query's plus the `oauth_*` ones,
//! sorted by their raw names; each name and value is percent-encoded (RFC 3986), each
//! `name=value` pair encoded once more and the pairs joined with `%26`; the string signed
//! is `METHOD&encoded URL&pairs` under `consumer_secret&`. Array parameters are never sent
//! (WooCommerce signs them in a form other libraries do not): lists go comma-separated.

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The `oauth_*` parameters to add to a request's query so WooCommerce accepts it.
/// `url` is the request's URL without its query, as the store knows its own address;
/// `query` the request's other parameters.
pub fn sign(
    method: &str,
    url: &str,
    query: &[(String, String)],
    consumer_key: &str,
    consumer_secret: &str,
    timestamp: i64,
    nonce: &str,
) -> Vec<(String, String)> {
    let mut oauth = vec![
        ("oauth_consumer_key".to_owned(), consumer_key.to_owned()),
        ("oauth_nonce".to_owned(), nonce.to_owned()),
        ("oauth_signature_method".to_owned(), "HMAC-SHA256".to_owned()),
        ("oauth_timestamp".to_owned(), timestamp.to_string()),
    ];
    let base = base_string(method, url, query.iter().chain(oauth.iter()));
    let mut mac = Hmac::<Sha256>::new_from_slice(format!("{consumer_secret}&").as_bytes()).expect("HMAC takes any key");
    mac.update(base.as_bytes());
    oauth.push(("oauth_signature".to_owned(), STANDARD.encode(mac.finalize().into_bytes())));
    oauth
}

/// The string WooCommerce signs for a request.
fn base_string<'a>(method: &str, url: &str, parameters: impl Iterator<Item = &'a (String, String)>) -> String {
    let mut encoded: Vec<(String, String)> = parameters.map(|(k, v)| (encode(k), encode(v))).collect();
    // `uksort(…, 'strcmp')` on the raw names: byte order (the encoded names keep it for the
    // names a request uses, which are plain ASCII).
    encoded.sort();
    let pairs = encoded.iter().map(|(k, v)| encode(&format!("{k}={v}"))).collect::<Vec<_>>().join("%26");
    format!("{}&{}&{pairs}", method.to_ascii_uppercase(), encode(url))
}

/// RFC 3986 percent-encoding (PHP's `rawurlencode`): letters, digits and `-._~` stay.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference's vector (a re-implementation of WooCommerce's PHP, §2.1).
    #[test]
    fn the_signature_matches_the_reference_vector() {
        let query = vec![
            ("per_page".to_owned(), "100".to_owned()),
            ("modified_after".to_owned(), "2024-01-01T00:00:00".to_owned()),
        ];
        let oauth = sign(
            "GET",
            "http://shop.example/wp-json/wc/v3/orders",
            &query,
            "ck_test",
            "cs_test",
            1_700_000_000,
            "abc123",
        );
        let all: Vec<_> = query.iter().chain(oauth.iter().filter(|(k, _)| k != "oauth_signature")).collect();
        let base = base_string("GET", "http://shop.example/wp-json/wc/v3/orders", all.into_iter());
        assert_eq!(
            base,
            "GET&http%3A%2F%2Fshop.example%2Fwp-json%2Fwc%2Fv3%2Forders&modified_after%3D2024-01-01T00%253A00%253A00%26\
             oauth_consumer_key%3Dck_test%26oauth_nonce%3Dabc123%26oauth_signature_method%3DHMAC-SHA256%26\
             oauth_timestamp%3D1700000000%26per_page%3D100"
        );
        let signature = &oauth.iter().find(|(k, _)| k == "oauth_signature").unwrap().1;
        assert_eq!(signature, "pXorw3DGMNORSdsucWGIIj48nSlb1TyycJZFONENxFU=");
    }

    #[test]
    fn encoding_is_rawurlencode() {
        assert_eq!(encode("a b+c/~é"), "a%20b%2Bc%2F~%C3%A9");
    }
}
