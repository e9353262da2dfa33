//! Audit log benchmark at scale: seeds N audit events (default 1,000,000) into a fresh SQLite
//! file with bulk inserts through the write pool (every index of migration 0005 maintained),
//! then times the list service — the call behind the page, its server function and
//! `GET /api/v1/audit` — for each filter: first page, a deep page (keyset cursor half-way
//! through the matches) and the newer page from there; then a full export. Prints
//! p50/p95/max per scenario as a Markdown table. No ANALYZE: a real instance has no planner
//! statistics, so the plans measured are the ones it gets.
//!
//!   cargo bench -p server --bench audit_log     (ROSTER_BENCH_EVENTS=1000000, ROSTER_BENCH_RUNS=200)
mod common;

use common::pct;
use std::sync::Arc;
use std::time::Instant;

use app::backend::services::audit as svc;
use app::backend::store::sqlite::{audit_query, AuditArg, SqliteStore};
use app::backend::{Backend, Config, Ctx, SystemClock};
use app::domain::audit::{AuditFilter, AuditQuery, AuditSeek, ExportFormat, KNOWN_EVENTS};

async fn time<F, Fut>(runs: usize, mut f: F) -> (f64, f64, f64)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for _ in 0..5 {
        f().await; // warm-up
    }
    let mut d = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        f().await;
        d.push(t.elapsed());
    }
    d.sort();
    (pct(&d, 0.5), pct(&d, 0.95), pct(&d, 1.0))
}

const BASE: i64 = 1_700_000_000_000;
const YEAR_MS: i64 = 365 * 86_400_000;

