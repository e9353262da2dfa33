//! Roster's in-memory access check (`AccessModel::decide`) against casbin-rs, on the same data.
//!
//! Sizes (users, roles) = (1k, 100), (10k, 1k), (100k, 10k), each over 10 and 1,000 orgs. Every
//! user belongs to 1..=3 orgs with one role in each; every role grants a pseudo-random subset of
//! the 19 abilities (each with probability 1/2). No super admins, no extra grants, no public
//! account: casbin gets exactly the role model, nothing casbin would have to emulate.
//!
//! Casbin model: RBAC with domains, org = domain. Roster's roles are global (one definition,
//! assigned per org), so a role's abilities are written once with the domain wildcard `*`
//! (`p, r<role>, *, <ability>`) and the matcher accepts `p.dom == "*"`; the user's role is
//! per domain (`g, u<user>, r<role>, o<org>`). Writing `p, role, org, ability` for every org a
//! role is used in would give casbin up to ~20x more policies to scan (about 1.9M at 100k users,
//! 10k roles, 1,000 orgs) and only make it slower; the wildcard is the smaller, faster encoding.
//!
//! Before timing, each size checks that both engines agree on 1,000 random queries from existing
//! memberships and deny up to 200 queries in orgs the user is not in (panics otherwise), and
//! prints casbin's per-call latencies for both kinds. Then criterion measures:
//! - `roster_decide`: one `decide` per iteration, queries drawn from existing memberships;
//! - `casbin_enforce`: one `enforce` per iteration, the same queries;
//! - `roster_toggle_visible`: under the model's `RwLock`, add an ability to a role
//!   (`roles.get_mut(..).abilities.insert(a)`), then a read-locked `decide` that must allow it,
//!   then remove it and a `decide` that must deny it: one iteration = two toggle+check pairs;
//! - `roster_roles_reload_visible`: what `backend::access::Access::apply(Change::Roles)` does in
//!   memory after a role edit (the SQL `load_roles` excluded): a fresh list of every role with
//!   the ability toggled, rebuilt into the roles map and swapped in under the write lock, then
//!   a read-locked `decide` that must see it. One iteration = one toggle+check.
//!
//! Lines starting with `SETUP` and `AGREE` are machine-readable (tab separated); `bench/access.sh`
//! combines them with criterion's estimates into a summary.
//!
//! `ROSTER_ACCESS_SIZES=1000,10000` limits the user counts measured (default: all three);
//! `ROSTER_ACCESS_CASBIN_MATCHER=act-first` tries casbin with the matcher's terms reordered.
use std::collections::HashMap;
use std::hint::black_box;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use app::domain::abilities::{Ability, AbilitySet};
use app::domain::access::{AccessModel, Grant, Grounds, RoleEntry, UserEntry};
use app::domain::ids::{OrgId, RoleId, UserId};
use casbin::prelude::*;
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};

const SIZES: [(usize, usize); 3] = [(1_000, 100), (10_000, 1_000), (100_000, 10_000)];
const ORG_COUNTS: [usize; 2] = [10, 1_000];
/// Queries cycled through by the timed loops (large enough that 100k users are not all cached).
const QUERIES: usize = 1 << 16;
/// Queries both engines must agree on before anything is timed.
const AGREE: usize = 1_000;
/// And must both deny these many queries in orgs the user is not a member of (at least
/// `AGREE_OUTSIDE_MIN`, then as many as fit in `AGREE_OUTSIDE_BUDGET`).
const AGREE_OUTSIDE: usize = 200;
const AGREE_OUTSIDE_MIN: usize = 5;
const AGREE_OUTSIDE_BUDGET: Duration = Duration::from_secs(20);

const CASBIN_MODEL: &str = r#"
[request_definition]
r = sub, dom, act

[policy_definition]
p = sub, dom, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
"#;

/// The matcher in the form casbin's documentation gives for RBAC with domains.
const CASBIN_MATCHER: &str = r#"g(r.sub, p.sub, r.dom) && (p.dom == "*" || r.dom == p.dom) && r.act == p.act"#;
/// The same with the cheap comparison first, so the role look-up runs for about 1 policy in 19
/// (`ROSTER_ACCESS_CASBIN_MATCHER=act-first`).
const CASBIN_MATCHER_ACT_FIRST: &str =
    r#"r.act == p.act && (p.dom == "*" || r.dom == p.dom) && g(r.sub, p.sub, r.dom)"#;

