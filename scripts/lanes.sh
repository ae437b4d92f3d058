#!/usr/bin/env bash
# Runs test passes side by side, each in its own lane, so that make check
# keeps within its time on two cores: the system tests mostly wait on
# timers and sockets (about 0.6 of a core each), so two lanes fill the
# machine without starving either.
#
# Each lane's output goes to a log that is printed, whole, once every
# lane has ended, in the order given; a lane that failed is named last.
# The exit status is 1 when any lane failed.
#
# Usage: scripts/lanes.sh LOGDIR NAME 'COMMAND' [NAME 'COMMAND' ...]
set -uo pipefail

logdir=${1:?log dir}
shift
if [ $# -eq 0 ] || [ $(($# % 2)) -ne 0 ]; then
	echo "lanes.sh: give NAME COMMAND pairs" >&2
	exit 2
fi
mkdir -p "$logdir"
# Job control puts each lane in its own process group: a lane does not
# ignore SIGINT (as a background job of a script would), and a Ctrl-C or
# a kill of make is passed on to every process of every lane, so that
# pytest stops the daemons it started.
set -m

names=()
pids=()
while [ $# -gt 0 ]; do
	name=$1 cmd=$2
	shift 2
	# stdin from /dev/null: a background job that read the terminal
	# would be stopped (SIGTTIN) and hang the run
	bash -c "$cmd" </dev/null >"$logdir/$name.log" 2>&1 &
	names+=("$name")
	pids+=($!)
	echo "== lane $name started (pid $!, log $logdir/$name.log)"
done

stop_lanes() {
	for pid in "${pids[@]}"; do
		kill -INT -- "-$pid" 2>/dev/null
	done
}
trap stop_lanes INT TERM

# A line a minute while the lanes run (their logs are printed at the
# end): CI services that end a job silent for ten minutes see progress.
(
	while sleep 60; do
		for i in "${!names[@]}"; do
			kill -0 "${pids[$i]}" 2>/dev/null || continue
			echo "== lane ${names[$i]} running: $(tail -c 200 \
				"$logdir/${names[$i]}.log" | tr -s '\n' ' ' |
				tail -c 100)"
		done
	done
) </dev/null &
heartbeat=$!

failed=()
# The exit status of lane pid into rc. A trapped signal ends wait early,
# and wait returns for a lane that was stopped: wait again while it
# lives, waking a stopped one (its process group) first.
wait_lane() {
	local pid=$1 state
	while wait "$pid"; rc=$?; kill -0 "$pid" 2>/dev/null; do
		state=$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)
		[ "$state" = T ] && kill -CONT -- "-$pid" 2>/dev/null
	done
}

for i in "${!pids[@]}"; do
	wait_lane "${pids[$i]}"
	[ "$rc" -eq 0 ] || failed+=("${names[$i]}")
done
kill -- "-$heartbeat" 2>/dev/null
wait "$heartbeat" 2>/dev/null
for name in "${names[@]}"; do
	echo "== lane $name"
	cat "$logdir/$name.log"
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "lanes failed: ${failed[*]}" >&2
	exit 1
fi
echo "== lanes passed: ${names[*]}"
