#!/usr/bin/env bash
# Runs every libFuzzer target of fuzz/ for a set time on its seed corpus
# (fuzz/corpus/<target>/) and dictionary (fuzz/<target>.dict), two at a
# time. New interesting inputs go to a
# scratch corpus under the build dir (never into the committed seeds);
# a crash leaves its input in BUILD/crashes/ and fails the run: add that
# input to fuzz/corpus/<target>/ as a regression case once it is fixed.
#
# Usage: scripts/fuzz.sh BUILD_DIR SECONDS_EACH [keep]
#   keep: keep the scratch corpus (BUILD/corpus-work/) between runs
set -uo pipefail

build=${1:?build dir}
secs=${2:?seconds per target}
keep=${3:-}
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=${FUZZ_JOBS:-2}
mkdir -p "$build/crashes" "$build/fuzz-logs"

run_one() {
	local name=$1 work dict=()
	work="$build/corpus-work/$name"
	[ -f "$root/fuzz/$name.dict" ] && dict=("-dict=$root/fuzz/$name.dict")
	[ "$keep" = keep ] || rm -rf "$work"
	mkdir -p "$work"
	# -timeout: one input taking over 10 s is a hang, reported as a crash
	"$build/fuzz_$name" -max_total_time="$secs" -timeout=10 \
		-rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
		-artifact_prefix="$build/crashes/$name-" "${dict[@]}" \
		"$work" "$root/fuzz/corpus/$name" \
		>"$build/fuzz-logs/$name.log" 2>&1
	local rc=$?
	local execs
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' \
		"$build/fuzz-logs/$name.log")
	if [ $rc -eq 0 ]; then
		echo "fuzz $name: ok, ${execs:-?} runs in ${secs}s"
	else
		echo "fuzz $name: FAILED (exit $rc); log: $build/fuzz-logs/$name.log"
		grep -E "ERROR|SUMMARY|Test unit written" \
			"$build/fuzz-logs/$name.log" | head -5
	fi
	[ "$keep" = keep ] || rm -rf "$work"
	return $rc
}
export -f run_one
export build secs keep root

targets=$(cd "$root/fuzz/corpus" && ls)
if ! printf '%s\n' $targets | xargs -P "$jobs" -I{} bash -c 'run_one {}'; then
	echo "fuzz: at least one target failed" >&2
	exit 1
fi