fn casbin_model_text() -> String {
    let matcher = match std::env::var("ROSTER_ACCESS_CASBIN_MATCHER").as_deref() {
        Err(_) | Ok("docs") => CASBIN_MATCHER,
        Ok("act-first") => CASBIN_MATCHER_ACT_FIRST,
        Ok(other) => panic!("ROSTER_ACCESS_CASBIN_MATCHER: docs or act-first, not {other}"),
    };
    format!("{CASBIN_MODEL}m = {matcher}\n")
}

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The generated data, independent of either engine.
struct Data {
    orgs: usize,
    /// `roles[i]` is the ability set of `RoleId(i + 1)`.
    roles: Vec<AbilitySet>,
    /// `memberships[i]` are the (org, role) pairs of `UserId(i + 1)`.
    memberships: Vec<Vec<(OrgId, RoleId)>>,
}

fn generate(users: usize, roles: usize, orgs: usize) -> Data {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (users as u64) << 20 ^ orgs as u64);
    let roles = (0..roles)
        .map(|_| {
            let bits = rng.next();
            Ability::ALL.iter().enumerate().filter(|(i, _)| bits >> i & 1 == 1).map(|(_, a)| *a).collect()
        })
        .collect::<Vec<AbilitySet>>();
    let memberships = (0..users)
        .map(|_| {
            let k = 1 + rng.below(3);
            let mut m: Vec<(OrgId, RoleId)> = Vec::with_capacity(k);
            while m.len() < k {
                let org = OrgId(1 + rng.below(orgs) as i64);
                if m.iter().all(|(o, _)| *o != org) {
                    m.push((org, RoleId(1 + rng.below(roles.len()) as i64)));
                }
            }
            m
        })
        .collect();
    Data { orgs, roles, memberships }
}

fn role_name(id: RoleId) -> String {
    format!("Role {}", id.0)
}

fn build_model(d: &Data) -> AccessModel {
    let mut m = AccessModel::default();
    for (i, abilities) in d.roles.iter().enumerate() {
        let id = RoleId(i as i64 + 1);
        m.roles.insert(id, RoleEntry { name: role_name(id), abilities: *abilities });
    }
    for o in 1..=d.orgs {
        m.set_org(OrgId(o as i64), format!("org{o}"));
    }
    for (i, ms) in d.memberships.iter().enumerate() {
        let u = UserId(i as i64 + 1);
        m.set_user(u, UserEntry { username: format!("user{}", u.0), super_admin: false, active: true });
        for (org, role) in ms {
            m.grants.insert((u, *org), Grant { role: *role, extras: AbilitySet::EMPTY });
        }
    }
    m
}

fn sub(u: UserId) -> String {
    format!("u{}", u.0)
}
fn dom(o: OrgId) -> String {
    format!("o{}", o.0)
}
fn role(r: RoleId) -> String {
    format!("r{}", r.0)
}

/// (policies, grouping policies) for casbin.
fn casbin_rules(d: &Data) -> (Vec<Vec<String>>, Vec<Vec<String>>) {
    let mut p = Vec::new();
    for (i, set) in d.roles.iter().enumerate() {
        for a in set.iter() {
            p.push(vec![role(RoleId(i as i64 + 1)), "*".to_string(), a.code().to_string()]);
        }
    }
    let mut g = Vec::new();
    for (i, ms) in d.memberships.iter().enumerate() {
        for (org, r) in ms {
            g.push(vec![sub(UserId(i as i64 + 1)), role(*r), dom(*org)]);
        }
    }
    (p, g)
}

fn build_enforcer(p: Vec<Vec<String>>, g: Vec<Vec<String>>) -> Enforcer {
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("tokio runtime");
    rt.block_on(async {
        let model = DefaultModel::from_str(&casbin_model_text()).await.expect("casbin model");
        let mut e = Enforcer::new(model, MemoryAdapter::default()).await.expect("casbin enforcer");
        // The memory adapter would keep a second copy of every rule; nothing reads it back.
        e.enable_auto_save(false);
        assert!(e.add_policies(p).await.expect("add_policies"));
        assert!(e.add_grouping_policies(g).await.expect("add_grouping_policies"));
        e
    })
}

