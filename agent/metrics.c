/* SPDX-License-Identifier: MIT */
/*
 * metrics.c - the Prometheus exposition of a node and the request counters
 * behind it (see metrics.h). Serving it is metrics-http.c's job, writing it
 * to a file metrics-textfile.c's.
 */
#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "datastore.h"
#include "netdev.h"
#include "status.h"

static const double bucket_le[METRICS_N_BUCKETS] = {0.001, 0.0025, 0.005, 0.01, 0.025,
						    0.05,  0.1,	   0.25,  1,	2.5};
static const char *const verb_names[MV_COUNT] = {"ADD", "DEL", "CHECK", "STATUS", "GC", "other"};

void metrics_init(struct metrics *m, struct datastore *ds)
{
	memset(m, 0, sizeof(*m));
	pthread_mutex_init(&m->mu, NULL);
	m->ds = ds;
}

void metrics_done(struct metrics *m)
{
	pthread_mutex_destroy(&m->mu);
}

void metrics_request(struct metrics *m, const char *verb, bool ok, double seconds)
{
	struct metrics_counters *c = &m->counters;
	int v = MV_OTHER;

	for (int i = 0; i < MV_OTHER; i++)
		if (verb && strcmp(verb, verb_names[i]) == 0)
			v = i;
	pthread_mutex_lock(&m->mu);
	c->requests[v][ok ? 0 : 1]++;
	for (int b = 0; b < METRICS_N_BUCKETS; b++)
		if (seconds <= bucket_le[b])
			c->buckets[v][b]++;
	c->observations[v]++;
	c->seconds[v] += seconds;
	pthread_mutex_unlock(&m->mu);
}

/* Label values: BIRD names and addresses only ever hold [A-Za-z0-9_.:-],
 * but escape what the format requires anyway. */
