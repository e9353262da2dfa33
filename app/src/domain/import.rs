//! Importing and exporting accounts: the formats, the options an import takes, the account
//! record every format is read into (and JSON Lines is written from), and the per-row report.
//! The file parsers live in `backend::import_files` (they need crates the browser does not).
use serde::{Deserialize, Serialize};

use super::users::UserStatus;

/// Imports larger than this are refused before parsing (a 1,000,000-account CSV with
/// argon2 hashes is about 150 MB; SlashDB's users.cfg is far smaller in practice).
pub const MAX_IMPORT_BYTES: usize = 256 * 1024 * 1024;
/// Files sent over HTTP (the API and the console): the body is held in memory.
pub const MAX_UPLOAD_BYTES: usize = 64 * 1024 * 1024;
/// Rows the UI shows of a report (the API and the CLI give all of them).
pub const REPORT_ROWS_SHOWN: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum ImportFormat {
    /// SlashDB's `users.cfg` (YAML keyed by user id).
    Slashdb,
    /// SlashDB's `databases.cfg` (YAML keyed by database id): database definitions only.
    #[serde(rename = "slashdb-databases")]
    SlashdbDatabases,
    /// One row per membership: `username,full_name,email,status,super_admin,password_hash,
    /// org,role,abilities,view,edit`.
    Csv,
    /// One JSON object per line, as [`ImportedAccount`].
    Jsonl,
}

impl ImportFormat {
    pub const ALL: [ImportFormat; 4] =
        [ImportFormat::Slashdb, ImportFormat::SlashdbDatabases, ImportFormat::Csv, ImportFormat::Jsonl];
    pub fn as_str(self) -> &'static str {
        match self {
            ImportFormat::Slashdb => "slashdb",
            ImportFormat::SlashdbDatabases => "slashdb-databases",
            ImportFormat::Csv => "csv",
            ImportFormat::Jsonl => "jsonl",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "slashdb" | "users.cfg" | "yaml" => Some(ImportFormat::Slashdb),
            "slashdb-databases" | "databases.cfg" => Some(ImportFormat::SlashdbDatabases),
            "csv" => Some(ImportFormat::Csv),
            "jsonl" | "ndjson" | "json-lines" => Some(ImportFormat::Jsonl),
            _ => None,
        }
    }
    /// The format a file's name suggests (`.cfg`/`.yaml`/`.yml`, `databases` in the name for
    /// SlashDB's databases.cfg, `.csv`, `.jsonl`/`.ndjson`).
    pub fn from_file_name(name: &str) -> Option<Self> {
        let lower = name.to_ascii_lowercase();
        let (stem, ext) = lower.rsplit_once('.')?;
        match ext {
            "cfg" | "yaml" | "yml" if stem.rsplit(['/', '\\']).next().is_some_and(|s| s.contains("databases")) => {
                Some(ImportFormat::SlashdbDatabases)
            }
            "cfg" | "yaml" | "yml" => Some(ImportFormat::Slashdb),
            "csv" => Some(ImportFormat::Csv),
            "jsonl" | "ndjson" => Some(ImportFormat::Jsonl),
            _ => None,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            ImportFormat::Slashdb => "SlashDB users.cfg",
            ImportFormat::SlashdbDatabases => "SlashDB databases.cfg",
            ImportFormat::Csv => "CSV",
            ImportFormat::Jsonl => "JSON Lines",
        }
    }
}

/// What to do with an account that exists already and differs from the file (one that is
/// already as the file says is reported unchanged, so running an import twice is harmless).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum OnExisting {
    /// Report the row as an error.
    #[default]
    Fail,
    Skip,
    Update,
}

/// How an import runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImportOptions {
    pub format: ImportFormat,
    /// Build the same report, write nothing.
    #[serde(default)]
    pub dry_run: bool,
    #[serde(default)]
    pub on_existing: OnExisting,
    /// SlashDB only: the file's `dbpass` values are plain text (after `slashdb-secret
    /// decrypt`). Otherwise they are SlashDB ciphertext: logins are imported, passwords not.
    #[serde(default)]
    pub plaintext_passwords: bool,
    /// SlashDB only: the organization the accounts join (default: the caller's current one).
    #[serde(default)]
    pub org: Option<String>,
}

