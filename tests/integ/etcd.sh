#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# etcd.sh - the etcd datastore in flannel's layout (Debian's etcd-server, a
# three-member cluster in namespaces on the fabric): five nodes configured with only
# their name, address and the endpoint lease distinct /24s and learn each
# other; pods ping across; a restarted node gets its subnet back; a deleted
# lease takes that node's routes away everywhere; a flannel host-gw node's
# lease becomes a static route; subnet.env is flannel's; one etcd member
# killed: the agents carry on; all stopped: nothing changes but the status,
# and roostd resumes when etcd is back. Leases are untrusted input: bogus
# ones (outside the Network, wrong length, PublicIP 0.0.0.0 or the ToR's,
# a repeated address or name) reach no kernel and no BIRD config, and no
# roostd exits. A lease outlives its roostd: node3's roostd stopped for
# longer than the old 30 s TTL loses no packet and keeps its subnet.
. "$(dirname "$0")/lib.sh"
trap topo_cleanup EXIT

ROOSTCTL=${ROOSTCTL:-$top_builddir/agent/roostctl}
# A three-member etcd cluster, member I in namespace etcdI at 172.31.0.(4+I).
EPS='"http://172.31.0.5:2379", "http://172.31.0.6:2379", "http://172.31.0.7:2379"'
EP=http://172.31.0.5:2379,http://172.31.0.6:2379,http://172.31.0.7:2379
PFX=/coreos.com/network
N=5
declare -A ETCD_PID

etcdctl_() {
	ip netns exec "$(ns etcd1)" env ETCDCTL_API=3 etcdctl --endpoints "$EP" "$@"
}
etcd_start() { # etcd_start I
	local i=$1 a="172.31.0.$((4 + $1))"
	aux_bg "etcd$i" "$RST_TMP/etcd$i/etcd.log" etcd --name "e$i" --data-dir "$RST_TMP/etcd$i/data" \
		--listen-client-urls "http://$a:2379" --advertise-client-urls "http://$a:2379" \
		--listen-peer-urls "http://$a:2380" --initial-advertise-peer-urls "http://$a:2380" \
		--initial-cluster e1=http://172.31.0.5:2380,e2=http://172.31.0.6:2380,e3=http://172.31.0.7:2380 \
		--initial-cluster-state new
	ETCD_PID[$i]=$BG_PID
}
etcd_stop() { # etcd_stop I
	kill -TERM "${ETCD_PID[$1]}"
	wait "${ETCD_PID[$1]}" 2>/dev/null
}
etcd_healthy() { # etcd_healthy: a quorum answers
	etcdctl_ endpoint status >/dev/null 2>&1 && etcdctl_ get --prefix "$PFX" --keys-only >/dev/null 2>&1
}
# ds_conf K: nK knows only its name, address, the datastore (default lease
# TTL) and a ToR at 172.31.0.1 (which never answers here).
ds_conf() {
	local k=$1 d="$RST_TMP/n$1"
	cat >"$d/roostd.conf" <<EOF
node = { name = "node$k"; address = "172.31.0.$((10 + k))"; };
bgp = { peers = ( { name = "tor"; address = "172.31.0.1"; asn = 65000; bfd = "off"; } ); };
datastore = { type = "etcd"; endpoints = ( $EPS ); subnet_env = "$d/subnet.env"; };
bird = { binary = "$BIRD"; config = "$d/bird.conf"; socket = "$d/bird.ctl"; pidfile = "$d/bird.pid"; };
agent = { socket = "$d/roostd.sock"; state_dir = "$d/state"; log_level = "debug"; };
EOF
}
status_json() {
	"$ROOSTCTL" -s "$RST_TMP/n$1/roostd.sock" -o json status >"$RST_TMP/status-$1.json" 2>/dev/null
	[ -s "$RST_TMP/status-$1.json" ]
}
# subnet K: nK's leased subnet, from its status.
subnet() {
	status_json "$1" && jq -r '.datastore.subnet' "$RST_TMP/status-$1.json"
}
all_routes() { # every node has the other N-1 /24s (plus $1 more)
	local k
	for k in $(seq 1 "$N"); do
		[ -d "$RST_TMP/n$k" ] || continue
		[ "$(bird_routes "$k")" -ge $((N - 1 + ${1:-0})) ] || return 1
	done
}

