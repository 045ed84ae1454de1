#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/bench/scale.sh - many nodes, no pods: a 40-node full mesh and a roostd
# route reflector with 100 clients, default configuration (BFD graceful
# 100 ms × 3 on every session). Time from launching every roostd to every
# kernel holding all other nodes' /24s; total memory (RSS, PSS) of all roostds
# and BIRDs; their CPU during the convergence and over an idle window after it.
# Permanent neighbour entries: the machine's ARP table (1024 entries, shared
# by all namespaces) cannot hold a 40-node mesh's 1560 entries.
# --quick skips it unless BENCH_SCALE_MESH / BENCH_SCALE_RR give sizes.
. "$(dirname "$0")/common.sh"

if quick; then
	mesh_n=${BENCH_SCALE_MESH:-0} rr_n=${BENCH_SCALE_RR:-0} runs=1 idle=2
else
	mesh_n=${BENCH_SCALE_MESH:-40} rr_n=${BENCH_SCALE_RR:-100} runs=2 idle=30
fi
mach=$(machine)
rr_supported || rr_n=0
hz=$(getconf CLK_TCK)

# converge_all WANT BOUND K...: waits until every listed node has WANT BIRD
# routes; a node once complete is not polled again. Fails after BOUND s.
converge_all() {
	local want=$1 end=$(($(now_ms) + $2 * 1000)) k left
	shift 2
	left=("$@")
	while [ ${#left[@]} -gt 0 ]; do
		[ "$(bird_routes "${left[0]}")" -ge "$want" ] && { left=("${left[@]:1}"); continue; }
		[ "$(now_ms)" -ge "$end" ] && return 1
		sleep 0.05
	done
}

# pids: every roostd and BIRD of the lab.
lab_pids() {
	local f
	for f in "$RST_TMP"/n*/roostd.pid "$RST_TMP"/n*/bird.pid; do
		[ -s "$f" ] && cat "$f"
	done
}
sum_of() { # sum_of FUNCTION: FUNCTION PID summed over the lab's processes
	local p s=0 v
	for p in $(lab_pids); do
		v=$("$1" "$p")
		s=$((s + ${v:-0}))
	done
	echo "$s"
}
rss_of_kind() { # rss_of_kind roostd|bird: total VmRSS KiB
	local f s=0 v
	for f in "$RST_TMP"/n*/"$1".pid; do
		[ -s "$f" ] || continue
		v=$(proc_rss_kib "$(cat "$f")")
		s=$((s + ${v:-0}))
	done
	echo "$s"
}

run_one() { # run_one TOPO N RUN
	local topo=$1 n=$2 r=$3 k all t0 tl tc c0 c1 c2 w want conf=$1 extra=""
	# meshnobfd: the same mesh with BFD off, to tell BFD's share of the idle CPU.
	[ "$topo" = meshnobfd ] && conf=mesh extra='bfd = { mode = "off"; };'
	say "$topo N=$n run $r/$runs: building the lab"
	fabric_up
	all=$(seq 1 "$n")
	[ "$topo" = rr ] && { node_add 0; bench_conf rr 0 "$n"; }
	for k in $all; do
		node_add "$k"
		bench_conf "$conf" "$k" "$n" "$extra"
	done
	if [ "$topo" = rr ]; then neigh_static_hub 0 $all; else neigh_static $all; fi
	say "$topo N=$n run $r: starting $n roostd"
	t0=$(now_ms)
	[ "$topo" = rr ] && roostd_start 0
	for k in $all; do roostd_start "$k"; done
	tl=$(($(now_ms) - t0))
	want=$((n - 1))
	if ! converge_all "$want" 120 $all; then
		echo "scale.sh: $topo N=$n did not converge in 120 s" >&2
		return 1
	fi
	tc=$(($(now_ms) - t0))
	echo "$tc" >>"$BENCH_RES/$topo-conv"
	echo "$tl" >>"$BENCH_RES/$topo-launch"
	c0=$(sum_of proc_cpu_ticks)
	echo $((c0 * 1000 / hz)) >>"$BENCH_RES/$topo-cpu-conv"
	echo "$(rss_of_kind roostd)" >>"$BENCH_RES/$topo-rss-roostd"
	echo "$(rss_of_kind bird)" >>"$BENCH_RES/$topo-rss-bird"
	echo "$(sum_of proc_pss_kib)" >>"$BENCH_RES/$topo-pss"
	[ "$topo" = rr ] && proc_rss_kib "$(bird_pid 0)" >>"$BENCH_RES/rr-rss-rrbird"
	if [ "$r" = 1 ]; then
		say "$topo N=$n run $r: idle CPU over $idle s"
		c1=$(sum_of proc_cpu_ticks) w=$(now_ms)
		sleep "$idle" # the measured idle window
		c2=$(sum_of proc_cpu_ticks) w=$(($(now_ms) - w))
		awk -v t=$((c2 - c1)) -v hz="$hz" -v ms="$w" 'BEGIN {printf "%.2f\n", 100 * t / hz / (ms / 1000)}' \
			>>"$BENCH_RES/$topo-idle"
		# still converged after the window (nothing flapped)
		converge_all "$want" 1 $all || echo "# $topo N=$n: a route left a kernel during the idle window" >&2
	fi
	lab_down
}

fails=0
md "## Scale"
if [ "$mesh_n" = 0 ] && [ "$rr_n" = 0 ]; then
	md "" "Not run (--quick)." ""
	exit 0
fi
for r in $(seq 1 "$runs"); do
	[ "$mesh_n" -gt 0 ] && { run_one mesh "$mesh_n" "$r" || { fails=$((fails + 1)); lab_down; }; }
	[ "$rr_n" -gt 0 ] && { run_one rr "$rr_n" "$r" || { fails=$((fails + 1)); lab_down; }; }
done
# One run of the mesh without BFD: what BFD costs when idle.
[ "$mesh_n" -gt 0 ] && { run_one meshnobfd "$mesh_n" 1 || { fails=$((fails + 1)); lab_down; }; }

mib() { stats "$1" 1 1024; }
md "" "$(date -u +%Y-%m-%d); $mach; no pods; $runs run(s) per row, each a fresh lab." "" \
	"| topology | start of all roostd → every kernel has all /24s (s) | launch (s) | RSS all roostd (MiB) | RSS all BIRD (MiB) | PSS all (MiB) | CPU used until converged, all (s) | idle CPU, all processes (% of one core, run 1) |" \
	"|---|---|---|---|---|---|---|---|"
row() { # row TOPO LABEL
	md "| $2 | $(stats "$BENCH_RES/$1-conv" 2 1000) | $(stats "$BENCH_RES/$1-launch" 2 1000) | $(mib "$BENCH_RES/$1-rss-roostd") | $(mib "$BENCH_RES/$1-rss-bird") | $(mib "$BENCH_RES/$1-pss") | $(stats "$BENCH_RES/$1-cpu-conv" 2 1000) | $(stats "$BENCH_RES/$1-idle" 2) |"
}
[ "$mesh_n" -gt 0 ] && row mesh "full mesh, $mesh_n nodes ($((mesh_n * (mesh_n - 1) / 2)) sessions)"
[ "$mesh_n" -gt 0 ] && row meshnobfd "the same mesh, \`bgp.bfd.mode = \"off\"\` (1 run)"
[ "$rr_n" -gt 0 ] && row rr "roostd reflector (no pods) + $rr_n clients"
[ "$rr_n" = 0 ] && md "| route reflector | not measured: this roostd rejects \`bgp.reflector\` | | | | | | |"
md "" \
	"Reference lab (hand-built BIRD, no BFD, same machine type; docs/design.md, \"Reference lab\"):" \
	"mesh N=40 converged in 8.14 s (4.13 s with \`connect delay time 1\`), 127.4 MiB RSS, idle" \
	"0.54 % of a core; RR + 40 clients 8.32 s, 99.3 MiB, 0.01 %." \
	"Method: nodes as in the other sections (fabric bridge, one namespace per node), permanent" \
	"neighbour entries between every pair that peers; default roostd configuration (BFD graceful" \
	"100 ms × 3, \`connect delay time 1\`). Convergence is polled (\`ip route show proto bird\`," \
	"nodes that are complete are not polled again), accurate to about one poll round. Memory" \
	"is taken right after convergence (VmRSS, PSS from smaps_rollup). CPU = utime + stime of" \
	"every roostd and BIRD from /proc. Failed runs: $fails."
if [ "$mesh_n" -gt 0 ] && [ -s "$BENCH_RES/meshnobfd-idle" ]; then
	md "Idle CPU is BFD's: roost's default BFD (100 ms × 3) runs on every session, so a" \
		"${mesh_n}-node mesh keeps $((mesh_n * (mesh_n - 1))) BFD session ends sending 10 packets/s each;" \
		"the same mesh idles at $(stats "$BENCH_RES/mesh-idle" 2) % of a core with BFD and" \
		"$(stats "$BENCH_RES/meshnobfd-idle" 2) % without (the reference lab ran without BFD)." \
		"Past a few dozen nodes, use route reflectors: each node then has 1–2 BFD sessions" \
		"(the reflector row above), or raise \`bgp.bfd.interval_ms\`."
fi
if [ "$rr_n" -gt 0 ] && [ -s "$BENCH_RES/rr-rss-rrbird" ]; then
	md "The reflector's own BIRD: $(mib "$BENCH_RES/rr-rss-rrbird") MiB RSS."
fi
md ""
[ "$fails" -eq 0 ]
