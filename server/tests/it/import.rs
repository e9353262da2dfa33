//! Importing and exporting accounts (issue 12): SlashDB's users.cfg sample as its
//! documentation prints it (dry run, for real, again), hashes made by other systems' tools
//! signing in after an import, database logins with and without their passwords, per-row
//! errors that write nothing of the row, existing accounts (fail, skip, update), the export ->
//! import round trip, and two instances importing the same file at once.
use crate::common;

use common::{TestApp, ADMIN_PW, MEMBER_PW};
use serde_json::{json, Value};

const SAMPLE: &str = include_str!("../fixtures/slashdb-users.cfg");

fn tool(cmd: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd} is missing ({e}): scripts/install.sh test installs it"));
    assert!(out.status.success(), "{cmd} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Signs up the first super admin under another name than SlashDB's `admin`.
async fn ops(app: &TestApp) -> common::Client {
    let c = app.browser();
    let (s, b) = c
        .rpc(
            "sign_up",
            &[("username", "ops"), ("full_name", "Ops"), ("email", "ops@example.com"), ("password", ADMIN_PW)],
        )
        .await;
    assert_eq!(s, 200, "{b}");
    c
}

/// (outcome, message, notes) of the report's row for `key`.
fn row(report: &Value, key: &str) -> (String, String, Vec<String>) {
    let r = report["rows"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["key"] == key))
        .unwrap_or_else(|| panic!("no row {key}: {report}"));
    let notes = r["notes"].as_array().map(|n| n.iter().filter_map(|x| x.as_str().map(String::from)).collect());
    (
        r["outcome"].as_str().unwrap_or_default().into(),
        r["message"].as_str().unwrap_or_default().into(),
        notes.unwrap_or_default(),
    )
}

async fn signs_in(app: &TestApp, login: &str, password: &str) -> bool {
    let (s, _) = app.browser().rpc("sign_in", &[("login", login), ("password", password)]).await;
    s == 200
}

async fn stored_hash(app: &TestApp, username: &str) -> String {
    app.texts(&format!("SELECT password_hash FROM users WHERE username_key = '{username}'")).await.remove(0)
}

#[tokio::test]
async fn the_documented_users_cfg_dry_run_then_for_real_then_again() {
    let app = TestApp::start().await;
    let ops = ops(&app).await;
    let users_before = app.count("SELECT COUNT(*) FROM users").await;

    let (s, dry) = ops.post_text("/api/v1/import?format=slashdb&dry_run=true", SAMPLE).await;
    assert_eq!(s, 200, "{dry}");
    assert_eq!(
        (dry["dry_run"].clone(), dry["created"].clone(), dry["errors"].clone()),
        (json!(true), json!(1), json!(1))
    );
    assert_eq!(row(&dry, "admin").0, "created");
    assert_eq!(row(&dry, "public").0, "updated", "{dry}");
    let (outcome, message, _) = row(&dry, "app1");
    assert_eq!(outcome, "error");
    assert!(message.contains("user_id 'mike' differs from its key 'app1'"), "{message}");
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, users_before, "a dry run writes nothing");
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_events WHERE event LIKE 'user.import%'").await, 0);

    let (s, real) = ops.post_text("/api/v1/import?format=slashdb", SAMPLE).await;
    assert_eq!(s, 200, "{real}");
    let strip = |mut v: Value| {
        v["dry_run"] = json!(null);
        v
    };
    assert_eq!(strip(real.clone()), strip(dry.clone()), "the dry run said what the import did");
    let (_, _, notes) = row(&real, "admin");
    assert!(notes.iter().any(|n| n.contains("Database 'Chinook' is not defined in Roster")), "{notes:?}");
    assert!(notes.iter().any(|n| n.contains("API key '61527b29' imported as a hash")), "{notes:?}");
    let (_, admin) = ops.get("/api/v1/users/admin").await;
    assert_eq!((admin["super_admin"].clone(), admin["email"].clone()), (json!(true), json!("")), "{admin}");
    assert!(stored_hash(&app, "admin").await.starts_with("$6$rounds=697243$"));
    assert!(app
        .texts("SELECT name FROM api_tokens")
        .await
        .contains(&"61527b29 (imported from SlashDB: rotate)".to_string()));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM account_access a JOIN users t ON t.id = a.target_id JOIN users h ON h.id = a.holder_id WHERE t.username_key = 'public' AND h.username_key = 'admin' AND a.level = 'edit'").await,
        1
    );
    // The key works as SlashDB's clients send it: app id and key apart.
    let r = reqwest::Client::new()
        .get(format!("{}/api/v1/me", app.base))
        .header("appid", "61527b29")
        .header("apikey", "5a031433fff9ff3edbcbc9f13f7b7026")
        .send()
        .await
        .expect("me");
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.expect("json")["username"], "admin");
    let q = reqwest::get(format!("{}/api/v1/me?appid=61527b29&apikey=wrong", app.base)).await.expect("me");
    assert_eq!(q.status(), 401);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_events WHERE event = 'user.imported'").await, 1);

    let (s, again) = ops.post_text("/api/v1/import?format=slashdb", SAMPLE).await;
    assert_eq!(s, 200, "{again}");
    assert_eq!((row(&again, "admin").0, row(&again, "public").0), ("unchanged".into(), "unchanged".into()), "{again}");
    assert_eq!(row(&again, "app1").0, "error");
    assert!(!row(&again, "admin").2.iter().any(|n| n.contains("API key")), "the key is stored already: {again}");
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_events WHERE event LIKE 'user.import%'").await, 1);
}

