#!/usr/bin/env bash
# make demo: a master and two targets on 127.0.0.1 under a temporary state
# dir, enlisted, running one multiserver job on both; then they keep
# running until Ctrl-C, which stops all three (by PID) and removes the dir.
set -euo pipefail

BUILD=${1:?usage: demo.sh BUILD_DIR}
CTL="$BUILD/cohortctl"
DAEMON="$BUILD/cohortd"
ROOT=$(mktemp -d /tmp/cohort-demo.XXXXXX)
PIDS=()

stop_all() {
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$ROOT"
}
trap 'echo; echo "stopping master and targets"; stop_all; exit 0' INT TERM
trap 'stop_all' EXIT

# wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND until it succeeds.
wait_for() {
	local limit=$1 what=$2
	shift 2
	for ((i = 0; i < limit * 10; i++)); do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	echo "demo: timed out waiting for $what (logs in $ROOT/*.log)" >&2
	tail -n 20 "$ROOT"/*.log >&2 || true
	exit 1
}

echo "== state dir: $ROOT"
"$CTL" master init --state-dir "$ROOT/master" --listen 127.0.0.1:0 >/dev/null
"$DAEMON" -c "$ROOT/master/cohortd.conf" 2>"$ROOT/master.log" &
PIDS+=($!)
wait_for 10 "the master's port" test -s "$ROOT/master/port"
PORT=$(cat "$ROOT/master/port")
ADMIN=(-c "$ROOT/master/admin.conf")
echo "== master on https://127.0.0.1:$PORT"

for t in demo-1 demo-2; do
	token=$("$CTL" "${ADMIN[@]}" target token "$t")
	"$CTL" enlist --state-dir "$ROOT/$t" --name "$t" \
		--master "https://127.0.0.1:$PORT" --token "$token" \
		--poll-interval 10
	"$DAEMON" -c "$ROOT/$t/cohortd.conf" 2>"$ROOT/$t.log" &
	PIDS+=($!)
done

polled() {
	[ "$("$CTL" "${ADMIN[@]}" target list --json |
		grep -c '"last_poll": "')" -eq 2 ]
}
wait_for 20 "both targets to poll" polled

cat >"$ROOT/hello-fleet.json" <<'JSON'
{
  "name": "hello-fleet",
  "description": "say hello from every target",
  "steps": [
    {"name": "greet", "subsystem": "shell",
     "command": "echo \"hello from $COHORT_TARGET on $(uname -n)\""},
    {"name": "clock", "subsystem": "exec", "command": ["/bin/date", "-u"]}
  ],
  "targets": ["demo-1", "demo-2"]
}
JSON
echo "== job apply"
"$CTL" "${ADMIN[@]}" job apply "$ROOT/hello-fleet.json"
echo "== job start"
"$CTL" "${ADMIN[@]}" job start hello-fleet

both_done() {
	[ "$("$CTL" "${ADMIN[@]}" history --job hello-fleet --json |
		grep -c '"outcome": "succeeded"')" -ge 6 ]
}
wait_for 30 "both runs to finish" both_done

echo
echo "== cohortctl target list"
"$CTL" "${ADMIN[@]}" target list
echo
echo "== cohortctl history --job hello-fleet"
"$CTL" "${ADMIN[@]}" history --job hello-fleet
echo
echo "Master and targets keep running. Try:"
echo "  $CTL -c $ROOT/master/admin.conf target list"
echo "  $CTL -c $ROOT/master/admin.conf job start hello-fleet"
echo "  $CTL -c $ROOT/master/admin.conf history --job hello-fleet"
echo "  $CTL -c $ROOT/master/admin.conf downloadlist"
echo "  $CTL -c $ROOT/master/admin.conf job why hello-fleet"
# A person's certificate for the browser, as PKCS#12.
"$CTL" "${ADMIN[@]}" cert issue --role operator demo-browser \
	--out "$ROOT/browser" --p12 >/dev/null
echo
echo "Dashboard: https://127.0.0.1:$PORT/ui/"
echo "  import $ROOT/browser/browser.p12 (no password) as your certificate"
echo "  and trust $ROOT/master/tls/ca.crt as an authority"
echo "Logs: $ROOT/*.log. Press Ctrl-C to stop all three."
while true; do
	sleep 3600 &
	wait $! || true
done
