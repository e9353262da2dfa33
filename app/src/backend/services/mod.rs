//! Use cases, one module per resource. Every adapter (server functions, JSON API, CLI) calls
//! these; none of them checks permissions or writes on its own.
pub mod access;
pub mod audit;
pub mod auth;
pub mod bulk;
pub mod clients;
#[cfg(feature = "postgres")]
pub mod copy_database;
pub mod database_access;
pub mod databases;
pub mod export;
pub mod forward;
pub mod import;
pub mod instance_key;
pub mod invitations;
pub mod orgs;
pub mod passkeys;
pub mod profile;
pub mod provider;
pub mod rehash;
pub mod roles;
pub mod scim;
pub mod scim_mappings;
pub mod secrets;
pub mod security;
pub mod signing_keys;
pub mod sso;
pub mod throttles;
pub mod tokens;
pub mod users;
pub mod webhooks;

use serde_json::json;

use super::access::Change;
use super::store::{AuditRecord, Tx, UserRecord};
use super::{Backend, Caller, Ctx};
use crate::domain::error::Error;
use crate::domain::ids::{OrgId, DEFAULT_ORG};
use crate::domain::policy::{Actor, Target};

/// The caller as a policy actor in `org`, with its super admin flag and abilities read in
/// the write transaction (a demotion committed a moment ago counts). `None`: the CLI.
/// How many active super admins there are, when it matters: the rules that keep the last one
/// look at the count only for an account that is an active super admin itself, so for any
/// other account the query is skipped (bulk actions run these rules on every selected account).
pub(crate) async fn super_admins_if_needed(tx: &mut Box<dyn Tx>, target: &UserRecord) -> Result<i64, Error> {
    if target.super_admin && target.status == crate::domain::users::UserStatus::Active {
        Ok(tx.active_super_admins().await?)
    } else {
        Ok(0)
    }
}

pub(crate) async fn actor_in(tx: &mut Box<dyn Tx>, ctx: &Ctx, org: OrgId) -> Result<Option<Actor>, Error> {
    match &ctx.caller {
        Caller::Cli => Ok(None),
        Caller::Anonymous => Err(Error::Unauthenticated),
        Caller::User(u) if u.needs_two_factor => {
            Err(Error::Forbidden(crate::domain::policy::Denied::TwoFactorRequired))
        }
        Caller::User(u) => {
            let (super_admin, abilities) = tx.actor_facts(u.id, org).await?.ok_or(Error::Unauthenticated)?;
            let (super_admin, abilities) = u.narrow(super_admin, abilities);
            Ok(Some(Actor { id: u.id, super_admin, abilities }))
        }
    }
}

/// The policy's view of an account, with its memberships and the caller's place on its
/// access lists read in the transaction. An account the actor may not see (not in `org`,
/// not on the actor's lists) is "not found", exactly like one that does not exist.
pub(crate) async fn target_of(
    tx: &mut Box<dyn Tx>,
    ctx: &Ctx,
    actor: Option<Actor>,
    org: OrgId,
    u: &UserRecord,
) -> Result<Target, Error> {
    let orgs = tx.memberships(u.id).await?;
    let listed = match ctx.actor_id() {
        Some(me) => tx.account_level(u.id, me).await?,
        None => None,
    };
    if !crate::domain::policy::sees_account(actor, orgs.contains(&org), listed) {
        return Err(Error::not_found("User"));
    }
    Ok(Target {
        id: u.id,
        super_admin: u.super_admin,
        status: u.status,
        public: u.public,
        sole_org: if orgs.len() == 1 { orgs.first().copied() } else { None },
        listed,
    })
}

/// Opens an access-changing transaction for a global setting (roles, organizations): takes
/// the access writer lock, begins, and checks `rule` against the caller as read in the
/// transaction. Hold the guard until `commit_access` has run.
pub(crate) async fn global_admin_tx<'b>(
    b: &'b Backend,
    ctx: &Ctx,
    rule: fn(Option<Actor>) -> Result<(), crate::domain::policy::Denied>,
) -> Result<(tokio::sync::MutexGuard<'b, ()>, Box<dyn Tx>), Error> {
    ctx.actor()?;
    let guard = b.access.writer().await;
    let mut tx = b.store.begin().await?;
    rule(actor_in(&mut tx, ctx, ctx.org()).await?).map_err(Error::Forbidden)?;
    Ok((guard, tx))
}

/// Commits a transaction that changed access, then brings the in-memory model up to date
/// before the caller answers. Call while holding `b.access.writer()`.
pub(crate) async fn commit_access(b: &Backend, tx: Box<dyn Tx>, change: Change) -> Result<(), Error> {
    commit_access_noting(b, tx, change, EventNote::default()).await
}

/// What the event of a change cannot read back once the change is written: the name of
/// what was deleted, the organizations an account left.
#[derive(Debug, Default)]
pub(crate) struct EventNote {
    pub name: Option<String>,
    pub orgs: Vec<OrgId>,
}

/// `commit_access`, with what the event needs beyond what the transaction still holds.
pub(crate) async fn commit_access_noting(
    b: &Backend,
    mut tx: Box<dyn Tx>,
    change: Change,
    note: EventNote,
) -> Result<(), Error> {
    let version = record_change(b, &mut tx, change, note).await?;
    tx.commit().await?;
    b.access.apply(b.store.as_ref(), version, change).await?;
    Ok(())
}

