#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# install.sh - `make install DESTDIR=...` lays out what README and the man
# pages promise, and every man page renders.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir/build}"
D=$(mktemp -d /tmp/roost-install.XXXXXX)
trap 'rm -rf "$D"' EXIT
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; printf '%s\n' "$@" | sed 's/^/#   /'; }
check() { local d=$1; shift; if out=$("$@" 2>&1); then ok "$d"; else not_ok "$d" "$out"; fi; }

prefix=$(sed -n 's/^prefix = //p' "$top_builddir/Makefile")
if out=$(make -C "$top_builddir" install DESTDIR="$D" 2>&1); then
	ok "make install DESTDIR=... succeeds"
else
	not_ok "make install DESTDIR=... succeeds" "$(tail -n 20 <<<"$out")"
fi
for f in sbin/roostd sbin/roostctl; do
	check "$prefix/$f installed and executable" test -x "$D$prefix/$f"
done
check "/opt/cni/bin/roost installed and executable" test -x "$D/opt/cni/bin/roost"
for m in man8/roostd.8 man8/roostctl.8 man5/roostd.conf.5; do
	check "man page $m installed" test -f "$D$prefix/share/man/$m"
	check "man -l $m renders without warnings" \
		bash -c "out=\$(MANWIDTH=80 man --warnings -l $D$prefix/share/man/$m 2>&1 >/dev/null);
			[ -z \"\$out\" ] || { echo \"\$out\"; false; }"
done
ex="$D$prefix/share/doc/roost/examples"
for f in single-node.conf mesh-node1.conf dual-stack-node1.conf ipv6-only-node1.conf 10-roost.conflist roost-daemonset.yaml; do
	check "example $f installed" test -f "$ex/$f"
done
check "systemd unit installed with roostd's real path and KillMode=process" \
	bash -c "grep -q '^ExecStart=$prefix/sbin/roostd -c /etc/roost/roostd.conf$' $ex/systemd/roostd.service &&
		grep -q '^KillMode=process$' $ex/systemd/roostd.service && ! grep -q '@' $ex/systemd/roostd.service"
check "installed roostd --help describes the options" \
	bash -c "$D$prefix/sbin/roostd --help | grep -q -- '--check-config'"
check "installed roostctl --help describes the commands" \
	bash -c "$D$prefix/sbin/roostctl --help | grep -q 'audit'"
check "the shipped conflist is valid JSON with type roost" \
	jq -e '.plugins[0].type == "roost" and .cniVersion == "1.0.0"' "$ex/10-roost.conflist"
echo "1..$n"
[ "$failed" -eq 0 ]
