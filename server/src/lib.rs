//! The `backroom` server: configuration in, an axum application out — the panel (Leptos,
//! server-rendered and hydrated), health checks, and the middleware every request passes.

// Leptos views nest deeply in their types; the panel's largest pages need more than the
// default depth when the server crate lays them out.
#![recursion_limit = "256"]

pub mod api;
mod audit_export;
pub mod cli;
mod client_ip;
mod connections;
mod cross_origin;
mod health;
pub mod live;
mod metrics;
mod nul_characters;
mod oauth;
mod orders_export;
mod panel;
mod paths;
mod progress;
mod recovery_link;
mod reports_export;
mod security_headers;
mod storefront_cors;
mod support_page;
pub mod telemetry;
mod whatsapp_export;
mod whatsapp_webhook;
mod woo_webhook;

use std::{net::SocketAddr, path::PathBuf, sync::Arc};

use axum::{Router, extract::FromRef};
use backend::{access::security::SecurityCache, config::Config, jobs::Worker, services::Services};
use leptos::prelude::LeptosOptions;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::{
    limit::RequestBodyLimitLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};

/// Request bodies larger than this get 413; later parts raise it per route where needed.
pub const BODY_LIMIT: usize = 64 * 1024;

/// What every request handler can reach: the shop's services, and what only the HTTP
/// server keeps.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub services: Services,
    /// The API's rate limits, counted in this process.
    pub rates: Arc<api::rate_limit::RateLimits>,
    /// Set once the owner account exists (it never goes back).
    pub setup_done: Arc<std::sync::atomic::AtomicBool>,
    /// Tells open panel pages about new orders.
    pub live: Arc<live::LiveOrders>,
    /// The requests this process answered, for `/metrics`.
    pub requests: Arc<metrics::Requests>,
    /// Unset: no `/metrics`.
    pub metrics_token: Option<Arc<secrecy::SecretString>>,
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    services: Services,
    workers: Vec<Worker>,
    live: Arc<live::LiveOrders>,
}

impl Application {
    /// Binds the listener, then builds the services (opening and migrating the database,
    /// loading the master key) and the router.
    ///
    /// Fails with a message for the operator when any of those cannot be done.
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let listener = TcpListener::bind(config.addr)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.addr))?;
        let services =
            Services::build(&config, listener.local_addr()?).await.map_err(|e| anyhow::anyhow!(e.report()))?;
        backend::background::schedule_recurring(&services.db).await.map_err(|e| anyhow::anyhow!(e.report()))?;
        let rates = Arc::new(api::rate_limit::RateLimits::default());
        rates.share_through(services.db.clone());
        let state = AppState {
            leptos_options: leptos_options(),
            services: services.clone(),
            rates,
            setup_done: Arc::default(),
            live: live::LiveOrders::new(),
            requests: Arc::default(),
            metrics_token: config.metrics_token.clone().map(Arc::new),
        };
        let workers = services.workers();
        let live = state.live.clone();
        Ok(Application { listener, router: router(state), services, workers, live })
    }

    /// The services this application runs on (the tests reach the database and keys
    /// through them).
    pub fn services(&self) -> &Services {
        &self.services
    }

    /// This instance's copy of the security settings (tests change them without waiting
    /// for the refresh).
    pub fn security(&self) -> Arc<SecurityCache> {
        self.services.security.clone()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// Serves until `shutdown` completes; then stops taking connections, lets in-flight
    /// requests and jobs finish (or releases the jobs), and closes the database.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let stop = CancellationToken::new();
        tracing::info!(addr = %self.local_addr(), "Backroom is listening");
        let job_tasks: Vec<_> =
            self.workers.into_iter().map(|w| tokio::spawn(w.run_until_stopped(stop.child_token()))).collect();
        let db = self.services.db.clone();
        let watcher = tokio::spawn(self.live.clone().watch(db.clone()));
        let upkeep = self.services.runs_whatsapp_upkeep().then(|| {
            tokio::spawn(backend::whatsapp::upkeep::run_until_stopped(
                self.services.whatsapp.clone(),
                stop.child_token(),
            ))
        });
        let store_deliveries =
            tokio::spawn(backend::woo::apply_until_stopped(self.services.woo.clone(), stop.child_token()));
        let credentials = tokio::spawn(backend::access::authenticate::share_across_instances(
            self.services.credentials.clone(),
            db.clone(),
            stop.child_token(),
        ));
        let live = self.live;
        // Open event streams end when the shutdown begins; the server then waits only for
        // requests that end by themselves.
        let shutdown = async move {
            shutdown.await;
            live.close();
        };
        let limits = connections::Limits::for_this_process();
        connections::serve(self.listener, self.router, self.services.clone(), limits, shutdown).await;
        stop.cancel();
        let _ = watcher.await;
        if let Some(upkeep) = upkeep {
            let _ = upkeep.await;
        }
        let _ = store_deliveries.await;
        let _ = credentials.await;
        for task in job_tasks {
            let _ = task.await;
        }
        db.close().await;
        tracing::info!("Backroom stopped");
        Ok(())
    }
}

