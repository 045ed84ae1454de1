#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# dual.sh - dual-stack: three nodes with an IPv4 and an IPv6 pod subnet each
# learn every other node's subnets of both families over one BGP session per
# neighbour (ipv4 and ipv6 channels), installed via the owners' global
# addresses with roost's metric; the bridges carry both gateways and route
# between nodes; an IPv6-only node among them peers over IPv6; a ToR over
# IPv6 gets node1's IPv6 subnet only and gives it its allow-list only; a
# neighbour claiming node2's subnets of both families is filtered. Then three
# IPv6-only nodes do the same over IPv6 sessions. BIRD killed with -9 on a
# dual-stack and on an IPv6-only node: graceful restart keeps both families.
. "$(dirname "$0")/lib.sh"

METRIC=33

# kernel_route6 K PREFIX VIA: nK's kernel has PREFIX via VIA (a global
# address, never a link-local), installed by BIRD with roost's metric.
kernel_route6() {
	ip -n "$(ns "n$1")" -6 route show "$2" proto bird |
		grep -q "^$2 via $3 dev eth0 metric $METRIC "
}

# dual_conf K [EXTRA]: nK's roostd.conf, dual-stack, in a mesh of nodes 1-3 that
# name each other's subnets (ownership) for both families, and node7,
# IPv6-only (its session runs over IPv6).
dual_conf() {
	local k=$1 extra=${2:-} j mesh="" d="$RST_TMP/n$1"
	for j in 1 2 3; do
		[ "$j" = "$k" ] && continue
		mesh="$mesh${mesh:+, }{ name = \"node$j\"; address = \"172.31.0.1$j\"; pod_cidr = \"10.244.$j.0/24\";
             address6 = \"fd00:172:31::1$j\"; pod_cidr6 = \"fd00:10:244:$j::/64\"; }"
	done
	mesh="$mesh, { name = \"node7\"; address6 = \"fd00:172:31::17\"; pod_cidr6 = \"fd00:10:244:7::/64\"; }"
	# node8 is a neighbour whose subnets the others do not know.
	mesh="$mesh, { name = \"node8\"; address = \"172.31.0.18\"; address6 = \"fd00:172:31::18\"; }"
	cat >"$d/roostd.conf" <<EOF
node = { name = "node$k"; address = "172.31.0.1$k"; pod_cidr = "10.244.$k.0/24";
         address6 = "fd00:172:31::1$k"; pod_cidr6 = "fd00:10:244:$k::/64"; };
cluster = { pod_cidr = "10.244.0.0/16"; pod_cidr6 = "fd00:10:244::/48"; asn = 64512; };
bgp = { mesh = ( $mesh ); $extra };
bird = { binary = "$BIRD"; config = "$d/bird.conf"; socket = "$d/bird.ctl"; pidfile = "$d/bird.pid"; };
agent = { socket = "$d/roostd.sock"; state_dir = "$d/state"; log_level = "debug"; };
EOF
}

# v6_conf K: nK's roostd.conf, IPv6-only: nodes 4-6 with mesh entries
# without pod_cidr6 (the next hop must still be the neighbour's own
# address); node 7 in the dual-stack cluster of nodes 1-3.
v6_conf() {
	local k=$1 j mesh="" d="$RST_TMP/n$1" seg=32 cl=20
	if [ "$k" = 7 ]; then
		seg=31
		cl=10
		for j in 1 2 3; do
			mesh="$mesh${mesh:+, }{ name = \"node$j\"; address6 = \"fd00:172:31::1$j\"; pod_cidr6 = \"fd00:10:244:$j::/64\"; }"
		done
	else
		for j in 4 5 6; do
			[ "$j" = "$k" ] && continue
			mesh="$mesh${mesh:+, }{ name = \"node$j\"; address6 = \"fd00:172:32::1$j\"; }"
		done
	fi
	cat >"$d/roostd.conf" <<EOF
node = { name = "node$k"; address6 = "fd00:172:$seg::1$k"; pod_cidr6 = "fd00:$cl:244:$k::/64"; };
cluster = { pod_cidr6 = "fd00:$cl:244::/48"; };
bgp = { mesh = ( $mesh ); };
bird = { binary = "$BIRD"; config = "$d/bird.conf"; socket = "$d/bird.ctl"; pidfile = "$d/bird.pid"; };
agent = { socket = "$d/roostd.sock"; state_dir = "$d/state"; log_level = "debug"; };
EOF
}

