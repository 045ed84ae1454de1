# SPDX-License-Identifier: MIT
# deps.sh - the Debian packages roost's build, tests and demo need, installed
# with apt-get when missing (sourced by tests/run and examples/demo).

ROOST_DEPS="build-essential autoconf automake libtool pkg-config clang libclang-rt-14-dev
	libnl-3-dev libnl-route-3-dev libconfig-dev libjansson-dev libcmocka-dev libnftables-dev
	bird2 iproute2 iputils-ping procps jq tcpdump util-linux curl man-db socat valgrind iperf3
	frr gobgpd exabgp etcd-server etcd-client libcurl4-openssl-dev libyaml-dev
	golang-go golang-github-appc-cni-dev containernetworking-plugins python3 openssl nftables
	mmdebstrap umoci skopeo podman runc
	golang-k8s-kube-openapi-dev golang-github-googleapis-gnostic-dev golang-github-golang-protobuf-1-3-dev"

deps_missing() {
	local p missing=""
	for p in $ROOST_DEPS; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing="$missing $p"
	done
	# kubectl drives the Kubernetes API stand-in: the one on PATH (package
	# kubectl), else Debian's kubernetes-client (the two conflict).
	command -v kubectl >/dev/null 2>&1 || missing="$missing kubernetes-client"
	echo "$missing"
}

# deps_install: installs what is missing. bird2's package would start the
# distribution's own bird.service in the machine's namespace, which roost does
# not use; a temporary policy-rc.d keeps it from starting during the install.
deps_install() {
	local missing policy=/usr/sbin/policy-rc.d made=no
	missing=$(deps_missing)
	[ -z "$missing" ] && return 0
	echo "== installing Debian packages:$missing"
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && made=yes
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null 2>&1
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1 ||
		apt-get install -y $missing
	local rc=$?
	[ "$made" = yes ] && rm -f "$policy"
	if [ $rc -ne 0 ]; then
		echo "apt-get install failed for:$missing" >&2
		return 1
	fi
	return 0
}