#[tokio::test]
async fn hashes_made_by_other_tools_sign_in_after_an_import_and_become_argon2() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let sha = tool("mkpasswd", &["-m", "sha-512", "-R", "5000", "bob slashdb pass"]);
    let openssl = tool("openssl", &["passwd", "-6", "carol slashdb pass"]);
    let bcrypt = tool("htpasswd", &["-nbB", "-C", "10", "x", "dan dbackup pass"])
        .split_once(':')
        .map(|(_, h)| h.to_string())
        .expect("hash");
    let cfg = format!(
        "bob:\n  user_id: bob\n  email: bob@example.com\n  password: {sha}\n  userdef: [view]\n  view: [carol]\n\
         carol:\n  user_id: carol\n  password: '{openssl}'\n"
    );
    let (s, r) = admin.post_text("/api/v1/import?format=slashdb", &cfg).await;
    assert_eq!((s, r["created"].clone()), (200, json!(2)), "{r}");
    let csv = format!(
        "username,email,org,role,abilities,password_hash\ndan,dan@example.com,Default,Operator,use-adminer,{bcrypt}\n"
    );
    let (s, r) = admin.post_text("/api/v1/import?format=csv", &csv).await;
    assert_eq!((s, r["created"].clone()), (200, json!(1)), "{r}");
    assert!(!signs_in(&app, "bob", "not bob's password").await);
    assert!(stored_hash(&app, "bob").await.starts_with("$6$"), "a wrong password does not re-hash");
    for (who, pw) in [("bob", "bob slashdb pass"), ("carol", "carol slashdb pass"), ("dan", "dan dbackup pass")] {
        assert!(signs_in(&app, who, pw).await, "{who}");
        assert!(stored_hash(&app, who).await.starts_with("$argon2id$"), "{who}");
    }
    // Privileges became abilities in the organization, the view list an account list.
    let (_, m) = admin.get("/api/v1/users/bob/memberships").await;
    assert!(m.to_string().contains("view-users"), "{m}");
    let (_, holders) = admin.get("/api/v1/users/bob/access").await;
    assert_eq!(holders[0]["username"], "carol", "{holders}");
    let (_, m) = admin.get("/api/v1/users/dan/memberships").await;
    assert!(m.to_string().contains("use-adminer") && m.to_string().contains("Operator"), "{m}");
}

