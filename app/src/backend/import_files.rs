//! Import files read into accounts, and accounts written out as files. Pure (no I/O, no
//! store), so every parser is fuzzed by proptest and the services only decide what to write.
//!
//! - SlashDB's `users.cfg`: YAML keyed by user id, read with serde-saphyr under a budget
//!   (aliases, events, nesting) and with duplicate keys refused.
//! - CSV: one row per membership (`org`, `role`, `abilities`); an account with several
//!   memberships has several rows whose account columns agree (or are empty after the first).
//! - JSON Lines: one `ImportedAccount` per line.
//! - SlashDB's `databases.cfg`: YAML keyed by database id, read into database definitions.
use std::collections::HashMap;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::abilities::Ability;
use crate::domain::databases::DatabaseInput;
use crate::domain::import::{
    slashdb_privilege, ImportFormat, ImportedAccount, ImportedMapping, ImportedMembership, SLASHDB_LISTS,
};
use crate::domain::users::UserStatus;
use crate::domain::validate;

/// One account read from a file, or why it could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// 1-based line where the account starts (0 when unknown).
    pub line: u64,
    /// The account's name in the file.
    pub key: String,
    pub account: Result<ImportedAccount, String>,
    /// What the reading noticed without refusing the row.
    pub notes: Vec<String>,
}

/// The whole file could not be read (not YAML, a CSV without a username column, too big).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError(pub String);

/// How SlashDB rows are read.
#[derive(Debug, Clone, Default)]
pub struct SlashdbReading {
    /// The organization every account joins (its name).
    pub org: String,
    /// `dbpass` values are plain text, not SlashDB ciphertext.
    pub plaintext_passwords: bool,
}

pub const CSV_COLUMNS: [&str; 11] = [
    "username",
    "full_name",
    "email",
    "status",
    "super_admin",
    "password_hash",
    "org",
    "role",
    "abilities",
    "view",
    "edit",
];

/// The budget a users.cfg must stay within: bounded aliases ("billion laughs"), events and
/// nesting, and duplicate keys refused (YAML says keys are unique; a silent "last wins"
/// would hide one of two accounts).
fn yaml_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_aliases: 10_000,
            max_anchors: 10_000,
            max_depth: 64,
            max_events: 50_000_000,
            // (an account is about a dozen nodes; the file itself is bounded by size)
            max_nodes: 50_000_000,
            max_total_scalar_bytes: crate::domain::import::MAX_IMPORT_BYTES,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: 100_000,
            max_replay_stack_depth: 16,
            max_alias_expansions_per_anchor: 1_000,
        },
        duplicate_keys: serde_saphyr::options::DuplicateKeyPolicy::Error,
        with_snippet: false,
    }
}

/// A file within the size limit, without the byte-order mark editors put first.
fn bounded(text: &str) -> Result<&str, FileError> {
    if text.len() > crate::domain::import::MAX_IMPORT_BYTES {
        return Err(FileError(format!(
            "The file is larger than {} MB.",
            crate::domain::import::MAX_IMPORT_BYTES / (1024 * 1024)
        )));
    }
    Ok(text.strip_prefix('\u{feff}').unwrap_or(text))
}

pub fn read(format: ImportFormat, text: &str, slashdb: &SlashdbReading) -> Result<Vec<Row>, FileError> {
    let text = bounded(text)?;
    let rows = match format {
        ImportFormat::Slashdb => read_slashdb(text, slashdb)?,
        // (database definitions are read by `read_slashdb_databases`)
        ImportFormat::SlashdbDatabases => Vec::new(),
        ImportFormat::Csv => read_csv(text)?,
        ImportFormat::Jsonl => read_jsonl(text),
    };
    Ok(refuse_repeats(rows))
}

/// The second row naming an account already in the file (usernames compare without case)
/// is an error: which of the two is meant is not ours to guess.
fn refuse_repeats(mut rows: Vec<Row>) -> Vec<Row> {
    let mut seen: HashMap<String, u64> = HashMap::new();
    for r in &mut rows {
        let Ok(a) = &r.account else { continue };
        let key = validate::username_key(&a.username);
        if let Some(first) = seen.get(&key) {
            r.account = Err(format!("'{}' appears twice in the file (first at line {first}).", a.username));
        } else {
            seen.insert(key, r.line);
        }
    }
    rows
}

// ---- SlashDB databases.cfg ----

/// One database definition read from SlashDB's databases.cfg, or why it could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseRow {
    pub line: u64,
    /// The database's id in the file (its key).
    pub key: String,
    /// Roster's definition input; the default password only when the file holds it in
    /// plain text.
    pub input: Result<DatabaseInput, String>,
    pub notes: Vec<String>,
}

/// One database of databases.cfg, read field by field (see `SlashUser`); SlashDB's settings
/// for its own work (reflection, caching, key columns) are kept by name for one note.
#[derive(Default)]
struct SlashDatabase {
    db_id: Option<String>,
    db_type: Option<String>,
    connection: Option<String>,
    desc: Option<String>,
    creator: Option<String>,
    autoload_user: Option<SlashDbLogin>,
    users_lists: Vec<String>,
    other: Vec<String>,
}

impl<'de> Deserialize<'de> for SlashDatabase {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = SlashDatabase;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a database's settings (db_id, db_type, connection, ...)")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<SlashDatabase, A::Error> {
                let mut db = SlashDatabase::default();
                while let Some(key) = m.next_key::<String>()? {
                    match key.as_str() {
                        "db_id" => db.db_id = m.next_value()?,
                        "db_type" => db.db_type = m.next_value()?,
                        "connection" => db.connection = m.next_value()?,
                        "desc" => db.desc = m.next_value()?,
                        "creator" => db.creator = m.next_value()?,
                        "autoload_user" => db.autoload_user = m.next_value()?,
                        "read" | "write" | "execute" => {
                            let who: Option<Vec<String>> = m.next_value()?;
                            if who.is_some_and(|w| !w.is_empty()) {
                                db.users_lists.push(key);
                            }
                        }
                        _ => {
                            m.next_value::<serde::de::IgnoredAny>()?;
                            db.other.push(key);
                        }
                    }
                }
                Ok(db)
            }
        }
        d.deserialize_map(V)
    }
}

