//! The audit log viewer through the HTTP surface: every filter, keyset paging in both
//! directions, field errors, CSV and JSON Lines exports (parsed back), who may read it, and
//! the query plans that keep it fast at a million events.
use crate::common;

use app::backend::store::sqlite::{audit_query, AuditArg, SqliteStore};
use app::backend::store::AuditRecord;
use app::domain::audit::{AuditFilter, AuditSeek, EventMatch, Outcome};
use app::domain::ids::{OrgId, UserId};
use common::{code, Client, TestApp};
use serde_json::{json, Value};

/// Seeded events lie in 2020, well before the sign-up events the test accounts write.
const T0: i64 = 1_600_000_000_000;

/// Query parameters that select the seeded events (and nothing written "now").
fn seeded_range() -> String {
    format!("&from={T0}&to={}", T0 + 30 * 86_400_000)
}

/// A seeded event, with what the filters compare.
#[derive(Clone, Debug)]
struct Seeded {
    actor: &'static str,
    target: &'static str,
    org: i64,
    event: &'static str,
    success: bool,
    at: i64,
}

/// Writes events straight through the store (as the services do), oldest first; returns
/// them with their ids. Times repeat in pairs so the id tie-break is exercised.
async fn seed(app: &TestApp, n: usize) -> Vec<(i64, Seeded)> {
    let actors = ["Alice", "bob", "cli"];
    let targets = ["carol", "role:Viewer", "org:Acme", "dave"];
    let events = ["user.created", "user.updated", "role.renamed", "sign_in", "member.added", "user.deleted"];
    let mut tx = app.backend.store.begin().await.expect("tx");
    let mut out = Vec::new();
    for i in 0..n {
        let s = Seeded {
            actor: actors[i % 3],
            target: targets[i % 4],
            org: 1 + (i % 2) as i64,
            event: events[i % 6],
            success: i % 5 != 0,
            at: T0 + (i as i64 / 2) * 60_000,
        };
        let rec = AuditRecord {
            at: s.at,
            actor_id: Some(UserId(1)),
            actor: Some(s.actor.to_string()),
            target: Some(s.target.to_string()),
            org_id: Some(OrgId(s.org)),
            event: s.event,
            success: s.success,
            ip: Some("10.0.0.1".into()),
            user_agent: None,
            before: Some(json!({"n": i})),
            after: Some(json!({"n": i + 1})),
        };
        tx.insert_audit(&rec).await.expect("insert");
        out.push(s);
    }
    tx.commit().await.expect("commit");
    // Ids grow with each insert: the seeded events hold the n largest.
    let (_, page) = app.admin_list_all().await;
    let mut ids: Vec<i64> = page.iter().map(|e| e["id"].as_i64().expect("id")).collect();
    ids.sort();
    ids[ids.len() - n..].iter().copied().zip(out).collect()
}

impl TestApp {
    /// Every event, newest first, through the store (no HTTP, no paging limits).
    async fn admin_list_all(&self) -> (usize, Vec<Value>) {
        let rows =
            self.backend.store.list_audit(&AuditFilter::default(), AuditSeek::Newest, 1_000_000).await.expect("list");
        let v: Vec<Value> = rows.iter().map(|e| serde_json::to_value(e).expect("json")).collect();
        (v.len(), v)
    }
}

/// Which seeded events a filter should select.
type Keep = Box<dyn Fn(&Seeded) -> bool>;

/// Ids newest first, as the viewer orders them: by time, then id.
fn expected(seeded: &[(i64, Seeded)], keep: impl Fn(&Seeded) -> bool) -> Vec<i64> {
    let mut v: Vec<(i64, i64)> = seeded.iter().filter(|(_, s)| keep(s)).map(|(id, s)| (s.at, *id)).collect();
    v.sort();
    v.reverse();
    v.into_iter().map(|(_, id)| id).collect()
}

