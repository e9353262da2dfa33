//! Shared database credentials and per-account database mappings (issue 12), and the login a
//! data tool gets for an account.
//!
//! Invariants:
//! - Stored passwords are sealed with the instance key and bound to their row's id (a sealed
//!   value copied to another row does not open); no view, log or audit event carries one. The
//!   only way out in the clear is `database_login`, for super admins and tokens holding
//!   view-credentials, and every such read is audited.
//! - A mapping's changes follow its account's rules (`can_view_account`,
//!   `can_manage_account` in the database's organization), checked with facts read in the
//!   write transaction; a credential's follow create-credentials there.
//! - Test Connection for a credential or a mapping shares the definitions' per-caller
//!   throttle: each test is a password guess against a database server.
use serde_json::json;

use super::databases::{probe_throttled, reader, writer};
use super::{actor_in, audit, target_of};
use crate::backend::store::{CredentialRecord, DatabaseRecord, MappingRecord, Tx, UserRecord};
use crate::backend::{Backend, Caller, Ctx};
use crate::domain::database_access::{
    self, Credential, CredentialInput, CredentialPage, CredentialPatch, DatabaseLogin, LoginSource, Mapping,
    MappingInput, MappingKind, MappingPage, MappingSpec,
};
use crate::domain::databases::{self, ConnectionTest};
use crate::domain::error::Error;
use crate::domain::ids::{OrgId, UserId};
use crate::domain::orgs::OrgRef;
use crate::domain::policy;
use crate::domain::users::UserStatus;
use crate::domain::validate;

const PAGE: u32 = 50;
/// The most credential names a mapping form offers (a database with more is named by typing).
const NAMES_MAX: u32 = 200;

pub(crate) fn credential_aad(id: i64) -> String {
    format!("database_credential:{id}:password")
}

pub(crate) fn mapping_aad(id: i64) -> String {
    format!("database_mapping:{id}:password")
}

fn credential_view(db_id: &str, r: &CredentialRecord) -> Credential {
    Credential {
        db_id: db_id.to_string(),
        name: r.spec.name.clone(),
        login: r.spec.login.clone(),
        password_set: r.password.is_some(),
        created_by: r.created_by_name.clone(),
        mappings: r.uses.max(0) as u64,
        created_at: r.created_at,
        updated_at: r.updated_at,
        last_test: r.last_test.clone(),
    }
}

fn mapping_view(r: &MappingRecord) -> Mapping {
    let kind = match (&r.credential_id, &r.login) {
        (Some(_), _) => MappingKind::Credential,
        (None, Some(_)) => MappingKind::Own,
        (None, None) => MappingKind::None,
    };
    Mapping {
        db_id: r.db_id.clone(),
        kind,
        login: r.login.clone(),
        password_set: r.password.is_some(),
        credential: r.credential_name.clone(),
        created_at: r.created_at,
        updated_at: r.updated_at,
        last_test: r.last_test.clone(),
    }
}

/// What the audit trail keeps of a mapping: never the password.
fn mapping_snapshot(r: &MappingRecord) -> serde_json::Value {
    let v = mapping_view(r);
    json!({
        "db_id": v.db_id, "kind": v.kind.as_str(), "login": v.login, "credential": v.credential,
        "password": if v.password_set { "set" } else { "none" },
    })
}

fn credential_snapshot(db_id: &str, r: &CredentialRecord) -> serde_json::Value {
    json!({
        "db_id": db_id, "name": r.spec.name, "login": r.spec.login,
        "password": if r.password.is_some() { "set" } else { "none" },
    })
}

fn no_database() -> Error {
    Error::not_found("Database")
}

fn no_credential() -> Error {
    Error::not_found("Credential")
}

async fn database_in_tx(tx: &mut Box<dyn Tx>, org: OrgId, db_id: &str) -> Result<DatabaseRecord, Error> {
    tx.database(org, &databases::db_id_key(db_id.trim())).await?.ok_or_else(no_database)
}

// ---- shared credentials ----

