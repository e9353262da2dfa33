//! The change feed between instances on one PostgreSQL database (always PostgreSQL: it is
//! that backend's; on SQLite there is one server per file, and the CLI is polled for, see
//! `access.rs`). Two instances as two processes behind a load balancer would be: each its
//! own pool, access model, caches and listening connection. What one commits is in force on
//! the other from its next request, announced on its event stream; a notice missed (a gap,
//! a killed connection, a restarted database) makes the other reload everything, never patch
//! across the gap.
use crate::common;

use std::time::{Duration, Instant};

use app::backend::Config;
use common::db::{Kind, TestDb};
use common::{Client, Cluster, TestApp, ADMIN_PW, MEMBER_PW};
use serde_json::{json, Value};

/// Both instances share the instance key.
const KEY: [u8; 32] = [9; 32];

fn config() -> Config {
    Config { secret_key: Some(KEY), ..Default::default() }
}

async fn two_instances_on(db: TestDb) -> (TestApp, TestApp) {
    let a = TestApp::start_on(db, config()).await;
    let b = a.second_instance().await;
    (a, b)
}

async fn two_instances() -> (TestApp, TestApp) {
    two_instances_on(TestDb::new(Kind::Postgres).await).await
}

async fn sign_in(app: &TestApp, user: &str, password: &str) -> Client {
    let c = app.browser();
    let (s, body) = c.rpc("sign_in", &[("login", user), ("password", password)]).await;
    assert_eq!(s, 200, "sign in {user}: {body}");
    c
}

async fn role_id(c: &Client, name: &str) -> i64 {
    let (_, roles) = c.get("/api/v1/roles").await;
    roles.as_array().expect("roles").iter().find(|r| r["name"] == name).and_then(|r| r["id"].as_i64()).expect("role")
}

async fn allowed(c: &Client, user: &str, ability: &str) -> bool {
    let (s, v) = c.get(&format!("/api/v1/check?user={user}&org=Acme&ability={ability}")).await;
    assert_eq!(s, 200, "{v}");
    v["allowed"] == json!(true)
}

/// Ticks or clears `ability` for the role `role` (on whichever instance `admin` talks to).
async fn set_ability(admin: &Client, role: i64, ability: &str, on: bool) {
    let url = format!("{}/api/v1/roles/{role}/abilities/{ability}", admin.base);
    let req = if on { admin.http.put(url) } else { admin.http.delete(url) };
    let status = req.send().await.expect("role change").status().as_u16();
    assert_eq!(status, 200);
}

