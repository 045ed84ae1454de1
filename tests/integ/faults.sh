#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# faults.sh - roost on the data path under faults: roostd killed -9 in the
# middle of a burst of ADDs (pods keep forwarding; the pool and the veths are
# reconciled), the rendered BIRD config corrupted while roostd is down, a
# node's uplink flapped, state_dir full during ADD, and 50 parallel ADD/DEL
# loops. A 10 ms ping between pods on two nodes counts every lost packet.
. "$(dirname "$0")/lib.sh"

ROOSTCTL=${ROOSTCTL:-$top_builddir/agent/roostctl}
LOOP_SECONDS=${FAULTS_LOOP_SECONDS:-60}

fabric_up
for k in 1 2; do
	node_add "$k"
	node_conf "$k" 2
	roostd_start "$k"
done
for k in 1 2; do
	wait_until 10 test -S "$RST_TMP/n$k/roostd.sock"
done
wait_until 30 kernel_route 1 10.244.2.0/24 172.31.0.12
wait_until 30 kernel_route 2 10.244.1.0/24 172.31.0.11
pod_ns_add 1 1
pod_ns_add 2 1
cni 1 ADD ping-a eth0 "/run/netns/$(ns n1p1)"
A=$(jq -r '.ips[0].address' "$RST_TMP/cni.out" | cut -d/ -f1)
cni 2 ADD ping-b eth0 "/run/netns/$(ns n2p1)"
B=$(jq -r '.ips[0].address' "$RST_TMP/cni.out" | cut -d/ -f1)
check "pod $A on node1 reaches pod $B on node2" \
	ip netns exec "$(ns n1p1)" ping -c 1 -W 2 "$B"

# ping_start NAME SECONDS / ping_lost NAME: a 10 ms ping from pod A to pod B.
ping_start() {
	ip netns exec "$(ns n1p1)" ping -q -i 0.01 -W 1 -c $(($2 * 100)) "$B" >"$RST_TMP/ping-$1.txt" 2>&1 &
	echo $! >"$RST_TMP/ping-$1.pid"
}
ping_wait() {
	wait "$(cat "$RST_TMP/ping-$1.pid")"
	measure "$2: $(grep -oE '[0-9]+ packets transmitted, [0-9]+ received' "$RST_TMP/ping-$1.txt")"
}
ping_no_loss() {
	grep -q ' 0% packet loss' "$RST_TMP/ping-$1.txt"
}

# ---- roostd killed -9 during a burst of ADDs --------------------------------------------------
ping_start kill9 12
for i in $(seq 1 20); do
	ns_add "n1b$i"
done
for i in $(seq 1 20); do
	(
		printf '%s' "$(netconf 1)" | ip netns exec "$(ns n1)" env -i CNI_COMMAND=ADD \
			CNI_CONTAINERID="burst-$i" CNI_IFNAME=eth0 CNI_NETNS="/run/netns/$(ns "n1b$i")" \
			"$ROOST_CNI" >"$RST_TMP/burst-$i.json" 2>&1
		echo $? >"$RST_TMP/burst-$i.rc"
	) &
done
wait_until 20 bash -c "[ \$(ls $RST_TMP/n1/state/roost/ | grep -c '^10\\.') -ge 6 ]"
kill -KILL "$(roostd_pid 1)"
wait_until 30 bash -c "[ \$(ls $RST_TMP/burst-*.rc 2>/dev/null | wc -l) = 20 ]"
ok_adds=$(grep -lx 0 "$RST_TMP"/burst-*.rc | wc -l)
failed_adds=$(grep -Lx 0 "$RST_TMP"/burst-*.rc | wc -l)
measure "roostd killed -9 during 20 parallel ADDs: $ok_adds succeeded, $failed_adds failed (the runtime retries those)"
check "ADDs that failed while roostd was dead say roostd is not reachable (code 11)" \
	bash -c "for f in \$(grep -Lx 0 $RST_TMP/burst-*.rc); do
		j=\${f%.rc}.json; jq -e '.code == 11' \$j >/dev/null || { cat \$j; exit 1; }; done"
