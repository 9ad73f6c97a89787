//! `/metrics`, in Prometheus' text format: the requests this process answered, by route and
//! status, with latency histograms; and what the database says at the scrape (the job
//! queue, the mail outbox, the store's deliveries and reconcile, the pools:
//! [`backend::metrics`]). Off unless `BACKROOM_METRICS_TOKEN` is set; then it answers only
//! to that token as a bearer (401 otherwise), so it can sit on the public port.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Mutex,
    time::Instant,
};

use axum::{
    Router,
    extract::{MatchedPath, Request, State},
    http::{HeaderMap, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
};
use backend::metrics::{Family, Sample};
use secrecy::ExposeSecret;

use crate::AppState;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// The requests this process answered, by matched route (a route's template, never the
/// path as sent, so a client cannot add series) and method. Sorted by route, so a
/// request's lookup borrows its route instead of copying it.
#[derive(Default)]
pub struct Requests(Mutex<BTreeMap<String, HashMap<Method, Series>>>);

#[derive(Default)]
struct Series {
    statuses: BTreeMap<u16, u64>,
    /// Requests at or under each bound (not yet cumulative).
    buckets: [u64; BUCKETS.len()],
    seconds: f64,
    count: u64,
}

impl Requests {
    fn observe(&self, method: Method, route: &str, status: StatusCode, seconds: f64) {
        let mut routes = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if !routes.contains_key(route) {
            routes.insert(route.to_owned(), HashMap::new());
        }
        let series = routes.get_mut(route).expect("inserted above").entry(method).or_default();
        *series.statuses.entry(status.as_u16()).or_default() += 1;
        if let Some(bucket) = BUCKETS.iter().position(|bound| seconds <= *bound) {
            series.buckets[bucket] += 1;
        }
        series.seconds += seconds;
        series.count += 1;
    }

    fn families(&self) -> [Family; 2] {
        let routes = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let sorted = routes.iter().flat_map(|(route, methods)| {
            let mut methods: Vec<_> = methods.iter().collect();
            methods.sort_by_key(|(method, _)| method.as_str());
            methods.into_iter().map(move |(method, series)| (method, route, series))
        });
        let labels = |method: &Method, route: &str| vec![("method", method.to_string()), ("route", route.to_owned())];
        let mut counts = Vec::new();
        let mut latency = Vec::new();
        for (method, route, series) in sorted {
            for (status, count) in &series.statuses {
                let mut with_status = labels(method, route);
                with_status.push(("status", status.to_string()));
                counts.push(Sample::new(with_status, *count as f64));
            }
            let mut cumulative = 0;
            for (bound, count) in BUCKETS.iter().zip(series.buckets) {
                cumulative += count;
                let mut with_bound = labels(method, route);
                with_bound.push(("le", bound.to_string()));
                latency.push(Sample { suffix: "_bucket", labels: with_bound, value: cumulative as f64 });
            }
            let mut all = labels(method, route);
            all.push(("le", "+Inf".into()));
            latency.push(Sample { suffix: "_bucket", labels: all, value: series.count as f64 });
            latency.push(Sample { suffix: "_sum", labels: labels(method, route), value: series.seconds });
            latency.push(Sample { suffix: "_count", labels: labels(method, route), value: series.count as f64 });
        }
        [
            Family {
                name: "backroom_http_requests_total",
                help: "Requests answered by this process, by method, route and status.",
                kind: "counter",
                samples: counts,
            },
            Family {
                name: "backroom_http_request_duration_seconds",
                help: "How long this process took to answer, by method and route.",
                kind: "histogram",
                samples: latency,
            },
        ]
    }
}

/// Counts a request that matched a route (a route layer: it sees the route's template).
pub async fn record(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().cloned();
    let method = req.method().clone();
    let started = Instant::now();
    let response = next.run(req).await;
    if let Some(route) = route {
        state.requests.observe(method, route.as_str(), response.status(), started.elapsed().as_secs_f64());
    }
    response
}

pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(scrape))
}

async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(token) = &state.metrics_token else { return StatusCode::NOT_FOUND.into_response() };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !backend::access::secret::constant_time_eq(presented.as_bytes(), token.expose_secret().as_bytes()) {
        return (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer")], "the metrics token is needed\n")
            .into_response();
    }
    let mut out = String::new();
    for family in state.requests.families() {
        family.write(&mut out);
    }
    match backend::metrics::from_database(&state.services.db).await {
        Ok(families) => families.iter().for_each(|family| family.write(&mut out)),
        Err(e) => {
            tracing::warn!(error = %e.report(), "metrics: the database did not answer");
            Family::gauge(
                "backroom_db_up",
                "Whether the database answered this scrape.",
                vec![Sample::new(vec![], 0.0)],
            )
            .write(&mut out);
        }
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], out)
        .into_response()
}
