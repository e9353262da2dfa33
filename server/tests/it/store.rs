//! The store contract: every port called directly (through `Arc<dyn Store>` / `Box<dyn Tx>`),
//! each case run once on SQLite and once on PostgreSQL, so both backends give the same rows,
//! order, cursors and errors. The PostgreSQL half needs `ROSTER_TEST_PG_URL` (`make test`
//! sets it) and fails without it.
use crate::common;

use std::sync::Arc;

use app::backend::store::*;
use app::domain::abilities::{Ability, AbilitySet};
use app::domain::audit::{AuditFilter, AuditSeek, EventMatch, Outcome};
use app::domain::databases::{DatabaseSpec, Engine, TlsMode};
use app::domain::ids::{OrgId, UserId, ADMIN_ROLE, DEFAULT_ORG, MEMBER_ROLE, VIEWER_ROLE};
use app::domain::tokens::TokenKind;
use app::domain::users::{AccountLevel, SortDir, SortField, UserStatus};
use common::db::{Kind, TestDb};

/// `case_name::sqlite` and `case_name::postgres`: the same body on each backend, on a fresh
/// database of its own.
macro_rules! both {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                super::run(super::Kind::Sqlite, super::$case).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                super::run(super::Kind::Postgres, super::$case).await;
            }
        }
    )*};
}

async fn run<F, Fut>(kind: Kind, case: F)
where
    F: FnOnce(Arc<dyn Store>, TestDb) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let db = TestDb::new(kind).await;
    let store = db.open().await;
    case(store, db).await;
}

both!(
    users_insert_conflicts_and_look_ups,
    users_sort_page_and_search,
    users_search_beyond_the_window,
    users_legacy_hashes,
    access_roles_orgs_memberships_grants,
    sessions_and_challenges,
    second_factors_totp_recovery_passkeys,
    tokens_issue_touch_revoke,
    sso_providers_links_flows,
    oauth_clients_and_their_orgs,
    oauth_grants_codes_tokens_and_consents,
    events_and_webhooks,
    databases_definitions,
    database_credentials_and_mappings,
    audit_filters_and_cursors,
    pictures_settings_throttles,
    transactions_roll_back_when_dropped,
    parallel_writers_are_serialised,
    batch_writes_for_imports,
    scim_connections_users_and_groups,
    bulk_plans_store_apply_once_and_expire,
);

fn person(username: &str, full_name: &str, email: &str) -> UserInsert {
    UserInsert {
        username: username.into(),
        full_name: full_name.into(),
        email: email.into(),
        password_hash: Some("hash".into()),
        status: UserStatus::Active,
        super_admin: false,
        created_at: 1_000,
    }
}

async fn add_user(store: &Arc<dyn Store>, username: &str) -> UserId {
    let mut tx = store.begin().await.expect("begin");
    let id = tx
        .insert_user(&person(username, &format!("User {username}"), &format!("{username}@example.com")))
        .await
        .expect("insert");
    tx.commit().await.expect("commit");
    id
}