#[tokio::test]
async fn database_logins_come_with_their_passwords_only_when_plain() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let (s, b) = admin
        .post_json(
            "/api/v1/orgs/Default/databases",
            &json!({"db_id": "Sales", "engine": "postgres", "host": "db.example", "name": "sales", "tls": "require"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let cfg = "eve:\n  user_id: eve\n  databases:\n    Sales: {dbuser: eve_ro, dbpass: 'plain secret 1'}\n    Missing: {dbuser: x, dbpass: y}\n";
    let (s, r) = admin.post_text("/api/v1/import?format=slashdb", cfg).await;
    assert_eq!(s, 200, "{r}");
    let (_, _, notes) = row(&r, "eve");
    assert!(!notes.is_empty(), "{r}");
    assert!(notes.iter().any(|n| n.contains("Database 'Sales': login imported")), "{notes:?}");
    assert!(notes.iter().any(|n| n.contains("Database 'Missing' is not defined")), "{notes:?}");
    let (s, login) = admin.get("/api/v1/users/eve/databases/Sales/credentials").await;
    assert_eq!((s, login["login"].clone(), login["password"].clone()), (200, json!("eve_ro"), json!(null)), "{login}");
    // Decrypted values, re-imported: the password is set now, sealed, and the row updated.
    let (s, r) = admin.post_text("/api/v1/import?format=slashdb&passwords=plaintext&on_existing=update", cfg).await;
    assert_eq!((s, row(&r, "eve").0), (200, "updated".to_string()), "{r}");
    let (_, login) = admin.get("/api/v1/users/eve/databases/Sales/credentials").await;
    assert_eq!(login["password"], "plain secret 1", "{login}");
    let stored = app.int_bytes_rows("SELECT id, password FROM database_mappings WHERE password IS NOT NULL").await;
    assert!(stored.iter().all(|(_, b)| !b.windows(14).any(|w| w == b"plain secret 1")));
    let (_, r) = admin.post_text("/api/v1/import?format=slashdb&passwords=plaintext", cfg).await;
    assert_eq!(row(&r, "eve").0, "unchanged", "the same password again changes nothing: {r}");
}

#[tokio::test]
async fn bad_rows_are_reported_whole_and_existing_accounts_follow_the_choice() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let (s, b) = admin.post_text("/api/v1/import?format=slashdb", "a: [unclosed\n").await;
    assert_eq!((s, b["error"]["fields"][0]["field"].clone()), (422, json!("file")), "{b}");
    let (s, b) = admin.post_text("/api/v1/import?format=xml", "x").await;
    assert_eq!(s, 422, "{b}");
    let lines = [
        json!({"username": "good", "email": "good@example.com", "memberships": [{"org": "Default", "role": "Member"}]}),
        json!({"username": "nowhere", "memberships": [{"org": "Atlantis", "role": "Viewer"}]}),
        json!({"username": "badcode", "memberships": [{"org": "Default", "role": "Viewer", "abilities": ["fly"]}]}),
        json!({"username": "badmail", "email": "not an email"}),
        json!({"username": "taken", "email": "admin@example.com"}),
        json!({"username": "weak", "password_hash": "$1$abc$def"}),
        json!({"username": "Good"}),
    ];
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let (s, r) = admin.post_text("/api/v1/import?format=jsonl", &text).await;
    assert_eq!((s, r["created"].clone(), r["errors"].clone()), (200, json!(1), json!(6)), "{r}");
    for (key, says) in [
        ("nowhere", "no organization named 'Atlantis'"),
        ("badcode", "Unknown ability 'fly'"),
        ("badmail", "email:"),
        ("taken", "belongs to the account 'admin'"),
        ("weak", "password_hash:"),
        ("Good", "appears twice"),
    ] {
        let (outcome, message, _) = row(&r, key);
        assert_eq!(outcome, "error", "{key}");
        assert!(message.contains(says), "{key}: {message}");
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE username_key IN ('nowhere','badcode','badmail','taken','weak')")
            .await,
        0
    );

    let changed = json!({"username": "good", "full_name": "Good Person", "email": "good@example.com", "memberships": [{"org": "Default", "role": "Member"}]});
    let (_, r) = admin.post_text("/api/v1/import?format=jsonl", &changed.to_string()).await;
    let (outcome, message, _) = row(&r, "good");
    assert_eq!(outcome, "error");
    assert!(message.contains("(full name)") && message.contains("--update-existing"), "{message}");
    let (_, r) = admin.post_text("/api/v1/import?format=jsonl&on_existing=skip", &changed.to_string()).await;
    assert_eq!(row(&r, "good").0, "skipped");
    let (_, r) = admin.post_text("/api/v1/import?format=jsonl&on_existing=update", &changed.to_string()).await;
    assert_eq!(row(&r, "good").0, "updated", "{r}");
    let (_, u) = admin.get("/api/v1/users/good").await;
    assert_eq!(u["full_name"], "Good Person");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE event = 'user.import_updated' AND target = 'good'").await,
        1
    );
    // Tokens never import (they would set password hashes).
    let (_, t) = admin.post_json("/api/v1/tokens", &json!({"name": "script", "kind": "pat"})).await;
    let token = t["token"].as_str().expect("token").to_string();
    let (s, b) = app.with_token(&token).post_text("/api/v1/import?format=jsonl", &changed.to_string()).await;
    assert_eq!((s, common::code(&b)), (403, "token_not_allowed".to_string()), "{b}");
}

