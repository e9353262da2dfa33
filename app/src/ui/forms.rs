//! Forms that work before the WASM arrives. Every server-function form is a real
//! `<form method="post" action="/rpc/NAME">` (Leptos `ActionForm`): hydrated, it runs in the
//! page; before hydration (slow links, blocked scripts) the browser posts it natively and the
//! server answers with a 303 back to the page, carrying the outcome in the query
//! (`?rpc=NAME&error=...&values=...`, see `server/src/rpc.rs`). The helpers here merge both
//! ways into one outcome, so a page renders the same message either way, on the server and
//! in the browser alike (the query is the same for both: no hydration mismatch).
use base64::Engine;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_query_map;

use crate::domain::Error;

/// The server function's name as it appears in `rpc=` (its path after `/rpc/`).
pub fn name_of<S: ServerFn>() -> &'static str {
    S::PATH.trim_start_matches("/rpc/")
}

fn decode(raw: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(raw.trim()).ok()
}

/// The error a natively posted form of `name` came back with, if the page shows one.
pub fn posted_error(name: &'static str) -> Signal<Option<Error>> {
    let query = use_query_map();
    Signal::derive(move || {
        query.with(|q| {
            if q.get_str("rpc") != Some(name) {
                return None;
            }
            q.get_str("error").and_then(decode).and_then(|b| serde_json::from_slice::<Error>(&b).ok())
        })
    })
}

/// Whether a natively posted form of `name` succeeded just before this page.
pub fn posted_ok(name: &'static str) -> Signal<bool> {
    let query = use_query_map();
    Signal::derive(move || query.with(|q| q.get_str("rpc") == Some(name) && q.get_str("ok").is_some()))
}

/// What was typed in `field` of a natively posted form of `name` that came back refused
/// (never secrets: the server leaves passwords and codes out).
pub fn posted_value(name: &'static str, field: &'static str) -> Signal<Option<String>> {
    let query = use_query_map();
    Signal::derive(move || {
        query.with(|q| {
            if q.get_str("rpc") != Some(name) {
                return None;
            }
            let raw = q.get_str("values").and_then(decode)?;
            let map: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&raw).ok()?;
            map.get(field).and_then(|v| v.as_str()).map(str::to_string)
        })
    })
}

/// The last outcome of an action's form: what it returned in the browser, else (before the
/// browser ran it) the error a native post of it came back with.
pub fn outcome<S>(action: ServerAction<S>) -> Signal<Option<Result<S::Output, Error>>>
where
    S: ServerFn<Error = Error> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    let posted = posted_error(name_of::<S>());
    let value = action.value();
    Signal::derive(move || value.get().or_else(|| posted.get().map(Err)))
}

/// Whether an action's form succeeded: in the browser, or as a native post just before.
pub fn succeeded<S>(action: ServerAction<S>) -> Signal<bool>
where
    S: ServerFn<Error = Error> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    let ok = posted_ok(name_of::<S>());
    let value = action.value();
    Signal::derive(move || value.with(|v| matches!(v, Some(Ok(_)))) || (value.with(Option::is_none) && ok.get()))
}

/// What was typed in `field` of a refused native post of `S`, to fill the form in again.
pub fn typed<S: ServerFn>(field: &'static str) -> Option<String> {
    posted_value(name_of::<S>(), field).get_untracked()
}
