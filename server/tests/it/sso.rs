//! Single sign-on against a real, certified OpenID provider (npm `oidc-provider`, started from
//! `end2end/oidc/provider.mjs`; `make test` installs it), a real listener and a SQLite file.
//! The test client plays the browser: it follows the provider's redirects and submits its
//! development login form, then brings the callback back to Roster.
use crate::common;

use common::{enrol, oathtool, secs, Client, TestApp, ADMIN_PW, MEMBER_PW};
use serde_json::{json, Value};
use tokio::sync::OnceCell;

/// The public URL the tests' Roster claims to have (redirect URIs are built from it; the
/// test client carries callbacks over to the real listener).
const ORIGIN: &str = "http://roster.test";
const SLUG: &str = "corp";

struct Op {
    issuer: String,
    // Held for the life of the test process: the provider exits when its stdin closes.
    _child: std::sync::Mutex<std::process::Child>,
}

static OP: OnceCell<Op> = OnceCell::const_new();

/// One provider for the whole test binary (every test uses the same redirect URI).
async fn op() -> &'static Op {
    OP.get_or_init(|| async {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
            l.local_addr().expect("addr").port()
        };
        let issuer = format!("http://127.0.0.1:{port}");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../end2end");
        assert!(
            dir.join("node_modules/oidc-provider").is_dir(),
            "npm oidc-provider is missing: run `make test` (or `npm ci` in end2end/)"
        );
        let child = std::process::Command::new("node")
            .arg("oidc/provider.mjs")
            .current_dir(&dir)
            .env("OIDC_PORT", port.to_string())
            .env("OIDC_ISSUER", &issuer)
            .env("OIDC_REDIRECT_URIS", format!("{ORIGIN}/auth/oidc/{SLUG}/callback"))
            .env("OIDC_EXIT_WITH_STDIN", "1")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("node is installed");
        let child = std::sync::Mutex::new(child);
        let http = reqwest::Client::new();
        for _ in 0..100 {
            if let Ok(r) = http.get(format!("{issuer}/.well-known/openid-configuration")).send().await {
                if r.status() == 200 {
                    return Op { issuer, _child: child };
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("the OpenID provider did not start");
    })
    .await
}

async fn app() -> TestApp {
    TestApp::start_with(app::backend::Config {
        public_origin: Some(ORIGIN.into()),
        allow_internal_urls: true,
        ..Default::default()
    })
    .await
}

/// The provider settings the tests start from (JSON API body).
fn provider(issuer: &str, extra: Value) -> Value {
    let mut p = json!({
        "slug": SLUG, "display_name": "Corp IdP", "issuer": issuer, "client_id": "roster-test",
        "client_secret": "test-client-secret-not-for-production", "auto_create": true,
        "org": "Default", "role": "Member",
    });
    if let (Some(p), Some(e)) = (p.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            p.insert(k.clone(), v.clone());
        }
    }
    p
}

async fn configure(app: &TestApp, admin: &Client, extra: Value) {
    let (s, body) = admin.post_json("/api/v1/sso/providers", &provider(&op().await.issuer, extra)).await;
    assert_eq!(s, 201, "{body}");
    let _ = app;
}

fn location(r: &reqwest::Response) -> String {
    r.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

/// Follows the provider from its authorization URL through login (and consent) until it
/// redirects to our public URL; returns that callback URL.
async fn at_provider(c: &Client, auth_url: &str, login: &str) -> String {
    let issuer = &op().await.issuer;
    let mut url = auth_url.to_string();
    for _ in 0..12 {
        if url.starts_with(ORIGIN) {
            return url;
        }
        if url.starts_with('/') {
            url = format!("{issuer}{url}");
        }
        let r = c.http.get(&url).send().await.expect("provider");
        if r.status().is_redirection() {
            url = location(&r);
            continue;
        }
        let page = r.text().await.unwrap_or_default();
        let form: Vec<(&str, &str)> = if page.contains(r#"name="prompt" value="login""#) {
            vec![("prompt", "login"), ("login", login), ("password", "anything")]
        } else if page.contains(r#"name="prompt" value="consent""#) {
            vec![("prompt", "consent")]
        } else {
            panic!("unexpected page at the provider: {page}");
        };
        let r = c.http.post(&url).form(&form).send().await.expect("provider form");
        assert!(r.status().is_redirection(), "provider answered {}", r.status());
        url = location(&r);
    }
    panic!("the provider never redirected back");
}

/// Presses "Sign in with Corp IdP" and signs in at the provider as `login`; returns the
/// callback URL the provider sent the browser to (not yet followed).
async fn start(app: &TestApp, c: &Client, login: &str) -> String {
    let r = c.http.post(format!("{}/auth/oidc/{SLUG}/start", app.base)).send().await.expect("start");
    assert_eq!(r.status(), 303);
    let auth = location(&r);
    assert!(auth.starts_with(&op().await.issuer), "{auth}");
    for p in ["code_challenge_method=S256", "code_challenge=", "state=", "nonce=", "response_type=code"] {
        assert!(auth.contains(p), "{p} missing from {auth}");
    }
    at_provider(c, &auth, login).await
}

/// Brings a callback URL to Roster; returns where Roster sends the browser next.
async fn callback(app: &TestApp, c: &Client, url: &str) -> String {
    let path = url.strip_prefix(ORIGIN).expect("our URL");
    let r = c.http.get(format!("{}{path}", app.base)).send().await.expect("callback");
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap_or_default());
    location(&r)
}

