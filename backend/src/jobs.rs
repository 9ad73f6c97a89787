//! Durable background jobs in the database: a scheduled run time, a lease that another
//! worker takes over when its holder dies, retries with exponential backoff, a dead state
//! after the last attempt, and an idempotency key so the same work is never queued twice.
//! Safe with several workers and several processes (on PostgreSQL the claim skips rows
//! another worker holds; SQLite has one writer at a time).

use std::{collections::HashMap, future::Future, pin::Pin, sync::Arc, time::Duration};

use serde::{Deserialize, Serialize, de::DeserializeOwned};
use sqlx::{AssertSqlSafe, Row};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::{
    Error, Result,
    clock::now,
    db::{Backend, Db, Value, insert_new_rows},
};

/// What to queue.
#[derive(Clone, Debug)]
pub struct NewJob {
    pub kind: String,
    pub payload: serde_json::Value,
    /// At most one job per key, ever; `None` for jobs that may repeat.
    pub idempotency_key: Option<String>,
    pub run_at: i64,
    pub max_attempts: i64,
}

/// What a job of one kind carries: one type for the code that queues it and the handler
/// that runs it.
pub trait Payload: Serialize + DeserializeOwned {
    /// The job kind it belongs to.
    const KIND: &'static str;
}

impl NewJob {
    /// A job of `kind` with an empty payload, due now, with the default attempts: for a
    /// kind whose handler reads nothing, as the tests' kinds.
    pub fn now(kind: &str) -> NewJob {
        NewJob {
            kind: kind.to_owned(),
            payload: serde_json::json!({}),
            idempotency_key: None,
            run_at: now(),
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        }
    }

    /// A job carrying `payload`, due now, with the default attempts.
    pub fn of<P: Payload>(payload: &P) -> NewJob {
        NewJob {
            kind: P::KIND.to_owned(),
            payload: serde_json::to_value(payload).expect("a job payload is plain data"),
            ..NewJob::now(P::KIND)
        }
    }
}

pub const DEFAULT_MAX_ATTEMPTS: i64 = 8;
/// First retry after this many seconds, doubling each time up to [`MAX_BACKOFF_SECS`].
const BASE_BACKOFF_SECS: i64 = 30;
const MAX_BACKOFF_SECS: i64 = 6 * 3600;

/// Queues a job inside the caller's transaction when given one. Returns its id, or
/// `None` when a job with the same idempotency key already exists.
pub async fn enqueue<'e, E>(executor: E, job: &NewJob) -> Result<Option<i64>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let now = now();
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO jobs (kind, payload, idempotency_key, state, attempts, max_attempts, run_at, created_at, updated_at) \
         VALUES ($1, $2, $3, 'queued', 0, $4, $5, $6, $6) \
         ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
    )
    .bind(&job.kind)
    .bind(job.payload.to_string())
    .bind(&job.idempotency_key)
    .bind(job.max_attempts.max(1))
    .bind(job.run_at)
    .bind(now)
    .fetch_optional(executor)
    .await?;
    Ok(id)
}

/// Queues `jobs` with one statement per thousand; a job whose idempotency key is taken is
/// left out, as with [`enqueue`].
pub async fn enqueue_all(conn: &mut sqlx::AnyConnection, backend: Backend, jobs: &[NewJob]) -> Result<()> {
    let now = now();
    let mut values = Vec::with_capacity(jobs.len() * 9);
    for job in jobs {
        values.extend::<[Value; 9]>([
            job.kind.clone().into(),
            job.payload.to_string().into(),
            Value::MaybeText(job.idempotency_key.clone()),
            "queued".into(),
            0.into(),
            job.max_attempts.max(1).into(),
            job.run_at.into(),
            now.into(),
            now.into(),
        ]);
    }
    let columns = [
        "kind",
        "payload",
        "idempotency_key",
        "state",
        "attempts",
        "max_attempts",
        "run_at",
        "created_at",
        "updated_at",
    ];
    insert_new_rows(conn, backend, "jobs", &columns, &values, "idempotency_key").await
}

