//! The access model at scale through the services (what the pages, the server functions and
//! the JSON API call): N accounts (default 100,000) spread over 10 organizations (1–3
//! memberships each, random roles, some extra grants), then
//! - a full reload of the in-memory model (start-up, or a change made by another process);
//! - a role toggle end to end (transaction, commit, model patched) and the first check after it;
//! - the check and explain services;
//! - member list pages (first, deep, search) of a 50,000-member organization;
//! - the role matrix and organization list (with their member counts);
//! - an account's own view of itself (`current_user`).
//!
//!   cargo bench -p server --bench access_scale        (ROSTER_BENCH_USERS=100000, 200 runs)
mod common;

use common::pct;
use std::sync::Arc;
use std::time::Instant;

use app::backend::services::{access, auth, orgs, roles};
use app::backend::store::sqlite::SqliteStore;
use app::backend::{Backend, Caller, Config, Ctx, SessionUser, SystemClock};
use app::domain::abilities::Ability;
use app::domain::ids::{OrgId, RoleId};

async fn time<F, Fut>(runs: usize, mut f: F) -> (f64, f64, f64)
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for i in 0..5 {
        f(i).await; // warm-up
    }
    let mut d = Vec::with_capacity(runs);
    for i in 0..runs {
        let t = Instant::now();
        f(i).await;
        d.push(t.elapsed());
    }
    d.sort();
    (pct(&d, 0.5), pct(&d, 0.95), pct(&d, 1.0))
}

