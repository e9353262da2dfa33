//! `roster copy-database`: a SQLite instance filled through the real server is copied by the
//! real binary into a fresh PostgreSQL database; every table is compared row by row, then a
//! server on the copy signs in with a password and a TOTP code, accepts the old session and
//! token, opens the SSO client secret and creates new rows without key collisions. Needs
//! PostgreSQL (`ROSTER_TEST_PG_URL`): without it these tests fail, never skip.
use crate::common;

use std::collections::BTreeMap;

use app::backend::Config;
use base64::Engine;
use common::db::TestDb;
use common::{enrol, oathtool, secs, Client, TestApp, ADMIN_PW, MEMBER_PW};
use serde_json::json;
use sqlx::{Column as _, Row, TypeInfo, ValueRef};

/// The instance key of the copied instance (the copy must be started with it).
const KEY: [u8; 32] = [7; 32];

fn key_b64() -> String {
    base64::engine::general_purpose::STANDARD.encode(KEY)
}

fn config() -> Config {
    Config {
        secret_key: Some(KEY),
        // (the SSO provider below is on the loopback address)
        allow_internal_urls: true,
        ..Default::default()
    }
}

/// A stand-in OpenID provider that answers discovery only (enough to configure a provider and
/// start a sign-in through it); returns its issuer URL.
pub(crate) async fn discovery_only_provider() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let issuer = format!("http://{}", listener.local_addr().expect("addr"));
    let doc = json!({
        "issuer": issuer, "authorization_endpoint": format!("{issuer}/auth"),
        "token_endpoint": format!("{issuer}/token"), "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"], "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    });
    let router = axum::Router::new()
        .route("/.well-known/openid-configuration", axum::routing::get(move || async move { axum::Json(doc) }))
        .route("/jwks", axum::routing::get(|| async { axum::Json(json!({"keys": []})) }));
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    issuer
}

/// Runs `roster copy-database --from FROM --to TO` with `key`; returns (exit code, stdout, stderr).
fn copy_database(from: &str, to: &str, key: &str) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_roster"))
        .env_remove("ROSTER_DATABASE_URL")
        .env_remove("ROSTER_KEY_FILE")
        .env("ROSTER_SECRET_KEY", key)
        .env("ROSTER_LOG", "error")
        .args(["copy-database", "--from", from, "--to", to])
        .output()
        .expect("run roster");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// A value as both backends can show it (booleans as 0/1, as SQLite stores them).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Val {
    Null,
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
}

/// A table of the PostgreSQL schema: its columns (name, type) and primary key.
struct Table {
    columns: Vec<(String, String)>,
    key: Vec<String>,
}

/// Every table of the PostgreSQL database but the migrations' bookkeeping, from its catalog
/// (read independently of the code under test).
async fn pg_tables(pg: &sqlx::PgPool) -> BTreeMap<String, Table> {
    let cols: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT c.table_name::text, c.column_name::text, c.data_type::text FROM information_schema.columns c \
         JOIN information_schema.tables t USING (table_schema, table_name) \
         WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' AND c.table_name <> '_sqlx_migrations' \
         ORDER BY c.table_name, c.ordinal_position",
    )
    .fetch_all(pg)
    .await
    .expect("columns");
    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    for (t, c, ty) in cols {
        tables.entry(t).or_insert_with(|| Table { columns: Vec::new(), key: Vec::new() }).columns.push((c, ty));
    }
    for (name, table) in tables.iter_mut() {
        table.key = sqlx::query_scalar(
            "SELECT a.attname::text FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid \
             AND a.attnum = ANY (i.indkey) WHERE i.indisprimary AND i.indrelid = $1::regclass \
             ORDER BY array_position(i.indkey::int2[], a.attnum)",
        )
        .bind(name)
        .fetch_all(pg)
        .await
        .expect("primary key");
        assert!(!table.key.is_empty(), "table {name} has no primary key");
    }
    tables
}

/// The SQLite database's own tables (not FTS5's shadow tables of the `users_search` index,
/// which PostgreSQL answers with a GIN index) and their columns.
async fn sqlite_tables(lite: &sqlx::SqlitePool) -> BTreeMap<String, Vec<String>> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name <> '_sqlx_migrations' AND name NOT LIKE 'users_search%' ORDER BY name",
    )
    .fetch_all(lite)
    .await
    .expect("tables");
    let mut tables = BTreeMap::new();
    for name in names {
        let cols: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info(?) ORDER BY cid")
            .bind(&name)
            .fetch_all(lite)
            .await
            .expect("columns");
        tables.insert(name, cols);
    }
    tables
}

