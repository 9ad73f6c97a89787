//! The background work this build knows: which job kinds exist, what runs them, and
//! the recurring schedule (the nightly clean-up of expired sessions, tokens, nonces, old
//! audit entries, old accounting request logs and applied WhatsApp webhook deliveries).

use std::sync::Arc;

use chrono::{Days, NaiveDate};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::{
    Result, access, accounting, audit,
    clock::now,
    db::Db,
    jobs::{self, Failure, NewJob, Registry},
    mail, sales_daily,
    services::Services,
    sessions::{self, SessionPolicy},
    settings, throttle, whatsapp, woo,
};

pub const SESSION_CLEANUP_JOB: &str = "sessions.cleanup";
/// How long one run of the import job goes on before it makes way for other work.
const IMPORT_STRETCH: std::time::Duration = std::time::Duration::from_secs(20);
/// The local hour the nightly clean-up runs at.
const CLEANUP_HOUR: u32 = 3;

/// The nightly clean-up of one night (it books the next one when done).
#[derive(Debug, Serialize, Deserialize)]
pub struct CleanUp {
    pub night: NaiveDate,
}

impl jobs::Payload for CleanUp {
    const KIND: &'static str = SESSION_CLEANUP_JOB;
}

/// Every job kind with its handler.
pub fn registry(services: &Services) -> Arc<Registry> {
    let (db, policy) = (services.db.clone(), services.sessions);
    let (transport, accounting, whatsapp) =
        (services.mail.clone(), services.accounting.clone(), services.whatsapp.clone());
    let (cleanup_db, rebuild_db, mail_db, bulk_db, sender) =
        (db.clone(), db.clone(), db, accounting.db.clone(), whatsapp.clone());
    let (importer, reconciler, fetcher, writer) =
        (services.woo.clone(), services.woo.clone(), services.woo.clone(), services.woo.clone());
    let runner = format!("importer-{}", uuid::Uuid::new_v4().simple());
    Arc::new(
        Registry::default()
            .on(SESSION_CLEANUP_JOB, move |job| {
                let db = cleanup_db.clone();
                // A payload that does not read still cleans up, and books the next night.
                let night = job.payload::<CleanUp>().ok().map(|c| c.night);
                async move { clean_up(&db, policy, night).await.map_err(Failure::from) }
            })
            .on(sales_daily::REBUILD_JOB, move |_job| {
                let db = rebuild_db.clone();
                async move {
                    let tz = settings::get(&db).await?.tz();
                    sales_daily::rebuild(&db, tz).await.map_err(Failure::from)
                }
            })
            .on(mail::outbox::SEND_JOB, move |job| {
                let (db, transport) = (mail_db.clone(), transport.clone());
                async move {
                    let mail::outbox::SendMail { mail_id } = job.payload()?;
                    mail::outbox::send(&db, &transport, mail_id, job.attempt >= job.max_attempts)
                        .await
                        .map_err(Failure::Retry)
                }
            })
            .on(accounting::SYNC_JOB, move |job| {
                let accounting = accounting.clone();
                async move { accounting::sync::run(&accounting, &job).await }
            })
            .on_batch(whatsapp::RECOVERY_JOB, move |jobs| {
                let whatsapp = whatsapp.clone();
                async move { whatsapp::recovery::run(&whatsapp, &jobs).await }
            })
            .on(whatsapp::SEND_JOB, move |job| {
                let whatsapp = sender.clone();
                async move {
                    let whatsapp::send::SendMessage { message_id } = job.payload()?;
                    whatsapp::send::run(&whatsapp, message_id).await
                }
            })
            .on(accounting::BULK_JOB, move |job| {
                let db = bulk_db.clone();
                async move {
                    let accounting::bulk::FanOut { bulk_id } = job.payload()?;
                    accounting::bulk::fan_out(&db, bulk_id).await.map_err(Failure::from)
                }
            })
            .on(woo::IMPORT_JOB, move |_job| {
                let (woo, runner) = (importer.clone(), runner.clone());
                async move {
                    // A stretch at a time, put off (no attempt spent) until it is done.
                    match woo::import::run(&woo, &runner, IMPORT_STRETCH).await? {
                        woo::import::Stretch::Finished => Ok(()),
                        woo::import::Stretch::More => Err(Failure::RetryAt { reason: "importing".into(), at: now() }),
                        woo::import::Stretch::WaitUntil(at) => {
                            Err(Failure::RetryAt { reason: "the store asked the import to wait".into(), at })
                        }
                        woo::import::Stretch::Busy => {
                            Err(Failure::RetryAt { reason: "another process is importing".into(), at: now() + 10 })
                        }
                    }
                }
            })
            .on(woo::RECONCILE_JOB, move |_job| {
                let woo = reconciler.clone();
                async move { woo::reconcile::run_and_reschedule(&woo).await }
            })
            .on(woo::FETCH_JOB, move |job| {
                let woo = fetcher.clone();
                async move { woo::webhooks::fetch(&woo, &job.payload()?).await }
            })
            .on(woo::write_back::WRITE_JOB, move |job| {
                let woo = writer.clone();
                async move { woo::write_back::run(&woo, &job).await }
            }),
    )
}

