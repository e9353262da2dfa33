//! Database definitions through the JSON API (issue 12): defining, changing and deleting
//! them, who may, the write-only default password (sealed at rest, bound to its row), pages,
//! and concurrent creation of one id.
use crate::common;

use app::backend::services::databases::open_default_password;
use app::domain::ids::OrgId;
use common::{code, Client, TestApp};
use serde_json::{json, Value};

const PASSWORD: &str = "s3cret-db-pass-word";

async fn org(admin: &Client, name: &str) -> OrgId {
    let (s, o) = admin.post_json("/api/v1/orgs", &json!({ "name": name })).await;
    assert_eq!(s, 201, "{o}");
    OrgId(o["id"].as_i64().expect("id"))
}

fn chinook() -> Value {
    json!({
        "db_id": "Chinook", "engine": "postgres", "host": "db.example.com", "port": 5433, "name": "chinook",
        "tls": "verify-full", "description": "Music store", "default_login": "reader", "default_password": PASSWORD,
    })
}

fn fields(v: &Value) -> Vec<String> {
    let mut f: Vec<String> = v["error"]["fields"]
        .as_array()
        .map(|a| a.iter().filter_map(|f| f["field"].as_str().map(String::from)).collect())
        .unwrap_or_default();
    f.sort();
    f
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    app.count(sql).await
}

