#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# etcd-watch.sh - etcd mode learns changes from an etcd v3 watch, not by
# polling: one etcd member (Debian's etcd-server) and three nodes. At idle
# the nodes send etcd no request at all; a lease added, changed and deleted
# with etcdctl reaches every node's kernel promptly; etcd restarted while
# node1's roostd is stopped and the store compacted past node1's watch:
# node1 logs the re-list and gets the lease written meanwhile, and every
# node's watch resumes (a later lease arrives everywhere); a watch gone
# silent (node1's and node3's traffic to etcd dropped) is noticed within 75 s and
# resumes, with what it missed, once etcd is reachable; SIGTERM while
# connects to etcd are pending and SIGTERM to a
# roostd with an open watch exits within 3 s; datastore.watch = false (the
# fallback) still polls.
. "$(dirname "$0")/lib.sh"
trap topo_cleanup EXIT

ROOSTCTL=${ROOSTCTL:-$top_builddir/agent/roostctl}
EP=http://172.31.0.5:2379
PFX=/coreos.com/network
N=3

# one etcd member at $EP: lib.sh's etcd1_up, etcd1_ctl
etcdctl_() { etcd1_ctl "$@"; }
etcd_healthy() { etcdctl_ get --prefix "$PFX" --keys-only >/dev/null 2>&1; }
# grpc_started: the gRPC calls etcd has started since it started (the JSON
# gateway's requests are gRPC calls inside etcd), all methods, or METHOD's.
grpc_started() {
	ip netns exec "$(ns etcd1)" curl -sf --max-time 5 "$EP/metrics" |
		awk -v m="${1:-}" '/^grpc_server_started_total\{/ && (m == "" || index($0, "grpc_method=\"" m "\"")) {s += $2} END {print s + 0}'
}
ds_conf() { # ds_conf K [extra datastore settings] [more endpoints]
	local k=$1 d="$RST_TMP/n$1"
	cat >"$d/roostd.conf" <<EOC
node = { name = "node$k"; address = "172.31.0.$((10 + k))"; };
bgp = { peers = ( { name = "tor"; address = "172.31.0.1"; asn = 65000; bfd = "off"; } ); };
datastore = { type = "etcd"; endpoints = ( "$EP"${3:-} ); subnet_env = "$d/subnet.env"; ${2:-} };
bird = { binary = "$BIRD"; config = "$d/bird.conf"; socket = "$d/bird.ctl"; pidfile = "$d/bird.pid"; };
agent = { socket = "$d/roostd.sock"; state_dir = "$d/state"; log_level = "debug"; };
EOC
}
status_json() { # (roostctl status exits 1 while a session is down: the ToR never answers)
	"$ROOSTCTL" -s "$RST_TMP/n$1/roostd.sock" -o json status >"$RST_TMP/status-$1.json" 2>/dev/null
	[ -s "$RST_TMP/status-$1.json" ]
}
# watching K...: each node's status says its watch is open, datastore up.
watching() {
	local k
	for k in "$@"; do
		status_json "$k" &&
			jq -e '.datastore.state == "up" and .datastore.changes == "watch" and .datastore.watching' \
				"$RST_TMP/status-$k.json" || return 1
	done
}
hostgw() { # hostgw KEY PUBLICIP
	etcdctl_ put "$PFX/subnets/$1" \
		"{\"PublicIP\":\"$2\",\"PublicIPv6\":null,\"BackendType\":\"host-gw\",\"BackendData\":null}" >/dev/null
}
via_on() { # via_on PREFIX VIA K...: each nK routes PREFIX via VIA
	local p=$1 v=$2 k
	shift 2
	for k in "$@"; do kernel_route "$k" "$p" "$v" || return 1; done
}
gone_on() { # gone_on PREFIX K...
	local p=$1 k
	shift
	for k in "$@"; do no_kernel_route "$k" "$p" || return 1; done
}
all_routes() { # every node has the other N-1 /24s
	local k
	for k in $(seq 1 "$N"); do [ "$(bird_routes "$k")" -ge $((N - 1)) ] || return 1; done
}
# idle_calls SECONDS: gRPC calls etcd started during an idle window.
idle_calls() {
	local a b
	a=$(grpc_started)
	sleep "$1" # the measured idle window: nothing else talks to etcd meanwhile
	b=$(grpc_started)
	echo $((b - a))
}