async fn sso(app: &TestApp, login: &str) -> (Client, String) {
    let c = app.browser_at(ORIGIN);
    let url = start(app, &c, login).await;
    let to = callback(app, &c, &url).await;
    (c, to)
}

/// The first account (super admin), signed in on a page of our public URL.
async fn admin(app: &TestApp) -> Client {
    let admin = app.browser_at(ORIGIN);
    let (s, body) = admin
        .rpc(
            "sign_up",
            &[("username", "admin"), ("full_name", "A"), ("email", "admin@example.com"), ("password", ADMIN_PW)],
        )
        .await;
    assert_eq!(s, 200, "{body}");
    admin
}

/// A member with a password, signed in on a page of our public URL.
async fn member(app: &TestApp, admin: &Client, username: &str) -> Client {
    let body = json!({"username": username, "email": format!("{username}@example.com"), "password": MEMBER_PW, "org": "Default", "role": "Member"});
    let (s, body) = admin.post_json("/api/v1/users", &body).await;
    assert_eq!(s, 201, "{body}");
    let c = app.browser_at(ORIGIN);
    assert_eq!(c.rpc("sign_in", &[("login", username), ("password", MEMBER_PW)]).await.0, 200);
    c
}

/// Brings a callback that must be refused; then lets a minute pass so the per-address
/// throttle (3 free failures, then 1 s, 2 s, 4 s...) does not turn the next refusal into
/// "throttled" (flows live 10 minutes).
async fn refused(app: &TestApp, c: &Client, url: &str) -> String {
    let to = callback(app, c, url).await;
    app.clock.advance_ms(60_000);
    to
}

async fn me(c: &Client) -> Value {
    c.get("/api/v1/me").await.1
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    app.count(sql).await
}