/// Every id of a filtered listing, walking older pages.
async fn walk(c: &Client, filters: &str, limit: u32) -> Vec<i64> {
    let mut ids = Vec::new();
    let mut cursor: Option<i64> = None;
    loop {
        let before = cursor.map(|b| format!("&before={b}")).unwrap_or_default();
        let (s, page) = c.get(&format!("/api/v1/audit?limit={limit}{filters}{before}")).await;
        assert_eq!(s, 200, "{filters}: {page}");
        ids.extend(page["events"].as_array().expect("events").iter().map(|e| e["id"].as_i64().expect("id")));
        match page["older"].as_i64() {
            Some(o) => cursor = Some(o),
            None => return ids,
        }
    }
}

#[tokio::test]
async fn every_filter_selects_exactly_its_events() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let seeded = seed(&app, 120).await;
    let seeded_only = |f: &str| format!("{}{f}", seeded_range());
    let cases: Vec<(String, Keep)> = vec![
        (seeded_only(""), Box::new(|_| true)),
        // case-insensitive actor and target
        (seeded_only("&actor=alice"), Box::new(|s| s.actor == "Alice")),
        (seeded_only("&actor=BOB"), Box::new(|s| s.actor == "bob")),
        (seeded_only("&target=ROLE%3Aviewer"), Box::new(|s| s.target == "role:Viewer")),
        (seeded_only("&org=2"), Box::new(|s| s.org == 2)),
        (seeded_only("&event=user.updated"), Box::new(|s| s.event == "user.updated")),
        // a category: every user.* event, and not "sign_in"
        (seeded_only("&event=user."), Box::new(|s| s.event.starts_with("user."))),
        (seeded_only("&event=user.*"), Box::new(|s| s.event.starts_with("user."))),
        (seeded_only("&outcome=failure"), Box::new(|s| !s.success)),
        (seeded_only("&outcome=success"), Box::new(|s| s.success)),
        // time range, both ends inclusive
        (
            format!("&from={}&to={}", T0 + 10 * 60_000, T0 + 20 * 60_000),
            Box::new(|s| s.at >= T0 + 10 * 60_000 && s.at <= T0 + 20 * 60_000),
        ),
        // combined
        (
            seeded_only("&actor=cli&event=user.&outcome=success&org=1"),
            Box::new(|s| s.actor == "cli" && s.event.starts_with("user.") && s.success && s.org == 1),
        ),
        (seeded_only("&actor=nobody"), Box::new(|_| false)),
    ];
    for (filters, keep) in cases {
        let want = expected(&seeded, keep);
        assert_eq!(walk(&admin, &filters, 500).await, want, "filters {filters}");
        // the same through small pages
        assert_eq!(walk(&admin, &filters, 7).await, want, "filters {filters} in pages of 7");
    }
    // Dates as the page's datetime-local inputs send them (UTC): the whole minute is included.
    let minute = app::domain::audit::iso_time(T0 + 5 * 60_000);
    let (s, page) = admin.get(&format!("/api/v1/audit?from={}&to={}", &minute[..16], &minute[..16])).await;
    assert_eq!(s, 200, "{page}");
    let got: Vec<i64> = page["events"].as_array().expect("events").iter().filter_map(|e| e["id"].as_i64()).collect();
    assert_eq!(got, expected(&seeded, |s| s.at == T0 + 5 * 60_000));
    // The page's server function takes the same filters.
    let (s, page) = admin
        .rpc(
            "list_audit",
            &[("outcome", "failure"), ("from", &T0.to_string()), ("to", &(T0 + 86_400_000).to_string()), ("event", "")],
        )
        .await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(page["events"].as_array().map(Vec::len), Some(expected(&seeded, |s| !s.success).len().min(50)));
}

