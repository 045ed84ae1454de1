/* SPDX-License-Identifier: MIT */
/*
 * test-render.c - the renderer's contract beyond the golden files: model
 * validation (nothing from the config can inject BIRD syntax), the origin
 * node id, determinism, and SHA-256 against FIPS 180-4 vectors.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "birdconf.h"

static struct bc_peer peers[2];

static void base_node(struct bc_node *n)
{
	memset(n, 0, sizeof(*n));
	strcpy(n->name, "node1");
	inet_pton(AF_INET, "172.31.0.11", &n->address);
	inet_pton(AF_INET, "10.244.1.0", &n->pod_net);
	n->pod_len = 24;
	inet_pton(AF_INET, "10.244.0.0", &n->cluster_net);
	n->cluster_len = 16;
	n->cluster_asn = n->asn = 64512;
	strcpy(peers[0].name, "node2");
	inet_pton(AF_INET, "172.31.0.12", &peers[0].address);
	strcpy(peers[1].name, "node3");
	inet_pton(AF_INET, "172.31.0.13", &peers[1].address);
	n->mesh = peers;
	n->n_mesh = 2;
	n->bfd_mode = BC_BFD_GRACEFUL;
	n->bfd_interval_ms = 100;
	n->bfd_multiplier = 3;
	n->gr_enabled = true;
	n->gr_restart_time = 120;
	n->hold_time = 90;
	n->keepalive_time = 30;
	n->import_limit = 1024;
	n->kernel_metric = BC_KERNEL_METRIC_DEFAULT;
	n->source = "/etc/roost/roostd.conf";
	n->source_hash = "00ff";
}

static void test_valid_renders(void **state)
{
	struct bc_node n;
	struct rst_err e;
	char *a = NULL, *b = NULL;

	base_node(&n);
	assert_int_equal(bc_render_string(&n, &a, &e), 0);
	assert_int_equal(bc_render_string(&n, &b, &e), 0);
	assert_string_equal(a, b); /* deterministic */
	assert_non_null(strstr(a, "router id 172.31.0.11;\n"));
	assert_non_null(strstr(a, "protocol bgp node_node2 from roost_node {"));
	assert_non_null(strstr(a, "neighbor 172.31.0.13 as NODE_AS;"));
	assert_non_null(strstr(a, "define NODE_ID = 1;"));
	assert_non_null(strstr(a, "define POD_NETS = [ 10.244.0.0/16{24,24} ];"));
	assert_non_null(strstr(a, "bfd { interval 100 ms; multiplier 3; graceful; };"));
	assert_null(strstr(a, "\ninclude \""));
	free(a);
	free(b);
}

/* Each mutation must be refused by bc_node_validate, with a message. */
static void mut_name_quote(struct bc_node *n) { strcpy(n->name, "a\"b"); }
static void mut_name_empty(struct bc_node *n) { n->name[0] = '\0'; }
static void mut_name_upper(struct bc_node *n) { strcpy(n->name, "Node1"); }
static void mut_name_brace(struct bc_node *n) { strcpy(n->name, "x};"); }
static void mut_peer_space(struct bc_node *n) { strcpy(peers[1].name, "a b"); }
static void mut_peer_dup(struct bc_node *n) { strcpy(peers[1].name, "node2"); }
static void mut_peer_self(struct bc_node *n) { peers[0].address = n->address; }
static void mut_include_quote(struct bc_node *n) { n->include = "/x\"; protocol static y {"; }
static void mut_include_nl(struct bc_node *n) { n->include = "/x\nprotocol static y {}"; }
static void mut_include_rel(struct bc_node *n) { n->include = "snippet.conf"; }
static void mut_source_nl(struct bc_node *n) { n->source = "/a\nrouter id 1.1.1.1;"; }
static void mut_hash(struct bc_node *n) { n->source_hash = "zz;"; }
static void mut_pod_hostbits(struct bc_node *n) { n->pod_net.s_addr = htonl(ntohl(n->pod_net.s_addr) + 1); }
static void mut_pod_outside(struct bc_node *n) { inet_pton(AF_INET, "10.245.1.0", &n->pod_net); }
static void mut_metric32(struct bc_node *n) { n->kernel_metric = 32; }
static void mut_keepalive(struct bc_node *n) { n->keepalive_time = 31; }
static void mut_bfd(struct bc_node *n) { n->bfd_interval_ms = 1; }
static void mut_asn0(struct bc_node *n) { n->asn = 0; }
static void mut_limit0(struct bc_node *n) { n->import_limit = 0; }

static void test_invalid_refused(void **state)
{
	static void (*const muts[])(struct bc_node *) = {
		mut_name_quote, mut_name_empty,    mut_name_upper,  mut_name_brace,   mut_peer_space,
		mut_peer_dup,   mut_peer_self,     mut_include_quote, mut_include_nl, mut_include_rel,
		mut_source_nl,  mut_hash,          mut_pod_hostbits, mut_pod_outside, mut_metric32,
		mut_keepalive,  mut_bfd,           mut_asn0,        mut_limit0,
	};

	for (size_t i = 0; i < sizeof(muts) / sizeof(muts[0]); i++) {
		struct bc_node n;
		struct rst_err e;
		char *text = NULL;

		base_node(&n);
		muts[i](&n);
		memset(&e, 0, sizeof(e));
		assert_int_equal(bc_render_string(&n, &text, &e), -EINVAL);
		assert_null(text);
		assert_true(e.msg[0] != '\0');
	}
}

static void test_hyphen_symbols(void **state)
{
	struct bc_node n;
	struct rst_err e;
	char *text = NULL;

	base_node(&n);
	strcpy(peers[0].name, "rack-1-n2");
	assert_int_equal(bc_render_string(&n, &text, &e), 0);
	assert_non_null(strstr(text, "protocol bgp node_rack_1_n2 from roost_node {"));
	assert_non_null(strstr(text, "description \"mesh node rack-1-n2\";"));
	free(text);
}

static void test_node_id(void **state)
{
	static const struct {
		const char *pod, *cluster;
		unsigned pod_len, cluster_len;
		uint32_t id;
	} t[] = {
		{"10.244.1.0", "10.244.0.0", 24, 16, 1},
		{"10.244.255.0", "10.244.0.0", 24, 16, 255},
		{"10.244.0.0", "10.244.0.0", 24, 16, 0},
		{"10.60.7.64", "10.60.0.0", 26, 16, 7 * 4 + 1},
		{"10.3.0.0", "10.0.0.0", 16, 8, 3},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct bc_node n;

		base_node(&n);
		inet_pton(AF_INET, t[i].pod, &n.pod_net);
		inet_pton(AF_INET, t[i].cluster, &n.cluster_net);
		n.pod_len = t[i].pod_len;
		n.cluster_len = t[i].cluster_len;
		assert_int_equal(bc_node_id(&n), t[i].id);
	}
}

static void test_sha256(void **state)
{
	static const struct {
		const char *in, *hex;
	} t[] = {
		{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
	};
	char out[65];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		bc_sha256_hex(t[i].in, strlen(t[i].in), out);
		assert_string_equal(out, t[i].hex);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_renders),  cmocka_unit_test(test_invalid_refused),
		cmocka_unit_test(test_hyphen_symbols), cmocka_unit_test(test_node_id),
		cmocka_unit_test(test_sha256),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
