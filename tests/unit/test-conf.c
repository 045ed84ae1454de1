/* SPDX-License-Identifier: MIT */
/*
 * test-conf.c - roostd.conf loading: defaults, every key read into the
 * struct, @include with its own file:line in errors. The table of broken
 * files with their exact messages is tests/unit/conf-invalid.sh.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent.h"
#include "conf.h"
#include "log.h"

static char dir[] = "/tmp/roost-test-conf.XXXXXX";

static void write_file(const char *name, const char *text, char *path, size_t len)
{
	FILE *f;

	snprintf(path, len, "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static const char *ip(struct in_addr a)
{
	return inet_ntoa(a);
}

static void test_defaults(void **state)
{
	struct roostd_conf *c = NULL;
	struct rst_err e;
	char path[256];

	write_file("min.conf",
		   "node = { name = \"n1\"; address = \"172.31.0.11\"; pod_cidr = \"10.244.1.0/24\"; };\n"
		   "cluster = { pod_cidr = \"10.244.0.0/16\"; };\n",
		   path, sizeof(path));
	assert_int_equal(conf_load(path, &c, &e), 0);
	assert_string_equal(c->name, "n1");
	assert_string_equal(ip(c->gateway), "10.244.1.1");
	assert_int_equal(c->asn, 64512);
	assert_int_equal(c->cluster_asn, 64512);
	assert_int_equal(c->n_mesh, 0);
	assert_int_equal(c->bfd_mode, BC_BFD_GRACEFUL);
	assert_int_equal(c->bfd_interval_ms, 100);
	assert_int_equal(c->bfd_multiplier, 3);
	assert_true(c->gr_enabled);
	assert_int_equal(c->gr_restart_time, 120);
	assert_int_equal(c->hold_time, 90);
	assert_int_equal(c->keepalive_time, 30);
	assert_int_equal(c->import_limit, 1024);
	assert_string_equal(c->bridge_name, "cni0");
	assert_int_equal(c->bridge_mtu, 1500);
	assert_true(c->bridge_mtu_auto); /* roostd takes the uplink's at start */
	assert_true(c->masquerade);      /* as flannel's manifest */
	assert_int_equal(c->n_no_masquerade, 0);
	assert_string_equal(c->bird_config, "/run/roost/bird.conf");
	assert_string_equal(c->bird_socket, "/run/roost/bird.ctl");
	assert_string_equal(c->bird_pidfile, "/run/roost/bird.pid");
	assert_string_equal(c->bird_include, "");
	assert_true(c->bird_spawn);
	assert_int_equal(c->kernel_metric, BC_KERNEL_METRIC_DEFAULT);
	assert_string_equal(c->agent_socket, "/run/roost/roostd.sock");
	assert_string_equal(c->state_dir, "/var/lib/roost");
	assert_int_equal(c->log_level, LOG_INFO);
	assert_int_equal(strlen(c->hash), 64);
	conf_free(c);
}

