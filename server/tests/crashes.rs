//! Backroom killed (SIGKILL) at random moments while an app writes to it, and started
//! again, twenty times: every write it acknowledged (status changes, refunds, notes,
//! customers' support questions and the replies to them) is there after the restarts,
//! nothing it had committed is half there (totals, refunds and daily sales agree), and
//! every email a committed change queued is sent.

mod common;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use backend::{
    access::{
        Scope,
        credentials::{self, CredentialType, NewCredential},
        secret::SecretHasher,
    },
    db::Db,
    demo::{self, DemoOptions},
};
use common::*;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// What the app and the customers were told: acknowledged refunds, notes, tickets (by
/// reference) and ticket replies, and for each order the statuses asked for, in order,
/// each marked acknowledged or not (a request cut by the kill may or may not have been
/// committed).
#[derive(Default)]
struct Told {
    refunds: Vec<i64>,
    notes: Vec<i64>,
    tickets: Vec<String>,
    replies: Vec<i64>,
    statuses: HashMap<i64, Vec<(String, bool)>>,
}

/// An order as a lane knows it: id, status, number and the customer's email.
type Order = (i64, String, String, String);

async fn app_writing(base: String, key: String, orders: Vec<Order>, told: Arc<Mutex<Told>>, lane: u64, db: Db) {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(lane);
    let mut current: HashMap<i64, String> = orders.iter().map(|(id, status, ..)| (*id, status.clone())).collect();
    let mut tickets: Vec<i64> = Vec::new();
    let send = |request: reqwest::RequestBuilder| async {
        let response = request
            .bearer_auth(&key)
            .header("x-backroom-timestamp", backend::clock::now().to_string())
            .send()
            .await
            .ok()?;
        let status = response.status();
        Some((status, response.json::<Value>().await.unwrap_or_default()))
    };
    for n in 0.. {
        let (id, _, number, email) = &orders[rng.random_range(0..orders.len())];
        let url = format!("{base}/api/v1/orders/{id}");
        match n % 5 {
            0 => {
                let to = if current[id] == "processing" { "on-hold" } else { "processing" };
                told.lock().unwrap().statuses.entry(*id).or_default().push((to.to_owned(), false));
                match send(client.patch(&url).json(&json!({ "status": to }))).await {
                    Some((StatusCode::OK, _)) => {
                        told.lock().unwrap().statuses.get_mut(id).unwrap().last_mut().unwrap().1 = true;
                        current.insert(*id, to.to_owned());
                    }
                    // An earlier request the kill cut short had moved it after all.
                    Some((StatusCode::CONFLICT, _)) => {
                        current.insert(*id, to.to_owned());
                    }
                    Some((status, body)) => panic!("PATCH {url}: {status} {body}"),
                    None => {}
                }
            }
            1 => {
                let refund = json!({ "amount": 1, "restock": false });
                match send(client.post(format!("{url}/refunds")).json(&refund)).await {
                    Some((StatusCode::CREATED, body)) => {
                        told.lock().unwrap().refunds.push(body["id"].as_i64().unwrap())
                    }
                    // An order on hold is not paid: nothing to refund.
                    Some((StatusCode::CONFLICT, _)) => {}
                    Some((status, body)) => panic!("refund {url}: {status} {body}"),
                    None => {}
                }
            }
            3 => {
                // A customer's question through the support form (no credentials).
                let submission = json!({ "order_number": number, "email": email, "subject": "Kargo?", "message": format!("Lane {lane}, question {n}"), "website": "" });
                let answer = client.post(format!("{base}/api/v1/support/tickets")).json(&submission).send().await;
                let Ok(answer) = answer else { continue };
                let status = answer.status();
                let body: Value = answer.json().await.unwrap_or_default();
                match status {
                    StatusCode::CREATED => {
                        let reference = body["reference"].as_str().unwrap().to_owned();
                        let id: i64 = sqlx::query_scalar("SELECT id FROM tickets WHERE reference = $1")
                            .bind(&reference)
                            .fetch_one(db.pool())
                            .await
                            .unwrap();
                        tickets.push(id);
                        told.lock().unwrap().tickets.push(reference);
                    }
                    // Cut off before the body arrived whole.
                    StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY if body.is_null() => {}
                    status => panic!("support submission: {status} {body}"),
                }
            }
            4 => {
                let Some(ticket) = tickets.last() else { continue };
                let reply = json!({ "body": format!("Lane {lane}, answer {n}") });
                match send(client.post(format!("{base}/api/v1/tickets/{ticket}/replies")).json(&reply)).await {
                    Some((StatusCode::CREATED, body)) => {
                        told.lock().unwrap().replies.push(body["id"].as_i64().unwrap())
                    }
                    Some((status, body)) => panic!("reply to ticket {ticket}: {status} {body}"),
                    None => {}
                }
            }
            _ => {
                let note = json!({ "note": format!("Lane {lane}, write {n}"), "to_customer": n % 2 == 0 });
                match send(client.post(format!("{url}/notes")).json(&note)).await {
                    Some((StatusCode::CREATED, body)) => told.lock().unwrap().notes.push(body["id"].as_i64().unwrap()),
                    Some((status, body)) => panic!("note {url}: {status} {body}"),
                    None => {}
                }
            }
        }
    }
}

