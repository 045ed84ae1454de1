#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# rollout.sh - the DaemonSet's rolling update (README, "Deploying on
# Kubernetes": updateStrategy RollingUpdate, maxUnavailable 1) as the
# container runtime carries it out, on a three-node mesh under 10 ms pings
# between pods of every node: one node at a time, roostd - PID 1 of its
# container (a PID and mount namespace of its own, as without hostPID) - gets
# SIGTERM and exits; BIRD, in the same container, dies with it (SIGKILL, as
# the kernel ends a PID namespace), so its peers keep the node's routes
# (graceful restart) and its kernel keeps every route it had; the new
# container's roostd starts BIRD with -R; the next node goes only once
# `roostctl ready` (the readinessProbe) says this one routes. No ping is lost.
. "$(dirname "$0")/lib.sh"
# A container's unshare ignores SIGTERM while it waits: cleanup stops the
# roostd inside each container, and the container ends with it.
rollout_cleanup() {
	local f
	for f in "$RST_TMP"/n*/container.pid; do
		[ -s "$f" ] && kill_ours TERM "$(container_roostd "$(cat "$f")")"
	done
	topo_cleanup
}
trap rollout_cleanup EXIT

ROOSTCTL=$top_builddir/agent/roostctl
# container_roostd U: the roostd that unshare U runs (once unshare's child
# has exec'd it; unshare may have a short-lived helper child before).
container_roostd() {
	local c
	for c in $(cat "/proc/$1/task/$1/children" 2>/dev/null); do
		[ "$(cat "/proc/$c/comm" 2>/dev/null)" = roostd ] && { echo "$c"; return 0; }
	done
	return 1
}
# container_start K: nK's roostd as the first process of a new container.
container_start() {
	local k=$1 d=$RST_TMP/n$1 u
	ip netns exec "$(ns "n$k")" unshare --mount --pid --fork --mount-proc --kill-child=KILL \
		"$ROOSTD" -c "$d/roostd.conf" >>"$d/roostd.log" 2>&1 &
	u=$!
	RST_PIDS+=("$u")
	echo "$u" >"$d/container.pid"
	wait_until 5 container_roostd "$u"
	container_roostd "$u" >"$d/roostd.pid"
	RST_PIDS+=("$(cat "$d/roostd.pid")")
}
# container_stop K: what the kubelet does to the old pod: SIGTERM to the
# container's first process, then wait for the container to be gone.
container_stop() {
	local d=$RST_TMP/n$1 u
	u=$(cat "$d/container.pid")
	kill_ours TERM "$(cat "$d/roostd.pid")"
	wait_until 30 bash -c "! kill -0 $u 2>/dev/null"
}
# bird_host_pid K: BIRD's pid as this machine sees it (its pid file holds
# the one in the container's PID namespace): the child of nK's roostd
# (of whichever of its threads started it).
bird_host_pid() {
	local r
	r=$(cat "$RST_TMP/n$1/roostd.pid")
	cat /proc/"$r"/task/*/children 2>/dev/null | awk '{print $1; exit}'
}
ready() { "$ROOSTCTL" -s "$RST_TMP/n$1/roostd.sock" ready >/dev/null 2>&1; }
bird_routes_n() { ip -n "$(ns "n$1")" route show proto bird | grep -c .; }

fabric_up
for k in 1 2 3; do
	node_add "$k"
	node_conf "$k" 3
	container_start "$k"
done
mesh_wait 3
for k in 1 2 3; do
	check "node$k: roostd (PID 1 of its container) routes: roostctl ready" wait_until 30 ready "$k"
done
declare -A POD
for k in 1 2 3; do
	pod_add "$k" 1
	POD[$k]=$POD_IP
done
check "pods on node1, node2 and node3 reach each other" \
	bash -c "$(declare -f pod_ping ns); RST_PREFIX=$RST_PREFIX
		pod_ping 1 1 ${POD[2]} && pod_ping 2 1 ${POD[3]} && pod_ping 3 1 ${POD[1]}"

# Pings between pods of every pair of nodes, both ways, for the whole rollout.
pings=()
for k in 1 2 3; do
	for j in 1 2 3; do
		[ "$j" = "$k" ] && continue
		ip netns exec "$(ns "n${k}p1")" ping -q -i 0.01 -W 1 "${POD[$j]}" \
			>"$RST_TMP/ping-$k-$j.txt" 2>&1 &
		pings+=("$!")
		RST_PIDS+=("$!")
	done
done
started() { [ "$(grep -c . /proc/"$1"/status 2>/dev/null)" -gt 0 ]; }
for p in "${pings[@]}"; do wait_until 5 started "$p"; done

for k in 1 2 3; do
	t0=$(now_ms)
	before=$(bird_routes_n "$k")
	old_bird=$(bird_host_pid "$k")
	check "node$k: BIRD runs in roostd's container (pid ${old_bird:-none})" \
		bash -c "[ -n '$old_bird' ] && tr '\\0' ' ' </proc/$old_bird/cmdline | grep -q '$RST_TMP/n$k/'"
	container_stop "$k"
	check "node$k: the old container is gone, and its BIRD with it" \
		bash -c "[ -n '$old_bird' ] && ! kill -0 $old_bird 2>/dev/null"
	check "node$k: its kernel still has the $before routes BIRD installed" \
		test "$(bird_routes_n "$k")" -eq "$before"
	container_start "$k"
	check "node$k: the new container's roostd starts BIRD with -R" \
		wait_until 10 bash -c "p=\$(cat /proc/$(cat "$RST_TMP/n$k/roostd.pid")/task/*/children 2>/dev/null | awk '{print \$1; exit}');
			[ -n \"\$p\" ] && tr '\\0' ' ' </proc/\$p/cmdline | grep -q -- ' -R '"
	# maxUnavailable 1: the next node only once this one is Ready
	check "node$k: ready again (the readinessProbe: roostctl ready)" wait_until 60 ready "$k"
	measure "node$k: SIGTERM to ready again $(($(now_ms) - t0)) ms"
done
for k in 1 2 3; do
	check "node$k: every BGP session Established after the rollout" \
		wait_until 30 bash -c "$(declare -f birdc_n established bgp_protocols); BIRDC=$BIRDC RST_TMP=$RST_TMP
			for p in \$(bgp_protocols $k); do established $k \$p || exit 1; done"
done
for p in "${pings[@]}"; do kill -INT "$p" 2>/dev/null; done
for p in "${pings[@]}"; do wait "$p" 2>/dev/null; done
for k in 1 2 3; do
	for j in 1 2 3; do
		[ "$j" = "$k" ] && continue
		f=$RST_TMP/ping-$k-$j.txt
		sent=$(grep -oE '[0-9]+ packets transmitted' "$f" | cut -d' ' -f1)
		got=$(grep -oE '[0-9]+ received' "$f" | cut -d' ' -f1)
		measure "pod on node$k to pod on node$j across the rollout: ${sent:-?} sent, ${got:-?} received"
		check "pod on node$k to pod on node$j: no ping lost (${got:-?} of ${sent:-?})" \
			test -n "$sent" -a "$sent" = "${got:-x}"
	done
done
rst_finish
