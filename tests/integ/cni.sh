#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# cni.sh - the CNI conformance checklist (docs/design.md, appendix)
# against the real plugin and a real roostd, driven as a runtime drives it:
# environment + stdin, inside the node's namespace. Every failing request is
# also checked to leave nothing behind (no host veth, no reservation).
. "$(dirname "$0")/lib.sh"

fabric_up
node_add 1
node_conf 1 1
roostd_start 1
wait_until 10 test -S "$RST_TMP/n1/roostd.sock"

# expect_err CODE DESC: the last plugin run failed with CNI error CODE.
expect_err() {
	local code=$1 desc=$2 got
	got=$(jq -r '.code' "$RST_TMP/cni.out" 2>/dev/null)
	if [ "$got" = "$code" ] && jq -e '.msg | length > 0' "$RST_TMP/cni.out" >/dev/null; then
		ok "$desc -> code $code: $(jq -r '.msg' "$RST_TMP/cni.out")"
	else
		not_ok "$desc -> code $code" "got: $(cat "$RST_TMP/cni.out") $(cat "$RST_TMP/cni.err")"
	fi
}

# nothing_left DESC: no host veth and no reservation on node1 (DEL answers
# before the kernel has deleted the veth: its teardown gets a bounded wait).
veths_and_pool() { [ "$(host_veths 1)" = "$1" ] && [ "$(pool_used 1)" = "$2" ]; }
nothing_left() {
	if wait_until 5 veths_and_pool 0 0; then
		ok "$1: nothing left behind"
	else
		not_ok "$1: nothing left behind" "veths: $(host_veths 1), reservations: $(pool_used 1)"
	fi
}

NS1=/run/netns/$(ns n1p1)
pod_ns_add 1 1
pod_ns_add 1 2

# ---- ADD and the result (ADD-01, 06..13) ---------------------------------------------------
check "ADD-01 ADD succeeds" cni 1 ADD c1 eth0 "$NS1"
R=$RST_TMP/add-result.json
cp "$RST_TMP/cni.out" "$R"
check "ADD-06 result cniVersion is the request's (1.0.0)" \
	jq -e '.cniVersion == "1.0.0"' "$R"
