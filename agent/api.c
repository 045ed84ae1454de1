/* SPDX-License-Identifier: MIT */
/*
 * api.c - serve the agent socket (see api.h and api-proto.h).
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

struct api_client {
	int fd;
	pid_t pid;
	unsigned char hdr[ROOST_API_HDR_LEN];
	size_t hdr_len;
	char *body; /* owned; body_len bytes once the header is in */
	uint32_t body_len, got;
	int64_t deadline; /* rst_now_ms(): complete request by then */
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
	close(a->clients[i].fd);
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

/* ---- verbs ------------------------------------------------------------------- */

static json_t *do_add(const struct api_ctx *x, const char *cid, const char *ifname,
		      const char *netns)
{
	struct pod_result res;
	struct rst_err e = {0};
	char a[40], gw[INET_ADDRSTRLEN], cl[40];

	if (pod_add(x->conf, x->ipam, cid, ifname, netns, &res, &e) < 0)
		return reply_rst(&e);
	ip(res.gateway, gw);
	return reply_ok(json_pack(
		"{s:{s:s, s:s}, s:{s:s, s:s}, s:{s:s, s:s, s:s}, s:i, s:{s:s, s:s},"
		" s:[{s:s, s:s}, {s:s, s:s}]}",
		"bridge", "name", res.bridge, "mac", res.bridge_mac, "host", "name", res.host, "mac",
		res.host_mac, "container", "name", res.ifname, "mac", res.mac, "sandbox", netns,
		"mtu", (int)res.mtu, "ip", "address", cidr(res.address, res.plen, a, sizeof(a)),
		"gateway", gw, "routes", "dst", "0.0.0.0/0", "gw", gw, "dst",
		cidr(x->conf->cluster_net, x->conf->cluster_len, cl, sizeof(cl)), "gw", gw));
}


static json_t *do_check(const struct api_ctx *x, const json_t *req, const char *cid,
			const char *ifname, const char *netns)
{
	const json_t *prev = json_object_get(req, "prev"), *v;
	struct pod_prev p = {0};
	struct rst_err e = {0};
	size_t i;

	if (prev && !json_is_object(prev))
		return reply_err(7, "'prev' must be an object", NULL);
	v = json_object_get(prev, "ips");
	if (json_array_size(v) > 0) {
		if (cidr_parse(json_string_value(json_array_get(v, 0)), &p.address, &p.plen, true) < 0)
			return reply_err(7, "prevResult: ips[0].address is not an IPv4 CIDR", NULL);
		p.has_address = true;
	}
	if (str(prev, "mac"))
		snprintf(p.mac, sizeof(p.mac), "%s", str(prev, "mac"));
	v = json_object_get(prev, "routes");
	for (i = 0; i < json_array_size(v) && p.n_routes < ARRAY_SIZE(p.routes); i++) {
		const json_t *rt = json_array_get(v, i);
		const char *gw = str(rt, "gw");

		if (cidr_parse(str(rt, "dst"), &p.routes[p.n_routes].dst,
			       &p.routes[p.n_routes].plen, true) < 0 ||
		    (gw && inet_pton(AF_INET, gw, &p.routes[p.n_routes].gw) != 1))
			return reply_err(7, "prevResult: a route is not IPv4 {dst, gw}", NULL);
		p.n_routes++;
	}
	if (pod_check(x->conf, x->ipam, cid, ifname, netns, &p, &e) < 0)
		return reply_rst(&e);
	return reply_ok(NULL);
}

static json_t *do_status(const struct api_ctx *x)
{
	struct bc_ctl *ctl = NULL;
	char net[40], msg[160];

	if (ipam_used(x->ipam) >= ipam_size(x->ipam)) {
		snprintf(msg, sizeof(msg), "address pool %s is exhausted (%zu of %zu in use)",
			 cidr(x->conf->pod_net, x->conf->pod_len, net, sizeof(net)),
			 ipam_used(x->ipam), ipam_size(x->ipam));
		return reply_err(50, msg, NULL);
	}
	if (if_nametoindex(x->conf->bridge_name) == 0) {
		snprintf(msg, sizeof(msg), "bridge '%s' is missing", x->conf->bridge_name);
		return reply_err(51, msg, NULL);
	}
	if (x->bird && x->conf->bird_spawn && (x->bird->pid <= 0 || kill(x->bird->pid, 0) < 0))
		return reply_err(51, "BIRD is not running: routes to other nodes are not maintained",
				 NULL);
	/* A hung BIRD accepts the connection but never greets. */
	if (bc_ctl_open(x->conf->bird_socket, 300, &ctl) < 0)
		return reply_err(51, "BIRD does not answer on its control socket: routes to other nodes are not maintained",
				 x->conf->bird_socket);
	bc_ctl_free(ctl);
	return reply_ok(NULL);
}

