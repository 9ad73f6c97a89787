//! No text Backroom keeps may hold a NUL character: PostgreSQL cannot store one, and no
//! person types one. A request carrying one — raw, as `%00` in its path, query or form, or
//! as `\u0000` in its JSON — is refused here, before any handler, with a 400 in the shape
//! its caller reads.

use app::context::SignedIn;
use axum::body::HttpBody as _;
use backend::audit;

use crate::{AppState, client_ip::Transport};
use axum::{
    body::Body,
    extract::{Request, State},
    http::{StatusCode, header, request::Parts},
    middleware::Next,
    response::{IntoResponse, Response},
};

const MESSAGE: &str = "the request holds a NUL character (%00 or \\u0000), which no text may contain";

pub async fn refuse(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    if percent_nul(&path) || req.uri().query().is_some_and(percent_nul) {
        let (parts, _) = req.into_parts();
        return refused(&state, Asker::of(&parts, &path), &path).await;
    }
    if req.body().size_hint().exact() == Some(0) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    // The body limit wraps this layer, so the read is bounded.
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(e) if is_too_large(&e) => return StatusCode::PAYLOAD_TOO_LARGE.into_response(),
        Err(_) => return (StatusCode::BAD_REQUEST, "the request's body could not be read").into_response(),
    };
    let form = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if bytes.contains(&0) || (form && percent_nul_in_form(&bytes)) || json_nul(&bytes) {
        return refused(&state, Asker::of(&parts, &path), &path).await;
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

fn is_too_large(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = e.source();
    }
    false
}

/// `%00` in a path or query, once decoded (decoded as a form is: the same bytes).
fn percent_nul(text: &str) -> bool {
    text.contains("%00") && percent_nul_in_form(text.as_bytes())
}

fn percent_nul_in_form(body: &[u8]) -> bool {
    form_urlencoded::parse(body).any(|(name, value)| name.contains('\0') || value.contains('\0'))
}

/// A `\u0000` escape that JSON decodes to NUL (not the text `\\u0000`).
fn json_nul(body: &[u8]) -> bool {
    fn holds(value: &serde_json::Value) -> bool {
        match value {
            serde_json::Value::String(s) => s.contains('\0'),
            serde_json::Value::Array(items) => items.iter().any(holds),
            serde_json::Value::Object(fields) => fields.iter().any(|(k, v)| k.contains('\0') || holds(v)),
            _ => false,
        }
    }
    body.windows(6).any(|w| w == b"\\u0000")
        && serde_json::from_slice::<serde_json::Value>(body).is_ok_and(|v| holds(&v))
}

/// Records the refusal in the audit log, then answers it.
async fn refused(state: &AppState, asker: Asker, path: &str) -> Response {
    let event = audit::Event {
        actor_user_id: asker.user_id,
        actor: &asker.actor,
        action: "request.refused",
        target: &asker.target,
        ip: asker.ip.as_deref(),
        user_agent: asker.user_agent.as_deref(),
        outcome: Some(audit::Outcome::Denied),
        details: "NUL character",
        ..audit::Event::default()
    };
    if let Err(e) = audit::record(state.services.db.writer(), &event).await {
        tracing::error!(error = %e.report(), "could not record a refused request in the audit log");
    }
    refusal(path)
}

/// Who sent a request, as the audit log names them.
struct Asker {
    user_id: Option<i64>,
    actor: String,
    target: String,
    ip: Option<String>,
    user_agent: Option<String>,
}

impl Asker {
    fn of(req: &Parts, path: &str) -> Asker {
        let user = req.extensions.get::<SignedIn>().and_then(|s| s.0.as_ref());
        Asker {
            user_id: user.map(|u| u.id),
            actor: user.map_or_else(|| "unknown".to_owned(), |u| u.email.clone()),
            target: format!("{} {path}", req.method),
            ip: req.extensions.get::<Transport>().and_then(|t| t.ip).map(|ip| ip.to_string()),
            user_agent: req.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned),
        }
    }
}

/// The refusal in the shape of what was called: OAuth's error, the API's, the panel's,
/// or plain text for a page.
fn refusal(path: &str) -> Response {
    if crate::paths::is_oauth_token_endpoint(path) {
        crate::oauth::token_error(StatusCode::BAD_REQUEST, "invalid_request", MESSAGE)
    } else if crate::paths::is_rest_api(path) {
        crate::api::error::ApiError::new(StatusCode::BAD_REQUEST, "bad_request", MESSAGE).into_response()
    } else if crate::paths::is_server_function(path) {
        let error = app::error::PanelError::Message(MESSAGE.into());
        (StatusCode::BAD_REQUEST, axum::Json(error)).into_response()
    } else {
        (StatusCode::BAD_REQUEST, MESSAGE).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_is_found_however_it_is_written() {
        assert!(percent_nul("/support?x=a%00b"));
        assert!(!percent_nul("/support?x=100%25"));
        assert!(percent_nul_in_form(b"email=a%00%40b.example&password=x"));
        assert!(!percent_nul_in_form(b"email=a%40b.example&n=100"));
        assert!(json_nul(br#"{"message": ["hi\u0000there"]}"#));
        assert!(!json_nul(br#"{"message": "a backslash then u0000: \\u0000"}"#));
        assert!(!json_nul(br#"{"message": "nothing odd"}"#));
    }
}
