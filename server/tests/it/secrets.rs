//! Rotating the instance key (issue 12): every sealed value (TOTP seeds, single sign-on client
//! secrets, database passwords of definitions, credentials and mappings) moves to the new key
//! in one transaction, stays bound to its row, and still works once the old key is gone; a
//! value neither key opens stops the rotation with nothing changed; the `roster secrets`
//! commands. On both backends.
use crate::common;

use app::backend::crypto::SecretBox;
use app::backend::services::{instance_key, secrets};
use app::backend::store::SealedColumn;
use app::backend::{Config, Ctx};
use common::{enrol, oathtool, secs, TestApp, MEMBER_PW};
use serde_json::json;

const OLD: [u8; 32] = [3; 32];
const NEW: [u8; 32] = [4; 32];

fn config(key: [u8; 32], previous: Option<[u8; 32]>) -> Config {
    Config {
        secret_key: Some(key),
        secret_key_previous: previous,
        // (the single sign-on provider below is on the loopback address)
        allow_internal_urls: true,
        ..Default::default()
    }
}

/// Every sealed value in the database, with what it is bound to.
async fn sealed_values(app: &TestApp) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for (sql, aad) in [
        ("SELECT user_id, secret FROM totp", "totp:{}"),
        (
            "SELECT id, default_password FROM databases WHERE default_password IS NOT NULL",
            "database:{}:default_password",
        ),
        ("SELECT id, password FROM database_credentials WHERE password IS NOT NULL", "database_credential:{}:password"),
        ("SELECT id, password FROM database_mappings WHERE password IS NOT NULL", "database_mapping:{}:password"),
        ("SELECT id, secret FROM webhooks", "webhook:{}:secret"),
    ] {
        for (id, bytes) in app.int_bytes_rows(sql).await {
            out.push((aad.replace("{}", &id.to_string()), bytes));
        }
    }
    for (_, bytes) in app.int_bytes_rows("SELECT id, client_secret FROM sso_providers WHERE slug = 'corp'").await {
        out.push(("sso:corp".to_string(), bytes));
    }
    for kid in app.texts("SELECT kid FROM signing_keys ORDER BY id").await {
        for (_, bytes) in
            app.int_bytes_rows(&format!("SELECT id, private_key FROM signing_keys WHERE kid = '{kid}'")).await
        {
            out.push((format!("signing-key:{kid}"), bytes));
        }
    }
    out
}

