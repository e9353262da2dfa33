//! `/api/v1/roles`. `{id}` is an id or a name.
use std::collections::HashMap;

use app::backend::services::{access, roles as svc};
use app::domain::abilities::AbilitySet;
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

pub async fn list(State(s): State<ServerState>, ctx: CtxExt) -> ApiResult<Json<Vec<Role>>> {
    Ok(Json(svc::list(&s.backend, &ctx.0).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewRole {
    name: String,
    #[serde(default)]
    abilities: AbilitySet,
}

pub async fn create(State(s): State<ServerState>, ctx: CtxExt, body: Bytes) -> ApiResult<(StatusCode, Json<Role>)> {
    let n: NewRole = parse_json(&body)?;
    Ok((StatusCode::CREATED, Json(svc::create(&s.backend, &ctx.0, &n.name, n.abilities).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleChanges {
    name: String,
}

pub async fn rename(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Role>> {
    let c: RoleChanges = parse_json(&body)?;
    Ok(Json(svc::rename(&s.backend, &ctx.0, svc::visible(&s.backend, &ctx.0, &id)?, &c.name).await?))
}

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

pub async fn grant(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path((id, ability)): Path<(String, String)>,
) -> ApiResult<Json<Role>> {
    let a = access::parse_ability(&ability)?;
    Ok(Json(svc::set_ability(&s.backend, &ctx.0, svc::visible(&s.backend, &ctx.0, &id)?, a, true).await?))
}

pub async fn revoke(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path((id, ability)): Path<(String, String)>,
) -> ApiResult<Json<Role>> {
    let a = access::parse_ability(&ability)?;
    Ok(Json(svc::set_ability(&s.backend, &ctx.0, svc::visible(&s.backend, &ctx.0, &id)?, a, false).await?))
}