static json_t *do_gc(const struct api_ctx *x, const json_t *req)
{
	const json_t *valid = json_object_get(req, "valid");
	struct ipam_record *gone = NULL;
	struct ipam_key *keys;
	size_t n = json_array_size(valid), n_gone = 0, i;
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
	r = ipam_gc(x->ipam, keys, n, &gone, &n_gone);
	free(keys);
	released = json_array();
	for (i = 0; i < n_gone; i++) {
		struct rst_err e;

		/* Its host veth too, when it is still there. */
		(void)pod_del(x->conf, x->ipam, gone[i].container_id, gone[i].ifname, "", &e);
		pod_host_veth_name(gone[i].container_id, gone[i].ifname, host);
		json_array_append_new(released,
				      json_pack("{s:s, s:s, s:s}", "container_id",
						gone[i].container_id, "ifname", gone[i].ifname,
						"address", ip(gone[i].address, a)));
		log_info("pod: gc released container=%s ifname=%s address=%s host_veth=%s",
			 gone[i].container_id, gone[i].ifname, a, host);
	}
	free(gone);
	if (r < 0) {
		json_decref(released);
		return reply_err(ROOST_CNI_ERR_INTERNAL, "GC could not release every address",
				 strerror(-r));
	}
	return reply_ok(json_pack("{s:o}", "released", released));
}

static json_t *do_pods(const struct api_ctx *x)
{
	struct ipam_record *recs = NULL;
	size_t n = 0;
	json_t *pods;
	char a[INET_ADDRSTRLEN], host[16];

	if (x->ipam && ipam_list(x->ipam, &recs, &n) < 0)
		return reply_err(ROOST_CNI_ERR_INTERNAL, "cannot list the address pool", NULL);
	pods = json_array();
	for (size_t i = 0; i < n; i++) {
		pod_host_veth_name(recs[i].container_id, recs[i].ifname, host);
		json_array_append_new(
			pods, json_pack("{s:s, s:s, s:s, s:s, s:I, s:s}", "container_id",
					recs[i].container_id, "ifname", recs[i].ifname, "address",
					ip(recs[i].address, a), "host_veth", host, "since",
					(json_int_t)recs[i].since, "origin", recs[i].origin));
	}
	free(recs);
	return reply_ok(json_pack("{s:o, s:I, s:I}", "pods", pods, "pool_size",
				  (json_int_t)ipam_size(x->ipam), "pool_used",
				  (json_int_t)ipam_used(x->ipam)));
}