#[tokio::test]
async fn an_admin_defines_changes_and_deletes_databases() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let acme = org(&admin, "Acme").await;

    let (s, d) = admin.post_json("/api/v1/orgs/Acme/databases", &chinook()).await;
    assert_eq!(s, 201, "{d}");
    assert_eq!(
        (&d["db_id"], &d["engine"], &d["port"], &d["tls"], &d["default_login"], &d["default_password_set"]),
        (&json!("Chinook"), &json!("postgres"), &json!(5433), &json!("verify-full"), &json!("reader"), &json!(true))
    );
    assert!(!d.to_string().contains(PASSWORD), "the password is write-only: {d}");
    // Ids are unique per organization, case-insensitively.
    let (s, e) = admin
        .post_json(
            "/api/v1/orgs/Acme/databases",
            &json!({"db_id": "CHINOOK", "engine": "mysql", "host": "h", "name": "n", "tls": "require"}),
        )
        .await;
    assert_eq!((s, fields(&e)), (409, vec!["db_id".to_string()]), "{e}");
    // Every problem at once, each on its field.
    let (s, e) = admin
        .post_json(
            "/api/v1/orgs/Acme/databases",
            &json!({"db_id": "1bad", "engine": "oracle", "description": "x".repeat(501)}),
        )
        .await;
    assert_eq!(
        (s, fields(&e)),
        (422, vec!["db_id".into(), "description".into(), "engine".into(), "tls".into()]),
        "{e}"
    );
    let (s, e) = admin
        .post_json("/api/v1/orgs/Acme/databases", &json!({"db_id": "pg", "engine": "postgres", "host": "postgres://db:5432", "port": 0, "name": "", "tls": "sometimes"}))
        .await;
    assert_eq!((s, fields(&e)), (422, vec!["host".into(), "name".into(), "port".into(), "tls".into()]), "{e}");
    // SQLite files stay inside the configured folder.
    for path in ["../secrets.db", "/etc/passwd", "a/../../x.db"] {
        let (s, e) = admin
            .post_json("/api/v1/orgs/Acme/databases", &json!({"db_id": "local", "engine": "sqlite", "name": path}))
            .await;
        assert_eq!((s, fields(&e)), (422, vec!["name".to_string()]), "{path}: {e}");
    }
    let (s, e) = admin
        .post_json(
            "/api/v1/orgs/Acme/databases",
            &json!({"db_id": "x", "engine": "sqlite", "name": "x.db", "extra": 1}),
        )
        .await;
    assert_eq!(s, 422, "unknown fields are refused: {e}");
    let (s, l) = admin
        .post_json(
            "/api/v1/orgs/Acme/databases",
            &json!({"db_id": "local", "engine": "sqlite", "name": "music/chinook.db"}),
        )
        .await;
    assert_eq!(s, 201, "{l}");
    assert_eq!(
        (&l["port"], &l["tls"], &l["host"], &l["default_password_set"]),
        (&Value::Null, &json!("disable"), &json!(""), &json!(false))
    );

    let (s, page) = admin.get("/api/v1/orgs/Acme/databases").await;
    assert_eq!(s, 200, "{page}");
    let ids: Vec<&str> =
        page["databases"].as_array().expect("list").iter().filter_map(|d| d["db_id"].as_str()).collect();
    assert_eq!((ids, &page["next"], &page["org"]["name"]), (vec!["Chinook", "local"], &Value::Null, &json!("Acme")));
    let (s, one) = admin.get("/api/v1/orgs/Acme/databases/CHINOOK").await;
    assert_eq!((s, &one["name"]), (200, &json!("chinook")), "{one}");

    // The password is sealed at rest, bound to its row.
    let plain_rows = match app.kind {
        common::db::Kind::Sqlite => "SELECT count(*) FROM databases WHERE instr(default_password, 's3cret') > 0",
        common::db::Kind::Postgres => {
            "SELECT count(*) FROM databases WHERE position('s3cret'::bytea in default_password) > 0"
        }
    };
    assert_eq!(count(&app, plain_rows).await, 0);
    let stored = app.backend.store.find_database(acme, "chinook").await.expect("read").expect("chinook");
    assert_eq!(open_default_password(&app.backend, &stored).expect("opens").as_deref(), Some(PASSWORD));
    app.exec("UPDATE databases SET default_password = (SELECT default_password FROM databases WHERE db_id = 'Chinook') WHERE db_id = 'local'").await;
    let moved = app.backend.store.find_database(acme, "local").await.expect("read").expect("local");
    assert!(moved.default_password.is_some());
    assert!(open_default_password(&app.backend, &moved).is_err(), "a sealed value moved to another row does not open");

    // A change keeps what it does not name, the password included.
    let (s, d) =
        admin.patch_json("/api/v1/orgs/Acme/databases/chinook", &json!({"port": "6543", "description": "Moved"})).await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(
        (&d["port"], &d["host"], &d["default_password_set"], &d["description"]),
        (&json!(6543), &json!("db.example.com"), &json!(true), &json!("Moved"))
    );
    let stored = app.backend.store.find_database(acme, "chinook").await.expect("read").expect("chinook");
    assert_eq!(open_default_password(&app.backend, &stored).expect("opens").as_deref(), Some(PASSWORD));
    let (s, e) = admin.patch_json("/api/v1/orgs/Acme/databases/chinook", &json!({"port": 70000})).await;
    assert_eq!((s, fields(&e)), (422, vec!["port".to_string()]), "{e}");
    let (s, e) = admin.patch_json("/api/v1/orgs/Acme/databases/chinook", &json!({"db_id": "Local"})).await;
    assert_eq!((s, fields(&e)), (409, vec!["db_id".to_string()]), "{e}");
    // No default login, no password.
    let (s, d) = admin.patch_json("/api/v1/orgs/Acme/databases/chinook", &json!({"default_login": ""})).await;
    assert_eq!((s, &d["default_login"], &d["default_password_set"]), (200, &Value::Null, &json!(false)), "{d}");

    // Audited, without the password.
    let (s, events) = admin.get("/api/v1/audit?event=database.").await;
    assert_eq!(s, 200, "{events}");
    let names: Vec<&str> =
        events["events"].as_array().expect("events").iter().filter_map(|e| e["event"].as_str()).collect();
    assert_eq!(names, ["database.updated", "database.updated", "database.created", "database.created"], "{events}");
    assert!(!events.to_string().contains(PASSWORD));

    let (s, _) = admin.delete("/api/v1/orgs/Acme/databases/Chinook").await;
    assert_eq!(s, 204);
    let (s, e) = admin.get("/api/v1/orgs/Acme/databases/Chinook").await;
    assert_eq!((s, code(&e)), (404, "not_found".to_string()), "{e}");
    let (s, _) = admin.delete("/api/v1/orgs/Acme/databases/Chinook").await;
    assert_eq!(s, 404);
    let (s, _) = admin.get("/api/v1/orgs/Nowhere/databases").await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn who_may_see_add_and_change_definitions() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    org(&admin, "Acme").await;
    org(&admin, "Beta").await;
    // A role that may add definitions but not change them.
    let (s, role) = admin.post_json("/api/v1/roles", &json!({"name": "Definer"})).await;
    assert_eq!(s, 201, "{role}");
    let role = role["id"].as_i64().expect("id");
    let (s, r) = admin.put_json(&format!("/api/v1/roles/{role}/abilities/create-databases"), &json!({})).await;
    assert!(s < 300, "{r}");
    let definer = app.member(&admin, "dora", "Acme", "Definer").await;
    let viewer = app.member(&admin, "vic", "Acme", "Viewer").await;
    let member = app.member(&admin, "mel", "Acme", "Member").await;
    let outsider = app.member(&admin, "otto", "Beta", "Admin").await;

    let (s, d) = definer.post_json("/api/v1/orgs/Acme/databases", &chinook()).await;
    assert_eq!(s, 201, "{d}");
    let (s, _) = definer.get("/api/v1/orgs/Acme/databases").await;
    assert_eq!(s, 200, "what one may create, one may see");
    let (s, e) = definer.patch_json("/api/v1/orgs/Acme/databases/Chinook", &json!({"host": "elsewhere.example"})).await;
    assert_eq!((s, code(&e)), (403, "missing_ability".to_string()), "{e}");
    let (s, _) = definer.delete("/api/v1/orgs/Acme/databases/Chinook").await;
    assert_eq!(s, 403);
    let (s, _) = viewer.get("/api/v1/orgs/Acme/databases").await;
    assert_eq!(s, 403, "Viewers hold no database ability");
    let (s, _) = viewer
        .post_json("/api/v1/orgs/Acme/databases", &json!({"db_id": "v", "engine": "sqlite", "name": "v.db"}))
        .await;
    assert_eq!(s, 403);
    // An organization one does not belong to is not there.
    let (s, _) = outsider.get("/api/v1/orgs/Acme/databases").await;
    assert_eq!(s, 404);
    let (s, _) = outsider.patch_json("/api/v1/orgs/Acme/databases/Chinook", &json!({"host": "evil.example"})).await;
    assert_eq!(s, 404);
    // Members hold manage-database-servers by default.
    let (s, d) = member.patch_json("/api/v1/orgs/Acme/databases/Chinook", &json!({"host": "db2.example.com"})).await;
    assert_eq!((s, &d["host"]), (200, &json!("db2.example.com")), "{d}");
    let (s, _) = member.delete("/api/v1/orgs/Acme/databases/Chinook").await;
    assert_eq!(s, 204);
    // Removing the ability takes effect on the next request.
    let (s, _) = admin.delete(&format!("/api/v1/roles/{role}/abilities/create-databases")).await;
    assert!(s < 300);
    let (s, _) = definer.post_json("/api/v1/orgs/Acme/databases", &chinook()).await;
    assert_eq!(s, 403);
}

