#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# egress.sh - egress masquerade (egress.masquerade, egress.no_masquerade):
# two meshed nodes whose default route is a router namespace (172.31.0.1)
# with two networks behind it: "outside" (198.51.100.0/24, no route to the
# pods) and "native" (192.0.2.0/24, listed in no_masquerade; the router
# sends its replies to the pods' nodes). Small TCP servers (socat) answer
# with the peer address they see. A pod reaches the outside as its node's
# address; pod -> pod across nodes (also on the fabric, tcpdump), pod ->
# its own node and pod -> native keep the pod's address. The table is
# `table ip roost` in the node's namespace: a roostd restart keeps it (present
# throughout) and an established connection through it; SIGHUP with
# masquerade = false removes it, and the outside is unreachable without it.
. "$(dirname "$0")/lib.sh"
trap 'bg_stop_all; topo_cleanup' EXIT

if ! command -v nft >/dev/null; then
	not_ok "nft is installed (apt-get install nftables; the test inspects with it)"
	rst_finish
	exit
fi

fabric_up
aux_add rtr 172.31.0.1
R=$(ns rtr)
ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1
# net_behind NAME IF ADDR: namespace NAME on its own /24 behind the router.
net_behind() {
	local name=$1 ifname=$2 net=$3
	ns_add "$name"
	ip -n "$(ns "$name")" link add eth0 type veth peer name "$ifname" netns "$R"
	ip -n "$(ns "$name")" addr add "$net.2/24" dev eth0
	ip -n "$(ns "$name")" link set eth0 up
	ip -n "$(ns "$name")" route add default via "$net.1"
	ip -n "$R" addr add "$net.1/24" dev "$ifname"
	ip -n "$R" link set "$ifname" up
}
net_behind out out0 198.51.100
net_behind native nat0 192.0.2
# Only what comes from the native network is routed back to the pods.
ip -n "$R" route add 10.244.1.0/24 via 172.31.0.11 table 100
ip -n "$R" route add 10.244.2.0/24 via 172.31.0.12 table 100
ip -n "$R" rule add iif nat0 table 100

EGRESS='egress = { masquerade = true; no_masquerade = ( "192.0.2.0/24" ); };'
for k in 1 2; do
	node_add "$k"
	ip -n "$(ns "n$k")" route add default via 172.31.0.1
	node_conf "$k" 2
	echo "$EGRESS" >>"$RST_TMP/n$k/roostd.conf"
	roostd_start "$k"
done
mesh_wait 2
for k in 1 2; do
	wait_until 15 roostd_ready "$k"
	pod_add "$k" 1 || not_ok "ADD pod on node$k" "$(cat "$RST_TMP/cni.out" "$RST_TMP/cni.err")"
done
P1=$(ip -n "$(ns n1p1)" -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1)
P2=$(ip -n "$(ns n2p1)" -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1)

# peer_server NS ADDR: a TCP server on ADDR:8080 in NS that answers every
# connection with the peer address it sees, then closes.
peer_server() {
	bg_start "$(ns "$1")" "$RST_TMP/srv-$1.log" socat TCP-LISTEN:8080,bind="$2",fork,reuseaddr \
		SYSTEM:'echo $SOCAT_PEERADDR'
	wait_until 10 bash -c "ip netns exec $(ns "$1") ss -ltn | grep -q '$2:8080'"
}
# seen_by NS ADDR: from NS, what the server on ADDR:8080 saw as our address.
seen_by() {
	ip netns exec "$(ns "$1")" timeout 10 socat -T 5 - "TCP:$2:8080,connect-timeout=4" </dev/null
}
# sees NS ADDR WANT: the server on ADDR saw WANT when NS connected.
sees() {
	local got
	got=$(seen_by "$1" "$2") || { echo "no answer from $2"; return 1; }
	[ "$got" = "$3" ] || { echo "the server saw '$got', expected '$3'"; return 1; }
}
table_present() { ip netns exec "$(ns "n$1")" nft list tables | grep -qx 'table ip roost'; }

