#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# peers6.sh - third-party peers over IPv6. Three dual-stack roost nodes
# (examples/tor6/, as is but for strict BFD on the mesh) and an IPv6-only
# node4 in their mesh peer eBGP over IPv6 with FRR as a ToR (AS 65000): the
# ToR learns each node's IPv6 /64 from that node only, with its global
# address as next hop; a host behind the ToR (2001:db8:100::/48, the nodes'
# allow-list) pings6 a pod on every node; the ToR's ::/0 and 2001:db9::/32
# never reach a node's kernel. ExaBGP (AS 65066) peers with node1 over IPv6
# and announces ::/0, node1's own /64, a /128 and a /65 inside the cluster
# /48, the /48 itself, a prefix outside it, node2's /64 and twelve pod /64s
# against an import limit of 8: nothing bogus in any kernel, node2's /64
# stays via node2, the limit blocks the rest and the session stays up.
# Strict BFD: a silently lost node's IPv6 /64 leaves the other nodes' and
# the ToR's kernels within 1 s (a dual-stack node: BFD over IPv4; the
# IPv6-only node: BFD over IPv6). (BIRD kill -9 under ping6: dual.sh.)
. "$(dirname "$0")/lib.sh"
trap topo_cleanup EXIT

EX="$top_srcdir/examples/tor6"
if [ ! -x /usr/lib/frr/bgpd ] || [ ! -x /usr/lib/frr/bfdd ] || ! command -v exabgp >/dev/null; then
	not_ok "FRR and ExaBGP are installed (apt-get install frr exabgp)"
	rst_finish
	exit
fi
LIMIT=8
METRIC=33
STRICT='bfd = { mode = "strict"; interval_ms = 100; multiplier = 3; };'
N4='{ name = "node4"; address6 = "fd00:172:31::14"; pod_cidr6 = "fd00:10:244:4::/64"; }'

# kernel_route6 K PREFIX VIA: nK's kernel has PREFIX via VIA from BIRD.
kernel_route6() {
	ip -n "$(ns "n$1")" -6 route show "$2" proto bird | grep -q "^$2 via $3 dev eth0 metric $METRIC "
}
no_bird_route6() { # K PREFIX: nothing from BIRD for exactly PREFIX in nK's kernel
	! ip -n "$(ns "n$1")" -6 route show "$2" proto bird | grep -q .
}

fabric_up
aux_add tor 172.31.0.1
T=$(ns tor)
D="$RST_TMP/tor"
ip -n "$T" addr add fd00:172:31::1/64 dev eth0 nodad
# the host behind the ToR, on an IPv6 network of its own
ns_add ext
ip -n "$(ns ext)" link add eth0 type veth peer name ext0 netns "$T"
ip -n "$(ns ext)" addr add 2001:db8:100::2/64 dev eth0 nodad
ip -n "$(ns ext)" link set eth0 up
ip -n "$(ns ext)" -6 route add default via 2001:db8:100::1
ip -n "$T" addr add 2001:db8:100::1/64 dev ext0 nodad
ip -n "$T" link set ext0 up
ip netns exec "$T" sysctl -qw net.ipv6.conf.all.forwarding=1

# nodes 1-3: examples/tor6/nodeK.conf with this test's paths, strict BFD and
# the IPv6-only node4 in the mesh; node1 also peers with the rogue.
ROGUE="{ name = \"rogue6\"; address6 = \"fd00:172:31::66\"; asn = 65066; bfd = \"off\"; import_limit = $LIMIT; }"
for k in 1 2 3; do
	node_add "$k"
	ip -n "$(ns "n$k")" addr add "fd00:172:31::1$k/64" dev eth0 nodad
	d="$RST_TMP/n$k"
	{
		grep -v '^bird = ' "$EX/node$k.conf" |
			sed -e "s|^bgp = {|bgp = { $STRICT|" -e "s|mesh = ( |mesh = ( $N4, |"
		echo "bird = { binary = \"$BIRD\"; config = \"$d/bird.conf\"; socket = \"$d/bird.ctl\"; pidfile = \"$d/bird.pid\"; };"
		echo "agent = { socket = \"$d/roostd.sock\"; state_dir = \"$d/state\"; log_level = \"debug\"; };"
	} >"$d/roostd.conf"
