//! Bulk dry run at scale: seeds N accounts (default 100,000) matching one search, each a
//! member of the default organization, into a fresh database with bulk inserts, then times
//! `bulk::plan` (the call behind `POST /api/v1/bulk` and `roster bulk plan`) for "disable every
//! account matching" that search: the selection read, every account run through the real
//! disable rules in one transaction that is rolled back, and the plan stored. Target: under 30 s
//! at 100,000. Also times applying the same plan.
//!
//!   cargo bench -p server --bench bulk                     (ROSTER_BENCH_USERS=100000)
//!   ROSTER_BENCH_BACKEND=postgres cargo bench -p server --bench bulk
//!       (a database on ROSTER_BENCH_PG_URL's server, else a throwaway cluster of its own)
mod common;

use common::postgres_sh;
use std::sync::Arc;
use std::time::Instant;

use app::backend::services::bulk;
use app::backend::store::postgres::PgStore;
use app::backend::store::sqlite::SqliteStore;
use app::backend::store::Store;
use app::backend::{Backend, Config, Ctx, SystemClock};
use app::domain::bulk::{BulkAction, BulkRequest, Selection};

/// Inserts `n` accounts named `bulk000000`... and their Default memberships (Member) on
/// `pool` in one transaction, 500 rows per statement.
macro_rules! seed {
    ($db:ty, $pool:expr, $n:expr) => {{
        let n = $n;
        let mut tx = $pool.begin().await.expect("tx");
        for chunk in (0..n).collect::<Vec<usize>>().chunks(500) {
            let mut qb = sqlx::QueryBuilder::<$db>::new(
                "INSERT INTO users (username, username_key, full_name, full_name_key, email, email_key, status, super_admin, two_factor, created_at, last_sign_in_at, updated_at) ",
            );
            qb.push_values(chunk, |mut b, &i| {
                let username = format!("bulk{i:06}");
                let email = format!("{username}@corp.example");
                b.push_bind(username.clone())
                    .push_bind(username.clone())
                    .push_bind(format!("Bulk {i}"))
                    .push_bind(format!("bulk {i}"))
                    .push_bind(email.clone())
                    .push_bind(email)
                    .push_bind("active")
                    .push_bind(false)
                    .push_bind(false)
                    .push_bind(1_700_000_000_000i64)
                    .push_bind(0i64)
                    .push_bind(1_700_000_000_000i64);
            });
            qb.build().execute(&mut *tx).await.expect("insert users");
        }
        // (Member is role 3 in the default organization 1)
        sqlx::query(
            "INSERT INTO memberships (org_id, user_id, role_id, username_key, created_at) \
             SELECT 1, id, 3, username_key, created_at FROM users WHERE username_key LIKE 'bulk%'",
        )
        .execute(&mut *tx)
        .await
        .expect("insert memberships");
        tx.commit().await.expect("commit");
    }};
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("ROSTER_BENCH_USERS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let postgres = std::env::var("ROSTER_BENCH_BACKEND").is_ok_and(|v| v == "postgres");
    let t = Instant::now();
    let mut cluster = None;
    let (store, name): (Arc<dyn Store>, &str) = if postgres {
        let admin = match std::env::var("ROSTER_BENCH_PG_URL") {
            Ok(u) if !u.trim().is_empty() => u,
            _ => {
                cluster = Some(dir.path().join("pg"));
                postgres_sh("start", dir.path().join("pg").as_path())
            }
        };
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin).await.expect("connect");
        sqlx::query("DROP DATABASE IF EXISTS roster_bench_bulk WITH (FORCE)").execute(&mut conn).await.expect("drop");
        sqlx::query("CREATE DATABASE roster_bench_bulk").execute(&mut conn).await.expect("create");
        let url = match admin.rsplit_once('/') {
            Some((server, _)) => format!("{server}/roster_bench_bulk"),
            None => panic!("ROSTER_BENCH_PG_URL must end in /DATABASE"),
        };
        let store = PgStore::open(&url).await.expect("open");
        store.migrate().await.expect("migrate");
        let pool = store.pool().clone();
        seed!(sqlx::Postgres, &pool, n);
        sqlx::query("VACUUM ANALYZE").execute(&pool).await.expect("analyze");
        (Arc::new(store), "PostgreSQL")
    } else {
        let url = format!("sqlite:{}", dir.path().join("bench.db").display());
        let store = SqliteStore::open(&url).await.expect("open");
        store.migrate().await.expect("migrate");
        let pool = store.write_pool().clone();
        seed!(sqlx::Sqlite, &pool, n);
        sqlx::query("ANALYZE").execute(&pool).await.expect("analyze");
        (Arc::new(store), "SQLite")
    };
    let seed_secs = t.elapsed().as_secs_f64();
    let b = Backend::new(store, Config::default(), Arc::new(SystemClock));
    b.load_access().await.expect("load access model");
    let ctx = Ctx::cli();
    let req = BulkRequest {
        action: BulkAction::Disable,
        selection: Selection::Matching { search: Some("bulk".into()), legacy_hash: false },
    };
    let t = Instant::now();
    let plan = bulk::plan(&b, &ctx, req).await.expect("plan");
    let plan_secs = t.elapsed().as_secs_f64();
    assert_eq!(plan.counts.change as usize, n, "{:?}", plan.counts);
    let t = Instant::now();
    let done = bulk::apply(&b, &ctx, &plan.id).await.expect("apply");
    let apply_secs = t.elapsed().as_secs_f64();
    assert_eq!(done.counts.change as usize, n);
    println!("{name}: {n} accounts seeded in {seed_secs:.1} s");
    println!(
        "  dry run (disable every account matching \"bulk\"): {plan_secs:.1} s = {:.0} accounts/s (target: under 30 s at 100,000)",
        n as f64 / plan_secs
    );
    println!("  apply: {apply_secs:.1} s = {:.0} accounts/s", n as f64 / apply_secs);
    if let Some(c) = cluster {
        postgres_sh("stop", &c);
    }
}
