#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# kube-services.sh - bgp.services: Service addresses from the Kubernetes API
# (the stand-in, tests/k8s/apiserver.py) announced to an FRR ToR.
#
# Three nodes on the Kubernetes datastore peer eBGP with the ToR (AS 65000,
# maximum-paths 8), with bgp.services = { load_balancer; external_ips; }:
#  - a LoadBalancer Service (externalTrafficPolicy Cluster) with an ingress
#    IP from a load-balancer controller's status patch: the ToR has a path
#    from every node and installs ECMP, tagged (64512, 2, node id);
#  - a LoadBalancer Service with externalTrafficPolicy Local and a ready
#    endpoint on node2: one path, from node2; the endpoint not ready: no
#    path; moved to node3 and ready: node3's path, each within seconds;
#  - externalIPs of a ClusterIP Service: announced by every node; an
#    address that does not parse, IPv6, a pod address and a node's address
#    are skipped and logged once each;
#  - a reload turning external_ips off withdraws that node's path only;
#  - roostctl status lists what is announced and why; roostd restarted
#    while the API server is down keeps announcing (state_dir/services.json),
#    the ToR's paths untouched; the sessions with the ToR are never reset;
#    a Service deleted is withdrawn.
. "$(dirname "$0")/lib.sh"

ROOSTCTL=${ROOSTCTL:-$top_builddir/agent/roostctl}
if [ ! -x /usr/lib/frr/bgpd ] || [ ! -x /usr/lib/frr/zebra ]; then
	not_ok "FRR is installed (apt-get install frr)"
	rst_finish
	exit
fi

fabric_up
kube_up
aux_add tor 172.31.0.1
T=$(ns tor)
D="$RST_TMP/tor"
K=$RST_TMP/k8s

# ---- the ToR: FRR, ECMP over the nodes ---------------------------------------------------
cat >"$D/zebra.conf" <<'EOF'
hostname tor
EOF
cat >"$D/bgpd.conf" <<'EOF'
hostname tor
ip prefix-list FROM-NODES seq 5 permit 10.244.0.0/16 ge 24 le 24
ip prefix-list FROM-NODES seq 10 permit 198.51.100.0/24 le 32
ip prefix-list FROM-NODES seq 15 permit 10.0.0.0/8 le 32
ip prefix-list FROM-NODES seq 20 permit 172.31.0.0/24 le 32
route-map FROM-NODES permit 10
 match ip address prefix-list FROM-NODES
exit
route-map TO-NODES deny 10
exit
router bgp 65000
 bgp router-id 172.31.0.1
 neighbor NODES peer-group
 neighbor NODES remote-as 64512
 neighbor NODES timers connect 1
 neighbor 172.31.0.11 peer-group NODES
 neighbor 172.31.0.12 peer-group NODES
 neighbor 172.31.0.13 peer-group NODES
 address-family ipv4 unicast
  maximum-paths 8
  neighbor NODES route-map FROM-NODES in
  neighbor NODES route-map TO-NODES out
 exit-address-family
exit
EOF
chown -R frr:frr "$D"
vty() { frr_vty "$T" "$D" "$@"; }
frr_daemon "$T" "$D" zebra
wait_until 15 test -S "$D/zserv.api"
frr_daemon "$T" "$D" bgpd

# ---- the nodes: the Kubernetes datastore, bgp.services on ------------------------------------
for k in 1 2 3; do
	node_add "$k"
	kube_node "node$k" "172.31.0.$((10 + k))" "10.244.$k.0/24"
	d="$RST_TMP/n$k"
	cat >"$d/roostd.conf" <<EOF
node = { address = "172.31.0.$((10 + k))"; };  # a restart without the API server needs it
cluster = { pod_cidr = "10.244.0.0/16"; asn = 64512; };
datastore = { type = "kubernetes"; kubeconfig = "$KUBECONFIG_FILE"; subnet_env = "$d/subnet.env"; };
bgp = {
  peers = ( { name = "tor"; address = "172.31.0.1"; asn = 65000; bfd = "off"; export = "both"; } );
  services = { load_balancer = true; external_ips = true; };
};
bird = { binary = "$BIRD"; config = "$d/bird.conf"; socket = "$d/bird.ctl"; pidfile = "$d/bird.pid"; };
agent = { socket = "$d/roostd.sock"; state_dir = "$d/state"; log_level = "debug"; };
EOF
	ip netns exec "$(ns "n$k")" env NODE_NAME="node$k" "$ROOSTD" -c "$d/roostd.conf" >>"$d/roostd.log" 2>&1 &
	echo $! >"$d/roostd.pid"
	RST_PIDS+=($!)
