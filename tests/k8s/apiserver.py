#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""apiserver.py - a stand-in for the Kubernetes API server, for roost's tests.

There is no real API server on a test machine, so the tests run roostd
against this one. It implements the parts of the core/v1 API that roost
uses, as the API reference specifies them, and no more: Nodes (core/v1),
Services (core/v1, namespaced) and EndpointSlices (discovery.k8s.io/v1,
namespaced).

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

Services and EndpointSlices take the same verbs on their paths:
  /api/v1/services, /apis/discovery.k8s.io/v1/endpointslices
                                                  list or watch every namespace
  /api/v1/namespaces/NS/services[/NAME[/status]]
  /apis/discovery.k8s.io/v1/namespaces/NS/endpointslices[/NAME]
A Service created gets spec.clusterIP from 10.96.0.0/12 (unless it names
one, or "None"), spec.type ClusterIP and, for NodePort and LoadBalancer,
externalTrafficPolicy Cluster by default; its status is set only through
/status (a load-balancer controller's PATCH), as the real server does.
Strategic merge patches merge Service spec.ports by "port" and conditions
by "type"; EndpointSlice endpoints are atomic (replaced whole).

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
# resource -> what it is; STORE[resource] maps name (cluster-scoped) or
# "namespace/name" to the object
RESOURCES = {
    'nodes': {'kind': 'Node', 'group': '', 'version': 'v1', 'namespaced': False,
              'status': True, 'short': ['no']},
    'services': {'kind': 'Service', 'group': '', 'version': 'v1', 'namespaced': True,
                 'status': True, 'short': ['svc']},
    'endpointslices': {'kind': 'EndpointSlice', 'group': 'discovery.k8s.io', 'version': 'v1',
                       'namespaced': True, 'status': False, 'short': []},
}
STORE = {r: {} for r in RESOURCES}
NODES = STORE['nodes']
EVENTS = []         # (resourceVersion, resource, type, object)
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
        json.dump({'rv': RV[0], 'store': STORE}, f)
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
    for r, objs in s.get('store', {'nodes': s.get('nodes', {})}).items():
        STORE[r].update(objs)
    RV[0] = s['rv']
    OLDEST[0] = s['rv']  # a restarted server has no history: older watches get 410


def record(res, kind, obj):
    """Stores a change under the next resourceVersion (LOCK held)."""
    RV[0] += 1
    obj['metadata']['resourceVersion'] = str(RV[0])
    EVENTS.append((RV[0], res, kind, copy.deepcopy(obj)))
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


MERGE_KEYS = {('status', 'conditions'): 'type', ('status', 'addresses'): 'type',
              ('spec', 'ports'): 'port'}


def strategic_patch(target, patch, path=()):
    """Strategic merge patch: maps merge; the lists the types declare with a
    patch merge key (Node conditions and addresses, Service ports and
    conditions) merge item by item; other lists are replaced."""
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
    fields = {}
    for f in filter(None, q.get('fieldSelector', '').split(',')):
        k, _, v = f.replace('==', '=').partition('=')
        if k.strip() in ('metadata.name', 'metadata.namespace'):
            fields[k.strip().split('.')[1]] = v.strip()

    def match(node):
        md = node.get('metadata', {})
        labels = md.get('labels') or {}
        for k, v in fields.items():
            if md.get(k) != v:
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

    def target(self, parts):
        """(resource, namespace, name, subresource) of an object path, or None."""
        if parts[:2] == ['api', 'v1']:
            gv, rest = ('', 'v1'), parts[2:]
        elif len(parts) >= 3 and parts[0] == 'apis':
            gv, rest = (parts[1], parts[2]), parts[3:]
        else:
            return None
        ns = None
        if len(rest) >= 2 and rest[0] == 'namespaces':
            ns, rest = rest[1], rest[2:]
        if not rest or rest[0] not in RESOURCES:
            return None
        res = rest[0]
        r = RESOURCES[res]
        if (r['group'], r['version']) != gv or (ns and not r['namespaced']) or len(rest) > 3:
            return None
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if sub and not (sub == 'status' and r['status']):
            return None
        if name and r['namespaced'] and not ns:
            return None
        return res, ns, name, sub

    @staticmethod
    def key(res, ns, name):
        return '%s/%s' % (ns, name) if RESOURCES[res]['namespaced'] else name

    def not_found(self, res, name):
        return self.send_json(404, status(404, 'NotFound', '%s "%s" not found' % (res, name)))

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
    def resource_list(self, group, version):
        verbs = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch']
        out = []
        for res, r in sorted(RESOURCES.items()):
            if (r['group'], r['version']) != (group, version):
                continue
            out.append({'name': res, 'singularName': r['kind'].lower(),
                        'namespaced': r['namespaced'], 'kind': r['kind'], 'verbs': verbs,
                        'shortNames': r['short']})
            if r['status']:
                out.append({'name': res + '/status', 'singularName': '',
                            'namespaced': r['namespaced'], 'kind': r['kind'],
                            'verbs': ['get', 'patch', 'update']})
        gv = '%s/%s' % (group, version) if group else version
        return {'kind': 'APIResourceList', 'apiVersion': 'v1', 'groupVersion': gv,
                'resources': out}

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
        disc = {'name': 'discovery.k8s.io',
                'versions': [{'groupVersion': 'discovery.k8s.io/v1', 'version': 'v1'}],
                'preferredVersion': {'groupVersion': 'discovery.k8s.io/v1', 'version': 'v1'}}
        if parts == ['apis']:
            return self.send_json(200, {'kind': 'APIGroupList', 'apiVersion': 'v1',
                                        'groups': [disc]})
        if parts == ['apis', 'discovery.k8s.io']:
            return self.send_json(200, dict(disc, kind='APIGroup', apiVersion='v1'))
        if parts == ['api', 'v1']:
            rl = self.resource_list('', 'v1')
            have = {r['name'] for r in rl['resources']}
            # --openapi: the document's other v1 kinds too (kubectl validates them)
            rl['resources'] += [r for r in OPENAPI.get('groups', {}).get('', {}).get('v1', [])
                                if r['name'] not in have]
            return self.send_json(200, rl)
        if parts == ['apis', 'discovery.k8s.io', 'v1']:
            return self.send_json(200, self.resource_list('discovery.k8s.io', 'v1'))
        t = self.target(parts)
        if t is None:
            return self.send_json(404, status(404, 'NotFound', 'the server could not find the '
                                              'requested resource'))
        res, ns, name, _ = t
        if name is None:
            if q.get('watch') in ('true', '1'):
                return self.watch(res, ns, q)
            with LOCK:
                rv = q.get('resourceVersion')
                if rv and rv != '0' and int(rv) < OLDEST[0]:
                    return self.send_json(410, status(
                        410, 'Expired', 'too old resource version: %s (%d)' % (rv, OLDEST[0])))
                match = selector(q)
                objs = STORE[res]
                items = [copy.deepcopy(objs[k]) for k in sorted(objs) if match(objs[k]) and
                         (ns is None or objs[k]['metadata'].get('namespace') == ns)]
                r = RESOURCES[res]
                return self.send_json(200, {
                    'kind': r['kind'] + 'List',
                    'apiVersion': '%s/%s' % (r['group'], r['version']) if r['group'] else 'v1',
                    'metadata': {'resourceVersion': str(RV[0])}, 'items': items})
        with LOCK:
            o = STORE[res].get(self.key(res, ns, name))
            if o is None:
                return self.not_found(res, name)
            return self.send_json(200, o)

    def chunk(self, obj):
        data = (json.dumps(obj) + '\n').encode()
        self.wfile.write(b'%x\r\n%s\r\n' % (len(data), data))
        self.wfile.flush()

    def watch(self, res, ns, q):
        rv = q.get('resourceVersion', '')
        bookmarks = q.get('allowWatchBookmarks') in ('true', '1')
        timeout = int(q.get('timeoutSeconds') or 1800)
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Transfer-Encoding', 'chunked')
        self.end_headers()
        import time
        end = time.monotonic() + timeout
        sel = selector(q)

        def match(r, o):
            return r == res and sel(o) and (ns is None or o['metadata'].get('namespace') == ns)
        objs = STORE[res]
        with LOCK:
            if rv in ('', '0'):
                pending = [(RV[0], res, 'ADDED', copy.deepcopy(objs[k])) for k in sorted(objs)
                           if match(res, objs[k])]
                last = RV[0]
            elif int(rv) < OLDEST[0]:
                pending = [(0, res, 'ERROR', status(410, 'Expired',
                                                    'too old resource version: %s (%d)'
                                                    % (rv, OLDEST[0])))]
                last = None
            else:
                last = int(rv)
                pending = []
            gen = BOOKMARK_GEN[0]
            cgen = COMPACT_GEN[0]
        try:
            while True:
                for _, _, kind, obj in pending:
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
                    pending = [e for e in new if match(e[1], e[3])]
                    if BOOKMARK_GEN[0] != gen:
                        gen = BOOKMARK_GEN[0]
                        if bookmarks:
                            r = RESOURCES[res]
                            pending.append((last, res, 'BOOKMARK', {
                                'kind': r['kind'],
                                'apiVersion': '%s/%s' % (r['group'], r['version'])
                                if r['group'] else 'v1',
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
        t = self.target(parts)
        if t is None or t[2] is not None or (RESOURCES[t[0]]['namespaced'] and not t[1]):
            return self.send_json(405, status(405, 'MethodNotAllowed', 'not allowed'))
        res, ns, _, _ = t
        r = RESOURCES[res]
        obj = self.body()
        if obj is ValueError:
            return
        md = (obj or {}).get('metadata') or {}
        name = md.get('name')
        if not name or obj.get('kind', r['kind']) != r['kind']:
            return self.send_json(422, status(422, 'Invalid', 'a %s with metadata.name' % r['kind']))
        if r['namespaced']:
            if md.get('namespace', ns) != ns:
                return self.send_json(400, status(400, 'BadRequest', 'the namespace of the '
                                                  'object does not match the request'))
            md['namespace'] = ns
        with LOCK:
            k = self.key(res, ns, name)
            if k in STORE[res]:
                return self.send_json(409, status(409, 'AlreadyExists',
                                                  '%s "%s" already exists' % (res, name)))
            obj.update({'kind': r['kind'],
                        'apiVersion': '%s/%s' % (r['group'], r['version'])
                        if r['group'] else 'v1'})
            md.update({'uid': str(uuid.uuid4()), 'creationTimestamp': now()})
            obj['metadata'] = md
            if res == 'services':
                err = service_defaults(obj)
                if err:
                    return self.send_json(422, status(422, 'Invalid', err))
                obj['status'] = {'loadBalancer': {}}  # set through /status only
            elif r['status']:
                obj.setdefault('spec', {})
                obj.setdefault('status', {})
            STORE[res][k] = obj
            record(res, 'ADDED', obj)
            return self.send_json(201, obj)

    def do_DELETE(self):
        if not self.authorized():
            return
        parts, _ = self.route()
        t = self.target(parts)
        if t is None or t[2] is None or t[3]:
            return self.send_json(405, status(405, 'MethodNotAllowed', 'not allowed'))
        res, ns, name, _ = t
        with LOCK:
            o = STORE[res].pop(self.key(res, ns, name), None)
            if o is None:
                return self.not_found(res, name)
            record(res, 'DELETED', o)
            return self.send_json(200, o)

    def change(self, fn):
        parts, _ = self.route()
        t = self.target(parts)
        if t is None or t[2] is None:
            return self.send_json(405, status(405, 'MethodNotAllowed', 'not allowed'))
        res, ns, name, sub = t
        r = RESOURCES[res]
        obj = self.body()
        if obj is ValueError:
            return
        with LOCK:
            n = STORE[res].get(self.key(res, ns, name))
            if n is None:
                return self.not_found(res, name)
            new = fn(copy.deepcopy(n), obj, sub == 'status')
            if isinstance(new, tuple):
                return self.send_json(*new)
            # a status change touches status only; the object otherwise all
            # but status (for the types that have a status subresource)
            if sub == 'status':
                n['status'] = new.get('status', {})
            else:
                st = n.get('status')
                md = n['metadata']
                n.clear()
                n.update(new)
                # name, namespace, uid and creation stay the server's
                n['metadata'] = dict(new.get('metadata') or {}, name=md['name'],
                                     uid=md['uid'], creationTimestamp=md['creationTimestamp'])
                if 'namespace' in md:
                    n['metadata']['namespace'] = md['namespace']
                if r['status']:
                    n['status'] = st if st is not None else {}
                if res == 'services':
                    err = service_defaults(n)
                    if err:
                        return self.send_json(422, status(422, 'Invalid', err))
            n['kind'] = r['kind']
            n['apiVersion'] = '%s/%s' % (r['group'], r['version']) if r['group'] else 'v1'
            record(res, 'MODIFIED', n)
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


NEXT_CLUSTER_IP = [10]


def service_defaults(svc):
    """What the real server fills in for a Service (LOCK held): spec.type,
    a clusterIP from 10.96.0.0/12, externalTrafficPolicy for services
    reachable from outside. An error message, or None."""
    spec = svc.setdefault('spec', {})
    spec.setdefault('type', 'ClusterIP')
    if spec['type'] not in ('ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'):
        return 'spec.type: Unsupported value: "%s"' % spec['type']
    if spec['type'] != 'ExternalName' and not spec.get('clusterIP'):
        n = NEXT_CLUSTER_IP[0]
        NEXT_CLUSTER_IP[0] += 1
        spec['clusterIP'] = '10.96.%d.%d' % (n // 256, n % 256)
        spec['clusterIPs'] = [spec['clusterIP']]
    if spec['type'] in ('NodePort', 'LoadBalancer'):
        spec.setdefault('externalTrafficPolicy', 'Cluster')
        if spec['externalTrafficPolicy'] not in ('Cluster', 'Local'):
            return 'spec.externalTrafficPolicy: Unsupported value: "%s"' % \
                spec['externalTrafficPolicy']
    return None


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
