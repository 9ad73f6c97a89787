//! The WooCommerce connection against the stand-in store (`end2end/woo_mock.mjs`): connect,
//! import, live deliveries, what the reconcile catches, deletions, webhook health, a killed
//! process resuming its import, bad deliveries and misbehaving stores.

mod common;
mod woo_mock;

use std::time::Duration;

use backend::woo::{
    self,
    connection::{self, ConnectRequest, Connected},
    reconcile,
};
use base64::{Engine as _, engine::general_purpose::STANDARD};
use common::*;
use hmac::{Hmac, KeyInit, Mac};
use reqwest::StatusCode;
use serde_json::json;
use sha2::Sha256;
use woo_mock::*;

fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    STANDARD.encode(mac.finalize().into_bytes())
}

async fn a_store_is_connected_imported_and_kept_in_step(engine: Engine) {
    let store = WooMock::start(10_000);
    let app = app_with_worker(engine).await;
    let report = connect(&app, &store).await;
    assert!(report.checks.iter().all(|c| c.passed), "{report:?}");
    assert_eq!(report.auth.as_deref(), Some("oauth1"), "over plain HTTP only OAuth 1.0a is accepted");

    // The import: every order the store keeps, its history in the daily figures, progress
    // seen on the way with totals.
    let seen = imported(&app).await;
    assert!(seen.iter().any(|p| p.state == "running" && p.orders().1.is_some()), "progress with a total was visible");
    assert_eq!(scalar(&app, "SELECT COUNT(*) FROM orders").await, store.kept_orders().await);
    assert!(
        scalar(&app, "SELECT COUNT(*) FROM products").await > 0
            && scalar(&app, "SELECT COUNT(*) FROM customers").await > 0
    );
    assert!(scalar(&app, "SELECT COUNT(*) FROM product_variations").await > 0);
    assert!(
        scalar(&app, "SELECT COUNT(*) FROM refunds WHERE woo_id IS NOT NULL").await > 0,
        "refunds came with their orders"
    );
    assert_eq!(
        scalar(&app, "SELECT CAST(COALESCE(SUM(orders), 0) AS BIGINT) FROM sales_daily").await,
        scalar(&app, "SELECT COUNT(*) FROM orders WHERE status NOT IN ('pending', 'failed', 'cancelled')").await,
        "the daily figures hold the imported history"
    );
    assert!(
        scalar(&app, "SELECT COUNT(*) FROM orders WHERE status = 'shipped'").await > 0,
        "an extension's status is kept"
    );
    let key = app.key(backend::access::Scope::Read).await;
    let shipped = app.api(reqwest::Method::GET, "/api/v1/orders?status=shipped", &key).send().await.unwrap();
    assert_eq!(shipped.status(), StatusCode::OK, "a filter may name it once orders are in it");
    assert!(!shipped.json::<serde_json::Value>().await.unwrap()["items"].as_array().unwrap().is_empty());
    let last = store.state().await["counts"]["last_order_id"].as_i64().unwrap();
    let theirs = store.object("orders", last).await;
    let total: i64 =
        sqlx::query_scalar("SELECT total FROM orders WHERE id = $1").bind(last).fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(
        Some(total),
        backend::woo::model::minor_units(theirs["total"].as_str().unwrap(), 2),
        "money as minor units"
    );

    // A change in the store arrives by webhook and is applied at once.
    let processing = an_order(&store, "processing", 0).await;
    store.change_order(processing, json!({ "status": "completed" })).await;
    let delivered = store.deliver().await;
    assert!(delivered["results"].as_array().unwrap().iter().any(|d| d["response"]["status"] == 200));
    eventually("the delivery is applied", || async {
        status_of(&app, processing).await.as_deref() == Some("completed")
    })
    .await;
    let event: String =
        sqlx::query_scalar("SELECT kind FROM order_events WHERE order_id = $1 ORDER BY id DESC LIMIT 1")
            .bind(processing)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(event, "order.status_changed", "the ledger and WhatsApp hear of it as of a change made in Backroom");

    // A late copy of that delivery, after a newer change, rolls nothing back.
    let late = store.state().await["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|d| d["kind"] == "delivery" && d["arg"].as_i64() == Some(processing) && d["topic"] == "order.updated")
        .cloned()
        .expect("the first delivery was logged");
    store.change_order(processing, json!({ "status": "on-hold" })).await;
    store.deliver().await;
    eventually("the newer change is applied", || async {
        status_of(&app, processing).await.as_deref() == Some("on-hold")
    })
    .await;
    let headers = late["request"]["headers"].as_object().unwrap();
    let mut replay = app.client.post(app.url("/webhooks/woocommerce"));
    for (name, value) in headers {
        replay = replay.header(name.as_str(), value.as_str().unwrap());
    }
    let answer = replay.body(late["request"]["body"].as_str().unwrap().to_owned()).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    eventually("the late delivery is applied", || async {
        scalar(&app, "SELECT COUNT(*) FROM woo_deliveries WHERE outcome IS NULL").await == 0
    })
    .await;
    assert_eq!(status_of(&app, processing).await.as_deref(), Some("on-hold"), "a stale copy changes nothing");

    // A change whose webhook the store dropped is caught by the next reconcile.
    let missed = an_order(&store, "processing", 1).await;
    store.faults(json!({ "deliveries": { "drop": 100 } })).await;
    let a_while_ago = backend::woo::model::gmt_text(backend::clock::now() - 300);
    store.change_order(missed, json!({ "status": "completed", "date_modified_gmt": a_while_ago })).await;
    store.deliver().await;
    assert_eq!(status_of(&app, missed).await.as_deref(), Some("processing"), "the webhook never came");
    let pass = reconcile::run(&app.services.woo).await.unwrap().unwrap();
    assert_eq!(status_of(&app, missed).await.as_deref(), Some("completed"));
    assert!(pass.caught >= 1, "{pass:?}");
    // A second change in the same second (the store stamps to the second) is caught too,
    // though its stamp is the one Backroom holds; then a pass finds nothing to write.
    store.change_order(missed, json!({ "status": "on-hold", "date_modified_gmt": a_while_ago })).await;
    store.deliver().await;
    let pass = reconcile::run(&app.services.woo).await.unwrap().unwrap();
    assert_eq!(status_of(&app, missed).await.as_deref(), Some("on-hold"));
    assert!(pass.changed >= 1, "{pass:?}");
    let again = reconcile::run(&app.services.woo).await.unwrap().unwrap();
    assert_eq!((again.changed, again.caught), (0, 0), "{again:?}");
    assert!(again.unchanged >= 1, "the overlap was read again: {again:?}");
    store.faults(json!({ "clear": true })).await;

    // An order deleted for good (no webhook says so) is noticed.
    let doomed = an_order(&store, "completed", 3).await;
    store.delete_order(doomed).await;
    assert!(status_of(&app, doomed).await.is_some());
    reconcile::run(&app.services.woo).await.unwrap().unwrap();
    assert_eq!(status_of(&app, doomed).await, None, "the deleted order is gone");
    assert_eq!(scalar(&app, "SELECT COUNT(*) FROM orders").await, store.kept_orders().await);

    // A webhook WooCommerce disabled is made active again, and the manager told.
    let webhooks = store.state().await["webhooks"].as_array().unwrap().clone();
    let updated = webhooks.iter().find(|w| w["topic"] == "order.updated").unwrap()["id"].as_i64().unwrap();
    store.set_webhook(updated, "disabled").await;
    let pass = reconcile::run(&app.services.woo).await.unwrap().unwrap();
    assert_eq!(pass.webhooks.as_ref().unwrap().reactivated.len(), 1, "{pass:?}");
    let webhooks = store.state().await["webhooks"].as_array().unwrap().clone();
    assert_eq!(webhooks.iter().find(|w| w["id"] == updated).unwrap()["status"], "active");
    assert_eq!(webhooks.len(), woo::webhooks::TOPICS.len(), "no duplicate webhook");
    let status = woo::status(&app.services.woo).await.unwrap();
    assert!(status.last_error.unwrap_or_default().contains("order.updated"), "the connection page says so");
    assert_eq!(scalar(&app, "SELECT COUNT(*) FROM audit_log WHERE action = 'woo.webhooks_repaired'").await, 1);

    // Disconnecting removes Backroom's webhooks from the store.
    connection::disconnect(&app.services.woo, &app.owner().await, None).await.unwrap();
    assert_eq!(store.state().await["counts"]["webhooks"], 0);
    app.stop().await;
}

async fn a_killed_process_resumes_its_import_without_duplicates(engine: Engine) {
    let store = WooMock::start(3_000);
    store.config(json!({ "page_latency_ms": 150 })).await;
    let (url, data_dir, owner_db) = connected_database(engine, &store).await;
    assert!(backroom_in(&data_dir, &["woo", "import"], &url, None).status.success());
    let start = serve_processes(
        &url,
        &data_dir,
        &[("BACKROOM_ADDR", "127.0.0.1:0".into()), ("BACKROOM_JOB_WORKERS", "1".into())],
    );
    let mut first = start();
    let done = || async {
        sqlx::query_scalar::<_, i64>("SELECT done FROM woo_import WHERE resource = 'orders'")
            .fetch_one(owner_db.pool())
            .await
            .unwrap()
    };
    eventually("the import is under way", || async { done().await >= 500 }).await;
    first.kill().unwrap();
    first.wait().unwrap();
    let at_kill = done().await;
    assert!(at_kill < 3_000, "killed mid-import ({at_kill})");
    store.config(json!({ "page_latency_ms": 0 })).await;
    let mut second = start();
    for _ in 0..900 {
        let state: String = sqlx::query_scalar("SELECT state FROM woo_import_run WHERE id = 1")
            .fetch_one(owner_db.pool())
            .await
            .unwrap();
        if state == "done" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    second.kill().unwrap();
    second.wait().unwrap();
    let count = |sql: &'static str| {
        let db = owner_db.clone();
        async move { sqlx::query_scalar::<_, i64>(sql).fetch_one(db.pool()).await.unwrap() }
    };
    assert_eq!(count("SELECT COUNT(*) FROM orders").await, store.kept_orders().await, "every order, once");
    assert_eq!(
        count("SELECT COUNT(*) FROM payment_transactions WHERE kind = 'payment'").await,
        count("SELECT COUNT(DISTINCT order_id) FROM payment_transactions WHERE kind = 'payment'").await,
        "one payment per order"
    );
    let state: String =
        sqlx::query_scalar("SELECT state FROM woo_import_run WHERE id = 1").fetch_one(owner_db.pool()).await.unwrap();
    assert_eq!(state, "done");
    owner_db.close().await;
}

async fn bad_deliveries_get_clear_answers_and_store_nothing(engine: Engine) {
    let store = WooMock::start(50);
    let app = spawn_app(engine).await;
    connect(&app, &store).await;
    let secret = store.state().await["webhooks"][0]["secret"].as_str().unwrap().to_owned();
    let post = |body: Vec<u8>, headers: Vec<(&'static str, String)>| {
        let mut request = app.client.post(app.url("/webhooks/woocommerce"));
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request.body(body).send()
    };
    let stored = || scalar(&app, "SELECT COUNT(*) FROM woo_deliveries");
    let body = br#"{"id":1,"status":"processing"}"#.to_vec();
    let topic = ("x-wc-webhook-topic", "order.updated".to_owned());
    // The ping: exactly 200, nothing stored.
    let ping = post(b"webhook_id=7".to_vec(), vec![("content-type", "application/x-www-form-urlencoded".into())])
        .await
        .unwrap();
    assert_eq!(ping.status(), StatusCode::OK);
    // Unsigned, badly signed, or signed with another secret: 401.
    assert_eq!(post(body.clone(), vec![topic.clone()]).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let wrong = vec![topic.clone(), ("x-wc-webhook-signature", sign("another secret", &body))];
    assert_eq!(post(body.clone(), wrong).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let garbled = vec![topic.clone(), ("x-wc-webhook-signature", "%%%".into())];
    assert_eq!(post(body.clone(), garbled).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    // Signed, but not JSON, not an object, or without a topic: 400.
    for bad in [b"not json".to_vec(), b"[1,2]".to_vec()] {
        let signed = vec![topic.clone(), ("x-wc-webhook-signature", sign(&secret, &bad))];
        let answer = post(bad, signed).await.unwrap();
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    }
    let no_topic = vec![("x-wc-webhook-signature", sign(&secret, &body))];
    assert_eq!(post(body.clone(), no_topic).await.unwrap().status(), StatusCode::BAD_REQUEST);
    // Too large: 413 before the body is read (so only the head is sent here; a client
    // sending the whole body would see the connection closed under it).
    let mut socket = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST /webhooks/woocommerce HTTP/1.1\r\nhost: {}\r\nx-wc-webhook-topic: order.updated\r\n\
         x-wc-webhook-signature: {}\r\ncontent-length: {}\r\n\r\n",
        app.addr,
        sign(&secret, b"{}"),
        4 * 1024 * 1024 + 1
    );
    tokio::io::AsyncWriteExt::write_all(&mut socket, head.as_bytes()).await.unwrap();
    let mut answer = vec![0; 64];
    let read = tokio::io::AsyncReadExt::read(&mut socket, &mut answer).await.unwrap();
    assert!(
        String::from_utf8_lossy(&answer[..read]).starts_with("HTTP/1.1 413"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    assert_eq!(stored().await, 0, "nothing stored");
    // A good one is stored; a payload that is an error, or a deletion, asks for a fetch.
    let signed = vec![topic.clone(), ("x-wc-webhook-signature", sign(&secret, &body)), ("x-wc-webhook-id", "1".into())];
    assert_eq!(post(body.clone(), signed).await.unwrap().status(), StatusCode::OK);
    let error =
        br#"{"code":"woocommerce_rest_shop_order_invalid_id","message":"Invalid ID.","data":{"status":404}}"#.to_vec();
    let signed = vec![topic.clone(), ("x-wc-webhook-signature", sign(&secret, &error))];
    assert_eq!(post(error, signed).await.unwrap().status(), StatusCode::OK);
    eventually("both are applied", || async {
        scalar(&app, "SELECT COUNT(*) FROM woo_deliveries WHERE outcome IS NOT NULL").await == 2
    })
    .await;
    let outcome: String = sqlx::query_scalar("SELECT outcome FROM woo_deliveries ORDER BY id DESC LIMIT 1")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert!(outcome.contains("reconcile"), "{outcome}");
    app.stop().await;
}

async fn huge_and_odd_orders_are_kept_whole(engine: Engine) {
    let store = WooMock::start(30);
    let app = app_with_worker(engine).await;
    connect(&app, &store).await;
    imported(&app).await;
    let first = store.state().await["counts"]["first_order_id"].as_i64().unwrap();
    let product = store.object("orders", first).await["line_items"][0]["product_id"].as_i64().unwrap();
    // 400 lines, a name of 2,000 characters with markup and emoji, an extension's status.
    let name = format!("<b>Ayşe</b> 🎁 {}", "Ç".repeat(2_000));
    let lines: Vec<_> = (0..400).map(|_| json!({ "product_id": product, "quantity": 1 })).collect();
    let huge = store
        .create_order(json!({ "status": "processing", "line_items": lines, "billing": { "first_name": name, "email": "ayse@example.com" } }))
        .await;
    let odd = store
        .create_order(json!({ "status": "ready-for-pickup", "line_items": [{ "product_id": product, "quantity": 2 }] }))
        .await;
    store.deliver().await;
    let (huge, odd) = (huge["id"].as_i64().unwrap(), odd["id"].as_i64().unwrap());
    eventually("both orders arrive", || async {
        status_of(&app, huge).await.is_some() && status_of(&app, odd).await.is_some()
    })
    .await;
    let lines: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM order_items WHERE order_id = $1")
        .bind(huge)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(lines, 400, "every line");
    assert_eq!(status_of(&app, odd).await.as_deref(), Some("ready-for-pickup"), "an unknown status is kept");
    let key = app.key(backend::access::Scope::Read).await;
    for path in [
        format!("/api/v1/orders/{huge}"),
        format!("/api/v1/orders/{odd}"),
        "/api/v1/orders?status=ready-for-pickup".into(),
    ] {
        let answer = app.api(reqwest::Method::GET, &path, &key).send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::OK, "{path}");
    }
    app.sign_in_with(&app.client, OWNER_EMAIL, OWNER_PASSWORD).await;
    let page = app.get(&format!("/admin/orders/{huge}")).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("&lt;b&gt;Ayşe") || html.contains("Ayşe"), "the order's page shows it");
    assert!(!html.contains("<b>Ayşe</b>"), "markup in a name is text, never markup");
    app.stop().await;
}

async fn misbehaving_stores_get_a_clear_state(engine: Engine) {
    let store = WooMock::start(20);
    let app = spawn_app(engine).await;
    let owner = app.owner().await;
    let first_failure = |outcome: Connected| match outcome {
        Connected::Failed { report } => report.first_failure().unwrap(),
        other => panic!("connected to a store that fails its checks: {other:?}"),
    };
    let attempt = || connection::connect(&app.services.woo, &owner, None, request(&store));
    // A firewall's challenge page, a store that fails, one that redirects, one that is down.
    store.faults(json!({ "requests": [{ "kind": "waf", "count": 1 }] })).await;
    assert!(first_failure(attempt().await.unwrap()).contains("Cloudflare"));
    store.faults(json!({ "requests": [{ "kind": "502", "count": 1 }] })).await;
    assert!(first_failure(attempt().await.unwrap()).contains("HTTP 502"));
    store.faults(json!({ "requests": [{ "kind": "redirect", "count": 1, "location": "https://elsewhere.example/wp-json/" }] })).await;
    assert!(first_failure(attempt().await.unwrap()).contains("redirects"));
    let nowhere = ConnectRequest { url: format!("http://127.0.0.1:{}", free_port()), ..request(&store) };
    let failure = first_failure(connection::connect(&app.services.woo, &owner, None, nowhere).await.unwrap());
    assert!(failure.contains("cannot be reached"), "{failure}");
    // A wrong secret, and a key that may only read.
    let wrong = ConnectRequest { consumer_secret: "cs_wrong".to_owned().into(), ..request(&store) };
    let failure = first_failure(connection::connect(&app.services.woo, &owner, None, wrong).await.unwrap());
    assert!(failure.contains("refused the key"), "{failure}");
    store.key(json!({ "consumer_key": CONSUMER_KEY, "permissions": "read" })).await;
    assert!(first_failure(attempt().await.unwrap()).contains("can only read"));
    // Not WooCommerce at all.
    let not_a_store = ConnectRequest { url: app.url(""), ..request(&store) };
    let failure = first_failure(connection::connect(&app.services.woo, &owner, None, not_a_store).await.unwrap());
    assert!(failure.contains("instead of its API") || failure.contains("WooCommerce"), "{failure}");
    assert_eq!(woo::status(&app.services.woo).await.unwrap().state, "disconnected", "nothing was stored");
    // A shop with demo data asks first.
    store.key(json!({ "consumer_key": CONSUMER_KEY, "permissions": "read_write" })).await;
    backend::demo::load(&app.db, backend::demo::DemoOptions { orders: 5, seed: 1 }, |_| {}).await.unwrap();
    let asked = ConnectRequest { clear_demo_data: false, ..request(&store) };
    match connection::connect(&app.services.woo, &owner, None, asked).await.unwrap() {
        Connected::NeedsConfirmation { questions, .. } => {
            assert!(
                questions.iter().any(|q| q.confirms == "clear_demo_data" && q.text.contains("demo data")),
                "{questions:?}"
            )
        }
        other => panic!("connected over demo data: {other:?}"),
    }
    app.stop().await;
}

on_both_databases!(
    a_store_is_connected_imported_and_kept_in_step,
    a_killed_process_resumes_its_import_without_duplicates,
    bad_deliveries_get_clear_answers_and_store_nothing,
    huge_and_odd_orders_are_kept_whole,
    misbehaving_stores_get_a_clear_state,
);
