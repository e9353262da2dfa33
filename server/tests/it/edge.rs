//! What every answer gets at the edge: statuses for malformed server-function calls, forms
//! posted before the WASM arrives, caching and security headers, and JSON bodies for the
//! errors the framework produces itself.
use crate::common;

use base64::Engine;
use common::{code, TestApp, ADMIN_PW};
use serde_json::{json, Value};

fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

fn fields(v: &Value) -> Vec<String> {
    let list = v.pointer("/Invalid/errors").or_else(|| v.pointer("/error/fields"));
    list.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|f| f["field"].as_str().map(String::from)).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn malformed_server_function_arguments_are_422_with_the_field() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let anon = app.browser();
    let (s, e) = anon.rpc("sign_in", &[("login", "admin")]).await;
    assert_eq!((s, fields(&e)), (422, vec!["password".to_string()]), "{e}");
    let (s, e) = admin.rpc("switch_org", &[("org", "abc")]).await;
    assert_eq!((s, fields(&e)), (422, vec!["org".to_string()]), "{e}");
    let (s, e) = admin.rpc("reauthenticate", &[]).await;
    assert_eq!((s, fields(&e)), (422, vec!["password".to_string()]), "{e}");
    let (s, e) = admin.rpc("set_role_ability", &[("role", "x"), ("ability", "run-backups"), ("on", "true")]).await;
    assert_eq!((s, fields(&e)), (422, vec!["role".to_string()]), "{e}");
    // Every refusal has its own status (no more blanket 500s from the framework).
    assert_eq!(anon.rpc("list_users", &[]).await.0, 401);
    let (s, e) = anon.rpc("no_such_function", &[]).await;
    assert_eq!(s, 400, "{e}");
    assert_eq!(code(&e), "bad_request");
}

/// A browser without the WASM: a cookie jar, no redirects followed, forms posted natively
/// from `page` (the Referer the answer leads back to).
struct PlainBrowser {
    c: reqwest::Client,
    base: String,
}

impl PlainBrowser {
    fn new(app: &TestApp) -> Self {
        let c = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(common::ANSWER_WITHIN)
            .build()
            .expect("client");
        Self { c, base: app.base.clone() }
    }

    async fn post(&self, rpc: &str, page: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.c
            .post(format!("{}/rpc/{rpc}", self.base))
            .header("accept", "text/html,application/xhtml+xml")
            .header("origin", &self.base)
            .header("sec-fetch-site", "same-origin")
            .header("referer", format!("{}{page}", self.base))
            .form(form)
            .send()
            .await
            .unwrap_or_else(|e| panic!("post {rpc} from {page}: {e}"))
    }

