#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ops.sh - the operator's view: roostctl status, pods and audit on a
# three-node cluster, in table and JSON; audit catches injected drift (a
# kernel route deleted, a stray proto bird route, a peer stopped, routes
# filtered by import policy); routes left behind for a node no longer
# configured are swept when roostd and BIRD start again.
. "$(dirname "$0")/lib.sh"

ROOSTCTL=${ROOSTCTL:-$top_builddir/agent/roostctl}
ctl() {
	local k=$1
	shift
	"$ROOSTCTL" -s "$RST_TMP/n$k/roostd.sock" "$@" >"$RST_TMP/ctl.out" 2>&1
}

fabric_up
for k in 1 2 3; do
	node_add "$k"
	node_conf "$k" 3
done
# node2 also writes a node_exporter textfile.
sed -i "s|log_level = \"debug\";|log_level = \"debug\"; metrics_textfile = \"$RST_TMP/n2/metrics.prom\";|" \
	"$RST_TMP/n2/roostd.conf"
for k in 1 2 3; do
	roostd_start "$k"
done
mesh_wait 3
pod_ns_add 1 1
pod_ns_add 1 2
cni 1 ADD ops-a eth0 "/run/netns/$(ns n1p1)"
cni 1 ADD ops-b eth0 "/run/netns/$(ns n1p2)"
wait_until 15 ctl 1 status

# ---- status -----------------------------------------------------------------------------
check "roostctl status on a healthy node: exit 0" ctl 1 status
cp "$RST_TMP/ctl.out" "$RST_TMP/status.txt"
sed 's/^/# | /' "$RST_TMP/status.txt"
check "status table: node line" grep -q '^node      node1 (172.31.0.11), AS 64512$' "$RST_TMP/status.txt"
check "status table: pool 2 of 253" grep -q 'pool 2 of 253 addresses used' "$RST_TMP/status.txt"
check "status table: node_node2 mesh 172.31.0.12 Established, BFD Up, 1 imported" \
	grep -Eq '^node_node2 +mesh +172\.31\.0\.12 +64512 +Established +[0-9:.]+ +Up +1 +1 +0$' \
	"$RST_TMP/status.txt"
check "status table: healthy line" grep -q '^healthy: ' "$RST_TMP/status.txt"
check "roostctl -o json status: exit 0" ctl 1 -o json status
J=$RST_TMP/status.json
cp "$RST_TMP/ctl.out" "$J"
check "status json: node name, address, pod_cidr, cluster_cidr, asn" \
	jq -e '.node == {"name":"node1","address":"172.31.0.11","pod_cidr":"10.244.1.0/24",
		"cluster_cidr":"10.244.0.0/16","asn":64512}' "$J"
check "status json: pool size 253, used 2" jq -e '.pool == {"size":253,"used":2}' "$J"
check "status json: config hash is the one in bird.conf's header (passwords blanked)" \
	jq -e --arg h "$(sed -n 's/^# Source: .* (sha256 \([0-9a-f]*\))$/\1/p' "$RST_TMP/n1/bird.conf")" \
	'.config.sha256 == $h and ($h | length) == 64' "$J"
check "status json: config hash is not the SHA-256 of roostd.conf's bytes" \
	jq -e --arg h "$(sha256sum "$RST_TMP/n1/roostd.conf" | cut -d' ' -f1)" '.config.sha256 != $h' "$J"
check "status json: BIRD running, pid from its pid file, version 2.x" \
	jq -e --argjson pid "$(bird_pid 1)" '.bird.running and .bird.pid == $pid and
		(.bird.version | startswith("2."))' "$J"
check "status json: two mesh sessions, both Established with BFD Up" \
	jq -e '[.sessions[] | select(.kind == "mesh" and .state == "Established" and .bfd == "Up")]
		| length == 2' "$J"
check "status json: session fields" \
	jq -e '.sessions[] | select(.name == "node_node3") | .address == "172.31.0.13" and
		.asn == 64512 and .imported == 1 and .exported == 1 and .filtered == 0' "$J"
