/* SPDX-License-Identifier: MIT */
/*
 * api.c - serve the agent socket (see api.h and api-proto.h).
 *
 * Threads: the main thread owns every client, the IPAM pool and the parked
 * requests (an ADD waiting for a teardown: struct api_client.parked). The
 * teardown pool's threads only delete veths; their finished jobs come back
 * here (api_teardown_done()). STATUS, NODE_STATUS and AUDIT go to the query
 * worker with their connection (query_submit), which answers them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "api-proto.h"
#include "api.h"
#include "datastore.h"
#include "bc-ctl.h"
#include "log.h"
#include "pod.h"
#include "rst-util.h"
#include "status.h"
#include "teardown.h"
#include "worker.h"

struct api_client {
	int fd;
	pid_t pid;
	unsigned char hdr[ROOST_API_HDR_LEN];
	size_t hdr_len;
	char *body; /* owned; body_len bytes once the header is in */
	uint32_t body_len, got;
	int64_t deadline;   /* rst_now_ms(): complete request by then */
	json_t *parked;     /* owned: the request, while it waits for a teardown */
	int nsfd;           /* owned; the pod's namespace passed with the request, or -1 */
	struct timespec t0; /* when it was first dispatched */
};

struct api {
	int fd;
	char *path; /* owned */
	struct api_client clients[API_MAX_CLIENTS];
	size_t n_clients;
};

int api_fd(const struct api *a)
{
	return a ? a->fd : -1;
}

int api_open(const char *path, struct api **ret)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct api *a;
	mode_t old;
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return log_errno(LOG_ERR, ENAMETOOLONG, "agent socket '%s'", path);
	strcpy(sa.sun_path, path);
	r = rst_mkdir_parent(path, 0755);
	if (r < 0)
		return log_errno(LOG_ERR, r, "agent socket '%s': cannot create its folder", path);

	/* A socket file that nobody answers on is a leftover: remove it. */
	fd = api_connect(path, 500);
	if (fd >= 0) {
		close(fd);
		log_error("agent socket '%s': another roostd answers on it", path);
		return -EADDRINUSE;
	}
	if (unlink(path) < 0 && errno != ENOENT)
		return log_errno(LOG_ERR, errno, "agent socket '%s': cannot remove the old one",
				 path);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return log_errno(LOG_ERR, errno, "agent socket: socket failed");
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0 || chmod(path, 0600) < 0 || listen(fd, 256) < 0) {
		r = log_errno(LOG_ERR, errno, "agent socket '%s': cannot listen", path);
		close(fd);
		return r;
	}
	a = calloc(1, sizeof(*a));
	if (!a || !(a->path = strdup(path))) {
		free(a);
		close(fd);
		unlink(path);
		return log_errno(LOG_ERR, ENOMEM, "agent socket");
	}
	a->fd = fd;
	*ret = a;
	log_info("agent: listening on '%s' (mode 0600, root only)", path);
	return 0;
}

static void client_close(struct api *a, size_t i)
{
	if (a->clients[i].fd >= 0)
		close(a->clients[i].fd);
	if (a->clients[i].nsfd >= 0)
		close(a->clients[i].nsfd);
	json_decref(a->clients[i].parked);
	free(a->clients[i].body);
	a->clients[i] = a->clients[--a->n_clients];
}

void api_free(struct api *a)
{
	if (!a)
		return;
	while (a->n_clients)
		client_close(a, 0);
	close(a->fd);
	unlink(a->path);
	free(a->path);
	free(a);
}

/* ---- replies ----------------------------------------------------------------- */

static json_t *reply_ok(json_t *result)
{
	return json_pack("{s:b, s:o}", "ok", 1, "result", result ? result : json_object());
}

static json_t *reply_err(int code, const char *msg, const char *details)
{
	json_t *err = json_pack("{s:i, s:s}", "code", code, "msg", msg);

	if (details && details[0])
		json_object_set_new(err, "details", json_string(details));
	return json_pack("{s:b, s:o}", "ok", 0, "error", err);
}

static json_t *reply_rst(const struct rst_err *e)
{
	return reply_err(e->cni_code ? e->cni_code : ROOST_CNI_ERR_INTERNAL, e->msg, NULL);
}

