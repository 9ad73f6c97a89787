//! The Cari.com.tr adapter: the one place that knows the ledger's HTTP contract. Its
//! contract is not public, so this module documents the one we speak; when the real
//! one is known, only this file (and [`super::mapping`], for the payload fields) changes.
//! The test mock (`end2end/cari_mock.mjs`) plays the ledger as written here.
//!
//! Every request carries `Authorization: Bearer <API key>`, `X-Firma-Kodu: <company
//! code>`, `Accept: application/json`; bodies are UTF-8 JSON; money is a decimal string
//! with two decimals (`"1234.50"`); quantities are whole numbers.
//!
//! | operation | request | success answer |
//! | --- | --- | --- |
//! | connection test | `GET /v1/firma` | 200 `{"firma_kodu": "…", "unvan": "…"}` |
//! | find a customer | `GET /v1/cariler?vergi_no=…` (or `tc_kimlik_no=`, `eposta=`) | 200 `{"cariler": [{"id": "…"}]}` |
//! | create a customer | `POST /v1/cariler` + [`super::mapping::customer_payload`] | 200/201 `{"id": "…"}` |
//! | update a customer | `PUT /v1/cariler/{id}` + the same payload | 200 `{"id": "…"}` |
//! | find an invoice | `GET /v1/faturalar?referans=…` | 200 `{"faturalar": [{"id": "…", "numara": "…"}]}` |
//! | create an invoice | `POST /v1/faturalar` + [`super::mapping::invoice_payload`] | 200/201 `{"id": "…", "numara": "…"}` |
//! | update an invoice | `PUT /v1/faturalar/{id}` + the same payload | 200 `{"id": "…", "numara": "…"}` |
//! | find a credit note | `GET /v1/iade-faturalari?referans=…` | 200 `{"iade_faturalari": [{"id": "…", "numara": "…"}]}` |
//! | create a credit note | `POST /v1/iade-faturalari` + [`super::mapping::credit_note_payload`] | 200/201 `{"id": "…", "numara": "…"}` |
//!
//! Errors answer `{"hata": {"kod": "…", "mesaj": "…"}}` with a 4xx or 5xx status: 401 for
//! a refused key, 404 for an unknown company code on `/v1/firma`, 422 for a document the
//! ledger will not take, 429 with `Retry-After` (seconds) when we go too fast.

use std::time::{Duration, Instant};

use secrecy::ExposeSecret;
use serde_json::Value;

use super::{log::Recorder, settings::Connection};

/// What a request to the ledger came to, when it was not what we asked for. Each says in
/// plain words what happened, for the panel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallError {
    /// No answer within the time allowed: the ledger may or may not have done it.
    Timeout,
    /// No connection at all (DNS, refused, TLS).
    Unreachable(String),
    /// 401 or 403: the API key or company code was refused.
    Unauthorized(String),
    /// 429: come back after this many seconds.
    RateLimited { retry_after_secs: i64 },
    /// Another 4xx: the ledger will not take this as it is.
    Rejected { status: u16, message: String },
    /// 5xx: the ledger failed; trying later may work.
    ServerError { status: u16, message: String },
    /// A success that we cannot read (not JSON, or without the id we need).
    Malformed(String),
}

impl CallError {
    pub fn plain_words(&self) -> String {
        match self {
            CallError::Timeout => "Cari.com.tr did not answer in time".into(),
            CallError::Unreachable(why) => format!("Cari.com.tr could not be reached: {why}"),
            CallError::Unauthorized(message) => format!(
                "Cari.com.tr refused the API key or company code ({message}); check them in the accounting settings"
            ),
            CallError::RateLimited { retry_after_secs } => {
                format!("Cari.com.tr asked us to slow down; trying again in {retry_after_secs} s")
            }
            CallError::Rejected { status, message } => {
                format!("Cari.com.tr refused the document ({status}): {message}")
            }
            CallError::ServerError { status, message } => format!("Cari.com.tr had an error ({status}): {message}"),
            CallError::Malformed(why) => format!("Cari.com.tr answered something we cannot read: {why}"),
        }
    }

    /// Whether trying the same request again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            CallError::Timeout
                | CallError::Unreachable(_)
                | CallError::ServerError { .. }
                | CallError::Malformed(_)
                | CallError::RateLimited { .. }
        )
    }
}

/// A remote document: its id and the number the ledger shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Remote {
    pub id: String,
    pub number: Option<String>,
}

/// One request and its answer, as the log keeps it.
#[derive(Clone, Debug)]
pub struct Exchange {
    pub operation: &'static str,
    pub method: &'static str,
    pub url: String,
    pub status: Option<u16>,
    pub duration_ms: i64,
    pub request: Option<Value>,
    pub response: Option<String>,
    pub error: Option<String>,
}

/// Which customer field a lookup matches on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchField {
    TaxNumber,
    NationalId,
    Email,
}

