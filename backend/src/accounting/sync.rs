//! Sending one document to the ledger: the `accounting.sync` job.
//!
//! For an invoice: match or create the customer (one creator per customer at a time, so
//! concurrent syncs never make two), give the invoice its number (once: a retry keeps
//! it, so the series has no gaps and no reuse), then create it — or, when an earlier
//! attempt may have reached the ledger (`sent_at` is set), first ask for it by our
//! reference. A resync updates the invoice the ledger already has. Credit notes go the
//! same way, once their order's invoice is in the ledger.
//!
//! What goes wrong decides what happens next: a timeout, a 5xx or an unreadable answer
//! is retried with backoff until the attempts run out (then the document is dead, on the
//! errors list); 429 waits as long as asked, without spending an attempt; 401/403 pauses
//! all syncing until the settings are saved again; any other 4xx is dead at once (the
//! ledger will not take it as it is; the reason says why).

use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::{
    Accounting, DocumentKind,
    cari::{CallError, Client, DocumentPath, Remote},
    log::Recorder,
    mapping,
    settings::{self, AccountingSettings, Numbering},
};
use crate::{
    Error, Result,
    clock::now,
    db::Db,
    jobs::{ClaimedJob, Failure},
    orders::detail::{self, Order},
};

/// How long a held-back job waits before it looks again (a pause, settings missing).
const HELD_BACK_SECS: i64 = 3600;
/// How long another sync's claim on creating a customer makes this one wait.
const CUSTOMER_CLAIM_WAIT_SECS: i64 = 2;
const CUSTOMER_CLAIM_SECS: i64 = 120;
/// How often, and how many times, a sync looks whether another one created its customer.
const CUSTOMER_WAIT_STEP: std::time::Duration = std::time::Duration::from_millis(25);
const CUSTOMER_WAIT_ROUNDS: u32 = 400;

/// Why a step stopped.
enum Stop {
    Call(CallError),
    /// Not now: try again at `at` without spending an attempt.
    Wait {
        reason: String,
        at: i64,
    },
    /// Cannot be done as things are (e.g. no way to match the customer).
    Impossible(String),
    /// Not yet (a credit note before its invoice): retried with backoff.
    NotYet(String),
    Internal(Error),
}

impl From<CallError> for Stop {
    fn from(e: CallError) -> Self {
        Stop::Call(e)
    }
}

impl From<Error> for Stop {
    fn from(e: Error) -> Self {
        Stop::Internal(e)
    }
}

impl From<sqlx::Error> for Stop {
    fn from(e: sqlx::Error) -> Self {
        Stop::Internal(e.into())
    }
}

/// The document as the job reads it.
struct Pending {
    id: i64,
    kind: DocumentKind,
    order_id: i64,
    refund_id: Option<i64>,
    reference: String,
    state: String,
    number: Option<String>,
    remote_id: Option<String>,
    sent_at: Option<i64>,
    resync: bool,
}

async fn pending(db: &Db, id: i64) -> Result<Option<Pending>> {
    let row = sqlx::query(
        "SELECT id, kind, order_id, refund_id, reference, state, number, remote_id, sent_at, resync FROM accounting_documents WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(Pending {
        id: row.try_get("id")?,
        kind: if row.try_get::<String, _>("kind")? == "invoice" {
            DocumentKind::Invoice
        } else {
            DocumentKind::CreditNote
        },
        order_id: row.try_get("order_id")?,
        refund_id: row.try_get("refund_id")?,
        reference: row.try_get("reference")?,
        state: row.try_get("state")?,
        number: row.try_get("number")?,
        remote_id: row.try_get("remote_id")?,
        sent_at: row.try_get("sent_at")?,
        resync: row.try_get::<i64, _>("resync")? != 0,
    }))
}

/// The job that sends one document to the ledger.
#[derive(Debug, Serialize, Deserialize)]
pub struct SyncDocument {
    pub document_id: i64,
}

impl crate::jobs::Payload for SyncDocument {
    const KIND: &'static str = super::SYNC_JOB;
}

