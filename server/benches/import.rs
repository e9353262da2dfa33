//! Import throughput (issue 12): N accounts (default 100,000) from CSV with argon2id hashes and
//! from SlashDB's users.cfg with sha512-crypt hashes, each into a fresh database through the
//! import service (one transaction, a report row and an audit event per account), plus a dry
//! run of the CSV. Hashes are stored as given, so no hash is computed: the target is 20,000
//! rows/s. Prints rows per second.
//!
//!   cargo bench -p server --bench import                  (ROSTER_BENCH_USERS=100000)
//!   ROSTER_BENCH_BACKEND=postgres cargo bench -p server --bench import
//!       (a database on ROSTER_BENCH_PG_URL's server, else a throwaway cluster of its own)
mod common;

use std::sync::Arc;
use std::time::Instant;

use app::backend::services::import as svc;
use app::backend::store::postgres::PgStore;
use app::backend::store::sqlite::SqliteStore;
use app::backend::store::Store;
use app::backend::{Backend, Config, Ctx, SystemClock};
use app::domain::import::{ImportFormat, ImportOptions};
use common::postgres_sh;

// `mkpasswd -m sha-512 -R 656000` (SlashDB's rounds): stored as given, verified at sign-in.
const SHA512: &str = "$6$rounds=656000$5y.kmvX2FgSZ0cWF$tH0ZfBh9sMoo/OiCGv1G/Mgd//1c/GlxVleJO8UEZ4RjTM/HnOrYyNLMwCfqUsdHGM4TD9hr1uLk7.ll3wGhI1";

fn csv(n: usize, hash: &str) -> String {
    let mut s = String::from("username,full_name,email,org,role,abilities,password_hash\n");
    for i in 0..n {
        s.push_str(&format!("u{i:07},User {i},u{i}@corp.example.com,Default,Operator,use-adminer,\"{hash}\"\n"));
    }
    s
}

fn users_cfg(n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        s.push_str(&format!(
            "s{i:07}:\n  user_id: s{i:07}\n  name: SlashDB user {i}\n  email: s{i}@corp.example.com\n  password: {SHA512}\n  \
             dbdef: [view]\n  querydef: [view, create]\n  userdef: []\n  view: []\n  edit: [admin]\n  creator: admin\n  api_key: null\n  databases:\n"
        ));
    }
    s
}

async fn fresh(postgres: bool, dir: &std::path::Path, name: &str, pg_admin: &Option<String>) -> Backend {
    let store: Arc<dyn Store> = if postgres {
        let admin = pg_admin.clone().expect("server");
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin).await.expect("connect");
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name}")).execute(&mut conn).await.expect("drop");
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("create");
        let url = format!("{}/{name}", admin.rsplit_once('/').expect("URL ends in /DATABASE").0);
        let store = PgStore::open(&url).await.expect("open");
        store.migrate().await.expect("migrate");
        Arc::new(store)
    } else {
        let store =
            SqliteStore::open(&format!("sqlite:{}", dir.join(format!("{name}.db")).display())).await.expect("open");
        store.migrate().await.expect("migrate");
        Arc::new(store)
    };
    let b = Backend::new(store, Config::default(), Arc::new(SystemClock));
    b.load_access().await.expect("access model");
    b
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("ROSTER_BENCH_USERS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let postgres = std::env::var("ROSTER_BENCH_BACKEND").is_ok_and(|v| v == "postgres");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cluster = None;
    let pg_admin = postgres.then(|| match std::env::var("ROSTER_BENCH_PG_URL") {
        Ok(u) if !u.trim().is_empty() => u,
        _ => {
            cluster = Some(dir.path().join("pg"));
            postgres_sh("start", dir.path().join("pg").as_path())
        }
    });
    let argon2 = app::backend::password::Hasher::default().hash("bench import passphrase".into()).await.expect("hash");
    let files = [
        ("CSV, argon2id hashes, dry run", ImportFormat::Csv, csv(n, &argon2), true),
        ("CSV, argon2id hashes", ImportFormat::Csv, csv(n, &argon2), false),
        ("users.cfg, sha512-crypt hashes", ImportFormat::Slashdb, users_cfg(n), false),
    ];
    println!(
        "{} accounts per file, each into a fresh {} database.\n",
        n,
        if postgres { "PostgreSQL" } else { "SQLite" }
    );
    println!("| file | MB | seconds | rows/s |");
    println!("|---|---|---|---|");
    for (i, (name, format, text, dry)) in files.iter().enumerate() {
        let b = fresh(postgres, dir.path(), &format!("roster_bench_import_{i}"), &pg_admin).await;
        let mut opts = ImportOptions::new(*format);
        opts.dry_run = *dry;
        let t = Instant::now();
        let report = svc::import(&b, &Ctx::cli(), opts, text, None).await.expect("import");
        let secs = t.elapsed().as_secs_f64();
        let done = (report.created + report.unchanged) as usize;
        assert_eq!((done, report.errors), (n, 0), "{:?}", report.rows.iter().find(|r| !r.message.is_empty()));
        println!("| {name} | {:.1} | {secs:.2} | {:.0} |", text.len() as f64 / 1e6, n as f64 / secs);
    }
    if let Some(c) = cluster {
        postgres_sh("stop", &c);
    }
}
