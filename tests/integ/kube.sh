#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# kube.sh - the Kubernetes API as datastore, against the API server stand-in
# (tests/k8s/apiserver.py, checked with kubectl by kube-standin.sh). Every
# node's roostd.conf is the same cluster-wide file (no node group: the name
# comes from NODE_NAME, the address from the Node's InternalIP, the subnet
# from its spec.podCIDRs):
#   - five nodes converge (one with its own ASN from an annotation: eBGP),
#     pods ping across nodes, each Node gets NetworkUnavailable=False;
#   - a sixth Node object and its roostd: routed by all in <= 2 s, no other
#     session reset; the Node deleted: its subnet leaves every kernel;
#   - a Node without a podCIDR yet: roostd waits and says why, proceeds
#     once the podCIDR is set;
#   - the API server stopped for a minute: sessions, routes and pod traffic
#     unchanged, status says so; back: the watch resumes;
#   - the bearer token rotated (roostd reads it from a file, as the projected
#     service account token): a forced 410 (a compaction) makes every node
#     list again, with the new token, and a later change arrives.
. "$(dirname "$0")/lib.sh"

fabric_up
kube_up
K=$RST_TMP/k8s
# roostd reads its token from a file, as from a projected service account
# token; the kubelet rewrites that file when it rotates the token.
cp "$K/token" "$K/sa-token"
sed "s|token: \".*\"|tokenFile: \"$K/sa-token\"|" "$KUBECONFIG_FILE" >"$K/roost-kubeconfig"

# kube_conf K: node K's roostd.conf: the cluster-wide part only.
kube_conf() {
	local d="$RST_TMP/n$1"
	cat >"$d/roostd.conf" <<EOF
cluster = { pod_cidr = "10.244.0.0/16"; asn = 64512; };
datastore = { type = "kubernetes"; kubeconfig = "$K/roost-kubeconfig"; subnet_env = "$d/subnet.env"; };
bird = { binary = "$BIRD"; config = "$d/bird.conf"; socket = "$d/bird.ctl"; pidfile = "$d/bird.pid"; };
agent = { socket = "$d/roostd.sock"; state_dir = "$d/state"; log_level = "debug"; };
EOF
}
# kube_roostd K [NAME]: roostd on node K, told its Node's name (default nodeK)
# as a DaemonSet does.
kube_roostd() {
	local d="$RST_TMP/n$1"
	ip netns exec "$(ns "n$1")" env NODE_NAME="${2:-node$1}" "$ROOSTD" -c "$d/roostd.conf" >>"$d/roostd.log" 2>&1 &
	echo $! >"$d/roostd.pid"
	RST_PIDS+=($!)
}

for k in 1 2 3 4 5; do
	node_add "$k"
	kube_node "node$k" "172.31.0.$((10 + k))" "10.244.$k.0/24"
	kube_conf "$k"
done
# node5 has an ASN of its own (eBGP with the others), as an annotation.
kube_curl PATCH /api/v1/nodes/node5 '{"metadata":{"annotations":{"roost.io/asn":"64513"}}}' \
	application/merge-patch+json >/dev/null
cmp -s "$RST_TMP/n1/roostd.conf" <(sed 's|/n2/|/n1/|g' "$RST_TMP/n2/roostd.conf")
check "every node's file is the same but for its own paths (no node group)" test $? = 0
for k in 1 2 3 4 5; do kube_roostd "$k"; done
mesh_wait 5
all5() {
	local k j
	for k in 1 2 3 4 5; do
		for j in 1 2 3 4 5; do
			[ "$j" = "$k" ] || kernel_route "$k" "10.244.$j.0/24" "172.31.0.$((10 + j))" || return 1
		done
	done
}
check "five nodes: every kernel has the four other /24s via their InternalIPs" all5
check "node5's annotation roost.io/asn=64513: node1 peers with it as AS 64513 (eBGP)" \
	bash -c "birdc_() { $BIRDC -s $RST_TMP/n\$1/bird.ctl show protocols all \$2; };
		birdc_ 1 node_node5 | grep -Eq 'Neighbor AS: +64513' && birdc_ 5 node_node1 | grep -Eq 'Local AS: +64513'"