done
mesh_wait 3

# ---- what the ToR sees -------------------------------------------------------------------------
bgp_json() { vty "show ip bgp $1 json"; }
nexthops() { bgp_json "$1" | jq -r '[.paths[]?.nexthops[0].ip] | sort | join(" ")'; }
nexthops_are() { [ "$(nexthops "$1")" = "$2" ]; }
ecmp() {
	local p=$1 got want
	shift
	got=$(ip -n "$T" route show "$p" | grep -o 'via [0-9.]*' | cut -d' ' -f2 | sort | tr '\n' ' ')
	want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
	[ "$got" = "$want" ]
}
tor_up() { nexthops_are 10.244.3.0/24 172.31.0.13 && nexthops_are 10.244.1.0/24 172.31.0.11; }
check "the ToR learns the nodes' pod subnets" wait_until 45 tor_up
# since K: when BIRD's session with the ToR came up on node K
since() { birdc_n "$1" show protocols peer_tor | awk '$1 == "peer_tor" {print $5, $6}'; }
for k in 1 2 3; do since "$k" >"$RST_TMP/since$k"; done
ALL="172.31.0.11 172.31.0.12 172.31.0.13"

# ---- a LoadBalancer Service, externalTrafficPolicy Cluster: every node ---------------------------
cat >"$K/lb.yaml" <<'EOF'
apiVersion: v1
kind: Service
metadata: {name: lb, namespace: default}
spec:
  type: LoadBalancer
  selector: {app: lb}
  ports: [{port: 80, protocol: TCP}]
EOF
kube_ctl apply --validate=false -f "$K/lb.yaml" >/dev/null
check "a LoadBalancer Service without an ingress IP yet: nothing announced" \
	bash -c "! $ROOSTCTL -s $RST_TMP/n1/roostd.sock -o json status | jq -e '.announced[] | select(.prefix | startswith(\"198.51.100.\"))'"
t0=$(now_ms)
kube_ctl patch svc lb --subresource=status --type=merge \
	-p '{"status":{"loadBalancer":{"ingress":[{"ip":"198.51.100.10"}]}}}' >/dev/null
got=""
if wait_until 20 nexthops_are 198.51.100.10/32 "$ALL"; then
	got=$(($(now_ms) - t0))
fi
measure "kube-services: ingress IP set -> the ToR has all three paths in ${got:-more than 20000} ms"
check "ToR: 198.51.100.10/32 (LoadBalancer ingress, ETP Cluster) from all three nodes (${got:-?} ms)" \
	test -n "$got"
check "ToR kernel: ECMP over the three nodes" wait_until 15 ecmp 198.51.100.10/32 172.31.0.11 172.31.0.12 172.31.0.13
lc_of() { # PREFIX NEXTHOP: the large communities of that path
	bgp_json "$1" | jq -r --arg nh "$2" '.paths[] | select(.nexthops[0].ip == $nh) | .largeCommunity.list // [] | join(" ")'
}
lc_is() { [ "$(lc_of "$1" "$2")" = "$3" ]; }
check "ToR: node2's path carries the large community 64512:2:2 (announced address, node 2)" \
	lc_is 198.51.100.10/32 172.31.0.12 64512:2:2
check "roostctl status on node1: 198.51.100.10/32, why: service default/lb LoadBalancer ingress" \
	bash -c "$ROOSTCTL -s $RST_TMP/n1/roostd.sock -o json status |
		jq -e '.announced[] | select(.prefix == \"198.51.100.10/32\") | .why == \"service default/lb LoadBalancer ingress\"'"
"$ROOSTCTL" -s "$RST_TMP/n1/roostd.sock" status | sed -n '/^announce/p' | sed 's/^/# /'
check "roostctl -o json status: .datastore.services counts what roostd follows" \
	bash -c "$ROOSTCTL -s $RST_TMP/n1/roostd.sock -o json status |
		jq -e '.datastore.services | .listed and .services == 1 and .endpointslices == 0 and .addresses == 1'"
check "roostctl status (table) shows the announced address and why" \
	bash -c "$ROOSTCTL -s $RST_TMP/n1/roostd.sock status | grep -q '^announce  198.51.100.10/32 .*service default/lb LoadBalancer ingress'"

