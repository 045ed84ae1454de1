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
#include "rst-util.h"

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
		    mesh[j].address.s_addr == p->address.s_addr)
			return "it repeats a mesh neighbour's name or address";
	for (size_t j = 0; j < c->n_peers; j++)
		if (c->peers[j].address.s_addr == p->address.s_addr)
			return "its PublicIP is an external peer's (bgp.peers)";
	for (size_t j = 0; j < c->n_route_reflectors; j++)
		if (c->route_reflectors[j].address.s_addr == p->address.s_addr)
			return "its PublicIP is a route reflector's";
	return NULL;
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
	struct bc_owner *own = calloc(n + 1, sizeof(*own));
	struct in_addr net, cl;
	unsigned len, cl_len;
	size_t m = c->n_mesh_file, k = 0, o = 0;
	char err[256];

	if (!mesh || !st || !own) {
		free(mesh);
		free(st);
		free(own);
		return -ENOMEM;
	}
	ds_subnets(ds, &net, &len, &cl, &cl_len);
	if (!c->address.s_addr)
		c->address = ds_address(ds); /* the Node's InternalIP */
	if (ds_asn(ds))
		c->asn = ds_asn(ds); /* the Node's roost.io/asn: per node, so it wins */
	if (conf_set_subnets(c, net, len, cl, cl_len, err, sizeof(err)) < 0) {
		free(mesh);
		free(st);
		free(own);
		log_error("datastore: %s", err);
		return -EINVAL;
	}
	if (c->n_mesh_file)
		memcpy(mesh, c->mesh, c->n_mesh_file * sizeof(*mesh));
	for (size_t i = 0; i < n; i++) {
		const char *why = lease_clashes(c, mesh, m, &p[i]);

		for (size_t j = 0; j < m && !why; j++)
			if (mesh[j].pod_len && mesh[j].pod_net.s_addr == p[i].net.s_addr)
				why = "bgp.mesh gives its subnet to another node";
		if (why) {
			log_warn("datastore: lease %s/subnets/%s skipped: %s (PublicIP %s)",
				 c->ds_prefix, p[i].key, why, inet_ntoa(p[i].address));
			continue;
		}
		if (!p[i].roost) {
			st[k++] = (struct bc_static_route){p[i].net, p[i].len, p[i].address};
			own[o++] = (struct bc_owner){.net = p[i].net, .len = p[i].len,
						     .via = p[i].address, .exclusive = true};
			continue;
		}
		snprintf(mesh[m].name, sizeof(mesh[m].name), "%s", p[i].name);
		mesh[m].address = p[i].address;
		mesh[m].pod_net = p[i].net;
		mesh[m].asn = p[i].asn;
		mesh[m++].pod_len = p[i].len;
	}
	free(c->mesh);
	c->mesh = mesh;
	c->n_mesh = m;
	free(c->static_routes);
	c->static_routes = st;
	c->n_static_routes = k;
	free(c->owners);
	c->owners = own;
	c->n_owners = o;
	return 0;
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
	c->static_routes = NULL;
	c->owners = NULL;
	if (c->mesh && was.n_mesh)
		memcpy(c->mesh, was.mesh, was.n_mesh * sizeof(*c->mesh));
	ok = j && c->mesh && ds_fill(c, a->ds, p, n) == 0 &&
	     agent_render(c, &a->owners, &text) == 0;
	if (ok) {
		j->mesh = c->mesh;
		j->n_mesh = c->n_mesh;
		j->static_routes = c->static_routes;
		j->n_static_routes = c->n_static_routes;
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
		free(c->static_routes);
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
	free(c->owners);
	c->owners = TAKE_PTR(j->lease_owners);
	c->n_owners = j->n_lease_owners;
	log_info("datastore: peers applied: %zu mesh neighbour(s), %zu flannel host-gw route(s)",
		 c->n_mesh, c->n_static_routes);
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
