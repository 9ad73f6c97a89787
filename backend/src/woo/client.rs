//! Talking to the store's REST API (`/wp-json/wc/v3`): authentication the way WooCommerce
//! accepts it (Basic over HTTPS, the key in the query string when a host strips the
//! `Authorization` header, one-legged OAuth 1.0a over plain HTTP), pages and their
//! `X-WP-Total`, and every way a call goes wrong, each said in plain words: a firewall's or
//! CDN's web page instead of JSON, 429/503 with `Retry-After`, a redirect, WooCommerce's
//! own error shape (whose `data` may be a bare number: refunds answer HTTP 500 so).

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use reqwest::{Method, StatusCode, header};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;

use super::oauth1;

/// How requests prove they come from the key's holder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    /// HTTP Basic with the key and secret: HTTPS only (WooCommerce ignores it otherwise).
    Basic,
    /// `consumer_key` and `consumer_secret` in the query string: HTTPS only, for hosts that
    /// drop the `Authorization` header.
    Query,
    /// One-legged OAuth 1.0a: what WooCommerce accepts over plain HTTP.
    OAuth1,
}

impl Auth {
    pub fn as_str(self) -> &'static str {
        match self {
            Auth::Basic => "basic",
            Auth::Query => "query",
            Auth::OAuth1 => "oauth1",
        }
    }

    pub fn parse(text: &str) -> Option<Auth> {
        match text {
            "basic" => Some(Auth::Basic),
            "query" => Some(Auth::Query),
            "oauth1" => Some(Auth::OAuth1),
            _ => None,
        }
    }
}

/// Why a call to the store did not give what was asked, in words a shop manager can act on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    #[error("the store cannot be reached: {0}")]
    Unreachable(String),
    #[error("the store did not answer in time")]
    TimedOut,
    /// A web page where the API should answer: a firewall, a CDN's challenge, a host's
    /// security plugin or a maintenance page stands in front of WooCommerce.
    #[error("the store answered HTTP {status} with {what} instead of its API: {fix}")]
    NotApi { status: u16, what: String, fix: String },
    /// 429, or 503 with `Retry-After`: the store (or its host) asks us to slow down.
    #[error("the store asked Backroom to slow down (HTTP {status}){}", retry_after.map(|s| format!("; again in {s} s")).unwrap_or_default())]
    SlowDown { status: u16, retry_after: Option<u64> },
    #[error("the store's address redirects (HTTP {status}) to {to}: enter that address instead")]
    Redirected { status: u16, to: String },
    /// WooCommerce (or WordPress) refused the request and said why.
    #[error("the store refused (HTTP {status}, {code}): {message}")]
    Refused { status: u16, code: String, message: String },
    #[error("the store failed (HTTP {status}) without saying why")]
    Server { status: u16 },
    #[error("the store's answer could not be read: {0}")]
    Malformed(String),
}

