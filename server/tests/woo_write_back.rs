//! What a manager does in Backroom to an order the store keeps is written to the store
//! (`end2end/woo_mock.mjs` stands in for it): status changes and notes, pending until the
//! store confirms them, each reaching the store once — also when the store acted but its
//! answer was lost — and a refusal or a change made in the store meanwhile shown on the
//! order, with Backroom back on the store's copy. Refunds are made by the store, through
//! the payment provider or recorded, as the manager chose; one the provider refuses
//! leaves no refund. A process killed after sending and before recording the store's
//! answer leaves writes another process confirms without sending them again.

mod common;
mod woo_mock;

use backend::{
    jobs,
    orders::{OrderStatus, detail, notes, status, trail::Actor},
    woo::{self, write_back::WRITE_JOB},
};
use common::*;
use reqwest::Method;
use serde_json::{Value, json};
use woo_mock::*;

/// The store's REST requests of `method` to `path` (the stand-in's request log).
async fn requests(store: &WooMock, method: &str, path: &str) -> usize {
    let state = store.state().await;
    state["requests"].as_array().unwrap().iter().filter(|r| r["method"] == method && r["path"] == path).count()
}

/// `method` to Backroom's API `path` with a JSON body: the status and the JSON answer.
async fn send_json(
    app: &TestApp,
    key: &str,
    method: Method,
    path: String,
    body: Value,
) -> (reqwest::StatusCode, Value) {
    let answer = app.api(method, &path, key).json(&body).send().await.unwrap();
    (answer.status(), answer.json::<Value>().await.unwrap())
}

/// The order's notes as the store keeps them, through its REST API.
async fn store_notes(app: &TestApp, id: i64) -> Vec<Value> {
    let store = woo::connection::store(&app.services.woo).await.unwrap().unwrap();
    let answer = store.get(&format!("/orders/{id}/notes"), &[("per_page", "100".to_owned())]).await.unwrap();
    answer.json().unwrap()
}

/// The order's writes to the store, oldest first: (what, state, message).
async fn writes(app: &TestApp, id: i64) -> Vec<(String, String, Option<String>)> {
    let order = detail::get(&app.db, id).await.unwrap();
    order.store_writes.into_iter().map(|w| (w.what, w.state, w.message)).collect()
}

async fn settled(app: &TestApp, id: i64) -> Vec<(String, String, Option<String>)> {
    eventually("the store answered every write", || async {
        writes(app, id).await.iter().all(|(_, state, _)| state != "pending")
    })
    .await;
    writes(app, id).await
}

/// The order's first write to the store failed, saying `words`.
async fn refused_saying(app: &TestApp, id: i64, words: &str) {
    let (_, state, message) = settled(app, id).await.remove(0);
    assert_eq!(state, "failed");
    assert!(message.as_deref().unwrap().contains(words), "{message:?}");
}

async fn back_on_the_stores_status(app: &TestApp, id: i64, status: &str) {
    eventually("the order is back on the store's status", || async {
        status_of(app, id).await.as_deref() == Some(status)
    })
    .await;
}

