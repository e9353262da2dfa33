//! The server's integration tests, as one test binary: each module is what used to be a test
//! file of its own. One binary links the application once instead of once per file (about 15 s
//! of linking each on the CI machine) and shares one PostgreSQL template database.
//!
//! Run one module with `cargo test --test it MODULE::` (for example `store::`).
mod common;

mod access;
mod audit;
mod auth;
mod avatar;
mod bulk;
mod change_feed;
mod cli;
mod clients;
mod copy_database;
mod database_access;
mod databases;
mod edge;
mod forward;
mod import;
mod instances;
mod invitations;
mod legacy_passwords;
mod openid;
mod passkeys;
mod postgres_tls;
mod provider;
mod scim;
mod scim_mappings;
mod secrets;
mod sso;
mod store;
mod test_connection;
mod tokens;
mod two_factor;
mod users;
mod webhooks;
