//! The durable job runner: idempotent queueing, retries with backoff, the dead state,
//! lease recovery after a crash, two workers never running one job twice.

mod common;

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use backend::{
    db::Db,
    jobs::{self, Kinds, NewJob, Registry, Worker},
};
use common::*;
use tokio_util::sync::CancellationToken;

async fn database(engine: Engine) -> Db {
    let (url, _) = fresh_database(engine).await;
    let db = Db::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    db
}

fn job(kind: &str, key: Option<&str>) -> NewJob {
    NewJob { idempotency_key: key.map(str::to_owned), ..NewJob::now(kind) }
}

async fn state_of(db: &Db, id: i64) -> (String, i64) {
    sqlx::query_as("SELECT state, attempts FROM jobs WHERE id = $1").bind(id).fetch_one(db.pool()).await.unwrap()
}

async fn a_job_with_the_same_idempotency_key_is_queued_once(engine: Engine) {
    let db = database(engine).await;
    let first = jobs::enqueue(db.writer(), &job("mail.send", Some("ticket-7-ack"))).await.unwrap();
    let second = jobs::enqueue(db.writer(), &job("mail.send", Some("ticket-7-ack"))).await.unwrap();
    assert!(first.is_some());
    assert_eq!(second, None);
    db.close().await;
}

async fn a_failing_job_is_retried_with_backoff_then_dead(engine: Engine) {
    let db = database(engine).await;
    let id = jobs::enqueue(db.writer(), &NewJob { max_attempts: 2, ..job("flaky", None) }).await.unwrap().unwrap();
    let registry = Arc::new(Registry::default().on("flaky", |_| async { Err("the remote said no".to_owned()) }));
    let worker = Worker::new(db.clone(), registry);
    let stop = CancellationToken::new();

    assert!(worker.run_one(&stop).await.unwrap());
    let (state, attempts) = state_of(&db, id).await;
    assert_eq!((state.as_str(), attempts), ("queued", 1));
    let listed = jobs::unfinished(&db, 10).await.unwrap();
    assert_eq!(listed[0].status, "failed");
    assert_eq!(listed[0].last_error.as_deref(), Some("the remote said no"));
    assert!(listed[0].run_at >= backend::clock::now() + 29, "the retry waits for the backoff");
    assert!(!worker.run_one(&stop).await.unwrap(), "not due before the backoff ends");

    sqlx::query("UPDATE jobs SET run_at = 0 WHERE id = $1").bind(id).execute(db.writer()).await.unwrap();
    assert!(worker.run_one(&stop).await.unwrap());
    assert_eq!(state_of(&db, id).await.0, "dead");

    jobs::retry(db.writer(), id).await.unwrap();
    assert_eq!(state_of(&db, id).await, ("queued".to_owned(), 0));
    db.close().await;
}

async fn a_job_whose_worker_died_is_taken_over_after_its_lease(engine: Engine) {
    let db = database(engine).await;
    let id = jobs::enqueue(db.writer(), &job("report", None)).await.unwrap().unwrap();
    // A worker claims it and "crashes" (never completes).
    let claimed = jobs::claim(&db, "worker-that-died", Duration::from_secs(0)).await.unwrap().unwrap();
    assert_eq!(claimed.id, id);
    tokio::time::sleep(Duration::from_millis(1100)).await;

    let runs = Arc::new(Mutex::new(0));
    let counter = runs.clone();
    let registry = Arc::new(Registry::default().on("report", move |_| {
        let counter = counter.clone();
        async move {
            *counter.lock().unwrap() += 1;
            Ok::<_, String>(())
        }
    }));
    let worker = Worker::new(db.clone(), registry);
    assert!(worker.run_one(&CancellationToken::new()).await.unwrap());
    assert_eq!(*runs.lock().unwrap(), 1);
    assert_eq!(state_of(&db, id).await, ("succeeded".to_owned(), 2));
    db.close().await;
}

