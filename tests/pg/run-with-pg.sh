#!/usr/bin/env bash
# Runs one command against a private, throw-away PostgreSQL cluster: initdb
# into a temporary directory, start it on a free port of 127.0.0.1 only
# (trust authentication, loopback only), run the command with
# COHORT_TEST_PG_URL naming the cluster, then stop the cluster by its PID
# and remove the directory, whatever the command's outcome. Exits with the
# command's status.
#
# Usage: tests/pg/run-with-pg.sh COMMAND [ARG...]
# COHORT_PG_BINDIR picks the PostgreSQL binaries (default: the newest
# /usr/lib/postgresql/*/bin). initdb refuses to run as root, so as root
# the cluster runs as the Debian "postgres" user.
set -euo pipefail

if [ $# -lt 1 ]; then
	echo "usage: $0 COMMAND [ARG...]" >&2
	exit 2
fi

bindir=${COHORT_PG_BINDIR:-}
if [ -z "$bindir" ]; then
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
			bindir=$d
			break
		fi
	done
fi
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
	echo "run-with-pg: no PostgreSQL server binaries (install the" \
	    "Debian package postgresql)" >&2
	exit 2
fi

dir=$(mktemp -d /tmp/cohort-pg-XXXXXX)
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
	chown postgres: "$dir"
	as_pg=(runuser -u postgres --)
fi
started=0
watchdog=

cleanup() {
	if [ -n "$watchdog" ]; then
		kill "$watchdog" 2>/dev/null || true
	fi
	if [ "$started" = 1 ]; then
		"${as_pg[@]}" "$bindir/pg_ctl" -D "$dir/data" -m fast -w \
		    stop >/dev/null 2>&1 ||
		    echo "run-with-pg: could not stop the cluster in $dir" >&2
	fi
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A port the kernel just handed out; another process may take it before
# the server binds it, so starting is retried with a new one.
free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

"${as_pg[@]}" "$bindir/initdb" -D "$dir/data" -U postgres -A trust \
    -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
	cat "$dir/initdb.log" >&2
	exit 1
}

# Killed outright (a test timeout's SIGKILL), this script runs no trap:
# a watchdog then stops the server once the script's PID is gone.
(
	tail --pid=$$ -f /dev/null
	"${as_pg[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate stop
	rm -rf "$dir"
) </dev/null >/dev/null 2>&1 &
watchdog=$!

port=
for attempt in 1 2 3 4 5; do
	port=$(free_port)
	if "${as_pg[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" \
	    -w -t 60 -o "-c listen_addresses=127.0.0.1 -p $port -k $dir" \
	    start >/dev/null 2>&1; then
		started=1
		break
	fi
	if ! grep -q "could not bind\|Address already in use" \
	    "$dir/server.log" 2>/dev/null; then
		break
	fi
done
if [ "$started" != 1 ]; then
	echo "run-with-pg: the PostgreSQL server did not start:" >&2
	cat "$dir/server.log" >&2 || true
	exit 1
fi

export COHORT_TEST_PG_URL="postgresql://postgres@127.0.0.1:$port/postgres"
rc=0
"$@" || rc=$?
exit "$rc"
