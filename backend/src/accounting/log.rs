//! The request log: every request to the ledger and its answer, kept for the configured
//! number of days. The API key never reaches it (it travels in a header, and headers are
//! not logged); with "redact personal data" on, names, addresses, emails, phones and tax
//! ids are replaced before anything is written.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;

use super::cari::Exchange;
use crate::{Result, clock::now, db::Db};

/// The payload fields that hold personal data (see [`super::mapping`]).
const PERSONAL_FIELDS: &[&str] = &[
    "ad",
    "soyad",
    "unvan",
    "eposta",
    "telefon",
    "vergi_no",
    "vergi_dairesi",
    "tc_kimlik_no",
    "satir1",
    "satir2",
    "posta_kodu",
];
const REDACTED: &str = "[redacted]";

/// Writes each exchange of one sync to the log, for one document and order.
#[derive(Clone, Copy)]
pub struct Recorder<'a> {
    pub db: &'a Db,
    pub document_id: Option<i64>,
    pub order_id: Option<i64>,
    pub redact: bool,
}

impl Recorder<'_> {
    /// Logs an exchange; a log that cannot be written is reported, never fatal to a sync.
    pub async fn record(&self, exchange: &Exchange) {
        let redact_text = |text: &str| match serde_json::from_str::<Value>(text) {
            Ok(mut value) => {
                redact(&mut value);
                value.to_string()
            }
            Err(_) => text.to_owned(),
        };
        let (url, request, response) = if self.redact {
            let mut request = exchange.request.clone();
            if let Some(body) = &mut request {
                redact(body);
            }
            (redact_query(&exchange.url), request, exchange.response.as_deref().map(redact_text))
        } else {
            (exchange.url.clone(), exchange.request.clone(), exchange.response.clone())
        };
        let written = sqlx::query(
            "INSERT INTO accounting_log (document_id, order_id, operation, method, url, status, duration_ms, request, response, error, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(self.document_id)
        .bind(self.order_id)
        .bind(exchange.operation)
        .bind(exchange.method)
        .bind(url)
        .bind(exchange.status.map(i64::from))
        .bind(exchange.duration_ms)
        .bind(request.map(|r| r.to_string()))
        .bind(response)
        .bind(&exchange.error)
        .bind(now())
        .execute(self.db.writer())
        .await;
        if let Err(e) = written {
            tracing::warn!(error = %e, "could not write the accounting request log");
        }
    }
}

/// Replaces personal fields anywhere in a payload.
pub fn redact(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, field) in map.iter_mut() {
                if PERSONAL_FIELDS.contains(&key.as_str()) && !field.is_null() {
                    *field = Value::String(REDACTED.into());
                } else {
                    redact(field);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

/// A lookup's query names a person (`?eposta=…`): keep the name of the field only.
fn redact_query(url: &str) -> String {
    match url.split_once('?') {
        Some((path, query)) => {
            let fields: Vec<String> =
                query.split('&').map(|pair| format!("{}={REDACTED}", pair.split('=').next().unwrap_or(""))).collect();
            format!("{path}?{}", fields.join("&"))
        }
        None => url.to_owned(),
    }
}

/// One logged exchange, as the panel lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    pub id: i64,
    pub document_id: Option<i64>,
    pub order_id: Option<i64>,
    pub operation: String,
    pub method: String,
    pub url: String,
    pub status: Option<i64>,
    pub duration_ms: i64,
    pub request: Option<String>,
    pub response: Option<String>,
    pub error: Option<String>,
    pub created_at: i64,
}

/// The newest entries first, of one order or of all; `before` pages back by id.
pub async fn entries(
    db: &Db,
    order_id: Option<i64>,
    errors_only: bool,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<LogEntry>> {
    let rows = sqlx::query(
        "SELECT id, document_id, order_id, operation, method, url, status, duration_ms, request, response, error, created_at \
         FROM accounting_log WHERE ($1 IS NULL OR order_id = $1) AND ($2 = 0 OR error IS NOT NULL) AND ($3 IS NULL OR id < $3) \
         ORDER BY id DESC LIMIT $4",
    )
    .bind(order_id)
    .bind(i64::from(errors_only))
    .bind(before)
    .bind(limit.clamp(1, 500))
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(LogEntry {
                id: r.try_get("id")?,
                document_id: r.try_get("document_id")?,
                order_id: r.try_get("order_id")?,
                operation: r.try_get("operation")?,
                method: r.try_get("method")?,
                url: r.try_get("url")?,
                status: r.try_get("status")?,
                duration_ms: r.try_get("duration_ms")?,
                request: r.try_get("request")?,
                response: r.try_get("response")?,
                error: r.try_get("error")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect()
}

/// Deletes entries older than `days`; returns how many.
pub async fn prune(db: &Db, days: i64) -> Result<u64> {
    let done = sqlx::query("DELETE FROM accounting_log WHERE created_at < $1")
        .bind(now() - days.max(1) * 86_400)
        .execute(db.writer())
        .await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_fields_are_replaced_wherever_they_are() {
        let mut request = serde_json::json!({
            "referans": "backroom-invoice-1",
            "cari": {"ad": "Şule", "eposta": "s@example.com", "adres": {"satir1": "Bağdat Cd. 5", "il": "İstanbul"}},
            "satirlar": [{"aciklama": "Çay", "miktar": 2}]
        });
        redact(&mut request);
        assert_eq!(request["cari"]["ad"], "[redacted]");
        assert_eq!(request["cari"]["eposta"], "[redacted]");
        assert_eq!(request["cari"]["adres"]["satir1"], "[redacted]");
        assert_eq!(request["cari"]["adres"]["il"], "İstanbul");
        assert_eq!(request["satirlar"][0]["aciklama"], "Çay");
        assert_eq!(
            redact_query("https://x/v1/cariler?eposta=s%40example.com"),
            "https://x/v1/cariler?eposta=[redacted]"
        );
    }
}
