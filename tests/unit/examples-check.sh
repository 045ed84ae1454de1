#!/bin/sh
# SPDX-License-Identifier: MIT
# examples-check.sh - every configuration shipped in examples/ passes
# `roostd --check-config` (which also runs `bird -p` on what it renders).
. "$(dirname "$0")/tap.sh"

for f in "$top_srcdir"/examples/*.conf "$top_srcdir"/examples/*/*.conf; do
	case $f in */tor/bgpd.conf | */tor/bfdd.conf | */tor/zebra.conf) continue ;; esac
	if out=$(sed "s|binary = \"bird\"|binary = \"$BIRD\"|" "$f" >"${TMPDIR:-/tmp}/roost-ex.$$" &&
		"$ROOSTD" --check-config -c "${TMPDIR:-/tmp}/roost-ex.$$" 2>&1); then
		tap_ok "examples/${f#"$top_srcdir"/examples/} passes --check-config"
	else
		tap_not_ok "examples/${f#"$top_srcdir"/examples/} passes --check-config" "$out"
	fi
	rm -f "${TMPDIR:-/tmp}/roost-ex.$$"
done
tap_done