fn select(name: &str, t: &Table) -> String {
    let cols: Vec<&str> = t.columns.iter().map(|(c, _)| c.as_str()).collect();
    format!("SELECT {} FROM {name} ORDER BY {}", cols.join(", "), t.key.join(", "))
}

/// Every row of a table in SQLite, by each value's own storage class.
async fn sqlite_rows(lite: &sqlx::SqlitePool, name: &str, t: &Table) -> Vec<Vec<Val>> {
    let rows = sqlx::query(&select(name, t)).fetch_all(lite).await.expect("read sqlite");
    rows.iter()
        .map(|r| {
            (0..r.columns().len())
                .map(|i| {
                    let raw = r.try_get_raw(i).expect("value");
                    if raw.is_null() {
                        return Val::Null;
                    }
                    match raw.type_info().name() {
                        "INTEGER" => Val::Int(r.get(i)),
                        "TEXT" => Val::Text(r.get(i)),
                        "BLOB" => Val::Bytes(r.get(i)),
                        other => panic!("{name}.{}: unexpected SQLite value of type {other}", r.column(i).name()),
                    }
                })
                .collect()
        })
        .collect()
}

/// Every row of a table in PostgreSQL, by its column types.
async fn pg_rows(pg: &sqlx::PgPool, name: &str, t: &Table) -> Vec<Vec<Val>> {
    let rows = sqlx::query(&select(name, t)).fetch_all(pg).await.expect("read postgres");
    rows.iter()
        .map(|r| {
            t.columns
                .iter()
                .enumerate()
                .map(|(i, (c, ty))| match ty.as_str() {
                    "bigint" => r.get::<Option<i64>, _>(i).map_or(Val::Null, Val::Int),
                    "boolean" => r.get::<Option<bool>, _>(i).map_or(Val::Null, |b| Val::Int(b as i64)),
                    "text" => r.get::<Option<String>, _>(i).map_or(Val::Null, Val::Text),
                    "bytea" => r.get::<Option<Vec<u8>>, _>(i).map_or(Val::Null, Val::Bytes),
                    other => panic!("{name}.{c}: type {other} not compared by this test"),
                })
                .collect()
        })
        .collect()
}

/// Every table's rows on PostgreSQL (for "left unchanged" checks).
async fn pg_snapshot(pg: &sqlx::PgPool) -> BTreeMap<String, Vec<Vec<Val>>> {
    let mut all = BTreeMap::new();
    for (name, t) in pg_tables(pg).await {
        let rows = pg_rows(pg, &name, &t).await;
        all.insert(name, rows);
    }
    all
}

#[tokio::test]
async fn both_backends_have_the_same_tables_and_columns() {
    // copy-database copies the tables the target's catalog lists: one SQLite has and
    // PostgreSQL lacks would be left behind silently.
    let lite_db = TestDb::sqlite().await;
    lite_db.open().await;
    let pg_db = TestDb::postgres().await;
    let lite = sqlx::SqlitePool::connect(&lite_db.url).await.expect("sqlite");
    let pg = sqlx::PgPool::connect(&pg_db.url).await.expect("postgres");
    let on_pg: BTreeMap<String, Vec<String>> = pg_tables(&pg)
        .await
        .into_iter()
        .map(|(name, t)| (name, t.columns.into_iter().map(|(c, _)| c).collect()))
        .collect();
    let on_sqlite = sqlite_tables(&lite).await;
    assert_eq!(on_sqlite.keys().collect::<Vec<_>>(), on_pg.keys().collect::<Vec<_>>(), "tables differ");
    for (name, cols) in &on_sqlite {
        let mut a = cols.clone();
        let mut b = on_pg[name].clone();
        a.sort();
        b.sort();
        assert_eq!(a, b, "columns of {name} differ");
    }
}