fn conflict(r: StoreResult<impl std::fmt::Debug>) -> &'static str {
    match r {
        Err(StoreError::Conflict { field }) => field,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

async fn users_insert_conflicts_and_look_ups(store: Arc<dyn Store>, _db: TestDb) {
    assert_eq!(store.user_count().await.unwrap(), 0, "the public account is not a person");
    let mut tx = store.begin().await.unwrap();
    let ada = tx.insert_user(&person("Ada", "Ada Lovelace", "Ada@Example.com")).await.unwrap();
    assert_eq!(conflict(tx.insert_user(&person("ADA", "x", "other@example.com")).await), "username");
    // A conflict leaves the transaction usable (PostgreSQL undoes only the failed statement).
    assert_eq!(conflict(tx.insert_user(&person("bob", "x", "ada@example.COM")).await), "email");
    tx.commit().await.unwrap();
    assert!(store.user_by_username("ada").await.unwrap().is_some(), "committed after the conflicts");
    let bob = add_user(&store, "bob").await;
    let mut tx = store.begin().await.unwrap();
    let mut rec = tx.user_by_id(bob).await.unwrap().unwrap();
    rec.email = "ADA@example.com".into();
    assert_eq!(conflict(tx.update_user(&rec, 5).await), "email");
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    let mut rec = tx.user_by_id(bob).await.unwrap().unwrap();
    assert_eq!(tx.active_super_admins().await.unwrap(), 0);
    rec.super_admin = true;
    rec.full_name = "Bob Builder".into();
    tx.update_user(&rec, 5).await.unwrap();
    tx.set_two_factor(bob, true).await.unwrap();
    tx.record_sign_in(bob, 77).await.unwrap();
    tx.set_password_hash(ada, None, 9).await.unwrap();
    assert_eq!(tx.active_super_admins().await.unwrap(), 1);
    assert_eq!(tx.user_count().await.unwrap(), 2);
    assert_eq!(tx.user_by_username("ada").await.unwrap().map(|u| u.id), Some(ada));
    tx.commit().await.unwrap();

    let a = store.user_by_username("ada").await.unwrap().expect("ada");
    assert_eq!((a.username.as_str(), a.email.as_str(), a.password_hash.as_deref()), ("Ada", "Ada@Example.com", None));
    assert!(!a.super_admin && !a.two_factor && !a.public && a.status == UserStatus::Active);
    let b = store.user_by_login("bob@example.com").await.unwrap().expect("bob by email");
    assert_eq!((b.id, b.super_admin, b.two_factor, b.last_sign_in_at), (bob, true, true, 77));
    assert_eq!((b.full_name.as_str(), b.created_at), ("Bob Builder", 1_000));
    assert_eq!(store.user_by_login("ada").await.unwrap().map(|u| u.id), Some(ada));
    assert!(store.user_by_login("nobody").await.unwrap().is_none());
    let public = store.user_by_username("public").await.unwrap().expect("public");
    assert!(public.public);

    let mut tx = store.begin().await.unwrap();
    tx.delete_user(ada).await.unwrap();
    assert!(tx.user_by_id(ada).await.unwrap().is_none());
    tx.commit().await.unwrap();
    assert_eq!(store.user_count().await.unwrap(), 1);
}

/// The byte-wise order both backends must give (SQLite compares text byte by byte).
fn key_cmp(a: &PageKey, b: &PageKey) -> std::cmp::Ordering {
    let v = match (&a.value, &b.value) {
        (KeyValue::Int(x), KeyValue::Int(y)) => x.cmp(y),
        (KeyValue::Text(x), KeyValue::Text(y)) => x.as_bytes().cmp(y.as_bytes()),
        _ => panic!("mixed key kinds"),
    };
    v.then(a.id.cmp(&b.id))
}

const SORTS: [SortField; 7] = [
    SortField::Username,
    SortField::FullName,
    SortField::Email,
    SortField::Status,
    SortField::TwoFactor,
    SortField::CreatedAt,
    SortField::LastSignInAt,
];

fn query(search: Option<&str>, sort: SortField, dir: SortDir, seek: Seek, limit: u32) -> UserListQuery {
    UserListQuery { search: search.map(str::to_string), sort, dir, seek, limit, legacy_hash: false }
}

async fn users_sort_page_and_search(store: Arc<dyn Store>, _db: TestDb) {
    // Keys whose byte order differs from a linguistic one ("é" after "z", "_" before
    // letters, upper case folded into the key).
    let names = [
        ("a", "zoë Zed", "z@x.org", 5, false, 0),
        ("B", "Émile", "b@x.org", 3, true, 50),
        ("_z", "_under", "under@x.org", 3, false, 20),
        ("Z", "ada", "A@x.org", 9, true, 20),
        ("é", "Ève", "e@x.org", 1, false, 0),
        ("m_1", "Mike", "m%1@x.org", 9, false, 10),
    ];
    let mut tx = store.begin().await.unwrap();
    for (u, f, e, created, tf, seen) in names {
        let mut p = person(u, f, e);
        p.created_at = created;
        p.status = if u == "Z" { UserStatus::Disabled } else { UserStatus::Active };
        let id = tx.insert_user(&p).await.unwrap();
        tx.set_two_factor(id, tf).await.unwrap();
        if seen > 0 {
            tx.record_sign_in(id, seen).await.unwrap();
        }
    }
    tx.commit().await.unwrap();
    let all = store.list_users(&query(None, SortField::Username, SortDir::Asc, Seek::First, 100)).await.unwrap();
    assert_eq!(all.len(), names.len() + 1, "the people and the public account");
    let usernames: Vec<&str> = all.iter().map(|u| u.username.as_str()).collect();
    // Keys b, z, _z, a, m_1, public, é in byte order: _z a b m_1 public z é (a linguistic
    // collation would put é beside e, before z, and may ignore the underscore).
    assert_eq!(usernames, ["_z", "a", "B", "m_1", "public", "Z", "é"]);

    for sort in SORTS {
        for dir in [SortDir::Asc, SortDir::Desc] {
            let mut expected = all.clone();
            expected.sort_by(|a, b| key_cmp(&a.page_key(sort), &b.page_key(sort)));
            if dir == SortDir::Desc {
                expected.reverse();
            }
            let ids = |v: &[UserRecord]| v.iter().map(|u| u.id).collect::<Vec<_>>();
            let got = store.list_users(&query(None, sort, dir, Seek::First, 100)).await.unwrap();
            assert_eq!(ids(&got), ids(&expected), "{sort:?} {dir:?}");
            // Forwards two at a time from each page's last row.
            let mut paged = Vec::new();
            let mut seek = Seek::First;
            loop {
                let page = store.list_users(&query(None, sort, dir, seek.clone(), 2)).await.unwrap();
                let Some(last) = page.last() else { break };
                seek = Seek::After(last.page_key(sort));
                paged.extend(page);
            }
            assert_eq!(ids(&paged), ids(&expected), "{sort:?} {dir:?} forwards");
            // Backwards from the end: each page comes nearest-first and is reversed.
            let mut back = Vec::new();
            let mut seek = Seek::Before(expected.last().unwrap().page_key(sort));
            loop {
                let mut page = store.list_users(&query(None, sort, dir, seek.clone(), 2)).await.unwrap();
                let Some(first) = page.last() else { break };
                seek = Seek::Before(first.page_key(sort));
                page.reverse();
                back.splice(0..0, page);
            }
            assert_eq!(ids(&back), ids(&expected[..expected.len() - 1]), "{sort:?} {dir:?} backwards");
        }
    }

    // Search: lower-cased substring of username, full name or email; LIKE wildcards are
    // literal; long terms go through the trigram index path.
    for (term, want) in [
        ("z", vec!["_z", "a", "Z"]),
        ("_", vec!["_z", "m_1"]),
        ("%", vec!["m_1"]),
        ("x.org", vec!["_z", "a", "B", "m_1", "Z", "é"]),
        ("ève", vec!["é"]),
        ("zoë z", vec!["a"]),
        ("nothing-matches", vec![]),
        ("émile", vec!["B"]),
    ] {
        let got =
            store.list_users(&query(Some(term), SortField::Username, SortDir::Asc, Seek::First, 100)).await.unwrap();
        let got: Vec<&str> = got.iter().map(|u| u.username.as_str()).collect();
        assert_eq!(got, want, "search {term:?}");
    }
    // A search continues from a cursor.
    let first = store.list_users(&query(Some("x.org"), SortField::Email, SortDir::Desc, Seek::First, 2)).await.unwrap();
    let next = store
        .list_users(&query(
            Some("x.org"),
            SortField::Email,
            SortDir::Desc,
            Seek::After(first[1].page_key(SortField::Email)),
            10,
        ))
        .await
        .unwrap();
    let emails: Vec<&str> = first.iter().chain(next.iter()).map(|u| u.email.as_str()).collect();
    assert_eq!(emails, ["z@x.org", "under@x.org", "m%1@x.org", "e@x.org", "b@x.org", "A@x.org"]);
}

async fn users_search_beyond_the_window(store: Arc<dyn Store>, _db: TestDb) {
    // More rows than the search window, the only match at the end of the sort order: the
    // indexed path must find it (and nothing else).
    let mut tx = store.begin().await.unwrap();
    for i in 0..2050 {
        tx.insert_user(&person(&format!("user{i:05}"), "Someone", &format!("user{i:05}@example.com"))).await.unwrap();
    }
    tx.insert_user(&person("zz_rare", "Quentin Rare", "q@elsewhere.net")).await.unwrap();
    tx.commit().await.unwrap();
    for (term, want) in [
        ("rare", vec!["zz_rare".to_string()]),
        ("elsewhere", vec!["zz_rare".to_string()]),
        ("user0204", (0..10).map(|i| format!("user0204{i}")).collect()),
        ("no-such-user", vec![]),
    ] {
        let got =
            store.list_users(&query(Some(term), SortField::Username, SortDir::Asc, Seek::First, 20)).await.unwrap();
        let got: Vec<String> = got.iter().map(|u| u.username.clone()).collect();
        assert_eq!(got, want, "{term}");
    }
    let got =
        store.list_users(&query(Some("rare"), SortField::CreatedAt, SortDir::Desc, Seek::First, 5)).await.unwrap();
    assert_eq!(got.len(), 1);
}

/// Accounts whose hash came from another system: counted, listed on their own (through the
/// partial index), and replaced only by a compare-and-swap.
async fn users_legacy_hashes(store: Arc<dyn Store>, _db: TestDb) {
    let argon = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$aGFzaGhhc2hoYXNo";
    let mut tx = store.begin().await.unwrap();
    let mut ids = Vec::new();
    for (name, hash) in [("amy", Some("$6$salt$x")), ("ben", Some(argon)), ("cat", Some("$2b$10$y")), ("dan", None)] {
        let mut p = person(name, &format!("User {name}"), &format!("{name}@example.com"));
        p.password_hash = hash.map(str::to_string);
        ids.push(tx.insert_user(&p).await.unwrap());
    }
    tx.commit().await.unwrap();
    assert_eq!(store.legacy_hash_count().await.unwrap(), 2, "no hash and argon2 are not legacy");
    let legacy = |search: Option<&str>, dir: SortDir, seek: Seek, limit: u32| UserListQuery {
        legacy_hash: true,
        ..query(search, SortField::Username, dir, seek, limit)
    };
    let names = |rows: Vec<UserRecord>| rows.into_iter().map(|u| u.username).collect::<Vec<_>>();
    assert_eq!(names(store.list_users(&legacy(None, SortDir::Asc, Seek::First, 10)).await.unwrap()), ["amy", "cat"]);
    assert_eq!(names(store.list_users(&legacy(None, SortDir::Desc, Seek::First, 10)).await.unwrap()), ["cat", "amy"]);
    assert_eq!(names(store.list_users(&legacy(Some("user c"), SortDir::Asc, Seek::First, 10)).await.unwrap()), ["cat"]);
    let first = store.list_users(&legacy(None, SortDir::Asc, Seek::First, 1)).await.unwrap();
    let after = Seek::After(first[0].page_key(SortField::Username));
    assert_eq!(names(store.list_users(&legacy(None, SortDir::Asc, after, 10)).await.unwrap()), ["cat"]);
    for sort in SORTS {
        let q = UserListQuery { legacy_hash: true, ..query(None, sort, SortDir::Asc, Seek::First, 10) };
        assert_eq!(store.list_users(&q).await.unwrap().len(), 2, "{sort:?}");
    }

    let mut tx = store.begin().await.unwrap();
    assert!(tx.swap_password_hash(ids[0], "$6$salt$x", argon).await.unwrap(), "still the verified hash");
    assert!(!tx.swap_password_hash(ids[2], "$2b$10$changed-meanwhile", argon).await.unwrap(), "changed meanwhile");
    assert!(!tx.swap_password_hash(ids[3], "", argon).await.unwrap(), "no hash to replace");
    tx.commit().await.unwrap();
    assert_eq!(store.user_by_username("amy").await.unwrap().unwrap().password_hash.as_deref(), Some(argon));
    assert_eq!(store.user_by_username("cat").await.unwrap().unwrap().password_hash.as_deref(), Some("$2b$10$y"));
    assert_eq!(store.user_by_username("dan").await.unwrap().unwrap().password_hash, None);
    assert_eq!(store.legacy_hash_count().await.unwrap(), 1);
}

fn set(abilities: &[Ability]) -> AbilitySet {
    abilities.iter().copied().collect()
}

async fn access_roles_orgs_memberships_grants(store: Arc<dyn Store>, _db: TestDb) {
    let ada = add_user(&store, "ada").await;
    let bob = add_user(&store, "bob").await;
    let v0 = store.access_version().await.unwrap();
    let roles = store.list_roles().await.unwrap();
    assert_eq!(roles.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["Viewer", "Operator", "Member", "Admin"]);
    assert!(roles[3].abilities.contains(Ability::ManageUsers) && !roles[0].abilities.contains(Ability::RunBackups));

    let mut tx = store.begin().await.unwrap();
    let auditors = tx.insert_role("Auditors", 1).await.unwrap();
    assert!(auditors.0 > 4, "new roles get fresh ids");
    tx.set_role_abilities(auditors, set(&[Ability::ViewUsers, Ability::RunBackups])).await.unwrap();
    let acme = tx.insert_org("Acme", 1).await.unwrap();
    assert!(acme.0 > 1, "new organizations get fresh ids");
    let beta = tx.insert_org("beta", 1).await.unwrap();
    tx.add_membership(acme, ada, auditors, 2).await.unwrap();
    tx.add_membership(acme, bob, MEMBER_ROLE, 2).await.unwrap();
    tx.add_membership(DEFAULT_ORG, ada, VIEWER_ROLE, 2).await.unwrap();
    tx.set_member_extras(acme, bob, set(&[Ability::UseAdminer])).await.unwrap();
    assert_eq!(tx.bump_access_version(app::backend::store::Change::All).await.unwrap(), v0 + 1);
    tx.commit().await.unwrap();
    for (what, r) in [
        ("role", {
            let mut tx = store.begin().await.unwrap();
            tx.insert_role("AUDITORS", 1).await.map(|_| ())
        }),
        ("org", {
            let mut tx = store.begin().await.unwrap();
            tx.insert_org("acme", 1).await.map(|_| ())
        }),
        ("rename", {
            let mut tx = store.begin().await.unwrap();
            tx.rename_org(beta, "ACME").await
        }),
    ] {
        assert_eq!(conflict(r), "name", "{what}");
    }
    let mut tx = store.begin().await.unwrap();
    assert_eq!(conflict(tx.add_membership(acme, ada, MEMBER_ROLE, 3).await), "member");
    drop(tx);

    assert_eq!(store.access_version().await.unwrap(), v0 + 1);
    let orgs = store.list_orgs().await.unwrap();
    assert_eq!(
        orgs.iter().map(|o| (o.name.as_str(), o.members)).collect::<Vec<_>>(),
        [("Acme", 2), ("beta", 0), ("Default", 1)]
    );
    let role = store.load_role(auditors).await.unwrap().unwrap();
    assert_eq!((role.name.as_str(), role.abilities), ("Auditors", set(&[Ability::ViewUsers, Ability::RunBackups])));
    assert_eq!(store.role_members(auditors).await.unwrap(), 1);
    let members = store.list_members(acme, None, None, 10).await.unwrap();
    assert_eq!(members.iter().map(|m| m.user.username.as_str()).collect::<Vec<_>>(), ["ada", "bob"]);
    assert_eq!((members[0].role, members[0].role_name.as_str(), members[0].org_count), (auditors, "Auditors", 2));
    assert_eq!(members[1].extras, set(&[Ability::UseAdminer]));
    let after = store.list_members(acme, None, Some("ada"), 10).await.unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(store.list_members(acme, Some("bo"), None, 10).await.unwrap().len(), 1);
    assert_eq!(store.list_members(acme, Some("user bob"), None, 10).await.unwrap().len(), 1);
    assert_eq!(store.list_members(acme, Some("example.com"), None, 10).await.unwrap().len(), 2);
    assert_eq!(store.list_members(acme, Some("zzz"), None, 10).await.unwrap().len(), 0);
    let of = store.memberships_of(ada).await.unwrap();
    assert_eq!(
        of.iter().map(|m| (m.org_name.as_str(), m.role)).collect::<Vec<_>>(),
        [("Acme", auditors), ("Default", VIEWER_ROLE)]
    );

    let (version, model) = store.load_access().await.unwrap();
    assert_eq!(version, v0 + 1);
    assert_eq!(
        model.grants.get(&(bob, acme)).map(|g| (g.role, g.extras)),
        Some((MEMBER_ROLE, set(&[Ability::UseAdminer])))
    );
    assert_eq!(
        model.users.get(&ada).map(|u| (u.username.as_str(), u.super_admin, u.active)),
        Some(("ada", false, true))
    );
    assert!(model.public.is_some());
    assert_eq!(model.roles.get(&auditors).map(|r| r.name.as_str()), Some("Auditors"));
    let ua = store.load_user_access(bob).await.unwrap().unwrap();
    assert_eq!((ua.entry.username.as_str(), ua.public, ua.grants.len()), ("bob", false, 1));

    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.memberships(ada).await.unwrap(), vec![DEFAULT_ORG, acme]);
    let g = tx.membership(acme, bob).await.unwrap().unwrap();
    assert_eq!((g.role, g.extras), (MEMBER_ROLE, set(&[Ability::UseAdminer])));
    let (sa, abilities) = tx.actor_facts(ada, acme).await.unwrap().unwrap();
    assert!(!sa && abilities.contains(Ability::ViewUsers) && !abilities.contains(Ability::UseAdminer));
    assert!(tx.role_in_use(auditors).await.unwrap());
    assert_eq!(tx.reassign_role(auditors, ADMIN_ROLE).await.unwrap(), 1);
    assert!(!tx.role_in_use(auditors).await.unwrap());
    tx.rename_role(auditors, "Inspectors").await.unwrap();
    assert_eq!(tx.role_by_name("inspectors").await.unwrap().map(|r| r.id), Some(auditors));
    tx.delete_role(auditors).await.unwrap();
    assert!(tx.role(auditors).await.unwrap().is_none());
    tx.set_member_role(acme, bob, VIEWER_ROLE).await.unwrap();
    tx.remove_membership(DEFAULT_ORG, ada).await.unwrap();
    tx.set_org_two_factor(acme, true).await.unwrap();
    assert_eq!(tx.org(acme).await.unwrap().map(|o| o.require_2fa), Some(true));
    assert_eq!(tx.org_by_name("beta").await.unwrap().map(|o| o.id), Some(beta));
    assert_eq!(tx.org_member_count(acme).await.unwrap(), 2);
    tx.set_account_level(bob, ada, Some(AccountLevel::View)).await.unwrap();
    tx.set_account_level(bob, ada, Some(AccountLevel::Edit)).await.unwrap();
    assert_eq!(tx.account_level(bob, ada).await.unwrap(), Some(AccountLevel::Edit));
    tx.delete_org(beta, DEFAULT_ORG).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.two_factor_required(acme).await.unwrap(), (true, false));
    assert_eq!(store.account_level(bob, ada).await.unwrap(), Some(AccountLevel::Edit));
    let holders = store.account_holders(bob).await.unwrap();
    assert_eq!(
        holders.iter().map(|h| (h.username.as_str(), h.level)).collect::<Vec<_>>(),
        [("ada", AccountLevel::Edit)]
    );
    assert_eq!(store.accounts_listing(ada, "bob", 10).await.unwrap().len(), 1);
    assert_eq!(store.accounts_listing(ada, "zzz", 10).await.unwrap().len(), 0);
    assert_eq!(store.list_orgs().await.unwrap().len(), 2);
    let mut tx = store.begin().await.unwrap();
    tx.set_account_level(bob, ada, None).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.account_level(bob, ada).await.unwrap(), None);
}

