//! `/api/v1/orgs/{org}/invitations`: invitation links of an organization (holders of
//! create-users there). A new or re-sent link is in its answer only, when it was not mailed.
//! Accepting happens on the invitation page (`/invite/{token}`), not here.
use app::backend::services::invitations as svc;
use app::backend::services::orgs::visible;
use app::domain::ids::RoleId;
use app::domain::invitations::{Invitation, InvitationLink, NewInvitation};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

use super::{parse_json, ApiResult, CtxExt};
use crate::ServerState;

#[utoipa::path(get, path = "/orgs/{org}/invitations", tag = "orgs", operation_id = "listInvitations",
    summary = "The organization's 100 most recent invitations, newest first (create-users)",
    params(("org" = String, Path, description = "Id or name")),
    responses(
        (status = 200, description = "Invitations, with their status (never their links)", body = Vec<Invitation>),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
    ))]
pub async fn list(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path(org): Path<String>,
) -> ApiResult<Json<Vec<Invitation>>> {
    let org = visible(&s.backend, &ctx.0, &org)?;
    Ok(Json(svc::list(&s.backend, &ctx.0, org).await?))
}

#[utoipa::path(post, path = "/orgs/{org}/invitations", tag = "orgs", operation_id = "createInvitation",
    summary = "Invite an email address with a role (create-users; never more than you hold, checked again when the link is used)",
    description = "Mailed when Roster has a mail server (--smtp-url) and a public URL; otherwise the link is in this answer only.",
    params(("org" = String, Path, description = "Id or name")), request_body = NewInvitation,
    responses(
        (status = 201, description = "Invited", body = InvitationLink),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
        (status = 422, response = super::Refusal),
    ))]
pub async fn create(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path(org): Path<String>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<InvitationLink>)> {
    let n: NewInvitation = parse_json(&body)?;
    let org = visible(&s.backend, &ctx.0, &org)?;
    let made = svc::create(&s.backend, &ctx.0, org, &n.email, RoleId(n.role), n.abilities, n.days).await?;
    Ok((StatusCode::CREATED, Json(made)))
}

#[utoipa::path(post, path = "/orgs/{org}/invitations/{id}/resend", tag = "orgs", operation_id = "resendInvitation",
    summary = "A new link for a pending or expired invitation (the old one stops working), for 7 more days",
    params(("org" = String, Path, description = "Id or name"), ("id" = i64, Path, description = "The invitation's id")),
    responses(
        (status = 200, description = "Re-sent", body = InvitationLink),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
        (status = 409, response = super::Refusal),
    ))]
pub async fn resend(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path((org, id)): Path<(String, i64)>,
) -> ApiResult<Json<InvitationLink>> {
    let org = visible(&s.backend, &ctx.0, &org)?;
    Ok(Json(svc::resend(&s.backend, &ctx.0, org, id, None).await?))
}

#[utoipa::path(post, path = "/orgs/{org}/invitations/{id}/revoke", tag = "orgs", operation_id = "revokeInvitation",
    summary = "Withdraw a pending invitation: its link stops working at once",
    params(("org" = String, Path, description = "Id or name"), ("id" = i64, Path, description = "The invitation's id")),
    responses(
        (status = 200, description = "Withdrawn", body = Invitation),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
        (status = 409, response = super::Refusal),
    ))]
pub async fn revoke(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Path((org, id)): Path<(String, i64)>,
) -> ApiResult<Json<Invitation>> {
    let org = visible(&s.backend, &ctx.0, &org)?;
    Ok(Json(svc::revoke(&s.backend, &ctx.0, org, id).await?))
}
