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

pub async fn list(State(s): State<ServerState>, ctx: CtxExt) -> ApiResult<Json<Vec<Org>>> {
    Ok(Json(svc::list(&s.backend, &ctx.0).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrgName {
    name: String,
}

pub async fn create(State(s): State<ServerState>, ctx: CtxExt, body: Bytes) -> ApiResult<(StatusCode, Json<Org>)> {
    let n: OrgName = parse_json(&body)?;
    Ok((StatusCode::CREATED, Json(svc::create(&s.backend, &ctx.0, &n.name).await?)))
}

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

pub async fn delete(State(s): State<ServerState>, ctx: CtxExt, Path(org): Path<String>) -> ApiResult<StatusCode> {
    let org = svc::visible(&s.backend, &ctx.0, &org)?;
    svc::delete(&s.backend, &ctx.0, org).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn members(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path(org): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<MemberPage>> {
    let org = svc::visible(&s.backend, &ctx.0, &org)?;
    Ok(Json(svc::members(&s.backend, &ctx.0, org, q.get("search").cloned(), q.get("after").cloned()).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewMember {
    username: String,
    role: i64,
    #[serde(default)]
    extras: AbilitySet,
}

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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MemberChanges {
    role: i64,
    #[serde(default)]
    extras: AbilitySet,
}

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

pub async fn remove_member(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path((org, username)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let org = svc::visible(&s.backend, &ctx.0, &org)?;
    svc::remove_member(&s.backend, &ctx.0, org, &username).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn memberships(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path(username): Path<String>,
) -> ApiResult<Json<Vec<Membership>>> {
    Ok(Json(svc::memberships(&s.backend, &ctx.0, &username).await?))
}
