//! Database definitions: the databases an organization's data tools connect to (SlashDB's
//! `databases.cfg` entries), each with an optional default login that super admins without a
//! mapping of their own use (SlashDB's admin fallback). The rules for what an admin types;
//! storing, sealing passwords and Test Connection are the backend's.
//!
//! Passwords are write-only everywhere: a definition as read never carries one, and an empty
//! password on update keeps the stored one (as the single sign-on client secret).
use serde::{Deserialize, Serialize};

use super::error::{Error, FieldError};

pub const DB_ID_MAX: usize = 64;
pub const HOST_MAX: usize = 253;
/// A database name, or an SQLite file's path relative to the configured folder.
pub const NAME_MAX: usize = 255;
pub const DESCRIPTION_MAX: usize = 500;
pub const LOGIN_MAX: usize = 128;
/// Database passwords are sealed and sent to database servers, never hashed: a bound keeps
/// one row from holding megabytes.
pub const PASSWORD_MAX_BYTES: usize = 1024;

/// The database engines Roster can define and test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    Postgres,
    Mysql,
    Mariadb,
    Sqlite,
    Mssql,
}

impl Engine {
    pub const ALL: [Engine; 5] = [Engine::Postgres, Engine::Mysql, Engine::Mariadb, Engine::Sqlite, Engine::Mssql];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Postgres => "postgres",
            Engine::Mysql => "mysql",
            Engine::Mariadb => "mariadb",
            Engine::Sqlite => "sqlite",
            Engine::Mssql => "mssql",
        }
    }

    /// As people call it.
    pub fn label(self) -> &'static str {
        match self {
            Engine::Postgres => "PostgreSQL",
            Engine::Mysql => "MySQL",
            Engine::Mariadb => "MariaDB",
            Engine::Sqlite => "SQLite",
            Engine::Mssql => "SQL Server",
        }
    }

    /// The stored name, and the names other tools use for it (SlashDB's `db_type` values,
    /// URL schemes), case-insensitively.
    pub fn parse(raw: &str) -> Option<Engine> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" | "pg" => Some(Engine::Postgres),
            "mysql" => Some(Engine::Mysql),
            "mariadb" => Some(Engine::Mariadb),
            "sqlite" | "sqlite3" => Some(Engine::Sqlite),
            "mssql" | "sqlserver" | "sql server" => Some(Engine::Mssql),
            _ => None,
        }
    }

    /// The port a server of this engine listens on unless told otherwise; none for files.
    pub fn default_port(self) -> Option<u16> {
        match self {
            Engine::Postgres => Some(5432),
            Engine::Mysql | Engine::Mariadb => Some(3306),
            Engine::Mssql => Some(1433),
            Engine::Sqlite => None,
        }
    }

    /// A file on the Roster server's disk rather than a server on the network.
    pub fn is_file(self) -> bool {
        self == Engine::Sqlite
    }
}

/// How the connection to a database server is protected, in libpq's words (each engine's
/// driver is configured to the same meaning: MySQL's `ssl-mode`, SQL Server's `encrypt` and
/// trust settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum TlsMode {
    /// Plain text.
    Disable,
    /// TLS if the server offers it, else plain text (open to a downgrade on the path).
    Prefer,
    /// TLS, without checking the certificate.
    Require,
    /// TLS with a certificate from a trusted authority, any host name.
    VerifyCa,
    /// TLS with a trusted certificate for this host name: the only mode that stops a
    /// machine in the middle.
    VerifyFull,
}

impl TlsMode {
    pub const ALL: [TlsMode; 5] =
        [TlsMode::Disable, TlsMode::Prefer, TlsMode::Require, TlsMode::VerifyCa, TlsMode::VerifyFull];

    pub fn as_str(self) -> &'static str {
        match self {
            TlsMode::Disable => "disable",
            TlsMode::Prefer => "prefer",
            TlsMode::Require => "require",
            TlsMode::VerifyCa => "verify-ca",
            TlsMode::VerifyFull => "verify-full",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            TlsMode::Disable => "No TLS",
            TlsMode::Prefer => "TLS if offered",
            TlsMode::Require => "TLS, certificate not checked",
            TlsMode::VerifyCa => "TLS, trusted certificate",
            TlsMode::VerifyFull => "TLS, trusted certificate for this host",
        }
    }

    pub fn parse(raw: &str) -> Option<TlsMode> {
        TlsMode::ALL.into_iter().find(|m| m.as_str().eq_ignore_ascii_case(raw.trim()))
    }
}

