//! "May this user do this here, and why?" — answered from the in-memory access model, which
//! every committed change has already reached (see `backend::access`).
use serde::{Deserialize, Serialize};

use crate::backend::{Backend, Ctx};
use crate::domain::abilities::Ability;
use crate::domain::access::Explanation;
use crate::domain::error::Error;
use crate::domain::ids::{OrgId, UserId};
use crate::domain::policy;

/// The check API's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Decision {
    pub allowed: bool,
    /// `super_admin`, `role`, `extra_grant`, `public_role`, `public_extra_grant`,
    /// `missing_ability`, `not_member`, `account_disabled`.
    pub reason: String,
    pub message: String,
}

pub fn parse_ability(code: &str) -> Result<Ability, Error> {
    Ability::parse(code.trim())
        .ok_or_else(|| Error::invalid("ability", format!("'{}' is not an ability. Known: {}.", code.trim(), known())))
}

fn known() -> String {
    Ability::ALL.iter().map(|a| a.code()).collect::<Vec<_>>().join(", ")
}

/// Who may ask about `user` in `org`, and the account asked about. Super admins and the CLI
/// ask about anyone anywhere. Everyone else asks only in organizations they belong to
/// (others are "not found", as if they did not exist), about themselves, or, holding
/// view-users or manage-users there, about the organization's members: an account that is
/// not a member there is "not found" whether it exists or not, so no one learns of accounts
/// in other organizations. `None`: an anonymous visitor (the public account's grants).
fn asked_about(b: &Backend, ctx: &Ctx, user: Option<&str>, org: OrgId) -> Result<Option<UserId>, Error> {
    let actor = ctx.actor()?;
    let m = b.access.read();
    if !m.orgs.contains_key(&org) {
        return Err(Error::not_found("Organization"));
    }
    let target =
        user.map(str::trim).filter(|u| !u.is_empty()).map(|u| m.user_id(u).ok_or_else(|| Error::not_found("User")));
    let Some(a) = actor.filter(|a| !a.super_admin) else { return target.transpose() };
    if !m.is_member(a.id, org) {
        return Err(Error::not_found("Organization"));
    }
    if matches!(target, Some(Ok(id)) if id == a.id) {
        return target.transpose();
    }
    drop(m);
    let reader = ctx.reader(b, org)?;
    policy::can_view_members(reader, true).map_err(Error::Forbidden)?;
    match target {
        Some(Ok(id)) if b.access.read().is_member(id, org) => Ok(Some(id)),
        Some(_) => Err(Error::not_found("User")),
        None => Ok(None),
    }
}

pub fn explain(b: &Backend, ctx: &Ctx, user: Option<&str>, org: OrgId, ability: Ability) -> Result<Explanation, Error> {
    let id = asked_about(b, ctx, user, org)?;
    Ok(b.access.read().explain(id, org, ability))
}

pub fn check(b: &Backend, ctx: &Ctx, user: Option<&str>, org: OrgId, ability: Ability) -> Result<Decision, Error> {
    let id = asked_about(b, ctx, user, org)?;
    let (grounds, message) = b.access.read().summary(id, org, ability);
    if grounds == crate::domain::access::Grounds::UnknownOrg {
        return Err(Error::not_found("Organization"));
    }
    Ok(Decision { allowed: grounds.allowed(), reason: grounds.code().into(), message })
}