struct Query {
    user: UserId,
    org: OrgId,
    ability: Ability,
    sub: String,
    dom: String,
}

/// Random (user, one of the user's orgs, any ability): about half allowed.
fn queries(d: &Data, n: usize) -> Vec<Query> {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03 ^ d.memberships.len() as u64 ^ (d.orgs as u64) << 32);
    (0..n)
        .map(|_| {
            let i = rng.below(d.memberships.len());
            let ms = &d.memberships[i];
            let (org, _) = ms[rng.below(ms.len())];
            let user = UserId(i as i64 + 1);
            let ability = Ability::ALL[rng.below(Ability::ALL.len())];
            Query { user, org, ability, sub: sub(user), dom: dom(org) }
        })
        .collect()
}

fn enforce(e: &Enforcer, q: &Query) -> bool {
    e.enforce((q.sub.as_str(), q.dom.as_str(), q.ability.code())).expect("enforce")
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn bench_size(c: &mut Criterion, users: usize, roles: usize, orgs: usize) {
    let label = format!("u{users}_r{roles}_o{orgs}");
    let t = Instant::now();
    let data = generate(users, roles, orgs);
    let gen = t.elapsed();

    let t = Instant::now();
    let model = build_model(&data);
    let model_build = t.elapsed();

    let t = Instant::now();
    let (p, g) = casbin_rules(&data);
    let (n_p, n_g) = (p.len(), g.len());
    let rules_build = t.elapsed();
    let t = Instant::now();
    let enforcer = build_enforcer(p, g);
    let casbin_build = t.elapsed();
    println!(
        "SETUP\t{label}\tusers={users}\troles={roles}\torgs={orgs}\tmemberships={}\tcasbin_policies={n_p}\t\
         casbin_groupings={n_g}\tgenerate_ms={:.1}\troster_build_ms={:.1}\tcasbin_rules_ms={:.1}\t\
         casbin_build_ms={:.1}\tcasbin_matcher={}",
        model.grants.len(),
        ms(gen),
        ms(model_build),
        ms(rules_build),
        ms(casbin_build),
        std::env::var("ROSTER_ACCESS_CASBIN_MATCHER").unwrap_or_else(|_| "docs".into()),
    );

    let qs = queries(&data, QUERIES);
    let mut allowed = 0;
    let mut casbin_times = Vec::with_capacity(AGREE);
    for q in &qs[..AGREE] {
        let ours = model.decide(Some(q.user), q.org, q.ability).allowed();
        let t = Instant::now();
        let theirs = enforce(&enforcer, q);
        casbin_times.push(t.elapsed());
        assert_eq!(
            ours,
            theirs,
            "{label}: roster and casbin disagree on user {} org {} {}",
            q.user.0,
            q.org.0,
            q.ability.code()
        );
        allowed += ours as usize;
    }
    casbin_times.sort();
    let casbin_mean = casbin_times.iter().sum::<Duration>() / AGREE as u32;

    // Plus queries in orgs the user is not a member of: both must deny. casbin-rs 2.20 is slow
    // here (for a subject missing from the domain, `DefaultRoleManager::has_link` scans every
    // node of the domain's graph, once per policy), so this part stops after a time budget.
    let mut rng = Rng(0x94D0_49BB_1331_11EB);
    let mut outside_times = Vec::new();
    let budget = Instant::now();
    while outside_times.len() < AGREE_OUTSIDE
        && (outside_times.len() < AGREE_OUTSIDE_MIN || budget.elapsed() < AGREE_OUTSIDE_BUDGET)
    {
        let user = UserId(1 + rng.below(users) as i64);
        let org = OrgId(1 + rng.below(orgs) as i64);
        if model.is_member(user, org) {
            continue;
        }
        let q =
            Query { user, org, ability: Ability::ALL[rng.below(Ability::ALL.len())], sub: sub(user), dom: dom(org) };
        assert_eq!(model.decide(Some(q.user), q.org, q.ability), Grounds::NotMember);
        let t = Instant::now();
        let theirs = enforce(&enforcer, &q);
        outside_times.push(t.elapsed());
        assert!(!theirs, "{label}: casbin allows non-member user {} org {} {}", q.user.0, q.org.0, q.ability.code());
    }
    outside_times.sort();
    println!(
        "AGREE\t{label}\tqueries={AGREE}\tallowed={allowed}\tcasbin_call_p50_us={:.1}\tcasbin_call_p95_us={:.1}\t\
         casbin_call_mean_us={:.1}\toutside_queries={}\tcasbin_outside_p50_us={:.1}",
        percentile(&casbin_times, 0.5).as_secs_f64() * 1e6,
        percentile(&casbin_times, 0.95).as_secs_f64() * 1e6,
        casbin_mean.as_secs_f64() * 1e6,
        outside_times.len(),
        percentile(&outside_times, 0.5).as_secs_f64() * 1e6,
    );

    let mut group = c.benchmark_group(format!("access/{label}"));
    group.warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3)).sample_size(50);

    group.bench_function("roster_decide", |b| {
        let mut i = 0usize;
        b.iter(|| {
            let q = &qs[i % QUERIES];
            i += 1;
            black_box(model.decide(Some(black_box(q.user)), black_box(q.org), black_box(q.ability)))
        })
    });

    // Casbin's calls are slow at the larger sizes: few, flat samples, long enough for several calls each.
    let casbin_measure = Duration::from_secs_f64((casbin_mean.as_secs_f64() * 10.0 * 20.0).clamp(3.0, 20.0));
    group.sampling_mode(SamplingMode::Flat).sample_size(10).measurement_time(casbin_measure);
    group.bench_function("casbin_enforce", |b| {
        let mut i = 0usize;
        b.iter(|| {
            let q = &qs[i % QUERIES];
            i += 1;
            black_box(enforce(&enforcer, q))
        })
    });
    group.sampling_mode(SamplingMode::Auto).sample_size(50).measurement_time(Duration::from_secs(3));
    drop(enforcer);

    // Denied queries whose ability a toggle on the user's role then grants.
    let toggles: Vec<(UserId, OrgId, RoleId, Ability)> = qs
        .iter()
        .filter(|q| !model.decide(Some(q.user), q.org, q.ability).allowed())
        .map(|q| (q.user, q.org, model.grants[&(q.user, q.org)].role, q.ability))
        .take(4096)
        .collect();
    let shared = RwLock::new(model);

    group.bench_function("roster_toggle_visible", |b| {
        let mut i = 0usize;
        b.iter(|| {
            let (u, o, r, a) = toggles[i % toggles.len()];
            i += 1;
            shared.write().unwrap().roles.get_mut(&r).unwrap().abilities.insert(a);
            assert!(shared.read().unwrap().decide(Some(u), o, a).allowed());
            shared.write().unwrap().roles.get_mut(&r).unwrap().abilities.remove(a);
            assert!(!shared.read().unwrap().decide(Some(u), o, a).allowed());
        })
    });

    // The server's path: `load_roles` returns every role; the map is rebuilt and swapped in.
    let rows: Vec<(RoleId, String, AbilitySet)> = {
        let m = shared.read().unwrap();
        let mut v: Vec<_> = m.roles.iter().map(|(id, e)| (*id, e.name.clone(), e.abilities)).collect();
        v.sort_by_key(|r| r.0);
        v
    };
    group.bench_function("roster_roles_reload_visible", |b| {
        let mut i = 0usize;
        b.iter(|| {
            let (u, o, r, a) = toggles[i % toggles.len()];
            i += 1;
            // The stored roles as they are, plus this iteration's toggle (so each iteration also
            // reverts the previous one).
            let mut fresh = rows.clone();
            let row = &mut fresh[r.0 as usize - 1];
            debug_assert_eq!(row.0, r);
            row.2.insert(a);
            let roles: HashMap<RoleId, RoleEntry> =
                fresh.into_iter().map(|(id, name, abilities)| (id, RoleEntry { name, abilities })).collect();
            shared.write().unwrap().roles = roles;
            assert!(shared.read().unwrap().decide(Some(u), o, a).allowed());
        })
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    let only: Option<Vec<usize>> = std::env::var("ROSTER_ACCESS_SIZES")
        .ok()
        .map(|s| s.split(',').map(|x| x.trim().parse().expect("ROSTER_ACCESS_SIZES: user counts")).collect());
    for (users, roles) in SIZES {
        if only.as_ref().is_some_and(|o| !o.contains(&users)) {
            continue;
        }
        for orgs in ORG_COUNTS {
            bench_size(c, users, roles, orgs);
        }
    }
}

criterion_group!(check, benches);
criterion_main!(check);
