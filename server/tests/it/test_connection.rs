//! Test Connection (issue 12) against real servers the test command starts: the PostgreSQL
//! cluster (a role with a password), MariaDB (scripts/mariadb.sh), SQLite files inside and
//! outside the allowed folder, and SQL Server's failure paths for real (a refused port, a
//! listener that never answers, a port that speaks something else). Plus the rules around
//! it: link-local addresses and the host allow-list, the per-caller throttle, the audit
//! trail, and the password never appearing in an answer.
use crate::common;

use common::{code, TestApp};
use serde_json::{json, Value};

use app::backend::config::{HostRule, ProbeRules};
use app::backend::Config;

/// (host, port, user, password, database) of a server URL the test command exported.
fn server(var: &str) -> (String, u16, String, String, String) {
    let raw = std::env::var(var).unwrap_or_else(|_| panic!("{var} is not set: scripts/test.sh starts that server"));
    let url = reqwest::Url::parse(&raw).expect("server URL");
    let decode = |s: &str| s.replace("%20", " ");
    (
        url.host_str().expect("host").to_string(),
        url.port().expect("port"),
        decode(url.username()),
        decode(url.password().unwrap_or("")),
        url.path().trim_start_matches('/').to_string(),
    )
}

async fn define(admin: &common::Client, body: Value) {
    let (s, b) = admin.post_json("/api/v1/orgs/Default/databases", &body).await;
    assert_eq!(s, 201, "{body}: {b}");
}

async fn test(admin: &common::Client, db: &str) -> Value {
    let (s, b) = admin.post_json(&format!("/api/v1/orgs/Default/databases/{db}/test"), &json!({})).await;
    assert_eq!(s, 200, "{db}: {b}");
    b
}

fn with_probes(rules: ProbeRules) -> Config {
    Config { database_probes: rules, ..Config::default() }
}

#[tokio::test]
async fn postgres_right_and_wrong_password_unknown_database_and_tls() {
    let (host, port, _, _, _) = server("ROSTER_TEST_PG_URL");
    // The cluster trusts everyone but this role (scripts/postgres.sh), which gets a password.
    let pool = sqlx::PgPool::connect(&std::env::var("ROSTER_TEST_PG_URL").expect("url")).await.expect("pg");
    sqlx::query(
        "DO $$ BEGIN CREATE ROLE roster_probe LOGIN PASSWORD 'pg probe pass 1'; \
         EXCEPTION WHEN duplicate_object THEN ALTER ROLE roster_probe LOGIN PASSWORD 'pg probe pass 1'; END $$",
    )
    .execute(&pool)
    .await
    .expect("role");
    pool.close().await;
    let app = TestApp::start().await;
    let admin = app.admin().await;
    for (id, password, name, tls) in [
        ("pg_ok", "pg probe pass 1", "postgres", "disable"),
        ("pg_bad", "not the pg password", "postgres", "disable"),
        ("pg_nodb", "pg probe pass 1", "no_such_database", "disable"),
        ("pg_tls", "pg probe pass 1", "postgres", "require"),
    ] {
        define(
            &admin,
            json!({"db_id": id, "engine": "postgres", "host": host, "port": port, "name": name, "tls": tls,
                   "default_login": "roster_probe", "default_password": password}),
        )
        .await;
    }
    let ok = test(&admin, "pg_ok").await;
    assert_eq!(ok["outcome"], json!("connected"), "{ok}");
    let bad = test(&admin, "pg_bad").await;
    assert_eq!(bad["outcome"], json!("wrong_credentials"), "{bad}");
    assert!(!bad.to_string().contains("not the pg password"), "{bad}");
    let nodb = test(&admin, "pg_nodb").await;
    assert_eq!(nodb["outcome"], json!("unknown_database"), "{nodb}");
    assert!(nodb["message"].as_str().unwrap_or("").contains("no_such_database"), "{nodb}");
    let tls = test(&admin, "pg_tls").await;
    assert_eq!(tls["outcome"], json!("tls"), "the cluster has no TLS: {tls}");

    // The outcome is kept on the definition and shown with it; the definition is unchanged.
    let (_, d) = admin.get("/api/v1/orgs/Default/databases/pg_bad").await;
    assert_eq!(d["last_test"]["outcome"], json!("wrong_credentials"), "{d}");
    assert_eq!(d["updated_at"], d["created_at"]);
    // Audited with the outcome, never with the password.
    let audit = app.backend.store.list_audit(&Default::default(), Default::default(), 100).await.expect("audit");
    let tested: Vec<_> = audit.iter().filter(|e| e.event == "database.tested").collect();
    assert_eq!(tested.len(), 4);
    let bad_event = tested.iter().find(|e| e.target.as_deref() == Some("database:pg_bad")).expect("pg_bad audited");
    assert_eq!(bad_event.outcome, "failure");
    let after = bad_event.after.clone().unwrap_or_default();
    assert!(after.contains("wrong_credentials") && !after.contains("not the pg password"), "{after}");
    // Nowhere in the database in the clear either.
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_events WHERE after LIKE '%pg probe pass%'").await, 0);
}

