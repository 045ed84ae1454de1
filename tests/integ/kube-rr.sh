#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# kube-rr.sh - route reflectors from Node labels (datastore.type =
# "kubernetes", against the API server stand-in tests/k8s/apiserver.py).
# Five nodes with one cluster-wide file; node1 and node2 labelled
# roost.io/route-reflector=true with one cluster id (annotation), node5 of
# an ASN of its own (annotation roost.io/asn, no reflector in it):
#   - clients (node3, node4) have rr_ sessions to both reflectors and no
#     node_ session; node5 the same over eBGP; the reflectors mesh with each
#     other and with node5, and take node3/node4 as dynamic clients;
#   - every kernel has every other node's /24 via that node's own address,
#     and pods ping across clients (node3 <-> node4 <-> node5);
#   - node3 labelled reflector too (kubectl): it reflects, every other node
#     peers with it, and no unrelated session is reset;
#   - every label removed: back to a full mesh.
. "$(dirname "$0")/lib.sh"

fabric_up
kube_up

# kube_conf K: node K's roostd.conf: the cluster-wide part only.
kube_conf() {
	local d="$RST_TMP/n$1"
	cat >"$d/roostd.conf" <<EOF2
cluster = { pod_cidr = "10.244.0.0/16"; asn = 64512; };
datastore = { type = "kubernetes"; kubeconfig = "$KUBECONFIG_FILE"; subnet_env = "$d/subnet.env"; };
bird = { binary = "$BIRD"; config = "$d/bird.conf"; socket = "$d/bird.ctl"; pidfile = "$d/bird.pid"; };
agent = { socket = "$d/roostd.sock"; state_dir = "$d/state"; log_level = "debug"; };
EOF2
}
kube_roostd() {
	local d="$RST_TMP/n$1"
	ip netns exec "$(ns "n$1")" env NODE_NAME="node$1" "$ROOSTD" -c "$d/roostd.conf" >>"$d/roostd.log" 2>&1 &
	echo $! >"$d/roostd.pid"
	RST_PIDS+=($!)
}

NODES="1 2 3 4 5"
for k in $NODES; do
	node_add "$k"
	kube_node "node$k" "172.31.0.$((10 + k))" "10.244.$k.0/24"
	kube_conf "$k"
done
CID=172.31.0.100
check "kubectl label node1 node2 roost.io/route-reflector=true" \
	kube_ctl label node node1 node2 roost.io/route-reflector=true
check "kubectl annotate node1 node2 with one cluster id ($CID)" \
	kube_ctl annotate node node1 node2 roost.io/route-reflector-cluster-id=$CID
check "kubectl annotate node5 roost.io/asn=64513 (an ASN without a reflector)" \
	kube_ctl annotate node node5 roost.io/asn=64513
for k in $NODES; do kube_roostd "$k"; done
for k in $NODES; do wait_until 10 test -S "$RST_TMP/n$k/roostd.sock"; done

# every kernel has every other node's /24 via that node's address
all_routes() {
	local k j
	for k in $NODES; do
		for j in $NODES; do
			[ "$j" = "$k" ] || kernel_route "$k" "10.244.$j.0/24" "172.31.0.$((10 + j))" || return 1
		done
	done
}
t0=$(now_ms)
wait_until 30 all_routes && measure "two reflectors by label: start -> all /24s everywhere: $(($(now_ms) - t0)) ms"
check "every kernel has every other node's /24 via that node (not a reflector)" all_routes

# protocols K: node K's BGP protocols but the dynamic clients, sorted, on one line.
protocols() { bgp_protocols "$1" | grep -v '^client_' | sort | tr '\n' ' '; }
# sessions_are K LIST: node K's BGP protocols are exactly LIST, all Established
# (but "reflector", the template of the dynamic clients, which only listens).
sessions_are() {
	local p
	[ "$(protocols "$1")" = "$2 " ] || return 1
	for p in $2; do [ "$p" = reflector ] || established "$1" "$p" || return 1; done
}
# clients_up K N: reflector K has N Established dynamic client sessions.
clients_up() {
	[ "$(birdc_n "$1" show protocols | grep -cE '^client_[0-9]+ +BGP .* Established')" -eq "$2" ]
}
for k in 3 4 5; do
	check "node$k: rr_node1 and rr_node2 only, Established (no node_ session)" \
		wait_until 15 sessions_are "$k" "rr_node1 rr_node2"
done
check "node5 peers with the reflectors as AS 64513 (eBGP)" \
	bash -c "$BIRDC -s $RST_TMP/n5/bird.ctl show protocols all rr_node1 | grep -Eq 'Local AS: +64513' &&
		$BIRDC -s $RST_TMP/n1/bird.ctl show protocols all node_node5 | grep -Eq 'Neighbor AS: +64513'"
for k in 1 2; do
	o=$((3 - k))
	check "node$k (reflector): node_node$o and node_node5 only as static sessions" \
		wait_until 15 sessions_are "$k" "node_node$o node_node5 reflector"
	check "node$k (reflector): node3 and node4 as dynamic clients (2 client_*)" \
		wait_until 15 clients_up "$k" 2
	check "node$k: the rendered config reflects, cluster id $CID" \
		grep -q "rr cluster id $CID;" "$RST_TMP/n$k/bird.conf"