# rogue_conf: node8 claims node2's subnets of both families (a copied
# config); the others know node2 owns them.
rogue_conf() {
	local d="$RST_TMP/n8"
	cat >"$d/roostd.conf" <<EOF
node = { name = "node8"; address = "172.31.0.18"; pod_cidr = "10.244.2.0/24";
         address6 = "fd00:172:31::18"; pod_cidr6 = "fd00:10:244:2::/64"; };
cluster = { pod_cidr = "10.244.0.0/16"; pod_cidr6 = "fd00:10:244::/48"; asn = 64512; };
bgp = { mesh = ( { name = "node1"; address = "172.31.0.11"; address6 = "fd00:172:31::11"; },
                 { name = "node3"; address = "172.31.0.13"; address6 = "fd00:172:31::13"; } ); };
bird = { binary = "$BIRD"; config = "$d/bird.conf"; socket = "$d/bird.ctl"; pidfile = "$d/bird.pid"; };
agent = { socket = "$d/roostd.sock"; state_dir = "$d/state"; log_level = "debug"; };
EOF
}

fabric_up
# A ToR over IPv6 (a plain BIRD, AS 65000) peers with node1: it sends a
# default route, an allow-listed prefix and one outside the list.
aux_add tor 172.31.0.1
ip -n "$(ns tor)" addr add fd00:172:31::1/64 dev eth0 nodad
cat >"$RST_TMP/tor/bird.conf" <<EOF
log stderr all;
router id 172.31.0.1;
protocol device {
}
protocol static tor_routes {
	ipv6;
	route ::/0 blackhole;
	route 2001:db8:100::/48 blackhole;
	route 2001:db9::/32 blackhole;
}
protocol bgp node1 {
	local fd00:172:31::1 as 65000;
	neighbor fd00:172:31::11 as 64512;
	direct;
	ipv6 { import all; export all; next hop self; };
}
EOF
aux_bg tor "$RST_TMP/tor/bird.log" "$BIRD" -f -c "$RST_TMP/tor/bird.conf" -s "$RST_TMP/tor/bird.ctl" \
	-P "$RST_TMP/tor/bird.pid"
for k in 1 2 3; do
	node_add "$k"
	ip -n "$(ns "n$k")" addr add "fd00:172:31::1$k/64" dev eth0 nodad
	if [ "$k" = 1 ]; then
		dual_conf 1 'peers = ( { name = "tor6"; address6 = "fd00:172:31::1"; asn = 65000; bfd = "off";
		                       import = ( "2001:db8:100::/48" ); } );'
	else
		dual_conf "$k"
	fi
	roostd_start "$k"
done
node_add 8
ip -n "$(ns n8)" addr add fd00:172:31::18/64 dev eth0 nodad
rogue_conf
roostd_start 8
# IPv6-only nodes: no IPv4 address at all on their segment port.
for k in 4 5 6 7; do
	ns_add "n$k"
	ip -n "$(ns "n$k")" link add eth0 type veth peer name "n$k" netns "$(ns fab)"
	ip -n "$(ns fab)" link set "n$k" master br0 up
	if [ "$k" = 7 ]; then
		ip -n "$(ns "n$k")" addr add "fd00:172:31::1$k/64" dev eth0 nodad
	else
		ip -n "$(ns "n$k")" addr add "fd00:172:32::1$k/64" dev eth0 nodad
	fi
	# node4's uplink has a smaller MTU: its bridge must follow it.
	if [ "$k" = 4 ]; then
		ip -n "$(ns "n$k")" link set eth0 mtu 1400
		ip -n "$(ns fab)" link set "n$k" mtu 1400
	fi
	ip -n "$(ns "n$k")" link set eth0 up
	mkdir -p "$RST_TMP/n$k"
	v6_conf "$k"
	roostd_start "$k"
done

# ---- dual-stack mesh -------------------------------------------------------------
for k in 1 2 3; do
	for j in 1 2 3; do
		[ "$j" = "$k" ] && continue
		wait_until 30 kernel_route "$k" "10.244.$j.0/24" "172.31.0.1$j"
		wait_until 30 kernel_route6 "$k" "fd00:10:244:$j::/64" "fd00:172:31::1$j"
	done
