//! Server functions: thin adapters from the browser to the services. Each one takes the
//! request context the session middleware attached, calls one service and returns its result;
//! the error type is the domain's own (serialised as JSON), so the UI can show field errors
//! and denial sentences. Every server function is a POST under `/rpc/`; the server's
//! cross-site check covers them all.
pub mod access;
pub mod audit;
pub mod auth;
pub mod orgs;
pub mod passkeys;
pub mod profile;
pub mod roles;
pub mod security;
pub mod sso;
pub mod tokens;
pub mod users;

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};

use crate::domain::Error;

impl FromServerFnError for Error {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // Arguments that do not even parse (e.g. a missing form field) are the caller's
            // mistake, not ours: say so without a stack trace.
            ServerFnErrorErr::Args(m) | ServerFnErrorErr::MissingArg(m) => Error::Invalid {
                errors: vec![crate::domain::FieldError::new("request", format!("Malformed request: {m}"))],
            },
            other => Error::Transport(other.to_string()),
        }
    }
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

#[cfg(feature = "ssr")]
pub(crate) fn set_header(name: http::HeaderName, value: String) {
    if let (Some(res), Ok(v)) =
        (leptos::prelude::use_context::<leptos_axum::ResponseOptions>(), http::HeaderValue::from_str(&value))
    {
        res.append_header(name, v);
    }
}

/// Gives a failed server function the HTTP status that matches its error (401, 403, 404, 409,
/// 422...), instead of the framework's blanket 500, so logs and clients can tell a refused
/// request from a fault.
#[cfg(feature = "ssr")]
pub(crate) fn reply<T>(r: Result<T, Error>) -> Result<T, Error> {
    if let Err(e) = &r {
        if let (Some(res), Ok(status)) = (
            leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
            http::StatusCode::from_u16(e.http_status()),
        ) {
            res.set_status(status);
        }
    }
    r
}
