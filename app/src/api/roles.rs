use leptos::prelude::*;

use crate::domain::roles::{Matrix, Role};
use crate::domain::Error;

#[server(prefix = "/rpc", endpoint = "role_matrix")]
pub async fn role_matrix() -> Result<Matrix, Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::roles::matrix(&b, &ctx).await
}

/// `on`: "true" grants, anything else revokes.
#[server(prefix = "/rpc", endpoint = "set_role_ability")]
pub async fn set_role_ability(role: String, ability: String, on: String) -> Result<Role, Error> {
    use crate::backend::services::{access, roles};
    let (b, ctx) = super::ctx()?;
    let role = crate::domain::ids::RoleId(super::id_arg("role", &role)?);
    let ability = access::parse_ability(&ability)?;
    roles::set_ability(&b, &ctx, role, ability, super::flag_arg(&on)).await
}

#[server(prefix = "/rpc", endpoint = "create_role")]
pub async fn create_role(name: String) -> Result<Role, Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::roles::create(&b, &ctx, &name, crate::domain::abilities::AbilitySet::EMPTY).await
}

#[server(prefix = "/rpc", endpoint = "rename_role")]
pub async fn rename_role(role: String, name: String) -> Result<Role, Error> {
    let (b, ctx) = super::ctx()?;
    let role = crate::domain::ids::RoleId(super::id_arg("role", &role)?);
    crate::backend::services::roles::rename(&b, &ctx, role, &name).await
}

#[server(prefix = "/rpc", endpoint = "delete_role")]
pub async fn delete_role(role: String, replacement: Option<String>) -> Result<(), Error> {
    use crate::domain::ids::RoleId;
    let (b, ctx) = super::ctx()?;
    let role = super::id_arg("role", &role)?;
    let replacement = match replacement.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(None),
        Some(r) => r
            .parse::<i64>()
            .map(|id| Some(RoleId(id)))
            .map_err(|_| Error::invalid("replacement", "Choose a replacement role.")),
    }?;
    crate::backend::services::roles::delete(&b, &ctx, RoleId(role), replacement).await
}