impl ImportOptions {
    pub fn new(format: ImportFormat) -> Self {
        Self { format, dry_run: false, on_existing: OnExisting::Fail, plaintext_passwords: false, org: None }
    }

    /// The options as a form or a query string gives them, each as text (empty: the
    /// default): `format` (see [`ImportFormat::parse`]), `dry_run` true/false (a checkbox's
    /// "on" too), `on_existing` fail/skip/update, `passwords` encrypted/plaintext (or
    /// true/false for "plain text"), `org` a name.
    pub fn from_text(
        format: &str,
        dry_run: &str,
        on_existing: &str,
        passwords: &str,
        org: &str,
    ) -> Result<Self, super::Error> {
        use super::Error;
        let format = ImportFormat::parse(format)
            .ok_or_else(|| Error::invalid("format", "Choose the format: slashdb, slashdb-databases, csv or jsonl."))?;
        let flag = |field: &'static str, v: &str| match v.trim().to_ascii_lowercase().as_str() {
            "" | "false" | "0" | "off" => Ok(false),
            "true" | "1" | "on" => Ok(true),
            other => Err(Error::invalid(field, format!("'{other}' is not true or false."))),
        };
        let mut o = ImportOptions::new(format);
        o.dry_run = flag("dry_run", dry_run)?;
        o.on_existing = match on_existing.trim().to_ascii_lowercase().as_str() {
            "" | "fail" => OnExisting::Fail,
            "skip" => OnExisting::Skip,
            "update" => OnExisting::Update,
            other => return Err(Error::invalid("on_existing", format!("'{other}': choose fail, skip or update."))),
        };
        o.plaintext_passwords = match passwords.trim().to_ascii_lowercase().as_str() {
            "encrypted" => false,
            "plaintext" => true,
            other => flag("passwords", other)
                .map_err(|_| Error::invalid("passwords", format!("'{other}': choose encrypted or plaintext.")))?,
        };
        o.org = Some(org.trim().to_string()).filter(|s| !s.is_empty());
        Ok(o)
    }
}

/// One account as every format is read into, and as JSON Lines writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImportedAccount {
    pub username: String,
    #[serde(default)]
    pub full_name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub status: UserStatus,
    #[serde(default)]
    pub super_admin: bool,
    /// A hash made by Roster or another system (see `NewUser::password_hash`); none: no
    /// usable password for a new account, the current one kept for an existing account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    #[serde(default)]
    pub memberships: Vec<ImportedMembership>,
    /// Accounts that may view this one (SlashDB's `view` list).
    #[serde(default)]
    pub view: Vec<String>,
    /// Accounts that may change or delete this one (SlashDB's `edit` list).
    #[serde(default)]
    pub edit: Vec<String>,
    #[serde(default)]
    pub databases: Vec<ImportedMapping>,
    /// SlashDB's `app_id:key`, kept only as a hash (an API key named after the app id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    /// Who created the account in the system it comes from (kept in the audit trail).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImportedMembership {
    pub org: String,
    pub role: String,
    /// Extra abilities on top of the role.
    #[serde(default)]
    pub abilities: Vec<String>,
}

/// A database login of the account: its own `login` (and `password`, never exported), a
/// shared `credential` by name, or neither (databases without logins).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImportedMapping {
    /// The database's organization (default: the account's first membership's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    pub db_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum Outcome {
    // (numbered: the summary counts by them)
    Created = 0,
    Updated = 1,
    Unchanged = 2,
    Skipped = 3,
    Error = 4,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::Updated => "updated",
            Outcome::Unchanged => "unchanged",
            Outcome::Skipped => "skipped",
            Outcome::Error => "error",
        }
    }
}

/// What a report row is about: an account (users.cfg, CSV, JSON Lines) or a database
/// definition (SlashDB's databases.cfg).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum RowKind {
    #[default]
    Account,
    Database,
}

/// What became of one account (or database definition) of the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReportRow {
    #[serde(default)]
    pub kind: RowKind,
    /// Where the account starts in the file (1-based line; 0 when unknown).
    pub line: u64,
    /// The account's name in the file (its key in users.cfg).
    pub key: String,
    pub outcome: Outcome,
    /// The reason for an error or a skip, or what changed.
    pub message: String,
    /// Things to know that did not stop the row (a mapping left out, a key to rotate).
    #[serde(default)]
    pub notes: Vec<String>,
}

