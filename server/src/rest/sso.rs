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

#[utoipa::path(get, path = "/sso/providers", tag = "sso", operation_id = "listSsoProviders",
    summary = "List single sign-on providers (super admins; secrets are never returned)",
    responses(
        (status = 200, description = "Providers", body = Vec<SsoProvider>),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
    ))]
pub async fn list(State(s): State<ServerState>, ctx: CtxExt) -> ApiResult<Json<Vec<SsoProvider>>> {
    Ok(Json(svc::list_providers(&s.backend, &ctx.0).await?))
}

#[utoipa::path(post, path = "/sso/providers", tag = "sso", operation_id = "createSsoProvider",
    summary = "Add an OpenID Connect provider (its discovery document is read first)", request_body = SsoProvider,
    responses(
        (status = 201, description = "Created", body = SsoProvider),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 409, response = super::Refusal),
        (status = 422, response = super::Refusal),
        (status = 502, response = super::Refusal),
    ))]
pub async fn create(
    State(s): State<ServerState>,
    ctx: CtxExt,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<SsoProvider>)> {
    let p: SsoProvider = parse_json(&body)?;
    Ok((StatusCode::CREATED, Json(svc::save_provider(&s.backend, &ctx.0, p, true).await?)))
}

/// Replaces a provider's settings (the slug comes from the path; an absent secret keeps it).
#[utoipa::path(put, path = "/sso/providers/{slug}", tag = "sso", operation_id = "updateSsoProvider",
    summary = "Replace a provider's settings (an empty client_secret keeps the stored one)", params(("slug" = String, Path, description = "The provider slug")), request_body = SsoProvider,
    responses(
        (status = 200, description = "Saved", body = SsoProvider),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
        (status = 409, response = super::Refusal),
        (status = 422, response = super::Refusal),
        (status = 502, response = super::Refusal),
    ))]
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

#[utoipa::path(delete, path = "/sso/providers/{slug}", tag = "sso", operation_id = "deleteSsoProvider",
    summary = "Remove a provider and every account link to it (accounts stay)", params(("slug" = String, Path, description = "The provider slug")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
    ))]
pub async fn delete(State(s): State<ServerState>, ctx: CtxExt, Path(slug): Path<String>) -> ApiResult<StatusCode> {
    svc::delete_provider(&s.backend, &ctx.0, &slug).await?;
    Ok(StatusCode::NO_CONTENT)
}
