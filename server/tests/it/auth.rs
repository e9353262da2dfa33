//! Sign-up, sign-in, sessions and cross-site checks against a real listener.
use crate::common;

use common::{code, TestApp, ADMIN_PW};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_sign_ups_make_exactly_one_super_admin() {
    let app = TestApp::start().await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let c = app.browser();
        tasks.push(tokio::spawn(async move {
            let name = format!("first{i}");
            let email = format!("first{i}@example.com");
            c.rpc("sign_up", &[("username", &name), ("full_name", ""), ("email", &email), ("password", ADMIN_PW)]).await
        }));
    }
    let mut ok = 0;
    let mut closed = 0;
    for t in tasks {
        let (status, body) = t.await.expect("join");
        if status == 200 {
            ok += 1;
        } else {
            assert_eq!(body, json!({"Forbidden": "SignUpClosed"}), "unexpected failure: {status} {body}");
            closed += 1;
        }
    }
    assert_eq!((ok, closed), (1, 7));
    assert_eq!(app.backend.store.user_count().await.expect("count"), 1);
    // The one account is a super admin and sign-up is closed from now on.
    let page = app
        .backend
        .store
        .list_users(&app::backend::store::UserListQuery {
            search: None,
            sort: Default::default(),
            dir: Default::default(),
            seek: app::backend::store::Seek::First,
            limit: 10,
            legacy_hash: false,
        })
        .await
        .expect("list");
    assert!(page[0].super_admin);
    let (s, body) = app.browser().rpc("sign_up_open", &[]).await;
    assert_eq!((s, body), (200, json!(false)));
    let (s, body) = app
        .browser()
        .rpc(
            "sign_up",
            &[("username", "late"), ("full_name", ""), ("email", "late@example.com"), ("password", ADMIN_PW)],
        )
        .await;
    assert_eq!(s, 403, "{body}");
    assert_eq!(code(&body), "Forbidden");
}

#[tokio::test]
async fn the_first_sign_up_is_claimed_once_by_a_unique_row() {
    // The count of accounts is not the only guard: the instance's one-time flag (a primary
    // key) refuses a second claim whatever the isolation, so a sign-up that read "no account
    // yet" still loses once another sign-up has claimed the instance.
    let app = TestApp::start().await;
    app.exec("INSERT INTO instance_flags (key) VALUES ('bootstrapped')").await;
    let (s, body) = app
        .browser()
        .rpc(
            "sign_up",
            &[("username", "late"), ("full_name", ""), ("email", "late@example.com"), ("password", ADMIN_PW)],
        )
        .await;
    assert_eq!((s, body), (403, json!({"Forbidden": "SignUpClosed"})));
    assert_eq!(app.backend.store.user_count().await.expect("count"), 0, "nothing was written");
}

#[tokio::test]
async fn sign_up_validates_every_field_at_once() {
    let app = TestApp::start().await;
    let (s, body) = app
        .browser()
        .rpc("sign_up", &[("username", "1bad"), ("full_name", ""), ("email", "nope"), ("password", "short")])
        .await;
    assert_eq!(s, 422);
    let fields: Vec<&str> =
        body["Invalid"]["errors"].as_array().expect("errors").iter().filter_map(|e| e["field"].as_str()).collect();
    assert_eq!(fields, ["username", "email", "password"]);
    // A common password is refused with a reason even when long enough.
    let (_, body) = app
        .browser()
        .rpc(
            "sign_up",
            &[("username", "ann"), ("full_name", ""), ("email", "ann@example.com"), ("password", "password")],
        )
        .await;
    assert!(body.to_string().contains("at least 15"), "{body}");
    assert_eq!(app.backend.store.user_count().await.expect("count"), 0, "nothing written");
}

