//! What every answer gets at the edge: statuses for malformed server-function calls, forms
//! posted before the WASM arrives, caching and security headers, and JSON bodies for the
//! errors the framework produces itself.
mod common;

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

/// A form posted natively (the WASM has not arrived): the answer is a page, never JSON.
#[tokio::test]
async fn forms_posted_before_the_wasm_arrives_come_back_as_pages() {
    let app = TestApp::start().await;
    app.admin().await;
    let page = format!("{}/sign-in?next=%2Fmembers", app.base);
    let c = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let post = |form: Vec<(&'static str, &'static str)>| {
        c.post(format!("{}/rpc/sign_in", app.base))
            .header("accept", "text/html,application/xhtml+xml")
            .header("origin", &app.base)
            .header("sec-fetch-site", "same-origin")
            .header("referer", &page)
            .form(&form)
            .send()
    };
    // A wrong password: back to the same page with the error and what was typed (never the
    // password itself).
    let r = post(vec![("login", "admin"), ("password", "not the password at all")]).await.expect("post");
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
    let r = post(vec![("login", "admin"), ("password", ADMIN_PW)]).await.expect("post");
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
