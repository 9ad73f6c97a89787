//! What the mobile app calls first: `discover` (public: which shop, which ways to sign
//! in), `me` (whose credential this is) and `system/status` (the connection test).

use axum::{Json, extract::State, http::HeaderMap};
use backend::{clock::now, db::Backend};
use serde::Serialize;
use utoipa::ToSchema;

use super::{error::ApiError, guard::Authenticated};
use crate::AppState;

#[derive(Serialize, ToSchema)]
pub struct Discover {
    pub store_name: String,
    /// The API's version: the path segment after `/api/`.
    #[schema(example = "v1")]
    pub api_version: &'static str,
    pub backroom_version: &'static str,
    /// `connection_key`, `app_password`, `oauth2`.
    pub auth_methods: Vec<&'static str>,
    pub oauth: OauthEndpoints,
    pub openapi_url: String,
    /// Connection keys send the current Unix time in `X-Backroom-Timestamp`, within this
    /// many seconds of the server's clock.
    pub timestamp_window_secs: i64,
}

#[derive(Serialize, ToSchema)]
pub struct OauthEndpoints {
    /// Who answers: the `iss` every authorization response carries (RFC 9207).
    pub issuer: String,
    pub authorization_response_iss_parameter_supported: bool,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub revocation_endpoint: String,
    pub grant_types_supported: Vec<&'static str>,
    pub code_challenge_methods_supported: Vec<&'static str>,
    pub scopes_supported: Vec<&'static str>,
}

/// Which shop this is and how to sign in to its API.
#[utoipa::path(get, path = "/discover", tag = "connection", responses((status = 200, body = Discover)))]
pub async fn discover(State(state): State<AppState>) -> Result<Json<Discover>, ApiError> {
    let store = backend::settings::get(&state.services.db).await?;
    let base = state.services.base_url.trim_end_matches('/');
    let settings = state.services.security.get().await;
    Ok(Json(Discover {
        store_name: store.name,
        api_version: "v1",
        backroom_version: env!("CARGO_PKG_VERSION"),
        auth_methods: vec!["connection_key", "app_password", "oauth2"],
        oauth: OauthEndpoints {
            issuer: base.to_owned(),
            authorization_response_iss_parameter_supported: true,
            authorization_endpoint: format!("{base}/oauth/authorize"),
            token_endpoint: format!("{base}/oauth/token"),
            revocation_endpoint: format!("{base}/oauth/revoke"),
            grant_types_supported: vec!["authorization_code", "refresh_token"],
            code_challenge_methods_supported: vec!["S256"],
            scopes_supported: vec!["read", "write"],
        },
        openapi_url: format!("{base}/api/v1/openapi.json"),
        timestamp_window_secs: settings.timestamp_window_secs,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    pub user: MeUser,
    pub credential: MeCredential,
}

#[derive(Serialize, ToSchema)]
pub struct MeUser {
    pub id: i64,
    pub email: String,
    pub name: String,
    /// `owner`, `admin`, `manager` or `agent`.
    pub role: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct MeCredential {
    /// `connection_key`, `app_password` or `oauth_token`.
    pub kind: &'static str,
    pub id: i64,
    /// The key's or password's label; for OAuth, the app's name.
    pub label: String,
    /// `read` or `write`.
    pub scope: &'static str,
    /// Unix seconds; absent when it never expires.
    pub expires_at: Option<i64>,
}

/// The credential's user, role, scope and expiry.
#[utoipa::path(get, path = "/me", tag = "connection", responses((status = 200, body = Me)))]
pub async fn me(Authenticated(caller): Authenticated) -> Json<Me> {
    Json(Me {
        user: MeUser {
            id: caller.user.id,
            email: caller.user.email,
            name: caller.user.name,
            role: caller.user.role.as_str(),
        },
        credential: MeCredential {
            kind: caller.kind.as_str(),
            id: caller.credential_id,
            label: caller.label,
            scope: caller.scope.as_str(),
            expires_at: caller.expires_at,
        },
    })
}

#[derive(Serialize, ToSchema)]
pub struct Status {
    pub store_name: String,
    pub backroom_version: &'static str,
    pub database: DatabaseStatus,
    pub jobs: JobsStatus,
    /// The server's clock, Unix seconds.
    pub server_time: i64,
    /// The server's clock minus the `X-Backroom-Timestamp` sent, when one was; a value
    /// near the timestamp window means the device's clock needs setting.
    pub time_skew_secs: Option<i64>,
    pub panel_urls: PanelUrls,
}

#[derive(Serialize, ToSchema)]
pub struct DatabaseStatus {
    /// `sqlite` or `postgres`.
    pub kind: &'static str,
    pub healthy: bool,
    pub latency_ms: f64,
}

#[derive(Serialize, ToSchema)]
pub struct JobsStatus {
    /// `ok`, `behind` (due jobs wait more than 5 minutes: is a worker running?) or
    /// `failing` (some jobs gave up; see the panel's Jobs page).
    pub health: &'static str,
    pub due: i64,
    pub scheduled: i64,
    pub running: i64,
    pub dead: i64,
    pub oldest_due_secs: i64,
}

#[derive(Serialize, ToSchema)]
pub struct PanelUrls {
    pub dashboard: String,
    pub orders: String,
    pub support: String,
    pub access: String,
    pub audit: String,
    pub jobs: String,
    pub settings: String,
}

/// The connection test: the shop, Backroom's version, the database and the job queue.
#[utoipa::path(get, path = "/system/status", tag = "connection", responses((status = 200, body = Status)))]
pub async fn status(
    State(state): State<AppState>,
    Authenticated(_): Authenticated,
    headers: HeaderMap,
) -> Result<Json<Status>, ApiError> {
    let started = std::time::Instant::now();
    let healthy = state.services.db.is_ready().await;
    let latency_ms = (started.elapsed().as_secs_f64() * 10_000.0).round() / 10.0;
    let store = backend::settings::get(&state.services.db).await?;
    let queue = backend::jobs::health(&state.services.db).await?;
    let server_time = now();
    let time_skew_secs = headers
        .get("x-backroom-timestamp")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .map(|sent| server_time - sent);
    let base = state.services.base_url.trim_end_matches('/');
    let page = |path: &str| format!("{base}/admin{path}");
    Ok(Json(Status {
        store_name: store.name,
        backroom_version: env!("CARGO_PKG_VERSION"),
        database: DatabaseStatus {
            kind: match state.services.db.backend() {
                Backend::Sqlite => "sqlite",
                Backend::Postgres => "postgres",
            },
            healthy,
            latency_ms,
        },
        jobs: JobsStatus {
            health: if queue.dead > 0 {
                "failing"
            } else if queue.oldest_due_secs > 300 {
                "behind"
            } else {
                "ok"
            },
            due: queue.due,
            scheduled: queue.scheduled,
            running: queue.running,
            dead: queue.dead,
            oldest_due_secs: queue.oldest_due_secs,
        },
        server_time,
        time_skew_secs,
        panel_urls: PanelUrls {
            dashboard: page(""),
            orders: page("/orders"),
            support: page("/support"),
            access: page("/access"),
            audit: page("/audit"),
            jobs: page("/jobs"),
            settings: page("/settings"),
        },
    }))
}
