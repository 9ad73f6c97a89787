//! The click-to-chat widget's public configuration, as `public/whatsapp-widget.js` reads
//! it: what the panel set, and whether the shop is open now (its opening hours in the
//! shop's time zone).

use chrono::{Datelike, TimeZone, Timelike};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::config::{Widget, opening_hours};

/// The widget's settings (opening hours included: they are public anyway) and whether
/// the shop is open now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicWidget {
    #[serde(flatten)]
    pub widget: Widget,
    pub open_now: bool,
}

/// What the snippet receives at `now` (Unix seconds) in the shop's time zone.
pub fn public(widget: &Widget, tz: Tz, now: i64) -> PublicWidget {
    PublicWidget { widget: widget.clone(), open_now: is_open(widget, tz, now) }
}

/// Whether `now` is within the day's opening hours; no hours set at all = always open.
pub fn is_open(widget: &Widget, tz: Tz, now: i64) -> bool {
    if widget.hours.iter().all(|h| h.trim().is_empty()) {
        return true;
    }
    let Some(local) = tz.timestamp_opt(now, 0).single() else { return true };
    let today = &widget.hours[local.weekday().num_days_from_monday() as usize];
    let minute = local.hour() * 60 + local.minute();
    opening_hours(today).is_some_and(|(from, to)| (from..to).contains(&minute))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opening_hours_are_read_in_the_shops_time_zone() {
        let tz: Tz = "Europe/Istanbul".parse().unwrap();
        let mut widget = Widget::default();
        assert!(is_open(&widget, tz, 0), "no hours: always open");
        widget.hours = [
            "09:00-18:00".into(),
            "09:00-18:00".into(),
            "09:00-18:00".into(),
            "09:00-18:00".into(),
            "09:00-18:00".into(),
            String::new(),
            String::new(),
        ];
        // Wednesday 2 December 2026.
        let at = |h| tz.with_ymd_and_hms(2026, 12, 2, h, 0, 0).unwrap().timestamp();
        assert!(is_open(&widget, tz, at(9)));
        assert!(!is_open(&widget, tz, at(18)));
        assert!(!is_open(&widget, tz, at(8)));
        let saturday = tz.with_ymd_and_hms(2026, 12, 5, 12, 0, 0).unwrap().timestamp();
        assert!(!is_open(&widget, tz, saturday));
    }
}