#[tokio::test]
async fn definitions_come_in_pages() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    org(&admin, "Acme").await;
    for i in 0..53 {
        let (s, d) = admin
            .post_json(
                "/api/v1/orgs/Acme/databases",
                &json!({"db_id": format!("db{i:02}"), "engine": "sqlite", "name": format!("f{i}.db")}),
            )
            .await;
        assert_eq!(s, 201, "{d}");
    }
    let (_, first) = admin.get("/api/v1/orgs/Acme/databases").await;
    let list = first["databases"].as_array().expect("list");
    assert_eq!((list.len(), &list[0]["db_id"], &first["next"]), (50, &json!("db00"), &json!("db49")));
    let (_, rest) = admin.get("/api/v1/orgs/Acme/databases?after=db49").await;
    let ids: Vec<&str> =
        rest["databases"].as_array().expect("list").iter().filter_map(|d| d["db_id"].as_str()).collect();
    assert_eq!((ids, &rest["next"]), (vec!["db50", "db51", "db52"], &Value::Null));
}

/// Eight admins define the same id at once: one gets it, the others a conflict, and one row
/// is stored.
#[tokio::test]
async fn one_id_defined_at_once_is_stored_once() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    org(&admin, "Acme").await;
    let calls = (0..8).map(|i| {
        let admin = &admin;
        async move {
            admin
                .post_json("/api/v1/orgs/Acme/databases", &json!({"db_id": if i % 2 == 0 { "Same" } else { "SAME" }, "engine": "sqlite", "name": format!("{i}.db")}))
                .await
                .0
        }
    });
    let mut statuses = futures::future::join_all(calls).await;
    statuses.sort();
    assert_eq!(statuses, [201, 409, 409, 409, 409, 409, 409, 409]);
    assert_eq!(app.count("SELECT count(*) FROM databases").await, 1);
}
