//! The ledger Backroom sends invoices to: the limits on what is typed to reach it and to
//! name its invoices.

/// The longest the ledger API's base URL may be, in bytes (characters, for an ASCII address).
pub const MAX_BASE_URL_CHARS: usize = 300;
/// The most characters of the company code (firma kodu) the ledger gave the shop.
pub const MAX_COMPANY_CODE_CHARS: usize = 60;
/// The longest the ledger's API key may be, in bytes (characters, for an ASCII key).
pub const MAX_API_KEY_CHARS: usize = 500;
/// The most characters of the invoices' series prefix (letters, digits and dashes: WEB).
pub const MAX_INVOICE_PREFIX_CHARS: usize = 16;
