/* SPDX-License-Identifier: MIT */
/*
 * test-owners.c - who owns a pod subnet: first announcers are learned from
 * BIRD's accepted routes and kept in a file, forgotten only after the
 * graceful-restart time without a route from them; a filtered claim on an
 * owned subnet is a conflict, reported once; configured owners (mesh
 * pod_cidr, leases) win over learned ones.
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

#include "owners.h"

static struct bc_peer mesh[2];
static char state_dir[] = "/tmp/roost-test-owners.XXXXXX";

static void conf(struct roostd_conf *c)
{
	memset(c, 0, sizeof(*c));
	memset(mesh, 0, sizeof(mesh));
	strcpy(c->name, "node1");
	inet_pton(AF_INET, "172.31.0.11", &c->address);
	inet_pton(AF_INET, "10.244.1.0", &c->pod_net);
	c->pod_len = 24;
	inet_pton(AF_INET, "10.244.0.0", &c->cluster_net);
	c->cluster_len = 16;
	c->gr_enabled = true;
	c->gr_restart_time = 120;
	strcpy(mesh[0].name, "node2");
	inet_pton(AF_INET, "172.31.0.12", &mesh[0].address);
	strcpy(mesh[1].name, "node3");
	inet_pton(AF_INET, "172.31.0.13", &mesh[1].address);
	c->mesh = mesh;
	c->n_mesh = 2;
	c->state_dir = state_dir;
}

static struct bc_route route(const char *prefix, const char *proto, const char *nh, bool best)
{
	struct bc_route r;

	memset(&r, 0, sizeof(r));
	snprintf(r.prefix, sizeof(r.prefix), "%s", prefix);
	snprintf(r.proto, sizeof(r.proto), "%s", proto);
	snprintf(r.bgp_next_hop, sizeof(r.bgp_next_hop), "%s", nh);
	snprintf(r.via, sizeof(r.via), "%s", nh);
	strcpy(r.route_type, "BGP univ");
	r.best = best;
	return r;
}

static void test_learn_keep_forget(void **state)
{
	struct roostd_conf c;
	struct owners o;
	struct bc_owner *loaded = NULL;
	size_t n_loaded = 0;
	struct bc_route acc[3];

	(void)state;
	conf(&c);
	assert_int_equal(owners_open(&o, &c), 0);
	assert_int_equal(o.n_learned, 0);
	/* node2's route (best) and node3's claim on the same subnet (not best):
	 * the best one is learned; a route from an external peer is not. */
	acc[0] = route("10.244.2.0/24", "node_node2", "172.31.0.12", true);
	acc[1] = route("10.244.2.0/24", "node_node3", "172.31.0.13", false);
	acc[2] = route("10.244.9.0/24", "peer_tor", "172.31.0.1", true);
	owners_update(&o, &c, acc, 3, NULL, 0, 1000);
	assert_true(o.changed);
	assert_int_equal(o.n_learned, 1);
	assert_string_equal(o.learned[0].name, "node2");
	assert_string_equal(inet_ntoa(o.learned[0].via), "172.31.0.12");
	/* kept in the file, read back the same */
	assert_int_equal(owners_load(&c, &loaded, &n_loaded), 0);
	assert_int_equal(n_loaded, 1);
	assert_string_equal(inet_ntoa(loaded[0].net), "10.244.2.0");
	free(loaded);
	o.changed = false; /* rendered and applied (roostd's loop does this) */
	/* the same again: no change */
	owners_update(&o, &c, acc, 1, NULL, 0, 2000);
	assert_false(o.changed);
	/* the route goes: kept for the graceful-restart time, then forgotten */
	owners_update(&o, &c, NULL, 0, NULL, 0, 3000);
	assert_false(o.changed);
	owners_update(&o, &c, NULL, 0, NULL, 0, 3000 + 119000);
	assert_int_equal(o.n_learned, 1);
	owners_update(&o, &c, NULL, 0, NULL, 0, 3000 + 120000);
	assert_true(o.changed);
	o.changed = false;
	assert_int_equal(o.n_learned, 0);
	/* a mesh entry's pod_cidr makes learning moot */
	inet_pton(AF_INET, "10.244.2.0", &mesh[0].pod_net);
	mesh[0].pod_len = 24;
	owners_update(&o, &c, acc, 1, NULL, 0, 200000);
	assert_int_equal(o.n_learned, 0);
	owners_done(&o);
}