    /// Posts a form with files (`enctype="multipart/form-data"`): (name, file name, bytes).
    async fn post_multipart(&self, rpc: &str, page: &str, parts: &[(&str, Option<&str>, &[u8])]) -> reqwest::Response {
        let mut body = Vec::new();
        for (name, file, bytes) in parts {
            body.extend_from_slice(b"--b0undary\r\n");
            let head = match file {
                Some(f) => format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n"),
                None => format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n"),
            };
            body.extend_from_slice(head.as_bytes());
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(b"--b0undary--\r\n");
        self.c
            .post(format!("{}/rpc/{rpc}", self.base))
            .header("accept", "text/html,application/xhtml+xml")
            .header("content-type", "multipart/form-data; boundary=b0undary")
            .header("origin", &self.base)
            .header("sec-fetch-site", "same-origin")
            .header("referer", format!("{}{page}", self.base))
            .body(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("post {rpc} from {page}: {e}"))
    }

    async fn get(&self, path: &str) -> (reqwest::header::HeaderMap, String) {
        let r = self.c.get(format!("{}{path}", self.base)).send().await.unwrap_or_else(|e| panic!("get {path}: {e}"));
        assert_eq!(r.status().as_u16(), 200, "{path}");
        (r.headers().clone(), r.text().await.expect("html"))
    }

    /// Signs in; returns the session cookie (`name=value`).
    async fn sign_in(&self, login: &str, password: &str) -> String {
        let r = self.post("sign_in", "/sign-in", &[("login", login), ("password", password)]).await;
        assert_eq!(r.status().as_u16(), 303);
        let cookie = header(&r, "set-cookie");
        assert!(cookie.contains("roster_session="));
        cookie.split(';').next().unwrap_or_default().to_string()
    }
}

/// A form posted natively (the WASM has not arrived): the answer is a page, never JSON.
#[tokio::test]
async fn forms_posted_before_the_wasm_arrives_come_back_as_pages() {
    let app = TestApp::start().await;
    app.admin().await;
    let browser = PlainBrowser::new(&app);
    let c = &browser.c;
    let b = &browser;
    let post = move |form: Vec<(&'static str, &'static str)>| async move {
        b.post("sign_in", "/sign-in?next=%2Fmembers", &form).await
    };
    // A wrong password: back to the same page with the error and what was typed (never the
    // password itself).
    let r = post(vec![("login", "admin"), ("password", "not the password at all")]).await;
    assert_eq!(r.status().as_u16(), 303);
    let to = header(&r, "location");
    assert!(to.starts_with("/sign-in?next=%2Fmembers&rpc=sign_in&error="), "{to}");
    let q: std::collections::HashMap<String, String> = to
        .split_once('?')
        .map(|(_, q)| q)
        .unwrap_or("")
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.into(), v.into()))
        .collect();
    let dec = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(v).expect("base64");
    let err: Value = serde_json::from_slice(&dec(&q["error"])).expect("error json");
    assert_eq!(err, json!("SignInFailed"));
    let values: Value = serde_json::from_slice(&dec(&q["values"])).expect("values json");
    assert_eq!(values, json!({"login": "admin"}));
    assert!(!to.contains("not%20the%20password") && !to.contains("password%22"), "{to}");
    // The page it lands on renders the message.
    let (s, html) = {
        let r = c.get(format!("{}{to}", app.base)).send().await.expect("get");
        (r.status().as_u16(), r.text().await.expect("html"))
    };
    assert_eq!(s, 200);
    assert!(html.contains("Incorrect user ID or password."), "the error is on the page");
    // A crafted link cannot put its own words on the page: the outcome is signed.
    let fake = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(
        serde_json::to_vec(&json!({"Conflict": {"field": null, "message": "Roster moved: sign in at evil.example"}}))
            .expect("json"),
    );
    for tail in [String::new(), format!("&sig={}", q["sig"])] {
        let html = c
            .get(format!("{}/sign-in?rpc=sign_in&error={fake}{tail}", app.base))
            .send()
            .await
            .expect("get")
            .text()
            .await
            .expect("html");
        assert!(!html.contains("evil.example"), "a forged message was shown ({tail})");
    }
    // The right password: signed in, and sent home rather than left on the form.
    let r = post(vec![("login", "admin"), ("password", ADMIN_PW)]).await;
    assert_eq!((r.status().as_u16(), header(&r, "location")), (303, "/".to_string()));
    assert!(header(&r, "set-cookie").contains("roster_session="));
    // Only our own pages are gone back to.
    let r = c
        .post(format!("{}/rpc/sign_out", app.base))
        .header("accept", "text/html")
        .header("origin", &app.base)
        .header("referer", "http://evil.example/phish")
        .form(&[("x", "")])
        .send()
        .await
        .expect("post");
    assert_eq!((r.status().as_u16(), header(&r, "location")), (303, "/sign-in".to_string()));
    let r = c
        .post(format!("{}/rpc/sign_in", app.base))
        .header("accept", "text/html")
        .header("origin", &app.base)
        .header("referer", "http://evil.example/phish")
        .form(&[("login", "x"), ("password", "y")])
        .send()
        .await
        .expect("post");
    assert!(header(&r, "location").starts_with("/?rpc=sign_in&error="), "{}", header(&r, "location"));
}

