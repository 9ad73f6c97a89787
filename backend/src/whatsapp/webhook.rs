//! Meta's webhook. Verification: Meta calls with `hub.mode=subscribe`, our verify token
//! and a challenge, and gets the challenge back. Deliveries: the signature
//! (`X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>`) is checked over
//! the bytes as received — Meta escapes non-ASCII (`\u00e7`) in what it signs, so a
//! re-serialisation would not match — before anything else; a good delivery is stored
//! (concurrent ones share an insert: [`crate::intake::Intake`]) and answered at once; the WhatsApp
//! workers apply stored deliveries in batches ([`process_pending`]). Statuses move a
//! message forward only (sent → delivered → read; failed keeps Meta's code, title and
//! details), so duplicates and out-of-order deliveries change nothing; a status for a
//! message whose send answer was lost finds it by the callback data it was sent with. An
//! inbound text that is an opt-out word (STOP, DUR, …) opts its sender out and stops
//! their cart.

use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;

use super::{carts, config::Config, send};
use crate::{Result, clock::now, db::Db};

/// Answers Meta's verification: the challenge when the mode and token are right.
pub async fn verify_subscription(
    db: &Db,
    mode: Option<&str>,
    token: Option<&str>,
    challenge: Option<&str>,
) -> Result<Option<String>> {
    let expected = super::settings::get(db).await?.verify_token;
    let (Some("subscribe"), Some(token), Some(challenge)) = (mode, token, challenge) else { return Ok(None) };
    if token.is_empty()
        || !crate::access::secret::constant_time_eq(token.as_bytes(), expected.as_bytes())
        || challenge.len() > 200
    {
        return Ok(None);
    }
    sqlx::query("UPDATE whatsapp_settings SET webhook_verified_at = $1 WHERE id = 1")
        .bind(now())
        .execute(db.writer())
        .await?;
    Ok(Some(challenge.to_owned()))
}

/// Whether `header` is `sha256=` and the HMAC-SHA256 of `body` under `secret`, in hex.
pub fn signature_is_valid(secret: &[u8], body: &[u8], header: Option<&str>) -> bool {
    let Some(hex) = header.and_then(|h| h.trim().strip_prefix("sha256=")) else { return false };
    let Some(signature) = decode_hex(hex) else { return false };
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(body);
    mac.verify_slice(&signature).is_ok()
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if hex.len() != 64 {
        return None;
    }
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()).collect()
}

/// One status Meta reported for one of our messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub wamid: String,
    /// `sent`, `delivered`, `read` or `failed`.
    pub status: String,
    pub at: i64,
    pub error_code: Option<i64>,
    pub error_title: Option<String>,
    pub error_details: Option<String>,
    /// Our message's idempotency key, from the callback data it was sent with.
    pub message_key: Option<String>,
}

/// The statuses in a delivery (`entry[].changes[].value.statuses[]`); anything else in
/// it is left for later capabilities.
pub fn statuses(body: &Value) -> Vec<Status> {
    array(body, "entry")
        .flat_map(|entry| array(entry, "changes"))
        .flat_map(|change| array(&change["value"], "statuses"))
        .filter_map(|s| {
            let status = s["status"].as_str()?;
            if !matches!(status, "sent" | "delivered" | "read" | "failed") {
                return None;
            }
            let error = s["errors"].as_array().and_then(|e| e.first());
            Some(Status {
                wamid: s["id"].as_str()?.to_owned(),
                status: status.to_owned(),
                at: s["timestamp"]
                    .as_str()
                    .and_then(|t| t.parse().ok())
                    .or_else(|| s["timestamp"].as_i64())
                    .unwrap_or_else(now),
                error_code: error.and_then(|e| e["code"].as_i64()),
                error_title: error.and_then(|e| e["title"].as_str().or(e["message"].as_str())).map(str::to_owned),
                error_details: error.and_then(|e| e["error_data"]["details"].as_str()).map(str::to_owned),
                message_key: s["biz_opaque_callback_data"].as_str().and_then(send::key_of_callback).map(str::to_owned),
            })
        })
        .collect()
}

/// An inbound text: who sent it and what it says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inbound {
    /// E.164.
    pub from: String,
    pub text: String,
}

/// The text messages in a delivery (`entry[].changes[].value.messages[]`; a button reply
/// counts by its text).
pub fn inbound(body: &Value) -> Vec<Inbound> {
    array(body, "entry")
        .flat_map(|entry| array(entry, "changes"))
        .flat_map(|change| array(&change["value"], "messages"))
        .filter_map(|m| {
            let from = m["from"].as_str()?.trim_start_matches('+');
            let text = m["text"]["body"]
                .as_str()
                .or(m["button"]["text"].as_str())
                .or(m["interactive"]["button_reply"]["title"].as_str())?;
            Some(Inbound { from: format!("+{from}"), text: text.to_owned() })
        })
        .collect()
}

fn array<'v>(value: &'v Value, key: &str) -> impl Iterator<Item = &'v Value> {
    value.get(key).and_then(Value::as_array).into_iter().flatten()
}

/// How far along a state is; a status applies only when it is further.
const RANK: &str = "CASE {} WHEN 'queued' THEN 0 WHEN 'sent' THEN 1 WHEN 'delivered' THEN 2 WHEN 'read' THEN 3 WHEN 'failed' THEN 4 ELSE 0 END";

