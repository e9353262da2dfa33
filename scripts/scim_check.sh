#!/usr/bin/env bash
# The SCIM compliance checker (PyPI scim2-tester, installed by scripts/install.sh test into
# target/scim-venv) against a real server, once on SQLite and once on PostgreSQL: each run
# starts the built binary on a fresh database, creates a connection with the CLI, lets the
# checker exercise it (scripts/scim_check.py) and stops the server. A server that cannot start,
# or any failed check, fails the run: nothing is skipped.
#   scripts/scim_check.sh ROSTER_BIN SITE_ROOT      (needs ROSTER_TEST_PG_URL)
set -euo pipefail
bin="${1:?usage: scim_check.sh ROSTER_BIN SITE_ROOT}"
site="${2:?}"
here="$(cd "$(dirname "$0")" && pwd)"
python="$here/../target/scim-venv/bin/python"
fail() { echo "[scim-check] $*" >&2; exit 1; }
[ -x "$python" ] || fail "no $python: run scripts/install.sh test (it installs scim2-tester)"
[ -n "${ROSTER_TEST_PG_URL:-}" ] || fail "ROSTER_TEST_PG_URL is not set (make test starts a throwaway PostgreSQL cluster)"

work="$(mktemp -d)"
pid=""
stop() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  pid=""
}
trap 'stop; rm -rf "$work"' EXIT

# check NAME DATABASE_URL DELETE_MODE: one run of the checker.
check() {
  local name="$1" db="$2" mode="$3"
  local port
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  export ROSTER_DATABASE_URL="$db" ROSTER_KEY_FILE="$work/$name.key" ROSTER_LOG="info,sqlx=warn"
  head -c 32 /dev/urandom | base64 >"$ROSTER_KEY_FILE"
  "$bin" migrate >"$work/$name-migrate.log" 2>&1 || { cat "$work/$name-migrate.log" >&2; fail "$name: migrate failed"; }
  local token
  token="$("$bin" scim create checker --name "SCIM checker" --org Default --default-role Member --delete-mode "$mode" 2>"$work/$name-cli.log")" \
    || { cat "$work/$name-cli.log" >&2; fail "$name: could not create the connection"; }
  "$bin" serve --addr "127.0.0.1:$port" --site-root "$site" 2>"$work/$name-server.log" &
  pid=$!
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || { tail -n 30 "$work/$name-server.log" >&2; fail "$name: the server exited"; }
    curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null && break
    sleep 0.1
  done
  curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" || fail "$name: the server did not get ready"
  echo "[scim-check] $name (delete mode: $mode)"
  "$python" "$here/scim_check.py" "http://127.0.0.1:$port/scim/v2/checker" "$token" || { stop; fail "$name: scim2-tester found failures"; }
  stop
  # The token reached no log line.
  if grep -q "$token" "$work/$name-server.log"; then fail "$name: the connection's token is in the server log"; fi
}

check sqlite "sqlite:$work/scim.db" disable
db=roster_scim_check
psql -q -v ON_ERROR_STOP=1 "$ROSTER_TEST_PG_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
check postgresql "${ROSTER_TEST_PG_URL%/*}/$db" delete
psql -q "$ROSTER_TEST_PG_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null || true
