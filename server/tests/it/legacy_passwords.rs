//! Password hashes from other systems (issue 12): made here by those systems' own tools
//! (`mkpasswd`, `openssl passwd`, `htpasswd`), plus published vectors and werkzeug's; an
//! account created with one signs in, and that first sign-in replaces the hash with argon2id
//! (compare-and-swap, audited, not a password change); a wrong password changes nothing.
use crate::common;

use common::{code, TestApp, ADMIN_PW};
use serde_json::{json, Value};

/// Runs one of Debian's tools and returns its output line.
fn tool(cmd: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd} is missing ({e}): scripts/install.sh test installs it"));
    assert!(out.status.success(), "{cmd} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// (username, password, hash, the format's name in the audit trail)
fn made_elsewhere() -> Vec<(&'static str, &'static str, String, &'static str)> {
    let htpasswd = tool("htpasswd", &["-nbB", "-C", "10", "x", "dbackup pass 1"]);
    let bcrypt = htpasswd.split_once(':').map(|(_, h)| h.to_string()).expect("user:hash");
    assert!(bcrypt.starts_with("$2y$10$"), "{bcrypt}");
    vec![
        // SlashDB's own: sha512-crypt with 656,000 rounds.
        ("slash", "slashdb pass 1", tool("mkpasswd", &["-m", "sha-512", "-R", "656000", "slashdb pass 1"]), "sha512-crypt"),
        ("ossl", "openssl pass 1", tool("openssl", &["passwd", "-6", "openssl pass 1"]), "sha512-crypt"),
        ("dback", "dbackup pass 1", bcrypt, "bcrypt"),
        // Drepper's published SHA-crypt vector.
        (
            "drepper",
            "Hello world!",
            "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.".into(),
            "sha512-crypt",
        ),
        // Databand (Flask-AppBuilder): werkzeug 3.1.8's generate_password_hash.
        (
            "band",
            "secret-pass",
            "scrypt:1024:8:1$TUYnLLdbllqN8cA0$75102145ad67dbb076b5386fe439345b3a04aee355cd776a9ab5ed821b576bfa33b0ad83bd4929469f36966d351d98503ca2bb27be646ee5ca5d9d0c6a36e921".into(),
            "werkzeug-scrypt",
        ),
        (
            "band2",
            "secret-pass",
            "pbkdf2:sha256:1000$fVoqaRCMVPMzipfL$c8f9d2f1a457e2fb23388275e09cee73899cc6c9b08ef0ee7506fb8d1e31730b".into(),
            "werkzeug-pbkdf2",
        ),
    ]
}

async fn stored_hash(app: &TestApp, username: &str) -> String {
    app.texts(&format!("SELECT password_hash FROM users WHERE username_key = '{username}'")).await.remove(0)
}

async fn updated_at(app: &TestApp, username: &str) -> i64 {
    app.count(&format!("SELECT updated_at FROM users WHERE username_key = '{username}'")).await
}

/// The signed-in username, or the refusal.
async fn sign_in(app: &TestApp, login: &str, password: &str) -> Value {
    let answer = app.browser().rpc("sign_in", &[("login", login), ("password", password)]).await.1;
    match answer.pointer("/Done/username") {
        Some(name) => json!({ "username": name }),
        None => answer,
    }
}

async fn rehashed(app: &TestApp) -> Vec<(String, String)> {
    let audit = app.backend.store.list_audit(&Default::default(), Default::default(), 500).await.expect("audit");
    audit
        .into_iter()
        .filter(|e| e.event == "user.password_rehashed")
        .map(|e| (e.target.unwrap_or_default(), e.after.unwrap_or_default()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hashes_from_other_systems_sign_in_once_then_become_argon2id() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let accounts = made_elsewhere();
    for (user, _, hash, _) in &accounts {
        let (s, body) = admin
            .post_json(
                "/api/v1/users",
                &json!({"username": user, "email": format!("{user}@example.com"), "password_hash": hash}),
            )
            .await;
        assert_eq!(s, 201, "{user}: {body}");
        assert!(body.get("password_hash").is_none(), "never answered");
        assert_eq!(&stored_hash(&app, user).await, hash, "kept as given until the first sign-in");
    }
    let (_, page) = admin.get("/api/v1/users?legacy_hash=true").await;
    assert_eq!(page["legacy_hashes"], json!(accounts.len()));
    assert_eq!(page["users"].as_array().map(Vec::len), Some(accounts.len()), "{page}");
    app.clock.advance_ms(5_000);

    for (user, password, hash, scheme) in &accounts {
        let before = updated_at(&app, user).await;
        // A wrong password is refused and changes nothing.
        assert_eq!(sign_in(&app, user, &format!("{password}x")).await, json!("SignInFailed"), "{user}");
        assert_eq!(&stored_hash(&app, user).await, hash, "{user}: a wrong password never re-hashes");
        // The right one signs in and replaces the hash.
        let answer = sign_in(&app, user, password).await;
        assert_eq!(answer["username"], json!(user), "{user}: {answer}");
        let now = stored_hash(&app, user).await;
        assert!(now.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{user}: {now}");
        assert_eq!(updated_at(&app, user).await, before, "{user}: not a change of the account");
        let events = rehashed(&app).await;
        let mine: Vec<_> = events.iter().filter(|(t, _)| t == user).collect();
        assert_eq!(mine.len(), 1, "{user}: audited once");
        assert!(mine[0].1.contains(scheme) && mine[0].1.contains("argon2id"), "{user}: {}", mine[0].1);
        // The argon2id hash now signs in, and the next sign-in re-hashes nothing.
        assert_eq!(sign_in(&app, user, password).await["username"], json!(user));
        assert_eq!(stored_hash(&app, user).await, now);
    }
    assert_eq!(rehashed(&app).await.len(), accounts.len());
    let (_, page) = admin.get("/api/v1/users?legacy_hash=true").await;
    assert_eq!(page["legacy_hashes"], json!(0));
    assert_eq!(page["users"], json!([]));
    // The other sessions of those accounts were not ended: it was not a password change.
    let (_, all) = admin.get("/api/v1/users").await;
    assert_eq!(all["legacy_hashes"], json!(0));
}

#[tokio::test]
async fn re_authentication_also_replaces_a_legacy_hash() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    // The super admin's own hash, as an import from SlashDB would have left it.
    let legacy = tool("openssl", &["passwd", "-6", ADMIN_PW]);
    app.exec(&format!("UPDATE users SET password_hash = '{legacy}' WHERE username_key = 'admin'")).await;
    let (s, body) = admin.rpc("reauthenticate", &[("password", "not the password")]).await;
    assert_eq!(s, 422, "{body}");
    assert_eq!(stored_hash(&app, "admin").await, legacy);
    let (s, body) = admin.rpc("reauthenticate", &[("password", ADMIN_PW)]).await;
    assert_eq!(s, 200, "{body}");
    assert!(stored_hash(&app, "admin").await.starts_with("$argon2id$"));
    assert_eq!(rehashed(&app).await.len(), 1);
    assert_eq!(sign_in(&app, "admin", ADMIN_PW).await["username"], json!("admin"));
}

#[tokio::test]
async fn unknown_weak_and_malformed_hashes_are_refused_naming_the_problem() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let users_before = app.count("SELECT COUNT(*) FROM users").await;
    let md5crypt = tool("openssl", &["passwd", "-1", "some password"]);
    for (hash, says) in [
        (md5crypt.as_str(), "md5-crypt"),
        ("5f4dcc3b5aa765d61d8327deb882cf99", "unsalted"),
        ("pbkdf2:sha256$abc$def", "iteration count"),
        ("$2b$31$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "cost 31"),
        ("hunter2", "Unknown password hash format"),
    ] {
        let (s, body) = admin
            .post_json(
                "/api/v1/users",
                &json!({"username": "imported", "email": "imported@example.com", "password_hash": hash}),
            )
            .await;
        assert_eq!(s, 422, "{hash}: {body}");
        assert_eq!(code(&body), "invalid");
        let message = body.to_string();
        assert!(message.contains("password_hash") && message.contains(says), "{hash}: {body}");
    }
    let (s, body) = admin
        .post_json(
            "/api/v1/users",
            &json!({"username": "imported", "email": "imported@example.com", "password": "a long enough passphrase", "password_hash": "$2y$10$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"}),
        )
        .await;
    assert_eq!(s, 422, "{body}");
    assert!(body.to_string().contains("not both"), "{body}");
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, users_before, "nothing written");
    let (s, body) = admin.get("/api/v1/users?legacy_hash=maybe").await;
    assert_eq!(s, 422, "{body}");
}

/// An admin resets the password while the account's first sign-in is verifying its legacy
/// hash (656,000 rounds: the slow part). The sign-in's re-hash is a compare-and-swap on the
/// hash it verified, so it never writes the old password back over the reset: afterwards
/// the new password works and the old one does not, whichever finished first.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_password_reset_during_the_first_sign_in_is_never_overwritten() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    for round in 0..3 {
        let user = format!("racer{round}");
        let hash = tool("mkpasswd", &["-m", "sha-512", "-R", "656000", "the old password"]);
        let (s, body) = admin
            .post_json(
                "/api/v1/users",
                &json!({"username": user, "email": format!("{user}@example.com"), "password_hash": hash}),
            )
            .await;
        assert_eq!(s, 201, "{body}");
        let signing_in = {
            let c = app.browser();
            let user = user.clone();
            tokio::spawn(async move {
                c.rpc("sign_in", &[("login", user.as_str()), ("password", "the old password")]).await
            })
        };
        let (s, body) =
            admin.patch_json(&format!("/api/v1/users/{user}"), &json!({"password": "the brand new password"})).await;
        assert_eq!(s, 200, "{body}");
        signing_in.await.expect("join");
        assert_eq!(
            sign_in(&app, &user, "the brand new password").await["username"],
            json!(user),
            "round {round}: the reset stands"
        );
        assert_eq!(sign_in(&app, &user, "the old password").await, json!("SignInFailed"), "round {round}");
    }
}
