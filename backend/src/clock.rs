//! Time as Backroom stores it: whole seconds since the Unix epoch, UTC.

/// Seconds since the Unix epoch, now.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A UTC timestamp as local time in `tz`, formatted with a chrono pattern such as
/// `%Y-%m-%d %H:%M`.
pub fn format_local(at: i64, tz: chrono_tz::Tz, pattern: &str) -> String {
    chrono::DateTime::from_timestamp(at, 0).unwrap_or_default().with_timezone(&tz).format(pattern).to_string()
}
