//! Organizations and their members. Super admins create, rename and delete organizations;
//! holders of manage-users in an organization add existing accounts to it, change their role
//! and extra grants, and remove them — never granting more than they hold themselves, never
//! changing their own access.
use serde_json::json;

use super::{actor_in, audit, commit_access, global_admin_tx, validate_name};
use crate::backend::access::Change;
use crate::backend::store::{MemberRecord, OrgRecord, Tx};
use crate::backend::{Backend, Ctx};
use crate::domain::abilities::AbilitySet;
use crate::domain::error::Error;
use crate::domain::ids::{OrgId, RoleId, DEFAULT_ORG};
use crate::domain::orgs::{Candidate, Member, MemberPage, Membership, Org, OrgRef};
use crate::domain::policy::{self, Actor};
use crate::domain::validate;

const PAGE: u32 = 50;

fn to_org(o: OrgRecord) -> Org {
    Org { id: o.id.0, name: o.name, members: o.members, require_2fa: o.require_2fa }
}

/// Organizations the caller may see: all for super admins (and the CLI), their own otherwise.
pub async fn list(b: &Backend, ctx: &Ctx) -> Result<Vec<Org>, Error> {
    let actor = ctx.actor()?;
    let all = b.store.list_orgs().await?;
    Ok(match actor {
        Some(a) if !a.super_admin => {
            let m = b.access.read();
            all.into_iter().filter(|o| m.is_member(a.id, o.id)).map(to_org).collect()
        }
        _ => all.into_iter().map(to_org).collect(),
    })
}

/// An organization by id or name, as the caller may see it: super admins (and the CLI) see
/// every organization, everyone else only those they belong to. An organization the caller
/// may not see is "not found", exactly like one that does not exist (no probing for names).
pub fn visible(b: &Backend, ctx: &Ctx, key: &str) -> Result<OrgId, Error> {
    let actor = ctx.actor()?;
    let org = resolve(b, key)?;
    match actor {
        Some(a) if !a.super_admin && !b.access.read().is_member(a.id, org) => Err(Error::not_found("Organization")),
        _ => Ok(org),
    }
}

/// An organization by id or (case-insensitive) name, whoever asks (the CLI; callers that
/// answer to a person use `visible`).
pub fn resolve(b: &Backend, key: &str) -> Result<OrgId, Error> {
    let m = b.access.read();
    let id = match key.trim().parse::<i64>() {
        Ok(id) => Some(OrgId(id)).filter(|o| m.orgs.contains_key(o)),
        Err(_) => m.org_id(key.trim()),
    };
    id.ok_or_else(|| Error::not_found("Organization"))
}

pub async fn create(b: &Backend, ctx: &Ctx, name: &str) -> Result<Org, Error> {
    let name = validate_name("name", "organization", name)?;
    let (_w, mut tx) = global_admin_tx(b, ctx, policy::can_manage_orgs).await?;
    let id = tx.insert_org(&name, b.now()).await?;
    let mut ev = audit(b, ctx, "org.created", true);
    ev.org_id = Some(id);
    ev.target = Some(format!("org:{name}"));
    ev.after = Some(json!({ "id": id.0, "name": name }));
    tx.insert_audit(&ev).await?;
    commit_access(b, tx, Change::Org(id)).await?;
    Ok(Org { id: id.0, name, members: 0, require_2fa: false })
}

pub async fn rename(b: &Backend, ctx: &Ctx, org: OrgId, name: &str) -> Result<Org, Error> {
    let name = validate_name("name", "organization", name)?;
    let (_w, mut tx) = global_admin_tx(b, ctx, policy::can_manage_orgs).await?;
    let before = tx.org(org).await?.ok_or_else(|| Error::not_found("Organization"))?;
    let members = tx.org_member_count(org).await?;
    tx.rename_org(org, &name).await?;
    let mut ev = audit(b, ctx, "org.renamed", true);
    ev.org_id = Some(org);
    ev.target = Some(format!("org:{name}"));
    ev.before = Some(json!({ "name": before.name }));
    ev.after = Some(json!({ "name": name }));
    tx.insert_audit(&ev).await?;
    commit_access(b, tx, Change::Org(org)).await?;
    Ok(Org { id: org.0, name, members, require_2fa: before.require_2fa })
}