check "status json: healthy" jq -e '.healthy == true' "$J"

# ---- pods --------------------------------------------------------------------------------
check "roostctl pods: exit 0" ctl 1 pods
check "pods table: ops-a with its address and host veth" \
	grep -Eq '^10\.244\.1\.[0-9]+ +ops-a +eth0 +veth[0-9a-f]{11} ' "$RST_TMP/ctl.out"
check "roostctl -o json pods: two pods, fields" ctl 1 -o json pods
check "pods json: container ids, ifnames, addresses match the CNI results" \
	jq -e '[.pods[].container_id] == ["ops-a","ops-b"] and all(.pods[]; .ifname == "eth0" and
		(.address | startswith("10.244.1.")) and (.host_veth | test("^veth[0-9a-f]{11}$")))
		and .pool_used == 2' "$RST_TMP/ctl.out"

# ---- audit on a healthy cluster -------------------------------------------------------------
check "roostctl audit on a healthy cluster: exit 0" ctl 1 audit
check "audit: says BIRD, kernel and configuration agree" grep -q 'agree' "$RST_TMP/ctl.out"
check "roostctl -o json audit: no drift, 2 routes checked" ctl 1 -o json audit
check "audit json: drift empty, checked 2" jq -e '.drift == [] and .checked == 2' "$RST_TMP/ctl.out"

# ---- metrics ---------------------------------------------------------------------------------
scrape() {
	ip netns exec "$(ns n1)" curl -sf --max-time 5 "http://127.0.0.1:9638$1" >"$RST_TMP/metrics.txt"
}
check "metrics: GET /metrics on 127.0.0.1:9638 answers" scrape /metrics
M=$RST_TMP/metrics.txt
check "metrics: both mesh sessions up, labelled with name, kind, address" \
	bash -c "grep -q '^roost_bgp_session_up{name=\"node_node2\",kind=\"mesh\",address=\"172.31.0.12\"} 1$' $M &&
		grep -q '^roost_bgp_session_up{name=\"node_node3\",kind=\"mesh\",address=\"172.31.0.13\"} 1$' $M"
check "metrics: sessions by state match status (2 Established)" \
	grep -q '^roost_bgp_sessions{state="Established"} 2$' "$M"
check "metrics: routes per session (node_node2 imported 1)" \
	grep -q '^roost_bgp_session_routes{name="node_node2",direction="imported"} 1$' "$M"
check "metrics: pods 2, pool size 253, used 2 (as status says)" \
	bash -c "grep -q '^roost_pods 2$' $M && grep -q '^roost_pool_size 253$' $M &&
		grep -q '^roost_pool_used 2$' $M"
check "metrics: BIRD up, started once" \
	bash -c "grep -q '^roost_bird_up 1$' $M && grep -q '^roost_bird_starts_total 1$' $M"
check "metrics: 2 successful CNI ADDs counted, with a latency histogram" \
	bash -c "grep -q '^roost_cni_requests_total{verb=\"ADD\",result=\"ok\"} 2$' $M &&
		grep -q '^roost_cni_request_duration_seconds_count{verb=\"ADD\"} 2$' $M &&
		grep -q '^roost_cni_request_duration_seconds_bucket{verb=\"ADD\",le=\"+Inf\"} 2$' $M"
check "metrics: every series has HELP and TYPE" \
	bash -c "[ \$(grep -c '^# TYPE ' $M) = \$(grep -c '^# HELP ' $M) ] && [ \$(grep -c '^# TYPE ' $M) -ge 10 ]"
check "metrics: another path is 404" bash -c "! ip netns exec $(ns n1) curl -sf --max-time 5 http://127.0.0.1:9638/"
check "metrics: node2's textfile written with its sessions" \
	wait_until 20 grep -q '^roost_bgp_session_up{name="node_node1",kind="mesh",address="172.31.0.11"} 1$' \
	"$RST_TMP/n2/metrics.prom"
