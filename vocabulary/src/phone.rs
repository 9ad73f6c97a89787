//! Phone numbers as WhatsApp wants them: E.164 (`+905321234567`), whatever the shopper
//! typed — spaces, dashes, brackets, a leading 00 or a national 0 with the shop's default
//! country code.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Invalid;

/// A phone number in E.164 (`+905321234567`). Read from JSON through [`Phone::parse`]
/// with no default country, so there only an international number (`+90…`, `0090…`) reads.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    /// Reads a phone number into E.164; `default_country` is the calling code without `+`
    /// (`90`) for numbers typed nationally (`0532 123 45 67`).
    ///
    /// Fails on letters, on too few or too many digits, and on a national number with no
    /// default country.
    pub fn parse(typed: &str, default_country: &str) -> Result<Phone, Invalid> {
        let wrong = || Invalid::new(format!("“{}” is not a phone number", typed.trim()));
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
                return Err(Invalid::new("a national number needs the shop's default country code"));
            }
            format!("{default_country}{national}")
        } else {
            digits
        };
        let valid = (7..=15).contains(&international.len()) && !international.starts_with('0');
        if valid { Ok(Phone(format!("+{international}"))) } else { Err(wrong()) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Phone {
    type Error = Invalid;
    fn try_from(typed: String) -> Result<Phone, Invalid> {
        Phone::parse(&typed, "")
    }
}

impl From<Phone> for String {
    fn from(phone: Phone) -> String {
        phone.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e164(typed: &str, default_country: &str) -> String {
        Phone::parse(typed, default_country).unwrap().into()
    }

    #[test]
    fn numbers_as_shoppers_type_them_become_e164() {
        assert_eq!(e164("+90 532 123 45 67", "90"), "+905321234567");
        assert_eq!(e164("0532 123 45 67", "90"), "+905321234567");
        assert_eq!(e164("0090 (532) 123-45-67", "90"), "+905321234567");
        assert_eq!(e164("4915112345678", "90"), "+4915112345678");
    }

    #[test]
    fn letters_and_wrong_lengths_are_refused() {
        for typed in ["call me", "+90 532 ABC", "12345", "+1234567890123456", "", "+90+532", "0532 123 45 67 x"] {
            assert!(Phone::parse(typed, "90").is_err(), "{typed}");
        }
        assert!(Phone::parse("0532 123 45 67", "").is_err());
    }

    #[test]
    fn json_reads_international_numbers_through_the_parser() {
        let phone: Phone = serde_json::from_str(r#""+90 532 123 45 67""#).unwrap();
        assert_eq!(phone.as_str(), "+905321234567");
        assert_eq!(serde_json::to_string(&phone).unwrap(), r#""+905321234567""#);
        let national = serde_json::from_str::<Phone>(r#""0532 123 45 67""#).unwrap_err().to_string();
        assert!(national.contains("default country"), "{national}");
        assert!(serde_json::from_str::<Phone>(r#""call me""#).is_err());
    }
}