/// Moves the access version and writes the change's event to the outbox, in the change's
/// own transaction: the event exists if and only if the change commits, and (writers taking
/// turns) event ids follow commit order. Answers the new version.
pub(crate) async fn record_change(
    b: &Backend,
    tx: &mut Box<dyn Tx>,
    change: Change,
    note: EventNote,
) -> Result<i64, Error> {
    let version = tx.bump_access_version(change).await?;
    let (kind, subject_id, name, mut orgs) = match change {
        Change::User(u) => ("user", Some(u.0), tx.user_by_id(u).await?.map(|r| r.username), tx.memberships(u).await?),
        Change::Role(r) => ("role", Some(r.0), tx.role(r).await?.map(|r| r.name), vec![]),
        Change::Org(o) => ("org", Some(o.0), tx.org(o).await?.map(|r| r.name), vec![o]),
        Change::All => ("all", None, None, vec![]),
    };
    for o in note.orgs {
        if !orgs.contains(&o) {
            orgs.push(o);
        }
    }
    let event = crate::backend::store::EventRecord {
        id: 0,
        at: b.now(),
        kind: kind.to_string(),
        subject_id,
        name: name.or(note.name),
        orgs,
        version,
    };
    tx.insert_event(&event).await?;
    Ok(version)
}

/// Sudo mode for credentials (password, email, second factors, tokens): a session that
/// signed in or re-authenticated recently; never a token. The CLI is trusted.
pub(crate) fn sudo_credentials(b: &Backend, ctx: &Ctx) -> Result<(), Error> {
    match &ctx.caller {
        Caller::Cli => Ok(()),
        Caller::Anonymous => Err(Error::Unauthenticated),
        Caller::User(u) => {
            let auth_at = if u.token.is_some() { None } else { ctx.auth_at };
            crate::domain::policy::recent_auth(auth_at, b.now(), b.config.sudo_ms).map_err(Error::Forbidden)
        }
    }
}

/// Sudo mode for granting roles and abilities: a recent sign-in for sessions. Tokens pass:
/// automation has no one to ask, and a token's scope already bounds what it may grant.
pub(crate) fn sudo_grants(b: &Backend, ctx: &Ctx) -> Result<(), Error> {
    match &ctx.caller {
        Caller::User(u) if u.token.is_some() => Ok(()),
        _ => sudo_credentials(b, ctx),
    }
}

/// Sudo mode for revealing a stored database password in the clear (the tools' login
/// endpoint): a recent sign-in for sessions; tokens pass, as the data tools that ask are
/// automation with no one to re-authenticate.
pub(crate) fn sudo_reveal(b: &Backend, ctx: &Ctx) -> Result<(), Error> {
    sudo_grants(b, ctx)
}

/// An audit event stamped with the caller and the request's origin.
pub(crate) fn audit(b: &Backend, ctx: &Ctx, event: &'static str, success: bool) -> AuditRecord {
    AuditRecord {
        at: b.now(),
        actor_id: ctx.actor_id(),
        actor: ctx.actor_name(),
        org_id: Some(match &ctx.caller {
            Caller::User(u) => u.org,
            _ => DEFAULT_ORG,
        }),
        event,
        success,
        ip: ctx.ip.clone(),
        user_agent: ctx.user_agent.clone(),
        ..Default::default()
    }
}

/// An audit event for a change that belongs to no organization (roles, single sign-on
/// providers, instance settings): not filed under the organization the admin happened to be
/// working in.
pub(crate) fn audit_global(b: &Backend, ctx: &Ctx, event: &'static str, success: bool) -> AuditRecord {
    AuditRecord { org_id: None, ..audit(b, ctx, event, success) }
}

/// The first field error of `e` (a name checked by `validate_name` reports one), else `e` as a
/// message on `field`.
pub(crate) fn first_field(e: Error, field: &'static str) -> crate::domain::FieldError {
    match e {
        Error::Invalid { mut errors } if !errors.is_empty() => errors.remove(0),
        other => crate::domain::FieldError::new(field, other.to_string()),
    }
}

/// What the audit trail records of an account: never the password hash.
pub(crate) fn user_snapshot(u: &UserRecord) -> serde_json::Value {
    json!({
        "username": u.username,
        "full_name": u.full_name,
        "email": u.email,
        "status": u.status.as_str(),
        "super_admin": u.super_admin,
    })
}

/// A name for a role or an organization: trimmed, 1 to 64 characters, no control characters.
pub(crate) fn validate_name(field: &str, what: &str, raw: &str) -> Result<String, Error> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(Error::invalid(field, format!("Enter a name for the {what}.")));
    }
    if name.chars().count() > 64 {
        return Err(Error::invalid(field, format!("The {what} name must be at most 64 characters.")));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::invalid(field, format!("The {what} name cannot contain control characters.")));
    }
    // Names and ids are accepted in the same places (API paths, CLI arguments).
    if name.chars().all(|c| c.is_ascii_digit()) {
        return Err(Error::invalid(field, format!("The {what} name cannot be only digits: those are ids.")));
    }
    Ok(name.to_string())
}

/// Collects field errors so a form shows all of them at once.
#[derive(Default)]
pub(crate) struct Fields(Vec<crate::domain::FieldError>);

impl Fields {
    pub fn take<T>(&mut self, r: Result<T, crate::domain::FieldError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(e);
                None
            }
        }
    }
    pub fn finish(self) -> Result<(), crate::domain::Error> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(crate::domain::Error::Invalid { errors: self.0 })
        }
    }
}