check "node3 took its podCIDR and address from its Node" \
	log_has 3 "datastore: Node node3: podCIDR 10.244.3.0/24, address 172.31.0.13"
pod_add 1 1
A=$POD_IP
pod_add 5 1
check "a pod on node5 reaches the pod on node1 ($A)" pod_ping 5 1 "$A"
all_net_ok() {
	local k
	for k in 1 2 3 4 5; do
		[ "$(kube_ctl get node "node$k" -o jsonpath='{.status.conditions[?(@.type=="NetworkUnavailable")].status}')" = False ] || return 1
	done
}
check "every Node has NetworkUnavailable=False (kubectl)" wait_until 10 all_net_ok
check "roostctl -o json status: datastore kubernetes, up, 4 peers" \
	bash -c "'$top_builddir/agent/roostctl' -s $RST_TMP/n1/roostd.sock -o json status |
		jq -e '.datastore.type == \"kubernetes\" and .datastore.state == \"up\" and .datastore.peers == 4'"

# ---- a sixth node joins, then leaves ---------------------------------------------------------
stay_up_begin 1 2 3 4 5 # lib.sh: the sessions among nodes 1-5, polled every 50 ms
node_add 6
kube_conf 6
t0=$(now_ms)
kube_node node6 172.31.0.16 10.244.6.0/24
kube_roostd 6
six_everywhere() {
	local k
	for k in 1 2 3 4 5; do kernel_route "$k" 10.244.6.0/24 172.31.0.16 || return 1; done
}
check "node6 added (Node object, then its roostd): its /24 in all five kernels" wait_until 10 six_everywhere
ms=$(($(now_ms) - t0))
measure "node6 Node created -> its /24 in all five other kernels: $ms ms"
check "... within 2 s ($ms ms)" test "$ms" -le 2000
check "... no session among nodes 1-5 went down meanwhile (polled every 50 ms)" stay_up_check
stay_up_report
kube_curl DELETE /api/v1/nodes/node6 >/dev/null
six_nowhere() {
	local k
	for k in 1 2 3 4 5; do no_kernel_route "$k" 10.244.6.0/24 || return 1; done
}
check "node6's Node deleted: its /24 leaves all five kernels" wait_until 10 six_nowhere
kill -TERM "$(roostd_pid 6)"

# ---- a Node without a podCIDR yet -------------------------------------------------------------
# node7's Node has a cloud's kind of name (its host's FQDN: dots, 41
# characters), which is no BIRD name: roost derives one.
N7=ip-172-31-0-17.eu-west-1.compute.internal
node_add 7
kube_conf 7
kube_node "$N7" 172.31.0.17 ""
kube_roostd 7 "$N7"
check "node7 has no podCIDR: roostd waits and says why" \
	wait_until 10 log_has 7 "Node $N7 has no podCIDR yet"
kube_curl PATCH "/api/v1/nodes/$N7" '{"spec":{"podCIDR":"10.244.7.0/24","podCIDRs":["10.244.7.0/24"]}}' \
	application/merge-patch+json >/dev/null
check "... the podCIDR assigned: node7 proceeds and is routed by node1" \
	wait_until 40 kernel_route 1 10.244.7.0/24 172.31.0.17
check "node1's session with $N7 is node_ip_172_31_0_17_eu_west_1_comput_de2765ba, Established" \
	wait_until 10 bash -c "$BIRDC -s $RST_TMP/n1/bird.ctl show protocols | grep -Eq '^node_ip_172_31_0_17_eu_west_1_comput_de2765ba +BGP .* Established'"
net_ok() {
	[ "$(kube_ctl get node "$1" -o jsonpath='{.status.conditions[?(@.type=="NetworkUnavailable")].status}')" = False ]
}
check "... and NetworkUnavailable=False is on its Node (kubectl)" wait_until 10 net_ok "$N7"

# ---- the API server away for a minute ---------------------------------------------------------
ip netns exec "$(ns n5p1)" ping -q -i 0.05 -W 1 -w 70 "$A" >"$RST_TMP/ping-away.txt" 2>&1 &
ping_pid=$!
kube_stop
check "API server stopped: node1's status says the datastore is down" \
	wait_until 30 bash -c "'$top_builddir/agent/roostctl' -s $RST_TMP/n1/roostd.sock -o json status | jq -e '.datastore.state == \"down\"'"
