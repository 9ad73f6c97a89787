//! Time as Backroom stores it: whole seconds since the Unix epoch, UTC.

/// Seconds since the Unix epoch, now.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}