/// Deletes expired sessions, stale sign-in counters, spent nonces, OAuth codes and
/// tokens, and audit entries past their retention; then books the night after this
/// job's own (whatever the clock says, so no night is skipped or booked twice).
async fn clean_up(db: &Db, policy: SessionPolicy, night: Option<NaiveDate>) -> Result<()> {
    let sessions = sessions::delete_expired(db, policy).await?;
    let counters = throttle::delete_stale(db).await?;
    let nonces = access::authenticate::delete_expired_nonces(db).await?;
    let oauth = access::oauth::delete_expired(db).await?;
    let retention_days = access::security::get(db).await?.audit_retention_days;
    let audit_entries = audit::prune(db, retention_days).await?;
    let accounting_log = accounting::log::prune(db, accounting::settings::get(db).await?.log_retention_days).await?;
    let whatsapp_deliveries = whatsapp::webhook::prune(db).await?;
    tracing::info!(
        sessions,
        counters,
        nonces,
        oauth,
        audit_entries,
        accounting_log,
        whatsapp_deliveries,
        "nightly clean-up done"
    );
    let tz = settings::get(db).await?.tz();
    let next = match night.and_then(|n| n.checked_add_days(Days::new(1))) {
        Some(next) => next.max(next_run(now(), tz).0),
        None => next_run(now(), tz).0,
    };
    schedule_night(db, tz, next).await
}

/// Makes sure the next nightly clean-up is queued. Safe to call from every instance at
/// every start: the idempotency key names the night, so it is queued once.
pub async fn schedule_recurring(db: &Db) -> Result<()> {
    let tz = settings::get(db).await?.tz();
    schedule_night(db, tz, next_run(now(), tz).0).await
}

async fn schedule_night(db: &Db, tz: Tz, night: NaiveDate) -> Result<()> {
    let job = NewJob {
        idempotency_key: Some(format!("{SESSION_CLEANUP_JOB}:{night}")),
        run_at: run_time(night, tz),
        ..NewJob::of(&CleanUp { night })
    };
    jobs::enqueue(db.writer(), &job).await?;
    Ok(())
}

/// 03:00 on `night` in the shop's time zone (or the first hour after a DST gap).
fn run_time(night: NaiveDate, tz: Tz) -> i64 {
    crate::clock::local_hour(night, CLEANUP_HOUR, tz)
}

/// The next 03:00 in the shop's time zone after `after`: (its local date, its timestamp).
fn next_run(after: i64, tz: Tz) -> (chrono::NaiveDate, i64) {
    let mut day = sales_daily::local_day(after, tz);
    loop {
        let at = run_time(day, tz);
        if at > after {
            return (day, at);
        }
        day = day.checked_add_days(Days::new(1)).expect("dates far from the end of time");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cleanup_runs_at_three_in_the_morning_shop_time() {
        // 2026-11-23 10:00 UTC = 13:00 in Istanbul → next is 24 Nov 03:00 local = 00:00 UTC.
        let after = chrono::DateTime::parse_from_rfc3339("2026-11-23T10:00:00Z").unwrap().timestamp();
        let (day, at) = next_run(after, chrono_tz::Europe::Istanbul);
        assert_eq!(day.to_string(), "2026-11-24");
        assert_eq!(at, chrono::DateTime::parse_from_rfc3339("2026-11-24T00:00:00Z").unwrap().timestamp());
    }
}
