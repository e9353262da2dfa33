//! Forward authentication for reverse proxies: `GET /auth/forward?org=ORG&ability=ABILITY`
//! answers 200 with `X-Roster-*` headers (who, which organization, role and abilities), 401
//! when nobody is signed in (the proxy sends the browser to `/auth/forward/start?rd=URL`; with
//! `redirect=1` the answer is that redirect itself, for proxies that pass the answer on, like
//! Traefik), or 403 with the reason (the API's error body). The decision is `services::forward::check`.
use app::backend::services::forward::{self, Answer, Start};
use app::backend::{sessions, Backend, Ctx};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;

#[derive(Debug, Default, serde::Deserialize)]
pub struct ForwardQuery {
    #[serde(default)]
    org: Option<String>,
    #[serde(default)]
    ability: Option<String>,
    #[serde(default)]
    redirect: Option<String>,
}

/// A refusal in the API's error shape (`{"error": {"code", "message"}}`), never cached.
fn refusal(status: StatusCode, message: &str) -> Response {
    let code = match status {
        StatusCode::UNAUTHORIZED => "unauthenticated",
        StatusCode::FORBIDDEN => "forbidden",
        _ => "bad_request",
    };
    let mut r = crate::edge::error_response(status, code, message);
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The address the proxy was asked for, from the headers proxies send with the check
/// (`X-Forwarded-Proto/Host/Uri`, Traefik's and Caddy's; nginx sets them in its config).
fn original_url(h: &HeaderMap) -> Option<String> {
    let get = |n: &str| h.get(n).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty());
    let proto = get("x-forwarded-proto").unwrap_or("https");
    let host = get("x-forwarded-host")?;
    let uri = get("x-forwarded-uri").or_else(|| get("x-original-uri")).unwrap_or("/");
    Some(format!("{proto}://{host}{uri}"))
}

#[utoipa::path(get, path = "/auth/forward", tag = "openid", operation_id = "forwardAuth",
    summary = "Forward authentication for nginx auth_request, Traefik ForwardAuth and Caddy forward_auth",
    params(
        ("org" = Option<String>, Query, description = "The organization (default: the session's)"),
        ("ability" = Option<String>, Query, description = "The ability the tool needs (default: membership)"),
        ("redirect" = Option<String>, Query, description = "`1`: answer 302 to sign in instead of 401 (needs --public-url)"),
    ),
    responses(
        (status = 200, description = "Allowed: X-Roster-User, X-Roster-Email, X-Roster-Org, X-Roster-Role, X-Roster-Abilities"),
        (status = 302, description = "With redirect=1 and nobody signed in: to sign in"),
        (status = 400, description = "An unknown organization or ability", body = Object),
        (status = 401, description = "Nobody signed in", body = Object),
        (status = 403, description = "Signed in without the ability, with the reason", body = Object),
    ))]
pub async fn check(
    State(b): State<Backend>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    query: Result<Query<ForwardQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(q)) = query else {
        return refusal(StatusCode::BAD_REQUEST, "The check's parameters cannot be read (org, ability).");
    };
    match forward::check(&b, &ctx, q.org.as_deref(), q.ability.as_deref()) {
        Answer::Allowed(p) => {
            let mut r = StatusCode::OK.into_response();
            let h = r.headers_mut();
            let abilities = p.abilities.join(",");
            for (name, value) in [
                ("x-roster-user", p.username.as_str()),
                ("x-roster-email", p.email.as_str()),
                ("x-roster-org", p.org.as_str()),
                ("x-roster-role", p.role.as_str()),
                ("x-roster-abilities", abilities.as_str()),
            ] {
                // (names are validated when saved: no control characters; UTF-8 passes as
                // bytes, which header values allow)
                if let Ok(v) = HeaderValue::from_bytes(value.as_bytes()) {
                    h.insert(HeaderName::from_static(name), v);
                }
            }
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Answer::Unauthenticated => {
            let start = original_url(&headers).map(|rd| {
                let mut s = form_urlencoded::Serializer::new(String::new());
                s.append_pair("rd", &rd);
                format!("/auth/forward/start?{}", s.finish())
            });
            match (q.redirect.is_some(), start) {
                (true, Some(to)) => {
                    let to = match b.config.public_origin.as_deref() {
                        Some(o) => format!("{}{to}", o.trim_end_matches('/')),
                        None => to,
                    };
                    (StatusCode::FOUND, [(header::LOCATION, to), (header::CACHE_CONTROL, "no-store".into())])
                        .into_response()
                }
                _ => refusal(StatusCode::UNAUTHORIZED, "Sign in at Roster."),
            }
        }
        Answer::Forbidden(why) => refusal(StatusCode::FORBIDDEN, &why),
        Answer::Misconfigured(why) => {
            tracing::warn!(reason = %why, "forward authentication asked about something that does not exist");
            refusal(StatusCode::BAD_REQUEST, &why)
        }
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct StartQuery {
    #[serde(default)]
    rd: String,
}

/// Where the proxy sends a browser nobody signed in on: to sign in, then back to `rd` (only
/// on a host of `--forward-auth-hosts`).
#[utoipa::path(get, path = "/auth/forward/start", tag = "openid", operation_id = "forwardAuthStart",
    summary = "Sends a browser to sign in and back to `rd` (only hosts of --forward-auth-hosts)",
    params(("rd" = String, Query, description = "The address to come back to")),
    responses((status = 303, description = "To sign in (then back), or to a page saying why not")))]
pub async fn start(
    State(b): State<Backend>,
    Extension(ctx): Extension<Ctx>,
    query: Result<Query<StartQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let rd = query.map(|Query(q)| q.rd).unwrap_or_default();
    let (to, cookies) = match forward::start(&b, &ctx, &rd) {
        Start::Stop(why) => (format!("/oauth/stopped?why={}", why.code()), vec![]),
        Start::SignIn { return_to } => {
            ("/sign-in?continue=1".to_string(), sessions::set_return_cookie(&b, &return_to).into_iter().collect())
        }
    };
    crate::sso::see_other(&to, &cookies)
}
