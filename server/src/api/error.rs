//! The API's one error shape, `{"error": {"code": "…", "message": "…"}}`, with the status
//! each code deserves, and the extractors that turn bad JSON or query strings into it.

use axum::{
    Json,
    extract::{
        FromRequest, FromRequestParts, Request,
        rejection::{JsonRejection, QueryRejection},
    },
    http::{StatusCode, header, request::Parts},
    middleware::Next,
    response::{IntoResponse, Response},
};
use backend::access::Denied;
use serde::{Serialize, de::DeserializeOwned};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable, snake_case code a client can branch on.
    #[schema(example = "insufficient_scope")]
    pub code: String,
    /// What went wrong, in words for a person.
    pub message: String,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub retry_after_secs: Option<i64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), retry_after_secs: None }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody { error: ErrorDetail { code: self.code.to_owned(), message: self.message } };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after_secs {
            response.headers_mut().insert(header::RETRY_AFTER, secs.max(1).into());
        }
        if self.status == StatusCode::UNAUTHORIZED {
            // Both schemes the API takes: keys and tokens as Bearer, application passwords
            // as Basic.
            let headers = response.headers_mut();
            headers.insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer realm=\"backroom\""));
            headers.append(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Basic realm=\"backroom\", charset=\"UTF-8\""),
            );
        }
        response
    }
}

impl From<Denied> for ApiError {
    fn from(denied: Denied) -> ApiError {
        ApiError {
            status: StatusCode::from_u16(denied.status()).unwrap_or(StatusCode::FORBIDDEN),
            code: denied.code(),
            message: denied.message(),
            retry_after_secs: denied.retry_after_secs(),
        }
    }
}

impl From<backend::Error> for ApiError {
    fn from(e: backend::Error) -> ApiError {
        use backend::Error as E;
        match e {
            E::Invalid(message) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message),
            E::InvalidCursor(message) => ApiError::new(StatusCode::BAD_REQUEST, "invalid_cursor", message),
            E::BadCredentials => ApiError::new(StatusCode::UNAUTHORIZED, "invalid_credentials", e.to_string()),
            E::LockedOut { retry_after_secs } => ApiError {
                retry_after_secs: Some(retry_after_secs),
                ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, "locked_out", e.to_string())
            },
            E::RateLimited { message, retry_after_secs } => ApiError {
                retry_after_secs: Some(retry_after_secs),
                ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message)
            },
            E::Busy => ApiError {
                retry_after_secs: Some(1),
                ..ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", e.to_string())
            },
            E::Forbidden => ApiError::new(StatusCode::FORBIDDEN, "forbidden", "your role does not allow this"),
            E::NotFound => ApiError::new(StatusCode::NOT_FOUND, "not_found", "not found"),
            E::Conflict(message) => ApiError::new(StatusCode::CONFLICT, "conflict", message),
            E::InvalidTransition { .. } => ApiError::new(StatusCode::CONFLICT, "invalid_transition", e.to_string()),
            E::Internal(source) => {
                tracing::error!(error = %source.report(), "API request failed");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "something went wrong on our side; it has been logged",
                )
            }
        }
    }
}

/// `Json<T>` whose rejections use the API's error shape.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send JSON with Content-Type: application/json",
            )),
            Err(JsonRejection::JsonDataError(e)) => {
                Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", e.body_text()))
            }
            Err(JsonRejection::BytesRejection(_)) => Err(too_large()),
            Err(e) => Err(ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", e.body_text())),
        }
    }
}

/// An optional JSON body: none at all (no content type, no bytes) is `None`; anything
/// else is read as [`ApiJson`] reads it.
impl<S: Send + Sync, T: DeserializeOwned> axum::extract::OptionalFromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, ApiError> {
        let headers = req.headers();
        let empty = headers.get(axum::http::header::CONTENT_LENGTH).is_none_or(|length| length.as_bytes() == b"0");
        if headers.get(axum::http::header::CONTENT_TYPE).is_none() && empty {
            return Ok(None);
        }
        <ApiJson<T> as FromRequest<S>>::from_request(req, state).await.map(Some)
    }
}

/// `Query<T>` whose rejections use the API's error shape.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(ApiQuery(value)),
            Err(e @ QueryRejection::FailedToDeserializeQueryString(_)) => {
                Err(ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()))
            }
            Err(e) => Err(ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text())),
        }
    }
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        format!("the request body is larger than {} KiB", crate::BODY_LIMIT / 1024),
    )
}

/// Gives every error the API returns the one shape, also those made outside our
/// handlers (an unknown path, a wrong method, a body over the size limit). Wraps the
/// whole server, outside the body limit, and looks only at `/api/v1`.
pub async fn uniform_errors(req: Request, next: Next) -> Response {
    let is_api = crate::paths::is_rest_api(req.uri().path());
    let response = next.run(req).await;
    if !is_api {
        return response;
    }
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (code, message) = match status {
        StatusCode::NOT_FOUND => ("no_such_endpoint", "there is no such endpoint; see /api/v1/openapi.json".to_owned()),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "this endpoint does not take this method".to_owned()),
        StatusCode::PAYLOAD_TOO_LARGE => return too_large().into_response(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ("unsupported_media_type", "send JSON with Content-Type: application/json".to_owned())
        }
        s if s.is_server_error() => ("internal", "something went wrong on our side; it has been logged".to_owned()),
        _ => ("bad_request", "the request could not be understood".to_owned()),
    };
    let mut replaced = ApiError::new(status, code, message).into_response();
    if let Some(allow) = response.headers().get(header::ALLOW) {
        replaced.headers_mut().insert(header::ALLOW, allow.clone());
    }
    replaced
}
