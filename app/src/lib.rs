#![forbid(unsafe_code)]
// Leptos view types nest deeply; the release (LTO) build needs more than the default 128.
#![recursion_limit = "256"]
//! Roster's shared crate: the pure domain, the server functions and the UI. Compiled twice:
//! with `ssr` into the server (plus the `backend` module) and with `hydrate` into the WASM
//! front end.
pub mod api;
#[cfg(feature = "ssr")]
pub mod backend;
pub mod domain;
pub mod ui;

pub use ui::{shell, App};