/// A process killed while it runs a job holds no lease for long: the job goes on in
/// another process well within 30 s (a customer's acknowledgement is not five minutes late).
async fn a_killed_workers_job_is_taken_over_within_half_a_minute(engine: Engine) {
    let db = database(engine).await;
    let id = jobs::enqueue(db.writer(), &job("ack", None)).await.unwrap().unwrap();
    let runs = Arc::new(Mutex::new(0));
    let registry = |hang: bool| {
        let counter = runs.clone();
        Arc::new(Registry::default().on("ack", move |_| {
            let counter = counter.clone();
            async move {
                *counter.lock().unwrap() += 1;
                if hang {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                }
                Ok::<_, String>(())
            }
        }))
    };
    // The first worker, with the settings every process uses, takes the job and is killed
    // mid-run: its task is dropped, as a killed process stops, releasing nothing.
    let first = tokio::spawn(Worker::new(db.clone(), registry(true)).run_until_stopped(CancellationToken::new()));
    while *runs.lock().unwrap() == 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.abort();
    let killed = std::time::Instant::now();
    let stop = CancellationToken::new();
    let second = tokio::spawn(Worker::new(db.clone(), registry(false)).run_until_stopped(stop.clone()));
    while state_of(&db, id).await.0 != "succeeded" && killed.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(state_of(&db, id).await, ("succeeded".to_owned(), 2));
    assert!(killed.elapsed() < Duration::from_secs(30), "taken over after {:?}", killed.elapsed());
    assert_eq!(*runs.lock().unwrap(), 2);
    stop.cancel();
    second.await.unwrap();
    db.close().await;
}

/// Queues `count` jobs and runs them with `workers` workers, each claiming `batch` at a
/// time, until all have run; returns the ids in the order they ran.
async fn run_by_workers(db: &Db, count: usize, workers: usize, batch: usize) -> Vec<i64> {
    for n in 0..count {
        jobs::enqueue(db.writer(), &job("count", Some(&format!("count-{n}")))).await.unwrap();
    }
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let registry = Arc::new(Registry::default().on("count", move |job| {
        let record = record.clone();
        async move {
            record.lock().unwrap().push(job.id);
            tokio::time::sleep(Duration::from_millis(5)).await;
            Ok::<_, String>(())
        }
    }));
    let stop = CancellationToken::new();
    let workers: Vec<_> = (0..workers)
        .map(|_| {
            let worker =
                Worker::new(db.clone(), registry.clone()).with_idle_poll(Duration::from_millis(20)).with_batch(batch);
            tokio::spawn(worker.run_until_stopped(stop.clone()))
        })
        .collect();
    for _ in 0..200 {
        if seen.lock().unwrap().len() >= count {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.cancel();
    for w in workers {
        w.await.unwrap();
    }
    seen.lock().unwrap().clone()
}

fn assert_each_ran_once(mut ids: Vec<i64>, count: usize) {
    assert_eq!(ids.len(), count);
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), count, "no job ran twice");
}

async fn two_workers_never_run_the_same_job_twice(engine: Engine) {
    let db = database(engine).await;
    assert_each_ran_once(run_by_workers(&db, 40, 2, 1).await, 40);
    db.close().await;
}

async fn workers_taking_batches_run_each_job_once(engine: Engine) {
    let db = database(engine).await;
    assert_each_ran_once(run_by_workers(&db, 120, 3, 8).await, 120);
    let left: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE state <> 'succeeded'").fetch_one(db.pool()).await.unwrap();
    assert_eq!(left, 0, "every job of every batch completed");
    db.close().await;
}

async fn a_batch_claim_takes_a_dead_workers_job_then_due_ones_up_to_its_limit(engine: Engine) {
    let db = database(engine).await;
    let orphan = jobs::enqueue(db.writer(), &job("report", None)).await.unwrap().unwrap();
    jobs::claim(&db, "worker-that-died", Duration::from_secs(0)).await.unwrap().unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    for n in 0..6 {
        jobs::enqueue(db.writer(), &job("count", Some(&format!("count-{n}")))).await.unwrap();
    }
    let later = jobs::enqueue(db.writer(), &NewJob { run_at: backend::clock::now() + 3600, ..job("count", None) })
        .await
        .unwrap()
        .unwrap();

    let ids = |claimed: Vec<jobs::ClaimedJob>| claimed.into_iter().map(|j| j.id).collect::<Vec<_>>();
    let first = ids(jobs::claim_many(&db, "batcher", Duration::from_secs(300), &Kinds::All, 4).await.unwrap());
    assert_eq!(first.len(), 4, "as many as asked for: {first:?}");
    assert!(first.contains(&orphan), "the job whose holder died is taken first: {first:?}");
    let rest = ids(jobs::claim_many(&db, "batcher", Duration::from_secs(300), &Kinds::All, 10).await.unwrap());
    assert_eq!(rest.len(), 3, "the due jobs left, and not the one due in an hour: {rest:?}");
    assert!(!rest.contains(&later) && rest.iter().all(|id| !first.contains(id)));
    assert_eq!(state_of(&db, later).await.0, "queued");
    db.close().await;
}

