#!/usr/bin/env bash
# Where an import's time goes on PostgreSQL, statement by statement (issue 12;
# docs/benchmarks.md). A throwaway cluster (scripts/postgres.sh) logs every statement's
# duration (log_min_duration_statement = 0) while the import benchmark runs against it
# (ROSTER_BENCH_USERS accounts per file, default 30,000); prints each statement's total, its
# count and its time per imported account, the batch look-up's time at the first and the
# last batches (flat, or growing with the table), then EXPLAIN ANALYZE of that look-up for
# 1,000 absent keys and two present ones against the last file's accounts.
# Usage: bench/pg_import.sh            (builds the benchmark as `cargo bench` does)
#        ROSTER_BENCH_BIN=target/release/deps/import-HASH bench/pg_import.sh   (one built before)
set -euo pipefail
cd "$(dirname "$0")/.."
export ROSTER_BENCH_USERS="${ROSTER_BENCH_USERS:-30000}"
pgdir="$(mktemp -d)"
trap 'scripts/postgres.sh stop "$pgdir" || true; rm -rf "$pgdir"' EXIT
url="$(scripts/postgres.sh start "$pgdir")"
psql -q "$url" -c "ALTER SYSTEM SET log_min_duration_statement = 0" -c "SELECT pg_reload_conf()" >/dev/null
export ROSTER_BENCH_BACKEND=postgres ROSTER_BENCH_PG_URL="$url"
if [ -n "${ROSTER_BENCH_BIN:-}" ]; then "$ROSTER_BENCH_BIN"; else cargo bench -p server --bench import; fi 2>/dev/null | grep '^|'
psql -q "$url" -c "ALTER SYSTEM RESET log_min_duration_statement" -c "SELECT pg_reload_conf()" >/dev/null
python3 - "$pgdir/server.log" "$ROSTER_BENCH_USERS" <<'PY'
import collections, re, sys
log, n = sys.argv[1], int(sys.argv[2])
total, count, lookups = collections.Counter(), collections.Counter(), []
for line in open(log, errors="replace"):
    m = re.search(r"duration: ([\d.]+) ms\s+(statement|execute [^:]*|bind [^:]*|parse [^:]*):\s*(.*)", line)
    if not m:
        continue
    phase = m.group(2).split()[0]
    sql = re.sub(r"\$\d+", "$", m.group(3))[:90]
    total[(phase, sql)] += float(m.group(1))
    count[(phase, sql)] += 1
    if phase == "execute" and "CROSS JOIN LATERAL" in m.group(3):
        lookups.append(float(m.group(1)))
# three files: a dry run and two imports, each of n accounts
print(f"\n| ms in all | statements | µs per account | phase | statement |\n|---|---|---|---|---|")
for k, ms in total.most_common(12):
    print(f"| {ms:.0f} | {count[k]} | {ms * 1000 / (3 * n):.1f} | {k[0]} | `{k[1]}` |")
if lookups:
    print(f"\nbatch look-up, first five: {lookups[:5]}, last five: {lookups[-5:]} ms")
PY
keys="ARRAY(SELECT 'absent' || g FROM generate_series(1, 1000) g) || ARRAY['s0000001', 's0000002']"
psql -q "${url%/*}/roster_bench_import_2" -c "SET enable_bitmapscan = off" -c "EXPLAIN ANALYZE SELECT u.id FROM UNNEST($keys) AS k (key) CROSS JOIN LATERAL (SELECT * FROM users u WHERE u.username_key = k.key UNION ALL SELECT * FROM users u WHERE u.email_key = k.key) AS u" | grep -E "Index Scan|Execution Time"