/// A small deterministic generator (no dependency needed for seeding).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("ROSTER_BENCH_USERS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let runs: usize = std::env::var("ROSTER_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite:{}", dir.path().join("bench.db").display());
    let store = SqliteStore::open(&url).await.expect("open");
    store.migrate().await.expect("migrate");
    let pool = store.write_pool().clone();

    let t = Instant::now();
    let mut tx = pool.begin().await.expect("tx");
    for o in 2..=10 {
        sqlx::query("INSERT INTO orgs (id, name, name_key, created_at) VALUES (?, ?, ?, 0)")
            .bind(o)
            .bind(format!("Org {o}"))
            .bind(format!("org {o}"))
            .execute(&mut *tx)
            .await
            .expect("org");
    }
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let mut qb = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO users (id, username, username_key, full_name, full_name_key, email, email_key, status, super_admin, created_at, updated_at) ",
        );
        qb.push_values(chunk, |mut b, &i| {
            let username = format!("user{i:06}");
            b.push_bind(i as i64 + 100)
                .push_bind(username.clone())
                .push_bind(username.clone())
                .push_bind(format!("User {i}"))
                .push_bind(format!("user {i}"))
                .push_bind(format!("{username}@example.com"))
                .push_bind(format!("{username}@example.com"))
                .push_bind("active")
                .push_bind((i == 0) as i64)
                .push_bind(0i64)
                .push_bind(0i64);
        });
        qb.build().execute(&mut *tx).await.expect("users");
    }
    // Half of everyone in org 1 (the big one), everyone in 1-2 of orgs 2..10.
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut rows: Vec<(i64, i64, i64, String)> = Vec::new();
    for i in 0..n {
        let user = i as i64 + 100;
        let username = format!("user{i:06}");
        let mut orgs = vec![];
        if i % 2 == 0 {
            orgs.push(1);
        }
        let extra = 1 + rng.below(2) as i64;
        for _ in 0..extra {
            let o = 2 + rng.below(9) as i64;
            if !orgs.contains(&o) {
                orgs.push(o);
            }
        }
        for o in orgs {
            rows.push((o, user, 1 + rng.below(4) as i64, username.clone()));
        }
    }
    for chunk in rows.chunks(500) {
        let mut qb = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO memberships (org_id, user_id, role_id, username_key, created_at) ",
        );
        qb.push_values(chunk, |mut b, r| {
            b.push_bind(r.0).push_bind(r.1).push_bind(r.2).push_bind(r.3.clone()).push_bind(0i64);
        });
        qb.build().execute(&mut *tx).await.expect("memberships");
    }
    for (o, u, _, _) in rows.iter().step_by(20) {
        sqlx::query("INSERT INTO member_abilities (org_id, user_id, ability) VALUES (?, ?, 'view-queries')")
            .bind(o)
            .bind(u)
            .execute(&mut *tx)
            .await
            .expect("extras");
    }
    tx.commit().await.expect("commit");
    sqlx::query("ANALYZE").execute(&pool).await.expect("analyze");
    let seed_secs = t.elapsed().as_secs_f64();
    let memberships = rows.len();

    let b = Backend::new(Arc::new(store), Config::default(), Arc::new(SystemClock));
    let cli = Ctx::cli();
    println!("Seeded {n} accounts, 10 organizations, {memberships} memberships in {seed_secs:.1} s; {runs} runs per scenario.\n");
    println!("| scenario | p50 ms | p95 ms | max ms |");
    println!("|---|---|---|---|");
    let report = |name: &str, r: (f64, f64, f64)| println!("| {name} | {:.3} | {:.3} | {:.3} |", r.0, r.1, r.2);

    report("full reload of the access model", time(10, |_| async { b.load_access().await.expect("load") }).await);

    // A role toggle end to end, then the first check that must see it.
    let probe = {
        let m = b.access.read();
        let (&(u, o), _) = m.grants.iter().find(|(_, g)| g.role == RoleId(2)).expect("an operator");
        (m.users[&u].username.clone(), o)
    };
    let mut seen = Vec::with_capacity(runs);
    let toggle = time(runs, |i| {
        let on = i % 2 == 0;
        let (b, cli) = (&b, &cli);
        async move {
            roles::set_ability(b, cli, RoleId(2), Ability::UseAdminer, on).await.expect("toggle");
        }
    })
    .await;
    report("role toggle (transaction + commit + model patched)", toggle);
    for i in 0..runs {
        let on = i % 2 == 0;
        roles::set_ability(&b, &cli, RoleId(2), Ability::UseAdminer, on).await.expect("toggle");
        let t = Instant::now();
        let d = access::check(&b, &cli, Some(&probe.0), probe.1, Ability::UseAdminer).expect("check");
        seen.push(t.elapsed());
        assert_eq!(d.allowed, on, "the check right after a toggle sees it");
    }
    seen.sort();
    report("first check after a toggle (sees it)", (pct(&seen, 0.5), pct(&seen, 0.95), pct(&seen, 1.0)));

    // From the start of the toggle call to the moment the new matrix is in force for every
    // check (the model's version moves right after the patch): what another request would
    // experience. A watcher thread polls the version (an atomic, no lock taken, yielding so it
    // does not starve the two cores). The call's answer also counts the role's holders, after
    // the change is in force, which the figure above includes and this one does not.
    let probe_id = b.access.read().user_id(&probe.0).expect("probe user");
    let mut visible = Vec::with_capacity(runs);
    for i in 0..runs {
        let on = i % 2 == 0;
        let model = b.access.clone();
        let before = model.version();
        let start = Instant::now();
        let watcher = std::thread::spawn(move || loop {
            if model.version() != before {
                let t = start.elapsed();
                assert_eq!(model.read().decide(Some(probe_id), probe.1, Ability::UseAdminer).allowed(), on);
                return t;
            }
            std::thread::yield_now();
        });
        roles::set_ability(&b, &cli, RoleId(2), Ability::UseAdminer, on).await.expect("toggle");
        visible.push(watcher.join().expect("watcher"));
    }
    visible.sort();
    report(
        "role toggle: call start -> in force for every check",
        (pct(&visible, 0.5), pct(&visible, 0.95), pct(&visible, 1.0)),
    );

    let users: Vec<String> = (0..1000).map(|i| format!("user{:06}", (i * 97) % n)).collect();
    report(
        "check service (user, org, ability -> decision + sentence)",
        time(runs, |i| {
            let u = users[i % users.len()].clone();
            let b = &b;
            let cli = &cli;
            async move {
                access::check(b, cli, Some(&u), OrgId(1 + (i % 10) as i64), Ability::RunBackups).expect("check");
            }
        })
        .await,
    );
    report(
        "explain service",
        time(runs, |i| {
            let u = users[i % users.len()].clone();
            let b = &b;
            let cli = &cli;
            async move {
                access::explain(b, cli, Some(&u), OrgId(1), Ability::ManageUsers).expect("explain");
            }
        })
        .await,
    );
    let big = OrgId(1);
    report(
        "members of a 50k-member org, page 1",
        time(runs, |_| async {
            orgs::members(&b, &cli, big, None, None).await.expect("members");
        })
        .await,
    );
    report(
        "members, deep page (after user050000)",
        time(runs, |_| async {
            orgs::members(&b, &cli, big, None, Some("user050000".into())).await.expect("members");
        })
        .await,
    );
    report(
        "members, search \"user0421\"",
        time(runs, |_| async {
            orgs::members(&b, &cli, big, Some("user0421".into()), None).await.expect("members");
        })
        .await,
    );
    report(
        "members, search with no match",
        time(20, |_| async {
            orgs::members(&b, &cli, big, Some("zzz".into()), None).await.expect("members");
        })
        .await,
    );
    report(
        "role matrix (with member counts)",
        time(runs, |_| async {
            roles::matrix(&b, &cli).await.expect("matrix");
        })
        .await,
    );
    report(
        "organization list (with member counts)",
        time(runs, |_| async {
            orgs::list(&b, &cli).await.expect("orgs");
        })
        .await,
    );
    let me = {
        let m = b.access.read();
        let id = m.user_id("user000002").expect("user");
        Ctx {
            caller: Caller::User(SessionUser {
                id,
                username: "user000002".into(),
                full_name: String::new(),
                email: String::new(),
                super_admin: false,
                org: big,
                token: None,
                needs_two_factor: false,
            }),
            ..Ctx::anonymous()
        }
    };
    report(
        "current_user (orgs and abilities from memory)",
        time(runs, |_| async {
            auth::me(&b, &me).expect("me");
        })
        .await,
    );
}
