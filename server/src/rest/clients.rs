//! `/api/v1/clients`: OAuth clients, the data tools that sign people in through Roster
//! (super admins). A confidential client's secret is answered once, when the client is
//! created and when it is rotated; never read back.
use app::backend::services::clients as svc;
use app::domain::clients::{ClientSecret, OAuthClient};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

use super::{parse_json, ApiResult, CtxExt};
use crate::ServerState;

#[utoipa::path(get, path = "/clients", tag = "clients", operation_id = "listClients",
    summary = "List the applications that sign people in through Roster (super admins)",
    responses(
        (status = 200, description = "Applications, by client ID", body = Vec<OAuthClient>),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
    ))]
pub async fn list(State(s): State<ServerState>, ctx: CtxExt) -> ApiResult<Json<Vec<OAuthClient>>> {
    Ok(Json(svc::list(&s.backend, &ctx.0).await?))
}

#[utoipa::path(post, path = "/clients", tag = "clients", operation_id = "createClient",
    summary = "Register an application; a confidential one's secret is in this answer only", request_body = OAuthClient,
    responses(
        (status = 201, description = "Created, with its secret", body = ClientSecret),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 409, response = super::Refusal),
        (status = 422, response = super::Refusal),
    ))]
pub async fn create(
    State(s): State<ServerState>,
    ctx: CtxExt,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<ClientSecret>)> {
    let c: OAuthClient = parse_json(&body)?;
    Ok((StatusCode::CREATED, Json(svc::save(&s.backend, &ctx.0, c, true).await?)))
}

#[utoipa::path(get, path = "/clients/{client_id}", tag = "clients", operation_id = "getClient",
    summary = "One application's settings", params(("client_id" = String, Path, description = "The client ID")),
    responses(
        (status = 200, description = "The application", body = OAuthClient),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
    ))]
pub async fn get(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path(client_id): Path<String>,
) -> ApiResult<Json<OAuthClient>> {
    Ok(Json(svc::get(&s.backend, &ctx.0, &client_id).await?))
}

/// Replaces an application's settings (the client ID comes from the path). Turned from public
/// to confidential it gets a secret, in this answer only.
#[utoipa::path(put, path = "/clients/{client_id}", tag = "clients", operation_id = "updateClient",
    summary = "Replace an application's settings", params(("client_id" = String, Path, description = "The client ID")),
    request_body = OAuthClient,
    responses(
        (status = 200, description = "Saved (client_secret only when a new one was made)", body = ClientSecret),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
        (status = 422, response = super::Refusal),
    ))]
pub async fn update(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path(client_id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<ClientSecret>> {
    let mut c: OAuthClient = parse_json(&body)?;
    c.client_id = client_id;
    Ok(Json(svc::save(&s.backend, &ctx.0, c, false).await?))
}

#[utoipa::path(post, path = "/clients/{client_id}/secret", tag = "clients", operation_id = "rotateClientSecret",
    summary = "Give a confidential application a new secret (the old one stops working at once)",
    params(("client_id" = String, Path, description = "The client ID")),
    responses(
        (status = 200, description = "The new secret, in this answer only", body = ClientSecret),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
        (status = 422, response = super::Refusal),
    ))]
pub async fn rotate_secret(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path(client_id): Path<String>,
) -> ApiResult<Json<ClientSecret>> {
    Ok(Json(svc::rotate_secret(&s.backend, &ctx.0, &client_id).await?))
}

#[utoipa::path(delete, path = "/clients/{client_id}", tag = "clients", operation_id = "deleteClient",
    summary = "Remove an application: it can no longer sign anyone in", params(("client_id" = String, Path, description = "The client ID")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
    ))]
pub async fn delete(State(s): State<ServerState>, ctx: CtxExt, Path(client_id): Path<String>) -> ApiResult<StatusCode> {
    svc::delete(&s.backend, &ctx.0, &client_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