roostd_start 1
wait_until 15 roostd_ready 1
grep "roostd\[$(roostd_pid 1)\].*reconcile" "$RST_TMP/n1/roostd.log" | sed 's/^/# /'
records=$(find "$RST_TMP/n1/state/roost" -maxdepth 1 -name '10.*' ! -name '*.bad' -printf '%f\n' | sort)
n_rec=$(printf '%s\n' "$records" | grep -c . || true)
n_veth=$(host_veths 1)
check "after restart: every reservation has its host veth and every veth a reservation ($n_rec = $n_veth)" \
	test "$n_rec" = "$n_veth"
check "after restart: every successful ADD still holds its address" \
	bash -c "for f in \$(grep -lx 0 $RST_TMP/burst-*.rc); do
		a=\$(jq -r '.ips[0].address' \${f%.rc}.json | cut -d/ -f1);
		grep -qx \"\$a\" <<<'$records' || { echo \"\$a lost\"; exit 1; }; done"
check "reconcile logged its summary" log_has 1 "roostd\[$(roostd_pid 1)\].*reconcile: [0-9]+ repair"
ping_wait kill9 "roostd kill -9 + restart, pod to pod 10 ms ping"
check "roostd kill -9 and restart: no pod packet lost" ping_no_loss kill9
for i in $(seq 1 20); do
	printf '%s' "$(netconf 1)" | ip netns exec "$(ns n1)" env -i CNI_COMMAND=DEL \
		CNI_CONTAINERID="burst-$i" CNI_IFNAME=eth0 CNI_NETNS="/run/netns/$(ns "n1b$i")" \
		"$ROOST_CNI" >/dev/null 2>&1
	ip netns del "$(ns "n1b$i")"
done
# DEL answers once the address is released; the teardown pool deletes the
# veth just after (tens of ms): wait for it, bounded.
only_ping_a() { [ "$(pool_used 1)" = 1 ] && [ "$(host_veths 1)" = 1 ]; }
check "burst pods deleted: only ping-a's address and veth remain" wait_until 10 only_ping_a

# ---- what a crash can leave behind, made on purpose: reconcile repairs it ------------------------------
kill -TERM "$(roostd_pid 1)"
wait_until 10 bash -c "! kill -0 $(roostd_pid 1) 2>/dev/null"
ip -n "$(ns n1)" link add vethdeadbeef type veth peer name orphanpeer
ip -n "$(ns n1)" link set vethdeadbeef master cni0 up
printf 'ghost\neth0\n1700000000\nroost\n' >"$RST_TMP/n1/state/roost/10.244.1.200"
roostd_start 1
wait_until 15 roostd_ready 1
check "reconcile: a veth of roost's name in cni0 with no reservation is deleted" \
	bash -c "! ip -n $(ns n1) link show vethdeadbeef >/dev/null 2>&1 &&
		grep -q \"roostd\\[$(roostd_pid 1)\\].*reconcile: deleted host veth 'vethdeadbeef'\" $RST_TMP/n1/roostd.log"
check "reconcile: a reservation whose veth is gone is released (10.244.1.200 of 'ghost')" \
	bash -c "[ ! -e $RST_TMP/n1/state/roost/10.244.1.200 ] &&
		grep -q 'reconcile: released 10.244.1.200 of container=ghost' $RST_TMP/n1/roostd.log"
check "reconcile: ping-a's own veth and address untouched" \
	bash -c "[ $(pool_used 1) = 1 ] && [ $(host_veths 1) = 1 ]"

# ---- roostd killed -9 at random points of 50 parallel ADDs, 20 times in a row -------------------------
# After each restart every reservation has its host veth and every roost veth
# a reservation, name for name (a veth created but not yet enslaved, or one
# whose DEL was answered but not yet deleted, included).
KILL_ROUNDS=${FAULTS_KILL_ROUNDS:-20}
for i in $(seq 1 50); do
	ns_add "n1k$i"