static const char *str(const json_t *req, const char *key)
{
	const json_t *v = json_object_get(req, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static char *cidr(struct in_addr a, unsigned plen, char *buf, size_t len)
{
	char t[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &a, t, sizeof(t));
	snprintf(buf, len, "%s/%u", t, plen);
	return buf;
}

static char *ip(struct in_addr a, char *buf)
{
	inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
	return buf;
}

static char *cidr6(const struct in6_addr *a, unsigned plen, char *buf, size_t len)
{
	char t[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET6, a, t, sizeof(t));
	snprintf(buf, len, "%s/%u", t, plen);
	return buf;
}

/* "addr/len" of either family; AF_INET or AF_INET6 (and the address in
 * *a4 or *a6), or 0. */
static int cidr_parse_any(const char *s, struct in_addr *a4, struct in6_addr *a6,
			  unsigned *plen)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	unsigned long l;

	if (!s)
		return 0;
	if (!strchr(s, ':'))
		return cidr_parse(s, a4, plen, true) == 0 ? AF_INET : 0;
	if (strlen(s) >= sizeof(buf))
		return 0;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (!slash || !slash[1])
		return 0;
	*slash = '\0';
	errno = 0;
	l = strtoul(slash + 1, &end, 10);
	if (errno || *end || l > 128 || inet_pton(AF_INET6, buf, a6) != 1)
		return 0;
	*plen = (unsigned)l;
	return AF_INET6;
}

/* ---- verbs ------------------------------------------------------------------- */

/* The IPv6 half of an ADD reply: "ip6" (or "ip" on an IPv6-only node) and
 * two more routes. */
static int add_reply6(const struct api_ctx *x, const struct pod_result *res, json_t *out)
{
	char a[64], gw[INET6_ADDRSTRLEN], cl[64];
	json_t *routes = json_object_get(out, "routes");

	cidr6(&res->address6, res->plen6, a, sizeof(a));
	inet_ntop(AF_INET6, &res->gateway6, gw, sizeof(gw));
	cidr6(&x->conf->cluster_net6, x->conf->cluster_len6, cl, sizeof(cl));
	if (json_object_set_new(out, res->has4 ? "ip6" : "ip",
				json_pack("{s:s, s:s}", "address", a, "gateway", gw)) < 0 ||
	    json_array_append_new(routes, json_pack("{s:s, s:s}", "dst", "::/0", "gw", gw)) < 0 ||
	    json_array_append_new(routes, json_pack("{s:s, s:s}", "dst", cl, "gw", gw)) < 0)
		return -ENOMEM;
	return 0;
}

static json_t *do_add(const struct api_ctx *x, const char *cid, const char *ifname,
		      const char *netns, int nsfd, bool *ret_parked)
{
	struct pod_result res;
	struct rst_err e = {0};
	char a[40], gw[INET_ADDRSTRLEN], cl[40];
	json_t *out;
	int r = pod_add(x->conf, x->ipam, x->ipam6, x->td, cid, ifname, netns, nsfd, &res, &e);

	if (r == -EAGAIN && ret_parked) {
		*ret_parked = true;
		return NULL;
	}
	if (r < 0)
		return reply_rst(&e);
	if (!res.has4) {
		out = json_pack("{s:{s:s, s:s}, s:{s:s, s:s}, s:{s:s, s:s, s:s}, s:i, s:[]}",
				"bridge", "name", res.bridge, "mac", res.bridge_mac, "host", "name",
				res.host, "mac", res.host_mac, "container", "name", res.ifname, "mac",
				res.mac, "sandbox", netns, "mtu", (int)res.mtu, "routes");
		if (!out || add_reply6(x, &res, out) < 0) {
			json_decref(out);
			return reply_err(ROOST_CNI_ERR_INTERNAL, "out of memory", NULL);
		}
		return reply_ok(out);
	}
	ip(res.gateway, gw);
	out = json_pack(
		"{s:{s:s, s:s}, s:{s:s, s:s}, s:{s:s, s:s, s:s}, s:i, s:{s:s, s:s},"
		" s:[{s:s, s:s}, {s:s, s:s}]}",
		"bridge", "name", res.bridge, "mac", res.bridge_mac, "host", "name", res.host, "mac",
		res.host_mac, "container", "name", res.ifname, "mac", res.mac, "sandbox", netns,
		"mtu", (int)res.mtu, "ip", "address", cidr(res.address, res.plen, a, sizeof(a)),
		"gateway", gw, "routes", "dst", "0.0.0.0/0", "gw", gw, "dst",
		cidr(x->conf->cluster_net, x->conf->cluster_len, cl, sizeof(cl)), "gw", gw);
	if (out && res.has6 && add_reply6(x, &res, out) < 0) {
		json_decref(out);
		out = NULL;
	}
	if (!out)
		return reply_err(ROOST_CNI_ERR_INTERNAL, "out of memory", NULL);
	return reply_ok(out);
}


static json_t *do_check(const struct api_ctx *x, const json_t *req, const char *cid,
			const char *ifname, const char *netns, int nsfd)
{
	const json_t *prev = json_object_get(req, "prev"), *v;
	struct pod_prev p = {0};
	struct rst_err e = {0};
	size_t i;

	if (prev && !json_is_object(prev))
		return reply_err(7, "'prev' must be an object", NULL);
	v = json_object_get(prev, "ips");
	for (i = 0; i < json_array_size(v); i++) {
		struct in_addr a4;
		struct in6_addr a6;
		unsigned plen;
		int fam = cidr_parse_any(json_string_value(json_array_get(v, i)), &a4, &a6, &plen);

		if (!fam)
			return reply_err(7, "prevResult: an ips[].address is not a CIDR", NULL);
		if (fam == AF_INET && !p.has_address) {
			p.address = a4;
			p.plen = plen;
			p.has_address = true;
		} else if (fam == AF_INET6 && !p.has_address6) {
			p.address6 = a6;
			p.plen6 = plen;
			p.has_address6 = true;
		}
	}
	if (str(prev, "mac"))
		snprintf(p.mac, sizeof(p.mac), "%s", str(prev, "mac"));
	v = json_object_get(prev, "routes");
	for (i = 0; i < json_array_size(v) && p.n_routes < ARRAY_SIZE(p.routes); i++) {
		const json_t *rt = json_array_get(v, i);
		const char *gw = str(rt, "gw");

		if (str(rt, "dst") && strchr(str(rt, "dst"), ':')) {
			struct in_addr unused;

			if (p.n_routes6 == ARRAY_SIZE(p.routes6))
				continue;
			memset(&p.routes6[p.n_routes6], 0, sizeof(p.routes6[0]));
			if (cidr_parse_any(str(rt, "dst"), &unused, &p.routes6[p.n_routes6].dst,
					   &p.routes6[p.n_routes6].plen) != AF_INET6 ||
			    (gw && inet_pton(AF_INET6, gw, &p.routes6[p.n_routes6].gw) != 1))
				return reply_err(7, "prevResult: a route is not IPv6 {dst, gw}", NULL);
			p.n_routes6++;
			continue;
		}

		if (cidr_parse(str(rt, "dst"), &p.routes[p.n_routes].dst,
			       &p.routes[p.n_routes].plen, true) < 0 ||
		    (gw && inet_pton(AF_INET, gw, &p.routes[p.n_routes].gw) != 1))
			return reply_err(7, "prevResult: a route is not IPv4 {dst, gw}", NULL);
		p.n_routes++;
	}
	if (pod_check(x->conf, x->ipam, x->ipam6, cid, ifname, netns, nsfd, &p, &e) < 0)
		return reply_rst(&e);
	return reply_ok(NULL);
}

/* STATUS (CNI 1.1): can this node take pods? It asks BIRD, so it runs on
 * the query worker: c and n as api_node_query() has them. */
static json_t *do_status(const struct roostd_conf *c, const struct share_node *n)
{
	struct bc_ctl *ctl = NULL;
	char net[40], msg[160];

	if (n->pool_used >= n->pool_size) {
		snprintf(msg, sizeof(msg), "address pool %s is exhausted (%zu of %zu in use)",
			 cidr(c->pod_net, c->pod_len, net, sizeof(net)), n->pool_used,
			 n->pool_size);
		return reply_err(50, msg, NULL);
	}
	if (n->has_pool6 && c->address.s_addr && n->pool6_used >= n->pool6_size) {
		/* Dual-stack: an ADD needs an address of each family. */
		char net6[INET6_ADDRSTRLEN];

		inet_ntop(AF_INET6, &c->pod_net6, net6, sizeof(net6));
		snprintf(msg, sizeof(msg), "address pool %s/%u is exhausted (%zu of %llu in use)",
			 net6, c->pod_len6, n->pool6_used, (unsigned long long)n->pool6_size);
		return reply_err(50, msg, NULL);
	}
	if (if_nametoindex(c->bridge_name) == 0) {
		snprintf(msg, sizeof(msg), "bridge '%s' is missing", c->bridge_name);
		return reply_err(51, msg, NULL);
	}
	if (c->bird_spawn && (n->bird_pid <= 0 || kill(n->bird_pid, 0) < 0))
		return reply_err(51, "BIRD is not running: routes to other nodes are not maintained",
				 NULL);
	/* A hung BIRD accepts the connection but never greets. */
	if (bc_ctl_open(c->bird_socket, 300, &ctl) < 0)
		return reply_err(51, "BIRD does not answer on its control socket: routes to other nodes are not maintained",
				 c->bird_socket);
	bc_ctl_free(ctl);
	return reply_ok(NULL);
}

static json_t *do_gc(const struct api_ctx *x, const json_t *req)
{
	const json_t *valid = json_object_get(req, "valid");
	struct ipam_record *gone = NULL;
	struct ipam6_record *gone6 = NULL;
	struct ipam_key *keys;
	bool *taken6;
	size_t n = json_array_size(valid), n_gone = 0, n_gone6 = 0, i;
	json_t *released;
	char a[INET_ADDRSTRLEN], host[16];
	int r;

	if (!json_is_array(valid))
		return reply_err(7, "GC needs 'valid' (cni.dev/valid-attachments); nothing released",
				 NULL);
	keys = calloc(n + 1, sizeof(*keys));
	if (!keys)
		return reply_err(ROOST_CNI_ERR_INTERNAL, "out of memory", NULL);
	for (i = 0; i < n; i++) {
		keys[i].container_id = str(json_array_get(valid, i), "container_id");
		keys[i].ifname = str(json_array_get(valid, i), "ifname");
		if (!keys[i].container_id || !keys[i].ifname) {
			free(keys);
			return reply_err(7, "GC: every valid attachment needs container_id and ifname",
					 NULL);
		}
	}
	/* The addresses stay held until their veths are gone (deleted
	 * through the teardown pool): never handed out while an interface
	 * still carries one. */
	r = x->ipam ? ipam_gc_hold(x->ipam, keys, n, &gone, &n_gone) : 0;
	released = json_array();
	if (x->ipam6) {
		int r6 = ipam6_gc(x->ipam6, keys, n, true, &gone6, &n_gone6);

		if (r6 < 0 && r == 0)
			r = r6;
	}
	free(keys);
	taken6 = calloc(n_gone6 + 1, sizeof(*taken6));
	for (i = 0; i < n_gone; i++) {
		const struct in6_addr *a6p = NULL;

		/* The attachment's IPv6 address goes with the same veth. */
		for (size_t k = 0; taken6 && k < n_gone6 && !a6p; k++)
			if (!taken6[k] &&
			    strcmp(gone6[k].container_id, gone[i].container_id) == 0 &&
			    strcmp(gone6[k].ifname, gone[i].ifname) == 0) {
				taken6[k] = true;
				a6p = &gone6[k].address;
			}
		(void)pod_release_held(x->conf, x->ipam, x->ipam6, x->td, gone[i].container_id,
				       gone[i].ifname, &gone[i].address, a6p);
		if (pod_host_veth_name(gone[i].container_id, gone[i].ifname, host) < 0)
			strcpy(host, "none");
		json_array_append_new(released,
				      json_pack("{s:s, s:s, s:s}", "container_id",
						gone[i].container_id, "ifname", gone[i].ifname,
						"address", ip(gone[i].address, a)));
		log_info("pod: gc released container=%s ifname=%s address=%s host_veth=%s",
			 gone[i].container_id, gone[i].ifname, a, host);
	}
	for (i = 0; i < n_gone6; i++) {
		char a6[INET6_ADDRSTRLEN];

		inet_ntop(AF_INET6, &gone6[i].address, a6, sizeof(a6));
		if (!taken6 || !taken6[i])
			/* Its own veth (IPv6-only node, or no IPv4 record). */
			(void)pod_release_held(x->conf, NULL, x->ipam6, x->td,
					       gone6[i].container_id, gone6[i].ifname, NULL,
					       &gone6[i].address);
		json_array_append_new(released, json_pack("{s:s, s:s, s:s}", "container_id",
							  gone6[i].container_id, "ifname",
							  gone6[i].ifname, "address", a6));
		log_info("pod: gc released container=%s ifname=%s address=%s",
			 gone6[i].container_id, gone6[i].ifname, a6);
	}
	free(taken6);
	free(gone6);
	free(gone);
	if (r < 0) {
		json_decref(released);
		return reply_err(ROOST_CNI_ERR_INTERNAL, "GC could not release every address",
				 strerror(-r));
	}
	return reply_ok(json_pack("{s:o}", "released", released));
}

/* An IPv6 pool's size (2^64 for a /64) as a JSON integer: capped at
 * INT64_MAX, as roostctl status does, never wrapped to a negative. */
static json_int_t json_count(uint64_t v)
{
	return v > INT64_MAX ? INT64_MAX : (json_int_t)v;
}

static json_t *do_pods(const struct api_ctx *x)
{
	struct ipam_record *recs = NULL;
	struct ipam6_record *recs6 = NULL, r6;
	size_t n = 0, n6 = 0;
	json_t *pods, *out;
	char a[INET_ADDRSTRLEN], a6[INET6_ADDRSTRLEN], host[16];

	if (x->ipam && ipam_list(x->ipam, &recs, &n) < 0)
		return reply_err(ROOST_CNI_ERR_INTERNAL, "cannot list the address pool", NULL);
	if (!x->ipam && x->ipam6 && ipam6_list(x->ipam6, &recs6, &n6) < 0)
		return reply_err(ROOST_CNI_ERR_INTERNAL, "cannot list the address pool", NULL);
	pods = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *pod;

		if (pod_host_veth_name(recs[i].container_id, recs[i].ifname, host) < 0)
			host[0] = '\0';
		pod = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s}", "container_id",
				recs[i].container_id, "ifname", recs[i].ifname, "address",
				ip(recs[i].address, a), "host_veth", host, "since",
				(json_int_t)recs[i].since, "origin", recs[i].origin);
		/* Dual-stack: the attachment's IPv6 address alongside. */
		if (pod && x->ipam6 &&
		    ipam6_find(x->ipam6, recs[i].container_id, recs[i].ifname, &r6) == 0)
			json_object_set_new(pod, "address6",
					    json_string(inet_ntop(AF_INET6, &r6.address, a6,
								  sizeof(a6))));
		json_array_append_new(pods, pod);
	}
	/* An IPv6-only node: "address" is the IPv6 one. */
	for (size_t i = 0; i < n6; i++) {
		if (pod_host_veth_name(recs6[i].container_id, recs6[i].ifname, host) < 0)
			host[0] = '\0';
		json_array_append_new(
			pods, json_pack("{s:s, s:s, s:s, s:s, s:I, s:s}", "container_id",
					recs6[i].container_id, "ifname", recs6[i].ifname, "address",
					inet_ntop(AF_INET6, &recs6[i].address, a6, sizeof(a6)),
					"host_veth", host, "since", (json_int_t)recs6[i].since,
					"origin", recs6[i].origin));
	}
	free(recs);
	free(recs6);
	out = json_pack("{s:o, s:I, s:I}", "pods", pods, "pool_size",
			x->ipam ? (json_int_t)ipam_size(x->ipam) : json_count(ipam6_size(x->ipam6)),
			"pool_used",
			(json_int_t)(x->ipam ? ipam_used(x->ipam) : ipam6_used(x->ipam6)));
	if (out && x->ipam && x->ipam6) {
		json_object_set_new(out, "pool6_size", json_integer(json_count(ipam6_size(x->ipam6))));
		json_object_set_new(out, "pool6_used", json_integer((json_int_t)ipam6_used(x->ipam6)));
	}
	return reply_ok(out);
}

