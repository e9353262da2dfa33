#!/usr/bin/env bash
# nginx protecting a small static site with Roster's forward authentication (auth_request),
# for the protect_a_tool_behind_a_proxy story. Started by playwright.config.ts as one web
# server; its URL is the site's /healthz. Our own nginx: own configuration, prefix, pid file,
# logs and temp folders under STATE_DIR, in the foreground.
#   end2end/forward_auth.sh STATE_DIR SITE_PORT ROSTER_PORT
# The site is http://localhost:SITE_PORT and Roster http://localhost:ROSTER_PORT: one host,
# so Roster's session cookie reaches the site's proxy (cookies ignore ports); across
# subdomains Roster's --cookie-domain does that.
set -euo pipefail
state="${1:?usage: forward_auth.sh STATE_DIR SITE_PORT ROSTER_PORT}"
port="${2:?}"
roster_port="${3:?}"
fail() { echo "[forward-auth] $*" >&2; exit 1; }
command -v nginx >/dev/null || fail "nginx is not installed (scripts/install.sh test installs the Debian package)"

rm -rf "$state"
mkdir -p "$state/nginx/logs" "$state/nginx/tmp" "$state/site"
# The tool: a page that shows who the proxy let through (SSI echoes the headers Roster set).
cat >"$state/site/index.html" <<'HTML'
<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Reports</title></head>
<body><h1>Reports</h1><p id="who">Signed in as <!--# echo var="roster_user" --> (<!--# echo var="roster_role" --> in <!--# echo var="roster_org" -->)</p>
<p id="abilities"><!--# echo var="roster_abilities" --></p></body></html>
HTML
cat >"$state/site/forbidden.html" <<'HTML'
<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Not allowed</title></head>
<body><h1>You may not open Reports</h1><p>Ask an administrator of your organization for the use-adminer ability.</p></body></html>
HTML
echo ok >"$state/site/healthz"

cat >"$state/nginx/nginx.conf" <<CONF
worker_processes 1;
pid $state/nginx/nginx.pid;
error_log $state/nginx/logs/error.log warn;
events { worker_connections 256; }
http {
  access_log $state/nginx/logs/access.log;
  client_body_temp_path $state/nginx/tmp/body;
  proxy_temp_path $state/nginx/tmp/proxy;
  fastcgi_temp_path $state/nginx/tmp/fastcgi;
  uwsgi_temp_path $state/nginx/tmp/uwsgi;
  scgi_temp_path $state/nginx/tmp/scgi;
  server {
    listen 127.0.0.1:$port;
    server_name localhost;
    root $state/site;
    location = /healthz { }
    location = /forbidden.html { internal; }

    # The check: Roster decides from the browser's session whether it may through.
    location = /_roster {
      internal;
      proxy_pass http://127.0.0.1:$roster_port/auth/forward?org=Default&ability=use-adminer;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Forwarded-Proto \$scheme;
      proxy_set_header X-Forwarded-Host \$http_host;
      proxy_set_header X-Forwarded-Uri \$request_uri;
    }
    location @sign_in {
      return 302 http://localhost:$roster_port/auth/forward/start?rd=\$scheme://\$http_host\$request_uri;
    }
    location / {
      auth_request /_roster;
      auth_request_set \$roster_user \$upstream_http_x_roster_user;
      auth_request_set \$roster_role \$upstream_http_x_roster_role;
      auth_request_set \$roster_org \$upstream_http_x_roster_org;
      auth_request_set \$roster_abilities \$upstream_http_x_roster_abilities;
      error_page 401 = @sign_in;
      error_page 403 /forbidden.html;
      ssi on;
    }
  }
}
CONF
nginx -t -q -p "$state/nginx" -e "$state/nginx/logs/error.log" -c "$state/nginx/nginx.conf" \
  || { cat "$state/nginx/logs/error.log" >&2; fail "nginx refused the configuration"; }
echo "[forward-auth] nginx on http://localhost:$port protecting $state/site with Roster on localhost:$roster_port"
exec nginx -p "$state/nginx" -e "$state/nginx/logs/error.log" -c "$state/nginx/nginx.conf" -g 'daemon off;'