/// A file of three batches (the import reads and writes 500 rows at a time, checking one
/// batch while the one before is written): what a row needs from earlier batches is there.
#[tokio::test]
async fn a_file_of_several_batches_keeps_every_rule_across_them() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let (s, b) = admin
        .post_json(
            "/api/v1/users",
            &json!({"username": "existing", "full_name": "Before", "email": "existing@example.com"}),
        )
        .await;
    assert!(s == 200 || s == 201, "{b}");
    let line = |i: usize| -> Value {
        let member = json!([{"org": "Default", "role": "Viewer"}]);
        match i {
            // an email-shaped id in the first batch, on whose edit list is a row of the third
            3 => {
                json!({"username": "lead@example.com", "email": "lead.work@example.com", "memberships": member, "edit": ["batch1250"]})
            }
            // the second batch gives an email the first batch gave
            520 => json!({"username": "batch0520", "email": "batch10@example.com", "memberships": member}),
            // an existing account in the second batch, checked while the first is written
            530 => json!({"username": "existing", "full_name": "After", "email": "existing@example.com"}),
            // the third batch lists an account of the first
            1250 => {
                json!({"username": "batch1250", "email": "batch1250@example.com", "memberships": member, "view": ["batch0005"]})
            }
            _ => {
                json!({"username": format!("batch{i:04}"), "email": format!("batch{i}@example.com"), "memberships": member})
            }
        }
    };
    let text: String = (0..1300).map(|i| format!("{}\n", line(i))).collect();
    let users_before = app.count("SELECT COUNT(*) FROM users").await;
    let (s, dry) = admin.post_text("/api/v1/import?format=jsonl&on_existing=update&dry_run=true", &text).await;
    assert_eq!(s, 200, "{dry}");
    assert_eq!(
        (dry["created"].clone(), dry["updated"].clone(), dry["errors"].clone()),
        (json!(1298), json!(1), json!(1)),
        "{}",
        dry["rows"][520]
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, users_before, "a dry run writes nothing");
    let (s, real) = admin.post_text("/api/v1/import?format=jsonl&on_existing=update", &text).await;
    assert_eq!(s, 200, "{real}");
    let strip = |mut v: Value| {
        v["dry_run"] = json!(null);
        v
    };
    assert_eq!(strip(real.clone()), strip(dry), "the dry run said what the import did");
    let (outcome, message, _) = row(&real, "batch0520");
    assert_eq!(outcome, "error");
    assert!(message.contains("is also given to 'batch0010'"), "{message}");
    assert_eq!(row(&real, "existing").0, "updated");
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, users_before + 1298);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM memberships m JOIN users u ON u.id = m.user_id JOIN orgs o ON o.id = m.org_id \
             WHERE o.name = 'Default' AND (u.username_key LIKE 'batch%' OR u.username_key = 'lead@example.com')"
        )
        .await,
        1298
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_events WHERE event = 'user.imported'").await, 1298);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_events WHERE event = 'user.import_updated'").await, 1);
    let level = |target: &str, holder: &str| {
        format!(
            "SELECT a.level FROM account_access a JOIN users t ON t.id = a.target_id JOIN users h ON h.id = a.holder_id \
             WHERE t.username_key = '{target}' AND h.username_key = '{holder}'"
        )
    };
    assert_eq!(app.texts(&level("lead@example.com", "batch1250")).await, vec!["edit".to_string()]);
    assert_eq!(app.texts(&level("batch1250", "batch0005")).await, vec!["view".to_string()]);
    assert_eq!(app.count("SELECT COUNT(*) FROM account_access").await, 2);

    let (s, again) = admin.post_text("/api/v1/import?format=jsonl&on_existing=update", &text).await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(
        (again["created"].clone(), again["updated"].clone(), again["unchanged"].clone(), again["errors"].clone()),
        (json!(0), json!(0), json!(1299), json!(1)),
        "{}",
        again["summary"]
    );
}