/* The network a request names must be the one this roostd serves. */
static json_t *check_network(const struct roostd_conf *c, const json_t *req)
{
	const char *network = str(req, "network");
	char msg[256];

	if (network && strcmp(network, c->agent_network) == 0)
		return NULL;
	snprintf(msg, sizeof(msg), "network '%s' is not served by this roostd (agent.network = '%s')",
		 network ? network : "", c->agent_network);
	return reply_err(7, msg, NULL);
}

json_t *api_node_query(const json_t *req, const struct roostd_conf *c, const struct share_node *n,
		       struct datastore *ds)
{
	const char *verb = str(req, "verb");
	json_t *rep;

	if (strcmp(verb, "STATUS") == 0) {
		if ((rep = check_network(c, req)))
			return rep;
		if (c->no_pods)
			return reply_err(50, "this node has no pod subnet (node.pod_cidr is not set): it serves no pods",
					 NULL);
		return do_status(c, n);
	}
	if (strcmp(verb, "NODE_STATUS") == 0) {
		struct bird b = {.pid = n->bird_pid, .pidfd = -1};
		json_t *st = status_node(c, &b, NULL);

		if (!st)
			return reply_err(ROOST_CNI_ERR_INTERNAL, "out of memory", NULL);
		json_object_set_new(st, "pool", json_pack("{s:I, s:I}", "size",
							  (json_int_t)n->pool_size, "used",
							  (json_int_t)n->pool_used));
		if (n->has_pool6)
			/* json_int_t is signed: a /64's 2^64 - 2 shows as 2^63 - 1. */
			json_object_set_new(
				st, "pool6",
				json_pack("{s:I, s:I, s:I}", "size",
					  (json_int_t)(n->pool6_size > INT64_MAX ? INT64_MAX
										 : n->pool6_size),
					  "used", (json_int_t)n->pool6_used, "held",
					  (json_int_t)n->pool6_held));
		if (ds)
			json_object_set_new(st, "datastore", ds_status_json(ds));
		return reply_ok(st);
	} else {
		char why[256] = "";
		json_t *audit = status_audit(c, why, sizeof(why));

		return audit ? reply_ok(audit) : reply_err(ROOST_CNI_ERR_INTERNAL, why, NULL);
	}
}

