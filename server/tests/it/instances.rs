//! Two instances on one database, as two processes behind a load balancer (each its own
//! pool, access model and caches), on the backend `ROSTER_TEST_BACKEND` names (`make test`
//! runs both): every rule that reads facts and then writes keeps its guarantee when the
//! racing requests are spread over both instances. On PostgreSQL this is what the write lock
//! (one advisory lock per write transaction) is for.
use crate::common;

use app::backend::Config;
use common::{enrol, oathtool, secs, Client, TestApp, ADMIN_PW, MEMBER_PW};
use serde_json::json;

/// Both instances must share the instance key (a TOTP seed sealed by one opens on the other).
const KEY: [u8; 32] = [7; 32];

async fn two_instances() -> (TestApp, TestApp) {
    let a = TestApp::start_with(Config { secret_key: Some(KEY), ..Default::default() }).await;
    let b = a.second_instance().await;
    (a, b)
}

/// A browser past the password step of `user` on `app` (its second factor is due).
async fn password_step(app: &TestApp, user: &str) -> Client {
    let c = app.browser();
    let (s, body) = c.rpc("sign_in", &[("login", user), ("password", MEMBER_PW)]).await;
    assert_eq!((s, body), (200, json!({"SecondFactor": {"totp": true, "passkey": false}})));
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_first_sign_ups_over_two_instances_make_one_super_admin() {
    let (a, b) = two_instances().await;
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let c = if i % 2 == 0 { a.browser() } else { b.browser() };
            tokio::spawn(async move {
                let (name, email) = (format!("first{i}"), format!("first{i}@example.com"));
                c.rpc("sign_up", &[("username", &name), ("full_name", ""), ("email", &email), ("password", ADMIN_PW)])
                    .await
            })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        let (status, body) = t.await.expect("join");
        if status == 200 {
            ok += 1;
        } else {
            assert_eq!(body, json!({"Forbidden": "SignUpClosed"}), "{status} {body}");
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(a.backend.store.user_count().await.expect("count"), 1);
    assert_eq!(a.count("SELECT COUNT(*) FROM users WHERE super_admin = TRUE").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_super_admins_demoting_each_other_on_two_instances_leave_one() {
    let (a, b) = two_instances().await;
    let first = a.admin().await;
    let _ = a.super_admin(&first, "root2", "root two long passphrase").await;
    for round in 0..5 {
        // admin acts on instance A, root2 on instance B, at the same moment (fresh sessions:
        // the loser of the previous round was disabled, which ended its sessions).
        let admin = a.browser();
        let (s, body) = admin.rpc("sign_in", &[("login", "admin"), ("password", ADMIN_PW)]).await;
        assert_eq!(s, 200, "{body}");
        let root2 = b.browser();
        let (s, body) = root2.rpc("sign_in", &[("login", "root2"), ("password", "root two long passphrase")]).await;
        assert_eq!(s, 200, "{body}");
        let disabled = json!({"status": "disabled"});
        let (ra, rb) = tokio::join!(
            admin.patch_json("/api/v1/users/root2", &disabled),
            root2.patch_json("/api/v1/users/admin", &disabled),
        );
        let mut statuses = [ra.0, rb.0];
        statuses.sort();
        assert_eq!(statuses[0], 200, "round {round}: {ra:?} {rb:?}");
        assert!(statuses[1] == 403 || statuses[1] == 401, "round {round}: {ra:?} {rb:?}");
        let mut tx = b.backend.store.begin().await.expect("tx");
        assert_eq!(tx.active_super_admins().await.expect("count"), 1, "round {round}");
        drop(tx);
        for who in ["admin", "root2"] {
            let changes = app::domain::users::UserChanges {
                status: Some(app::domain::users::UserStatus::Active),
                ..Default::default()
            };
            app::backend::services::users::update(&a.backend, &app::backend::Ctx::cli(), who, changes)
                .await
                .expect("re-enable");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wrong_passwords_over_two_instances_are_all_counted() {
    let (a, b) = two_instances().await;
    let _admin = a.admin().await;
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let c = if i % 2 == 0 { a.browser() } else { b.browser() };
            tokio::spawn(
                async move { c.rpc("sign_in", &[("login", "admin"), ("password", "wrong wrong wrong")]).await },
            )
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.expect("join").1, json!("SignInFailed"));
    }
    // Exactly the free attempts reached the hash check, wherever they landed; every other one
    // was refused up front: no instance read a stale failure count.
    let audit = a.backend.store.list_audit(&Default::default(), Default::default(), 100).await.expect("audit");
    let with = |reason: &str| {
        audit.iter().filter(|e| e.event == "sign_in" && e.after.as_deref().is_some_and(|x| x.contains(reason))).count()
    };
    assert_eq!(with("bad_credentials"), 4, "attempts that reached the hash check");
    assert_eq!(with("throttled"), 16);
    // And the account stays throttled on both instances, even for the right password.
    for app in [&a, &b] {
        let (_, body) = app.browser().rpc("sign_in", &[("login", "admin"), ("password", ADMIN_PW)]).await;
        assert_eq!(body, json!("SignInFailed"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_totp_code_on_two_instances_at_once_signs_in_once() {
    let (a, b) = two_instances().await;
    let admin = a.admin().await;
    let bob = a.member(&admin, "bob", "Default", "Member").await;
    let (secret, _) = enrol(&a, &bob).await;
    a.clock.advance_ms(30_000);
    for round in 0..5 {
        let (on_a, on_b) = (password_step(&a, "bob").await, password_step(&b, "bob").await);
        let code = oathtool(&secret, secs(&a));
        let form = [("code", code.as_str())];
        let (ra, rb) = tokio::join!(on_a.rpc("sign_in_code", &form), on_b.rpc("sign_in_code", &form));
        let wins = [ra.0, rb.0].iter().filter(|s| **s == 200).count();
        assert_eq!(wins, 1, "round {round}: {ra:?} {rb:?}");
        a.clock.advance_ms(30_000);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_recovery_code_over_two_instances_is_redeemed_once() {
    let (a, b) = two_instances().await;
    let admin = a.admin().await;
    let carol = a.member(&admin, "carol", "Default", "Member").await;
    let (_, codes) = enrol(&a, &carol).await;
    let mut browsers = Vec::new();
    for i in 0..10 {
        browsers.push(password_step(if i % 2 == 0 { &a } else { &b }, "carol").await);
    }
    let tasks: Vec<_> = browsers
        .into_iter()
        .map(|c| {
            let code = codes[0].clone();
            tokio::spawn(async move { c.rpc("sign_in_code", &[("code", &code)]).await.0 })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        if t.await.expect("join") == 200 {
            ok += 1;
        }
    }
    assert_eq!(ok, 1);
}
