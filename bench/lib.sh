# Shared by the HTTP benchmarks (bench/auth.sh, bench/signin.sh): installs the Debian tools
# named (if missing), builds the release binary as `make build` does, and sets `bin` and a
# scratch `dir` removed on exit (with the server `pid`, once started).
# shellcheck shell=bash
bench_setup() {
  for tool in "$@"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      echo "[bench] apt-get install $tool"
      SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
      $SUDO apt-get install -y -qq "$tool" >/dev/null
    fi
  done
  # shellcheck source=../scripts/toolchain.sh
  source scripts/toolchain.sh
  release_build
  bin=target/server-release/roster
  dir="$(mktemp -d)"
  pid=""
  trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
}
