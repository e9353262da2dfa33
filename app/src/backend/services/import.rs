//! Importing accounts (SlashDB users.cfg, CSV, JSON Lines) and SlashDB's database
//! definitions (databases.cfg); exporting is `services::export`.
//!
//! An import runs in one transaction under the access writer. Each row is checked whole
//! before anything of it is written: a row that cannot be imported is reported with the
//! reason and writes nothing, the others are written, and a dry run builds the same report
//! and rolls back. An account already as the file says is "unchanged", so running an import
//! twice is harmless. Imports add: memberships, mappings and list entries the file does not
//! name are left alone. Rows are read and written in batches (`Batch`): one look-up of a
//! batch's accounts, then its new accounts, memberships and audit events in a few multi-row
//! statements, so a large file costs a few statements per batch rather than per account.
use std::collections::{HashMap, HashSet};

use serde_json::json;

use super::{audit, commit_access, sudo_credentials, user_snapshot};
use crate::backend::context::Ctx;
use crate::backend::import_files::{self, SlashdbReading};
use crate::backend::legacy_hash;
use crate::backend::sessions::hash_token;
use crate::backend::state::Backend;
use crate::backend::store::{
    AuditRecord, Change, DatabaseRecord, MappingRecord, NewMembership, NewTokenRecord, Tx, UserInsert, UserRecord,
};
use crate::domain::abilities::{Ability, AbilitySet};
use crate::domain::database_access::credential_key;
use crate::domain::databases::{self, db_id_key};
use crate::domain::ids::{OrgId, RoleId, UserId};
use crate::domain::import::{
    ImportFormat, ImportOptions, ImportReport, ImportedAccount, OnExisting, Outcome, ReportRow, RowKind,
    MAX_IMPORT_BYTES,
};
use crate::domain::policy;
use crate::domain::tokens::TokenKind;
use crate::domain::users::{AccountLevel, UserStatus};
use crate::domain::validate;
use crate::domain::Error;

/// Names resolved once per import.
#[derive(Default)]
struct Lookups {
    orgs: HashMap<String, Option<(OrgId, String)>>,
    roles: HashMap<String, Option<(RoleId, String)>>,
    databases: HashMap<(OrgId, String), Option<DatabaseRecord>>,
    emails: HashMap<String, String>,
    api_keys: HashSet<Vec<u8>>,
}

impl Lookups {
    async fn org(&mut self, w: &mut Writer, name: &str) -> Result<Option<(OrgId, String)>, Error> {
        let key = name.trim().to_lowercase();
        if !self.orgs.contains_key(&key) {
            let found = w.tx().await?.org_by_name(&key).await?.map(|o| (o.id, o.name));
            self.orgs.insert(key.clone(), found);
        }
        Ok(self.orgs.get(&key).cloned().flatten())
    }
    async fn role(&mut self, w: &mut Writer, name: &str) -> Result<Option<(RoleId, String)>, Error> {
        let key = name.trim().to_lowercase();
        if !self.roles.contains_key(&key) {
            let found = w.tx().await?.role_by_name(&key).await?.map(|r| (r.id, r.name));
            self.roles.insert(key.clone(), found);
        }
        Ok(self.roles.get(&key).cloned().flatten())
    }
    async fn database(&mut self, w: &mut Writer, org: OrgId, db_id: &str) -> Result<Option<DatabaseRecord>, Error> {
        let key = (org, db_id_key(db_id.trim()));
        if !self.databases.contains_key(&key) {
            let found = w.tx().await?.database(org, &key.1).await?;
            self.databases.insert(key.clone(), found);
        }
        Ok(self.databases.get(&key).cloned().flatten())
    }
}

/// One membership of a row, resolved.
struct Place {
    org: OrgId,
    org_name: String,
    role: RoleId,
    extras: AbilitySet,
}

/// One mapping of a row, resolved (the password still in the clear).
struct Login {
    db: DatabaseRecord,
    login: Option<String>,
    password: Option<String>,
    credential: Option<(i64, String)>,
}

/// A row checked whole, ready to be compared and written.
struct Checked {
    full_name: String,
    email: String,
    places: Vec<Place>,
    logins: Vec<Login>,
    api_key: Option<(String, Vec<u8>)>,
}

/// Why a row is not written: its own problem (reported) or the store's (the import stops).
enum RowError {
    Row(String),
    Fatal(Error),
}

impl From<Error> for RowError {
    fn from(e: Error) -> Self {
        RowError::Fatal(e)
    }
}

impl From<crate::backend::store::StoreError> for RowError {
    fn from(e: crate::backend::store::StoreError) -> Self {
        RowError::Fatal(e.into())
    }
}

fn row_err<T>(m: impl Into<String>) -> Result<T, RowError> {
    Err(RowError::Row(m.into()))
}

/// Rows looked up and written together: their accounts are read in one statement, and new
/// accounts, their memberships and the audit events go out in a few multi-row statements.
const IMPORT_BATCH: usize = 500;

/// A new account waiting for its batch to be written.
struct NewAccount {
    user: UserInsert,
    places: Vec<Place>,
    audit: AuditRecord,
    /// Its entry in the lists pass, which needs its id.
    list: Option<usize>,
}

