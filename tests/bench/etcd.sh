#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/bench/etcd.sh - what an idle cluster costs etcd in etcd mode: the
# requests per second per node that etcd serves while nothing changes, with
# 3 nodes and one etcd member (Debian's etcd-server), for the watch (the
# default) and for datastore.watch = false (a range every 500 ms: what
# roostd did before the watch), one lab after the other in the same run.
# Requests are counted by etcd itself: grpc_server_started_total from its
# /metrics, summed over methods (each JSON gateway request is one gRPC call
# inside etcd), over an idle window that starts once the mesh is up and each
# node has renewed its routing peers' leases (a one-off, then every 16 h).
. "$(dirname "$0")/common.sh"

if quick; then idle=5; else idle=120; fi
N=3
EP=http://172.31.0.5:2379
PFX=/coreos.com/network
mach=$(machine)

etcdctl_() {
	ip netns exec "$(ns etcd1)" env ETCDCTL_API=3 etcdctl --endpoints "$EP" "$@"
}
etcd_healthy() { etcdctl_ get --prefix "$PFX" --keys-only >/dev/null 2>&1; }
# grpc_calls FILE: "METHOD COUNT" lines, the gRPC calls etcd started so far
# (METHOD: service.method without the package, e.g. KV.Range).
grpc_calls() {
	ip netns exec "$(ns etcd1)" curl -sf --max-time 5 "$EP/metrics" | grep '^grpc_server_started_total{' |
		sed -E 's/.*grpc_method="([A-Za-z]+)".*grpc_service="([A-Za-z0-9_.]+)".*\} ([0-9.e+]+)$/\2.\1 \3/; s/^[a-z0-9_]+\.//' >"$1"
}
renewed_all() { # every node logged the renewal of its N-1 peers' leases
	local k
	for k in $(seq 1 "$N"); do
		[ "$(grep -Eo 'datastore: renewed the lease of node[0-9]+' "$RST_TMP/n$k/roostd.log" | sort -u | wc -l)" -ge $((N - 1)) ] || return 1
	done
}
peers_all() { # every node's datastore is up with N-1 peers
	local k
	for k in $(seq 1 "$N"); do
		"$top_builddir/agent/roostctl" -s "$RST_TMP/n$k/roostd.sock" -o json status 2>/dev/null |
			jq -e ".datastore.state == \"up\" and .datastore.peers == $((N - 1))" >/dev/null || return 1
	done
}

# lab MODE (watch|poll): the per-method deltas over the idle window in
# $BENCH_RES/MODE.calls ("METHOD COUNT").
lab() {
	local mode=$1 w=true k
	[ "$mode" = poll ] && w=false
	fabric_up
	aux_add etcd1 172.31.0.5
	rm -rf "$RST_TMP/etcd1/data"
	aux_bg etcd1 "$RST_TMP/etcd1/etcd-$mode.log" etcd --name e1 --data-dir "$RST_TMP/etcd1/data" \
		--listen-client-urls "$EP" --advertise-client-urls "$EP" \
		--listen-peer-urls http://172.31.0.5:2380 --initial-advertise-peer-urls http://172.31.0.5:2380 \
		--initial-cluster e1=http://172.31.0.5:2380
	wait_until 30 etcd_healthy || { echo "etcd.sh: etcd did not answer" >&2; return 1; }
	etcdctl_ put "$PFX/config" '{"Network":"10.244.0.0/16","SubnetLen":24,"Backend":{"Type":"host-gw"}}' >/dev/null
	for k in $(seq 1 "$N"); do
		node_add "$k"
		cat >"$RST_TMP/n$k/roostd.conf" <<EOC
node = { name = "node$k"; address = "172.31.0.$((10 + k))"; };
datastore = { type = "etcd"; endpoints = ( "$EP" ); subnet_env = ""; watch = $w; };
bird = { binary = "$BIRD"; config = "$RST_TMP/n$k/bird.conf"; socket = "$RST_TMP/n$k/bird.ctl"; pidfile = "$RST_TMP/n$k/bird.pid"; };
agent = { socket = "$RST_TMP/n$k/roostd.sock"; state_dir = "$RST_TMP/n$k/state"; log_level = "debug"; };
EOC
		roostd_start "$k"
	done
	for k in $(seq 1 "$N"); do wait_until 20 test -S "$RST_TMP/n$k/roostd.sock"; done
	wait_until 60 peers_all || { echo "etcd.sh: $mode: the nodes did not learn each other" >&2; return 1; }
	for k in $(seq 1 "$N"); do
		wait_until 30 established_n "$k" $((N - 1)) || { echo "etcd.sh: $mode: sessions not up" >&2; return 1; }
	done
	wait_until 20 renewed_all || { echo "etcd.sh: $mode: no lease renewals" >&2; return 1; }
	say "$mode: $N nodes up; idle window of $idle s"
	grpc_calls "$BENCH_RES/$mode.0"
	sleep "$idle" # the measured idle window
	grpc_calls "$BENCH_RES/$mode.1"
	awk 'NR == FNR {a[$1] = $2; next} {d = $2 - a[$1]; if (d > 0) print $1, d}' \
		"$BENCH_RES/$mode.0" "$BENCH_RES/$mode.1" >"$BENCH_RES/$mode.calls"
	lab_down
}

# per_node MODE [METHOD]: calls per second per node over the window.
per_node() {
	awk -v m="${2:-}" -v t="$idle" -v n="$N" '(m == "" || $1 == m) {s += $2} END {printf "%.4f", s / t / n}' \
		"$BENCH_RES/$1.calls"
}

lab poll || exit 1
lab watch || exit 1
methods=$(cat "$BENCH_RES/poll.calls" "$BENCH_RES/watch.calls" | awk '{print $1}' | sort -u)
p=$(per_node poll) w=$(per_node watch)

md "## etcd at idle" "" \
	"$(date -u +%Y-%m-%d); $mach; $N nodes in etcd mode and one etcd member (etcd $(etcd --version 2>/dev/null | awk 'NR == 1 {print $3}')), nothing changing, an idle window of $idle s per lab." "" \
	"| requests to etcd per second per node | polling (\`datastore.watch = false\`, as before the watch) | watch (default) | watch / polling |" \
	"|---|---|---|---|" \
	"| all | $p | $w | $(ratio "$w" "$p" 4) |"
for m in $methods; do
	md "| $m | $(per_node poll "$m") | $(per_node watch "$m") | |"
done
md "" \
	"Method: etcd's own counter grpc_server_started_total (all methods; each JSON gateway request" \
	"is one gRPC call inside etcd) read from its /metrics before and after the window, divided by" \
	"the window and by $N. The window starts once every node has its peers and has renewed its" \
	"routing peers' leases (a one-off, then every two thirds of their TTL: 16 h by default)." \
	"Polling reads every lease twice a second; a watching node opens one Watch stream and then" \
	"asks etcd only when its watch has been silent for 60 s (a count-only Range: is the member" \
	"still in the quorum?), so its steady state is 1/60 = 0.0167 requests per second; a short" \
	"window may hold none of those. For $((N * 100)) nodes: $(awk -v p="$p" -v n="$((N * 100))" 'BEGIN {printf "%.0f", p * n}') requests/s polling," \
	"$(awk -v w="$w" -v n="$((N * 100))" 'BEGIN {printf "%.1f", (w > 1 / 60 ? w : 1 / 60) * n}') requests/s at most watching."
