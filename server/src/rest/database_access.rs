//! Shared database credentials (`/orgs/{org}/databases/{db}/credentials`), an account's
//! database mappings in an organization (`/orgs/{org}/users/{username}/databases`), and the
//! login a data tool must use for an account (`/users/{username}/databases/{db}/credentials`).
//! Passwords are write-only everywhere but in that last answer.
use std::collections::HashMap;

use app::backend::services::database_access as svc;
use app::backend::services::orgs::visible;
use app::domain::database_access::{
    Credential, CredentialInput, CredentialPage, CredentialPatch, DatabaseLogin, Mapping, MappingInput, MappingPage,
};
use app::domain::databases::ConnectionTest;
use app::domain::Error;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;

use super::{parse_json, ApiResult, CtxExt};
use crate::ServerState;

#[utoipa::path(get, path = "/orgs/{org}/databases/{db}/credentials", tag = "databases", operation_id = "listCredentials",
    summary = "A database's shared credentials by name, 50 a page (view-credentials or create-credentials); never their passwords",
    params(("org" = String, Path, description = "Id or name"), ("db" = String, Path, description = "Database id"),
        ("after" = Option<String>, Query, description = "Name to continue after (`next` of the previous page)")),
    responses(
        (status = 200, description = "A page of credentials", body = CredentialPage),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
    ))]
pub async fn list_credentials(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path((org, db)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<CredentialPage>> {
    let org = visible(&s.backend, &ctx.0, &org)?;
    Ok(Json(svc::list_credentials(&s.backend, &ctx.0, org, &db, q.get("after").cloned()).await?))
}

#[utoipa::path(post, path = "/orgs/{org}/databases/{db}/credentials", tag = "databases", operation_id = "createCredential",
    summary = "Create a shared credential (create-credentials)",
    description = "A named login and password for this database, which accounts' mappings can use. `password` is stored sealed and never returned.",
    params(("org" = String, Path, description = "Id or name"), ("db" = String, Path, description = "Database id")),
    request_body = CredentialInput,
    responses(
        (status = 201, description = "The credential", body = Credential),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
        (status = 409, response = super::Refusal),
        (status = 422, response = super::Refusal),
    ))]
pub async fn create_credential(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path((org, db)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Credential>)> {
    let input: CredentialInput = parse_json(&body)?;
    let org = visible(&s.backend, &ctx.0, &org)?;
    Ok((StatusCode::CREATED, Json(svc::create_credential(&s.backend, &ctx.0, org, &db, input).await?)))
}

#[utoipa::path(patch, path = "/orgs/{org}/databases/{db}/credentials/{name}", tag = "databases", operation_id = "updateCredential",
    summary = "Change a shared credential (create-credentials); an absent or empty password keeps the stored one",
    params(("org" = String, Path, description = "Id or name"), ("db" = String, Path, description = "Database id"),
        ("name" = String, Path, description = "Credential name")),
    request_body = CredentialPatch,
    responses(
        (status = 200, description = "The credential", body = Credential),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
        (status = 409, response = super::Refusal),
        (status = 422, response = super::Refusal),
    ))]
pub async fn update_credential(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path((org, db, name)): Path<(String, String, String)>,
    body: Bytes,
) -> ApiResult<Json<Credential>> {
    let patch: CredentialPatch = parse_json(&body)?;
    let org = visible(&s.backend, &ctx.0, &org)?;
    Ok(Json(svc::update_credential(&s.backend, &ctx.0, org, &db, &name, patch).await?))
}

/// What deleting a credential removed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CredentialDeleted {
    /// Accounts' mappings that went through it (deleted with it).
    pub mappings_removed: u64,
}

#[utoipa::path(delete, path = "/orgs/{org}/databases/{db}/credentials/{name}", tag = "databases", operation_id = "deleteCredential",
    summary = "Delete a shared credential and the accounts' mappings through it (create-credentials)",
    params(("org" = String, Path, description = "Id or name"), ("db" = String, Path, description = "Database id"),
        ("name" = String, Path, description = "Credential name")),
    responses(
        (status = 200, description = "Deleted", body = CredentialDeleted),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
    ))]
pub async fn delete_credential(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path((org, db, name)): Path<(String, String, String)>,
) -> ApiResult<Json<CredentialDeleted>> {
    let org = visible(&s.backend, &ctx.0, &org)?;
    let mappings_removed = svc::delete_credential(&s.backend, &ctx.0, org, &db, &name).await?;
    Ok(Json(CredentialDeleted { mappings_removed }))
}

#[utoipa::path(post, path = "/orgs/{org}/databases/{db}/credentials/{name}/test", tag = "databases", operation_id = "testCredential",
    summary = "Test Connection as a shared credential (manage-database-servers, or the credential's creator)",
    description = "As for a definition's test: 200 whatever the outcome, kept on the credential and audited; failed tests are throttled per caller (429 with `Retry-After`).",
    params(("org" = String, Path, description = "Id or name"), ("db" = String, Path, description = "Database id"),
        ("name" = String, Path, description = "Credential name")),
    responses(
        (status = 200, description = "What the test found", body = ConnectionTest),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
        (status = 429, response = super::Refusal),
    ))]
