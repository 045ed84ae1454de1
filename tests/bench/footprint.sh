#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/bench/footprint.sh - what roost costs on a node: roostd's and BIRD's
# resident memory (VmRSS, and PSS) on node1 of a converged 3-node mesh with
# the default configuration, idle with no pods and with 200 pods, and their
# CPU (utime + stime from /proc) over a 60 s idle window with the pods present.
. "$(dirname "$0")/common.sh"

if quick; then pods=20 idle=3; else pods=200 idle=60; fi
mach=$(machine)

fabric_up
for k in 1 2 3; do
	node_add "$k"
	bench_node_conf "$k" 3
	roostd_start "$k"
done
wait_until 60 converged 3 1 2 3 || { echo "footprint.sh: the mesh did not converge" >&2; exit 1; }
wait_until 15 bash -c "[ \$($BIRDC -s $RST_TMP/n1/bird.ctl show bfd sessions | grep -c ' Up ') -ge 2 ]"
rpid=$(roostd_pid 1)
bpid=$(bird_pid 1)
ours "$rpid" && ours "$bpid" || { echo "footprint.sh: no roostd/BIRD pid" >&2; exit 1; }

# sample TAG: RSS and PSS of roostd and BIRD on node1, KiB.
sample() {
	proc_rss_kib "$rpid" >>"$BENCH_RES/roostd-rss-$1"
	proc_pss_kib "$rpid" >>"$BENCH_RES/roostd-pss-$1"
	proc_rss_kib "$bpid" >>"$BENCH_RES/bird-rss-$1"
	proc_pss_kib "$bpid" >>"$BENCH_RES/bird-pss-$1"
}
say "idle, no pods: 3 samples"
for i in 1 2 3; do
	sample idle
	[ "$i" = 3 ] || sleep 1 # samples spread over a measured idle window
done

say "$pods pods on node1"
errors=0
t0=$(now_ms)
for i in $(seq 1 "$pods"); do
	ns_add "p$i"
	cni 1 ADD "fp-$i" eth0 "/run/netns/$(ns "p$i")" || errors=$((errors + 1))
done
addtime=$(($(now_ms) - t0))
[ "$(pool_used 1)" = "$pods" ] || errors=$((errors + 1))

say "idle with $pods pods: CPU over $idle s (3 windows), memory sampled in each"
part=$((idle / 3))
: >"$BENCH_RES/roostd-cpu"
: >"$BENCH_RES/bird-cpu"
hz=$(getconf CLK_TCK)
r_all0=$(proc_cpu_ticks "$rpid") b_all0=$(proc_cpu_ticks "$bpid") w0=$(now_ms)
for i in 1 2 3; do
	r0=$(proc_cpu_ticks "$rpid") b0=$(proc_cpu_ticks "$bpid") s0=$(now_ms)
	sleep "$part" # the measured idle window
	r1=$(proc_cpu_ticks "$rpid") b1=$(proc_cpu_ticks "$bpid") s1=$(now_ms)
	awk -v t=$((r1 - r0)) -v hz="$hz" -v ms=$((s1 - s0)) 'BEGIN {printf "%.4f\n", 100 * t / hz / (ms / 1000)}' >>"$BENCH_RES/roostd-cpu"
	awk -v t=$((b1 - b0)) -v hz="$hz" -v ms=$((s1 - s0)) 'BEGIN {printf "%.4f\n", 100 * t / hz / (ms / 1000)}' >>"$BENCH_RES/bird-cpu"
	sample pods
done
r_all=$(($(proc_cpu_ticks "$rpid") - r_all0)) b_all=$(($(proc_cpu_ticks "$bpid") - b_all0)) w=$(($(now_ms) - w0))
hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$rpid/status")

mib() { stats "$1" 2 1024; }
md "## Footprint" "" \
	"$(date -u +%Y-%m-%d); $mach; node1 of a converged 3-node mesh, default configuration (BFD 100 ms × 3 to 2 peers)." "" \
	"| | roostd | BIRD (started by roostd) | roostd + BIRD |" \
	"|---|---|---|---|" \
	"| RSS idle, no pods (MiB, 3 samples) | $(mib "$BENCH_RES/roostd-rss-idle") | $(mib "$BENCH_RES/bird-rss-idle") | $(ratio "$(($(median "$BENCH_RES/roostd-rss-idle" | cut -d. -f1) + $(median "$BENCH_RES/bird-rss-idle" | cut -d. -f1)))" 1024) |" \
	"| PSS idle, no pods (MiB) | $(mib "$BENCH_RES/roostd-pss-idle") | $(mib "$BENCH_RES/bird-pss-idle") | |" \
	"| RSS with $pods pods (MiB, 3 samples) | $(mib "$BENCH_RES/roostd-rss-pods") | $(mib "$BENCH_RES/bird-rss-pods") | $(ratio "$(($(median "$BENCH_RES/roostd-rss-pods" | cut -d. -f1) + $(median "$BENCH_RES/bird-rss-pods" | cut -d. -f1)))" 1024) |" \
	"| PSS with $pods pods (MiB) | $(mib "$BENCH_RES/roostd-pss-pods") | $(mib "$BENCH_RES/bird-pss-pods") | |" \
	"| idle CPU with $pods pods, % of one core (3 × $part s) | $(stats "$BENCH_RES/roostd-cpu" 3) | $(stats "$BENCH_RES/bird-cpu" 3) | |" \
	"| CPU time over the whole $((w / 1000)) s window | $((r_all * 1000 / hz)) ms | $((b_all * 1000 / hz)) ms | |"
md "" \
	"Method: VmRSS from /proc/PID/status, PSS from /proc/PID/smaps_rollup; CPU = utime + stime" \
	"from /proc/PID/stat (clock ticks of 1/$hz s, so the resolution over $part s is" \
	"$(awk -v hz="$hz" -v p="$part" 'BEGIN {printf "%.3f", 100 / hz / p}') % of a core). roostd peak RSS (VmHWM) after adding the pods: $(ratio "$hwm" 1024) MiB." \
	"The $pods pods were added one by one through the plugin in $((addtime / 1000)).$(((addtime % 1000) / 100)) s. The reference" \
	"(bridge + host-local) runs no daemon: its idle cost is zero; a hand-built BIRD node of the" \
	"reference lab used 2.6 MB RSS (docs/design.md, \"Reference lab\"). Errors: $errors."
md ""
ri=$(median "$BENCH_RES/roostd-rss-idle" 1024) rp=$(median "$BENCH_RES/roostd-rss-pods" 1024)
rmax=$(printf '%s\n%s\n' "$ri" "$rp" | max_of)
goal "footprint: roostd ≤ 4 MiB (RSS)" "$(printf '%.2f' "$ri") MiB idle, $(printf '%.2f' "$rp") MiB with $pods pods" \
	"$(verdict le "$rmax" 4)"
if ! le "$rmax" 4; then
	md "- **roostd RSS above 4 MiB.** Most of a small C daemon's RSS is shared libraries" \
		"  (libc, libnl-3, libnl-route-3, libconfig, libjansson): compare RSS with PSS, which" \
		"  charges shared pages to each of their users."
fi
[ "$errors" -eq 0 ]
