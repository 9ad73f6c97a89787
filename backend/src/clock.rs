//! Time as Backroom stores it: whole seconds since the Unix epoch, UTC.

/// Seconds since the Unix epoch, now.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// `hour`:00 on `day` in `tz`; where a daylight-saving gap skips that hour, the first
/// whole hour after it.
pub fn local_hour(day: chrono::NaiveDate, hour: u32, tz: chrono_tz::Tz) -> i64 {
    use chrono::{NaiveTime, TimeZone};
    (0..3)
        .find_map(|extra| {
            tz.from_local_datetime(&day.and_time(NaiveTime::from_hms_opt(hour + extra, 0, 0)?)).earliest()
        })
        .map_or_else(|| day.and_time(NaiveTime::MIN).and_utc().timestamp(), |t| t.timestamp())
}

/// A UTC timestamp as local time in `tz`, formatted with a chrono pattern such as
/// `%Y-%m-%d %H:%M`.
pub fn format_local(at: i64, tz: chrono_tz::Tz, pattern: &str) -> String {
    chrono::DateTime::from_timestamp(at, 0).unwrap_or_default().with_timezone(&tz).format(pattern).to_string()
}

/// A UTC timestamp as local time in `tz`, to the minute: `2026-03-14 09:30`.
pub fn local_minute(at: i64, tz: chrono_tz::Tz) -> String {
    format_local(at, tz, "%Y-%m-%d %H:%M")
}
