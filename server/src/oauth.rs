//! Roster as the OpenID provider of the data tools (issue 13): the endpoints the tools and
//! browsers call, outside the JSON API. Discovery, the published signing keys, the
//! authorization endpoint (browsers), the token, userinfo, introspection and revocation
//! endpoints (the tools' servers), and `/signed-in`, where a sign-in returns to the request
//! that sent the person to sign in. Answers follow OAuth's shapes (`error`,
//! `error_description`), never the JSON API's.
use app::backend::services::provider::{self, ClientCredentials, LogoutStep, OAuthError, Step, TokenRequest};
use app::backend::services::signing_keys;
use app::backend::{sessions, Backend, Ctx};
use app::domain::oauth::{AuthorizeParams, LogoutParams, Unsafe};
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use base64::Engine;

use crate::sso::see_other;

fn refused(e: &app::domain::Error) -> Response {
    let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(crate::rest::error_body(e))).into_response()
}

/// An OAuth error answer (RFC 6749 section 5.2): never cached; `invalid_client` after HTTP
/// Basic names the scheme, `invalid_token` the bearer one (RFC 6750 section 3).
fn oauth_error(e: &OAuthError, basic: bool) -> Response {
    if e.status >= 500 {
        tracing::error!(error = e.error, description = %e.description, "OpenID provider");
    }
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let description =
        if e.status >= 500 { "Roster could not answer; try again".to_string() } else { e.description.clone() };
    let mut r =
        (status, Json(serde_json::json!({ "error": e.error, "error_description": description }))).into_response();
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if e.error == "invalid_client" && basic {
        h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"roster\""));
    }
    if e.error == "invalid_token" || (e.status == 401 && !basic && e.error == "invalid_request") {
        let quoted = e.description.replace(['"', '\\'], "'");
        if let Ok(v) = HeaderValue::from_str(&format!("Bearer error=\"{}\", error_description=\"{quoted}\"", e.error)) {
            h.insert(header::WWW_AUTHENTICATE, v);
        }
    }
    r
}

fn no_store_json(v: serde_json::Value) -> Response {
    let mut r = Json(v).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r.headers_mut().insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    r
}

/// Every route of the provider (and of forward authentication, `crate::forward`), with the
/// methods it answers: `router` registers exactly
/// these, and the authorization test enumerates them (a route added here without a case
/// there fails it).
pub const ROUTES: &[(&str, &[&str])] = &[
    ("/.well-known/openid-configuration", &["GET"]),
    ("/.well-known/oauth-authorization-server", &["GET"]),
    ("/oauth/jwks", &["GET"]),
    ("/oauth/authorize", &["GET", "POST"]),
    ("/oauth/token", &["POST"]),
    ("/oauth/userinfo", &["GET", "POST"]),
    ("/oauth/introspect", &["POST"]),
    ("/oauth/revoke", &["POST"]),
    ("/oauth/logout", &["GET", "POST"]),
    ("/signed-in", &["GET"]),
    ("/auth/forward", &["GET"]),
    ("/auth/forward/start", &["GET"]),
    ("/pictures/{file}", &["GET"]),
];

/// The provider's routes (see `ROUTES`).
pub fn router(b: &Backend) -> axum::Router<crate::ServerState> {
    use axum::routing::{get, post, MethodRouter};
    let route = |path: &str| -> MethodRouter<crate::ServerState> {
        let b = b.clone();
        match path {
            "/.well-known/openid-configuration" | "/.well-known/oauth-authorization-server" => {
                get(discovery).layer(cors()).with_state(b)
            }
            "/oauth/jwks" => get(jwks).layer(cors()).with_state(b),
            "/oauth/authorize" => get(authorize).post(authorize_post).with_state(b),
            "/oauth/token" => post(token).layer(cors()).with_state(b),
            "/oauth/userinfo" => get(userinfo).post(userinfo).layer(cors()).with_state(b),
            "/oauth/introspect" => post(introspect).with_state(b),
            "/oauth/revoke" => post(revoke).layer(cors()).with_state(b),
            "/oauth/logout" => get(logout).post(logout_post).with_state(b),
            "/signed-in" => get(signed_in).with_state(b),
            "/auth/forward" => get(crate::forward::check).with_state(b),
            "/auth/forward/start" => get(crate::forward::start).with_state(b),
            "/pictures/{file}" => get(picture).with_state(b),
            // (every path of ROUTES is matched above: the authorization test calls each one)
            _ => MethodRouter::new(),
        }
    };
    ROUTES.iter().fold(axum::Router::new(), |r, (path, _)| r.route(path, route(path)))
}