async fn a_batch_handler_takes_its_kinds_jobs_together_and_answers_for_each(engine: Engine) {
    let db = database(engine).await;
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(jobs::enqueue(db.writer(), &job("notify", Some(&format!("notify-{n}")))).await.unwrap().unwrap());
    }
    let single = jobs::enqueue(db.writer(), &job("report", None)).await.unwrap().unwrap();
    let batches = Arc::new(Mutex::new(Vec::new()));
    let seen = batches.clone();
    let later = backend::clock::now() + 3600;
    let registry = Registry::default()
        .on_batch("notify", move |claimed| {
            seen.lock().unwrap().push(claimed.iter().map(|j| j.id).collect::<Vec<_>>());
            // The second job is put off, the fourth gets no outcome at all.
            let outcomes: Vec<Result<(), jobs::Failure>> =
                (0..claimed.len().min(3))
                    .map(|i| {
                        if i == 1 {
                            Err(jobs::Failure::RetryAt { reason: "not yet".into(), at: later })
                        } else {
                            Ok(())
                        }
                    })
                    .collect();
            async move { outcomes }
        })
        .on("report", |_| async { Ok::<(), String>(()) });
    let worker = Worker::new(db.clone(), Arc::new(registry)).with_batch(8);
    assert!(worker.run_one(&CancellationToken::new()).await.unwrap());

    let batches = batches.lock().unwrap().clone();
    assert_eq!(batches.len(), 1, "one call for the kind's jobs: {batches:?}");
    let mut together = batches[0].clone();
    together.sort_unstable();
    assert_eq!(together, ids, "all five jobs of the kind, and only those");
    let by_position = |i: usize| batches[0][i];
    assert_eq!(state_of(&db, single).await.0, "succeeded", "the other kind ran on its own handler");
    for i in [0, 2] {
        assert_eq!(state_of(&db, by_position(i)).await.0, "succeeded");
    }
    let (state, run_at): (String, i64) = sqlx::query_as("SELECT state, run_at FROM jobs WHERE id = $1")
        .bind(by_position(1))
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!((state.as_str(), run_at), ("queued", later), "the job put off waits for its time");
    for i in [3, 4] {
        assert_eq!(
            state_of(&db, by_position(i)).await.0,
            "queued",
            "a job without an outcome is retried, not lost or done"
        );
    }
    db.close().await;
}

async fn on_sqlite_only_the_writer_writes(engine: Engine) {
    let db = database(engine).await;
    let insert = "INSERT INTO audit_log (at, actor, action, outcome) VALUES (1, 'test', 'writer.check', 'success')";
    sqlx::query(insert).execute(db.writer()).await.expect("the writer writes");
    let through_reader = sqlx::query(insert).execute(db.pool()).await;
    match engine {
        Engine::Sqlite => {
            let refused = through_reader.expect_err("a reader's connection refuses to write");
            assert!(refused.to_string().contains("readonly"), "{refused}");
        }
        Engine::Postgres => {
            through_reader.expect("on PostgreSQL the pool is the writer");
        }
    }
    db.close().await;
}

async fn a_job_interrupted_by_shutdown_is_released_for_the_next_worker(engine: Engine) {
    let db = database(engine).await;
    let id = jobs::enqueue(db.writer(), &job("slow", None)).await.unwrap().unwrap();
    let claimed = jobs::claim(&db, "stopping-worker", Duration::from_secs(300)).await.unwrap().unwrap();
    jobs::release(&db, claimed.id, "stopping-worker").await.unwrap();
    assert_eq!(state_of(&db, id).await, ("queued".to_owned(), 0), "released work is not counted as an attempt");
    db.close().await;
}