static void test_conflicts(void **state)
{
	struct roostd_conf c;
	struct owners o;
	struct bc_route acc[1], filt[4];

	(void)state;
	conf(&c);
	assert_int_equal(owners_open(&o, &c), 0);
	acc[0] = route("10.244.2.0/24", "node_node2", "172.31.0.12", true);
	owners_update(&o, &c, acc, 1, NULL, 0, 1000);
	/* node3 claims node2's subnet and ours; a /25 and a route with the
	 * owner's own next hop (filtered for another reason) are no conflicts */
	filt[0] = route("10.244.2.0/24", "node_node3", "172.31.0.13", false);
	filt[1] = route("10.244.1.0/24", "node_node3", "172.31.0.13", false);
	filt[2] = route("10.244.7.0/25", "node_node3", "172.31.0.13", false);
	filt[3] = route("10.244.2.0/24", "node_node2", "172.31.0.12", false);
	owners_update(&o, &c, acc, 1, filt, 4, 2000);
	assert_int_equal(o.n_conflicts, 2);
	assert_int_equal(o.conflicts_total, 2);
	assert_string_equal(o.conflicts[0].subnet, "10.244.2.0/24");
	assert_string_equal(o.conflicts[0].owner, "node2");
	assert_string_equal(o.conflicts[0].claimant, "node3");
	assert_string_equal(o.conflicts[0].session, "node_node3");
	assert_string_equal(o.conflicts[1].owner, "node1");
	/* still there next time: not counted again; gone: resolved */
	owners_update(&o, &c, acc, 1, filt, 4, 3000);
	assert_int_equal(o.conflicts_total, 2);
	owners_update(&o, &c, acc, 1, NULL, 0, 4000);
	assert_int_equal(o.n_conflicts, 0);
	assert_int_equal(o.conflicts_total, 2);
	owners_done(&o);
}

/* ---- IPv6 ---- */

/* conf() made dual-stack: node1 fd00:172:31::11, fd00:10:244:1::/64 of
 * fd00:10:244::/48; node2 and node3 with their address6 only. */
static void conf6(struct roostd_conf *c)
{
	char path[300];

	conf(c);
	inet_pton(AF_INET6, "fd00:172:31::11", &c->address6);
	inet_pton(AF_INET6, "fd00:10:244:1::", &c->pod_net6);
	c->pod_len6 = 64;
	inet_pton(AF_INET6, "fd00:10:244::", &c->cluster_net6);
	c->cluster_len6 = 48;
	inet_pton(AF_INET6, "fd00:172:31::12", &mesh[0].address6);
	inet_pton(AF_INET6, "fd00:172:31::13", &mesh[1].address6);
	snprintf(path, sizeof(path), "%s/owners.json", state_dir);
	unlink(path);
}

static void test_query(void **state)
{
	struct roostd_conf c;
	char q[256];

	(void)state;
	conf(&c);
	owners_query(&c, false, q, sizeof(q));
	assert_string_equal(q, "all where net ~ [ 10.244.0.0/16{24,24} ] && source = RTS_BGP");
	conf6(&c);
	owners_query(&c, true, q, sizeof(q));
	assert_string_equal(q, "all filtered where (net ~ [ 10.244.0.0/16{24,24} ] || "
			       "net ~ [ fd00:10:244::/48{64,64} ]) && source = RTS_BGP");
	c.cluster_len = 0; /* IPv6-only */
	owners_query(&c, false, q, sizeof(q));
	assert_string_equal(q, "all where net ~ [ fd00:10:244::/48{64,64} ] && source = RTS_BGP");
}

