//! `/api/v1/bulk`: bulk actions on accounts with a dry run. `POST /bulk` makes a plan (the
//! selection fixed on the server, the real rules run on each account and rolled back);
//! `POST /bulk/{plan}/apply` applies it if no account's outcome has changed since (else 409,
//! naming them). Each account's rule is the same as for one account.
use app::backend::services::bulk as svc;
use app::domain::bulk::{BulkApplied, BulkPlan, BulkRequest};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::Json;

use super::{parse_json, ApiResult, CtxExt};
use crate::ServerState;

#[utoipa::path(post, path = "/bulk", tag = "users", operation_id = "planBulkAction",
    summary = "Dry run of an action on many accounts: what would happen to each, or why not",
    description = "The selection is named accounts or every account matching a users-list search (all pages), fixed now. \
        Nothing is written but the plan, which its maker can apply for 30 minutes. Counts cover every account; \
        `items` lists at most 1,000 (refused ones first).",
    request_body = BulkRequest,
    responses(
        (status = 200, description = "The plan", body = BulkPlan),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 422, response = super::Refusal),
    ))]
pub async fn plan(State(s): State<ServerState>, ctx: CtxExt, body: Bytes) -> ApiResult<Json<BulkPlan>> {
    let req: BulkRequest = parse_json(&body)?;
    Ok(Json(svc::plan(&s.backend, &ctx.0, req).await?))
}

#[utoipa::path(post, path = "/bulk/{plan}/apply", tag = "users", operation_id = "applyBulkAction",
    summary = "Apply a plan: all of it in one transaction, if every account's outcome is still the planned one",
    params(("plan" = String, Path, description = "The plan's id")),
    responses(
        (status = 200, description = "Applied", body = BulkApplied),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
        (status = 409, response = super::Refusal),
        (status = 410, response = super::Refusal),
    ))]
pub async fn apply(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path(plan): Path<String>,
) -> ApiResult<Json<BulkApplied>> {
    Ok(Json(svc::apply(&s.backend, &ctx.0, &plan).await?))
}
