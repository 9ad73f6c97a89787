//! Sales per day in the shop's time zone — what the dashboard and reports read instead
//! of scanning orders. Kept with each order change and rebuildable from the orders.
//!
//! The rules: an order counts as a sale on the local day it was created when its status
//! is processing, on-hold, completed or refunded; a refund counts on the local day it was
//! made. Net = gross − refunds. Alongside, each product's quantity and line totals per
//! day (`product_sales_daily`) by the same rule, for the reports' top products.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate};
use chrono_tz::Tz;
use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize};
use sqlx::{AssertSqlSafe, Row};

use crate::{
    Result,
    db::{Backend, Db, Value, insert_rows},
};

pub const REBUILD_JOB: &str = "sales_daily.rebuild";

/// The job that rebuilds every day's figures from the orders (after the shop's time zone
/// changed); it carries nothing.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Rebuild {}

impl crate::jobs::Payload for Rebuild {
    const KIND: &'static str = REBUILD_JOB;
}

/// The statuses whose orders are not sales: not paid or given up. Every other status is a
/// sale — processing, on-hold, completed, refunded (its refunds count on their own days),
/// and those an extension adds (`shipped`), as WooCommerce's own analytics count them.
pub const NOT_SALE_STATUSES: [&str; 3] = ["pending", "failed", "cancelled"];

pub fn counts_as_sale(status: &str) -> bool {
    !NOT_SALE_STATUSES.contains(&status)
}

/// The shop-local calendar day of a UTC timestamp.
pub fn local_day(at: i64, tz: Tz) -> NaiveDate {
    DateTime::from_timestamp(at, 0).unwrap_or_default().with_timezone(&tz).date_naive()
}

/// When `day` begins in the shop's time zone: the inverse of [`local_day`].
pub fn day_start(day: NaiveDate, tz: Tz) -> i64 {
    crate::clock::local_hour(day, 0, tz)
}

/// One day's figures in one currency.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayTotals {
    pub orders: i64,
    pub items: i64,
    pub gross: i64,
    pub refunds: i64,
    pub tax: i64,
    pub shipping: i64,
}

impl DayTotals {
    pub fn net(&self) -> i64 {
        self.gross - self.refunds
    }
}

/// One product's sales on one day in one currency.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProductTotals {
    /// The first line's name seen for it (kept for products since deleted).
    pub name: String,
    pub quantity: i64,
    /// Line totals after discounts, before tax.
    pub revenue: i64,
}

/// Figures keyed by (day, currency) and by (day, currency, product), built up in memory
/// and written in one go.
#[derive(Default)]
pub struct Accumulator {
    days: BTreeMap<(NaiveDate, String), DayTotals>,
    products: BTreeMap<(NaiveDate, String, i64), ProductTotals>,
}

pub struct SaleFacts<'a> {
    pub created_at: i64,
    pub status: &'a str,
    pub currency: &'a str,
    pub total: i64,
    pub items: i64,
    pub tax: i64,
    pub shipping: i64,
    /// The order's lines (for the per-product figures).
    pub lines: &'a [SoldLine],
}

/// An order line as the per-product figures count it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SoldLine {
    pub product_id: Option<i64>,
    pub name: String,
    pub quantity: i64,
    /// The line's total after discounts, before tax.
    pub revenue: i64,
}

impl SoldLine {
    /// The lines of `order_id`, read in the caller's transaction.
    pub async fn of_order(conn: &mut sqlx::AnyConnection, order_id: i64) -> Result<Vec<SoldLine>> {
        Ok(SoldLine::of_orders(conn, &[order_id]).await?.remove(&order_id).unwrap_or_default())
    }

