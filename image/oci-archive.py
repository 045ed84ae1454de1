#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""oci-archive.py - writes a root file system as a one-layer container image:
an OCI image layout (OCI image-spec v1.0: oci-layout, index.json,
blobs/sha256/...) in a tar, with docker's manifest.json beside it, the way
`docker save` (25 and later) writes one. podman load, docker load, ctr image
import and skopeo (oci-archive:FILE) read it.

  oci-archive.py --rootfs DIR --tag NAME:TAG --output FILE [--cmd ARG...]

The layer is the whole root: /dev, /proc and /sys are left empty (the
runtime mounts them), files keep their numeric owners, and the layer, the
config and the manifest are the same bytes for the same root and
SOURCE_DATE_EPOCH.
"""
import argparse
import datetime
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

GOARCH = {'amd64': 'amd64', 'arm64': 'arm64', 'i386': '386', 'armhf': 'arm',
          'ppc64el': 'ppc64le', 's390x': 's390x', 'riscv64': 'riscv64'}


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--rootfs', required=True)
    ap.add_argument('--tag', required=True, help='NAME:TAG')
    ap.add_argument('--output', required=True)
    ap.add_argument('--cmd', nargs=argparse.REMAINDER, default=[])
    a = ap.parse_args()
    name, _, tag = a.tag.rpartition(':')
    if not name or not tag or '/' in tag:
        sys.exit('oci-archive.py: --tag must be NAME:TAG, not ' + a.tag)
    epoch = int(os.environ.get('SOURCE_DATE_EPOCH', '0')) or int(
        datetime.datetime.now(datetime.timezone.utc).timestamp())
    created = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime(
        '%Y-%m-%dT%H:%M:%SZ')
    arch = subprocess.run(['dpkg', '--print-architecture'], capture_output=True, text=True,
                          check=True).stdout.strip()

    tmp = tempfile.mkdtemp(prefix='roost-oci.', dir=os.path.dirname(os.path.abspath(a.output)))
    try:
        layer_tar = os.path.join(tmp, 'layer.tar')
        # GNU tar: sorted names and numeric owners, so the same root gives
        # the same layer; the pseudo file systems' contents are not in it.
        subprocess.run(['tar', '--sort=name', '--numeric-owner', '--format=posix',
                        '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime',
                        '--exclude=./dev/*', '--exclude=./proc/*', '--exclude=./sys/*',
                        '--exclude=./tmp/*',
                        '-C', a.rootfs, '-cf', layer_tar, '.'], check=True)
        diff_id = sha256_file(layer_tar)
        layer_gz = os.path.join(tmp, 'layer.tar.gz')
        with open(layer_tar, 'rb') as src, open(layer_gz, 'wb') as raw, \
                gzip.GzipFile(fileobj=raw, mode='wb', compresslevel=6, mtime=0,
                              filename='') as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        os.unlink(layer_tar)
        layer_digest = sha256_file(layer_gz)
        layer_size = os.path.getsize(layer_gz)

        config = {
            'created': created,
            'architecture': GOARCH.get(arch, arch),
            'os': 'linux',
            'config': {
                'Env': ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
                'Cmd': a.cmd or ['/bin/sh'],
                'WorkingDir': '/',
                'Labels': {'org.opencontainers.image.title': name,
                           'org.opencontainers.image.version': tag},
            },
            'rootfs': {'type': 'layers', 'diff_ids': ['sha256:' + diff_id]},
            'history': [{'created': created,
                         'created_by': 'image/mkimage.sh (mmdebstrap + make install)'}],
        }
        if arch == 'armhf':
            config['variant'] = 'v7'
        cfg = json.dumps(config, sort_keys=True, separators=(',', ':')).encode()
        cfg_digest = hashlib.sha256(cfg).hexdigest()
        manifest = {
            'schemaVersion': 2,
            'mediaType': 'application/vnd.oci.image.manifest.v1+json',
            'config': {'mediaType': 'application/vnd.oci.image.config.v1+json',
                       'digest': 'sha256:' + cfg_digest, 'size': len(cfg)},
            'layers': [{'mediaType': 'application/vnd.oci.image.layer.v1.tar+gzip',
                        'digest': 'sha256:' + layer_digest, 'size': layer_size}],
        }
        man = json.dumps(manifest, sort_keys=True, separators=(',', ':')).encode()
        man_digest = hashlib.sha256(man).hexdigest()
        full = name if '/' in name.split(':')[0] and '.' in name.split('/')[0] else \
            'docker.io/library/' + name if '/' not in name else 'docker.io/' + name
        index = {
            'schemaVersion': 2,
            'mediaType': 'application/vnd.oci.image.index.v1+json',
            'manifests': [{
                'mediaType': 'application/vnd.oci.image.manifest.v1+json',
                'digest': 'sha256:' + man_digest, 'size': len(man),
                'annotations': {'org.opencontainers.image.ref.name': tag,
                                'io.containerd.image.name': full + ':' + tag},
            }],
        }
        docker = [{'Config': 'blobs/sha256/' + cfg_digest, 'RepoTags': [a.tag],
                   'Layers': ['blobs/sha256/' + layer_digest]}]

        def member(tf, path, data=None, fileobj_path=None, mode=0o644):
            ti = tarfile.TarInfo(path)
            ti.mtime = epoch
            ti.mode = mode
            if data is not None:
                ti.size = len(data)
                tf.addfile(ti, io.BytesIO(data))
            elif fileobj_path is not None:
                ti.size = os.path.getsize(fileobj_path)
                with open(fileobj_path, 'rb') as f:
                    tf.addfile(ti, f)
            else:
                ti.type = tarfile.DIRTYPE
                ti.mode = 0o755
                tf.addfile(ti)

        part = a.output + '.part'
        with tarfile.open(part, 'w', format=tarfile.PAX_FORMAT) as tf:
            member(tf, 'oci-layout', json.dumps({'imageLayoutVersion': '1.0.0'}).encode())
            member(tf, 'index.json', json.dumps(index, sort_keys=True).encode())
            member(tf, 'manifest.json', json.dumps(docker).encode())
            member(tf, 'blobs')
            member(tf, 'blobs/sha256')
            blobs = sorted([(cfg_digest, cfg, None), (man_digest, man, None),
                            (layer_digest, None, layer_gz)])
            for d, data, path in blobs:
                member(tf, 'blobs/sha256/' + d, data=data, fileobj_path=path)
        os.replace(part, a.output)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print('%s: %s, manifest sha256:%s, layer %d bytes' % (a.output, a.tag, man_digest,
                                                           layer_size))


if __name__ == '__main__':
    main()