/// A definition as an admin submits it (form, JSON API, CLI, import). `default_password` is
/// write-only: empty on update keeps the stored one.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DatabaseInput {
    pub db_id: String,
    pub engine: String,
    #[serde(default)]
    pub host: String,
    /// Empty: the engine's default port. A number or its text (forms send text).
    #[serde(default, deserialize_with = "text_or_number")]
    #[cfg_attr(feature = "ssr", schema(value_type = String))]
    pub port: String,
    /// The database's name on its server, or the SQLite file's path.
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub tls: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub default_login: String,
    #[serde(default)]
    pub default_password: String,
}

/// Changes to a definition: what is absent stays as it is (the JSON API's PATCH). An empty
/// `default_login` removes the default login and its password; an absent or empty
/// `default_password` keeps the stored one.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DatabasePatch {
    pub db_id: Option<String>,
    pub engine: Option<String>,
    pub host: Option<String>,
    #[serde(default, deserialize_with = "opt_text_or_number")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>))]
    pub port: Option<String>,
    pub name: Option<String>,
    pub tls: Option<String>,
    pub description: Option<String>,
    pub default_login: Option<String>,
    pub default_password: Option<String>,
}

impl From<DatabaseInput> for DatabasePatch {
    /// Every field as given (a form shows them all); an empty password still keeps the stored one.
    fn from(d: DatabaseInput) -> Self {
        DatabasePatch {
            db_id: Some(d.db_id),
            engine: Some(d.engine),
            host: Some(d.host),
            port: Some(d.port),
            name: Some(d.name),
            tls: Some(d.tls),
            description: Some(d.description),
            default_login: Some(d.default_login),
            default_password: Some(d.default_password),
        }
    }
}

impl DatabasePatch {
    /// A new definition's input: what the patch names, empty elsewhere.
    pub fn into_input(self) -> DatabaseInput {
        DatabaseInput {
            db_id: self.db_id.unwrap_or_default(),
            engine: self.engine.unwrap_or_default(),
            host: self.host.unwrap_or_default(),
            port: self.port.unwrap_or_default(),
            name: self.name.unwrap_or_default(),
            tls: self.tls.unwrap_or_default(),
            description: self.description.unwrap_or_default(),
            default_login: self.default_login.unwrap_or_default(),
            default_password: self.default_password.unwrap_or_default(),
        }
    }

    /// The whole input: the patch's fields over `current` (a definition as read, which
    /// carries no password: an absent password stays empty, "keep the stored one").
    pub fn over(self, current: &Database) -> DatabaseInput {
        DatabaseInput {
            db_id: self.db_id.unwrap_or_else(|| current.db_id.clone()),
            engine: self.engine.unwrap_or_else(|| current.engine.as_str().to_string()),
            host: self.host.unwrap_or_else(|| current.host.clone()),
            port: self.port.unwrap_or_else(|| current.port.map(|p| p.to_string()).unwrap_or_default()),
            name: self.name.unwrap_or_else(|| current.name.clone()),
            tls: self.tls.unwrap_or_else(|| current.tls.as_str().to_string()),
            description: self.description.unwrap_or_else(|| current.description.clone()),
            default_login: self.default_login.unwrap_or_else(|| current.default_login.clone().unwrap_or_default()),
            default_password: self.default_password.unwrap_or_default(),
        }
    }
}

/// What Test Connection found, as one of a few outcomes an admin can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TestOutcome {
    /// Connected, signed in and ran `SELECT 1` (or, without a login, the server answered).
    Connected,
    /// No connection: refused, no route, or a host name that does not resolve.
    Unreachable,
    /// Nothing answered within the time limit.
    TimedOut,
    /// The TLS handshake failed, or the server does not offer the TLS the definition asks for.
    Tls,
    /// The server refused the login or password.
    WrongCredentials,
    /// The server has no database by that name (or the SQLite file does not exist).
    UnknownDatabase,
    /// Roster's own rules refused to connect there (link-local address, a host outside the
    /// allow-list, a SQLite file outside the configured folder).
    NotAllowed,
    /// Anything else; the message says what the driver said.
    Other,
}

