//! Invitation links (issue 14): an admin invites an email address with a role; opening the
//! link changes nothing; the form's POST creates the account once (also with parallel
//! requests on two instances); expired, withdrawn and used links are refused, each with its
//! reason; the grant is checked again when the link is used; a signed-in account joins with
//! it; mail goes through a real SMTP server (the catcher the test command starts). Both
//! backends.
use crate::common;

use app::backend::config::Config;
use common::{Client, TestApp, MEMBER_PW};
use serde_json::{json, Value};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

fn role_id(app: &TestApp, name: &str) -> i64 {
    let model = app.backend.access.read();
    model.roles.iter().find(|(_, r)| r.name == name).map(|(id, _)| id.0).expect("role")
}

/// Invites `email` into Default as `role` through the API; the answer.
async fn invite(app: &TestApp, admin: &Client, email: &str, role: &str) -> (u16, Value) {
    admin.post_json("/api/v1/orgs/Default/invitations", &json!({"email": email, "role": role_id(app, role)})).await
}

fn token_of(made: &Value) -> String {
    let link = made["link"].as_str().unwrap_or_else(|| panic!("a link in {made}"));
    link.rsplit('/').next().expect("token").to_string()
}

async fn accept(c: &Client, token: &str, username: &str) -> (u16, Value) {
    c.rpc(
        "accept_invitation",
        &[("token", token), ("username", username), ("full_name", "Invited Person"), ("password", MEMBER_PW)],
    )
    .await
}

#[tokio::test]
async fn an_invitation_link_creates_one_account_in_the_organization() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let body =
        json!({"email": "nia@example.com", "role": role_id(&app, "Member"), "abilities": ["run-backups"], "days": 3});
    let (s, made) = admin.post_json("/api/v1/orgs/Default/invitations", &body).await;
    assert_eq!(s, 201, "{made}");
    // Without SMTP the link is in the answer (once), with why it was not mailed.
    assert_eq!((&made["emailed"], &made["invitation"]["status"]), (&json!(false), &json!("pending")));
    assert!(made["delivery"].as_str().is_some_and(|d| d.contains("--smtp-url")), "{made}");
    let token = token_of(&made);
    assert_eq!(token.len(), 43, "256 random bits");
    assert_eq!(app.count("SELECT COUNT(*) FROM invitations").await, 1);
    assert!(app.texts("SELECT email FROM invitations").await == vec!["nia@example.com".to_string()]);
    // Opening the link (a mail scanner, a preview) only shows the page, however often.
    let visitor = app.browser();
    for _ in 0..3 {
        let (s, page) = visitor.get_text(&format!("/invite/{token}")).await;
        assert_eq!(s, 200);
        assert!(page.contains("admin invited nia@example.com to join Default as Member"), "{page}");
        let r = visitor.http.head(format!("{}/invite/{token}", app.base)).send().await.expect("head");
        // (the page's address is its token: it never goes to another site as a Referer; our
        // own forms need it, and `no-referrer` would make browsers send `Origin: null`)
        assert_eq!(r.headers().get("referrer-policy").and_then(|v| v.to_str().ok()), Some("same-origin"));
        let (s, p) = visitor.rpc("preview_invitation", &[("token", &token)]).await;
        assert_eq!((s, &p["status"]), (200, &json!("pending")), "{p}");
    }
    // A refused form uses nothing.
    let (s, e) = visitor
        .rpc(
            "accept_invitation",
            &[("token", &token), ("username", "nia"), ("full_name", "Nia"), ("password", "short")],
        )
        .await;
    assert_eq!(s, 422, "{e}");
    // The form's POST: the account, in Default as a Member with the extra ability, signed in.
    let (s, me) = accept(&visitor, &token, "nia").await;
    assert_eq!(s, 200, "{me}");
    let (s, me) = visitor.get("/api/v1/me").await;
    assert_eq!((s, &me["username"], &me["email"]), (200, &json!("nia"), &json!("nia@example.com")), "{me}");
    let (_, row) = admin.get("/api/v1/orgs/Default/members?search=nia").await;
    let nia = row["members"].as_array().expect("members").iter().find(|m| m["username"] == json!("nia")).cloned();
    let nia = nia.expect("nia is a member");
    assert_eq!((&nia["role"], &nia["extras"]), (&json!("Member"), &json!(["run-backups"])));
    // Once only.
    let other = app.browser();
    let (s, e) = accept(&other, &token, "nia2").await;
    assert_eq!(s, 410, "{e}");
    assert!(e.to_string().contains("used already"), "{e}");
    let (_, list) = admin.get("/api/v1/orgs/Default/invitations").await;
    assert_eq!((&list[0]["status"], &list[0]["accepted_by"]), (&json!("accepted"), &json!("nia")), "{list}");
    let events = app.texts("SELECT event FROM audit_events WHERE event LIKE 'invite.%' ORDER BY id").await;
    assert_eq!(events, vec!["invite.created", "invite.accepted"]);
    // The token is stored only as its hash.
    use sha2::Digest;
    let stored = app.int_bytes_rows("SELECT id, token_hash FROM invitations").await;
    assert_eq!(stored[0].1, sha2::Sha256::digest(token.as_bytes()).to_vec());
}

