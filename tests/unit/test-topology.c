/* SPDX-License-Identifier: MIT */
/*
 * test-topology.c - who peers with whom in Kubernetes mode, from the Nodes'
 * route-reflector labels (agent/topology.c): no label, a full mesh (the
 * caller's); a reflector meshes with the other reflectors and with nodes of
 * an ASN without a reflector, and takes the rest as clients; a client peers
 * with its ASN's reflectors only; every node's subnet stays owned by it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "topology.h"

#define ASN 64512

static struct topo_node node(int k, bool reflector)
{
	struct topo_node t;
	char a[32];

	memset(&t, 0, sizeof(t));
	snprintf(t.name, sizeof(t.name), "node%d", k);
	snprintf(a, sizeof(a), "172.31.0.%d", 10 + k);
	inet_pton(AF_INET, a, &t.address);
	snprintf(a, sizeof(a), "10.244.%d.0", k);
	inet_pton(AF_INET, a, &t.net);
	t.len = 24;
	t.reflector = reflector;
	return t;
}

static const char *names(const struct bc_peer *p, size_t n)
{
	static char buf[256];

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", i ? " " : "",
			 p[i].name);
	return buf;
}

static const char *owner_names(const struct topo *t)
{
	static char buf[256];

	buf[0] = '\0';
	for (size_t i = 0; i < t->n_owners; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", i ? " " : "",
			 t->owners[i].name);
	return buf;
}

/* Nodes 2..5 as seen from node1 (self), with the reflectors in rr[]. */
static void five(struct topo_node *self, struct topo_node p[4], const bool rr[6])
{
	*self = node(1, rr[1]);
	for (int k = 2; k <= 5; k++)
		p[k - 2] = node(k, rr[k]);
}

static void test_no_label_full_mesh(void **state)
{
	struct topo_node self, p[4];
	struct topo t = {.n_mesh = 99};
	const bool rr[6] = {false};

	five(&self, p, rr);
	assert_int_equal(topo_build(&self, p, 4, ASN, &t), 0);
	assert_int_equal(t.n_mesh, 99); /* untouched: the caller's full mesh */
	/* Nobody else either: a lone node */
	assert_int_equal(topo_build(&self, NULL, 0, ASN, &t), 0);
}

static void test_client(void **state)
{
	struct topo_node self, p[4];
	struct topo t;
	const bool rr[6] = {false, false, true, true, false, false};

	five(&self, p, rr);
	assert_int_equal(topo_build(&self, p, 4, ASN, &t), 1);
	assert_false(t.reflector);
	assert_int_equal(t.n_mesh, 0);
	assert_string_equal(names(t.rrs, t.n_rrs), "node2 node3");
	assert_int_equal(t.rrs[0].pod_len, 0);
	/* every other node's subnet is owned by its address, exclusively */
	assert_string_equal(owner_names(&t), "node2 node3 node4 node5");
	for (size_t i = 0; i < t.n_owners; i++) {
		assert_true(t.owners[i].exclusive);
		assert_false(t.owners[i].learned);
		assert_int_equal(t.owners[i].len, 24);
		assert_int_equal(t.owners[i].via.s_addr, p[i].address.s_addr);
		assert_int_equal(t.owners[i].net.s_addr, p[i].net.s_addr);
	}
	topo_free(&t);
}

static void test_reflector(void **state)
{
	struct topo_node self, p[4];
	struct topo t;
	const bool rr[6] = {false, true, false, true, false, false};
	struct in_addr cid;

	five(&self, p, rr);
	assert_int_equal(topo_build(&self, p, 4, ASN, &t), 1);
	assert_true(t.reflector);
	/* default cluster id: its own address */
	assert_int_equal(t.cluster_id.s_addr, self.address.s_addr);
	/* the other reflector is a mesh neighbour owning its subnet there */
	assert_string_equal(names(t.mesh, t.n_mesh), "node3");
	assert_int_equal(t.mesh[0].pod_net.s_addr, p[1].net.s_addr);
	assert_int_equal(t.mesh[0].pod_len, 24);
	assert_int_equal(t.n_rrs, 0);
	/* the clients come from the range; their subnets stay owned */
	assert_string_equal(owner_names(&t), "node2 node4 node5");
	topo_free(&t);

	/* the annotation's cluster id wins */
	inet_pton(AF_INET, "10.0.0.1", &cid);
	self.cluster_id = cid;
	assert_int_equal(topo_build(&self, p, 4, ASN, &t), 1);
	assert_int_equal(t.cluster_id.s_addr, cid.s_addr);
	topo_free(&t);

	/* the only reflector: no mesh at all, every node a client */
	p[1].reflector = false;
	assert_int_equal(topo_build(&self, p, 4, ASN, &t), 1);
	assert_int_equal(t.n_mesh, 0);
	assert_int_equal(t.n_owners, 4);
	topo_free(&t);
}

