#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# mtu.sh - bridge.mtu follows the uplink: on a 9000-byte fabric, nodes
# without bridge.mtu get a 9000-byte cni0 and 9000-byte pods, and pods ping
# across nodes with 8972-byte DF packets; an explicit bridge.mtu still wins;
# a reload after the uplink's MTU changed follows it.
. "$(dirname "$0")/lib.sh"

fabric_up
ip -n "$(ns fab)" link set br0 mtu 9000
for k in 1 2 3; do
	node_add "$k"
	ip -n "$(ns fab)" link set "n$k" mtu 9000
	ip -n "$(ns "n$k")" link set eth0 mtu 9000
	node_conf "$k" 3
done
echo 'bridge = { mtu = 1400; };' >>"$RST_TMP/n3/roostd.conf"
for k in 1 2 3; do
	roostd_start "$k"
done
mesh_wait 3

link_mtu() { # NS IFNAME
	ip -n "$1" -o link show "$2" | sed -n 's/.* mtu \([0-9]*\) .*/\1/p'
}
for k in 1 2 3; do
	pod_add "$k" 1 || not_ok "ADD pod on node$k" "$(cat "$RST_TMP/cni.out" "$RST_TMP/cni.err")"
done
P2=$(ip -n "$(ns n2p1)" -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1)
P1=$(ip -n "$(ns n1p1)" -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1)

for k in 1 2; do
	check "node$k (no bridge.mtu): cni0 has the uplink's mtu 9000 (got $(link_mtu "$(ns "n$k")" cni0))" \
		test "$(link_mtu "$(ns "n$k")" cni0)" = 9000
	check "node$k: the pod's eth0 has mtu 9000 (got $(link_mtu "$(ns "n${k}p1")" eth0))" \
		test "$(link_mtu "$(ns "n${k}p1")" eth0)" = 9000
	check "node$k: the log names where the mtu came from" \
		log_has "$k" "bridge: mtu 9000, as 'eth0', the interface of node.address 172.31.0.1$k"
done
pod_ns_add 1 2
if cni 1 ADD pod-1-2 eth0 "/run/netns/$(ns n1p2)" "$(netconf 1 1.1.0)"; then
	check "node1: the CNI 1.1.0 result gives the pod's eth0 mtu 9000" \
		jq -e '.interfaces[] | select(.sandbox) | .mtu == 9000' "$RST_TMP/cni.out"
else
	not_ok "ADD (CNI 1.1.0) pod 2 on node1" "$(cat "$RST_TMP/cni.out" "$RST_TMP/cni.err")"
fi
check "pod $P1 -> pod $P2 across nodes: ping -M do -s 8972 (9000-byte DF packets)" \
	ip netns exec "$(ns n1p1)" ping -c 3 -i 0.2 -W 2 -M do -s 8972 "$P2"
check "pod $P2 -> pod $P1: ping -M do -s 8972" \
	ip netns exec "$(ns n2p1)" ping -c 3 -i 0.2 -W 2 -M do -s 8972 "$P1"
check "a 9001-byte DF packet does not leave the pod (the limit is the uplink's)" \
	bash -c "! ip netns exec $(ns n1p1) ping -c 1 -W 2 -M do -s 8973 $P2"
check "node3 (bridge.mtu = 1400): cni0 keeps 1400 (got $(link_mtu "$(ns n3)" cni0))" \
	test "$(link_mtu "$(ns n3)" cni0)" = 1400
check "node3: the pod's eth0 has mtu 1400" test "$(link_mtu "$(ns n3p1)" eth0)" = 1400

# The uplink's MTU changes; a reload follows it (new pods get it).
ip -n "$(ns n1)" link set eth0 mtu 4000
kill -HUP "$(roostd_pid 1)"
check "node1: uplink mtu 4000 + SIGHUP: cni0 follows to 4000" \
	wait_until 15 bash -c "[ \"\$(ip -n $(ns n1) -o link show cni0 | sed -n 's/.* mtu \([0-9]*\) .*/\1/p')\" = 4000 ]"
if pod_add 1 3; then
	check "node1: a pod added after the reload has mtu 4000" \
		test "$(link_mtu "$(ns n1p3)" eth0)" = 4000
else
	not_ok "ADD pod 3 on node1 after the reload" "$(cat "$RST_TMP/cni.out" "$RST_TMP/cni.err")"
fi

rst_finish
