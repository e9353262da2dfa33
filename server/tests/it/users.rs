//! The users admin through the JSON API (the same services back the UI and the CLI).
use crate::common;

use common::{code, TestApp, ADMIN_PW};
use serde_json::{json, Value};

fn usernames(v: &Value) -> Vec<String> {
    v["users"].as_array().expect("users").iter().map(|u| u["username"].as_str().unwrap_or("").to_string()).collect()
}

#[tokio::test]
async fn create_list_search_sort_page_get_update_delete() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    for (u, n) in [
        ("carol", "Carol Chen"),
        ("Bob", "bob baker"),
        ("dave", "Dave Dunn"),
        ("erin", "Erin Eck"),
        ("_frank", "Frank Fox"),
    ] {
        let (s, body) = admin
            .post_json("/api/v1/users", &json!({"username": u, "full_name": n, "email": format!("{}@Example.com", u.to_lowercase()), "password": "a long enough passphrase"}))
            .await;
        assert_eq!(s, 201, "{body}");
        assert!(body.get("password_hash").is_none() && body.get("password").is_none());
    }
    // Sorted by username (case-insensitive), paged 2 at a time, forwards and back.
    let (s, p1) = admin.get("/api/v1/users?limit=2").await;
    assert_eq!(s, 200);
    assert_eq!(usernames(&p1), ["_frank", "admin"]);
    assert!(p1["prev"].is_null());
    let next = p1["next"].as_str().expect("next");
    let (_, p2) = admin.get(&format!("/api/v1/users?limit=2&after={next}")).await;
    assert_eq!(usernames(&p2), ["Bob", "carol"]);
    let (_, p3) = admin.get(&format!("/api/v1/users?limit=2&after={}", p2["next"].as_str().expect("next"))).await;
    assert_eq!(usernames(&p3), ["dave", "erin"]);
    // The built-in public account is listed like any other.
    let (_, p4) = admin.get(&format!("/api/v1/users?limit=2&after={}", p3["next"].as_str().expect("next"))).await;
    assert_eq!(usernames(&p4), ["public"]);
    assert_eq!(p4["users"][0]["public"], json!(true));
    assert!(p4["next"].is_null(), "last page");
    let (_, back) = admin.get(&format!("/api/v1/users?limit=2&before={}", p3["prev"].as_str().expect("prev"))).await;
    assert_eq!(usernames(&back), ["Bob", "carol"]);
    let (_, back1) = admin.get(&format!("/api/v1/users?limit=2&before={}", back["prev"].as_str().expect("prev"))).await;
    assert_eq!(usernames(&back1), ["_frank", "admin"]);
    assert!(back1["prev"].is_null(), "first page has no previous");

    // Sort by every column in both directions: the order is right and pages don't overlap.
    for sort in ["username", "full_name", "email", "status", "two_factor", "created_at", "last_sign_in_at"] {
        for dir in ["asc", "desc"] {
            let mut seen = Vec::new();
            let mut after: Option<String> = None;
            loop {
                let url = match &after {
                    Some(a) => format!("/api/v1/users?sort={sort}&dir={dir}&limit=4&after={a}"),
                    None => format!("/api/v1/users?sort={sort}&dir={dir}&limit=4"),
                };
                let (s, page) = admin.get(&url).await;
                assert_eq!(s, 200, "{sort} {dir}: {page}");
                seen.extend(page["users"].as_array().expect("users").iter().cloned());
                match page["next"].as_str() {
                    Some(n) => after = Some(n.to_string()),
                    None => break,
                }
            }
            assert_eq!(seen.len(), 7, "{sort} {dir}: every user (and the public account) exactly once");
            let key = |u: &Value| -> String {
                match sort {
                    "two_factor" => u[sort].as_bool().map(|b| (b as u8).to_string()).unwrap_or_default(),
                    "created_at" | "last_sign_in_at" => format!("{:020}", u[sort].as_i64().unwrap_or(0)),
                    _ => u[sort].as_str().unwrap_or("").to_lowercase(),
                }
            };
            let keys: Vec<String> = seen.iter().map(key).collect();
            let mut sorted = keys.clone();
            sorted.sort();
            if dir == "desc" {
                sorted.reverse();
            }
            assert_eq!(keys, sorted, "{sort} {dir}");
        }
    }

    // Search matches username, full name and email, case-insensitively.
    let (_, r) = admin.get("/api/v1/users?search=BAKER").await;
    assert_eq!(usernames(&r), ["Bob"]);
    let (_, r) = admin.get("/api/v1/users?search=erin%40example").await;
    assert_eq!(usernames(&r), ["erin"]);
    let (_, r) = admin.get("/api/v1/users?search=_").await;
    assert_eq!(usernames(&r), ["_frank"], "LIKE wildcards are matched literally");

    // Get is case-insensitive; update; duplicate email refused case-insensitively.
    let (s, u) = admin.get("/api/v1/users/BOB").await;
    assert_eq!((s, u["username"].as_str()), (200, Some("Bob")));
    let (s, u) = admin.patch_json("/api/v1/users/bob", &json!({"full_name": "Robert Baker"})).await;
    assert_eq!((s, u["full_name"].as_str()), (200, Some("Robert Baker")));
    let (s, e) = admin.patch_json("/api/v1/users/bob", &json!({"email": "CAROL@example.com"})).await;
    assert_eq!((s, code(&e)), (409, "conflict".into()));
    assert_eq!(e["error"]["fields"][0]["field"], "email");
    let (s, e) = admin
        .post_json(
            "/api/v1/users",
            &json!({"username": "BOB", "email": "new@example.com", "password": "a long enough passphrase"}),
        )
        .await;
    assert_eq!((s, code(&e)), (409, "conflict".into()), "usernames are unique case-insensitively");

    let (s, _) = admin.delete("/api/v1/users/dave").await;
    assert_eq!(s, 204);
    let (s, e) = admin.get("/api/v1/users/dave").await;
    assert_eq!((s, code(&e)), (404, "not_found".into()));
}

