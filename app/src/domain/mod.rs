//! The pure core: types shared by the browser and the server, validation and policy.
//! Nothing here does I/O or depends on Leptos, so it compiles to wasm32 and is tested in
//! milliseconds.
pub mod abilities;
pub mod access;
pub mod audit;
pub mod avatar;
pub mod bulk;
pub mod clients;
pub mod database_access;
pub mod databases;
pub mod error;
pub mod forward;
pub mod ids;
pub mod import;
pub mod invitations;
pub mod oauth;
pub mod orgs;
pub mod passkeys;
pub mod policy;
pub mod roles;
pub mod scim;
pub mod scim_filter;
pub mod scim_mapping;
pub mod security;
pub mod sso;
pub mod throttle;
pub mod tokens;
pub mod users;
pub mod validate;
pub mod webhooks;

pub use error::{Error, FieldError};