#[tokio::test]
async fn caching_and_security_headers() {
    let app = TestApp::start_with(app::backend::Config {
        public_origin: Some("https://roster.example.com".into()),
        ..Default::default()
    })
    .await;
    let admin = app.browser_at("https://roster.example.com");
    let (s, b) = admin
        .rpc(
            "sign_up",
            &[("username", "admin"), ("full_name", ""), ("email", "admin@example.com"), ("password", ADMIN_PW)],
        )
        .await;
    assert_eq!(s, 200, "{b}");
    // Pages: not stored, HSTS, and a policy that runs only this page's nonce-marked scripts.
    let r = admin.http.get(format!("{}/members", app.base)).send().await.expect("page");
    assert_eq!(header(&r, "cache-control"), "no-store");
    assert_eq!(header(&r, "strict-transport-security"), "max-age=63072000");
    let csp = header(&r, "content-security-policy");
    let html = r.text().await.expect("html");
    let nonce = csp.split("'nonce-").nth(1).and_then(|s| s.split('\'').next()).expect("a nonce in the policy");
    assert!(nonce.len() >= 16, "{csp}");
    assert!(html.contains(&format!("nonce=\"{nonce}\"")), "the hydration script carries the nonce");
    for part in
        ["default-src 'self'", "'wasm-unsafe-eval'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"]
    {
        assert!(csp.contains(part), "{part} in {csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    // A second page load has a fresh nonce.
    let r2 = admin.http.get(format!("{}/members", app.base)).send().await.expect("page");
    assert_ne!(header(&r2, "content-security-policy"), csp);
    // API answers, the new TOTP seed among them: not stored, nothing may run.
    let r = admin.http.post(format!("{}/rpc/begin_totp", app.base)).send().await.expect("totp");
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(header(&r, "cache-control"), "no-store");
    let r = admin.http.get(format!("{}/api/v1/me", app.base)).send().await.expect("me");
    assert_eq!(header(&r, "cache-control"), "no-store");
    assert!(header(&r, "content-security-policy").starts_with("default-src 'none'"));
    // Built assets: precompressed copies are served to browsers that take them; without
    // hashed names (no hash.txt beside this test binary) they are revalidated, not kept.
    let pkg = app.dir.path().join("site/pkg");
    std::fs::create_dir_all(&pkg).expect("pkg dir");
    std::fs::write(pkg.join("roster.js"), "export const a = 1;\n".repeat(500)).expect("asset");
    server::assets::precompress(&pkg);
    let plain = reqwest::Client::builder().no_brotli().no_gzip().build().expect("client");
    for (accept, encoding) in [("br", "br"), ("gzip", "gzip"), ("identity", "")] {
        let r = plain
            .get(format!("{}/pkg/roster.js", app.base))
            .header("accept-encoding", accept)
            .send()
            .await
            .expect("js");
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(header(&r, "content-encoding"), encoding, "{accept}");
        assert_eq!(header(&r, "cache-control"), "no-cache");
        assert!(header(&r, "content-type").starts_with("text/javascript"), "{}", header(&r, "content-type"));
    }
    // Pages and JSON are compressed on the fly.
    let r =
        admin.http.get(format!("{}/members", app.base)).header("accept-encoding", "gzip").send().await.expect("page");
    assert_eq!(header(&r, "content-encoding"), "gzip");
    // Streamed answers too, to their end (the audit export once broke off when compressed).
    let plain_csv = admin.http.get(format!("{}/api/v1/audit/export?format=csv", app.base)).send().await.expect("csv");
    let plain_csv = plain_csv.text().await.expect("text");
    let r = admin
        .http
        .get(format!("{}/api/v1/audit/export?format=csv", app.base))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("csv");
    assert_eq!(header(&r, "content-encoding"), "gzip");
    let bytes = r.bytes().await.expect("the whole body");
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut text).expect("gunzip");
    assert_eq!(text, plain_csv);
    assert!(text.lines().count() > 1, "{text}");
}

#[tokio::test]
async fn framework_errors_are_the_documented_json_body() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let check = |r: reqwest::Response, status: u16, want: &'static str| async move {
        assert_eq!(r.status().as_u16(), status);
        assert!(header(&r, "content-type").starts_with("application/json"), "{}", header(&r, "content-type"));
        let v: Value = r.json().await.expect("json body");
        assert_eq!(v["error"]["code"], want, "{v}");
        assert!(v["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
    };
    // 405, with the methods that are allowed.
    let r = admin.http.put(format!("{}/api/v1/orgs", app.base)).send().await.expect("put");
    assert!(header(&r, "allow").contains("GET"), "{}", header(&r, "allow"));
    check(r, 405, "method_not_allowed").await;
    // 413: a body over the limit.
    let big = "x".repeat(2 * 1024 * 1024);
    let r = admin
        .http
        .post(format!("{}/api/v1/orgs", app.base))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .expect("post");
    check(r, 413, "payload_too_large").await;
    // 414: a request target over 8 KiB.
    let r = admin.http.get(format!("{}/api/v1/users?search={}", app.base, "a".repeat(9000))).send().await.expect("get");
    check(r, 414, "uri_too_long").await;
    // 400: a path that is not UTF-8.
    let r = admin.http.get(format!("{}/api/v1/users/%FF%FE", app.base)).send().await.expect("get");
    check(r, 400, "bad_request").await;
}

/// A new token and recovery codes are shown once: after a native post they reach the next
/// page in a sealed cookie bound to the session (never in the URL), which that page clears.
#[tokio::test]
async fn answers_shown_once_reach_the_next_page_sealed_and_only_once() {
    let app = TestApp::start().await;
    app.admin().await;
    let ann = PlainBrowser::new(&app);
    ann.sign_in("admin", ADMIN_PW).await;
    let r =
        ann.post("create_token", "/profile", &[("name", "nightly"), ("kind", "pat"), ("expires_in_days", "")]).await;
    assert_eq!(r.status().as_u16(), 303);
    let to = header(&r, "location");
    assert!(to.starts_with("/profile?rpc=create_token&ok=1&sig="), "{to}");
    let cookies: Vec<String> =
        r.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).map(String::from).collect();
    let once = cookies.iter().find(|c| c.starts_with("roster_once=")).expect("the answer's cookie").clone();
    assert!(once.contains("HttpOnly") && once.contains("SameSite=Strict") && once.contains("Max-Age=60"), "{once}");
    assert!(!once.contains("rst_pat_") && !to.contains("rst_pat_"), "the token travels sealed");
    let sealed = once.split(';').next().unwrap_or_default().to_string();

    // Another session holding the same cookie (stolen, or a shared computer) reads nothing.
    let eve = PlainBrowser::new(&app);
    let eve_session = eve.sign_in("admin", ADMIN_PW).await;
    let html = eve
        .c
        .get(format!("{}{to}", app.base))
        .header("cookie", format!("{eve_session}; {sealed}"))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("html");
    assert!(html.contains("Create token"), "eve is signed in and sees the tokens form");
    assert!(!html.contains("Copy your new token now"), "another session opened the sealed answer");

    // The page it was meant for shows it, and clears the cookie.
    let (headers, html) = ann.get(&to).await;
    assert!(html.contains("Copy your new token now"), "the token is shown");
    let token = html.split("rst_pat_").nth(1).map(|t| t.chars().take(43).collect::<String>()).expect("token");
    assert_eq!(token.len(), 43);
    let cleared = headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|c| c.starts_with("roster_once=;") && c.contains("Max-Age=0"));
    assert!(cleared, "the page clears the cookie");
    // It works, and it is not shown again.
    let me = reqwest::Client::new()
        .get(format!("{}/api/v1/me", app.base))
        .bearer_auth(format!("rst_pat_{token}"))
        .send()
        .await
        .expect("me");
    assert_eq!(me.status().as_u16(), 200);
    let (_, html) = ann.get(&to).await;
    assert!(!html.contains(&token) && !html.contains("Copy your new token now"), "shown twice");

    // A function whose answer is not secret carries nothing in a cookie.
    let r = ann.post("update_profile", "/profile", &[("full_name", "Ann Admin"), ("email", "admin@example.com")]).await;
    assert!(header(&r, "location").starts_with("/profile?rpc=update_profile&ok=1"), "{}", header(&r, "location"));
    let carried =
        r.headers().get_all("set-cookie").iter().any(|v| v.to_str().unwrap_or("").starts_with("roster_once="));
    assert!(!carried, "update_profile's answer went into a cookie");
}

