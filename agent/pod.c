/* SPDX-License-Identifier: MIT */
/*
 * pod.c - set up, check and tear down a pod's attachment (see pod.h).
 *
 * Everything goes through netdev.c (libnl). The pod's side is reached with a
 * netdev whose socket was opened inside the pod's namespace, so roostd never
 * runs in a foreign namespace longer than it takes to open that socket.
 *
 * Threads: every function here runs in roostd's main thread, which owns the
 * IPAM pool (and its held addresses). The only work that leaves it is the
 * deletion of veths: a struct teardown_job, owned by the teardown pool from
 * teardown_submit() until the main thread reaps it (pod_teardown_done()).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api-proto.h"
#include "birdconf.h"
#include "log.h"
#include "netdev.h"
#include "pod.h"
#include "rst-util.h"
#include "teardown.h"

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

/* sha256("<container id>/<ifname>") in hex; -EINVAL when either breaks
 * CNI's rules (so is longer than the pool keeps, too). */
static int attach_hash(const char *container_id, const char *ifname, char hex[65])
{
	char key[IPAM_ID_MAX + 1 + IPAM_IFNAME_MAX + 1];
	int n;

	if (!ipam_container_id_valid(container_id) || !ipam_ifname_valid(ifname))
		return -EINVAL;
	n = snprintf(key, sizeof(key), "%s/%s", container_id, ifname);
	if (n < 0 || (size_t)n >= sizeof(key))
		return -EINVAL;
	bc_sha256_hex(key, (size_t)n, hex);
	return 0;
}

int pod_host_veth_name(const char *container_id, const char *ifname, char out[16])
{
	char hex[65];
	int r = attach_hash(container_id, ifname, hex);

	if (r < 0)
		return r;
	snprintf(out, 16, "veth%.*s", POD_VETH_HEX, hex);
	return 0;
}

int pod_host_veth_alias(const char *container_id, const char *ifname, char out[72])
{
	char hex[65];
	int r = attach_hash(container_id, ifname, hex);

	if (r < 0)
		return r;
	snprintf(out, 72, POD_ALIAS_PREFIX "%s", hex);
	return 0;
}

/* The name roost before 44-bit names gave the host veth ("veth" + 8 hex). */
static void legacy_veth_name(const char *host, char out[16])
{
	snprintf(out, 16, "%.12s", host);
}

/* The pod's network namespace: a private copy of nsfd when the client
 * passed one (checked: roostd in a container may not see the client's
 * paths), else path opened. The fd, or a negative errno with a CNI code 4
 * error. */
static int netns_open(const char *path, int nsfd, struct rst_err *e)
{
	const char *why;
	int fd;

	if (nsfd >= 0) {
		if (rst_netns_check(nsfd, &why) < 0)
			return cni_fail(e, 4, EINVAL, "the namespace passed for CNI_NETNS '%s' is %s",
					path ? path : "", why);
		fd = fcntl(nsfd, F_DUPFD_CLOEXEC, 3);
		if (fd < 0)
			return cni_fail(e, ROOST_CNI_ERR_INTERNAL, errno, "CNI_NETNS '%s': %s",
					path ? path : "", strerror(errno));
	} else {
		if (!path || path[0] != '/')
			return cni_fail(e, 4, EINVAL, "CNI_NETNS '%s' is not an absolute path",
					path ? path : "");
		fd = rst_netns_open(path, &why);
		if (fd == -EINVAL && why)
			return cni_fail(e, 4, EINVAL, "CNI_NETNS '%s' is %s", path, why);
		if (fd < 0)
			return cni_fail(e, 4, -fd, "CNI_NETNS '%s': %s", path, strerror(-fd));
	}
	if (rst_netns_is_own(fd)) {
		close(fd);
		return cni_fail(e, 4, EINVAL,
				"CNI_NETNS '%s' is the node's own network namespace, not a pod's",
				path ? path : "");
	}
	return fd;
}

/* Finds the host veth of (cid, ifname): 1 and *ret when it is there and
 * this attachment's (its alias names it, or it has the older 8-hex name
 * and no alias: made by an older roost), 0 when there is none,
 * -EEXIST (*ret set) when the name is taken by a link that is not this
 * attachment's, or -errno. */
static int host_veth_find(struct netdev *nd, const char *host, const char *alias,
			  struct netdev_link_info *ret)
{
	char legacy[16];
	int r = netdev_link_lookup(nd, 0, host, ret);

