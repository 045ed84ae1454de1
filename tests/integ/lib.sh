# SPDX-License-Identifier: MIT
# lib.sh - helpers for roost's integration scenarios (sourced, bash).
#
# A scenario builds a cluster out of network namespaces named "rst<pid>-*":
# a fabric namespace holding the shared segment (bridge br0), one namespace
# per node (eth0 on the segment, 172.31.0.1K/24), with roostd and BIRD per
# node, each with its own config, sockets and state under one temp folder.
# Nothing is created in the machine's own namespace: links are made from
# inside the namespaces (ip -n NS link add ... peer ... netns OTHER).
#
# Output is TAP ("ok N - ...", "not ok N - ..."), with "# measure: ..." lines
# for numbers worth reporting. Cleanup (trap EXIT) stops only the processes
# this scenario started, by pid, and removes only its own namespaces.

set -u

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir/build}"
ROOSTD=${ROOSTD:-$top_builddir/agent/roostd}
ROOST_CNI=${ROOST_CNI:-$top_builddir/cni/roost}
BIRD=${BIRD:-bird}
BIRDC=${BIRDC:-birdc}

RST_PREFIX="rst$$"
RST_TMP=$(mktemp -d /tmp/rst.XXXXXX)
chmod 755 "$RST_TMP"
RST_N=0
RST_FAILED=0
RST_PIDS=()

ok() {
	RST_N=$((RST_N + 1))
	echo "ok $RST_N - $*"
}

not_ok() {
	RST_N=$((RST_N + 1))
	RST_FAILED=$((RST_FAILED + 1))
	echo "not ok $RST_N - $1"
	shift
	local line
	for line in "$@"; do
		printf '%s\n' "$line" | sed 's/^/#   /'
	done
}

# check "description" command...: ok when the command succeeds.
check() {
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$desc"
	else
		not_ok "$desc" "command: $*" "$out"
	fi
}

measure() {
	echo "# measure: $*"
}

# now_ms: monotonic-enough wall clock in ms (bash 5 EPOCHREALTIME).
now_ms() {
	local t=${EPOCHREALTIME/./}
	echo $((t / 1000))
}

# wait_until SECONDS command...: polls every 50 ms until the command succeeds.
# Returns 1 when the bound runs out.
wait_until() {
	local limit=$(($(now_ms) + $1 * 1000))
	shift
	while ! "$@" >/dev/null 2>&1; do
		[ "$(now_ms)" -ge "$limit" ] && return 1
		sleep 0.05
	done
	return 0
}

ns() { echo "$RST_PREFIX-$1"; }

ns_add() {
	local n
	n=$(ns "$1")
	if ip netns list | grep -qw "^$n"; then
		echo "# namespace $n exists already; refusing to touch it" >&2
		exit 99
	fi
	ip netns add "$n"
	ip -n "$n" link set lo up
}

# fabric_up: the shared L2 segment.
fabric_up() {
	ns_add fab
	ip -n "$(ns fab)" link add br0 type bridge
	ip -n "$(ns fab)" link set br0 up
}

# mesh_wait N: every roostd of an N-node mesh answers on its socket and
# every kernel has the other nodes' /24s (bounded; the caller's checks fail
# when they are not).
mesh_wait() {
	local k j
	for k in $(seq 1 "$1"); do
		wait_until 10 test -S "$RST_TMP/n$k/roostd.sock"
	done
	for k in $(seq 1 "$1"); do
		for j in $(seq 1 "$1"); do
			[ "$j" = "$k" ] || wait_until 30 kernel_route "$k" "10.244.$j.0/24" "172.31.0.$((10 + j))"
		done
	done
}

# seg_add NAME PORT ADDR: namespace NAME with eth0 = ADDR/24 on the fabric
# (its port there is PORT), and its folder $RST_TMP/NAME.
seg_add() {
	local name=$1 port=$2 addr=$3 n
	n=$(ns "$name")
	ns_add "$name"
	ip -n "$n" link add eth0 type veth peer name "$port" netns "$(ns fab)"
	ip -n "$(ns fab)" link set "$port" master br0 up
	ip -n "$n" addr add "$addr/24" dev eth0
	ip -n "$n" link set eth0 up
	mkdir -p "$RST_TMP/$name"
}

# node_add K: namespace nK with eth0 = 172.31.0.(10+K)/24 on the fabric.
node_add() {
	seg_add "n$1" "n$1" "172.31.0.$((10 + $1))"
}

