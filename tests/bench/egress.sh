#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/bench/egress.sh - what egress masquerade costs: iperf3 TCP (1 and 4
# streams) from a pod to a host outside the cluster, through the masquerade
# and over the same path without it, interleaved within every run; and pod
# -> pod across nodes on nodes with the table (conntrack runs, nothing is
# translated) and without it.
#   masq      pod on node1 (egress.masquerade = true) -> 198.51.100.2 behind
#             the router: leaves as 172.31.0.11
#   plain     pod on node3 (masquerade = false) -> the same host; the router
#             routes node3's pod /24 back (what a ToR that learns it does)
#   pp-masq   pod on node1 -> pod on node2, both with the table
#   pp-plain  pod on node3 -> pod on node4, neither has it
. "$(dirname "$0")/common.sh"

# The machine is shared: the load moves during a run. Five short runs, the
# paths interleaved in each, and the ratio taken within each run (then its
# median) keep a drift of the load out of the ratios.
if quick; then secs=2 runs=1; else secs=4 runs=5; fi
mach=$(machine)
SCEN="masq plain pp-masq pp-plain"

fabric_up
aux_add rtr 172.31.0.1
R=$(ns rtr)
ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1
ns_add out
ip -n "$(ns out)" link add eth0 type veth peer name out0 netns "$R"
ip -n "$(ns out)" addr add 198.51.100.2/24 dev eth0
ip -n "$(ns out)" link set eth0 up
ip -n "$(ns out)" route add default via 198.51.100.1
ip -n "$R" addr add 198.51.100.1/24 dev out0
ip -n "$R" link set out0 up
ip -n "$R" route add 10.244.3.0/24 via 172.31.0.13

declare -A IP
for k in 1 2 3 4; do
	node_add "$k"
	ip -n "$(ns "n$k")" route add default via 172.31.0.1
	bench_node_conf "$k" 4
	if [ "$k" -le 2 ]; then
		echo 'egress = { masquerade = true; };' >>"$RST_TMP/n$k/roostd.conf"
	else
		echo 'egress = { masquerade = false; };' >>"$RST_TMP/n$k/roostd.conf"
	fi
	roostd_start "$k"
done
mesh_wait 4
for k in 1 2 3 4; do
	pod_ns_add "$k" 1
	cni "$k" ADD "eg-$k" eth0 "/run/netns/$(ns "n${k}p1")" ||
		{ echo "egress.sh: ADD on node$k: $(cat "$RST_TMP/cni.out")" >&2; exit 1; }
	IP[$k]=$(jq -r '.ips[0].address' "$RST_TMP/cni.out" | cut -d/ -f1)
done
for k in 1 2; do
	ip netns exec "$(ns "n$k")" nft list table ip roost >/dev/null 2>&1 ||
		{ echo "egress.sh: node$k has no table ip roost" >&2; exit 1; }
done
for k in 3 4; do
	! ip netns exec "$(ns "n$k")" nft list table ip roost >/dev/null 2>&1 ||
		{ echo "egress.sh: node$k has a table ip roost" >&2; exit 1; }
done

declare -A SRC DST SRVNS
SRC[masq]=$(ns n1p1) DST[masq]=198.51.100.2 SRVNS[masq]=$(ns out)
SRC[plain]=$(ns n3p1) DST[plain]=198.51.100.2 SRVNS[plain]=$(ns out)
SRC[pp-masq]=$(ns n1p1) DST[pp-masq]=${IP[2]} SRVNS[pp-masq]=$(ns n2p1)
SRC[pp-plain]=$(ns n3p1) DST[pp-plain]=${IP[4]} SRVNS[pp-plain]=$(ns n4p1)
declare -A PORT=([masq]=5201 [plain]=5202 [pp-masq]=5201 [pp-plain]=5201)

for s in $SCEN; do
	bg_start "${SRVNS[$s]}" "$RST_TMP/iperf-srv-$s.log" iperf3 -s -B "${DST[$s]}" -p "${PORT[$s]}"
	wait_until 10 bash -c "ip netns exec ${SRVNS[$s]} ss -ltn | grep -q '${DST[$s]}:${PORT[$s]}'" ||
		{ echo "egress.sh: iperf3 server for $s did not start" >&2; exit 1; }
	ip netns exec "${SRC[$s]}" ping -c 3 -i 0.2 -W 2 "${DST[$s]}" >/dev/null ||
		{ echo "egress.sh: $s: ${DST[$s]} does not answer ping" >&2; exit 1; }