/// A new account's memberships, as `add_memberships` writes them.
fn memberships_of(user: UserId, places: &[Place]) -> Vec<NewMembership> {
    places.iter().map(|p| NewMembership { org: p.org, user, role: p.role, extras: p.extras }).collect()
}

/// The batch's look-ups and pending writes.
#[derive(Default)]
struct Batch {
    /// Accounts of this batch's rows by username key and by email key, as the transaction
    /// has them (kept up to date as rows change them).
    by_username: HashMap<String, UserRecord>,
    by_email: HashMap<String, UserRecord>,
    new: Vec<NewAccount>,
    audits: Vec<AuditRecord>,
}

impl Batch {
    /// Reads the accounts the rows name (by username) or whose emails they give.
    async fn load(&mut self, tx: &mut Box<dyn Tx>, rows: &[import_files::Row]) -> Result<(), Error> {
        let mut keys = Vec::with_capacity(rows.len() * 2);
        for a in rows.iter().filter_map(|r| r.account.as_ref().ok()) {
            keys.push(validate::username_key(&a.username));
            if let Ok(email) = validate::optional_email(&a.email) {
                if !email.is_empty() {
                    keys.push(validate::email_key(&email));
                }
            }
        }
        self.by_username.clear();
        self.by_email.clear();
        for u in tx.users_by_keys(&keys).await? {
            self.by_email.insert(validate::stored_email_key(&u.email, &u.username), u.clone());
            self.by_username.insert(validate::username_key(&u.username), u);
        }
        Ok(())
    }

    /// The account that signs in with `key` (a username wins over another's email), as
    /// `user_by_login` answers.
    fn holder(&self, key: &str) -> Option<&UserRecord> {
        self.by_username.get(key).or_else(|| self.by_email.get(key))
    }

    /// An account as a row left it (`before` as it was), for the rows after it.
    fn changed(&mut self, before: &UserRecord, u: UserRecord) {
        self.by_email.remove(&validate::stored_email_key(&before.email, &before.username));
        self.by_email.insert(validate::stored_email_key(&u.email, &u.username), u.clone());
        self.by_username.insert(validate::username_key(&u.username), u);
    }

    /// What is left to write of the batch's rows.
    fn take_writes(&mut self) -> Writes {
        Writes { new: std::mem::take(&mut self.new), audits: std::mem::take(&mut self.audits) }
    }
}

/// A batch's new accounts, their memberships and the audit events of its rows.
struct Writes {
    new: Vec<NewAccount>,
    audits: Vec<AuditRecord>,
}

impl Writes {
    /// Writes them; answers the new accounts' ids by their entry in the lists pass.
    async fn write(self, tx: &mut Box<dyn Tx>, now: i64) -> Result<Vec<(usize, UserId)>, Error> {
        let mut audits = self.audits;
        let mut listed = Vec::new();
        if !self.new.is_empty() {
            let (users, rest): (Vec<UserInsert>, Vec<_>) =
                self.new.into_iter().map(|n| (n.user, (n.places, n.audit, n.list))).unzip();
            let ids = tx.insert_users(&users).await?;
            let mut members = Vec::new();
            for ((places, audit, list), id) in rest.into_iter().zip(ids) {
                members.extend(memberships_of(id, &places));
                if let Some(i) = list {
                    listed.push((i, id));
                }
                audits.push(audit);
            }
            tx.add_memberships(&members, now).await?;
        }
        if !audits.is_empty() {
            tx.insert_audits(&audits).await?;
        }
        Ok(listed)
    }
}

type Written = (Box<dyn Tx>, Result<Vec<(usize, UserId)>, Error>);

/// The import's transaction. A batch's writes go out on a task of their own while the next
/// batch's rows are checked, which mostly needs no statement (names are resolved once,
/// accounts read per batch): the two overlap (measured in docs/benchmarks.md). Whatever needs
/// the transaction (`tx`) first waits for the writes under way, so statements still run one
/// after the other, in the order the import issues them.
struct Writer {
    tx: Option<Box<dyn Tx>>,
    writing: Option<tokio::task::JoinHandle<Written>>,
    /// New accounts' ids by their entry in the lists pass, as their batches are written.
    ids: Vec<(usize, UserId)>,
}

impl Writer {
    fn new(tx: Box<dyn Tx>) -> Self {
        Writer { tx: Some(tx), writing: None, ids: Vec::new() }
    }

    /// The transaction, once the writes under way are done.
    async fn tx(&mut self) -> Result<&mut Box<dyn Tx>, Error> {
        if let Some(writing) = self.writing.take() {
            let (tx, written) = writing.await.map_err(crate::backend::error::internal)?;
            self.tx = Some(tx);
            self.ids.extend(written?);
        }
        self.tx.as_mut().ok_or_else(lost)
    }

    /// Hands the transaction to a task that writes `writes` (after the writes under way).
    async fn write(&mut self, writes: Writes, now: i64) -> Result<(), Error> {
        if writes.new.is_empty() && writes.audits.is_empty() {
            return Ok(());
        }
        self.tx().await?;
        let mut tx = self.tx.take().ok_or_else(lost)?;
        self.writing = Some(tokio::spawn(async move {
            let written = writes.write(&mut tx, now).await;
            (tx, written)
        }));
        Ok(())
    }