#[tokio::test]
async fn bad_input_gets_specific_errors_and_writes_nothing() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let (s, e) =
        admin.post_json("/api/v1/users", &json!({"username": "9lives", "email": "x", "password": "short"})).await;
    assert_eq!(s, 422);
    let fields: Vec<&str> =
        e["error"]["fields"].as_array().expect("fields").iter().filter_map(|f| f["field"].as_str()).collect();
    assert_eq!(fields, ["username", "email", "password"]);
    let (s, e) =
        admin.post_json("/api/v1/users", &json!({"username": "ok", "email": "ok@example.com", "rol": "admin"})).await;
    assert_eq!((s, code(&e)), (422, "invalid".into()), "unknown fields are refused: {e}");
    let r = admin
        .http
        .post(format!("{}/api/v1/users", app.base))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("post");
    assert_eq!(r.status().as_u16(), 422);
    let (s, e) = admin.get("/api/v1/users?sort=password_hash").await;
    assert_eq!((s, code(&e)), (422, "invalid".into()));
    let (s, e) = admin.get("/api/v1/users?after=garbage").await;
    assert_eq!((s, code(&e)), (422, "invalid".into()));
    let (s, e) = admin.get("/api/v1/users?limit=-1").await;
    assert_eq!((s, code(&e)), (422, "invalid".into()));
    let (s, e) = admin.get("/api/v1/nope").await;
    assert_eq!((s, code(&e)), (404, "not_found".into()));
    assert_eq!(app.backend.store.user_count().await.expect("count"), 1);
}

