//! SCIM at scale, through the real HTTP server (in process, on loopback) the way an identity
//! provider calls it:
//! 1. a first full sync: 10,000 users created (`POST /Users`, 8 at a time, as Okta and Entra
//!    ID push in parallel), then 500 groups, each created empty and given 20 members with one
//!    `PATCH` (Okta's Group Push): requests per second, total time, p50/p95 per request;
//! 2. the existence check a provider makes before each create, `GET /Users?filter=userName eq
//!    "..."`, once the connection holds 1,000,000 accounts (seeded with bulk SQL): p50/p95
//!    (target: p95 under 5 ms).
//!
//!   cargo bench -p server --bench scim                                  (SQLite)
//!   ROSTER_BENCH_BACKEND=postgres cargo bench -p server --bench scim
//!       (a database on ROSTER_BENCH_PG_URL's server, else a throwaway cluster of its own)
//!   ROSTER_BENCH_USERS=1000000 ROSTER_BENCH_SYNC_USERS=10000 ROSTER_BENCH_GROUPS=500
mod common;

use common::{pct, postgres_sh};
use futures_util::StreamExt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use app::backend::services::scim::{self as svc, ConnectionInput};
use app::backend::store::postgres::PgStore;
use app::backend::store::sqlite::SqliteStore;
use app::backend::store::Store;
use app::backend::{Backend, Config, Ctx, SystemClock};
use serde_json::json;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn summary(label: &str, mut d: Vec<Duration>) -> String {
    d.sort();
    format!("{label}: p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms", pct(&d, 0.5), pct(&d, 0.95), pct(&d, 1.0))
}

/// Sends `requests` (method, path, body) with `parallel` in flight; each one's latency.
async fn send_all(
    http: &reqwest::Client,
    base: &str,
    requests: Vec<(reqwest::Method, String, serde_json::Value)>,
    parallel: usize,
    want: u16,
) -> Vec<(Duration, serde_json::Value)> {
    futures_util::stream::iter(requests)
        .map(|(m, path, body)| {
            let http = http.clone();
            let url = format!("{base}{path}");
            async move {
                let t = Instant::now();
                let r = http.request(m, url).json(&body).send().await.expect("send");
                let status = r.status().as_u16();
                let v: serde_json::Value = r.json().await.unwrap_or_default();
                assert_eq!(status, want, "{v}");
                (t.elapsed(), v)
            }
        })
        .buffer_unordered(parallel)
        .collect()
        .await
}

