//! Empty: this package only holds the `check` benchmark (`benches/check.rs`), which compares
//! `app::domain::access::AccessModel::decide` with casbin-rs. See `docs/benchmarks.md`.