/// SlashDB's database definitions as Roster's. `plaintext_passwords`: the `autoload_user`
/// passwords are plain text (else SlashDB ciphertext: the login is kept, the password not).
/// `sqlite_dir`: Roster's SQLite databases folder (a SlashDB path inside it keeps its place
/// there, as Roster's own export writes it).
pub fn read_slashdb_databases(
    text: &str,
    plaintext_passwords: bool,
    sqlite_dir: Option<&std::path::Path>,
) -> Result<Vec<DatabaseRow>, FileError> {
    let text = bounded(text)?;
    let parsed: Option<IndexMap<String, Option<SlashDatabase>>> =
        serde_saphyr::from_str_with_options(text, yaml_options())
            .map_err(|e| FileError(format!("This is not a SlashDB databases.cfg: {}", one_line(&e.to_string()))))?;
    let lines = top_level_lines(text);
    let mut seen: HashMap<String, u64> = HashMap::new();
    Ok(parsed
        .unwrap_or_default()
        .into_iter()
        .map(|(key, value)| {
            let line = lines.get(&key).copied().unwrap_or(0);
            let mut notes = Vec::new();
            let mut input = slashdb_database(&key, value, plaintext_passwords, sqlite_dir, &mut notes);
            // Ids are unique without case in Roster (SlashDB compares them exactly).
            let id_key = crate::domain::databases::db_id_key(&key);
            if let Some(first) = seen.get(&id_key) {
                input = Err(format!("'{key}' appears twice in the file, ignoring case (first at line {first})."));
            } else {
                seen.insert(id_key, line);
            }
            DatabaseRow { line, key, input, notes }
        })
        .collect())
}

fn slashdb_database(
    key: &str,
    db: Option<SlashDatabase>,
    plaintext_passwords: bool,
    sqlite_dir: Option<&std::path::Path>,
    notes: &mut Vec<String>,
) -> Result<DatabaseInput, String> {
    let Some(db) = db else {
        return Err("The database has no settings.".into());
    };
    if let Some(id) = db.db_id.as_deref() {
        if id != key {
            return Err(format!(
                "Its db_id '{id}' differs from its key '{key}'; SlashDB requires them to be the same. \
                 Correct one of the two (Roster does not guess which is meant)."
            ));
        }
    }
    let db_type = db.db_type.unwrap_or_default();
    let engine = crate::domain::databases::Engine::parse(&db_type).ok_or_else(|| {
        format!(
            "db_type: Roster does not connect to '{}' databases (it knows PostgreSQL, MySQL, MariaDB, SQLite and SQL Server).",
            db_type.trim()
        )
    })?;
    let connection = db.connection.unwrap_or_default();
    let (host, port, name) = if engine.is_file() {
        (String::new(), String::new(), slashdb_sqlite_path(connection.trim(), sqlite_dir, notes))
    } else {
        slashdb_connection(&connection, notes)?
    };
    if !db.users_lists.is_empty() {
        notes.push(format!(
            "SlashDB's {} lists are not imported: in Roster, abilities and database logins decide who uses a database.",
            db.users_lists.join("/")
        ));
    }
    if !db.other.is_empty() {
        notes.push(format!("SlashDB settings Roster does not keep: {}.", db.other.join(", ")));
    }
    let login = db.autoload_user.unwrap_or_default();
    let default_login = login.dbuser.map(|u| u.trim().to_string()).unwrap_or_default();
    let password = login.dbpass.unwrap_or_default();
    let default_password = if default_login.is_empty() || password.is_empty() {
        String::new()
    } else if plaintext_passwords {
        password
    } else {
        notes.push(
            "The default login's password is encrypted with SlashDB's secret: set it on the database page \
             (or decrypt with slashdb-secret and import with --passwords plaintext)."
                .into(),
        );
        String::new()
    };
    Ok(DatabaseInput {
        db_id: key.to_string(),
        engine: engine.as_str().to_string(),
        host,
        port,
        name,
        // (SlashDB's file has no TLS setting: its drivers' default, TLS when the server offers it)
        tls: if engine.is_file() { String::new() } else { "prefer".into() },
        description: db.desc.unwrap_or_default(),
        default_login,
        default_password,
    })
}

/// SlashDB names SQLite files by absolute path; Roster opens them inside its SQLite databases
/// folder, so a path inside that folder keeps its place there, and another absolute path
/// becomes the file's name there (with a note saying so).
fn slashdb_sqlite_path(path: &str, sqlite_dir: Option<&std::path::Path>, notes: &mut Vec<String>) -> String {
    let absolute = path.starts_with(['/', '\\']) || path.get(1..2) == Some(":");
    if !absolute {
        return path.to_string();
    }
    if let Some(inside) = sqlite_dir.and_then(|d| std::path::Path::new(path).strip_prefix(d).ok()) {
        if let Some(inside) = inside.to_str().filter(|p| !p.is_empty()) {
            return inside.to_string();
        }
    }
    let file = path.rsplit(['/', '\\']).next().unwrap_or_default().to_string();
    notes.push(format!(
        "SlashDB's file {path} is '{file}' in Roster's SQLite databases folder (--sqlite-databases-dir): put the file, or a link to it, there."
    ));
    file
}

/// SlashDB's `connection` of a database server: `host:port/database`, `host/database`, or a
/// URL (`scheme://user:password@host:port/database?options`), as (host, port, database).
fn slashdb_connection(raw: &str, notes: &mut Vec<String>) -> Result<(String, String, String), String> {
    let mut rest = raw.trim();
    if let Some((_, after)) = rest.split_once("://") {
        rest = after;
    }
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let authority = match authority.rsplit_once('@') {
        Some((_, host)) => {
            notes.push("The login in the connection string is not imported (use autoload_user or a mapping).".into());
            host
        }
        None => authority,
    };
    let name = path.split(['?', ';']).next().unwrap_or_default().trim().to_string();
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or("connection: an IPv6 address needs its closing ']'.")?;
        (host.to_string(), after.strip_prefix(':').unwrap_or_default().to_string())
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p.to_string()),
            None => (authority.to_string(), String::new()),
        }
    };
    if host.trim().is_empty() {
        return Err(format!("connection: '{}' names no server (host:port/database).", raw.trim()));
    }
    Ok((host, port, name))
}

// ---- SlashDB users.cfg ----

/// One account of users.cfg. Read field by field into typed values (so `dbpass: yes` or
/// `name: 0755` stay the text they are, as SlashDB's own reader keeps them), with the names
/// of settings SlashDB does not have kept for the report.
#[derive(Default)]
struct SlashUser {
    user_id: Option<String>,
    name: Option<String>,
    email: Option<String>,
    password: Option<String>,
    api_key: Option<String>,
    creator: Option<String>,
    databases: Option<IndexMap<String, Option<SlashDbLogin>>>,
    dbdef: Option<Vec<String>>,
    querydef: Option<Vec<String>>,
    userdef: Option<Vec<String>>,
    view: Option<Vec<String>>,
    edit: Option<Vec<String>>,
    other: Vec<String>,
}