/// Waits until `b` has applied access version `version`; how long that took.
async fn applied(b: &TestApp, version: i64, within: Duration) -> Duration {
    let t = Instant::now();
    while b.backend.access.version() < version {
        assert!(
            t.elapsed() < within,
            "the other instance did not apply version {version} within {within:?} (it has {})",
            b.backend.access.version()
        );
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
    t.elapsed()
}

/// An organization, an admin (on A), Mia as Member and Vic as Viewer in it.
async fn acme(a: &TestApp) -> Client {
    let admin = a.admin().await;
    let (s, e) = admin.post_json("/api/v1/orgs", &json!({"name": "Acme"})).await;
    assert_eq!(s, 201, "{e}");
    a.member(&admin, "mia", "Acme", "Member").await;
    a.member(&admin, "vic", "Acme", "Viewer").await;
    admin
}

/// Reads an event stream until an event names `version` (or fails after 5 s).
async fn stream_reaches(stream: &mut reqwest::Response, version: i64) {
    // (each change: `event: change` with the version it produced in its JSON)
    let want = format!("\"version\":{version},");
    let mut seen = String::new();
    while !seen.contains(&want) {
        let chunk = tokio::time::timeout(Duration::from_secs(5), stream.chunk())
            .await
            .unwrap_or_else(|_| panic!("no event for version {version} on the other instance's stream: {seen}"))
            .expect("chunk")
            .expect("the stream ended");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_role_changed_on_one_instance_is_in_force_on_the_other_and_on_its_event_stream() {
    let (a, b) = two_instances().await;
    let admin = acme(&a).await;
    let member_role = role_id(&admin, "Member").await;
    let admin_b = sign_in(&b, "admin", ADMIN_PW).await;
    let mut stream = admin_b.http.get(format!("{}/api/v1/events", b.base)).send().await.expect("events");
    assert_eq!(stream.status().as_u16(), 200);
    let mut delays = Vec::new();
    for round in 0..20 {
        let on = round % 2 == 0;
        set_ability(&admin, member_role, "manage-users", on).await;
        // (A applied its own change before it answered)
        let version = a.backend.access.version();
        // The poll is not running in these tests: only the feed can bring the change over, and
        // it must do so well within the second the poll would take.
        delays.push(applied(&b, version, Duration::from_millis(500)).await);
        assert_eq!(allowed(&admin_b, "mia", "manage-users").await, on, "round {round}: B's next check");
        stream_reaches(&mut stream, version).await;
    }
    delays.sort();
    eprintln!(
        "change feed, commit on A -> applied on B over {} changes: p50 {:?}, p95 {:?}, max {:?}",
        delays.len(),
        delays[delays.len() / 2],
        delays[delays.len() * 95 / 100],
        delays[delays.len() - 1]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_token_revoked_or_an_account_disabled_on_one_instance_is_refused_by_the_other_at_once() {
    let (a, b) = two_instances().await;
    let admin = acme(&a).await;
    let mia = sign_in(&a, "mia", MEMBER_PW).await;
    let (s, t) = mia.post_json("/api/v1/tokens", &json!({"name": "ci", "kind": "pat", "expires_in_days": 30})).await;
    assert_eq!(s, 201, "{t}");
    let token = t["token"].as_str().expect("token").to_string();
    // B resolves the token (and keeps it in its look-up cache)...
    let on_b = b.with_token(&token);
    assert_eq!(on_b.get("/api/v1/me").await.0, 200);
    assert_eq!(on_b.get("/api/v1/me").await.0, 200);
    // ...until it is revoked on A: refused by B on its next request, not a cache lifetime later.
    let (s, _) = mia.delete(&format!("/api/v1/tokens/{}", t["info"]["id"])).await;
    assert_eq!(s, 204);
    refused_soon(&on_b).await;

    // The same for a session: Mia's browser signed in on A, its requests going to B.
    let mia_on_b = Client { http: mia.http.clone(), base: b.base.clone() };
    assert_eq!(mia_on_b.get("/api/v1/me").await.0, 200);
    assert_eq!(mia_on_b.get("/api/v1/me").await.0, 200);
    let (s, e) = admin.patch_json("/api/v1/users/mia", &json!({"status": "disabled"})).await;
    assert_eq!(s, 200, "{e}");
    refused_soon(&mia_on_b).await;
}

/// `c`'s next requests are refused within a few milliseconds (the time a notice takes to
/// travel; the look-up cache would otherwise keep the answer for up to a second).
async fn refused_soon(c: &Client) {
    let t = Instant::now();
    loop {
        let (s, body) = c.get("/api/v1/me").await;
        if s == 401 {
            eprintln!("refused by the other instance after {:?}", t.elapsed());
            return;
        }
        assert!(t.elapsed() < Duration::from_millis(300), "still accepted by the other instance: {s} {body}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn after_a_gap_or_a_killed_listener_the_other_instance_reloads_everything() {
    let (a, b) = two_instances().await;
    let admin = acme(&a).await;
    let admin_b = sign_in(&b, "admin", ADMIN_PW).await;
    let (member_role, viewer_role) = (role_id(&admin, "Member").await, role_id(&admin, "Viewer").await);

    // A change nobody announces (written as a process without the feed would): the version
    // moves and the feed says nothing.
    a.exec(&format!("INSERT INTO role_abilities (role_id, ability) VALUES ({viewer_role}, 'run-backups')")).await;
    a.exec("UPDATE access_version SET version = version + 1 WHERE id = 1").await;
    assert!(!allowed(&admin_b, "vic", "run-backups").await);
    // The next announced change (to another role) arrives after that gap: patching in just
    // the announced role would leave Vic's change unseen for good; B reloads everything.
    set_ability(&admin, member_role, "manage-users", true).await;
    applied(&b, a.backend.access.version(), Duration::from_millis(500)).await;
    assert!(allowed(&admin_b, "mia", "manage-users").await);
    assert!(allowed(&admin_b, "vic", "run-backups").await, "the unannounced change, read by the reload after the gap");

    // B's listening connection is killed (an operator, a failover), and A changes a role
    // while B is without it: B listens again, reloads, and has the change.
    let listens = b.backend.feed.listens();
    let killed = a
        .count(
            "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = 'roster-listen' AND datname = current_database()) k",
        )
        .await;
    assert_eq!(killed, 2, "each instance listens on a connection named roster-listen");
    set_ability(&admin, member_role, "manage-users", false).await;
    let t = Instant::now();
    while b.backend.feed.listens() == listens || !b.backend.feed.connected() {
        assert!(t.elapsed() < Duration::from_secs(10), "B never listened again");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    applied(&b, a.backend.access.version(), Duration::from_secs(5)).await;
    assert!(!allowed(&admin_b, "mia", "manage-users").await);
    let (_, in_db) = b.backend.store.load_access().await.expect("load");
    assert_eq!(*b.backend.access.read(), in_db, "B's model is the database's");
    // And the feed works on the new connection.
    set_ability(&admin, viewer_role, "run-backups", false).await;
    applied(&b, a.backend.access.version(), Duration::from_millis(500)).await;
    assert!(!allowed(&admin_b, "vic", "run-backups").await);
}

/// `GET /readyz` of `app`: its status, or 0 when it does not answer within 5 s (it answers
/// within 2 s, whatever the database does).
async fn ready(app: &TestApp) -> u16 {
    let get = reqwest::Client::new().get(format!("{}/readyz", app.base)).timeout(Duration::from_secs(5)).send();
    match get.await {
        Ok(r) => r.status().as_u16(),
        Err(_) => 0,
    }
}

async fn until(what: &str, within: Duration, mut f: impl AsyncFnMut() -> bool) {
    let t = Instant::now();
    while !f().await {
        assert!(t.elapsed() < within, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn both_instances_are_ready_again_after_postgresql_restarts_under_them() {
    // (a cluster of its own: the shared one serves every other test meanwhile)
    let cluster = Cluster::start();
    let db =
        TestDb { kind: Kind::Postgres, url: cluster.url.clone(), dir: tempfile::tempdir().expect("dir"), pg: None };
    let (a, b) = two_instances_on(db).await;
    let admin = acme(&a).await;
    let member_role = role_id(&admin, "Member").await;
    assert_eq!((ready(&a).await, ready(&b).await), (200, 200));

    Cluster::script("stop", cluster.dir.path());
    until("both instances not ready", Duration::from_secs(10), async || {
        let (ra, rb) = (ready(&a).await, ready(&b).await);
        assert!(ra != 0 && rb != 0, "/readyz must answer while the database is away");
        ra == 503 && rb == 503
    })
    .await;
    let (s, _) =
        reqwest::Client::new().get(format!("{}/readyz", b.base)).send().await.map(|r| (r.status(), ())).expect("b");
    assert_eq!(s.as_u16(), 503, "not ready, with a reason, while the database is away");

    Cluster::script("up", cluster.dir.path());
    until("both instances ready again", Duration::from_secs(60), async || {
        ready(&a).await == 200 && ready(&b).await == 200
    })
    .await;
    // The same sessions work, and changes travel again.
    let admin_b = sign_in(&b, "admin", ADMIN_PW).await;
    set_ability(&admin, member_role, "manage-users", true).await;
    applied(&b, a.backend.access.version(), Duration::from_secs(2)).await;
    assert!(allowed(&admin_b, "mia", "manage-users").await);
    let body: Value = reqwest::get(format!("{}/readyz", a.base)).await.expect("a").json().await.expect("json");
    assert_eq!(body, json!({"status": "ready"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_instance_killed_in_the_middle_of_writes_leaves_the_other_unaffected_and_nothing_half_written() {
    use base64::Engine;
    let b = TestApp::start_on(TestDb::new(Kind::Postgres).await, config()).await;
    let admin = b.admin().await;
    // Instance A: a `roster serve` process on the same database, with the same key.
    let key_file = b.dir.path().join("roster.key");
    std::fs::write(&key_file, base64::engine::general_purpose::STANDARD.encode(KEY)).expect("key file");
    let db_url = b.db_url.clone();
    let key = key_file.display().to_string();
    let mut a = tokio::task::spawn_blocking(move || {
        common::Served::start(&db_url, &["--key-file", &key, "--metrics-addr", "127.0.0.1:0"])
    })
    .await
    .expect("start A");
    // A hears B's changes (once ready: its feed listens), and says so in its metrics.
    let a_ready = format!("http://{}/readyz", a.addr);
    until("A ready", Duration::from_secs(30), async || {
        reqwest::get(&a_ready).await.is_ok_and(|r| r.status().as_u16() == 200)
    })
    .await;
    let (s, e) = admin.post_json("/api/v1/users", &json!({"username": "heard", "email": "heard@example.com"})).await;
    assert_eq!(s, 201, "{e}");
    let metrics = {
        let log = a.log.lock().expect("log").clone();
        let line = log.iter().find_map(|l| l.split("metrics on http://").nth(1).map(str::to_string));
        let addr = line.expect("metrics address logged");
        format!("http://{}", addr.split_whitespace().next().unwrap_or_default())
    };
    until("A applied B's change", Duration::from_secs(5), async || {
        let text = reqwest::get(&metrics).await.expect("scrape").text().await.expect("text");
        text.contains("roster_change_feed_connected 1") && text.contains("roster_change_feed_lag_seconds_count 1")
    })
    .await;
    let a_origin = format!("http://{}", a.addr);
    let on_a = Client { http: b.browser_at(&a_origin).http, base: a_origin };
    let (s, body) = on_a.rpc("sign_in", &[("login", "admin"), ("password", ADMIN_PW)]).await;
    assert_eq!(s, 200, "{body}");
    // Four writers create accounts through A as fast as it answers...
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let c = on_a.clone();
            tokio::spawn(async move {
                for i in 0.. {
                    let name = format!("w{w}n{i}");
                    let body = json!({"username": name, "email": format!("{name}@example.com"), "password": MEMBER_PW});
                    // (the connection breaks when A dies: that is the end of this writer)
                    let sent = c.http.post(format!("{}/api/v1/users", c.base)).json(&body).send().await;
                    if !sent.is_ok_and(|r| r.status().as_u16() == 201) {
                        return i;
                    }
                }
                0
            })
        })
        .collect();
    // ...and A is killed (no shutdown of any kind) once some have landed.
    until("A writes", Duration::from_secs(30), async || b.count("SELECT COUNT(*) FROM users").await >= 12).await;
    a.signal("KILL");
    assert_eq!(a.exit_code_within(10), None, "killed by a signal: no exit code");
    for w in writers {
        w.await.expect("writer");
    }
    // B goes on: ready, and its next write is not stuck behind A's (dead) transaction.
    assert_eq!(ready(&b).await, 200);
    let t = Instant::now();
    let (s, e) = admin
        .post_json("/api/v1/users", &json!({"username": "after", "email": "after@example.com", "password": MEMBER_PW}))
        .await;
    assert_eq!(s, 201, "{e}");
    assert!(t.elapsed() < Duration::from_secs(5), "B's write waited {:?}", t.elapsed());
    // Nothing half-written: every account has its creation in the audit trail, and every
    // recorded creation its account.
    let orphans = b
        .count(
            "SELECT COUNT(*) FROM users u WHERE u.username <> 'admin' AND u.kind <> 'public' AND NOT EXISTS \
             (SELECT 1 FROM audit_events e WHERE e.event = 'user.created' AND e.target = u.username)",
        )
        .await;
    let ghosts = b
        .count(
            "SELECT COUNT(*) FROM audit_events e WHERE e.event = 'user.created' AND NOT EXISTS \
             (SELECT 1 FROM users u WHERE u.username = e.target)",
        )
        .await;
    assert_eq!((orphans, ghosts), (0, 0));
    assert!(b.count("SELECT COUNT(*) FROM users").await >= 13);
    // B's model is the database's (A's last changes arrived or were never committed).
    applied(&b, b.count("SELECT version FROM access_version").await, Duration::from_secs(2)).await;
    let (_, in_db) = b.backend.store.load_access().await.expect("load");
    assert_eq!(*b.backend.access.read(), in_db);
}