peer_server out 198.51.100.2
peer_server native 192.0.2.2
peer_server n2p1 "$P2"
peer_server n1 172.31.0.11
peer_server n2 172.31.0.12

# ---- the table, and what each destination sees -----------------------------------
for k in 1 2; do
	check "node$k: nft list tables shows table ip roost" table_present "$k"
done
check "node1: the masquerade rule covers node1's pods and skips the cluster and no_masquerade" \
	bash -c "ip netns exec $(ns n1) nft list chain ip roost postrouting | grep -q 'ip saddr 10.244.1.0/24 ip daddr != @cluster ip daddr != @no_masquerade .* masquerade'"
check "node1: set no_masquerade holds 192.0.2.0/24" \
	bash -c "ip netns exec $(ns n1) nft list set ip roost no_masquerade | grep -q '192.0.2.0/24'"
check "pod $P1 -> outside host 198.51.100.2 (no route to pods): it sees node1's address 172.31.0.11" \
	sees n1p1 198.51.100.2 172.31.0.11
check "pod $P2 -> outside host: it sees node2's address 172.31.0.12" \
	sees n2p1 198.51.100.2 172.31.0.12
check "pod $P1 -> pod $P2 on node2: it sees the pod's own address" sees n1p1 "$P2" "$P1"
check "pod $P1 -> its own node 172.31.0.11: it sees the pod's own address" \
	sees n1p1 172.31.0.11 "$P1"
check "pod $P1 -> 192.0.2.2 (in no_masquerade): it sees the pod's own address" \
	sees n1p1 192.0.2.2 "$P1"
check "pod $P1 -> node2's address (outside the cluster CIDR, as flannel): it sees 172.31.0.11" \
	sees n1p1 172.31.0.12 172.31.0.11
check "roostctl status: masquerade on, table present, connections counted" \
	bash -c "ip netns exec $(ns n1) $top_builddir/agent/roostctl -s $RST_TMP/n1/roostd.sock status | grep -Eq '^egress +masquerade on \(table ip roost present, [1-9][0-9]* connection'"
check "roostctl -o json status: egress ok" \
	bash -c "ip netns exec $(ns n1) $top_builddir/agent/roostctl -s $RST_TMP/n1/roostd.sock -o json status | jq -e '.egress.masquerade and .egress.present and .egress.ok'"

# ---- on the fabric, pod -> pod across nodes carries the pods' addresses -------------
bg_start "$(ns fab)" "$RST_TMP/tcpdump.txt" tcpdump -l -n -i br0 -c 3 "icmp and src host $P1 and dst host $P2"
TCPDUMP=$BG_PID
wait_until 10 grep -q "listening on" "$RST_TMP/tcpdump.txt"
ip netns exec "$(ns n1p1)" ping -c 3 -i 0.2 -W 2 "$P2" >/dev/null
check "tcpdump on the fabric: ICMP $P1 > $P2 (no translation between nodes)" \
	wait_until 10 bash -c "[ \$(grep -c 'IP $P1 > $P2: ICMP echo request' $RST_TMP/tcpdump.txt) -ge 3 ]"
bg_stop "$TCPDUMP"

# ---- roostd restart: the table stays, an established connection lives on -----------
bg_start "$(ns out)" "$RST_TMP/echo.log" socat TCP-LISTEN:9000,bind=198.51.100.2,fork,reuseaddr \
	SYSTEM:'echo peer $SOCAT_PEERADDR; exec cat'
wait_until 10 bash -c "ip netns exec $(ns out) ss -ltn | grep -q '198.51.100.2:9000'"
mkfifo "$RST_TMP/conn.in"
exec 7<>"$RST_TMP/conn.in"
: >"$RST_TMP/conn.out"
# One TCP connection for the whole section: each line from conn.in goes
# out, its echo is appended to conn.out.
bg_start "$(ns n1p1)" "$RST_TMP/conn.log" bash -c "
	exec 3<>/dev/tcp/198.51.100.2/9000 || exit 1
	read -r -t 10 hello <&3 && echo \"\$hello\" >>$RST_TMP/conn.out
	while read -r line; do
		echo \"\$line\" >&3
		read -r -t 10 back <&3 || exit 1
		echo \"\$back\" >>$RST_TMP/conn.out
	done <$RST_TMP/conn.in"