/* Handles one request; *ret_parked (when not NULL) is set, and NULL
 * returned, for an ADD that waits for a teardown. */
static json_t *dispatch(const struct api_ctx *x, const json_t *req, int nsfd, bool *ret_parked)
{
	const char *verb = str(req, "verb");
	const char *cid = str(req, "container_id"), *ifname = str(req, "ifname");
	const char *netns = str(req, "netns");
	char msg[256];
	json_t *rep;

	static const char *const verbs[] = {"ADD", "DEL",  "CHECK",	"STATUS",
					    "GC",  "PODS", "NODE_STATUS", "AUDIT"};
	bool known = false;

	if (!verb)
		return reply_err(7, "request has no 'verb'", NULL);
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
		known = known || strcmp(verb, verbs[i]) == 0;
	if (!known) {
		snprintf(msg, sizeof(msg), "unknown verb '%.64s'", verb);
		return reply_err(4, msg, NULL);
	}
	if (strcmp(verb, "PODS") == 0)
		return do_pods(x);
	if (strcmp(verb, "NODE_STATUS") == 0 || strcmp(verb, "AUDIT") == 0 ||
	    strcmp(verb, "STATUS") == 0) {
		struct share_node n = {.pool_size = x->ipam ? ipam_size(x->ipam)
							    : (size_t)ipam6_size(x->ipam6),
				       .pool_used = x->ipam ? ipam_used(x->ipam)
							    : ipam6_used(x->ipam6),
				       .has_pool6 = x->ipam6 != NULL,
				       .pool6_size = ipam6_size(x->ipam6),
				       .pool6_used = ipam6_used(x->ipam6),
				       .pool6_held = ipam6_held(x->ipam6),
				       .bird_pid = x->bird ? x->bird->pid : 0};

		return api_node_query(req, x->conf, &n, x->ds);
	}
	if ((rep = check_network(x->conf, req)))
		return rep;
	if (!x->ipam && !x->ipam6)
		return reply_err(7, "this node has no pod subnet (node.pod_cidr is not set): it serves no pods",
				 NULL);
	if (strcmp(verb, "GC") == 0)
		return do_gc(x, req);
	if (!cid || !ifname)
		return reply_err(4, "request lacks container_id or ifname", NULL);
	/* Before anything looks at them (names, hashes, files). */
	if (!ipam_container_id_valid(cid)) {
		snprintf(msg, sizeof(msg),
			 "invalid container id '%.40s%s' (%zu bytes): at most %d bytes of [A-Za-z0-9_.-], starting alphanumeric",
			 cid, strlen(cid) > 40 ? "..." : "", strlen(cid), IPAM_ID_MAX);
		return reply_err(4, msg, NULL);
	}
	if (!ipam_ifname_valid(ifname)) {
		snprintf(msg, sizeof(msg),
			 "invalid ifname '%.20s%s': 1 to %d bytes, not '.' or '..', no '/', ':' or whitespace",
			 ifname, strlen(ifname) > 20 ? "..." : "", IPAM_IFNAME_MAX);
		return reply_err(4, msg, NULL);
	}
	/* A client that announced the namespace as an fd must have passed one:
	 * falling back to the path would be another namespace's in roostd's
	 * container. */
	if (json_is_true(json_object_get(req, "netns_fd")) && nsfd < 0)
		return reply_err(4, "the request announces CNI_NETNS as a file descriptor, but none came with it",
				 NULL);
	if (strcmp(verb, "ADD") == 0)
		return do_add(x, cid, ifname, netns ? netns : "", nsfd, ret_parked);
	if (strcmp(verb, "DEL") == 0) {
		struct rst_err e = {0};

		if (pod_del(x->conf, x->ipam, x->ipam6, x->td, cid, ifname, netns, nsfd, &e) < 0)
			return reply_rst(&e);
		return reply_ok(NULL);
	}
	if (strcmp(verb, "CHECK") == 0)
		return do_check(x, req, cid, ifname, netns ? netns : "", nsfd);
	snprintf(msg, sizeof(msg), "unknown verb '%s'", verb);
	return reply_err(4, msg, NULL);
}