fabric_up
for i in 1 2 3; do
	aux_add "etcd$i" "172.31.0.$((4 + i))"
	etcd_start "$i"
done
check "a three-member etcd cluster answers" wait_until 30 etcd_healthy
etcdctl_ put "$PFX/config" '{"Network":"10.244.0.0/16","SubnetLen":24,"Backend":{"Type":"host-gw"}}' >/dev/null

# node1's BIRD binary refuses configurations while $RST_TMP/refuse exists
# (bird -p fails): a datastore change BIRD refuses must be tried again.
cat >"$RST_TMP/bird-refusing" <<EOF
#!/bin/sh
for a in "\$@"; do
	if [ "\$a" = -p ] && [ -e "$RST_TMP/refuse" ]; then
		echo "bird: $RST_TMP/refuse exists: refusing" >&2
		exit 1
	fi
done
exec "$(command -v "$BIRD")" "\$@"
EOF
chmod 755 "$RST_TMP/bird-refusing"
for k in $(seq 1 "$N"); do
	node_add "$k"
	ds_conf "$k"
	[ "$k" = 1 ] && sed -i "s|binary = \"$BIRD\";|binary = \"$RST_TMP/bird-refusing\";|" "$RST_TMP/n1/roostd.conf"
	check "node$k: --check-config accepts a config with only name, address and datastore" \
		"$ROOSTD" --check-config -c "$RST_TMP/n$k/roostd.conf"
done
t0=$(now_ms)
for k in $(seq 1 "$N"); do roostd_start "$k"; done
for k in $(seq 1 "$N"); do wait_until 20 test -S "$RST_TMP/n$k/roostd.sock"; done
check "five leases in etcd, five distinct /24s" \
	bash -c "[ \$(ip netns exec $(ns etcd1) env ETCDCTL_API=3 etcdctl --endpoints $EP get --prefix $PFX/subnets/ --keys-only | grep -c .) = $N ]"
declare -A NET
for k in $(seq 1 "$N"); do NET[$k]=$(subnet "$k"); done
check "each node's status names its leased subnet, all distinct" \
	bash -c "[ \$(printf '%s\n' ${NET[*]} | sort -u | grep -c '^10\\.244\\.[0-9]*\\.0/24$') = $N ]"
check "every node has the other four /24s in its kernel" wait_until 30 all_routes
measure "5 nodes from start to every /24 in every kernel: $(($(now_ms) - t0)) ms"
check "every node's sessions (four mesh peers from etcd) are Established" \
	bash -c "for k in \$(seq 1 $N); do [ \$($BIRDC -s $RST_TMP/n\$k/bird.ctl show protocols | grep -c 'node_node.*Established') = 4 ] || exit 1; done"
declare -A IP
for k in $(seq 1 "$N"); do
	pod_add "$k" 1
	IP[$k]=$POD_IP
done
pods_reach() {
	local k
	for k in 2 3 4 5; do
		pod_ping 1 1 "${IP[$k]}" && pod_ping "$k" 1 "${IP[1]}" || return 1
	done
}
check "the pod on node1 and the pods on nodes 2-5 reach each other" pods_reach
gw1=$(echo "${NET[1]}" | sed 's|\.0/24$|.1/24|')
printf 'FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=%s\nFLANNEL_MTU=1500\nFLANNEL_IPMASQ=true\n' "$gw1" >"$RST_TMP/subnet.env.want"
check "node1's subnet.env is flannel's, line for line (roost masquerades: FLANNEL_IPMASQ=true)" \
	diff "$RST_TMP/subnet.env.want" "$RST_TMP/n1/subnet.env"