    /// The transaction back with every write done: to commit, or to drop (a rollback) before
    /// the access writer is let go.
    async fn finish(mut self) -> Result<Box<dyn Tx>, Error> {
        self.tx().await?;
        self.tx.take().ok_or_else(lost)
    }
}

/// (only after a write task panicked: its transaction went with it, rolled back)
fn lost() -> Error {
    crate::backend::error::internal("the import's transaction was lost with a failed write")
}

/// Imports `text` as `opts.format` says. With a SlashDB users.cfg, `databases` may carry
/// SlashDB's databases.cfg: its definitions are imported first, in the same transaction, so
/// the accounts' database logins find them.
pub async fn import(
    b: &Backend,
    ctx: &Ctx,
    opts: ImportOptions,
    text: &str,
    databases: Option<&str>,
) -> Result<ImportReport, Error> {
    policy::can_import_accounts(ctx.actor()?).map_err(Error::Forbidden)?;
    sudo_credentials(b, ctx)?;
    let databases = databases.filter(|d| !d.trim().is_empty());
    if databases.is_some() && opts.format != ImportFormat::Slashdb {
        return Err(Error::invalid("databases", "A databases.cfg comes with a SlashDB users.cfg."));
    }
    for (field, t) in [("file", Some(text)), ("databases", databases)] {
        if t.is_some_and(|t| t.len() > MAX_IMPORT_BYTES) {
            return Err(Error::invalid(
                field,
                format!("The file is larger than {} MB.", MAX_IMPORT_BYTES / (1024 * 1024)),
            ));
        }
    }
    if text.trim().is_empty() {
        return Err(Error::invalid("text", "The file is empty: choose a file or paste its contents."));
    }
    let (text, databases) = match opts.format {
        ImportFormat::SlashdbDatabases => ("", Some(text)),
        _ => (text, databases),
    };
    let database_rows = match databases {
        Some(t) => import_files::read_slashdb_databases(
            t,
            opts.plaintext_passwords,
            b.config.database_probes.sqlite_dir.as_deref(),
        )
        .map_err(|e| Error::invalid(if text.is_empty() { "file" } else { "databases" }, e.0))?,
        None => Vec::new(),
    };
    let _w = b.access.writer().await;
    let mut w = Writer::new(b.store.begin().await?);
    let (report, home) = match import_rows(b, ctx, &opts, &mut w, text, database_rows).await {
        Ok(r) => r,
        Err(e) => {
            // (the writes under way end before the transaction is dropped and the lock let go)
            let _ = w.finish().await;
            return Err(e);
        }
    };
    let mut tx = w.finish().await?;
    if opts.dry_run {
        // (dropping the transaction rolls it back)
        return Ok(report);
    }
    let mut ev = audit(b, ctx, "accounts.imported", true);
    ev.org_id = Some(home);
    ev.after = Some(json!({
        "format": opts.format.as_str(), "on_existing": format!("{:?}", opts.on_existing).to_lowercase(),
        "created": report.created, "updated": report.updated, "unchanged": report.unchanged,
        "skipped": report.skipped, "errors": report.errors,
    }));
    tx.insert_audit(&ev).await?;
    commit_access(b, tx, Change::All).await?;
    Ok(report)
}

/// The rows of an import, in batches (`Writer`); answers the report and the import's
/// organization.
async fn import_rows(
    b: &Backend,
    ctx: &Ctx,
    opts: &ImportOptions,
    w: &mut Writer,
    text: &str,
    database_rows: Vec<import_files::DatabaseRow>,
) -> Result<(ImportReport, OrgId), Error> {
    let mut look = Lookups::default();
    let home = match opts.org.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(name) => look
            .org(w, name)
            .await?
            .ok_or_else(|| Error::invalid("org", format!("There is no organization named '{name}'.")))?,
        None => {
            let o = w.tx().await?.org(ctx.org()).await?.ok_or_else(|| Error::not_found("Organization"))?;
            (o.id, o.name)
        }
    };
    let reading = SlashdbReading { org: home.1.clone(), plaintext_passwords: opts.plaintext_passwords };
    let rows = import_files::read(opts.format, text, &reading).map_err(|e| Error::invalid("file", e.0))?;
    let mut report = ImportReport { dry_run: opts.dry_run, ..Default::default() };
    for row in database_rows {
        import_database(b, ctx, w.tx().await?, opts, home.0, row, &mut report).await?;
    }
    // (row index in the report, account id, the row, whether it existed before)
    let mut lists: Vec<(usize, UserId, ImportedAccount, bool)> = Vec::new();
    let mut batch = Batch::default();
    let mut rows = rows.into_iter();
    let mut chunk: Vec<import_files::Row> = rows.by_ref().take(IMPORT_BATCH).collect();
    batch.load(w.tx().await?, &chunk).await?;
    while !chunk.is_empty() {
        for row in chunk {
            let mut notes = row.notes;
            let account = match row.account {
                Ok(a) => a,
                Err(e) => {
                    report.push(ReportRow {
                        kind: RowKind::Account,
                        line: row.line,
                        key: row.key,
                        outcome: Outcome::Error,
                        message: e,
                        notes,
                    });
                    continue;
                }
            };
            // (the reader refuses a second row for the same account, so no row of a batch
            // names an account another row of it is creating)
            match import_row(b, ctx, w, opts, &mut look, &mut batch, home.0, &account, &mut notes).await {
                Ok((outcome, message, id, existed)) => {
                    if matches!(outcome, Outcome::Created | Outcome::Updated | Outcome::Unchanged) {
                        if id.is_none() {
                            if let Some(new) = batch.new.last_mut() {
                                new.list = Some(lists.len());
                            }
                        }
                        lists.push((report.rows.len(), id.unwrap_or(UserId(0)), account, existed));
                    }
                    report.push(ReportRow {
                        kind: RowKind::Account,
                        line: row.line,
                        key: row.key,
                        outcome,
                        message,
                        notes,
                    });
                }
                Err(RowError::Row(message)) => report.push(ReportRow {
                    kind: RowKind::Account,
                    line: row.line,
                    key: row.key,
                    outcome: Outcome::Error,
                    message,
                    notes,
                }),
                Err(RowError::Fatal(e)) => return Err(e),
            }
        }
        let writes = batch.take_writes();
        chunk = rows.by_ref().take(IMPORT_BATCH).collect();
        // The next batch's accounts are read before this one's are written, so its rows are
        // checked while these are written. Nothing it reads is written here: no row of it names
        // an account this batch creates (the reader refuses a second row for one account), and
        // an email given to an account created here is caught by `look.emails` (a username
        // holding it would not be an error: a username wins over another's email).
        if !chunk.is_empty() {
            batch.load(w.tx().await?, &chunk).await?;
        }
        w.write(writes, b.now()).await?;
    }
    // View and edit lists last: they may name accounts further down the file.
    w.tx().await?;
    for (i, id) in std::mem::take(&mut w.ids) {
        if let Some(entry) = lists.get_mut(i) {
            entry.1 = id;
        }
    }
    apply_all_lists(b, ctx, w.tx().await?, opts, &mut report, lists).await?;
    Ok((report, home.0))
}

