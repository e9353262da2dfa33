//! `/api/v1/orgs` and their members. `{org}` is an id or a name.
use std::collections::HashMap;

use app::backend::services::orgs as svc;
use app::domain::abilities::AbilitySet;
use app::domain::ids::RoleId;
use app::domain::orgs::{Member, MemberPage, Membership, Org};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;

use super::{parse_json, ApiResult, CtxExt};
use crate::ServerState;

#[utoipa::path(get, path = "/orgs", tag = "orgs", operation_id = "listOrgs",
    summary = "Organizations (all for super admins, your own otherwise)",
    responses(
        (status = 200, description = "Organizations", body = Vec<Org>),
        (status = 401, response = super::Refusal),
    ))]
pub async fn list(State(s): State<ServerState>, ctx: CtxExt) -> ApiResult<Json<Vec<Org>>> {
    Ok(Json(svc::list(&s.backend, &ctx.0).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct OrgName {
    name: String,
}

#[utoipa::path(post, path = "/orgs", tag = "orgs", operation_id = "createOrg",
    summary = "Create an organization (super admins)", request_body = OrgName,
    responses(
        (status = 201, description = "The organization", body = Org),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 409, response = super::Refusal),
        (status = 422, response = super::Refusal),
    ))]
pub async fn create(State(s): State<ServerState>, ctx: CtxExt, body: Bytes) -> ApiResult<(StatusCode, Json<Org>)> {
    let n: OrgName = parse_json(&body)?;
    Ok((StatusCode::CREATED, Json(svc::create(&s.backend, &ctx.0, &n.name).await?)))
}

#[utoipa::path(patch, path = "/orgs/{org}", tag = "orgs", operation_id = "renameOrg",
    summary = "Rename an organization (super admins)", params(("org" = String, Path, description = "Id or name")), request_body = OrgName,
    responses(
        (status = 200, description = "The organization", body = Org),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
        (status = 409, response = super::Refusal),
        (status = 422, response = super::Refusal),
    ))]
pub async fn rename(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path(org): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Org>> {
    let n: OrgName = parse_json(&body)?;
    let org = svc::visible(&s.backend, &ctx.0, &org)?;
    Ok(Json(svc::rename(&s.backend, &ctx.0, org, &n.name).await?))
}

#[utoipa::path(delete, path = "/orgs/{org}", tag = "orgs", operation_id = "deleteOrg",
    summary = "Delete an organization and its memberships (not the default one)", params(("org" = String, Path, description = "Id or name")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
        (status = 409, response = super::Refusal),
    ))]
pub async fn delete(State(s): State<ServerState>, ctx: CtxExt, Path(org): Path<String>) -> ApiResult<StatusCode> {
    let org = svc::visible(&s.backend, &ctx.0, &org)?;
    svc::delete(&s.backend, &ctx.0, org).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/orgs/{org}/members", tag = "orgs", operation_id = "listMembers",
    summary = "Members in username order, 50 a page (view-users or manage-users in the organization)",
    params(("org" = String, Path, description = "Id or name"),
        ("search" = Option<String>, Query, description = "Substring of username, name or email"),
        ("after" = Option<String>, Query, description = "Username to continue after (`next` of the previous page)"),
    ),
    responses(
        (status = 200, description = "A page of members", body = MemberPage),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
        (status = 422, response = super::Refusal),
    ))]
pub async fn members(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path(org): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<MemberPage>> {
    let org = svc::visible(&s.backend, &ctx.0, &org)?;
    Ok(Json(svc::members(&s.backend, &ctx.0, org, q.get("search").cloned(), q.get("after").cloned()).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewMember {
    username: String,
    /// The role id
    role: i64,
    #[serde(default)]
    extras: AbilitySet,
}

#[utoipa::path(post, path = "/orgs/{org}/members", tag = "orgs", operation_id = "addMember",
    summary = "Add an existing account with a role and extra abilities (manage-users; never more than you hold)",
    description = "Organization admins add only accounts that already belong to one of their organizations (others answer 404); super admins add anyone.",
    params(("org" = String, Path, description = "Id or name")), request_body = NewMember,
    responses(
        (status = 201, description = "The member", body = Member),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
        (status = 409, response = super::Refusal),
        (status = 422, response = super::Refusal),
    ))]
pub async fn add_member(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path(org): Path<String>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Member>)> {
    let n: NewMember = parse_json(&body)?;
    let org = svc::visible(&s.backend, &ctx.0, &org)?;
    let m = svc::set_member(&s.backend, &ctx.0, org, &n.username, RoleId(n.role), n.extras, true).await?;
    Ok((StatusCode::CREATED, Json(m)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct MemberChanges {
    /// The role id
    role: i64,
    #[serde(default)]
    extras: AbilitySet,
}

#[utoipa::path(patch, path = "/orgs/{org}/members/{username}", tag = "orgs", operation_id = "updateMember",
    summary = "Change a member's role and extra abilities (not your own)",
    params(("org" = String, Path, description = "Id or name"), ("username" = String, Path, description = "Case-insensitive")), request_body = MemberChanges,
    responses(
        (status = 200, description = "The member", body = Member),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
        (status = 409, response = super::Refusal),
        (status = 422, response = super::Refusal),
    ))]
pub async fn update_member(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path((org, username)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Json<Member>> {
    let c: MemberChanges = parse_json(&body)?;
    let org = svc::visible(&s.backend, &ctx.0, &org)?;
    Ok(Json(svc::set_member(&s.backend, &ctx.0, org, &username, RoleId(c.role), c.extras, false).await?))
}

#[utoipa::path(delete, path = "/orgs/{org}/members/{username}", tag = "orgs", operation_id = "removeMember",
    summary = "Remove an account from the organization (the account stays)", params(("org" = String, Path, description = "Id or name"), ("username" = String, Path, description = "Case-insensitive")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
        (status = 409, response = super::Refusal),
    ))]
pub async fn remove_member(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path((org, username)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let org = svc::visible(&s.backend, &ctx.0, &org)?;
    svc::remove_member(&s.backend, &ctx.0, org, &username).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/users/{username}/memberships", tag = "users", operation_id = "getUserMemberships",
    summary = "Organizations the user belongs to that the caller may see, with the role in each", params(("username" = String, Path, description = "Case-insensitive")),
    responses(
        (status = 200, description = "Memberships", body = Vec<Membership>),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
    ))]
pub async fn memberships(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path(username): Path<String>,
) -> ApiResult<Json<Vec<Membership>>> {
    Ok(Json(svc::memberships(&s.backend, &ctx.0, &username).await?))
}