static void test_learn6(void **state)
{
	struct roostd_conf c;
	struct owners o;
	struct bc_owner6 *loaded = NULL, *merged = NULL;
	size_t n_loaded = 0, n_merged = 0;
	struct bc_route acc[6];
	char a[INET6_ADDRSTRLEN];

	(void)state;
	conf6(&c);
	assert_int_equal(owners_open(&o, &c), 0);
	/* node2's /64 (best; BIRD lists the global and the link-local next
	 * hop) and node3's claim on it (not best) are learned as node2's; a /65,
	 * a link-local next hop, a subnet outside the /48, our own subnet and
	 * an external peer's route are not learned. An IPv4 route is IPv4's. */
	acc[0] = route("fd00:10:244:2::/64", "node_node2", "fd00:172:31::12 fe80::12", true);
	acc[1] = route("fd00:10:244:2::/64", "node_node3", "fd00:172:31::13 fe80::13", false);
	acc[2] = route("fd00:10:244:7::/65", "node_node3", "fd00:172:31::13", true);
	acc[3] = route("fd00:10:244:8::/64", "node_node3", "fe80::13", true);
	acc[4] = route("fd00:10:245:3::/64", "node_node3", "fd00:172:31::13", true);
	acc[5] = route("fd00:10:244:9::/64", "peer_tor6", "fd00:172:31::1", true);
	owners_update(&o, &c, acc, 6, NULL, 0, 1000);
	assert_true(o.changed);
	assert_int_equal(o.n_learned, 0);
	assert_int_equal(o.n_learned6, 1);
	assert_string_equal(o.learned6[0].name, "node2");
	assert_int_equal(o.learned6[0].len, 64);
	inet_ntop(AF_INET6, &o.learned6[0].via, a, sizeof(a));
	assert_string_equal(a, "fd00:172:31::12");
	/* kept in the file, read back the same; rendered */
	assert_int_equal(owners_load6(&c, &loaded, &n_loaded), 0);
	assert_int_equal(n_loaded, 1);
	inet_ntop(AF_INET6, &loaded[0].net, a, sizeof(a));
	assert_string_equal(a, "fd00:10:244:2::");
	free(loaded);
	assert_int_equal(owners_merge6(o.learned6, o.n_learned6, &c, &merged, &n_merged), 0);
	assert_int_equal(n_merged, 1);
	free(merged);
	owners_done(&o);
	/* a restart reads it back */
	assert_int_equal(owners_open(&o, &c), 0);
	assert_int_equal(o.n_learned6, 1);
	o.changed = false;
	owners_update(&o, &c, acc, 1, NULL, 0, 2000);
	assert_false(o.changed);
	/* gone: kept for the graceful-restart time, then forgotten */
	owners_update(&o, &c, NULL, 0, NULL, 0, 3000);
	owners_update(&o, &c, NULL, 0, NULL, 0, 3000 + 119000);
	assert_int_equal(o.n_learned6, 1);
	owners_update(&o, &c, NULL, 0, NULL, 0, 3000 + 120000);
	assert_true(o.changed);
	assert_int_equal(o.n_learned6, 0);
	/* a mesh entry's pod_cidr6 makes learning moot, and drops a learned
	 * owner from what is rendered */
	owners_update(&o, &c, acc, 1, NULL, 0, 200000);
	assert_int_equal(o.n_learned6, 1);
	inet_pton(AF_INET6, "fd00:10:244:2::", &mesh[0].pod_net6);
	mesh[0].pod_len6 = 64;
	assert_int_equal(owners_merge6(o.learned6, o.n_learned6, &c, &merged, &n_merged), 0);
	assert_int_equal(n_merged, 0);
	free(merged);
	owners_update(&o, &c, acc, 1, NULL, 0, 201000);
	assert_int_equal(o.n_learned6, 0);
	owners_done(&o);
	/* IPv6-only (no IPv4 cluster): learned the same way */
	conf6(&c);
	c.cluster_len = 0;
	c.address.s_addr = 0;
	assert_int_equal(owners_open(&o, &c), 0);
	owners_update(&o, &c, acc, 1, NULL, 0, 1000);
	assert_int_equal(o.n_learned6, 1);
	owners_done(&o);
}

