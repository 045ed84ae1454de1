/* SPDX-License-Identifier: MIT */
/*
 * status.c - node status and route audit for roostctl (see status.h).
 *
 * Everything is read fresh on each request: BIRD's control socket
 * (`show status`, `show protocols all`, `show bfd sessions`, `show route
 * all`) and the kernel's main table through netlink. Nothing is cached, so
 * what roostctl prints is what BIRD and the kernel say at that moment.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bc-ctl.h"
#include "egress.h"
#include "log.h"
#include "netdev.h"
#include "owners.h"
#include "sessions.h"
#include "status.h"

#define STATUS_BIRD_TIMEOUT_MS 2000

static const char *session_kind(const char *name)
{
	if (strncmp(name, "node_", 5) == 0)
		return "mesh";
	if (strncmp(name, "rr_", 3) == 0)
		return "reflector";
	if (strncmp(name, "client_", 7) == 0 || strncmp(name, "client", 6) == 0)
		return "client";
	if (strncmp(name, "peer_", 5) == 0)
		return "peer";
	return "other";
}

/* `show bfd sessions` rows: "172.31.0.12  eth0  Up  12:00:01.000  0.100  0.300". */
static const char *bfd_state(const struct bc_reply *bfd, const char *addr, char *buf, size_t len)
{
	if (!bfd || !addr[0])
		return "-";
	for (size_t i = 0; i < bfd->n_lines; i++) {
		char ip[64], ifname[32], state[32];

		if (bfd->lines[i].code != 1020 ||
		    sscanf(bfd->lines[i].text, " %63s %31s %31s", ip, ifname, state) != 3)
			continue;
		if (strcmp(ip, addr) == 0) {
			snprintf(buf, len, "%s", state);
			return buf;
		}
	}
	return "-";
}

/* The first word of BIRD's Info column ("Established", "Active", ...). */
static void first_word(const char *s, char *out, size_t len)
{
	size_t n = strcspn(s, " \t");

	if (n >= len)
		n = len - 1;
	memcpy(out, s, n);
	out[n] = '\0';
}

static json_t *session_json(const struct bc_protocol *p, const struct bc_reply *bfd, bool expected)
{
	char state[32], bfdbuf[32];
	json_t *o;

	first_word(p->info, state, sizeof(state));
	if (!state[0])
		snprintf(state, sizeof(state), "%s", p->state);
	o = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:b}", "name",
			 p->name, "kind", session_kind(p->name), "address", p->neighbor, "asn",
			 (json_int_t)p->neighbor_as, "state", state, "since", p->since, "bfd",
			 bfd_state(bfd, p->neighbor, bfdbuf, sizeof(bfdbuf)), "imported",
			 (json_int_t)p->routes_imported, "exported", (json_int_t)p->routes_exported,
			 "filtered", (json_int_t)(p->import_filtered + p->import_rejected),
			 "last_error", p->last_error, "expected", expected);
	/* A session with an ipv6 channel: its figures too (imported etc. are
	 * the first channel's, IPv4 on a dual-stack session). */
	if (o && p->has_v6) {
		json_object_set_new(o, "imported6", json_integer(p->v6_imported));
		json_object_set_new(o, "exported6", json_integer(p->v6_exported));
		json_object_set_new(o, "filtered6", json_integer(p->v6_dropped));
	}
	return o;
}

/* Egress masquerade: what the configuration asks, and what the kernel has,
 * for table ip roost; the same for table ip6 roost in *ret6 on a node with
 * an IPv6 pod subnet (else *ret6 is NULL). */
static json_t *status_egress(const struct roostd_conf *c, json_t **ret6)
{
	struct egress_state st;
	bool want = c->masquerade && !c->no_pods && !conf_v6_only(c);
	bool want6 = c->masquerade && conf_has_v6(c) && !IN6_IS_ADDR_UNSPECIFIED(&c->pod_net6);

	(void)egress_state_get(&st);
	*ret6 = NULL;
	if (conf_has_v6(c))
		*ret6 = json_pack("{s:b, s:s, s:b, s:I, s:I, s:s, s:b}", "masquerade", want6,
				  "table", "ip6 " EGRESS_TABLE, "present", st.present6,
				  "masqueraded", (json_int_t)st.masqueraded6, "no_masquerade",
				  (json_int_t)c->n_no_masquerade6, "error", st.error, "ok",
				  !st.error[0] && st.present6 == want6);
	return json_pack("{s:b, s:s, s:b, s:I, s:s, s:b}", "masquerade", want, "table",
			 "ip " EGRESS_TABLE, "present", st.present, "masqueraded",
			 (json_int_t)st.masqueraded, "error", st.error, "ok",
			 !st.error[0] && st.present == want);
}

