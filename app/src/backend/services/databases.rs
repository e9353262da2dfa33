//! Database definitions of an organization (issue 12): who may see, add, change and delete
//! them (`policy::can_*_database*`), each change in one transaction with its audit event.
//! The default login's password is sealed with the instance key, bound to the row's id (a
//! sealed value copied to another row does not open), and never leaves the server through
//! here: views carry only whether one is set.
use serde_json::json;

use super::{actor_in, audit};
use crate::backend::db_probe::{self, Target};
use crate::backend::store::{DatabaseRecord, Tx};
use crate::backend::{Backend, Caller, Ctx};
use crate::domain::databases::{self, ConnectionTest, Database, DatabaseInput, DatabasePage, DatabasePatch};
use crate::domain::error::Error;
use crate::domain::ids::OrgId;
use crate::domain::orgs::OrgRef;
use crate::domain::policy::{self, Actor, Denied};

const PAGE: u32 = 50;

/// What a sealed default password is bound to.
pub(crate) fn default_password_aad(id: i64) -> String {
    format!("database:{id}:default_password")
}

fn to_view(r: &DatabaseRecord) -> Database {
    let s = &r.spec;
    Database {
        db_id: s.db_id.clone(),
        engine: s.engine,
        host: s.host.clone(),
        port: s.port,
        name: s.name.clone(),
        tls: s.tls,
        description: s.description.clone(),
        default_login: s.default_login.clone(),
        default_password_set: r.default_password.is_some(),
        created_at: r.created_at,
        updated_at: r.updated_at,
        last_test: r.last_test.clone(),
    }
}

/// What the audit trail keeps of a definition: everything but the password.
pub(super) fn snapshot(r: &DatabaseRecord) -> serde_json::Value {
    let s = &r.spec;
    json!({
        "db_id": s.db_id, "engine": s.engine.as_str(), "host": s.host, "port": s.port, "name": s.name,
        "tls": s.tls.as_str(), "description": s.description, "default_login": s.default_login,
        "default_password": if r.default_password.is_some() { "set" } else { "none" },
    })
}

fn not_found() -> Error {
    Error::not_found("Database")
}

/// The caller in `org` from the in-memory model, with its membership there and the
/// organization's name, for reads.
pub(super) fn reader(b: &Backend, ctx: &Ctx, org: OrgId) -> Result<(Option<Actor>, bool, String), Error> {
    let actor = ctx.reader(b, org)?;
    let m = b.access.read();
    let name = m.orgs.get(&org).cloned().ok_or_else(|| Error::not_found("Organization"))?;
    Ok((actor, actor.is_none_or(|a| m.is_member(a.id, org)), name))
}

/// Opens the write transaction and checks `rule` against the caller as read in it (a
/// membership or role removed a moment ago counts).
pub(super) async fn writer(
    b: &Backend,
    ctx: &Ctx,
    org: OrgId,
    rule: fn(Option<Actor>, bool) -> Result<(), Denied>,
) -> Result<Box<dyn Tx>, Error> {
    // Refused before a transaction is opened when the model already says no.
    let (actor, member, _) = reader(b, ctx, org)?;
    rule(actor, member).map_err(Error::Forbidden)?;
    let mut tx = b.store.begin().await?;
    let actor = actor_in(&mut tx, ctx, org).await?;
    let member = match (&ctx.caller, actor) {
        (Caller::User(_), Some(a)) => tx.memberships(a.id).await?.contains(&org),
        _ => true,
    };
    rule(actor, member).map_err(Error::Forbidden)?;
    Ok(tx)
}

/// An organization's definitions by id (case-insensitive), `PAGE` at a time, after `after`.
pub async fn list(b: &Backend, ctx: &Ctx, org: OrgId, after: Option<String>) -> Result<DatabasePage, Error> {
    let (actor, member, name) = reader(b, ctx, org)?;
    policy::can_view_databases(actor, member).map_err(Error::Forbidden)?;
    let after = after.map(|a| databases::db_id_key(a.trim())).filter(|a| !a.is_empty());
    let mut rows = b.store.list_databases(org, after.as_deref(), PAGE + 1).await?;
    let more = rows.len() > PAGE as usize;
    rows.truncate(PAGE as usize);
    let next = if more { rows.last().map(|r| r.spec.db_id.clone()) } else { None };
    Ok(DatabasePage { org: OrgRef { id: org.0, name }, databases: rows.iter().map(to_view).collect(), next })
}