async fn changes_made_in_backroom_reach_the_store_once(engine: Engine) {
    let store = WooMock::start(80);
    let app = spawn_app_with(engine, Options { job_workers: 1, woo_timeout_secs: Some(2), ..Options::default() }).await;
    connect(&app, &store).await;
    imported(&app).await;
    let owner = app.owner().await;
    let actor = Actor { user: &owner, credential: None, ip: None };
    let tz = backend::settings::get(&app.db).await.unwrap().tz();
    let events = &app.services.order_events;
    let mut processing = Vec::new();
    for skip in 0..5 {
        processing.push(an_order(&store, "processing", skip).await);
    }

    // A status change through the API: Backroom answers at once, with the change pending;
    // the store confirms it, with WooCommerce's side effects of a change by a person
    // (manual_update), after one PUT.
    store.config(json!({ "latency_ms": 300 })).await;
    let id = processing[0];
    let key = app.key(backend::access::Scope::Write).await;
    let answer = app.api(Method::PATCH, &format!("/api/v1/orders/{id}"), &key).json(&json!({ "status": "completed" }));
    let answer: Value = answer.send().await.unwrap().json().await.unwrap();
    assert_eq!(answer["status"], "completed");
    assert_eq!(answer["store_writes"][0]["what"], "Status Processing → Shipped / completed");
    assert_eq!(answer["store_writes"][0]["state"], "pending", "pending while the store takes its time");
    assert_eq!(settled(&app, id).await[0].1, "confirmed");
    store.config(json!({ "latency_ms": 0 })).await;
    assert_eq!(store.object("orders", id).await["status"], "completed");
    assert_eq!(requests(&store, "PUT", &format!("/wp-json/wc/v3/orders/{id}")).await, 1);
    let newest = store_notes(&app, id).await.remove(0);
    assert!(newest["note"].as_str().unwrap().contains("değiştirildi"), "WooCommerce's status note: {newest}");
    assert_ne!(newest["author"], "system", "added by the key's user, as a change in wp-admin is");
    let modified: Option<i64> = sqlx::query_scalar("SELECT modified_at FROM orders WHERE id = $1")
        .bind(id)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let theirs = store.object("orders", id).await["date_modified_gmt"].as_str().unwrap().to_owned();
    assert_eq!(modified, woo::model::gmt(&theirs), "the store's answer is Backroom's copy");

    // Notes: a private one and one to the customer, whom the store emails (Backroom does not).
    let mails_before = scalar(&app, "SELECT COUNT(*) FROM mail_outbox").await;
    let private = notes::add(&app.db, events, actor, id, "Kargo firması aradı.", false).await.unwrap();
    let public = notes::add(&app.db, events, actor, id, "Siparişiniz yola çıktı.", true).await.unwrap();
    assert_eq!(scalar(&app, "SELECT COUNT(*) FROM mail_outbox").await, mails_before, "the store sends the email");
    let states = settled(&app, id).await;
    assert!(states.iter().all(|(_, state, _)| state == "confirmed"), "{states:?}");
    let in_store = store_notes(&app, id).await;
    for (note, to_customer) in [(&private, false), (&public, true)] {
        let theirs: Vec<&Value> = in_store.iter().filter(|n| n["note"] == note.body.as_str()).collect();
        assert_eq!(theirs.len(), 1, "{} is in the store once: {in_store:?}", note.body);
        assert_eq!(theirs[0]["customer_note"], to_customer);
        let woo_id: Option<i64> = sqlx::query_scalar("SELECT woo_id FROM order_notes WHERE id = $1")
            .bind(note.id)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
        assert_eq!(woo_id, theirs[0]["id"].as_i64(), "Backroom's note knows the store's");
    }

    // The store acted but its answer was lost (it answered after Backroom gave up waiting):
    // the next attempt finds the change made and does not make it again.
    let slow = processing[1];
    let put = format!("/wp-json/wc/v3/orders/{slow}");
    store.faults(json!({ "requests": [{ "kind": "slow", "delay_ms": 3000, "match": format!("PUT {put}") }] })).await;
    status::change(&app.db, events, tz, actor, slow, OrderStatus::OnHold, None).await.unwrap();
    eventually("the first attempt timed out", || async {
        writes(&app, slow).await[0].2.as_deref().is_some_and(|m| m.starts_with("Waiting for the store"))
    })
    .await;
    eventually("the store made the change", || async { store.object("orders", slow).await["status"] == "on-hold" })
        .await;
    jobs::run_now(app.db.writer(), WRITE_JOB).await.unwrap();
    assert_eq!(settled(&app, slow).await[0].1, "confirmed");
    assert_eq!(requests(&store, "PUT", &put).await, 1, "the change was sent once");
    let notes_path = format!("/wp-json/wc/v3/orders/{slow}/notes");
    store
        .faults(json!({ "requests": [{ "kind": "slow", "delay_ms": 3000, "match": format!("POST {notes_path}") }] }))
        .await;
    let late = notes::add(&app.db, events, actor, slow, "Adres teyit edildi.", false).await.unwrap();
    eventually("the first attempt timed out", || async {
        writes(&app, slow).await[1].2.as_deref().is_some_and(|m| m.starts_with("Waiting for the store"))
    })
    .await;
    eventually("the store added the note", || async {
        store_notes(&app, slow).await.iter().any(|n| n["note"] == late.body.as_str())
    })
    .await;
    jobs::run_now(app.db.writer(), WRITE_JOB).await.unwrap();
    assert_eq!(settled(&app, slow).await[1].1, "confirmed");
    assert_eq!(requests(&store, "POST", &notes_path).await, 1, "the note was sent once");
    let copies = store_notes(&app, slow).await.iter().filter(|n| n["note"] == late.body.as_str()).count();
    assert_eq!(copies, 1);

    // A store that refuses the move: the order shows why, and is back on the store's status.
    let refused = processing[2];
    let refusal = json!({ "code": "woocommerce_rest_shop_order_invalid_status", "message": "Kargoya verilmemiş sipariş tamamlanamaz.", "data": { "status": 400 } });
    let fault = json!({ "kind": "custom", "status": 400, "body": refusal, "match": format!("PUT /wp-json/wc/v3/orders/{refused}") });
    store.faults(json!({ "requests": [fault] })).await;
    status::change(&app.db, events, tz, actor, refused, OrderStatus::Completed, None).await.unwrap();
    refused_saying(&app, refused, "Kargoya verilmemiş sipariş tamamlanamaz.").await;
    back_on_the_stores_status(&app, refused, "processing").await;

    // Changed in the store meanwhile (its webhook not yet delivered): not overwritten.
    let raced = processing[3];
    store.change_order(raced, json!({ "status": "cancelled" })).await;
    status::change(&app.db, events, tz, actor, raced, OrderStatus::Completed, None).await.unwrap();
    refused_saying(&app, raced, "changed in the store meanwhile").await;
    assert_eq!(store.object("orders", raced).await["status"], "cancelled", "the store's change stands");
    assert_eq!(status_of(&app, raced).await.as_deref(), Some("cancelled"), "and Backroom shows it");
    assert_eq!(requests(&store, "PUT", &format!("/wp-json/wc/v3/orders/{raced}")).await, 0);

    // A key that may only read: refused, and said so.
    store.key(json!({ "consumer_key": CONSUMER_KEY, "permissions": "read" })).await;
    let read_only = processing[4];
    status::change(&app.db, events, tz, actor, read_only, OrderStatus::OnHold, None).await.unwrap();
    refused_saying(&app, read_only, "write permissions").await;
    back_on_the_stores_status(&app, read_only, "processing").await;

    // The order's API answer shows what the store refused.
    let answer = app.api(Method::GET, &format!("/api/v1/orders/{refused}"), &key).send().await.unwrap();
    let answer: Value = answer.json().await.unwrap();
    assert_eq!(answer["store_writes"][0]["state"], "failed", "{answer}");
}