/// A job a worker holds the lease on.
#[derive(Clone, Debug)]
pub struct ClaimedJob {
    pub id: i64,
    pub kind: String,
    /// Read through [`ClaimedJob::payload`], as its kind's [`Payload`].
    payload: serde_json::Value,
    /// Counting this one.
    pub attempt: i64,
    pub max_attempts: i64,
    pub idempotency_key: Option<String>,
}

impl ClaimedJob {
    /// The job's payload as its kind's type. One that does not read (queued by another
    /// build, or by hand) is dead: retrying cannot make it read.
    pub fn payload<P: Payload>(&self) -> Result<P, Failure> {
        serde_json::from_value(self.payload.clone())
            .map_err(|e| Failure::Dead(format!("the job's payload is not a {} payload: {e}", P::KIND)))
    }
}

const DUE: &str = "((state = 'queued' AND run_at <= $1) OR (state = 'running' AND locked_until < $1))";

/// Which job kinds a worker takes.
#[derive(Clone, Debug, Default)]
pub enum Kinds {
    #[default]
    All,
    Only(Vec<&'static str>),
    AllBut(Vec<&'static str>),
}

impl Kinds {
    /// The SQL condition on `kind` (the names are constants of this build, never input).
    fn condition(&self) -> String {
        let list = |kinds: &[&str]| kinds.iter().map(|k| format!("'{k}'")).collect::<Vec<_>>().join(", ");
        match self {
            Kinds::All => String::new(),
            Kinds::Only(kinds) => format!(" AND kind IN ({})", list(kinds)),
            Kinds::AllBut(kinds) => format!(" AND kind NOT IN ({})", list(kinds)),
        }
    }
}

/// Takes the lease on the next due job (or one whose holder's lease ran out).
pub async fn claim(db: &Db, worker: &str, lease: Duration) -> Result<Option<ClaimedJob>> {
    Ok(claim_many(db, worker, lease, &Kinds::All, 1).await?.into_iter().next())
}

/// Takes the lease on up to `limit` due jobs of the given kinds (jobs whose holder's
/// lease ran out first), in one statement.
pub async fn claim_many(
    db: &Db,
    worker: &str,
    lease: Duration,
    kinds: &Kinds,
    limit: usize,
) -> Result<Vec<ClaimedJob>> {
    let skip_locked = match db.backend() {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let kinds = kinds.condition();
    let now = now();
    // Two lists of candidates, each read straight off the (state, run_at) index: jobs
    // whose holder's lease ran out (rare, so first), then the next due ones; `limit` of
    // both. One condition with OR would gather and sort every due job on each claim,
    // which a queue of thousands feels. They are picked once (MATERIALIZED): a subquery
    // under the UPDATE may run again for each row, and on PostgreSQL each run would skip
    // the rows the statement already changed and pick others, past the limit.
    let rows = sqlx::query(AssertSqlSafe(format!(
        "WITH picked AS MATERIALIZED (\
           SELECT id FROM (SELECT id FROM jobs WHERE state = 'running' AND locked_until < $1{kinds} ORDER BY locked_until, id LIMIT $4{skip_locked}) AS expired \
           UNION ALL \
           SELECT id FROM (SELECT id FROM jobs WHERE state = 'queued' AND run_at <= $1{kinds} ORDER BY run_at, id LIMIT $4{skip_locked}) AS due \
           LIMIT $4) \
         UPDATE jobs SET state = 'running', locked_by = $2, locked_until = $3, attempts = attempts + 1, updated_at = $1 \
         WHERE id IN (SELECT id FROM picked) AND {DUE} \
         RETURNING id, kind, payload, attempts, max_attempts, idempotency_key"
    )))
    .bind(now)
    .bind(worker)
    .bind(now + lease.as_secs() as i64)
    .bind(limit.max(1) as i64)
    .fetch_all(db.writer())
    .await?;
    rows.iter()
        .map(|row| {
            let payload: String = row.try_get("payload")?;
            Ok(ClaimedJob {
                id: row.try_get("id")?,
                kind: row.try_get("kind")?,
                payload: serde_json::from_str(&payload).unwrap_or_default(),
                attempt: row.try_get("attempts")?,
                max_attempts: row.try_get("max_attempts")?,
                idempotency_key: row.try_get("idempotency_key")?,
            })
        })
        .collect()
}

/// Extends the lease of a job this worker still holds; false if it lost it.
pub async fn extend_lease(db: &Db, job_id: i64, worker: &str, lease: Duration) -> Result<bool> {
    let done = sqlx::query("UPDATE jobs SET locked_until = $1 WHERE id = $2 AND locked_by = $3 AND state = 'running'")
        .bind(now() + lease.as_secs() as i64)
        .bind(job_id)
        .bind(worker)
        .execute(db.writer())
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks the jobs this worker holds as done, in one statement.
pub async fn complete(db: &Db, job_ids: &[i64], worker: &str) -> Result<()> {
    if job_ids.is_empty() {
        return Ok(());
    }
    let ids = (0..job_ids.len()).map(|i| format!("${}", i + 3)).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "UPDATE jobs SET state = 'succeeded', finished_at = $1, updated_at = $1, locked_by = NULL, locked_until = NULL, \
         last_error = NULL WHERE locked_by = $2 AND id IN ({ids})"
    );
    let mut done = sqlx::query(AssertSqlSafe(sql)).persistent(job_ids.len() == 1).bind(now()).bind(worker);
    for id in job_ids {
        done = done.bind(*id);
    }
    done.execute(db.writer()).await?;
    Ok(())
}

/// The wait before attempt `attempt + 1`: 30 s, 1 min, 2 min, … up to 6 h.
pub fn backoff_secs(attempt: i64) -> i64 {
    let exponent = (attempt - 1).clamp(0, 20) as u32;
    BASE_BACKOFF_SECS.saturating_mul(1 << exponent).min(MAX_BACKOFF_SECS)
}

/// Records a failed attempt: queued again after the backoff, or dead after the last one.
pub async fn fail(db: &Db, job: &ClaimedJob, worker: &str, error: &str) -> Result<()> {
    record_failure(db, job, worker, error, job.attempt >= job.max_attempts).await
}

/// Records a failed attempt, queued again after the backoff unless `dead`.
async fn record_failure(db: &Db, job: &ClaimedJob, worker: &str, error: &str, dead: bool) -> Result<()> {
    let now = now();
    let error: String = error.chars().take(2000).collect();
    let jitter = rand::random_range(0..=backoff_secs(job.attempt) / 10);
    sqlx::query(
        "UPDATE jobs SET state = $1, run_at = $2, last_error = $3, updated_at = $4, locked_by = NULL, \
         locked_until = NULL, finished_at = $5 WHERE id = $6 AND locked_by = $7",
    )
    .bind(if dead { "dead" } else { "queued" })
    .bind(now + backoff_secs(job.attempt) + jitter)
    .bind(&error)
    .bind(now)
    .bind(dead.then_some(now))
    .bind(job.id)
    .bind(worker)
    .execute(db.writer())
    .await?;
    Ok(())
}

/// Puts a job off until `at` without counting the attempt (the remote side asked us to
/// wait, or the work is blocked until someone acts); `reason` shows in the panel.
pub async fn postpone(db: &Db, job_id: i64, worker: &str, reason: &str, at: i64) -> Result<()> {
    let reason: String = reason.chars().take(2000).collect();
    sqlx::query(
        "UPDATE jobs SET state = 'queued', attempts = attempts - 1, run_at = $1, last_error = $2, updated_at = $3, \
         locked_by = NULL, locked_until = NULL WHERE id = $4 AND locked_by = $5",
    )
    .bind(at)
    .bind(&reason)
    .bind(now())
    .bind(job_id)
    .bind(worker)
    .execute(db.writer())
    .await?;
    Ok(())
}

/// Moves a waiting job (found by its idempotency key) to run at `at` instead; a job
/// already running or done is left alone.
pub async fn reschedule<'e, E>(executor: E, idempotency_key: &str, at: i64) -> Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query("UPDATE jobs SET run_at = $1, updated_at = $2 WHERE idempotency_key = $3 AND state = 'queued'")
        .bind(at)
        .bind(now())
        .bind(idempotency_key)
        .execute(executor)
        .await?;
    Ok(())
}

/// Gives a job back untouched (shutdown came first); the attempt does not count.
pub async fn release(db: &Db, job_id: i64, worker: &str) -> Result<()> {
    sqlx::query(
        "UPDATE jobs SET state = 'queued', attempts = attempts - 1, locked_by = NULL, locked_until = NULL, \
         updated_at = $1 WHERE id = $2 AND locked_by = $3 AND state = 'running'",
    )
    .bind(now())
    .bind(job_id)
    .bind(worker)
    .execute(db.writer())
    .await?;
    Ok(())
}

/// Queues a failed or dead job to run now, with its attempts counted afresh; inside the
/// caller's transaction when given one.
pub async fn retry<'e, E>(executor: E, job_id: i64) -> Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let now = now();
    let done = sqlx::query(
        "UPDATE jobs SET state = 'queued', attempts = 0, run_at = $1, updated_at = $1, finished_at = NULL \
         WHERE id = $2 AND (state = 'dead' OR (state = 'queued' AND last_error IS NOT NULL))",
    )
    .bind(now)
    .bind(job_id)
    .execute(executor)
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::Conflict("only a failed or dead job can be retried".into()));
    }
    Ok(())
}

