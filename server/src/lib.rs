//! The `backroom` server: configuration in, an axum application out — the panel (Leptos,
//! server-rendered and hydrated), health checks, and the middleware every request passes.

// Leptos views nest deeply in their types; the panel's largest pages need more than the
// default depth when the server crate lays them out.
#![recursion_limit = "256"]

pub mod api;
mod audit_export;
pub mod cli;
mod client_ip;
mod cross_origin;
mod health;
pub mod live;
mod oauth;
mod orders_export;
mod panel;
mod progress;
mod recovery_link;
mod reports_export;
mod storefront_cors;
mod support_page;
pub mod telemetry;
mod whatsapp_export;
mod whatsapp_webhook;

use std::{net::SocketAddr, path::PathBuf, sync::Arc};

use axum::{Router, extract::FromRef};
use backend::{
    access::{secret::SecretHasher, security::SecurityCache},
    background,
    config::Config,
    db::Db,
    jobs::{Kinds, Worker},
    master_key::MasterKey,
    sessions::SessionPolicy,
};
use leptos::prelude::LeptosOptions;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::{
    limit::RequestBodyLimitLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};

/// How often an idle WhatsApp worker looks for a due message.
const WHATSAPP_IDLE_POLL: std::time::Duration = std::time::Duration::from_millis(200);
/// How many due WhatsApp jobs a worker takes and runs at once.
const WHATSAPP_BATCH: usize = 16;

/// Request bodies larger than this get 413; later parts raise it per route where needed.
pub const BODY_LIMIT: usize = 64 * 1024;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub panel: app::context::PanelContext,
    pub db: Db,
    pub api: api::guard::ApiContext,
    pub trusted_proxies: Arc<Vec<ipnet::IpNet>>,
    /// Set once the owner account exists (it never goes back).
    pub setup_done: Arc<std::sync::atomic::AtomicBool>,
    /// Tells open panel pages about new orders.
    pub live: Arc<live::LiveOrders>,
}

/// Opens the configured database and applies its migrations.
pub async fn open_database(config: &Config) -> backend::Result<Db> {
    let db = Db::connect(secrecy::ExposeSecret::expose_secret(&config.database_url)).await?;
    db.migrate().await?;
    Ok(db)
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    db: Db,
    security: Arc<SecurityCache>,
    workers: Vec<Worker>,
    live: Arc<live::LiveOrders>,
    /// Applies WhatsApp webhook deliveries and matches new orders to carts (when this
    /// process sends WhatsApp messages).
    whatsapp_upkeep: Option<backend::whatsapp::WhatsApp>,
}

