//! `/api/v1/sso/providers`: single sign-on providers (super admins). The client secret is
//! write-only: never in a response.
use app::backend::services::sso as svc;
use app::domain::sso::SsoProvider;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

use super::{parse_json, ApiResult, CtxExt};
use crate::ServerState;

pub async fn list(State(s): State<ServerState>, ctx: CtxExt) -> ApiResult<Json<Vec<SsoProvider>>> {
    Ok(Json(svc::list_providers(&s.backend, &ctx.0).await?))
}

pub async fn create(
    State(s): State<ServerState>,
    ctx: CtxExt,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<SsoProvider>)> {
    let p: SsoProvider = parse_json(&body)?;
    Ok((StatusCode::CREATED, Json(svc::save_provider(&s.backend, &ctx.0, p, true).await?)))
}

/// Replaces a provider's settings (the slug comes from the path; an absent secret keeps it).
pub async fn update(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path(slug): Path<String>,
    body: Bytes,
) -> ApiResult<Json<SsoProvider>> {
    let mut p: SsoProvider = parse_json(&body)?;
    p.slug = slug;
    Ok(Json(svc::save_provider(&s.backend, &ctx.0, p, false).await?))
}

pub async fn delete(State(s): State<ServerState>, ctx: CtxExt, Path(slug): Path<String>) -> ApiResult<StatusCode> {
    svc::delete_provider(&s.backend, &ctx.0, &slug).await?;
    Ok(StatusCode::NO_CONTENT)
}
