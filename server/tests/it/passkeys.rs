//! Passkey ceremonies on the server side: options, single-use and expiring ceremony state,
//! and the rules for removing passkeys. (The browser side, with a real authenticator, is in
//! end2end/tests/sign_in_with_passkey.spec.ts.)
use crate::common;

use app::backend::Config;
use common::{Client, TestApp, MEMBER_PW};
use serde_json::{json, Value};

pub(crate) const ORIGIN: &str = "http://localhost:8443";

/// An app with a public URL (passkeys on) and its first account signed in there.
pub(crate) async fn app_with_passkeys() -> (TestApp, Client) {
    let app = TestApp::start_with(Config { public_origin: Some(ORIGIN.into()), ..Config::default() }).await;
    let admin = app.browser_at(ORIGIN);
    let (s, b) = admin
        .rpc(
            "sign_up",
            &[
                ("username", "admin"),
                ("full_name", "Ada"),
                ("email", "admin@example.com"),
                ("password", common::ADMIN_PW),
            ],
        )
        .await;
    assert_eq!(s, 200, "{b}");
    (app, admin)
}

async fn member(app: &TestApp, admin: &Client, name: &str) -> Client {
    let body = json!({"username": name, "email": format!("{name}@example.com"), "password": MEMBER_PW, "org": "Default", "role": "Member"});
    let (s, b) = admin.post_json("/api/v1/users", &body).await;
    assert_eq!(s, 201, "{b}");
    let c = app.browser_at(ORIGIN);
    let (s, b) = c.rpc("sign_in", &[("login", name), ("password", MEMBER_PW)]).await;
    assert_eq!(s, 200, "{b}");
    c
}

fn options(v: &Value) -> Value {
    serde_json::from_str(v["options"].as_str().expect("options")).expect("options JSON")
}

#[tokio::test]
async fn registration_options_ask_for_a_discoverable_user_verified_passkey_bound_to_the_public_url() {
    let (app, admin) = app_with_passkeys().await;
    let pia = member(&app, &admin, "pia").await;
    let (s, c) = pia.rpc("begin_passkey_registration", &[("name", "Laptop")]).await;
    assert_eq!(s, 200, "{c}");
    let o = options(&c);
    let pk = &o["publicKey"];
    assert_eq!(pk["rp"]["id"], "localhost");
    assert_eq!(pk["user"]["name"], "pia");
    // The user handle is random, not the username or the row id.
    let handle = pk["user"]["id"].as_str().expect("handle");
    assert!(handle.len() >= 20 && !handle.contains("pia"), "{handle}");
    assert_eq!(pk["authenticatorSelection"]["residentKey"], "required");
    assert_eq!(pk["authenticatorSelection"]["userVerification"], "required");
    // The same handle next time (one per account).
    let (_, c2) = pia.rpc("begin_passkey_registration", &[("name", "Phone")]).await;
    assert_eq!(options(&c2)["publicKey"]["user"]["id"], handle);
    // A bad name is a field error.
    let (s, b) = pia.rpc("begin_passkey_registration", &[("name", "  ")]).await;
    assert_eq!(s, 422, "{b}");
}

#[tokio::test]
async fn ceremonies_are_single_use_expire_and_belong_to_their_account() {
    let (app, admin) = app_with_passkeys().await;
    let pia = member(&app, &admin, "pia").await;
    let bo = member(&app, &admin, "bo").await;
    let (_, c) = pia.rpc("begin_passkey_registration", &[("name", "Laptop")]).await;
    let ceremony = c["ceremony"].as_str().expect("ceremony").to_string();
    // Someone else's ceremony: refused (and used up).
    let (s, b) = bo.rpc("finish_passkey_registration", &[("ceremony", &ceremony), ("credential", "{}")]).await;
    assert_eq!(s, 422, "{b}");
    assert!(b.to_string().contains("expired"), "{b}");
    let (_, c) = pia.rpc("begin_passkey_registration", &[("name", "Laptop")]).await;
    let ceremony = c["ceremony"].as_str().expect("ceremony").to_string();
    // A forged answer fails verification; the ceremony is gone afterwards.
    let (s, b) = pia.rpc("finish_passkey_registration", &[("ceremony", &ceremony), ("credential", "{}")]).await;
    assert_eq!(s, 422, "{b}");
    assert!(b.to_string().contains("could not be verified"), "{b}");
    let (s, b) = pia.rpc("finish_passkey_registration", &[("ceremony", &ceremony), ("credential", "{}")]).await;
    assert_eq!(s, 422);
    assert!(b.to_string().contains("expired"), "{b}");
    // Five minutes at most.
    let (_, c) = app.browser_at(ORIGIN).rpc("begin_passkey_sign_in", &[]).await;
    let o = options(&c);
    assert!(o["publicKey"].get("allowCredentials").is_none_or(|v| v.as_array().is_some_and(Vec::is_empty)), "{o}");
    assert_eq!(o["publicKey"]["userVerification"], "required");
    app.clock.advance_ms(5 * 60_000 + 1);
    let (s, b) = app
        .browser_at(ORIGIN)
        .rpc("finish_passkey_sign_in", &[("ceremony", c["ceremony"].as_str().unwrap_or("")), ("credential", "{}")])
        .await;
    assert_eq!(s, 422);
    assert!(b.to_string().contains("expired"), "{b}");
    // The second-factor ceremony needs a password step first.
    let (s, b) = app.browser_at(ORIGIN).rpc("begin_passkey_second_factor", &[]).await;
    assert_eq!(s, 422, "{b}");
}