impl Application {
    /// Opens the database (migrating it), loads the master key, binds the listener.
    ///
    /// Fails with a message for the operator when any of those cannot be done.
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let db = open_database(&config).await?;
        // Loaded now so a missing or unreadable key stops the start, not a later request.
        let master_key = MasterKey::load_or_create(&config)?;
        let hasher = SecretHasher::new(&master_key);
        let sealer = backend::sealed::Sealer::new(&master_key);
        let accounting = backend::accounting::Accounting::new(db.clone(), sealer.clone(), config.accounting_timeout);
        let links = backend::whatsapp::link::Signer::from_master(&master_key);
        let security = SecurityCache::load(db.clone()).await?;
        let listener = TcpListener::bind(config.addr)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.addr))?;
        let sessions = SessionPolicy {
            idle_timeout: config.session_idle_timeout,
            absolute_timeout: config.session_absolute_timeout,
        };
        let transport = backend::mail::transport::Transport::from_config(&config)?;
        let store = backend::settings::get(&db).await?;
        let base_url = store.public_url.unwrap_or_else(|| match &config.public_url {
            Some(url) => url.clone(),
            None => format!("http://{}", listener.local_addr().map(|a| a.to_string()).unwrap_or_default()),
        });
        let state = AppState {
            leptos_options: leptos_options(),
            panel: app::context::PanelContext {
                db: db.clone(),
                sessions,
                secure_cookies: base_url.starts_with("https://"),
                base_url: base_url.clone().into(),
                hasher: hasher.clone(),
                security: security.clone(),
                mail_delivery: transport.describe().into(),
                accounting: accounting.clone(),
                whatsapp: backend::whatsapp::WhatsApp::new(
                    db.clone(),
                    sealer,
                    links,
                    base_url.clone(),
                    config.whatsapp_timeout,
                    config.whatsapp_short_delays,
                ),
            },
            db: db.clone(),
            api: api::guard::ApiContext { hasher, security, rates: Arc::default(), credentials: Arc::default() },
            trusted_proxies: Arc::new(config.trusted_proxies.clone()),
            setup_done: Arc::default(),
            live: live::LiveOrders::new(),
        };
        background::schedule_recurring(&db).await?;
        let whatsapp = state.panel.whatsapp.clone();
        let registry = background::registry(db.clone(), sessions, transport, accounting, whatsapp.clone());
        // Sending to the ledger and to Meta waits on remote services: each has workers of
        // its own, so it neither holds up email and clean-up nor is held up by them.
        // WhatsApp's look for due messages often, so a due one leaves within a second, and
        // take them a batch at a time, so a thousand carts due at once go in a second too.
        let (accounting_kinds, whatsapp_kinds) = (backend::accounting::JOB_KINDS, backend::whatsapp::JOB_KINDS);
        let workers = (0..config.job_workers)
            .map(|_| Worker::new(db.clone(), registry.clone()).with_kinds(Kinds::AllBut([accounting_kinds, whatsapp_kinds].concat())))
            .chain((0..config.accounting_concurrency).map(|_| Worker::new(db.clone(), registry.clone()).with_kinds(Kinds::Only(accounting_kinds.to_vec()))))
            .chain((0..config.whatsapp_concurrency).map(|_| {
                Worker::new(db.clone(), registry.clone())
                    .with_kinds(Kinds::Only(whatsapp_kinds.to_vec()))
                    .with_idle_poll(WHATSAPP_IDLE_POLL)
                    .with_batch(WHATSAPP_BATCH)
            }))
            .collect();
        let security = state.api.security.clone();
        let live = state.live.clone();
        let whatsapp_upkeep = (config.whatsapp_concurrency > 0).then_some(whatsapp);
        Ok(Application { listener, router: router(state), db, security, workers, live, whatsapp_upkeep })
    }

    /// This instance's copy of the security settings (tests change them without waiting
    /// for the refresh).
    pub fn security(&self) -> Arc<SecurityCache> {
        self.security.clone()
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
        let watcher = tokio::spawn(self.live.clone().watch(self.db.clone()));
        let upkeep = self.whatsapp_upkeep.map(|w| tokio::spawn(backend::whatsapp::upkeep::run_until_stopped(w, stop.child_token())));
        let service = self.router.into_make_service_with_connect_info::<SocketAddr>();
        let live = self.live;
        // Open event streams end when the shutdown begins; the server then waits only for
        // requests that end by themselves.
        let shutdown = async move {
            shutdown.await;
            live.close();
        };
        // Pages stream out in several writes: without TCP_NODELAY, Nagle's algorithm holds
        // the later ones until the client's delayed ACK (about 40 ms on Linux).
        let listener = axum::serve::ListenerExt::tap_io(self.listener, |stream| {
            if let Err(e) = stream.set_nodelay(true) {
                tracing::debug!(error = %e, "could not set TCP_NODELAY");
            }
        });
        let serving = axum::serve(listener, service).with_graceful_shutdown(shutdown).await;
        stop.cancel();
        let _ = watcher.await;
        if let Some(upkeep) = upkeep {
            let _ = upkeep.await;
        }
        for task in job_tasks {
            let _ = task.await;
        }
        self.db.close().await;
        tracing::info!("Backroom stopped");
        serving.map_err(Into::into)
    }
}

fn leptos_options() -> LeptosOptions {
    let site_root = std::env::var("LEPTOS_SITE_ROOT").unwrap_or_else(|_| "target/site".into());
    LeptosOptions::builder().output_name("backroom").site_root(site_root).site_pkg_dir("pkg").build()
}

fn router(state: AppState) -> Router {
    let site_root = PathBuf::from(state.leptos_options.site_root.as_ref());
    let (api, _) = api::router(state.clone());
    Router::new()
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
        .fallback_service(tower_http::services::ServeDir::new(site_root))
        .layer(axum::middleware::from_fn_with_state(state.clone(), panel::resolve_session))
        .layer(axum::middleware::from_fn(cross_origin::refuse_cross_origin_writes))
        .layer(axum::middleware::from_fn_with_state(state.clone(), storefront_cors::allow_storefront))
        .layer(axum::middleware::from_fn_with_state(state.clone(), client_ip::resolve))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(axum::middleware::from_fn(api::error::uniform_errors))
        .layer(axum::middleware::from_fn(close_after_refused_body))
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
async fn close_after_refused_body(req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
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