impl CallError {
    /// How long to wait before asking again, when the store said or the failure suggests.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            CallError::SlowDown { retry_after, .. } => Some(Duration::from_secs(retry_after.unwrap_or(30))),
            CallError::NotApi { status: 403 | 503, .. } => Some(Duration::from_secs(60)),
            _ => None,
        }
    }

    /// Whether asking again later may work (the store busy, down, slow or blocking for now)
    /// rather than needing someone to change something.
    pub fn is_transient(&self) -> bool {
        match self {
            CallError::Unreachable(_) | CallError::TimedOut | CallError::SlowDown { .. } | CallError::Server { .. } => {
                true
            }
            CallError::NotApi { status, .. } => *status == 503 || *status == 502 || *status == 504,
            CallError::Refused { status, .. } => *status >= 500 && *status != 501,
            CallError::Redirected { .. } | CallError::Malformed(_) => false,
        }
    }

    /// The WooCommerce error code, for a refusal.
    pub fn code(&self) -> Option<&str> {
        match self {
            CallError::Refused { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// One answer: its body and what the paging headers say.
#[derive(Debug)]
pub struct Answer {
    pub body: bytes::Bytes,
    /// `X-WP-Total`: how many there are in all (collections only).
    pub total: Option<u64>,
    /// `X-WP-TotalPages`.
    pub total_pages: Option<u64>,
}

impl Answer {
    /// The body as `T`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, CallError> {
        serde_json::from_slice(&self.body).map_err(|e| CallError::Malformed(e.to_string()))
    }
}

/// A store's REST API, reached with one key.
#[derive(Clone)]
pub struct Store {
    /// The store's address as WordPress knows it (its home URL), without a trailing slash.
    base: String,
    key: String,
    secret: SecretString,
    auth: Auth,
    http: reqwest::Client,
    /// Microseconds spent waiting for the store's answers, over every call of this `Store`
    /// and its clones (so a pass can tell its own time from the store's).
    waited: Arc<AtomicU64>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("base", &self.base).field("auth", &self.auth).finish_non_exhaustive()
    }
}

/// The HTTP client for stores: no redirects followed (an API that redirects is named as
/// such), a bounded wait, and a user agent that says who is asking (some hosts serve bots
/// without one a cached page or a challenge).
pub fn http_client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .timeout(timeout)
        .user_agent(concat!("Backroom/", env!("CARGO_PKG_VERSION"), " (WooCommerce connection)"))
        .pool_max_idle_per_host(8)
        .build()
        .expect("the HTTP client builds")
}

impl Store {
    pub fn new(base: &str, key: String, secret: SecretString, auth: Auth, http: reqwest::Client) -> Store {
        Store { base: base.trim_end_matches('/').to_owned(), key, secret, auth, http, waited: Arc::default() }
    }

    /// How long, in all, calls have waited for the store's answers.
    pub fn waited(&self) -> Duration {
        Duration::from_micros(self.waited.load(Ordering::Relaxed))
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn auth(&self) -> Auth {
        self.auth
    }

    /// The same store and key with another way of authenticating.
    pub fn with_auth(&self, auth: Auth) -> Store {
        Store { auth, ..self.clone() }
    }

    /// `GET /wp-json/wc/v3{path}` with `query`.
    pub async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Answer, CallError> {
        self.send(Method::GET, path, query, None).await
    }

    /// `GET /wp-json/` — WordPress's index: its name, time zone and the API namespaces it
    /// serves (no key needed).
    pub async fn index(&self) -> Result<Answer, CallError> {
        let url = format!("{}/wp-json/", self.base);
        let response = self.http.get(&url).send().await.map_err(transport)?;
        read(response).await
    }

    /// `method` on `/wp-json/wc/v3{path}` with `query`, signed as the key signs in; a
    /// write (`POST`, `PUT`, `DELETE`) with its JSON body.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&serde_json::Value>,
    ) -> Result<Answer, CallError> {
        let url = format!("{}/wp-json/wc/v3{path}", self.base);
        let mut pairs: Vec<(String, String)> = query.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
        let mut request = match self.auth {
            Auth::Basic => self.http.request(method, &url).basic_auth(&self.key, Some(self.secret.expose_secret())),
            Auth::Query => {
                pairs.push(("consumer_key".into(), self.key.clone()));
                pairs.push(("consumer_secret".into(), self.secret.expose_secret().to_owned()));
                self.http.request(method, &url)
            }
            Auth::OAuth1 => {
                let nonce = uuid::Uuid::new_v4().simple().to_string();
                let signed = oauth1::sign(
                    method.as_str(),
                    &url,
                    &pairs,
                    &self.key,
                    self.secret.expose_secret(),
                    crate::clock::now(),
                    &nonce,
                );
                pairs.extend(signed);
                self.http.request(method, &url)
            }
        };
        request = request.query(&pairs).header(header::ACCEPT, "application/json");
        if let Some(body) = body {
            request = request.json(body);
        }
        let asked = std::time::Instant::now();
        let answer = match request.send().await {
            Ok(response) => read(response).await,
            Err(e) => Err(transport(e)),
        };
        self.waited.fetch_add(asked.elapsed().as_micros() as u64, Ordering::Relaxed);
        answer
    }
}

