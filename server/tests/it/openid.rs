//! Roster as the OpenID provider of the data tools (issue 13): a tool signs a person in with
//! the authorization code flow and PKCE, consent is asked once, codes are single use, refresh
//! tokens rotate and a reused one revokes the whole sign-in, claims follow the access model,
//! and every refusal carries its OAuth error (a request that cannot be trusted is never sent
//! back to the tool). The tool's server is a plain HTTP client; its browser a cookie-keeping
//! one on Roster's public URL.
use crate::common::{Client, TestApp, MEMBER_PW};

use base64::Engine;
use openidconnect::core::{
    CoreGenderClaim, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
};
use openidconnect::{AdditionalClaims, ClientId, ClientSecret, IdToken, IdTokenVerifier, IssuerUrl, Nonce};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const ORIGIN: &str = "http://roster.test";
const REDIRECT: &str = "https://dbackup.example/cb";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

#[derive(Debug, Clone, Serialize, Deserialize)]
struct RosterClaims {
    #[serde(default)]
    orgs: Option<Vec<Value>>,
    #[serde(default)]
    super_admin: Option<bool>,
}
impl AdditionalClaims for RosterClaims {}
type RosterIdToken = IdToken<RosterClaims, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>;

fn challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

async fn app() -> TestApp {
    TestApp::start_with(app::backend::Config { public_origin: Some(ORIGIN.into()), ..Default::default() }).await
}

async fn admin(app: &TestApp) -> Client {
    app.admin_at(ORIGIN).await
}

/// A member of Default (role Member), signed in on a page of Roster's public URL.
async fn member(app: &TestApp, admin: &Client, username: &str) -> Client {
    app.member_at(admin, username, ORIGIN).await
}

/// Registers an application; answers its secret (None for a public one).
async fn register(admin: &Client, client_id: &str, extra: Value) -> Option<String> {
    let mut body = json!({
        "client_id": client_id, "name": "DBackup", "kind": "confidential", "redirect_uris": [REDIRECT],
        "orgs": ["Default"], "scopes": ["openid", "profile", "email", "roster", "offline_access"], "consent": true,
    });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    let (s, made) = admin.post_json("/api/v1/clients", &body).await;
    assert_eq!(s, 201, "{made}");
    made["client_secret"].as_str().map(str::to_string)
}

fn authorize_url(client_id: &str, extra: &[(&str, &str)]) -> String {
    let ch = challenge(VERIFIER);
    let mut q: Vec<(&str, &str)> = vec![
        ("client_id", client_id),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", "openid profile email roster offline_access"),
        ("state", "st-1"),
        ("nonce", "n-1"),
        ("code_challenge", &ch),
        ("code_challenge_method", "S256"),
    ];
    for (k, v) in extra {
        q.retain(|(n, _)| n != k);
        if !v.is_empty() {
            q.push((k, v));
        }
    }
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in q {
        s.append_pair(k, v);
    }
    format!("/oauth/authorize?{}", s.finish())
}