json_t *api_dispatch(const struct api_ctx *x, const json_t *req)
{
	return dispatch(x, req, -1, NULL);
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Sends the reply, counts the request, logs a failed send. */
static void finish_request(int fd, pid_t pid, const json_t *req, const json_t *rep,
			   const struct timespec *t0, struct metrics *m)
{
	int r;

	if (m)
		metrics_request(m, str(req, "verb"), json_is_true(json_object_get(rep, "ok")),
				seconds_since(t0));
	r = api_send(fd, rep, API_CLIENT_TIMEOUT_MS);
	if (r < 0)
		log_warn("agent: reply to pid %d failed: %s", (int)pid, strerror(-r));
}

/* ---- queries served off the loop ----------------------------------------------- */

/* STATUS, NODE_STATUS or AUDIT on the query worker: the connection is the
 * job's. */
struct query_job {
	int fd;
	pid_t pid;
	json_t *req; /* owned */
	struct timespec t0;
	struct share *share;   /* borrowed */
	struct metrics *metrics; /* borrowed; may be NULL */
	struct datastore *ds;  /* borrowed; may be NULL */
};

static void query_run(void *arg)
{
	struct query_job *j = arg;
	const struct roostd_conf *c = share_conf_get(j->share);
	struct share_node n;
	json_t *rep;

	share_node_get(j->share, &n);
	rep = api_node_query(j->req, c, &n, j->ds);
	share_conf_put(j->share);
	if (!rep)
		rep = reply_err(ROOST_CNI_ERR_INTERNAL, "out of memory", NULL);
	finish_request(j->fd, j->pid, j->req, rep, &j->t0, j->metrics);
	json_decref(rep);
}

static void query_done(void *arg, void *ctx, bool ran)
{
	struct query_job *j = arg;

	close(j->fd);
	json_decref(j->req);
	free(j);
}

static bool is_query(const json_t *req)
{
	const char *verb = str(req, "verb");

	return verb && (strcmp(verb, "NODE_STATUS") == 0 || strcmp(verb, "AUDIT") == 0 ||
			strcmp(verb, "STATUS") == 0);
}

/* Hands client c's query to the worker. true when the worker took it (and
 * the connection: c->fd is -1 then). */
static bool query_submit(struct api_client *c, json_t *req, const struct timespec *t0,
			 const struct api_ctx *ctx)
{
	struct query_job *j = calloc(1, sizeof(*j));

	if (!j)
		return false;
	*j = (struct query_job){.fd = c->fd,
				.pid = c->pid,
				.req = req,
				.t0 = *t0,
				.share = ctx->share,
				.metrics = ctx->metrics,
				.ds = ctx->ds};
	if (worker_submit(ctx->queries, query_run, query_done, j) < 0) {
		free(j);
		return false;
	}
	c->fd = -1;
	return true;
}

/* Dispatches req (owned) for client c and replies; or, when it has to wait
 * for a teardown, keeps req in c->parked and returns true. */
static bool serve_parsed(struct api_client *c, const struct api_ctx *ctx, json_t *req)
{
	bool parked = false;
	json_t *rep = dispatch(ctx, req, c->nsfd, &parked);

	if (parked) {
		if (!c->parked)
			log_debug("agent: pid %d: ADD of container=%s waits for a teardown", (int)c->pid,
				  str(req, "container_id"));
		c->parked = req;
		return true;
	}
	c->parked = NULL;
	if (!rep)
		rep = reply_err(ROOST_CNI_ERR_INTERNAL, "out of memory", NULL);
	finish_request(c->fd, c->pid, req, rep, &c->t0, ctx->metrics);
	json_decref(req);
	json_decref(rep);
	return false;
}

/* Serves one complete request body from client c and replies; true when
 * the request was parked instead (the client stays). */
static bool serve_request(struct api_client *c, const struct api_ctx *ctx)
{
	json_t *req, *rep;
	json_error_t jerr;

	req = json_loadb(c->body, c->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(req)) {
		char why[256];

		snprintf(why, sizeof(why), "message body is not a JSON object%s%s",
			 req ? "" : ": ", req ? "" : jerr.text);
		log_warn("agent: bad request from pid %d: %s", (int)c->pid, why);
		json_decref(req);
		rep = reply_err(6, "bad request on the agent socket", why);
		(void)api_send(c->fd, rep, API_CLIENT_TIMEOUT_MS);
		json_decref(rep);
		return false;
	}
	clock_gettime(CLOCK_MONOTONIC, &c->t0);
	if (!is_query(req) || !ctx->queries)
		return serve_parsed(c, ctx, req);
	if (query_submit(c, req, &c->t0, ctx))
		return false;
	rep = reply_err(11, "roostd is busy: too many status and audit queries waiting", NULL);
	finish_request(c->fd, c->pid, req, rep, &c->t0, ctx->metrics);
	json_decref(req);
	json_decref(rep);
	return false;
}

/* Replies with an error (best effort, bounded) and drops the client. */
static void client_reject(struct api *a, size_t i, int code, const char *msg, const char *why)
{
	json_t *rep = reply_err(code, msg, why);

	(void)api_send(a->clients[i].fd, rep, 200);
	json_decref(rep);
	client_close(a, i);
}

void api_serve(struct api *a, const struct api_ctx *ctx)
{
	/* A bounded batch, so signals and BIRD's death are noticed between. */
	for (int i = 0; i < 64; i++) {
		struct ucred cred = {0};
		socklen_t len = sizeof(cred);
		struct api_client *c;
		int fd = accept4(a->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_errno(LOG_WARNING, errno, "agent: accept failed");
			return;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != 0) {
			json_t *rep = reply_err(ROOST_CNI_ERR_DENIED,
						"only root may use the agent socket", NULL);

			log_warn("agent: refused a request from uid %d pid %d", (int)cred.uid,
				 (int)cred.pid);
			(void)api_send(fd, rep, 200);
			json_decref(rep);
			close(fd);
			continue;
		}
		if (a->n_clients == API_MAX_CLIENTS) {
			json_t *rep = reply_err(11, "roostd is busy: too many open connections", NULL);

			log_warn("agent: %d connections open, refusing one from pid %d",
				 API_MAX_CLIENTS, (int)cred.pid);
			(void)api_send(fd, rep, 200);
			json_decref(rep);
			close(fd);
			continue;
		}
		c = &a->clients[a->n_clients++];
		memset(c, 0, sizeof(*c));
		c->fd = fd;
		c->nsfd = -1;
		c->pid = cred.pid;
		c->deadline = rst_now_ms() + API_CLIENT_TIMEOUT_MS;
	}
}

size_t api_pollfds(const struct api *a, struct pollfd *p, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < a->n_clients && n < max; i++) {
		if (a->clients[i].parked)
			continue; /* its request is in; it waits for a teardown */
		p[n].fd = a->clients[i].fd;
		p[n].events = POLLIN;
		p[n].revents = 0;
		n++;
	}
	return n;
}

