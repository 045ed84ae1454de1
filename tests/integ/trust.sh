#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# trust.sh - a pod subnet is routed only to the node that owns it.
#
# Mesh of node1 and node2 (no pod_cidr on the mesh entries: owners are the
# first announcers), a pod on each pinging the other. Then node3 starts with
# node2's pod_cidr: its claim is filtered on node1 and node2, logged once,
# counted, and `roostctl audit` says `conflict`; the ping loses nothing.
# ExaBGP then plays a mesh neighbour (node4, whose pod_cidr node1's config
# names) that announces another node's subnet, its own with a third node's
# next hop, and a flood: nothing of it reaches node1's kernel. Last, the
# same conflict through a route reflector: the reflector keeps reflecting
# the owner's route only. And a mesh whose nodes each have an AS of their
# own (bgp.mesh[].asn): eBGP between them, routes as in any mesh.
. "$(dirname "$0")/lib.sh"
trap topo_cleanup EXIT

ROOSTCTL=${ROOSTCTL:-$top_builddir/agent/roostctl}
fabric_up
for k in 1 2 3; do
	node_add "$k"
done
aux_add rogue 172.31.0.14
topo_conf 1 'mesh = ( { name = "node2"; address = "172.31.0.12"; },
	{ name = "node3"; address = "172.31.0.13"; },
	{ name = "node4"; address = "172.31.0.14"; pod_cidr = "10.244.4.0/24"; } );'
topo_conf 2 'mesh = ( { name = "node1"; address = "172.31.0.11"; },
	{ name = "node3"; address = "172.31.0.13"; } );'
topo_conf 3 'mesh = ( { name = "node1"; address = "172.31.0.11"; },
	{ name = "node2"; address = "172.31.0.12"; } );'
# The misconfigured node: node2's subnet.
sed -i 's|pod_cidr = "10.244.3.0/24"|pod_cidr = "10.244.2.0/24"|' "$RST_TMP/n3/roostd.conf"

roostd_start 1
roostd_start 2
check "node1 and node2 route each other's /24" \
	wait_until 45 bash -c "$(declare -f kernel_route ns); RST_PREFIX=$RST_PREFIX;
		kernel_route 1 10.244.2.0/24 172.31.0.12 && kernel_route 2 10.244.1.0/24 172.31.0.11"
check "node1 learned node2 as the owner of 10.244.2.0/24 (first announcer)" \
	wait_until 15 log_has 1 'owner: learned subnet=10\.244\.2\.0/24 owner=node2 address=172\.31\.0\.12'
check "node1's rendered import policy names the owner" \
	wait_until 15 grep -q 'if net = 10.244.2.0/24 then return bgp_next_hop = 172.31.0.12;' \
	"$RST_TMP/n1/bird.conf"
check "node1: the learned owner is kept in the state folder" \
	jq -e '.learned[] | select(.subnet == "10.244.2.0/24" and .owner == "172.31.0.12")' \
	"$RST_TMP/n1/state/owners.json"
pod_add 1 1 && P1=$POD_IP
pod_add 2 1 && P2=$POD_IP
check "pods on node1 and node2 reach each other" wait_until 10 pod_ping 1 1 "$P2"

# ---- node3 claims node2's subnet ---------------------------------------------------------
ip netns exec "$(ns n1p1)" ping -i 0.05 -w 30 -c 400 "$P2" >"$RST_TMP/ping.txt" 2>&1 &
PING=$!
roostd_start 3
check "node3's sessions with node1 and node2 come up (its claim arrives)" \
	wait_until 45 bash -c "$(declare -f established birdc_n); BIRDC=$BIRDC RST_TMP=$RST_TMP;
		established 1 node_node3 && established 2 node_node3"
filtered() {
	birdc_n "$1" show route filtered 10.244.2.0/24 all | grep -q "node_node3"
}
check "node1: node3's route to 10.244.2.0/24 is filtered (show route filtered)" \
	wait_until 20 filtered 1
check "node2: node3's route to node2's own subnet is filtered" wait_until 20 filtered 2
check "node1 logs the conflict" \
	wait_until 15 log_has 1 'conflict subnet=10\.244\.2\.0/24 owner=node2 claimant=node3 session=node_node3'
check "node2 logs the conflict (its own subnet)" \
	wait_until 15 log_has 2 'conflict subnet=10\.244\.2\.0/24 owner=node2 claimant=node3'