/// How many rows ended each way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Tally {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub skipped: u64,
    pub errors: u64,
}

impl Tally {
    fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Created => self.created += 1,
            Outcome::Updated => self.updated += 1,
            Outcome::Unchanged => self.unchanged += 1,
            Outcome::Skipped => self.skipped += 1,
            Outcome::Error => self.errors += 1,
        }
    }

    /// "2 created, 1 error" (empty when there is nothing).
    fn words(&self) -> String {
        let n = [self.created, self.updated, self.unchanged, self.skipped, self.errors];
        let words = ["created", "updated", "unchanged", "skipped", if self.errors == 1 { "error" } else { "errors" }];
        n.iter().zip(words).filter(|(n, _)| **n > 0).map(|(n, w)| format!("{n} {w}")).collect::<Vec<_>>().join(", ")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImportReport {
    /// Nothing was written.
    pub dry_run: bool,
    /// The counts of every row (accounts and databases).
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub skipped: u64,
    pub errors: u64,
    /// The database definitions among them (SlashDB's databases.cfg).
    #[serde(default)]
    pub databases: Tally,
    /// Rows not in `rows` (a report shortened to travel to the next page; the counts above
    /// include them). Zero in the API's and the CLI's reports.
    #[serde(default)]
    pub rows_left_out: u64,
    pub rows: Vec<ReportRow>,
}

impl ImportReport {
    pub fn push(&mut self, row: ReportRow) {
        let mut all = self.all();
        all.add(row.outcome);
        (self.created, self.updated, self.unchanged, self.skipped, self.errors) =
            (all.created, all.updated, all.unchanged, all.skipped, all.errors);
        if row.kind == RowKind::Database {
            self.databases.add(row.outcome);
        }
        self.rows.push(row);
    }

    fn all(&self) -> Tally {
        Tally {
            created: self.created,
            updated: self.updated,
            unchanged: self.unchanged,
            skipped: self.skipped,
            errors: self.errors,
        }
    }

    /// The accounts' counts (every row's, less the databases').
    fn accounts(&self) -> Tally {
        let (all, d) = (self.all(), self.databases);
        Tally {
            created: all.created.saturating_sub(d.created),
            updated: all.updated.saturating_sub(d.updated),
            unchanged: all.unchanged.saturating_sub(d.unchanged),
            skipped: all.skipped.saturating_sub(d.skipped),
            errors: all.errors.saturating_sub(d.errors),
        }
    }

    /// Every row, the ones in `rows` and the ones left out.
    pub fn total_rows(&self) -> u64 {
        self.rows.len() as u64 + self.rows_left_out
    }

    /// One line for people: "2 created, 1 error (dry run: nothing written)"; with database
    /// definitions in the report, "databases: 1 created; accounts: 2 created, 1 error".
    pub fn summary(&self) -> String {
        let (accounts, databases) = (self.accounts().words(), self.databases.words());
        let body = match (accounts.is_empty(), databases.is_empty()) {
            (true, true) => "nothing in the file".to_string(),
            (false, true) => accounts,
            (true, false) => format!("databases: {databases}"),
            (false, false) => format!("databases: {databases}; accounts: {accounts}"),
        };
        if self.dry_run {
            format!("{body} (dry run: nothing written)")
        } else {
            body
        }
    }

    /// The report with as many rows as fit in `budget` bytes of JSON (for a page that gets it
    /// through a cookie): errors first, then created and updated rows, then the rest, each
    /// kept in file order; the counts stay whole.
    pub fn shortened(mut self, budget: usize) -> ImportReport {
        let size = |r: &ImportReport| serde_json::to_vec(r).map(|v| v.len()).unwrap_or(usize::MAX);
        if size(&self) <= budget {
            return self;
        }
        let rows = std::mem::take(&mut self.rows);
        let total = rows.len() as u64 + self.rows_left_out;
        let rank = |o: Outcome| match o {
            Outcome::Error => 0,
            Outcome::Created | Outcome::Updated => 1,
            Outcome::Skipped => 2,
            Outcome::Unchanged => 3,
        };
        let mut order: Vec<usize> = (0..rows.len()).collect();
        order.sort_by_key(|&i| (rank(rows[i].outcome), i));
        // (the report without rows, with room for the count of those left out)
        self.rows_left_out = total;
        let mut used = size(&self) + 2;
        let mut kept = Vec::new();
        for i in order {
            let row = serde_json::to_vec(&rows[i]).map(|v| v.len() + 1).unwrap_or(usize::MAX);
            if used.saturating_add(row) > budget {
                break;
            }
            used += row;
            kept.push(i);
        }
        kept.sort_unstable();
        self.rows_left_out = total - kept.len() as u64;
        let mut rows: Vec<Option<ReportRow>> = rows.into_iter().map(Some).collect();
        self.rows = kept.into_iter().filter_map(|i| rows[i].take()).collect();
        self
    }
}

/// Export formats (the SlashDB one is users.cfg).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum ExportFormat {
    Slashdb,
    /// SlashDB's databases.cfg: the organization's database definitions.
    #[serde(rename = "slashdb-databases")]
    SlashdbDatabases,
    Csv,
    Jsonl,
}

