//! The access model through the HTTP surface: roles and the matrix, organizations and
//! members, the org admin rules, check/explain, live events, changes made by another process,
//! and the authorization matrix over every server function and API route.
use crate::common;

use std::collections::BTreeSet;

use common::{code, Client, TestApp, MEMBER_PW};
use serde_json::{json, Value};

/// Creates "Acme" and "Beta" and returns their ids.
async fn two_orgs(admin: &Client) -> (i64, i64) {
    let (s, a) = admin.post_json("/api/v1/orgs", &json!({"name": "Acme"})).await;
    assert_eq!(s, 201, "{a}");
    let (s, b) = admin.post_json("/api/v1/orgs", &json!({"name": "Beta"})).await;
    assert_eq!(s, 201, "{b}");
    (a["id"].as_i64().expect("id"), b["id"].as_i64().expect("id"))
}

async fn role_id(admin: &Client, name: &str) -> i64 {
    let (_, roles) = admin.get("/api/v1/roles").await;
    roles.as_array().expect("roles").iter().find(|r| r["name"] == name).and_then(|r| r["id"].as_i64()).expect("role")
}

async fn check(c: &Client, user: &str, org: &str, ability: &str) -> Value {
    let (s, v) = c.get(&format!("/api/v1/check?user={user}&org={org}&ability={ability}")).await;
    assert_eq!(s, 200, "{v}");
    v
}

#[tokio::test]
async fn a_role_toggle_decides_the_very_next_request() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    two_orgs(&admin).await;
    let member = app.member(&admin, "mia", "Acme", "Member").await;
    app.member(&admin, "newbie", "Beta", "Viewer").await;
    let viewer = role_id(&admin, "Viewer").await;
    let member_role = role_id(&admin, "Member").await;
    let add = json!({"username": "newbie", "role": viewer});
    // (an account of another organization is added only by someone it lists)
    let (s, e) = admin.put_json("/api/v1/users/newbie/access/mia", &json!({"level": "view"})).await;
    assert_eq!(s, 200, "{e}");
    // Members cannot add members...
    let (s, e) = member.post_json("/api/v1/orgs/Acme/members", &add).await;
    assert_eq!((s, code(&e)), (403, "missing_ability".into()), "{e}");
    assert_eq!(check(&admin, "mia", "Acme", "manage-users").await["allowed"], json!(false));
    // ...until a super admin ticks manage-users for the Member role: no re-login, no delay.
    let (s, r) = admin
        .http
        .put(format!("{}/api/v1/roles/{member_role}/abilities/manage-users", app.base))
        .send()
        .await
        .map(|r| (r.status().as_u16(), r))
        .expect("put");
    assert_eq!(s, 200, "{:?}", r.text().await);
    let (s, m) = member.post_json("/api/v1/orgs/Acme/members", &add).await;
    assert_eq!(s, 201, "{m}");
    assert_eq!(m["role"], "Viewer");
    let c = check(&admin, "mia", "Acme", "manage-users").await;
    assert_eq!((c["allowed"].clone(), c["reason"].clone()), (json!(true), json!("role")));
    // The member's own view of itself follows too.
    let (_, me) = member.rpc("current_user", &[]).await;
    assert!(me["abilities"].as_array().expect("abilities").contains(&json!("manage-users")), "{me}");
    // Revoked: the next request is refused again.
    let (s, _) = admin.delete(&format!("/api/v1/roles/{member_role}/abilities/manage-users")).await;
    assert_eq!(s, 200);
    let (s, e) = member.delete("/api/v1/orgs/Acme/members/newbie").await;
    assert_eq!((s, code(&e)), (403, "missing_ability".into()), "{e}");
    // Only super admins change roles; everyone signed in reads them.
    let (s, e) = member.delete(&format!("/api/v1/roles/{member_role}/abilities/run-backups")).await;
    assert_eq!((s, code(&e)), (403, "not_super_admin".into()));
    let (s, roles) = member.get("/api/v1/roles").await;
    assert_eq!(s, 200);
    assert_eq!(roles.as_array().map(Vec::len), Some(4));
    // The audit trail has the toggle with before and after.
    let (_, audit) = admin.rpc("list_audit", &[]).await;
    let ev = audit["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["event"] == "role.ability_granted")
        .cloned()
        .expect("event");
    assert!(ev["after"].as_str().unwrap_or("").contains("manage-users"), "{ev}");
    assert!(!ev["before"].as_str().unwrap_or("").contains("manage-users"), "{ev}");
}

#[tokio::test]
async fn org_admins_stay_inside_their_organization_and_their_own_abilities() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    two_orgs(&admin).await;
    let boss = app.member(&admin, "boss", "Acme", "Admin").await;
    app.member(&admin, "solo", "Acme", "Viewer").await;
    app.member(&admin, "both", "Acme", "Viewer").await;
    let viewer = role_id(&admin, "Viewer").await;
    let (s, _) = admin.post_json("/api/v1/orgs/Beta/members", &json!({"username": "both", "role": viewer})).await;
    assert_eq!(s, 201);
    // A user in two organizations: the org admin may not delete it, and is told why.
    let (s, e) = boss.delete("/api/v1/users/both").await;
    assert_eq!((s, code(&e)), (403, "in_other_orgs".into()), "{e}");
    assert!(e["error"]["message"].as_str().unwrap_or("").contains("remove them from this organization instead"), "{e}");
    // ...but may remove it from Acme; it stays in Beta.
    let (s, _) = boss.delete("/api/v1/orgs/Acme/members/both").await;
    assert_eq!(s, 204);
    let (_, ms) = admin.get("/api/v1/users/both/memberships").await;
    let orgs: Vec<&str> = ms.as_array().expect("list").iter().filter_map(|m| m["org"]["name"].as_str()).collect();
    assert_eq!(orgs, ["Beta"]);
    // A user of Acme alone: the org admin may delete it.
    let (s, e) = boss.delete("/api/v1/users/solo").await;
    assert_eq!(s, 204, "{e}");
    // Never a super admin (not in Acme: not even visible), never themselves, never the
    // public account.
    let (s, e) = boss.delete("/api/v1/users/admin").await;
    assert_eq!(s, 404, "{e}");
    let (s, e) = boss.delete("/api/v1/users/boss").await;
    assert_eq!((s, code(&e)), (403, "cannot_delete_self".into()));
    let (s, e) = admin.delete("/api/v1/users/public").await;
    assert_eq!((s, code(&e)), (403, "public_account".into()));
    // No escalation: a role with an ability the org admin lacks cannot be handed out.
    let (s, power) = admin.post_json("/api/v1/roles", &json!({"name": "Power", "abilities": ["run-backups"]})).await;
    assert_eq!(s, 201);
    let admin_role = role_id(&admin, "Admin").await;
    let (s, _) = admin.delete(&format!("/api/v1/roles/{admin_role}/abilities/run-backups")).await;
    assert_eq!(s, 200);
    app.member(&admin, "pawn", "Acme", "Viewer").await;
    let (s, e) = boss.patch_json("/api/v1/orgs/Acme/members/pawn", &json!({"role": power["id"]})).await;
    assert_eq!((s, code(&e)), (403, "grant_exceeds_own".into()), "{e}");
    let (s, e) =
        boss.patch_json("/api/v1/orgs/Acme/members/pawn", &json!({"role": viewer, "extras": ["run-backups"]})).await;
    assert_eq!((s, code(&e)), (403, "grant_exceeds_own".into()), "{e}");
    // What it holds it may give, as a role or as an extra grant.
    let (s, m) =
        boss.patch_json("/api/v1/orgs/Acme/members/pawn", &json!({"role": viewer, "extras": ["view-users"]})).await;
    assert_eq!(s, 200, "{m}");
    assert_eq!(m["extras"], json!(["view-users"]));
    assert_eq!(check(&admin, "pawn", "Acme", "view-users").await["reason"], "extra_grant");
    // Nobody changes their own role, not even a super admin.
    let (s, e) = boss.patch_json("/api/v1/orgs/Acme/members/boss", &json!({"role": viewer})).await;
    assert_eq!((s, code(&e)), (403, "cannot_change_own_access".into()));
    let (s, e) = admin.patch_json("/api/v1/orgs/1/members/admin", &json!({"role": viewer})).await;
    assert_eq!((s, code(&e)), (403, "cannot_change_own_access".into()));
    // An org admin of Acme has no say in Beta (it is not even theirs to see: "not found",
    // as for an organization that does not exist).
    let (s, e) = boss.get("/api/v1/orgs/Beta/members").await;
    assert_eq!((s, code(&e)), (404, "not_found".into()));
    let (s, _) = boss.post_json("/api/v1/orgs/Beta/members", &json!({"username": "pawn", "role": viewer})).await;
    assert_eq!(s, 404);
    // Only super admins grant super admin.
    let (s, e) = boss.patch_json("/api/v1/users/pawn", &json!({"super_admin": true})).await;
    assert_eq!((s, code(&e)), (403, "not_super_admin".into()), "{e}");
}