#[tokio::test]
async fn sign_in_errors_are_identical_for_unknown_wrong_and_disabled() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let _bob = app.user(&admin, "bob", "blue river long secret").await;
    let (s, _) = admin.patch_json("/api/v1/users/bob", &json!({"status": "disabled"})).await;
    assert_eq!(s, 200);

    let mut answers = Vec::new();
    for (login, pw) in
        [("nobody", "whatever password 1"), ("admin", "wrong password here"), ("bob", "blue river long secret")]
    {
        let r = app.browser().rpc_raw("sign_in", &[("login", login), ("password", pw)]).await;
        let status = r.status().as_u16();
        let mut headers: Vec<String> = r
            .headers()
            .iter()
            // (the request id differs by design: it names each request)
            .filter(|(k, _)| *k != "date" && *k != "content-length" && *k != "x-request-id")
            .map(|(k, v)| format!("{k}: {}", v.to_str().unwrap_or("")))
            .collect();
        headers.sort();
        let body = r.text().await.expect("body");
        answers.push((status, headers, body));
    }
    assert_eq!(answers[0].2, "\"SignInFailed\"");
    assert_eq!(answers[0].0, 401);
    assert!(answers.iter().all(|a| a == &answers[0]), "answers differ: {answers:#?}");
    assert!(answers[0].1.iter().all(|h| !h.starts_with("set-cookie")), "no session on failure");
}

