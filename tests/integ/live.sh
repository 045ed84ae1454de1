#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# live.sh - changes an operator makes to a running cluster, checked the way
# the network team would: a planned BIRD restart (the upgrade procedure of
# docs/topologies.md) under a 10 ms ping between pods, a fourth mesh node
# added and removed again by config + SIGHUP with the uptime of every other
# session unchanged, and an external peer two hops away (multihop) added
# live, whose allow-listed prefix is installed through the router in between.
. "$(dirname "$0")/lib.sh"
trap topo_cleanup EXIT

fabric_up
for k in 1 2 3; do
	node_add "$k"
	node_conf "$k" 3
	roostd_start "$k"
done
mesh_wait 3
pod_add 1 1
A=$POD_IP
pod_add 2 1
B=$POD_IP
check "pod $A on node1 reaches pod $B on node2" pod_ping 1 1 "$B"

# reloads K: how many reloads nK's roostd finished.
reloads() {
	grep -c 'info: reload: done' "$RST_TMP/n$1/roostd.log"
}
# hup K...: SIGHUP each node's roostd and wait (bounded) for its reload.
hup() {
	local k before
	for k in "$@"; do
		before=$(reloads "$k")
		kill -HUP "$(roostd_pid "$k")"
		wait_until 20 bash -c "[ \$(grep -c 'info: reload: done' $RST_TMP/n$k/roostd.log) -gt $before ]" ||
			not_ok "node$k: reload finished" "$(tail -5 "$RST_TMP/n$k/roostd.log")"
	done
}
node1_seen_up() {
	established 2 node_node1 && established 3 node_node1
}
node1_routes() {
	kernel_route 1 10.244.2.0/24 172.31.0.12 && kernel_route 1 10.244.3.0/24 172.31.0.13
}
node4_everywhere() {
	local k
	for k in 1 2 3; do kernel_route "$k" 10.244.4.0/24 172.31.0.14 || return 1; done
}
node4_has_all() {
	local j
	for j in 1 2 3; do kernel_route 4 "10.244.$j.0/24" "172.31.0.1$j" || return 1; done
}
node4_nowhere() {
	local k
	for k in 1 2 3; do no_kernel_route "$k" 10.244.4.0/24 || return 1; done
}
all_established() {
	local k p
	for k in "$@"; do
		for p in $(bgp_protocols "$k"); do
			established "$k" "$p" || return 1
		done
	done
}

# ---- a fourth mesh node, added by SIGHUP ---------------------------------------------------
# Across a change, the mesh sessions among nodes 1-3 must stay up
# (stay_up_begin / stay_up_check in lib.sh).
stay_up_begin 1 2 3
node_add 4
node_conf 4 4
for k in 1 2 3; do node_conf "$k" 4; done
t0=$(now_ms)
hup 1 2 3
roostd_start 4
check "node4 added: its /24 in every other kernel" wait_until 30 node4_everywhere
measure "node4 added by SIGHUP: its /24 in all three other kernels $(($(now_ms) - t0)) ms after the first SIGHUP"
check "node4 added: every other /24 in node4's kernel" wait_until 30 node4_has_all
pod_add 4 1
check "a pod on node4 reaches the pod on node1" pod_ping 4 1 "$A"
check "node4 added: the six sessions among nodes 1-3 stayed up (polled every 50 ms)" stay_up_check
stay_up_report
check "node4 added: no reload refused" \
	bash -c "! grep -h 'error: reload' $RST_TMP/n1/roostd.log $RST_TMP/n2/roostd.log $RST_TMP/n3/roostd.log"

# ---- ... and removed again -----------------------------------------------------------------
cni 4 DEL pod-4-1 eth0 "/run/netns/$(ns n4p1)"
stay_up_begin 1 2 3
for k in 1 2 3; do node_conf "$k" 3; done
hup 1 2 3
check "node4 removed: node_node4 gone from nodes 1-3" \
	bash -c "! { $BIRDC -s $RST_TMP/n1/bird.ctl show protocols; $BIRDC -s $RST_TMP/n2/bird.ctl show protocols;
		$BIRDC -s $RST_TMP/n3/bird.ctl show protocols; } | grep -q node_node4"
check "node4 removed: its /24 gone from the kernels of nodes 1-3" wait_until 15 node4_nowhere
check "node4 removed: the other sessions stayed up (polled every 50 ms)" stay_up_check
stay_up_report
check "node4 removed: every remaining session Established" all_established 1 2 3
check "node4 removed: no reload refused" \
	bash -c "! grep -h 'error: reload' $RST_TMP/n1/roostd.log $RST_TMP/n2/roostd.log $RST_TMP/n3/roostd.log"
kill -TERM "$(roostd_pid 4)"
wait_until 10 bash -c "! kill -0 $(roostd_pid 4) 2>/dev/null"
birdc_n 4 down >/dev/null 2>&1

# ---- an external peer two hops away (multihop), added live ----------------------------------
# far (192.168.77.2, AS 65100) sits behind router rt (172.31.0.250 on the
# fabric, 192.168.77.1 towards far); node1 reaches it through a static route.
aux_add rt 172.31.0.250
ns_add far
mkdir -p "$RST_TMP/far"
ip -n "$(ns rt)" link add eth1 type veth peer name eth0 netns "$(ns far)"
ip -n "$(ns rt)" addr add 192.168.77.1/24 dev eth1
ip -n "$(ns rt)" link set eth1 up
ip netns exec "$(ns rt)" sysctl -qw net.ipv4.ip_forward=1
ip -n "$(ns far)" addr add 192.168.77.2/24 dev eth0
ip -n "$(ns far)" link set eth0 up
ip -n "$(ns far)" link set lo up
ip -n "$(ns far)" route add 172.31.0.0/24 via 192.168.77.1
ip -n "$(ns n1)" route add 192.168.77.0/24 via 172.31.0.250
check "node1 reaches far through rt (two hops)" \
	ip netns exec "$(ns n1)" ping -c 1 -W 2 192.168.77.2
