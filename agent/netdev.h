/* SPDX-License-Identifier: MIT */
/*
 * netdev.h - everything roostd does to links, addresses and routes, through
 * libnl-route-3. netdev.c is the only file that includes <netlink/...>;
 * libnl's NLE_* codes never leave it (they are mapped to -errno, and the
 * libnl text is logged).
 */
#ifndef ROOST_NETDEV_H
#define ROOST_NETDEV_H

#include <netinet/in.h>
#include <stdbool.h>

struct netdev; /* one rtnetlink socket, in the network namespace it was opened in */

int netdev_open(struct netdev **ret);
void netdev_free(struct netdev *nd);

/* Creates the bridge `name` if it does not exist, or adopts it when it does
 * (-EEXIST when `name` exists but is not a bridge). Sets its MTU to mtu
 * (0: leave it) and brings it up. Returns its ifindex (> 0) or a negative
 * errno; *ret_created (may be NULL) tells whether it was created now. */
int netdev_bridge_ensure(struct netdev *nd, const char *name, unsigned mtu, bool *ret_created);

/* Makes sure addr/plen is on ifindex (adds it if missing; other addresses are
 * left alone). Returns 1 when added, 0 when already there, or -errno. */
int netdev_addr_ensure(struct netdev *nd, int ifindex, struct in_addr addr, unsigned plen);

/* ifindex of the link called name, -ENODEV when there is none. */
int netdev_link_index(struct netdev *nd, const char *name);

/* Link state: 1 when IFF_UP is set, 0 when not, -errno. */
int netdev_link_is_up(struct netdev *nd, int ifindex);

/* Number of IPv4 routes in the main table whose protocol is proto
 * (RTPROT_BIRD = 12 for BIRD's), or -errno. */
int netdev_route_count_proto(struct netdev *nd, unsigned char proto);

/* Writes 1 to this network namespace's net.ipv4.ip_forward. 0 or -errno. */
int netdev_ipv4_forwarding_enable(void);

#endif
