//! Single sign-on endpoints the browser navigates to (not server functions: they answer with
//! redirects). `POST /auth/oidc/{slug}/start` comes from the sign-in page's form (so the
//! cross-site check covers it) and sends the browser to the provider with a flow cookie;
//! `GET /auth/oidc/{slug}/callback` is where the provider sends it back. Outcomes land on
//! our own pages with a refusal code at most (never text from the request).
use app::backend::services::sso::{self, Callback, Finished};
use app::backend::{sessions, Backend, Ctx};
use app::domain::sso::SsoRefusal;
use app::domain::Error;
use axum::extract::{Form, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;

/// A 303 to `to` setting `cookies`, never cached (the browser endpoints' answer).
pub(crate) fn see_other(to: &str, cookies: &[String]) -> Response {
    let mut r = (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_string())]).into_response();
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The start form's fields: an invitation page's buttons carry its token.
#[derive(Debug, Default, serde::Deserialize)]
pub struct StartForm {
    #[serde(default)]
    invitation: Option<String>,
}

pub async fn start(
    State(b): State<Backend>,
    Extension(ctx): Extension<Ctx>,
    Path(slug): Path<String>,
    form: Result<Form<StartForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    // (the sign-in page's buttons post no fields; anything unreadable is the same)
    let invitation = form.ok().and_then(|Form(f)| f.invitation).filter(|t| !t.trim().is_empty());
    let begun = match &invitation {
        Some(token) => sso::begin_from_invitation(&b, &ctx, &slug, token).await,
        None => sso::begin(&b, &ctx, &slug, false).await,
    };
    match begun {
        Ok(begun) => see_other(&begun.url, &[sessions::set_sso_cookie(&b, &begun.browser_secret)]),
        Err(Error::Gone { .. } | Error::NotFound { .. }) if invitation.is_some() => {
            see_other(&format!("/sign-in?sso_error={}", SsoRefusal::Invitation.code()), &[])
        }
        Err(_) => see_other(&format!("/sign-in?sso_error={}", SsoRefusal::Unavailable.code()), &[]),
    }
}

pub async fn callback(
    State(b): State<Backend>,
    Extension(ctx): Extension<Ctx>,
    Path(slug): Path<String>,
    query: Result<Query<Callback>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> Response {
    // A malformed query (a repeated parameter, say) is a bad state like any other, not a
    // bare 400: it carries no flow this browser started.
    let cb = query.map(|Query(cb)| cb).unwrap_or_default();
    let browser = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(sessions::sso_from_cookie_header);
    let clear = sessions::clear_sso_cookie(&b);
    // (an application's sign-in that sent the person here is continued after it)
    let returning = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|h| sessions::return_from_cookie_header(&b.config.forward_auth_hosts, h).is_some());
    match sso::finish(&b, &ctx, &slug, cb, browser.as_deref()).await {
        Ok(Finished::SignedIn(s)) => {
            // Everyone lands on the same home, whichever way they signed in, unless a sign-in
            // into an application is waiting.
            let to = if returning { "/signed-in" } else { "/" };
            see_other(to, &[sessions::set_cookie(&b, &s.token), clear])
        }
        Ok(Finished::SecondFactor { challenge }) => {
            let to = if returning { "/sign-in?step=second-factor&continue=1" } else { "/sign-in?step=second-factor" };
            see_other(to, &[sessions::set_challenge_cookie(&b, &challenge), clear])
        }
        Ok(Finished::Linked) => see_other("/profile?sso_linked=1", &[clear]),
        Err(r) => {
            let page = if r.link { "/profile" } else { "/sign-in" };
            // A bad state matched no flow of this browser: keep its cookie, so a forged
            // callback sent to someone mid-sign-in does not break their real one.
            let cookies = if r.reason == SsoRefusal::State { vec![] } else { vec![clear] };
            see_other(&format!("{page}?sso_error={}", r.reason.code()), &cookies)
        }
    }
}
