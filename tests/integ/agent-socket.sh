#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# agent-socket.sh - bad input on roostd's agent socket: garbage, a wrong
# protocol version, an oversized length, a truncated body, a body that is not
# JSON, and a flood of idle connections. Each gets a clear error (or is
# dropped), memory stays bounded, and roostd keeps serving real requests.
. "$(dirname "$0")/lib.sh"

fabric_up
node_add 1
node_conf 1 1
roostd_start 1
wait_until 15 roostd_ready 1
SOCK=$RST_TMP/n1/roostd.sock
pod_ns_add 1 1

# raw BYTES: sends printf-escaped BYTES, prints roostd's reply body (the JSON
# after the 12-byte header).
raw() {
	printf "$1" | socat -t 3 - "UNIX-CONNECT:$SOCK" 2>/dev/null | tail -c +13
}
expect_error() {
	local desc=$1 code=$2 pattern=$3 reply=$4
	if jq -e --argjson c "$code" --arg p "$pattern" \
		'.ok == false and .error.code == $c and ((.error.msg + " " + (.error.details // "")) | test($p))' \
		<<<"$reply" >/dev/null 2>&1; then
		ok "$desc -> code $code: $(jq -r '.error.details // .error.msg' <<<"$reply")"
	else
		not_ok "$desc -> code $code /$pattern/" "reply: $reply"
	fi
}

expect_error "garbage (an HTTP request)" 6 "magic" "$(raw 'GET / HTTP/1.0\r\n\r\n')"
expect_error "wrong protocol version (2)" 6 "version 2" \
	"$(raw '\x52\x53\x54\x31\x00\x00\x00\x02\x00\x00\x00\x02{}')"
expect_error "oversized length (2 GiB)" 6 "out of range" \
	"$(raw '\x52\x53\x54\x31\x00\x00\x00\x01\x7f\xff\xff\xff')"
expect_error "body that is not JSON" 6 "not a JSON object" \
	"$(raw '\x52\x53\x54\x31\x00\x00\x00\x01\x00\x00\x00\x05hello')"
expect_error "JSON that is not an object" 6 "not a JSON object" \
	"$(raw '\x52\x53\x54\x31\x00\x00\x00\x01\x00\x00\x00\x02[]')"
expect_error "request without a verb" 7 "verb" \
	"$(raw '\x52\x53\x54\x31\x00\x00\x00\x01\x00\x00\x00\x02{}')"
expect_error "an unknown verb" 4 "unknown verb" \
	"$(raw '\x52\x53\x54\x31\x00\x00\x00\x01\x00\x00\x00\x22{"verb":"FROB","network":"roost"}\x20')"
# "netns_fd":true says the namespace comes as a file descriptor: without
# one, roostd must not fall back to the path (another namespace, for a
# roostd in a container).
expect_error "ADD announcing a namespace fd but passing none" 4 "none came with it" \
	"$(raw '\x52\x53\x54\x31\x00\x00\x00\x01\x00\x00\x00\x6d{"verb":"ADD","network":"roost","container_id":"nofd","ifname":"eth0","netns":"/run/netns/x","netns_fd":true}')"
raw '\x52\x53\x54\x31\x00\x00\x00\x01\x00\x00\x00\x64{"verb":' >/dev/null
check "a truncated body is logged and dropped" \
	wait_until 5 log_has 1 'agent: pid [0-9]+ closed after 8 of 100 body bytes'
expect_error "a request that never completes is dropped after 2 s" 11 "timed out" \
	"$(printf '\x52\x53\x54\x31\x00\x00\x00\x01\x00\x00\x00\x64{' |
		socat -t 5 - "UNIX-CONNECT:$SOCK" 2>/dev/null | tail -c +13)"
check "after all that, ADD works" cni 1 ADD after-bad eth0 "/run/netns/$(ns n1p1)"
check "and DEL works" cni 1 DEL after-bad eth0 "/run/netns/$(ns n1p1)"

# ---- a flood of idle connections ------------------------------------------------------------
rss_before=$(awk '/^VmRSS:/ {print $2}' "/proc/$(roostd_pid 1)/status")
flood=()
for i in $(seq 1 150); do
	sleep 8 | socat -u - "UNIX-CONNECT:$SOCK" >/dev/null 2>&1 &
	flood+=($!)
done
RST_PIDS+=("${flood[@]}")
wait_until 5 bash -c "[ \$(ls /proc/$(roostd_pid 1)/fd | wc -l) -ge 60 ]"
# A runtime retries a code 11: do the same, bounded.
added=no
t0=$(now_ms)
while [ $(($(now_ms) - t0)) -lt 15000 ]; do
	if cni 1 ADD during-flood eth0 "/run/netns/$(ns n1p1)"; then
		added=yes
		break
	fi
	jq -e '.code == 11' "$RST_TMP/cni.out" >/dev/null || break
	sleep 0.2
done
measure "ADD during a flood of 150 idle connections: $added after $(($(now_ms) - t0)) ms"
check "flood: roostd keeps serving (an ADD retried on code 11 succeeds)" test "$added" = yes
check "flood: connections beyond the limit are told roostd is busy" \
	log_has 1 'agent: 64 connections open, refusing one'
rss_after=$(awk '/^VmRSS:/ {print $2}' "/proc/$(roostd_pid 1)/status")
measure "roostd RSS before/after the flood: $rss_before / $rss_after KiB"
check "flood: roostd's memory grew by less than 16 MiB" test $((rss_after - rss_before)) -lt 16384
for p in "${flood[@]}"; do kill "$p" 2>/dev/null; done
check "flood over: roostd still answers STATUS" \
	wait_until 10 cni 1 STATUS "" "" "" "$(netconf 1 1.1.0)"
cni 1 DEL during-flood eth0 "/run/netns/$(ns n1p1)"

rst_finish