/// A database's credentials by name, `PAGE` at a time (view-credentials or
/// create-credentials).
pub async fn list_credentials(
    b: &Backend,
    ctx: &Ctx,
    org: OrgId,
    db_id: &str,
    after: Option<String>,
) -> Result<CredentialPage, Error> {
    let (actor, member, name) = reader(b, ctx, org)?;
    policy::can_view_credentials(actor, member).map_err(Error::Forbidden)?;
    let db = b.store.find_database(org, &databases::db_id_key(db_id.trim())).await?.ok_or_else(no_database)?;
    let after = after.map(|a| database_access::credential_key(&a)).filter(|a| !a.is_empty());
    let mut rows = b.store.list_credentials(db.id, after.as_deref(), PAGE + 1).await?;
    let more = rows.len() > PAGE as usize;
    rows.truncate(PAGE as usize);
    let next = if more { rows.last().map(|r| r.spec.name.clone()) } else { None };
    Ok(CredentialPage {
        org: OrgRef { id: org.0, name },
        db_id: db.spec.db_id.clone(),
        credentials: rows.iter().map(|r| credential_view(&db.spec.db_id, r)).collect(),
        next,
    })
}

/// The names of a database's credentials, for choosing one in a mapping (whoever sees
/// credentials, and account managers, who assign them without seeing more).
pub async fn credential_names(b: &Backend, ctx: &Ctx, org: OrgId, db_id: &str) -> Result<Vec<String>, Error> {
    let (actor, member, _) = reader(b, ctx, org)?;
    policy::can_name_credentials(actor, member).map_err(Error::Forbidden)?;
    let db = b.store.find_database(org, &databases::db_id_key(db_id.trim())).await?.ok_or_else(no_database)?;
    let rows = b.store.list_credentials(db.id, None, NAMES_MAX).await?;
    Ok(rows.into_iter().map(|r| r.spec.name).collect())
}

pub async fn create_credential(
    b: &Backend,
    ctx: &Ctx,
    org: OrgId,
    db_id: &str,
    input: CredentialInput,
) -> Result<Credential, Error> {
    let mut tx = writer(b, ctx, org, policy::can_manage_credentials).await?;
    let db = database_in_tx(&mut tx, org, db_id).await?;
    let spec = database_access::credential_spec(&input)?;
    let now = b.now();
    let mut record = CredentialRecord {
        id: 0,
        database_id: db.id,
        spec,
        password: None,
        created_by: ctx.actor_id(),
        created_by_name: ctx.actor_id().and(ctx.actor_name()),
        uses: 0,
        created_at: now,
        updated_at: now,
        last_test: None,
    };
    record.id = tx.insert_credential(&record).await.map_err(|e| taken(e, &record.spec.name))?;
    // Sealed once the row has its id, which the seal is bound to.
    if !input.password.is_empty() {
        record.password = Some(b.secrets.seal(input.password.as_bytes(), &credential_aad(record.id)));
        tx.update_credential(&record).await?;
    }
    let mut ev = audit(b, ctx, "database_credential.created", true);
    ev.org_id = Some(org);
    ev.target = Some(format!("database:{}/credential:{}", db.spec.db_id, record.spec.name));
    ev.after = Some(credential_snapshot(&db.spec.db_id, &record));
    tx.insert_audit(&ev).await?;
    tx.commit().await?;
    Ok(credential_view(&db.spec.db_id, &record))
}

/// A name already used on this database, said with the name.
fn taken(e: crate::backend::store::StoreError, name: &str) -> Error {
    match e {
        crate::backend::store::StoreError::Conflict { .. } => Error::Conflict {
            field: Some("name".into()),
            message: format!("This database already has a credential named '{name}'."),
        },
        other => other.into(),
    }
}

/// Changes what `patch` names; an absent or empty password keeps the stored one.
pub async fn update_credential(
    b: &Backend,
    ctx: &Ctx,
    org: OrgId,
    db_id: &str,
    name: &str,
    patch: CredentialPatch,
) -> Result<Credential, Error> {
    let mut tx = writer(b, ctx, org, policy::can_manage_credentials).await?;
    let db = database_in_tx(&mut tx, org, db_id).await?;
    let before = tx.credential(db.id, &database_access::credential_key(name)).await?.ok_or_else(no_credential)?;
    let input = patch.over(&credential_view(&db.spec.db_id, &before));
    let spec = database_access::credential_spec(&input)?;
    let password = if input.password.is_empty() {
        before.password.clone()
    } else {
        Some(b.secrets.seal(input.password.as_bytes(), &credential_aad(before.id)))
    };
    let after = CredentialRecord { spec, password, updated_at: b.now(), ..before.clone() };
    tx.update_credential(&after).await.map_err(|e| taken(e, &after.spec.name))?;
    let mut ev = audit(b, ctx, "database_credential.updated", true);
    ev.org_id = Some(org);
    ev.target = Some(format!("database:{}/credential:{}", db.spec.db_id, after.spec.name));
    ev.before = Some(credential_snapshot(&db.spec.db_id, &before));
    let mut snap = credential_snapshot(&db.spec.db_id, &after);
    snap["password"] = json!(if input.password.is_empty() { "kept" } else { "changed" });
    ev.after = Some(snap);
    tx.insert_audit(&ev).await?;
    tx.commit().await?;
    Ok(credential_view(&db.spec.db_id, &after))
}