done
sed -i "s|peers = ( |peers = ( $ROGUE, |" "$RST_TMP/n1/roostd.conf"
# node4: IPv6-only (no IPv4 address on its port), sessions over IPv6
ns_add n4
ip -n "$(ns n4)" link add eth0 type veth peer name n4 netns "$(ns fab)"
ip -n "$(ns fab)" link set n4 master br0 up
ip -n "$(ns n4)" addr add fd00:172:31::14/64 dev eth0 nodad
ip -n "$(ns n4)" link set eth0 up
mkdir -p "$RST_TMP/n4"
cat >"$RST_TMP/n4/roostd.conf" <<EOF
node = { name = "node4"; address6 = "fd00:172:31::14"; pod_cidr6 = "fd00:10:244:4::/64"; };
cluster = { pod_cidr6 = "fd00:10:244::/48"; asn = 64512; };
bgp = { $STRICT
  mesh = ( $(for j in 1 2 3; do printf '{ name = "node%s"; address6 = "fd00:172:31::1%s"; pod_cidr6 = "fd00:10:244:%s::/64"; }%s' "$j" "$j" "$j" "$([ "$j" = 3 ] || echo ,)"; done) ); };
bird = { binary = "$BIRD"; config = "$RST_TMP/n4/bird.conf"; socket = "$RST_TMP/n4/bird.ctl"; pidfile = "$RST_TMP/n4/bird.pid"; };
agent = { socket = "$RST_TMP/n4/roostd.sock"; state_dir = "$RST_TMP/n4/state"; log_level = "debug"; };
EOF

# FRR's bgpd resets an IPv6 session while the interface has no usable
# link-local address ("nexthop_set failed"): wait for DAD to finish on the
# ToR's and the nodes' segment ports (a lab artifact: fresh interfaces).
ll_ready() { # NS: eth0 in NS has a link-local address that is not tentative
	ip -n "$1" -6 addr show dev eth0 scope link | grep -q 'fe80::' &&
		! ip -n "$1" -6 addr show dev eth0 scope link | grep -q tentative
}
for n in tor n1 n2 n3 n4; do
	wait_until 10 ll_ready "$(ns "$n")"
done

# FRR 8.4 in the ToR namespace (as tor.sh): zebra first, then bfdd and bgpd.
cp "$EX/bgpd.conf" "$D/"
cp "$top_srcdir/examples/tor/bfdd.conf" "$top_srcdir/examples/tor/zebra.conf" "$D/"
chown -R frr:frr "$D"
frr() { frr_daemon "$T" "$D" "$@"; }
vty() { frr_vty "$T" "$D" "$@"; }
frr zebra
wait_until 15 test -S "$D/zserv.api"
frr bfdd --bfdctl "$D/bfdd.sock"
frr bgpd
check "FRR zebra, bfdd and bgpd run in the ToR namespace" \
	wait_until 15 bash -c "test -s $D/zebra.pid && test -s $D/bfdd.pid && test -s $D/bgpd.pid"

# ExaBGP: the rogue, one IPv6 session to node1.
aux_add rogue 172.31.0.66
ip -n "$(ns rogue)" addr add fd00:172:31::66/64 dev eth0 nodad
BOGUS6="::/0 fd00:10:244:1::/64 fd00:10:244:7::5/128 fd00:10:244:7::/65 fd00:10:244::/48 2001:db9:66::/48"
FLOOD6=$(for i in $(seq 256 267); do printf 'fd00:10:244:%x::/64\n' "$i"; done)
{
	echo "neighbor fd00:172:31::11 {"
	echo "  router-id 172.31.0.66;"
	echo "  local-address fd00:172:31::66;"
	echo "  local-as 65066;"
	echo "  peer-as 64512;"
	echo "  family { ipv6 unicast; }"
	echo "  static {"
	for p in $BOGUS6 fd00:10:244:2::/64 $FLOOD6; do
		echo "    route $p next-hop fd00:172:31::66;"
	done
	echo "  }"
	echo "}"
} >"$RST_TMP/rogue/exabgp.conf"
aux_bg rogue "$RST_TMP/rogue/exabgp.log" env exabgp.daemon.user=root exabgp.daemon.daemonize=false \
	exabgp.log.destination=stdout exabgp.api.cli=false exabgp.tcp.bind= \
	exabgp "$RST_TMP/rogue/exabgp.conf"

