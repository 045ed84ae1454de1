#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/bench/dataplane6.sh - iperf3 TCP over IPv6, 1 and 4 streams, and
# ping6 RTT, on one fabric, the paths interleaved within every run:
#   node6    node1 -> node2 on the fabric (eth0 to eth0, global addresses)
#   roost6   pod on node1 -> pod on node2 over IPv6: dual-stack roostd + BIRD
#            nodes (the /64 routes are BIRD's, via the nodes' global
#            addresses), pods by the plugin
#   hand6m   the same path built by hand: bridge + veth + a static IPv6 route
#            via the other node's global address, plus the IPv6 masquerade
#            rule roost's nodes have by default (table ip6 roost: conntrack)
#   hand6    hand6m without the nat chain (the cost of conntrack)
# --quick: roost6 and hand6m only, 1 s each.
. "$(dirname "$0")/common.sh"

if quick; then secs=1 runs=1 SCEN="roost6 hand6m"; else secs=5 runs=3 SCEN="node6 roost6 hand6m hand6"; fi
mach=$(machine)

fabric_up
# roost: dual-stack nodes 1 and 2 with roostd and BIRD; they converge while
# the hand-built paths are made.
for k in 1 2; do
	node_add6 "$k"
	bench_conf6 "$k" 2
	roostd_start "$k"
done

# hand_node6 K: node K with cni0 = fd00:10:244:K::1/64 and one pod
# fd00:10:244:K::2 behind a veth, as the plugin makes it (no DAD: usable at
# once), by hand.
hand_node6() {
	local k=$1 n p
	node_add6 "$k"
	n=$(ns "n$k")
	pod_ns_add "$k" 1
	p=$(ns "n${k}p1")
	ip netns exec "$n" sysctl -qw net.ipv6.conf.all.forwarding=1
	ip -n "$n" link add cni0 mtu 1500 type bridge
	ip -n "$n" addr add "fd00:10:244:$k::1/64" dev cni0 nodad
	ip -n "$n" link set cni0 up
	ip -n "$n" link add "veth$k" mtu 1500 type veth peer name eth0 netns "$p"
	ip -n "$n" link set "veth$k" master cni0 up
	ip -n "$p" link set eth0 mtu 1500 up
	ip -n "$p" addr add "fd00:10:244:$k::2/64" dev eth0 nodad
	ip -n "$p" -6 route add default via "fd00:10:244:$k::1"
}
# hand_pair6 A B: nodes A and B routing each other's /64 via their global
# addresses.
hand_pair6() {
	hand_node6 "$1"
	hand_node6 "$2"
	ip -n "$(ns "n$1")" -6 route add "fd00:10:244:$2::/64" via "fd00:172:31::$((10 + $2))"
	ip -n "$(ns "n$2")" -6 route add "fd00:10:244:$1::/64" via "fd00:172:31::$((10 + $1))"
}
# hand6m: nodes 3 and 4, plus the rule roostd writes for egress.masquerade
# on a node with an IPv6 pod subnet (agent/egress.c), in a table of its own.
hand_pair6 3 4
for k in 3 4; do
	ip netns exec "$(ns "n$k")" nft -f - <<NFT
table ip6 handm {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		ip6 saddr fd00:10:244:$k::/64 ip6 daddr != fd00:10:244::/48 ip6 daddr != ff00::/8 counter masquerade fully-random
	}
}
NFT
done
# hand6: nodes 5 and 6, no nat.
[[ " $SCEN " == *" hand6 "* ]] && hand_pair6 5 6

wait_until 30 kernel_route6 1 fd00:10:244:2::/64 fd00:172:31::12 &&
	wait_until 30 kernel_route6 2 fd00:10:244:1::/64 fd00:172:31::11 ||
	{ echo "dataplane6.sh: roost nodes did not learn each other's /64" >&2; exit 1; }
