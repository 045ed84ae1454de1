#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tor.sh - a top-of-rack router: FRR (bgpd, bfdd, zebra; AS 65000) on the
# node segment peers eBGP with three meshed roost nodes (AS 64512) with an
# MD5 password and TTL security, using examples/tor/ as is. The ToR learns
# every pod /24 with its node as next hop; a host behind the ToR
# (198.51.100.0/24, allow-listed by peers.import) pings pods on every node;
# a wrong password keeps that session down; strict BFD lets the ToR drop a
# silently lost node's /24 within a second.
. "$(dirname "$0")/lib.sh"
trap topo_cleanup EXIT

EX="$top_srcdir/examples/tor"
if [ ! -x /usr/lib/frr/bgpd ] || [ ! -x /usr/lib/frr/bfdd ]; then
	not_ok "FRR is installed (apt-get install frr)"
	rst_finish
	exit
fi

fabric_up
aux_add tor 172.31.0.1
T=$(ns tor)
D="$RST_TMP/tor"
# the host behind the ToR, on a subnet of its own
ns_add ext
ip -n "$(ns ext)" link add eth0 type veth peer name ext0 netns "$T"
ip -n "$(ns ext)" addr add 198.51.100.2/24 dev eth0
ip -n "$(ns ext)" link set eth0 up
ip -n "$(ns ext)" route add default via 198.51.100.1
ip -n "$T" addr add 198.51.100.1/24 dev ext0
ip -n "$T" link set ext0 up
ip netns exec "$T" sysctl -qw net.ipv4.ip_forward=1

# node configurations: examples/tor/nodeK.conf with this test's paths
for k in 1 2 3; do
	node_add "$k"
	d="$RST_TMP/n$k"
	{
		grep -v '^bird = ' "$EX/node$k.conf"
		echo "bird = { binary = \"$BIRD\"; config = \"$d/bird.conf\"; socket = \"$d/bird.ctl\"; pidfile = \"$d/bird.pid\"; };"
		echo "agent = { socket = \"$d/roostd.sock\"; state_dir = \"$d/state\"; log_level = \"debug\"; };"
	} >"$d/roostd.conf"
done

# FRR 8.4, started by hand in the ToR namespace (its quirks: docs/design.md):
# its own config, pid, vty and zserv paths, owned by user frr; zebra first.
cp "$EX/zebra.conf" "$EX/bfdd.conf" "$EX/bgpd.conf" "$D/"
chown -R frr:frr "$D"
frr() { frr_daemon "$T" "$D" "$@"; }
vty() { frr_vty "$T" "$D" "$@"; }
frr zebra
wait_until 15 test -S "$D/zserv.api"
frr bfdd --bfdctl "$D/bfdd.sock"
frr bgpd
check "FRR zebra, bfdd and bgpd run in the ToR namespace" \
	wait_until 15 bash -c "test -s $D/zebra.pid && test -s $D/bfdd.pid && test -s $D/bgpd.pid"

for k in 1 2 3; do
	roostd_start "$k"
done
for k in 1 2 3; do
	wait_until 15 test -S "$RST_TMP/n$k/roostd.sock"
done

# ---- the ToR learns every pod /24, next hop = its node -----------------------------
tor_has() { # PREFIX NEXTHOP: ToR's BGP table has PREFIX via NEXTHOP as best
	vty "show ip bgp" | grep -Eq "^\*> +$1 +$2 "
}
tor_all() {
	tor_has 10.244.1.0/24 172.31.0.11 && tor_has 10.244.2.0/24 172.31.0.12 &&
		tor_has 10.244.3.0/24 172.31.0.13
}
t0=$(now_ms)
if wait_until 45 tor_all; then
	measure "ToR: roostd start -> the ToR has all three /24s: $(($(now_ms) - t0)) ms"
fi
vty "show ip bgp" >"$RST_TMP/tor-bgp.txt" 2>&1
for k in 1 2 3; do
	check "ToR vtysh show ip bgp: 10.244.$k.0/24 next hop 172.31.0.1$k" \
		tor_has "10.244.$k.0/24" "172.31.0.1$k"
	check "node$k: peer_tor Established (eBGP, MD5, TTL security)" established "$k" peer_tor
	check "node$k kernel: 198.51.100.0/24 via the ToR (allow-listed)" \
		wait_until 15 kernel_route "$k" 198.51.100.0/24 172.31.0.1
