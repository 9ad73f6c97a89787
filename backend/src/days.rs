//! Days as people give them to a listing, an export or a report (`2026-11-01`, a day in
//! the shop's time zone), and the instants a listing filters by. One reading for the
//! panel's forms, the REST API's queries and the reports, so a day means the same
//! everywhere: a `from`…`to` range includes both days; an API's `after` is inclusive and
//! its `before` exclusive, each a day (its midnight) or an RFC 3339 time.

use chrono::NaiveDate;
use chrono_tz::Tz;

use crate::{Error, Result, sales_daily::day_start};

/// The day typed into `field` (`from`, `to`): `2026-11-01`.
pub fn parse(text: &str, field: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| Error::invalid(format!("{field} must be a day such as 2026-11-01")))
}

/// `from` and `to` (empty or absent: open on that side), the first not after the last.
pub fn range(from: Option<&str>, to: Option<&str>) -> Result<(Option<NaiveDate>, Option<NaiveDate>)> {
    let day = |text: Option<&str>, field| text.map(str::trim).filter(|t| !t.is_empty()).map(|t| parse(t, field));
    let (first, last) = (day(from, "from").transpose()?, day(to, "to").transpose()?);
    if first.zip(last).is_some_and(|(first, last)| first > last) {
        return Err(Error::invalid("from must not be after to"));
    }
    Ok((first, last))
}

/// The instants a listing filters `from`…`to` by (both days included): the start of the
/// first day, and the start of the day after the last.
pub fn instants(from: &str, to: &str, tz: Tz) -> Result<(Option<i64>, Option<i64>)> {
    let (first, last) = range(Some(from), Some(to))?;
    Ok((first.map(|d| day_start(d, tz)), last.and_then(|d| d.succ_opt()).map(|d| day_start(d, tz))))
}

/// An API's `after` or `before`: a day (its midnight in the shop's time zone) or an exact
/// time. Read without the time zone, so the shop's settings are needed only for a day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Moment {
    Day(NaiveDate),
    At(i64),
}

impl Moment {
    /// `text` given as `field`: `2026-11-01` or an RFC 3339 time.
    pub fn parse(text: &str, field: &str) -> Result<Moment> {
        let text = text.trim();
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map(Moment::Day)
            .or_else(|_| chrono::DateTime::parse_from_rfc3339(text).map(|t| Moment::At(t.timestamp())))
            .map_err(|_| Error::invalid(format!("{field} must be a day such as 2026-11-01 or an RFC 3339 time")))
    }

    /// The instant, a day's taken in `tz`.
    pub fn at(self, tz: Tz) -> i64 {
        match self {
            Moment::Day(day) => day_start(day, tz),
            Moment::At(at) => at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISTANBUL: Tz = chrono_tz::Europe::Istanbul;

    #[test]
    fn a_range_of_days_includes_both_and_refuses_a_backwards_one() {
        // 1 March 2025 begins at 21:00 UTC the day before in Istanbul.
        assert_eq!(instants("2025-03-01", "2025-03-01", ISTANBUL).unwrap(), (Some(1_740_776_400), Some(1_740_862_800)));
        assert_eq!(instants("", " ", ISTANBUL).unwrap(), (None, None));
        assert_eq!(
            instants("01.03.2025", "", ISTANBUL).unwrap_err().to_string(),
            "from must be a day such as 2026-11-01"
        );
        assert_eq!(
            instants("2025-03-02", "2025-03-01", ISTANBUL).unwrap_err().to_string(),
            "from must not be after to"
        );
    }

    #[test]
    fn a_moment_is_a_days_midnight_or_an_exact_time() {
        let moment = |text| Moment::parse(text, "after").map(|m| m.at(ISTANBUL));
        assert_eq!(moment(" 2025-03-01").unwrap(), 1_740_776_400);
        assert_eq!(moment("2025-03-01T00:00:00Z").unwrap(), 1_740_787_200);
        assert!(matches!(Moment::parse("2025-03-01T00:00:00Z", "after"), Ok(Moment::At(_))), "no time zone needed");
        let refused = Moment::parse("yesterday", "before").unwrap_err().to_string();
        assert!(refused.starts_with("before must be a day"), "{refused}");
    }
}