/// Checks a row whole (nothing written yet): names resolved, fields valid, email and API key
/// not someone else's.
#[allow(clippy::too_many_arguments)]
async fn check_row(
    b: &Backend,
    w: &mut Writer,
    look: &mut Lookups,
    batch: &Batch,
    home: OrgId,
    a: &ImportedAccount,
    existing: Option<&UserRecord>,
    notes: &mut Vec<String>,
) -> Result<Checked, RowError> {
    let public = existing.is_some_and(|u| u.public);
    let full_name =
        validate::full_name(&a.full_name).map_err(|e| RowError::Row(format!("full_name: {}", e.message)))?;
    let email = validate::optional_email(&a.email).map_err(|e| RowError::Row(format!("email: {}", e.message)))?;
    if !public && !email.is_empty() {
        let key = validate::email_key(&email);
        if let Some(other) = look.emails.get(&key) {
            if validate::username_key(other) != validate::username_key(&a.username) {
                return row_err(format!("email: {email} is also given to '{other}' in the file."));
            }
        }
        if let Some(holder) = batch.holder(&key) {
            if existing.is_none_or(|e| e.id != holder.id) && validate::username_key(&holder.username) != key {
                return row_err(format!("email: {email} belongs to the account '{}'.", holder.username));
            }
        }
    }
    let mut places = Vec::new();
    for m in &a.memberships {
        let Some((org, org_name)) = look.org(w, &m.org).await? else {
            return row_err(format!("There is no organization named '{}'.", m.org));
        };
        if places.iter().any(|p: &Place| p.org == org) {
            return row_err(format!("The organization '{org_name}' is named twice."));
        }
        let Some((role, _)) = look.role(w, &m.role).await? else {
            return row_err(format!("There is no role named '{}'.", m.role));
        };
        let mut extras = AbilitySet::EMPTY;
        for code in &m.abilities {
            let ability =
                Ability::parse(code.trim()).ok_or_else(|| RowError::Row(format!("Unknown ability '{code}'.")))?;
            extras.insert(ability);
        }
        places.push(Place { org, org_name, role, extras });
    }
    let mut logins = Vec::new();
    for m in &a.databases {
        let org = match m.org.as_deref() {
            Some(name) => match look.org(w, name).await? {
                Some((o, _)) => o,
                None => return row_err(format!("Database '{}': there is no organization named '{name}'.", m.db_id)),
            },
            None => places.first().map_or(home, |p| p.org),
        };
        let Some(db) = look.database(w, org, &m.db_id).await? else {
            notes.push(format!(
                "Database '{}' is not defined in Roster: that mapping is left out (add the database, then import again with --update-existing).",
                m.db_id
            ));
            continue;
        };
        let login = databases::login("login", m.login.as_deref().unwrap_or_default())
            .map_err(|e| RowError::Row(format!("Database '{}': {}", m.db_id, e.message)))?;
        let password = databases::password("password", m.password.as_deref().unwrap_or_default())
            .map_err(|e| RowError::Row(format!("Database '{}': {}", m.db_id, e.message)))?;
        let credential = match m.credential.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            Some(name) => match w.tx().await?.credential(db.id, &credential_key(name)).await? {
                Some(c) => Some((c.id, c.spec.name)),
                None => {
                    notes.push(format!(
                        "Database '{}' has no credential named '{name}': that mapping is left out.",
                        m.db_id
                    ));
                    continue;
                }
            },
            None => None,
        };
        if credential.is_some() && login.is_some() {
            return row_err(format!("Database '{}': give a login or a shared credential, not both.", m.db_id));
        }
        if login.is_some() && password.is_none() && m.password.is_none() {
            notes.push(format!("Database '{}': the login needs a password, set it on the account page.", m.db_id));
        }
        logins.push(Login { db, login, password, credential });
    }
    let api_key = match &a.api_key {
        Some(k) => {
            if !crate::backend::tokens::looks_like_slashdb_key(k) {
                return row_err("api_key: SlashDB keys are 'app_id:key'.");
            }
            let hash = hash_token(k);
            if !look.api_keys.insert(hash.clone()) {
                return row_err("api_key: the same key is given to another account in the file.");
            }
            if let Some((t, owner)) = b.store.token_by_hash(&hash).await? {
                if existing.is_none_or(|e| e.id != owner.id) {
                    return row_err(format!("api_key: that key belongs to the account '{}'.", owner.username));
                }
                if t.revoked_at > 0 {
                    notes.push("The API key was revoked in Roster: it is not imported again.".into());
                }
                None
            } else {
                let app = k.split_once(':').map_or("", |(app, _)| app).to_string();
                notes
                    .push(format!("API key '{app}' imported as a hash; the file held it in plain text, so rotate it."));
                Some((app, hash))
            }
        }
        None => None,
    };
    if !public && !email.is_empty() {
        look.emails.insert(validate::email_key(&email), a.username.clone());
    }
    Ok(Checked { full_name, email, places, logins, api_key })
}

