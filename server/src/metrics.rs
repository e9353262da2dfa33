//! Prometheus metrics, served on a separate management address (`--metrics-addr`), never on
//! the public one: requests by route and status with a latency histogram (recorded here), the
//! counts the services record (`app::backend::metrics`: sign-ins by outcome, throttled
//! attempts, the change feed's lag and reconnections), and gauges read when scraped (the access
//! model's version, the database pool, whether the change feed listens).
use std::sync::OnceLock;
use std::time::Instant;

use app::backend::Backend;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

const REQUESTS: &str = "roster_http_requests_total";
const LATENCY: &str = "roster_http_request_duration_seconds";
/// Recorded by `app::backend::metrics::change_feed_lag`.
const FEED_LAG: &str = "roster_change_feed_lag_seconds";

/// Latency buckets (seconds): pages and API calls take a few milliseconds; sign-ins hash.
const BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// The process's recorder, installed on first use (one per process: tests build several
/// routers, and a second installation would fail).
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = || {
            let b = PrometheusBuilder::new();
            b.set_buckets_for_metric(Matcher::Full(LATENCY.into()), BUCKETS)
                .and_then(|b| b.set_buckets_for_metric(Matcher::Full(FEED_LAG.into()), BUCKETS))
                .unwrap_or_else(|_| PrometheusBuilder::new())
        };
        match builder().install_recorder() {
            Ok(h) => h,
            // (another recorder is installed: render an empty one rather than fail)
            Err(_) => builder().build_recorder().handle(),
        }
    })
}

/// Counts every answer by route template (bounded: never the raw path), method and status.
pub async fn track(req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string());
    let route = route.unwrap_or_else(|| "unmatched".to_string());
    let method = req.method().as_str().to_string();
    let started = Instant::now();
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    metrics::counter!(REQUESTS, "route" => route.clone(), "method" => method.clone(), "status" => status).increment(1);
    metrics::histogram!(LATENCY, "route" => route, "method" => method).record(started.elapsed().as_secs_f64());
    res
}

/// `GET /metrics` on the management address.
pub async fn render(State(b): State<Backend>) -> Response {
    metrics::gauge!("roster_access_version").set(b.access.version() as f64);
    if b.store.has_change_feed() {
        metrics::gauge!("roster_change_feed_connected").set(if b.feed.connected() { 1.0 } else { 0.0 });
    }
    let pool = b.store.pool_use();
    metrics::gauge!("roster_db_pool_connections", "state" => "idle").set(pool.idle as f64);
    metrics::gauge!("roster_db_pool_connections", "state" => "in_use").set(pool.open.saturating_sub(pool.idle) as f64);
    let body = handle().render();
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

/// The management router: `/metrics` only.
pub fn router(backend: Backend) -> axum::Router {
    handle();
    axum::Router::new().route("/metrics", axum::routing::get(render)).with_state(backend)
}
