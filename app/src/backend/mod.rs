//! Server-only code (feature `ssr`): configuration, the store, password hashing, sessions and
//! the services every adapter calls. A service is one use case: load facts -> policy ->
//! write -> audit, in one transaction, for an explicit caller.
//!
//! This file only declares the modules and re-exports what callers use
//! (`backend::{Backend, Config, Ctx, ...}`).
pub mod access;
pub mod auth_cache;
pub mod avatar;
pub mod clock;
pub mod config;
pub mod context;
pub mod cpu;
pub mod crypto;
pub mod db_probe;
pub mod error;
pub mod events;
pub mod feed;
pub mod import_files;
pub mod legacy_hash;
pub mod mail;
pub mod metrics;
pub mod oidc;
pub mod outbound;
pub mod password;
pub mod services;
pub mod sessions;
pub mod signing;
pub mod state;
pub mod store;
pub mod tokens;
pub mod totp;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::Config;
pub use context::{Caller, Ctx, SessionUser, TokenAuth};
pub use error::internal;
pub use state::{relying_party, Backend};
