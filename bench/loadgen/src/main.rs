//! A load generator for Backroom's benchmarks: sends requests at a fixed rate (an open
//! loop, like wrk2 or oha's `-q`) and reports latency percentiles measured from the moment
//! each request was due, not from when it was sent — so a stalled server shows up as
//! latency instead of silently lowering the rate ("coordinated omission").
//!
//! `loadgen --rate 2000 --duration 10 --header 'Authorization: Bearer …' URL [URL …]`
//! cycles through the URLs; `--method POST --body '{…}'` sends a body. Prints one line:
//! requests, failures by status, achieved rate, p50/p95/p99/max in milliseconds.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use clap::Parser;
use tokio::{sync::Semaphore, time::Instant};

#[derive(Parser)]
struct Args {
    /// Requests per second.
    #[arg(long)]
    rate: u32,
    /// Seconds to run (after a one-second warm-up that is not counted).
    #[arg(long, default_value_t = 10)]
    duration: u64,
    #[arg(long, default_value = "GET")]
    method: String,
    /// `Name: value`; repeatable.
    #[arg(long)]
    header: Vec<String>,
    #[arg(long)]
    body: Option<String>,
    /// At most this many requests in flight; a request due while all are busy waits (and
    /// its wait counts in its latency).
    #[arg(long, default_value_t = 256)]
    max_in_flight: usize,
    /// Printed before the figures.
    #[arg(long, default_value = "")]
    label: String,
    #[arg(required = true)]
    urls: Vec<String>,
}

#[derive(Default)]
struct Results {
    /// Microseconds from due to answered, for 2xx/3xx answers.
    latencies: Vec<u64>,
    /// Other statuses, and "error" for a failed connection.
    failures: BTreeMap<String, u64>,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let method: reqwest::Method = args.method.parse().expect("an HTTP method");
    let mut headers = reqwest::header::HeaderMap::new();
    for header in &args.header {
        let (name, value) = header.split_once(':').expect("headers look like `Name: value`");
        headers.insert(
            reqwest::header::HeaderName::from_bytes(name.trim().as_bytes()).expect("a header name"),
            value.trim().parse().expect("a header value"),
        );
    }
    let client = reqwest::Client::builder()
        .default_headers(headers)
        .pool_max_idle_per_host(args.max_in_flight)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("an HTTP client");
    let results = Arc::new(Mutex::new(Results::default()));
    let slots = Arc::new(Semaphore::new(args.max_in_flight));
    let interval = Duration::from_secs_f64(1.0 / f64::from(args.rate.max(1)));
    let start = Instant::now();
    let warm_up = Duration::from_secs(1);
    let total = u64::from(args.rate) * (args.duration + 1);
    let mut tasks = Vec::with_capacity(total as usize);
    for n in 0..total {
        let due = start + interval.mul_f64(n as f64);
        tokio::time::sleep_until(due).await;
        let counted = due >= start + warm_up;
        let (client, results, slots, method) = (client.clone(), results.clone(), slots.clone(), method.clone());
        let url = args.urls[n as usize % args.urls.len()].clone();
        let body = args.body.clone();
        tasks.push(tokio::spawn(async move {
            let _slot = slots.acquire().await.expect("the semaphore stays open");
            let mut request = client.request(method, url);
            if let Some(body) = body {
                request = request.header("content-type", "application/json").body(body);
            }
            let outcome = match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    // Read the whole body: a response is done when its last byte is in.
                    let read = response.bytes().await;
                    match (status.is_success() || status.is_redirection(), read) {
                        (true, Ok(_)) => Ok(()),
                        (_, Err(_)) => Err("error".to_owned()),
                        (false, Ok(_)) => Err(status.as_u16().to_string()),
                    }
                }
                Err(_) => Err("error".to_owned()),
            };
            if counted {
                let mut results = results.lock().expect("no panics while holding it");
                match outcome {
                    Ok(()) => results.latencies.push(due.elapsed().as_micros() as u64),
                    Err(kind) => *results.failures.entry(kind).or_default() += 1,
                }
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    let elapsed = start.elapsed().saturating_sub(warm_up).as_secs_f64();
    let mut results = results.lock().expect("no panics while holding it");
    let answered = results.latencies.len();
    results.latencies.sort_unstable();
    let pick = |q: f64| {
        let l = &results.latencies;
        if l.is_empty() { 0.0 } else { l[((l.len() as f64 * q).ceil() as usize).clamp(1, l.len()) - 1] as f64 / 1000.0 }
    };
    let failures: u64 = results.failures.values().sum();
    println!(
        "{:<34} {:>6} req/s asked, {:>7.0} answered/s   p50 {:>6.2} ms   p95 {:>6.2} ms   p99 {:>6.2} ms   max {:>7.2} ms{}",
        args.label,
        args.rate,
        answered as f64 / elapsed,
        pick(0.50),
        pick(0.95),
        pick(0.99),
        pick(1.0),
        if failures == 0 { String::new() } else { format!("   FAILED: {failures} {:?}", results.failures) },
    );
}
