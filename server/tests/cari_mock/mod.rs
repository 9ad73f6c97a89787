//! The stand-in ledger (`end2end/cari_mock.mjs`, Node) for the accounting tests: started
//! on a free port, scripted and read through its control endpoints, stopped when dropped.

#![allow(dead_code)]

use std::process::{Child, Command, Stdio};

use serde_json::Value;

pub const KEY: &str = "test-api-key-0123456789";
pub const COMPANY: &str = "FIRMA1";

pub struct CariMock {
    pub port: u16,
    child: Child,
    http: reqwest::Client,
}

impl CariMock {
    pub fn start() -> CariMock {
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../end2end/cari_mock.mjs");
        let mut child = Command::new("node")
            .arg(script)
            .args(["--key", KEY, "--company", COMPANY])
            .stdout(Stdio::piped())
            .spawn()
            .expect("node runs");
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
        let port =
            line.trim().strip_prefix("listening ").unwrap_or_else(|| panic!("the ledger mock did not start: {line:?}"));
        CariMock { port: port.parse().unwrap(), child, http: reqwest::Client::new() }
    }

    /// The base URL the settings name (with the `/api` a real ledger has).
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/api", self.port)
    }

    pub async fn state(&self) -> Value {
        self.http.get(format!("http://127.0.0.1:{}/_mock/state", self.port)).send().await.unwrap().json().await.unwrap()
    }

    pub async fn invoices(&self) -> Vec<Value> {
        self.state().await["invoices"].as_array().unwrap().clone()
    }

    pub async fn customers(&self) -> Vec<Value> {
        self.state().await["customers"].as_array().unwrap().clone()
    }

    pub async fn credit_notes(&self) -> Vec<Value> {
        self.state().await["credit_notes"].as_array().unwrap().clone()
    }

    /// Requests received as "METHOD /path".
    pub async fn requests(&self) -> Vec<String> {
        self.state().await["requests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| format!("{} {}", r["method"].as_str().unwrap(), r["path"].as_str().unwrap()))
            .collect()
    }

    /// One-shot answers for the next matching requests.
    pub async fn script(&self, steps: Value) {
        self.http.post(format!("http://127.0.0.1:{}/_mock/script", self.port)).json(&steps).send().await.unwrap();
    }

    pub async fn configure(&self, config: Value) {
        self.http.post(format!("http://127.0.0.1:{}/_mock/config", self.port)).json(&config).send().await.unwrap();
    }

    pub async fn seed_customer(&self, customer: Value) {
        // Created through the API, as the ledger's own users would have.
        let created = self
            .http
            .post(format!("http://127.0.0.1:{}/v1/cariler", self.port))
            .bearer_auth(KEY)
            .header("X-Firma-Kodu", COMPANY)
            .json(&customer)
            .send()
            .await
            .unwrap();
        assert!(created.status().is_success());
    }
}

impl Drop for CariMock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