/// Makes every waiting job of `kind` due now (what held it back has changed), without
/// touching its attempts.
pub async fn run_now<'e, E>(executor: E, kind: &str) -> Result<u64>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let now = now();
    let done = sqlx::query(
        "UPDATE jobs SET run_at = $1, updated_at = $1 WHERE kind = $2 AND state = 'queued' AND run_at > $1",
    )
    .bind(now)
    .bind(kind)
    .execute(executor)
    .await?;
    Ok(done.rows_affected())
}

/// How a job looks in the panel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobSummary {
    pub id: i64,
    pub kind: String,
    /// `queued`, `running`, `failed` (waiting to retry) or `dead`.
    pub status: String,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at: i64,
    pub last_error: Option<String>,
}

/// Jobs that are not finished successfully: queued, running, failed (to be retried) and
/// dead, newest first.
pub async fn unfinished(db: &Db, limit: i64) -> Result<Vec<JobSummary>> {
    let rows = sqlx::query(
        "SELECT id, kind, state, attempts, max_attempts, run_at, last_error FROM jobs \
         WHERE state <> 'succeeded' ORDER BY id DESC LIMIT $1",
    )
    .bind(limit.clamp(1, 500))
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            let state: String = r.try_get("state")?;
            let last_error: Option<String> = r.try_get("last_error")?;
            let status = if state == "queued" && last_error.is_some() { "failed".to_owned() } else { state };
            Ok(JobSummary {
                id: r.try_get("id")?,
                kind: r.try_get("kind")?,
                status,
                attempts: r.try_get("attempts")?,
                max_attempts: r.try_get("max_attempts")?,
                run_at: r.try_get("run_at")?,
                last_error,
            })
        })
        .collect()
}

