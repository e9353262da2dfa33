//! TOTP, recovery codes, the second sign-in step and sudo mode, against a real listener and
//! SQLite file, with codes computed by `oathtool` (Debian's oath-toolkit), not by our code.
use crate::common;

use common::{code, enrol, oathtool, secs, Client, TestApp, ADMIN_PW, MEMBER_PW};
use serde_json::{json, Value};

/// A fresh browser past the password step for `user` (holding a challenge cookie).
async fn password_step(app: &TestApp, user: &str, pw: &str) -> Client {
    let c = app.browser();
    let (s, body) = c.rpc("sign_in", &[("login", user), ("password", pw)]).await;
    assert_eq!((s, body), (200, json!({"SecondFactor": {"totp": true, "passkey": false}})));
    c
}

async fn whoami(c: &Client) -> Value {
    c.rpc("current_user", &[]).await.1
}

#[test]
fn our_codes_match_oathtool_for_random_secrets() {
    for i in 0..25 {
        let secret = app::backend::totp::new_secret();
        let b32 = app::backend::totp::base32(&secret);
        let t = 1_600_000_000 + i * 7_777_777;
        assert_eq!(app::backend::totp::code(&secret, t / 30), oathtool(&b32, t), "secret {b32} at {t}");
    }
}

#[tokio::test]
async fn enrol_then_sign_in_with_a_code_or_a_recovery_code_each_once() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let alice = app.member(&admin, "alice", "Default", "Member").await;
    let (secret, codes) = enrol(&app, &alice).await;
    // The users list shows it.
    let (_, u) = admin.get("/api/v1/users/alice").await;
    assert_eq!(u["two_factor"], json!(true));
    let (_, st) = alice.rpc("security_status", &[]).await;
    assert_eq!((st["totp"].clone(), st["recovery_codes_left"].clone()), (json!(true), json!(10)));

    // Password alone no longer signs in: the half-signed-in browser reaches nothing.
    app.clock.advance_ms(30_000);
    let c = password_step(&app, "alice", MEMBER_PW).await;
    assert_eq!(whoami(&c).await, Value::Null);
    assert_eq!(c.get("/api/v1/me").await.0, 401);
    assert_eq!(c.rpc("list_members", &[]).await.0, 401);
    let now_code = oathtool(&secret, secs(&app));
    let (s, me) = c.rpc("sign_in_code", &[("code", &now_code)]).await;
    assert_eq!(s, 200, "{me}");
    assert_eq!(whoami(&c).await["username"], "alice");

    // The same code again (another sign-in, same 30 s step): a replay, refused.
    let again = password_step(&app, "alice", MEMBER_PW).await;
    let (s, body) = again.rpc("sign_in_code", &[("code", &now_code)]).await;
    assert_eq!(s, 422, "{body}");
    assert_eq!(whoami(&again).await, Value::Null);
    // The previous step's code is in the window but older than the one used: refused too.
    let (s, _) = again.rpc("sign_in_code", &[("code", &oathtool(&secret, secs(&app) - 30))]).await;
    assert_eq!(s, 422);
    // A recovery code works instead, once (typed loosely).
    let loose = codes[3].to_uppercase().replace('-', " ");
    let (s, body) = again.rpc("sign_in_code", &[("code", &loose)]).await;
    assert_eq!(s, 200, "{body}");
    let third = password_step(&app, "alice", MEMBER_PW).await;
    let (s, _) = third.rpc("sign_in_code", &[("code", &codes[3])]).await;
    assert_eq!(s, 422, "a recovery code works once");
    let (_, st) = again.rpc("security_status", &[]).await;
    assert_eq!(st["recovery_codes_left"], json!(9));
    // The next step's code works (+1 step of clock drift).
    let (s, _) = third.rpc("sign_in_code", &[("code", &oathtool(&secret, secs(&app) + 30))]).await;
    assert_eq!(s, 200);
    // Each session keeps how it was signed in (the OpenID provider tells the tools).
    let methods = app.texts("SELECT s.method FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.username = 'alice' ORDER BY s.method").await;
    assert_eq!(methods, ["password", "recovery_code", "totp", "totp"], "enrolled after a password sign-in");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_concurrent_submissions_of_one_code_exactly_one_wins() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let bob = app.member(&admin, "bob", "Default", "Member").await;
    let (secret, _) = enrol(&app, &bob).await;
    app.clock.advance_ms(30_000);
    for round in 0..5 {
        let a = password_step(&app, "bob", MEMBER_PW).await;
        let b = password_step(&app, "bob", MEMBER_PW).await;
        let code = oathtool(&secret, secs(&app));
        let form = [("code", code.as_str())];
        let (ra, rb) = tokio::join!(a.rpc("sign_in_code", &form), b.rpc("sign_in_code", &form));
        let wins = [ra.0, rb.0].iter().filter(|s| **s == 200).count();
        assert_eq!(wins, 1, "round {round}: {ra:?} {rb:?}");
        app.clock.advance_ms(30_000);
        // (the loser's failure counts toward the throttle; a success clears it)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_parallel_redemptions_of_one_recovery_code_exactly_one_wins() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let carol = app.member(&admin, "carol", "Default", "Member").await;
    let (_, codes) = enrol(&app, &carol).await;
    let mut browsers = Vec::new();
    for _ in 0..20 {
        browsers.push(password_step(&app, "carol", MEMBER_PW).await);
    }
    let code = codes[0].clone();
    let tasks: Vec<_> = browsers
        .into_iter()
        .map(|c| {
            let code = code.clone();
            tokio::spawn(async move { c.rpc("sign_in_code", &[("code", &code)]).await.0 })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        if t.await.expect("join") == 200 {
            ok += 1;
        }
    }
    assert_eq!(ok, 1);
    // The store primitive itself, without the throttle in front: 20 transactions racing.
    let user = app.backend.access.read().user_id("carol").expect("carol");
    let hash = app::backend::totp::recovery_hash(&codes[1]);
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let b = app.backend.clone();
            let hash = hash.clone();
            tokio::spawn(async move {
                let mut tx = b.store.begin().await.expect("tx");
                let used = tx.use_recovery_code(user, &hash, 1).await.expect("use");
                tx.commit().await.expect("commit");
                used
            })
        })
        .collect();
    let mut used = 0;
    for t in tasks {
        used += t.await.expect("join") as i32;
    }
    assert_eq!(used, 1);
}

