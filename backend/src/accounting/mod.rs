//! Accounting sync: orders become invoices (and refunds credit notes) in the shop's
//! ledger, Cari.com.tr. Each document is a row in `accounting_documents`, queued in the
//! same transaction as what caused it (an order reaching a trigger status, a refund, a
//! person asking) and sent by a durable job ([`sync`]). A document carries our reference
//! to the ledger, so a retry after a timeout or a crash asks before it creates: never a
//! second invoice. Customers are matched by tax number, national id or email, and
//! created once ([`sync`]). [`cari`] is the one module that speaks the ledger's HTTP,
//! [`mapping`] the one that builds what it receives.

pub mod bulk;
pub mod cari;
pub mod log;
pub mod mapping;
pub mod settings;
pub mod sync;

pub use crate::orders::documents::Document;

use std::time::Duration;

use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::{
    Error, Result, audit,
    clock::now,
    db::Db,
    jobs::{self, NewJob},
    orders::events::{self, OrderEvent, Subscriber},
    sealed::Sealer,
    users::User,
};

/// The job that sends one document.
pub const SYNC_JOB: &str = "accounting.sync";
/// The job that queues the documents of a bulk sync, a chunk at a time.
pub const BULK_JOB: &str = "accounting.bulk";
/// The kinds the accounting workers take (and the others leave to them).
pub const JOB_KINDS: &[&str] = &[SYNC_JOB, BULK_JOB];

/// What the panel, the API and the jobs share: the database, the key that opens the
/// stored API key, and one pooled HTTP client.
#[derive(Clone, Debug)]
pub struct Accounting {
    pub db: Db,
    pub sealer: Sealer,
    pub http: reqwest::Client,
}

impl Accounting {
    pub fn new(db: Db, sealer: Sealer, timeout: Duration) -> Accounting {
        Accounting { db, sealer, http: cari::http_client(timeout) }
    }
}

type Tx<'t> = sqlx::Transaction<'t, sqlx::Any>;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    Invoice,
    CreditNote,
}

impl DocumentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Invoice => "invoice",
            DocumentKind::CreditNote => "credit_note",
        }
    }
}

const DOCUMENT_COLUMNS: &str = "d.id, d.order_id, o.number AS order_number, d.kind, d.refund_id, d.state, d.number, d.remote_id, \
     d.remote_number, d.attempts, d.last_error, d.updated_at, d.synced_at";

fn document(row: &sqlx::any::AnyRow) -> Result<Document> {
    Ok(Document {
        id: row.try_get("id")?,
        order_id: row.try_get("order_id")?,
        order_number: row.try_get("order_number")?,
        kind: row.try_get("kind")?,
        refund_id: row.try_get("refund_id")?,
        state: row.try_get("state")?,
        number: row.try_get("number")?,
        remote_id: row.try_get("remote_id")?,
        remote_number: row.try_get("remote_number")?,
        attempts: row.try_get("attempts")?,
        last_error: row.try_get("last_error")?,
        updated_at: row.try_get("updated_at")?,
        synced_at: row.try_get("synced_at")?,
    })
}

/// The order's documents: its invoice first, then its credit notes.
pub async fn of_order(db: &Db, order_id: i64) -> Result<Vec<Document>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {DOCUMENT_COLUMNS} FROM accounting_documents d JOIN orders o ON o.id = d.order_id \
         WHERE d.order_id = $1 ORDER BY CASE WHEN d.kind = 'invoice' THEN 0 ELSE 1 END, d.id"
    )))
    .bind(order_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(document).collect()
}

/// Documents that need a person: failed (retrying), dead and manual, newest first.
pub async fn problems(db: &Db, limit: i64) -> Result<Vec<Document>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {DOCUMENT_COLUMNS} FROM accounting_documents d JOIN orders o ON o.id = d.order_id \
         WHERE d.state IN ('failed', 'dead', 'manual') ORDER BY d.updated_at DESC, d.id DESC LIMIT $1"
    )))
    .bind(limit.clamp(1, 500))
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(document).collect()
}

/// How many documents are in each state, for the panel's summary.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub queued: i64,
    pub synced: i64,
    pub failed: i64,
    pub dead: i64,
    pub manual: i64,
}

pub async fn counts(db: &Db) -> Result<Counts> {
    let rows = sqlx::query("SELECT state, CAST(COUNT(*) AS BIGINT) AS n FROM accounting_documents GROUP BY state")
        .fetch_all(db.pool())
        .await?;
    let mut counts = Counts::default();
    for row in rows {
        let n: i64 = row.try_get("n")?;
        match row.try_get::<String, _>("state")?.as_str() {
            "queued" => counts.queued = n,
            "synced" => counts.synced = n,
            "failed" => counts.failed = n,
            "dead" => counts.dead = n,
            "manual" => counts.manual = n,
            _ => {}
        }
    }
    Ok(counts)
}

/// What queueing a document came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Queued {
    /// A job will send it.
    Queued,
    /// It is in the ledger already and no resync was asked for.
    AlreadySynced,
    /// A job for it is waiting or running.
    AlreadyQueued,
}