#[tokio::test]
async fn per_account_lists_let_holders_see_and_edit_accounts_elsewhere() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    two_orgs(&admin).await;
    let boss = app.member(&admin, "boss", "Acme", "Admin").await;
    let pawn = app.member(&admin, "pawn", "Acme", "Viewer").await;
    app.member(&admin, "far", "Beta", "Viewer").await;
    // Not in the org admin's organization: hidden, and out of reach ("not found" both ways).
    let (s, _) = boss.get("/api/v1/users/far").await;
    assert_eq!(s, 404);
    let (s, e) = boss.patch_json("/api/v1/users/far", &json!({"full_name": "Far Away"})).await;
    assert_eq!((s, code(&e)), (404, "not_found".into()));
    // On far's view list: boss sees it, still cannot change it.
    let put = |who: &'static str, level: &'static str| {
        let admin = &admin;
        async move {
            let r = admin
                .http
                .put(format!("{}/api/v1/users/far/access/{who}", admin.base))
                .json(&json!({"level": level}))
                .send()
                .await
                .expect("put");
            (r.status().as_u16(), r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (s, list) = put("boss", "view").await;
    assert_eq!(s, 200, "{list}");
    assert_eq!(list, json!([{"username": "boss", "full_name": "User boss", "level": "view"}]));
    let (s, _) = boss.get("/api/v1/users/far").await;
    assert_eq!(s, 200);
    let (s, e) = boss.patch_json("/api/v1/users/far", &json!({"full_name": "Far Away"})).await;
    assert_eq!((s, code(&e)), (403, "in_other_orgs".into()));
    // On the edit list: boss (who holds manage-users where it works) may change it, and its lists.
    assert_eq!(put("boss", "edit").await.0, 200);
    let (s, u) = boss.patch_json("/api/v1/users/far", &json!({"full_name": "Far Away"})).await;
    assert_eq!((s, u["full_name"].clone()), (200, json!("Far Away")));
    let r = boss
        .http
        .put(format!("{}/api/v1/users/far/access/pawn", app.base))
        .json(&json!({"level": "view"}))
        .send()
        .await
        .expect("put");
    assert_eq!(r.status().as_u16(), 200);
    // A holder without view-users where it works gets nothing from the list.
    let (s, e) = pawn.get("/api/v1/users/far").await;
    assert_eq!((s, code(&e)), (403, "missing_ability".into()));
    // Super admins stay out of reach of lists.
    let r = admin
        .http
        .put(format!("{}/api/v1/users/admin/access/boss", app.base))
        .json(&json!({"level": "edit"}))
        .send()
        .await
        .expect("put");
    assert_eq!(r.status().as_u16(), 200);
    let (s, e) = boss.patch_json("/api/v1/users/admin", &json!({"full_name": "Mallory"})).await;
    assert_eq!((s, code(&e)), (403, "target_is_super_admin".into()));
    // Bad input.
    assert_eq!(put("public", "view").await.0, 422);
    assert_eq!(put("far", "view").await.0, 422);
    assert_eq!(put("ghost", "view").await.0, 422);
    assert_eq!(put("boss", "own").await.0, 422);
    // Taken off the list: hidden again.
    let (s, list) = admin.delete("/api/v1/users/far/access/boss").await;
    assert_eq!(s, 200);
    assert_eq!(list, json!([{"username": "pawn", "full_name": "User pawn", "level": "view"}]));
    let (s, _) = boss.get("/api/v1/users/far").await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn the_public_account_grants_anonymous_visitors_and_never_signs_in() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    two_orgs(&admin).await;
    let viewer = role_id(&admin, "Viewer").await;
    let (s, m) = admin
        .post_json(
            "/api/v1/orgs/Acme/members",
            &json!({"username": "public", "role": viewer, "extras": ["view-queries"]}),
        )
        .await;
    assert_eq!(s, 201, "{m}");
    // Anonymous (no user) and everyone else get what the public account has.
    let anon = check(&admin, "", "Acme", "view-queries").await;
    assert_eq!((anon["allowed"].clone(), anon["reason"].clone()), (json!(true), json!("public_extra_grant")));
    app.member(&admin, "zed", "Beta", "Viewer").await;
    assert_eq!(check(&admin, "zed", "Acme", "view-queries").await["allowed"], json!(true));
    assert_eq!(check(&admin, "zed", "Acme", "run-backups").await["reason"], "not_member");
    // What the public account grants does not make a non-member one: zed gets view-users in
    // Acme through it, and still may not list Acme's members or ask about them.
    let (s, _) = admin
        .patch_json(
            "/api/v1/orgs/Acme/members/public",
            &json!({"role": viewer, "extras": ["view-queries", "view-users"]}),
        )
        .await;
    assert_eq!(s, 200);
    let zed = app.browser();
    let (s, _) = zed.rpc("sign_in", &[("login", "zed"), ("password", MEMBER_PW)]).await;
    assert_eq!(s, 200);
    let (s, e) = zed.get("/api/v1/orgs/Acme/members").await;
    assert_eq!((s, code(&e)), (404, "not_found".into()), "{e}");
    let (s, e) = zed.get("/api/v1/check?user=admin&org=Acme&ability=run-backups").await;
    assert_eq!((s, code(&e)), (404, "not_found".into()), "{e}");
    // It has no password and cannot be signed in to, whatever is tried.
    let c = app.browser();
    let (s, _) = c.rpc("sign_in", &[("login", "public"), ("password", "")]).await;
    assert_eq!(s, 401);
    let (s, e) = admin.patch_json("/api/v1/users/public", &json!({"status": "disabled"})).await;
    assert_eq!((s, code(&e)), (403, "public_account".into()));
    // The public account does not count as an account for first-run sign-up.
    let fresh = TestApp::start().await;
    let (s, open) = fresh.browser().rpc("sign_up_open", &[]).await;
    assert_eq!((s, open), (200, json!(true)));
}

#[tokio::test]
async fn check_and_explain_answer_with_reasons_and_refuse_bad_input() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let (acme, _) = two_orgs(&admin).await;
    let op = app.member(&admin, "otto", "Acme", "Operator").await;
    let c = check(&admin, "otto", &acme.to_string(), "run-backups").await;
    assert_eq!(
        c,
        json!({"allowed": true, "reason": "role", "message": "otto may run-backups in Acme: role Operator."})
    );
    assert_eq!(check(&admin, "otto", "acme", "delete-snapshots").await["reason"], "missing_ability");
    assert_eq!(check(&admin, "otto", "Beta", "run-backups").await["reason"], "not_member");
    assert_eq!(check(&admin, "admin", "Beta", "manage-users").await["reason"], "super_admin");
    let (s, e) = admin.get("/api/v1/check?user=otto&org=Acme&ability=fly").await;
    assert_eq!((s, code(&e)), (422, "invalid".into()));
    assert_eq!(e["error"]["fields"][0]["field"], "ability");
    let (s, _) = admin.get("/api/v1/check?user=otto&org=Nowhere&ability=run-backups").await;
    assert_eq!(s, 404);
    let (s, _) = admin.get("/api/v1/check?user=ghost&org=Acme&ability=run-backups").await;
    assert_eq!(s, 404);
    let (s, e) = admin.get("/api/v1/check?user=otto&ability=run-backups").await;
    assert_eq!((s, e["error"]["fields"][0]["field"].clone()), (422, json!("org")));
    // Users may ask about themselves; others need view-users there.
    let (s, _) = op.get("/api/v1/check?user=otto&org=Acme&ability=run-backups").await;
    assert_eq!(s, 200);
    let (s, e) = op.get("/api/v1/check?user=admin&org=Acme&ability=run-backups").await;
    assert_eq!((s, code(&e)), (403, "missing_ability".into()));
    let (s, _) = app.browser().get("/api/v1/check?user=otto&org=Acme&ability=run-backups").await;
    assert_eq!(s, 401);
    // Explain: the chain names the role and the extra grant that were considered.
    let (s, x) = admin.get("/api/v1/explain?user=otto&org=Acme&ability=delete-snapshots").await;
    assert_eq!(s, 200, "{x}");
    assert_eq!(x["allowed"], json!(false));
    let details: Vec<&str> =
        x["steps"].as_array().expect("steps").iter().filter_map(|s| s["detail"].as_str()).collect();
    assert!(details.contains(&"Role Operator in Acme does not grant delete-snapshots."), "{details:?}");
    assert!(details.contains(&"No extra grant of delete-snapshots in Acme."), "{details:?}");
    // The same through the server function the page uses.
    let (s, x) = admin.rpc("explain_access", &[("user", "otto"), ("org", "Acme"), ("ability", "run-backups")]).await;
    assert_eq!(s, 200, "{x}");
    assert_eq!(x["allowed"], json!(true));
}

#[tokio::test]
async fn roles_are_created_renamed_and_deleted_only_with_a_replacement_while_assigned() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    two_orgs(&admin).await;
    let (s, r) = admin
        .post_json("/api/v1/roles", &json!({"name": "Auditor", "abilities": ["view-users", "view-queries"]}))
        .await;
    assert_eq!(s, 201, "{r}");
    let id = r["id"].as_i64().expect("id");
    let (s, e) = admin.post_json("/api/v1/roles", &json!({"name": "auditor"})).await;
    assert_eq!((s, e["error"]["fields"][0]["field"].clone()), (409, json!("name")));
    let (s, e) = admin.post_json("/api/v1/roles", &json!({"name": "  "})).await;
    assert_eq!(s, 422, "{e}");
    app.member(&admin, "ann", "Acme", "Auditor").await;
    let (s, r) = admin.patch_json(&format!("/api/v1/roles/{id}"), &json!({"name": "Reviewer"})).await;
    assert_eq!((s, r["name"].clone()), (200, json!("Reviewer")));
    // Roles are addressed by id or name; anything else is a JSON 404, and names cannot look like ids.
    let (s, r) = admin.patch_json("/api/v1/roles/reviewer", &json!({"name": "Reviewer"})).await;
    assert_eq!((s, r["id"].as_i64()), (200, Some(id)));
    let (s, e) = admin.patch_json("/api/v1/roles/nope", &json!({"name": "X"})).await;
    assert_eq!((s, code(&e)), (404, "not_found".into()), "{e}");
    let (s, e) = admin.post_json("/api/v1/roles", &json!({"name": "123"})).await;
    assert_eq!((s, e["error"]["fields"][0]["field"].clone()), (422, json!("name")), "{e}");
    assert_eq!(
        check(&admin, "ann", "Acme", "view-users").await["message"],
        "ann may view-users in Acme: role Reviewer."
    );
    let (s, e) = admin.delete(&format!("/api/v1/roles/{id}")).await;
    assert_eq!((s, code(&e)), (403, "role_in_use".into()));
    let (s, e) = admin.delete(&format!("/api/v1/roles/{id}?replacement={id}")).await;
    assert_eq!(s, 422, "{e}");
    let viewer = role_id(&admin, "Viewer").await;
    let (s, _) = admin.delete(&format!("/api/v1/roles/{id}?replacement={viewer}")).await;
    assert_eq!(s, 204);
    // ann moved to Viewer in the same transaction, and the model followed.
    let (_, ms) = admin.get("/api/v1/users/ann/memberships").await;
    assert_eq!(ms[0]["role"], "Viewer");
    assert_eq!(check(&admin, "ann", "Acme", "view-users").await["reason"], "missing_ability");
}

