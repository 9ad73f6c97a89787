//! The panel's dashboard: today's orders and revenue, the last seven days, the latest
//! orders — all in the shop's time zone, read from the daily aggregates and one indexed
//! query, so it stays fast at millions of orders.

use chrono::{DateTime, Days};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::{Result, clock::now, db::Db, money, sales_daily, settings::StoreSettings};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dashboard {
    pub currency: String,
    pub today_orders: i64,
    pub today_revenue: String,
    pub today_net: String,
    /// Oldest first, ending today.
    pub last_7_days: Vec<DayBar>,
    pub week_revenue: String,
    pub week_orders: i64,
    pub latest_orders: Vec<OrderRow>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DayBar {
    /// `2026-11-23`
    pub day: String,
    /// `Mon 23`
    pub label: String,
    pub orders: i64,
    pub gross: i64,
    pub gross_text: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrderRow {
    pub id: i64,
    pub number: String,
    pub status: String,
    pub customer: String,
    pub total: String,
    /// Local date and time, `2026-11-23 14:05`.
    pub created: String,
}

pub const LATEST_ORDERS: i64 = 8;

pub async fn load(db: &Db, settings: &StoreSettings) -> Result<Dashboard> {
    let tz = settings.tz();
    let today = sales_daily::local_day(now(), tz);
    let first = today.checked_sub_days(Days::new(6)).unwrap_or(today);
    let days = sales_daily::range(db, &settings.currency, first, today).await?;
    let fmt = |amount| money::format(amount, &settings.currency, &settings.locale);
    let today_totals = days.last().map(|(_, t)| *t).unwrap_or_default();

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
            let currency: String = r.try_get("currency")?;
            let first_name: String = r.try_get("billing_first_name")?;
            let last_name: String = r.try_get("billing_last_name")?;
            let created_at: i64 = r.try_get("created_at")?;
            Ok(OrderRow {
                id: r.try_get("id")?,
                number: r.try_get("number")?,
                status: r.try_get("status")?,
                customer: format!("{first_name} {last_name}").trim().to_owned(),
                total: money::format(r.try_get("total")?, &currency, &settings.locale),
                created: DateTime::from_timestamp(created_at, 0)
                    .unwrap_or_default()
                    .with_timezone(&tz)
                    .format("%Y-%m-%d %H:%M")
                    .to_string(),
            })
        })
        .collect::<Result<Vec<_>>>()?;

    Ok(Dashboard {
        currency: settings.currency.clone(),
        today_orders: today_totals.orders,
        today_revenue: fmt(today_totals.gross),
        today_net: fmt(today_totals.net()),
        week_revenue: fmt(days.iter().map(|(_, t)| t.gross).sum()),
        week_orders: days.iter().map(|(_, t)| t.orders).sum(),
        last_7_days: days
            .iter()
            .map(|(day, t)| DayBar {
                day: day.to_string(),
                label: day.format("%a %d").to_string(),
                orders: t.orders,
                gross: t.gross,
                gross_text: fmt(t.gross),
            })
            .collect(),
        latest_orders,
    })
}
