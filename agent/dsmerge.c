/* SPDX-License-Identifier: MIT */
/*
 * dsmerge.c - datastore mode: the subnets leased from etcd and the other
 * nodes' leases merged into roostd's configuration (roost nodes into the
 * mesh, flannel host-gw nodes into static routes), and a change of the
 * leases turned into a configuration change for BIRD (see reload.c for how
 * it is applied). Runs on roostd's loop thread.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent.h"
#include "log.h"
#include "netdev.h"
#include "rst-util.h"
#include "topology.h"

/* A datastore change that could not be applied is tried again after this. */
#define DS_RETRY_MS 5000

/* A lease whose PublicIP is a session of the file (an external peer, a
 * route reflector, a mesh entry) or whose name is one: why, else NULL. */
static const char *lease_clashes(const struct roostd_conf *c, const struct bc_peer *mesh, size_t m,
				 const struct ds_peer *p)
{
	if (p->roost && !strcmp(p->name, c->name))
		return "its node name is this node's";
	for (size_t j = 0; j < m; j++)
		if ((p->roost && !strcmp(mesh[j].name, p->name)) ||
		    (p->address.s_addr && mesh[j].address.s_addr == p->address.s_addr) ||
		    (p->len6 && !memcmp(&mesh[j].address6, &p->address6, sizeof(p->address6))))
			return "it repeats a mesh neighbour's name or address";
	for (size_t j = 0; j < m; j++)
		if (p->len6 && mesh[j].pod_len6 &&
		    !memcmp(&mesh[j].pod_net6, &p->net6, sizeof(p->net6)))
			return "bgp.mesh gives its IPv6 subnet to another node";
	for (size_t j = 0; j < c->n_peers; j++)
		if ((p->address.s_addr && c->peers[j].address.s_addr == p->address.s_addr) ||
		    (p->len6 && !memcmp(&c->peers[j].address6, &p->address6, sizeof(p->address6))))
			return "its PublicIP is an external peer's (bgp.peers)";
	for (size_t j = 0; j < c->n_route_reflectors_file; j++)
		if (p->address.s_addr && c->route_reflectors[j].address.s_addr == p->address.s_addr)
			return "its PublicIP is a route reflector's";
	return NULL;
}

/* The clients range of a reflector by label: bgp.reflector.clients, else the
 * connected prefix of node.address (the shared segment: node sessions are
 * single hop, so every client is on it). 0 or -errno (logged). */
static int clients_range(struct roostd_conf *c)
{
	struct netdev *nd = NULL;
	int r;

	if (c->kube_rr_clients_given) {
		c->rr_clients_net = c->kube_rr_clients.net;
		c->rr_clients_len = c->kube_rr_clients.len;
		return 0;
	}
	r = netdev_open(&nd);
	if (r < 0)
		return log_errno(LOG_ERR, r, "datastore: route reflector: cannot open a route socket");
	r = netdev_addr_prefix(nd, c->address, &c->rr_clients_net, &c->rr_clients_len);
	netdev_free(nd);
	if (r == 0 || (r > 0 && c->rr_clients_len < 8)) {
		log_error("datastore: route reflector: %s %s; set bgp.reflector.clients",
			  r ? "the connected prefix is wider than /8 for" : "no interface has",
			  inet_ntoa(c->address));
		return -EINVAL;
	}
	return r < 0 ? r : 0;
}

/* Kubernetes: the route-reflector labels make the topology (topology.h),
 * unless the file names its own sessions (bgp.mesh, bgp.route_reflectors).
 * mesh[0..*m) holds the Nodes as full-mesh neighbours, t[i] the same Nodes;
 * on return mesh, c's reflector settings and route_reflectors, and own[] say
 * who this node peers with. 0 or -errno (logged). */