#[tokio::test]
async fn rotating_the_key_reseals_every_secret_and_the_old_key_opens_none() {
    let app = TestApp::start_with(config(OLD, None)).await;
    instance_key::verify(&app.backend).await.expect("first start seals the check value");
    let admin = app.admin().await;
    let alice = app.member(&admin, "alice", "Default", "Member").await;
    let (totp_secret, _) = enrol(&app, &alice).await;
    let issuer = crate::copy_database::discovery_only_provider().await;
    let sso = json!({
        "slug": "corp", "display_name": "Corp IdP", "issuer": issuer, "client_id": "roster",
        "client_secret": "the client secret", "auto_create": true, "org": "Default", "role": "Member",
    });
    let (s, b) = admin.post_json("/api/v1/sso/providers", &sso).await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = admin
        .post_json(
            "/api/v1/orgs/Default/databases",
            &json!({"db_id": "Shop", "engine": "postgres", "host": "db.example", "name": "shop", "tls": "require",
                    "default_login": "fallback", "default_password": "default secret"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let (s, _) = admin
        .post_json(
            "/api/v1/orgs/Default/databases/Shop/credentials",
            &json!({"name": "reader", "login": "ro", "password": "credential secret"}),
        )
        .await;
    assert_eq!(s, 201);
    let (s, _) = admin
        .put_json(
            "/api/v1/orgs/Default/users/alice/databases/Shop",
            &json!({"kind": "own", "login": "alice_db", "password": "mapping secret"}),
        )
        .await;
    assert_eq!(s, 200);
    // (the OpenID provider's first signing key is made on first use)
    let (s, _) = admin.get("/oauth/jwks").await;
    assert_eq!(s, 200);
    let (s, b) = admin
        .post_json(
            "/api/v1/webhooks",
            &json!({"name": "Cache", "url": "https://hooks.example.com/roster", "kinds": ["role"]}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let before = sealed_values(&app).await;
    assert_eq!(before.len(), 7, "one value of each sealed column");

    // The instances restart with the new key and the old one as the previous key: everything
    // still opens. The rotation seals each value again under the new key.
    let rotating = app.second_instance_with(config(NEW, Some(OLD))).await;
    instance_key::verify(&rotating.backend).await.expect("the previous key still opens the check value");
    let rotated = secrets::rotate(&rotating.backend, &Ctx::cli()).await.expect("rotate");
    assert_eq!(rotated.total(), 7);
    for column in SealedColumn::ALL {
        assert_eq!(rotated.columns.iter().find(|(c, _)| *c == column).map(|(_, n)| *n), Some(1), "{column:?}");
    }
    let (old_box, new_box) = (SecretBox::new(&OLD), SecretBox::new(&NEW));
    let after = sealed_values(&app).await;
    for ((aad, was), (aad_after, now)) in before.iter().zip(&after) {
        assert_eq!(aad, aad_after);
        assert_ne!(was, now, "{aad} sealed again");
        assert_eq!(new_box.open(now, aad), old_box.open(was, aad), "{aad}: the same secret, under the new key");
        assert!(old_box.open(now, aad).is_err(), "{aad}: the old key opens nothing now");
    }
    let events = app.texts("SELECT event FROM audit_events WHERE event = 'secrets.rotated'").await;
    assert_eq!(events.len(), 1);

    // With the new key alone, everything works; with the old key alone, nothing starts.
    let fresh = app.second_instance_with(config(NEW, None)).await;
    instance_key::verify(&fresh.backend).await.expect("the new key passes the check");
    app::backend::services::signing_keys::active(&fresh.backend).await.expect("the signing key opens with the new key");
    let stale = app.second_instance_with(config(OLD, None)).await;
    assert!(matches!(instance_key::verify(&stale.backend).await, Err(instance_key::KeyCheck::WrongKey)));
    fresh.clock.advance_ms(60_000);
    let c = fresh.browser();
    let (s, b) = c.rpc("sign_in", &[("login", "alice"), ("password", MEMBER_PW)]).await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = c.rpc("sign_in_code", &[("code", &oathtool(&totp_secret, secs(&fresh)))]).await;
    assert_eq!(s, 200, "the TOTP seed opens with the new key: {b}");
    let super_admin = fresh.browser();
    let (s, _) = super_admin.rpc("sign_in", &[("login", "admin"), ("password", common::ADMIN_PW)]).await;
    assert_eq!(s, 200);
    let (_, own) = super_admin.get("/api/v1/users/alice/databases/Shop/credentials").await;
    assert_eq!(own["password"], json!("mapping secret"), "{own}");
    let (_, fallback) = super_admin.get("/api/v1/users/admin/databases/Shop/credentials").await;
    assert_eq!(fallback["password"], json!("default secret"), "{fallback}");
    let (s, _) = super_admin
        .put_json(
            "/api/v1/orgs/Default/users/alice/databases/Shop",
            &json!({"kind": "credential", "credential": "reader"}),
        )
        .await;
    assert_eq!(s, 200);
    let (_, shared) = super_admin.get("/api/v1/users/alice/databases/Shop/credentials").await;
    assert_eq!(shared["password"], json!("credential secret"), "{shared}");
}

#[tokio::test]
async fn a_secret_neither_key_opens_stops_the_rotation_with_nothing_changed() {
    let app = TestApp::start_with(config(OLD, None)).await;
    instance_key::verify(&app.backend).await.expect("check value");
    let admin = app.admin().await;
    let (s, _) = admin
        .post_json(
            "/api/v1/orgs/Default/databases",
            &json!({"db_id": "Shop", "engine": "postgres", "host": "db.example", "name": "shop", "tls": "require",
                    "default_login": "fallback", "default_password": "default secret"}),
        )
        .await;
    assert_eq!(s, 201);
    for name in ["one", "two"] {
        let (s, _) = admin
            .post_json(
                "/api/v1/orgs/Default/databases/Shop/credentials",
                &json!({"name": name, "login": name, "password": "p"}),
            )
            .await;
        assert_eq!(s, 201);
    }
    // A value sealed under a key nobody has any more (or copied from another row).
    app.exec(
        "UPDATE database_credentials SET password = (SELECT password FROM database_credentials WHERE name = 'one') \
         WHERE name = 'two'",
    )
    .await;
    let before = sealed_values(&app).await;
    let check = app.texts("SELECT value FROM settings WHERE key = 'instance_key_check'").await;
    let rotating = app.second_instance_with(config(NEW, Some(OLD))).await;
    let err = secrets::rotate(&rotating.backend, &Ctx::cli()).await.expect_err("refused");
    assert!(err.to_string().contains("database_credentials.password of row"), "{err}");
    assert_eq!(sealed_values(&app).await, before, "nothing re-sealed");
    assert_eq!(app.texts("SELECT value FROM settings WHERE key = 'instance_key_check'").await, check);
    // Only the operator's command line rotates.
    let ctx = app::backend::Ctx::anonymous();
    assert!(secrets::rotate(&rotating.backend, &ctx).await.is_err());
}

#[tokio::test]
async fn every_byte_column_is_either_rotated_or_holds_no_sealed_secret() {
    // Hashes, identifiers and pictures: nothing the instance key opens.
    const NOT_SEALED: &[&str] = &[
        "_sqlx_migrations.checksum",
        "sessions.token_hash",
        "recovery_codes.code_hash",
        "mfa_challenges.token_hash",
        "api_tokens.token_hash",
        "passkeys.credential_id",
        "webauthn_handles.handle",
        "webauthn_ceremonies.id_hash",
        "sso_flows.state_hash",
        "sso_flows.browser_hash",
        "oauth_clients.secret_hash",
        "oauth_codes.code_hash",
        "oauth_tokens.token_hash",
        "scim_tokens.token_hash",
        "invitations.token_hash",
        "sso_flows.invitation_hash",
        "bulk_plans.id_hash",
        "avatars.image",
        // (SQLite's full-text index of usernames, names and emails)
        "users_search_data.block",
        "users_search_docsize.sz",
    ];
    let app = TestApp::start().await;
    let sql = match app.kind {
        common::db::Kind::Sqlite => {
            "SELECT m.name || '.' || p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND p.type = 'BLOB' ORDER BY 1"
        }
        _ => {
            "SELECT table_name || '.' || column_name FROM information_schema.columns \
             WHERE table_schema = 'public' AND data_type = 'bytea' ORDER BY 1"
        }
    };
    let rotated: Vec<String> = SealedColumn::ALL.iter().map(|c| c.name()).collect();
    let columns = app.texts(sql).await;
    let unknown: Vec<&String> =
        columns.iter().filter(|c| !rotated.contains(c) && !NOT_SEALED.contains(&c.as_str())).collect();
    assert!(
        unknown.is_empty(),
        "new byte columns {unknown:?}: if one holds a sealed value, add it to store::SealedColumn"
    );
    for c in &rotated {
        assert!(columns.contains(c), "{c} is rotated but not in the schema");
    }
}