done
for k in 1 2 3; do
	for j in 1 2 3; do
		[ "$j" = "$k" ] && continue
		check "node$k kernel: 10.244.$j.0/24 via 172.31.0.1$j proto bird" \
			kernel_route "$k" "10.244.$j.0/24" "172.31.0.1$j"
		check "node$k kernel: fd00:10:244:$j::/64 via fd00:172:31::1$j proto bird metric $METRIC" \
			kernel_route6 "$k" "fd00:10:244:$j::/64" "fd00:172:31::1$j"
		check "node$k: one session with node$j (node_node$j), Established" \
			established "$k" "node_node$j"
	done
	check "node$k kernel: no BIRD route for its own subnets" \
		bash -c "! ip -n $(ns "n$k") route show proto bird | grep -q '^10.244.$k.0/24' &&
			! ip -n $(ns "n$k") -6 route show proto bird | grep -q '^fd00:10:244:$k::/64'"
	check "node$k kernel: no IPv6 route via a link-local address" \
		bash -c "! ip -n $(ns "n$k") -6 route show proto bird | grep -q 'via fe80:'"
	check "node$k: cni0 has 10.244.$k.1/24 and fd00:10:244:$k::1/64 (not tentative)" \
		bash -c "ip -n $(ns "n$k") -br addr show cni0 | grep -q '10.244.$k.1/24' &&
			ip -n $(ns "n$k") -6 addr show dev cni0 | grep 'fd00:10:244:$k::1/64' | grep -vq tentative"
	check "node$k: net.ipv6.conf.all.forwarding = 1" \
		bash -c "[ \"\$(ip netns exec $(ns "n$k") cat /proc/sys/net/ipv6/conf/all/forwarding)\" = 1 ]"
done
check "birdc show protocols on node1: one session per node neighbour, named as for IPv4 (node_node2, node_node3, node_node7, node_node8)" \
	bash -c "[ \"\$($BIRDC -s $RST_TMP/n1/bird.ctl show protocols | awk '\$2 == \"BGP\" && \$1 ~ /^node_/ {print \$1}' | sort | tr '\n' ' ')\" = 'node_node2 node_node3 node_node7 node_node8 ' ]"
check "birdc show route on node1: fd00:10:244:2::/64 via fd00:172:31::12 from node_node2" \
	bash -c "$BIRDC -s $RST_TMP/n1/bird.ctl show route fd00:10:244:2::/64 |
		grep -A1 -E '^fd00:10:244:2::/64 +unicast \[node_node2 ' | grep -q 'via fd00:172:31::12 on eth0'"
check "birdc show route all on node1: both families carry origin community (64512, 1, 2)" \
	bash -c "$BIRDC -s $RST_TMP/n1/bird.ctl show route all 10.244.2.0/24 | grep -q 'BGP.large_community: (64512, 1, 2)' &&
		$BIRDC -s $RST_TMP/n1/bird.ctl show route all fd00:10:244:2::/64 | grep -q 'BGP.large_community: (64512, 1, 2)'"
check "node1 sends its IPv6 subnet with its global next hop (node2 sees BGP.next_hop fd00:172:31::11)" \
	bash -c "$BIRDC -s $RST_TMP/n2/bird.ctl show route all fd00:10:244:1::/64 | grep -q 'BGP.next_hop: fd00:172:31::11'"
check "IPv4 pod traffic is routed (node1 cni0 -> node3 cni0)" \
	ip netns exec "$(ns n1)" ping -c 2 -W 2 -I 10.244.1.1 10.244.3.1
check "IPv6 pod traffic is routed (node1 cni0 -> node3 cni0)" \
	ip netns exec "$(ns n1)" ping -6 -c 2 -W 2 -I fd00:10:244:1::1 fd00:10:244:3::1
check "IPv6 pod traffic is routed (node2 cni0 -> node1 cni0)" \
	ip netns exec "$(ns n2)" ping -6 -c 2 -W 2 -I fd00:10:244:2::1 fd00:10:244:1::1

# ---- a ToR over IPv6: IPv6 routes only, its allow-list only ------------------------
tor_route() { # PREFIX NEXT_HOP: the ToR's BIRD has PREFIX from node1 with that next hop
	"$BIRDC" -s "$RST_TMP/tor/bird.ctl" show route "$1" all | grep -q "BGP.next_hop: $2\$"
}
wait_until 30 established 1 peer_tor6
check "node1: peer_tor6 Established (over IPv6)" established 1 peer_tor6
check "ToR learns node1's fd00:10:244:1::/64 with next hop fd00:172:31::11 (global only)" \
	wait_until 30 tor_route fd00:10:244:1::/64 fd00:172:31::11
check "ToR: node1's IPv6 subnet carries (64512, 1, 1)" \
	bash -c "$BIRDC -s $RST_TMP/tor/bird.ctl show route fd00:10:244:1::/64 all | grep -q 'BGP.large_community: (64512, 1, 1)'"
