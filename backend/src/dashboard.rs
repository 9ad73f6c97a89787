//! The dashboard's figures: today, the last seven days and the latest orders, in the
//! shop's time zone — read from the daily aggregates and one indexed query, so it stays
//! fast at millions of orders.

use chrono::{Days, NaiveDate};
use sqlx::Row;

use crate::{
    Result,
    clock::now,
    db::Db,
    sales_daily::{self, DayTotals},
    settings::StoreSettings,
};

pub struct Figures {
    /// Oldest first, ending with today.
    pub last_7_days: Vec<(NaiveDate, DayTotals)>,
    pub latest_orders: Vec<LatestOrder>,
}

impl Figures {
    pub fn today(&self) -> DayTotals {
        self.last_7_days.last().map(|(_, t)| *t).unwrap_or_default()
    }
}

pub struct LatestOrder {
    pub id: i64,
    pub number: String,
    pub status: String,
    pub customer: String,
    pub total: i64,
    pub currency: String,
    pub created_at: i64,
}

pub const LATEST_ORDERS: i64 = 8;

pub async fn load(db: &Db, settings: &StoreSettings) -> Result<Figures> {
    let today = sales_daily::local_day(now(), settings.tz());
    let first = today.checked_sub_days(Days::new(6)).unwrap_or(today);
    let last_7_days = sales_daily::range(db, &settings.currency, first, today).await?;
    let rows = sqlx::query(
        "SELECT id, number, status, billing_first_name, billing_last_name, total, currency, created_at \
         FROM orders ORDER BY created_at DESC, id DESC LIMIT $1",
    )
    .bind(LATEST_ORDERS)
    .fetch_all(db.pool())
    .await?;
    let latest_orders = rows
        .iter()
        .map(|r| {
            let first_name: String = r.try_get("billing_first_name")?;
            let last_name: String = r.try_get("billing_last_name")?;
            Ok(LatestOrder {
                id: r.try_get("id")?,
                number: r.try_get("number")?,
                status: r.try_get("status")?,
                customer: format!("{first_name} {last_name}").trim().to_owned(),
                total: r.try_get("total")?,
                currency: r.try_get("currency")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Figures { last_7_days, latest_orders })
}