#[tokio::test]
async fn mariadb_right_and_wrong_password_and_unknown_database() {
    let (host, port, user, password, db) = server("ROSTER_TEST_MARIADB_URL");
    let app = TestApp::start().await;
    let admin = app.admin().await;
    for (id, pw, name) in [
        ("m_ok", password.as_str(), db.as_str()),
        ("m_bad", "wrong maria pass", db.as_str()),
        ("m_nodb", password.as_str(), "no_such_db"),
    ] {
        define(
            &admin,
            json!({"db_id": id, "engine": "mariadb", "host": host, "port": port, "name": name, "tls": "disable",
                   "default_login": user, "default_password": pw}),
        )
        .await;
    }
    let ok = test(&admin, "m_ok").await;
    assert_eq!(ok["outcome"], json!("connected"), "{ok}");
    let bad = test(&admin, "m_bad").await;
    assert_eq!(bad["outcome"], json!("wrong_credentials"), "{bad}");
    assert!(!bad.to_string().contains("wrong maria pass"));
    let nodb = test(&admin, "m_nodb").await;
    assert_eq!(nodb["outcome"], json!("unknown_database"), "{nodb}");
}

#[tokio::test]
async fn sqlite_files_only_inside_the_configured_folder() {
    let outside = tempfile::tempdir().expect("dir");
    let folder = tempfile::tempdir().expect("dir");
    let dbs = folder.path().join("dbs");
    std::fs::create_dir_all(dbs.join("music")).expect("mkdir");
    // A real SQLite database, a file that is not one, and a link that leads out of the folder.
    let real = dbs.join("music/chinook.db");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite:{}?mode=rwc", real.display())).await.expect("sqlite");
    sqlx::query("CREATE TABLE t (x)").execute(&pool).await.expect("create");
    pool.close().await;
    std::fs::write(dbs.join("notes.db"), b"this is not a database, just some text that is long enough").expect("write");
    let secret = outside.path().join("secret.db");
    std::fs::copy(&real, &secret).expect("copy");
    std::os::unix::fs::symlink(&secret, dbs.join("escape.db")).expect("symlink");

    let app =
        TestApp::start_with(with_probes(ProbeRules { sqlite_dir: Some(dbs.clone()), ..Default::default() })).await;
    let admin = app.admin().await;
    for (id, name) in
        [("real", "music/chinook.db"), ("notdb", "notes.db"), ("escape", "escape.db"), ("missing", "music/none.db")]
    {
        define(&admin, json!({"db_id": id, "engine": "sqlite", "name": name})).await;
    }
    assert_eq!(test(&admin, "real").await["outcome"], json!("connected"));
    assert_eq!(test(&admin, "notdb").await["outcome"], json!("other"));
    let escape = test(&admin, "escape").await;
    assert_eq!(escape["outcome"], json!("not_allowed"), "{escape}");
    assert!(escape["message"].as_str().unwrap_or("").contains("outside"), "{escape}");
    assert_eq!(test(&admin, "missing").await["outcome"], json!("unknown_database"));
    // `..` never gets as far as a definition.
    let (s, b) = admin
        .post_json(
            "/api/v1/orgs/Default/databases",
            &json!({"db_id": "up", "engine": "sqlite", "name": "../secret.db"}),
        )
        .await;
    assert_eq!((s, code(&b)), (422, "invalid".to_string()), "{b}");
    // Opening read-only left the file as it was (no journal, no new tables).
    let pool = sqlx::SqlitePool::connect(&format!("sqlite:{}", real.display())).await.expect("sqlite");
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master").fetch_one(&pool).await.expect("count");
    assert_eq!(n, 1);
    pool.close().await;

    // Without a configured folder no SQLite file is tested at all.
    let app = TestApp::start().await;
    let admin = app.admin().await;
    define(&admin, json!({"db_id": "real", "engine": "sqlite", "name": "music/chinook.db"})).await;
    let r = test(&admin, "real").await;
    assert_eq!(r["outcome"], json!("not_allowed"), "{r}");
    assert!(r["message"].as_str().unwrap_or("").contains("--sqlite-databases-dir"), "{r}");
}