async fn sessions_and_challenges(store: Arc<dyn Store>, _db: TestDb) {
    let ada = add_user(&store, "ada").await;
    let mut tx = store.begin().await.unwrap();
    for (token, now, method) in [(&b"s1"[..], 100, "totp"), (&b"s2"[..], 100, "password"), (&b"s3"[..], 5, "passkey")] {
        tx.insert_session(&NewSession {
            token_hash: token,
            user_id: ada,
            org_id: DEFAULT_ORG,
            now,
            method,
            ip: Some("127.0.0.1"),
            user_agent: None,
        })
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let (s, u) = store.session(b"s1").await.unwrap().unwrap();
    assert_eq!(
        (s.user_id, s.org_id, s.created_at, s.last_seen_at, s.auth_at, s.requires_2fa),
        (ada, DEFAULT_ORG, 100, 100, 100, false)
    );
    assert_eq!(u.username, "ada");
    assert_eq!(s.method, "totp");
    assert_eq!(store.session(b"s3").await.unwrap().unwrap().0.method, "passkey");
    assert!(store.session(b"nope").await.unwrap().is_none());
    store.touch_session(b"s1", 150).await.unwrap();
    let mut tx = store.begin().await.unwrap();
    tx.set_session_auth(b"s1", 160).await.unwrap();
    tx.set_setting("require_2fa", "true").await.unwrap();
    tx.commit().await.unwrap();
    let (s, _) = store.session(b"s1").await.unwrap().unwrap();
    assert_eq!((s.last_seen_at, s.auth_at, s.requires_2fa), (150, 160, true));
    // Idle before 50 or created before 0: only s3.
    assert_eq!(store.purge_sessions(50, 0).await.unwrap(), 1);
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.delete_sessions_of(ada, Some(b"s1")).await.unwrap(), 1);
    tx.commit().await.unwrap();
    assert!(store.session(b"s1").await.unwrap().is_some() && store.session(b"s2").await.unwrap().is_none());
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.delete_sessions_of(ada, None).await.unwrap(), 1);
    tx.insert_challenge(b"c1", ada, 42).await.unwrap();
    assert_eq!(tx.challenge(b"c1").await.unwrap(), Some((ada, 42)));
    assert!(tx.delete_challenge(b"c1").await.unwrap());
    assert!(!tx.delete_challenge(b"c1").await.unwrap(), "single use");
    tx.commit().await.unwrap();
}

async fn second_factors_totp_recovery_passkeys(store: Arc<dyn Store>, _db: TestDb) {
    let ada = add_user(&store, "ada").await;
    let bob = add_user(&store, "bob").await;
    let mut tx = store.begin().await.unwrap();
    tx.put_pending_totp(ada, b"seed1", 1).await.unwrap();
    tx.put_pending_totp(ada, b"seed2", 2).await.unwrap();
    assert_eq!(
        tx.totp(ada).await.unwrap(),
        Some(TotpRecord { secret: b"seed2".to_vec(), confirmed: false, last_step: 0 })
    );
    assert!(tx.confirm_totp(ada, 10).await.unwrap());
    assert!(!tx.confirm_totp(ada, 11).await.unwrap(), "confirmed once");
    tx.put_pending_totp(ada, b"seed3", 3).await.unwrap();
    assert_eq!(
        tx.totp(ada).await.unwrap().map(|t| (t.secret, t.confirmed)),
        Some((b"seed2".to_vec(), true)),
        "a confirmed seed is not replaced"
    );
    assert!(tx.consume_totp_step(ada, 11).await.unwrap());
    assert!(!tx.consume_totp_step(ada, 11).await.unwrap(), "replay refused");
    assert!(!tx.consume_totp_step(ada, 10).await.unwrap(), "older step refused");
    assert!(tx.consume_totp_step(ada, 12).await.unwrap());
    tx.replace_recovery_codes(ada, &[b"r1".to_vec(), b"r2".to_vec()]).await.unwrap();
    assert!(tx.use_recovery_code(ada, b"r1", 5).await.unwrap());
    assert!(!tx.use_recovery_code(ada, b"r1", 6).await.unwrap(), "single use");
    assert!(!tx.use_recovery_code(bob, b"r2", 6).await.unwrap(), "another account's code");
    assert_eq!(tx.recovery_codes_left(ada).await.unwrap(), 1);
    assert_eq!(tx.second_factor_facts(ada).await.unwrap(), SecondFactorFacts { confirmed_totp: true, passkey: false });
    assert!(tx.refresh_two_factor(ada).await.unwrap());
    let pk = tx.insert_passkey(bob, "key", b"cred-1", "{}", 7).await.unwrap();
    assert!(pk > 0);
    tx.update_passkey(pk, "{\"n\":1}", 8).await.unwrap();
    tx.rename_passkey(pk, "Yubikey").await.unwrap();
    assert_eq!(tx.second_factor_facts(bob).await.unwrap(), SecondFactorFacts { confirmed_totp: false, passkey: true });
    tx.set_webauthn_handle(bob, b"handle-b").await.unwrap();
    assert_eq!(tx.webauthn_handle(bob).await.unwrap(), Some(b"handle-b".to_vec()));
    assert_eq!(tx.user_by_webauthn_handle(b"handle-b").await.unwrap(), Some(bob));
    let c = CeremonyRecord {
        purpose: "register".into(),
        user_id: Some(bob),
        label: "L".into(),
        state: "{}".into(),
        created_at: 9,
    };
    tx.insert_ceremony(b"cer", &c, 0).await.unwrap();
    assert_eq!(tx.take_ceremony(b"cer").await.unwrap(), Some(c.clone()));
    assert_eq!(tx.take_ceremony(b"cer").await.unwrap(), None, "single use");
    // A ceremony nobody finished is deleted once it has expired, when another one is stored
    // (an invitation's has no account yet).
    tx.insert_ceremony(b"old", &c, 0).await.unwrap();
    let invite = CeremonyRecord { purpose: "invite".into(), user_id: None, created_at: 20, ..c.clone() };
    tx.insert_ceremony(b"new", &invite, 10).await.unwrap();
    assert_eq!(tx.take_ceremony(b"old").await.unwrap(), None, "expired ones are gone");
    assert_eq!(tx.take_ceremony(b"new").await.unwrap(), Some(invite));
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert_eq!(conflict(tx.insert_passkey(ada, "dup", b"cred-1", "{}", 9).await), "passkey");
    drop(tx);
    assert_eq!(store.two_factor_of(ada).await.unwrap(), (true, 1));
    let keys = store.passkeys_of(bob).await.unwrap();
    assert_eq!(
        keys.iter().map(|k| (k.name.as_str(), k.passkey.as_str(), k.last_used_at)).collect::<Vec<_>>(),
        [("Yubikey", "{\"n\":1}", 8)]
    );
    let mut tx = store.begin().await.unwrap();
    tx.delete_passkey(pk).await.unwrap();
    tx.delete_totp(ada).await.unwrap();
    assert_eq!(tx.recovery_codes_left(ada).await.unwrap(), 0);
    assert!(!tx.refresh_two_factor(ada).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(store.two_factor_of(ada).await.unwrap(), (false, 0));
    assert!(!store.user_by_username("ada").await.unwrap().unwrap().two_factor);
}

async fn tokens_issue_touch_revoke(store: Arc<dyn Store>, _db: TestDb) {
    let ada = add_user(&store, "ada").await;
    let mut tx = store.begin().await.unwrap();
    let new = |name: &'static str, hash: &'static [u8], abilities| NewTokenRecord {
        user_id: ada,
        name,
        kind: TokenKind::Pat,
        prefix: "rst_abc",
        token_hash: hash,
        abilities,
        created_at: 10,
        expires_at: 0,
    };
    let t1 = tx.insert_token(&new("all", b"h1", None)).await.unwrap();
    let t2 = tx.insert_token(&new("some", b"h2", Some(set(&[Ability::ViewUsers])))).await.unwrap();
    let t3 = tx.insert_token(&new("none", b"h3", Some(AbilitySet::default()))).await.unwrap();
    assert!(t1 < t2 && t2 < t3);
    tx.commit().await.unwrap();
    let (t, u) = store.token_by_hash(b"h2").await.unwrap().unwrap();
    assert_eq!(
        (t.id, t.name.as_str(), t.kind, t.abilities, u.id),
        (t2, "some", TokenKind::Pat, Some(set(&[Ability::ViewUsers])), ada)
    );
    store.touch_token(t2, 99).await.unwrap();
    let all = store.tokens_of(ada).await.unwrap();
    assert_eq!(all.iter().map(|t| t.id).collect::<Vec<_>>(), [t3, t2, t1], "newest first");
    assert_eq!((all[0].abilities, all[1].last_used_at, all[2].abilities), (Some(AbilitySet::default()), 99, None));
    let mut tx = store.begin().await.unwrap();
    assert!(tx.revoke_token(t1, 50).await.unwrap());
    assert!(!tx.revoke_token(t1, 60).await.unwrap(), "revoked once");
    assert_eq!(tx.token(t1).await.unwrap().map(|t| t.revoked_at), Some(50));
    tx.commit().await.unwrap();
    assert!(store.token_by_hash(b"nope").await.unwrap().is_none());
}

async fn sso_providers_links_flows(store: Arc<dyn Store>, _db: TestDb) {
    let ada = add_user(&store, "ada").await;
    let provider = |slug: &str, name: &str, secret: Option<&[u8]>| SsoProviderRecord {
        slug: slug.into(),
        display_name: name.into(),
        issuer: format!("https://{slug}.example"),
        client_id: "cid".into(),
        client_secret: secret.map(|s| s.to_vec()),
        scopes: "openid".into(),
        username_claim: "preferred_username".into(),
        email_claim: "email".into(),
        name_claim: "name".into(),
        auto_create: true,
        org_id: Some(DEFAULT_ORG),
        role_id: Some(MEMBER_ROLE),
        allowed_domains: String::new(),
        enabled: true,
        created_at: 5,
        ..Default::default()
    };
    let mut tx = store.begin().await.unwrap();
    let okta = tx.save_sso_provider(&provider("okta", "okta", Some(b"sealed"))).await.unwrap();
    let gl = tx.save_sso_provider(&provider("gitlab", "GitLab", None)).await.unwrap();
    let zed = tx.save_sso_provider(&provider("zed", "Zed", None)).await.unwrap();
    // Updating without a secret keeps the stored one.
    let mut again = provider("okta", "Okta", None);
    again.enabled = false;
    again.auto_create = false;
    assert_eq!(tx.save_sso_provider(&again).await.unwrap(), okta);
    let p = tx.sso_provider("okta").await.unwrap().unwrap();
    assert_eq!(
        (p.display_name.as_str(), p.client_secret.as_deref(), p.enabled, p.auto_create),
        ("Okta", Some(&b"sealed"[..]), false, false)
    );
    assert_eq!(tx.sso_provider_by_id(gl).await.unwrap().map(|p| p.slug), Some("gitlab".to_string()));
    let link = SsoLinkRecord {
        id: 0,
        provider_id: okta,
        issuer: "https://okta.example".into(),
        subject: "sub-1".into(),
        user_id: ada,
        email: Some("a@x".into()),
        created_at: 6,
        last_used_at: 0,
    };
    let l1 = tx.insert_sso_link(&link).await.unwrap();
    tx.touch_sso_link(l1, 60).await.unwrap();
    assert_eq!(
        tx.sso_link("https://okta.example", "sub-1").await.unwrap().map(|l| (l.id, l.last_used_at)),
        Some((l1, 60))
    );
    tx.insert_sso_flow(
        &SsoFlowRecord {
            state_hash: b"old".to_vec(),
            browser_hash: b"b".to_vec(),
            provider_id: okta,
            link_user_id: None,
            nonce: "n".into(),
            pkce_verifier: "v".into(),
            created_at: 1,
            invitation_hash: None,
        },
        0,
    )
    .await
    .unwrap();
    let flow = SsoFlowRecord {
        state_hash: b"st".to_vec(),
        browser_hash: b"br".to_vec(),
        provider_id: okta,
        link_user_id: Some(ada),
        nonce: "n".into(),
        pkce_verifier: "v".into(),
        created_at: 100,
        invitation_hash: None,
    };
    tx.insert_sso_flow(&flow, 50).await.unwrap();
    assert_eq!(tx.take_sso_flow(b"old").await.unwrap(), None, "purged");
    assert_eq!(tx.take_sso_flow(b"st").await.unwrap(), Some(flow.clone()));
    // (a flow from an invitation page keeps its token's hash)
    let invited = SsoFlowRecord { state_hash: b"inv".to_vec(), invitation_hash: Some(vec![7; 32]), ..flow.clone() };
    tx.insert_sso_flow(&invited, 50).await.unwrap();
    assert_eq!(tx.take_sso_flow(b"inv").await.unwrap(), Some(invited));
    assert_eq!(tx.take_sso_flow(b"st").await.unwrap(), None, "single use");
    tx.commit().await.unwrap();
    let names: Vec<String> = store.sso_providers().await.unwrap().into_iter().map(|p| p.display_name).collect();
    assert_eq!(names, ["GitLab", "Okta", "Zed"]);
    let _ = zed;
    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        conflict(tx.insert_sso_link(&SsoLinkRecord { subject: "sub-2".into(), ..link.clone() }).await),
        "sso_link"
    );
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    let bob = tx.insert_user(&person("bob", "Bob", "bob@x")).await.unwrap();
    assert_eq!(
        conflict(tx.insert_sso_link(&SsoLinkRecord { user_id: bob, provider_id: gl, ..link.clone() }).await),
        "sso_link"
    );
    drop(tx);
    assert_eq!(store.sso_links_of(ada).await.unwrap().len(), 1);
    let mut tx = store.begin().await.unwrap();
    tx.delete_sso_link(l1).await.unwrap();
    tx.delete_sso_provider(gl).await.unwrap();
    tx.commit().await.unwrap();
    assert!(store.sso_links_of(ada).await.unwrap().is_empty());
    assert_eq!(store.sso_providers().await.unwrap().len(), 2);
}

