//! Request rate limits per credential and per client address, kept in this instance's
//! memory (a generic cell rate algorithm: a steady rate with a burst of one minute's
//! worth). With N instances behind a load balancer each counts on its own, so a client
//! spread over all of them gets up to N times the limit; set the limits with that in mind.

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

struct Cells<K>(Mutex<HashMap<K, Instant>>);

impl<K> Default for Cells<K> {
    fn default() -> Self {
        Cells(Mutex::new(HashMap::new()))
    }
}

impl<K: Eq + Hash> Cells<K> {
    /// Each request moves the key's "theoretical arrival time" on by one interval; a
    /// request is refused while that time is more than one period ahead of now.
    fn check(&self, key: K, per_minute: i64, now: Instant) -> Result<(), i64> {
        let interval = PERIOD / u32::try_from(per_minute.max(1)).unwrap_or(u32::MAX);
        let mut cells = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if cells.len() > PRUNE_ABOVE {
            cells.retain(|_, tat| *tat > now);
        }
        let tat = cells.get(&key).copied().filter(|t| *t > now).unwrap_or(now);
        let next = tat + interval;
        if next > now + PERIOD {
            let wait = next - (now + PERIOD);
            return Err(wait.as_secs() as i64 + 1);
        }
        cells.insert(key, next);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minute_of_burst_then_the_steady_rate() {
        let cells = Cells::<u8>::default();
        let start = Instant::now();
        for _ in 0..120 {
            assert_eq!(cells.check(1, 120, start), Ok(()));
        }
        let wait = cells.check(1, 120, start).unwrap_err();
        assert!((1..=2).contains(&wait), "{wait}");
        // Half a second later one more request fits (120 a minute = one per 0.5 s).
        assert_eq!(cells.check(1, 120, start + Duration::from_millis(500)), Ok(()));
        assert!(cells.check(1, 120, start + Duration::from_millis(500)).is_err());
        // Other keys have their own allowance.
        assert_eq!(cells.check(2, 120, start), Ok(()));
    }
}