impl TestOutcome {
    pub const ALL: [TestOutcome; 8] = [
        TestOutcome::Connected,
        TestOutcome::Unreachable,
        TestOutcome::TimedOut,
        TestOutcome::Tls,
        TestOutcome::WrongCredentials,
        TestOutcome::UnknownDatabase,
        TestOutcome::NotAllowed,
        TestOutcome::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TestOutcome::Connected => "connected",
            TestOutcome::Unreachable => "unreachable",
            TestOutcome::TimedOut => "timed_out",
            TestOutcome::Tls => "tls",
            TestOutcome::WrongCredentials => "wrong_credentials",
            TestOutcome::UnknownDatabase => "unknown_database",
            TestOutcome::NotAllowed => "not_allowed",
            TestOutcome::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == s)
    }

    /// A short label for the page.
    pub fn label(self) -> &'static str {
        match self {
            TestOutcome::Connected => "Connected",
            TestOutcome::Unreachable => "Unreachable",
            TestOutcome::TimedOut => "Timed out",
            TestOutcome::Tls => "TLS failed",
            TestOutcome::WrongCredentials => "Wrong login or password",
            TestOutcome::UnknownDatabase => "Unknown database",
            TestOutcome::NotAllowed => "Not allowed",
            TestOutcome::Other => "Failed",
        }
    }

    pub fn ok(self) -> bool {
        self == TestOutcome::Connected
    }
}

/// One Test Connection: its outcome, the driver's (sanitised) message, how long it took and
/// when it ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ConnectionTest {
    pub outcome: TestOutcome,
    pub message: String,
    /// How long it took, in milliseconds.
    pub millis: u64,
    /// Unix milliseconds.
    pub at: i64,
}

/// A definition as admins and the API see it: never its password, only whether one is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Database {
    pub db_id: String,
    pub engine: Engine,
    /// Empty for SQLite.
    pub host: String,
    /// None for SQLite.
    pub port: Option<u16>,
    /// The database's name on its server, or the SQLite file's path.
    pub name: String,
    pub tls: TlsMode,
    pub description: String,
    pub default_login: Option<String>,
    /// Whether the default login has a stored password (which is never shown).
    pub default_password_set: bool,
    /// Unix milliseconds.
    pub created_at: i64,
    pub updated_at: i64,
    /// The last Test Connection, if any.
    #[serde(default)]
    pub last_test: Option<ConnectionTest>,
}

impl Database {
    /// Where it points, in one line: `host:port/name`, or the SQLite file.
    pub fn place(&self) -> String {
        match self.port {
            Some(p) => format!("{}:{p}/{}", self.host, self.name),
            None => self.name.clone(),
        }
    }
}

/// A page of an organization's definitions, by id (case-insensitive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DatabasePage {
    pub org: super::orgs::OrgRef,
    pub databases: Vec<Database>,
    /// Pass back as `after` for the next page (None: this is the last).
    pub next: Option<String>,
}

/// Forms send the port as text, JSON clients as a number: both are the same input.
fn text_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(opt_text_or_number(d)?.unwrap_or_default())
}

fn opt_text_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Number(i64),
    }
    Ok(Option::<Raw>::deserialize(d)?.map(|r| match r {
        Raw::Text(t) => t,
        Raw::Number(n) => n.to_string(),
    }))
}

/// A definition once its rules hold (what the store keeps, apart from the sealed password).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseSpec {
    pub db_id: String,
    pub engine: Engine,
    /// Empty for SQLite.
    pub host: String,
    /// None for SQLite.
    pub port: Option<u16>,
    pub name: String,
    pub tls: TlsMode,
    pub description: String,
    pub default_login: Option<String>,
}