static void test_every_key(void **state)
{
	struct roostd_conf *c = NULL;
	struct rst_err e;
	char path[256];

	write_file("full.conf",
		   "node = { name = \"n-2\"; address = \"10.0.0.2\"; pod_cidr = \"10.244.2.0/24\"; asn = 4200000002L; };\n"
		   "cluster = { pod_cidr = \"10.244.0.0/16\"; asn = \"65001\"; };\n"
		   "bgp = { mesh = ( { name = \"n-1\"; address = \"10.0.0.1\"; } );\n"
		   "  bfd = { mode = \"strict\"; interval_ms = 50; multiplier = 4; };\n"
		   "  graceful_restart = { enabled = false; restart_time = 30; };\n"
		   "  hold_time = 9; keepalive_time = 3; import_limit = 10; };\n"
		   "bridge = { name = \"br-pods\"; mtu = 9000; };\n"
		   "egress = { masquerade = false; no_masquerade = ( \"192.0.2.0/24\", \"10.0.0.0/8\" ); };\n"
		   "bird = { binary = \"/usr/sbin/bird\"; config = \"/x/b.conf\"; socket = \"/x/b.ctl\";\n"
		   "  pidfile = \"/x/b.pid\"; spawn = false; include = \"/x/local.conf\"; kernel_metric = 64;\n"
		   "  configure_timeout = 10; };\n"
		   "agent = { socket = \"/x/r.sock\"; state_dir = \"/x/state\"; log_level = \"debug\"; };\n",
		   path, sizeof(path));
	if (conf_load(path, &c, &e) < 0)
		fail_msg("%s:%u: %s", e.file, e.line, e.msg);
	assert_int_equal(c->asn, 4200000002u);
	assert_int_equal(c->cluster_asn, 65001);
	assert_int_equal(c->n_mesh, 1);
	assert_string_equal(c->mesh[0].name, "n-1");
	assert_string_equal(ip(c->mesh[0].address), "10.0.0.1");
	assert_int_equal(c->bfd_mode, BC_BFD_STRICT);
	assert_int_equal(c->bfd_interval_ms, 50);
	assert_int_equal(c->bfd_multiplier, 4);
	assert_false(c->gr_enabled);
	assert_int_equal(c->gr_restart_time, 30);
	assert_int_equal(c->hold_time, 9);
	assert_int_equal(c->keepalive_time, 3);
	assert_int_equal(c->import_limit, 10);
	assert_string_equal(c->bridge_name, "br-pods");
	assert_int_equal(c->bridge_mtu, 9000);
	assert_false(c->bridge_mtu_auto);
	assert_false(c->masquerade);
	assert_int_equal(c->n_no_masquerade, 2);
	assert_string_equal(ip(c->no_masquerade[0].net), "192.0.2.0");
	assert_int_equal(c->no_masquerade[0].len, 24);
	/* a network that contains the cluster's pod CIDR is fine */
	assert_string_equal(ip(c->no_masquerade[1].net), "10.0.0.0");
	assert_int_equal(c->no_masquerade[1].len, 8);
	assert_string_equal(c->bird_binary, "/usr/sbin/bird");
	assert_string_equal(c->bird_config, "/x/b.conf");
	assert_false(c->bird_spawn);
	assert_string_equal(c->bird_include, "/x/local.conf");
	assert_int_equal(c->kernel_metric, 64);
	assert_int_equal(c->configure_timeout, 10);
	assert_string_equal(c->agent_socket, "/x/r.sock");
	assert_int_equal(c->log_level, LOG_DEBUG);
	conf_free(c);
}

static void test_include_error_names_included_file(void **state)
{
	struct roostd_conf *c = NULL;
	struct rst_err e;
	char path[256], inc[256];

	write_file("peers.inc", "\n\nmesh = ( { name = \"n2\"; address = \"10.0.0.300\"; } );\n", inc,
		   sizeof(inc));
	write_file("main.conf",
		   "node = { name = \"n1\"; address = \"10.0.0.1\"; pod_cidr = \"10.244.1.0/24\"; };\n"
		   "cluster = { pod_cidr = \"10.244.0.0/16\"; };\n"
		   "bgp = {\n  @include \"peers.inc\"\n};\n",
		   path, sizeof(path));
	assert_int_equal(conf_load(path, &c, &e), -EINVAL);
	assert_null(c);
	assert_non_null(strstr(e.file, "peers.inc"));
	assert_int_equal(e.line, 3);
	assert_string_equal(e.msg, "bgp.mesh[0].address: '10.0.0.300' is not an IPv4 address");
}

