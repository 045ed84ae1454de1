/* SPDX-License-Identifier: MIT */
/*
 * netdev.c - links, addresses and routes, through libnl-route-3.
 *
 * DOC: the only file that includes <netlink/...>. It owns the rtnetlink
 * socket inside struct netdev and nothing else: the links, addresses and
 * routes it creates belong to the caller, who deletes them.
 *
 * Every libnl object is held by a _cleanup_ local (rtnl_link_putp, ...) and
 * put back on every path; TAKE_PTR() hands one over when libnl takes it.
 * libnl errors (-NLE_*) are logged once here with their nl_geterror() text
 * and leave this file as -errno (nle_errno()). A "no such link" answer to a
 * question (netdev_link_index(), netdev_link_get(), ...) is a result, not a
 * failure, and is not logged.
 */
#include "netdev.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <netlink/cache.h>
#include <netlink/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/addr.h>
#include <netlink/route/route.h>
#include <netlink/route/nexthop.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>

#include "rst.h"
#include "log.h"

DEFINE_CLEANUP(struct nl_sock *, nl_socket_free)
DEFINE_CLEANUP(struct nl_cache *, nl_cache_free)
DEFINE_CLEANUP(struct nl_addr *, nl_addr_put)
DEFINE_CLEANUP(struct rtnl_link *, rtnl_link_put)
DEFINE_CLEANUP(struct rtnl_addr *, rtnl_addr_put)
DEFINE_CLEANUP(struct rtnl_route *, rtnl_route_put)
DEFINE_CLEANUP(struct rtnl_nexthop *, rtnl_route_nh_free)

struct netdev {
	struct nl_sock *sk; /* owned; connected to NETLINK_ROUTE */
};

/* -NLE_* (or NLE_*) -> -errno. libnl folds several kernel errnos into one
 * NLE code (EEXIST and EADDRINUSE both become NLE_EXIST), so the mapping is
 * lossy; the log line keeps the libnl text. */
static int nle_errno(int nle)
{
	switch (nle < 0 ? -nle : nle) {
	case NLE_EXIST:
		return -EEXIST;
	case NLE_OBJ_NOTFOUND:
	case NLE_NODEV:
		return -ENODEV;
	case NLE_PERM:
		return -EPERM;
	case NLE_NOACCESS:
		return -EACCES;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_INVAL:
		return -EINVAL;
	case NLE_RANGE:
		return -ERANGE;
	case NLE_BUSY:
		return -EBUSY;
	case NLE_AGAIN:
		return -EAGAIN;
	case NLE_INTR:
		return -EINTR;
	case NLE_OPNOTSUPP:
		return -EOPNOTSUPP;
	case NLE_AF_NOSUPPORT:
		return -EAFNOSUPPORT;
	case NLE_NOADDR:
		return -EADDRNOTAVAIL;
	default:
		return -EIO;
	}
}

/* Logs "<what>: <libnl text>" at prio and returns nle as -errno. */
static __attribute__((format(printf, 3, 4))) int nle_log(int prio, int nle, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	log_msg(prio, "%s: %s", what, nl_geterror(nle));
	return nle_errno(nle);
}

static bool nle_is_nodev(int nle)
{
	return nle == -NLE_NODEV || nle == -NLE_OBJ_NOTFOUND;
}

/* libnl truncates a long name silently (rtnl_link_set_name), so check it
 * here: 1 to IFNAMSIZ-1 characters. */
static int ifname_check(const char *what, const char *name)
{
	if (name && name[0] && strlen(name) < IFNAMSIZ)
		return 0;
	log_error("%s '%s': invalid interface name (1 to %d characters)", what, name ? name : "",
		  IFNAMSIZ - 1);
	return -EINVAL;
}

#define NETDEV_RECV_BUF (64 * 1024)

static void link_info_fill(struct rtnl_link *link, struct netdev_link_info *info);
static int link_change(struct netdev *nd, int ifindex, int family, struct rtnl_link *change);

int netdev_open(struct netdev **ret)
{
	_cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
	struct netdev *nd;
	int err;

	sk = nl_socket_alloc();
	if (!sk)
		return log_errno(LOG_ERR, ENOMEM, "netlink: socket allocation failed");
	err = nl_connect(sk, NETLINK_ROUTE);
	if (err < 0)
		return nle_log(LOG_ERR, err, "netlink: connect failed");
	/* libnl peeks at every message to size its buffer, two recvmsg() per
	 * reply; the kernel never sends a netlink message or dump batch above
	 * 32 KiB (net/netlink caps max_recvmsg_len), so one fixed buffer twice
	 * that size reads each reply in one call (a larger one would fail with
	 * NLE_MSG_TRUNC, never silently). */
	err = nl_socket_set_msg_buf_size(sk, NETDEV_RECV_BUF);
	if (err < 0)
		return nle_log(LOG_ERR, err, "netlink: setting the receive buffer failed");
	nd = calloc(1, sizeof(*nd));
	if (!nd)
		return log_errno(LOG_ERR, ENOMEM, "netlink: allocation failed");
	nd->sk = TAKE_PTR(sk);
	*ret = nd;
	return 0;
}

void netdev_free(struct netdev *nd)
{
	if (!nd)
		return;
	nl_socket_free(nd->sk);
	free(nd);
}

int netdev_bridge_ensure(struct netdev *nd, const char *name, unsigned mtu, bool *ret_created,
			 struct netdev_link_info *ret_info)
{
	_cleanup_(rtnl_link_putp) struct rtnl_link *link = NULL;
	_cleanup_(rtnl_link_putp) struct rtnl_link *change = NULL;
	const char *kind;
	bool created = false, set_mtu;
	int r, err;

	r = ifname_check("bridge", name);
	if (r < 0)
		return r;

	err = rtnl_link_get_kernel(nd->sk, 0, name, &link);
	if (nle_is_nodev(err)) {
		_cleanup_(rtnl_link_putp) struct rtnl_link *br = rtnl_link_bridge_alloc();

		if (!br)
			return log_errno(LOG_ERR, ENOMEM, "bridge '%s': allocation failed", name);
		rtnl_link_set_name(br, name);
		err = rtnl_link_add(nd->sk, br, NLM_F_CREATE | NLM_F_EXCL);
		/* NLE_EXIST: someone created it since we looked; adopt it below
		 * (or refuse it if it is not a bridge). */
		if (err < 0 && err != -NLE_EXIST)
			return nle_log(LOG_ERR, err, "bridge '%s': create failed", name);
		created = err == 0;
		err = rtnl_link_get_kernel(nd->sk, 0, name, &link);
	}
	if (err < 0)
		return nle_log(LOG_ERR, err, "bridge '%s': lookup failed", name);

