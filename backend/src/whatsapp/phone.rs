//! Phone numbers as WhatsApp wants them: E.164 (`+905321234567`), whatever the shopper
//! typed — spaces, dashes, brackets, a leading 00 or a national 0 with the shop's default
//! country code.

use crate::{Error, Result};

/// Reads a phone number into E.164; `default_country` is the calling code without `+`
/// (`90`) for numbers typed nationally (`0532 123 45 67`).
///
/// Fails on letters, on too few or too many digits, and on a national number with no
/// default country.
pub fn normalise(typed: &str, default_country: &str) -> Result<String> {
    let wrong = || Error::invalid(format!("“{}” is not a phone number", typed.trim()));
    let trimmed = typed.trim();
    if trimmed.is_empty() || trimmed.chars().any(|c| !(c.is_ascii_digit() || " +-().\u{a0}".contains(c))) {
        return Err(wrong());
    }
    if trimmed[1..].contains('+') {
        return Err(wrong());
    }
    let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    let international = if trimmed.starts_with('+') {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_owned()
    } else if let Some(national) = digits.strip_prefix('0') {
        if default_country.is_empty() {
            return Err(Error::invalid("a national number needs the shop's default country code"));
        }
        format!("{default_country}{national}")
    } else {
        digits
    };
    let valid = (7..=15).contains(&international.len()) && !international.starts_with('0');
    if valid { Ok(format!("+{international}")) } else { Err(wrong()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_shoppers_type_them_become_e164() {
        assert_eq!(normalise("+90 532 123 45 67", "90").unwrap(), "+905321234567");
        assert_eq!(normalise("0532 123 45 67", "90").unwrap(), "+905321234567");
        assert_eq!(normalise("0090 (532) 123-45-67", "90").unwrap(), "+905321234567");
        assert_eq!(normalise("4915112345678", "90").unwrap(), "+4915112345678");
    }

    #[test]
    fn letters_and_wrong_lengths_are_refused() {
        for typed in ["call me", "+90 532 ABC", "12345", "+1234567890123456", "", "+90+532", "0532 123 45 67 x"] {
            assert!(normalise(typed, "90").is_err(), "{typed}");
        }
        assert!(normalise("0532 123 45 67", "").is_err());
    }
}
