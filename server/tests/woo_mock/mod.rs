//! The stand-in WooCommerce store (`end2end/woo_mock.mjs`, Node) for the connection's tests:
//! started on a free port with a seeded shop, changed "in wp-admin", faulted and read
//! through its control endpoints, and stopped when dropped; and an app connected to it.

#![allow(dead_code)]

use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

use backend::woo::{
    self,
    connection::{self, ConnectRequest, Connected},
    import,
};
use serde_json::{Value, json};

use super::common::{
    Engine, OWNER_EMAIL, OWNER_PASSWORD, Options, TestApp, backroom_in, fresh_database, spawn_app_with,
};

pub const CONSUMER_KEY: &str = "ck_ff2a9b1394e11555ffd57c9e67a395797dfa89b4";
pub const CONSUMER_SECRET: &str = "cs_e9b3dbcbae3634b5f2e03d89f2b03c59deb6762f";

pub struct WooMock {
    pub port: u16,
    child: Child,
    http: reqwest::Client,
}

impl WooMock {
    /// A store with `orders` generated orders. Panics when node is missing or the
    /// stand-in does not come up.
    pub fn start(orders: u64) -> WooMock {
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../end2end/woo_mock.mjs");
        let mut child = Command::new("node")
            .arg(script)
            .args(["--orders", &orders.to_string(), "--seed", "7"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("node runs");
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
        let port = line
            .trim()
            .strip_prefix("listening ")
            .unwrap_or_else(|| panic!("the WooCommerce stand-in did not start: {line:?}"));
        WooMock { port: port.parse().unwrap(), child, http: reqwest::Client::new() }
    }

    /// The store's address, as it knows it.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn control(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/_mock/{path}", self.port)
    }

    pub async fn post(&self, path: &str, body: Value) -> Value {
        let answer = self.http.post(self.control(path)).json(&body).send().await.unwrap();
        let status = answer.status();
        let body: Value = answer.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "the stand-in refused {path}: {body}");
        body
    }

    /// `{ config, counts, webhooks, queue, deliveries, requests, … }`.
    pub async fn state(&self) -> Value {
        self.http.get(self.control("state?deliveries=500&requests=1000")).send().await.unwrap().json().await.unwrap()
    }

    pub async fn config(&self, config: Value) -> Value {
        self.post("config", config).await
    }

    pub async fn faults(&self, faults: Value) -> Value {
        self.post("faults", faults).await
    }

    /// A key of the shop (`{ permissions, consumer_key?, consumer_secret? }`).
    pub async fn key(&self, key: Value) -> Value {
        self.post("keys", key).await
    }

    /// Runs the store's webhook queue now; its delivery records.
    pub async fn deliver(&self) -> Value {
        self.post("deliver", json!({})).await
    }

    /// Changes an order as wp-admin would (`{ status, note, date_modified_gmt, … }`).
    pub async fn change_order(&self, id: i64, change: Value) -> Value {
        self.post(&format!("orders/{id}"), change).await
    }

    /// Places an order as wp-admin would (`{ status, line_items: [{ product_id, quantity }], billing, … }`).
    pub async fn create_order(&self, order: Value) -> Value {
        self.post("orders", order).await
    }

    /// A shopper checks out (`{ line_items, billing, coupon_lines, payment_method }`): the
    /// store's answer, the order or WooCommerce's error.
    pub async fn checkout(&self, order: Value) -> (reqwest::StatusCode, Value) {
        let answer = self.http.post(self.control("checkout")).json(&order).send().await.unwrap();
        (answer.status(), answer.json().await.unwrap_or(Value::Null))
    }

    pub async fn trash_order(&self, id: i64) {
        self.post(&format!("orders/{id}/trash"), json!({})).await;
    }

    /// Deletes an order for good: no webhook says so.
    pub async fn delete_order(&self, id: i64) {
        let answer = self.http.delete(self.control(&format!("orders/{id}"))).send().await.unwrap();
        assert!(answer.status().is_success());
    }

    pub async fn refund(&self, id: i64, refund: Value) -> Value {
        self.post(&format!("orders/{id}/refunds"), refund).await
    }

    /// The REST object of `kind` (`orders`, `products`, …) with `id`.
    pub async fn object(&self, kind: &str, id: i64) -> Value {
        self.http.get(self.control(&format!("{kind}/{id}"))).send().await.unwrap().json().await.unwrap()
    }