#[tokio::test]
async fn first_sign_in_creates_the_account_in_the_providers_org_and_role_then_finds_it_again() {
    let app = app().await;
    let admin = admin(&app).await;
    configure(&app, &admin, json!({})).await;
    // The sign-in page lists it.
    let (_, buttons) = app.browser_at(ORIGIN).rpc("sso_buttons", &[]).await;
    assert_eq!(buttons, json!([{"slug": SLUG, "display_name": "Corp IdP"}]));

    let (alice, to) = sso(&app, "alice").await;
    assert_eq!(to, "/");
    let m = me(&alice).await;
    assert_eq!((m["username"].clone(), m["email"].clone()), (json!("alice"), json!("alice@example.test")));
    assert_eq!(m["org"]["name"], json!("Default"));
    assert!(m["abilities"].as_array().is_some_and(|a| !a.is_empty()), "Member's abilities: {m}");
    let (_, u) = admin.get("/api/v1/users/alice").await;
    assert_eq!(u["full_name"], json!("Test alice"));
    // Linked by (issuer, subject); no password.
    let issuer = op().await.issuer.clone();
    assert_eq!(
        count(&app, &format!("SELECT count(*) FROM sso_links WHERE issuer = '{issuer}' AND subject = 'alice'")).await,
        1
    );
    assert_eq!(count(&app, "SELECT count(*) FROM users WHERE username = 'alice' AND password_hash IS NULL").await, 1);
    // The session keeps how it was signed in.
    assert_eq!(
        app.texts("SELECT s.method FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.username = 'alice'").await,
        ["sso"]
    );
    // Audited: creation with where it came from, and the sign-in.
    let (_, log) = admin.get("/api/v1/audit?event=user.created").await;
    let after = log["events"][0]["after"].as_str().unwrap_or_default().to_string();
    assert!(after.contains(r#""via":{"sso":"corp","subject":"alice"}"#), "{log}");

    // The same identity again: the same account, nothing new.
    let users = count(&app, "SELECT count(*) FROM users").await;
    let (again, to) = sso(&app, "alice").await;
    assert_eq!(to, "/");
    assert_eq!(me(&again).await["username"], json!("alice"));
    assert_eq!(count(&app, "SELECT count(*) FROM users").await, users);
    // The provider's secret is sealed at rest and never returned.
    assert_eq!(
        count(
            &app,
            match app.kind {
                common::db::Kind::Sqlite => {
                    "SELECT count(*) FROM sso_providers WHERE instr(client_secret, 'test-client-secret') > 0"
                }
                common::db::Kind::Postgres => {
                    "SELECT count(*) FROM sso_providers WHERE position('test-client-secret'::bytea in client_secret) > 0"
                }
            }
        )
        .await,
        0
    );
    let (_, list) = admin.get("/api/v1/sso/providers").await;
    assert!(!list.to_string().contains("test-client-secret"), "{list}");
    assert_eq!(list[0]["has_secret"], json!(true));
    assert_eq!(list[0]["redirect_uri"], json!(format!("{ORIGIN}/auth/oidc/{SLUG}/callback")));
}

#[tokio::test]
async fn the_state_is_single_use_bound_to_its_browser_and_cannot_be_tampered_with() {
    let app = app().await;
    let admin = admin(&app).await;
    configure(&app, &admin, json!({})).await;

    // A tampered state: refused, no session, no account.
    let c = app.browser_at(ORIGIN);
    let url = start(&app, &c, "mallory").await;
    let tampered = url.replace("state=", "state=x");
    assert_eq!(refused(&app, &c, &tampered).await, "/sign-in?sso_error=state");
    assert_eq!(me(&c).await["username"], Value::Null);
    // The genuine one still works once (the tampered attempt consumed nothing)...
    assert_eq!(callback(&app, &c, &url).await, "/");
    assert_eq!(me(&c).await["username"], json!("mallory"));
    // ...and never twice.
    let c2 = app.browser_at(ORIGIN);
    assert_eq!(refused(&app, &c2, &url).await, "/sign-in?sso_error=state");
    assert_eq!(refused(&app, &c, &url).await, "/sign-in?sso_error=state");

    // A callback carried to another browser (login CSRF): that browser has no flow cookie.
    let attacker = app.browser_at(ORIGIN);
    let url = start(&app, &attacker, "mallory").await;
    let victim = app.browser_at(ORIGIN);
    assert_eq!(refused(&app, &victim, &url).await, "/sign-in?sso_error=state");
    assert_eq!(me(&victim).await["username"], Value::Null);
    // ...and it is spent now, for the attacker too.
    assert_eq!(refused(&app, &attacker, &url).await, "/sign-in?sso_error=state");

    // A malformed callback (a repeated parameter): the same refusal, not a bare 400.
    let doubled = format!("{ORIGIN}/auth/oidc/{SLUG}/callback?state=a&state=b&code=c");
    assert_eq!(refused(&app, &c, &doubled).await, "/sign-in?sso_error=state");

    // An expired flow.
    let c = app.browser_at(ORIGIN);
    let url = start(&app, &c, "mallory").await;
    app.clock.advance_ms(11 * 60_000);
    assert_eq!(refused(&app, &c, &url).await, "/sign-in?sso_error=state");

    // The provider's own refusal, and a code that is not the provider's.
    let c = app.browser_at(ORIGIN);
    let url = start(&app, &c, "mallory").await;
    let code = url.split("code=").nth(1).and_then(|s| s.split('&').next()).unwrap_or_default().to_string();
    assert_eq!(refused(&app, &c, &url.replace(&code, "forged-code")).await, "/sign-in?sso_error=failed");

    // Every refusal is audited with its reason.
    let (_, log) = admin.get("/api/v1/audit?event=sso.sign_in").await;
    let text = log.to_string();
    for reason in ["unknown or used state", "started in another browser", "expired"] {
        assert!(text.contains(reason), "{reason} not audited: {text}");
    }
}

#[tokio::test]
async fn accounts_are_never_joined_by_email_and_owners_link_and_unlink_from_their_profile() {
    let app = app().await;
    let admin = admin(&app).await;
    configure(&app, &admin, json!({})).await;
    // bob exists with the email the provider will report for "bob".
    let (s, body) = admin
        .post_json(
            "/api/v1/users",
            &json!({"username": "bob", "email": "bob@example.test", "password": MEMBER_PW, "org": "Default", "role": "Member"}),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    let (c, to) = sso(&app, "bob").await;
    assert_eq!(to, "/sign-in?sso_error=account_exists");
    assert_eq!(me(&c).await["username"], Value::Null);
    // Not with another username either: the email is taken.
    assert_eq!(count(&app, "SELECT count(*) FROM sso_links").await, 0);

    // bob signs in with his password and links the provider himself.
    let bob = app.browser_at(ORIGIN);
    assert_eq!(bob.rpc("sign_in", &[("login", "bob"), ("password", MEMBER_PW)]).await.0, 200);
    let (_, links) = bob.rpc("linked_providers", &[]).await;
    assert_eq!(links[0]["linked_at"], Value::Null);
    let (s, url) = bob.rpc("begin_sso_link", &[("slug", SLUG)]).await;
    assert_eq!(s, 200, "{url}");
    let back = at_provider(&bob, url.as_str().unwrap_or_default(), "bob").await;
    assert_eq!(callback(&app, &bob, &back).await, "/profile?sso_linked=1");
    let (_, links) = bob.rpc("linked_providers", &[]).await;
    assert!(links[0]["linked_at"].is_i64(), "{links}");
    assert_eq!(links[0]["email"], json!("bob@example.test"));
    // Now the provider signs him in.
    let (c, to) = sso(&app, "bob").await;
    assert_eq!(to, "/");
    assert_eq!(me(&c).await["username"], json!("bob"));
    // Another account cannot link the same identity.
    let carol = member(&app, &admin, "carol").await;
    let (_, url) = carol.rpc("begin_sso_link", &[("slug", SLUG)]).await;
    let back = at_provider(&carol, url.as_str().unwrap_or_default(), "bob").await;
    assert_eq!(callback(&app, &carol, &back).await, "/profile?sso_error=linked_elsewhere");
    // Unlinking: bob keeps his password, so he may.
    let (s, body) = bob.rpc("unlink_sso", &[("slug", SLUG)]).await;
    assert_eq!(s, 200, "{body}");
    let (_, to) = sso(&app, "bob").await;
    assert_eq!(to, "/sign-in?sso_error=account_exists");

    // An account created by the provider has no other way in: unlinking is refused.
    let (dave, _) = sso(&app, "dave").await;
    let (s, body) = dave.rpc("unlink_sso", &[("slug", SLUG)]).await;
    assert_eq!(s, 409, "{body}");
    assert!(body.to_string().contains("only way to sign in"), "{body}");
    // Linking needs a recent sign-in (sudo mode), like every credential change.
    app.clock.advance_ms(11 * 60_000);
    let (s, body) = carol.rpc("begin_sso_link", &[("slug", SLUG)]).await;
    assert_eq!(s, 403, "{body}");
}

#[tokio::test]
async fn allowed_domains_unverified_emails_unknown_people_and_disabled_accounts_are_refused() {
    let app = app().await;
    let admin = admin(&app).await;
    configure(&app, &admin, json!({"allowed_domains": "corp.example"})).await;
    assert_eq!(sso(&app, "eve").await.1, "/sign-in?sso_error=domain");
    app.clock.advance_ms(60_000);
    assert_eq!(sso(&app, "unverified@corp.example").await.1, "/sign-in?sso_error=domain");
    app.clock.advance_ms(60_000);
    let (dan, to) = sso(&app, "dan@corp.example").await;
    assert_eq!(to, "/");
    assert_eq!(me(&dan).await["username"], json!("dan"));

    // Without first-sign-in creation, unknown people are refused; known ones still get in.
    let mut p = provider(&op().await.issuer, json!({"allowed_domains": "", "auto_create": false, "client_secret": ""}));
    p["org"] = json!("");
    p["role"] = json!("");
    let (s, body) = admin.put_json(&format!("/api/v1/sso/providers/{SLUG}"), &p).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["has_secret"], json!(true), "an empty secret keeps the stored one");
    assert_eq!(sso(&app, "stranger").await.1, "/sign-in?sso_error=no_account");
    app.clock.advance_ms(60_000);
    assert_eq!(sso(&app, "dan@corp.example").await.1, "/");

    // A disabled account does not get in through the provider either.
    let (s, body) = admin.patch_json("/api/v1/users/dan", &json!({"status": "disabled"})).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(sso(&app, "dan@corp.example").await.1, "/sign-in?sso_error=disabled");

    // A disabled provider: no button, no flow.
    p["enabled"] = json!(false);
    let (s, _) = admin.put_json(&format!("/api/v1/sso/providers/{SLUG}"), &p).await;
    assert_eq!(s, 200);
    assert_eq!(app.browser_at(ORIGIN).rpc("sso_buttons", &[]).await.1, json!([]));
    let r =
        app.browser_at(ORIGIN).http.post(format!("{}/auth/oidc/{SLUG}/start", app.base)).send().await.expect("start");
    assert_eq!(location(&r), "/sign-in?sso_error=unavailable");
}

/// Presses "Join with Corp IdP" on the page of the invitation `token`: where Roster sends the
/// browser (the provider, or a refusal).
async fn start_from_invitation(app: &TestApp, c: &Client, token: &str) -> String {
    let r = c
        .http
        .post(format!("{}/auth/oidc/{SLUG}/start", app.base))
        .form(&[("invitation", token)])
        .send()
        .await
        .expect("start");
    assert_eq!(r.status(), 303);
    location(&r)
}

async fn invite(app: &TestApp, admin: &Client, email: &str, role: &str) -> String {
    let role = {
        let m = app.backend.access.read();
        m.roles.iter().find(|(_, r)| r.name == role).map(|(id, _)| id.0).expect("role")
    };
    let (s, made) = admin.post_json("/api/v1/orgs/Default/invitations", &json!({"email": email, "role": role})).await;
    assert_eq!(s, 201, "{made}");
    made["link"].as_str().and_then(|l| l.rsplit('/').next()).expect("a link").to_string()
}

#[tokio::test]
async fn an_invitation_is_accepted_through_the_provider_with_a_new_linked_account() {
    let app = app().await;
    let admin = admin(&app).await;
    // (the provider makes no accounts by itself: the invitation is what allows this one)
    let mut p = provider(&op().await.issuer, json!({"auto_create": false}));
    p["org"] = json!("");
    p["role"] = json!("");
    let (s, body) = admin.post_json("/api/v1/sso/providers", &p).await;
    assert_eq!(s, 201, "{body}");
    let token = invite(&app, &admin, "bea@example.com", "Operator").await;
    let c = app.browser_at(ORIGIN);
    let (_, preview) = c.rpc("preview_invitation", &[("token", &token)]).await;
    assert_eq!(preview["sso"], json!([{"slug": SLUG, "display_name": "Corp IdP"}]), "{preview}");
    let auth = start_from_invitation(&app, &c, &token).await;
    assert!(auth.starts_with(&op().await.issuer), "{auth}");
    let back = at_provider(&c, &auth, "bea").await;
    assert_eq!(callback(&app, &c, &back).await, "/");
    // Signed in, in the organization with the invited role; the invited address, no password,
    // linked to the identity; the invitation used.
    let m = me(&c).await;
    assert_eq!(
        (&m["username"], &m["email"], &m["org"]["name"]),
        (&json!("bea"), &json!("bea@example.com"), &json!("Default"))
    );
    let role = {
        let model = app.backend.access.read();
        model.role_in(*model.user_ids.get("bea").expect("bea"), app::domain::ids::DEFAULT_ORG)
    };
    assert_eq!(role.as_deref(), Some("Operator"));
    assert_eq!(count(&app, "SELECT count(*) FROM users WHERE username = 'bea' AND password_hash IS NULL").await, 1);
    assert_eq!(count(&app, "SELECT count(*) FROM sso_links WHERE subject = 'bea'").await, 1);
    assert_eq!(count(&app, "SELECT count(*) FROM invitations WHERE accepted_at IS NOT NULL").await, 1);
    let events =
        app.texts("SELECT event FROM audit_events WHERE event IN ('invite.accepted', 'sso.linked') ORDER BY id").await;
    assert_eq!(events, ["invite.accepted", "sso.linked"]);
    // Later sign-ins through the provider find the account (linked), invitation or not.
    assert_eq!(sso(&app, "bea").await.1, "/");
    // The used link no longer starts a flow.
    assert_eq!(start_from_invitation(&app, &app.browser_at(ORIGIN), &token).await, "/sign-in?sso_error=invitation");
    assert_eq!(
        start_from_invitation(&app, &app.browser_at(ORIGIN), "not-a-token").await,
        "/sign-in?sso_error=invitation"
    );
    // An identity with an account already is sent to sign in and join with the link; the
    // second invitation stays unused.
    let again = invite(&app, &admin, "bea.second@example.com", "Viewer").await;
    let c = app.browser_at(ORIGIN);
    let auth = start_from_invitation(&app, &c, &again).await;
    let back = at_provider(&c, &auth, "bea").await;
    assert_eq!(refused(&app, &c, &back).await, "/sign-in?sso_error=invitation_account");
    assert_eq!(count(&app, "SELECT count(*) FROM invitations WHERE accepted_at IS NOT NULL").await, 1);
    // An invitation withdrawn while the person is at the provider: refused at the callback,
    // no account.
    let late = invite(&app, &admin, "cy@example.com", "Viewer").await;
    let c = app.browser_at(ORIGIN);
    let auth = start_from_invitation(&app, &c, &late).await;
    let back = at_provider(&c, &auth, "cy").await;
    let (_, list) = admin.get("/api/v1/orgs/Default/invitations").await;
    let id =
        list.as_array().and_then(|l| l.iter().find(|i| i["email"] == json!("cy@example.com"))).map(|i| i["id"].clone());
    let id = id.and_then(|i| i.as_i64()).expect("cy's invitation");
    let (s, _) = admin.post_json(&format!("/api/v1/orgs/Default/invitations/{id}/revoke"), &json!({})).await;
    assert_eq!(s, 200);
    assert_eq!(refused(&app, &c, &back).await, "/sign-in?sso_error=invitation");
    assert_eq!(count(&app, "SELECT count(*) FROM users WHERE username = 'cy'").await, 0);
}

#[tokio::test]
async fn an_account_with_a_second_factor_still_needs_it_after_the_provider() {
    let app = app().await;
    let admin = admin(&app).await;
    configure(&app, &admin, json!({})).await;
    let (erin, _) = sso(&app, "erin").await;
    let (secret, _) = enrol(&app, &erin).await;
    app.clock.advance_ms(30_000);
    let (c, to) = sso(&app, "erin").await;
    assert_eq!(to, "/sign-in?step=second-factor");
    assert_eq!(me(&c).await["username"], Value::Null, "no session before the code");
    let (_, pending) = c.rpc("pending_second_factor", &[]).await;
    assert_eq!(pending, json!({"SecondFactor": {"totp": true, "passkey": false}}));
    let (s, m) = c.rpc("sign_in_code", &[("code", &oathtool(&secret, secs(&app)))]).await;
    assert_eq!(s, 200, "{m}");
    assert_eq!(me(&c).await["username"], json!("erin"));
}

#[tokio::test]
async fn providers_are_validated_and_callbacks_are_throttled() {
    let app = app().await;
    let admin = admin(&app).await;
    let fields = |v: &Value| -> Vec<String> {
        v["error"]["fields"]
            .as_array()
            .map(|a| a.iter().filter_map(|f| f["field"].as_str().map(String::from)).collect())
            .unwrap_or_default()
    };
    let (s, body) = admin
        .post_json(
            "/api/v1/sso/providers",
            &json!({"slug": "Bad Slug", "display_name": "", "issuer": "http://idp.example.com", "client_id": "",
                    "scopes": "openid \"x", "allowed_domains": "nodot", "auto_create": true, "org": "Nope", "role": ""}),
        )
        .await;
    assert_eq!(s, 422, "{body}");
    let f = fields(&body);
    for want in ["slug", "display_name", "issuer", "client_id", "scopes", "allowed_domains"] {
        assert!(f.contains(&want.to_string()), "{want} not reported: {body}");
    }
    // An issuer with no discovery document behind it is caught when saving.
    let (s, body) = admin.post_json("/api/v1/sso/providers", &provider("http://127.0.0.1:9", json!({}))).await;
    assert_eq!(s, 422, "{body}");
    assert_eq!(fields(&body), vec!["issuer".to_string()]);
    // New accounts need an organization and a role that exist.
    let (s, body) =
        admin.post_json("/api/v1/sso/providers", &provider(&op().await.issuer, json!({"org": "Nope"}))).await;
    assert_eq!(s, 422, "{body}");
    assert_eq!(fields(&body), vec!["org".to_string()]);
    configure(&app, &admin, json!({})).await;
    let (s, _) = admin.post_json("/api/v1/sso/providers", &provider(&op().await.issuer, json!({}))).await;
    assert_eq!(s, 409, "the slug is taken");

    // Guessing callbacks from one address: after a few failures, even a genuine one waits.
    let c = app.browser_at(ORIGIN);
    for _ in 0..3 {
        let to = callback(&app, &c, &format!("{ORIGIN}/auth/oidc/{SLUG}/callback?code=x&state=guess")).await;
        assert_eq!(to, "/sign-in?sso_error=state");
    }
    let mut throttled = false;
    for _ in 0..10 {
        let to = callback(&app, &c, &format!("{ORIGIN}/auth/oidc/{SLUG}/callback?code=x&state=guess")).await;
        if to == "/sign-in?sso_error=throttled" {
            throttled = true;
            break;
        }
    }
    assert!(throttled, "callbacks were never throttled");
    // Deleting the provider removes it (and its links).
    assert_eq!(admin.delete(&format!("/api/v1/sso/providers/{SLUG}")).await.0, 204);
    assert_eq!(admin.get("/api/v1/sso/providers").await.1, json!([]));
}

/// A provider impostor on loopback whose discovery document names endpoints elsewhere; it
/// counts the requests it gets.
async fn impostor(jwks_uri: impl Fn(u16) -> String) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let hits = std::sync::Arc::new(AtomicUsize::new(0));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let issuer = format!("http://127.0.0.1:{port}");
    let doc = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/auth"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": jwks_uri(port),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    });
    let h = hits.clone();
    let router = axum::Router::new().fallback(move |uri: axum::http::Uri| {
        let doc = doc.clone();
        let h = h.clone();
        async move {
            h.fetch_add(1, Ordering::SeqCst);
            if uri.path() == "/.well-known/openid-configuration" {
                axum::Json(doc).into_response()
            } else {
                axum::Json(json!({"keys": []})).into_response()
            }
        }
    });
    use axum::response::IntoResponse;
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (issuer, hits)
}