    /// The lines of each of `orders` (an order without lines is left out).
    pub async fn of_orders(
        conn: &mut sqlx::AnyConnection,
        orders: &[i64],
    ) -> Result<std::collections::HashMap<i64, Vec<SoldLine>>> {
        let mut lines: std::collections::HashMap<i64, Vec<SoldLine>> = Default::default();
        if orders.is_empty() {
            return Ok(lines);
        }
        let list = orders.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT order_id, product_id, name, quantity, total FROM order_items WHERE order_id IN ({list}) ORDER BY id"
        )))
        .fetch_all(&mut *conn)
        .await?;
        for r in &rows {
            lines.entry(r.try_get("order_id")?).or_default().push(SoldLine {
                product_id: r.try_get("product_id")?,
                name: r.try_get("name")?,
                quantity: r.try_get("quantity")?,
                revenue: r.try_get("total")?,
            });
        }
        Ok(lines)
    }
}

impl Accumulator {
    pub fn add_order(&mut self, tz: Tz, order: &SaleFacts<'_>) {
        self.count_order(tz, order, 1);
    }

    /// Takes an order out again (its status stopped counting as a sale).
    pub fn remove_order(&mut self, tz: Tz, order: &SaleFacts<'_>) {
        self.count_order(tz, order, -1);
    }

    fn count_order(&mut self, tz: Tz, order: &SaleFacts<'_>, sign: i64) {
        if !counts_as_sale(order.status) {
            return;
        }
        let day = self.days.entry((local_day(order.created_at, tz), order.currency.to_owned())).or_default();
        day.orders += sign;
        day.items += sign * order.items;
        day.gross += sign * order.total;
        day.tax += sign * order.tax;
        day.shipping += sign * order.shipping;
        for line in order.lines {
            self.count_line(tz, order.created_at, order.currency, line, sign);
        }
    }

    /// Counts one line of a sale made at `created_at` (`sign` -1 takes it out).
    fn count_line(&mut self, tz: Tz, created_at: i64, currency: &str, line: &SoldLine, sign: i64) {
        let key = (local_day(created_at, tz), currency.to_owned(), line.product_id.unwrap_or(0));
        let product = self
            .products
            .entry(key)
            .or_insert_with(|| ProductTotals { name: line.name.clone(), ..ProductTotals::default() });
        product.quantity += sign * line.quantity;
        product.revenue += sign * line.revenue;
    }

    /// Adds these figures to the table's (in the caller's transaction): one upsert per
    /// day touched, so a change to one order writes one or two rows.
    pub async fn add_to_table(self, conn: &mut sqlx::AnyConnection) -> Result<()> {
        for ((day, currency), t) in self.days {
            sqlx::query(
                "INSERT INTO sales_daily (day, currency, orders, items, gross, refunds, tax, shipping) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (day, currency) DO UPDATE SET \
                 orders = sales_daily.orders + excluded.orders, items = sales_daily.items + excluded.items, \
                 gross = sales_daily.gross + excluded.gross, refunds = sales_daily.refunds + excluded.refunds, \
                 tax = sales_daily.tax + excluded.tax, shipping = sales_daily.shipping + excluded.shipping",
            )
            .bind(day.to_string())
            .bind(currency)
            .bind(t.orders)
            .bind(t.items)
            .bind(t.gross)
            .bind(t.refunds)
            .bind(t.tax)
            .bind(t.shipping)
            .execute(&mut *conn)
            .await?;
        }
        for ((day, currency, product_id), p) in self.products {
            sqlx::query(
                "INSERT INTO product_sales_daily (day, currency, product_id, name, quantity, revenue) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (day, currency, product_id) DO UPDATE SET \
                 quantity = product_sales_daily.quantity + excluded.quantity, \
                 revenue = product_sales_daily.revenue + excluded.revenue",
            )
            .bind(day.to_string())
            .bind(currency)
            .bind(product_id)
            .bind(p.name)
            .bind(p.quantity)
            .bind(p.revenue)
            .execute(&mut *conn)
            .await?;
        }
        bump_version(conn).await
    }

    pub fn add_refund(&mut self, tz: Tz, created_at: i64, currency: &str, amount: i64) {
        self.days.entry((local_day(created_at, tz), currency.to_owned())).or_default().refunds += amount;
    }

