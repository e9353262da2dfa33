#!/usr/bin/env bash
# SQLite and PostgreSQL side by side, in one run on one machine (issue 11). Release build, wrk on
# loopback. For each backend, one instance:
#   1. idle memory: VmRSS after start-up, readiness and one page render (and 3 s at rest);
#   2. check API: GET /api/v1/check with a personal access token, 2 threads, 32 connections;
#   3. sign-in throughput: 16 connections signing in (POST /rpc/sign_in, 32 accounts in turn).
# Then on PostgreSQL, behind nginx (keepalive connections to the upstreams, as in production):
#   4. the check API through nginx with one instance, then with two (round robin).
# The PostgreSQL cluster is a throwaway one (scripts/postgres.sh) with durability back on (fsync,
# synchronous_commit, full_page_writes: the test cluster turns them off), on the same machine.
# Installs wrk and nginx (Debian) if missing.   Usage: bench/backends.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-10}"
# shellcheck source=lib.sh
source bench/lib.sh
bench_setup wrk nginx
# (postgres.sh runs the server as the postgres user: its folder must not sit in our 0700 one)
pgdir="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  scripts/postgres.sh stop "$pgdir" || true
  rm -rf "$dir" "$pgdir"
}
trap cleanup EXIT

pg_admin="$(scripts/postgres.sh start "$pgdir")"
psql -q "$pg_admin" -c "ALTER SYSTEM SET fsync = on" -c "ALTER SYSTEM SET synchronous_commit = on" \
  -c "ALTER SYSTEM SET full_page_writes = on"
scripts/postgres.sh stop "$pgdir" && scripts/postgres.sh up "$pgdir"
echo "== PostgreSQL: $(psql -Atc 'SHOW server_version' "$pg_admin"), fsync $(psql -Atc 'SHOW fsync' "$pg_admin")"
psql -q "$pg_admin" -c "CREATE DATABASE roster_bench"

head -c 32 /dev/urandom | base64 >"$dir/instance.key"
chmod 600 "$dir/instance.key"
export ROSTER_KEY_FILE="$dir/instance.key" ROSTER_LOG=warn
pw="quiet bench passphrase number three"
base_port=3980

serve() { # PORT [flags...]: starts an instance, waits for /readyz, leaves its pid in $last
  local port="$1"; shift
  "$bin" serve --addr "127.0.0.1:$port" --site-root "$dir" "$@" 2>>"$dir/serve.log" &
  last=$!
  pids+=("$last")
  for _ in $(seq 300); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && return 0; sleep 0.1; done
  tail -20 "$dir/serve.log" >&2
  echo "instance on $port not ready" >&2
  exit 1
}
rps() { awk '/^Requests\/sec/ { printf "%.0f", $2 }' "$1"; }
lat() { awk -v q="$2" '$1 == q { print $2 }' "$1"; }
check() { # NAME URL: wrk on the check API with the token; one summary line
  wrk -t2 -c32 -d"${secs}s" --latency -H "Authorization: Bearer $token" "$2/api/v1/check?user=svc&org=Default&ability=run-backups" >"$dir/$1.txt"
  printf '| %s | %s | %s | %s |\n' "$1" "$(rps "$dir/$1.txt")" "$(lat "$dir/$1.txt" 50%)" "$(lat "$dir/$1.txt" 99%)" | tee -a "$dir/checks.md"
}

declare -A idle signin
for backend in sqlite postgres; do
  if [ "$backend" = sqlite ]; then url="sqlite:$dir/bench.db"; else url="${pg_admin%/*}/roster_bench"; fi
  export ROSTER_DATABASE_URL="$url"
  "$bin" user create -r Admin -u root -e root@example.com -f Root -l Bench -p "$pw" >/dev/null
  "$bin" user create -r Member --org Default -u svc -e svc@example.com -f Service -l Bench --use-random-password >/dev/null
  for i in $(seq 0 31); do
    "$bin" user create -r DefaultUser -u "s$i" -e "s$i@example.com" -f Sign -l "In $i" -p "$pw" >/dev/null
  done
  token="$("$bin" token create -u svc -n bench)"
  port=$((base_port += 1))
  serve "$port"
  origin="http://127.0.0.1:$port"
  curl -fs "$origin/sign-in" >/dev/null
  sleep 3
  idle[$backend]="$(awk '/VmRSS/ {print $2}' "/proc/$last/status")"
  echo "== $backend: idle VmRSS ${idle[$backend]} KiB"
  check "$backend, one instance" "$origin"
  BENCH_ORIGIN="$origin" BENCH_PASSWORD="$pw" \
    wrk -t2 -c16 -d"${secs}s" --latency -s bench/signin.lua "$origin" >"$dir/signin-$backend.txt"
  signin[$backend]="$(rps "$dir/signin-$backend.txt")/s, p50 $(lat "$dir/signin-$backend.txt" 50%), p99 $(lat "$dir/signin-$backend.txt" 99%)"
  echo "== $backend: sign-in ${signin[$backend]}"
  kill "$last"; wait "$last" 2>/dev/null || true
done

# PostgreSQL behind nginx: one instance, then two.
export ROSTER_DATABASE_URL="${pg_admin%/*}/roster_bench"
mkdir -p "$dir/nginx/logs" "$dir/nginx/tmp"
proxy_port=$((base_port + 10))
nginx_with() { # PORT...: (re)writes the configuration for these upstreams and starts nginx
  local servers=""
  for p in "$@"; do servers="$servers    server 127.0.0.1:$p;"$'\n'; done
  cat >"$dir/nginx/nginx.conf" <<CONF
worker_processes 1;
pid $dir/nginx/nginx.pid;
error_log $dir/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $dir/nginx/tmp/body;
  proxy_temp_path $dir/nginx/tmp/proxy;
  fastcgi_temp_path $dir/nginx/tmp/fastcgi;
  uwsgi_temp_path $dir/nginx/tmp/uwsgi;
  scgi_temp_path $dir/nginx/tmp/scgi;
  upstream roster {
$servers    keepalive 64;
  }
  server {
    listen 127.0.0.1:$proxy_port;
    location / {
      proxy_pass http://roster;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$http_host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
    }
  }
}
CONF
  nginx -p "$dir/nginx" -e "$dir/nginx/logs/error.log" -c "$dir/nginx/nginx.conf" -g 'daemon off;' &
  nginx_pid=$!
  pids+=("$nginx_pid")
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$proxy_port/readyz" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "nginx did not come up" >&2; cat "$dir/nginx/logs/error.log" >&2; exit 1
}
serve $((base_port + 11)) --trusted-proxies 127.0.0.1/32; a=$last
nginx_with $((base_port + 11))
check "postgres, one instance behind nginx" "http://127.0.0.1:$proxy_port"
kill "$nginx_pid"; wait "$nginx_pid" 2>/dev/null || true
serve $((base_port + 12)) --trusted-proxies 127.0.0.1/32
nginx_with $((base_port + 11)) $((base_port + 12))
check "postgres, two instances behind nginx" "http://127.0.0.1:$proxy_port"
kill "$a" "$last" "$nginx_pid"

echo
echo "## $(date -u +%Y-%m-%d), $(nproc) cores, ${secs} s per wrk run"
echo
echo "| check API (token; wrk -t2 -c32) | requests/s | p50 | p99 |"
echo "|---|---:|---:|---:|"
cat "$dir/checks.md"
echo
echo "| backend | idle VmRSS | sign-ins (wrk -t2 -c16) |"
echo "|---|---:|---|"
for backend in sqlite postgres; do echo "| $backend | ${idle[$backend]} KiB | ${signin[$backend]} |"; done
