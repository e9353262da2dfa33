//! Roster as the OpenID provider of the data tools (issue 13): the endpoints the tools call
//! themselves, outside the JSON API. So far the published signing keys (`/oauth/jwks`), which
//! verify the ID tokens Roster signs.
use app::backend::services::signing_keys;
use app::backend::Backend;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

fn refused(e: &app::domain::Error) -> Response {
    let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(crate::rest::error_body(e))).into_response()
}

/// The key set (RFC 7517): public keys only. Tools may keep it five minutes; one that meets an
/// unknown key id fetches it again (a rotation publishes the new key at once).
pub async fn jwks(State(b): State<Backend>) -> Response {
    match signing_keys::jwks(&b).await {
        Ok(set) => (
            [(header::CACHE_CONTROL, "public, max-age=300"), (header::CONTENT_TYPE, "application/jwk-set+json")],
            set.to_string(),
        )
            .into_response(),
        Err(e) => refused(&e),
    }
}