/// Database ids follow SlashDB's rule for them (and for user ids): a letter or underscore,
/// then letters, digits and `@ _ - ~`. ASCII only; they appear in URLs and config files.
/// Unique per organization, case-insensitively (see `db_id_key`).
pub fn db_id(raw: &str) -> Result<String, FieldError> {
    identifier("db_id", "Database ID", "Database ID is required.", DB_ID_MAX, "@_-~", raw)
}

/// SlashDB's identifier rule, shared by database ids and credential names: trimmed, at most
/// `max` bytes, a letter or underscore first, then letters, digits and the `symbols`; errors
/// on `field`, sentences about `subject` (`missing` when empty).
pub(crate) fn identifier(
    field: &str,
    subject: &str,
    missing: &str,
    max: usize,
    symbols: &str,
    raw: &str,
) -> Result<String, FieldError> {
    let f = |m: String| Err(FieldError::new(field, m));
    let id = raw.trim();
    if id.is_empty() {
        return f(missing.into());
    }
    if id.len() > max {
        return f(format!("{subject} must be at most {max} characters."));
    }
    if !id.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        return f(format!("{subject} must start with a letter or an underscore."));
    }
    if let Some(bad) = id.chars().find(|c| !(c.is_ascii_alphanumeric() || symbols.contains(*c))) {
        let shown = if bad.is_whitespace() { "a space".to_string() } else { format!("'{bad}'") };
        let listed: Vec<String> = symbols.chars().map(String::from).collect();
        return f(format!("{subject} may only contain letters, digits and {} (found {shown}).", listed.join(" ")));
    }
    Ok(id.to_string())
}

/// Case-insensitive key for uniqueness and look-ups.
pub fn db_id_key(db_id: &str) -> String {
    db_id.to_ascii_lowercase()
}

/// A server's host: a DNS name or an IP address (IPv6 with or without brackets), nothing
/// else: no scheme, port, path or user name (those have fields of their own, and a URL typed
/// here would hide where the server actually connects).
pub fn host(raw: &str) -> Result<String, FieldError> {
    let f = |m: &str| Err(FieldError::new("host", m));
    let h = raw.trim();
    if h.is_empty() {
        return f("Host is required, like db.example.com or 10.0.0.5.");
    }
    if h.len() > HOST_MAX {
        return f(&format!("Host must be at most {HOST_MAX} characters."));
    }
    if h.contains("://") || h.contains('/') || h.contains('@') {
        return f("Enter the host name only, without scheme, user name or path (the port has its own field).");
    }
    let bare = h.strip_prefix('[').and_then(|v| v.strip_suffix(']')).unwrap_or(h);
    if bare.parse::<std::net::IpAddr>().is_ok() {
        return Ok(bare.to_string());
    }
    if h.contains(':') {
        return f("Enter the host without a port: the port has its own field.");
    }
    let name = h.strip_suffix('.').unwrap_or(h);
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    if !name.split('.').all(label_ok) {
        return f("Host must be a DNS name (letters, digits, hyphens, dots) or an IP address.");
    }
    Ok(h.to_ascii_lowercase())
}

/// A port: empty means the engine's default.
pub fn port(raw: &str, engine: Engine) -> Result<Option<u16>, FieldError> {
    let p = raw.trim();
    if p.is_empty() {
        return Ok(engine.default_port());
    }
    match p.parse::<u16>() {
        Ok(0) | Err(_) => Err(FieldError::new("port", "Port must be a number from 1 to 65535.")),
        Ok(n) => Ok(Some(n)),
    }
}

/// An SQLite file's path, relative to the folder the operator configured for SQLite
/// databases (`--sqlite-databases-dir`): no absolute paths and no `..`, so a definition can
/// never name a file elsewhere on the server's disk. (The backend checks again after
/// resolving symbolic links.)
pub fn sqlite_path(raw: &str) -> Result<String, FieldError> {
    let f = |m: &str| Err(FieldError::new("name", m));
    let p = raw.trim();
    if p.is_empty() {
        return f("Enter the SQLite file's path inside the SQLite databases folder, like chinook.sqlite.");
    }
    if p.len() > NAME_MAX {
        return f(&format!("The path must be at most {NAME_MAX} characters."));
    }
    if p.starts_with('/') || p.starts_with('\\') || p.contains(':') {
        return f("The path must be relative to the SQLite databases folder (no leading / or drive letter).");
    }
    if p.split(['/', '\\']).any(|part| part == ".." || part.is_empty()) {
        return f("The path must stay inside the SQLite databases folder (no .. and no empty parts).");
    }
    if p.chars().any(|c| c.is_control()) {
        return f("The path must not contain control characters.");
    }
    Ok(p.to_string())
}