/// Without the WASM, a form refused for want of a recent sign-in opens the prompt as the page
/// loads; the prompt is a plain form; after it the page says to go on, and the enrolment a
/// native `begin_totp` started is shown (the page has no answer of its own to show).
#[tokio::test]
async fn sudo_prompt_and_two_factor_enrolment_work_as_plain_forms() {
    let app = TestApp::start().await;
    app.admin().await;
    let ann = PlainBrowser::new(&app);
    ann.sign_in("admin", ADMIN_PW).await;
    app.clock.advance_ms(11 * 60_000);
    let r = ann.post("begin_totp", "/profile", &[]).await;
    let to = header(&r, "location");
    assert!(to.starts_with("/profile?rpc=begin_totp&error="), "{to}");
    let (_, html) = ann.get(&to).await;
    assert!(html.contains("Confirm it is you"), "the prompt opens");
    assert!(!html.contains("QR code for your authenticator app"));

    let r = ann.post("reauthenticate", &to, &[("password", ADMIN_PW)]).await;
    let to = header(&r, "location");
    assert!(to.starts_with("/profile?rpc=reauthenticate&ok=1"), "{to}");
    let (_, html) = ann.get(&to).await;
    assert!(html.contains("Thank you, it is you. Now make the change again."));

    let r = ann.post("begin_totp", &to, &[]).await;
    let to = header(&r, "location");
    assert!(to.starts_with("/profile?rpc=begin_totp&ok=1"), "{to}");
    let (_, html) = ann.get(&to).await;
    assert!(html.contains("QR code for your authenticator app"), "the enrolment is shown");
    assert!(html.contains("Code from your app"));
    // A wrong code comes back to the same enrolment.
    let r = ann.post("confirm_totp", &to, &[("code", "000000")]).await;
    let to = header(&r, "location");
    assert!(to.starts_with("/profile?rpc=confirm_totp&error="), "{to}");
    let (_, html) = ann.get(&to).await;
    assert!(html.contains("That code is not valid."));
    assert!(html.contains("QR code for your authenticator app"), "the enrolment is still shown");
    // Without `rpc=begin_totp` the page does not show a pending enrolment by itself.
    let (_, html) = ann.get("/profile").await;
    assert!(!html.contains("QR code for your authenticator app"));
}