static void cidr6(const struct in6_addr *a, unsigned len, char *buf, size_t n)
{
	char t[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET6, a, t, sizeof(t));
	snprintf(buf, n, "%s/%u", t, len);
}

/* Who owns the IPv6 subnet prefix, as owners.c decides: the mesh neighbour
 * (or lease) whose pod_cidr6 it is, else the first announcer roostd
 * learned, marked so (into buf); "" when nobody is known. */
static const char *owner6(const struct roostd_conf *c, const struct bc_owner6 *learned,
			  size_t n_learned, const char *prefix, char *buf, size_t len)
{
	char who[BC_NAME_MAX + 1 > INET6_ADDRSTRLEN ? BC_NAME_MAX + 1 : INET6_ADDRSTRLEN];

	if (owners_owner6(c, NULL, 0, prefix, buf, len))
		return buf;
	if (owners_owner6(c, learned, n_learned, prefix, who, sizeof(who))) {
		snprintf(buf, len, "%s (first announcer)", who);
		return buf;
	}
	return "";
}

static bool is_v6_route(const struct bc_route *r)
{
	return strcmp(r->table, "master6") == 0 || strchr(r->prefix, ':') != NULL;
}

/* Dual-stack: the node's IPv6 side and the IPv6 subnets BIRD learned (best
 * BGP routes of master6), each with its next hop, session and owner (see
 * owner6). */
static json_t *status_node6(const struct roostd_conf *c, struct bc_ctl *ctl)
{
	_cleanup_free_ struct bc_route *routes = NULL;
	_cleanup_free_ struct bc_owner6 *learned = NULL;
	size_t n = 0, n_learned = 0;
	char ob[BC_NAME_MAX + 32];
	json_t *list = json_array();
	char a[INET6_ADDRSTRLEN], gw[INET6_ADDRSTRLEN], pod[64] = "none",
		cl[64];

	if (ctl && bc_ctl_show_route(ctl, "table master6 all", &routes, &n) < 0)
		n = 0;
	if (owners_load6(c, &learned, &n_learned) < 0)
		n_learned = 0;
	for (size_t i = 0; i < n; i++) {
		const struct bc_route *r = &routes[i];

		if (!r->best || strncmp(r->route_type, "BGP", 3) != 0 || !is_v6_route(r))
			continue;
		json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s}", "prefix", r->prefix,
						      "via", r->via, "session", r->proto, "owner",
						      owner6(c, learned, n_learned, r->prefix, ob,
							     sizeof(ob))));
	}
	inet_ntop(AF_INET6, &c->address6, a, sizeof(a));
	inet_ntop(AF_INET6, &c->gateway6, gw, sizeof(gw));
	if (!IN6_IS_ADDR_UNSPECIFIED(&c->pod_net6))
		cidr6(&c->pod_net6, c->pod_len6, pod, sizeof(pod));
	else
		gw[0] = '\0';
	cidr6(&c->cluster_net6, c->cluster_len6, cl, sizeof(cl));
	if (IN6_IS_ADDR_UNSPECIFIED(&c->address6))
		a[0] = '\0';
	return json_pack("{s:s, s:s, s:s, s:s, s:o}", "address6", a, "pod_cidr6", pod, "gateway6",
			 gw, "cluster_cidr6", cl, "routes6", list);
}