fabric_up
etcd1_up
check "etcd answers" wait_until 30 etcd_healthy
etcdctl_ put "$PFX/config" '{"Network":"10.244.0.0/16","SubnetLen":24,"Backend":{"Type":"host-gw"}}' >/dev/null
# node3 also lists two endpoints where nothing answers (tried after the
# first one fails, 2 s each)
for k in $(seq 1 "$N"); do
	node_add "$k"
	ds_conf "$k"
	[ "$k" = 3 ] && ds_conf 3 "" ', "http://172.31.0.201:2379", "http://172.31.0.202:2379"'
	roostd_start "$k"
done
for k in $(seq 1 "$N"); do wait_until 20 test -S "$RST_TMP/n$k/roostd.sock"; done
check "every node has the other two /24s in its kernel" wait_until 30 all_routes
check "every node's status: datastore up, changes from a watch, the watch open" \
	wait_until 10 watching 1 2 3

# ---- idle: no request at all ----------------------------------------------------------------
# Once the mesh is up, each node renews its two routing peers' leases once
# (then every 16 h): the idle window starts after that.
renewed_all() {
	local k
	for k in $(seq 1 "$N"); do
		[ "$(grep -Eo 'datastore: renewed the lease of node[0-9]+' "$RST_TMP/n$k/roostd.log" | sort -u | wc -l)" -ge $((N - 1)) ] || return 1
	done
}
check "every node renewed its peers' leases once (they route)" wait_until 20 renewed_all
calls=$(idle_calls 5)
measure "3 watching nodes idle 5 s: $calls gRPC calls to etcd (polling made 2 ranges/s/node)"
check "3 nodes idle for 5 s: etcd started no call at all ($calls)" test "$calls" = 0

# ---- a lease added, changed, deleted with etcdctl ---------------------------------------------
t0=$(now_ms)
hostgw 10.244.230.0-24 172.31.0.80
check "a lease put with etcdctl reaches every kernel (bounded 3 s)" \
	wait_until 3 via_on 10.244.230.0/24 172.31.0.80 1 2 3
measure "lease put -> route in 3 kernels: $(($(now_ms) - t0)) ms"
t0=$(now_ms)
hostgw 10.244.230.0-24 172.31.0.81
check "the lease's PublicIP changed: every kernel routes via the new one (bounded 3 s)" \
	wait_until 3 via_on 10.244.230.0/24 172.31.0.81 1 2 3
measure "lease changed -> new next hop in 3 kernels: $(($(now_ms) - t0)) ms"
t0=$(now_ms)
etcdctl_ del "$PFX/subnets/10.244.230.0-24" >/dev/null
check "the lease deleted: gone from every kernel (bounded 3 s)" \
	wait_until 3 gone_on 10.244.230.0/24 1 2 3
measure "lease deleted -> route gone from 3 kernels: $(($(now_ms) - t0)) ms"
# An unfit lease from a watch event is skipped as from a range read.
hostgw 8.8.8.0-24 172.31.0.82
check "an unfit lease from the watch: node1 logs it skipped, naming its key" \
	wait_until 5 log_has 1 "datastore: lease $PFX/subnets/8.8.8.0-24 skipped: "
check "an unfit lease from the watch: no kernel has it" gone_on 8.8.8.0/24 1 2 3
etcdctl_ del "$PFX/subnets/8.8.8.0-24" >/dev/null

# ---- etcd restarted, the store compacted past node1's watch ----------------------------------
p1=$(roostd_pid 1)
kill -STOP "$p1" # its watch connection stays as it is
etcd1_stop
etcd1_start
check "etcd restarted" wait_until 30 etcd_healthy
hostgw 10.244.231.0-24 172.31.0.83
etcdctl_ put /elsewhere x >/dev/null # the revision moves on past the lease's
rev=$(etcdctl_ endpoint status -w json | jq -r '.[0].Status.header.revision')
etcdctl_ compact "$rev" >/dev/null
check "etcd compacted to revision $rev" \
	bash -c "ip netns exec $(ns etcd1) env ETCDCTL_API=3 etcdctl --endpoints $EP get --rev=$((rev - 1)) $PFX/config 2>&1 | grep -q compacted"
kill -CONT "$p1"
check "node1 resumed: the lease written while it was stopped reaches its kernel" \
	wait_until 10 via_on 10.244.231.0/24 172.31.0.83 1
check "node1 logs that its watch was compacted and that it re-listed" \
	log_has 1 "datastore: the watch from revision [0-9]+ was compacted \(etcd keeps revision $rev on\): reading every lease again"
check "nodes 2 and 3 have it too" wait_until 10 via_on 10.244.231.0/24 172.31.0.83 2 3
check "every node watches again" wait_until 15 watching 1 2 3
t0=$(now_ms)
hostgw 10.244.232.0-24 172.31.0.84
check "after the restart, a later lease reaches every kernel (bounded 3 s)" \
	wait_until 3 via_on 10.244.232.0/24 172.31.0.84 1 2 3
