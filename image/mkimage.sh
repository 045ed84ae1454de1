#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# mkimage.sh - builds roost's container image from Debian packages only, with
# no container daemon and no image builder: mmdebstrap lays out a Debian 12
# (bookworm, minbase) root with bird2 and the libraries roost links,
# roost's own `make install` goes into it, and oci-archive.py writes the
# result as an OCI image archive (an OCI image layout in a tar, which also
# carries docker's manifest.json) for `podman load`, `docker load`,
# `ctr image import` or `skopeo copy oci-archive:...`.
#
#   image/mkimage.sh [-o roost-image.tar] [-t roost:VERSION] [-w WORKDIR]
#
# Runs as root (mmdebstrap's root mode, chroot). Needs the Debian packages
# mmdebstrap and python3, and a Debian mirror reachable through apt
# (ROOST_IMAGE_MIRROR overrides mmdebstrap's default; the suite's updates
# and security are added by mmdebstrap). WORKDIR keeps a release build of
# roost and the downloaded .debs, so a second run rebuilds only what changed.
# `make image` in a build directory calls this with WORKDIR=<build>/image.
# image/Containerfile builds the same image on a machine with a builder.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
out=""
tag=""
work=""
while getopts o:t:w: opt; do
	case $opt in
	o) out=$OPTARG ;;
	t) tag=$OPTARG ;;
	w) work=$OPTARG ;;
	*) sed -n '11p' "$0" >&2; exit 2 ;;
	esac
done
version=$(sed -n 's/^AC_INIT(\[roost\], *\[\([^]]*\)\].*/\1/p' "$top/configure.ac")
: "${tag:=roost:$version}"
: "${work:=$top/build/image}"
: "${out:=$work/roost-image.tar}"
suite=${ROOST_IMAGE_SUITE:-bookworm}
[ "$(id -u)" = 0 ] || { echo "mkimage.sh: needs root (mmdebstrap, chroot)" >&2; exit 2; }
for t in mmdebstrap python3 tar gzip; do
	command -v "$t" >/dev/null || { echo "mkimage.sh: $t missing (tests/deps.sh installs it)" >&2; exit 2; }
done
mkdir -p "$work/build" "$work/debs"
work=$(cd "$work" && pwd)
t0=$(date +%s)

# 1. A release build: the default configure (optimised, no sanitizers, the
# CNI plugin linked statically so the copy on the host runs anywhere), with
# the paths the DaemonSet names: /usr/local/sbin, /etc/roost, /opt/cni/bin.
[ -x "$top/configure" ] || (cd "$top" && ./autogen.sh >/dev/null)
if [ ! -f "$work/build/Makefile" ] || [ "$top/configure" -nt "$work/build/Makefile" ]; then
	(cd "$work/build" && "$top/configure" --prefix=/usr/local --sysconfdir=/etc \
		--localstatedir=/var --enable-static-plugin >configure.log 2>&1) ||
		{ tail -n 30 "$work/build/configure.log" >&2; exit 1; }
fi
make -C "$work/build" -j"$(nproc)" >"$work/build/make.log" 2>&1 ||
	{ tail -n 40 "$work/build/make.log" >&2; exit 1; }
t1=$(date +%s)

# 2. The Debian root: bird2 and the packages that ship the libraries the
# binaries link (found with ldd and dpkg -S on this bookworm machine, so a
# new library in configure.ac needs no edit here), and libcurl, which roostd
# dlopen()s (agent/curl-dl.c) so ldd does not list it. Documentation, man
# pages and translations are left out; the .debs stay in WORKDIR/debs.
pkgs=bird2
dlopened=$(ldconfig -p | awk '$1 == "libcurl.so.4" {print $NF; exit}')
[ -n "$dlopened" ] || { echo "mkimage.sh: libcurl.so.4 not found (libcurl4)" >&2; exit 1; }
for lib in $(ldd "$work/build/agent/roostd" "$work/build/agent/roostctl" |
	awk '$2 == "=>" && $3 ~ /^\// {print $3}' | sort -u) "$dlopened"; do
	p=$(dpkg -S "$(readlink -f "$lib")" 2>/dev/null || dpkg -S "$lib" 2>/dev/null) ||
		{ echo "mkimage.sh: no Debian package ships $lib" >&2; exit 1; }
	pkgs="$pkgs,${p%%:*}"
done
pkgs=$(echo "$pkgs" | tr , '\n' | sort -u | paste -sd, -)
rootfs="$work/rootfs"
rm -rf "$rootfs"
mirror=()
[ -n "${ROOST_IMAGE_MIRROR:-}" ] && mirror=("$ROOST_IMAGE_MIRROR")
echo "== mmdebstrap $suite minbase + $pkgs"
mmdebstrap --variant=minbase --include="$pkgs" \
	--dpkgopt='path-exclude=/usr/share/man/*' \
	--dpkgopt='path-exclude=/usr/share/locale/*' \
	--dpkgopt='path-include=/usr/share/locale/locale.alias' \
	--dpkgopt='path-exclude=/usr/share/doc/*' \
	--dpkgopt='path-include=/usr/share/doc/*/copyright' \
	--dpkgopt='path-exclude=/usr/share/info/*' \
	--setup-hook='mkdir -p "$1"/var/cache/apt/archives/' \
	--setup-hook="sync-in $work/debs /var/cache/apt/archives/" \
	--customize-hook="sync-out /var/cache/apt/archives $work/debs" \
	--customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/log/*.log "$1"/var/log/apt/*' \
	--customize-hook='rm -f "$1"/etc/machine-id "$1"/var/cache/ldconfig/aux-cache' \
	"$suite" "$rootfs" "${mirror[@]}" >"$work/mmdebstrap.log" 2>&1 ||
	{ tail -n 30 "$work/mmdebstrap.log" >&2; exit 1; }
rm -f "$work"/debs/lock
rm -rf "$work"/debs/partial
t2=$(date +%s)

# 3. roost itself, as `make install` lays it out (stripped); the folders the DaemonSet
# mounts over exist in the image too.
make -C "$work/build" install-strip DESTDIR="$rootfs" >"$work/build/install.log" 2>&1 ||
	{ tail -n 30 "$work/build/install.log" >&2; exit 1; }
rm -rf "$rootfs/usr/local/share/man"
mkdir -p "$rootfs/etc/roost" "$rootfs/etc/roost-bgp" "$rootfs/run/roost" "$rootfs/var/lib/roost"
chroot "$rootfs" /usr/local/sbin/roostd --version >/dev/null ||
	{ echo "mkimage.sh: roostd does not run in the image's root" >&2; exit 1; }

# 4. The OCI image archive.
python3 "$top/image/oci-archive.py" --rootfs "$rootfs" --tag "$tag" --output "$out" \
	--cmd /usr/local/sbin/roostd -c /etc/roost/roostd.conf
t3=$(date +%s)
size=$(stat -c %s "$out")
usize=$(du -sb "$rootfs" | cut -f1)
echo "== $out: $tag, $((size / 1024 / 1024)) MiB compressed, $((usize / 1024 / 1024)) MiB unpacked"
echo "== time: build $((t1 - t0)) s, Debian root $((t2 - t1)) s, install + archive $((t3 - t2)) s, total $((t3 - t0)) s"
