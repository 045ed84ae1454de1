#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# dual-pods.sh - dual-stack pods through the real plugin: three dual-stack
# nodes; each pod gets an IPv4 and an IPv6 address (the IPv6 one usable when
# ADD returns), the CNI result (1.0.0 and 1.1.0) lists both with their
# gateways and both families' routes; pods ping and ping6 across nodes, and
# tcpdump on the fabric sees their own packets, nothing encapsulated;
# CHECK passes and fails when the IPv6 address goes; DEL and GC remove
# both records and the veth; an ADD whose IPv6 reservation fails leaves no
# IPv4 record and no veth; a restart reconciles both families. Then two
# IPv6-only nodes with IPv6-only pods pinging across. libcni (tests/cnidriver)
# does ADD/CHECK/DEL on a dual-stack pod.
. "$(dirname "$0")/lib.sh"

ROOSTCTL=${ROOSTCTL:-$top_builddir/agent/roostctl}

# dual_conf K: nK's roostd.conf, dual-stack, in a mesh of nodes 1-3.
dual_conf() {
	local k=$1 j mesh="" d="$RST_TMP/n$1"
	for j in 1 2 3; do
		[ "$j" = "$k" ] && continue
		mesh="$mesh${mesh:+, }{ name = \"node$j\"; address = \"172.31.0.1$j\"; pod_cidr = \"10.244.$j.0/24\";
             address6 = \"fd00:172:31::1$j\"; pod_cidr6 = \"fd00:10:244:$j::/64\"; }"
	done
	cat >"$d/roostd.conf" <<EOF
node = { name = "node$k"; address = "172.31.0.1$k"; pod_cidr = "10.244.$k.0/24";
         address6 = "fd00:172:31::1$k"; pod_cidr6 = "fd00:10:244:$k::/64"; };
cluster = { pod_cidr = "10.244.0.0/16"; pod_cidr6 = "fd00:10:244::/48"; asn = 64512; };
bgp = { mesh = ( $mesh ); };
bird = { binary = "$BIRD"; config = "$d/bird.conf"; socket = "$d/bird.ctl"; pidfile = "$d/bird.pid"; };
agent = { socket = "$d/roostd.sock"; state_dir = "$d/state"; log_level = "debug"; };
EOF
}

# v6_conf K: nK's roostd.conf, IPv6-only, in a mesh of nodes 4 and 5.
v6_conf() {
	local k=$1 j=$((9 - $1)) d="$RST_TMP/n$1"
	cat >"$d/roostd.conf" <<EOF
node = { name = "node$k"; address6 = "fd00:172:32::1$k"; pod_cidr6 = "fd00:20:244:$k::/64"; };
cluster = { pod_cidr6 = "fd00:20:244::/48"; };
bgp = { mesh = ( { name = "node$j"; address6 = "fd00:172:32::1$j"; pod_cidr6 = "fd00:20:244:$j::/64"; } ); };
bird = { binary = "$BIRD"; config = "$d/bird.conf"; socket = "$d/bird.ctl"; pidfile = "$d/bird.pid"; };
agent = { socket = "$d/roostd.sock"; state_dir = "$d/state"; log_level = "debug"; };
EOF
}

# records K: IPv4 and IPv6 reservation files of node K ("N4 N6").
records() {
	local d="$RST_TMP/n$1/state"
	echo "$(find "$d/roost" -maxdepth 1 -type f -name '10.*' ! -name '*.bad' 2>/dev/null | wc -l)" \
		"$(find "$d/roost6" -maxdepth 1 -type f -name 'fd00:*' ! -name '*.bad' 2>/dev/null | wc -l)"
}
records_are() { [ "$(records "$1")" = "$2" ]; }
veths_and_records() { host_veths_are "$1" "$2" && records_are "$1" "$3"; }

