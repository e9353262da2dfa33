//! What every response gets on its way out, whichever handler (or the framework) made it.
//! - Caching: static files under `/pkg/` (hashed names) are immutable for a year, other
//!   files a day; everything else `no-store`, so no page or API answer (a new TOTP seed,
//!   an account's details) is kept by a browser or a proxy after sign-out.
//! - HSTS when the public URL is https; the content security policy for pages is set by
//!   the shell (it carries the request's nonce), this layer sets a strict one for the rest.
//! - Framework refusals (405, 413, 414, a path or query that is not UTF-8...) arrive as
//!   plain text or nothing: they get the documented JSON error body, with their status.
use axum::body::to_bytes;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Longer request targets are refused with a JSON 414 (hyper's own limit, far above, answers
/// without a body).
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// The policy for answers that are not pages (JSON, images, files): nothing may run.
const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/// How long browsers and proxies may keep an answer.
pub fn cache_control(path: &str, ok: bool, immutable_assets: bool) -> &'static str {
    // The JS that loads the WASM chunks is rewritten after its name is hashed (cargo-leptos
    // hashes names before it rewrites the chunk names inside): only the WASM and CSS, whose
    // names change with their content, are kept for good.
    let content_named = path.ends_with(".wasm") || path.ends_with(".css");
    match (is_static(path) && ok, path.starts_with("/pkg/")) {
        (true, true) if immutable_assets && content_named => "public, max-age=31536000, immutable",
        // (the same name after a rebuild: ask again every time, answered 304 if unchanged)
        (true, true) => "no-cache",
        (true, false) => "public, max-age=86400",
        (false, _) => "no-store",
    }
}

fn is_static(path: &str) -> bool {
    path.starts_with("/pkg/") || path == "/favicon.svg"
}

/// What the edge needs to know of the configuration.
#[derive(Clone, Copy)]
pub struct Edge {
    /// The public URL is https: browsers must keep using https.
    pub hsts: bool,
    /// Built files carry hashes in their names: a new build is a new name.
    pub immutable_assets: bool,
}

pub async fn headers(State(edge): State<Edge>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let too_long = req.uri().to_string().len() > MAX_URI_BYTES;
    let mut res = if too_long {
        error_response(StatusCode::URI_TOO_LONG, "uri_too_long", "The request address is too long.")
    } else {
        next.run(req).await
    };
    let ok = res.status().is_success();
    let h = res.headers_mut();
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache_control(&path, ok, edge.immutable_assets)));
    }
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(API_CSP));
    }
    if edge.hsts {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=63072000"));
    }
    res
}

/// A request path as logged: an invitation page's token is replaced (the path is the link).
pub fn logged_path(path: &str) -> &str {
    if path.starts_with("/invite/") {
        "/invite/(token)"
    } else {
        path
    }
}

/// The JSON error body of the API, for statuses the framework produced.
pub fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    (status, axum::Json(json!({ "error": { "code": code, "message": message, "fields": [] } }))).into_response()
}

/// Replaces a framework error's plain-text or empty body with the JSON error body.
pub async fn json_errors(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let ctype = res.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if ctype.starts_with("application/json")
        || ctype.starts_with("text/html")
        || ctype.starts_with("application/scim+json")
    {
        return res;
    }
    let (code, message) = match status {
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "This address does not take that method."),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "The request body is too large."),
        StatusCode::URI_TOO_LONG => ("uri_too_long", "The request address is too long."),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported_media_type", "Send the body as JSON."),
        StatusCode::NOT_FOUND => ("not_found", "Nothing here."),
        s if s.is_server_error() => ("internal", "Something went wrong on our side."),
        _ => ("bad_request", "The request is malformed."),
    };
    // Keep the framework's reason when it is a short sentence (e.g. which part failed to
    // decode), never anything long.
    let (parts, body) = res.into_parts();
    let detail = to_bytes(body, 4096).await.ok().and_then(|b| String::from_utf8(b.to_vec()).ok()).unwrap_or_default();
    let detail = detail.trim();
    let message = if status == StatusCode::BAD_REQUEST && !detail.is_empty() && detail.len() < 300 {
        format!("The request is malformed: {detail}")
    } else {
        message.to_string()
    };
    let mut out = error_response(status, code, &message);
    for name in [header::ALLOW, header::RETRY_AFTER] {
        if let Some(v) = parts.headers.get(&name) {
            out.headers_mut().insert(name, v.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::cache_control;

    #[test]
    fn only_hashed_assets_are_immutable_and_nothing_else_is_stored() {
        assert_eq!(cache_control("/pkg/roster.a1b2c3.wasm", true, true), "public, max-age=31536000, immutable");
        assert_eq!(cache_control("/pkg/roster.a1b2c3.css", true, true), "public, max-age=31536000, immutable");
        assert_eq!(cache_control("/pkg/roster.a1b2c3.js", true, true), "no-cache");
        assert_eq!(cache_control("/pkg/__wasm_split.a1b2c3.js", true, true), "no-cache");
        assert_eq!(cache_control("/pkg/roster.wasm", true, false), "no-cache");
        assert_eq!(cache_control("/pkg/missing.wasm", false, true), "no-store");
        assert_eq!(cache_control("/favicon.svg", true, true), "public, max-age=86400");
        for path in ["/", "/members", "/api/v1/me", "/rpc/begin_totp", "/pkgs"] {
            assert_eq!(cache_control(path, true, true), "no-store", "{path}");
        }
    }
}