/* node5 has an ASN of its own, with no reflector in it. */
static void test_other_asn(void **state)
{
	struct topo_node self, p[4];
	struct topo t;
	const bool rr[6] = {false, true, true, false, false, false};

	five(&self, p, rr);
	p[3].asn = 64513;
	/* a reflector meshes with it (eBGP) and with the other reflector */
	assert_int_equal(topo_build(&self, p, 4, ASN, &t), 1);
	assert_string_equal(names(t.mesh, t.n_mesh), "node2 node5");
	assert_int_equal(t.mesh[1].asn, 64513);
	assert_string_equal(owner_names(&t), "node3 node4");
	topo_free(&t);

	/* a client of the cluster's ASN does not see node5 as a session */
	self = node(4, false);
	p[2] = node(1, true);
	assert_int_equal(topo_build(&self, p, 4, ASN, &t), 1);
	assert_string_equal(names(t.rrs, t.n_rrs), "node2 node1");
	assert_string_equal(owner_names(&t), "node2 node3 node1 node5");
	topo_free(&t);

	/* node5 itself: its ASN has no reflector, so it peers with all of them */
	self = node(5, false);
	self.asn = 64513;
	p[0] = node(1, true);
	p[1] = node(2, true);
	p[2] = node(3, false);
	p[3] = node(4, false);
	assert_int_equal(topo_build(&self, p, 4, ASN, &t), 1);
	assert_false(t.reflector);
	assert_int_equal(t.n_mesh, 0);
	assert_string_equal(names(t.rrs, t.n_rrs), "node1 node2");
	assert_int_equal(t.rrs[0].asn, 0); /* the cluster's: eBGP from 64513 */
	assert_string_equal(owner_names(&t), "node1 node2 node3 node4");
	topo_free(&t);
}

/* Reflectors in two ASNs: a client peers with its own ASN's only; the
 * reflectors mesh with each other across ASNs. */
static void test_two_asns(void **state)
{
	struct topo_node self, p[4];
	struct topo t;
	const bool rr[6] = {false, false, true, false, true, false};

	five(&self, p, rr);
	p[2].asn = 65001; /* node4: reflector of 65001 */
	p[3].asn = 65001; /* node5: its client */
	assert_int_equal(topo_build(&self, p, 4, ASN, &t), 1);
	assert_string_equal(names(t.rrs, t.n_rrs), "node2");
	topo_free(&t);
	self = node(5, false);
	self.asn = 65001;
	p[3] = node(1, false);
	assert_int_equal(topo_build(&self, p, 4, ASN, &t), 1);
	assert_string_equal(names(t.rrs, t.n_rrs), "node4");
	topo_free(&t);
	self = node(4, true);
	self.asn = 65001;
	p[2] = node(5, false);
	p[2].asn = 65001;
	assert_int_equal(topo_build(&self, p, 4, ASN, &t), 1);
	/* node2, the other ASN's reflector: a mesh neighbour; node1, node3 are
	 * its clients, node5 ours */
	assert_string_equal(names(t.mesh, t.n_mesh), "node2");
	assert_string_equal(owner_names(&t), "node3 node5 node1");
	topo_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_label_full_mesh), cmocka_unit_test(test_client),
		cmocka_unit_test(test_reflector),	   cmocka_unit_test(test_other_asn),
		cmocka_unit_test(test_two_asns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
