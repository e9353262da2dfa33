//! Test harness: a real server on 127.0.0.1:0 over a fresh database (a SQLite file in a temp
//! dir, or with `ROSTER_TEST_BACKEND=postgres` a PostgreSQL database of its own; see `db`),
//! with a clock the test can move, and an HTTP client that behaves like a same-origin browser.
#![allow(dead_code)]

pub mod db;

use std::net::SocketAddr;
use std::sync::Arc;

use app::backend::{Backend, Config, ManualClock};
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::Value;

pub const ADMIN_PW: &str = "correct horse battery staple";

/// Every answer of the test server arrives within this (a stalled answer fails its test
/// instead of stalling the whole run until CI gives up).
pub const ANSWER_WITHIN: std::time::Duration = std::time::Duration::from_secs(60);

pub struct TestApp {
    pub addr: SocketAddr,
    pub base: String,
    pub backend: Backend,
    pub clock: Arc<ManualClock>,
    pub db_url: String,
    pub dir: tempfile::TempDir,
    pub kind: db::Kind,
    /// Drops the PostgreSQL database after the test.
    pub pg: Option<db::PgGuard>,
}

/// Waits until `backend`'s change feed listens, where its store has one (it connects in the
/// background; until then the instance is not ready).
pub async fn listening(backend: &Backend) {
    let t = std::time::Instant::now();
    while backend.store.has_change_feed() && !backend.feed.connected() {
        assert!(t.elapsed() < std::time::Duration::from_secs(30), "the change feed never connected");
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

impl TestApp {
    pub async fn start() -> Self {
        Self::start_with(Config::default()).await
    }

    pub async fn start_with(config: Config) -> Self {
        Self::start_on(db::TestDb::new(db::Kind::from_env()).await, config).await
    }

    /// A server on the database `db` (migrated here if it is not yet), whichever the backend.
    pub async fn start_on(db: db::TestDb, config: Config) -> Self {
        let store = db.open().await;
        let db::TestDb { kind, url: db_url, dir, pg } = db;
        let clock = Arc::new(ManualClock::new(now_ms()));
        let backend = Backend::new(store, config, clock.clone());
        backend.load_access().await.expect("load access model");
        // (the change feed only: tests that need the polling backstop call `sync` themselves)
        app::backend::feed::spawn_listener(&backend);
        app::backend::events::spawn(&backend);
        app::backend::services::webhooks::spawn_dispatcher(&backend);
        listening(&backend).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let leptos = server::leptos_options(dir.path().join("site").to_str().unwrap_or("site"), addr);
        let router = server::router(backend.clone(), leptos);
        tokio::spawn(async move {
            let _ = axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await;
        });
        TestApp { addr, base: format!("http://{addr}"), backend, clock, db_url, dir, kind, pg }
    }

    /// Another instance on this app's database, as a second process behind a load balancer:
    /// its own store (pool), access model, caches and listener, the same configuration (give
    /// the first one an instance key: secrets sealed by one must open on the other) and clock.
    pub async fn second_instance(&self) -> TestApp {
        self.second_instance_with((*self.backend.config).clone()).await
    }

    /// Another instance on this app's database, with a configuration of its own (another
    /// instance key, say).
    pub async fn second_instance_with(&self, config: Config) -> TestApp {
        let store = app::backend::store::open(&self.db_url).await.expect("open the same database");
        let backend = Backend::new(store, config, self.clock.clone());
        backend.load_access().await.expect("load access model");
        // (the change feed only: tests that need the polling backstop call `sync` themselves)
        app::backend::feed::spawn_listener(&backend);
        app::backend::events::spawn(&backend);
        app::backend::services::webhooks::spawn_dispatcher(&backend);
        listening(&backend).await;
        let dir = tempfile::tempdir().expect("temp dir");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let leptos = server::leptos_options(dir.path().join("site").to_str().unwrap_or("site"), addr);
        let router = server::router(backend.clone(), leptos);
        tokio::spawn(async move {
            let _ = axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await;
        });
        let (db_url, kind) = (self.db_url.clone(), self.kind);
        TestApp {
            addr,
            base: format!("http://{addr}"),
            backend,
            clock: self.clock.clone(),
            db_url,
            dir,
            kind,
            pg: None,
        }
    }

    /// A cookie-keeping client that sends the headers a same-origin browser page sends.
    pub fn browser(&self) -> Client {
        self.browser_at(&self.base)
    }

    /// A browser on a page served from `origin` (the configured public URL).
    pub fn browser_at(&self, origin: &str) -> Client {
        let mut h = HeaderMap::new();
        h.insert("origin", HeaderValue::from_str(origin).expect("origin"));
        h.insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .default_headers(h)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(ANSWER_WITHIN)
            .build()
            .expect("client");
        Client { http, base: self.base.clone() }
    }

    /// A script using an API key or personal access token (no cookies, no browser headers).
    pub fn with_token(&self, token: &str) -> Client {
        let mut h = HeaderMap::new();
        h.insert("authorization", HeaderValue::from_str(&format!("Bearer {token}")).expect("header"));
        let http = reqwest::Client::builder()
            .default_headers(h)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(ANSWER_WITHIN)
            .build()
            .expect("client");
        Client { http, base: self.base.clone() }
    }

    /// Signs up the first account (super admin "admin") and returns its browser.
    pub async fn admin(&self) -> Client {
        self.admin_at(&self.base).await
    }

    /// [`TestApp::admin`] in a browser on a page of `origin` (the configured public URL).
    pub async fn admin_at(&self, origin: &str) -> Client {
        let c = self.browser_at(origin);
        let (s, body) = c
            .rpc(
                "sign_up",
                &[
                    ("username", "admin"),
                    ("full_name", "Ada Admin"),
                    ("email", "admin@example.com"),
                    ("password", ADMIN_PW),
                ],
            )
            .await;
        assert_eq!(s, 200, "sign-up failed: {body}");
        c
    }

    /// A Member of the default organization (password `MEMBER_PW`), signed in in a browser on
    /// a page of `origin` (the configured public URL).
    pub async fn member_at(&self, admin: &Client, username: &str, origin: &str) -> Client {
        let body = serde_json::json!({"username": username, "full_name": format!("User {username}"), "email": format!("{username}@example.com"), "password": MEMBER_PW, "org": "Default", "role": "Member"});
        let (s, body) = admin.post_json("/api/v1/users", &body).await;
        assert_eq!(s, 201, "create {username}: {body}");
        let c = self.browser_at(origin);
        let (s, body) = c.rpc("sign_in", &[("login", username), ("password", MEMBER_PW)]).await;
        assert_eq!(s, 200, "sign in {username}: {body}");
        c
    }

    /// Where `/signed-in` sends a browser whose return cookie names `to` (forged: a tool on a
    /// subdomain could set it), as its `Location`.
    pub async fn signed_in_returning_to(&self, to: &str) -> String {
        use base64::Engine;
        let value = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(to);
        let r = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
            .get(format!("{}/signed-in", self.base))
            .header("cookie", format!("roster_return={value}"))
            .send()
            .await
            .expect("signed-in");
        r.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
    }

    /// Creates a user through the JSON API as `admin`, then signs in as them in a new browser.
    pub async fn user(&self, admin: &Client, username: &str, password: &str) -> Client {
        let (s, body) = admin
            .post_json(
                "/api/v1/users",
                &serde_json::json!({"username": username, "full_name": format!("User {username}"), "email": format!("{username}@example.com"), "password": password}),
            )
            .await;
        assert_eq!(s, 201, "create {username}: {body}");
        let c = self.browser();
        let (s, body) = c.rpc("sign_in", &[("login", username), ("password", password)]).await;
        assert_eq!(s, 200, "sign in {username}: {body}");
        c
    }
}

impl TestApp {
    /// Runs SQL statements (no parameters) on the test's database, whichever the backend, as
    /// another process or an operator would.
    pub async fn exec(&self, sql: &str) {
        match self.kind {
            db::Kind::Sqlite => {
                let pool = sqlx::SqlitePool::connect(&self.db_url).await.expect("pool");
                sqlx::query(sql).execute(&pool).await.expect(sql);
                pool.close().await;
            }
            db::Kind::Postgres => {
                let pool = sqlx::PgPool::connect(&self.db_url).await.expect("pool");
                sqlx::query(sql).execute(&pool).await.expect(sql);
                pool.close().await;
            }
        }
    }

    /// The one integer a query returns (a COUNT), whichever the backend.
    pub async fn count(&self, sql: &str) -> i64 {
        match self.kind {
            db::Kind::Sqlite => {
                let pool = sqlx::SqlitePool::connect(&self.db_url).await.expect("pool");
                let n: i64 = sqlx::query_scalar(sql).fetch_one(&pool).await.expect(sql);
                pool.close().await;
                n
            }
            db::Kind::Postgres => {
                let pool = sqlx::PgPool::connect(&self.db_url).await.expect("pool");
                let n: i64 = sqlx::query_scalar(sql).fetch_one(&pool).await.expect(sql);
                pool.close().await;
                n
            }
        }
    }

    /// Rows of (integer, bytes) a query returns, whichever the backend.
    pub async fn int_bytes_rows(&self, sql: &str) -> Vec<(i64, Vec<u8>)> {
        match self.kind {
            db::Kind::Sqlite => {
                let pool = sqlx::SqlitePool::connect(&self.db_url).await.expect("pool");
                let rows = sqlx::query_as(sql).fetch_all(&pool).await.expect(sql);
                pool.close().await;
                rows
            }
            db::Kind::Postgres => {
                let pool = sqlx::PgPool::connect(&self.db_url).await.expect("pool");
                let rows = sqlx::query_as(sql).fetch_all(&pool).await.expect(sql);
                pool.close().await;
                rows
            }
        }
    }

    /// Every text a query returns (one column), whichever the backend.
    pub async fn texts(&self, sql: &str) -> Vec<String> {
        match self.kind {
            db::Kind::Sqlite => {
                let pool = sqlx::SqlitePool::connect(&self.db_url).await.expect("pool");
                let rows = sqlx::query_scalar(sql).fetch_all(&pool).await.expect(sql);
                pool.close().await;
                rows
            }
            db::Kind::Postgres => {
                let pool = sqlx::PgPool::connect(&self.db_url).await.expect("pool");
                let rows = sqlx::query_scalar(sql).fetch_all(&pool).await.expect(sql);
                pool.close().await;
                rows
            }
        }
    }
}

impl TestApp {
    /// Creates an account in `org` with `role` (names) as `admin`, signs in, and returns it.
    pub async fn member(&self, admin: &Client, username: &str, org: &str, role: &str) -> Client {
        let body = serde_json::json!({"username": username, "full_name": format!("User {username}"), "email": format!("{username}@example.com"), "password": MEMBER_PW, "org": org, "role": role});
        let (s, body) = admin.post_json("/api/v1/users", &body).await;
        assert_eq!(s, 201, "create {username}: {body}");
        let c = self.browser();
        let (s, body) = c.rpc("sign_in", &[("login", username), ("password", MEMBER_PW)]).await;
        assert_eq!(s, 200, "sign in {username}: {body}");
        c
    }

    /// Creates a second super admin as `admin` and signs in as them.
    pub async fn super_admin(&self, admin: &Client, username: &str, password: &str) -> Client {
        let body = serde_json::json!({"username": username, "email": format!("{username}@example.com"), "password": password, "super_admin": true});
        let (s, body) = admin.post_json("/api/v1/users", &body).await;
        assert_eq!(s, 201, "{body}");
        let c = self.browser();
        let (s, body) = c.rpc("sign_in", &[("login", username), ("password", password)]).await;
        assert_eq!(s, 200, "{body}");
        c
    }
}

/// The password every `member()` account gets.
pub const MEMBER_PW: &str = "members passphrase for tests";

#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
}

async fn parts(method: &str, r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let url = r.url().clone();
    let content_type = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let text = r.text().await.unwrap_or_default();
    api_doc::check(method, url.path(), status, &content_type, &text);
    let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, v)
}

