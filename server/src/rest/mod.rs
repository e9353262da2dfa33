//! The JSON API under `/api/v1`: the same services as the UI, authenticated by the session
//! cookie or by an API key / personal access token (`Authorization: Bearer`, `X-API-Key`,
//! or `?apikey=`). Errors are JSON with stable codes:
//! `{"error": {"code": "...", "message": "...", "fields": [{"field", "message"}]}}`.
//! `ROUTES` lists every route; the router is built from it and a test keeps the OpenAPI
//! document in step with it.
pub mod access;
pub mod audit;
pub mod avatar;
pub mod orgs;
pub mod roles;
pub mod sso;
pub mod tokens;
pub mod users;

use app::backend::Ctx;
use app::domain::Error;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, MethodRouter};
use axum::{Extension, Json, Router};
use serde_json::json;

pub const OPENAPI: &str = include_str!("openapi.json");

/// (method, path as in OpenAPI) of every route.
pub const ROUTES: &[(&str, &str)] = &[
    ("get", "/openapi.json"),
    ("get", "/users"),
    ("post", "/users"),
    ("get", "/users/{username}"),
    ("patch", "/users/{username}"),
    ("delete", "/users/{username}"),
    ("get", "/users/{username}/memberships"),
    ("get", "/users/{username}/access"),
    ("put", "/users/{username}/access/{holder}"),
    ("delete", "/users/{username}/access/{holder}"),
    ("get", "/roles"),
    ("post", "/roles"),
    ("patch", "/roles/{id}"),
    ("delete", "/roles/{id}"),
    ("put", "/roles/{id}/abilities/{ability}"),
    ("delete", "/roles/{id}/abilities/{ability}"),
    ("get", "/orgs"),
    ("post", "/orgs"),
    ("patch", "/orgs/{org}"),
    ("delete", "/orgs/{org}"),
    ("get", "/orgs/{org}/members"),
    ("post", "/orgs/{org}/members"),
    ("patch", "/orgs/{org}/members/{username}"),
    ("delete", "/orgs/{org}/members/{username}"),
    ("get", "/check"),
    ("get", "/explain"),
    ("get", "/events"),
    ("get", "/me"),
    ("get", "/tokens"),
    ("post", "/tokens"),
    ("delete", "/tokens/{id}"),
    ("post", "/users/{username}/two-factor/reset"),
    ("get", "/audit"),
    ("get", "/audit/export"),
    ("get", "/users/{username}/avatar"),
    ("put", "/me/avatar"),
    ("delete", "/me/avatar"),
    ("get", "/sso/providers"),
    ("post", "/sso/providers"),
    ("put", "/sso/providers/{slug}"),
    ("delete", "/sso/providers/{slug}"),
];

pub fn router() -> Router<crate::ServerState> {
    let users: MethodRouter<crate::ServerState> = get(users::list).post(users::create);
    let user: MethodRouter<crate::ServerState> = get(users::get).patch(users::update).delete(users::delete);
    use axum::routing::{patch, put};
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/users", users)
        .route("/users/{username}", user)
        .route("/users/{username}/memberships", get(orgs::memberships))
        .route("/users/{username}/access", get(users::holders))
        .route("/users/{username}/access/{holder}", put(users::set_holder).delete(users::remove_holder))
        .route("/roles", get(roles::list).post(roles::create))
        .route("/roles/{id}", patch(roles::rename).delete(roles::delete))
        .route("/roles/{id}/abilities/{ability}", put(roles::grant).delete(roles::revoke))
        .route("/orgs", get(orgs::list).post(orgs::create))
        .route("/orgs/{org}", patch(orgs::rename).delete(orgs::delete))
        .route("/orgs/{org}/members", get(orgs::members).post(orgs::add_member))
        .route("/orgs/{org}/members/{username}", patch(orgs::update_member).delete(orgs::remove_member))
        .route("/check", get(access::check))
        .route("/explain", get(access::explain))
        .route("/events", get(events))
        .route("/me", get(tokens::me))
        .route("/tokens", get(tokens::list).post(tokens::create))
        .route("/tokens/{id}", axum::routing::delete(tokens::revoke))
        .route("/users/{username}/two-factor/reset", axum::routing::post(tokens::reset_two_factor))
        .route("/audit", get(audit::list))
        .route("/audit/export", get(audit::export))
        .route("/users/{username}/avatar", get(avatar::get))
        .route("/me/avatar", put(avatar::put).delete(avatar::delete))
        .route("/sso/providers", get(sso::list).post(sso::create))
        .route("/sso/providers/{slug}", put(sso::update).delete(sso::delete))
        .fallback(|method: Method| async move { ApiError(Error::NotFound { what: format!("API route ({method})") }) })
}

