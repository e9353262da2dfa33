#![forbid(unsafe_code)]
// Leptos view types nest deeply; the release (LTO) build needs more than the default 128.
#![recursion_limit = "256"]
//! The WASM entry point: hydrates the server-rendered page (waiting for the chunk of a page
//! whose code is split off, see `app::ui` `lazy_page!`).
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_lazy(app::App);
}
