#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# etcd-dual.sh - the etcd datastore with IPv6, in flannel's format
# ("EnableIPv6", "IPv6Network"; a lease key "10.244.1.0-24&fd00:10:244:1::-64",
# "PublicIPv6"). Two dual-stack roost nodes and a flannel host-gw node whose
# lease has an IPv6 subnet (flannel cannot run here: its lease is written
# with etcdctl and its routes are added by hand from the roost leases, as
# flannel host-gw would): every kernel routes the others' IPv4 and IPv6
# subnets via their addresses (IPv6: global ones), pods ping6 across and
# to the flannel node, subnet.env has flannel's IPv6 lines. Bad IPv6 leases
# (outside IPv6Network, wrong length, PublicIPv6 link-local or this node's,
# an IPv6 subnet leased twice) are skipped with a log line naming the key.
# A node whose own lease predates IPv6 keeps its IPv4 subnet in a new key
# with both, and its old key goes.
# Two IPv6-only nodes ("EnableIPv4": false, keys "0.0.0.0-0&...") lease
# IPv6 subnets only and their pods ping6 across. A roostd restarted while
# etcd is down comes back with its IPv6 subnet and peers from its cache.
. "$(dirname "$0")/lib.sh"
trap topo_cleanup EXIT

ROOSTCTL=${ROOSTCTL:-$top_builddir/agent/roostctl}
PFX=/coreos.com/network
PFX6=/v6only/network
EP='"http://172.31.0.5:2379"'

# dsconf K PREFIX [address line]: nK with a datastore, IPv6 on
# (node.address6); dual-stack by default.
dsconf() {
	local k=$1 d="$RST_TMP/n$1" a4
	a4=${3-"address = \"172.31.0.1$k\";"}
	cat >"$d/roostd.conf" <<EOF
node = { name = "node$k"; $a4 address6 = "fd00:172:31::1$k"; };
datastore = { type = "etcd"; endpoints = ( $EP ); prefix = "$2"; subnet_env = "$d/subnet.env"; };
bird = { binary = "$BIRD"; config = "$d/bird.conf"; socket = "$d/bird.ctl"; pidfile = "$d/bird.pid"; };
agent = { socket = "$d/roostd.sock"; state_dir = "$d/state"; log_level = "debug"; };
EOF
}
status_json() {
	"$ROOSTCTL" -s "$RST_TMP/n$1/roostd.sock" -o json status >"$RST_TMP/status-$1.json" 2>/dev/null &&
		[ -s "$RST_TMP/status-$1.json" ]
}
subnet6() { status_json "$1" && jq -r '.datastore.subnet6' "$RST_TMP/status-$1.json"; }
subnet4() { status_json "$1" && jq -r '.datastore.subnet' "$RST_TMP/status-$1.json"; }
# ds_ready K: nK answers roostctl status with its IPv6 subnet.
ds_ready() { status_json "$1" && jq -e '.datastore.subnet6 != null' "$RST_TMP/status-$1.json" >/dev/null; }
# node_up K: nK on the fabric with its global IPv6 address, roostd started.
node_up() {
	node_add "$1"
	ip -n "$(ns "n$1")" addr add "fd00:172:31::1$1/64" dev eth0 nodad
}
pod_ip6() { jq -r '[.ips[] | select(.address | test(":"))][0].address' "$RST_TMP/cni.out" | cut -d/ -f1; }
ping6_from() { ip netns exec "$(ns "n$1p$2")" ping -6 -c 1 -W 2 "$3" >/dev/null 2>&1; }
# lease PREFIX KEY PUBLICIP PUBLICIPV6: a flannel host-gw lease (no etcd lease).
lease() {
	etcd1_ctl put "$1/subnets/$2" \
		"{\"PublicIP\":\"$3\",\"PublicIPv6\":\"$4\",\"BackendType\":\"host-gw\",\"BackendData\":null,\"BackendV6Data\":null}" >/dev/null
}

fabric_up
etcd1_up
check "etcd answers" etcd1_ctl endpoint status
etcd1_ctl put "$PFX/config" \
	'{"Network":"10.244.0.0/16","EnableIPv6":true,"IPv6Network":"fd00:10:244::/48","Backend":{"Type":"host-gw"}}' >/dev/null

