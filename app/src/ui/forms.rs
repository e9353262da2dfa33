//! Forms that work before the WASM arrives. Every server-function form is a real
//! `<form method="post" action="/rpc/NAME">` (Leptos `ActionForm`, or [`PostForm`] for the
//! sign-in page's and the header's forms): hydrated, it runs in the page; before hydration
//! (slow links, blocked scripts) the browser posts it natively and the server answers with a
//! 303 back to the page, carrying the outcome in the query
//! (`?rpc=NAME&error=...&values=...&sig=...`, see `server/src/rpc.rs`). The server checks
//! the signature while rendering and hands the outcome to the browser with the page. The
//! helpers here merge both ways into one outcome, so a page renders the same message either
//! way, on the server and in the browser alike (no hydration mismatch).
#[cfg(feature = "ssr")]
use base64::Engine;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_query_map;

use crate::domain::Error;

/// The server function's name as it appears in `rpc=` (its path after `/rpc/`).
pub fn name_of<S: ServerFn>() -> &'static str {
    S::PATH.trim_start_matches("/rpc/")
}

#[cfg(feature = "ssr")]
fn decode(raw: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(raw.trim()).ok()
}

/// What the signature covers (the server signs, the page checks).
pub fn outcome_message(rpc: &str, error: &str, values: &str, ok: &str) -> String {
    format!("roster-outcome\n{rpc}\n{error}\n{values}\n{ok}")
}

/// The outcome of a form posted before the WASM arrived, as this page was loaded with it:
/// checked on the server (the signature in `sig`) and handed to the browser with the page,
/// so a crafted link cannot put its own words on our pages.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Posted {
    pub rpc: String,
    pub error: Option<Error>,
    pub values: std::collections::BTreeMap<String, String>,
    pub ok: bool,
    /// The function's answer (JSON) when it is one shown once, carried by a sealed cookie
    /// (`backend::sessions::SHOWN_ONCE`), never by the URL.
    pub answer: Option<String>,
}

#[derive(Clone)]
struct PostedOutcome(Option<Posted>);