#[tokio::test]
async fn paging_older_then_newer_has_no_gaps_or_duplicates() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let seeded = seed(&app, 95).await;
    for filters in [seeded_range(), format!("{}&event=user.", seeded_range())] {
        let want = if filters.contains("event") {
            expected(&seeded, |s| s.event.starts_with("user."))
        } else {
            expected(&seeded, |_| true)
        };
        // Down, remembering each page.
        let mut pages: Vec<Vec<i64>> = Vec::new();
        let mut cursor = String::new();
        let mut newer_links = Vec::new();
        loop {
            let (s, p) = admin.get(&format!("/api/v1/audit?limit=10{filters}{cursor}")).await;
            assert_eq!(s, 200, "{p}");
            pages.push(p["events"].as_array().expect("events").iter().filter_map(|e| e["id"].as_i64()).collect());
            newer_links.push(p["newer"].as_i64());
            match p["older"].as_i64() {
                Some(o) => cursor = format!("&before={o}"),
                None => break,
            }
        }
        assert_eq!(pages.concat(), want, "{filters}");
        assert_eq!(newer_links[0], None, "the first page is the newest");
        assert!(newer_links[1..].iter().all(Option::is_some));
        // Up again from the oldest page: each "newer" page is exactly the page seen before it.
        let mut up = vec![pages.last().cloned().expect("a page")];
        let mut newer = newer_links.last().copied().flatten();
        while let Some(n) = newer {
            let (s, p) = admin.get(&format!("/api/v1/audit?limit=10{filters}&after={n}")).await;
            assert_eq!(s, 200, "{p}");
            let ids: Vec<i64> =
                p["events"].as_array().expect("events").iter().filter_map(|e| e["id"].as_i64()).collect();
            assert!(p["older"].as_i64().is_some());
            up.push(ids);
            newer = p["newer"].as_i64();
        }
        up.reverse();
        assert_eq!(up, pages, "walking back up {filters}");
    }
}

#[tokio::test]
async fn invalid_filters_are_field_errors() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    for (query, field) in [
        ("from=2026-11-23&to=2026-11-22", "from"),
        ("outcome=maybe", "outcome"),
        ("org=acme", "org"),
        ("event=user%20created", "event"),
        ("from=yesterday", "from"),
        ("to=2026-02-30", "to"),
        ("before=abc", "before"),
        ("before=5&after=3", "before"),
        ("limit=lots", "limit"),
    ] {
        let (s, e) = admin.get(&format!("/api/v1/audit?{query}")).await;
        assert_eq!(s, 422, "{query}: {e}");
        let fields: Vec<&str> =
            e["error"]["fields"].as_array().expect("fields").iter().filter_map(|f| f["field"].as_str()).collect();
        assert_eq!(fields, [field], "{query}: {e}");
        let (s, e) = admin.get(&format!("/api/v1/audit/export?format=csv&{query}")).await;
        if field != "limit" {
            assert_eq!(s, 422, "export {query}: {e}");
        }
    }
    // Exports run from the newest event back: a "newer than" cursor is refused, not guessed at.
    let (s, e) = admin.get("/api/v1/audit/export?format=csv&after=3").await;
    assert_eq!((s, e["error"]["fields"][0]["field"].clone()), (422, json!("after")), "{e}");
    let (s, e) = admin.get("/api/v1/audit/export?format=xml").await;
    assert_eq!((s, e["error"]["fields"][0]["field"].clone()), (422, json!("format")), "{e}");
    // The server function answers the same, with the field named.
    let (s, e) = admin.rpc("list_audit", &[("from", "2026-11-23"), ("to", "2026-11-22")]).await;
    assert_eq!(s, 422, "{e}");
    assert!(e.to_string().contains("\"from\""), "{e}");
}

/// A minimal RFC 4180 reader: quoted fields, doubled quotes, CRLF record ends.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') if cell.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') if chars.peek() == Some(&'\n') => {
                chars.next();
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => {
                assert!(c != '\n' && c != '"', "bare {c:?} outside quotes");
                cell.push(c)
            }
        }
    }
    assert!(cell.is_empty() && row.is_empty() && !quoted, "the file ends with a complete record");
    rows
}

async fn insert_nasty(app: &TestApp) {
    let mut tx = app.backend.store.begin().await.expect("tx");
    for (actor, target, ua) in [
        ("=HYPERLINK(\"http://evil.example\",\"x\")", "bob, \"the\" builder", "line one\r\nline two"),
        ("+1+1", "-2", "@SUM(A1)"),
    ] {
        let rec = AuditRecord {
            at: T0,
            actor: Some(actor.into()),
            target: Some(target.into()),
            org_id: Some(OrgId(1)),
            event: "user.updated",
            success: false,
            ip: Some("127.0.0.1".into()),
            user_agent: Some(ua.into()),
            before: Some(json!({"full_name": "Old, \"quoted\""})),
            after: Some(json!({"full_name": "New"})),
            ..Default::default()
        };
        tx.insert_audit(&rec).await.expect("insert");
    }
    tx.commit().await.expect("commit");
}

