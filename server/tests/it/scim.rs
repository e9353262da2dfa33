//! SCIM 2.0 provisioning (issue 14): the request sequences Okta and Microsoft Entra ID are
//! documented to send, replayed against a real server, asserting the Roster state they leave
//! (not only the status codes); filters and paging; a connection never reaching another's
//! accounts, a local account or a super admin; deactivation ending sessions on every
//! instance; parallel creates of one userName; discovery and SCIM-shaped errors.
use crate::common;

use app::backend::services::scim::{self as svc, ConnectionInput};
use app::backend::Ctx;
use common::{Client, TestApp, MEMBER_PW};
use serde_json::{json, Value};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// A connection on `app` (through the service, as the CLI does) and a client with its token.
async fn connection(app: &TestApp, slug: &str, adopt: bool, delete_mode: &str) -> Client {
    let input = ConnectionInput {
        id: slug.into(),
        name: format!("Provider {slug}"),
        orgs: vec!["Default".into()],
        default_org: None,
        default_role: Some("Member".into()),
        delete_mode: Some(delete_mode.into()),
        adopt_existing: adopt,
    };
    let made = svc::create_connection(&app.backend, &Ctx::cli(), input).await.expect("create connection");
    let (c, token) = (made.connection, made.token);
    assert_eq!(c.service_account, format!("scim-{slug}"));
    assert!(token.starts_with("rscim_"), "{token}");
    app.with_token(&token)
}

fn users(slug: &str) -> String {
    format!("/scim/v2/{slug}/Users")
}

/// What Roster holds for `username`: (full name, email, status, role in Default).
async fn state(app: &TestApp, username: &str) -> Option<(String, String, String, Option<String>)> {
    let u = app.backend.store.user_by_username(&username.to_lowercase()).await.expect("read")?;
    let role = app.backend.access.read().role_in(u.id, app::domain::ids::DEFAULT_ORG);
    Some((u.full_name, u.email, u.status.as_str().to_string(), role))
}

fn okta_user() -> Value {
    json!({
        "schemas": [USER],
        "userName": "test.user@okta.local",
        "name": { "givenName": "Test", "familyName": "User" },
        "emails": [{ "primary": true, "value": "test.user@okta.local", "type": "work" }],
        "displayName": "Test User",
        "locale": "en-US",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "groups": [],
        "password": "1mz050nq",
        "active": true
    })
}

#[tokio::test]
async fn oktas_sequence_provisions_updates_and_deactivates_an_account() {
    let app = TestApp::start().await;
    let okta = connection(&app, "okta", false, "disable").await;
    // Okta's Test Connection, then the existence check before a create.
    let (s, list) = okta.get(&format!("{}?count=2&startIndex=1", users("okta"))).await;
    assert_eq!((s, &list["totalResults"], &list["startIndex"]), (200, &json!(0), &json!(1)), "{list}");
    assert_eq!(list["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:ListResponse");
    let filter = "?filter=userName%20eq%20%22test.user%40okta.local%22&startIndex=1&count=100";
    let (s, list) = okta.get(&format!("{}{filter}", users("okta"))).await;
    assert_eq!((s, &list["totalResults"]), (200, &json!(0)));

    let r = okta.http.post(format!("{}{}", app.base, users("okta"))).json(&okta_user()).send().await.expect("post");
    assert_eq!(r.status().as_u16(), 201);
    assert_eq!(r.headers()["content-type"], "application/scim+json");
    let location = r.headers()["location"].to_str().expect("location").to_string();
    let created: Value = r.json().await.expect("json");
    let id = created["id"].as_str().expect("id").to_string();
    assert!(location.ends_with(&format!("/scim/v2/okta/Users/{id}")), "{location}");
    // Values come back exactly as sent; the password is neither stored nor echoed.
    for key in ["userName", "name", "emails", "displayName", "locale", "externalId"] {
        assert_eq!(created[key], okta_user()[key], "{key}");
    }
    assert_eq!(created["active"], true);
    assert!(created.get("password").is_none() && !created.to_string().contains("1mz050nq"));
    assert_eq!(
        state(&app, "test.user@okta.local").await,
        Some(("Test User".into(), "test.user@okta.local".into(), "active".into(), Some("Member".into())))
    );
    // The account has no password: it signs in through single sign-on or a passkey.
    let u = app.backend.store.user_by_username("test.user@okta.local").await.expect("read").expect("user");
    assert!(u.password_hash.is_none());

    // The same create again: 409 uniqueness, nothing changed.
    let (s, e) = okta.post_json(&users("okta"), &okta_user()).await;
    assert_eq!((s, e["scimType"].as_str(), e["status"].as_str()), (409, Some("uniqueness"), Some("409")), "{e}");
    let (s, list) = okta.get(&format!("{}{filter}", users("okta"))).await;
    assert_eq!((s, &list["totalResults"], &list["Resources"][0]["id"]), (200, &json!(1), &json!(id)));

    // A profile change: GET, then PUT of the whole object.
    let (s, mut full) = okta.get(&format!("{}/{id}", users("okta"))).await;
    assert_eq!(s, 200);
    full["name"]["familyName"] = json!("Renamed");
    full["displayName"] = json!("Test Renamed");
    let (s, put) = okta.put_json(&format!("{}/{id}", users("okta")), &full).await;
    assert_eq!((s, &put["name"]["familyName"]), (200, &json!("Renamed")), "{put}");
    assert_eq!(state(&app, "test.user@okta.local").await.map(|s| s.0), Some("Test Renamed".into()));

    // Deactivation: a PATCH without a path; the account is disabled and stays readable.
    let body = json!({"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": false}}]});
    let (s, patched) = okta.patch_json(&format!("{}/{id}", users("okta")), &body).await;
    assert_eq!((s, &patched["active"]), (200, &json!(false)), "{patched}");
    assert_eq!(state(&app, "test.user@okta.local").await.map(|s| s.2), Some("disabled".into()));
    let (s, got) = okta.get(&format!("{}/{id}", users("okta"))).await;
    assert_eq!((s, &got["active"], &got["displayName"]), (200, &json!(false), &json!("Test Renamed")));

    // The audit trail names the connection's service account as the actor (the placement for
    // new people is a membership of its own).
    let actors = app
        .texts("SELECT actor || ' ' || event FROM audit_events WHERE target = 'test.user@okta.local' ORDER BY id")
        .await;
    assert_eq!(
        actors,
        vec!["scim-okta user.created", "scim-okta member.added", "scim-okta user.updated", "scim-okta user.disabled"]
    );
}