/// Runs the `accounting.sync` job for the document its payload names.
pub async fn run(accounting: &Accounting, job: &ClaimedJob) -> Result<(), Failure> {
    let db = &accounting.db;
    let internal = |e: Error| Failure::Retry(e.report());
    let SyncDocument { document_id: id } = job.payload()?;
    let Some(doc) = pending(db, id).await.map_err(internal)? else { return Ok(()) };
    if doc.state == "cancelled" || doc.state == "manual" || (doc.state == "synced" && !doc.resync) {
        return Ok(());
    }
    let (settings, connection) = match settings::connection(db, &accounting.sealer).await {
        Ok(found) => found,
        Err(Error::Invalid(reason)) => return hold(db, &doc, reason).await,
        Err(e) => return Err(internal(e)),
    };
    if let Some(reason) = &settings.paused_reason {
        return hold(db, &doc, format!("syncing is paused: {reason}")).await;
    }
    let Some(connection) = connection.filter(|_| settings.is_configured() && settings.enabled) else {
        return hold(db, &doc, "accounting sync is off or not set up".into()).await;
    };
    let recorder =
        Recorder { db, document_id: Some(doc.id), order_id: Some(doc.order_id), redact: settings.redact_personal_data };
    let client = Client::new(&accounting.http, &connection, recorder);
    let outcome = match detail::get(db, doc.order_id).await {
        Ok(order) => send(db, &client, &settings, &doc, &order).await,
        Err(Error::NotFound) => return Ok(()),
        Err(e) => Err(Stop::Internal(e)),
    };
    let last_attempt = job.attempt >= job.max_attempts;
    match outcome {
        Ok((remote, customer_id)) => {
            record_synced(db, &doc, &remote, &customer_id).await.map_err(internal)?;
            tracing::info!(document = doc.id, remote = %remote.id, "document synced to the ledger");
            Ok(())
        }
        Err(Stop::Wait { reason, at }) => {
            note(db, &doc, "queued", &reason).await.map_err(internal)?;
            Err(Failure::RetryAt { reason, at })
        }
        Err(Stop::Call(CallError::Unauthorized(message))) => {
            let reason = CallError::Unauthorized(message).plain_words();
            settings::pause(db, &reason).await.map_err(internal)?;
            note(db, &doc, "failed", &reason).await.map_err(internal)?;
            Err(Failure::RetryAt { reason, at: now() + HELD_BACK_SECS })
        }
        Err(Stop::Call(CallError::RateLimited { retry_after_secs })) => {
            let reason = CallError::RateLimited { retry_after_secs }.plain_words();
            note(db, &doc, "queued", &reason).await.map_err(internal)?;
            Err(Failure::RetryAt { reason, at: now() + retry_after_secs })
        }
        Err(Stop::Call(e)) if !e.is_transient() => give_up(db, &doc, e.plain_words()).await,
        Err(Stop::Impossible(reason)) => give_up(db, &doc, reason).await,
        Err(Stop::Call(e)) => failed(db, &doc, e.plain_words(), last_attempt).await,
        Err(Stop::NotYet(reason)) => failed(db, &doc, reason, last_attempt).await,
        Err(Stop::Internal(e)) => {
            tracing::error!(document = doc.id, error = %e.report(), "accounting sync failed on our side");
            failed(
                db,
                &doc,
                "Backroom could not finish the sync (see the server log); it will try again".into(),
                last_attempt,
            )
            .await
        }
    }
}

/// Sends the document; answers what the ledger calls it, and its customer.
async fn send(
    db: &Db,
    client: &Client<'_>,
    settings: &AccountingSettings,
    doc: &Pending,
    order: &Order,
) -> Result<(Remote, String), Stop> {
    let tz = crate::settings::get(db).await?.tz();
    let customer_id = customer(db, client, order).await?;
    let (path, payload) = match doc.kind {
        DocumentKind::Invoice => {
            let number = match &doc.number {
                Some(number) => number.clone(),
                None => allocate_number(db, settings, doc.id, order).await?,
            };
            (
                DocumentPath::Invoice,
                mapping::invoice_payload(order, settings, tz, &doc.reference, &number, &customer_id),
            )
        }
        DocumentKind::CreditNote => {
            let refund = order
                .refunds
                .iter()
                .find(|r| Some(r.id) == doc.refund_id)
                .ok_or_else(|| Stop::Impossible("the refund this credit note is for no longer exists".into()))?;
            let invoice: Option<String> = sqlx::query_scalar(
                "SELECT remote_id FROM accounting_documents WHERE order_id = $1 AND kind = 'invoice' AND state = 'synced'",
            )
            .bind(order.id)
            .fetch_optional(db.pool())
            .await?
            .flatten();
            let Some(invoice) = invoice else {
                return Err(Stop::NotYet(
                    "the order's invoice is not in the ledger yet; the credit note waits for it".into(),
                ));
            };
            (
                DocumentPath::CreditNote,
                mapping::credit_note_payload(order, refund, settings, tz, &doc.reference, &invoice, &customer_id),
            )
        }
    };
    if let Some(remote_id) = &doc.remote_id {
        return Ok((client.update_document(path, remote_id, &payload).await?, customer_id));
    }
    if doc.sent_at.is_some()
        && let Some(found) = client.find_document(path, &doc.reference).await?
    {
        return Ok((found, customer_id));
    }
    // From here on the ledger may have it, whatever happens to this attempt.
    sqlx::query("UPDATE accounting_documents SET sent_at = COALESCE(sent_at, $1) WHERE id = $2")
        .bind(now())
        .bind(doc.id)
        .execute(db.writer())
        .await?;
    Ok((client.create_document(path, &payload).await?, customer_id))
}