/// Deletes an organization and its memberships (the accounts stay). The default
/// organization stays: new accounts and orphaned sessions fall back to it.
pub async fn delete(b: &Backend, ctx: &Ctx, org: OrgId) -> Result<(), Error> {
    let (_w, mut tx) = global_admin_tx(b, ctx, policy::can_manage_orgs).await?;
    let before = tx.org(org).await?.ok_or_else(|| Error::not_found("Organization"))?;
    if org == DEFAULT_ORG {
        return Err(Error::Conflict {
            field: None,
            message: "The default organization cannot be deleted: new accounts and sessions fall back to it.".into(),
        });
    }
    let members = tx.org_member_count(org).await?;
    tx.delete_org(org, DEFAULT_ORG).await?;
    let mut ev = audit(b, ctx, "org.deleted", true);
    ev.org_id = Some(org);
    ev.target = Some(format!("org:{}", before.name));
    ev.before = Some(json!({ "id": org.0, "name": before.name, "members": members }));
    tx.insert_audit(&ev).await?;
    let note = super::EventNote { name: Some(before.name), orgs: vec![] };
    super::commit_access_noting(b, tx, Change::Org(org), note).await?;
    Ok(())
}

fn to_member(m: MemberRecord) -> Member {
    Member {
        username: m.user.username,
        full_name: m.user.full_name,
        email: m.user.email,
        status: m.user.status,
        super_admin: m.user.super_admin,
        public: m.user.public,
        role: m.role_name,
        role_id: m.role.0,
        extras: m.extras,
        other_orgs: m.org_count > 1,
        source: m.source,
    }
}

/// The caller in `org` from the in-memory model, for read-only decisions.
fn reader(b: &Backend, ctx: &Ctx, org: OrgId) -> Result<Option<Actor>, Error> {
    ctx.reader(b, org)
}

/// Members of `org` in username order, 50 a page, after the username `after`.
pub async fn members(
    b: &Backend,
    ctx: &Ctx,
    org: OrgId,
    search: Option<String>,
    after: Option<String>,
) -> Result<MemberPage, Error> {
    let actor = reader(b, ctx, org)?;
    let (name, member) = {
        let m = b.access.read();
        let name = m.orgs.get(&org).cloned().ok_or_else(|| Error::not_found("Organization"))?;
        (name, actor.is_some_and(|a| m.is_member(a.id, org)))
    };
    policy::can_view_members(actor, member).map_err(Error::Forbidden)?;
    let search = search.map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty());
    if search.as_ref().is_some_and(|s| s.chars().count() > 200) {
        return Err(Error::invalid("search", "Search text must be at most 200 characters."));
    }
    let after = after.map(|a| validate::username_key(&a)).filter(|a| !a.is_empty());
    let mut rows = b.store.list_members(org, search.as_deref(), after.as_deref(), PAGE + 1).await?;
    let more = rows.len() > PAGE as usize;
    rows.truncate(PAGE as usize);
    let next = if more { rows.last().map(|r| r.user.username.clone()) } else { None };
    Ok(MemberPage { org: OrgRef { id: org.0, name }, members: rows.into_iter().map(to_member).collect(), next })
}

