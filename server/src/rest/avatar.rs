//! Profile pictures: `GET /api/v1/users/{username}/avatar` (the PNG, or a generated initial
//! for accounts without one), `PUT` / `DELETE /api/v1/me/avatar` (raw image bytes), and the
//! profile page's upload form (`POST /profile/avatar`, multipart, answered by a redirect).
use app::backend::avatar::{placeholder_svg, AvatarError};
use app::backend::services::profile as svc;
use app::backend::{Backend, Ctx};
use app::domain::Error;
use axum::body::Bytes;
use axum::extract::{Multipart, Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;

use super::{ApiResult, CtxExt};
use crate::ServerState;

#[utoipa::path(get, path = "/users/{username}/avatar", tag = "users", operation_id = "getAvatar",
    summary = "An account's picture: a 256x256 PNG, or a generated SVG initial when it has none", params(("username" = String, Path, description = "Case-insensitive")),
    responses(
        (status = 200, description = "The picture", content((Vec<u8> = "image/png"), (String = "image/svg+xml"))),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 404, response = super::Refusal),
    ))]
pub async fn get(State(s): State<ServerState>, ctx: CtxExt, Path(username): Path<String>) -> ApiResult<Response> {
    // (revalidated on every use: a new upload shows at once)
    let cache = (header::CACHE_CONTROL, "private, no-cache");
    Ok(match svc::avatar(&s.backend, &ctx.0, &username).await? {
        Some(png) => ([(header::CONTENT_TYPE, "image/png"), cache], png).into_response(),
        None => ([(header::CONTENT_TYPE, "image/svg+xml"), cache], placeholder_svg(&username)).into_response(),
    })
}

#[utoipa::path(put, path = "/me/avatar", tag = "me", operation_id = "setAvatar",
    summary = "Set the caller's picture (PNG, JPEG or WebP, at most 1 MB and 4096x4096; stored as a 256x256 PNG without metadata)",
    request_body(content((Vec<u8> = "image/png"), (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/webp"))),
    responses(
        (status = 204, description = "Saved"),
        (status = 401, response = super::Refusal),
        (status = 422, response = super::Refusal),
    ))]
pub async fn put(State(s): State<ServerState>, ctx: CtxExt, body: Bytes) -> ApiResult<StatusCode> {
    svc::set_avatar(&s.backend, &ctx.0, body.to_vec()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/me/avatar", tag = "me", operation_id = "removeAvatar",
    summary = "Remove the caller's picture",
    responses(
        (status = 204, description = "Removed (or there was none)"),
        (status = 401, response = super::Refusal),
    ))]
pub async fn delete(State(s): State<ServerState>, ctx: CtxExt) -> ApiResult<StatusCode> {
    svc::remove_avatar(&s.backend, &ctx.0).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn back_to_profile(query: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, format!("/profile?{query}"))]).into_response()
}

/// The refusal code for the profile page (only known codes travel in the URL).
fn refusal(e: &Error) -> &'static str {
    match e {
        Error::Invalid { errors } => errors
            .iter()
            .find_map(|f| AvatarError::ALL.into_iter().find(|a| a.to_string() == f.message))
            .map(AvatarError::code)
            .unwrap_or("unreadable"),
        Error::Unauthenticated => "signed_out",
        _ => "failed",
    }
}

/// The profile page's upload form (works without JavaScript).
pub async fn upload_form(State(b): State<Backend>, Extension(ctx): Extension<Ctx>, mut form: Multipart) -> Response {
    let mut file = None;
    loop {
        match form.next_field().await {
            Ok(Some(field)) if field.name() == Some("avatar") => match field.bytes().await {
                Ok(bytes) => file = Some(bytes.to_vec()),
                Err(_) => return back_to_profile("avatar_error=too_big"),
            },
            Ok(Some(_)) => continue,
            Ok(None) => break,
            Err(_) => return back_to_profile("avatar_error=unreadable"),
        }
    }
    match svc::set_avatar(&b, &ctx, file.unwrap_or_default()).await {
        Ok(()) => back_to_profile("avatar=saved"),
        Err(e) => back_to_profile(&format!("avatar_error={}", refusal(&e))),
    }
}

/// An upload over the request body limit is cut off before any handler runs (413): the
/// browser gets the profile page with the reason instead of a bare status.
pub async fn too_big_to_profile(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let is_upload = req.uri().path() == "/profile/avatar";
    let res = next.run(req).await;
    if is_upload && res.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return back_to_profile("avatar_error=too_big");
    }
    res
}
