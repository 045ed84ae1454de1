#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# kube-standin.sh - the Kubernetes API server stand-in that the Kubernetes
# datastore tests run against (tests/k8s/apiserver.py) is checked with a
# real client, kubectl, so that it speaks the published API: discovery,
# get and list as JSON, watch, label and annotate (strategic merge
# patches), status patches of conditions, 410 Gone for an expired
# resourceVersion, bookmarks, bearer-token auth over TLS; Services and
# EndpointSlices with kubectl apply -f, get svc, get endpointslices and a
# load-balancer controller's status patch.
. "$(dirname "$0")/lib.sh"

fabric_up
kube_up
K=$RST_TMP/k8s

check "kubectl version talks to the stand-in over TLS with the CA" \
	bash -c "ip netns exec $(ns k8s) kubectl --kubeconfig $KUBECONFIG_FILE version -o json | jq -e '.serverVersion.minor == \"32\"'"
kube_node node1 172.31.0.11 10.244.1.0/24
kube_node node2 172.31.0.12 10.244.2.0/24
kube_ctl get nodes -o json >"$K/nodes.json"
check "kubectl get nodes -o json: a NodeList with both nodes" \
	jq -e '(.kind == "List" or .kind == "NodeList") and ([.items[].metadata.name] == ["node1","node2"])' "$K/nodes.json"
check "... with spec.podCIDRs and the InternalIP address" \
	jq -e '.items[0].spec.podCIDRs == ["10.244.1.0/24"] and
		(.items[0].status.addresses[] | select(.type == "InternalIP") | .address) == "172.31.0.11"' "$K/nodes.json"
check "kubectl get node node2 -o jsonpath='{.spec.podCIDR}'" \
	bash -c "[ \"\$(ip netns exec $(ns k8s) kubectl --kubeconfig $KUBECONFIG_FILE get node node2 -o jsonpath='{.spec.podCIDR}')\" = 10.244.2.0/24 ]"
check "kubectl get nodes (table) lists both" bash -c "ip netns exec $(ns k8s) kubectl --kubeconfig $KUBECONFIG_FILE get nodes | grep -c '^node[12] ' | grep -qx 2"

# ---- watch: kubectl get --watch sees a label and a new node -------------------------------
ip netns exec "$(ns k8s)" timeout 20 kubectl --kubeconfig "$KUBECONFIG_FILE" get nodes --watch \
	-o json >"$K/watch.out" 2>"$K/watch.err" &
wpid=$!
RST_PIDS+=("$wpid")
wait_until 10 grep -q '"name": "node2"' "$K/watch.out"
check "kubectl label node node1 (strategic merge patch)" \
	kube_ctl label node node1 roost.io/route-reflector=true
check "kubectl annotate node node2" kube_ctl annotate node node2 roost.io/asn=64513
kube_node node3 172.31.0.13 10.244.3.0/24
check "kubectl get --watch saw the label" \
	wait_until 10 bash -c "grep -q '\"roost.io/route-reflector\": \"true\"' $K/watch.out"
check "... the annotation" wait_until 10 grep -q '"roost.io/asn": "64513"' "$K/watch.out"
check "... and the new node3" wait_until 10 grep -q '"name": "node3"' "$K/watch.out"
kill "$wpid" 2>/dev/null
wait "$wpid" 2>/dev/null
check "the label is on the node (kubectl get -l)" \
	bash -c "[ \"\$(ip netns exec $(ns k8s) kubectl --kubeconfig $KUBECONFIG_FILE get nodes -l roost.io/route-reflector=true -o name)\" = node/node1 ]"
