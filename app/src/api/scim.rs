//! SCIM connections (Settings -> Provisioning). The form sends flat text fields (organizations
//! by name separated by commas, a checkbox for adoption), so it works before the WASM arrives;
//! the API takes the same settings as JSON. A new bearer token comes back once.
// (a form's fields are the function's arguments; the macro's generated fn carries no allow)
#![allow(clippy::too_many_arguments)]
use leptos::prelude::*;

use crate::domain::scim::{ScimConnection, ScimConnectionToken};
use crate::domain::scim_mapping::ScimMapping;
use crate::domain::Error;

#[server(prefix = "/rpc", endpoint = "list_scim_connections")]
pub async fn list_scim_connections() -> Result<Vec<ScimConnection>, Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::scim::list_connections(&b, &ctx).await
}

#[server(prefix = "/rpc", endpoint = "create_scim_connection")]
pub async fn create_scim_connection(
    id: String,
    name: String,
    #[server(default)] orgs: String,
    #[server(default)] default_org: String,
    #[server(default)] default_role: String,
    #[server(default)] delete_mode: String,
    #[server(default)] adopt_existing: String,
) -> Result<ScimConnectionToken, Error> {
    use crate::domain::scim::ScimConnectionInput;
    let (b, ctx) = super::ctx()?;
    let some = |s: String| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let input = ScimConnectionInput {
        id,
        name,
        orgs: orgs.split(',').map(|o| o.trim().to_string()).filter(|o| !o.is_empty()).collect(),
        default_org: some(default_org),
        default_role: some(default_role),
        delete_mode: some(delete_mode),
        adopt_existing: crate::api::flag_arg(&adopt_existing),
    };
    crate::backend::services::scim::create_connection(&b, &ctx, input).await
}

#[server(prefix = "/rpc", endpoint = "new_scim_token")]
pub async fn new_scim_token(id: String) -> Result<ScimConnectionToken, Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::scim::add_token(&b, &ctx, &id).await
}

#[server(prefix = "/rpc", endpoint = "delete_scim_connection")]
pub async fn delete_scim_connection(id: String) -> Result<(), Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::scim::delete_connection(&b, &ctx, &id).await
}

#[server(prefix = "/rpc", endpoint = "list_scim_mappings")]
pub async fn list_scim_mappings(id: String) -> Result<Vec<ScimMapping>, Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::scim_mappings::list_mappings(&b, &ctx, &id).await
}

/// From the mapping form: extra abilities as checkboxes (`abilities[]`), the priority as text
/// (empty: 0).
#[server(prefix = "/rpc", endpoint = "create_scim_mapping")]
pub async fn create_scim_mapping(
    id: String,
    group: String,
    org: String,
    role: String,
    #[server(default)] abilities: Vec<String>,
    #[server(default)] priority: String,
) -> Result<ScimMapping, Error> {
    use crate::domain::scim_mapping::ScimMappingInput;
    let (b, ctx) = super::ctx()?;
    let priority = match priority.trim() {
        "" => 0,
        p => p.parse::<i64>().map_err(|_| Error::invalid("priority", "The priority must be a whole number."))?,
    };
    let input = ScimMappingInput { group, org, role, abilities, priority };
    crate::backend::services::scim_mappings::create_mapping(&b, &ctx, &id, input).await
}

#[server(prefix = "/rpc", endpoint = "delete_scim_mapping")]
pub async fn delete_scim_mapping(id: String, mapping: String) -> Result<(), Error> {
    let (b, ctx) = super::ctx()?;
    let mapping = super::id_arg("mapping", &mapping)?;
    crate::backend::services::scim_mappings::delete_mapping(&b, &ctx, &id, mapping).await
}