# add K J [VERSION]: pod J on node K; result in $RST_TMP/add-K-J.json, its
# addresses in $IP4 and $IP6 (without the prefix length).
add() {
	pod_ns_add "$1" "$2"
	cni "$1" ADD "pod-$1-$2" eth0 "/run/netns/$(ns "n$1p$2")" "$(netconf "$1" "${3:-1.0.0}")" ||
		return 1
	cp "$RST_TMP/cni.out" "$RST_TMP/add-$1-$2.json"
	IP4=$(jq -r '[.ips[] | select(.address | test(":") | not)][0].address // "none"' "$RST_TMP/cni.out" | cut -d/ -f1)
	IP6=$(jq -r '[.ips[] | select(.address | test(":"))][0].address // "none"' "$RST_TMP/cni.out" | cut -d/ -f1)
}

# add_ok DESC K J [VERSION]: add(), reported as a check (in this shell, so
# $IP4 and $IP6 stay set).
add_ok() {
	local desc=$1
	shift
	if add "$@"; then
		ok "$desc"
	else
		not_ok "$desc" "$(cat "$RST_TMP/cni.out" "$RST_TMP/cni.err")"
	fi
}

# ping_from K J ADDR: pod J of node K pings ADDR (either family) once.
ping_from() { ip netns exec "$(ns "n$1p$2")" ping -c 1 -W 2 "$3" >/dev/null 2>&1; }

fabric_up
for k in 1 2 3; do
	node_add "$k"
	ip -n "$(ns "n$k")" addr add "fd00:172:31::1$k/64" dev eth0 nodad
	dual_conf "$k"
	roostd_start "$k"
done
for k in 1 2 3; do
	wait_until 10 test -S "$RST_TMP/n$k/roostd.sock"
	for j in 1 2 3; do
		[ "$j" = "$k" ] && continue
		wait_until 30 kernel_route "$k" "10.244.$j.0/24" "172.31.0.1$j"
		wait_until 30 kernel_route6 "$k" "fd00:10:244:$j::/64" "fd00:172:31::1$j"
	done
done

# ---- ADD: both addresses, the result ------------------------------------------------
add_ok "node1: ADD of a dual-stack pod (CNI 1.0.0) succeeds" 1 1
R=$RST_TMP/add-1-1.json
P1_4=$IP4 P1_6=$IP6
# The address must be usable at once: checked before anything else waits.
check "node1 pod: $P1_6 on eth0 is not tentative when ADD returns (nodad)" \
	bash -c "ip -n $(ns n1p1) -6 addr show dev eth0 | grep 'inet6 $P1_6/64' | grep -qv tentative"
check "result: cniVersion 1.0.0, two ips on interface 2 (10.244.1.N/24 gw 10.244.1.1, fd00:10:244:1::N/64 gw fd00:10:244:1::1)" \
	jq -e '.cniVersion == "1.0.0" and (.ips | length == 2) and
		(.ips[0].address | test("^10\\.244\\.1\\.[0-9]+/24$")) and .ips[0].gateway == "10.244.1.1" and
		.ips[0].interface == 2 and
		(.ips[1].address | test("^fd00:10:244:1::[0-9a-f]+/64$")) and .ips[1].gateway == "fd00:10:244:1::1" and
		.ips[1].interface == 2 and (.ips | all(has("version") | not)) and
		.interfaces[2].name == "eth0" and (.interfaces[2].sandbox | length > 0)' "$R"
check "result: routes of both families via their gateways" \
	jq -e '.routes == [{"dst":"0.0.0.0/0","gw":"10.244.1.1"},{"dst":"10.244.0.0/16","gw":"10.244.1.1"},
		{"dst":"::/0","gw":"fd00:10:244:1::1"},{"dst":"fd00:10:244::/48","gw":"fd00:10:244:1::1"}]' "$R"
check "node1 pod: default IPv6 route via fd00:10:244:1::1, and fd00:10:244::/48" \
	bash -c "ip -n $(ns n1p1) -6 route show default | grep -q '^default via fd00:10:244:1::1 dev eth0' &&
		ip -n $(ns n1p1) -6 route show fd00:10:244::/48 | grep -q 'via fd00:10:244:1::1 dev eth0'"
check "node1: one record per address: $P1_4 and $P1_6 name pod-1-1" \
	bash -c "head -1 $RST_TMP/n1/state/roost/$P1_4 | grep -qx pod-1-1 &&
		head -1 '$RST_TMP/n1/state/roost6/$P1_6' | grep -qx pod-1-1"
