#!/usr/bin/env bash
# `make test`: installs what is missing, then runs every test:
#   1. Rust unit and integration tests (cargo test, debug build), on SQLite and PostgreSQL;
#   2. the SCIM compliance checker against the built server;
#   3. the Playwright end-to-end suite in headless Debian Chromium against the built server.
set -euo pipefail
cd "$(dirname "$0")/.."
# Each phase says when it starts (seconds since the start of the run): where CI time goes.
started="$(date +%s)"
phase() { echo "[test +$(( $(date +%s) - started ))s] $*"; }
phase "installing what is missing"
scripts/install.sh test
# shellcheck source=toolchain.sh
source scripts/toolchain.sh
echo "[test] toolchain: $ROSTER_TOOLCHAIN ($(rustc --version))"

phase "building the front end (WASM, CSS, assets)"
cargo leptos build --frontend-only "${LEPTOS_LIB_ARGS[@]}"

# One build of the server side for everything: the tests and the binary the end-to-end suite
# runs. `cargo test` unifies the dependencies' features with the dev-dependencies', so a
# server built apart (`cargo leptos build`) shared little with it and half the dependencies
# were compiled twice. The binary is built with `--cfg erase_components`, as cargo-leptos
# builds it (workspace metadata `always-erase-components`: views and the markers they hydrate
# against must match), and the tests take the same flag (and test the views as they ship).
test_rustflags="${RUSTFLAGS:+$RUSTFLAGS }--cfg erase_components"
test_args=(--workspace --features app/ssr --exclude frontend --exclude roster-access-bench)
phase "building the server and the tests"
RUSTFLAGS="$test_rustflags" cargo test "${test_args[@]}" --no-run

# The end-to-end suite runs this exact binary (the one `cargo test` built for the server's
# integration tests), even if target/debug is relinked meanwhile.
mkdir -p target/e2e
# (copy then rename: works even while an old copy is still running)
cp target/debug/roster target/e2e/roster.new && mv -f target/e2e/roster.new target/e2e/roster
# (the hashed names of the built files: the server reads them beside its binary)
cp target/debug/hash.txt target/e2e/hash.txt

# A throwaway PostgreSQL cluster (scripts/postgres.sh), stopped and removed however the run ends.
# The store's contract suite runs on both backends; the server's integration suites run once per
# backend. No cluster, no green run: a backend the tests never reached is not tested.
pg_dir="$(mktemp -d)"
maria_dir="$(mktemp -d)"
smtp_dir="$(mktemp -d)"
stop_servers() {
  "$roster_root/scripts/postgres.sh" stop "$pg_dir"; rm -rf "$pg_dir"
  "$roster_root/scripts/mariadb.sh" stop "$maria_dir"; rm -rf "$maria_dir"
  "$roster_root/scripts/smtp.sh" stop "$smtp_dir"; rm -rf "$smtp_dir"
}
trap stop_servers EXIT
phase "starting a throwaway PostgreSQL cluster"
ROSTER_TEST_PG_URL="$(scripts/postgres.sh start "$pg_dir")"
export ROSTER_TEST_PG_URL
# A throwaway MariaDB server (scripts/mariadb.sh): what Test Connection connects to, beside the
# PostgreSQL cluster above.
phase "starting a throwaway MariaDB server"
ROSTER_TEST_MARIADB_URL="$(scripts/mariadb.sh start "$maria_dir")"
export ROSTER_TEST_MARIADB_URL
# A throwaway SMTP catcher (scripts/smtp.sh): where invitation mails go; the tests read them
# from its Maildir.
phase "starting a throwaway SMTP catcher"
ROSTER_TEST_SMTP_URL="$(scripts/smtp.sh start "$smtp_dir")"
ROSTER_TEST_MAILDIR="$smtp_dir/maildir"
export ROSTER_TEST_SMTP_URL ROSTER_TEST_MAILDIR

phase "Rust unit and integration tests (SQLite; the store contract suite on both backends)"
# (the casbin comparison is a benchmark only: bench/access.sh)
RUSTFLAGS="$test_rustflags" cargo test "${test_args[@]}"

phase "the same again on PostgreSQL"
# (the same cargo arguments as above: nothing is compiled again)
RUSTFLAGS="$test_rustflags" ROSTER_TEST_BACKEND=postgres cargo test "${test_args[@]}"

phase "SCIM compliance: scim2-tester against the built server, on SQLite and PostgreSQL"
scripts/scim_check.sh "$roster_root/target/e2e/roster" "$roster_root/target/site"

phase "end-to-end tests (Playwright, headless Chromium)"
cd end2end
ROSTER_BIN="$roster_root/target/e2e/roster" ROSTER_SITE_ROOT="$roster_root/target/site" npx playwright test
phase "done"
