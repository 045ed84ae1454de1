#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# image.sh - `make image` (image/mkimage.sh) builds roost's container image
# from Debian packages with no container daemon, and the image is one that
# real OCI tools read and that the DaemonSet can run: skopeo reads the
# archive both as an OCI archive and as a docker archive (what docker load
# reads), umoci unpacks it, and inside the unpacked root (chroot, no network)
# roostd, roostctl and bird run, every command the DaemonSet names exists,
# the CNI plugin the init container copies to the host runs with no library
# at all, and the DaemonSet's ConfigMap passes roostd --check-config with the
# image's own BIRD. Then podman (daemonless, storage of its own) loads the
# archive and runs it: the versions, the image's CMD, the init container's
# script from the manifest, the roostd container's command. The build needs a Debian mirror (apt); the .debs and
# the release build stay in $top_builddir/image, so a second run is quick.
. "$(dirname "$0")/lib.sh"

W=$top_builddir/image
img=$RST_TMP/roost-image.tar
version=$(sed -n 's/^AC_INIT(\[roost\], *\[\([^]]*\)\].*/\1/p' "$top_srcdir/configure.ac")
ds=$top_srcdir/examples/kubernetes/roost-daemonset.yaml
t0=$(now_ms)
if out=$("$top_srcdir/image/mkimage.sh" -w "$W" -o "$img" 2>&1); then
	ok "image/mkimage.sh builds roost:$version from Debian packages, with no daemon"
else
	not_ok "image/mkimage.sh builds roost:$version from Debian packages, with no daemon" "$out"
	rst_finish
	exit 1
fi
measure "image build $(($(now_ms) - t0)) ms (with the .deb cache and release build of earlier runs)"
printf '%s\n' "$out" | grep '^== ' | sed 's/^== /# /'
measure "image archive $(stat -c %s "$img") bytes, unpacked root $(du -sb "$W/rootfs" | cut -f1) bytes"

# ---- real OCI tools read it -------------------------------------------------------------
check "skopeo reads it as an OCI archive: linux/$(dpkg --print-architecture), roostd as its command" \
	bash -c "skopeo inspect --config oci-archive:$img:$version |
		jq -e '.os == \"linux\" and .architecture == \"$(dpkg --print-architecture)\" and
			.config.Cmd[0] == \"/usr/local/sbin/roostd\" and (.rootfs.diff_ids | length) == 1'"
check "skopeo reads it as a docker archive (docker load's format) tagged roost:$version" \
	bash -c "skopeo inspect --config docker-archive:$img:roost:$version | jq -e '.os == \"linux\"'"
check "skopeo copies it (every blob's digest and size verified)" \
	skopeo copy -q "oci-archive:$img:$version" "dir:$RST_TMP/copy"
mkdir "$RST_TMP/layout"
tar -C "$RST_TMP/layout" -xf "$img"
check "umoci unpacks it (tag $version from index.json)" \
	umoci unpack --image "$RST_TMP/layout:$version" "$RST_TMP/bundle"
R=$RST_TMP/bundle/rootfs
# in_image ARGS...: runs a command in the image's root as a runtime would,
# with the /dev and /proc a runtime mounts (in a mount namespace of its own,
# so nothing is mounted on this machine) and the image's PATH only.
in_image() {
	unshare --mount --propagation private -- /bin/sh -ec '
		r=$1; shift
		mount -t tmpfs -o mode=755 tmpfs "$r/dev"
		for d in null:1:3 zero:1:5 random:1:8 urandom:1:9; do
			IFS=: read -r n ma mi <<-E
			$d
			E
			mknod -m 666 "$r/dev/$n" c "$ma" "$mi"
		done
		mount -t proc proc "$r/proc"
		exec chroot "$r" /usr/bin/env -i \
			PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"' sh "$R" "$@"
}

# ---- inside the image ---------------------------------------------------------------------
check "roostd --version in the image says $version" \
	bash -c "[ \"\$(chroot $R /usr/local/sbin/roostd --version)\" = 'roostd $version' ]"
check "roostctl --help in the image" bash -c "chroot $R /usr/local/sbin/roostctl --help | grep -q '^Usage: roostctl'"
check "bird --version in the image: BIRD 2 from Debian's bird2" \
	bash -c "chroot $R /usr/sbin/bird --version 2>&1 | grep -q '^BIRD version 2\.' &&
		grep -q '^Package: bird2$' $R/var/lib/dpkg/status"
check "birdc is there too" test -x "$R/usr/sbin/birdc"
check "libcurl (roostd dlopen()s it for etcd and Kubernetes) is in the image's linker cache" \
	bash -c "chroot $R /sbin/ldconfig -p | grep -q 'libcurl.so.4 '"
# Every absolute command the DaemonSet runs, and the tools its init
# container's script calls.
for c in $(grep -o '"/[a-z/]*"' "$ds" | tr -d '"' | sort -u); do
	check "the DaemonSet's command $c exists in the image" test -x "$R$c"
