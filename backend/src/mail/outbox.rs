//! The outbox: an email is a row written in the same transaction as what caused it (a
//! customer note, a ticket), plus a `mail.send` job in that transaction. The job sends
//! it: on success the row is `sent`; a temporary failure (a 4xx reply, the server down)
//! is retried with the jobs' backoff for about three days; a permanent one (5xx) marks
//! the row `failed` with the server's reply, for the panel to show. A retried message
//! keeps its Message-ID.
//!
//! Delivery is at least once: a crash in the instant between the mail server's "250 OK"
//! and the row turning `sent` sends that message again on the retry (with the same
//! Message-ID, by which mail clients recognise the copy). Nothing is lost.

use lettre::{
    Message,
    message::{Mailbox, MultiPart},
};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::{
    Sender,
    templates::{Rendered, one_line},
    transport::{SendError, Transport},
};
use crate::{
    Error, Result,
    clock::now,
    db::Db,
    jobs::{self, NewJob},
};

pub const SEND_JOB: &str = "mail.send";

/// The job that sends one queued email.
#[derive(Debug, Serialize, Deserialize)]
pub struct SendMail {
    pub mail_id: i64,
}

impl jobs::Payload for SendMail {
    const KIND: &'static str = SEND_JOB;
}
/// With the jobs' backoff (doubling from 30 s, at most 6 h apart) this is about three
/// days of trying before a message is given up.
const MAX_ATTEMPTS: i64 = 20;
/// The longest address we accept (RFC 5321 allows 254).
const MAX_ADDRESS: usize = 254;

/// An email to queue.
pub struct NewMail<'a> {
    /// What it is, e.g. `order.customer_note`; names the `.eml` file too.
    pub kind: &'a str,
    pub to_address: &'a str,
    pub to_name: &'a str,
    pub content: &'a Rendered,
    pub reply_to: Option<&'a str>,
    pub order_id: Option<i64>,
    pub ticket_id: Option<i64>,
}

/// Checks an address we are about to send to; fails with a message saying so.
pub fn parse_address(address: &str) -> Result<lettre::Address> {
    let address = address.trim();
    if address.len() > MAX_ADDRESS {
        return Err(Error::invalid(format!("an email address is at most {MAX_ADDRESS} characters")));
    }
    address.parse().map_err(|_| Error::invalid(format!("“{}” is not an email address", one_line(address))))
}

/// Writes the email and its sending job in the caller's transaction; returns its id.
pub async fn queue(conn: &mut sqlx::AnyConnection, mail: &NewMail<'_>) -> Result<i64> {
    let to = parse_address(mail.to_address)?;
    if let Some(reply_to) = mail.reply_to {
        parse_address(reply_to)?;
    }
    let now = now();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO mail_outbox (kind, to_address, to_name, subject, text_body, html_body, reply_to, message_id, state, \
         order_id, ticket_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued', $9, $10, $11, $11) RETURNING id",
    )
    .bind(mail.kind)
    .bind(to.to_string())
    .bind(one_line(mail.to_name))
    .bind(one_line(&mail.content.subject))
    .bind(&mail.content.text)
    .bind(&mail.content.html)
    .bind(mail.reply_to.map(str::trim))
    .bind(uuid::Uuid::new_v4().simple().to_string())
    .bind(mail.order_id)
    .bind(mail.ticket_id)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    jobs::enqueue(
        &mut *conn,
        &NewJob {
            idempotency_key: Some(format!("mail:{id}")),
            max_attempts: MAX_ATTEMPTS,
            ..NewJob::of(&SendMail { mail_id: id })
        },
    )
    .await?;
    Ok(id)
}

/// One email as the panel lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub id: i64,
    pub kind: String,
    pub to_address: String,
    pub to_name: String,
    pub subject: String,
    /// `queued`, `sent` or `failed`.
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub order_id: Option<i64>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

/// The newest emails first, `limit` of them, older than `before_id` when given.
pub async fn recent(db: &Db, state: Option<&str>, before_id: Option<i64>, limit: i64) -> Result<Vec<OutboxEntry>> {
    let rows = sqlx::query(
        "SELECT id, kind, to_address, to_name, subject, state, attempts, last_error, order_id, created_at, sent_at \
         FROM mail_outbox WHERE ($1 = '' OR state = $1) AND id < $2 ORDER BY id DESC LIMIT $3",
    )
    .bind(state.unwrap_or(""))
    .bind(before_id.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(OutboxEntry {
                id: r.try_get("id")?,
                kind: r.try_get("kind")?,
                to_address: r.try_get("to_address")?,
                to_name: r.try_get("to_name")?,
                subject: r.try_get("subject")?,
                state: r.try_get("state")?,
                attempts: r.try_get("attempts")?,
                last_error: r.try_get("last_error")?,
                order_id: r.try_get("order_id")?,
                created_at: r.try_get("created_at")?,
                sent_at: r.try_get("sent_at")?,
            })
        })
        .collect()
}

