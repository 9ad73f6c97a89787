//! The WooCommerce connection: the store is the source of truth, Backroom is where people
//! work. Connecting checks the store and its key ([`connection`]), the import brings its
//! orders, products, customers and coupons ([`import`]), webhooks are fast hints that
//! something changed ([`webhooks`]), and a periodic reconcile by `modified_after` with an
//! id-set check for deletions is what keeps the copy right ([`reconcile`]). Everything read
//! from the store is written by [`apply`]: a newer `date_modified_gmt` wins, an older or
//! equal one changes nothing. What people do in Backroom to the store's orders is written
//! back to it ([`write_back`]).

pub mod apply;
pub mod client;
pub mod connection;
pub mod import;
pub mod model;
pub mod oauth1;
pub mod reconcile;
pub mod webhooks;
pub mod write_back;

use std::{sync::Arc, time::Duration};

use secrecy::SecretString;
use serde::Serialize;
use sqlx::Row;
use tokio_util::sync::CancellationToken;

use crate::{Result, db::Db, intake::Intake, orders::events::Subscribers, recent::Recent, sealed::Sealer};

pub const IMPORT_JOB: &str = "woo.import";
pub const RECONCILE_JOB: &str = "woo.reconcile";
pub const FETCH_JOB: &str = "woo.fetch";
/// The job kinds the WooCommerce worker takes (and no other worker does): they wait on the
/// store, and must neither hold up email nor be held up by it.
pub const JOB_KINDS: [&str; 4] = [IMPORT_JOB, RECONCILE_JOB, FETCH_JOB, write_back::WRITE_JOB];

/// How often stored webhook deliveries are looked for, and how many are applied at once.
const APPLY_EVERY: Duration = Duration::from_millis(200);
const APPLY_BATCH: i64 = 500;

/// The connection's services: the database, the sealer for its secrets, the HTTP client,
/// the order events it publishes for changes made in the store, the URL its webhooks
/// deliver to, and the intake of those deliveries.
#[derive(Clone)]
pub struct Woo {
    pub db: Db,
    pub sealer: Sealer,
    pub http: reqwest::Client,
    pub events: Arc<Subscribers>,
    /// Backroom's public URL: the store delivers webhooks to `{public_url}/webhooks/woocommerce`.
    pub public_url: String,
    pub intake: Intake,
    /// The webhook secret as last read, for a few seconds: a burst of deliveries does not
    /// read and open it each time.
    secret_cache: Recent<SecretString>,
    /// Wakes this process's WooCommerce worker: a change to write was committed.
    pub wake: Arc<tokio::sync::Notify>,
}

/// How long the webhook secret is reused before it is read again.
const SECRET_CACHE: Duration = Duration::from_secs(5);

impl Woo {
    /// `timeout`: how long a request to the store may take; `wake`: what wakes its worker.
    pub fn new(
        db: Db,
        sealer: Sealer,
        events: Arc<Subscribers>,
        public_url: String,
        timeout: Duration,
        wake: Arc<tokio::sync::Notify>,
    ) -> Woo {
        let intake = Intake::new(db.clone(), "woo_deliveries", &["received_at", "webhook_id", "topic", "body"]);
        Woo {
            db,
            sealer,
            http: client::http_client(timeout),
            events,
            public_url,
            intake,
            secret_cache: Recent::new(SECRET_CACHE),
            wake,
        }
    }

    /// The secret the store signs deliveries with; `None` while no store is connected.
    pub async fn webhook_secret(&self) -> Result<Option<SecretString>> {
        self.secret_cache.get(|| connection::webhook_secret(self)).await
    }

    /// Forgets the webhook secret read last (the connection changed).
    pub fn forget_secret(&self) {
        self.secret_cache.forget();
    }

    /// Where the store delivers its webhooks.
    pub fn delivery_url(&self) -> String {
        format!("{}/webhooks/woocommerce", self.public_url.trim_end_matches('/'))
    }
}