#[tokio::test]
async fn the_code_step_is_throttled_and_expires() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let dan = app.member(&admin, "dan", "Default", "Member").await;
    let (secret, _) = enrol(&app, &dan).await;
    app.clock.advance_ms(30_000);
    let c = password_step(&app, "dan", MEMBER_PW).await;
    for _ in 0..app::domain::throttle::FREE_FAILURES + 1 {
        let (s, b) = c.rpc("sign_in_code", &[("code", "000000")]).await;
        assert_eq!(s, 422);
        assert!(b.to_string().contains("not valid"), "{b}");
    }
    // Now even the right code waits.
    let (s, b) = c.rpc("sign_in_code", &[("code", &oathtool(&secret, secs(&app)))]).await;
    assert_eq!(s, 422);
    assert!(b.to_string().contains("Too many attempts"), "{b}");
    app.clock.advance_ms(1_000);
    let (s, _) = c.rpc("sign_in_code", &[("code", &oathtool(&secret, secs(&app)))]).await;
    assert_eq!(s, 200, "allowed again after the delay");
    // A challenge lasts five minutes.
    app.clock.advance_ms(30_000);
    let late = password_step(&app, "dan", MEMBER_PW).await;
    app.clock.advance_ms(5 * 60_000 + 1);
    let (s, b) = late.rpc("sign_in_code", &[("code", &oathtool(&secret, secs(&app)))]).await;
    assert_eq!(s, 422);
    assert!(b.to_string().contains("expired"), "{b}");
    // Without a challenge at all.
    let (s, b) = app.browser().rpc("sign_in_code", &[("code", "123456")]).await;
    assert_eq!(s, 422, "{b}");
}

