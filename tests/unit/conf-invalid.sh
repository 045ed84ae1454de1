#!/bin/sh
# SPDX-License-Identifier: MIT
# conf-invalid.sh - every tests/data/conf-invalid/<case>/roostd.conf fails
# `roostd --check-config` with exit 1 and exactly the message in its
# `error` file ("roostd.conf:LINE: message").
. "$(dirname "$0")/tap.sh"

for d in "$top_srcdir"/tests/data/conf-invalid/*/; do
	case=$(basename "$d")
	want=$(cat "$d/error")
	# NODE_NAME names the node when node.name is not set (Kubernetes).
	got=$(cd "$d" && env -u NODE_NAME "$ROOSTD" --check-config -c roostd.conf 2>&1)
	rc=$?
	if [ $rc -eq 1 ] && [ "$got" = "$want" ]; then
		tap_ok "$case: $want"
	else
		tap_not_ok "$case: $want" "exit $rc (want 1)" "got:  $got"
	fi
done
tap_done