declare -A IP
for k in 1 2; do
	pod_ns_add "$k" 1
	cni "$k" ADD "dp6-$k" eth0 "/run/netns/$(ns "n${k}p1")" ||
		{ echo "dataplane6.sh: ADD on node$k: $(cat "$RST_TMP/cni.out")" >&2; exit 1; }
	IP[roost$k]=$(jq -r '[.ips[].address | select(test(":"))][0] // ""' "$RST_TMP/cni.out" | cut -d/ -f1)
	[ -n "${IP[roost$k]}" ] || { echo "dataplane6.sh: no IPv6 address in node$k's result" >&2; exit 1; }
done

declare -A SRC DST SRVNS
SRC[node6]=$(ns n1) DST[node6]=fd00:172:31::12 SRVNS[node6]=$(ns n2)
SRC[roost6]=$(ns n1p1) DST[roost6]=${IP[roost2]} SRVNS[roost6]=$(ns n2p1)
SRC[hand6m]=$(ns n3p1) DST[hand6m]=fd00:10:244:4::2 SRVNS[hand6m]=$(ns n4p1)
SRC[hand6]=$(ns n5p1) DST[hand6]=fd00:10:244:6::2 SRVNS[hand6]=$(ns n6p1)

# The paths are what they claim to be.
paths_ok=yes
ip -n "$(ns n1)" -6 route get "${IP[roost2]}" | grep -q "via fd00:172:31::12 dev eth0" || paths_ok=no
ip -n "$(ns n1)" -6 route show fd00:10:244:2::/64 | grep -q "proto bird" || paths_ok=no
ip netns exec "$(ns n1)" nft list table ip6 roost >/dev/null 2>&1 || paths_ok=no # masquerade on
ip -n "$(ns n3)" -6 route get fd00:10:244:4::2 | grep -q "via fd00:172:31::14 dev eth0" || paths_ok=no
if [[ " $SCEN " == *" hand6 "* ]]; then
	ip -n "$(ns n5)" -6 route get fd00:10:244:6::2 | grep -q "via fd00:172:31::16 dev eth0" || paths_ok=no
	ip netns exec "$(ns n5)" nft list tables 2>/dev/null | grep -q . && paths_ok=no # no nat at all
fi
[ "$paths_ok" = yes ] || { echo "dataplane6.sh: a path is not as built" >&2; exit 1; }

for s in $SCEN; do
	bg_start "${SRVNS[$s]}" "$RST_TMP/iperf-srv-$s.log" iperf3 -s -B "${DST[$s]}"
	wait_until 10 bash -c "ip netns exec ${SRVNS[$s]} ss -ltn | grep -qF '[${DST[$s]}]:5201'" ||
		{ echo "dataplane6.sh: iperf3 server for $s did not start" >&2; exit 1; }
	ip netns exec "${SRC[$s]}" ping -6 -c 3 -i 0.2 -W 2 "${DST[$s]}" >/dev/null ||
		{ echo "dataplane6.sh: $s: ${DST[$s]} does not answer ping6" >&2; exit 1; }
done

errors=0
for r in $(seq 1 "$runs"); do
	for s in $SCEN; do
		for p in 1 4; do
			say "run $r/$runs: $s, $p stream(s), $secs s"
			f="$RST_TMP/iperf-$s-$p-$r.json"
			if ip netns exec "${SRC[$s]}" iperf3 -6 -c "${DST[$s]}" -t "$secs" -P "$p" -J >"$f" 2>&1 &&
				bps=$(jq -e '.end.sum_received.bits_per_second' "$f"); then
				awk -v b="$bps" 'BEGIN {printf "%.3f\n", b / 1e9}' | tee "$BENCH_RES/$s-$p-r$r" >>"$BENCH_RES/$s-$p"
				jq -e '.end.sum_sent.retransmits' "$f" >>"$BENCH_RES/$s-$p-retr"
			else
				errors=$((errors + 1))
				echo "# iperf3 $s -P $p failed: $(head -c 300 "$f")" >&2
			fi
		done
		ip netns exec "${SRC[$s]}" ping -6 -q -c 50 -i 0.01 "${DST[$s]}" |
			sed -n 's|^rtt [^=]*= [0-9.]*/\([0-9.]*\)/.*|\1|p' >>"$BENCH_RES/$s-rtt"
	done
