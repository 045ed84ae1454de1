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

struct netdev_link_info;

/* Creates the bridge `name` if it does not exist, or adopts it when it does
 * (-EEXIST when `name` exists but is not a bridge). Sets its MTU to mtu
 * (0: leave it) and brings it up. Returns its ifindex (> 0) or a negative
 * errno; *ret_created (may be NULL) tells whether it was created now, and
 * *ret_info (may be NULL) gets its name, MAC and so on (no hairpin). */
int netdev_bridge_ensure(struct netdev *nd, const char *name, unsigned mtu, bool *ret_created,
			 struct netdev_link_info *ret_info);

/* Makes sure addr/plen is on ifindex (adds it if missing; other addresses are
 * left alone). Returns 1 when added, 0 when already there, or -errno. */
int netdev_addr_ensure(struct netdev *nd, int ifindex, struct in_addr addr, unsigned plen);
/* Adds addr/plen to ifindex without looking first (for a link just made):
 * 1 when added, 0 when it was there already, or -errno. */
int netdev_addr_add(struct netdev *nd, int ifindex, struct in_addr addr, unsigned plen);

/* ifindex of the link called name, -ENODEV when there is none. */
int netdev_link_index(struct netdev *nd, const char *name);

/* Link state: 1 when IFF_UP is set, 0 when not, -errno. */
int netdev_link_is_up(struct netdev *nd, int ifindex);

/* Number of IPv4 routes in the main table whose protocol is proto
 * (RTPROT_BIRD = 12 for BIRD's), or -errno. */
int netdev_route_count_proto(struct netdev *nd, unsigned char proto);

/* Writes 1 to this network namespace's net.ipv4.ip_forward. 0 or -errno. */
int netdev_ipv4_forwarding_enable(void);

/* Dual-stack: addr/plen on ifindex unless there already, added without
 * duplicate address detection (IFA_F_NODAD). 1 when added, 0 when already
 * there, or -errno. */
int netdev_addr6_ensure(struct netdev *nd, int ifindex, const struct in6_addr *addr, unsigned plen);

/* Number of IPv6 routes in the main table whose protocol is proto, or
 * -errno (netdev_route_count_proto's IPv6 twin). */
int netdev_route6_count_proto(struct netdev *nd, unsigned char proto);

/* ifindex of the link that has addr (IPv6), 0 when none, or -errno. */
int netdev_addr6_link(struct netdev *nd, const struct in6_addr *addr);

/* net.ipv6.conf.all.forwarding = 1 in the current namespace. */
int netdev_ipv6_forwarding_enable(void);

/* Pods, dual-stack: netdev_route_add() for IPv6 (dst/plen via gw, gw ::
 * for on-link, out of oif), -EEXIST when a route to dst/plen is there;
 * whether ifindex has addr/plen (1/0); whether the main table has a route
 * to dst/plen via gw (gw :: for any gateway), 1/0. Or -errno. */
int netdev_route6_add(struct netdev *nd, const struct in6_addr *dst, unsigned plen,
		      const struct in6_addr *gw, int oif);
int netdev_addr6_exists(struct netdev *nd, int ifindex, const struct in6_addr *addr,
			unsigned plen);
int netdev_route6_exists(struct netdev *nd, const struct in6_addr *dst, unsigned plen,
			 const struct in6_addr *gw);

/* Creates the veth pair host_name <-> peer_name. The peer end is created
 * directly in the network namespace referred to by peer_netns_fd (-1: this
 * one), so it never shows up here. Both ends get MTU mtu (0: kernel default)
 * and stay down; the host end gets the alias (IFLA_IFALIAS, NULL: none) at
 * once, by a change right after the create. *ret_host (may be
 * NULL) receives the host end's details (ifindex, MAC; no hairpin).
 * 0, -EEXIST when a name is taken, or -errno. Nothing is left behind on
 * failure. */
int netdev_veth_create(struct netdev *nd, const char *host_name, const char *peer_name,
		       int peer_netns_fd, unsigned mtu, const char *alias,
		       struct netdev_link_info *ret_host);

/* Deletes the link called name (a veth takes its peer with it). 0 when
 * deleted or when there was no such link, or -errno. */
int netdev_link_delete(struct netdev *nd, const char *name);
/* The same by ifindex (an index is never reused while the namespace lives,
 * so this deletes the very link that was looked up). */
int netdev_link_delete_index(struct netdev *nd, int ifindex);

/* Enslaves ifindex to the bridge master_ifindex, sets its alias (NULL:
 * left alone) in the same request, sets the bridge port's hairpin mode to
 * hairpin (so a pod can reach itself through a service address), and
 * brings ifindex up. 0 or -errno. */
int netdev_link_set_master_up(struct netdev *nd, int ifindex, int master_ifindex, bool hairpin,
			      const char *alias);

