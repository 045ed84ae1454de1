/* SPDX-License-Identifier: MIT */
/*
 * kubestore.c - the Kubernetes API as roostd's datastore (datastore.type =
 * "kubernetes"; see datastore.h for the API, kube.h for what is read).
 *
 * ds_kube_open() finds this node's Node object (node.name, else NODE_NAME),
 * waits until it has a podCIDR (the node IPAM controller assigns one), and
 * takes its InternalIP when node.address is not set. The worker then keeps
 * a view of every Node: a list, then a watch from the list's
 * resourceVersion with bookmarks; a watch that ends is opened again from
 * the last resourceVersion seen, a 410 Gone (the server no longer has that
 * history) lists again. Every Node with a podCIDR and an InternalIP, other
 * than this one, is a peer (a mesh neighbour owning its subnets), after the
 * same checks as a lease (ds_leases_filter). While the API server does not
 * answer nothing changes: the peers in force stay, roostctl status says
 * so, and a restarted roostd starts from the cached view.
 *
 * This node's NetworkUnavailable condition is set to False once BIRD runs,
 * as flannel and Calico do, so the scheduler places pods here.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "datastore-int.h"
#include "kube-client.h"
#include "log.h"
#include "rst-util.h"

#define KS_TIMEOUT_MS 5000
#define KS_BACKOFF_MAX_S 10
#define KS_WATCH_TIMEOUT_S 300

static int self_node(struct datastore *ds, struct kube_node *ret, char *err, size_t errlen)
{
	char path[320], why[256];
	json_t *o = NULL;
	long status;
	int r;

	snprintf(path, sizeof(path), "/api/v1/nodes/%s", ds->name);
	r = kube_get(ds->kcl, path, &status, &o);
	if (r < 0) {
		snprintf(err, errlen, "%s", kube_client_error(ds->kcl));
		return -EAGAIN;
	}
	if (status != 200) {
		snprintf(err, errlen, "Node %s: %s", ds->name,
			 status == 404 ? "not found (node.name or NODE_NAME must be the Node's name)"
				       : kube_client_error(ds->kcl));
		json_decref(o);
		return -EAGAIN;
	}
	r = kube_node_parse(o, ret, why, sizeof(why));
	json_decref(o);
	if (r < 0) {
		snprintf(err, errlen, "%s", why);
		return -EAGAIN;
	}
	if ((ds->v4 && !ret->len) || (ds->cluster_len6 && !ret->len6)) {
		snprintf(err, errlen, "Node %s has no %spodCIDR yet (the controller manager assigns one with --allocate-node-cidrs)",
			 ds->name, ds->v4 && ret->len ? "IPv6 " : !ds->v4 ? "IPv6 " : "");
		return -EAGAIN;
	}
	return 0;
}

/* The view as peers, published when it changed. */
static void view_publish(struct datastore *ds)
{
	struct ds_peer *p = calloc(ds->n_knodes + 1, sizeof(*p));
	size_t m = 0;

	if (!p)
		return;
	ds->n_bad_now = 0;
	for (size_t i = 0; i < ds->n_knodes; i++) {
		const struct kube_node *k = &ds->knodes[i];

		if (strcmp(k->node_name, ds->name) == 0) {
			/* Our own role follows our Node (a Node that does not
			 * parse is not in the view: the role in force stays). */
			ds_self_set(ds, k->reflector, k->cluster_id);
			continue;
		}
		if (ds->v4 ? (!k->len || !k->address.s_addr)
			   : (!k->len6 || IN6_IS_ADDR_UNSPECIFIED(&k->address6)))
			continue; /* not ready to be routed to yet */
		snprintf(p[m].name, sizeof(p[m].name), "%s", k->name);
		snprintf(p[m].key, sizeof(p[m].key), "%.31s", k->name);
		if (ds->v4) {
			p[m].address = k->address;
			p[m].net = k->net;
			p[m].len = k->len;
		}
		/* IPv6: its IPv6 podCIDR via its IPv6 InternalIP (a Node with
		 * neither yet is routed over IPv4 only) */
		if (ds->cluster_len6 && k->len6 && !IN6_IS_ADDR_UNSPECIFIED(&k->address6)) {
			p[m].address6 = k->address6;
			p[m].net6 = k->net6;
			p[m].len6 = k->len6;
		}
		p[m].asn = k->asn;
		p[m].reflector = k->reflector;
		p[m].cluster_id = k->cluster_id;
		p[m].roost = true;
		m++;
	}
	(void)ds_peers_set(ds, p, m);
}