static void label(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void help(FILE *f, const char *name, const char *type, const char *text)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

static const char *sval(const json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : "";
}

/* BIRD and its sessions, from status_node()'s object. */
static void render_bird(FILE *f, const json_t *st, const struct share_node *n)
{
	static const char *const states[] = {"Established", "Idle",	"Connect",
					     "Active",	    "OpenSent", "OpenConfirm"};
	static const char *const dirs[] = {"imported", "exported", "filtered"};
	const json_t *sessions = json_object_get(st, "sessions"), *s;
	size_t i;

	help(f, "roost_bird_up", "gauge", "1 when BIRD answers on its control socket");
	fprintf(f, "roost_bird_up %d\n", json_is_true(json_object_get(json_object_get(st, "bird"),
								      "running")));
	help(f, "roost_bird_starts_total", "counter",
	     "BIRD processes started by this roostd (restarts after a death included)");
	fprintf(f, "roost_bird_starts_total %u\n", n->bird_starts);

	help(f, "roost_bgp_sessions", "gauge", "BGP sessions by state");
	for (size_t k = 0; k < ARRAY_SIZE(states); k++) {
		unsigned count = 0;

		json_array_foreach(sessions, i, s)
		{
			if (strcmp(sval(s, "state"), states[k]) == 0)
				count++;
		}
		fprintf(f, "roost_bgp_sessions{state=\"%s\"} %u\n", states[k], count);
	}
	help(f, "roost_bgp_session_up", "gauge", "1 when the session is Established");
	json_array_foreach(sessions, i, s)
	{
		fprintf(f, "roost_bgp_session_up{name=\"");
		label(f, sval(s, "name"));
		fprintf(f, "\",kind=\"%s\",address=\"", sval(s, "kind"));
		label(f, sval(s, "address"));
		fprintf(f, "\"} %d\n", strcmp(sval(s, "state"), "Established") == 0);
	}
	help(f, "roost_bgp_session_routes", "gauge",
	     "routes per session: imported, exported, and filtered by import policy");
	json_array_foreach(sessions, i, s)
	{
		for (size_t d = 0; d < ARRAY_SIZE(dirs); d++) {
			fprintf(f, "roost_bgp_session_routes{name=\"");
			label(f, sval(s, "name"));
			fprintf(f, "\",direction=\"%s\"} %lld\n", dirs[d],
				json_integer_value(json_object_get(s, dirs[d])));
		}
	}
	/* Per channel: a session over IPv4 carries ipv4 (its first channel's
	 * figures above), one with an ipv6 channel (dual-stack, or a session
	 * over IPv6) reports it as imported6 etc. */
	help(f, "roost_bgp_channel_routes", "gauge",
	     "routes per session and address family: imported, exported, and dropped by import policy");
	json_array_foreach(sessions, i, s)
	{
		static const char *const dirs6[] = {"imported6", "exported6", "filtered6"};
		bool v4 = !strchr(sval(s, "address"), ':') && sval(s, "address")[0];

		for (size_t d = 0; d < ARRAY_SIZE(dirs); d++) {
			if (v4) {
				fprintf(f, "roost_bgp_channel_routes{name=\"");
				label(f, sval(s, "name"));
				fprintf(f, "\",family=\"ipv4\",direction=\"%s\"} %lld\n", dirs[d],
					json_integer_value(json_object_get(s, dirs[d])));
			}
			if (json_object_get(s, dirs6[d])) {
				fprintf(f, "roost_bgp_channel_routes{name=\"");
				label(f, sval(s, "name"));
				fprintf(f, "\",family=\"ipv6\",direction=\"%s\"} %lld\n", dirs[d],
					json_integer_value(json_object_get(s, dirs6[d])));
			}
		}
	}
}

/* Per address family (label family="ipv4"|"ipv6", for the families the
 * node has): its pod subnet, the pool, and the routes BIRD installed in
 * the kernel (`proto bird`, counted through netlink here, on the caller's
 * thread). roost_pool_size and roost_pool_used stay as they were (the
 * IPv4 pool, the IPv6 one on an IPv6-only node). */
static void render_families(FILE *f, const struct roostd_conf *c, const struct share_node *n)
{
	bool has4 = !c->no_pods && !conf_v6_only(c), has6 = n->has_pool6;
	struct netdev *nd = NULL;
	int k4 = -1, k6 = -1;
	char a[INET6_ADDRSTRLEN];

	if (netdev_open(&nd) == 0) {
		k4 = netdev_route_count_proto(nd, RTPROT_BIRD);
		if (conf_has_v6(c))
			k6 = netdev_route6_count_proto(nd, RTPROT_BIRD);
		netdev_free(nd);
	}
	help(f, "roost_pod_subnet", "gauge",
	     "1 for the pod subnet of each family this node owns and announces");
	if (has4)
		fprintf(f, "roost_pod_subnet{family=\"ipv4\",subnet=\"%s/%u\"} 1\n",
			inet_ntop(AF_INET, &c->pod_net, a, sizeof(a)), c->pod_len);
	if (has6)
		fprintf(f, "roost_pod_subnet{family=\"ipv6\",subnet=\"%s/%u\"} 1\n",
			inet_ntop(AF_INET6, &c->pod_net6, a, sizeof(a)), c->pod_len6);
	help(f, "roost_ip_pool_size", "gauge",
	     "addresses the node's pod subnet of a family can hand out (a /64: 2^64 - 2)");
	if (has4 && c->address.s_addr)
		fprintf(f, "roost_ip_pool_size{family=\"ipv4\"} %zu\n", n->pool_size);
	if (has6)
		fprintf(f, "roost_ip_pool_size{family=\"ipv6\"} %llu\n",
			(unsigned long long)n->pool6_size);
	help(f, "roost_ip_pool_used", "gauge",
	     "addresses of a family handed out (held ones included)");
	if (has4 && c->address.s_addr)
		fprintf(f, "roost_ip_pool_used{family=\"ipv4\"} %zu\n", n->pool_used);
	if (has6)
		fprintf(f, "roost_ip_pool_used{family=\"ipv6\"} %zu\n", n->pool6_used);
	help(f, "roost_ip_pool_held", "gauge",
	     "released addresses of a family held until their pod's veth is gone");
	if (has4 && c->address.s_addr)
		fprintf(f, "roost_ip_pool_held{family=\"ipv4\"} %zu\n", n->pool_held);
	if (has6)
		fprintf(f, "roost_ip_pool_held{family=\"ipv6\"} %zu\n", n->pool6_held);
	help(f, "roost_kernel_routes", "gauge",
	     "routes BIRD installed in the kernel's main table (proto bird), by family");
	if (k4 >= 0 && !conf_v6_only(c))
		fprintf(f, "roost_kernel_routes{family=\"ipv4\"} %d\n", k4);
	if (k6 >= 0)
		fprintf(f, "roost_kernel_routes{family=\"ipv6\"} %d\n", k6);
}

/* The pool, reloads, the datastore and session transitions. */
static void render_node(FILE *f, const struct roostd_conf *c, const struct share_node *n,
			struct datastore *ds)
{
	help(f, "roost_pods", "gauge", "pod attachments holding an address");
	fprintf(f, "roost_pods %zu\n", n->pool_used);
	help(f, "roost_pool_size", "gauge", "addresses the node's pod subnet can hand out");
	fprintf(f, "roost_pool_size %zu\n", n->pool_size);
	help(f, "roost_pool_used", "gauge", "addresses handed out");
	fprintf(f, "roost_pool_used %zu\n", n->pool_used);

	render_families(f, c, n);

	help(f, "roost_reloads_total", "counter", "SIGHUP reloads by result");
	fprintf(f, "roost_reloads_total{result=\"ok\"} %lu\n", n->reloads_ok);
	fprintf(f, "roost_reloads_total{result=\"failed\"} %lu\n", n->reloads_failed);

	if (ds) {
		help(f, "roost_datastore_up", "gauge", "1 when the datastore (etcd, or the Kubernetes API server) answers");
		fprintf(f, "roost_datastore_up %d\n", ds_up(ds) ? 1 : 0);
		help(f, "roost_datastore_peers", "gauge",
		     "other nodes in the datastore: etcd leases (roost and flannel host-gw) or Nodes");
		fprintf(f, "roost_datastore_peers %zu\n", ds_n_peers(ds));
	}

	help(f, "roost_bgp_session_transitions_total", "counter",
	     "BGP sessions going up (to Established) and down (from it), seen since roostd started");
	fprintf(f, "roost_bgp_session_transitions_total{to=\"up\"} %lu\n", n->session_ups);
	fprintf(f, "roost_bgp_session_transitions_total{to=\"down\"} %lu\n", n->session_downs);

	help(f, "roost_route_conflicts", "gauge",
	     "pod subnets another node claims besides their owner (the claims are filtered)");
	fprintf(f, "roost_route_conflicts %zu\n", n->conflicts);
	help(f, "roost_route_conflicts_total", "counter",
	     "distinct conflicting claims (subnet, claimant) seen since roostd started");
	fprintf(f, "roost_route_conflicts_total %llu\n", n->conflicts_total);
}

static void render_requests(FILE *f, const struct metrics_counters *c)
{
	help(f, "roost_cni_requests_total", "counter", "agent socket requests by verb and result");
	for (int v = 0; v < MV_COUNT; v++) {
		fprintf(f, "roost_cni_requests_total{verb=\"%s\",result=\"ok\"} %lu\n",
			verb_names[v], c->requests[v][0]);
		fprintf(f, "roost_cni_requests_total{verb=\"%s\",result=\"error\"} %lu\n",
			verb_names[v], c->requests[v][1]);
	}
	help(f, "roost_cni_request_duration_seconds", "histogram",
	     "time roostd took to serve a request, by verb");
	for (int v = 0; v < MV_COUNT; v++) {
		for (int k = 0; k < METRICS_N_BUCKETS; k++)
			fprintf(f, "roost_cni_request_duration_seconds_bucket{verb=\"%s\",le=\"%g\"} %lu\n",
				verb_names[v], bucket_le[k], c->buckets[v][k]);
		fprintf(f, "roost_cni_request_duration_seconds_bucket{verb=\"%s\",le=\"+Inf\"} %lu\n",
			verb_names[v], c->observations[v]);
		fprintf(f, "roost_cni_request_duration_seconds_sum{verb=\"%s\"} %.6f\n",
			verb_names[v], c->seconds[v]);
		fprintf(f, "roost_cni_request_duration_seconds_count{verb=\"%s\"} %lu\n",
			verb_names[v], c->observations[v]);
	}
}

char *metrics_render(struct metrics *m, const struct roostd_conf *c, const struct share_node *n)
{
	struct bird b = {.pid = n->bird_pid, .pidfd = -1};
	struct metrics_counters counters;
	char *buf = NULL;
	size_t len = 0;
	json_t *st;
	FILE *f;

	/* BIRD first (it may take a while), then the counters as of now. */
	st = status_node(c, &b, NULL);
	pthread_mutex_lock(&m->mu);
	counters = m->counters;
	pthread_mutex_unlock(&m->mu);
	f = open_memstream(&buf, &len);
	if (!f) {
		json_decref(st);
		return NULL;
	}
	render_bird(f, st, n);
	render_node(f, c, n, m->ds);
	render_requests(f, &counters);
	json_decref(st);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