cat >"$RST_TMP/far/bird.conf" <<EOF
router id 192.168.77.2;
log stderr all;
protocol device {}
protocol static announce {
	ipv4;
	route 192.0.2.0/24 blackhole;      # in node1's allow-list
	route 198.51.100.0/24 blackhole;   # not in it
}
protocol bgp node1 {
	local 192.168.77.2 as 65100;
	neighbor 172.31.0.11 as 64512;
	multihop 2;
	connect delay time 1;
	ipv4 { import all; export where proto = "announce"; next hop self; };
}
EOF
aux_bg far "$RST_TMP/far/bird.log" "$BIRD" -f -c "$RST_TMP/far/bird.conf" -s "$RST_TMP/far/bird.ctl"
stay_up_begin 1 2 3
node_conf 1 3 'peers = ( { name = "far"; address = "192.168.77.2"; asn = 65100; multihop = 2; bfd = "off"; import = ( "192.0.2.0/24" ); } );'
hup 1
check "multihop: peer_far Established on node1" wait_until 30 established 1 peer_far
check "multihop: far got node1's 10.244.1.0/24 with BGP next hop 172.31.0.11" \
	wait_until 15 bash -c "$BIRDC -s $RST_TMP/far/bird.ctl show route all 10.244.1.0/24 | grep -q 'BGP.next_hop: 172.31.0.11'"
check "multihop: far got nothing else of node1's (only its own /24)" \
	bash -c "[ \$($BIRDC -s $RST_TMP/far/bird.ctl show route protocol node1 count | grep -oE '^[0-9]+ of [0-9]+ routes' | cut -d' ' -f1) = 1 ]"
check "multihop: the allow-listed 192.0.2.0/24 is in node1's kernel via rt (recursive next hop)" \
	wait_until 15 bash -c "ip -n $(ns n1) route show 192.0.2.0/24 proto bird | grep -q '^192.0.2.0/24 via 172.31.0.250 dev eth0'"
ip -n "$(ns n1)" route show proto bird | sed 's/^/# node1 proto bird: /'
check "multihop: 198.51.100.0/24, not allow-listed, is in no kernel" \
	bash -c "! ip -n $(ns n1) route show 198.51.100.0/24 | grep -q . && ! ip -n $(ns n2) route show 198.51.100.0/24 | grep -q ."
check "multihop: the mesh sessions stayed up while the peer was added" stay_up_check
stay_up_report
"$top_builddir/agent/roostctl" -s "$RST_TMP/n1/roostd.sock" -o json audit >"$RST_TMP/audit.json"
check "multihop: node1's audit reports only the route far sent that policy filtered (every installed route matches)" \
	jq -e '[.drift[] | .kind] == ["filtered"] and (.drift[0].detail | test("peer_far"))' "$RST_TMP/audit.json"
# Last: after a planned restart of its BIRD, node1's neighbours have been
# seen to restart their session to it once more, seconds later (Since
# changes; no route is lost); the uptime checks above run before it.
# ---- planned BIRD restart (upgrade), docs/topologies.md --------------------------------
old=$(bird_pid 1)
ip netns exec "$(ns n1p1)" ping -q -i 0.01 -W 1 -c 1000 "$B" >"$RST_TMP/ping-planned.txt" 2>&1 &
ping_pid=$!
wait_until 5 bash -c "grep -q . /proc/$ping_pid/status"
check "planned restart: birdc graceful restart accepted" birdc_n 1 graceful restart
check "planned restart: roostd started a new BIRD (pid changed, with -R)" \
	wait_until 15 bash -c "p=\$(cat $RST_TMP/n1/bird.pid 2>/dev/null); [ -n \"\$p\" ] && [ \"\$p\" != $old ] && kill -0 \$p &&
		tr '\\0' ' ' </proc/\$p/cmdline | grep -q -- ' -R '"
check "planned restart: node1's sessions Established again" wait_until 30 all_established 1
check "planned restart: node2 and node3 have their session to node1 up again" \
	wait_until 30 node1_seen_up
check "planned restart: node1's kernel still routes to node2 and node3" node1_routes
# node2 and node3 keep helping node1's graceful restart until node1's
# End-of-RIB ("Neighbor graceful restart active"); BIRD changes the
# session's Since column when that ends, which can be seconds later. The
# uptime checks below start from the state after it (bounded by the
# restart time, 120 s).
gr_over() {
	! birdc_n 2 show protocols all node_node1 | grep -q 'Neighbor graceful restart active' &&
		! birdc_n 3 show protocols all node_node1 | grep -q 'Neighbor graceful restart active'
}
check "planned restart: node2 and node3 finished helping node1's graceful restart" \
	wait_until 150 gr_over
wait "$ping_pid"
sent=$(grep -oE '[0-9]+ packets transmitted' "$RST_TMP/ping-planned.txt" | cut -d' ' -f1)
got=$(grep -oE '[0-9]+ received' "$RST_TMP/ping-planned.txt" | cut -d' ' -f1)
measure "planned BIRD restart on node1, pod to pod 10 ms ping: ${sent:-?} sent, ${got:-?} received"
check "planned restart: no ping lost (${got:-?} of ${sent:-?})" test -n "$sent" -a "$sent" = "${got:-x}"

rst_finish
