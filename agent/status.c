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

	first_word(p->info, state, sizeof(state));
	if (!state[0])
		snprintf(state, sizeof(state), "%s", p->state);
	return json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:b}", "name",
			 p->name, "kind", session_kind(p->name), "address", p->neighbor, "asn",
			 (json_int_t)p->neighbor_as, "state", state, "since", p->since, "bfd",
			 bfd_state(bfd, p->neighbor, bfdbuf, sizeof(bfdbuf)), "imported",
			 (json_int_t)p->routes_imported, "exported", (json_int_t)p->routes_exported,
			 "filtered", (json_int_t)(p->import_filtered + p->import_rejected),
			 "last_error", p->last_error, "expected", expected);
}

/* Egress masquerade: what the configuration asks, and what the kernel has. */
static json_t *status_egress(const struct roostd_conf *c)
{
	struct egress_state st;
	bool want = c->masquerade && !c->no_pods && !conf_v6_only(c);

	(void)egress_state_get(&st);
	return json_pack("{s:b, s:s, s:b, s:I, s:s, s:b}", "masquerade", want, "table",
			 "ip " EGRESS_TABLE, "present", st.present, "masqueraded",
			 (json_int_t)st.masqueraded, "error", st.error, "ok",
			 !st.error[0] && st.present == want);
}

json_t *status_node(const struct roostd_conf *c, const struct bird *b, const struct ipam *ipam)
{
	struct bc_ctl *ctl = NULL;
	struct bc_protocol *protos = NULL;
	struct bc_reply bfd = {0};
	struct bc_status st = {0};
	size_t n_protos = 0, n_bgp = 0, n_exporting = 0, i, j;
	bool answers, healthy;
	json_t *sessions = json_array(), *out;
	char pod[40], cl[40], addr[INET_ADDRSTRLEN], why[160] = "";

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
			inet_ntop(AF_INET, &c->mesh[i].address, addr, sizeof(addr));
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
	if (c->no_pods)
		snprintf(pod, sizeof(pod), "none");
	else
		snprintf(pod, sizeof(pod), "%s/%u", inet_ntoa(c->pod_net), c->pod_len);
	snprintf(cl, sizeof(cl), "%s/%u", inet_ntoa(c->cluster_net), c->cluster_len);
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
	json_object_set_new(out, "egress", status_egress(c));
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

json_t *status_audit(const struct roostd_conf *c, char *reterr, size_t errlen)
{
	struct bc_ctl *ctl = NULL;
	struct bc_route *routes = NULL;
	struct bc_protocol *protos = NULL;
	struct netdev_route *kr = NULL;
	struct netdev *nd = NULL;
	size_t n_routes = 0, n_protos = 0, n_kr = 0, i, j, checked = 0;
	bool *matched = NULL;
	json_t *list, *out = NULL;
	int r;

	r = bc_ctl_open(c->bird_socket, STATUS_BIRD_TIMEOUT_MS, &ctl);
	if (r == 0)
		r = bc_ctl_show_route(ctl, "all", &routes, &n_routes);
	if (r == 0)
		r = bc_ctl_show_protocols(ctl, true, &protos, &n_protos);
	if (r < 0) {
		snprintf(reterr, errlen, "BIRD on '%s' does not answer: %s", c->bird_socket,
			 strerror(-r));
		goto done;
	}
	r = netdev_open(&nd);
	if (r == 0)
		r = netdev_route_list(nd, RTPROT_BIRD, &kr, &n_kr);
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
		char kvia[INET_ADDRSTRLEN] = "";
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
			char p[64];

			snprintf(p, sizeof(p), "%s/%u", inet_ntoa(kr[j].dst), kr[j].plen);
			if (strcmp(p, br->prefix) != 0)
				continue;
			found = true;
			matched[j] = true;
			if (kr[j].gw.s_addr)
				inet_ntop(AF_INET, &kr[j].gw, kvia, sizeof(kvia));
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
		char p[64], kvia[INET_ADDRSTRLEN] = "";

		if (matched[j])
			continue;
		checked++;
		snprintf(p, sizeof(p), "%s/%u", inet_ntoa(kr[j].dst), kr[j].plen);
		if (kr[j].gw.s_addr)
			inet_ntop(AF_INET, &kr[j].gw, kvia, sizeof(kvia));
		drift(list, "extra", p, "", kvia,
		      "in the kernel as proto bird (metric %u), but not among BIRD's routes",
		      kr[j].metric);
	}
	/* Every configured node must announce its subnet. */
	for (i = 0; i < c->n_mesh; i++) {
		char sym[64], addr[INET_ADDRSTRLEN], state[32] = "missing";
		bool any = false;

		bc_symbol(sym, sizeof(sym), "node_", c->mesh[i].name);
		inet_ntop(AF_INET, &c->mesh[i].address, addr, sizeof(addr));
		for (j = 0; j < n_routes; j++)
			if (routes[j].best && strcmp(routes[j].proto, sym) == 0)
				any = true;
		for (j = 0; j < n_protos; j++)
			if (strcmp(protos[j].name, sym) == 0)
				first_word(protos[j].info[0] ? protos[j].info : protos[j].state, state,
					   sizeof(state));
		if (!any)
			drift(list, "missing", "", "", "",
			      "node '%s' (%s) announces no pod subnet to this node (session %s)",
			      c->mesh[i].name, addr, state);
	}
	if ((r = audit_conflicts(c, ctl, list)) < 0) {
		json_decref(list);
		snprintf(reterr, errlen, "BIRD on '%s' does not list the filtered routes: %s",
			 c->bird_socket, strerror(-r));
		goto done;
	}
	/* Routes an import policy dropped. */
	for (j = 0; j < n_protos; j++) {
		unsigned dropped = protos[j].import_filtered + protos[j].import_rejected;

		if (strcmp(protos[j].proto, "BGP") != 0 || !dropped)
			continue;
		drift(list, "filtered", "", "", "",
		      "%s (%s) sent %u route(s) that the import policy dropped", protos[j].name,
		      protos[j].neighbor, dropped);
	}
	out = json_pack("{s:I, s:o}", "checked", (json_int_t)checked, "drift", list);
done:
	free(matched);
	free(kr);
	netdev_free(nd);
	free(protos);
	free(routes);
	bc_ctl_free(ctl);
	return out;
}
