#!/usr/bin/env bash
# The benchmark run of `make bench`: cohort and its peers (nginx, pgAgent,
# Slurm) measured in one run on this machine; prints a table and writes
# bench/results/latest.json. Everything binds to 127.0.0.1 and lives in a
# temp dir removed at the end; every process the run starts is recorded by
# PID (with its start time, so a reused PID is never hit) and stopped here
# on exit, however the run ends.
#
# usage: bench/run.sh BUILD_DIR quick|full
set -euo pipefail

build=${1:?usage: bench/run.sh BUILD_DIR quick|full}
mode=${2:-full}
here=$(cd "$(dirname "$0")" && pwd)
case "$mode" in
quick | full) ;;
*) echo "run.sh: mode must be quick or full, not '$mode'" >&2; exit 2 ;;
esac
for b in cohortd cohortctl fleet; do
	if [ ! -x "$build/$b" ]; then
		echo "run.sh: $build/$b is missing: run make first" >&2
		exit 2
	fi
done

# 10,000 virtual targets hold 10,000 connections in one process and the
# master as many: lift the descriptor limit for everything started here.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

BENCH_TMP=$(mktemp -d /tmp/cohort-bench.XXXXXX)
# The private PostgreSQL runs as the postgres user and must reach its dir.
chmod 711 "$BENCH_TMP"
export BENCH_TMP

# start_time PID: field 22 of /proc/PID/stat (after the ")" of the name).
start_time() {
	local stat rest
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	rest=${stat##*) }
	set -- $rest
	echo "${20}"
}

# Signals every recorded process that is still the one recorded.
signal_all() {
	local pid start
	[ -f "$BENCH_TMP/pids" ] || return 0
	while read -r pid start; do
		if [ "$(start_time "$pid" || true)" = "$start" ]; then
			kill "-$1" "$pid" 2>/dev/null || true
		fi
	done <"$BENCH_TMP/pids"
}

cleanup() {
	local rc=$?
	signal_all TERM
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		alive=0
		while read -r pid start; do
			[ "$(start_time "$pid" || true)" = "$start" ] && alive=1
		done <"$BENCH_TMP/pids" 2>/dev/null || true
		[ "$alive" = 0 ] && break
		sleep 0.3
	done
	signal_all KILL
	rm -rf "$BENCH_TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cd "$here"
/usr/bin/python3 "$here/bench.py" "$build" "$mode" "$here/results"
