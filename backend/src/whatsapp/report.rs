//! What the panel shows of WhatsApp: the recovery dashboard for a period, the carts with
//! each one's timeline, the message log with delivery states and Meta's errors, and
//! both lists as CSV (formula-safe: every phone starts with `+`).

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::{Result, csv, db::Db};

/// The recovery figures for carts captured in a period.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Dashboard {
    pub captured: i64,
    pub messaged: i64,
    pub clicked: i64,
    pub recovered: i64,
    /// Bought before any message went out (not counted as recovered).
    pub converted: i64,
    /// Recovered order totals, per currency, in minor units.
    pub revenue: Vec<(String, i64)>,
    /// Recovered ÷ messaged, 0 when nothing was messaged.
    pub conversion: f64,
    pub steps: Vec<StepFigures>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepFigures {
    pub step: i64,
    pub sent: i64,
    pub delivered: i64,
    pub read: i64,
    pub failed: i64,
    /// Carts recovered with this as the last message before the order.
    pub recovered: i64,
}

/// Figures for carts captured in `[from, to)` (Unix seconds).
pub async fn dashboard(db: &Db, from: i64, to: i64) -> Result<Dashboard> {
    let row = sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT) AS captured, \
         CAST(COALESCE(SUM(CASE WHEN first_messaged_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS messaged, \
         CAST(COALESCE(SUM(CASE WHEN clicks > 0 THEN 1 ELSE 0 END), 0) AS BIGINT) AS clicked, \
         CAST(COALESCE(SUM(CASE WHEN state = 'recovered' THEN 1 ELSE 0 END), 0) AS BIGINT) AS recovered, \
         CAST(COALESCE(SUM(CASE WHEN state = 'converted' THEN 1 ELSE 0 END), 0) AS BIGINT) AS converted \
         FROM whatsapp_carts WHERE captured_at >= $1 AND captured_at < $2",
    )
    .bind(from)
    .bind(to)
    .fetch_one(db.pool())
    .await?;
    let revenue: Vec<(String, i64)> = sqlx::query_as(
        "SELECT currency, CAST(SUM(order_total_minor) AS BIGINT) FROM whatsapp_carts \
         WHERE captured_at >= $1 AND captured_at < $2 AND state = 'recovered' GROUP BY currency ORDER BY currency",
    )
    .bind(from)
    .bind(to)
    .fetch_all(db.pool())
    .await?;
    let steps = sqlx::query(
        "SELECT m.step AS step, \
         CAST(SUM(CASE WHEN m.wamid IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT) AS sent, \
         CAST(SUM(CASE WHEN m.delivered_at IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT) AS delivered, \
         CAST(SUM(CASE WHEN m.read_at IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT) AS read, \
         CAST(SUM(CASE WHEN m.state = 'failed' THEN 1 ELSE 0 END) AS BIGINT) AS failed, \
         CAST(SUM(CASE WHEN c.state = 'recovered' AND c.steps_sent = m.step THEN 1 ELSE 0 END) AS BIGINT) AS recovered \
         FROM whatsapp_messages m JOIN whatsapp_carts c ON c.id = m.cart_id \
         WHERE c.captured_at >= $1 AND c.captured_at < $2 GROUP BY m.step ORDER BY m.step",
    )
    .bind(from)
    .bind(to)
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| {
        Ok(StepFigures {
            step: r.try_get("step")?,
            sent: r.try_get("sent")?,
            delivered: r.try_get("delivered")?,
            read: r.try_get("read")?,
            failed: r.try_get("failed")?,
            recovered: r.try_get("recovered")?,
        })
    })
    .collect::<Result<Vec<_>>>()?;
    let (messaged, recovered): (i64, i64) = (row.try_get("messaged")?, row.try_get("recovered")?);
    Ok(Dashboard {
        captured: row.try_get("captured")?,
        messaged,
        clicked: row.try_get("clicked")?,
        recovered,
        converted: row.try_get("converted")?,
        revenue,
        conversion: if messaged > 0 { recovered as f64 / messaged as f64 } else { 0.0 },
        steps,
    })
}

/// A cart in the list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartRow {
    pub id: i64,
    pub phone: String,
    pub name: String,
    pub email: String,
    pub state: String,
    pub stop_reason: Option<String>,
    pub total_minor: i64,
    pub currency: String,
    pub lines: i64,
    pub captured_at: i64,
    pub steps_sent: i64,
    pub next_step: Option<i64>,
    pub next_at: Option<i64>,
    pub clicks: i64,
    pub coupon_code: Option<String>,
    pub order_id: Option<i64>,
    pub order_total_minor: Option<i64>,
}