async fn the_nightly_cleanup_removes_expired_sessions_nonces_and_old_audit_entries(engine: Engine) {
    let app = spawn_app_with(engine, Options { job_workers: 1, ..Options::default() }).await;
    app.signed_in_owner().await;
    sqlx::query("UPDATE sessions SET expires_at = 0").execute(app.db.writer()).await.unwrap();
    let day = 86_400;
    let now = backend::clock::now();
    for (at, action) in [(now - 400 * day, "old.event"), (now - 300 * day, "kept.event")] {
        sqlx::query("INSERT INTO audit_log (at, actor, action, outcome) VALUES ($1, 'test', $2, 'success')")
            .bind(at)
            .bind(action)
            .execute(app.db.writer())
            .await
            .unwrap();
    }
    sqlx::query(
        "INSERT INTO api_nonces (credential, nonce, expires_at) VALUES ('connection_key:1', 'spent-nonce', $1)",
    )
    .bind(now - 10)
    .execute(app.db.writer())
    .await
    .unwrap();
    // Bring tonight's clean-up forward.
    sqlx::query("UPDATE jobs SET run_at = 0 WHERE kind = 'sessions.cleanup'").execute(app.db.writer()).await.unwrap();
    for _ in 0..100 {
        let done = sqlx::query_as::<_, (i64,)>(
            "SELECT COUNT(*) FROM jobs WHERE kind = 'sessions.cleanup' AND state = 'succeeded'",
        )
        .fetch_one(app.db.pool())
        .await
        .unwrap()
        .0;
        if done == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let left = sqlx::query_as::<_, (i64,)>("SELECT COUNT(*) FROM sessions").fetch_one(app.db.pool()).await.unwrap().0;
    assert_eq!(left, 0);
    let queued: (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM jobs WHERE kind = 'sessions.cleanup' AND state = 'queued'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(queued.0, 1, "the next night is booked");
    let actions: Vec<(String,)> = sqlx::query_as("SELECT action FROM audit_log WHERE action LIKE '%.event'")
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    assert_eq!(actions, vec![("kept.event".to_owned(),)], "past the 365 days' retention, and only those");
    let nonces: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM api_nonces").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(nonces.0, 0);
    // Retention below the 30-day floor is refused by the database itself.
    assert!(sqlx::query("DELETE FROM audit_log WHERE action = 'kept.event'").execute(app.db.writer()).await.is_ok());
    assert!(
        sqlx::query("DELETE FROM audit_log WHERE action = 'panel.sign_in'").execute(app.db.writer()).await.is_err()
    );
    app.stop().await;
}

/// Renewing a lease waits for a database connection; on SQLite the one that writes is the
/// running job's own while it holds a transaction, so the renewal must not stop the job.
async fn a_job_holding_a_transaction_keeps_running_through_its_lease_renewals(engine: Engine) {
    let db = database(engine).await;
    let id = jobs::enqueue(db.writer(), &job("long.write", None)).await.unwrap().unwrap();
    let registry = Arc::new(Registry::default().on("long.write", {
        let db = db.clone();
        move |_| {
            let db = db.clone();
            async move {
                let mut tx = db.begin().await.map_err(|e| e.to_string())?;
                // Three renewals fall inside the transaction.
                tokio::time::sleep(Duration::from_millis(1_000)).await;
                sqlx::query("UPDATE sales_version SET version = version + 1 WHERE id = 1")
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| e.to_string())?;
                tx.commit().await.map_err(|e| e.to_string())?;
                Ok::<_, String>(())
            }
        }
    }));
    let worker = Worker::new(db.clone(), registry).with_lease(Duration::from_millis(750));
    let stop = CancellationToken::new();
    let running = tokio::spawn(worker.run_until_stopped(stop.clone()));
    let started = std::time::Instant::now();
    while state_of(&db, id).await.0 != "succeeded" && started.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(state_of(&db, id).await.0, "succeeded");
    assert!(started.elapsed() < Duration::from_secs(5), "the job waited on its own renewals: {:?}", started.elapsed());
    stop.cancel();
    running.await.unwrap();
    db.close().await;
}

async fn a_job_still_running_at_shutdown_is_released_after_the_grace_period(engine: Engine) {
    let db = database(engine).await;
    let id = jobs::enqueue(db.writer(), &job("endless", None)).await.unwrap().unwrap();
    let registry = Arc::new(Registry::default().on("endless", |_| async {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        Ok::<_, String>(())
    }));
    let worker = Worker::new(db.clone(), registry).with_shutdown_grace(Duration::from_millis(200));
    let stop = CancellationToken::new();
    let running = tokio::spawn(worker.run_until_stopped(stop.clone()));
    for _ in 0..50 {
        if state_of(&db, id).await.0 == "running" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(state_of(&db, id).await.0, "running");
    stop.cancel();
    tokio::time::timeout(Duration::from_secs(5), running).await.expect("the worker stops").unwrap();
    assert_eq!(state_of(&db, id).await, ("queued".to_owned(), 0), "released, and the attempt not counted");
    db.close().await;
}

on_both_databases!(
    a_job_still_running_at_shutdown_is_released_after_the_grace_period,
    a_job_holding_a_transaction_keeps_running_through_its_lease_renewals,
    a_job_with_the_same_idempotency_key_is_queued_once,
    a_failing_job_is_retried_with_backoff_then_dead,
    a_job_whose_worker_died_is_taken_over_after_its_lease,
    a_killed_workers_job_is_taken_over_within_half_a_minute,
    two_workers_never_run_the_same_job_twice,
    workers_taking_batches_run_each_job_once,
    a_batch_claim_takes_a_dead_workers_job_then_due_ones_up_to_its_limit,
    a_batch_handler_takes_its_kinds_jobs_together_and_answers_for_each,
    on_sqlite_only_the_writer_writes,
    a_job_interrupted_by_shutdown_is_released_for_the_next_worker,
    the_nightly_cleanup_removes_expired_sessions_nonces_and_old_audit_entries,
);