/// Accounts the caller may add to `org` whose username, name or email contains `search`:
/// any account for super admins, the accounts that list the caller for anyone else holding
/// manage-users (see `policy::can_pull_in`). Members already there, and the public account,
/// are left out. At most 10.
pub async fn candidates(b: &Backend, ctx: &Ctx, org: OrgId, search: &str) -> Result<Vec<Candidate>, Error> {
    let actor = reader(b, ctx, org)?;
    let search = search.trim().to_lowercase();
    if search.chars().count() > 200 {
        return Err(Error::invalid("search", "Search text must be at most 200 characters."));
    }
    policy::can_pull_in(actor, true).map_err(Error::Forbidden)?;
    if search.is_empty() {
        return Ok(Vec::new());
    }
    const LIMIT: u32 = 10;
    let rows = match actor {
        Some(a) if !a.super_admin => b.store.accounts_listing(a.id, &search, LIMIT * 2).await?,
        _ => {
            use crate::backend::store::{Seek, UserListQuery};
            use crate::domain::users::{SortDir, SortField};
            let q = UserListQuery {
                search: Some(search),
                sort: SortField::Username,
                dir: SortDir::Asc,
                seek: Seek::First,
                limit: LIMIT * 2,
                legacy_hash: false,
            };
            b.store.list_users(&q).await?
        }
    };
    let m = b.access.read();
    Ok(rows
        .into_iter()
        .filter(|u| !u.public && !m.is_member(u.id, org))
        .take(LIMIT as usize)
        .map(|u| Candidate { username: u.username, full_name: u.full_name })
        .collect())
}

/// The organizations an account belongs to, with its role in each.
pub async fn memberships(b: &Backend, ctx: &Ctx, username: &str) -> Result<Vec<Membership>, Error> {
    // Seeing an account's memberships is seeing the account.
    super::users::get(b, ctx, username).await?;
    let id = b.access.read().user_id(username).ok_or_else(|| Error::not_found("User"))?;
    // Organizations the caller does not belong to stay unnamed (super admins see them all).
    let viewer = match ctx.actor()? {
        Some(a) if !a.super_admin => Some(a.id),
        _ => None,
    };
    let rows = b.store.memberships_of(id).await?;
    let rows: Vec<_> = {
        let m = b.access.read();
        rows.into_iter().filter(|r| viewer.is_none_or(|v| m.is_member(v, r.org))).collect()
    };
    Ok(rows
        .into_iter()
        .map(|m| Membership {
            org: OrgRef { id: m.org.0, name: m.org_name },
            role: m.role_name,
            role_id: m.role.0,
            extras: m.extras,
        })
        .collect())
}

/// Adds an existing account to `org` with a role and extra abilities, or (with `upsert`)
/// changes the role and extras of a member.
pub async fn set_member(
    b: &Backend,
    ctx: &Ctx,
    org: OrgId,
    username: &str,
    role: RoleId,
    extras: AbilitySet,
    add: bool,
) -> Result<Member, Error> {
    ctx.actor()?;
    super::sudo_grants(b, ctx)?;
    let _w = b.access.writer().await;
    let mut tx = b.store.begin().await?;
    let org_rec = tx.org(org).await?.ok_or_else(|| Error::not_found("Organization"))?;
    let target =
        tx.user_by_username(&validate::username_key(username)).await?.ok_or_else(|| Error::not_found("User"))?;
    let role_rec = tx.role(role).await?.ok_or_else(|| Error::invalid("role", "There is no such role."))?;
    set_member_in(b, ctx, &mut tx, &org_rec, &target, &role_rec, extras, add).await?;
    let org_count = tx.memberships(target.id).await?.len() as i64;
    commit_access(b, tx, Change::User(target.id)).await?;
    Ok(to_member(MemberRecord { user: target, role, role_name: role_rec.name, extras, org_count, source: None }))
}