/// Our reference for a document: unique per shop, sent to the ledger, asked for on retry.
fn reference(kind: DocumentKind, id: i64) -> String {
    match kind {
        DocumentKind::Invoice => format!("backroom-order-{id}"),
        DocumentKind::CreditNote => format!("backroom-refund-{id}"),
    }
}

/// Queues the document of `kind` for the order (or refund), in the caller's transaction:
/// a new one is created; a failed or dead one has its job run again; a cancelled or
/// manual one gets a new job; a synced one only when `resync` (then it is updated in the
/// ledger, never created twice).
async fn queue(
    tx: &mut Tx<'_>,
    kind: DocumentKind,
    order_id: i64,
    refund_id: Option<i64>,
    resync: bool,
    bulk_id: Option<i64>,
    max_attempts: i64,
) -> Result<Queued> {
    let now = now();
    let reference = reference(kind, refund_id.unwrap_or(order_id));
    let existing = sqlx::query("SELECT id, state, job_id, queued_count FROM accounting_documents WHERE reference = $1")
        .bind(&reference)
        .fetch_optional(&mut **tx)
        .await?;
    let (id, queued_count) = match existing {
        None => {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO accounting_documents (kind, order_id, refund_id, reference, state, resync, bulk_id, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, 'queued', 0, $5, $6, $6) RETURNING id",
            )
            .bind(kind.as_str())
            .bind(order_id)
            .bind(refund_id)
            .bind(&reference)
            .bind(bulk_id)
            .bind(now)
            .fetch_one(&mut **tx)
            .await?;
            (id, 0)
        }
        Some(row) => {
            let id: i64 = row.try_get("id")?;
            match row.try_get::<String, _>("state")?.as_str() {
                "queued" => return Ok(Queued::AlreadyQueued),
                "synced" if !resync => return Ok(Queued::AlreadySynced),
                // Its job waits for the backoff, or gave up: the same job runs again now.
                "failed" | "dead" => {
                    if let Some(job_id) = row.try_get::<Option<i64>, _>("job_id")?
                        && jobs::retry(&mut **tx, job_id).await.is_ok()
                    {
                        mark_queued(tx, id, resync, bulk_id, None, now).await?;
                        return Ok(Queued::Queued);
                    }
                }
                _ => {}
            }
            (id, row.try_get::<i64, _>("queued_count")?)
        }
    };
    let job = NewJob {
        idempotency_key: Some(format!("{SYNC_JOB}:{id}:{}", queued_count + 1)),
        max_attempts,
        ..NewJob::of(&sync::SyncDocument { document_id: id })
    };
    let job_id = jobs::enqueue(&mut **tx, &job).await?;
    mark_queued(tx, id, resync, bulk_id, job_id, now).await?;
    Ok(Queued::Queued)
}

async fn mark_queued(
    tx: &mut Tx<'_>,
    id: i64,
    resync: bool,
    bulk_id: Option<i64>,
    job_id: Option<i64>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE accounting_documents SET state = 'queued', resync = $1, bulk_id = COALESCE($2, bulk_id), \
         job_id = COALESCE($3, job_id), queued_count = queued_count + CASE WHEN $3 IS NULL THEN 0 ELSE 1 END, \
         updated_at = $4 WHERE id = $5",
    )
    .bind(i64::from(resync))
    .bind(bulk_id)
    .bind(job_id)
    .bind(now)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Queues the order's invoice.
pub(crate) async fn queue_invoice(
    tx: &mut Tx<'_>,
    order_id: i64,
    resync: bool,
    bulk_id: Option<i64>,
    max_attempts: i64,
) -> Result<Queued> {
    queue(tx, DocumentKind::Invoice, order_id, None, resync, bulk_id, max_attempts).await
}

impl Subscriber for Accounting {
    fn on_order_event<'a>(
        &'a self,
        tx: &'a mut events::Tx,
        order_id: i64,
        event: &'a OrderEvent,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(on_order_event(tx, order_id, event))
    }
}

