#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/bench/cni6.sh - CNI latency, dual-stack: ADD and DEL through the roost
# plugin + a dual-stack roostd, and through the reference bridge +
# host-local configured dual-stack as flannel does it (one range set per
# family), interleaved cycle by cycle with the same two configured IPv4-only
# (what dual-stack costs each side), each in its own node namespace:
#   roost6  node1, dual-stack (10.244.1.0/24 + fd00:10:244:1::/64)
#   ref6    bridge + host-local, ranges 10.244.1.0/24 and fd00:10:244:1::/64
#   roost4  node2, IPv4 only (10.244.2.0/24), as cni.sh measures it
#   ref4    bridge + host-local, 10.244.1.0/24, as cni.sh measures it
# Each cycle makes a fresh pod namespace per side; only the plugin exec is
# timed (cnitime, as in cni.sh).
. "$(dirname "$0")/common.sh"

cycles=$BENCH_CYCLES
[ -x "$REF_CNI/bridge" ] && [ -x "$REF_CNI/host-local" ] ||
	{ echo "cni6.sh: install containernetworking-plugins" >&2; exit 2; }
mach=$(machine)
SIDES="roost6 ref6 roost4 ref4"

fabric_up
node_add6 1
bench_conf6 1 1
node_add 2
bench_node_conf 2 1
sed -i 's/^  mesh = ( .* );$/  mesh = ( );/' "$RST_TMP/n2/roostd.conf" # no neighbour
for k in 1 2; do
	roostd_start "$k"
	wait_until 10 test -S "$RST_TMP/n$k/roostd.sock" || { echo "cni6.sh: roostd on node$k did not start" >&2; exit 1; }
done
ns_add ref6
ns_add ref4
mkdir -p "$RST_TMP/hl6" "$RST_TMP/hl4"
declare -A NODE BIN CONF
NODE[roost6]=$(ns n1) BIN[roost6]=$ROOST_CNI CONF[roost6]=$(netconf 1)
NODE[roost4]=$(ns n2) BIN[roost4]=$ROOST_CNI CONF[roost4]=$(netconf 2)
NODE[ref6]=$(ns ref6) BIN[ref6]=$REF_CNI/bridge CONF[ref6]=$(refconf6 "$RST_TMP/hl6")
NODE[ref4]=$(ns ref4) BIN[ref4]=$REF_CNI/bridge CONF[ref4]=$(refconf "$RST_TMP/hl4")

say "$cycles cycles (+1 warm-up), the four sides interleaved"
errors=0
for s in $SIDES; do : >"$BENCH_RES/$s-add"; : >"$BENCH_RES/$s-del"; done
for i in $(seq 0 "$cycles"); do
	declare -A A=() D=()
	for s in $SIDES; do
		ns_add "$s-$i"
		A[$s]=$(plugin_exec "${NODE[$s]}" "${BIN[$s]}" ADD "bench-$i" "/run/netns/$(ns "$s-$i")" \
			"${CONF[$s]}" "$RST_TMP/$s.out") || errors=$((errors + 1))
	done
	if [ "$i" = 0 ]; then
		# The sides are what they claim: a dual-stack result from both
		# dual-stack sides, an IPv4 one from the others.
		for s in $SIDES; do
			want="4 6"
			[ "${s%4}" != "$s" ] && want=4
			got=$(result_families "$RST_TMP/$s.out")
			[ "$got" = "$want" ] ||
				{ echo "cni6.sh: $s's ADD result has families '$got', not '$want': $(cat "$RST_TMP/$s.out")" >&2; exit 1; }
		done
	fi
	for s in $SIDES; do
		D[$s]=$(plugin_exec "${NODE[$s]}" "${BIN[$s]}" DEL "bench-$i" "/run/netns/$(ns "$s-$i")" \
			"${CONF[$s]}" "$RST_TMP/$s.out") || errors=$((errors + 1))
	done
	for s in $SIDES; do
		ip netns del "$(ns "$s-$i")"
	done
	[ "$i" = 0 ] && continue # warm-up (the reference creates its bridge here)
	for s in $SIDES; do
		echo "${A[$s]}" >>"$BENCH_RES/$s-add"
		echo "${D[$s]}" >>"$BENCH_RES/$s-del"
	done
done
# Nothing left behind: DEL removed every reservation of both families.
left=$(find "$RST_TMP/n1/state" "$RST_TMP/n2/state" -type f \( -name '10.*' -o -name 'fd00:*' \) 2>/dev/null | wc -l)
[ "$left" = 0 ] || { echo "cni6.sh: $left reservations left after the DELs" >&2; errors=$((errors + 1)); }

declare -A P
for s in $SIDES; do
	for op in add del; do
		for p in 50 95 99; do
			P[$s-$op-$p]=$(pct "$BENCH_RES/$s-$op" "$p" 1000)
		done
	done
done
row() { # row OPERATION ROOST REF
	local o=$1 r=$2 f=$3
	md "| $(tr a-z A-Z <<<"$o") | ${P[$r-$o-50]} ms | ${P[$r-$o-95]} ms | ${P[$r-$o-99]} ms | ${P[$f-$o-50]} ms | ${P[$f-$o-95]} ms | ${P[$f-$o-99]} ms | $(ratio "${P[$r-$o-50]}" "${P[$f-$o-50]}") | $(ratio "${P[$r-$o-99]}" "${P[$f-$o-99]}") |"
}
md "## CNI latency, dual-stack" "" \
	"$(date -u +%Y-%m-%d); $mach; $cycles cycles (1 warm-up not counted), four sides interleaved." "" \
	"| dual-stack | roost p50 | roost p95 | roost p99 | reference p50 | reference p95 | reference p99 | roost / reference (p50) | roost / reference (p99) |" \
	"|---|---|---|---|---|---|---|---|---|"
row add roost6 ref6
row del roost6 ref6
md "" "The same run, both configured IPv4 only (as in \"CNI latency\"):" "" \
	"| IPv4 only | roost p50 | roost p95 | roost p99 | reference p50 | reference p95 | reference p99 | roost / reference (p50) | roost / reference (p99) |" \
	"|---|---|---|---|---|---|---|---|---|"
row add roost4 ref4
row del roost4 ref4
md "" "What the second family costs each side (p50, dual-stack / IPv4 only):" "" \
	"| operation | roost | reference |" "|---|---|---|" \
	"| ADD | $(ratio "${P[roost6-add-50]}" "${P[roost4-add-50]}") | $(ratio "${P[ref6-add-50]}" "${P[ref4-add-50]}") |" \
	"| DEL | $(ratio "${P[roost6-del-50]}" "${P[roost4-del-50]}") | $(ratio "${P[ref6-del-50]}" "${P[ref4-del-50]}") |"
md "" \
	"Reference: Debian's containernetworking-plugins $(ref_version), bridge + host-local configured" \
	"dual-stack as flannel's \`EnableIPv6\` does it: cni0, isGateway, hairpin, host-local with two" \
	"range sets (10.244.1.0/24 and fd00:10:244:1::/64) and a route to each cluster network." \
	"roost: a dual-stack node (\`node.address6\`, \`node.pod_cidr6\`): each ADD reserves an address of" \
	"each family and answers with both. Method as in \"CNI latency\" (\`cnitime\` around one plugin" \
	"exec, a fresh pod namespace per cycle and side, nearest-rank percentiles; with few cycles p99 is" \
	"the slowest sample). Errors: $errors."
md ""
[ "$errors" -eq 0 ]