#[tokio::test]
async fn only_super_admins_manage_users_and_anonymous_gets_401() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let bob = app.user(&admin, "bob", "blue river long secret").await;
    let anon = app.browser();
    let body = json!({"username": "x1", "email": "x1@example.com", "password": "a long enough passphrase"});
    let (s, e) = anon.get("/api/v1/users").await;
    assert_eq!((s, code(&e)), (401, "unauthenticated".into()));
    let (s, e) = anon.post_json("/api/v1/users", &body).await;
    assert_eq!((s, code(&e)), (401, "unauthenticated".into()));
    let (s, e) = bob.get("/api/v1/users").await;
    assert_eq!((s, code(&e)), (403, "not_super_admin".into()));
    let (s, _) = bob.post_json("/api/v1/users", &body).await;
    assert_eq!(s, 403);
    let (s, _) = bob.patch_json("/api/v1/users/bob", &json!({"super_admin": true})).await;
    assert_eq!(s, 403, "no self-promotion");
    let (s, _) = bob.delete("/api/v1/users/admin").await;
    assert_eq!(s, 403);
    let (s, v) = bob.rpc("list_users", &[]).await;
    assert_eq!((s, v), (403, json!({"Forbidden": "NotSuperAdmin"})), "server functions apply the same rule");
    let (s, _) = anon.rpc("list_users", &[]).await;
    assert_eq!(s, 401);
    let (s, v) = admin.rpc("list_users", &[("sort", "nonsense")]).await;
    assert_eq!(s, 422, "{v}");
}