check "ADD-07/12 interfaces: cni0, host veth, eth0 with sandbox = CNI_NETNS" \
	jq -e --arg ns "$NS1" '.interfaces | length == 3 and .[0].name == "cni0" and
		(.[1].name | test("^veth[0-9a-f]{11}$")) and .[2].name == "eth0" and .[2].sandbox == $ns
		and (.[0].sandbox // "") == "" and all(.[]; .mac | test("^([0-9a-f]{2}:){5}[0-9a-f]{2}$"))' "$R"
check "ADD-08/09 ips[0]: 10.244.1.N/24, gateway 10.244.1.1, interface 2, no version field" \
	jq -e '.ips | length == 1 and (.[0].address | test("^10\\.244\\.1\\.[0-9]+/24$")) and
		.[0].gateway == "10.244.1.1" and .[0].interface == 2 and (.[0] | has("version") | not)' "$R"
check "ADD-10/12 routes: default and 10.244.0.0/16 via 10.244.1.1" \
	jq -e '.routes == [{"dst":"0.0.0.0/0","gw":"10.244.1.1"},{"dst":"10.244.0.0/16","gw":"10.244.1.1"}]' "$R"
check "ADD-11 dns object present" jq -e '.dns | type == "object"' "$R"
addr=$(jq -r '.ips[0].address' "$R")
check "ADD-13 pod side: eth0 up with $addr" \
	bash -c "ip -n $(ns n1p1) -br addr show eth0 | grep -q 'UP .*$addr'"
check "ADD-13 pod side: the MAC in the result is eth0's" \
	bash -c "ip -n $(ns n1p1) link show eth0 | grep -q \"$(jq -r '.interfaces[2].mac' "$R")\""
check "ADD-14 host side: veth in cni0, hairpin on, up, MTU 1500" \
	bash -c "ip -n $(ns n1) -d link show $(jq -r '.interfaces[1].name' "$R") |
		grep -q 'mtu 1500 .*master cni0 .*state UP' &&
		ip -n $(ns n1) -d link show $(jq -r '.interfaces[1].name' "$R") | grep -q 'hairpin on'"
check "ADD-14 host side: the veth's alias names its attachment (roost:sha256 of c1/eth0)" \
	bash -c "ip -n $(ns n1) -d link show $(jq -r '.interfaces[1].name' "$R") |
		grep -q \"alias roost:$(printf '%s' c1/eth0 | sha256sum | cut -c1-64)\""
check "ADD-15 address is not .0, .1 or .255" \
	bash -c "! [[ $addr =~ \\.(0|1|255)/24$ ]]"

# ---- CHECK (CHK-04..09) ----------------------------------------------------------------------
conf_prev() { jq -c --argjson prev "$(cat "$R")" '. + {prevResult: $prev}' <<<"$(netconf 1)"; }
if cni 1 CHECK c1 eth0 "$NS1" "$(conf_prev)" && [ ! -s "$RST_TMP/cni.out" ]; then
	ok "CHK-07 CHECK right after ADD passes, silently"
else
	not_ok "CHK-07 CHECK right after ADD passes, silently" "$(cat "$RST_TMP/cni.out")"
fi
before=$(ip -n "$(ns n1p1)" addr; ip -n "$(ns n1p1)" route; ip -n "$(ns n1)" link)
cni 1 CHECK c1 eth0 "$NS1" "$(conf_prev)"
after=$(ip -n "$(ns n1p1)" addr; ip -n "$(ns n1p1)" route; ip -n "$(ns n1)" link)
check "CHK-09 CHECK changes nothing" test "$before" = "$after"
cni 1 CHECK c1 eth0 "$NS1"
expect_err 7 "CHK-02 CHECK without prevResult"
ip -n "$(ns n1p1)" route del 10.244.0.0/16
cni 1 CHECK c1 eth0 "$NS1" "$(conf_prev)"
expect_err 103 "CHK-05 CHECK after the cluster route was removed"
ip -n "$(ns n1p1)" route add 10.244.0.0/16 via 10.244.1.1 dev eth0
ip -n "$(ns n1p1)" addr del "$addr" dev eth0
cni 1 CHECK c1 eth0 "$NS1" "$(conf_prev)"
expect_err 103 "CHK-05 CHECK after the address was removed"
ip -n "$(ns n1p1)" addr add "$addr" dev eth0
ip -n "$(ns n1p1)" route replace default via 10.244.1.1 dev eth0
ip -n "$(ns n1p1)" route replace 10.244.0.0/16 via 10.244.1.1 dev eth0
hv=$(jq -r '.interfaces[1].name' "$R")
ip -n "$(ns n1)" link set "$hv" nomaster
cni 1 CHECK c1 eth0 "$NS1" "$(conf_prev)"
expect_err 103 "CHK-05 CHECK after the host veth left the bridge"
ip -n "$(ns n1)" link set "$hv" master cni0
check "CHK-04 CHECK passes again once repaired" cni 1 CHECK c1 eth0 "$NS1" "$(conf_prev)"

# ---- ADD errors leave nothing (ADD-02, 03, ENV-09, 10) ---------------------------------------
cni 1 ADD c1 eth0 "$NS1"
expect_err 101 "ADD-03 second ADD of the same (container, ifname)"
check "ADD-03 the first attachment is untouched" test "$(pool_used 1)" = 1
cni 1 ADD c1 net1 "$NS1"
check "ADD-03 same container, another ifname: a separate attachment" \
	jq -e '.ips[0].address != "'"$addr"'"' "$RST_TMP/cni.out"
cni 1 DEL c1 net1 "$NS1"
cni 1 DEL c1 eth0 "$NS1"
nothing_left "DEL of both attachments"

ip -n "$(ns n1p2)" link add eth0 type veth peer name other0
cni 1 ADD c2 eth0 "/run/netns/$(ns n1p2)"
expect_err 4 "ADD-02 CNI_IFNAME already exists in the netns"
nothing_left "ADD-02"
ip -n "$(ns n1p2)" link del eth0

cni 1 ADD c3 eth0 "/run/netns/$RST_PREFIX-nosuch"
expect_err 4 "ENV-09 CNI_NETNS does not exist"
nothing_left "ENV-09"
cni 1 ADD c3 eth0 "/proc/self/ns/net"
expect_err 4 "ENV-10 CNI_NETNS is the node's own namespace"
nothing_left "ENV-10"
cni 1 ADD c3 eth0 /etc/hostname
expect_err 4 "ENV-09 CNI_NETNS is not a network namespace"
nothing_left "ENV-09 (not a namespace)"

# A FIFO at CNI_NETNS: roostd must not block opening it (it would hang for
# ever, and every request behind it).
mkfifo "$RST_TMP/fifo-ns"
cni 1 ADD c3 eth0 "$RST_TMP/fifo-ns" &
fifo_pid=$!
check "ENV-09 CNI_NETNS is a FIFO: answered within 5 s" wait_until 5 bash -c "! kill -0 $fifo_pid"
wait "$fifo_pid"
expect_err 4 "ENV-09 CNI_NETNS is a FIFO"
check "ENV-09 ... the error says it is not a network namespace" \
	jq -e '.msg | test("not a network namespace")' "$RST_TMP/cni.out"
nothing_left "ENV-09 (a FIFO)"

# A container id longer than roost keeps (255): refused before anything
# hashes or stores it (this build runs under ASan: an over-read aborts).
long=$(printf 'a%.0s' $(seq 1 300))
cni 1 ADD "$long" eth0 "$NS1"
expect_err 4 "ENV-05 ADD with a 300-character container id"
cni 1 DEL "$long" eth0 "$NS1"
expect_err 4 "ENV-05 DEL with a 300-character container id"
check "ENV-05 ... roostd is still alive" kill -0 "$(roostd_pid 1)"
check "ENV-05 ... and still serves" cni 1 DEL never eth0 ""
nothing_left "ENV-05 (300-character container id)"

# ---- host veth names: a clash with another attachment's veth is an error, never a deletion --------------
hv=veth$(printf '%s' clash/eth0 | sha256sum | cut -c1-11)
ip -n "$(ns n1)" link add "$hv" type veth peer name clashpeer
ip -n "$(ns n1)" link set "$hv" alias "roost:$(printf '%s' other/eth0 | sha256sum | cut -c1-64)"
cni 1 ADD clash eth0 "$NS1"
expect_err 102 "ADD whose host veth name ($hv) is another attachment's veth"
check "... the other attachment's veth is left alone" ip -n "$(ns n1)" link show "$hv"
check "... and the failed ADD holds no address" test "$(pool_used 1)" = 0
check "DEL of that attachment: success" cni 1 DEL clash eth0 "$NS1"
check "... and the other attachment's veth is still left alone" ip -n "$(ns n1)" link show "$hv"
ip -n "$(ns n1)" link set "$hv" alias "roost:$(printf '%s' clash/eth0 | sha256sum | cut -c1-64)"
check "ADD over debris of this attachment's own interrupted ADD (its alias): success" \
	cni 1 ADD clash eth0 "$NS1"
check "... the debris went (its peer with it)" bash -c "! ip -n $(ns n1) link show clashpeer"
cni 1 DEL clash eth0 "$NS1"
nothing_left "host veth name clash"

# ---- DEL then ADD at once: the veth still being deleted is waited for -------------------------------
cni 1 ADD again eth0 "$NS1"
if cni 1 DEL again eth0 "$NS1" && cni 1 ADD again eth0 "$NS1"; then
	ok "DEL then ADD of the same attachment in the same netns, back to back: success"
else
	not_ok "DEL then ADD of the same attachment in the same netns, back to back: success" \
		"$(cat "$RST_TMP/cni.out")"
fi
cni 1 DEL again eth0 "$NS1"
if cni 1 ADD again2 eth0 "$NS1" && cni 1 DEL again2 eth0 "$NS1" && cni 1 ADD again3 eth0 "$NS1"; then
	ok "DEL then ADD of a new container in the same netns (same ifname), back to back: success"
else
	not_ok "DEL then ADD of a new container in the same netns (same ifname), back to back: success" \
		"$(cat "$RST_TMP/cni.out")"
fi
cni 1 DEL again3 eth0 "$NS1"
nothing_left "DEL then ADD"
measure "DEL then ADD back to back: $(grep -c 'waits for a teardown' "$RST_TMP/n1/roostd.log") ADD(s) waited for the previous veth's teardown"

# ---- DEL (DEL-01, 02) ----------------------------------------------------------------------------
check "DEL-01 DEL of an attachment never added: success" cni 1 DEL never eth0 "$NS1"
check "DEL-01 DEL with an empty CNI_NETNS: success" cni 1 DEL never eth0 ""
check "DEL-01 DEL with a CNI_NETNS that does not exist: success" \
	cni 1 DEL never eth0 "/run/netns/$RST_PREFIX-nosuch"
check "DEL-01 DEL prints nothing" test ! -s "$RST_TMP/cni.out"
pod_ns_add 1 3
cni 1 ADD c4 eth0 "/run/netns/$(ns n1p3)"
a4=$(jq -r '.ips[0].address' "$RST_TMP/cni.out")
ip netns del "$(ns n1p3)"
check "DEL-02 DEL after the netns was deleted: success" cni 1 DEL c4 eth0 "/run/netns/$(ns n1p3)"
nothing_left "DEL-02"
check "DEL-01 DEL repeated: success" cni 1 DEL c4 eth0 "/run/netns/$(ns n1p3)"

# ---- STATUS and GC (1.1.0) -------------------------------------------------------------------------
check "STS-03 STATUS on a healthy node: success" cni 1 STATUS "" "" "" "$(netconf 1 1.1.0)"
cni 1 ADD g1 eth0 "$NS1" "$(netconf 1 1.1.0)"
check "ADD 1.1.0 result carries the MTU" jq -e '.interfaces[2].mtu == 1500' "$RST_TMP/cni.out"
pod_ns_add 1 4
cni 1 ADD g2 eth0 "/run/netns/$(ns n1p4)" "$(netconf 1 1.1.0)"
gc_in=$(jq -c '. + {"cni.dev/valid-attachments": [{"containerID":"g1","ifname":"eth0"}]}' \
	<<<"$(netconf 1 1.1.0)")
check "GC-03 GC keeping g1: success" cni 1 GC "" "" "" "$gc_in"
check "GC-03 GC released g2 and kept g1" test "$(pool_used 1)" = 1
check "GC-03 GC removed g2's host veth" wait_until 5 veths_and_pool 1 1
check "GC-06 GC again: a no-op success" cni 1 GC "" "" "" "$gc_in"
cni 1 GC "" "" "" "$(netconf 1 1.1.0)"
expect_err 7 "GC-09 GC with no valid-attachments list"
check "GC-09 ... released nothing" test "$(pool_used 1)" = 1
cni 1 DEL g1 eth0 "$NS1" "$(netconf 1 1.1.0)"

# GC and DEL hand an address out again only once the old veth is gone: a
# node whose /30 holds one pod address; GC frees it, the next ADD (sent at
# once) gets it, and by then the old pod's interface is gone.
node_add 2
node_conf 2 1
sed -i 's|10.244.2.0/24|10.244.2.0/30|' "$RST_TMP/n2/roostd.conf"
roostd_start 2
wait_until 10 test -S "$RST_TMP/n2/roostd.sock"
pod_ns_add 2 1
pod_ns_add 2 2
cni 2 ADD gca eth0 "/run/netns/$(ns n2p1)" "$(netconf 2 1.1.0)"
check "GC order: the /30 node's one pod address went to gca" \
	jq -e '.ips[0].address == "10.244.2.2/30"' "$RST_TMP/cni.out"
gc_none=$(jq -c '. + {"cni.dev/valid-attachments": []}' <<<"$(netconf 2 1.1.0)")
check "GC order: GC of gca: success" cni 2 GC "" "" "" "$gc_none"
cni 2 ADD gcb eth0 "/run/netns/$(ns n2p2)" "$(netconf 2 1.1.0)"
check "GC order: the next ADD, sent at once, gets 10.244.2.2" \
	jq -e '.ips[0].address == "10.244.2.2/30"' "$RST_TMP/cni.out"
check "GC order: ... and gca's interface was gone by then" \
	bash -c "! ip -n $(ns n2p1) link show eth0 >/dev/null 2>&1"
check "DEL order: DEL of gcb: success" cni 2 DEL gcb eth0 "/run/netns/$(ns n2p2)"
cni 2 ADD gcc eth0 "/run/netns/$(ns n2p1)" "$(netconf 2 1.1.0)"
check "DEL order: the next ADD gets 10.244.2.2 ..." \
	jq -e '.ips[0].address == "10.244.2.2/30"' "$RST_TMP/cni.out"
check "DEL order: ... and gcb's interface was gone by then" \
	bash -c "! ip -n $(ns n2p2) link show eth0 >/dev/null 2>&1"
cni 2 DEL gcc eth0 "/run/netns/$(ns n2p1)"

kill -TERM "$(roostd_pid 1)"
wait_until 10 bash -c "! kill -0 $(roostd_pid 1) 2>/dev/null"
cni 1 STATUS "" "" "" "$(netconf 1 1.1.0)"
expect_err 50 "STS-04 STATUS with roostd down"
cni 1 ADD c5 eth0 "$NS1"
expect_err 11 "DEL-06/ERR ADD with roostd down (try again later)"
roostd_start 1
wait_until 10 test -S "$RST_TMP/n1/roostd.sock"
ip -n "$(ns n1)" link del cni0
cni 1 STATUS "" "" "" "$(netconf 1 1.1.0)"
expect_err 51 "STS-05 STATUS with the bridge gone (existing pods cut off)"
pod_ns_add 1 5
check "ADD after the bridge was deleted: roostd recreates it" \
	cni 1 ADD c6 eth0 "/run/netns/$(ns n1p5)"
check "STS-03 STATUS healthy again" cni 1 STATUS "" "" "" "$(netconf 1 1.1.0)"
cni 1 DEL c6 eth0 "/run/netns/$(ns n1p5)"
kill -STOP "$(bird_pid 1)"
cni 1 STATUS "" "" "" "$(netconf 1 1.1.0)"
stopped=$(jq -r .code "$RST_TMP/cni.out")
kill -CONT "$(bird_pid 1)"
check "STS-05 STATUS with BIRD hung (not answering) -> 51 (got $stopped)" test "$stopped" = 51
check "STS-03 STATUS healthy once BIRD answers again" \
	wait_until 15 cni 1 STATUS "" "" "" "$(netconf 1 1.1.0)"

# ---- agent socket safety ----------------------------------------------------------------------------
check "agent socket is mode 0600" bash -c "[ \$(stat -c %a $RST_TMP/n1/roostd.sock) = 600 ]"
check "a non-root caller is refused" \
	bash -c "printf '%s' '$(netconf 1 1.1.0)' | setpriv --reuid=65534 --regid=65534 --clear-groups \
		env -i CNI_COMMAND=STATUS $ROOST_CNI | jq -e '.code != null' >/dev/null"

rst_finish