cp "$RST_TMP/n1/roostd.conf" "$RST_TMP/n1/roostd.conf.masq"
echo 'egress = { masquerade = false; };' >>"$RST_TMP/n1/roostd.conf"
kill -HUP "$(roostd_pid 1)"
check "egress.masquerade = false + SIGHUP: subnet.env says FLANNEL_IPMASQ=false" \
	wait_until 15 grep -qx FLANNEL_IPMASQ=false "$RST_TMP/n1/subnet.env"
cp "$RST_TMP/n1/roostd.conf.masq" "$RST_TMP/n1/roostd.conf"
kill -HUP "$(roostd_pid 1)"
check "masquerade on again + SIGHUP: subnet.env as before" \
	wait_until 15 diff "$RST_TMP/subnet.env.want" "$RST_TMP/n1/subnet.env"
ds_status_ok() {
	status_json 1 &&
		jq -e '.datastore.state == "up" and .datastore.peers == 4 and .datastore.lease_ttl == 86400' \
			"$RST_TMP/status-1.json"
}
check "status: datastore up, 4 peers, lease ttl 86400 s (flannel's 24 h)" ds_status_ok

# ---- leases are untrusted input ----------------------------------------------------------------
hostgw() { # hostgw KEY PUBLICIP [roost name]
	local data=null
	[ -n "${3:-}" ] && data="{\"roost\":{\"name\":\"$3\"}}"
	etcdctl_ put "$PFX/subnets/$1" \
		"{\"PublicIP\":\"$2\",\"PublicIPv6\":null,\"BackendType\":\"host-gw\",\"BackendData\":$data}" >/dev/null
}
BAD="8.8.8.0-24 10.244.210.0-25 10.244.211.0-24 10.244.212.0-24 10.244.213.0-24 10.244.214.0-24"
hostgw 8.8.8.0-24 172.31.0.70           # outside the Network
hostgw 10.244.210.0-25 172.31.0.71      # not of SubnetLen
hostgw 10.244.211.0-24 0.0.0.0          # no usable PublicIP
hostgw 10.244.212.0-24 172.31.0.1       # the ToR's address
hostgw 10.244.213.0-24 172.31.0.12 node9 # node2's address again
hostgw 10.244.214.0-24 172.31.0.73 node3 # node3's name again
hostgw 10.244.220.0-24 172.31.0.74      # fit: marks that the others were read
check "a fit flannel lease put after the bogus ones reaches node1 (the bogus ones were read)" \
	wait_until 15 bash -c "ip -n $(ns n1) route show 10.244.220.0/24 proto bird | grep -q 'via 172.31.0.74'"
bogus_nowhere() {
	local k
	for k in $(seq 1 "$N"); do
		ip -n "$(ns "n$k")" route show proto bird | grep -Eq '^(8\.8\.8\.0|10\.244\.21[0-4]\.0)' && return 1
		grep -Eq '8\.8\.8\.0|10\.244\.21[0-4]\.0|172\.31\.0\.(70|71|73)|0\.0\.0\.0|node9' "$RST_TMP/n$k/bird.conf" && return 1
	done
	return 0
}
check "no bogus lease reaches any kernel or BIRD config" bogus_nowhere
for key in $BAD; do
	check "node1 logs lease $key as skipped, naming its key" \
		log_has 1 "datastore: lease $PFX/subnets/$key skipped: "
done
check "node1 kernel: node2's /24 still via node2 (its lease came first)" kernel_route 1 "${NET[2]}" 172.31.0.12
check "node1 kernel: node3's /24 still via node3" kernel_route 1 "${NET[3]}" 172.31.0.13
check "every roostd is still running" \
	bash -c "for k in \$(seq 1 $N); do kill -0 \$(cat $RST_TMP/n\$k/roostd.pid) || exit 1; done"
etcdctl_ del "$PFX/subnets/10.244.220.0-24" >/dev/null
check "the fit lease deleted: gone from node1" \
	wait_until 15 no_kernel_route 1 10.244.220.0/24
check "node1 logged each bogus lease once, through two changes of the store" \
	test "$(grep -c "lease $PFX/subnets/8.8.8.0-24 skipped" "$RST_TMP/n1/roostd.log")" = 1

