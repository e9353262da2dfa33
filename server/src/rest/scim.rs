//! `/api/v1/scim/connections`: the SCIM connections identity providers provision through
//! (super admins). A bearer token is answered once, when the connection is created and when
//! one is added. The SCIM protocol itself is at `/scim/v2/{id}` (`crate::scim`).
use app::backend::services::scim as svc;
use app::backend::services::scim_mappings as mappings;
use app::domain::scim::{ScimConnection, ScimConnectionInput, ScimConnectionToken};
use app::domain::scim_mapping::{ScimMapping, ScimMappingInput};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

use super::{parse_json, ApiResult, CtxExt};
use crate::ServerState;

#[utoipa::path(get, path = "/scim/connections", tag = "provisioning", operation_id = "listScimConnections",
    summary = "List the SCIM connections (super admins)",
    responses(
        (status = 200, description = "Connections, by id", body = Vec<ScimConnection>),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
    ))]
pub async fn list(State(s): State<ServerState>, ctx: CtxExt) -> ApiResult<Json<Vec<ScimConnection>>> {
    Ok(Json(svc::list_connections(&s.backend, &ctx.0).await?))
}

#[utoipa::path(post, path = "/scim/connections", tag = "provisioning", operation_id = "createScimConnection",
    summary = "Add a SCIM connection and its service account; its first bearer token is in this answer only",
    request_body = ScimConnectionInput,
    responses(
        (status = 201, description = "Created, with its bearer token", body = ScimConnectionToken),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 409, response = super::Refusal),
        (status = 422, response = super::Refusal),
    ))]
pub async fn create(
    State(s): State<ServerState>,
    ctx: CtxExt,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<ScimConnectionToken>)> {
    let input: ScimConnectionInput = parse_json(&body)?;
    Ok((StatusCode::CREATED, Json(svc::create_connection(&s.backend, &ctx.0, input).await?)))
}

#[utoipa::path(delete, path = "/scim/connections/{id}", tag = "provisioning", operation_id = "deleteScimConnection",
    summary = "Remove a SCIM connection, its tokens and its service account (the accounts it provisioned stay)",
    params(("id" = String, Path, description = "The connection's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
    ))]
pub async fn delete(State(s): State<ServerState>, ctx: CtxExt, Path(id): Path<String>) -> ApiResult<StatusCode> {
    svc::delete_connection(&s.backend, &ctx.0, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/scim/connections/{id}/tokens", tag = "provisioning", operation_id = "addScimToken",
    summary = "A new bearer token for a connection (its other tokens keep working)",
    params(("id" = String, Path, description = "The connection's id")),
    responses(
        (status = 201, description = "The new token, in this answer only", body = ScimConnectionToken),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
    ))]
pub async fn add_token(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<ScimConnectionToken>)> {
    Ok((StatusCode::CREATED, Json(svc::add_token(&s.backend, &ctx.0, &id).await?)))
}

#[utoipa::path(get, path = "/scim/connections/{id}/mappings", tag = "provisioning", operation_id = "listScimMappings",
    summary = "A connection's directory group mappings (group -> organization and role)",
    params(("id" = String, Path, description = "The connection's id")),
    responses(
        (status = 200, description = "Mappings, by group then organization", body = Vec<ScimMapping>),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
    ))]
pub async fn list_mappings(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<ScimMapping>>> {
    Ok(Json(mappings::list_mappings(&s.backend, &ctx.0, &id).await?))
}

#[utoipa::path(post, path = "/scim/connections/{id}/mappings", tag = "provisioning", operation_id = "createScimMapping",
    summary = "Map a directory group to an organization and role; its members get that role there now \
               (where it is their highest-priority mapping; memberships made by hand are never changed)",
    params(("id" = String, Path, description = "The connection's id")),
    request_body = ScimMappingInput,
    responses(
        (status = 201, description = "Mapped", body = ScimMapping),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
        (status = 409, response = super::Refusal),
        (status = 422, response = super::Refusal),
    ))]
pub async fn create_mapping(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<ScimMapping>)> {
    let input: ScimMappingInput = parse_json(&body)?;
    Ok((StatusCode::CREATED, Json(mappings::create_mapping(&s.backend, &ctx.0, &id, input).await?)))
}

#[utoipa::path(delete, path = "/scim/connections/{id}/mappings/{mapping}", tag = "provisioning",
    operation_id = "deleteScimMapping",
    summary = "Remove a mapping: its group's members lose what it gave (their next mapping there applies, \
               or they leave the organization)",
    params(("id" = String, Path, description = "The connection's id"), ("mapping" = i64, Path, description = "The mapping's id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
    ))]
pub async fn delete_mapping(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path((id, mapping)): Path<(String, i64)>,
) -> ApiResult<StatusCode> {
    mappings::delete_mapping(&s.backend, &ctx.0, &id, mapping).await?;
    Ok(StatusCode::NO_CONTENT)
}