#[tokio::test]
async fn self_delete_and_last_super_admin_are_refused() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let (s, e) = admin.delete("/api/v1/users/admin").await;
    assert_eq!((s, code(&e)), (403, "cannot_delete_self".into()));
    assert_eq!(e["error"]["message"], "You cannot delete your own account.");
    let (s, e) = admin.patch_json("/api/v1/users/admin", &json!({"status": "disabled"})).await;
    assert_eq!((s, code(&e)), (403, "cannot_disable_self".into()));
    // A second super admin can be demoted by the first; then that one cannot remove the first...
    let root2 = app.super_admin(&admin, "root2", "root two long passphrase").await;
    let (s, _) = root2.patch_json("/api/v1/users/admin", &json!({"super_admin": false})).await;
    assert_eq!(s, 200);
    let (s, e) = root2.delete("/api/v1/users/admin").await;
    assert_eq!(s, 204, "{e}");
    // ...and now root2 is the last active super admin.
    let (_, v) = root2.rpc("delete_user", &[("username", "root2")]).await;
    assert_eq!(v, json!({"Forbidden": "CannotDeleteSelf"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_super_admins_demoting_each_other_at_once_leave_one() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let root2 = app.super_admin(&admin, "root2", "root two long passphrase").await;
    for _ in 0..5 {
        let a = tokio::spawn({
            let c = admin.http.clone();
            let base = app.base.clone();
            async move {
                c.patch(format!("{base}/api/v1/users/root2"))
                    .json(&json!({"status": "disabled"}))
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
            }
        });
        let b = tokio::spawn({
            let c = root2.http.clone();
            let base = app.base.clone();
            async move {
                c.patch(format!("{base}/api/v1/users/admin"))
                    .json(&json!({"status": "disabled"}))
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
            }
        });
        let (ra, rb) = (a.await.expect("join").expect("a"), b.await.expect("join").expect("b"));
        let mut statuses = [ra, rb];
        statuses.sort();
        // Exactly one wins; the other is refused (last super admin, or its session was cut off).
        assert_eq!(statuses[0], 200, "{statuses:?}");
        assert!(statuses[1] == 403 || statuses[1] == 401, "{statuses:?}");
        let mut tx = app.backend.store.begin().await.expect("tx");
        assert_eq!(tx.active_super_admins().await.expect("count"), 1);
        drop(tx);
        // Reset for the next round via the CLI caller (re-enable whoever was disabled).
        for who in ["admin", "root2"] {
            let _ = app::backend::services::users::update(
                &app.backend,
                &app::backend::Ctx::cli(),
                who,
                app::domain::users::UserChanges {
                    status: Some(app::domain::users::UserStatus::Active),
                    ..Default::default()
                },
            )
            .await;
        }
        for (c, who, pw) in [(&admin, "admin", ADMIN_PW), (&root2, "root2", "root two long passphrase")] {
            let (s, _) = c.rpc("sign_in", &[("login", who), ("password", pw)]).await;
            assert_eq!(s, 200);
        }
    }
}

#[tokio::test]
async fn copy_takes_configuration_not_personal_details() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let (s, _) = admin
        .post_json("/api/v1/users", &json!({"username": "tmpl", "full_name": "Template Person", "email": "t@example.com", "password": "template long passphrase", "super_admin": true, "status": "disabled"}))
        .await;
    assert_eq!(s, 201);
    let (s, u) = admin
        .rpc(
            "copy_user",
            &[
                ("source", "tmpl"),
                ("username", "clone1"),
                ("full_name", "Clone One"),
                ("email", "c1@example.com"),
                ("password", "clone one long passphrase"),
            ],
        )
        .await;
    assert_eq!(s, 200, "{u}");
    assert_eq!(u["super_admin"], true);
    assert_eq!(u["status"], "disabled");
    assert_eq!(u["full_name"], "Clone One");
    assert_eq!(u["email"], "c1@example.com");
    let (_, v) = admin
        .rpc(
            "copy_user",
            &[
                ("source", "ghost"),
                ("username", "clone2"),
                ("full_name", ""),
                ("email", "c2@example.com"),
                ("password", "clone two long passphrase"),
            ],
        )
        .await;
    assert_eq!(code(&v), "NotFound");
}

#[tokio::test]
async fn audit_events_have_before_and_after_and_no_secrets() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let secret = "blue river long secret";
    let _bob = app.user(&admin, "bob", secret).await;
    let (s, _) = admin
        .patch_json("/api/v1/users/bob", &json!({"full_name": "Bob B", "password": "blue river newer secret"}))
        .await;
    assert_eq!(s, 200);
    let (s, _) = app.browser().rpc("sign_in", &[("login", "bob"), ("password", "wrong wrong wrong")]).await;
    assert_ne!(s, 200);
    let (s, _) = admin.patch_json("/api/v1/users/bob", &json!({"status": "disabled"})).await;
    assert_eq!(s, 200);
    let (s, _) = admin.delete("/api/v1/users/bob").await;
    assert_eq!(s, 204);
    let (s, page) = admin.rpc("list_audit", &[]).await;
    assert_eq!(s, 200);
    let events: Vec<(String, String)> = page["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| (e["event"].as_str().unwrap_or("").to_string(), e["outcome"].as_str().unwrap_or("").to_string()))
        .collect();
    for want in [
        ("user.signed_up", "success"),
        ("user.created", "success"),
        ("sign_in", "success"),
        ("user.updated", "success"),
        ("sign_in", "failure"),
        ("user.disabled", "success"),
        ("user.deleted", "success"),
    ] {
        assert!(events.contains(&(want.0.to_string(), want.1.to_string())), "missing {want:?} in {events:?}");
    }
    let updated =
        page["events"].as_array().expect("events").iter().find(|e| e["event"] == "user.updated").expect("updated");
    assert!(updated["before"].as_str().expect("before").contains("User bob"));
    assert!(updated["after"].as_str().expect("after").contains("Bob B"));
    assert!(updated["after"].as_str().expect("after").contains("password_changed"));
    let dump = page.to_string();
    for s in [secret, "blue river newer secret", ADMIN_PW, "wrong wrong wrong", "$argon2"] {
        assert!(!dump.contains(s), "audit contains a secret: {s}");
    }
    // Sign-in failures record IP and user agent.
    let failure = page["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["event"] == "sign_in" && e["outcome"] == "failure")
        .expect("failure");
    assert_eq!(failure["ip"], "127.0.0.1");
}

#[tokio::test]
async fn openapi_document_is_the_generated_one_and_every_route_in_it_answers() {
    let app = TestApp::start().await;
    let (s, doc) = app.browser().get("/api/v1/openapi.json").await;
    assert_eq!(s, 200);
    assert_eq!(doc, serde_json::to_value(server::rest::openapi()).expect("json"), "served = generated");
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")), "{}", doc["openapi"]);
    // What the hand-written document once lacked is now derived from the types.
    let me = &doc["components"]["schemas"]["Me"]["properties"];
    for field in ["org", "orgs", "needs_two_factor", "abilities"] {
        assert!(me.get(field).is_some(), "Me.{field} undocumented");
    }
    assert!(doc["components"]["schemas"]["Org"]["properties"].get("require_2fa").is_some());
    // Mutations document the cross-site refusal, everything the throttle's 429.
    for (method, path) in server::rest::routes() {
        let responses = &doc["paths"][&path][&method]["responses"];
        assert!(responses.get("429").is_some(), "{method} {path}: no 429");
        assert!(responses.get("500").is_some(), "{method} {path}: no 500");
        if method != "get" {
            assert!(responses.get("403").is_some(), "{method} {path}: no 403");
            assert!(responses.get("413").is_some(), "{method} {path}: no 413");
        }
    }
    let routes = server::rest::routes();
    assert!(routes.len() >= 41, "{routes:?}");
    // Every listed route answers (not the API's 404 fallback) for its method.
    let admin = app.admin().await;
    // (the event stream never ends: it has its own test)
    for (method, path) in routes.iter().filter(|(_, p)| p != "/events") {
        let path = path
            .replace("{username}", "admin")
            .replace("{id}", "1")
            .replace("{org}", "1")
            .replace("{ability}", "run-backups");
        let url = format!("{}/api/v1{}", app.base, path);
        let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
        let body = if method == "patch" { json!({}) } else { json!({"username": "zed", "email": "zed@example.com"}) };
        let r = admin.http.request(m, &url).json(&body).send().await.expect("request");
        let v: Value = r.json().await.unwrap_or(Value::Null);
        assert_ne!(
            v.pointer("/error/message").and_then(Value::as_str).map(|m| m.contains("API route")),
            Some(true),
            "{method} {path} is not routed"
        );
    }
}

#[tokio::test]
async fn search_index_follows_changes_and_takes_any_text() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let (s, _) = admin
        .post_json("/api/v1/users", &json!({"username": "gina", "full_name": "Gina Gold", "email": "gina@alpha.example.com", "password": "a long enough passphrase"}))
        .await;
    assert_eq!(s, 201);
    let (_, r) = admin.get("/api/v1/users?search=gold").await;
    assert_eq!(usernames(&r), ["gina"]);
    let (s, _) = admin
        .patch_json("/api/v1/users/gina", &json!({"full_name": "Gina Silver", "email": "gina@beta.example.com"}))
        .await;
    assert_eq!(s, 200);
    let (_, r) = admin.get("/api/v1/users?search=gold").await;
    assert_eq!(usernames(&r), Vec::<String>::new(), "old name no longer matches");
    let (_, r) = admin.get("/api/v1/users?search=SILVER").await;
    assert_eq!(usernames(&r), ["gina"]);
    let (_, r) = admin.get("/api/v1/users?search=beta.exa").await;
    assert_eq!(usernames(&r), ["gina"]);
    // Query syntax is searched literally, never an error.
    for text in ["\"gi", "gin*", "a OR b", "NEAR(x y)", "'; DROP TABLE users; --", "%%%", "ü∂ƒ"] {
        let url = format!(
            "/api/v1/users?search={}",
            text.replace('%', "%25").replace(' ', "%20").replace('"', "%22").replace('\'', "%27").replace(';', "%3B")
        );
        let (s, r) = admin.get(&url).await;
        assert_eq!(s, 200, "{text}: {r}");
    }
    let (s, _) = admin.delete("/api/v1/users/gina").await;
    assert_eq!(s, 204);
    let (_, r) = admin.get("/api/v1/users?search=silver").await;
    assert_eq!(usernames(&r), Vec::<String>::new(), "deleted users leave the index");
}

/// Searches are answered either by a bounded scan of the sort order (frequent terms) or by the
/// trigram index (rare terms); with more rows than the scan window, both paths run and must
/// give exactly what a full filter would, page after page.
#[tokio::test]
async fn search_pages_match_a_full_filter_beyond_the_scan_window() {
    use app::backend::store::UserInsert;
    use app::domain::users::UserStatus;
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let mut tx = app.backend.store.begin().await.expect("tx");
    let mut all = vec![("admin".to_string(), "ada admin".to_string(), "admin@example.com".to_string())];
    for i in 0..2100 {
        let username = format!("filler{i:05}");
        // Every 700th user is "rare": only they match "quartz".
        let full = if i % 700 == 699 { format!("Quartz Person {i}") } else { format!("Filler Person {i}") };
        let email = format!("f{i}@example.com");
        tx.insert_user(&UserInsert {
            username: username.clone(),
            full_name: full.clone(),
            email: email.clone(),
            password_hash: None,
            status: UserStatus::Active,
            super_admin: false,
            created_at: 1_700_000_000_000 + i,
        })
        .await
        .expect("insert");
        all.push((username, full.to_lowercase(), email));
    }
    tx.commit().await.expect("commit");
    for term in ["quartz", "filler person 20", "person", "example.com", "f1999@"] {
        let mut expected: Vec<String> = all
            .iter()
            .filter(|(u, n, e)| u.contains(term) || n.contains(term) || e.contains(term))
            .map(|(u, _, _)| u.clone())
            .collect();
        expected.sort();
        let mut got = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let url = match &after {
                Some(a) => format!("/api/v1/users?limit=200&search={}&after={a}", term.replace(' ', "%20")),
                None => format!("/api/v1/users?limit=200&search={}", term.replace(' ', "%20")),
            };
            let (s, page) = admin.get(&url).await;
            assert_eq!(s, 200, "{term}: {page}");
            got.extend(usernames(&page));
            match page["next"].as_str() {
                Some(n) => after = Some(n.to_string()),
                None => break,
            }
        }
        assert_eq!(got, expected, "search {term:?}");
    }
}

