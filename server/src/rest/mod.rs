//! The JSON API under `/api/v1`: the same services as the UI, session-authenticated for now
//! (tokens arrive with strong authentication). Errors are JSON with stable codes:
//! `{"error": {"code": "...", "message": "...", "fields": [{"field", "message"}]}}`.
//! `ROUTES` lists every route; the router is built from it and a test keeps the OpenAPI
//! document in step with it.
pub mod users;

use app::backend::Ctx;
use app::domain::Error;
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
];

pub fn router() -> Router<crate::ServerState> {
    let users: MethodRouter<crate::ServerState> = get(users::list).post(users::create);
    let user: MethodRouter<crate::ServerState> = get(users::get).patch(users::update).delete(users::delete);
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/users", users)
        .route("/users/{username}", user)
        .fallback(|method: Method| async move { ApiError(Error::NotFound { what: format!("API route ({method})") }) })
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
