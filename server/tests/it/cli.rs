//! The `roster` binary: user, org, role and access commands, and their exit codes.
use crate::common;

use base64::Engine as _;
use common::{roster, Served};

fn db() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite:{}", dir.path().join("nested/roster.db").display());
    (dir, url)
}

const PW: &str = "provisioned long passphrase";

fn create(db: &str, extra: &[&str]) -> (i32, String, String) {
    let mut args =
        vec!["user", "create", "-r", "Admin", "-u", "admin", "-e", "admin@example.com", "-f", "Ada", "-l", "Admin"];
    args.extend_from_slice(extra);
    roster(db, &args)
}

#[test]
fn create_then_only_if_empty_skips() {
    let (_d, db) = db();
    let (code, out, err) = create(&db, &["-p", PW]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "Admin user 'admin' created.");
    let (code, out, _) = roster(
        &db,
        &[
            "user",
            "create",
            "-r",
            "DefaultUser",
            "-u",
            "other",
            "-e",
            "o@example.com",
            "-f",
            "O",
            "-l",
            "T",
            "-p",
            PW,
            "--only-if-empty",
        ],
    );
    assert_eq!(code, 0);
    assert!(out.contains("Skipped"), "{out}");
    let (_, out, _) = roster(&db, &["user", "list"]);
    assert!(!out.contains("other"), "--only-if-empty created nothing: {out}");
}

#[test]
fn existing_user_fails_skips_or_updates() {
    let (_d, db) = db();
    assert_eq!(create(&db, &["-p", PW]).0, 0);
    let (code, _, err) = create(&db, &["-p", PW]);
    assert_eq!(code, 3, "exists -> conflict exit code: {err}");
    assert!(err.contains("already taken"), "{err}");
    let (code, out, _) = create(&db, &["-p", PW, "--skip-existing"]);
    assert_eq!(code, 0);
    assert!(out.contains("Skipped: user 'admin' already exists"), "{out}");
    // --update-existing changes name and email (role Admin kept: the last super admin stays).
    let (code, out, err) = roster(
        &db,
        &[
            "user",
            "create",
            "-r",
            "Admin",
            "-u",
            "ADMIN",
            "-e",
            "new@example.com",
            "-f",
            "New",
            "-l",
            "Name",
            "-p",
            PW,
            "--update-existing",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("updated"), "{out}");
    let (_, out, _) = roster(&db, &["user", "list", "--json"]);
    assert!(out.contains("new@example.com") && out.contains("New Name"), "{out}");
    // Demoting the only super admin through --update-existing is refused by the same rule.
    let (code, _, err) = roster(
        &db,
        &[
            "user",
            "create",
            "-r",
            "DefaultUser",
            "-u",
            "admin",
            "-e",
            "new@example.com",
            "-f",
            "N",
            "-l",
            "N",
            "-p",
            PW,
            "--update-existing",
        ],
    );
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("last active super admin"), "{err}");
}

#[test]
fn flags_are_validated_by_the_parser() {
    let (_d, db) = db();
    // --skip-existing and --update-existing are mutually exclusive.
    let (code, _, err) = create(&db, &["-p", PW, "--skip-existing", "--update-existing"]);
    assert_eq!(code, 2, "{err}");
    // -p and --use-random-password are mutually exclusive, and one is required.
    assert_eq!(create(&db, &["-p", PW, "--use-random-password"]).0, 2);
    assert_eq!(create(&db, &[]).0, 2);
    let (code, _, err) =
        roster(&db, &["user", "create", "-r", "Root", "-u", "x", "-e", "x@e.io", "-f", "x", "-l", "x", "-p", PW]);
    // Roles are data now: an unknown one is invalid input (6), named in the message.
    assert_eq!(code, 6, "unknown role: {err}");
    assert!(err.contains("no role named 'Root'"), "{err}");
}