add_ok "node2: ADD with CNI 1.1.0 lists both addresses too" 2 1 1.1.0
P2_4=$IP4 P2_6=$IP6
check "result 1.1.0: two ips, fd00:10:244:2::N/64 with gateway fd00:10:244:2::1, mtu on the interfaces" \
	jq -e '.cniVersion == "1.1.0" and (.ips | length == 2) and
		(.ips[1].address | test("^fd00:10:244:2::[0-9a-f]+/64$")) and .ips[1].gateway == "fd00:10:244:2::1" and
		.interfaces[2].mtu == 1500' "$RST_TMP/add-2-1.json"
add_ok "node3: ADD (0.4.0): ips carry version 4 and 6" 3 1 0.4.0
P3_4=$IP4 P3_6=$IP6
check "result 0.4.0: ips[].version 4 then 6" \
	jq -e '[.ips[].version] == ["4","6"]' "$RST_TMP/add-3-1.json"

# ---- traffic across nodes ---------------------------------------------------------
check "ping node1 pod -> node2 pod ($P2_4)" ping_from 1 1 "$P2_4"
check "ping6 node1 pod -> node2 pod ($P2_6)" ping_from 1 1 "$P2_6"
check "ping6 node2 pod -> node3 pod ($P3_6)" ping_from 2 1 "$P3_6"
check "ping6 node3 pod -> node1 pod ($P1_6)" ping_from 3 1 "$P1_6"
check "ping node3 pod -> node1 pod ($P1_4)" ping_from 3 1 "$P1_4"

# ---- on the fabric: the pods' own packets, no encapsulation in either family -----------
# Everything node1 sends to node2 on br0 while its pod pings node2's pod in
# both families: the ICMP and ICMPv6 echoes carry the pods' addresses, and no
# tunnel packet (VXLAN/Geneve UDP, IPIP, 6in4, GRE, ESP) appears at all.
bg_start "$(ns fab)" "$RST_TMP/fabric.txt" tcpdump -l -n -i br0 \
	"(src host 172.31.0.11 or src host fd00:172:31::11 or src net 10.244.1.0/24 or src net fd00:10:244:1::/64) and not tcp port 179"
TCPDUMP=$BG_PID
wait_until 10 grep -q "listening on" "$RST_TMP/fabric.txt"
ip netns exec "$(ns n1p1)" ping -c 3 -i 0.2 -W 2 "$P2_4" >/dev/null
ip netns exec "$(ns n1p1)" ping -6 -c 3 -i 0.2 -W 2 "$P2_6" >/dev/null
check "tcpdump on the fabric: ICMP $P1_4 > $P2_4 as the outermost header" \
	wait_until 10 bash -c "[ \$(grep -Ec '^[0-9:.]+ IP $P1_4 > $P2_4: ICMP echo request' $RST_TMP/fabric.txt) -ge 3 ]"
check "tcpdump on the fabric: ICMP6 $P1_6 > $P2_6 as the outermost header" \
	wait_until 10 bash -c "[ \$(grep -Ec '^[0-9:.]+ IP6 $P1_6 > $P2_6: ICMP6, echo request' $RST_TMP/fabric.txt) -ge 3 ]"
bg_stop "$TCPDUMP"
check "tcpdump on the fabric: no encapsulated packet from node1 in either family" \
	bash -c "! grep -Eiq 'vxlan|geneve|\\.(4789|8472|6081)[ :]|ipip|ip-proto-(4|41|47|50)|GREv|ESP\\(' $RST_TMP/fabric.txt"

# ---- egress masquerade, IPv6 ------------------------------------------------------------
# A host on the fabric with no route to the pod subnets: a pod reaches it
# only from its node's address (table ip6 roost), pod -> pod keeps its own.
aux_add out6 172.31.0.99
ip -n "$(ns out6)" addr add fd00:172:31::99/64 dev eth0 nodad
check "node1: table ip6 roost masquerades its pods' IPv6 traffic out of fd00:10:244::/48" \
	bash -c "ip netns exec $(ns n1) nft list table ip6 roost | grep -q 'ip6 saddr fd00:10:244:1::/64 ip6 daddr != @cluster .*masquerade'"
