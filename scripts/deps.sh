#!/usr/bin/env bash
# Installs the Debian packages a make target needs, or, when not root, prints
# the exact apt-get command and fails. Usage: scripts/deps.sh build|test|bench
set -euo pipefail

build_pkgs="cmake make gcc pkg-config libssl-dev libevent-dev
	libcurl4-openssl-dev libsqlite3-dev libpq-dev libjansson-dev openssl"
test_pkgs="$build_pkgs libcmocka-dev python3 python3-pytest sqlite3 procps
	iproute2 curl postgresql valgrind clang-14 libclang-rt-14-dev"
bench_pkgs="$test_pkgs nginx postgresql pgagent slurm-wlm munge"

case "${1:-build}" in
build) want=$build_pkgs ;;
test) want=$test_pkgs ;;
bench) want=$bench_pkgs ;;
*) echo "deps.sh: unknown set '$1' (build, test or bench)" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "cohort needs these Debian packages:$missing" >&2
	echo "run: sudo apt-get install -y$missing" >&2
	exit 1
fi
echo "deps.sh: installing$missing"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q --no-install-recommends $missing; then
	apt-get update -q
	apt-get install -y -q --no-install-recommends $missing
fi
