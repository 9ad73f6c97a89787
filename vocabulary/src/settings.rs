//! The shop's own settings: the limits on its public URL and its time zone (its name is a
//! [`crate::people::MAX_NAME_CHARS`] name, its currency a [`crate::money`] code).

/// The longest the shop's public URL may be, in bytes (characters, for an ASCII address).
pub const MAX_PUBLIC_URL_CHARS: usize = 200;
/// The most characters of the shop's time zone, an IANA name (the longest,
/// America/Argentina/ComodRivadavia, is 32).
pub const MAX_TIME_ZONE_CHARS: usize = 64;