check "ping6 node1 pod -> a host with no route to pods (fd00:172:31::99): masqueraded" \
	ping_from 1 1 fd00:172:31::99
check "... the host saw node1's address, and the rule counted it" \
	bash -c "ip -n $(ns out6) -6 neigh show | grep -q '^fd00:172:31::11 ' &&
		ip netns exec $(ns n1) nft list table ip6 roost | grep -Eq 'counter packets [1-9]'"

# ---- roostctl pods ----------------------------------------------------------------
"$ROOSTCTL" -s "$RST_TMP/n1/roostd.sock" pods >"$RST_TMP/pods.txt" 2>&1
check "roostctl pods on node1 shows pod-1-1 with $P1_4 and $P1_6" \
	grep -qE "^$P1_4 +pod-1-1 .* $P1_6\$" "$RST_TMP/pods.txt"
check "roostctl -o json pods: address and address6, pool6_size of a /64 not wrapped negative" \
	bash -c "'$ROOSTCTL' -s $RST_TMP/n1/roostd.sock -o json pods |
		jq -e '.pods[0].address == \"$P1_4\" and .pods[0].address6 == \"$P1_6\" and .pool6_used == 1 and .pool6_size > 1e18'"

# ---- CHECK ------------------------------------------------------------------------
prev() { jq -c --argjson prev "$(cat "$RST_TMP/add-$1-1.json")" '. + {prevResult: $prev}' <<<"$(netconf "$1")"; }
check "CHECK with the dual-stack prevResult passes" cni 1 CHECK pod-1-1 eth0 "/run/netns/$(ns n1p1)" "$(prev 1)"
ip -n "$(ns n1p1)" -6 route del fd00:10:244::/48
cni 1 CHECK pod-1-1 eth0 "/run/netns/$(ns n1p1)" "$(prev 1)"
check "CHECK fails once the IPv6 cluster route is gone" \
	jq -e '.code == 103 and (.msg | test("fd00:10:244::/48"))' "$RST_TMP/cni.out"
ip -n "$(ns n1p1)" -6 route add fd00:10:244::/48 via fd00:10:244:1::1 dev eth0
ip -n "$(ns n1p1)" -6 addr del "$P1_6/64" dev eth0
cni 1 CHECK pod-1-1 eth0 "/run/netns/$(ns n1p1)" "$(prev 1)"
check "CHECK fails once the IPv6 address is gone" \
	jq -e '.code == 103 and (.msg | test("does not have"))' "$RST_TMP/cni.out"
ip -n "$(ns n1p1)" -6 addr add "$P1_6/64" dev eth0 nodad
check "CHECK passes again once repaired" cni 1 CHECK pod-1-1 eth0 "/run/netns/$(ns n1p1)" "$(prev 1)"

# ---- a failed second family leaves nothing --------------------------------------------
# The next IPv6 address (round robin after node1's first) is taken by a
# folder: writing its record fails after the IPv4 address was reserved.
before=$(records 1)
next6=$(python3 -c "import ipaddress,sys; print(ipaddress.ip_address(sys.argv[1]) + 1)" "$P1_6")
mkdir "$RST_TMP/n1/state/roost6/$next6"
touch "$RST_TMP/n1/state/roost6/$next6/x"
pod_ns_add 1 2
cni 1 ADD pod-1-2 eth0 "/run/netns/$(ns n1p2)"
check "ADD whose IPv6 reservation fails: CNI error 102 naming the IPv6 reservation" \
	jq -e '.code == 102 and (.msg | test("IPv6 address reservation"))' "$RST_TMP/cni.out"
got=$(records 1)
check "... leaves no IPv4 record and no IPv6 record (still '$before', got '$got'), no host veth, no eth0 in the pod" \
	bash -c "[ '$got' = '$before' ] && [ \"\$(ip -n $(ns n1) -o link show | grep -c ': veth')\" = 1 ] &&
		! ip -n $(ns n1p2) link show eth0 >/dev/null 2>&1"
