#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# pods.sh - the scenario roost exists for: pods on three nodes, attached by
# the roost CNI plugin, reach each other across nodes, routed by the nodes
# over the routes BIRD installed, with nothing encapsulated. Then every pod
# is deleted and nothing is left; then 50 parallel ADDs and DELs on a node.
. "$(dirname "$0")/lib.sh"

fabric_up
for k in 1 2 3; do
	node_add "$k"
	node_conf "$k" 3
	roostd_start "$k"
done
mesh_wait 3

# ---- two pods per node -------------------------------------------------------------
declare -A IP
for k in 1 2 3; do
	for j in 1 2; do
		pod_ns_add "$k" "$j"
		if cni "$k" ADD "pod-$k-$j" eth0 "/run/netns/$(ns "n${k}p$j")"; then
			IP[$k$j]=$(jq -r '.ips[0].address' "$RST_TMP/cni.out" | cut -d/ -f1)
			ok "ADD pod-$k-$j on node$k: ${IP[$k$j]}"
		else
			not_ok "ADD pod-$k-$j on node$k" "$(cat "$RST_TMP/cni.out" "$RST_TMP/cni.err")"
			IP[$k$j]=none
		fi
	done
done

for k in 1 2 3; do
	p=$(ns "n${k}p1")
	check "pod-$k-1 address is in node$k's 10.244.$k.0/24" \
		bash -c "[[ ${IP[${k}1]} == 10.244.$k.* ]]"
	want="default via 10.244.$k.1 dev eth0
10.244.0.0/16 via 10.244.$k.1 dev eth0
10.244.$k.0/24 dev eth0 proto kernel scope link src ${IP[${k}1]}"
	got=$(ip -n "$p" route show | sed 's/ *$//')
	if [ "$got" = "$want" ]; then
		ok "pod-$k-1 routing table is default + cluster /16 via 10.244.$k.1 + its /24"
	else
		not_ok "pod-$k-1 routing table is default + cluster /16 via 10.244.$k.1 + its /24" \
			"want:" "$want" "got:" "$got"
	fi
	check "pod-$k-1 host veth is a port of cni0 with hairpin on" \
		bash -c "ip -n $(ns "n$k") -d link show master cni0 | grep -q 'hairpin on'"
done

# ---- every pod pings every other pod -------------------------------------------------
fails=()
pairs=0
for a in 11 12 21 22 31 32; do
	for b in 11 12 21 22 31 32; do
		[ "$a" = "$b" ] && continue
		pairs=$((pairs + 1))
		ip netns exec "$(ns "n${a:0:1}p${a:1:1}")" ping -c 1 -W 2 "${IP[$b]}" >/dev/null 2>&1 ||
			fails+=("pod-${a:0:1}-${a:1:1} -> ${IP[$b]}")
	done