done
pool_at_least() { [ "$(pool_used 1)" -ge "$1" ]; }
# veth_sets: "reserved" and "present" host veth names on node1, one per line.
veth_sets() {
	ip netns exec "$(ns n1)" "$ROOSTCTL" -s "$RST_TMP/n1/roostd.sock" -o json pods |
		jq -r '.pods[].host_veth' | sort >"$RST_TMP/reserved"
	ip -n "$(ns n1)" -o link show type veth | awk -F': ' '{sub(/@.*/, "", $2); print $2}' |
		grep '^veth' | sort >"$RST_TMP/present"
}
bad_rounds=0
kill_t0=$(now_ms)
for round in $(seq 1 "$KILL_ROUNDS"); do
	at=$((RANDOM % 50))
	base=$(pool_used 1)
	kpids=()
	for i in $(seq 1 50); do
		printf '%s' "$(netconf 1)" | ip netns exec "$(ns n1)" env -i CNI_COMMAND=ADD \
			CNI_CONTAINERID="k$round-$i" CNI_IFNAME=eth0 CNI_NETNS="/run/netns/$(ns "n1k$i")" \
			"$ROOST_CNI" >/dev/null 2>&1 &
		kpids+=($!)
	done
	# The random point: once `at` of this round's records are on disk.
	wait_until 10 pool_at_least $((base + at)) || true
	dead=$(roostd_pid 1)
	kill -KILL "$dead"
	wait "${kpids[@]}" || true
	# Gone for good (a thread in fsync or RTM_DELLINK finishes that
	# first) before the next one starts, as systemd would have it.
	wait_until 20 bash -c "! kill -0 $dead 2>/dev/null" || echo "# round $round: pid $dead still there"
	roostd_start 1
	if ! wait_until 15 roostd_ready 1; then
		bad_rounds=$((bad_rounds + 1))
		echo "# round $round: roostd not ready after restart; its log:"
		grep "roostd\[$(roostd_pid 1)\]" "$RST_TMP/n1/roostd.log" | tail -n 15 | sed 's/^/#   /'
		continue
	fi
	veth_sets
	if ! cmp -s "$RST_TMP/reserved" "$RST_TMP/present"; then
		bad_rounds=$((bad_rounds + 1))
		echo "# round $round (killed after $at records): reserved vs present host veths differ:"
		diff "$RST_TMP/reserved" "$RST_TMP/present" | sed 's/^/#   /'
	fi
	# The next round starts from ping-a alone.
	for i in $(seq 1 50); do
		printf '%s' "$(netconf 1)" | ip netns exec "$(ns n1)" env -i CNI_COMMAND=DEL \
			CNI_CONTAINERID="k$round-$i" CNI_IFNAME=eth0 CNI_NETNS="/run/netns/$(ns "n1k$i")" \
			"$ROOST_CNI" >"$RST_TMP/kdel-$i.out" 2>&1 &
		kpids[i]=$!
	done
	for i in $(seq 1 50); do
		wait "${kpids[i]}" ||
			echo "# round $round: DEL of k$round-$i failed: $(cat "$RST_TMP/kdel-$i.out")"
	done
done
measure "roostd killed -9 at random points of 50 parallel ADDs, $KILL_ROUNDS rounds: $(($(now_ms) - kill_t0)) ms"
check "kill -9 during 50 parallel ADDs, $KILL_ROUNDS times: after every restart each reservation has its veth and each roost veth a reservation" \
	test "$bad_rounds" = 0
check "kill -9 rounds: all DELs done, only ping-a's address and veth remain" wait_until 10 only_ping_a
if ! only_ping_a; then
	veth_sets
	echo "# reserved: $(tr '\n' ' ' <"$RST_TMP/reserved")"
	echo "# present: $(tr '\n' ' ' <"$RST_TMP/present")"
fi
for i in $(seq 1 50); do
	ip netns del "$(ns "n1k$i")"
done