#[tokio::test]
async fn entras_sequence_with_pascal_case_ops_string_booleans_and_value_paths() {
    let app = TestApp::start().await;
    let entra = connection(&app, "entra", false, "disable").await;
    let (s, list) = entra.get(&format!("{}?filter=userName+eq+%22non-existent+user%22", users("entra"))).await;
    assert_eq!((s, &list["totalResults"]), (200, &json!(0)), "{list}");
    let body = json!({
        "schemas": [USER, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
        "active": true,
        "emails": [{"primary": true, "type": "work", "value": "Test_User_fd0ea19b@testuser.com"}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
        "roles": [],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "1234", "department": "Data"}
    });
    let (s, created) = entra.post_json(&users("entra"), &body).await;
    assert_eq!(s, 201, "{created}");
    let id = created["id"].as_str().expect("id").to_string();
    assert_eq!(created["emails"], body["emails"], "the email's case is kept");
    let ext = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    assert_eq!(created[ext], body[ext]);
    let username = "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1";
    assert_eq!(state(&app, username).await.map(|s| s.1), Some("Test_User_fd0ea19b@testuser.com".into()));

    // Entra's matching: by externalId, and by the work email.
    for f in [
        "externalId eq \"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef\"",
        "emails[type eq \"work\"].value eq \"test_user_fd0ea19b@testuser.com\"",
        "userName eq \"test_user_AB6490EE-1e48-479e-a20b-2d77186b5dd1\" and active eq true",
    ] {
        let q = url_encode(f);
        let (s, list) = entra.get(&format!("{}?filter={q}", users("entra"))).await;
        assert_eq!((s, &list["totalResults"]), (200, &json!(1)), "{f}: {list}");
    }

    // Without the compliance flag: PascalCase ops, "False" as a string, value paths.
    let ops = json!({"schemas": [PATCH], "Operations": [
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
        {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
        {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", "value": "99"},
    ]});
    let (s, patched) = entra.patch_json(&format!("{}/{id}", users("entra")), &ops).await;
    assert_eq!(s, 200, "{patched}");
    assert_eq!(patched["emails"][0]["value"], "updatedEmail@microsoft.com");
    assert_eq!(patched[ext]["employeeNumber"], "99");
    assert_eq!(state(&app, username).await.map(|s| s.1), Some("updatedEmail@microsoft.com".into()));

    // With the flag: a replace without a path whose keys are dotted and URN-qualified.
    let ops = json!({"schemas": [PATCH], "Operations": [{"op": "replace", "value": {
        "displayName": "Flagged Name",
        "name.givenName": "Flagged",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "Finance"
    }}]});
    let (s, patched) = entra.patch_json(&format!("{}/{id}", users("entra")), &ops).await;
    assert_eq!(s, 200, "{patched}");
    assert_eq!((&patched["name"]["givenName"], &patched[ext]["department"]), (&json!("Flagged"), &json!("Finance")));
    assert_eq!(state(&app, username).await.map(|s| s.0), Some("Flagged Name".into()));

    // Disable with a string boolean, in PascalCase.
    let ops = json!({"schemas": [PATCH], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]});
    let (s, patched) = entra.patch_json(&format!("{}/{id}", users("entra")), &ops).await;
    assert_eq!((s, &patched["active"]), (200, &json!(false)));
    assert_eq!(state(&app, username).await.map(|s| s.2), Some("disabled".into()));
    let (s, list) = entra.get(&format!("{}?filter=active+eq+false", users("entra"))).await;
    assert_eq!((s, &list["totalResults"]), (200, &json!(1)));

    // Hard delete (disable mode): the account is disabled and leaves the connection.
    let (s, _) = entra.delete(&format!("{}/{id}", users("entra"))).await;
    assert_eq!(s, 204);
    let (s, e) = entra.get(&format!("{}/{id}", users("entra"))).await;
    assert_eq!((s, e["status"].as_str()), (404, Some("404")), "{e}");
    assert_eq!(state(&app, username).await.map(|s| s.2), Some("disabled".into()), "the account stays, disabled");
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn filters_paging_projection_and_their_errors() {
    let app = TestApp::start().await;
    let c = connection(&app, "idp", false, "disable").await;
    for n in 0..5 {
        let body = json!({"userName": format!("person{n}@corp.example"), "externalId": format!("ext-{n}"),
            "emails": [{"value": format!("Person{n}@Corp.example"), "primary": true}], "active": n != 3});
        let (s, b) = c.post_json(&users("idp"), &body).await;
        assert_eq!(s, 201, "{b}");
    }
    let count = |filter: &str| {
        let c = c.clone();
        let url = format!("{}?filter={}", users("idp"), url_encode(filter));
        async move {
            let (s, list) = c.get(&url).await;
            assert_eq!(s, 200, "{list}");
            list["totalResults"].as_i64().expect("total")
        }
    };
    assert_eq!(count("userName sw \"PERSON\"").await, 5);
    assert_eq!(count("userName co \"son2@\"").await, 1);
    assert_eq!(count("userName ew \".example\" and not (externalId eq \"ext-0\")").await, 4);
    assert_eq!(count("externalId eq \"ext-1\" or externalId eq \"ext-2\"").await, 2);
    assert_eq!(count("externalId eq \"EXT-1\"").await, 0, "externalId is case-exact");
    assert_eq!(count("active eq false").await, 1);
    assert_eq!(count("emails.value eq \"person4@corp.example\"").await, 1);
    assert_eq!(count("externalId pr").await, 5);
    assert_eq!(count("userName eq \"100%_\"").await, 0, "LIKE wildcards are plain text");
    assert_eq!(count("userName co \"%\"").await, 0);

    // Paging in a stable order: startIndex is 1-based, count caps the page, count=0 counts.
    let (_, p) = c.get(&format!("{}?startIndex=2&count=2", users("idp"))).await;
    assert_eq!((&p["totalResults"], &p["itemsPerPage"], &p["startIndex"]), (&json!(5), &json!(2), &json!(2)));
    assert_eq!(p["Resources"][0]["userName"], "person1@corp.example");
    let (_, p) = c.get(&format!("{}?count=0", users("idp"))).await;
    assert_eq!((&p["totalResults"], &p["Resources"]), (&json!(5), &json!([])));
    // attributes / excludedAttributes.
    let (_, p) = c.get(&format!("{}?attributes=userName&count=1", users("idp"))).await;
    let keys: Vec<&String> = p["Resources"][0].as_object().expect("object").keys().collect();
    assert_eq!(keys, vec!["id", "schemas", "userName"]);
    let (_, p) = c.get(&format!("{}?excludedAttributes=emails,meta&count=1", users("idp"))).await;
    assert!(p["Resources"][0].get("emails").is_none() && p["Resources"][0].get("userName").is_some());
    // POST /.search takes the same in a body.
    let (s, p) = c
        .post_json(
            &format!("{}/.search", users("idp")),
            &json!({"filter": "externalId eq \"ext-4\"", "attributes": ["userName"]}),
        )
        .await;
    assert_eq!(
        (s, &p["totalResults"], &p["Resources"][0]["userName"]),
        (200, &json!(1), &json!("person4@corp.example"))
    );

    // Bad filters: 400 invalidFilter with the reason, never a 500.
    for bad in ["userName eq", "userName zz \"x\"", "(userName eq \"x\"", "displayName eq \"x\"", "active co \"t\""] {
        let (s, e) = c.get(&format!("{}?filter={}", users("idp"), url_encode(bad))).await;
        assert_eq!((s, e["scimType"].as_str()), (400, Some("invalidFilter")), "{bad}: {e}");
        assert!(e["detail"].as_str().is_some_and(|d| d.len() > 10), "{e}");
    }
    let (s, e) = c.get(&format!("{}?count=lots", users("idp"))).await;
    assert_eq!((s, e["scimType"].as_str()), (400, Some("invalidValue")));

    // `not` over an attribute some accounts lack includes them.
    let (s, _) = c.post_json(&users("idp"), &json!({"userName": "no-external@corp.example"})).await;
    assert_eq!(s, 201);
    assert_eq!(count("not (externalId pr)").await, 1);
    assert_eq!(count("not (externalId eq \"ext-1\")").await, 5);
}

#[tokio::test]
async fn a_connection_reaches_only_its_own_accounts_and_never_a_super_admin() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let a = connection(&app, "alpha", false, "disable").await;
    let b = connection(&app, "beta", false, "disable").await;
    let (s, made) = a.post_json(&users("alpha"), &json!({"userName": "ann"})).await;
    assert_eq!(s, 201, "{made}");
    let id = made["id"].as_str().expect("id").to_string();
    // Beta sees none of alpha's accounts, by id or by list, and cannot change them.
    let (s, _) = b.get(&format!("{}/{id}", users("beta"))).await;
    assert_eq!(s, 404);
    let (_, list) = b.get(&users("beta")).await;
    assert_eq!(list["totalResults"], 0);
    let body = json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "active", "value": false}]});
    let (s, _) = b.patch_json(&format!("{}/{id}", users("beta")), &body).await;
    assert_eq!(s, 404);
    // Alpha's token on beta's address is refused like a wrong one.
    let (s, e) = a.get(&users("beta")).await;
    assert_eq!((s, e["status"].as_str()), (401, Some("401")), "{e}");
    for token in ["", "rscim_nothing", "Basic abc"] {
        let (s, _) = app.with_token(token).get(&users("alpha")).await;
        assert_eq!(s, 401, "{token:?}");
    }
    // A local account is not the connection's to read or change, and a create with its
    // username is a conflict (adoption is off).
    let admin_id = app.backend.store.user_by_username("admin").await.expect("read").expect("admin").id.0;
    let (s, _) = a.get(&format!("{}/{admin_id}", users("alpha"))).await;
    assert_eq!(s, 404);
    let (s, _) = a.delete(&format!("{}/{admin_id}", users("alpha"))).await;
    assert_eq!(s, 404);
    let (s, e) = a.post_json(&users("alpha"), &json!({"userName": "admin"})).await;
    assert_eq!((s, e["scimType"].as_str()), (409, Some("uniqueness")), "{e}");
    // An account it provisioned and someone then made a super admin is out of its reach.
    let (s, b2) = admin.patch_json("/api/v1/users/ann", &json!({"super_admin": true})).await;
    if s == 403 {
        // (promoting needs sudo mode)
        let (s, b2) = admin
            .reauth_then(|c| async move { c.patch_json("/api/v1/users/ann", &json!({"super_admin": true})).await })
            .await;
        assert_eq!(s, 200, "{b2}");
    } else {
        assert_eq!(s, 200, "{b2}");
    }
    let (s, e) = a.patch_json(&format!("{}/{id}", users("alpha")), &body).await;
    assert_eq!((s, e["status"].as_str()), (403, Some("403")), "{e}");
    let (s, _) = a.delete(&format!("{}/{id}", users("alpha"))).await;
    assert_eq!(s, 403);
    assert_eq!(state(&app, "ann").await.map(|s| s.2), Some("active".into()));
}

