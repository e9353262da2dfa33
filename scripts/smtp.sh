#!/usr/bin/env bash
# A throwaway SMTP catcher for the invitation mail tests: Debian's aiosmtpd (python3-aiosmtpd)
# on its own port on 127.0.0.1, storing every message it takes in a Maildir under DIR. No
# system service involved. It fails loudly when it cannot start: a suite without its server
# must fail, never skip.
#   scripts/smtp.sh start DIR   starts it; prints smtp://127.0.0.1:PORT (the Maildir: DIR/maildir)
#   scripts/smtp.sh stop DIR    stops it
set -euo pipefail
cmd="${1:-}"
dir="${2:-}"
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop DIR" >&2
  exit 2
fi
# (Debian's interpreter: the module is Debian's package, whatever python3 is first on PATH)
py=/usr/bin/python3
if ! "$py" -c 'import aiosmtpd' 2>/dev/null; then
  echo "[smtp] no aiosmtpd (scripts/install.sh test installs python3-aiosmtpd)" >&2
  exit 1
fi

case "$cmd" in
  start)
    # (a Maildir's three folders: the handler creates them only for a folder that does not exist)
    mkdir -p "$dir/maildir/tmp" "$dir/maildir/new" "$dir/maildir/cur"
    port="$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    "$py" -m aiosmtpd -n -l "127.0.0.1:$port" -c aiosmtpd.handlers.Mailbox "$dir/maildir" >"$dir/smtp.log" 2>&1 &
    echo $! >"$dir/smtp.pid"
    for _ in $(seq 1 300); do
      if "$py" -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2).close()" 2>/dev/null; then
        echo "smtp://127.0.0.1:$port"
        exit 0
      fi
      if ! kill -0 "$(cat "$dir/smtp.pid")" 2>/dev/null; then
        echo "[smtp] the catcher exited:" >&2
        cat "$dir/smtp.log" >&2 || true
        exit 1
      fi
      sleep 0.1
    done
    echo "[smtp] the catcher did not listen within 30 s" >&2
    exit 1
    ;;
  stop)
    if [ -f "$dir/smtp.pid" ]; then
      kill "$(cat "$dir/smtp.pid")" 2>/dev/null || true
      rm -f "$dir/smtp.pid"
    fi
    ;;
  *)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