json_t *status_node(const struct roostd_conf *c, const struct bird *b, const struct ipam *ipam)
{
	struct bc_ctl *ctl = NULL;
	struct bc_protocol *protos = NULL;
	struct bc_reply bfd = {0};
	struct bc_status st = {0};
	size_t n_protos = 0, n_bgp = 0, n_exporting = 0, i, j;
	bool answers, healthy;
	json_t *sessions = json_array(), *out, *eg6 = NULL;
	char pod[40], cl[40], addr[INET6_ADDRSTRLEN], why[160] = "";

	answers = bc_ctl_open(c->bird_socket, STATUS_BIRD_TIMEOUT_MS, &ctl) == 0 &&
		  bc_ctl_show_status(ctl, &st) == 0 &&
		  bc_ctl_show_protocols(ctl, true, &protos, &n_protos) == 0;
	if (answers && bc_ctl_cmd(ctl, "show bfd sessions", &bfd) < 0)
		memset(&bfd, 0, sizeof(bfd));
	healthy = answers && st.running;

	/* Every configured neighbour is expected, whether BIRD knows it or not. */
	for (i = 0; i < c->n_mesh; i++) {
		char sym[64];
		bool found = false;

		bc_symbol(sym, sizeof(sym), "node_", c->mesh[i].name);
		for (j = 0; j < n_protos; j++)
			if (strcmp(protos[j].name, sym) == 0)
				found = true;
		if (!found) {
			snprintf(addr, sizeof(addr), "-");
			session_addr(c, c->mesh[i].address, &c->mesh[i].address6, addr, sizeof(addr));
			json_array_append_new(
				sessions,
				json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:b}",
					  "name", sym, "kind", "mesh", "address", addr, "asn",
					  (json_int_t)c->asn, "state", answers ? "Missing" : "Unknown",
					  "since", "", "bfd", "-", "imported", (json_int_t)0,
					  "exported", (json_int_t)0, "filtered", (json_int_t)0,
					  "last_error",
					  answers ? "not in BIRD's configuration" : "BIRD does not answer",
					  "expected", 1));
			healthy = false;
			n_bgp++;
		}
	}
	for (j = 0; j < n_protos; j++) {
		const struct bc_protocol *p = &protos[j];
		/* A dynamic listener (neighbor range) is not a session. */
		bool listener = strchr(p->neighbor, '/') != NULL;

		if (strcmp(p->proto, "BGP") != 0 || listener)
			continue;
		json_array_append_new(sessions, session_json(p, bfd.n_lines ? &bfd : NULL, true));
		n_bgp++;
		if (strncmp(p->info, "Established", 11) != 0)
			healthy = false;
		else if (p->routes_exported > 0)
			n_exporting++;
	}

	/* Ready: this node routes. BIRD runs and, when the node has a pod
	 * subnet and BGP sessions, at least one Established session carries
	 * what the node exports; one dead neighbour does not make it unready
	 * (healthy says that). */
	if (!answers)
		snprintf(why, sizeof(why), "BIRD does not answer on '%s'", c->bird_socket);
	else if (!st.running)
		snprintf(why, sizeof(why), "BIRD is not up and running yet");
	else if (!c->no_pods && n_bgp > 0 && n_exporting == 0)
		snprintf(why, sizeof(why),
			 "none of the %zu BGP session(s) is Established and exporting this node's pod subnet",
			 n_bgp);

	inet_ntop(AF_INET, &c->address, addr, sizeof(addr));
	if (c->no_pods || conf_v6_only(c))
		snprintf(pod, sizeof(pod), "none");
	else
		snprintf(pod, sizeof(pod), "%s/%u", inet_ntoa(c->pod_net), c->pod_len);
	snprintf(cl, sizeof(cl), "%s/%u", inet_ntoa(c->cluster_net), c->cluster_len);
	if (conf_v6_only(c))
		addr[0] = cl[0] = '\0';
	out = json_pack(
		"{s:{s:s, s:s, s:s, s:s, s:I}, s:{s:I, s:I}, s:{s:s, s:s},"
		" s:{s:b, s:I, s:s, s:s, s:s, s:s, s:b, s:s}, s:o, s:b, s:b, s:s}",
		"node", "name", c->name, "address", addr, "pod_cidr", pod, "cluster_cidr", cl, "asn",
		(json_int_t)c->asn, "pool", "size", (json_int_t)ipam_size(ipam), "used",
		(json_int_t)ipam_used(ipam), "config", "path", c->path, "sha256", c->hash, "bird",
		"running", answers && st.running, "pid", (json_int_t)(b ? b->pid : 0), "version",
		st.version, "router_id", st.router_id, "started", st.last_reboot, "reconfigured",
		st.last_reconfiguration, "recovering", st.gr_recovery, "socket", c->bird_socket,
		"sessions", sessions, "healthy", healthy, "ready", why[0] == '\0', "ready_reason",
		why[0] ? why : "BIRD runs and this node's pod subnet is exported");
	json_object_set_new(out, "egress", status_egress(c, &eg6));
	if (eg6)
		json_object_set_new(out, "egress6", eg6);
	if (conf_has_v6(c)) {
		/* Dual-stack (or IPv6-only): the IPv6 side next to the IPv4 one. */
		json_t *n6 = status_node6(c, answers ? ctl : NULL);

		json_object_update(json_object_get(out, "node"), n6);
		json_object_set(out, "routes6", json_object_get(n6, "routes6"));
		json_object_del(json_object_get(out, "node"), "routes6");
		json_decref(n6);
	}
	json_object_set_new(out, "announced", svc_status_json(c));
	bc_reply_done(&bfd);
	free(protos);
	bc_ctl_free(ctl);
	return out;
}