/// How many account mappings go through a credential (what deleting it would remove).
pub async fn credential_uses(b: &Backend, ctx: &Ctx, org: OrgId, db_id: &str, name: &str) -> Result<u64, Error> {
    let (actor, member, _) = reader(b, ctx, org)?;
    policy::can_view_credentials(actor, member).map_err(Error::Forbidden)?;
    let db = b.store.find_database(org, &databases::db_id_key(db_id.trim())).await?.ok_or_else(no_database)?;
    let c = b.store.find_credential(db.id, &database_access::credential_key(name)).await?.ok_or_else(no_credential)?;
    Ok(c.uses.max(0) as u64)
}

/// Deletes a credential and the mappings through it; returns how many mappings went.
pub async fn delete_credential(b: &Backend, ctx: &Ctx, org: OrgId, db_id: &str, name: &str) -> Result<u64, Error> {
    let mut tx = writer(b, ctx, org, policy::can_manage_credentials).await?;
    let db = database_in_tx(&mut tx, org, db_id).await?;
    let before = tx.credential(db.id, &database_access::credential_key(name)).await?.ok_or_else(no_credential)?;
    // (counted in the same transaction: what the audit says went is what went)
    let uses = before.uses.max(0) as u64;
    tx.delete_credential(before.id).await?;
    let mut ev = audit(b, ctx, "database_credential.deleted", true);
    ev.org_id = Some(org);
    ev.target = Some(format!("database:{}/credential:{}", db.spec.db_id, before.spec.name));
    ev.before = Some(credential_snapshot(&db.spec.db_id, &before));
    ev.after = Some(json!({ "mappings_removed": uses }));
    tx.insert_audit(&ev).await?;
    tx.commit().await?;
    Ok(uses)
}

/// Test Connection as a shared credential (manage-database-servers, or its creator).
pub async fn test_credential(
    b: &Backend,
    ctx: &Ctx,
    org: OrgId,
    db_id: &str,
    name: &str,
) -> Result<ConnectionTest, Error> {
    let (actor, member, _) = reader(b, ctx, org)?;
    // (refused before anything is looked up when neither rule can pass)
    policy::can_test_credential(actor, member, true).map_err(Error::Forbidden)?;
    let db = b.store.find_database(org, &databases::db_id_key(db_id.trim())).await?.ok_or_else(no_database)?;
    let c = b.store.find_credential(db.id, &database_access::credential_key(name)).await?.ok_or_else(no_credential)?;
    let creator = c.created_by.is_some() && c.created_by == ctx.actor_id();
    policy::can_test_credential(actor, member, creator).map_err(Error::Forbidden)?;
    let password = super::databases::open_password(b, &c.password, &credential_aad(c.id))?;
    let test = probe_throttled(b, ctx, &db.spec, Some(&c.spec.login), password.as_deref()).await?;
    let mut tx = b.store.begin().await?;
    tx.record_credential_test(c.id, &test).await?;
    let mut ev = audit(b, ctx, "database_credential.tested", test.outcome.ok());
    ev.org_id = Some(org);
    ev.target = Some(format!("database:{}/credential:{}", db.spec.db_id, c.spec.name));
    ev.after = Some(json!({
        "outcome": test.outcome.as_str(), "message": test.message, "millis": test.millis, "login": c.spec.login,
    }));
    tx.insert_audit(&ev).await?;
    tx.commit().await?;
    Ok(test)
}

// ---- per-account mappings ----