#[tokio::test]
async fn csv_export_quotes_guards_and_streams_every_batch() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    // More than two export batches, plus the nasty rows.
    let seeded = seed(&app, 2_345).await;
    insert_nasty(&app).await;
    let r = admin
        .http
        .get(format!("{}/api/v1/audit/export?format=csv{}", app.base, seeded_range()))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status().as_u16(), 200);
    let h = r.headers().clone();
    assert_eq!(h["content-type"], "text/csv; charset=utf-8");
    let cd = h["content-disposition"].to_str().expect("ascii");
    assert!(cd.starts_with("attachment; filename=\"roster-audit-") && cd.ends_with(".csv\""), "{cd}");
    let text = r.text().await.expect("body");
    let rows = parse_csv(&text);
    assert_eq!(
        rows[0],
        ["id", "time", "at_ms", "event", "outcome", "actor", "target", "org_id", "ip", "user_agent", "before", "after"]
    );
    let body = &rows[1..];
    assert_eq!(body.len(), seeded.len() + 2);
    // Newest first, each event once: the two nasty rows share T0 with the oldest seeded pair
    // and have the highest ids, so they sort above them.
    let ids: Vec<i64> = body.iter().map(|r| r[0].parse().expect("id")).collect();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "no duplicates across batches");
    let want_seeded = expected(&seeded, |_| true);
    let got_seeded: Vec<i64> = ids.iter().copied().filter(|i| want_seeded.contains(i)).collect();
    assert_eq!(got_seeded, want_seeded);
    // Formula guard and quoting survive the round trip.
    let nasty: Vec<&Vec<String>> = body.iter().filter(|r| r[4] == "failure" && r[9].contains("line")).collect();
    assert_eq!(nasty.len(), 1);
    let n = nasty[0];
    assert_eq!(n[5], "'=HYPERLINK(\"http://evil.example\",\"x\")");
    assert_eq!(n[6], "bob, \"the\" builder");
    assert_eq!(n[9], "line one\r\nline two");
    assert_eq!(serde_json::from_str::<Value>(&n[10]).expect("before is JSON")["full_name"], "Old, \"quoted\"");
    let other = body.iter().find(|r| r[5].starts_with("'+")).expect("second nasty row");
    assert_eq!((other[5].as_str(), other[6].as_str(), other[9].as_str()), ("'+1+1", "'-2", "'@SUM(A1)"));
    // Filters apply to exports too.
    let r =
        admin.http.get(format!("{}/api/v1/audit/export?format=csv&actor=bob{}", app.base, seeded_range())).send().await;
    let rows = parse_csv(&r.expect("get").text().await.expect("body"));
    assert_eq!(rows.len() - 1, expected(&seeded, |s| s.actor == "bob").len());
    assert!(rows[1..].iter().all(|r| r[5] == "bob"));
}

#[tokio::test]
async fn jsonl_export_is_one_object_per_line() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let seeded = seed(&app, 1_203).await;
    insert_nasty(&app).await;
    let r = admin
        .http
        .get(format!("{}/api/v1/audit/export?format=jsonl&event=user.{}", app.base, seeded_range()))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "application/jsonl; charset=utf-8");
    assert!(r.headers()["content-disposition"].to_str().expect("ascii").ends_with(".jsonl\""));
    let text = r.text().await.expect("body");
    assert!(text.ends_with('\n'));
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).expect("a JSON object per line")).collect();
    assert_eq!(lines.len(), expected(&seeded, |s| s.event.starts_with("user.")).len() + 2);
    assert!(lines.iter().all(|l| l["event"].as_str().is_some_and(|e| e.starts_with("user."))));
    // Before/after are documents, and nothing is escaped for spreadsheets here.
    let nasty = lines.iter().find(|l| l["outcome"] == "failure" && l["target"] == "-2").expect("nasty");
    assert_eq!(nasty["actor"], "+1+1");
    assert_eq!(nasty["after"]["full_name"], "New");
    let ids: Vec<i64> = lines.iter().filter_map(|l| l["id"].as_i64()).collect();
    let want = expected(&seeded, |s| s.event.starts_with("user."));
    assert_eq!(ids.iter().copied().filter(|i| want.contains(i)).collect::<Vec<_>>(), want);
}