/// Building a router (each test does, and so may several instances in one process) must not
/// stall a page rendering at that moment: working out the route list renders the app with
/// resource loads suppressed by a process-wide flag, and a resource first polled meanwhile
/// waited forever (leptos-rs/leptos#4773; it hung this suite on two cores).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn building_a_router_does_not_stall_pages_rendering_elsewhere() {
    let app = TestApp::start().await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let builder = {
        let (stop, backend, dir) = (stop.clone(), app.backend.clone(), app.dir.path().join("site"));
        let runtime = tokio::runtime::Handle::current();
        std::thread::spawn(move || {
            let _in_runtime = runtime.enter();
            let options = server::leptos_options(dir.to_str().unwrap_or("site"), ([127, 0, 0, 1], 0).into());
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                drop(server::router(backend.clone(), options.clone()));
            }
        })
    };
    let c = reqwest::Client::builder().timeout(std::time::Duration::from_secs(5)).build().expect("client");
    for i in 0..200 {
        let r = c.get(format!("{}/sign-in", app.base)).send().await;
        let body = match r {
            Ok(r) => r.text().await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = body {
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            panic!("page {i} did not finish while routers were built: {e}");
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    builder.join().expect("builder");
}

/// Without the WASM a role-matrix switch is a form: the change is made, the page says so
/// (where the script shows a message with Undo) and the switch shows the new state.
#[tokio::test]
async fn role_matrix_switches_work_as_plain_forms() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let (_, roles) = admin.get("/api/v1/roles").await;
    let viewer = roles
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["name"] == "Viewer"))
        .and_then(|r| r["id"].as_i64())
        .expect("the Viewer role")
        .to_string();
    let ann = PlainBrowser::new(&app);
    ann.sign_in("admin", ADMIN_PW).await;
    let r =
        ann.post("set_role_ability", "/roles", &[("role", &viewer), ("ability", "run-backups"), ("on", "true")]).await;
    let to = header(&r, "location");
    assert!(to.starts_with("/roles?rpc=set_role_ability&ok=1"), "{to}");
    let (_, html) = ann.get(&to).await;
    assert!(html.contains("Saved. Every holder of the role has the change from their next request."));
    assert!(html.contains(r#"aria-checked="true" aria-label="run-backups for Viewer""#), "the switch is on");
    let (_, roles) = admin.get("/api/v1/roles").await;
    let abilities =
        roles.as_array().and_then(|rs| rs.iter().find(|r| r["name"] == "Viewer")).map(|r| r["abilities"].to_string());
    assert!(abilities.unwrap_or_default().contains("run-backups"), "stored");
    // Without a change the page says nothing.
    let (_, html) = ann.get("/roles").await;
    assert!(!html.contains("Saved. Every holder"));
}

/// Signs up `admin` with a forwarding header naming 203.0.113.9, signs in, and returns the
/// address the audit trail recorded for the sign-up.
async fn recorded_address(app: &TestApp) -> String {
    let c = app.browser();
    let r = c
        .http
        .post(format!("{}/rpc/sign_up", app.base))
        .header("x-forwarded-for", "198.51.100.1, 203.0.113.9")
        .form(&[("username", "admin"), ("full_name", "Ada"), ("email", "admin@example.com"), ("password", ADMIN_PW)])
        .send()
        .await
        .expect("sign up");
    assert_eq!(r.status().as_u16(), 200);
    let (s, page) = c.get("/api/v1/audit?limit=10&event=user.signed_up").await;
    assert_eq!(s, 200, "{page}");
    page["events"][0]["ip"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn forwarded_addresses_count_only_from_trusted_proxies() {
    // The test client connects from 127.0.0.1: as an untrusted peer, what it writes in the
    // header is ignored (a client must not choose the address its sign-ins are throttled and
    // audited under).
    let app = TestApp::start().await;
    assert_eq!(recorded_address(&app).await, "127.0.0.1");
    // Named as a proxy: the rightmost address it forwarded is the client's, not the one the
    // client itself wrote further left.
    let config = app::backend::Config {
        trusted_proxies: vec![server::client_addr::parse_proxy("127.0.0.0/8").expect("cidr")],
        ..Default::default()
    };
    let app = TestApp::start_with(config).await;
    assert_eq!(recorded_address(&app).await, "203.0.113.9");
}

#[tokio::test]
async fn a_shutting_down_server_ends_its_event_streams() {
    // (otherwise a graceful shutdown would wait for every open page until the grace period)
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let mut stream = admin.http.get(format!("{}/api/v1/events", app.base)).send().await.expect("events");
    assert_eq!(stream.status().as_u16(), 200);
    let first = stream.chunk().await.expect("first event").expect("a chunk");
    assert!(String::from_utf8_lossy(&first).contains("event: access"), "{first:?}");
    app.backend.stop_streams();
    let end = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            match stream.chunk().await {
                Ok(Some(_)) => continue,
                Ok(None) | Err(_) => return,
            }
        }
    })
    .await;
    assert!(end.is_ok(), "the event stream is still open 10 s after shutdown began");
}

