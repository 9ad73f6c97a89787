//! The background work this build knows: which job kinds exist, what runs them, and
//! the recurring schedule (the nightly clean-up of expired sessions).

use std::sync::Arc;

use chrono::{Days, NaiveTime, TimeZone};
use chrono_tz::Tz;

use crate::{
    Result,
    clock::now,
    db::Db,
    jobs::{self, NewJob, Registry},
    sales_daily, sessions::{self, SessionPolicy}, settings, sign_in,
};

pub const SESSION_CLEANUP_JOB: &str = "sessions.cleanup";
/// The local hour the nightly clean-up runs at.
const CLEANUP_HOUR: u32 = 3;

/// Every job kind with its handler.
pub fn registry(db: Db, policy: SessionPolicy) -> Arc<Registry> {
    let cleanup_db = db.clone();
    let rebuild_db = db;
    Arc::new(
        Registry::default()
            .on(SESSION_CLEANUP_JOB, move |_job| {
                let db = cleanup_db.clone();
                async move { clean_up_sessions(&db, policy).await.map_err(|e| e.to_string()) }
            })
            .on(sales_daily::REBUILD_JOB, move |_job| {
                let db = rebuild_db.clone();
                async move {
                    let tz = settings::get(&db).await.map_err(|e| e.to_string())?.tz();
                    sales_daily::rebuild(&db, tz).await.map_err(|e| e.to_string())
                }
            }),
    )
}

/// Deletes expired sessions and stale sign-in counters, then books the next night.
async fn clean_up_sessions(db: &Db, policy: SessionPolicy) -> Result<()> {
    let sessions = sessions::delete_expired(db, policy).await?;
    let counters = sign_in::delete_stale(db).await?;
    tracing::info!(sessions, counters, "cleaned up expired sessions");
    schedule_recurring(db).await
}

/// Makes sure the next nightly clean-up is queued. Safe to call from every instance at
/// every start: the idempotency key names the night, so it is queued once.
pub async fn schedule_recurring(db: &Db) -> Result<()> {
    let tz = settings::get(db).await?.tz();
    let (night, run_at) = next_run(now(), tz);
    let job = NewJob {
        idempotency_key: Some(format!("{SESSION_CLEANUP_JOB}:{night}")),
        run_at,
        ..NewJob::now(SESSION_CLEANUP_JOB)
    };
    jobs::enqueue(db.pool(), &job).await?;
    Ok(())
}

/// The next 03:00 in the shop's time zone after `after`: (its local date, its timestamp).
fn next_run(after: i64, tz: Tz) -> (chrono::NaiveDate, i64) {
    let mut day = sales_daily::local_day(after, tz);
    loop {
        let at = day.and_time(NaiveTime::from_hms_opt(CLEANUP_HOUR, 0, 0).expect("valid time"));
        // A DST gap at 03:00 has no such local time; take the earliest reading otherwise.
        if let Some(local) = tz.from_local_datetime(&at).earliest() {
            if local.timestamp() > after {
                return (day, local.timestamp());
            }
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