/* Adds the IPv4 route dst/plen (plen 0: the default route) to the main table,
 * via gw (INADDR_ANY: none, the destination is on-link) and/or out of oif
 * (0: let the kernel pick from gw), with protocol proto (0: RTPROT_BOOT, as
 * `ip route add` does). 0, -EEXIST when a route to dst/plen is already there
 * (it is not replaced), or -errno. */
int netdev_route_add(struct netdev *nd, struct in_addr dst, unsigned plen, struct in_addr gw,
		     int oif, unsigned char proto);

/* A link as the kernel reports it, for checks and status output. */
struct netdev_link_info {
	int ifindex;
	int master; /* ifindex of the bridge it is a port of, 0 when none */
	unsigned mtu;
	bool up;       /* IFF_UP */
	bool hairpin;  /* bridge port in hairpin mode; false when not a port */
	char name[16]; /* IFNAMSIZ */
	char kind[16]; /* "bridge", "veth", ...; "" when the kernel gives none */
	char mac[18];  /* "aa:bb:cc:dd:ee:ff", "" when the link has none */
	int link_netnsid; /* veth: the peer's netns id (-1: same netns or unknown) */
	char alias[128];  /* IFLA_IFALIAS, "" when none (longer ones cut) */
};

/* Reads link ifindex into *ret (left alone on failure). 0, -ENODEV when there
 * is no such link, or -errno. */
int netdev_link_get(struct netdev *nd, int ifindex, struct netdev_link_info *ret);
/* As netdev_link_get, by ifindex (> 0) or else by name, without the
 * hairpin flag (which costs a dump of every bridge port): one round trip. */
int netdev_link_lookup(struct netdev *nd, int ifindex, const char *name,
		       struct netdev_link_info *ret);

/* Opens a netdev whose socket lives in the network namespace netns_fd
 * (the caller's namespace is left as it was). Everything done through it
 * happens in that namespace. 0 or -errno. */
int netdev_open_netns(int netns_fd, struct netdev **ret);

/* Sets the link's MAC address to the one it has, so that the kernel stops
 * choosing it (a bridge otherwise follows the lowest MAC of its ports).
 * 0 or -errno. */
int netdev_link_pin_addr(struct netdev *nd, int ifindex);

/* Clears IFF_UP on ifindex and renames it to name (two quick requests, no
 * RCU grace period: a delete later frees the name at once). 0 or -errno. */
int netdev_link_set_down_name(struct netdev *nd, int ifindex, const char *name);

/* Sets IFF_UP on ifindex. 0 or -errno. */
int netdev_link_set_up(struct netdev *nd, int ifindex);

/* 1 when addr/plen is on ifindex, 0 when not, or -errno. */
int netdev_addr_exists(struct netdev *nd, int ifindex, struct in_addr addr, unsigned plen);

/* The ifindex of the link that has the local IPv4 address addr (any
 * prefix length), 0 when none has it, or -errno. */
int netdev_addr_link(struct netdev *nd, struct in_addr addr);
/* The connected prefix of the local IPv4 address addr (the network of the
 * address as configured, 172.31.0.11/24 -> 172.31.0.0/24) into *net and
 * *plen: its link's ifindex, 0 when no link has addr, or -errno. */
int netdev_addr_prefix(struct netdev *nd, struct in_addr addr, struct in_addr *net,
		       unsigned *plen);

/* 1 when the main table has an IPv4 route to dst/plen whose first next hop
 * is gw (any gateway when gw is INADDR_ANY), 0 when not, or -errno. */
int netdev_route_exists(struct netdev *nd, struct in_addr dst, unsigned plen, struct in_addr gw);

/* Every link of the namespace, as an owned array (free(); NULL when none;
 * hairpin is not filled in). 0 or -errno. */
int netdev_link_list(struct netdev *nd, struct netdev_link_info **ret, size_t *ret_n);

/* An IPv4 route of the main table, as the kernel has it. */
struct netdev_route {
	struct in_addr dst;
	unsigned plen;
	struct in_addr gw; /* first next hop's gateway, INADDR_ANY when none */
	int oif;           /* first next hop's interface, 0 when none */
	unsigned metric;
	unsigned char type;  /* RTN_UNICAST, RTN_UNREACHABLE, ... */
	unsigned char proto; /* RTPROT_* */
};

/* Every IPv4 route of the main table whose protocol is proto (0: all), as
 * an owned array (free(); NULL when none). 0 or -errno. */
int netdev_route_list(struct netdev *nd, unsigned char proto, struct netdev_route **ret,
		      size_t *ret_n);

/* An IPv6 route of the main table (netdev_route's twin). */
struct netdev_route6 {
	struct in6_addr dst;
	unsigned plen;
	struct in6_addr gw; /* first next hop's gateway, :: when none */
	int oif;
	unsigned metric;
	unsigned char type;
	unsigned char proto;
};

/* Every IPv6 route of the main table whose protocol is proto (0: all), as
 * an owned array (free(); NULL when none). 0 or -errno. */
int netdev_route6_list(struct netdev *nd, unsigned char proto, struct netdev_route6 **ret,
		       size_t *ret_n);

#endif