done
for c in install mv; do
	check "the init container's $c is in the image" chroot "$R" /bin/sh -c "command -v $c"
done
check "the plugin the init container copies (/opt/cni/bin/roost) is in the image" test -x "$R/opt/cni/bin/roost"
mkdir -p "$RST_TMP/bare"
cp "$R/opt/cni/bin/roost" "$RST_TMP/bare/roost"
check "... and runs with no library at all (alone in an empty root: CNI VERSION)" \
	bash -c "CNI_COMMAND=VERSION chroot $RST_TMP/bare /roost </dev/null |
		jq -e '.supportedVersions | index(\"1.0.0\")'"
# The DaemonSet's ConfigMap and Secret as the pod sees them.
mkdir -p "$R/etc/roost" "$R/etc/roost-bgp"
awk '/^  roostd.conf: \|$/ {on = 1; next} on && /^  [^ ]/ {on = 0} on {sub(/^    /, ""); print}' \
	"$ds" >"$R/etc/roost/roostd.conf"
echo 'password = "test";' >"$R/etc/roost-bgp/bgp.conf"
check "the DaemonSet's roostd.conf passes roostd --check-config in the image (its BIRD parses it)" \
	in_image NODE_NAME=node1 /usr/local/sbin/roostd --check-config -c /etc/roost/roostd.conf

# ---- podman: load and run it as a runtime does ----------------------------------------------
# Its own storage under $RST_TMP (vfs), no network, never a pull; runc with
# cgroupfs and explicit limits (crun fails on this machine's cgroup layout).
P=$RST_TMP/podman
pm() {
	podman --root "$P/root" --runroot "$P/run" --storage-driver vfs --runtime runc \
		--cgroup-manager=cgroupfs --events-backend=none "$@"
}
prun() {
	pm run --rm --pull=never --network none --pids-limit=-1 --ulimit nofile=20000:20000 \
		--ulimit nproc=4096:4096 "$@"
}
check "podman load reads the archive: roost:$version" \
	bash -c "$(declare -f pm); P=$P; pm load -i $img | grep -q 'Loaded image.*roost:$version'"
check "podman run: roostd --version, bird --version, roostctl --help" \
	bash -c "$(declare -f pm prun); P=$P
		out=\$(prun roost:$version sh -c 'roostd --version; bird --version 2>&1; roostctl --help')
		grep -qx 'roostd $version' <<<\"\$out\" && grep -q '^BIRD version 2' <<<\"\$out\" &&
		grep -q '^Usage: roostctl' <<<\"\$out\""
check "podman run with no command runs roostd -c /etc/roost/roostd.conf (the image's CMD)" \
	bash -c "$(declare -f pm prun); P=$P
		prun roost:$version 2>&1 | grep -q '^/etc/roost/roostd.conf: cannot read'"
# The DaemonSet's init container, its script taken from the manifest, with
# the host's folders as empty temp folders.
mkdir -p "$RST_TMP/host/bin" "$RST_TMP/host/net.d" "$RST_TMP/cm"
cp "$R/etc/roost/roostd.conf" "$RST_TMP/cm/roostd.conf"
awk '/^  10-roost.conflist: \|$/ {on = 1; next} on && /^  [^ ]/ {on = 0} on && /^---/ {on = 0}
	on {sub(/^    /, ""); print}' "$ds" >"$RST_TMP/cm/10-roost.conflist"
awk '/^        - name: install-cni$/ {on = 1} on && /^            - \|$/ {s = 1; next}
	s && /^          [a-z]/ {exit} s {sub(/^              /, ""); print}' "$ds" >"$RST_TMP/init.sh"
check "the init container's script, from the manifest, copies the plugin and the conflist to the host" \
	bash -c "$(declare -f pm prun); P=$P
		grep -q 'install -m 0755 /opt/cni/bin/roost' $RST_TMP/init.sh &&
		prun -v $RST_TMP/cm:/etc/roost:ro -v $RST_TMP/host/bin:/host/opt/cni/bin \
			-v $RST_TMP/host/net.d:/host/etc/cni/net.d roost:$version /bin/sh -ec \"\$(cat $RST_TMP/init.sh)\" &&
		cmp $R/opt/cni/bin/roost $RST_TMP/host/bin/roost &&
		jq -e '.plugins[0].type == \"roost\"' $RST_TMP/host/net.d/10-roost.conflist"
check "the roostd container's command checks the ConfigMap as mounted (--check-config)" \
	bash -c "$(declare -f pm prun); P=$P
		prun -e NODE_NAME=node1 -v $RST_TMP/cm:/etc/roost:ro -v $R/etc/roost-bgp:/etc/roost-bgp:ro \
			roost:$version /usr/local/sbin/roostd --check-config -c /etc/roost/roostd.conf"
rst_finish
