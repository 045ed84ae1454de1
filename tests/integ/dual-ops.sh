#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# dual-ops.sh - the operator's view of dual-stack nodes: roostctl status shows
# both families (subnets, gateways, pools, table ip and ip6 roost, the IPv6
# subnets learned with their next hop, session and owner); roostctl audit is
# clean on a dual-stack node and reports an IPv6 route missing from the kernel
# and an extra one; the metrics give each family's pool, pod subnet and kernel
# routes as they are; an IPv6 entry of egress.no_masquerade keeps the pods'
# source address towards it (the masquerade counter does not move, while it
# does for another host); an IPv6 address released by DEL is handed out again
# only once its veth is gone (a /124 pool, filled up; CNI STATUS says it is
# full).
. "$(dirname "$0")/lib.sh"

ROOSTCTL=${ROOSTCTL:-$top_builddir/agent/roostctl}
PLEN6=124
POOL6=14 # a /124 minus the Subnet-Router anycast address and the gateway

# ops_conf K: nK's roostd.conf, dual-stack with /124 IPv6 node subnets, in a
# mesh of nodes 1 and 2; IPv6 host fd00:172:31::99 sees pod addresses.
ops_conf() {
	local k=$1 j=$((3 - $1)) d="$RST_TMP/n$1"
	cat >"$d/roostd.conf" <<EOF
node = { name = "node$k"; address = "172.31.0.1$k"; pod_cidr = "10.244.$k.0/24";
         address6 = "fd00:172:31::1$k"; pod_cidr6 = "fd00:10:244:$k::/$PLEN6"; };
cluster = { pod_cidr = "10.244.0.0/16"; pod_cidr6 = "fd00:10:244::/48"; node_prefix_len6 = $PLEN6; };
bgp = { mesh = ( { name = "node$j"; address = "172.31.0.1$j"; pod_cidr = "10.244.$j.0/24";
                   address6 = "fd00:172:31::1$j"; pod_cidr6 = "fd00:10:244:$j::/$PLEN6"; } ); };
egress = { no_masquerade = ( "192.0.2.0/24", "fd00:172:31::99/128" ); };
bird = { binary = "$BIRD"; config = "$d/bird.conf"; socket = "$d/bird.ctl"; pidfile = "$d/bird.pid"; };
agent = { socket = "$d/roostd.sock"; state_dir = "$d/state"; log_level = "debug"; };
EOF
}

ctl() { ip netns exec "$(ns n1)" "$ROOSTCTL" -s "$RST_TMP/n1/roostd.sock" "$@"; }
records6() {
	find "$RST_TMP/n$1/state/roost6" -maxdepth 1 -type f -name 'fd00:*' ! -name '*.bad' | wc -l
}
ping_from() { ip netns exec "$(ns "n$1p$2")" ping -c 1 -W 2 "$3" >/dev/null 2>&1; }
# add K J: pod J on node K; its IPv6 address in $IP6.
add() {
	pod_ns_add "$1" "$2"
	cni "$1" ADD "pod-$1-$2" eth0 "/run/netns/$(ns "n$1p$2")" || return 1
	IP6=$(jq -r '[.ips[] | select(.address | test(":"))][0].address' "$RST_TMP/cni.out" | cut -d/ -f1)
}
scrape() {
	ip netns exec "$(ns n1)" curl -sf --max-time 5 http://127.0.0.1:9638/metrics >"$RST_TMP/metrics.txt"
}
metric() { awk -v k="$1" '$1 == k { print $2 }' "$RST_TMP/metrics.txt"; }
masq6() { # the ip6 table's masquerade counter on node1 (packets)
	ip netns exec "$(ns n1)" nft list chain ip6 roost postrouting |
		sed -n 's/.*counter packets \([0-9]*\) .*/\1/p'
}

fabric_up
for k in 1 2; do
	node_add "$k"
	ip -n "$(ns "n$k")" addr add "fd00:172:31::1$k/64" dev eth0 nodad
	ops_conf "$k"
	roostd_start "$k"
done
for k in 1 2; do
	wait_until 10 test -S "$RST_TMP/n$k/roostd.sock"
done
wait_until 30 kernel_route 1 10.244.2.0/24 172.31.0.12
wait_until 30 kernel_route6 1 "fd00:10:244:2::/$PLEN6" fd00:172:31::12
wait_until 30 kernel_route6 2 "fd00:10:244:1::/$PLEN6" fd00:172:31::11