#[tokio::test]
async fn without_a_public_url_passkeys_say_why() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let (s, b) = admin.rpc("begin_passkey_registration", &[("name", "Laptop")]).await;
    assert_eq!(s, 409);
    assert!(b.to_string().contains("--public-url"), "{b}");
    let (_, st) = admin.rpc("security_status", &[]).await;
    assert_eq!(st["passkeys_available"], json!(false));
}

#[tokio::test]
async fn removing_a_passkey_needs_sudo_and_never_the_last_way_in() {
    let (app, admin) = app_with_passkeys().await;
    let pia = member(&app, &admin, "pia").await;
    let user = app.backend.access.read().user_id("pia").expect("pia");
    let mut tx = app.backend.store.begin().await.expect("tx");
    let id = tx.insert_passkey(user, "Laptop", b"cred-1", "{}", 1).await.expect("insert");
    tx.refresh_two_factor(user).await.expect("flag");
    // A credential id belongs to one account only.
    let bo = app.backend.access.read().user_id("admin").expect("admin");
    assert!(matches!(
        tx.insert_passkey(bo, "Stolen", b"cred-1", "{}", 1).await,
        Err(app::backend::store::StoreError::Conflict { field: "passkey" })
    ));
    tx.commit().await.expect("commit");
    let (_, list) = pia.rpc("list_passkeys", &[]).await;
    assert_eq!(list[0]["name"], "Laptop");
    let (_, u) = admin.get("/api/v1/users/pia").await;
    assert_eq!(u["two_factor"], json!(true), "a passkey counts as a second factor");
    let (s, _) = pia.rpc("rename_passkey", &[("id", &id.to_string()), ("name", "Work laptop")]).await;
    assert_eq!(s, 200);
    // Someone else's passkey is not found.
    let (s, _) = admin.rpc("delete_passkey", &[("id", &id.to_string())]).await;
    assert_eq!(s, 404);
    // No password, no TOTP: the only passkey stays.
    app.exec("UPDATE users SET password_hash = NULL WHERE username = 'pia'").await;
    let (s, b) = pia.rpc("delete_passkey", &[("id", &id.to_string())]).await;
    assert_eq!(s, 409, "{b}");
    assert!(b.to_string().contains("only way to sign in"), "{b}");
    // With a password it goes, after a recent sign-in only.
    app.exec(
        "UPDATE users SET password_hash = (SELECT password_hash FROM users WHERE username = 'admin') WHERE username = 'pia'",
    )
    .await;
    app.clock.advance_ms(11 * 60_000);
    let (s, b) = pia.rpc("delete_passkey", &[("id", &id.to_string())]).await;
    assert_eq!((s, b), (403, json!({"Forbidden": "ReauthRequired"})));
    let (s, _) = pia.rpc("reauthenticate", &[("password", common::ADMIN_PW)]).await;
    assert_eq!(s, 200);
    let (s, b) = pia.rpc("delete_passkey", &[("id", &id.to_string())]).await;
    assert_eq!(s, 200, "{b}");
    let (_, u) = admin.get("/api/v1/users/pia").await;
    assert_eq!(u["two_factor"], json!(false));
}