json_t *api_dispatch(const struct api_ctx *x, const json_t *req)
{
	const char *verb = str(req, "verb"), *network = str(req, "network");
	const char *cid = str(req, "container_id"), *ifname = str(req, "ifname");
	const char *netns = str(req, "netns");
	char msg[256];

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
	if (strcmp(verb, "NODE_STATUS") == 0) {
		json_t *st = status_node(x->conf, x->bird, x->ipam);

		if (st && x->ds)
			json_object_set_new(st, "datastore", ds_status_json(x->ds));
		return reply_ok(st);
	}
	if (strcmp(verb, "AUDIT") == 0) {
		char why[256] = "";
		json_t *audit = status_audit(x->conf, why, sizeof(why));

		return audit ? reply_ok(audit) : reply_err(ROOST_CNI_ERR_INTERNAL, why, NULL);
	}
	if (!network || strcmp(network, x->conf->agent_network) != 0) {
		snprintf(msg, sizeof(msg),
			 "network '%s' is not served by this roostd (agent.network = '%s')",
			 network ? network : "", x->conf->agent_network);
		return reply_err(7, msg, NULL);
	}
	if (!x->ipam && strcmp(verb, "PODS") != 0)
		return reply_err(strcmp(verb, "STATUS") == 0 ? 50 : 7,
				 "this node has no pod subnet (node.pod_cidr is not set): it serves no pods",
				 NULL);
	if (strcmp(verb, "STATUS") == 0)
		return do_status(x);
	if (strcmp(verb, "GC") == 0)
		return do_gc(x, req);
	if (!cid || !ifname)
		return reply_err(4, "request lacks container_id or ifname", NULL);
	if (strcmp(verb, "ADD") == 0)
		return do_add(x, cid, ifname, netns ? netns : "");
	if (strcmp(verb, "DEL") == 0) {
		struct rst_err e = {0};

		if (pod_del(x->conf, x->ipam, cid, ifname, netns, &e) < 0)
			return reply_rst(&e);
		return reply_ok(NULL);
	}
	if (strcmp(verb, "CHECK") == 0)
		return do_check(x, req, cid, ifname, netns ? netns : "");
	snprintf(msg, sizeof(msg), "unknown verb '%s'", verb);
	return reply_err(4, msg, NULL);
}

/* Serves one complete request body from client c and replies. */
static void serve_request(struct api_client *c, const struct api_ctx *ctx)
{
	json_t *req, *rep;
	json_error_t jerr;
	int64_t t0, t1;
	int r;

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
		return;
	}
	t0 = rst_now_us();
	rep = api_dispatch(ctx, req);
	if (!rep)
		rep = reply_err(ROOST_CNI_ERR_INTERNAL, "out of memory", NULL);
	t1 = rst_now_us();
	if (ctx->metrics)
		metrics_request(ctx->metrics, str(req, "verb"),
				json_is_true(json_object_get(rep, "ok")),
				(double)(t1 - t0) / 1e6);
	r = api_send(c->fd, rep, API_CLIENT_TIMEOUT_MS);
	if (r < 0)
		log_warn("agent: reply to pid %d failed: %s", (int)c->pid, strerror(-r));
	json_decref(req);
	json_decref(rep);
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
		c->pid = cred.pid;
		c->deadline = rst_now_ms() + API_CLIENT_TIMEOUT_MS;
	}
}

size_t api_pollfds(const struct api *a, struct pollfd *p, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < a->n_clients && n < max; i++, n++) {
		p[n].fd = a->clients[i].fd;
		p[n].events = POLLIN;
		p[n].revents = 0;
	}
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
		n = recv(c->fd, c->hdr + c->hdr_len, ROOST_API_HDR_LEN - c->hdr_len, MSG_DONTWAIT);
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
		{
			uint32_t h[3];

			memcpy(h, c->hdr, sizeof(h));
			if (ntohl(h[0]) != ROOST_API_MAGIC) {
				snprintf(why, sizeof(why), "not a roost agent message (magic 0x%08x)",
					 ntohl(h[0]));
			} else if (ntohl(h[1]) != ROOST_API_VERSION) {
				snprintf(why, sizeof(why),
					 "protocol version %u; this roostd speaks version %u",
					 ntohl(h[1]), ROOST_API_VERSION);
			} else if (ntohl(h[2]) < 2 || ntohl(h[2]) > ROOST_API_MAX_BODY) {
				snprintf(why, sizeof(why), "message length %u out of range 2..%u",
					 ntohl(h[2]), ROOST_API_MAX_BODY);
			} else {
				why[0] = '\0';
				c->body_len = ntohl(h[2]);
			}
			if (why[0]) {
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
	}
	n = recv(c->fd, c->body + c->got, c->body_len - c->got, MSG_DONTWAIT);
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
	serve_request(c, ctx);
	client_close(a, i);
	return true;
}

void api_handle(struct api *a, const struct pollfd *p, size_t n, const struct api_ctx *ctx)
{
	/* Match by fd: serving a client reorders the array. */
	for (size_t k = 0; k < n; k++) {
		if (!(p[k].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		for (size_t i = 0; i < a->n_clients; i++)
			if (a->clients[i].fd == p[k].fd) {
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