#[tokio::test]
async fn expired_withdrawn_and_unknown_links_are_refused_each_with_its_reason() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let (_, old) = invite(&app, &admin, "old@example.com", "Viewer").await;
    let (_, gone) = invite(&app, &admin, "gone@example.com", "Viewer").await;
    let visitor = app.browser();
    // Withdrawn: asks nothing more of the admin than the id.
    let gone_id = gone["invitation"]["id"].as_i64().expect("id");
    let (s, w) = admin.post_json(&format!("/api/v1/orgs/Default/invitations/{gone_id}/revoke"), &json!({})).await;
    assert_eq!((s, &w["status"]), (200, &json!("revoked")), "{w}");
    let (s, e) = accept(&visitor, &token_of(&gone), "gone").await;
    assert_eq!(s, 410);
    assert!(e.to_string().contains("withdrawn"), "{e}");
    let (s, _) = admin.post_json(&format!("/api/v1/orgs/Default/invitations/{gone_id}/revoke"), &json!({})).await;
    assert_eq!(s, 409, "withdrawn already");
    // Expired: the page says when, and who to ask.
    app.clock.advance_ms(7 * DAY_MS);
    // (the admin signs in again: a week is past the session's life)
    let admin = app.browser();
    let (s, e) = admin.rpc("sign_in", &[("login", "admin"), ("password", common::ADMIN_PW)]).await;
    assert_eq!(s, 200, "{e}");
    let (s, p) = visitor.rpc("preview_invitation", &[("token", &token_of(&old))]).await;
    assert_eq!((s, &p["status"]), (200, &json!("expired")));
    let (s, page) = visitor.get_text(&format!("/invite/{}", token_of(&old))).await;
    assert_eq!(s, 200);
    assert!(page.contains("expired on") && page.contains("Ask admin for a new one"), "{page}");
    let (s, e) = accept(&visitor, &token_of(&old), "old").await;
    assert_eq!(s, 410);
    assert!(e.to_string().contains("expired on"), "{e}");
    // A new link for the expired one: the old link stops working, the new one works.
    let old_id = old["invitation"]["id"].as_i64().expect("id");
    let (s, again) = admin.post_json(&format!("/api/v1/orgs/Default/invitations/{old_id}/resend"), &json!({})).await;
    assert_eq!((s, &again["invitation"]["status"]), (200, &json!("pending")), "{again}");
    let (s, _) = accept(&visitor, &token_of(&old), "old").await;
    assert_eq!(s, 404, "the old link is unknown now");
    let (s, me) = accept(&visitor, &token_of(&again), "old").await;
    assert_eq!(s, 200, "{me}");
    // Unknown: not found, whoever asks.
    let (s, e) = app.browser().rpc("preview_invitation", &[("token", "not-a-token")]).await;
    assert_eq!(s, 404, "{e}");
    assert!(e.to_string().contains("check that the whole link was copied"), "{e}");
    // Mistakes at creation are named.
    let (s, e) = admin
        .post_json(
            "/api/v1/orgs/Default/invitations",
            &json!({"email": "not an email", "role": role_id(&app, "Viewer")}),
        )
        .await;
    assert_eq!(s, 422, "{e}");
    let (s, e) = admin
        .post_json(
            "/api/v1/orgs/Default/invitations",
            &json!({"email": "d@example.com", "role": role_id(&app, "Viewer"), "days": 31}),
        )
        .await;
    assert_eq!(s, 422, "{e}");
    let events = app.texts("SELECT event FROM audit_events WHERE event LIKE 'invite.%' ORDER BY id").await;
    assert!(
        events.contains(&"invite.revoked".to_string()) && events.contains(&"invite.resent".to_string()),
        "{events:?}"
    );
}

