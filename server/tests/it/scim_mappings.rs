//! Directory group mappings (issue 14): a SCIM group mapped to an (organization, role) gives
//! its members that role there, the highest priority winning; leaving the last mapped group
//! removes the membership; memberships made by hand are never changed; mappings are checked
//! (never beyond the connection's service account) and follow deleted groups and roles; two
//! instances changing one person's groups at once leave the right role. Both backends.
use crate::common;

use app::backend::services::scim::{self as svc, ConnectionInput};
use app::backend::Ctx;
use app::domain::ids::OrgId;
use common::{Client, TestApp};
use serde_json::{json, Value};

const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// Organizations Eng and Ops, and a connection `slug` that may touch Default, Eng and Ops
/// (new people: Viewer in Default); its token's client.
async fn setup(app: &TestApp, slug: &str) -> Client {
    for name in ["Eng", "Ops"] {
        app::backend::services::orgs::create(&app.backend, &Ctx::cli(), name).await.expect("org");
    }
    let input = ConnectionInput {
        id: slug.into(),
        name: format!("Provider {slug}"),
        orgs: vec!["Default".into(), "Eng".into(), "Ops".into()],
        default_org: Some("Default".into()),
        default_role: Some("Viewer".into()),
        delete_mode: Some("disable".into()),
        adopt_existing: false,
    };
    let made = svc::create_connection(&app.backend, &Ctx::cli(), input).await.expect("connection");
    app.with_token(&made.token)
}

async fn person(c: &Client, slug: &str, name: &str) -> String {
    let (s, u) = c.post_json(&format!("/scim/v2/{slug}/Users"), &json!({"userName": name})).await;
    assert_eq!(s, 201, "{u}");
    u["id"].as_str().expect("id").to_string()
}

async fn group(c: &Client, slug: &str, name: &str) -> String {
    let (s, g) = c.post_json(&format!("/scim/v2/{slug}/Groups"), &json!({"displayName": name})).await;
    assert_eq!(s, 201, "{g}");
    g["id"].as_str().expect("id").to_string()
}

fn members_op(op: &str, ids: &[&str]) -> Value {
    let value: Vec<Value> = ids.iter().map(|i| json!({"value": i})).collect();
    json!({"schemas": [PATCH], "Operations": [{"op": op, "path": "members", "value": value}]})
}

async fn patch_members(c: &Client, slug: &str, gid: &str, op: &str, ids: &[&str]) {
    let (s, e) = c.patch_json(&format!("/scim/v2/{slug}/Groups/{gid}"), &members_op(op, ids)).await;
    assert_eq!(s, 204, "{e}");
}

fn org_id(app: &TestApp, name: &str) -> OrgId {
    let model = app.backend.access.read();
    model.orgs.iter().find(|(_, n)| n.as_str() == name).map(|(id, _)| *id).expect("org")
}

/// `username`'s role in `org`, from the access model.
fn role(app: &TestApp, username: &str, org: &str) -> Option<String> {
    let o = org_id(app, org);
    let model = app.backend.access.read();
    let id = *model.user_ids.get(&username.to_ascii_lowercase())?;
    model.role_in(id, o)
}

/// `username`'s row on the members page of `org` (the API's), with its source.
async fn member_row(admin: &Client, org: &str, username: &str) -> Option<Value> {
    let (s, page) = admin.get(&format!("/api/v1/orgs/{org}/members?search={username}")).await;
    assert_eq!(s, 200, "{page}");
    page["members"].as_array().expect("members").iter().find(|m| m["username"] == json!(username)).cloned()
}

async fn map(admin: &Client, slug: &str, body: Value) -> (u16, Value) {
    admin.post_json(&format!("/api/v1/scim/connections/{slug}/mappings"), &body).await
}

