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

# node_add K: namespace nK with eth0 = 172.31.0.(10+K)/24 on the fabric.
node_add() {
	local k=$1 n
	n=$(ns "n$k")
	ns_add "n$k"
	ip -n "$n" link add eth0 type veth peer name "n$k" netns "$(ns fab)"
	ip -n "$(ns fab)" link set "n$k" master br0 up
	ip -n "$n" addr add "172.31.0.$((10 + k))/24" dev eth0
	ip -n "$n" link set eth0 up
	mkdir -p "$RST_TMP/n$k"
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