for k in 1 2 3 4; do
	roostd_start "$k"
done

# ---- the ToR learns each node's /64 from that node only -----------------------------
# tor_path PREFIX ADDR: the ToR has exactly one path to PREFIX, from ADDR,
# whose first (global) next hop is ADDR.
tor_path() {
	vty "show bgp ipv6 unicast $1 json" | jq -e --arg a "$2" \
		'(.paths | length) == 1 and .paths[0].peer.peerId == $a and .paths[0].nexthops[0].ip == $a and .paths[0].nexthops[0].scope == "global"'
}
tor_all() {
	tor_path fd00:10:244:1::/64 fd00:172:31::11 && tor_path fd00:10:244:2::/64 fd00:172:31::12 &&
		tor_path fd00:10:244:3::/64 fd00:172:31::13
}
t0=$(now_ms)
wait_until 45 tor_all && measure "ToR: roostd start -> the ToR has the three IPv6 /64s: $(($(now_ms) - t0)) ms"
for k in 1 2 3; do
	check "ToR: fd00:10:244:$k::/64 from node$k only, next hop fd00:172:31::1$k (global)" \
		tor_path "fd00:10:244:$k::/64" "fd00:172:31::1$k"
	check "node$k: peer_tor6 Established (eBGP over IPv6)" established "$k" peer_tor6
	check "node$k kernel: the allow-listed 2001:db8:100::/48 via the ToR (fd00:172:31::1)" \
		wait_until 15 kernel_route6 "$k" 2001:db8:100::/48 fd00:172:31::1
done
check "ToR: nothing else from the nodes (no IPv4 route, not node4's /64: it does not peer)" \
	bash -c "[ \"\$(ip netns exec $T vtysh --vty_socket $D -c 'show bgp ipv6 unicast json' |
		jq -r '.routes | keys | sort | join(\" \")')\" = '2001:db8:100::/48 2001:db9::/32 fd00:10:244:1::/64 fd00:10:244:2::/64 fd00:10:244:3::/64' ] &&
		! ip netns exec $T vtysh --vty_socket $D -c 'show ip bgp' | grep -q 10.244."
check "node1: the ToR sent ::/0 and 2001:db9::/32, filtered (import updates filtered >= 2)" \
	bash -c "$BIRDC -s $RST_TMP/n1/bird.ctl show protocols all peer_tor6 | awk '/Import updates:/ {exit !(\$3 >= 3 && \$5 >= 2)}'"
for k in 1 2 3 4; do
	check "node$k kernel: no IPv6 default route, nothing for 2001:db9::/32" \
		bash -c "! ip -n $(ns "n$k") -6 route show default | grep -q . && ! ip -n $(ns "n$k") -6 route show 2001:db9::/32 | grep -q ."
done
check "ToR: BFD sessions (over IPv6) with the three nodes are up" \
	wait_until 15 bash -c "[ \$(ip netns exec $T vtysh --vty_socket $D -c 'show bfd peers brief' | grep -c 'fd00:172:31::1[123] .* up ') -ge 3 ]"

# ---- a host behind the ToR pings6 a pod on every node -------------------------------
declare -A IP6
for k in 1 2 3; do
	IP6[$k]=none
	if pod_add "$k" 1; then
		IP6[$k]=$(jq -r '[.ips[] | select(.address | test(":"))][0].address // "none"' "$RST_TMP/cni.out" | cut -d/ -f1)
	else
		not_ok "ADD pod on node$k" "$(cat "$RST_TMP/cni.out" "$RST_TMP/cni.err")"
	fi