static void test_topology_keys(void **state)
{
	struct roostd_conf *c = NULL;
	struct bc_node n;
	struct rst_err e;
	char path[256];

	/* A client of two reflectors, with a ToR and a second external peer. */
	write_file("client.conf",
		   "node = { name = \"n1\"; address = \"172.31.0.11\"; pod_cidr = \"10.244.1.0/24\"; asn = 64601; };\n"
		   "cluster = { pod_cidr = \"10.244.0.0/16\"; };\n"
		   "bgp = { route_reflectors = ( { name = \"rr1\"; address = \"172.31.0.2\"; },\n"
		   "                             { name = \"rr2\"; address = \"172.31.0.3\"; } );\n"
		   "  peers = ( { name = \"tor\"; address = \"172.31.0.1\"; asn = 65000; password = \"p w\";\n"
		   "              ttl_security = true; import = ( \"198.51.100.0/24\" ); },\n"
		   "            { name = \"x\"; address = \"192.0.2.1\"; asn = \"64601\"; multihop = 2;\n"
		   "              bfd = \"graceful\"; import_limit = 7; } );\n"
		   "  import_limit = 99; };\n",
		   path, sizeof(path));
	if (conf_load(path, &c, &e) < 0)
		fail_msg("%s:%u: %s", e.file, e.line, e.msg);
	assert_int_equal(c->n_mesh, 0);
	assert_int_equal(c->n_route_reflectors, 2);
	assert_string_equal(c->route_reflectors[1].name, "rr2");
	assert_string_equal(ip(c->route_reflectors[1].address), "172.31.0.3");
	assert_false(c->reflector);
	assert_int_equal(c->n_peers, 2);
	assert_string_equal(c->peers[0].name, "tor");
	assert_int_equal(c->peers[0].asn, 65000);
	assert_string_equal(c->peers[0].password, "p w");
	assert_true(c->peers[0].ttl_security);
	assert_int_equal(c->peers[0].multihop, 0);
	assert_int_equal(c->peers[0].bfd_mode, BC_BFD_STRICT); /* the default for peers */
	assert_int_equal(c->peers[0].import_limit, 99);         /* bgp.import_limit */
	assert_int_equal(c->peers[0].n_import, 1);
	assert_string_equal(ip(c->peers[0].import[0].net), "198.51.100.0");
	assert_int_equal(c->peers[0].import[0].len, 24);
	assert_int_equal(c->peers[1].asn, 64601);
	assert_int_equal(c->peers[1].multihop, 2);
	assert_int_equal(c->peers[1].bfd_mode, BC_BFD_GRACEFUL);
	assert_int_equal(c->peers[1].import_limit, 7);
	assert_false(c->peers[1].ttl_security);
	assert_int_equal(c->peers[1].n_import, 0);
	conf_to_node(c, &n);
	assert_int_equal(n.n_peers, 2);
	assert_int_equal(n.n_route_reflectors, 2);
	assert_int_equal(n.asn, 64601);
	conf_free(c);
	c = NULL;

	/* A reflector without pods. */
	write_file("rr.conf",
		   "node = { name = \"rr1\"; address = \"172.31.0.2\"; };\n"
		   "cluster = { pod_cidr = \"10.244.0.0/16\"; node_prefix_len = 26; };\n"
		   "bgp = { reflector = { clients = \"172.31.0.0/24\"; };\n"
		   "  mesh = ( { name = \"rr2\"; address = \"172.31.0.3\"; } ); };\n",
		   path, sizeof(path));
	if (conf_load(path, &c, &e) < 0)
		fail_msg("%s:%u: %s", e.file, e.line, e.msg);
	assert_true(c->no_pods);
	assert_true(c->reflector);
	assert_int_equal(c->pod_len, 26);
	assert_int_equal(c->gateway.s_addr, 0);
	assert_string_equal(ip(c->rr_clients_net), "172.31.0.0");
	assert_int_equal(c->rr_clients_len, 24);
	assert_string_equal(ip(c->rr_cluster_id), "172.31.0.2"); /* node.address */
	conf_to_node(c, &n);
	assert_true(n.no_pods);
	assert_false(bc_node_has_pods(&n));
	conf_free(c);
}