/// An account's mappings to `org`'s databases (whoever may see the account there).
pub async fn list_mappings(
    b: &Backend,
    ctx: &Ctx,
    org: OrgId,
    username: &str,
    after: Option<String>,
) -> Result<MappingPage, Error> {
    let u = super::users::visible_in(b, ctx, org, username).await?;
    let org_name = b.access.read().orgs.get(&org).cloned().ok_or_else(|| Error::not_found("Organization"))?;
    let after = after.map(|a| databases::db_id_key(a.trim())).filter(|a| !a.is_empty());
    let mut rows = b.store.list_mappings(u.id, org, after.as_deref(), PAGE + 1).await?;
    let more = rows.len() > PAGE as usize;
    rows.truncate(PAGE as usize);
    let next = if more { rows.last().map(|r| r.db_id.clone()) } else { None };
    Ok(MappingPage {
        username: u.username.clone(),
        org: OrgRef { id: org.0, name: org_name },
        mappings: rows.iter().map(mapping_view).collect(),
        next,
    })
}

/// The account (as read in `tx`) if the caller may change it from `org`.
async fn managed_account(tx: &mut Box<dyn Tx>, ctx: &Ctx, org: OrgId, username: &str) -> Result<UserRecord, Error> {
    ctx.actor()?;
    let target =
        tx.user_by_username(&validate::username_key(username)).await?.ok_or_else(|| Error::not_found("User"))?;
    let actor = actor_in(tx, ctx, org).await?;
    let facts = target_of(tx, ctx, actor, org, &target).await?;
    policy::can_manage_account(actor, org, facts).map_err(Error::Forbidden)?;
    Ok(target)
}

/// Creates or replaces the account's mapping to `input.db_id`. For its own login an empty
/// password keeps the stored one (when the mapping had a login of its own before).
pub async fn set_mapping(
    b: &Backend,
    ctx: &Ctx,
    org: OrgId,
    username: &str,
    input: MappingInput,
) -> Result<Mapping, Error> {
    let spec = database_access::mapping_spec(&input)?;
    let mut tx = b.store.begin().await?;
    let user = managed_account(&mut tx, ctx, org, username).await?;
    let db = match database_in_tx(&mut tx, org, &input.db_id).await {
        Err(Error::NotFound { .. }) => {
            return Err(Error::invalid("db_id", format!("There is no database '{}' here.", input.db_id.trim())))
        }
        other => other?,
    };
    let credential = match &spec {
        MappingSpec::Credential { name } => {
            Some(tx.credential(db.id, &database_access::credential_key(name)).await?.ok_or_else(|| {
                Error::invalid("credential", format!("Database '{}' has no credential named '{name}'.", db.spec.db_id))
            })?)
        }
        _ => None,
    };
    let before = tx.mapping(user.id, db.id).await?;
    let now = b.now();
    let mut after = MappingRecord {
        id: before.as_ref().map_or(0, |m| m.id),
        user_id: user.id,
        database_id: db.id,
        login: None,
        password: None,
        credential_id: credential.as_ref().map(|c| c.id),
        created_at: before.as_ref().map_or(now, |m| m.created_at),
        updated_at: now,
        last_test: before.as_ref().and_then(|m| m.last_test.clone()),
        db_id: db.spec.db_id.clone(),
        credential_name: credential.as_ref().map(|c| c.spec.name.clone()),
    };
    if let MappingSpec::Own { login } = &spec {
        after.login = Some(login.clone());
        // (kept only from a login of its own: a password is never carried over from nothing)
        after.password = before.as_ref().filter(|m| m.login.is_some()).and_then(|m| m.password.clone());
    }
    if after.id == 0 {
        after.id = tx.insert_mapping(&after).await?;
    }
    if let (MappingSpec::Own { .. }, false) = (&spec, input.password.is_empty()) {
        after.password = Some(b.secrets.seal(input.password.as_bytes(), &mapping_aad(after.id)));
    }
    tx.update_mapping(&after).await?;
    let mut ev =
        audit(b, ctx, if before.is_some() { "database_mapping.updated" } else { "database_mapping.created" }, true);
    ev.org_id = Some(org);
    ev.target = Some(user.username.clone());
    ev.before = before.as_ref().map(mapping_snapshot);
    let mut snap = mapping_snapshot(&after);
    if spec.kind() == MappingKind::Own && after.password.is_some() {
        snap["password"] = json!(if input.password.is_empty() { "kept" } else { "changed" });
    }
    ev.after = Some(snap);
    tx.insert_audit(&ev).await?;
    tx.commit().await?;
    Ok(mapping_view(&after))
}