#[tokio::test]
async fn the_grant_is_checked_when_inviting_and_again_when_the_link_is_used() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let olivia = app.member(&admin, "olivia", "Default", "Admin").await;
    // (a role that may invite, but holds less than a Member)
    use app::domain::abilities::{Ability, AbilitySet};
    let recruiter = AbilitySet::of(&[Ability::CreateUsers, Ability::ViewUsers]);
    app::backend::services::roles::create(&app.backend, &app::backend::Ctx::cli(), "Recruiter", recruiter)
        .await
        .expect("role");
    let viewer = app.member(&admin, "vic", "Default", "Viewer").await;
    // A viewer may not invite at all.
    let (s, _) = viewer.rpc("list_invitations", &[]).await;
    assert_eq!(s, 403);
    let (s, made) = olivia
        .rpc("create_invitation", &[("email", "pat@example.com"), ("role", &role_id(&app, "Member").to_string())])
        .await;
    assert_eq!(s, 200, "{made}");
    let token = token_of(&made);
    // Olivia becomes a Recruiter before Pat uses the link: she may still invite, but can no
    // longer give Member.
    let (s, e) = olivia
        .rpc("create_invitation", &[("email", "max@example.com"), ("role", &role_id(&app, "Admin").to_string())])
        .await;
    assert_eq!(s, 200, "{e}");
    let (s, e) =
        admin.patch_json("/api/v1/orgs/Default/members/olivia", &json!({"role": role_id(&app, "Recruiter")})).await;
    assert_eq!(s, 200, "{e}");
    let (s, e) = accept(&app.browser(), &token, "pat").await;
    assert_eq!(s, 403, "{e}");
    assert!(e.to_string().contains("GrantExceedsOwn"), "{e}");
    // Inviting beyond what one holds is refused from the start.
    let (s, e) = olivia
        .rpc("create_invitation", &[("email", "max2@example.com"), ("role", &role_id(&app, "Member").to_string())])
        .await;
    assert_eq!(s, 403, "{e}");
    assert!(e.to_string().contains("GrantExceedsOwn"), "{e}");
    assert_eq!(app.count("SELECT COUNT(*) FROM users WHERE username_key = 'pat'").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM invitations WHERE accepted_at IS NOT NULL").await, 0, "still unused");
}

#[tokio::test]
async fn parallel_acceptances_on_two_instances_give_one_account() {
    let app = TestApp::start().await;
    let other = app.second_instance().await;
    let admin = app.admin().await;
    let (_, made) = invite(&app, &admin, "rush@example.com", "Viewer").await;
    let token = token_of(&made);
    let mut tasks = Vec::new();
    for n in 0..10 {
        let c = if n % 2 == 0 { app.browser() } else { other.browser() };
        let token = token.clone();
        tasks.push(tokio::spawn(async move { accept(&c, &token, &format!("rush{n}")).await.0 }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.expect("task"));
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 200 || *s == 410), "{statuses:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM users WHERE email_key = 'rush@example.com'").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_events WHERE event = 'invite.accepted'").await, 1);
}

#[tokio::test]
async fn a_signed_in_account_joins_with_the_link() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    app::backend::services::orgs::create(&app.backend, &app::backend::Ctx::cli(), "Beta").await.expect("org");
    let sam = app.member(&admin, "sam", "Beta", "Viewer").await;
    let (_, made) = invite(&app, &admin, "sam.elsewhere@example.com", "Operator").await;
    let token = token_of(&made);
    let (s, p) = sam.rpc("preview_invitation", &[("token", &token)]).await;
    assert_eq!((s, &p["signed_in_as"]), (200, &json!("sam")));
    let (s, e) = sam.rpc("join_invitation", &[("token", &token)]).await;
    assert_eq!(s, 200, "{e}");
    let role = {
        let model = app.backend.access.read();
        let id = *model.user_ids.get("sam").expect("sam");
        model.role_in(id, app::domain::ids::DEFAULT_ORG)
    };
    assert_eq!(role.as_deref(), Some("Operator"));
    // A member already: refused, the invitation left unused.
    let (_, again) = invite(&app, &admin, "sam@example.com", "Viewer").await;
    let (s, e) = sam.rpc("join_invitation", &[("token", &token_of(&again))]).await;
    assert_eq!(s, 409, "{e}");
    // Signed out: no joining.
    let (s, _) = app.browser().rpc("join_invitation", &[("token", &token_of(&again))]).await;
    assert_eq!(s, 401);
}

