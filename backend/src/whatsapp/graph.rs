//! Meta's Graph API, the calls Backroom makes: the account's phone numbers (the live
//! check), its message templates, and sending a template message. Every answer that is
//! not a success becomes a [`GraphError`] that says what it means for a retry.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The account to call as: its ids, token, Graph version and base URL.
pub struct Account {
    pub base_url: String,
    pub version: String,
    pub phone_number_id: String,
    pub waba_id: String,
    pub token: SecretString,
}

/// A failed call, classified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GraphError {
    /// The request may have reached Meta and been acted on (a timeout, a broken answer).
    Uncertain(String),
    /// No answer because no connection: Meta never saw the request.
    Unreachable(String),
    /// Meta answered with an error.
    Meta { http_status: u16, code: i64, title: String, details: String },
}

impl GraphError {
    pub fn plain_words(&self) -> String {
        match self {
            GraphError::Uncertain(why) => format!("Meta's answer did not arrive ({why})"),
            GraphError::Unreachable(why) => format!("Meta's Graph API could not be reached: {why}"),
            GraphError::Meta { code, title, details, .. } if details.is_empty() => {
                format!("Meta refused it ({code}): {title}")
            }
            GraphError::Meta { code, title, details, .. } => format!("Meta refused it ({code}): {title} — {details}"),
        }
    }

    /// Meta's error code, when Meta answered.
    pub fn code(&self) -> Option<i64> {
        match self {
            GraphError::Meta { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// Throughput limits: wait and send again (130429 throughput, 131056 pair rate, 80007
    /// account rate, 4 app calls).
    pub fn is_rate_limit(&self) -> bool {
        matches!(
            self,
            GraphError::Meta { code: 130429 | 131056 | 80007 | 4, .. } | GraphError::Meta { http_status: 429, .. }
        )
    }

    /// The token was refused or expired (190), or lacks a permission (10, 200).
    pub fn is_auth(&self) -> bool {
        matches!(self, GraphError::Meta { code: 190 | 10 | 200, .. } | GraphError::Meta { http_status: 401, .. })
    }

    /// Meta failed on its side; the same request may work later.
    pub fn is_transient(&self) -> bool {
        matches!(self, GraphError::Unreachable(_))
            || matches!(self, GraphError::Meta { http_status, code, .. } if *http_status >= 500 || *code == 1 || *code == 2 || *code == 131000)
    }
}

/// A template of the account, as Meta lists it and the panel shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    pub name: String,
    pub language: String,
    pub status: String,
    pub category: String,
    pub body: String,
    pub body_params: i64,
    pub url_button: bool,
    /// Why Backroom cannot send it (a media header, header parameters…), if so.
    pub unsupported: Option<String>,
}

impl Template {
    pub fn is_approved(&self) -> bool {
        self.status.eq_ignore_ascii_case("APPROVED")
    }
}

/// The phone number behind the Phone Number ID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhoneNumber {
    pub id: String,
    pub display: String,
    pub verified_name: String,
}

pub struct Client<'a> {
    pub http: &'a reqwest::Client,
    pub account: &'a Account,
    pub timeout: Duration,
}

impl Client<'_> {
    fn url(&self, path: &str) -> String {
        format!("{}/{}/{}", self.account.base_url.trim_end_matches('/'), self.account.version, path)
    }

    async fn call(&self, request: reqwest::RequestBuilder) -> Result<Value, GraphError> {
        let answer =
            request.bearer_auth(self.account.token.expose_secret()).timeout(self.timeout).send().await.map_err(
                |e| {
                    if e.is_connect() {
                        GraphError::Unreachable(root_cause(&e))
                    } else {
                        GraphError::Uncertain(root_cause(&e))
                    }
                },
            )?;
        let status = answer.status().as_u16();
        let text = answer.text().await.map_err(|e| GraphError::Uncertain(root_cause(&e)))?;
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if (200..300).contains(&status) {
            return if body.is_object() {
                Ok(body)
            } else {
                Err(GraphError::Uncertain("a success that is not JSON".into()))
            };
        }
        let error = &body["error"];
        Err(GraphError::Meta {
            http_status: status,
            code: error["code"].as_i64().unwrap_or(0),
            title: error["message"]
                .as_str()
                .or(error["error_user_title"].as_str())
                .unwrap_or("no message")
                .chars()
                .take(500)
                .collect(),
            details: error["error_data"]["details"].as_str().unwrap_or_default().chars().take(1000).collect(),
        })
    }

    /// The account's phone numbers.
    pub async fn phone_numbers(&self) -> Result<Vec<PhoneNumber>, GraphError> {
        let body = self.call(self.http.get(self.url(&format!("{}/phone_numbers", self.account.waba_id)))).await?;
        Ok(body["data"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| PhoneNumber {
                id: p["id"].as_str().unwrap_or_default().to_owned(),
                display: p["display_phone_number"].as_str().unwrap_or_default().to_owned(),
                verified_name: p["verified_name"].as_str().unwrap_or_default().to_owned(),
            })
            .collect())
    }

    /// Every template of the account, following Meta's pages (at most 20 of them).
    pub async fn templates(&self) -> Result<Vec<Template>, GraphError> {
        let mut url = format!(
            "{}?limit=100&fields=name,language,status,category,components",
            self.url(&format!("{}/message_templates", self.account.waba_id))
        );
        let mut found = Vec::new();
        for _ in 0..20 {
            let body = self.call(self.http.get(&url)).await?;
            found.extend(body["data"].as_array().into_iter().flatten().map(read_template));
            match body["paging"]["next"].as_str() {
                Some(next) => url = next.to_owned(),
                None => break,
            }
        }
        Ok(found)
    }

    /// Sends a message; returns Meta's id for it (wamid).
    pub async fn send(&self, body: &Value) -> Result<String, GraphError> {
        let answer = self
            .call(self.http.post(self.url(&format!("{}/messages", self.account.phone_number_id))).json(body))
            .await?;
        answer["messages"][0]["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| GraphError::Uncertain("a success without the message's id".into()))
    }
}

fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// Reads a template: the body's text and its `{{n}}` parameters, whether a URL button
/// takes a suffix, and what we cannot fill (media or parameters in the header, more
/// than one dynamic button).
fn read_template(t: &Value) -> Template {
    let components: Vec<&Value> = t["components"].as_array().into_iter().flatten().collect();
    let of = |kind: &str| {
        components.iter().find(|c| c["type"].as_str().is_some_and(|k| k.eq_ignore_ascii_case(kind))).copied()
    };
    let body = of("BODY").and_then(|c| c["text"].as_str()).unwrap_or_default().to_owned();
    let mut unsupported = None;
    if let Some(header) = of("HEADER") {
        let format = header["format"].as_str().unwrap_or("TEXT");
        if !format.eq_ignore_ascii_case("TEXT") {
            unsupported = Some(format!("its header is a {} (media headers are not sent)", format.to_lowercase()));
        } else if count_parameters(header["text"].as_str().unwrap_or_default()) > 0 {
            unsupported = Some("its header has parameters".to_owned());
        }
    }
    let dynamic_urls = of("BUTTONS")
        .and_then(|c| c["buttons"].as_array())
        .into_iter()
        .flatten()
        .filter(|b| {
            b["type"].as_str().is_some_and(|k| k.eq_ignore_ascii_case("URL"))
                && b["url"].as_str().is_some_and(|u| u.contains("{{"))
        })
        .count();
    if dynamic_urls > 1 {
        unsupported = Some("it has more than one link button with a parameter".to_owned());
    }
    Template {
        name: t["name"].as_str().unwrap_or_default().to_owned(),
        language: t["language"].as_str().unwrap_or_default().to_owned(),
        status: t["status"].as_str().unwrap_or_default().to_owned(),
        category: t["category"].as_str().unwrap_or_default().to_owned(),
        body_params: count_parameters(&body),
        body,
        url_button: dynamic_urls == 1,
        unsupported,
    }
}

/// The number of distinct `{{n}}` placeholders (`{{1}}` used twice is one parameter).
pub fn count_parameters(text: &str) -> i64 {
    let mut seen = std::collections::BTreeSet::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                let inside = after[..end].trim();
                if !inside.is_empty() {
                    seen.insert(inside.to_owned());
                }
                rest = &after[end + 2..];
            }
            None => break,
        }
    }
    seen.len() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_counted_once_each() {
        assert_eq!(count_parameters("Merhaba {{1}}, {{2}} tutarında; {{1}} tekrar"), 2);
        assert_eq!(count_parameters("Hello World"), 0);
        assert_eq!(count_parameters("broken {{1"), 0);
    }

    #[test]
    fn a_template_with_a_link_button_and_a_media_header_is_read() {
        let t = read_template(
            &serde_json::json!({"name": "x", "language": "tr", "status": "APPROVED", "category": "MARKETING", "components": [
                {"type": "HEADER", "format": "IMAGE"},
                {"type": "BODY", "text": "Hi {{1}}"},
                {"type": "BUTTONS", "buttons": [{"type": "URL", "url": "https://b.example/r/{{1}}"}]}
            ]}),
        );
        assert_eq!((t.body_params, t.url_button), (1, true));
        assert!(t.unsupported.unwrap().contains("image"));
    }
}
