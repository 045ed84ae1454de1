/* SPDX-License-Identifier: MIT */
/*
 * pod.h - a pod's network attachment: veth pair, address, routes.
 *
 * ADD, in this order (undone in reverse on any failure, so a failed ADD
 * leaves no veth and no reservation):
 *   1. open CNI_NETNS (must be a network namespace, not roostd's own) and
 *      check CNI_IFNAME is free in it;
 *   2. reserve an address (IPAM);
 *   3. create the veth pair: host end "veth" + 8 hex digits of
 *      sha256(container id, ifname) — so DEL finds it without any state —
 *      and the peer directly inside the pod's namespace as CNI_IFNAME, both
 *      with the bridge's MTU;
 *   4. pod side: address/len, up, `default via gw`, `<cluster CIDR> via gw`;
 *   5. host side: into the bridge, hairpin on, up.
 * DEL removes whatever of that still exists and releases the address; it
 * succeeds when nothing is left, also without a namespace.
 */
#ifndef ROOST_POD_H
#define ROOST_POD_H

#include <netinet/in.h>
#include <stdbool.h>

#include "conf.h"
#include "ipam.h"
#include "rst.h"

struct pod_result {
	char bridge[16], bridge_mac[18];
	char host[16], host_mac[18];
	char ifname[16], mac[18];
	struct in_addr address;
	unsigned plen;
	struct in_addr gateway;
	unsigned mtu;
};

/* What CHECK compares against (from the runtime's prevResult). */
struct pod_prev {
	bool has_address;
	struct in_addr address;
	unsigned plen;
	char mac[18]; /* "" when not given */
	struct {
		struct in_addr dst, gw; /* gw INADDR_ANY: any gateway */
		unsigned plen;
	} routes[16];
	unsigned n_routes;
};

/* "veth" + 8 hex digits derived from (container_id, ifname). */
void pod_host_veth_name(const char *container_id, const char *ifname, char out[16]);

/* Each returns 0, or a negative errno with reterr->cni_code and msg set. */
int pod_add(const struct roostd_conf *c, struct ipam *ipam, const char *container_id,
	    const char *ifname, const char *netns, struct pod_result *ret, struct rst_err *reterr);
int pod_del(const struct roostd_conf *c, struct ipam *ipam, const char *container_id,
	    const char *ifname, const char *netns, struct rst_err *reterr);
int pod_check(const struct roostd_conf *c, struct ipam *ipam, const char *container_id,
	      const char *ifname, const char *netns, const struct pod_prev *prev,
	      struct rst_err *reterr);

/* After a crash: makes the bridge's veths and the address pool agree.
 * A host veth named like roost's ("veth" + 8 hex) in the bridge without a
 * reservation is deleted; a reservation roost made whose host veth is gone
 * is released. Imported host-local reservations are left alone. Logs each
 * repair; returns how many there were, or -errno. */
int pod_reconcile(const struct roostd_conf *c, struct ipam *ipam);

#endif