pub async fn delete_mapping(b: &Backend, ctx: &Ctx, org: OrgId, username: &str, db_id: &str) -> Result<(), Error> {
    let mut tx = b.store.begin().await?;
    let user = managed_account(&mut tx, ctx, org, username).await?;
    let db = database_in_tx(&mut tx, org, db_id).await?;
    let before = tx.mapping(user.id, db.id).await?.ok_or_else(|| Error::not_found("Database mapping"))?;
    tx.delete_mapping(before.id).await?;
    let mut ev = audit(b, ctx, "database_mapping.deleted", true);
    ev.org_id = Some(org);
    ev.target = Some(user.username.clone());
    ev.before = Some(mapping_snapshot(&before));
    tx.insert_audit(&ev).await?;
    tx.commit().await?;
    Ok(())
}

/// The login and password a mapping resolves to, in the clear (its own, or its credential's).
async fn mapping_login(b: &Backend, m: &MappingRecord) -> Result<(LoginSource, Option<String>, Option<String>), Error> {
    match m.credential_id {
        Some(cid) => {
            let c = b.store.credential_by_id(cid).await?.ok_or_else(no_credential)?;
            let password = super::databases::open_password(b, &c.password, &credential_aad(c.id))?;
            Ok((LoginSource::Credential, Some(c.spec.login), password))
        }
        None if m.login.is_some() => Ok((
            LoginSource::Mapping,
            m.login.clone(),
            super::databases::open_password(b, &m.password, &mapping_aad(m.id))?,
        )),
        None => Ok((LoginSource::None, None, None)),
    }
}

/// Test Connection as an account's mapping (manage-database-servers, and the account visible).
pub async fn test_mapping(
    b: &Backend,
    ctx: &Ctx,
    org: OrgId,
    username: &str,
    db_id: &str,
) -> Result<ConnectionTest, Error> {
    let (actor, member, _) = reader(b, ctx, org)?;
    policy::can_test_mapping(actor, member).map_err(Error::Forbidden)?;
    let user = super::users::visible_in(b, ctx, org, username).await?;
    let db = b.store.find_database(org, &databases::db_id_key(db_id.trim())).await?.ok_or_else(no_database)?;
    let m = b.store.find_mapping(user.id, db.id).await?.ok_or_else(|| Error::not_found("Database mapping"))?;
    let (_, login, password) = mapping_login(b, &m).await?;
    let test = probe_throttled(b, ctx, &db.spec, login.as_deref(), password.as_deref()).await?;
    let mut tx = b.store.begin().await?;
    tx.record_mapping_test(m.id, &test).await?;
    let mut ev = audit(b, ctx, "database_mapping.tested", test.outcome.ok());
    ev.org_id = Some(org);
    ev.target = Some(user.username.clone());
    ev.after = Some(json!({
        "db_id": db.spec.db_id, "outcome": test.outcome.as_str(), "message": test.message, "millis": test.millis,
        "login": login,
    }));
    tx.insert_audit(&ev).await?;
    tx.commit().await?;
    Ok(test)
}

/// Gives the account `to` a copy of every mapping of `from` (copying an account), inside the
/// caller's transaction. Passwords of their own are opened and sealed again for the new rows
/// (a seal is bound to its row).
pub(crate) async fn copy_mappings(b: &Backend, tx: &mut Box<dyn Tx>, from: UserId, to: UserId) -> Result<u64, Error> {
    let now = b.now();
    let mut n = 0;
    for m in tx.mappings_of(from).await? {
        let password = super::databases::open_password(b, &m.password, &mapping_aad(m.id))?;
        let mut copy = MappingRecord {
            id: 0,
            user_id: to,
            password: None,
            created_at: now,
            updated_at: now,
            last_test: None,
            ..m
        };
        copy.id = tx.insert_mapping(&copy).await?;
        if let Some(p) = password {
            copy.password = Some(b.secrets.seal(p.as_bytes(), &mapping_aad(copy.id)));
            tx.update_mapping(&copy).await?;
        }
        n += 1;
    }
    Ok(n)
}