/// The queue at a glance, for the connection test: how many jobs wait, run or died, and
/// how late the most overdue one is (a growing lateness means no worker is running).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueHealth {
    pub due: i64,
    pub scheduled: i64,
    pub running: i64,
    pub dead: i64,
    pub oldest_due_secs: i64,
}

pub async fn health(db: &Db) -> Result<QueueHealth> {
    let now = now();
    let row = sqlx::query(
        "SELECT CAST(COALESCE(SUM(CASE WHEN state = 'queued' AND run_at <= $1 THEN 1 ELSE 0 END), 0) AS BIGINT) AS due, \
         CAST(COALESCE(SUM(CASE WHEN state = 'queued' AND run_at > $1 THEN 1 ELSE 0 END), 0) AS BIGINT) AS scheduled, \
         CAST(COALESCE(SUM(CASE WHEN state = 'running' THEN 1 ELSE 0 END), 0) AS BIGINT) AS running, \
         CAST(COALESCE(SUM(CASE WHEN state = 'dead' THEN 1 ELSE 0 END), 0) AS BIGINT) AS dead, \
         CAST(COALESCE(MIN(CASE WHEN state = 'queued' AND run_at <= $1 THEN run_at END), $1) AS BIGINT) AS oldest_due \
         FROM jobs WHERE state <> 'succeeded'",
    )
    .bind(now)
    .fetch_one(db.pool())
    .await?;
    Ok(QueueHealth {
        due: row.try_get("due")?,
        scheduled: row.try_get("scheduled")?,
        running: row.try_get("running")?,
        dead: row.try_get("dead")?,
        oldest_due_secs: now - row.try_get::<i64, _>("oldest_due")?,
    })
}

