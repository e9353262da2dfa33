#!/usr/bin/env bash
# Benchmark (issue 3): Roster's in-memory access check against casbin-rs (RBAC with domains),
# same generated data, sizes 1k/10k/100k users over 10 and 1,000 orgs. Runs the criterion
# bench `check` of the `roster-access-bench` package, then prints a Markdown summary built
# from its SETUP/AGREE lines and criterion's estimates (median of the samples = "p50").
#
#   bench/access.sh                           # everything (about 10 minutes on 2 cores)
#   ROSTER_ACCESS_SIZES=1000 bench/access.sh  # only the 1k-user sizes
#   bench/access.sh roster_decide             # extra arguments go to criterion (a filter)
#
# Copy figures into docs/benchmarks.md by hand, with the machine they were measured on.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=../scripts/toolchain.sh
source scripts/toolchain.sh

target="${CARGO_TARGET_DIR:-target}"
criterion_dir="${CRITERION_HOME:-$target/criterion}"
mkdir -p "$target"
log="$target/access-bench.log"

cargo bench -p roster-access-bench --bench check -- "$@" | tee "$log"

# The median point estimate (ns per iteration) of one benchmark, or "-" when it did not run.
median() {
  local f="$criterion_dir/access_$1/$2/new/estimates.json"
  if [ -f "$f" ]; then
    sed -E 's/.*"median":\{"confidence_interval":\{[^}]*\},"point_estimate":([0-9.eE+-]+).*/\1/' "$f"
  else
    echo -
  fi
}

# field NAME LINE: the value of NAME=... in a tab-separated SETUP/AGREE line.
field() { tr '\t' '\n' <<<"$2" | sed -n "s/^$1=//p"; }

echo
echo "## Summary ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(rustc --version))"
echo
echo "| users | roles | orgs | roster decide p50 | casbin enforce p50 | casbin / roster | toggle + check | roles reload + check | roster build | casbin build | casbin policies / groupings | agreed (allowed) |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
grep '^SETUP' "$log" | while IFS= read -r setup; do
  label=$(cut -f2 <<<"$setup")
  agree=$(grep -P "^AGREE\t$label\t" "$log" || true)
  ours=$(median "$label" roster_decide)
  theirs=$(median "$label" casbin_enforce)
  toggle=$(median "$label" roster_toggle_visible)
  reload=$(median "$label" roster_roles_reload_visible)
  awk -v u="$(field users "$setup")" -v r="$(field roles "$setup")" -v o="$(field orgs "$setup")" \
    -v ours="$ours" -v theirs="$theirs" -v toggle="$toggle" -v reload="$reload" \
    -v rb="$(field roster_build_ms "$setup")" -v cb="$(field casbin_build_ms "$setup")" \
    -v np="$(field casbin_policies "$setup")" -v ng="$(field casbin_groupings "$setup")" \
    -v nq="$(field queries "$agree")" -v na="$(field allowed "$agree")" '
    function t(ns) {
      if (ns == "-") return "-"
      if (ns < 1e3) return sprintf("%.1f ns", ns)
      if (ns < 1e6) return sprintf("%.1f µs", ns / 1e3)
      return sprintf("%.1f ms", ns / 1e6)
    }
    BEGIN {
      ratio = (ours == "-" || theirs == "-") ? "-" : sprintf("%.0fx", theirs / ours)
      # One toggle iteration is two toggle+check pairs (grant, then revoke).
      pair = (toggle == "-") ? "-" : toggle / 2
      printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s ms | %s ms | %s / %s | %s (%s) |\n", \
        u, r, o, t(ours), t(theirs), ratio, t(pair), t(reload), rb, cb, np, ng, nq, na
    }'
done
echo
echo "Casbin calls timed one by one while checking agreement (members: the timed query mix;"
echo "non-members: a user asking in an org they are not in, which both engines must deny):"
echo
echo "| users | roles | orgs | casbin member p50 | casbin member p95 | casbin non-member p50 (queries) |"
echo "|---|---|---|---|---|---|"
grep '^AGREE' "$log" | while IFS= read -r agree; do
  label=$(cut -f2 <<<"$agree")
  setup=$(grep -P "^SETUP\t$label\t" "$log")
  printf '| %s | %s | %s | %s µs | %s µs | %s µs (%s) |\n' "$(field users "$setup")" "$(field roles "$setup")" \
    "$(field orgs "$setup")" "$(field casbin_call_p50_us "$agree")" "$(field casbin_call_p95_us "$agree")" \
    "$(field casbin_outside_p50_us "$agree")" "$(field outside_queries "$agree")"
done
echo
echo "Full criterion output: $log"