#[tokio::test]
async fn throttling_escalates_per_account_and_blocks_even_the_right_password() {
    let app = TestApp::start().await;
    let _admin = app.admin().await;
    let c = app.browser();
    // Three free failures...
    for _ in 0..3 {
        let (_, body) = c.rpc("sign_in", &[("login", "admin"), ("password", "not the password!")]).await;
        assert_eq!(body, json!("SignInFailed"));
    }
    // ...the fourth is counted and starts a delay; during it even the right password fails.
    let (_, body) = c.rpc("sign_in", &[("login", "admin"), ("password", "still not it!!")]).await;
    assert_eq!(body, json!("SignInFailed"));
    let (_, body) = c.rpc("sign_in", &[("login", "ADMIN"), ("password", ADMIN_PW)]).await;
    assert_eq!(body, json!("SignInFailed"), "throttled: the right password must not get in");
    // Another account is not affected.
    // Once the delay has passed, the right password works and clears the counter.
    app.clock.advance_ms(1_500);
    let (s, body) = c.rpc("sign_in", &[("login", "admin"), ("password", ADMIN_PW)]).await;
    assert_eq!(s, 200, "{body}");
    // The throttle row is gone: three more free failures are allowed again.
    for _ in 0..3 {
        let (_, body) = c.rpc("sign_in", &[("login", "admin"), ("password", "not the password!")]).await;
        assert_eq!(body, json!("SignInFailed"));
    }
    let (s, _) = c.rpc("sign_in", &[("login", "admin"), ("password", ADMIN_PW)]).await;
    assert_eq!(s, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn throttle_counts_concurrent_failures_exactly() {
    let app = TestApp::start().await;
    let _admin = app.admin().await;
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let c = app.browser();
        tasks.push(tokio::spawn(async move {
            c.rpc("sign_in", &[("login", "admin"), ("password", "wrong wrong wrong")]).await
        }));
    }
    for t in tasks {
        let (_, body) = t.await.expect("join");
        assert_eq!(body, json!("SignInFailed"));
    }
    // Only the attempts that got a slot were counted and hashed; the rest were refused up
    // front. With no time passing, exactly FREE_FAILURES + 1 slots exist.
    let audit = app.backend.store.list_audit(&Default::default(), Default::default(), 200).await.expect("audit");
    let bad = audit
        .iter()
        .filter(|e| e.event == "sign_in" && e.after.as_deref().is_some_and(|a| a.contains("bad_credentials")))
        .count();
    let throttled = audit
        .iter()
        .filter(|e| e.event == "sign_in" && e.after.as_deref().is_some_and(|a| a.contains("throttled")))
        .count();
    assert_eq!(bad, 4, "attempts that reached the hash check");
    assert_eq!(throttled, 46);
}

#[tokio::test]
async fn sign_in_rotates_the_session_and_sign_out_ends_it() {
    let app = TestApp::start().await;
    let _admin = app.admin().await;
    let sign_in = |c: &common::Client| {
        let c = c.http.clone();
        let base = app.base.clone();
        async move {
            let r = c
                .post(format!("{base}/rpc/sign_in"))
                .form(&[("login", "admin"), ("password", ADMIN_PW)])
                .send()
                .await
                .expect("sign in");
            let cookie = r.headers().get("set-cookie").and_then(|v| v.to_str().ok()).expect("set-cookie").to_string();
            assert!(
                cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"),
                "{cookie}"
            );
            cookie.split(';').next().expect("pair").to_string()
        }
    };
    let c = app.browser();
    let first = sign_in(&c).await;
    let second = sign_in(&c).await;
    assert_ne!(first, second, "a new session id at every sign-in");
    // The old token no longer works; the new one does.
    let raw = reqwest::Client::new();
    let me = |cookie: String| {
        let raw = raw.clone();
        let base = app.base.clone();
        async move {
            let r = raw
                .post(format!("{base}/rpc/current_user"))
                .header("cookie", cookie)
                .header("origin", base.clone())
                .send()
                .await
                .expect("me");
            r.json::<serde_json::Value>().await.expect("json")
        }
    };
    assert_eq!(me(first.clone()).await, json!(null));
    assert_eq!(me(second.clone()).await["username"], "admin");
    // Sign-out kills the session server-side: replaying the cookie gets nothing.
    let (s, _) = c.rpc("sign_out", &[]).await;
    assert_eq!(s, 200);
    assert_eq!(me(second).await, json!(null));
    // The token is stored hashed: the raw value is not in the database.
    let token = first.split('=').nth(1).expect("token").to_string();
    match app.kind {
        common::db::Kind::Sqlite => {
            let bytes = std::fs::read(app.dir.path().join("roster.db")).expect("db");
            assert!(!String::from_utf8_lossy(&bytes).contains(&token));
        }
        common::db::Kind::Postgres => {
            let sql = format!("SELECT count(*) FROM sessions WHERE position('{token}'::bytea in token_hash) > 0");
            assert_eq!(app.count(&sql).await, 0);
        }
    }
}

#[tokio::test]
async fn cross_site_mutations_are_refused() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let cookie_jar_client = &admin.http;
    let body = json!({"username": "mallory", "email": "m@example.com", "password": "a sufficiently long one"});
    // Same client (has the session cookie), but with a foreign origin / fetch site.
    for (name, value) in [("origin", "http://evil.example"), ("sec-fetch-site", "cross-site"), ("origin", "null")] {
        let r = cookie_jar_client
            .post(format!("{}/api/v1/users", app.base))
            .header(name, value)
            .json(&body)
            .send()
            .await
            .expect("post");
        assert_eq!(r.status().as_u16(), 403, "{name}: {value}");
        let v: serde_json::Value = r.json().await.expect("json");
        assert_eq!(v["error"]["code"], "cross_site_request");
        let r = cookie_jar_client
            .post(format!("{}/rpc/delete_user", app.base))
            .header(name, value)
            .form(&[("username", "admin")])
            .send()
            .await
            .expect("rpc");
        assert_eq!(r.status().as_u16(), 403, "server function, {name}: {value}");
    }
    // A cookie with neither Origin nor Sec-Fetch-Site is refused too.
    let jar_cookie = {
        let c = app.browser();
        let r = c.rpc_raw("sign_in", &[("login", "admin"), ("password", ADMIN_PW)]).await;
        r.headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .to_string()
    };
    let r = reqwest::Client::new()
        .post(format!("{}/rpc/sign_out", app.base))
        .header("cookie", jar_cookie)
        .send()
        .await
        .expect("post");
    assert_eq!(r.status().as_u16(), 403);
    // Nothing was created.
    let (_, v) = admin.get("/api/v1/users/mallory").await;
    assert_eq!(code(&v), "not_found");
    // Reads are not affected.
    let (s, _) = admin.get("/api/v1/users").await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn disabling_or_deleting_a_user_cuts_off_their_live_session() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let bob = app.user(&admin, "bob", "blue river long secret").await;
    let carol = app.user(&admin, "carol", "green meadow long secret").await;
    let (_, me) = bob.rpc("current_user", &[]).await;
    assert_eq!(me["username"], "bob");
    let (s, _) = admin.patch_json("/api/v1/users/bob", &json!({"status": "disabled"})).await;
    assert_eq!(s, 200);
    let (_, me) = bob.rpc("current_user", &[]).await;
    assert_eq!(me, json!(null), "disabled: cut off on the very next request");
    // Re-enabling does not revive the old session.
    let (s, _) = admin.patch_json("/api/v1/users/bob", &json!({"status": "active"})).await;
    assert_eq!(s, 200);
    let (_, me) = bob.rpc("current_user", &[]).await;
    assert_eq!(me, json!(null));

    let (_, me) = carol.rpc("current_user", &[]).await;
    assert_eq!(me["username"], "carol");
    let (s, _) = admin.delete("/api/v1/users/carol").await;
    assert_eq!(s, 204);
    let (_, me) = carol.rpc("current_user", &[]).await;
    assert_eq!(me, json!(null), "deleted: cut off on the very next request");
}