/// Why a job did not finish, and what to do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Try again after the backoff (or go dead after the last attempt).
    Retry(String),
    /// Try again at this time; the attempt does not count.
    RetryAt { reason: String, at: i64 },
    /// Retrying cannot help: dead now, waiting for someone to act.
    Dead(String),
}

impl Failure {
    /// Why, in words.
    pub fn reason(&self) -> &str {
        match self {
            Failure::Retry(reason) | Failure::Dead(reason) | Failure::RetryAt { reason, .. } => reason,
        }
    }
}

impl From<String> for Failure {
    fn from(reason: String) -> Self {
        Failure::Retry(reason)
    }
}

impl From<crate::Error> for Failure {
    fn from(error: crate::Error) -> Self {
        Failure::Retry(error.report())
    }
}

impl From<sqlx::Error> for Failure {
    fn from(error: sqlx::Error) -> Self {
        Failure::from(crate::Error::from(error))
    }
}

impl From<&str> for Failure {
    fn from(reason: &str) -> Self {
        Failure::Retry(reason.to_owned())
    }
}

type HandlerFuture = Pin<Box<dyn Future<Output = Vec<Result<(), Failure>>> + Send>>;
type Handler = Arc<dyn Fn(Vec<ClaimedJob>) -> HandlerFuture + Send + Sync>;

/// The job kinds this process knows how to run.
#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<String, Handler>,
}

impl Registry {
    /// Registers the handler for `kind`; it returns `Err(reason)` to ask for a retry, or
    /// a [`Failure`] to say more. The jobs of a batch ([`Worker::with_batch`]) run at
    /// the same time.
    pub fn on<F, Fut, E>(self, kind: &str, handler: F) -> Self
    where
        F: Fn(ClaimedJob) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<Failure> + 'static,
    {
        self.on_batch(kind, move |jobs| {
            let runs: Vec<_> = jobs
                .into_iter()
                .map(|job| {
                    let span = tracing::info_span!("job", id = job.id, kind = %job.kind, attempt = job.attempt);
                    let running = handler(job);
                    async move { running.await.map_err(Into::into) }.instrument(span)
                })
                .collect();
            futures_util::future::join_all(runs)
        })
    }

