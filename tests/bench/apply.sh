#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/bench/apply.sh - configuration apply: three nodes, node1 and node3
# first know only node2. Each run adds node3 to node1's mesh and node1 to
# node3's (both roostd get SIGHUP at once, as a rollout would), and times
# SIGHUP -> roostd done (parse, render, `bird -p`, configure, confirm) ->
# node_node3 Established on node1 -> both kernels have the other's /24; then
# removes them again. Both sides change at once so that neither BIRD sits in
# a connect back-off against a peer that did not know it yet. Then an
# unchanged reload: SIGHUP with the same file must be a no-op (roostd logs
# "BIRD configuration unchanged", BIRD logs no "Reconfigur", no session
# restarts); timed to roostd's "reload: done".
. "$(dirname "$0")/common.sh"

if quick; then runs=1; else runs=3; fi
mach=$(machine)

fabric_up
for k in 1 2 3; do node_add "$k"; done
neigh_static 1 2 3
# conf_pair K WITH3: node1's (or node3's) mesh: node2, plus the other if asked.
conf_pair() {
	local k=$1 other=$((4 - $1)) d="$RST_TMP/n$1"
	bench_node_conf "$k" 3
	[ "$2" = yes ] && return
	sed -i "s/{ name = \"node$other\"; address = \"172.31.0.$((10 + other))\"; }, //; s/, { name = \"node$other\"; address = \"172.31.0.$((10 + other))\"; }//" "$d/roostd.conf"
}
conf_pair 1 no
bench_node_conf 2 3
conf_pair 3 no
grep -q node3 "$RST_TMP/n1/roostd.conf" && { echo "apply.sh: node1's conf still names node3" >&2; exit 1; }
for k in 1 2 3; do roostd_start "$k"; done
lab_ok() {
	kernel_route 1 10.244.2.0/24 172.31.0.12 && kernel_route 3 10.244.2.0/24 172.31.0.12 &&
		kernel_route 2 10.244.1.0/24 172.31.0.11 && kernel_route 2 10.244.3.0/24 172.31.0.13
}
wait_until 60 lab_ok ||
	{ echo "apply.sh: the lab did not converge" >&2; exit 1; }

# done_ms K OFFSET: roostd's "reload: done" after byte OFFSET of its log (epoch ms).
done_ms() {
	local line
	line=$(tail -c +"$(($2 + 1))" "$RST_TMP/n$1/roostd.log" | grep -E 'reload: done hash=' | head -n 1)
	[ -n "$line" ] && log_ms "$(cut -d' ' -f1 <<<"$line")"
}

# bird_idle K: nK's BIRD says "Daemon is up and running" (not reconfiguring).
bird_idle() { birdc_n "$1" show status | grep -q 'Daemon is up and running'; }

errors=0 removals=0 refusals=0 unremoved=""
for r in $(seq 1 "$runs"); do
	say "run $r/$runs: SIGHUP adding node1 <-> node3"
	conf_pair 1 yes
	conf_pair 3 yes
	o1=$(stat -c %s "$RST_TMP/n1/roostd.log")
	t0=$(now_ms)
	kill -HUP "$(roostd_pid 1)" "$(roostd_pid 3)"
	est=""
	while [ $(($(now_ms) - t0)) -lt 30000 ]; do
		if established 1 node_node3; then est=$(($(now_ms) - t0)); break; fi
		sleep 0.02
	done
	if [ -n "$est" ] && wait_until 30 kernel_route 1 10.244.3.0/24 172.31.0.13 &&
		wait_until 30 kernel_route 3 10.244.1.0/24 172.31.0.11; then
		echo $(($(now_ms) - t0)) >>"$BENCH_RES/add-route"
		echo "$est" >>"$BENCH_RES/add-est"
		d=$(done_ms 1 "$o1") && echo $((d - t0)) >>"$BENCH_RES/add-done"
	else
		errors=$((errors + 1))
		echo "# run $r: node_node3 not Established / routes missing within 30 s" >&2
	fi
	say "run $r/$runs: SIGHUP removing them again"
	conf_pair 1 no
	conf_pair 3 no
	removed=no
	for try in 1 2 3 4 5; do
		o1=$(stat -c %s "$RST_TMP/n1/roostd.log") o3=$(stat -c %s "$RST_TMP/n3/roostd.log")
		kill -HUP "$(roostd_pid 1)" "$(roostd_pid 3)"
		wait_until 15 bash -c "tail -c +$((o1 + 1)) $RST_TMP/n1/roostd.log | grep -qE 'reload: (done|BIRD refused)' &&
			tail -c +$((o3 + 1)) $RST_TMP/n3/roostd.log | grep -qE 'reload: (done|BIRD refused)'"
		refused=$( (tail -c +$((o1 + 1)) "$RST_TMP/n1/roostd.log"; tail -c +$((o3 + 1)) "$RST_TMP/n3/roostd.log") |
			grep -c 'reload: BIRD refused the new configuration' || true)
		removals=$((removals + 2))
		refusals=$((refusals + refused))
		[ "$refused" -gt 0 ] && { (tail -c +$((o1 + 1)) "$RST_TMP/n1/roostd.log"; tail -c +$((o3 + 1)) "$RST_TMP/n3/roostd.log") |
			grep 'reload: BIRD refused' | head -n 1 >"$RST_TMP/refusal.txt"
			# let both BIRDs finish reconfiguring before the next SIGHUP
			wait_until 10 bird_idle 1 && wait_until 10 bird_idle 3
			continue; }
		if wait_until 30 no_kernel_route 1 10.244.3.0/24 && wait_until 30 no_kernel_route 3 10.244.1.0/24 &&
			wait_until 30 bash -c "! $BIRDC -s $RST_TMP/n1/bird.ctl show protocols | grep -q '^node_node3 '"; then
			removed=yes
			break
		fi
	done
	if [ "$removed" = no ]; then
		# roostd's bug below, not the bench's: stop adding, the next add would
		# find the session up already.
		echo "# run $r: node_node3 not removed after 5 reloads; no further runs" >&2
		unremoved=$r
		break
	fi
