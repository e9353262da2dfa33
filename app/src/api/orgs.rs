//! Organizations and the current organization's members.
use leptos::prelude::*;

use crate::domain::orgs::{Candidate, Member, MemberPage, Membership, Org};
use crate::domain::Error;

#[cfg(feature = "ssr")]
pub(crate) fn extras_of(codes: &[String]) -> Result<crate::domain::abilities::AbilitySet, Error> {
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
    let (b, ctx) = super::ctx()?;
    crate::backend::services::orgs::list(&b, &ctx).await
}

#[server(prefix = "/rpc", endpoint = "create_org")]
pub async fn create_org(name: String) -> Result<Org, Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::orgs::create(&b, &ctx, &name).await
}

#[server(prefix = "/rpc", endpoint = "rename_org")]
pub async fn rename_org(org: String, name: String) -> Result<Org, Error> {
    let (b, ctx) = super::ctx()?;
    let org = crate::domain::ids::OrgId(super::id_arg("org", &org)?);
    crate::backend::services::orgs::rename(&b, &ctx, org, &name).await
}

#[server(prefix = "/rpc", endpoint = "delete_org")]
pub async fn delete_org(org: String) -> Result<(), Error> {
    let (b, ctx) = super::ctx()?;
    let org = crate::domain::ids::OrgId(super::id_arg("org", &org)?);
    crate::backend::services::orgs::delete(&b, &ctx, org).await
}

/// Members of the session's current organization, or of `org` (id or name) when given.
#[server(prefix = "/rpc", endpoint = "list_members")]
pub async fn list_members(
    search: Option<String>,
    after: Option<String>,
    #[server(default)] org: Option<String>,
) -> Result<MemberPage, Error> {
    use crate::backend::services::orgs;
    let (b, ctx) = super::ctx()?;
    let org = match org.as_deref().map(str::trim).filter(|o| !o.is_empty()) {
        Some(key) => orgs::visible(&b, &ctx, key)?,
        None => ctx.org(),
    };
    orgs::members(&b, &ctx, org, search, after).await
}

/// Accounts that may be added to the current organization, as the admin types.
#[server(prefix = "/rpc", endpoint = "member_candidates")]
pub async fn member_candidates(search: String) -> Result<Vec<Candidate>, Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::orgs::candidates(&b, &ctx, ctx.org(), &search).await
}

#[server(prefix = "/rpc", endpoint = "user_memberships")]
pub async fn user_memberships(username: String) -> Result<Vec<Membership>, Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::orgs::memberships(&b, &ctx, &username).await
}

/// Adds an account to the current organization (`add`), or changes a member's role and
/// extra abilities there; `org` (id or name) names another organization the caller may see.
#[server(prefix = "/rpc", endpoint = "set_member")]
pub async fn set_member(
    username: String,
    role: String,
    #[server(default)] extras: Vec<String>,
    #[server(default)] add: String,
    #[server(default)] org: String,
) -> Result<Member, Error> {
    use crate::backend::services::orgs;
    use crate::domain::ids::RoleId;
    let (b, ctx) = super::ctx()?;
    let extras = extras_of(&extras)?;
    let role = role.trim().parse::<i64>().map_err(|_| Error::invalid("role", "Choose a role."))?;
    let org = match org.trim() {
        "" => ctx.org(),
        key => orgs::visible(&b, &ctx, key)?,
    };
    orgs::set_member(&b, &ctx, org, &username, RoleId(role), extras, super::flag_arg(&add)).await
}

#[server(prefix = "/rpc", endpoint = "remove_member")]
pub async fn remove_member(username: String) -> Result<(), Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::orgs::remove_member(&b, &ctx, ctx.org(), &username).await
}
