//! Sending a template message exactly once, within the shop's limits.
//!
//! A message is a row first ([`queue`]), keyed by what it is for (a cart's step, an
//! order's status, a test), so asking twice makes one row. [`deliver`] then:
//! - skips a phone that opted out (except a test send the manager asked for);
//! - takes the message for sending by setting `attempted_at` — in the same statement that
//!   checks the hourly cap ([`take`]) — and only then calls Meta ([`call`]);
//! - records Meta's id (wamid) when the answer comes ([`record_sent`]).
//!
//! A batch of recovery steps does the same in fewer writes: it queues and takes its new
//! messages in one statement ([`queue_and_take`]), and records the wamids with the
//! carts' own bookkeeping.
//!
//! A process that dies between Meta's acceptance and our record leaves `attempted_at`
//! without a wamid. The request carried `biz_opaque_callback_data` naming our row (by its
//! idempotency key, known before the row exists, so a message is written once), and
//! Meta's status webhook echoes it, so the webhook fills in the wamid ([`super::webhook`]).
//! Until it does the message is not sent again; when Meta stays silent past
//! [`UNCERTAIN_GRACE_SECS`] and the webhook is verified (so Meta would have told us), it
//! never took the message and it goes once more; without a verified webhook it is marked
//! failed rather than risk a second copy.
//!
//! Meta's answers: throughput limits (130429…) wait and retry without spending an
//! attempt; 131026 (undeliverable), 131047 (outside the 24-hour window) and other refusals
//! fail the message with Meta's code and text, not retried; 5xx and no connection retry
//! with backoff.

use serde_json::{Value, json};
use sqlx::Row;

use super::{
    WhatsApp,
    graph::{Account, GraphError},
};
use crate::{
    Result,
    clock::now,
    db::{self, Backend, Db, Value as DbValue},
    jobs::Failure,
};

/// How long a message whose answer was lost waits for Meta's status webhook.
pub const UNCERTAIN_GRACE_SECS: i64 = 600;

type Tx<'t> = sqlx::Transaction<'t, sqlx::Any>;

/// A message to queue.
#[derive(Clone, Debug)]
pub struct Outgoing {
    /// `recovery_1`…, `order_processing`…, or `test`.
    pub purpose: String,
    /// E.164 (`+905321234567`).
    pub to_phone: String,
    pub template: String,
    pub language: String,
    pub parameters: Vec<String>,
    /// The suffix of the template's link button (the recovery token).
    pub url_suffix: Option<String>,
    pub cart_id: Option<i64>,
    pub step: Option<i64>,
    pub order_id: Option<i64>,
    pub idempotency_key: String,
}

/// The request body Meta receives for a message (its idempotency key travels as callback
/// data).
pub fn request_body(out: &Outgoing) -> Value {
    let mut components = Vec::new();
    if !out.parameters.is_empty() {
        let parameters: Vec<Value> = out.parameters.iter().map(|p| json!({ "type": "text", "text": p })).collect();
        components.push(json!({ "type": "body", "parameters": parameters }));
    }
    if let Some(suffix) = &out.url_suffix {
        components.push(json!({ "type": "button", "sub_type": "url", "index": "0", "parameters": [{ "type": "text", "text": suffix }] }));
    }
    let mut template = json!({ "name": out.template, "language": { "code": out.language } });
    if !components.is_empty() {
        template["components"] = Value::Array(components);
    }
    json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": out.to_phone.trim_start_matches('+'),
        "type": "template",
        "template": template,
        "biz_opaque_callback_data": callback_data(&out.idempotency_key),
    })
}

pub fn callback_data(idempotency_key: &str) -> String {
    format!("backroom:{idempotency_key}")
}

/// Our message's idempotency key from the callback data Meta echoes.
pub fn key_of_callback(data: &str) -> Option<&str> {
    data.strip_prefix("backroom:").filter(|key| !key.is_empty())
}

/// A message in the queue: its id and the request Meta is to receive.
#[derive(Clone, Debug)]
pub struct Queued {
    pub id: i64,
    pub request: Value,
}

/// Queues a message once per idempotency key; returns it (the existing one, with the
/// request stored then, when the key was used before).
pub async fn queue(tx: &mut Tx<'_>, out: &Outgoing) -> Result<Queued> {
    let request = request_body(out);
    let backend = Backend::of(tx);
    match insert(&mut **tx, backend, std::slice::from_ref(out), std::slice::from_ref(&request), None).await?.first() {
        Some(&(_, id)) => Ok(Queued { id, request }),
        None => queued_before(&mut **tx, &out.idempotency_key).await,
    }
}