impl std::fmt::Debug for Woo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Woo").field("public_url", &self.public_url).finish_non_exhaustive()
    }
}

/// Applies stored webhook deliveries as they arrive, until `stop`: the deliveries are
/// stored by whichever instance received them, and applied here within a fraction of a
/// second.
pub async fn apply_until_stopped(woo: Woo, stop: CancellationToken) {
    loop {
        let applied = match webhooks::apply_pending(&woo, APPLY_BATCH).await {
            Ok(applied) => applied,
            Err(e) => {
                tracing::error!(error = %e.report(), "stored WooCommerce deliveries could not be applied");
                0
            }
        };
        if applied as i64 >= APPLY_BATCH {
            continue;
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(APPLY_EVERY) => {}
        }
    }
}

/// The connection at a glance: what `backroom woo status` prints and the connection page
/// shows.
#[derive(Clone, Debug, Serialize)]
pub struct Status {
    /// `connected` or `disconnected`.
    pub state: String,
    pub url: String,
    pub auth: Option<String>,
    pub store: connection::StoreFacts,
    pub connected_at: Option<i64>,
    pub counts: Counts,
    pub import: import::Progress,
    pub last_delivery_at: Option<i64>,
    pub deliveries_waiting: i64,
    pub last_reconcile_at: Option<i64>,
    /// How far behind the store the last reconcile found Backroom, in seconds.
    pub reconcile_lag_secs: Option<i64>,
    /// Changes reconciles found that no webhook had brought.
    pub reconcile_caught: i64,
    pub reconcile_minutes: i64,
    /// Requests at once while importing.
    pub concurrency: i64,
    pub webhooks: Vec<WebhookStatus>,
    pub last_error: Option<String>,
    pub last_error_at: Option<i64>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Counts {
    pub orders: i64,
    pub products: i64,
    pub variations: i64,
    pub customers: i64,
    pub coupons: i64,
}

#[derive(Clone, Debug, Serialize)]
pub struct WebhookStatus {
    pub id: i64,
    pub topic: String,
    pub status: String,
    pub checked_at: Option<i64>,
    pub reactivations: i64,
}

pub async fn status(woo: &Woo) -> Result<Status> {
    let stored = connection::stored(woo.db.pool()).await?;
    let count = |table: &'static str| async move {
        sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
            .fetch_one(woo.db.pool())
            .await
    };
    let counts = Counts {
        orders: count("orders").await?,
        products: count("products").await?,
        variations: count("product_variations").await?,
        customers: count("customers").await?,
        coupons: count("coupons").await?,
    };
    let waiting: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM woo_deliveries WHERE applied_at IS NULL")
        .fetch_one(woo.db.pool())
        .await?;
    let webhooks = sqlx::query("SELECT id, topic, status, checked_at, reactivations FROM woo_webhooks ORDER BY id")
        .fetch_all(woo.db.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(WebhookStatus {
                id: r.try_get("id")?,
                topic: r.try_get("topic")?,
                status: r.try_get("status")?,
                checked_at: r.try_get("checked_at")?,
                reactivations: r.try_get("reactivations")?,
            })
        })
        .collect::<Result<_>>()?;
    Ok(Status {
        state: if stored.connected { "connected" } else { "disconnected" }.into(),
        url: stored.url,
        auth: stored.auth.map(|a| a.as_str().to_owned()),
        store: stored.facts,
        connected_at: stored.connected_at,
        counts,
        import: import::progress(woo).await?,
        last_delivery_at: stored.last_delivery_at,
        deliveries_waiting: waiting,
        last_reconcile_at: stored.last_reconcile_at,
        reconcile_lag_secs: stored.last_reconcile_lag,
        reconcile_caught: stored.reconcile_caught,
        reconcile_minutes: stored.reconcile_minutes,
        concurrency: stored.concurrency,
        webhooks,
        last_error: stored.last_error,
        last_error_at: stored.last_error_at,
    })
}