#[tokio::test]
async fn every_answer_names_its_request() {
    let app = TestApp::start().await;
    let http = reqwest::Client::new();
    let id_of = |r: &reqwest::Response| {
        r.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
    };
    // A new id per request: 24 hex digits.
    let a = id_of(&http.get(format!("{}/healthz", app.base)).send().await.expect("get"));
    let b = id_of(&http.get(format!("{}/api/v1/me", app.base)).send().await.expect("get"));
    for id in [&a, &b] {
        assert!(id.len() == 24 && id.bytes().all(|c| c.is_ascii_hexdigit()), "{id:?}");
    }
    assert_ne!(a, b);
    // A proxy's sane id is kept (its log lines and ours then match); anything else is replaced.
    let kept = http.get(format!("{}/healthz", app.base)).header("x-request-id", "7f3a-9c_01.x").send().await;
    assert_eq!(id_of(&kept.expect("get")), "7f3a-9c_01.x");
    for odd in ["a b", "<script>", &"x".repeat(65)] {
        let r = http.get(format!("{}/healthz", app.base)).header("x-request-id", odd).send().await.expect("get");
        let id = id_of(&r);
        assert!(id.len() == 24 && id != odd, "{odd:?} -> {id:?}");
    }
}

#[tokio::test]
async fn readiness_names_what_is_missing() {
    let app = TestApp::start().await;
    let http = reqwest::Client::new();
    let r = http.get(format!("{}/readyz", app.base)).send().await.expect("readyz");
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.json::<Value>().await.expect("json"), json!({"status": "ready"}));
    // A database behind this binary's migrations (another instance rolled back, say): the
    // load balancer must not send traffic here, and the operator reads why.
    app.exec("DELETE FROM _sqlx_migrations WHERE version = 8").await;
    let r = http.get(format!("{}/readyz", app.base)).send().await.expect("readyz");
    assert_eq!(r.status().as_u16(), 503);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["status"], "not_ready");
    assert!(body["reason"].as_str().unwrap_or_default().contains("migrations pending: [8]"), "{body}");
    // Liveness is another question: the process still answers.
    let r = http.get(format!("{}/healthz", app.base)).send().await.expect("healthz");
    assert_eq!(r.status().as_u16(), 200);
}

