#!/usr/bin/env bash
# Installs the Debian packages a make target needs, or, when not root, prints
# the exact apt-get command and fails.
# Usage: scripts/deps.sh build|build-tests|test|bench
set -euo pipefail

build_pkgs="cmake make gcc pkg-config libssl-dev libevent-dev
	libcurl4-openssl-dev libsqlite3-dev libpq-dev libjansson-dev openssl"
unit_pkgs="$build_pkgs libcmocka-dev"
test_pkgs="$build_pkgs libcmocka-dev python3 python3-pytest sqlite3 procps
	iproute2 curl postgresql valgrind clang-14 libclang-rt-14-dev chromium"
bench_pkgs="$test_pkgs nginx postgresql pgagent slurm-wlm munge"

set_name=${1:-build}
case "$set_name" in
build) want=$build_pkgs ;;
build-tests) want=$unit_pkgs ;;
test) want=$test_pkgs ;;
bench) want=$bench_pkgs ;;
*) echo "deps.sh: unknown set '$1' (build, build-tests, test or bench)" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
# The dashboard's browser test drives Chromium with playwright-core from
# npm: Node.js 18 or later, Debian's or one already on the machine.
case "$set_name" in test | bench) browser=yes ;; *) browser=no ;; esac
if [ "$browser" = yes ]; then
	node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null ||
		echo 0)
	[ "$node_major" -ge 18 ] || missing="$missing nodejs"
	command -v npm >/dev/null || missing="$missing npm"
fi

# playwright-core at the version package-lock.json pins, never a browser.
browser_modules() {
	[ "$browser" = yes ] || return 0
	local dir want have major
	major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null ||
		echo 0)
	if [ "$major" -lt 18 ]; then
		echo "deps.sh: the browser test needs Node.js 18 or later" \
			"(found: $(node --version 2>/dev/null || echo none))" >&2
		exit 1
	fi
	dir="$(cd "$(dirname "$0")/../tests/browser" && pwd)"
	want=$(node -p "require('$dir/package-lock.json')
		.packages['node_modules/playwright-core'].version")
	have=$(node -p "require('$dir/node_modules/playwright-core/package.json')
		.version" 2>/dev/null || true)
	[ "$want" = "$have" ] && return 0
	echo "deps.sh: npm ci in tests/browser (playwright-core $want)"
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix "$dir" \
		--no-audit --no-fund --loglevel=error
}

if [ -z "$missing" ]; then
	browser_modules
	exit 0
fi

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
browser_modules