rm -r "${RST_TMP:?}/n1/state/roost6/$next6"
check "the same ADD succeeds once the folder is cleared" cni 1 ADD pod-1-2 eth0 "/run/netns/$(ns n1p2)"
check "node1: 2 veths, 2 records of each family" veths_and_records 1 2 "2 2"

# ---- restart: reconcile covers both families ------------------------------------------
# A crash between a DEL's record removal and the veth deletion, by hand:
# pod-1-2's records go while roostd is down; reconcile deletes its veth.
kill -TERM "$(roostd_pid 1)"
wait_until 10 bash -c "! kill -0 $(roostd_pid 1) 2>/dev/null"
rm -f "$RST_TMP/n1/state/roost/$(jq -r '.ips[0].address' "$RST_TMP/cni.out" | cut -d/ -f1)"
rm -f "$RST_TMP/n1/state/roost6/$(jq -r '.ips[1].address' "$RST_TMP/cni.out" | cut -d/ -f1)"
roostd_start 1
wait_until 10 roostd_ready 1
check "restart: reconcile deleted the veth without records, kept pod-1-1's (1 veth, 1 record of each)" \
	wait_until 10 veths_and_records 1 1 "1 1"
check "restart: CHECK of pod-1-1 passes (both records reloaded)" \
	cni 1 CHECK pod-1-1 eth0 "/run/netns/$(ns n1p1)" "$(prev 1)"
# The other way round: pod-1-1's veth vanishes while roostd is down.
kill -TERM "$(roostd_pid 1)"
wait_until 10 bash -c "! kill -0 $(roostd_pid 1) 2>/dev/null"
ip -n "$(ns n1)" link del "$(jq -r '.interfaces[1].name' "$R")"
roostd_start 1
wait_until 10 roostd_ready 1
check "restart: reconcile released both records of pod-1-1, whose veth is gone" \
	wait_until 10 veths_and_records 1 0 "0 0"
check "node1 logs the IPv6 release" log_has 1 "reconcile: released $P1_6 of container=pod-1-1"

# ---- DEL and GC ------------------------------------------------------------------
check "node2: DEL of the dual-stack pod succeeds" cni 2 DEL pod-2-1 eth0 "/run/netns/$(ns n2p1)"
check "node2: DEL removed both records and the veth" wait_until 5 veths_and_records 2 0 "0 0"
check "node2: DEL again: success" cni 2 DEL pod-2-1 eth0 "/run/netns/$(ns n2p1)"
# ---- libcni (what containerd and CRI-O call plugins with) on a dual-stack node ----
DRIVER=${CNIDRIVER:-$top_builddir/tests/cnidriver}
if [ -x "$DRIVER" ]; then
	mkdir -p "$RST_TMP/cache" "$RST_TMP/bin"
	ln -s "$ROOST_CNI" "$RST_TMP/bin/roost"
	jq --arg s "$RST_TMP/n2/roostd.sock" '.plugins[0].agentSocket = $s' \
		"$top_srcdir/examples/10-roost.conflist" >"$RST_TMP/10-roost.conflist"
	drive() {
		ip netns exec "$(ns n2)" env CNI_PATH="$RST_TMP/bin" CNI_CACHE_DIR="$RST_TMP/cache" \
			"$DRIVER" "$1" "$RST_TMP/10-roost.conflist" "$2" "/run/netns/$(ns n2p9)" eth0 \
			>"$RST_TMP/drive.out" 2>&1
	}
	pod_ns_add 2 9
	check "libcni AddNetworkList on dual-stack node2" drive add lc1
	check "libcni parsed the result: 10.244.2.N and fd00:10:244:2::N, both on interface 2 with gateways" \
		jq -e '(.ips | length == 2) and (.ips[0].address | startswith("10.244.2.")) and
			(.ips[1].address | startswith("fd00:10:244:2::")) and .ips[1].gateway == "fd00:10:244:2::1" and
			(.ips | all(.interface == 2))' "$RST_TMP/drive.out"
	check "libcni CheckNetworkList (prevResult from libcni's cache)" drive check lc1
	check "libcni DelNetworkList" drive del lc1
	check "after DelNetworkList: no record of either family, no host veth" \
		wait_until 5 veths_and_records 2 0 "0 0"
