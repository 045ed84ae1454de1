/* SPDX-License-Identifier: MIT */
/*
 * pod.h - a pod's network attachment: veth pair, address, routes.
 *
 * ADD, in this order (undone in reverse on any failure, so a failed ADD
 * leaves no veth and no reservation):
 *   1. open CNI_NETNS (must be a network namespace, not roostd's own) and
 *      check CNI_IFNAME is free in it;
 *   2. reserve an address (IPAM);
 *   3. create the veth pair: host end "veth" + 11 hex digits (44 bits) of
 *      sha256(container id "/" ifname) — so DEL finds it without any
 *      state — with the alias "roost:" + all 64 hex digits (set with step 5),
 *      which says whose it is (a name clash with a live attachment is an
 *      error, never a deletion), and the peer directly inside the pod's namespace as
 *      CNI_IFNAME, both with the bridge's MTU;
 *   4. pod side: address/len, up, `default via gw`, `<cluster CIDR> via gw`;
 *   5. host side: into the bridge, hairpin on, up.
 * DEL removes the record, sets the pod's CNI_IFNAME down and renames it
 * out of the way ("rdel<ifindex>") at once, and has the veth deleted by the
 * teardown pool (teardown.h); the address stays held until the veth is gone, so it
 * is never handed out while an interface still carries it. DEL succeeds
 * when nothing is left, also without a namespace. An ADD whose interface
 * name (host veth, or CNI_IFNAME in the same namespace) or only free
 * addresses are still being torn down gets -EAGAIN: the agent socket
 * answers it once the teardown is done.
 *
 * Dual-stack (ipam6 not NULL: node.pod_cidr6 is set): step 2 reserves an
 * IPv6 address as well (ipam6.h), step 4 adds it with nodad (usable when
 * ADD returns), `default via gw6` and `<cluster CIDR6> via gw6`; an error
 * on either family undoes both. On an IPv6-only node ipam is NULL and
 * only the IPv6 steps run. DEL releases both, each record removed by a
 * thread of its pool while DEL does its netlink work, and both addresses
 * held until the veth is gone (round robin over a /64 would rarely come
 * back to the IPv6 one, but a small node_prefix_len6 such as /120 does).
 *
 * Container ids longer than IPAM_ID_MAX or breaking CNI's rules, and bad
 * ifnames, are refused (CNI code 4) before anything else.
 */
#ifndef ROOST_POD_H
#define ROOST_POD_H

#include <netinet/in.h>
#include <stdbool.h>

#include "conf.h"
#include "ipam.h"
#include "ipam6.h"
#include "rst.h"

struct teardown;
struct teardown_job;

#define POD_VETH_HEX 11         /* hex digits in a host veth name (IFNAMSIZ - 1 - 4) */
#define POD_ALIAS_PREFIX "roost:" /* + sha256 hex: the host veth's ifalias */

struct pod_result {
	char bridge[16], bridge_mac[18];
	char host[16], host_mac[18];
	char ifname[16], mac[18];
	struct in_addr address;
	unsigned plen;
	struct in_addr gateway;
	unsigned mtu;
	/* Dual-stack: has4 and/or has6 (an IPv6-only node: has6 only). */
	bool has4, has6;
	struct in6_addr address6, gateway6;
	unsigned plen6;
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
	bool has_address6;
	struct in6_addr address6;
	unsigned plen6;
	struct {
		struct in6_addr dst, gw; /* gw ::: any gateway */
		unsigned plen;
	} routes6[16];
	unsigned n_routes6;
};

/* "veth" + POD_VETH_HEX hex digits derived from (container_id, ifname),
 * and the alias that marks it; 0, or -EINVAL when the id or ifname breaks
 * CNI's rules (or is longer than IPAM_ID_MAX / IPAM_IFNAME_MAX). */
int pod_host_veth_name(const char *container_id, const char *ifname, char out[16]);
int pod_host_veth_alias(const char *container_id, const char *ifname, char out[72]);

/* Each returns 0, or a negative errno with reterr->cni_code and msg set;
 * pod_add() returns -EAGAIN when it must wait for a teardown (retry it once
 * teardown_fd() fired). td may be NULL: veths are then deleted at once.
 * netns is CNI_NETNS; nsfd, when >= 0, is that namespace as the client
 * opened it (borrowed; checked, and used instead of opening netns, which
 * then only names it in results and logs). */
int pod_add(const struct roostd_conf *c, struct ipam *ipam, struct ipam6 *ipam6, struct teardown *td,
	    const char *container_id, const char *ifname, const char *netns, int nsfd,
	    struct pod_result *ret, struct rst_err *reterr);
int pod_del(const struct roostd_conf *c, struct ipam *ipam, struct ipam6 *ipam6, struct teardown *td,
	    const char *container_id, const char *ifname, const char *netns, int nsfd,
	    struct rst_err *reterr);

/* GC: (container_id, ifname) lost its records and addr (IPv4, in ipam)
 * and addr6 (IPv6, in ipam6) are held (ipam_gc_hold(), ipam6_gc() with
 * hold; either may be NULL: not held): deletes its host veth (when it is
 * this attachment's) through td, and frees the addresses once that is
 * done. 0, or -errno when the veth could not even be looked up (the
 * addresses then stay held; logged). */
int pod_release_held(const struct roostd_conf *c, struct ipam *ipam, struct ipam6 *ipam6,
		     struct teardown *td, const char *container_id, const char *ifname,
		     const struct in_addr *addr, const struct in6_addr *addr6);

/* A teardown job finished (teardown_reap()): frees its held addresses
 * (either pool may be NULL) when the veth is gone; on failure they stay
 * held (logged). */
void pod_teardown_done(struct ipam *ipam, struct ipam6 *ipam6, const struct teardown_job *job);
int pod_check(const struct roostd_conf *c, struct ipam *ipam, struct ipam6 *ipam6,
	      const char *container_id,
	      const char *ifname, const char *netns, int nsfd, const struct pod_prev *prev,
	      struct rst_err *reterr);

/* After a crash: makes the node's veths and the address pool agree.
 * Every roost veth (alias "roost:...", or a roost name without an alias:
 * "veth" + 11 hex anywhere, "veth" + 8 hex in the bridge), enslaved or
 * not, that no reservation owns is deleted; a reservation roost made whose
 * host veth is gone is released. Imported host-local reservations are left
 * alone. Logs each repair; returns how many there were, or -errno. */
int pod_reconcile(const struct roostd_conf *c, struct ipam *ipam, struct ipam6 *ipam6);

#endif