	kind = rtnl_link_get_type(link);
	if (!kind || strcmp(kind, "bridge") != 0) {
		log_error("bridge '%s': name taken by a link of type '%s'", name,
			  kind ? kind : "unknown");
		return -EEXIST;
	}

	/* A fresh bridge gets its MTU through a change even when it already
	 * matches: only a change (not IFLA_MTU at create time) makes the
	 * kernel remember it was set by us and stop lowering it to the
	 * smallest port MTU as ports come and go. */
	set_mtu = mtu && (created || rtnl_link_get_mtu(link) != mtu);
	if (set_mtu || created || !(rtnl_link_get_flags(link) & IFF_UP)) {
		change = rtnl_link_alloc();
		if (!change)
			return log_errno(LOG_ERR, ENOMEM, "bridge '%s': allocation failed", name);
		if (set_mtu)
			rtnl_link_set_mtu(change, mtu);
		/* Pin the bridge's MAC: left to the kernel, a bridge takes the
		 * lowest MAC of its ports and changes it as pods come and go,
		 * which leaves every pod's ARP entry for the gateway stale. */
		if (created && rtnl_link_get_addr(link))
			rtnl_link_set_addr(change, rtnl_link_get_addr(link));
		rtnl_link_set_flags(change, IFF_UP);
		err = rtnl_link_change(nd->sk, link, change, 0);
		if (err < 0) {
			r = nle_log(LOG_ERR, err, "bridge '%s': setting mtu %u and up failed", name,
				    mtu);
			/* undo: a bridge we made but could not set up */
			if (created)
				(void)netdev_link_delete(nd, name);
			return r;
		}
	}

	if (ret_created)
		*ret_created = created;
	if (ret_info) {
		struct netdev_link_info info = {0};

		link_info_fill(link, &info); /* as looked up; the MAC is pinned */
		info.up = true;
		if (set_mtu)
			info.mtu = mtu;
		*ret_info = info;
	}
	return rtnl_link_get_ifindex(link);
}

static bool addr_matches(struct rtnl_addr *a, int ifindex, struct in_addr addr, unsigned plen)
{
	struct nl_addr *local;

	if (rtnl_addr_get_family(a) != AF_INET || rtnl_addr_get_ifindex(a) != ifindex ||
	    rtnl_addr_get_prefixlen(a) != (int)plen)
		return false;
	local = rtnl_addr_get_local(a); /* borrowed */
	return local && nl_addr_get_len(local) == sizeof(addr) &&
	       memcmp(nl_addr_get_binary_addr(local), &addr, sizeof(addr)) == 0;
}

int netdev_addr_add(struct netdev *nd, int ifindex, struct in_addr addr, unsigned plen)
{
	_cleanup_(rtnl_addr_putp) struct rtnl_addr *ra = NULL;
	_cleanup_(nl_addr_putp) struct nl_addr *local = NULL;
	_cleanup_(nl_addr_putp) struct nl_addr *bcast = NULL;
	char text[INET_ADDRSTRLEN];
	int err;

	inet_ntop(AF_INET, &addr, text, sizeof(text));
	if (ifindex <= 0 || plen > 32) {
		log_error("link %d: address %s/%u: invalid", ifindex, text, plen);
		return -EINVAL;
	}
	ra = rtnl_addr_alloc();
	local = nl_addr_build(AF_INET, &addr, sizeof(addr));
	if (!ra || !local)
		return log_errno(LOG_ERR, ENOMEM, "link %d: address %s/%u: allocation failed",
				 ifindex, text, plen);
	nl_addr_set_prefixlen(local, (int)plen);
	rtnl_addr_set_family(ra, AF_INET);
	rtnl_addr_set_ifindex(ra, ifindex);
	err = rtnl_addr_set_local(ra, local); /* takes its own reference */
	if (err < 0)
		return nle_log(LOG_ERR, err, "link %d: address %s/%u: setting local failed",
			       ifindex, text, plen);
	rtnl_addr_set_prefixlen(ra, (int)plen);
	/* /31 and /32 have no broadcast address (RFC 3021). */
	if (plen < 31) {
		struct in_addr b = {.s_addr = addr.s_addr | htonl(0xffffffffu >> plen)};

		bcast = nl_addr_build(AF_INET, &b, sizeof(b));
		if (!bcast)
			return log_errno(LOG_ERR, ENOMEM,
					 "link %d: address %s/%u: allocation failed", ifindex, text,
					 plen);
		err = rtnl_addr_set_broadcast(ra, bcast);
		if (err < 0)
			return nle_log(LOG_ERR, err,
				       "link %d: address %s/%u: setting broadcast failed", ifindex,
				       text, plen);
	}

	err = rtnl_addr_add(nd->sk, ra, NLM_F_EXCL);
	if (err == -NLE_EXIST) /* there already (or added since a dump) */
		return 0;
	if (err < 0)
		return nle_log(LOG_ERR, err, "link %d: address %s/%u: add failed", ifindex, text,
			       plen);
	return 1;
}

int netdev_addr_ensure(struct netdev *nd, int ifindex, struct in_addr addr, unsigned plen)
{
	_cleanup_(nl_cache_freep) struct nl_cache *cache = NULL;
	char text[INET_ADDRSTRLEN];
	struct nl_object *obj;
	int err;

	if (ifindex <= 0 || plen > 32)
		return netdev_addr_add(nd, ifindex, addr, plen); /* says why not */
	inet_ntop(AF_INET, &addr, text, sizeof(text));
	err = rtnl_addr_alloc_cache(nd->sk, &cache);
	if (err < 0)
		return nle_log(LOG_ERR, err, "link %d: address %s/%u: address dump failed", ifindex,
			       text, plen);
	for (obj = nl_cache_get_first(cache); obj; obj = nl_cache_get_next(obj))
		if (addr_matches((struct rtnl_addr *)obj, ifindex, addr, plen))
			return 0;

	return netdev_addr_add(nd, ifindex, addr, plen);
}

int netdev_link_index(struct netdev *nd, const char *name)
{
	_cleanup_(rtnl_link_putp) struct rtnl_link *link = NULL;
	int r, err;

	r = ifname_check("link", name);
	if (r < 0)
		return r;
	err = rtnl_link_get_kernel(nd->sk, 0, name, &link);
	if (nle_is_nodev(err))
		return -ENODEV;
	if (err < 0)
		return nle_log(LOG_ERR, err, "link '%s': lookup failed", name);
	return rtnl_link_get_ifindex(link);
}