sed -n '/roost_bgp_sessions/,/roost_pool_used [0-9]/p' "$M" | grep -v '^#' | sed 's/^/# | /'

# audit_finds KIND PREFIX DESC: audit exits 1 and lists a drift of KIND for PREFIX.
audit_finds() {
	local kind=$1 prefix=$2 desc=$3
	ctl 1 -o json audit
	local rc=$?
	if [ $rc = 1 ] && jq -e --arg k "$kind" --arg p "$prefix" \
		'any(.drift[]; .kind == $k and (.prefix == $p or $p == ""))' "$RST_TMP/ctl.out" >/dev/null; then
		ok "audit: $desc -> $kind, exit 1"
	else
		not_ok "audit: $desc -> $kind, exit 1" "exit $rc" "$(cat "$RST_TMP/ctl.out")"
	fi
}

N1=$(ns n1)
ip -n "$N1" route del 10.244.2.0/24 proto bird
audit_finds missing 10.244.2.0/24 "kernel route deleted by hand"
ctl 1 audit
sed 's/^/# | /' "$RST_TMP/ctl.out"
ip -n "$N1" route add 10.244.2.0/24 via 172.31.0.12 dev eth0 proto bird metric 33
check "audit clean again after the route is back" ctl 1 audit

ip -n "$N1" route add 10.244.99.0/24 via 172.31.0.12 dev eth0 proto bird metric 33
audit_finds extra 10.244.99.0/24 "stray proto bird route added by hand"
ip -n "$N1" route del 10.244.99.0/24 proto bird

kill -TERM "$(roostd_pid 3)"
birdc_n 3 down >/dev/null
wait_until 15 bash -c "! $BIRDC -s $RST_TMP/n1/bird.ctl show protocols | grep -q 'node_node3.*Established'"
audit_finds missing "" "peer node3 stopped (announces nothing)"
ctl 1 status
rc=$?
check "status with node3 stopped: exit 1 and says node_node3 is not Established" \
	bash -c "[ $rc = 1 ] && grep -q 'NOT healthy:.*node_node3 is' $RST_TMP/ctl.out"
check "ready with node3 stopped: node1 still routes through node2 (exit 0)" ctl 1 ready
check "... and says why" grep -q "^ready: BIRD runs and this node's pod subnet is exported$" \
	"$RST_TMP/ctl.out"
check "node1's log: node_node3 went down, with BIRD's reason" \
	wait_until 5 log_has 1 'warning: session: down name=node_node3 kind=mesh address=172.31.0.13 state=[A-Za-z]+ reason="[^"]+"'
roostd_start 3
check "node3 back: node1's audit clean again" \
	wait_until 30 bash -c "'$ROOSTCTL' -s $RST_TMP/n1/roostd.sock audit >/dev/null"
# node1 logged node_node3 up once at the start; the second line is the return.
check "node1's log: node_node3 up again" \
	wait_until 5 bash -c "[ \$(grep -Ec 'info: session: up name=node_node3 kind=mesh address=172.31.0.13 was=[A-Za-z]+\$' $RST_TMP/n1/roostd.log) -ge 2 ]"
grep -E 'session: (down|up) name=node_node3' "$RST_TMP/n1/roostd.log" | sed 's/^/# | /'
scrape /metrics
check "metrics: the watcher counted node_node3's down and up (transitions down=1, up=3)" \
	bash -c "grep -q '^roost_bgp_session_transitions_total{to=\"down\"} 1$' $M &&
		grep -q '^roost_bgp_session_transitions_total{to=\"up\"} 3$' $M"

# ---- ready: not while no session carries this node's subnet ------------------------------------
birdc_n 1 disable node_node2 >/dev/null
birdc_n 1 disable node_node3 >/dev/null
ctl 1 ready
rc=$?
check "ready with every session of node1 disabled: exit 1, saying why" \
	bash -c "[ $rc = 1 ] && grep -q '^not ready: none of the 2 BGP session(s) is Established' $RST_TMP/ctl.out"
