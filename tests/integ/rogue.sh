#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# rogue.sh - a misbehaving external peer: ExaBGP (AS 65066) peers eBGP with
# node1 of a two-node mesh and announces a default route, node1's own /24,
# node2's /24, a /24 outside the cluster CIDR, a /25 and a /32 inside it, and
# twelve well-formed pod /24s against an import limit of 8. Nothing bogus
# reaches any kernel; node2's /24 stays via node2; the limit blocks what
# exceeds it and keeps the session up (receive limit ... action block).
. "$(dirname "$0")/lib.sh"
trap topo_cleanup EXIT

if ! command -v exabgp >/dev/null; then
	not_ok "ExaBGP is installed (apt-get install exabgp)"
	rst_finish
	exit
fi
LIMIT=8
fabric_up
aux_add rogue 172.31.0.66
node_add 1
node_add 2
topo_conf 1 "mesh = ( { name = \"node2\"; address = \"172.31.0.12\"; } );
	peers = ( { name = \"rogue\"; address = \"172.31.0.66\"; asn = 65066; bfd = \"off\";
	            import_limit = $LIMIT; } );"
topo_conf 2 'mesh = ( { name = "node1"; address = "172.31.0.11"; } );'

BOGUS="0.0.0.0/0 10.244.1.0/24 192.0.2.0/24 10.244.7.0/25 10.244.7.5/32"
FLOOD=$(for i in $(seq 100 111); do echo "10.244.$i.0/24"; done)
exabgp_run rogue 172.31.0.66 65066 172.31.0.11 64512 < <(
	for p in $BOGUS 10.244.2.0/24 $FLOOD; do
		echo "$p 172.31.0.66"
	done
)

roostd_start 1
roostd_start 2
check "node1 and node2 learn each other's /24" \
	wait_until 45 bash -c "$(declare -f kernel_route ns); RST_PREFIX=$RST_PREFIX;
		kernel_route 1 10.244.2.0/24 172.31.0.12 && kernel_route 2 10.244.1.0/24 172.31.0.11"
check "node1: peer_rogue Established" wait_until 45 established 1 peer_rogue
imported() {
	birdc_n 1 show protocols all peer_rogue | grep -Eo 'Routes: +[0-9]+ imported' | grep -Eo '[0-9]+'
}
check "node1: $LIMIT routes imported from the rogue peer (the limit)" \
	wait_until 30 bash -c "[ \"\$($BIRDC -s $RST_TMP/n1/bird.ctl show protocols all peer_rogue |
		grep -Eo 'Routes: +[0-9]+ imported' | grep -Eo '[0-9]+')\" = $LIMIT ]"
# The limit blocks the routes past it: BIRD counts them as ignored. (Its
# [HIT] mark is cleared by any reconfiguration, e.g. roostd learning a
# subnet's owner; the blocking stays.)
limit_blocks() {
	birdc_n 1 show protocols all peer_rogue >"$RST_TMP/rogue-proto.txt" &&
		grep -A1 'Receive limit: *8' "$RST_TMP/rogue-proto.txt" | grep -q 'Action: *block' &&
		awk '/Import updates:/ {exit !($6 >= 5)}' "$RST_TMP/rogue-proto.txt"
}
check "node1: the receive limit (8, action block) blocks the 5 routes past it" wait_until 15 limit_blocks
check "node1: the session stays Established past the limit" established 1 peer_rogue
upd=$(awk '/Import updates:/ {print $3, $5; exit}' "$RST_TMP/rogue-proto.txt")
measure "rogue: node1 peer_rogue import updates received/filtered: ${upd:-?}"
check "node1: the 5 bogus prefixes arrived and were filtered (received/filtered: ${upd:-?})" \
	test "${upd#* }" -ge 5 -a "${upd% *}" -ge 18

for k in 1 2; do
	for p in $BOGUS; do
		if [ "$p" = 10.244.1.0/24 ] && [ "$k" = 2 ]; then
			continue # node1's own /24 is in node2's kernel, from node1
		fi
		check "node$k kernel: nothing for $p from BGP" \
			bash -c "! ip -n $(ns "n$k") route show $p proto bird | grep -q ."
	done
	check "node$k kernel: no default route at all" \
		bash -c "! ip -n $(ns "n$k") route show default | grep -q ."
done
check "node2 kernel: node1's /24 via node1 (not the rogue)" kernel_route 2 10.244.1.0/24 172.31.0.11
check "node1 kernel: node2's /24 still via node2 (mesh beats the rogue peer)" \
	kernel_route 1 10.244.2.0/24 172.31.0.12
check "node1: BIRD's best route for node2's /24 comes from node_node2" \
	bash -c "$BIRDC -s $RST_TMP/n1/bird.ctl show route 10.244.2.0/24 primary | grep -q 'node_node2'"
flood1=$(ip -n "$(ns n1)" route show proto bird | grep -cE '^10\.244\.1[01][0-9]\.0/24 via 172\.31\.0\.66' || true)
flood2=$(ip -n "$(ns n2)" route show proto bird | grep -cE '^10\.244\.1[01][0-9]\.0/24' || true)
measure "rogue: 12 pod-shaped /24s announced, limit $LIMIT: node1's kernel has $flood1 of them, node2's $flood2"
check "node1 kernel: at most $LIMIT of the 12 flooded /24s ($flood1)" test "$flood1" -le "$LIMIT"
check "node2 kernel: none of the flooded /24s (a node exports only its own /24)" test "$flood2" -eq 0
check "node1 and node2 still route pod traffic (node1 cni0 -> node2 cni0)" \
	ip netns exec "$(ns n1)" ping -c 2 -W 2 -I 10.244.1.1 10.244.2.1

rst_finish
