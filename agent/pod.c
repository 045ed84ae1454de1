/* SPDX-License-Identifier: MIT */
/*
 * pod.c - set up, check and tear down a pod's attachment (see pod.h).
 *
 * Everything goes through netdev.c (libnl). The pod's side is reached with a
 * netdev whose socket was opened inside the pod's namespace, so roostd never
 * runs in a foreign namespace longer than it takes to open that socket.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "api-proto.h"
#include "birdconf.h"
#include "log.h"
#include "netdev.h"
#include "pod.h"

static __attribute__((format(printf, 4, 5))) int cni_fail(struct rst_err *e, int code, int err,
							  const char *fmt, ...)
{
	va_list ap;

	rst_err_set(e, err, NULL, 0, "%s", "");
	e->cni_code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return err > 0 ? -err : err;
}

void pod_host_veth_name(const char *container_id, const char *ifname, char out[16])
{
	char key[IPAM_ID_MAX + IPAM_IFNAME_MAX + 2], hex[65];
	int n = snprintf(key, sizeof(key), "%s/%s", container_id, ifname);

	bc_sha256_hex(key, n > 0 ? (size_t)n : 0, hex);
	snprintf(out, 16, "veth%.8s", hex);
}

/* Opens path and makes sure it is a network namespace other than ours.
 * Returns the fd, or a negative errno with a CNI code 4 error. */
static int netns_open(const char *path, struct rst_err *e)
{
	struct stat self, st;
	struct statfs fs;
	int fd, r;

	if (!path || path[0] != '/')
		return cni_fail(e, 4, EINVAL, "CNI_NETNS '%s' is not an absolute path",
				path ? path : "");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cni_fail(e, 4, errno, "CNI_NETNS '%s': %s", path, strerror(errno));
	if (fstatfs(fd, &fs) < 0 || fs.f_type != NSFS_MAGIC ||
	    ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET) {
		close(fd);
		return cni_fail(e, 4, EINVAL, "CNI_NETNS '%s' is not a network namespace", path);
	}
	if (fstat(fd, &st) == 0 && stat("/proc/self/ns/net", &self) == 0 &&
	    st.st_dev == self.st_dev && st.st_ino == self.st_ino) {
		close(fd);
		return cni_fail(e, 4, EINVAL,
				"CNI_NETNS '%s' is the node's own network namespace, not a pod's",
				path);
	}
	r = fd;
	return r;
}

