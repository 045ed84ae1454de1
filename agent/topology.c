/* SPDX-License-Identifier: MIT */
/*
 * topology.c - sessions from route-reflector labels (see topology.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topology.h"

static uint32_t asn_of(const struct topo_node *t, uint32_t cluster_asn)
{
	return t->asn ? t->asn : cluster_asn;
}

static struct bc_peer peer_of(const struct topo_node *t, bool with_subnet)
{
	struct bc_peer p;

	memset(&p, 0, sizeof(p));
	snprintf(p.name, sizeof(p.name), "%s", t->name);
	p.address = t->address;
	p.asn = t->asn;
	if (with_subnet) {
		p.pod_net = t->net;
		p.pod_len = t->len;
	}
	return p;
}

/* Some reflector (self included) has ASN asn. */
static bool asn_has_reflector(const struct topo_node *self, const struct topo_node *peers,
			      size_t n, uint32_t cluster_asn, uint32_t asn)
{
	if (self->reflector && asn_of(self, cluster_asn) == asn)
		return true;
	for (size_t i = 0; i < n; i++)
		if (peers[i].reflector && asn_of(&peers[i], cluster_asn) == asn)
			return true;
	return false;
}

void topo_free(struct topo *t)
{
	free(t->mesh);
	free(t->rrs);
	free(t->owners);
	memset(t, 0, sizeof(*t));
}

int topo_build(const struct topo_node *self, const struct topo_node *peers, size_t n,
	       uint32_t cluster_asn, struct topo *ret)
{
	uint32_t own_asn = asn_of(self, cluster_asn);
	bool any = self->reflector;
	bool own_has = asn_has_reflector(self, peers, n, cluster_asn, own_asn);

	for (size_t i = 0; i < n && !any; i++)
		any = peers[i].reflector;
	if (!any)
		return 0;
	memset(ret, 0, sizeof(*ret));
	ret->mesh = calloc(n + 1, sizeof(*ret->mesh));
	ret->rrs = calloc(n + 1, sizeof(*ret->rrs));
	ret->owners = calloc(n + 1, sizeof(*ret->owners));
	if (!ret->mesh || !ret->rrs || !ret->owners) {
		topo_free(ret);
		return -ENOMEM;
	}
	ret->reflector = self->reflector;
	if (self->reflector)
		ret->cluster_id = self->cluster_id.s_addr ? self->cluster_id : self->address;
	for (size_t i = 0; i < n; i++) {
		const struct topo_node *p = &peers[i];
		uint32_t asn = asn_of(p, cluster_asn);
		bool mesh, rr;

		if (self->reflector) {
			/* The other reflectors, and the nodes no reflector of
			 * their ASN serves (eBGP); the rest are clients. */
			mesh = p->reflector ||
			       !asn_has_reflector(self, peers, n, cluster_asn, asn);
			rr = false;
		} else {
			/* A client of its ASN's reflectors; a node of an ASN
			 * without one peers with every reflector (eBGP). */
			mesh = false;
			rr = p->reflector && (!own_has || asn == own_asn);
		}
		if (mesh) {
			ret->mesh[ret->n_mesh++] = peer_of(p, true);
			continue;
		}
		if (rr)
			ret->rrs[ret->n_rrs++] = peer_of(p, false);
		ret->owners[ret->n_owners++] = (struct bc_owner){
			.net = p->net, .len = p->len, .via = p->address, .exclusive = true};
		snprintf(ret->owners[ret->n_owners - 1].name,
			 sizeof(ret->owners[ret->n_owners - 1].name), "%s", p->name);
	}
	return 1;
}