#[tokio::test]
async fn provider_urls_are_parsed_and_internal_addresses_refused() {
    // Without the operator's permission, nothing internal is fetched, whatever the spelling.
    let strict =
        TestApp::start_with(app::backend::Config { public_origin: Some(ORIGIN.into()), ..Default::default() }).await;
    let root = admin(&strict).await;
    let (issuer, hits) = impostor(|p| format!("http://127.0.0.1:{p}/jwks")).await;
    for bad in [
        issuer.clone(),
        "http://127.0.0.1:80@internal.example/".to_string(),
        "https://169.254.169.254/latest".to_string(),
        "https://10.1.2.3/realms/x".to_string(),
        "https://[fd00::1]/".to_string(),
        "https://user:secret@login.example.com/".to_string(),
    ] {
        let (s, body) = root.post_json("/api/v1/sso/providers", &provider(&bad, json!({}))).await;
        assert_eq!(s, 422, "{bad}: {body}");
        assert_eq!(body["error"]["fields"][0]["field"], "issuer", "{bad}: {body}");
    }
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0, "nothing was fetched");

    // With it, the issuer may be local, but every endpoint its document names still passes
    // the URL rule: a JWKS address with userinfo is never requested.
    let app = app().await;
    let admin = admin(&app).await;
    let (issuer, hits) = impostor(|p| format!("http://user:pw@127.0.0.1:{p}/jwks")).await;
    let (s, body) = admin.post_json("/api/v1/sso/providers", &provider(&issuer, json!({}))).await;
    assert_eq!(s, 422, "{body}");
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1, "the discovery document only, not the JWKS");
    // The answer is one sentence that tells nothing about what the fetch met (a closed port,
    // a timeout, a non-JSON answer would otherwise make this form a port scanner).
    let (s, closed) = admin.post_json("/api/v1/sso/providers", &provider("http://127.0.0.1:9", json!({}))).await;
    assert_eq!(s, 422, "{closed}");
    assert_eq!(closed["error"]["fields"][0]["message"], body["error"]["fields"][0]["message"]);
    let msg = closed["error"]["message"].as_str().unwrap_or_default().to_lowercase();
    for leak in ["refused", "connect", "error sending", "tcp", "jwks", "userinfo"] {
        assert!(!msg.contains(leak), "{leak} in {msg}");
    }
}

