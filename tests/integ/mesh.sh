#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# mesh.sh - three nodes learn each other's pod /24 through BIRD (iBGP full
# mesh), and keep them through BIRD and roostd restarts; strict BFD removes a
# silently lost node's /24 within a second; a broken reload changes nothing.
. "$(dirname "$0")/lib.sh"

GW=(x 172.31.0.11 172.31.0.12 172.31.0.13)

fabric_up
for k in 1 2 3; do
	node_add "$k"
	node_conf "$k" 3
done

# ---- start: node1 and node2 first, then time node3 joining ---------------------
roostd_start 1
roostd_start 2
wait_until 30 kernel_route 1 10.244.2.0/24 172.31.0.12 &&
	wait_until 30 kernel_route 2 10.244.1.0/24 172.31.0.11
check "node1 and node2 learn each other's /24" kernel_route 1 10.244.2.0/24 172.31.0.12

t0=$(now_ms)
roostd_start 3
if wait_until 30 kernel_route 1 10.244.3.0/24 172.31.0.13 &&
	wait_until 30 kernel_route 2 10.244.3.0/24 172.31.0.13; then
	measure "node3 start -> its /24 in node1 and node2 kernels: $(($(now_ms) - t0)) ms"
fi
wait_until 30 kernel_route 3 10.244.1.0/24 172.31.0.11
wait_until 30 kernel_route 3 10.244.2.0/24 172.31.0.12

for k in 1 2 3; do
	for j in 1 2 3; do
		[ "$j" = "$k" ] && continue
		check "node$k kernel: 10.244.$j.0/24 via ${GW[$j]} proto bird" \
			kernel_route "$k" "10.244.$j.0/24" "${GW[$j]}"
	done
	check "node$k kernel: no BIRD route for its own 10.244.$k.0/24" \
		bash -c "! ip -n $(ns "n$k") route show 10.244.$k.0/24 proto bird | grep -q ."
	check "node$k: cni0 is up with 10.244.$k.1/24" \
		bash -c "ip -n $(ns "n$k") -br addr show cni0 | grep -q '10.244.$k.1/24' &&
			ip -n $(ns "n$k") link show cni0 | grep -q ',UP'"
	check "node$k: net.ipv4.ip_forward = 1" \
		bash -c "[ \"\$(ip netns exec $(ns "n$k") cat /proc/sys/net/ipv4/ip_forward)\" = 1 ]"
done

for j in 2 3; do
	check "birdc show route on node1: 10.244.$j.0/24 via ${GW[$j]} from node_node$j" \
		bash -c "$BIRDC -s $RST_TMP/n1/bird.ctl show route 10.244.$j.0/24 |
			grep -A1 -E '^10.244.$j.0/24 +unicast \[node_node$j ' | grep -q 'via ${GW[$j]} on eth0'"
	check "birdc show protocols on node1: node_node$j Established" established 1 "node_node$j"
done
check "birdc show route all on node1: 10.244.2.0/24 carries origin community (64512, 1, 2)" \
	bash -c "$BIRDC -s $RST_TMP/n1/bird.ctl show route all 10.244.2.0/24 |
		grep -q 'BGP.large_community: (64512, 1, 2)'"
check "rendered bird.conf is mode 0600" \
	bash -c "[ \"\$(stat -c %a $RST_TMP/n1/bird.conf)\" = 600 ]"
check "pod traffic is routed between nodes (node1 cni0 -> node3 cni0)" \
	ip netns exec "$(ns n1)" ping -c 2 -W 2 -I 10.244.1.1 10.244.3.1

# ---- BIRD crash on node3 with the defaults: nothing is lost ---------------------
# A 10 ms ping from node1's pod gateway to node3's runs through the restart.
old=$(bird_pid 3)
ip netns exec "$(ns n1)" ping -q -i 0.01 -w 25 -I 10.244.1.1 10.244.3.1 \
	>"$RST_TMP/ping-crash.txt" 2>&1 &
