#!/bin/sh
# tests/sim/pg-own.sh [agcod-sim options]: agcod-sim --store postgresql on
# a PostgreSQL 15 server of its own (initdb in a temporary directory, a
# unix socket only), whose failover fault restarts the server
# (SIM_PG_RESTART: pg_ctl restart -m immediate, a crash and its recovery)
# instead of terminating its sessions.  The server is stopped and removed
# at the end.  As root it runs as the user postgres.
set -u
SIM=${SIM:-build/sim/agcod-sim}
BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
d=$(mktemp -d /tmp/agcod-sim-pg.XXXXXX) || exit 1
if [ "$(id -u)" -eq 0 ]; then
	chown postgres "$d"
	AS="runuser -u postgres --"
else
	AS=
fi
cleanup() {
	$AS "$BIN/pg_ctl" -D "$d/data" -m immediate -w stop >/dev/null 2>&1
	rm -rf "$d"
}
trap cleanup EXIT INT TERM
$AS "$BIN/initdb" -D "$d/data" -U agcod_admin --auth=trust -E UTF8 \
    >"$d/initdb.log" 2>&1 || { cat "$d/initdb.log"; exit 1; }
$AS "$BIN/pg_ctl" -D "$d/data" -l "$d/log" -w -o "-k $d -c \
listen_addresses='' -c fsync=off -c max_connections=50" start >/dev/null ||
    { cat "$d/log"; exit 1; }
AGCOD_TEST_PG="postgresql:///postgres?host=$d&user=agcod_admin" \
SIM_PG_RESTART="$AS $BIN/pg_ctl -D $d/data -l $d/log -m immediate -w \
restart >/dev/null" \
    "$SIM" --store postgresql "$@"