	if (r == 0)
		return strcmp(ret->alias, alias) == 0 ? 1 : -EEXIST;
	if (r != -ENODEV)
		return r;
	legacy_veth_name(host, legacy);
	r = netdev_link_lookup(nd, 0, legacy, ret);
	if (r == -ENODEV)
		return 0;
	if (r < 0)
		return r;
	/* An old name is only ever ours when nothing says otherwise. */
	if (strcmp(ret->kind, "veth") == 0 &&
	    (ret->alias[0] == '\0' || strcmp(ret->alias, alias) == 0))
		return 1;
	return 0;
}

static void ntoa(struct in_addr a, char *buf)
{
	inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static void ntoa6(const struct in6_addr *a, char *buf)
{
	inet_ntop(AF_INET6, a, buf, INET6_ADDRSTRLEN);
}

/* reserve() for the IPv6 pool. */
static int reserve6(const struct roostd_conf *c, struct ipam6 *ipam6, const char *cid,
		    const char *ifname, struct in6_addr *addr, struct rst_err *e)
{
	char a[INET6_ADDRSTRLEN], net[INET6_ADDRSTRLEN];
	int r = ipam6_allocate_deferred(ipam6, cid, ifname, addr);

	if (r == 0)
		return 0;
	ntoa6(addr, a);
	ntoa6(&c->pod_net6, net);
	switch (r) {
	case -EEXIST:
		return cni_fail(e, ROOST_CNI_ERR_DUPLICATE, EEXIST,
				"container '%s' ifname '%s' already has %s: ADD again without DEL",
				cid, ifname, a);
	case -ENOSPC:
		if (ipam6_used(ipam6) < ipam6_size(ipam6))
			return cni_fail(e, ROOST_CNI_ERR_INTERNAL, ENOSPC,
					"cannot record the IPv6 address reservation in '%s': %s",
					c->state_dir, strerror(ENOSPC));
		return cni_fail(e, ROOST_CNI_ERR_POOL_EXHAUSTED, ENOSPC,
				"no free address in %s/%u: all in use", net, c->pod_len6);
	case -EINVAL:
		return cni_fail(e, 4, EINVAL,
				"container id '%s' or ifname '%s' is not valid for CNI", cid,
				ifname);
	default:
		return cni_fail(e, ROOST_CNI_ERR_INTERNAL, r,
				"cannot record the IPv6 address reservation in '%s': %s",
				c->state_dir, strerror(-r));
	}
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

	if (idx < 0 || (c->gateway.s_addr && netdev_addr_ensure(nd, idx, c->gateway, c->pod_len) < 0) ||
	    (c->cluster_len6 && !IN6_IS_ADDR_UNSPECIFIED(&c->gateway6) &&
	     netdev_addr6_ensure(nd, idx, &c->gateway6, c->pod_len6) < 0))
		return cni_fail(e, ROOST_CNI_ERR_INTERNAL, idx < 0 ? idx : EIO,
				"bridge '%s' cannot be set up on the node", c->bridge_name);
	return idx;
}

/* The result: the three links (looked up as they were made) and the IP. */
static void fill_result(const struct roostd_conf *c, const struct netdev_link_info *bridge,
			const struct netdev_link_info *host, const struct netdev_link_info *pod,
			struct in_addr addr, const struct in6_addr *addr6, struct pod_result *ret)
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
	ret->has4 = addr.s_addr != 0;
	if (addr6) {
		ret->has6 = true;
		ret->address6 = *addr6;
		ret->plen6 = c->pod_len6;
		ret->gateway6 = c->gateway6;
	}
}

/* An ADD that must wait for a teardown (its interface name or address is
 * still being deleted): -EAGAIN, which the agent socket answers later. */
static int busy(struct rst_err *e, const char *what, const char *cid, const char *ifname)
{
	return cni_fail(e, 11, EAGAIN, "container '%s' ifname '%s': %s is still being deleted",
			cid, ifname, what);
}