const CART_COLUMNS: &str = "id, phone, name, email, state, stop_reason, total_minor, currency, lines, captured_at, steps_sent, next_step, next_at, clicks, coupon_code, order_id, order_total_minor";

fn cart_row(r: &sqlx::any::AnyRow) -> Result<CartRow> {
    let lines: String = r.try_get("lines")?;
    Ok(CartRow {
        id: r.try_get("id")?,
        phone: r.try_get("phone")?,
        name: r.try_get("name")?,
        email: r.try_get("email")?,
        state: r.try_get("state")?,
        stop_reason: r.try_get("stop_reason")?,
        total_minor: r.try_get("total_minor")?,
        currency: r.try_get("currency")?,
        lines: serde_json::from_str::<Vec<serde_json::Value>>(&lines).map_or(0, |l| l.len() as i64),
        captured_at: r.try_get("captured_at")?,
        steps_sent: r.try_get("steps_sent")?,
        next_step: r.try_get("next_step")?,
        next_at: r.try_get("next_at")?,
        clicks: r.try_get("clicks")?,
        coupon_code: r.try_get("coupon_code")?,
        order_id: r.try_get("order_id")?,
        order_total_minor: r.try_get("order_total_minor")?,
    })
}

/// Carts, newest first, optionally of one state, before the id `before` (the next page).
pub async fn carts(db: &Db, state: Option<&str>, before: Option<i64>, limit: i64) -> Result<Vec<CartRow>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {CART_COLUMNS} FROM whatsapp_carts WHERE ($1 = '' OR state = $1) AND id < $2 ORDER BY id DESC LIMIT $3"
    )))
    .bind(state.unwrap_or_default())
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit.clamp(1, 500))
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(cart_row).collect()
}

/// One line of a cart's timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub at: i64,
    pub kind: String,
    pub detail: String,
}

/// A cart, its lines and its timeline (its events and its messages' delivery states).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartDetail {
    pub cart: CartRow,
    pub lines: Vec<super::carts::Line>,
    pub restore_url: String,
    pub timeline: Vec<TimelineEntry>,
}

pub async fn cart(db: &Db, id: i64) -> Result<Option<CartDetail>> {
    let Some(row) = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {CART_COLUMNS}, restore_url FROM whatsapp_carts WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(db.pool())
    .await?
    else {
        return Ok(None);
    };
    let mut timeline: Vec<TimelineEntry> = sqlx::query_as::<_, (i64, String, String)>(
        "SELECT at, kind, detail FROM whatsapp_cart_events WHERE cart_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(db.pool())
    .await?
    .into_iter()
    .map(|(at, kind, detail)| TimelineEntry { at, kind, detail })
    .collect();
    for message in sqlx::query("SELECT step, delivered_at, read_at, state, error_code, error_title, updated_at FROM whatsapp_messages WHERE cart_id = $1").bind(id).fetch_all(db.pool()).await? {
        let step: Option<i64> = message.try_get("step")?;
        let step = step.unwrap_or_default();
        if let Some(at) = message.try_get::<Option<i64>, _>("delivered_at")? {
            timeline.push(TimelineEntry { at, kind: "delivered".into(), detail: format!("message {step} delivered") });
        }
        if let Some(at) = message.try_get::<Option<i64>, _>("read_at")? {
            timeline.push(TimelineEntry { at, kind: "read".into(), detail: format!("message {step} read") });
        }
        if message.try_get::<String, _>("state")? == "failed" {
            let (code, title): (Option<i64>, Option<String>) = (message.try_get("error_code")?, message.try_get("error_title")?);
            let code = code.map(|c| format!(" ({c})")).unwrap_or_default();
            timeline.push(TimelineEntry { at: message.try_get("updated_at")?, kind: "failed".into(), detail: format!("message {step} failed{code}: {}", title.unwrap_or_default()) });
        }
    }
    timeline.sort_by_key(|e| e.at);
    let lines: String = row.try_get("lines")?;
    Ok(Some(CartDetail {
        cart: cart_row(&row)?,
        lines: serde_json::from_str(&lines).unwrap_or_default(),
        restore_url: row.try_get("restore_url")?,
        timeline,
    }))
}

/// A message in the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRow {
    pub id: i64,
    pub created_at: i64,
    pub to_phone: String,
    pub purpose: String,
    pub template: String,
    pub state: String,
    pub wamid: Option<String>,
    pub cart_id: Option<i64>,
    pub order_id: Option<i64>,
    pub sent_at: Option<i64>,
    pub delivered_at: Option<i64>,
    pub read_at: Option<i64>,
    pub error_code: Option<i64>,
    pub error_title: Option<String>,
    pub error_details: Option<String>,
}

