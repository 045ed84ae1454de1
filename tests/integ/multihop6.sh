#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# multihop6.sh - an external peer two hops away over IPv6 (multihop). far
# (fd00:77::2, AS 65100, IPv6 addresses only) sits behind router rt
# (fd00:172:31::250 on the fabric, fd00:77::1 towards far); node1, dual-stack
# in a mesh with node2, reaches it through a static IPv6 route. far gets
# node1's IPv6 /64 with node1's global address as next hop and nothing else;
# far's allow-listed prefix is in node1's kernel via rt (the next hop
# resolved recursively through the kernel route node1's BIRD learned), a
# prefix not allow-listed is in no kernel; the routes node1's BIRD learns
# from its kernel and interfaces reach neither the kernel nor a BGP
# neighbour; roostctl audit reports only the filtered route.
. "$(dirname "$0")/lib.sh"
trap topo_cleanup EXIT

# mh6_conf K [EXTRA]: nK's roostd.conf, dual-stack, in a mesh of nodes 1-2.
mh6_conf() {
	local k=$1 extra=${2:-} j=$((3 - $1)) d="$RST_TMP/n$1"
	cat >"$d/roostd.conf" <<EOF
node = { name = "node$k"; address = "172.31.0.1$k"; pod_cidr = "10.244.$k.0/24";
         address6 = "fd00:172:31::1$k"; pod_cidr6 = "fd00:10:244:$k::/64"; };
cluster = { pod_cidr = "10.244.0.0/16"; pod_cidr6 = "fd00:10:244::/48"; asn = 64512; };
bgp = { mesh = ( { name = "node$j"; address = "172.31.0.1$j"; pod_cidr = "10.244.$j.0/24";
                   address6 = "fd00:172:31::1$j"; pod_cidr6 = "fd00:10:244:$j::/64"; } );
        $extra };
bird = { binary = "$BIRD"; config = "$d/bird.conf"; socket = "$d/bird.ctl"; pidfile = "$d/bird.pid"; };
agent = { socket = "$d/roostd.sock"; state_dir = "$d/state"; log_level = "debug"; };
EOF
}

# nets K PROTO: the networks nK's BIRD (K "far": far's) has from PROTO,
# sorted, on one line.
nets() {
	local s="$RST_TMP/n$1/bird.ctl"
	[ "$1" = far ] && s="$RST_TMP/far/bird.ctl"
	"$BIRDC" -s "$s" show route protocol "$2" | grep -oE '^[0-9a-f:.]+/[0-9]+' | sort | paste -sd' '
}
both_routes() {
	kernel_route6 1 fd00:10:244:2::/64 fd00:172:31::12 && kernel_route6 2 fd00:10:244:1::/64 fd00:172:31::11 &&
		kernel_route 1 10.244.2.0/24 172.31.0.12 && kernel_route 2 10.244.1.0/24 172.31.0.11
}

fabric_up
for k in 1 2; do
	node_add "$k"
	ip -n "$(ns "n$k")" addr add "fd00:172:31::1$k/64" dev eth0 nodad
done
# rt between the fabric and far; far has IPv6 addresses only
aux_add rt 172.31.0.250
ip -n "$(ns rt)" addr add fd00:172:31::250/64 dev eth0 nodad
ns_add far
mkdir -p "$RST_TMP/far"
ip -n "$(ns rt)" link add eth1 type veth peer name eth0 netns "$(ns far)"
ip -n "$(ns rt)" addr add fd00:77::1/64 dev eth1 nodad
ip -n "$(ns rt)" link set eth1 up
ip netns exec "$(ns rt)" sysctl -qw net.ipv6.conf.all.forwarding=1
ip -n "$(ns far)" addr add fd00:77::2/64 dev eth0 nodad
ip -n "$(ns far)" link set eth0 up
ip -n "$(ns far)" -6 route add fd00:172:31::/64 via fd00:77::1
ip -n "$(ns n1)" -6 route add fd00:77::/64 via fd00:172:31::250
check "node1 reaches far through rt over IPv6 (two hops)" \
	wait_until 10 ip netns exec "$(ns n1)" ping -6 -c 1 -W 1 fd00:77::2
