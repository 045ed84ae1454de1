#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# announce.sh - announced addresses (bgp.announce) and the export policy
# towards external peers (export, communities, large_communities, prepend).
#
# Three meshed nodes (AS 64512) peer eBGP with an FRR ToR (AS 65000,
# maximum-paths 8); node1 also peers with a second router, "edge" (a plain
# BIRD, AS 65001), with export = "announce".
#  - node1 and node2 announce the VIP 192.0.2.10/32 with when = "local" (the
#    address on lo), to the ToR with community 65000:100, large community
#    65000:1:2 and one prepend: the ToR has two paths and installs ECMP,
#    each path tagged (64512, 2, node id). Removing the address on node2
#    withdraws node2's path within seconds; putting it back restores ECMP.
#  - node1 announces 192.0.2.20/32 with when = "always" (no address).
#  - node3 has the VIP on lo too and announces 192.0.2.30/32 always, but
#    exports "pods" to the ToR: the ToR gets its /24 and none of those.
#  - edge (export = "announce") gets node1's announcements, not its /24.
#  - no node installs an announced address in its kernel, and the mesh
#    carries none.
. "$(dirname "$0")/lib.sh"
trap topo_cleanup EXIT

ROOSTCTL=${ROOSTCTL:-$top_builddir/agent/roostctl}
VIP=192.0.2.10/32
if [ ! -x /usr/lib/frr/bgpd ] || [ ! -x /usr/lib/frr/zebra ]; then
	not_ok "FRR is installed (apt-get install frr)"
	rst_finish
	exit
fi

fabric_up
aux_add tor 172.31.0.1
aux_add edge 172.31.0.2
T=$(ns tor)
D="$RST_TMP/tor"

# ---- the ToR: FRR 8.4 (zebra, bgpd), ECMP over the nodes ----------------------------
cat >"$D/zebra.conf" <<'EOF'
hostname tor
EOF
cat >"$D/bgpd.conf" <<'EOF'
hostname tor
! ebgp-requires-policy: a route-map in and out, or nothing is exchanged
ip prefix-list FROM-NODES seq 5 permit 10.244.0.0/16 ge 24 le 24
ip prefix-list FROM-NODES seq 10 permit 192.0.2.0/24 le 32
route-map FROM-NODES permit 10
 match ip address prefix-list FROM-NODES
exit
route-map TO-NODES deny 10
exit
router bgp 65000
 bgp router-id 172.31.0.1
 neighbor NODES peer-group
 neighbor NODES remote-as 64512
 neighbor NODES timers connect 1
 neighbor 172.31.0.11 peer-group NODES
 neighbor 172.31.0.12 peer-group NODES
 neighbor 172.31.0.13 peer-group NODES
 address-family ipv4 unicast
  maximum-paths 8
  neighbor NODES route-map FROM-NODES in
  neighbor NODES route-map TO-NODES out
 exit-address-family
exit
EOF
chown -R frr:frr "$D"
frr() { frr_daemon "$T" "$D" "$@"; }
vty() { frr_vty "$T" "$D" "$@"; }
frr zebra
wait_until 15 test -S "$D/zserv.api"
frr bgpd
check "FRR zebra and bgpd run in the ToR namespace" \
	wait_until 15 bash -c "test -s $D/zebra.pid && test -s $D/bgpd.pid"

# ---- edge: a plain BIRD, AS 65001, learning what node1 sends ------------------------
E="$RST_TMP/edge"
cat >"$E/bird.conf" <<'EOF'
log stderr all;
router id 172.31.0.2;
protocol device {
}
protocol bgp node1 {
	local 172.31.0.2 as 65001;
	neighbor 172.31.0.11 as 64512;
	direct;
	connect delay time 1;
	error wait time 1, 30;
	ipv4 {
		import all;
		export none;
	};
}
EOF
aux_bg edge "$E/bird.log" "$BIRD" -f -c "$E/bird.conf" -s "$E/bird.ctl" -P "$E/bird.pid"
edge() { "$BIRDC" -s "$E/bird.ctl" "$@"; }

# ---- the nodes -----------------------------------------------------------------------
mesh_of() { # K: the mesh list of node K
	local j m=""
	for j in 1 2 3; do
		[ "$j" = "$1" ] && continue
		m="$m${m:+, }{ name = \"node$j\"; address = \"172.31.0.$((10 + j))\"; }"
	done
	echo "$m"
}
TOR_POLICY='communities = ( "65000:100" ); large_communities = ( "65000:1:2" ); prepend = 1;'
for k in 1 2 3; do
	node_add "$k"