/* Checks client c's complete header: 0 with c->body_len set, or -EINVAL
 * with why. */
static int header_check(struct api_client *c, char *why, size_t len)
{
	uint32_t h[3];

	memcpy(h, c->hdr, sizeof(h));
	if (ntohl(h[0]) != ROOST_API_MAGIC) {
		snprintf(why, len, "not a roost agent message (magic 0x%08x)", ntohl(h[0]));
		return -EINVAL;
	}
	if (ntohl(h[1]) != ROOST_API_VERSION) {
		snprintf(why, len, "protocol version %u; this roostd speaks version %u", ntohl(h[1]),
			 ROOST_API_VERSION);
		return -EINVAL;
	}
	if (ntohl(h[2]) < 2 || ntohl(h[2]) > ROOST_API_MAX_BODY) {
		snprintf(why, len, "message length %u out of range 2..%u", ntohl(h[2]),
			 ROOST_API_MAX_BODY);
		return -EINVAL;
	}
	c->body_len = ntohl(h[2]);
	return 0;
}

/* recv() that also takes the pod's namespace when the client passes it
 * (SCM_RIGHTS, with the header's first byte): the first fd is kept, any
 * other is closed at once. */
static ssize_t recv_fd(struct api_client *c, void *buf, size_t len)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			   .msg_controllen = sizeof(u.buf)};
	ssize_t n = recvmsg(c->fd, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

	if (n < 0)
		return n;
	for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
		size_t k;

		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
			continue;
		for (k = 0; k < (h->cmsg_len - CMSG_LEN(0)) / sizeof(int); k++) {
			int fd;

			memcpy(&fd, CMSG_DATA(h) + k * sizeof(int), sizeof(int));
			if (c->nsfd < 0)
				c->nsfd = fd;
			else
				close(fd);
		}
	}
	if (m.msg_flags & MSG_CTRUNC)
		log_warn("agent: pid %d passed more file descriptors than a request takes; extra ones were dropped",
			 (int)c->pid);
	return n;
}