// ---- what the data tools ask ----

/// The login and password a data tool must use for `username` on database `db_id` (SlashDB's
/// look-up when a user queries a database): the account's own mapping, else the shared
/// credential it is mapped to, else, for super admins, the definition's default login.
/// `org` (an id or name) picks the organization when several define `db_id`. Super admins
/// and tokens holding view-credentials there only; every read is audited.
pub async fn database_login(
    b: &Backend,
    ctx: &Ctx,
    username: &str,
    db_id: &str,
    org: Option<&str>,
) -> Result<DatabaseLogin, Error> {
    ctx.actor()?;
    let token = matches!(&ctx.caller, Caller::User(u) if u.token.is_some());
    let allowed = |org: OrgId| -> Result<(), Error> {
        let (actor, member, _) = reader(b, ctx, org)?;
        policy::can_read_database_login(actor, member, token).map_err(Error::Forbidden)
    };
    let key = databases::db_id_key(db_id.trim());
    let db = match org.map(str::trim).filter(|o| !o.is_empty()) {
        Some(o) => {
            let org = super::orgs::visible(b, ctx, o)?;
            allowed(org)?;
            b.store.find_database(org, &key).await?.ok_or_else(no_database)?
        }
        None => {
            let found = b.store.databases_by_key(&key, 20).await?;
            let mut readable = Vec::new();
            let mut refusal = None;
            for d in found {
                match allowed(d.org_id) {
                    Ok(()) => readable.push(d),
                    Err(e) => refusal = refusal.or(Some(e)),
                }
            }
            match (readable.len(), refusal) {
                (1, _) => readable.remove(0),
                (0, Some(e)) => return Err(e),
                (0, None) => return Err(no_database()),
                _ => {
                    let m = b.access.read();
                    let names: Vec<String> = readable.iter().filter_map(|d| m.orgs.get(&d.org_id).cloned()).collect();
                    return Err(Error::Conflict {
                        field: Some("org".into()),
                        message: format!(
                            "Several organizations define database '{}' ({}): name one with ?org=.",
                            db_id.trim(),
                            names.join(", ")
                        ),
                    });
                }
            }
        }
    };
    // (allowed to ask; a person in a browser also proves it is them again first)
    super::sudo_reveal(b, ctx)?;
    let org_id = db.org_id;
    let org_name = b.access.read().orgs.get(&org_id).cloned().ok_or_else(|| Error::not_found("Organization"))?;
    let user =
        b.store.user_by_username(&validate::username_key(username)).await?.ok_or_else(|| Error::not_found("User"))?;
    // Only the organization's accounts (and super admins, who may use the default login).
    if !(user.super_admin || b.access.read().is_member(user.id, org_id) || user.public) {
        return Err(Error::not_found("User"));
    }
    if user.status != UserStatus::Active {
        return Err(Error::Conflict {
            field: None,
            message: format!("The account '{}' is disabled: it has no database access.", user.username),
        });
    }
    let (source, credential, login, password) = match b.store.find_mapping(user.id, db.id).await? {
        Some(m) => {
            let (source, login, password) = mapping_login(b, &m).await?;
            (source, m.credential_name.clone(), login, password)
        }
        None if user.super_admin && db.spec.default_login.is_some() => (
            LoginSource::Default,
            None,
            db.spec.default_login.clone(),
            super::databases::open_default_password(b, &db)?,
        ),
        None => {
            return Err(Error::NotFound {
                what: format!("Database access for '{}' on '{}'", user.username, db.spec.db_id),
            })
        }
    };
    let mut tx = b.store.begin().await?;
    let mut ev = audit(b, ctx, "database_login.read", true);
    ev.org_id = Some(org_id);
    ev.target = Some(user.username.clone());
    ev.after = Some(json!({
        "db_id": db.spec.db_id, "source": source, "credential": credential, "login": login,
    }));
    tx.insert_audit(&ev).await?;
    tx.commit().await?;
    let s = db.spec;
    Ok(DatabaseLogin {
        username: user.username,
        org: OrgRef { id: org_id.0, name: org_name },
        db_id: s.db_id,
        engine: s.engine,
        host: s.host,
        port: s.port,
        name: s.name,
        tls: s.tls,
        source,
        credential,
        login,
        password,
    })
}