#[tokio::test]
async fn organizations_and_the_org_switcher() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let (acme, beta) = two_orgs(&admin).await;
    let (s, e) = admin.post_json("/api/v1/orgs", &json!({"name": "ACME"})).await;
    assert_eq!((s, e["error"]["fields"][0]["field"].clone()), (409, json!("name")));
    let (s, e) = admin.delete("/api/v1/orgs/1").await;
    assert_eq!(s, 409, "the default organization stays: {e}");
    let both = app.member(&admin, "bo", "Acme", "Admin").await;
    let viewer = role_id(&admin, "Viewer").await;
    admin.post_json("/api/v1/orgs/Beta/members", &json!({"username": "bo", "role": viewer})).await;
    // The session starts in the first organization; switching changes what it may do there.
    let (_, me) = both.rpc("current_user", &[]).await;
    assert_eq!(me["org"]["name"], "Acme");
    assert_eq!(me["orgs"].as_array().map(Vec::len), Some(2));
    assert!(me["abilities"].as_array().expect("abilities").contains(&json!("manage-users")));
    let (s, me) = both.rpc("switch_org", &[("org", &beta.to_string())]).await;
    assert_eq!(s, 200, "{me}");
    assert_eq!(me["org"]["name"], "Beta");
    assert_eq!(me["abilities"], json!([]));
    // Lists and actions follow the current organization.
    let (s, e) = both.rpc("list_members", &[]).await;
    assert_eq!((s, code(&e)), (403, "Forbidden".into()), "{e}");
    both.rpc("switch_org", &[("org", &acme.to_string())]).await;
    let (s, page) = both.rpc("list_members", &[]).await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(page["org"]["name"], "Acme");
    // Not a member: no switching there.
    let (s, _) = both.rpc("switch_org", &[("org", "1")]).await;
    assert_eq!(s, 404);
    // Removed from the current organization mid-session: the session moves on.
    admin.delete("/api/v1/orgs/Acme/members/bo").await;
    let (_, me) = both.rpc("current_user", &[]).await;
    assert_eq!(me["org"]["name"], "Beta");
    // Deleting an organization removes its memberships, not the accounts.
    let (s, _) = admin.delete(&format!("/api/v1/orgs/{beta}")).await;
    assert_eq!(s, 204);
    let (_, me) = both.rpc("current_user", &[]).await;
    assert_eq!(me["orgs"], json!([]));
    let (s, _) = admin.get("/api/v1/users/bo").await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn two_org_admins_demoting_each_other_at_once_leave_one() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    two_orgs(&admin).await;
    let a = app.member(&admin, "amy", "Acme", "Admin").await;
    let b = app.member(&admin, "ben", "Acme", "Admin").await;
    let viewer = role_id(&admin, "Viewer").await;
    let body = json!({"role": viewer});
    let (ra, rb) = tokio::join!(
        a.patch_json("/api/v1/orgs/Acme/members/ben", &body),
        b.patch_json("/api/v1/orgs/Acme/members/amy", &body)
    );
    // The second writer reads its own abilities in its transaction: already a Viewer.
    let statuses = BTreeSet::from([ra.0, rb.0]);
    assert_eq!(statuses, BTreeSet::from([200, 403]), "{ra:?} {rb:?}");
    let admins =
        [check(&admin, "amy", "Acme", "manage-users").await, check(&admin, "ben", "Acme", "manage-users").await];
    assert_eq!(admins.iter().filter(|c| c["allowed"] == json!(true)).count(), 1);
}

/// The server notices a change another process committed: on PostgreSQL the change feed
/// brings it at once; on SQLite the server's poller calls `sync` every second (called here).
async fn noticed(app: &TestApp) {
    let in_db = app.backend.store.access_version().await.expect("version");
    match app.kind {
        common::db::Kind::Sqlite => {
            assert!(app.backend.access.sync(app.backend.store.as_ref()).await.expect("sync"));
        }
        common::db::Kind::Postgres => {
            let t = std::time::Instant::now();
            while app.backend.access.version() < in_db {
                assert!(t.elapsed() < std::time::Duration::from_secs(2), "the change feed did not bring it");
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
        }
    }
    assert_eq!(app.backend.access.version(), in_db);
}

#[tokio::test]
async fn changes_made_by_another_process_reach_the_running_server() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    two_orgs(&admin).await;
    app.member(&admin, "cli_user", "Acme", "Viewer").await;
    assert_eq!(check(&admin, "cli_user", "Acme", "use-adminer").await["allowed"], json!(false));
    // A second store on the same database, as the `roster` command line would open it.
    let other = app::backend::store::open(&app.db_url).await.expect("open");
    let cli = app::backend::Backend::new(other, Default::default(), std::sync::Arc::new(app::backend::SystemClock));
    cli.load_access().await.expect("load");
    let ctx = app::backend::Ctx::cli();
    let viewer = app::backend::services::roles::resolve(&cli, "Viewer").expect("role");
    app::backend::services::roles::set_ability(&cli, &ctx, viewer, app::domain::abilities::Ability::UseAdminer, true)
        .await
        .expect("grant");
    noticed(&app).await;
    assert_eq!(check(&admin, "cli_user", "Acme", "use-adminer").await["allowed"], json!(true));
}

