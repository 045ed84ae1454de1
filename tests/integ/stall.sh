#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# stall.sh - nothing a local user or a slow BIRD does may hold roostd's
# loop, and so the pods behind it:
#   1. ten clients trickle a byte every 0.8 s into /metrics and ten idle
#      connections sit on the agent socket, while 50 CNI ADDs and 50 DELs
#      run: each completes in < 2 s, roostctl status answers, and a real
#      scrape is still served;
#   2. a SIGHUP whose `bird -p` takes 5 s (a wrapper as bird.binary) while
#      ADDs run: no ADD waits for it, and the reload still completes;
#   3. roostd started while its BIRD takes 4 s to come up (the wrapper
#      again): CNI requests are served meanwhile, "ready" follows BIRD;
#   4. SIGTERM while roostd waits for an etcd that does not answer (no
#      cache): roostd exits at once.
. "$(dirname "$0")/lib.sh"

ROOSTCTL=${ROOSTCTL:-$top_builddir/agent/roostctl}
D=$RST_TMP/n1
SOCK=$D/roostd.sock

fabric_up
node_add 1
node_conf 1 1

# A bird.binary that is slow to check a configuration (-p) while the file
# $D/slow-p exists, slow to start as a daemon (-f) while $D/slow-start
# exists, and logs when such a check or start begins and ends.
BIRD_REAL=$(command -v "$BIRD")
cat >"$D/bird-wrapper" <<EOF
#!/bin/sh
for a in "\$@"; do
	if [ "\$a" = -p ] && [ -e "$D/slow-p" ]; then
		echo "start \$(date +%s%3N)" >>"$D/slow-p.log"
		sleep 5
		echo "end \$(date +%s%3N)" >>"$D/slow-p.log"
	fi
	if [ "\$a" = -f ] && [ -e "$D/slow-start" ]; then
		echo "start \$(date +%s%3N)" >>"$D/slow-start.log"
		sleep 4
		echo "end \$(date +%s%3N)" >>"$D/slow-start.log"
	fi
done
exec "$BIRD_REAL" "\$@"
EOF
chmod 755 "$D/bird-wrapper"
sed -i "s|binary = \"$BIRD\";|binary = \"$D/bird-wrapper\";|" "$D/roostd.conf"
roostd_start 1
wait_until 15 roostd_ready 1
check "roostd runs BIRD through the wrapper" grep -q "bird-wrapper" "$D/roostd.conf"

# cni_timed VERB CID NETNS: one plugin run as a runtime does it; prints
# "VERB ms exit-status".
cni_timed() {
	local t0 rc
	t0=$(now_ms)
	printf '%s' "$(netconf 1)" | ip netns exec "$(ns n1)" env -i CNI_COMMAND="$1" \
		CNI_CONTAINERID="$2" CNI_IFNAME=eth0 CNI_NETNS="$3" CNI_PATH=/opt/cni/bin \
		"$ROOST_CNI" >/dev/null 2>&1
	rc=$?
	echo "$1 $(($(now_ms) - t0)) $rc"
}

# all_fast FILE: prints the lines "VERB ms status" of FILE that failed or took 2 s
# or more; succeeds when there are none.
all_fast() {
	! awk '$3 != 0 || $2 >= 2000' "$1" | grep .
}

# ---- 1. trickling metrics clients and idle agent connections --------------------------------
for i in $(seq 1 10); do
	# One byte every 0.8 s, never a complete request; connect again when
	# roostd drops the connection.
	bg_start "$(ns n1)" /dev/null bash -c 'trap "" PIPE
		while :; do
			exec 3<>/dev/tcp/127.0.0.1/9638 || { sleep 0.2; continue; }
			while printf G >&3; do sleep 0.8; done
			exec 3>&-
		done'
	# An agent connection that never sends a byte (roostd drops it after
	# 2 s; it comes back).
	bg_start "$(ns n1)" /dev/null bash -c "while :; do sleep 5 | socat -u - 'UNIX-CONNECT:$SOCK'; sleep 0.1; done"
done
trickling() {
	[ "$(ip netns exec "$(ns n1)" ss -Htn state connected '( dport = :9638 )' | wc -l)" -ge 10 ]
}
check "ten trickling clients hold connections to the metrics port" wait_until 10 trickling

for i in $(seq 1 50); do
	ns_add "n1s$i"
done
: >"$RST_TMP/times"
for w in 1 2 3 4 5; do
	(
		for i in $(seq 1 10); do
			p=$(((w - 1) * 10 + i))
			cni_timed ADD "stall-$p" "/run/netns/$(ns "n1s$p")"
			cni_timed DEL "stall-$p" "/run/netns/$(ns "n1s$p")"
		done >"$RST_TMP/times-$w"
	) &
done
wait_until 120 bash -c "[ \$(cat $RST_TMP/times-* 2>/dev/null | wc -l) -ge 100 ]"
cat "$RST_TMP"/times-* >"$RST_TMP/times"
check "50 ADDs and 50 DELs ran" test "$(wc -l <"$RST_TMP/times")" = 100
check "every ADD and DEL succeeded in < 2 s, with the metrics port and agent socket held" \
	all_fast "$RST_TMP/times"
p99=$(awk '{print $2}' "$RST_TMP/times" | sort -n | awk '{v[NR] = $1} END {print v[int(NR * 0.99 + 0.999)]}')
max=$(awk '{print $2}' "$RST_TMP/times" | sort -n | tail -n 1)
measure "CNI ADD/DEL with 10 trickling /metrics clients and 10 idle agent connections: p99 $p99 ms, max $max ms (100 requests, 5 at a time)"
check "the trickling clients were still connected meanwhile" trickling
check "roostctl status answers meanwhile" "$ROOSTCTL" -s "$SOCK" status
check "a real scrape is served meanwhile" \
	bash -c "ip netns exec $(ns n1) curl -sf --max-time 5 http://127.0.0.1:9638/metrics | grep -q '^roost_cni_requests_total{verb=\"ADD\",result=\"ok\"} 50$'"
