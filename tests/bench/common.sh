# SPDX-License-Identifier: MIT
# tests/bench/common.sh - sourced by every section script of tests/bench/:
# the integration helpers (tests/integ/lib.sh: namespaces "rst<pid>-*", one
# temp folder, cleanup in the EXIT trap) plus statistics and output helpers.
#
# A section script is run by tests/bench/run as `bash SECTION.sh` with:
#   BENCH_MD     file the section writes its Markdown table and notes to
#   BENCH_QUICK  1 for --quick (smoke sizes), else 0
#   BENCH_CYCLES CNI cycles (--cycles)
#   top_srcdir, top_builddir
# It prints progress to stderr; run prints BENCH_MD to stdout and collects it
# into BENCHMARKS.md. A section exits non-zero when it could not measure.

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$bench_dir/../integ/lib.sh"
# Background helpers first (iperf3 servers, route monitors), then lib.sh's
# cleanup. A second TERM during cleanup must not cut it short.
trap 'trap "" INT TERM; bg_stop_all; rst_cleanup' EXIT

: "${BENCH_MD:=/dev/stdout}"
: "${BENCH_QUICK:=0}"
: "${BENCH_CYCLES:=200}"
REF_CNI=${REF_CNI:-/usr/lib/cni}
BENCH_RES="$RST_TMP/res"
mkdir -p "$BENCH_RES"
: >"$BENCH_MD"

quick() { [ "$BENCH_QUICK" = 1 ]; }

# say MESSAGE: progress on stderr, with the section's elapsed time.
BENCH_T0=$(now_ms)
say() {
	printf '# [%s +%ss] %s\n' "${BENCH_SECTION:-bench}" \
		"$((($(now_ms) - BENCH_T0) / 1000))" "$*" >&2
}

# md TEXT...: appends lines to the section's Markdown output.
md() { printf '%s\n' "$@" >>"$BENCH_MD"; }

# machine: one line naming the machine a figure was taken on.
machine() {
	local model
	model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
	printf '%s cores%s, kernel %s, load %s at start' "$(nproc)" "${model:+ ($model)}" \
		"$(uname -r)" "$(cut -d' ' -f1-3 /proc/loadavg)"
}

# stats FILE [DECIMALS] [SCALE]: "median (min..max)" of the numbers in FILE
# (one a line), each divided by SCALE. Median of an even count: the mean of
# the two middle values. "n/a" for an empty file.
stats() {
	sort -g "$1" 2>/dev/null | awk -v d="${2:-2}" -v s="${3:-1}" '
		NF {v[n++] = $1 / s}
		END {
			if (n == 0) {print "n/a"; exit}
			m = (n % 2) ? v[int(n / 2)] : (v[n / 2 - 1] + v[n / 2]) / 2
			f = "%." d "f"
			if (n == 1) printf f, m
			else printf f " (" f ".." f ")", m, v[0], v[n - 1]
		}'
}

# median FILE [SCALE]: the bare median (for ratios), or nothing.
median() {
	sort -g "$1" 2>/dev/null | awk -v s="${2:-1}" 'NF {v[n++] = $1 / s}
		END {if (n) printf "%.6g", (n % 2) ? v[int(n / 2)] : (v[n / 2 - 1] + v[n / 2]) / 2}'
}

# count FILE: how many numbers FILE holds.
count() { grep -c . "$1" 2>/dev/null || true; }

# pct FILE P [SCALE] [DECIMALS]: nearest-rank percentile.
pct() {
	sort -g "$1" 2>/dev/null | awk -v p="$2" -v s="${3:-1}" -v d="${4:-2}" '
		NF {v[++n] = $1}
		END {
			if (n == 0) {print "n/a"; exit}
			r = int((p / 100) * n + 0.999999); if (r < 1) r = 1
			printf "%." d "f", v[r] / s
		}'
}

# ratio A B [DECIMALS]: A / B, or n/a.
ratio() {
	awk -v a="${1:-}" -v b="${2:-}" -v d="${3:-2}" \
		'BEGIN {if (a != "" && b != "" && b + 0 > 0) printf "%." d "f", a / b; else print "n/a"}'
}

# le A B / ge A B: numeric comparisons that are false for n/a.
le() { awk -v a="${1:-}" -v b="$2" 'BEGIN {exit !(a != "" && a != "n/a" && a + 0 <= b + 0)}'; }
ge() { awk -v a="${1:-}" -v b="$2" 'BEGIN {exit !(a != "" && a != "n/a" && a + 0 >= b + 0)}'; }

# verdict OK_COMMAND...: "met" or "**missed**".
verdict() { if "$@"; then echo met; else echo "**missed**"; fi; }