/// The id half-way through a filter's matches (newest first), for a deep cursor.
async fn middle(store: &SqliteStore, f: &AuditFilter, matches: i64) -> Option<i64> {
    let (sql, args) = audit_query(f, AuditSeek::Newest, u32::MAX);
    let sql = format!("SELECT id FROM ({sql}) LIMIT 1 OFFSET ?");
    let mut q = sqlx::query_scalar::<_, i64>(&sql);
    for a in args {
        q = match a {
            AuditArg::Int(i) => q.bind(i),
            AuditArg::Text(t) => q.bind(t),
        };
    }
    q.bind(matches / 2).fetch_optional(store.write_pool()).await.expect("middle")
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("ROSTER_BENCH_EVENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let runs: usize = std::env::var("ROSTER_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite:{}", dir.path().join("bench.db").display());
    let store = SqliteStore::open(&url).await.expect("open");
    store.migrate().await.expect("migrate");

    // Seed: a year of events, 1,000 actors (one busy admin with 10%), 10,000 targets, 20
    // organizations, every known event name, 5% failures; multi-row INSERTs, one transaction.
    let t = Instant::now();
    let events: Vec<&str> = KNOWN_EVENTS.iter().copied().filter(|e| !e.ends_with('.')).collect();
    let pool = store.write_pool().clone();
    let mut tx = pool.begin().await.expect("tx");
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let mut qb = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO audit_events (at, actor_id, actor, target, org_id, event, outcome, ip, user_agent, before, after) ",
        );
        qb.push_values(chunk, |mut b, &i| {
            let actor = if i % 10 == 0 { "admin".to_string() } else { format!("user{:04}", (i * 7919) % 1000) };
            let event = events[(i * 31) % events.len()];
            b.push_bind(BASE + (i as i64 * YEAR_MS / n as i64))
                .push_bind(((i * 7919) % 1000) as i64)
                .push_bind(actor)
                .push_bind(format!("target{:05}", (i * 104_729) % 10_000))
                .push_bind(1 + (i % 20) as i64)
                .push_bind(event)
                .push_bind(if i % 20 == 7 { "failure" } else { "success" })
                .push_bind(format!("10.{}.{}.{}", i % 256, (i / 256) % 256, i % 7))
                .push_bind("Mozilla/5.0 (X11; Linux x86_64) bench")
                .push_bind(format!(r#"{{"status":"active","n":{i}}}"#))
                .push_bind(format!(r#"{{"status":"disabled","n":{i}}}"#));
        });
        qb.build().execute(&mut *tx).await.expect("insert");
    }
    tx.commit().await.expect("commit");
    let seed_secs = t.elapsed().as_secs_f64();

    let b = Backend::new(Arc::new(store), Config::default(), Arc::new(SystemClock));
    // A second handle for the set-up queries (match counts, cursors) that are not timed.
    let probe = SqliteStore::open(&url).await.expect("reopen");
    let ctx = Ctx::cli();
    let mid_time = BASE + YEAR_MS / 2;
    let day = 86_400_000;
    let q = |pairs: &[(&str, String)]| AuditQuery::from_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())));
    let scenarios: Vec<(&str, AuditQuery)> = vec![
        ("no filter", q(&[])),
        ("actor = admin (10%)", q(&[("actor", "ADMIN".into())])),
        ("actor = user0042 (0.09%)", q(&[("actor", "user0042".into())])),
        ("target = target01234 (0.01%)", q(&[("target", "target01234".into())])),
        ("org = 7 (5%)", q(&[("org", "7".into())])),
        ("event = user.updated (4%)", q(&[("event", "user.updated".into())])),
        ("event category user. (27%)", q(&[("event", "user.".into())])),
        ("outcome = failure (5%)", q(&[("outcome", "failure".into())])),
        ("time: one day mid-year", q(&[("from", mid_time.to_string()), ("to", (mid_time + day).to_string())])),
        (
            "actor = admin + last 30 days",
            q(&[("actor", "admin".into()), ("from", (BASE + YEAR_MS - 30 * day).to_string())]),
        ),
        ("event user. + outcome failure", q(&[("event", "user.".into()), ("outcome", "failure".into())])),
    ];

    println!("Seeded {n} audit events in {seed_secs:.1} s; {runs} runs per scenario, page size 50.\n");
    println!("| scenario | matches | first page p50 / p95 / max ms | deep page p50 / p95 / max ms | newer page p50 / p95 / max ms |");
    println!("|---|---|---|---|---|");
    let fmt = |r: (f64, f64, f64)| format!("{:.2} / {:.2} / {:.2}", r.0, r.1, r.2);
    for (name, query) in &scenarios {
        let (filter, _) = query.validate().expect("valid");
        let (count_sql, args) = audit_query(&filter, AuditSeek::Newest, u32::MAX);
        let count_sql = format!("SELECT COUNT(*) FROM ({count_sql})");
        let mut cq = sqlx::query_scalar::<_, i64>(&count_sql);
        for a in args {
            cq = match a {
                AuditArg::Int(i) => cq.bind(i),
                AuditArg::Text(t) => cq.bind(t),
            };
        }
        let matches = cq.fetch_one(probe.write_pool()).await.expect("count");
        let mid = middle(&probe, &filter, matches).await;
        let first = time(runs, || async {
            svc::list(&b, &ctx, query, None).await.expect("list");
        })
        .await;
        let (deep, newer) = match mid {
            Some(id) => {
                let older_q = AuditQuery { before: Some(id.to_string()), ..query.clone() };
                let newer_q = AuditQuery { after: Some(id.to_string()), ..query.clone() };
                let d = time(runs, || async {
                    svc::list(&b, &ctx, &older_q, None).await.expect("list");
                })
                .await;
                let u = time(runs, || async {
                    svc::list(&b, &ctx, &newer_q, None).await.expect("list");
                })
                .await;
                (fmt(d), fmt(u))
            }
            None => ("-".into(), "-".into()),
        };
        println!("| {name} | {matches} | {} | {deep} | {newer} |", fmt(first));
    }

    // Exports: every matching row, in keyset batches, written nowhere (the encoding is timed).
    println!();
    println!("| export | rows | seconds | rows/s |");
    println!("|---|---|---|---|");
    for (name, query, format) in [
        ("CSV, actor = admin", q(&[("actor", "admin".into())]), ExportFormat::Csv),
        ("JSON Lines, actor = admin", q(&[("actor", "admin".into())]), ExportFormat::JsonLines),
        ("CSV, everything", q(&[]), ExportFormat::Csv),
    ] {
        let t = Instant::now();
        let mut export = svc::export(&b, &ctx, &query, format).await.expect("export");
        let (mut bytes, mut lines) = (0usize, 0usize);
        while let Some(chunk) = export.next_chunk().await.expect("chunk") {
            bytes += chunk.len();
            lines += chunk.matches('\n').count();
        }
        let rows = if format == ExportFormat::Csv { lines.saturating_sub(1) } else { lines };
        let secs = t.elapsed().as_secs_f64();
        println!("| {name} ({} MB) | {rows} | {secs:.2} | {:.0} |", bytes / 1_000_000, rows as f64 / secs);
    }
}
