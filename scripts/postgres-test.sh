#!/usr/bin/env bash
# A real PostgreSQL for the Postgres suite, from Debian's packages: installed if missing, a fresh cluster in a temp
# directory on a loopback port (no systemd), a database and a password user (Hyperdrive's local connection string
# needs one), stopped when the command exits.
#
#   scripts/postgres-test.sh <command...>   runs the command with SWITCHYARD_PG_URL set, then stops Postgres
#   . scripts/postgres-test.sh              (sourced) starts it and exports SWITCHYARD_PG_URL; stops at shell exit
#
# Runs as root (it drops to the postgres user for the server) or as any user who owns the binaries.
set -euo pipefail

PG_PORT="${PG_PORT:-55432}"
PG_DB="${PG_DB:-switchyard}"
PG_USER="${PG_USER:-switchyard}"
PG_PASSWORD="${PG_PASSWORD:-switchyard}"

pg_bin() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
  [ -n "$dir" ] && echo "$dir"
}

if [ -z "$(pg_bin)" ]; then
  echo "== installing PostgreSQL (Debian's postgresql package)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
BIN="$(pg_bin)"
[ -x "$BIN/initdb" ] || { echo "postgres-test: no initdb under /usr/lib/postgresql" >&2; exit 1; }

PG_DIR="$(mktemp -d /tmp/switchyard-pg.XXXXXX)"
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
[ "$(id -u)" = 0 ] && chown postgres "$PG_DIR"

as_pg "$BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 >"$PG_DIR/initdb.log" 2>&1 \
  || { cat "$PG_DIR/initdb.log" >&2; exit 1; }
as_pg "$BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR -c fsync=off" start >/dev/null \
  || { cat "$PG_DIR/server.log" >&2; exit 1; }

pg_stop() {
  as_pg "$BIN/pg_ctl" -D "$PG_DIR/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
}
trap pg_stop EXIT

as_pg "$BIN/psql" -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres \
  -c "CREATE ROLE $PG_USER LOGIN PASSWORD '$PG_PASSWORD'" \
  -c "CREATE DATABASE $PG_DB OWNER $PG_USER"

export SWITCHYARD_PG_URL="postgres://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DB"
echo "postgres-test: PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') at $SWITCHYARD_PG_URL"

if [ "${BASH_SOURCE[0]}" = "$0" ] && [ "$#" -gt 0 ]; then
  status=0
  "$@" || status=$?
  exit "$status"
fi