/// The ledger's id for the order's customer: known, found, or created — by one sync at a
/// time per customer (a claim row), so two orders of a new customer make one record.
async fn customer(db: &Db, client: &Client<'_>, order: &Order) -> Result<String, Stop> {
    let (field, value) = mapping::match_key(order).ok_or_else(|| {
        Stop::Impossible("the order has no tax number, national id or email to match a customer by".into())
    })?;
    let key = format!("{}:{value}", field.query_name());
    let payload = mapping::customer_payload(order);
    // Another sync creating the same customer is usually done within a request's time:
    // wait for it here rather than put the whole job off.
    let mut rounds = 0;
    loop {
        let now = now();
        let claimed = sqlx::query(
            "INSERT INTO accounting_customers (match_key, remote_id, claimed_until, updated_at) VALUES ($1, NULL, $2, $3) \
             ON CONFLICT (match_key) DO UPDATE SET claimed_until = $2, updated_at = $3 \
             WHERE accounting_customers.remote_id IS NULL AND accounting_customers.claimed_until < $3 RETURNING match_key",
        )
        .bind(&key)
        .bind(now + CUSTOMER_CLAIM_SECS)
        .bind(now)
        .fetch_optional(db.writer())
        .await?;
        if claimed.is_some() {
            break;
        }
        let known: Option<String> =
            sqlx::query_scalar("SELECT remote_id FROM accounting_customers WHERE match_key = $1")
                .bind(&key)
                .fetch_optional(db.pool())
                .await?
                .flatten();
        if let Some(id) = known {
            client.update_customer(&id, &payload).await?;
            return Ok(id);
        }
        rounds += 1;
        if rounds >= CUSTOMER_WAIT_ROUNDS {
            return Err(Stop::Wait {
                reason: "another sync is creating this customer".into(),
                at: now + CUSTOMER_CLAIM_WAIT_SECS,
            });
        }
        tokio::time::sleep(CUSTOMER_WAIT_STEP).await;
    }
    let created = async {
        match client.find_customer(field, &value).await? {
            Some(id) => {
                client.update_customer(&id, &payload).await?;
                Ok::<_, Stop>(id)
            }
            None => Ok(client.create_customer(&payload).await?),
        }
    }
    .await;
    // Found or made: known from now on. Failed: the claim is let go for the next try.
    sqlx::query("UPDATE accounting_customers SET remote_id = COALESCE($1, remote_id), claimed_until = 0, updated_at = $2 WHERE match_key = $3")
        .bind(created.as_ref().ok())
        .bind(now())
        .bind(&key)
        .execute(db.writer())
        .await?;
    created
}

/// Gives the invoice its number, once: the prefix and the order's number, or the next of
/// the series (in the same transaction that stores it, so no number is skipped or reused).
async fn allocate_number(db: &Db, settings: &AccountingSettings, document_id: i64, order: &Order) -> Result<String> {
    let prefix = &settings.invoice_prefix;
    let keep = "UPDATE accounting_documents SET number = COALESCE(number, $1) WHERE id = $2 RETURNING number";
    if settings.numbering == Numbering::OrderNumber {
        let number = format!("{prefix}{}", order.number);
        return Ok(sqlx::query_scalar(keep).bind(&number).bind(document_id).fetch_one(db.writer()).await?);
    }
    let mut tx = db.begin().await?;
    let n: i64 = sqlx::query_scalar(
        "INSERT INTO accounting_series (prefix, next_number) VALUES ($1, 2) \
         ON CONFLICT (prefix) DO UPDATE SET next_number = accounting_series.next_number + 1 RETURNING next_number - 1",
    )
    .bind(prefix)
    .fetch_one(&mut *tx)
    .await?;
    let number = format!("{prefix}{n:06}");
    let kept: String = sqlx::query_scalar(keep).bind(&number).bind(document_id).fetch_one(&mut *tx).await?;
    if kept != number {
        // Numbered meanwhile: keep that one and hand nothing out.
        tx.rollback().await?;
    } else {
        tx.commit().await?;
    }
    Ok(kept)
}