/* ---- audit ---------------------------------------------------------------------- */

static void drift(json_t *list, const char *kind, const char *prefix, const char *bird_via,
		  const char *kernel_via, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void drift(json_t *list, const char *kind, const char *prefix, const char *bird_via,
		  const char *kernel_via, const char *fmt, ...)
{
	char detail[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s, s:s}", "kind", kind, "prefix",
					      prefix, "bird_via", bird_via, "kernel_via",
					      kernel_via, "detail", detail));
}

/* Routes roost's BIRD puts into the kernel: BGP ones, and the static routes
 * to nodes still on flannel host-gw. */
static bool is_bgp(const struct bc_route *r)
{
	return strncmp(r->route_type, "BGP", 3) == 0 || strcmp(r->proto, "flannel_hostgw") == 0;
}

/* Claims on owned subnets that BIRD filtered (two nodes, one subnet). */
static int audit_conflicts(const struct roostd_conf *c, struct bc_ctl *ctl, json_t *list)
{
	_cleanup_free_ struct bc_owner *learned = NULL;
	_cleanup_free_ struct bc_owner6 *learned6 = NULL;
	_cleanup_free_ struct bc_route *filt = NULL;
	_cleanup_free_ struct owners_conflict *v = NULL;
	_cleanup_free_ struct owners_conflict *v6 = NULL;
	size_t n_learned = 0, n_learned6 = 0, n_filt = 0;
	char q[256];
	long n, n6 = 0;
	int r;

	if (!c->cluster_len && !conf_has_v6(c))
		return 0;
	owners_query(c, true, q, sizeof(q));
	if ((r = bc_ctl_show_route(ctl, q, &filt, &n_filt)) < 0)
		return r;
	if ((r = owners_load(c, &learned, &n_learned)) < 0 ||
	    (r = owners_load6(c, &learned6, &n_learned6)) < 0)
		return r;
	n = owners_conflicts(c, learned, n_learned, filt, n_filt, &v);
	if (n < 0)
		return (int)n;
	if (conf_has_v6(c) &&
	    (n6 = owners_conflicts6(c, learned6, n_learned6, filt, n_filt, &v6)) < 0)
		return (int)n6;
	for (long i = 0; i < n + n6; i++) {
		const struct owners_conflict *x = i < n ? &v[i] : &v6[i - n];

		drift(list, "conflict", x->subnet, "", "",
		      "owned by %s, also claimed by %s (session %s): the claim is filtered",
		      x->owner, x->claimant, x->session);
	}
	return 0;
}

/* A kernel route as text, either family. */
struct kroute {
	char prefix[64];
	char via[INET6_ADDRSTRLEN]; /* "" when none */
	unsigned metric;
};