int pod_add(const struct roostd_conf *c, struct ipam *ipam, struct ipam6 *ipam6,
	    struct teardown *td, const char *cid, const char *ifname, const char *netns,
	    int nsfd_in, struct pod_result *ret, struct rst_err *e)
{
	struct netdev *hnd = NULL, *pnd = NULL;
	struct in_addr addr = {0}, any = {0};
	struct in6_addr addr6 = IN6ADDR_ANY_INIT, any6 = IN6ADDR_ANY_INIT;
	struct ipam_record rec;
	struct ipam6_record rec6;
	struct netdev_link_info bridge, hostl, pod, old;
	struct stat nst = {0};
	char host[16], alias[72], a[INET_ADDRSTRLEN] = "", a6[INET6_ADDRSTRLEN] = "";
	int nsfd, bridge_idx, pod_idx, r;
	bool reserved = false, reserved6 = false, veth = false;

	if (pod_host_veth_name(cid, ifname, host) < 0 || pod_host_veth_alias(cid, ifname, alias) < 0)
		return cni_fail(e, 4, EINVAL,
				"container id or ifname '%.32s' is not valid for CNI (id: at most %d bytes of [A-Za-z0-9_.-])",
				ifname, IPAM_ID_MAX);
	/* A second ADD of one attachment is the runtime's error: say so before
	 * anything else (its interface does exist in the netns, of course). */
	if (ipam && ipam_find(ipam, cid, ifname, &rec) == 0) {
		ntoa(rec.address, a);
		return cni_fail(e, ROOST_CNI_ERR_DUPLICATE, EEXIST,
				"container '%s' ifname '%s' already has %s: ADD again without DEL",
				cid, ifname, a);
	}
	if (ipam6 && ipam6_find(ipam6, cid, ifname, &rec6) == 0) {
		ntoa6(&rec6.address, a6);
		return cni_fail(e, ROOST_CNI_ERR_DUPLICATE, EEXIST,
				"container '%s' ifname '%s' already has %s: ADD again without DEL",
				cid, ifname, a6);
	}
	nsfd = netns_open(netns, nsfd_in, e);
	if (nsfd < 0)
		return nsfd;
	(void)fstat(nsfd, &nst);
	r = netdev_open(&hnd);
	if (r >= 0)
		r = netdev_open_netns(nsfd, &pnd);
	if (r < 0) {
		r = cni_fail(e, ROOST_CNI_ERR_INTERNAL, r, "netlink: cannot open a route socket");
		goto out;
	}
	if (netdev_link_index(pnd, ifname) >= 0) {
		/* A DEL of the namespace's previous attachment may still be
		 * deleting it: wait for that, else it is the runtime's error. */
		if (teardown_pending_pod(td, nst.st_dev, nst.st_ino, ifname))
			r = busy(e, "the interface of the previous attachment in CNI_NETNS", cid,
				 ifname);
		else
			r = cni_fail(e, 4, EEXIST, "CNI_IFNAME '%s' already exists in CNI_NETNS '%s'",
				     ifname, netns);
		goto out;
	}
	if (teardown_pending_host(td, host)) {
		r = busy(e, "host veth", cid, ifname);
		goto out;
	}
	r = netdev_link_lookup(hnd, 0, host, &old);
	if (r == 0 && strcmp(old.alias, alias) != 0) {
		/* Another attachment's veth with the same 44-bit name (or a link
		 * someone else made): never ours to delete. */
		r = cni_fail(e, ROOST_CNI_ERR_INTERNAL, EEXIST,
			     "host veth name '%s' is taken by a link that is not this attachment's (alias '%s'); it is left alone",
			     host, old.alias);
		goto out;
	}
	if (r == 0) {
		/* Debris of an ADD of this very attachment that died half-way
		 * (it has no reservation): its alias says it serves nobody else. */
		log_warn("pod %s/%s: stale host veth '%s' of this attachment found, deleting it", cid,
			 ifname, host);
		r = netdev_link_delete_index(hnd, old.ifindex);
		if (r < 0) {
			r = cni_fail(e, ROOST_CNI_ERR_INTERNAL, r,
				     "stale host veth '%s' cannot be deleted: %s", host,
				     strerror(-r));
			goto out;
		}
	} else if (r != -ENODEV) {
		r = cni_fail(e, ROOST_CNI_ERR_INTERNAL, r, "netlink: looking up '%s' failed", host);
		goto out;
	}
	bridge_idx = bridge_index(c, hnd, &bridge, e);
	if (bridge_idx < 0) {
		r = bridge_idx;
		goto out;
	}
	if (ipam) {
		r = reserve(c, ipam, cid, ifname, &addr, e);
		if (r == -ENOSPC && ipam_held(ipam) > 0 && teardown_pending(td) > 0) {
			/* Full only of addresses whose old interfaces are going. */
			r = busy(e, "every free address's old interface", cid, ifname);
			goto out;
		}
		if (r < 0)
			goto out;
		reserved = true;
		ntoa(addr, a);
	}
	if (ipam6) {
		/* The second family: its failure undoes the first's reservation. */
		r = reserve6(c, ipam6, cid, ifname, &addr6, e);
		if (r == -ENOSPC && ipam6_held(ipam6) > 0 && teardown_pending(td) > 0)
			/* Full only of addresses whose old interfaces are going. */
			r = busy(e, "every free IPv6 address's old interface", cid, ifname);
		if (r < 0)
			goto undo;
		reserved6 = true;
		ntoa6(&addr6, a6);
	}

	r = netdev_veth_create(hnd, host, ifname, nsfd, c->bridge_mtu, NULL, &hostl);
	if (r < 0) {
		r = cni_fail(e, ROOST_CNI_ERR_INTERNAL, r, "creating veth '%s' <-> '%s': %s", host,
			     ifname, strerror(-r));
		goto undo;
	}
	veth = true;
	pod_idx = netdev_link_lookup(pnd, 0, ifname, &pod);
	if (pod_idx == 0)
		pod_idx = pod.ifindex;
	r = pod_idx < 0 ? pod_idx : 0;
	if (r >= 0 && ipam)
		r = netdev_addr_add(pnd, pod_idx, addr, c->pod_len);
	/* nodad: usable when ADD returns, no DAD delay left to the pod. */
	if (r >= 0 && ipam6)
		r = netdev_addr6_ensure(pnd, pod_idx, &addr6, c->pod_len6);
	if (r >= 0)
		r = netdev_link_set_up(pnd, pod_idx);
	if (r >= 0 && ipam)
		r = netdev_route_add(pnd, any, 0, c->gateway, pod_idx, 0);
	if (r >= 0 && ipam)
		r = netdev_route_add(pnd, c->cluster_net, c->cluster_len, c->gateway, pod_idx, 0);
	if (r >= 0 && ipam6)
		r = netdev_route6_add(pnd, &any6, 0, &c->gateway6, pod_idx);
	if (r >= 0 && ipam6)
		r = netdev_route6_add(pnd, &c->cluster_net6, c->cluster_len6, &c->gateway6,
				      pod_idx);
	if (r < 0) {
		r = cni_fail(e, ROOST_CNI_ERR_INTERNAL, r,
			     "setting up '%s' (%s%s%s) in CNI_NETNS '%s' failed", ifname, a,
			     a[0] && a6[0] ? ", " : "", a6, netns);
		goto undo;
	}
	/* The alias goes with the enslave (one request less); a veth that
	 * never got it is debris of an ADD that did not finish (reconcile). */
	r = netdev_link_set_master_up(hnd, hostl.ifindex, bridge_idx, true, alias);
	if (r < 0) {
		r = cni_fail(e, ROOST_CNI_ERR_INTERNAL, r, "attaching '%s' to bridge '%s' failed",
			     host, c->bridge_name);
		goto undo;
	}
	/* The reservation's fsyncs ran meanwhile; the address is the pod's
	 * only once they are done. */
	r = ipam ? ipam_commit(ipam) : 0;
	if (r >= 0 && ipam6) {
		r = ipam6_commit(ipam6);
		if (r < 0) {
			reserved6 = false; /* ipam6_commit() took it back */
			r = cni_fail(e, ROOST_CNI_ERR_INTERNAL, r,
				     "cannot record the IPv6 address reservation in '%s': %s",
				     c->state_dir, strerror(-r));
			goto undo;
		}
	}
	if (r < 0) {
		r = cni_fail(e, ROOST_CNI_ERR_INTERNAL, r,
			     "cannot record the address reservation in '%s': %s", c->state_dir,
			     strerror(-r));
		goto undo;
	}
	fill_result(c, &bridge, &hostl, &pod, addr, ipam6 ? &addr6 : NULL, ret);
	if (!ipam6)
		log_info("pod: added container=%s ifname=%s address=%s/%u host_veth=%s netns='%s'",
			 cid, ifname, a, c->pod_len, host, netns);
	else
		log_info("pod: added container=%s ifname=%s address=%s%s%s/%u host_veth=%s netns='%s'",
			 cid, ifname, a, a[0] ? "," : "", a6, c->pod_len6, host, netns);
	r = 0;
	goto out;

undo:
	/* Reverse order: the veth (its peer goes with it), then the address;
	 * an address whose veth could not be deleted stays reserved (the
	 * next restart's reconcile finds the pair). */
	if (veth && netdev_link_delete_index(hnd, hostl.ifindex) < 0)
		reserved = reserved6 = false;
	if (reserved)
		(void)ipam_release(ipam, cid, ifname, NULL);
	if (reserved6)
		(void)ipam6_release(ipam6, cid, ifname, false, NULL);
	log_warn("pod: add failed and undone container=%s ifname=%s: %s", cid, ifname, e->msg);
out:
	netdev_free(pnd);
	netdev_free(hnd);
	close(nsfd);
	return r;
}