static void view_put(struct datastore *ds, const struct kube_node *n)
{
	void *v;

	for (size_t i = 0; i < ds->n_knodes; i++)
		if (strcmp(ds->knodes[i].node_name, n->node_name) == 0) {
			ds->knodes[i] = *n;
			return;
		}
	v = realloc(ds->knodes, (ds->n_knodes + 1) * sizeof(*ds->knodes));
	if (!v)
		return;
	ds->knodes = v;
	ds->knodes[ds->n_knodes++] = *n;
}

static void view_del(struct datastore *ds, const char *name)
{
	for (size_t i = 0; i < ds->n_knodes; i++)
		if (strcmp(ds->knodes[i].node_name, name) == 0) {
			ds->knodes[i] = ds->knodes[--ds->n_knodes];
			return;
		}
}

/* A Node from the API server: into the view, or out of it when it does not
 * parse (reported once, by name). */
static void node_seen(struct datastore *ds, const json_t *o)
{
	struct kube_node n;
	char why[256];
	const char *name = json_string_value(json_object_get(json_object_get(o, "metadata"), "name"));

	if (kube_node_parse(o, &n, why, sizeof(why)) < 0) {
		ds_report_bad(ds, name ? name : "(no name)", why);
		if (name)
			view_del(ds, name);
		return;
	}
	view_put(ds, &n);
}

static int list_nodes(struct datastore *ds, char *err, size_t errlen)
{
	const json_t *items, *o;
	json_t *list = NULL;
	const char *rv;
	long status;
	size_t i;

	if (kube_get(ds->kcl, "/api/v1/nodes", &status, &list) < 0 || status != 200) {
		snprintf(err, errlen, "listing Nodes: %s", kube_client_error(ds->kcl));
		json_decref(list);
		return -EAGAIN;
	}
	items = json_object_get(list, "items");
	rv = json_string_value(json_object_get(json_object_get(list, "metadata"), "resourceVersion"));
	if (!json_is_array(items) || !rv || strlen(rv) >= sizeof(ds->kube_rv)) {
		snprintf(err, errlen, "listing Nodes: not a NodeList with a resourceVersion");
		json_decref(list);
		return -EPROTO;
	}
	ds->n_knodes = 0;
	ds->n_bad_now = 0;
	json_array_foreach(items, i, o)
		node_seen(ds, o);
	snprintf(ds->kube_rv, sizeof(ds->kube_rv), "%s", rv);
	json_decref(list);
	view_publish(ds);
	return 0;
}

/* NetworkUnavailable=False on our Node: this node routes its pod subnet. */
static void condition_set(struct datastore *ds)
{
	char path[320], now[32];
	time_t t = time(NULL);
	json_t *body, *reply = NULL;
	long status = 0;

	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	body = json_pack("{s:{s:[{s:s, s:s, s:s, s:s, s:s, s:s}]}}", "status", "conditions", "type",
			 "NetworkUnavailable", "status", "False", "reason", "RoostIsUp", "message",
			 "roost routes this node's pod subnet", "lastTransitionTime", now,
			 "lastHeartbeatTime", now);
	snprintf(path, sizeof(path), "/api/v1/nodes/%s/status", ds->name);
	if (body && kube_patch(ds->kcl, path, "application/strategic-merge-patch+json", body,
			       &status, &reply) == 0 &&
	    status == 200) {
		ds->cond_done = true;
		log_info("datastore: Node %s: condition NetworkUnavailable=False set", ds->name);
	} else {
		log_warn("datastore: Node %s: cannot set NetworkUnavailable=False: %s", ds->name,
			 kube_client_error(ds->kcl));
	}
	json_decref(body);
	json_decref(reply);
}

/* Reads the watch until timeout_ms passed or the stop pipe is readable:
 * 0 (go on), 1 stop, -EAGAIN list again (410), other -errno reopen. */
