//! `/api/v1/users`.
use std::collections::HashMap;

use app::backend::services::users as svc;
use app::domain::users::{
    AccountHolder, AccountLevel, NewUser, SortDir, SortField, User, UserChanges, UserPage, UserQuery,
};
use app::domain::Error;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;

use super::{parse_json, ApiError, ApiResult, CtxExt};
use crate::ServerState;

pub async fn list(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<UserPage>> {
    let sort = match q.get("sort") {
        None => SortField::default(),
        Some(v) => SortField::parse(v).ok_or_else(|| Error::invalid("sort", format!("Cannot sort by '{v}'.")))?,
    };
    let dir = match q.get("dir") {
        None => SortDir::default(),
        Some(v) => SortDir::parse(v).ok_or_else(|| Error::invalid("dir", "Direction must be asc or desc."))?,
    };
    let limit = match q.get("limit") {
        None => None,
        Some(v) => Some(v.parse::<u32>().map_err(|_| Error::invalid("limit", "Limit must be a positive number."))?),
    };
    let query = UserQuery {
        search: q.get("search").cloned(),
        sort,
        dir,
        after: q.get("after").cloned(),
        before: q.get("before").cloned(),
        limit,
    };
    Ok(Json(svc::list(&s.backend, &ctx.0, query).await?))
}

pub async fn get(State(s): State<ServerState>, ctx: CtxExt, Path(username): Path<String>) -> ApiResult<Json<User>> {
    Ok(Json(svc::get(&s.backend, &ctx.0, &username).await?))
}

pub async fn create(State(s): State<ServerState>, ctx: CtxExt, body: Bytes) -> ApiResult<(StatusCode, Json<User>)> {
    let n: NewUser = parse_json(&body)?;
    Ok((StatusCode::CREATED, Json(svc::create(&s.backend, &ctx.0, n).await?)))
}

pub async fn update(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path(username): Path<String>,
    body: Bytes,
) -> ApiResult<Json<User>> {
    let c: UserChanges = parse_json(&body)?;
    Ok(Json(svc::update(&s.backend, &ctx.0, &username, c).await?))
}

pub async fn delete(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path(username): Path<String>,
) -> Result<StatusCode, ApiError> {
    svc::delete(&s.backend, &ctx.0, &username).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn holders(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path(username): Path<String>,
) -> ApiResult<Json<Vec<AccountHolder>>> {
    Ok(Json(svc::account_holders(&s.backend, &ctx.0, &username).await?))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct HolderLevel {
    level: AccountLevel,
}

pub async fn set_holder(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path((username, holder)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Json<Vec<AccountHolder>>> {
    let l: HolderLevel = parse_json(&body)?;
    Ok(Json(svc::set_account_holder(&s.backend, &ctx.0, &username, &holder, Some(l.level)).await?))
}

pub async fn remove_holder(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path((username, holder)): Path<(String, String)>,
) -> ApiResult<Json<Vec<AccountHolder>>> {
    Ok(Json(svc::set_account_holder(&s.backend, &ctx.0, &username, &holder, None).await?))
}