/* bgp.announce and the per-peer export policy: values and defaults. */
static void test_announce_and_policy(void **state)
{
	struct roostd_conf *c = NULL;
	struct bc_node n;
	struct rst_err e;
	char path[256];

	write_file("announce.conf",
		   "node = { name = \"n1\"; address = \"172.31.0.11\"; pod_cidr = \"10.244.1.0/24\"; };\n"
		   "cluster = { pod_cidr = \"10.244.0.0/16\"; };\n"
		   "bgp = {\n"
		   "  announce = ( { prefix = \"192.0.2.10/32\"; when = \"local\"; },\n"
		   "               { prefix = \"198.51.100.0/28\"; when = \"always\"; } );\n"
		   "  peers = ( { name = \"tor\"; address = \"172.31.0.1\"; asn = 65000;\n"
		   "              communities = ( \"65000:100\", \"0:0\", \"65535:65535\" );\n"
		   "              large_communities = ( \"4294967295:0:7\" ); prepend = 10; },\n"
		   "            { name = \"a\"; address = \"172.31.0.2\"; asn = 65001; export = \"announce\"; },\n"
		   "            { name = \"p\"; address = \"172.31.0.3\"; asn = 64512; export = \"pods\"; } );\n"
		   "};\n",
		   path, sizeof(path));
	assert_int_equal(conf_load(path, &c, &e), 0);
	assert_int_equal(c->n_announce, 2);
	assert_string_equal(ip(c->announce[0].net), "192.0.2.10");
	assert_int_equal(c->announce[0].len, 32);
	assert_int_equal(c->announce[0].when, BC_ANNOUNCE_LOCAL);
	assert_string_equal(ip(c->announce[1].net), "198.51.100.0");
	assert_int_equal(c->announce[1].len, 28);
	assert_int_equal(c->announce[1].when, BC_ANNOUNCE_ALWAYS);
	assert_int_equal(c->n_peers, 3);
	assert_int_equal(c->peers[0].export, BC_EXPORT_BOTH); /* the default */
	assert_int_equal(c->peers[0].n_communities, 3);
	assert_int_equal(c->peers[0].communities[0].asn, 65000);
	assert_int_equal(c->peers[0].communities[0].value, 100);
	assert_int_equal(c->peers[0].communities[1].asn, 0);
	assert_int_equal(c->peers[0].communities[2].value, 65535);
	assert_int_equal(c->peers[0].n_large_communities, 1);
	assert_int_equal(c->peers[0].large_communities[0].global, 4294967295u);
	assert_int_equal(c->peers[0].large_communities[0].local1, 0);
	assert_int_equal(c->peers[0].large_communities[0].local2, 7);
	assert_int_equal(c->peers[0].prepend, 10);
	assert_int_equal(c->peers[1].export, BC_EXPORT_ANNOUNCE);
	assert_int_equal(c->peers[1].n_communities, 0);
	assert_int_equal(c->peers[1].prepend, 0);
	assert_int_equal(c->peers[2].export, BC_EXPORT_PODS);
	conf_to_node(c, &n);
	assert_ptr_equal(n.announce, c->announce);
	assert_int_equal(n.n_announce, 2);
	assert_int_equal(bc_node_validate(&n, &e), 0);
	conf_free(c);
}

/* bgp.services: the keys, and which Service addresses a node announces
 * (svc_fill): the kinds asked for, never one inside the pod CIDR, a node's
 * or a peer's address, or one bgp.announce has; at most BC_SVC_MAX. */