void pod_teardown_done(struct ipam *ipam, struct ipam6 *ipam6, const struct teardown_job *job)
{
	char a[INET_ADDRSTRLEN] = "", a6[INET6_ADDRSTRLEN] = "";
	char both[INET_ADDRSTRLEN + INET6_ADDRSTRLEN + 2];

	if (job->held)
		ntoa(job->addr, a);
	if (job->held6)
		ntoa6(&job->addr6, a6);
	snprintf(both, sizeof(both), "%s%s%s", a, a[0] && a6[0] ? " " : "", a6);
	if (job->result < 0) {
		/* The addresses stay held: an interface may still carry them.
		 * A restart's reconcile deletes the veth (it has no record). */
		log_errno(LOG_ERR, job->result,
			  "pod: container=%s ifname=%s: deleting host veth '%s' failed; %s stays out of the pool",
			  job->container_id, job->ifname, job->host, both[0] ? both : "no address");
		return;
	}
	/* The log names what was held and is free now, nothing else. */
	if (!(job->held && ipam && ipam_unhold(ipam, job->addr) == 0))
		a[0] = '\0';
	if (!(job->held6 && ipam6 && ipam6_unhold(ipam6, &job->addr6) == 0))
		a6[0] = '\0';
	snprintf(both, sizeof(both), "%s%s%s", a, a[0] && a6[0] ? " " : "", a6);
	log_debug("pod: host veth '%s' of container=%s ifname=%s deleted%s%s", job->host,
		  job->container_id, job->ifname, both[0] ? "; free again: " : "", both);
}