CONN=$BG_PID
echo before >&7
check "long connection pod -> outside: established through the masquerade (peer 172.31.0.11)" \
	wait_until 10 grep -qx "peer 172.31.0.11" "$RST_TMP/conn.out"
check "long connection: an echo comes back" wait_until 10 grep -qx before "$RST_TMP/conn.out"
# A watcher lists the tables as fast as nft allows during the restart.
bg_start "$(ns n1)" "$RST_TMP/watch.log" bash -c '
	while :; do
		if nft list tables | grep -qx "table ip roost"; then echo present; else echo MISSING; fi
	done'
WATCH=$BG_PID
wait_until 10 grep -q present "$RST_TMP/watch.log"
old=$(roostd_pid 1)
kill -TERM "$old"
wait "$old" 2>/dev/null
check "roostd exited: table ip roost is still there" table_present 1
roostd_start 1
check "roostd restarted and ready" wait_until 15 roostd_ready 1
check "roostd restarted: it replaced the table (log)" \
	log_has 1 "roostd\[$(roostd_pid 1)\] info: egress: masquerade on: table ip roost replaced in"
bg_stop "$WATCH"
check "the table was present at every one of $(grep -c . "$RST_TMP/watch.log") looks during the restart" \
	bash -c "! grep -q MISSING $RST_TMP/watch.log"
echo after >&7
check "the established connection survived the restart (echo after it)" \
	wait_until 10 grep -qx after "$RST_TMP/conn.out"
check "the connection's client is still running" kill -0 "$CONN"
exec 7>&-
bg_stop "$CONN"

# ---- SIGHUP with masquerade = false removes the table --------------------------------
sed -i 's/masquerade = true;/masquerade = false;/' "$RST_TMP/n1/roostd.conf"
kill -HUP "$(roostd_pid 1)"
check "masquerade = false + SIGHUP: table ip roost is gone from node1" \
	wait_until 15 bash -c "! ip netns exec $(ns n1) nft list tables | grep -q 'table ip roost'"
check "roostctl status: masquerade off, table absent" \
	bash -c "ip netns exec $(ns n1) $top_builddir/agent/roostctl -s $RST_TMP/n1/roostd.sock status | grep -Eq '^egress +masquerade off \(table ip roost absent\)'"
check "without masquerade, the outside host (no route to pods) cannot answer pod $P1" \
	bash -c "! ip netns exec $(ns n1p1) timeout 6 socat -T 3 - TCP:198.51.100.2:8080,connect-timeout=3 </dev/null"
check "without masquerade, pod -> pod still works" sees n1p1 "$P2" "$P1"
check "node2 keeps its own table" table_present 2
sed -i 's/masquerade = false;/masquerade = true;/' "$RST_TMP/n1/roostd.conf"
kill -HUP "$(roostd_pid 1)"
check "masquerade = true + SIGHUP: the table is back" wait_until 15 table_present 1
check "the outside host sees node1's address again" sees n1p1 198.51.100.2 172.31.0.11

# ---- a bad no_masquerade entry: the reload is refused, the table stays -------------
cp "$RST_TMP/n1/roostd.conf" "$RST_TMP/n1/roostd.conf.good"
sed -i 's|"192.0.2.0/24"|"192.0.2.1/24"|' "$RST_TMP/n1/roostd.conf"
kill -HUP "$(roostd_pid 1)"
check "bad no_masquerade: the reload is refused, naming file:line" \
	wait_until 15 log_has 1 "reload: .* has errors, not reloading: .*roostd.conf:[0-9]+: egress.no_masquerade\[0\]: '192.0.2.1/24' has host bits set"
check "bad no_masquerade: table ip roost unchanged" \
	bash -c "ip netns exec $(ns n1) nft list set ip roost no_masquerade | grep -q '192.0.2.0/24'"
cp "$RST_TMP/n1/roostd.conf.good" "$RST_TMP/n1/roostd.conf"

rst_finish