/// What an order event means for the ledger, inside the event's transaction: reaching a
/// trigger status queues the invoice; a refund on an order with an invoice queues its
/// credit note (or lists it for the bookkeeper, as the settings say).
async fn on_order_event(tx: &mut Tx<'_>, order_id: i64, event: &OrderEvent) -> Result<()> {
    if !matches!(event, OrderEvent::StatusChanged { .. } | OrderEvent::Arrived { .. } | OrderEvent::Refunded { .. }) {
        return Ok(());
    }
    let settings = settings::read(&mut **tx).await?.0;
    if !settings.enabled {
        return Ok(());
    }
    match *event {
        OrderEvent::StatusChanged { .. } | OrderEvent::Arrived { .. } => {
            if event.entered().is_some_and(|status| settings.triggers_on(status)) {
                queue_invoice(tx, order_id, false, None, settings.max_attempts).await?;
            }
        }
        OrderEvent::Refunded { refund_id, .. } => {
            let invoiced: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM accounting_documents WHERE order_id = $1 AND kind = 'invoice' AND state <> 'cancelled'",
            )
            .bind(order_id)
            .fetch_optional(&mut **tx)
            .await?;
            if invoiced.is_none() {
                return Ok(());
            }
            match settings.refunds {
                settings::RefundHandling::CreditNote => {
                    queue(tx, DocumentKind::CreditNote, order_id, Some(refund_id), false, None, settings.max_attempts)
                        .await?;
                }
                settings::RefundHandling::Manual => {
                    let now = now();
                    sqlx::query(
                        "INSERT INTO accounting_documents (kind, order_id, refund_id, reference, state, last_error, created_at, updated_at) \
                         VALUES ('credit_note', $1, $2, $3, 'manual', $4, $5, $5) ON CONFLICT (reference) DO NOTHING",
                    )
                    .bind(order_id)
                    .bind(refund_id)
                    .bind(reference(DocumentKind::CreditNote, refund_id))
                    .bind("a refund on an invoiced order, to be entered in the ledger by hand (the settings say so)")
                    .bind(now)
                    .execute(&mut **tx)
                    .await?;
                }
            }
        }
        OrderEvent::CustomerNote { .. } | OrderEvent::PrivateNote { .. } | OrderEvent::CustomerEdited { .. } => {}
    }
    Ok(())
}

/// "Sync now" on an order's page or through the API: queues its invoice; `resync`
/// sends a synced one again as an update.
pub async fn sync_order(
    db: &Db,
    actor: &User,
    credential: Option<&str>,
    ip: Option<&str>,
    order_id: i64,
    resync: bool,
) -> Result<Queued> {
    if !actor.role.manages_orders() {
        return Err(Error::Forbidden);
    }
    let settings = settings::get(db).await?;
    if !settings.is_configured() {
        return Err(Error::Conflict(
            "accounting sync is not set up: enter the company code and API key in the accounting settings".into(),
        ));
    }
    let mut tx = db.begin().await?;
    let number: String = sqlx::query_scalar("SELECT number FROM orders WHERE id = $1")
        .bind(order_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(Error::NotFound)?;
    let queued = queue_invoice(&mut tx, order_id, resync, None, settings.max_attempts).await?;
    let target = format!("order:{order_id} #{number}");
    let details = if resync { "resync" } else { "" };
    audit::record(
        &mut *tx,
        &audit::Event { credential, details, ..audit::Event::by(actor, "accounting.sync", &target, ip) },
    )
    .await?;
    tx.commit().await?;
    Ok(queued)
}

/// Tries a failed, dead or manual document again now.
pub async fn retry(db: &Db, actor: &User, ip: Option<&str>, document_id: i64) -> Result<Queued> {
    if !actor.role.manages_orders() {
        return Err(Error::Forbidden);
    }
    let max_attempts = settings::get(db).await?.max_attempts;
    let mut tx = db.begin().await?;
    let queued = requeue(&mut tx, actor, ip, document_id, max_attempts).await?;
    tx.commit().await?;
    Ok(queued)
}

/// Retries every failed and dead document; returns how many were queued.
pub async fn retry_all(db: &Db, actor: &User, ip: Option<&str>) -> Result<usize> {
    if !actor.role.manages_orders() {
        return Err(Error::Forbidden);
    }
    let max_attempts = settings::get(db).await?.max_attempts;
    let mut tx = db.begin().await?;
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM accounting_documents WHERE state IN ('failed', 'dead') ORDER BY id LIMIT 10000",
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut queued = 0;
    for id in ids {
        if requeue(&mut tx, actor, ip, id, max_attempts).await? == Queued::Queued {
            queued += 1;
        }
    }
    tx.commit().await?;
    Ok(queued)
}

/// Queues a document again, in the caller's transaction, and audits it.
async fn requeue(
    tx: &mut Tx<'_>,
    actor: &User,
    ip: Option<&str>,
    document_id: i64,
    max_attempts: i64,
) -> Result<Queued> {
    let row = sqlx::query("SELECT kind, order_id, refund_id, state, resync FROM accounting_documents WHERE id = $1")
        .bind(document_id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(Error::NotFound)?;
    let state: String = row.try_get("state")?;
    if !matches!(state.as_str(), "failed" | "dead" | "manual" | "cancelled") {
        return Err(Error::Conflict(format!(
            "only a failed, dead, manual or cancelled document can be retried; this one is {state}"
        )));
    }
    let kind =
        if row.try_get::<String, _>("kind")? == "invoice" { DocumentKind::Invoice } else { DocumentKind::CreditNote };
    let order_id: i64 = row.try_get("order_id")?;
    let resync = row.try_get::<i64, _>("resync")? != 0;
    let queued = queue(tx, kind, order_id, row.try_get("refund_id")?, resync, None, max_attempts).await?;
    audit::record(&mut **tx, &audit::Event::by(actor, "accounting.retry", &format!("order:{order_id}"), ip)).await?;
    Ok(queued)
}
