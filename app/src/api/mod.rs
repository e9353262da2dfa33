//! Server functions: thin adapters from the browser to the services. Each one takes the
//! request context the session middleware attached, calls one service and returns its result;
//! the error type is the domain's own (serialised as JSON), so the UI can show field errors
//! and denial sentences. Every server function is a POST under `/rpc/`; the server's
//! cross-site check covers them all, and its `/rpc` route gives every error its HTTP status
//! and answers forms posted before the WASM arrived (see `server/src/rpc.rs`).
pub mod access;
pub mod audit;
pub mod auth;
pub mod clients;
pub mod databases;
pub mod import;
pub mod invitations;
pub mod meta;
pub mod oauth;
pub mod orgs;
pub mod passkeys;
pub mod profile;
pub mod roles;
pub mod scim;
pub mod security;
pub mod sso;
pub mod tokens;
pub mod users;
pub mod webhooks;

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};

use crate::domain::Error;

impl FromServerFnError for Error {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // Arguments that do not even parse (e.g. a missing form field) are the caller's
            // mistake, not ours: say so without a stack trace.
            ServerFnErrorErr::Args(m) | ServerFnErrorErr::MissingArg(m) => malformed(&m),
            other => Error::Transport(other.to_string()),
        }
    }
}

/// A request whose arguments do not parse: the field named when the parser names one
/// ("missing field `password`"), else the request as a whole. Statuses come from the error
/// (422 here) at the `/rpc` route, for every server function alike.
fn malformed(m: &str) -> Error {
    let named = m.split('`').nth(1).filter(|f| !f.is_empty() && f.len() <= 64 && !f.contains(' '));
    match named {
        Some(f) if m.contains("missing field") => Error::invalid(f, "This field is required."),
        Some(f) => Error::invalid(f, format!("This value is not valid: {m}")),
        None => Error::invalid("request", format!("Malformed request: {m}")),
    }
}

/// A numeric id argument (forms send text): a clear field error instead of a parse failure.
#[cfg(feature = "ssr")]
pub(crate) fn id_arg(field: &str, raw: &str) -> Result<i64, Error> {
    raw.trim().parse::<i64>().map_err(|_| Error::invalid(field, format!("'{}' is not a valid {field} id.", raw.trim())))
}

/// A yes/no argument: `true`/`on`/`1` (a ticked checkbox sends "on"); anything else is no.
#[cfg(feature = "ssr")]
pub(crate) fn flag_arg(raw: &str) -> bool {
    matches!(raw.trim(), "true" | "on" | "1" | "yes")
}

#[cfg(feature = "ssr")]
pub(crate) fn ctx() -> Result<(crate::backend::Backend, crate::backend::Ctx), Error> {
    use leptos::prelude::use_context;
    let b = use_context::<crate::backend::Backend>()
        .ok_or_else(|| crate::backend::internal("backend missing from context"))?;
    let ctx = use_context::<http::request::Parts>()
        .and_then(|p| p.extensions.get::<crate::backend::Ctx>().cloned())
        .unwrap_or_else(crate::backend::Ctx::anonymous);
    Ok((b, ctx))
}

/// Whether this call is a form the browser posted natively (before the WASM arrived): it
/// expects a page back, not JSON.
#[cfg(feature = "ssr")]
pub(crate) fn plain_form_post() -> bool {
    use leptos::prelude::use_context;
    use_context::<http::request::Parts>().is_some_and(|p| {
        p.headers.get(http::header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("text/html"))
    })
}

/// Where a natively posted form goes on success (the `/rpc` route answers 303 to it; without
/// this it goes back to the page it was on). The WASM app navigates by itself: no effect.
#[cfg(feature = "ssr")]
pub(crate) fn on_success_go(path: &str) {
    if plain_form_post() {
        if let (Some(res), Ok(v)) =
            (leptos::prelude::use_context::<leptos_axum::ResponseOptions>(), http::HeaderValue::from_str(path))
        {
            res.insert_header(http::header::LOCATION, v);
        }
    }
}

/// Where a sign-in goes: back to what sent the person to sign in (an application's
/// authorization request; `/signed-in` follows the return cookie), else home.
#[cfg(feature = "ssr")]
pub(crate) fn after_sign_in() -> &'static str {
    let hosts = leptos::prelude::use_context::<crate::backend::Backend>()
        .map(|b| b.config.forward_auth_hosts.clone())
        .unwrap_or_default();
    let returning = leptos::prelude::use_context::<http::request::Parts>().is_some_and(|p| {
        p.headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|h| crate::backend::sessions::return_from_cookie_header(&hosts, h).is_some())
    });
    if returning {
        "/signed-in"
    } else {
        "/"
    }
}

/// The header a server function sets to send a natively posted form to another site on
/// success (`on_success_leave_for`); the `/rpc` route turns it into the 303 and drops it.
pub const LEAVE_FOR_HEADER: &str = "x-roster-leave-for";

/// Where a natively posted form goes on success when that is another site: a sign-in
/// provider's authorization URL, which the server built itself (never a URL from the
/// request). The WASM app opens the function's answer by itself: no effect.
#[cfg(feature = "ssr")]
pub(crate) fn on_success_leave_for(url: &str) {
    if plain_form_post() {
        if let (Some(res), Ok(v)) =
            (leptos::prelude::use_context::<leptos_axum::ResponseOptions>(), http::HeaderValue::from_str(url))
        {
            res.insert_header(http::HeaderName::from_static(LEAVE_FOR_HEADER), v);
        }
    }
}

/// The path of the page a natively posted form was on (its Referer), if any.
#[cfg(feature = "ssr")]
pub(crate) fn referer_path() -> Option<String> {
    let parts = leptos::prelude::use_context::<http::request::Parts>()?;
    let r = parts.headers.get(http::header::REFERER)?.to_str().ok()?;
    let rest = r.split_once("://").map(|(_, rest)| rest)?;
    Some(rest.find('/').map(|i| rest[i..].to_string()).unwrap_or_else(|| "/".into()))
}

#[cfg(feature = "ssr")]
pub(crate) fn set_header(name: http::HeaderName, value: String) {
    if let (Some(res), Ok(v)) =
        (leptos::prelude::use_context::<leptos_axum::ResponseOptions>(), http::HeaderValue::from_str(&value))
    {
        res.append_header(name, v);
    }
}