#[tokio::test]
async fn the_event_stream_announces_access_changes() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let (s, _) = app.browser().get("/api/v1/events").await;
    assert_eq!(s, 401);
    let mut r = admin.http.get(format!("{}/api/v1/events", app.base)).send().await.expect("events");
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap_or("").starts_with("text/event-stream"));
    let mut seen = String::new();
    // The current version comes first.
    while !seen.contains("\n\n") {
        seen.push_str(&String::from_utf8_lossy(&r.chunk().await.expect("chunk").expect("bytes")));
    }
    assert!(seen.starts_with("event: access\ndata: "), "{seen}");
    let first: i64 =
        seen.lines().nth(1).and_then(|l| l.strip_prefix("data: ")).and_then(|v| v.parse().ok()).expect("version");
    admin.post_json("/api/v1/orgs", &json!({"name": "Live"})).await;
    let next = tokio::time::timeout(std::time::Duration::from_secs(5), r.chunk())
        .await
        .expect("an event")
        .expect("chunk")
        .expect("bytes");
    let text = String::from_utf8_lossy(&next).to_string();
    assert!(text.contains("event: change\n"), "{text}");
    assert!(text.contains(&format!("\"version\":{},", first + 1)), "{text}");
    assert!(text.contains("\"kind\":\"org\"") && text.contains("\"name\":\"Live\""), "{text}");
    // Signed out (the stream's session): the stream ends at the next change.
    let other = app.super_admin(&admin, "root2", MEMBER_PW).await;
    // (creating root2 was itself an access change)
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), r.chunk()).await.expect("event");
    let (s, _) = admin.rpc("sign_out", &[]).await;
    assert_eq!(s, 200);
    other.post_json("/api/v1/orgs", &json!({"name": "After"})).await;
    let end = tokio::time::timeout(std::time::Duration::from_secs(5), r.chunk()).await.expect("the stream ends");
    assert!(end.expect("clean end").is_none(), "no more events once the session is gone");
}

#[tokio::test]
async fn the_event_stream_ends_when_its_session_expires_like_any_request() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let other = app.super_admin(&admin, "root2", MEMBER_PW).await;
    let mut r = admin.http.get(format!("{}/api/v1/events", app.base)).send().await.expect("events");
    assert_eq!(r.status().as_u16(), 200);
    let _first = r.chunk().await.expect("chunk").expect("the current version");
    // Idle past the timeout (nothing swept the session away: the row is still there).
    app.clock.advance_ms(app.backend.config.session_idle_ms + 1);
    let (s, _) = other.rpc("reauthenticate", &[("password", MEMBER_PW)]).await;
    assert_eq!(s, 401, "every session is idle now");
    // A change made by the CLI (another process) reaches this server's stream: it is checked
    // with the same rules as a request, and ends.
    let (code, _, err) = common::roster(&app.db_url, &["org", "create", "AfterExpiry"]);
    assert_eq!(code, 0, "{err}");
    noticed(&app).await;
    let end = tokio::time::timeout(std::time::Duration::from_secs(5), r.chunk()).await.expect("the stream ends");
    assert!(end.expect("clean end").is_none(), "an expired session's stream must end");
}

// ---------------------------------------------------------------------------------------
// The authorization matrix (security checklist item 30): every server function and every API
// route, for each kind of caller, with the decision expected. A route missing from the table
// fails the test.

/// Decision classes: A allowed (the request passed authorization: 2xx, or 409/422 on the
/// input), U 401, F 403, N 404 (hidden or absent from the caller's organization).
/// `token`: a personal access token of admin_a's, limited to view-users (the "token with
/// limited scope" of checklist item 30).
const PERSONAS: [&str; 9] =
    ["anonymous", "public", "viewer", "operator", "member", "admin_a", "admin_b", "super", "token"];

struct Case {
    /// "GET /api/v1/..." or "rpc name"
    route: &'static str,
    /// Expected class per persona, in `PERSONAS` order.
    want: &'static str,
}

const fn c(route: &'static str, want: &'static str) -> Case {
    Case { route, want }
}