pub async fn test_credential(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path((org, db, name)): Path<(String, String, String)>,
) -> ApiResult<Json<ConnectionTest>> {
    let org = visible(&s.backend, &ctx.0, &org)?;
    Ok(Json(svc::test_credential(&s.backend, &ctx.0, org, &db, &name).await?))
}

#[utoipa::path(get, path = "/orgs/{org}/users/{username}/databases", tag = "databases", operation_id = "listMappings",
    summary = "An account's database mappings in the organization, by database id, 50 a page (whoever may see the account)",
    params(("org" = String, Path, description = "Id or name"), ("username" = String, Path, description = "Username"),
        ("after" = Option<String>, Query, description = "Database id to continue after (`next` of the previous page)")),
    responses(
        (status = 200, description = "A page of mappings", body = MappingPage),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
    ))]
pub async fn list_mappings(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path((org, username)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<MappingPage>> {
    let org = visible(&s.backend, &ctx.0, &org)?;
    Ok(Json(svc::list_mappings(&s.backend, &ctx.0, org, &username, q.get("after").cloned()).await?))
}

#[utoipa::path(put, path = "/orgs/{org}/users/{username}/databases/{db}", tag = "databases", operation_id = "setMapping",
    summary = "Create or replace an account's mapping to a database (whoever may change the account)",
    description = "`kind`: `own` (with `login` and optionally `password`; an empty password keeps the stored one), `credential` (with `credential`, a shared credential's name) or `none` (the database needs no login). `db_id` in the body, if given, must be the path's.",
    params(("org" = String, Path, description = "Id or name"), ("username" = String, Path, description = "Username"),
        ("db" = String, Path, description = "Database id")),
    request_body = MappingInput,
    responses(
        (status = 200, description = "The mapping", body = Mapping),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
        (status = 422, response = super::Refusal),
    ))]
pub async fn set_mapping(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path((org, username, db)): Path<(String, String, String)>,
    body: Bytes,
) -> ApiResult<Json<Mapping>> {
    let mut input: MappingInput = parse_json(&body)?;
    if !input.db_id.trim().is_empty() && !input.db_id.trim().eq_ignore_ascii_case(db.trim()) {
        return Err(Error::invalid("db_id", "The body names another database than the path.").into());
    }
    input.db_id = db;
    let org = visible(&s.backend, &ctx.0, &org)?;
    Ok(Json(svc::set_mapping(&s.backend, &ctx.0, org, &username, input).await?))
}

#[utoipa::path(delete, path = "/orgs/{org}/users/{username}/databases/{db}", tag = "databases", operation_id = "deleteMapping",
    summary = "Remove an account's mapping to a database (whoever may change the account)",
    params(("org" = String, Path, description = "Id or name"), ("username" = String, Path, description = "Username"),
        ("db" = String, Path, description = "Database id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
    ))]
pub async fn delete_mapping(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path((org, username, db)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let org = visible(&s.backend, &ctx.0, &org)?;
    svc::delete_mapping(&s.backend, &ctx.0, org, &username, &db).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/orgs/{org}/users/{username}/databases/{db}/test", tag = "databases", operation_id = "testMapping",
    summary = "Test Connection as an account's mapping (manage-database-servers)",
    description = "Connects as the mapping's own login or its shared credential. As for a definition's test: 200 whatever the outcome, kept on the mapping and audited; failed tests are throttled per caller (429 with `Retry-After`).",
    params(("org" = String, Path, description = "Id or name"), ("username" = String, Path, description = "Username"),
        ("db" = String, Path, description = "Database id")),
    responses(
        (status = 200, description = "What the test found", body = ConnectionTest),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
        (status = 429, response = super::Refusal),
    ))]
pub async fn test_mapping(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path((org, username, db)): Path<(String, String, String)>,
) -> ApiResult<Json<ConnectionTest>> {
    let org = visible(&s.backend, &ctx.0, &org)?;
    Ok(Json(svc::test_mapping(&s.backend, &ctx.0, org, &username, &db).await?))
}

#[utoipa::path(get, path = "/users/{username}/databases/{db}/credentials", tag = "databases", operation_id = "databaseLogin",
    summary = "The login and password a data tool must use for an account on a database (super admins, and tokens holding view-credentials)",
    description = "The account's own mapping, else the shared credential it is mapped to, else (super admins only) the definition's default login; `source` says which. The password is in the clear: every read is audited (`database_login.read`). 404 when the account has no access to the database; 409 when several organizations define the database id (name one with `org`) or the account is disabled.",
    params(("username" = String, Path, description = "Username"), ("db" = String, Path, description = "Database id"),
        ("org" = Option<String>, Query, description = "The organization (id or name), when several define the database id")),
    responses(
        (status = 200, description = "Where the database is and the login to use", body = DatabaseLogin),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
        (status = 409, response = super::Refusal),
    ))]
pub async fn database_login(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path((username, db)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<DatabaseLogin>> {
    Ok(Json(svc::database_login(&s.backend, &ctx.0, &username, &db, q.get("org").map(String::as_str)).await?))
}
