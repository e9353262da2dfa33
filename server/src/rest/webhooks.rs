//! `/api/v1/webhooks`: where Roster POSTs news of each change (super admins). A hook's
//! signing secret is answered once, when the hook is created and when it is rotated.
use app::backend::services::webhooks as svc;
use app::domain::webhooks::{Delivery, Webhook, WebhookInput, WebhookSecret};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

use super::{parse_json, ApiResult, CtxExt};
use crate::ServerState;

#[utoipa::path(get, path = "/webhooks", tag = "webhooks", operation_id = "listWebhooks",
    summary = "List the webhooks (super admins)",
    responses(
        (status = 200, description = "Webhooks, oldest first", body = Vec<Webhook>),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
    ))]
pub async fn list(State(s): State<ServerState>, ctx: CtxExt) -> ApiResult<Json<Vec<Webhook>>> {
    Ok(Json(svc::list(&s.backend, &ctx.0).await?))
}

#[utoipa::path(post, path = "/webhooks", tag = "webhooks", operation_id = "createWebhook",
    summary = "Add a webhook; its signing secret is in this answer only. It hears of changes committed from now on",
    request_body = WebhookInput,
    responses(
        (status = 201, description = "Created, with its signing secret", body = WebhookSecret),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 422, response = super::Refusal),
    ))]
pub async fn create(
    State(s): State<ServerState>,
    ctx: CtxExt,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<WebhookSecret>)> {
    let input: WebhookInput = parse_json(&body)?;
    Ok((StatusCode::CREATED, Json(svc::save(&s.backend, &ctx.0, None, input).await?)))
}

#[utoipa::path(get, path = "/webhooks/{id}", tag = "webhooks", operation_id = "getWebhook",
    summary = "One webhook", params(("id" = i64, Path, description = "The webhook's id")),
    responses(
        (status = 200, description = "The webhook", body = Webhook),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
    ))]
pub async fn get(State(s): State<ServerState>, ctx: CtxExt, Path(id): Path<i64>) -> ApiResult<Json<Webhook>> {
    Ok(Json(svc::get(&s.backend, &ctx.0, id).await?))
}

#[utoipa::path(put, path = "/webhooks/{id}", tag = "webhooks", operation_id = "updateWebhook",
    summary = "Replace a webhook's settings (its secret and place in the event stream stay)",
    params(("id" = i64, Path, description = "The webhook's id")), request_body = WebhookInput,
    responses(
        (status = 200, description = "Saved", body = Webhook),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
        (status = 422, response = super::Refusal),
    ))]
pub async fn update(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path(id): Path<i64>,
    body: Bytes,
) -> ApiResult<Json<Webhook>> {
    let input: WebhookInput = parse_json(&body)?;
    Ok(Json(svc::save(&s.backend, &ctx.0, Some(id), input).await?.webhook))
}

#[utoipa::path(delete, path = "/webhooks/{id}", tag = "webhooks", operation_id = "deleteWebhook",
    summary = "Remove a webhook: nothing more is sent to it", params(("id" = i64, Path, description = "The webhook's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
    ))]
pub async fn delete(State(s): State<ServerState>, ctx: CtxExt, Path(id): Path<i64>) -> ApiResult<StatusCode> {
    svc::delete(&s.backend, &ctx.0, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/webhooks/{id}/secret", tag = "webhooks", operation_id = "rotateWebhookSecret",
    summary = "Give a webhook a new signing secret (deliveries from now on are signed with it)",
    params(("id" = i64, Path, description = "The webhook's id")),
    responses(
        (status = 200, description = "The new secret, in this answer only", body = WebhookSecret),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
    ))]
pub async fn rotate_secret(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path(id): Path<i64>,
) -> ApiResult<Json<WebhookSecret>> {
    Ok(Json(svc::rotate_secret(&s.backend, &ctx.0, id).await?))
}

#[utoipa::path(post, path = "/webhooks/{id}/resume", tag = "webhooks", operation_id = "resumeWebhook",
    summary = "Resume a paused webhook at the event it stopped on",
    params(("id" = i64, Path, description = "The webhook's id")),
    responses(
        (status = 200, description = "Resumed", body = Webhook),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
    ))]
pub async fn resume(State(s): State<ServerState>, ctx: CtxExt, Path(id): Path<i64>) -> ApiResult<Json<Webhook>> {
    Ok(Json(svc::resume(&s.backend, &ctx.0, id).await?))
}

#[utoipa::path(get, path = "/webhooks/{id}/deliveries", tag = "webhooks", operation_id = "listWebhookDeliveries",
    summary = "A webhook's latest delivery attempts, newest first (the last 50)",
    params(("id" = i64, Path, description = "The webhook's id")),
    responses(
        (status = 200, description = "Delivery attempts", body = Vec<Delivery>),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
    ))]
pub async fn deliveries(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<Delivery>>> {
    Ok(Json(svc::deliveries(&s.backend, &ctx.0, id).await?))
}
