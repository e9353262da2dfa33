#!/usr/bin/env bash
# Roster's OpenID provider and forward authentication under load, with wrk on loopback (2
# threads, 32 connections), one server, side by side in one run:
#   (a) the token endpoint rotating refresh tokens (bench/refresh.lua: every answer's new
#       refresh token is the next request's; a token sent twice would revoke its sign-in, so
#       the script counts the answers that were not 200: they must be 0);
#   (b) introspection of an access token (client_secret_basic);
#   (c) userinfo with that access token (Authorization: Bearer);
#   (d) forward authentication (GET /auth/forward) against the check API (GET /api/v1/check),
#       both with the member's session cookie, twice each, alternating.
# The tokens come from the authorization code flow with PKCE, driven by curl: a member signs
# in (POST /rpc/sign_in), asks /oauth/authorize for a code (no consent page: the application is
# registered with --no-consent), and the "tool" exchanges it at /oauth/token.
# Installs wrk, curl and jq (Debian) if missing.
# Usage: bench/provider.sh [seconds]   (release binary; figures go into docs/benchmarks.md by hand)
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-15}"
# shellcheck source=lib.sh
source bench/lib.sh
bench_setup wrk curl jq
export ROSTER_DATABASE_URL="sqlite:$dir/bench.db" ROSTER_LOG=warn
threads=2 conns=32
port=3970
base="http://127.0.0.1:$port"
redirect="http://127.0.0.1:3971/cb"   # (nothing listens there: the 303 is read, not followed)
pw="quiet bench passphrase number one"
"$bin" user create -r Admin -u root -e root@example.com -f Root -l Bench -p "$pw" >/dev/null
"$bin" user create -r Member --org Default -u ann -e ann@example.com -f Ann -l Bench -p "$pw" >/dev/null
client=bench-tool
secret="$("$bin" client create "$client" --name "Bench tool" --redirect-uri "$redirect" --org Default \
  --scope profile,email,roster,offline_access --no-consent)"
basic="$(printf '%s:%s' "$client" "$secret" | base64 -w0)"
"$bin" serve --addr "127.0.0.1:$port" --public-url "$base" --site-root "$dir" & pid=$!
for _ in $(seq 50); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.1; done
cookie="$(curl -s -D - -o /dev/null -H "Origin: $base" -H 'Sec-Fetch-Site: same-origin' \
  --data-urlencode login=ann --data-urlencode "password=$pw" "$base/rpc/sign_in" \
  | sed -n 's/^[Ss]et-[Cc]ookie: \(roster_session=[^;]*\).*/\1/p')"
[ -n "$cookie" ] || { echo "sign-in failed" >&2; exit 1; }

# One sign-in of the tool's: a code (PKCE S256, RFC 7636's example verifier), exchanged for
# tokens; prints the token endpoint's JSON answer.
verifier="dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
challenge="$(printf '%s' "$verifier" | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d '=')"
authorize="$base/oauth/authorize?response_type=code&client_id=$client&redirect_uri=$(jq -rn --arg u "$redirect" '$u|@uri')"
authorize+="&scope=openid%20profile%20email%20roster%20offline_access&state=bench&code_challenge=$challenge&code_challenge_method=S256"
sign_in_tool() {
  local to code
  to="$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -H "Cookie: $cookie" "$authorize")"
  case "$to" in
    "303 $redirect?code="*) ;;
    *) echo "authorize answered: $to" >&2; return 1 ;;
  esac
  code="${to#*code=}"; code="${code%%&*}"
  curl -fs -u "$client:$secret" -d grant_type=authorization_code --data-urlencode "code=$code" \
    --data-urlencode "redirect_uri=$redirect" --data-urlencode "code_verifier=$verifier" "$base/oauth/token"
}

# (a) one refresh token per connection, and one more for the request wrk sends to check the script
: >"$dir/refresh_tokens"
for _ in $(seq $((conns + 1))); do
  sign_in_tool | jq -er .refresh_token >>"$dir/refresh_tokens"
done
# (b, c) the access token of a sign-in of its own (its refresh token is left alone)
access="$(sign_in_tool | jq -er .access_token)"
curl -fs -u "$client:$secret" -d "token=$access" "$base/oauth/introspect" | jq -e '.active == true' >/dev/null
curl -fs -H "Authorization: Bearer $access" "$base/oauth/userinfo" | jq -e '.preferred_username == "ann"' >/dev/null
# (d) the member holds run-backups in Default (role Member): both answer 200
forward="$base/auth/forward?org=Default&ability=run-backups"
check="$base/api/v1/check?user=ann&org=Default&ability=run-backups"
curl -fs -o /dev/null -H "Cookie: $cookie" "$forward"
curl -fs -H "Cookie: $cookie" "$check" | jq -e '.allowed == true' >/dev/null

run() { wrk -t"$threads" -c"$conns" -d"${secs}s" --latency "$@"; }
echo "== (a) token endpoint: grant_type=refresh_token, rotated ($((conns + 1)) chains)"
run -s bench/refresh.lua -H "Authorization: Basic $basic" "$base/oauth/token" -- "$dir/refresh_tokens" "$threads"
echo "== (b) introspection (POST /oauth/introspect, client_secret_basic)"
run -s bench/post.lua -H "Authorization: Basic $basic" "$base/oauth/introspect" -- "token=$access"
echo "== (c) userinfo (GET /oauth/userinfo, Authorization: Bearer)"
run -H "Authorization: Bearer $access" "$base/oauth/userinfo"
for round in 1 2; do
  echo "== (d) forward authentication (GET /auth/forward, session cookie), round $round"
  run -H "Cookie: $cookie" "$forward"
  echo "== (d) check API (GET /api/v1/check, session cookie), round $round"
  run -H "Cookie: $cookie" "$check"
done
# Still signed in, and the tokens still valid: nothing above was refused or revoked.
curl -fs -H "Authorization: Bearer $access" "$base/oauth/userinfo" >/dev/null && echo "== access token still valid"
