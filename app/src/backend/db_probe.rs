//! Test Connection: a real connection to a database definition's server, a login, and
//! `SELECT 1`, within a time limit, answered as one `TestOutcome` with the driver's message
//! (sanitised: no password, one line, bounded). sqlx speaks PostgreSQL, MySQL/MariaDB and
//! SQLite; tiberius speaks SQL Server's TDS.
//!
//! Threat: it makes the server connect where an admin says (server-side request forgery, and
//! for SQLite a file-existence oracle for the whole disk). So before any connection: the host
//! name is resolved once and every address checked (never link-local, where cloud metadata
//! lives, unless the operator allows it; never unspecified, multicast or broadcast; only the
//! allow-listed hosts when there is a list), and the connection then goes to the checked
//! address (no second look-up a rebinding DNS server could answer differently), except with
//! `verify-full` TLS, which must name the host to check its certificate. SQLite paths are
//! resolved (symbolic links too) and must stay inside the configured folder.
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::{Duration, Instant};

use sqlx::{ConnectOptions, Connection};

use super::config::{HostRule, ProbeRules};
use crate::domain::databases::{DatabaseSpec, Engine, TestOutcome, TlsMode};

/// What to connect to and as whom.
pub struct Target<'a> {
    pub spec: &'a DatabaseSpec,
    pub login: Option<&'a str>,
    pub password: Option<&'a str>,
}

/// The outcome, the message and how long it took.
pub struct Probed {
    pub outcome: TestOutcome,
    pub message: String,
    pub elapsed: Duration,
}

/// Runs one Test Connection. Never fails: every problem is an outcome.
pub async fn probe(rules: &ProbeRules, t: &Target<'_>) -> Probed {
    let start = Instant::now();
    let limit = Duration::from_millis(rules.timeout_ms.max(1));
    let (outcome, message) = match tokio::time::timeout(limit, run(rules, t)).await {
        Ok(r) => r,
        Err(_) => (TestOutcome::TimedOut, format!("No answer within {} seconds.", (rules.timeout_ms as f64 / 1000.0))),
    };
    let secrets: Vec<&str> = t.password.into_iter().filter(|p| !p.is_empty()).collect();
    Probed { outcome, message: sanitise(&message, &secrets), elapsed: start.elapsed() }
}

async fn run(rules: &ProbeRules, t: &Target<'_>) -> (TestOutcome, String) {
    let spec = t.spec;
    if spec.engine == Engine::Sqlite {
        return sqlite(rules, &spec.name).await;
    }
    let port = spec.port.unwrap_or_else(|| spec.engine.default_port().unwrap_or(0));
    let addr = match checked_address(rules, &spec.host, port).await {
        Ok(a) => a,
        Err(e) => return e,
    };
    // verify-full checks the certificate against the name, so it must connect by name.
    let host = if spec.tls == TlsMode::VerifyFull { spec.host.clone() } else { addr.ip().to_string() };
    let Some(login) = t.login.filter(|l| !l.is_empty()) else {
        // Without a login there is nobody to sign in as: that the server accepts connections
        // is what can be tested.
        return match tokio::net::TcpStream::connect(addr).await {
            Ok(_) => (TestOutcome::Connected, "The server accepts connections (no login set to sign in with).".into()),
            Err(e) => (io_outcome(&e), e.to_string()),
        };
    };
    let password = t.password.unwrap_or("");
    match spec.engine {
        Engine::Postgres => postgres(&host, port, &spec.name, spec.tls, login, password).await,
        Engine::Mysql | Engine::Mariadb => mysql(&host, port, &spec.name, spec.tls, login, password).await,
        Engine::Mssql => mssql(&host, addr, &spec.name, spec.tls, login, password).await,
        Engine::Sqlite => unreachable_sqlite(),
    }
}

fn unreachable_sqlite() -> (TestOutcome, String) {
    (TestOutcome::Other, "SQLite files have no server.".into())
}