#[test]
fn random_password_accounts_exist_but_cannot_sign_in_with_a_password() {
    let (_d, db) = db();
    assert_eq!(create(&db, &["-p", PW]).0, 0);
    let (code, out, err) = roster(
        &db,
        &[
            "user",
            "create",
            "-r",
            "DefaultUser",
            "-u",
            "svc",
            "-e",
            "svc@example.com",
            "-f",
            "Service",
            "-l",
            "Bot",
            "--use-random-password",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "DefaultUser user 'svc' created.");
    assert!(!out.contains("password"), "the random password is never printed");
    let (_, out, _) = roster(&db, &["user", "list", "--json"]);
    let svc: serde_json::Value = out
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .find(|v: &serde_json::Value| v["username"] == "svc")
        .expect("svc listed");
    assert_eq!(svc["super_admin"], false);
    // No password works for it: the service refuses every attempt.
    let rt = tokio::runtime::Runtime::new().expect("rt");
    rt.block_on(async {
        let store = app::backend::store::open(&db).await.expect("open");
        let b = app::backend::Backend::new(store, Default::default(), std::sync::Arc::new(app::backend::SystemClock));
        for pw in ["", PW, "roster-dummy-password-for-timing"] {
            let r = app::backend::services::auth::sign_in(&b, &app::backend::Ctx::anonymous(), "svc", pw).await;
            assert!(matches!(r, Err(app::domain::Error::SignInFailed)));
        }
    });
}

#[test]
fn accounts_created_with_a_hash_from_another_system_are_listed_until_their_sign_in() {
    let (_d, db) = db();
    assert_eq!(create(&db, &["-p", PW]).0, 0);
    let out = std::process::Command::new("htpasswd").args(["-nbB", "-C", "10", "x", "a dbackup password"]).output();
    let out = out.expect("htpasswd (apache2-utils): scripts/install.sh test installs it");
    let line = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let hash = line.split_once(':').map(|(_, h)| h.to_string()).expect("user:hash");
    let user = |name: &str, extra: &[&str]| {
        let mut args = vec!["user", "create", "-r", "DefaultUser", "-u", name, "-e", "", "-f", "D", "-l", "B"];
        let email = format!("{name}@example.com");
        args[7] = &email;
        args.extend_from_slice(extra);
        roster(&db, &args)
    };
    let (code, out, err) = user("moved", &["--password-hash", &hash]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "DefaultUser user 'moved' created.");
    // A weak format is refused, naming it; a password and a hash together are a usage error.
    let (code, _, err) = user("weak", &["--password-hash", "{SSHA}abcdefgh"]);
    assert_eq!(code, 6, "{err}");
    assert!(err.contains("salted SHA-1"), "{err}");
    let (code, _, err) = user("both", &["--password-hash", &hash, "-p", PW]);
    assert_eq!(code, 2, "{err}");
    let (_, out, _) = roster(&db, &["user", "list", "--legacy-hash"]);
    let names: Vec<&str> = out.lines().filter_map(|l| l.split_whitespace().next()).collect();
    assert_eq!(names, ["moved"], "{out}");
    let rt = tokio::runtime::Runtime::new().expect("rt");
    rt.block_on(async {
        let store = app::backend::store::open(&db).await.expect("open");
        let b = app::backend::Backend::new(store, Default::default(), std::sync::Arc::new(app::backend::SystemClock));
        let r =
            app::backend::services::auth::sign_in(&b, &app::backend::Ctx::anonymous(), "moved", "a dbackup password")
                .await;
        assert!(r.is_ok(), "the bcrypt hash signs in");
    });
    let (code, out, _) = roster(&db, &["user", "list", "--legacy-hash"]);
    assert_eq!((code, out.trim()), (0, ""), "argon2id after the sign-in");
}

#[test]
fn user_commands_report_errors_with_exit_codes() {
    let (_d, db) = db();
    let (code, _, err) = create(&db, &["-p", "short"]);
    assert_eq!(code, 6, "invalid -> 6: {err}");
    assert!(err.contains("at least 15 characters"), "{err}");
    let (code, _, err) =
        roster(&db, &["user", "create", "-r", "Admin", "-u", "1bad", "-e", "bad", "-f", "x", "-l", "y", "-p", PW]);
    assert_eq!(code, 6);
    assert!(err.contains("username") && err.contains("email"), "all problems listed: {err}");
    assert_eq!(create(&db, &["-p", PW]).0, 0);
    let (code, _, _) = roster(&db, &["user", "disable", "-u", "ghost"]);
    assert_eq!(code, 4);
    let (code, _, err) = roster(&db, &["user", "delete", "-u", "admin"]);
    assert_eq!(code, 5, "last super admin -> 5: {err}");
    let (code, _, err) = roster(&db, &["user", "disable", "-u", "admin"]);
    assert_eq!(code, 5, "{err}");
    assert_eq!(
        roster(
            &db,
            &[
                "user",
                "create",
                "-r",
                "DefaultUser",
                "-u",
                "bob",
                "-e",
                "b@example.com",
                "-f",
                "B",
                "-l",
                "B",
                "-p",
                PW
            ]
        )
        .0,
        0
    );
    assert_eq!(roster(&db, &["user", "disable", "-u", "bob"]).0, 0);
    assert_eq!(roster(&db, &["user", "enable", "-u", "bob"]).0, 0);
    let (code, out, _) = roster(&db, &["user", "reset-password", "-u", "bob", "-p", "a fresh long passphrase"]);
    assert_eq!(code, 0);
    assert!(out.contains("reset"));
    assert_eq!(roster(&db, &["user", "delete", "-u", "bob"]).0, 0);
    let (code, _, err) = roster("postgres://nowhere/x", &["migrate"]);
    assert_eq!(code, 7, "{err}");
    let (code, out, _) = roster(&db, &["migrate"]);
    assert_eq!((code, out.trim()), (0, "Database is up to date."));
}

#[test]
fn org_role_and_access_commands() {
    let (_d, db) = db();
    assert_eq!(create(&db, &["-p", PW]).0, 0);
    let run = |args: &[&str]| roster(&db, args);
    let (code, out, err) = run(&["org", "create", "Acme"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Organization 'Acme' created"), "{out}");
    assert_eq!(run(&["org", "create", "acme"]).0, 3, "names are unique, case-insensitively");
    assert_eq!(run(&["org", "create", " "]).0, 6);
    // -r ROLE --org ORG places the account; Databand's DefaultUser still works without --org.
    let (code, _, err) = run(&[
        "user",
        "create",
        "-r",
        "Operator",
        "--org",
        "Acme",
        "-u",
        "otto",
        "-e",
        "otto@example.com",
        "-f",
        "O",
        "-l",
        "T",
        "-p",
        PW,
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(&[
        "user",
        "create",
        "-r",
        "DefaultUser",
        "-u",
        "dee",
        "-e",
        "dee@example.com",
        "-f",
        "D",
        "-l",
        "U",
        "-p",
        PW,
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(&[
        "user",
        "create",
        "-r",
        "Operator",
        "--org",
        "Nowhere",
        "-u",
        "x",
        "-e",
        "x@example.com",
        "-f",
        "X",
        "-l",
        "Y",
        "-p",
        PW,
    ]);
    assert_eq!(code, 6, "unknown organization: {err}");
    assert!(err.contains("no organization named 'Nowhere'"), "{err}");
    // Explain: exit 0 when allowed, 5 when not, with the chain.
    let (code, out, _) = run(&["access", "explain", "-u", "otto", "--org", "Acme", "-a", "run-backups"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("otto may run-backups in Acme: role Operator."), "{out}");
    assert!(out.contains("[x] Role Operator in Acme grants run-backups."), "{out}");
    let (code, out, _) = run(&["access", "explain", "-u", "dee", "--org", "Acme", "-a", "run-backups"]);
    assert_eq!(code, 5, "{out}");
    assert!(out.contains("not a member"), "{out}");
    let (code, _, err) = run(&["access", "explain", "-u", "otto", "--org", "Acme", "-a", "fly"]);
    assert_eq!(code, 6, "{err}");
    // Roles: grant and revoke change what the role's holders may do.
    let (code, out, err) = run(&["role", "grant", "Operator", "use-adminer", "view-queries"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("use-adminer") && out.contains("view-queries"), "{out}");
    assert_eq!(run(&["access", "explain", "-u", "otto", "--org", "Acme", "-a", "use-adminer"]).0, 0);
    assert_eq!(run(&["role", "revoke", "operator", "use-adminer"]).0, 0);
    assert_eq!(run(&["access", "explain", "-u", "otto", "--org", "Acme", "-a", "use-adminer"]).0, 5);
    assert_eq!(run(&["role", "grant", "Ghost", "use-adminer"]).0, 4);
    let (_, out, _) = run(&["role", "list", "--json"]);
    let roles: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).expect("json")).collect();
    assert_eq!(
        roles.iter().map(|r| r["name"].as_str().unwrap_or("")).collect::<Vec<_>>(),
        ["Viewer", "Operator", "Member", "Admin"]
    );
    // Members: add with extra grants, change, remove.
    let (code, out, err) =
        run(&["org", "add-member", "--org", "Acme", "-u", "dee", "-r", "Viewer", "--grant", "view-users"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("'dee' is Viewer in 'Acme' with view-users"), "{out}");
    assert_eq!(run(&["org", "add-member", "--org", "Acme", "-u", "dee", "-r", "Viewer"]).0, 3, "already a member");
    assert_eq!(run(&["access", "explain", "-u", "dee", "--org", "Acme", "-a", "view-users"]).0, 0);
    assert_eq!(run(&["org", "set-member", "--org", "Acme", "-u", "dee", "-r", "Member"]).0, 0);
    assert_eq!(run(&["access", "explain", "-u", "dee", "--org", "Acme", "-a", "view-users"]).0, 5, "extras replaced");
    assert_eq!(run(&["org", "remove-member", "--org", "Acme", "-u", "dee"]).0, 0);
    assert_eq!(run(&["org", "remove-member", "--org", "Acme", "-u", "dee"]).0, 4);
    let (_, out, _) = run(&["org", "list"]);
    assert!(out.contains("Acme") && out.contains("Default"), "{out}");
    // A role still assigned needs a replacement.
    let (code, _, err) = run(&["role", "delete", "Operator"]);
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("still assigned"), "{err}");
    assert_eq!(run(&["role", "delete", "Operator", "--replacement", "Viewer"]).0, 0);
    assert_eq!(run(&["access", "explain", "-u", "otto", "--org", "Acme", "-a", "run-backups"]).0, 5);
    // The default organization stays.
    assert_eq!(run(&["org", "delete", "Default"]).0, 3);
    assert_eq!(run(&["org", "delete", "Acme"]).0, 0);
}

#[test]
fn sigterm_finishes_requests_in_flight_refuses_new_ones_and_exits_0() {
    use std::io::{Read, Write};
    let (_d, db) = db();
    let mut served = Served::start(&db, &[]);
    // A request in flight: its head is sent with `Expect: 100-continue`, so the server's
    // "100 Continue" proves it has started handling it; its body follows after the signal.
    let body = "login=nobody&password=wrong+password+here";
    let mut conn = std::net::TcpStream::connect(served.addr).expect("connect");
    conn.set_read_timeout(Some(std::time::Duration::from_secs(30))).expect("timeout");
    let head = format!(
        "POST /rpc/sign_in HTTP/1.1\r\nHost: {a}\r\nOrigin: http://{a}\r\nSec-Fetch-Site: same-origin\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        body.len(),
        a = served.addr
    );
    conn.write_all(head.as_bytes()).expect("head");
    let mut interim = [0u8; 25];
    conn.read_exact(&mut interim).expect("100 Continue");
    assert!(String::from_utf8_lossy(&interim).starts_with("HTTP/1.1 100 Continue"), "{interim:?}");

    served.signal("TERM");
    // New connections are refused once the server has seen the signal.
    let until = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        match std::net::TcpStream::connect(served.addr) {
            Err(_) => break,
            Ok(_) if std::time::Instant::now() < until => std::thread::sleep(std::time::Duration::from_millis(10)),
            Ok(_) => panic!("still accepting connections 20 s after SIGTERM"),
        }
    }
    assert_eq!(served.exit_code_within(0), None, "the server waits for the request in flight");

    // The request in flight is answered in full.
    conn.write_all(body.as_bytes()).expect("body");
    let mut answer = String::new();
    conn.read_to_string(&mut answer).expect("answer");
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(answer.contains("invalid_credentials") || answer.contains("SignInFailed"), "{answer}");
    assert_eq!(served.exit_code_within(30), Some(0), "exit 0 after a graceful shutdown");
}

#[test]
fn json_access_log_names_each_request() {
    use std::io::{Read, Write};
    let (_d, db) = db();
    let mut served = Served::start(&db, &["--log-format", "json"]);
    let mut conn = std::net::TcpStream::connect(served.addr).expect("connect");
    let request = format!(
        "GET /healthz HTTP/1.1\r\nHost: {}\r\nX-Request-Id: probe-42\r\nConnection: close\r\n\r\n",
        served.addr
    );
    conn.write_all(request.as_bytes()).expect("request");
    let mut answer = String::new();
    conn.read_to_string(&mut answer).expect("answer");
    assert!(answer.to_ascii_lowercase().contains("x-request-id: probe-42"), "{answer}");
    served.signal("TERM");
    assert_eq!(served.exit_code_within(30), Some(0));
    let log = served.log.lock().expect("log").clone();
    // Every line is a JSON object; the access log line of the request carries its id,
    // method, path, status and latency.
    let entries: Vec<serde_json::Value> =
        log.iter().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))).collect();
    let line = entries
        .iter()
        .find(|e| e["span"]["id"] == "probe-42" && e["fields"]["status"].as_u64() == Some(200))
        .unwrap_or_else(|| panic!("no access log line for the request: {log:#?}"));
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["span"]["path"], "/healthz");
    assert_eq!(line["span"]["method"], "GET");
    assert!(line["fields"]["latency"].is_string(), "{line}");
}

/// One HTTP/1.1 request on a new connection; the whole answer (head and body).
fn http(addr: std::net::SocketAddr, method: &str, path: &str, body: &str) -> String {
    use std::io::{Read, Write};
    let mut conn = std::net::TcpStream::connect(addr).expect("connect");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://{addr}\r\nSec-Fetch-Site: same-origin\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    conn.write_all(request.as_bytes()).expect("request");
    let mut answer = String::new();
    conn.read_to_string(&mut answer).expect("answer");
    answer
}

#[test]
fn metrics_are_served_on_the_management_address_only() {
    let (_d, db) = db();
    let served = Served::start(&db, &["--metrics-addr", "127.0.0.1:0"]);
    let metrics_addr: std::net::SocketAddr = {
        let log = served.log.lock().expect("log").clone();
        let line = log.iter().find_map(|l| l.split("metrics on http://").nth(1)).expect("metrics address logged");
        line.trim_end_matches(|c: char| c.is_whitespace()).trim_end_matches("/metrics").parse().expect("address")
    };
    assert!(http(served.addr, "GET", "/healthz", "").starts_with("HTTP/1.1 200"));
    let failed = http(served.addr, "POST", "/rpc/sign_in", "login=nobody&password=wrong+password+here");
    assert!(failed.starts_with("HTTP/1.1 401"), "{failed}");
    // Not on the public address.
    assert!(!http(served.addr, "GET", "/metrics", "").contains("roster_http_requests_total"));

    let scraped = http(metrics_addr, "GET", "/metrics", "");
    assert!(scraped.starts_with("HTTP/1.1 200"), "{scraped}");
    for expected in [
        r#"roster_sign_ins_total{outcome="failed"} 1"#,
        r#"roster_http_requests_total{route="/healthz",method="GET",status="200"} 1"#,
        r#"roster_http_requests_total{route="/rpc/sign_in",method="POST",status="401"} 1"#,
        r#"roster_http_request_duration_seconds_bucket{route="/healthz",method="GET",le="0.005"}"#,
        "roster_access_version ",
        r#"roster_db_pool_connections{state="in_use"} "#,
        r#"roster_db_pool_connections{state="idle"} "#,
    ] {
        assert!(scraped.contains(expected), "no {expected} in:\n{scraped}");
    }
    // Routes are templates, never raw paths (bounded label values).
    assert!(!scraped.contains("nobody"), "{scraped}");
}

#[test]
fn a_key_that_cannot_open_the_stored_secrets_is_refused_at_start() {
    let (_d, db) = db();
    // The first use seals a check value with the key file made beside the database.
    assert_eq!(create(&db, &["-p", PW]).0, 0);
    let (code, out, err) = roster(&db, &["user", "list"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("admin"), "{out}");
    // Another key (a second instance configured differently, a lost key file): refused before
    // anything runs, with the reason, instead of a server whose TOTP codes all fail.
    let other = std::process::Command::new(env!("CARGO_BIN_EXE_roster"))
        .env("ROSTER_DATABASE_URL", &db)
        .env("ROSTER_LOG", "error")
        .env("ROSTER_SECRET_KEY", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
        .args(["user", "list"])
        .output()
        .expect("run roster");
    let err = String::from_utf8_lossy(&other.stderr);
    assert_eq!(other.status.code(), Some(1), "{err}");
    assert!(err.contains("instance key cannot open the secrets"), "{err}");
    assert!(other.stdout.is_empty(), "nothing ran");
}

#[tokio::test]
async fn postgres_needs_an_explicit_instance_key() {
    // (a key file made beside the database is per machine: each instance would seal secrets
    // the others cannot open)
    let db = common::db::TestDb::postgres().await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_roster"))
        .env("ROSTER_DATABASE_URL", &db.url)
        .env("ROSTER_LOG", "error")
        .env_remove("ROSTER_SECRET_KEY")
        .env_remove("ROSTER_KEY_FILE")
        .args(["user", "list"])
        .output()
        .expect("run roster");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("set ROSTER_SECRET_KEY or --key-file"), "{err}");
}

/// `roster` with `input` on standard input.
fn roster_with_input(db: &str, args: &[&str], input: &str) -> (i32, String, String) {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_roster"))
        .env("ROSTER_DATABASE_URL", db)
        .env("ROSTER_LOG", "error")
        .env_remove("ROSTER_KEY_FILE")
        .env_remove("ROSTER_SECRET_KEY")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run roster");
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write");
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn database_commands() {
    let (_d, db) = db();
    let define = [
        "database",
        "create",
        "--org",
        "Default",
        "--id",
        "Chinook",
        "--engine",
        "postgres",
        "--host",
        "db.example.com",
        "--name",
        "chinook",
        "--tls",
        "verify-full",
        "--default-login",
        "reader",
        "--default-password-stdin",
    ];
    let (c, out, err) = roster_with_input(&db, &define, "cli-db-secret\n");
    assert_eq!((c, out.trim()), (0, "Database 'Chinook' defined."), "{err}");
    let (c, _, err) = roster_with_input(&db, &define, "again\n");
    assert_eq!(c, 3, "the same id again is a conflict: {err}");
    assert!(err.contains("already has a database with that id"), "{err}");
    // Every problem named, exit code 6, nothing written.
    let (c, _, err) = roster(&db, &["database", "create", "--org", "Default", "--id", "9x", "--engine", "oracle"]);
    assert_eq!(c, 6, "{err}");
    assert!(err.contains("db_id:") && err.contains("engine:"), "{err}");
    let (c, _, err) = roster(
        &db,
        &["database", "create", "--org", "Default", "--id", "f", "--engine", "sqlite", "--name", "../up.db"],
    );
    assert!(c == 6 && err.contains("name"), "{c} {err}");
    let (c, _, err) = roster(&db, &["database", "list", "--org", "Nowhere"]);
    assert_eq!(c, 4, "{err}");

    let (c, out, err) = roster(&db, &["database", "update", "--org", "Default", "chinook", "--port", "6543"]);
    assert_eq!((c, out.trim()), (0, "Database 'Chinook' updated."), "{err}");
    let (c, out, err) = roster(&db, &["database", "list", "--org", "Default", "--json"]);
    assert_eq!(c, 0, "{err}");
    let d: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON line");
    assert_eq!(
        (&d["db_id"], &d["port"], &d["host"], &d["default_password_set"]),
        (
            &serde_json::json!("Chinook"),
            &serde_json::json!(6543),
            &serde_json::json!("db.example.com"),
            &serde_json::json!(true)
        )
    );
    assert!(!out.contains("cli-db-secret"), "{out}");
    let (c, out, _) = roster(&db, &["database", "list", "--org", "Default"]);
    assert!(c == 0 && out.contains("Chinook") && out.contains("db.example.com:6543/chinook"), "{out}");
    let (c, _, err) = roster(&db, &["database", "update", "--org", "Default", "chinook", "--port", "99999"]);
    assert!(c == 6 && err.contains("port"), "{c} {err}");
    let (c, out, err) = roster(&db, &["database", "delete", "--org", "Default", "Chinook"]);
    assert_eq!((c, out.trim()), (0, "Database 'Chinook' deleted."), "{err}");
    let (c, _, _) = roster(&db, &["database", "delete", "--org", "Default", "Chinook"]);
    assert_eq!(c, 4);
}

#[test]
fn credential_and_mapping_commands() {
    let (_d, db) = db();
    let raw = std::env::var("ROSTER_TEST_MARIADB_URL").expect("scripts/test.sh starts MariaDB");
    let url = reqwest::Url::parse(&raw).expect("url");
    let (h, port) = (url.host_str().expect("host").to_string(), url.port().expect("port").to_string());
    let (login, password, name) =
        (url.username().to_string(), url.password().unwrap_or("").replace("%20", " "), url.path()[1..].to_string());
    let (c, _, err) = roster(
        &db,
        &[
            "database", "create", "--org", "Default", "--id", "Shop", "--engine", "mariadb", "--host", &h, "--port",
            &port, "--name", &name, "--tls", "disable",
        ],
    );
    assert_eq!(c, 0, "{err}");
    let (c, _, err) = roster(
        &db,
        &[
            "user",
            "create",
            "-r",
            "Member",
            "--org",
            "Default",
            "-u",
            "mia",
            "-e",
            "mia@example.com",
            "-f",
            "M",
            "-l",
            "A",
            "-p",
            PW,
        ],
    );
    assert_eq!(c, 0, "{err}");
    // A credential with its password from standard input; a second with a wrong one.
    let add = |name: &str, pw: &str| {
        roster_with_input(
            &db,
            &[
                "database",
                "add-credential",
                "--org",
                "Default",
                "Shop",
                "--name",
                name,
                "--login",
                &login,
                "--password-stdin",
            ],
            &format!("{pw}\n"),
        )
    };
    let (c, out, err) = add("reader", &password);
    assert_eq!((c, out.trim()), (0, "Credential 'reader' created for database 'Shop'."), "{err}");
    let (c, _, _) = add("stale", "not it");
    assert_eq!(c, 0);
    let (c, out, _) = roster(&db, &["database", "credentials", "--org", "Default", "Shop", "--json"]);
    assert_eq!(c, 0);
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(!out.contains(&password) && !out.contains("not it"), "{out}");
    // Test Connection: 0 when it connected, 9 when it did not.
    let (c, out, _) = roster(&db, &["database", "test-credential", "--org", "Default", "Shop", "reader"]);
    assert!(c == 0 && out.starts_with("Connected"), "{c} {out}");
    let (c, out, _) = roster(&db, &["database", "test-credential", "--org", "Default", "Shop", "stale"]);
    assert!(c == 9 && out.starts_with("Wrong login or password"), "{c} {out}");
    // Mappings: one kind at a time.
    let (c, _, err) = roster(&db, &["database", "map", "--org", "Default", "mia", "Shop"]);
    assert_eq!(c, 6, "{err}");
    let (c, _, err) =
        roster(&db, &["database", "map", "--org", "Default", "mia", "Shop", "--login", "x", "--credential", "reader"]);
    assert_eq!(c, 2, "clap refuses two kinds: {err}");
    let (c, out, err) = roster(&db, &["database", "map", "--org", "Default", "mia", "Shop", "--credential", "Reader"]);
    assert_eq!((c, out.trim()), (0, "'mia' mapped to database 'Shop' (a shared credential)."), "{err}");
    let (c, out, _) = roster(&db, &["database", "mappings", "--org", "Default", "mia"]);
    assert!(c == 0 && out.contains("Shop") && out.contains("credential reader"), "{out}");
    let (c, out, _) = roster(&db, &["database", "test-mapping", "--org", "Default", "mia", "Shop"]);
    assert!(c == 0 && out.starts_with("Connected"), "{c} {out}");
    // The login a tool would get, as JSON (the operator's command line; audited).
    let (c, out, err) = roster(&db, &["database", "login", "mia", "Shop"]);
    assert_eq!(c, 0, "{err}");
    let l: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!((l["source"].as_str(), l["password"].as_str()), (Some("credential"), Some(password.as_str())), "{out}");
    let (c, out, err) = roster(&db, &["database", "delete-credential", "--org", "Default", "Shop", "reader"]);
    assert_eq!((c, out.trim()), (0, "Credential 'reader' deleted (1 account mapping(s) through it removed)."), "{err}");
    let (c, _, _) = roster(&db, &["database", "login", "mia", "Shop"]);
    assert_eq!(c, 4, "no mapping left: not found");
    let (c, _, _) = roster(&db, &["database", "unmap", "--org", "Default", "mia", "Shop"]);
    assert_eq!(c, 4);
}

/// `roster ARGS` on `db` with the instance key `key` and, during a rotation, `previous`.
fn roster_with_keys(db: &str, key: &str, previous: Option<&str>, args: &[&str]) -> (i32, String, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_roster"));
    cmd.env("ROSTER_DATABASE_URL", db)
        .env("ROSTER_LOG", "error")
        .env("ROSTER_SECRET_KEY", key)
        .env_remove("ROSTER_KEY_FILE");
    match previous {
        Some(p) => cmd.env("ROSTER_SECRET_KEY_PREVIOUS", p),
        None => cmd.env_remove("ROSTER_SECRET_KEY_PREVIOUS"),
    };
    let out = cmd.args(args).output().expect("run roster");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn secrets_new_key_and_rotate() {
    let (_d, db) = db();
    let (c, old, err) = roster(&db, &["secrets", "new-key"]);
    assert_eq!(c, 0, "{err}");
    let old = old.trim().to_string();
    assert_eq!(base64::engine::general_purpose::STANDARD.decode(&old).map(|k| k.len()).ok(), Some(32), "{old}");
    let (_, new, _) = roster(&db, &["secrets", "new-key"]);
    let new = new.trim().to_string();
    assert_ne!(old, new);
    let define = [
        "database",
        "create",
        "--org",
        "Default",
        "--id",
        "Shop",
        "--engine",
        "postgres",
        "--host",
        "db.example",
        "--name",
        "shop",
        "--tls",
        "require",
        "--default-login",
        "fallback",
        "--default-password-stdin",
    ];
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_roster"))
        .env("ROSTER_DATABASE_URL", &db)
        .env("ROSTER_LOG", "error")
        .env("ROSTER_SECRET_KEY", &old)
        .args(define)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), b"default secret\n").expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (c, _, err) = roster_with_keys(
        &db,
        &old,
        None,
        &["user", "create", "-r", "Admin", "-u", "root", "-e", "root@example.com", "-f", "R", "-l", "A", "-p", PW],
    );
    assert_eq!(c, 0, "{err}");
    // The new key alone cannot start on this database.
    let (c, _, err) = roster_with_keys(&db, &new, None, &["database", "list", "--org", "Default"]);
    assert_eq!(c, 1, "{err}");
    assert!(err.contains("cannot open the secrets stored in this database"), "{err}");
    // A previous key that is not a key is refused as such.
    let (c, _, err) = roster_with_keys(&db, &new, Some("short"), &["secrets", "rotate"]);
    assert_eq!(c, 2, "{err}");
    assert!(err.contains("ROSTER_SECRET_KEY_PREVIOUS must hold a 32-byte key"), "{err}");
    let (c, out, err) = roster_with_keys(&db, &new, Some(&old), &["secrets", "rotate"]);
    assert_eq!(c, 0, "{err}");
    assert!(out.contains("databases.default_password: 1") && out.contains("Sealed 1 secrets again"), "{out}");
    // Now the new key alone opens everything, and the old one nothing.
    let (c, out, err) = roster_with_keys(&db, &new, None, &["database", "login", "root", "Shop"]);
    assert_eq!(c, 0, "{err}");
    let l: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!((l["source"].as_str(), l["password"].as_str()), (Some("default"), Some("default secret")), "{out}");
    let (c, _, err) = roster_with_keys(&db, &old, None, &["database", "list", "--org", "Default"]);
    assert_eq!(c, 1, "{err}");
}

#[test]
fn import_and_export_commands() {
    use std::os::unix::fs::PermissionsExt;
    let (d, db) = db();
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/slashdb-users.cfg");
    let (c, out, err) = roster(&db, &["import", "slashdb", "--users", fixture, "--dry-run"]);
    assert_eq!(c, 6, "some accounts were refused: {out}{err}");
    assert!(out.contains("created   admin (line 1)"), "{out}");
    assert!(out.contains("error     app1 (line ") && out.contains("user_id 'mike' differs"), "{out}");
    assert!(out.trim_end().ends_with("1 created, 1 updated, 1 error (dry run: nothing written)"), "{out}");
    let (_, list, _) = roster(&db, &["user", "list", "--json"]);
    assert!(!list.contains("\"admin\""), "a dry run writes nothing: {list}");
    let (c, out, _) = roster(&db, &["import", "slashdb", "--users", fixture]);
    assert_eq!(c, 6, "{out}");
    let (c, out, _) = roster(&db, &["import", "slashdb", "--users", fixture, "--json"]);
    assert_eq!(c, 6);
    let report: serde_json::Value = serde_json::from_str(&out).expect("json report");
    assert_eq!((report["unchanged"].clone(), report["errors"].clone()), (serde_json::json!(2), serde_json::json!(1)));
    let (c, cfg, err) = roster(&db, &["export", "slashdb"]);
    assert_eq!(c, 0, "{err}");
    assert!(cfg.contains("user_id: admin") && cfg.contains("$6$rounds=697243$"), "{cfg}");
    let file = d.path().join("users.csv");
    let path = file.to_str().expect("path");
    let (c, _, err) = roster(&db, &["export", "users", "--format", "csv", "-o", path]);
    assert_eq!(c, 0, "{err}");
    let mode = std::fs::metadata(&file).expect("file").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the file holds password hashes");
    let (c, out, err) = roster(&db, &["import", "users", path, "--dry-run"]);
    assert_eq!(c, 0, "{out}{err}");
    assert!(out.contains("unchanged admin"), "{out}");
    let (c, _, err) = roster(&db, &["import", "users", fixture]);
    assert_eq!(c, 2, "`import users` is CSV or JSON Lines: {err}");
    let (c, _, err) = roster(&db, &["export", "users", "--format", "xml"]);
    assert_eq!(c, 2, "{err}");
    // SlashDB's databases.cfg beside (or without) a users.cfg.
    let databases = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/slashdb-databases.cfg");
    let (c, out, err) = roster(&db, &["import", "slashdb", "--databases", databases, "--users", fixture, "--dry-run"]);
    assert_eq!(c, 6, "Ledger and Stock are refused: {out}{err}");
    assert!(out.contains("created   database Chinook (line 1)"), "{out}");
    assert!(out.contains("error     database Ledger (line ") && out.contains("'oracle'"), "{out}");
    assert!(out.contains("databases: 3 created, 2 errors; accounts: "), "{out}");
    let (c, out, err) = roster(&db, &["import", "slashdb", "--databases", databases]);
    assert_eq!(c, 6, "{out}{err}");
    let (c, out, _) = roster(&db, &["database", "list", "--org", "Default"]);
    assert_eq!(c, 0);
    assert!(out.contains("Chinook") && out.contains("Sales") && out.contains("Crm"), "{out}");
    let (c, _, err) = roster(&db, &["import", "slashdb"]);
    assert_eq!(c, 2, "a file is needed: {err}");
    // Exported as SlashDB's pair of files; the databases.cfg alone; never over a file.
    let (users_out, databases_out) = (d.path().join("out-users.cfg"), d.path().join("out-databases.cfg"));
    let (uo, dbo) = (users_out.to_str().expect("path"), databases_out.to_str().expect("path"));
    let (c, out, err) = roster(&db, &["export", "slashdb", "--users", uo, "--databases", dbo]);
    assert_eq!(c, 0, "{out}{err}");
    assert!(out.is_empty(), "both went to files: {out}");
    let users_cfg = std::fs::read_to_string(&users_out).expect("users.cfg");
    let databases_cfg = std::fs::read_to_string(&databases_out).expect("databases.cfg");
    assert!(users_cfg.contains("user_id: admin"), "{users_cfg}");
    assert!(databases_cfg.contains("db_id: Sales") && databases_cfg.contains("db_type: postgresql"), "{databases_cfg}");
    let (c, _, err) = roster(&db, &["export", "slashdb", "--databases", dbo]);
    assert_eq!(c, 1, "the file exists: {err}");
    assert!(err.contains("cannot write"), "{err}");
    std::fs::remove_file(&databases_out).expect("remove");
    let (c, out, err) = roster(&db, &["export", "slashdb", "--databases", dbo]);
    assert_eq!((c, out.as_str()), (0, ""), "only the databases.cfg: {err}");
    let (c, out, err) = roster(&db, &["import", "slashdb", "--databases", dbo, "--dry-run"]);
    assert_eq!(c, 0, "{out}{err}");
    assert!(out.contains("databases: 3 unchanged"), "{out}");
}

/// `roster bulk plan` writes a plan file and says what would happen (refused accounts named,
/// exit 5 when all are refused); `roster bulk apply FILE` does it, once.
#[test]
fn bulk_plan_then_apply_from_a_file() {
    let (d, db) = db();
    assert_eq!(create(&db, &["-p", PW]).0, 0);
    for u in ["cli1", "cli2"] {
        let email = format!("{u}@example.com");
        let (code, _, err) = roster(
            &db,
            &["user", "create", "-r", "DefaultUser", "-u", u, "-e", &email, "-f", "C", "-l", "L", "-p", PW],
        );
        assert_eq!(code, 0, "{err}");
    }
    let file = d.path().join("plan.json");
    let file_arg = file.display().to_string();
    let (code, _, err) = roster(&db, &["bulk", "plan", "--action", "disable", "--matching", "cli", "--out", &file_arg]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("Plan to disable: 2 would change, 0 unchanged, 0 refused (of 2)"), "{err}");
    let (_, out, _) = roster(&db, &["user", "list"]);
    assert!(!out.contains("disabled"), "the dry run changed nothing: {out}");
    let (code, out, err) = roster(&db, &["bulk", "apply", &file_arg]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Applied disable: 2 changed"), "{out}");
    let (code, _, err) = roster(&db, &["bulk", "apply", &file_arg]);
    assert_eq!(code, 4, "applied already: {err}");
    // Everything refused: exit code 5 (the last super admin cannot be disabled).
    let (code, _, err) = roster(&db, &["bulk", "plan", "--action", "disable", "--user", "admin", "--out", &file_arg]);
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("refused admin: This is the last active super admin"), "{err}");
    // Mistakes are named.
    let (code, _, err) = roster(&db, &["bulk", "plan", "--action", "add-to-org", "--user", "cli1"]);
    assert_eq!(code, 6, "{err}");
    assert!(err.contains("needs --org"), "{err}");
    let (code, _, err) = roster(&db, &["bulk", "apply", "/nonexistent/plan.json"]);
    assert_eq!(code, 1, "{err}");
}
