#!/bin/sh
# SPDX-License-Identifier: MIT
# examples-check.sh - every configuration shipped in examples/ passes
# `roostd --check-config` (which also runs `bird -p` on what it renders).
. "$(dirname "$0")/tap.sh"

for f in "$top_srcdir"/examples/*.conf "$top_srcdir"/examples/*/*.conf; do
	case $f in */tor/bgpd.conf | */tor/bfdd.conf | */tor/zebra.conf | */tor6/bgpd.conf) continue ;; esac
	if out=$(sed "s|binary = \"bird\"|binary = \"$BIRD\"|" "$f" >"${TMPDIR:-/tmp}/roost-ex.$$" &&
		"$ROOSTD" --check-config -c "${TMPDIR:-/tmp}/roost-ex.$$" 2>&1); then
		tap_ok "examples/${f#"$top_srcdir"/examples/} passes --check-config"
	else
		tap_not_ok "examples/${f#"$top_srcdir"/examples/} passes --check-config" "$out"
	fi
	rm -f "${TMPDIR:-/tmp}/roost-ex.$$"
done
# The DaemonSet's cluster-wide roostd.conf (its ConfigMap), with the Secret
# it @includes laid out as the pod sees them: /etc/roost and /etc/roost-bgp.
ds="$top_srcdir/examples/kubernetes/roost-daemonset.yaml"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/roost-ds.XXXXXX")
mkdir -p "$tmp/roost" "$tmp/roost-bgp"
awk '/^  roostd.conf: \|$/ {on = 1; next} on && /^  [^ ]/ {on = 0} on {sub(/^    /, ""); print}' \
	"$ds" >"$tmp/roost/roostd.conf"
echo 'password = "test";' >"$tmp/roost-bgp/bgp.conf"
if out=$(NODE_NAME=node1 "$ROOSTD" --check-config -c "$tmp/roost/roostd.conf" 2>&1) &&
	grep -q 'type = "kubernetes"' "$tmp/roost/roostd.conf"; then
	tap_ok "examples/kubernetes/roost-daemonset.yaml: its ConfigMap's roostd.conf passes --check-config"
else
	tap_not_ok "examples/kubernetes/roost-daemonset.yaml: its ConfigMap's roostd.conf passes --check-config" "$out"
fi
rm -rf "$tmp"
# Both of its containers run the image `make image` tags: roost:<version>.
version=$(sed -n 's/^AC_INIT(\[roost\], *\[\([^]]*\)\].*/\1/p' "$top_srcdir/configure.ac")
images=$(sed -n 's/^ *image: *//p' "$ds" | sort | uniq -c | awk '{print $1 " " $2}')
if [ "$images" = "2 roost:$version" ]; then
	tap_ok "examples/kubernetes/roost-daemonset.yaml: both containers run roost:$version, the tag make image gives"
else
	tap_not_ok "examples/kubernetes/roost-daemonset.yaml: both containers run roost:$version, the tag make image gives" "$images"
fi
# The multi-node sets (SET-node1.conf, SET-node2.conf, ...) agree with each
# other: node K's rendered ownership rules route each other node J's subnets
# (both families) to exactly J's addresses, as J's own file gives them.
def() { sed -n "s/^define $1 = \([^;]*\);.*/\1/p" "$2"; }
for first in "$top_srcdir"/examples/*-node1.conf; do
	set_=${first%-node1.conf}
	set -- "$set_"-node[0-9].conf
	[ $# -ge 2 ] || continue
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/roost-set.XXXXXX")
	for f in "$@"; do
		"$ROOSTD" --render -c "$f" >"$tmp/${f##*-}.bird" 2>"$tmp/err" || cat "$tmp/err" >>"$tmp/bad"
	done
	for f in "$@"; do
		k=${f##*-}
		for g in "$@"; do
			j=${g##*-}
			[ "$j" = "$k" ] && continue
			for fam in "" 6; do
				net=$(def "OWN_POD_NET$fam" "$tmp/$j.bird") addr=$(def "NODE_ADDR$fam" "$tmp/$j.bird")
				[ -n "$net$addr" ] || continue
				grep -qF "if net = $net then return bgp_next_hop = $addr;" "$tmp/$k.bird" ||
					echo "${k%.conf} does not route ${j%.conf}'s $net via $addr" >>"$tmp/bad"
			done
		done
	done
	name=${set_#"$top_srcdir"/examples/}
	if [ ! -s "$tmp/bad" ]; then
		tap_ok "examples/$name-node*.conf ($# nodes) name each other's addresses and subnets"
	else
		tap_not_ok "examples/$name-node*.conf ($# nodes) name each other's addresses and subnets" "$(cat "$tmp/bad")"
	fi
	rm -rf "$tmp"
done
tap_done
