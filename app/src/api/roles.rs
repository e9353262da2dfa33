use leptos::prelude::*;

use crate::domain::roles::{Matrix, Role};
use crate::domain::Error;

#[server(prefix = "/rpc", endpoint = "role_matrix")]
pub async fn role_matrix() -> Result<Matrix, Error> {
    let (b, ctx) = super::reply(super::ctx())?;
    super::reply(crate::backend::services::roles::matrix(&b, &ctx).await)
}

/// `on`: "true" grants, anything else revokes.
#[server(prefix = "/rpc", endpoint = "set_role_ability")]
pub async fn set_role_ability(role: i64, ability: String, on: bool) -> Result<Role, Error> {
    use crate::backend::services::{access, roles};
    let (b, ctx) = super::reply(super::ctx())?;
    let ability = super::reply(access::parse_ability(&ability))?;
    super::reply(roles::set_ability(&b, &ctx, crate::domain::ids::RoleId(role), ability, on).await)
}

#[server(prefix = "/rpc", endpoint = "create_role")]
pub async fn create_role(name: String) -> Result<Role, Error> {
    let (b, ctx) = super::reply(super::ctx())?;
    super::reply(
        crate::backend::services::roles::create(&b, &ctx, &name, crate::domain::abilities::AbilitySet::EMPTY).await,
    )
}

#[server(prefix = "/rpc", endpoint = "rename_role")]
pub async fn rename_role(role: i64, name: String) -> Result<Role, Error> {
    let (b, ctx) = super::reply(super::ctx())?;
    super::reply(crate::backend::services::roles::rename(&b, &ctx, crate::domain::ids::RoleId(role), &name).await)
}

#[server(prefix = "/rpc", endpoint = "delete_role")]
pub async fn delete_role(role: i64, replacement: Option<String>) -> Result<(), Error> {
    use crate::domain::ids::RoleId;
    let (b, ctx) = super::reply(super::ctx())?;
    let replacement = super::reply(match replacement.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(None),
        Some(r) => r
            .parse::<i64>()
            .map(|id| Some(RoleId(id)))
            .map_err(|_| Error::invalid("replacement", "Choose a replacement role.")),
    })?;
    super::reply(crate::backend::services::roles::delete(&b, &ctx, RoleId(role), replacement).await)
}
