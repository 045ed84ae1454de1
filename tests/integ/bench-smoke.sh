#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench-smoke.sh - the benchmarks still run: tests/bench/run with 3 cycles
# (on the test build; its numbers mean nothing here) must finish without
# errors and print a complete table.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
out=$(mktemp /tmp/roost-bench.XXXXXX)
trap 'rm -f "$out"' EXIT
if log=$("$top_srcdir/tests/bench/run" --cycles 3 --out "$out" 2>&1); then
	echo "ok 1 - tests/bench/run --cycles 3 finishes without errors"
else
	echo "not ok 1 - tests/bench/run --cycles 3 finishes without errors"
	printf '%s\n' "$log" | sed 's/^/#   /'
fi
if grep -Eq '^\| ADD \| [0-9.]+ ms .*\| [0-9.]+ \|$' "$out" &&
	grep -Eq '^\| DEL \| [0-9.]+ ms .*\| [0-9.]+ \|$' "$out"; then
	echo "ok 2 - the benchmark table has ADD and DEL rows with numbers and ratios"
else
	echo "not ok 2 - the benchmark table has ADD and DEL rows with numbers and ratios"
	sed 's/^/#   /' "$out"
fi
echo "1..2"