done
check "ToR: exports nothing else to the nodes (no pod /24 from the ToR on node1)" \
	bash -c "! $BIRDC -s $RST_TMP/n1/bird.ctl show route protocol peer_tor | grep -q '10.244.'"
check "ToR: BFD sessions with the three nodes are up" \
	wait_until 15 bash -c "[ \$(ip netns exec $T vtysh --vty_socket $D -c 'show bfd peers brief' | grep -c ' up ') -ge 3 ]"

# ---- a host behind the ToR pings a pod on every node ---------------------------------
declare -A IP
for k in 1 2 3; do
	if pod_add "$k" 1; then
		IP[$k]=$POD_IP
	else
		IP[$k]=none
		not_ok "ToR: ADD pod on node$k" "$(cat "$RST_TMP/cni.out" "$RST_TMP/cni.err")"
	fi
done
for k in 1 2 3; do
	check "ToR: host 198.51.100.2 behind the ToR pings pod ${IP[$k]} on node$k" \
		ip netns exec "$(ns ext)" ping -c 2 -W 2 "${IP[$k]}"
done

# ---- a wrong password keeps node3's session down -----------------------------------
cp "$RST_TMP/n3/roostd.conf" "$RST_TMP/n3/roostd.conf.good"
sed -i 's/password = "roost-tor-secret"/password = "not-the-secret"/' "$RST_TMP/n3/roostd.conf"
kill -HUP "$(roostd_pid 3)"
check "wrong password: node3's peer_tor leaves Established" \
	wait_until 15 bash -c "! $BIRDC -s $RST_TMP/n3/bird.ctl show protocols peer_tor | grep -q Established"
check "wrong password: the ToR withdraws 10.244.3.0/24" \
	wait_until 15 bash -c "! ip netns exec $T vtysh --vty_socket $D -c 'show ip bgp' | grep -q '10.244.3.0/24'"
wait_until 8 false # the session gets several attempts
state=$(birdc_n 3 show protocols peer_tor | awk '$1 == "peer_tor" {print $6}')
check "wrong password: after 8 s node3's peer_tor is still not Established (birdc: ${state:-?})" \
	bash -c "[ -n '$state' ] && [ '$state' != Established ]"
check "wrong password: the other nodes' sessions stay Established" \
	bash -c "$(declare -f established birdc_n); BIRDC=$BIRDC; RST_TMP=$RST_TMP; established 1 peer_tor && established 2 peer_tor"
check "wrong password: the password does not appear in roostd's log" \
	bash -c "! grep -q 'not-the-secret\|roost-tor-secret' $RST_TMP/n3/roostd.log"
cp "$RST_TMP/n3/roostd.conf.good" "$RST_TMP/n3/roostd.conf"
kill -HUP "$(roostd_pid 3)"
check "right password again: node3's /24 back on the ToR" wait_until 30 tor_has 10.244.3.0/24 172.31.0.13

# ---- strict BFD: node2 silently lost -> the ToR drops its /24 within 1 s ----------------
wait_until 15 bash -c "ip -n $T route show 10.244.2.0/24 | grep -q 'via 172.31.0.12'"
wait_until 15 bash -c "[ \$(ip netns exec $T vtysh --vty_socket $D -c 'show bfd peers brief' | grep -c ' up ') -ge 3 ]"
frozen=$(bird_pid 2)
t0=$(now_ms)
kill -STOP "$frozen"
gone=""
while [ $(($(now_ms) - t0)) -lt 5000 ]; do
	if ! ip -n "$T" route show 10.244.2.0/24 | grep -q .; then
		gone=$(($(now_ms) - t0))
		break
	fi
	sleep 0.02
done
kill -CONT "$frozen"
measure "ToR strict BFD: node2's BIRD frozen -> 10.244.2.0/24 gone from the ToR's kernel in ${gone:-more than 5000} ms"
check "ToR strict BFD: node2's /24 gone from the ToR within 1 s (${gone:-?} ms)" \
	test -n "$gone" -a "${gone:-9999}" -le 1000
check "ToR: node2's /24 back after SIGCONT" wait_until 45 tor_has 10.244.2.0/24 172.31.0.12

rst_finish
