/* SPDX-License-Identifier: MIT */
/*
 * roostctl.c - the operator's view of a roost node.
 *
 * A client of roostd's agent socket: it asks, roostd gathers the answer from
 * its config, BIRD and the kernel, and roostctl prints it as a table or as
 * JSON. It changes nothing.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "api-proto.h"

#define DEFAULT_SOCKET "/run/roost/roostd.sock"
#define TIMEOUT_MS 10000

enum { EXIT_OK = 0, EXIT_DRIFT = 1, EXIT_USAGE = 2, EXIT_UNREACHABLE = 3 };

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: roostctl [-s SOCKET] [-o table|json] status|ready|pods|audit\n"
		"\n"
		"Shows a roost node as roostd, BIRD and the kernel see it. Changes nothing.\n"
		"\n"
		"Commands:\n"
		"  status  the node, its pod subnet and address pool, BIRD (pid, version,\n"
		"          uptime), the hash of the configuration in force, egress\n"
		"          masquerade (table ip roost: present, connections masqueraded),\n"
		"          with IPv6 (dual-stack, IPv6-only) the IPv6 address, subnet,\n"
		"          gateway and pool, table ip6 roost, and the IPv6 subnets BIRD\n"
		"          learned (route6: next hop, session, owner),\n"
		"          and every BGP\n"
		"          session: kind (mesh, reflector, client, peer), address, ASN,\n"
		"          state, since, BFD state, routes imported, exported and filtered.\n"
		"          Exit 0 only when BIRD answers and every expected session is\n"
		"          Established.\n"
		"  ready   whether this node routes: BIRD answers and runs, and (when the\n"
		"          node has a pod subnet and BGP sessions) at least one session is\n"
		"          Established and exports it. One neighbour down keeps a node\n"
		"          ready (status says unhealthy): use it as a readiness probe.\n"
		"          Exit 0 ready, 1 not ready, with the reason.\n"
		"  pods    every address handed out: address, container id, ifname, host\n"
		"          veth, since.\n"
		"  audit   compares BIRD's routes with the kernel's `proto bird` routes (both\n"
		"          families) and the configured nodes, and lists every\n"
		"          difference: missing, extra, nexthop, unreachable, sync_error,\n"
		"          filtered, conflict. Exit 1 on any.\n"
		"\n"
		"Options:\n"
		"  -s, --socket PATH   roostd's agent socket (default " DEFAULT_SOCKET ")\n"
		"  -o, --output FMT    table (default) or json\n"
		"  -h, --help          show this help and exit\n"
		"  -V, --version       show the version and exit\n"
		"\n"
		"Exit status: 0 healthy / nothing found, 1 unhealthy or drift found,\n"
		"2 usage error, 3 roostd not reachable or refused the request.\n");
}

static const char *s_(const json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v && v[0] ? v : "-";
}

static long long i_(const json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static void print_status(const json_t *r)
{
	const json_t *node = json_object_get(r, "node"), *pool = json_object_get(r, "pool");
	const json_t *conf = json_object_get(r, "config"), *bird = json_object_get(r, "bird");
	const json_t *sessions = json_object_get(r, "sessions"), *s;
	size_t i;

	const json_t *pool6 = json_object_get(r, "pool6");
	bool v6 = json_object_get(node, "pod_cidr6") != NULL, ch6 = false;

	if (!v6 || strcmp(s_(node, "address"), "-") == 0)
		printf("node      %s (%s), AS %lld\n", s_(node, "name"),
		       v6 ? s_(node, "address6") : s_(node, "address"), i_(node, "asn"));
	else
		printf("node      %s (%s, %s), AS %lld\n", s_(node, "name"), s_(node, "address"),
		       s_(node, "address6"), i_(node, "asn"));
	if (!v6 || strcmp(s_(node, "pod_cidr"), "none") != 0 || !pool6)
		printf("pods      %s of cluster %s; pool %lld of %lld addresses used\n",
		       s_(node, "pod_cidr"), s_(node, "cluster_cidr"), i_(pool, "used"),
		       i_(pool, "size"));
	if (v6) {
		printf("pods6     %s of cluster %s, gateway %s", s_(node, "pod_cidr6"),
		       s_(node, "cluster_cidr6"), s_(node, "gateway6"));
		if (pool6)
			printf("; pool6 %lld addresses used (%lld held until their veths are gone)",
			       i_(pool6, "used"), i_(pool6, "held"));
		printf("\n");
	}
	printf("config    %s sha256 %.16s\n", s_(conf, "path"), s_(conf, "sha256"));
	if (json_is_true(json_object_get(bird, "running")))
		printf("bird      running, pid %lld, BIRD %s, router id %s, started %s%s\n",
		       i_(bird, "pid"), s_(bird, "version"), s_(bird, "router_id"),
		       s_(bird, "started"),
		       json_is_true(json_object_get(bird, "recovering")) ?
			       ", graceful-restart recovery in progress" :
			       "");
	else
		printf("bird      NOT ANSWERING on %s (pid %lld)\n", s_(bird, "socket"),
		       i_(bird, "pid"));
	if (json_object_get(r, "datastore")) {
		const json_t *ds = json_object_get(r, "datastore");

		bool up = strcmp(s_(ds, "state"), "up") == 0;

		if (strcmp(s_(ds, "type"), "kubernetes") == 0 && up)
			printf("datastore kubernetes up, %s, Node %s, podCIDR %s%s%s, %lld other Node(s)\n",
			       s_(ds, "server"), s_(ds, "node"), s_(ds, "subnet"),
			       json_object_get(ds, "subnet6") ? " and " : "",
			       json_object_get(ds, "subnet6") ? s_(ds, "subnet6") : "", i_(ds, "peers"));
		else if (strcmp(s_(ds, "type"), "kubernetes") == 0)
			printf("datastore kubernetes DOWN: %s; keeping the last known %lld Node(s)\n",
			       s_(ds, "last_error"), i_(ds, "peers"));
		else if (up)
			printf("datastore etcd up, lease %s (ttl %lld s), %lld other lease(s)\n",
			       s_(ds, "key"), i_(ds, "lease_ttl"), i_(ds, "peers"));
		else
			printf("datastore etcd DOWN: %s; keeping the last known %lld lease(s)\n",
			       s_(ds, "last_error"), i_(ds, "peers"));
	}
	if (json_object_get(r, "egress")) {
		const json_t *eg = json_object_get(r, "egress");
		bool want = json_is_true(json_object_get(eg, "masquerade"));
		bool present = json_is_true(json_object_get(eg, "present"));

		if (strcmp(s_(eg, "error"), "-") != 0)
			printf("egress    masquerade %s; nftables cannot be asked: %s\n",
			       want ? "on" : "off", s_(eg, "error"));
		else if (want && present)
			printf("egress    masquerade on (table %s present, %lld connection(s) masqueraded)\n",
			       s_(eg, "table"), i_(eg, "masqueraded"));
		else if (want)
			printf("egress    masquerade on, but table %s is MISSING\n", s_(eg, "table"));
		else
			printf("egress    masquerade off (table %s %s)\n", s_(eg, "table"),
			       present ? "PRESENT: left over" : "absent");
	}
	if (json_object_get(r, "egress6")) {
		const json_t *eg = json_object_get(r, "egress6");
		bool want = json_is_true(json_object_get(eg, "masquerade"));
		bool present = json_is_true(json_object_get(eg, "present"));

		if (strcmp(s_(eg, "error"), "-") != 0)
			printf("egress6   masquerade %s; nftables cannot be asked: %s\n",
			       want ? "on" : "off", s_(eg, "error"));
		else if (want && present)
			printf("egress6   masquerade on (table %s present, %lld connection(s) masqueraded, %lld no_masquerade network(s))\n",
			       s_(eg, "table"), i_(eg, "masqueraded"), i_(eg, "no_masquerade"));
		else if (want)
			printf("egress6   masquerade on, but table %s is MISSING\n", s_(eg, "table"));
		else
			printf("egress6   masquerade off (table %s %s)\n", s_(eg, "table"),
			       present ? "PRESENT: left over" : "absent");
	}
	json_array_foreach(json_object_get(r, "routes6"), i, s)
		printf("route6    %s via %s, session %s, owner %s\n", s_(s, "prefix"), s_(s, "via"),
		       s_(s, "session"), s_(s, "owner"));
	json_array_foreach(json_object_get(r, "announced"), i, s)
		printf("announce  %s %s: %s\n", s_(s, "prefix"), s_(s, "when"), s_(s, "why"));
	/* Sessions with an ipv6 channel (dual-stack): its figures in three
	 * more columns; an IPv4-only node's table is unchanged. */
	json_array_foreach(sessions, i, s)
		if (json_object_get(s, "imported6"))
			ch6 = true;
	printf("\n%-16s %-9s %-15s %-10s %-12s %-13s %-5s %8s %8s %8s%s\n", "SESSION", "KIND",
	       "ADDRESS", "ASN", "STATE", "SINCE", "BFD", "IMPORTED", "EXPORTED", "FILTERED",
	       ch6 ? " IMPORTED6 EXPORTED6 FILTERED6" : "");
	json_array_foreach(sessions, i, s)
	{
		printf("%-16s %-9s %-15s %-10lld %-12s %-13s %-5s %8lld %8lld %8lld",
		       s_(s, "name"), s_(s, "kind"), s_(s, "address"), i_(s, "asn"),
		       s_(s, "state"), s_(s, "since"), s_(s, "bfd"), i_(s, "imported"),
		       i_(s, "exported"), i_(s, "filtered"));
		if (json_object_get(s, "imported6"))
			printf(" %9lld %9lld %9lld", i_(s, "imported6"), i_(s, "exported6"),
			       i_(s, "filtered6"));
		printf("\n");
	}
	if (json_array_size(sessions) == 0)
		printf("(no BGP sessions configured)\n");
	printf("\n");
	if (json_is_true(json_object_get(r, "healthy"))) {
		printf("healthy: BIRD answers and every session is Established\n");
		return;
	}
	printf("NOT healthy:");
	if (!json_is_true(json_object_get(bird, "running")))
		printf(" BIRD does not answer;");
	json_array_foreach(sessions, i, s)
	{
		if (strcmp(s_(s, "state"), "Established") == 0)
			continue;
		printf(" %s is %s", s_(s, "name"), s_(s, "state"));
		if (strcmp(s_(s, "last_error"), "-") != 0)
			printf(" (%s)", s_(s, "last_error"));
		printf(";");
	}
	printf("\n");
}

