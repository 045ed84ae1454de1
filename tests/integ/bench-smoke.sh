#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench-smoke.sh - the benchmarks still run: tests/bench/run --quick (smoke
# sizes, on the test build; its numbers mean nothing here) must finish
# without errors and print every section's table.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
out=$(mktemp /tmp/roost-bench.XXXXXX)
log=$(mktemp /tmp/roost-bench-log.XXXXXX)
trap 'rm -f "$out" "$log"' EXIT
n=0
pass() { n=$((n + 1)); echo "ok $n - $1"; }
fail() {
	n=$((n + 1))
	echo "not ok $n - $1"
	shift
	[ $# -gt 0 ] && sed 's/^/#   /' "$@"
}

t0=$(date +%s)
if "$top_srcdir/tests/bench/run" --quick --out "$out" >"$log" 2>&1; then
	pass "tests/bench/run --quick finishes without errors ($(($(date +%s) - t0)) s)"
else
	fail "tests/bench/run --quick finishes without errors" "$log"
fi

# section TITLE ROW_REGEX: the section's heading and, under it (before the
# next heading), a table row with numbers, both in the file and on stdout.
under() { awk -v h="## $1" '$0 == h {on = 1; print; next} /^## / {on = 0} on' "$2"; }
section() {
	if under "$1" "$out" | grep -q . && under "$1" "$out" | grep -Eq "$2" &&
		under "$1" "$log" | grep -q . && under "$1" "$log" | grep -Eq "$2"; then
		pass "bench: '$1' table printed and written"
	else
		fail "bench: '$1' table printed and written (row /$2/)" "$out"
	fi
}
section "CNI latency" '^\| ADD \| [0-9.]+ ms .*\| [0-9.]+ \|$'
section "CNI latency" '^\| DEL \| [0-9.]+ ms .*\| [0-9.]+ \|$'
section "CNI latency, dual-stack" '^\| ADD \| [0-9.]+ ms .*\| [0-9.]+ \| [0-9.]+ \|$'
section "CNI latency, dual-stack" '^\| DEL \| [0-9.]+ ms .*\| [0-9.]+ \| [0-9.]+ \|$'
section "Pod churn" '^\| 1 \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \|$'
section "Data plane" '^\| \*\*roost\*\*: pod → pod .*\| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \|'
section "Data plane" '^\| roost / VXLAN \| [0-9.]+ \| [0-9.]+ \|$'
section "Data plane, IPv6" '^\| \*\*roost\*\*: pod → pod .* over IPv6 .*\| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \|'
section "Data plane, IPv6" '^\| roost / hand-built IPv6 routed \+ the same masquerade rule \| [0-9.]+ \| [0-9.]+ \|$'
section "Egress masquerade" '^\| pod → outside: masquerade / no masquerade \| [0-9.]+ \| [0-9.]+ \|'
section "Convergence" '^\| mesh, 3 \| [0-9.]+ \| [0-9.]+ \|'
section "Footprint" '^\| RSS with [0-9]+ pods \(MiB, 3 samples\) \| [0-9.]+'
section "Scale" '^Not run \(--quick\)\.$'
section "Configuration apply" '^\| unchanged file \| [0-9.]+ '
section "etcd at idle" '^\| all \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \|$'
if grep -q '^## Goals' "$out" && grep -Eq '^\| cni \| .*\| (met|\*\*missed\*\*) \|$' "$out"; then
	pass "bench: BENCHMARKS.md starts with the goals table"
else
	fail "bench: BENCHMARKS.md starts with the goals table" "$out"
fi
if ! grep -q 'failed (exit status' "$out"; then
	pass "bench: no section failed"
else
	fail "bench: no section failed" "$log"
fi
echo "1..$n"
