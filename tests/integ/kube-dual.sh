#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# kube-dual.sh - IPv6 with the Kubernetes datastore, against the API server
# stand-in (Node objects made with kubectl): a dual-stack cluster
# (cluster.pod_cidr and cluster.pod_cidr6 in the file; Nodes with one
# podCIDR of each family in spec.podCIDRs and an InternalIP of each family):
# every kernel routes the other nodes' IPv4 and IPv6 podCIDRs via their
# InternalIPs, pods ping and ping6 across, subnet.env has the IPv6 lines; a
# Node's IPv6 podCIDR outside cluster.pod_cidr6 is skipped with a log line
# naming it. Then an IPv6-only cluster (cluster.pod_cidr6 alone; Nodes
# whose podCIDR and podCIDRs are IPv6, InternalIP IPv6 only): its nodes
# route each other's IPv6 podCIDRs and their pods ping6 across. A roostd
# restarted while the API server is away keeps IPv6 from its cache.
. "$(dirname "$0")/lib.sh"
trap topo_cleanup EXIT

fabric_up
kube_up
K=$RST_TMP/k8s

# knode NAME "ADDRESSES" "PODCIDRS": a Node as the kubelet and the node IPAM
# controller leave it (podCIDR is the first of PODCIDRS), made with kubectl.
knode() {
	local name=$1 a c addrs="" cidrs=""
	for a in $2; do addrs="$addrs${addrs:+,}{\"type\":\"InternalIP\",\"address\":\"$a\"}"; done
	for c in $3; do cidrs="$cidrs${cidrs:+,}\"$c\""; done
	cat >"$K/$name.json" <<EOF
{"apiVersion":"v1","kind":"Node","metadata":{"name":"$name"},
 "spec":{"podCIDR":"${3%% *}","podCIDRs":[$cidrs]},
 "status":{"addresses":[$addrs,{"type":"Hostname","address":"$name"}]}}
EOF
	kube_ctl apply --validate=false -f "$K/$name.json" >/dev/null
}
# kconf K CLUSTER: nK's roostd.conf, the cluster-wide part only.
kconf() {
	local d="$RST_TMP/n$1"
	cat >"$d/roostd.conf" <<EOF
cluster = { $2 };
datastore = { type = "kubernetes"; kubeconfig = "$KUBECONFIG_FILE"; subnet_env = "$d/subnet.env"; };
bird = { binary = "$BIRD"; config = "$d/bird.conf"; socket = "$d/bird.ctl"; pidfile = "$d/bird.pid"; };
agent = { socket = "$d/roostd.sock"; state_dir = "$d/state"; log_level = "debug"; };
EOF
}
kroostd() { # kroostd K: roostd on node K for Node nodeK, as a DaemonSet runs it
	local d="$RST_TMP/n$1"
	ip netns exec "$(ns "n$1")" env NODE_NAME="node$1" "$ROOSTD" -c "$d/roostd.conf" >>"$d/roostd.log" 2>&1 &
	echo $! >"$d/roostd.pid"
	RST_PIDS+=($!)
}
pod_ip6() { jq -r '[.ips[] | select(.address | test(":"))][0].address' "$RST_TMP/cni.out" | cut -d/ -f1; }
ping6_from() { ip netns exec "$(ns "n$1p$2")" ping -6 -c 1 -W 2 "$3" >/dev/null 2>&1; }

# ---- a dual-stack cluster: nodes 1-3 ------------------------------------------------------
DUAL='pod_cidr = "10.244.0.0/16"; pod_cidr6 = "fd00:10:244::/48";'
for k in 1 2 3; do
	node_add "$k"
	ip -n "$(ns "n$k")" addr add "fd00:172:31::1$k/64" dev eth0 nodad
	check "kubectl: Node node$k with podCIDRs 10.244.$k.0/24 and fd00:10:244:$k::/64" \
		knode "node$k" "172.31.0.1$k fd00:172:31::1$k" "10.244.$k.0/24 fd00:10:244:$k::/64"
	kconf "$k" "$DUAL"
done
check "--check-config accepts cluster.pod_cidr6 with the Kubernetes datastore" \
	env NODE_NAME=node1 "$ROOSTD" --check-config -c "$RST_TMP/n1/roostd.conf"
for k in 1 2 3; do kroostd "$k"; done
dual_routes() {
	local k j
	for k in 1 2 3; do
		for j in 1 2 3; do
			[ "$j" = "$k" ] && continue
			kernel_route "$k" "10.244.$j.0/24" "172.31.0.1$j" &&
				kernel_route6 "$k" "fd00:10:244:$j::/64" "fd00:172:31::1$j" || return 1
		done
	done
}
check "every kernel routes the other Nodes' IPv4 and IPv6 podCIDRs via their InternalIPs" \
	wait_until 40 dual_routes