/// The message queued earlier under `idempotency_key`.
async fn queued_before<'e, E>(executor: E, idempotency_key: &str) -> Result<Queued>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row = sqlx::query("SELECT id, request FROM whatsapp_messages WHERE idempotency_key = $1")
        .bind(idempotency_key)
        .fetch_one(executor)
        .await?;
    Ok(Queued { id: row.try_get("id")?, request: stored_request(&row)? })
}

/// Inserts the messages (with their request bodies) in one statement, already taken for
/// sending at `taken_at` when given; returns the idempotency key and id of each one
/// inserted — not of those whose key was used before.
async fn insert<'e, E>(
    executor: E,
    backend: Backend,
    outs: &[Outgoing],
    requests: &[Value],
    taken_at: Option<i64>,
) -> Result<Vec<(String, i64)>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    const COLUMNS: &[&str] = &[
        "to_phone",
        "purpose",
        "template",
        "language",
        "state",
        "created_at",
        "updated_at",
        "idempotency_key",
        "cart_id",
        "step",
        "order_id",
        "request",
        "attempted_at",
        "attempts",
    ];
    let at = now();
    let values: Vec<DbValue> = outs
        .iter()
        .zip(requests)
        .flat_map(|(out, request)| {
            [
                DbValue::from(out.to_phone.as_str()),
                out.purpose.as_str().into(),
                out.template.as_str().into(),
                out.language.as_str().into(),
                "queued".into(),
                at.into(),
                at.into(),
                out.idempotency_key.as_str().into(),
                out.cart_id.into(),
                out.step.into(),
                out.order_id.into(),
                request.to_string().into(),
                taken_at.into(),
                i64::from(taken_at.is_some()).into(),
            ]
        })
        .collect();
    let sql = format!(
        "{} ON CONFLICT (idempotency_key) DO NOTHING RETURNING idempotency_key, id",
        db::insert_sql(backend, "whatsapp_messages", COLUMNS, outs.len())
    );
    Ok(db::bind_values(sqlx::query(sqlx::AssertSqlSafe(sql)), &values)
        .try_map(|row: sqlx::any::AnyRow| Ok((row.try_get(0)?, row.try_get(1)?)))
        .fetch_all(executor)
        .await?)
}

/// Queues new messages and takes them for sending at once — all in one statement when
/// no hourly cap is set, one by one under a cap. Returns, for each, its id, and its
/// request and attempts when taken; a message queued before (or held by the cap) is not
/// taken: [`deliver`] settles it.
pub async fn queue_and_take(
    db: &Db,
    outs: &[Outgoing],
    hourly_cap: i64,
    now: i64,
) -> Result<Vec<(i64, Option<(Value, i64)>)>> {
    let mut taken = Vec::with_capacity(outs.len());
    if hourly_cap > 0 {
        for out in outs {
            let mut tx = db.begin().await?;
            let queued = queue(&mut tx, out).await?;
            let attempts = take(&mut tx, db.backend(), queued.id, now, hourly_cap).await?;
            tx.commit().await?;
            taken.push((queued.id, attempts.map(|attempts| (queued.request, attempts))));
        }
        return Ok(taken);
    }
    let requests: Vec<Value> = outs.iter().map(request_body).collect();
    let inserted: std::collections::HashMap<String, i64> =
        insert(db.writer(), db.backend(), outs, &requests, Some(now)).await?.into_iter().collect();
    for (out, request) in outs.iter().zip(requests) {
        match inserted.get(&out.idempotency_key) {
            Some(&id) => taken.push((id, Some((request, 1)))),
            None => taken.push((queued_before(db.pool(), &out.idempotency_key).await?.id, None)),
        }
    }
    Ok(taken)
}

fn stored_request(row: &sqlx::any::AnyRow) -> Result<Value> {
    Ok(serde_json::from_str(&row.try_get::<String, _>("request")?).unwrap_or_default())
}

/// Meta refuses an empty text parameter; a missing value is sent as a dash.
pub fn non_empty(value: String) -> String {
    if value.trim().is_empty() { "-".to_owned() } else { value }
}

/// What became of a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivered {
    /// Meta took it (now or earlier): its wamid.
    Sent(String),
    /// Meta refused it for good (its code), or we did not send it (an opt-out: no code).
    Failed { code: Option<i64>, reason: String },
}