/// Server-sent events for live pages: `access` with the new version number after every
/// change of roles, grants, memberships or organizations. Signed-in callers only; the data
/// itself is fetched through the usual (checked) calls. The stream ends, at the latest within
/// `SESSION_RECHECK`, once its session is gone (signed out, expired, account disabled); the
/// browser then reconnects with whatever session it has.
async fn events(
    State(s): State<crate::ServerState>,
    ctx: CtxExt,
) -> Result<
    axum::response::sse::Sse<
        impl futures_util::Stream<Item = Result<axum::response::sse::Event, std::convert::Infallible>>,
    >,
    ApiError,
> {
    use axum::response::sse::{Event, KeepAlive, Sse};
    use tokio::sync::broadcast::error::RecvError;
    ctx.0.user()?;
    let session = ctx.0.session.clone().ok_or(Error::Unauthenticated)?;
    let backend = s.backend.clone();
    let rx = s.backend.access.subscribe();
    let first = s.backend.access.version();
    let event = |v: i64| Ok(Event::default().event("access").data(v.to_string()));
    let stream = futures_util::stream::unfold((rx, Some(first)), move |(mut rx, first)| {
        let backend = backend.clone();
        let session = session.clone();
        async move {
            if let Some(v) = first {
                return Some((event(v), (rx, None)));
            }
            loop {
                let next = tokio::time::timeout(SESSION_RECHECK, rx.recv()).await;
                if !session_alive(&backend, &session).await {
                    return None;
                }
                match next {
                    Ok(Ok(v)) => return Some((event(v), (rx, None))),
                    // A slow reader missed some: the latest version is all it needs.
                    Ok(Err(RecvError::Lagged(_))) | Err(_) => continue,
                    Ok(Err(RecvError::Closed)) => return None,
                }
            }
        }
    });
    Ok(Sse::new(futures_util::StreamExt::fuse(stream)).keep_alive(KeepAlive::default()))
}

/// How often an idle event stream checks that its session still exists.
const SESSION_RECHECK: std::time::Duration = std::time::Duration::from_secs(30);

/// The same session rules as every request (account active, idle and absolute expiry).
async fn session_alive(b: &app::backend::Backend, token_hash: &[u8]) -> bool {
    app::backend::sessions::resolve_hash(b, token_hash.to_vec()).await.is_some()
}

async fn openapi() -> Response {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

pub fn error_body(e: &Error) -> serde_json::Value {
    let fields = match e {
        Error::Invalid { errors } => errors.iter().map(|f| json!({"field": f.field, "message": f.message})).collect(),
        Error::Conflict { field: Some(f), message } => vec![json!({"field": f, "message": message})],
        _ => vec![],
    };
    json!({ "error": { "code": e.code(), "message": e.to_string(), "fields": fields } })
}

pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(error_body(&self.0))).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Parses a JSON body into `T`, answering a 422 with the parser's reason instead of axum's
/// plain-text rejection.
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError(Error::invalid("body", format!("Invalid JSON body: {e}"))))
}

pub type CtxExt = Extension<Ctx>;