int netdev_link_is_up(struct netdev *nd, int ifindex)
{
	_cleanup_(rtnl_link_putp) struct rtnl_link *link = NULL;
	int err;

	if (ifindex <= 0)
		return -ENODEV;
	err = rtnl_link_get_kernel(nd->sk, ifindex, NULL, &link);
	if (nle_is_nodev(err))
		return -ENODEV;
	if (err < 0)
		return nle_log(LOG_ERR, err, "link %d: lookup failed", ifindex);
	return !!(rtnl_link_get_flags(link) & IFF_UP);
}

/* Hairpin mode of bridge port ifindex. The kernel reports bridge port flags
 * (IFLA_PROTINFO) only in an AF_BRIDGE dump, and libnl only parses them into
 * a link whose family is AF_BRIDGE, so a plain get cannot tell. */
static int port_hairpin(struct netdev *nd, int ifindex, bool *ret)
{
	_cleanup_(nl_cache_freep) struct nl_cache *cache = NULL;
	struct nl_object *obj;
	int err, flags;

	err = rtnl_link_alloc_cache(nd->sk, AF_BRIDGE, &cache);
	if (err < 0)
		return nle_log(LOG_ERR, err, "link %d: bridge port dump failed", ifindex);
	for (obj = nl_cache_get_first(cache); obj; obj = nl_cache_get_next(obj)) {
		struct rtnl_link *port = (struct rtnl_link *)obj; /* borrowed */

		if (rtnl_link_get_ifindex(port) != ifindex || !rtnl_link_is_bridge(port))
			continue;
		flags = rtnl_link_bridge_get_flags(port);
		*ret = flags >= 0 && (flags & RTNL_BRIDGE_HAIRPIN_MODE);
		return 0;
	}
	*ret = false;
	return 0;
}

/* Everything but hairpin (which needs a bridge port dump) from one link. */
static void link_info_fill(struct rtnl_link *link, struct netdev_link_info *info)
{
	struct nl_addr *mac = rtnl_link_get_addr(link);
	const char *s;

	info->ifindex = rtnl_link_get_ifindex(link);
	info->master = rtnl_link_get_master(link);
	info->mtu = rtnl_link_get_mtu(link);
	info->up = rtnl_link_get_flags(link) & IFF_UP;
	s = rtnl_link_get_name(link);
	snprintf(info->name, sizeof(info->name), "%s", s ? s : "");
	s = rtnl_link_get_type(link);
	snprintf(info->kind, sizeof(info->kind), "%s", s ? s : "");
	if (mac && nl_addr_get_len(mac) == 6) {
		const unsigned char *m = nl_addr_get_binary_addr(mac);

		snprintf(info->mac, sizeof(info->mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1],
			 m[2], m[3], m[4], m[5]);
	}
	if (rtnl_link_get_link_netnsid(link, &info->link_netnsid) < 0)
		info->link_netnsid = -1;
	s = rtnl_link_get_ifalias(link);
	snprintf(info->alias, sizeof(info->alias), "%s", s ? s : "");
}

/* One RTM_GETLINK, by index or else by name; the hairpin flag costs a bridge
 * port dump (every port of the node), so only when asked. */
static int link_get(struct netdev *nd, int ifindex, const char *name, bool hairpin,
		    struct netdev_link_info *ret)
{
	_cleanup_(rtnl_link_putp) struct rtnl_link *link = NULL;
	struct netdev_link_info info = {0};
	int r, err;

	if (ifindex <= 0 && (!name || ifname_check("link", name) < 0))
		return -ENODEV;
	err = rtnl_link_get_kernel(nd->sk, ifindex > 0 ? ifindex : 0, ifindex > 0 ? NULL : name,
				   &link);
	if (nle_is_nodev(err))
		return -ENODEV;
	if (err < 0)
		return ifindex > 0 ? nle_log(LOG_ERR, err, "link %d: lookup failed", ifindex)
				   : nle_log(LOG_ERR, err, "link '%s': lookup failed", name);

	link_info_fill(link, &info);
	if (hairpin && info.master > 0) {
		r = port_hairpin(nd, info.ifindex, &info.hairpin);
		if (r < 0)
			return r;
	}
	*ret = info;
	return 0;
}

int netdev_link_get(struct netdev *nd, int ifindex, struct netdev_link_info *ret)
{
	return link_get(nd, ifindex, NULL, true, ret);
}

int netdev_link_lookup(struct netdev *nd, int ifindex, const char *name,
		       struct netdev_link_info *ret)
{
	return link_get(nd, ifindex, name, false, ret);
}

/* Routes of family in the main table installed by protocol proto. */
static int route_count(struct netdev *nd, int family, unsigned char proto)
{
	_cleanup_(nl_cache_freep) struct nl_cache *cache = NULL;
	struct nl_object *obj;
	int n = 0, err;

	err = rtnl_route_alloc_cache(nd->sk, family, 0, &cache);
	if (err < 0)
		return nle_log(LOG_ERR, err, "routes: %s dump failed",
			       family == AF_INET6 ? "IPv6" : "IPv4");
	for (obj = nl_cache_get_first(cache); obj; obj = nl_cache_get_next(obj)) {
		struct rtnl_route *route = (struct rtnl_route *)obj; /* borrowed */

		if (rtnl_route_get_family(route) == family &&
		    rtnl_route_get_table(route) == RT_TABLE_MAIN &&
		    rtnl_route_get_protocol(route) == proto)
			n++;
	}
	return n;
}

int netdev_route_count_proto(struct netdev *nd, unsigned char proto)
{
	return route_count(nd, AF_INET, proto);
}

int netdev_ipv4_forwarding_enable(void)
{
	static const char path[] = "/proc/sys/net/ipv4/ip_forward";
	ssize_t n;
	int fd, e;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return log_errno(LOG_ERR, errno, "sysctl '%s': open failed", path);
	n = write(fd, "1\n", 2);
	e = errno;
	(void)close(fd);
	if (n < 0)
		return log_errno(LOG_ERR, e, "sysctl '%s': writing 1 failed", path);
	if (n != 2)
		return log_errno(LOG_ERR, EIO, "sysctl '%s': short write", path);
	return 0;
}

int netdev_veth_create(struct netdev *nd, const char *host_name, const char *peer_name,
		       int peer_netns_fd, unsigned mtu, const char *alias,
		       struct netdev_link_info *ret_host)
{
	_cleanup_(rtnl_link_putp) struct rtnl_link *veth = NULL;
	_cleanup_(rtnl_link_putp) struct rtnl_link *peer = NULL;
	_cleanup_(rtnl_link_putp) struct rtnl_link *host = NULL;
	int r, err;

