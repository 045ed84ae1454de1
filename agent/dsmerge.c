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

#include "agent.h"
#include "log.h"

/* Datastore mode: the leased subnets and the peers from etcd go into c:
 * roost nodes join the mesh after the file's own entries (bgp.mesh, kept),
 * flannel host-gw nodes become static routes. 0 or -errno (logged). */
int ds_fill(struct roostd_conf *c, const struct datastore *ds, const struct ds_peer *p,
	    size_t n)
{
	struct bc_peer *mesh = calloc(c->n_mesh_file + n + 1, sizeof(*mesh));
	struct bc_static_route *st = calloc(n + 1, sizeof(*st));
	struct in_addr net, cl;
	unsigned len, cl_len;
	size_t m = c->n_mesh_file, k = 0;
	char err[256];

	if (!mesh || !st) {
		free(mesh);
		free(st);
		return -ENOMEM;
	}
	ds_subnets(ds, &net, &len, &cl, &cl_len);
	if (conf_set_subnets(c, net, len, cl, cl_len, err, sizeof(err)) < 0) {
		free(mesh);
		free(st);
		log_error("datastore: %s", err);
		return -EINVAL;
	}
	if (c->n_mesh_file)
		memcpy(mesh, c->mesh, c->n_mesh_file * sizeof(*mesh));
	for (size_t i = 0; i < n; i++) {
		bool dup = !strcmp(p[i].name, c->name);

		if (!p[i].roost) {
			st[k++] = (struct bc_static_route){p[i].net, p[i].len, p[i].address};
			continue;
		}
		for (size_t j = 0; j < m && !dup; j++)
			dup = !strcmp(mesh[j].name, p[i].name) ||
			      mesh[j].address.s_addr == p[i].address.s_addr;
		if (dup) {
			log_warn("datastore: lease of '%s' (%s) duplicates a neighbour's name or address, ignoring",
				 p[i].name, inet_ntoa(p[i].address));
			continue;
		}
		snprintf(mesh[m].name, sizeof(mesh[m].name), "%s", p[i].name);
		mesh[m++].address = p[i].address;
	}
	free(c->mesh);
	c->mesh = mesh;
	c->n_mesh = m;
	free(c->static_routes);
	c->static_routes = st;
	c->n_static_routes = k;
	return 0;
}

struct apply_job *ds_merge_prepare(struct agent *a, struct ds_peer *p, size_t n)
{
	struct roostd_conf *c = a->conf;
	struct bc_peer *old_mesh = c->mesh;
	struct bc_static_route *old_st = c->static_routes;
	size_t old_n = c->n_mesh, old_nst = c->n_static_routes;
	struct apply_job *j = calloc(1, sizeof(*j));
	char *text = NULL;
	bool ok;

	/* ds_fill frees what it replaces: hand it a copy of the old mesh, then
	 * take its result into the job and put the old arrays back. */
	c->mesh = calloc(old_n + 1, sizeof(*old_mesh));
	c->static_routes = NULL;
	if (c->mesh && old_n)
		memcpy(c->mesh, old_mesh, old_n * sizeof(*old_mesh));
	ok = j && c->mesh && ds_fill(c, a->ds, p, n) == 0 && agent_render(c, &text) == 0;
	if (ok) {
		j->mesh = c->mesh;
		j->n_mesh = c->n_mesh;
		j->static_routes = c->static_routes;
		j->n_static_routes = c->n_static_routes;
		j->text = text;
		j->peers = p;
		j->n_peers = n;
		bird_init(&j->bird, c);
	} else {
		log_error("datastore: peers changed (%zu), not applied", n);
		free(c->mesh);
		free(c->static_routes);
		free(text);
		free(p);
		free(j);
		j = NULL;
	}
	c->mesh = old_mesh;
	c->n_mesh = old_n;
	c->static_routes = old_st;
	c->n_static_routes = old_nst;
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
	log_error("datastore: peers changed (%zu), not applied: %s", j->n_peers, buf);
}
