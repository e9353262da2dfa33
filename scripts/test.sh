#!/usr/bin/env bash
# `make test`: installs what is missing, then runs every test:
#   1. Rust unit and integration tests (cargo test, debug build);
#   2. the Playwright end-to-end suite in headless Debian Chromium against the built server.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh test
# shellcheck source=toolchain.sh
source scripts/toolchain.sh
echo "[test] toolchain: $ROSTER_TOOLCHAIN ($(rustc --version))"

# The tests and the site share no compiled code (the site's server is built with
# `--cfg erase_components`, the tests without), so they build side by side, each in its own
# target directory: on two cores that takes about half as long as one after the other, because
# each build spends long stretches on one core (linking, the largest crates). Sharing
# target/debug would make both uplift target/debug/roster.
tests_target="$roster_root/target/test"
test_args=(--workspace --features app/ssr --exclude frontend --exclude roster-access-bench)
echo "[test] building the Rust tests in the background (log: target/test-build.log)"
mkdir -p target
CARGO_TARGET_DIR="$tests_target" cargo test "${test_args[@]}" --no-run > target/test-build.log 2>&1 &
tests_build=$!
trap 'kill "$tests_build" 2>/dev/null || true' EXIT

echo "[test] building the debug site (WASM front end + server)"
cargo leptos build "${LEPTOS_LIB_ARGS[@]}"

# The end-to-end suite runs this exact binary, even if a later build relinks target/debug.
mkdir -p target/e2e
# (copy then rename: works even while an old copy is still running)
cp target/debug/roster target/e2e/roster.new && mv -f target/e2e/roster.new target/e2e/roster
# (the hashed names of the built files: the server reads them beside its binary)
cp target/debug/hash.txt target/e2e/hash.txt

echo "[test] waiting for the test build"
if ! wait "$tests_build"; then
  tail -n 60 target/test-build.log
  echo "[test] the test build failed (whole log: target/test-build.log)" >&2
  exit 1
fi
trap - EXIT
echo "[test] Rust unit and integration tests"
# (the casbin comparison is a benchmark only: bench/access.sh)
CARGO_TARGET_DIR="$tests_target" cargo test "${test_args[@]}"

echo "[test] end-to-end tests (Playwright, headless Chromium)"
cd end2end
ROSTER_BIN="$roster_root/target/e2e/roster" ROSTER_SITE_ROOT="$roster_root/target/site" npx playwright test