/// In the order they run (each persona runs them all, on its own fixtures).
const CASES: &[Case] = &[
    //                                                anon pub view op mem adA adB sup tok
    c("rpc switch_org", /*                            */ "UUAAAANAU"),
    c("rpc current_user", "AAAAAAAAA"),
    c("rpc sign_up_open", "AAAAAAAAA"),
    c("rpc password_rules", "AAAAAAAAA"),
    c("rpc sign_up", "FFFFFFFFF"),
    c("rpc sign_in", "UUUUUUUUU"),
    c("rpc list_users", "UUFFFFFAF"),
    c("rpc get_user", "UUFFFANAA"),
    c("rpc user_memberships", "UUFFFANAA"),
    c("rpc account_holders", "UUFFFANAA"),
    c("rpc set_account_holder", "UUFFFANAF"),
    c("rpc create_user", "UUFFFAAAF"),
    c("rpc copy_user", "UUFFFFFAF"),
    c("rpc import_accounts", "UUFFFFFAF"),
    c("POST /import", "UUFFFFFAF"),
    c("GET /export", "UUFFFFFAF"),
    c("rpc update_user", "UUFFFANAF"),
    c("rpc reset_two_factor", "UUFFFANAF"),
    c("rpc unlock_user", "UUFFFANAF"),
    c("rpc sign_in_locked", "UUFFFANAA"),
    c("rpc delete_user", "UUFFFANAF"),
    c("rpc update_profile", "UUAAAAAAA"),
    c("rpc change_password", "UUAAAAAAF"),
    c("rpc list_audit", "UUFFFFFAF"),
    c("rpc role_matrix", "UUAAAAAAA"),
    c("rpc create_role", "UUFFFFFAF"),
    c("rpc set_role_ability", "UUFFFFFAF"),
    c("rpc rename_role", "UUFFFFFAF"),
    c("rpc delete_role", "UUFFFFFAF"),
    c("rpc list_orgs", "UUAAAAAAA"),
    c("rpc api_description", "UUAAAAAAA"),
    c("rpc create_org", "UUFFFFFAF"),
    c("rpc rename_org", "UUFFFFFAF"),
    c("rpc delete_org", "UUFFFFFAF"),
    c("rpc list_members", "UUFFFAAAA"),
    c("rpc set_member", "UUFFFNNAF"),
    c("rpc remove_member", "UUFFFANAF"),
    c("rpc member_candidates", "UUFFFAAAF"),
    // (in each persona's current organization: admin_b's is Beta, where it is Admin)
    c("rpc list_databases", "UUFFAAAAF"),
    c("rpc save_database", "UUFFAAAAF"),
    c("rpc test_database", "UUFFAAAAF"),
    // (credentials of the persona's database in its current organization: Members and Admins
    // hold view-credentials and create-credentials; Members also manage-database-servers)
    c("rpc list_credentials", "UUFFAAAAF"),
    c("rpc save_credential", "UUFFAAAAF"),
    c("rpc credential_uses", "UUFFAAAAF"),
    c("rpc test_credential", "UUFFAAAAF"),
    c("rpc credential_names", "UUFFAAAAF"),
    c("rpc delete_credential", "UUFFAAAAF"),
    // (mappings of victim, an Acme account: admin_b works in Beta, where it is hidden)
    c("rpc list_mappings", "UUFFFANAA"),
    c("rpc save_mapping", "UUFFFANAF"),
    c("rpc test_mapping", "UUFFFANAF"),
    c("rpc delete_mapping", "UUFFFANAF"),
    c("rpc delete_database", "UUFFAAAAF"),
    c("rpc explain_access", "UUFFAANAA"),
    c("rpc sign_in_code", "AAAAAAAAA"),
    c("rpc reauthenticate", "UUAAAAAAF"),
    c("rpc security_status", "UUAAAAAAA"),
    c("rpc begin_totp", "UUAAAAAAF"),
    c("rpc resume_totp", "UUAAAAAAF"),
    c("rpc confirm_totp", "UUAAAAAAF"),
    c("rpc regenerate_recovery_codes", "UUAAAAAAF"),
    c("rpc disable_two_factor", "UUAAAAAAF"),
    c("rpc list_tokens", "UUAAAAAAA"),
    c("rpc create_token", "UUAAAAAAF"),
    c("rpc revoke_token", "UUNNNNNNN"),
    c("rpc list_passkeys", "UUAAAAAAA"),
    c("rpc set_two_factor_requirement", "UUFFFFFAF"),
    c("rpc instance_two_factor_requirement", "UUFFFFFAF"),
    c("rpc begin_passkey_registration", "UUAAAAAAF"),
    c("rpc finish_passkey_registration", "UUAAAAAAA"),
    c("rpc rename_passkey", "UUNNNNNNN"),
    c("rpc delete_passkey", "UUNNNNNNF"),
    c("rpc begin_passkey_sign_in", "AAAAAAAAA"),
    c("rpc finish_passkey_sign_in", "AAAAAAAAA"),
    c("rpc begin_passkey_second_factor", "AAAAAAAAA"),
    c("rpc finish_passkey_second_factor", "AAAAAAAAA"),
    c("rpc pending_second_factor", "AAAAAAAAA"),
    c("rpc sso_buttons", "AAAAAAAAA"),
    c("rpc list_sso_providers", "UUFFFFFAF"),
    c("rpc save_sso_provider", "UUFFFFFAF"),
    c("rpc delete_sso_provider", "UUFFFFFNF"),
    // (anyone may ask what an authorization request in their browser asks: nothing without
    // a session, a trusted request and an application that asks for consent)
    c("rpc ask_consent", "AAAAAAAAA"),
    c("rpc list_clients", "UUFFFFFAF"),
    c("rpc save_client", "UUFFFFFAF"),
    c("rpc rotate_client_secret", "UUFFFFFNF"),
    c("rpc delete_client", "UUFFFFFNF"),
    c("rpc list_webhooks", "UUFFFFFAF"),
    c("rpc save_webhook", "UUFFFFFAF"),
    c("rpc rotate_webhook_secret", "UUFFFFFNF"),
    c("rpc resume_webhook", "UUFFFFFNF"),
    c("rpc delete_webhook", "UUFFFFFNF"),
    c("rpc webhook_deliveries", "UUFFFFFNF"),
    c("rpc list_scim_connections", "UUFFFFFAF"),
    c("rpc create_scim_connection", "UUFFFFFAF"),
    c("rpc new_scim_token", "UUFFFFFNF"),
    c("rpc delete_scim_connection", "UUFFFFFNF"),
    c("rpc list_scim_mappings", "UUFFFFFNF"),
    c("rpc create_scim_mapping", "UUFFFFFNF"),
    c("rpc delete_scim_mapping", "UUFFFFFNF"),
    c("rpc list_invitations", "UUFFFAAAF"),
    c("rpc create_invitation", "UUFFFAAAF"),
    c("rpc resend_invitation", "UUFFFNNNF"),
    c("rpc revoke_invitation", "UUFFFNNNF"),
    // (an unknown link: not found for everyone; joining needs a session)
    c("rpc preview_invitation", "NNNNNNNNN"),
    c("rpc accept_invitation", "NNNNNNNNN"),
    c("rpc join_invitation", "UUNNNNNNF"),
    c("rpc begin_invitation_passkey", "NNNNNNNNN"),
    // (a plan of named accounts: org admins too, each account's own rule deciding; an unknown
    // plan is not found)
    c("POST /bulk", "UUFFFAAAF"),
    c("POST /bulk/{plan}/apply", "UUFFFNNNF"),
    c("rpc finish_invitation_passkey", "NNNNNNNNN"),
    c("rpc linked_providers", "UUAAAAAAA"),
    c("rpc remove_avatar", "UUAAAAAAA"),
    c("rpc begin_sso_link", "UUAAAAAAF"),
    c("rpc unlink_sso", "UUNNNNNNF"),
    c("GET /openapi.json", "AAAAAAAAA"),
    c("GET /users", "UUFFFFFAF"),
    // (admin_b names Acme, an organization it cannot see: "no organization named Acme", 422)
    c("POST /users", "UUFFFAAAF"),
    c("GET /users/{username}", "UUFFFANAA"),
    c("GET /users/{username}/memberships", "UUFFFANAA"),
    c("GET /users/{username}/access", "UUFFFANAA"),
    c("GET /users/{username}/avatar", "UUFFFANAA"),
    c("PUT /users/{username}/access/{holder}", "UUFFFANAF"),
    c("DELETE /users/{username}/access/{holder}", "UUFFFANAF"),
    c("PATCH /users/{username}", "UUFFFANAF"),
    c("POST /users/{username}/two-factor/reset", "UUFFFANAF"),
    c("DELETE /users/{username}", "UUFFFANAF"),
    c("GET /roles", "UUAAAAAAA"),
    c("POST /roles", "UUFFFFFAF"),
    c("PATCH /roles/{id}", "UUFFFFFAF"),
    c("PUT /roles/{id}/abilities/{ability}", "UUFFFFFAF"),
    c("DELETE /roles/{id}/abilities/{ability}", "UUFFFFFAF"),
    c("DELETE /roles/{id}", "UUFFFFFAF"),
    c("GET /orgs", "UUAAAAAAA"),
    c("POST /orgs", "UUFFFFFAF"),
    c("PATCH /orgs/{org}", "UUNNNNNAN"),
    c("DELETE /orgs/{org}", "UUNNNNNAN"),
    c("GET /orgs/{org}/members", "UUFFFANAA"),
    c("POST /orgs/{org}/members", "UUFFFNNAF"),
    c("PATCH /orgs/{org}/members/{username}", "UUFFFANAF"),
    c("DELETE /orgs/{org}/members/{username}", "UUFFFANAF"),
    // (Members and Admins hold the database abilities by default, Viewers and Operators none;
    // the token is limited to view-users)
    c("GET /orgs/{org}/databases", "UUFFAANAF"),
    c("POST /orgs/{org}/databases", "UUFFAANAF"),
    c("GET /orgs/{org}/databases/{db}", "UUFFAANAF"),
    c("PATCH /orgs/{org}/databases/{db}", "UUFFAANAF"),
    c("POST /orgs/{org}/databases/{db}/test", "UUFFAANAF"),
    c("GET /orgs/{org}/databases/{db}/credentials", "UUFFAANAF"),
    c("POST /orgs/{org}/databases/{db}/credentials", "UUFFAANAF"),
    c("PATCH /orgs/{org}/databases/{db}/credentials/{name}", "UUFFAANAF"),
    c("POST /orgs/{org}/databases/{db}/credentials/{name}/test", "UUFFAANAF"),
    c("DELETE /orgs/{org}/databases/{db}/credentials/{name}", "UUFFAANAF"),
    // (source's mappings, an Acme account: they follow the account's rules, view-users and
    // manage-users there)
    c("GET /orgs/{org}/users/{username}/databases", "UUFFFANAA"),
    c("PUT /orgs/{org}/users/{username}/databases/{db}", "UUFFFANAF"),
    c("POST /orgs/{org}/users/{username}/databases/{db}/test", "UUFFFANAF"),
    // (super admins, and tokens holding view-credentials: the persona's token has view-users)
    c("GET /users/{username}/databases/{db}/credentials", "UUFFFFFAF"),
    c("DELETE /orgs/{org}/users/{username}/databases/{db}", "UUFFFANAF"),
    c("DELETE /orgs/{org}/databases/{db}", "UUFFAANAF"),
    c("GET /check", "UUFFAANAA"),
    c("GET /explain", "UUFFAANAA"),
    c("GET /events", "UUAAAAAAA"),
    c("GET /audit", "UUFFFFFAF"),
    c("GET /audit/export", "UUFFFFFAF"),
    c("GET /me", "UUAAAAAAA"),
    c("PUT /me/avatar", "UUAAAAAAA"),
    c("DELETE /me/avatar", "UUAAAAAAA"),
    c("GET /sso/providers", "UUFFFFFAF"),
    c("POST /sso/providers", "UUFFFFFAF"),
    c("PUT /sso/providers/{slug}", "UUFFFFFAF"),
    c("DELETE /sso/providers/{slug}", "UUFFFFFNF"),
    c("GET /clients", "UUFFFFFAF"),
    c("POST /clients", "UUFFFFFAF"),
    c("GET /clients/{client_id}", "UUFFFFFNF"),
    c("PUT /clients/{client_id}", "UUFFFFFNF"),
    c("POST /clients/{client_id}/secret", "UUFFFFFNF"),
    c("DELETE /clients/{client_id}", "UUFFFFFNF"),
    c("GET /webhooks", "UUFFFFFAF"),
    c("POST /webhooks", "UUFFFFFAF"),
    c("GET /webhooks/{id}", "UUFFFFFNF"),
    c("PUT /webhooks/{id}", "UUFFFFFAF"),
    c("DELETE /webhooks/{id}", "UUFFFFFNF"),
    c("POST /webhooks/{id}/secret", "UUFFFFFNF"),
    c("POST /webhooks/{id}/resume", "UUFFFFFNF"),
    c("GET /webhooks/{id}/deliveries", "UUFFFFFNF"),
    c("GET /scim/connections", "UUFFFFFAF"),
    c("POST /scim/connections", "UUFFFFFAF"),
    c("DELETE /scim/connections/{id}", "UUFFFFFNF"),
    c("POST /scim/connections/{id}/tokens", "UUFFFFFNF"),
    c("GET /scim/connections/{id}/mappings", "UUFFFFFNF"),
    c("POST /scim/connections/{id}/mappings", "UUFFFFFNF"),
    c("DELETE /scim/connections/{id}/mappings/{mapping}", "UUFFFFFNF"),
    // (Acme's invitations: admin_b works in Beta, where Acme is hidden)
    c("GET /orgs/{org}/invitations", "UUFFFANAF"),
    c("POST /orgs/{org}/invitations", "UUFFFANAF"),
    c("POST /orgs/{org}/invitations/{id}/resend", "UUFFFNNNF"),
    c("POST /orgs/{org}/invitations/{id}/revoke", "UUFFFNNNF"),
    c("GET /tokens", "UUAAAAAAA"),
    c("POST /tokens", "UUAAAAAAF"),
    c("DELETE /tokens/{id}", "UUNNNNNNN"),
    // Last: it ends the session the persona used for everything above.
    c("rpc sign_out", "AAAAAAAAA"),
];

