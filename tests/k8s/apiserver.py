#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""apiserver.py - a stand-in for the Kubernetes API server, for roost's tests.

There is no real API server on a test machine, so the tests run roostd
against this one. It implements the parts of the core/v1 API that roost
uses, as the API reference specifies them, and no more:

  GET    /version, /api, /api/v1, /apis           discovery (what kubectl asks first)
  GET    /api/v1/nodes                            NodeList with metadata.resourceVersion
         (labelSelector and fieldSelector=metadata.name=X filter lists and watches)
  GET    /api/v1/nodes?watch=true&resourceVersion=N[&allowWatchBookmarks=true]
                                                  [&timeoutSeconds=S]
         a stream of watch events ({"type": ADDED|MODIFIED|DELETED|BOOKMARK|ERROR,
         "object": ...}, one JSON object per line) over chunked HTTP/1.1;
         a resourceVersion older than the oldest event kept gives an ERROR event
         with a Status of code 410 (reason Expired), as the real server does
  GET    /api/v1/nodes/NAME                       one Node, or a 404 Status
  POST   /api/v1/nodes                            create
  DELETE /api/v1/nodes/NAME                       delete
  PATCH  /api/v1/nodes/NAME[/status]              application/merge-patch+json (RFC 7386)
                                                  or application/strategic-merge-patch+json
                                                  (lists of conditions and addresses merge
                                                  by their key "type", as for Node)
  PUT    /api/v1/nodes/NAME/status                replace the status

Every request needs "Authorization: Bearer <token>" with the token in
--token-file (read again on each request, so a test can rotate it): else
401. TLS only, with the certificate and key given.

With --openapi SWAGGER.json [--openapi-pb FILE.pb], a published
Kubernetes OpenAPI v2 document: GET /openapi/v2 serves it (the protocol
buffer encoding kubectl asks for, else JSON), and discovery (/apis,
/apis/G/V, /api/v1) also lists every group, version and resource the
document's paths name, so kubectl's client-side validation
(create --dry-run=client --validate=strict) checks manifests against that
schema. Nothing else about those resources is served.

Test controls (same token): POST /standin/compact forgets every event so
far (watches and lists from older resourceVersions get 410) and ends every
running watch with ERROR 410, as a server whose watch cache was reset; POST
/standin/bookmark sends a BOOKMARK to every watch now. With --state FILE
the nodes and the resourceVersion survive a restart (a test stops the
server and starts it again on the same file).
"""
import argparse
import copy
import datetime
import http.server
import json
import socketserver
import ssl
import sys
import threading
import urllib.parse
import uuid

LOCK = threading.Condition()
NODES = {}          # name -> Node object
EVENTS = []         # (resourceVersion, type, object)
RV = [1]            # the store's resourceVersion
OLDEST = [1]        # events after this resourceVersion are kept
BOOKMARK_GEN = [0]  # bumped by /standin/bookmark
COMPACT_GEN = [0]   # bumped by /standin/compact
ARGS = None
OPENAPI = {}        # --openapi: 'json', 'pb' (bytes), 'groups' {group: {version: [resource]}}


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def status(code, reason, message):
    return {'kind': 'Status', 'apiVersion': 'v1', 'metadata': {}, 'status': 'Failure',
            'message': message, 'reason': reason, 'code': code}


def save():
    if not ARGS.state:
        return
    with open(ARGS.state + '.new', 'w') as f:
        json.dump({'rv': RV[0], 'nodes': NODES}, f)
    import os
    os.replace(ARGS.state + '.new', ARGS.state)


def load():
    if not ARGS.state:
        return
    try:
        with open(ARGS.state) as f:
            s = json.load(f)
    except FileNotFoundError:
        return
    NODES.update(s['nodes'])
    RV[0] = s['rv']
    OLDEST[0] = s['rv']  # a restarted server has no history: older watches get 410


def record(kind, obj):
    """Stores a change under the next resourceVersion (LOCK held)."""
    RV[0] += 1
    obj['metadata']['resourceVersion'] = str(RV[0])
    EVENTS.append((RV[0], kind, copy.deepcopy(obj)))
    del EVENTS[:-1000]
    if len(EVENTS) == 1000:
        OLDEST[0] = EVENTS[0][0] - 1
    save()
    LOCK.notify_all()


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    for k, v in patch.items():
        if v is None:
            target.pop(k, None)
        else:
            target[k] = merge_patch(target.get(k), v)
    return target


MERGE_KEYS = {('status', 'conditions'): 'type', ('status', 'addresses'): 'type'}


def strategic_patch(target, patch, path=()):
    """Strategic merge patch for Node: maps merge; the lists Node declares
    with a patch merge key (conditions, addresses) merge item by item."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    for k, v in patch.items():
        if k.startswith('$'):
            continue
        key = MERGE_KEYS.get(path + (k,))
        if v is None:
            target.pop(k, None)
        elif key and isinstance(v, list):
            items = list(target.get(k) or [])
            for item in v:
                for i, old in enumerate(items):
                    if old.get(key) == item.get(key):
                        items[i] = strategic_patch(old, item, path + (k, '*'))
                        break
                else:
                    items.append(item)
            target[k] = items
        else:
            target[k] = strategic_patch(target.get(k), v, path + (k,))
    return target