pub async fn get(b: &Backend, ctx: &Ctx, org: OrgId, db_id: &str) -> Result<Database, Error> {
    let (actor, member, _) = reader(b, ctx, org)?;
    policy::can_view_databases(actor, member).map_err(Error::Forbidden)?;
    let r = b.store.find_database(org, &databases::db_id_key(db_id.trim())).await?.ok_or_else(not_found)?;
    Ok(to_view(&r))
}

pub async fn create(b: &Backend, ctx: &Ctx, org: OrgId, input: DatabaseInput) -> Result<Database, Error> {
    let mut tx = writer(b, ctx, org, policy::can_create_database).await?;
    let spec = databases::spec(&input)?;
    let record = insert_definition(b, &mut tx, org, spec, &input.default_password).await?;
    let mut ev = audit(b, ctx, "database.created", true);
    ev.org_id = Some(org);
    ev.target = Some(format!("database:{}", record.spec.db_id));
    ev.after = Some(snapshot(&record));
    tx.insert_audit(&ev).await?;
    tx.commit().await?;
    Ok(to_view(&record))
}

/// Stores a new definition (checked by `databases::spec`) and its default password, if any:
/// sealed once the row has its id, which the seal is bound to.
pub(super) async fn insert_definition(
    b: &Backend,
    tx: &mut Box<dyn Tx>,
    org: OrgId,
    spec: databases::DatabaseSpec,
    default_password: &str,
) -> Result<DatabaseRecord, Error> {
    let now = b.now();
    let mut record = DatabaseRecord {
        id: 0,
        org_id: org,
        spec,
        default_password: None,
        created_at: now,
        updated_at: now,
        last_test: None,
    };
    record.id = tx.insert_database(&record).await?;
    if !default_password.is_empty() {
        record.default_password = Some(b.secrets.seal(default_password.as_bytes(), &default_password_aad(record.id)));
        tx.update_database(&record).await?;
    }
    Ok(record)
}

/// Changes what `patch` names. An empty default login removes the login and its password; an
/// absent or empty password keeps the stored one.
pub async fn update(b: &Backend, ctx: &Ctx, org: OrgId, db_id: &str, patch: DatabasePatch) -> Result<Database, Error> {
    let mut tx = writer(b, ctx, org, policy::can_manage_database).await?;
    let before = tx.database(org, &databases::db_id_key(db_id.trim())).await?.ok_or_else(not_found)?;
    let input = patch.over(&to_view(&before));
    let spec = databases::spec(&input)?;
    let default_password = match (&spec.default_login, input.default_password.is_empty()) {
        (None, _) => None,
        (Some(_), true) => before.default_password.clone(),
        (Some(_), false) => Some(b.secrets.seal(input.default_password.as_bytes(), &default_password_aad(before.id))),
    };
    let after = DatabaseRecord { spec, default_password, updated_at: b.now(), ..before.clone() };
    tx.update_database(&after).await?;
    let mut ev = audit(b, ctx, "database.updated", true);
    ev.org_id = Some(org);
    ev.target = Some(format!("database:{}", after.spec.db_id));
    ev.before = Some(snapshot(&before));
    let mut snap = snapshot(&after);
    if after.default_password.is_some() {
        snap["default_password"] = json!(if input.default_password.is_empty() { "kept" } else { "changed" });
    }
    ev.after = Some(snap);
    tx.insert_audit(&ev).await?;
    tx.commit().await?;
    Ok(to_view(&after))
}

pub async fn delete(b: &Backend, ctx: &Ctx, org: OrgId, db_id: &str) -> Result<(), Error> {
    let mut tx = writer(b, ctx, org, policy::can_manage_database).await?;
    let before = tx.database(org, &databases::db_id_key(db_id.trim())).await?.ok_or_else(not_found)?;
    tx.delete_database(before.id).await?;
    let mut ev = audit(b, ctx, "database.deleted", true);
    ev.org_id = Some(org);
    ev.target = Some(format!("database:{}", before.spec.db_id));
    ev.before = Some(snapshot(&before));
    tx.insert_audit(&ev).await?;
    tx.commit().await?;
    Ok(())
}

