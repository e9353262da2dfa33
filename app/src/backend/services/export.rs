//! Exporting accounts (SlashDB's users.cfg, CSV, JSON Lines): every account, page by page
//! of ids, with its memberships (from the access model), lists and database logins; never a
//! database password. And an organization's database definitions as SlashDB's databases.cfg.
//! What SlashDB cannot use as it is gets listed for the operator.
use std::collections::HashMap;

use serde_json::json;

use super::{audit, sudo_credentials};
use crate::backend::context::Ctx;
use crate::backend::import_files;
use crate::backend::legacy_hash;
use crate::backend::state::Backend;
use crate::domain::abilities::Ability;
use crate::domain::databases::{db_id_key, TlsMode};
use crate::domain::ids::{OrgId, UserId};
use crate::domain::import::{ExportFormat, ImportedAccount, ImportedMapping, ImportedMembership};
use crate::domain::policy;
use crate::domain::users::AccountLevel;
use crate::domain::validate;
use crate::domain::Error;

/// Rows read per page of an export.
const EXPORT_PAGE: u32 = 1000;

/// The file, and what SlashDB cannot use as it is (SlashDB exports only; each line names the
/// account or database first).
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
    if format == ExportFormat::SlashdbDatabases {
        let done = databases_cfg(b, org_id).await?;
        audit_export(b, ctx, format, org_id).await?;
        return Ok(done);
    }
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
        ExportFormat::SlashdbDatabases => String::new(),
    };
    audit_export(b, ctx, format, org_id).await?;
    Ok(Exported { body, cannot_use })
}

async fn audit_export(b: &Backend, ctx: &Ctx, format: ExportFormat, org_id: OrgId) -> Result<(), Error> {
    let mut tx = b.store.begin().await?;
    let mut ev = audit(b, ctx, "accounts.exported", true);
    ev.org_id = Some(org_id);
    ev.after = Some(json!({ "format": format.as_str() }));
    tx.insert_audit(&ev).await?;
    tx.commit().await?;
    Ok(())
}

/// The organization's database definitions as SlashDB's databases.cfg, page by page of ids;
/// never a password. What SlashDB's file cannot carry (a stored default password, a TLS
/// mode) is listed.
async fn databases_cfg(b: &Backend, org_id: OrgId) -> Result<Exported, Error> {
    let sqlite_dir = b.config.database_probes.sqlite_dir.as_deref();
    let mut specs = Vec::new();
    let mut cannot_use = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = b.store.list_databases(org_id, after.as_deref(), EXPORT_PAGE).await?;
        let last_page = page.len() < EXPORT_PAGE as usize;
        let Some(last) = page.last() else { break };
        after = Some(db_id_key(&last.spec.db_id));
        for d in page {
            let id = &d.spec.db_id;
            if d.default_password.is_some() {
                cannot_use.push(format!(
                    "{id}: the default login's password (SlashDB keeps it encrypted with its own secret): set it in SlashDB"
                ));
            }
            if !d.spec.engine.is_file() && d.spec.tls != TlsMode::Prefer {
                cannot_use.push(format!(
                    "{id}: TLS mode '{}' (SlashDB's file has none): configure it in SlashDB",
                    d.spec.tls.as_str()
                ));
            }
            if d.spec.engine.is_file() && sqlite_dir.is_none() {
                cannot_use.push(format!(
                    "{id}: the SQLite file's path relative to no folder (Roster has no --sqlite-databases-dir): write SlashDB's absolute path"
                ));
            }
            specs.push(d.spec);
        }
        if last_page {
            break;
        }
    }
    Ok(Exported { body: import_files::write_slashdb_databases(&specs, sqlite_dir, &cannot_use), cannot_use })
}