#[tokio::test]
async fn adoption_takes_over_a_local_account_only_when_allowed_and_never_a_super_admin() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    app.member(&admin, "local", "Default", "Viewer").await;
    let c = connection(&app, "adopter", true, "delete").await;
    let (s, made) = c.post_json(&users("adopter"), &json!({"userName": "LOCAL", "displayName": "Local Person"})).await;
    assert_eq!(s, 201, "{made}");
    assert_eq!(state(&app, "local").await.map(|s| (s.0, s.3)), Some(("Local Person".into(), Some("Viewer".into()))));
    let (s, e) = c.post_json(&users("adopter"), &json!({"userName": "admin"})).await;
    assert_eq!((s, e["scimType"].as_str()), (409, Some("uniqueness")), "a super admin is never adopted: {e}");
    // Delete mode "delete": the account goes.
    let id = made["id"].as_str().expect("id");
    let (s, _) = c.delete(&format!("{}/{id}", users("adopter"))).await;
    assert_eq!(s, 204);
    assert!(state(&app, "local").await.is_none());
}

#[tokio::test]
async fn deactivation_ends_the_persons_sessions_on_every_instance() {
    let app = TestApp::start().await;
    let other = app.second_instance().await;
    let c = connection(&app, "hr", false, "disable").await;
    let (s, made) =
        c.post_json(&users("hr"), &json!({"userName": "sam", "emails": [{"value": "sam@example.com"}]})).await;
    assert_eq!(s, 201, "{made}");
    // (a password set by hand, so Sam can sign in on the second instance)
    let hash = app.backend.hasher.hash(MEMBER_PW.to_string()).await.expect("hash");
    let sam = app.backend.store.user_by_username("sam").await.expect("read").expect("sam");
    app.exec(&format!("UPDATE users SET password_hash = '{hash}' WHERE id = {}", sam.id.0)).await;
    let browser = other.browser();
    let (s, b) = browser.rpc("sign_in", &[("login", "sam"), ("password", MEMBER_PW)]).await;
    assert_eq!(s, 200, "{b}");
    let (s, _) = browser.get("/api/v1/me").await;
    assert_eq!(s, 200);
    let id = made["id"].as_str().expect("id");
    let body = json!({"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": "false"}}]});
    let (s, _) = c.patch_json(&format!("{}/{id}", users("hr")), &body).await;
    assert_eq!(s, 200);
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM sessions WHERE user_id = {}", sam.id.0)).await, 0);
    // The other instance refuses the session at once with PostgreSQL's change feed; on SQLite
    // (no feed between processes) once its look-up cache lapses (`auth_cache::TTL_MS`).
    if app.kind == common::db::Kind::Sqlite {
        app.clock.advance_ms(app::backend::auth_cache::TTL_MS);
    }
    let t = std::time::Instant::now();
    loop {
        let (s, _) = browser.get("/api/v1/me").await;
        if s == 401 {
            break;
        }
        assert!(t.elapsed() < std::time::Duration::from_secs(2), "the session on the other instance is still accepted");
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
}

