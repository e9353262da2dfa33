#!/usr/bin/env bash
# The tool stories' server on PostgreSQL: the twin of the passkeys server (the OpenID provider,
# forward authentication and webhooks stories run against both), with nginx protecting a static
# site through it (forward_auth.sh). Started by playwright.config.ts as one web server; its URL
# is the site's /healthz, answered once Roster is ready. Everything it starts stops with it.
#   end2end/tools_pg.sh STATE_DIR ROSTER_PORT SITE_PORT
# Needs ROSTER_TEST_PG_URL (scripts/test.sh exports it), ROSTER_BIN and ROSTER_SITE_ROOT.
# Roster is http://localhost:ROSTER_PORT (WebAuthn refuses IP addresses), the site
# http://localhost:SITE_PORT (one host, so Roster's session cookie reaches the site's proxy).
set -euo pipefail
state="${1:?usage: tools_pg.sh STATE_DIR ROSTER_PORT SITE_PORT}"
port="${2:?}"
site_port="${3:?}"
here="$(cd "$(dirname "$0")" && pwd)"

fail() { echo "[tools-pg] $*" >&2; exit 1; }
# A story that cannot reach its database fails: it is never skipped.
[ -n "${ROSTER_TEST_PG_URL:-}" ] || fail "ROSTER_TEST_PG_URL is not set: the tool stories on PostgreSQL need it (make test starts a throwaway cluster: scripts/postgres.sh start DIR prints the URL)"
bin="${ROSTER_BIN:?ROSTER_BIN is not set}"
site="${ROSTER_SITE_ROOT:?ROSTER_SITE_ROOT is not set}"
command -v psql >/dev/null || fail "psql is not installed (it comes with PostgreSQL: scripts/install.sh test)"

rm -rf "$state"
mkdir -p "$state"

pids=()
stop() {
  trap - EXIT INT TERM
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop EXIT
trap 'exit 143' INT TERM

# A fresh database on the test cluster (the URL names the maintenance database).
db=roster_e2e_tools
psql -q -v ON_ERROR_STOP=1 "$ROSTER_TEST_PG_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" \
  >"$state/psql.log" 2>&1 || { cat "$state/psql.log" >&2; fail "could not create the database $db"; }
# The same key for the server and the stories' CLI calls (toolServers in tests/fixtures/roster.ts).
head -c 32 /dev/urandom | base64 >"$state/instance.key"
chmod 600 "$state/instance.key"
export ROSTER_DATABASE_URL="${ROSTER_TEST_PG_URL%/*}/$db" ROSTER_KEY_FILE="$state/instance.key"
export ROSTER_LOG="${ROSTER_LOG:-info,tower_http=debug,sqlx=warn}"

"$bin" serve --addr "127.0.0.1:$port" --site-root "$site" --public-url "http://localhost:$port" \
  --allow-internal-urls --forward-auth-hosts "localhost:$site_port" 2>>"$state/server.log" &
pids+=($!)
for _ in $(seq 1 600); do
  kill -0 "${pids[0]}" 2>/dev/null || { tail -n 30 "$state/server.log" >&2; fail "Roster exited"; }
  curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null && break
  sleep 0.1
done
curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" || { tail -n 30 "$state/server.log" >&2; fail "Roster did not get ready within 60 s"; }

bash "$here/forward_auth.sh" "$state/forward" "$site_port" "$port" &
pids+=($!)
echo "[tools-pg] Roster on http://localhost:$port (database $db), its forward-auth site on http://localhost:$site_port"
# Until Playwright stops us, or one of them exits (then the trap stops the other).
wait -n
fail "Roster or nginx exited (logs in $state)"