static int watch_read(struct datastore *ds, int timeout_ms, char *err, size_t errlen)
{
	int64_t deadline = rst_now_ms() + timeout_ms;
	bool changed = false;
	int r = 0;

	for (;;) {
		struct kube_event ev;
		const char *line, *name;
		char why[256];
		size_t len;
		json_t *root;
		int left = rst_ms_left(deadline);

		r = left ? kube_watch_next(ds->kw, ds->stop[0], left, &line, &len) : 0;
		if (r <= 0)
			break;
		if (kube_event_parse(line, len, &root, &ev, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "watch: %s", why);
			r = -EPROTO;
			break;
		}
		if (ev.type == KUBE_ERROR) {
			snprintf(err, errlen, "watch: %d %s", ev.code, ev.message);
			r = ev.code == 410 ? -EAGAIN : -EPROTO;
			json_decref(root);
			break;
		}
		snprintf(ds->kube_rv, sizeof(ds->kube_rv), "%s", ev.resource_version);
		name = json_string_value(json_object_get(json_object_get(ev.object, "metadata"), "name"));
		if (ev.type == KUBE_DELETED && name) {
			view_del(ds, name);
			changed = true;
		} else if (ev.type == KUBE_ADDED || ev.type == KUBE_MODIFIED) {
			node_seen(ds, ev.object);
			changed = true;
		}
		json_decref(root);
	}
	if (changed)
		view_publish(ds);
	if (r == 0) {
		struct pollfd pf = {.fd = ds->stop[0], .events = POLLIN};

		return poll(&pf, 1, 0) > 0 ? 1 : 0;
	}
	if (r == -EPIPE)
		return -EPIPE; /* ended (timeoutSeconds): open again */
	if (r == -EPROTO && kube_watch_status(ds->kw) == 410)
		r = -EAGAIN;
	if (r != -EAGAIN && !err[0])
		snprintf(err, errlen, "%s", kube_client_error(ds->kcl));
	return r;
}

void *ds_kube_worker(void *arg)
{
	struct datastore *ds = arg;
	unsigned backoff = 0;
	bool listed = ds->kube_rv[0] != '\0';
	char err[300];

	for (;;) {
		struct pollfd pf = {.fd = ds->stop[0], .events = POLLIN};
		char path[256];
		int r;

		if (backoff && poll(&pf, 1, (int)backoff * 1000) > 0)
			break;
		err[0] = '\0';
		if (!ds->cond_done)
			condition_set(ds);
		if (!listed) {
			r = list_nodes(ds, err, sizeof(err));
			if (r < 0)
				goto failed;
			listed = true;
		}
		snprintf(path, sizeof(path),
			 "/api/v1/nodes?watch=true&allowWatchBookmarks=true&resourceVersion=%s&timeoutSeconds=%d",
			 ds->kube_rv, KS_WATCH_TIMEOUT_S);
		if (kube_watch_open(ds->kcl, path, &ds->kw) < 0) {
			snprintf(err, sizeof(err), "watch: %s", kube_client_error(ds->kcl));
			goto failed;
		}
		do {
			r = watch_read(ds, 1000, err, sizeof(err));
			/* Up (and the backoff over) once the server answered. */
			if (r >= 0 && kube_watch_status(ds->kw) == 200) {
				ds_state_set(ds, true, NULL);
				backoff = 0;
			}
		} while (r == 0);
		kube_watch_close(ds->kw);
		ds->kw = NULL;
		if (r == 1)
			break;
		if (r == -EPIPE)
			continue;
		if (r == -EAGAIN) {
			log_info("datastore: %s: listing the Nodes again", err);
			listed = false;
			continue;
		}
	failed:
		ds_state_set(ds, false, err);
		backoff = backoff ? backoff * 2 : 1;
		if (backoff > KS_BACKOFF_MAX_S)
			backoff = KS_BACKOFF_MAX_S;
	}
	return NULL;
}