fn leptos_options() -> LeptosOptions {
    let site_root = std::env::var("LEPTOS_SITE_ROOT").unwrap_or_else(|_| "target/site".into());
    LeptosOptions::builder().output_name("backroom").site_root(site_root).site_pkg_dir("pkg").build()
}

fn router(state: AppState) -> Router {
    let site_root = PathBuf::from(state.leptos_options.site_root.as_ref());
    let (api, _) = api::router(state.clone());
    // Bodies are small everywhere but where a store delivers its orders.
    let everything_else = Router::new()
        .merge(health::router())
        .merge(api)
        .merge(oauth::router(state.clone()))
        .merge(audit_export::router())
        .merge(orders_export::router())
        .merge(reports_export::router())
        .merge(live::router())
        .merge(support_page::router())
        .merge(whatsapp_webhook::router())
        .merge(whatsapp_export::router())
        .merge(recovery_link::router())
        .merge(panel::router(state.clone()))
        .layer(axum::middleware::from_fn_with_state(state.clone(), nul_characters::refuse))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT));
    let store_deliveries = woo_webhook::router().layer(RequestBodyLimitLayer::new(woo_webhook::BODY_LIMIT));
    Router::new()
        .merge(everything_else)
        .merge(store_deliveries)
        .merge(metrics::router())
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), metrics::record))
        .fallback_service(tower_http::services::ServeDir::new(site_root))
        .layer(axum::middleware::from_fn_with_state(state.clone(), panel::two_factor_first))
        .layer(axum::middleware::from_fn(panel::resolve_session))
        .layer(axum::middleware::from_fn_with_state(app::session::layer(&state.services), panel::sessions_where_used))
        .layer(axum::middleware::from_fn(cross_origin::refuse_cross_origin_writes))
        .layer(axum::middleware::from_fn_with_state(state.clone(), storefront_cors::allow_storefront))
        .layer(axum::middleware::from_fn_with_state(state.clone(), client_ip::resolve))
        .layer(axum::middleware::from_fn(api::error::uniform_errors))
        .layer(axum::middleware::from_fn(close_after_refused_body))
        .layer(axum::middleware::from_fn(security_headers::add))
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(connections::BODY_TIMEOUT))
        // gzip for whoever asks (pages, the panel's WebAssembly, JSON); not for event
        // streams, images or tiny bodies (tower-http's default rules).
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// A body refused for its size is left unread, so the connection cannot carry another
/// request: say so (`Connection: close`), or a client that reuses it fails its next request.
async fn close_after_refused_body(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let mut response = next.run(req).await;
    if response.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        response.headers_mut().insert(axum::http::header::CONNECTION, axum::http::HeaderValue::from_static("close"));
    }
    response
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
    tracing::info!("shutting down: finishing in-flight requests and jobs");
}