static void test_services(void **state)
{
	struct roostd_conf *c = NULL;
	struct svc_addr *s = calloc(BC_SVC_MAX + 20, sizeof(*s));
	struct rst_err e;
	char path[256];
	size_t n = 0;

	(void)state;
	write_file("services.conf",
		   "cluster = { pod_cidr = \"10.244.0.0/16\"; };\n"
		   "node = { name = \"node1\"; address = \"172.31.0.11\"; };\n"
		   "datastore = { type = \"kubernetes\"; };\n"
		   "bgp = {\n"
		   "  announce = ( { prefix = \"192.0.2.0/28\"; when = \"always\"; } );\n"
		   "  peers = ( { name = \"tor\"; address = \"172.31.0.1\"; asn = 65000; } );\n"
		   "  services = { load_balancer = true; cluster_ip_range = \"10.96.0.0/12\"; };\n"
		   "};\n",
		   path, sizeof(path));
	assert_int_equal(conf_load(path, &c, &e), 0);
	assert_true(c->svc_lb);
	assert_false(c->svc_external); /* default off */
	assert_true(c->svc_range_on);
	assert_string_equal(ip(c->svc_range.net), "10.96.0.0");
	assert_int_equal(c->svc_range.len, 12);
	c->mesh = calloc(1, sizeof(*c->mesh));
	inet_pton(AF_INET, "172.31.0.12", &c->mesh[0].address);
	c->n_mesh = 1;

#define ADD(a, k) (inet_pton(AF_INET, a, &s[n].addr), s[n].kinds = (k), \
		   snprintf(s[n].why, sizeof(s[n].why), "why %s", a), n++)
	ADD("198.51.100.10", KSVC_LB);
	ADD("198.51.100.11", KSVC_EXTERNAL); /* external_ips is off */
	ADD("198.51.100.12", KSVC_LB | KSVC_EXTERNAL);
	ADD("10.244.3.7", KSVC_LB);          /* a pod address */
	ADD("172.31.0.11", KSVC_LB);         /* this node */
	ADD("172.31.0.12", KSVC_LB);         /* another node */
	ADD("172.31.0.1", KSVC_LB);          /* the peer */
	ADD("192.0.2.3", KSVC_LB);           /* inside bgp.announce */
	ADD("10.96.0.10", KSVC_LB);          /* inside cluster_ip_range */
	ADD("127.0.0.1", KSVC_LB);
	assert_int_equal(svc_fill(c, s, n, NULL), 0);
	assert_int_equal(c->n_svc, 3);
	assert_string_equal(ip(c->svc[0].net), "10.96.0.0");
	assert_int_equal(c->svc[0].len, 12);
	assert_string_equal(c->svc_why[0], "bgp.services.cluster_ip_range");
	assert_string_equal(ip(c->svc[1].net), "198.51.100.10");
	assert_int_equal(c->svc[1].len, 32);
	assert_int_equal(c->svc[1].when, BC_ANNOUNCE_ALWAYS);
	assert_string_equal(c->svc_why[1], "why 198.51.100.10");
	assert_string_equal(ip(c->svc[2].net), "198.51.100.12");

	/* more than BC_SVC_MAX: capped, the range kept */
	n = 0;
	for (int i = 0; i < BC_SVC_MAX + 10; i++) {
		char a[32];

		snprintf(a, sizeof(a), "203.0.%d.%d", 113 + i / 250, 1 + i % 250);
		ADD(a, KSVC_LB);
	}
#undef ADD
	assert_int_equal(svc_fill(c, s, n, NULL), 0);
	assert_int_equal(c->n_svc, BC_SVC_MAX);
	assert_string_equal(c->svc_why[0], "bgp.services.cluster_ip_range");
	free(s);
	conf_free(c);
}

/* Kubernetes: bgp.reflector is only the range and password that Nodes
 * labelled as reflectors use; the file makes no node a reflector. */
static void test_kube_reflector(void **state)
{
	struct roostd_conf *c = NULL;
	struct rst_err e;
	char path[256];

	write_file("kube-rr.conf",
		   "node = { name = \"n1\"; };\n"
		   "cluster = { pod_cidr = \"10.244.0.0/16\"; };\n"
		   "bgp = { password = \"mesh\"; reflector = { clients = \"172.31.0.0/24\"; }; };\n"
		   "datastore = { type = \"kubernetes\"; kubeconfig = \"/nonexistent\"; };\n",
		   path, sizeof(path));
	assert_int_equal(conf_load(path, &c, &e), 0);
	assert_false(c->reflector);
	assert_true(c->kube_rr_clients_given);
	assert_string_equal(ip(c->kube_rr_clients.net), "172.31.0.0");
	assert_int_equal(c->kube_rr_clients.len, 24);
	assert_string_equal(c->rr_password, "mesh");
	assert_int_equal(c->n_route_reflectors_file, 0);
	conf_free(c);
	c = NULL;

	/* no bgp.reflector: the connected prefix later, bgp.password for clients */
	write_file("kube-rr2.conf",
		   "node = { name = \"n1\"; };\n"
		   "cluster = { pod_cidr = \"10.244.0.0/16\"; };\n"
		   "bgp = { password = \"mesh\"; };\n"
		   "datastore = { type = \"kubernetes\"; kubeconfig = \"/nonexistent\"; };\n",
		   path, sizeof(path));
	assert_int_equal(conf_load(path, &c, &e), 0);
	assert_false(c->kube_rr_clients_given);
	assert_string_equal(c->rr_password, "mesh");
	conf_free(c);
}

static void test_missing_file(void **state)
{
	struct roostd_conf *c = NULL;
	struct rst_err e;

	assert_int_equal(conf_load("/nonexistent/roostd.conf", &c, &e), -ENOENT);
	assert_string_equal(e.file, "/nonexistent/roostd.conf");
	assert_non_null(strstr(e.msg, "No such file"));
}