# ---- rendered BIRD config corrupted while roostd is down -------------------------------------------
bpid=$(bird_pid 1)
kill -TERM "$(roostd_pid 1)"
wait_until 10 bash -c "! kill -0 $(roostd_pid 1) 2>/dev/null"
good=$(sha256sum <"$RST_TMP/n1/bird.conf")
printf 'protocol bgp broken {{{ this is not BIRD\n' >"$RST_TMP/n1/bird.conf"
ping_start corrupt 8
roostd_start 1
check "corrupted bird.conf: roostd rewrites it" \
	wait_until 15 bash -c "[ \"\$(sha256sum <$RST_TMP/n1/bird.conf)\" = '$good' ]"
check "corrupted bird.conf: BIRD kept running (same pid)" test "$(bird_pid 1)" = "$bpid"
check "corrupted bird.conf: BIRD accepted the rewritten file" \
	wait_until 10 log_has 1 'bird: configuration applied and confirmed'
ping_wait corrupt "bird.conf corrupted + roostd restart, pod to pod 10 ms ping"
check "corrupted bird.conf: no pod packet lost" ping_no_loss corrupt

# ---- a node's uplink flapped -----------------------------------------------------------------------------
r1=$(roostd_pid 2)
b1=$(bird_pid 2)
ip -n "$(ns n2)" link set eth0 down
wait_until 15 no_kernel_route 1 10.244.2.0/24 || true
ip -n "$(ns n2)" link set eth0 up
t0=$(now_ms)
if wait_until 60 kernel_route 1 10.244.2.0/24 172.31.0.12 && wait_until 60 kernel_route 2 10.244.1.0/24 172.31.0.11; then
	measure "uplink of node2 down/up: routes back in both kernels $(($(now_ms) - t0)) ms after link up"
fi
check "uplink flap: node1 has node2's /24 again" kernel_route 1 10.244.2.0/24 172.31.0.12
check "uplink flap: node2 has node1's /24 again" kernel_route 2 10.244.1.0/24 172.31.0.11
check "uplink flap: pods reach each other again" \
	wait_until 15 ip netns exec "$(ns n1p1)" ping -c 1 -W 1 "$B"
check "uplink flap: nothing was restarted (roostd and BIRD pids unchanged)" \
	bash -c "[ $(roostd_pid 2) = $r1 ] && [ $(bird_pid 2) = $b1 ] && kill -0 $r1"

# ---- state_dir full during ADD -----------------------------------------------------------------------------
# node3 runs with its state on a 16 KiB tmpfs, mounted in roostd's own mount
# namespace (slave: pod namespaces mounted later still reach it; the tmpfs
# is seen nowhere else).
node_add 3
node_conf 3 1
d3="$RST_TMP/n3"
mkdir -p "$d3/state"
ip netns exec "$(ns n3)" unshare -m --propagation slave sh -c \
	"mount -t tmpfs -o size=16k tmpfs '$d3/state' && exec '$ROOSTD' -c '$d3/roostd.conf'" \
	>>"$d3/roostd.log" 2>&1 &
echo $! >"$d3/roostd.pid"
RST_PIDS+=($!)
wait_until 10 test -S "$d3/roostd.sock"
filled=0
for i in $(seq 1 60); do
	pod_ns_add 3 "f$i"
	if ! cni 3 ADD "fill-$i" eth0 "/run/netns/$(ns "n3pf$i")"; then
		filled=$i
		break
	fi
done
measure "state_dir on a 16 KiB tmpfs: ADD number $filled found it full: $(jq -c . "$RST_TMP/cni.out")"
check "state_dir full: ADD fails with a clear error (code 102, no space)" \
	jq -e '.code == 102 and (.msg | test("No space left"))' "$RST_TMP/cni.out"
used=$(ip netns exec "$(ns n3)" "$ROOSTCTL" -s "$d3/roostd.sock" -o json pods | jq '.pool_used')
check "state_dir full: the failed ADD left no veth and no reservation ($used held, $((filled - 1)) pods)" \
	bash -c "[ '$used' = $((filled - 1)) ] && [ $(host_veths 3) = $((filled - 1)) ]"
check "state_dir full: no half-written record in the pool folder" \
	bash -c "! ip netns exec $(ns n3) ls -a '$d3/state/roost' 2>/dev/null | grep -q '^\\.tmp'"