def selector(q):
    """The labelSelector and fieldSelector of a list or watch as a predicate
    on a Node: equality (=, ==, !=), existence (key, !key) and set-based
    (in, notin) label requirements; metadata.name for fields."""
    import re
    reqs = []
    text = q.get('labelSelector', '')
    for m in re.finditer(r'\s*([^,(]+(?:\([^)]*\))?)\s*(?:,|$)', text):
        r = m.group(1).strip()
        if not r:
            continue
        sm = re.match(r'^([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)$', r)
        if sm:
            vals = {v.strip() for v in sm.group(3).split(',')}
            reqs.append((sm.group(1), sm.group(2), vals))
        elif r.startswith('!'):
            reqs.append((r[1:], 'absent', None))
        elif '!=' in r:
            k, v = r.split('!=', 1)
            reqs.append((k.strip(), 'ne', v.strip()))
        elif '=' in r:
            k, v = r.replace('==', '=').split('=', 1)
            reqs.append((k.strip(), 'eq', v.strip()))
        else:
            reqs.append((r, 'exists', None))
    names = None
    for f in filter(None, q.get('fieldSelector', '').split(',')):
        k, _, v = f.replace('==', '=').partition('=')
        if k.strip() == 'metadata.name':
            names = v.strip()

    def match(node):
        md = node.get('metadata', {})
        labels = md.get('labels') or {}
        if names is not None and md.get('name') != names:
            return False
        for k, op, v in reqs:
            have = k in labels
            val = labels.get(k)
            if (op == 'eq' and val != v) or (op == 'ne' and val == v) or \
                    (op == 'exists' and not have) or (op == 'absent' and have) or \
                    (op == 'in' and val not in v) or (op == 'notin' and have and val in v):
                return False
        return True
    return match


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, fmt, *args):
        if ARGS.verbose:
            sys.stderr.write('apiserver: %s\n' % (fmt % args))

    def send_json(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def authorized(self):
        try:
            with open(ARGS.token_file) as f:
                token = f.read().strip()
        except OSError:
            token = None
        got = self.headers.get('Authorization', '')
        if token and got == 'Bearer ' + token:
            return True
        self.send_json(401, status(401, 'Unauthorized', 'Unauthorized'))
        return False

    def body(self):
        n = int(self.headers.get('Content-Length') or 0)
        data = self.rfile.read(n) if n else b''
        try:
            return json.loads(data or b'null')
        except ValueError as e:
            self.send_json(400, status(400, 'BadRequest', 'invalid JSON: %s' % e))
            return ValueError

    def route(self):
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        parts = [p for p in u.path.split('/') if p]
        return parts, q

    def send_bytes(self, code, body, ctype):
        self.send_response(code)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def openapi_get(self, parts):
        """--openapi: the document and the discovery it implies, or None."""
        groups = OPENAPI['groups']
        if parts == ['openapi', 'v2']:
            if 'protobuf' in self.headers.get('Accept', '') and OPENAPI.get('pb'):
                self.send_bytes(200, OPENAPI['pb'], PB_OPENAPI)
            else:
                self.send_bytes(200, OPENAPI['json'], 'application/json')
            return True
        if parts == ['apis']:
            out = []
            for g in sorted(k for k in groups if k):
                vs = sorted(groups[g], key=lambda v: (not v.startswith('v1'), v))
                gv = [{'groupVersion': g + '/' + v, 'version': v} for v in vs]
                out.append({'name': g, 'versions': gv, 'preferredVersion': gv[0]})
            self.send_json(200, {'kind': 'APIGroupList', 'apiVersion': 'v1', 'groups': out})
            return True
        if len(parts) == 3 and parts[0] == 'apis' and parts[2] in groups.get(parts[1], {}):
            self.send_json(200, {
                'kind': 'APIResourceList', 'apiVersion': 'v1',
                'groupVersion': parts[1] + '/' + parts[2],
                'resources': groups[parts[1]][parts[2]]})
            return True
        return None

    # ---- GET ---------------------------------------------------------------
    def do_GET(self):
        if not self.authorized():
            return
        parts, q = self.route()
        if OPENAPI and (parts[:1] == ['openapi'] or parts[:1] == ['apis']):
            if self.openapi_get(parts) is None:
                self.send_json(404, status(404, 'NotFound', 'the server could not find the '
                                           'requested resource'))
            return
        if parts == ['version']:
            return self.send_json(200, {'major': '1', 'minor': '32', 'gitVersion': 'v1.32.0',
                                        'platform': 'linux/amd64'})
        if parts == ['api']:
            return self.send_json(200, {'kind': 'APIVersions', 'versions': ['v1'],
                                        'serverAddressByClientCIDRs': [
                                            {'clientCIDR': '0.0.0.0/0',
                                             'serverAddress': self.headers.get('Host', '')}]})
        if parts == ['apis']:
            return self.send_json(200, {'kind': 'APIGroupList', 'apiVersion': 'v1', 'groups': []})
        if parts == ['api', 'v1']:
            verbs = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch']
            return self.send_json(200, {
                'kind': 'APIResourceList', 'apiVersion': 'v1', 'groupVersion': 'v1',
                'resources': [
                    {'name': 'nodes', 'singularName': 'node', 'namespaced': False,
                     'kind': 'Node', 'verbs': verbs, 'shortNames': ['no']},
                    {'name': 'nodes/status', 'singularName': '', 'namespaced': False,
                     'kind': 'Node', 'verbs': ['get', 'patch', 'update']}] +
                [r for r in OPENAPI.get('groups', {}).get('', {}).get('v1', [])
                 if r['name'] != 'nodes']})
        if parts == ['api', 'v1', 'nodes']:
            if q.get('watch') in ('true', '1'):
                return self.watch(q)
            with LOCK:
                rv = q.get('resourceVersion')
                if rv and rv != '0' and int(rv) < OLDEST[0]:
                    return self.send_json(410, status(
                        410, 'Expired', 'too old resource version: %s (%d)' % (rv, OLDEST[0])))
                match = selector(q)
                items = [copy.deepcopy(NODES[n]) for n in sorted(NODES) if match(NODES[n])]
                return self.send_json(200, {'kind': 'NodeList', 'apiVersion': 'v1',
                                            'metadata': {'resourceVersion': str(RV[0])},
                                            'items': items})
        if len(parts) in (4, 5) and parts[:3] == ['api', 'v1', 'nodes']:
            with LOCK:
                n = NODES.get(parts[3])
                if n is None:
                    return self.send_json(404, status(404, 'NotFound',
                                                      'nodes "%s" not found' % parts[3]))
                return self.send_json(200, n)
        return self.send_json(404, status(404, 'NotFound', 'the server could not find the '
                                          'requested resource'))

    def chunk(self, obj):
        data = (json.dumps(obj) + '\n').encode()
        self.wfile.write(b'%x\r\n%s\r\n' % (len(data), data))
        self.wfile.flush()

    def watch(self, q):
        rv = q.get('resourceVersion', '')
        bookmarks = q.get('allowWatchBookmarks') in ('true', '1')
        timeout = int(q.get('timeoutSeconds') or 1800)
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Transfer-Encoding', 'chunked')
        self.end_headers()
        import time
        end = time.monotonic() + timeout
        match = selector(q)
        with LOCK:
            if rv in ('', '0'):
                pending = [(RV[0], 'ADDED', copy.deepcopy(NODES[n])) for n in sorted(NODES)
                           if match(NODES[n])]
                last = RV[0]
            elif int(rv) < OLDEST[0]:
                pending = [(0, 'ERROR', status(410, 'Expired', 'too old resource version: %s (%d)'
                                               % (rv, OLDEST[0])))]
                last = None
            else:
                last = int(rv)
                pending = []
            gen = BOOKMARK_GEN[0]
            cgen = COMPACT_GEN[0]
        try:
            while True:
                for _, kind, obj in pending:
                    self.chunk({'type': kind, 'object': obj})
                if last is None:
                    break
                with LOCK:
                    if OLDEST[0] > last or COMPACT_GEN[0] != cgen:
                        # history dropped under a running watch: the real
                        # server ends it with 410 too
                        self.chunk({'type': 'ERROR', 'object': status(
                            410, 'Expired', 'too old resource version: %d (%d)'
                            % (last, OLDEST[0]))})
                        break
                    left = end - time.monotonic()
                    if left <= 0:
                        break
                    LOCK.wait_for(lambda: RV[0] > last or BOOKMARK_GEN[0] != gen
                                  or OLDEST[0] > last or COMPACT_GEN[0] != cgen
                                  or STOP.is_set(), timeout=min(left, 1))
                    if STOP.is_set():
                        break
                    new = [e for e in EVENTS if e[0] > last]
                    if new:
                        last = new[-1][0]
                    pending = [e for e in new if match(e[2])]
                    if BOOKMARK_GEN[0] != gen:
                        gen = BOOKMARK_GEN[0]
                        if bookmarks:
                            pending.append((last, 'BOOKMARK', {
                                'kind': 'Node', 'apiVersion': 'v1',
                                'metadata': {'resourceVersion': str(RV[0])}}))
            self.wfile.write(b'0\r\n\r\n')
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            pass
        self.close_connection = True

    # ---- changes -----------------------------------------------------------
    def do_POST(self):
        if not self.authorized():
            return
        parts, _ = self.route()
        if parts == ['standin', 'compact']:
            with LOCK:
                OLDEST[0] = RV[0]
                EVENTS.clear()
                COMPACT_GEN[0] += 1
                LOCK.notify_all()
            return self.send_json(200, {'compacted': RV[0]})
        if parts == ['standin', 'bookmark']:
            with LOCK:
                BOOKMARK_GEN[0] += 1
                LOCK.notify_all()
            return self.send_json(200, {})
        if parts != ['api', 'v1', 'nodes']:
            return self.send_json(405, status(405, 'MethodNotAllowed', 'not allowed'))
        obj = self.body()
        if obj is ValueError:
            return
        name = (obj or {}).get('metadata', {}).get('name')
        if not name or obj.get('kind', 'Node') != 'Node':
            return self.send_json(422, status(422, 'Invalid', 'a Node with metadata.name'))
        with LOCK:
            if name in NODES:
                return self.send_json(409, status(409, 'AlreadyExists',
                                                  'nodes "%s" already exists' % name))
            obj.update({'kind': 'Node', 'apiVersion': 'v1'})
            obj['metadata'].update({'uid': str(uuid.uuid4()), 'creationTimestamp': now()})
            obj.setdefault('spec', {})
            obj.setdefault('status', {})
            NODES[name] = obj
            record('ADDED', obj)
            return self.send_json(201, obj)

    def do_DELETE(self):
        if not self.authorized():
            return
        parts, _ = self.route()
        if len(parts) != 4 or parts[:3] != ['api', 'v1', 'nodes']:
            return self.send_json(405, status(405, 'MethodNotAllowed', 'not allowed'))
        with LOCK:
            n = NODES.pop(parts[3], None)
            if n is None:
                return self.send_json(404, status(404, 'NotFound',
                                                  'nodes "%s" not found' % parts[3]))
            record('DELETED', n)
            return self.send_json(200, n)

    def change(self, fn):
        parts, _ = self.route()
        if len(parts) not in (4, 5) or parts[:3] != ['api', 'v1', 'nodes'] or \
                (len(parts) == 5 and parts[4] != 'status'):
            return self.send_json(405, status(405, 'MethodNotAllowed', 'not allowed'))
        obj = self.body()
        if obj is ValueError:
            return
        with LOCK:
            n = NODES.get(parts[3])
            if n is None:
                return self.send_json(404, status(404, 'NotFound',
                                                  'nodes "%s" not found' % parts[3]))
            new = fn(copy.deepcopy(n), obj, len(parts) == 5)
            if isinstance(new, tuple):
                return self.send_json(*new)
            # a status change touches status only; the object otherwise all but status
            if len(parts) == 5:
                n['status'] = new.get('status', {})
            else:
                st = n.get('status', {})
                n.clear()
                n.update(new)
                n['status'] = st
            n['kind'], n['apiVersion'] = 'Node', 'v1'
            record('MODIFIED', n)
            return self.send_json(200, n)

    def do_PATCH(self):
        if not self.authorized():
            return
        ctype = self.headers.get('Content-Type', '').split(';')[0].strip()

        def apply(node, patch, _):
            if ctype == 'application/merge-patch+json':
                return merge_patch(node, patch)
            if ctype == 'application/strategic-merge-patch+json':
                return strategic_patch(node, patch)
            return (415, status(415, 'UnsupportedMediaType',
                                'the stand-in takes merge and strategic merge patches, not %s'
                                % ctype))
        self.change(apply)

    def do_PUT(self):
        if not self.authorized():
            return
        self.change(lambda node, new, _: new)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


STOP = threading.Event()
# what the real server answers to kubectl's Accept of
# application/com.github.proto-openapi.spec.v2@v1.0+protobuf
PB_OPENAPI = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf'


def load_openapi(path, pb):
    """Reads a Kubernetes OpenAPI v2 document; its collection paths
    (/api/v1[/namespaces/{namespace}]/R, /apis/G/V[/namespaces/{namespace}]/R)
    with their x-kubernetes-group-version-kind become discovery."""
    import re
    with open(path, 'rb') as f:
        OPENAPI['json'] = f.read()
    if pb:
        with open(pb, 'rb') as f:
            OPENAPI['pb'] = f.read()
    doc = json.loads(OPENAPI['json'])
    groups = {}
    pat = re.compile(r'^/(?:api/(v1)|apis/([^/]+)/([^/]+))/(namespaces/\{namespace\}/)?([a-z0-9]+)$')
    for path, item in sorted(doc.get('paths', {}).items()):
        m = pat.match(path)
        if not m or m.group(5) == 'watch':
            continue
        gvk = next((op['x-kubernetes-group-version-kind'] for op in item.values()
                    if isinstance(op, dict) and 'x-kubernetes-group-version-kind' in op), None)
        if gvk is None:
            continue
        group, version = gvk['group'], gvk['version']
        res = groups.setdefault(group, {}).setdefault(version, [])
        if any(r['name'] == m.group(5) for r in res):
            continue
        res.append({'name': m.group(5), 'singularName': gvk['kind'].lower(),
                    'namespaced': bool(m.group(4)), 'kind': gvk['kind'],
                    'verbs': ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch']})
    OPENAPI['groups'] = groups


def main():
    global ARGS
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--listen', default='127.0.0.1:6443')
    p.add_argument('--cert', required=True)
    p.add_argument('--key', required=True)
    p.add_argument('--token-file', required=True)
    p.add_argument('--state')
    p.add_argument('--verbose', action='store_true')
    p.add_argument('--openapi', help='a Kubernetes OpenAPI v2 document (swagger.json)')
    p.add_argument('--openapi-pb', help='the same, protocol buffer encoded')
    ARGS = p.parse_args()
    if ARGS.openapi:
        load_openapi(ARGS.openapi, ARGS.openapi_pb)
    load()
    host, port = ARGS.listen.rsplit(':', 1)
    srv = Server((host.strip('[]'), int(port)), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(ARGS.cert, ARGS.key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    import signal

    def stop(*_):
        STOP.set()
        with LOCK:
            LOCK.notify_all()
        threading.Thread(target=srv.shutdown).start()
    signal.signal(signal.SIGTERM, stop)
    sys.stderr.write('apiserver: serving on https://%s\n' % ARGS.listen)
    sys.stderr.flush()
    srv.serve_forever()


if __name__ == '__main__':
    main()