static const char *ip6(const struct in6_addr *a)
{
	static char buf[INET6_ADDRSTRLEN];

	return inet_ntop(AF_INET6, a, buf, sizeof(buf));
}

/* Dual-stack keys: values, defaults (node_prefix_len6 64, the gateway the
 * subnet's first address), an IPv6-only node's derived router id and its
 * mesh, and the hash telling IPv6 settings apart. */
static void test_dual_stack(void **state)
{
	struct roostd_conf *c = NULL;
	struct rst_err e;
	char path[256], hash[65];
	struct bc_node node;

	write_file("dual.conf",
		   "node = { name = \"n1\"; address = \"172.31.0.11\"; pod_cidr = \"10.244.1.0/24\";\n"
		   "         address6 = \"fd00:172:31::11\"; pod_cidr6 = \"fd00:10:244:1::/64\"; };\n"
		   "cluster = { pod_cidr = \"10.244.0.0/16\"; pod_cidr6 = \"fd00:10:244::/48\"; };\n"
		   "bgp = { mesh = ( { name = \"n2\"; address = \"172.31.0.12\"; address6 = \"fd00:172:31::12\";\n"
		   "                   pod_cidr6 = \"fd00:10:244:2::/64\"; },\n"
		   "                 { name = \"n3\"; address6 = \"fd00:172:31::13\"; } );\n"
		   "        peers = ( { name = \"tor\"; address6 = \"fd00:172:31::1\"; asn = 65000;\n"
		   "                    import = ( \"2001:db8::/32\" ); },\n"
		   "                  { name = \"far\"; address6 = \"fd00:77::2\"; asn = 65100;\n"
		   "                    multihop = 2; } ); };\n",
		   path, sizeof(path));
	assert_int_equal(conf_load(path, &c, &e), 0);
	assert_true(conf_has_v6(c));
	assert_false(conf_v6_only(c));
	assert_string_equal(ip6(&c->address6), "fd00:172:31::11");
	assert_string_equal(ip6(&c->pod_net6), "fd00:10:244:1::");
	assert_int_equal(c->pod_len6, 64);
	assert_string_equal(ip6(&c->gateway6), "fd00:10:244:1::1");
	assert_string_equal(ip6(&c->cluster_net6), "fd00:10:244::");
	assert_int_equal(c->cluster_len6, 48);
	assert_int_equal(c->router_id.s_addr, 0); /* node.address */
	assert_int_equal(c->n_mesh, 2);
	assert_string_equal(ip6(&c->mesh[0].address6), "fd00:172:31::12");
	assert_string_equal(ip6(&c->mesh[0].pod_net6), "fd00:10:244:2::");
	assert_int_equal(c->mesh[0].pod_len6, 64);
	assert_int_equal(c->mesh[1].address.s_addr, 0); /* IPv6-only neighbour */
	assert_int_equal(c->mesh[1].pod_len6, 0);
	assert_int_equal(c->n_peers, 2);
	assert_int_equal(c->peers[0].multihop, 0);
	assert_int_equal(c->peers[1].address.s_addr, 0); /* a multihop peer over IPv6 */
	assert_string_equal(ip6(&c->peers[1].address6), "fd00:77::2");
	assert_int_equal(c->peers[1].multihop, 2);
	assert_int_equal(c->peers[0].address.s_addr, 0);
	assert_string_equal(ip6(&c->peers[0].address6), "fd00:172:31::1");
	assert_int_equal(c->peers[0].n_import, 0);
	assert_int_equal(c->peers[0].n_import6, 1);
	assert_int_equal(c->peers[0].import6[0].len, 32);
	conf_to_node(c, &node);
	assert_int_equal(node.pod_len6, 64);
	assert_int_equal(node.cluster_len6, 48);
	assert_int_equal(bc_node_validate(&node, &e), 0);
	strcpy(hash, c->hash);
	conf_free(c);

	/* Another IPv6 subnet, another hash. */
	write_file("dual.conf",
		   "node = { name = \"n1\"; address = \"172.31.0.11\"; pod_cidr = \"10.244.1.0/24\";\n"
		   "         address6 = \"fd00:172:31::11\"; pod_cidr6 = \"fd00:10:244:9::/64\"; };\n"
		   "cluster = { pod_cidr = \"10.244.0.0/16\"; pod_cidr6 = \"fd00:10:244::/48\"; };\n",
		   path, sizeof(path));
	assert_int_equal(conf_load(path, &c, &e), 0);
	assert_string_not_equal(c->hash, hash);
	conf_free(c);

	write_file("v6.conf",
		   "node = { name = \"n1\"; address6 = \"fd00:172:31::1:2a\"; pod_cidr6 = \"fd00:10:244:100::/56\"; };\n"
		   "cluster = { pod_cidr6 = \"fd00:10:244::/48\"; node_prefix_len6 = 56; };\n"
		   "bgp = { mesh = ( { name = \"n2\"; address6 = \"fd00:172:31::12\"; } ); };\n",
		   path, sizeof(path));
	assert_int_equal(conf_load(path, &c, &e), 0);
	assert_true(conf_v6_only(c));
	assert_int_equal(c->address.s_addr, 0);
	assert_false(c->no_pods);
	assert_int_equal(c->pod_len6, 56);
	assert_string_equal(ip6(&c->gateway6), "fd00:10:244:100::1");
	assert_string_equal(ip(c->router_id), "0.1.0.42"); /* the last 32 bits */
	assert_int_equal(c->asn, 64512);
	conf_to_node(c, &node);
	assert_int_equal(bc_node_id6(&node), 1);
	conf_free(c);

	write_file("v6.conf",
		   "node = { name = \"n1\"; address6 = \"fd00:172:31::11\"; pod_cidr6 = \"fd00:10:244:1::/64\";\n"
		   "         router_id = \"10.0.0.1\"; };\n"
		   "cluster = { pod_cidr6 = \"fd00:10:244::/48\"; };\n",
		   path, sizeof(path));
	assert_int_equal(conf_load(path, &c, &e), 0);
	assert_string_equal(ip(c->router_id), "10.0.0.1");
	conf_free(c);

	/* Kubernetes: node.address may come later (the Node's InternalIP); the
	 * node is not IPv6-only for that, its IPv4 neighbours stay valid. */
	write_file("kube.conf",
		   "node = { name = \"n1\"; };\n"
		   "cluster = { pod_cidr = \"10.244.0.0/16\"; };\n"
		   "datastore = { type = \"kubernetes\"; };\n"
		   "bgp = { mesh = ( { name = \"n9\"; address = \"172.31.0.19\"; } );\n"
		   "        peers = ( { name = \"tor\"; address = \"172.31.0.1\"; asn = 65000; } ); };\n",
		   path, sizeof(path));
	assert_int_equal(conf_load(path, &c, &e), 0);
	assert_false(conf_has_v6(c));
	assert_false(conf_v6_only(c));
	assert_int_equal(c->n_mesh, 1);
	assert_int_equal(c->n_peers, 1);
	conf_free(c);
}

