//! Request rate limits per credential and per client address, kept in this instance's
//! memory: at most the configured number of requests in any minute, counted by a sliding
//! window (this minute's count plus the last minute's, weighted by how much of it is still
//! within sixty seconds). A fresh client may spend its minute at once, but then waits; it is
//! never let through at twice the rate in its first minute, as a token bucket with a
//! minute's burst would. With N instances behind a load balancer each counts on its own, so
//! a client spread over all of them gets up to N times the limit; set the limits with that
//! in mind.

use std::{
    collections::HashMap,
    hash::Hash,
    net::IpAddr,
    sync::Mutex,
    time::{Duration, Instant},
};

use backend::access::CredentialKind;

const PERIOD: Duration = Duration::from_secs(60);
/// Above this many tracked clients, idle ones are forgotten.
const PRUNE_ABOVE: usize = 50_000;

#[derive(Default)]
pub struct RateLimits {
    credentials: Cells<(CredentialKind, i64)>,
    addresses: Cells<IpAddr>,
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

struct Cells<K>(Mutex<HashMap<K, Window>>);

/// One client's count: requests in the minute that began at `start`, and in the one before.
#[derive(Clone, Copy)]
struct Window {
    start: Instant,
    previous: u64,
    current: u64,
}

impl Window {
    /// The window as of `now`: moved on by whole minutes since `start`.
    fn at(self, now: Instant) -> Window {
        let minutes = now.saturating_duration_since(self.start).as_secs() / PERIOD.as_secs();
        match minutes {
            0 => self,
            1 => Window { start: self.start + PERIOD, previous: self.current, current: 0 },
            _ => Window { start: now, previous: 0, current: 0 },
        }
    }

    /// Whether one more request would make the minute up to `now` hold more than `limit`:
    /// this minute's count, plus the last minute's share still within sixty seconds of
    /// `now` (its requests taken as spread evenly). In whole nanoseconds, so exact.
    fn full(&self, now: Instant, limit: u64) -> bool {
        let period = PERIOD.as_nanos();
        let into = now.saturating_duration_since(self.start).as_nanos().min(period);
        u128::from(self.previous) * (period - into) + u128::from(self.current) * period >= u128::from(limit) * period
    }

    /// Seconds until one more request fits under `limit`.
    fn wait(&self, now: Instant, limit: u64) -> i64 {
        let left_in_window = PERIOD.as_secs_f64() - now.saturating_duration_since(self.start).as_secs_f64();
        let seconds = if self.current < limit {
            // Wait for enough of the last minute to slide out.
            let room = (limit - self.current) as f64;
            left_in_window - PERIOD.as_secs_f64() * room / self.previous.max(1) as f64
        } else {
            // This minute is spent: into the next, until enough of this one slides out.
            left_in_window + PERIOD.as_secs_f64() * (1.0 - limit as f64 / self.current as f64)
        };
        seconds.max(0.0).ceil() as i64 + 1
    }
}

impl<K> Default for Cells<K> {
    fn default() -> Self {
        Cells(Mutex::new(HashMap::new()))
    }
}

impl<K: Eq + Hash> Cells<K> {
    fn check(&self, key: K, per_minute: i64, now: Instant) -> Result<(), i64> {
        let limit = per_minute.max(1) as u64;
        let mut cells = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if cells.len() > PRUNE_ABOVE {
            cells.retain(|_, window| now.saturating_duration_since(window.start) < PERIOD * 2);
        }
        let window = cells.get(&key).map_or(Window { start: now, previous: 0, current: 0 }, |w| w.at(now));
        if window.full(now, limit) {
            let wait = window.wait(now, limit);
            cells.insert(key, window);
            return Err(wait);
        }
        cells.insert(key, Window { current: window.current + 1, ..window });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Requests every `every` from `start` for `minutes`; the times of those let through.
    fn hammer(cells: &Cells<u8>, per_minute: i64, every: Duration, minutes: u32) -> Vec<Duration> {
        let start = Instant::now();
        let mut passed = Vec::new();
        let mut at = Duration::ZERO;
        while at < PERIOD * minutes {
            if cells.check(1, per_minute, start + at).is_ok() {
                passed.push(at);
            }
            at += every;
        }
        passed
    }

    #[test]
    fn never_more_than_the_limit_in_any_minute_even_the_first() {
        let cells = Cells::<u8>::default();
        let passed = hammer(&cells, 120, Duration::from_millis(10), 4);
        for (i, first) in passed.iter().enumerate() {
            let within = passed[i..].iter().take_while(|t| **t < *first + PERIOD).count();
            assert!(within <= 120, "{within} requests in the minute from {first:?}");
        }
        // The limit is still the rate over time: about 120 a minute over four.
        assert!((4 * 120 - 10..=4 * 120).contains(&passed.len()), "{}", passed.len());
    }

    #[test]
    fn a_client_under_the_limit_is_never_refused() {
        let cells = Cells::<u8>::default();
        // 110 a minute against a limit of 120.
        let passed = hammer(&cells, 120, Duration::from_millis(546), 5);
        assert_eq!(passed.len(), (PERIOD * 5).as_millis().div_ceil(546) as usize);
    }

    #[test]
    fn a_spent_minute_says_how_long_to_wait_and_keys_are_apart() {
        let cells = Cells::<u8>::default();
        let start = Instant::now();
        for _ in 0..120 {
            assert_eq!(cells.check(1, 120, start), Ok(()));
        }
        let wait = cells.check(1, 120, start).unwrap_err();
        assert!((60..=62).contains(&wait), "{wait}");
        // Half a second later the minute is still spent.
        assert!(cells.check(1, 120, start + Duration::from_millis(500)).is_err());
        // Once the next minute has begun, requests fit again as the spent one slides out.
        assert_eq!(cells.check(1, 120, start + Duration::from_millis(61_000)), Ok(()));
        // Other keys have their own allowance.
        assert_eq!(cells.check(2, 120, start), Ok(()));
    }
}