done

label() {
	case $1 in
	node6) echo "node → node on the fabric over IPv6 (eth0, MTU 1500)" ;;
	roost6) echo "**roost**: pod → pod across dual-stack nodes over IPv6 (MTU 1500)" ;;
	hand6m) echo "hand-built IPv6 routed + the same masquerade rule (conntrack; MTU 1500)" ;;
	hand6) echo "hand-built IPv6 routed: bridge + veth + static routes (MTU 1500)" ;;
	esac
}
md "## Data plane, IPv6" "" \
	"$(date -u +%Y-%m-%d); $mach; iperf3 TCP over IPv6, $secs s per test, $runs run(s), the paths interleaved in every run." "" \
	"| path | 1 stream Gbit/s | 4 streams Gbit/s | ping6 avg RTT ms | retransmits (4 streams, median) |" \
	"|---|---|---|---|---|"
for s in $SCEN; do
	md "| $(label "$s") | $(stats "$BENCH_RES/$s-1") | $(stats "$BENCH_RES/$s-4") | $(stats "$BENCH_RES/$s-rtt" 3) | $(median "$BENCH_RES/$s-4-retr") |"
done
declare -A M
for s in $SCEN; do
	for p in 1 4; do
		M[$s$p]=$(median "$BENCH_RES/$s-$p")
	done
done
rr() { echo "| $1 | $(ratio "${M[${2}1]:-}" "${M[${3}1]:-}") | $(ratio "${M[${2}4]:-}" "${M[${3}4]:-}") |"; }
# The load of a shared machine moves during a run: the ratio within each
# run (the two paths measured back to back), then the median of those.
perrun() { # perrun A B P: "median (min..max)" of A/B run by run
	local r
	for r in $(seq 1 "$runs"); do
		ratio "$(cat "$BENCH_RES/$1-$3-r$r" 2>/dev/null)" "$(cat "$BENCH_RES/$2-$3-r$r" 2>/dev/null)" 3
		echo
	done | grep -v n/a >"$BENCH_RES/perrun-$1-$2-$3"
	stats "$BENCH_RES/perrun-$1-$2-$3"
}
md "" "Ratios of the medians:" "" \
	"| ratio | 1 stream | 4 streams |" "|---|---|---|" \
	"$(rr "roost / hand-built IPv6 routed + the same masquerade rule" roost6 hand6m)" \
	"| the same, run by run: median (min..max) of each run's own ratio | $(perrun roost6 hand6m 1) | $(perrun roost6 hand6m 4) |"
if ! quick; then
	md "$(rr "roost / hand-built IPv6 routed, no nat (the cost of conntrack)" roost6 hand6)" \
		"$(rr "hand-built + masquerade / hand-built, no nat" hand6m hand6)" \
		"$(rr "roost / node→node" roost6 node6)" \
		"$(rr "hand-built / node→node" hand6 node6)"
fi
md "" \
	"Method: one fabric bridge; every node has 172.31.0.(10+K)/24 and fd00:172:31::(10+K)/64 on" \
	"eth0. roost's nodes 1–2 are dual-stack (\`node.address6\`, \`node.pod_cidr6\`): BIRD installs" \
	"the other node's /64 via its global address (\`proto bird\`), the pods were added by the roost" \
	"plugin and the test uses their IPv6 addresses; roost's default \`egress.masquerade\` gives them" \
	"\`table ip6 roost\`. The hand-built nodes 3–4 have a bridge \`cni0\` with fd00:10:244:K::1/64," \
	"a veth per pod and a static route to the other node's /64 via its global address, plus the" \
	"same IPv6 masquerade rule in a table of their own; nodes 5–6 are built the same way without" \
	"it. iperf3 $(iperf3 --version | awk 'NR == 1 {print $2}') \`-6\` client in the source pod, server in the" \
	"destination (\`-t $secs\`, \`-P 1\` and \`-P 4\`, received rate); ping6: 50 × 10 ms. CPU-bound" \
	"memory-to-memory figures on shared cores: compare ratios. Errors: $errors."
md ""
[ "$errors" -eq 0 ]