#[tokio::test]
async fn a_persons_role_is_their_highest_priority_mapping_and_the_last_group_left_removes_it() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let okta = setup(&app, "okta").await;
    let ann = person(&okta, "okta", "ann").await;
    let bob = person(&okta, "okta", "bob").await;
    // New people land where the connection places them, as a membership it manages.
    assert_eq!(role(&app, "ann", "Default").as_deref(), Some("Viewer"));
    assert_eq!(member_row(&admin, "Default", "ann").await.expect("ann")["source"], json!("Provider okta"));
    let engineers = group(&okta, "okta", "Engineers").await;
    let leads = group(&okta, "okta", "Leads").await;
    patch_members(&okta, "okta", &engineers, "add", &[&ann, &bob]).await;
    // Unmapped groups grant nothing.
    assert_eq!(role(&app, "ann", "Eng"), None);
    let (s, m) = map(&admin, "okta", json!({"group": "engineers", "org": "Eng", "role": "Member"})).await;
    assert_eq!(s, 201, "{m}");
    assert_eq!(
        (m["group"].as_str(), m["members"].as_i64(), m["priority"].as_i64()),
        (Some("Engineers"), Some(2), Some(0))
    );
    let (s, m) = map(
        &admin,
        "okta",
        json!({"group": "Engineers", "org": "Ops", "role": "Viewer", "abilities": ["run-backups"], "priority": -5}),
    )
    .await;
    assert_eq!(s, 201, "{m}");
    let (s, _) = map(&admin, "okta", json!({"group": "Leads", "org": "Eng", "role": "Admin", "priority": 10})).await;
    assert_eq!(s, 201);
    // Mapping a group places its members at once.
    assert_eq!(role(&app, "ann", "Eng").as_deref(), Some("Member"));
    assert_eq!(role(&app, "bob", "Eng").as_deref(), Some("Member"));
    let ops = member_row(&admin, "Ops", "ann").await.expect("ann in Ops");
    assert_eq!(
        (&ops["role"], &ops["extras"], &ops["source"]),
        (&json!("Viewer"), &json!(["run-backups"]), &json!("Provider okta"))
    );
    // A higher-priority group wins; leaving it falls back to the next mapping.
    patch_members(&okta, "okta", &leads, "add", &[&ann]).await;
    assert_eq!(role(&app, "ann", "Eng").as_deref(), Some("Admin"));
    assert_eq!(role(&app, "bob", "Eng").as_deref(), Some("Member"));
    patch_members(&okta, "okta", &leads, "remove", &[&ann]).await;
    assert_eq!(role(&app, "ann", "Eng").as_deref(), Some("Member"));
    // Leaving the last mapped group removes those memberships; the placement for new people
    // stays.
    let (s, e) = okta
        .patch_json(
            &format!("/scim/v2/okta/Groups/{engineers}"),
            &json!({"schemas": [PATCH], "Operations": [{"op": "remove", "path": format!("members[value eq \"{ann}\"]")}]}),
        )
        .await;
    assert_eq!(s, 204, "{e}");
    assert_eq!((role(&app, "ann", "Eng"), role(&app, "ann", "Ops")), (None, None));
    assert_eq!(role(&app, "ann", "Default").as_deref(), Some("Viewer"));
    assert_eq!(role(&app, "bob", "Ops").as_deref(), Some("Viewer"));
    // Each change is audited with the connection's service account as actor and its source.
    let rows = app
        .texts(
            "SELECT event || ' ' || actor || ' ' || COALESCE(after, before) FROM audit_events \
             WHERE target = 'ann' AND event LIKE 'member.%' ORDER BY id",
        )
        .await;
    assert!(rows.iter().any(|r| r.starts_with("member.added scim-okta") && r.contains("scim:okta")), "{rows:?}");
    assert!(rows.iter().any(|r| r.starts_with("member.updated scim-okta")), "{rows:?}");
    assert!(rows.iter().any(|r| r.starts_with("member.removed scim-okta")), "{rows:?}");
    // The list, and a removed mapping taking its access along (the admin as actor).
    let (s, list) = admin.get("/api/v1/scim/connections/okta/mappings").await;
    assert_eq!(s, 200);
    let list = list.as_array().expect("list").clone();
    assert_eq!(list.len(), 3, "{list:?}");
    let eng_member = list.iter().find(|m| m["org"] == json!("Eng") && m["group"] == json!("Engineers")).expect("m");
    let (s, _) = admin.delete(&format!("/api/v1/scim/connections/okta/mappings/{}", eng_member["id"])).await;
    assert_eq!(s, 204);
    assert_eq!(role(&app, "bob", "Eng"), None);
    assert_eq!(role(&app, "bob", "Ops").as_deref(), Some("Viewer"));
    // Deleting a mapped group takes what it gave.
    let (s, _) = okta.delete(&format!("/scim/v2/okta/Groups/{engineers}")).await;
    assert_eq!(s, 204);
    assert_eq!(role(&app, "bob", "Ops"), None);
    assert_eq!(role(&app, "bob", "Default").as_deref(), Some("Viewer"));
}