impl<'de> Deserialize<'de> for SlashUser {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = SlashUser;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an account's settings (user_id, name, email, password, ...)")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<SlashUser, A::Error> {
                let mut u = SlashUser::default();
                while let Some(key) = m.next_key::<String>()? {
                    match key.as_str() {
                        "user_id" => u.user_id = m.next_value()?,
                        "name" => u.name = m.next_value()?,
                        "email" => u.email = m.next_value()?,
                        "password" => u.password = m.next_value()?,
                        "api_key" => u.api_key = m.next_value()?,
                        "creator" => u.creator = m.next_value()?,
                        "databases" => u.databases = m.next_value()?,
                        "dbdef" => u.dbdef = m.next_value()?,
                        "querydef" => u.querydef = m.next_value()?,
                        "userdef" => u.userdef = m.next_value()?,
                        "view" => u.view = m.next_value()?,
                        "edit" => u.edit = m.next_value()?,
                        _ => {
                            m.next_value::<serde::de::IgnoredAny>()?;
                            u.other.push(key);
                        }
                    }
                }
                Ok(u)
            }
        }
        d.deserialize_map(V)
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SlashDbLogin {
    #[serde(default)]
    dbuser: Option<String>,
    #[serde(default)]
    dbpass: Option<String>,
}

/// Where each top-level key starts (YAML keys at column 0), for the report.
fn top_level_lines(text: &str) -> HashMap<String, u64> {
    let mut lines = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.starts_with([' ', '\t', '#', '-']) {
            continue;
        }
        if let Some((k, _)) = line.split_once(':') {
            let k = k.trim().trim_matches(|c| c == '"' || c == '\'');
            lines.entry(k.to_string()).or_insert(i as u64 + 1);
        }
    }
    lines
}

fn read_slashdb(text: &str, how: &SlashdbReading) -> Result<Vec<Row>, FileError> {
    let parsed: Option<IndexMap<String, Option<SlashUser>>> = serde_saphyr::from_str_with_options(text, yaml_options())
        .map_err(|e| FileError(format!("This is not a SlashDB users.cfg: {}", one_line(&e.to_string()))))?;
    let lines = top_level_lines(text);
    Ok(parsed
        .unwrap_or_default()
        .into_iter()
        .map(|(key, value)| {
            let line = lines.get(&key).copied().unwrap_or(0);
            let mut notes = Vec::new();
            let account = slashdb_account(&key, value, how, &mut notes);
            Row { line, key, account, notes }
        })
        .collect())
}

/// A parser's message on one line (it may quote the input over several).
fn one_line(s: &str) -> String {
    let joined: Vec<&str> = s.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let mut out = joined.join(" ");
    if out.len() > 300 {
        let cut = (0..=300).rev().find(|i| out.is_char_boundary(*i)).unwrap_or(0);
        out.truncate(cut);
        out.push('…');
    }
    out
}

fn slashdb_account(
    key: &str,
    user: Option<SlashUser>,
    how: &SlashdbReading,
    notes: &mut Vec<String>,
) -> Result<ImportedAccount, String> {
    let Some(u) = user else {
        return Err("The account has no settings.".into());
    };
    if let Some(id) = u.user_id.as_deref() {
        if id != key {
            return Err(format!(
                "Its user_id '{id}' differs from its key '{key}'; SlashDB requires them to be the same. \
                 Correct one of the two (Roster does not guess which is meant)."
            ));
        }
    }
    let username = validate::username(key).map_err(|e| e.message)?;
    for k in &u.other {
        notes.push(format!("Ignored the setting '{k}' (SlashDB has no such user setting)."));
    }
    let full_name = u.name.unwrap_or_default();
    validate::full_name(&full_name).map_err(|e| format!("name: {}", e.message))?;
    let email = u.email.unwrap_or_default();
    validate::optional_email(&email).map_err(|e| format!("email: {}", e.message))?;
    let password_hash = match u.password.as_deref().map(str::trim) {
        None | Some("") => {
            if key != "public" {
                notes.push(format!(
                    "No password: '{key}' cannot sign in with one until it is set (roster user reset-password {key})."
                ));
            }
            None
        }
        Some(h) if key == "public" => {
            let _ = h;
            return Err("The public account never signs in: its password must be empty.".into());
        }
        Some(h) => {
            crate::backend::legacy_hash::parse(h).map_err(|e| format!("password: {}", e.0))?;
            Some(h.to_string())
        }
    };
    let api_key = match u.api_key.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(k) => {
            let (app, secret) = k.split_once(':').unwrap_or(("", ""));
            if app.is_empty() || secret.is_empty() || app.len() > 64 || secret.len() > 256 {
                return Err("api_key: SlashDB keys are 'app_id:key' (both parts present).".into());
            }
            // (the report's note about rotating it comes when it is actually stored)
            Some(k.to_string())
        }
    };
    let mut abilities = Vec::new();
    for (list, words) in SLASHDB_LISTS.iter().zip([&u.dbdef, &u.querydef, &u.userdef]) {
        for w in words.iter().flatten() {
            let a: Ability = slashdb_privilege(list, w.trim())
                .ok_or_else(|| format!("{list}: unknown privilege '{w}' (SlashDB knows view and create)."))?;
            if !abilities.contains(&a.code().to_string()) {
                abilities.push(a.code().to_string());
            }
        }
    }
    let super_admin = key == "admin";
    let memberships = if key == "public" && abilities.is_empty() {
        Vec::new()
    } else {
        let role = if super_admin { "Admin" } else { "Viewer" };
        vec![ImportedMembership { org: how.org.clone(), role: role.into(), abilities }]
    };
    let mut databases = Vec::new();
    for (db_id, login) in u.databases.unwrap_or_default() {
        let login = login.unwrap_or_default();
        let user = login.dbuser.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        let pass = login.dbpass.filter(|s| !s.is_empty());
        let password = match (&user, pass) {
            (Some(_), Some(p)) if how.plaintext_passwords => Some(p),
            (Some(_), Some(_)) => {
                notes.push(format!(
                    "Database '{db_id}': login imported; its password is encrypted with SlashDB's secret, \
                     so set it in Roster (or decrypt with slashdb-secret and import with --passwords plaintext)."
                ));
                None
            }
            _ => None,
        };
        databases.push(ImportedMapping { org: None, db_id, login: user, password, credential: None });
    }
    Ok(ImportedAccount {
        username,
        full_name,
        email,
        status: UserStatus::Active,
        super_admin,
        password_hash,
        memberships,
        view: u.view.unwrap_or_default(),
        edit: u.edit.unwrap_or_default(),
        databases,
        api_key,
        creator: u.creator.filter(|c| !c.trim().is_empty()),
    })
}