check "kubectl label --overwrite and removal (key-)" \
	bash -c "ip netns exec $(ns k8s) kubectl --kubeconfig $KUBECONFIG_FILE label node node1 roost.io/route-reflector- >/dev/null &&
		[ -z \"\$(ip netns exec $(ns k8s) kubectl --kubeconfig $KUBECONFIG_FILE get nodes -l roost.io/route-reflector -o name)\" ]"

# ---- status: conditions merge by type --------------------------------------------------------
cond='{"status":{"conditions":[{"type":"NetworkUnavailable","status":"False","reason":"RoostIsUp","message":"test"}]}}'
check "strategic merge patch of status.conditions (kubectl patch --subresource=status)" \
	kube_ctl patch node node1 --subresource=status --type=strategic -p "$cond"
kube_curl PATCH /api/v1/nodes/node1/status \
	'{"status":{"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady"}]}}' \
	application/strategic-merge-patch+json >/dev/null
check "... a second condition merges beside it (by type)" \
	bash -c "ip netns exec $(ns k8s) kubectl --kubeconfig $KUBECONFIG_FILE get node node1 -o json |
		jq -e '[.status.conditions[].type] | sort == [\"NetworkUnavailable\",\"Ready\"]'"

# ---- Services and EndpointSlices: kubectl apply, get, patch the status -----------------------
# (--validate=false: the stand-in serves no OpenAPI document for kubectl to validate against)
cat >"$K/web.yaml" <<'EOF2'
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  externalIPs: [198.51.100.7]
  selector: {app: web}
  ports: [{port: 80, protocol: TCP}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-abc12
  namespace: default
  labels: {kubernetes.io/service-name: web}
addressType: IPv4
ports: [{port: 80, protocol: TCP}]
endpoints:
- addresses: [10.244.1.5]
  nodeName: node1
  conditions: {ready: true}
EOF2
check "kubectl apply -f: a LoadBalancer Service and its EndpointSlice are created" \
	kube_ctl apply --validate=false -f "$K/web.yaml"
check "kubectl get svc web: type LoadBalancer, a cluster IP given by the server, ETP Local" \
	bash -c "ip netns exec $(ns k8s) kubectl --kubeconfig $KUBECONFIG_FILE get svc web -o json |
		jq -e '.spec.type == \"LoadBalancer\" and (.spec.clusterIP | startswith(\"10.96.\")) and .spec.externalTrafficPolicy == \"Local\"'"
check "kubectl get svc (table) lists it" \
	bash -c "ip netns exec $(ns k8s) kubectl --kubeconfig $KUBECONFIG_FILE get svc | grep -q '^web '"
check "kubectl get endpointslices -l kubernetes.io/service-name=web: node1's endpoint, ready" \
	bash -c "ip netns exec $(ns k8s) kubectl --kubeconfig $KUBECONFIG_FILE get endpointslices -l kubernetes.io/service-name=web -o json |
		jq -e '[.items[].endpoints[] | [.nodeName, .conditions.ready]] == [[\"node1\", true]]'"
check "a load-balancer controller's status patch: status.loadBalancer.ingress" \
	kube_ctl patch svc web --subresource=status --type=merge \
	-p '{"status":{"loadBalancer":{"ingress":[{"ip":"198.51.100.10"}]}}}'
check "... visible in kubectl get svc web" \
	bash -c "[ \"\$(ip netns exec $(ns k8s) kubectl --kubeconfig $KUBECONFIG_FILE get svc web -o jsonpath='{.status.loadBalancer.ingress[0].ip}')\" = 198.51.100.10 ]"
sed -i 's/nodeName: node1/nodeName: node2/' "$K/web.yaml"
check "kubectl apply -f again (the endpoint moves to node2): the slice is patched, the status kept" \
	bash -c "ip netns exec $(ns k8s) kubectl --kubeconfig $KUBECONFIG_FILE apply --validate=false -f $K/web.yaml >/dev/null &&
		[ \"\$(ip netns exec $(ns k8s) kubectl --kubeconfig $KUBECONFIG_FILE get endpointslice web-abc12 -o jsonpath='{.endpoints[0].nodeName}')\" = node2 ] &&
		[ \"\$(ip netns exec $(ns k8s) kubectl --kubeconfig $KUBECONFIG_FILE get svc web -o jsonpath='{.status.loadBalancer.ingress[0].ip}')\" = 198.51.100.10 ]"
check "a watch of every namespace's Services (the path roostd uses) starts with web" \
	bash -c "kube_curl() { :; }; ip netns exec $(ns k8s) curl -sS -N --max-time 3 --cacert $K/ca.crt \
		-H 'Authorization: Bearer $(cat "$K/token")' \
		'https://$KUBE_ADDR:6443/api/v1/services?watch=true&timeoutSeconds=1' |
		jq -se 'map(select(.type == \"ADDED\") | .object.metadata.name) == [\"web\"]'"
check "kubectl delete svc web" kube_ctl delete svc web
check "... gone from kubectl get svc" bash -c "[ -z \"\$(ip netns exec $(ns k8s) kubectl --kubeconfig $KUBECONFIG_FILE get svc -o name)\" ]"

# ---- raw API: watch stream, bookmarks, 410, auth ---------------------------------------------
rv=$(kube_curl GET /api/v1/nodes | jq -r .metadata.resourceVersion)
ip netns exec "$(ns k8s)" curl -sS -N --max-time 8 --cacert "$K/ca.crt" \
	-H "Authorization: Bearer $(cat "$K/token")" \
	"https://$KUBE_ADDR:6443/api/v1/nodes?watch=true&resourceVersion=$rv&allowWatchBookmarks=true&timeoutSeconds=5" \
	>"$K/raw-watch.out" &
cpid=$!
RST_PIDS+=("$cpid")
sleep_until_watching() { kube_curl POST /standin/bookmark '{}' >/dev/null && grep -q BOOKMARK "$K/raw-watch.out"; }
check "a watch with allowWatchBookmarks gets BOOKMARK events" wait_until 5 sleep_until_watching
kube_curl DELETE /api/v1/nodes/node3 >/dev/null
check "... and DELETED for a node deleted" wait_until 5 grep -q '"type": "DELETED"' "$K/raw-watch.out"
wait "$cpid" 2>/dev/null
check "the watch ends after timeoutSeconds, with the stream closed cleanly" \
	jq -se 'length >= 2 and all(.[]; has("type") and has("object"))' "$K/raw-watch.out"
kube_curl POST /standin/compact '{}' >/dev/null
check "after a compaction, a watch from the old resourceVersion gets ERROR 410 Expired" \
	bash -c "ip netns exec $(ns k8s) curl -sS --max-time 5 --cacert $K/ca.crt -H 'Authorization: Bearer $(cat "$K/token")' \
		'https://$KUBE_ADDR:6443/api/v1/nodes?watch=true&resourceVersion=$rv' |
		jq -e 'select(.type == \"ERROR\") | .object.code == 410 and .object.reason == \"Expired\"'"
check "... and a list at that resourceVersion gets HTTP 410" \
	bash -c "[ \"\$(ip netns exec $(ns k8s) curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert $K/ca.crt \
		-H 'Authorization: Bearer $(cat "$K/token")' 'https://$KUBE_ADDR:6443/api/v1/nodes?resourceVersion=$rv')\" = 410 ]"
check "a request without the token gets 401" \
	bash -c "[ \"\$(ip netns exec $(ns k8s) curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert $K/ca.crt \
		https://$KUBE_ADDR:6443/api/v1/nodes)\" = 401 ]"
check "kubectl refuses a server whose certificate the CA did not sign" \
	bash -c "! ip netns exec $(ns k8s) kubectl --server https://$KUBE_ADDR:6443 --certificate-authority /etc/ssl/certs/ca-certificates.crt \
		--token x --request-timeout=5s get nodes >/dev/null 2>&1"

# ---- restart: nodes and resourceVersion survive on the state file ----------------------------
before=$(kube_curl GET /api/v1/nodes | jq -c '[.metadata.resourceVersion, [.items[].metadata.name]]')
kube_stop
kube_start
check "a restarted stand-in keeps the nodes and the resourceVersion ($before)" \
	bash -c "[ \"\$(ip netns exec $(ns k8s) curl -sS --max-time 5 --cacert $K/ca.crt -H 'Authorization: Bearer $(cat "$K/token")' \
		https://$KUBE_ADDR:6443/api/v1/nodes | jq -c '[.metadata.resourceVersion, [.items[].metadata.name]]')\" = '$before' ]"

rst_finish