	r = ifname_check("veth", host_name);
	if (r < 0)
		return r;
	r = ifname_check("veth peer", peer_name);
	if (r < 0)
		return r;

	veth = rtnl_link_veth_alloc();
	if (!veth)
		return log_errno(LOG_ERR, ENOMEM, "veth '%s': allocation failed", host_name);
	peer = rtnl_link_veth_get_peer(veth); /* a new reference */
	rtnl_link_set_name(veth, host_name);
	rtnl_link_set_name(peer, peer_name);
	if (mtu) {
		rtnl_link_set_mtu(veth, mtu);
		rtnl_link_set_mtu(peer, mtu);
	}
	/* IFLA_NET_NS_FD inside VETH_INFO_PEER: the kernel creates the peer
	 * in that namespace, so it never appears in ours. */
	if (peer_netns_fd >= 0)
		rtnl_link_set_ns_fd(peer, peer_netns_fd);

	err = rtnl_link_add(nd->sk, veth, NLM_F_CREATE | NLM_F_EXCL);
	if (err < 0)
		return nle_log(LOG_ERR, err, "veth '%s': create with peer '%s' failed", host_name,
			       peer_name);

	if (!ret_host && !(alias && alias[0]))
		return 0;
	err = rtnl_link_get_kernel(nd->sk, 0, host_name, &host);
	if (err < 0) {
		r = nle_log(LOG_ERR, err, "veth '%s': lookup after create failed", host_name);
		(void)netdev_link_delete(nd, host_name);
		return r;
	}
	/* The kernel ignores IFLA_IFALIAS in RTM_NEWLINK: a change right
	 * after. Until it lands, the name alone says the link is roost's. */
	if (alias && alias[0]) {
		_cleanup_(rtnl_link_putp) struct rtnl_link *change = rtnl_link_alloc();

		err = -NLE_NOMEM;
		if (change) {
			rtnl_link_set_ifalias(change, alias);
			err = link_change(nd, rtnl_link_get_ifindex(host), AF_UNSPEC, change);
		}
		if (err < 0) {
			r = nle_log(LOG_ERR, err, "veth '%s': setting its alias failed", host_name);
			(void)netdev_link_delete(nd, host_name);
			return r;
		}
	}
	if (ret_host) {
		struct netdev_link_info info = {0};

		link_info_fill(host, &info);
		snprintf(info.alias, sizeof(info.alias), "%s", alias ? alias : "");
		*ret_host = info;
	}
	return 0;
}

int netdev_link_delete(struct netdev *nd, const char *name)
{
	_cleanup_(rtnl_link_putp) struct rtnl_link *link = NULL;
	int r, err;

	r = ifname_check("link", name);
	if (r < 0)
		return r;
	link = rtnl_link_alloc();
	if (!link)
		return log_errno(LOG_ERR, ENOMEM, "link '%s': allocation failed", name);
	rtnl_link_set_name(link, name);
	err = rtnl_link_delete(nd->sk, link);
	if (nle_is_nodev(err))
		return 0;
	if (err < 0)
		return nle_log(LOG_ERR, err, "link '%s': delete failed", name);
	return 0;
}

int netdev_link_delete_index(struct netdev *nd, int ifindex)
{
	_cleanup_(rtnl_link_putp) struct rtnl_link *link = NULL;
	int err;

	if (ifindex <= 0) {
		log_error("link %d: delete: invalid ifindex", ifindex);
		return -EINVAL;
	}
	link = rtnl_link_alloc();
	if (!link)
		return log_errno(LOG_ERR, ENOMEM, "link %d: allocation failed", ifindex);
	rtnl_link_set_ifindex(link, ifindex);
	err = rtnl_link_delete(nd->sk, link);
	if (nle_is_nodev(err))
		return 0;
	if (err < 0)
		return nle_log(LOG_ERR, err, "link %d: delete failed", ifindex);
	return 0;
}

/* Sends the change to link ifindex; family AF_BRIDGE addresses its bridge
 * port. */
static int link_change(struct netdev *nd, int ifindex, int family, struct rtnl_link *change)
{
	_cleanup_(rtnl_link_putp) struct rtnl_link *orig = rtnl_link_alloc();

	if (!orig)
		return -NLE_NOMEM;
	rtnl_link_set_ifindex(orig, ifindex);
	if (family != AF_UNSPEC)
		rtnl_link_set_family(orig, family);
	return rtnl_link_change(nd->sk, orig, change, 0);
}

int netdev_link_set_master_up(struct netdev *nd, int ifindex, int master_ifindex, bool hairpin,
			      const char *alias)
{
	_cleanup_(rtnl_link_putp) struct rtnl_link *enslave = NULL;
	_cleanup_(rtnl_link_putp) struct rtnl_link *port = NULL;
	int err;

	if (ifindex <= 0 || master_ifindex <= 0) {
		log_error("link %d: enslaving to bridge %d: invalid ifindex", ifindex,
			  master_ifindex);
		return -EINVAL;
	}
	enslave = rtnl_link_alloc();
	port = rtnl_link_alloc();
	if (!enslave || !port)
		return log_errno(LOG_ERR, ENOMEM, "link %d: allocation failed", ifindex);

	/* Enslaved and up in one request; the pod's end has no traffic yet
	 * (its ADD has not returned), so hairpin may follow. */
	rtnl_link_set_master(enslave, master_ifindex);
	rtnl_link_set_flags(enslave, IFF_UP);
	if (alias && alias[0])
		rtnl_link_set_ifalias(enslave, alias);
	err = link_change(nd, ifindex, AF_UNSPEC, enslave);
	if (err < 0)
		return nle_log(LOG_ERR, err, "link %d: enslaving to bridge %d failed", ifindex,
			       master_ifindex);

	/* Bridge port flags go out as IFLA_PROTINFO in an AF_BRIDGE
	 * RTM_SETLINK; libnl picks RTM_SETLINK itself once the change has
	 * AF_BRIDGE family and bridge flags set. */
	rtnl_link_set_family(port, AF_BRIDGE);
	if (hairpin)
		err = rtnl_link_bridge_set_flags(port, RTNL_BRIDGE_HAIRPIN_MODE);
	else
		err = rtnl_link_bridge_unset_flags(port, RTNL_BRIDGE_HAIRPIN_MODE);
	if (err >= 0)
		err = link_change(nd, ifindex, AF_BRIDGE, port);
	if (err < 0)
		return nle_log(LOG_ERR, err, "link %d: setting hairpin %s failed", ifindex,
			       hairpin ? "on" : "off");
	return 0;
}

