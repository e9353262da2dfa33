//! Request guards.
//! `session`: resolves the session cookie on every request (so a disabled or deleted account,
//! or an ended session, is cut off on the very next request) and attaches the request
//! context the services need.
//! `cross_site_check`: Leptos server functions have no CSRF protection of their own, and the
//! session cookie is sent on cross-site form posts in some browsers. Every mutating request
//! must come from our own origin: `Sec-Fetch-Site` same-origin/none when present, else an
//! `Origin` matching us; a request carrying a session cookie and neither header is refused.
use std::net::SocketAddr;

use app::backend::{sessions, tokens, Backend, Caller, Ctx};
use app::domain::policy::Denied;
use app::domain::Error;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub async fn session(State(b): State<Backend>, mut req: Request, next: Next) -> Response {
    // (behind a trusted proxy, the address it forwarded: see `client_addr`)
    let ip = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| {
        crate::client_addr::client_ip(c.0.ip(), req.headers(), &b.config.trusted_proxies, b.config.proxy_header)
            .to_string()
    });
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(300).collect::<String>());
    // (plain values only across the awaits below: a borrowed request is not Send)
    let (token, challenge, presented) = {
        let cookies: Vec<&str> = req.headers().get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).collect();
        let token = cookies.iter().find_map(|h| sessions::token_from_cookie_header(&b, h));
        let challenge = cookies
            .iter()
            .find_map(|h| sessions::challenge_from_cookie_header(&b, h))
            .map(|t| sessions::hash_token(&t));
        // (the OpenID provider's endpoints take its own tokens and client credentials, never
        // API keys: a bearer token there is an access token for `oauth::userinfo` to judge)
        // (SCIM's connections present their own tokens, judged by `scim`)
        let path = req.uri().path();
        let presented = if takes_client_credentials(path) || is_scim(path) { None } else { presented_token(&req) };
        (token, challenge, presented)
    };
    let mut ctx = Ctx { ip, user_agent, challenge, ..Ctx::anonymous() };
    if let Some(presented) = presented {
        // A request that presents a token is judged by it alone: a wrong one is refused
        // rather than quietly falling back to a session cookie.
        let client = ctx.ip.clone().unwrap_or_default();
        match tokens::resolve(&b, &presented, &client).await {
            Ok(user) => ctx.caller = Caller::User(user),
            Err(tokens::Refused::Throttled { wait_ms }) => {
                let wait_secs = (wait_ms + 999) / 1000;
                let err = Error::TooManyRequests { wait_secs };
                let mut res = crate::rest::ApiError(err).into_response();
                if let Ok(v) = header::HeaderValue::from_str(&wait_secs.to_string()) {
                    res.headers_mut().insert(header::RETRY_AFTER, v);
                }
                return res;
            }
            Err(_) => return crate::rest::ApiError(Error::Unauthenticated).into_response(),
        }
    } else if let Some(token) = token {
        if let Some((hash, user, auth)) = sessions::resolve(&b, &token).await {
            ctx.caller = Caller::User(user);
            ctx.session = Some(hash);
            ctx.auth_at = Some(auth.at);
            ctx.auth_method = Some(auth.method);
        }
    }
    req.extensions_mut().insert(ctx);
    next.run(req).await
}

/// An API key or personal access token: `Authorization: Bearer ...`, the `X-API-Key`
/// header, or the `apikey` query parameter (SlashDB's name for it). A SlashDB client sends
/// an imported key as two parts, `appid` and `apikey` (headers or query parameters): they
/// are presented as `appid:apikey`, the form users.cfg stored and Roster hashed.
fn presented_token(req: &Request) -> Option<String> {
    let h = req.headers();
    if let Some(v) = h.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let (scheme, rest) = v.trim().split_once(' ').unwrap_or((v, ""));
        if scheme.eq_ignore_ascii_case("bearer") && !rest.trim().is_empty() {
            return Some(rest.trim().to_string());
        }
    }
    let query = |name: &str| {
        req.uri().query().and_then(|q| {
            q.split('&').filter_map(|kv| kv.split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
        })
    };
    let header = |name: &str| h.get(name).and_then(|v| v.to_str().ok()).map(|v| v.trim().to_string());
    let key = header("x-api-key").or_else(|| header("apikey")).or_else(|| query("apikey"))?;
    match header("appid").or_else(|| query("appid")) {
        Some(app) if !app.is_empty() => Some(format!("{app}:{key}")),
        _ => Some(key),
    }
}