if cni 3 DEL fill-1 eth0 "/run/netns/$(ns n3pf1)" &&
	cni 3 ADD "fill-$filled" eth0 "/run/netns/$(ns "n3pf$filled")"; then
	ok "state_dir full: DEL still works and frees room for the next ADD"
else
	not_ok "state_dir full: DEL still works and frees room for the next ADD" "$(cat "$RST_TMP/cni.out")"
fi

# ---- 50 parallel ADD/DEL loops on node1 -----------------------------------------------------------------------
for i in $(seq 1 50); do
	ns_add "n1l$i"
done
stop_at=$(($(now_ms) + LOOP_SECONDS * 1000))
for i in $(seq 1 50); do
	(
		n=0
		bad=0
		while [ "$(now_ms)" -lt "$stop_at" ]; do
			out=$(printf '%s' "$(netconf 1)" | ip netns exec "$(ns n1)" env -i CNI_COMMAND=ADD \
				CNI_CONTAINERID="loop-$i-$n" CNI_IFNAME=eth0 \
				CNI_NETNS="/run/netns/$(ns "n1l$i")" "$ROOST_CNI" 2>&1) ||
				{ bad=$((bad + 1)); echo "$(date +%T.%3N) ADD loop-$i-$n: $out" >>"$RST_TMP/loop-errors.txt"; }
			echo "$(jq -r '.ips[0].address // "none"' <<<"$out" 2>/dev/null) loop-$i-$n" >>"$RST_TMP/loop-$i.addrs"
			out=$(printf '%s' "$(netconf 1)" | ip netns exec "$(ns n1)" env -i CNI_COMMAND=DEL \
				CNI_CONTAINERID="loop-$i-$n" CNI_IFNAME=eth0 \
				CNI_NETNS="/run/netns/$(ns "n1l$i")" "$ROOST_CNI" 2>&1) ||
				{ bad=$((bad + 1)); echo "$(date +%T.%3N) DEL loop-$i-$n: $out" >>"$RST_TMP/loop-errors.txt"; }
			n=$((n + 1))
		done
		echo "$n $bad" >"$RST_TMP/loop-$i.done"
	) &
done
# While the loops run: no address is ever held by two pods at once.
dups=0
samples=0
while [ "$(now_ms)" -lt "$stop_at" ]; do
	samples=$((samples + 1))
	held=$(for i in $(seq 1 50); do ip -n "$(ns "n1l$i")" -4 -o addr show eth0 2>/dev/null | awk '{print $4}'; done)
	d=$(printf '%s\n' "$held" | grep . | sort | uniq -d | wc -l)
	dups=$((dups + d))
	sleep 1
done
wait_until 60 bash -c "[ \$(ls $RST_TMP/loop-*.done 2>/dev/null | wc -l) = 50 ]"
cycles=$(cat "$RST_TMP"/loop-*.done | awk '{s += $1} END {print s}')
errors=$(cat "$RST_TMP"/loop-*.done | awk '{s += $2} END {print s}')
measure "50 parallel ADD/DEL loops for ${LOOP_SECONDS} s: $cycles cycles, $errors errors, $samples samples"
check "parallel loops: no address held by two pods at once ($samples samples)" test "$dups" = 0
if [ "$errors" = 0 ]; then
	ok "parallel loops: every ADD and DEL succeeded"
else
	not_ok "parallel loops: every ADD and DEL succeeded" "$(head -c 2000 "$RST_TMP/loop-errors.txt")"
fi
if wait_until 10 only_ping_a; then
	ok "parallel loops: at the end only ping-a's address and veth remain"
else
	not_ok "parallel loops: at the end only ping-a's address and veth remain" \
		"$(ip netns exec "$(ns n1)" "$ROOSTCTL" -s "$RST_TMP/n1/roostd.sock" pods 2>&1 | head -20;
			ip -n "$(ns n1)" -o link show master cni0 | awk '{print $2}' | head -20)"
fi
check "pods still reach each other after all that" \
	ip netns exec "$(ns n1p1)" ping -c 1 -W 2 "$B"

rst_finish