check "node1 took both podCIDRs and both addresses from its Node" \
	bash -c "grep -q 'Node node1: podCIDR 10.244.1.0/24, address 172.31.0.11' $RST_TMP/n1/roostd.log &&
		grep -q 'Node node1: IPv6 podCIDR fd00:10:244:1::/64, address6 fd00:172:31::11' $RST_TMP/n1/roostd.log"
printf 'FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.2.1/24\nFLANNEL_IPV6_NETWORK=fd00:10:244::/48\nFLANNEL_IPV6_SUBNET=fd00:10:244:2::1/64\nFLANNEL_MTU=1500\nFLANNEL_IPMASQ=true\n' \
	>"$RST_TMP/subnet.env.want"
check "node2's subnet.env has flannel's IPv6 lines" diff "$RST_TMP/subnet.env.want" "$RST_TMP/n2/subnet.env"
pod_add 1 1
P1=$POD_IP P1_6=$(pod_ip6)
pod_add 3 1
P3=$POD_IP P3_6=$(pod_ip6)
check "pods have an address of each family ($P1 $P1_6, $P3 $P3_6)" \
	bash -c "[[ '$P1' == 10.244.1.* && '$P1_6' == fd00:10:244:1::* && '$P3_6' == fd00:10:244:3::* ]]"
check "ping node1 pod -> node3 pod ($P3)" pod_ping 1 1 "$P3"
check "ping6 node1 pod -> node3 pod ($P3_6)" ping6_from 1 1 "$P3_6"
check "ping6 node3 pod -> node1 pod ($P1_6)" ping6_from 3 1 "$P1_6"
# A Node whose IPv6 podCIDR is outside cluster.pod_cidr6: skipped, named.
knode node9 "172.31.0.19 fd00:172:31::19" "10.244.9.0/24 fd00:99:244:9::/64"
check "a Node with an IPv6 podCIDR outside cluster.pod_cidr6 is skipped with a log line naming it" \
	wait_until 15 grep -q "datastore: node node9 skipped: its IPv6 subnet is outside the network's IPv6Network" \
	"$RST_TMP/n1/roostd.log"
check "and reaches no kernel" bash -c "! ip -n $(ns n1) route show proto bird | grep -q 10.244.9.0 &&
	! ip -n $(ns n1) -6 route show proto bird | grep -q fd00:99:244"

# ---- an IPv6-only cluster: nodes 4-5 --------------------------------------------------------
for k in 4 5; do
	node_add "$k"
	ip -n "$(ns "n$k")" addr add "fd00:172:31::1$k/64" dev eth0 nodad
	check "kubectl: IPv6-only Node node$k (podCIDR fd00:20:244:$k::/64, InternalIP fd00:172:31::1$k)" \
		knode "node$k" "fd00:172:31::1$k" "fd00:20:244:$k::/64"
	kconf "$k" 'pod_cidr6 = "fd00:20:244::/48";'
	kroostd "$k"
done
v6_routes() {
	kernel_route6 4 fd00:20:244:5::/64 fd00:172:31::15 && kernel_route6 5 fd00:20:244:4::/64 fd00:172:31::14
}
check "the IPv6-only nodes route each other's IPv6 podCIDR via their InternalIPs" wait_until 40 v6_routes
check "node4's subnet.env has the IPv6 lines only" \
	bash -c "[ \"\$(cat $RST_TMP/n4/subnet.env)\" = \"\$(printf 'FLANNEL_IPV6_NETWORK=fd00:20:244::/48\nFLANNEL_IPV6_SUBNET=fd00:20:244:4::1/64\nFLANNEL_MTU=1500\nFLANNEL_IPMASQ=true')\" ]"
pod_add 4 1
P4=$POD_IP
pod_add 5 1
P5=$POD_IP
check "IPv6-only pods ($P4, $P5) ping6 across" ping6_from 4 1 "$P5"
check "the dual-stack nodes still route as before" dual_routes

# ---- the API server away: a restarted roostd keeps IPv6 from its cache ------------------------
check "node1's cache keeps its IPv6 podCIDR and address and node2's IPv6 podCIDR" \
	jq -e '.subnet6 == "fd00:10:244:1::/64" and .address6 == "fd00:172:31::11" and
		(.peers | map(select(.net6 == "fd00:10:244:2::" and .address6 == "fd00:172:31::12")) | length == 1)' \
	"$RST_TMP/n1/state/datastore.json"
kube_stop
kill -TERM "$(roostd_pid 1)"
wait "$(roostd_pid 1)" 2>/dev/null
rm -f "$RST_TMP/n1/bird.conf"
kroostd 1
check "node1 restarted with the API server away: from its last known state" \
	wait_until 30 grep -q "starting from the last known state" "$RST_TMP/n1/roostd.log"
check "its new BIRD config has node2's and node3's IPv6 podCIDRs" \
	wait_until 15 bash -c "grep -q 'fd00:10:244:2::/64' $RST_TMP/n1/bird.conf && grep -q 'fd00:10:244:3::/64' $RST_TMP/n1/bird.conf"
check "ping6 node1 pod -> node3 pod still" ping6_from 1 1 "$P3_6"
rst_finish