static int kube_topology(struct roostd_conf *c, struct datastore *ds, struct bc_peer *mesh,
			 size_t *m, const struct topo_node *t, size_t nt, struct bc_owner *own,
			 size_t *o)
{
	bool was = c->reflector;
	struct in_addr was_cid = c->rr_cluster_id;
	size_t was_rrs = c->n_route_reflectors;
	struct topo_node self;
	struct topo top;
	int r;

	c->reflector = false;
	if (c->n_mesh_file || c->n_route_reflectors_file)
		return 0; /* the file's sessions, as before labels existed */
	free(c->route_reflectors);
	c->route_reflectors = NULL;
	c->n_route_reflectors = 0;
	memset(&self, 0, sizeof(self));
	snprintf(self.name, sizeof(self.name), "%s", c->name);
	self.address = c->address;
	self.asn = c->asn;
	ds_self_role(ds, &self.reflector, &self.cluster_id);
	r = topo_build(&self, t, nt, c->cluster_asn, &top);
	if (r < 0)
		return log_errno(LOG_ERR, r, "datastore: topology");
	if (r == 0) {
		if (was || was_rrs)
			log_info("datastore: no Node is a route reflector: full mesh");
		return 0;
	}
	if (top.reflector && clients_range(c) < 0) {
		topo_free(&top);
		return -EINVAL;
	}
	c->reflector = top.reflector;
	c->rr_cluster_id = top.cluster_id;
	if (top.reflector && (!was || was_cid.s_addr != top.cluster_id.s_addr)) {
		char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &top.cluster_id, a, sizeof(a));
		inet_ntop(AF_INET, &c->rr_clients_net, b, sizeof(b));
		log_info("datastore: this node is a route reflector (label roost.io/route-reflector): cluster id %s, clients %s/%u (%s)",
			 a, b, c->rr_clients_len,
			 c->kube_rr_clients_given ? "bgp.reflector.clients"
						  : "the connected prefix of node.address");
	} else if (!top.reflector && (was || was_rrs != top.n_rrs)) {
		log_info("datastore: route reflectors by label: this node peers with %zu of them",
			 top.n_rrs);
	}
	memcpy(mesh, top.mesh, top.n_mesh * sizeof(*mesh));
	*m = top.n_mesh;
	memcpy(own + *o, top.owners, top.n_owners * sizeof(*own));
	*o += top.n_owners;
	c->route_reflectors = TAKE_PTR(top.rrs);
	c->n_route_reflectors = top.n_rrs;
	topo_free(&top);
	return 0;
}

/* Datastore mode: the leased subnets and the peers from etcd go into c:
 * roost nodes join the mesh after the file's own entries (bgp.mesh, kept),
 * each owning its leased subnet; flannel host-gw nodes become static routes
 * and owners of theirs. A lease that clashes with the file is skipped and
 * logged. 0 or -errno (logged). */
