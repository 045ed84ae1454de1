#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# md5.sh - bgp.password on the inside: a three-node mesh where node1 and
# node2 share the password and node3 has a wrong one. node1-node2 come up;
# node3's sessions never do (the kernels drop its TCP segments: MD5
# counters move) and its /24 is in no other kernel. Then a route reflector
# with bgp.reflector.password: a client with the password is reflected, a
# client without it is not.
. "$(dirname "$0")/lib.sh"
trap topo_cleanup EXIT

PW='password = "in the mesh";'
fabric_up
for k in 1 2 3; do
	node_add "$k"
done
topo_conf 1 "$PW mesh = ( { name = \"node2\"; address = \"172.31.0.12\"; },
	{ name = \"node3\"; address = \"172.31.0.13\"; } );"
topo_conf 2 "$PW mesh = ( { name = \"node1\"; address = \"172.31.0.11\"; },
	{ name = \"node3\"; address = \"172.31.0.13\"; } );"
topo_conf 3 'password = "guessed"; mesh = ( { name = "node1"; address = "172.31.0.11"; },
	{ name = "node2"; address = "172.31.0.12"; } );'
for k in 1 2 3; do roostd_start "$k"; done

check "rendered: node1's node sessions carry the password" \
	wait_until 10 grep -q 'password "in the mesh";' "$RST_TMP/n1/bird.conf"
check "node1 <-> node2 (same password): Established" \
	wait_until 45 bash -c "$(declare -f established birdc_n); BIRDC=$BIRDC RST_TMP=$RST_TMP;
		established 1 node_node2 && established 2 node_node1"
check "node1 and node2 route each other's /24" \
	wait_until 30 bash -c "$(declare -f kernel_route ns); RST_PREFIX=$RST_PREFIX;
		kernel_route 1 10.244.2.0/24 172.31.0.12 && kernel_route 2 10.244.1.0/24 172.31.0.11"
md5_drops() { # the kernel of nK dropped TCP segments for a bad or missing MD5 signature
	ip netns exec "$(ns "n$1")" nstat -asz 2>/dev/null |
		awk '$1 ~ /^TcpExtTCPMD5(Failure|Unexpected|NotFound)$/ {s += $2} END {exit !(s > 0)}'
}
check "node1's kernel drops node3's segments (TcpExtTCPMD5* counters move)" wait_until 30 md5_drops 1
check "node2's kernel drops node3's segments too" wait_until 30 md5_drops 2
check "node3's sessions with node1 and node2 are not Established" \
	bash -c "$(declare -f established birdc_n); BIRDC=$BIRDC RST_TMP=$RST_TMP;
		! established 1 node_node3 && ! established 2 node_node3 &&
		! established 3 node_node1 && ! established 3 node_node2"
check "node3's /24 is in neither node1's nor node2's kernel" \
	bash -c "$(declare -f no_kernel_route ns); RST_PREFIX=$RST_PREFIX;
		no_kernel_route 1 10.244.3.0/24 && no_kernel_route 2 10.244.3.0/24"
check "node3's kernel has no BIRD route" \
	bash -c "! ip -n $(ns n3) route show proto bird | grep -q ."
check "node1's BIRD has no route from node3" \
	bash -c "! $BIRDC -s $RST_TMP/n1/bird.ctl show route protocol node_node3 | grep -q '^10\\.'"

# ---- the same password put right on node3: it joins ---------------------------------------
sed -i 's|password = "guessed";|password = "in the mesh";|' "$RST_TMP/n3/roostd.conf"
kill -HUP "$(roostd_pid 3)"
check "node3 fixed (SIGHUP): its sessions come up and its /24 reaches node1 and node2" \
	wait_until 45 bash -c "$(declare -f kernel_route ns); RST_PREFIX=$RST_PREFIX;
		kernel_route 1 10.244.3.0/24 172.31.0.13 && kernel_route 2 10.244.3.0/24 172.31.0.13"

# ---- a route reflector with its own client password ----------------------------------------
lab_down
fabric_up
for k in 1 2 3 4; do node_add "$k"; done
topo_conf 1 'reflector = { clients = "172.31.0.0/24"; password = "clients only"; };'
sed -i 's| pod_cidr = "10.244.1.0/24";||' "$RST_TMP/n1/roostd.conf"
for k in 2 3; do
	topo_conf "$k" 'password = "clients only";
		route_reflectors = ( { name = "rr1"; address = "172.31.0.11"; } );'
done
topo_conf 4 'route_reflectors = ( { name = "rr1"; address = "172.31.0.11"; } );'
for k in 1 2 3 4; do roostd_start "$k"; done
check "reflector: clients with the password are reflected to each other" \
	wait_until 45 bash -c "$(declare -f kernel_route ns); RST_PREFIX=$RST_PREFIX;
		kernel_route 2 10.244.3.0/24 172.31.0.13 && kernel_route 3 10.244.2.0/24 172.31.0.12"
check "reflector: the client without the password is refused by the kernel (MD5 counters)" \
	wait_until 30 md5_drops 1
check "reflector: node4 (no password) has no session and no route; nobody has its /24" \
	bash -c "$(declare -f established birdc_n no_kernel_route ns); BIRDC=$BIRDC RST_TMP=$RST_TMP RST_PREFIX=$RST_PREFIX;
		! established 4 rr_rr1 && ! ip -n $(ns n4) route show proto bird | grep -q . &&
		no_kernel_route 2 10.244.4.0/24 && no_kernel_route 3 10.244.4.0/24"

rst_finish
