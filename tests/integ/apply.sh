#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# apply.sh - what BIRD runs after roostd dies in the middle of applying a
# configuration. A SIGHUP adds a mesh neighbour; roostd is killed (test hook
# ROOST_TEST_CRASH_AT=confirm, SIGKILL) after `configure timeout` and before
# `configure confirm`; BIRD undoes the change in memory while the new file
# stays on disk. The restarted roostd must apply and confirm it, and a
# second restart must leave BIRD alone. Also: the hash roostd logs and
# renders is not the SHA-256 of a config file that holds a BGP password.
. "$(dirname "$0")/lib.sh"

TIMEOUT=5 # node1's bird.configure_timeout: BIRD undoes this long after `configure timeout`

# conf1 N: node1's config for an N-node mesh, with a password peer (a ToR
# that never answers) and a short configure timeout.
conf1() {
	node_conf 1 "$1" 'peers = ( { name = "tor1"; address = "172.31.0.1"; asn = 65000; password = "s3cret-pw"; } );'
	sed -i "s|pidfile = \"[^\"]*\";|& configure_timeout = $TIMEOUT;|" "$RST_TMP/n1/roostd.conf"
}
has_proto() { birdc_n "$1" show protocols | grep -q "^$2 "; }
no_proto() {
	local out
	out=$(birdc_n "$1" show protocols) || return 1
	! grep -q "^$2 " <<<"$out"
}
# confirmed K: nK's BIRD is up and has no unconfirmed configuration pending.
confirmed() {
	local out
	out=$(birdc_n "$1" configure status) || return 1
	grep -q "up and running" <<<"$out" && ! grep -qi "unconfirmed" <<<"$out"
}
# gone PID: the process has exited (a zombie counts: it is our child).
gone() { [ ! -e "/proc/$1" ] || grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat"; }

fabric_up
node_add 1
node_add 2
conf1 1
node_conf 2 2
d1="$RST_TMP/n1"
ip netns exec "$(ns n1)" env ROOST_TEST_CRASH_AT=confirm "$ROOSTD" -c "$d1/roostd.conf" \
	>>"$d1/roostd.log" 2>&1 &
echo $! >"$d1/roostd.pid"
RST_PIDS+=($!)
roostd_start 2
wait_until 15 roostd_ready 1
wait_until 15 roostd_ready 2
check "node1's BIRD starts without a session to node2" no_proto 1 node_node2
check "node1's BIRD has the password peer" has_proto 1 peer_tor1

# ---- the hash in the log and the header is no password oracle ----------------------------------
file_hash=$(sha256sum "$d1/roostd.conf" | cut -d' ' -f1)
header_hash=$(sed -n 's/^# Source: .* (sha256 \([0-9a-f]*\))$/\1/p' "$d1/bird.conf")
check "the SHA-256 of roostd.conf (it holds a BGP password) is not in roostd's log" \
	bash -c "! grep -q $file_hash '$d1/roostd.log'"
check "nor in the rendered bird.conf" bash -c "! grep -q $file_hash '$d1/bird.conf'"
check "the header's hash ($header_hash) is the one roostd logs at start" \
	log_has 1 "starting: .* hash=${header_hash:-none}$"

# ---- roostd killed between `configure timeout` and `configure confirm` -------------------------
pid1=$(roostd_pid 1)
bird1=$(bird_pid 1)
conf1 2
kill -HUP "$pid1"
check "roostd is killed by the test hook after a SIGHUP that adds node2" wait_until 60 gone "$pid1"
wait "$pid1" 2>/dev/null
rc=$?
check "roostd died of SIGKILL right before confirm (status $rc)" \
	bash -c "[ $rc = 137 ] && grep -q 'roostd\[$pid1\].*ROOST_TEST_CRASH_AT=confirm' '$d1/roostd.log'"
check "BIRD (pid $bird1) keeps running" kill -0 "$bird1"
check "the new configuration is on disk" grep -q "^protocol bgp node_node2" "$d1/bird.conf"
check "BIRD undoes the unconfirmed configuration after ${TIMEOUT}s" \
	wait_until $((TIMEOUT + 20)) log_has 1 "Config timeout expired, starting undo"
check "so BIRD runs the old configuration (no node_node2)" wait_until 10 no_proto 1 node_node2

# ---- restart: the configuration on disk was never confirmed, so it is applied -------------------
roostd_start 1
wait_until 20 roostd_ready 1
pid1=$(roostd_pid 1)
check "the restarted roostd applies and confirms it" \
	log_has 1 "roostd\[$pid1\].*bird: configuration applied and confirmed"
check "node1's BIRD runs the new configuration (node_node2 present)" has_proto 1 node_node2
check "and has nothing left to confirm or undo" confirmed 1
check "the session to node2 is Established" wait_until 30 established 1 node_node2
check "node1's kernel has node2's /24 via node2" \
	wait_until 30 kernel_route 1 10.244.2.0/24 172.31.0.12
check "BIRD is still pid $bird1 (reconfigured, not restarted)" test "$(bird_pid 1)" = "$bird1"

# ---- a plain restart leaves BIRD alone -------------------------------------------------------
# First the configuration settles: node1 learns node2 as the owner of its
# /24 (the first announcer) and applies that import policy.
settled() {
	grep -q 'if net = 10.244.2.0/24 then return bgp_next_hop = 172.31.0.12;' "$d1/bird.conf" &&
		grep -q "roostd\[$pid1\].*owner: import policy applied" "$d1/roostd.log" && confirmed 1
}
check "node1 learned node2 as its /24's owner and applied that policy" wait_until 15 settled
kill -TERM "$pid1"
wait "$pid1" 2>/dev/null
roostd_start 1
wait_until 20 roostd_ready 1
pid1=$(roostd_pid 1)
check "a second restart finds BIRD confirmed on the same text: no configure" \
	bash -c "grep -q 'roostd\[$pid1\].*ready:' '$d1/roostd.log' &&
		! grep -q 'roostd\[$pid1\].*bird: configuration applied' '$d1/roostd.log'"
check "the session to node2 stays Established" established 1 node_node2

rst_finish
