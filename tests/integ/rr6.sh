#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# rr6.sh - route reflection for both families: a dual-stack roostd reflector
# (node1, with pods; bgp.reflector.clients and clients6) serves two
# dual-stack clients (node3, node4; sessions over IPv4 with an ipv6 channel)
# and two IPv6-only clients (node5, node6; sessions over IPv6, client6_*).
# Every client kernel has every other node's IPv6 /64 via its owner's
# global address (the reflector does not rewrite the next hop), the
# dual-stack ones each other's /24 too; cni0s ping6 across. The reflector
# learns each dual-stack client's IPv6 address (the first IPv6 next hop its
# IPv4 session announced) and ties the client to it. ExaBGP plays two
# clients that lie about the IPv6 next hop: one over IPv6 (node4's address
# as next hop), one over IPv4 (a next hop outside clients6, and node3's
# address): all are filtered by the reflector and reach no kernel. Last,
# IPv6-only node6 becomes a mesh neighbour of the reflector while node1
# still holds it as a dynamic client6_*: roostd moves it to node_node6.
. "$(dirname "$0")/lib.sh"
trap topo_cleanup EXIT

if ! command -v exabgp >/dev/null; then
	not_ok "ExaBGP is installed (apt-get install exabgp)"
	rst_finish
	exit
fi
DUAL="3 4"
V6ONLY="5 6"