#[tokio::test]
async fn a_sqlite_instance_copied_to_postgres_keeps_every_row_and_still_works() {
    // --- An instance on SQLite, used through the real server.
    let src = TestApp::start_on(TestDb::sqlite().await, config()).await;
    // As `roster serve` does on its first start: seal the key check value.
    app::backend::services::instance_key::verify(&src.backend).await.expect("key check");
    let admin = src.admin().await;
    let (s, b) = admin.post_json("/api/v1/orgs", &json!({"name": "Acme"})).await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = admin.post_json("/api/v1/roles", &json!({"name": "Auditor", "abilities": ["view-users"]})).await;
    assert_eq!(s, 201, "{b}");
    let alice = src.member(&admin, "alice", "Acme", "Auditor").await;
    src.member(&admin, "bob", "Default", "Member").await;
    let (totp_secret, recovery) = enrol(&src, &alice).await;
    let (s, t) = admin.post_json("/api/v1/tokens", &json!({"name": "ci", "kind": "pat"})).await;
    assert_eq!(s, 201, "{t}");
    let token = t["token"].as_str().expect("token").to_string();
    let issuer = discovery_only_provider().await;
    let sso = json!({
        "slug": "corp", "display_name": "Corp IdP", "issuer": issuer, "client_id": "roster",
        "client_secret": "the client secret", "auto_create": true, "org": "Default", "role": "Member",
    });
    let (s, b) = admin.post_json("/api/v1/sso/providers", &sso).await;
    assert_eq!(s, 201, "{b}");
    // A failed sign-in: a throttle row and a failure in the audit trail.
    assert_eq!(src.browser().rpc("sign_in", &[("login", "bob"), ("password", "wrong password!")]).await.0, 401);

    let lite = sqlx::SqlitePool::connect(&src.db_url).await.expect("sqlite");
    for table in ["audit_events", "sessions", "totp", "recovery_codes", "api_tokens", "sso_providers", "settings"] {
        let n: i64 =
            sqlx::query_scalar(&format!("SELECT count(*) FROM {table}")).fetch_one(&lite).await.expect("count");
        assert!(n > 0, "the source has no {table} rows: the test would prove nothing about them");
    }

    // --- The copy, by the real binary, into a new (migrated, untouched) PostgreSQL database.
    let target = TestDb::postgres().await;
    let (code, out, err) = copy_database(&src.db_url, &target.url, &key_b64());
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("users: 4 rows"), "{out}");
    assert!(out.lines().last().unwrap_or("").starts_with("Copied "), "{out}");

    // --- Every table, row by row.
    let pg = sqlx::PgPool::connect(&target.url).await.expect("postgres");
    let tables = pg_tables(&pg).await;
    assert_eq!(
        tables.keys().collect::<Vec<_>>(),
        sqlite_tables(&lite).await.keys().collect::<Vec<_>>(),
        "the same tables on both"
    );
    for (name, t) in &tables {
        let (a, b) = (sqlite_rows(&lite, name, t).await, pg_rows(&pg, name, t).await);
        assert_eq!(a.len(), b.len(), "row count of {name}");
        assert_eq!(a, b, "rows of {name}");
        let line = format!("{name}: {} {}", a.len(), if a.len() == 1 { "row" } else { "rows" });
        assert!(out.lines().any(|l| l == line), "no '{line}' in:\n{out}");
    }
    lite.close().await;

    // --- A server on the copy, with the same key.
    let copy = TestApp::start_on(target, config()).await;
    app::backend::services::instance_key::verify(&copy.backend).await.expect("the copy opens with the same key");
    copy.clock.advance_ms(60_000);
    // Password, then a TOTP code (the seed was copied sealed and opens with the key).
    let c = copy.browser();
    let (s, b) = c.rpc("sign_in", &[("login", "alice"), ("password", MEMBER_PW)]).await;
    assert_eq!((s, b), (200, json!({"SecondFactor": {"totp": true, "passkey": false}})));
    let (s, b) = c.rpc("sign_in_code", &[("code", &oathtool(&totp_secret, secs(&copy)))]).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(c.rpc("current_user", &[]).await.1["username"], "alice");
    // A recovery code too.
    let r = copy.browser();
    assert_eq!(r.rpc("sign_in", &[("login", "alice"), ("password", MEMBER_PW)]).await.0, 200);
    assert_eq!(r.rpc("sign_in_code", &[("code", &recovery[0])]).await.0, 200);
    // The admin's browser session from the SQLite instance, and its token.
    let old_session = Client { http: admin.http.clone(), base: copy.base.clone() };
    let (s, me) = old_session.get("/api/v1/me").await;
    assert_eq!((s, me["username"].clone()), (200, json!("admin")), "{me}");
    let (s, me) = copy.with_token(&token).get("/api/v1/me").await;
    assert_eq!((s, me["username"].clone()), (200, json!("admin")), "{me}");
    // The SSO client secret opens with the key (as a sign-in through the provider opens it).
    let sealed: Vec<u8> = sqlx::query_scalar("SELECT client_secret FROM sso_providers WHERE slug = 'corp'")
        .fetch_one(&pg)
        .await
        .expect("provider");
    let opened = app::backend::crypto::SecretBox::new(&KEY).open(&sealed, "sso:corp").expect("opens");
    assert_eq!(opened, b"the client secret");
    let (_, list) = old_session.get("/api/v1/sso/providers").await;
    assert_eq!(list[0]["has_secret"], json!(true), "{list}");
    // Starting a sign-in through the provider opens it too (on an instance with a public URL,
    // which redirect URIs need).
    let with_url = app::backend::Backend::new(
        app::backend::store::open(&copy.db_url).await.expect("open the copy"),
        Config { public_origin: Some("http://roster.test".into()), ..config() },
        std::sync::Arc::new(app::backend::SystemClock),
    );
    let begun = app::backend::services::sso::begin(&with_url, &app::backend::Ctx::cli(), "corp", false)
        .await
        .expect("a sign-in through the copied provider starts");
    assert!(begun.url.starts_with(&format!("{issuer}/auth?")), "{}", begun.url);

    // --- New rows on the copy get new ids (the sequences were moved past the copied ones).
    // (writes come from a browser on the copy's own origin: the old one sends the source's)
    let admin = copy.browser();
    let (s, b) = admin.rpc("sign_in", &[("login", "admin"), ("password", ADMIN_PW)]).await;
    assert_eq!(s, 200, "{b}");
    let max_user: i64 = sqlx::query_scalar("SELECT max(id) FROM users").fetch_one(&pg).await.expect("max");
    let max_audit: i64 = sqlx::query_scalar("SELECT max(id) FROM audit_events").fetch_one(&pg).await.expect("max");
    let (s, b) = admin
        .post_json(
            "/api/v1/users",
            &json!({"username": "carol", "email": "carol@example.com", "password": "a long enough passphrase"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = admin.post_json("/api/v1/orgs", &json!({"name": "Beta"})).await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = admin.post_json("/api/v1/roles", &json!({"name": "Second", "abilities": []})).await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = admin.post_json("/api/v1/tokens", &json!({"name": "ci2", "kind": "pat"})).await;
    assert_eq!(s, 201, "{b}");
    let carol: i64 =
        sqlx::query_scalar("SELECT id FROM users WHERE username = 'carol'").fetch_one(&pg).await.expect("carol");
    assert_eq!(carol, max_user + 1);
    let audit: i64 = sqlx::query_scalar("SELECT max(id) FROM audit_events").fetch_one(&pg).await.expect("max");
    assert!(audit > max_audit);
    // And password sign-in of a copied account without a second factor.
    let bob = copy.browser();
    assert_eq!(bob.rpc("sign_in", &[("login", "bob"), ("password", MEMBER_PW)]).await.0, 200);

    // --- A second copy into the same database: refused, naming a table, nothing changed.
    let before = pg_snapshot(&pg).await;
    let (code, out, err) = copy_database(&src.db_url, &copy.db_url, &key_b64());
    assert_eq!(code, 5, "stdout:\n{out}\nstderr:\n{err}");
    assert!(err.contains("the target database is not empty: table "), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert_eq!(pg_snapshot(&pg).await, before, "the refused copy changed the target");
    pg.close().await;
}

#[tokio::test]
async fn a_wrong_key_a_bad_url_or_an_unreachable_target_is_refused_with_one_line() {
    let src = TestApp::start_on(TestDb::sqlite().await, config()).await;
    app::backend::services::instance_key::verify(&src.backend).await.expect("key check");
    src.admin().await;
    let target = TestDb::postgres().await;
    let pg = sqlx::PgPool::connect(&target.url).await.expect("postgres");
    let before = pg_snapshot(&pg).await;

    let other_key = base64::engine::general_purpose::STANDARD.encode([9u8; 32]);
    let cases: Vec<(String, String, String, i32, &str)> = vec![
        (src.db_url.clone(), target.url.clone(), other_key, 5, "instance key cannot open the secrets"),
        (src.db_url.clone(), "mysql://roster@localhost/roster".into(), key_b64(), 2, "unsupported database URL"),
        (target.url.clone(), target.url.clone(), key_b64(), 2, "--from must be a sqlite: URL"),
        (src.db_url.clone(), src.db_url.clone(), key_b64(), 2, "--to must be a postgres:// URL"),
        (
            src.db_url.clone(),
            "postgres://roster:secret-password@127.0.0.1:1/roster".into(),
            key_b64(),
            7,
            "cannot open the target database",
        ),
        ("sqlite:/nonexistent/roster.db".into(), target.url.clone(), key_b64(), 7, "no SQLite database at"),
        (src.db_url.clone(), target.url.clone(), "not a key".into(), 2, "must hold a 32-byte key"),
    ];
    for (from, to, key, want, says) in cases {
        let (code, out, err) = copy_database(&from, &to, &key);
        assert_eq!(code, want, "{from} -> {to}: stdout:\n{out}\nstderr:\n{err}");
        assert!(err.contains(says), "{from} -> {to}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        assert!(!err.contains("secret-password") && !err.contains("panicked"), "{err}");
    }
    // A source this Roster has not fully migrated, then one a newer Roster migrated.
    let lite = sqlx::SqlitePool::connect(&src.db_url).await.expect("sqlite");
    let last: i64 = sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations").fetch_one(&lite).await.expect("v");
    sqlx::query("UPDATE _sqlx_migrations SET version = 99999 WHERE version = ?")
        .bind(last)
        .execute(&lite)
        .await
        .expect("pretend");
    let (code, _, err) = copy_database(&src.db_url, &target.url, &key_b64());
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("the source database is not up to date (1 migration(s) pending)"), "{err}");
    sqlx::query("UPDATE _sqlx_migrations SET version = ? WHERE version = 99999")
        .bind(last)
        .execute(&lite)
        .await
        .expect("restore");
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (99999, 'newer', 1, x'00', 0)",
    )
    .execute(&lite)
    .await
    .expect("pretend");
    lite.close().await;
    let (code, _, err) = copy_database(&src.db_url, &target.url, &key_b64());
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("the source database has migrations this Roster does not know (99999)"), "{err}");
    assert_eq!(pg_snapshot(&pg).await, before, "a refused copy changed the target");
    pg.close().await;
}

#[tokio::test]
async fn many_rows_copy_in_batches_and_new_ids_come_after_them() {
    // (5,000 rows: three batches of at most 2,000)
    let db = TestDb::sqlite().await;
    let store = db.open().await;
    drop(store);
    let lite = sqlx::SqlitePool::connect(&db.url).await.expect("sqlite");
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000) \
         INSERT INTO audit_events (id, at, actor, event, outcome, after) \
         SELECT i, i * 1000, 'admin', 'user.updated', 'success', '{\"n\":' || i || '}' FROM n",
    )
    .execute(&lite)
    .await
    .expect("seed");
    lite.close().await;
    let target = TestDb::postgres().await;
    // (no key check value in this source: the copy says it could not verify the key)
    let (code, out, err) = copy_database(&db.url, &target.url, &key_b64());
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("audit_events: 5,000 rows"), "{out}");
    assert!(out.contains("could not be verified"), "{out}");
    let pg = sqlx::PgPool::connect(&target.url).await.expect("postgres");
    let (n, max): (i64, i64) =
        sqlx::query_as("SELECT count(*), max(id) FROM audit_events").fetch_one(&pg).await.expect("count");
    assert_eq!((n, max), (5_000, 5_000));
    let next: i64 = sqlx::query_scalar("SELECT nextval(pg_get_serial_sequence('audit_events', 'id'))")
        .fetch_one(&pg)
        .await
        .expect("sequence");
    assert_eq!(next, 5_001);
    pg.close().await;
}
