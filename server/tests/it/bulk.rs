//! Bulk actions with a dry run (issue 14): the dry run runs the real rules in a transaction
//! that is rolled back (nothing written: accounts, audit, change feed, access version), with
//! each account's outcome depending on the ones before it (three super admins: the last is
//! kept); applying does exactly what the plan said, once, or nothing when an account's outcome
//! moved since; the selection "all matching" is every page; an org admin's plan shows the
//! accounts the rules refuse. Both backends, and a race across two instances.
use crate::common;

use app::backend::services::bulk;
use app::backend::Ctx;
use app::domain::bulk::{BulkAction, BulkOutcome, BulkRequest, Selection};
use common::{Client, TestApp};
use serde_json::{json, Value};

async fn plan(c: &Client, body: Value) -> (u16, Value) {
    c.post_json("/api/v1/bulk", &body).await
}

async fn apply(c: &Client, plan: &Value) -> (u16, Value) {
    let id = plan["id"].as_str().unwrap_or_else(|| panic!("a plan id in {plan}"));
    c.post_json(&format!("/api/v1/bulk/{id}/apply"), &json!({})).await
}

/// What nothing but a real change moves: accounts' states, audit events, the change feed and
/// the access version.
async fn footprint(app: &TestApp) -> Vec<i64> {
    vec![
        app.count("SELECT COUNT(*) FROM users WHERE status = 'disabled'").await,
        app.count("SELECT COUNT(*) FROM users").await,
        app.count("SELECT COUNT(*) FROM memberships").await,
        app.count("SELECT COUNT(*) FROM audit_events").await,
        app.count("SELECT COUNT(*) FROM events").await,
        app.count("SELECT version FROM access_version").await,
        app.count("SELECT COUNT(*) FROM sessions").await,
    ]
}

fn outcomes(p: &Value) -> Vec<(String, String)> {
    let items = p["items"].as_array().unwrap_or_else(|| panic!("items in {p}"));
    let mut v: Vec<(String, String)> = items
        .iter()
        .map(|i| (i["username"].as_str().unwrap_or("").to_string(), i["outcome"].as_str().unwrap_or("").to_string()))
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn a_dry_run_writes_nothing_and_applying_does_what_it_said_once() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let mut signed_in = Vec::new();
    for n in 1..=5 {
        signed_in.push(app.member(&admin, &format!("bulk{n}"), "Default", "Member").await);
    }
    let member = app.member(&admin, "other", "Default", "Member").await;
    let (s, _) = admin.patch_json("/api/v1/users/bulk5", &json!({"status": "disabled"})).await;
    assert_eq!(s, 200);
    let before = footprint(&app).await;
    // Every account matching "bulk" (all pages), and the admin, who cannot disable themself.
    let (s, p) = plan(&admin, json!({"action": "disable", "selection": {"kind": "matching", "search": "bulk"}})).await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["counts"], json!({"change": 4, "unchanged": 1, "refused": 0}), "{p}");
    assert_eq!(p["action"], json!("disable"));
    let (_, mine) = plan(
        &admin,
        json!({"action": "disable", "selection": {"kind": "usernames", "usernames": ["admin", "nobody", "bulk1"]}}),
    )
    .await;
    assert_eq!(
        outcomes(&mine),
        [("admin".into(), "refused".into()), ("bulk1".into(), "change".into()), ("nobody".into(), "refused".into())]
    );
    assert!(mine.to_string().contains("You cannot disable your own account."), "{mine}");
    assert!(mine.to_string().contains("User not found."), "{mine}");
    // Refused accounts are listed first.
    assert_eq!(mine["items"][2]["outcome"], json!("change"), "{mine}");
    assert_eq!(footprint(&app).await, before, "the dry runs wrote nothing");

    // Applying: the four are disabled (their sessions end), each audited, once.
    let (s, done) = apply(&admin, &p).await;
    assert_eq!(s, 200, "{done}");
    assert_eq!(done["counts"], json!({"change": 4, "unchanged": 1, "refused": 0}), "{done}");
    assert_eq!(app.count("SELECT COUNT(*) FROM users WHERE status = 'disabled'").await, 5);
    let (s, _) = signed_in[0].get("/api/v1/me").await;
    assert_eq!(s, 401, "a disabled account's session ends");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE event = 'user.disabled'").await,
        5,
        "bulk5 by hand, then four"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_events WHERE event = 'bulk.applied'").await, 1);
    let (s, e) = apply(&admin, &p).await;
    assert_eq!(s, 410, "{e}");
    assert!(e.to_string().contains("applied already"), "{e}");
    // Only its maker applies a plan.
    let (_, again) =
        plan(&admin, json!({"action": "enable", "selection": {"kind": "usernames", "usernames": ["bulk1"]}})).await;
    let other = app.super_admin(&admin, "root2", common::ADMIN_PW).await;
    let (s, _) = apply(&other, &again).await;
    assert_eq!(s, 404);
    // Members without manage-users make no plans.
    let (s, _) =
        plan(&member, json!({"action": "disable", "selection": {"kind": "usernames", "usernames": ["bulk3"]}})).await;
    assert_eq!(s, 403);
    // Bad input is named.
    let (s, e) = plan(&admin, json!({"action": "explode", "selection": {"kind": "matching"}})).await;
    assert_eq!(s, 422, "{e}");
    let (s, e) = plan(
        &admin,
        json!({"action": "add_to_org", "org": "Nowhere", "role": "Member", "selection": {"kind": "matching"}}),
    )
    .await;
    assert_eq!(s, 422, "{e}");
    assert!(e.to_string().contains("no organization named Nowhere"), "{e}");
    let (s, e) =
        plan(&admin, json!({"action": "reset_two_factor", "reason": " ", "selection": {"kind": "matching"}})).await;
    assert_eq!(s, 422, "{e}");
}