int netdev_route_add(struct netdev *nd, struct in_addr dst, unsigned plen, struct in_addr gw,
		     int oif, unsigned char proto)
{
	_cleanup_(rtnl_route_putp) struct rtnl_route *route = NULL;
	_cleanup_(rtnl_route_nh_freep) struct rtnl_nexthop *nh = NULL;
	_cleanup_(nl_addr_putp) struct nl_addr *dst_addr = NULL;
	_cleanup_(nl_addr_putp) struct nl_addr *gw_addr = NULL;
	char dtext[INET_ADDRSTRLEN], gtext[INET_ADDRSTRLEN];
	bool has_gw = gw.s_addr != INADDR_ANY;
	int err;

	inet_ntop(AF_INET, &dst, dtext, sizeof(dtext));
	inet_ntop(AF_INET, &gw, gtext, sizeof(gtext));
	if (plen > 32 || (!has_gw && oif <= 0) ||
	    (plen < 32 && (dst.s_addr & htonl(0xffffffffu >> plen)))) {
		log_error("route %s/%u via %s dev %d: invalid", dtext, plen, gtext, oif);
		return -EINVAL;
	}

	route = rtnl_route_alloc();
	nh = rtnl_route_nh_alloc();
	dst_addr = nl_addr_build(AF_INET, &dst, sizeof(dst));
	gw_addr = has_gw ? nl_addr_build(AF_INET, &gw, sizeof(gw)) : NULL;
	if (!route || !nh || !dst_addr || (has_gw && !gw_addr))
		return log_errno(LOG_ERR, ENOMEM, "route %s/%u: allocation failed", dtext, plen);

	nl_addr_set_prefixlen(dst_addr, (int)plen);
	rtnl_route_set_family(route, AF_INET);
	rtnl_route_set_table(route, RT_TABLE_MAIN);
	rtnl_route_set_type(route, RTN_UNICAST);
	rtnl_route_set_protocol(route, proto ? proto : RTPROT_BOOT);
	rtnl_route_set_scope(route, has_gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
	err = rtnl_route_set_dst(route, dst_addr); /* takes its own reference */
	if (err < 0)
		return nle_log(LOG_ERR, err, "route %s/%u: setting destination failed", dtext,
			       plen);
	if (oif > 0)
		rtnl_route_nh_set_ifindex(nh, oif);
	if (has_gw)
		rtnl_route_nh_set_gateway(nh, gw_addr); /* takes its own reference */
	rtnl_route_add_nexthop(route, TAKE_PTR(nh));	/* the route owns it now */

	err = rtnl_route_add(nd->sk, route, NLM_F_EXCL);
	if (err == -NLE_EXIST)
		/* The caller decides whether that is a problem. */
		return nle_log(LOG_DEBUG, err, "route %s/%u via %s dev %d: add", dtext, plen, gtext,
			       oif);
	if (err < 0)
		return nle_log(LOG_ERR, err, "route %s/%u via %s dev %d: add failed", dtext, plen,
			       gtext, oif);
	return 0;
}

int netdev_open_netns(int netns_fd, struct netdev **ret)
{
	int self, r, err;

	/* setns() moves the calling thread only: come back to this thread's
	 * namespace (/proc/self is the main thread's). */
	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return log_errno(LOG_ERR, errno, "netns: cannot open our own namespace");
	if (setns(netns_fd, CLONE_NEWNET) < 0) {
		r = log_errno(LOG_ERR, errno, "netns: cannot enter the pod's namespace");
		close(self);
		return r;
	}
	/* A netlink socket stays in the namespace it was created in. */
	r = netdev_open(ret);
	if (setns(self, CLONE_NEWNET) < 0) {
		/* Cannot get back: carrying on would act on the wrong
		 * namespace; this process must not continue. */
		err = errno;
		log_errno(LOG_ERR, err, "netns: cannot return to our own namespace; aborting");
		abort();
	}
	close(self);
	return r;
}

int netdev_link_set_down_name(struct netdev *nd, int ifindex, const char *name)
{
	_cleanup_(rtnl_link_putp) struct rtnl_link *down = rtnl_link_alloc();
	_cleanup_(rtnl_link_putp) struct rtnl_link *rename = rtnl_link_alloc();
	int r, err;

	r = ifname_check("link", name);
	if (r < 0)
		return r;
	if (!down || !rename)
		return log_errno(LOG_ERR, ENOMEM, "link %d: allocation failed", ifindex);
	/* Two requests: the kernel renames no link that is up. */
	rtnl_link_unset_flags(down, IFF_UP);
	err = link_change(nd, ifindex, AF_UNSPEC, down);
	if (err >= 0) {
		rtnl_link_set_name(rename, name);
		err = link_change(nd, ifindex, AF_UNSPEC, rename);
	}
	if (err < 0)
		return nle_log(LOG_ERR, err, "link %d: setting down and renaming to '%s' failed",
			       ifindex, name);
	return 0;
}

int netdev_link_set_up(struct netdev *nd, int ifindex)
{
	_cleanup_(rtnl_link_putp) struct rtnl_link *up = rtnl_link_alloc();
	int err;

	if (!up)
		return log_errno(LOG_ERR, ENOMEM, "link %d: allocation failed", ifindex);
	rtnl_link_set_flags(up, IFF_UP);
	err = link_change(nd, ifindex, AF_UNSPEC, up);
	if (err < 0)
		return nle_log(LOG_ERR, err, "link %d: setting up failed", ifindex);
	return 0;
}

int netdev_addr_exists(struct netdev *nd, int ifindex, struct in_addr addr, unsigned plen)
{
	_cleanup_(nl_cache_freep) struct nl_cache *cache = NULL;
	struct nl_object *obj;
	int err;

	err = rtnl_addr_alloc_cache(nd->sk, &cache);
	if (err < 0)
		return nle_log(LOG_ERR, err, "link %d: address dump failed", ifindex);
	for (obj = nl_cache_get_first(cache); obj; obj = nl_cache_get_next(obj))
		if (addr_matches((struct rtnl_addr *)obj, ifindex, addr, plen))
			return 1;
	return 0;
}

int netdev_addr_prefix(struct netdev *nd, struct in_addr addr, struct in_addr *net,
		       unsigned *plen)
{
	_cleanup_(nl_cache_freep) struct nl_cache *cache = NULL;
	struct nl_object *obj;
	int err;

	err = rtnl_addr_alloc_cache(nd->sk, &cache);
	if (err < 0)
		return nle_log(LOG_ERR, err, "addresses: dump failed");
	for (obj = nl_cache_get_first(cache); obj; obj = nl_cache_get_next(obj)) {
		struct rtnl_addr *a = (struct rtnl_addr *)obj; /* borrowed */
		struct nl_addr *l = rtnl_addr_get_local(a);
		unsigned len = (unsigned)rtnl_addr_get_prefixlen(a);

		if (rtnl_addr_get_family(a) == AF_INET && l && nl_addr_get_len(l) == 4 &&
		    memcmp(nl_addr_get_binary_addr(l), &addr, 4) == 0 && len <= 32) {
			*plen = len;
			net->s_addr = len ? htonl(ntohl(addr.s_addr) & (0xffffffffu << (32 - len)))
					  : 0;
			return rtnl_addr_get_ifindex(a);
		}
	}
	return 0;
}

int netdev_addr_link(struct netdev *nd, struct in_addr addr)
{
	_cleanup_(nl_cache_freep) struct nl_cache *cache = NULL;
	struct nl_object *obj;
	int err;

	err = rtnl_addr_alloc_cache(nd->sk, &cache);
	if (err < 0)
		return nle_log(LOG_ERR, err, "addresses: dump failed");
	for (obj = nl_cache_get_first(cache); obj; obj = nl_cache_get_next(obj)) {
		struct rtnl_addr *a = (struct rtnl_addr *)obj; /* borrowed */
		struct nl_addr *l = rtnl_addr_get_local(a);

		if (rtnl_addr_get_family(a) == AF_INET && l && nl_addr_get_len(l) == 4 &&
		    memcmp(nl_addr_get_binary_addr(l), &addr, 4) == 0)
			return rtnl_addr_get_ifindex(a);
	}
	return 0;
}

int netdev_route_exists(struct netdev *nd, struct in_addr dst, unsigned plen, struct in_addr gw)
{
	_cleanup_(nl_cache_freep) struct nl_cache *cache = NULL;
	struct nl_object *obj;
	int err;

	err = rtnl_route_alloc_cache(nd->sk, AF_INET, 0, &cache);
	if (err < 0)
		return nle_log(LOG_ERR, err, "routes: dump failed");
	for (obj = nl_cache_get_first(cache); obj; obj = nl_cache_get_next(obj)) {
		struct rtnl_route *route = (struct rtnl_route *)obj; /* borrowed */
		struct nl_addr *d = rtnl_route_get_dst(route);
		struct rtnl_nexthop *nh;
		struct nl_addr *g;

		if (rtnl_route_get_family(route) != AF_INET ||
		    rtnl_route_get_table(route) != RT_TABLE_MAIN || !d ||
		    nl_addr_get_prefixlen(d) != plen)
			continue;
		if (plen > 0 && (nl_addr_get_len(d) != 4 ||
				 memcmp(nl_addr_get_binary_addr(d), &dst, 4) != 0))
			continue;
		if (gw.s_addr == INADDR_ANY)
			return 1;
		nh = rtnl_route_nexthop_n(route, 0);
		g = nh ? rtnl_route_nh_get_gateway(nh) : NULL;
		if (g && nl_addr_get_len(g) == 4 && memcmp(nl_addr_get_binary_addr(g), &gw, 4) == 0)
			return 1;
	}
	return 0;
}

/* A main-table route as netdev_route and netdev_route6 hold it, its
 * addresses alen (4 or 16) bytes long; 0s when absent or of another length. */
struct route_row {
	unsigned char dst[16], gw[16];
	unsigned plen, metric;
	int oif;
	unsigned char type, proto;
};

/* Copies row x into a list entry of one family. */
typedef void route_put_fn(void *entry, const struct route_row *x);

static void route_addr(const struct nl_addr *a, size_t alen, unsigned char *ret)
{
	if (a && nl_addr_get_len(a) == alen)
		memcpy(ret, nl_addr_get_binary_addr(a), alen);
}

/* Every route of family in the main table whose protocol is proto (0:
 * all), put() into an owned array of size-byte entries. 0 or -errno. */
static int route_list(struct netdev *nd, int family, unsigned char proto, size_t size,
		      route_put_fn *put, void **ret, size_t *ret_n)
{
	_cleanup_(nl_cache_freep) struct nl_cache *cache = NULL;
	size_t alen = family == AF_INET6 ? 16 : 4;
	char *list = NULL, *grown;
	struct nl_object *obj;
	size_t n = 0, cap = 0;
	int err;

	err = rtnl_route_alloc_cache(nd->sk, family, 0, &cache);
	if (err < 0)
		return nle_log(LOG_ERR, err, "routes: %sdump failed",
			       family == AF_INET6 ? "IPv6 " : "");
	for (obj = nl_cache_get_first(cache); obj; obj = nl_cache_get_next(obj)) {
		struct rtnl_route *route = (struct rtnl_route *)obj; /* borrowed */
		struct nl_addr *d = rtnl_route_get_dst(route);
		struct rtnl_nexthop *nh;
		struct route_row x = { 0 };

		if (rtnl_route_get_family(route) != family ||
		    rtnl_route_get_table(route) != RT_TABLE_MAIN ||
		    (proto && rtnl_route_get_protocol(route) != proto))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			grown = realloc(list, cap * size);
			if (!grown) {
				free(list);
				return log_errno(LOG_ERR, ENOMEM, "routes: out of memory");
			}
			list = grown;
		}
		route_addr(d, alen, x.dst);
		x.plen = d ? nl_addr_get_prefixlen(d) : 0;
		x.metric = rtnl_route_get_priority(route);
		x.type = rtnl_route_get_type(route);
		x.proto = rtnl_route_get_protocol(route);
		nh = rtnl_route_nexthop_n(route, 0);
		if (nh) {
			x.oif = rtnl_route_nh_get_ifindex(nh);
			route_addr(rtnl_route_nh_get_gateway(nh), alen, x.gw);
		}
		memset(list + n * size, 0, size);
		put(list + n++ * size, &x);
	}
	*ret = list;
	*ret_n = n;
	return 0;
}