else
	not_ok "libcni driver is built ($DRIVER)" "tests/run builds it with golang-go and golang-github-appc-cni-dev"
fi

add_ok "node3: a second pod (1.1.0)" 3 2 1.1.0
gc_in=$(jq -c '. + {"cni.dev/valid-attachments": [{"containerID":"pod-3-1","ifname":"eth0"}]}' \
	<<<"$(netconf 3 1.1.0)")
check "node3: GC keeping pod-3-1 succeeds" cni 3 GC "" "" "" "$gc_in"
check "node3: GC released both records of pod-3-2 and its veth, kept pod-3-1's" \
	wait_until 5 veths_and_records 3 1 "1 1"
check "node3: pod-3-1 still pings node1's gateway over IPv6" ping_from 3 1 fd00:10:244:1::1

# ---- IPv6-only nodes with IPv6-only pods ----------------------------------------------
for k in 4 5; do
	ns_add "n$k"
	ip -n "$(ns "n$k")" link add eth0 type veth peer name "n$k" netns "$(ns fab)"
	ip -n "$(ns fab)" link set "n$k" master br0 up
	ip -n "$(ns "n$k")" addr add "fd00:172:32::1$k/64" dev eth0 nodad
	ip -n "$(ns "n$k")" link set eth0 up
	mkdir -p "$RST_TMP/n$k"
	v6_conf "$k"
	roostd_start "$k"
done
wait_until 10 test -S "$RST_TMP/n4/roostd.sock"
wait_until 10 test -S "$RST_TMP/n5/roostd.sock"
wait_until 30 kernel_route6 4 fd00:20:244:5::/64 fd00:172:32::15
wait_until 30 kernel_route6 5 fd00:20:244:4::/64 fd00:172:32::14
check "IPv6-only node4: the session log names node5's IPv6 address" \
	wait_until 5 log_has 4 "session: up name=node_node5 kind=mesh address=fd00:172:32::15 "
add_ok "IPv6-only node4: ADD succeeds" 4 1
check "IPv6-only result: one address fd00:20:244:4::N/64 with gateway fd00:20:244:4::1, IPv6 routes only" \
	jq -e '(.ips | length == 1) and (.ips[0].address | test("^fd00:20:244:4::[0-9a-f]+/64$")) and
		.ips[0].gateway == "fd00:20:244:4::1" and .ips[0].interface == 2 and
		.routes == [{"dst":"::/0","gw":"fd00:20:244:4::1"},{"dst":"fd00:20:244::/48","gw":"fd00:20:244:4::1"}]' \
	"$RST_TMP/add-4-1.json"
P4=$IP6
add_ok "IPv6-only node5: ADD succeeds" 5 1
P5=$IP6
check "IPv6-only pod on node4 has no IPv4 address" \
	bash -c "! ip -n $(ns n4p1) -4 addr show dev eth0 | grep -q inet"
check "ping6 IPv6-only pod node4 -> node5 ($P5)" ping_from 4 1 "$P5"
check "ping6 IPv6-only pod node5 -> node4 ($P4)" ping_from 5 1 "$P4"
check "IPv6-only node4: CHECK passes" cni 4 CHECK pod-4-1 eth0 "/run/netns/$(ns n4p1)" "$(prev 4)"
check "IPv6-only node4: roostctl pods shows $P4" \
	bash -c "'$ROOSTCTL' -s $RST_TMP/n4/roostd.sock pods | grep -qE '^$P4 +pod-4-1 '"