/* Hands job to the pool, or runs it here without one (or when queuing
 * failed) and finishes it at once. */
static void teardown_start(struct ipam *ipam, struct ipam6 *ipam6, struct teardown *td,
			   struct netdev *hnd, struct teardown_job *job)
{
	if (!job->host_ifindex && !job->pod_nd) {
		job->result = 0;
		pod_teardown_done(ipam, ipam6, job);
		return;
	}
	if (td && teardown_submit(td, job) == 0)
		return;
	if (td) /* submit freed pod_nd */
		job->pod_nd = NULL;
	(void)teardown_run(hnd, job);
	pod_teardown_done(ipam, ipam6, job);
}

/* The job that deletes (cid, ifname)'s host veth, when it is there and
 * this attachment's: 1 (job->host_ifindex set), 0 when there is none of
 * ours (another attachment's link of that name is left alone), -errno. */
static int host_job(struct netdev *hnd, struct teardown *td, const char *cid, const char *ifname,
		    struct teardown_job *job)
{
	struct netdev_link_info hl;
	char alias[72];
	int r;

	snprintf(job->container_id, sizeof(job->container_id), "%s", cid);
	snprintf(job->ifname, sizeof(job->ifname), "%s", ifname);
	if (pod_host_veth_name(cid, ifname, job->host) < 0 ||
	    pod_host_veth_alias(cid, ifname, alias) < 0)
		return 0;
	if (teardown_pending_host(td, job->host))
		return 0; /* on its way already */
	r = host_veth_find(hnd, job->host, alias, &hl);
	if (r == -EEXIST) {
		log_warn("pod: container=%s ifname=%s: host veth '%s' belongs to another attachment (alias '%s'), leaving it alone",
			 cid, ifname, job->host, hl.alias);
		return 0;
	}
	if (r <= 0)
		return r;
	job->host_ifindex = hl.ifindex;
	snprintf(job->host, sizeof(job->host), "%s", hl.name);
	return 1;
}

