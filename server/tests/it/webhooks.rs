//! Events for integrators (issue 13): webhooks delivered from the outbox to a real HTTP
//! receiver on loopback, signed, retried, in commit order, never for a rolled-back change,
//! once across two instances; the event stream with tokens and `Last-Event-ID`.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common;

use common::{TestApp, MEMBER_PW};
use serde_json::{json, Value};

/// One POST as the receiver got it.
#[derive(Debug, Clone)]
struct Received {
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    fn header(&self, name: &str) -> String {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
    }
}

/// A receiver on 127.0.0.1 that records every POST and answers 500 to the first `fail_first`.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    answered: Arc<AtomicUsize>,
    fail_first: Arc<AtomicUsize>,
}

impl Receiver {
    async fn start(fail_first: usize) -> (Receiver, String) {
        let r = Receiver { fail_first: Arc::new(AtomicUsize::new(fail_first)), ..Default::default() };
        let state = r.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let state = state.clone();
                async move {
                    let n = state.answered.fetch_add(1, Ordering::SeqCst);
                    if n < state.fail_first.load(Ordering::SeqCst) {
                        return (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "not now");
                    }
                    state.got.lock().expect("lock").push(Received { headers, body: body.to_vec() });
                    (axum::http::StatusCode::OK, "thanks")
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (r, url)
    }

    fn got(&self) -> Vec<Received> {
        self.got.lock().expect("lock").clone()
    }

    /// Waits until `n` deliveries were accepted (nudging the dispatcher: the clock of these
    /// tests stands still unless moved, so retries come due only when a test moves it).
    async fn wait_for(&self, app: &TestApp, n: usize) -> Vec<Received> {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let got = self.got();
            if got.len() >= n {
                return got;
            }
            assert!(std::time::Instant::now() < deadline, "waited for {n} deliveries, got {}: {got:?}", got.len());
            app.backend.events.wake_dispatcher();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Waits until the hook has recorded `attempts` failed attempts (the receiver answers before
/// the dispatcher writes down the outcome); answers the hook.
async fn failed_attempts(app: &TestApp, admin: &common::Client, id: i64, attempts: i64) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (_, w) = admin.get(&format!("/api/v1/webhooks/{id}")).await;
        if w["attempts"] == attempts {
            return w;
        }
        assert!(std::time::Instant::now() < deadline, "{attempts} failed attempts never recorded: {w}");
        app.backend.events.wake_dispatcher();
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The hook's delivery log once it holds `n` attempts (each is written down right after the
/// receiver answered), newest first.
async fn delivery_log(admin: &common::Client, id: i64, n: usize) -> Vec<Value> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (s, log) = admin.get(&format!("/api/v1/webhooks/{id}/deliveries")).await;
        assert_eq!(s, 200, "{log}");
        let log = log.as_array().cloned().unwrap_or_default();
        if log.len() >= n || std::time::Instant::now() > deadline {
            return log;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn config() -> app::backend::Config {
    app::backend::Config {
        allow_internal_urls: true,
        webhook_retry_ms: 1_000,
        secret_key: Some([7; 32]),
        ..Default::default()
    }
}

/// Adds a hook for `kinds` at `url`; answers (id, secret).
async fn hook(admin: &common::Client, url: &str, kinds: &[&str], orgs: &[&str]) -> (i64, String) {
    let (s, b) =
        admin.post_json("/api/v1/webhooks", &json!({"name": "Cache", "url": url, "kinds": kinds, "orgs": orgs})).await;
    assert_eq!(s, 201, "{b}");
    let secret = b["secret"].as_str().expect("secret").to_string();
    assert!(secret.starts_with("whsec_") && secret.len() > 40, "{secret}");
    (b["webhook"]["id"].as_i64().expect("id"), secret)
}

/// What a receiver checks: the HMAC-SHA256 of "<t>.<body>" under the secret, hex.
fn verified(r: &Received, secret: &str) -> bool {
    use hmac::{Hmac, Mac};
    let header = r.header("roster-signature");
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", v)) => t = Some(v.to_string()),
            Some(("v1", v)) => v1 = Some(v.to_string()),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else { return false };
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(format!("{t}.").as_bytes());
    mac.update(&r.body);
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    hex == v1
}

#[tokio::test]
async fn a_receiver_verifies_the_signature_and_gets_each_change_in_commit_order() {
    let app = TestApp::start_with(config()).await;
    let admin = app.admin().await;
    let (receiver, url) = Receiver::start(0).await;
    // A change before the hook existed is not sent; an account change is not a kind it wants.
    let (s, _) = admin.post_json("/api/v1/roles", &json!({"name": "Auditor"})).await;
    assert_eq!(s, 201);
    let (id, secret) = hook(&admin, &url, &["role", "org"], &[]).await;
    let (s, b) = admin.post_json("/api/v1/orgs", &json!({"name": "Acme"})).await;
    assert_eq!(s, 201, "{b}");
    let (s, _) = app.member(&admin, "mia", "Acme", "Viewer").await.get("/api/v1/me").await;
    assert_eq!(s, 200);
    let (s, b) = admin.patch_json(&format!("/api/v1/orgs/{}", b["id"]), &json!({"name": "Acme Corp"})).await;
    assert_eq!(s, 200, "{b}");
    let got = receiver.wait_for(&app, 2).await;
    let bodies: Vec<Value> = got.iter().map(Received::json).collect();
    assert_eq!(bodies.len(), 2, "{bodies:?}");
    assert_eq!(bodies[0]["kind"], "org");
    assert_eq!(bodies[0]["name"], "Acme");
    assert_eq!(bodies[1]["name"], "Acme Corp");
    assert!(bodies[0]["id"].as_i64() < bodies[1]["id"].as_i64(), "commit order: {bodies:?}");
    assert!(bodies[0]["version"].as_i64() < bodies[1]["version"].as_i64());
    for r in &got {
        assert!(verified(r, &secret), "signature of {:?}", r.header("roster-signature"));
        assert!(!verified(r, "whsec_another"), "a wrong secret does not verify");
        assert_eq!(r.header("roster-event-id"), r.json()["id"].to_string());
        assert_eq!(r.header("roster-webhook-id"), id.to_string());
        assert_eq!(r.header("content-type"), "application/json");
    }
    // The role created before the hook, and the account (a kind it did not ask for): not sent.
    assert!(bodies.iter().all(|b| b["kind"] == "org"), "{bodies:?}");
    let log = delivery_log(&admin, id, 2).await;
    assert_eq!(log.len(), 2, "{log:?}");
    assert!(log.iter().all(|d| d["status"] == 200 && d["response"] == "thanks"), "{log:?}");
    // A rotated secret signs what comes next; the old one no longer verifies.
    let (s, b) = admin
        .reauth_then(|c| async move { c.post_json(&format!("/api/v1/webhooks/{id}/secret"), &json!({})).await })
        .await;
    assert_eq!(s, 200, "{b}");
    let rotated = b["secret"].as_str().expect("secret").to_string();
    assert_ne!(rotated, secret);
    admin.post_json("/api/v1/orgs", &json!({"name": "Beta"})).await;
    let got = receiver.wait_for(&app, 3).await;
    assert!(verified(&got[2], &rotated) && !verified(&got[2], &secret));
}

#[tokio::test]
async fn a_receiver_that_fails_twice_gets_the_event_on_the_third_try() {
    let app = TestApp::start_with(config()).await;
    let admin = app.admin().await;
    let (receiver, url) = Receiver::start(2).await;
    let (id, secret) = hook(&admin, &url, &["role"], &[]).await;
    let (s, _) = admin.post_json("/api/v1/roles", &json!({"name": "Auditor"})).await;
    assert_eq!(s, 201);
    admin.post_json("/api/v1/roles", &json!({"name": "Second"})).await;
    // Each failure waits longer (1 s, then 2 s here); nothing is tried before that.
    for (attempt, wait_ms) in [(1, 1_000), (2, 2_000)] {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while receiver.answered.load(Ordering::SeqCst) < attempt {
            assert!(std::time::Instant::now() < deadline, "attempt {attempt} never came");
            app.backend.events.wake_dispatcher();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        failed_attempts(&app, &admin, id, attempt as i64).await;
        app.backend.events.wake_dispatcher();
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(receiver.answered.load(Ordering::SeqCst), attempt, "no retry before its time");
        app.clock.advance_ms(wait_ms);
    }
    let got = receiver.wait_for(&app, 2).await;
    // The failing event came first and was not overtaken by the next one.
    assert_eq!(got[0].json()["name"], "Auditor");
    assert_eq!(got[1].json()["name"], "Second");
    assert!(got.iter().all(|r| verified(r, &secret)));
    let attempts: Vec<(i64, i64)> = delivery_log(&admin, id, 4)
        .await
        .iter()
        .rev()
        .map(|d| (d["attempt"].as_i64().unwrap_or(0), d["status"].as_i64().unwrap_or(0)))
        .collect();
    assert_eq!(attempts, vec![(1, 500), (2, 500), (3, 200), (1, 200)]);
    let (_, w) = admin.get(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(w["attempts"], 0);
    assert!(w.get("paused").is_none(), "{w}");
}

#[tokio::test]
async fn a_hook_that_keeps_failing_pauses_and_resumes_where_it_stopped() {
    let app = TestApp::start_with(config()).await;
    let admin = app.admin().await;
    let (receiver, url) = Receiver::start(usize::MAX).await;
    let (id, _) = hook(&admin, &url, &["org"], &[]).await;
    admin.post_json("/api/v1/orgs", &json!({"name": "Acme"})).await;
    let max = app::domain::webhooks::MAX_ATTEMPTS;
    let mut w = Value::Null;
    for attempt in 1..=max {
        w = failed_attempts(&app, &admin, id, attempt).await;
        app.clock.advance_ms(app::domain::webhooks::MAX_RETRY_MS);
    }
    let max = max as usize;
    let paused = w["paused"].as_str().expect("paused").to_string();
    assert!(paused.contains("answered 500"), "{paused}");
    app.backend.events.wake_dispatcher();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(receiver.answered.load(Ordering::SeqCst), max, "a paused hook is left alone");
    // The receiver is fixed; resumed, the hook delivers the event it stopped on.
    receiver.fail_first.store(0, Ordering::SeqCst);
    let (s, w) = admin.post_json(&format!("/api/v1/webhooks/{id}/resume"), &json!({})).await;
    assert_eq!(s, 200, "{w}");
    let got = receiver.wait_for(&app, 1).await;
    assert_eq!(got[0].json()["name"], "Acme");
}

#[tokio::test]
async fn nothing_is_sent_for_a_rolled_back_change() {
    let app = TestApp::start_with(config()).await;
    let admin = app.admin().await;
    let (receiver, url) = Receiver::start(0).await;
    hook(&admin, &url, &["role", "org", "user"], &[]).await;
    // A change whose transaction wrote its event and then rolled back.
    let mut tx = app.backend.store.begin().await.expect("begin");
    let event = app::backend::store::EventRecord {
        at: common::now_ms(),
        kind: "role".into(),
        subject_id: Some(999),
        name: Some("Ghost".into()),
        version: 1_000_000,
        ..Default::default()
    };
    tx.insert_event(&event).await.expect("insert");
    drop(tx);
    // And refused changes: a duplicate name, a role that does not exist.
    let (s, _) = admin.post_json("/api/v1/orgs", &json!({"name": "Default"})).await;
    assert_eq!(s, 409);
    let (s, _) = admin.patch_json("/api/v1/roles/424242", &json!({"name": "Nope"})).await;
    assert_eq!(s, 404);
    let (s, _) = admin.post_json("/api/v1/orgs", &json!({"name": "Real"})).await;
    assert_eq!(s, 201);
    let got = receiver.wait_for(&app, 1).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let got_after = receiver.got();
    assert_eq!(got_after.len(), 1, "only the committed change: {got_after:?}");
    assert_eq!(got[0].json()["name"], "Real");
    assert!(app
        .backend
        .store
        .events_after(0, 100)
        .await
        .expect("events")
        .iter()
        .all(|e| e.name.as_deref() != Some("Ghost")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_deliver_each_event_once_in_order() {
    let a = TestApp::start_with(config()).await;
    let b = a.second_instance().await;
    let admin = a.admin().await;
    let (receiver, url) = Receiver::start(0).await;
    hook(&admin, &url, &["role"], &[]).await;
    let mut names = Vec::new();
    for i in 0..8 {
        let name = format!("Role{i}");
        let (s, _) = admin.post_json("/api/v1/roles", &json!({"name": name})).await;
        assert_eq!(s, 201);
        names.push(name);
        b.backend.events.wake_dispatcher();
    }
    let got = receiver.wait_for(&a, 8).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got_names: Vec<String> =
        receiver.got().iter().map(|r| r.json()["name"].as_str().unwrap_or_default().to_string()).collect();
    assert_eq!(got_names, names, "each once, in commit order");
    let ids: Vec<i64> = got.iter().filter_map(|r| r.json()["id"].as_i64()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
}

#[tokio::test]
async fn webhooks_are_checked_and_kept_for_super_admins() {
    let app = TestApp::start_with(app::backend::Config { allow_internal_urls: false, ..config() }).await;
    let admin = app.admin().await;
    let fields = |v: &Value| -> Vec<String> {
        v["error"]["fields"]
            .as_array()
            .map(|a| a.iter().filter_map(|f| f["field"].as_str().map(String::from)).collect())
            .unwrap_or_default()
    };
    for (body, field) in [
        (json!({"name": "x", "url": "http://127.0.0.1:9/hook", "kinds": ["role"]}), "url"),
        (json!({"name": "x", "url": "https://169.254.169.254/latest", "kinds": ["role"]}), "url"),
        (json!({"name": "x", "url": "https://user:pw@hooks.example.com/", "kinds": ["role"]}), "url"),
        (json!({"name": "x", "url": "ftp://hooks.example.com/", "kinds": ["role"]}), "url"),
        (json!({"name": "x", "url": "https://hooks.example.com/", "kinds": ["roles"]}), "kinds"),
        (json!({"name": "x", "url": "https://hooks.example.com/", "kinds": []}), "kinds"),
        (json!({"name": "", "url": "https://hooks.example.com/", "kinds": ["role"]}), "name"),
        (json!({"name": "x", "url": "https://hooks.example.com/", "kinds": ["role"], "orgs": ["Nowhere"]}), "orgs"),
    ] {
        let (s, b) = admin.post_json("/api/v1/webhooks", &body).await;
        assert_eq!(s, 422, "{body} -> {b}");
        assert_eq!(fields(&b), vec![field.to_string()], "{body} -> {b}");
    }
    let (s, b) = admin
        .post_json(
            "/api/v1/webhooks",
            &json!({"name": "DBackup", "url": "https://hooks.example.com/roster", "kinds": ["user", "role"], "orgs": ["Default"]}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let id = b["webhook"]["id"].as_i64().expect("id");
    assert_eq!(b["webhook"]["orgs"], json!(["Default"]));
    // Listing never shows the secret.
    let (s, list) = admin.get("/api/v1/webhooks").await;
    assert_eq!(s, 200);
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert!(!list.to_string().contains("whsec_"), "{list}");
    let (s, w) = admin
        .put_json(
            &format!("/api/v1/webhooks/{id}"),
            &json!({"name": "DBackup", "url": "https://hooks.example.com/v2", "kinds": ["role"], "enabled": false}),
        )
        .await;
    assert_eq!(s, 200, "{w}");
    assert_eq!((w["url"].as_str(), w["enabled"].as_bool()), (Some("https://hooks.example.com/v2"), Some(false)));
    // Members may not see or change hooks.
    let mia = app.member(&admin, "mia", "Default", "Admin").await;
    let (s, _) = mia.get("/api/v1/webhooks").await;
    assert_eq!(s, 403);
    let (s, _) = mia.delete(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(s, 403);
    let (s, _) = admin.delete(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(s, 204);
    let (s, _) = admin.get(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(s, 404);
    // Audited, never with the secret.
    let (_, audit) = admin.get("/api/v1/audit?event=webhook.").await;
    let events: Vec<&str> =
        audit["events"].as_array().expect("events").iter().filter_map(|e| e["event"].as_str()).collect();
    for e in ["webhook.created", "webhook.updated", "webhook.deleted"] {
        assert!(events.contains(&e), "{e} in {events:?}");
    }
    assert!(!audit.to_string().contains("whsec_"));
}

#[tokio::test]
async fn the_signing_secret_never_reaches_the_logs_or_the_audit_trail() {
    // Everything this test's tasks log (this runtime runs them all on this thread).
    let logs = Arc::new(Mutex::new(Vec::<u8>::new()));
    let sink = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || Writer(sink.clone()))
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let app = TestApp::start_with(config()).await;
    let admin = app.admin().await;
    let (receiver, url) = Receiver::start(1).await;
    let (id, secret) = hook(&admin, &url, &["org"], &[]).await;
    admin.post_json("/api/v1/orgs", &json!({"name": "Acme"})).await;
    failed_attempts(&app, &admin, id, 1).await;
    app.clock.advance_ms(1_000);
    receiver.wait_for(&app, 1).await;
    let (s, b) = admin
        .reauth_then(|c| async move { c.post_json(&format!("/api/v1/webhooks/{id}/secret"), &json!({})).await })
        .await;
    assert_eq!(s, 200, "{b}");
    let rotated = b["secret"].as_str().expect("secret").to_string();
    let text = String::from_utf8_lossy(&logs.lock().expect("lock")).to_string();
    assert!(text.contains("webhook delivery"), "the deliveries were logged: {}", &text[..text.len().min(2000)]);
    for s in [&secret, &rotated] {
        let bare = s.trim_start_matches("whsec_");
        assert!(!text.contains(bare), "a signing secret in the logs");
    }
    let (_, audit) = admin.get("/api/v1/audit").await;
    assert!(!audit.to_string().contains(secret.trim_start_matches("whsec_")));
    assert!(!audit.to_string().contains(rotated.trim_start_matches("whsec_")));
}

/// A `MakeWriter` into a shared buffer.
struct Writer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Writer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().map_err(|_| std::io::Error::other("poisoned"))?.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Reads an event stream until `want` shows up; answers everything read.
async fn read_until(r: &mut reqwest::Response, seen: &mut String, want: &str) {
    while !seen.contains(want) {
        let chunk = tokio::time::timeout(Duration::from_secs(5), r.chunk())
            .await
            .unwrap_or_else(|_| panic!("waited for {want:?} on the stream: {seen}"))
            .expect("chunk")
            .expect("the stream ended");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test]
async fn the_event_stream_takes_tokens_and_resumes_from_the_last_event_id() {
    let app = TestApp::start_with(config()).await;
    let admin = app.admin().await;
    let (s, t) = admin.post_json("/api/v1/tokens", &json!({"name": "cache", "kind": "pat"})).await;
    assert_eq!(s, 201, "{t}");
    let tool = app.with_token(t["token"].as_str().expect("token"));
    let mut r = tool.http.get(format!("{}/api/v1/events", app.base)).send().await.expect("events");
    assert_eq!(r.status().as_u16(), 200);
    let mut seen = String::new();
    read_until(&mut r, &mut seen, "event: access\ndata: ").await;
    admin.post_json("/api/v1/orgs", &json!({"name": "One"})).await;
    read_until(&mut r, &mut seen, "\"name\":\"One\"").await;
    let id_line = seen.lines().find(|l| l.starts_with("id: ")).expect("an id line").to_string();
    let last: i64 = id_line.trim_start_matches("id: ").parse().expect("id");
    drop(r);
    // Missed while away, in order, then live again.
    admin.post_json("/api/v1/orgs", &json!({"name": "Two"})).await;
    admin.post_json("/api/v1/roles", &json!({"name": "Three"})).await;
    let mut r = tool
        .http
        .get(format!("{}/api/v1/events", app.base))
        .header("last-event-id", last.to_string())
        .send()
        .await
        .expect("events");
    let mut seen = String::new();
    read_until(&mut r, &mut seen, "\"name\":\"Three\"").await;
    let two = seen.find("\"name\":\"Two\"").expect("Two replayed");
    assert!(two < seen.find("\"name\":\"Three\"").unwrap_or(0), "{seen}");
    assert!(!seen.contains("\"name\":\"One\""), "nothing before Last-Event-ID: {seen}");
    admin.post_json("/api/v1/orgs", &json!({"name": "Four"})).await;
    read_until(&mut r, &mut seen, "\"name\":\"Four\"").await;
    // From before what is kept (swept here): reset.
    let mut tx = app.backend.store.begin().await.expect("begin");
    tx.purge_events(i64::MAX).await.expect("purge");
    tx.commit().await.expect("commit");
    let mut r =
        tool.http.get(format!("{}/api/v1/events", app.base)).header("last-event-id", "0").send().await.expect("events");
    let mut seen = String::new();
    read_until(&mut r, &mut seen, "event: reset").await;
    // A revoked token's stream ends at the next change.
    let token_id = t["info"]["id"].as_i64().expect("token id");
    let (s, _) = admin.delete(&format!("/api/v1/tokens/{token_id}")).await;
    assert_eq!(s, 204);
    admin.post_json("/api/v1/orgs", &json!({"name": "Five"})).await;
    let mut ended = false;
    for _ in 0..20 {
        match tokio::time::timeout(Duration::from_secs(5), r.chunk()).await.expect("an answer") {
            Ok(None) => {
                ended = true;
                break;
            }
            Ok(Some(chunk)) => assert!(!String::from_utf8_lossy(&chunk).contains("Five"), "told after revocation"),
            Err(_) => break,
        }
    }
    assert!(ended, "the stream of a revoked token ends");
}

#[tokio::test]
async fn listeners_hear_only_what_they_may_see() {
    let app = TestApp::start_with(config()).await;
    let admin = app.admin().await;
    admin.post_json("/api/v1/orgs", &json!({"name": "Acme"})).await;
    admin.post_json("/api/v1/orgs", &json!({"name": "Beta"})).await;
    let viewer = app.member(&admin, "vera", "Acme", "Viewer").await;
    let mut r = viewer.http.get(format!("{}/api/v1/events", app.base)).send().await.expect("events");
    let mut seen = String::new();
    read_until(&mut r, &mut seen, "event: access\ndata: ").await;
    // Another account in Beta (not hers), Beta renamed, then a role: she hears only the role.
    let (s, _) = admin
        .post_json(
            "/api/v1/users",
            &json!({"username": "bob", "email": "bob@example.com", "password": MEMBER_PW, "org": "Beta", "role": "Viewer"}),
        )
        .await;
    assert_eq!(s, 201);
    admin.post_json("/api/v1/roles", &json!({"name": "Marker"})).await;
    read_until(&mut r, &mut seen, "\"name\":\"Marker\"").await;
    assert!(!seen.contains("bob"), "another organization's account: {seen}");
    // Her own account: heard.
    let (s, _) = admin.patch_json("/api/v1/users/vera", &json!({"full_name": "Vera V"})).await;
    assert_eq!(s, 200);
    read_until(&mut r, &mut seen, "\"name\":\"vera\"").await;
}

#[tokio::test]
async fn the_command_line_adds_lists_changes_and_removes_webhooks() {
    let app = TestApp::start_with(config()).await;
    let admin = app.admin().await;
    let db = app.db_url.clone();
    // A loopback URL needs the operator's say-so.
    let (code, _, err) = common::roster(
        &db,
        &["webhook", "create", "--name", "Cache", "--url", "http://127.0.0.1:9/hook", "--kinds", "role"],
    );
    assert_ne!(code, 0);
    assert!(err.contains("--allow-internal-urls"), "{err}");
    let (code, _, err) = common::roster(
        &db,
        &["webhook", "create", "--name", "Cache", "--url", "https://hooks.example.com/", "--kinds", "roles"],
    );
    assert_ne!(code, 0);
    assert!(err.contains("roles is not a kind"), "{err}");
    let (code, out, err) = common::roster(
        &db,
        &[
            "webhook",
            "create",
            "--name",
            "Cache",
            "--url",
            "http://127.0.0.1:9/hook",
            "--kinds",
            "role,org",
            "--org",
            "Default",
            "--allow-internal-url",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let secret = out.trim().to_string();
    assert!(secret.starts_with("whsec_"), "the secret alone on standard output: {out}");
    assert!(err.contains("shown only this once"), "{err}");
    let (_, list) = admin.get("/api/v1/webhooks").await;
    let id = list[0]["id"].as_i64().expect("id");
    assert_eq!((list[0]["kinds"].clone(), list[0]["orgs"].clone()), (json!(["role", "org"]), json!(["Default"])));
    let (code, out, _) = common::roster(&db, &["webhook", "list"]);
    assert_eq!(code, 0);
    assert!(out.contains("Cache") && out.contains("role,org") && !out.contains("whsec_"), "{out}");
    let (code, _, err) =
        common::roster(&db, &["webhook", "update", &id.to_string(), "--all-orgs", "--enabled", "false"]);
    assert_eq!(code, 0, "{err}");
    let (_, w) = admin.get(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!((w["orgs"].clone(), w["enabled"].clone()), (json!([]), json!(false)));
    let (code, out, _) = common::roster(&db, &["webhook", "rotate-secret", &id.to_string()]);
    assert_eq!(code, 0);
    assert!(out.trim().starts_with("whsec_") && out.trim() != secret);
    let (code, out, _) = common::roster(&db, &["webhook", "deliveries", &id.to_string()]);
    assert_eq!((code, out.trim()), (0, ""));
    let (code, _, err) = common::roster(&db, &["webhook", "delete", "4242"]);
    assert_ne!(code, 0);
    assert!(err.to_lowercase().contains("not found"), "{err}");
    let (code, out, err) = common::roster(&db, &["webhook", "delete", &id.to_string()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("deleted"));
    let (_, list) = admin.get("/api/v1/webhooks").await;
    assert_eq!(list, json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_adding_the_last_allowed_webhook_at_once_add_one() {
    let a = TestApp::start_with(config()).await;
    let b = a.second_instance().await;
    let admin_a = a.admin().await;
    let max = app::domain::webhooks::MAX_WEBHOOKS;
    for i in 0..max - 1 {
        let body =
            json!({"name": format!("h{i}"), "url": "https://hooks.example.com/", "kinds": ["role"], "enabled": false});
        assert_eq!(admin_a.post_json("/api/v1/webhooks", &body).await.0, 201);
    }
    let admin_b = b.browser();
    let (s, _) = admin_b.rpc("sign_in", &[("login", "admin"), ("password", common::ADMIN_PW)]).await;
    assert_eq!(s, 200);
    let body = |n: &str| json!({"name": n, "url": "https://hooks.example.com/", "kinds": ["role"], "enabled": false});
    let (body_a, body_b) = (body("last-a"), body("last-b"));
    let (ra, rb) =
        tokio::join!(admin_a.post_json("/api/v1/webhooks", &body_a), admin_b.post_json("/api/v1/webhooks", &body_b));
    let mut statuses = [ra.0, rb.0];
    statuses.sort();
    assert_eq!(statuses, [201, 422], "{ra:?} {rb:?}");
    let (_, list) = admin_a.get("/api/v1/webhooks").await;
    assert_eq!(list.as_array().map(Vec::len), Some(max));
}
