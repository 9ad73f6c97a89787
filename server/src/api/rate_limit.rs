//! Request rate limits per credential and per client address: never more than the
//! configured number of requests in any sixty seconds, the first minute included, for the
//! shop as a whole however many instances serve it. Requests are counted in 5-second
//! buckets of the clock, and one is let through only while the bucket now and the twelve
//! before it (which hold every request of any minute that ends now) have fewer than the
//! limit. So a client may spend its minute at once and then waits until that burst has
//! left the window (at most 65 s); a steady client is never refused below about 92 % of
//! its limit (60 of every 65 seconds).
//!
//! Each request is decided in this instance's memory: it waits for no database. Four times
//! a second each instance adds what it let through to `rate_counts` (by client and bucket)
//! and reads back what every instance let through to the clients it has seen in the
//! window. Instances sharing a database thus let a client through at most the limit plus
//! what the others let it through in the last half second (a count waits up to a quarter
//! of a second to be shared, and another instance up to a quarter to read it).

use std::{
    collections::HashMap,
    hash::Hash,
    net::IpAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant, SystemTime},
};

use backend::{access::CredentialKind, db::Db, rate_counts};

const BUCKET: Duration = Duration::from_secs(5);
/// The bucket now and the twelve before: every request of a minute that ends now.
const SPAN: u64 = 13;
/// Above this many tracked clients, idle ones are forgotten.
const PRUNE_ABOVE: usize = 50_000;
/// How often the instances' counts are shared.
const SHARE_EVERY: Duration = Duration::from_millis(250);

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

    /// Shares the counts with the other instances on `db` from now on, until the limits
    /// are dropped.
    pub fn share_through(self: &Arc<Self>, db: Db) {
        let limits = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut cleared = Instant::now();
            loop {
                tokio::time::sleep(SHARE_EVERY).await;
                let Some(limits) = limits.upgrade() else { return };
                if let Err(e) = limits.share(&db).await {
                    tracing::warn!(error = %e.report(), "rate limit counts could not be shared this time");
                }
                if cleared.elapsed() > BUCKET * SPAN as u32 {
                    cleared = Instant::now();
                    let oldest = limits.credentials.bucket(Instant::now()).saturating_sub(SPAN);
                    if let Err(e) = rate_counts::remove_before(&db, oldest).await {
                        tracing::warn!(error = %e.report(), "old rate limit counts could not be removed");
                    }
                }
            }
        });
    }

    /// Adds what this instance let through since the last time, and learns what every
    /// instance let through to the clients seen here.
    async fn share(&self, db: &Db) -> backend::Result<()> {
        let now = Instant::now();
        let credentials = self.credentials.take(now);
        let addresses = self.addresses.take(now);
        let name_credential = |(kind, id): &(CredentialKind, i64)| format!("{}:{id}", kind.as_str());
        let name_address = |ip: &IpAddr| format!("ip:{ip}");
        let mut added: Vec<(String, u64, u32)> = Vec::new();
        added.extend(credentials.added.iter().map(|(k, b, n)| (name_credential(k), *b, *n)));
        added.extend(addresses.added.iter().map(|(k, b, n)| (name_address(k), *b, *n)));
        rate_counts::add(db, &added).await?;
        let oldest = self.credentials.bucket(now).saturating_sub(SPAN - 1);
        self.credentials.learn(read_back(db, oldest, credentials.seen, name_credential).await?);
        self.addresses.learn(read_back(db, oldest, addresses.seen, name_address).await?);
        Ok(())
    }
}

/// What every instance let through to `clients` (named for the database by `name`) in the
/// buckets from `oldest` on.
async fn read_back<K: Clone>(
    db: &Db,
    oldest: u64,
    clients: Vec<K>,
    name: impl Fn(&K) -> String,
) -> backend::Result<Vec<(K, u64, u32)>> {
    let by_name: HashMap<String, K> = clients.into_iter().map(|k| (name(&k), k)).collect();
    let names: Vec<String> = by_name.keys().cloned().collect();
    let counts = rate_counts::read(db, oldest, &names).await?;
    Ok(counts
        .into_iter()
        .filter_map(|(client, bucket, n)| by_name.get(&client).map(|k| (k.clone(), bucket, n)))
        .collect())
}

struct Cells<K> {
    /// Bucket numbers count 5-second spans of the clock, the same on every instance; the
    /// clock's milliseconds at `epoch` place an `Instant` in them.
    epoch: Instant,
    epoch_ms: u64,
    windows: Mutex<HashMap<K, Window>>,
}

/// One client's counts: slot `b % SPAN` holds bucket `b`'s (when it is that bucket's).
#[derive(Clone, Copy, Default)]
struct Window {
    /// What every instance let through, as last learnt, with what this one has shared since.
    shared: [(u64, u32); SPAN as usize],
    /// What this instance let through and has not shared yet.
    fresh: [(u64, u32); SPAN as usize],
}