# node_conf K N [extra bgp lines]: writes nK's roostd.conf for an N-node mesh.
node_conf() {
	local k=$1 total=$2 extra=${3:-} j mesh="" d
	d="$RST_TMP/n$k"
	for j in $(seq 1 "$total"); do
		[ "$j" = "$k" ] && continue
		mesh="$mesh${mesh:+, }{ name = \"node$j\"; address = \"172.31.0.$((10 + j))\"; }"
	done
	cat >"$d/roostd.conf" <<EOF
node = { name = "node$k"; address = "172.31.0.$((10 + k))"; pod_cidr = "10.244.$k.0/24"; };
cluster = { pod_cidr = "10.244.0.0/16"; asn = 64512; };
bgp = {
  mesh = ( $mesh );
  $extra
};
bird = { binary = "$BIRD"; config = "$d/bird.conf"; socket = "$d/bird.ctl"; pidfile = "$d/bird.pid"; };
agent = { socket = "$d/roostd.sock"; state_dir = "$d/state"; log_level = "debug"; };
EOF
}

# pod_ns K J: a pod namespace on node K (its path is /run/netns/<name>).
pod_ns_add() {
	ns_add "n$1p$2"
}

# netconf K [VERSION]: the plugin configuration a runtime sends node K's plugin.
netconf() {
	printf '{"cniVersion":"%s","name":"roost","type":"roost","agentSocket":"%s"}' \
		"${2:-1.0.0}" "$RST_TMP/n$1/roostd.sock"
}

# cni K VERB CID IFNAME NETNS [STDIN]: runs the plugin as a runtime does, in
# node K's namespace, with a clean environment. Output in $RST_TMP/cni.out,
# exit status returned.
cni() {
	local k=$1 verb=$2 cid=$3 ifname=$4 netns=$5 in=${6:-}
	[ -n "$in" ] || in=$(netconf "$k")
	printf '%s' "$in" | ip netns exec "$(ns "n$k")" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		CNI_COMMAND="$verb" CNI_CONTAINERID="$cid" CNI_IFNAME="$ifname" CNI_NETNS="$netns" \
		CNI_PATH=/opt/cni/bin \
		CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=$cid;K8S_POD_INFRA_CONTAINER_ID=$cid" \
		"$ROOST_CNI" >"$RST_TMP/cni.out" 2>"$RST_TMP/cni.err"
}

# pool_used K: addresses node K's roostd has handed out (one file each).
pool_used() {
	find "$RST_TMP/n$1/state/roost" -maxdepth 1 -name '10.*' ! -name '*.bad' 2>/dev/null | wc -l
}

# host_veths K: roost's host-side veths on node K.
host_veths() {
	ip -n "$(ns "n$1")" -o link show | awk -F': ' '{print $2}' | grep -c '^veth' || true
}

# host_veths_are K N: node K has N host veths (DEL answers before the kernel
# has deleted a veth: poll this with wait_until).
host_veths_are() {
	[ "$(host_veths "$1")" = "$2" ]
}

# roostd_start K: runs roostd in nK's namespace, logging to nK/roostd.log.
roostd_start() {
	local k=$1
	local d="$RST_TMP/n$k"
	ip netns exec "$(ns "n$k")" "$ROOSTD" -c "$d/roostd.conf" >>"$d/roostd.log" 2>&1 &
	echo $! >"$d/roostd.pid"
	RST_PIDS+=($!)
}

roostd_pid() { cat "$RST_TMP/n$1/roostd.pid"; }

# roostd_ready K: the roostd started last on node K logged that it serves.
roostd_ready() {
	grep -q "roostd\[$(roostd_pid "$1")\] info: ready:" "$RST_TMP/n$1/roostd.log"
}

# bird_pid K: BIRD's pid from its pid file (empty when none).
bird_pid() {
	local f="$RST_TMP/n$1/bird.pid"
	[ -s "$f" ] && cat "$f"
}

birdc_n() {
	local k=$1
	shift
	"$BIRDC" -s "$RST_TMP/n$k/bird.ctl" "$@"
}

# kernel_route K PREFIX VIA: nK's kernel has PREFIX via VIA, installed by BIRD.
kernel_route() {
	ip -n "$(ns "n$1")" route show "$2" proto bird | grep -q "^$2 via $3 dev eth0"
}

