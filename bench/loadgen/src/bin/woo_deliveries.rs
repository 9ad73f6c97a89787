//! Webhook deliveries as a store sends them when its orders change, for
//! bench/woo_webhook.sh: reads ORDERS orders from the stand-in store, then delivers each
//! once, changed (a new status and a newer `date_modified_gmt`), signed with the webhook
//! secret the store holds, at RATE a second. Meanwhile it watches Backroom's database every
//! 10 ms for each order's new stamp, and prints how long after its delivery was answered
//! each order was applied (p50/p99/max), with how many deliveries were answered and how
//! many applied. `--sample FILE` only writes the first delivery's body to FILE and prints
//! its signature and webhook id (for wrk).

use std::{collections::HashMap, time::Duration};

use backend::{config::Config, db::Db, woo::webhooks};
use clap::Parser;
use serde_json::Value;
use tokio::time::Instant;

#[derive(Parser)]
struct Args {
    /// The stand-in store's address.
    #[arg(long)]
    store: String,
    /// Backroom's address.
    #[arg(long)]
    backroom: String,
    /// Deliveries a second.
    #[arg(long, default_value_t = 500)]
    rate: u32,
    /// Orders delivered (each once).
    #[arg(long, default_value_t = 5000)]
    orders: usize,
    #[arg(long)]
    sample: Option<std::path::PathBuf>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let http = reqwest::Client::new();
    let state: Value =
        serde_json::from_slice(&http.get(format!("{}/_mock/state", args.store)).send().await?.bytes().await?)?;
    let hook = state["webhooks"]
        .as_array()
        .and_then(|hooks| hooks.iter().find(|h| h["topic"] == "order.updated"))
        .ok_or("the store has no order.updated webhook: connect Backroom first")?;
    let (secret, webhook_id) = (hook["secret"].as_str().unwrap_or_default().to_owned(), hook["id"].clone());
    let orders = read_orders(&http, &args.store, args.orders).await?;

    // Every delivery carries a change: a status, and a stamp an hour ahead of now (newer
    // than any copy Backroom holds), one second apart.
    let stamp = chrono::Utc::now().timestamp() + 3600;
    let mut deliveries = Vec::with_capacity(orders.len());
    for (n, mut order) in orders.into_iter().enumerate() {
        let modified = stamp + n as i64;
        let id = order["id"].as_i64().ok_or("an order without an id")?;
        let when = chrono::DateTime::from_timestamp(modified, 0).ok_or("a date")?.format("%Y-%m-%dT%H:%M:%S");
        order["status"] = if order["status"] == "completed" { "processing" } else { "completed" }.into();
        order["date_modified_gmt"] = when.to_string().into();
        order["date_modified"] = when.to_string().into();
        let body = serde_json::to_vec(&order)?;
        deliveries.push((id, modified, webhooks::signature(secret.as_bytes(), &body), body));
    }
    if let Some(path) = args.sample {
        let (_, _, signature, body) = deliveries.first().ok_or("no orders")?;
        std::fs::write(path, body)?;
        println!("{signature} {webhook_id}");
        return Ok(());
    }