check "node1 kernel: 10.244.2.0/24 still via node2" kernel_route 1 10.244.2.0/24 172.31.0.12
check "node1: BIRD's only accepted route to 10.244.2.0/24 is node2's" \
	bash -c "[ \"\$($BIRDC -s $RST_TMP/n1/bird.ctl show route 10.244.2.0/24 | grep -c 'node_node')\" = 1 ] &&
		$BIRDC -s $RST_TMP/n1/bird.ctl show route 10.244.2.0/24 | grep -q node_node2"
check "node2 kernel: no BIRD route to its own subnet" \
	bash -c "! ip -n $(ns n2) route show 10.244.2.0/24 proto bird | grep -q ."
"$ROOSTCTL" -s "$RST_TMP/n1/roostd.sock" -o json audit >"$RST_TMP/audit1.json"
rc=$?
check "node1: roostctl audit exits 1 and reports kind conflict (owner node2, claimant node3)" \
	bash -c "[ $rc = 1 ] && jq -e '.drift[] | select(.kind == \"conflict\" and .prefix == \"10.244.2.0/24\")
		| select(.detail | test(\"owned by node2, also claimed by node3\"))' $RST_TMP/audit1.json"
"$ROOSTCTL" -s "$RST_TMP/n1/roostd.sock" audit >"$RST_TMP/audit1.txt"
check "node1: roostctl audit's table shows the conflict" grep -q 'conflict' "$RST_TMP/audit1.txt"
scrape() {
	ip netns exec "$(ns "n$1")" curl -sf --max-time 5 http://127.0.0.1:9638/metrics
}
check "node1 metrics: roost_route_conflicts 1, roost_route_conflicts_total 1" \
	bash -c "$(declare -f scrape ns); RST_PREFIX=$RST_PREFIX; m=\$(scrape 1);
		grep -qx 'roost_route_conflicts 1' <<<\"\$m\" && grep -qx 'roost_route_conflicts_total 1' <<<\"\$m\""
wait "$PING"
loss=$(grep -Eo '[0-9.]+% packet loss' "$RST_TMP/ping.txt")
measure "trust: pod node1 -> pod node2 every 50 ms while node3 claims 10.244.2.0/24: ${loss:-?}"
check "pod node1 -> pod node2: 0% loss while node3 claims node2's subnet (${loss:-no ping})" \
	test "${loss%%%*}" = 0
check "node1 logged the conflict once" \
	test "$(grep -c 'conflict subnet=10.244.2.0/24 owner=node2 claimant=node3' "$RST_TMP/n1/roostd.log")" = 1

# ---- a rogue mesh neighbour ----------------------------------------------------------------
exabgp_run rogue 172.31.0.14 64512 172.31.0.11 64512 < <(
	echo "10.244.2.0/24 172.31.0.14" # node2's subnet
	echo "10.244.4.0/24 172.31.0.12" # its own, another node's next hop
	for i in $(seq 100 111); do
		echo "10.244.$i.0/24 172.31.0.14" # a flood
	done
)
check "node1: node_node4 (ExaBGP) Established" wait_until 45 established 1 node_node4
check "node1: node_node4's receive limit is 8 (a node sends a handful): the 6 routes past it ignored" \
	wait_until 15 bash -c "$BIRDC -s $RST_TMP/n1/bird.ctl show protocols all node_node4 >$RST_TMP/node4.txt &&
		grep -A1 'Receive limit: *8' $RST_TMP/node4.txt | grep -q 'Action: *block' &&
		awk '/Import updates:/ {exit !(\$6 >= 6)}' $RST_TMP/node4.txt"
check "node1: nothing from node_node4 accepted (0 imported)" \
	bash -c "$BIRDC -s $RST_TMP/n1/bird.ctl show protocols all node_node4 | grep -Eq 'Routes: +0 imported'"
check "node1 kernel: node4's subnet announced with node2's next hop is not installed" \
	no_kernel_route 1 10.244.4.0/24
check "node1 kernel: no flooded /24 from node4" \
	bash -c "! ip -n $(ns n1) route show proto bird | grep -q '172.31.0.14'"
check "node1 kernel: 10.244.2.0/24 still via node2" kernel_route 1 10.244.2.0/24 172.31.0.12
check "node1 logs node4's claim on node2's subnet" \
	wait_until 15 log_has 1 'conflict subnet=10\.244\.2\.0/24 owner=node2 claimant=node4 session=node_node4'
check "node2 kernel: nothing via node4" \
	bash -c "! ip -n $(ns n2) route show proto bird | grep -q '172.31.0.14'"
check "pods on node1 and node2 still reach each other" pod_ping 1 1 "$P2"

# ---- the same through a route reflector ----------------------------------------------------
lab_down
fabric_up
for k in 1 2 3 4; do node_add "$k"; done
topo_conf 1 'reflector = { clients = "172.31.0.0/24"; };'
sed -i 's| pod_cidr = "10.244.1.0/24";||' "$RST_TMP/n1/roostd.conf"
for k in 2 3 4; do
	topo_conf "$k" 'route_reflectors = ( { name = "rr1"; address = "172.31.0.11"; } );'
done
sed -i 's|pod_cidr = "10.244.4.0/24"|pod_cidr = "10.244.2.0/24"|' "$RST_TMP/n4/roostd.conf"
for k in 1 2 3; do roostd_start "$k"; done
check "reflector: node3 routes node2's /24 via node2" \
	wait_until 45 kernel_route 3 10.244.2.0/24 172.31.0.12
check "reflector: it learned node2 (172.31.0.12) as the owner of 10.244.2.0/24" \
	wait_until 15 log_has 1 'owner: learned subnet=10\.244\.2\.0/24 owner=- address=172\.31\.0\.12'
pod_add 3 1
pod_add 2 1 && P2=$POD_IP
check "reflector: pods on node3 and node2 reach each other" wait_until 10 pod_ping 3 1 "$P2"
ip netns exec "$(ns n3p1)" ping -i 0.05 -w 30 -c 400 "$P2" >"$RST_TMP/ping-rr.txt" 2>&1 &
PING=$!
roostd_start 4
check "reflector: node4's client session is up (its claim arrives)" \
	wait_until 45 established 4 rr_rr1
check "reflector: node4's route to 10.244.2.0/24 is filtered on the reflector" \
	wait_until 20 bash -c "$BIRDC -s $RST_TMP/n1/bird.ctl show route filtered 10.244.2.0/24 all | grep -q 'BGP.next_hop: 172.31.0.14'"
check "reflector: the conflict is logged, owner 172.31.0.12, claimant 172.31.0.14" \
	wait_until 15 log_has 1 'conflict subnet=10\.244\.2\.0/24 owner=172\.31\.0\.12 claimant=172\.31\.0\.14 session=client_'
"$ROOSTCTL" -s "$RST_TMP/n1/roostd.sock" -o json audit >"$RST_TMP/audit-rr.json"
rc=$?
check "reflector: roostctl audit exits 1 with kind conflict" \
	bash -c "[ $rc = 1 ] && jq -e '.drift[] | select(.kind == \"conflict\" and .prefix == \"10.244.2.0/24\")' $RST_TMP/audit-rr.json"
check "reflector: node3's kernel still routes 10.244.2.0/24 via node2" kernel_route 3 10.244.2.0/24 172.31.0.12
check "reflector: node3's BIRD never saw node4's claim" \
	bash -c "! $BIRDC -s $RST_TMP/n3/bird.ctl show route 10.244.2.0/24 all | grep -q 'BGP.next_hop: 172.31.0.14'"
wait "$PING"
loss=$(grep -Eo '[0-9.]+% packet loss' "$RST_TMP/ping-rr.txt")
measure "trust: reflector, pod node3 -> pod node2 every 50 ms while node4 claims 10.244.2.0/24: ${loss:-?}"
check "reflector: pod node3 -> pod node2 lost nothing (${loss:-no ping})" test "${loss%%%*}" = 0

# ---- per-node ASN --------------------------------------------------------------------------
lab_down
fabric_up
node_add 1
node_add 2
topo_conf 1 'mesh = ( { name = "node2"; address = "172.31.0.12"; pod_cidr = "10.244.2.0/24"; asn = 65002; } );' \
	'asn = 65001;'
topo_conf 2 'mesh = ( { name = "node1"; address = "172.31.0.11"; pod_cidr = "10.244.1.0/24"; asn = 65001; } );' \
	'asn = 65002;'
roostd_start 1
roostd_start 2
check "per-node ASN: rendered 'neighbor 172.31.0.12 as 65002' on node1" \
	wait_until 10 grep -q 'neighbor 172.31.0.12 as 65002;' "$RST_TMP/n1/bird.conf"
check "per-node ASN: node1 (AS 65001) and node2 (AS 65002) route each other's /24 over eBGP" \
	wait_until 45 bash -c "$(declare -f kernel_route ns); RST_PREFIX=$RST_PREFIX;
		kernel_route 1 10.244.2.0/24 172.31.0.12 && kernel_route 2 10.244.1.0/24 172.31.0.11"
check "per-node ASN: node1's route to node2's /24 has AS path 65002" \
	bash -c "$BIRDC -s $RST_TMP/n1/bird.ctl show route 10.244.2.0/24 all | grep -Eq 'BGP.as_path: 65002$'"

rst_finish