measure "after etcd restart: lease put -> route in 3 kernels: $(($(now_ms) - t0)) ms"
check "the first lease after the restart is still there everywhere" \
	via_on 10.244.231.0/24 172.31.0.83 1 2 3
calls=$(idle_calls 3)
check "idle again after the restart: no call to etcd in 3 s ($calls)" test "$calls" = 0
check "every roostd is still running" \
	bash -c "for k in \$(seq 1 $N); do kill -0 \$(cat $RST_TMP/n\$k/roostd.pid) || exit 1; done"

# ---- a watch gone silent ---------------------------------------------------------------------
# node1's and node3's packets to and from etcd dropped (nft, in their
# namespaces): their watch connections stay open but bring nothing. After
# 60 s of silence each asks etcd, gets no answer and says so; once etcd is
# reachable again node1 watches from where it stopped and gets what it
# missed. node3, trying three endpoints that do not answer, stops at once
# on SIGTERM.
for k in 1 3; do
	ip netns exec "$(ns "n$k")" nft -f - <<'EON'
table inet cut {
	chain in { type filter hook input priority 0; tcp sport 2379 drop; }
	chain out { type filter hook output priority 0; tcp dport 2379 drop; }
}
EON
done
hostgw 10.244.234.0-24 172.31.0.86
check "node1 and node3 cut off from etcd: the new lease reaches node2" \
	wait_until 3 via_on 10.244.234.0/24 172.31.0.86 2
ds_down() {
	local k
	for k in "$@"; do
		status_json "$k" && jq -e '.datastore.state == "down"' "$RST_TMP/status-$k.json" || return 1
	done
}
check "node1 and node3 cut off: their silent watches are noticed within 75 s (status down)" \
	wait_until 75 ds_down 1 3
# node3 now retries with backoff, each try 3 x 2 s of connect timeouts.
check "node3 cut off: it logged the timeouts of its endpoints" \
	wait_until 20 log_has 3 "datastore: etcd does not answer"
p3=$(roostd_pid 3)
wait_until 20 bash -c "ip netns exec $(ns n3) ss -tn state syn-sent | grep -q ':2379'"
t0=$(now_ms)
kill -TERM "$p3"
check "SIGTERM to node3 while it waits for etcd endpoints that do not answer: it exits within 3 s" \
	wait_until 3 bash -c "! kill -0 $p3 2>/dev/null"
measure "SIGTERM -> roostd gone (etcd unreachable, a connect pending): $(($(now_ms) - t0)) ms"
check "node1 cut off: it did not get the lease, and kept every route" \
	bash -c "$(declare -f no_kernel_route kernel_route ns via_on); RST_PREFIX=$RST_PREFIX;
		no_kernel_route 1 10.244.234.0/24 && via_on 10.244.232.0/24 172.31.0.84 1"
ip netns exec "$(ns n1)" nft delete table inet cut
check "node1 reaches etcd again: it gets the lease it missed" \
	wait_until 20 via_on 10.244.234.0/24 172.31.0.86 1
check "node1 reaches etcd again: up and watching" wait_until 10 watching 1

# ---- SIGTERM with an open watch -------------------------------------------------------------
check "node2's watch is open" watching 2
p2=$(roostd_pid 2)
t0=$(now_ms)
kill -TERM "$p2"
check "SIGTERM to node2's roostd with an open watch: it exits within 3 s" \
	wait_until 3 bash -c "! kill -0 $p2 2>/dev/null"
measure "SIGTERM -> roostd gone (open watch): $(($(now_ms) - t0)) ms"

# ---- the fallback: datastore.watch = false polls ----------------------------------------------
node_add 4
ds_conf 4 "watch = false;"
roostd_start 4
wait_until 20 test -S "$RST_TMP/n4/roostd.sock"
check "node4 (watch = false): status says it polls" \
	wait_until 10 bash -c "'$ROOSTCTL' -s $RST_TMP/n4/roostd.sock -o json status | jq -e '.datastore.changes == \"poll\" and (.datastore.watching | not)'"
hostgw 10.244.233.0-24 172.31.0.85
check "node4 (watch = false) and node1 (watch) get a new lease" \
	wait_until 5 via_on 10.244.233.0/24 172.31.0.85 1 4
ranges=$(grpc_started Range)
sleep 2 # a measured window: node4 polls
check "node4 (watch = false) reads the subnets with ranges every 500 ms" \
	test $(($(grpc_started Range) - ranges)) -ge 2
rst_finish