/// Resolves `host` once and checks every address it gives.
async fn checked_address(rules: &ProbeRules, host: &str, port: u16) -> Result<SocketAddr, (TestOutcome, String)> {
    let addrs: Vec<SocketAddr> = match tokio::net::lookup_host((host, port)).await {
        Ok(a) => a.collect(),
        Err(e) => return Err((TestOutcome::Unreachable, format!("The host name {host} does not resolve: {e}"))),
    };
    let Some(first) = addrs.first().copied() else {
        return Err((TestOutcome::Unreachable, format!("The host name {host} resolves to no address.")));
    };
    for a in &addrs {
        let ip = canonical(a.ip());
        if ip.is_unspecified() || ip.is_multicast() || matches!(ip, IpAddr::V4(v4) if v4.is_broadcast()) {
            return Err((TestOutcome::NotAllowed, format!("{host} resolves to {ip}, which is not a server address.")));
        }
        if is_link_local(ip) && !rules.allow_link_local {
            return Err((
                TestOutcome::NotAllowed,
                format!(
                    "{host} resolves to the link-local address {ip}; Roster does not connect there unless started with --allow-link-local-databases."
                ),
            ));
        }
    }
    if !allowed(&rules.allowed_hosts, host, &addrs) {
        return Err((
            TestOutcome::NotAllowed,
            format!("{host} is not in the list of database hosts this Roster may connect to (--database-hosts)."),
        ));
    }
    Ok(first)
}

/// IPv4 mapped into IPv6 is judged as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// 169.254.0.0/16 and fe80::/10.
pub fn is_link_local(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
    }
}

/// No list: any host. A list: the host's name is on it, or every address it resolves to is
/// in one of its ranges.
fn allowed(rules: &[HostRule], host: &str, addrs: &[SocketAddr]) -> bool {
    if rules.is_empty() {
        return true;
    }
    let by_name = rules.iter().any(|r| matches!(r, HostRule::Name(n) if n.eq_ignore_ascii_case(host)));
    let by_address = !addrs.is_empty()
        && addrs.iter().all(|a| rules.iter().any(|r| matches!(r, HostRule::Net(n) if n.contains(&canonical(a.ip())))));
    by_name || by_address
}

async fn sqlite(rules: &ProbeRules, name: &str) -> (TestOutcome, String) {
    let Some(dir) = &rules.sqlite_dir else {
        return (
            TestOutcome::NotAllowed,
            "SQLite files can be tested only inside the folder Roster is started with (--sqlite-databases-dir).".into(),
        );
    };
    let Ok(root) = tokio::fs::canonicalize(dir).await else {
        return (
            TestOutcome::NotAllowed,
            "The SQLite databases folder (--sqlite-databases-dir) does not exist.".into(),
        );
    };
    // The definition's rules already refuse absolute paths and `..`; a symbolic link inside
    // the folder can still point out of it, so the resolved path decides.
    let path = match tokio::fs::canonicalize(root.join(name)).await {
        Ok(p) => p,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return (TestOutcome::UnknownDatabase, format!("There is no file {name} in the SQLite databases folder."))
        }
        Err(e) => return (TestOutcome::Other, format!("{name}: {e}")),
    };
    if !path.starts_with(&root) {
        return (TestOutcome::NotAllowed, format!("{name} leads outside the SQLite databases folder."));
    }
    if !path.is_file() {
        return (TestOutcome::UnknownDatabase, format!("{name} is not a file."));
    }
    sqlite_open(&path).await
}

async fn sqlite_open(path: &Path) -> (TestOutcome, String) {
    let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(path).read_only(true).create_if_missing(false);
    let mut conn = match opts.connect().await {
        Ok(c) => c,
        Err(e) => return sqlx_outcome(&e),
    };
    // (reads the file's header: `SELECT 1` alone would not notice a file that is no database)
    let r = sqlx::query("SELECT count(*) FROM sqlite_master").execute(&mut conn).await;
    let _ = conn.close().await;
    match r {
        Ok(_) => (TestOutcome::Connected, "Opened the file (read-only) and read its schema.".into()),
        Err(e) => sqlx_outcome(&e),
    }
}

/// `SELECT 1` on a connection that signed in, then closes it.
macro_rules! select_one {
    ($conn:expr) => {{
        let mut conn = $conn;
        let r = sqlx::query("SELECT 1").execute(&mut conn).await;
        let _ = conn.close().await;
        match r {
            Ok(_) => (TestOutcome::Connected, "Signed in and ran SELECT 1.".to_string()),
            Err(e) => sqlx_outcome(&e),
        }
    }};
}