#[tokio::test]
async fn each_account_is_judged_after_the_ones_before_it_so_the_last_super_admin_stays() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    app.super_admin(&admin, "sa2", common::ADMIN_PW).await;
    app.super_admin(&admin, "sa3", common::ADMIN_PW).await;
    // (from the command line, which is no account: all three are candidates)
    let req = BulkRequest {
        action: BulkAction::Disable,
        selection: Selection::Usernames { usernames: vec!["admin".into(), "sa2".into(), "sa3".into()] },
    };
    let p = bulk::plan(&app.backend, &Ctx::cli(), req).await.expect("plan");
    let got: Vec<(String, BulkOutcome)> = p.items.iter().map(|i| (i.username.clone(), i.outcome)).collect();
    assert_eq!(got[0], ("sa3".to_string(), BulkOutcome::Refused), "{got:?}");
    assert!(p.items[0].reason.as_deref().is_some_and(|r| r.contains("last active super admin")), "{:?}", p.items);
    assert_eq!((p.counts.change, p.counts.refused), (2, 1));
    assert_eq!(app.count("SELECT COUNT(*) FROM users WHERE status = 'disabled'").await, 0);
    let done = bulk::apply(&app.backend, &Ctx::cli(), &p.id).await.expect("apply");
    assert_eq!((done.counts.change, done.counts.refused), (2, 1));
    assert_eq!(app.texts("SELECT username FROM users WHERE super_admin AND status = 'active'").await, ["sa3"]);
}

#[tokio::test]
async fn a_plan_whose_accounts_changed_since_is_not_applied() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    for n in ["ann", "ben", "cy"] {
        app.member(&admin, n, "Default", "Member").await;
    }
    let (_, p) = plan(
        &admin,
        json!({"action": "disable", "selection": {"kind": "usernames", "usernames": ["ann", "ben", "cy"]}}),
    )
    .await;
    assert_eq!(p["counts"]["change"], json!(3));
    // Someone disables ben meanwhile.
    let (s, _) = admin.patch_json("/api/v1/users/ben", &json!({"status": "disabled"})).await;
    assert_eq!(s, 200);
    let (s, e) = apply(&admin, &p).await;
    assert_eq!(s, 409, "{e}");
    assert!(e.to_string().contains("ben: changes -> unchanged"), "{e}");
    assert_eq!(app.texts("SELECT username FROM users WHERE status = 'disabled'").await, ["ben"], "nothing applied");
    // A new plan sees it.
    let (_, p) = plan(
        &admin,
        json!({"action": "disable", "selection": {"kind": "usernames", "usernames": ["ann", "ben", "cy"]}}),
    )
    .await;
    assert_eq!(p["counts"], json!({"change": 2, "unchanged": 1, "refused": 0}));
    let (s, _) = apply(&admin, &p).await;
    assert_eq!(s, 200);
    // A plan expires after 30 minutes.
    let (_, p) =
        plan(&admin, json!({"action": "enable", "selection": {"kind": "usernames", "usernames": ["ann"]}})).await;
    app.clock.advance_ms(31 * 60_000);
    let admin = app.browser();
    let (s, _) = admin.rpc("sign_in", &[("login", "admin"), ("password", common::ADMIN_PW)]).await;
    assert_eq!(s, 200);
    let (s, e) = apply(&admin, &p).await;
    assert_eq!(s, 410, "{e}");
}