/// Queues a failed email again (after the address or the mail server was fixed).
pub async fn retry(db: &Db, id: i64) -> Result<()> {
    let mut tx = db.begin().await?;
    let attempts: Option<i64> = sqlx::query_scalar(
        "UPDATE mail_outbox SET state = 'queued', updated_at = $1 WHERE id = $2 AND state = 'failed' RETURNING attempts",
    )
    .bind(now())
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let attempts = attempts.ok_or_else(|| Error::Conflict("only a failed email can be sent again".into()))?;
    jobs::enqueue(
        &mut *tx,
        &NewJob {
            idempotency_key: Some(format!("mail:{id}:retry:{attempts}")),
            max_attempts: MAX_ATTEMPTS,
            ..NewJob::of(&SendMail { mail_id: id })
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The `mail.send` job: sends email `id` if it is still queued. `Err` asks the job to be
/// tried again later; on the last attempt a temporary failure marks the email failed.
pub async fn send(db: &Db, transport: &Transport, id: i64, last_attempt: bool) -> std::result::Result<(), String> {
    let row = sqlx::query(
        "SELECT kind, to_address, to_name, subject, text_body, html_body, reply_to, message_id FROM mail_outbox \
         WHERE id = $1 AND state = 'queued'",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await
    .map_err(|e| e.to_string())?;
    // Sent, failed for good, or gone: nothing to do.
    let Some(row) = row else { return Ok(()) };
    let field = |name: &str| row.try_get::<String, _>(name).map_err(|e| e.to_string());
    let kind = field("kind")?;
    let store = crate::settings::get(db).await.map_err(|e| e.report())?;
    let sender = super::settings(db).await.map_err(|e| e.report())?.sender(&store);
    let built = message(&sender, &row).map_err(|e| e.to_string());
    let outcome = match built {
        Ok(message) => transport.send(&message, &format!("{id:08}-{}", kind.replace('.', "-"))).await,
        Err(reason) => Err(SendError::Permanent(reason)),
    };
    let (state, error) = match &outcome {
        Ok(()) => ("sent", None),
        Err(SendError::Permanent(reply)) => ("failed", Some(reply.as_str())),
        Err(SendError::Temporary(reply)) if last_attempt => ("failed", Some(reply.as_str())),
        Err(SendError::Temporary(reply)) => ("queued", Some(reply.as_str())),
    };
    let now = now();
    sqlx::query(
        "UPDATE mail_outbox SET state = $1, last_error = $2, attempts = attempts + 1, updated_at = $3, \
         sent_at = CASE WHEN $1 = 'sent' THEN $3 ELSE sent_at END WHERE id = $4",
    )
    .bind(state)
    .bind(error)
    .bind(now)
    .bind(id)
    .execute(db.writer())
    .await
    .map_err(|e| e.to_string())?;
    match outcome {
        Err(SendError::Temporary(reply)) if !last_attempt => Err(reply),
        Err(SendError::Permanent(reply)) | Err(SendError::Temporary(reply)) => {
            tracing::warn!(mail = id, %kind, reply, "an email could not be sent");
            Ok(())
        }
        Ok(()) => Ok(()),
    }
}

/// The message as it goes on the wire: the shop as the sender, both parts, the stored
/// Message-ID. lettre encodes names and subjects (RFC 2047), and they were made one line
/// when queued, so nothing a customer typed can add a header.
fn message(sender: &Sender, row: &sqlx::any::AnyRow) -> std::result::Result<Message, Box<dyn std::error::Error>> {
    let from: lettre::Address = sender.address.parse()?;
    let to: lettre::Address = row.try_get::<String, _>("to_address")?.parse()?;
    let to_name: String = row.try_get("to_name")?;
    let message_id = format!("<{}@{}>", row.try_get::<String, _>("message_id")?, from.domain());
    let mut builder = Message::builder()
        .from(Mailbox::new(Some(sender.name.clone()), from))
        .to(Mailbox::new((!to_name.is_empty()).then_some(to_name), to))
        .subject(row.try_get::<String, _>("subject")?)
        .message_id(Some(message_id));
    if let Some(reply_to) = row.try_get::<Option<String>, _>("reply_to")? {
        builder = builder.reply_to(Mailbox::new(None, reply_to.parse()?));
    }
    let text: String = row.try_get("text_body")?;
    let html: String = row.try_get("html_body")?;
    Ok(builder.multipart(MultiPart::alternative_plain_html(text, html))?)
}