#[cfg(feature = "postgres")]
async fn postgres(
    host: &str,
    port: u16,
    name: &str,
    tls: TlsMode,
    login: &str,
    password: &str,
) -> (TestOutcome, String) {
    use sqlx::postgres::{PgConnectOptions, PgSslMode};
    let mode = match tls {
        TlsMode::Disable => PgSslMode::Disable,
        TlsMode::Prefer => PgSslMode::Prefer,
        TlsMode::Require => PgSslMode::Require,
        TlsMode::VerifyCa => PgSslMode::VerifyCa,
        TlsMode::VerifyFull => PgSslMode::VerifyFull,
    };
    let mut opts = PgConnectOptions::new().host(host).port(port).username(login).password(password).ssl_mode(mode);
    if !name.is_empty() {
        opts = opts.database(name);
    }
    match opts.connect().await {
        Ok(conn) => select_one!(conn),
        Err(e) => sqlx_outcome(&e),
    }
}

#[cfg(not(feature = "postgres"))]
async fn postgres(_: &str, _: u16, _: &str, _: TlsMode, _: &str, _: &str) -> (TestOutcome, String) {
    (TestOutcome::Other, "This build of Roster has no PostgreSQL driver.".into())
}

async fn mysql(host: &str, port: u16, name: &str, tls: TlsMode, login: &str, password: &str) -> (TestOutcome, String) {
    use sqlx::mysql::{MySqlConnectOptions, MySqlSslMode};
    let mode = match tls {
        TlsMode::Disable => MySqlSslMode::Disabled,
        TlsMode::Prefer => MySqlSslMode::Preferred,
        TlsMode::Require => MySqlSslMode::Required,
        TlsMode::VerifyCa => MySqlSslMode::VerifyCa,
        TlsMode::VerifyFull => MySqlSslMode::VerifyIdentity,
    };
    let mut opts = MySqlConnectOptions::new().host(host).port(port).username(login).password(password).ssl_mode(mode);
    if !name.is_empty() {
        opts = opts.database(name);
    }
    match opts.connect().await {
        Ok(conn) => select_one!(conn),
        Err(e) => sqlx_outcome(&e),
    }
}

async fn mssql(
    host: &str,
    addr: SocketAddr,
    name: &str,
    tls: TlsMode,
    login: &str,
    password: &str,
) -> (TestOutcome, String) {
    use tiberius::{AuthMethod, Client, EncryptionLevel};
    use tokio_util::compat::TokioAsyncWriteCompatExt;
    let mut config = tiberius::Config::new();
    config.host(host);
    config.port(addr.port());
    if !name.is_empty() {
        config.database(name);
    }
    config.authentication(AuthMethod::sql_server(login, password));
    match tls {
        TlsMode::Disable => config.encryption(EncryptionLevel::NotSupported),
        // (TDS's "off": only the login packet is encrypted, when the server can)
        TlsMode::Prefer => config.encryption(EncryptionLevel::Off),
        TlsMode::Require => {
            config.encryption(EncryptionLevel::Required);
            config.trust_cert();
        }
        TlsMode::VerifyCa | TlsMode::VerifyFull => config.encryption(EncryptionLevel::Required),
    }
    let tcp = match tokio::net::TcpStream::connect(addr).await {
        Ok(t) => t,
        Err(e) => return (io_outcome(&e), e.to_string()),
    };
    let _ = tcp.set_nodelay(true);
    let mut client = match Client::connect(config, tcp.compat_write()).await {
        Ok(c) => c,
        Err(e) => return tiberius_outcome(&e),
    };
    let r = match client.simple_query("SELECT 1").await {
        Ok(stream) => stream.into_row().await.map(|_| ()),
        Err(e) => Err(e),
    };
    let _ = client.close().await;
    match r {
        Ok(()) => (TestOutcome::Connected, "Signed in and ran SELECT 1.".into()),
        Err(e) => tiberius_outcome(&e),
    }
}

fn io_outcome(e: &std::io::Error) -> TestOutcome {
    match e.kind() {
        std::io::ErrorKind::TimedOut => TestOutcome::TimedOut,
        _ => TestOutcome::Unreachable,
    }
}