fn class(status: u16) -> char {
    match status {
        401 => 'U',
        403 => 'F',
        404 => 'N',
        s if s < 400 || s == 409 || s == 422 => 'A',
        _ => '?',
    }
}

#[tokio::test]
async fn authorization_matrix() {
    // Every route has an entry, and every entry is a route.
    let mut rpc_routes: BTreeSet<String> =
        leptos::server_fn::axum::server_fn_paths().map(|(p, _)| p.trim_start_matches("/rpc/").to_string()).collect();
    let mut api_routes: BTreeSet<String> =
        server::rest::routes().iter().map(|(m, p)| format!("{} {p}", m.to_uppercase())).collect();
    for case in CASES {
        let known = match case.route.strip_prefix("rpc ") {
            Some(name) => rpc_routes.remove(name),
            None => api_routes.remove(case.route),
        };
        assert!(known, "{} is in the table but not a route", case.route);
        assert_eq!(case.want.len(), PERSONAS.len(), "{}", case.route);
    }
    assert!(rpc_routes.is_empty(), "server functions without an authorization entry: {rpc_routes:?}");
    assert!(api_routes.is_empty(), "API routes without an authorization entry: {api_routes:?}");

    // Each persona's SQLite databases exist in the configured folder: their Test Connections
    // connect, so the per-caller throttle never closes during the run.
    let sqlite_dir = tempfile::tempdir().expect("temp dir");
    for p in PERSONAS.iter().map(|p| p.replace('_', "")).chain(["x".to_string()]) {
        std::fs::write(sqlite_dir.path().join(format!("{p}.db")), b"").expect("sqlite file");
    }
    let mut config = app::backend::Config::default();
    config.database_probes.sqlite_dir = Some(sqlite_dir.path().to_path_buf());
    let app = TestApp::start_with(config).await;
    let admin = app.admin().await;
    let (acme, _) = two_orgs(&admin).await;
    let viewer_role = role_id(&admin, "Viewer").await;
    // The public account holds Operator in Acme (so everyone there does): anonymous callers
    // still administer nothing, and no one gains an administrative privilege from it.
    let operator_role = role_id(&admin, "Operator").await;
    let (s, _) =
        admin.post_json("/api/v1/orgs/Acme/members", &json!({"username": "public", "role": operator_role})).await;
    assert_eq!(s, 201);
    let mut clients: Vec<Option<Client>> = vec![None, None];
    clients.push(Some(app.member(&admin, "viewer_user", "Acme", "Viewer").await));
    clients.push(Some(app.member(&admin, "operator_user", "Acme", "Operator").await));
    clients.push(Some(app.member(&admin, "member_user", "Acme", "Member").await));
    clients.push(Some(app.member(&admin, "admin_a_user", "Acme", "Admin").await));
    clients.push(Some(app.member(&admin, "admin_b_user", "Beta", "Admin").await));
    clients.push(Some(app.super_admin(&admin, "super_user", MEMBER_PW).await));
    let (s, t) = clients[5]
        .as_ref()
        .expect("admin_a")
        .post_json("/api/v1/tokens", &json!({"name": "matrix", "kind": "pat", "abilities": ["view-users"]}))
        .await;
    assert_eq!(s, 201, "{t}");
    clients.push(Some(app.with_token(t["token"].as_str().expect("token"))));

    let mut failures = Vec::new();
    for (i, persona) in PERSONAS.iter().enumerate() {
        // Per-persona fixtures, so destructive calls by one persona leave the others' intact.
        let p = persona.replace('_', "");
        for (name, org) in [
            ("victim", "Acme"),
            ("victim2", "Acme"),
            ("leaver", "Acme"),
            ("leaver2", "Acme"),
            ("joiner", "Default"),
            ("joiner2", "Default"),
            ("source", "Acme"),
            ("esc", "Acme"),
        ] {
            let body = json!({"username": format!("{name}{p}"), "email": format!("{name}{p}@example.com"), "password": MEMBER_PW, "org": org, "role": "Viewer"});
            let (s, b) = admin.post_json("/api/v1/users", &body).await;
            assert_eq!(s, 201, "{b}");
        }
        let mut role_ids = Vec::new();
        for name in ["tmprole", "tmprole2"] {
            let (_, r) = admin.post_json("/api/v1/roles", &json!({"name": format!("{name}{p}")})).await;
            role_ids.push(r["id"].as_i64().expect("role id"));
        }
        let mut org_ids = Vec::new();
        for name in ["tmporg", "tmporg2"] {
            let (_, o) = admin.post_json("/api/v1/orgs", &json!({"name": format!("{name}{p}")})).await;
            org_ids.push(o["id"].as_i64().expect("org id"));
        }
        let (s, b) = admin
            .post_json(
                "/api/v1/orgs/Acme/databases",
                &json!({"db_id": format!("db{p}"), "engine": "sqlite", "name": format!("{p}.db")}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        let (s, b) = admin
            .post_json(
                &format!("/api/v1/orgs/Acme/databases/db{p}/credentials"),
                &json!({"name": format!("cred{p}"), "login": "l", "password": "p"}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        let anon = app.browser();
        let client = clients[i].as_ref().unwrap_or(&anon);
        // Escalation attempts (IDOR is covered above by admin_b on Acme's routes).
        let me = match *persona {
            "viewer" => "viewer_user",
            "operator" => "operator_user",
            "member" => "member_user",
            "admin_a" => "admin_a_user",
            "admin_b" => "admin_b_user",
            "token" => "admin_a_user",
            _ => "super_user",
        };
        let admin_role = role_id(&admin, "Admin").await;
        let attempts: [(&str, &str, String, Value, &str); 5] = [
            ("promote yourself", "PATCH", format!("/users/{me}"), json!({"super_admin": true}), "UUFFFFFAF"),
            ("promote someone", "PATCH", format!("/users/esc{p}"), json!({"super_admin": true}), "UUFFFFNAF"),
            (
                "give yourself Admin",
                "PATCH",
                format!("/orgs/Acme/members/{me}"),
                json!({"role": admin_role}),
                "UUFFFFNFF",
            ),
            (
                "add yourself as Admin",
                "POST",
                "/orgs/Acme/members".into(),
                json!({"username": me, "role": admin_role}),
                "UUFFFFNFF",
            ),
            (
                "create a super admin (mass assignment)",
                "POST",
                "/users".into(),
                json!({"username": format!("mass{p}"), "email": format!("mass{p}@example.com"), "password": MEMBER_PW, "org": "Acme", "role": "Viewer", "super_admin": true}),
                "UUFFFFAAF",
            ),
        ];
        for (what, method, path, body, want) in attempts {
            let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
            let status = client
                .http
                .request(m, format!("{}/api/v1{path}", app.base))
                .json(&body)
                .send()
                .await
                .expect("request")
                .status()
                .as_u16();
            let want = want.as_bytes()[i] as char;
            if class(status) != want {
                failures.push(format!("{persona:>9}  escalation: {what:<37} expected {want}, got {status}"));
            }
        }
        for case in CASES {
            let status = if let Some(name) = case.route.strip_prefix("rpc ") {
                let (victim2, joiner2, leaver2, source) =
                    (format!("victim2{p}"), format!("joiner2{p}"), format!("leaver2{p}"), format!("source{p}"));
                let (role2, org2, acme_s, viewer_s) =
                    (role_ids[1].to_string(), org_ids[1].to_string(), acme.to_string(), viewer_role.to_string());
                let (new_user, new_email, copy_user, copy_email) = (
                    format!("rpcnew{p}"),
                    format!("rpcnew{p}@example.com"),
                    format!("copy{p}"),
                    format!("copy{p}@example.com"),
                );
                let (new_role, new_org, own_email) =
                    (format!("rpcrole{p}"), format!("rpcorg{p}"), format!("{me}@example.com"));
                let victim2_email = format!("{victim2}@example.com");
                let rpc_db = format!("rpcdb{p}");
                let (rpc_cred, victim) = (format!("rpccred{p}"), format!("victim{p}"));
                let form: Vec<(&str, &str)> = match name {
                    "switch_org" => vec![("org", &acme_s)],
                    "sign_up" => vec![
                        ("username", "late"),
                        ("full_name", ""),
                        ("email", "late@example.com"),
                        ("password", MEMBER_PW),
                    ],
                    "sign_in" => vec![("login", "nobody"), ("password", "wrong password here")],
                    "get_user" | "user_memberships" | "account_holders" => vec![("username", &victim2)],
                    "set_account_holder" => vec![("username", &victim2), ("holder", "member_user"), ("level", "view")],
                    "create_user" => vec![
                        ("username", &new_user),
                        ("full_name", ""),
                        ("email", &new_email),
                        ("password", MEMBER_PW),
                        ("status", "active"),
                    ],
                    "copy_user" => vec![
                        ("source", &source),
                        ("username", &copy_user),
                        ("full_name", ""),
                        ("email", &copy_email),
                        ("password", MEMBER_PW),
                    ],
                    "update_user" => vec![
                        ("username", &victim2),
                        ("full_name", "Renamed"),
                        ("email", &victim2_email),
                        ("status", "active"),
                    ],
                    "delete_user" => vec![("username", &victim2)],
                    "update_profile" => vec![("full_name", "Me"), ("email", &own_email)],
                    "change_password" => vec![
                        ("current_password", "not my password at all"),
                        ("new_password", "another long passphrase"),
                    ],
                    "create_role" => vec![("name", &new_role)],
                    "set_role_ability" => vec![("role", &role2), ("ability", "run-backups"), ("on", "true")],
                    "rename_role" => vec![("role", &role2), ("name", &new_role)],
                    "delete_role" => vec![("role", &role2)],
                    "create_org" => vec![("name", &new_org)],
                    "rename_org" => vec![("org", &org2), ("name", &new_org)],
                    "delete_org" => vec![("org", &org2)],
                    "set_member" => vec![("username", &joiner2), ("role", &viewer_s), ("add", "true")],
                    "remove_member" => vec![("username", &leaver2)],
                    "member_candidates" => vec![("search", "victim")],
                    "save_database" => {
                        vec![("database[db_id]", &rpc_db), ("database[engine]", "sqlite"), ("database[name]", "x.db")]
                    }
                    "delete_database" | "test_database" | "list_credentials" | "credential_names" => {
                        vec![("db_id", &rpc_db)]
                    }
                    "save_credential" => vec![
                        ("db_id", &rpc_db),
                        ("fields[name]", &rpc_cred),
                        ("fields[login]", "l"),
                        ("fields[password]", "p"),
                    ],
                    "credential_uses" | "test_credential" | "delete_credential" => {
                        vec![("db_id", &rpc_db), ("name", &rpc_cred)]
                    }
                    "list_mappings" => vec![("username", &victim)],
                    "save_mapping" => {
                        vec![("username", &victim), ("mapping[db_id]", &rpc_db), ("mapping[kind]", "none")]
                    }
                    "test_mapping" | "delete_mapping" => vec![("username", &victim), ("db_id", &rpc_db)],
                    // (an empty file: refused as such once the caller may import)
                    "import_accounts" => vec![("format", "jsonl"), ("text", ""), ("dry_run", "true")],
                    "explain_access" => vec![("user", "member_user"), ("org", ""), ("ability", "run-backups")],
                    "reauthenticate" => vec![("password", "wrong password here")],
                    "confirm_totp" | "sign_in_code" => vec![("code", "000000")],
                    "reset_two_factor" => vec![("username", &victim2), ("reason", "matrix test")],
                    "unlock_user" | "sign_in_locked" => vec![("username", &victim2)],
                    "set_two_factor_requirement" => vec![("required", "false")],
                    "create_token" => vec![("name", "rpc token"), ("kind", "pat")],
                    "revoke_token" | "delete_passkey" => vec![("id", "999999")],
                    "rename_passkey" => vec![("id", "999999"), ("name", "renamed")],
                    "begin_passkey_registration" => vec![("name", "laptop")],
                    "save_sso_provider" => vec![
                        ("provider[slug]", "matrix"),
                        ("provider[display_name]", "Matrix"),
                        ("provider[issuer]", "not a url"),
                        ("provider[client_id]", "c"),
                    ],
                    "delete_sso_provider" | "begin_sso_link" | "unlink_sso" => vec![("slug", "nope")],
                    // (no redirect URI: refused as such once the caller may register one)
                    "save_client" => vec![("client_id", "matrix"), ("name", "Matrix"), ("create", "true")],
                    "rotate_client_secret" | "delete_client" => vec![("client_id", "nope")],
                    // (no URL: refused as such once the caller may add a hook)
                    "save_webhook" => vec![("name", "Matrix"), ("url", ""), ("kind_user", "on")],
                    "rotate_webhook_secret" | "resume_webhook" | "delete_webhook" | "webhook_deliveries" => {
                        vec![("id", "999999")]
                    }
                    // (an id that is not one: refused as such once the caller may add a connection)
                    "create_scim_connection" => vec![("id", "Not An Id"), ("name", "Matrix"), ("orgs", "Acme")],
                    "new_scim_token" | "delete_scim_connection" | "list_scim_mappings" => vec![("id", "nope")],
                    "create_scim_mapping" => vec![("id", "nope"), ("group", "g"), ("org", "Acme"), ("role", "Viewer")],
                    "delete_scim_mapping" => vec![("id", "nope"), ("mapping", "1")],
                    "create_invitation" => vec![("email", "matrix@example.com"), ("role", "1")],
                    "resend_invitation" | "revoke_invitation" => vec![("id", "999999")],
                    "preview_invitation" | "join_invitation" => vec![("token", "nope")],
                    "begin_invitation_passkey" => vec![("token", "nope"), ("username", "matrix"), ("full_name", "M")],
                    "finish_invitation_passkey" => {
                        vec![("token", "nope"), ("ceremony", "not-a-ceremony"), ("credential", "{}")]
                    }
                    "accept_invitation" => {
                        vec![
                            ("token", "nope"),
                            ("username", "matrix"),
                            ("full_name", "M"),
                            ("password", "matrix passphrase 1"),
                        ]
                    }
                    "ask_consent" => vec![("query", "client_id=nope&response_type=code&scope=openid")],
                    "finish_passkey_registration" | "finish_passkey_sign_in" | "finish_passkey_second_factor" => {
                        vec![("ceremony", "not-a-ceremony"), ("credential", "{}")]
                    }
                    _ => vec![],
                };
                client.rpc(name, &form).await.0
            } else {
                let (method, path) = case.route.split_once(' ').expect("method and path");
                // Members and databases routes act in Acme; organization routes on this
                // persona's own org.
                let (target, org) = if path.contains("/users/{username}/databases") {
                    (format!("source{p}"), "Acme".to_string())
                } else if path.contains("/members") || path.contains("/databases") || path.contains("/invitations") {
                    (format!("leaver{p}"), "Acme".to_string())
                } else {
                    (format!("victim{p}"), org_ids[0].to_string())
                };
                let mut path = path
                    .replace("{username}", &target)
                    .replace("{org}", &org)
                    .replace("/tokens/{id}", "/tokens/999999")
                    .replace("/webhooks/{id}", "/webhooks/999999")
                    .replace("/invitations/{id}", "/invitations/999999")
                    .replace("/scim/connections/{id}", "/scim/connections/nope")
                    .replace("{mapping}", "999999")
                    .replace("{plan}", "nope")
                    .replace("{id}", &role_ids[0].to_string())
                    .replace("{ability}", "run-backups")
                    .replace("{holder}", "member_user")
                    .replace("{slug}", "nope")
                    .replace("{client_id}", "nope")
                    .replace("{db}", &format!("db{p}"))
                    .replace("{name}", &format!("cred{p}"));
                if path == "/import" {
                    path = "/import?format=jsonl&dry_run=true".to_string();
                }
                if path == "/export" {
                    path = "/export?format=jsonl".to_string();
                }
                if path == "/check" || path == "/explain" {
                    path = format!("{path}?user=member_user&org=Acme&ability=run-backups");
                }
                let body = match case.route {
                    "POST /users" => {
                        json!({"username": format!("apinew{p}"), "email": format!("apinew{p}@example.com"), "password": MEMBER_PW, "org": "Acme", "role": "Viewer"})
                    }
                    "PATCH /users/{username}" => json!({"full_name": "Changed"}),
                    "POST /roles" => json!({"name": format!("apirole{p}")}),
                    "PATCH /roles/{id}" => json!({"name": format!("apirenamed{p}")}),
                    "POST /orgs" => json!({"name": format!("apiorg{p}")}),
                    "PATCH /orgs/{org}" => json!({"name": format!("apiorgrenamed{p}")}),
                    "POST /orgs/{org}/members" => json!({"username": format!("joiner{p}"), "role": viewer_role}),
                    "PATCH /orgs/{org}/members/{username}" => json!({"role": viewer_role}),
                    "POST /orgs/{org}/databases" => {
                        json!({"db_id": format!("apidb{p}"), "engine": "postgres", "host": "db.example", "name": "n", "tls": "require"})
                    }
                    "PATCH /orgs/{org}/databases/{db}" => json!({"description": "changed"}),
                    "POST /orgs/{org}/databases/{db}/credentials" => {
                        json!({"name": format!("apicred{p}"), "login": "l", "password": "p"})
                    }
                    "PATCH /orgs/{org}/databases/{db}/credentials/{name}" => json!({"login": "l2"}),
                    "PUT /orgs/{org}/users/{username}/databases/{db}" => json!({"kind": "none"}),
                    "PUT /users/{username}/access/{holder}" => json!({"level": "view"}),
                    "POST /tokens" => json!({"name": "api token", "kind": "api_key"}),
                    "POST /users/{username}/two-factor/reset" => json!({"reason": "matrix test"}),
                    "POST /clients" => json!({"client_id": "matrix", "name": "Matrix"}),
                    "PUT /clients/{client_id}" => {
                        json!({"client_id": "x", "name": "Matrix", "redirect_uris": ["https://m.example.com/cb"]})
                    }
                    // (an ftp URL: refused as such once the caller may add a hook)
                    "POST /webhooks" | "PUT /webhooks/{id}" => {
                        json!({"name": "Matrix", "url": "ftp://hooks.example.com/", "kinds": ["role"]})
                    }
                    "POST /scim/connections" => json!({"id": "Not An Id", "name": "Matrix", "orgs": ["Acme"]}),
                    "POST /scim/connections/{id}/mappings" => json!({"group": "g", "org": "Acme", "role": "Viewer"}),
                    "POST /orgs/{org}/invitations" => {
                        json!({"email": format!("inv{p}@example.com"), "role": viewer_role})
                    }
                    "POST /bulk" => {
                        json!({"action": "disable", "selection": {"kind": "usernames", "usernames": [format!("victim{p}")]}})
                    }
                    "POST /sso/providers" | "PUT /sso/providers/{slug}" => {
                        json!({"slug": "matrix", "display_name": "Matrix", "issuer": "not a url", "client_id": "c"})
                    }
                    _ => Value::Null,
                };
                let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
                let mut req = client.http.request(m, format!("{}/api/v1{path}", app.base));
                if !body.is_null() {
                    req = req.json(&body);
                }
                let r = req.send().await.expect("request");
                // (the event stream never ends: the status is the answer)
                r.status().as_u16()
            };
            let want = case.want.as_bytes()[i] as char;
            if class(status) != want {
                failures.push(format!("{persona:>9}  {:<44} expected {want}, got {status}", case.route));
            }
        }
    }
    assert!(failures.is_empty(), "authorization matrix mismatches:\n{}", failures.join("\n"));
}

#[tokio::test]
async fn member_search_matches_a_full_filter_beyond_the_scan_window() {
    use app::backend::store::UserInsert;
    use app::domain::ids::{OrgId, RoleId};
    use app::domain::users::UserStatus;
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let (acme, _) = two_orgs(&admin).await;
    let mut tx = app.backend.store.begin().await.expect("tx");
    let mut all = Vec::new();
    for i in 0..3500 {
        let username = format!("m{i:05}");
        // Every 700th member is "rare": only they match "quartz". Every third account is in
        // Beta only, so the organization filter matters too.
        let full = if i % 700 == 699 { format!("Quartz Person {i}") } else { format!("Filler Person {i}") };
        let id = tx
            .insert_user(&UserInsert {
                username: username.clone(),
                full_name: full.clone(),
                email: format!("m{i}@example.com"),
                password_hash: None,
                status: UserStatus::Active,
                super_admin: false,
                created_at: 0,
            })
            .await
            .expect("insert");
        let org = if i % 3 == 0 { OrgId(acme + 1) } else { OrgId(acme) };
        tx.add_membership(org, id, RoleId(1), 0).await.expect("member");
        if org.0 == acme {
            all.push((username, full.to_lowercase(), format!("m{i}@example.com")));
        }
    }
    tx.commit().await.expect("commit");
    app.backend.load_access().await.expect("reload");
    for term in ["quartz", "filler person 20", "person", "m1999@", "qu"] {
        let mut expected: Vec<String> = all
            .iter()
            .filter(|(u, n, e)| u.contains(term) || n.contains(term) || e.contains(term))
            .map(|(u, _, _)| u.clone())
            .collect();
        expected.sort();
        let mut got = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut url = format!("/api/v1/orgs/Acme/members?search={}", term.replace(' ', "%20"));
            if let Some(a) = &after {
                url.push_str(&format!("&after={a}"));
            }
            let (s, page) = admin.get(&url).await;
            assert_eq!(s, 200, "{term}: {page}");
            got.extend(
                page["members"]
                    .as_array()
                    .expect("members")
                    .iter()
                    .filter_map(|m| m["username"].as_str().map(str::to_string)),
            );
            match page["next"].as_str() {
                Some(n) => after = Some(n.to_string()),
                None => break,
            }
        }
        assert_eq!(got, expected, "search {term:?}");
    }
}

#[tokio::test]
async fn the_patched_model_equals_a_fresh_load_after_every_kind_of_change() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let fresh = || async { app.backend.store.load_access().await.expect("load").1 };
    let same = |what: &'static str| {
        let app = &app;
        async move {
            let patched = app.backend.access.read().clone();
            let (_, loaded) = app.backend.store.load_access().await.expect("load");
            assert_eq!(patched, loaded, "after {what}");
        }
    };
    same("start").await;
    let (_, beta) = two_orgs(&admin).await;
    same("creating organizations").await;
    app.member(&admin, "ann", "Acme", "Operator").await;
    let viewer = role_id(&admin, "Viewer").await;
    admin
        .post_json("/api/v1/orgs/Beta/members", &json!({"username": "ann", "role": viewer, "extras": ["use-adminer"]}))
        .await;
    same("adding members with extras").await;
    admin.http.put(format!("{}/api/v1/roles/{viewer}/abilities/view-queries", app.base)).send().await.expect("put");
    admin.patch_json(&format!("/api/v1/roles/{viewer}"), &json!({"name": "Reader"})).await;
    let (_, r) = admin.post_json("/api/v1/roles", &json!({"name": "Temp", "abilities": ["manage-agents"]})).await;
    same("role toggles, renames and creation").await;
    admin.delete(&format!("/api/v1/roles/{}", r["id"])).await;
    same("deleting an unused role").await;
    admin.patch_json("/api/v1/orgs/Acme/members/ann", &json!({"role": viewer})).await;
    admin.patch_json("/api/v1/users/ann", &json!({"status": "disabled"})).await;
    same("changing a member and disabling the account").await;
    admin.patch_json("/api/v1/orgs/Acme", &json!({"name": "Acme Corp"})).await;
    admin.delete(&format!("/api/v1/orgs/{beta}")).await;
    same("renaming and deleting organizations").await;
    app.member(&admin, "bo", "Acme Corp", "Operator").await;
    let operator = role_id(&admin, "Operator").await;
    admin.delete(&format!("/api/v1/roles/{operator}?replacement={viewer}")).await;
    same("deleting a role in use").await;
    admin.delete("/api/v1/orgs/Acme%20Corp/members/bo").await;
    admin.delete("/api/v1/users/ann").await;
    same("removing a member and deleting an account").await;
    assert!(fresh().await.user_id("ann").is_none());
}
