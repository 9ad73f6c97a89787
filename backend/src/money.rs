//! Money as Backroom keeps it: integer minor units plus an ISO 4217 currency code.

/// Digits after the decimal point for a currency (ISO 4217's minor unit).
pub fn minor_digits(currency: &str) -> u32 {
    match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX" | "UYI"
        | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

/// True for three upper-case ASCII letters.
pub fn is_currency_code(code: &str) -> bool {
    code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase())
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
}