#[tokio::test]
async fn parallel_creates_of_one_user_name_give_one_account() {
    let app = TestApp::start().await;
    let other = app.second_instance().await;
    let c = connection(&app, "burst", false, "disable").await;
    let token = c.http.clone();
    let mut tasks = Vec::new();
    for n in 0..12 {
        let base = if n % 2 == 0 { app.base.clone() } else { other.base.clone() };
        let http = token.clone();
        tasks.push(tokio::spawn(async move {
            let r = http
                .post(format!("{base}/scim/v2/burst/Users"))
                .json(&json!({"userName": "Dup.User@corp.example", "externalId": format!("x{n}")}))
                .send()
                .await
                .expect("post");
            r.status().as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.expect("task"));
    }
    statuses.sort();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 201 || *s == 409), "{statuses:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM users WHERE username_key = 'dup.user@corp.example'").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM scim_users").await, 1);
}

#[tokio::test]
async fn discovery_documents_and_scim_shaped_errors() {
    let app = TestApp::start().await;
    let c = connection(&app, "disco", false, "disable").await;
    let (s, sp) = c.get("/scim/v2/disco/ServiceProviderConfig").await;
    assert_eq!((s, &sp["patch"]["supported"], &sp["bulk"]["supported"]), (200, &json!(true), &json!(false)));
    assert_eq!(sp["filter"]["maxResults"], 200);
    let (s, rt) = c.get("/scim/v2/disco/ResourceTypes").await;
    assert_eq!((s, &rt["Resources"][0]["endpoint"]), (200, &json!("/Users")));
    assert_eq!(rt["Resources"][1]["endpoint"], "/Groups");
    let (s, _) = c.get("/scim/v2/disco/ResourceTypes/User").await;
    assert_eq!(s, 200);
    let (s, _) = c.get("/scim/v2/disco/ResourceTypes/Nope").await;
    assert_eq!(s, 404);
    let (s, schemas) = c.get("/scim/v2/disco/Schemas").await;
    assert_eq!((s, &schemas["totalResults"]), (200, &json!(3)));
    let (s, user) = c.get(&format!("/scim/v2/disco/Schemas/{USER}")).await;
    assert_eq!(s, 200);
    let names: Vec<&str> =
        user["attributes"].as_array().expect("attrs").iter().filter_map(|a| a["name"].as_str()).collect();
    assert!(names.contains(&"userName") && !names.contains(&"phoneNumbers"), "{names:?}");
    // Unknown addresses and methods, and bodies that are not JSON, answer in SCIM's shape.
    for (method, path) in
        [("GET", "/scim/v2/disco/Nothing"), ("GET", "/scim/v2/disco/Users/1/extra"), ("DELETE", "/scim/v2/disco/Users")]
    {
        let r =
            c.http.request(method.parse().expect("method"), format!("{}{path}", app.base)).send().await.expect("send");
        let status = r.status().as_u16();
        assert!(status == 404 || status == 405, "{method} {path}: {status}");
        assert_eq!(r.headers()["content-type"], "application/scim+json", "{method} {path}");
        let e: Value = r.json().await.expect("json");
        assert_eq!(e["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error");
    }
    let r = c.http.post(format!("{}/scim/v2/disco/Users", app.base)).body("{not json").send().await.expect("send");
    assert_eq!(r.status().as_u16(), 400);
    let e: Value = r.json().await.expect("json");
    assert_eq!(e["scimType"], "invalidSyntax");
    let (s, e) = c.post_json("/scim/v2/disco/Users", &json!({"userName": " "})).await;
    assert_eq!((s, e["scimType"].as_str()), (400, Some("invalidValue")), "{e}");
    // A userName Roster refuses as a username is kept as sent; the account gets a derived one.
    let (s, made) = c.post_json("/scim/v2/disco/Users", &json!({"userName": "Has Space"})).await;
    assert_eq!((s, &made["userName"]), (201, &json!("Has Space")), "{made}");
    assert!(state(&app, "Has_Space").await.is_some());
    let (s, made) = c.post_json("/scim/v2/disco/Users", &json!({"userName": "has+space"})).await;
    assert_eq!(s, 201, "{made}");
    assert!(state(&app, "has_space-2").await.is_some(), "numbered past the taken one");
    let (s, e) =
        c.post_json("/scim/v2/disco/Users", &json!({"userName": "x", "emails": [{"value": "not an email"}]})).await;
    assert_eq!((s, e["scimType"].as_str()), (400, Some("invalidValue")), "{e}");
}

/// Every SCIM route in the authorization matrix: a browser without a session, a script with a
/// Roster API key and another connection's token are all refused (401) everywhere; the
/// connection's own token is let through.
#[tokio::test]
async fn every_scim_route_refuses_callers_without_the_connections_token() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let (s, made) = admin.post_json("/api/v1/tokens", &json!({"name": "script", "kind": "pat"})).await;
    assert_eq!(s, 201, "{made}");
    let api_key = made["token"].as_str().expect("token").to_string();
    let own = connection(&app, "mine", false, "disable").await;
    let theirs = connection(&app, "theirs", false, "disable").await;
    let (_, u) = own.post_json(&users("mine"), &json!({"userName": "matrix"})).await;
    let id = u["id"].as_str().expect("id").to_string();
    let (_, g) = own.post_json("/scim/v2/mine/Groups", &json!({"displayName": "Matrix"})).await;
    let gid = g["id"].as_str().expect("group id").to_string();
    // (method, path, status with the connection's own token)
    let cases: Vec<(&str, String, u16)> = vec![
        ("GET", "/scim/v2/mine/ServiceProviderConfig".into(), 200),
        ("GET", "/scim/v2/mine/ResourceTypes".into(), 200),
        ("GET", "/scim/v2/mine/ResourceTypes/User".into(), 200),
        ("GET", "/scim/v2/mine/Schemas".into(), 200),
        ("GET", format!("/scim/v2/mine/Schemas/{USER}"), 200),
        ("GET", "/scim/v2/mine/Users".into(), 200),
        ("POST", "/scim/v2/mine/Users".into(), 400),
        ("POST", "/scim/v2/mine/Users/.search".into(), 200),
        ("GET", format!("/scim/v2/mine/Users/{id}"), 200),
        ("PUT", format!("/scim/v2/mine/Users/{id}"), 400),
        ("PATCH", format!("/scim/v2/mine/Users/{id}"), 400),
        ("DELETE", format!("/scim/v2/mine/Users/{id}"), 204),
        ("POST", "/scim/v2/mine/.search".into(), 501),
        ("GET", "/scim/v2/mine/Groups".into(), 200),
        ("POST", "/scim/v2/mine/Groups".into(), 400),
        ("POST", "/scim/v2/mine/Groups/.search".into(), 200),
        ("GET", format!("/scim/v2/mine/Groups/{gid}"), 200),
        ("PUT", format!("/scim/v2/mine/Groups/{gid}"), 400),
        ("PATCH", format!("/scim/v2/mine/Groups/{gid}"), 400),
        ("DELETE", format!("/scim/v2/mine/Groups/{gid}"), 204),
    ];
    let mut listed: Vec<(String, String)> = server::scim::ROUTES
        .iter()
        .flat_map(|(p, ms)| ms.iter().map(move |m| (m.to_string(), p.to_string())))
        .collect();
    listed.sort();
    let mut covered: Vec<(String, String)> = cases
        .iter()
        .map(|(m, p, _)| {
            let t = p
                .replace("/mine/", "/{connection}/")
                .replace(&format!("/Users/{id}"), "/Users/{id}")
                .replace(&format!("/Groups/{gid}"), "/Groups/{id}");
            let t = t
                .replace("/ResourceTypes/User", "/ResourceTypes/{id}")
                .replace(&format!("/Schemas/{USER}"), "/Schemas/{id}");
            (m.to_string(), t)
        })
        .collect();
    covered.sort();
    assert_eq!(listed, covered, "every SCIM route has a case");
    let browser = app.browser();
    for (method, path, want) in &cases {
        let url = format!("{}{path}", app.base);
        for (who, http) in [
            ("browser", browser.http.clone()),
            ("api key", app.with_token(&api_key).http),
            ("another connection", theirs.http.clone()),
            ("the connection", own.http.clone()),
        ] {
            let r = http.request(method.parse().expect("method"), &url).json(&json!({})).send().await.expect("send");
            let status = r.status().as_u16();
            match who {
                "the connection" => assert_eq!(status, *want, "{who}: {method} {path}"),
                // (another connection's token counts as a failed guess: after a few, the
                // address is told to wait)
                "another connection" => assert!(status == 401 || status == 429, "{who}: {method} {path}: {status}"),
                _ => assert_eq!(status, 401, "{who}: {method} {path}"),
            }
        }
    }
}

