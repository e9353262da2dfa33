#!/usr/bin/env bash
# Sign-in throughput with argon2id (m=19456 KiB, t=2, p=1) against the hashing bound, and the
# users list's latency while sign-ins saturate the CPU. Release build, wrk on loopback.
#   1. one connection signs in back to back for a while: its mean latency is one hash plus a
#      little HTTP and SQLite work, so cores / latency is (slightly under) the hashing bound;
#   2. 16 connections sign in (32 accounts in turn): throughput, as a share of that bound;
#   3. at the same time, an admin pages through GET /api/v1/users over 100,000 accounts
#      (ten requests a second, each timed by curl): p99 (target: under 50 ms).
# Installs wrk and sqlite3 (Debian) if missing. Usage: bench/signin.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-20}"
# shellcheck source=lib.sh
source bench/lib.sh
bench_setup wrk sqlite3
export ROSTER_DATABASE_URL="sqlite:$dir/bench.db" ROSTER_LOG=warn
pw="quiet bench passphrase number two"
"$bin" user create -r Admin -u root -e root@example.com -f Root -l Bench -p "$pw" >/dev/null
for i in $(seq 0 31); do
  "$bin" user create -r DefaultUser -u "s$i" -e "s$i@example.com" -f Sign -l "In $i" -p "$pw" >/dev/null
done
# 100,000 more accounts, straight into the database (no password: hashing them would take an hour).
sqlite3 "$dir/bench.db" <<'SQL'
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
INSERT INTO users (username, username_key, full_name, full_name_key, email, email_key, status, created_at, updated_at)
SELECT 'user' || i, 'user' || i, 'Bench User ' || i, 'bench user ' || i, 'user' || i || '@example.com',
       'user' || i || '@example.com', 'active', i, i FROM n;
SQL
port=3991
"$bin" serve --addr "127.0.0.1:$port" --site-root "$dir" & pid=$!
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
base="http://127.0.0.1:$port"
export BENCH_ORIGIN="$base" BENCH_PASSWORD="$pw"
cookie="$(curl -s -D - -o /dev/null -H "Origin: $base" -H 'Sec-Fetch-Site: same-origin' \
  --data-urlencode login=root --data-urlencode "password=$pw" "$base/rpc/sign_in" \
  | sed -n 's/^[Ss]et-[Cc]ookie: \(roster_session=[^;]*\).*/\1/p')"
curl -fs -H "Cookie: $cookie" "$base/api/v1/users?limit=50" >/dev/null
cores="$(nproc)"
echo "== cores: $cores"
echo "== 1. one connection, sign-ins back to back"
wrk -t1 -c1 -d"${secs}s" --latency -s bench/signin.lua "$base" | tee "$dir/one.txt"
echo "== 2. 16 connections signing in, while 3. an admin lists users"
(
  end=$((SECONDS + secs))
  while [ "$SECONDS" -lt "$end" ]; do
    curl -s -o /dev/null -w '%{time_total}\n' -H "Cookie: $cookie" "$base/api/v1/users?limit=50"
    sleep 0.1
  done > "$dir/list.txt"
) &
lister=$!
wrk -t2 -c16 -d"${secs}s" --latency -s bench/signin.lua "$base" | tee "$dir/many.txt"
wait "$lister"
# Summary: wrk prints "Latency  <avg>ms ..." and "Requests/sec: <n>".
ms() { awk '/^    Latency/ { v=$2; if (v ~ /ms$/) { sub(/ms$/,"",v); print v } else if (v ~ /us$/) { sub(/us$/,"",v); print v/1000 } else { sub(/s$/,"",v); print v*1000 } }' "$1"; }
one_ms="$(ms "$dir/one.txt")"
rps="$(awk '/^Requests\/sec/ { print $2 }' "$dir/many.txt")"
awk -v c="$cores" -v l="$one_ms" -v r="$rps" 'BEGIN {
  bound = c * 1000 / l;
  printf "== summary: one sign-in %.1f ms -> bound %.1f/s on %d cores; 16 connections %.1f/s = %.0f%% of the bound\n", l, bound, c, r, 100 * r / bound }'
sort -n "$dir/list.txt" | awk '{ v[NR] = $1 } END {
  i = int(NR * 0.99); if (i < 1) i = 1; j = int(NR * 0.5); if (j < 1) j = 1;
  printf "== users list under sign-in load: %d requests, p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", NR, v[j] * 1000, v[i] * 1000, v[NR] * 1000 }'
