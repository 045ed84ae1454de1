#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/bench/churn.sh - pod churn: sustained ADD+DEL pairs per second on one
# node that already holds 200 pods, roost (plugin + roostd) and the reference
# (bridge + host-local) side by side, with 1 and with 4 concurrent workers
# (kubelet starts sandboxes in parallel). Each worker reuses one pod
# namespace of its own: ADD, DEL, ADD, … for a fixed window; the count of
# completed pairs over the window is the rate. Runs alternate roost/reference.
. "$(dirname "$0")/common.sh"

if quick; then pods=20 window=2 runs=1; else pods=200 window=6 runs=3; fi
mach=$(machine)

fabric_up
node_add 1
bench_node_conf 1 1
roostd_start 1
wait_until 10 test -S "$RST_TMP/n1/roostd.sock" || { echo "churn.sh: roostd did not start" >&2; exit 1; }
ns_add ref
mkdir -p "$RST_TMP/hl"
rconf=$(refconf "$RST_TMP/hl")
oconf=$(netconf 1)
side_ns() { if [ "$1" = roost ]; then ns n1; else ns ref; fi; }
side_bin() { if [ "$1" = roost ]; then echo "$ROOST_CNI"; else echo "$REF_CNI/bridge"; fi; }
side_conf() { if [ "$1" = roost ]; then echo "$oconf"; else echo "$rconf"; fi; }

say "$pods pods on each side"
errors=0
for side in roost ref; do
	for i in $(seq 1 "$pods"); do
		ns_add "$side-p$i"
		plugin_exec "$(side_ns $side)" "$(side_bin $side)" ADD "$side-p$i" \
			"/run/netns/$(ns "$side-p$i")" "$(side_conf $side)" >/dev/null || errors=$((errors + 1))
	done
done
present_roost=$(pool_used 1)
present_ref=$(ip -n "$(ns ref)" -o link show master cni0 | grep -c . || true)
for w in 1 2 3 4; do ns_add "w$w"; done

# worker SIDE W SECONDS: ADD+DEL pairs until the window ends; prints the count.
worker() {
	local side=$1 w=$2 end n=0 i=0 o="$RST_TMP/w$w.out"
	local nsn bin conf
	nsn=$(side_ns "$side") bin=$(side_bin "$side") conf=$(side_conf "$side")
	end=$(($(now_ms) + $3 * 1000))
	while [ "$(now_ms)" -lt "$end" ]; do
		i=$((i + 1))
		plugin_exec "$nsn" "$bin" ADD "churn-$w-$i" "/run/netns/$(ns "w$w")" "$conf" "$o" >/dev/null &&
			plugin_exec "$nsn" "$bin" DEL "churn-$w-$i" "/run/netns/$(ns "w$w")" "$conf" "$o" >/dev/null ||
			{ echo err >>"$RST_TMP/churn-errors"; break; }
		n=$((n + 1))
	done
	echo "$n"
}

: >"$RST_TMP/churn-errors"
for r in $(seq 1 "$runs"); do
	for conc in 1 4; do
		for side in roost ref; do
			say "run $r/$runs: $side, $conc worker(s), ${window} s"
			t0=$(now_ms)
			wpids=()
			for w in $(seq 1 "$conc"); do
				worker "$side" "$w" "$window" >"$RST_TMP/cnt.$w" &
				wpids+=($!)
			done
			wait "${wpids[@]}"
			el=$(($(now_ms) - t0))
			total=$(cat "$RST_TMP"/cnt.[1-$conc] | awk '{s += $1} END {print s + 0}')
			awk -v n="$total" -v t="$el" 'BEGIN {printf "%.2f\n", n * 1000 / t}' >>"$BENCH_RES/$side-$conc"
		done
	done
done
errors=$((errors + $(count "$RST_TMP/churn-errors")))
after_roost=$(pool_used 1)

md "## Pod churn" "" \
	"$(date -u +%Y-%m-%d); $mach; $runs run(s) of ${window} s per cell, roost and reference alternating." "" \
	"| workers | roost ADD+DEL pairs/s | reference ADD+DEL pairs/s | roost / reference |" \
	"|---|---|---|---|"
for conc in 1 4; do
	md "| $conc | $(stats "$BENCH_RES/roost-$conc" 1) | $(stats "$BENCH_RES/ref-$conc" 1) | $(ratio "$(median "$BENCH_RES/roost-$conc")" "$(median "$BENCH_RES/ref-$conc")") |"
done
md "" \
	"Method: one node with $present_roost roost pods ($present_ref on the reference's node) present" \
	"throughout; each worker runs ADD then DEL of a new container id in a pod namespace of its" \
	"own, back to back, through \`ip netns exec\` as in the CNI latency section, until the" \
	"window ends; rate = completed pairs / elapsed time. Reference: bridge + host-local," \
	"flannel host-gw configuration. Pods present after the churn: roost $after_roost. Errors: $errors."
md ""
[ "$errors" -eq 0 ] && [ "$after_roost" = "$present_roost" ]
