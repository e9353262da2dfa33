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

#[utoipa::path(get, path = "/users", tag = "users", operation_id = "listUsers",
    summary = "List users (keyset paging)",
    params(
        ("search" = Option<String>, Query, description = "Case-insensitive substring of username, full name or email"),
        ("sort" = Option<SortField>, Query, description = "The column to sort by"),
        ("dir" = Option<SortDir>, Query, description = "asc (default) or desc"),
        ("after" = Option<String>, Query, description = "The `next` cursor of a previous page"),
        ("before" = Option<String>, Query, description = "The `prev` cursor of a previous page"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 200, description = "Users per page (default 25)"),
        ("legacy_hash" = Option<bool>, Query, description = "Only accounts whose password hash came from another system and is not argon2 yet"),
    ),
    responses(
        (status = 200, description = "A page of users", body = UserPage),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 422, response = super::Refusal),
    ))]
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
        legacy_hash: match q.get("legacy_hash").map(String::as_str) {
            None | Some("false") | Some("0") => false,
            Some("true") | Some("1") => true,
            Some(_) => return Err(Error::invalid("legacy_hash", "legacy_hash must be true or false.").into()),
        },
    };
    Ok(Json(svc::list(&s.backend, &ctx.0, query).await?))
}

#[utoipa::path(get, path = "/users/{username}", tag = "users", operation_id = "getUser",
    summary = "Get a user", params(("username" = String, Path, description = "Case-insensitive")),
    responses(
        (status = 200, description = "The user", body = User),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
    ))]
pub async fn get(State(s): State<ServerState>, ctx: CtxExt, Path(username): Path<String>) -> ApiResult<Json<User>> {
    Ok(Json(svc::get(&s.backend, &ctx.0, &username).await?))
}

#[utoipa::path(post, path = "/users", tag = "users", operation_id = "createUser",
    summary = "Create a user",
    description = "Super admins create any account; organization admins create accounts in their organization (`org`, `role`), never a super admin.",
    request_body = NewUser,
    responses(
        (status = 201, description = "Created", body = User),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
        (status = 409, response = super::Refusal),
        (status = 422, response = super::Refusal),
    ))]
pub async fn create(State(s): State<ServerState>, ctx: CtxExt, body: Bytes) -> ApiResult<(StatusCode, Json<User>)> {
    let n: NewUser = parse_json(&body)?;
    Ok((StatusCode::CREATED, Json(svc::create(&s.backend, &ctx.0, n).await?)))
}

#[utoipa::path(patch, path = "/users/{username}", tag = "users", operation_id = "updateUser",
    summary = "Update a user (fields left out stay unchanged)",
    description = "Changing another account's password or email needs a session in sudo mode (403 `sudo_required`); tokens never change credentials.",
    params(("username" = String, Path, description = "Case-insensitive")), request_body = UserChanges,
    responses(
        (status = 200, description = "The updated user", body = User),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
        (status = 409, response = super::Refusal),
        (status = 422, response = super::Refusal),
    ))]
pub async fn update(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path(username): Path<String>,
    body: Bytes,
) -> ApiResult<Json<User>> {
    let c: UserChanges = parse_json(&body)?;
    Ok(Json(svc::update(&s.backend, &ctx.0, &username, c).await?))
}

#[utoipa::path(delete, path = "/users/{username}", tag = "users", operation_id = "deleteUser",
    summary = "Delete a user (never yourself, never the last active super admin, never a SCIM connection's service account)", params(("username" = String, Path, description = "Case-insensitive")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
        (status = 409, response = super::Refusal),
    ))]
pub async fn delete(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path(username): Path<String>,
) -> Result<StatusCode, ApiError> {
    svc::delete(&s.backend, &ctx.0, &username).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/users/{username}/access", tag = "users", operation_id = "getAccountHolders",
    summary = "Who else may view or edit this account (SlashDB-style lists)", params(("username" = String, Path, description = "Case-insensitive")),
    responses(
        (status = 200, description = "The account's view/edit lists", body = Vec<AccountHolder>),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
    ))]
pub async fn holders(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path(username): Path<String>,
) -> ApiResult<Json<Vec<AccountHolder>>> {
    Ok(Json(svc::account_holders(&s.backend, &ctx.0, &username).await?))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct HolderLevel {
    level: AccountLevel,
}

#[utoipa::path(put, path = "/users/{username}/access/{holder}", tag = "users", operation_id = "setAccountHolder",
    summary = "Put a holder on the account's view or edit list",
    description = "Needs the right to manage the account; holders also need view-users / manage-users.",
    params(("username" = String, Path, description = "The account"), ("holder" = String, Path, description = "The account given access")), request_body = HolderLevel,
    responses(
        (status = 200, description = "The account's view/edit lists", body = Vec<AccountHolder>),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
        (status = 422, response = super::Refusal),
    ))]
pub async fn set_holder(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path((username, holder)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Json<Vec<AccountHolder>>> {
    let l: HolderLevel = parse_json(&body)?;
    Ok(Json(svc::set_account_holder(&s.backend, &ctx.0, &username, &holder, Some(l.level)).await?))
}

#[utoipa::path(delete, path = "/users/{username}/access/{holder}", tag = "users", operation_id = "removeAccountHolder",
    summary = "Take a holder off the account's lists", params(("username" = String, Path, description = "The account"), ("holder" = String, Path, description = "The account given access")),
    responses(
        (status = 200, description = "The account's view/edit lists", body = Vec<AccountHolder>),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
        (status = 422, response = super::Refusal),
    ))]
pub async fn remove_holder(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path((username, holder)): Path<(String, String)>,
) -> ApiResult<Json<Vec<AccountHolder>>> {
    Ok(Json(svc::set_account_holder(&s.backend, &ctx.0, &username, &holder, None).await?))
}