#[tokio::test]
async fn invitation_mail_goes_out_through_smtp_with_the_link() {
    let smtp = std::env::var("ROSTER_TEST_SMTP_URL")
        .expect("ROSTER_TEST_SMTP_URL is not set: scripts/test.sh starts the SMTP catcher");
    let maildir = std::env::var("ROSTER_TEST_MAILDIR").expect("ROSTER_TEST_MAILDIR");
    let config = Config {
        smtp_url: Some(smtp),
        smtp_from: "Roster <roster@example.com>".into(),
        public_origin: Some("http://roster.test".into()),
        ..Config::default()
    };
    let app = TestApp::start_with(config).await;
    let admin = app.admin_at("http://roster.test").await;
    // (a recipient of this test alone: the catcher is shared by every test of the run)
    let nonce = common::now_ms();
    let email = format!("mailed-{nonce}@example.com");
    let (s, made) = invite(&app, &admin, &email, "Viewer").await;
    assert_eq!(s, 201, "{made}");
    assert_eq!((&made["emailed"], &made["link"]), (&json!(true), &Value::Null), "mailed, not shown: {made}");
    let message = mail_to(&maildir, &email).expect("the mail reached the SMTP server");
    assert!(message.contains("Subject: You are invited to Default on Roster"), "{message}");
    assert!(message.lines().any(|l| l.starts_with("From:") && l.contains("<roster@example.com>")), "{message}");
    let link = message
        .split_whitespace()
        .find(|w| w.starts_with("http://roster.test/invite/"))
        .unwrap_or_else(|| panic!("a link in {message}"))
        .to_string();
    let token = link.rsplit('/').next().expect("token");
    let (s, me) = accept(&app.browser_at("http://roster.test"), token, &format!("mailed{nonce}")).await;
    assert_eq!(s, 200, "{me}");
    // A mail server that does not answer: the link is shown instead, with why.
    let down = Config {
        smtp_url: Some("smtp://127.0.0.1:1".into()),
        public_origin: Some("http://roster.test".into()),
        ..Config::default()
    };
    let app = TestApp::start_with(down).await;
    let admin = app.admin_at("http://roster.test").await;
    let (s, made) = invite(&app, &admin, "unmailed@example.com", "Viewer").await;
    assert_eq!((s, &made["emailed"]), (201, &json!(false)), "{made}");
    assert!(made["delivery"].as_str().is_some_and(|d| d.contains("not sent")), "{made}");
    assert!(made["link"].as_str().is_some_and(|l| l.starts_with("http://roster.test/invite/")), "{made}");
}

/// The message the catcher stored for `to`, if any (its Maildir: new/ and cur/).
fn mail_to(maildir: &str, to: &str) -> Option<String> {
    for sub in ["new", "cur"] {
        let Ok(entries) = std::fs::read_dir(std::path::Path::new(maildir).join(sub)) else { continue };
        for e in entries.flatten() {
            let text = std::fs::read_to_string(e.path()).unwrap_or_default();
            if text.contains(&format!("To: {to}")) {
                return Some(text);
            }
        }
    }
    None
}

#[tokio::test]
async fn the_command_line_invites_lists_and_withdraws() {
    let app = TestApp::start().await;
    let db = app.db_url.clone();
    let (code_, out, err) = common::roster(
        &db,
        &["invite", "create", "--org", "Default", "--email", "cli@example.com", "--role", "Member"],
    );
    assert_eq!(code_, 0, "{err}");
    assert!(out.trim().starts_with("/invite/"), "the link alone on standard output: {out}");
    assert!(err.contains("Invited cli@example.com to Default as Member"), "{err}");
    let (code_, out, _) = common::roster(&db, &["invite", "list", "--org", "Default"]);
    assert_eq!(code_, 0);
    assert!(out.contains("pending") && out.contains("cli@example.com") && out.contains("the command line"), "{out}");
    let id = out.split_whitespace().next().expect("id").to_string();
    let (code_, _, err) =
        common::roster(&db, &["invite", "create", "--org", "Default", "--email", "x@example.com", "--role", "Nope"]);
    assert_ne!(code_, 0);
    assert!(err.to_lowercase().contains("role"), "{err}");
    let (code_, out, err) = common::roster(&db, &["invite", "revoke", "--org", "Default", &id]);
    assert_eq!(code_, 0, "{err}");
    assert!(out.contains("withdrawn"), "{out}");
    let (code_, _, _) = common::roster(&db, &["invite", "revoke", "--org", "Default", &id]);
    assert_ne!(code_, 0, "withdrawn already");
}