/// Browser-based tools (public clients) read discovery and the keys, and call the token,
/// userinfo and revocation endpoints, from their own origin. Any origin may: these endpoints use no cookies (credentials are never
/// allowed), only a code with its PKCE verifier, or a token, which is what they check.
pub fn cors() -> tower_http::cors::CorsLayer {
    use axum::http::Method;
    tower_http::cors::CorsLayer::new()
        .allow_origin(tower_http::cors::Any)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .max_age(std::time::Duration::from_secs(600))
}

/// A person's picture at the address of the `picture` claim (`services::profile::picture_path`):
/// no credentials (tools show it in their own pages), but only at an address made for this very
/// picture; anything else is a 404.
#[utoipa::path(get, path = "/pictures/{file}", tag = "openid", operation_id = "picture", security(()),
    summary = "A person's picture, at the address of their `picture` claim",
    params(("file" = String, Path, description = "As the claim gives it")),
    responses(
        (status = 200, description = "A 256x256 PNG", content_type = "image/png", body = Vec<u8>),
        (status = 404, description = "No such picture (a new or removed picture retires its address)"),
    ))]
pub async fn picture(State(b): State<Backend>, axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    match app::backend::services::profile::public_picture(&b, &file).await {
        Ok(Some(png)) => (
            [
                (header::CONTENT_TYPE, "image/png"),
                // (the address changes with the picture: what it names never does)
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
                (header::HeaderName::from_static("cross-origin-resource-policy"), "cross-origin"),
            ],
            png,
        )
            .into_response(),
        Ok(None) => crate::edge::error_response(StatusCode::NOT_FOUND, "not_found", "There is no such picture."),
        Err(e) => crate::rest::ApiError(e).into_response(),
    }
}

/// The key set (RFC 7517): public keys only. Tools may keep it five minutes; one that meets an
/// unknown key id fetches it again (a rotation publishes the new key at once).
#[utoipa::path(get, path = "/oauth/jwks", tag = "openid", operation_id = "jwks", security(()),
    summary = "The provider's public signing keys (JWK Set, RFC 7517)",
    responses((status = 200, description = "The key set", content_type = "application/jwk-set+json", body = Object)))]
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

/// `/.well-known/openid-configuration` (and RFC 8414's `oauth-authorization-server`).
#[utoipa::path(get, path = "/.well-known/openid-configuration", tag = "openid", operation_id = "openidConfiguration",
    security(()), summary = "OpenID Connect discovery (also at /.well-known/oauth-authorization-server, RFC 8414)",
    responses(
        (status = 200, description = "The provider metadata", body = Object),
        (status = 404, description = "The provider is off: no --public-url", body = Object),
    ))]
pub async fn discovery(State(b): State<Backend>) -> Response {
    match provider::discovery(&b) {
        Ok(doc) => ([(header::CACHE_CONTROL, "public, max-age=300")], Json(doc)).into_response(),
        Err(e) => oauth_error(&e, false),
    }
}

async fn answer(b: &Backend, ctx: &Ctx, params: Result<AuthorizeParams, ()>, decision: Option<bool>) -> Response {
    // (the application's `login_hint` fills in the sign-in form; the person may change it)
    let hint = params.as_ref().ok().and_then(|p| p.login_hint.clone()).filter(|h| !h.is_empty() && h.len() <= 256);
    let step = match params {
        Ok(p) => provider::authorize(b, ctx, &p, decision).await,
        Err(()) => Ok(Step::Stop(Unsafe::Malformed)),
    };
    match step {
        Ok(Step::Redirect(to)) => see_other(&to, &[]),
        Ok(Step::Stop(why)) => see_other(&format!("/oauth/stopped?why={}", why.code()), &[]),
        Ok(Step::SignIn { return_to }) => {
            let cookies: Vec<String> = sessions::set_return_cookie(b, &return_to).into_iter().collect();
            let to = match &hint {
                Some(h) => with_query("/sign-in", [("continue", "1"), ("login", h.as_str())].into_iter()),
                None => "/sign-in?continue=1".to_string(),
            };
            see_other(&to, &cookies)
        }
        Ok(Step::Consent(c)) => {
            see_other(&with_query("/oauth/consent", c.fields.iter().map(|(k, v)| (k.as_str(), v.as_str()))), &[])
        }
        Err(e) => refused(&e),
    }
}

/// `path?query` of `pairs`.
fn with_query<'a>(path: &str, pairs: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        q.append_pair(k, v);
    }
    format!("{path}?{}", q.finish())
}