impl MatchField {
    pub fn query_name(self) -> &'static str {
        match self {
            MatchField::TaxNumber => "vergi_no",
            MatchField::NationalId => "tc_kimlik_no",
            MatchField::Email => "eposta",
        }
    }
}

/// A client for one ledger account, recording every exchange.
pub struct Client<'a> {
    http: &'a reqwest::Client,
    connection: &'a Connection,
    recorder: Recorder<'a>,
}

impl<'a> Client<'a> {
    pub fn new(http: &'a reqwest::Client, connection: &'a Connection, recorder: Recorder<'a>) -> Client<'a> {
        Client { http, connection, recorder }
    }

    /// The connection test: the company behind the code, by its name.
    pub async fn company(&self) -> Result<String, CallError> {
        let answer = self.send("connection.test", reqwest::Method::GET, &["v1", "firma"], &[], None).await?;
        Ok(answer.get("unvan").and_then(Value::as_str).unwrap_or_default().to_owned())
    }

    pub async fn find_customer(&self, field: MatchField, value: &str) -> Result<Option<String>, CallError> {
        let answer =
            self.send("customer.find", reqwest::Method::GET, CUSTOMERS, &[(field.query_name(), value)], None).await?;
        Ok(first_of(&answer, "cariler").map(|remote| remote.id))
    }

    pub async fn create_customer(&self, payload: &Value) -> Result<String, CallError> {
        let answer = self.send("customer.create", reqwest::Method::POST, CUSTOMERS, &[], Some(payload)).await?;
        Ok(remote_of(&answer, "customer")?.id)
    }

    pub async fn update_customer(&self, id: &str, payload: &Value) -> Result<(), CallError> {
        self.send("customer.update", reqwest::Method::PUT, &[CUSTOMERS, &[id]].concat(), &[], Some(payload))
            .await
            .map(drop)
    }

    pub async fn find_document(&self, kind: DocumentPath, reference: &str) -> Result<Option<Remote>, CallError> {
        let answer = self
            .send(kind.operation("find"), reqwest::Method::GET, kind.path(), &[("referans", reference)], None)
            .await?;
        Ok(first_of(&answer, kind.collection()))
    }

    pub async fn create_document(&self, kind: DocumentPath, payload: &Value) -> Result<Remote, CallError> {
        let answer =
            self.send(kind.operation("create"), reqwest::Method::POST, kind.path(), &[], Some(payload)).await?;
        remote_of(&answer, kind.noun())
    }

    pub async fn update_document(&self, kind: DocumentPath, id: &str, payload: &Value) -> Result<Remote, CallError> {
        let answer = self
            .send(kind.operation("update"), reqwest::Method::PUT, &[kind.path(), &[id]].concat(), &[], Some(payload))
            .await?;
        remote_of(&answer, kind.noun())
    }

    async fn send(
        &self,
        operation: &'static str,
        method: reqwest::Method,
        path: &[&str],
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Value, CallError> {
        let mut request = self
            .http
            .request(method.clone(), url(&self.connection.base_url, path)?)
            .bearer_auth(self.connection.api_key.expose_secret())
            .header("X-Firma-Kodu", &self.connection.company_code)
            .header("Accept", "application/json");
        if !query.is_empty() {
            request = request.query(query);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let request = request.build().map_err(|e| CallError::Unreachable(e.to_string()))?;
        let mut exchange = Exchange {
            operation,
            method: method_name(&method),
            url: request.url().to_string(),
            status: None,
            duration_ms: 0,
            request: body.cloned(),
            response: None,
            error: None,
        };
        let started = Instant::now();
        let outcome = self.exchange(request, &mut exchange).await;
        exchange.duration_ms = started.elapsed().as_millis() as i64;
        if let Err(e) = &outcome {
            exchange.error = Some(e.plain_words());
        }
        self.recorder.record(&exchange).await;
        outcome
    }

    async fn exchange(&self, request: reqwest::Request, exchange: &mut Exchange) -> Result<Value, CallError> {
        let response =
            self.http.execute(request).await.map_err(|e| {
                if e.is_timeout() { CallError::Timeout } else { CallError::Unreachable(root_cause(&e)) }
            })?;
        let status = response.status().as_u16();
        exchange.status = Some(status);
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<i64>().ok());
        let text = response
            .text()
            .await
            .map_err(|e| if e.is_timeout() { CallError::Timeout } else { CallError::Unreachable(root_cause(&e)) })?;
        exchange.response = Some(text.chars().take(MAX_LOGGED_CHARS).collect());
        let parsed: Result<Value, _> = serde_json::from_str(&text);
        let message = || match &parsed {
            Ok(body) => body["hata"]["mesaj"].as_str().map(str::to_owned).unwrap_or_else(|| format!("status {status}")),
            Err(_) => format!("status {status}"),
        };
        match status {
            200..=299 => parsed.map_err(|_| CallError::Malformed("the answer is not JSON".into())),
            401 | 403 => Err(CallError::Unauthorized(message())),
            429 => Err(CallError::RateLimited { retry_after_secs: retry_after.unwrap_or(60).clamp(1, 3600) }),
            408 => Err(CallError::Timeout),
            400..=499 => Err(CallError::Rejected { status, message: message() }),
            _ => Err(CallError::ServerError { status, message: message() }),
        }
    }
}

/// The longest answer the log keeps.
const MAX_LOGGED_CHARS: usize = 20_000;

/// The ledger's two kinds of document we send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocumentPath {
    Invoice,
    CreditNote,
}

impl DocumentPath {
    fn path(self) -> &'static [&'static str] {
        match self {
            DocumentPath::Invoice => &["v1", "faturalar"],
            DocumentPath::CreditNote => &["v1", "iade-faturalari"],
        }
    }

