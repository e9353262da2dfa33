#!/usr/bin/env bash
# A throwaway MariaDB server for the Test Connection tests: Debian's mariadb-server binaries, a
# data directory in DIR, its own port on 127.0.0.1, no system service involved. It creates a
# database `probe_db` and an account `roster_probe` (password `probe password 1`) that may use
# it. It fails loudly when the server cannot start: a suite without its server must fail,
# never skip.
#   scripts/mariadb.sh start DIR   starts it; prints mysql://roster_probe:...@127.0.0.1:PORT/probe_db
#   scripts/mariadb.sh stop DIR    stops it
# The server refuses to run as root, so as root it runs as the `mysql` user.
set -euo pipefail
cmd="${1:-}"
dir="${2:-}"
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop DIR" >&2
  exit 2
fi

if [ ! -x /usr/sbin/mariadbd ] || ! command -v mariadb-install-db >/dev/null 2>&1; then
  echo "[mariadb] no MariaDB server binaries (scripts/install.sh test installs mariadb-server)" >&2
  exit 1
fi

owner=()
if [ "$(id -u)" -eq 0 ]; then
  owner=(--user=mysql)
fi

case "$cmd" in
  start)
    mkdir -p "$dir/data"
    [ "$(id -u)" -eq 0 ] && chown -R mysql "$dir"
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    mariadb-install-db --no-defaults "${owner[@]}" --datadir="$dir/data" --auth-root-authentication-method=normal \
      --skip-test-db >"$dir/install.log" 2>&1 || {
      echo "[mariadb] mariadb-install-db failed:" >&2
      cat "$dir/install.log" >&2
      exit 1
    }
    # Durability traded for speed: the data dies with the run.
    /usr/sbin/mariadbd --no-defaults "${owner[@]}" --datadir="$dir/data" --socket="$dir/mysqld.sock" \
      --port="$port" --bind-address=127.0.0.1 --pid-file="$dir/mysqld.pid" --log-error="$dir/error.log" \
      --skip-name-resolve --innodb-flush-log-at-trx-commit=0 --innodb-buffer-pool-size=32M \
      --performance-schema=off >/dev/null 2>&1 &
    for _ in $(seq 1 600); do
      if mariadb-admin --no-defaults --socket="$dir/mysqld.sock" -uroot ping >/dev/null 2>&1; then
        break
      fi
      if ! kill -0 $! 2>/dev/null; then
        echo "[mariadb] the server exited:" >&2
        cat "$dir/error.log" >&2 || true
        exit 1
      fi
      sleep 0.1
    done
    mariadb --no-defaults --socket="$dir/mysqld.sock" -uroot <<'SQL' || { cat "$dir/error.log" >&2; exit 1; }
CREATE DATABASE probe_db;
CREATE USER 'roster_probe'@'%' IDENTIFIED BY 'probe password 1';
-- (on every database, so that an unknown one is answered as unknown, not as access denied)
GRANT ALL ON *.* TO 'roster_probe'@'%';
SQL
    echo "mysql://roster_probe:probe%20password%201@127.0.0.1:$port/probe_db"
    ;;
  stop)
    if [ -f "$dir/mysqld.pid" ]; then
      pid="$(cat "$dir/mysqld.pid")"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 300); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      kill -9 "$pid" 2>/dev/null || true
    fi
    ;;
  *)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