static void route_put(void *entry, const struct route_row *x)
{
	struct netdev_route *r = entry;

	memcpy(&r->dst, x->dst, sizeof(r->dst));
	memcpy(&r->gw, x->gw, sizeof(r->gw));
	r->plen = x->plen;
	r->oif = x->oif;
	r->metric = x->metric;
	r->type = x->type;
	r->proto = x->proto;
}

static void route6_put(void *entry, const struct route_row *x)
{
	struct netdev_route6 *r = entry;

	memcpy(&r->dst, x->dst, sizeof(r->dst));
	memcpy(&r->gw, x->gw, sizeof(r->gw));
	r->plen = x->plen;
	r->oif = x->oif;
	r->metric = x->metric;
	r->type = x->type;
	r->proto = x->proto;
}

int netdev_route_list(struct netdev *nd, unsigned char proto, struct netdev_route **ret,
		      size_t *ret_n)
{
	void *list = NULL;
	int r = route_list(nd, AF_INET, proto, sizeof(**ret), route_put, &list, ret_n);

	if (r >= 0)
		*ret = list;
	return r;
}

/* Dual-stack: the kernel's IPv6 routes, for roostctl audit. */
int netdev_route6_list(struct netdev *nd, unsigned char proto, struct netdev_route6 **ret,
		       size_t *ret_n)
{
	void *list = NULL;
	int r = route_list(nd, AF_INET6, proto, sizeof(**ret), route6_put, &list, ret_n);

	if (r >= 0)
		*ret = list;
	return r;
}

