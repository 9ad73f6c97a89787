//! Sales reports in the shop's time zone: gross, refunds, net, orders, items and average
//! order value for a period, a series per day, the top products, and the same figures for
//! the period before it. The figures come from the daily aggregates (`sales_daily`), so a
//! 90-day report reads 90 rows, not every order.

use chrono::{Days, NaiveDate};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::{
    Error, Result,
    clock::now,
    db::Db,
    sales_daily::{self, DayTotals},
};

/// The longest custom range, in days.
pub const MAX_DAYS: u64 = 732;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    Today,
    /// The last N days, today included.
    LastDays(u64),
    /// From the first day to the last, both included.
    Range(NaiveDate, NaiveDate),
}

impl Period {
    /// `today`, `7d`, `30d`, `90d`, or a custom range of days.
    pub fn parse(name: Option<&str>, from: Option<&str>, to: Option<&str>) -> Result<Period> {
        match (name.filter(|n| !n.is_empty()), from.filter(|f| !f.is_empty()), to.filter(|t| !t.is_empty())) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                Err(Error::invalid("give a period, or from and to, not both"))
            }
            (Some("today"), None, None) => Ok(Period::Today),
            (Some("7d"), None, None) => Ok(Period::LastDays(7)),
            (Some("30d"), None, None) => Ok(Period::LastDays(30)),
            (Some("90d"), None, None) => Ok(Period::LastDays(90)),
            (Some(_), None, None) => Err(Error::invalid("the period must be today, 7d, 30d or 90d")),
            (None, Some(from), Some(to)) => {
                let (Some(first), Some(last)) = crate::days::range(Some(from), Some(to))? else {
                    return Err(Error::invalid("give both from and to"));
                };
                if (last - first).num_days() as u64 >= MAX_DAYS {
                    return Err(Error::invalid(format!("a report covers at most {MAX_DAYS} days")));
                }
                Ok(Period::Range(first, last))
            }
            (None, None, None) => Ok(Period::LastDays(30)),
            (None, _, _) => Err(Error::invalid("give both from and to")),
        }
    }

    /// The first and last day, in the shop's calendar.
    pub fn days(self, tz: Tz) -> (NaiveDate, NaiveDate) {
        let today = sales_daily::local_day(now(), tz);
        match self {
            Period::Today => (today, today),
            Period::LastDays(n) => (today - Days::new(n - 1), today),
            Period::Range(first, last) => (first, last),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Figures {
    /// Minor units: what the orders of the period came to, tax and shipping included.
    pub gross: i64,
    /// Refunds made in the period (whenever the order was placed).
    pub refunds: i64,
    pub net: i64,
    pub orders: i64,
    pub items: i64,
    /// Gross per order, rounded.
    pub average_order_value: i64,
}

impl Figures {
    fn add(&mut self, day: &DayTotals) {
        self.gross += day.gross;
        self.refunds += day.refunds;
        self.orders += day.orders;
        self.items += day.items;
        self.net = self.gross - self.refunds;
        self.average_order_value = if self.orders == 0 { 0 } else { (self.gross + self.orders / 2) / self.orders };
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Day {
    /// `YYYY-MM-DD` in the shop's time zone.
    pub day: String,
    #[serde(flatten)]
    pub figures: Figures,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TopProduct {
    pub product_id: Option<i64>,
    pub name: String,
    pub quantity: i64,
    /// Minor units, before tax.
    pub revenue: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SalesReport {
    pub from: String,
    pub to: String,
    pub currency: String,
    pub time_zone: String,
    pub totals: Figures,
    pub series: Vec<Day>,
    pub top_products: Vec<TopProduct>,
    /// The period of the same length just before.
    pub previous_from: String,
    pub previous_to: String,
    pub previous: Figures,
}

/// Reports computed recently, each with the version of the sales figures it was computed
/// from; reused while the figures have not moved (see [`sales_daily::version`]). One per
/// process, in [`crate::services::Services`].
#[derive(Debug, Default)]
pub struct ReportCache {
    entries: std::sync::Mutex<std::collections::HashMap<String, (i64, SalesReport)>>,
}

/// Reports kept at most; the cache starts over when full.
const CACHED_REPORTS: usize = 64;

impl ReportCache {
    fn get(&self, key: &str, version: i64) -> Option<SalesReport> {
        let entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.get(key).filter(|(v, _)| *v == version).map(|(_, report)| report.clone())
    }

    fn put(&self, key: String, version: i64, report: SalesReport) {
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= CACHED_REPORTS && !entries.contains_key(&key) {
            entries.clear();
        }
        entries.insert(key, (version, report));
    }
}

/// The sales report for `period`: computed from the daily figures, or the same report
/// computed before if the figures have not changed since (one small read to know).
pub async fn sales(db: &Db, cache: &ReportCache, tz: Tz, currency: &str, period: Period) -> Result<SalesReport> {
    let (first, last) = period.days(tz);
    let key = format!("{currency} {} {first} {last}", tz.name());
    let version = sales_daily::version(db).await?;
    if let Some(report) = cache.get(&key, version) {
        return Ok(report);
    }
    let report = compute(db, tz, currency, first, last).await?;
    cache.put(key, version, report.clone());
    Ok(report)
}

async fn compute(db: &Db, tz: Tz, currency: &str, first: NaiveDate, last: NaiveDate) -> Result<SalesReport> {
    let length = Days::new((last - first).num_days() as u64 + 1);
    let (previous_first, previous_last) = (first - length, first - Days::new(1));
    let mut totals = Figures::default();
    let series = sales_daily::range(db, currency, first, last)
        .await?
        .into_iter()
        .map(|(day, t)| {
            totals.add(&t);
            let mut figures = Figures::default();
            figures.add(&t);
            Day { day: day.to_string(), figures }
        })
        .collect();
    let mut previous = Figures::default();
    for (_, t) in sales_daily::range(db, currency, previous_first, previous_last).await? {
        previous.add(&t);
    }
    Ok(SalesReport {
        from: first.to_string(),
        to: last.to_string(),
        currency: currency.to_owned(),
        time_zone: tz.name().to_owned(),
        totals,
        series,
        top_products: top_products(db, currency, first, last).await?,
        previous_from: previous_first.to_string(),
        previous_to: previous_last.to_string(),
        previous,
    })
}

/// The ten products that brought in most, by line totals (before tax) of the period's
/// sales, from the per-product daily figures; named as the product is named now.
async fn top_products(db: &Db, currency: &str, first: NaiveDate, last: NaiveDate) -> Result<Vec<TopProduct>> {
    // Grouped first, then only the ten winners are named.
    let rows = sqlx::query(
        "SELECT t.product_id, COALESCE(p.name, t.name) AS name, t.quantity, t.revenue FROM \
         (SELECT product_id, MIN(name) AS name, CAST(SUM(quantity) AS BIGINT) AS quantity, CAST(SUM(revenue) AS BIGINT) AS revenue \
          FROM product_sales_daily WHERE currency = $1 AND day >= $2 AND day <= $3 \
          GROUP BY product_id HAVING SUM(quantity) <> 0 OR SUM(revenue) <> 0 \
          ORDER BY revenue DESC, product_id LIMIT 10) t \
         LEFT JOIN products p ON p.id = t.product_id ORDER BY t.revenue DESC, t.product_id",
    )
    .bind(currency)
    .bind(first.to_string())
    .bind(last.to_string())
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            let product_id: i64 = r.try_get("product_id")?;
            Ok(TopProduct {
                product_id: (product_id != 0).then_some(product_id),
                name: r.try_get("name")?,
                quantity: r.try_get("quantity")?,
                revenue: r.try_get("revenue")?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_parse_with_clear_errors() {
        assert_eq!(Period::parse(Some("7d"), None, None).unwrap(), Period::LastDays(7));
        assert_eq!(Period::parse(None, None, None).unwrap(), Period::LastDays(30));
        let range = Period::parse(None, Some("2026-11-01"), Some("2026-11-30")).unwrap();
        assert_eq!(range.days(Tz::UTC).0.to_string(), "2026-11-01");
        for (name, from, to) in [
            (Some("1y"), None, None),
            (Some("7d"), Some("2026-01-01"), None),
            (None, Some("2026-02-01"), Some("2026-01-01")),
            (None, Some("x"), Some("2026-01-01")),
            (None, Some("2020-01-01"), Some("2026-01-01")),
            (None, Some("2026-01-01"), None),
        ] {
            assert!(Period::parse(name, from, to).is_err(), "{name:?} {from:?} {to:?}");
        }
    }
}