/// An org admin's token, and any session past its sudo window, cannot set another account's
/// password or email (a way into that account); other changes still work.
#[tokio::test]
async fn credentials_of_another_account_need_sudo_mode_and_never_a_token() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    admin.post_json("/api/v1/orgs", &json!({"name": "Acme"})).await;
    let org_admin = app.member(&admin, "oscar", "Acme", "Admin").await;
    app.member(&admin, "mel", "Acme", "Member").await;
    let new_pw = json!({"password": "a fresh passphrase for her"});
    let new_email = json!({"email": "mel@attacker.example"});

    // An unscoped token of the org admin: refused for password and email, with the reason.
    let (s, t) = org_admin.post_json("/api/v1/tokens", &json!({"name": "automation", "kind": "pat"})).await;
    assert_eq!(s, 201, "{t}");
    let token = app.with_token(t["token"].as_str().expect("token"));
    for body in [&new_pw, &new_email, &json!({"password": "a fresh passphrase for her", "full_name": "Mel"})] {
        let (s, e) = token.patch_json("/api/v1/users/mel", body).await;
        assert_eq!((s, code(&e)), (403, "token_not_allowed".to_string()), "{body}: {e}");
    }
    // Nothing was written (the name change in the last body included).
    let (_, mel) = admin.get("/api/v1/users/mel").await;
    assert_eq!((mel["email"].clone(), mel["full_name"].clone()), (json!("mel@example.com"), json!("User mel")));
    // Other changes with the token are fine, and the same email (unchanged) is no change.
    let (s, e) =
        token.patch_json("/api/v1/users/mel", &json!({"full_name": "Mel M", "email": "mel@example.com"})).await;
    assert_eq!(s, 200, "{e}");
    // The old password still signs in.
    let c = app.browser();
    assert_eq!(c.rpc("sign_in", &[("login", "mel"), ("password", common::MEMBER_PW)]).await.0, 200);

    // A super admin whose sign-in is older than the sudo window must re-authenticate first,
    // through the API and through the page's server function alike.
    app.clock.advance_ms(app.backend.config.sudo_ms + 1);
    let (s, e) = admin.patch_json("/api/v1/users/mel", &new_pw).await;
    assert_eq!((s, code(&e)), (403, "reauth_required".to_string()), "{e}");
    let (s, e) = admin
        .rpc(
            "update_user",
            &[("username", "mel"), ("full_name", "Mel M"), ("email", "mel@attacker.example"), ("status", "active")],
        )
        .await;
    assert_eq!((s, code(&e)), (403, "Forbidden".to_string()), "{e}");
    assert_eq!(e, json!({"Forbidden": "ReauthRequired"}));
    let (s, e) = admin.rpc("reauthenticate", &[("password", ADMIN_PW)]).await;
    assert_eq!(s, 200, "{e}");
    let (s, e) = admin.patch_json("/api/v1/users/mel", &new_pw).await;
    assert_eq!(s, 200, "{e}");
    // The reset ended mel's sessions; the new password works.
    let c = app.browser();
    assert_eq!(c.rpc("sign_in", &[("login", "mel"), ("password", "a fresh passphrase for her")]).await.0, 200);
}