static void test_conflicts6(void **state)
{
	struct roostd_conf c;
	struct owners o;
	struct bc_route acc[2], filt[5];
	struct owners_conflict *v = NULL;

	(void)state;
	conf6(&c);
	assert_int_equal(owners_open(&o, &c), 0);
	acc[0] = route("fd00:10:244:2::/64", "node_node2", "fd00:172:31::12 fe80::12", true);
	acc[1] = route("10.244.2.0/24", "node_node2", "172.31.0.12", true);
	owners_update(&o, &c, acc, 2, NULL, 0, 1000);
	assert_int_equal(o.n_learned, 1);
	assert_int_equal(o.n_learned6, 1);
	/* node3 claims node2's /64, ours, and node2's /24; a /65 and the
	 * owner's own route filtered for another reason are no conflicts */
	filt[0] = route("fd00:10:244:2::/64", "node_node3", "fd00:172:31::13 fe80::13", false);
	filt[1] = route("fd00:10:244:1::/64", "node_node3", "fd00:172:31::13", false);
	filt[2] = route("fd00:10:244:7::/65", "node_node3", "fd00:172:31::13", false);
	filt[3] = route("fd00:10:244:2::/64", "node_node2", "fd00:172:31::12", false);
	filt[4] = route("10.244.2.0/24", "node_node3", "172.31.0.13", false);
	owners_update(&o, &c, acc, 2, filt, 5, 2000);
	assert_int_equal(o.n_conflicts, 3);
	assert_int_equal(o.conflicts_total, 3);
	assert_string_equal(o.conflicts[0].subnet, "10.244.2.0/24");
	assert_string_equal(o.conflicts[1].subnet, "fd00:10:244:2::/64");
	assert_string_equal(o.conflicts[1].owner, "node2");
	assert_string_equal(o.conflicts[1].claimant, "node3");
	assert_string_equal(o.conflicts[1].session, "node_node3");
	assert_string_equal(o.conflicts[2].subnet, "fd00:10:244:1::/64");
	assert_string_equal(o.conflicts[2].owner, "node1");
	/* the audit's view (from the file) is the same */
	assert_int_equal(owners_conflicts6(&c, o.learned6, o.n_learned6, filt, 5, &v), 2);
	free(v);
	owners_update(&o, &c, acc, 2, NULL, 0, 3000);
	assert_int_equal(o.n_conflicts, 0);
	owners_done(&o);
}

/* A dual-stack reflector learns each IPv4 client's IPv6 address: the first
 * global IPv6 next hop an accepted route from its session had. */
static void test_clients6(void **state)
{
	struct roostd_conf c;
	struct owners o;
	struct bc_route acc[5];
	struct bc_client6 *v = NULL;
	size_t n = 0;
	char a[INET6_ADDRSTRLEN];

	(void)state;
	conf6(&c);
	c.n_mesh = 0;
	c.reflector = true;
	inet_pton(AF_INET, "172.31.0.0", &c.rr_clients_net);
	c.rr_clients_len = 24;
	assert_int_equal(owners_open(&o, &c), 0);
	acc[0] = route("fd00:10:244:3::/64", "client_1", "fd00:172:31::13 fe80::13", true);
	strcpy(acc[0].from, "172.31.0.13");
	/* the same client again with another next hop: the first one stays */
	acc[1] = route("fd00:10:244:9::/64", "client_1", "fd00:172:31::19", true);
	strcpy(acc[1].from, "172.31.0.13");
	/* another client with node3's address: not learned */
	acc[2] = route("fd00:10:244:4::/64", "client_2", "fd00:172:31::13", false);
	strcpy(acc[2].from, "172.31.0.14");
	/* an IPv6-only client (IPv6 session), and a link-local next hop: no */
	acc[3] = route("fd00:10:244:5::/64", "client6_1", "fd00:172:31::15", true);
	strcpy(acc[3].from, "fd00:172:31::15");
	acc[4] = route("fd00:10:244:6::/64", "client_3", "fe80::16", true);
	strcpy(acc[4].from, "172.31.0.16");
	owners_update(&o, &c, acc, 5, NULL, 0, 1000);
	assert_true(o.changed);
	assert_int_equal(o.n_clients6, 1);
	assert_string_equal(inet_ntoa(o.clients6[0].from), "172.31.0.13");
	inet_ntop(AF_INET6, &o.clients6[0].via, a, sizeof(a));
	assert_string_equal(a, "fd00:172:31::13");
	assert_int_equal(owners_clients6(o.clients6, o.n_clients6, &c, &v, &n), 0);
	assert_int_equal(n, 1);
	free(v);
	owners_done(&o);
	/* kept in the file */
	assert_int_equal(owners_open(&o, &c), 0);
	assert_int_equal(o.n_clients6, 1);
	/* gone for the restart time: forgotten */
	owners_update(&o, &c, NULL, 0, NULL, 0, 2000);
	owners_update(&o, &c, NULL, 0, NULL, 0, 2000 + 120000);
	assert_int_equal(o.n_clients6, 0);
	/* not a reflector (any more): nothing learned, nothing rendered */
	c.reflector = false;
	owners_update(&o, &c, acc, 1, NULL, 0, 200000);
	assert_int_equal(o.n_clients6, 0);
	owners_done(&o);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(state_dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char path[256];

	(void)state;
	snprintf(path, sizeof(path), "%s/owners.json", state_dir);
	unlink(path);
	rmdir(state_dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_learn_keep_forget),
		cmocka_unit_test(test_conflicts),
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_learn6),
		cmocka_unit_test(test_conflicts6),
		cmocka_unit_test(test_clients6),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