/// The customer's details edited in Backroom reach the store once, each field as typed (a
/// phone keeps its text: WhatsApp reads it normalised where it sends); bad fields are
/// refused with their reason; a field the store changed meanwhile is not overwritten.
async fn the_customers_details_reach_the_store_as_typed(engine: Engine) {
    let store = WooMock::start(80);
    let app = spawn_app_with(engine, Options { job_workers: 1, ..Options::default() }).await;
    connect(&app, &store).await;
    imported(&app).await;
    let key = app.key(backend::access::Scope::Write).await;
    let edit =
        |id: i64, body: Value| send_json(&app, &key, Method::PATCH, format!("/api/v1/orders/{id}/customer"), body);
    let (id, raced) = (an_order(&store, "processing", 0).await, an_order(&store, "processing", 1).await);
    let before = store.object("orders", id).await;
    let typed = json!({
        "billing": { "last_name": "Öztürk", "address_1": "Bağdat Cad. No: 5/3", "phone": "0532 987 65 43" },
        "shipping": { "city": "Kadıköy" },
    });
    let (status, answer) = edit(id, typed.clone()).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{answer}");
    assert_eq!(
        (answer["billing"]["last_name"].as_str(), answer["billing"]["phone"].as_str()),
        (Some("Öztürk"), Some("0532 987 65 43"))
    );
    let what = "Customer details: billing last name, billing address 1, billing phone, shipping city";
    assert_eq!(settled(&app, id).await, vec![(what.to_owned(), "confirmed".to_owned(), None)]);
    let theirs = store.object("orders", id).await;
    assert_eq!(theirs["billing"]["phone"], "0532 987 65 43", "the phone as typed, not +905329876543");
    assert_eq!(theirs["billing"]["address_1"], "Bağdat Cad. No: 5/3");
    assert_eq!(theirs["shipping"]["city"], "Kadıköy");
    assert_eq!(theirs["billing"]["first_name"], before["billing"]["first_name"], "a field not given stays");
    assert_eq!(theirs["billing"]["email"], before["billing"]["email"]);
    let put = format!("/wp-json/wc/v3/orders/{id}");
    assert_eq!(requests(&store, "PUT", &put).await, 1);
    let state = store.state().await;
    let sent = state["requests"].as_array().unwrap().iter().find(|r| r["method"] == "PUT" && r["path"] == put.as_str());
    let sent: Value = serde_json::from_str(sent.unwrap()["body"].as_str().unwrap()).unwrap();
    assert_eq!(sent, typed, "only the fields that changed, as typed");
    let ours = detail::get(&app.db, id).await.unwrap();
    assert_eq!((ours.billing.phone.as_str(), ours.shipping.city.as_str()), ("0532 987 65 43", "Kadıköy"));
    let audited = scalar(&app, "SELECT COUNT(*) FROM audit_log WHERE action = 'order.customer_edited'").await;
    assert_eq!(audited, 1);

    // The same details again change nothing, and nothing is sent.
    assert_eq!(edit(id, typed).await.0, reqwest::StatusCode::OK);
    assert_eq!(writes(&app, id).await.len(), 1);

    // Bad fields: refused with their reason, nothing changed.
    for (body, words) in [
        (json!({ "billing": { "country": "Türkiye" } }), "two letters"),
        (json!({ "billing": { "first_name": "Ayşe\r\nBcc: x@example.com" } }), "one line"),
        (json!({ "billing": { "email": "ayse" } }), "email"),
        (json!({ "shipping": { "email": "ayse@example.com" } }), "no e-mail"),
        (json!({ "shipping": { "city": "İ".repeat(201) } }), "200 characters"),
        (json!({}), "at least one"),
    ] {
        let (status, answer) = edit(id, body.clone()).await;
        assert_eq!(status, reqwest::StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        assert!(answer["error"]["message"].as_str().unwrap().contains(words), "{body}: {answer}");
    }
    let (status, _) = edit(id, json!({ "billing": { "nickname": "A" } })).await;
    assert!(status.is_client_error(), "an unknown field: {status}");
    assert_eq!(edit(999_999, json!({ "billing": { "city": "Van" } })).await.0, reqwest::StatusCode::NOT_FOUND);
    assert_eq!(writes(&app, id).await.len(), 1);

    // The store changed her phone meanwhile (its webhook not yet delivered): Backroom's edit
    // of it is not written over the store's, and the order shows the store's.
    store.change_order(raced, json!({ "billing": { "phone": "0555 000 11 22" } })).await;
    let (status, _) = edit(raced, json!({ "billing": { "phone": "0532 111 11 11" } })).await;
    assert_eq!(status, reqwest::StatusCode::OK);
    refused_saying(&app, raced, "changed in the store meanwhile (billing phone)").await;
    assert_eq!(store.object("orders", raced).await["billing"]["phone"], "0555 000 11 22");
    assert_eq!(requests(&store, "PUT", &format!("/wp-json/wc/v3/orders/{raced}")).await, 0);
    assert_eq!(detail::get(&app.db, raced).await.unwrap().billing.phone, "0555 000 11 22");

    // The store keeps an e-mail in capitals, Backroom in small letters: that is no change
    // made in the store. An e-mail cleared is cleared there (WooCommerce takes null).
    let cased = an_order(&store, "processing", 2).await;
    store.change_order(cased, json!({ "billing": { "email": "Ayse.Yilmaz@Example.COM" } })).await;
    store.deliver().await;
    eventually("Backroom has the store's e-mail", || async {
        detail::get(&app.db, cased).await.unwrap().billing.email == "ayse.yilmaz@example.com"
    })
    .await;
    assert_eq!(edit(cased, json!({ "billing": { "company": "Yılmaz Tekstil" } })).await.0, reqwest::StatusCode::OK);
    assert_eq!(settled(&app, cased).await[0].1, "confirmed");
    assert_eq!(edit(cased, json!({ "billing": { "email": "" } })).await.0, reqwest::StatusCode::OK);
    assert!(settled(&app, cased).await.iter().all(|(_, state, _)| state == "confirmed"));
    assert_eq!(store.object("orders", cased).await["billing"]["email"], "");

    // An edit whose first attempt failed is retried before the edit made after it: the two
    // changes of the company land in the order they were made, and neither is refused.
    let ordered = an_order(&store, "processing", 3).await;
    let put = format!("/wp-json/wc/v3/orders/{ordered}");
    store.faults(json!({ "requests": [{ "kind": "500", "match": format!("PUT {put}") }] })).await;
    assert_eq!(edit(ordered, json!({ "billing": { "company": "Eski Ad Ltd." } })).await.0, reqwest::StatusCode::OK);
    eventually("the first attempt failed", || async {
        writes(&app, ordered).await[0].2.as_deref().is_some_and(|m| m.starts_with("Waiting for the store"))
    })
    .await;
    assert_eq!(edit(ordered, json!({ "billing": { "company": "Yeni Ad A.Ş." } })).await.0, reqwest::StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(writes(&app, ordered).await[1].1, "pending", "the later edit waits for the earlier one");
    jobs::run_now(app.db.writer(), WRITE_JOB).await.unwrap();
    let states = settled(&app, ordered).await;
    assert!(states.iter().all(|(_, state, _)| state == "confirmed"), "{states:?}");
    assert_eq!(store.object("orders", ordered).await["billing"]["company"], "Yeni Ad A.Ş.");
    assert_eq!(requests(&store, "PUT", &put).await, 3, "the failed attempt, then each edit once");
    app.stop().await;
}

/// A processing order of the store paid with one of `methods`.
async fn an_order_paid(store: &WooMock, methods: &[&str], skip: usize) -> i64 {
    let paid = |order: &Value| {
        order["status"] == "processing" && methods.contains(&order["payment_method"].as_str().unwrap_or_default())
    };
    an_order_where(store, &format!("processing order paid with {methods:?}"), paid, skip).await
}

/// The order's refunds as the store keeps them.
async fn store_refunds(app: &TestApp, id: i64) -> Vec<Value> {
    let store = woo::connection::store(&app.services.woo).await.unwrap().unwrap();
    store.get(&format!("/orders/{id}/refunds"), &[]).await.unwrap().json().unwrap()
}

async fn refunds_are_made_by_the_store_once(engine: Engine) {
    let store = WooMock::start(80);
    let app = spawn_app_with(engine, Options { job_workers: 1, woo_timeout_secs: Some(2), ..Options::default() }).await;
    connect(&app, &store).await;
    imported(&app).await;
    let key = app.key(backend::access::Scope::Write).await;
    let refund =
        |id: i64, body: Value| send_json(&app, &key, Method::POST, format!("/api/v1/orders/{id}/refunds"), body);
    let local_refunds = |id: i64| {
        let db = app.db.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM refunds WHERE order_id = $1")
                .bind(id)
                .fetch_one(db.pool())
                .await
                .unwrap()
        }
    };

    // Through the payment provider: sent, then made by the store and shown as it made it.
    let card = an_order_paid(&store, &["iyzico", "paytr"], 0).await;
    let (status, answer) = refund(card, json!({ "amount": 1000, "restock": false, "payment": "gateway" })).await;
    assert_eq!(status, reqwest::StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer["state"], "pending");
    assert_eq!(settled(&app, card).await[0].1, "confirmed");
    let theirs = store_refunds(&app, card).await;
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0]["amount"], "10.00");
    assert_eq!(theirs[0]["refunded_payment"], true, "the provider paid it back");
    let order = detail::get(&app.db, card).await.unwrap();
    assert_eq!(order.refunds.len(), 1);
    assert_eq!((order.refunds[0].amount, order.totals.refunded_total), (1000, 1000));
    assert_eq!(requests(&store, "POST", &format!("/wp-json/wc/v3/orders/{card}/refunds")).await, 1);

    // A line, restocked, recorded only (the money went back another way).
    let item = &order.items[0];
    let unit = item.refundable_amount() / item.quantity;
    let line = json!({ "line_id": item.id, "quantity": 1, "amount": unit });
    let (status, answer) = refund(card, json!({ "lines": [line], "restock": true, "payment": "manual" })).await;
    assert_eq!(status, reqwest::StatusCode::ACCEPTED, "{answer}");
    assert_eq!(settled(&app, card).await[1].1, "confirmed");
    let theirs = store_refunds(&app, card).await;
    assert_eq!(theirs.len(), 2);
    let recorded = theirs.iter().find(|r| r["refunded_payment"] == false).unwrap_or_else(|| panic!("{theirs:?}"));
    // The line's tax is given back at the line's tax rate, not folded into its total.
    assert!(item.total_tax > 0, "the stand-in's line is taxed: {item:?}");
    let cents = |v: &Value| (v.as_str().unwrap().parse::<f64>().unwrap() * 100.0).round() as i64;
    let line_back = &recorded["line_items"][0];
    let tax = unit * item.total_tax / (item.total + item.total_tax);
    assert_eq!((cents(&line_back["total"]), cents(&line_back["total_tax"])), (-(unit - tax), -tax), "{line_back}");
    assert_eq!(local_refunds(card).await, 2);

    // The provider refuses: said on the order, and no refund recorded.
    store
        .faults(
            json!({ "gateway_refund_errors": 1, "gateway_refund_message": "Kart sahibinin bankası iadeyi reddetti." }),
        )
        .await;
    let refused = an_order_paid(&store, &["iyzico", "paytr"], 1).await;
    let (status, _) = refund(refused, json!({ "amount": 500, "restock": false, "payment": "gateway" })).await;
    assert_eq!(status, reqwest::StatusCode::ACCEPTED);
    refused_saying(&app, refused, "Kart sahibinin bankası iadeyi reddetti.").await;
    assert_eq!(local_refunds(refused).await, 0);
    assert!(store_refunds(&app, refused).await.is_empty());

    // A transfer cannot be paid back by the provider; and the store's orders need the choice.
    let transfer = an_order_paid(&store, &["bacs", "cod"], 0).await;
    let (status, answer) = refund(transfer, json!({ "amount": 500, "restock": false, "payment": "gateway" })).await;
    assert_eq!(status, reqwest::StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert!(answer["error"]["message"].as_str().unwrap().contains("cannot give money back by itself"), "{answer}");
    let (status, answer) = refund(transfer, json!({ "amount": 500, "restock": false })).await;
    assert_eq!(status, reqwest::StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert!(answer["error"]["message"].as_str().unwrap().contains("payment: manual"), "{answer}");

    // The store made it but its answer was lost: found by its id, not made twice. A retry
    // of the request (same Idempotency-Key) is the same write.
    let slow = an_order_paid(&store, &["iyzico", "paytr"], 2).await;
    let path = format!("/wp-json/wc/v3/orders/{slow}/refunds");
    store.faults(json!({ "requests": [{ "kind": "slow", "delay_ms": 3000, "match": format!("POST {path}") }] })).await;
    let body = json!({ "amount": 700, "restock": false, "payment": "gateway" });
    let send = || {
        app.api(Method::POST, &format!("/api/v1/orders/{slow}/refunds"), &key)
            .header("Idempotency-Key", "refund-slow-1")
            .json(&body)
            .send()
    };
    let first: Value = send().await.unwrap().json().await.unwrap();
    let again: Value = send().await.unwrap().json().await.unwrap();
    assert_eq!(first["id"], again["id"], "the retry is the same write");
    eventually("the first attempt timed out", || async {
        writes(&app, slow).await[0].2.as_deref().is_some_and(|m| m.starts_with("Waiting for the store"))
    })
    .await;
    eventually("the store made the refund", || async { !store_refunds(&app, slow).await.is_empty() }).await;
    jobs::run_now(app.db.writer(), WRITE_JOB).await.unwrap();
    assert_eq!(settled(&app, slow).await.len(), 1);
    assert_eq!(writes(&app, slow).await[0].1, "confirmed");
    assert_eq!(requests(&store, "POST", &path).await, 1, "the refund was asked for once");
    assert_eq!(store_refunds(&app, slow).await.len(), 1);
    assert_eq!(local_refunds(slow).await, 1);
    let order = detail::get(&app.db, slow).await.unwrap();
    assert_eq!(order.totals.refunded_total, 700);
}

async fn a_process_killed_after_sending_writes_once(engine: Engine) {
    let store = WooMock::start(80);
    let (url, data_dir, db) = connected_database(engine, &store).await;
    let key = String::from_utf8(
        backroom_in(&data_dir, &["key", "create", "--label", "crash", "--scope", "write"], &url, None).stdout,
    )
    .unwrap()
    .trim()
    .to_owned();
    assert!(backroom_in(&data_dir, &["woo", "import"], &url, None).status.success());
    let port = free_port();
    let start = serve_processes(
        &url,
        &data_dir,
        &[
            ("BACKROOM_ADDR", format!("127.0.0.1:{port}")),
            ("BACKROOM_JOB_WORKERS", "1".into()),
            ("BACKROOM_WOO_TIMEOUT_SECS", "30".into()),
        ],
    );
    let mut first = start();
    let count = |sql: String| {
        let db = db.clone();
        async move { sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql)).fetch_one(db.pool()).await.unwrap() }
    };
    eventually("the store is imported", || async {
        count("SELECT COUNT(*) FROM woo_import_run WHERE state = 'done'".into()).await == 1
    })
    .await;

    // A status change, then a refund, each sent to a store that acts on it after the
    // process that sent it is gone; another process takes the write over (the dead one's
    // lease would run out in seconds) and confirms it without sending it again.
    let (moved, refunded) =
        (an_order(&store, "processing", 0).await, an_order_paid(&store, &["iyzico", "paytr"], 1).await);
    let (put, post) = (format!("/wp-json/wc/v3/orders/{moved}"), format!("/wp-json/wc/v3/orders/{refunded}/refunds"));
    let http = reqwest::Client::new();
    let api = |method: Method, path: String, body: Value| {
        http.request(method, format!("http://127.0.0.1:{port}/api/v1{path}"))
            .bearer_auth(&key)
            .header("X-Backroom-Timestamp", backend::clock::now().to_string())
            .json(&body)
            .send()
    };
    let writes = [
        ("PUT", put.clone(), Method::PATCH, format!("/orders/{moved}"), json!({ "status": "completed" })),
        (
            "POST",
            post.clone(),
            Method::POST,
            format!("/orders/{refunded}/refunds"),
            json!({ "amount": 500, "restock": false, "payment": "gateway" }),
        ),
    ];
    for (confirmed, (verb, path, method, ours, body)) in writes.into_iter().enumerate() {
        store
            .faults(json!({ "requests": [{ "kind": "slow", "delay_ms": 3000, "match": format!("{verb} {path}") }] }))
            .await;
        let answer = api(method, ours, body).await.unwrap();
        assert!(answer.status().is_success(), "{}", answer.text().await.unwrap());
        eventually("the write reached the store", || async { requests(&store, verb, &path).await == 1 }).await;
        first.kill().unwrap();
        first.wait().unwrap();
        eventually("the store acted on it", || async {
            store.object("orders", moved).await["status"] == "completed"
                && (confirmed == 0 || !store.object("orders", refunded).await["refunds"].as_array().unwrap().is_empty())
        })
        .await;
        let settled = "SELECT COUNT(*) FROM store_writes WHERE state = 'confirmed'";
        assert_eq!(count(settled.into()).await, confirmed as i64, "Backroom never heard the answer");
        sqlx::query("UPDATE jobs SET locked_until = 0 WHERE state = 'running'").execute(db.writer()).await.unwrap();
        first = start();
        eventually("the write is confirmed", || async { count(settled.into()).await == confirmed as i64 + 1 }).await;
    }
    first.kill().unwrap();
    first.wait().unwrap();
    assert_eq!(requests(&store, "PUT", &put).await, 1, "the status was written once");
    assert_eq!(requests(&store, "POST", &post).await, 1, "the refund was asked for once");
    assert_eq!(store.object("orders", refunded).await["refunds"].as_array().unwrap().len(), 1);
    assert_eq!(count(format!("SELECT COUNT(*) FROM refunds WHERE order_id = {refunded}")).await, 1);
    assert_eq!(count(format!("SELECT COUNT(*) FROM orders WHERE id = {moved} AND status = 'completed'")).await, 1);
    db.close().await;
}

on_both_databases!(
    changes_made_in_backroom_reach_the_store_once,
    refunds_are_made_by_the_store_once,
    the_customers_details_reach_the_store_as_typed,
    a_process_killed_after_sending_writes_once
);
