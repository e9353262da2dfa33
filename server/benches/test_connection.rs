//! Test Connection latency (issue 12): connect, sign in and `SELECT 1` against a local
//! PostgreSQL and MariaDB, through the same probe the service runs. It starts both servers as
//! the tests do (scripts/postgres.sh, scripts/mariadb.sh) and stops them at the end:
//!
//!   cargo bench -p server --bench test_connection          (ROSTER_BENCH_RUNS=50)
mod common;

use common::{pct, postgres_sh};
use std::time::{Duration, Instant};

use app::backend::config::ProbeRules;
use app::backend::db_probe::{probe, Target};
use app::domain::databases::{DatabaseSpec, Engine, TestOutcome, TlsMode};

fn spec(engine: Engine, url: &str) -> (DatabaseSpec, String, String) {
    let u = reqwest::Url::parse(url).expect("url");
    let spec = DatabaseSpec {
        db_id: "bench".into(),
        engine,
        host: u.host_str().expect("host").into(),
        port: u.port(),
        name: u.path().trim_start_matches('/').into(),
        tls: TlsMode::Disable,
        description: String::new(),
        default_login: None,
    };
    (spec, u.username().replace("%20", " "), u.password().unwrap_or("").replace("%20", " "))
}

fn main() {
    let runs: usize = std::env::var("ROSTER_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(50);
    let pg_dir = tempfile::tempdir().expect("dir");
    let maria_dir = tempfile::tempdir().expect("dir");
    let pg = postgres_sh("start", pg_dir.path());
    let maria = mariadb_sh("start", maria_dir.path());
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        let pool = sqlx::PgPool::connect(&pg).await.expect("pg");
        sqlx::query(
            "DO $$ BEGIN CREATE ROLE roster_probe LOGIN PASSWORD 'pg probe pass 1'; \
             EXCEPTION WHEN duplicate_object THEN ALTER ROLE roster_probe LOGIN PASSWORD 'pg probe pass 1'; END $$",
        )
        .execute(&pool)
        .await
        .expect("role");
        pool.close().await;
        let (pg_spec, _, _) = spec(Engine::Postgres, &pg);
        let (maria_spec, maria_user, maria_pw) = spec(Engine::Mariadb, &maria);
        let rules = ProbeRules::default();
        let targets = [
            (
                "PostgreSQL (scram-sha-256)",
                Target { spec: &pg_spec, login: Some("roster_probe"), password: Some("pg probe pass 1") },
            ),
            ("MariaDB", Target { spec: &maria_spec, login: Some(&maria_user), password: Some(&maria_pw) }),
        ];
        println!("{:<28} {:>9} {:>9} {:>9}", "Test Connection", "p50 ms", "p95 ms", "max ms");
        for (name, target) in &targets {
            let mut times: Vec<Duration> = Vec::with_capacity(runs);
            for _ in 0..runs {
                let t = Instant::now();
                let r = probe(&rules, target).await;
                times.push(t.elapsed());
                assert_eq!(r.outcome, TestOutcome::Connected, "{name}: {}", r.message);
            }
            times.sort();
            println!("{name:<28} {:>9.2} {:>9.2} {:>9.2}", pct(&times, 0.5), pct(&times, 0.95), pct(&times, 1.0));
        }
    });
    postgres_sh("stop", pg_dir.path());
    mariadb_sh("stop", maria_dir.path());
}

/// Runs `scripts/mariadb.sh ACTION DIR`; its output (`start`: the URL).
fn mariadb_sh(action: &str, dir: &std::path::Path) -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/mariadb.sh");
    let out = std::process::Command::new(script).arg(action).arg(dir).output().expect("scripts/mariadb.sh");
    assert!(out.status.success(), "mariadb.sh {action}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}