/// The console's import takes a file as large as the API does (other functions stop at
/// 256 KB): sent by the page's script, and posted natively with the file itself before the
/// WASM arrives (multipart; the file chosen wins over the text area).
#[tokio::test]
async fn the_consoles_import_takes_whole_files_with_and_without_the_wasm() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let file: String = (0..3_000)
        .map(|i| format!("{}\n", json!({"username": format!("file{i:04}"), "full_name": format!("Account {i} of a file over 256 KB"), "email": format!("file{i}@example.com")})))
        .collect();
    assert!(file.len() > 256 * 1024);
    let form = [("format", "jsonl"), ("text", file.as_str()), ("dry_run", "true"), ("on_existing", "fail")];
    let (s, r) = admin.rpc("import_accounts", &form).await;
    assert_eq!((s, r["dry_run"].clone()), (200, json!(true)), "{r}");
    assert_eq!(r["rows"].as_array().map(Vec::len), Some(3_000));

    let browser = PlainBrowser::new(&app);
    browser.sign_in("admin", ADMIN_PW).await;
    let r = browser
        .post_multipart(
            "import_accounts",
            "/admin/import",
            &[
                ("format", None, b"jsonl"),
                ("text_file", Some("users.jsonl"), file.as_bytes()),
                ("text", None, b"{\"username\": \"pasted_not_sent\"}"),
                ("databases_file", Some(""), b""),
                ("databases", None, b""),
                ("org", None, b""),
                ("on_existing", None, b"fail"),
                ("dry_run", None, b"false"),
            ],
        )
        .await;
    let to = header(&r, "location");
    assert_eq!(r.status().as_u16(), 303);
    assert!(to.starts_with("/admin/import?rpc=import_accounts&ok=1"), "{to}");
    let (_, html) = browser.get(&to).await;
    assert!(html.contains("3000 created"), "the report is on the page");
    assert_eq!(app.count("SELECT COUNT(*) FROM users WHERE username_key LIKE 'file%'").await, 3_000);
    assert_eq!(app.count("SELECT COUNT(*) FROM users WHERE username_key = 'pasted_not_sent'").await, 0);

    // A file that is not text comes back to the page, named, and nothing is imported.
    let r = browser
        .post_multipart(
            "import_accounts",
            "/admin/import",
            &[
                ("format", None, b"csv"),
                ("text_file", Some("photo.jpg"), &[0xff, 0xd8, 0xff, 0xe0, 0x00]),
                ("dry_run", None, b"false"),
            ],
        )
        .await;
    let to = header(&r, "location");
    assert!(to.starts_with("/admin/import?rpc=import_accounts&error="), "{to}");
    let (_, html) = browser.get(&to).await;
    assert!(html.contains("photo.jpg is not a text file (UTF-8)."), "the refusal is on the page");
}
