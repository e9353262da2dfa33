#!/usr/bin/env bash
# The console's first load and page speed on the release build (issue 10):
#   1. bytes per page as a browser gets them: HTML, JS, WASM and CSS, raw and as served
#      with Accept-Encoding br and gzip (the built files are precompressed at start-up);
#   2. page timings over one kept-alive connection (wrk, 1 connection), next to /healthz;
#   3. in headless Chromium (bench/browser.mjs): time to interactive of the sign-in and users
#      pages, the WASM bytes each downloads, and live-update latency between two browsers.
# Usage: bench/firstload.sh [seconds-per-wrk-run]   (figures go into docs/benchmarks.md by hand)
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-10}"
# shellcheck source=lib.sh
source bench/lib.sh
bench_setup wrk
export ROSTER_DATABASE_URL="sqlite:$dir/bench.db" ROSTER_LOG=warn
pw="quiet bench passphrase number two"
"$bin" user create -r Admin -u root -e root@example.com -f Root -l Bench -p "$pw" >/dev/null
for i in $(seq -w 1 40); do
  "$bin" user create -r Member --org Default -u "user$i" -e "user$i@example.com" -f User -l "$i" --use-random-password >/dev/null
done
port=3991
base="http://127.0.0.1:$port"
"$bin" serve --addr "127.0.0.1:$port" --site-root target/site & pid=$!
for _ in $(seq 50); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.1; done
# The precompressed copies are made in the background: wait for all of them (otherwise the
# first answers are compressed on the fly, at a lower brotli level).
all_compressed() {
  local f
  for f in target/site/pkg/*.wasm target/site/pkg/*.js target/site/pkg/*.css; do
    [ -s "$f.br" ] && [ -s "$f.gz" ] || return 1
  done
}
for _ in $(seq 600); do all_compressed && break; sleep 0.5; done
cookie="$(curl -s -D - -o /dev/null -H "Origin: $base" -H 'Sec-Fetch-Site: same-origin' \
  --data-urlencode login=root --data-urlencode "password=$pw" "$base/rpc/sign_in" \
  | sed -n 's/^[Ss]et-[Cc]ookie: \(roster_session=[^;]*\).*/\1/p')"

size() { # url encoding -> bytes on the wire
  curl -s -o /dev/null -w '%{size_download}' -H "Cookie: $cookie" ${2:+-H "Accept-Encoding: $2"} "$1"
}
echo "## First-load bytes per page (release build)"
echo
echo "| page | asset | raw | br | gzip |"
echo "|---|---|---|---|---|"
for page in /sign-in /admin/users /members /roles; do
  html="$(curl -s -H "Cookie: $cookie" "$base$page")"
  echo "| $page | HTML | $(size "$base$page") | $(size "$base$page" br) | $(size "$base$page" gzip) |"
  for asset in $(grep -oE '/pkg/[A-Za-z0-9_.-]+\.(js|wasm|css)' <<<"$html" | sort -u); do
    echo "| $page | $asset | $(size "$base$asset") | $(size "$base$asset" br) | $(size "$base$asset" gzip) |"
  done
  # (the HTML preloads the main WASM and the page's own chunks; listed here if it stops
  # naming the main one)
  for wasm in target/site/pkg/roster.*.wasm; do
    a="/pkg/$(basename "$wasm")"
    grep -q "$a" <<<"$html" && continue
    echo "| $page | $a (loaded by the JS) | $(size "$base$a") | $(size "$base$a" br) | $(size "$base$a" gzip) |"
  done
done
echo
echo "## Page timings over one kept-alive connection (wrk -t1 -c1 -d${secs}s)"
echo
for url in "$base/healthz" "$base/sign-in" "$base/admin/users" "$base/api/v1/me"; do
  echo "### $url"
  wrk -t1 -c1 -d"${secs}s" --latency -H "Cookie: $cookie" "$url" | sed -n '/Latency Distribution/,/99%/p;/Requests\/sec/p'
done
echo
echo "## In headless Chromium"
(cd end2end && ROSTER_BENCH_URL="$base" ROSTER_BENCH_USER=root ROSTER_BENCH_PASSWORD="$pw" node ../bench/browser.mjs)
