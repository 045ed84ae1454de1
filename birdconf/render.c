/* SPDX-License-Identifier: MIT */
/*
 * render.c - node model -> BIRD 2 configuration text.
 *
 * The text is a pure function of struct bc_node: no timestamps, no hash
 * tables, so equal models give equal bytes and roostd can skip a reload when
 * nothing changed (a reload that restarts nothing still costs BIRD 2.0.12 up
 * to 3 s of delayed UPDATEs).
 *
 * What the rendered config does, block by block:
 *  - router id = node address, logs to stderr (roostd owns BIRD's stderr);
 *  - the node's pod subnet is originated once, as a static blackhole route in
 *    BIRD's table only (the kernel already has the connected route on cni0);
 *  - the kernel protocol installs only BGP-learned pod subnets, with a metric
 *    of its own so another BIRD in the namespace cannot delete them, and with
 *    graceful restart so `bird -R` keeps them through a BIRD restart;
 *  - named filters: roost_import accepts only node-sized subnets of the
 *    cluster CIDR that are not our own; roost_export sends only our subnet,
 *    tagged with a large community naming this node;
 *  - one iBGP session per mesh neighbour, `direct` (single hop on the shared
 *    segment, so the next hop is used as the gateway as is).
 *
 * Strings from the config never reach the output unchecked:
 * bc_node_validate() allows names of [a-z0-9-] only and refuses quotes,
 * backslashes and control characters in paths.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "birdconf.h"

static uint32_t ip4(struct in_addr a)
{
	return ntohl(a.s_addr);
}

static uint32_t mask4(unsigned len)
{
	return len == 0 ? 0 : 0xffffffffu << (32 - len);
}

uint32_t bc_node_id(const struct bc_node *node)
{
	if (node->pod_len <= node->cluster_len || node->pod_len > 32)
		return 0;
	return (ip4(node->pod_net) & ~mask4(node->cluster_len)) >> (32 - node->pod_len);
}

static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > BC_NAME_MAX)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
			return false;
	return true;
}

/* A path placed inside a BIRD string literal or a comment. */
static bool path_ok(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\')
			return false;
	return true;
}

