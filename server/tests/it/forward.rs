//! Forward authentication for reverse proxies (issue 13): the proxy's check answers who may
//! through to a tool, for an organization and an ability, from the access model as it is
//! now; nobody signed in is sent to sign in and back, only to the hosts on the allow-list;
//! the session cookie can be set for the tools' parent domain. (The same behind a real nginx
//! is in end2end/tests/protect_a_tool_behind_a_proxy.spec.ts.)
use crate::common::{self, Client, TestApp, MEMBER_PW};

use serde_json::json;

const ORIGIN: &str = "http://roster.test";

async fn app() -> TestApp {
    TestApp::start_with(app::backend::Config {
        public_origin: Some(ORIGIN.into()),
        forward_auth_hosts: vec![
            app::domain::forward::ReturnHost::parse("adminer.example.com").expect("rule"),
            app::domain::forward::ReturnHost::parse("*.tools.example.com").expect("rule"),
        ],
        ..Default::default()
    })
    .await
}

async fn admin(app: &TestApp) -> Client {
    app.admin_at(ORIGIN).await
}

async fn member(app: &TestApp, admin: &Client, username: &str) -> Client {
    app.member_at(admin, username, ORIGIN).await
}

/// The proxy's check, as nginx's `auth_request` sends it (the browser's cookies along).
/// Answers the status, the headers and the refusal's reason (if any).
async fn check(c: &Client, query: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let r = c.http.get(format!("{}/auth/forward?{query}", c.base)).send().await.expect("check");
    let (s, h) = (r.status().as_u16(), r.headers().clone());
    let body: serde_json::Value = r.json().await.unwrap_or_default();
    (s, h, body["error"]["message"].as_str().unwrap_or_default().to_string())
}