done
topo_conf 1 "mesh = ( $(mesh_of 1) );
  announce = ( { prefix = \"$VIP\"; when = \"local\"; },
               { prefix = \"192.0.2.20/32\"; when = \"always\"; } );
  peers = ( { name = \"tor\"; address = \"172.31.0.1\"; asn = 65000; bfd = \"off\"; $TOR_POLICY },
            { name = \"edge\"; address = \"172.31.0.2\"; asn = 65001; bfd = \"off\"; export = \"announce\"; } );"
topo_conf 2 "mesh = ( $(mesh_of 2) );
  announce = ( { prefix = \"$VIP\"; when = \"local\"; } );
  peers = ( { name = \"tor\"; address = \"172.31.0.1\"; asn = 65000; bfd = \"off\"; $TOR_POLICY } );"
topo_conf 3 "mesh = ( $(mesh_of 3) );
  announce = ( { prefix = \"$VIP\"; when = \"local\"; },
               { prefix = \"192.0.2.30/32\"; when = \"always\"; } );
  peers = ( { name = \"tor\"; address = \"172.31.0.1\"; asn = 65000; bfd = \"off\"; export = \"pods\"; } );"
for k in 1 2 3; do
	ip -n "$(ns "n$k")" addr add "$VIP" dev lo
done
t0=$(now_ms)
for k in 1 2 3; do
	roostd_start "$k"
done
mesh_wait 3

# ---- what the ToR sees -----------------------------------------------------------------
bgp_json() { vty "show ip bgp $1 json"; }
# nexthops PREFIX: the next hops of the ToR's BGP paths to PREFIX, sorted, on one line
nexthops() {
	bgp_json "$1" | jq -r '[.paths[]?.nexthops[0].ip] | sort | join(" ")'
}
# path_attr PREFIX NEXTHOP JQ: a field of the path to PREFIX via NEXTHOP
path_attr() {
	bgp_json "$1" | jq -r --arg nh "$2" ".paths[] | select(.nexthops[0].ip == \$nh) | $3"
}
nexthops_are() { [ "$(nexthops "$1")" = "$2" ]; }
# ecmp PREFIX NH...: the ToR's kernel routes PREFIX over exactly these next hops
ecmp() {
	local p=$1 got want
	shift
	got=$(ip -n "$T" route show "$p" | grep -o 'via [0-9.]*' | cut -d' ' -f2 | sort | tr '\n' ' ')
	want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
	[ "$got" = "$want" ]
}
tor_converged() {
	nexthops_are "$VIP" "172.31.0.11 172.31.0.12" && nexthops_are 192.0.2.20/32 172.31.0.11 &&
		nexthops_are 10.244.3.0/24 172.31.0.13
}
if wait_until 45 tor_converged; then
	measure "announce: roostd start -> the ToR has both VIP paths: $(($(now_ms) - t0)) ms"
fi
check "ToR: two paths to the VIP $VIP, next hops node1 and node2 (not node3: export \"pods\")" \
	nexthops_are "$VIP" "172.31.0.11 172.31.0.12"
multipaths() { [ "$(bgp_json "$1" | jq '[.paths[] | select(.multipath == true)] | length')" = "$2" ]; }
check "ToR: both VIP paths are multipath in show ip bgp" multipaths "$VIP" 2
# zebra_ecmp PREFIX NH...: `show ip route PREFIX` selects exactly these next
# hops (FRR 8.4 prints "  * 172.31.0.11, via eth0, weight 1" for each)
zebra_ecmp() {
	local p=$1 got want
	shift
	got=$(vty "show ip route $p" | grep -oE '^ +\* [0-9.]+, via ' | awk '{print $2}' | tr -d , |
		sort | tr '\n' ' ')
	want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
	[ "$got" = "$want" ]
}
check "ToR: show ip route $VIP has both next hops (ECMP)" \
	wait_until 15 zebra_ecmp "$VIP" 172.31.0.11 172.31.0.12
check "ToR kernel: $VIP over 172.31.0.11 and 172.31.0.12" \
	wait_until 15 ecmp "$VIP" 172.31.0.11 172.31.0.12
vty "show ip bgp $VIP json" >"$RST_TMP/tor-vip.json" 2>&1
vty "show ip bgp $VIP" | sed "s/^/# /"
vty "show ip route $VIP" | sed "s/^/# /"

# path_is PREFIX NEXTHOP JQ WANT: that field of the ToR's path is WANT
path_is() { [ "$(path_attr "$1" "$2" "$3")" = "$4" ]; }
LC='(.largeCommunity.list // [] | sort | join(" "))'
for k in 1 2; do
	nh=172.31.0.1$k
	check "ToR: node$k's VIP path has the large community 64512:2:$k (announced address, node $k) and the peer's 65000:1:2" \
		path_is "$VIP" "$nh" "$LC" "64512:2:$k 65000:1:2"
	check "ToR: node$k's VIP path has the community 65000:100" \
		path_is "$VIP" "$nh" '.community.string' "65000:100"
	check "ToR: node$k's VIP AS path is '64512 64512' (prepend = 1)" \
		path_is "$VIP" "$nh" '.aspath.string' "64512 64512"
done
check "ToR: node1's pod /24 carries (64512, 1, 1), the peer's communities and the prepend" \
	path_is 10.244.1.0/24 172.31.0.11 "[$LC, .community.string, .aspath.string] | join(\"|\")" \
	"64512:1:1 65000:1:2|65000:100|64512 64512"
check "ToR: node3's pod /24 (export \"pods\", no policy) carries (64512, 1, 3) only, AS path '64512'" \
	path_is 10.244.3.0/24 172.31.0.13 "[$LC, (.community.string // \"none\"), .aspath.string] | join(\"|\")" \
	"64512:1:3|none|64512"
check "ToR: 192.0.2.20/32 (when = \"always\", no address on node1) from node1, tagged 64512:2:1" \
	path_is 192.0.2.20/32 172.31.0.11 "$LC" "64512:2:1 65000:1:2"
check "ToR: nothing announced from node3 (export \"pods\"): no 192.0.2.30/32" \
	nexthops_are 192.0.2.30/32 ""

# ---- edge: export = "announce" ------------------------------------------------------
edge_has() { edge show route "$1" protocol node1 | grep -q "$1"; }
edge_both() { edge_has "$VIP" && edge_has 192.0.2.20/32; }
check "edge (export \"announce\"): has the VIP and 192.0.2.20/32 from node1" wait_until 30 edge_both
edge show route all "$VIP" >"$RST_TMP/edge-vip.txt" 2>&1
check "edge: the VIP carries (64512, 2, 1) and none of the ToR's communities" \
	bash -c "grep -q 'BGP.large_community: (64512, 2, 1)$' $RST_TMP/edge-vip.txt && ! grep -q 'BGP.community' $RST_TMP/edge-vip.txt"
check "edge: the VIP's AS path is 64512 (no prepend for this peer)" \
	grep -q 'BGP.as_path: 64512$' "$RST_TMP/edge-vip.txt"
check "edge (export \"announce\"): no pod subnet from node1" \
	bash -c "! $BIRDC -s $E/bird.ctl show route protocol node1 | grep -q '10\\.244\\.'"

# ---- the nodes keep announced addresses to themselves --------------------------------
for k in 1 2 3; do
	check "node$k kernel: no proto bird route to any 192.0.2.0/24 address (announcements never reach the kernel)" \
		bash -c "! ip -n $(ns "n$k") route show proto bird | grep -q '192\\.0\\.2\\.'"
	check "node$k BIRD: no announced address learned from the mesh" \
		bash -c "! $BIRDC -s $RST_TMP/n$k/bird.ctl show route where source = RTS_BGP | grep -q '192\\.0\\.2\\.'"
done
check "node1 BIRD: the VIP comes from announce_local (direct, dev lo)" \
	bash -c "$BIRDC -s $RST_TMP/n1/bird.ctl show route $VIP | grep -q 'announce_local'"
birdc_n 1 show route export peer_tor all "$VIP" | sed "s/^/# /"
check "node1: roostctl audit reports no drift" \
	"$ROOSTCTL" -s "$RST_TMP/n1/roostd.sock" audit

# ---- withdraw: the VIP leaves node2 ----------------------------------------------------
t0=$(now_ms)
ip -n "$(ns n2)" addr del "$VIP" dev lo
gone=""
if wait_until 15 nexthops_are "$VIP" 172.31.0.11; then
	gone=$(($(now_ms) - t0))
fi
measure "announce: VIP address removed on node2 -> node2's path gone from the ToR in ${gone:-more than 15000} ms"
check "VIP removed on node2: the ToR has only node1's path within 15 s (${gone:-?} ms)" test -n "$gone"
check "VIP removed on node2: the ToR's kernel routes it to node1 only" \
	wait_until 15 ecmp "$VIP" 172.31.0.11
check "VIP removed on node2: node2's BIRD no longer has it" \
	bash -c "! $BIRDC -s $RST_TMP/n2/bird.ctl show route $VIP | grep -q announce_local"
ip -n "$(ns n2)" addr add "$VIP" dev lo
both_again() { nexthops_are "$VIP" "172.31.0.11 172.31.0.12" && ecmp "$VIP" 172.31.0.11 172.31.0.12; }
check "VIP back on node2: ECMP over both nodes again" wait_until 15 both_again

# ---- a reload that drops the VIP from node1's configuration ----------------------------
sed -i "s|{ prefix = \"$VIP\"; when = \"local\"; },||" "$RST_TMP/n1/roostd.conf"
kill -HUP "$(roostd_pid 1)"
check "VIP removed from node1's bgp.announce (SIGHUP): the ToR has only node2's path" \
	wait_until 15 nexthops_are "$VIP" 172.31.0.12
check "... and still 192.0.2.20/32 from node1" nexthops_are 192.0.2.20/32 172.31.0.11

rst_finish