/// A Roster page's form post: the request it carries again (a field given twice is
/// malformed), and the person's answer in field `answer`.
fn request_and_answer<T: serde::de::DeserializeOwned>(body: &[u8], answer: &str) -> (Option<String>, Result<T, ()>) {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    let given = pairs.iter().find(|(k, _)| k == answer).map(|(_, v)| v.clone());
    let rest: Vec<(String, String)> = pairs.into_iter().filter(|(k, _)| k != answer).collect();
    let request =
        serde_urlencoded::to_string(&rest).ok().and_then(|q| serde_urlencoded::from_str::<T>(&q).ok()).ok_or(());
    (given, request)
}

/// The authorization endpoint, as the tools send browsers to it.
#[utoipa::path(get, path = "/oauth/authorize", tag = "openid", operation_id = "authorize", security(()),
    summary = "Authorization code flow (PKCE S256; state, nonce, prompt, max_age, login_hint; the answer carries iss)",
    params(
        ("response_type" = String, Query, description = "`code`"),
        ("client_id" = String, Query, description = "The application's client ID"),
        ("redirect_uri" = String, Query, description = "One of its registered redirect URIs, exactly"),
        ("scope" = String, Query, description = "`openid` and any of profile, email, roster, offline_access"),
        ("state" = Option<String>, Query, description = "Returned as is"),
        ("nonce" = Option<String>, Query, description = "Put into the ID token"),
        ("code_challenge" = Option<String>, Query, description = "PKCE (S256); required for public clients"),
        ("code_challenge_method" = Option<String>, Query, description = "`S256`"),
        ("prompt" = Option<String>, Query, description = "`login`, `none` or `consent`"),
        ("max_age" = Option<i64>, Query, description = "Seconds since the person last signed in"),
        ("login_hint" = Option<String>, Query, description = "Fills in the sign-in form"),
    ),
    responses((status = 303, description = "To the tool with `code` (or `error`), `state` and `iss`; to sign in; to the consent page; or to a page saying why the request stopped")))]
pub async fn authorize(State(b): State<Backend>, Extension(ctx): Extension<Ctx>, RawQuery(q): RawQuery) -> Response {
    // (a parameter given twice is malformed: serde_urlencoded refuses duplicate fields)
    let params = serde_urlencoded::from_str::<AuthorizeParams>(q.as_deref().unwrap_or("")).map_err(|_| ());
    answer(&b, &ctx, params, None).await
}

/// The consent page's answer: the request again, with `decision` allow or deny. (Only from
/// Roster's own pages: the cross-site check refuses other origins' posts.)
#[utoipa::path(post, path = "/oauth/authorize", tag = "openid", operation_id = "authorizeAnswer",
    summary = "The consent page's answer (Roster's own page only): the request again with decision=allow|deny",
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "To the tool with a code or access_denied")))]
pub async fn authorize_post(State(b): State<Backend>, Extension(ctx): Extension<Ctx>, body: Bytes) -> Response {
    let (answer_field, params) = request_and_answer::<AuthorizeParams>(&body, "decision");
    let decision = match answer_field.as_deref() {
        Some("allow") => Some(true),
        Some("deny") => Some(false),
        _ => None,
    };
    answer(&b, &ctx, params, decision).await
}

/// Where a sign-in lands: back to the request that sent the person to sign in (a path of
/// Roster's, or a tool on a host of `--forward-auth-hosts`, from the return cookie, cleared
/// here), else home.
#[utoipa::path(get, path = "/signed-in", tag = "openid", operation_id = "signedIn",
    summary = "Where a sign-in lands: back to the request that sent the person to sign in",
    responses((status = 303, description = "To the authorization request or the tool's address, else home")))]
pub async fn signed_in(State(b): State<Backend>, headers: HeaderMap) -> Response {
    let back = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|h| sessions::return_from_cookie_header(&b.config.forward_auth_hosts, h));
    see_other(back.as_deref().unwrap_or("/"), &[sessions::clear_return_cookie(&b)])
}

/// A form body's fields, refusing a field given twice (RFC 6749 section 3.2).
fn form<T: serde::de::DeserializeOwned>(headers: &HeaderMap, body: &Bytes) -> Result<T, OAuthError> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !ct.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded") {
        return Err(OAuthError::new(400, "invalid_request", "send the request as application/x-www-form-urlencoded"));
    }
    serde_urlencoded::from_bytes::<T>(body)
        .map_err(|e| OAuthError::new(400, "invalid_request", format!("the request's fields cannot be read: {e}")))
}

