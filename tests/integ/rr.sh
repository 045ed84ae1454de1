#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# rr.sh - route reflection: two roostd reflectors (node1, node2; meshed with
# each other) and five client nodes (node3..node7) with one pod each. Clients
# peer only with the reflectors; every pod reaches every other; reflected
# routes keep the originating node as next hop; reflector 1's BIRD killed -9
# loses no ping between pods. Then the same clients behind an external
# reflector (gobgpd) instead.
. "$(dirname "$0")/lib.sh"
trap topo_cleanup EXIT

CLIENTS="3 4 5 6 7"
RRS='route_reflectors = ( { name = "rr1"; address = "172.31.0.11"; },
                          { name = "rr2"; address = "172.31.0.12"; } );'

fabric_up
for k in 1 2 $CLIENTS; do
	node_add "$k"
done
topo_conf 1 'reflector = { clients = "172.31.0.0/24"; cluster_id = "172.31.0.11"; };
	mesh = ( { name = "node2"; address = "172.31.0.12"; } );'
topo_conf 2 'reflector = { clients = "172.31.0.0/24"; cluster_id = "172.31.0.12"; };
	mesh = ( { name = "node1"; address = "172.31.0.11"; } );'
# Reflector 2 has no pods at all: no node.pod_cidr, no bridge, no pool.
sed -i 's| pod_cidr = "10.244.2.0/24";||' "$RST_TMP/n2/roostd.conf"
for k in $CLIENTS; do
	topo_conf "$k" "$RRS"
done
for k in 1 2 $CLIENTS; do
	roostd_start "$k"
done
for k in 1 2 $CLIENTS; do
	wait_until 15 test -S "$RST_TMP/n$k/roostd.sock"
done

# every client's kernel has every other client's /24 via that client
all_routes() {
	local k j
	for k in $CLIENTS; do
		for j in $CLIENTS; do
			[ "$j" = "$k" ] || kernel_route "$k" "10.244.$j.0/24" "172.31.0.$((10 + j))" || return 1
		done
	done
}
t0=$(now_ms)
if wait_until 45 all_routes; then
	measure "RR: start -> every client has the 4 other clients' /24s: $(($(now_ms) - t0)) ms"
fi
check "RR: every client kernel has every other client's /24 via the client itself" all_routes
check "RR: reflector 2 runs without pods: no cni0, no pool, says so" \
	bash -c "! ip -n $(ns n2) link show cni0 >/dev/null 2>&1 &&
		grep -q 'no node.pod_cidr, so no pods' $RST_TMP/n2/roostd.log &&
		'$top_builddir/agent/roostctl' -s $RST_TMP/n2/roostd.sock -o json status |
			jq -e '.node.pod_cidr == \"none\" and .pool.size == 0' >/dev/null"

# ---- sessions: clients talk to the reflectors only ----------------------------------
for k in $CLIENTS; do
	got=$(bgp_protocols "$k" | tr '\n' ' ')
	check "RR: node$k's BGP protocols are rr_rr1 and rr_rr2 only ($got)" \
		test "$got" = "rr_rr1 rr_rr2 "
done
check "RR: node3 rr_rr1 and rr_rr2 Established" \
	bash -c "$(declare -f established birdc_n); BIRDC=$BIRDC RST_TMP=$RST_TMP; established 3 rr_rr1 && established 3 rr_rr2"
clients_up() {
	[ "$(birdc_n "$1" show protocols | grep -cE '^client_[0-9]+ +BGP .* Established')" -eq 5 ]
}
check "RR: reflector 1 has 5 Established client_* sessions" wait_until 15 clients_up 1
check "RR: reflector 2 has 5 Established client_* sessions" wait_until 15 clients_up 2
check "RR: the reflectors mesh with each other (node_node2 on node1)" wait_until 15 established 1 node_node2

# ---- reflected routes keep the originator as next hop ---------------------------------
check "RR: node3 show route 10.244.4.0/24: via 172.31.0.14 (node4), not a reflector" \
	bash -c "$BIRDC -s $RST_TMP/n3/bird.ctl show route 10.244.4.0/24 | grep -q 'via 172.31.0.14 on eth0' &&
		! $BIRDC -s $RST_TMP/n3/bird.ctl show route 10.244.4.0/24 | grep -qE 'via 172.31.0.1[12] '"
check "RR: node3 show route all 10.244.4.0/24: BGP.originator_id 172.31.0.14, BGP.cluster_list" \
	bash -c "$BIRDC -s $RST_TMP/n3/bird.ctl show route all 10.244.4.0/24 > $RST_TMP/sr.txt;
		grep -q 'BGP.originator_id: 172.31.0.14' $RST_TMP/sr.txt &&
		grep -q 'BGP.cluster_list: 172.31.0.1[12]' $RST_TMP/sr.txt &&
		grep -q 'BGP.next_hop: 172.31.0.14' $RST_TMP/sr.txt"
check "RR: reflector 1's kernel has node5's /24 via node5" kernel_route 1 10.244.5.0/24 172.31.0.15