/// Sends a queued message, or tells what became of it, and records Meta's id. `Err`
/// puts the job off or retries it. `hourly_cap` is the configured cap (0: none).
pub async fn deliver(whatsapp: &WhatsApp, hourly_cap: i64, message_id: i64) -> Result<Delivered, Failure> {
    let db = &whatsapp.db;
    let row = sqlx::query("SELECT state, wamid, attempted_at, request, to_phone, purpose, error_code, error_title FROM whatsapp_messages WHERE id = $1")
        .bind(message_id)
        .fetch_one(db.pool())
        .await?;
    if let Some(wamid) = row.try_get::<Option<String>, _>("wamid")? {
        return Ok(Delivered::Sent(wamid));
    }
    if row.try_get::<String, _>("state")? == "failed" {
        return Ok(Delivered::Failed {
            code: row.try_get("error_code")?,
            reason: row.try_get::<Option<String>, _>("error_title")?.unwrap_or_default(),
        });
    }
    let to_phone: String = row.try_get("to_phone")?;
    let purpose: String = row.try_get("purpose")?;
    if purpose != "test" && super::carts::opted_out(db.pool(), &to_phone).await? {
        fail(whatsapp, message_id, None, "not sent: the customer opted out of WhatsApp messages", "").await?;
        return Ok(Delivered::Failed { code: None, reason: "opted out".into() });
    }
    let now = now();
    if let Some(attempted) = row.try_get::<Option<i64>, _>("attempted_at")? {
        // A send whose answer was lost: Meta's status webhook settles it.
        if now < attempted + UNCERTAIN_GRACE_SECS {
            return Err(Failure::RetryAt {
                reason: "waiting for Meta to confirm a message whose answer was lost".into(),
                at: (now + 15).min(attempted + UNCERTAIN_GRACE_SECS),
            });
        }
        let verified: Option<i64> =
            sqlx::query_scalar("SELECT webhook_verified_at FROM whatsapp_settings WHERE id = 1")
                .fetch_one(db.pool())
                .await?;
        if verified.is_none() {
            let reason = "Meta's answer was lost and, without a verified webhook, Meta cannot tell us whether it sent the message; it was not sent again so it cannot arrive twice";
            fail(whatsapp, message_id, None, reason, "").await?;
            return Ok(Delivered::Failed { code: None, reason: reason.into() });
        }
        // The webhook is verified and Meta never reported the message: it never took it.
        sqlx::query(
            "UPDATE whatsapp_messages SET attempted_at = NULL WHERE id = $1 AND wamid IS NULL AND attempted_at = $2",
        )
        .bind(message_id)
        .bind(attempted)
        .execute(db.writer())
        .await?;
    }
    let account = whatsapp.account().await?;
    let mut tx = db.begin().await?;
    let taken = take(&mut tx, db.backend(), message_id, now, hourly_cap).await?;
    tx.commit().await?;
    let Some(attempts) = taken else { return Err(not_taken(db, now, hourly_cap).await?) };
    let delivered = call(whatsapp, &account, message_id, attempts, &stored_request(&row)?, now).await?;
    if let Delivered::Sent(wamid) = &delivered {
        record_sent(db.writer(), message_id, wamid, now).await?;
    }
    Ok(delivered)
}

/// Why a message could not be taken for sending, and when to try again.
async fn not_taken(db: &crate::db::Db, now: i64, hourly_cap: i64) -> Result<Failure> {
    let oldest: Option<i64> =
        sqlx::query_scalar("SELECT MIN(attempted_at) FROM whatsapp_messages WHERE attempted_at > $1")
            .bind(now - 3600)
            .fetch_one(db.pool())
            .await?;
    let at = if hourly_cap > 0 { oldest.map_or(now + 60, |o| o + 3601) } else { now + 15 };
    Ok(Failure::RetryAt {
        reason: format!("the hourly cap of {hourly_cap} messages is reached, or another worker is sending it"),
        at,
    })
}

/// Takes the message for sending (sets `attempted_at`), if no one else has and the
/// hourly cap allows; returns its attempts so far, this one included. With a cap, the
/// count and the take are serialised by a lock on the settings row (Postgres; SQLite
/// writes one at a time anyway), so concurrent workers cannot go over it. In the
/// caller's transaction, so queueing and taking a new message is one write.
async fn take(tx: &mut Tx<'_>, backend: Backend, message_id: i64, now: i64, hourly_cap: i64) -> Result<Option<i64>> {
    if hourly_cap > 0 && backend == Backend::Postgres {
        sqlx::query("SELECT id FROM whatsapp_settings WHERE id = 1 FOR UPDATE").execute(&mut **tx).await?;
    }
    let cap_condition = if hourly_cap > 0 {
        "AND (SELECT COUNT(*) FROM whatsapp_messages WHERE attempted_at > $3) < $4"
    } else {
        "AND $3 = $3 AND $4 = $4"
    };
    let attempts: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "UPDATE whatsapp_messages SET attempted_at = $1, attempts = attempts + 1, updated_at = $1 \
         WHERE id = $2 AND wamid IS NULL AND attempted_at IS NULL AND state = 'queued' {cap_condition} RETURNING attempts"
    )))
    .bind(now)
    .bind(message_id)
    .bind(now - 3600)
    .bind(hourly_cap)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(attempts)
}