done
for k in 1 2 3; do
	check "host 2001:db8:100::2 behind the ToR pings6 pod ${IP6[$k]} on node$k" \
		ip netns exec "$(ns ext)" ping -6 -c 2 -W 2 "${IP6[$k]}"
done

# ---- the rogue over IPv6 ----------------------------------------------------------
check "node1: peer_rogue6 Established" wait_until 45 established 1 peer_rogue6
check "node1: $LIMIT IPv6 routes imported from the rogue (the limit)" \
	wait_until 30 bash -c "[ \"\$($BIRDC -s $RST_TMP/n1/bird.ctl show protocols all peer_rogue6 |
		grep -Eo 'Routes: +[0-9]+ imported' | grep -Eo '[0-9]+')\" = $LIMIT ]"
limit_blocks() {
	birdc_n 1 show protocols all peer_rogue6 >"$RST_TMP/rogue-proto.txt" &&
		grep -A1 "Receive limit: *$LIMIT" "$RST_TMP/rogue-proto.txt" | grep -q 'Action: *block' &&
		awk '/Import updates:/ {exit !($6 >= 5)}' "$RST_TMP/rogue-proto.txt"
}
check "node1: the receive limit ($LIMIT, action block) blocks the 5 routes past it" wait_until 15 limit_blocks
check "node1: the session stays Established past the limit" established 1 peer_rogue6
upd=$(awk '/Import updates:/ {print $3, $5; exit}' "$RST_TMP/rogue-proto.txt")
measure "rogue6: node1 peer_rogue6 import updates received/filtered: ${upd:-?}"
check "node1: the 6 bogus prefixes arrived and were filtered (received/filtered: ${upd:-?})" \
	test "${upd#* }" -ge 6 -a "${upd% *}" -ge 19
for k in 1 2 3 4; do
	for p in $BOGUS6; do
		# node1's own /64 is in the others' kernels, from node1
		[ "$p" = fd00:10:244:1::/64 ] && [ "$k" != 1 ] && continue
		check "node$k kernel: nothing for $p from BGP" no_bird_route6 "$k" "$p"
	done
done
for k in 2 3 4; do
	check "node$k kernel: node1's /64 via node1 (fd00:172:31::11), not the rogue" \
		kernel_route6 "$k" fd00:10:244:1::/64 fd00:172:31::11
done
check "node1 kernel: node2's /64 still via node2 (the mesh beats the rogue)" \
	kernel_route6 1 fd00:10:244:2::/64 fd00:172:31::12
flood1=$(ip -n "$(ns n1)" -6 route show proto bird | grep -cE '^fd00:10:244:10[0-9a-f]::/64 via fd00:172:31::66' || true)
flood2=$(for k in 2 3 4; do ip -n "$(ns "n$k")" -6 route show proto bird; done | grep -cE '^fd00:10:244:10[0-9a-f]::/64' || true)
measure "rogue6: 12 pod-shaped /64s announced, limit $LIMIT: node1's kernel has $flood1 of them, nodes 2-4 $flood2"
check "node1 kernel: at most $LIMIT of the 12 flooded /64s ($flood1)" test "$flood1" -le "$LIMIT"
check "nodes 2-4 kernels: none of the flooded /64s (a node exports only its own /64)" test "$flood2" -eq 0

# ---- strict BFD: a lost node's IPv6 /64 gone within 1 s -----------------------------
for k in 1 2 4; do
	wait_until 30 kernel_route6 "$k" fd00:10:244:3::/64 fd00:172:31::13
done
for k in 1 2 3; do
	wait_until 30 kernel_route6 "$k" fd00:10:244:4::/64 fd00:172:31::14
done
check "strict BFD: node1's BFD sessions with node3 (IPv4) and node4 (IPv6) are Up" \
	wait_until 15 bash -c "$BIRDC -s $RST_TMP/n1/bird.ctl show bfd sessions | grep -q '^172.31.0.13 .* Up' &&
		$BIRDC -s $RST_TMP/n1/bird.ctl show bfd sessions | grep -q '^fd00:172:31::14 .* Up'"