#[tokio::test]
async fn provisioning_never_changes_or_removes_a_membership_made_by_hand() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let okta = setup(&app, "okta").await;
    let ann = person(&okta, "okta", "ann").await;
    let ops = group(&okta, "okta", "Operators").await;
    // By hand first: Ann is an Operator in Ops.
    let (s, e) = admin
        .post_json("/api/v1/orgs/Ops/members", &json!({"username": "ann", "role": role_id(&app, "Operator")}))
        .await;
    assert_eq!(s, 201, "{e}");
    let (s, _) =
        map(&admin, "okta", json!({"group": "Operators", "org": "Ops", "role": "Admin", "priority": 100})).await;
    assert_eq!(s, 201);
    patch_members(&okta, "okta", &ops, "add", &[&ann]).await;
    assert_eq!(role(&app, "ann", "Ops").as_deref(), Some("Operator"), "a manual membership is not overridden");
    assert_eq!(member_row(&admin, "Ops", "ann").await.expect("ann")["source"], Value::Null);
    patch_members(&okta, "okta", &ops, "remove", &[&ann]).await;
    assert_eq!(role(&app, "ann", "Ops").as_deref(), Some("Operator"), "nor removed");
    // A provisioned membership an admin changes becomes a manual one: provisioning lets go.
    assert_eq!(role(&app, "ann", "Default").as_deref(), Some("Viewer"));
    let (s, e) = admin.patch_json("/api/v1/orgs/Default/members/ann", &json!({"role": role_id(&app, "Member")})).await;
    assert_eq!(s, 200, "{e}");
    assert_eq!(member_row(&admin, "Default", "ann").await.expect("ann")["source"], Value::Null);
    let (s, _) = map(&admin, "okta", json!({"group": "Operators", "org": "Default", "role": "Admin"})).await;
    assert_eq!(s, 201);
    patch_members(&okta, "okta", &ops, "add", &[&ann]).await;
    assert_eq!(role(&app, "ann", "Default").as_deref(), Some("Member"));
    // A person let go (SCIM DELETE, disable mode) keeps what they had, now as manual.
    let bob = person(&okta, "okta", "bob").await;
    patch_members(&okta, "okta", &ops, "add", &[&bob]).await;
    assert_eq!(role(&app, "bob", "Ops").as_deref(), Some("Admin"));
    let (s, _) = okta.delete(&format!("/scim/v2/okta/Users/{bob}")).await;
    assert_eq!(s, 204);
    let row = member_row(&admin, "Ops", "bob").await.expect("bob stays in Ops");
    assert_eq!((&row["role"], &row["source"]), (&json!("Admin"), &Value::Null));
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM scim_group_members WHERE user_id = {bob}")).await, 0);
}

/// The field an API refusal names.
fn field(e: &Value) -> Option<&str> {
    e["error"]["fields"][0]["field"].as_str().or(e["error"]["field"].as_str())
}

fn role_id(app: &TestApp, name: &str) -> i64 {
    let model = app.backend.access.read();
    model.roles.iter().find(|(_, r)| r.name == name).map(|(id, _)| id.0).expect("role")
}

