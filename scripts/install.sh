#!/usr/bin/env bash
# Installs what the build (and, with `test`, the test suite) needs and is missing. Idempotent:
# every step checks first, so a second run installs nothing. Prints what it installs.
#   scripts/install.sh run    toolchain, cargo-leptos, wasm-bindgen-cli, wasm-opt (binaryen)
#   scripts/install.sh test   the same, plus Chromium, oathtool, PostgreSQL, nginx and the Playwright packages
set -euo pipefail
mode="${1:-run}"
# shellcheck source=toolchain.sh
source "$(dirname "${BASH_SOURCE[0]}")/toolchain.sh"
cd "$roster_root"

say() { printf '\033[1m[install]\033[0m %s\n' "$*"; }

apt_missing=()
need_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed" || apt_missing+=("$1"); }

if command -v dpkg-query >/dev/null 2>&1; then
  need_pkg pkg-config
  need_pkg libssl-dev
  if [ "$ROSTER_TOOLCHAIN" = "debian" ]; then
    for p in rustc-web cargo-web rust-web-src lld-22; do need_pkg "$p"; done
  fi
  if [ "$mode" = "test" ]; then
    need_pkg chromium
    need_pkg oathtool
    # the throwaway PostgreSQL cluster of the tests (scripts/postgres.sh; pg_trgm ships with it)
    need_pkg postgresql
    # the proxy story (end2end/proxy.sh): nginx in front of two instances, run as our own process
    # with its own configuration (a system nginx service the package may start is never used)
    need_pkg nginx
    need_pkg curl
    # hashes made by other systems' own tools, for the legacy password tests: mkpasswd
    # (sha512-crypt), htpasswd (bcrypt), openssl passwd (sha512-crypt)
    need_pkg whois
    need_pkg apache2-utils
    need_pkg openssl
    # the database server Test Connection is tested against beside PostgreSQL (scripts/mariadb.sh
    # runs its own throwaway server; the package's system service is never used)
    need_pkg mariadb-server
    # the SCIM compliance checker's virtual environment (scripts/scim_check.sh)
    need_pkg python3-venv
    # the SMTP catcher invitation mails go to (scripts/smtp.sh)
    need_pkg python3-aiosmtpd
  fi
  if [ ${#apt_missing[@]} -gt 0 ]; then
    say "apt-get install ${apt_missing[*]}"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${apt_missing[@]}" >/dev/null
  fi
elif [ "$ROSTER_TOOLCHAIN" = "debian" ]; then
  echo "No wasm32 target in rustup and no apt-get: run 'rustup target add wasm32-unknown-unknown'." >&2
  exit 1
fi

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  say "apt-get install nodejs npm"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi

# Release-profile overrides make `cargo install` several times faster on small machines.
cargo_install() {
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 cargo install "$@"
}

if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
  say "cargo install cargo-leptos $CARGO_LEPTOS_VERSION (feature no_downloads; takes a while)"
  cargo_install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --features no_downloads
fi

wb="$(wasm_bindgen_version)"
if ! wasm-bindgen --version 2>/dev/null | grep -q " $wb\$"; then
  say "cargo install wasm-bindgen-cli $wb (must match Cargo.lock)"
  cargo_install wasm-bindgen-cli --version "$wb" --force
fi

# npm packages: wasm-opt for release builds (Debian's binaryen is too old for current rustc).
if [ ! -x tools/node_modules/.bin/wasm-opt ]; then
  say "npm ci in tools/ (binaryen: wasm-opt)"
  (cd tools && npm ci --no-audit --no-fund --loglevel=error)
fi

# (openid-client: the certified relying party of the OpenID provider story; a machine that ran
# `npm ci` before it was added gets it too)
if [ "$mode" = "test" ] && { [ ! -d end2end/node_modules/@playwright/test ] || [ ! -d end2end/node_modules/openid-client ]; }; then
  say "npm ci in end2end/ (Playwright test runner; uses Debian's Chromium, no browser download)"
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi

# The SCIM compliance checker (PyPI scim2-tester, pinned, with the client it drives) in a virtual
# environment of its own under target/, made by Debian's python3. The pins are written beside it:
# a venv made for other pins is made again.
scim_pins="scim2-tester==0.5.2 scim2-client[httpx2]==0.13.2"
scim_venv="$roster_root/target/scim-venv"
if [ "$mode" = "test" ] && [ "$(cat "$scim_venv/.roster-pins" 2>/dev/null)" != "$scim_pins" ]; then
  say "python3 -m venv target/scim-venv; pip install $scim_pins"
  rm -rf "$scim_venv"
  py=/usr/bin/python3; [ -x "$py" ] || py=python3
  "$py" -m venv "$scim_venv"
  # shellcheck disable=SC2086
  "$scim_venv/bin/pip" install -q --disable-pip-version-check $scim_pins
  echo "$scim_pins" >"$scim_venv/.roster-pins"
fi
exit 0
