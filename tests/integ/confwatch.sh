#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# confwatch.sh - a change of roostd's configuration file reaches roostd as a
# reload, with no signal sent, the way a Kubernetes ConfigMap update does
# it: node1 reads its file through a ConfigMap volume's layout (roostd.conf
# -> ..data/roostd.conf, ..data -> a timestamped folder), and the test swaps
# ..data the way the kubelet does. BIRD is reconfigured, never restarted;
# the same bytes again reload nothing; a broken file is refused and the old
# configuration stays; an edit in place is seen too; agent.watch_config =
# false (the default) turns it off.
. "$(dirname "$0")/lib.sh"

fabric_up
node_add 1
node_add 2
node_conf 2 2
roostd_start 2
D=$RST_TMP/n1
CM=$D/cm

# cm_swap NAME: the kubelet's ConfigMap update: the new content (nK's
# roostd.conf with agent.watch_config = true, unless it says otherwise) in a
# folder of its own, a temporary symlink to it renamed over ..data, the old
# folder removed.
cm_swap() {
	local old
	old=$(readlink "$CM/..data" 2>/dev/null)
	mkdir -p "$CM/$1"
	grep -q watch_config "$D/roostd.conf" ||
		sed -i 's/log_level = "debug";/log_level = "debug"; watch_config = true;/' "$D/roostd.conf"
	cp "$D/roostd.conf" "$CM/$1/roostd.conf"
	ln -s "$1" "$CM/..data_tmp"
	mv -T "$CM/..data_tmp" "$CM/..data"
	[ -n "$old" ] && rm -rf "${CM:?}/$old"
	return 0
}
mkdir -p "$CM"
node_conf 1 1 # alone: no mesh neighbour yet
cm_swap ..2026_12_03_10_00_00.1
ln -s ..data/roostd.conf "$CM/roostd.conf"
ip netns exec "$(ns n1)" "$ROOSTD" -c "$CM/roostd.conf" >>"$D/roostd.log" 2>&1 &
echo $! >"$D/roostd.pid"
RST_PIDS+=($!)
check "roostd ready with its config in a ConfigMap layout" wait_until 20 roostd_ready 1
check "roostd says it watches the file" log_has 1 "config: watching '$CM/roostd.conf'"
bpid=$(bird_pid 1)
reloads() { grep -c 'reload: done hash=' "$D/roostd.log"; }
changes() { grep -c "config: '$CM/roostd.conf' changed; reloading" "$D/roostd.log"; }

# ---- a ConfigMap update adds node2 ------------------------------------------------------------
node_conf 1 2
cm_swap ..2026_12_03_10_01_00.2
check "the ..data swap is seen as a change and reloaded" wait_until 10 bash -c "[ \$(grep -c 'reload: done hash=' $D/roostd.log) -ge 1 ]"
check "... BIRD has node_node2 and it comes up" wait_until 30 established 1 node_node2
check "... node2's /24 is in node1's kernel" wait_until 30 kernel_route 1 10.244.2.0/24 172.31.0.12
check "... BIRD was reconfigured, not restarted (pid $bpid)" test "$(bird_pid 1)" = "$bpid"

# ---- the same bytes again: nothing ---------------------------------------------------------------
n=$(reloads)
c=$(changes)
cm_swap ..2026_12_03_10_02_00.3
check "a swap to identical bytes is looked at" \
	wait_until 10 log_has 1 "config: '$CM/roostd.conf' touched, same bytes: nothing to reload"
check "... and reloads nothing" bash -c "[ \$(grep -c 'reload: done hash=' $D/roostd.log) -eq $n ] &&
	[ \$(grep -c \"config: '$CM/roostd.conf' changed; reloading\" $D/roostd.log) -eq $c ]"

# ---- a broken file is refused, the old configuration stays --------------------------------------
printf 'node = { name = "node1"; address = \n' >"$D/roostd.conf"
cm_swap ..2026_12_03_10_04_00.5
check "a broken ConfigMap is refused, naming file and line" \
	wait_until 10 log_has 1 "reload: '$CM/roostd.conf' has errors, not reloading: .*roostd.conf:[0-9]+"
check "... node_node2 stays Established" established 1 node_node2
check "... roostd still serves" bash -c "kill -0 \$(cat $D/roostd.pid)"

# ---- an edit in place (through the symlinks) ------------------------------------------------------
node_conf 1 2
sed -i 's/log_level = "debug";/log_level = "debug"; watch_config = true;/' "$D/roostd.conf"
n=$(reloads)
cat "$D/roostd.conf" >"$CM/roostd.conf" # writes the file ..data leads to
check "an edit in place is seen and reloaded" \
	wait_until 10 bash -c "[ \$(grep -c 'reload: done hash=' $D/roostd.log) -gt $n ]"

# ---- agent.watch_config = false -----------------------------------------------------------------
sed -i 's/watch_config = true;/watch_config = false;/' "$D/roostd.conf"
cm_swap ..2026_12_03_10_05_00.6
check "agent.watch_config = false (the default; itself applied by the watch): no longer watching" \
	wait_until 10 log_has 1 "config: no longer watching '$CM/roostd.conf'"
n=$(changes)
node_conf 1 1
sed -i 's/log_level = "debug";/log_level = "debug"; watch_config = false;/' "$D/roostd.conf"
cm_swap ..2026_12_03_10_06_00.7
kill -HUP "$(cat "$D/roostd.pid")"
check "... a later change waits for SIGHUP, which removes node_node2" \
	wait_until 15 bash -c "! $BIRDC -s $D/bird.ctl show protocols | grep -q '^node_node2 '"
check "... and the watch did not see it" test "$(changes)" = "$n"
check "BIRD ran throughout (pid $bpid)" test "$(bird_pid 1)" = "$bpid"

rst_finish
