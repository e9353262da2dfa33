//! Users-list benchmark at scale: seeds N users (default 100,000) into a fresh SQLite file with
//! bulk inserts and one precomputed argon2 hash, then times the list service (the call behind
//! the page, the server function and the JSON API) for the first page, a deep page, search and
//! each sort column in both directions, and prints p50/p95/max per scenario as a Markdown table.
//!
//!   cargo bench -p server --bench users_list            (ROSTER_BENCH_USERS=100000, 200 runs)
use std::sync::Arc;
use std::time::{Duration, Instant};

use app::backend::services::users as svc;
use app::backend::store::sqlite::SqliteStore;
use app::backend::{Backend, Config, Ctx, SystemClock};
use app::domain::users::{SortDir, SortField, UserQuery};

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

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

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("ROSTER_BENCH_USERS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let runs: usize = std::env::var("ROSTER_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite:{}", dir.path().join("bench.db").display());
    let store = SqliteStore::open(&url).await.expect("open");
    store.migrate().await.expect("migrate");

    // Seed: one hash for everyone, multi-row INSERTs in one transaction.
    let t = Instant::now();
    let hasher = app::backend::password::Hasher::default();
    let hash = hasher.hash("bench user passphrase".into()).await.expect("hash");
    let pool = store.write_pool().clone();
    let mut tx = pool.begin().await.expect("tx");
    let first = ["Ann", "Bob", "Cy", "Dee", "Eve", "Finn", "Gus", "Hal", "Ivy", "Jo"];
    let last = ["Smith", "Jones", "Brown", "Garcia", "Miller", "Davis", "Lopez", "Wilson", "Moore", "Clark"];
    let base_time = 1_700_000_000_000i64;
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let mut qb = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
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
                .push_bind((i == 0) as i64)
                .push_bind((i % 3 == 0) as i64)
                .push_bind(base_time + (i as i64 * 60_000))
                .push_bind(if i % 4 == 0 { 0 } else { base_time + ((i * 31) % n.max(1)) as i64 * 1000 })
                .push_bind(base_time);
        });
        qb.build().execute(&mut *tx).await.expect("insert");
    }
    tx.commit().await.expect("commit");
    sqlx::query("ANALYZE").execute(&pool).await.expect("analyze");
    let seed_secs = t.elapsed().as_secs_f64();

    let b = Backend::new(Arc::new(store), Config::default(), Arc::new(SystemClock));
    b.load_access().await.expect("load access model");
    let ctx = Ctx::cli();
    let q = |search: Option<&str>, sort: SortField, dir: SortDir, after: Option<String>| UserQuery {
        search: search.map(str::to_string),
        sort,
        dir,
        after,
        before: None,
        limit: Some(25),
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

    println!("Seeded {n} users in {seed_secs:.1} s; {runs} runs per scenario, page size 25.\n");
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
}
