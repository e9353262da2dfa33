//! Fresh databases for tests, on either backend: a SQLite file in a temp dir, or a new
//! PostgreSQL database copied from a template that has the migrations applied once per test
//! process (copying a template is far faster than migrating every database).
//!
//! PostgreSQL comes from `ROSTER_TEST_PG_URL` (a superuser-ish URL of any database on the
//! test cluster; `make test` starts one). When it is unset, every PostgreSQL test fails, never
//! skips: a skipped backend is a green build that tests nothing.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use app::backend::store::Store;
use sqlx::Connection;

/// The two backends a test can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

impl Kind {
    /// The backend `ROSTER_TEST_BACKEND` names (`sqlite`, the default, or `postgres`).
    pub fn from_env() -> Kind {
        match std::env::var("ROSTER_TEST_BACKEND").as_deref() {
            Ok("postgres") | Ok("postgresql") | Ok("pg") => Kind::Postgres,
            Ok("sqlite") | Ok("") | Err(_) => Kind::Sqlite,
            Ok(other) => panic!("ROSTER_TEST_BACKEND={other}: expected sqlite or postgres"),
        }
    }
}

/// A database of its own for one test; a PostgreSQL one is dropped with its `pg` guard.
pub struct TestDb {
    pub kind: Kind,
    pub url: String,
    /// Holds the SQLite file (and anything else a test puts beside it).
    pub dir: tempfile::TempDir,
    pub pg: Option<PgGuard>,
}

/// Drops its PostgreSQL database when dropped.
pub struct PgGuard {
    admin: String,
    name: String,
}

/// The PostgreSQL cluster's URL, or a failure that says how to get one.
pub fn pg_admin_url() -> String {
    match std::env::var("ROSTER_TEST_PG_URL") {
        Ok(u) if !u.trim().is_empty() => u,
        _ => panic!(
            "ROSTER_TEST_PG_URL is not set: the PostgreSQL half of this test cannot run. Run `make test` \
             (it starts a throwaway cluster), or start one with `scripts/postgres.sh start DIR` and set \
             ROSTER_TEST_PG_URL to the URL it prints."
        ),
    }
}

/// `url` with its database name replaced by `db`.
pub fn pg_url_for(admin: &str, db: &str) -> String {
    let (base, query) = match admin.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (admin, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

/// A name no other test or test process uses.
fn unique_name(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("{prefix}_{}_{}_{nanos}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// The migrated template of this process: created once, under a name of its own, so parallel
/// test processes never race on one template.
static TEMPLATE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();

async fn template(admin: &str) -> String {
    TEMPLATE
        .get_or_init(|| async {
            let name = unique_name("roster_template");
            let mut conn = sqlx::PgConnection::connect(admin).await.expect("connect to ROSTER_TEST_PG_URL");
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("create template");
            conn.close().await.ok();
            let store =
                app::backend::store::postgres::PgStore::open(&pg_url_for(admin, &name)).await.expect("open template");
            store.migrate().await.expect("migrate template");
            // PostgreSQL refuses to copy a database anything is connected to.
            store.close().await;
            name
        })
        .await
        .clone()
}

impl TestDb {
    pub async fn new(kind: Kind) -> TestDb {
        match kind {
            Kind::Sqlite => TestDb::sqlite().await,
            Kind::Postgres => TestDb::postgres().await,
        }
    }

    /// A SQLite file in a new temp dir (migrated when opened through `open`).
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite:{}", dir.path().join("roster.db").display());
        TestDb { kind: Kind::Sqlite, url, dir, pg: None }
    }

    /// A new PostgreSQL database, already migrated (a copy of this process's template).
    pub async fn postgres() -> TestDb {
        let admin = pg_admin_url();
        let template = template(&admin).await;
        let name = unique_name("roster_t");
        let mut conn = sqlx::PgConnection::connect(&admin).await.expect("connect to ROSTER_TEST_PG_URL");
        // Copies of one template may briefly collide ("source database is being accessed by
        // other users") while another copy starts; retry a few times.
        let mut attempt = 0;
        loop {
            match sqlx::query(&format!("CREATE DATABASE {name} TEMPLATE {template}")).execute(&mut conn).await {
                Ok(_) => break,
                Err(e) if attempt < 50 && e.to_string().contains("being accessed by other users") => {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                Err(e) => panic!("create test database: {e}"),
            }
        }
        conn.close().await.ok();
        let dir = tempfile::tempdir().expect("temp dir");
        TestDb { kind: Kind::Postgres, url: pg_url_for(&admin, &name), dir, pg: Some(PgGuard { admin, name }) }
    }

    /// A store on this database, migrated, through the backend-neutral `store::open`.
    pub async fn open(&self) -> Arc<dyn Store> {
        let store = app::backend::store::open(&self.url).await.expect("open store");
        store.migrate().await.expect("migrate");
        store
    }
}

impl Drop for PgGuard {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        // Best effort, on a thread of its own (no async in drop); FORCE ends the test's
        // remaining connections.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            rt.block_on(async {
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                    let _ =
                        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await;
                    let _ = conn.close().await;
                }
            });
        })
        .join();
    }
}
