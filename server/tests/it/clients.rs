//! Applications (OAuth clients, issue 13): registered, edited, given new secrets and deleted by
//! super admins through the API and the CLI; a secret is answered once and kept only as a
//! hash; every change audited.
use crate::common;

use common::{code, TestApp};
use serde_json::{json, Value};

fn dbackup() -> Value {
    json!({
        "client_id": "dbackup",
        "name": "DBackup",
        "redirect_uris": ["https://dbackup.example.com/api/auth/callback"],
        "post_logout_redirect_uris": ["https://dbackup.example.com/"],
        "orgs": ["Default"],
        "scopes": ["openid", "profile", "email", "roster", "offline_access"],
        "consent": false,
    })
}

fn fields(v: &Value) -> Vec<String> {
    v["error"]["fields"]
        .as_array()
        .map(|a| a.iter().filter_map(|f| f["field"].as_str().map(String::from)).collect())
        .unwrap_or_default()
}

/// How many rows of `table` hold `text` anywhere in their text (a secret in the clear).
async fn rows_holding(app: &TestApp, table: &str, columns: &[&str], text: &str) -> i64 {
    let any: Vec<String> = columns.iter().map(|c| format!("COALESCE({c}, '') LIKE '%{text}%'")).collect();
    app.count(&format!("SELECT COUNT(*) FROM {table} WHERE {}", any.join(" OR "))).await
}

#[tokio::test]
async fn super_admins_register_edit_rotate_and_delete_applications() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let (s, made) = admin.post_json("/api/v1/clients", &dbackup()).await;
    assert_eq!(s, 201, "{made}");
    let secret = made["client_secret"].as_str().unwrap_or_default().to_string();
    assert_eq!(secret.len(), 43, "256 random bits, base64url: {made}");
    let c = &made["client"];
    assert_eq!(
        (c["kind"].clone(), c["has_secret"].clone(), c["consent"].clone()),
        (json!("confidential"), json!(true), json!(false))
    );
    assert_eq!(c["orgs"], json!(["Default"]));
    assert_eq!(c["access_token_seconds"], json!(600));
    // Never read back, never stored or audited in the clear.
    let (_, list) = admin.get("/api/v1/clients").await;
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert!(!list.to_string().contains(&secret), "{list}");
    let (_, one) = admin.get("/api/v1/clients/dbackup").await;
    assert!(!one.to_string().contains(&secret) && one.get("client_secret").is_none(), "{one}");
    assert_eq!(rows_holding(&app, "audit_events", &["before", "after"], &secret).await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM oauth_clients WHERE secret_hash IS NOT NULL").await, 1);

    // The same client ID again: a conflict on that field.
    let (s, e) = admin.post_json("/api/v1/clients", &dbackup()).await;
    assert_eq!((s, fields(&e)), (409, vec!["client_id".to_string()]), "{e}");

    // Turned public, it loses its secret; turned back, it gets a new one, answered once.
    let mut public = dbackup();
    public["kind"] = json!("public");
    let (s, p) = admin.put_json("/api/v1/clients/dbackup", &public).await;
    assert_eq!(
        (s, p["client"]["has_secret"].clone(), p["client_secret"].clone()),
        (200, json!(false), Value::Null),
        "{p}"
    );
    let (s, e) = admin.post_json("/api/v1/clients/dbackup/secret", &json!({})).await;
    assert_eq!((s, fields(&e)), (422, vec!["client_id".to_string()]), "a public client has no secret: {e}");
    let (s, back) = admin.put_json("/api/v1/clients/dbackup", &dbackup()).await;
    assert_eq!(s, 200, "{back}");
    let second = back["client_secret"].as_str().unwrap_or_default().to_string();
    assert!(second.len() == 43 && second != secret, "{back}");

    // A new secret: the old one is gone (its hash replaced).
    let hash_before = app.int_bytes_rows("SELECT id, secret_hash FROM oauth_clients").await;
    let (s, rotated) = admin.post_json("/api/v1/clients/dbackup/secret", &json!({})).await;
    assert_eq!(s, 200, "{rotated}");
    let third = rotated["client_secret"].as_str().unwrap_or_default().to_string();
    assert!(third.len() == 43 && third != second);
    assert_ne!(app.int_bytes_rows("SELECT id, secret_hash FROM oauth_clients").await, hash_before);

    // Deleting an organization takes it off the client.
    let (s, _) = admin.post_json("/api/v1/orgs", &json!({"name": "Tools"})).await;
    assert_eq!(s, 201);
    let mut two = dbackup();
    two["orgs"] = json!(["Tools", "Default"]);
    let (s, saved) = admin.put_json("/api/v1/clients/dbackup", &two).await;
    assert_eq!((s, saved["client"]["orgs"].clone()), (200, json!(["Default", "Tools"])), "{saved}");
    let (s, _) = admin.delete("/api/v1/orgs/Tools").await;
    assert_eq!(s, 204);
    assert_eq!(admin.get("/api/v1/clients/dbackup").await.1["orgs"], json!(["Default"]));

    let (s, _) = admin.delete("/api/v1/clients/dbackup").await;
    assert_eq!(s, 204);
    let (s, e) = admin.get("/api/v1/clients/dbackup").await;
    assert_eq!((s, code(&e)), (404, "not_found".to_string()), "{e}");
    let events = app.texts("SELECT event FROM audit_events WHERE event LIKE 'client.%' ORDER BY id").await;
    assert_eq!(
        events,
        [
            "client.created",
            "client.updated",
            "client.updated",
            "client.secret_rotated",
            "client.updated",
            "client.deleted"
        ]
    );
}