    /// Adds another accumulator's figures to these.
    pub fn merge(&mut self, other: Accumulator) {
        for (key, t) in other.days {
            let day = self.days.entry(key).or_default();
            day.orders += t.orders;
            day.items += t.items;
            day.gross += t.gross;
            day.refunds += t.refunds;
            day.tax += t.tax;
            day.shipping += t.shipping;
        }
        for (key, p) in other.products {
            let product = self
                .products
                .entry(key)
                .or_insert_with(|| ProductTotals { name: p.name.clone(), ..ProductTotals::default() });
            product.quantity += p.quantity;
            product.revenue += p.revenue;
        }
    }

    /// Replaces the whole table with these figures (in the caller's transaction).
    pub async fn replace_all(self, conn: &mut sqlx::AnyConnection, backend: Backend) -> Result<()> {
        sqlx::query("DELETE FROM sales_daily").execute(&mut *conn).await?;
        let values: Vec<Value> = self
            .days
            .into_iter()
            .flat_map(|((day, currency), t)| {
                [
                    day.to_string().into(),
                    currency.into(),
                    t.orders.into(),
                    t.items.into(),
                    t.gross.into(),
                    t.refunds.into(),
                    t.tax.into(),
                    t.shipping.into(),
                ]
            })
            .collect();
        insert_rows(
            conn,
            backend,
            "sales_daily",
            &["day", "currency", "orders", "items", "gross", "refunds", "tax", "shipping"],
            &values,
        )
        .await?;
        sqlx::query("DELETE FROM product_sales_daily").execute(&mut *conn).await?;
        let values: Vec<Value> = self
            .products
            .into_iter()
            .flat_map(|((day, currency, product_id), p)| {
                [
                    day.to_string().into(),
                    currency.into(),
                    product_id.into(),
                    p.name.into(),
                    p.quantity.into(),
                    p.revenue.into(),
                ]
            })
            .collect();
        insert_rows(
            conn,
            backend,
            "product_sales_daily",
            &["day", "currency", "product_id", "name", "quantity", "revenue"],
            &values,
        )
        .await?;
        bump_version(conn).await
    }
}

/// Says the figures changed (in the writer's transaction): reports computed before are
/// stale from now on.
async fn bump_version(conn: &mut sqlx::AnyConnection) -> Result<()> {
    sqlx::query("UPDATE sales_version SET version = version + 1 WHERE id = 1").execute(&mut *conn).await?;
    Ok(())
}

/// The figures' version, as [`bump_version`] moves it.
pub async fn version(db: &Db) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT version FROM sales_version WHERE id = 1").fetch_one(db.pool()).await?)
}

