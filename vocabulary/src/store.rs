//! The WooCommerce store Backroom serves: the limits on what is typed to connect to it.

/// The longest the store's address may be, in bytes (characters, for an ASCII address).
pub const MAX_URL_CHARS: usize = 300;
/// The most characters of a WooCommerce REST API consumer key (`ck_…`) or consumer secret
/// (`cs_…`).
pub const MAX_KEY_CHARS: usize = 100;