# ---- externalTrafficPolicy Local: only nodes with a ready endpoint ------------------------------
cat >"$K/loc.yaml" <<'EOF'
apiVersion: v1
kind: Service
metadata: {name: loc, namespace: shop}
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  selector: {app: loc}
  ports: [{port: 443, protocol: TCP}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: loc-x1
  namespace: shop
  labels: {kubernetes.io/service-name: loc}
addressType: IPv4
ports: [{port: 443, protocol: TCP}]
endpoints:
- addresses: [10.244.2.9]
  nodeName: node2
  conditions: {ready: true}
EOF
kube_ctl apply --validate=false -f "$K/loc.yaml" >/dev/null
kube_ctl -n shop patch svc loc --subresource=status --type=merge \
	-p '{"status":{"loadBalancer":{"ingress":[{"ip":"198.51.100.20"}]}}}' >/dev/null
check "ToR: 198.51.100.20/32 (ETP Local, ready endpoint on node2) from node2 only" \
	wait_until 20 nexthops_are 198.51.100.20/32 172.31.0.12
check "roostctl status on node2 says why: a ready endpoint on this node" \
	bash -c "$ROOSTCTL -s $RST_TMP/n2/roostd.sock -o json status |
		jq -e '.announced[] | select(.prefix == \"198.51.100.20/32\") | .why | test(\"externalTrafficPolicy Local: a ready endpoint on this node\")'"
check "roostctl status on node1 does not list it" \
	bash -c "! $ROOSTCTL -s $RST_TMP/n1/roostd.sock -o json status | jq -e '.announced[] | select(.prefix == \"198.51.100.20/32\")'"

t0=$(now_ms)
sed -i 's/ready: true/ready: false/' "$K/loc.yaml"
kube_ctl apply --validate=false -f "$K/loc.yaml" >/dev/null
got=""
if wait_until 15 nexthops_are 198.51.100.20/32 ""; then
	got=$(($(now_ms) - t0))
fi
measure "kube-services: endpoint not ready -> node2's path gone from the ToR in ${got:-more than 15000} ms"
check "the endpoint on node2 not ready: the ToR has no path to 198.51.100.20/32 within 15 s (${got:-?} ms)" \
	test -n "$got"

t0=$(now_ms)
sed -i 's/ready: false/ready: true/; s/nodeName: node2/nodeName: node3/' "$K/loc.yaml"
kube_ctl apply --validate=false -f "$K/loc.yaml" >/dev/null
got=""
if wait_until 15 nexthops_are 198.51.100.20/32 172.31.0.13; then
	got=$(($(now_ms) - t0))
fi
measure "kube-services: endpoint moved to node3 -> the ToR has node3's path in ${got:-more than 15000} ms"
check "the endpoint moved to node3 and ready: the ToR has node3's path only within 15 s (${got:-?} ms)" \
	test -n "$got"
check "ToR kernel: 198.51.100.20/32 via node3" wait_until 15 ecmp 198.51.100.20/32 172.31.0.13

# ---- externalIPs, and addresses that must not be announced -------------------------------------
cat >"$K/ext.yaml" <<'EOF'
apiVersion: v1
kind: Service
metadata: {name: ext, namespace: default}
spec:
  selector: {app: ext}
  externalIPs: [198.51.100.30, 10.244.1.7, 172.31.0.12, not-an-ip, "2001:db8::1"]
  ports: [{port: 53, protocol: UDP}]
EOF
kube_ctl apply --validate=false -f "$K/ext.yaml" >/dev/null
check "ToR: 198.51.100.30/32 (externalIP of a ClusterIP Service) from all three nodes" \
	wait_until 20 nexthops_are 198.51.100.30/32 "$ALL"
neither() { nexthops_are 10.244.1.7/32 "" && nexthops_are 172.31.0.12/32 ""; }
check "... and neither the pod address 10.244.1.7 nor node2's address 172.31.0.12 as a /32" neither

# ---- a reload (SIGHUP) turns external_ips off on node2: only its path goes -----------------------
sed -i 's/external_ips = true;/external_ips = false;/' "$RST_TMP/n2/roostd.conf"
kill -HUP "$(cat "$RST_TMP/n2/roostd.pid")"
check "node2 reloaded with external_ips = false: the ToR has 198.51.100.30/32 from node1 and node3 only" \
	wait_until 15 nexthops_are 198.51.100.30/32 "172.31.0.11 172.31.0.13"
check "... and still 198.51.100.10/32 (load_balancer) from all three" nexthops_are 198.51.100.10/32 "$ALL"
sed -i 's/external_ips = false;/external_ips = true;/' "$RST_TMP/n2/roostd.conf"
kill -HUP "$(cat "$RST_TMP/n2/roostd.pid")"
check "external_ips = true again (SIGHUP): node2's path is back" \
	wait_until 15 nexthops_are 198.51.100.30/32 "$ALL"

# ---- roostd restarted while the API server is down: nothing withdrawn ----------------------------
# The ToR's next hops for both of node1's addresses, every 100 ms, while
# roostd restarts: a withdrawal would show as a line without 172.31.0.11.
(while :; do
	echo "$(nexthops 198.51.100.10/32)|$(nexthops 198.51.100.30/32)"
	sleep 0.1
done) >"$RST_TMP/tor-watch.txt" 2>/dev/null &
watcher=$!
RST_PIDS+=("$watcher")
wait_until 5 test -s "$RST_TMP/tor-watch.txt"
kube_stop
kill -TERM "$(cat "$RST_TMP/n1/roostd.pid")"
wait "$(cat "$RST_TMP/n1/roostd.pid")" 2>/dev/null
d="$RST_TMP/n1"
ip netns exec "$(ns n1)" env NODE_NAME=node1 "$ROOSTD" -c "$d/roostd.conf" >>"$d/roostd.log" 2>&1 &
echo $! >"$d/roostd.pid"
RST_PIDS+=($!)
check "node1's roostd restarted with the API server down: ready from its caches" \
	wait_until 20 bash -c "[ \$(grep -c \"info: ready: node='node1'\" $d/roostd.log) = 2 ]"
check "... with the Service addresses from state_dir/services.json" \
	log_has 1 "services: [0-9]+ address\\(es\\) from '.*/services.json' until the API server answers"
announced_on_1() {
	$ROOSTCTL -s "$RST_TMP/n1/roostd.sock" -o json status |
		jq -e '[.announced[].prefix] | index("198.51.100.10/32") and index("198.51.100.30/32")'
}
check "roostctl status on node1 lists both addresses (cached)" wait_until 10 announced_on_1
kube_start
back() { log_has 1 "services: Services followed again" && log_has 1 "services: EndpointSlices followed again"; }
check "the API server back: node1 follows Services and EndpointSlices again" wait_until 20 back
kill "$watcher" 2>/dev/null
wait "$watcher" 2>/dev/null
check "the ToR kept node1's paths to both addresses all along ($(wc -l <"$RST_TMP/tor-watch.txt") samples)" \
	bash -c "! grep -v '172\\.31\\.0\\.11.*|.*172\\.31\\.0\\.11' $RST_TMP/tor-watch.txt"
check "the restarted node1 never applied an empty list of Service addresses" \
	bash -c "! sed -n '/address(es) from .*services.json/,\$p' $d/roostd.log | grep -q 'address(es) announced for Services (were'"

# ---- deleted: withdrawn; the sessions with the ToR were never reset ------------------------------
t0=$(now_ms)
kube_ctl delete svc lb >/dev/null
got=""
if wait_until 15 nexthops_are 198.51.100.10/32 ""; then
	got=$(($(now_ms) - t0))
fi
measure "kube-services: Service deleted -> withdrawn from the ToR in ${got:-more than 15000} ms"
check "Service lb deleted: 198.51.100.10/32 withdrawn from the ToR within 15 s (${got:-?} ms)" test -n "$got"
check "... while 198.51.100.30/32 stays" nexthops_are 198.51.100.30/32 "$ALL"
for k in 1 2 3; do
	check "node$k: the session with the ToR was never reset (Established since $(cat "$RST_TMP/since$k"))" \
		since_same "$(since "$k")" "$(cat "$RST_TMP/since$k")"
	check "node$k: no announced address reached its kernel" \
		bash -c "! ip -n $(ns "n$k") route show proto bird | grep -q '198\\.51\\.100\\.'"
done
# (after later changes, so "once" means once)
for what in "10.244.1.7 .*inside the cluster pod CIDR" "172.31.0.12 .*a node's address" \
	"'not-an-ip' is not an IPv4 address" "'2001:db8::1' is IPv6"; do
	check "node3 logged once: $what" bash -c "[ \"\$(grep -Ec \"$what\" $RST_TMP/n3/roostd.log)\" = 1 ]"
done

rst_finish