#[tokio::test]
async fn only_super_admins_read_or_export_the_trail() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let (s, _) = admin.post_json("/api/v1/orgs", &json!({"name": "Acme"})).await;
    assert_eq!(s, 201);
    let boss = app.member(&admin, "boss", "Acme", "Admin").await;
    let anon = app.browser();
    for path in ["/api/v1/audit", "/api/v1/audit/export?format=csv", "/api/v1/audit/export?format=jsonl"] {
        let (s, e) = boss.get(path).await;
        assert_eq!((s, code(&e)), (403, "not_super_admin".into()), "{path}");
        let (s, e) = anon.get(path).await;
        assert_eq!((s, code(&e)), (401, "unauthenticated".into()), "{path}");
        let r = admin.http.get(format!("{}{path}", app.base)).send().await.expect("get");
        assert_eq!(r.status().as_u16(), 200, "{path}");
    }
    let (s, _) = boss.rpc("list_audit", &[]).await;
    assert_eq!(s, 403);
    // The trail records the org admin's sign-in.
    let (_, page) = admin.get("/api/v1/audit?event=sign_in&target=BOSS&outcome=success").await;
    assert_eq!(page["events"][0]["target"], "boss", "{page}");
}

/// The rule that keeps the viewer fast at any size: each filter is answered by walking one
/// index in list order — never a scan of the table, never a sort of every match.
#[tokio::test]
async fn each_filter_walks_one_index_without_sorting() {
    let dir = tempfile::tempdir().expect("dir");
    let store = SqliteStore::open(&format!("sqlite:{}", dir.path().join("plan.db").display())).await.expect("open");
    store.migrate().await.expect("migrate");
    let base = AuditFilter::default();
    let cases = [
        ("none", base.clone(), "audit_events_at"),
        ("actor", AuditFilter { actor: Some("Ann".into()), ..base.clone() }, "audit_events_actor"),
        ("target", AuditFilter { target: Some("bob".into()), ..base.clone() }, "audit_events_target"),
        ("org", AuditFilter { org: Some(2), ..base.clone() }, "audit_events_org"),
        (
            "event",
            AuditFilter { event: Some(EventMatch::Exact("user.created".into())), ..base.clone() },
            "audit_events_event",
        ),
        (
            "category",
            AuditFilter { event: Some(EventMatch::Category("user.".into())), ..base.clone() },
            "audit_events_category",
        ),
        ("outcome", AuditFilter { outcome: Some(Outcome::Failure), ..base.clone() }, "audit_events_outcome"),
        ("time", AuditFilter { from: Some(T0), to: Some(T0 + 1000), ..base.clone() }, "audit_events_at"),
        (
            "actor + time",
            AuditFilter { actor: Some("Ann".into()), from: Some(T0), ..base.clone() },
            "audit_events_actor",
        ),
    ];
    for (name, filter, index) in cases {
        for seek in [AuditSeek::Newest, AuditSeek::Before(100), AuditSeek::After(100)] {
            let (sql, args) = audit_query(&filter, seek, 51);
            let explain = format!("EXPLAIN QUERY PLAN {sql}");
            let mut q = sqlx::query_as::<_, (i64, i64, i64, String)>(&explain);
            for a in args {
                q = match a {
                    AuditArg::Int(i) => q.bind(i),
                    AuditArg::Text(t) => q.bind(t),
                };
            }
            let plan: Vec<String> =
                q.fetch_all(store.write_pool()).await.expect("plan").into_iter().map(|r| r.3).collect();
            let main = &plan[0];
            assert!(main.split_whitespace().any(|w| w == index), "{name} {seek:?}: {plan:?}");
            assert!(!plan.iter().any(|p| p.contains("TEMP B-TREE")), "{name} {seek:?} sorts: {plan:?}");
            assert!(
                !plan.iter().any(|p| p.starts_with("SCAN audit_events") && !p.contains("INDEX")),
                "{name}: {plan:?}"
            );
        }
    }
}