ping_pid=$!
kill -KILL "$old"
misses=0
samples=0
t0=$(now_ms)
deadline=$((t0 + 30000))
restarted=""
while [ "$(now_ms)" -lt "$deadline" ]; do
	samples=$((samples + 1))
	for k in 1 2; do
		kernel_route "$k" 10.244.3.0/24 172.31.0.13 || misses=$((misses + 1))
	done
	kernel_route 3 10.244.1.0/24 172.31.0.11 || misses=$((misses + 1))
	kernel_route 3 10.244.2.0/24 172.31.0.12 || misses=$((misses + 1))
	new=$(bird_pid 3)
	if [ -z "$restarted" ] && [ -n "$new" ] && [ "$new" != "$old" ] && ours "$new"; then
		restarted=$(($(now_ms) - t0))
	fi
	if [ -n "$restarted" ] && [ $((samples % 10)) = 0 ] && established 3 node_node1 &&
		established 3 node_node2; then
		break
	fi
	sleep 0.05
done
check "node3 BIRD killed -9: roostd restarted it (in ${restarted:-?} ms)" test -n "$restarted"
check "node3 BIRD restarted with -R" \
	bash -c "tr '\0' ' ' </proc/$(bird_pid 3)/cmdline | grep -q -- ' -R '"
check "node3 BIRD restart: sessions Established again" established 3 node_node1
if [ "$misses" -eq 0 ]; then
	ok "node3 BIRD restart: no /24 left any kernel ($samples samples, 50 ms apart)"
else
	not_ok "node3 BIRD restart: no /24 left any kernel" "$misses misses in $samples samples"
fi
wait "$ping_pid"
lost=$(grep -oE '[0-9]+% packet loss' "$RST_TMP/ping-crash.txt")
sent=$(grep -oE '^[0-9]+ packets transmitted' "$RST_TMP/ping-crash.txt")
measure "node3 BIRD crash with defaults: $sent, $lost (10 ms ping node1->node3)"
check "node3 BIRD restart: 0% ping loss node1 -> node3" grep -q ' 0% packet loss' "$RST_TMP/ping-crash.txt"
check "roostd logged BIRD's death and restart" \
	bash -c "grep -q 'bird: pid=$old killed by signal 9' $RST_TMP/n3/roostd.log &&
		grep -q 'recovery=yes' $RST_TMP/n3/roostd.log"

# ---- roostd on node1 stopped and started again: BIRD adopted ----------------------
old=$(bird_pid 1)
rpid=$(roostd_pid 1)
kill -TERM "$rpid"
misses=0
samples=0
exited=no
while [ "$samples" -lt 40 ]; do
	samples=$((samples + 1))
	kernel_route 1 10.244.2.0/24 172.31.0.12 || misses=$((misses + 1))
	kernel_route 1 10.244.3.0/24 172.31.0.13 || misses=$((misses + 1))
	if [ "$exited" = no ] && ! kill -0 "$rpid" 2>/dev/null; then
		exited=yes
		roostd_start 1
	fi
	sleep 0.05
done
wait_until 15 log_has 1 "bird: adopted running pid=$old"
check "roostd node1 SIGTERM: exited and left BIRD running" test "$exited" = yes
check "roostd node1 restarted: adopted BIRD pid $old" log_has 1 "bird: adopted running pid=$old"
check "roostd node1 restarted: BIRD pid unchanged" test "$(bird_pid 1)" = "$old"
check "roostd node1 restarted: BIRD is still running" kill -0 "$old"
if [ "$misses" -eq 0 ]; then
	ok "roostd node1 restart: routes never left the kernel ($samples samples)"
else
	not_ok "roostd node1 restart: routes never left the kernel" "$misses misses"
fi
check "roostd node1 restarted: unchanged BIRD config not reapplied" \
	bash -c "! tail -n 5 $RST_TMP/n1/roostd.log | grep -q 'configuration applied'"