static void print_ready(const json_t *r)
{
	printf("%s: %s\n", json_is_true(json_object_get(r, "ready")) ? "ready" : "not ready",
	       s_(r, "ready_reason"));
}

static void print_pods(const json_t *r)
{
	const json_t *pods = json_object_get(r, "pods"), *p;
	bool dual = json_object_get(r, "pool6_size") != NULL;
	size_t i;

	printf("%-15s %-40s %-8s %-13s %-20s %-*s%s\n", "ADDRESS", "CONTAINER", "IFNAME",
	       "HOST VETH", "SINCE", dual ? 11 : 0, "ORIGIN", dual ? "ADDRESS6" : "");
	json_array_foreach(pods, i, p)
	{
		time_t t = (time_t)i_(p, "since");
		char since[32] = "-";
		struct tm tm;

		if (t > 0 && gmtime_r(&t, &tm))
			strftime(since, sizeof(since), "%Y-%m-%d %H:%M:%SZ", &tm);
		printf("%-15s %-40.64s %-8s %-13s %-20s %-*s%s\n", s_(p, "address"),
		       s_(p, "container_id"), s_(p, "ifname"), s_(p, "host_veth"), since,
		       dual ? 11 : 0, s_(p, "origin"),
		       !dual ? "" : json_object_get(p, "address6") ? s_(p, "address6") : "-");
	}
	printf("\npool: %lld of %lld addresses used\n", i_(r, "pool_used"), i_(r, "pool_size"));
	if (dual)
		printf("pool6: %lld of %lld addresses used\n", i_(r, "pool6_used"),
		       i_(r, "pool6_size"));
}