#[tokio::test]
async fn sql_server_refused_silent_and_foreign_ports() {
    use tokio::io::AsyncWriteExt;
    // Refused: a port nothing listens on (bound, then let go).
    let refused = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    // Silent: accepts connections (the kernel does) and never says a word.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let silent_port = silent.local_addr().expect("addr").port();
    // Foreign: answers like a web server, then hangs up.
    let foreign = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let foreign_port = foreign.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = foreign.accept().await {
            let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n").await;
        }
    });
    let app = TestApp::start_with(with_probes(ProbeRules { timeout_ms: 1_500, ..Default::default() })).await;
    let admin = app.admin().await;
    for (id, port) in [("refused", refused), ("silent", silent_port), ("foreign", foreign_port)] {
        define(
            &admin,
            json!({"db_id": id, "engine": "mssql", "host": "127.0.0.1", "port": port, "name": "master", "tls": "disable",
                   "default_login": "sa", "default_password": "Mssql pass 1"}),
        )
        .await;
    }
    assert_eq!(test(&admin, "refused").await["outcome"], json!("unreachable"));
    let t = test(&admin, "silent").await;
    assert_eq!(t["outcome"], json!("timed_out"), "{t}");
    assert!(t["millis"].as_u64().unwrap_or(0) >= 1_400, "{t}");
    let f = test(&admin, "foreign").await;
    assert!(matches!(f["outcome"].as_str(), Some("other") | Some("unreachable")), "{f}");
    assert_ne!(f["outcome"], json!("connected"));
    drop(silent);
}

#[tokio::test]
async fn link_local_addresses_and_hosts_outside_the_allow_list_are_never_contacted() {
    let app = TestApp::start_with(with_probes(ProbeRules {
        allowed_hosts: vec![
            HostRule::parse("db.internal").expect("rule"),
            HostRule::parse("10.0.0.0/8").expect("rule"),
        ],
        timeout_ms: 2_000,
        ..Default::default()
    }))
    .await;
    let admin = app.admin().await;
    for (id, host) in [("metadata", "169.254.169.254"), ("v6ll", "fe80::1"), ("loop", "127.0.0.1"), ("zero", "0.0.0.0")]
    {
        define(&admin, json!({"db_id": id, "engine": "postgres", "host": host, "name": "x", "tls": "disable", "default_login": "u"})).await;
    }
    for id in ["metadata", "v6ll", "loop", "zero"] {
        // (refusals count against the caller's throttle too: past it, for this test)
        app.clock.advance_ms(20 * 60_000);
        let r = test(&admin, id).await;
        assert_eq!(r["outcome"], json!("not_allowed"), "{id}: {r}");
        assert!(r["millis"].as_u64().unwrap_or(9_999) < 1_000, "refused before any connection: {r}");
    }
    app.clock.advance_ms(20 * 60_000);
    let r = test(&admin, "metadata").await;
    assert!(r["message"].as_str().unwrap_or("").contains("link-local"), "{r}");
    app.clock.advance_ms(20 * 60_000);
    let r = test(&admin, "loop").await;
    assert!(r["message"].as_str().unwrap_or("").contains("--database-hosts"), "{r}");
}

#[tokio::test]
async fn only_managers_test_and_failures_are_throttled_per_caller() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    define(&admin, json!({"db_id": "gone", "engine": "sqlite", "name": "gone.db"})).await;
    // Testing is for those who may change where a definition points (manage-database-servers).
    let viewer = app.member(&admin, "vic", "Default", "Viewer").await;
    let (s, b) = viewer.post_json("/api/v1/orgs/Default/databases/gone/test", &json!({})).await;
    assert_eq!(s, 403, "{b}");
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_events WHERE event = 'database.tested'").await, 0);
    // Failures count like sign-in failures: a few free, then a wait that grows.
    for _ in 0..4 {
        assert_eq!(test(&admin, "gone").await["outcome"], json!("not_allowed"));
    }
    let r = admin
        .http
        .post(format!("{}/api/v1/orgs/Default/databases/gone/test", app.base))
        .json(&json!({}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 429);
    assert_eq!(r.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("1"));
    // Another caller is not held back by this one's failures.
    let other = app.super_admin(&admin, "otto", "a separate long passphrase").await;
    assert_eq!(test(&other, "gone").await["outcome"], json!("not_allowed"));
    app.clock.advance_ms(1_000);
    assert_eq!(test(&admin, "gone").await["outcome"], json!("not_allowed"));
}

#[test]
fn the_cli_tests_and_exits_9_when_it_does_not_connect() {
    let dir = tempfile::tempdir().expect("dir");
    let db = format!("sqlite:{}", dir.path().join("roster.db").display());
    let dbs = dir.path().join("dbs");
    std::fs::create_dir_all(&dbs).expect("mkdir");
    std::fs::write(dbs.join("empty.db"), b"").expect("write");
    let run = |args: &[&str]| common::roster(&db, args);
    assert_eq!(
        run(&["database", "create", "--org", "Default", "--id", "files", "--engine", "sqlite", "--name", "empty.db"]).0,
        0
    );
    let (code, out, err) = run(&["database", "test", "--org", "Default", "files"]);
    assert_eq!(code, 9, "no --sqlite-databases-dir: {out} {err}");
    assert!(out.contains("Not allowed"), "{out}");
    let dir_arg = dbs.display().to_string();
    let (code, out, err) =
        run(&["--sqlite-databases-dir", &dir_arg, "database", "test", "--org", "Default", "files", "--json"]);
    assert_eq!(code, 0, "{out} {err}");
    let v: Value = serde_json::from_str(out.trim()).expect("json");
    assert_eq!(v["outcome"], json!("connected"));
}