cat >"$RST_TMP/far/bird.conf" <<EOF
router id 192.168.77.2;
log stderr all;
protocol device {}
protocol static announce {
	ipv6;
	route 2001:db8:77::/48 blackhole;   # in node1's allow-list
	route 2001:db8:99::/48 blackhole;   # not in it
}
protocol bgp node1 {
	local fd00:77::2 as 65100;
	neighbor fd00:172:31::11 as 64512;
	multihop 2;
	connect delay time 1;
	ipv6 { import all; export where proto = "announce"; next hop self; };
}
EOF
aux_bg far "$RST_TMP/far/bird.log" "$BIRD" -f -c "$RST_TMP/far/bird.conf" -s "$RST_TMP/far/bird.ctl"

mh6_conf 1 'peers = ( { name = "far"; address6 = "fd00:77::2"; asn = 65100; multihop = 2; bfd = "off"; import = ( "2001:db8:77::/48" ); } );'
mh6_conf 2
roostd_start 1
roostd_start 2
check "node1's and node2's subnets of both families are in each other's kernel" \
	wait_until 30 both_routes
check "multihop6: peer_far Established on node1" wait_until 30 established 1 peer_far
check "multihop6: far got node1's fd00:10:244:1::/64 with BGP next hop fd00:172:31::11" \
	wait_until 15 bash -c "$BIRDC -s $RST_TMP/far/bird.ctl show route all fd00:10:244:1::/64 | grep -q 'BGP.next_hop: fd00:172:31::11\$'"
check "multihop6: far got nothing else of node1's (only its IPv6 /64)" test "$(nets far node1)" = fd00:10:244:1::/64
check "multihop6: the allow-listed 2001:db8:77::/48 is in node1's kernel via rt (recursive next hop)" \
	wait_until 15 kernel_route6 1 2001:db8:77::/48 fd00:172:31::250
ip -n "$(ns n1)" -6 route show proto bird | sed 's/^/# node1 proto bird: /'
check "multihop6: 2001:db8:99::/48, not allow-listed, is in no kernel" \
	bash -c "! ip -n $(ns n1) -6 route show 2001:db8:99::/48 | grep -q . && ! ip -n $(ns n2) -6 route show 2001:db8:99::/48 | grep -q ."
check "multihop6: node1's BIRD learned the kernel route to fd00:77::/64 (it resolves far's next hop)" \
	bash -c "$BIRDC -s $RST_TMP/n1/bird.ctl show route fd00:77::/64 protocol kernel6 | grep -q '^fd00:77::/64 '"
check "multihop6: ... and wrote no learned route back: no BIRD route to fd00:77::/64 or the fabric in node1's kernel" \
	bash -c "! ip -n $(ns n1) -6 route show proto bird | grep -Eq '^fd00:(77|172:31)::/64 '"
check "multihop6: node2 got node1's two subnets from node1 and nothing else (no learned route, nothing of far's)" \
	test "$(nets 2 node_node1)" = "10.244.1.0/24 fd00:10:244:1::/64"
check "multihop6: 2001:db8:77::/48 is not in node2's kernel (far is node1's peer only)" \
	bash -c "! ip -n $(ns n2) -6 route show 2001:db8:77::/48 | grep -q ."
"$top_builddir/agent/roostctl" -s "$RST_TMP/n1/roostd.sock" -o json audit >"$RST_TMP/audit.json"
check "multihop6: node1's audit reports only the route far sent that policy filtered (every installed route matches)" \
	jq -e '[.drift[] | .kind] == ["filtered"] and (.drift[0].detail | test("peer_far"))' "$RST_TMP/audit.json"
rst_finish
