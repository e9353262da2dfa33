#!/usr/bin/env bash
# Two Roster instances on one PostgreSQL database behind nginx (round robin), for the
# run_behind_a_proxy story. Started by playwright.config.ts as one web server; its URL is
# nginx's /readyz. Everything it starts stops with it.
#   end2end/proxy.sh STATE_DIR PROXY_PORT PORT_A PORT_B
# Needs ROSTER_TEST_PG_URL (scripts/test.sh exports it), ROSTER_BIN and ROSTER_SITE_ROOT.
#
# Addresses: the browser talks to nginx from 127.0.0.1; nginx talks to the instances from
# 127.0.0.2 (proxy_bind; all of 127.0.0.0/8 is loopback on Linux), and only 127.0.0.2 is a
# trusted proxy. So an instance sees the browser's address only through nginx's
# X-Forwarded-For, and a client calling an instance directly (from 127.0.0.1) is not trusted.
# Our own nginx: own configuration, prefix, pid file, logs and temp folders under STATE_DIR,
# in the foreground; the system's nginx service (if any) is neither needed nor touched.
set -euo pipefail
state="${1:?usage: proxy.sh STATE_DIR PROXY_PORT PORT_A PORT_B}"
proxy_port="${2:?}"
port_a="${3:?}"
port_b="${4:?}"

fail() { echo "[proxy] $*" >&2; exit 1; }
# A story that cannot reach its database fails: it is never skipped.
[ -n "${ROSTER_TEST_PG_URL:-}" ] || fail "ROSTER_TEST_PG_URL is not set: the proxy story needs PostgreSQL (make test starts a throwaway cluster: scripts/postgres.sh start DIR prints the URL)"
bin="${ROSTER_BIN:?ROSTER_BIN is not set}"
site="${ROSTER_SITE_ROOT:?ROSTER_SITE_ROOT is not set}"
command -v nginx >/dev/null || fail "nginx is not installed (scripts/install.sh test installs the Debian package)"
command -v psql >/dev/null || fail "psql is not installed (it comes with PostgreSQL: scripts/install.sh test)"

rm -rf "$state"
mkdir -p "$state/nginx/logs" "$state/nginx/tmp"

pids=()
stop() {
  trap - EXIT INT TERM
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop EXIT
trap 'exit 143' INT TERM

# A fresh database on the test cluster (the URL names the maintenance database).
db=roster_e2e_proxy
psql -q -v ON_ERROR_STOP=1 "$ROSTER_TEST_PG_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" \
  >"$state/psql.log" 2>&1 || { cat "$state/psql.log" >&2; fail "could not create the database $db"; }
db_url="${ROSTER_TEST_PG_URL%/*}/$db"

# The same instance key for both (and for the story's CLI calls: ROSTER_KEY_FILE in the spec).
head -c 32 /dev/urandom | base64 >"$state/instance.key"
chmod 600 "$state/instance.key"
export ROSTER_DATABASE_URL="$db_url" ROSTER_KEY_FILE="$state/instance.key" ROSTER_LOG="${ROSTER_LOG:-info,tower_http=debug,sqlx=warn}"
public="http://127.0.0.1:$proxy_port"

ready() {
  local url="$1" pid="$2" log="$3"
  for _ in $(seq 1 600); do
    kill -0 "$pid" 2>/dev/null || { tail -n 30 "$log" >&2; fail "the server behind $url exited"; }
    curl -fsS -o /dev/null "$url/readyz" 2>/dev/null && return 0
    sleep 0.1
  done
  tail -n 30 "$log" >&2
  fail "$url/readyz did not answer 200 within 60 s"
}

start_instance() {
  local name="$1" port="$2"
  "$bin" serve --addr "127.0.0.1:$port" --site-root "$site" --public-url "$public" \
    --trusted-proxies 127.0.0.2/32 --shutdown-grace-seconds 1 2>>"$state/instance-$name.log" &
  pids+=($!)
  ready "http://127.0.0.1:$port" "$!" "$state/instance-$name.log"
}
# One after the other: the first one migrates the new database.
start_instance a "$port_a"
start_instance b "$port_b"

cat >"$state/nginx/nginx.conf" <<CONF
# One worker: one round-robin counter, so consecutive requests alternate between instances.
worker_processes 1;
pid $state/nginx/nginx.pid;
error_log $state/nginx/logs/error.log warn;
events { worker_connections 256; }
http {
  log_format upstream '\$remote_addr [\$time_local] "\$request" \$status \$body_bytes_sent '
    'upstream=\$upstream_addr \$request_time s "\$http_referer" "\$http_user_agent"';
  access_log $state/nginx/logs/access.log upstream;
  client_body_temp_path $state/nginx/tmp/body;
  proxy_temp_path $state/nginx/tmp/proxy;
  fastcgi_temp_path $state/nginx/tmp/fastcgi;
  uwsgi_temp_path $state/nginx/tmp/uwsgi;
  scgi_temp_path $state/nginx/tmp/scgi;
  client_max_body_size 10m;
  # No keepalive to the instances: every request picks its instance afresh.
  upstream roster {
    server 127.0.0.1:$port_a;
    server 127.0.0.1:$port_b;
  }
  server {
    listen 127.0.0.1:$proxy_port;
    location / {
      proxy_pass http://roster;
      proxy_bind 127.0.0.2;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$http_host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Request-Id \$request_id;
      proxy_buffering off;             # live updates (server-sent events)
      proxy_read_timeout 1h;
      # Which instance answered (the story checks that both do).
      add_header X-Upstream \$upstream_addr always;
    }
  }
}
CONF
nginx -t -q -p "$state/nginx" -e "$state/nginx/logs/error.log" -c "$state/nginx/nginx.conf" \
  || { cat "$state/nginx/logs/error.log" >&2; fail "nginx refused the configuration"; }
nginx -p "$state/nginx" -e "$state/nginx/logs/error.log" -c "$state/nginx/nginx.conf" -g 'daemon off;' &
pids+=($!)
echo "[proxy] nginx on $public in front of 127.0.0.1:$port_a and 127.0.0.1:$port_b (database $db)"
# Until Playwright stops us, or one of them exits (then the trap stops the others).
wait -n
fail "a server behind the proxy exited (logs in $state)"