# ---- roostctl status: both families -------------------------------------------------
if add 1 1; then ok "node1: ADD of a dual-stack pod"; else not_ok "node1: ADD of a dual-stack pod" "$(cat "$RST_TMP/cni.out")"; fi
P1=${IP6:-none}
ctl status >"$RST_TMP/status.txt" 2>&1
check "roostctl status: exit 0 on a healthy dual-stack node" ctl status
check "roostctl status: node line names both addresses" \
	grep -q '^node      node1 (172.31.0.11, fd00:172:31::11), AS 64512$' "$RST_TMP/status.txt"
check "roostctl status: IPv4 pods line as before (pool 1 of 253)" \
	grep -q '^pods      10.244.1.0/24 of cluster 10.244.0.0/16; pool 1 of 253 addresses used$' "$RST_TMP/status.txt"
check "roostctl status: pods6 line with subnet, cluster, gateway and pool6 (1 used, 0 held)" \
	grep -q "^pods6     fd00:10:244:1::/$PLEN6 of cluster fd00:10:244::/48, gateway fd00:10:244:1::1; pool6 1 addresses used (0 held" \
	"$RST_TMP/status.txt"
check "roostctl status: table ip6 roost present with 1 no_masquerade network" \
	grep -q '^egress6   masquerade on (table ip6 roost present, [0-9]* connection(s) masqueraded, 1 no_masquerade network(s))$' \
	"$RST_TMP/status.txt"
check "roostctl status: route6 node2's subnet via its global address, session node_node2, owner node2" \
	grep -q "^route6    fd00:10:244:2::/$PLEN6 via fd00:172:31::12, session node_node2, owner node2$" \
	"$RST_TMP/status.txt"