#[allow(clippy::too_many_arguments)]
async fn import_row(
    b: &Backend,
    ctx: &Ctx,
    w: &mut Writer,
    opts: &ImportOptions,
    look: &mut Lookups,
    batch: &mut Batch,
    home: OrgId,
    a: &ImportedAccount,
    notes: &mut Vec<String>,
) -> Result<(Outcome, String, Option<UserId>, bool), RowError> {
    let key = validate::username_key(&a.username);
    let existing = batch.by_username.get(&key).cloned();
    let c = check_row(b, w, look, batch, home, a, existing.as_ref(), notes).await?;
    let now = b.now();
    let Some(before) = existing else {
        let user = UserInsert {
            username: a.username.clone(),
            full_name: c.full_name.clone(),
            email: c.email.clone(),
            password_hash: a.password_hash.clone(),
            status: a.status,
            super_admin: a.super_admin,
            created_at: now,
        };
        // Most new accounts wait for their batch; one with database logins or an API key
        // is written now (those rows need its id and are few).
        let id = if c.logins.is_empty() && c.api_key.is_none() {
            None
        } else {
            let tx = w.tx().await?;
            let id = tx.insert_user(&user).await?;
            tx.add_memberships(&memberships_of(id, &c.places), now).await?;
            Some(id)
        };
        let mut written = Vec::new();
        if let Some(id) = id {
            let tx = w.tx().await?;
            for l in &c.logins {
                written.push(write_login(b, tx, id, l, None, now).await?);
            }
            if let Some((app, hash)) = &c.api_key {
                insert_api_key(tx, id, app, hash, now).await?;
            }
        }
        let mut ev = audit(b, ctx, "user.imported", true);
        ev.target = Some(a.username.clone());
        ev.after = Some(json!({
            "username": a.username, "full_name": c.full_name, "email": c.email, "status": a.status.as_str(),
            "super_admin": a.super_admin, "password": if a.password_hash.is_some() { "imported hash" } else { "none" },
            "memberships": c.places.iter().map(|p| json!({"org": p.org_name, "role_id": p.role.0, "extras": p.extras})).collect::<Vec<_>>(),
            "database_mappings": written, "api_key": c.api_key.as_ref().map(|(app, _)| app),
            "creator": a.creator, "format": opts.format.as_str(),
        }));
        if id.is_some() {
            batch.audits.push(ev);
        } else {
            batch.new.push(NewAccount { user, places: c.places, audit: ev, list: None });
        }
        return Ok((Outcome::Created, String::new(), id, false));
    };
    // What differs from the account as it is.
    let tx = w.tx().await?;
    let on_existing = on_existing_for(opts, &before);
    let mut changes: Vec<String> = Vec::new();
    let mut after = before.clone();
    if !before.public {
        if before.full_name != c.full_name {
            after.full_name = c.full_name.clone();
            changes.push("full name".into());
        }
        if before.email != c.email {
            after.email = c.email.clone();
            changes.push("email".into());
        }
        if before.status != a.status {
            if a.status == UserStatus::Disabled && ctx.actor_id() == Some(before.id) {
                return row_err("The file disables your own account.");
            }
            if a.status == UserStatus::Disabled && before.super_admin {
                notes.push("Kept active: Roster does not disable super admins from an import.".into());
            } else {
                after.status = a.status;
                changes.push("status".into());
            }
        }
        if a.super_admin && !before.super_admin {
            after.super_admin = true;
            changes.push("super admin".into());
        } else if !a.super_admin && before.super_admin {
            notes.push("Kept super admin: an import never takes that away.".into());
        }
    }
    let mut new_hash = None;
    if before.public && a.password_hash.is_some() {
        notes.push("The public account never signs in: the password hash is ignored.".into());
    } else if let Some(h) = a.password_hash.as_deref() {
        let stored = before.password_hash.as_deref();
        let moved_on = stored.is_some_and(|s| {
            legacy_hash::parse(s).is_ok_and(|k| !k.is_legacy()) && legacy_hash::parse(h).is_ok_and(|k| k.is_legacy())
        });
        if stored != Some(h) {
            if moved_on {
                notes.push("Password kept: it was re-hashed at a sign-in since the file's hash was made.".into());
            } else {
                new_hash = Some(h.to_string());
                changes.push("password".into());
            }
        }
    }
    let mut place_changes = Vec::new();
    for p in &c.places {
        match tx.membership(p.org, before.id).await? {
            Some(g) if g.role == p.role && g.extras == p.extras => {}
            g => place_changes.push((p, g.is_some())),
        }
    }
    for (p, _) in &place_changes {
        changes.push(format!("membership in {}", p.org_name));
    }
    let mut login_changes = Vec::new();
    for l in &c.logins {
        let current = tx.mapping(before.id, l.db.id).await?;
        let same = current.as_ref().is_some_and(|m| {
            m.login == l.login
                && m.credential_id == l.credential.as_ref().map(|c| c.0)
                && (l.password.is_none() || open_mapping(b, m).as_deref() == l.password.as_deref())
        });
        if !same {
            changes.push(format!("database '{}'", l.db.spec.db_id));
            login_changes.push((l, current));
        }
    }
    if c.api_key.is_some() {
        changes.push("API key".into());
    }
    if changes.is_empty() {
        return Ok((Outcome::Unchanged, String::new(), Some(before.id), true));
    }
    let what = changes.join(", ");
    if on_existing == OnExisting::Fail {
        return row_err(format!(
            "'{}' exists and differs ({what}): import with --update-existing to apply the file, or --skip-existing.",
            before.username
        ));
    }
    if on_existing == OnExisting::Skip {
        let why = if opts.on_existing == OnExisting::Fail {
            format!(
                "Roster has an account named {}: merge the file's into it with --update-existing ({what}).",
                before.username
            )
        } else {
            format!("Exists and differs ({what}).")
        };
        return Ok((Outcome::Skipped, why, Some(before.id), true));
    }
    if after != before {
        tx.update_user(&after, now).await?;
    }
    if let Some(h) = &new_hash {
        tx.set_password_hash(before.id, Some(h), now).await?;
    }
    if new_hash.is_some() || (after.status == UserStatus::Disabled && before.status != after.status) {
        tx.delete_sessions_of(before.id, None).await?;
    }
    for (p, member) in &place_changes {
        if *member {
            tx.set_member_role(p.org, before.id, p.role).await?;
        } else {
            tx.add_membership(p.org, before.id, p.role, now).await?;
        }
        tx.set_member_extras(p.org, before.id, p.extras).await?;
    }
    let mut written = Vec::new();
    for (l, current) in &login_changes {
        written.push(write_login(b, tx, before.id, l, current.as_ref(), now).await?);
    }
    if let Some((app, hash)) = &c.api_key {
        insert_api_key(tx, before.id, app, hash, now).await?;
    }
    let mut ev = audit(b, ctx, "user.import_updated", true);
    ev.target = Some(before.username.clone());
    ev.before = Some(user_snapshot(&before));
    let mut snap = user_snapshot(&after);
    snap["changed"] = json!(changes);
    snap["database_mappings"] = json!(written);
    snap["format"] = json!(opts.format.as_str());
    ev.after = Some(snap);
    batch.audits.push(ev);
    let id = before.id;
    let mut now_is = after;
    if let Some(h) = new_hash {
        now_is.password_hash = Some(h);
    }
    batch.changed(&before, now_is);
    Ok((Outcome::Updated, format!("Changed: {what}."), Some(id), true))
}

