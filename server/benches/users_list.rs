//! Users-list benchmark at scale: seeds N users (default 100,000) into a fresh database with
//! bulk inserts and one precomputed argon2 hash, then times the list service (the call behind
//! the page, the server function and the JSON API) for the first page, a deep page, search and
//! each sort column in both directions, and prints p50/p95/max per scenario as a Markdown table.
//! On PostgreSQL it also reports how many sequential scans of `users` the timed part made
//! (the target is none: every scenario is answered through an index).
//!
//!   cargo bench -p server --bench users_list            (ROSTER_BENCH_USERS=100000, 200 runs)
//!   ROSTER_BENCH_BACKEND=postgres cargo bench -p server --bench users_list
//!       (a database on ROSTER_BENCH_PG_URL's server, else a throwaway cluster of its own)
mod common;

use common::{pct, postgres_sh};
use std::sync::Arc;
use std::time::Instant;

use app::backend::services::users as svc;
use app::backend::store::postgres::PgStore;
use app::backend::store::sqlite::SqliteStore;
use app::backend::store::Store;
use app::backend::{Backend, Config, Ctx, SystemClock};
use app::domain::users::{SortDir, SortField, UserQuery};

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

/// Inserts `n` generated users on `pool` (backend `$db`) in one transaction, 500 rows per
/// statement.
macro_rules! seed {
    ($db:ty, $pool:expr, $n:expr, $hash:expr) => {{
        let (n, hash) = ($n, &$hash);
        let mut tx = $pool.begin().await.expect("tx");
        let first = ["Ann", "Bob", "Cy", "Dee", "Eve", "Finn", "Gus", "Hal", "Ivy", "Jo"];
        let last = ["Smith", "Jones", "Brown", "Garcia", "Miller", "Davis", "Lopez", "Wilson", "Moore", "Clark"];
        let base_time = 1_700_000_000_000i64;
        for chunk in (0..n).collect::<Vec<usize>>().chunks(500) {
            let mut qb = sqlx::QueryBuilder::<$db>::new(
                "INSERT INTO users (username, username_key, full_name, full_name_key, email, email_key, password_hash, status, super_admin, two_factor, created_at, last_sign_in_at, updated_at) ",
            );
            qb.push_values(chunk, |mut b, &i| {
                let username = format!("user{i:06}");
                let full = format!("{} {} {}", first[i % 10], last[(i / 10) % 10], i);
                let email = format!("u{:06}@corp{}.example.com", (i * 7919) % n.max(1), i % 50);
                b.push_bind(username.clone())
                    .push_bind(username.to_lowercase())
                    .push_bind(full.clone())
                    .push_bind(full.to_lowercase())
                    .push_bind(email.clone())
                    .push_bind(email.to_lowercase())
                    .push_bind(hash.clone())
                    .push_bind(if i % 17 == 0 { "disabled" } else { "active" })
                    .push_bind(i == 0)
                    .push_bind(i % 3 == 0)
                    .push_bind(base_time + (i as i64 * 60_000))
                    .push_bind(if i % 4 == 0 { 0 } else { base_time + ((i * 31) % n.max(1)) as i64 * 1000 })
                    .push_bind(base_time);
            });
            qb.build().execute(&mut *tx).await.expect("insert");
        }
        tx.commit().await.expect("commit");
    }};
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("ROSTER_BENCH_USERS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let runs: usize = std::env::var("ROSTER_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    let dir = tempfile::tempdir().expect("temp dir");
    let postgres = std::env::var("ROSTER_BENCH_BACKEND").is_ok_and(|v| v == "postgres");

    // Seed: one hash for everyone, multi-row INSERTs in one transaction.
    let t = Instant::now();
    let hasher = app::backend::password::Hasher::default();
    let hash = hasher.hash("bench user passphrase".into()).await.expect("hash");
    let mut cluster = None;
    let (store, pg): (Arc<dyn Store>, Option<sqlx::PgPool>) = if postgres {
        let admin = match std::env::var("ROSTER_BENCH_PG_URL") {
            Ok(u) if !u.trim().is_empty() => u,
            _ => {
                cluster = Some(dir.path().join("pg"));
                postgres_sh("start", dir.path().join("pg").as_path())
            }
        };
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin).await.expect("connect");
        sqlx::query("DROP DATABASE IF EXISTS roster_bench_users").execute(&mut conn).await.expect("drop");
        sqlx::query("CREATE DATABASE roster_bench_users").execute(&mut conn).await.expect("create");
        let url = match admin.rsplit_once('/') {
            Some((server, _)) => format!("{server}/roster_bench_users"),
            None => panic!("ROSTER_BENCH_PG_URL must end in /DATABASE"),
        };
        let store = PgStore::open(&url).await.expect("open");
        store.migrate().await.expect("migrate");
        let pool = store.pool().clone();
        seed!(sqlx::Postgres, &pool, n, hash);
        sqlx::query("VACUUM ANALYZE users").execute(&pool).await.expect("analyze");
        (Arc::new(store), Some(pool))
    } else {
        let url = format!("sqlite:{}", dir.path().join("bench.db").display());
        let store = SqliteStore::open(&url).await.expect("open");
        store.migrate().await.expect("migrate");
        let pool = store.write_pool().clone();
        seed!(sqlx::Sqlite, &pool, n, hash);
        sqlx::query("ANALYZE").execute(&pool).await.expect("analyze");
        (Arc::new(store), None)
    };
    let seed_secs = t.elapsed().as_secs_f64();

    let b = Backend::new(store, Config::default(), Arc::new(SystemClock));
    b.load_access().await.expect("load access model");
    let ctx = Ctx::cli();
    let q = |search: Option<&str>, sort: SortField, dir: SortDir, after: Option<String>| UserQuery {
        search: search.map(str::to_string),
        sort,
        dir,
        after,
        before: None,
        limit: Some(25),
        legacy_hash: false,
    };

    // A cursor half-way through (page 2000 of 25): walk there with large pages.
    let mut after = None;
    for _ in 0..(n / 2 / 200) {
        let page = svc::list(&b, &ctx, UserQuery { limit: Some(200), after: after.clone(), ..Default::default() })
            .await
            .expect("walk");
        after = page.next;
    }
    let deep = after;

    let backend = if postgres { "PostgreSQL" } else { "SQLite" };
    println!("{backend}: seeded {n} users in {seed_secs:.1} s; {runs} runs per scenario, page size 25.\n");
    let seq_scans_before = seq_scans(pg.as_ref()).await;
    println!("| scenario | p50 ms | p95 ms | max ms |");
    println!("|---|---|---|---|");
    let report = |name: String, r: (f64, f64, f64)| println!("| {name} | {:.2} | {:.2} | {:.2} |", r.0, r.1, r.2);

    report(
        "first page (username asc)".into(),
        time(runs, || async {
            svc::list(&b, &ctx, q(None, SortField::Username, SortDir::Asc, None)).await.expect("list");
        })
        .await,
    );
    report(
        format!("deep page (after row {})", n / 2),
        time(runs, || async {
            svc::list(&b, &ctx, q(None, SortField::Username, SortDir::Asc, deep.clone())).await.expect("list");
        })
        .await,
    );
    // Few matches, 10% of rows, 2% of rows, none, and every row.
    for s in ["user0421", "garcia", "@corp7.", "zzz-no-match", "example.com"] {
        report(
            format!("search \"{s}\""),
            time(runs, || async {
                svc::list(&b, &ctx, q(Some(s), SortField::Username, SortDir::Asc, None)).await.expect("list");
            })
            .await,
        );
    }
    report(
        "search \"garcia\", sort created_at desc".into(),
        time(runs, || async {
            svc::list(&b, &ctx, q(Some("garcia"), SortField::CreatedAt, SortDir::Desc, None)).await.expect("list");
        })
        .await,
    );
    for sort in SortField::ALL {
        for dir in [SortDir::Asc, SortDir::Desc] {
            // First page and the page after it (keyset continuation) for each sort.
            report(
                format!("sort {} {} (page 1)", sort.as_str(), dir.as_str()),
                time(runs, || async {
                    svc::list(&b, &ctx, q(None, sort, dir, None)).await.expect("list");
                })
                .await,
            );
            let first = svc::list(&b, &ctx, q(None, sort, dir, None)).await.expect("first");
            let next = first.next.clone();
            report(
                format!("sort {} {} (page 2)", sort.as_str(), dir.as_str()),
                time(runs, || async {
                    svc::list(&b, &ctx, q(None, sort, dir, next.clone())).await.expect("list");
                })
                .await,
            );
        }
    }
    if let Some(pool) = pg.as_ref() {
        // (statistics reach the shared counters about once a second)
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        let scans = seq_scans(Some(pool)).await - seq_scans_before;
        println!("\nSequential scans of `users` during the timed scenarios: {scans}");
    }
    drop(b);
    if let Some(dir) = cluster {
        postgres_sh("stop", &dir);
    }
}

/// Sequential scans of `users` so far (PostgreSQL's statistics); 0 elsewhere.
async fn seq_scans(pg: Option<&sqlx::PgPool>) -> i64 {
    let Some(pool) = pg else { return 0 };
    sqlx::query_scalar("SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 'users'")
        .fetch_one(pool)
        .await
        .expect("statistics")
}