#[tokio::test]
async fn connections_are_managed_by_super_admins_and_deleting_one_keeps_its_accounts() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let c = connection(&app, "temp", false, "disable").await;
    let (s, _) = c.post_json(&users("temp"), &json!({"userName": "kept"})).await;
    assert_eq!(s, 201);
    // A bad id, an unknown organization or role, a duplicate: clear field errors.
    let bad = |slug: &str, org: &str, role: &str| ConnectionInput {
        id: slug.into(),
        name: "X".into(),
        orgs: vec![org.into()],
        default_role: Some(role.into()),
        ..Default::default()
    };
    for (input, field) in [
        (bad("Bad Slug", "Default", "Member"), "id"),
        (bad("ok", "Nowhere", "Member"), "orgs"),
        (bad("ok", "Default", "Nobody"), "default_role"),
        (bad("temp", "Default", "Member"), "id"),
    ] {
        let e = svc::create_connection(&app.backend, &Ctx::cli(), input).await.expect_err("refused");
        assert!(e.field(field).is_some(), "{field}: {e:?}");
    }
    // Its service account cannot be deleted on its own: the connection would act as no one.
    let (s, e) = admin.delete("/api/v1/users/scim-temp").await;
    assert_eq!(s, 409, "{e}");
    assert!(e.to_string().contains("service account of the SCIM connection temp"), "{e}");
    let list = svc::list_connections(&app.backend, &Ctx::cli()).await.expect("list");
    assert_eq!(list.iter().map(|c| (c.id.as_str(), c.accounts, c.tokens)).collect::<Vec<_>>(), vec![("temp", 1, 1)]);
    let token = svc::add_token(&app.backend, &Ctx::cli(), "temp").await.expect("token").token;
    let (s, _) = app.with_token(&token).get(&users("temp")).await;
    assert_eq!(s, 200);
    svc::delete_connection(&app.backend, &Ctx::cli(), "temp").await.expect("delete");
    let (s, _) = c.get(&users("temp")).await;
    assert_eq!(s, 401, "its tokens went with it");
    assert_eq!(state(&app, "kept").await.map(|s| s.2), Some("active".into()), "its accounts stay");
    assert!(state(&app, "scim-temp").await.is_none(), "its service account went");
}

