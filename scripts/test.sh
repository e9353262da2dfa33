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

echo "[test] building the debug site (WASM front end + server)"
cargo leptos build "${LEPTOS_LIB_ARGS[@]}"

# The end-to-end suite runs this exact binary, even if the test build below relinks target/debug.
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
echo "[test] starting a throwaway PostgreSQL cluster"
ROSTER_TEST_PG_URL="$(scripts/postgres.sh start "$pg_dir")"
export ROSTER_TEST_PG_URL
# A throwaway MariaDB server (scripts/mariadb.sh): what Test Connection connects to, beside the
# PostgreSQL cluster above.
echo "[test] starting a throwaway MariaDB server"
ROSTER_TEST_MARIADB_URL="$(scripts/mariadb.sh start "$maria_dir")"
export ROSTER_TEST_MARIADB_URL
# A throwaway SMTP catcher (scripts/smtp.sh): where invitation mails go; the tests read them
# from its Maildir.
echo "[test] starting a throwaway SMTP catcher"
ROSTER_TEST_SMTP_URL="$(scripts/smtp.sh start "$smtp_dir")"
ROSTER_TEST_MAILDIR="$smtp_dir/maildir"
export ROSTER_TEST_SMTP_URL ROSTER_TEST_MAILDIR

# cargo-leptos built the server above with `--cfg erase_components` (workspace metadata
# `always-erase-components`): the tests take the same flag, so they reuse every dependency it
# compiled instead of compiling them all a second time (and test the views as they ship).
test_rustflags="${RUSTFLAGS:+$RUSTFLAGS }--cfg erase_components"

echo "[test] Rust unit and integration tests (SQLite; the store contract suite on both backends)"
# (the casbin comparison is a benchmark only: bench/access.sh)
RUSTFLAGS="$test_rustflags" cargo test --workspace --features app/ssr --exclude frontend --exclude roster-access-bench

echo "[test] the same again on PostgreSQL"
# (the same cargo arguments as above: a narrower package selection would unify features
# differently and compile everything a second time)
RUSTFLAGS="$test_rustflags" ROSTER_TEST_BACKEND=postgres cargo test --workspace --features app/ssr --exclude frontend --exclude roster-access-bench

echo "[test] SCIM compliance: scim2-tester against the built server, on SQLite and PostgreSQL"
scripts/scim_check.sh "$roster_root/target/e2e/roster" "$roster_root/target/site"

echo "[test] end-to-end tests (Playwright, headless Chromium)"
cd end2end
ROSTER_BIN="$roster_root/target/e2e/roster" ROSTER_SITE_ROOT="$roster_root/target/site" npx playwright test