fn location(r: &reqwest::Response) -> String {
    r.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

async fn get_location(c: &Client, path: &str) -> String {
    let r = c.http.get(format!("{}{path}", c.base)).send().await.expect("get");
    assert_eq!(r.status().as_u16(), 303, "{path}");
    location(&r)
}

/// The query parameters of a URL.
fn params(url: &str) -> Vec<(String, String)> {
    let q = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    form_urlencoded::parse(q.as_bytes()).into_owned().collect()
}

fn param(url: &str, name: &str) -> Option<String> {
    params(url).into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// Answers the consent page (`allow` or `deny`) for the request it was sent with.
async fn consent(c: &Client, consent_url: &str, decision: &str) -> String {
    let mut fields = params(consent_url);
    fields.push(("decision".into(), decision.into()));
    let r = c.http.post(format!("{}/oauth/authorize", c.base)).form(&fields).send().await.expect("post");
    assert_eq!(r.status().as_u16(), 303);
    location(&r)
}

/// The tool's server: no cookies, no browser headers.
fn tool() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

async fn token(
    app: &TestApp,
    auth: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut req = tool().post(format!("{}/oauth/token", app.base)).form(form);
    if let Some((id, secret)) = auth {
        req = req.basic_auth(id, Some(secret));
    }
    let r = req.send().await.expect("token");
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    (status, r.json().await.unwrap_or(Value::Null), headers)
}

async fn exchange(app: &TestApp, secret: &str, code: &str, verifier: &str) -> (u16, Value) {
    let (s, v, _) = token(
        app,
        Some(("dbackup", secret)),
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ],
    )
    .await;
    (s, v)
}

async fn userinfo(app: &TestApp, access: &str) -> (u16, Value) {
    let r = tool().get(format!("{}/oauth/userinfo", app.base)).bearer_auth(access).send().await.expect("userinfo");
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

async fn introspect(app: &TestApp, secret: &str, t: &str) -> Value {
    let r = tool()
        .post(format!("{}/oauth/introspect", app.base))
        .basic_auth("dbackup", Some(secret))
        .form(&[("token", t)])
        .send()
        .await
        .expect("introspect");
    assert_eq!(r.status().as_u16(), 200);
    r.json().await.expect("json")
}

async fn jwks(app: &TestApp) -> CoreJsonWebKeySet {
    let r = tool().get(format!("{}/oauth/jwks", app.base)).send().await.expect("jwks");
    r.json().await.expect("key set")
}

/// A signed-in browser's way from the tool's authorization request to a code (consent given
/// when asked).
async fn code_for(c: &Client, client_id: &str, extra: &[(&str, &str)]) -> String {
    let mut to = get_location(c, &authorize_url(client_id, extra)).await;
    if to.starts_with("/oauth/consent?") {
        to = consent(c, &to, "allow").await;
    }
    assert!(to.starts_with(REDIRECT), "{to}");
    param(&to, "code").unwrap_or_else(|| panic!("no code: {to}"))
}

#[tokio::test]
async fn a_tool_signs_a_person_in_with_a_code_pkce_and_consent_given_once() {
    let app = app().await;
    let admin = admin(&app).await;
    let secret = register(&admin, "dbackup", json!({})).await.expect("a secret");
    let ann = member(&app, &admin, "ann").await;

    // Discovery names the endpoints under the public URL.
    let d: Value = tool()
        .get(format!("{}/.well-known/openid-configuration", app.base))
        .send()
        .await
        .expect("d")
        .json()
        .await
        .expect("json");
    assert_eq!(d["issuer"], ORIGIN);
    assert_eq!(d["token_endpoint"], format!("{ORIGIN}/oauth/token"));
    assert_eq!(d["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(d["id_token_signing_alg_values_supported"], json!(["RS256"]));
    assert_eq!(d["response_types_supported"], json!(["code"]));

    // First time: the consent page asks, naming what the tool will receive.
    let to = get_location(&ann, &authorize_url("dbackup", &[])).await;
    assert!(to.starts_with("/oauth/consent?"), "{to}");
    let query = to.trim_start_matches("/oauth/consent?");
    let (s, asked) = ann.rpc("ask_consent", &[("query", query)]).await;
    assert_eq!(s, 200, "{asked}");
    assert_eq!(asked["client_name"], "DBackup");
    assert_eq!(asked["account"], "ann");
    assert_eq!(asked["orgs"], json!(["Default"]));
    let scopes: Vec<&str> = asked["scopes"].as_array().expect("scopes").iter().filter_map(|s| s[0].as_str()).collect();
    assert_eq!(scopes, ["profile", "email", "roster", "offline_access"]);
    // Allowed: back to the tool with a code, the state and the issuer (RFC 9207).
    let back = consent(&ann, &to, "allow").await;
    assert!(back.starts_with(&format!("{REDIRECT}?code=")), "{back}");
    assert_eq!(param(&back, "state").as_deref(), Some("st-1"));
    assert_eq!(param(&back, "iss").as_deref(), Some(ORIGIN));
    let code = param(&back, "code").expect("code");
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_events WHERE event = 'oauth.authorized'").await, 1);

    // The tool's server exchanges it.
    let (s, tokens, headers) = token(
        &app,
        Some(("dbackup", &secret)),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(s, 200, "{tokens}");
    assert_eq!(headers.get("cache-control").and_then(|v| v.to_str().ok()), Some("no-store"));
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 600);
    assert_eq!(tokens["scope"], "openid profile email roster offline_access");
    let access = tokens["access_token"].as_str().expect("access").to_string();
    assert!(tokens["refresh_token"].is_string(), "offline_access gives a refresh token: {tokens}");
    // Tokens are stored as their SHA-256 only.
    let stored = app.int_bytes_rows("SELECT grant_id, token_hash FROM oauth_tokens").await;
    assert_eq!(stored.len(), 2, "an access and a refresh token");
    assert!(stored.iter().any(|(_, h)| h.as_slice() == Sha256::digest(access.as_bytes()).as_slice()));
    assert!(stored.iter().all(|(_, h)| h.as_slice() != access.as_bytes()));

    // The ID token verifies with the published keys, for this tool, with the nonce.
    let id: RosterIdToken = tokens["id_token"].as_str().expect("id token").parse().expect("a JWT");
    let verifier = IdTokenVerifier::new_confidential_client(
        ClientId::new("dbackup".into()),
        ClientSecret::new(secret.clone()),
        IssuerUrl::new(ORIGIN.into()).expect("issuer"),
        jwks(&app).await,
    );
    let claims = id.claims(&verifier, &Nonce::new("n-1".into())).expect("a valid ID token");
    assert!(id.claims(&verifier, &Nonce::new("another".into())).is_err(), "the nonce is checked");
    assert_eq!(claims.preferred_username().map(|u| u.as_str()), Some("ann"));
    assert_eq!(claims.email().map(|e| e.as_str()), Some("ann@example.com"));
    let at_hash = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&Sha256::digest(access.as_bytes())[..16]);
    assert_eq!(claims.access_token_hash().map(|h| h.as_str()), Some(at_hash.as_str()));
    let amr: Vec<String> =
        claims.auth_method_refs().map(|v| v.iter().map(|m| m.to_string()).collect()).unwrap_or_default();
    assert_eq!(amr, ["pwd"]);
    assert_eq!(claims.auth_context_ref().map(|a| a.as_str()), Some("1"));
    assert!(claims.auth_time().is_some());
    let orgs = claims.additional_claims().orgs.clone().expect("orgs");
    assert_eq!(orgs.len(), 1, "{orgs:?}");
    assert_eq!((orgs[0]["name"].as_str(), orgs[0]["role"].as_str()), (Some("Default"), Some("Member")));
    assert!(claims.additional_claims().super_admin.is_none(), "only said when true");
    let sub = claims.subject().as_str().to_string();

    // Userinfo answers the same person, from the access token.
    let (s, info) = userinfo(&app, &access).await;
    assert_eq!(s, 200, "{info}");
    assert_eq!((info["sub"].as_str(), info["preferred_username"].as_str()), (Some(sub.as_str()), Some("ann")));
    assert_eq!(info["orgs"][0]["abilities"], orgs[0]["abilities"]);

    // Consent is remembered: the next sign-in goes straight back with a code.
    let to = get_location(&ann, &authorize_url("dbackup", &[("state", "st-2")])).await;
    assert!(to.starts_with(&format!("{REDIRECT}?code=")), "{to}");
    // ...unless the tool asks again.
    let to = get_location(&ann, &authorize_url("dbackup", &[("prompt", "consent")])).await;
    assert!(to.starts_with("/oauth/consent?"), "{to}");
    // Denied: the tool hears access_denied.
    let denied = consent(&ann, &to, "deny").await;
    assert_eq!(param(&denied, "error").as_deref(), Some("access_denied"), "{denied}");

    // The code again: refused, and the tokens it gave are revoked.
    let (s, again) = exchange(&app, &secret, &code, VERIFIER).await;
    assert_eq!((s, again["error"].as_str()), (400, Some("invalid_grant")), "{again}");
    assert_eq!(userinfo(&app, &access).await.0, 401, "the first exchange's access token is revoked");
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_events WHERE event = 'oauth.code_reused'").await, 1);
}

#[tokio::test]
async fn requests_that_cannot_be_trusted_stop_at_roster_and_faults_go_back_with_their_error() {
    let app = app().await;
    let admin = admin(&app).await;
    register(&admin, "dbackup", json!({})).await;
    let anon = app.browser_at(ORIGIN);

    // An unknown client, or a redirect URI not registered exactly: never sent there.
    for (path, why) in [
        (authorize_url("nope", &[]), "unknown_client"),
        (authorize_url("dbackup", &[("redirect_uri", "https://evil.example/cb")]), "redirect_uri"),
        (authorize_url("dbackup", &[("redirect_uri", "https://dbackup.example/cb/../x")]), "redirect_uri"),
        (format!("{}&client_id=dbackup", authorize_url("dbackup", &[])), "malformed"),
    ] {
        let to = get_location(&anon, &path).await;
        assert_eq!(to, format!("/oauth/stopped?why={why}"), "{path}");
    }
    // The page says why in words.
    let (s, page) = anon.get_text("/oauth/stopped?why=redirect_uri").await;
    assert_eq!(s, 200);
    assert!(page.contains("has not registered"), "{page}");

    // Faults in a trusted request go back to the tool with their error, the state and iss.
    let to = get_location(&anon, &authorize_url("dbackup", &[("prompt", "none")])).await;
    assert!(to.starts_with(REDIRECT), "{to}");
    assert_eq!(param(&to, "error").as_deref(), Some("login_required"));
    assert_eq!((param(&to, "state").as_deref(), param(&to, "iss").as_deref()), (Some("st-1"), Some(ORIGIN)));
    let to = get_location(&anon, &authorize_url("dbackup", &[("response_type", "token")])).await;
    assert_eq!(param(&to, "error").as_deref(), Some("unsupported_response_type"));
    let to = get_location(&anon, &authorize_url("dbackup", &[("scope", "openid admin")])).await;
    assert_eq!(param(&to, "error").as_deref(), Some("invalid_scope"));

    // A tool that knows who is coming names them: the sign-in form is filled in (the
    // person may still change it).
    let to = get_location(&anon, &authorize_url("dbackup", &[("login_hint", "bob@example.com")])).await;
    assert_eq!(to, "/sign-in?continue=1&login=bob%40example.com");
    let (s, page) = anon.get_text(&to).await;
    assert_eq!(s, 200);
    assert!(page.contains("value=\"bob@example.com\""), "the login field filled in");
    let long = "x".repeat(300);
    assert_eq!(get_location(&anon, &authorize_url("dbackup", &[("login_hint", &long)])).await, "/sign-in?continue=1");

    // Nobody signed in: to the sign-in page, which returns to the request afterwards.
    let url = authorize_url("dbackup", &[]);
    let r = anon.http.get(format!("{}{url}", anon.base)).send().await.expect("get");
    assert_eq!(location(&r), "/sign-in?continue=1");
    let body = json!({"username": "bob", "email": "bob@example.com", "password": MEMBER_PW, "org": "Default", "role": "Member"});
    assert_eq!(admin.post_json("/api/v1/users", &body).await.0, 201);
    assert_eq!(anon.rpc("sign_in", &[("login", "bob"), ("password", MEMBER_PW)]).await.0, 200);
    let back = get_location(&anon, "/signed-in").await;
    assert_eq!(back, url, "back to the very request");
    assert_eq!(get_location(&anon, "/signed-in").await, "/", "the return is followed once");
    // A return cookie naming another site is not followed.
    assert_eq!(app.signed_in_returning_to("//evil.example/").await, "/");
}

#[tokio::test]
async fn codes_are_bound_to_their_verifier_redirect_uri_client_and_minute() {
    let app = app().await;
    let admin = admin(&app).await;
    let secret = register(&admin, "dbackup", json!({"consent": false})).await.expect("secret");
    let other = register(&admin, "other", json!({"consent": false})).await.expect("secret");
    let ann = member(&app, &admin, "ann").await;

    // A wrong secret, no secret, a secret for a public client: invalid_client.
    let code = code_for(&ann, "dbackup", &[]).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let (s, e, h) = token(&app, Some(("dbackup", "wrong")), &form).await;
    assert_eq!((s, e["error"].as_str()), (401, Some("invalid_client")), "{e}");
    assert_eq!(h.get("www-authenticate").and_then(|v| v.to_str().ok()), Some("Basic realm=\"roster\""));
    let mut no_secret = form.to_vec();
    no_secret.push(("client_id", "dbackup"));
    assert_eq!(token(&app, None, &no_secret).await.1["error"], "invalid_client");
    // Another application's credentials: the code is not its.
    let (s, e, _) = token(&app, Some(("other", &other)), &form).await;
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_grant")), "{e}");
    // A verifier that does not match, another redirect URI.
    let (s, e) = exchange(&app, &secret, &code, &"x".repeat(43)).await;
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_grant")), "{e}");
    let (s, e, _) = token(
        &app,
        Some(("dbackup", &secret)),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "https://dbackup.example/other"),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_grant")), "{e}");
    // None of those spent it: the right exchange still works.
    assert_eq!(exchange(&app, &secret, &code, VERIFIER).await.0, 200);

    // A minute later a code has expired.
    let late = code_for(&ann, "dbackup", &[]).await;
    app.clock.advance_ms(61_000);
    let (s, e) = exchange(&app, &secret, &late, VERIFIER).await;
    assert_eq!(
        (s, e["error"].as_str(), e["error_description"].as_str()),
        (400, Some("invalid_grant"), Some("the code has expired"))
    );

    // Malformed token requests.
    let (s, e, _) = token(&app, Some(("dbackup", &secret)), &[("grant_type", "password")]).await;
    assert_eq!((s, e["error"].as_str()), (400, Some("unsupported_grant_type")));
    let (s, e, _) = token(&app, Some(("dbackup", &secret)), &[("grant_type", "authorization_code")]).await;
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_request")));
    let r = tool()
        .post(format!("{}/oauth/token", app.base))
        .basic_auth("dbackup", Some(&secret))
        .json(&json!({"grant_type": "authorization_code"}))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status().as_u16(), 400, "JSON is not a token request");
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_ends_the_whole_sign_in() {
    let app = app().await;
    let admin = admin(&app).await;
    let secret = register(&admin, "dbackup", json!({"consent": false})).await.expect("secret");
    let ann = member(&app, &admin, "ann").await;
    let code = code_for(&ann, "dbackup", &[]).await;
    let (_, first) = exchange(&app, &secret, &code, VERIFIER).await;
    let r1 = first["refresh_token"].as_str().expect("refresh").to_string();
    let refresh = |t: String| {
        let app = &app;
        let secret = secret.clone();
        async move {
            let (s, v, _) =
                token(app, Some(("dbackup", &secret)), &[("grant_type", "refresh_token"), ("refresh_token", &t)]).await;
            (s, v)
        }
    };
    let (s, second) = refresh(r1.clone()).await;
    assert_eq!(s, 200, "{second}");
    let r2 = second["refresh_token"].as_str().expect("a new refresh token").to_string();
    assert_ne!(r1, r2);
    let a2 = second["access_token"].as_str().expect("access").to_string();
    assert_eq!(userinfo(&app, &a2).await.0, 200);
    assert!(second["id_token"].is_string(), "a fresh ID token too");

    // The first refresh token again: refused, and every token of the sign-in ends.
    let (s, e) = refresh(r1).await;
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_grant")), "{e}");
    assert_eq!(userinfo(&app, &a2).await.0, 401);
    assert_eq!(refresh(r2).await.1["error"], "invalid_grant", "the newest one too");
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_events WHERE event = 'oauth.refresh_reused'").await, 1);

    // Revocation (RFC 7009) ends a sign-in the same way; unknown tokens are answered 200.
    let code = code_for(&ann, "dbackup", &[]).await;
    let (_, t) = exchange(&app, &secret, &code, VERIFIER).await;
    let access = t["access_token"].as_str().expect("access").to_string();
    let revoke = |tok: String| {
        let (app, secret) = (&app, secret.clone());
        async move {
            tool()
                .post(format!("{}/oauth/revoke", app.base))
                .basic_auth("dbackup", Some(&secret))
                .form(&[("token", tok.as_str())])
                .send()
                .await
                .expect("revoke")
                .status()
                .as_u16()
        }
    };
    assert_eq!(revoke("never-issued".into()).await, 200);
    assert_eq!(userinfo(&app, &access).await.0, 200);
    assert_eq!(revoke(t["refresh_token"].as_str().expect("refresh").into()).await, 200);
    assert_eq!(userinfo(&app, &access).await.0, 401, "the refresh token's sign-in is over");
    // Without offline_access there is no refresh token at all.
    let code = code_for(&ann, "dbackup", &[("scope", "openid profile")]).await;
    let (s, t) = exchange(&app, &secret, &code, VERIFIER).await;
    assert_eq!(s, 200);
    assert!(t.get("refresh_token").is_none(), "{t}");
}

#[tokio::test]
async fn claims_follow_the_access_model_on_the_next_call() {
    let app = app().await;
    let admin = admin(&app).await;
    let secret = register(&admin, "dbackup", json!({"consent": false})).await.expect("secret");
    // Ann is also a member of Beta, which the application may not see.
    let (s, b) = admin.post_json("/api/v1/orgs", &json!({"name": "Beta"})).await;
    assert_eq!(s, 201, "{b}");
    let ann = member(&app, &admin, "ann").await;
    let (_, roles) = admin.get("/api/v1/roles").await;
    let member_role = roles
        .as_array()
        .or_else(|| roles["roles"].as_array())
        .and_then(|l| l.iter().find(|r| r["name"] == "Member"))
        .and_then(|r| r["id"].as_i64())
        .unwrap_or_else(|| panic!("the Member role: {roles}"));
    let (s, m) = admin.post_json("/api/v1/orgs/Beta/members", &json!({"username": "ann", "role": member_role})).await;
    assert!(s == 200 || s == 201, "{s} {m}");
    let code = code_for(&ann, "dbackup", &[]).await;
    let (_, t) = exchange(&app, &secret, &code, VERIFIER).await;
    let access = t["access_token"].as_str().expect("access").to_string();
    let (_, info) = userinfo(&app, &access).await;
    let names: Vec<&str> = info["orgs"].as_array().expect("orgs").iter().filter_map(|o| o["name"].as_str()).collect();
    assert_eq!(names, ["Default"], "only the organizations the application may see: {info}");
    let abilities = |v: &Value| -> Vec<String> {
        v["orgs"][0]["abilities"]
            .as_array()
            .map(|a| a.iter().filter_map(|x| x.as_str().map(String::from)).collect())
            .unwrap_or_default()
    };
    let held = abilities(&info);
    let ability = held.first().expect("the Member role holds abilities").clone();

    // Revoked in the role matrix: gone from userinfo and introspection at once.
    let (s, body) = admin.delete(&format!("/api/v1/roles/{member_role}/abilities/{ability}")).await;
    assert!(s < 300, "{s} {body}");
    let (_, info) = userinfo(&app, &access).await;
    assert!(!abilities(&info).contains(&ability), "{info}");
    let seen = introspect(&app, &secret, &access).await;
    assert_eq!(seen["active"], true);
    assert_eq!(seen["client_id"], "dbackup");
    assert_eq!(seen["username"], "ann");
    assert!(!abilities(&seen).contains(&ability), "{seen}");

    // A disabled account: its tokens are no longer active.
    let (s, body) = admin.patch_json("/api/v1/users/ann", &json!({"status": "disabled"})).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(userinfo(&app, &access).await.0, 401);
    assert_eq!(introspect(&app, &secret, &access).await, json!({"active": false}));
    assert_eq!(introspect(&app, &secret, "never-issued").await, json!({"active": false}));
}

#[tokio::test]
async fn signing_in_again_second_factors_and_switched_off_applications() {
    let app = app().await;
    let admin = admin(&app).await;
    register(&admin, "dbackup", json!({"consent": false})).await;
    register(&admin, "strict", json!({"consent": false, "require_two_factor": true})).await;
    let ann = member(&app, &admin, "ann").await;

    // prompt=login: sign in again, then the request goes on (and is not asked again).
    let to = get_location(&ann, &authorize_url("dbackup", &[("prompt", "login")])).await;
    assert_eq!(to, "/sign-in?continue=1");
    app.clock.advance_ms(1_000);
    assert_eq!(ann.rpc("sign_in", &[("login", "ann"), ("password", MEMBER_PW)]).await.0, 200);
    let back = get_location(&ann, "/signed-in").await;
    assert!(back.starts_with("/oauth/authorize?") && !back.contains("prompt=login"), "{back}");
    let to = get_location(&ann, &back).await;
    assert!(to.starts_with(&format!("{REDIRECT}?code=")), "{to}");
    // max_age: a sign-in older than that is repeated; prompt=none says so instead.
    app.clock.advance_ms(120_000);
    let to = get_location(&ann, &authorize_url("dbackup", &[("max_age", "60"), ("prompt", "none")])).await;
    assert_eq!(param(&to, "error").as_deref(), Some("login_required"), "{to}");
    assert_eq!(get_location(&ann, &authorize_url("dbackup", &[("max_age", "60")])).await, "/sign-in?continue=1");
    // An application that requires a second factor refuses a password-only sign-in.
    let to = get_location(&ann, &authorize_url("strict", &[])).await;
    assert_eq!(param(&to, "error").as_deref(), Some("access_denied"), "{to}");
    // A switched-off application stops at Roster.
    let (s, body) = admin
        .put_json(
            "/api/v1/clients/dbackup",
            &json!({
                "client_id": "dbackup", "name": "DBackup", "kind": "confidential", "redirect_uris": [REDIRECT],
                "scopes": ["openid", "profile"], "consent": false, "enabled": false,
            }),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(
        get_location(&ann, &authorize_url("dbackup", &[("scope", "openid")])).await,
        "/oauth/stopped?why=disabled_client"
    );
}

#[tokio::test]
async fn two_instances_exchanging_one_code_at_once_issue_once() {
    let app = TestApp::start_with(app::backend::Config {
        public_origin: Some(ORIGIN.into()),
        secret_key: Some([7; 32]),
        ..Default::default()
    })
    .await;
    let other = app.second_instance().await;
    let admin = admin(&app).await;
    let secret = register(&admin, "dbackup", json!({"consent": false})).await.expect("secret");
    let ann = member(&app, &admin, "ann").await;
    let code = code_for(&ann, "dbackup", &[]).await;
    let (a, b) = tokio::join!(exchange(&app, &secret, &code, VERIFIER), exchange(&other, &secret, &code, VERIFIER));
    let mut statuses = [a.0, b.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 400], "one exchange wins: {a:?} {b:?}");
    let loser = if a.0 == 400 { &a.1 } else { &b.1 };
    assert_eq!(loser["error"], "invalid_grant");
    // The second use revoked what the first obtained.
    let winner = if a.0 == 200 { &a.1 } else { &b.1 };
    let access = winner["access_token"].as_str().expect("access");
    assert_eq!(userinfo(&app, access).await.0, 401);

    // One refresh token presented to both instances at once: one rotation, and the other
    // presentation counts as a reuse.
    let code = code_for(&ann, "dbackup", &[]).await;
    let (_, t) = exchange(&app, &secret, &code, VERIFIER).await;
    let rt = t["refresh_token"].as_str().expect("refresh").to_string();
    let form = [("grant_type", "refresh_token"), ("refresh_token", rt.as_str())];
    let (x, y) =
        tokio::join!(token(&app, Some(("dbackup", &secret)), &form), token(&other, Some(("dbackup", &secret)), &form));
    let mut statuses = [x.0, y.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 400], "{:?} {:?}", x.1, y.1);
}

#[tokio::test]
async fn a_tool_signs_the_person_out_of_roster_with_its_id_token() {
    let app = app().await;
    let admin = admin(&app).await;
    let secret = register(
        &admin,
        "dbackup",
        json!({"consent": false, "post_logout_redirect_uris": ["https://dbackup.example/bye"]}),
    )
    .await
    .expect("secret");
    let ann = member(&app, &admin, "ann").await;
    let code = code_for(&ann, "dbackup", &[]).await;
    let (_, t) = exchange(&app, &secret, &code, VERIFIER).await;
    let id_token = t["id_token"].as_str().expect("id token").to_string();
    let logout = |q: Vec<(&str, &str)>| {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in q {
            s.append_pair(k, v);
        }
        format!("/oauth/logout?{}", s.finish())
    };
    // An address the tool did not register is never followed.
    let to = get_location(
        &ann,
        &logout(vec![("id_token_hint", &id_token), ("post_logout_redirect_uri", "https://evil.example/")]),
    )
    .await;
    assert_eq!(to, "/oauth/stopped?why=redirect_uri");
    // A forged hint stops too.
    let forged = format!("{}x", &id_token);
    assert_eq!(get_location(&ann, &logout(vec![("id_token_hint", &forged)])).await, "/oauth/stopped?why=malformed");
    // Without a hint, the person is asked.
    let to = get_location(&ann, &logout(vec![("client_id", "dbackup")])).await;
    assert!(to.starts_with("/oauth/sign-out?"), "{to}");
    assert_eq!(ann.get("/api/v1/me").await.0, 200, "still signed in");
    // With the person's ID token: signed out at once, back to the tool with its state.
    let r = ann
        .http
        .get(format!(
            "{}{}",
            app.base,
            logout(vec![
                ("id_token_hint", &id_token),
                ("post_logout_redirect_uri", "https://dbackup.example/bye"),
                ("state", "s-9")
            ])
        ))
        .send()
        .await
        .expect("logout");
    assert_eq!(location(&r), "https://dbackup.example/bye?state=s-9");
    let cleared =
        r.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).any(|c| c.contains("Max-Age=0"));
    assert!(cleared, "the session cookie is cleared");
    assert_eq!(ann.get("/api/v1/me").await.0, 401, "the Roster session is over");
}

#[tokio::test]
async fn browser_based_tools_call_the_token_endpoint_from_their_own_origin() {
    let app = app().await;
    let admin = admin(&app).await;
    register(&admin, "spa", json!({"kind": "public", "consent": false})).await;
    let ann = member(&app, &admin, "ann").await;
    let code = code_for(&ann, "spa", &[]).await;
    // The preflight, then the post, as a browser on the tool's origin sends them.
    let r = tool()
        .request(reqwest::Method::OPTIONS, format!("{}/oauth/token", app.base))
        .header("origin", "https://spa.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .expect("preflight");
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(r.headers().get("access-control-allow-origin").and_then(|v| v.to_str().ok()), Some("*"));
    assert!(r.headers().get("access-control-allow-credentials").is_none(), "never with cookies");
    let r = tool()
        .post(format!("{}/oauth/token", app.base))
        .header("origin", "https://spa.example")
        .header("sec-fetch-site", "cross-site")
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
            ("client_id", "spa"),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(r.status().as_u16(), 200, "a public client's exchange from another origin is not a cross-site attack");
    assert_eq!(r.headers().get("access-control-allow-origin").and_then(|v| v.to_str().ok()), Some("*"));
    // A public client cannot skip PKCE, nor present a secret.
    let code = code_for(&ann, "spa", &[]).await;
    let (s, e, _) = token(
        &app,
        Some(("spa", "a-secret")),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!((s, e["error"].as_str()), (401, Some("invalid_client")), "{e}");
    let to = get_location(&ann, &authorize_url("spa", &[("code_challenge", "")])).await;
    assert_eq!(param(&to, "error").as_deref(), Some("invalid_request"), "{to}");
    // The consent page's post stays same-origin only.
    let cross = app.browser_at("https://spa.example");
    let r = cross
        .http
        .post(format!("{}/oauth/authorize", app.base))
        .form(&[("client_id", "spa")])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status().as_u16(), 403);
}

/// The `picture` claim: present once the person set a picture, an address anyone may load
/// (tools show it in their own pages) that serves exactly that picture; a new picture, a
/// removed one or an altered address answers 404.
#[tokio::test]
async fn the_picture_claim_names_an_address_that_serves_only_that_picture() {
    let app = app().await;
    let admin = admin(&app).await;
    let secret = register(&admin, "dbackup", json!({"consent": false})).await.expect("secret");
    let ann = member(&app, &admin, "ann").await;
    let sign_in = |c: Client| {
        let (app, secret) = (&app, secret.clone());
        async move {
            let code = code_for(&c, "dbackup", &[]).await;
            let (s, t) = exchange(app, &secret, &code, VERIFIER).await;
            assert_eq!(s, 200, "{t}");
            t
        }
    };
    let t = sign_in(ann.clone()).await;
    let (_, info) = userinfo(&app, t["access_token"].as_str().expect("access")).await;
    assert!(info.get("picture").is_none(), "no picture set, no claim: {info}");

    let png = |shade: u8| {
        let img = image::RgbImage::from_fn(64, 64, |x, y| image::Rgb([(x * 3) as u8, (y * 3) as u8, shade]));
        let mut out = std::io::Cursor::new(Vec::new());
        image::DynamicImage::ImageRgb8(img).write_to(&mut out, image::ImageFormat::Png).expect("encode");
        out.into_inner()
    };
    let upload = |bytes: Vec<u8>| {
        let ann = ann.clone();
        async move {
            let r =
                ann.http.put(format!("{}/api/v1/me/avatar", ann.base)).header("content-type", "image/png").body(bytes);
            assert_eq!(r.send().await.expect("put").status(), 204);
        }
    };
    upload(png(10)).await;
    let t = sign_in(ann.clone()).await;
    let (_, info) = userinfo(&app, t["access_token"].as_str().expect("access")).await;
    let url = info["picture"].as_str().expect("a picture claim").to_string();
    assert!(url.starts_with(&format!("{ORIGIN}/pictures/")) && url.ends_with(".png"), "{url}");
    let path = url.trim_start_matches(ORIGIN).to_string();
    // The ID token carries the same address.
    let id: RosterIdToken = t["id_token"].as_str().expect("id token").parse().expect("a JWT");
    let verifier = IdTokenVerifier::new_confidential_client(
        ClientId::new("dbackup".into()),
        ClientSecret::new(secret.clone()),
        IssuerUrl::new(ORIGIN.into()).expect("issuer"),
        jwks(&app).await,
    );
    let claims = id.claims(&verifier, &Nonce::new("n-1".into())).expect("a valid ID token");
    assert_eq!(claims.picture().and_then(|p| p.get(None)).map(|p| p.as_str().to_string()), Some(url.clone()));
    // Anyone may load it: the very picture the account has, cacheable for good.
    let base = app.base.clone();
    let get = |p: String| {
        let url = format!("{base}{p}");
        async move { tool().get(url).send().await.expect("get") }
    };
    let r = get(path.clone()).await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert!(r.headers()["cache-control"].to_str().unwrap_or_default().contains("immutable"));
    let served = r.bytes().await.expect("body").to_vec();
    let (s, stored) = {
        let r = ann.http.get(format!("{}/api/v1/users/ann/avatar", app.base)).send().await.expect("get");
        (r.status().as_u16(), r.bytes().await.expect("body").to_vec())
    };
    assert_eq!((s, served.len()), (200, stored.len()));
    assert_eq!(served, stored);
    // An altered address, another account's id under the same tag, a made-up one: 404.
    let tampered = path.replacen(".png", "x.png", 1);
    let (prefix, tag) = path.rsplit_once('-').expect("id-at-tag");
    let flipped = format!("{prefix}-{}{}", if tag.starts_with('A') { "B" } else { "A" }, &tag[1..]);
    let (_, rest) = path.trim_start_matches("/pictures/").split_once('-').expect("id-");
    let other_id = format!("/pictures/1-{rest}");
    for p in [tampered, flipped, other_id, "/pictures/nothing.png".to_string(), "/pictures/1-2-3".to_string()] {
        assert_eq!(get(p.clone()).await.status().as_u16(), 404, "{p}");
    }
    // A new picture retires the old address; a removed one leaves no claim.
    app.clock.advance_ms(1_000);
    upload(png(200)).await;
    assert_eq!(get(path.clone()).await.status().as_u16(), 404);
    let (_, info) = userinfo(&app, t["access_token"].as_str().expect("access")).await;
    let newer = info["picture"].as_str().expect("a picture claim").to_string();
    assert_ne!(newer, url);
    assert_eq!(get(newer.trim_start_matches(ORIGIN).to_string()).await.status().as_u16(), 200);
    let r = ann.http.delete(format!("{}/api/v1/me/avatar", app.base)).send().await.expect("delete");
    assert_eq!(r.status(), 204);
    let (_, info) = userinfo(&app, t["access_token"].as_str().expect("access")).await;
    assert!(info.get("picture").is_none(), "{info}");
    assert_eq!(get(newer.trim_start_matches(ORIGIN).to_string()).await.status().as_u16(), 404);
}

/// The provider's routes in the authorization matrix: what each answers a caller with no
/// credentials of its own (a browser without a session, a script with an API key, a tool
/// that did not authenticate). Every route of `server::oauth::ROUTES` needs a case.
#[tokio::test]
async fn the_providers_routes_answer_callers_without_credentials() {
    let app = app().await;
    let admin = admin(&app).await;
    let (s, made) = admin.post_json("/api/v1/tokens", &json!({"name": "script", "kind": "pat"})).await;
    assert_eq!(s, 201, "{made}");
    let api_key = made["token"].as_str().expect("a personal access token").to_string();
    // (method, path, form, expected status)
    type Case = (&'static str, &'static str, &'static [(&'static str, &'static str)], u16);
    let cases: &[Case] = &[
        ("GET", "/.well-known/openid-configuration", &[], 200),
        ("GET", "/.well-known/oauth-authorization-server", &[], 200),
        ("GET", "/oauth/jwks", &[], 200),
        ("GET", "/oauth/authorize", &[], 303),
        ("POST", "/oauth/authorize", &[("client_id", "nope")], 303),
        ("POST", "/oauth/token", &[("grant_type", "authorization_code"), ("code", "x")], 401),
        ("GET", "/oauth/userinfo", &[], 401),
        ("POST", "/oauth/userinfo", &[], 401),
        ("POST", "/oauth/introspect", &[("token", "x")], 401),
        ("POST", "/oauth/revoke", &[("token", "x")], 401),
        ("GET", "/oauth/logout", &[], 303),
        ("POST", "/oauth/logout", &[], 303),
        ("GET", "/signed-in", &[], 303),
        // (a script's API key passes forward authentication like a session: tools behind a
        // proxy may be scripted; the browser without a session is sent to sign in)
        ("GET", "/auth/forward", &[], 401),
        ("GET", "/auth/forward/start", &[], 303),
        ("GET", "/pictures/{file}", &[], 404),
    ];
    let mut listed: Vec<(String, String)> = server::oauth::ROUTES
        .iter()
        .flat_map(|(path, methods)| methods.iter().map(move |m| (m.to_string(), path.to_string())))
        .collect();
    listed.sort();
    let mut covered: Vec<(String, String)> = cases.iter().map(|(m, p, _, _)| (m.to_string(), p.to_string())).collect();
    covered.sort();
    assert_eq!(listed, covered, "every route of the provider has a case");
    let browser = app.browser_at(ORIGIN);
    for (method, path, form, want) in cases {
        // A browser without a session, then a script presenting an API key: an API key is not
        // an access token, and it opens nothing here.
        for (who, c) in [("browser", browser.http.clone()), ("api key", tool())] {
            let url = format!("{}{path}", app.base);
            let mut req = if *method == "GET" { c.get(&url) } else { c.post(&url).form(form) };
            if who == "api key" {
                req = req.bearer_auth(&api_key);
                if *path == "/oauth/authorize" || *path == "/oauth/logout" {
                    // (browser-only endpoints: a script's post has no page it came from)
                    if *method == "POST" {
                        continue;
                    }
                }
            }
            let status = req.send().await.expect("request").status().as_u16();
            let want = if who == "api key" && *path == "/auth/forward" { 200 } else { *want };
            assert_eq!(status, want, "{who}: {method} {path}");
        }
    }
}

/// Every route of the provider and of forward authentication is in the OpenAPI document, at
/// the site's root (its own server), and none of them is taken for an `/api/v1` route.
#[test]
fn the_providers_routes_are_in_the_openapi_document_at_the_root() {
    let doc = serde_json::to_value(server::rest::openapi()).expect("json");
    let api_routes = server::rest::routes();
    for (path, methods) in server::oauth::ROUTES {
        let item = &doc["paths"][*path];
        assert_eq!(item["servers"][0]["url"], "/", "{path}: {item}");
        for m in *methods {
            let op = &item[m.to_lowercase()];
            assert!(op["summary"].as_str().is_some_and(|s| !s.is_empty()), "{m} {path} undocumented");
            assert_eq!(op["tags"][0], "openid", "{m} {path}");
        }
        assert!(api_routes.iter().all(|(_, p)| p != path), "{path} is not under /api/v1");
    }
}
