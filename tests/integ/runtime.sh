#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# runtime.sh - a real runtime client: the shipped conflist driven through
# Debian's libcni (tests/cnidriver, built by tests/run), the library
# containerd and CRI-O call plugins with: AddNetworkList, CheckNetworkList,
# DelNetworkList.
. "$(dirname "$0")/lib.sh"

DRIVER=${CNIDRIVER:-$top_builddir/tests/cnidriver}
if [ ! -x "$DRIVER" ]; then
	not_ok "libcni driver is built ($DRIVER)" "tests/run builds it with golang-go and golang-github-appc-cni-dev"
	rst_finish
	exit 1
fi

fabric_up
node_add 1
node_conf 1 1
roostd_start 1
wait_until 10 test -S "$RST_TMP/n1/roostd.sock"

mkdir -p "$RST_TMP/cache" "$RST_TMP/bin"
ln -s "$ROOST_CNI" "$RST_TMP/bin/roost"
jq --arg s "$RST_TMP/n1/roostd.sock" '.plugins[0].agentSocket = $s' \
	"$top_srcdir/examples/10-roost.conflist" >"$RST_TMP/10-roost.conflist"

drive() {
	ip netns exec "$(ns n1)" env CNI_PATH="$RST_TMP/bin" CNI_CACHE_DIR="$RST_TMP/cache" \
		"$DRIVER" "$1" "$RST_TMP/10-roost.conflist" "$2" "/run/netns/$(ns n1p1)" eth0 \
		>"$RST_TMP/drive.out" 2>&1
}

pod_ns_add 1 1
check "libcni AddNetworkList on examples/10-roost.conflist" drive add rt1
check "libcni parsed the result: 1.0.0, one IPv4 address in 10.244.1.0/24 on interface 2" \
	jq -e '.cniVersion == "1.0.0" and (.ips[0].address | startswith("10.244.1.")) and
		.ips[0].interface == 2 and .interfaces[2].sandbox != null' "$RST_TMP/drive.out"
addr=$(jq -r '.ips[0].address' "$RST_TMP/drive.out")
check "the pod has $addr on eth0" \
	bash -c "ip -n $(ns n1p1) -br addr show eth0 | grep -q '$addr'"
check "libcni CheckNetworkList (prevResult from libcni's cache)" drive check rt1
check "libcni DelNetworkList" drive del rt1
check "after DelNetworkList: eth0 gone, no reservation" \
	bash -c "! ip -n $(ns n1p1) link show eth0 2>/dev/null &&
		[ \$(find $RST_TMP/n1/state/roost -maxdepth 1 -name '10.*' | wc -l) = 0 ]"
check "after DelNetworkList: no host veth" wait_until 5 host_veths_are 1 0
check "libcni DelNetworkList again: still success" drive del rt1

rst_finish