#[tokio::test]
async fn idle_sessions_expire() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let (_, me) = admin.rpc("current_user", &[]).await;
    assert_eq!(me["username"], "admin");
    app.clock.advance_ms(app.backend.config.session_idle_ms + 1);
    let (_, me) = admin.rpc("current_user", &[]).await;
    assert_eq!(me, json!(null));
}

#[tokio::test]
async fn changing_password_needs_the_current_one_and_ends_other_sessions() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let other = app.browser();
    let (s, _) = other.rpc("sign_in", &[("login", "admin@example.com"), ("password", ADMIN_PW)]).await;
    assert_eq!(s, 200, "sign-in by email works");
    let (_, body) = admin
        .rpc("change_password", &[("current_password", "wrong current pw"), ("new_password", "a brand new passphrase")])
        .await;
    assert_eq!(body["Invalid"]["errors"][0]["field"], "current_password");
    let (s, body) = admin
        .rpc("change_password", &[("current_password", ADMIN_PW), ("new_password", "a brand new passphrase")])
        .await;
    assert_eq!(s, 200, "{body}");
    let (_, me) = admin.rpc("current_user", &[]).await;
    assert_eq!(me["username"], "admin", "this session stays");
    let (_, me) = other.rpc("current_user", &[]).await;
    assert_eq!(me, json!(null), "other sessions end");
    let (s, _) = app.browser().rpc("sign_in", &[("login", "admin"), ("password", "a brand new passphrase")]).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn responses_carry_security_headers() {
    let app = TestApp::start().await;
    let r = reqwest::get(format!("{}/healthz", app.base)).await.expect("get");
    let h = r.headers();
    assert_eq!(h.get("x-content-type-options").and_then(|v| v.to_str().ok()), Some("nosniff"));
    // (not a page: nothing may run, nothing may frame it)
    assert_eq!(
        h.get("content-security-policy").and_then(|v| v.to_str().ok()),
        Some("default-src 'none'; frame-ancestors 'none'; base-uri 'none'")
    );
    assert_eq!(h.get("cache-control").and_then(|v| v.to_str().ok()), Some("no-store"));
    assert_eq!(h.get("referrer-policy").and_then(|v| v.to_str().ok()), Some("same-origin"));
}

#[tokio::test]
async fn username_and_email_share_one_throttle() {
    let app = TestApp::start().await;
    let _admin = app.admin().await;
    let c = app.browser();
    for login in ["admin", "admin@example.com", "ADMIN", "Admin@Example.com"] {
        let (_, body) = c.rpc("sign_in", &[("login", login), ("password", "not the password!")]).await;
        assert_eq!(body, json!("SignInFailed"));
    }
    // Four failures on one account, whichever name was typed: now throttled.
    let (_, body) = c.rpc("sign_in", &[("login", "admin@example.com"), ("password", ADMIN_PW)]).await;
    assert_eq!(body, json!("SignInFailed"));
    app.clock.advance_ms(1_500);
    let (s, _) = c.rpc("sign_in", &[("login", "admin@example.com"), ("password", ADMIN_PW)]).await;
    assert_eq!(s, 200);
}