int ds_fill(struct roostd_conf *c, struct datastore *ds, const struct ds_peer *p, size_t n)
{
	struct bc_peer *mesh = calloc(c->n_mesh_file + n + 1, sizeof(*mesh));
	struct bc_static_route *st = calloc(n + 1, sizeof(*st));
	struct bc_static_route6 *st6 = calloc(n + 1, sizeof(*st6));
	struct bc_owner *own = calloc(n + 1, sizeof(*own));
	struct topo_node *t = calloc(n + 1, sizeof(*t));
	struct in_addr net, cl;
	struct in6_addr net6, cl6;
	unsigned len, cl_len, len6, cl_len6;
	size_t m = c->n_mesh_file, k = 0, k6 = 0, o = 0, nt = 0;
	char err[256];
	int r = -EINVAL;

	if (!mesh || !st || !st6 || !own || !t) {
		free(mesh);
		free(st);
		free(st6);
		free(own);
		free(t);
		return -ENOMEM;
	}
	ds_subnets(ds, &net, &len, &cl, &cl_len);
	ds_subnets6(ds, &net6, &len6, &cl6, &cl_len6);
	if (!c->address.s_addr && cl_len)
		c->address = ds_address(ds); /* the Node's InternalIP */
	if (IN6_IS_ADDR_UNSPECIFIED(&c->address6) && cl_len6)
		c->address6 = ds_address6(ds); /* its IPv6 InternalIP */
	if (!cl_len && !c->router_id.s_addr) /* IPv6-only: as conf.c derives it */
		memcpy(&c->router_id.s_addr, &c->address6.s6_addr[12], 4);
	if (ds_asn(ds))
		c->asn = ds_asn(ds); /* the Node's roost.io/asn: per node, so it wins */
	/* an IPv6-only network has no IPv4 subnet, a network without IPv6 no
	 * IPv6 one */
	if ((cl_len && conf_set_subnets(c, net, len, cl, cl_len, err, sizeof(err)) < 0) ||
	    (cl_len6 && conf_set_subnets6(c, &net6, len6, &cl6, cl_len6, err, sizeof(err)) < 0)) {
		log_error("datastore: %s", err);
		goto fail;
	}
	if (c->n_mesh_file)
		memcpy(mesh, c->mesh, c->n_mesh_file * sizeof(*mesh));
	for (size_t i = 0; i < n; i++) {
		const char *why = lease_clashes(c, mesh, m, &p[i]);

		for (size_t j = 0; j < m && !why; j++)
			if (mesh[j].pod_len && mesh[j].pod_net.s_addr == p[i].net.s_addr)
				why = "bgp.mesh gives its subnet to another node";
		if (why) {
			char a6[INET6_ADDRSTRLEN];

			inet_ntop(AF_INET6, &p[i].address6, a6, sizeof(a6));
			log_warn("datastore: lease %s/subnets/%s skipped: %s (PublicIP %s, PublicIPv6 %s)",
				 c->ds_prefix, p[i].key, why, inet_ntoa(p[i].address), a6);
			continue;
		}
		if (!p[i].roost) {
			if (p[i].len) {
				st[k++] = (struct bc_static_route){p[i].net, p[i].len, p[i].address};
				own[o++] = (struct bc_owner){.net = p[i].net, .len = p[i].len,
							     .via = p[i].address, .exclusive = true};
			}
			if (p[i].len6 && conf_has_v6(c))
				st6[k6++] = (struct bc_static_route6){p[i].net6, p[i].len6,
								      p[i].address6};
			continue;
		}
		snprintf(mesh[m].name, sizeof(mesh[m].name), "%s", p[i].name);
		mesh[m].address = p[i].address;
		mesh[m].pod_net = p[i].net;
		mesh[m].asn = p[i].asn;
		mesh[m].pod_len = p[i].len;
		if (p[i].len6 && conf_has_v6(c)) {
			mesh[m].address6 = p[i].address6;
			mesh[m].pod_net6 = p[i].net6;
			mesh[m].pod_len6 = p[i].len6;
		}
		m++;
		snprintf(t[nt].name, sizeof(t[nt].name), "%s", p[i].name);
		t[nt].address = p[i].address;
		t[nt].net = p[i].net;
		t[nt].len = p[i].len;
		t[nt].asn = p[i].asn;
		t[nt].reflector = p[i].reflector;
		t[nt++].cluster_id = p[i].cluster_id;
	}
	if (c->ds_kube && kube_topology(c, ds, mesh, &m, t, nt, own, &o) < 0)
		goto fail;
	free(t);
	free(c->mesh);
	c->mesh = mesh;
	c->n_mesh = m;
	free(c->static_routes);
	c->static_routes = st;
	c->n_static_routes = k;
	free(c->static_routes6);
	c->static_routes6 = st6;
	c->n_static_routes6 = k6;
	free(c->owners);
	c->owners = own;
	c->n_owners = o;
	return 0;
fail:
	free(mesh);
	free(st);
	free(st6);
	free(own);
	free(t);
	return r;
}

/* The datastore's peers changed: render and apply like a reload (only the
 * sessions that come or go change in BIRD). */
/* The peers p could not be applied: kept to try again after DS_RETRY_MS,
 * unless a newer list comes first. */
static void retry_later(struct agent *a, struct ds_peer *p, size_t n)
{
	if (a->ds_new) { /* a newer list is waiting */
		free(p);
		return;
	}
	a->ds_new = p;
	a->n_ds_new = n;
	a->ds_retry_ms = rst_now_ms() + DS_RETRY_MS;
}

struct apply_job *ds_merge_prepare(struct agent *a, struct ds_peer *p, size_t n)
{
	struct roostd_conf *c = a->conf, was = *c;
	struct apply_job *j = calloc(1, sizeof(*j));
	char *text = NULL;
	bool ok;