# plugin_exec NODE_NS BIN VERB ID NETNS CONF [OUT]: runs a CNI plugin as a
# runtime does (exec'd directly from a process in the node namespace, clean
# environment, kubelet-style CNI_ARGS) and prints the elapsed µs, timed by
# cnitime around fork..exit; fails, with the plugin's output on stderr, on
# error.
plugin_exec() {
	local rc out=${7:-$RST_TMP/plugin.out}
	printf '%s' "$6" | env -i CNI_COMMAND="$3" CNI_CONTAINERID="$4" \
		CNI_NETNS="$5" CNI_IFNAME=eth0 CNI_PATH="$REF_CNI" \
		CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=bench;K8S_POD_NAME=$4" \
		"$top_builddir/tests/bench/cnitime" "$out.us" "/run/netns/$1" "$2" \
		>"$out" 2>&1
	rc=$?
	if [ $rc -ne 0 ]; then
		echo "# $2 $3 $4 failed: $(cat "$out")" >&2
		return 1
	fi
	cat "$out.us"
}

# refconf DATADIR: the reference's network configuration (flannel host-gw:
# bridge cni0 + host-local 10.244.1.0/24).
refconf() {
	printf '{"cniVersion":"1.0.0","name":"cbr0","type":"bridge","bridge":"cni0","isGateway":true,"isDefaultGateway":true,"hairpinMode":true,"ipMasq":false,"mtu":1500,"ipam":{"type":"host-local","ranges":[[{"subnet":"10.244.1.0/24"}]],"routes":[{"dst":"10.244.0.0/16"}],"dataDir":"%s"}}' "$1"
}

ref_version() { dpkg-query -W -f='${Version}' containernetworking-plugins 2>/dev/null; }

# bench_node_conf K N [extra bgp lines]: node_conf for a bench node, logging
# at info (as deployed) instead of the tests' debug.
bench_node_conf() {
	node_conf "$@"
	sed -i 's/log_level = "debug"/log_level = "info"/' "$RST_TMP/n$1/roostd.conf"
}

# log_ms "YYYY-MM-DD HH:MM:SS.mmm" or ISO "…T…Z": epoch ms of a timestamp.
log_ms() {
	local s
	s=$(date -d "$1" +%s%3N 2>/dev/null) || return 1
	echo "$s"
}

# goal WHAT MEASURED VERDICT: one row of the goals summary at the top of
# BENCHMARKS.md (a comment in the section's own block).
goal() {
	printf '<!-- goal | %s | %s | %s | %s | -->\n' "$BENCH_SECTION" "$1" "$2" "$3" >>"$BENCH_MD"
}

# both CMP A B LIMIT: CMP A LIMIT and CMP B LIMIT.
both() { "$1" "$2" "$4" && "$1" "$3" "$4"; }

# bench_conf TOPO K N [extra bgp lines]: nK's roostd.conf for topology TOPO:
#   mesh  a full mesh of nodes 1..N (bench_node_conf)
#   rr    node 0 (172.31.0.10, node0) is a route reflector without pods,
#         nodes 1..N are its clients
bench_conf() {
	local topo=$1 k=$2 total=$3 extra=${4:-} d="$RST_TMP/n$2"
	if [ "$topo" = mesh ]; then
		bench_node_conf "$k" "$total" "$extra"
		return
	fi
	if [ "$k" = 0 ]; then
		cat >"$d/roostd.conf" <<EOC
node = { name = "node0"; address = "172.31.0.10"; };
cluster = { pod_cidr = "10.244.0.0/16"; asn = 64512; node_prefix_len = 24; };
bgp = { reflector = { clients = "172.31.0.0/24"; cluster_id = "172.31.0.10"; }; $extra };
EOC
	else
		cat >"$d/roostd.conf" <<EOC
node = { name = "node$k"; address = "172.31.0.$((10 + k))"; pod_cidr = "10.244.$k.0/24"; };
cluster = { pod_cidr = "10.244.0.0/16"; asn = 64512; };
bgp = { route_reflectors = ( { name = "rr0"; address = "172.31.0.10"; } ); $extra };
EOC
	fi
	cat >>"$d/roostd.conf" <<EOC
bird = { binary = "$BIRD"; config = "$d/bird.conf"; socket = "$d/bird.ctl"; pidfile = "$d/bird.pid"; };
agent = { socket = "$d/roostd.sock"; state_dir = "$d/state"; log_level = "info"; };
EOC
}

# rr_supported: this roostd accepts bgp.reflector (route reflector rows).
rr_supported() {
	local d="$RST_TMP/rrcheck"
	mkdir -p "$d"
	cat >"$d/c.conf" <<EOC
node = { name = "rr1"; address = "172.31.0.2"; pod_cidr = "10.244.250.0/24"; };
cluster = { pod_cidr = "10.244.0.0/16"; };
bgp = { reflector = { clients = "172.31.0.0/24"; cluster_id = "172.31.0.2"; }; };
bird = { config = "$d/bird.conf"; socket = "$d/bird.ctl"; pidfile = "$d/bird.pid"; };
agent = { socket = "$d/roostd.sock"; state_dir = "$d/state"; };
EOC
	"$ROOSTD" -c "$d/c.conf" --check-config >"$d/out" 2>&1
}

