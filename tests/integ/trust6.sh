#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# trust6.sh - an IPv6 pod subnet is routed only to the node that owns it.
#
# Dual-stack node1 and IPv6-only node2 in a mesh whose entries name no
# pod_cidr6: the owners are the first announcers, learned by their global
# IPv6 next hop, rendered into the import policy and kept in owners.json
# (also on the IPv6-only node). A pod on each pings6 the other. Then
# dual-stack node3 starts with node2's IPv6 /64 (a copied config): its
# claim is filtered on node1 and node2 and installed nowhere, logged once,
# and `roostctl audit` says `conflict`; the ping6 loses nothing. A restart
# of node1's roostd keeps the learned owner (the file).
. "$(dirname "$0")/lib.sh"
trap topo_cleanup EXIT

ROOSTCTL=${ROOSTCTL:-$top_builddir/agent/roostctl}


# conf K: nK's roostd.conf; node2 is IPv6-only; mesh entries without subnets.
conf() {
	local k=$1 d="$RST_TMP/n$1" j mesh="" node
	for j in 1 2 3; do
		[ "$j" = "$k" ] && continue
		if [ "$j" = 2 ] || [ "$k" = 2 ]; then
			mesh="$mesh${mesh:+, }{ name = \"node$j\"; address6 = \"fd00:172:31::1$j\"; }"
		else
			mesh="$mesh${mesh:+, }{ name = \"node$j\"; address = \"172.31.0.1$j\"; address6 = \"fd00:172:31::1$j\"; }"
		fi
	done
	if [ "$k" = 2 ]; then
		node="node = { name = \"node2\"; address6 = \"fd00:172:31::12\"; pod_cidr6 = \"fd00:10:244:2::/64\"; };
cluster = { pod_cidr6 = \"fd00:10:244::/48\"; asn = 64512; };"
	else
		node="node = { name = \"node$k\"; address = \"172.31.0.1$k\"; pod_cidr = \"10.244.$k.0/24\";
         address6 = \"fd00:172:31::1$k\"; pod_cidr6 = \"fd00:10:244:$k::/64\"; };
cluster = { pod_cidr = \"10.244.0.0/16\"; pod_cidr6 = \"fd00:10:244::/48\"; asn = 64512; };"
	fi
	cat >"$d/roostd.conf" <<EOF
$node
bgp = { mesh = ( $mesh ); };
bird = { binary = "$BIRD"; config = "$d/bird.conf"; socket = "$d/bird.ctl"; pidfile = "$d/bird.pid"; };
agent = { socket = "$d/roostd.sock"; state_dir = "$d/state"; log_level = "debug"; };
EOF
}

fabric_up
for k in 1 3; do
	node_add "$k"
	ip -n "$(ns "n$k")" addr add "fd00:172:31::1$k/64" dev eth0 nodad
	conf "$k"
done
ns_add n2
ip -n "$(ns n2)" link add eth0 type veth peer name n2 netns "$(ns fab)"
ip -n "$(ns fab)" link set n2 master br0 up
ip -n "$(ns n2)" addr add fd00:172:31::12/64 dev eth0 nodad
ip -n "$(ns n2)" link set eth0 up
mkdir -p "$RST_TMP/n2"
conf 2
# The misconfigured node: node2's IPv6 subnet.
sed -i 's|pod_cidr6 = "fd00:10:244:3::/64"|pod_cidr6 = "fd00:10:244:2::/64"|' "$RST_TMP/n3/roostd.conf"

roostd_start 1
roostd_start 2
check "node1 and IPv6-only node2 route each other's /64" \
	wait_until 45 bash -c "$(declare -f kernel_route6 ns); RST_PREFIX=$RST_PREFIX;
		kernel_route6 1 fd00:10:244:2::/64 fd00:172:31::12 && kernel_route6 2 fd00:10:244:1::/64 fd00:172:31::11"
check "node1 learned node2 as the owner of fd00:10:244:2::/64 (first announcer, its global address)" \
	wait_until 15 log_has 1 'owner: learned subnet=fd00:10:244:2::/64 owner=node2 address=fd00:172:31::12 '
check "IPv6-only node2 learned node1 as the owner of fd00:10:244:1::/64" \
	wait_until 15 log_has 2 'owner: learned subnet=fd00:10:244:1::/64 owner=node1 address=fd00:172:31::11 '
check "node1's rendered import policy names the owner (roost_owner6_ok)" \
	wait_until 15 grep -q 'if net = fd00:10:244:2::/64 then return bgp_next_hop = fd00:172:31::12;   # node2 (first announcer)' \
	"$RST_TMP/n1/bird.conf"
check "node1: the learned owner is kept in the state folder (learned6)" \
	jq -e '.learned6[] | select(.subnet == "fd00:10:244:2::/64" and .owner == "fd00:172:31::12" and .name == "node2")' \
	"$RST_TMP/n1/state/owners.json"
check "node1: roostctl status names the learned owner of fd00:10:244:2::/64" \
	bash -c "'$ROOSTCTL' -s $RST_TMP/n1/roostd.sock status |
		grep -q '^route6    fd00:10:244:2::/64 via fd00:172:31::12, session node_node2, owner node2 (first announcer)\$'"
P1=none P2=none
pod_add 1 1 && P1=$(jq -r '[.ips[] | select(.address | test(":"))][0].address' "$RST_TMP/cni.out" | cut -d/ -f1)
pod_add 2 1 && P2=$(jq -r '[.ips[] | select(.address | test(":"))][0].address' "$RST_TMP/cni.out" | cut -d/ -f1)
check "pods on node1 and node2 reach each other over IPv6 ($P1 -> $P2)" \
	wait_until 10 ip netns exec "$(ns n1p1)" ping -6 -c 1 -W 2 "$P2"

# ---- node3 claims node2's IPv6 subnet --------------------------------------------------
ip netns exec "$(ns n1p1)" ping -6 -i 0.05 -w 30 -c 400 "$P2" >"$RST_TMP/ping6.txt" 2>&1 &
PING=$!
roostd_start 3
check "node3's sessions with node1 and node2 come up (its claim arrives)" \
	wait_until 45 bash -c "$(declare -f established birdc_n); BIRDC=$BIRDC RST_TMP=$RST_TMP;
		established 1 node_node3 && established 2 node_node3"
filtered() {
	birdc_n "$1" show route filtered fd00:10:244:2::/64 all | grep -q "node_node3"
}
check "node1: node3's route to fd00:10:244:2::/64 is filtered (show route filtered)" \
	wait_until 20 filtered 1
check "node2: node3's route to node2's own /64 is filtered" wait_until 20 filtered 2
check "node1 logs the conflict" \
	wait_until 15 log_has 1 'conflict subnet=fd00:10:244:2::/64 owner=node2 claimant=node3 session=node_node3'
check "node2 (IPv6-only) logs the conflict (its own subnet)" \
	wait_until 15 log_has 2 'conflict subnet=fd00:10:244:2::/64 owner=node2 claimant=node3'
check "node1 kernel: fd00:10:244:2::/64 still via node2" kernel_route6 1 fd00:10:244:2::/64 fd00:172:31::12
check "node1: BIRD's only accepted route to fd00:10:244:2::/64 is node2's" \
	bash -c "[ \"\$($BIRDC -s $RST_TMP/n1/bird.ctl show route fd00:10:244:2::/64 | grep -c 'node_node')\" = 1 ] &&
		$BIRDC -s $RST_TMP/n1/bird.ctl show route fd00:10:244:2::/64 | grep -q node_node2"
check "node2 kernel: no BIRD route to its own /64" \
	bash -c "! ip -n $(ns n2) -6 route show fd00:10:244:2::/64 proto bird | grep -q ."
check "no kernel has a route via node3's address for fd00:10:244:2::/64" \
	bash -c "! ip -n $(ns n1) -6 route show proto bird | grep -q 'via fd00:172:31::13' &&
		! ip -n $(ns n2) -6 route show proto bird | grep -q 'via fd00:172:31::13'"
check "node1 still installs node3's own IPv4 subnet (only the IPv6 claim is filtered)" \
	wait_until 15 kernel_route 1 10.244.3.0/24 172.31.0.13
"$ROOSTCTL" -s "$RST_TMP/n1/roostd.sock" -o json audit >"$RST_TMP/audit1.json"
rc=$?
check "node1: roostctl audit exits 1 and reports kind conflict for fd00:10:244:2::/64 (owner node2, claimant node3)" \
	bash -c "[ $rc = 1 ] && jq -e '.drift[] | select(.kind == \"conflict\" and .prefix == \"fd00:10:244:2::/64\")
		| select(.detail | test(\"owned by node2, also claimed by node3\"))' $RST_TMP/audit1.json"
wait "$PING"
loss=$(grep -Eo '[0-9.]+% packet loss' "$RST_TMP/ping6.txt")
measure "trust6: pod node1 -> pod node2 (ping6 every 50 ms) while node3 claims fd00:10:244:2::/64: ${loss:-?}"
check "pod node1 -> pod node2: 0% loss while node3 claims node2's /64 (${loss:-no ping})" \
	test "${loss%%%*}" = 0
check "node1 logged the conflict once" \
	test "$(grep -c 'conflict subnet=fd00:10:244:2::/64 owner=node2 claimant=node3' "$RST_TMP/n1/roostd.log")" = 1

# ---- a roostd restart keeps the owner ----------------------------------------------------
kill -TERM "$(roostd_pid 1)"
wait_until 10 bash -c "! kill -0 $(roostd_pid 1) 2>/dev/null"
roostd_start 1
check "node1's restarted roostd reads the learned owner back" \
	wait_until 15 log_has 1 "roostd\[$(roostd_pid 1)\] info: owner: [0-9]+ subnet owner\(s\) learned earlier"
check "node1's restarted roostd renders the owner again" \
	wait_until 15 grep -q 'if net = fd00:10:244:2::/64 then return bgp_next_hop = fd00:172:31::12;' \
	"$RST_TMP/n1/bird.conf"
check "node1: node3's claim still filtered after the restart" wait_until 15 filtered 1
check "node1 kernel: fd00:10:244:2::/64 still via node2 after the restart" \
	kernel_route6 1 fd00:10:244:2::/64 fd00:172:31::12

rst_finish
