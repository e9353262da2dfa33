//! Roles and the role matrix. Everyone signed in may read the matrix; only super admins
//! change it. A change reaches the in-memory model before the request returns, so every
//! holder's next request is decided by it, and open pages hear of it through the event stream.
use serde_json::json;

use super::{audit_global, commit_access, global_admin_tx, validate_name};
use crate::backend::access::Change;
use crate::backend::store::RoleRecord;
use crate::backend::{Backend, Ctx};
use crate::domain::abilities::{Ability, AbilitySet};
use crate::domain::error::Error;
use crate::domain::ids::RoleId;
use crate::domain::policy::{self, Denied};
use crate::domain::roles::{Matrix, Role};

fn to_role(r: RoleRecord) -> Role {
    Role { id: r.id.0, name: r.name, abilities: r.abilities, members: r.members }
}

fn snapshot(r: &RoleRecord) -> serde_json::Value {
    json!({ "id": r.id.0, "name": r.name, "abilities": r.abilities.codes() })
}

pub async fn matrix(b: &Backend, ctx: &Ctx) -> Result<Matrix, Error> {
    let actor = ctx.actor()?;
    let roles = b.store.list_roles().await?.into_iter().map(to_role).collect();
    Ok(Matrix { roles, editable: policy::can_manage_roles(actor).is_ok() })
}

pub async fn list(b: &Backend, ctx: &Ctx) -> Result<Vec<Role>, Error> {
    Ok(matrix(b, ctx).await?.roles)
}

/// A role by id or name for a signed-in caller: roles are listed to everyone signed in, and
/// to no one else (an anonymous caller is told to sign in, whether the role exists or not).
pub fn visible(b: &Backend, ctx: &Ctx, key: &str) -> Result<RoleId, Error> {
    ctx.actor()?;
    resolve(b, key)
}

/// A role by id or (case-insensitive) name, from the access model (like `orgs::resolve`).
pub fn resolve(b: &Backend, key: &str) -> Result<RoleId, Error> {
    let key = key.trim();
    let m = b.access.read();
    let found = match key.parse::<i64>() {
        Ok(id) => Some(RoleId(id)).filter(|r| m.roles.contains_key(r)),
        Err(_) => m.roles.iter().find(|(_, r)| r.name.to_lowercase() == key.to_lowercase()).map(|(id, _)| *id),
    };
    found.ok_or_else(|| Error::not_found("Role"))
}

/// Turns one ability of one role on or off.
pub async fn set_ability(b: &Backend, ctx: &Ctx, role: RoleId, ability: Ability, on: bool) -> Result<Role, Error> {
    set_abilities(b, ctx, role, AbilitySet::of(&[ability]), on).await
}

/// Grants (`on`) or revokes several abilities of one role, in one transaction.
pub async fn set_abilities(
    b: &Backend,
    ctx: &Ctx,
    role: RoleId,
    abilities: AbilitySet,
    on: bool,
) -> Result<Role, Error> {
    super::sudo_grants(b, ctx)?;
    let (_w, mut tx) = global_admin_tx(b, ctx, policy::can_manage_roles).await?;
    let before = tx.role(role).await?.ok_or_else(|| Error::not_found("Role"))?;
    let mut after = before.clone();
    after.abilities = if on { before.abilities.union(abilities) } else { before.abilities.minus(abilities) };
    tx.set_role_abilities(role, after.abilities).await?;
    let event = if on { "role.ability_granted" } else { "role.ability_revoked" };
    let mut ev = audit_global(b, ctx, event, true);
    ev.target = Some(format!("role:{}", before.name));
    ev.before = Some(snapshot(&before));
    ev.after = Some(snapshot(&after));
    tx.insert_audit(&ev).await?;
    commit_access(b, tx, Change::Role(role)).await?;
    // Counting holders is for the answer only: the change is already in force.
    after.members = b.store.role_members(role).await?;
    Ok(to_role(after))
}

pub async fn create(b: &Backend, ctx: &Ctx, name: &str, abilities: AbilitySet) -> Result<Role, Error> {
    let name = validate_name("name", "role", name)?;
    let (_w, mut tx) = global_admin_tx(b, ctx, policy::can_manage_roles).await?;
    let id = tx.insert_role(&name, b.now()).await?;
    tx.set_role_abilities(id, abilities).await?;
    let created = tx.role(id).await?.ok_or_else(|| Error::not_found("Role"))?;
    let mut ev = audit_global(b, ctx, "role.created", true);
    ev.target = Some(format!("role:{name}"));
    ev.after = Some(snapshot(&created));
    tx.insert_audit(&ev).await?;
    commit_access(b, tx, Change::Role(id)).await?;
    Ok(to_role(created))
}

pub async fn rename(b: &Backend, ctx: &Ctx, role: RoleId, name: &str) -> Result<Role, Error> {
    let name = validate_name("name", "role", name)?;
    let (_w, mut tx) = global_admin_tx(b, ctx, policy::can_manage_roles).await?;
    let before = tx.role(role).await?.ok_or_else(|| Error::not_found("Role"))?;
    tx.rename_role(role, &name).await?;
    let mut after = RoleRecord { name: name.clone(), ..before.clone() };
    let mut ev = audit_global(b, ctx, "role.renamed", true);
    ev.target = Some(format!("role:{name}"));
    ev.before = Some(snapshot(&before));
    ev.after = Some(snapshot(&after));
    tx.insert_audit(&ev).await?;
    commit_access(b, tx, Change::Role(role)).await?;
    after.members = b.store.role_members(role).await?;
    Ok(to_role(after))
}

/// Deletes a role. Members holding it move to `replacement` in the same transaction; with
/// members and no replacement the deletion is refused (`role_in_use`).
pub async fn delete(b: &Backend, ctx: &Ctx, role: RoleId, replacement: Option<RoleId>) -> Result<(), Error> {
    let (_w, mut tx) = global_admin_tx(b, ctx, policy::can_manage_roles).await?;
    let before = tx.role(role).await?.ok_or_else(|| Error::not_found("Role"))?;
    let mut moved = 0;
    if tx.role_in_use(role).await? {
        let Some(to) = replacement else { return Err(Error::Forbidden(Denied::RoleInUse)) };
        if to == role {
            return Err(Error::invalid("replacement", "Choose a different role as the replacement."));
        }
        tx.role(to).await?.ok_or_else(|| Error::invalid("replacement", "The replacement role does not exist."))?;
        moved = tx.reassign_role(role, to).await?;
    }
    tx.delete_role(role).await?;
    let mut ev = audit_global(b, ctx, "role.deleted", true);
    ev.target = Some(format!("role:{}", before.name));
    ev.before = Some(snapshot(&before));
    ev.after = Some(json!({ "members_moved": moved, "replacement_id": replacement.map(|r| r.0) }));
    tx.insert_audit(&ev).await?;
    let note = super::EventNote { name: Some(before.name), orgs: vec![] };
    super::commit_access_noting(b, tx, if moved > 0 { Change::All } else { Change::Role(role) }, note).await?;
    Ok(())
}
