//! Bulk sync: many orders' invoices at once — a selection, or everything matching the
//! orders list's filters — with progress (done, skipped, failed, remaining) and cancel.
//! Starting writes the run and its orders in one transaction and queues one job that
//! queues the invoices a chunk at a time (safe to run again after a crash: queueing a
//! document twice queues it once). Each order's item is settled when its invoice is.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::{BULK_JOB, Queued, queue_invoice, settings};
use crate::{
    Error, Result, audit,
    clock::now,
    db::{Db, Value, insert_rows},
    jobs::{self, NewJob},
    users::User,
};

/// At most this many orders in one bulk sync.
pub const MAX_ORDERS: usize = 100_000;
/// Invoices queued per transaction by the fan-out job.
const CHUNK: i64 = 500;

/// A bulk sync and how far it got.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkRun {
    pub id: i64,
    pub description: String,
    pub resync: bool,
    /// `running`, `cancelled` or `finished`.
    pub state: String,
    pub total: i64,
    pub done: i64,
    pub skipped: i64,
    pub failed: i64,
    pub cancelled: i64,
    pub remaining: i64,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

/// Starts a bulk sync of `order_ids` (duplicates and unknown ids are dropped); returns its id.
pub async fn start(
    db: &Db,
    actor: &User,
    ip: Option<&str>,
    order_ids: &[i64],
    description: &str,
    resync: bool,
) -> Result<i64> {
    if !actor.role.manages_orders() {
        return Err(Error::Forbidden);
    }
    let settings = settings::get(db).await?;
    if !settings.is_configured() {
        return Err(Error::Conflict(
            "accounting sync is not set up: enter the company code and API key in the accounting settings".into(),
        ));
    }
    let mut ids = order_ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Err(Error::invalid("no orders to sync"));
    }
    if ids.len() > MAX_ORDERS {
        return Err(Error::invalid(format!("at most {MAX_ORDERS} orders in one bulk sync; narrow the filters")));
    }
    let now = now();
    let description: String = description.chars().take(300).collect();
    let mut tx = db.begin().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO accounting_bulk_runs (created_by, description, resync, state, total, created_at) VALUES ($1, $2, $3, 'running', 0, $4) RETURNING id",
    )
    .bind(actor.id)
    .bind(&description)
    .bind(i64::from(resync))
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    let values: Vec<Value> =
        ids.iter().flat_map(|order| [Value::Int(id), Value::Int(*order), Value::from("queued")]).collect();
    insert_rows(&mut tx, db.backend(), "accounting_bulk_items", &["bulk_id", "order_id", "state"], &values).await?;
    // Ids that are not orders are dropped, so the total counts real orders.
    sqlx::query("DELETE FROM accounting_bulk_items WHERE bulk_id = $1 AND order_id NOT IN (SELECT id FROM orders)")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE accounting_bulk_runs SET total = (SELECT COUNT(*) FROM accounting_bulk_items WHERE bulk_id = $1) WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let job = NewJob { idempotency_key: Some(format!("{BULK_JOB}:{id}")), ..NewJob::of(&FanOut { bulk_id: id }) };
    jobs::enqueue(&mut *tx, &job).await?;
    let details = format!("{} orders{}: {description}", ids.len(), if resync { ", resync" } else { "" });
    audit::record(
        &mut *tx,
        &audit::Event { details: &details, ..audit::Event::by(actor, "accounting.bulk_sync", "accounting", ip) },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The job that queues the invoices of a bulk run.
#[derive(Debug, Serialize, Deserialize)]
pub struct FanOut {
    pub bulk_id: i64,
}

impl crate::jobs::Payload for FanOut {
    const KIND: &'static str = BULK_JOB;
}

/// The fan-out job: queues the run's invoices, a chunk per transaction, until none is
/// left or the run is cancelled.
pub async fn fan_out(db: &Db, bulk_id: i64) -> Result<()> {
    let max_attempts = settings::get(db).await?.max_attempts;
    let mut after = 0;
    loop {
        let mut tx = db.begin().await?;
        // An update, not a read: it holds the run's row until this chunk commits, so a
        // cancel either comes before the chunk (and nothing is queued) or after it.
        let resync: Option<i64> = sqlx::query_scalar(
            "UPDATE accounting_bulk_runs SET state = state WHERE id = $1 AND state = 'running' RETURNING resync",
        )
        .bind(bulk_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(resync) = resync.map(|r| r != 0) else { return Ok(()) };
        let orders: Vec<i64> = sqlx::query_scalar(
            "SELECT order_id FROM accounting_bulk_items WHERE bulk_id = $1 AND state = 'queued' AND order_id > $2 ORDER BY order_id LIMIT $3",
        )
        .bind(bulk_id)
        .bind(after)
        .bind(CHUNK)
        .fetch_all(&mut *tx)
        .await?;
        let Some(&last) = orders.last() else { return Ok(()) };
        for order in orders {
            if queue_invoice(&mut tx, order, resync, Some(bulk_id), max_attempts).await? == Queued::AlreadySynced {
                sqlx::query("UPDATE accounting_bulk_items SET state = 'skipped' WHERE bulk_id = $1 AND order_id = $2")
                    .bind(bulk_id)
                    .bind(order)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        after = last;
    }
}

/// Stops a running bulk sync: what has not started is cancelled; what is being sent
/// finishes.
pub async fn cancel(db: &Db, actor: &User, ip: Option<&str>, bulk_id: i64) -> Result<()> {
    if !actor.role.manages_orders() {
        return Err(Error::Forbidden);
    }
    let now = now();
    let mut tx = db.begin().await?;
    let stopped = sqlx::query(
        "UPDATE accounting_bulk_runs SET state = 'cancelled', finished_at = $1 WHERE id = $2 AND state = 'running'",
    )
    .bind(now)
    .bind(bulk_id)
    .execute(&mut *tx)
    .await?;
    if stopped.rows_affected() == 0 {
        return Err(Error::Conflict("this bulk sync is not running".into()));
    }
    // A document whose job is running, or whose create request went out, finishes.
    sqlx::query(
        "UPDATE accounting_documents SET state = 'cancelled', updated_at = $1 WHERE bulk_id = $2 AND state = 'queued' AND sent_at IS NULL \
         AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = accounting_documents.job_id AND j.state = 'running')",
    )
    .bind(now)
    .bind(bulk_id)
    .execute(&mut *tx)
    .await?;
    // The rest of the run's orders are cancelled; those still under way settle when done.
    sqlx::query(
        "UPDATE accounting_bulk_items SET state = 'cancelled' WHERE bulk_id = $1 AND state = 'queued' \
         AND order_id NOT IN (SELECT order_id FROM accounting_documents WHERE kind = 'invoice' AND state = 'queued')",
    )
    .bind(bulk_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "DELETE FROM jobs WHERE state = 'queued' AND id IN (SELECT job_id FROM accounting_documents WHERE bulk_id = $1 AND state = 'cancelled')",
    )
    .bind(bulk_id)
    .execute(&mut *tx)
    .await?;
    audit::record(&mut *tx, &audit::Event::by(actor, "accounting.bulk_cancel", &format!("bulk:{bulk_id}"), ip)).await?;
    tx.commit().await?;
    Ok(())
}

/// A run with its counts; marks it finished when nothing remains.
pub async fn progress(db: &Db, bulk_id: i64) -> Result<BulkRun> {
    let row = sqlx::query(
        "SELECT r.id, r.description, r.resync, r.state, r.total, r.created_at, r.finished_at, \
         CAST(COALESCE(SUM(CASE WHEN i.state = 'done' THEN 1 ELSE 0 END), 0) AS BIGINT) AS done, \
         CAST(COALESCE(SUM(CASE WHEN i.state = 'skipped' THEN 1 ELSE 0 END), 0) AS BIGINT) AS skipped, \
         CAST(COALESCE(SUM(CASE WHEN i.state = 'failed' THEN 1 ELSE 0 END), 0) AS BIGINT) AS failed, \
         CAST(COALESCE(SUM(CASE WHEN i.state = 'cancelled' THEN 1 ELSE 0 END), 0) AS BIGINT) AS cancelled, \
         CAST(COALESCE(SUM(CASE WHEN i.state = 'queued' THEN 1 ELSE 0 END), 0) AS BIGINT) AS remaining \
         FROM accounting_bulk_runs r LEFT JOIN accounting_bulk_items i ON i.bulk_id = r.id WHERE r.id = $1 \
         GROUP BY r.id, r.description, r.resync, r.state, r.total, r.created_at, r.finished_at",
    )
    .bind(bulk_id)
    .fetch_optional(db.pool())
    .await?
    .ok_or(Error::NotFound)?;
    let mut run = BulkRun {
        id: row.try_get("id")?,
        description: row.try_get("description")?,
        resync: row.try_get::<i64, _>("resync")? != 0,
        state: row.try_get("state")?,
        total: row.try_get("total")?,
        done: row.try_get("done")?,
        skipped: row.try_get("skipped")?,
        failed: row.try_get("failed")?,
        cancelled: row.try_get("cancelled")?,
        remaining: row.try_get("remaining")?,
        created_at: row.try_get("created_at")?,
        finished_at: row.try_get("finished_at")?,
    };
    if run.state == "running" && run.remaining == 0 {
        let now = now();
        sqlx::query(
            "UPDATE accounting_bulk_runs SET state = 'finished', finished_at = $1 WHERE id = $2 AND state = 'running'",
        )
        .bind(now)
        .bind(bulk_id)
        .execute(db.writer())
        .await?;
        run.state = "finished".into();
        run.finished_at = Some(now);
    }
    Ok(run)
}

/// The newest bulk syncs.
pub async fn recent(db: &Db, limit: i64) -> Result<Vec<BulkRun>> {
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM accounting_bulk_runs ORDER BY id DESC LIMIT $1")
        .bind(limit.clamp(1, 50))
        .fetch_all(db.pool())
        .await?;
    let mut runs = Vec::with_capacity(ids.len());
    for id in ids {
        runs.push(progress(db, id).await?);
    }
    Ok(runs)
}
