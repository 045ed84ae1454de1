#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# valgrind.sh - a whole roostd lifecycle under valgrind (memcheck): start,
# 100 pods added, a reload, the pods deleted, SIGTERM. No error and no leak.
# Uses an optimised build without sanitizers (build-release/, made here when
# missing): ASan and valgrind do not mix.
. "$(dirname "$0")/lib.sh"

REL=${RELEASE_BUILDDIR:-$top_srcdir/build-release}
if [ ! -x "$REL/agent/roostd" ] || [ ! -x "$REL/cni/roost" ] ||
	[ "$REL/agent/roostd" -ot "$top_builddir/agent/roostd" ]; then
	mkdir -p "$REL"
	[ -f "$REL/Makefile" ] || (cd "$REL" && "$top_srcdir/configure" CFLAGS="-O2 -g" >/dev/null)
	make -C "$REL" -j"$(nproc)" agent/roostd cni/roost >/dev/null 2>&1
fi
check "release build of roostd and the plugin" test -x "$REL/agent/roostd" -a -x "$REL/cni/roost"
# The release plugin is static: runtimes exec it per pod, and the DaemonSet
# copies it onto hosts that may lack libjansson.
check "release build: the CNI plugin is statically linked (no ELF interpreter)" \
	bash -c "readelf -l '$REL/cni/roost' | grep -q 'Elf file type' && ! readelf -l '$REL/cni/roost' | grep -q INTERP"
ROOST_CNI=$REL/cni/roost
PODS=${VALGRIND_PODS:-100}

fabric_up
node_add 1
node_add 2
node_conf 1 2
node_conf 2 2
roostd_start 2
d="$RST_TMP/n1"
ip netns exec "$(ns n1)" valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect \
	--suppressions="$top_srcdir/tests/integ/valgrind.supp" \
	--errors-for-leak-kinds=definite,indirect --error-exitcode=99 --track-fds=no \
	--log-file="$d/valgrind.txt" "$REL/agent/roostd" -c "$d/roostd.conf" >>"$d/roostd.log" 2>&1 &
vg=$!
echo $vg >"$d/roostd.pid"
RST_PIDS+=($vg)
check "roostd under valgrind becomes ready" wait_until 60 roostd_ready 1
check "BIRD sessions come up" wait_until 30 kernel_route 1 10.244.2.0/24 172.31.0.12

fails=0
for i in $(seq 1 "$PODS"); do
	ns_add "n1v$i"
	cni 1 ADD "vg-$i" eth0 "/run/netns/$(ns "n1v$i")" || fails=$((fails + 1))
done
check "$PODS pods added under valgrind" test "$fails" = 0
check "pool holds $PODS" test "$(pool_used 1)" = "$PODS"
ip netns exec "$(ns n1)" curl -sf --max-time 20 http://127.0.0.1:9638/metrics >/dev/null
"$top_builddir/agent/roostctl" -s "$d/roostd.sock" audit >/dev/null
sed -i 's|log_level = "debug";|log_level = "info";|' "$d/roostd.conf"
node_conf 1 2 'hold_time = 60; keepalive_time = 20;'
kill -HUP "$vg"
check "reload under valgrind applied" wait_until 30 log_has 1 'reload: done'
for i in $(seq 1 "$PODS"); do
	cni 1 DEL "vg-$i" eth0 "/run/netns/$(ns "n1v$i")" || fails=$((fails + 1))
done
check "$PODS pods deleted" bash -c "[ $fails = 0 ] && [ $(pool_used 1) = 0 ]"
check "$PODS pods deleted: their host veths are gone" wait_until 10 host_veths_are 1 0
kill -TERM "$vg"
wait "$vg"
rc=$?
sed 's/^/# valgrind: /' "$d/valgrind.txt" | head -40
check "valgrind: roostd exited cleanly with no memory error and no leak (exit $rc)" test "$rc" = 0
# valgrind 3.19 knows neither pidfd_open (434) nor NS_GET_NSTYPE (0xb703);
# it says so, and roostd copes (BIRD unsupervised under valgrind). Anything
# else in the report is a finding.
check "valgrind: nothing in its report but the two known notes" \
	bash -c "! grep -vE 'syscall: 434|write your own handler|README_MISSING|we consider this a bug|bug_reports|ioctl 0xb703|spurious value errors' '$d/valgrind.txt' | grep -q ."

rst_finish