impl ExportFormat {
    pub fn parse(s: &str) -> Option<Self> {
        ImportFormat::parse(s).map(|f| match f {
            ImportFormat::Slashdb => ExportFormat::Slashdb,
            ImportFormat::SlashdbDatabases => ExportFormat::SlashdbDatabases,
            ImportFormat::Csv => ExportFormat::Csv,
            ImportFormat::Jsonl => ExportFormat::Jsonl,
        })
    }
    /// The wire name (`format=`).
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Slashdb => "slashdb",
            ExportFormat::SlashdbDatabases => "slashdb-databases",
            ExportFormat::Csv => "csv",
            ExportFormat::Jsonl => "jsonl",
        }
    }
    pub fn file_name(self) -> &'static str {
        match self {
            ExportFormat::Slashdb => "users.cfg",
            ExportFormat::SlashdbDatabases => "databases.cfg",
            ExportFormat::Csv => "users.csv",
            ExportFormat::Jsonl => "users.jsonl",
        }
    }
    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Slashdb | ExportFormat::SlashdbDatabases => "application/yaml; charset=utf-8",
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Jsonl => "application/jsonl; charset=utf-8",
        }
    }
}

/// SlashDB's privilege lists (`dbdef`, `querydef`, `userdef`; each `[view]` or
/// `[view, create]`) as Roster abilities, and back.
pub fn slashdb_privilege(list: &str, word: &str) -> Option<super::abilities::Ability> {
    use super::abilities::Ability::*;
    Some(match (list, word) {
        ("dbdef", "view") => ViewDatabases,
        ("dbdef", "create") => CreateDatabases,
        ("querydef", "view") => ViewQueries,
        ("querydef", "create") => CreateQueries,
        ("userdef", "view") => ViewUsers,
        ("userdef", "create") => CreateUsers,
        _ => return None,
    })
}

