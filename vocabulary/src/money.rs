//! Money as Backroom keeps it: integer minor units plus an ISO 4217 currency code, read
//! from what people type and written for people and for spreadsheets. The panel's
//! refund form previews amounts with this very code in the browser.

/// The letters of a currency code (ISO 4217: `TRY`, `EUR`).
pub const CURRENCY_CODE_CHARS: usize = 3;
/// The most characters of an amount a person types: the largest Backroom holds,
/// 92233720368547758.07 (an `i64` of minor units), is 20 with its decimal point.
pub const MAX_AMOUNT_CHARS: usize = 20;

/// Digits after the decimal point for a currency (ISO 4217's minor unit).
pub fn minor_digits(currency: &str) -> u32 {
    match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX" | "UYI" | "VND"
        | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

/// True for three upper-case ASCII letters.
pub fn is_currency_code(code: &str) -> bool {
    code.len() == CURRENCY_CODE_CHARS && code.bytes().all(|b| b.is_ascii_uppercase())
}

/// Formats an amount for people: `1,234.50 TRY` in English, `1.234,50 TRY` in Turkish.
pub fn format(amount: i64, currency: &str, locale: &str) -> String {
    let (group, decimal) = if locale == "tr" { ('.', ',') } else { (',', '.') };
    let digits = minor_digits(currency);
    let scale = 10i64.pow(digits);
    let sign = if amount < 0 { "-" } else { "" };
    let abs = amount.unsigned_abs();
    let whole = (abs / scale as u64).to_string();
    let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(group);
        }
        grouped.push(c);
    }
    if digits == 0 {
        format!("{sign}{grouped} {currency}")
    } else {
        let fraction = abs % scale as u64;
        format!("{sign}{grouped}{decimal}{fraction:0width$} {currency}", width = digits as usize)
    }
}

/// `amount` minor units as a plain decimal with `digits` decimals and a point, no
/// grouping and no currency: `1234.50`, `-0.05`, `1000` (for a currency without decimals).
pub fn decimal(amount: i64, digits: u32) -> String {
    let scale = 10u64.pow(digits);
    let sign = if amount < 0 { "-" } else { "" };
    let abs = amount.unsigned_abs();
    if digits == 0 {
        format!("{sign}{abs}")
    } else {
        format!("{sign}{}.{:0width$}", abs / scale, abs % scale, width = digits as usize)
    }
}

/// Reads an amount typed by a person into minor units: digits with at most `digits`
/// decimals after one comma or point (`12,5`, `12.50`, `12`). Empty is zero.
///
/// Fails, with a sentence for the person, on anything else: letters, a minus sign, more
/// decimals than the currency has, grouping (`1.234,50`), more than [`MAX_AMOUNT_CHARS`]
/// characters, or an amount too large.
pub fn parse_amount(text: &str, digits: u32) -> Result<i64, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(0);
    }
    if text.chars().count() > MAX_AMOUNT_CHARS {
        return Err(format!("an amount is at most {MAX_AMOUNT_CHARS} characters"));
    }
    let not_amount = || format!("“{text}” is not an amount: type digits, with a comma or a point before the decimals");
    let (whole, fraction) = match text.find([',', '.']) {
        Some(at) => (&text[..at], &text[at + 1..]),
        None => (text, ""),
    };
    let only_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !only_digits(whole) || !only_digits(fraction) {
        return Err(not_amount());
    }
    if fraction.len() > digits as usize {
        return Err(match digits {
            0 => format!("“{text}” has decimals, but this currency has none"),
            _ => format!("“{text}” has more than {digits} decimals"),
        });
    }
    let too_large = || format!("“{text}” is too large");
    let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| too_large())? };
    // "5" after the point is 50 minor units in a currency with two decimals.
    let fraction: i64 = match digits {
        0 => 0,
        _ => format!("{fraction:0<width$}", width = digits as usize).parse().map_err(|_| not_amount())?,
    };
    whole.checked_mul(10i64.pow(digits)).and_then(|w| w.checked_add(fraction)).ok_or_else(too_large)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_formatted_per_locale_and_currency() {
        assert_eq!(format(123_450, "TRY", "en"), "1,234.50 TRY");
        assert_eq!(format(123_450, "TRY", "tr"), "1.234,50 TRY");
        assert_eq!(format(-5, "EUR", "en"), "-0.05 EUR");
        assert_eq!(format(1_000_000, "JPY", "en"), "1,000,000 JPY");
        assert_eq!(format(1_234, "KWD", "en"), "1.234 KWD");
        assert_eq!(format(0, "USD", "en"), "0.00 USD");
    }

    #[test]
    fn a_comma_or_a_point_separates_the_decimals() {
        assert_eq!(parse_amount("12,50", 2), Ok(1250));
        assert_eq!(parse_amount(" 12.5 ", 2), Ok(1250));
        assert_eq!(parse_amount("12", 2), Ok(1200));
        assert_eq!(parse_amount(",05", 2), Ok(5));
        assert_eq!(parse_amount("7.", 2), Ok(700));
        assert_eq!(parse_amount("", 2), Ok(0));
        assert_eq!(parse_amount("1500", 0), Ok(1500));
        assert_eq!(parse_amount("1.234", 3), Ok(1234));
    }

    #[test]
    fn what_is_not_an_amount_is_refused_with_a_reason() {
        for (text, says) in [
            ("12.345", "more than 2 decimals"),
            ("1.234,50", "not an amount"),
            ("-5", "not an amount"),
            ("12 TL", "not an amount"),
            (".", "not an amount"),
            ("99999999999999999999", "too large"),
            ("000000000000000000012,50", "at most 20 characters"),
            ("10.5", "this currency has none"),
        ] {
            let digits = if says.contains("none") { 0 } else { 2 };
            let error = parse_amount(text, digits).unwrap_err();
            assert!(error.contains(says), "{text}: {error}");
        }
    }

    #[test]
    fn minor_units_come_back_as_a_plain_decimal() {
        assert_eq!(decimal(123_450, 2), "1234.50");
        assert_eq!(decimal(-5, 2), "-0.05");
        assert_eq!(decimal(1_000, 0), "1000");
        assert_eq!(decimal(1_234, 3), "1.234");
        for cents in [0, 1, 99, 100, 123_456] {
            assert_eq!(parse_amount(&decimal(cents, 2), 2), Ok(cents));
        }
    }
}