done
if [ ${#fails[@]} -eq 0 ]; then
	ok "every pod pings every other pod ($pairs pairs, same node and across nodes)"
else
	not_ok "every pod pings every other pod" "${fails[@]}"
fi

# ---- a capture on the fabric shows the pods' own addresses ---------------------------
cap="$RST_TMP/fabric.pcap"
ip netns exec "$(ns fab)" tcpdump -Z root --immediate-mode -c 6 -i br0 -n -U -w "$cap" icmp >"$RST_TMP/tcpdump.out" 2>&1 &
tcpdump_pid=$!
RST_PIDS+=("$tcpdump_pid")
wait_until 10 grep -q "listening on" "$RST_TMP/tcpdump.out"
ip netns exec "$(ns n1p1)" ping -c 3 -i 0.2 -W 2 "${IP[21]}" >/dev/null 2>&1
wait_until 10 bash -c "! kill -0 $tcpdump_pid 2>/dev/null" || kill -INT "$tcpdump_pid"
wait "$tcpdump_pid" 2>/dev/null
tcpdump -n -r "$cap" >"$RST_TMP/capture.txt" 2>&1
check "fabric capture: ICMP echo ${IP[11]} > ${IP[21]} carried as is (no encapsulation)" \
	grep -q "IP ${IP[11]} > ${IP[21]}: ICMP echo request" "$RST_TMP/capture.txt"
check "fabric capture: the reply ${IP[21]} > ${IP[11]} carried as is" \
	grep -q "IP ${IP[21]} > ${IP[11]}: ICMP echo reply" "$RST_TMP/capture.txt"
check "fabric capture: 6 packets seen, none of them UDP (VXLAN) or IP-in-IP" \
	bash -c "[ \$(grep -c ' ICMP echo ' $RST_TMP/capture.txt) -ge 6 ] &&
		! grep -Eq 'VXLAN|UDP|ipip|proto 4 ' $RST_TMP/capture.txt"

# ---- DEL of every pod leaves nothing ---------------------------------------------------
for k in 1 2 3; do
	for j in 1 2; do
		cni "$k" DEL "pod-$k-$j" eth0 "/run/netns/$(ns "n${k}p$j")" ||
			not_ok "DEL pod-$k-$j" "$(cat "$RST_TMP/cni.out")"
	done
	check "node$k after DEL of its pods: no host veth left" wait_until 5 host_veths_are "$k" 0
	check "node$k after DEL of its pods: no address allocated" test "$(pool_used "$k")" = 0
done
check "pod-1-1 after DEL: its eth0 is gone" \
	bash -c "! ip -n $(ns n1p1) link show eth0 >/dev/null 2>&1"

# ---- 50 ADDs in parallel on one node, then 50 DELs -----------------------------------------
for i in $(seq 1 50); do
	ns_add "n1q$i"
done
t0=$(now_ms)
for i in $(seq 1 50); do
	(
		out=$(printf '%s' "$(netconf 1)" | ip netns exec "$(ns n1)" env -i \
			CNI_COMMAND=ADD CNI_CONTAINERID="par-$i" CNI_IFNAME=eth0 \
			CNI_NETNS="/run/netns/$(ns "n1q$i")" "$ROOST_CNI" 2>&1)
		echo "$? $(jq -r '.ips[0].address // .msg' <<<"$out" 2>/dev/null)" >"$RST_TMP/par-$i"
	) &
done
wait_until 60 bash -c "[ \$(ls $RST_TMP/par-* 2>/dev/null | wc -l) = 50 ]"
measure "50 parallel ADDs on node1: $(($(now_ms) - t0)) ms"
errors=$(cat "$RST_TMP"/par-* | grep -vc '^0 ' || true)
distinct=$(cat "$RST_TMP"/par-* | grep '^0 ' | awk '{print $2}' | sort -u | wc -l)
check "50 parallel ADDs: no error" test "$errors" = 0
check "50 parallel ADDs: 50 distinct addresses ($distinct)" test "$distinct" = 50
check "50 parallel ADDs: pool holds 50" test "$(pool_used 1)" = 50
rm -f "$RST_TMP"/par-*
for i in $(seq 1 50); do
	(
		printf '%s' "$(netconf 1)" | ip netns exec "$(ns n1)" env -i CNI_COMMAND=DEL \
			CNI_CONTAINERID="par-$i" CNI_IFNAME=eth0 CNI_NETNS="/run/netns/$(ns "n1q$i")" \
			"$ROOST_CNI" >/dev/null 2>&1
		echo $? >"$RST_TMP/par-$i"
	) &
done
wait_until 60 bash -c "[ \$(ls $RST_TMP/par-* 2>/dev/null | wc -l) = 50 ]"
check "50 parallel DELs: all succeed" test "$(cat "$RST_TMP"/par-* | grep -vc '^0$' || true)" = 0
check "50 parallel DELs: pool back to full (0 allocated)" test "$(pool_used 1)" = 0
check "50 parallel DELs: no host veth left" wait_until 5 host_veths_are 1 0

rst_finish