/// Client credentials from HTTP Basic (RFC 6749 section 2.3.1: each part form-urlencoded)
/// or the form (`client_secret_post`, or a public client's `client_id`); both at once is
/// refused.
fn credentials(
    headers: &HeaderMap,
    form_id: Option<&str>,
    form_secret: Option<&str>,
) -> Result<(ClientCredentials, bool), OAuthError> {
    let basic = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| {
        let (scheme, rest) = v.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("basic").then(|| rest.trim().to_string())
    });
    if let Some(encoded) = basic {
        if form_secret.is_some() {
            return Err(OAuthError::new(400, "invalid_request", "use one client authentication method, not two"));
        }
        let bad = || OAuthError::new(401, "invalid_client", "the Authorization header is not valid HTTP Basic");
        let raw = base64::engine::general_purpose::STANDARD.decode(encoded.as_bytes()).map_err(|_| bad())?;
        let raw = String::from_utf8(raw).map_err(|_| bad())?;
        let (id, secret) = raw.split_once(':').ok_or_else(bad)?;
        let decode = |s: &str| -> String {
            form_urlencoded::parse(format!("v={s}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
        };
        let (id, secret) = (decode(id), decode(secret));
        if form_id.is_some_and(|f| f != id) {
            return Err(OAuthError::new(400, "invalid_request", "client_id differs from the Authorization header's"));
        }
        return Ok((ClientCredentials { client_id: id, secret: Some(secret) }, true));
    }
    Ok((
        ClientCredentials {
            client_id: form_id.unwrap_or_default().to_string(),
            secret: form_secret.map(str::to_string),
        },
        false,
    ))
}

/// The token endpoint (RFC 6749 section 3.2).
#[utoipa::path(post, path = "/oauth/token", tag = "openid", operation_id = "token", security(()),
    summary = "Exchange a code (with its PKCE verifier) or a refresh token (rotated; a reused one ends the sign-in)",
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "grant_type=authorization_code&code&redirect_uri&code_verifier, or grant_type=refresh_token&refresh_token; the client by HTTP Basic or client_id/client_secret"),
    responses(
        (status = 200, description = "access_token, token_type, expires_in, id_token, refresh_token (with offline_access), scope", body = Object),
        (status = 400, description = "An OAuth error: invalid_grant, invalid_request, unsupported_grant_type...", body = Object),
        (status = 401, description = "invalid_client", body = Object),
    ))]
pub async fn token(
    State(b): State<Backend>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let req: TokenRequest = match form(&headers, &body) {
        Ok(r) => r,
        Err(e) => return oauth_error(&e, false),
    };
    let (creds, basic) = match credentials(&headers, req.client_id.as_deref(), req.client_secret.as_deref()) {
        Ok(c) => c,
        Err(e) => return oauth_error(&e, false),
    };
    match provider::token(&b, &ctx, &creds, &req).await {
        Ok(answer) => no_store_json(serde_json::to_value(answer).unwrap_or_default()),
        Err(e) => oauth_error(&e, basic),
    }
}

/// Userinfo (OpenID Connect Core section 5.3): `Authorization: Bearer` with an access token.
#[utoipa::path(method(get, post), path = "/oauth/userinfo", tag = "openid", operation_id = "userinfo", security(()),
    summary = "Claims about the person, from the access model now (Authorization: Bearer ACCESS_TOKEN)",
    responses(
        (status = 200, description = "sub, and per scope: name, preferred_username, email, email_verified, orgs, super_admin", body = Object),
        (status = 401, description = "invalid_token (WWW-Authenticate: Bearer)", body = Object),
    ))]
pub async fn userinfo(State(b): State<Backend>, headers: HeaderMap) -> Response {
    let bearer = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| {
        let (scheme, rest) = v.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim().to_string())
    });
    match provider::userinfo(&b, bearer.as_deref()).await {
        Ok(claims) => no_store_json(claims),
        Err(e) => oauth_error(&e, false),
    }
}

#[derive(serde::Deserialize)]
struct TokenField {
    #[serde(default)]
    token: String,
    #[allow(dead_code)]
    #[serde(default)]
    token_type_hint: Option<String>,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    client_secret: Option<String>,
}

/// Introspection (RFC 7662).
#[utoipa::path(post, path = "/oauth/introspect", tag = "openid", operation_id = "introspect", security(()),
    summary = "Whether a token is active and whose it is, from the access model now (confidential clients)",
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "token[&token_type_hint]; the client by HTTP Basic or client_id/client_secret"),
    responses(
        (status = 200, description = "active, and when active: sub, client_id, scope, exp, iat, username, orgs", body = Object),
        (status = 401, description = "invalid_client", body = Object),
    ))]