wait_until 15 bash -c "ip -n $T -6 route show fd00:10:244:3::/64 | grep -q via"

# lost K WHERE...: freezes nK's BIRD; GONE_MS = ms until every WHERE ("nJ" or
# "tor") has no route to fd00:10:244:K::/64 (empty after 5 s).
lost() {
	local k=$1 frozen t0 w all
	shift
	frozen=$(bird_pid "$k")
	t0=$(now_ms)
	kill -STOP "$frozen"
	GONE_MS=""
	while [ $(($(now_ms) - t0)) -lt 5000 ]; do
		all=1
		for w in "$@"; do
			if [ "$w" = tor ]; then
				ip -n "$T" -6 route show "fd00:10:244:$k::/64" | grep -q . && all=0
			else
				ip -n "$(ns "$w")" -6 route show "fd00:10:244:$k::/64" | grep -q . && all=0
			fi
		done
		if [ "$all" = 1 ]; then
			GONE_MS=$(($(now_ms) - t0))
			break
		fi
		sleep 0.02
	done
	kill -CONT "$frozen"
}
# bfd_ready K WHERE...: every node of WHERE has its BFD session with nK Up
# (over IPv4 or IPv6) and nK's /64 in its kernel: a node whose session is
# still coming back from the previous freeze would not notice this one.
bfd_ready() {
	local k=$1 w
	shift
	for w in "$@"; do
		$BIRDC -s "$RST_TMP/$w/bird.ctl" show bfd sessions |
			grep -Eq "^(172\.31\.0\.1$k|fd00:172:31::1$k) .* Up" || return 1
		kernel_route6 "${w#n}" "fd00:10:244:$k::/64" "fd00:172:31::1$k" || return 1
	done
}
wait_until 15 bfd_ready 3 n1 n2 n4
lost 3 n1 n2 n4
measure "strict BFD: node3's BIRD frozen -> fd00:10:244:3::/64 gone from nodes 1, 2 and 4 in ${GONE_MS:-more than 5000} ms"
check "strict BFD: dual-stack node3's IPv6 /64 gone from the other nodes within 1 s (${GONE_MS:-?} ms)" \
	test -n "$GONE_MS" -a "${GONE_MS:-9999}" -le 1000
check "node3's /64 back on node1 after SIGCONT" wait_until 30 kernel_route6 1 fd00:10:244:3::/64 fd00:172:31::13
wait_until 30 bash -c "ip -n $T -6 route show fd00:10:244:2::/64 | grep -q via"
wait_until 15 bash -c "[ \$(ip netns exec $T vtysh --vty_socket $D -c 'show bfd peers brief' | grep -c 'fd00:172:31::1[123] .* up ') -ge 3 ]"
lost 2 tor
measure "ToR strict BFD (over IPv6): node2's BIRD frozen -> fd00:10:244:2::/64 gone from the ToR's kernel in ${GONE_MS:-more than 5000} ms"
check "ToR strict BFD: node2's IPv6 /64 gone from the ToR within 1 s (${GONE_MS:-?} ms)" \
	test -n "$GONE_MS" -a "${GONE_MS:-9999}" -le 1000
wait_until 15 bfd_ready 4 n1 n2 n3
lost 4 n1 n2 n3
measure "strict BFD (over IPv6): IPv6-only node4's BIRD frozen -> fd00:10:244:4::/64 gone from nodes 1-3 in ${GONE_MS:-more than 5000} ms"
check "strict BFD over IPv6: node4's /64 gone from nodes 1-3 within 1 s (${GONE_MS:-?} ms)" \
	test -n "$GONE_MS" -a "${GONE_MS:-9999}" -le 1000
check "node4's /64 back on node1 after SIGCONT" wait_until 30 kernel_route6 1 fd00:10:244:4::/64 fd00:172:31::14

rst_finish