# ---- SIGHUP with a broken config: old one stays ----------------------------------
cp "$RST_TMP/n1/roostd.conf" "$RST_TMP/n1/roostd.conf.good"
before=$(sha256sum <"$RST_TMP/n1/bird.conf")
sed -i 's|pod_cidr = "10.244.1.0/24"|pod_cidr = "10.244.1.0/33"|' "$RST_TMP/n1/roostd.conf"
kill -HUP "$(roostd_pid 1)"
check "SIGHUP with broken config: error logged with file:line" \
	wait_until 10 log_has 1 "error: reload: .* has errors, not reloading: .*roostd.conf:1: node.pod_cidr"
check "SIGHUP with broken config: rendered BIRD config untouched" \
	test "$(sha256sum <"$RST_TMP/n1/bird.conf")" = "$before"
check "SIGHUP with broken config: roostd still running" kill -0 "$(roostd_pid 1)"
check "SIGHUP with broken config: node_node2 still Established" established 1 node_node2

# ---- SIGHUP that removes node3 from node1's mesh, then adds it back --------------
since2=$(birdc_n 1 show protocols node_node2 | awk '/^node_node2/ {print $5}')
node_conf 1 2
kill -HUP "$(roostd_pid 1)"
check "SIGHUP dropping node3: node_node3 gone from node1's BIRD" \
	wait_until 15 bash -c "! $BIRDC -s $RST_TMP/n1/bird.ctl show protocols | grep -q '^node_node3 '"
check "SIGHUP dropping node3: 10.244.3.0/24 gone from node1's kernel" \
	wait_until 15 no_kernel_route 1 10.244.3.0/24
check "SIGHUP dropping node3: node_node2 session not restarted" \
	test "$(birdc_n 1 show protocols node_node2 | awk '/^node_node2/ {print $5}')" = "$since2"
cp "$RST_TMP/n1/roostd.conf.good" "$RST_TMP/n1/roostd.conf"
kill -HUP "$(roostd_pid 1)"
check "SIGHUP adding node3 back: 10.244.3.0/24 back in node1's kernel" \
	wait_until 30 kernel_route 1 10.244.3.0/24 172.31.0.13

# ---- strict BFD: node3 silently lost -> its /24 gone within 1 s --------------------
for k in 1 2 3; do
	node_conf "$k" 3 'bfd = { mode = "strict"; interval_ms = 100; multiplier = 3; };'
	kill -HUP "$(roostd_pid "$k")"
done
for k in 1 2 3; do
	wait_until 15 bash -c "grep -q 'bfd { interval 100 ms; multiplier 3; };' $RST_TMP/n$k/bird.conf"
done
wait_until 30 kernel_route 1 10.244.3.0/24 172.31.0.13
wait_until 30 kernel_route 2 10.244.3.0/24 172.31.0.13
check "strict BFD: BFD sessions up on node1" \
	wait_until 15 bash -c "$BIRDC -s $RST_TMP/n1/bird.ctl show bfd sessions | grep -q '172.31.0.13 .* Up'"
frozen=$(bird_pid 3)
t0=$(now_ms)
kill -STOP "$frozen"
gone=""
while [ $(($(now_ms) - t0)) -lt 5000 ]; do
	if no_kernel_route 1 10.244.3.0/24 && no_kernel_route 2 10.244.3.0/24; then
		gone=$(($(now_ms) - t0))
		break
	fi
	sleep 0.02
done
kill -CONT "$frozen"
measure "strict BFD: node3 BIRD frozen -> 10.244.3.0/24 gone from node1 and node2 in ${gone:-more than 5000} ms"
check "strict BFD: node3's /24 gone from node1 and node2 within 1 s (${gone:-?} ms)" \
	test -n "$gone" -a "${gone:-9999}" -le 1000
check "strict BFD: node3 back after SIGCONT" \
	wait_until 30 kernel_route 1 10.244.3.0/24 172.31.0.13

rst_finish