    /// Registers a handler that takes the claimed jobs of `kind` in a batch together, so
    /// they can share reads and writes; it returns one outcome per job, in their order.
    pub fn on_batch<F, Fut>(mut self, kind: &str, handler: F) -> Self
    where
        F: Fn(Vec<ClaimedJob>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Vec<Result<(), Failure>>> + Send + 'static,
    {
        self.handlers.insert(kind.to_owned(), Arc::new(move |jobs| Box::pin(handler(jobs))));
        self
    }
}

/// How long a claimed job stays its worker's without a renewal. The worker renews it every
/// third of that while the job runs, so a job may run for hours; but a job whose process
/// was killed is taken over by another worker within this time (plus its idle poll).
pub const LEASE: Duration = Duration::from_secs(20);

/// The task renewing running jobs' leases; ended when the run ends, however it ends (a
/// run dropped mid-way must not leave its jobs held forever).
struct Heartbeat(tokio::task::JoinHandle<()>);

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Renews the leases of `jobs` every third of a lease, until aborted.
async fn keep_leases(worker: Worker, jobs: Vec<ClaimedJob>) {
    let mut heartbeat = tokio::time::interval(worker.lease / 3);
    heartbeat.tick().await;
    loop {
        heartbeat.tick().await;
        for job in &jobs {
            if !extend_lease(&worker.db, job.id, &worker.id, worker.lease).await.unwrap_or(false) {
                tracing::warn!(id = job.id, kind = %job.kind, "lost the lease on a running job");
            }
        }
    }
}

/// A worker: claims due jobs one at a time and runs them.
#[derive(Clone)]
pub struct Worker {
    db: Db,
    registry: Arc<Registry>,
    id: String,
    kinds: Kinds,
    lease: Duration,
    idle_poll: Duration,
    /// How many due jobs one claim takes; they run at the same time.
    batch: usize,
    /// How long an in-flight job may run on after shutdown before it is released.
    shutdown_grace: Duration,
    /// Ends an idle wait early: work for this worker was just committed in this process.
    wake: Option<Arc<tokio::sync::Notify>>,
}

impl Worker {
    pub fn new(db: Db, registry: Arc<Registry>) -> Worker {
        Worker {
            db,
            registry,
            id: format!("worker-{}", uuid::Uuid::new_v4()),
            kinds: Kinds::All,
            lease: LEASE,
            idle_poll: Duration::from_secs(2),
            batch: 1,
            shutdown_grace: Duration::from_secs(20),
            wake: None,
        }
    }

    /// Looks for due work as soon as `wake` is notified, not only at its idle poll.
    pub fn with_wake(mut self, wake: Arc<tokio::sync::Notify>) -> Self {
        self.wake = Some(wake);
        self
    }

    /// Takes only jobs of these kinds (a pool of its own for work that waits on a
    /// remote service, so it neither starves nor floods the rest).
    pub fn with_kinds(mut self, kinds: Kinds) -> Self {
        self.kinds = kinds;
        self
    }

    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    pub fn with_idle_poll(mut self, every: Duration) -> Self {
        self.idle_poll = every;
        self
    }

    /// Claims up to `jobs` due jobs at a time and runs them together (work that mostly
    /// waits on a remote service): a burst of due jobs costs a claim per batch, not per job.
    pub fn with_batch(mut self, jobs: usize) -> Self {
        self.batch = jobs.max(1);
        self
    }

    pub fn with_shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Runs jobs until `stop` is cancelled; then lets the current job finish within the
    /// grace period, or releases it.
    pub async fn run_until_stopped(self, stop: CancellationToken) {
        while !stop.is_cancelled() {
            match self.run_one(&stop).await {
                Ok(true) => {}
                Ok(false) => {
                    let idle = self.idle_wait().await;
                    let woken = async {
                        match &self.wake {
                            Some(wake) => wake.notified().await,
                            None => std::future::pending().await,
                        }
                    };
                    tokio::select! {
                        _ = stop.cancelled() => {}
                        _ = tokio::time::sleep(idle) => {}
                        _ = woken => {}
                    }
                }
                Err(e) => {
                    tracing::error!(worker = %self.id, error = %e.report(), "job worker could not reach the database");
                    tokio::select! {
                        _ = stop.cancelled() => {}
                        _ = tokio::time::sleep(self.idle_poll * 5) => {}
                    }
                }
            }
        }
    }

