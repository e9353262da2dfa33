#!/usr/bin/env bash
# Benchmarks (not tests): release WASM size, server idle memory, users-list latency at 100k users,
# the access model at 100k users (reload, toggle, check, member lists), the audit log at 1M events. The access check versus
# casbin is its own criterion bench: bench/access.sh.
# Prints a Markdown report and writes it to bench/results/latest.md; copy figures into
# docs/benchmarks.md by hand, with the machine they were measured on.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh run
# shellcheck source=toolchain.sh
source scripts/toolchain.sh
mkdir -p bench/results
out=bench/results/latest.md
{
  echo "# Benchmark run $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores, $(rustc --version)"
  echo
} > "$out"

release_build
wasm=$(ls -t target/site/pkg/roster.*.wasm | head -1)
raw=$(stat -c %s "$wasm")
gz=$(gzip -9 -c "$wasm" | wc -c)
echo "- Release WASM: $raw bytes raw, $gz bytes gzip -9 ($wasm)" >> "$out"

tmp=$(mktemp -d)
ROSTER_DATABASE_URL="sqlite:$tmp/idle.db" ROSTER_LOG=warn target/server-release/roster serve --addr 127.0.0.1:3999 &
pid=$!
for _ in $(seq 50); do curl -sf http://127.0.0.1:3999/healthz >/dev/null 2>&1 && break; sleep 0.2; done
curl -sf http://127.0.0.1:3999/sign-in >/dev/null
sleep 3
rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
kill "$pid"; wait "$pid" 2>/dev/null || true
rm -rf "$tmp"
echo "- Server idle memory (VmRSS after start-up and one page render): ${rss} KiB" >> "$out"
echo >> "$out"

cargo bench -p server --bench users_list | tee -a "$out"
echo >> "$out"
cargo bench -p server --bench access_scale | tee -a "$out"
echo >> "$out"
cargo bench -p server --bench audit_log | tee -a "$out"
echo
echo "Report written to $out"