pub async fn introspect(State(b): State<Backend>, headers: HeaderMap, body: Bytes) -> Response {
    let f: TokenField = match form(&headers, &body) {
        Ok(f) => f,
        Err(e) => return oauth_error(&e, false),
    };
    let (creds, basic) = match credentials(&headers, f.client_id.as_deref(), f.client_secret.as_deref()) {
        Ok(c) => c,
        Err(e) => return oauth_error(&e, false),
    };
    match provider::introspect(&b, &creds, &f.token).await {
        Ok(v) => no_store_json(v),
        Err(e) => oauth_error(&e, basic),
    }
}

/// Revocation (RFC 7009): 200 whether or not the token was known.
#[utoipa::path(post, path = "/oauth/revoke", tag = "openid", operation_id = "revoke", security(()),
    summary = "Revoke an access or refresh token (and with a refresh token, the sign-in it belongs to)",
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "token[&token_type_hint]; the client by HTTP Basic or client_id[/client_secret]"),
    responses(
        (status = 200, description = "Done, whether or not the token was known"),
        (status = 401, description = "invalid_client", body = Object),
    ))]
pub async fn revoke(
    State(b): State<Backend>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let f: TokenField = match form(&headers, &body) {
        Ok(f) => f,
        Err(e) => return oauth_error(&e, false),
    };
    let (creds, basic) = match credentials(&headers, f.client_id.as_deref(), f.client_secret.as_deref()) {
        Ok(c) => c,
        Err(e) => return oauth_error(&e, false),
    };
    match provider::revoke(&b, &ctx, &creds, &f.token).await {
        Ok(()) => (StatusCode::OK, [(header::CACHE_CONTROL, "no-store")]).into_response(),
        Err(e) => oauth_error(&e, basic),
    }
}

async fn logout_answer(b: &Backend, ctx: &Ctx, params: Result<LogoutParams, ()>, confirmed: bool) -> Response {
    let step = match params {
        Ok(p) => provider::logout(b, ctx, &p, confirmed).await.map(|s| (s, p)),
        Err(()) => Ok((LogoutStep::Stop(Unsafe::Malformed), LogoutParams::default())),
    };
    match step {
        Ok((LogoutStep::Stop(why), _)) => see_other(&format!("/oauth/stopped?why={}", why.code()), &[]),
        Ok((LogoutStep::Confirm, p)) => {
            let pairs = p.pairs();
            see_other(&with_query("/oauth/sign-out", pairs.iter().map(|(k, v)| (*k, v.as_str()))), &[])
        }
        Ok((LogoutStep::Done { to, ended }, _)) => {
            let cookies = if ended { vec![sessions::clear_cookie(b)] } else { vec![] };
            see_other(&to, &cookies)
        }
        Err(e) => refused(&e),
    }
}

/// RP-initiated logout, as a tool sends the browser to it.
#[utoipa::path(get, path = "/oauth/logout", tag = "openid", operation_id = "logout", security(()),
    summary = "RP-initiated logout: with a valid id_token_hint at once, else after a confirmation page",
    params(
        ("id_token_hint" = Option<String>, Query, description = "An ID token Roster issued to the tool"),
        ("post_logout_redirect_uri" = Option<String>, Query, description = "One of the tool's registered ones"),
        ("client_id" = Option<String>, Query, description = "The tool, when no hint is given"),
        ("state" = Option<String>, Query, description = "Returned as is"),
    ),
    responses((status = 303, description = "Signed out, to the post-logout URI or Roster's page; or to the confirmation page")))]
pub async fn logout(State(b): State<Backend>, Extension(ctx): Extension<Ctx>, RawQuery(q): RawQuery) -> Response {
    let params = serde_urlencoded::from_str::<LogoutParams>(q.as_deref().unwrap_or("")).map_err(|_| ());
    logout_answer(&b, &ctx, params, false).await
}

/// The sign-out page's answer (`confirm=yes`), from Roster's own page only.
#[utoipa::path(post, path = "/oauth/logout", tag = "openid", operation_id = "logoutAnswer",
    summary = "The sign-out page's answer (Roster's own page only)",
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "Signed out (or not), to where the tool asked")))]
pub async fn logout_post(State(b): State<Backend>, Extension(ctx): Extension<Ctx>, body: Bytes) -> Response {
    let (answer_field, params) = request_and_answer::<LogoutParams>(&body, "confirm");
    let confirmed = answer_field.as_deref() == Some("yes");
    logout_answer(&b, &ctx, params, confirmed).await
}
