//! "May this user do this here, and why?" — answered from the in-memory access model, which
//! every committed change has already reached (see `backend::access`).
use serde::{Deserialize, Serialize};

use crate::backend::{Backend, Ctx};
use crate::domain::abilities::Ability;
use crate::domain::access::Explanation;
use crate::domain::error::Error;
use crate::domain::ids::OrgId;
use crate::domain::policy;

/// The check API's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// Who may ask about `user` in `org`: the user themself, super admins and the CLI, and
/// holders of view-users or manage-users in `org`.
fn may_ask(b: &Backend, ctx: &Ctx, user: Option<&str>, org: OrgId) -> Result<(), Error> {
    let Some(a) = ctx.reader(b, org)? else { return Ok(()) };
    let m = b.access.read();
    let is_self = user.and_then(|u| m.user_id(u)) == Some(a.id);
    if a.super_admin || is_self {
        return Ok(());
    }
    policy::can_view_members(Some(a), m.is_member(a.id, org)).map_err(Error::Forbidden)
}

/// `user: None` asks about an anonymous visitor (the public account's grants).
pub fn explain(b: &Backend, ctx: &Ctx, user: Option<&str>, org: OrgId, ability: Ability) -> Result<Explanation, Error> {
    may_ask(b, ctx, user, org)?;
    let m = b.access.read();
    if !m.orgs.contains_key(&org) {
        return Err(Error::not_found("Organization"));
    }
    let id = match user.map(str::trim).filter(|u| !u.is_empty()) {
        Some(u) => Some(m.user_id(u).ok_or_else(|| Error::not_found("User"))?),
        None => None,
    };
    Ok(m.explain(id, org, ability))
}

pub fn check(b: &Backend, ctx: &Ctx, user: Option<&str>, org: OrgId, ability: Ability) -> Result<Decision, Error> {
    may_ask(b, ctx, user, org)?;
    let m = b.access.read();
    let id = match user.map(str::trim).filter(|u| !u.is_empty()) {
        Some(u) => Some(m.user_id(u).ok_or_else(|| Error::not_found("User"))?),
        None => None,
    };
    let (grounds, message) = m.summary(id, org, ability);
    if grounds == crate::domain::access::Grounds::UnknownOrg {
        return Err(Error::not_found("Organization"));
    }
    Ok(Decision { allowed: grounds.allowed(), reason: grounds.code().into(), message })
}