/// Every SCIM route is in the OpenAPI document, at the site's root, tagged `scim`, and none is
/// taken for an `/api/v1` route.
#[test]
fn the_scim_routes_are_in_the_openapi_document_at_the_root() {
    let doc = serde_json::to_value(server::rest::openapi()).expect("json");
    let api_routes = server::rest::routes();
    for (path, methods) in server::scim::ROUTES {
        let item = &doc["paths"][*path];
        assert_eq!(item["servers"][0]["url"], "/", "{path}: {item}");
        for m in *methods {
            let op = &item[m.to_lowercase()];
            assert!(op["summary"].as_str().is_some_and(|s| !s.is_empty()), "{m} {path} undocumented");
            assert_eq!(op["tags"][0], "scim", "{m} {path}");
        }
        assert!(api_routes.iter().all(|(_, p)| p != path), "{path} is not under /api/v1");
    }
}

#[tokio::test]
async fn the_command_line_creates_lists_adds_tokens_to_and_deletes_connections() {
    let app = TestApp::start().await;
    let db = app.db_url.clone();
    let (code, out, err) = common::roster(
        &db,
        &["scim", "create", "okta", "--name", "Okta", "--org", "Default", "--default-role", "Member"],
    );
    assert_eq!(code, 0, "{err}");
    let token = out.trim().to_string();
    assert!(token.starts_with("rscim_") && token.len() == 49, "the token alone on standard output: {out}");
    assert!(err.contains("/scim/v2/okta") && err.contains("shown only this once"), "{err}");
    let (s, _) = app.with_token(&token).get(&users("okta")).await;
    assert_eq!(s, 200);
    let (code, out, _) = common::roster(&db, &["scim", "list"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("okta") && out.contains("Member") && out.contains("1 token(s)") && !out.contains("rscim_"),
        "{out}"
    );
    let (code, out, _) = common::roster(&db, &["scim", "token", "okta"]);
    assert_eq!(code, 0);
    let second = out.trim().to_string();
    assert!(second.starts_with("rscim_") && second != token);
    let (s, _) = app.with_token(&second).get(&users("okta")).await;
    assert_eq!(s, 200);
    // Mistakes are named, with a non-zero exit code.
    let (code, _, err) = common::roster(&db, &["scim", "create", "Bad Id", "--name", "X", "--org", "Default"]);
    assert_ne!(code, 0);
    assert!(err.contains("lower-case letters"), "{err}");
    let (code, _, err) = common::roster(&db, &["scim", "create", "x", "--name", "X", "--org", "Nowhere"]);
    assert_ne!(code, 0);
    assert!(err.contains("no organization named 'Nowhere'"), "{err}");
    let (code, _, err) = common::roster(&db, &["scim", "delete", "nothing"]);
    assert_ne!(code, 0);
    assert!(err.to_lowercase().contains("not found"), "{err}");
    let (code, out, err) = common::roster(&db, &["scim", "delete", "okta"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("deleted"), "{out}");
    let (s, _) = app.with_token(&token).get(&users("okta")).await;
    assert_eq!(s, 401);
}

/// Okta's Group Push: a group created empty, members added and removed by filter, the rename
/// that carries the read-only id (on every membership update), a full replacement, unlink.
#[tokio::test]
async fn oktas_group_push_keeps_the_members_it_sends() {
    let app = TestApp::start().await;
    app.admin().await;
    let okta = connection(&app, "okta", false, "disable").await;
    let mut ids = Vec::new();
    for n in 0..3 {
        let (s, u) = okta.post_json(&users("okta"), &json!({"userName": format!("member{n}@okta.local")})).await;
        assert_eq!(s, 201, "{u}");
        ids.push(u["id"].as_str().expect("id").to_string());
    }
    let (s, g) = okta
        .post_json("/scim/v2/okta/Groups", &json!({"schemas": [GROUP], "displayName": "Engineering", "members": []}))
        .await;
    assert_eq!((s, &g["members"]), (201, &json!([])), "{g}");
    let gid = g["id"].as_str().expect("id").to_string();
    let at = format!("/scim/v2/okta/Groups/{gid}");
    let patch = |ops: Value| json!({"schemas": [PATCH], "Operations": ops});
    let (s, _) = okta
        .patch_json(&at, &patch(json!([
            {"op": "replace", "value": {"id": gid, "displayName": "Engineering"}},
            {"op": "add", "path": "members", "value": [{"value": ids[0], "display": "member0"}, {"value": ids[1], "display": "member1"}]}
        ])))
        .await;
    assert_eq!(s, 204);
    assert_eq!(members(&app, &gid).await, vec![ids[0].clone(), ids[1].clone()]);
    // The same add again is a no-op; a removal by filter removes that one member.
    let (s, _) =
        okta.patch_json(&at, &patch(json!([{"op": "add", "path": "members", "value": [{"value": ids[0]}]}]))).await;
    assert_eq!(s, 204);
    let remove = format!("members[value eq \"{}\"]", ids[0]);
    let (s, _) = okta.patch_json(&at, &patch(json!([{"op": "remove", "path": remove}]))).await;
    assert_eq!(s, 204);
    assert_eq!(members(&app, &gid).await, vec![ids[1].clone()]);
    // Rename (with the id Okta always sends along) and a full replacement of the members.
    let (s, _) = okta
        .patch_json(
            &at,
            &patch(json!([
                {"op": "replace", "value": {"id": gid, "displayName": "Platform Engineering"}},
                {"op": "replace", "path": "members", "value": [{"value": ids[2]}, {"value": ids[0]}]}
            ])),
        )
        .await;
    assert_eq!(s, 204);
    let (s, got) = okta.get(&at).await;
    assert_eq!((s, &got["displayName"]), (200, &json!("Platform Engineering")));
    assert_eq!(members(&app, &gid).await, vec![ids[0].clone(), ids[2].clone()]);
    assert_eq!(got["members"][0]["$ref"].as_str().map(|r| r.ends_with(&format!("/Users/{}", ids[0]))), Some(true));
    // A name taken by another group is a conflict; an account it did not provision is refused.
    let (s, _) = okta.post_json("/scim/v2/okta/Groups", &json!({"displayName": "Sales"})).await;
    assert_eq!(s, 201);
    let (s, e) =
        okta.patch_json(&at, &patch(json!([{"op": "replace", "path": "displayName", "value": "SALES"}]))).await;
    assert_eq!((s, e["scimType"].as_str()), (409, Some("uniqueness")), "{e}");
    let admin_id = app.backend.store.user_by_username("admin").await.expect("read").expect("admin").id.0;
    let (s, e) = okta
        .patch_json(&at, &patch(json!([{"op": "add", "path": "members", "value": [{"value": admin_id.to_string()}]}])))
        .await;
    assert_eq!((s, e["scimType"].as_str()), (400, Some("invalidValue")), "{e}");
    assert_eq!(members(&app, &gid).await, vec![ids[0].clone(), ids[2].clone()], "a refused PATCH changes nothing");
    // Unlink: the group goes, the accounts stay.
    let (s, _) = okta.delete(&at).await;
    assert_eq!(s, 204);
    let (s, _) = okta.get(&at).await;
    assert_eq!(s, 404);
    assert!(state(&app, "member0@okta.local").await.is_some());
    let events = app.texts("SELECT event FROM audit_events WHERE event LIKE 'scim.group%' ORDER BY id").await;
    assert!(events.starts_with(&["scim.group_created".to_string(), "scim.group_updated".to_string()]), "{events:?}");
    assert_eq!(events.last().map(String::as_str), Some("scim.group_deleted"));
}

/// Entra ID: groups matched by displayName without their members, PascalCase member adds with
/// `$ref: null`, and the legacy removal with a value list that removes those, not all.
#[tokio::test]
async fn entras_group_requests_including_the_legacy_member_removal() {
    let app = TestApp::start().await;
    let entra = connection(&app, "entra", false, "disable").await;
    let mut ids = Vec::new();
    for n in 0..3 {
        let (_, u) = entra.post_json(&users("entra"), &json!({"userName": format!("e{n}@contoso.example")})).await;
        ids.push(u["id"].as_str().expect("id").to_string());
    }
    let (s, g) = entra.post_json("/scim/v2/entra/Groups", &json!({"schemas": [GROUP], "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159", "displayName": "Group1DisplayName", "meta": {"resourceType": "Group"}})).await;
    assert_eq!(s, 201, "{g}");
    let gid = g["id"].as_str().expect("id").to_string();
    let at = format!("/scim/v2/entra/Groups/{gid}");
    let (s, list) = entra
        .get("/scim/v2/entra/Groups?excludedAttributes=members&filter=displayName+eq+%22Group1DisplayName%22")
        .await;
    assert_eq!((s, &list["totalResults"]), (200, &json!(1)), "{list}");
    assert!(list["Resources"][0].get("members").is_none(), "members left out: {list}");
    let add = json!({"schemas": [PATCH], "Operations": [{"op": "Add", "path": "members",
        "value": [{"$ref": null, "value": ids[0]}, {"$ref": null, "value": ids[1]}, {"$ref": null, "value": ids[2]}]}]});
    let (s, _) = entra.patch_json(&at, &add).await;
    assert_eq!(s, 204);
    assert_eq!(members(&app, &gid).await.len(), 3);
    // members[value eq ...] filters find the group.
    let (_, found) = entra.get(&format!("/scim/v2/entra/Groups?filter=members+eq+%22{}%22", ids[1])).await;
    assert_eq!(found["totalResults"], 1, "{found}");
    let legacy =
        json!({"schemas": [PATCH], "Operations": [{"op": "Remove", "path": "members", "value": [{"value": ids[1]}]}]});
    let (s, _) = entra.patch_json(&at, &legacy).await;
    assert_eq!(s, 204);
    assert_eq!(members(&app, &gid).await, vec![ids[0].clone(), ids[2].clone()], "only the listed member went");
    // Removing one who is not a member is a no-op; a bare remove of members clears them.
    let (s, _) = entra.patch_json(&at, &legacy).await;
    assert_eq!(s, 204);
    let clear = json!({"schemas": [PATCH], "Operations": [{"op": "remove", "path": "members"}]});
    let (s, _) = entra.patch_json(&at, &clear).await;
    assert_eq!(s, 204);
    assert!(members(&app, &gid).await.is_empty());
    // Another connection does not see the group.
    let other = connection(&app, "other", false, "disable").await;
    let (s, _) = other.get(&format!("/scim/v2/other/Groups/{gid}")).await;
    assert_eq!(s, 404);
}

/// Fifty PATCHes adding one member each, at once, over two instances: fifty members.
#[tokio::test]
async fn fifty_parallel_member_additions_give_fifty_members() {
    let app = TestApp::start().await;
    let other = app.second_instance().await;
    let c = connection(&app, "burst", false, "disable").await;
    let mut ids = Vec::new();
    for n in 0..50 {
        let (s, u) = c.post_json(&users("burst"), &json!({"userName": format!("p{n}@corp.example")})).await;
        assert_eq!(s, 201);
        ids.push(u["id"].as_str().expect("id").to_string());
    }
    let (_, g) = c.post_json("/scim/v2/burst/Groups", &json!({"displayName": "Everyone"})).await;
    let gid = g["id"].as_str().expect("id").to_string();
    let mut tasks = Vec::new();
    for (n, id) in ids.iter().enumerate() {
        let base = if n % 2 == 0 { app.base.clone() } else { other.base.clone() };
        let http = c.http.clone();
        let body =
            json!({"schemas": [PATCH], "Operations": [{"op": "add", "path": "members", "value": [{"value": id}]}]});
        let gid = gid.clone();
        tasks.push(tokio::spawn(async move {
            http.patch(format!("{base}/scim/v2/burst/Groups/{gid}"))
                .json(&body)
                .send()
                .await
                .expect("patch")
                .status()
                .as_u16()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.expect("task"), 204);
    }
    assert_eq!(members(&app, &gid).await.len(), 50);
    let (_, got) = c.get(&format!("/scim/v2/burst/Groups/{gid}")).await;
    assert_eq!(got["members"].as_array().map(Vec::len), Some(50));
}

const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

/// A group's member ids, as stored, in id order.
async fn members(app: &TestApp, gid: &str) -> Vec<String> {
    let mut ids: Vec<i64> = app
        .texts(&format!("SELECT CAST(user_id AS TEXT) FROM scim_group_members WHERE group_id = {gid}"))
        .await
        .iter()
        .filter_map(|s| s.parse().ok())
        .collect();
    ids.sort();
    ids.into_iter().map(|i| i.to_string()).collect()
}

/// Managing connections through the console or the API needs a recent sign-in (they create
/// accounts and grant their role), like webhooks and applications.
#[tokio::test]
async fn connections_are_managed_through_the_api_in_sudo_mode() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let body = json!({"id": "api", "name": "API", "orgs": ["Default"], "default_role": "Member"});
    app.clock.advance_ms(app.backend.config.sudo_ms + 1);
    let (s, e) = admin.post_json("/api/v1/scim/connections", &body).await;
    assert_eq!((s, common::code(&e)), (403, "reauth_required".to_string()), "{e}");
    let (s, made) = admin.reauth_then(|c| async move { c.post_json("/api/v1/scim/connections", &body).await }).await;
    assert_eq!(s, 201, "{made}");
    let token = made["token"].as_str().expect("token").to_string();
    assert_eq!(made["connection"]["base_url"], "/scim/v2/api");
    assert_eq!(made["connection"]["default_role"], "Member");
    let (s, list) = admin.get("/api/v1/scim/connections").await;
    assert_eq!((s, &list[0]["id"], &list[0]["tokens"]), (200, &json!("api"), &json!(1)));
    assert!(!list.to_string().contains(&token), "never shown again");
    let (s, more) = admin.post_json("/api/v1/scim/connections/api/tokens", &json!({})).await;
    assert_eq!((s, &more["connection"]["tokens"]), (201, &json!(2)), "{more}");
    let (s, e) =
        admin.post_json("/api/v1/scim/connections", &json!({"id": "api", "name": "Again", "orgs": ["Default"]})).await;
    assert_eq!(s, 409, "{e}");
    let (s, _) = admin.delete("/api/v1/scim/connections/api").await;
    assert_eq!(s, 204);
    let (s, _) = app.with_token(&token).get("/scim/v2/api/Users").await;
    assert_eq!(s, 401);
}