	/* ds_fill replaces (and frees) the mesh, the static routes and the
	 * owners, and may set the subnets: hand it a copy of the mesh, take
	 * its results into the job, and put everything back as it was. */
	c->mesh = calloc(was.n_mesh + 1, sizeof(*c->mesh));
	c->route_reflectors = calloc(was.n_route_reflectors + 1, sizeof(*c->route_reflectors));
	c->static_routes = NULL;
	c->static_routes6 = NULL;
	c->owners = NULL;
	if (c->mesh && was.n_mesh)
		memcpy(c->mesh, was.mesh, was.n_mesh * sizeof(*c->mesh));
	if (c->route_reflectors && was.n_route_reflectors)
		memcpy(c->route_reflectors, was.route_reflectors,
		       was.n_route_reflectors * sizeof(*c->route_reflectors));
	ok = j && c->mesh && c->route_reflectors && ds_fill(c, a->ds, p, n) == 0 &&
	     agent_render(c, &a->owners, &text) == 0;
	if (ok) {
		j->mesh = c->mesh;
		j->n_mesh = c->n_mesh;
		j->route_reflectors = c->route_reflectors;
		j->n_route_reflectors = c->n_route_reflectors;
		j->reflector = c->reflector;
		j->rr_clients_net = c->rr_clients_net;
		j->rr_clients_len = c->rr_clients_len;
		j->rr_cluster_id = c->rr_cluster_id;
		j->static_routes = c->static_routes;
		j->n_static_routes = c->n_static_routes;
		j->static_routes6 = c->static_routes6;
		j->n_static_routes6 = c->n_static_routes6;
		j->lease_owners = c->owners;
		j->n_lease_owners = c->n_owners;
		j->text = text;
		j->peers = p;
		j->n_peers = n;
		bird_init(&j->bird, c);
	} else {
		log_error("datastore: peers changed (%zu), not applied; trying again in %d ms", n,
			  DS_RETRY_MS);
		free(c->mesh);
		free(c->route_reflectors);
		free(c->static_routes);
		free(c->static_routes6);
		free(c->owners);
		free(text);
		free(j);
		j = NULL;
	}
	*c = was;
	if (!ok)
		retry_later(a, p, n);
	return j;
}

void ds_merge_commit(struct agent *a, struct apply_job *j)
{
	struct roostd_conf *c = a->conf;

	free(c->mesh);
	c->mesh = TAKE_PTR(j->mesh);
	c->n_mesh = j->n_mesh;
	free(c->static_routes);
	c->static_routes = TAKE_PTR(j->static_routes);
	c->n_static_routes = j->n_static_routes;
	free(c->static_routes6);
	c->static_routes6 = TAKE_PTR(j->static_routes6);
	c->n_static_routes6 = j->n_static_routes6;
	free(c->owners);
	c->owners = TAKE_PTR(j->lease_owners);
	c->n_owners = j->n_lease_owners;
	free(c->route_reflectors);
	c->route_reflectors = TAKE_PTR(j->route_reflectors);
	c->n_route_reflectors = j->n_route_reflectors;
	c->reflector = j->reflector;
	c->rr_clients_net = j->rr_clients_net;
	c->rr_clients_len = j->rr_clients_len;
	c->rr_cluster_id = j->rr_cluster_id;
	log_info("datastore: peers applied: %zu mesh neighbour(s), %zu flannel host-gw route(s)%s",
		 c->n_mesh, c->n_static_routes + c->n_static_routes6,
		 c->n_static_routes6 ? " (IPv4 and IPv6)" : "");
	if (c->n_route_reflectors)
		log_info("datastore: route reflector client of %zu reflector(s)",
			 c->n_route_reflectors);
	free(a->text);
	a->text = TAKE_PTR(j->text);
	free(a->ds_peers);
	a->ds_peers = TAKE_PTR(j->peers);
	a->n_ds_peers = j->n_peers;
}

void ds_merge_refused(struct agent *a, struct apply_job *j)
{
	char buf[1024];

	rst_err_format(&j->e, buf, sizeof(buf));
	log_error("datastore: peers changed (%zu), not applied, trying again in %d ms: %s",
		  j->n_peers, DS_RETRY_MS, buf);
	retry_later(a, TAKE_PTR(j->peers), j->n_peers);
}

void ds_routing_tick(struct agent *a)
{
	char (*names)[BC_NAME_MAX + 1];
	size_t n = 0;

	if (!a->ds || a->sessions.rounds == a->ds_rounds)
		return;
	a->ds_rounds = a->sessions.rounds;
	names = calloc(a->conf->n_mesh + 1, sizeof(*names));
	if (!names)
		return;
	for (size_t i = 0; i < a->conf->n_mesh; i++) {
		char sym[BC_NAME_MAX + 8];

		bc_symbol(sym, sizeof(sym), "node_", a->conf->mesh[i].name);
		if (sessions_established(&a->sessions, sym))
			memcpy(names[n++], a->conf->mesh[i].name, sizeof(*names));
	}
	ds_set_routing(a->ds, names, n);
	free(names);
}