/* Reads what client i has sent. Returns true when the client is done with
 * (served or dropped; it is gone from the array). */
static bool client_read(struct api *a, size_t i, const struct api_ctx *ctx)
{
	struct api_client *c = &a->clients[i];
	char why[256];
	ssize_t n;

	if (c->hdr_len < ROOST_API_HDR_LEN) {
		n = recv_fd(c, c->hdr + c->hdr_len, ROOST_API_HDR_LEN - c->hdr_len);
		if (n <= 0) {
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				return false;
			if (c->hdr_len)
				log_warn("agent: pid %d closed after %zu of %d header bytes",
					 (int)c->pid, c->hdr_len, ROOST_API_HDR_LEN);
			client_close(a, i);
			return true;
		}
		c->hdr_len += (size_t)n;
		if (c->hdr_len < ROOST_API_HDR_LEN)
			return false;
		if (header_check(c, why, sizeof(why)) < 0) {
			log_warn("agent: bad request from pid %d: %s", (int)c->pid, why);
			client_reject(a, i, 6, "bad request on the agent socket", why);
			return true;
		}
		c->body = malloc(c->body_len);
		if (!c->body) {
			client_reject(a, i, ROOST_CNI_ERR_INTERNAL, "out of memory", NULL);
			return true;
		}
	}
	n = recv_fd(c, c->body + c->got, c->body_len - c->got);
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return false;
		log_warn("agent: pid %d closed after %u of %u body bytes", (int)c->pid, c->got,
			 c->body_len);
		client_close(a, i);
		return true;
	}
	c->got += (uint32_t)n;
	if (c->got < c->body_len)
		return false;
	if (serve_request(c, ctx)) {
		c->deadline = rst_now_ms() + API_PARK_TIMEOUT_MS;
		return true;
	}
	client_close(a, i);
	return true;
}

