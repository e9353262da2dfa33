#!/usr/bin/env bash
# `make run`: installs what is missing, builds the release site and serves Roster on
# http://127.0.0.1:3000 with an embedded SQLite database under ./data.
# Settings: any ROSTER_* variable (see README), e.g. ROSTER_DATABASE_URL, ROSTER_ADDR.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh run
# shellcheck source=toolchain.sh
source scripts/toolchain.sh
echo "[run] building the release site (first build takes several minutes)"
release_build
export ROSTER_SITE_ROOT="${ROSTER_SITE_ROOT:-target/site}"
export ROSTER_DATABASE_URL="${ROSTER_DATABASE_URL:-sqlite:data/roster.db}"
echo "[run] serving on http://${ROSTER_ADDR:-127.0.0.1:3000} (database: $ROSTER_DATABASE_URL)"
exec target/server-release/roster serve