/// Moves the message forward to `status`; returns whether it moved. A message without a
/// wamid (its send answer was lost) is found by the callback data and given it.
pub async fn apply<'e, E>(executor: E, status: &Status) -> Result<bool>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!(
        "UPDATE whatsapp_messages SET state = $1, updated_at = $2, wamid = COALESCE(wamid, $7), \
         sent_at = COALESCE(sent_at, $3), \
         delivered_at = CASE WHEN $1 IN ('delivered', 'read') THEN COALESCE(delivered_at, $3) ELSE delivered_at END, \
         read_at = CASE WHEN $1 = 'read' THEN COALESCE(read_at, $3) ELSE read_at END, \
         error_code = CASE WHEN $1 = 'failed' THEN $4 ELSE error_code END, \
         error_title = CASE WHEN $1 = 'failed' THEN $5 ELSE error_title END, \
         error_details = CASE WHEN $1 = 'failed' THEN $6 ELSE error_details END \
         WHERE (wamid = $7 OR (wamid IS NULL AND idempotency_key = $8)) AND {} < {}",
        RANK.replace("{}", "state"),
        RANK.replace("{}", "CAST($1 AS TEXT)"),
    );
    let moved = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&status.status)
        .bind(now())
        .bind(status.at)
        .bind(status.error_code)
        .bind(&status.error_title)
        .bind(&status.error_details)
        .bind(&status.wamid)
        .bind(status.message_key.as_deref().unwrap_or(""))
        .execute(executor)
        .await?;
    Ok(moved.rows_affected() == 1)
}

/// How many stored deliveries one batch applies.
const BATCH: i64 = 200;

/// Applies the stored deliveries not yet processed, a batch per transaction, oldest
/// first; returns how many it applied. Applying one twice changes nothing, so two
/// processes draining at once are harmless.
pub async fn process_pending(db: &Db) -> Result<usize> {
    let mut done = 0;
    loop {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT id, body FROM whatsapp_webhook_events WHERE processed_at IS NULL ORDER BY id LIMIT $1",
        )
        .bind(BATCH)
        .fetch_all(db.pool())
        .await?;
        if rows.is_empty() {
            return Ok(done);
        }
        let config = super::settings::config(db.pool()).await?;
        let mut tx = db.begin().await?;
        for (_, body) in &rows {
            apply_delivery(&mut tx, &config, body).await?;
        }
        // Exactly the rows read: one with a smaller id may commit later (Postgres).
        let ids = rows.iter().map(|(id, _)| id.to_string()).collect::<Vec<_>>().join(",");
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE whatsapp_webhook_events SET processed_at = $1 WHERE id IN ({ids})"
        )))
        .bind(now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        done += rows.len();
        if rows.len() < BATCH as usize {
            return Ok(done);
        }
    }
}

/// How long applied deliveries are kept (for looking into what Meta sent).
const KEEP_DAYS: i64 = 30;

/// Deletes applied deliveries past [`KEEP_DAYS`] (the nightly clean-up).
pub async fn prune(db: &Db) -> Result<u64> {
    let gone = sqlx::query("DELETE FROM whatsapp_webhook_events WHERE processed_at IS NOT NULL AND received_at < $1")
        .bind(now() - KEEP_DAYS * 86_400)
        .execute(db.writer())
        .await?;
    Ok(gone.rows_affected())
}

async fn apply_delivery(tx: &mut sqlx::Transaction<'_, sqlx::Any>, config: &Config, body: &str) -> Result<()> {
    let parsed: Value = serde_json::from_str(body).unwrap_or_default();
    for status in statuses(&parsed) {
        apply(&mut **tx, &status).await?;
    }
    for message in inbound(&parsed) {
        if config.is_opt_out(&message.text) {
            tracing::info!("a customer opted out of WhatsApp messages by reply");
            carts::opt_out(tx, &message.from, "reply").await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(secret: &[u8], body: &[u8]) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).unwrap();
        mac.update(body);
        let bytes = mac.finalize().into_bytes();
        format!("sha256={}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
    }

    #[test]
    fn the_signature_is_checked_over_the_bytes_as_received() {
        // Meta escapes "ç" as \u00e7 in what it signs; the same text re-serialised differs.
        let body =
            br#"{"entry":[{"changes":[{"value":{"messages":[{"text":{"body":"te\u015fekk\u00fcrler \u00e7ok"}}]}}]}]}"#;
        let header = sign(b"app-secret", body);
        assert!(signature_is_valid(b"app-secret", body, Some(&header)));
        let reserialised = serde_json::to_vec(&serde_json::from_slice::<Value>(body).unwrap()).unwrap();
        assert!(!signature_is_valid(b"app-secret", &reserialised, Some(&header)));
        assert!(!signature_is_valid(b"another-secret", body, Some(&header)));
        for wrong in [
            "",
            "sha256=",
            "sha1=abcd",
            &header.replace("sha256=", "sha256=zz"),
            &header[..header.len() - 2],
            &header.to_uppercase(),
        ] {
            assert!(!signature_is_valid(b"app-secret", body, Some(wrong)), "{wrong}");
        }
        assert!(!signature_is_valid(b"app-secret", body, None));
    }

    #[test]
    fn statuses_are_read_with_metas_error_details() {
        let body = serde_json::json!({"entry": [{"changes": [{"value": {"statuses": [
            {"id": "wamid.1", "status": "delivered", "timestamp": "1796000000"},
            {"id": "wamid.2", "status": "failed", "timestamp": "1796000001",
             "errors": [{"code": 131026, "title": "Message undeliverable", "error_data": {"details": "not on WhatsApp"}}]},
            {"id": "wamid.3", "status": "deleted"}
        ]}}]}]});
        let found = statuses(&body);
        assert_eq!(found.len(), 2);
        assert_eq!(
            (found[0].wamid.as_str(), found[0].status.as_str(), found[0].at),
            ("wamid.1", "delivered", 1_796_000_000)
        );
        assert_eq!(found[1].error_code, Some(131026));
        assert_eq!(found[1].error_details.as_deref(), Some("not on WhatsApp"));
    }
}
