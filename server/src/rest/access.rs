//! `/api/v1/check` and `/api/v1/explain`: decisions from the in-memory access model.
use std::collections::HashMap;

use app::backend::services::{access as svc, orgs};
use app::domain::abilities::Ability;
use app::domain::access::Explanation;
use app::domain::Error;
use axum::extract::{Query, State};
use axum::Json;

use super::{ApiResult, CtxExt};
use crate::ServerState;

/// `user` (omitted: an anonymous visitor), `org` (id or name), `ability` (code).
fn params(
    s: &ServerState,
    ctx: &app::backend::Ctx,
    q: &HashMap<String, String>,
) -> Result<(Option<String>, app::domain::ids::OrgId, app::domain::abilities::Ability), Error> {
    let org = q.get("org").ok_or_else(|| Error::invalid("org", "Give the organization (`org`, id or name)."))?;
    let ability = q.get("ability").ok_or_else(|| Error::invalid("ability", "Give the ability (`ability`)."))?;
    let ability = svc::parse_ability(ability)?;
    let org = orgs::visible(&s.backend, ctx, org)?;
    Ok((q.get("user").cloned(), org, ability))
}

#[utoipa::path(get, path = "/check", tag = "access", operation_id = "check",
    summary = "May this user use this ability in this organization?",
    description = "From the in-memory access model, current as of the last commit. Users the caller may not see answer 404, like ones that do not exist.",
    params(("user" = Option<String>, Query, description = "Username; omitted: an anonymous visitor (the public account's grants)"),
        ("org" = String, Query, description = "Organization id or name"),
        ("ability" = Ability, Query, description = "An ability code")),
    responses(
        (status = 200, description = "The decision", body = svc::Decision),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
        (status = 422, response = super::Refusal),
    ))]
pub async fn check(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<svc::Decision>> {
    let (user, org, ability) = params(&s, &ctx.0, &q)?;
    Ok(Json(svc::check(&s.backend, &ctx.0, user.as_deref(), org, ability)?))
}

#[utoipa::path(get, path = "/explain", tag = "access", operation_id = "explain",
    summary = "The decision and the chain that led to it (super admin, role, extra grant, public account)",
    params(("user" = Option<String>, Query, description = "Username; omitted: an anonymous visitor (the public account's grants)"),
        ("org" = String, Query, description = "Organization id or name"),
        ("ability" = Ability, Query, description = "An ability code")),
    responses(
        (status = 200, description = "The explanation", body = Explanation),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
        (status = 422, response = super::Refusal),
    ))]
pub async fn explain(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Explanation>> {
    let (user, org, ability) = params(&s, &ctx.0, &q)?;
    Ok(Json(svc::explain(&s.backend, &ctx.0, user.as_deref(), org, ability)?))
}