async fn record_synced(db: &Db, doc: &Pending, remote: &Remote, customer_id: &str) -> Result<()> {
    let now = now();
    let mut tx = db.begin().await?;
    sqlx::query(
        "UPDATE accounting_documents SET state = 'synced', remote_id = $1, remote_number = $2, remote_customer_id = $5, resync = 0, \
         last_error = NULL, attempts = attempts + 1, synced_at = $3, updated_at = $3 WHERE id = $4",
    )
    .bind(&remote.id)
    .bind(&remote.number)
    .bind(now)
    .bind(doc.id)
    .bind(customer_id)
    .execute(&mut *tx)
    .await?;
    settle_bulk_items(&mut tx, doc, "done").await?;
    tx.commit().await?;
    Ok(())
}

/// Updates the bulk syncs waiting for this order's invoice.
async fn settle_bulk_items(tx: &mut sqlx::Transaction<'_, sqlx::Any>, doc: &Pending, state: &str) -> Result<()> {
    if doc.kind == DocumentKind::Invoice {
        sqlx::query(
            "UPDATE accounting_bulk_items SET state = $1 WHERE order_id = $2 AND state IN ('queued', 'failed')",
        )
        .bind(state)
        .bind(doc.order_id)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Records what happened to an attempt, with the document's new state.
async fn note(db: &Db, doc: &Pending, state: &str, reason: &str) -> Result<()> {
    let mut tx = db.begin().await?;
    let counted = if state == "queued" { 0 } else { 1 };
    sqlx::query("UPDATE accounting_documents SET state = $1, last_error = $2, attempts = attempts + $3, updated_at = $4 WHERE id = $5")
        .bind(state)
        .bind(reason)
        .bind(counted)
        .bind(now())
        .bind(doc.id)
        .execute(&mut *tx)
        .await?;
    if state != "queued" {
        settle_bulk_items(&mut tx, doc, "failed").await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn failed(db: &Db, doc: &Pending, reason: String, last_attempt: bool) -> Result<(), Failure> {
    note(db, doc, if last_attempt { "dead" } else { "failed" }, &reason).await.map_err(Failure::from)?;
    Err(Failure::Retry(reason))
}

async fn give_up(db: &Db, doc: &Pending, reason: String) -> Result<(), Failure> {
    note(db, doc, "dead", &reason).await.map_err(Failure::from)?;
    Err(Failure::Dead(reason))
}

/// Keeps the job for later without spending an attempt, and says why on the document.
async fn hold(db: &Db, doc: &Pending, reason: String) -> Result<(), Failure> {
    note(db, doc, "queued", &reason).await.map_err(Failure::from)?;
    Err(Failure::RetryAt { reason, at: now() + HELD_BACK_SECS })
}

/// The connection test: asks the ledger who the company code belongs to and says, in
/// plain words, what failed when it does not answer.
pub async fn test_connection(accounting: &Accounting) -> Result<String, String> {
    let db = &accounting.db;
    let (settings, connection) = settings::connection(db, &accounting.sealer).await.map_err(|e| {
        if matches!(e, Error::Internal(_)) {
            tracing::error!(error = %e.report(), "the connection test could not read the accounting settings");
        }
        e.to_string()
    })?;
    let connection = connection.ok_or("no API key is stored yet: enter it and save first")?;
    if settings.company_code.is_empty() {
        return Err("no company code (firma kodu) is set yet".into());
    }
    let recorder = Recorder { db, document_id: None, order_id: None, redact: settings.redact_personal_data };
    let client = Client::new(&accounting.http, &connection, recorder);
    match client.company().await {
        Ok(name) if name.is_empty() => Ok(format!("Connected to Cari.com.tr as company {}", settings.company_code)),
        Ok(name) => Ok(format!("Connected to Cari.com.tr: {name} ({})", settings.company_code)),
        Err(CallError::Rejected { status: 404, .. }) => {
            Err(format!("Cari.com.tr does not know the company code {}; check it", settings.company_code))
        }
        Err(e) => Err(e.plain_words()),
    }
}