# ---- one pod per client; every pod pings every other -----------------------------------
declare -A IP
for k in $CLIENTS; do
	if pod_add "$k" 1; then
		IP[$k]=$POD_IP
	else
		not_ok "RR: ADD pod on node$k" "$(cat "$RST_TMP/cni.out" "$RST_TMP/cni.err")"
		IP[$k]=none
	fi
done
all_pods_ping() {
	local a b
	fails=()
	for a in $CLIENTS; do
		for b in $CLIENTS; do
			[ "$a" = "$b" ] || pod_ping "$a" 1 "${IP[$b]}" || fails+=("pod on node$a -> ${IP[$b]}")
		done
	done
	[ ${#fails[@]} -eq 0 ]
}
if all_pods_ping; then
	ok "RR: every pod pings every other pod (20 pairs over 5 clients)"
else
	not_ok "RR: every pod pings every other pod" "${fails[@]}"
fi

# ---- reflector 1's BIRD killed -9: a 10 ms ping between two clients' pods --------------
ip netns exec "$(ns n3p1)" ping -q -i 0.01 -w 20 "${IP[4]}" >"$RST_TMP/ping-rr.txt" 2>&1 &
ping_pid=$!
wait_until 5 test -d "/proc/$ping_pid"
old=$(bird_pid 1)
kill -KILL "$old"
t0=$(now_ms)
restarted=""
while [ $(($(now_ms) - t0)) -lt 15000 ]; do
	new=$(bird_pid 1)
	if [ -n "$new" ] && [ "$new" != "$old" ] && ours "$new"; then
		restarted=$(($(now_ms) - t0))
		break
	fi
	sleep 0.05
done
check "RR: reflector 1's BIRD restarted by roostd (in ${restarted:-?} ms)" test -n "$restarted"
wait "$ping_pid"
measure "RR: reflector 1 BIRD kill -9, ping pod node3 -> pod node4 every 10 ms: $(grep -E 'packets transmitted' "$RST_TMP/ping-rr.txt")"
check "RR: reflector 1 killed: 0% loss between pods on node3 and node4" \
	grep -q ' 0% packet loss' "$RST_TMP/ping-rr.txt"
check "RR: reflector 1 back: node3 rr_rr1 Established again" \
	wait_until 30 bash -c "$BIRDC -s $RST_TMP/n3/bird.ctl show protocols | grep -Eq '^rr_rr1 .* Established'"
check "RR: after the restart every client still has every /24" all_routes

# ---- an external reflector: gobgpd --------------------------------------------------------
if ! command -v gobgpd >/dev/null; then
	not_ok "RR: gobgpd is installed (apt-get install gobgpd)"
	rst_finish
	exit
fi
aux_add gobgp 172.31.0.4
G="$RST_TMP/gobgp"
{
	cat <<GEOF
[global.config]
  as = 64512
  router-id = "172.31.0.4"
  local-address-list = ["172.31.0.4"]
GEOF
	for k in $CLIENTS; do
		cat <<GEOF
[[neighbors]]
  [neighbors.config]
    neighbor-address = "172.31.0.$((10 + k))"
    peer-as = 64512
  [neighbors.route-reflector.config]
    route-reflector-client = true
    route-reflector-cluster-id = "172.31.0.4"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
GEOF
	done
} >"$G/gobgpd.toml"
aux_bg gobgp "$G/gobgpd.log" gobgpd -t toml -f "$G/gobgpd.toml" --api-hosts 127.0.0.1:50051 --pprof-disable
for k in $CLIENTS; do
	topo_conf "$k" 'route_reflectors = ( { name = "gobgp"; address = "172.31.0.4"; } );'
	kill -HUP "$(roostd_pid "$k")"
done
gobgp_only() {
	local k
	for k in $CLIENTS; do
		[ "$(bgp_protocols "$k" | tr '\n' ' ')" = "rr_gobgp " ] || return 1
		established "$k" rr_gobgp || return 1
	done
}
check "gobgpd RR: every client has only rr_gobgp, Established" wait_until 30 gobgp_only
gobgp_routes() {
	local k j
	for k in $CLIENTS; do
		for j in $CLIENTS; do
			[ "$j" = "$k" ] && continue
			birdc_n "$k" show route "10.244.$j.0/24" protocol rr_gobgp |
				grep -q "via 172.31.0.$((10 + j)) on eth0" || return 1
		done
	done
}
check "gobgpd RR: every client learns every other client's /24 from rr_gobgp, next hop = the client" \
	wait_until 30 gobgp_routes
check "gobgpd RR: node3 kernel 10.244.6.0/24 via 172.31.0.16" kernel_route 3 10.244.6.0/24 172.31.0.16
check "gobgpd RR: gobgp's RIB has the five /24s" \
	bash -c "[ \$(ip netns exec $(ns gobgp) gobgp -u 127.0.0.1 global rib | grep -c '^\*> *10\.244\.') -eq 5 ]"
if all_pods_ping; then
	ok "gobgpd RR: every pod pings every other pod"
else
	not_ok "gobgpd RR: every pod pings every other pod" "${fails[@]}"
fi

rst_finish