check "roostctl -o json status: node.pod_cidr6, gateway6, pool6.size $POOL6, egress6.ok, routes6" \
	bash -c "ip netns exec $(ns n1) '$ROOSTCTL' -s $RST_TMP/n1/roostd.sock -o json status | jq -e '
		.node.pod_cidr6 == \"fd00:10:244:1::/$PLEN6\" and .node.gateway6 == \"fd00:10:244:1::1\" and
		.node.address6 == \"fd00:172:31::11\" and .pool6 == {size: $POOL6, used: 1, held: 0} and
		.egress6.ok and .egress.ok and
		.routes6 == [{prefix: \"fd00:10:244:2::/$PLEN6\", via: \"fd00:172:31::12\", session: \"node_node2\", owner: \"node2\"}] and
		(.sessions[0] | .imported == 1 and .exported == 1 and .imported6 == 1 and .exported6 == 1 and .filtered6 == 0)'"
check "roostctl status: the session table has the ipv6 channel's columns (1 imported, 1 exported, 0 filtered)" \
	grep -Eq '^node_node2 .* Established .* +1 +1 +0 +1 +1 +0$' "$RST_TMP/status.txt"

# ---- roostctl audit: both families ---------------------------------------------------
check "roostctl audit on the dual-stack node: exit 0" ctl audit
check "roostctl -o json audit: no drift, 2 routes checked (one per family)" \
	bash -c "ip netns exec $(ns n1) '$ROOSTCTL' -s $RST_TMP/n1/roostd.sock -o json audit | jq -e '.drift == [] and .checked == 2'"
ip -n "$(ns n1)" -6 route del "fd00:10:244:2::/$PLEN6" proto bird
ip -n "$(ns n1)" -6 route add fd00:10:244:9::/$PLEN6 via fd00:172:31::12 dev eth0 proto bird metric 33
ctl -o json audit >"$RST_TMP/audit.json"
rc=$?
check "audit with node2's IPv6 route deleted and an extra IPv6 proto bird route: exit 1" test "$rc" = 1
check "... reports fd00:10:244:2::/$PLEN6 missing (BIRD via fd00:172:31::12) and fd00:10:244:9::/$PLEN6 extra" \
	jq -e "(.drift | map(select(.kind == \"missing\" and .prefix == \"fd00:10:244:2::/$PLEN6\" and
			.bird_via == \"fd00:172:31::12\")) | length == 1) and
		(.drift | map(select(.kind == \"extra\" and .prefix == \"fd00:10:244:9::/$PLEN6\" and
			.kernel_via == \"fd00:172:31::12\")) | length == 1) and (.drift | length == 2)" "$RST_TMP/audit.json"
ctl audit >"$RST_TMP/audit.txt"
check "... and the table lists both" \
	bash -c "grep -q '^missing  *fd00:10:244:2::/$PLEN6 ' $RST_TMP/audit.txt && grep -q '^extra  *fd00:10:244:9::/$PLEN6 ' $RST_TMP/audit.txt"
ip -n "$(ns n1)" -6 route del fd00:10:244:9::/$PLEN6 proto bird
ip -n "$(ns n1)" -6 route replace "fd00:10:244:2::/$PLEN6" via fd00:172:31::12 dev eth0 proto bird metric 33
check "audit clean again once repaired" wait_until 10 ctl audit

# ---- metrics per family ------------------------------------------------------------
check "metrics: GET /metrics answers" scrape
kr6=$(ip -n "$(ns n1)" -6 route show proto bird | wc -l)
kr4=$(ip -n "$(ns n1)" -4 route show proto bird | wc -l)
check "metrics: roost_ip_pool_size{family=\"ipv6\"} $POOL6, used 1 = the records ($(records6 1)), held 0" \
	bash -c "[ '$(metric 'roost_ip_pool_size{family="ipv6"}')' = $POOL6 ] &&
		[ '$(metric 'roost_ip_pool_used{family="ipv6"}')' = $(records6 1) ] &&
		[ '$(metric 'roost_ip_pool_held{family="ipv6"}')' = 0 ]"
check "metrics: roost_ip_pool_size{family=\"ipv4\"} 253, used 1 (and roost_pool_size, roost_pool_used as before)" \
	bash -c "[ '$(metric 'roost_ip_pool_size{family="ipv4"}')' = 253 ] &&
		[ '$(metric 'roost_ip_pool_used{family="ipv4"}')' = 1 ] &&
		[ '$(metric roost_pool_size)' = 253 ] && [ '$(metric roost_pool_used)' = 1 ]"
check "metrics: roost_kernel_routes per family = the kernel's proto bird routes ($kr4 IPv4, $kr6 IPv6)" \
	bash -c "[ '$(metric 'roost_kernel_routes{family="ipv6"}')' = $kr6 ] && [ $kr6 = 1 ] &&
		[ '$(metric 'roost_kernel_routes{family="ipv4"}')' = $kr4 ] && [ $kr4 = 1 ]"
check "metrics: roost_bgp_channel_routes for node_node2: 1 imported per family" \
	bash -c "[ '$(metric 'roost_bgp_channel_routes{name="node_node2",family="ipv6",direction="imported"}')' = 1 ] &&
		[ '$(metric 'roost_bgp_channel_routes{name="node_node2",family="ipv4",direction="imported"}')' = 1 ]"
check "metrics: roost_pod_subnet for both families" \
	bash -c "[ '$(metric "roost_pod_subnet{family=\"ipv6\",subnet=\"fd00:10:244:1::/$PLEN6\"}")' = 1 ] &&
		[ '$(metric 'roost_pod_subnet{family="ipv4",subnet="10.244.1.0/24"}')' = 1 ]"

# ---- egress: an IPv6 no_masquerade entry --------------------------------------------
# fd00:172:31::99 routes the pod subnets back to node1 and sees pod
# addresses; fd00:172:31::98 has no such route and sees node1's address.
aux_add in6 172.31.0.99
ip -n "$(ns in6)" addr add fd00:172:31::99/64 dev eth0 nodad
ip -n "$(ns in6)" -6 route add fd00:10:244::/48 via fd00:172:31::11
aux_add out6 172.31.0.98
ip -n "$(ns out6)" addr add fd00:172:31::98/64 dev eth0 nodad
check "node1: table ip6 roost has fd00:172:31::99 in its no_masquerade set" \
	bash -c "ip netns exec $(ns n1) nft list set ip6 roost no_masquerade | grep -q 'fd00:172:31::99'"
# Each host counts what arrives from the pod's own address.
for h in in6 out6; do
	echo "table ip6 seen { chain input { type filter hook input priority 0; ip6 saddr $P1 counter; }; }" |
		ip netns exec "$(ns $h)" nft -f -
done
seen() { ip netns exec "$(ns "$1")" nft list chain ip6 seen input | sed -n 's/.*counter packets \([0-9]*\) .*/\1/p'; }
before=$(masq6)
check "ping6 node1 pod -> fd00:172:31::99 (no_masquerade): answered" ping_from 1 1 fd00:172:31::99
check "... fd00:172:31::99 saw the pod's own address ($P1), the masquerade counter stayed at $before" \
	bash -c "[ '$(seen in6)' -ge 1 ] && [ '$(masq6)' = '$before' ]"
check "ping6 node1 pod -> fd00:172:31::98 (not listed): answered, masqueraded" ping_from 1 1 fd00:172:31::98
check "... fd00:172:31::98 never saw the pod's address, the masquerade counter moved" \
	bash -c "[ '$(seen out6)' = 0 ] && [ '$(masq6)' -gt '$before' ]"

# ---- DEL: the IPv6 address stays held until the veth is gone ----------------------------
for j in $(seq 2 $POOL6); do
	add 1 "$j" || break
done
check "node1: the /$PLEN6 IPv6 pool is full ($POOL6 records)" test "$(records6 1)" = "$POOL6"
pod_ns_add 1 99
cni 1 ADD pod-1-99 eth0 "/run/netns/$(ns n1p99)"
check "node1: one more ADD on the full pool: error naming the IPv6 subnet, nothing reserved ($(records6 1) IPv6, $(pool_used 1) IPv4 records)" \
	bash -c "jq -e '.msg | test(\"no free address in fd00:10:244:1::/$PLEN6\")' $RST_TMP/cni.out >/dev/null &&
		[ $(records6 1) = $POOL6 ] && [ $(pool_used 1) = $POOL6 ]"
cni 1 STATUS "" "" "" "$(netconf 1 1.1.0)"
check "node1: CNI STATUS on the full IPv6 pool: code 50 naming it" \
	jq -e ".code == 50 and (.msg | test(\"fd00:10:244:1::/$PLEN6 is exhausted\"))" "$RST_TMP/cni.out"
# pod-1-5's IPv6 address, from its record; DEL it and ADD pod-1-99 at once:
# the only free IPv6 address is the one whose veth is being deleted.
gone=$(basename "$(grep -lx pod-1-5 "$RST_TMP/n1/state/roost6"/fd00:* | head -1)")
if cni 1 DEL pod-1-5 eth0 "/run/netns/$(ns n1p5)" && cni 1 ADD pod-1-99 eth0 "/run/netns/$(ns n1p99)"; then
	ok "DEL of pod-1-5 ($gone) then ADD of pod-1-99, back to back: both succeed"
else
	not_ok "DEL of pod-1-5 ($gone) then ADD of pod-1-99, back to back: both succeed" "$(cat "$RST_TMP/cni.out")"
fi
check "... pod-1-99 got $gone" \
	jq -e --arg a "$gone/$PLEN6" '[.ips[].address] | index($a) != null' "$RST_TMP/cni.out"
freed=$(grep -n "host veth '.*' of container=pod-1-5 ifname=eth0 deleted; free again: .* $gone\$" "$RST_TMP/n1/roostd.log" | cut -d: -f1 | head -1)
added=$(grep -n "pod: added container=pod-1-99 .*,$gone/$PLEN6 " "$RST_TMP/n1/roostd.log" | cut -d: -f1 | head -1)
check "... $gone was held until pod-1-5's veth was gone: freed (log line ${freed:-none}) before handed out (line ${added:-none})" \
	test -n "$freed" -a -n "$added" -a "${freed:-0}" -lt "${added:-0}"
measure "DEL then ADD on a full IPv6 pool: $(grep -c 'ADD of container=pod-1-99 waits for a teardown' "$RST_TMP/n1/roostd.log") ADD(s) waited for the teardown"
check "ping6 pod-1-99 -> node2's gateway" ping_from 1 99 fd00:10:244:2::1
dels=0
for j in $(seq 1 $POOL6) 99; do
	[ "$j" = 5 ] || cni 1 DEL "pod-1-$j" eth0 "/run/netns/$(ns "n1p$j")" || dels=$((dels + 1))
done
check "node1: DEL of every pod: no failure" test "$dels" = 0
check "... records and veths gone" wait_until 10 bash -c "[ \$(find $RST_TMP/n1/state/roost6 -maxdepth 1 -name 'fd00:*' | wc -l) = 0 ] &&
		[ \$(ip -n $(ns n1) -o link show | grep -c ': veth') = 0 ]"
check "... roostctl -o json status: pool6 used 0, held 0" \
	wait_until 10 bash -c "ip netns exec $(ns n1) '$ROOSTCTL' -s $RST_TMP/n1/roostd.sock -o json status | jq -e '.pool6.used == 0 and .pool6.held == 0'"

rst_finish