/// Every answer the test suites get from `/api/v1` is checked against the generated API
/// description: its status must be documented for the operation, and a JSON body must match
/// the documented schema, with no field the document does not name. So a handler that starts
/// answering something new fails the first test that meets it until the document says so.
pub mod api_doc {
    use std::sync::OnceLock;

    use serde_json::{json, Value};

    fn doc() -> &'static Value {
        static DOC: OnceLock<Value> = OnceLock::new();
        DOC.get_or_init(|| {
            let mut doc = serde_json::to_value(server::rest::openapi()).expect("document as JSON");
            if let Some(schemas) = doc.pointer_mut("/components/schemas") {
                forbid_unnamed_fields(schemas);
            }
            doc
        })
    }

    /// Objects with named properties take no others (the document must name every field).
    fn forbid_unnamed_fields(v: &mut Value) {
        match v {
            Value::Object(m) => {
                if m.contains_key("properties") && !m.contains_key("additionalProperties") {
                    m.insert("additionalProperties".into(), Value::Bool(false));
                }
                m.values_mut().for_each(forbid_unnamed_fields);
            }
            Value::Array(a) => a.iter_mut().for_each(forbid_unnamed_fields),
            _ => {}
        }
    }

    /// The documented path template for a concrete path (literal segments win over `{...}`).
    pub fn template(path: &str) -> Option<String> {
        let segs: Vec<&str> = path.split('/').collect();
        let paths = doc()["paths"].as_object()?;
        paths
            .keys()
            .filter_map(|t| {
                let ts: Vec<&str> = t.split('/').collect();
                if ts.len() != segs.len() {
                    return None;
                }
                let mut literal = 0;
                for (a, b) in ts.iter().zip(&segs) {
                    if a.starts_with('{') {
                        continue;
                    }
                    if a != b {
                        return None;
                    }
                    literal += 1;
                }
                Some((literal, t.clone()))
            })
            .max()
            .map(|(_, t)| t)
    }

    fn resolve(v: &Value) -> &Value {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => doc().pointer(r.trim_start_matches('#')).unwrap_or(v),
            None => v,
        }
    }

    pub fn check(method: &str, path: &str, status: u16, content_type: &str, body: &str) {
        let Some(path) = path.strip_prefix("/api/v1") else { return };
        // (routes that are not in the document answer the API's 404 or a 405; tested apart)
        let Some(t) = template(path) else { return };
        let Some(op) = doc()["paths"][&t].get(method) else { return };
        let what = format!("{} {t} answered {status}", method.to_uppercase());
        let Some(response) = op["responses"].get(status.to_string()) else {
            panic!("{what}, which the API description does not document: {body}");
        };
        let response = resolve(response);
        let mime = content_type.split(';').next().unwrap_or_default().trim();
        if body.is_empty() {
            return;
        }
        let Some(content) = response["content"].get(mime) else {
            panic!("{what} with {mime}, which the API description does not document for it: {response}");
        };
        if mime != "application/json" {
            return;
        }
        let Some(schema) = content.get("schema") else { return };
        let instance: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {body}"));
        let mut root = schema.clone();
        if let Value::Object(m) = &mut root {
            m.insert("components".into(), doc()["components"].clone());
        } else {
            root = json!({"allOf": [schema], "components": doc()["components"]});
        }
        let validator = jsonschema::draft202012::new(&root).unwrap_or_else(|e| panic!("{what}: bad schema: {e}"));
        let errors: Vec<String> =
            validator.iter_errors(&instance).map(|e| format!("{} at {}", e, e.instance_path)).collect();
        assert!(errors.is_empty(), "{what} with a body the API description does not describe: {errors:?}\n{body}");
    }
}

