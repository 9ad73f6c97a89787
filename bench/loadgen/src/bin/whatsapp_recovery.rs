//! The recovery scheduler's latency for bench/whatsapp_recovery.sh: sets up the account
//! against the Graph API stand-in, then makes CARTS carts (each with a consenting
//! contact and its first step's job) all due at the same second, a few seconds ahead.
//! Once due, the running Backroom sends them; this reads when each send reached the
//! stand-in and prints the delay from the due second (p50, p95, p99, max).
//!
//! With `--store` (a connected WooCommerce stand-in), each cart is due for its second
//! message, the one with a coupon: every coupon is made in the store first. Then it also
//! checks that each message carries its cart's coupon, that the store has every one, and
//! that it made none twice.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use backend::whatsapp::{
    WhatsApp,
    config::{Config, Field, Mapping, Purpose},
    link::Signer,
    settings::{self, Credentials},
    templates,
};
use clap::Parser;

#[derive(Parser)]
struct Args {
    /// The stand-in's base URL.
    #[arg(long)]
    graph: String,
    #[arg(long)]
    owner: String,
    #[arg(long, default_value_t = 1000)]
    carts: i64,
    /// Seconds from now until the carts are due.
    #[arg(long, default_value_t = 4)]
    lead: i64,
    /// The connected store's base URL: the carts are due for the message with a coupon.
    #[arg(long)]
    store: Option<String>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let (db, sealer, owner) = loadgen::open_shop(&args.owner).await?;
    let credentials = Credentials {
        phone_number_id: "1234567890".into(),
        waba_id: "9876543210".into(),
        access_token: Some("test-graph-token-0123456789".into()),
        app_secret: Some("bench-app-secret".into()),
        graph_version: "v23.0".into(),
        graph_base_url: args.graph.clone(),
    };
    settings::update(&db, &sealer, &owner, None, credentials).await?;
    // The link signer does not take part in listing templates.
    let whatsapp = WhatsApp::new(
        db.clone(),
        sealer,
        Signer::new([0; 32]),
        "http://127.0.0.1".into(),
        (Duration::from_secs(10), Duration::from_secs(10)),
        false,
    );
    templates::refresh(&whatsapp).await?;
    let mut config = Config { shop_origins: vec!["https://shop.example".into()], ..Config::default() };
    config.recovery.enabled = true;
    config.recovery.quiet_start = "00:00".into();
    config.recovery.quiet_end = "00:00".into();
    config.mapping = vec![Mapping {
        purpose: Purpose::Recovery1,
        template: "cart_reminder_1".into(),
        language: "tr".into(),
        parameters: vec![Field::FirstName, Field::CartTotal],
    }];
    let step = if args.store.is_some() {
        config.recovery.coupon_step = Some(2);
        config.mapping.push(Mapping {
            purpose: Purpose::Recovery2,
            template: "cart_reminder_2".into(),
            language: "tr".into(),
            parameters: vec![Field::FirstName, Field::CouponCode, Field::CouponPercent],
        });
        2
    } else {
        1
    };
    settings::update_config(&db, &owner, None, config, false).await?;
    let coupons_before = match &args.store {
        Some(store) => store_coupons(store).await?,
        None => 0,
    };

    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs() as i64;
    let due = now + args.lead;
    let mut tx = db.begin().await?;
    for n in 0..args.carts {
        let phone = format!("+90532{:07}", n);
        sqlx::query("INSERT INTO whatsapp_contacts (phone, consented_at, updated_at) VALUES ($1, $2, $2)")
            .bind(&phone)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        // A cart due for its second message was messaged a day ago.
        let messaged = (step > 1).then_some(now - 86_400);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO whatsapp_carts (phone, email, name, lines, total_minor, currency, restore_url, state, captured_at, updated_at, \
             next_step, next_at, steps_sent, first_messaged_at, last_messaged_at) \
             VALUES ($1, $2, 'Ayşe Yılmaz', '[]', 24900, 'TRY', 'https://shop.example/cart', 'open', $3, $3, $4, $5, $6, $7, $7) RETURNING id",
        )
        .bind(&phone)
        .bind(format!("shopper{n}@example.com"))
        .bind(now)
        .bind(step)
        .bind(due)
        .bind(step - 1)
        .bind(messaged)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO jobs (kind, payload, idempotency_key, state, attempts, max_attempts, run_at, created_at, updated_at) \
             VALUES ('whatsapp.recovery', $1, $2, 'queued', 0, 8, $3, $4, $4)",
        )
        .bind(format!(r#"{{"cart_id":{id},"step":{step}}}"#))
        .bind(backend::whatsapp::carts::step_key(id, step))
        .bind(due)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    println!("{} carts due at {due}", args.carts);

    let state_url = format!("{}/_mock/state", args.graph);
    let deadline = due + 60;
    let messages: Vec<serde_json::Value> = loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let state: serde_json::Value = serde_json::from_str(&reqwest::get(&state_url).await?.text().await?)?;
        let messages = state["messages"].as_array().cloned().unwrap_or_default();
        let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs() as i64;
        if messages.len() as i64 >= args.carts || now > deadline {
            break messages;
        }
    };
    let arrivals: Vec<i64> = messages.iter().filter_map(|m| m["at"].as_i64()).collect();
    let mut delays: Vec<i64> = arrivals.iter().map(|at| at - due * 1000).collect();
    delays.sort_unstable();
    let pick =
        |q: f64| delays.get(((delays.len() as f64 * q).ceil() as usize).saturating_sub(1)).copied().unwrap_or(-1);
    println!(
        "sent {} of {}; from due to the Graph API call: p50 {} ms, p95 {} ms, p99 {} ms, max {} ms",
        delays.len(),
        args.carts,
        pick(0.50),
        pick(0.95),
        pick(0.99),
        delays.last().copied().unwrap_or(-1)
    );
    if let Some(store) = &args.store {
        check_coupons(&db, store, &messages, coupons_before).await?;
    }
    db.close().await;
    Ok(())
}

/// How many coupons the store keeps (the stand-in's count).
async fn store_coupons(store: &str) -> Result<i64, Box<dyn std::error::Error>> {
    let state: serde_json::Value = reqwest::get(format!("{store}/_mock/state")).await?.json().await?;
    Ok(state["counts"]["coupons"].as_i64().unwrap_or(-1))
}

/// Each message carries its cart's coupon, the store has each one, and made none twice.
async fn check_coupons(
    db: &backend::db::Db,
    store: &str,
    messages: &[serde_json::Value],
    before: i64,
) -> Result<(), Box<dyn std::error::Error>> {
    let carts: Vec<(String, Option<String>, Option<i64>)> =
        sqlx::query_as("SELECT phone, coupon_code, coupon_woo_id FROM whatsapp_carts").fetch_all(db.pool()).await?;
    let code_of: std::collections::HashMap<String, (Option<String>, Option<i64>)> =
        carts.into_iter().map(|(phone, code, id)| (phone.trim_start_matches('+').to_owned(), (code, id))).collect();
    let without = messages
        .iter()
        .filter(|m| {
            let carried = m["body"]["template"]["components"][0]["parameters"][1]["text"].as_str();
            let cart = m["to"].as_str().and_then(|to| code_of.get(to));
            !matches!(cart, Some((Some(code), Some(_))) if carried == Some(code.as_str()))
        })
        .count();
    let made = store_coupons(store).await? - before;
    println!(
        "coupons: {made} made in the store for {} messages; {without} messages without their cart's coupon",
        messages.len()
    );
    Ok(())
}