/// One database definition of SlashDB's databases.cfg, in the import's organization: created,
/// or compared with the one of the same id and then left, skipped or updated as the options
/// say. The file has no TLS setting, so an existing definition keeps its own.
#[allow(clippy::too_many_arguments)]
async fn import_database(
    b: &Backend,
    ctx: &Ctx,
    tx: &mut Box<dyn Tx>,
    opts: &ImportOptions,
    org: OrgId,
    row: import_files::DatabaseRow,
    report: &mut ImportReport,
) -> Result<(), Error> {
    let mut push = |outcome, message: String, notes| {
        report.push(ReportRow {
            kind: RowKind::Database,
            line: row.line,
            key: row.key.clone(),
            outcome,
            message,
            notes,
        })
    };
    let input = match row.input {
        Ok(i) => i,
        Err(e) => {
            push(Outcome::Error, e, row.notes);
            return Ok(());
        }
    };
    let mut spec = match databases::spec(&input) {
        Ok(s) => s,
        Err(Error::Invalid { errors }) => {
            let what: Vec<String> = errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
            push(Outcome::Error, what.join(" "), row.notes);
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    let aad = |id| super::databases::default_password_aad(id);
    let now = b.now();
    let Some(before) = tx.database(org, &db_id_key(&spec.db_id)).await? else {
        let record = super::databases::insert_definition(b, tx, org, spec, &input.default_password).await?;
        let mut ev = audit(b, ctx, "database.imported", true);
        ev.org_id = Some(org);
        ev.target = Some(format!("database:{}", record.spec.db_id));
        ev.after = Some(super::databases::snapshot(&record));
        tx.insert_audit(&ev).await?;
        push(Outcome::Created, String::new(), row.notes);
        return Ok(());
    };
    spec.tls = before.spec.tls;
    let old = &before.spec;
    let mut changes: Vec<&str> = Vec::new();
    for (differs, what) in [
        (old.engine != spec.engine, "engine"),
        (old.host != spec.host || old.port != spec.port, "server"),
        (old.name != spec.name, "database name"),
        (old.description != spec.description, "description"),
        (old.default_login != spec.default_login, "default login"),
    ] {
        if differs {
            changes.push(what);
        }
    }
    let stored = super::databases::open_default_password(b, &before)?;
    let new_password = !input.default_password.is_empty() && stored.as_deref() != Some(input.default_password.as_str());
    if new_password {
        changes.push("default password");
    }
    if changes.is_empty() {
        push(Outcome::Unchanged, String::new(), row.notes);
        return Ok(());
    }
    let what = changes.join(", ");
    match opts.on_existing {
        OnExisting::Fail => {
            let message = format!(
                "Database '{}' exists and differs ({what}): import with --update-existing to apply the file, or --skip-existing.",
                old.db_id
            );
            push(Outcome::Error, message, row.notes);
            return Ok(());
        }
        OnExisting::Skip => {
            push(Outcome::Skipped, format!("Exists and differs ({what})."), row.notes);
            return Ok(());
        }
        OnExisting::Update => {}
    }
    let default_password = match (&spec.default_login, new_password) {
        (None, _) => None,
        (Some(_), true) => Some(b.secrets.seal(input.default_password.as_bytes(), &aad(before.id))),
        (Some(_), false) => before.default_password.clone(),
    };
    let after = DatabaseRecord { spec, default_password, updated_at: now, ..before.clone() };
    tx.update_database(&after).await?;
    let mut ev = audit(b, ctx, "database.import_updated", true);
    ev.org_id = Some(org);
    ev.target = Some(format!("database:{}", after.spec.db_id));
    ev.before = Some(super::databases::snapshot(&before));
    ev.after = Some(super::databases::snapshot(&after));
    tx.insert_audit(&ev).await?;
    push(Outcome::Updated, format!("Changed: {what}."), row.notes);
    Ok(())
}

/// SlashDB's two special accounts: `public` is Roster's built-in public account, which has
/// nothing of its own an import could overwrite, so its lists, abilities and logins are added
/// unless the import skips existing accounts; an `admin` Roster already has is Roster's own
/// administrator, left alone (not an error) unless the import updates existing accounts.
fn on_existing_for(opts: &ImportOptions, account: &UserRecord) -> OnExisting {
    match opts.on_existing {
        OnExisting::Fail if account.public => OnExisting::Update,
        OnExisting::Fail
            if opts.format == ImportFormat::Slashdb && validate::username_key(&account.username) == "admin" =>
        {
            OnExisting::Skip
        }
        other => other,
    }
}

fn open_mapping(b: &Backend, m: &MappingRecord) -> Option<String> {
    let sealed = m.password.as_ref()?;
    let plain = b.secrets.open(sealed, &super::database_access::mapping_aad(m.id)).ok()?;
    String::from_utf8(plain).ok()
}

/// Writes one mapping (insert or replace) and says what, for the audit trail (never the
/// password).
async fn write_login(
    b: &Backend,
    tx: &mut Box<dyn Tx>,
    user: UserId,
    l: &Login,
    current: Option<&MappingRecord>,
    now: i64,
) -> Result<serde_json::Value, Error> {
    let mut m = MappingRecord {
        id: current.map_or(0, |m| m.id),
        user_id: user,
        database_id: l.db.id,
        login: l.login.clone(),
        password: None,
        credential_id: l.credential.as_ref().map(|c| c.0),
        created_at: current.map_or(now, |m| m.created_at),
        updated_at: now,
        last_test: None,
        db_id: l.db.spec.db_id.clone(),
        credential_name: l.credential.as_ref().map(|c| c.1.clone()),
    };
    if l.login.is_some() && l.password.is_none() {
        // (the same login keeps its password: the file cannot carry SlashDB's ciphertext)
        m.password = current.filter(|c| c.login == l.login).and_then(|c| c.password.clone());
    }
    if m.id == 0 {
        m.id = tx.insert_mapping(&m).await?;
    }
    if let (Some(_), Some(p)) = (&l.login, &l.password) {
        m.password = Some(b.secrets.seal(p.as_bytes(), &super::database_access::mapping_aad(m.id)));
    }
    tx.update_mapping(&m).await?;
    Ok(json!({
        "db_id": m.db_id, "login": m.login, "credential": m.credential_name,
        "password": if m.password.is_some() { "set" } else { "none" },
    }))
}

async fn insert_api_key(tx: &mut Box<dyn Tx>, user: UserId, app: &str, hash: &[u8], now: i64) -> Result<(), Error> {
    let name = format!("{app} (imported from SlashDB: rotate)");
    tx.insert_token(&NewTokenRecord {
        user_id: user,
        name: &name,
        kind: TokenKind::ApiKey,
        prefix: app,
        token_hash: hash,
        abilities: None,
        created_at: now,
        expires_at: 0,
    })
    .await?;
    Ok(())
}

/// Every row's view and edit lists, after all accounts are in: the names are read in a few
/// statements, and the list entries and their audit events written in a few more.
async fn apply_all_lists(
    b: &Backend,
    ctx: &Ctx,
    tx: &mut Box<dyn Tx>,
    opts: &ImportOptions,
    report: &mut ImportReport,
    lists: Vec<(usize, UserId, ImportedAccount, bool)>,
) -> Result<(), Error> {
    let mut keys: Vec<String> = lists
        .iter()
        .flat_map(|(_, _, a, _)| a.view.iter().chain(&a.edit))
        .map(|n| validate::username_key(n))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    keys.sort_unstable();
    let mut accounts: HashMap<String, UserRecord> = HashMap::new();
    for chunk in keys.chunks(IMPORT_BATCH) {
        for u in tx.users_by_keys(chunk).await? {
            accounts.insert(validate::username_key(&u.username), u);
        }
    }
    let mut levels = Vec::new();
    let mut events = Vec::new();
    for (i, id, account, existed) in lists {
        apply_lists(b, ctx, tx, opts, report, &accounts, i, id, &account, existed, &mut levels, &mut events).await?;
    }
    tx.set_account_levels(&levels).await?;
    tx.insert_audits(&events).await?;
    Ok(())
}

/// The row's view and edit lists (edit wins when a name is on both). Names that are no
/// account are left out with a note. What to write goes to `levels` and `events`.
#[allow(clippy::too_many_arguments)]
async fn apply_lists(
    b: &Backend,
    ctx: &Ctx,
    tx: &mut Box<dyn Tx>,
    opts: &ImportOptions,
    report: &mut ImportReport,
    accounts: &HashMap<String, UserRecord>,
    i: usize,
    target: UserId,
    a: &ImportedAccount,
    existed: bool,
    levels: &mut Vec<(UserId, UserId, AccountLevel)>,
    events: &mut Vec<AuditRecord>,
) -> Result<(), Error> {
    let mut wanted: Vec<(String, AccountLevel)> = Vec::new();
    for (names, level) in [(&a.view, AccountLevel::View), (&a.edit, AccountLevel::Edit)] {
        for n in names {
            match wanted.iter_mut().find(|(w, _)| validate::username_key(w) == validate::username_key(n)) {
                Some(w) => w.1 = level,
                None => wanted.push((n.trim().to_string(), level)),
            }
        }
    }
    let mut todo = Vec::new();
    for (name, level) in wanted {
        match accounts.get(&validate::username_key(&name)) {
            None => {
                report.rows[i].notes.push(format!("'{name}' on its {} list is no account: left out.", level.as_str()))
            }
            Some(h) if h.id == target => {}
            Some(h) => {
                // (an account this import created has empty lists)
                if !existed || tx.account_level(target, h.id).await? != Some(level) {
                    todo.push((h, level));
                }
            }
        }
    }
    if todo.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = todo.iter().map(|(h, l)| format!("{} ({})", h.username, l.as_str())).collect();
    let row = &mut report.rows[i];
    if existed && row.outcome == Outcome::Unchanged {
        let target_record = tx.user_by_id(target).await?;
        let on_existing = target_record.as_ref().map_or(opts.on_existing, |u| on_existing_for(opts, u));
        match on_existing {
            OnExisting::Fail => {
                row.outcome = Outcome::Error;
                report.unchanged -= 1;
                report.errors += 1;
                row.message = format!(
                    "'{}' exists and differs (lists: {}): import with --update-existing to apply the file, or --skip-existing.",
                    a.username,
                    names.join(", ")
                );
                return Ok(());
            }
            OnExisting::Skip => {
                row.outcome = Outcome::Skipped;
                report.unchanged -= 1;
                report.skipped += 1;
                row.message = format!("Exists and differs (lists: {}).", names.join(", "));
                return Ok(());
            }
            OnExisting::Update => {
                row.outcome = Outcome::Updated;
                report.unchanged -= 1;
                report.updated += 1;
                row.message = format!("Changed: lists ({}).", names.join(", "));
            }
        }
    } else if row.outcome == Outcome::Updated {
        row.message = format!("{} Lists: {}.", row.message, names.join(", "));
    }
    levels.extend(todo.iter().map(|(h, level)| (target, h.id, *level)));
    let mut ev = audit(b, ctx, "account_access.granted", true);
    ev.target = Some(a.username.clone());
    ev.after = Some(json!({ "imported": names }));
    events.push(ev);
    Ok(())
}

/// The format an import should read, from an explicit choice or the file's name.
pub fn format_for(explicit: Option<&str>, file_name: &str) -> Result<ImportFormat, Error> {
    match explicit {
        Some(f) => ImportFormat::parse(f)
            .ok_or_else(|| Error::invalid("format", format!("Unknown format '{f}': choose slashdb, csv or jsonl."))),
        None => ImportFormat::from_file_name(file_name).ok_or_else(|| {
            Error::invalid("format", "Cannot tell the format from the file name: give --format slashdb, csv or jsonl.")
        }),
    }
}
