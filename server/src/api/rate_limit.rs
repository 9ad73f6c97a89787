//! Request rate limits per credential and per client address, kept in this instance's
//! memory: never more than the configured number of requests in any sixty seconds, the
//! first minute included. Requests are counted in 5-second buckets, and one is let
//! through only while the bucket now and the twelve before it (which hold every request
//! of any minute that ends now) have fewer than the limit. So a client may spend its
//! minute at once and then waits until that burst has left the window (at most 65 s); a
//! steady client is never refused below about 92 % of its limit (60 of every 65 seconds).
//! With N instances behind a load balancer each counts on its own, so a client spread
//! over all of them gets up to N times the limit; set the limits with that in mind.

use std::{
    collections::HashMap,
    hash::Hash,
    net::IpAddr,
    sync::Mutex,
    time::{Duration, Instant},
};

use backend::access::CredentialKind;

const BUCKET: Duration = Duration::from_secs(5);
/// The bucket now and the twelve before: every request of a minute that ends now.
const SPAN: u64 = 13;
/// Above this many tracked clients, idle ones are forgotten.
const PRUNE_ABOVE: usize = 50_000;

pub struct RateLimits {
    credentials: Cells<(CredentialKind, i64)>,
    addresses: Cells<IpAddr>,
}

impl Default for RateLimits {
    fn default() -> Self {
        let epoch = Instant::now();
        RateLimits { credentials: Cells::new(epoch), addresses: Cells::new(epoch) }
    }
}

impl RateLimits {
    /// `Err(seconds to wait)` when the credential has used up its rate.
    pub fn check_credential(&self, kind: CredentialKind, id: i64, per_minute: i64) -> Result<(), i64> {
        self.credentials.check((kind, id), per_minute, Instant::now())
    }

    pub fn check_address(&self, ip: IpAddr, per_minute: i64) -> Result<(), i64> {
        self.addresses.check(ip, per_minute, Instant::now())
    }
}

struct Cells<K> {
    /// Bucket 0 began then.
    epoch: Instant,
    windows: Mutex<HashMap<K, Window>>,
}

/// One client's counts: slot `b % SPAN` holds bucket `b`'s count (when it is that bucket's).
#[derive(Clone, Copy, Default)]
struct Window([(u64, u32); SPAN as usize]);

impl Window {
    /// The requests of the buckets still in the window that ends in bucket `now`.
    fn counts(&self, now: u64) -> impl Iterator<Item = (u64, u32)> + '_ {
        self.0.iter().copied().filter(move |(bucket, count)| *count > 0 && *bucket + SPAN > now)
    }

    fn add(&mut self, now: u64) {
        let slot = &mut self.0[(now % SPAN) as usize];
        if slot.0 != now {
            *slot = (now, 0);
        }
        slot.1 += 1;
    }
}

impl<K: Eq + Hash> Cells<K> {
    fn new(epoch: Instant) -> Cells<K> {
        Cells { epoch, windows: Mutex::new(HashMap::new()) }
    }

    fn check(&self, key: K, per_minute: i64, now: Instant) -> Result<(), i64> {
        let limit = u64::try_from(per_minute.max(1)).unwrap_or(u64::MAX);
        let since = now.saturating_duration_since(self.epoch);
        let bucket = (since.as_millis() / BUCKET.as_millis()) as u64;
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() > PRUNE_ABOVE {
            windows.retain(|_, window| window.counts(bucket).next().is_some());
        }
        let window = windows.entry(key).or_default();
        let total: u64 = window.counts(bucket).map(|(_, count)| u64::from(count)).sum();
        if total < limit {
            window.add(bucket);
            return Ok(());
        }
        // Oldest first: the wait ends when enough of them have left the window.
        let mut counts: Vec<(u64, u32)> = window.counts(bucket).collect();
        counts.sort_unstable();
        let mut left = total;
        let mut frees = bucket + 1;
        for (old, count) in counts {
            left -= u64::from(count);
            frees = old + SPAN;
            if left < limit {
                break;
            }
        }
        let wait = (BUCKET * u32::try_from(frees).unwrap_or(u32::MAX)).saturating_sub(since);
        Err(wait.as_secs() as i64 + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The times (ms from the start) let through, of requests at `times`.
    fn passed(cells: &Cells<u8>, per_minute: i64, times: impl Iterator<Item = u64>) -> Vec<u64> {
        times.filter(|ms| cells.check(1, per_minute, cells.epoch + Duration::from_millis(*ms)).is_ok()).collect()
    }

    fn at_most_in_any_minute(passed: &[u64], limit: usize) {
        for (i, first) in passed.iter().enumerate() {
            let within = passed[i..].iter().take_while(|t| **t < *first + 60_000).count();
            assert!(within <= limit, "{within} requests in the minute from {first} ms");
        }
    }

    #[test]
    fn never_more_than_the_limit_in_any_minute_however_they_come() {
        let cells = Cells::new(Instant::now());
        // Every 10 ms for four minutes.
        let steady = passed(&cells, 120, (0..24_000).map(|n| n * 10));
        at_most_in_any_minute(&steady, 120);
        assert!((4 * 120 - 130..=4 * 120).contains(&steady.len()), "{}", steady.len());
        // Quiet for 55 s, then everything at once, then every 10 ms: the burst at the end of
        // one minute does not buy a second minute's worth in the next.
        let cells = Cells::new(Instant::now());
        let late = passed(&cells, 120, std::iter::repeat_n(55_000, 200).chain((0..12_000).map(|n| 55_001 + n * 10)));
        at_most_in_any_minute(&late, 120);
    }

    #[test]
    fn a_steady_client_under_the_limit_is_never_refused() {
        let cells = Cells::new(Instant::now());
        // 100 a minute against a limit of 120, for five minutes.
        let every = 600;
        let passed = passed(&cells, 120, (0..500).map(|n| n * every));
        assert_eq!(passed.len(), 500);
    }

    #[test]
    fn a_spent_minute_says_how_long_to_wait_and_keys_are_apart() {
        let cells = Cells::new(Instant::now());
        let start = cells.epoch;
        for _ in 0..120 {
            assert_eq!(cells.check(1, 120, start), Ok(()));
        }
        let wait = cells.check(1, 120, start).unwrap_err();
        assert!((60..=66).contains(&wait), "{wait}");
        // Half a second later the minute is still spent.
        assert!(cells.check(1, 120, start + Duration::from_millis(500)).is_err());
        // Once the burst has left the window, requests fit again.
        assert_eq!(cells.check(1, 120, start + Duration::from_secs(65)), Ok(()));
        // Other keys have their own allowance.
        assert_eq!(cells.check(2, 120, start), Ok(()));
    }
}
