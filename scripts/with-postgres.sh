#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL server bound to 127.0.0.1 only.
# Usage: scripts/with-postgres.sh COMMAND [ARGS...]
# Exports BEATDESK_DATABASE_URL for the command; stops and deletes the server after.
# If BEATDESK_DATABASE_URL already points at PostgreSQL, runs the command as it is.
set -euo pipefail

if [[ "${BEATDESK_DATABASE_URL:-}" == postgres* ]]; then
  exec "$@"
fi

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [[ -z "$bindir" ]]; then
  echo "PostgreSQL server binaries not found: run 'make bootstrap' (apt-get install postgresql)" >&2
  exit 3
fi
datadir=$(mktemp -d /tmp/beatdesk-pg.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
run_as=()
if [[ $(id -u) -eq 0 ]]; then
  chown postgres:postgres "$datadir"
  run_as=(runuser -u postgres --)
fi
cleanup() {
  "${run_as[@]}" "$bindir/pg_ctl" -D "$datadir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$datadir"
}
trap cleanup EXIT
"${run_as[@]}" "$bindir/initdb" -D "$datadir/data" -U beatdesk --auth=trust -E UTF8 >/dev/null
"${run_as[@]}" "$bindir/pg_ctl" -D "$datadir/data" -w -l "$datadir/log" \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $datadir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  start >/dev/null
export BEATDESK_DATABASE_URL="postgres://beatdesk@127.0.0.1:$port/postgres"
"$@"