/// Recomputes every day from the orders and refunds (after a time-zone change, an
/// import, or to repair). Streams rows; memory grows with days, not orders.
pub async fn rebuild(db: &Db, tz: Tz) -> Result<()> {
    let mut acc = Accumulator::default();
    let statuses = NOT_SALE_STATUSES.map(|s| format!("'{s}'")).join(", ");
    let mut orders = sqlx::query(AssertSqlSafe(format!(
        "SELECT created_at, status, currency, total, items_count, total_tax, shipping_total \
         FROM orders WHERE status NOT IN ({statuses})"
    )))
    .fetch(db.pool());
    while let Some(row) = orders.try_next().await? {
        let status: String = row.try_get("status")?;
        let currency: String = row.try_get("currency")?;
        acc.add_order(
            tz,
            &SaleFacts {
                created_at: row.try_get("created_at")?,
                status: &status,
                currency: &currency,
                total: row.try_get("total")?,
                items: row.try_get("items_count")?,
                tax: row.try_get("total_tax")?,
                shipping: row.try_get("shipping_total")?,
                lines: &[],
            },
        );
    }
    drop(orders);
    // The lines of the same orders, streamed on their own rather than per order.
    let mut lines = sqlx::query(AssertSqlSafe(format!(
        "SELECT o.created_at, o.currency, i.product_id, i.name, i.quantity, i.total \
         FROM order_items i JOIN orders o ON o.id = i.order_id WHERE o.status NOT IN ({statuses})"
    )))
    .fetch(db.pool());
    while let Some(row) = lines.try_next().await? {
        let currency: String = row.try_get("currency")?;
        let line = SoldLine {
            product_id: row.try_get("product_id")?,
            name: row.try_get("name")?,
            quantity: row.try_get("quantity")?,
            revenue: row.try_get("total")?,
        };
        acc.count_line(tz, row.try_get("created_at")?, &currency, &line, 1);
    }
    drop(lines);
    let mut refunds =
        sqlx::query("SELECT r.created_at, r.amount, o.currency FROM refunds r JOIN orders o ON o.id = r.order_id")
            .fetch(db.pool());
    while let Some(row) = refunds.try_next().await? {
        let currency: String = row.try_get("currency")?;
        acc.add_refund(tz, row.try_get("created_at")?, &currency, row.try_get("amount")?);
    }
    drop(refunds);
    let mut tx = db.begin().await?;
    acc.replace_all(&mut tx, db.backend()).await?;
    tx.commit().await?;
    Ok(())
}

/// The figures for each day from `first` to `last` inclusive (days without sales are
/// zero), in one currency.
pub async fn range(db: &Db, currency: &str, first: NaiveDate, last: NaiveDate) -> Result<Vec<(NaiveDate, DayTotals)>> {
    let rows = sqlx::query(
        "SELECT day, orders, items, gross, refunds, tax, shipping FROM sales_daily \
         WHERE currency = $1 AND day >= $2 AND day <= $3",
    )
    .bind(currency)
    .bind(first.to_string())
    .bind(last.to_string())
    .fetch_all(db.pool())
    .await?;
    let mut found = BTreeMap::new();
    for r in &rows {
        let day: String = r.try_get("day")?;
        let Ok(day) = day.parse::<NaiveDate>() else { continue };
        found.insert(
            day,
            DayTotals {
                orders: r.try_get("orders")?,
                items: r.try_get("items")?,
                gross: r.try_get("gross")?,
                refunds: r.try_get("refunds")?,
                tax: r.try_get("tax")?,
                shipping: r.try_get("shipping")?,
            },
        );
    }
    Ok(first.iter_days().take_while(|d| *d <= last).map(|d| (d, found.get(&d).copied().unwrap_or_default())).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_just_after_local_midnight_counts_on_the_new_local_day() {
        // 2026-03-01 21:30 UTC is 00:30 on 2 March in Istanbul (UTC+3).
        let at = DateTime::parse_from_rfc3339("2026-03-01T21:30:00Z").unwrap().timestamp();
        assert_eq!(local_day(at, chrono_tz::Europe::Istanbul).to_string(), "2026-03-02");
        assert_eq!(local_day(at, Tz::UTC).to_string(), "2026-03-01");
    }

    #[test]
    fn only_paid_statuses_count_as_sales() {
        let mut acc = Accumulator::default();
        for status in ["pending", "failed", "cancelled", "processing", "completed"] {
            acc.add_order(
                Tz::UTC,
                &SaleFacts {
                    created_at: 0,
                    status,
                    currency: "TRY",
                    total: 100,
                    items: 1,
                    tax: 0,
                    shipping: 0,
                    lines: &[SoldLine { product_id: Some(7), name: "Mug".into(), quantity: 2, revenue: 80 }],
                },
            );
        }
        acc.add_refund(Tz::UTC, 0, "TRY", 30);
        let totals = acc.days.values().next().unwrap();
        assert_eq!((totals.orders, totals.gross, totals.net()), (2, 200, 170));
        let mug = acc.products.values().next().unwrap();
        assert_eq!((mug.quantity, mug.revenue), (4, 160));
    }
}
