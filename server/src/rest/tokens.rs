//! `/api/v1/me`, `/api/v1/tokens` and the admin's 2FA reset: what a token or a session may
//! see of itself and do with its own credentials.
use app::backend::services::{auth as auth_svc, security as security_svc, tokens as svc};
use app::domain::tokens::{CreatedToken, NewToken, TokenInfo};
use app::domain::users::Me;
use app::domain::Error;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

use super::{parse_json, ApiResult, CtxExt};
use crate::ServerState;

/// The caller: account, current organization and what it may do there (narrowed by a
/// token's scope).
#[utoipa::path(get, path = "/me", tag = "me", operation_id = "me",
    summary = "The caller (session or token), with its abilities in its current organization",
    responses(
        (status = 200, description = "The caller", body = Me),
        (status = 401, response = super::Refusal),
    ))]
pub async fn me(State(s): State<ServerState>, ctx: CtxExt) -> ApiResult<Json<Me>> {
    Ok(Json(auth_svc::me(&s.backend, &ctx.0).ok_or(Error::Unauthenticated)?))
}

#[utoipa::path(get, path = "/tokens", tag = "me", operation_id = "listTokens",
    summary = "The caller's API keys and personal access tokens (never their secrets)",
    responses(
        (status = 200, description = "Tokens, newest first", body = Vec<TokenInfo>),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
    ))]
pub async fn list(State(s): State<ServerState>, ctx: CtxExt) -> ApiResult<Json<Vec<TokenInfo>>> {
    Ok(Json(svc::list(&s.backend, &ctx.0, None).await?))
}

#[utoipa::path(post, path = "/tokens", tag = "me", operation_id = "createToken",
    summary = "Create a token for the caller (sessions only, within sudo mode); the secret is in this answer only",
    request_body = NewToken,
    responses(
        (status = 201, description = "The token, shown once", body = CreatedToken),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 409, response = super::Refusal),
        (status = 422, response = super::Refusal),
    ))]
pub async fn create(
    State(s): State<ServerState>,
    ctx: CtxExt,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let n: NewToken = parse_json(&body)?;
    Ok((StatusCode::CREATED, Json(svc::create(&s.backend, &ctx.0, None, n).await?)))
}

#[utoipa::path(delete, path = "/tokens/{id}", tag = "me", operation_id = "revokeToken",
    summary = "Revoke one of the caller's tokens (effective on the next request)",
    params(("id" = i64, Path, description = "The token id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
    ))]
pub async fn revoke(State(s): State<ServerState>, ctx: CtxExt, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let id = id.parse::<i64>().map_err(|_| Error::not_found("Token"))?;
    svc::revoke(&s.backend, &ctx.0, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct Reason {
    #[serde(default)]
    reason: String,
}

#[utoipa::path(post, path = "/users/{username}/two-factor/reset", tag = "users", operation_id = "resetTwoFactor",
    summary = "Turn off an account's two-factor authentication (admins, sudo mode), with a reason for the audit log",
    params(("username" = String, Path, description = "Case-insensitive")), request_body = Reason,
    responses(
        (status = 204, description = "Reset"),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
        (status = 422, response = super::Refusal),
    ))]
pub async fn reset_two_factor(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path(username): Path<String>,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let r: Reason = parse_json(&body)?;
    security_svc::admin_reset(&s.backend, &ctx.0, &username, &r.reason).await?;
    Ok(StatusCode::NO_CONTENT)
}
