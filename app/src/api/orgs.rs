//! Organizations and the current organization's members.
use leptos::prelude::*;

use crate::domain::orgs::{Member, MemberPage, Membership, Org};
use crate::domain::Error;

#[cfg(feature = "ssr")]
fn extras_of(codes: &[String]) -> Result<crate::domain::abilities::AbilitySet, Error> {
    codes
        .iter()
        .filter(|c| !c.is_empty())
        .map(|c| {
            crate::backend::services::access::parse_ability(c)
                .map_err(|_| Error::invalid("extras", format!("'{c}' is not an ability.")))
        })
        .collect()
}

#[server(prefix = "/rpc", endpoint = "list_orgs")]
pub async fn list_orgs() -> Result<Vec<Org>, Error> {
    let (b, ctx) = super::reply(super::ctx())?;
    super::reply(crate::backend::services::orgs::list(&b, &ctx).await)
}

#[server(prefix = "/rpc", endpoint = "create_org")]
pub async fn create_org(name: String) -> Result<Org, Error> {
    let (b, ctx) = super::reply(super::ctx())?;
    super::reply(crate::backend::services::orgs::create(&b, &ctx, &name).await)
}

#[server(prefix = "/rpc", endpoint = "rename_org")]
pub async fn rename_org(org: i64, name: String) -> Result<Org, Error> {
    let (b, ctx) = super::reply(super::ctx())?;
    super::reply(crate::backend::services::orgs::rename(&b, &ctx, crate::domain::ids::OrgId(org), &name).await)
}

#[server(prefix = "/rpc", endpoint = "delete_org")]
pub async fn delete_org(org: i64) -> Result<(), Error> {
    let (b, ctx) = super::reply(super::ctx())?;
    super::reply(crate::backend::services::orgs::delete(&b, &ctx, crate::domain::ids::OrgId(org)).await)
}

/// Members of the session's current organization.
#[server(prefix = "/rpc", endpoint = "list_members")]
pub async fn list_members(search: Option<String>, after: Option<String>) -> Result<MemberPage, Error> {
    let (b, ctx) = super::reply(super::ctx())?;
    super::reply(crate::backend::services::orgs::members(&b, &ctx, ctx.org(), search, after).await)
}

#[server(prefix = "/rpc", endpoint = "user_memberships")]
pub async fn user_memberships(username: String) -> Result<Vec<Membership>, Error> {
    let (b, ctx) = super::reply(super::ctx())?;
    super::reply(crate::backend::services::orgs::memberships(&b, &ctx, &username).await)
}

/// Adds an account to the current organization (`add`), or changes a member's role and
/// extra abilities there.
#[server(prefix = "/rpc", endpoint = "set_member")]
pub async fn set_member(
    username: String,
    role: String,
    #[server(default)] extras: Vec<String>,
    #[server(default)] add: bool,
) -> Result<Member, Error> {
    use crate::domain::ids::RoleId;
    let (b, ctx) = super::reply(super::ctx())?;
    let extras = super::reply(extras_of(&extras))?;
    let role = super::reply(role.trim().parse::<i64>().map_err(|_| Error::invalid("role", "Choose a role.")))?;
    super::reply(
        crate::backend::services::orgs::set_member(&b, &ctx, ctx.org(), &username, RoleId(role), extras, add).await,
    )
}

#[server(prefix = "/rpc", endpoint = "remove_member")]
pub async fn remove_member(username: String) -> Result<(), Error> {
    let (b, ctx) = super::reply(super::ctx())?;
    super::reply(crate::backend::services::orgs::remove_member(&b, &ctx, ctx.org(), &username).await)
}