check "... and its table: 'datastore kubernetes DOWN: <why>'" \
	bash -c "'$top_builddir/agent/roostctl' -s $RST_TMP/n1/roostd.sock status | grep -q '^datastore kubernetes DOWN: .'"
check "... and its metrics: roost_datastore_up 0" \
	bash -c "ip netns exec $(ns n1) curl -sf --max-time 5 http://127.0.0.1:9638/metrics | grep -q '^roost_datastore_up 0$'"
stay_up_begin 1 2 3 4 5
t_out=$(now_ms)
# A roostd restarted meanwhile starts from its cache: its file names no
# address, the Node's InternalIP was cached with the peers.
pid3=$(roostd_pid 3)
kill -TERM "$pid3"
wait_until 10 bash -c "! kill -0 $pid3 2>/dev/null"
kube_roostd 3
check "node3's roostd restarted while the API server is away: it starts from its cache" \
	wait_until 20 log_has 3 "starting from the last known state"
check "... and serves (ready)" wait_until 20 roostd_ready 3
check "... with the Node's address from the cache (172.31.0.13)" \
	bash -c "'$top_builddir/agent/roostctl' -s $RST_TMP/n3/roostd.sock -o json status | jq -e '.node.address == \"172.31.0.13\"'"
# the outage itself: nothing to wait for, it is the condition under test
sleep $(((60000 - ($(now_ms) - t_out)) / 1000))
check "after a minute without the API server: every route still there" all5
check "... no session went down meanwhile (polled every 50 ms)" stay_up_check
stay_up_report
kube_start
check "API server back: node1's datastore is up again" \
	wait_until 30 bash -c "'$top_builddir/agent/roostctl' -s $RST_TMP/n1/roostd.sock -o json status | jq -e '.datastore.state == \"up\"'"
check "... and its metrics: roost_datastore_up 1, 5 other Nodes (2-5, 7)" \
	bash -c "ip netns exec $(ns n1) curl -sf --max-time 5 http://127.0.0.1:9638/metrics |
		grep -c -e '^roost_datastore_up 1$' -e '^roost_datastore_peers 5$' | grep -qx 2"
wait "$ping_pid"
sent=$(grep -oE '[0-9]+ packets transmitted' "$RST_TMP/ping-away.txt" | cut -d' ' -f1)
got=$(grep -oE '[0-9]+ received' "$RST_TMP/ping-away.txt" | cut -d' ' -f1)
measure "pod to pod during the API server's absence: ${sent:-?} sent, ${got:-?} received"
check "... no pod packet lost meanwhile (${got:-?} of ${sent:-?})" test -n "$sent" -a "$sent" = "${got:-x}"
kube_node node8 172.31.0.18 10.244.8.0/24
node_add 8
kube_conf 8
kube_roostd 8
check "a Node added after the restart reaches node1 (the watch resumed)" \
	wait_until 30 kernel_route 1 10.244.8.0/24 172.31.0.18

# ---- the token rotated, then every watch ends with 410 ----------------------------------------
old=$(cat "$K/token")
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$K/new-token"
cp "$K/new-token" "$K/sa-token.tmp" && mv "$K/sa-token.tmp" "$K/sa-token" # the kubelet's rewrite
mv "$K/new-token" "$K/token" # the API server takes only the new token from now on
code=$(ip netns exec "$(ns k8s)" curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
	--cacert "$K/ca.crt" -H "Authorization: Bearer $old" "https://$KUBE_ADDR:6443/api/v1/nodes")
check "the token rotated: the old one is refused (HTTP $code)" test "$code" = 401
# The server drops the history the watches stand on: each gets 410 Gone.
kube_curl POST /standin/compact '{}' >/dev/null
check "a compaction ends the watches with 410: node1 lists the Nodes again" \
	wait_until 10 log_has 1 "410 .*listing the Nodes again"
kube_node node9 172.31.0.19 10.244.9.0/24
check "... and a Node added after it is node1's mesh neighbour (node_node9): the new token" \
	wait_until 10 bash -c "$BIRDC -s $RST_TMP/n1/bird.ctl show protocols | grep -q '^node_node9 '"

rst_finish