fn definition(org: OrgId, db_id: &str, engine: Engine) -> DatabaseRecord {
    let file = engine == Engine::Sqlite;
    DatabaseRecord {
        id: 0,
        org_id: org,
        spec: DatabaseSpec {
            db_id: db_id.into(),
            engine,
            host: if file { String::new() } else { "db.example".into() },
            port: if file { None } else { Some(5432) },
            name: if file { "music/chinook.db".into() } else { "chinook".into() },
            tls: if file { TlsMode::Disable } else { TlsMode::VerifyFull },
            description: format!("{db_id} ünïcode"),
            default_login: (!file).then(|| "reader".to_string()),
        },
        default_password: (!file).then(|| vec![0, 1, 2, 255]),
        created_at: 7,
        updated_at: 8,
        last_test: None,
    }
}

async fn events_and_webhooks(store: Arc<dyn Store>, _db: TestDb) {
    use app::backend::store::{DeliveryRecord, EventRecord, HookProgress, WebhookRecord};
    assert_eq!(store.last_event_id().await.unwrap(), 0);
    assert_eq!(store.first_event_id().await.unwrap(), None);
    // Ids in insert (= commit) order; organizations kept as a list.
    let mut tx = store.begin().await.unwrap();
    let mut ids = Vec::new();
    for (i, kind) in ["role", "user", "org", "all"].iter().enumerate() {
        let e = EventRecord {
            at: 100 + i as i64,
            kind: kind.to_string(),
            subject_id: (*kind != "all").then_some(i as i64),
            name: Some(format!("n{i}")),
            orgs: if *kind == "user" { vec![OrgId(1), OrgId(7)] } else { vec![] },
            version: 10 + i as i64,
            ..Default::default()
        };
        ids.push(tx.insert_event(&e).await.unwrap());
    }
    tx.commit().await.unwrap();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    let all = store.events_after(0, 10).await.unwrap();
    assert_eq!(all.iter().map(|e| e.id).collect::<Vec<_>>(), ids);
    assert_eq!(all[1].orgs, vec![OrgId(1), OrgId(7)]);
    assert_eq!((all[3].kind.as_str(), all[3].subject_id, all[3].version), ("all", None, 13));
    assert_eq!(store.events_after(ids[1], 1).await.unwrap().iter().map(|e| e.id).collect::<Vec<_>>(), vec![ids[2]]);
    assert_eq!(store.last_event_id().await.unwrap(), ids[3]);
    // A rolled-back transaction leaves no event.
    let mut tx = store.begin().await.unwrap();
    tx.insert_event(&EventRecord { kind: "role".into(), at: 1, version: 99, ..Default::default() }).await.unwrap();
    drop(tx);
    assert_eq!(store.events_after(ids[3], 10).await.unwrap(), vec![]);
    // Hooks: saved, leased by one owner at a time, moved on, logged (the newest kept).
    let mut tx = store.begin().await.unwrap();
    let hook = WebhookRecord {
        name: "Cache".into(),
        url: "https://hooks.example.com/".into(),
        kinds: vec!["user".into(), "role".into()],
        orgs: vec![OrgId(7)],
        secret: vec![1, 2, 3],
        enabled: true,
        cursor: ids[0],
        created_at: 5,
        updated_at: 5,
        ..Default::default()
    };
    let id = tx.save_webhook(&hook).await.unwrap();
    assert_eq!(tx.count_webhooks().await.unwrap(), 1);
    assert!(tx.lease_webhook(id, "a", 1_000, 2_000).await.unwrap());
    assert!(!tx.lease_webhook(id, "b", 1_500, 2_500).await.unwrap(), "held by a until 2000");
    assert!(tx.lease_webhook(id, "a", 1_500, 2_500).await.unwrap(), "renewed by its holder");
    assert!(tx.lease_webhook(id, "b", 2_501, 3_000).await.unwrap(), "expired: b takes it");
    let p = HookProgress { cursor: ids[2], attempts: 2, next_attempt_at: 9_000, paused: Some("why".into()) };
    tx.set_webhook_progress(id, &p).await.unwrap();
    for i in 0..5 {
        let d = DeliveryRecord {
            webhook_id: id,
            event_id: ids[2],
            attempt: i + 1,
            at: i,
            status: Some(500),
            duration_ms: 3,
            ..Default::default()
        };
        tx.insert_delivery(&d, 3).await.unwrap();
    }
    tx.set_webhook_secret(id, &[9, 9], 6).await.unwrap();
    tx.commit().await.unwrap();
    let saved = store.webhook(id).await.unwrap().expect("hook");
    assert_eq!(
        (
            saved.kinds.clone(),
            saved.orgs.clone(),
            saved.secret.clone(),
            saved.cursor,
            saved.attempts,
            saved.paused.clone()
        ),
        (vec!["user".to_string(), "role".to_string()], vec![OrgId(7)], vec![9, 9], ids[2], 2, Some("why".to_string()))
    );
    let log = store.deliveries(id, 10).await.unwrap();
    assert_eq!(log.iter().map(|d| d.attempt).collect::<Vec<_>>(), vec![5, 4, 3], "newest first, three kept");
    // Settings saved again keep the cursor; a deleted hook takes its log with it.
    let mut tx = store.begin().await.unwrap();
    tx.save_webhook(&WebhookRecord { name: "Renamed".into(), paused: None, attempts: 0, ..saved.clone() })
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let renamed = store.webhook(id).await.unwrap().expect("hook");
    assert_eq!((renamed.name.as_str(), renamed.cursor, renamed.paused.clone()), ("Renamed", ids[2], None));
    assert_eq!(store.webhooks(10).await.unwrap().len(), 1);
    let mut tx = store.begin().await.unwrap();
    tx.delete_webhook(id).await.unwrap();
    assert_eq!(tx.purge_events(102).await.unwrap(), 2, "the two older than 102");
    tx.commit().await.unwrap();
    assert_eq!(store.webhook(id).await.unwrap(), None);
    assert_eq!(store.deliveries(id, 10).await.unwrap(), vec![]);
    assert_eq!(store.first_event_id().await.unwrap(), Some(ids[2]));
}