    let config = Config::load()?;
    let db = Db::connect(secrecy::ExposeSecret::expose_secret(&config.database_url)).await?;
    let (answered_tx, mut answered_rx) = tokio::sync::mpsc::unbounded_channel::<(i64, i64, Instant)>();
    let url = format!("{}/webhooks/woocommerce", args.backroom);
    let interval = Duration::from_secs_f64(1.0 / f64::from(args.rate.max(1)));
    let total = deliveries.len();
    let sender = tokio::spawn(async move {
        let start = Instant::now();
        let mut failed = 0usize;
        let mut sent = Vec::with_capacity(total);
        for (n, (id, modified, signature, body)) in deliveries.into_iter().enumerate() {
            tokio::time::sleep_until(start + interval.mul_f64(n as f64)).await;
            let request = http
                .post(&url)
                .header("content-type", "application/json")
                .header("x-wc-webhook-topic", "order.updated")
                .header("x-wc-webhook-resource", "order")
                .header("x-wc-webhook-event", "updated")
                .header("x-wc-webhook-id", webhook_id.to_string())
                .header("x-wc-webhook-signature", signature)
                .body(body);
            let answered = answered_tx.clone();
            sent.push(tokio::spawn(async move {
                match request.send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = answered.send((id, modified, Instant::now()));
                        true
                    }
                    _ => false,
                }
            }));
        }
        for task in sent {
            if !task.await.unwrap_or(false) {
                failed += 1;
            }
        }
        (failed, start.elapsed())
    });

    // Watches for each answered delivery's stamp on its order.
    let mut waiting: HashMap<i64, (i64, Instant)> = HashMap::new();
    let mut latencies = Vec::with_capacity(total);
    let mut seen = 0usize;
    let deadline_after_last = Duration::from_secs(30);
    let mut last_answer = Instant::now();
    loop {
        while let Ok((id, modified, at)) = answered_rx.try_recv() {
            waiting.insert(id, (modified, at));
            seen += 1;
            last_answer = Instant::now();
        }
        if !waiting.is_empty() {
            let ids = waiting.keys().map(i64::to_string).collect::<Vec<_>>().join(",");
            let rows: Vec<(i64, Option<i64>)> =
                sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT id, modified_at FROM orders WHERE id IN ({ids})")))
                    .fetch_all(db.pool())
                    .await?;
            let now = Instant::now();
            for (id, modified_at) in rows {
                if let Some(&(modified, at)) = waiting.get(&id)
                    && modified_at.is_some_and(|m| m >= modified)
                {
                    latencies.push(now.duration_since(at));
                    waiting.remove(&id);
                }
            }
        }
        let all_answered = sender.is_finished() && answered_rx.is_empty();
        if all_answered && (waiting.is_empty() || last_answer.elapsed() > deadline_after_last) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (failed, took) = sender.await?;
    latencies.sort_unstable();
    let pick = |q: f64| {
        if latencies.is_empty() {
            0.0
        } else {
            latencies[((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len()) - 1].as_secs_f64()
                * 1000.0
        }
    };
    println!(
        "deliveries sent:    {total} at {} a second ({:.0}/s achieved)",
        args.rate,
        total as f64 / took.as_secs_f64()
    );
    println!("answered 200:       {seen} (failed: {failed})");
    println!("applied:            {} (never seen: {})", latencies.len(), waiting.len());
    println!("answered → applied: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms", pick(0.5), pick(0.99), pick(1.0));
    db.close().await;
    Ok(())
}

/// The first `count` orders of the stand-in store, as its REST API gives them. The
/// stand-in takes Basic authentication only while it believes it is on HTTPS: that is
/// switched on for these reads and off again, so Backroom's own signed requests go on.
async fn read_orders(
    http: &reqwest::Client,
    store: &str,
    count: usize,
) -> Result<Vec<Value>, Box<dyn std::error::Error>> {
    let ssl = |on: bool| {
        http.post(format!("{store}/_mock/config"))
            .header("content-type", "application/json")
            .body(serde_json::json!({ "is_ssl": on }).to_string())
            .send()
    };
    ssl(true).await?.error_for_status()?;
    let mut orders = Vec::with_capacity(count);
    let mut page = 1;
    while orders.len() < count {
        let answer = http
            .get(format!("{store}/wp-json/wc/v3/orders"))
            .query(&[("per_page", "100"), ("page", &page.to_string()), ("orderby", "id"), ("order", "asc")])
            .basic_auth(
                "ck_ff2a9b1394e11555ffd57c9e67a395797dfa89b4",
                Some("cs_e9b3dbcbae3634b5f2e03d89f2b03c59deb6762f"),
            )
            .send()
            .await?
            .error_for_status()?;
        let batch: Vec<Value> = serde_json::from_slice(&answer.bytes().await?)?;
        if batch.is_empty() {
            break;
        }
        orders.extend(batch.into_iter().filter(|o| !matches!(o["status"].as_str(), Some("checkout-draft" | "trash"))));
        page += 1;
    }
    orders.truncate(count);
    ssl(false).await?.error_for_status()?;
    Ok(orders)
}