impl Client {
    /// Calls a server function the way the hydrated page does (form-encoded POST).
    pub async fn rpc(&self, name: &str, form: &[(&str, &str)]) -> (u16, Value) {
        let r = self.http.post(format!("{}/rpc/{name}", self.base)).form(form).send().await.expect("rpc");
        parts("post", r).await
    }

    /// Re-authenticates (sudo mode) with the test password of this account, then runs `f`.
    pub async fn reauth_then<F, Fut, T>(&self, f: F) -> T
    where
        F: FnOnce(Client) -> Fut,
        Fut: std::future::Future<Output = T>,
    {
        let (_, me) = self.rpc("current_user", &[]).await;
        let pw = if me["username"] == "admin" { ADMIN_PW } else { MEMBER_PW };
        let (s, b) = self.rpc("reauthenticate", &[("password", pw)]).await;
        assert_eq!(s, 200, "re-authenticate: {b}");
        f(self.clone()).await
    }

    pub async fn rpc_raw(&self, name: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.http.post(format!("{}/rpc/{name}", self.base)).form(form).send().await.expect("rpc")
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        parts("get", self.http.get(format!("{}{path}", self.base)).send().await.expect("get")).await
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> (u16, Value) {
        parts("post", self.http.post(format!("{}{path}", self.base)).json(body).send().await.expect("post")).await
    }

    /// Posts a file as the body (imports).
    pub async fn post_text(&self, path: &str, body: &str) -> (u16, Value) {
        let r = self.http.post(format!("{}{path}", self.base)).header("content-type", "text/plain");
        parts("post", r.body(body.to_string()).send().await.expect("post")).await
    }

    /// A GET whose answer is a file, not JSON: (status, body text).
    pub async fn get_text(&self, path: &str) -> (u16, String) {
        let r = self.http.get(format!("{}{path}", self.base)).send().await.expect("get");
        (r.status().as_u16(), r.text().await.unwrap_or_default())
    }

    pub async fn patch_json(&self, path: &str, body: &Value) -> (u16, Value) {
        parts("patch", self.http.patch(format!("{}{path}", self.base)).json(body).send().await.expect("patch")).await
    }

    pub async fn put_json(&self, path: &str, body: &Value) -> (u16, Value) {
        parts("put", self.http.put(format!("{}{path}", self.base)).json(body).send().await.expect("put")).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        parts("delete", self.http.delete(format!("{}{path}", self.base)).send().await.expect("delete")).await
    }
}

/// The error code in a JSON error body (REST or server function).
pub fn code(v: &Value) -> String {
    if let Some(c) = v.pointer("/error/code").and_then(Value::as_str) {
        return c.to_string();
    }
    // Server functions send the domain error itself: {"Forbidden": "LastSuperAdmin"}, "SignInFailed", ...
    match v {
        Value::String(s) => s.clone(),
        Value::Object(m) => m.keys().next().cloned().unwrap_or_default(),
        _ => String::new(),
    }
}

/// Runs the `roster` binary on `db`; returns (exit code, stdout, stderr).
pub fn roster(db: &str, args: &[&str]) -> (i32, String, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_roster"));
    if db.starts_with("postgres") {
        // No key file beside a server database: one per test database, in the temp dir.
        let name: String =
            db.rsplit('/').next().unwrap_or("db").chars().filter(|c| c.is_ascii_alphanumeric()).collect();
        cmd.env("ROSTER_KEY_FILE", std::env::temp_dir().join(format!("roster-test-{name}.key")));
    } else {
        cmd.env_remove("ROSTER_KEY_FILE");
    }
    let out = cmd
        .env("ROSTER_DATABASE_URL", db)
        .env("ROSTER_LOG", "error")
        .env_remove("ROSTER_SECRET_KEY")
        .args(args)
        .output()
        .expect("run roster");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// The TOTP code for `secret` (base32) at unix time `secs`, from oathtool.
pub fn oathtool(secret: &str, secs: i64) -> String {
    let out = std::process::Command::new("oathtool")
        .args(["--totp", "-b", &format!("--now=@{secs}"), secret])
        .output()
        .expect("oathtool is installed (scripts/install.sh installs it)");
    assert!(out.status.success(), "oathtool: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

pub fn secs(app: &TestApp) -> i64 {
    use app::backend::Clock;
    app.clock.now_ms() / 1000
}

/// Enrols TOTP for a signed-in client; returns (base32 secret, recovery codes).
pub async fn enrol(app: &TestApp, c: &Client) -> (String, Vec<String>) {
    let (s, e) = c.rpc("begin_totp", &[]).await;
    assert_eq!(s, 200, "{e}");
    let secret = e["secret"].as_str().expect("secret").to_string();
    assert!(e["uri"].as_str().expect("uri").starts_with("otpauth://totp/Roster:"));
    assert!(e["qr_svg"].as_str().expect("svg").contains("<svg"));
    let (s, r) = c.rpc("confirm_totp", &[("code", &oathtool(&secret, secs(app)))]).await;
    assert_eq!(s, 200, "{r}");
    let codes: Vec<String> =
        r["codes"].as_array().expect("codes").iter().map(|v| v.as_str().unwrap_or("").to_string()).collect();
    assert_eq!(codes.len(), 10);
    (secret, codes)
}

/// A `roster serve` process on a free port of 127.0.0.1, and the address it printed.
pub struct Served {
    pub child: std::process::Child,
    pub addr: std::net::SocketAddr,
    /// Every line the server has logged so far.
    pub log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    _site: tempfile::TempDir,
}

impl Served {
    pub fn start(db: &str, extra: &[&str]) -> Served {
        use std::io::BufRead;
        let site = tempfile::tempdir().expect("site dir");
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_roster"))
            .env("ROSTER_DATABASE_URL", db)
            .env("ROSTER_LOG", "info")
            .env_remove("ROSTER_SECRET_KEY")
            .args(["serve", "--addr", "127.0.0.1:0", "--site-root"])
            .arg(site.path())
            .args(extra)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start roster serve");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let lines = log.clone();
        // (keeps reading, so the server never blocks on a full pipe)
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(addr) = line.split("listening on http://").nth(1) {
                    let addr: String = addr.chars().take_while(|c| !c.is_whitespace() && *c != '"').collect();
                    let _ = tx.send(addr);
                }
                if let Ok(mut l) = lines.lock() {
                    l.push(line);
                }
            }
        });
        let addr = rx.recv_timeout(std::time::Duration::from_secs(60)).expect("the server printed its address");
        Served { child, addr: addr.parse().expect("address"), log, _site: site }
    }

    pub fn signal(&self, name: &str) {
        let ok = std::process::Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("kill")
            .success();
        assert!(ok, "kill -{name}");
    }

    /// The exit code, waiting at most `secs`.
    pub fn exit_code_within(&mut self, secs: u64) -> Option<i32> {
        let until = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        while std::time::Instant::now() < until {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status.code();
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A PostgreSQL cluster of a test's own (scripts/postgres.sh), stopped when dropped: for tests
/// that stop, restart or reconfigure the server while the shared one serves every other test.
pub struct Cluster {
    pub dir: tempfile::TempDir,
    pub url: String,
}

impl Cluster {
    pub fn script(action: &str, dir: &std::path::Path) -> String {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/postgres.sh");
        let out = std::process::Command::new(script).arg(action).arg(dir).output().expect("run scripts/postgres.sh");
        assert!(out.status.success(), "postgres.sh {action}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    pub fn start() -> Cluster {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = Cluster::script("start", dir.path());
        Cluster { dir, url }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        Cluster::script("stop", self.dir.path());
    }
}