#[tokio::main]
async fn main() {
    let n = env_usize("ROSTER_BENCH_USERS", 1_000_000);
    let sync_users = env_usize("ROSTER_BENCH_SYNC_USERS", 10_000);
    let groups = env_usize("ROSTER_BENCH_GROUPS", 500);
    let per_group = 20;
    let runs = env_usize("ROSTER_BENCH_RUNS", 300);
    let postgres = std::env::var("ROSTER_BENCH_BACKEND").is_ok_and(|v| v == "postgres");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cluster = None;
    let (store, backend_name, pool): (Arc<dyn Store>, &str, Pool) = if postgres {
        let admin = match std::env::var("ROSTER_BENCH_PG_URL") {
            Ok(u) if !u.trim().is_empty() => u,
            _ => {
                cluster = Some(dir.path().join("pg"));
                postgres_sh("start", dir.path().join("pg").as_path())
            }
        };
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin).await.expect("connect");
        sqlx::query("DROP DATABASE IF EXISTS roster_bench_scim WITH (FORCE)").execute(&mut conn).await.expect("drop");
        sqlx::query("CREATE DATABASE roster_bench_scim").execute(&mut conn).await.expect("create");
        let url = match admin.rsplit_once('/') {
            Some((server, _)) => format!("{server}/roster_bench_scim"),
            None => panic!("ROSTER_BENCH_PG_URL must end in /DATABASE"),
        };
        let store = PgStore::open(&url).await.expect("open");
        store.migrate().await.expect("migrate");
        let pool = Pool::Pg(store.pool().clone());
        (Arc::new(store), "PostgreSQL", pool)
    } else {
        let url = format!("sqlite:{}", dir.path().join("bench.db").display());
        let store = SqliteStore::open(&url).await.expect("open");
        store.migrate().await.expect("migrate");
        let pool = Pool::Sqlite(store.write_pool().clone());
        (Arc::new(store), "SQLite", pool)
    };
    let config = Config { secret_key: Some([5; 32]), ..Default::default() };
    let b = Backend::new(store.clone(), config, Arc::new(SystemClock));
    b.load_access().await.expect("load access model");
    app::backend::feed::spawn_listener(&b);
    let input = ConnectionInput {
        id: "bench".into(),
        name: "Bench".into(),
        orgs: vec!["Default".into()],
        default_role: Some("Member".into()),
        ..Default::default()
    };
    let token = svc::create_connection(&b, &Ctx::cli(), input).await.expect("connection").token;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let site = dir.path().join("site");
    let router = server::router(b.clone(), server::leptos_options(site.to_str().unwrap_or("site"), addr));
    tokio::spawn(async move {
        let _ = axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await;
    });
    let base = format!("http://{addr}/scim/v2/bench");
    let mut headers = reqwest::header::HeaderMap::new();
    headers
        .insert("authorization", reqwest::header::HeaderValue::from_str(&format!("Bearer {token}")).expect("header"));
    let http = reqwest::Client::builder().default_headers(headers).build().expect("client");

    // 1. The first full sync.
    let t = Instant::now();
    let creates = (0..sync_users)
        .map(|i| {
            let body = json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": format!("synced{i:06}@corp.example"),
                "externalId": format!("ext-{i}"),
                "name": {"givenName": "Synced", "familyName": format!("Person {i}")},
                "emails": [{"value": format!("synced{i:06}@corp.example"), "type": "work", "primary": true}],
                "active": true,
            });
            (reqwest::Method::POST, "/Users".to_string(), body)
        })
        .collect();
    let made = send_all(&http, &base, creates, 8, 201).await;
    let users_secs = t.elapsed().as_secs_f64();
    let mut ids: Vec<String> = made.iter().map(|(_, v)| v["id"].as_str().unwrap_or_default().to_string()).collect();
    ids.sort_by_key(|i| i.parse::<i64>().unwrap_or(0));
    let create_times: Vec<Duration> = made.into_iter().map(|(d, _)| d).collect();
    let t2 = Instant::now();
    let group_creates = (0..groups)
        .map(|g| {
            (reqwest::Method::POST, "/Groups".to_string(), json!({"displayName": format!("Team {g}"), "members": []}))
        })
        .collect();
    let made = send_all(&http, &base, group_creates, 8, 201).await;
    let group_ids: Vec<String> = made.iter().map(|(_, v)| v["id"].as_str().unwrap_or_default().to_string()).collect();
    let group_times: Vec<Duration> = made.into_iter().map(|(d, _)| d).collect();
    let patches = group_ids
        .iter()
        .enumerate()
        .map(|(g, gid)| {
            let members: Vec<_> =
                (0..per_group).map(|k| json!({"value": ids[(g * per_group + k) % ids.len().max(1)]})).collect();
            let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "add", "path": "members", "value": members}]});
            (reqwest::Method::PATCH, format!("/Groups/{gid}"), body)
        })
        .collect();
    let patched = send_all(&http, &base, patches, 8, 204).await;
    let patch_times: Vec<Duration> = patched.into_iter().map(|(d, _)| d).collect();
    let groups_secs = t2.elapsed().as_secs_f64();
    let total = sync_users + 2 * groups;
    let total_secs = t.elapsed().as_secs_f64();
    println!("{backend_name}: full sync of {sync_users} users and {groups} groups ({per_group} members each), 8 requests in flight");
    println!(
        "  {total} requests in {total_secs:.1} s = {:.0} requests/s (users {users_secs:.1} s = {:.0}/s; groups {groups_secs:.1} s)",
        total as f64 / total_secs,
        sync_users as f64 / users_secs
    );
    println!("  {}", summary("POST /Users", create_times));
    println!("  {}", summary("POST /Groups", group_times));
    println!("  {}", summary("PATCH /Groups (add 20 members)", patch_times));

    // 2. The existence check at `n` accounts: seeded with bulk SQL into the same connection.
    let t = Instant::now();
    match &pool {
        Pool::Pg(pool) => {
            let id: i64 = sqlx::query_scalar("SELECT id FROM scim_connections WHERE slug = 'bench'")
                .fetch_one(pool)
                .await
                .expect("connection id");
            sqlx::query(
                "INSERT INTO users (username, username_key, full_name, full_name_key, email, email_key, \
                 status, super_admin, two_factor, created_at, last_sign_in_at, updated_at) \
                 SELECT 'bulk' || i || '@corp.example', 'bulk' || i || '@corp.example', 'Bulk ' || i, 'bulk ' || i, \
                 'bulk' || i || '@corp.example', 'bulk' || i || '@corp.example', 'active', FALSE, FALSE, 1, 0, 1 \
                 FROM generate_series(1, $1) AS i",
            )
            .bind(n as i64)
            .execute(pool)
            .await
            .expect("seed users");
            sqlx::query(
                "INSERT INTO scim_users (user_id, connection_id, user_name, user_name_key, external_id, attributes, \
                 created_at, updated_at) SELECT id, $1, username, username_key, 'bulk-' || id, \
                 '{\"userName\":\"' || username || '\"}', 1, 1 FROM users WHERE username LIKE 'bulk%'",
            )
            .bind(id)
            .execute(pool)
            .await
            .expect("seed links");
            sqlx::query("VACUUM ANALYZE").execute(pool).await.expect("analyze");
        }
        Pool::Sqlite(pool) => {
            let id: i64 = sqlx::query_scalar("SELECT id FROM scim_connections WHERE slug = 'bench'")
                .fetch_one(pool)
                .await
                .expect("connection id");
            sqlx::query(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1) \
                 INSERT INTO users (username, username_key, full_name, full_name_key, email, email_key, \
                 status, super_admin, two_factor, created_at, last_sign_in_at, updated_at) \
                 SELECT 'bulk' || i || '@corp.example', 'bulk' || i || '@corp.example', 'Bulk ' || i, 'bulk ' || i, \
                 'bulk' || i || '@corp.example', 'bulk' || i || '@corp.example', 'active', 0, 0, 1, 0, 1 FROM n",
            )
            .bind(n as i64)
            .execute(pool)
            .await
            .expect("seed users");
            sqlx::query(
                "INSERT INTO scim_users (user_id, connection_id, user_name, user_name_key, external_id, attributes, \
                 created_at, updated_at) SELECT id, ?1, username, username_key, 'bulk-' || id, \
                 '{\"userName\":\"' || username || '\"}', 1, 1 FROM users WHERE username LIKE 'bulk%'",
            )
            .bind(id)
            .execute(pool)
            .await
            .expect("seed links");
            sqlx::query("ANALYZE").execute(pool).await.expect("analyze");
        }
    }
    let seed_secs = t.elapsed().as_secs_f64();
    let mut rng = 0x2545F4914F6CDD1Du64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut times = Vec::with_capacity(runs);
    for run in 0..runs + 10 {
        let i = (next() % n as u64) + 1;
        // (mixed case: SCIM compares userName ignoring case)
        let filter = format!("userName eq \"BULK{i}@corp.example\"");
        let t = Instant::now();
        let r = http.get(format!("{base}/Users")).query(&[("filter", filter.as_str())]).send().await.expect("get");
        let v: serde_json::Value = r.json().await.expect("json");
        let d = t.elapsed();
        assert_eq!(v["totalResults"], 1, "{filter}: {v}");
        if run >= 10 {
            times.push(d);
        }
    }
    println!("{backend_name}: seeded {n} more accounts into the connection in {seed_secs:.1} s");
    println!("  {}", summary(&format!("GET /Users?filter=userName eq (at {} accounts)", n + sync_users), times));
    if let Some(c) = cluster {
        postgres_sh("stop", &c);
    }
}

/// The pool the bulk seeding writes through.
enum Pool {
    Sqlite(sqlx::SqlitePool),
    Pg(sqlx::PgPool),
}