done

say "unchanged reloads"
# Settle first: after a refused removal, node1's BIRD still runs the old
# configuration while its file does not; reload until roostd says unchanged.
for try in $(seq 1 10); do
	o1=$(stat -c %s "$RST_TMP/n1/roostd.log")
	kill -HUP "$(roostd_pid 1)"
	wait_until 15 bash -c "tail -c +$((o1 + 1)) $RST_TMP/n1/roostd.log | grep -qE 'reload: (done|BIRD refused)'"
	tail -c +$((o1 + 1)) "$RST_TMP/n1/roostd.log" | grep -q 'reload: done .*(BIRD configuration unchanged)' && break
	wait_until 10 bird_idle 1
done
wait_until 30 established 1 node_node2
nochange=0
for r in $(seq 1 "$runs"); do
	since=$(birdc_n 1 show protocols node_node2 | awk '/^node_node2/ {print $5, $6}')
	o1=$(stat -c %s "$RST_TMP/n1/roostd.log")
	t0=$(now_ms)
	kill -HUP "$(roostd_pid 1)"
	if wait_until 10 bash -c "tail -c +$((o1 + 1)) $RST_TMP/n1/roostd.log | grep -q 'reload: done hash='"; then
		d=$(done_ms 1 "$o1") && echo $((d - t0)) >>"$BENCH_RES/same-done"
		tail -c +$((o1 + 1)) "$RST_TMP/n1/roostd.log" >"$RST_TMP/same.log"
		if grep -q 'BIRD configuration unchanged' "$RST_TMP/same.log" &&
			! grep -q 'Reconfigur' "$RST_TMP/same.log" &&
			! grep -q 'configuration applied' "$RST_TMP/same.log" &&
			[ "$(birdc_n 1 show protocols node_node2 | awk '/^node_node2/ {print $5, $6}')" = "$since" ]; then
			nochange=$((nochange + 1))
		else
			echo "# unchanged reload $r was not a no-op:" >&2
			sed 's/^/#   /' "$RST_TMP/same.log" >&2
		fi
	else
		errors=$((errors + 1))
	fi
done

md "## Configuration apply" "" \
	"$(date -u +%Y-%m-%d); $mach; $runs run(s) each; seconds from the SIGHUP, median (min..max)." "" \
	"| reload | roostd done (\"reload: done\") | new session Established | routes in both kernels |" \
	"|---|---|---|---|" \
	"| add a mesh neighbour (node1 ↔ node3, both reloaded) | $(stats "$BENCH_RES/add-done" 3 1000) | $(stats "$BENCH_RES/add-est" 2 1000) | $(stats "$BENCH_RES/add-route" 2 1000) |" \
	"| unchanged file | $(stats "$BENCH_RES/same-done" 3 1000) | — | — |"
md "" \
	"Unchanged reloads that were a no-op: $nochange of $runs (roostd logged \"BIRD configuration" \
	"unchanged\", never \"configuration applied\"; BIRD logged no \"Reconfigur…\"; node_node2's" \
	"\"since\" unchanged)." \
	"Method: three nodes (fabric, roostd + BIRD each, defaults); roostd's own log timestamps" \
	"give \"reload: done\"; Established (\`birdc show protocols\`) and the kernel routes are polled" \
	"every 20–50 ms. A changed reload runs \`bird -p\`, \`configure check\`, \`configure timeout\` and" \
	"\`configure confirm\` on a new control connection; the session then waits for BIRD's" \
	"\`connect delay time 1\` (jittered 0.75–1 s) and, for the routes, BIRD 2.0.12's UPDATE hold" \
	"(up to 3 s). Errors: $errors."
if [ "$refusals" -gt 0 ]; then
	md "" "**Removing a neighbour whose session is up was refused by roostd in $refusals of $removals reloads**" \
		"(each retried with another SIGHUP), e.g.:" "" \
		"    $(sed 's/^[^ ]* //' "$RST_TMP/refusal.txt")" "" \
		"BIRD answers \`show status\` with \"Reconfiguration in progress\" until the removed" \
		"protocol has shut down, and roostd's confirm step takes that for \"BIRD did not answer\"," \
		"so it undoes a valid change. Fix (agent/bird.c, bird_apply): wait, bounded, for the" \
		"status to return to \"up and running\" before confirming."
	[ -n "$unremoved" ] && md "" "In run $unremoved, 5 SIGHUPs in a row were refused; the remaining runs were skipped."
fi
goal "config apply: removing a neighbour with a live session is applied (no goal in the issue; found here)" \
	"$refusals of $removals reloads refused" "$(verdict test "$refusals" = 0)"
md ""
goal "config apply: unchanged reload is a no-op" "$nochange of $runs no-op, $(stats "$BENCH_RES/same-done" 3 1000) s" \
	"$(verdict test "$nochange" = "$runs")"
[ "$errors" -eq 0 ] && [ "$nochange" = "$runs" ]
