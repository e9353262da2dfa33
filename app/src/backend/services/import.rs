//! Importing accounts (SlashDB users.cfg, CSV, JSON Lines) and exporting them.
//!
//! An import runs in one transaction under the access writer. Each row is checked whole
//! before anything of it is written: a row that cannot be imported is reported with the
//! reason and writes nothing, the others are written, and a dry run builds the same report
//! and rolls back. An account already as the file says is "unchanged", so running an import
//! twice is harmless. Imports add: memberships, mappings and list entries the file does not
//! name are left alone.
use std::collections::{HashMap, HashSet};

use serde_json::json;

use super::{audit, commit_access, sudo_credentials, user_snapshot};
use crate::backend::context::Ctx;
use crate::backend::import_files::{self, SlashdbReading};
use crate::backend::legacy_hash;
use crate::backend::sessions::hash_token;
use crate::backend::state::Backend;
use crate::backend::store::{Change, DatabaseRecord, MappingRecord, NewTokenRecord, Tx, UserInsert, UserRecord};
use crate::domain::abilities::{Ability, AbilitySet};
use crate::domain::database_access::credential_key;
use crate::domain::databases::{self, db_id_key};
use crate::domain::ids::{OrgId, RoleId, UserId};
use crate::domain::import::{
    ExportFormat, ImportFormat, ImportOptions, ImportReport, ImportedAccount, ImportedMapping, ImportedMembership,
    OnExisting, Outcome, ReportRow, MAX_IMPORT_BYTES,
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
    async fn org(&mut self, tx: &mut Box<dyn Tx>, name: &str) -> Result<Option<(OrgId, String)>, Error> {
        let key = name.trim().to_lowercase();
        if !self.orgs.contains_key(&key) {
            let found = tx.org_by_name(&key).await?.map(|o| (o.id, o.name));
            self.orgs.insert(key.clone(), found);
        }
        Ok(self.orgs.get(&key).cloned().flatten())
    }
    async fn role(&mut self, tx: &mut Box<dyn Tx>, name: &str) -> Result<Option<(RoleId, String)>, Error> {
        let key = name.trim().to_lowercase();
        if !self.roles.contains_key(&key) {
            let found = tx.role_by_name(&key).await?.map(|r| (r.id, r.name));
            self.roles.insert(key.clone(), found);
        }
        Ok(self.roles.get(&key).cloned().flatten())
    }
    async fn database(
        &mut self,
        tx: &mut Box<dyn Tx>,
        org: OrgId,
        db_id: &str,
    ) -> Result<Option<DatabaseRecord>, Error> {
        let key = (org, db_id_key(db_id.trim()));
        if !self.databases.contains_key(&key) {
            let found = tx.database(org, &key.1).await?;
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

pub async fn import(b: &Backend, ctx: &Ctx, opts: ImportOptions, text: &str) -> Result<ImportReport, Error> {
    policy::can_import_accounts(ctx.actor()?).map_err(Error::Forbidden)?;
    sudo_credentials(b, ctx)?;
    if text.len() > MAX_IMPORT_BYTES {
        return Err(Error::invalid(
            "file",
            format!("The file is larger than {} MB.", MAX_IMPORT_BYTES / (1024 * 1024)),
        ));
    }
    if text.trim().is_empty() {
        return Err(Error::invalid("text", "The file is empty: choose a file or paste its contents."));
    }
    let _w = b.access.writer().await;
    let mut tx = b.store.begin().await?;
    let mut look = Lookups::default();
    let home = match opts.org.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(name) => look
            .org(&mut tx, name)
            .await?
            .ok_or_else(|| Error::invalid("org", format!("There is no organization named '{name}'.")))?,
        None => {
            let o = tx.org(ctx.org()).await?.ok_or_else(|| Error::not_found("Organization"))?;
            (o.id, o.name)
        }
    };
    let reading = SlashdbReading { org: home.1.clone(), plaintext_passwords: opts.plaintext_passwords };
    let rows = import_files::read(opts.format, text, &reading).map_err(|e| Error::invalid("file", e.0))?;
    let mut report = ImportReport { dry_run: opts.dry_run, ..Default::default() };
    // (row index in the report, account id, the row, whether it existed before)
    let mut lists: Vec<(usize, UserId, ImportedAccount, bool)> = Vec::new();
    for row in rows {
        let mut notes = row.notes;
        let account = match row.account {
            Ok(a) => a,
            Err(e) => {
                report.push(ReportRow { line: row.line, key: row.key, outcome: Outcome::Error, message: e, notes });
                continue;
            }
        };
        match import_row(b, ctx, &mut tx, &opts, &mut look, home.0, &account, &mut notes).await {
            Ok((outcome, message, id, existed)) => {
                if matches!(outcome, Outcome::Created | Outcome::Updated | Outcome::Unchanged) {
                    lists.push((report.rows.len(), id, account, existed));
                }
                report.push(ReportRow { line: row.line, key: row.key, outcome, message, notes });
            }
            Err(RowError::Row(message)) => {
                report.push(ReportRow { line: row.line, key: row.key, outcome: Outcome::Error, message, notes })
            }
            Err(RowError::Fatal(e)) => return Err(e),
        }
    }
    // View and edit lists last: they may name accounts further down the file.
    for (i, id, account, existed) in lists {
        apply_lists(b, ctx, &mut tx, &opts, &mut report, i, id, &account, existed).await?;
    }
    if opts.dry_run {
        // (dropping the transaction rolls it back)
        return Ok(report);
    }
    let mut ev = audit(b, ctx, "accounts.imported", true);
    ev.org_id = Some(home.0);
    ev.after = Some(json!({
        "format": opts.format.as_str(), "on_existing": format!("{:?}", opts.on_existing).to_lowercase(),
        "created": report.created, "updated": report.updated, "unchanged": report.unchanged,
        "skipped": report.skipped, "errors": report.errors,
    }));
    tx.insert_audit(&ev).await?;
    commit_access(b, tx, Change::All).await?;
    Ok(report)
}

/// Checks a row whole (nothing written yet): names resolved, fields valid, email and API key
/// not someone else's.
async fn check_row(
    b: &Backend,
    tx: &mut Box<dyn Tx>,
    look: &mut Lookups,
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
        if let Some(holder) = b.store.user_by_login(&key).await? {
            if existing.is_none_or(|e| e.id != holder.id) && validate::username_key(&holder.username) != key {
                return row_err(format!("email: {email} belongs to the account '{}'.", holder.username));
            }
        }
    }
    let mut places = Vec::new();
    for m in &a.memberships {
        let Some((org, org_name)) = look.org(tx, &m.org).await? else {
            return row_err(format!("There is no organization named '{}'.", m.org));
        };
        if places.iter().any(|p: &Place| p.org == org) {
            return row_err(format!("The organization '{org_name}' is named twice."));
        }
        let Some((role, _)) = look.role(tx, &m.role).await? else {
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
            Some(name) => match look.org(tx, name).await? {
                Some((o, _)) => o,
                None => return row_err(format!("Database '{}': there is no organization named '{name}'.", m.db_id)),
            },
            None => places.first().map_or(home, |p| p.org),
        };
        let Some(db) = look.database(tx, org, &m.db_id).await? else {
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
            Some(name) => match tx.credential(db.id, &credential_key(name)).await? {
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
    tx: &mut Box<dyn Tx>,
    opts: &ImportOptions,
    look: &mut Lookups,
    home: OrgId,
    a: &ImportedAccount,
    notes: &mut Vec<String>,
) -> Result<(Outcome, String, UserId, bool), RowError> {
    let existing = tx.user_by_username(&validate::username_key(&a.username)).await?;
    let c = check_row(b, tx, look, home, a, existing.as_ref(), notes).await?;
    let now = b.now();
    let Some(before) = existing else {
        let id = tx
            .insert_user(&UserInsert {
                username: a.username.clone(),
                full_name: c.full_name.clone(),
                email: c.email.clone(),
                password_hash: a.password_hash.clone(),
                status: a.status,
                super_admin: a.super_admin,
                created_at: now,
            })
            .await?;
        let mut written = Vec::new();
        for p in &c.places {
            tx.add_membership(p.org, id, p.role, now).await?;
            tx.set_member_extras(p.org, id, p.extras).await?;
        }
        for l in &c.logins {
            written.push(write_login(b, tx, id, l, None, now).await?);
        }
        if let Some((app, hash)) = &c.api_key {
            insert_api_key(tx, id, app, hash, now).await?;
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
        tx.insert_audit(&ev).await?;
        return Ok((Outcome::Created, String::new(), id, false));
    };
    // What differs from the account as it is.
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
        return Ok((Outcome::Unchanged, String::new(), before.id, true));
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
        return Ok((Outcome::Skipped, why, before.id, true));
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
    tx.insert_audit(&ev).await?;
    Ok((Outcome::Updated, format!("Changed: {what}."), before.id, true))
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

/// The row's view and edit lists (edit wins when a name is on both). Names that are no
/// account are left out with a note.
#[allow(clippy::too_many_arguments)]
async fn apply_lists(
    b: &Backend,
    ctx: &Ctx,
    tx: &mut Box<dyn Tx>,
    opts: &ImportOptions,
    report: &mut ImportReport,
    i: usize,
    target: UserId,
    a: &ImportedAccount,
    existed: bool,
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
        match tx.user_by_username(&validate::username_key(&name)).await? {
            None => {
                report.rows[i].notes.push(format!("'{name}' on its {} list is no account: left out.", level.as_str()))
            }
            Some(h) if h.id == target => {}
            Some(h) => {
                if tx.account_level(target, h.id).await? != Some(level) {
                    todo.push((h, level));
                }
            }
        }
    }
    if todo.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = todo.iter().map(|(h, l)| format!("{} ({})", h.username, l.as_str())).collect();
    let target_record = tx.user_by_id(target).await?;
    let on_existing = target_record.as_ref().map_or(opts.on_existing, |u| on_existing_for(opts, u));
    let row = &mut report.rows[i];
    if existed && row.outcome == Outcome::Unchanged {
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
    for (h, level) in &todo {
        tx.set_account_level(target, h.id, Some(*level)).await?;
    }
    let mut ev = audit(b, ctx, "account_access.granted", true);
    ev.target = Some(a.username.clone());
    ev.after = Some(json!({ "imported": names }));
    tx.insert_audit(&ev).await?;
    Ok(())
}

// ---- export ----

/// Rows read per page of an export.
const EXPORT_PAGE: u32 = 1000;

/// The file, and the accounts SlashDB cannot use as they are (SlashDB export only).
pub struct Exported {
    pub body: String,
    pub cannot_use: Vec<String>,
}

/// Every account (the public one is exported only to users.cfg, where SlashDB has it too)
/// with its memberships, lists and mappings; never a database password.
pub async fn export(b: &Backend, ctx: &Ctx, format: ExportFormat, org: Option<&str>) -> Result<Exported, Error> {
    policy::can_export_accounts(ctx.actor()?).map_err(Error::Forbidden)?;
    sudo_credentials(b, ctx)?;
    // (the access model is read under a short lock per page, never across an await)
    let (org_id, orgs) = {
        let model = b.access.read();
        let org_id = match org.map(str::trim).filter(|s| !s.is_empty()) {
            Some(name) => model
                .org_id(name)
                .ok_or_else(|| Error::invalid("org", format!("There is no organization named '{name}'.")))?,
            None => ctx.org(),
        };
        let mut orgs: Vec<(OrgId, String)> = model.orgs.iter().map(|(id, n)| (*id, n.clone())).collect();
        orgs.sort_by_key(|(id, _)| id.0);
        (org_id, orgs)
    };
    let org_name = |o: OrgId| orgs.iter().find(|(id, _)| *id == o).map(|(_, n)| n.clone());
    let mut accounts: Vec<(ImportedAccount, Vec<Ability>)> = Vec::new();
    let mut cannot_use = Vec::new();
    let mut after = 0i64;
    loop {
        let page = b.store.users_after_id(after, EXPORT_PAGE).await?;
        let (Some(first), Some(last)) = (page.first(), page.last()) else { break };
        let (first, last) = (first.id, last.id);
        after = last.0;
        let mut levels: HashMap<UserId, Vec<(String, AccountLevel)>> = HashMap::new();
        for (target, holder, level) in b.store.account_levels_between(first, last).await? {
            levels.entry(target).or_default().push((holder, level));
        }
        let mut logins: HashMap<UserId, Vec<ImportedMapping>> = HashMap::new();
        for (o, m) in b.store.mappings_between(first, last).await? {
            logins.entry(m.user_id).or_default().push(ImportedMapping {
                org: org_name(o),
                db_id: m.db_id,
                login: m.login,
                password: None,
                credential: m.credential_name,
            });
        }
        let model = b.access.read();
        for u in page {
            if u.public && format != ExportFormat::Slashdb {
                continue;
            }
            let memberships: Vec<ImportedMembership> = orgs
                .iter()
                .filter_map(|(o, name)| {
                    let g = model.grants.get(&(u.id, *o))?;
                    Some(ImportedMembership {
                        org: name.clone(),
                        role: model.roles.get(&g.role).map(|r| r.name.clone()).unwrap_or_default(),
                        abilities: g.extras.iter().map(|a| a.code().to_string()).collect(),
                    })
                })
                .collect();
            let held: Vec<Ability> = model
                .grants
                .get(&(u.id, org_id))
                .map(|g| {
                    let role = model.roles.get(&g.role).map(|r| r.abilities).unwrap_or_default();
                    Ability::ALL.into_iter().filter(|a| role.contains(*a) || g.extras.contains(*a)).collect()
                })
                .unwrap_or_default();
            let mine = levels.remove(&u.id).unwrap_or_default();
            let mut databases = logins.remove(&u.id).unwrap_or_default();
            if format == ExportFormat::Slashdb {
                let home = org_name(org_id);
                databases.retain(|m| m.org == home);
                if u.password_hash.as_deref().is_some_and(|h| legacy_hash::parse(h).is_ok_and(|k| !k.is_legacy())) {
                    cannot_use.push(format!(
                        "{}: an argon2 password hash (SlashDB verifies sha512-crypt): set a new password in SlashDB",
                        u.username
                    ));
                }
                if !validate::slashdb_username(&u.username) {
                    cannot_use
                        .push(format!("{}: the id is outside SlashDB's rules (letters, digits, @ _ - ~)", u.username));
                }
                if databases.iter().any(|m| m.credential.is_some()) {
                    cannot_use.push(format!(
                        "{}: a mapping through a shared credential (written without a login)",
                        u.username
                    ));
                }
            }
            let account = ImportedAccount {
                username: u.username.clone(),
                full_name: u.full_name.clone(),
                email: u.email.clone(),
                status: u.status,
                super_admin: u.super_admin,
                password_hash: u.password_hash.clone(),
                memberships,
                view: mine.iter().filter(|(_, l)| *l == AccountLevel::View).map(|(h, _)| h.clone()).collect(),
                edit: mine.iter().filter(|(_, l)| *l == AccountLevel::Edit).map(|(h, _)| h.clone()).collect(),
                databases,
                api_key: None,
                creator: None,
            };
            accounts.push((account, held));
        }
    }
    let body = match format {
        ExportFormat::Jsonl => import_files::write_jsonl(&accounts.into_iter().map(|(a, _)| a).collect::<Vec<_>>()),
        ExportFormat::Csv => import_files::write_csv(&accounts.into_iter().map(|(a, _)| a).collect::<Vec<_>>()),
        ExportFormat::Slashdb => import_files::write_slashdb(&accounts, &cannot_use),
    };
    let mut tx = b.store.begin().await?;
    let mut ev = audit(b, ctx, "accounts.exported", true);
    ev.org_id = Some(org_id);
    ev.after = Some(json!({ "format": format!("{format:?}").to_lowercase() }));
    tx.insert_audit(&ev).await?;
    tx.commit().await?;
    Ok(Exported { body, cannot_use })
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