/* The kernel's `proto bird` routes: IPv4, and IPv6 when with6. */
static int kernel_routes(bool with6, struct kroute **ret, size_t *ret_n)
{
	_cleanup_free_ struct netdev_route *kr = NULL;
	_cleanup_free_ struct netdev_route6 *kr6 = NULL;
	struct netdev *nd = NULL;
	struct kroute *out;
	size_t n = 0, n6 = 0, i;
	int r;

	r = netdev_open(&nd);
	if (r == 0)
		r = netdev_route_list(nd, RTPROT_BIRD, &kr, &n);
	if (r == 0 && with6)
		r = netdev_route6_list(nd, RTPROT_BIRD, &kr6, &n6);
	netdev_free(nd);
	if (r < 0)
		return r;
	out = calloc(n + n6 + 1, sizeof(*out));
	if (!out)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		snprintf(out[i].prefix, sizeof(out[i].prefix), "%s/%u", inet_ntoa(kr[i].dst),
			 kr[i].plen);
		if (kr[i].gw.s_addr)
			inet_ntop(AF_INET, &kr[i].gw, out[i].via, sizeof(out[i].via));
		out[i].metric = kr[i].metric;
	}
	for (i = 0; i < n6; i++) {
		struct kroute *k = &out[n + i];

		cidr6(&kr6[i].dst, kr6[i].plen, k->prefix, sizeof(k->prefix));
		if (!IN6_IS_ADDR_UNSPECIFIED(&kr6[i].gw))
			inet_ntop(AF_INET6, &kr6[i].gw, k->via, sizeof(k->via));
		k->metric = kr6[i].metric;
	}
	*ret = out;
	*ret_n = n + n6;
	return 0;
}

/* BIRD's routes: `show route all`, and on a node with IPv6 those of
 * master6 asked for by name (whatever the default tables are). */
static int bird_routes(const struct roostd_conf *c, struct bc_ctl *ctl, struct bc_route **ret,
		       size_t *ret_n)
{
	_cleanup_free_ struct bc_route *r6 = NULL;
	struct bc_route *all = NULL, *grown;
	size_t n = 0, n6 = 0, i, k = 0;
	int r;

	r = bc_ctl_show_route(ctl, "all", &all, &n);
	if (r < 0 || !conf_has_v6(c)) {
		*ret = all;
		*ret_n = r < 0 ? 0 : n;
		return r;
	}
	r = bc_ctl_show_route(ctl, "table master6 all", &r6, &n6);
	if (r < 0) {
		free(all);
		return r;
	}
	for (i = 0; i < n; i++)
		if (!is_v6_route(&all[i]))
			all[k++] = all[i];
	grown = realloc(all, (k + n6 + 1) * sizeof(*all));
	if (!grown) {
		free(all);
		return -ENOMEM;
	}
	if (n6)
		memcpy(grown + k, r6, n6 * sizeof(*r6));
	*ret = grown;
	*ret_n = k + n6;
	return 0;
}

