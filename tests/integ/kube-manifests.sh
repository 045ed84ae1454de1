#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# kube-manifests.sh - the manifests in examples/kubernetes/ name only fields
# that exist in the Kubernetes API, as kubectl's own client-side validation
# (create --dry-run=client --validate=strict) sees them against a published
# Kubernetes OpenAPI document: the swagger.json of Kubernetes v1.13 that
# Debian's golang-k8s-kube-openapi-dev ships (test data of kube-openapi).
# The stand-in serves it at /openapi/v2 in the protocol buffer encoding
# kubectl asks for (tests/k8s/openapi-pb, with gnostic, as the real server
# does) and derives discovery from its paths. v1 APIs only ever gain fields,
# so what v1.13 knows exists in every later release; a field added after
# v1.13 would be reported here (none of the manifests needs one).
# Misspelled and mistyped copies of the DaemonSet must be refused, so the
# check is known to be live.
. "$(dirname "$0")/lib.sh"

swagger=/usr/share/gocode/src/k8s.io/kube-openapi/pkg/schemaconv/testdata/swagger.json
K=$RST_TMP/k8s
ds=$top_srcdir/examples/kubernetes/roost-daemonset.yaml
check "a published Kubernetes OpenAPI document is there (golang-k8s-kube-openapi-dev)" \
	jq -e '.info.title == "Kubernetes" and
		.definitions["io.k8s.api.apps.v1.DaemonSet"]["x-kubernetes-group-version-kind"][0].group == "apps" and
		(.definitions["io.k8s.api.rbac.v1.ClusterRole"] | type) == "object"' "$swagger"
measure "schema: Kubernetes $(jq -r .info.version "$swagger") swagger.json, $(jq '.definitions | length' "$swagger") definitions"
mkdir -p "$top_builddir/tests"
if out=$(cd "$top_srcdir/tests/k8s/openapi-pb" && GO111MODULE=off GOPROXY=off GOFLAGS= \
	GOPATH="$top_builddir/gopath:/usr/share/gocode" GOCACHE="$top_builddir/gocache" \
	go build -o "$top_builddir/tests/openapi-pb" . 2>&1) &&
	out=$("$top_builddir/tests/openapi-pb" "$swagger" "$RST_TMP/openapi.pb" 2>&1); then
	ok "swagger.json encoded as the API server serves it (gnostic, protocol buffers)"
else
	not_ok "swagger.json encoded as the API server serves it (gnostic, protocol buffers)" "$out"
fi

fabric_up
mkdir -p "$K"
KUBE_OPENAPI=$swagger KUBE_OPENAPI_PB=$RST_TMP/openapi.pb kube_up
# kubectl's own discovery cache, not the one of other scenarios' stand-ins
kc() { kube_ctl --cache-dir "$K/kubectl-cache" "$@"; }
validate() { kc create --dry-run=client --validate=strict -o name -f "$1"; }

check "kubectl explain reads the served schema (DaemonSet rollingUpdate.maxUnavailable)" \
	bash -c "$(declare -f kube_ctl kc ns); KUBECONFIG_FILE=$KUBECONFIG_FILE RST_TMP=$RST_TMP RST_PREFIX=$RST_PREFIX K=$K
		kc explain daemonsets.spec.updateStrategy.rollingUpdate --api-version=apps/v1 \
			--output=plaintext-openapiv2 | grep -q maxUnavailable"
if out=$(validate "$ds" 2>&1); then
	ok "kubectl --validate=strict accepts examples/kubernetes/roost-daemonset.yaml"
else
	not_ok "kubectl --validate=strict accepts examples/kubernetes/roost-daemonset.yaml" "$out" \
		"$(tail -n 5 "$K/kubectl.err" 2>/dev/null)"
fi
check "... all of it: ServiceAccount, ClusterRole, ClusterRoleBinding, ConfigMap, DaemonSet" \
	bash -c "[ \"\$(printf '%s\n' \"$out\" | sort | tr '\n' ' ')\" = \
		'clusterrole.rbac.authorization.k8s.io/roost clusterrolebinding.rbac.authorization.k8s.io/roost configmap/roost-config daemonset.apps/roost serviceaccount/roost ' ]"
for f in "$top_srcdir"/examples/kubernetes/*.yaml; do
	[ "$f" = "$ds" ] && continue
	if out=$(validate "$f" 2>&1); then
		ok "kubectl --validate=strict accepts examples/kubernetes/${f##*/}"
	else
		not_ok "kubectl --validate=strict accepts examples/kubernetes/${f##*/}" "$out"
	fi
done

# The check is live: a misspelt field, a field at the wrong level and a
# wrong type are each refused, naming the field.
bad() {
	local desc=$1 expr=$2 want=$3
	sed "$expr" "$ds" >"$RST_TMP/bad.yaml"
	if cmp -s "$ds" "$RST_TMP/bad.yaml"; then
		not_ok "$desc" "the sed expression changed nothing: $expr"
	elif out=$(validate "$RST_TMP/bad.yaml" 2>&1); then
		not_ok "$desc" "accepted" "$out"
	elif ! grep -q -- "$want" <<<"$out$(tail -n 3 "$K/kubectl.err")"; then
		not_ok "$desc" "refused, but without naming $want" "$out" "$(tail -n 3 "$K/kubectl.err")"
	else
		ok "$desc"
		tail -n 3 "$K/kubectl.err" | grep -m1 -- "$want" | cut -c1-220 | sed 's/^/#   /'
	fi
}
bad "a misspelt field (rollingUpdate.maxUnavaliable) is refused" \
	's/maxUnavailable: 1/maxUnavaliable: 1/' maxUnavaliable
bad "a Pod field in the container (hostNetwork) is refused" \
	's/^\(          securityContext: {privileged: true}\)$/\1\n          hostNetwork: true/' hostNetwork
bad "a wrong type (periodSeconds: \"10s\") is refused" \
	's/periodSeconds: 10/periodSeconds: "10s"/' periodSeconds
bad "an RBAC rule field that does not exist (verb) is refused" \
	'0,/verbs: \["get", "list", "watch"\]/s//verb: ["get", "list", "watch"]/' verb
rst_finish