/// Reads and checks the outcome in the request's URL (server only).
#[cfg(feature = "ssr")]
fn posted_in_request() -> Option<Posted> {
    let parts = use_context::<http::request::Parts>()?;
    let backend = use_context::<crate::backend::Backend>()?;
    let query = parts.uri.query()?;
    let mut q = std::collections::HashMap::new();
    for kv in query.split('&') {
        if let Some((k, v)) = kv.split_once('=') {
            q.insert(k.to_string(), v.to_string());
        }
    }
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
    let rpc = get("rpc");
    if rpc.is_empty() {
        return None;
    }
    let sig = decode(get("sig"))?;
    let msg = outcome_message(rpc, get("error"), get("values"), get("ok"));
    if !backend.outcomes.verify(msg.as_bytes(), &sig) {
        return None;
    }
    let error = decode(get("error")).and_then(|b| serde_json::from_slice::<Error>(&b).ok());
    let values = decode(get("values"))
        .and_then(|b| serde_json::from_slice::<std::collections::BTreeMap<String, serde_json::Value>>(&b).ok())
        .map(|m| m.into_iter().filter_map(|(k, v)| v.as_str().map(|v| (k, v.to_string()))).collect())
        .unwrap_or_default();
    // (names and values arrive percent-encoded; the server wrote them with plain characters)
    let ok = get("ok") == "1";
    let answer = if ok && crate::backend::sessions::SHOWN_ONCE.contains(&rpc) {
        let cookies = parts.headers.get(http::header::COOKIE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let answer = crate::backend::sessions::shown_once_from_cookie_header(&backend, cookies, rpc)
            .and_then(|b| String::from_utf8(b).ok());
        // Shown on this page only: a reload or another tab does not show it again.
        if let (Some(res), Ok(clear)) = (
            use_context::<leptos_axum::ResponseOptions>(),
            http::HeaderValue::from_str(&crate::backend::sessions::clear_shown_once_cookie(&backend)),
        ) {
            res.append_header(http::header::SET_COOKIE, clear);
        }
        answer
    } else {
        None
    };
    Some(Posted { rpc: rpc.to_string(), error, values, ok, answer })
}

/// Called once by the app, before any other resource (the server and the browser must
/// create shared values in the same order).
pub fn provide_posted() {
    // (decoded as bytes, like server functions' answers: see `ui::json`)
    let posted = leptos::prelude::SharedValue::<_, crate::ui::json::Json>::new_with_encoding(|| {
        #[cfg(feature = "ssr")]
        {
            posted_in_request()
        }
        #[cfg(not(feature = "ssr"))]
        {
            None::<Posted>
        }
    });
    provide_context(PostedOutcome(posted.into_inner()));
}

/// The checked outcome for `name`, while the URL still carries it.
fn posted_for(name: &'static str) -> Signal<Option<Posted>> {
    let query = use_query_map();
    let posted = use_context::<PostedOutcome>().and_then(|p| p.0);
    Signal::derive(move || {
        let here = query.with(|q| q.get_str("rpc") == Some(name));
        posted.clone().filter(|p| here && p.rpc == name)
    })
}

/// The error a natively posted form of `name` came back with, if the page shows one.
pub fn posted_error(name: &'static str) -> Signal<Option<Error>> {
    let p = posted_for(name);
    Signal::derive(move || p.get().and_then(|p| p.error))
}

/// Whether a natively posted form of `name` succeeded just before this page.
pub fn posted_ok(name: &'static str) -> Signal<bool> {
    let p = posted_for(name);
    Signal::derive(move || p.get().is_some_and(|p| p.ok))
}

/// The answer of `S` shown once (a new token, recovery codes) when its form was posted
/// before the WASM arrived and succeeded just before this page.
pub fn shown_once<S>() -> Signal<Option<S::Output>>
where
    S: ServerFn,
    S::Output: serde::de::DeserializeOwned + Clone + Send + Sync + 'static,
{
    let p = posted_for(name_of::<S>());
    Signal::derive(move || {
        p.get()
            .filter(|p| p.ok)
            .and_then(|p| p.answer)
            .and_then(|a| serde_json::from_slice::<S::Output>(a.as_bytes()).ok())
    })
}

/// What was typed in `field` of a natively posted form of `name` that came back refused
/// (never secrets: the server leaves passwords and codes out).
pub fn posted_value(name: &'static str, field: &'static str) -> Signal<Option<String>> {
    let p = posted_for(name);
    Signal::derive(move || p.get().and_then(|p| p.values.get(field).cloned()))
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

/// How many times an action has succeeded: what lists refetch on. (Refetching on every
/// answer would redraw the page after a refusal too, closing the dialog that shows it.)
pub fn successes<S>(action: ServerAction<S>) -> Signal<usize>
where
    S: ServerFn<Error = Error> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    let count = RwSignal::new(0usize);
    let value = action.value();
    Effect::new(move |_| {
        if value.with(|v| matches!(v, Some(Ok(_)))) {
            count.update(|c| *c += 1);
        }
    });
    count.into()
}

/// The named fields of a submitted form, as the browser would post them.
pub struct Fields(Option<leptos::web_sys::FormData>);

impl Fields {
    /// The fields of `form` as they stand (for a button that acts without submitting it).
    pub fn of_form(form: &leptos::web_sys::HtmlFormElement) -> Self {
        Fields(leptos::web_sys::FormData::new_with_form(form).ok())
    }

    /// The value of the field `name` (empty when the form has none).
    pub fn get(&self, name: &str) -> String {
        self.0.as_ref().and_then(|d| d.get(name).as_string()).unwrap_or_default()
    }
}

/// `ActionForm` for the forms of the main WASM module (sign-in, the second factor, the
/// header's): the same `<form method="post" action="/rpc/NAME">` (it works before the WASM
/// arrives), but hydrated it builds the server function's arguments from the named fields
/// with `input` instead of decoding them with serde_qs, whose deserializer would otherwise be
/// compiled into the sign-in page's WASM once per form type.
#[component]
pub fn PostForm<S>(
    /// The action the form dispatches.
    action: ServerAction<S>,
    /// The server function's arguments from the form's fields.
    input: fn(&Fields) -> S,
    /// `multipart/form-data` for a form with files: before the WASM arrives the browser
    /// sends them, and the server reads a file chosen in `NAME_file` as the field `NAME`
    /// (`server/src/rpc.rs`). Hydrated, `input` reads the fields the page filled in.
    #[prop(optional)]
    enctype: Option<&'static str>,
    children: Children,
) -> impl IntoView
where
    S: ServerFn + Clone + Send + Sync + 'static,
    S::Output: Send + Sync + 'static,
    S::Error: Send + Sync + 'static,
{
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        if ev.default_prevented() {
            return;
        }
        ev.prevent_default();
        // (the fields and the submit button's name and value, as `ActionForm` reads them)
        let fields = Fields(leptos::form::form_data_from_event(&ev).ok());
        action.dispatch(input(&fields));
    };
    view! {
        <form action=S::url() method="post" enctype=enctype on:submit=on_submit>
            {children()}
        </form>
    }
}
