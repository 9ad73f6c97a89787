//! The stand-in for Meta's WhatsApp Cloud API (`end2end/graph_mock.mjs`, Node) for the
//! WhatsApp tests: started on a free port, scripted and read through its control
//! endpoints, able to post signed webhook deliveries to Backroom, stopped when dropped.

#![allow(dead_code)]

use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

pub const TOKEN: &str = "test-graph-token-0123456789";
pub const PHONE_NUMBER_ID: &str = "1234567890";
pub const WABA_ID: &str = "9876543210";

pub struct GraphMock {
    pub port: u16,
    child: Child,
    http: reqwest::Client,
}

impl GraphMock {
    /// Panics when node is missing or the mock does not come up.
    pub fn start() -> GraphMock {
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../end2end/graph_mock.mjs");
        let mut child = Command::new("node")
            .arg(script)
            .args(["--token", TOKEN, "--phone-number-id", PHONE_NUMBER_ID, "--waba-id", WABA_ID])
            .stdout(Stdio::piped())
            .spawn()
            .expect("node runs");
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
        let port =
            line.trim().strip_prefix("listening ").unwrap_or_else(|| panic!("the Graph mock did not start: {line:?}"));
        GraphMock { port: port.parse().unwrap(), child, http: reqwest::Client::new() }
    }

    /// The Graph base URL the WhatsApp settings name (the version goes after it).
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn control(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/_mock/{path}", self.port)
    }

    pub async fn state(&self) -> Value {
        self.http.get(self.control("state")).send().await.unwrap().json().await.unwrap()
    }

    /// Messages Meta accepted, oldest first: `{ wamid, to, wa_id, template, language,
    /// category, version, body, at }`, `body` being the request as sent.
    pub async fn messages(&self) -> Vec<Value> {
        self.state().await["messages"].as_array().unwrap().clone()
    }

    /// Every Graph request: `{ method, path, query, version, authorization, body, at }`.
    pub async fn requests(&self) -> Vec<Value> {
        self.state().await["requests"].as_array().unwrap().clone()
    }

    /// Forgets messages, requests and the script; the configuration stays.
    pub async fn reset(&self) {
        let answer = self.http.post(self.control("reset")).send().await.unwrap();
        assert!(answer.status().is_success());
    }

    /// `{ token?, phone_number_id?, waba_id?, latency_ms?, templates? }`.
    pub async fn config(&self, config: Value) {
        let answer = self.http.post(self.control("config")).json(&config).send().await.unwrap();
        assert!(answer.status().is_success());
    }

    /// One-shot answers for the next matching requests, e.g.
    /// `json!([{ "match": "POST /messages", "status": 429, "body": {...} }])`.
    pub async fn script(&self, steps: Value) {
        let answer = self.http.post(self.control("script")).json(&steps).send().await.unwrap();
        assert!(answer.status().is_success());
    }

    /// Has Meta report `status` ("sent", "delivered", "read" or "failed") for a message
    /// it accepted, signed with `app_secret`; Backroom's answer as (status, body). Panics
    /// when the mock never sent `wamid` or cannot reach `webhook_url`.
    pub async fn status(
        &self,
        webhook_url: &str,
        app_secret: &str,
        wamid: &str,
        status: &str,
        errors: Option<Value>,
    ) -> (u16, String) {
        let mut request =
            json!({ "webhook_url": webhook_url, "app_secret": app_secret, "wamid": wamid, "status": status });
        if let Some(errors) = errors {
            request["errors"] = errors;
        }
        self.deliver("status", request).await
    }

    /// Has Meta deliver a text the shopper at `from` (digits, no +) wrote to the shop.
    pub async fn inbound(&self, webhook_url: &str, app_secret: &str, from: &str, text: &str) -> (u16, String) {
        self.deliver(
            "inbound",
            json!({ "webhook_url": webhook_url, "app_secret": app_secret, "from": from, "text": text }),
        )
        .await
    }

    async fn deliver(&self, path: &str, request: Value) -> (u16, String) {
        let answer = self.http.post(self.control(path)).json(&request).send().await.unwrap();
        let status = answer.status();
        let body: Value = answer.json().await.unwrap();
        assert!(status.is_success(), "the Graph mock could not deliver: {body}");
        let backroom_status = body["status"].as_u64().and_then(|s| u16::try_from(s).ok()).unwrap();
        (backroom_status, body["body"].as_str().unwrap_or_default().to_owned())
    }
}

impl Drop for GraphMock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
