# shellcheck shell=bash
# Sourced by the other scripts. Chooses the Rust toolchain used for every build and test, so
# that cargo-leptos and `cargo test` share one target directory and one compiler:
#   - "rustup": the user's rustup toolchain, when it already has the wasm32 standard library;
#   - "debian": Debian's rustc-web (1.96) building std for wasm32 from source (-Zbuild-std),
#     for machines whose rustup cannot fetch the wasm32 target.
# Override with ROSTER_TOOLCHAIN=rustup|debian.

roster_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$PATH:$roster_root/tools/node_modules/.bin"

rustup_has_wasm() {
  command -v rustc >/dev/null 2>&1 || return 1
  local sysroot
  sysroot="$(rustc --print sysroot 2>/dev/null)" || return 1
  [ "$sysroot" != "/usr" ] && [ -d "$sysroot/lib/rustlib/wasm32-unknown-unknown/lib" ]
}

if [ -z "${ROSTER_TOOLCHAIN:-}" ]; then
  if rustup_has_wasm; then ROSTER_TOOLCHAIN=rustup; else ROSTER_TOOLCHAIN=debian; fi
fi
export ROSTER_TOOLCHAIN

# The extra cargo-leptos flags every build uses. `--split`: the admin pages' code goes into
# WASM chunks loaded when they are visited (the sign-in page loads none of it).
LEPTOS_LIB_ARGS=(--split)
if [ "$ROSTER_TOOLCHAIN" = "debian" ]; then
  # Debian's cargo/rustc first; RUSTC_BOOTSTRAP lets the stable compiler take -Z flags.
  export PATH="/usr/bin:$PATH"
  export RUSTC_BOOTSTRAP=1
  LEPTOS_LIB_ARGS+=(--lib-cargo-args=-Zbuild-std=std,panic_abort)
  # Link with LLVM's lld, which Debian's rustc ships (rust-lld, as gcc-ld/ld) but does not use
  # by itself: the test binaries link five times faster than with GNU ld (rustup's toolchains
  # link with lld already).
  gcc_ld="$(rustc --print sysroot 2>/dev/null)/lib/rustlib/x86_64-unknown-linux-gnu/bin/gcc-ld"
  if [ "$(uname -m)" = x86_64 ] && [ -x "$gcc_ld/ld" ]; then
    export ROSTER_GCC_LD="$gcc_ld"
    export CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER="$roster_root/scripts/cc-lld"
  fi
fi

# The release build (`make run`, `make build`, the benchmarks). Both halves are built with
# `--cfg erase_components` (workspace metadata `always-erase-components`: views and the markers
# they hydrate against must match). On the Debian route the WASM also drops the panic
# machinery (`-Cpanic=immediate-abort`: a panic stops the module instead of formatting a
# message nobody reads) and panic locations, and builds its standard library for size: the
# sign-in page's WASM is about a fifth smaller (docs/benchmarks.md). These need nightly flags,
# so rustup's stable route ships the larger module.
release_build() {
  if [ "$ROSTER_TOOLCHAIN" = "debian" ]; then
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="${CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS:-} -Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none" \
      cargo leptos build --release "${LEPTOS_LIB_ARGS[@]}" --lib-cargo-args=-Zbuild-std-features=optimize_for_size "$@"
  else
    cargo leptos build --release "${LEPTOS_LIB_ARGS[@]}" "$@"
  fi
}

# The wasm-bindgen CLI must match the library version in Cargo.lock exactly.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$roster_root/Cargo.lock"
}

CARGO_LEPTOS_VERSION=0.3.11