json_t *status_audit(const struct roostd_conf *c, char *reterr, size_t errlen)
{
	struct bc_ctl *ctl = NULL;
	struct bc_route *routes = NULL;
	struct bc_protocol *protos = NULL;
	struct kroute *kr = NULL;
	size_t n_routes = 0, n_protos = 0, n_kr = 0, i, j, checked = 0;
	bool *matched = NULL;
	json_t *list, *out = NULL;
	int r;

	r = bc_ctl_open(c->bird_socket, STATUS_BIRD_TIMEOUT_MS, &ctl);
	if (r == 0)
		r = bird_routes(c, ctl, &routes, &n_routes);
	if (r == 0)
		r = bc_ctl_show_protocols(ctl, true, &protos, &n_protos);
	if (r < 0) {
		snprintf(reterr, errlen, "BIRD on '%s' does not answer: %s", c->bird_socket,
			 strerror(-r));
		goto done;
	}
	r = kernel_routes(conf_has_v6(c), &kr, &n_kr);
	if (r < 0) {
		snprintf(reterr, errlen, "cannot read the kernel's routes: %s", strerror(-r));
		goto done;
	}
	matched = calloc(n_kr + 1, sizeof(*matched));
	list = json_array();
	if (!matched || !list) {
		json_decref(list);
		snprintf(reterr, errlen, "out of memory");
		goto done;
	}

	/* Every best BGP route must be in the kernel, via the same next hop. */
	for (i = 0; i < n_routes; i++) {
		const struct bc_route *br = &routes[i];
		const char *kvia = "";
		bool found = false;

		if (!br->best || !is_bgp(br))
			continue;
		checked++;
		if (strcmp(br->type, "unicast") != 0)
			drift(list, "unreachable", br->prefix, br->via, "",
			      "BIRD holds it as '%s' from %s: its next hop cannot be used", br->type,
			      br->proto);
		if (br->sync_error)
			drift(list, "sync_error", br->prefix, br->via, "",
			      "the kernel refused BIRD's route from %s ('!' in show route)",
			      br->proto);
		for (j = 0; j < n_kr; j++) {
			if (strcmp(kr[j].prefix, br->prefix) != 0)
				continue;
			found = true;
			matched[j] = true;
			kvia = kr[j].via;
			break;
		}
		if (!found && strcmp(br->type, "unicast") == 0)
			drift(list, "missing", br->prefix, br->via, "",
			      "BIRD has it from %s, the kernel does not", br->proto);
		else if (found && strcmp(br->via, kvia) != 0)
			drift(list, "nexthop", br->prefix, br->via, kvia,
			      "BIRD says via %s, the kernel via %s", br->via[0] ? br->via : "-",
			      kvia[0] ? kvia : "-");
	}
	/* Every proto bird route must be one of BIRD's. */
	for (j = 0; j < n_kr; j++) {
		if (matched[j])
			continue;
		checked++;
		drift(list, "extra", kr[j].prefix, "", kr[j].via,
		      "in the kernel as proto bird (metric %u), but not among BIRD's routes",
		      kr[j].metric);
	}
	/* Every configured node must announce its subnet, of each family it
	 * has (IPv6: when this node and the neighbour have IPv6). */
	for (i = 0; i < c->n_mesh; i++) {
		const struct bc_peer *m = &c->mesh[i];
		char sym[64], addr[INET6_ADDRSTRLEN], state[32] = "missing";
		bool any4 = false, any6 = false;
		bool need6 = conf_has_v6(c) &&
			     (m->pod_len6 || !IN6_IS_ADDR_UNSPECIFIED(&m->address6));
		bool need4 = !conf_v6_only(c) && m->address.s_addr;

		bc_symbol(sym, sizeof(sym), "node_", m->name);
		if (m->address.s_addr)
			inet_ntop(AF_INET, &m->address, addr, sizeof(addr));
		else
			inet_ntop(AF_INET6, &m->address6, addr, sizeof(addr));
		for (j = 0; j < n_routes; j++) {
			if (!routes[j].best || strcmp(routes[j].proto, sym) != 0)
				continue;
			if (is_v6_route(&routes[j]))
				any6 = true;
			else
				any4 = true;
		}
		for (j = 0; j < n_protos; j++)
			if (strcmp(protos[j].name, sym) == 0)
				first_word(protos[j].info[0] ? protos[j].info : protos[j].state, state,
					   sizeof(state));
		/* An IPv4-only node as before: any route from the neighbour. */
		if (!conf_has_v6(c) && !any4 && !any6)
			drift(list, "missing", "", "", "",
			      "node '%s' (%s) announces no pod subnet to this node (session %s)",
			      m->name, addr, state);
		if (conf_has_v6(c) && need4 && !any4)
			drift(list, "missing", "", "", "",
			      "node '%s' (%s) announces no IPv4 pod subnet to this node (session %s)",
			      m->name, addr, state);
		if (need6 && !any6)
			drift(list, "missing", "", "", "",
			      "node '%s' (%s) announces no IPv6 pod subnet to this node (session %s)",
			      m->name, addr, state);
	}
	if ((r = audit_conflicts(c, ctl, list)) < 0) {
		json_decref(list);
		snprintf(reterr, errlen, "BIRD on '%s' does not list the filtered routes: %s",
			 c->bird_socket, strerror(-r));
		goto done;
	}
	/* Routes an import policy dropped (of the second channel too: IPv6 on
	 * a dual-stack session). */
	for (j = 0; j < n_protos; j++) {
		unsigned dropped = protos[j].import_filtered + protos[j].import_rejected;

		if (strcmp(protos[j].proto, "BGP") != 0)
			continue;
		if (dropped)
			drift(list, "filtered", "", "", "",
			      "%s (%s) sent %u route(s) that the import policy dropped",
			      protos[j].name, protos[j].neighbor, dropped);
		if (protos[j].has_v6 && !protos[j].v6_first && protos[j].v6_dropped)
			drift(list, "filtered", "", "", "",
			      "%s (%s) sent %u IPv6 route(s) that the import policy dropped",
			      protos[j].name, protos[j].neighbor, protos[j].v6_dropped);
	}
	out = json_pack("{s:I, s:o}", "checked", (json_int_t)checked, "drift", list);
done:
	free(matched);
	free(kr);
	free(protos);
	free(routes);
	bc_ctl_free(ctl);
	return out;
}