int pod_del(const struct roostd_conf *c, struct ipam *ipam, struct ipam6 *ipam6,
	    struct teardown *td, const char *cid, const char *ifname, const char *netns,
	    int nsfd_in, struct rst_err *e)
{
	struct in6_addr addr6 = IN6ADDR_ANY_INIT;
	char a6[INET6_ADDRSTRLEN] = "";
	int r6 = -ENOENT, released6;
	struct teardown_job job = {0};
	struct netdev *hnd = NULL;
	struct in_addr addr = {0};
	struct stat nst;
	char a[INET_ADDRSTRLEN] = "none";
	int released, found, r;

	if (!ipam_container_id_valid(cid) || !ipam_ifname_valid(ifname))
		return cni_fail(e, 4, EINVAL,
				"container id or ifname '%.32s' is not valid for CNI (id: at most %d bytes of [A-Za-z0-9_.-])",
				ifname, IPAM_ID_MAX);
	r = netdev_open(&hnd);
	if (r < 0)
		return cni_fail(e, 11, r, "netlink: cannot open a route socket");
	/* The record goes in the background meanwhile; its address is held
	 * until the veth is gone. */
	released = ipam ? ipam_release_deferred(ipam, cid, ifname, true, &addr) : -ENOENT;
	released6 = ipam6 ? ipam6_release_deferred(ipam6, cid, ifname, true, &addr6) : -ENOENT;
	if (nsfd_in >= 0 ? fstat(nsfd_in, &nst) == 0
			 : netns && netns[0] && stat(netns, &nst) == 0) {
		job.ns_dev = nst.st_dev;
		job.ns_ino = nst.st_ino;
	}
	found = host_job(hnd, td, cid, ifname, &job);
	if (nsfd_in >= 0 || (netns && netns[0])) {
		/* The pod side, when its namespace still exists (also for a pod
		 * attached by another plugin, e.g. migrated, whose host veth has
		 * another name). */
		struct netdev *pnd = NULL;
		struct netdev_link_info li;
		struct rst_err ignore;
		int nsfd = netns_open(netns, nsfd_in, &ignore);

		if (nsfd >= 0 && netdev_open_netns(nsfd, &pnd) == 0 &&
		    netdev_link_lookup(pnd, 0, ifname, &li) == 0 && strcmp(li.kind, "veth") == 0) {
			job.pod_nd = TAKE_PTR(pnd);
			job.pod_ifindex = li.ifindex;
		}
		netdev_free(pnd);
		if (nsfd >= 0)
			close(nsfd);
	}
	if (found < 0) {
		if (released == 0)
			ipam_abort_release(ipam); /* the address stays with the veth */
		if (released6 == 0)
			ipam6_abort_release(ipam6);
		netdev_free(job.pod_nd);
		r = cni_fail(e, 11, found, "looking up host veth '%s' failed: %s", job.host,
			     strerror(-found));
		goto out;
	}
	/* IPv6 first: when its removal failed, the IPv4 record is put back
	 * and nothing changed. */
	r6 = released6 < 0 ? released6 : ipam6_commit(ipam6);
	if (r6 < 0 && r6 != -ENOENT) {
		if (released == 0)
			ipam_abort_release(ipam);
		netdev_free(job.pod_nd);
		r = cni_fail(e, 11, r6, "releasing the IPv6 address of container '%s' ifname '%s': %s",
			     cid, ifname, strerror(-r6));
		goto out;
	}
	job.held6 = r6 == 0;
	job.addr6 = addr6;
	if (r6 == 0)
		ntoa6(&addr6, a6);
	r = released < 0 ? released : ipam_commit(ipam);
	if (r < 0 && r != -ENOENT) {
		/* The IPv6 address stays held (in memory only) with its veth;
		 * the next start's reconcile settles the veth. */
		netdev_free(job.pod_nd);
		r = cni_fail(e, 11, r, "releasing the address of container '%s' ifname '%s': %s",
			     cid, ifname, strerror(-r));
		goto out;
	}
	job.held = r == 0;
	job.addr = addr;
	if (r == 0)
		ntoa(addr, a);
	if (job.pod_nd) {
		/* Down and renamed now (no grace period): CNI_IFNAME is free
		 * and the pod cut off when DEL returns; the slow delete follows
		 * in the pool. */
		char gone[16];

		snprintf(gone, sizeof(gone), "rdel%d", job.pod_ifindex);
		(void)netdev_link_set_down_name(job.pod_nd, job.pod_ifindex, gone);
	}
	teardown_start(ipam, ipam6, td, hnd, &job);
	if (!ipam6)
		log_info("pod: deleted container=%s ifname=%s address=%s host_veth=%s", cid, ifname,
			 a, job.host_ifindex ? job.host : "none");
	else
		log_info("pod: deleted container=%s ifname=%s address=%s address6=%s host_veth=%s",
			 cid, ifname, a, a6[0] ? a6 : "none", job.host_ifindex ? job.host : "none");
	r = 0;
out:
	netdev_free(hnd);
	return r;
}

int pod_release_held(const struct roostd_conf *c, struct ipam *ipam, struct ipam6 *ipam6,
		     struct teardown *td, const char *cid, const char *ifname,
		     const struct in_addr *addr, const struct in6_addr *addr6)
{
	struct teardown_job job = {0};
	struct netdev *hnd = NULL;
	int r = netdev_open(&hnd);

	if (r >= 0)
		r = host_job(hnd, td, cid, ifname, &job);
	if (r < 0) {
		/* Not knowing whether a veth still carries them: keep them held
		 * (reconcile settles it at the next start). */
		log_errno(LOG_ERR, r, "pod: container=%s ifname=%s: host veth unknown, its address stays out of the pool",
			  cid, ifname);
		netdev_free(hnd);
		return r;
	}
	if (addr) {
		job.held = true;
		job.addr = *addr;
	}
	if (addr6) {
		job.held6 = true;
		job.addr6 = *addr6;
	}
	teardown_start(ipam, ipam6, td, hnd, &job);
	netdev_free(hnd);
	return 0;
}

#define CHECK_FAIL(...) cni_fail(e, ROOST_CNI_ERR_CHECK, EINVAL, __VA_ARGS__)