int netdev_link_list(struct netdev *nd, struct netdev_link_info **ret, size_t *ret_n)
{
	_cleanup_(nl_cache_freep) struct nl_cache *cache = NULL;
	struct netdev_link_info *list = NULL;
	struct nl_object *obj;
	size_t n = 0, i = 0;
	int err;

	err = rtnl_link_alloc_cache(nd->sk, AF_UNSPEC, &cache);
	if (err < 0)
		return nle_log(LOG_ERR, err, "links: dump failed");
	n = (size_t)nl_cache_nitems(cache);
	if (n) {
		list = calloc(n, sizeof(*list));
		if (!list)
			return log_errno(LOG_ERR, ENOMEM, "links: out of memory");
	}
	for (obj = nl_cache_get_first(cache); obj && i < n; obj = nl_cache_get_next(obj), i++) {
		struct rtnl_link *link = (struct rtnl_link *)obj; /* borrowed */

		link_info_fill(link, &list[i]);
	}
	*ret = list;
	*ret_n = i;
	return 0;
}

int netdev_link_pin_addr(struct netdev *nd, int ifindex)
{
	_cleanup_(rtnl_link_putp) struct rtnl_link *link = NULL;
	_cleanup_(rtnl_link_putp) struct rtnl_link *change = NULL;
	int err;

	err = rtnl_link_get_kernel(nd->sk, ifindex, NULL, &link);
	if (err < 0)
		return nle_log(LOG_ERR, err, "link %d: lookup failed", ifindex);
	if (!rtnl_link_get_addr(link))
		return 0;
	change = rtnl_link_alloc();
	if (!change)
		return log_errno(LOG_ERR, ENOMEM, "link %d: allocation failed", ifindex);
	rtnl_link_set_addr(change, rtnl_link_get_addr(link));
	err = rtnl_link_change(nd->sk, link, change, 0);
	if (err < 0)
		return nle_log(LOG_ERR, err, "link %d: pinning its MAC address failed", ifindex);
	return 0;
}

/* ---- Dual-stack: the bridge's IPv6 gateway and IPv6 forwarding ---- */

static bool addr6_matches(struct rtnl_addr *a, int ifindex, const struct in6_addr *addr,
			  unsigned plen)
{
	struct nl_addr *local;

	if (rtnl_addr_get_family(a) != AF_INET6 || rtnl_addr_get_ifindex(a) != ifindex ||
	    rtnl_addr_get_prefixlen(a) != (int)plen)
		return false;
	local = rtnl_addr_get_local(a); /* borrowed */
	return local && nl_addr_get_len(local) == sizeof(*addr) &&
	       memcmp(nl_addr_get_binary_addr(local), addr, sizeof(*addr)) == 0;
}

int netdev_addr6_ensure(struct netdev *nd, int ifindex, const struct in6_addr *addr, unsigned plen)
{
	_cleanup_(nl_cache_freep) struct nl_cache *cache = NULL;
	_cleanup_(rtnl_addr_putp) struct rtnl_addr *ra = NULL;
	_cleanup_(nl_addr_putp) struct nl_addr *local = NULL;
	char text[INET6_ADDRSTRLEN];
	struct nl_object *obj;
	int err;

	inet_ntop(AF_INET6, addr, text, sizeof(text));
	if (ifindex <= 0 || plen > 128) {
		log_error("link %d: address %s/%u: invalid", ifindex, text, plen);
		return -EINVAL;
	}
	err = rtnl_addr_alloc_cache(nd->sk, &cache);
	if (err < 0)
		return nle_log(LOG_ERR, err, "link %d: address %s/%u: address dump failed", ifindex,
			       text, plen);
	for (obj = nl_cache_get_first(cache); obj; obj = nl_cache_get_next(obj))
		if (addr6_matches((struct rtnl_addr *)obj, ifindex, addr, plen))
			return 0;
	ra = rtnl_addr_alloc();
	local = nl_addr_build(AF_INET6, addr, sizeof(*addr));
	if (!ra || !local)
		return log_errno(LOG_ERR, ENOMEM, "link %d: address %s/%u: allocation failed",
				 ifindex, text, plen);
	nl_addr_set_prefixlen(local, (int)plen);
	rtnl_addr_set_family(ra, AF_INET6);
	rtnl_addr_set_ifindex(ra, ifindex);
	err = rtnl_addr_set_local(ra, local); /* takes its own reference */
	if (err < 0)
		return nle_log(LOG_ERR, err, "link %d: address %s/%u: setting local failed",
			       ifindex, text, plen);
	rtnl_addr_set_prefixlen(ra, (int)plen);
	/* No duplicate address detection: the gateway is ours by
	 * construction, and a tentative address answers nothing for a
	 * second or more (pods would start without their gateway). */
	rtnl_addr_set_flags(ra, IFA_F_NODAD);
	err = rtnl_addr_add(nd->sk, ra, NLM_F_EXCL);
	if (err == -NLE_EXIST)
		return 0;
	if (err < 0)
		return nle_log(LOG_ERR, err, "link %d: address %s/%u: add failed", ifindex, text,
			       plen);
	return 1;
}

static int sysctl_write_1(const char *path)
{
	ssize_t n;
	int fd, e;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return log_errno(LOG_ERR, errno, "sysctl '%s': open failed", path);
	n = write(fd, "1\n", 2);
	e = errno;
	(void)close(fd);
	if (n < 0)
		return log_errno(LOG_ERR, e, "sysctl '%s': writing 1 failed", path);
	if (n != 2)
		return log_errno(LOG_ERR, EIO, "sysctl '%s': short write", path);
	return 0;
}

