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
pub async fn me(State(s): State<ServerState>, ctx: CtxExt) -> ApiResult<Json<Me>> {
    Ok(Json(auth_svc::me(&s.backend, &ctx.0).ok_or(Error::Unauthenticated)?))
}

pub async fn list(State(s): State<ServerState>, ctx: CtxExt) -> ApiResult<Json<Vec<TokenInfo>>> {
    Ok(Json(svc::list(&s.backend, &ctx.0, None).await?))
}

pub async fn create(
    State(s): State<ServerState>,
    ctx: CtxExt,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let n: NewToken = parse_json(&body)?;
    Ok((StatusCode::CREATED, Json(svc::create(&s.backend, &ctx.0, None, n).await?)))
}

pub async fn revoke(State(s): State<ServerState>, ctx: CtxExt, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let id = id.parse::<i64>().map_err(|_| Error::not_found("Token"))?;
    svc::revoke(&s.backend, &ctx.0, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(serde::Deserialize)]
pub struct Reason {
    #[serde(default)]
    reason: String,
}

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
