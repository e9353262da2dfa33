//! Change propagation between two instances on one PostgreSQL: 200 role changes made on
//! instance A (the role service, as the console and the API call it); for each, the time from
//! the start of A's call (so the write and its commit are included: an upper bound) until
//! instance B has the change in force in its access model, and until B's live event stream
//! (the broadcast behind `/api/v1/events`) announces it; beside them, A's call alone. Prints
//! p50/p95/max as a Markdown table. Without the feed, B would only learn of a change
//! from its once-a-second poll.
//!
//!   ROSTER_BENCH_PG_URL=postgres://... cargo bench -p server --bench change_feed
//!   (without it, a throwaway cluster is started with scripts/postgres.sh and stopped after)
mod common;

use common::{pct, postgres_sh};
use std::time::{Duration, Instant};

use app::backend::services::roles;
use app::backend::{Backend, Config, Ctx, SystemClock};
use app::domain::abilities::Ability;
use app::domain::ids::MEMBER_ROLE;

const CHANGES: usize = 200;

async fn instance(url: &str) -> Backend {
    let store = app::backend::store::open(url).await.expect("open");
    store.migrate().await.expect("migrate");
    let config = Config { secret_key: Some([3; 32]), ..Default::default() };
    let b = Backend::new(store, config, std::sync::Arc::new(SystemClock));
    b.load_access().await.expect("load");
    app::backend::feed::spawn_listener(&b);
    b
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (url, own_cluster) = match std::env::var("ROSTER_BENCH_PG_URL") {
        Ok(u) if !u.trim().is_empty() => (u, false),
        _ => (postgres_sh("start", dir.path()), true),
    };
    let a = instance(&url).await;
    let b = instance(&url).await;
    while !(a.feed.connected() && b.feed.connected()) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut events = b.access.subscribe();
    let cli = Ctx::cli();
    let (mut on_a, mut in_model, mut on_stream) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..CHANGES {
        let started = Instant::now();
        roles::set_ability(&a, &cli, MEMBER_ROLE, Ability::RunBackups, i % 2 == 0).await.expect("change");
        on_a.push(started.elapsed());
        let version = a.access.version();
        while b.access.version() < version {
            tokio::task::yield_now().await;
        }
        in_model.push(started.elapsed());
        loop {
            match events.recv().await {
                Ok(v) if v >= version => break,
                Ok(_) => {}
                Err(e) => panic!("event stream: {e}"),
            }
        }
        on_stream.push(started.elapsed());
    }
    for d in [&mut on_a, &mut in_model, &mut on_stream] {
        d.sort();
    }
    println!("| {CHANGES} role changes, from the start of A's call | p50 ms | p95 ms | max ms |");
    println!("|---|---:|---:|---:|");
    for (what, d) in [
        ("A's call returns (write, commit, A's own model)", &on_a),
        ("in force in B's access model", &in_model),
        ("announced on B's event stream", &on_stream),
    ] {
        println!("| {what} | {:.2} | {:.2} | {:.2} |", pct(d, 0.5), pct(d, 0.95), pct(d, 1.0));
    }
    if own_cluster {
        postgres_sh("stop", dir.path());
    }
}