static void print_audit(const json_t *r)
{
	const json_t *d = json_object_get(r, "drift"), *e;
	size_t i;

	if (json_array_size(d) == 0) {
		printf("%lld route(s) checked: BIRD, the kernel and the configuration agree\n",
		       i_(r, "checked"));
		return;
	}
	printf("%-11s %-18s %-15s %-15s %s\n", "KIND", "PREFIX", "BIRD VIA", "KERNEL VIA",
	       "DETAIL");
	json_array_foreach(d, i, e)
	{
		/* IPv6 prefixes and next hops are longer: the columns stretch. */
		printf("%-11s %-18s %-15s %-15s %s\n", s_(e, "kind"), s_(e, "prefix"),
		       s_(e, "bird_via"), s_(e, "kernel_via"), s_(e, "detail"));
	}
	printf("\n%lld route(s) checked, %zu difference(s)\n", i_(r, "checked"),
	       json_array_size(d));
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"socket", required_argument, NULL, 's'}, {"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},	  {"version", no_argument, NULL, 'V'},
		{0},
	};
	static const struct {
		const char *cmd, *verb;
		void (*print)(const json_t *);
	} cmds[] = {
		{"status", "NODE_STATUS", print_status},
		{"ready", "NODE_STATUS", print_ready},
		{"pods", "PODS", print_pods},
		{"audit", "AUDIT", print_audit},
	};
	const char *sock = DEFAULT_SOCKET, *fmt = "table";
	json_t *req, *rep = NULL, *result;
	char why[256] = "";
	size_t c;
	int o, r, code = EXIT_OK;

	while ((o = getopt_long(argc, argv, "s:o:hV", opts, NULL)) != -1) {
		switch (o) {
		case 's':
			sock = optarg;
			break;
		case 'o':
			fmt = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("roostctl %s\n", PACKAGE_VERSION);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (strcmp(fmt, "table") != 0 && strcmp(fmt, "json") != 0) {
		fprintf(stderr, "roostctl: -o '%s': use table or json\n", fmt);
		return EXIT_USAGE;
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++)
		if (strcmp(argv[optind], cmds[c].cmd) == 0)
			break;
	if (c == sizeof(cmds) / sizeof(cmds[0])) {
		fprintf(stderr, "roostctl: unknown command '%s' (status, ready, pods, audit)\n",
			argv[optind]);
		return EXIT_USAGE;
	}

	req = json_pack("{s:s}", "verb", cmds[c].verb);
	r = api_call(sock, req, &rep, TIMEOUT_MS, why);
	json_decref(req);
	if (r < 0) {
		fprintf(stderr, "roostctl: roostd is not reachable: %s\n", why);
		return EXIT_UNREACHABLE;
	}
	if (!json_is_true(json_object_get(rep, "ok"))) {
		const json_t *err = json_object_get(rep, "error");

		fprintf(stderr, "roostctl: roostd refused '%s': %s\n", cmds[c].cmd,
			s_(err, "msg"));
		json_decref(rep);
		return EXIT_UNREACHABLE;
	}
	result = json_object_get(rep, "result");
	if (strcmp(cmds[c].cmd, "ready") == 0 && strcmp(fmt, "json") == 0) {
		json_t *rd = json_pack("{s:O?, s:O?}", "ready", json_object_get(result, "ready"),
				      "reason", json_object_get(result, "ready_reason"));
		char *text = json_dumps(rd, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

		printf("%s\n", text ? text : "null");
		free(text);
		json_decref(rd);
	} else if (strcmp(fmt, "json") == 0) {
		char *text = json_dumps(result, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

		printf("%s\n", text ? text : "null");
		free(text);
	} else {
		cmds[c].print(result);
	}
	if (strcmp(cmds[c].cmd, "status") == 0 && !json_is_true(json_object_get(result, "healthy")))
		code = EXIT_DRIFT;
	if (strcmp(cmds[c].cmd, "ready") == 0 && !json_is_true(json_object_get(result, "ready")))
		code = EXIT_DRIFT;
	if (strcmp(cmds[c].cmd, "audit") == 0 && json_array_size(json_object_get(result, "drift")))
		code = EXIT_DRIFT;
	json_decref(rep);
	return fflush(stdout) == 0 ? code : EXIT_DRIFT;
}