/* egress.no_masquerade takes both families in one list: IPv4 entries in
 * no_masquerade, IPv6 ones in no_masquerade6, in list order; an error
 * names the list index (both families counted). */
static void test_no_masquerade6(void **state)
{
	struct roostd_conf *c = NULL;
	struct rst_err e;
	char path[256];

	write_file("nm6.conf",
		   "node = { name = \"n1\"; address = \"172.31.0.11\"; pod_cidr = \"10.244.1.0/24\";\n"
		   "         address6 = \"fd00:172:31::11\"; pod_cidr6 = \"fd00:10:244:1::/64\"; };\n"
		   "cluster = { pod_cidr = \"10.244.0.0/16\"; pod_cidr6 = \"fd00:10:244::/48\"; };\n"
		   "egress = { no_masquerade = ( \"2001:db8::/32\", \"192.0.2.0/24\", \"fd00:172:31::/64\",\n"
		   "                             \"fd00::/8\" ); };\n",
		   path, sizeof(path));
	/* fd00::/8 contains the cluster's /48: fine (not inside it), but it
	 * overlaps fd00:172:31::/64, list index 2 */
	assert_int_equal(conf_load(path, &c, &e), -EINVAL);
	assert_int_equal(e.line, 5);
	assert_string_equal(e.msg, "egress.no_masquerade[3]: 'fd00::/8' overlaps egress.no_masquerade[2]");

	write_file("nm6.conf",
		   "node = { name = \"n1\"; address = \"172.31.0.11\"; pod_cidr = \"10.244.1.0/24\";\n"
		   "         address6 = \"fd00:172:31::11\"; pod_cidr6 = \"fd00:10:244:1::/64\"; };\n"
		   "cluster = { pod_cidr = \"10.244.0.0/16\"; pod_cidr6 = \"fd00:10:244::/48\"; };\n"
		   "egress = { no_masquerade = ( \"2001:db8::/32\", \"192.0.2.0/24\", \"fd00:172:31::/64\" ); };\n",
		   path, sizeof(path));
	if (conf_load(path, &c, &e) < 0)
		fail_msg("%s:%u: %s", e.file, e.line, e.msg);
	assert_int_equal(c->n_no_masquerade, 1);
	assert_string_equal(ip(c->no_masquerade[0].net), "192.0.2.0");
	assert_int_equal(c->n_no_masquerade6, 2);
	assert_string_equal(ip6(&c->no_masquerade6[0].net), "2001:db8::");
	assert_int_equal(c->no_masquerade6[0].len, 32);
	assert_string_equal(ip6(&c->no_masquerade6[1].net), "fd00:172:31::");
	assert_int_equal(c->no_masquerade6[1].len, 64);
	conf_free(c);

	/* inside the cluster's IPv6 pod CIDR */
	write_file("nm6.conf",
		   "node = { name = \"n1\"; address = \"172.31.0.11\"; pod_cidr = \"10.244.1.0/24\";\n"
		   "         address6 = \"fd00:172:31::11\"; pod_cidr6 = \"fd00:10:244:1::/64\"; };\n"
		   "cluster = { pod_cidr = \"10.244.0.0/16\"; pod_cidr6 = \"fd00:10:244::/48\"; };\n"
		   "egress = {\n  no_masquerade = ( \"192.0.2.0/24\",\n   \"fd00:10:244:7::/64\" ); };\n",
		   path, sizeof(path));
	assert_int_equal(conf_load(path, &c, &e), -EINVAL);
	assert_int_equal(e.line, 6);
	assert_string_equal(e.msg, "egress.no_masquerade[1]: 'fd00:10:244:7::/64' is inside cluster.pod_cidr6, which is never masqueraded");
	/* not an IPv6 CIDR, host bits */
	write_file("nm6.conf",
		   "node = { name = \"n1\"; address = \"172.31.0.11\"; pod_cidr = \"10.244.1.0/24\"; };\n"
		   "cluster = { pod_cidr = \"10.244.0.0/16\"; };\n"
		   "egress = { no_masquerade = ( \"2001:db8::zz/32\" ); };\n",
		   path, sizeof(path));
	assert_int_equal(conf_load(path, &c, &e), -EINVAL);
	assert_int_equal(e.line, 3);
	assert_string_equal(e.msg, "egress.no_masquerade[0]: '2001:db8::zz/32' is not an IPv6 CIDR like fd00:10:244::/48");
	write_file("nm6.conf",
		   "node = { name = \"n1\"; address = \"172.31.0.11\"; pod_cidr = \"10.244.1.0/24\"; };\n"
		   "cluster = { pod_cidr = \"10.244.0.0/16\"; };\n"
		   "egress = { no_masquerade = ( \"2001:db8::1/32\" ); };\n",
		   path, sizeof(path));
	assert_int_equal(conf_load(path, &c, &e), -EINVAL);
	assert_int_equal(e.line, 3);
	assert_non_null(strstr(e.msg, "egress.no_masquerade[0]: '2001:db8::1/32' has host bits set"));
}

static int setup(void **state)
{
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_include_error_names_included_file),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_topology_keys),
		cmocka_unit_test(test_announce_and_policy),
		cmocka_unit_test(test_dual_stack),
		cmocka_unit_test(test_no_masquerade6),
		cmocka_unit_test(test_services),
		cmocka_unit_test(test_kube_reflector),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