int netdev_ipv6_forwarding_enable(void)
{
	/* conf/all/forwarding sets every interface's, and new ones follow
	 * conf/default (the kernel copies all to default on a write). */
	return sysctl_write_1("/proc/sys/net/ipv6/conf/all/forwarding");
}

int netdev_route6_count_proto(struct netdev *nd, unsigned char proto)
{
	return route_count(nd, AF_INET6, proto);
}

int netdev_addr6_link(struct netdev *nd, const struct in6_addr *addr)
{
	_cleanup_(nl_cache_freep) struct nl_cache *cache = NULL;
	struct nl_object *obj;
	int err;

	err = rtnl_addr_alloc_cache(nd->sk, &cache);
	if (err < 0)
		return nle_log(LOG_ERR, err, "addresses: dump failed");
	for (obj = nl_cache_get_first(cache); obj; obj = nl_cache_get_next(obj)) {
		struct rtnl_addr *a = (struct rtnl_addr *)obj; /* borrowed */
		struct nl_addr *l = rtnl_addr_get_local(a);

		if (rtnl_addr_get_family(a) == AF_INET6 && l && nl_addr_get_len(l) == 16 &&
		    memcmp(nl_addr_get_binary_addr(l), addr, 16) == 0)
			return rtnl_addr_get_ifindex(a);
	}
	return 0;
}

/* ---- Dual-stack: a pod's IPv6 routes, and CHECK's look at them ---- */

int netdev_route6_add(struct netdev *nd, const struct in6_addr *dst, unsigned plen,
		      const struct in6_addr *gw, int oif)
{
	_cleanup_(rtnl_route_putp) struct rtnl_route *route = NULL;
	_cleanup_(rtnl_route_nh_freep) struct rtnl_nexthop *nh = NULL;
	_cleanup_(nl_addr_putp) struct nl_addr *dst_addr = NULL;
	_cleanup_(nl_addr_putp) struct nl_addr *gw_addr = NULL;
	char dtext[INET6_ADDRSTRLEN], gtext[INET6_ADDRSTRLEN];
	bool has_gw = !IN6_IS_ADDR_UNSPECIFIED(gw);
	int err;

	inet_ntop(AF_INET6, dst, dtext, sizeof(dtext));
	inet_ntop(AF_INET6, gw, gtext, sizeof(gtext));
	if (plen > 128 || (!has_gw && oif <= 0)) {
		log_error("route %s/%u via %s dev %d: invalid", dtext, plen, gtext, oif);
		return -EINVAL;
	}
	route = rtnl_route_alloc();
	nh = rtnl_route_nh_alloc();
	dst_addr = nl_addr_build(AF_INET6, dst, sizeof(*dst));
	gw_addr = has_gw ? nl_addr_build(AF_INET6, gw, sizeof(*gw)) : NULL;
	if (!route || !nh || !dst_addr || (has_gw && !gw_addr))
		return log_errno(LOG_ERR, ENOMEM, "route %s/%u: allocation failed", dtext, plen);
	nl_addr_set_prefixlen(dst_addr, (int)plen);
	rtnl_route_set_family(route, AF_INET6);
	rtnl_route_set_table(route, RT_TABLE_MAIN);
	rtnl_route_set_type(route, RTN_UNICAST);
	rtnl_route_set_protocol(route, RTPROT_BOOT);
	rtnl_route_set_scope(route, RT_SCOPE_UNIVERSE);
	err = rtnl_route_set_dst(route, dst_addr);
	if (err < 0)
		return nle_log(LOG_ERR, err, "route %s/%u: setting destination failed", dtext,
			       plen);
	if (oif > 0)
		rtnl_route_nh_set_ifindex(nh, oif);
	if (has_gw)
		rtnl_route_nh_set_gateway(nh, gw_addr);
	rtnl_route_add_nexthop(route, TAKE_PTR(nh));
	err = rtnl_route_add(nd->sk, route, NLM_F_EXCL);
	if (err == -NLE_EXIST)
		return nle_log(LOG_DEBUG, err, "route %s/%u via %s dev %d: add", dtext, plen, gtext,
			       oif);
	if (err < 0)
		return nle_log(LOG_ERR, err, "route %s/%u via %s dev %d: add failed", dtext, plen,
			       gtext, oif);
	return 0;
}

int netdev_addr6_exists(struct netdev *nd, int ifindex, const struct in6_addr *addr,
			unsigned plen)
{
	_cleanup_(nl_cache_freep) struct nl_cache *cache = NULL;
	struct nl_object *obj;
	int err;

	err = rtnl_addr_alloc_cache(nd->sk, &cache);
	if (err < 0)
		return nle_log(LOG_ERR, err, "link %d: address dump failed", ifindex);
	for (obj = nl_cache_get_first(cache); obj; obj = nl_cache_get_next(obj))
		if (addr6_matches((struct rtnl_addr *)obj, ifindex, addr, plen))
			return 1;
	return 0;
}

int netdev_route6_exists(struct netdev *nd, const struct in6_addr *dst, unsigned plen,
			 const struct in6_addr *gw)
{
	_cleanup_(nl_cache_freep) struct nl_cache *cache = NULL;
	struct nl_object *obj;
	int err;

	err = rtnl_route_alloc_cache(nd->sk, AF_INET6, 0, &cache);
	if (err < 0)
		return nle_log(LOG_ERR, err, "routes: dump failed");
	for (obj = nl_cache_get_first(cache); obj; obj = nl_cache_get_next(obj)) {
		struct rtnl_route *route = (struct rtnl_route *)obj; /* borrowed */
		struct nl_addr *d = rtnl_route_get_dst(route);
		struct rtnl_nexthop *nh;
		struct nl_addr *g;

		if (rtnl_route_get_family(route) != AF_INET6 ||
		    rtnl_route_get_table(route) != RT_TABLE_MAIN || !d ||
		    nl_addr_get_prefixlen(d) != plen)
			continue;
		if (plen > 0 && (nl_addr_get_len(d) != 16 ||
				 memcmp(nl_addr_get_binary_addr(d), dst, 16) != 0))
			continue;
		if (IN6_IS_ADDR_UNSPECIFIED(gw))
			return 1;
		nh = rtnl_route_nexthop_n(route, 0);
		g = nh ? rtnl_route_nh_get_gateway(nh) : NULL;
		if (g && nl_addr_get_len(g) == 16 && memcmp(nl_addr_get_binary_addr(g), gw, 16) == 0)
			return 1;
	}
	return 0;
}