fn sqlx_outcome(e: &sqlx::Error) -> (TestOutcome, String) {
    let outcome = match e {
        sqlx::Error::Io(io) => io_outcome(io),
        sqlx::Error::Tls(_) => TestOutcome::Tls,
        sqlx::Error::Database(db) => {
            let mysql_number = db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>().map(|m| m.number());
            match (db.code().as_deref(), mysql_number) {
                // MySQL/MariaDB: access denied (to the server, to the database), unknown database
                (_, Some(1045)) | (_, Some(1044)) | (_, Some(1698)) => TestOutcome::WrongCredentials,
                (_, Some(1049)) => TestOutcome::UnknownDatabase,
                (_, Some(_)) => TestOutcome::Other,
                // PostgreSQL: invalid password / authorization, unknown database
                (Some("28P01"), _) | (Some("28000"), _) => TestOutcome::WrongCredentials,
                (Some("3D000"), _) => TestOutcome::UnknownDatabase,
                // SQLite: cannot open the file
                (Some("14"), _) => TestOutcome::UnknownDatabase,
                _ => TestOutcome::Other,
            }
        }
        sqlx::Error::Protocol(_) | sqlx::Error::Configuration(_) if tls_words(&e.to_string()) => TestOutcome::Tls,
        _ => TestOutcome::Other,
    };
    let message = match e {
        sqlx::Error::Database(db) => db.message().to_string(),
        other => other.to_string(),
    };
    (outcome, message)
}

fn tls_words(m: &str) -> bool {
    let m = m.to_ascii_lowercase();
    m.contains("tls") || m.contains("ssl") || m.contains("certificate")
}

fn tiberius_outcome(e: &tiberius::error::Error) -> (TestOutcome, String) {
    use tiberius::error::Error as T;
    let outcome = match e {
        T::Io { kind, .. } if *kind == std::io::ErrorKind::TimedOut => TestOutcome::TimedOut,
        T::Io { .. } => TestOutcome::Unreachable,
        T::Tls(_) => TestOutcome::Tls,
        T::Server(token) => match token.code() {
            18456 | 18452 | 18470 | 18486 | 18487 | 18488 => TestOutcome::WrongCredentials,
            4060 => TestOutcome::UnknownDatabase,
            _ => TestOutcome::Other,
        },
        _ => TestOutcome::Other,
    };
    let message = match e {
        T::Protocol(_) | T::Encoding(_) | T::Utf8 | T::Utf16 => {
            format!("The server did not answer as SQL Server does ({e}).")
        }
        _ => e.to_string(),
    };
    (outcome, message)
}

/// One line of at most 300 characters, without control characters or the password.
pub fn sanitise(message: &str, secrets: &[&str]) -> String {
    let mut m = message.to_string();
    for s in secrets {
        m = m.replace(s, "•••");
    }
    let one_line: String = m.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let mut out = one_line.split_whitespace().collect::<Vec<_>>().join(" ");
    if out.chars().count() > 300 {
        out = out.chars().take(299).collect::<String>() + "…";
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_local_addresses_are_recognised_also_when_mapped() {
        for ip in ["169.254.169.254", "fe80::1", "::ffff:169.254.1.1"] {
            assert!(is_link_local(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["10.0.0.1", "127.0.0.1", "::1", "fd00::1", "8.8.8.8"] {
            assert!(!is_link_local(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn the_allow_list_takes_names_and_ranges() {
        let rules = [HostRule::parse("db.example.com").unwrap(), HostRule::parse("10.0.0.0/8").unwrap()];
        let a = |s: &str| vec![SocketAddr::new(s.parse().unwrap(), 5432)];
        assert!(allowed(&[], "anything", &a("1.2.3.4")));
        assert!(allowed(&rules, "DB.example.com", &a("1.2.3.4")));
        assert!(allowed(&rules, "other.example", &a("10.9.8.7")));
        assert!(!allowed(&rules, "other.example", &a("11.0.0.1")));
        let mixed =
            vec![SocketAddr::new("10.0.0.1".parse().unwrap(), 1), SocketAddr::new("11.0.0.1".parse().unwrap(), 1)];
        assert!(!allowed(&rules, "other.example", &mixed), "every address must be allowed");
        assert!(HostRule::parse("http://x").is_err());
    }

    #[test]
    fn messages_lose_the_password_and_stay_one_short_line() {
        let m = sanitise("password authentication failed for \"bob\"\nwith hunter2 \u{7}!", &["hunter2"]);
        assert_eq!(m, "password authentication failed for \"bob\" with ••• !");
        assert_eq!(sanitise(&"x".repeat(1000), &[]).chars().count(), 300);
    }
}