    /// How many orders the store keeps: not drafts, not trashed.
    pub async fn kept_orders(&self) -> i64 {
        let state = self.state().await;
        let by_status = state["counts"]["orders_by_status"].as_object().unwrap();
        by_status
            .iter()
            .filter(|(status, _)| !["checkout-draft", "trash"].contains(&status.as_str()))
            .map(|(_, n)| n.as_i64().unwrap())
            .sum()
    }

    /// Sets a webhook's status as the admin's webhook screen does.
    pub async fn set_webhook(&self, id: i64, status: &str) {
        self.post(&format!("webhooks/{id}"), json!({ "status": status })).await;
    }
}

// An app connected to the stand-in.

pub async fn app_with_worker(engine: Engine) -> TestApp {
    spawn_app_with(engine, Options { job_workers: 1, ..Options::default() }).await
}

pub fn request(store: &WooMock) -> ConnectRequest {
    ConnectRequest {
        url: store.url(),
        consumer_key: CONSUMER_KEY.into(),
        consumer_secret: CONSUMER_SECRET.to_owned().into(),
        adopt_store_settings: true,
        clear_demo_data: true,
    }
}

pub async fn connect(app: &TestApp, store: &WooMock) -> connection::Report {
    let owner = app.owner().await;
    match connection::connect(&app.services.woo, &owner, None, request(store)).await.unwrap() {
        Connected::Done { report, webhooks } => {
            assert_eq!(webhooks, woo::webhooks::TOPICS.len());
            report
        }
        other => panic!("not connected: {other:?}"),
    }
}

/// Waits for the import the app's worker runs to end; its progress as it was seen on the
/// way (at least one reading while it ran).
pub async fn imported(app: &TestApp) -> Vec<import::Progress> {
    import::start(&app.services.woo).await.unwrap();
    let mut seen = Vec::new();
    for _ in 0..1200 {
        let progress = import::progress(&app.services.woo).await.unwrap();
        let ended = progress.state != "running";
        seen.push(progress);
        if ended {
            assert_eq!(seen.last().unwrap().state, "done", "{:?}", seen.last());
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = backend::woo::status(&app.services.woo).await.unwrap();
    panic!("the import did not end: {:?}; the connection's last problem: {:?}", seen.last(), status.last_error);
}

/// A fresh database (its URL, data folder and a pool) with an owner, connected to `store`
/// as a shop owner does it (`backroom woo connect … --yes`), for `backroom serve`
/// processes of the test's own.
pub async fn connected_database(engine: Engine, store: &WooMock) -> (String, std::path::PathBuf, backend::db::Db) {
    let (url, data_dir) = fresh_database(engine).await;
    let db = backend::db::Db::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    backend::users::create(
        &db,
        backend::users::NewUser {
            email: backend::users::Email::parse(OWNER_EMAIL).unwrap(),
            name: "Owner".into(),
            role: backend::users::Role::Owner,
            password: OWNER_PASSWORD.to_owned().into(),
        },
    )
    .await
    .unwrap();
    let connected = backroom_in(
        &data_dir,
        &["woo", "connect", "--url", &store.url(), "--consumer-key", CONSUMER_KEY, "--consumer-secret-stdin", "--yes"],
        &url,
        Some(CONSUMER_SECRET),
    );
    assert!(connected.status.success(), "{}", String::from_utf8_lossy(&connected.stderr));
    (url, data_dir, db)
}

pub async fn scalar(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned())).fetch_one(app.db.pool()).await.unwrap()
}

pub async fn status_of(app: &TestApp, order: i64) -> Option<String> {
    sqlx::query_scalar("SELECT status FROM orders WHERE id = $1")
        .bind(order)
        .fetch_optional(app.db.pool())
        .await
        .unwrap()
}

/// An order of the store in `status`, from its REST object.
pub async fn an_order(store: &WooMock, status: &str, skip: usize) -> i64 {
    an_order_where(store, &format!("{status} order"), |order| order["status"] == status, skip).await
}

/// The newest order of the store whose REST object `matches` (`what` names it), after
/// skipping `skip` such.
pub async fn an_order_where(store: &WooMock, what: &str, matches: impl Fn(&Value) -> bool, skip: usize) -> i64 {
    let state = store.state().await;
    let (first, last) =
        (state["counts"]["first_order_id"].as_i64().unwrap(), state["counts"]["last_order_id"].as_i64().unwrap());
    let mut found = 0;
    for id in (first..=last).rev() {
        if matches(&store.object("orders", id).await) {
            if found == skip {
                return id;
            }
            found += 1;
        }
    }
    panic!("no {what} in the store");
}

impl Drop for WooMock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