#[tokio::test]
async fn mappings_are_checked_and_follow_a_deleted_role() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let okta = setup(&app, "okta").await;
    let ann = person(&okta, "okta", "ann").await;
    let eng = group(&okta, "okta", "Engineers").await;
    patch_members(&okta, "okta", &eng, "add", &[&ann]).await;
    let refused = |body: Value| {
        let admin = &admin;
        async move { map(admin, "okta", body).await }
    };
    let (s, e) = refused(json!({"group": "Nobody", "org": "Eng", "role": "Member"})).await;
    assert_eq!((s, field(&e)), (422, Some("group")), "{e}");
    assert!(e.to_string().contains("no group named 'Nobody'"), "{e}");
    let (s, e) = refused(json!({"group": "Engineers", "org": "Elsewhere", "role": "Member"})).await;
    assert_eq!((s, field(&e)), (422, Some("org")), "{e}");
    let (s, e) = refused(json!({"group": "Engineers", "org": "Eng", "role": "Chief"})).await;
    assert_eq!((s, field(&e)), (422, Some("role")), "{e}");
    let (s, e) = refused(json!({"group": "Engineers", "org": "Eng", "role": "Member", "abilities": ["fly"]})).await;
    assert_eq!((s, field(&e)), (422, Some("abilities")), "{e}");
    let (s, e) = refused(json!({"group": "Engineers", "org": "Eng", "role": "Member", "priority": 5000})).await;
    assert_eq!((s, field(&e)), (422, Some("priority")), "{e}");
    let (s, e) = admin.post_json("/api/v1/scim/connections/okta/mappings", &json!({"group": 3})).await;
    assert_eq!(s, 422, "{e}");
    // Never beyond what the connection's service account may grant there.
    app.exec(&format!(
        "UPDATE memberships SET role_id = {} WHERE org_id = {} AND user_id = (SELECT id FROM users WHERE username = 'scim-okta')",
        role_id(&app, "Viewer"),
        org_id(&app, "Ops").0
    ))
    .await;
    let (s, e) = refused(json!({"group": "Engineers", "org": "Ops", "role": "Member"})).await;
    assert_eq!(s, 403, "{e}");
    assert_eq!(role(&app, "ann", "Ops"), None);
    // One mapping per group and organization.
    let (s, _) = refused(json!({"group": "Engineers", "org": "Eng", "role": "Member"})).await;
    assert_eq!(s, 201);
    let (s, e) = refused(json!({"group": "ENGINEERS", "org": "eng", "role": "Admin"})).await;
    assert_eq!((s, field(&e)), (409, Some("group")), "{e}");
    // Deleting a mapped role needs a replacement, and the mapping moves with its members.
    let custom = app::backend::services::roles::create(&app.backend, &Ctx::cli(), "Builder", Default::default())
        .await
        .expect("role");
    let (s, _) = refused(json!({"group": "Engineers", "org": "Default", "role": "Builder"})).await;
    assert_eq!(s, 201);
    assert_eq!(role(&app, "ann", "Default").as_deref(), Some("Builder"), "a mapping outranks the placement");
    let (s, e) = admin.delete(&format!("/api/v1/roles/{}", custom.id)).await;
    assert_eq!(s, 403, "{e}");
    let (s, e) = admin.delete(&format!("/api/v1/roles/{}?replacement={}", custom.id, role_id(&app, "Viewer"))).await;
    assert_eq!(s, 204, "{e}");
    assert_eq!(role(&app, "ann", "Default").as_deref(), Some("Viewer"));
    let (_, list) = admin.get("/api/v1/scim/connections/okta/mappings").await;
    let moved =
        |m: &&Value| m["org"] == json!("Default") && m["role"] == json!("Viewer") && m["group"] == json!("Engineers");
    assert!(list.as_array().expect("list").iter().any(|m| moved(&m)), "{list}");
    // Unknown connection and mapping: not found.
    let (s, _) = admin.get("/api/v1/scim/connections/nope/mappings").await;
    assert_eq!(s, 404);
    let (s, _) = admin.delete("/api/v1/scim/connections/okta/mappings/999999").await;
    assert_eq!(s, 404);
}

