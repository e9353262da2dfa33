#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: Debian's server binaries, a data directory in
# DIR, its own port on 127.0.0.1, settings that trade durability for speed (the data dies with
# the run anyway), and a linguistic default collation (ICU en-US, as on a typical managed
# PostgreSQL), so that the schema's byte-wise `COLLATE "C"` key columns are what keeps sort order
# and page cursors identical to SQLite's, not the cluster's locale. It fails loudly when the cluster cannot start: a suite without its database
# must fail, never skip.
#   scripts/postgres.sh start DIR   starts the cluster; prints its URL (postgres://...) on stdout
#   scripts/postgres.sh stop DIR    stops it (immediately; nothing in it is worth keeping)
#   scripts/postgres.sh up DIR      starts a stopped cluster again (same port, same data)
#   scripts/postgres.sh tls DIR     makes a running cluster accept TLS only: a throwaway CA
#                                   (DIR/ca.crt, printed on stdout) signs a server certificate
#                                   for 127.0.0.1 and localhost; plain connections are refused
# The server refuses to run as root, so as root it runs as the `postgres` user.
set -euo pipefail
cmd="${1:-}"
dir="${2:-}"
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop|up DIR" >&2
  exit 2
fi

pgbin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
if [ -z "$pgbin" ] || [ ! -x "$pgbin/initdb" ]; then
  echo "[postgres] no PostgreSQL server binaries under /usr/lib/postgresql (scripts/install.sh test installs them)" >&2
  exit 1
fi

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

pg_up() {
  if ! as_owner "$pgbin/pg_ctl" -D "$dir/data" -w -t 60 -l "$dir/server.log" start >"$dir/pg_ctl.log" 2>&1; then
    echo "[postgres] the server did not start:" >&2
    cat "$dir/pg_ctl.log" "$dir/server.log" >&2 || true
    exit 1
  fi
}

case "$cmd" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    # A free port now (the kernel's choice); the cluster binds it a moment later.
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    as_owner "$pgbin/initdb" -D "$dir/data" -A trust -U postgres --no-sync -E UTF8 --locale=C.UTF-8 --locale-provider=icu --icu-locale=en-US >"$dir/initdb.log" 2>&1 || {
      echo "[postgres] initdb failed:" >&2
      cat "$dir/initdb.log" >&2
      exit 1
    }
    # Everyone is trusted except `roster_probe`, the role the Test Connection tests give a
    # password to: for it a wrong password must be refused (the first matching line wins).
    { printf 'host all roster_probe 127.0.0.1/32 scram-sha-256\nhost all roster_probe ::1/128 scram-sha-256\n'
      cat "$dir/data/pg_hba.conf"; } >"$dir/data/pg_hba.new" && mv "$dir/data/pg_hba.new" "$dir/data/pg_hba.conf"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir/data/pg_hba.conf"
    # (in the cluster's own configuration, so that `up` starts it again the same way)
    cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 400
shared_buffers = 64MB
CONF
    pg_up
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  up)
    pg_up
    ;;
  tls)
    # openssl comes with Debian's base system (ca-certificates depends on it).
    ( cd "$dir"
      openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Roster test CA" \
        -keyout ca.key -out ca.crt >/dev/null 2>&1
      openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr >/dev/null 2>&1
      printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > server.ext
      openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
        -extfile server.ext -out server.crt >/dev/null 2>&1
      cp server.crt server.key data/
      chmod 600 data/server.key
      [ "$(id -u)" -eq 0 ] && chown postgres data/server.crt data/server.key
      cat >>data/postgresql.conf <<CONF
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
CONF
      # TLS or nothing over TCP (the socket in DIR stays as it was).
      sed -i -E 's/^host(\s)/hostssl\1/' data/pg_hba.conf
      printf 'hostnossl all all 0.0.0.0/0 reject\nhostnossl all all ::/0 reject\n' >> data/pg_hba.conf
    ) || { echo "[postgres] could not make the certificates" >&2; exit 1; }
    as_owner "$pgbin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1
    pg_up
    echo "$dir/ca.crt"
    ;;
  stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_owner "$pgbin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    fi
    ;;
  *)
    echo "usage: $0 start|stop|up DIR" >&2
    exit 2
    ;;
esac