int pod_check(const struct roostd_conf *c, struct ipam *ipam, struct ipam6 *ipam6,
	      const char *cid, const char *ifname, const char *netns, int nsfd_in,
	      const struct pod_prev *prev, struct rst_err *e)
{
	struct ipam6_record rec6;
	char a6[INET6_ADDRSTRLEN], b6[INET6_ADDRSTRLEN];
	char alias[72];
	struct netdev *hnd = NULL, *pnd = NULL;
	struct netdev_link_info li, hl;
	struct ipam_record rec;
	char host[16], a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	int nsfd, idx, bridge_idx, r;
	unsigned i;

	if (pod_host_veth_name(cid, ifname, host) < 0 || pod_host_veth_alias(cid, ifname, alias) < 0)
		return cni_fail(e, 4, EINVAL, "container id or ifname '%.32s' is not valid for CNI",
				ifname);
	if (ipam && ipam_find(ipam, cid, ifname, &rec) < 0)
		return CHECK_FAIL("container '%s' ifname '%s' has no address reserved", cid,
				  ifname);
	if (ipam6 && ipam6_find(ipam6, cid, ifname, &rec6) < 0)
		return CHECK_FAIL("container '%s' ifname '%s' has no IPv6 address reserved", cid,
				  ifname);
	if (ipam6) {
		ntoa6(&rec6.address, a6);
		if (prev->has_address6 &&
		    (memcmp(&prev->address6, &rec6.address, 16) != 0 || prev->plen6 != c->pod_len6)) {
			ntoa6(&prev->address6, b6);
			return CHECK_FAIL("prevResult says %s/%u, but the reservation is %s/%u", b6,
					  prev->plen6, a6, c->pod_len6);
		}
	}
	if (ipam)
		ntoa(rec.address, a);
	if (ipam && prev->has_address &&
	    (prev->address.s_addr != rec.address.s_addr || prev->plen != c->pod_len)) {
		ntoa(prev->address, b);
		return CHECK_FAIL("prevResult says %s/%u, but the reservation is %s/%u", b,
				  prev->plen, a, c->pod_len);
	}
	nsfd = netns_open(netns, nsfd_in, e);
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
	if (ipam && netdev_addr_exists(pnd, idx, rec.address, c->pod_len) != 1) {
		r = CHECK_FAIL("'%s' does not have %s/%u", ifname, a, c->pod_len);
		goto out;
	}
	if (ipam6 && netdev_addr6_exists(pnd, idx, &rec6.address, c->pod_len6) != 1) {
		r = CHECK_FAIL("'%s' does not have %s/%u", ifname, a6, c->pod_len6);
		goto out;
	}
	for (i = 0; i < prev->n_routes6; i++) {
		if (netdev_route6_exists(pnd, &prev->routes6[i].dst, prev->routes6[i].plen,
					 &prev->routes6[i].gw) != 1) {
			ntoa6(&prev->routes6[i].dst, b6);
			r = CHECK_FAIL("route %s/%u is missing in CNI_NETNS '%s'", b6,
				       prev->routes6[i].plen, netns);
			goto out;
		}
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
	r = host_veth_find(hnd, host, alias, &hl);
	if (r == -EEXIST) {
		r = CHECK_FAIL("host veth '%s' belongs to another attachment (alias '%s')", host,
			       hl.alias);
		goto out;
	}
	if (r <= 0 || netdev_link_get(hnd, hl.ifindex, &hl) < 0) {
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
	if (ipam6 && netdev_addr6_exists(hnd, bridge_idx, &c->gateway6, c->pod_len6) != 1) {
		ntoa6(&c->gateway6, b6);
		r = CHECK_FAIL("bridge '%s' lacks the gateway address %s/%u", c->bridge_name, b6,
			       c->pod_len6);
		goto out;
	}
	if (ipam && netdev_addr_exists(hnd, bridge_idx, c->gateway, c->pod_len) != 1) {
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

/* A host veth name roost gives: "veth" + POD_VETH_HEX hex digits, or the
 * older "veth" + 8 (legacy: a port of the bridge as well, since the
 * bridge plugin names its veths that way too). */
static bool roost_veth_name(const char *name, size_t hex)
{
	if (strncmp(name, "veth", 4) != 0 || strlen(name) != 4 + hex)
		return false;
	for (const char *p = name + 4; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

int pod_reconcile(const struct roostd_conf *c, struct ipam *ipam, struct ipam6 *ipam6)
{
	struct netdev_link_info *links = NULL;
	struct ipam_record *recs = NULL;
	struct ipam6_record *recs6 = NULL;
	size_t n_recs6 = 0, n4 = 0;
	struct netdev *nd = NULL;
	size_t n_links = 0, n_recs = 0, i, j;
	int bridge, r, repairs = 0;
	char (*names)[16] = NULL, (*aliases)[72] = NULL;
	char host[16], legacy[16], a[INET_ADDRSTRLEN];

	r = netdev_open(&nd);
	if (r < 0)
		return r;
	bridge = netdev_link_index(nd, c->bridge_name);
	if ((r = netdev_link_list(nd, &links, &n_links)) < 0 ||
	    (ipam && (r = ipam_list(ipam, &recs, &n_recs)) < 0) ||
	    (ipam6 && (r = ipam6_list(ipam6, &recs6, &n_recs6)) < 0))
		goto out;
	/* Dual-stack: an IPv6 record is an attachment too (on an IPv6-only
	 * node the only one); recs[n4..] are those, address 0.0.0.0. */
	n4 = n_recs;
	if (n_recs6) {
		struct ipam_record *all = reallocarray(recs, n_recs + n_recs6, sizeof(*recs));

		if (!all) {
			r = -ENOMEM;
			goto out;
		}
		recs = all;
		for (j = 0; j < n_recs6; j++) {
			memset(&recs[n_recs + j], 0, sizeof(*recs));
			strcpy(recs[n_recs + j].container_id, recs6[j].container_id);
			strcpy(recs[n_recs + j].ifname, recs6[j].ifname);
			strcpy(recs[n_recs + j].origin, recs6[j].origin);
		}
		n_recs += n_recs6;
	}
	names = calloc(n_recs + 1, sizeof(*names));
	aliases = calloc(n_recs + 1, sizeof(*aliases));
	if (!names || !aliases) {
		r = -ENOMEM;
		goto out;
	}
	for (j = 0; j < n_recs; j++)
		if (pod_host_veth_name(recs[j].container_id, recs[j].ifname, names[j]) < 0 ||
		    pod_host_veth_alias(recs[j].container_id, recs[j].ifname, aliases[j]) < 0)
			names[j][0] = aliases[j][0] = '\0';

	/* Every roost veth, in the bridge or not (an ADD may have died
	 * between creating the pair and enslaving it): roost's alias, or
	 * roost's name without an alias (died before the alias was set, or
	 * made by an older roost). */
	for (i = 0; i < n_links; i++) {
		const struct netdev_link_info *l = &links[i];
		bool ours_alias = strncmp(l->alias, POD_ALIAS_PREFIX, strlen(POD_ALIAS_PREFIX)) == 0;
		bool owned = false;

		if (strcmp(l->kind, "veth") != 0)
			continue;
		if (!ours_alias &&
		    !(l->alias[0] == '\0' &&
		      (roost_veth_name(l->name, POD_VETH_HEX) ||
		       (roost_veth_name(l->name, 8) && bridge > 0 && l->master == bridge))))
			continue;
		for (j = 0; j < n_recs && !owned; j++) {
			if (!names[j][0])
				continue;
			/* Without an alias a current name is debris of an ADD that
			 * died before it set one (so never succeeded): not owned. */
			legacy_veth_name(names[j], legacy);
			owned = ours_alias ? strcmp(l->alias, aliases[j]) == 0
					   : strcmp(l->name, legacy) == 0;
		}
		if (owned)
			continue;
		if (netdev_link_delete_index(nd, l->ifindex) == 0) {
			log_warn("reconcile: deleted host veth '%s': no address is reserved for it (an ADD or DEL interrupted by a crash)",
				 l->name);
			repairs++;
		}
	}
	for (j = 0; j < n_recs; j++) {
		struct netdev_link_info hl;

		if (strcmp(recs[j].origin, "roost") != 0)
			continue;
		if (names[j][0] && host_veth_find(nd, names[j], aliases[j], &hl) != 0)
			continue; /* there (or a lookup failed: keep it) */
		snprintf(host, sizeof(host), "%s", names[j]);
		if (j >= n4) {
			struct in6_addr a6;
			char t6[INET6_ADDRSTRLEN];

			if (ipam6_release(ipam6, recs[j].container_id, recs[j].ifname, false, &a6) ==
			    0) {
				ntoa6(&a6, t6);
				log_warn("reconcile: released %s of container=%s ifname=%s: its host veth '%s' is gone",
					 t6, recs[j].container_id, recs[j].ifname, host);
				repairs++;
			}
			continue;
		}
		ntoa(recs[j].address, a);
		if (ipam_release(ipam, recs[j].container_id, recs[j].ifname, NULL) == 0) {
			log_warn("reconcile: released %s of container=%s ifname=%s: its host veth '%s' is gone",
				 a, recs[j].container_id, recs[j].ifname, host);
			repairs++;
		}
	}
	r = repairs;
out:
	free(names);
	free(aliases);
	free(recs);
	free(recs6);
	free(links);
	netdev_free(nd);
	return r;
}