/// Accounts with memberships, extra abilities, lists, a disabled one with a legacy hash, and
/// database logins (own and through a shared credential).
async fn populate(app: &TestApp, admin: &common::Client) {
    for org in ["Acme", "Beta"] {
        let (s, b) = admin.post_json("/api/v1/orgs", &json!({"name": org})).await;
        assert_eq!(s, 201, "{b}");
    }
    let (s, b) = admin
        .post_json(
            "/api/v1/orgs/Acme/databases",
            &json!({"db_id": "Shop", "engine": "postgres", "host": "db.example", "name": "shop", "tls": "require"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = admin
        .post_json(
            "/api/v1/orgs/Acme/databases/Shop/credentials",
            &json!({"name": "reader", "login": "ro", "password": "pw"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let legacy = tool("openssl", &["passwd", "-6", "bob old pass"]);
    for (u, extra) in [
        ("ann", json!({"password": MEMBER_PW, "org": "Acme", "role": "Operator"})),
        ("bob", json!({"password_hash": legacy, "org": "Acme", "role": "Viewer", "status": "disabled"})),
        ("cy.d", json!({"org": "Beta", "role": "Member"})),
    ] {
        let mut body = json!({"username": u, "full_name": format!("User {u}"), "email": format!("{u}@example.com")});
        body.as_object_mut().expect("obj").extend(extra.as_object().expect("obj").clone());
        let (s, b) = admin.post_json("/api/v1/users", &body).await;
        assert_eq!(s, 201, "{b}");
    }
    let (s, b) = admin.post_json("/api/v1/orgs/Beta/members", &json!({"username": "ann", "role": 1})).await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = admin
        .patch_json("/api/v1/orgs/Acme/members/ann", &json!({"role": 2, "extras": ["use-adminer", "view-users"]}))
        .await;
    assert_eq!(s, 200, "{b}");
    for (holder, level) in [("bob", "view"), ("cy.d", "edit")] {
        let (s, b) = admin.put_json(&format!("/api/v1/users/ann/access/{holder}"), &json!({"level": level})).await;
        assert!(s == 200 || s == 204, "{b}");
    }
    let (s, b) = admin
        .put_json(
            "/api/v1/orgs/Acme/users/ann/databases/Shop",
            &json!({"kind": "own", "login": "ann_ro", "password": "p1"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = admin
        .put_json("/api/v1/orgs/Acme/users/bob/databases/Shop", &json!({"kind": "credential", "credential": "reader"}))
        .await;
    assert_eq!(s, 200, "{b}");
    let _ = app;
}

fn sorted_lines(s: &str) -> Vec<String> {
    let mut v: Vec<String> = s.lines().map(String::from).collect();
    v.sort();
    v
}

#[tokio::test]
async fn export_then_import_gives_the_same_accounts() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    populate(&app, &admin).await;
    for format in ["jsonl", "csv"] {
        let (s, before) = admin.get_text(&format!("/api/v1/export?format={format}")).await;
        assert_eq!(s, 200, "{before}");
        assert!(before.contains("cy.d") && before.contains("use-adminer"), "{before}");
        for u in ["ann", "bob", "cy.d"] {
            let (s, b) = admin.delete(&format!("/api/v1/users/{u}")).await;
            assert!(s == 204 || s == 200, "{b}");
        }
        let (s, r) = admin.post_text(&format!("/api/v1/import?format={format}"), &before).await;
        assert_eq!(
            (s, r["created"].clone(), r["unchanged"].clone(), r["errors"].clone()),
            (200, json!(3), json!(1), json!(0)),
            "{r}"
        );
        let (_, after) = admin.get_text(&format!("/api/v1/export?format={format}")).await;
        assert_eq!(sorted_lines(&after), sorted_lines(&before), "{format}");
        if format == "jsonl" {
            // JSON Lines carried the logins (a mapping's own password is never exported: the
            // report says it is to set).
            let (_, m) = admin.get("/api/v1/orgs/Acme/users/bob/databases").await;
            assert!(m.to_string().contains("reader"), "{m}");
            let (_, m) = admin.get("/api/v1/orgs/Acme/users/ann/databases").await;
            assert!(m.to_string().contains("ann_ro"), "{m}");
            assert!(row(&r, "ann").2.iter().any(|n| n.contains("needs a password")), "{r}");
        }
    }
    // users.cfg names what SlashDB cannot use.
    let (s, cfg) = admin.get_text("/api/v1/export?format=slashdb&org=Acme").await;
    assert_eq!(s, 200);
    assert!(cfg.contains("#   cy.d: the id is outside SlashDB's rules"), "{cfg}");
    assert!(cfg.contains("#   admin: an argon2 password hash"), "{cfg}");
    assert!(cfg.contains("user_id: ann"), "{cfg}");
    assert!(signs_in(&app, "ann", MEMBER_PW).await, "the hash came back as it was");
}

/// The admin signed in on `app` and on a second instance sharing its database (keep the
/// instance for as long as its client is used).
async fn admin_on_two_instances(app: &TestApp) -> (common::Client, TestApp, common::Client) {
    let admin = app.admin().await;
    let other = app.second_instance().await;
    let other_admin = other.browser();
    let (s, b) = other_admin.rpc("sign_in", &[("login", "admin"), ("password", ADMIN_PW)]).await;
    assert_eq!(s, 200, "{b}");
    (admin, other, other_admin)
}

#[tokio::test]
async fn two_instances_importing_the_same_file_create_each_account_once() {
    let app = TestApp::start().await;
    let (admin, _other, other_admin) = admin_on_two_instances(&app).await;
    let text: String = (0..40)
        .map(|i| format!("{}\n", json!({"username": format!("r{i}"), "email": format!("r{i}@example.com"), "memberships": [{"org": "Default", "role": "Viewer"}]})))
        .collect();
    let (a, b) = tokio::join!(
        admin.post_text("/api/v1/import?format=jsonl", &text),
        other_admin.post_text("/api/v1/import?format=jsonl", &text)
    );
    assert_eq!((a.0, b.0), (200, 200), "{} {}", a.1, b.1);
    assert_eq!(a.1["created"].as_u64().unwrap_or(0) + b.1["created"].as_u64().unwrap_or(0), 40, "{} {}", a.1, b.1);
    assert_eq!(a.1["unchanged"].as_u64().unwrap_or(0) + b.1["unchanged"].as_u64().unwrap_or(0), 40);
    assert_eq!(app.count("SELECT COUNT(*) FROM users WHERE username_key LIKE 'r%'").await, 40);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_events WHERE event = 'user.imported'").await, 40);
}

#[tokio::test]
async fn files_larger_than_other_requests_may_be_imported_and_public_never_gets_a_password() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    // 1.5 MB: over the 1 MiB every other request body is held to.
    let text: String = (0..11_000)
        .map(|i| format!("{}\n", json!({"username": format!("bulk{i:05}"), "full_name": format!("Bulk account number {i} of the big file"), "email": format!("bulk{i}@example.com")})))
        .collect();
    assert!(text.len() > 1024 * 1024);
    let (s, r) = admin.post_text("/api/v1/import?format=jsonl&dry_run=true", &text).await;
    assert_eq!((s, r["created"].clone()), (200, json!(11_000)), "{}", r["errors"]);
    let (s, b) = admin.post_json("/api/v1/users", &json!({"username": "x".repeat(2 * 1024 * 1024)})).await;
    assert_eq!(s, 413, "{b}");
    let hash = tool("openssl", &["passwd", "-6", "anonymous visitors never sign in"]);
    let line = json!({"username": "public", "password_hash": hash, "edit": ["admin"]});
    let (s, r) = admin.post_text("/api/v1/import?format=jsonl", &line.to_string()).await;
    assert_eq!((s, row(&r, "public").0), (200, "updated".to_string()), "{r}");
    assert!(row(&r, "public").2.iter().any(|n| n.contains("never signs in")), "{r}");
    assert_eq!(app.count("SELECT COUNT(*) FROM users WHERE kind = 'public' AND password_hash IS NOT NULL").await, 0);
}

const DATABASES: &str = include_str!("../fixtures/slashdb-databases.cfg");

/// (kind, outcome) of every row, in order.
fn outcomes(report: &Value) -> Vec<(String, String, String)> {
    report["rows"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|r| {
                    let s = |k: &str| r[k].as_str().unwrap_or_default().to_string();
                    (s("kind"), s("key"), s("outcome"))
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn slashdb_databases_cfg_becomes_definitions_before_the_accounts_logins() {
    let app = TestApp::start().await;
    let ops = ops(&app).await;
    let t = |k: &str, key: &str, o: &str| (k.to_string(), key.to_string(), o.to_string());

    // databases.cfg alone, as a dry run: the report, nothing written.
    let (s, dry) = ops.post_text("/api/v1/import?format=slashdb-databases&dry_run=true", DATABASES).await;
    assert_eq!(s, 200, "{dry}");
    assert_eq!(
        outcomes(&dry),
        [
            t("database", "Chinook", "created"),
            t("database", "Sales", "created"),
            t("database", "Crm", "created"),
            t("database", "Ledger", "error"),
            t("database", "Stock", "error"),
        ]
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM databases").await, 0, "a dry run writes nothing");

    // Both files at once (the console's form): the definitions come first, so the admin's
    // Chinook login finds its database.
    let (s, both) =
        ops.rpc("import_accounts", &[("format", "slashdb"), ("text", SAMPLE), ("databases", DATABASES)]).await;
    assert_eq!(s, 200, "{both}");
    let rows = outcomes(&both);
    assert_eq!(
        rows[..3],
        [t("database", "Chinook", "created"), t("database", "Sales", "created"), t("database", "Crm", "created")]
    );
    assert!(rows.contains(&t("account", "admin", "created")), "{both}");
    let (_, _, notes) = row(&both, "admin");
    assert!(!notes.iter().any(|n| n.contains("not defined in Roster")), "{notes:?}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM database_mappings m JOIN users u ON u.id = m.user_id JOIN databases d ON d.id = m.database_id WHERE u.username_key = 'admin' AND d.db_id = 'Chinook'").await,
        1
    );
    let (_, sales) = ops.get("/api/v1/orgs/Default/databases/sales").await;
    assert_eq!(
        (sales["engine"].clone(), sales["host"].clone(), sales["port"].clone(), sales["name"].clone()),
        (json!("postgres"), json!("db.example.com"), json!(5433), json!("sales")),
        "{sales}"
    );
    assert_eq!(
        (sales["default_login"].clone(), sales["default_password_set"].clone()),
        (json!("reporter"), json!(false))
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_events WHERE event = 'database.imported'").await, 3);

    // Again: nothing changes.
    let (_, again) = ops.post_text("/api/v1/import?format=slashdb-databases", DATABASES).await;
    assert_eq!(
        outcomes(&again)[..3],
        [t("database", "Chinook", "unchanged"), t("database", "Sales", "unchanged"), t("database", "Crm", "unchanged")]
    );

    // The file has no TLS setting: a definition made stricter in Roster stays so. A changed
    // description follows the choice for existing rows; a plain-text password is sealed.
    let (s, _) = ops.patch_json("/api/v1/orgs/Default/databases/sales", &json!({"tls": "verify-full"})).await;
    assert_eq!(s, 200);
    let changed = DATABASES.replace("desc: Sales data", "desc: Sales and returns");
    let (_, fail) = ops.post_text("/api/v1/import?format=slashdb-databases&passwords=plaintext", &changed).await;
    let (outcome, message, _) = row(&fail, "Sales");
    assert_eq!(outcome, "error");
    assert!(message.contains("exists and differs (description, default password)"), "{message}");
    let (_, update) =
        ops.post_text("/api/v1/import?format=slashdb-databases&passwords=plaintext&on_existing=update", &changed).await;
    assert_eq!(row(&update, "Sales").0, "updated", "{update}");
    let (_, sales) = ops.get("/api/v1/orgs/Default/databases/sales").await;
    assert_eq!(
        (sales["description"].clone(), sales["tls"].clone(), sales["default_password_set"].clone()),
        (json!("Sales and returns"), json!("verify-full"), json!(true)),
        "{sales}"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM databases WHERE default_password IS NOT NULL AND db_id = 'Sales'").await,
        1
    );
    let stored = app.texts("SELECT COALESCE(default_login, '') FROM databases WHERE db_id = 'Sales'").await;
    assert_eq!(stored, ["reporter"]);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_events WHERE event = 'database.import_updated'").await, 1);

    // Wrong combinations are refused whole.
    let (s, e) =
        ops.rpc("import_accounts", &[("format", "csv"), ("text", "username\nx\n"), ("databases", DATABASES)]).await;
    assert_eq!(s, 422, "{e}");
}

/// An organization's definitions as SlashDB's databases.cfg: never a password, what the file
/// cannot carry named at its head, and read back into the same definitions.
#[tokio::test]
async fn databases_cfg_export_then_import_gives_the_same_definitions() {
    let app = TestApp::start().await;
    let ops = ops(&app).await;
    let (s, r) = ops.post_text("/api/v1/import?format=slashdb-databases&passwords=plaintext", DATABASES).await;
    assert_eq!((s, r["created"].clone()), (200, json!(3)), "{r}");
    let (s, b) = ops.patch_json("/api/v1/orgs/Default/databases/crm", &json!({"tls": "require"})).await;
    assert_eq!(s, 200, "{b}");
    let (s, cfg) = ops.get_text("/api/v1/export?format=slashdb-databases").await;
    assert_eq!(s, 200, "{cfg}");
    assert!(!cfg.contains("1SAd7V"), "a stored password is never exported: {cfg}");
    assert!(cfg.contains("#   Sales: the default login's password"), "{cfg}");
    assert!(cfg.contains("#   Crm: TLS mode 'require'"), "{cfg}");
    assert!(cfg.contains("connection: db.example.com:5433/sales") && cfg.contains("dbuser: reporter"), "{cfg}");
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_events WHERE event = 'accounts.exported'").await, 1);

    let definitions = |page: &Value| -> Vec<Value> {
        let mut v = page["databases"].as_array().cloned().unwrap_or_default();
        for d in &mut v {
            let o = d.as_object_mut().expect("an object");
            for k in ["created_at", "updated_at", "last_test", "default_password_set", "tls"] {
                o.remove(k);
            }
        }
        v
    };
    let (_, before) = ops.get("/api/v1/orgs/Default/databases").await;
    for db in ["chinook", "sales", "crm"] {
        let (s, b) = ops.delete(&format!("/api/v1/orgs/Default/databases/{db}")).await;
        assert!(s == 200 || s == 204, "{b}");
    }
    let (s, r) = ops.post_text("/api/v1/import?format=slashdb-databases", &cfg).await;
    assert_eq!((s, r["created"].clone(), r["errors"].clone()), (200, json!(3), json!(0)), "{r}");
    let (_, after) = ops.get("/api/v1/orgs/Default/databases").await;
    assert_eq!(definitions(&after), definitions(&before));
    assert_eq!(definitions(&after).len(), 3);
    // (importing it again changes nothing)
    let (_, again) = ops.post_text("/api/v1/import?format=slashdb-databases", &cfg).await;
    assert_eq!(again["unchanged"], json!(3), "{again}");
}

#[tokio::test]
async fn two_instances_importing_the_same_databases_cfg_define_each_database_once() {
    let app = TestApp::start().await;
    let (admin, _other, other_admin) = admin_on_two_instances(&app).await;
    let url = "/api/v1/import?format=slashdb-databases";
    let (a, b) = tokio::join!(admin.post_text(url, DATABASES), other_admin.post_text(url, DATABASES));
    assert_eq!((a.0, b.0), (200, 200), "{} {}", a.1, b.1);
    let created = |r: &Value| outcomes(r).iter().filter(|(_, _, o)| o == "created").count();
    let unchanged = |r: &Value| outcomes(r).iter().filter(|(_, _, o)| o == "unchanged").count();
    assert_eq!(created(&a.1) + created(&b.1), 3, "{} {}", a.1, b.1);
    assert_eq!(unchanged(&a.1) + unchanged(&b.1), 3, "the later import finds them");
    assert_eq!(app.count("SELECT COUNT(*) FROM databases").await, 3);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_events WHERE event = 'database.imported'").await, 3);
}