# kernel_route6 K NET VIA: nK's kernel routes the IPv6 NET via VIA (BIRD's).
kernel_route6() {
	ip -n "$(ns "n$1")" -6 route show "$2" proto bird | grep -q "^$2 via $3 dev eth0 "
}

no_kernel_route() {
	! ip -n "$(ns "n$1")" route show "$2" | grep -q .
}

# established K PROTO: `birdc show protocols` on nK says PROTO is Established.
established() {
	birdc_n "$1" show protocols | grep -Eq "^$2 +BGP +[^ ]+ +up +[^ ]+ +Established"
}

# log_has K REGEX: nK's roostd log (and BIRD's, same stderr) matches.
log_has() {
	grep -Eq "$2" "$RST_TMP/n$1/roostd.log"
}

# A process of ours: its command line names our temp folder.
ours() {
	local pid=$1
	[ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "$RST_TMP"
}

kill_ours() {
	local sig=$1 pid=$2
	ours "$pid" && kill "-$sig" "$pid" 2>/dev/null
	return 0
}

rst_cleanup() {
	local pid f n
	for pid in "${RST_PIDS[@]}"; do
		kill_ours TERM "$pid"
	done
	for f in "$RST_TMP"/*/bird.pid; do
		[ -s "$f" ] || continue
		pid=$(cat "$f")
		kill_ours CONT "$pid"
		kill_ours KILL "$pid"
	done
	for pid in "${RST_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	for n in $(ip netns list | awk '{print $1}' | grep "^$RST_PREFIX-"); do
		ip netns pids "$n" 2>/dev/null | while read -r pid; do kill -KILL "$pid" 2>/dev/null; done
		ip netns del "$n"
	done
	if [ "$RST_FAILED" -gt 0 ] || [ -n "${RST_KEEP_LOGS:-}" ]; then
		for f in "$RST_TMP"/*/roostd.log; do
			[ -f "$f" ] || continue
			echo "# ---- $f (last 40 lines)"
			tail -n 40 "$f" | sed 's/^/# /'
		done
	fi
	rm -rf "$RST_TMP"
}

rst_finish() {
	echo "1..$RST_N"
	[ "$RST_FAILED" -eq 0 ]
}

trap rst_cleanup EXIT
trap 'exit 130' INT TERM

# ---- appended for tests/bench (shared lab helpers) -------------------------------------

# lab_down: stops every process this scenario started and removes its
# namespaces and node folders, but keeps $RST_TMP (results) and the EXIT
# trap: a script can build several labs one after the other.
lab_down() {
	local pid f n
	bg_stop_all
	for pid in "${RST_PIDS[@]}"; do
		kill_ours TERM "$pid"
	done
	for f in "$RST_TMP"/n*/bird.pid; do
		[ -s "$f" ] || continue
		pid=$(cat "$f")
		kill_ours CONT "$pid"
		kill_ours KILL "$pid"
	done
	for pid in "${RST_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	RST_PIDS=()
	for n in $(ip netns list | awk '{print $1}' | grep "^$RST_PREFIX-"); do
		ip netns pids "$n" 2>/dev/null | while read -r pid; do kill -KILL "$pid" 2>/dev/null; done
		ip netns del "$n"
	done
	rm -rf "$RST_TMP"/n[0-9]*
}

# bg_start NS LOGFILE command...: runs a command (iperf3 -s, ip monitor, …)
# in namespace NS in the background; its pid in $BG_PID, remembered in
# BG_PIDS for bg_stop_all (rst_cleanup only stops processes whose command
# line names $RST_TMP: scripts using bg_start call bg_stop_all at exit).
BG_PIDS=()
bg_start() {
	local n=$1 log=$2
	shift 2
	ip netns exec "$n" "$@" >"$log" 2>&1 &
	BG_PID=$!
	BG_PIDS+=("$BG_PID")
}

# bg_stop PID: stops a process bg_start started (TERM, then waits for it).
bg_stop() {
	kill -TERM "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

# bg_stop_all: stops every process bg_start started.
bg_stop_all() {
	local pid
	for pid in "${BG_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${BG_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	BG_PIDS=()
}

# node_mac K: MAC address of nK's eth0.
node_mac() {
	ip -n "$(ns "n$1")" -o link show eth0 | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2
}

# neigh_static K...: permanent neighbour entries on every listed node for
# every other listed node. The kernel's neighbour table is shared by all
# namespaces (gc_thresh3 1024); permanent entries are not counted against it.
neigh_static() {
	local k j
	declare -A mac
	for k in "$@"; do
		mac[$k]=$(node_mac "$k")
	done
	for k in "$@"; do
		for j in "$@"; do
			[ "$j" = "$k" ] ||
				echo "neigh replace 172.31.0.$((10 + j)) lladdr ${mac[$j]} dev eth0 nud permanent"
		done | ip -n "$(ns "n$k")" -batch -
	done
}

# bird_routes K: how many routes BIRD installed in nK's kernel.
bird_routes() {
	ip -n "$(ns "n$1")" route show proto bird | grep -c . || true
}

# converged N K...: every listed node has N-1 BIRD routes in its kernel.
converged() {
	local want=$(($1 - 1)) k
	shift
	for k in "$@"; do
		[ "$(bird_routes "$k")" -ge "$want" ] || return 1
	done
	return 0
}

# proc_rss_kib PID / proc_pss_kib PID: resident / proportional set size.
proc_rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null; }
proc_pss_kib() { awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup" 2>/dev/null; }

# proc_cpu_ticks PID: utime + stime in clock ticks.
proc_cpu_ticks() {
	sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $12 + $13}'
}

# route_monitor K FILE: `ip -ts monitor route` in nK, to FILE; pid in $BG_PID.
route_monitor() {
	bg_start "$(ns "n$1")" "$2" ip -ts monitor route
}

# monitor_ms FILE REGEX: epoch ms of the first line of a route monitor
# matching REGEX (ip -ts prints "[2026-11-28T12:00:00.123456] ...").
monitor_ms() {
	local ts
	ts=$(grep -E "$2" "$1" | head -n 1 | sed -n 's/^\[\([^]]*\)\].*/\1/p')
	[ -n "$ts" ] && date -d "$ts" +%s%3N
}

# ---- appended for rr.sh, tor.sh, rogue.sh (topologies) ---------------------------------

# topo_conf K BGP [NODE_EXTRA] [CLUSTER_EXTRA]: writes nK's roostd.conf (node$K,
# 172.31.0.(10+K), 10.244.K.0/24) with BGP as the body of its bgp group.
topo_conf() {
	local k=$1 bgp=$2 extra=${3:-} cextra=${4:-} d="$RST_TMP/n$1"
	cat >"$d/roostd.conf" <<EOF
node = { name = "node$k"; address = "172.31.0.$((10 + k))"; pod_cidr = "10.244.$k.0/24"; $extra };
cluster = { pod_cidr = "10.244.0.0/16"; asn = 64512; $cextra };
bgp = { $bgp };
bird = { binary = "$BIRD"; config = "$d/bird.conf"; socket = "$d/bird.ctl"; pidfile = "$d/bird.pid"; };
agent = { socket = "$d/roostd.sock"; state_dir = "$d/state"; log_level = "debug"; };
EOF
}

# aux_add NAME ADDR: namespace NAME for a third-party daemon (FRR, GoBGP,
# ExaBGP), eth0 = ADDR/24 on the fabric; its files go to $RST_TMP/NAME.
aux_add() {
	seg_add "$1" "x-$1" "$2"
}

# aux_bg NAME LOG command...: runs a daemon in the foreground of namespace
# NAME, in the background here; remembered for cleanup, pid in $BG_PID and
# in $RST_TMP/NAME/daemon-<pid>.pid.
aux_bg() {
	local name=$1 log=$2
	shift 2
	ip netns exec "$(ns "$name")" "$@" >"$log" 2>&1 &
	BG_PID=$!
	RST_PIDS+=("$BG_PID")
	echo "$BG_PID" >"$RST_TMP/$name/daemon-$BG_PID.pid"
}

# exabgp_run NAME LOCAL_ADDR LOCAL_AS NEIGHBOR PEER_AS: ExaBGP in namespace
# NAME (aux_add), one IPv4 session to NEIGHBOR, announcing the routes read
# from stdin, one "PREFIX NEXT_HOP" per line. Config and log in $RST_TMP/NAME.
exabgp_run() {
	local name=$1 local=$2 las=$3 nb=$4 pas=$5 d="$RST_TMP/$1" p nh
	{
		echo "neighbor $nb {"
		echo "  router-id $local;"
		echo "  local-address $local;"
		echo "  local-as $las;"
		echo "  peer-as $pas;"
		echo "  family { ipv4 unicast; }"
		echo "  static {"
		while read -r p nh; do
			echo "    route $p next-hop $nh;"
		done
		echo "  }"
		echo "}"
	} >"$d/exabgp.conf"
	aux_bg "$name" "$d/exabgp.log" env exabgp.daemon.user=root exabgp.daemon.daemonize=false \
		exabgp.log.destination=stdout exabgp.api.cli=false exabgp.tcp.bind= \
		exabgp "$d/exabgp.conf"
}

# pod_add K J: pod J on node K through the plugin; its address in $POD_IP.
pod_add() {
	pod_ns_add "$1" "$2"
	POD_IP=none
	cni "$1" ADD "pod-$1-$2" eth0 "/run/netns/$(ns "n$1p$2")" || return 1
	POD_IP=$(jq -r '.ips[0].address' "$RST_TMP/cni.out" | cut -d/ -f1)
}

# pod_ping K J ADDR: pod J of node K pings ADDR once.
pod_ping() {
	ip netns exec "$(ns "n$1p$2")" ping -c 1 -W 2 "$3" >/dev/null 2>&1
}

# bgp_protocols K: names of the BGP protocols in nK's BIRD.
bgp_protocols() {
	birdc_n "$1" show protocols | awk '$2 == "BGP" {print $1}'
}

# since_same OLD NEW: two readings of BIRD's Since column (HH:MM:SS.mmm,
# anything after it ignored) name the same instant. BIRD keeps Since on a
# monotonic clock and converts it to wall-clock time anew for each `show
# protocols`, so one instant may print 1 ms apart (seen: 13:12:11.163, then
# .162, no session event between); a reset moves it by seconds. 5 ms apart
# is the same.
since_ms() {
	local h m s
	IFS=: read -r h m s <<<"${1%% *}"
	echo $(((10#$h * 60 + 10#$m) * 60000 + 10#${s%.*} * 1000 + 10#${s#*.}))
}
since_same() {
	local d
	[[ "${1%% *}" =~ ^[0-9]+:[0-9]+:[0-9]+\.[0-9]+$ && "${2%% *}" =~ ^[0-9]+:[0-9]+:[0-9]+\.[0-9]+$ ]] || return 1
	d=$(($(since_ms "$1") - $(since_ms "$2")))
	[ "${d#-}" -le 5 ]
}

# ---- node sessions across a change -------------------------------------------------------
# A change (a node added, a reload, an API server outage) must leave the
# node sessions among some nodes up. stay_up_begin NODE...: from now, a
# watcher asks each of these nodes' BIRD every 50 ms and notes any of their
# node_node<J> sessions (J among NODE...) that is not Established; and each
# roostd's count of logged downs is noted. stay_up_check (a check command)
# then says whether any session was seen or logged down, or is not up now.
# BIRD's Since column is only reported (stay_up_report, a measure, when it
# moved more than since_same allows): the watcher and the logs decide.
STAY_NODES=() STAY_ALT="" STAY_RE="" STAY_PID=""
declare -A STAY_SINCE STAY_DOWNS
stay_states() {
	local k
	for k in "${STAY_NODES[@]}"; do
		birdc_n "$k" show protocols | awk -v k="$k" -v re="$STAY_RE" '$1 ~ re {print "node" k ":" $1, $6, $5}'
	done
}
stay_downs() {
	grep -Ec "session: down name=node_node($STAY_ALT) " "$RST_TMP/n$1/roostd.log"
}
stay_up_begin() {
	local k line
	STAY_NODES=("$@")
	STAY_ALT=$(
		IFS='|'
		echo "$*"
	)
	STAY_RE="^node_node($STAY_ALT)\$"
	STAY_SINCE=()
	while read -r line; do
		set -- $line
		STAY_SINCE[$1]=$3
	done < <(stay_states)
	for k in "${STAY_NODES[@]}"; do STAY_DOWNS[$k]=$(stay_downs "$k"); done
	: >"$RST_TMP/stay-seen.txt"
	(while :; do
		stay_states | awk -v t="$(now_ms)" '$2 != "Established" {print t, $1, $2}' >>"$RST_TMP/stay-seen.txt"
		sleep 0.05
	done) &
	STAY_PID=$!
	RST_PIDS+=("$STAY_PID")
}
stay_up_check() {
	local k bad="" line changed=""
	kill "$STAY_PID" 2>/dev/null
	wait "$STAY_PID" 2>/dev/null
	for k in "${STAY_NODES[@]}"; do
		[ "$(stay_downs "$k")" = "${STAY_DOWNS[$k]}" ] || bad="$bad node$k-logged-a-down"
	done
	[ -s "$RST_TMP/stay-seen.txt" ] && bad="$bad seen:$(head -3 "$RST_TMP/stay-seen.txt" | tr '\n' ';')"
	while read -r line; do
		set -- $line
		[ "$2" = Established ] || bad="$bad $1-not-up-now"
		since_same "$3" "${STAY_SINCE[$1]:-}" || changed="$changed $1"
	done < <(stay_states)
	echo "$changed" >"$RST_TMP/stay-since.txt"
	[ -z "$bad" ] || { echo "down:$bad"; return 1; }
}
stay_up_report() {
	local c
	c=$(cat "$RST_TMP/stay-since.txt" 2>/dev/null)
	[ -z "$c" ] || measure "BIRD's Since column changed without a down:$c"
}

# topo_cleanup: stops the third-party daemons (pid files under
# $RST_TMP/*/*.pid other than BIRD's and roostd's, only when their command
# line names $RST_TMP), then the usual cleanup. Scripts `trap topo_cleanup EXIT`.
topo_cleanup() {
	local f pid
	for f in "$RST_TMP"/*/*.pid; do
		[ -s "$f" ] || continue
		case "$f" in */bird.pid | */roostd.pid) continue ;; esac
		pid=$(cat "$f")
		kill_ours TERM "$pid"
	done
	rst_cleanup
}

# neigh_static_hub HUB K...: permanent neighbour entries between HUB (e.g. a
# route reflector) and each K, both ways; the Ks get none for each other.
neigh_static_hub() {
	local hub=$1 k hmac
	shift
	hmac=$(node_mac "$hub")
	for k in "$@"; do
		echo "neigh replace 172.31.0.$((10 + k)) lladdr $(node_mac "$k") dev eth0 nud permanent"
		ip -n "$(ns "n$k")" neigh replace "172.31.0.$((10 + hub))" lladdr "$hmac" dev eth0 nud permanent
	done | ip -n "$(ns "n$hub")" -batch -
}

# ---- the Kubernetes API server stand-in (tests/k8s/apiserver.py) ---------------------------

# kube_up [ADDR]: namespace "k8s" on the fabric (ADDR, default 172.31.0.2)
# running the stand-in API server on ADDR:6443 with a CA, a server
# certificate for ADDR and a bearer token made here; a kubeconfig for it in
# $KUBECONFIG_FILE (run kubectl with kube_ctl, inside the namespace).
kube_up() {
	local addr=${1:-172.31.0.2} d="$RST_TMP/k8s"
	aux_add k8s "$addr"
	KUBE_ADDR=$addr
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=roost-test-ca" \
		-keyout "$d/ca.key" -out "$d/ca.crt" >/dev/null 2>&1
	openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" \
		-keyout "$d/server.key" -out "$d/server.csr" >/dev/null 2>&1
	printf 'subjectAltName=IP:%s,IP:127.0.0.1\n' "$addr" >"$d/san.ext"
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
		-days 2 -extfile "$d/san.ext" -out "$d/server.crt" >/dev/null 2>&1
	head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$d/token"
	KUBECONFIG_FILE=$d/kubeconfig
	cat >"$KUBECONFIG_FILE" <<KCFG
apiVersion: v1
kind: Config
clusters:
- name: test
  cluster: {server: "https://$addr:6443", certificate-authority: "$d/ca.crt"}
users:
- name: roost
  user: {token: "$(cat "$d/token")"}
contexts:
- name: test
  context: {cluster: test, user: roost}
current-context: test
KCFG
	kube_start
}

# kube_start / kube_stop: the stand-in (again) on the same state file; with
# KUBE_OPENAPI (and KUBE_OPENAPI_PB) set, serving that OpenAPI document.
kube_start() {
	local d="$RST_TMP/k8s"
	aux_bg k8s "$d/apiserver.log" /usr/bin/python3 "$top_srcdir/tests/k8s/apiserver.py" \
		--listen "$KUBE_ADDR:6443" --cert "$d/server.crt" --key "$d/server.key" \
		--token-file "$d/token" --state "$d/state.json" ${KUBE_OPENAPI:+--openapi "$KUBE_OPENAPI"} \
		${KUBE_OPENAPI_PB:+--openapi-pb "$KUBE_OPENAPI_PB"}
	KUBE_PID=$BG_PID
	wait_until 10 kube_ctl get --raw /version
}
kube_stop() {
	kill -TERM "$KUBE_PID" 2>/dev/null
	wait "$KUBE_PID" 2>/dev/null
}

# kube_ctl ARGS...: kubectl against the stand-in, from inside its namespace.
kube_ctl() {
	ip netns exec "$(ns k8s)" kubectl --kubeconfig "$KUBECONFIG_FILE" --request-timeout=5s "$@" \
		2>>"$RST_TMP/k8s/kubectl.err"
}

# kube_curl METHOD PATH [BODY [CONTENT-TYPE]]: one raw API request from inside
# the namespace, with the token; the body of the answer on stdout.
kube_curl() {
	local d="$RST_TMP/k8s"
	ip netns exec "$(ns k8s)" curl -sS --max-time 10 --cacert "$d/ca.crt" \
		-H "Authorization: Bearer $(cat "$d/token")" -X "$1" \
		${3:+-H "Content-Type: ${4:-application/json}" --data-binary "$3"} \
		"https://$KUBE_ADDR:6443$2"
}

# kube_node NAME ADDR [PODCIDR]: creates a Node object as the kubelet and the
# node IPAM controller leave it (PODCIDR "" = not assigned yet).
kube_node() {
	local spec='{}'
	[ -n "${3:-}" ] && spec="{\"podCIDR\":\"$3\",\"podCIDRs\":[\"$3\"]}"
	kube_curl POST /api/v1/nodes "{\"apiVersion\":\"v1\",\"kind\":\"Node\",
		\"metadata\":{\"name\":\"$1\",\"labels\":{\"kubernetes.io/hostname\":\"$1\"}},
		\"spec\":$spec,
		\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"$2\"},
			{\"type\":\"Hostname\",\"address\":\"$1\"}]}}" >/dev/null
}

# ---- FRR (the ToR in tor.sh, announce.sh) ------------------------------------------------

# frr_daemon NS DIR DAEMON [ARGS...]: starts FRR's DAEMON (zebra, bgpd, bfdd)
# in namespace NS, daemonized, with its config DIR/DAEMON.conf and its pid,
# vty and zserv sockets and log in DIR (FRR 8.4 needs DIR owned by frr).
frr_daemon() {
	local n=$1 d=$2 daemon=$3
	shift 3
	ip netns exec "$n" "/usr/lib/frr/$daemon" -d -f "$d/$daemon.conf" -i "$d/$daemon.pid" \
		-z "$d/zserv.api" --vty_socket "$d" -P 0 --log "file:$d/$daemon.log" "$@"
}

# frr_vty NS DIR COMMAND...: one vtysh command against the FRR of frr_daemon.
frr_vty() {
	local n=$1 d=$2
	shift 2
	ip netns exec "$n" vtysh --vty_socket "$d" -c "$*"
}

# ---- one etcd member (datastore scenarios) ----------------------------------------------
# etcd1_up: etcd in namespace etcd1 at 172.31.0.5 on the fabric (fabric_up
# first), answering within 30 s; its pid in $ETCD1_PID. etcd1_ctl: etcdctl
# against it, from its namespace.
etcd1_ctl() {
	ip netns exec "$(ns etcd1)" env ETCDCTL_API=3 etcdctl --endpoints http://172.31.0.5:2379 "$@"
}
etcd1_start() {
	aux_bg etcd1 "$RST_TMP/etcd1/etcd.log" etcd --name e1 --data-dir "$RST_TMP/etcd1/data" \
		--listen-client-urls http://172.31.0.5:2379 --advertise-client-urls http://172.31.0.5:2379 \
		--listen-peer-urls http://172.31.0.5:2380 --initial-advertise-peer-urls http://172.31.0.5:2380 \
		--initial-cluster e1=http://172.31.0.5:2380 --initial-cluster-state new
	ETCD1_PID=$BG_PID
	wait_until 30 etcd1_ctl endpoint status
}
etcd1_up() {
	aux_add etcd1 172.31.0.5
	etcd1_start
}
etcd1_stop() {
	kill -TERM "$ETCD1_PID"
	wait "$ETCD1_PID" 2>/dev/null
}
