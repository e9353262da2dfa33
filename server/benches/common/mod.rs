//! What the benchmarks share (a directory, so cargo does not take it for a benchmark).
#![allow(dead_code)]
use std::time::Duration;

// The binary's allocator (server/src/main.rs), so the figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The `p` quantile of sorted durations, in milliseconds.
pub fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// Runs `scripts/postgres.sh ACTION DIR` (a throwaway cluster); its output (`start`: the URL).
pub fn postgres_sh(action: &str, dir: &std::path::Path) -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/postgres.sh");
    let out = std::process::Command::new(script).arg(action).arg(dir).output().expect("scripts/postgres.sh");
    assert!(out.status.success(), "postgres.sh {action}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}