check "ToR gets node1's own subnet only (not node2's, not IPv4)" \
	bash -c "[ \"\$($BIRDC -s $RST_TMP/tor/bird.ctl show route protocol node1 | grep -cE '^[0-9a-f:.]+/[0-9]+ ')\" = 1 ]"
check "node1 kernel: the allow-listed 2001:db8:100::/48 via fd00:172:31::1" \
	wait_until 15 kernel_route6 1 2001:db8:100::/48 fd00:172:31::1
check "node1 kernel: the ToR's ::/0 and 2001:db9::/32 are not installed" \
	bash -c "! ip -n $(ns n1) -6 route show proto bird | grep -qE '^(default|2001:db9::/32) '"

# ---- ownership: node8 claims node2's subnets; nodes 1 and 3 filter both claims -----
for k in 1 3; do
	wait_until 30 established "$k" node_node8
	check "node$k: node8's claim on fd00:10:244:2::/64 is filtered (birdc show route filtered)" \
		wait_until 15 bash -c "$BIRDC -s $RST_TMP/n$k/bird.ctl show route filtered fd00:10:244:2::/64 all |
			grep -q 'BGP.next_hop: fd00:172:31::18'"
	check "node$k: node8's claim on 10.244.2.0/24 is filtered" \
		bash -c "$BIRDC -s $RST_TMP/n$k/bird.ctl show route filtered 10.244.2.0/24 all |
			grep -q 'BGP.next_hop: 172.31.0.18'"
	check "node$k kernel: node2's subnets still via node2 only (both families)" \
		bash -c "[ \"\$(ip -n $(ns "n$k") -6 route show fd00:10:244:2::/64 proto bird)\" = 'fd00:10:244:2::/64 via fd00:172:31::12 dev eth0 metric $METRIC pref medium' ] &&
			[ \"\$(ip -n $(ns "n$k") route show 10.244.2.0/24 proto bird)\" = '10.244.2.0/24 via 172.31.0.12 dev eth0 metric $METRIC ' ]"
done

# ---- an IPv6-only node in the dual-stack mesh: sessions over IPv6 -----------------
for k in 1 2 3; do
	wait_until 30 kernel_route6 "$k" fd00:10:244:7::/64 fd00:172:31::17
	check "node$k kernel: IPv6-only node7's fd00:10:244:7::/64 via fd00:172:31::17" \
		kernel_route6 "$k" fd00:10:244:7::/64 fd00:172:31::17
	wait_until 30 kernel_route6 7 "fd00:10:244:$k::/64" "fd00:172:31::1$k"
	check "node7 kernel: fd00:10:244:$k::/64 via fd00:172:31::1$k" \
		kernel_route6 7 "fd00:10:244:$k::/64" "fd00:172:31::1$k"
done
check "node1: node_node7 runs between the IPv6 addresses" \
	bash -c "$BIRDC -s $RST_TMP/n1/bird.ctl show protocols all node_node7 | grep -q 'Neighbor address: fd00:172:31::17'"
check "IPv6 pod traffic is routed (node7 cni0 -> node2 cni0)" \
	ip netns exec "$(ns n7)" ping -6 -c 2 -W 2 -I fd00:10:244:7::1 fd00:10:244:2::1

# ---- IPv6-only mesh --------------------------------------------------------------
for k in 4 5 6; do
	for j in 4 5 6; do
		[ "$j" = "$k" ] || wait_until 30 kernel_route6 "$k" "fd00:20:244:$j::/64" "fd00:172:32::1$j"
	done
done
for k in 4 5 6; do
	for j in 4 5 6; do
		[ "$j" = "$k" ] && continue
		check "IPv6-only node$k kernel: fd00:20:244:$j::/64 via fd00:172:32::1$j proto bird metric $METRIC" \
			kernel_route6 "$k" "fd00:20:244:$j::/64" "fd00:172:32::1$j"
		check "IPv6-only node$k: node_node$j Established" established "$k" "node_node$j"
	done
	check "IPv6-only node$k: no IPv4 route from BIRD, no IPv4 address on cni0" \
		bash -c "! ip -n $(ns "n$k") route show proto bird | grep -q . &&
			! ip -n $(ns "n$k") -4 addr show dev cni0 | grep -q inet"
done
check "IPv6-only node4: cni0 mtu 1400, as eth0 (the interface of node.address6)" \
	bash -c "ip -n $(ns n4) link show cni0 | grep -q 'mtu 1400 '"
check "IPv6-only node4: roostd logs it starts IPv6-only with its router id" \
	log_has 4 "starting: IPv6-only: address6=fd00:172:32::14 pod_cidr6=fd00:20:244:4::/64 router_id=0.0.0.20"
check "IPv6-only node4: router id from node.address6 (0.0.0.20)" \
	bash -c "$BIRDC -s $RST_TMP/n4/bird.ctl show status | grep -q 'Router ID is 0.0.0.20'"
check "IPv6-only node4: birdc show route all carries origin community (64512, 1, 5) for node5" \
	bash -c "$BIRDC -s $RST_TMP/n4/bird.ctl show route all fd00:20:244:5::/64 | grep -q 'BGP.large_community: (64512, 1, 5)'"
check "IPv6-only pod traffic is routed (node4 cni0 -> node6 cni0)" \
	ip netns exec "$(ns n4)" ping -6 -c 2 -W 2 -I fd00:20:244:4::1 fd00:20:244:6::1

# ---- BIRD kill -9 on dual-stack node3 and IPv6-only node5: nothing is lost -------
# bird_crash K CHECKS...: kills nK's BIRD; every CHECK (a command) must hold
# every 50 ms until roostd has restarted BIRD and its sessions are back.
bird_crash() {
	local k=$1 old new misses=0 samples=0 t0 restarted="" c
	shift
	old=$(bird_pid "$k")
	kill -KILL "$old"
	t0=$(now_ms)
	while [ $(($(now_ms) - t0)) -lt 30000 ]; do
		samples=$((samples + 1))
		for c in "$@"; do
			eval "$c" || misses=$((misses + 1))
		done
		new=$(bird_pid "$k")
		if [ -z "$restarted" ] && [ -n "$new" ] && [ "$new" != "$old" ] && ours "$new"; then
			restarted=$(($(now_ms) - t0))
		fi
		if [ -n "$restarted" ] && [ $((samples % 10)) = 0 ] &&
			[ -z "$(birdc_n "$k" show protocols | awk '$2 == "BGP" && $6 != "Established"')" ]; then
			break
		fi
		sleep 0.05
	done
	check "node$k BIRD killed -9: restarted (in ${restarted:-?} ms) with -R" \
		bash -c "[ -n '$restarted' ] && tr '\0' ' ' </proc/$(bird_pid "$k")/cmdline | grep -q -- ' -R '"
	if [ "$misses" -eq 0 ]; then
		ok "node$k BIRD restart: no route left any kernel ($samples samples, 50 ms apart)"
	else
		not_ok "node$k BIRD restart: no route left any kernel" "$misses misses in $samples samples"
	fi
}

ip netns exec "$(ns n1)" ping -6 -q -i 0.01 -w 15 -I fd00:10:244:1::1 fd00:10:244:3::1 \
	>"$RST_TMP/ping6-crash3.txt" 2>&1 &
ping_pid=$!
bird_crash 3 "kernel_route 1 10.244.3.0/24 172.31.0.13" \
	"kernel_route6 1 fd00:10:244:3::/64 fd00:172:31::13" \
	"kernel_route6 3 fd00:10:244:1::/64 fd00:172:31::11" \
	"kernel_route 3 10.244.2.0/24 172.31.0.12"
wait "$ping_pid"
measure "node3 BIRD crash: $(grep -oE '[0-9]+ packets transmitted, [0-9]+ received' "$RST_TMP/ping6-crash3.txt") (10 ms ping6 node1 -> node3)"
check "node3 BIRD restart: 0% ping6 loss node1 -> node3" grep -q ' 0% packet loss' "$RST_TMP/ping6-crash3.txt"

ip netns exec "$(ns n4)" ping -6 -q -i 0.01 -w 15 -I fd00:20:244:4::1 fd00:20:244:5::1 \
	>"$RST_TMP/ping6-crash5.txt" 2>&1 &
ping_pid=$!
bird_crash 5 "kernel_route6 4 fd00:20:244:5::/64 fd00:172:32::15" \
	"kernel_route6 5 fd00:20:244:4::/64 fd00:172:32::14" \
	"kernel_route6 5 fd00:20:244:6::/64 fd00:172:32::16"
wait "$ping_pid"
check "IPv6-only node5 BIRD restart: 0% ping6 loss node4 -> node5" grep -q ' 0% packet loss' "$RST_TMP/ping6-crash5.txt"

rst_finish