async fn killed_twenty_times_while_writing_it_loses_nothing_it_acknowledged(engine: Engine) {
    let (url, data_dir) = fresh_database(engine).await;
    let db = backend::db::Db::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    demo::load(&db, DemoOptions { orders: 400, seed: 11 }, |_| {}).await.unwrap();
    let port = free_port();
    let start = serve_processes(
        &url,
        &data_dir,
        &[("BACKROOM_ADDR", format!("127.0.0.1:{port}")), ("BACKROOM_JOB_WORKERS", "1".into())],
    );
    let base = format!("http://127.0.0.1:{port}");
    let up = || async { reqwest::get(format!("{base}/healthz")).await.is_ok_and(|r| r.status().is_success()) };
    let mut server = Serving(start());
    eventually("the server answers", up).await;
    let (master, owner) = master_key_and_owner(&db, &data_dir).await;
    let new = NewCredential {
        kind: CredentialType::ConnectionKey,
        label: "App".into(),
        scope: Scope::Write,
        lifetime_days: None,
    };
    let key = credentials::create(&db, &SecretHasher::from_master(&master), &owner, None, new).await.unwrap().secret;
    for raise in [
        "UPDATE security_settings SET rate_per_credential = 1000000, rate_per_ip = 1000000 WHERE id = 1",
        "UPDATE support_settings SET per_ip_per_hour = 1000000, per_order_per_day = 1000000 WHERE id = 1",
    ] {
        sqlx::query(raise).execute(db.writer()).await.unwrap();
    }
    // Forty paid orders in processing (a sale either way: the daily figures stand).
    sqlx::query(
        "UPDATE orders SET status = 'processing' WHERE id IN \
         (SELECT id FROM orders WHERE status = 'completed' AND refunded_total = 0 ORDER BY id DESC LIMIT 40)",
    )
    .execute(db.writer())
    .await
    .unwrap();
    let orders: Vec<Order> = sqlx::query_as(
        "SELECT id, status, number, billing_email FROM orders WHERE status = 'processing' ORDER BY id DESC LIMIT 40",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    assert_eq!(orders.len(), 40);

    // Four app lanes, each with its own orders (so each knows what it last asked for).
    let told = Arc::new(Mutex::new(Told::default()));
    let lanes: Vec<_> = (0..4u64)
        .map(|lane| {
            let mine = orders.iter().skip(lane as usize).step_by(4).cloned().collect();
            tokio::spawn(app_writing(base.clone(), key.clone(), mine, told.clone(), lane, db.clone()))
        })
        .collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(99);
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(rng.random_range(150..700))).await;
        server.0.kill().unwrap();
        server.0.wait().unwrap();
        server = Serving(start());
        eventually("the server answers again", up).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    for lane in &lanes {
        lane.abort();
    }
    let told = std::mem::take(&mut *told.lock().unwrap());
    let made = [told.refunds.len(), told.notes.len(), told.tickets.len(), told.replies.len()];
    assert!(made.iter().all(|n| *n > 10), "refunds, notes, tickets and replies acknowledged: {made:?}");

    let count = |sql: String| {
        let db = db.clone();
        async move { sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql)).fetch_one(db.pool()).await.unwrap() }
    };
    let list = |ids: &[i64]| ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let (refunds, notes) = (list(&told.refunds), list(&told.notes));
    assert_eq!(count(format!("SELECT COUNT(*) FROM refunds WHERE id IN ({refunds})")).await, told.refunds.len() as i64);
    assert_eq!(count(format!("SELECT COUNT(*) FROM order_notes WHERE id IN ({notes})")).await, told.notes.len() as i64);
    let replies = list(&told.replies);
    let messages = count(format!("SELECT COUNT(*) FROM ticket_messages WHERE id IN ({replies})")).await;
    assert_eq!(messages, told.replies.len() as i64);
    let references = told.tickets.iter().map(|r| format!("'{r}'")).collect::<Vec<_>>().join(",");
    let tickets = count(format!("SELECT COUNT(*) FROM tickets WHERE reference IN ({references})")).await;
    assert_eq!(tickets, told.tickets.len() as i64);
    // Each order is in the last status acknowledged, or one asked for after it (a request
    // the kill cut short may have committed).
    for (id, asked) in &told.statuses {
        let status: String =
            sqlx::query_scalar("SELECT status FROM orders WHERE id = $1").bind(id).fetch_one(db.pool()).await.unwrap();
        let last_acknowledged = asked.iter().rposition(|(_, acknowledged)| *acknowledged);
        let possible: Vec<&str> = match last_acknowledged {
            Some(i) => asked[i..].iter().map(|(s, _)| s.as_str()).collect(),
            None => orders
                .iter()
                .filter(|(o, ..)| o == id)
                .map(|(_, s, ..)| s.as_str())
                .chain(asked.iter().map(|(s, _)| s.as_str()))
                .collect(),
        };
        assert!(possible.contains(&status.as_str()), "order {id} is {status}; asked {asked:?}");
    }
    // What was committed is whole.
    assert_the_shop_is_whole(&db).await;
    // Every email a committed customer note queued is sent: no job was lost. A job the
    // last kill cut short is taken over when its 20 s lease runs out.
    let waiting = std::time::Instant::now();
    while count("SELECT COUNT(*) FROM mail_outbox WHERE state <> 'sent'".into()).await > 0 {
        let jobs: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT state, attempts, run_at FROM jobs WHERE kind = 'mail.send' AND state <> 'succeeded'",
        )
        .fetch_all(db.pool())
        .await
        .unwrap();
        assert!(waiting.elapsed() < Duration::from_secs(45), "emails not sent; their jobs: {jobs:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        count("SELECT COUNT(*) FROM mail_outbox WHERE kind = 'order.customer_note'".into()).await,
        count(
            "SELECT COUNT(*) FROM order_notes n JOIN orders o ON o.id = n.order_id \
             WHERE n.is_customer_note = 1 AND n.body LIKE 'Lane %' AND o.billing_email <> ''"
                .into()
        )
        .await,
    );
    drop(server);
    db.close().await;
}

on_both_databases!(killed_twenty_times_while_writing_it_loses_nothing_it_acknowledged);