/// Calls Meta with a message taken for sending ([`take`]). `Sent` carries Meta's id,
/// which the caller records with [`record_sent`] (in its own transaction, with what else
/// the sending changes); a failure is recorded here.
pub async fn call(
    whatsapp: &WhatsApp,
    account: &Account,
    message_id: i64,
    attempts: i64,
    request: &Value,
    now: i64,
) -> Result<Delivered, Failure> {
    let db = &whatsapp.db;
    match whatsapp.client(account).send(request).await {
        Ok(wamid) => Ok(Delivered::Sent(wamid)),
        Err(GraphError::Uncertain(why)) => {
            note_error(
                whatsapp,
                message_id,
                &format!("Meta's answer did not arrive ({why}); waiting for its status webhook"),
            )
            .await?;
            Err(Failure::RetryAt { reason: format!("Meta's answer did not arrive ({why})"), at: now + 15 })
        }
        Err(error) => {
            // Meta answered (or was never reached): it did not take the message.
            sqlx::query("UPDATE whatsapp_messages SET attempted_at = NULL WHERE id = $1")
                .bind(message_id)
                .execute(db.writer())
                .await?;
            let words = error.plain_words();
            if error.is_rate_limit() {
                note_error(whatsapp, message_id, &words).await?;
                Err(Failure::RetryAt { reason: words, at: now + (30 * attempts.clamp(1, 20)) })
            } else if error.is_transient() || error.is_auth() {
                note_error(whatsapp, message_id, &words).await?;
                Err(Failure::Retry(words))
            } else {
                let (code, title, details) = match &error {
                    GraphError::Meta { code, title, details, .. } => (Some(*code), title.as_str(), details.as_str()),
                    _ => (None, words.as_str(), ""),
                };
                fail(whatsapp, message_id, code, title, details).await?;
                Ok(Delivered::Failed { code, reason: words })
            }
        }
    }
}

/// Records Meta's id for a sent message (a no-op when its status webhook came first).
pub async fn record_sent<'e, E>(executor: E, message_id: i64, wamid: &str, at: i64) -> Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "UPDATE whatsapp_messages SET wamid = $1, state = CASE WHEN state = 'queued' THEN 'sent' ELSE state END, \
         sent_at = COALESCE(sent_at, $2), updated_at = $2 WHERE id = $3 AND wamid IS NULL",
    )
    .bind(wamid)
    .bind(at)
    .bind(message_id)
    .execute(executor)
    .await?;
    Ok(())
}

/// Marks a message failed for good, with Meta's code and text when Meta answered.
pub async fn fail(whatsapp: &WhatsApp, message_id: i64, code: Option<i64>, title: &str, details: &str) -> Result<()> {
    sqlx::query(
        "UPDATE whatsapp_messages SET state = 'failed', error_code = $1, error_title = $2, error_details = $3, updated_at = $4 \
         WHERE id = $5 AND wamid IS NULL",
    )
    .bind(code)
    .bind(title)
    .bind(details)
    .bind(now())
    .bind(message_id)
    .execute(whatsapp.db.writer())
    .await?;
    Ok(())
}

/// Keeps the latest error of a message that will be tried again (its state unchanged).
async fn note_error(whatsapp: &WhatsApp, message_id: i64, error: &str) -> Result<()> {
    sqlx::query("UPDATE whatsapp_messages SET error_details = $1, updated_at = $2 WHERE id = $3")
        .bind(error)
        .bind(now())
        .bind(message_id)
        .execute(whatsapp.db.writer())
        .await?;
    Ok(())
}

/// The job that sends one queued message.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct SendMessage {
    pub message_id: i64,
}

impl crate::jobs::Payload for SendMessage {
    const KIND: &'static str = super::SEND_JOB;
}

/// The job that sends one queued message (order notifications).
pub async fn run(whatsapp: &WhatsApp, message_id: i64) -> Result<(), Failure> {
    let hourly_cap = super::settings::config(whatsapp.db.pool()).await?.hourly_cap;
    deliver(whatsapp, hourly_cap, message_id).await.map(drop)
}
