//! Live updates: the page listens to the server's event stream (`/api/v1/events`) and bumps
//! a signal whenever access changes (roles, grants, memberships, organizations). Resources
//! that read `Live::track` refetch, so open pages follow a change made elsewhere without a
//! reload; the server decides every request on its own anyway.
use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct Live {
    version: RwSignal<i64>,
}

impl Live {
    /// Reads the live version, so the calling resource refetches on every change.
    pub fn track(&self) -> i64 {
        self.version.get()
    }

    /// Local changes (an org switch, our own edits) refresh the same way.
    pub fn bump(&self) {
        self.version.update(|v| *v += 1);
    }
}

pub fn provide_live() -> Live {
    let live = Live { version: RwSignal::new(0) };
    provide_context(live);
    live
}

/// Opens the event stream once the page is hydrated and a session exists; the browser
/// reconnects by itself after network errors.
#[cfg(feature = "hydrate")]
pub fn connect(live: Live) {
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    let Ok(source) = web_sys::EventSource::new("/api/v1/events") else { return };
    // The stream opens with the current version: the page was just rendered from it, so only
    // a different version (a change since) refreshes anything.
    let mut seen: Option<String> = None;
    let on_access = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
        let version = e.data().as_string();
        let first = seen.is_none();
        if seen != version {
            seen = version;
            if !first {
                live.bump();
            }
        }
    });
    let _ = source.add_event_listener_with_callback("access", on_access.as_ref().unchecked_ref());
    // Each change after that (and the ones missed while reconnecting, replayed by the server
    // from the browser's Last-Event-ID); `reset`: too many were missed.
    let on_change = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |_: web_sys::MessageEvent| live.bump());
    let _ = source.add_event_listener_with_callback("change", on_change.as_ref().unchecked_ref());
    let _ = source.add_event_listener_with_callback("reset", on_change.as_ref().unchecked_ref());
    // All live as long as the page.
    on_access.forget();
    on_change.forget();
    std::mem::forget(source);
}

#[cfg(not(feature = "hydrate"))]
pub fn connect(_live: Live) {}
