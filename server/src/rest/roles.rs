//! `/api/v1/roles`. `{id}` is an id or a name.
use std::collections::HashMap;

use app::backend::services::{access, roles as svc};
use app::domain::abilities::{Ability, AbilitySet};
use app::domain::ids::RoleId;
use app::domain::roles::Role;
use app::domain::Error;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;

use super::{parse_json, ApiResult, CtxExt};
use crate::ServerState;

#[utoipa::path(get, path = "/roles", tag = "roles", operation_id = "listRoles",
    summary = "All roles with their abilities (any signed-in user)",
    responses(
        (status = 200, description = "Roles", body = Vec<Role>),
        (status = 401, response = super::Refusal),
    ))]
pub async fn list(State(s): State<ServerState>, ctx: CtxExt) -> ApiResult<Json<Vec<Role>>> {
    Ok(Json(svc::list(&s.backend, &ctx.0).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewRole {
    name: String,
    #[serde(default)]
    abilities: AbilitySet,
}

#[utoipa::path(post, path = "/roles", tag = "roles", operation_id = "createRole",
    summary = "Create a role (super admins)", request_body = NewRole,
    responses(
        (status = 201, description = "The role", body = Role),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 409, response = super::Refusal),
        (status = 422, response = super::Refusal),
    ))]
pub async fn create(State(s): State<ServerState>, ctx: CtxExt, body: Bytes) -> ApiResult<(StatusCode, Json<Role>)> {
    let n: NewRole = parse_json(&body)?;
    Ok((StatusCode::CREATED, Json(svc::create(&s.backend, &ctx.0, &n.name, n.abilities).await?)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct RoleChanges {
    name: String,
}

#[utoipa::path(patch, path = "/roles/{id}", tag = "roles", operation_id = "renameRole",
    summary = "Rename a role (super admins)", params(("id" = String, Path, description = "Id or name")), request_body = RoleChanges,
    responses(
        (status = 200, description = "The role", body = Role),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
        (status = 409, response = super::Refusal),
        (status = 422, response = super::Refusal),
    ))]
pub async fn rename(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Role>> {
    let c: RoleChanges = parse_json(&body)?;
    Ok(Json(svc::rename(&s.backend, &ctx.0, svc::visible(&s.backend, &ctx.0, &id)?, &c.name).await?))
}

#[utoipa::path(delete, path = "/roles/{id}", tag = "roles", operation_id = "deleteRole",
    summary = "Delete a role; members holding it move to `replacement` (required while it is assigned)",
    params(("id" = String, Path, description = "Id or name"), ("replacement" = Option<i64>, Query, description = "The role id its members move to")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
        (status = 409, response = super::Refusal),
        (status = 422, response = super::Refusal),
    ))]
pub async fn delete(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<StatusCode> {
    let replacement = match q.get("replacement") {
        None => None,
        Some(r) => {
            Some(RoleId(r.parse().map_err(|_| Error::invalid("replacement", "The replacement must be a role id."))?))
        }
    };
    svc::delete(&s.backend, &ctx.0, svc::visible(&s.backend, &ctx.0, &id)?, replacement).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(put, path = "/roles/{id}/abilities/{ability}", tag = "roles", operation_id = "grantRoleAbility",
    summary = "Grant an ability to a role (super admins); applies to every holder's next request", params(("id" = String, Path, description = "Id or name"), ("ability" = Ability, Path, description = "An ability code")),
    responses(
        (status = 200, description = "The role", body = Role),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
        (status = 422, response = super::Refusal),
    ))]
pub async fn grant(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path((id, ability)): Path<(String, String)>,
) -> ApiResult<Json<Role>> {
    let a = access::parse_ability(&ability)?;
    Ok(Json(svc::set_ability(&s.backend, &ctx.0, svc::visible(&s.backend, &ctx.0, &id)?, a, true).await?))
}

#[utoipa::path(delete, path = "/roles/{id}/abilities/{ability}", tag = "roles", operation_id = "revokeRoleAbility",
    summary = "Revoke an ability from a role (super admins)", params(("id" = String, Path, description = "Id or name"), ("ability" = Ability, Path, description = "An ability code")),
    responses(
        (status = 200, description = "The role", body = Role),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
        (status = 422, response = super::Refusal),
    ))]
pub async fn revoke(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path((id, ability)): Path<(String, String)>,
) -> ApiResult<Json<Role>> {
    let a = access::parse_ability(&ability)?;
    Ok(Json(svc::set_ability(&s.backend, &ctx.0, svc::visible(&s.backend, &ctx.0, &id)?, a, false).await?))
}