/// A database's name on its server: required, printable, bounded.
pub fn database_name(raw: &str) -> Result<String, FieldError> {
    let n = raw.trim();
    let f = |m: String| Err(FieldError::new("name", m));
    if n.is_empty() {
        return f("Database name is required.".into());
    }
    if n.len() > NAME_MAX {
        return f(format!("Database name must be at most {NAME_MAX} characters."));
    }
    if n.chars().any(|c| c.is_control()) {
        return f("Database name must not contain control characters.".into());
    }
    Ok(n.to_string())
}

/// A database login (user name on the database server): empty means none.
pub fn login(field: &str, raw: &str) -> Result<Option<String>, FieldError> {
    let l = raw.trim();
    if l.is_empty() {
        return Ok(None);
    }
    if l.len() > LOGIN_MAX {
        return Err(FieldError::new(field, format!("The login must be at most {LOGIN_MAX} characters.")));
    }
    if l.chars().any(|c| c.is_control()) {
        return Err(FieldError::new(field, "The login must not contain control characters."));
    }
    Ok(Some(l.to_string()))
}

/// A database password as typed (never trimmed: spaces may be part of it); empty means
/// "keep the stored one" on update, "none" on create.
pub fn password(field: &str, raw: &str) -> Result<Option<String>, FieldError> {
    if raw.is_empty() {
        return Ok(None);
    }
    if raw.len() > PASSWORD_MAX_BYTES {
        return Err(FieldError::new(field, format!("The password must be at most {PASSWORD_MAX_BYTES} bytes.")));
    }
    if raw.contains('\0') {
        return Err(FieldError::new(field, "The password must not contain a NUL character."));
    }
    Ok(Some(raw.to_string()))
}

/// The value, or None with the error noted.
fn take<T>(errors: &mut Vec<FieldError>, r: Result<T, FieldError>) -> Option<T> {
    r.map_err(|e| errors.push(e)).ok()
}

