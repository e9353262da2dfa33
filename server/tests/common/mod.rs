//! Test harness: a real server on 127.0.0.1:0 over a real SQLite file in a temp dir, with a
//! clock the test can move, and an HTTP client that behaves like a same-origin browser.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use app::backend::store::sqlite::SqliteStore;
use app::backend::{Backend, Config, ManualClock};
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::Value;

pub const ADMIN_PW: &str = "correct horse battery staple";

pub struct TestApp {
    pub addr: SocketAddr,
    pub base: String,
    pub backend: Backend,
    pub clock: Arc<ManualClock>,
    pub db_url: String,
    pub dir: tempfile::TempDir,
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

impl TestApp {
    pub async fn start() -> Self {
        Self::start_with(Config::default()).await
    }

    pub async fn start_with(config: Config) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let db_url = format!("sqlite:{}", dir.path().join("roster.db").display());
        let store = SqliteStore::open(&db_url).await.expect("open store");
        store.migrate().await.expect("migrate");
        let clock = Arc::new(ManualClock::new(now_ms()));
        let backend = Backend::new(Arc::new(store), config, clock.clone());
        backend.load_access().await.expect("load access model");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let leptos = server::leptos_options(dir.path().join("site").to_str().unwrap_or("site"), addr);
        let router = server::router(backend.clone(), leptos);
        tokio::spawn(async move {
            let _ = axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await;
        });
        TestApp { addr, base: format!("http://{addr}"), backend, clock, db_url, dir }
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
            .build()
            .expect("client");
        Client { http, base: self.base.clone() }
    }

    /// Signs up the first account (super admin "admin") and returns its browser.
    pub async fn admin(&self) -> Client {
        let c = self.browser();
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

async fn parts(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let text = r.text().await.unwrap_or_default();
    let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, v)
}

impl Client {
    /// Calls a server function the way the hydrated page does (form-encoded POST).
    pub async fn rpc(&self, name: &str, form: &[(&str, &str)]) -> (u16, Value) {
        let r = self.http.post(format!("{}/rpc/{name}", self.base)).form(form).send().await.expect("rpc");
        parts(r).await
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
        parts(self.http.get(format!("{}{path}", self.base)).send().await.expect("get")).await
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> (u16, Value) {
        parts(self.http.post(format!("{}{path}", self.base)).json(body).send().await.expect("post")).await
    }

    pub async fn patch_json(&self, path: &str, body: &Value) -> (u16, Value) {
        parts(self.http.patch(format!("{}{path}", self.base)).json(body).send().await.expect("patch")).await
    }

    pub async fn put_json(&self, path: &str, body: &Value) -> (u16, Value) {
        parts(self.http.put(format!("{}{path}", self.base)).json(body).send().await.expect("put")).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        parts(self.http.delete(format!("{}{path}", self.base)).send().await.expect("delete")).await
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
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_roster"))
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