ctl 1 -o json ready
check "ready -o json: ready false with the reason" \
	jq -e '.ready == false and (.reason | test("none of the 2 BGP"))' "$RST_TMP/ctl.out"
birdc_n 1 enable node_node2 >/dev/null
birdc_n 1 enable node_node3 >/dev/null
check "sessions enabled again: ready (exit 0) once one is Established" wait_until 30 ctl 1 ready
both_back() {
	established 1 node_node2 && established 1 node_node3 &&
		kernel_route 1 10.244.2.0/24 172.31.0.12 && kernel_route 1 10.244.3.0/24 172.31.0.13
}
check "... both sessions back, both /24s in node1's kernel again" wait_until 30 both_back

# ---- stale route sweep: node3 leaves node1's config while node1 is down ------------------------
cni 1 DEL ops-a eth0 "/run/netns/$(ns n1p1)"
cni 1 DEL ops-b eth0 "/run/netns/$(ns n1p2)"
kill -TERM "$(roostd_pid 1)"
wait_until 10 bash -c "! kill -0 $(roostd_pid 1) 2>/dev/null"
kill -KILL "$(bird_pid 1)"
node_conf 1 2
check "node1 down, BIRD killed: the kernel still has node3's 10.244.3.0/24" \
	kernel_route 1 10.244.3.0/24 172.31.0.13
roostd_start 1
misses=0
swept=""
t0=$(now_ms)
while [ $(($(now_ms) - t0)) -lt 60000 ]; do
	kernel_route 1 10.244.2.0/24 172.31.0.12 || misses=$((misses + 1))
	if no_kernel_route 1 10.244.3.0/24; then
		swept=$(($(now_ms) - t0))
		break
	fi
	sleep 0.1
done
measure "stale 10.244.3.0/24 swept from node1's kernel ${swept:-never} ms after roostd started"
check "stale route of an unconfigured node swept after roostd and BIRD start" test -n "$swept"
check "... while 10.244.2.0/24 never left the kernel ($misses misses)" test "$misses" = 0

# ---- routes filtered by import policy: node1 misconfigured with /25 nodes ------------------------
kill -TERM "$(roostd_pid 1)"
wait_until 10 bash -c "! kill -0 $(roostd_pid 1) 2>/dev/null"
sed -i 's|pod_cidr = "10.244.1.0/24"|pod_cidr = "10.244.1.0/25"|' "$RST_TMP/n1/roostd.conf"
roostd_start 1
wait_until 15 roostd_ready 1
# BIRD re-evaluates node2's routes by a route refresh after the new import
# policy: meanwhile the /24 it accepted under the old one comes and goes
# (and is gone from the kernel). What an operator sees once that settled:
filtered_settled() {
	ctl 1 -o json audit
	[ $? = 1 ] && jq -e 'any(.drift[]; .kind == "filtered" and (.detail | startswith("node_node2"))) and
		all(.drift[]; .prefix != "10.244.2.0/24")' "$RST_TMP/ctl.out"
}
check "a node-size mismatch: audit reports node2's /24 as filtered, exit 1" \
	wait_until 15 filtered_settled
ctl 1 audit
sed 's/^/# | /' "$RST_TMP/ctl.out"

# ---- errors -------------------------------------------------------------------------------------------
"$ROOSTCTL" -s "$RST_TMP/nosuch.sock" status >"$RST_TMP/ctl.out" 2>&1
rc=$?
check "roostctl with no roostd: exit 3 and says so" \
	bash -c "[ $rc = 3 ] && grep -q 'roostd is not reachable' $RST_TMP/ctl.out"
"$ROOSTCTL" frobnicate >"$RST_TMP/ctl.out" 2>&1
check "roostctl with an unknown command: exit 2" test $? = 2

rst_finish
