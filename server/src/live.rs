//! `/admin/live`: server-sent events that tell the panel when new orders arrive, so the
//! orders list and the dashboard show them without a reload.
//!
//! One watcher per process reads the newest order id once a second — whoever wrote the
//! order (this process, `backroom demo`, a later WooCommerce sync, another instance on the
//! same Postgres) — and every open stream hears about a change. A thousand open panels
//! cost one indexed query a second, not a thousand.

use std::{sync::Arc, time::Duration};

use app::{
    context::SignedIn,
    live::{LIVE_PATH, NEW_ORDERS_EVENT},
};
use axum::{
    Extension, Router,
    extract::State,
    http::StatusCode,
    response::{
        IntoResponse, Response,
        sse::{Event, KeepAlive, Sse},
    },
    routing::get,
};
use backend::db::Db;
use futures_util::stream;
use tokio::{sync::watch, time::Instant};
use tokio_util::sync::CancellationToken;

use crate::AppState;

/// How often the watcher looks for new orders.
const POLL_EVERY: Duration = Duration::from_secs(1);
/// A stream ends after this long and the browser reconnects, so a stream never outlives
/// the session that opened it by more than this.
const STREAM_LIFETIME: Duration = Duration::from_secs(10 * 60);

/// The newest order id as last seen, and the signal that the server is stopping (open
/// streams end then, or a graceful shutdown would wait for them forever).
pub struct LiveOrders {
    latest: watch::Sender<i64>,
    closing: CancellationToken,
}

impl LiveOrders {
    pub fn new() -> Arc<LiveOrders> {
        Arc::new(LiveOrders { latest: watch::Sender::new(0), closing: CancellationToken::new() })
    }

    /// Ends every open stream and the watcher.
    pub fn close(&self) {
        self.closing.cancel();
    }

    /// Reads the newest order id now and then every [`POLL_EVERY`] until closed. A failed
    /// read is logged and retried on the next tick.
    pub async fn watch(self: Arc<Self>, db: Db) {
        loop {
            match backend::orders::list::newest_id(&db).await {
                Ok(id) => {
                    self.latest.send_if_modified(|seen| {
                        let newer = id > *seen;
                        if newer {
                            *seen = id;
                        }
                        newer
                    });
                }
                Err(e) => tracing::warn!(error = %e.report(), "live updates could not read the newest order"),
            }
            tokio::select! {
                () = self.closing.cancelled() => return,
                () = tokio::time::sleep(POLL_EVERY) => {}
            }
        }
    }
}

pub fn router() -> Router<AppState> {
    Router::new().route(LIVE_PATH, get(events))
}

/// The stream for one open panel page: an `orders` event (data: the newest order id) each
/// time newer orders arrive. Signed-out requests get 401, which stops `EventSource` from
/// retrying.
async fn events(State(state): State<AppState>, signed_in: Option<Extension<SignedIn>>) -> Response {
    if signed_in.and_then(|Extension(SignedIn(user))| user).is_none() {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let mut latest = state.live.latest.subscribe();
    // Only orders that arrive from now on are news to this page.
    latest.borrow_and_update();
    let closing = state.live.closing.clone();
    let ends = Instant::now() + STREAM_LIFETIME;
    let events = stream::unfold((latest, closing), move |(mut latest, closing)| async move {
        tokio::select! {
            () = closing.cancelled() => None,
            () = tokio::time::sleep_until(ends) => None,
            changed = latest.changed() => {
                changed.ok()?;
                let id = *latest.borrow_and_update();
                let event = Event::default().event(NEW_ORDERS_EVENT).data(id.to_string());
                Some((Ok::<_, std::convert::Infallible>(event), (latest, closing)))
            }
        }
    });
    Sse::new(events).keep_alive(KeepAlive::default()).into_response()
}
