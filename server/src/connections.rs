//! Accepting connections so that no client can starve the others: at most
//! [`Limits::max_connections`] open at once (kept below the process's file limit, so
//! Backroom can still open its database and files), at most [`Limits::per_address`] from
//! one address (trusted proxies aside), and a request's headers must arrive within
//! [`Limits::header_timeout`] (its body, [`BODY_TIMEOUT`]). On shutdown no new connection
//! is taken, idle ones close, and requests in flight finish.

use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{Extension, Router, body::Body, extract::ConnectInfo};
use backend::services::Services;
use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::{conn::auto::Builder, graceful::GracefulShutdown},
    service::TowerToHyperService,
};
use tokio::{net::TcpListener, sync::Semaphore};
use tower::{Layer, ServiceExt};

/// How long a request's body may take to arrive, once its headers have.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_connections: usize,
    pub per_address: usize,
    pub header_timeout: Duration,
}

impl Limits {
    /// What this machine allows: the file limit raised as far as it may be, less what
    /// the database pool, files and outgoing calls need.
    pub fn for_this_process() -> Limits {
        const RESERVED_FILES: usize = 256;
        let files = raise_file_limit();
        Limits {
            max_connections: files.saturating_sub(RESERVED_FILES).clamp(64, 50_000),
            per_address: 256,
            header_timeout: Duration::from_secs(10),
        }
    }
}

/// Raises the soft limit on open files to the hard one; returns the limit in force.
fn raise_file_limit() -> usize {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => usize::try_from(limit).unwrap_or(usize::MAX),
        Err(e) => {
            tracing::warn!(error = %e, "could not read the limit on open files; assuming 1024");
            1024
        }
    }
}

/// Open connections per address, for [`Limits::per_address`].
#[derive(Default)]
struct PerAddress(Mutex<HashMap<IpAddr, usize>>);

/// One connection counted against its address until dropped.
struct AddressSlot {
    counts: Arc<PerAddress>,
    ip: IpAddr,
}

impl PerAddress {
    fn take(counts: &Arc<PerAddress>, ip: IpAddr, limit: usize) -> Option<AddressSlot> {
        let mut map = counts.0.lock().unwrap_or_else(|e| e.into_inner());
        let open = map.entry(ip).or_default();
        if *open >= limit {
            return None;
        }
        *open += 1;
        Some(AddressSlot { counts: counts.clone(), ip })
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut map = self.counts.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(open) = map.get_mut(&self.ip) {
            *open -= 1;
            if *open == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then waits for the
/// connections to finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    services: Services,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let per_address = Arc::new(PerAddress::default());
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = open.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of files or a connection reset before it was taken: wait a
                    // moment rather than spin.
                    tracing::warn!(error = %e, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let slot = if crate::client_ip::is_trusted_proxy(&services, peer.ip()) {
            None
        } else {
            match PerAddress::take(&per_address, peer.ip(), limits.per_address) {
                Some(slot) => Some(slot),
                None => {
                    tracing::debug!(%peer, "refused a connection: too many open from this address");
                    continue;
                }
            }
        };
        // Pages stream out in several writes: without TCP_NODELAY, Nagle's algorithm holds
        // the later ones until the client's delayed ACK (about 40 ms on Linux).
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
        let service = Extension(ConnectInfo::<SocketAddr>(peer))
            .layer(router.clone())
            .map_request(|req: axum::http::Request<Incoming>| req.map(Body::new));
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let mut builder = Builder::new(TokioExecutor::new());
            builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
            let connection =
                builder.serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(service));
            if let Err(e) = watcher.watch(connection).await {
                tracing::trace!(error = %e, "connection ended with an error");
            }
            drop((permit, slot));
        });
    }
    drop(listener);
    graceful.shutdown().await;
}
