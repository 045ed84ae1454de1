#!/bin/sh
# SPDX-License-Identifier: MIT
# golden-render.sh - every tests/data/render/<case>/roostd.conf renders
# exactly to its bird.conf, and that bird.conf passes `bird -p`.
# With --update, rewrites the bird.conf files instead (make update-golden).
. "$(dirname "$0")/tap.sh"

update=no
[ "${1:-}" = --update ] && update=yes
for d in "$top_srcdir"/tests/data/render/*/; do
	case=$(basename "$d")
	out=$(cd "$d" && "$ROOSTD" --render -c roostd.conf 2>&1)
	rc=$?
	if [ "$update" = yes ]; then
		[ $rc -eq 0 ] && printf '%s\n' "$out" >"$d/bird.conf" && echo "updated $case"
		continue
	fi
	if [ $rc -ne 0 ]; then
		tap_not_ok "render $case" "$out"
		continue
	fi
	if diff=$(printf '%s\n' "$out" | diff -u "$d/bird.conf" - 2>&1); then
		tap_ok "render $case matches bird.conf"
	else
		tap_not_ok "render $case matches bird.conf" "$diff"
	fi
	if msg=$("$BIRD" -p -c "$d/bird.conf" 2>&1); then
		tap_ok "render $case: bird -p accepts it"
	else
		tap_not_ok "render $case: bird -p accepts it" "$msg"
	fi
done
[ "$update" = yes ] && exit 0
tap_done