    /// How long to wait when nothing is due: the idle poll, or less when a job of this
    /// worker's kinds falls due sooner (so it starts on its second, not up to a poll later).
    async fn idle_wait(&self) -> Duration {
        let next: Option<i64> = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT MIN(run_at) FROM jobs WHERE state = 'queued'{}",
            self.kinds.condition()
        )))
        .fetch_one(self.db.pool())
        .await
        .unwrap_or(None);
        let Some(next) = next else { return self.idle_poll };
        let until_due = Duration::from_millis((next * 1000 - chrono::Utc::now().timestamp_millis()).max(0) as u64);
        // Never a busy loop: a due job another worker holds is not ours to spin on.
        until_due.clamp(Duration::from_millis(10), self.idle_poll)
    }

    /// Claims and runs due jobs (one, or a batch: [`Worker::with_batch`]); false when
    /// none was due. Tests drain queues with it.
    pub async fn run_one(&self, stop: &CancellationToken) -> Result<bool> {
        let jobs = claim_many(&self.db, &self.id, self.lease, &self.kinds, self.batch).await?;
        if jobs.is_empty() {
            return Ok(false);
        }
        // The batch's jobs by kind, each kind to its handler in one call.
        let mut groups: Vec<(Handler, Vec<ClaimedJob>)> = Vec::new();
        for job in jobs {
            if job.attempt > job.max_attempts {
                // Its holders kept dying mid-run: stop handing it out.
                fail(&self.db, &job, &self.id, "the job's worker stopped before finishing, too many times").await?;
                continue;
            }
            let Some(handler) = self.registry.handlers.get(&job.kind) else {
                fail(&self.db, &job, &self.id, &format!("no handler for job kind {}", job.kind)).await?;
                continue;
            };
            match groups.iter_mut().find(|(_, group)| group[0].kind == job.kind) {
                Some((_, group)) => group.push(job),
                None => groups.push((handler.clone(), vec![job])),
            }
        }
        let runs = groups.into_iter().map(|(handler, jobs)| self.execute(handler, jobs, stop));
        let succeeded: Vec<i64> = futures_util::future::join_all(runs)
            .await
            .into_iter()
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .flatten()
            .collect();
        complete(&self.db, &succeeded, &self.id).await?;
        Ok(true)
    }

    /// Runs claimed jobs of one kind, keeping their leases while they run, and records
    /// how each ended, except success: those ids come back, for [`complete`] to mark
    /// with the rest of the batch.
    async fn execute(&self, handler: Handler, jobs: Vec<ClaimedJob>, stop: &CancellationToken) -> Result<Vec<i64>> {
        let mut running = handler(jobs.clone());
        // The leases are kept from a task of their own: renewing one waits for a database
        // connection, and on SQLite the one that writes may be the running job's own, in
        // the middle of its transaction — which goes on only while the job is polled.
        let heartbeat = Heartbeat(tokio::spawn(keep_leases(self.clone(), jobs.clone())));
        let outcomes = tokio::select! {
            outcomes = &mut running => Some(outcomes),
            _ = stop.cancelled() => tokio::time::timeout(self.shutdown_grace, &mut running).await.ok(),
        };
        drop(heartbeat);
        let Some(outcomes) = outcomes else {
            for job in &jobs {
                tracing::info!(id = job.id, kind = %job.kind, "released an unfinished job at shutdown");
                release(&self.db, job.id, &self.id).await?;
            }
            return Ok(Vec::new());
        };
        // A handler that gave fewer outcomes than jobs leaves the rest to be retried.
        let outcomes = outcomes
            .into_iter()
            .chain(std::iter::repeat_with(|| Err(Failure::Retry("the job's handler gave no outcome for it".into()))));
        let mut succeeded = Vec::new();
        for (job, outcome) in jobs.iter().zip(outcomes) {
            let span = tracing::info_span!("job", id = job.id, kind = %job.kind, attempt = job.attempt);
            match outcome {
                Ok(()) => succeeded.push(job.id),
                Err(failure) => self.record(job, failure).instrument(span).await?,
            }
        }
        Ok(succeeded)
    }

    /// Records a job that did not finish: retried later, put off, or dead.
    async fn record(&self, job: &ClaimedJob, failure: Failure) -> Result<()> {
        match failure {
            Failure::Retry(reason) => {
                tracing::warn!(%reason, "job failed");
                fail(&self.db, job, &self.id, &reason).await
            }
            Failure::RetryAt { reason, at } => {
                tracing::info!(%reason, at, "job put off");
                postpone(&self.db, job.id, &self.id, &reason, at).await
            }
            Failure::Dead(reason) => {
                tracing::warn!(%reason, "job cannot succeed by retrying");
                record_failure(&self.db, job, &self.id, &reason, true).await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_a_cap() {
        assert_eq!(backoff_secs(1), 30);
        assert_eq!(backoff_secs(2), 60);
        assert_eq!(backoff_secs(5), 480);
        assert_eq!(backoff_secs(30), MAX_BACKOFF_SECS);
    }
}