# conf K BGP: nK's roostd.conf; nodes 5 and 6 are IPv6-only.
conf() {
	local k=$1 bgp=$2 d="$RST_TMP/n$1" node
	if [ "$k" -ge 5 ]; then
		node="node = { name = \"node$k\"; address6 = \"fd00:172:31::1$k\"; pod_cidr6 = \"fd00:10:244:$k::/64\"; };
cluster = { pod_cidr6 = \"fd00:10:244::/48\"; asn = 64512; };"
	else
		node="node = { name = \"node$k\"; address = \"172.31.0.1$k\"; pod_cidr = \"10.244.$k.0/24\";
         address6 = \"fd00:172:31::1$k\"; pod_cidr6 = \"fd00:10:244:$k::/64\"; };
cluster = { pod_cidr = \"10.244.0.0/16\"; pod_cidr6 = \"fd00:10:244::/48\"; asn = 64512; };"
	fi
	cat >"$d/roostd.conf" <<EOF
$node
bgp = { $bgp };
bird = { binary = "$BIRD"; config = "$d/bird.conf"; socket = "$d/bird.ctl"; pidfile = "$d/bird.pid"; };
agent = { socket = "$d/roostd.sock"; state_dir = "$d/state"; log_level = "debug"; };
EOF
}

fabric_up
for k in 1 $DUAL; do
	node_add "$k"
	ip -n "$(ns "n$k")" addr add "fd00:172:31::1$k/64" dev eth0 nodad
done
for k in $V6ONLY; do
	ns_add "n$k"
	ip -n "$(ns "n$k")" link add eth0 type veth peer name "n$k" netns "$(ns fab)"
	ip -n "$(ns fab)" link set "n$k" master br0 up
	ip -n "$(ns "n$k")" addr add "fd00:172:31::1$k/64" dev eth0 nodad
	ip -n "$(ns "n$k")" link set eth0 up
	mkdir -p "$RST_TMP/n$k"
done
# a second IPv6 network on the segment, outside clients6 (the IPv4 liar's next hop)
ip -n "$(ns n1)" addr add fd00:99::11/64 dev eth0 nodad
conf 1 'reflector = { clients = "172.31.0.0/24"; clients6 = "fd00:172:31::/64"; };'
for k in $DUAL; do
	conf "$k" 'route_reflectors = ( { name = "rr1"; address = "172.31.0.11"; } );'
done
for k in $V6ONLY; do
	conf "$k" 'route_reflectors = ( { name = "rr1"; address6 = "fd00:172:31::11"; } );'
done
for k in 1 $DUAL $V6ONLY; do
	roostd_start "$k"
done

# ---- every client has every other node's /64 via its owner ------------------------
all6() {
	local k j
	for k in $DUAL $V6ONLY; do
		for j in 1 $DUAL $V6ONLY; do
			[ "$j" = "$k" ] || kernel_route6 "$k" "fd00:10:244:$j::/64" "fd00:172:31::1$j" || return 1
		done
	done
}
t0=$(now_ms)
wait_until 45 all6 && measure "RR6: start -> every client has the other 4 nodes' IPv6 /64s: $(($(now_ms) - t0)) ms"
for k in $DUAL $V6ONLY; do
	for j in 1 $DUAL $V6ONLY; do
		[ "$j" = "$k" ] && continue
		check "RR6: node$k kernel: fd00:10:244:$j::/64 via fd00:172:31::1$j (its owner's global address)" \
			kernel_route6 "$k" "fd00:10:244:$j::/64" "fd00:172:31::1$j"
	done
	check "RR6: node$k kernel: no IPv6 route via a link-local or the reflector for another client" \
		bash -c "! ip -n $(ns "n$k") -6 route show proto bird | grep -Eq 'via fe80:|^fd00:10:244:[3-6]::/64 via fd00:172:31::11 '"
done
check "RR6: dual-stack clients have each other's /24 (node3: 10.244.4.0/24 via 172.31.0.14)" \
	wait_until 15 bash -c "$(declare -f kernel_route ns); RST_PREFIX=$RST_PREFIX;
		kernel_route 3 10.244.4.0/24 172.31.0.14 && kernel_route 4 10.244.3.0/24 172.31.0.13"
check "RR6: the reflector's kernel has the clients' /64s (fd00:10:244:5::/64 via fd00:172:31::15)" \
	kernel_route6 1 fd00:10:244:5::/64 fd00:172:31::15
sessions() { # K KIND: number of Established KIND_<N> sessions on nK
	birdc_n "$1" show protocols | grep -cE "^$2[0-9]+ +BGP .* Established"
}
check "RR6: the reflector has 2 Established client_* (IPv4) and 2 client6_* (IPv6) sessions" \
	wait_until 15 bash -c "$(declare -f sessions birdc_n); BIRDC=$BIRDC RST_TMP=$RST_TMP;
		[ \$(sessions 1 client_) = 2 ] && [ \$(sessions 1 client6_) = 2 ]"
check "RR6: IPv6-only node5's only BGP protocol is rr_rr1, over IPv6" \
	bash -c "[ \"\$($BIRDC -s $RST_TMP/n5/bird.ctl show protocols | awk '\$2 == \"BGP\" {print \$1}')\" = rr_rr1 ] &&
		$BIRDC -s $RST_TMP/n5/bird.ctl show protocols all rr_rr1 | grep -q 'Neighbor address: fd00:172:31::11'"
check "RR6: node5 show route all fd00:10:244:3::/64: next hop node3's (not rewritten), originator node3" \
	bash -c "$BIRDC -s $RST_TMP/n5/bird.ctl show route all fd00:10:244:3::/64 >$RST_TMP/sr5.txt &&
		grep -q 'BGP.next_hop: fd00:172:31::13' $RST_TMP/sr5.txt &&
		grep -q 'BGP.originator_id: 172.31.0.13' $RST_TMP/sr5.txt &&
		grep -q 'BGP.cluster_list: 172.31.0.11' $RST_TMP/sr5.txt"
check "RR6: node3 show route all fd00:10:244:6::/64 (IPv6-only node6, over the IPv4 session): next hop fd00:172:31::16" \
	bash -c "$BIRDC -s $RST_TMP/n3/bird.ctl show route all fd00:10:244:6::/64 | grep -q 'BGP.next_hop: fd00:172:31::16'"
check "RR6: IPv6 traffic is routed (IPv6-only node5 cni0 -> dual-stack node3 cni0)" \
	ip netns exec "$(ns n5)" ping -6 -c 2 -W 2 -I fd00:10:244:5::1 fd00:10:244:3::1
check "RR6: IPv6 traffic is routed (dual-stack node4 cni0 -> IPv6-only node6 cni0)" \
	ip netns exec "$(ns n4)" ping -6 -c 2 -W 2 -I fd00:10:244:4::1 fd00:10:244:6::1

# ---- the reflector ties each dual-stack client to its IPv6 address ---------------------
for k in $DUAL; do
	check "RR6: the reflector learned node$k's IPv6 address from its IPv4 session and renders the tie" \
		wait_until 15 grep -q "if from = 172.31.0.1$k then return bgp_next_hop = fd00:172:31::1$k;" \
		"$RST_TMP/n1/bird.conf"
done
check "RR6: the reflector keeps them in owners.json (clients6)" \
	jq -e '[.clients6[] | select(.from == "172.31.0.13" and .address6 == "fd00:172:31::13")] | length == 1' \
	"$RST_TMP/n1/state/owners.json"

# ---- clients that lie about their IPv6 next hop -------------------------------------
aux_add rogue 172.31.0.66
ip -n "$(ns rogue)" addr add fd00:172:31::66/64 dev eth0 nodad
ip -n "$(ns rogue)" addr add fd00:99::66/64 dev eth0 nodad
cat >"$RST_TMP/rogue/exabgp.conf" <<EOF
neighbor fd00:172:31::11 {
  router-id 172.31.0.66;
  local-address fd00:172:31::66;
  local-as 64512;
  peer-as 64512;
  family { ipv6 unicast; }
  static {
    route fd00:10:244:66::/64 next-hop fd00:172:31::14;
  }
}
neighbor 172.31.0.11 {
  router-id 172.31.0.66;
  local-address 172.31.0.66;
  local-as 64512;
  peer-as 64512;
  family { ipv6 unicast; }
  static {
    route fd00:10:244:67::/64 next-hop fd00:99::66;
    route fd00:10:244:68::/64 next-hop fd00:172:31::13;
  }
}
EOF
aux_bg rogue "$RST_TMP/rogue/exabgp.log" env exabgp.daemon.user=root exabgp.daemon.daemonize=false \
	exabgp.log.destination=stdout exabgp.api.cli=false exabgp.tcp.bind= \
	exabgp "$RST_TMP/rogue/exabgp.conf"
check "RR6: both lying clients' sessions are Established (3 client_, 3 client6_)" \
	wait_until 30 bash -c "$(declare -f sessions birdc_n); BIRDC=$BIRDC RST_TMP=$RST_TMP;
		[ \$(sessions 1 client_) = 3 ] && [ \$(sessions 1 client6_) = 3 ]"
filtered_on_rr() { # PREFIX NEXT_HOP: the reflector filtered PREFIX with that next hop
	birdc_n 1 show route filtered "$1" all | grep -q "BGP.next_hop: $2"
}
check "RR6: the IPv6 client announcing node4's address as next hop is filtered (next hop = its session's address)" \
	wait_until 20 filtered_on_rr fd00:10:244:66::/64 fd00:172:31::14
check "RR6: the IPv4 client announcing a next hop outside clients6 is filtered" \
	wait_until 20 filtered_on_rr fd00:10:244:67::/64 fd00:99::66
check "RR6: the IPv4 client announcing node3's IPv6 address as next hop is filtered (node3's already)" \
	wait_until 20 filtered_on_rr fd00:10:244:68::/64 fd00:172:31::13
for k in 1 $DUAL $V6ONLY; do
	check "RR6: node$k kernel: nothing for the lying clients' fd00:10:244:66-68::/64" \
		bash -c "! ip -n $(ns "n$k") -6 route show proto bird | grep -Eq '^fd00:10:244:6[6-8]::/64 '"
done
check "RR6: the reflector learned no owner from the liars" \
	bash -c "! grep -Eq 'owner: learned (subnet=fd00:10:244:6[6-8]::|client=172.31.0.66)' $RST_TMP/n1/roostd.log"
check "RR6: node4's /64 still via node4 on node5" kernel_route6 5 fd00:10:244:4::/64 fd00:172:31::14


# ---- an IPv6-only client becomes a mesh neighbour of the reflector -----------------
# Both files change (node1's gains a mesh entry for node6, node6's names
# node1 as a mesh neighbour instead of a reflector) and both reload. node6's
# address is still inside clients6, so BIRD may keep its connection as a
# dynamic client6_N; roostd disables that one, and node_node6 takes over.
conf 1 'reflector = { clients = "172.31.0.0/24"; clients6 = "fd00:172:31::/64"; };
	mesh = ( { name = "node6"; address6 = "fd00:172:31::16"; pod_cidr6 = "fd00:10:244:6::/64"; } );'
conf 6 'mesh = ( { name = "node1"; address6 = "fd00:172:31::11"; pod_cidr6 = "fd00:10:244:1::/64"; } );'
# node1's Established sessions with fd00:172:31::16, by protocol name
sessions_of_node6() {
	birdc_n 1 show protocols all | awk '
		/^[A-Za-z0-9_]+ +BGP / { name = $1; est = / Established/ }
		/Neighbor address: fd00:172:31::16$/ && est { print name }'
}
node6_meshed() { [ "$(sessions_of_node6 | tr '\n' ' ')" = "node_node6 " ]; }
# node6 first: its new node_node1 session lands on node1's dynamic range
kill_ours HUP "$(roostd_pid 6)"
check "RR6 -> mesh: node6 reloaded first is held by node1 as a dynamic client6_*" \
	wait_until 20 bash -c "$(declare -f sessions_of_node6 birdc_n); BIRDC=$BIRDC RST_TMP=$RST_TMP;
		sessions_of_node6 | grep -q '^client6_'"
t0=$(now_ms)
kill_ours HUP "$(roostd_pid 1)"
check "RR6 -> mesh: node1's one Established session with node6 is node_node6 (no client6_*)" \
	wait_until 20 node6_meshed
measure "RR6 -> mesh: node1 reload -> node_node6 Established: $(($(now_ms) - t0)) ms"
check "RR6 -> mesh: node5 (still a client) has node6's /64 via node6" \
	wait_until 10 kernel_route6 5 fd00:10:244:6::/64 fd00:172:31::16

rst_finish