#[tokio::test]
async fn sudo_mode_asks_again_for_credentials_and_grants() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let erin = app.member(&admin, "erin", "Default", "Member").await;
    app.clock.advance_ms(11 * 60_000);
    for (f, form) in
        [("begin_totp", vec![]), ("resume_totp", vec![]), ("create_token", vec![("name", "t"), ("kind", "pat")])]
    {
        let (s, b) = erin.rpc(f, &form).await;
        assert_eq!((s, code(&b)), (403, "Forbidden".to_string()), "{f}: {b}");
        assert_eq!(b, json!({"Forbidden": "ReauthRequired"}));
    }
    // Changing the email needs it too; the name alone does not.
    let (s, _) = erin.rpc("update_profile", &[("full_name", "Erin E"), ("email", "erin@example.com")]).await;
    assert_eq!(s, 200);
    let (s, b) = erin.rpc("update_profile", &[("full_name", "Erin E"), ("email", "erin2@example.com")]).await;
    assert_eq!((s, b), (403, json!({"Forbidden": "ReauthRequired"})));
    // Granting: the super admin's role toggle and member role changes.
    let viewer =
        app.backend.access.read().roles.iter().find(|(_, r)| r.name == "Viewer").map(|(id, _)| id.0).expect("viewer");
    let (s, b) = admin
        .rpc("set_role_ability", &[("role", &viewer.to_string()), ("ability", "run-backups"), ("on", "true")])
        .await;
    assert_eq!((s, b), (403, json!({"Forbidden": "ReauthRequired"})));
    // Re-authenticate: a wrong password is a field error, the right one opens sudo mode.
    let (s, b) = erin.rpc("reauthenticate", &[("password", "not the password at all")]).await;
    assert_eq!(s, 422, "{b}");
    let (s, _) = erin.rpc("reauthenticate", &[("password", MEMBER_PW)]).await;
    assert_eq!(s, 200);
    let (s, b) = erin.rpc("begin_totp", &[]).await;
    assert_eq!(s, 200, "{b}");
    let (s, _) = admin.rpc("reauthenticate", &[("password", ADMIN_PW)]).await;
    assert_eq!(s, 200);
    let (s, b) = admin
        .rpc("set_role_ability", &[("role", &viewer.to_string()), ("ability", "run-backups"), ("on", "true")])
        .await;
    assert_eq!(s, 200, "{b}");
    // It lasts ten minutes.
    app.clock.advance_ms(10 * 60_000 + 1);
    let (s, _) = erin.rpc("begin_totp", &[]).await;
    assert_eq!(s, 403);
}

#[tokio::test]
async fn turning_off_regenerating_and_the_admin_reset() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let fay = app.member(&admin, "fay", "Default", "Member").await;
    let (secret, old) = enrol(&app, &fay).await;
    // A new batch replaces the old one.
    let (s, r) = fay.rpc("regenerate_recovery_codes", &[]).await;
    assert_eq!(s, 200);
    let new: Vec<String> =
        r["codes"].as_array().expect("codes").iter().map(|v| v.as_str().unwrap_or("").into()).collect();
    let c = password_step(&app, "fay", MEMBER_PW).await;
    assert_eq!(c.rpc("sign_in_code", &[("code", &old[0])]).await.0, 422, "old batch is gone");
    assert_eq!(c.rpc("sign_in_code", &[("code", &new[0])]).await.0, 200);
    // Enrolling again while on is refused.
    let (s, _) = fay.rpc("begin_totp", &[]).await;
    assert_eq!(s, 409);
    // The admin reset needs a reason and leaves the password as the only factor.
    let (s, b) = admin.rpc("reset_two_factor", &[("username", "fay"), ("reason", "  ")]).await;
    assert_eq!(s, 422, "{b}");
    let (s, b) = admin.rpc("reset_two_factor", &[("username", "fay"), ("reason", "Lost phone, ticket 42")]).await;
    assert_eq!(s, 200, "{b}");
    let again = app.browser();
    let (s, body) = again.rpc("sign_in", &[("login", "fay"), ("password", MEMBER_PW)]).await;
    assert_eq!(s, 200);
    assert_eq!(body["Done"]["username"], "fay");
    let (_, audit) = admin.rpc("list_audit", &[]).await;
    let reset = audit["events"].as_array().expect("events").iter().find(|e| e["event"] == "2fa.reset").cloned();
    let reset = reset.expect("a 2fa.reset event");
    assert_eq!(reset["target"], "fay");
    assert!(reset["after"].as_str().unwrap_or("").contains("Lost phone, ticket 42"), "{reset}");
    // The user turns it on again and off again (sudo mode: just signed in).
    let (_, _) = enrol(&app, &again).await;
    let (s, _) = again.rpc("disable_two_factor", &[]).await;
    assert_eq!(s, 200);
    let (_, st) = again.rpc("security_status", &[]).await;
    assert_eq!(st["totp"], json!(false));
    let _ = secret;
}