    fn collection(self) -> &'static str {
        match self {
            DocumentPath::Invoice => "faturalar",
            DocumentPath::CreditNote => "iade_faturalari",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            DocumentPath::Invoice => "invoice",
            DocumentPath::CreditNote => "credit note",
        }
    }

    fn operation(self, verb: &str) -> &'static str {
        match (self, verb) {
            (DocumentPath::Invoice, "find") => "invoice.find",
            (DocumentPath::Invoice, "create") => "invoice.create",
            (DocumentPath::Invoice, _) => "invoice.update",
            (DocumentPath::CreditNote, "find") => "credit_note.find",
            (DocumentPath::CreditNote, "create") => "credit_note.create",
            (DocumentPath::CreditNote, _) => "credit_note.update",
        }
    }
}

fn method_name(method: &reqwest::Method) -> &'static str {
    match *method {
        reqwest::Method::GET => "GET",
        reqwest::Method::POST => "POST",
        reqwest::Method::PUT => "PUT",
        _ => "OTHER",
    }
}

const CUSTOMERS: &[&str] = &["v1", "cariler"];

/// The base URL with `path` added, each part one escaped segment (the ledger's ids are
/// its own, so they may hold anything).
fn url(base: &str, path: &[&str]) -> Result<reqwest::Url, CallError> {
    let mut url = reqwest::Url::parse(base)
        .map_err(|e| CallError::Unreachable(format!("the base URL {base} is not usable: {e}")))?;
    url.path_segments_mut()
        .map_err(|()| CallError::Unreachable(format!("the base URL {base} cannot take a path")))?
        .pop_if_empty()
        .extend(path);
    Ok(url)
}

fn id_of(value: &Value) -> Option<String> {
    match value.get("id")? {
        Value::String(id) if !id.trim().is_empty() => Some(id.clone()),
        Value::Number(id) => Some(id.to_string()),
        _ => None,
    }
}

fn remote_of(answer: &Value, noun: &str) -> Result<Remote, CallError> {
    let id = id_of(answer).ok_or_else(|| CallError::Malformed(format!("the answer has no {noun} id")))?;
    Ok(Remote { id, number: answer.get("numara").and_then(Value::as_str).map(str::to_owned) })
}

fn first_of(answer: &Value, collection: &str) -> Option<Remote> {
    let first = answer.get(collection)?.as_array()?.first()?;
    Some(Remote { id: id_of(first)?, number: first.get("numara").and_then(Value::as_str).map(str::to_owned) })
}

/// The innermost reason a request failed ("Connection refused"), not reqwest's wrapper.
fn root_cause(error: &reqwest::Error) -> String {
    let mut source: &dyn std::error::Error = error;
    while let Some(next) = source.source() {
        source = next;
    }
    source.to_string()
}

/// The HTTP client for the ledger: pooled connections, a time limit per request.
pub fn http_client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .user_agent(concat!("Backroom/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("a client with a timeout and rustls builds")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_read_as_text_and_an_answer_without_one_is_malformed() {
        assert_eq!(
            remote_of(&serde_json::json!({"id": 42, "numara": "WEB1"}), "invoice").unwrap(),
            Remote { id: "42".into(), number: Some("WEB1".into()) }
        );
        assert!(matches!(remote_of(&serde_json::json!({"ok": true}), "invoice"), Err(CallError::Malformed(_))));
        assert!(matches!(remote_of(&serde_json::json!({"id": ""}), "invoice"), Err(CallError::Malformed(_))));
    }

    #[test]
    fn a_remote_id_is_one_escaped_path_segment() {
        let url = url("http://ledger.example/api/", &["v1", "cariler", "C-1/../x y"]).unwrap();
        assert_eq!(url.path().rsplit('/').next(), Some("C-1%2F..%2Fx%20y"));
        assert_eq!(url.as_str(), "http://ledger.example/api/v1/cariler/C-1%2F..%2Fx%20y");
    }
}
