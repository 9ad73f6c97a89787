//! The recurring background work: the nightly clean-up of expired sessions, tokens,
//! nonces, old account links, sign-ins that waited too long for their code, old audit
//! entries, old accounting request logs and applied WhatsApp webhook
//! deliveries, and its schedule. Which job kinds exist and what runs each is wired in
//! the composition root ([`crate::services::Services::jobs`]).

use chrono::{Days, NaiveDate};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::{
    Result, access, account_links, accounting, audit,
    clock::now,
    db::Db,
    jobs::{self, NewJob},
    sales_daily,
    sessions::{self, SessionPolicy},
    settings, sign_in, throttle, whatsapp,
};

pub const SESSION_CLEANUP_JOB: &str = "sessions.cleanup";
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

/// Deletes expired sessions, stale sign-in counters, spent nonces, OAuth codes and
/// tokens, and audit entries past their retention; then books the night after this
/// job's own (whatever the clock says, so no night is skipped or booked twice).
pub(crate) async fn clean_up(db: &Db, policy: SessionPolicy, night: Option<NaiveDate>) -> Result<()> {
    let sessions = sessions::delete_expired(db, policy).await?;
    let counters = throttle::delete_stale(db).await?;
    let nonces = access::authenticate::delete_expired_nonces(db).await?;
    let oauth = access::oauth::delete_expired(db).await?;
    let account_links = account_links::delete_old(db).await?;
    let challenges = sign_in::delete_expired_challenges(db).await?;
    let retention_days = access::security::get(db).await?.audit_retention_days;
    let audit_entries = audit::prune(db, retention_days).await?;
    let accounting_log = accounting::log::prune(db, accounting::settings::get(db).await?.log_retention_days).await?;
    let whatsapp_deliveries = whatsapp::webhook::prune(db).await?;
    tracing::info!(
        sessions,
        counters,
        nonces,
        oauth,
        account_links,
        challenges,
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
