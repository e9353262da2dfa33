//! Shared database credentials, per-account database mappings and the login a data tool gets
//! (issue 12), through the JSON API and server functions, with Test Connection against the
//! MariaDB server the test command starts (scripts/mariadb.sh): passwords write-only and
//! sealed to their row, who may see and change what, copies, deletes, races, and the audited
//! credentials endpoint.
use crate::common;

use common::{code, TestApp, MEMBER_PW};
use serde_json::{json, Value};

/// (host, port, user, password, database) of the MariaDB server the test command started.
fn mariadb() -> (String, u16, String, String, String) {
    let raw = std::env::var("ROSTER_TEST_MARIADB_URL")
        .unwrap_or_else(|_| panic!("ROSTER_TEST_MARIADB_URL is not set: scripts/test.sh starts MariaDB"));
    let url = reqwest::Url::parse(&raw).expect("server URL");
    (
        url.host_str().expect("host").to_string(),
        url.port().expect("port"),
        url.username().replace("%20", " "),
        url.password().unwrap_or("").replace("%20", " "),
        url.path().trim_start_matches('/').to_string(),
    )
}

/// Defines the MariaDB database as `db` in `org`, with no default login.
async fn define_mariadb(admin: &common::Client, org: &str, db: &str) {
    let (host, port, _, _, name) = mariadb();
    let (s, b) = admin
        .post_json(
            &format!("/api/v1/orgs/{org}/databases"),
            &json!({"db_id": db, "engine": "mariadb", "host": host, "port": port, "name": name, "tls": "disable"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
}

/// Creates an organization; its id.
async fn org(admin: &common::Client, name: &str) -> i64 {
    let (s, b) = admin.post_json("/api/v1/orgs", &json!({"name": name})).await;
    assert_eq!(s, 201, "{b}");
    b["id"].as_i64().expect("org id")
}

/// The stored bytes of every password column of credentials and mappings.
async fn stored_passwords(app: &TestApp) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = app
        .int_bytes_rows("SELECT id, password FROM database_credentials WHERE password IS NOT NULL")
        .await
        .into_iter()
        .map(|(_, b)| b)
        .collect();
    out.extend(
        app.int_bytes_rows("SELECT id, password FROM database_mappings WHERE password IS NOT NULL")
            .await
            .into_iter()
            .map(|(_, b)| b),
    );
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn credentials_and_mappings_connect_and_never_show_a_password() {
    let (_, _, login, password, _) = mariadb();
    let app = TestApp::start().await;
    let admin = app.admin().await;
    define_mariadb(&admin, "Default", "Shop").await;
    // A shared credential with the right password, one with a wrong one.
    let (s, c) = admin
        .post_json(
            "/api/v1/orgs/Default/databases/Shop/credentials",
            &json!({"name": "shop.reader", "login": login, "password": password}),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    assert_eq!((c["password_set"].clone(), c["created_by"].clone()), (json!(true), json!("admin")), "{c}");
    assert!(c.get("password").is_none(), "{c}");
    let (s, _) = admin
        .post_json(
            "/api/v1/orgs/Default/databases/Shop/credentials",
            &json!({"name": "stale", "login": login, "password": "an old password"}),
        )
        .await;
    assert_eq!(s, 201);
    // The same name again (in another case) is a conflict on the name.
    let (s, b) = admin
        .post_json(
            "/api/v1/orgs/Default/databases/Shop/credentials",
            &json!({"name": "SHOP.reader", "login": "x", "password": "y"}),
        )
        .await;
    assert_eq!((s, code(&b)), (409, "conflict".to_string()), "{b}");

    for name in ["direct", "shared", "stale_user", "nologin"] {
        let (s, b) = admin
            .post_json("/api/v1/users", &json!({"username": name, "email": format!("{name}@example.com"), "password": MEMBER_PW, "org": "Default", "role": "Member"}))
            .await;
        assert_eq!(s, 201, "{b}");
    }
    let map = |user: &str, body: Value| {
        let path = format!("/api/v1/orgs/Default/users/{user}/databases/Shop");
        let admin = &admin;
        async move { admin.put_json(&path, &body).await }
    };
    let (s, m) = map("direct", json!({"kind": "own", "login": login, "password": password})).await;
    assert_eq!(s, 200, "{m}");
    assert_eq!((m["kind"].clone(), m["password_set"].clone()), (json!("own"), json!(true)), "{m}");
    let (s, m) = map("shared", json!({"kind": "credential", "credential": "Shop.Reader"})).await;
    assert_eq!((s, m["credential"].clone()), (200, json!("shop.reader")), "{m}");
    let (s, _) = map("stale_user", json!({"kind": "credential", "credential": "stale"})).await;
    assert_eq!(s, 200);
    let (s, _) = map("nologin", json!({"kind": "none"})).await;
    assert_eq!(s, 200);
    // Wrong shapes are refused with the field named, and nothing is written.
    let (s, b) = map("direct", json!({"kind": "credential", "credential": "nope"})).await;
    assert_eq!((s, b["error"]["fields"][0]["field"].clone()), (422, json!("credential")), "{b}");
    let (s, b) = map("direct", json!({"kind": "credential", "credential": "stale", "password": "x"})).await;
    assert_eq!(s, 422, "{b}");
    let (s, b) = map("direct", json!({"kind": "own", "db_id": "Other", "login": "x"})).await;
    assert_eq!((s, b["error"]["fields"][0]["field"].clone()), (422, json!("db_id")), "{b}");

    // Test Connection: each mapping and credential for real.
    let test = |path: String| {
        let admin = &admin;
        async move {
            let (s, b) = admin.post_json(&path, &json!({})).await;
            assert_eq!(s, 200, "{path}: {b}");
            b
        }
    };
    let t = test("/api/v1/orgs/Default/users/direct/databases/Shop/test".into()).await;
    assert_eq!(t["outcome"], json!("connected"), "{t}");
    let t = test("/api/v1/orgs/Default/users/shared/databases/Shop/test".into()).await;
    assert_eq!(t["outcome"], json!("connected"), "{t}");
    let t = test("/api/v1/orgs/Default/users/stale_user/databases/Shop/test".into()).await;
    assert_eq!(t["outcome"], json!("wrong_credentials"), "{t}");
    assert!(!t.to_string().contains("an old password"), "{t}");
    let t = test("/api/v1/orgs/Default/databases/Shop/credentials/stale/test".into()).await;
    assert_eq!(t["outcome"], json!("wrong_credentials"), "{t}");
    // Fixing the credential's password fixes every account mapped through it.
    let (s, _) =
        admin.patch_json("/api/v1/orgs/Default/databases/Shop/credentials/stale", &json!({"password": password})).await;
    assert_eq!(s, 200);
    let t = test("/api/v1/orgs/Default/users/stale_user/databases/Shop/test".into()).await;
    assert_eq!(t["outcome"], json!("connected"), "{t}");
    // An empty password on a change keeps the stored one.
    let (s, _) =
        admin.patch_json("/api/v1/orgs/Default/databases/Shop/credentials/stale", &json!({"password": ""})).await;
    assert_eq!(s, 200);
    let (s, _) = map("direct", json!({"kind": "own", "login": login, "password": ""})).await;
    assert_eq!(s, 200);
    let t = test("/api/v1/orgs/Default/users/direct/databases/Shop/test".into()).await;
    assert_eq!(t["outcome"], json!("connected"), "{t}");
    let t = test("/api/v1/orgs/Default/databases/Shop/credentials/stale/test".into()).await;
    assert_eq!(t["outcome"], json!("connected"), "{t}");

    // The lists carry outcomes, never passwords.
    let (s, list) = admin.get("/api/v1/orgs/Default/users/direct/databases").await;
    assert_eq!(s, 200);
    assert_eq!(list["mappings"][0]["last_test"]["outcome"], json!("connected"), "{list}");
    let (_, creds) = admin.get("/api/v1/orgs/Default/databases/Shop/credentials").await;
    let names: Vec<&str> =
        creds["credentials"].as_array().expect("list").iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(names, ["shop.reader", "stale"], "{creds}");
    let (_, audit) = admin.get("/api/v1/audit?limit=200").await;
    for text in [list.to_string(), creds.to_string(), audit.to_string()] {
        assert!(!text.contains(&password) && !text.contains("an old password"), "{text}");
    }
    // Stored sealed: no password in the clear in the database.
    let stored = stored_passwords(&app).await;
    assert_eq!(stored.len(), 3, "two credentials and one mapping of its own");
    for bytes in stored {
        assert!(!contains(&bytes, &password) && !contains(&bytes, "an old password"));
    }
    // A mapping without a login tests whether the server answers.
    let t = test("/api/v1/orgs/Default/users/nologin/databases/Shop/test".into()).await;
    assert_eq!(t["outcome"], json!("connected"), "{t}");
    let tested = app.count("SELECT COUNT(*) FROM audit_events WHERE event LIKE 'database_%.tested'").await;
    assert_eq!(tested, 8);
}

#[tokio::test]
async fn the_tools_get_the_login_to_use_from_super_admins_and_credential_tokens_only() {
    let (_, _, login, password, _) = mariadb();
    let app = TestApp::start().await;
    let admin = app.admin().await;
    org(&admin, "Acme").await;
    org(&admin, "Beta").await;
    define_mariadb(&admin, "Acme", "Shop").await;
    define_mariadb(&admin, "Beta", "Shop").await;
    let (s, _) = admin
        .patch_json(
            "/api/v1/orgs/Acme/databases/Shop",
            &json!({"default_login": "fallback", "default_password": "fb pass"}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = admin
        .post_json(
            "/api/v1/orgs/Acme/databases/Shop/credentials",
            &json!({"name": "reader", "login": "shop_ro", "password": "ro secret 1"}),
        )
        .await;
    assert_eq!(s, 201);
    let member = app.member(&admin, "mia", "Acme", "Member").await;
    let viewer = app.member(&admin, "vic", "Acme", "Viewer").await;
    let _ = app.member(&admin, "ola", "Acme", "Member").await;
    let (s, _) = admin
        .put_json(
            "/api/v1/orgs/Acme/users/mia/databases/Shop",
            &json!({"kind": "own", "login": login, "password": password}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = admin
        .put_json("/api/v1/orgs/Acme/users/vic/databases/Shop", &json!({"kind": "credential", "credential": "reader"}))
        .await;
    assert_eq!(s, 200);

    // Several organizations define "Shop": the caller names one.
    let (s, b) = admin.get("/api/v1/users/mia/databases/Shop/credentials").await;
    assert_eq!(s, 409, "{b}");
    assert!(b["error"]["message"].as_str().unwrap_or("").contains("Acme, Beta"), "{b}");
    let (s, own) = admin.get("/api/v1/users/mia/databases/shop/credentials?org=Acme").await;
    assert_eq!(s, 200, "{own}");
    assert_eq!(
        (own["source"].clone(), own["login"].clone(), own["password"].clone(), own["engine"].clone()),
        (json!("mapping"), json!(login), json!(password), json!("mariadb")),
        "{own}"
    );
    let (_, shared) = admin.get("/api/v1/users/vic/databases/Shop/credentials?org=Acme").await;
    assert_eq!(
        (shared["source"].clone(), shared["credential"].clone(), shared["login"].clone(), shared["password"].clone()),
        (json!("credential"), json!("reader"), json!("shop_ro"), json!("ro secret 1")),
        "{shared}"
    );
    // A super admin without a mapping uses the default login; anyone else has no access.
    let (_, fallback) = admin.get("/api/v1/users/admin/databases/Shop/credentials?org=Acme").await;
    assert_eq!((fallback["source"].clone(), fallback["password"].clone()), (json!("default"), json!("fb pass")));
    let (s, b) = admin.get("/api/v1/users/ola/databases/Shop/credentials?org=Acme").await;
    assert_eq!(s, 404, "{b}");
    // A password in the clear is a sensitive reveal: a session past its sudo window proves it
    // is its owner again first (tokens, the tools' way in, are not asked).
    app.clock.advance_ms(app.backend.config.sudo_ms + 1_000);
    let (s, b) = admin.get("/api/v1/users/vic/databases/Shop/credentials?org=Acme").await;
    assert_eq!((s, code(&b)), (403, "reauth_required".to_string()), "{b}");
    let (s, b) = admin.rpc("reauthenticate", &[("password", common::ADMIN_PW)]).await;
    assert_eq!(s, 200, "{b}");
    // A person's session holding view-credentials sees credentials, never their passwords.
    let (s, b) = member.get("/api/v1/users/vic/databases/Shop/credentials?org=Acme").await;
    assert_eq!((s, code(&b)), (403, "not_super_admin".to_string()), "{b}");
    // A token holding view-credentials in Acme gets it (and only Acme's: Beta's is not its).
    let (s, b) = member.rpc("reauthenticate", &[("password", MEMBER_PW)]).await;
    assert_eq!(s, 200, "{b}");
    let (s, t) = member
        .post_json("/api/v1/tokens", &json!({"name": "slashdb", "kind": "pat", "abilities": ["view-credentials"]}))
        .await;
    assert_eq!(s, 201, "{t}");
    let tool = app.with_token(t["token"].as_str().expect("token"));
    let (s, b) = tool.get("/api/v1/users/vic/databases/Shop/credentials").await;
    assert_eq!((s, b["password"].clone()), (200, json!("ro secret 1")), "{b}");
    let (s, _) = tool.get("/api/v1/users/vic/databases/Shop/credentials?org=Beta").await;
    assert_eq!(s, 404);
    let (s, t) = member
        .post_json("/api/v1/tokens", &json!({"name": "narrow", "kind": "pat", "abilities": ["view-databases"]}))
        .await;
    assert_eq!(s, 201);
    let narrow = app.with_token(t["token"].as_str().expect("token"));
    let (s, b) = narrow.get("/api/v1/users/vic/databases/Shop/credentials").await;
    assert_eq!((s, code(&b)), (403, "missing_ability".to_string()), "{b}");
    let (s, _) = viewer.get("/api/v1/users/vic/databases/Shop/credentials?org=Acme").await;
    assert_eq!(s, 403);
    // A disabled account gets nothing.
    let (s, _) = admin.patch_json("/api/v1/users/vic", &json!({"status": "disabled"})).await;
    assert_eq!(s, 200);
    let (s, b) = tool.get("/api/v1/users/vic/databases/Shop/credentials").await;
    assert_eq!(s, 409, "{b}");
    // Every read that answered is audited, with no password in it.
    let reads = app.count("SELECT COUNT(*) FROM audit_events WHERE event = 'database_login.read'").await;
    assert_eq!(reads, 4);
    let (_, audit) = admin.get("/api/v1/audit?event=database_login.read").await;
    let text = audit.to_string();
    assert!(!text.contains("ro secret 1") && !text.contains(&password) && !text.contains("fb pass"), "{text}");
}

#[tokio::test]
async fn a_sealed_password_moved_to_another_row_does_not_open() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    define_mariadb(&admin, "Default", "Shop").await;
    for (name, pw) in [("one", "first secret"), ("two", "second secret")] {
        let (s, _) = admin
            .post_json(
                "/api/v1/orgs/Default/databases/Shop/credentials",
                &json!({"name": name, "login": name, "password": pw}),
            )
            .await;
        assert_eq!(s, 201);
    }
    let (s, _) = admin
        .put_json(
            "/api/v1/orgs/Default/users/admin/databases/Shop",
            &json!({"kind": "credential", "credential": "two"}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, b) = admin.get("/api/v1/users/admin/databases/Shop/credentials").await;
    assert_eq!((s, b["password"].clone()), (200, json!("second secret")));
    // Someone with write access to the database copies credential one's sealed password onto
    // two: it does not open there (the seal is bound to the row), and nothing leaks.
    app.exec(
        "UPDATE database_credentials SET password = (SELECT password FROM database_credentials WHERE name = 'one') \
         WHERE name = 'two'",
    )
    .await;
    let (s, b) = admin.get("/api/v1/users/admin/databases/Shop/credentials").await;
    assert_eq!(s, 500, "{b}");
    assert!(!b.to_string().contains("first secret"), "{b}");
}

#[tokio::test]
async fn who_may_see_change_and_test_an_accounts_mappings() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let acme = org(&admin, "Acme").await;
    org(&admin, "Beta").await;
    define_mariadb(&admin, "Acme", "Shop").await;
    let (s, _) = admin
        .post_json(
            "/api/v1/orgs/Acme/databases/Shop/credentials",
            &json!({"name": "reader", "login": "r", "password": "p"}),
        )
        .await;
    assert_eq!(s, 201);
    // An assistant: manages Acme's accounts, holds no credential or database ability.
    let (s, r) = admin.post_json("/api/v1/roles", &json!({"name": "Assistant"})).await;
    assert_eq!(s, 201, "{r}");
    let role = r["id"].as_i64().expect("role id");
    for a in ["manage-users", "view-users"] {
        let (s, _) = admin.put_json(&format!("/api/v1/roles/{role}/abilities/{a}"), &json!({})).await;
        assert!(s < 300, "{a}: {s}");
    }
    let assistant = app.member(&admin, "asa", "Acme", "Assistant").await;
    let member = app.member(&admin, "mia", "Acme", "Member").await;
    let _ = app.member(&admin, "tom", "Acme", "Viewer").await;
    let beta_admin = app.member(&admin, "bob", "Beta", "Admin").await;
    let (s, b) = assistant.rpc("switch_org", &[("org", &acme.to_string())]).await;
    assert_eq!(s, 200, "{b}");
    // The assistant assigns the credential without seeing credentials...
    let (s, b) = assistant
        .put_json("/api/v1/orgs/Acme/users/tom/databases/Shop", &json!({"kind": "credential", "credential": "reader"}))
        .await;
    assert_eq!(s, 200, "{b}");
    let (s, _) = assistant.get("/api/v1/orgs/Acme/databases/Shop/credentials").await;
    assert_eq!(s, 403);
    let (s, names) = assistant.rpc("credential_names", &[("db_id", "Shop")]).await;
    assert_eq!((s, names), (200, json!(["reader"])));
    // ...and cannot test it (a test is a password guess), where a member holding
    // manage-database-servers can.
    let (s, _) = assistant.post_json("/api/v1/orgs/Acme/users/tom/databases/Shop/test", &json!({})).await;
    assert_eq!(s, 403);
    // A member without manage-users sees the account's mappings but cannot change them.
    let (s, b) = member.get("/api/v1/orgs/Acme/users/tom/databases").await;
    assert_eq!(s, 403, "{b}");
    let (s, _) = member.put_json("/api/v1/orgs/Acme/users/tom/databases/Shop", &json!({"kind": "none"})).await;
    assert_eq!(s, 403);
    // Another organization's admin does not learn the account exists.
    let (s, _) = beta_admin.get("/api/v1/orgs/Acme/users/tom/databases").await;
    assert_eq!(s, 404);
    let (s, _) = beta_admin.delete("/api/v1/orgs/Acme/users/tom/databases/Shop").await;
    assert_eq!(s, 404);
    // The assistant may not reach a super admin's mappings.
    let (s, _) = assistant.put_json("/api/v1/orgs/Acme/users/admin/databases/Shop", &json!({"kind": "none"})).await;
    assert_eq!(s, 404);
    // Deleting with the account's rights; the audit names the account.
    let (s, _) = assistant.delete("/api/v1/orgs/Acme/users/tom/databases/Shop").await;
    assert_eq!(s, 204);
    let (s, _) = assistant.delete("/api/v1/orgs/Acme/users/tom/databases/Shop").await;
    assert_eq!(s, 404);
    let events = app
        .texts("SELECT event FROM audit_events WHERE event LIKE 'database_mapping.%' AND target = 'tom' ORDER BY id")
        .await;
    assert_eq!(events, ["database_mapping.created", "database_mapping.deleted"]);
}

#[tokio::test]
async fn copying_an_account_copies_its_mappings_and_deleting_a_credential_says_what_goes() {
    let (_, _, login, password, _) = mariadb();
    let app = TestApp::start().await;
    let admin = app.admin().await;
    define_mariadb(&admin, "Default", "Shop").await;
    define_mariadb(&admin, "Default", "Archive").await;
    let (s, _) = admin
        .post_json(
            "/api/v1/orgs/Default/databases/Archive/credentials",
            &json!({"name": "ro", "login": login, "password": password}),
        )
        .await;
    assert_eq!(s, 201);
    let (s, _) = admin
        .post_json("/api/v1/users", &json!({"username": "src", "email": "src@example.com", "password": MEMBER_PW, "org": "Default", "role": "Member"}))
        .await;
    assert_eq!(s, 201);
    let (s, _) = admin
        .put_json(
            "/api/v1/orgs/Default/users/src/databases/Shop",
            &json!({"kind": "own", "login": login, "password": password}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = admin
        .put_json(
            "/api/v1/orgs/Default/users/src/databases/Archive",
            &json!({"kind": "credential", "credential": "ro"}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, b) = admin
        .rpc(
            "copy_user",
            &[
                ("source", "src"),
                ("username", "dup"),
                ("full_name", ""),
                ("email", "dup@example.com"),
                ("password", MEMBER_PW),
            ],
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (_, copied) = admin.get("/api/v1/orgs/Default/users/dup/databases").await;
    let kinds: Vec<(String, String)> = copied["mappings"]
        .as_array()
        .expect("mappings")
        .iter()
        .map(|m| (m["db_id"].as_str().unwrap_or("").to_string(), m["kind"].as_str().unwrap_or("").to_string()))
        .collect();
    assert_eq!(kinds, [("Archive".to_string(), "credential".to_string()), ("Shop".to_string(), "own".to_string())]);
    // The copy's own password was sealed again for its row: it opens and connects.
    let (s, t) = admin.post_json("/api/v1/orgs/Default/users/dup/databases/Shop/test", &json!({})).await;
    assert_eq!((s, t["outcome"].clone()), (200, json!("connected")), "{t}");
    // Deleting the credential removes both accounts' mappings through it, and says so first.
    let (s, n) = admin.rpc("credential_uses", &[("db_id", "Archive"), ("name", "ro")]).await;
    assert_eq!((s, n), (200, json!(2)));
    let (s, b) = admin.delete("/api/v1/orgs/Default/databases/Archive/credentials/ro").await;
    assert_eq!((s, b["mappings_removed"].clone()), (200, json!(2)), "{b}");
    assert_eq!(app.count("SELECT COUNT(*) FROM database_mappings").await, 2, "the two Shop mappings stay");
    // Deleting a database or an account takes their mappings with them.
    let (s, _) = admin.delete("/api/v1/orgs/Default/databases/Shop").await;
    assert_eq!(s, 204);
    assert_eq!(app.count("SELECT COUNT(*) FROM database_mappings").await, 0);
}

#[tokio::test]
async fn concurrent_mapping_changes_leave_one_mapping_and_no_dangling_credential() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    define_mariadb(&admin, "Default", "Shop").await;
    let (s, _) = admin
        .post_json("/api/v1/users", &json!({"username": "raced", "email": "raced@example.com", "password": MEMBER_PW, "org": "Default", "role": "Member"}))
        .await;
    assert_eq!(s, 201);
    let second = app.second_instance().await;
    let admin2 = second.browser();
    let (s, b) = admin2.rpc("sign_in", &[("login", "admin"), ("password", common::ADMIN_PW)]).await;
    assert_eq!(s, 200, "{b}");
    for round in 0..4 {
        let name = format!("c{round}");
        let (s, _) = admin
            .post_json(
                "/api/v1/orgs/Default/databases/Shop/credentials",
                &json!({"name": name, "login": "l", "password": "p"}),
            )
            .await;
        assert_eq!(s, 201);
        // Two instances set the same account's mapping at once while the credential one of them
        // names is deleted: every request answers cleanly, one mapping row remains at most,
        // and it never names a credential that is gone.
        let path = "/api/v1/orgs/Default/users/raced/databases/Shop";
        let own = json!({"kind": "own", "login": format!("own{round}"), "password": "x"});
        let shared = json!({"kind": "credential", "credential": name});
        let credential = format!("/api/v1/orgs/Default/databases/Shop/credentials/{name}");
        let (a, b, c) =
            tokio::join!(admin.put_json(path, &own), admin2.put_json(path, &shared), admin.delete(&credential));
        assert_eq!(a.0, 200, "{}", a.1);
        assert!(b.0 == 200 || b.0 == 422, "{}", b.1);
        assert_eq!(c.0, 200, "{}", c.1);
        assert!(app.count("SELECT COUNT(*) FROM database_mappings").await <= 1);
        assert_eq!(
            app.count(
                "SELECT COUNT(*) FROM database_mappings m WHERE m.credential_id IS NOT NULL AND NOT EXISTS \
                 (SELECT 1 FROM database_credentials c WHERE c.id = m.credential_id)"
            )
            .await,
            0
        );
    }
}