pub const SLASHDB_LISTS: [&str; 3] = ["dbdef", "querydef", "userdef"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_names_each_count_and_the_dry_run() {
        let mut r = ImportReport { dry_run: true, ..Default::default() };
        assert_eq!(r.summary(), "nothing in the file (dry run: nothing written)");
        for outcome in [Outcome::Created, Outcome::Created, Outcome::Error] {
            r.push(ReportRow {
                kind: RowKind::Account,
                line: 1,
                key: "a".into(),
                outcome,
                message: String::new(),
                notes: vec![],
            });
        }
        assert_eq!(r.summary(), "2 created, 1 error (dry run: nothing written)");
        r.push(ReportRow {
            kind: RowKind::Database,
            line: 1,
            key: "db".into(),
            outcome: Outcome::Unchanged,
            message: String::new(),
            notes: vec![],
        });
        assert_eq!(r.summary(), "databases: 1 unchanged; accounts: 2 created, 1 error (dry run: nothing written)");
        r.dry_run = false;
        let mut databases = ImportReport::default();
        for row in r.rows.iter().filter(|r| r.kind == RowKind::Database) {
            databases.push(row.clone());
        }
        assert_eq!(databases.summary(), "databases: 1 unchanged");
    }

    #[test]
    fn a_shortened_report_keeps_its_counts_and_its_errors_first() {
        let mut r = ImportReport::default();
        for i in 0..200u64 {
            let outcome = match i % 50 {
                7 => Outcome::Error,
                8 => Outcome::Created,
                _ => Outcome::Unchanged,
            };
            r.push(ReportRow {
                kind: RowKind::Account,
                line: i + 1,
                key: format!("user{i:03}"),
                outcome,
                message: if outcome == Outcome::Error { "x".repeat(100) } else { String::new() },
                notes: vec![],
            });
        }
        let whole = r.clone().shortened(usize::MAX);
        assert_eq!(whole, r, "a report that fits is left as it is");
        let short = r.clone().shortened(2_000);
        assert!(serde_json::to_vec(&short).expect("json").len() <= 2_000);
        assert_eq!(short.summary(), r.summary());
        assert_eq!(short.total_rows(), 200);
        let kept: Vec<(u64, Outcome)> = short.rows.iter().map(|r| (r.line, r.outcome)).collect();
        // the 4 errors and the 4 created rows, then unchanged ones as room allows, in file order
        assert!(kept.len() >= 8 && kept.len() < 200, "{kept:?}");
        assert_eq!(kept.iter().filter(|(_, o)| *o == Outcome::Error).count(), 4);
        assert_eq!(kept.iter().filter(|(_, o)| *o == Outcome::Created).count(), 4);
        assert!(kept.windows(2).all(|w| w[0].0 < w[1].0), "{kept:?}");
        assert_eq!(short.rows_left_out, 200 - kept.len() as u64);
        let tiny = r.shortened(10);
        assert_eq!((tiny.rows.len(), tiny.rows_left_out), (0, 200));
    }

    #[test]
    fn options_from_text_share_one_reading() {
        let o = ImportOptions::from_text(" CSV ", "on", "update", "", " Acme ").expect("options");
        assert_eq!(
            (o.format, o.dry_run, o.on_existing, o.plaintext_passwords),
            (ImportFormat::Csv, true, OnExisting::Update, false)
        );
        assert_eq!(o.org.as_deref(), Some("Acme"));
        let o = ImportOptions::from_text("slashdb-databases", "false", "", "plaintext", "").expect("options");
        assert_eq!(
            (o.format, o.dry_run, o.on_existing, o.plaintext_passwords, o.org),
            (ImportFormat::SlashdbDatabases, false, OnExisting::Fail, true, None)
        );
        assert!(ImportOptions::from_text("slashdb", "", "", "on", "").expect("a checkbox").plaintext_passwords);
        for (args, field) in [
            (["xml", "", "", "", ""], "format"),
            (["csv", "maybe", "", "", ""], "dry_run"),
            (["csv", "", "merge", "", ""], "on_existing"),
            (["csv", "", "", "clear", ""], "passwords"),
        ] {
            let e = ImportOptions::from_text(args[0], args[1], args[2], args[3], args[4]).expect_err("refused");
            assert!(matches!(&e, crate::domain::Error::Invalid { errors } if errors[0].field == field), "{e:?}");
        }
    }

    #[test]
    fn formats_from_names() {
        assert_eq!(ImportFormat::from_file_name("/etc/slashdb/users.cfg"), Some(ImportFormat::Slashdb));
        assert_eq!(ImportFormat::from_file_name("/etc/slashdb/databases.cfg"), Some(ImportFormat::SlashdbDatabases));
        assert_eq!(ImportFormat::from_file_name("/srv/databases-backup/users.cfg"), Some(ImportFormat::Slashdb));
        assert_eq!(ImportFormat::from_file_name("People.CSV"), Some(ImportFormat::Csv));
        assert_eq!(ImportFormat::from_file_name("x.ndjson"), Some(ImportFormat::Jsonl));
        assert_eq!(ImportFormat::from_file_name("noext"), None);
        assert_eq!(ImportFormat::parse("JSONL"), Some(ImportFormat::Jsonl));
    }

    #[test]
    fn slashdb_privileges_cover_both_words_of_each_list() {
        for list in SLASHDB_LISTS {
            assert!(slashdb_privilege(list, "view").is_some());
            assert!(slashdb_privilege(list, "create").is_some());
            assert!(slashdb_privilege(list, "delete").is_none());
        }
    }
}