# ---- the flannel host-gw node: 172.31.0.40, fd00:172:31::40; its "cni0" a dummy
aux_add fl 172.31.0.40
FL=$(ns fl)
ip -n "$FL" addr add fd00:172:31::40/64 dev eth0 nodad
ip -n "$FL" link add cni0 type bridge
ip -n "$FL" addr add 10.244.200.1/24 dev cni0
ip -n "$FL" addr add fd00:10:244:c8::1/64 dev cni0 nodad
ip -n "$FL" link set cni0 up
lease "$PFX" "10.244.200.0-24&fd00:10:244:c8::-64" 172.31.0.40 fd00:172:31::40
# flannel_routes: what flannel host-gw does with every other lease: a route
# to each subnet via its PublicIP, and (EnableIPv6) to each IPv6 subnet via
# its PublicIPv6; keys parsed as flannel parses them.
flannel_routes() {
	local key val re='^([0-9.]+)-([0-9]+)(&([0-9a-f:]+)-([0-9]+))?$' n=0
	while read -r key && read -r val; do
		key=${key#"$PFX/subnets/"}
		[[ $key =~ $re ]] || continue
		[ "$(jq -r .PublicIP <<<"$val")" = 172.31.0.40 ] && continue
		ip -n "$FL" route replace "${BASH_REMATCH[1]}/${BASH_REMATCH[2]}" via "$(jq -r .PublicIP <<<"$val")"
		[ -n "${BASH_REMATCH[4]}" ] &&
			ip -n "$FL" -6 route replace "${BASH_REMATCH[4]}/${BASH_REMATCH[5]}" via "$(jq -r .PublicIPv6 <<<"$val")"
		n=$((n + 1))
	done < <(etcd1_ctl get --prefix "$PFX/subnets/")
	[ "$n" -ge 2 ]
}

# ---- two dual-stack roost nodes -----------------------------------------------------------
for k in 1 2; do
	node_up "$k"
	dsconf "$k" "$PFX"
	check "node$k: --check-config accepts node.address6 with the etcd datastore" \
		"$ROOSTD" --check-config -c "$RST_TMP/n$k/roostd.conf"
	roostd_start "$k"
done
for k in 1 2; do wait_until 20 ds_ready "$k"; done
declare -A N4 N6
for k in 1 2; do
	N4[$k]=$(subnet4 "$k")
	N6[$k]=$(subnet6 "$k")
done
check "each node leased an IPv4 /24 and an IPv6 /64 of IPv6Network (${N4[1]} ${N6[1]}, ${N4[2]} ${N6[2]})" \
	bash -c "[[ '${N4[1]}' =~ ^10\\.244\\.[0-9]+\\.0/24$ && '${N4[2]}' =~ ^10\\.244\\.[0-9]+\\.0/24$ &&
		'${N6[1]}' =~ ^fd00:10:244:[0-9a-f]+::/64$ && '${N6[2]}' =~ ^fd00:10:244:[0-9a-f]+::/64$ &&
		'${N6[1]}' != '${N6[2]}' && '${N6[1]}' != fd00:10:244::/64 ]]"
key1="${N4[1]%/24}-24&${N6[1]%/64}-64"
check "node1's lease is flannel's dual-stack key $PFX/subnets/$key1, PublicIPv6 its address6" \
	bash -c "ip netns exec $(ns etcd1) env ETCDCTL_API=3 etcdctl --endpoints http://172.31.0.5:2379 \
		get --print-value-only '$PFX/subnets/$key1' |
		jq -e '.PublicIP == \"172.31.0.11\" and .PublicIPv6 == \"fd00:172:31::11\" and .BackendType == \"host-gw\"'"
routes_all() {
	kernel_route 1 "${N4[2]}" 172.31.0.12 && kernel_route6 1 "${N6[2]}" fd00:172:31::12 &&
		kernel_route 2 "${N4[1]}" 172.31.0.11 && kernel_route6 2 "${N6[1]}" fd00:172:31::11 &&
		kernel_route 1 10.244.200.0/24 172.31.0.40 && kernel_route6 1 fd00:10:244:c8::/64 fd00:172:31::40 &&
		kernel_route 2 10.244.200.0/24 172.31.0.40 && kernel_route6 2 fd00:10:244:c8::/64 fd00:172:31::40
}
check "each roost kernel routes the other's IPv4 and IPv6 subnets (via its global address) and the flannel node's" \
	wait_until 30 routes_all
check "node1's BIRD: the flannel node's IPv6 subnet is a static route (flannel_hostgw6)" \
	bash -c "grep -q 'protocol static flannel_hostgw6' $RST_TMP/n1/bird.conf &&
		grep -q 'route fd00:10:244:c8::/64 via fd00:172:31::40;' $RST_TMP/n1/bird.conf"
check "the flannel node routes to both roost nodes' subnets from their leases (flannel's parsing)" flannel_routes
check "the flannel node's kernel: ${N6[1]} via fd00:172:31::11, ${N6[2]} via fd00:172:31::12" \
	bash -c "ip -n $FL -6 route show ${N6[1]} | grep -q 'via fd00:172:31::11' &&
		ip -n $FL -6 route show ${N6[2]} | grep -q 'via fd00:172:31::12'"
