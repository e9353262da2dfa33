#![forbid(unsafe_code)]
//! Roster's shared crate: the pure domain, the server functions and the UI. Compiled twice:
//! with `ssr` into the server (plus the `backend` module) and with `hydrate` into the WASM
//! front end.
pub mod api;
#[cfg(feature = "ssr")]
pub mod backend;
pub mod domain;
pub mod ui;

pub use ui::{shell, App};