fn header(h: &reqwest::header::HeaderMap, name: &str) -> String {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

fn location(r: &reqwest::Response) -> String {
    r.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

#[tokio::test]
async fn the_proxys_check_answers_who_may_through_from_the_access_model() {
    let app = app().await;
    let admin = admin(&app).await;
    let ann = member(&app, &admin, "ann").await;
    let (s, body) = admin.post_json("/api/v1/orgs", &json!({"name": "Beta"})).await;
    assert_eq!(s, 201, "{body}");

    let (s, h, _) = check(&ann, "org=Default&ability=use-adminer").await;
    assert_eq!(s, 200);
    assert_eq!(
        (
            header(&h, "x-roster-user"),
            header(&h, "x-roster-email"),
            header(&h, "x-roster-org"),
            header(&h, "x-roster-role")
        ),
        ("ann".into(), "ann@example.com".into(), "Default".into(), "Member".into())
    );
    assert!(header(&h, "x-roster-abilities").split(',').any(|a| a == "use-adminer"), "{h:?}");
    assert_eq!(header(&h, "cache-control"), "no-store");
    // Without an organization: the session's current one; without an ability: any member.
    assert_eq!(check(&ann, "").await.0, 200);
    // What she does not hold, and where she is not a member: 403 with the reason.
    let (s, _, why) = check(&ann, "org=Default&ability=manage-users").await;
    assert_eq!((s, why.as_str()), (403, "ann may not manage-users in Default."));
    let (s, _, why) = check(&ann, "org=Beta").await;
    assert_eq!((s, why.as_str()), (403, "ann is not a member of Beta."));
    // A proxy asking about something that does not exist lets nobody through.
    let (s, _, why) = check(&ann, "org=Nope").await;
    assert_eq!((s, why.as_str()), (400, "There is no organization Nope."));
    assert_eq!(check(&ann, "ability=fly").await.0, 400);
    // A super admin passes everywhere.
    let (s, h, _) = check(&admin, "org=Beta&ability=manage-users").await;
    assert_eq!((s, header(&h, "x-roster-role")), (200, "super admin".into()));

    // The role matrix decides the very next check.
    let (_, roles) = admin.get("/api/v1/roles").await;
    let member_role = roles
        .as_array()
        .or_else(|| roles["roles"].as_array())
        .and_then(|l| l.iter().find(|r| r["name"] == "Member"))
        .and_then(|r| r["id"].as_i64())
        .expect("the Member role");
    let (s, body) = admin.delete(&format!("/api/v1/roles/{member_role}/abilities/use-adminer")).await;
    assert!(s < 300, "{s} {body}");
    assert_eq!(check(&ann, "org=Default&ability=use-adminer").await.0, 403);

    // Nobody signed in: 401, or (redirect=1, for proxies that pass the answer on) the way to
    // sign in, back to the address the proxy was asked for.
    let anon = app.browser_at(ORIGIN);
    assert_eq!(check(&anon, "org=Default").await.0, 401);
    let r = anon
        .http
        .get(format!("{}/auth/forward?org=Default&redirect=1", app.base))
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-host", "adminer.example.com")
        .header("x-forwarded-uri", "/?db=x&y=1")
        .send()
        .await
        .expect("check");
    assert_eq!(r.status().as_u16(), 302);
    assert_eq!(
        location(&r),
        format!("{ORIGIN}/auth/forward/start?rd=https%3A%2F%2Fadminer.example.com%2F%3Fdb%3Dx%26y%3D1")
    );
}

#[tokio::test]
async fn signing_in_for_a_tool_returns_only_to_the_allowed_hosts() {
    let app = app().await;
    let admin = admin(&app).await;
    let body = json!({"username": "bob", "email": "bob@example.com", "password": MEMBER_PW, "org": "Default", "role": "Member"});
    assert_eq!(admin.post_json("/api/v1/users", &body).await.0, 201);
    let anon = app.browser_at(ORIGIN);
    let start = |rd: &str| {
        let mut s = form_urlencoded::Serializer::new(String::new());
        s.append_pair("rd", rd);
        format!("{}/auth/forward/start?{}", app.base, s.finish())
    };
    for evil in [
        "https://evil.example/",
        "https://adminer.example.com@evil.example/",
        "https://adminer.example.com.evil.example/",
        "//adminer.example.com/",
        "javascript:alert(1)",
        "https://tools.example.com/",
        "",
    ] {
        let r = anon.http.get(start(evil)).send().await.expect("start");
        assert_eq!(location(&r), "/oauth/stopped?why=return_address", "{evil:?}");
    }
    // An allowed one: sign in, then back to the tool.
    for rd in ["https://adminer.example.com/?db=x", "https://grafana.tools.example.com/d/1"] {
        let c = app.browser_at(ORIGIN);
        let r = c.http.get(start(rd)).send().await.expect("start");
        assert_eq!(location(&r), "/sign-in?continue=1");
        assert_eq!(c.rpc("sign_in", &[("login", "bob"), ("password", MEMBER_PW)]).await.0, 200);
        let r = c.http.get(format!("{}/signed-in", app.base)).send().await.expect("signed-in");
        assert_eq!(location(&r), rd);
        // Signed in, yet sent here again: the proxy did not see the session; no loop.
        let r = c.http.get(start(rd)).send().await.expect("start");
        assert_eq!(location(&r), "/oauth/stopped?why=session_not_shared");
    }
    // A return cookie naming another host (set by a tool on a subdomain, say) is not followed.
    assert_eq!(app.signed_in_returning_to("https://evil.example/").await, "/");
}

#[tokio::test]
async fn the_session_cookie_can_be_set_for_the_tools_parent_domain() {
    let app = TestApp::start_with(app::backend::Config {
        public_origin: Some(ORIGIN.into()),
        secure_cookies: true,
        cookie_domain: Some("example.com".into()),
        ..Default::default()
    })
    .await;
    let c = app.browser_at(ORIGIN);
    let r = c
        .rpc_raw(
            "sign_up",
            &[
                ("username", "admin"),
                ("full_name", "A"),
                ("email", "admin@example.com"),
                ("password", common::ADMIN_PW),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 200);
    let set: Vec<String> =
        r.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok().map(String::from)).collect();
    let session = set.iter().find(|c| c.starts_with("__Secure-roster_session=")).unwrap_or_else(|| panic!("{set:?}"));
    assert!(
        session.contains("; Domain=example.com") && session.contains("; Secure") && session.contains("HttpOnly"),
        "{session}"
    );
    // (a __Host- cookie may not name a domain: browsers would drop it)
    assert!(!set.iter().any(|c| c.starts_with("__Host-roster_session")), "{set:?}");
    let token =
        session.trim_start_matches("__Secure-roster_session=").split(';').next().unwrap_or_default().to_string();
    let me = reqwest::Client::new()
        .get(format!("{}/auth/forward", app.base))
        .header("cookie", format!("__Secure-roster_session={token}"))
        .send()
        .await
        .expect("check");
    assert_eq!(me.status().as_u16(), 200, "the tools' proxy recognizes the session");
}