async fn oauth_clients_and_their_orgs(store: Arc<dyn Store>, _db: TestDb) {
    use app::backend::store::ClientRecord;
    let mut tx = store.begin().await.unwrap();
    let tools = tx.insert_org("Tools", 1).await.unwrap();
    let client = |id: &str, orgs: Vec<OrgId>| ClientRecord {
        client_id: id.into(),
        name: format!("Tool {id}"),
        secret_hash: Some(vec![7; 32]),
        secret_created_at: Some(3),
        redirect_uris: vec!["https://a.example/cb".into(), "http://127.0.0.1:9/cb".into()],
        post_logout_redirect_uris: vec![],
        scopes: vec!["openid".into(), "roster".into()],
        consent: true,
        access_token_seconds: 600,
        refresh_token_seconds: 0,
        enabled: true,
        created_at: 3,
        updated_at: 3,
        orgs,
        ..Default::default()
    };
    let zed = tx.save_client(&client("zed", vec![])).await.unwrap();
    let ab = tx.save_client(&client("ab", vec![tools, DEFAULT_ORG])).await.unwrap();
    assert_eq!(tx.count_clients().await.unwrap(), 2);
    // Saving again by client id updates the row, keeps its secret, replaces its orgs.
    let mut again = client("ab", vec![tools]);
    again.name = "Renamed".into();
    again.secret_hash = None;
    again.public = true;
    assert_eq!(tx.save_client(&again).await.unwrap(), ab);
    let got = ClientTx::client(&mut *tx, "ab").await.unwrap().unwrap();
    assert_eq!(
        (got.name.as_str(), got.public, got.secret_hash.as_deref(), got.orgs.clone()),
        ("Renamed", true, Some(&[7u8; 32][..]), vec![tools])
    );
    assert_eq!(got.redirect_uris, ["https://a.example/cb", "http://127.0.0.1:9/cb"]);
    assert_eq!(got.scopes, ["openid", "roster"]);
    tx.set_client_secret(ab, None, 9).await.unwrap();
    tx.set_client_secret(zed, Some(&[1; 32]), 9).await.unwrap();
    tx.commit().await.unwrap();
    let all = store.clients(10).await.unwrap();
    assert_eq!(all.iter().map(|c| c.client_id.as_str()).collect::<Vec<_>>(), ["ab", "zed"]);
    assert_eq!((all[0].secret_hash.clone(), all[0].secret_created_at), (None, None));
    assert_eq!((all[1].secret_hash.clone(), all[1].secret_created_at), (Some(vec![1; 32]), Some(9)));
    assert_eq!(store.clients(1).await.unwrap().len(), 1);
    // Deleting an organization takes it off its clients; deleting a client, its org rows.
    let mut tx = store.begin().await.unwrap();
    tx.delete_org(tools, DEFAULT_ORG).await.unwrap();
    assert!(ClientTx::client(&mut *tx, "ab").await.unwrap().unwrap().orgs.is_empty());
    tx.delete_client(ab).await.unwrap();
    tx.commit().await.unwrap();
    assert!(ClientStore::client(&*store, "ab").await.unwrap().is_none());
    assert_eq!(store.clients(10).await.unwrap().len(), 1);
}

async fn oauth_grants_codes_tokens_and_consents(store: Arc<dyn Store>, _db: TestDb) {
    use app::backend::store::{ClientRecord, GrantRecord, OAuthTokenKind};
    let ann = add_user(&store, "ann").await;
    let mut tx = store.begin().await.unwrap();
    let client = tx
        .save_client(&ClientRecord {
            client_id: "tool".into(),
            name: "Tool".into(),
            redirect_uris: vec!["https://a.example/cb".into()],
            scopes: vec!["openid".into()],
            access_token_seconds: 600,
            enabled: true,
            ..Default::default()
        })
        .await
        .unwrap();
    let grant = GrantRecord {
        client,
        user_id: ann,
        scopes: vec!["openid".into(), "offline_access".into()],
        nonce: Some("n".into()),
        auth_at: 5,
        method: "totp".into(),
        created_at: 10,
        ..Default::default()
    };
    let g = tx.insert_grant(&grant).await.unwrap();
    tx.insert_code(&[1; 32], g, "https://a.example/cb", Some("challenge"), 70).await.unwrap();
    tx.insert_oauth_token(&[2; 32], g, OAuthTokenKind::Access, 10, 100).await.unwrap();
    tx.insert_oauth_token(&[3; 32], g, OAuthTokenKind::Refresh, 10, 1_000).await.unwrap();
    tx.save_consent(ann, client, &["openid".into()], 10).await.unwrap();
    tx.save_consent(ann, client, &["openid".into(), "email".into()], 11).await.unwrap();
    // A code is spent once; so is a refresh token (an access token never is).
    let code = tx.oauth_code(&[1; 32]).await.unwrap().expect("the code");
    assert_eq!((code.grant.id, code.grant.user_id, code.grant.scopes.clone()), (g, ann, grant.scopes.clone()));
    assert_eq!(
        (code.redirect_uri.as_str(), code.code_challenge.as_deref(), code.used_at),
        ("https://a.example/cb", Some("challenge"), None)
    );
    assert!(tx.use_code(&[1; 32], 20).await.unwrap());
    assert!(!tx.use_code(&[1; 32], 21).await.unwrap(), "already used");
    assert_eq!(tx.oauth_code(&[1; 32]).await.unwrap().unwrap().used_at, Some(20));
    assert!(!tx.use_refresh_token(&[2; 32], 20).await.unwrap(), "an access token is not a refresh token");
    assert!(tx.use_refresh_token(&[3; 32], 20).await.unwrap());
    assert!(!tx.use_refresh_token(&[3; 32], 20).await.unwrap());
    tx.commit().await.unwrap();
    let t = GrantStore::oauth_token(&*store, &[2; 32]).await.unwrap().expect("the access token");
    assert_eq!((t.kind, t.created_at, t.expires_at, t.used_at), (OAuthTokenKind::Access, 10, 100, None));
    assert_eq!((t.grant.nonce.as_deref(), t.grant.method.as_str(), t.grant.auth_at), (Some("n"), "totp", 5));
    assert_eq!(store.consent(ann, client).await.unwrap(), Some(vec!["openid".to_string(), "email".to_string()]));
    assert_eq!(store.consent(UserId(ann.0 + 1), client).await.unwrap(), None);
    // Revoked once.
    let mut tx = store.begin().await.unwrap();
    assert!(tx.revoke_grant(g, 30).await.unwrap());
    assert!(!tx.revoke_grant(g, 31).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(GrantStore::oauth_token(&*store, &[3; 32]).await.unwrap().unwrap().grant.revoked_at, Some(30));
    // The sweep: expired codes and tokens go, then the grant they leave empty.
    assert_eq!(store.purge_grants(500).await.unwrap(), 2, "the code and the access token");
    assert!(GrantStore::oauth_token(&*store, &[3; 32]).await.unwrap().is_some(), "the refresh token lives on");
    assert_eq!(store.purge_grants(2_000).await.unwrap(), 2, "the refresh token, then its grant");
    // Deleting the account takes its consents (and grants) with it.
    let mut tx = store.begin().await.unwrap();
    tx.delete_user(ann).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.consent(ann, client).await.unwrap(), None);
}

async fn databases_definitions(store: Arc<dyn Store>, _db: TestDb) {
    let mut tx = store.begin().await.unwrap();
    let other = tx.insert_org("Other", 1).await.unwrap();
    let zeta = tx.insert_database(&definition(DEFAULT_ORG, "Zeta", Engine::Postgres)).await.unwrap();
    let alpha = tx.insert_database(&definition(DEFAULT_ORG, "alpha", Engine::Sqlite)).await.unwrap();
    let mid = tx.insert_database(&definition(DEFAULT_ORG, "Mid_1", Engine::Mssql)).await.unwrap();
    // Ids are unique per organization, case-insensitively; the same id elsewhere is another one.
    assert_eq!(conflict(tx.insert_database(&definition(DEFAULT_ORG, "ALPHA", Engine::Mysql)).await), "db_id");
    tx.insert_database(&definition(other, "alpha", Engine::Mariadb)).await.unwrap();
    // (the transaction goes on after a conflict, on both backends)
    let mut renamed = tx.database(DEFAULT_ORG, "zeta").await.unwrap().expect("zeta");
    assert_eq!(renamed.id, zeta);
    assert_eq!(renamed.spec.port, Some(5432));
    assert_eq!(renamed.default_password.as_deref(), Some(&[0u8, 1, 2, 255][..]));
    renamed.spec.db_id = "Mid_1".into();
    assert_eq!(conflict(tx.update_database(&renamed).await), "db_id");
    renamed.spec.db_id = "Omega".into();
    renamed.spec.port = Some(65535);
    renamed.spec.default_login = None;
    renamed.default_password = None;
    renamed.updated_at = 99;
    tx.update_database(&renamed).await.unwrap();
    tx.commit().await.unwrap();

    let page = store.list_databases(DEFAULT_ORG, None, 2).await.unwrap();
    assert_eq!(page.iter().map(|d| d.spec.db_id.as_str()).collect::<Vec<_>>(), ["alpha", "Mid_1"]);
    let rest = store.list_databases(DEFAULT_ORG, Some("mid_1"), 2).await.unwrap();
    assert_eq!(rest.iter().map(|d| (d.id, d.spec.db_id.as_str())).collect::<Vec<_>>(), [(zeta, "Omega")]);
    let omega = &rest[0];
    assert_eq!(
        (omega.spec.port, omega.spec.default_login.as_deref(), omega.default_password.as_deref()),
        (Some(65535), None, None)
    );
    assert_eq!((omega.created_at, omega.updated_at), (7, 99));
    assert_eq!(store.list_databases(other, None, 10).await.unwrap().len(), 1);
    let a = store.find_database(DEFAULT_ORG, "alpha").await.unwrap().expect("alpha");
    assert_eq!(a.id, alpha);
    assert_eq!(a, DatabaseRecord { id: alpha, ..definition(DEFAULT_ORG, "alpha", Engine::Sqlite) });
    assert_eq!(store.find_database(DEFAULT_ORG, "nope").await.unwrap(), None);
    assert_eq!(store.find_database(other, "mid_1").await.unwrap(), None, "another organization's");

    // A Test Connection's outcome is kept on the definition without changing it.
    use app::domain::databases::{ConnectionTest, TestOutcome};
    let test =
        ConnectionTest { outcome: TestOutcome::WrongCredentials, message: "läuft nicht".into(), millis: 42, at: 1234 };
    let mut tx = store.begin().await.unwrap();
    tx.record_database_test(alpha, &test).await.unwrap();
    tx.commit().await.unwrap();
    let a = store.find_database(DEFAULT_ORG, "alpha").await.unwrap().expect("alpha");
    assert_eq!(a.last_test, Some(test));
    assert_eq!(a.updated_at, 8, "not a change of the definition");

    let mut tx = store.begin().await.unwrap();
    tx.delete_database(mid).await.unwrap();
    // An organization's definitions go with it.
    tx.delete_org(other, DEFAULT_ORG).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.list_databases(DEFAULT_ORG, None, 10).await.unwrap().len(), 2);
    assert!(store.list_databases(other, None, 10).await.unwrap().is_empty());
}

