#!/usr/bin/env bash
# Cost of token authentication on the check API, with wrk on loopback (2 threads, 32
# connections): the same GET /api/v1/check URL (1) with a personal access token, (2) with a
# session cookie, (3) with no credentials (answered 401 by the same route and middleware,
# without the look-up: the upper bound). Installs wrk (Debian) if missing.
# Usage: bench/auth.sh [seconds]   (release binary; figures go into docs/benchmarks.md by hand)
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-15}"
# shellcheck source=lib.sh
source bench/lib.sh
bench_setup wrk
export ROSTER_DATABASE_URL="sqlite:$dir/bench.db" ROSTER_LOG=warn
pw="quiet bench passphrase number one"
"$bin" user create -r Admin -u root -e root@example.com -f Root -l Bench -p "$pw" >/dev/null
"$bin" user create -r Member --org Default -u svc -e svc@example.com -f Service -l Bench --use-random-password >/dev/null
token="$("$bin" token create -u svc -n bench)"
port=3990
"$bin" serve --addr "127.0.0.1:$port" --site-root "$dir" & pid=$!
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
base="http://127.0.0.1:$port"
cookie="$(curl -s -D - -o /dev/null -H "Origin: $base" -H 'Sec-Fetch-Site: same-origin' \
  --data-urlencode login=root --data-urlencode "password=$pw" "$base/rpc/sign_in" \
  | sed -n 's/^[Ss]et-[Cc]ookie: \(roster_session=[^;]*\).*/\1/p')"
url="$base/api/v1/check?user=svc&org=Default&ability=run-backups"
curl -fs -H "Authorization: Bearer $token" "$url" >/dev/null
echo "== token (Authorization: Bearer)"; wrk -t2 -c32 -d"${secs}s" --latency -H "Authorization: Bearer $token" "$url"
echo "== session cookie"; wrk -t2 -c32 -d"${secs}s" --latency -H "Cookie: $cookie" "$url"
echo "== no credentials (401)"; wrk -t2 -c32 -d"${secs}s" --latency "$url"