/// Checks every field, reporting all problems at once (the form highlights each).
pub fn spec(input: &DatabaseInput) -> Result<DatabaseSpec, Error> {
    let mut errors = Vec::new();
    let db_id = take(&mut errors, db_id(&input.db_id));
    let engine = take(
        &mut errors,
        Engine::parse(&input.engine).ok_or_else(|| {
            FieldError::new("engine", "Choose the engine: PostgreSQL, MySQL, MariaDB, SQLite or SQL Server.")
        }),
    );
    let (host, port, name) = match engine {
        Some(Engine::Sqlite) => {
            if !input.host.trim().is_empty() || !input.port.trim().is_empty() {
                take(
                    &mut errors,
                    Err::<(), _>(FieldError::new("host", "An SQLite database is a file: leave host and port empty.")),
                );
            }
            (Some(String::new()), Some(None), take(&mut errors, sqlite_path(&input.name)))
        }
        Some(e) => (
            take(&mut errors, host(&input.host)),
            take(&mut errors, port(&input.port, e)),
            take(&mut errors, database_name(&input.name)),
        ),
        None => (None, None, None),
    };
    let tls = match engine {
        // (a file has no connection to protect)
        Some(Engine::Sqlite) => Some(TlsMode::Disable),
        _ => take(
            &mut errors,
            TlsMode::parse(&input.tls).ok_or_else(|| {
                FieldError::new(
                    "tls",
                    "Choose how the connection is protected: disable, prefer, require, verify-ca or verify-full.",
                )
            }),
        ),
    };
    let description = input.description.trim().to_string();
    if description.chars().count() > DESCRIPTION_MAX {
        take(
            &mut errors,
            Err::<(), _>(FieldError::new(
                "description",
                format!("Description must be at most {DESCRIPTION_MAX} characters."),
            )),
        );
    }
    let default_login = take(&mut errors, login("default_login", &input.default_login));
    let default_password = take(&mut errors, password("default_password", &input.default_password));
    if matches!((&default_login, &default_password), (Some(None), Some(Some(_)))) {
        errors.push(FieldError::new("default_password", "Enter the default login this password belongs to."));
    }
    match (db_id, engine, host, port, name, tls, default_login) {
        (Some(db_id), Some(engine), Some(host), Some(port), Some(name), Some(tls), Some(default_login))
            if errors.is_empty() =>
        {
            Ok(DatabaseSpec { db_id, engine, host, port, name, tls, description, default_login })
        }
        _ => Err(Error::Invalid { errors }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg() -> DatabaseInput {
        DatabaseInput {
            db_id: "Chinook".into(),
            engine: "postgresql".into(),
            host: "db.example.com".into(),
            port: "".into(),
            name: "chinook".into(),
            tls: "verify-full".into(),
            description: " Music store ".into(),
            default_login: "".into(),
            default_password: "".into(),
        }
    }

    fn fields(e: Error) -> Vec<String> {
        match e {
            Error::Invalid { errors } => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("not a field error: {other:?}"),
        }
    }

    #[test]
    fn db_ids_follow_slashdb_rules() {
        for ok in ["Chinook", "_x", "a@b-c~d_1", "SQLiteChinook"] {
            assert_eq!(db_id(ok).as_deref(), Ok(ok), "{ok}");
        }
        for bad in ["", "1db", "-db", "my db", "db.name", "db/x", "dbé", &"a".repeat(65)] {
            assert!(db_id(bad).is_err(), "{bad:?}");
        }
        assert_eq!(db_id_key("MSNorthwind"), "msnorthwind");
    }

    #[test]
    fn a_host_is_a_name_or_an_address_and_nothing_more() {
        assert_eq!(host(" DB.Example.com ").as_deref(), Ok("db.example.com"));
        assert_eq!(host("10.0.0.5").as_deref(), Ok("10.0.0.5"));
        assert_eq!(host("[::1]").as_deref(), Ok("::1"));
        assert_eq!(host("fe80::1").as_deref(), Ok("fe80::1"));
        for bad in [
            "",
            "postgres://db",
            "db:5432",
            "user@db",
            "db/x",
            "-db.example",
            "db..example",
            "db example",
            "ünï.example",
        ] {
            assert!(host(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ports_default_per_engine_and_are_bounded() {
        assert_eq!(port("", Engine::Postgres), Ok(Some(5432)));
        assert_eq!(port("", Engine::Mariadb), Ok(Some(3306)));
        assert_eq!(port("", Engine::Mssql), Ok(Some(1433)));
        assert_eq!(port(" 6543 ", Engine::Postgres), Ok(Some(6543)));
        for bad in ["0", "65536", "-1", "54a", "5432.0"] {
            assert!(port(bad, Engine::Postgres).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn sqlite_paths_stay_inside_the_folder() {
        assert_eq!(sqlite_path("chinook.sqlite").as_deref(), Ok("chinook.sqlite"));
        assert_eq!(sqlite_path("music/chinook.db").as_deref(), Ok("music/chinook.db"));
        for bad in
            ["", "/etc/passwd", "../x.db", "a/../../x.db", "a//b.db", "C:\\x.db", "\\\\server\\x", "a/..", "x\u{7}.db"]
        {
            assert!(sqlite_path(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_valid_definition_is_normalised() {
        let s = spec(&pg()).expect("valid");
        assert_eq!(s.engine, Engine::Postgres);
        assert_eq!(s.port, Some(5432));
        assert_eq!(s.tls, TlsMode::VerifyFull);
        assert_eq!(s.description, "Music store");
        assert_eq!(s.default_login, None);
        let with_login = spec(&DatabaseInput { default_login: " admin ".into(), ..pg() }).expect("valid");
        assert_eq!(with_login.default_login.as_deref(), Some("admin"));
    }

    #[test]
    fn sqlite_definitions_have_a_path_and_no_server() {
        let input = DatabaseInput {
            db_id: "SQLiteChinook".into(),
            engine: "sqlite".into(),
            name: "chinook.sqlite".into(),
            ..Default::default()
        };
        let s = spec(&input).expect("valid");
        assert_eq!((s.host.as_str(), s.port, s.tls), ("", None, TlsMode::Disable));
        let with_host = DatabaseInput { host: "db".into(), ..input };
        assert_eq!(fields(spec(&with_host).expect_err("host")), ["host"]);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let bad = DatabaseInput {
            db_id: "1x".into(),
            engine: "postgres".into(),
            host: "http://db".into(),
            port: "99999".into(),
            name: "".into(),
            tls: "maybe".into(),
            description: "d".repeat(DESCRIPTION_MAX + 1),
            default_login: "".into(),
            default_password: "x".repeat(PASSWORD_MAX_BYTES + 1),
        };
        assert_eq!(
            fields(spec(&bad).expect_err("invalid")),
            ["db_id", "host", "port", "name", "tls", "description", "default_password"]
        );
        let unknown_engine = DatabaseInput { engine: "oracle".into(), ..pg() };
        assert_eq!(fields(spec(&unknown_engine).expect_err("engine")), ["engine"]);
    }

    #[test]
    fn engines_and_tls_modes_round_trip_their_names() {
        for e in Engine::ALL {
            assert_eq!(Engine::parse(e.as_str()), Some(e));
        }
        for m in TlsMode::ALL {
            assert_eq!(TlsMode::parse(m.as_str()), Some(m));
        }
        assert_eq!(Engine::parse("SQLServer"), Some(Engine::Mssql));
    }

    #[test]
    fn a_password_needs_a_login() {
        let mut i = pg();
        i.default_login = String::new();
        i.default_password = "secret".into();
        let Err(Error::Invalid { errors }) = spec(&i) else { panic!("accepted") };
        assert_eq!(errors.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["default_password"]);
    }

    #[test]
    fn ports_arrive_as_text_or_numbers() {
        let i: DatabaseInput = serde_json::from_str(r#"{"db_id":"a","engine":"mysql","port":3307}"#).expect("number");
        assert_eq!(i.port, "3307");
        let i: DatabaseInput = serde_json::from_str(r#"{"db_id":"a","engine":"mysql","port":"3307"}"#).expect("text");
        assert_eq!(i.port, "3307");
        let p: DatabasePatch = serde_json::from_str(r#"{"port":5433}"#).expect("patch");
        assert_eq!(p.port.as_deref(), Some("5433"));
        assert!(serde_json::from_str::<DatabasePatch>(r#"{"password":"x"}"#).is_err(), "unknown fields refused");
    }

    #[test]
    fn a_whole_input_and_a_patch_of_every_field_are_the_same_change() {
        let i = pg();
        assert_eq!(DatabasePatch::from(i.clone()).into_input(), i);
        assert_eq!(DatabasePatch::default().into_input(), DatabaseInput::default());
    }

    #[test]
    fn a_patch_keeps_what_it_does_not_name() {
        let current = Database {
            db_id: "Chinook".into(),
            engine: Engine::Postgres,
            host: "db".into(),
            port: Some(5432),
            name: "chinook".into(),
            tls: TlsMode::VerifyFull,
            description: "music".into(),
            default_login: Some("reader".into()),
            default_password_set: true,
            created_at: 1,
            updated_at: 2,
            last_test: None,
        };
        let i = DatabasePatch { host: Some("db2".into()), ..Default::default() }.over(&current);
        let s = spec(&i).expect("valid");
        assert_eq!((s.host.as_str(), s.port, s.name.as_str()), ("db2", Some(5432), "chinook"));
        assert_eq!((s.tls, s.default_login.as_deref()), (TlsMode::VerifyFull, Some("reader")));
        assert_eq!(i.default_password, "", "an absent password keeps the stored one");
    }

    #[test]
    fn passwords_are_kept_as_typed() {
        assert_eq!(password("p", " pass word "), Ok(Some(" pass word ".into())));
        assert_eq!(password("p", ""), Ok(None));
        assert!(password("p", "a\0b").is_err());
    }
}