fn transport(e: reqwest::Error) -> CallError {
    if e.is_timeout() {
        return CallError::TimedOut;
    }
    let mut cause: &dyn std::error::Error = &e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    CallError::Unreachable(cause.to_string())
}

/// An answer read into its body, or the failure it stands for.
async fn read(response: reqwest::Response) -> Result<Answer, CallError> {
    let status = response.status();
    let headers = response.headers().clone();
    let number =
        |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
    let (total, total_pages, retry_after) = (number("x-wp-total"), number("x-wp-totalpages"), number("retry-after"));
    if status.is_redirection() {
        let to = headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        return Err(CallError::Redirected { status: status.as_u16(), to });
    }
    let body = response.bytes().await.map_err(transport)?;
    let looks_like_json = matches!(body.iter().find(|b| !b.is_ascii_whitespace()), Some(b'{' | b'[' | b'"'));
    if status.is_success() && looks_like_json {
        return Ok(Answer { body, total, total_pages });
    }
    if status == StatusCode::TOO_MANY_REQUESTS || (status == StatusCode::SERVICE_UNAVAILABLE && retry_after.is_some()) {
        return Err(CallError::SlowDown { status: status.as_u16(), retry_after });
    }
    if !looks_like_json {
        return Err(not_api(status, &headers, &body));
    }
    let error: serde_json::Value = serde_json::from_slice(&body).map_err(|e| CallError::Malformed(e.to_string()))?;
    match (error["code"].as_str(), error["message"].as_str()) {
        (Some(code), Some(message)) => Err(CallError::Refused {
            status: status.as_u16(),
            code: code.to_owned(),
            message: super::model::plain_text(message),
        }),
        _ if status.is_server_error() => Err(CallError::Server { status: status.as_u16() }),
        _ => Err(CallError::Malformed(format!("HTTP {status} with an answer that is not WooCommerce's"))),
    }
}

/// What stands in front of the API, named from the page it sent.
fn not_api(status: StatusCode, headers: &header::HeaderMap, body: &[u8]) -> CallError {
    let text = String::from_utf8_lossy(&body[..body.len().min(4096)]).to_lowercase();
    let header_has = |name: &str, needle: &str| {
        headers.get(name).and_then(|v| v.to_str().ok()).is_some_and(|v| v.to_lowercase().contains(needle))
    };
    let cloudflare =
        header_has("server", "cloudflare") || headers.contains_key("cf-ray") || text.contains("cloudflare");
    let (what, fix) = if cloudflare || text.contains("just a moment") || headers.contains_key("cf-mitigated") {
        (
            "a Cloudflare challenge page",
            "Cloudflare (Bot Fight Mode or a WAF rule) is blocking Backroom; allow Backroom's address or skip the challenge for /wp-json/wc/",
        )
    } else if status == StatusCode::SERVICE_UNAVAILABLE || text.contains("maintenance") {
        ("a maintenance page", "the site is in maintenance mode; try again when it is back")
    } else if status == StatusCode::FORBIDDEN || text.contains("firewall") || text.contains("access denied") {
        (
            "a web page refusing access",
            "a firewall or security plugin (Wordfence, mod_security, the host's) is blocking /wp-json/; allow Backroom's address",
        )
    } else if status == StatusCode::NOT_FOUND {
        (
            "a web page",
            "this address has no WordPress REST API: check the store's address, and that permalinks are not set to Plain",
        )
    } else if status.is_success() {
        (
            "a web page",
            "this is not the address of a WordPress site with WooCommerce, or something in front of it answers in its place",
        )
    } else {
        ("a web page", "something in front of WooCommerce (a proxy, the host) answered in its place")
    };
    CallError::NotApi { status: status.as_u16(), what: what.to_owned(), fix: fix.to_owned() }
}