async fn database_credentials_and_mappings(store: Arc<dyn Store>, _db: TestDb) {
    use app::domain::database_access::CredentialSpec;
    use app::domain::databases::{ConnectionTest, TestOutcome};
    let mut tx = store.begin().await.unwrap();
    let other = tx.insert_org("Other", 1).await.unwrap();
    let shop = tx.insert_database(&definition(DEFAULT_ORG, "Shop", Engine::Postgres)).await.unwrap();
    let archive = tx.insert_database(&definition(DEFAULT_ORG, "archive", Engine::Sqlite)).await.unwrap();
    let elsewhere = tx.insert_database(&definition(other, "Shop", Engine::Mysql)).await.unwrap();
    let ann = tx.insert_user(&person("ann", "Ann", "ann@example.com")).await.unwrap();
    let bob = tx.insert_user(&person("bob", "Bob", "bob@example.com")).await.unwrap();
    let credential = |database_id, name: &str, by| CredentialRecord {
        id: 0,
        database_id,
        spec: CredentialSpec { name: name.into(), login: format!("{name}_login") },
        password: Some(vec![9, 8, 7]),
        created_by: by,
        created_by_name: None,
        uses: 0,
        created_at: 5,
        updated_at: 6,
        last_test: None,
    };
    let reader = tx.insert_credential(&credential(shop, "Reader", Some(ann))).await.unwrap();
    let writer = tx.insert_credential(&credential(shop, "writer.x", None)).await.unwrap();
    // Names are unique per database, case-insensitively; another database may reuse one.
    assert_eq!(conflict(tx.insert_credential(&credential(shop, "READER", None)).await), "credential");
    tx.insert_credential(&credential(archive, "reader", None)).await.unwrap();
    let mut renamed = tx.credential(shop, "writer.x").await.unwrap().expect("writer");
    renamed.spec.name = "reader".into();
    assert_eq!(conflict(tx.update_credential(&renamed).await), "credential");
    renamed.spec.name = "Writer".into();
    renamed.password = None;
    renamed.updated_at = 60;
    tx.update_credential(&renamed).await.unwrap();
    let mapping = |user, database_id, login: Option<&str>, credential_id| MappingRecord {
        id: 0,
        user_id: user,
        database_id,
        login: login.map(str::to_string),
        password: login.map(|_| vec![1, 2, 3]),
        credential_id,
        created_at: 10,
        updated_at: 11,
        last_test: None,
        db_id: String::new(),
        credential_name: None,
    };
    let own = tx.insert_mapping(&mapping(ann, shop, Some("ann_db"), None)).await.unwrap();
    tx.insert_mapping(&mapping(ann, archive, None, None)).await.unwrap();
    tx.insert_mapping(&mapping(ann, elsewhere, None, None)).await.unwrap();
    let through = tx.insert_mapping(&mapping(bob, shop, None, Some(reader))).await.unwrap();
    // One mapping per (account, database).
    assert_eq!(conflict(tx.insert_mapping(&mapping(ann, shop, None, None)).await), "mapping");
    assert_eq!(tx.credential(shop, "reader").await.unwrap().map(|c| c.uses), Some(1));
    assert_eq!(tx.mappings_of(ann).await.unwrap().len(), 3);
    tx.commit().await.unwrap();

    // Reads: pages by key, joined names, the creator's username.
    let page = store.list_credentials(shop, None, 1).await.unwrap();
    assert_eq!(page.iter().map(|c| c.spec.name.as_str()).collect::<Vec<_>>(), ["Reader"]);
    assert_eq!((page[0].created_by, page[0].created_by_name.as_deref(), page[0].uses), (Some(ann), Some("ann"), 1));
    let rest = store.list_credentials(shop, Some("reader"), 5).await.unwrap();
    assert_eq!(rest.iter().map(|c| (c.id, c.spec.name.as_str())).collect::<Vec<_>>(), [(writer, "Writer")]);
    assert_eq!((rest[0].password.as_deref(), rest[0].updated_at, rest[0].created_at), (None, 60, 5));
    assert_eq!(store.credential_by_id(reader).await.unwrap().map(|c| c.password), Some(Some(vec![9, 8, 7])));
    assert_eq!(store.find_credential(shop, "nope").await.unwrap(), None);
    let anns = store.list_mappings(ann, DEFAULT_ORG, None, 10).await.unwrap();
    assert_eq!(anns.iter().map(|m| m.db_id.as_str()).collect::<Vec<_>>(), ["archive", "Shop"], "this organization's");
    assert_eq!(store.list_mappings(ann, DEFAULT_ORG, Some("archive"), 10).await.unwrap().len(), 1);
    let m = store.find_mapping(ann, shop).await.unwrap().expect("own");
    assert_eq!((m.id, m.login.as_deref(), m.password.as_deref()), (own, Some("ann_db"), Some(&[1u8, 2, 3][..])));
    let b = store.find_mapping(bob, shop).await.unwrap().expect("through");
    assert_eq!((b.id, b.credential_name.as_deref(), b.login.as_deref()), (through, Some("Reader"), None));
    let both = store.databases_by_key("shop", 10).await.unwrap();
    assert_eq!(both.iter().map(|d| d.id).collect::<Vec<_>>(), [shop, elsewhere]);

    // Export pages: accounts by id, then each page's mappings (with their database's
    // organization) and list entries read by one id range.
    let mut tx = store.begin().await.unwrap();
    tx.set_account_level(ann, bob, Some(app::domain::users::AccountLevel::Edit)).await.unwrap();
    tx.commit().await.unwrap();
    let ids: Vec<_> = store.users_after_id(0, 1000).await.unwrap().iter().map(|u| u.id).collect();
    assert!(ids.windows(2).all(|w| w[0].0 < w[1].0) && ids.contains(&ann) && ids.contains(&bob), "{ids:?}");
    assert_eq!(store.users_after_id(ann.0, 1).await.unwrap().iter().map(|u| u.id).collect::<Vec<_>>(), [bob]);
    let maps = store.mappings_between(ann, ann).await.unwrap();
    assert_eq!(maps.len(), 3);
    assert!(maps.iter().any(|(o, m)| *o == other && m.database_id == elsewhere), "{maps:?}");
    assert_eq!(
        store.mappings_between(bob, bob).await.unwrap().iter().map(|(_, m)| m.id).collect::<Vec<_>>(),
        [through]
    );
    assert_eq!(
        store.account_levels_between(ann, bob).await.unwrap(),
        [(ann, "bob".to_string(), app::domain::users::AccountLevel::Edit)]
    );
    assert!(store.account_levels_between(bob, bob).await.unwrap().is_empty());

    // Tests are kept; changes keep the creation time; a login and a credential never mix.
    let test = ConnectionTest { outcome: TestOutcome::Connected, message: "ok".into(), millis: 3, at: 77 };
    let mut tx = store.begin().await.unwrap();
    tx.record_credential_test(reader, &test).await.unwrap();
    tx.record_mapping_test(own, &test).await.unwrap();
    let mut m = tx.mapping(ann, shop).await.unwrap().expect("own");
    m.login = None;
    m.password = None;
    m.credential_id = Some(writer);
    m.updated_at = 99;
    tx.update_mapping(&m).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.find_credential(shop, "reader").await.unwrap().and_then(|c| c.last_test), Some(test.clone()));
    let m = store.find_mapping(ann, shop).await.unwrap().expect("own");
    assert_eq!(
        (m.credential_name.as_deref(), m.created_at, m.updated_at, m.last_test.clone()),
        (Some("Writer"), 10, 99, Some(test))
    );
    let mut tx = store.begin().await.unwrap();
    let mut mixed = m.clone();
    mixed.login = Some("x".into());
    assert!(tx.update_mapping(&mixed).await.is_err(), "a mapping has a login or a credential, not both");
    drop(tx);

    // Deleting a credential takes the mappings through it; deleting an account or a database
    // takes theirs; deleting the creator keeps the credential.
    let mut tx = store.begin().await.unwrap();
    tx.delete_credential(reader).await.unwrap();
    assert_eq!(tx.mapping(bob, shop).await.unwrap(), None);
    tx.delete_user(ann).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.list_mappings(ann, DEFAULT_ORG, None, 10).await.unwrap().len(), 0);
    assert_eq!(store.list_credentials(shop, None, 10).await.unwrap().len(), 1);
    let mut tx = store.begin().await.unwrap();
    tx.insert_mapping(&mapping(bob, archive, None, None)).await.unwrap();
    tx.delete_database(archive).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.find_mapping(bob, archive).await.unwrap(), None);
    assert!(store.list_credentials(archive, None, 10).await.unwrap().is_empty());
}