#[tokio::test]
async fn seeds_are_sealed_at_rest_and_bound_to_their_account() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let gus = app.member(&admin, "gus", "Default", "Member").await;
    let hal = app.member(&admin, "hal", "Default", "Member").await;
    let (secret, codes) = enrol(&app, &gus).await;
    let _ = enrol(&app, &hal).await;
    let raw = data_encoding::BASE32_NOPAD.decode(secret.as_bytes()).expect("base32");
    let rows = app.int_bytes_rows("SELECT user_id, secret FROM totp").await;
    for (_, sealed) in &rows {
        assert!(!sealed.windows(raw.len()).any(|w| w == raw.as_slice()), "the seed is stored in the clear");
        assert!(!String::from_utf8_lossy(sealed).contains(&secret));
    }
    let dump = app.texts("SELECT COALESCE(before, '') || COALESCE(after, '') FROM audit_events").await;
    for text in &dump {
        assert!(!text.contains(&secret) && !codes.iter().any(|c| text.contains(c.as_str())), "{text}");
    }
    // gus's sealed seed copied onto hal: it no longer opens (bound to its account), and the
    // sign-in fails cleanly instead of accepting gus's codes for hal.
    let gus_id = app.backend.access.read().user_id("gus").expect("gus").0;
    let hal_id = app.backend.access.read().user_id("hal").expect("hal").0;
    app.exec(&format!(
        "UPDATE totp SET secret = (SELECT secret FROM totp WHERE user_id = {gus_id}) WHERE user_id = {hal_id}"
    ))
    .await;
    app.clock.advance_ms(30_000);
    let c = password_step(&app, "hal", MEMBER_PW).await;
    let (s, b) = c.rpc("sign_in_code", &[("code", &oathtool(&secret, secs(&app)))]).await;
    assert_eq!(s, 500, "{b}");
    assert_eq!(code(&b), "Internal");
    assert_eq!(whoami(&c).await, Value::Null);
}

#[tokio::test]
async fn a_required_second_factor_leaves_only_the_security_settings_open() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    admin.post_json("/api/v1/orgs", &json!({"name": "Acme"})).await;
    let ivy = app.member(&admin, "ivy", "Acme", "Admin").await;
    assert_eq!(ivy.rpc("list_members", &[]).await.0, 200);
    // A super admin without 2FA may not require it (they would lock themselves out).
    let acme =
        app.backend.access.read().orgs.iter().find(|(_, n)| n.as_str() == "Acme").map(|(id, _)| id.0).expect("acme");
    let (s, b) = admin.rpc("set_two_factor_requirement", &[("org", &acme.to_string()), ("required", "true")]).await;
    assert_eq!(s, 409, "{b}");
    let (_, _) = enrol(&app, &admin).await;
    let (s, b) = admin.rpc("set_two_factor_requirement", &[("org", &acme.to_string()), ("required", "true")]).await;
    assert_eq!(s, 200, "{b}");
    // ivy's very next request: only the profile and security settings are open.
    let (s, b) = ivy.rpc("list_members", &[]).await;
    assert_eq!((s, b), (403, json!({"Forbidden": "TwoFactorRequired"})));
    assert_eq!(ivy.get("/api/v1/orgs/Acme/members").await.0, 403);
    let (_, me) = ivy.rpc("current_user", &[]).await;
    assert_eq!(me["needs_two_factor"], json!(true));
    let (s, _) = ivy.rpc("security_status", &[]).await;
    assert_eq!(s, 200);
    // Enrolling lifts it at once.
    let _ = enrol(&app, &ivy).await;
    assert_eq!(ivy.rpc("list_members", &[]).await.0, 200);
    // Instance-wide: a member of another organization is caught too.
    let joe = app.member(&admin, "joe", "Default", "Member").await;
    assert_eq!(joe.rpc("explain_access", &[("user", "joe"), ("org", ""), ("ability", "run-backups")]).await.0, 200);
    let (s, _) = admin.rpc("set_two_factor_requirement", &[("required", "true")]).await;
    assert_eq!(s, 200);
    let (s, _) = joe.rpc("explain_access", &[("user", "joe"), ("org", ""), ("ability", "run-backups")]).await;
    assert_eq!(s, 403);
    let (_, on) = admin.rpc("instance_two_factor_requirement", &[]).await;
    assert_eq!(on, json!(true));
    // Audited, with before/after.
    let (_, audit) = admin.rpc("list_audit", &[("event", "settings.two_factor_required")]).await;
    assert!(audit["events"].as_array().is_some_and(|e| e.len() == 2), "{audit}");
}

#[tokio::test]
async fn an_admin_unlocks_a_throttled_account() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    app.member(&admin, "kim", "Default", "Member").await;
    let c = app.browser();
    for _ in 0..app::domain::throttle::FREE_FAILURES + 1 {
        c.rpc("sign_in", &[("login", "kim"), ("password", "wrong wrong wrong")]).await;
    }
    // Throttled: even the right password is refused (same generic answer).
    let (s, _) = c.rpc("sign_in", &[("login", "kim"), ("password", MEMBER_PW)]).await;
    assert_eq!(s, 401);
    let (s, b) = admin.rpc("unlock_user", &[("username", "kim")]).await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = c.rpc("sign_in", &[("login", "kim"), ("password", MEMBER_PW)]).await;
    assert_eq!(s, 200, "{b}");
    let (_, audit) = admin.rpc("list_audit", &[("event", "user.unlocked")]).await;
    assert_eq!(audit["events"][0]["target"], "kim");
}