impl Window {
    /// The requests of the buckets still in the window that ends in bucket `now`.
    fn counts(&self, now: u64) -> impl Iterator<Item = (u64, u32)> + '_ {
        self.shared.iter().chain(&self.fresh).copied().filter(move |(bucket, count)| *count > 0 && *bucket + SPAN > now)
    }

    fn add(slots: &mut [(u64, u32); SPAN as usize], bucket: u64, count: u32) {
        let slot = &mut slots[(bucket % SPAN) as usize];
        if slot.0 != bucket {
            *slot = (bucket, 0);
        }
        slot.1 = slot.1.saturating_add(count);
    }
}

/// What one sharing takes from a set of counts: the requests let through here since the
/// last (client, bucket, count), and every client with requests in the window.
struct Taken<K> {
    added: Vec<(K, u64, u32)>,
    seen: Vec<K>,
}

impl<K: Eq + Hash + Clone> Cells<K> {
    fn new(epoch: Instant) -> Cells<K> {
        let epoch_ms = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
        Cells { epoch, epoch_ms, windows: Mutex::new(HashMap::new()) }
    }

    fn millis(&self, now: Instant) -> u64 {
        self.epoch_ms + now.saturating_duration_since(self.epoch).as_millis() as u64
    }

    fn bucket(&self, now: Instant) -> u64 {
        self.millis(now) / BUCKET.as_millis() as u64
    }

    fn check(&self, key: K, per_minute: i64, now: Instant) -> Result<(), i64> {
        let limit = u64::try_from(per_minute.max(1)).unwrap_or(u64::MAX);
        let bucket = self.bucket(now);
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() > PRUNE_ABOVE {
            windows.retain(|_, window| window.counts(bucket).next().is_some());
        }
        let window = windows.entry(key).or_default();
        let total: u64 = window.counts(bucket).map(|(_, count)| u64::from(count)).sum();
        if total < limit {
            Window::add(&mut window.fresh, bucket, 1);
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
        let wait_ms = (frees * BUCKET.as_millis() as u64).saturating_sub(self.millis(now));
        Err((wait_ms / 1000) as i64 + 1)
    }

    /// Moves what was let through here since the last sharing into the shared counts (it
    /// counts there until the next is learnt), and says what to add and whom to read back.
    fn take(&self, now: Instant) -> Taken<K> {
        let bucket = self.bucket(now);
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let mut taken = Taken { added: Vec::new(), seen: Vec::new() };
        for (key, window) in windows.iter_mut() {
            for (b, count) in std::mem::take(&mut window.fresh) {
                if count > 0 && b + SPAN > bucket {
                    Window::add(&mut window.shared, b, count);
                    taken.added.push((key.clone(), b, count));
                }
            }
            if window.counts(bucket).next().is_some() {
                taken.seen.push(key.clone());
            }
        }
        taken
    }

    /// What every instance let through (client, bucket, count), read after this one's
    /// were added.
    fn learn(&self, learnt: Vec<(K, u64, u32)>) {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        for (key, bucket, count) in learnt {
            let Some(window) = windows.get_mut(&key) else { continue };
            let slot = &mut window.shared[(bucket % SPAN) as usize];
            match slot.0.cmp(&bucket) {
                std::cmp::Ordering::Less => *slot = (bucket, count),
                std::cmp::Ordering::Equal => slot.1 = slot.1.max(count),
                // The slot has moved on to a newer bucket meanwhile.
                std::cmp::Ordering::Greater => {}
            }
        }
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

    /// Instances sharing their counts through a table (client, bucket) → requests, as the
    /// database keeps it.
    fn share(instances: &[&Cells<u8>], table: &mut HashMap<(u8, u64), u32>, now: Instant) {
        let taken: Vec<Taken<u8>> = instances.iter().map(|cells| cells.take(now)).collect();
        for (key, bucket, count) in taken.iter().flat_map(|t| &t.added) {
            *table.entry((*key, *bucket)).or_default() += count;
        }
        for (cells, taken) in instances.iter().zip(taken) {
            let learnt = table.iter().filter(|((key, _), _)| taken.seen.contains(key));
            cells.learn(learnt.map(|((key, bucket), count)| (*key, *bucket, *count)).collect());
        }
    }

    #[test]
    fn instances_that_share_their_counts_hold_one_limit_between_them() {
        let start = Instant::now();
        let (a, b, c) = (Cells::new(start), Cells::new(start), Cells::new(start));
        let instances = [&a, &b, &c];
        let mut table = HashMap::new();
        // A request every 20 ms, each to the next instance, shared every 250 ms, for 2 minutes.
        let mut passed = Vec::new();
        for n in 0..6_000u64 {
            let at = start + Duration::from_millis(n * 20);
            if n % 12 == 0 {
                share(&instances, &mut table, at);
            }
            if instances[(n % 3) as usize].check(1, 60, at).is_ok() {
                passed.push(n * 20);
            }
        }
        // Between two sharings the others let through what they had not heard of: at most
        // the requests of one quarter second.
        at_most_in_any_minute(&passed, 60 + 12);
        assert!(passed.len() >= 2 * 60, "{}", passed.len());
        // Unshared, each would have let through its own 60 a minute.
        let alone: Vec<u64> = (0..3_000u64)
            .filter(|n| instances[(n % 3) as usize].check(2, 60, start + Duration::from_millis(n * 20)).is_ok())
            .map(|n| n * 20)
            .collect();
        assert_eq!(alone.len(), 3 * 60);
    }
}
