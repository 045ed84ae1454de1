/* SPDX-License-Identifier: MIT */
/*
 * topology.h - who peers with whom in Kubernetes datastore mode, from the
 * Nodes' route-reflector labels (Calico-like; README, "Kubernetes
 * datastore"). Pure: no I/O, no logging, no globals.
 *
 *   - no Node is a reflector: a full mesh (the caller keeps its own mesh);
 *   - a reflector: static sessions (node_<name>) with the other reflectors
 *     and with the nodes of an ASN that has no reflector (eBGP); every other
 *     node is a dynamic client (client_N, from the clients range);
 *   - a node of an ASN that has reflectors: a client of those reflectors
 *     (rr_<name>), no mesh;
 *   - a node of an ASN without a reflector: sessions with every reflector
 *     (rr_<name>, eBGP), which send it the whole cluster.
 * Every node's subnet is owned by its address either way: mesh entries
 * carry their pod subnet, the others come back as exclusive owners.
 */
#ifndef ROOST_TOPOLOGY_H
#define ROOST_TOPOLOGY_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "birdconf.h"

/* One node as the topology sees it. */
struct topo_node {
	char name[BC_NAME_MAX + 1];
	struct in_addr address;
	struct in_addr net; /* its pod subnet */
	unsigned len;
	uint32_t asn; /* 0: the cluster's */
	bool reflector;
	struct in_addr cluster_id; /* 0: not given (a reflector's default: its address) */
};

struct topo {
	bool reflector;            /* this node reflects */
	struct in_addr cluster_id; /* its cluster id, when it does */
	struct bc_peer *mesh;      /* owned: static sessions, node_<name> */
	size_t n_mesh;
	struct bc_peer *rrs;       /* owned: sessions with reflectors, rr_<name> */
	size_t n_rrs;
	struct bc_owner *owners;   /* owned: the subnets of the nodes not in mesh */
	size_t n_owners;
};

/* The sessions of self among peers (self not among them). 0 when no node is
 * a reflector (ret untouched: full mesh), 1 with *ret filled (topo_free it),
 * or -ENOMEM. */
int topo_build(const struct topo_node *self, const struct topo_node *peers, size_t n,
	       uint32_t cluster_asn, struct topo *ret);
void topo_free(struct topo *t);

#endif
