#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# container.sh - roostd as a DaemonSet runs it: in a mount and PID
# namespace of its own (no hostPID, no view of the runtime's /run/netns).
# The CNI plugin opens CNI_NETNS itself and passes the namespace over the
# agent socket (SCM_RIGHTS), so both kinds of paths a runtime hands out
# work: /run/netns/<name> and /proc/<pid>/ns/net of a process roostd cannot
# see. ADD, CHECK and DEL each work, and leave nothing behind.
. "$(dirname "$0")/lib.sh"

fabric_up
node_add 1
node_conf 1 1
D=$RST_TMP/n1

# roostd in its own mount namespace with an empty /run/netns, and as PID 1
# of its own PID namespace with its own /proc (as in a container without
# hostPID). unshare stays as the parent; roostd's pid is its child.
ip netns exec "$(ns n1)" unshare --mount --pid --fork --mount-proc --kill-child=KILL \
	sh -c "mount -t tmpfs roost-test /run/netns && exec '$ROOSTD' -c '$D/roostd.conf'" \
	>>"$D/roostd.log" 2>&1 &
upid=$!
RST_PIDS+=("$upid")
child() { cat "/proc/$upid/task/$upid/children" 2>/dev/null | awk '{print $1}'; }
wait_until 5 bash -c "[ -n \"\$(cat /proc/$upid/task/$upid/children 2>/dev/null)\" ]"
rpid=$(child)
echo "$rpid" >"$D/roostd.pid"
RST_PIDS+=("$rpid")
ready() { grep -q 'info: ready:' "$D/roostd.log"; }
check "roostd in its own mount and PID namespace is ready" wait_until 20 ready

pod_ns_add 1 1
check "the pod namespace exists at /run/netns on the host" test -e "/run/netns/$(ns n1p1)"
check "... and roostd cannot see it there (its /run/netns is empty)" \
	bash -c "[ -z \"\$(ls -A /proc/$rpid/root/run/netns)\" ]"

# A pod namespace that has no name: held by a process, known by its pid.
# Its command line names our temp folder, so cleanup stops it.
: >"$RST_TMP/holder"
unshare --net -- tail -f "$RST_TMP/holder" &
hpid=$!
RST_PIDS+=("$hpid")
holder_ns() { [ "$(readlink "/proc/$hpid/ns/net")" != "$(readlink /proc/self/ns/net)" ]; }
check "a process holds an unnamed network namespace" wait_until 5 holder_ns
check "... which roostd cannot see: pid $hpid is not in its /proc" \
	bash -c "! nsenter -t $rpid -p -m test -e /proc/$hpid"

NS1=/run/netns/$(ns n1p1)
NS2=/proc/$hpid/ns/net
check "ADD with CNI_NETNS=/run/netns/<name>" cni 1 ADD c-named eth0 "$NS1"
cp "$RST_TMP/cni.out" "$RST_TMP/add-named.json"
a1=$(jq -r '.ips[0].address' "$RST_TMP/cni.out" | cut -d/ -f1)
check "... the result names that path as the sandbox" \
	jq -e --arg s "$NS1" '.interfaces[2].sandbox == $s' "$RST_TMP/cni.out"
check "... the pod has $a1 on eth0" \
	bash -c "ip -n $(ns n1p1) -br addr show eth0 | grep -q '$a1/'"
check "ADD with CNI_NETNS=/proc/<pid>/ns/net" cni 1 ADD c-pid eth0 "$NS2"
cp "$RST_TMP/cni.out" "$RST_TMP/add-pid.json"
a2=$(jq -r '.ips[0].address' "$RST_TMP/cni.out" | cut -d/ -f1)
check "... the pod has $a2 on eth0" \
	bash -c "nsenter -t $hpid -n ip -br addr show eth0 | grep -q '$a2/'"
check "... and its default route via the bridge" \
	bash -c "nsenter -t $hpid -n ip route show default | grep -q '^default via 10.244.1.1 dev eth0'"
check "the two pods reach each other" \
	bash -c "ip netns exec $(ns n1p1) ping -c 1 -W 2 $a2 >/dev/null"
# CHECK as a runtime sends it: the ADD result as prevResult.
check_with() {
	cni 1 CHECK "$1" eth0 "$2" "$(jq -c --arg s "$D/roostd.sock" \
		'{cniVersion:"1.0.0", name:"roost", type:"roost", agentSocket:$s, prevResult:.}' "$3")"
}
both() {
	check_with c-named "$NS1" "$RST_TMP/add-named.json" &&
		check_with c-pid "$NS2" "$RST_TMP/add-pid.json"
}
check "CHECK of both attachments" both
del_both() { cni 1 DEL c-named eth0 "$NS1" && cni 1 DEL c-pid eth0 "$NS2"; }
check "DEL of both" del_both
check "... eth0 is gone from the unnamed namespace" \
	wait_until 5 bash -c "! nsenter -t $hpid -n ip link show eth0 >/dev/null 2>&1"
check "... no roost veth is left on the node" wait_until 10 host_veths_are 1 0
check "... and the pool is empty" test "$(pool_used 1)" = 0

rst_finish