/// Messages, newest first, optionally of one state.
pub async fn messages(db: &Db, state: Option<&str>, before: Option<i64>, limit: i64) -> Result<Vec<MessageRow>> {
    let rows = sqlx::query(
        "SELECT id, created_at, to_phone, purpose, template, state, wamid, cart_id, order_id, sent_at, delivered_at, read_at, error_code, error_title, error_details \
         FROM whatsapp_messages WHERE ($1 = '' OR state = $1) AND id < $2 ORDER BY id DESC LIMIT $3",
    )
    .bind(state.unwrap_or_default())
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit.clamp(1, 500))
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(MessageRow {
                id: r.try_get("id")?,
                created_at: r.try_get("created_at")?,
                to_phone: r.try_get("to_phone")?,
                purpose: r.try_get("purpose")?,
                template: r.try_get("template")?,
                state: r.try_get("state")?,
                wamid: r.try_get("wamid")?,
                cart_id: r.try_get("cart_id")?,
                order_id: r.try_get("order_id")?,
                sent_at: r.try_get("sent_at")?,
                delivered_at: r.try_get("delivered_at")?,
                read_at: r.try_get("read_at")?,
                error_code: r.try_get("error_code")?,
                error_title: r.try_get("error_title")?,
                error_details: r.try_get("error_details")?,
            })
        })
        .collect()
}

/// The page size of the CSV exports' reads.
const EXPORT_PAGE: i64 = 500;

fn time(at: Option<i64>) -> String {
    at.and_then(|t| chrono::DateTime::from_timestamp(t, 0))
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

/// Every cart as CSV (UTC times, amounts in minor units).
pub async fn carts_csv(db: &Db) -> Result<String> {
    let mut out = csv::document(&[
        "id",
        "captured_at_utc",
        "phone",
        "name",
        "email",
        "state",
        "stop_reason",
        "total_minor",
        "currency",
        "lines",
        "messages_sent",
        "clicks",
        "coupon",
        "order_id",
        "order_total_minor",
    ]);
    let mut before = None;
    loop {
        let page = carts(db, None, before, EXPORT_PAGE).await?;
        for c in &page {
            let cells = [
                c.id.to_string(),
                time(Some(c.captured_at)),
                c.phone.clone(),
                c.name.clone(),
                c.email.clone(),
                c.state.clone(),
                c.stop_reason.clone().unwrap_or_default(),
                c.total_minor.to_string(),
                c.currency.clone(),
                c.lines.to_string(),
                c.steps_sent.to_string(),
                c.clicks.to_string(),
                c.coupon_code.clone().unwrap_or_default(),
                c.order_id.map(|o| o.to_string()).unwrap_or_default(),
                c.order_total_minor.map(|o| o.to_string()).unwrap_or_default(),
            ];
            csv::row(&mut out, cells.iter().map(String::as_str));
        }
        match page.last() {
            Some(last) if page.len() as i64 == EXPORT_PAGE => before = Some(last.id),
            _ => return Ok(out),
        }
    }
}

/// Every message as CSV (UTC times).
pub async fn messages_csv(db: &Db) -> Result<String> {
    let mut out = csv::document(&[
        "id",
        "created_at_utc",
        "to",
        "purpose",
        "template",
        "state",
        "wamid",
        "cart_id",
        "order_id",
        "sent_at_utc",
        "delivered_at_utc",
        "read_at_utc",
        "error_code",
        "error",
    ]);
    let mut before = None;
    loop {
        let page = messages(db, None, before, EXPORT_PAGE).await?;
        for m in &page {
            let error =
                [m.error_title.clone(), m.error_details.clone()].into_iter().flatten().collect::<Vec<_>>().join(" — ");
            let cells = [
                m.id.to_string(),
                time(Some(m.created_at)),
                m.to_phone.clone(),
                m.purpose.clone(),
                m.template.clone(),
                m.state.clone(),
                m.wamid.clone().unwrap_or_default(),
                m.cart_id.map(|c| c.to_string()).unwrap_or_default(),
                m.order_id.map(|o| o.to_string()).unwrap_or_default(),
                time(m.sent_at),
                time(m.delivered_at),
                time(m.read_at),
                m.error_code.map(|c| c.to_string()).unwrap_or_default(),
                error,
            ];
            csv::row(&mut out, cells.iter().map(String::as_str));
        }
        match page.last() {
            Some(last) if page.len() as i64 == EXPORT_PAGE => before = Some(last.id),
            _ => return Ok(out),
        }
    }
}