/// Org admins see only their organization: accounts elsewhere are "not found" on every
/// route, exactly like accounts that do not exist.
#[tokio::test]
async fn accounts_in_other_organizations_are_not_found_whether_they_exist_or_not() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    for o in ["Acme", "Beta"] {
        admin.post_json("/api/v1/orgs", &json!({"name": o})).await;
    }
    let acme_admin = app.member(&admin, "ann", "Acme", "Admin").await;
    app.member(&admin, "bob_b", "Beta", "Member").await;
    let (s, t) = acme_admin.post_json("/api/v1/tokens", &json!({"name": "t", "kind": "pat"})).await;
    assert_eq!(s, 201);
    let token = app.with_token(t["token"].as_str().expect("token"));
    let viewer = json!({"username": "bob_b", "role": 1});
    let ghost = json!({"username": "nobody_here", "role": 1});
    for c in [&acme_admin, &token] {
        let same = |path: &str| {
            let c = c.clone();
            let (a, b) = (path.replace("USER", "bob_b"), path.replace("USER", "nobody_here"));
            async move { (c.get(&a).await, c.get(&b).await) }
        };
        for path in [
            "/api/v1/check?user=USER&org=Acme&ability=run-backups",
            "/api/v1/explain?user=USER&org=Acme&ability=run-backups",
            "/api/v1/users/USER",
            "/api/v1/users/USER/memberships",
        ] {
            let ((s1, b1), (s2, b2)) = same(path).await;
            assert_eq!((s1, code(&b1)), (404, "not_found".to_string()), "{path}: {b1}");
            assert_eq!((s2, code(&b2)), (s1, code(&b1)), "{path}: {b2}");
        }
        // Changing or pulling in such an account: the same.
        for (path, body) in [
            ("/api/v1/users/bob_b", json!({"full_name": "x"})),
            ("/api/v1/users/nobody_here", json!({"full_name": "x"})),
        ] {
            assert_eq!(c.patch_json(path, &body).await.0, 404, "{path}");
        }
        let (s1, _) = c.post_json("/api/v1/orgs/Acme/members", &viewer).await;
        let (s2, _) = c.post_json("/api/v1/orgs/Acme/members", &ghost).await;
        assert_eq!((s1, s2), (404, 404));
        // Organizations it does not belong to: the same answer as organizations that do not exist.
        for path in ["/api/v1/orgs/Beta/members", "/api/v1/check?user=ann&org=Beta&ability=run-backups"] {
            let (s1, b1) = c.get(path).await;
            let (s2, b2) = c.get(&path.replace("Beta", "Gamma")).await;
            assert_eq!((s1, s2), (404, 404), "{path}: {b1} {b2}");
            assert_eq!(b1, b2, "{path}");
        }
    }
    // An account on the org admin's own list may be pulled in (the account's owner, or a
    // super admin, put it there); its memberships elsewhere stay unnamed.
    let (s, e) = admin.put_json("/api/v1/users/bob_b/access/ann", &json!({"level": "view"})).await;
    assert_eq!(s, 200, "{e}");
    let (s, m) = acme_admin.post_json("/api/v1/orgs/Acme/members", &viewer).await;
    assert_eq!(s, 201, "{m}");
    let (_, ms) = acme_admin.get("/api/v1/users/bob_b/memberships").await;
    let names: Vec<&str> = ms.as_array().expect("list").iter().filter_map(|m| m["org"]["name"].as_str()).collect();
    assert_eq!(names, ["Acme"], "Beta is not named to an Acme admin");
    let (_, ms) = admin.get("/api/v1/users/bob_b/memberships").await;
    assert_eq!(ms.as_array().map(Vec::len), Some(2), "super admins see every membership");
    // Super admins pull in anyone.
    app.member(&admin, "cy", "Beta", "Member").await;
    let (s, _) = admin.post_json("/api/v1/orgs/Acme/members", &json!({"username": "cy", "role": 1})).await;
    assert_eq!(s, 201);
}