int ds_kube_open(struct datastore *ds, const struct roostd_conf *c, char *err, size_t errlen)
{
	struct kube_node self;
	unsigned backoff = 1;
	int r;

	ds->kube = true;
	ds->cluster = c->cluster_net;
	ds->cluster_len = c->cluster_len;
	ds->node_len = c->pod_len;
	ds->v4 = c->ds_cluster_given; /* an IPv6-only cluster: cluster.pod_cidr6 alone */
	ds->cluster6 = c->cluster_net6;
	ds->cluster_len6 = c->cluster_len6;
	ds->node_len6 = c->pod_len6;
	r = kube_conf_load(c->ds_kubeconfig, NULL, &ds->kc, err, errlen);
	if (r < 0)
		return r;
	r = kube_client_new(&ds->kc, KS_TIMEOUT_MS, &ds->kcl);
	if (r < 0) {
		snprintf(err, errlen, "%s", kube_client_error(NULL));
		return r;
	}
	for (;;) {
		char why[640];

		r = self_node(ds, &self, why, sizeof(why));
		if (r == 0 && ds->cluster_len6) {
			struct in6_addr m = self.net6;

			for (unsigned b = ds->cluster_len6; b < 128; b++)
				m.s6_addr[b / 8] &= (uint8_t) ~(0x80 >> (b % 8));
			if (self.len6 != ds->node_len6 || memcmp(&m, &ds->cluster6, sizeof(m)) != 0) {
				char net[INET6_ADDRSTRLEN];

				inet_ntop(AF_INET6, &self.net6, net, sizeof(net));
				snprintf(err, errlen,
					 "Node %s: IPv6 podCIDR %s/%u is not a /%u of cluster.pod_cidr6",
					 ds->name, net, self.len6, ds->node_len6);
				return -EINVAL;
			}
		}
		if (r == 0 && !ds->v4)
			break;
		if (r == 0) {
			if (self.len != ds->node_len ||
			    (ntohl(self.net.s_addr) & (ds->cluster_len ? 0xffffffffu << (32 - ds->cluster_len) : 0)) !=
				    ntohl(ds->cluster.s_addr)) {
				char net[INET_ADDRSTRLEN];

				inet_ntop(AF_INET, &self.net, net, sizeof(net));
				snprintf(err, errlen,
					 "Node %s: podCIDR %s/%u is not a /%u of cluster.pod_cidr",
					 ds->name, net, self.len, ds->node_len);
				return -EINVAL;
			}
			break;
		}
		if (ds_cache_read(ds) == 0) {
			log_warn("datastore: %s; starting from the last known state in '%s'", why,
				 ds->cache);
			snprintf(ds->last_error, sizeof(ds->last_error), "%.250s", why);
			ds->since = time(NULL);
			return 0;
		}
		log_warn("datastore: %s; retrying in %u s", why, backoff);
		{
			struct pollfd pf = {.fd = ds->stop[0], .events = POLLIN};

			if (poll(&pf, 1, (int)backoff * 1000) > 0)
				return -EINTR;
		}
		backoff = backoff < KS_BACKOFF_MAX_S ? backoff * 2 : KS_BACKOFF_MAX_S;
	}
	ds->net = self.net;
	ds->len = self.len;
	ds->net6 = self.net6;
	ds->len6 = self.len6;
	if (IN6_IS_ADDR_UNSPECIFIED(&ds->address6))
		ds->address6 = self.address6;
	if (ds->cluster_len6 && IN6_IS_ADDR_UNSPECIFIED(&ds->address6)) {
		snprintf(err, errlen, "Node %s has no IPv6 InternalIP and node.address6 is not set",
			 ds->name);
		return -EINVAL;
	}
	ds->asn = self.asn;
	ds->self_reflector = self.reflector; /* the worker is not running yet */
	ds->self_cluster_id = self.cluster_id;
	if (!ds->address.s_addr && ds->v4)
		ds->address = self.address;
	if (!ds->address.s_addr && ds->v4) {
		snprintf(err, errlen, "Node %s has no InternalIP and node.address is not set",
			 ds->name);
		return -EINVAL;
	}
	ds->up = true;
	ds->since = time(NULL);
	{
		char net[INET_ADDRSTRLEN], addr[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &self.net, net, sizeof(net));
		inet_ntop(AF_INET, &ds->address, addr, sizeof(addr));
		if (ds->v4)
			log_info("datastore: Node %s: podCIDR %s/%u, address %s", ds->name, net,
				 self.len, addr);
		if (ds->cluster_len6) {
			char net6[INET6_ADDRSTRLEN], addr6[INET6_ADDRSTRLEN];

			inet_ntop(AF_INET6, &self.net6, net6, sizeof(net6));
			inet_ntop(AF_INET6, &ds->address6, addr6, sizeof(addr6));
			log_info("datastore: Node %s: IPv6 podCIDR %s/%u, address6 %s", ds->name, net6,
				 self.len6, addr6);
		}
	}
	{
		char why[300] = "";

		if (list_nodes(ds, why, sizeof(why)) < 0)
			log_warn("datastore: %s", why);
	}
	return 0;
}

void ds_kube_free(struct datastore *ds)
{
	kube_watch_close(ds->kw);
	kube_client_free(ds->kcl);
	kube_conf_done(&ds->kc);
	free(ds->knodes);
}
