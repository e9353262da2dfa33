//! `/api/v1/orgs/{org}/databases`: an organization's database definitions. `{org}` is an id
//! or a name, `{db}` a database id (case-insensitive). Passwords are write-only.
use std::collections::HashMap;

use app::backend::services::databases as svc;
use app::backend::services::orgs::visible;
use app::domain::databases::{ConnectionTest, Database, DatabaseInput, DatabasePage, DatabasePatch};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;

use super::{parse_json, ApiResult, CtxExt};
use crate::ServerState;

#[utoipa::path(get, path = "/orgs/{org}/databases", tag = "databases", operation_id = "listDatabases",
    summary = "Database definitions by id, 50 a page (view-databases, create-databases or manage-database-servers in the organization)",
    params(("org" = String, Path, description = "Id or name"),
        ("after" = Option<String>, Query, description = "Database id to continue after (`next` of the previous page)"),
    ),
    responses(
        (status = 200, description = "A page of definitions", body = DatabasePage),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
    ))]
pub async fn list(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path(org): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<DatabasePage>> {
    let org = visible(&s.backend, &ctx.0, &org)?;
    Ok(Json(svc::list(&s.backend, &ctx.0, org, q.get("after").cloned()).await?))
}

#[utoipa::path(post, path = "/orgs/{org}/databases", tag = "databases", operation_id = "createDatabase",
    summary = "Define a database (create-databases or manage-database-servers)",
    description = "`engine`: postgres, mysql, mariadb, sqlite or mssql. `tls`: disable, prefer, require, verify-ca or verify-full (ignored for SQLite). An empty `port` means the engine's default. For SQLite, `name` is the file's path inside the folder the operator configured, and `host` and `port` stay empty. `default_password` is stored sealed and never returned.",
    params(("org" = String, Path, description = "Id or name")), request_body = DatabaseInput,
    responses(
        (status = 201, description = "The definition", body = Database),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
        (status = 409, response = super::Refusal),
        (status = 422, response = super::Refusal),
    ))]
pub async fn create(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path(org): Path<String>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Database>)> {
    let input: DatabaseInput = parse_json(&body)?;
    let org = visible(&s.backend, &ctx.0, &org)?;
    Ok((StatusCode::CREATED, Json(svc::create(&s.backend, &ctx.0, org, input).await?)))
}

#[utoipa::path(get, path = "/orgs/{org}/databases/{db}", tag = "databases", operation_id = "getDatabase",
    summary = "One definition (as for the list)",
    params(("org" = String, Path, description = "Id or name"), ("db" = String, Path, description = "Database id")),
    responses(
        (status = 200, description = "The definition", body = Database),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
    ))]
pub async fn get(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path((org, db)): Path<(String, String)>,
) -> ApiResult<Json<Database>> {
    let org = visible(&s.backend, &ctx.0, &org)?;
    Ok(Json(svc::get(&s.backend, &ctx.0, org, &db).await?))
}

#[utoipa::path(patch, path = "/orgs/{org}/databases/{db}", tag = "databases", operation_id = "updateDatabase",
    summary = "Change a definition (manage-database-servers); absent fields stay as they are",
    description = "An empty `default_login` removes the default login and its password; an absent or empty `default_password` keeps the stored one.",
    params(("org" = String, Path, description = "Id or name"), ("db" = String, Path, description = "Database id")),
    request_body = DatabasePatch,
    responses(
        (status = 200, description = "The definition", body = Database),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
        (status = 409, response = super::Refusal),
        (status = 422, response = super::Refusal),
    ))]
pub async fn update(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path((org, db)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Json<Database>> {
    let patch: DatabasePatch = parse_json(&body)?;
    let org = visible(&s.backend, &ctx.0, &org)?;
    Ok(Json(svc::update(&s.backend, &ctx.0, org, &db, patch).await?))
}

#[utoipa::path(delete, path = "/orgs/{org}/databases/{db}", tag = "databases", operation_id = "deleteDatabase",
    summary = "Delete a definition (manage-database-servers)",
    params(("org" = String, Path, description = "Id or name"), ("db" = String, Path, description = "Database id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
    ))]
pub async fn delete(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path((org, db)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let org = visible(&s.backend, &ctx.0, &org)?;
    svc::delete(&s.backend, &ctx.0, org, &db).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/orgs/{org}/databases/{db}/test", tag = "databases", operation_id = "testDatabase",
    summary = "Test Connection (manage-database-servers)",
    description = "Connects to the database as its default login (without one: whether the server accepts connections) and runs `SELECT 1`, within the operator's time limit. The answer is 200 whatever the outcome: `connected`, `unreachable`, `timed_out`, `tls`, `wrong_credentials`, `unknown_database`, `not_allowed` (a link-local address, a host outside `--database-hosts`, a SQLite file outside `--sqlite-databases-dir`) or `other`, with the driver's message (never a password). The outcome is kept on the definition and audited. Failed tests are throttled per caller (429 with `Retry-After`).",
    params(("org" = String, Path, description = "Id or name"), ("db" = String, Path, description = "Database id")),
    responses(
        (status = 200, description = "What the test found", body = ConnectionTest),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
        (status = 429, response = super::Refusal),
    ))]
pub async fn test(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path((org, db)): Path<(String, String)>,
) -> ApiResult<Json<ConnectionTest>> {
    let org = visible(&s.backend, &ctx.0, &org)?;
    Ok(Json(svc::test(&s.backend, &ctx.0, org, &db).await?))
}
