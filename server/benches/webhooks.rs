//! Webhook delivery: 500 role changes made through the role service (as the console and the
//! API make them), each one delivered as a signed POST to a receiver on loopback. Measures
//! the time from the start of each change's call until the receiver has its event (write,
//! commit, outbox read, lease, signing, HTTP round trip, progress write), and the delivery
//! throughput: the changes are made back to back, so deliveries pile up behind them.
//! SQLite in a temp dir, and PostgreSQL when ROSTER_BENCH_PG_URL is set.
//!
//!   cargo bench -p server --bench webhooks
//!   ROSTER_BENCH_PG_URL=postgres://... cargo bench -p server --bench webhooks
mod common;

use common::pct;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use app::backend::services::{roles, webhooks};
use app::backend::{Backend, Config, Ctx, SystemClock};
use app::domain::abilities::Ability;
use app::domain::ids::MEMBER_ROLE;
use app::domain::webhooks::WebhookInput;

const CHANGES: usize = 500;

async fn run(label: &str, url: &str) {
    let store = app::backend::store::open(url).await.expect("open");
    store.migrate().await.expect("migrate");
    let config = Config { secret_key: Some([3; 32]), allow_internal_urls: true, ..Default::default() };
    let b = Backend::new(store, config, Arc::new(SystemClock));
    b.load_access().await.expect("load");
    app::backend::events::spawn(&b);
    webhooks::spawn_dispatcher(&b);
    // The receiver notes when each event arrived, by the access version it carries.
    let arrived: Arc<Mutex<Vec<(i64, Instant)>>> = Arc::default();
    let sink = arrived.clone();
    let receiver = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: axum::body::Bytes| {
            let sink = sink.clone();
            async move {
                let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                sink.lock().expect("lock").push((v["version"].as_i64().unwrap_or(0), Instant::now()));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let hook_url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, receiver).await;
    });
    let cli = Ctx::cli();
    let input =
        WebhookInput { name: "bench".into(), url: hook_url, kinds: vec!["role".into()], orgs: vec![], enabled: true };
    webhooks::save(&b, &cli, None, input).await.expect("hook");
    // (the event hub reads from the newest event on: let it start)
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut started = Vec::with_capacity(CHANGES);
    let first = Instant::now();
    for i in 0..CHANGES {
        let at = Instant::now();
        roles::set_ability(&b, &cli, MEMBER_ROLE, Ability::RunBackups, i % 2 == 0).await.expect("change");
        started.push((b.access.version(), at));
    }
    let changes_done = first.elapsed();
    let deadline = Instant::now() + Duration::from_secs(120);
    while arrived.lock().expect("lock").len() < CHANGES {
        assert!(Instant::now() < deadline, "deliveries stalled");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let all_delivered = first.elapsed();
    let arrived = arrived.lock().expect("lock").clone();
    let mut latency: Vec<Duration> = started
        .iter()
        .filter_map(|(v, at)| arrived.iter().find(|(got, _)| got == v).map(|(_, t)| t.duration_since(*at)))
        .collect();
    latency.sort();
    let in_order = arrived.windows(2).all(|w| w[0].0 < w[1].0);
    println!(
        "| {label} | {:.0} | {:.0} | {:.1} | {:.1} | {:.1} | {} |",
        CHANGES as f64 / changes_done.as_secs_f64(),
        CHANGES as f64 / all_delivered.as_secs_f64(),
        pct(&latency, 0.5),
        pct(&latency, 0.95),
        pct(&latency, 1.0),
        if in_order { "yes" } else { "NO" },
    );
    b.stop_streams();
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    println!("| {CHANGES} role changes, back to back | changes/s | delivered/s (first change to last delivery) | change -> delivered p50 ms | p95 ms | max ms | in commit order |");
    println!("|---|---:|---:|---:|---:|---:|---|");
    run("SQLite", &format!("sqlite:{}", dir.path().join("bench.db").display())).await;
    if let Ok(url) = std::env::var("ROSTER_BENCH_PG_URL") {
        if !url.trim().is_empty() {
            run("PostgreSQL", &url).await;
        }
    }
}