static bool hex_ok(const char *s)
{
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

static bool prefix_ok(struct in_addr net, unsigned len)
{
	return len <= 32 && (ip4(net) & ~mask4(len)) == 0;
}

int bc_node_validate(const struct bc_node *node, struct rst_err *reterr)
{
#define BAD(...) rst_err_set(reterr, EINVAL, NULL, 0, __VA_ARGS__)
	if (!name_ok(node->name))
		return BAD("node name '%s' is not 1-%d characters of [a-z0-9-]", node->name,
			   BC_NAME_MAX);
	if (node->source && !path_ok(node->source))
		return BAD("source path has a character that cannot go into a BIRD comment");
	if (node->source_hash && !hex_ok(node->source_hash))
		return BAD("source hash is not hexadecimal");
	if (node->include && !path_ok(node->include))
		return BAD("include path '%s' has a quote, backslash or control character",
			   node->include);
	if (node->include && node->include[0] && node->include[0] != '/')
		return BAD("include path '%s' is not absolute", node->include);
	if (!prefix_ok(node->pod_net, node->pod_len) || node->pod_len < 8)
		return BAD("node pod subnet is not a network address with a length of 8-32");
	if (!prefix_ok(node->cluster_net, node->cluster_len) ||
	    node->cluster_len >= node->pod_len ||
	    (ip4(node->pod_net) & mask4(node->cluster_len)) != ip4(node->cluster_net))
		return BAD("node pod subnet is not inside the cluster pod CIDR");
	if (node->address.s_addr == 0)
		return BAD("node address is not set");
	if (node->asn == 0 || node->cluster_asn == 0)
		return BAD("ASN 0 is reserved");
	for (size_t i = 0; i < node->n_mesh; i++) {
		if (!name_ok(node->mesh[i].name))
			return BAD("mesh peer name '%s' is not 1-%d characters of [a-z0-9-]",
				   node->mesh[i].name, BC_NAME_MAX);
		if (node->mesh[i].address.s_addr == node->address.s_addr)
			return BAD("mesh peer '%s' has this node's own address",
				   node->mesh[i].name);
		for (size_t j = 0; j < i; j++) {
			if (strcmp(node->mesh[i].name, node->mesh[j].name) == 0)
				return BAD("mesh peer name '%s' is used twice", node->mesh[i].name);
			if (node->mesh[i].address.s_addr == node->mesh[j].address.s_addr)
				return BAD("mesh peers '%s' and '%s' have the same address",
					   node->mesh[j].name, node->mesh[i].name);
		}
	}
	if (node->bfd_mode != BC_BFD_OFF &&
	    (node->bfd_interval_ms < 10 || node->bfd_interval_ms > 10000 ||
	     node->bfd_multiplier < 1 || node->bfd_multiplier > 255))
		return BAD("BFD interval must be 10-10000 ms and multiplier 1-255");
	if (node->gr_enabled && (node->gr_restart_time < 1 || node->gr_restart_time > 4095))
		return BAD("graceful restart time must be 1-4095 s");
	if (node->hold_time != 0 && (node->hold_time < 3 || node->hold_time > 65535))
		return BAD("hold time must be 0 or 3-65535 s");
	if (node->keepalive_time < 1 ||
	    (node->hold_time != 0 && node->keepalive_time > node->hold_time / 3))
		return BAD("keepalive time must be 1 s to a third of the hold time");
	if (node->import_limit < 1)
		return BAD("import limit must be at least 1");
	if (node->kernel_metric < 1 || node->kernel_metric == 32)
		return BAD("kernel metric must be >= 1 and not 32 (the metric of a stock BIRD)");
	return 0;
#undef BAD
}

/* Protocol symbol for a peer: '-' is not allowed in a BIRD symbol. */
static void symbol(char *out, size_t len, const char *prefix, const char *name)
{
	size_t n = (size_t)snprintf(out, len, "%s%s", prefix, name);

	for (size_t i = strlen(prefix); i < n && i < len; i++)
		if (out[i] == '-')
			out[i] = '_';
}

static void render_header(const struct bc_node *n, FILE *f)
{
	fprintf(f, "# BIRD 2 configuration of roost node \"%s\", rendered by roostd.\n", n->name);
	if (n->source)
		fprintf(f, "# Source: %s (sha256 %s)\n", n->source,
			n->source_hash ? n->source_hash : "unknown");
	fprintf(f, "# Do not edit: roostd rewrites this file when its configuration changes;\n"
		   "# put additions in the file named by bird.include in roostd.conf.\n\n");
}

static void render_globals(const struct bc_node *n, FILE *f)
{
	char addr[INET_ADDRSTRLEN], pod[INET_ADDRSTRLEN], cluster[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &n->address, addr, sizeof(addr));
	inet_ntop(AF_INET, &n->pod_net, pod, sizeof(pod));
	inet_ntop(AF_INET, &n->cluster_net, cluster, sizeof(cluster));

	fprintf(f, "log stderr all;\n");
	fprintf(f, "router id %s;\n\n", addr);
	fprintf(f, "# From roostd.conf: node, cluster and policy constants.\n");
	fprintf(f, "define CLUSTER_AS = %u;\n", n->cluster_asn);
	fprintf(f, "define NODE_AS = %u;\n", n->asn);
	fprintf(f, "define NODE_ID = %u;       # index of this node's subnet in the cluster CIDR\n",
		bc_node_id(n));
	fprintf(f, "define NODE_ADDR = %s;\n", addr);
	fprintf(f, "define OWN_POD_NET = %s/%u;\n", pod, n->pod_len);
	fprintf(f, "define POD_NETS = [ %s/%u{%u,%u} ];\n\n", cluster, n->cluster_len, n->pod_len,
		n->pod_len);
}

static void render_protocols(const struct bc_node *n, FILE *f)
{
	fprintf(f, "protocol device {\n}\n\n");

	fprintf(f, "# This node's pod subnet, originated once. The blackhole lives in BIRD's\n"
		   "# table only: the kernel already routes it to cni0.\n");
	fprintf(f, "protocol static pods {\n"
		   "\tipv4;\n"
		   "\troute OWN_POD_NET blackhole;\n"
		   "}\n\n");

	fprintf(f, "# Install what BGP learned, and nothing else. Own metric (%u): a second\n"
		   "# BIRD on the default metric cannot delete these routes. Graceful restart:\n"
		   "# with `bird -R` the routes stay through a BIRD restart.\n",
		n->kernel_metric);
	fprintf(f, "protocol kernel kernel4 {\n"
		   "\tmetric %u;\n"
		   "\tmerge paths on;\n"
		   "\tgraceful restart on;\n"
		   "\tipv4 {\n"
		   "\t\timport none;\n"
		   "\t\texport filter roost_to_kernel;\n"
		   "\t};\n"
		   "}\n\n",
		n->kernel_metric);

	if (n->bfd_mode != BC_BFD_OFF)
		fprintf(f, "# BFD sessions are requested by the BGP sessions below.\n"
			   "protocol bfd roost_bfd {\n}\n\n");
}

static void render_filters(FILE *f)
{
	fprintf(f, "# Accept only node-sized subnets of the cluster CIDR, never our own and\n"
		   "# never a default route.\n");
	fprintf(f, "filter roost_import {\n"
		   "\tif net.type != NET_IP4 then reject;\n"
		   "\tif net.len = 0 then reject;\n"
		   "\tif net = OWN_POD_NET then reject;\n"
		   "\tif net ~ POD_NETS then accept;\n"
		   "\treject;\n"
		   "}\n\n");
	fprintf(f, "# Announce only this node's subnet, tagged (CLUSTER_AS, 1, NODE_ID).\n");
	fprintf(f, "filter roost_export {\n"
		   "\tif proto = \"pods\" && net = OWN_POD_NET then {\n"
		   "\t\tbgp_large_community.add((CLUSTER_AS, 1, NODE_ID));\n"
		   "\t\taccept;\n"
		   "\t}\n"
		   "\treject;\n"
		   "}\n\n");
	fprintf(f, "filter roost_to_kernel {\n"
		   "\tif source = RTS_BGP && net ~ POD_NETS && net != OWN_POD_NET then accept;\n"
		   "\treject;\n"
		   "}\n\n");
}

static void render_bgp(const struct bc_node *n, FILE *f)
{
	static const char *const bfd_comment[] = {
		[BC_BFD_OFF] = "off",
		[BC_BFD_GRACEFUL] = "graceful: a lost peer's routes stay for the restart time",
		[BC_BFD_STRICT] = "strict: a lost peer's routes go within the detection time",
	};
	char sym[BC_NAME_MAX + 16], addr[INET_ADDRSTRLEN];

	fprintf(f, "# iBGP between nodes on the shared segment: single hop (direct), next hop\n"
		   "# self. Short connect and error waits: a blip must not cost a minute.\n");
	fprintf(f, "template bgp roost_node {\n"
		   "\tlocal NODE_ADDR as NODE_AS;\n"
		   "\tdirect;\n"
		   "\thold time %u;\n"
		   "\tkeepalive time %u;\n"
		   "\tconnect delay time 1;\n"
		   "\terror wait time 1, 30;\n",
		n->hold_time, n->keepalive_time);
	if (n->gr_enabled)
		fprintf(f, "\tgraceful restart on;\n\tgraceful restart time %u;\n",
			n->gr_restart_time);
	else
		fprintf(f, "\tgraceful restart aware;\n");
	fprintf(f, "\t# BFD %s\n", bfd_comment[n->bfd_mode]);
	if (n->bfd_mode != BC_BFD_OFF)
		fprintf(f, "\tbfd { interval %u ms; multiplier %u;%s };\n", n->bfd_interval_ms,
			n->bfd_multiplier, n->bfd_mode == BC_BFD_GRACEFUL ? " graceful;" : "");
	fprintf(f, "\tipv4 {\n"
		   "\t\tnext hop self;\n"
		   "\t\tgateway direct;\n"
		   "\t\timport filter roost_import;\n"
		   "\t\texport filter roost_export;\n"
		   "\t\treceive limit %u action block;\n"
		   "\t};\n"
		   "}\n\n",
		n->import_limit);

	for (size_t i = 0; i < n->n_mesh; i++) {
		symbol(sym, sizeof(sym), "node_", n->mesh[i].name);
		inet_ntop(AF_INET, &n->mesh[i].address, addr, sizeof(addr));
		fprintf(f, "protocol bgp %s from roost_node {\n"
			   "\tdescription \"mesh node %s\";\n"
			   "\tneighbor %s as NODE_AS;\n"
			   "}\n\n",
			sym, n->mesh[i].name, addr);
	}
}

int bc_render(const struct bc_node *node, FILE *out, struct rst_err *reterr)
{
	int r = bc_node_validate(node, reterr);

	if (r < 0)
		return r;
	render_header(node, out);
	render_globals(node, out);
	render_filters(out);
	render_protocols(node, out);
	render_bgp(node, out);
	if (node->include && node->include[0])
		fprintf(out, "# The operator's own additions (bird.include in roostd.conf).\n"
			     "include \"%s\";\n",
			node->include);
	if (ferror(out))
		return rst_err_set(reterr, EIO, NULL, 0, "writing the BIRD configuration failed");
	return 0;
}

int bc_render_string(const struct bc_node *node, char **ret_text, struct rst_err *reterr)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int r;

	if (!f)
		return rst_err_set(reterr, ENOMEM, NULL, 0, "out of memory");
	r = bc_render(node, f, reterr);
	if (fclose(f) != 0 && r == 0)
		r = rst_err_set(reterr, ENOMEM, NULL, 0, "out of memory");
	if (r < 0) {
		free(buf);
		return r;
	}
	*ret_text = buf;
	return 0;
}