// ---- CSV ----

fn read_csv(text: &str) -> Result<Vec<Row>, FileError> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).trim(csv::Trim::All).from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| FileError(format!("The CSV header cannot be read: {e}.")))?.clone();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, h) in headers.iter().enumerate() {
        let h = h.to_ascii_lowercase();
        let Some(known) = CSV_COLUMNS.iter().find(|c| **c == h) else {
            return Err(FileError(format!("Unknown CSV column '{h}'. The columns are: {}.", CSV_COLUMNS.join(", "))));
        };
        if index.insert(known, i).is_some() {
            return Err(FileError(format!("The CSV column '{h}' appears twice.")));
        }
    }
    if !index.contains_key("username") {
        return Err(FileError("The CSV file has no 'username' column.".into()));
    }
    let mut rows: Vec<Row> = Vec::new();
    let mut by_name: HashMap<String, usize> = HashMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                rows.push(Row { line, key: format!("line {line}"), account: Err(format!("{e}.")), notes: vec![] });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let username = cell(&record, &index, "username").to_string();
        if username.is_empty() && record.iter().all(str::is_empty) {
            continue;
        }
        let parsed = csv_row(&record, &index);
        match by_name.get(&validate::username_key(&username)).copied() {
            Some(first) if !username.is_empty() => {
                // a further membership of an account already read
                let row = &mut rows[first];
                let Ok(acc) = &mut row.account else { continue };
                match parsed {
                    Ok((a, m)) => {
                        let fields_agree = |x: &ImportedAccount| {
                            (a.full_name.is_empty() || a.full_name == x.full_name)
                                && (a.email.is_empty() || a.email == x.email)
                                && (a.password_hash.is_none() || a.password_hash == x.password_hash)
                                && (a.view.is_empty() || a.view == x.view)
                                && (a.edit.is_empty() || a.edit == x.edit)
                        };
                        if !fields_agree(acc) {
                            row.account = Err(format!(
                                "Line {line} gives '{username}' other account details than line {}.",
                                row.line
                            ));
                        } else if let Some(m) = m {
                            acc.memberships.push(m);
                        }
                    }
                    Err(e) => row.account = Err(format!("Line {line}: {e}")),
                }
            }
            _ => {
                by_name.insert(validate::username_key(&username), rows.len());
                let account = parsed.map(|(mut a, m)| {
                    a.memberships.extend(m);
                    a
                });
                rows.push(Row { line, key: username, account, notes: vec![] });
            }
        }
    }
    Ok(rows)
}

fn split_list(s: &str) -> Vec<String> {
    s.split(|c: char| c.is_whitespace() || c == ',' || c == ';').filter(|p| !p.is_empty()).map(str::to_string).collect()
}

/// A cell as written, without the `'` an export put before a leading `= + - @` (so that
/// spreadsheets do not run it as a formula).
fn cell<'a>(record: &'a csv::StringRecord, index: &HashMap<&str, usize>, column: &str) -> &'a str {
    let raw = index.get(column).and_then(|i| record.get(*i)).unwrap_or("");
    match raw.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_STARTS) => rest,
        _ => raw,
    }
}

/// What a spreadsheet takes for the start of a formula.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

fn csv_row(
    record: &csv::StringRecord,
    index: &HashMap<&str, usize>,
) -> Result<(ImportedAccount, Option<ImportedMembership>), String> {
    let get = |c: &str| cell(record, index, c);
    let username = validate::username(get("username")).map_err(|e| e.message)?;
    let status = match get("status") {
        "" => UserStatus::Active,
        s => UserStatus::parse(&s.to_ascii_lowercase())
            .ok_or_else(|| format!("status: '{s}' is neither active nor disabled."))?,
    };
    let super_admin = match get("super_admin").to_ascii_lowercase().as_str() {
        "" | "false" | "0" | "no" => false,
        "true" | "1" | "yes" => true,
        s => return Err(format!("super_admin: '{s}' is not true or false.")),
    };
    let password_hash = Some(get("password_hash").to_string()).filter(|h| !h.is_empty());
    if let Some(h) = &password_hash {
        crate::backend::legacy_hash::parse(h).map_err(|e| format!("password_hash: {}", e.0))?;
    }
    let membership = match (get("org"), get("role")) {
        ("", "") if get("abilities").is_empty() => None,
        ("", _) => return Err("org: a role or abilities are given without an organization.".into()),
        (_, "") => return Err("role: every membership needs a role.".into()),
        (org, role) => Some(ImportedMembership {
            org: org.to_string(),
            role: role.to_string(),
            abilities: split_list(get("abilities")),
        }),
    };
    let account = ImportedAccount {
        username,
        full_name: get("full_name").to_string(),
        email: get("email").to_string(),
        status,
        super_admin,
        password_hash,
        memberships: vec![],
        view: split_list(get("view")),
        edit: split_list(get("edit")),
        databases: vec![],
        api_key: None,
        creator: None,
    };
    Ok((account, membership))
}

// ---- JSON Lines ----

fn read_jsonl(text: &str) -> Vec<Row> {
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i as u64 + 1;
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        let account = serde_json::from_str::<ImportedAccount>(trimmed)
            .map_err(|e| format!("Not an account record: {e}."))
            .and_then(|mut a| {
                a.username = validate::username(&a.username).map_err(|e| e.message)?;
                if let Some(h) = &a.password_hash {
                    crate::backend::legacy_hash::parse(h).map_err(|e| format!("password_hash: {}", e.0))?;
                }
                Ok(a)
            });
        let key = match &account {
            Ok(a) => a.username.clone(),
            Err(_) => serde_json::from_str::<Value>(trimmed)
                .ok()
                .and_then(|v| v.get("username").and_then(Value::as_str).map(str::to_string))
                .unwrap_or_else(|| format!("line {line_no}")),
        };
        rows.push(Row { line: line_no, key, account, notes: vec![] });
    }
    rows
}

// ---- writing ----

pub fn write_jsonl(accounts: &[ImportedAccount]) -> String {
    let mut out = String::new();
    for a in accounts {
        // (serialising plain data with string keys cannot fail)
        out.push_str(&serde_json::to_string(a).unwrap_or_default());
        out.push('\n');
    }
    out
}

