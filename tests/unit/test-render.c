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
static struct bc_peer rrs[2];
static struct bc_prefix allow[2];
static struct bc_ext_peer ext[2];
static struct bc_owner owners[2];

static void base_node(struct bc_node *n)
{
	memset(n, 0, sizeof(*n));
	memset(peers, 0, sizeof(peers));
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

/* base_node with an eBGP ToR and an iBGP multihop peer instead of nothing. */
static void peers_node(struct bc_node *n)
{
	base_node(n);
	memset(ext, 0, sizeof(ext));
	inet_pton(AF_INET, "198.51.100.0", &allow[0].net);
	allow[0].len = 24;
	inet_pton(AF_INET, "203.0.113.0", &allow[1].net);
	allow[1].len = 25;
	strcpy(ext[0].name, "tor-1");
	inet_pton(AF_INET, "172.31.0.1", &ext[0].address);
	ext[0].asn = 65000;
	strcpy(ext[0].password, "pa ss'w0rd");
	ext[0].bfd_mode = BC_BFD_STRICT;
	ext[0].ttl_security = true;
	ext[0].import_limit = 100;
	ext[0].import = allow;
	ext[0].n_import = 2;
	strcpy(ext[1].name, "rs");
	inet_pton(AF_INET, "192.0.2.9", &ext[1].address);
	ext[1].asn = 64512;
	ext[1].multihop = 3;
	ext[1].bfd_mode = BC_BFD_OFF;
	ext[1].import_limit = 5;
	n->peers = ext;
	n->n_peers = 2;
}

/* A route reflector client of two reflectors. */
static void rr_client_node(struct bc_node *n)
{
	base_node(n);
	n->mesh = NULL;
	n->n_mesh = 0;
	strcpy(rrs[0].name, "rr1");
	inet_pton(AF_INET, "172.31.0.2", &rrs[0].address);
	strcpy(rrs[1].name, "rr-2");
	inet_pton(AF_INET, "172.31.0.3", &rrs[1].address);
	n->route_reflectors = rrs;
	n->n_route_reflectors = 2;
}

/* A reflector without pods, meshed with node2 and node3 (the other reflectors). */
static void reflector_node(struct bc_node *n)
{
	base_node(n);
	n->no_pods = true;
	n->pod_net.s_addr = 0;
	n->reflector = true;
	inet_pton(AF_INET, "172.31.0.0", &n->rr_clients_net);
	n->rr_clients_len = 24;
	n->rr_cluster_id = n->address;
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
static void mut_rr_and_mesh(struct bc_node *n) { rr_client_node(n); n->mesh = peers; n->n_mesh = 2; }
static void mut_rr_self(struct bc_node *n) { rr_client_node(n); rrs[1].address = n->address; }
static void mut_rr_name(struct bc_node *n) { rr_client_node(n); strcpy(rrs[0].name, "rr1;"); }
static void mut_rr_dup_addr(struct bc_node *n) { rr_client_node(n); rrs[1].address = rrs[0].address; }
static void mut_refl_client(struct bc_node *n) { rr_client_node(n); n->reflector = true; n->rr_clients_len = 24; n->rr_cluster_id = n->address; }
static void mut_refl_hostbits(struct bc_node *n) { reflector_node(n); n->rr_clients_len = 8; }
static void mut_refl_cid0(struct bc_node *n) { reflector_node(n); n->rr_cluster_id.s_addr = 0; }
static void mut_nopods_noreflector(struct bc_node *n) { n->no_pods = true; }
static void mut_nopods_peers(struct bc_node *n) { peers_node(n); n->no_pods = true; n->reflector = true; n->rr_clients_len = 24; inet_pton(AF_INET, "172.31.0.0", &n->rr_clients_net); n->rr_cluster_id = n->address; }
static void mut_pw_quote(struct bc_node *n) { peers_node(n); strcpy(ext[0].password, "x\"; }; protocol static pwinj {"); }
static void mut_pw_backslash(struct bc_node *n) { peers_node(n); strcpy(ext[0].password, "a\\b"); }
static void mut_pw_newline(struct bc_node *n) { peers_node(n); strcpy(ext[0].password, "a\nb"); }
static void mut_pw_long(struct bc_node *n) { peers_node(n); memset(ext[0].password, 'a', BC_PASSWORD_MAX + 1); }
static void mut_ext_name(struct bc_node *n) { peers_node(n); strcpy(ext[1].name, "a\""); }
static void mut_ext_dup(struct bc_node *n) { peers_node(n); strcpy(ext[1].name, "tor-1"); }
static void mut_ext_asn0(struct bc_node *n) { peers_node(n); ext[0].asn = 0; }
static void mut_ext_mesh_addr(struct bc_node *n) { peers_node(n); ext[1].address = peers[0].address; }
static void mut_ext_hop(struct bc_node *n) { peers_node(n); ext[1].multihop = 256; }
static void mut_ext_default(struct bc_node *n) { peers_node(n); allow[1].net.s_addr = 0; allow[1].len = 0; }
static void mut_ext_in_cluster(struct bc_node *n) { peers_node(n); inet_pton(AF_INET, "10.244.9.0", &allow[1].net); allow[1].len = 24; }
static void mut_ext_hostbits(struct bc_node *n) { peers_node(n); allow[1].len = 8; }
static void mut_ext_limit0(struct bc_node *n) { peers_node(n); ext[0].import_limit = 0; }

/* Announced addresses and export policy (bgp.announce, bgp.peers[].export...). */
static struct bc_announce ann[3];
static struct bc_community comm[BC_COMMUNITY_MAX + 1];
static struct bc_large_community lcomm[2];

static void announce_node(struct bc_node *n)
{
	peers_node(n);
	memset(ann, 0, sizeof(ann));
	inet_pton(AF_INET, "192.0.2.10", &ann[0].net);
	ann[0].len = 32;
	ann[0].when = BC_ANNOUNCE_LOCAL;
	inet_pton(AF_INET, "198.51.100.64", &ann[1].net);
	ann[1].len = 28;
	ann[1].when = BC_ANNOUNCE_ALWAYS;
	n->announce = ann;
	n->n_announce = 2;
}
static void mut_ann_hostbits(struct bc_node *n) { announce_node(n); ann[1].len = 24; }
static void mut_ann_default(struct bc_node *n)
{
	announce_node(n);
	ann[1].net.s_addr = 0;
	ann[1].len = 0;
}
static void mut_ann_in_cluster(struct bc_node *n)
{
	announce_node(n);
	inet_pton(AF_INET, "10.244.9.9", &ann[0].net);
}
static void mut_ann_covers_cluster(struct bc_node *n)
{
	announce_node(n);
	inet_pton(AF_INET, "10.0.0.0", &ann[1].net);
	ann[1].len = 8;
}
static void mut_ann_twice(struct bc_node *n) { announce_node(n); ann[1] = ann[0]; }
static void mut_ann_node_addr(struct bc_node *n)
{
	announce_node(n);
	inet_pton(AF_INET, "172.31.0.0", &ann[1].net);
	ann[1].len = 24;
}
static void mut_ann_peer_addr(struct bc_node *n)
{
	announce_node(n);
	inet_pton(AF_INET, "192.0.2.9", &ann[0].net); /* peer rs */
}
static void mut_ann_when(struct bc_node *n) { announce_node(n); ann[0].when = 7; }
static void mut_ann_nopods(struct bc_node *n)
{
	announce_node(n);
	n->n_peers = 0;
	n->no_pods = true;
	n->pod_net.s_addr = 0;
	n->reflector = true;
	inet_pton(AF_INET, "172.31.0.0", &n->rr_clients_net);
	n->rr_clients_len = 24;
	n->rr_cluster_id = n->address;
}
static void mut_ext_export(struct bc_node *n) { peers_node(n); ext[0].export = 9; }
static void mut_ext_prepend(struct bc_node *n) { peers_node(n); ext[0].prepend = BC_PREPEND_MAX + 1; }
static void mut_ext_prepend_ibgp(struct bc_node *n) { peers_node(n); ext[1].prepend = 1; }
static void mut_ext_communities(struct bc_node *n)
{
	peers_node(n);
	ext[0].communities = comm;
	ext[0].n_communities = BC_COMMUNITY_MAX + 1;
}

/* base_node where node2's subnet is known from the mesh entry, and a lease
 * (node5, exclusive) and a first announcer (node9) own two more. */
static void owners_node(struct bc_node *n)
{
	base_node(n);
	inet_pton(AF_INET, "10.244.2.0", &peers[0].pod_net);
	peers[0].pod_len = 24;
	memset(owners, 0, sizeof(owners));
	inet_pton(AF_INET, "10.244.5.0", &owners[0].net);
	owners[0].len = 24;
	inet_pton(AF_INET, "172.31.0.15", &owners[0].via);
	strcpy(owners[0].name, "node5");
	owners[0].exclusive = true;
	inet_pton(AF_INET, "10.244.9.0", &owners[1].net);
	owners[1].len = 24;
	inet_pton(AF_INET, "172.31.0.19", &owners[1].via);
	owners[1].learned = true;
	n->owners = owners;
	n->n_owners = 2;
}

static void mut_owner_outside(struct bc_node *n) { owners_node(n); inet_pton(AF_INET, "8.8.8.0", &owners[0].net); }
static void mut_owner_len(struct bc_node *n) { owners_node(n); owners[0].len = 25; }
static void mut_owner_own(struct bc_node *n) { owners_node(n); owners[1].net = n->pod_net; }
static void mut_owner_twice(struct bc_node *n) { owners_node(n); owners[1].net = peers[0].pod_net; }
static void mut_owner_via0(struct bc_node *n) { owners_node(n); owners[0].via.s_addr = 0; }
static void mut_owner_self(struct bc_node *n) { owners_node(n); owners[0].via = n->address; }
static void mut_owner_name(struct bc_node *n) { owners_node(n); strcpy(owners[0].name, "a;b"); }
static void mut_mesh_pod_own(struct bc_node *n) { owners_node(n); peers[0].pod_net = n->pod_net; }
static void mut_mesh_pw(struct bc_node *n) { strcpy(n->password, "x\"; }; protocol static pwinj {"); }
static void mut_rr_pw(struct bc_node *n) { reflector_node(n); memset(n->rr_password, 'a', BC_PASSWORD_MAX + 1); }

/* Ownership: what each session accepts, in the rendered policy. */
static void test_owners(void **state)
{
	struct bc_node n;
	struct rst_err e;
	char *a = NULL;

	owners_node(&n);
	strcpy(n.password, "s3cret pw");
	assert_int_equal(bc_render_string(&n, &a, &e), 0);
	/* the mesh entry's subnet, a lease's and a first announcer's */
	assert_non_null(strstr(a, "\tif net = 10.244.2.0/24 then return bgp_next_hop = 172.31.0.12;   # node2 (bgp.mesh)\n"));
	assert_non_null(strstr(a, "\tif net = 10.244.5.0/24 then return bgp_next_hop = 172.31.0.15;   # node5 (lease)\n"));
	assert_non_null(strstr(a, "\tif net = 10.244.9.0/24 then return bgp_next_hop = 172.31.0.19;   # 172.31.0.19 (first announcer)\n"));
	/* owners by configuration or lease announce nothing else; a first
	 * announcer may (its node may have been given another subnet) */
	assert_non_null(strstr(a, "\tif bgp_next_hop ~ [ 172.31.0.12, 172.31.0.15 ] then return false;\n"));
	/* mesh sessions: next hop = the neighbour, the owner check, a handful */
	assert_non_null(strstr(a, "\tif bgp_next_hop != from then reject;\n\tif !roost_owner_ok() then reject;\n"));
	assert_non_null(strstr(a, "\t\timport keep filtered on;\n\t\timport filter roost_import;\n"));
	assert_non_null(strstr(a, "\t\treceive limit 8 action block;\n"));
	assert_non_null(strstr(a, "\tpassword \"s3cret pw\";\n"));
	assert_null(strstr(a, "roost_import_reflected"));
	free(a);

	/* a route reflector client: reflected routes keep their next hop */
	owners_node(&n);
	n.mesh = NULL;
	n.n_mesh = 0;
	rr_client_node(&n);
	n.owners = owners;
	n.n_owners = 2;
	assert_int_equal(bc_render_string(&n, &a, &e), 0);
	assert_non_null(strstr(a, "\t\timport filter roost_import_reflected;\n"));
	assert_non_null(strstr(a, "\t\treceive limit 1024 action block;\n"));
	assert_null(strstr(a, "password"));
	free(a);
}

static void test_invalid_refused(void **state)
{
	static void (*const muts[])(struct bc_node *) = {
		mut_name_quote, mut_name_empty,    mut_name_upper,  mut_name_brace,   mut_peer_space,
		mut_peer_dup,   mut_peer_self,     mut_include_quote, mut_include_nl, mut_include_rel,
		mut_source_nl,  mut_hash,          mut_pod_hostbits, mut_pod_outside, mut_metric32,
		mut_keepalive,  mut_bfd,           mut_asn0,        mut_limit0,
		mut_rr_and_mesh, mut_rr_self, mut_rr_name, mut_rr_dup_addr, mut_refl_client,
		mut_refl_hostbits, mut_refl_cid0, mut_nopods_noreflector, mut_nopods_peers,
		mut_pw_quote, mut_pw_backslash, mut_pw_newline, mut_pw_long, mut_ext_name,
		mut_ext_dup, mut_ext_asn0, mut_ext_mesh_addr, mut_ext_hop, mut_ext_default,
		mut_ext_in_cluster, mut_ext_hostbits, mut_ext_limit0, mut_owner_outside,
		mut_owner_len, mut_owner_own, mut_owner_twice, mut_owner_via0, mut_owner_self,
		mut_owner_name, mut_mesh_pod_own, mut_mesh_pw, mut_rr_pw,
		mut_ann_hostbits, mut_ann_default, mut_ann_in_cluster, mut_ann_covers_cluster,
		mut_ann_twice, mut_ann_when, mut_ann_nopods, mut_ext_export, mut_ext_prepend,
		mut_ext_prepend_ibgp, mut_ext_communities, mut_ann_node_addr, mut_ann_peer_addr,
	};

	for (size_t i = 0; i < sizeof(muts) / sizeof(muts[0]); i++) {
		struct bc_node n;
		struct rst_err e;
		char *text = NULL;

		base_node(&n);
		muts[i](&n);
		memset(&e, 0, sizeof(e));
		if (bc_render_string(&n, &text, &e) != -EINVAL)
			fail_msg("mutation %zu was not refused", i);
		assert_null(text);
		assert_true(e.msg[0] != '\0');
		/* A password never reaches a message (messages reach logs). */
		assert_null(strstr(e.msg, "pa ss"));
		assert_null(strstr(e.msg, "pwinj"));
		assert_null(strstr(e.msg, "aaaaaaaa"));
	}
}

static char *render_ok(const struct bc_node *n)
{
	struct rst_err e;
	char *a = NULL, *b = NULL;

	if (bc_render_string(n, &a, &e) < 0)
		fail_msg("render: %s", e.msg);
	assert_int_equal(bc_render_string(n, &b, &e), 0);
	assert_string_equal(a, b); /* deterministic */
	free(b);
	return a;
}

/* ---- Dual-stack ---- */

static struct bc_prefix6 allow6[1];

/* base_node with IPv6: node, cluster, and node2 with its IPv6 subnet. */
static void dual_node(struct bc_node *n)
{
	base_node(n);
	inet_pton(AF_INET6, "fd00:172:31::11", &n->address6);
	inet_pton(AF_INET6, "fd00:10:244:1::", &n->pod_net6);
	n->pod_len6 = 64;
	inet_pton(AF_INET6, "fd00:10:244::", &n->cluster_net6);
	n->cluster_len6 = 48;
	inet_pton(AF_INET6, "fd00:172:31::12", &peers[0].address6);
	inet_pton(AF_INET6, "fd00:10:244:2::", &peers[0].pod_net6);
	peers[0].pod_len6 = 64;
}

/* dual_node made IPv6-only: no IPv4 at all, a router id. */
static void v6_only_node(struct bc_node *n)
{
	dual_node(n);
	memset(&n->address, 0, sizeof(n->address));
	memset(&n->pod_net, 0, sizeof(n->pod_net));
	memset(&n->cluster_net, 0, sizeof(n->cluster_net));
	n->pod_len = n->cluster_len = 0;
	memset(&peers[0].address, 0, sizeof(peers[0].address));
	memset(&peers[1].address, 0, sizeof(peers[1].address));
	inet_pton(AF_INET6, "fd00:172:31::13", &peers[1].address6);
	inet_pton(AF_INET, "0.0.0.17", &n->router_id);
}

static void mut6_link_local(struct bc_node *n) { inet_pton(AF_INET6, "fe80::11", &n->address6); }
static void mut6_no_address(struct bc_node *n) { memset(&n->address6, 0, 16); }
static void mut6_pod_outside(struct bc_node *n) { inet_pton(AF_INET6, "fd00:10:245:1::", &n->pod_net6); }
static void mut6_pod_hostbits(struct bc_node *n) { inet_pton(AF_INET6, "fd00:10:244:1::1", &n->pod_net6); }
static void mut6_len_short(struct bc_node *n) { n->pod_len6 = 48; }
static void mut6_mesh_own(struct bc_node *n) { peers[0].pod_net6 = n->pod_net6; }
static void mut6_mesh_pod_no_addr(struct bc_node *n) { memset(&peers[0].address6, 0, 16); }
static void mut6_mesh_len(struct bc_node *n) { peers[0].pod_len6 = 56; }
static void mut6_mesh_twice(struct bc_node *n)
{
	inet_pton(AF_INET6, "fd00:172:31::13", &peers[1].address6);
	peers[1].pod_net6 = peers[0].pod_net6;
	peers[1].pod_len6 = 64;
}
static void mut6_mesh_same_addr(struct bc_node *n) { peers[1].address6 = n->address6; }
static void mut6_mesh_dup_addr(struct bc_node *n) { peers[1].address6 = peers[0].address6; }
static void mut6_off_but_set(struct bc_node *n) { n->cluster_len6 = 0; }
static void mut6_peer_both(struct bc_node *n)
{
	memset(ext, 0, sizeof(ext));
	strcpy(ext[0].name, "tor");
	inet_pton(AF_INET, "172.31.0.1", &ext[0].address);
	inet_pton(AF_INET6, "fd00:172:31::1", &ext[0].address6);
	ext[0].asn = 65000;
	ext[0].import_limit = 10;
	n->peers = ext;
	n->n_peers = 1;
}
static void mut6_peer_multihop(struct bc_node *n)
{
	mut6_peer_both(n);
	ext[0].address.s_addr = 0;
	ext[0].multihop = 2;
}
static void mut6_peer_multihop_range(struct bc_node *n)
{
	mut6_peer_multihop(n);
	ext[0].multihop = 256;
}
static void mut6_peer_import_cluster(struct bc_node *n)
{
	mut6_peer_both(n);
	ext[0].address.s_addr = 0;
	inet_pton(AF_INET6, "fd00:10::", &allow6[0].net);
	allow6[0].len = 32;
	ext[0].import6 = allow6;
	ext[0].n_import6 = 1;
}
static void mut6only_no_router_id(struct bc_node *n) { v6_only_node(n); n->router_id.s_addr = 0; }
static void mut6only_v4_neighbour(struct bc_node *n)
{
	v6_only_node(n);
	memset(&peers[1].address6, 0, 16);
	inet_pton(AF_INET, "172.31.0.13", &peers[1].address);
}
static void mut6only_reflector(struct bc_node *n)
{
	v6_only_node(n);
	n->reflector = true;
}
static struct bc_peer rr6[1];
/* IPv6-only client of a reflector given by its IPv4 address */
static void mut6only_rr_v4(struct bc_node *n)
{
	v6_only_node(n);
	memset(rr6, 0, sizeof(rr6));
	strcpy(rr6[0].name, "rr1");
	inet_pton(AF_INET, "172.31.0.2", &rr6[0].address);
	n->n_mesh = 0;
	n->route_reflectors = rr6;
	n->n_route_reflectors = 1;
}
static void mut6_clients6_not_reflector(struct bc_node *n)
{
	inet_pton(AF_INET6, "fd00:172:31::", &n->rr_clients_net6);
	n->rr_clients_len6 = 64;
}
static void mut6_clients6_outside(struct bc_node *n)
{
	n->n_mesh = 0;
	n->reflector = true;
	inet_pton(AF_INET, "172.31.0.0", &n->rr_clients_net);
	n->rr_clients_len = 24;
	inet_pton(AF_INET, "172.31.0.11", &n->rr_cluster_id);
	inet_pton(AF_INET6, "fd00:172:32::", &n->rr_clients_net6);
	n->rr_clients_len6 = 64;
}

static void test_dual_stack(void **state)
{
	static void (*const muts[])(struct bc_node *) = {
		mut6_link_local,      mut6_no_address,	   mut6_pod_outside,	 mut6_pod_hostbits,
		mut6_len_short,	      mut6_mesh_own,	   mut6_mesh_pod_no_addr, mut6_mesh_len,
		mut6_mesh_twice,      mut6_mesh_same_addr, mut6_mesh_dup_addr,	 mut6_off_but_set,
		mut6_peer_both,
		mut6_peer_multihop_range, mut6_peer_import_cluster, mut6only_no_router_id,
		mut6only_v4_neighbour, mut6only_reflector, mut6only_rr_v4,
		mut6_clients6_not_reflector, mut6_clients6_outside,
	};
	struct bc_node n;
	char *text, *v4;

	/* IPv4 alone renders nothing of IPv6. */
	base_node(&n);
	v4 = render_ok(&n);
	assert_null(strstr(v4, "ipv6"));
	assert_null(strstr(v4, "NODE_ADDR6"));

	/* Dual-stack: one session per neighbour with both channels; the IPv4
	 * part is the IPv4-only text with the IPv6 lines added. */
	dual_node(&n);
	text = render_ok(&n);
	assert_non_null(strstr(text, "define OWN_POD_NET6 = fd00:10:244:1::/64;\n"));
	assert_non_null(strstr(text, "define POD_NETS6 = [ fd00:10:244::/48{64,64} ];\n"));
	assert_non_null(strstr(text, "\t\tnext hop address NODE_ADDR6;"));
	assert_non_null(strstr(text, "\tif net = fd00:10:244:2::/64 then return bgp_next_hop = fd00:172:31::12;"));
	assert_non_null(strstr(text, "\tif from = 172.31.0.12 then return bgp_next_hop = fd00:172:31::12;"));
	assert_non_null(strstr(text, "protocol kernel kernel6 {\n\tmetric 33;"));
	assert_non_null(strstr(text, "\tneighbor 172.31.0.12 as NODE_AS;\n"));
	assert_null(strstr(text, "neighbor fd00")); /* both sessions over IPv4 */
	assert_null(strstr(strstr(text, "filter roost_import6 {"), "if net.type != NET_IP4"
		    " then reject;\n\tif net.len = 0 then reject;\n\tif net = OWN_POD_NET6"));
	free(text);

	/* A multihop peer over IPv6: its next hop resolves recursively through
	 * master6, which learns the kernel's IPv6 routes and the connected IPv6
	 * subnets outside the cluster CIDR (roost_learn6); IPv4 is untouched:
	 * kernel4 learns nothing, no CLUSTER_NETS. */
	dual_node(&n);
	mut6_peer_multihop(&n);
	text = render_ok(&n);
	assert_non_null(strstr(text, "define CLUSTER_NETS6 = [ fd00:10:244::/48+ ];"));
	assert_null(strstr(text, "define CLUSTER_NETS ="));
	assert_null(strstr(text, "filter roost_learn {"));
	assert_non_null(strstr(text, "protocol kernel kernel4 {\n\tmetric 33;\n\tmerge paths on;\n"
				     "\tgraceful restart on;\n\tipv4 {\n\t\timport none;\n"));
	assert_non_null(strstr(text, "filter roost_learn6 {\n\tif net.type != NET_IP6 then reject;\n"
				     "\tif net ~ CLUSTER_NETS6 then reject;\n"));
	assert_non_null(strstr(text, "\tlearn;\n\tipv6 {\n\t\timport filter roost_learn6;\n"
				     "\t\texport filter roost_to_kernel6;\n"));
	assert_non_null(strstr(text, "protocol direct connected6 {\n\tipv6 {\n"
				     "\t\timport filter roost_learn6;\n"));
	assert_non_null(strstr(text, "\tneighbor fd00:172:31::1 as 65000;\n\tmultihop 2;\n"));
	assert_non_null(strstr(strstr(text, "protocol bgp peer_tor {"), "\t\tgateway recursive;\n"));
	/* the learned routes reach neither the kernel nor a BGP export */
	assert_non_null(strstr(strstr(text, "filter roost_to_kernel6 {"),
			       "\tif source != RTS_BGP then reject;\n"));
	assert_non_null(strstr(text, "filter roost_export6_tor {\n"
				     "\tif proto != \"pods6\" || net != OWN_POD_NET6 then reject;\n"));
	free(text);
	/* ... single hop: kernel6 learns nothing, as before */
	ext[0].multihop = 0;
	text = render_ok(&n);
	assert_null(strstr(text, "roost_learn6"));
	assert_null(strstr(text, "CLUSTER_NETS6"));
	assert_non_null(strstr(strstr(text, "protocol bgp peer_tor {"), "\tdirect;\n"));
	free(text);
	free(v4);

	/* IPv6-only: no IPv4 anywhere, sessions between the IPv6 addresses. */
	v6_only_node(&n);
	text = render_ok(&n);
	assert_non_null(strstr(text, "router id 0.0.0.17;\n"));
	assert_non_null(strstr(text, "\tlocal NODE_ADDR6 as NODE_AS;\n"));
	assert_non_null(strstr(text, "\tneighbor fd00:172:31::12 as NODE_AS;\n"));
	assert_null(strstr(text, "ipv4"));
	assert_null(strstr(text, "protocol kernel kernel4"));
	assert_null(strstr(text, "OWN_POD_NET "));
	free(text);

	/* IPv6-only route reflector client: its session over IPv6. */
	mut6only_rr_v4(&n);
	rr6[0].address.s_addr = 0;
	inet_pton(AF_INET6, "fd00:172:31::2", &rr6[0].address6);
	text = render_ok(&n);
	assert_non_null(strstr(text, "protocol bgp rr_rr1 from roost_node {\n"
				     "\tdescription \"route reflector rr1\";\n"
				     "\tneighbor fd00:172:31::2 as NODE_AS;\n"));
	assert_non_null(strstr(text, "\t\timport filter roost_import6_reflected;\n"));
	free(text);

	/* A dual-stack reflector with IPv6-only clients. */
	dual_node(&n);
	mut6_clients6_outside(&n);
	inet_pton(AF_INET6, "fd00:172:31::", &n.rr_clients_net6);
	text = render_ok(&n);
	assert_non_null(strstr(text, "\tif from ~ 172.31.0.0/24 then return bgp_next_hop ~ fd00:172:31::/64;\n"
				     "\treturn bgp_next_hop = from;\n"));
	assert_non_null(strstr(text, "protocol bgp reflector6 from roost_client {\n"));
	assert_non_null(strstr(text, "\tneighbor range fd00:172:31::/64 internal;\n\tdynamic name \"client6_\";\n"));
	free(text);

	/* ... with the clients' learned IPv6 addresses: each tied to its IPv4
	 * session, and no other client may use them; a misfit is refused. */
	{
		static struct bc_client6 cl[2];

		inet_pton(AF_INET, "172.31.0.13", &cl[0].from);
		inet_pton(AF_INET6, "fd00:172:31::13", &cl[0].via);
		inet_pton(AF_INET, "172.31.0.14", &cl[1].from);
		inet_pton(AF_INET6, "fd00:172:31::14", &cl[1].via);
		n.clients6 = cl;
		n.n_clients6 = 2;
		text = render_ok(&n);
		assert_non_null(strstr(text, "\tif from = 172.31.0.13 then return bgp_next_hop = fd00:172:31::13;   # a client's first IPv6 next hop\n"
					     "\tif from = 172.31.0.14 then return bgp_next_hop = fd00:172:31::14;   # a client's first IPv6 next hop\n"
					     "\tif bgp_next_hop ~ [ fd00:172:31::13, fd00:172:31::14 ] then return false;   # another client's address\n"));
		assert_true(strstr(text, "\tif from ~ 172.31.0.0/24 then return bgp_next_hop ~ fd00:172:31::/64;\n") >
			    strstr(text, "then return false;   # another client's address\n"));
		free(text);
		cl[1].via = cl[0].via;
		assert_int_equal(bc_render_string(&n, &text, &(struct rst_err){0}), -EINVAL);
		inet_pton(AF_INET6, "fd00:172:31::14", &cl[1].via);
		inet_pton(AF_INET, "172.31.1.14", &cl[1].from);
		assert_int_equal(bc_render_string(&n, &text, &(struct rst_err){0}), -EINVAL);
	}

	for (size_t i = 0; i < sizeof(muts) / sizeof(muts[0]); i++) {
		struct rst_err e;

		dual_node(&n);
		muts[i](&n);
		memset(&e, 0, sizeof(e));
		text = NULL;
		if (bc_render_string(&n, &text, &e) != -EINVAL)
			fail_msg("dual-stack mutation %zu was not refused", i);
		assert_null(text);
		assert_true(e.msg[0] != '\0');
	}
}

/* IPv6 first announcers (roostd's learned owners): one line each in
 * roost_owner6_ok, after the mesh entries; not exclusive. Each refused when
 * it does not fit. */
static struct bc_owner6 own6[2];

static void owners6_node(struct bc_node *n)
{
	dual_node(n);
	memset(own6, 0, sizeof(own6));
	inet_pton(AF_INET6, "fd00:10:244:3::", &own6[0].net);
	own6[0].len = 64;
	inet_pton(AF_INET6, "fd00:172:31::13", &own6[0].via);
	strcpy(own6[0].name, "node3");
	inet_pton(AF_INET6, "fd00:10:244:9::", &own6[1].net);
	own6[1].len = 64;
	inet_pton(AF_INET6, "fd00:172:31::19", &own6[1].via);
	n->owners6 = own6;
	n->n_owners6 = 2;
}

static void mut_o6_outside(struct bc_node *n) { inet_pton(AF_INET6, "fd00:10:245:3::", &own6[0].net); }
static void mut_o6_len(struct bc_node *n) { own6[0].len = 60; }
static void mut_o6_ours(struct bc_node *n) { own6[0].net = n->pod_net6; }
static void mut_o6_mesh(struct bc_node *n) { own6[0].net = peers[0].pod_net6; }
static void mut_o6_twice(struct bc_node *n) { own6[1].net = own6[0].net; }
static void mut_o6_via_ours(struct bc_node *n) { own6[0].via = n->address6; }
static void mut_o6_via_ll(struct bc_node *n) { inet_pton(AF_INET6, "fe80::13", &own6[0].via); }
static void mut_o6_name(struct bc_node *n) { strcpy(own6[0].name, "Node3"); }
static void mut_o6_no_v6(struct bc_node *n)
{
	base_node(n);
	n->owners6 = own6;
	n->n_owners6 = 1;
}

static void test_owners6(void **state)
{
	static void (*const muts[])(struct bc_node *) = {
		mut_o6_outside, mut_o6_len,	 mut_o6_ours,	 mut_o6_mesh, mut_o6_twice,
		mut_o6_via_ours, mut_o6_via_ll, mut_o6_name, mut_o6_no_v6,
	};
	struct bc_node n;
	char *t, *plain;

	(void)state;
	dual_node(&n);
	plain = render_ok(&n);
	owners6_node(&n);
	t = render_ok(&n);
	assert_non_null(strstr(t, "function roost_owner6_ok()\n{\n"
				  "\tif net = fd00:10:244:2::/64 then return bgp_next_hop = fd00:172:31::12;   # node2 (bgp.mesh)\n"
				  "\tif net = fd00:10:244:3::/64 then return bgp_next_hop = fd00:172:31::13;   # node3 (first announcer)\n"
				  "\tif net = fd00:10:244:9::/64 then return bgp_next_hop = fd00:172:31::19;   # fd00:172:31::19 (first announcer)\n"
				  "\tif bgp_next_hop ~ [ fd00:172:31::12 ] then return false;\n"));
	assert_non_null(strstr(t, "or the node that announced it first"));
	/* the IPv4 policy is untouched: everything up to the IPv6 half */
	assert_null(strstr(plain, "first announcer"));
	{
		const char *a = strstr(plain, "# IPv6 routes:"), *b = strstr(t, "# IPv6 routes:");

		assert_non_null(a);
		assert_non_null(b);
		assert_int_equal(a - plain, b - t);
		assert_memory_equal(plain, t, (size_t)(a - plain));
	}
	free(t);
	free(plain);
	for (size_t i = 0; i < sizeof(muts) / sizeof(muts[0]); i++) {
		struct rst_err e;

		owners6_node(&n);
		muts[i](&n);
		memset(&e, 0, sizeof(e));
		t = NULL;
		if (bc_render_string(&n, &t, &e) != -EINVAL)
			fail_msg("IPv6 owner mutation %zu was not refused", i);
		assert_null(t);
		assert_true(e.msg[0] != '\0');
	}
}

static void test_rr_client(void **state)
{
	struct bc_node n;
	char *t;

	rr_client_node(&n);
	t = render_ok(&n);
	assert_non_null(strstr(t, "protocol bgp rr_rr1 from roost_node {"));
	assert_non_null(strstr(t, "protocol bgp rr_rr_2 from roost_node {"));
	assert_non_null(strstr(t, "neighbor 172.31.0.3 as NODE_AS;"));
	assert_null(strstr(t, "protocol bgp node_"));
	assert_null(strstr(t, "rr client"));
	assert_non_null(strstr(t, "next hop self;"));
	free(t);
}

static void test_reflector(void **state)
{
	struct bc_node n;
	char *t;

	reflector_node(&n);
	t = render_ok(&n);
	assert_non_null(strstr(t, "neighbor range 172.31.0.0/24 internal;"));
	assert_non_null(strstr(t, "dynamic name \"client_\";"));
	assert_non_null(strstr(t, "rr client;"));
	assert_non_null(strstr(t, "rr cluster id 172.31.0.11;"));
	assert_non_null(strstr(t, "protocol bgp node_node2 from roost_node {"));
	/* Reflected routes keep their next hop; nothing of our own. */
	assert_null(strstr(t, "\tnext hop self;"));
	assert_null(strstr(t, "OWN_POD_NET"));
	assert_null(strstr(t, "protocol static"));
	assert_non_null(strstr(t, "export filter roost_reflect;"));
	free(t);

	/* With pods, the reflector also announces its own subnet. */
	reflector_node(&n);
	n.no_pods = false;
	inet_pton(AF_INET, "10.244.1.0", &n.pod_net);
	t = render_ok(&n);
	assert_non_null(strstr(t, "define OWN_POD_NET = 10.244.1.0/24;"));
	assert_non_null(strstr(t, "protocol static pods {"));
	assert_null(strstr(t, "\tnext hop self;"));
	/* Only routes from inside the AS are reflected... */
	assert_null(strstr(t, "proto ~ \"node_*\""));
	free(t);

	/* ... and, with a mesh neighbour of another AS (Kubernetes: a node of
	 * an ASN without a reflector), what it announces on its node_ session. */
	reflector_node(&n);
	peers[1].asn = 64513;
	t = render_ok(&n);
	assert_non_null(strstr(t, "neighbor 172.31.0.13 as 64513;"));
	assert_non_null(strstr(t, "\tif source = RTS_BGP && proto ~ \"node_*\" && net ~ POD_NETS then accept;\n"));
	free(t);
	peers[1].asn = 0;
}

static void test_ext_peers(void **state)
{
	struct bc_node n;
	char *t;

	peers_node(&n);
	n.asn = 64601; /* node.asn override: tor-1 is eBGP, rs eBGP too */
	ext[1].asn = 64601;
	t = render_ok(&n);
	assert_non_null(strstr(t, "define NODE_AS = 64601;"));
	assert_non_null(strstr(t, "protocol bgp peer_tor_1 {"));
	assert_non_null(strstr(t, "neighbor 172.31.0.1 as 65000;"));
	assert_non_null(strstr(t, "password \"pa ss'w0rd\";"));
	assert_non_null(strstr(t, "ttl security on;"));
	assert_non_null(strstr(t, "bfd { interval 100 ms; multiplier 3; };"));
	assert_non_null(strstr(t, "import filter roost_import_tor_1;"));
	assert_non_null(strstr(t, "if net ~ [ 198.51.100.0/24, 203.0.113.0/25 ] then accept;"));
	assert_non_null(strstr(t, "define PEER_NETS = [ 198.51.100.0/24, 203.0.113.0/25 ];"));
	assert_non_null(strstr(t, "if net ~ PEER_NETS then accept;"));
	assert_non_null(strstr(t, "receive limit 100 action block;"));
	/* rs: iBGP (same ASN as the node), multihop, no BFD, recursive gateway */
	assert_non_null(strstr(t, "# External peer rs: iBGP, multihop."));
	assert_non_null(strstr(t, "multihop 3;"));
	assert_non_null(strstr(t, "gateway recursive;"));
	assert_non_null(strstr(t, "receive limit 5 action block;"));
	free(t);
}

/* bgp.announce: its own protocols, never the mesh or the kernel; per-peer
 * export filters only where the policy is not the plain one. */
static void test_announce(void **state)
{
	struct bc_node n;
	char *t, *p;

	announce_node(&n);
	comm[0] = (struct bc_community){65000, 100};
	lcomm[0] = (struct bc_large_community){4200000000u, 1, 4294967295u};
	ext[0].communities = comm;
	ext[0].n_communities = 1;
	ext[0].large_communities = lcomm;
	ext[0].n_large_communities = 1;
	ext[0].prepend = 3;
	ext[1].export = BC_EXPORT_PODS; /* rs: iBGP, plain */
	t = render_ok(&n);
	assert_non_null(strstr(t, "define ANNOUNCE_NETS = [ 192.0.2.10/32, 198.51.100.64/28 ];"));
	assert_non_null(strstr(t, "protocol static announce_always {\n"
				  "\tipv4 {\n"
				  "\t\tpreference 250;\n"
				  "\t};\n"
				  "\troute 198.51.100.64/28 blackhole;\n"
				  "}\n"));
	assert_non_null(strstr(t, "protocol direct announce_local {\n"
				  "\tipv4 {\n"
				  "\t\tpreference 250;\n"
				  "\t\timport where net ~ [ 192.0.2.10/32 ];\n"));
	/* tor-1: both, its communities, three prepends */
	p = strstr(t, "filter roost_export_tor_1 {\n");
	assert_non_null(p);
	assert_non_null(strstr(p, "\tif proto = \"pods\" && net = OWN_POD_NET then {\n"
				  "\t\tbgp_large_community.add((CLUSTER_AS, 1, NODE_ID));\n"
				  "\t} else if (proto = \"announce_always\" || proto = \"announce_local\") && net ~ ANNOUNCE_NETS then {\n"
				  "\t\tbgp_large_community.add((CLUSTER_AS, 2, NODE_ID));\n"
				  "\t} else reject;\n"
				  "\tbgp_community.add((65000, 100));\n"
				  "\tbgp_large_community.add((4200000000, 1, 4294967295));\n"
				  "\tbgp_path.prepend(NODE_AS);\n"
				  "\tbgp_path.prepend(NODE_AS);\n"
				  "\tbgp_path.prepend(NODE_AS);\n"
				  "\taccept;\n}\n"));
	assert_non_null(strstr(t, "export filter roost_export_tor_1;"));
	/* rs: pods only, nothing else: the shared roost_export */
	assert_null(strstr(t, "roost_export_rs"));
	p = strstr(t, "protocol bgp peer_rs {");
	assert_non_null(p);
	assert_non_null(strstr(p, "export filter roost_export;"));
	/* the mesh and the kernel: as without announcements */
	p = strstr(t, "template bgp roost_node {");
	assert_non_null(p);
	assert_non_null(strstr(p, "export filter roost_export;"));
	p = strstr(t, "filter roost_export {\n");
	assert_non_null(p);
	assert_non_null(strstr(p, "\tif proto = \"pods\" && net = OWN_POD_NET then {\n"
				  "\t\tbgp_large_community.add((CLUSTER_AS, 1, NODE_ID));\n"
				  "\t\taccept;\n"
				  "\t}\n"
				  "\treject;\n}\n"));
	p = strstr(t, "filter roost_to_kernel {\n");
	assert_non_null(p);
	assert_non_null(strstr(p, "\tif source != RTS_BGP then reject;\n"));
	free(t);

	/* export "announce" with only "always" entries: no pod branch, no
	 * announce_local; "announce" with no entries at all: reject all. */
	announce_node(&n);
	ann[0].when = BC_ANNOUNCE_ALWAYS;
	ext[0].export = BC_EXPORT_ANNOUNCE;
	t = render_ok(&n);
	assert_null(strstr(t, "announce_local"));
	p = strstr(t, "filter roost_export_tor_1 {\n");
	assert_non_null(p);
	assert_non_null(strstr(p, "filter roost_export_tor_1 {\n"
				  "\tif (proto = \"announce_always\") && net ~ ANNOUNCE_NETS then {\n"));
	assert_non_null(strstr(t, "\troute 192.0.2.10/32 blackhole;\n\troute 198.51.100.64/28 blackhole;\n"));
	free(t);
	n.n_announce = 0;
	t = render_ok(&n);
	assert_null(strstr(t, "ANNOUNCE_NETS"));
	assert_non_null(strstr(t, "filter roost_export_tor_1 {\n\treject;\n}\n"));
	free(t);
}

/* Without the new keys (export both by default, no announcements, no
 * communities), every peer keeps roost_export: the render is unchanged. */
static void test_plain_policy_unchanged(void **state)
{
	struct bc_node n;
	char *t;

	peers_node(&n);
	t = render_ok(&n);
	assert_null(strstr(t, "roost_export_"));
	assert_null(strstr(t, "announce_"));
	assert_null(strstr(t, "ANNOUNCE_NETS"));
	free(t);
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

/* Datastore: a flannel host-gw node's IPv6 lease is a static route to the
 * kernel only, and its subnet is owned by its PublicIPv6. */
static void test_flannel_hostgw6(void **state)
{
	struct bc_static_route6 st6 = {.len = 64};
	struct bc_node n;
	char *text, *plain;

	(void)state;
	dual_node(&n);
	plain = render_ok(&n);
	assert_null(strstr(plain, "flannel_hostgw6"));
	inet_pton(AF_INET6, "fd00:10:244:c8::", &st6.net);
	inet_pton(AF_INET6, "fd00:172:31::40", &st6.via);
	n.static_routes6 = &st6;
	n.n_static_routes6 = 1;
	text = render_ok(&n);
	assert_non_null(strstr(text, "protocol static flannel_hostgw6 {\n\tipv6;\n"
				     "\troute fd00:10:244:c8::/64 via fd00:172:31::40;\n}\n"));
	assert_non_null(strstr(text, "\tif net = fd00:10:244:c8::/64 then return bgp_next_hop = fd00:172:31::40;"));
	assert_non_null(strstr(text, "filter roost_to_kernel6 {\n\tif proto = \"flannel_hostgw6\" then {"));
	/* owned: no BGP route to it but via the flannel node, which announces nothing */
	assert_non_null(strstr(text, "\tif bgp_next_hop ~ [ fd00:172:31::12, fd00:172:31::40 ] then return false;"));
	/* no IPv4 flannel route came with it */
	assert_null(strstr(text, "protocol static flannel_hostgw {"));
	free(text);
	free(plain);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_renders),  cmocka_unit_test(test_invalid_refused),
		cmocka_unit_test(test_owners),
		cmocka_unit_test(test_hyphen_symbols), cmocka_unit_test(test_node_id),
		cmocka_unit_test(test_sha256),         cmocka_unit_test(test_rr_client),
		cmocka_unit_test(test_reflector),      cmocka_unit_test(test_ext_peers),
		cmocka_unit_test(test_announce),       cmocka_unit_test(test_plain_policy_unchanged),
		cmocka_unit_test(test_dual_stack),     cmocka_unit_test(test_owners6),
		cmocka_unit_test(test_flannel_hostgw6),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