measure "node1's roostd in datastore mode (libcurl loaded, sanitizer build): VmRSS $(proc_rss_kib "$(roostd_pid 1)") KiB"

# ---- SIGHUP in datastore mode: the file's config plus etcd's peers ----------------------------
since12=$(birdc_n 1 show protocols node_node2 | awk '$1 == "node_node2" {print $5}')
kill -HUP "$(roostd_pid 1)"
check "node1 SIGHUP: reload done with the datastore's subnet and peers" \
	wait_until 10 log_has 1 'info: reload: done'
check "node1 SIGHUP: no reload error, node_node2's session not reset" \
	bash -c "! grep -q 'error: reload' $RST_TMP/n1/roostd.log &&
		[ \"\$($BIRDC -s $RST_TMP/n1/bird.ctl show protocols node_node2 | awk '\$1 == \"node_node2\" {print \$5}')\" = '$since12' ]"

# ---- a restart takes the same subnet again ------------------------------------------------
kill -TERM "$(roostd_pid 2)"
wait_until 10 bash -c "! kill -0 $(roostd_pid 2) 2>/dev/null"
roostd_start 2
wait_until 20 test -S "$RST_TMP/n2/roostd.sock"
check "node2 restarted (bogus leases still in etcd): the same subnet ${NET[2]}" wait_until 10 bash -c "[ \"\$('$ROOSTCTL' -s $RST_TMP/n2/roostd.sock -o json status | jq -r .datastore.subnet)\" = '${NET[2]}' ]"

for key in $BAD; do etcdctl_ del "$PFX/subnets/$key" >/dev/null; done

# ---- a lease outlives its roostd ------------------------------------------------------------
key3=$(etcdctl_ get --prefix "$PFX/subnets/" | grep -B1 '"172.31.0.13"' | head -1)
kill -TERM "$(roostd_pid 3)" # BIRD keeps running
wait_until 10 bash -c "! kill -0 $(roostd_pid 3) 2>/dev/null"
ip netns exec "$(ns n1p1)" ping -i 0.1 -w 35 "${IP[3]}" >"$RST_TMP/ping3.txt" 2>&1
loss=$(grep -Eo '[0-9.]+% packet loss' "$RST_TMP/ping3.txt")
measure "node3's roostd down 35 s (old TTL 30 s): pod node1 -> pod node3 every 100 ms: ${loss:-?}"
check "node3's roostd down 35 s: pod node1 -> pod node3 lost nothing (${loss:-no ping})" \
	test "${loss%%%*}" = 0
check "node3's roostd down 35 s: its lease $key3 is still its own" \
	bash -c "ip netns exec $(ns etcd1) env ETCDCTL_API=3 etcdctl --endpoints $EP get $key3 | grep -q '\"172.31.0.13\"'"
check "node3's roostd down 35 s: nodes 1, 2, 4, 5 still route ${NET[3]} via node3" \
	bash -c "$(declare -f kernel_route ns); RST_PREFIX=$RST_PREFIX;
		for k in 1 2 4 5; do kernel_route \$k ${NET[3]} 172.31.0.13 || exit 1; done"
roostd_start 3
wait_until 20 test -S "$RST_TMP/n3/roostd.sock"
check "node3 restarted: the same subnet ${NET[3]}" wait_until 10 bash -c "[ \"\$('$ROOSTCTL' -s $RST_TMP/n3/roostd.sock -o json status | jq -r .datastore.subnet)\" = '${NET[3]}' ]"

# ---- a short lease outlives its roostd while its node routes, and only then ---------------
node_add 6
ds_conf 6
sed -i 's|subnet_env = "\([^"]*\)";|subnet_env = "\1"; lease_ttl = 6;|' "$RST_TMP/n6/roostd.conf"
roostd_start 6
wait_until 20 test -S "$RST_TMP/n6/roostd.sock"
NET[6]=$(subnet 6)
routed6() {
	local k
	for k in 1 2 3 4; do kernel_route "$k" "${NET[6]}" 172.31.0.16 || return 1; done
}
check "node6 (lease ttl 6 s) joins: nodes 1-4 route ${NET[6]} via node6" wait_until 30 routed6
key6=$(etcdctl_ get --prefix "$PFX/subnets/" | grep -B1 '"172.31.0.16"' | head -1)
kill -TERM "$(roostd_pid 6)" # its BIRD keeps running and keeps its sessions
wait_until 10 bash -c "! kill -0 $(roostd_pid 6) 2>/dev/null"
kept6() { # for 15 s (2.5 TTLs), every 500 ms: routed and leased
	local end=$(($(now_ms) + 15000))
	while [ "$(now_ms)" -lt "$end" ]; do
		routed6 && etcdctl_ get "$key6" | grep -q '"172.31.0.16"' || return 1
		sleep 0.5
	done
}
check "node6's roostd down 15 s (2.5 x its TTL): the others keep its lease alive, its /24 stays everywhere" kept6
b6=$(bird_pid 6)
kill -KILL "$b6" # now it no longer routes: nobody renews its lease
t0=$(now_ms)
gone6() {
	local k
	for k in 1 2 3 4; do no_kernel_route "$k" "${NET[6]}" || return 1; done
}
check "node6's BIRD killed: its lease expires and ${NET[6]} leaves nodes 1-4" wait_until 30 gone6
measure "node6 stops routing -> lease expired and its /24 gone from four kernels: $(($(now_ms) - t0)) ms"
check "node6's lease $key6 is gone from etcd" bash -c "! ip netns exec $(ns etcd1) env ETCDCTL_API=3 etcdctl --endpoints $EP get $key6 | grep -q ."

# ---- a change BIRD refuses is tried again -----------------------------------------------------
touch "$RST_TMP/refuse"
hostgw 10.244.221.0-24 172.31.0.75
check "BIRD refuses node1's new peer list: logged, to be tried again" \
	wait_until 15 log_has 1 'datastore: peers changed \([0-9]+\), not applied, trying again in 5000 ms'
check "node2 (no refusal) has the new lease's route" \
	wait_until 15 bash -c "ip -n $(ns n2) route show 10.244.221.0/24 proto bird | grep -q 'via 172.31.0.75'"
check "node1 does not have it yet, and still routes node2's /24" \
	bash -c "$(declare -f no_kernel_route kernel_route ns); RST_PREFIX=$RST_PREFIX;
		no_kernel_route 1 10.244.221.0/24 && kernel_route 1 ${NET[2]} 172.31.0.12"
rm -f "$RST_TMP/refuse"
check "BIRD accepts again: node1 applies the same change by itself (no new lease needed)" \
	wait_until 15 bash -c "ip -n $(ns n1) route show 10.244.221.0/24 proto bird | grep -q 'via 172.31.0.75'"
etcdctl_ del "$PFX/subnets/10.244.221.0-24" >/dev/null
wait_until 15 no_kernel_route 1 10.244.221.0/24

# ---- a flannel host-gw node (no roost): a static route towards it ---------------------------
aux_add fl 172.31.0.60
ip -n "$(ns fl)" addr add 10.244.200.1/32 dev lo
ip -n "$(ns fl)" link set lo up
ip -n "$(ns fl)" route add "${NET[1]}" via 172.31.0.11
etcdctl_ put "$PFX/subnets/10.244.200.0-24" \
	'{"PublicIP":"172.31.0.60","PublicIPv6":null,"BackendType":"host-gw","BackendData":null}' >/dev/null
check "flannel node's 10.244.200.0/24 via 172.31.0.60 in node1's kernel" \
	wait_until 10 bash -c "ip -n $(ns n1) route show 10.244.200.0/24 proto bird | grep -q 'via 172.31.0.60'"
check "the pod on node1 reaches the flannel node (10.244.200.1)" pod_ping 1 1 10.244.200.1
"$ROOSTCTL" -s "$RST_TMP/n1/roostd.sock" -o json audit >"$RST_TMP/audit-fl.json"
check "audit: the flannel node's static route is checked like a BGP route, not reported as extra" \
	jq -e '[.drift[] | select(.prefix == "10.244.200.0/24")] | length == 0' "$RST_TMP/audit-fl.json"
check "no BGP session to the flannel node" bash -c "! $BIRDC -s $RST_TMP/n1/bird.ctl show protocols | grep -q '172.31.0.60'"

# ---- a lease deleted: that node's routes go everywhere --------------------------------------
key5=$(etcdctl_ get --prefix "$PFX/subnets/" | grep -B1 '"172.31.0.15"' | head -1)
kill -TERM "$(roostd_pid 5)" # its BIRD keeps running; nobody renews the lease
wait_until 10 bash -c "! kill -0 $(roostd_pid 5) 2>/dev/null"
gone5() {
	local k
	for k in 1 2 3 4; do no_kernel_route "$k" "${NET[5]}" || return 1; done
}
t0=$(now_ms)
etcdctl_ del "$key5" >/dev/null
check "lease $key5 deleted: ${NET[5]} gone from nodes 1-4 within 2 s" wait_until 2 gone5
measure "lease deleted -> its /24 gone from four kernels: $(($(now_ms) - t0)) ms"
birdc_n 5 down >/dev/null 2>&1

# ---- one etcd member killed: the agents carry on ---------------------------------------------
kill -KILL "${ETCD_PID[1]}"
wait "${ETCD_PID[1]}" 2>/dev/null
# A put while the two others elect a new leader can fail: the client retries.
check "etcd member 1 killed: a lease can still be put (bounded retries over the election)" \
	wait_until 20 etcdctl_ put "$PFX/subnets/10.244.201.0-24" \
	'{"PublicIP":"172.31.0.61","PublicIPv6":null,"BackendType":"host-gw","BackendData":null}'
check "etcd member 1 killed: a new lease still reaches node1 (static route)" \
	wait_until 20 bash -c "ip -n $(ns n1) route show 10.244.201.0/24 proto bird | grep -q 'via 172.31.0.61'"
check "etcd member 1 killed: node1's datastore still up" \
	bash -c "'$ROOSTCTL' -s $RST_TMP/n1/roostd.sock -o json status | jq -e '.datastore.state == \"up\"' >/dev/null"
etcd_start 1

# ---- all etcd members stopped: nothing changes but the status --------------------------------
wait_until 30 etcd_healthy
before=$(bird_routes 1)
for i in 1 2 3; do etcd_stop "$i"; done
check "etcd down: node1's status says so" \
	wait_until 15 bash -c "'$ROOSTCTL' -s $RST_TMP/n1/roostd.sock -o json status | jq -e '.datastore.state == \"down\" and (.datastore.last_error | length > 0)' >/dev/null"
check "etcd down: node1's routes unchanged ($before)" test "$(bird_routes 1)" = "$before"
check "etcd down: node1's sessions to nodes 2-4 still Established" \
	bash -c "[ \$($BIRDC -s $RST_TMP/n1/bird.ctl show protocols | grep -c 'node_node.*Established') = 3 ]"
check "etcd down: metrics say roost_datastore_up 0" \
	bash -c "ip netns exec $(ns n1) curl -sf --max-time 5 http://127.0.0.1:9638/metrics | grep -q '^roost_datastore_up 0$'"
"$ROOSTCTL" -s "$RST_TMP/n1/roostd.sock" status | sed 's/^/# | /'
for i in 1 2 3; do etcd_start "$i"; done
check "etcd back: node1's status says up again" \
	wait_until 40 bash -c "'$ROOSTCTL' -s $RST_TMP/n1/roostd.sock -o json status | jq -e '.datastore.state == \"up\"' >/dev/null"
check "etcd back: node1's lease is in etcd again" \
	wait_until 20 bash -c "ip netns exec $(ns etcd1) env ETCDCTL_API=3 etcdctl --endpoints $EP get --prefix $PFX/subnets/ | grep -q '\"172.31.0.11\"'"
check "etcd back: routes still all there" test "$(bird_routes 1)" = "$before"
rst_finish