async fn audit_filters_and_cursors(store: Arc<dyn Store>, _db: TestDb) {
    let mut tx = store.begin().await.unwrap();
    let events = [
        (10, "admin", "bob", "user.created", true),
        (20, "Admin", "role:Ops", "role.created", true),
        (20, "bob", "bob", "user.signed_in", false),
        (30, "émile", "org:Acme", "org.created", true),
        (40, "ADMIN", "bob", "user.deleted", true),
    ];
    for (at, actor, target, event, success) in events {
        tx.insert_audit(&AuditRecord {
            at,
            actor: Some(actor.into()),
            target: Some(target.into()),
            org_id: Some(DEFAULT_ORG),
            event,
            success,
            after: Some(serde_json::json!({"at": at})),
            ..Default::default()
        })
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let list = |f: AuditFilter, seek: AuditSeek, limit: u32| {
        let store = store.clone();
        async move {
            store.list_audit(&f, seek, limit).await.unwrap().into_iter().map(|e| (e.at, e.event)).collect::<Vec<_>>()
        }
    };
    let all = list(AuditFilter::default(), AuditSeek::Newest, 10).await;
    assert_eq!(all.iter().map(|e| e.0).collect::<Vec<_>>(), [40, 30, 20, 20, 10]);
    let newest = store.list_audit(&AuditFilter::default(), AuditSeek::Newest, 1).await.unwrap();
    assert_eq!(newest[0].after.as_deref(), Some("{\"at\":40}"));
    assert_eq!(newest[0].outcome, "success");
    // Case-insensitive for ASCII letters only, like SQLite's NOCASE.
    let by = |a: &str| AuditFilter { actor: Some(a.into()), ..Default::default() };
    assert_eq!(list(by("aDmIn"), AuditSeek::Newest, 10).await.len(), 3);
    assert_eq!(list(by("émile"), AuditSeek::Newest, 10).await.len(), 1);
    assert_eq!(list(by("ÉMILE"), AuditSeek::Newest, 10).await.len(), 0);
    let target = AuditFilter { target: Some("BOB".into()), ..Default::default() };
    assert_eq!(list(target, AuditSeek::Newest, 10).await.len(), 3);
    let cat = AuditFilter { event: Some(EventMatch::Category("user.".into())), ..Default::default() };
    assert_eq!(list(cat, AuditSeek::Newest, 10).await.iter().map(|e| e.0).collect::<Vec<_>>(), [40, 20, 10]);
    let exact = AuditFilter { event: Some(EventMatch::Exact("org.created".into())), ..Default::default() };
    assert_eq!(list(exact, AuditSeek::Newest, 10).await.len(), 1);
    let failed = AuditFilter { outcome: Some(Outcome::Failure), ..Default::default() };
    assert_eq!(list(failed, AuditSeek::Newest, 10).await, [(20, "user.signed_in".to_string())]);
    let range = AuditFilter { from: Some(20), to: Some(30), org: Some(DEFAULT_ORG.0), ..Default::default() };
    assert_eq!(list(range, AuditSeek::Newest, 10).await.len(), 3);
    // Cursors: pages of two, by event id, through equal times.
    let ids: Vec<i64> =
        store.list_audit(&AuditFilter::default(), AuditSeek::Newest, 10).await.unwrap().iter().map(|e| e.id).collect();
    let older: Vec<i64> = store
        .list_audit(&AuditFilter::default(), AuditSeek::Before(ids[1]), 2)
        .await
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(older, ids[2..4]);
    let newer: Vec<i64> = store
        .list_audit(&AuditFilter::default(), AuditSeek::After(ids[3]), 2)
        .await
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(newer, [ids[2], ids[1]], "oldest first after the cursor");
    assert!(store.list_audit(&AuditFilter::default(), AuditSeek::Before(999_999), 2).await.unwrap().is_empty());
}

async fn pictures_settings_throttles(store: Arc<dyn Store>, _db: TestDb) {
    let ada = add_user(&store, "ada").await;
    let mut tx = store.begin().await.unwrap();
    assert!(!tx.set_avatar(ada, Some(b"png1"), 1).await.unwrap());
    assert!(tx.set_avatar(ada, Some(b"png2"), 2).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(store.avatar(ada).await.unwrap(), Some((b"png2".to_vec(), 2)));
    assert_eq!(store.avatar_at(ada).await.unwrap(), Some(2), "the time without the image");
    let mut tx = store.begin().await.unwrap();
    assert!(tx.set_avatar(ada, None, 3).await.unwrap());
    assert!(!tx.set_avatar(ada, None, 3).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(store.avatar(ada).await.unwrap(), None);
    assert_eq!(store.avatar_at(ada).await.unwrap(), None);

    assert!(!store.instance_requires_2fa().await.unwrap());
    assert_eq!(store.two_factor_required(OrgId(999)).await.unwrap(), (false, false));
    let mut tx = store.begin().await.unwrap();
    tx.set_setting("require_2fa", "true").await.unwrap();
    tx.set_setting("require_2fa", "false").await.unwrap();
    tx.set_setting("require_2fa", "true").await.unwrap();
    tx.commit().await.unwrap();
    assert!(store.instance_requires_2fa().await.unwrap());
    assert_eq!(store.two_factor_required(DEFAULT_ORG).await.unwrap(), (false, true));

    assert_eq!(store.throttle_state("k").await.unwrap(), None);
    let mut tx = store.begin().await.unwrap();
    assert!(tx.throttle_claim("k", 1_000).await.unwrap());
    tx.put_throttle_state("k", 7, 5_000).await.unwrap();
    assert!(!tx.throttle_claim("k", 4_999).await.unwrap(), "must wait");
    assert_eq!(tx.throttle_state("k").await.unwrap(), Some((7, 5_000)));
    tx.commit().await.unwrap();
    assert_eq!(store.throttle_state("k").await.unwrap(), Some((7, 5_000)));
    // The claim is one statement generated from the schedule: on every state it decides and
    // stores exactly what `domain::throttle::claim` says.
    use app::domain::throttle::{claim, FAILURES_CAP, HARD_CAP};
    let mut tx = store.begin().await.unwrap();
    let states = (0..=HARD_CAP as i64 + 2).chain([FAILURES_CAP - 1, FAILURES_CAP]);
    for failures in states {
        let key = format!("s{failures}");
        tx.put_throttle_state(&key, failures, 5_000).await.unwrap();
        assert!(!tx.throttle_claim(&key, 4_999).await.unwrap(), "{failures}: must wait");
        assert_eq!(tx.throttle_state(&key).await.unwrap(), Some((failures, 5_000)), "{failures}: not counted");
        assert!(tx.throttle_claim(&key, 5_000).await.unwrap(), "{failures}: may try");
        assert_eq!(tx.throttle_state(&key).await.unwrap(), claim(failures, 5_000, 5_000), "{failures}");
    }
    assert!(tx.throttle_claim("fresh", 9_000).await.unwrap());
    assert_eq!(tx.throttle_state("fresh").await.unwrap(), claim(0, 0, 9_000));
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    tx.throttle_clear("k").await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.throttle_state("k").await.unwrap(), None);
}

async fn transactions_roll_back_when_dropped(store: Arc<dyn Store>, _db: TestDb) {
    let g0 = store.write_generation();
    {
        let mut tx = store.begin().await.unwrap();
        tx.insert_user(&person("ghost", "Ghost", "ghost@example.com")).await.unwrap();
        tx.insert_org("Ghosts", 1).await.unwrap();
        tx.put_throttle_state("ghost", 3, 0).await.unwrap();
    }
    assert!(store.user_by_username("ghost").await.unwrap().is_none());
    assert_eq!(store.list_orgs().await.unwrap().len(), 1);
    assert_eq!(store.throttle_state("ghost").await.unwrap(), None);
    assert_eq!(store.write_generation(), g0, "only a commit moves the generation");
    // The next writer is not blocked by the dropped one (its lock went with it).
    let id = add_user(&store, "real").await;
    assert!(store.user_by_username("real").await.unwrap().map(|u| u.id) == Some(id));
    assert_eq!(store.write_generation(), g0 + 1);
}

/// Two "instances" (two stores on one database), 20 writers at once, each reading a fact and
/// writing from it: the write lock (BEGIN IMMEDIATE on SQLite, the advisory lock on
/// PostgreSQL) keeps every read-then-write exact.
async fn parallel_writers_are_serialised(first: Arc<dyn Store>, db: TestDb) {
    let second = app::backend::store::open(&db.url).await.expect("second instance");
    let stores = [first.clone(), second];
    let mut tasks = Vec::new();
    for i in 0..20 {
        let store = stores[i % 2].clone();
        tasks.push(tokio::spawn(async move {
            let mut tx = store.begin().await.expect("begin");
            // Read, give the other writers every chance to interleave, then write from it.
            let (failures, _) = tx.throttle_state("race").await.expect("read").unwrap_or((0, 0));
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            tx.put_throttle_state("race", failures + 1, 0).await.expect("write");
            // The sign-in throttle's own claim, from the same read-then-write.
            let claimed = tx.throttle_claim("claim", 0).await.expect("claim");
            // "Count, then insert the next": a unique name per count.
            let n = tx.user_count().await.expect("count");
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            tx.insert_user(&person(&format!("racer{n}"), "Racer", &format!("racer{n}@example.com")))
                .await
                .expect("insert from a count no other writer saw");
            tx.commit().await.expect("commit");
            claimed
        }));
    }
    let mut claimed = 0;
    for t in tasks {
        if t.await.expect("task") {
            claimed += 1;
        }
    }
    assert_eq!(first.throttle_state("race").await.unwrap().map(|s| s.0), Some(20));
    let (claim_failures, _) = first.throttle_state("claim").await.unwrap().expect("claimed");
    assert_eq!(claim_failures, claimed, "every granted claim counted exactly once");
    assert_eq!(first.user_count().await.unwrap(), 20);
}

/// The multi-row writes and look-ups imports use: more rows than one statement takes, ids in
/// the order given, a conflict writes nothing and leaves the transaction usable.
async fn batch_writes_for_imports(store: Arc<dyn Store>, _db: TestDb) {
    let ada = add_user(&store, "ada").await;
    let mut people: Vec<UserInsert> = (0..1203)
        .map(|i| person(&format!("Batch{i:04}"), &format!("Batch {i}"), &format!("b{i}@example.com")))
        .collect();
    people[7].email = String::new();
    people[7].password_hash = None;
    people[8].super_admin = true;
    people[8].status = UserStatus::Disabled;
    let mut tx = store.begin().await.unwrap();
    let ids = tx.insert_users(&people).await.unwrap();
    assert_eq!(ids.len(), people.len());
    for (p, id) in people.iter().zip(&ids).step_by(97).chain([(&people[7], &ids[7]), (&people[8], &ids[8])]) {
        let u = tx.user_by_id(*id).await.unwrap().expect("inserted");
        assert_eq!((&u.username, &u.full_name, &u.email), (&p.username, &p.full_name, &p.email));
        assert_eq!(
            (u.password_hash.as_ref(), u.status, u.super_admin),
            (p.password_hash.as_ref(), p.status, p.super_admin)
        );
    }
    // One name already taken: nothing of the batch is written, the transaction goes on.
    let again = [person("fresh", "Fresh", "fresh@example.com"), person("ADA", "x", "x@example.com")];
    assert_eq!(conflict(tx.insert_users(&again).await), "username");
    assert!(tx.user_by_username("fresh").await.unwrap().is_none());

    // By username key or email key, each account once.
    let keys: Vec<String> =
        ["batch0001", "b2@example.com", "ada", "ada@example.com", "nobody"].iter().map(|k| k.to_string()).collect();
    let mut found: Vec<String> = tx.users_by_keys(&keys).await.unwrap().into_iter().map(|u| u.username).collect();
    found.sort();
    assert_eq!(found, ["Batch0001", "Batch0002", "ada"]);
    let many: Vec<String> = (0..1203).map(|i| format!("batch{i:04}")).collect();
    assert_eq!(tx.users_by_keys(&many).await.unwrap().len(), 1203);

    let members = [
        NewMembership { org: DEFAULT_ORG, user: ids[0], role: VIEWER_ROLE, extras: set(&[Ability::UseAdminer]) },
        NewMembership { org: DEFAULT_ORG, user: ids[1], role: MEMBER_ROLE, extras: AbilitySet::EMPTY },
        NewMembership {
            org: DEFAULT_ORG,
            user: ids[2],
            role: ADMIN_ROLE,
            extras: set(&[Ability::UseAdminer, Ability::ViewDatabases]),
        },
    ];
    tx.add_memberships(&members, 50).await.unwrap();
    for m in &members {
        let g = tx.membership(DEFAULT_ORG, m.user).await.unwrap().expect("member");
        assert_eq!((g.role, g.extras), (m.role, m.extras));
    }
    let twice = [
        NewMembership { org: DEFAULT_ORG, user: ids[3], role: VIEWER_ROLE, extras: AbilitySet::EMPTY },
        members[0].clone(),
    ];
    assert_eq!(conflict(tx.add_memberships(&twice, 51).await), "member");
    assert!(tx.membership(DEFAULT_ORG, ids[3]).await.unwrap().is_none(), "nothing of a refused batch");

    tx.set_account_level(ids[0], ada, Some(AccountLevel::View)).await.unwrap();
    tx.set_account_levels(&[
        (ids[0], ada, AccountLevel::Edit),
        (ids[1], ada, AccountLevel::View),
        (ids[1], ada, AccountLevel::Edit),
        (ids[2], ids[0], AccountLevel::View),
    ])
    .await
    .unwrap();
    assert_eq!(tx.account_level(ids[0], ada).await.unwrap(), Some(AccountLevel::Edit), "updated");
    assert_eq!(tx.account_level(ids[1], ada).await.unwrap(), Some(AccountLevel::Edit), "the last of a repeat");
    assert_eq!(tx.account_level(ids[2], ids[0]).await.unwrap(), Some(AccountLevel::View));

    let events: Vec<AuditRecord> = (0..1001)
        .map(|i| AuditRecord {
            at: 500,
            actor: Some("importer".into()),
            target: Some(format!("batch{i:04}")),
            org_id: Some(DEFAULT_ORG),
            event: "user.imported",
            success: true,
            after: Some(serde_json::json!({"n": i})),
            ..Default::default()
        })
        .collect();
    tx.insert_audits(&events).await.unwrap();
    tx.commit().await.unwrap();
    let newest = store.list_audit(&AuditFilter::default(), AuditSeek::Newest, 3).await.unwrap();
    let order: Vec<_> = newest.iter().map(|e| (e.target.clone(), e.after.clone())).collect();
    assert_eq!(
        order,
        [
            (Some("batch1000".to_string()), Some("{\"n\":1000}".to_string())),
            (Some("batch0999".to_string()), Some("{\"n\":999}".to_string())),
            (Some("batch0998".to_string()), Some("{\"n\":998}".to_string())),
        ],
        "stored in the order given"
    );
    assert_eq!(newest[0].actor.as_deref(), Some("importer"));
    assert_eq!(store.user_count().await.unwrap(), 1204);
}

async fn scim_connections_users_and_groups(store: Arc<dyn Store>, _db: TestDb) {
    let service = add_user(&store, "scim-okta").await;
    let (ann, bob, eve) = (add_user(&store, "ann").await, add_user(&store, "bob").await, add_user(&store, "eve").await);
    let mut tx = store.begin().await.unwrap();
    let conn = ScimConnectionRecord {
        slug: "okta".into(),
        name: "Okta".into(),
        service_user_id: service,
        default_org: Some(DEFAULT_ORG),
        default_role: Some(MEMBER_ROLE),
        orgs: vec![DEFAULT_ORG],
        delete_mode: "disable".into(),
        created_at: 1,
        updated_at: 1,
        ..Default::default()
    };
    let id = tx.insert_scim_connection(&conn).await.unwrap();
    tx.insert_scim_token(b"hash-1", id, "rscim_abc", 1).await.unwrap();
    tx.commit().await.unwrap();
    // One connection per slug. (A conflict ends its transaction on PostgreSQL: each one is
    // tried in a transaction of its own, dropped.)
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(tx.insert_scim_connection(&conn).await, Err(StoreError::Conflict { field: "slug" })));
    drop(tx);
    // The row comes with its counts and its service account's name.
    let c = store.scim_token_connection(b"hash-1").await.unwrap().expect("by token");
    assert_eq!((c.id, c.orgs.clone(), c.tokens, c.accounts), (id, vec![DEFAULT_ORG], 1, 0));
    assert_eq!(c.service_account, "scim-okta");
    assert!(store.scim_token_connection(b"nope").await.unwrap().is_none());
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.scim_connection_served_by(service).await.unwrap().as_deref(), Some("okta"));
    assert_eq!(tx.scim_connection_served_by(ann).await.unwrap(), None);
    // Links: inserted, then replaced in place; userName unique per connection ignoring case.
    let link = |user: UserId, name: &str| ScimUserRecord {
        user_id: user,
        connection_id: id,
        user_name: name.into(),
        external_id: Some(format!("x-{name}")),
        attributes: "{}".into(),
        created_at: 1,
        updated_at: 1,
        ..Default::default()
    };
    tx.save_scim_user(&link(ann, "Ann@X")).await.unwrap();
    tx.save_scim_user(&link(bob, "bob@x")).await.unwrap();
    tx.save_scim_user(&ScimUserRecord { updated_at: 2, ..link(ann, "ann.new@x") }).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(tx.save_scim_user(&link(eve, "BOB@X")).await, Err(StoreError::Conflict { field: "userName" })));
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.scim_user_by_name(id, "ann.new@x").await.unwrap().map(|u| u.user_id), Some(ann));
    assert!(tx.scim_user_by_name(id, "ann@x").await.unwrap().is_none());
    assert_eq!(tx.scim_link(bob).await.unwrap(), Some(id));
    assert_eq!(tx.scim_link(eve).await.unwrap(), None);
    assert_eq!(tx.scim_linked_users(id, &[ann.0, eve.0, bob.0]).await.unwrap().len(), 2);
    // Groups: one row per member, adds idempotent, removals by id.
    let g = ScimGroupRecord {
        connection_id: id,
        display_name: "Eng".into(),
        created_at: 1,
        updated_at: 1,
        ..Default::default()
    };
    let gid = tx.insert_scim_group(&g).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(
        tx.insert_scim_group(&ScimGroupRecord { display_name: "ENG".into(), ..g.clone() }).await,
        Err(StoreError::Conflict { field: "displayName" })
    ));
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    tx.add_scim_group_members(gid, &[ann, bob]).await.unwrap();
    tx.add_scim_group_members(gid, &[ann]).await.unwrap();
    assert_eq!(tx.scim_group_member_ids(gid).await.unwrap(), vec![ann.0, bob.0]);
    tx.remove_scim_group_members(gid, &[ann, eve]).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.scim_group_members(&[gid]).await.unwrap(), vec![(gid, bob.0)]);
    // Pages: the filter's clause and binds, in id order, counted apart.
    let (clause, binds) = where_clause_for("userName sw \"b\"");
    let q = ScimUserQuery { connection_id: id, clause: Some(clause), binds, offset: 0, limit: 10 };
    let page = store.scim_users(&q).await.unwrap();
    assert_eq!((page.len(), page[0].user_id, store.count_scim_users(&q).await.unwrap()), (1, bob, 1));
    let all = ScimUserQuery { connection_id: id, offset: 1, limit: 10, ..Default::default() };
    assert_eq!(store.scim_users(&all).await.unwrap().len(), 1, "offset skips");
    assert_eq!(store.scim_connections(10).await.unwrap()[0].accounts, 2);
    // Mappings: one per group and organization, listed with their names and member count.
    use app::domain::scim_mapping::{plan, MembershipChange};
    let mapping = ScimMappingRecord {
        id: 0,
        group_id: gid,
        org: DEFAULT_ORG,
        role: VIEWER_ROLE,
        abilities: AbilitySet::of(&[Ability::RunBackups]),
        priority: 3,
        created_at: 1,
        group_name: String::new(),
        org_name: String::new(),
        role_name: String::new(),
        members: 0,
    };
    let mut tx = store.begin().await.unwrap();
    let mid = tx.insert_scim_mapping(&mapping).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        conflict(tx.insert_scim_mapping(&ScimMappingRecord { role: ADMIN_ROLE, ..mapping.clone() }).await),
        "group"
    );
    drop(tx);
    let listed = store.scim_mappings(id).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].id, listed[0].group_name.as_str(), listed[0].role_name.as_str()), (mid, "Eng", "Viewer"));
    assert_eq!((listed[0].members, listed[0].priority, listed[0].abilities), (1, 3, mapping.abilities));
    // The people a connection manages (linked to it; never its service account or others),
    // what the mappings give them, and the managed memberships written and read back.
    let mut tx = store.begin().await.unwrap();
    assert!(tx.scim_group_mapped(gid).await.unwrap());
    let people = tx.scim_managed_people(id, &[eve, bob, service, ann]).await.unwrap();
    assert_eq!(people, vec![(ann, "ann".to_string()), (bob, "bob".to_string())]);
    let placements = tx.scim_placements(id, &[ann, bob]).await.unwrap();
    assert_eq!(placements.len(), 1, "only bob is in the group");
    assert_eq!((placements[0].user, placements[0].mapping, placements[0].extras), (bob, Some(mid), mapping.abilities));
    let before = tx.held_memberships(&[bob]).await.unwrap();
    let changes = plan(id, &[bob], &placements, &before);
    assert!(matches!(changes.as_slice(), [MembershipChange::Add(_)]), "{changes:?}");
    tx.apply_membership_changes(id, &changes, 5).await.unwrap();
    let held = tx.held_memberships(&[bob]).await.unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!((held[0].role, held[0].extras, held[0].connection), (VIEWER_ROLE, mapping.abilities, Some(id)));
    // A change by hand makes it manual; a released person's memberships are manual too.
    tx.set_member_role(DEFAULT_ORG, bob, MEMBER_ROLE).await.unwrap();
    assert_eq!(tx.held_memberships(&[bob]).await.unwrap()[0].connection, None);
    let removal = [MembershipChange::Remove(held[0])];
    tx.apply_membership_changes(id, &removal, 6).await.unwrap();
    assert_eq!(tx.held_memberships(&[bob]).await.unwrap().len(), 1, "a manual membership is never removed");
    tx.remove_membership(DEFAULT_ORG, bob).await.unwrap();
    tx.apply_membership_changes(id, &changes, 7).await.unwrap();
    tx.release_scim_person(id, bob).await.unwrap();
    assert_eq!(tx.held_memberships(&[bob]).await.unwrap()[0].connection, None);
    assert!(tx.scim_group_member_ids(gid).await.unwrap().is_empty());
    // A role in use by a mapping is in use; replacing it moves the mapping.
    let role = tx.insert_role("Mapped", 1).await.unwrap();
    tx.delete_scim_mapping(mid).await.unwrap();
    let mid = tx.insert_scim_mapping(&ScimMappingRecord { role, ..mapping.clone() }).await.unwrap();
    assert!(tx.role_in_use(role).await.unwrap());
    tx.reassign_role(role, VIEWER_ROLE).await.unwrap();
    assert_eq!(tx.scim_mapping(id, mid).await.unwrap().map(|m| m.role), Some(VIEWER_ROLE));
    assert!(!tx.role_in_use(role).await.unwrap());
    tx.commit().await.unwrap();
    // Deleting the connection takes its tokens, links and groups; the accounts stay.
    let mut tx = store.begin().await.unwrap();
    tx.delete_scim_connection(id).await.unwrap();
    tx.commit().await.unwrap();
    assert!(store.scim_token_connection(b"hash-1").await.unwrap().is_none());
    assert!(store.scim_group(id, gid).await.unwrap().is_none());
    assert!(store.user_by_id(ann).await.unwrap().is_some());
}