/// Accepting with a passkey: the server half (the browser half, with Chrome's virtual
/// authenticator, is in end2end/tests/invite_people.spec.ts). The options are for the account
/// to be; nothing exists until a verified passkey comes back; taken names are said before the
/// browser makes a passkey; a ceremony belongs to its invitation; a used link refuses both.
#[tokio::test]
async fn accepting_with_a_passkey_makes_nothing_until_the_passkey_is_verified() {
    use crate::passkeys::ORIGIN;
    let (app, admin) = crate::passkeys::app_with_passkeys().await;
    let (_, made) = invite(&app, &admin, "kai@example.com", "Viewer").await;
    let token = token_of(&made);
    let (_, other) = invite(&app, &admin, "lee@example.com", "Viewer").await;
    let visitor = app.browser_at(ORIGIN);
    let (s, p) = visitor.rpc("preview_invitation", &[("token", &token)]).await;
    assert_eq!((s, &p["passkeys"]), (200, &json!(true)), "{p}");
    // Names are checked first, each on its field; a taken username is said before any passkey.
    let (s, e) =
        visitor.rpc("begin_invitation_passkey", &[("token", &token), ("username", "1bad"), ("full_name", "Kai")]).await;
    assert_eq!(s, 422, "{e}");
    let (s, e) = visitor
        .rpc("begin_invitation_passkey", &[("token", &token), ("username", "Admin"), ("full_name", "Kai")])
        .await;
    assert_eq!(s, 409, "{e}");
    assert!(e.to_string().contains("The username Admin is taken"), "{e}");
    let (s, c) = visitor
        .rpc("begin_invitation_passkey", &[("token", &token), ("username", "kai"), ("full_name", "Kai Lund")])
        .await;
    assert_eq!(s, 200, "{c}");
    let o: Value = serde_json::from_str(c["options"].as_str().expect("options")).expect("options JSON");
    let pk = &o["publicKey"];
    assert_eq!(
        (&pk["rp"]["id"], &pk["user"]["name"], &pk["user"]["displayName"]),
        (&json!("localhost"), &json!("kai"), &json!("Kai Lund"))
    );
    assert_eq!(pk["authenticatorSelection"]["residentKey"], "required");
    let ceremony = c["ceremony"].as_str().expect("ceremony").to_string();
    assert_eq!(app.count("SELECT COUNT(*) FROM users WHERE username_key = 'kai'").await, 0, "no account yet");
    // A ceremony started for one invitation does not finish another.
    let (s, e) = visitor
        .rpc(
            "finish_invitation_passkey",
            &[("token", &token_of(&other)), ("ceremony", &ceremony), ("credential", "{}")],
        )
        .await;
    assert_eq!(s, 422, "{e}");
    assert!(e.to_string().contains("expired"), "{e}");
    // A forged answer: refused and audited, no account, the invitation still pending.
    let (_, c) =
        visitor.rpc("begin_invitation_passkey", &[("token", &token), ("username", "kai"), ("full_name", "Kai")]).await;
    let ceremony = c["ceremony"].as_str().expect("ceremony").to_string();
    let (s, e) = visitor
        .rpc("finish_invitation_passkey", &[("token", &token), ("ceremony", &ceremony), ("credential", "{}")])
        .await;
    assert_eq!(s, 422, "{e}");
    assert!(e.to_string().contains("could not be verified"), "{e}");
    assert_eq!(app.count("SELECT COUNT(*) FROM users WHERE username_key = 'kai'").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM invitations WHERE accepted_at IS NOT NULL").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE event = 'invite.accepted' AND outcome = 'failure'").await,
        1
    );
    // (single use: the same ceremony again has expired)
    let (s, e) = visitor
        .rpc("finish_invitation_passkey", &[("token", &token), ("ceremony", &ceremony), ("credential", "{}")])
        .await;
    assert_eq!(s, 422);
    assert!(e.to_string().contains("expired"), "{e}");
    // Once the link is used (here with a password), the passkey way is refused as well.
    let (_, c) =
        visitor.rpc("begin_invitation_passkey", &[("token", &token), ("username", "kai"), ("full_name", "Kai")]).await;
    let ceremony = c["ceremony"].as_str().expect("ceremony").to_string();
    let (s, me) = accept(&app.browser_at(ORIGIN), &token, "kai2").await;
    assert_eq!(s, 200, "{me}");
    let (s, e) = visitor
        .rpc("finish_invitation_passkey", &[("token", &token), ("ceremony", &ceremony), ("credential", "{}")])
        .await;
    assert_eq!(s, 410, "{e}");
    let (s, e) =
        visitor.rpc("begin_invitation_passkey", &[("token", &token), ("username", "kai"), ("full_name", "Kai")]).await;
    assert_eq!(s, 410, "{e}");
    // An invitation to an address that has an account: sign in and join instead.
    let (_, again) = invite(&app, &admin, "KAI@example.com", "Viewer").await;
    let (s, e) = visitor
        .rpc("begin_invitation_passkey", &[("token", &token_of(&again)), ("username", "kai3"), ("full_name", "Kai")])
        .await;
    assert_eq!(s, 409, "{e}");
    assert!(e.to_string().contains("exists already"), "{e}");
}