/// Test Connection for a definition: a real connection as its default login (without one,
/// whether the server accepts connections), by holders of manage-database-servers. Throttled
/// per caller (failures count, as for sign-in: it would otherwise scan ports and guess
/// passwords for whoever holds the ability), kept on the definition and audited with the
/// outcome.
pub async fn test(b: &Backend, ctx: &Ctx, org: OrgId, db_id: &str) -> Result<ConnectionTest, Error> {
    let (actor, member, _) = reader(b, ctx, org)?;
    policy::can_test_database(actor, member).map_err(Error::Forbidden)?;
    let record = b.store.find_database(org, &databases::db_id_key(db_id.trim())).await?.ok_or_else(not_found)?;
    let password = open_default_password(b, &record)?;
    let test = probe_throttled(b, ctx, &record.spec, record.spec.default_login.as_deref(), password.as_deref()).await?;
    let mut tx = b.store.begin().await?;
    // (a definition deleted meanwhile keeps nothing: the update finds no row)
    tx.record_database_test(record.id, &test).await?;
    let mut ev = audit(b, ctx, "database.tested", test.outcome.ok());
    ev.org_id = Some(org);
    ev.target = Some(format!("database:{}", record.spec.db_id));
    ev.after = Some(json!({
        "outcome": test.outcome.as_str(), "message": test.message, "millis": test.millis,
        "login": record.spec.default_login,
    }));
    tx.insert_audit(&ev).await?;
    tx.commit().await?;
    Ok(test)
}

/// One Test Connection to `spec` as `login`, throttled per caller: failures count, as for
/// sign-in (it would otherwise scan ports and guess passwords for whoever may run it), and a
/// success clears the count. Definitions, credentials and mappings share one throttle.
pub(super) async fn probe_throttled(
    b: &Backend,
    ctx: &Ctx,
    spec: &databases::DatabaseSpec,
    login: Option<&str>,
    password: Option<&str>,
) -> Result<ConnectionTest, Error> {
    // The operator at the command line is not throttled; people and tokens are.
    let throttle = ctx.actor_id().map(|id| format!("dbtest:{}", id.0));
    if let Some(key) = &throttle {
        let now = b.now();
        let mut tx = b.store.begin().await?;
        if !tx.throttle_claim(key, now).await? {
            let next = tx.throttle_state(key).await?.map(|(_, next)| next).unwrap_or(now + 1_000);
            tx.commit().await?;
            return Err(Error::TooManyRequests { wait_secs: ((next - now + 999) / 1000).max(1) });
        }
        tx.commit().await?;
    }
    let probed = db_probe::probe(&b.config.database_probes, &Target { spec, login, password }).await;
    let test = ConnectionTest {
        outcome: probed.outcome,
        message: probed.message,
        millis: probed.elapsed.as_millis().min(u64::MAX as u128) as u64,
        at: b.now(),
    };
    if let (Some(key), true) = (&throttle, test.outcome.ok()) {
        let mut tx = b.store.begin().await?;
        tx.throttle_clear(key).await?;
        tx.commit().await?;
    }
    Ok(test)
}

/// The default login and its password in the clear, for the server's own use (Test
/// Connection, the credentials tools ask for): never for a view.
pub fn open_default_password(b: &Backend, r: &DatabaseRecord) -> Result<Option<String>, Error> {
    open_password(b, &r.default_password, &default_password_aad(r.id))
}

/// A sealed database password in the clear (the server's own use only); one that does not
/// open (another row's, another key's) is an internal error, never an empty password.
pub(crate) fn open_password(b: &Backend, sealed: &Option<Vec<u8>>, aad: &str) -> Result<Option<String>, Error> {
    let Some(sealed) = sealed else { return Ok(None) };
    let plain = b.secrets.open(sealed, aad).map_err(crate::backend::error::internal)?;
    Ok(Some(String::from_utf8(plain).map_err(crate::backend::error::internal)?))
}