/// Changes that belong to no organization (roles, the instance-wide 2FA switch) are not filed
/// under whichever organization the admin was working in; an organization's own setting is
/// filed under it.
#[tokio::test]
async fn global_changes_are_filed_under_no_organization() {
    let app = TestApp::start().await;
    let admin = app.admin().await;
    let (s, acme) = admin.post_json("/api/v1/orgs", &json!({"name": "Acme"})).await;
    assert_eq!(s, 201);
    let acme = acme["id"].as_i64().expect("id");
    let (s, _) = admin.rpc("switch_org", &[("org", &acme.to_string())]).await;
    assert_eq!(s, 200);
    let (s, role) = admin.post_json("/api/v1/roles", &json!({"name": "Auditors"})).await;
    assert_eq!(s, 201);
    let r = admin
        .http
        .put(format!("{}/api/v1/roles/{}/abilities/view-users", app.base, role["id"]))
        .send()
        .await
        .expect("put");
    assert_eq!(r.status().as_u16(), 200);
    let (_, page) = admin.get("/api/v1/audit?event=role.").await;
    let events = page["events"].as_array().expect("events");
    assert!(events.len() >= 2, "{page}");
    for e in events {
        assert!(e["org_id"].is_null(), "a role change filed under an organization: {e}");
    }
}

/// The PostgreSQL twin of `each_filter_walks_one_index_without_sorting`: with sequential and
/// bitmap scans ruled out (the table is empty, so the planner would otherwise pick them), each
/// filter is answered by the index built for it, in list order, with no sort.
#[tokio::test]
async fn each_filter_walks_one_index_without_sorting_on_postgres() {
    use app::backend::store::postgres::audit_query;
    use sqlx::Connection;
    let db = common::db::TestDb::postgres().await;
    let mut conn = sqlx::PgConnection::connect(&db.url).await.expect("connect");
    sqlx::query("SET enable_seqscan = off").execute(&mut conn).await.expect("seqscan");
    sqlx::query("SET enable_bitmapscan = off").execute(&mut conn).await.expect("bitmapscan");
    let base = AuditFilter::default();
    let cases = [
        ("none", base.clone(), "audit_events_at"),
        ("actor", AuditFilter { actor: Some("Ann".into()), ..base.clone() }, "audit_events_actor"),
        ("target", AuditFilter { target: Some("bob".into()), ..base.clone() }, "audit_events_target"),
        ("org", AuditFilter { org: Some(2), ..base.clone() }, "audit_events_org"),
        (
            "event",
            AuditFilter { event: Some(EventMatch::Exact("user.created".into())), ..base.clone() },
            "audit_events_event",
        ),
        (
            "category",
            AuditFilter { event: Some(EventMatch::Category("user.".into())), ..base.clone() },
            "audit_events_category",
        ),
        ("outcome", AuditFilter { outcome: Some(Outcome::Failure), ..base.clone() }, "audit_events_outcome"),
        ("time", AuditFilter { from: Some(T0), to: Some(T0 + 1000), ..base.clone() }, "audit_events_at"),
    ];
    for (name, filter, index) in cases {
        for seek in [AuditSeek::Newest, AuditSeek::Before(100), AuditSeek::After(100)] {
            let (sql, args) = audit_query(&filter, seek, 51);
            let explain = format!("EXPLAIN {sql}");
            let mut q = sqlx::query_scalar::<_, String>(&explain);
            for a in args {
                q = match a {
                    AuditArg::Int(i) => q.bind(i),
                    AuditArg::Text(t) => q.bind(t),
                };
            }
            let plan = q.fetch_all(&mut conn).await.expect("plan").join("\n");
            assert!(plan.contains(&format!("using {index} on audit_events")), "{name} {seek:?}: {plan}");
            assert!(!plan.contains("Sort"), "{name} {seek:?} sorts: {plan}");
        }
    }
    conn.close().await.ok();
}