fn is_mutating(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether a mutating request may proceed (pure, for unit tests).
pub fn same_origin_ok(
    sec_fetch_site: Option<&str>,
    origin: Option<&str>,
    host: Option<&str>,
    public_origin: Option<&str>,
    has_session_cookie: bool,
) -> bool {
    if let Some(site) = sec_fetch_site {
        if !matches!(site, "same-origin" | "none") {
            return false;
        }
    }
    match origin {
        Some("null") => false,
        Some(o) => match public_origin {
            Some(p) => o.eq_ignore_ascii_case(p.trim_end_matches('/')),
            None => {
                let o_host = o.split_once("://").map(|(_, h)| h).unwrap_or(o);
                host.is_some_and(|h| o_host.eq_ignore_ascii_case(h))
            }
        },
        // No Origin: browsers always send one on cross-origin posts; scripts and the CLI do not
        // send cookies. Only a cookie-carrying request without either header is suspicious.
        None => sec_fetch_site.is_some() || !has_session_cookie,
    }
}

/// The OpenID provider's endpoints that tools call with a code, a token or their client
/// credentials, never with cookies: a browser-based tool posts to them from its own origin.
pub fn takes_client_credentials(path: &str) -> bool {
    matches!(path, "/oauth/token" | "/oauth/userinfo" | "/oauth/introspect" | "/oauth/revoke")
}

/// SCIM's addresses: identity providers call them with a connection's bearer token, never
/// with cookies (`crate::scim` ignores cookies), so neither API tokens nor the cross-site
/// check apply.
pub fn is_scim(path: &str) -> bool {
    path == "/scim/v2" || path.starts_with("/scim/v2/")
}

pub async fn cross_site_check(State(b): State<Backend>, req: Request, next: Next) -> Response {
    if is_mutating(req.method()) && !takes_client_credentials(req.uri().path()) && !is_scim(req.uri().path()) {
        let h = req.headers();
        let get = |n: header::HeaderName| h.get(n).and_then(|v| v.to_str().ok());
        let has_cookie = h.get(header::COOKIE).is_some();
        let ok = same_origin_ok(
            get(header::HeaderName::from_static("sec-fetch-site")),
            get(header::ORIGIN),
            get(header::HOST),
            b.config.public_origin.as_deref(),
            has_cookie,
        );
        if !ok {
            let err = Error::Forbidden(Denied::CrossSiteRequest);
            return (StatusCode::FORBIDDEN, axum::Json(crate::rest::error_body(&err))).into_response();
        }
    }
    next.run(req).await
}

/// Whether `path` takes a file to import (up to `MAX_UPLOAD_BYTES`).
pub fn takes_upload(path: &str) -> bool {
    path == "/api/v1/import" || path == "/rpc/import_accounts"
}

/// Request bodies: 1 MiB, but an import's file (the API's and the console's) may be up to
/// `MAX_UPLOAD_BYTES`. A declared length over the limit is refused before the body is read;
/// a body that grows past it fails when read (both 413).
pub async fn body_limit(req: Request, next: Next) -> Response {
    let limit = if takes_upload(req.uri().path()) { app::domain::import::MAX_UPLOAD_BYTES } else { 1024 * 1024 };
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    }
    let (parts, body) = req.into_parts();
    let body = axum::body::Body::new(http_body_util::Limited::new(body, limit));
    next.run(Request::from_parts(parts, body)).await
}

#[cfg(test)]
mod tests {
    use super::same_origin_ok;

    #[test]
    fn origin_rules() {
        let h = Some("127.0.0.1:3000");
        // (sec-fetch-site, origin, public origin, cookie) -> allowed
        type Case<'a> = (Option<&'a str>, Option<&'a str>, Option<&'a str>, bool, bool);
        let cases: &[Case] = &[
            (Some("same-origin"), Some("http://127.0.0.1:3000"), None, true, true),
            (Some("same-origin"), None, None, true, true),
            (Some("none"), None, None, true, true),
            (Some("cross-site"), Some("http://127.0.0.1:3000"), None, true, false),
            (Some("same-site"), Some("http://127.0.0.1:3000"), None, true, false),
            (None, Some("http://evil.example"), None, true, false),
            (None, Some("http://evil.example"), None, false, false),
            (None, Some("null"), None, true, false),
            (None, Some("http://127.0.0.1:3000"), None, true, true),
            (None, None, None, true, false),
            (None, None, None, false, true),
            (None, Some("https://roster.example.com"), Some("https://roster.example.com"), true, true),
            (None, Some("http://127.0.0.1:3000"), Some("https://roster.example.com"), true, false),
        ];
        for (sfs, origin, public, cookie, want) in cases {
            assert_eq!(
                same_origin_ok(*sfs, *origin, h, *public, *cookie),
                *want,
                "{sfs:?} {origin:?} {public:?} {cookie}"
            );
        }
    }
}