done
check "node1 logs its role: reflector, clients = the connected prefix of node.address" \
	log_has 1 "this node is a route reflector .*cluster id $CID, clients 172.31.0.0/24 \(the connected prefix"
check "roostctl -o json status on node1: datastore reflector true" \
	bash -c "'$top_builddir/agent/roostctl' -s $RST_TMP/n1/roostd.sock -o json status | jq -e '.datastore.reflector == true'"
check "node3 show route all 10.244.4.0/24: next hop node4, reflected (cluster list $CID)" \
	bash -c "$BIRDC -s $RST_TMP/n3/bird.ctl show route all 10.244.4.0/24 >$RST_TMP/sr.txt;
		grep -q 'BGP.next_hop: 172.31.0.14' $RST_TMP/sr.txt && grep -q 'BGP.cluster_list: $CID' $RST_TMP/sr.txt"
check "node3's import policy owns node4's subnet by node4's address (the Node's InternalIP)" \
	grep -q "if net = 10.244.4.0/24 then return bgp_next_hop = 172.31.0.14;" "$RST_TMP/n3/bird.conf"

declare -A IP
for k in 3 4 5; do
	if pod_add "$k" 1; then IP[$k]=$POD_IP; else IP[$k]=none; fi
done
pods_ping() {
	pod_ping 3 1 "${IP[4]}" && pod_ping 4 1 "${IP[5]}" && pod_ping 5 1 "${IP[3]}"
}
check "pods ping across clients: node3 -> node4 -> node5 -> node3" wait_until 10 pods_ping

# ---- a third reflector by label ---------------------------------------------------------------
since() { birdc_n "$1" show protocols "$2" | awk -v p="$2" '$1 == p {print $5}'; }
declare -A SINCE
keep="4:rr_node1 4:rr_node2 5:rr_node1 5:rr_node2 1:node_node2 1:node_node5 2:node_node5"
for kp in $keep; do SINCE[$kp]=$(since "${kp%%:*}" "${kp#*:}"); done
since_known() {
	local kp
	for kp in $keep; do [ -n "${SINCE[$kp]}" ] || { echo "no Since for $kp"; return 1; }; done
}
check "the sessions to watch are up, each with its Since" since_known
kube_ctl annotate node node3 roost.io/route-reflector-cluster-id=$CID >/dev/null
t0=$(now_ms)
check "kubectl label node3 roost.io/route-reflector=true" \
	kube_ctl label node node3 roost.io/route-reflector=true
third() {
	sessions_are 4 "rr_node1 rr_node2 rr_node3" && sessions_are 5 "rr_node1 rr_node2 rr_node3" &&
		sessions_are 3 "node_node1 node_node2 node_node5 reflector" &&
		sessions_are 1 "node_node2 node_node3 node_node5 reflector" && clients_up 3 1 && clients_up 1 1
}
if wait_until 30 third; then
	measure "node3 labelled reflector -> every session in place: $(($(now_ms) - t0)) ms"
	ok "node3 reflects: node4 and node5 peer with three reflectors, node3 meshes with node1, node2, node5"
else
	not_ok "node3 reflects" "$(for k in $NODES; do echo "node$k: $(protocols "$k")"; done)"
fi
# Since readings: since_same (lib.sh) allows BIRD's 1 ms of print jitter.
unchanged() {
	local kp now bad=""
	for kp in $keep; do
		now=$(since "${kp%%:*}" "${kp#*:}")
		since_same "$now" "${SINCE[$kp]}" || bad="$bad $kp(${SINCE[$kp]}->$now)"
	done
	[ -z "$bad" ] && return 0
	echo "reset:$bad"
	for kp in $bad; do
		kp=${kp%%(*}
		birdc_n "${kp%%:*}" show protocols all "${kp#*:}" | grep -E 'BGP state|Last error|BFD'
		grep -E "${kp#*:}|BFD|Restart" "$RST_TMP/n${kp%%:*}/roostd.log" | tail -n 12
	done
	return 1
}
check "... no unrelated session was reset ($keep)" unchanged
check "... every kernel still has every other node's /24 via that node" wait_until 15 all_routes
check "... pods still ping across nodes" wait_until 10 pods_ping

# ---- every label removed: a full mesh again ----------------------------------------------------
check "kubectl label node1 node2 node3 roost.io/route-reflector- (removed)" \
	kube_ctl label node node1 node2 node3 roost.io/route-reflector-
mesh_all() {
	local k j want
	for k in $NODES; do
		want=""
		for j in $NODES; do [ "$j" = "$k" ] || want="$want${want:+ }node_node$j"; done
		sessions_are "$k" "$want" || return 1
	done
}
if wait_until 30 mesh_all; then
	ok "no label: every node meshes with the four others (node_* only, Established)"
else
	not_ok "no label: full mesh" "$(for k in $NODES; do echo "node$k: $(protocols "$k")"; done)"
fi
check "node1 logs the way back to a full mesh" log_has 1 "no Node is a route reflector: full mesh"
check "... every kernel has every other node's /24 via that node" wait_until 15 all_routes
check "... pods ping across nodes" wait_until 10 pods_ping

rst_finish