/// Two instances changing one person's groups at once: each reconcile sees the other's
/// committed groups (write transactions take turns on both backends), so the role left is the
/// highest-priority mapping of the groups the person ends up in, never a lost update or a
/// duplicate membership.
#[tokio::test]
async fn two_instances_changing_one_persons_groups_at_once_leave_the_right_role() {
    let app = TestApp::start().await;
    let other = app.second_instance().await;
    let okta = setup(&app, "okta").await;
    let ann = person(&okta, "okta", "ann").await;
    let low = group(&okta, "okta", "Low").await;
    let high = group(&okta, "okta", "High").await;
    for (g, r, p) in [("Low", "Member", 1), ("High", "Admin", 5)] {
        let input = app::domain::scim_mapping::ScimMappingInput {
            group: g.into(),
            org: "Eng".into(),
            role: r.into(),
            abilities: vec![],
            priority: p,
        };
        app::backend::services::scim_mappings::create_mapping(&app.backend, &Ctx::cli(), "okta", input)
            .await
            .expect("map");
    }
    let send = |base: String, gid: String, op: &'static str| {
        let http = okta.http.clone();
        let body = members_op(op, &[&ann]);
        tokio::spawn(async move {
            http.patch(format!("{base}/scim/v2/okta/Groups/{gid}"))
                .json(&body)
                .send()
                .await
                .expect("patch")
                .status()
                .as_u16()
        })
    };
    for round in 0..8 {
        // Both groups at once, from both instances (which one goes where alternates).
        let (a, b) = if round % 2 == 0 { (&app, &other) } else { (&other, &app) };
        let t1 = send(a.base.clone(), low.clone(), "add");
        let t2 = send(b.base.clone(), high.clone(), "add");
        assert_eq!((t1.await.expect("t1"), t2.await.expect("t2")), (204, 204));
        let want = Some("Admin".to_string());
        assert_eq!(stored_role(&app, "ann", "Eng").await, want, "round {round}: in both groups");
        // Out of the high group while the low one is re-sent: the low mapping's role.
        let t1 = send(a.base.clone(), high.clone(), "remove");
        let t2 = send(b.base.clone(), low.clone(), "add");
        assert_eq!((t1.await.expect("t1"), t2.await.expect("t2")), (204, 204));
        assert_eq!(stored_role(&app, "ann", "Eng").await.as_deref(), Some("Member"), "round {round}: low only");
        // Out of both at once: out of Eng.
        let t1 = send(a.base.clone(), low.clone(), "remove");
        let t2 = send(b.base.clone(), high.clone(), "remove");
        assert_eq!((t1.await.expect("t1"), t2.await.expect("t2")), (204, 204));
        assert_eq!(stored_role(&app, "ann", "Eng").await, None, "round {round}: in neither");
    }
}

/// The role stored for `username` in `org` (the database, not a cache).
async fn stored_role(app: &TestApp, username: &str, org: &str) -> Option<String> {
    app.texts(&format!(
        "SELECT r.name FROM memberships m JOIN roles r ON r.id = m.role_id JOIN users u ON u.id = m.user_id \
         JOIN orgs o ON o.id = m.org_id WHERE u.username = '{username}' AND o.name = '{org}'"
    ))
    .await
    .into_iter()
    .next()
}

#[tokio::test]
async fn the_command_line_maps_lists_and_unmaps_groups() {
    let app = TestApp::start().await;
    let okta = setup(&app, "okta").await;
    let ann = person(&okta, "okta", "ann").await;
    let eng = group(&okta, "okta", "Engineers").await;
    patch_members(&okta, "okta", &eng, "add", &[&ann]).await;
    let db = app.db_url.clone();
    let (code, out, err) = common::roster(
        &db,
        &[
            "scim",
            "map",
            "okta",
            "--group",
            "Engineers",
            "--org",
            "Eng",
            "--role",
            "Member",
            "--ability",
            "run-backups",
            "--priority",
            "-3",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("Engineers -> Member in Eng") && out.contains("priority -3") && out.contains("1 member"),
        "{out}"
    );
    let (code, out, _) = common::roster(&db, &["scim", "mappings", "okta"]);
    assert_eq!(code, 0);
    assert!(out.contains("Engineers") && out.contains("+run-backups"), "{out}");
    let id = out.split_whitespace().next().expect("id").to_string();
    assert_eq!(stored_role(&app, "ann", "Eng").await.as_deref(), Some("Member"));
    let (code, _, err) =
        common::roster(&db, &["scim", "map", "okta", "--group", "Nobody", "--org", "Eng", "--role", "Member"]);
    assert_ne!(code, 0);
    assert!(err.contains("no group named 'Nobody'"), "{err}");
    let (code, out, err) = common::roster(&db, &["scim", "unmap", "okta", &id]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("removed"), "{out}");
    assert_eq!(stored_role(&app, "ann", "Eng").await, None);
    let (code, _, err) = common::roster(&db, &["scim", "unmap", "okta", &id]);
    assert_ne!(code, 0);
    assert!(err.to_lowercase().contains("not found"), "{err}");
}