#[tokio::test]
async fn accounts_may_go_without_an_email_and_ids_may_hold_dots() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let pw = common::MEMBER_PW;
    // Any number of accounts without an email; e-mail-shaped ids from identity providers.
    for name in ["svc_backup", "svc_report", "ann.lee@corp.com"] {
        let (s, b) = admin.post_json("/api/v1/users", &json!({"username": name, "password": pw})).await;
        assert_eq!(s, 201, "{name}: {b}");
        assert_eq!(b["email"], json!(""), "{b}");
    }
    let (s, b) = admin.post_json("/api/v1/users", &json!({"username": ".dot", "password": pw})).await;
    assert_eq!((s, b["error"]["fields"][0]["field"].clone()), (422, json!("username")), "{b}");
    // They sign in by username.
    let c = app.browser();
    let (s, b) = c.rpc("sign_in", &[("login", "Ann.Lee@corp.com"), ("password", pw)]).await;
    assert_eq!(s, 200, "{b}");
    // An email given later is unique as before; taking it away frees it.
    let (s, _) = admin.patch_json("/api/v1/users/svc_backup", &json!({"email": "ops@example.com"})).await;
    assert_eq!(s, 200);
    let (s, b) = admin.patch_json("/api/v1/users/svc_report", &json!({"email": "OPS@example.com"})).await;
    assert_eq!((s, code(&b)), (409, "conflict".to_string()), "{b}");
    let (s, b) = admin.patch_json("/api/v1/users/svc_backup", &json!({"email": ""})).await;
    assert_eq!((s, b["email"].clone()), (200, json!("")), "{b}");
    let (s, b) = admin.patch_json("/api/v1/users/svc_report", &json!({"email": "ops@example.com"})).await;
    assert_eq!(s, 200, "{b}");
    // Sorted by email, pages walk every account once, the ones without an email first.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let url = match &after {
            Some(a) => format!("/api/v1/users?sort=email&limit=2&after={a}"),
            None => "/api/v1/users?sort=email&limit=2".to_string(),
        };
        let (s, page) = admin.get(&url).await;
        assert_eq!(s, 200, "{page}");
        for u in page["users"].as_array().expect("users") {
            seen.push(u["username"].as_str().unwrap_or("").to_string());
        }
        match page["next"].as_str() {
            Some(n) => after = Some(n.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, ["ann.lee@corp.com", "svc_backup", "admin", "svc_report", "public"], "{seen:?}");
}