gw6=${N6[1]%::/64}::1/64
gw4=${N4[1]%.0/24}.1/24
printf 'FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=%s\nFLANNEL_IPV6_NETWORK=fd00:10:244::/48\nFLANNEL_IPV6_SUBNET=%s\nFLANNEL_MTU=1500\nFLANNEL_IPMASQ=true\n' \
	"$gw4" "$gw6" >"$RST_TMP/subnet.env.want"
check "node1's subnet.env is flannel's with its IPv6 lines ($gw6)" diff "$RST_TMP/subnet.env.want" "$RST_TMP/n1/subnet.env"

pod_add 1 1
P1=$(pod_ip6)
pod_add 2 1
P2=$(pod_ip6)
check "pods got IPv6 addresses in their nodes' leased subnets ($P1, $P2)" \
	bash -c "[[ '$P1' == ${N6[1]%::/64}:* && '$P2' == ${N6[2]%::/64}:* ]]"
check "ping6 node1 pod -> node2 pod ($P2)" ping6_from 1 1 "$P2"
check "ping6 node2 pod -> node1 pod ($P1)" ping6_from 2 1 "$P1"
check "ping6 node1 pod -> the flannel node's cni0 (fd00:10:244:c8::1), and back by its hand-made route" \
	ping6_from 1 1 fd00:10:244:c8::1
check "ping node2 pod -> the flannel node's cni0 over IPv4 still (10.244.200.1)" pod_ping 2 1 10.244.200.1

# ---- bad IPv6 leases ------------------------------------------------------------------------
declare -A BAD=(
	["10.244.210.0-24&fd01:1:2:3::-64"]="172.31.0.50 fd00:172:31::50|its IPv6 subnet is outside the network's IPv6Network"
	["10.244.211.0-24&fd00:10:244:d3::-80"]="172.31.0.51 fd00:172:31::51|its IPv6 subnet is not of the network's IPv6SubnetLen"
	["10.244.212.0-24&fd00:10:244:d4::-64"]="172.31.0.52 fe80::52|its PublicIPv6 is not a global unicast address"
	["10.244.213.0-24&fd00:10:244:d5::-64"]="172.31.0.53 fd00:172:31::11|its PublicIPv6 is this node's address"
	["10.244.214.0-24&fd00:10:244:c8::-64"]="172.31.0.54 fd00:172:31::54|its IPv6 subnet is another lease's"
)
for key in "${!BAD[@]}"; do
	read -r a a6 <<<"${BAD[$key]%%|*}"
	lease "$PFX" "$key" "$a" "$a6"
done
for key in "${!BAD[@]}"; do
	check "node1 skips lease $key: ${BAD[$key]#*|}" \
		wait_until 15 grep -qF "datastore: lease $PFX/subnets/$key skipped: ${BAD[$key]#*|}" "$RST_TMP/n1/roostd.log"
done
check "no bad lease's subnet reaches a kernel or node1's BIRD config" \
	bash -c "! ip -n $(ns n1) route show proto bird | grep -q '10\\.244\\.21[0-4]\\.' &&
		! ip -n $(ns n2) route show proto bird | grep -q '10\\.244\\.21[0-4]\\.' &&
		! ip -n $(ns n1) -6 route show proto bird | grep -Eq 'fd01:|fd00:10:244:d[3-5]::' &&
		! grep -Eq 'fd01:1:2:3::|fd00:10:244:d[3-5]::|fe80::52' $RST_TMP/n1/bird.conf"
check "the good routes stay" routes_all
check "both roostd still run" bash -c "kill -0 $(roostd_pid 1) && kill -0 $(roostd_pid 2)"

# ---- a node whose own lease predates IPv6 (an IPv4-only key) ----------------------------------
lid=$(etcd1_ctl lease grant 3600 | awk '{print $2}')
etcd1_ctl put --lease="$lid" "$PFX/subnets/10.244.77.0-24" \
	'{"PublicIP":"172.31.0.13","PublicIPv6":null,"BackendType":"host-gw","BackendData":{"roost":{"name":"node3"}}}' >/dev/null
node_up 3
dsconf 3 "$PFX"
roostd_start 3
wait_until 20 ds_ready 3
N4[3]=$(subnet4 3)
N6[3]=$(subnet6 3)
check "node3 with IPv6 now keeps its old lease's IPv4 subnet (${N4[3]}) and gets an IPv6 one (${N6[3]})" \
	bash -c "[[ '${N4[3]}' == 10.244.77.0/24 && '${N6[3]}' =~ ^fd00:10:244:[0-9a-f]+::/64$ ]]"