async fn bulk_plans_store_apply_once_and_expire(store: Arc<dyn Store>, _db: TestDb) {
    use app::backend::store::BulkPlanRecord;
    let ann = add_user(&store, "ann").await;
    let plan = BulkPlanRecord {
        actor: Some(ann),
        org: DEFAULT_ORG,
        action: r#"{"action":"disable"}"#.into(),
        items: format!("{}:c", ann.0),
        created_at: 10,
        applied_at: None,
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_bulk_plan(b"old", &BulkPlanRecord { created_at: 1, ..plan.clone() }, 0).await.unwrap();
    tx.insert_bulk_plan(b"new", &plan, 5).await.unwrap();
    assert_eq!(tx.bulk_plan(b"old").await.unwrap(), None, "plans older than the cut are deleted");
    assert_eq!(tx.bulk_plan(b"new").await.unwrap(), Some(plan.clone()));
    assert!(tx.finish_bulk_plan(b"new", 20).await.unwrap());
    assert!(!tx.finish_bulk_plan(b"new", 21).await.unwrap(), "applied once");
    assert_eq!(tx.bulk_plan(b"new").await.unwrap().and_then(|p| p.applied_at), Some(20));
    assert!(!tx.finish_bulk_plan(b"none", 22).await.unwrap());
    // A plan of the command line has no maker.
    tx.insert_bulk_plan(b"cli", &BulkPlanRecord { actor: None, ..plan.clone() }, 5).await.unwrap();
    assert_eq!(tx.bulk_plan(b"cli").await.unwrap().map(|p| p.actor), Some(None));
    tx.commit().await.unwrap();
}

fn where_clause_for(filter: &str) -> (String, Vec<SqlBind>) {
    let f = app::domain::scim_filter::parse_filter(filter).expect("parses");
    app::backend::store::scim::where_clause(&f, 2).expect("translates")
}