"$ROOSTCTL" -s "$RST_TMP/n4/roostd.sock" status >"$RST_TMP/status4.txt" 2>&1
check "IPv6-only node4: roostctl status: exit 0, its IPv6 address, pods6 with pool6, no IPv4 pods line" \
	bash -c "'$ROOSTCTL' -s $RST_TMP/n4/roostd.sock status >/dev/null &&
		grep -q '^node      node4 (fd00:172:32::14), AS 64512\$' $RST_TMP/status4.txt &&
		grep -q '^pods6     fd00:20:244:4::/64 of cluster fd00:20:244::/48, gateway fd00:20:244:4::1; pool6 1 addresses used' $RST_TMP/status4.txt &&
		! grep -q '^pods      ' $RST_TMP/status4.txt"
check "IPv6-only node4: roostctl status lists node5's subnet as route6 (owner node5)" \
	grep -q '^route6    fd00:20:244:5::/64 via fd00:172:32::15, session node_node5, owner node5$' "$RST_TMP/status4.txt"
check "IPv6-only node4: roostctl audit clean (1 route checked)" \
	bash -c "'$ROOSTCTL' -s $RST_TMP/n4/roostd.sock -o json audit | jq -e '.drift == [] and .checked == 1'"
check "IPv6-only node4: DEL succeeds" cni 4 DEL pod-4-1 eth0 "/run/netns/$(ns n4p1)"
check "IPv6-only node4: DEL removed the record and the veth" wait_until 5 veths_and_records 4 0 "0 0"


# ---- a reload turns IPv6 on (and cannot turn it off) ------------------------------------
# node6 runs IPv4 only with a pod; its file gains node.pod_cidr6 and SIGHUP:
# the bridge gets the IPv6 gateway and pods added from then on get an IPv6
# address too. Taking pod_cidr6 away again is refused: pods hold its addresses.
n6_conf() {
	cat >"$RST_TMP/n6/roostd.conf" <<EOF
node = { name = "node6"; address = "172.31.0.16"; pod_cidr = "10.244.6.0/24";$1 };
cluster = { pod_cidr = "10.244.0.0/16";${2:-} };
bird = { binary = "$BIRD"; config = "$RST_TMP/n6/bird.conf"; socket = "$RST_TMP/n6/bird.ctl"; pidfile = "$RST_TMP/n6/bird.pid"; };
agent = { socket = "$RST_TMP/n6/roostd.sock"; state_dir = "$RST_TMP/n6/state"; log_level = "debug"; };
EOF
}
node_add 6
ip -n "$(ns n6)" addr add fd00:172:31::16/64 dev eth0 nodad
n6_conf ""
roostd_start 6
wait_until 10 roostd_ready 6
add_ok "IPv4-only node6: ADD succeeds" 6 1
check "IPv4-only node6: the pod has an IPv4 address and no IPv6 one" \
	test "$IP4" != none -a "$IP6" = none
n6_conf ' address6 = "fd00:172:31::16"; pod_cidr6 = "fd00:10:244:6::/64";' ' pod_cidr6 = "fd00:10:244::/48";'
kill_ours HUP "$(roostd_pid 6)"
check "reload to dual-stack: roostd opens the IPv6 pool" \
	wait_until 10 log_has 6 "reload: IPv6 pool fd00:10:244:6::/64 opened"
check "reload to dual-stack: the bridge has the IPv6 gateway fd00:10:244:6::1/64" \
	bash -c "ip -n $(ns n6) -6 addr show dev cni0 | grep -q 'inet6 fd00:10:244:6::1/64'"
add_ok "after the reload: ADD succeeds" 6 2
check "after the reload: the new pod has both addresses ($IP4, $IP6)" \
	bash -c "[[ '$IP4' == 10.244.6.* && '$IP6' == fd00:10:244:6::* ]]"
check "after the reload: the new pod pings its IPv6 gateway" ping_from 6 2 fd00:10:244:6::1
n6_conf ""
kill_ours HUP "$(roostd_pid 6)"
check "a reload that drops node.pod_cidr6 is refused, naming the key" \
	wait_until 10 log_has 6 "reload: node.pod_cidr6 changed in .*not reloading"
add_ok "after the refused reload: ADD still gives both families" 6 3
check "after the refused reload: the pod has an IPv6 address ($IP6)" \
	bash -c "[[ '$IP6' == fd00:10:244:6::* ]]"

rst_finish