#[tokio::test]
async fn organization_actions_and_an_org_admins_limits() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    app::backend::services::orgs::create(&app.backend, &Ctx::cli(), "Acme").await.expect("org");
    let olga = app.member(&admin, "olga", "Acme", "Admin").await;
    for n in ["dev1", "dev2"] {
        app.member(&admin, n, "Acme", "Viewer").await;
    }
    // dev2 is also in Default: an Acme admin cannot delete that account.
    let viewer = {
        let m = app.backend.access.read();
        m.roles.iter().find(|(_, r)| r.name == "Viewer").map(|(id, _)| id.0).expect("Viewer")
    };
    let (s, b) = admin.post_json("/api/v1/orgs/Default/members", &json!({"username": "dev2", "role": viewer})).await;
    assert_eq!(s, 201, "{b}");
    let role_of = |app: &TestApp, who: &str, org: &str| {
        let m = app.backend.access.read();
        let id = *m.user_ids.get(who).expect("user");
        m.role_in(id, m.org_id(org).expect("org"))
    };
    // Super admin: everyone in Acme becomes an Operator; then out of Acme.
    let sel = json!({"kind": "usernames", "usernames": ["dev1", "dev2"]});
    let (_, p) = plan(&admin, json!({"action": "set_role", "org": "Acme", "role": "Operator", "selection": sel})).await;
    assert_eq!(p["counts"]["change"], json!(2), "{p}");
    let (s, d) = apply(&admin, &p).await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(role_of(&app, "dev1", "Acme").as_deref(), Some("Operator"));
    let (_, p) =
        plan(&admin, json!({"action": "add_to_org", "org": "Acme", "role": "Operator", "selection": sel})).await;
    assert_eq!(p["counts"], json!({"change": 0, "unchanged": 2, "refused": 0}), "already so: {p}");
    // Olga (Acme's admin, acting in Acme): she may not delete dev2 (also elsewhere), nor
    // herself.
    let acme = app.backend.access.read().org_id("Acme").expect("Acme").0;
    let (s, b) = olga.rpc("switch_org", &[("org", &acme.to_string())]).await;
    assert_eq!(s, 200, "{b}");
    let (s, p) = plan(
        &olga,
        json!({"action": "delete", "selection": {"kind": "usernames", "usernames": ["dev1", "dev2", "olga"]}}),
    )
    .await;
    assert_eq!(s, 200, "{p}");
    let got = outcomes(&p);
    assert_eq!(
        got,
        [("dev1".into(), "change".into()), ("dev2".into(), "refused".into()), ("olga".into(), "refused".into())],
        "{p}"
    );
    assert!(p.to_string().contains("also belongs to other organizations"), "{p}");
    assert_eq!(app.count("SELECT COUNT(*) FROM users WHERE username IN ('dev1', 'dev2')").await, 2);
    let (_, p) = plan(&admin, json!({"action": "remove_from_org", "org": "Acme", "selection": sel})).await;
    let (s, _) = apply(&admin, &p).await;
    assert_eq!(s, 200);
    assert_eq!(role_of(&app, "dev1", "Acme"), None);
}

#[tokio::test]
async fn one_plan_applied_from_two_instances_at_once_is_applied_once() {
    let app = TestApp::start().await;
    let other = app.second_instance().await;
    let admin = app.admin().await;
    for n in 0..6 {
        app.member(&admin, &format!("race{n}"), "Default", "Member").await;
    }
    let (_, p) = plan(&admin, json!({"action": "disable", "selection": {"kind": "matching", "search": "race"}})).await;
    assert_eq!(p["counts"]["change"], json!(6));
    // (the same account signed in on the second instance: instances share the database)
    let twin = other.browser();
    let (s, _) = twin.rpc("sign_in", &[("login", "admin"), ("password", common::ADMIN_PW)]).await;
    assert_eq!(s, 200);
    let id = p["id"].as_str().expect("id").to_string();
    let (path, empty) = (format!("/api/v1/bulk/{id}/apply"), json!({}));
    let (a, b) = tokio::join!(admin.post_json(&path, &empty), twin.post_json(&path, &empty));
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [200, 410], "{a:?} {b:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_events WHERE event = 'user.disabled'").await, 6);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_events WHERE event = 'bulk.applied'").await, 1);
}