#[tokio::test]
async fn bad_settings_are_refused_field_by_field_and_nothing_is_written() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let cases: Vec<(Value, &str)> = vec![
        (json!({"client_id": "Bad Id"}), "client_id"),
        (json!({"name": ""}), "name"),
        (json!({"redirect_uris": []}), "redirect_uris"),
        (json!({"redirect_uris": ["http://dbackup.example.com/cb"]}), "redirect_uris"),
        (json!({"redirect_uris": ["https://*.example.com/cb"]}), "redirect_uris"),
        (json!({"redirect_uris": ["https://dbackup.example.com/cb#x"]}), "redirect_uris"),
        (json!({"post_logout_redirect_uris": ["javascript:alert(1)"]}), "post_logout_redirect_uris"),
        (json!({"scopes": ["openid", "admin"]}), "scopes"),
        (json!({"orgs": ["Nowhere"]}), "orgs"),
        (json!({"access_token_seconds": 5}), "access_token_seconds"),
        (json!({"refresh_token_seconds": 60}), "refresh_token_seconds"),
    ];
    for (change, field) in cases {
        let mut body = dbackup();
        for (k, v) in change.as_object().into_iter().flatten() {
            body[k] = v.clone();
        }
        let (s, e) = admin.post_json("/api/v1/clients", &body).await;
        assert_eq!((s, fields(&e)), (422, vec![field.to_string()]), "{change}: {e}");
    }
    let (s, e) = admin.post_json("/api/v1/clients", &json!({"client_id": "x1y", "name": "X", "kind": "secret"})).await;
    assert_eq!(s, 422, "{e}");
    assert_eq!(app.count("SELECT COUNT(*) FROM oauth_clients").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_events WHERE event LIKE 'client.%'").await, 0);
    // Loopback tools may use plain http (a tool on the admin's own machine).
    let mut local = dbackup();
    local["redirect_uris"] = json!(["http://127.0.0.1:8080/callback", "http://localhost/cb"]);
    let (s, r) = admin.post_json("/api/v1/clients", &local).await;
    assert_eq!(s, 201, "{r}");
    // An unknown one cannot be changed, rotated or deleted.
    let (s, _) = admin.put_json("/api/v1/clients/nope", &dbackup()).await;
    assert_eq!(s, 404);
    assert_eq!(admin.post_json("/api/v1/clients/nope/secret", &json!({})).await.0, 404);
    assert_eq!(admin.delete("/api/v1/clients/nope").await.0, 404);
}

#[tokio::test]
async fn an_instance_holds_a_bounded_number_of_applications() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let max = app::domain::clients::MAX_CLIENTS;
    let rows: Vec<String> = (0..max)
        .map(|i| format!("('tool{i:03}', 'Tool {i}', 'https://t{i}.example.com/cb', 'openid', 600, 0, 0, 0)"))
        .collect();
    app.exec(&format!(
        "INSERT INTO oauth_clients (client_id, name, redirect_uris, scopes, access_token_seconds, \
         refresh_token_seconds, created_at, updated_at) VALUES {}",
        rows.join(", ")
    ))
    .await;
    let (s, e) = admin.post_json("/api/v1/clients", &dbackup()).await;
    assert_eq!((s, fields(&e)), (422, vec!["client_id".to_string()]), "{e}");
    assert!(e.to_string().contains(&format!("at most {max} applications")), "{e}");
    let (s, list) = admin.get("/api/v1/clients").await;
    assert_eq!((s, list.as_array().map(Vec::len)), (200, Some(max)));
}