done

errors=0
for r in $(seq 1 "$runs"); do
	for s in $SCEN; do
		for p in 1 4; do
			say "run $r/$runs: $s, $p stream(s), $secs s"
			f="$RST_TMP/iperf-$s-$p-$r.json"
			if ip netns exec "${SRC[$s]}" iperf3 -c "${DST[$s]}" -p "${PORT[$s]}" -t "$secs" -P "$p" -J >"$f" 2>&1 &&
				bps=$(jq -e '.end.sum_received.bits_per_second' "$f"); then
				awk -v b="$bps" 'BEGIN {printf "%.3f\n", b / 1e9}' >>"$BENCH_RES/$s-$p"
			else
				errors=$((errors + 1))
				echo "# iperf3 $s -P $p failed: $(head -c 300 "$f")" >&2
			fi
		done
	done
done
# The masquerade rule's counter: the masq runs went through it.
masq_conns=$(ip netns exec "$(ns n1)" nft -j list chain ip roost postrouting |
	jq '[.nftables[].rule.expr[]?.counter.packets // empty] | add // 0')

label() {
	case $1 in
	masq) echo "pod → outside host, **through the masquerade** (node1)" ;;
	plain) echo "pod → outside host, routed back, no masquerade (node3)" ;;
	pp-masq) echo "pod → pod across nodes, both nodes with the table (conntrack on)" ;;
	pp-plain) echo "pod → pod across nodes, neither node with the table" ;;
	esac
}
md "## Egress masquerade" "" \
	"$(date -u +%Y-%m-%d); $mach; iperf3 TCP, $secs s per test, $runs run(s), the four paths interleaved in every run." "" \
	"| path | 1 stream Gbit/s | 4 streams Gbit/s |" "|---|---|---|"
for s in $SCEN; do
	md "| $(label "$s") | $(stats "$BENCH_RES/$s-1") | $(stats "$BENCH_RES/$s-4") |"
done
declare -A M
for s in $SCEN; do
	for p in 1 4; do
		M[$s$p]=$(median "$BENCH_RES/$s-$p")
	done
done
# run_ratios A B P: the ratio A/B of every run (P streams), one a line.
run_ratios() {
	paste "$BENCH_RES/$1-$3" "$BENCH_RES/$2-$3" | awk '$2 > 0 {printf "%.3f\n", $1 / $2}'
}
for p in 1 4; do
	run_ratios masq plain "$p" >"$BENCH_RES/r-out-$p"
	run_ratios pp-masq pp-plain "$p" >"$BENCH_RES/r-pp-$p"
done
md "" "Ratios: of the medians above, and the median (min..max) of the ratios within each run:" "" \
	"| ratio | 1 stream | 4 streams | 1 stream, per run | 4 streams, per run |" "|---|---|---|---|---|" \
	"| pod → outside: masquerade / no masquerade | $(ratio "${M[masq1]}" "${M[plain1]}") | $(ratio "${M[masq4]}" "${M[plain4]}") | $(stats "$BENCH_RES/r-out-1") | $(stats "$BENCH_RES/r-out-4") |" \
	"| pod → pod: table on / table off | $(ratio "${M[pp-masq1]}" "${M[pp-plain1]}") | $(ratio "${M[pp-masq4]}" "${M[pp-plain4]}") | $(stats "$BENCH_RES/r-pp-1") | $(stats "$BENCH_RES/r-pp-4") |"
md "" \
	"Method: one fabric bridge, four roost nodes in a mesh (roostd + BIRD), one pod each by the" \
	"plugin, every node's default route via a router namespace with the outside host behind it." \
	"Nodes 1–2 run \`egress.masquerade = true\` (table ip roost; the rule counted $masq_conns" \
	"masqueraded connection(s)), nodes 3–4 \`false\` (no table, so no conntrack in their" \
	"namespaces); the router routes node3's pod /24 back, so the unmasqueraded path is the" \
	"same path without NAT. The table's cost on pod → pod traffic is conntrack (nat chains" \
	"need it); nothing is translated."
[ "$errors" -eq 0 ] || { md "" "**$errors iperf3 run(s) failed.**"; exit 1; }
exit 0