pub fn write_csv(accounts: &[ImportedAccount]) -> String {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    let _ = w.write_record(CSV_COLUMNS);
    for a in accounts {
        let first = [
            a.username.clone(),
            a.full_name.clone(),
            a.email.clone(),
            a.status.as_str().to_string(),
            a.super_admin.to_string(),
            a.password_hash.clone().unwrap_or_default(),
        ];
        let lists = [a.view.join(" "), a.edit.join(" ")];
        let memberships: Vec<Option<&ImportedMembership>> =
            if a.memberships.is_empty() { vec![None] } else { a.memberships.iter().map(Some).collect() };
        for (i, m) in memberships.into_iter().enumerate() {
            let mut rec: Vec<String> = if i == 0 {
                first.to_vec()
            } else {
                vec![a.username.clone(), String::new(), String::new(), String::new(), String::new(), String::new()]
            };
            rec.push(m.map(|m| m.org.clone()).unwrap_or_default());
            rec.push(m.map(|m| m.role.clone()).unwrap_or_default());
            rec.push(m.map(|m| m.abilities.join(" ")).unwrap_or_default());
            if i == 0 {
                rec.extend(lists.iter().cloned());
            } else {
                rec.extend([String::new(), String::new()]);
            }
            let _ = w.write_record(rec.iter().map(|c| defused(c)));
        }
    }
    // (writing to a Vec cannot fail)
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

fn defused(cell: &str) -> String {
    if cell.starts_with(FORMULA_STARTS) {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
}

/// One account as SlashDB's users.cfg holds it (its keys in SlashDB's own order).
#[derive(Serialize)]
pub struct SlashdbOut {
    pub api_key: Option<String>,
    pub creator: String,
    pub databases: Option<IndexMap<String, SlashdbLoginOut>>,
    pub dbdef: Vec<String>,
    pub edit: Vec<String>,
    pub email: String,
    pub name: String,
    pub password: String,
    pub querydef: Vec<String>,
    pub userdef: Vec<String>,
    pub view: Vec<String>,
    pub user_id: String,
}

#[derive(Serialize)]
pub struct SlashdbLoginOut {
    pub dbpass: String,
    pub dbuser: String,
}

/// users.cfg for `accounts`, each with the abilities it holds in the exported organization.
/// `cannot_use` lines head the file as comments (accounts SlashDB cannot use as they are).
pub fn write_slashdb(accounts: &[(ImportedAccount, Vec<Ability>)], cannot_use: &[String]) -> String {
    let mut map: IndexMap<String, SlashdbOut> = IndexMap::new();
    for (a, abilities) in accounts {
        let words = |list: &str| -> Vec<String> {
            ["view", "create"]
                .into_iter()
                .filter(|w| slashdb_privilege(list, w).is_some_and(|ab| abilities.contains(&ab)))
                .map(str::to_string)
                .collect()
        };
        let databases: IndexMap<String, SlashdbLoginOut> = a
            .databases
            .iter()
            .map(|m| {
                (
                    m.db_id.clone(),
                    SlashdbLoginOut { dbpass: String::new(), dbuser: m.login.clone().unwrap_or_default() },
                )
            })
            .collect();
        map.insert(
            a.username.clone(),
            SlashdbOut {
                api_key: None,
                creator: a.creator.clone().unwrap_or_else(|| "admin".into()),
                databases: (!databases.is_empty()).then_some(databases),
                dbdef: words("dbdef"),
                edit: a.edit.clone(),
                email: a.email.clone(),
                name: a.full_name.clone(),
                password: a.password_hash.clone().unwrap_or_default(),
                querydef: words("querydef"),
                userdef: words("userdef"),
                view: a.view.clone(),
                user_id: a.username.clone(),
            },
        );
    }
    let mut out = commented_head("users.cfg", "Accounts SlashDB cannot use as they are", cannot_use);
    out.push_str(&serde_saphyr::to_string(&map).unwrap_or_default());
    out
}

/// The comment lines heading an exported SlashDB file: what it is, then `lines` under
/// `heading` (none when there are none).
fn commented_head(file: &str, heading: &str, lines: &[String]) -> String {
    let mut out = format!("# SlashDB {file} exported by Roster.\n");
    if !lines.is_empty() {
        out.push_str(&format!("# {heading}:\n"));
        for line in lines {
            out.push_str("#   ");
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// One database as SlashDB's databases.cfg holds it (its keys in SlashDB's own order).
#[derive(Serialize)]
pub struct SlashdbDatabaseOut {
    pub autoload_user: SlashdbLoginOut,
    pub connection: String,
    pub db_id: String,
    pub db_type: String,
    pub desc: String,
}

/// databases.cfg for `databases`: `host:port/name` for servers, the file's absolute path for
/// SQLite (inside `sqlite_dir` when Roster has one), the default login without its password.
/// `notes` head the file as comments (what SlashDB's file cannot carry).
pub fn write_slashdb_databases(
    databases: &[crate::domain::databases::DatabaseSpec],
    sqlite_dir: Option<&std::path::Path>,
    notes: &[String],
) -> String {
    let map: IndexMap<String, SlashdbDatabaseOut> = databases
        .iter()
        .map(|d| {
            let connection = match (d.port, sqlite_dir) {
                // (an IPv6 address in brackets, as the reader and URLs take it)
                (Some(port), _) if d.host.contains(':') => format!("[{}]:{port}/{}", d.host, d.name),
                (Some(port), _) => format!("{}:{port}/{}", d.host, d.name),
                (None, Some(dir)) => dir.join(&d.name).display().to_string(),
                (None, None) => d.name.clone(),
            };
            let db_type = match d.engine {
                crate::domain::databases::Engine::Postgres => "postgresql",
                other => other.as_str(),
            };
            let out = SlashdbDatabaseOut {
                autoload_user: SlashdbLoginOut {
                    dbpass: String::new(),
                    dbuser: d.default_login.clone().unwrap_or_default(),
                },
                connection,
                db_id: d.db_id.clone(),
                db_type: db_type.to_string(),
                desc: d.description.clone(),
            };
            (d.db_id.clone(), out)
        })
        .collect();
    let mut out = commented_head("databases.cfg", "What this file does not carry", notes);
    if !map.is_empty() {
        out.push_str(&serde_saphyr::to_string(&map).unwrap_or_default());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn how() -> SlashdbReading {
        SlashdbReading { org: "Default".into(), plaintext_passwords: false }
    }

    /// The sample of SlashDB's documentation, with its own inconsistency (`app1:` holds
    /// `user_id: mike`).
    pub const SAMPLE: &str = include_str!("../../../server/tests/fixtures/slashdb-users.cfg");

    #[test]
    fn the_documented_sample_reads_into_two_accounts_and_one_clear_error() {
        let rows = read(ImportFormat::Slashdb, SAMPLE, &how()).expect("a YAML file");
        let keys: Vec<&str> = rows.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys, ["admin", "public", "app1"]);
        let admin = rows[0].account.as_ref().expect("admin reads");
        assert!(admin.super_admin);
        assert_eq!(admin.memberships[0].role, "Admin");
        assert!(admin.password_hash.as_deref().is_some_and(|h| h.starts_with("$6$rounds=697243$")));
        assert_eq!(admin.api_key.as_deref(), Some("61527b29:5a031433fff9ff3edbcbc9f13f7b7026"));
        assert_eq!(admin.edit, ["admin"]);
        assert_eq!(admin.databases, [ImportedMapping { db_id: "Chinook".into(), ..Default::default() }]);
        let public = rows[1].account.as_ref().expect("public reads");
        assert!(public.memberships.is_empty() && public.password_hash.is_none() && public.databases.is_empty());
        let err = rows[2].account.as_ref().expect_err("app1 names mike");
        assert!(err.contains("user_id 'mike' differs from its key 'app1'"), "{err}");
        assert_eq!(rows[0].line, 1);
        assert!(rows[2].line > rows[1].line);
    }

    pub const DATABASES: &str = include_str!("../../../server/tests/fixtures/slashdb-databases.cfg");

    #[test]
    fn slashdb_databases_become_definitions_with_clear_errors() {
        let rows = read_slashdb_databases(DATABASES, false, None).expect("a YAML file");
        let keys: Vec<&str> = rows.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys, ["Chinook", "Sales", "Crm", "Ledger", "Stock"]);
        let chinook = rows[0].input.as_ref().expect("Chinook");
        assert_eq!(
            (chinook.engine.as_str(), chinook.name.as_str(), chinook.host.as_str()),
            ("sqlite", "chinook.sqlite", "")
        );
        assert_eq!(chinook.description, "Example SQLite database");
        assert!(
            rows[0].notes.iter().any(|n| n.contains("/var/lib/slashdb/sqlite/chinook.sqlite")),
            "{:?}",
            rows[0].notes
        );
        assert!(
            rows[0].notes.iter().any(|n| n.contains("alternate_key") && n.contains("autoload")),
            "{:?}",
            rows[0].notes
        );
        let sales = rows[1].input.as_ref().expect("Sales");
        assert_eq!(
            (sales.engine.as_str(), sales.host.as_str(), sales.port.as_str(), sales.name.as_str(), sales.tls.as_str()),
            ("postgres", "db.example.com", "5433", "sales", "prefer")
        );
        assert_eq!((sales.default_login.as_str(), sales.default_password.as_str()), ("reporter", ""));
        assert!(rows[1].notes.iter().any(|n| n.contains("encrypted with SlashDB's secret")));
        assert!(rows[1].notes.iter().any(|n| n.contains("read lists are not imported")), "{:?}", rows[1].notes);
        let crm = rows[2].input.as_ref().expect("Crm");
        assert_eq!(
            (crm.engine.as_str(), crm.host.as_str(), crm.port.as_str(), crm.name.as_str()),
            ("mysql", "10.0.0.7", "", "crm")
        );
        assert!(rows[2].notes.iter().any(|n| n.contains("login in the connection string")));
        assert!(rows[3].input.as_ref().is_err_and(|e| e.contains("'oracle'")), "{:?}", rows[3].input);
        assert!(rows[4].input.as_ref().is_err_and(|e| e.contains("db_id 'Inventory' differs from its key 'Stock'")));
        // Plain-text passwords are taken when the file says so.
        let plain = read_slashdb_databases(DATABASES, true, None).expect("yaml");
        assert_eq!(plain[1].input.as_ref().map(|i| i.default_password.as_str()), Ok("1SAd7V-5CUfvjnvDQ=="));
        // Every definition Roster accepts passes its own rules.
        for r in &rows[..3] {
            crate::domain::databases::spec(r.input.as_ref().expect("read")).expect("valid");
        }
    }

    /// What Roster writes as databases.cfg reads back as the same definitions (the TLS mode
    /// aside: SlashDB's file has none), SQLite files in their place in Roster's folder.
    #[test]
    fn written_databases_cfg_reads_back_as_the_same_definitions() {
        use crate::domain::databases::{spec, DatabaseSpec};
        let input = |id: &str, engine: &str, host: &str, port: &str, name: &str, login: &str| DatabaseInput {
            db_id: id.into(),
            engine: engine.into(),
            host: host.into(),
            port: port.into(),
            name: name.into(),
            tls: "prefer".into(),
            description: format!("{id}: 'quoted' # not a comment"),
            default_login: login.into(),
            default_password: String::new(),
        };
        let specs: Vec<DatabaseSpec> = [
            input("Sales", "postgres", "db.example.com", "5433", "sales", "reporter"),
            input("Crm", "mariadb", "10.0.0.7", "3306", "crm", ""),
            input("Orders", "mssql", "sql.example.com", "1433", "orders", "sa"),
            input("Local", "postgres", "::1", "6543", "local", ""),
            input("Chinook", "sqlite", "", "", "music/chinook.sqlite", ""),
        ]
        .iter()
        .map(|i| spec(i).expect("a valid definition"))
        .collect();
        let dir = std::path::Path::new("/srv/roster/sqlite");
        let text = write_slashdb_databases(&specs, Some(dir), &["Sales: a note".into()]);
        assert!(text.contains("connection: /srv/roster/sqlite/music/chinook.sqlite"), "{text}");
        assert!(text.contains("db_type: postgresql"), "{text}");
        assert!(text.contains("[::1]:6543/local"), "{text}");
        assert!(text.contains("#   Sales: a note"), "{text}");
        let rows = read_slashdb_databases(&text, false, Some(dir)).expect("our own file reads");
        let back: Vec<DatabaseSpec> =
            rows.iter().map(|r| spec(r.input.as_ref().expect("a definition")).expect("valid")).collect();
        assert_eq!(back, specs);
        assert!(rows.iter().all(|r| r.notes.is_empty()), "{:?}", rows.iter().map(|r| &r.notes).collect::<Vec<_>>());
        // Elsewhere than Roster's folder, the file's name with a note (as before).
        let elsewhere = read_slashdb_databases(&text, false, Some(std::path::Path::new("/other"))).expect("reads");
        assert_eq!(elsewhere[4].input.as_ref().map(|i| i.name.as_str()), Ok("chinook.sqlite"));
        assert_eq!(elsewhere[4].notes.len(), 1);
        assert_eq!(write_slashdb_databases(&[], None, &[]), "# SlashDB databases.cfg exported by Roster.\n");
    }

    #[test]
    fn slashdb_databases_refuse_hostile_or_wrong_files() {
        let twice = read_slashdb_databases(
            "sales:\n  db_type: sqlite\n  connection: a.db\nSALES:\n  db_type: sqlite\n  connection: b.db\n",
            false,
            None,
        )
        .expect("yaml");
        assert!(twice[1].input.as_ref().is_err_and(|e| e.contains("appears twice")));
        let laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n";
        assert!(read_slashdb_databases(laughs, false, None).is_err());
        assert!(read_slashdb_databases("- a list\n", false, None).is_err());
        let no_host =
            read_slashdb_databases("x:\n  db_type: postgresql\n  connection: ':5432/db'\n", false, None).expect("yaml");
        assert!(no_host[0].input.as_ref().is_err_and(|e| e.contains("names no server")));
        let v6 = read_slashdb_databases("x:\n  db_type: postgresql\n  connection: '[::1]:6543/db'\n", false, None)
            .expect("yaml");
        assert_eq!(v6[0].input.as_ref().map(|i| (i.host.as_str(), i.port.as_str())), Ok(("::1", "6543")));
    }

    #[test]
    fn slashdb_logins_privileges_and_encrypted_passwords() {
        let text = "bob:\n  user_id: bob\n  dbdef: [view, create]\n  userdef: [view]\n  databases:\n    \
                    Sales: {dbuser: bob_ro, dbpass: 'X1Y2=='}\n    Lite: {dbuser: '', dbpass: 'abc=='}\n";
        let rows = read(ImportFormat::Slashdb, text, &how()).expect("yaml");
        let bob = rows[0].account.as_ref().expect("bob");
        assert_eq!(bob.memberships[0].abilities, ["view-databases", "create-databases", "view-users"]);
        // (an account's settings are read as JSON values: its databases come in name order)
        let db = |a: &ImportedAccount, id: &str| a.databases.iter().find(|m| m.db_id == id).cloned().expect(id);
        assert_eq!(db(bob, "Sales").login.as_deref(), Some("bob_ro"));
        assert_eq!(db(bob, "Sales").password, None);
        assert_eq!(db(bob, "Lite").login, None);
        assert!(rows[0].notes.iter().any(|n| n.contains("Database 'Sales': login imported")), "{:?}", rows[0].notes);
        let plain =
            read(ImportFormat::Slashdb, text, &SlashdbReading { plaintext_passwords: true, ..how() }).expect("yaml");
        assert_eq!(plain[0].account.as_ref().map(|a| db(a, "Sales").password), Ok(Some("X1Y2==".into())));
        let bad = read(ImportFormat::Slashdb, "eve:\n  dbdef: [delete]\n", &how()).expect("yaml");
        assert!(bad[0].account.as_ref().is_err_and(|e| e.contains("dbdef: unknown privilege 'delete'")));
        let typed = read(
            ImportFormat::Slashdb,
            "eve:\n  name: 0755\n  databases:\n    X: {dbuser: y, dbpass: no}\n",
            &SlashdbReading { plaintext_passwords: true, ..how() },
        )
        .expect("yaml");
        let eve = typed[0].account.as_ref().expect("eve");
        assert_eq!(
            (eve.full_name.as_str(), eve.databases[0].login.as_deref(), eve.databases[0].password.as_deref()),
            ("0755", Some("y"), Some("no"))
        );
        let e = read(ImportFormat::Slashdb, "eve:\n  view: {a: b}\n", &how()).expect_err("a map for a list");
        assert!(e.0.contains("line 2"), "{}", e.0);
        let weak = read(ImportFormat::Slashdb, "eve:\n  password: '$1$abc$def'\n", &how()).expect("yaml");
        assert!(weak[0].account.as_ref().is_err_and(|e| e.starts_with("password:")), "{:?}", weak[0].account);
    }

    #[test]
    fn a_users_cfg_of_many_accounts_is_read_whole() {
        // 25,000 accounts are some 300,000 YAML nodes: above the parser's default budget.
        let text: String = (0..25_000)
            .map(|i| format!("u{i}:\n  user_id: u{i}\n  name: U {i}\n  dbdef: [view]\n  edit: [admin]\n  databases:\n    Db: {{dbuser: x, dbpass: y}}\n"))
            .collect();
        let rows = read(ImportFormat::Slashdb, &text, &how()).expect("read whole");
        assert_eq!(rows.len(), 25_000);
        assert!(rows.iter().all(|r| r.account.is_ok()));
    }

    #[test]
    fn hostile_yaml_is_refused_as_a_whole() {
        let laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n\
                      c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n\
                      e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n";
        assert!(read(ImportFormat::Slashdb, laughs, &how()).is_err());
        assert!(read(ImportFormat::Slashdb, "a:\n  user_id: a\na:\n  user_id: a\n", &how()).is_err());
        assert!(read(ImportFormat::Slashdb, "- just\n- a list\n", &how()).is_err());
        assert_eq!(read(ImportFormat::Slashdb, "", &how()).map(|r| r.len()), Ok(0));
    }

    #[test]
    fn csv_rows_group_memberships_and_refuse_disagreement() {
        let text = "username,email,org,role,abilities,view\n\
                    ann,ann@x.io,Default,Operator,use-adminer view-users,bob\n\
                    ann,,Beta,Viewer,,\n\
                    bob,bob@x.io,,,,\n\
                    cy,cy@x.io,Default,Viewer,,\n\
                    cy,other@x.io,Beta,Viewer,,\n";
        let rows = read(ImportFormat::Csv, text, &how()).expect("csv");
        assert_eq!(rows.len(), 3);
        let ann = rows[0].account.as_ref().expect("ann");
        assert_eq!(ann.memberships.len(), 2);
        assert_eq!(ann.memberships[0].abilities, ["use-adminer", "view-users"]);
        assert_eq!(ann.view, ["bob"]);
        assert!(rows[1].account.as_ref().is_ok_and(|b| b.memberships.is_empty()));
        assert!(rows[2].account.as_ref().is_err_and(|e| e.contains("other account details")));
        assert!(read(ImportFormat::Csv, "user,email\nx,y\n", &how()).is_err());
        let bad = read(ImportFormat::Csv, "username,super_admin\nx,maybe\n", &how()).expect("csv");
        assert!(bad[0].account.as_ref().is_err_and(|e| e.contains("super_admin")));
    }

    #[test]
    fn jsonl_refuses_unknown_fields_and_repeats() {
        let text = "{\"username\":\"a\",\"email\":\"a@x.io\"}\n\n{\"username\":\"b\",\"rol\":\"x\"}\n{\"username\":\"A\"}\nnot json\n";
        let rows = read(ImportFormat::Jsonl, text, &how()).expect("jsonl");
        assert_eq!(rows.len(), 4);
        assert!(rows[0].account.is_ok());
        assert_eq!(rows[1].key, "b");
        assert!(rows[1].account.as_ref().is_err_and(|e| e.contains("unknown field `rol`")));
        assert!(rows[2].account.as_ref().is_err_and(|e| e.contains("appears twice")));
        assert_eq!(rows[3].key, "line 5");
    }

    #[test]
    fn written_files_read_back_the_same() {
        let a = ImportedAccount {
            username: "j.doe".into(),
            full_name: "Jane, \"JD\" Doe".into(),
            email: "jd@x.io".into(),
            status: UserStatus::Disabled,
            super_admin: false,
            password_hash: Some("$6$rounds=5000$salt$Y3wK/5IbUqJYOKMn0h8dl3yCsfxmjDv1ml8ecWaMDrtC4GvEHQqaX6ZSzqpUyvJf/xqx5zlZoNiKSG7ZMwcwB0".into()),
            memberships: vec![
                ImportedMembership { org: "Default".into(), role: "Operator".into(), abilities: vec!["use-adminer".into()] },
                ImportedMembership { org: "Beta".into(), role: "Viewer".into(), abilities: vec![] },
            ],
            view: vec!["bob".into()],
            edit: vec!["cy".into(), "dee".into()],
            ..Default::default()
        };
        let b = ImportedAccount { username: "bob".into(), ..Default::default() };
        let accounts = vec![a, b];
        let csv = write_csv(&accounts);
        let back: Vec<ImportedAccount> =
            read(ImportFormat::Csv, &csv, &how()).expect("csv").into_iter().map(|r| r.account.expect("row")).collect();
        assert_eq!(back, accounts);
        let jsonl = write_jsonl(&accounts);
        let back: Vec<ImportedAccount> = read(ImportFormat::Jsonl, &jsonl, &how())
            .expect("jsonl")
            .into_iter()
            .map(|r| r.account.expect("row"))
            .collect();
        assert_eq!(back, accounts);
        let yaml = write_slashdb(
            &[(accounts[0].clone(), vec![Ability::ViewDatabases, Ability::CreateQueries])],
            &["j.doe: its id has '.', outside SlashDB's rules".into()],
        );
        assert!(yaml.starts_with("# SlashDB users.cfg exported by Roster.\n# Accounts SlashDB cannot use"));
        let back = read(ImportFormat::Slashdb, &yaml, &how()).expect("yaml");
        let j = back[0].account.as_ref().expect("j.doe");
        assert_eq!(j.memberships[0].abilities, ["view-databases", "create-queries"]);
        assert_eq!(
            (j.email.as_str(), j.view.clone(), j.password_hash.clone()),
            ("jd@x.io", accounts[0].view.clone(), accounts[0].password_hash.clone())
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        // Whatever arrives, the readers answer rows or a file error: never a panic.
        #[test]
        fn readers_never_panic(text in "(?s).{0,400}") {
            for f in ImportFormat::ALL {
                let _ = read(f, &text, &how());
            }
            let _ = read_slashdb_databases(&text, false, None);
        }

        #[test]
        fn databases_cfg_shaped_input_never_panics(
            keys in proptest::collection::vec("[A-Za-z_@~.-]{0,8}", 0..4),
            types in proptest::collection::vec(prop_oneof![
                Just("sqlite"), Just("postgresql"), Just("mysql"), Just("mssql"), Just("oracle"), Just("''"),
            ], 0..4),
            connections in proptest::collection::vec(prop_oneof![
                "[ -~]{0,30}", Just("/a/b.db".to_string()), Just("h:1/d".to_string()), Just("x://u:p@[::1]:9/d?q".to_string()),
                Just("[::1".to_string()), Just("@/".to_string()), Just("C:\\x.db".to_string()),
            ], 0..4),
        ) {
            let mut text = String::new();
            for ((k, t), c) in keys.iter().zip(types.iter().cycle()).zip(connections.iter().cycle()) {
                text.push_str(&format!("{k}:\n  db_type: {t}\n  connection: '{}'\n  autoload_user: {{dbuser: u, dbpass: p}}\n", c.replace('\'', "''")));
            }
            if let Ok(rows) = read_slashdb_databases(&text, true, None) {
                for r in rows.iter().filter_map(|r| r.input.as_ref().ok()) {
                    let _ = crate::domain::databases::spec(r);
                }
            }
        }

        #[test]
        fn yaml_shaped_input_never_panics(
            keys in proptest::collection::vec("[a-z_@~.-]{0,8}", 0..4),
            vals in proptest::collection::vec(prop_oneof![
                Just("''".to_string()), Just("null".to_string()), Just("[view, create]".to_string()),
                Just("{dbuser: x, dbpass: y}".to_string()), Just("&a [*a]".to_string()), "[ -~]{0,20}",
            ], 0..6),
            fields in proptest::collection::vec(prop_oneof![
                Just("user_id"), Just("password"), Just("databases"), Just("dbdef"), Just("view"),
                Just("api_key"), Just("email"), Just("x"),
            ], 0..6),
        ) {
            let mut text = String::new();
            for k in &keys {
                text.push_str(&format!("{k}:\n"));
                for (f, v) in fields.iter().zip(vals.iter()) {
                    text.push_str(&format!("  {f}: {v}\n"));
                }
            }
            let _ = read(ImportFormat::Slashdb, &text, &how());
        }

        #[test]
        fn csv_shaped_input_never_panics(cells in proptest::collection::vec("[a-zA-Z0-9@.$/= ,\"-]{0,12}", 0..30)) {
            let mut text = CSV_COLUMNS.join(",");
            for chunk in cells.chunks(CSV_COLUMNS.len()) {
                text.push('\n');
                text.push_str(&chunk.join(","));
            }
            let _ = read(ImportFormat::Csv, &text, &how());
        }
    }
}