# max_of: the largest number on stdin.
max_of() { sort -g | tail -n 1; }

# established_n K WANT: at least WANT BGP sessions of nK are Established.
established_n() {
	[ "$(birdc_n "$1" show protocols | grep -cE ' BGP +[^ ]+ +up +[^ ]+ +Established')" -ge "$2" ]
}

# bird_log_ms K OFFSET REGEX: time of the first line of nK's log (roostd +
# BIRD; BIRD's lines start "YYYY-MM-DD HH:MM:SS.mmm") after byte OFFSET.
bird_log_ms() {
	local line
	line=$(tail -c +"$(($2 + 1))" "$RST_TMP/n$1/roostd.log" | grep -E "$3" | head -n 1)
	[ -n "$line" ] && log_ms "$(cut -d' ' -f1-2 <<<"$line")"
}

# monitors_ready: every process bg_start started has its netlink socket.
monitors_ready() {
	local pid
	for pid in "${BG_PIDS[@]}"; do
		wait_until 5 bash -c "ls -l /proc/$pid/fd 2>/dev/null | grep -q socket" || return 1
	done
}

# ---- dual-stack labs (cni6.sh, dataplane6.sh) ---------------------------------------------
# Node K's IPv6 twin of the IPv4 lab: fd00:172:31::(10+K)/64 on eth0 beside
# 172.31.0.(10+K)/24, pod subnet fd00:10:244:K::/64 beside 10.244.K.0/24, in
# the cluster's fd00:10:244::/48 (examples/dual-stack-node*.conf, dual.sh).

# node_add6 K: node_add K, plus its global IPv6 address on eth0 (no DAD: the
# address is used at once).
node_add6() {
	node_add "$1"
	ip -n "$(ns "n$1")" addr add "fd00:172:31::$((10 + $1))/64" dev eth0 nodad
}

# bench_conf6 K N: nK's roostd.conf, dual-stack, in a mesh of nodes 1..N
# whose entries name each neighbour's subnets of both families; logging at
# info, as deployed.
bench_conf6() {
	local k=$1 total=$2 j mesh="" d="$RST_TMP/n$1"
	for j in $(seq 1 "$total"); do
		[ "$j" = "$k" ] && continue
		mesh="$mesh${mesh:+, }{ name = \"node$j\"; address = \"172.31.0.$((10 + j))\"; pod_cidr = \"10.244.$j.0/24\";
             address6 = \"fd00:172:31::$((10 + j))\"; pod_cidr6 = \"fd00:10:244:$j::/64\"; }"
	done
	cat >"$d/roostd.conf" <<EOC
node = { name = "node$k"; address = "172.31.0.$((10 + k))"; pod_cidr = "10.244.$k.0/24";
         address6 = "fd00:172:31::$((10 + k))"; pod_cidr6 = "fd00:10:244:$k::/64"; };
cluster = { pod_cidr = "10.244.0.0/16"; pod_cidr6 = "fd00:10:244::/48"; asn = 64512; };
bgp = { mesh = ( $mesh ); };
bird = { binary = "$BIRD"; config = "$d/bird.conf"; socket = "$d/bird.ctl"; pidfile = "$d/bird.pid"; };
agent = { socket = "$d/roostd.sock"; state_dir = "$d/state"; log_level = "info"; };
EOC
}

# refconf6 DATADIR: the reference configured dual-stack as flannel does it
# (EnableIPv6): bridge cni0 + host-local with one range set per family and a
# route to each family's cluster network.
refconf6() {
	printf '{"cniVersion":"1.0.0","name":"cbr0","type":"bridge","bridge":"cni0","isGateway":true,"isDefaultGateway":true,"hairpinMode":true,"ipMasq":false,"mtu":1500,"ipam":{"type":"host-local","ranges":[[{"subnet":"10.244.1.0/24"}],[{"subnet":"fd00:10:244:1::/64"}]],"routes":[{"dst":"10.244.0.0/16"},{"dst":"fd00:10:244::/48"}],"dataDir":"%s"}}' "$1"
}

# kernel_route6 K PREFIX VIA: nK's kernel has PREFIX via VIA, from BIRD.
kernel_route6() {
	ip -n "$(ns "n$1")" -6 route show "$2" proto bird | grep -q "^$2 via $3 dev eth0 "
}

# result_families FILE: the address families of a CNI result's ips, "4 6"
# for a dual-stack one.
result_families() {
	jq -r '[.ips[].address | if test(":") then "6" else "4" end] | sort | join(" ")' "$1" 2>/dev/null
}