static void ntoa(struct in_addr a, char *buf)
{
	inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static int reserve(const struct roostd_conf *c, struct ipam *ipam, const char *cid,
		   const char *ifname, struct in_addr *addr, struct rst_err *e)
{
	char a[INET_ADDRSTRLEN], net[INET_ADDRSTRLEN];
	int r = ipam_allocate_deferred(ipam, cid, ifname, addr);

	if (r == 0)
		return 0;
	ntoa(*addr, a); /* set for -EEXIST only */
	ntoa(c->pod_net, net);
	switch (r) {
	case -EEXIST:
		return cni_fail(e, ROOST_CNI_ERR_DUPLICATE, EEXIST,
				"container '%s' ifname '%s' already has %s: ADD again without DEL",
				cid, ifname, a);
	case -ENOSPC:
		if (ipam_used(ipam) < ipam_size(ipam))
			/* Not the pool: the disk under state_dir is full. */
			return cni_fail(e, ROOST_CNI_ERR_INTERNAL, ENOSPC,
					"cannot record the address reservation in '%s': %s",
					c->state_dir, strerror(ENOSPC));
		return cni_fail(e, ROOST_CNI_ERR_POOL_EXHAUSTED, ENOSPC,
				"no free address in %s/%u: all %zu in use", net, c->pod_len,
				ipam_size(ipam));
	case -EINVAL:
		return cni_fail(e, 4, EINVAL,
				"container id '%s' or ifname '%s' is not valid for CNI", cid,
				ifname);
	default:
		return cni_fail(e, ROOST_CNI_ERR_INTERNAL, r,
				"cannot record the address reservation in '%s': %s", c->state_dir,
				strerror(-r));
	}
}

/* Makes sure the bridge is there with its gateway (self-healing if someone
 * deleted it) and returns its ifindex; *ret gets its name and MAC. */
static int bridge_index(const struct roostd_conf *c, struct netdev *nd,
			struct netdev_link_info *ret, struct rst_err *e)
{
	int idx = netdev_bridge_ensure(nd, c->bridge_name, c->bridge_mtu, NULL, ret);

	if (idx < 0 || netdev_addr_ensure(nd, idx, c->gateway, c->pod_len) < 0)
		return cni_fail(e, ROOST_CNI_ERR_INTERNAL, idx < 0 ? idx : EIO,
				"bridge '%s' cannot be set up on the node", c->bridge_name);
	return idx;
}

/* The result: the three links (looked up as they were made) and the IP. */
static void fill_result(const struct roostd_conf *c, const struct netdev_link_info *bridge,
			const struct netdev_link_info *host, const struct netdev_link_info *pod,
			struct in_addr addr, struct pod_result *ret)
{
	memset(ret, 0, sizeof(*ret));
	strcpy(ret->bridge, bridge->name);
	strcpy(ret->bridge_mac, bridge->mac);
	strcpy(ret->host, host->name);
	strcpy(ret->host_mac, host->mac);
	strcpy(ret->ifname, pod->name);
	strcpy(ret->mac, pod->mac);
	ret->address = addr;
	ret->plen = c->pod_len;
	ret->gateway = c->gateway;
	ret->mtu = c->bridge_mtu;
}

int pod_add(const struct roostd_conf *c, struct ipam *ipam, const char *cid, const char *ifname,
	    const char *netns, struct pod_result *ret, struct rst_err *e)
{
	struct netdev *hnd = NULL, *pnd = NULL;
	struct in_addr addr = {0}, any = {0};
	struct ipam_record rec;
	struct netdev_link_info bridge, hostl, pod;
	char host[16], a[INET_ADDRSTRLEN];
	int nsfd, bridge_idx, pod_idx, r;
	bool reserved = false, veth = false;

	pod_host_veth_name(cid, ifname, host);
	/* A second ADD of one attachment is the runtime's error: say so before
	 * anything else (its interface does exist in the netns, of course). */
	if (ipam_find(ipam, cid, ifname, &rec) == 0) {
		ntoa(rec.address, a);
		return cni_fail(e, ROOST_CNI_ERR_DUPLICATE, EEXIST,
				"container '%s' ifname '%s' already has %s: ADD again without DEL",
				cid, ifname, a);
	}
	nsfd = netns_open(netns, e);
	if (nsfd < 0)
		return nsfd;
	r = netdev_open(&hnd);
	if (r >= 0)
		r = netdev_open_netns(nsfd, &pnd);
	if (r < 0) {
		r = cni_fail(e, ROOST_CNI_ERR_INTERNAL, r, "netlink: cannot open a route socket");
		goto out;
	}
	if (netdev_link_index(pnd, ifname) >= 0) {
		r = cni_fail(e, 4, EEXIST, "CNI_IFNAME '%s' already exists in CNI_NETNS '%s'",
			     ifname, netns);
		goto out;
	}
	bridge_idx = bridge_index(c, hnd, &bridge, e);
	if (bridge_idx < 0) {
		r = bridge_idx;
		goto out;
	}
	r = reserve(c, ipam, cid, ifname, &addr, e);
	if (r < 0)
		goto out;
	reserved = true;
	ntoa(addr, a);

	if (netdev_link_index(hnd, host) >= 0) {
		/* Debris of an ADD that died half-way: this attachment had no
		 * reservation a moment ago, so the link serves nobody. */
		log_warn("pod %s/%s: stale host veth '%s' found, deleting it", cid, ifname, host);
		(void)netdev_link_delete(hnd, host);
	}
	r = netdev_veth_create(hnd, host, ifname, nsfd, c->bridge_mtu, &hostl);
	if (r < 0) {
		r = cni_fail(e, ROOST_CNI_ERR_INTERNAL, r, "creating veth '%s' <-> '%s': %s", host,
			     ifname, strerror(-r));
		goto undo;
	}
	veth = true;
	pod_idx = netdev_link_lookup(pnd, 0, ifname, &pod);
	if (pod_idx == 0)
		pod_idx = pod.ifindex;
	if (pod_idx < 0 || (r = netdev_addr_add(pnd, pod_idx, addr, c->pod_len)) < 0 ||
	    (r = netdev_link_set_up(pnd, pod_idx)) < 0 ||
	    (r = netdev_route_add(pnd, any, 0, c->gateway, pod_idx, 0)) < 0 ||
	    (r = netdev_route_add(pnd, c->cluster_net, c->cluster_len, c->gateway, pod_idx, 0)) <
		    0) {
		r = cni_fail(e, ROOST_CNI_ERR_INTERNAL, pod_idx < 0 ? pod_idx : r,
			     "setting up '%s' (%s/%u) in CNI_NETNS '%s' failed", ifname, a,
			     c->pod_len, netns);
		goto undo;
	}
	r = netdev_link_set_master_up(hnd, hostl.ifindex, bridge_idx, true);
	if (r < 0) {
		r = cni_fail(e, ROOST_CNI_ERR_INTERNAL, r, "attaching '%s' to bridge '%s' failed",
			     host, c->bridge_name);
		goto undo;
	}
	/* The reservation's fsyncs ran meanwhile; the address is the pod's
	 * only once they are done. */
	r = ipam_commit(ipam);
	if (r < 0) {
		r = cni_fail(e, ROOST_CNI_ERR_INTERNAL, r,
			     "cannot record the address reservation in '%s': %s", c->state_dir,
			     strerror(-r));
		goto undo;
	}
	fill_result(c, &bridge, &hostl, &pod, addr, ret);
	log_info("pod: added container=%s ifname=%s address=%s/%u host_veth=%s netns='%s'", cid,
		 ifname, a, c->pod_len, host, netns);
	r = 0;
	goto out;

undo:
	/* Reverse order: the veth (its peer goes with it), then the address. */
	if (veth)
		(void)netdev_link_delete(hnd, host);
	if (reserved)
		(void)ipam_release(ipam, cid, ifname, NULL);
	log_warn("pod: add failed and undone container=%s ifname=%s: %s", cid, ifname, e->msg);
out:
	netdev_free(pnd);
	netdev_free(hnd);
	close(nsfd);
	return r;
}

int pod_del(const struct roostd_conf *c, struct ipam *ipam, const char *cid, const char *ifname,
	    const char *netns, struct rst_err *e)
{
	struct netdev *hnd = NULL, *pnd = NULL;
	struct in_addr addr = {0};
	char host[16], a[INET_ADDRSTRLEN] = "none";
	int nsfd = -1, released, r;

	pod_host_veth_name(cid, ifname, host);
	r = netdev_open(&hnd);
	if (r < 0)
		return cni_fail(e, 11, r, "netlink: cannot open a route socket");
	/* The record goes in the background while the kernel deletes the veth
	 * (which waits for an RCU grace period); committed once it is gone. */
	released = ipam_release_deferred(ipam, cid, ifname, &addr);

	/* The pod side first when its namespace still exists: a pod attached
	 * by another plugin (migration) has a host veth of another name. */
	if (netns && netns[0]) {
		struct rst_err ignore;

		nsfd = netns_open(netns, &ignore);
		if (nsfd >= 0 && netdev_open_netns(nsfd, &pnd) == 0) {
			struct netdev_link_info li;

			if (netdev_link_lookup(pnd, 0, ifname, &li) == 0 &&
			    strcmp(li.kind, "veth") == 0)
				(void)netdev_link_delete(pnd, ifname);
		}
	}
	r = netdev_link_delete(hnd, host);
	if (r < 0) {
		ipam_abort_release(ipam); /* the address stays with the veth */
		r = cni_fail(e, 11, r, "deleting host veth '%s' failed: %s", host, strerror(-r));
		goto out;
	}
	r = released < 0 ? released : ipam_commit(ipam);
	if (r < 0 && r != -ENOENT) {
		r = cni_fail(e, 11, r, "releasing the address of container '%s' ifname '%s': %s",
			     cid, ifname, strerror(-r));
		goto out;
	}
	if (r == 0)
		ntoa(addr, a);
	log_info("pod: deleted container=%s ifname=%s address=%s host_veth=%s", cid, ifname, a,
		 host);
	r = 0;
out:
	netdev_free(pnd);
	netdev_free(hnd);
	if (nsfd >= 0)
		close(nsfd);
	return r;
}

#define CHECK_FAIL(...) cni_fail(e, ROOST_CNI_ERR_CHECK, EINVAL, __VA_ARGS__)

int pod_check(const struct roostd_conf *c, struct ipam *ipam, const char *cid, const char *ifname,
	      const char *netns, const struct pod_prev *prev, struct rst_err *e)
{
	struct netdev *hnd = NULL, *pnd = NULL;
	struct netdev_link_info li, hl;
	struct ipam_record rec;
	char host[16], a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	int nsfd, idx, bridge_idx, r;
	unsigned i;

	pod_host_veth_name(cid, ifname, host);
	if (ipam_find(ipam, cid, ifname, &rec) < 0)
		return CHECK_FAIL("container '%s' ifname '%s' has no address reserved", cid,
				  ifname);
	ntoa(rec.address, a);
	if (prev->has_address &&
	    (prev->address.s_addr != rec.address.s_addr || prev->plen != c->pod_len)) {
		ntoa(prev->address, b);
		return CHECK_FAIL("prevResult says %s/%u, but the reservation is %s/%u", b,
				  prev->plen, a, c->pod_len);
	}
	nsfd = netns_open(netns, e);
	if (nsfd < 0)
		return nsfd;
	r = netdev_open(&hnd);
	if (r >= 0)
		r = netdev_open_netns(nsfd, &pnd);
	if (r < 0) {
		r = cni_fail(e, 11, r, "netlink: cannot open a route socket");
		goto out;
	}
	idx = netdev_link_index(pnd, ifname);
	if (idx < 0 || netdev_link_get(pnd, idx, &li) < 0) {
		r = CHECK_FAIL("'%s' does not exist in CNI_NETNS '%s'", ifname, netns);
		goto out;
	}
	if (strcmp(li.kind, "veth") != 0) {
		r = CHECK_FAIL("'%s' in CNI_NETNS is a '%s', not a veth", ifname, li.kind);
		goto out;
	}
	if (prev->mac[0] && strcasecmp(prev->mac, li.mac) != 0) {
		r = CHECK_FAIL("'%s' has MAC %s, prevResult says %s", ifname, li.mac, prev->mac);
		goto out;
	}
	if (netdev_addr_exists(pnd, idx, rec.address, c->pod_len) != 1) {
		r = CHECK_FAIL("'%s' does not have %s/%u", ifname, a, c->pod_len);
		goto out;
	}
	for (i = 0; i < prev->n_routes; i++) {
		if (netdev_route_exists(pnd, prev->routes[i].dst, prev->routes[i].plen,
					prev->routes[i].gw) != 1) {
			ntoa(prev->routes[i].dst, b);
			r = CHECK_FAIL("route %s/%u is missing in CNI_NETNS '%s'", b,
				       prev->routes[i].plen, netns);
			goto out;
		}
	}
	idx = netdev_link_index(hnd, host);
	if (idx < 0 || netdev_link_get(hnd, idx, &hl) < 0) {
		r = CHECK_FAIL("host veth '%s' does not exist", host);
		goto out;
	}
	bridge_idx = netdev_link_index(hnd, c->bridge_name);
	if (bridge_idx < 0) {
		r = CHECK_FAIL("bridge '%s' does not exist", c->bridge_name);
		goto out;
	}
	if (hl.master != bridge_idx || !hl.up) {
		r = CHECK_FAIL("host veth '%s' is %s%s", host,
			       hl.master != bridge_idx ? "not a port of bridge " : "down",
			       hl.master != bridge_idx ? c->bridge_name : "");
		goto out;
	}
	if (netdev_addr_exists(hnd, bridge_idx, c->gateway, c->pod_len) != 1) {
		ntoa(c->gateway, b);
		r = CHECK_FAIL("bridge '%s' lacks the gateway address %s/%u", c->bridge_name, b,
			       c->pod_len);
		goto out;
	}
	r = 0;
out:
	netdev_free(pnd);
	netdev_free(hnd);
	close(nsfd);
	return r;
}

static bool roost_veth_name(const char *name)
{
	if (strncmp(name, "veth", 4) != 0 || strlen(name) != 12)
		return false;
	for (const char *p = name + 4; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

int pod_reconcile(const struct roostd_conf *c, struct ipam *ipam)
{
	struct netdev_link_info *links = NULL;
	struct ipam_record *recs = NULL;
	struct netdev *nd = NULL;
	size_t n_links = 0, n_recs = 0, i, j;
	int bridge, r, repairs = 0;
	char host[16], a[INET_ADDRSTRLEN];

	r = netdev_open(&nd);
	if (r < 0)
		return r;
	bridge = netdev_link_index(nd, c->bridge_name);
	if ((r = netdev_link_list(nd, &links, &n_links)) < 0 ||
	    (r = ipam_list(ipam, &recs, &n_recs)) < 0)
		goto out;

	for (i = 0; i < n_links; i++) {
		bool owned = false;

		if (bridge <= 0 || links[i].master != bridge || !roost_veth_name(links[i].name))
			continue;
		for (j = 0; j < n_recs && !owned; j++) {
			pod_host_veth_name(recs[j].container_id, recs[j].ifname, host);
			owned = strcmp(host, links[i].name) == 0;
		}
		if (owned)
			continue;
		if (netdev_link_delete(nd, links[i].name) == 0) {
			log_warn("reconcile: deleted host veth '%s': no address is reserved for it (an ADD interrupted by a crash)",
				 links[i].name);
			repairs++;
		}
	}
	for (j = 0; j < n_recs; j++) {
		if (strcmp(recs[j].origin, "roost") != 0)
			continue;
		pod_host_veth_name(recs[j].container_id, recs[j].ifname, host);
		if (netdev_link_index(nd, host) > 0)
			continue;
		ntoa(recs[j].address, a);
		if (ipam_release(ipam, recs[j].container_id, recs[j].ifname, NULL) == 0) {
			log_warn("reconcile: released %s of container=%s ifname=%s: its host veth '%s' is gone",
				 a, recs[j].container_id, recs[j].ifname, host);
			repairs++;
		}
	}
	r = repairs;
out:
	free(recs);
	free(links);
	netdev_free(nd);
	return r;
}
