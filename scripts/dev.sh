#!/usr/bin/env bash
# Development mode: rebuilds and reloads on every change (cargo leptos watch).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh run
# shellcheck source=toolchain.sh
source scripts/toolchain.sh
export ROSTER_DATABASE_URL="${ROSTER_DATABASE_URL:-sqlite:data/dev.db}"
exec cargo leptos watch "${LEPTOS_LIB_ARGS[@]}" -- serve