check "its IPv4-only key is replaced by one with both subnets (deleted, logged)" \
	bash -c "[ \"\$(ip netns exec $(ns etcd1) env ETCDCTL_API=3 etcdctl --endpoints http://172.31.0.5:2379 \
		get --prefix --keys-only $PFX/subnets/10.244.77.0-24 | grep .)\" = '$PFX/subnets/10.244.77.0-24&${N6[3]%/64}-64' ] &&
		grep -q 'replaces this node.s $PFX/subnets/10.244.77.0-24 ' $RST_TMP/n3/roostd.log"
routes3() { kernel_route6 1 "${N6[3]}" fd00:172:31::13 && kernel_route6 3 "${N6[2]}" fd00:172:31::12; }
check "node1 routes node3's IPv6 subnet, node3 node2's" wait_until 30 routes3

# ---- IPv6-only: EnableIPv4 false ------------------------------------------------------------
etcd1_ctl put "$PFX6/config" \
	'{"EnableIPv4":false,"EnableIPv6":true,"IPv6Network":"fd00:20:244::/48","IPv6SubnetLen":64,"Backend":{"Type":"host-gw"}}' >/dev/null
for k in 4 5; do
	node_up "$k"
	dsconf "$k" "$PFX6" ""
	roostd_start "$k"
done
for k in 4 5; do wait_until 20 ds_ready "$k"; done
N6[4]=$(subnet6 4)
N6[5]=$(subnet6 5)
check "IPv6-only nodes leased fd00:20:244::/48 subnets (${N6[4]}, ${N6[5]}) and no IPv4 one" \
	bash -c "[[ '${N6[4]}' =~ ^fd00:20:244:[0-9a-f]+::/64$ && '${N6[5]}' =~ ^fd00:20:244:[0-9a-f]+::/64$ ]] &&
		jq -e '.datastore.subnet == null' $RST_TMP/status-5.json"
check "their keys are flannel's IPv6-only ones (0.0.0.0-0&...), PublicIP 0.0.0.0" \
	bash -c "ip netns exec $(ns etcd1) env ETCDCTL_API=3 etcdctl --endpoints http://172.31.0.5:2379 \
		get --print-value-only '$PFX6/subnets/0.0.0.0-0&${N6[4]%/64}-64' |
		jq -e '.PublicIP == \"0.0.0.0\" and .PublicIPv6 == \"fd00:172:31::14\"'"
routes_v6only() { kernel_route6 4 "${N6[5]}" fd00:172:31::15 && kernel_route6 5 "${N6[4]}" fd00:172:31::14; }
check "node4 and node5 route each other's IPv6 subnet via the global address" wait_until 30 routes_v6only
printf 'FLANNEL_IPV6_NETWORK=fd00:20:244::/48\nFLANNEL_IPV6_SUBNET=%s\nFLANNEL_MTU=1500\nFLANNEL_IPMASQ=true\n' \
	"${N6[4]%::/64}::1/64" >"$RST_TMP/subnet.env.want6"
check "node4's subnet.env has the IPv6 lines only" diff "$RST_TMP/subnet.env.want6" "$RST_TMP/n4/subnet.env"
pod_add 4 1
P4=$(pod_ip6)
pod_add 5 1
P5=$(pod_ip6)
check "ping6 node4 pod ($P4) -> node5 pod ($P5)" ping6_from 4 1 "$P5"
check "the dual-stack nodes do not see the other prefix's leases" \
	bash -c "! ip -n $(ns n1) -6 route show proto bird | grep -q 'fd00:20:244:'"

# ---- restart with etcd down: the cache keeps IPv6 ---------------------------------------------
check "node1's cache keeps its IPv6 subnet and node2's IPv6 lease" \
	jq -e --arg s "${N6[1]}" '.subnet6 == $s and .address6 == "fd00:172:31::11" and
		(.peers | map(select(.address6 == "fd00:172:31::12")) | length == 1)' "$RST_TMP/n1/state/datastore.json"
etcd1_stop
kill -TERM "$(roostd_pid 1)"
wait "$(roostd_pid 1)" 2>/dev/null
rm -f "$RST_TMP/n1/bird.conf"
roostd_start 1
check "node1 restarted with etcd down: from its last known state" \
	wait_until 20 grep -q "starting from the last known state" "$RST_TMP/n1/roostd.log"
same_subnet6() { [ "$(subnet6 1)" = "${N6[1]}" ]; }
check "node1's status: the same IPv6 subnet" wait_until 10 same_subnet6
check "node1's new BIRD config has node2's IPv6 subnet and the flannel node's IPv6 route" \
	wait_until 10 bash -c "grep -q 'fd00:172:31::12' $RST_TMP/n1/bird.conf &&
		grep -q 'route fd00:10:244:c8::/64 via fd00:172:31::40;' $RST_TMP/n1/bird.conf"
check "ping6 node1 pod -> node2 pod still" ping6_from 1 1 "$P2"
rst_finish