/// Adds (`add`) or changes a membership inside the caller's transaction: the rules (pulling
/// in only accounts one can see, never beyond one's own abilities, never oneself), the write
/// and its audit event. Shared with bulk actions.
#[allow(clippy::too_many_arguments)]
pub(super) async fn set_member_in(
    b: &Backend,
    ctx: &Ctx,
    tx: &mut Box<dyn Tx>,
    org_rec: &crate::backend::store::OrgRecord,
    target: &crate::backend::store::UserRecord,
    role_rec: &crate::backend::store::RoleRecord,
    extras: AbilitySet,
    add: bool,
) -> Result<(), Error> {
    let (org, role) = (org_rec.id, role_rec.id);
    let actor = actor_in(tx, ctx, org).await?;
    let current = tx.membership(org, target.id).await?;
    // Pulling in an account from elsewhere: org admins may only add accounts they can
    // already see (on their view or edit list); any other account is "not found", like one
    // that does not exist, so names in other organizations cannot be probed or pulled in
    // to read their details. Super admins (and the CLI) add anyone.
    if let Some(a) = actor.filter(|a| current.is_none() && a.id != target.id) {
        let listed = !a.super_admin && tx.account_level(target.id, a.id).await?.is_some();
        if !policy::can_pull_in(actor, listed).map_err(Error::Forbidden)? {
            return Err(Error::not_found("User"));
        }
    }
    let before = match current {
        Some(g) => {
            let role_abilities = tx.role(g.role).await?.map(|r| r.abilities).unwrap_or_default();
            Some((g, role_abilities.union(g.extras)))
        }
        None => None,
    };
    let granted = role_rec.abilities.union(extras);
    let held_before = before.map(|(_, s)| s).unwrap_or_default();
    // The rules first: asking about yourself or beyond your abilities is refused whether or
    // not the membership exists.
    policy::can_set_access(actor, target.id, held_before, granted).map_err(Error::Forbidden)?;
    match (add, before.is_some()) {
        (true, true) => {
            return Err(Error::Conflict {
                field: Some("username".into()),
                message: format!("{} is already a member of {}.", target.username, org_rec.name),
            })
        }
        (false, false) => return Err(Error::not_found("Member")),
        _ => {}
    }
    if before.is_none() {
        tx.add_membership(org, target.id, role, b.now()).await?;
    } else {
        tx.set_member_role(org, target.id, role).await?;
    }
    tx.set_member_extras(org, target.id, extras).await?;
    let mut ev = audit(b, ctx, if add { "member.added" } else { "member.updated" }, true);
    ev.org_id = Some(org);
    ev.target = Some(target.username.clone());
    ev.before = before.map(|(g, _)| json!({ "org": org_rec.name, "role_id": g.role.0, "extras": g.extras.codes() }));
    ev.after = Some(json!({ "org": org_rec.name, "role": role_rec.name, "extras": extras.codes() }));
    tx.insert_audit(&ev).await?;
    Ok(())
}

pub async fn remove_member(b: &Backend, ctx: &Ctx, org: OrgId, username: &str) -> Result<(), Error> {
    ctx.actor()?;
    let _w = b.access.writer().await;
    let mut tx = b.store.begin().await?;
    let org_rec = tx.org(org).await?.ok_or_else(|| Error::not_found("Organization"))?;
    let target =
        tx.user_by_username(&validate::username_key(username)).await?.ok_or_else(|| Error::not_found("User"))?;
    remove_member_in(b, ctx, &mut tx, &org_rec, &target).await?;
    // (the organization it left is told too: its tools drop what they cached)
    let note = super::EventNote { name: None, orgs: vec![org] };
    super::commit_access_noting(b, tx, Change::User(target.id), note).await?;
    Ok(())
}

/// Removes a membership inside the caller's transaction (rules, write, audit). Shared with
/// bulk actions.
pub(super) async fn remove_member_in(
    b: &Backend,
    ctx: &Ctx,
    tx: &mut Box<dyn Tx>,
    org_rec: &crate::backend::store::OrgRecord,
    target: &crate::backend::store::UserRecord,
) -> Result<(), Error> {
    let org = org_rec.id;
    let actor = actor_in(tx, ctx, org).await?;
    policy::can_remove_member(actor, target.id).map_err(Error::Forbidden)?;
    let g = tx.membership(org, target.id).await?.ok_or_else(|| Error::not_found("Member"))?;
    tx.remove_membership(org, target.id).await?;
    let mut ev = audit(b, ctx, "member.removed", true);
    ev.org_id = Some(org);
    ev.target = Some(target.username.clone());
    ev.before = Some(json!({ "org": org_rec.name, "role_id": g.role.0, "extras": g.extras.codes() }));
    tx.insert_audit(&ev).await?;
    Ok(())
}