check "the pool is empty again" test "$(pool_used 1)" = 0
bg_stop_all
BG_PIDS=()

# ---- 2. a SIGHUP whose bird -p takes 5 s ----------------------------------------------------
node_conf 1 2 # a new mesh neighbour: the BIRD configuration changes
sed -i "s|binary = \"$BIRD\";|binary = \"$D/bird-wrapper\";|" "$D/roostd.conf"
touch "$D/slow-p"
kill -HUP "$(roostd_pid 1)"
check "the reload's bird -p started" wait_until 5 grep -q start "$D/slow-p.log"
: >"$RST_TMP/times"
i=0
t0=$(now_ms)
while ! grep -q end "$D/slow-p.log" && [ $(($(now_ms) - t0)) -lt 15000 ]; do
	i=$((i + 1))
	cni_timed ADD "hup-$i" "/run/netns/$(ns "n1s$((i % 10 + 1))")" >>"$RST_TMP/times"
	cni_timed DEL "hup-$i" "/run/netns/$(ns "n1s$((i % 10 + 1))")" >>"$RST_TMP/times"
done
s=$(awk '/start/ {print $2}' "$D/slow-p.log")
e=$(awk '/end/ {print $2}' "$D/slow-p.log")
measure "during a 5 s bird -p: $i ADD+DEL pairs, slowest $(awk '{print $2}' "$RST_TMP/times" | sort -n | tail -n 1) ms"
check "bird -p took its 5 s ($((e - s)) ms)" test "$((e - s))" -ge 4900
check "ADDs ran while bird -p was running (at least 3 pairs)" test "$i" -ge 3
check "no ADD or DEL waited for the reload (each < 2 s)" all_fast "$RST_TMP/times"
rm -f "$D/slow-p"
check "the reload completes afterwards" wait_until 20 log_has 1 "reload: done hash="
check "BIRD runs the reloaded configuration (node_node2 configured)" \
	bash -c "birdc -s '$D/bird.ctl' show protocols | grep -q '^node_node2 '"

# ---- 3. roostd starts while BIRD is slow to come up ----------------------------------------
pid=$(roostd_pid 1)
kill -TERM "$pid"
wait "$pid" 2>/dev/null
bpid=$(bird_pid 1)
kill -TERM "$bpid"
bird_gone() { ! kill -0 "$bpid" 2>/dev/null; }
check "BIRD of node1 stopped" wait_until 10 bird_gone
touch "$D/slow-start"
roostd_start 1
check "roostd spawned BIRD through the slow wrapper" wait_until 5 grep -q start "$D/slow-start.log"
: >"$RST_TMP/times"
i=0
early=0
t0=$(now_ms)
while ! grep -q end "$D/slow-start.log" && [ $(($(now_ms) - t0)) -lt 15000 ]; do
	# ready seen first, then the start's end still missing: too early
	if roostd_ready 1 && ! grep -q end "$D/slow-start.log"; then early=1; fi
	i=$((i + 1))
	cni_timed ADD "boot-$i" "/run/netns/$(ns "n1s$((i % 10 + 1))")" >>"$RST_TMP/times"
	cni_timed DEL "boot-$i" "/run/netns/$(ns "n1s$((i % 10 + 1))")" >>"$RST_TMP/times"
done
rm -f "$D/slow-start"
measure "during BIRD's 4 s start: $i ADD+DEL pairs, slowest $(awk '{print $2}' "$RST_TMP/times" | sort -n | tail -n 1) ms"
check "ADDs ran while BIRD was starting (at least 3 pairs)" test "$i" -ge 3
check "no ADD or DEL waited for BIRD's start (each < 2 s)" all_fast "$RST_TMP/times"
check "roostd logs ready once BIRD answers" wait_until 20 roostd_ready 1
check "... and not before: ready was never seen while BIRD was still starting" test "$early" = 0
check "the pool is empty again" test "$(pool_used 1)" = 0

# ---- 4. SIGTERM while etcd does not answer ----------------------------------------------
node_add 2
d2=$RST_TMP/n2
cat >"$d2/roostd.conf" <<EOF
node = { name = "node2"; address = "172.31.0.12"; };
datastore = { type = "etcd"; endpoints = ( "http://127.0.0.1:9" ); };
bird = { binary = "$BIRD"; config = "$d2/bird.conf"; socket = "$d2/bird.ctl"; pidfile = "$d2/bird.pid"; };
agent = { socket = "$d2/roostd.sock"; state_dir = "$d2/state"; log_level = "debug"; };
EOF
roostd_start 2
check "node2 waits for etcd" wait_until 10 log_has 2 "datastore: no subnet yet"
t0=$(now_ms)
kill -TERM "$(roostd_pid 2)"
gone() { ! kill -0 "$(roostd_pid 2)" 2>/dev/null; }
check "SIGTERM while waiting for etcd: roostd exits (within 3 s)" wait_until 3 gone
measure "SIGTERM to exit while waiting for etcd: $(($(now_ms) - t0)) ms"
gone || kill -KILL "$(roostd_pid 2)"
wait "$(roostd_pid 2)"
rc=$?
check "... with status 0 ($rc), saying why" bash -c "[ $rc = 0 ] && grep -q 'exiting on signal 15 while waiting for the datastore' '$d2/roostd.log'"

rst_finish