/// A form posted natively (before the WASM arrives) from `page` of our public URL.
async fn native(app: &TestApp, c: &Client, rpc: &str, page: &str, form: &[(&str, &str)]) -> reqwest::Response {
    let r = c
        .http
        .post(format!("{}/rpc/{rpc}", app.base))
        .header("accept", "text/html,application/xhtml+xml")
        .header("referer", format!("{ORIGIN}{page}"))
        .form(form)
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 303, "{rpc} from {page}");
    r
}

/// The page a native post came back to, as HTML.
async fn page(app: &TestApp, c: &Client, path: &str) -> String {
    let r = c.http.get(format!("{}{path}", app.base)).send().await.expect("page");
    assert_eq!(r.status(), 200, "{path}");
    r.text().await.expect("html")
}

/// Without the WASM: linking leaves for the provider, unlinking and a refusal come back to
/// the profile, a refusal for want of a recent sign-in opens the prompt, and the admin page's
/// Edit is a link and Delete a form.
#[tokio::test]
async fn linking_unlinking_and_deleting_providers_work_as_plain_forms() {
    let app = app().await;
    let admin = admin(&app).await;
    configure(&app, &admin, json!({})).await;
    let bob = member(&app, &admin, "bob").await;

    let r = native(&app, &bob, "begin_sso_link", "/profile", &[("slug", SLUG)]).await;
    let auth = location(&r);
    assert!(auth.starts_with(&op().await.issuer) && auth.contains("state="), "{auth}");
    let cookies: Vec<&str> = r.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).collect();
    assert!(cookies.iter().any(|c| c.contains("Path=/auth/oidc/")), "the flow's browser cookie: {cookies:?}");
    assert!(r.headers().get(app::api::LEAVE_FOR_HEADER).is_none(), "the internal header stays inside");
    let back = at_provider(&bob, &auth, "bob").await;
    assert_eq!(callback(&app, &bob, &back).await, "/profile?sso_linked=1");
    assert!(page(&app, &bob, "/profile?sso_linked=1").await.contains("Provider linked."));

    let r = native(&app, &bob, "unlink_sso", "/profile", &[("slug", SLUG)]).await;
    let to = location(&r);
    assert!(to.starts_with("/profile?rpc=unlink_sso&ok=1"), "{to}");
    assert!(page(&app, &bob, &to).await.contains("Provider unlinked."));
    assert_eq!(count(&app, "SELECT count(*) FROM sso_links").await, 0);

    // An account the provider created has no other way in: the refusal opens in its dialog.
    let (dave, _) = sso(&app, "dave").await;
    let r = native(&app, &dave, "unlink_sso", "/profile", &[("slug", SLUG)]).await;
    let to = location(&r);
    assert!(to.starts_with("/profile?rpc=unlink_sso&error="), "{to}");
    let html = page(&app, &dave, &to).await;
    assert!(html.contains("only way to sign in"), "the reason is shown");
    let dialog = html.split(r#"<dialog id="unlink-corp""#).nth(1).and_then(|t| t.split('>').next()).unwrap_or_default();
    assert!(dialog.contains(" open"), "in the open dialog: <dialog{dialog}>");

    // Past the sudo window: the prompt opens as the page loads.
    app.clock.advance_ms(11 * 60_000);
    let r = native(&app, &bob, "begin_sso_link", "/profile", &[("slug", SLUG)]).await;
    let to = location(&r);
    assert!(to.starts_with("/profile?rpc=begin_sso_link&error="), "{to}");
    assert!(page(&app, &bob, &to).await.contains("Confirm it is you"));

    // The admin page: Edit is a link that shows the provider in the form.
    let html = page(&app, &admin, "/admin/sso").await;
    assert!(html.contains("/admin/sso?edit=corp"), "Edit is a link");
    let html = page(&app, &admin, "/admin/sso?edit=corp").await;
    assert!(html.contains("Edit Corp IdP") && html.contains(r#"value="Corp IdP""#), "the provider is in the form");
    // Deleting needs a recent sign-in too; after it, the form deletes.
    let r = native(&app, &admin, "delete_sso_provider", "/admin/sso", &[("slug", SLUG)]).await;
    let to = location(&r);
    assert!(to.starts_with("/admin/sso?rpc=delete_sso_provider&error="), "{to}");
    assert!(page(&app, &admin, &to).await.contains("Confirm it is you"));
    native(&app, &admin, "reauthenticate", &to, &[("password", ADMIN_PW)]).await;
    let r = native(&app, &admin, "delete_sso_provider", "/admin/sso", &[("slug", SLUG)]).await;
    let to = location(&r);
    assert!(to.starts_with("/admin/sso?rpc=delete_sso_provider&ok=1"), "{to}");
    let html = page(&app, &admin, &to).await;
    assert!(html.contains("Provider deleted.") && html.contains("No providers yet."), "deleted");
    // A refused save comes back with what was typed in the form, never the secret.
    let r = native(
        &app,
        &admin,
        "save_sso_provider",
        "/admin/sso",
        &[
            ("create", "true"),
            ("provider[slug]", "Not A Slug!"),
            ("provider[display_name]", "Kept Name"),
            ("provider[issuer]", "https://idp.example.test"),
            ("provider[client_id]", "kept-client"),
            ("provider[client_secret]", "never-shown-secret"),
        ],
    )
    .await;
    let to = location(&r);
    assert!(to.starts_with("/admin/sso?rpc=save_sso_provider&error="), "{to}");
    let html = page(&app, &admin, &to).await;
    for kept in [r#"value="Not A Slug!""#, r#"value="Kept Name""#, r#"value="kept-client""#] {
        assert!(html.contains(kept), "{kept} is in the form again");
    }
    assert!(!html.contains("never-shown-secret"), "the secret is not");
    assert_eq!(count(&app, "SELECT count(*) FROM sso_providers").await, 0, "nothing saved");
}