#[tokio::test]
async fn the_cli_registers_lists_updates_rotates_and_deletes() {
    let app = TestApp::start().await;
    app.admin().await;
    let db = app.db_url.clone();
    let (code, out, err) = common::roster(
        &db,
        &[
            "client",
            "create",
            "dbackup",
            "--name",
            "DBackup",
            "--redirect-uri",
            "https://dbackup.example.com/cb",
            "--org",
            "Default",
            "--scope",
            "profile,roster",
            "--no-consent",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let secret = out.trim().to_string();
    assert_eq!(secret.len(), 43, "the secret alone on standard output: {out}");
    assert!(err.contains("shown only this once") && err.contains("dbackup"), "{err}");
    let (code, out, _) = common::roster(&db, &["client", "list", "--json"]);
    assert_eq!(code, 0);
    let listed: Value = serde_json::from_str(out.trim()).expect("one JSON line");
    assert_eq!(listed["scopes"], json!(["openid", "profile", "roster"]));
    assert_eq!((listed["consent"].clone(), listed["orgs"].clone()), (json!(false), json!(["Default"])));
    assert!(!out.contains(&secret));

    let (code, _, err) = common::roster(
        &db,
        &["client", "update", "dbackup", "--require-2fa", "true", "--access-token-seconds", "300", "--no-orgs"],
    );
    assert_eq!(code, 0, "{err}");
    let (_, out, _) = common::roster(&db, &["client", "list", "--json"]);
    let listed: Value = serde_json::from_str(out.trim()).expect("json");
    assert_eq!(
        (
            listed["require_two_factor"].clone(),
            listed["access_token_seconds"].clone(),
            listed["orgs"].clone(),
            listed["name"].clone()
        ),
        (json!(true), json!(300), json!([]), json!("DBackup"))
    );
    let (code, out, _) = common::roster(&db, &["client", "rotate-secret", "dbackup"]);
    assert_eq!(code, 0);
    assert!(out.trim().len() == 43 && out.trim() != secret);

    // Refusals name the field and exit non-zero, writing nothing.
    let (code, _, err) = common::roster(
        &db,
        &["client", "create", "other", "--name", "O", "--redirect-uri", "http://other.example.com/cb"],
    );
    assert_ne!(code, 0);
    assert!(err.contains("use https"), "{err}");
    let (code, _, err) = common::roster(&db, &["client", "delete", "nope"]);
    assert_ne!(code, 0);
    assert!(err.to_lowercase().contains("not found") || err.contains("No application"), "{err}");
    let (code, out, err) = common::roster(&db, &["client", "delete", "dbackup"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("deleted"));
    assert_eq!(app.count("SELECT COUNT(*) FROM oauth_clients").await, 0);
}

#[tokio::test]
async fn two_instances_registering_one_client_id_at_once_make_one() {
    let app = TestApp::start_with(app::backend::Config { secret_key: Some([5; 32]), ..Default::default() }).await;
    app.admin().await;
    let other = app.second_instance().await;
    for round in 0..5 {
        let (a, b) = (app.browser(), other.browser());
        for c in [&a, &b] {
            let (s, body) = c.rpc("sign_in", &[("login", "admin"), ("password", common::ADMIN_PW)]).await;
            assert_eq!(s, 200, "{body}");
        }
        let mut body = dbackup();
        body["client_id"] = json!(format!("race{round}"));
        let (ra, rb) = tokio::join!(a.post_json("/api/v1/clients", &body), b.post_json("/api/v1/clients", &body));
        let mut statuses = [ra.0, rb.0];
        statuses.sort();
        assert_eq!(statuses, [201, 409], "round {round}: {ra:?} {rb:?}");
        // The one secret answered is the one stored.
        let secret =
            [&ra.1, &rb.1].iter().find_map(|r| r["client_secret"].as_str().map(String::from)).expect("a secret");
        let stored = app
            .int_bytes_rows(&format!("SELECT id, secret_hash FROM oauth_clients WHERE client_id = 'race{round}'"))
            .await;
        assert_eq!(stored.len(), 1);
        use sha2::Digest;
        assert_eq!(stored[0].1, sha2::Sha256::digest(secret.as_bytes()).to_vec(), "round {round}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_events WHERE event = 'client.created'").await, 5);
}