static void job_done(void *arg, const struct teardown_job *job)
{
	const struct api_ctx *ctx = arg;

	pod_teardown_done(ctx->ipam, ctx->ipam6, job);
}

void api_teardown_done(struct api *a, const struct api_ctx *ctx)
{
	(void)teardown_reap(ctx->td, job_done, (void *)ctx);
	if (!a)
		return;
	/* Each parked request is tried again; the array reorders on close. */
	for (size_t i = 0; i < a->n_clients;) {
		struct api_client *c = &a->clients[i];

		if (!c->parked || serve_parsed(c, ctx, c->parked)) {
			i++;
			continue;
		}
		client_close(a, i);
	}
}

void api_handle(struct api *a, const struct pollfd *p, size_t n, const struct api_ctx *ctx)
{
	/* Match by fd: serving a client reorders the array. */
	for (size_t k = 0; k < n; k++) {
		if (!(p[k].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		for (size_t i = 0; i < a->n_clients; i++)
			if (a->clients[i].fd == p[k].fd && !a->clients[i].parked) {
				client_read(a, i, ctx);
				break;
			}
	}
	/* Clients that sent nothing complete in time are dropped. */
	for (size_t i = 0; i < a->n_clients;) {
		if (rst_now_ms() < a->clients[i].deadline) {
			i++;
			continue;
		}
		if (a->clients[i].parked) {
			log_warn("agent: pid %d: ADD waited %d ms for a teardown; answered busy",
				 (int)a->clients[i].pid, API_PARK_TIMEOUT_MS);
			client_reject(a, i, 11,
				      "the previous attachment's interface or address is still being deleted: try again",
				      NULL);
			continue;
		}
		log_warn("agent: pid %d sent no complete request within %d ms; dropped",
			 (int)a->clients[i].pid, API_CLIENT_TIMEOUT_MS);
		client_reject(a, i, 11, "request incomplete: timed out", NULL);
	}
}

int api_timeout_ms(const struct api *a)
{
	int64_t first = -1;

	for (size_t i = 0; i < a->n_clients; i++)
		if (first < 0 || a->clients[i].deadline < first)
			first = a->clients[i].deadline;
	return first < 0 ? -1 : rst_ms_left(first);
}
