//! PostgreSQL over TLS (rustls, `sslmode=` in the URL), against a cluster of the test's own that
//! refuses plain connections (`scripts/postgres.sh tls`: a throwaway CA signs a certificate for
//! 127.0.0.1 and localhost). Managed PostgreSQL services demand TLS; this is what an operator's
//! `ROSTER_DATABASE_URL=postgres://...?sslmode=verify-full&sslrootcert=...` meets.
use crate::common;

use app::backend::store::postgres::PgStore;
use app::backend::Config;
use common::db::{Kind, TestDb};
use common::{roster, Cluster, TestApp};

fn with(url: &str, query: &str) -> String {
    format!("{url}?{query}")
}

/// A second CA, unrelated to the cluster's: certificates it did not sign must be refused.
fn other_ca(dir: &std::path::Path) -> String {
    let out = std::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Another CA"])
        .arg("-keyout")
        .arg(dir.join("other-ca.key"))
        .arg("-out")
        .arg(dir.join("other-ca.crt"))
        .output()
        .expect("run openssl");
    assert!(out.status.success(), "openssl: {}", String::from_utf8_lossy(&out.stderr));
    dir.join("other-ca.crt").display().to_string()
}

async fn encrypted(store: &PgStore) -> bool {
    sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(store.pool())
        .await
        .expect("pg_stat_ssl")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_store_connects_over_tls_and_refuses_a_server_it_cannot_verify() {
    let cluster = Cluster::start();
    let ca = Cluster::script("tls", cluster.dir.path());
    let url = &cluster.url;

    // The cluster really refuses plain connections, so the successes below are encrypted ones.
    let plain = PgStore::open(&with(url, "sslmode=disable")).await.err().expect("plain refused");
    assert!(plain.to_string().contains("no encryption"), "{plain}");

    // require: encrypted, the certificate not checked (libpq's meaning).
    let store = PgStore::open(&with(url, "sslmode=require")).await.expect("sslmode=require");
    assert!(encrypted(&store).await);
    // verify-full: the chain to the given CA and the host name (an IP address here) are checked.
    let store = PgStore::open(&with(url, &format!("sslmode=verify-full&sslrootcert={ca}"))).await.expect("verify-full");
    store.migrate().await.expect("migrate over TLS");
    assert!(encrypted(&store).await);
    let localhost = url.replace("@127.0.0.1:", "@localhost:");
    let store =
        PgStore::open(&with(&localhost, &format!("sslmode=verify-full&sslrootcert={ca}"))).await.expect("by name");
    assert!(encrypted(&store).await);

    // A certificate from a CA the operator did not name is refused, for verify-ca and verify-full.
    let other = other_ca(cluster.dir.path());
    for mode in ["verify-ca", "verify-full"] {
        let e = PgStore::open(&with(url, &format!("sslmode={mode}&sslrootcert={other}")))
            .await
            .err()
            .unwrap_or_else(|| panic!("{mode} with the wrong CA must fail"));
        let msg = e.to_string().to_lowercase();
        assert!(msg.contains("certificate") || msg.contains("tls"), "{mode}: {e}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_server_and_the_cli_work_over_verified_tls() {
    let cluster = Cluster::start();
    let ca = Cluster::script("tls", cluster.dir.path());
    let url = with(&cluster.url, &format!("sslmode=verify-full&sslrootcert={ca}"));

    // The CLI: migrate over TLS; with the wrong CA a clear error and a non-zero exit, no panic.
    let (code, _, err) = roster(&url, &["migrate"]);
    assert_eq!(code, 0, "{err}");
    let other = other_ca(cluster.dir.path());
    let wrong = with(&cluster.url, &format!("sslmode=verify-full&sslrootcert={other}"));
    let (code, _, err) = roster(&wrong, &["migrate"]);
    assert_ne!(code, 0);
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.to_lowercase().contains("certificate"), "the error names the certificate problem: {err}");

    // The server: its pool and its change-feed connection both over TLS; sign-up and the
    // readiness check (which waits for the feed to listen) work.
    let db = TestDb { kind: Kind::Postgres, url, dir: tempfile::tempdir().expect("dir"), pg: None };
    let app = TestApp::start_on(db, Config { secret_key: Some([7; 32]), ..Default::default() }).await;
    let _admin = app.admin().await;
    let ready = reqwest::get(format!("{}/readyz", app.base)).await.expect("readyz");
    assert_eq!(ready.status().as_u16(), 200);
    let listening: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
          WHERE a.application_name = 'roster-listen' AND s.ssl",
    )
    .fetch_one(&sqlx::PgPool::connect(&with(&cluster.url, "sslmode=require")).await.expect("observer"))
    .await
    .expect("count");
    assert_eq!(listening, 1, "the change feed listens over TLS too");
}
