/* SPDX-License-Identifier: MIT */
/*
 * egress.c - egress masquerade in nftables (libnftables), the only file of
 * roost that includes <nftables/...>.
 *
 * The table (`table ip roost`) holds two interval sets and one chain:
 *
 *   set cluster        the cluster's pod CIDR: pod -> pod, on this node or
 *                      another, or on a flannel host-gw node, keeps its source
 *   set no_masquerade  egress.no_masquerade: networks that route pods natively
 *   chain postrouting  nat, hook postrouting, priority srcnat: traffic from
 *                      this node's pod subnet to anything outside both sets
 *                      (and not multicast) is masqueraded to the address of
 *                      the interface it leaves by (the node's address)
 *
 * Pod -> this node never reaches postrouting (local delivery). A nat chain
 * sees only the first packet of a connection, so the rule's counter counts
 * translated connections. The whole table is written as one nft script,
 * `add table; delete table; table { ... }`, which libnftables sends as one
 * netlink batch: the kernel switches from the old rules to the new ones in
 * one transaction, and connections already translated keep their mapping in
 * conntrack. A node with an IPv6 pod subnet gets `table ip6 roost` of the
 * same shape (render_ip6(): set cluster, set no_masquerade with the IPv6
 * entries of egress.no_masquerade, the postrouting chain), in the same
 * script.
 *
 * One libnftables context, kept for roostd's life, serves every thread
 * under one mutex (start on the main thread before the loop, reloads on the
 * configurer, status on the query and metrics threads). A command on it
 * takes about 0.5 ms; making and freeing a context per command would cost
 * 10-30 ms more (the kernel's close of its netlink socket, measured).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <nftables/libnftables.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "egress.h"
#include "rst-util.h"

static pthread_mutex_t nft_mu = PTHREAD_MUTEX_INITIALIZER;

static void cidr_str(struct in_addr net, unsigned len, char *buf, size_t n)
{
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &net, a, sizeof(a));
	snprintf(buf, n, "%s/%u", a, len);
}

/* The IPv4 table. */
static void render_ip(const struct roostd_conf *c, FILE *f)
{
	char pod[32], cl[32], e[32];

	cidr_str(c->pod_net, c->pod_len, pod, sizeof(pod));
	cidr_str(c->cluster_net, c->cluster_len, cl, sizeof(cl));
	fprintf(f, "table ip " EGRESS_TABLE " {\n");
	fprintf(f, "\tcomment \"roostd egress.masquerade of node %s; replaced at every start and reload\"\n",
		c->name);
	fprintf(f, "\tset cluster {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\telements = { %s }\n\t}\n",
		cl);
	fprintf(f, "\tset no_masquerade {\n\t\ttype ipv4_addr\n\t\tflags interval\n");
	if (c->n_no_masquerade) {
		fprintf(f, "\t\telements = {");
		for (size_t i = 0; i < c->n_no_masquerade; i++) {
			cidr_str(c->no_masquerade[i].net, c->no_masquerade[i].len, e, sizeof(e));
			fprintf(f, "%s %s", i ? "," : "", e);
		}
		fprintf(f, " }\n");
	}
	fprintf(f, "\t}\n");
	fprintf(f, "\tchain postrouting {\n"
		   "\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
		   "\t\tip saddr %s ip daddr != @cluster ip daddr != @no_masquerade ip daddr != 224.0.0.0/4 counter masquerade fully-random\n"
		   "\t}\n",
		pod);
	fprintf(f, "}\n");
}

/* The IPv6 table, of the same shape, with egress.no_masquerade's IPv6
 * entries in its own no_masquerade set. */
static void render_ip6(const struct roostd_conf *c, FILE *f)
{
	char pod[INET6_ADDRSTRLEN], cl[INET6_ADDRSTRLEN], e[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET6, &c->pod_net6, pod, sizeof(pod));
	inet_ntop(AF_INET6, &c->cluster_net6, cl, sizeof(cl));
	fprintf(f, "table ip6 " EGRESS_TABLE " {\n");
	fprintf(f, "\tcomment \"roostd egress.masquerade of node %s; replaced at every start and reload\"\n",
		c->name);
	fprintf(f, "\tset cluster {\n\t\ttype ipv6_addr\n\t\tflags interval\n\t\telements = { %s/%u }\n\t}\n",
		cl, c->cluster_len6);
	fprintf(f, "\tset no_masquerade {\n\t\ttype ipv6_addr\n\t\tflags interval\n");
	if (c->n_no_masquerade6) {
		fprintf(f, "\t\telements = {");
		for (size_t i = 0; i < c->n_no_masquerade6; i++) {
			inet_ntop(AF_INET6, &c->no_masquerade6[i].net, e, sizeof(e));
			fprintf(f, "%s %s/%u", i ? "," : "", e, c->no_masquerade6[i].len);
		}
		fprintf(f, " }\n");
	}
	fprintf(f, "\t}\n");
	fprintf(f, "\tchain postrouting {\n"
		   "\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
		   "\t\tip6 saddr %s/%u ip6 daddr != @cluster ip6 daddr != @no_masquerade ip6 daddr != ff00::/8 counter masquerade fully-random\n"
		   "\t}\n",
		pod, c->pod_len6);
	fprintf(f, "}\n");
}

int egress_render(const struct roostd_conf *c, char **ret_text)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return -ENOMEM;
	/* "add" makes "delete" safe when the table is absent; both and the new
	 * table go in one batch. */
	fprintf(f, "add table ip " EGRESS_TABLE "\ndelete table ip " EGRESS_TABLE "\n");
	fprintf(f, "add table ip6 " EGRESS_TABLE "\ndelete table ip6 " EGRESS_TABLE "\n");
	if (c->masquerade && !c->no_pods && !conf_v6_only(c))
		render_ip(c, f);
	if (c->masquerade && conf_has_v6(c) && !IN6_IS_ADDR_UNSPECIFIED(&c->pod_net6))
		render_ip6(c, f);
	if (fclose(f) != 0 || !buf) {
		free(buf);
		return -ENOMEM;
	}
	*ret_text = buf;
	return 0;
}

/* The first line of nftables' error text, without the trailing newline. */
static void first_line(const char *s, char *out, size_t n)
{
	size_t l;

	if (!s)
		s = "";
	l = strcspn(s, "\n");
	snprintf(out, n, "%.*s", (int)l, s);
}

/* The one context, made on first use (under nft_mu) and kept: closing its
 * netlink socket costs the kernel 10-30 ms here (measured), while a command
 * on a kept context costs about 0.5 ms. Its socket stays in the network
 * namespace of the thread that made it: roostd's own. NULL when out of
 * memory. */
static struct nft_ctx *ctx_get(void)
{
	static struct nft_ctx *nft;

	if (!nft) {
		nft = nft_ctx_new(NFT_CTX_DEFAULT);
		if (nft && (nft_ctx_buffer_output(nft) != 0 || nft_ctx_buffer_error(nft) != 0)) {
			nft_ctx_free(nft);
			nft = NULL;
		}
	}
	return nft;
}

/* Runs cmd on the kept context with output flags; the output is in *ret_out
 * (valid until the next command), the first error line in err. 0 or -errno. */
static int run(const char *cmd, unsigned flags, const char **ret_out, char *err, size_t errlen)
{
	struct nft_ctx *nft = ctx_get();
	const char *out, *e;
	int r;

	err[0] = '\0';
	if (!nft) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	nft_ctx_output_set_flags(nft, flags);
	errno = 0;
	r = nft_run_cmd_from_buffer(nft, cmd);
	if (r != 0)
		r = errno ? -errno : -EINVAL;
	/* Reading a buffer also rewinds it for the next command. */
	out = nft_ctx_get_output_buffer(nft);
	e = nft_ctx_get_error_buffer(nft);
	if (r < 0) {
		first_line(e, err, errlen);
		if (!err[0])
			snprintf(err, errlen, "%s", strerror(-r));
	}
	if (ret_out)
		*ret_out = out ? out : "";
	return r;
}

int egress_apply(const char *script, char *err, size_t errlen)
{
	int r;

	pthread_mutex_lock(&nft_mu);
	r = run(script, 0, NULL, err, errlen);
	pthread_mutex_unlock(&nft_mu);
	return r;
}

/* Runs cmd with JSON output; the parsed output, or NULL (err says why). */
static json_t *run_json(const char *cmd, char *err, size_t errlen)
{
	json_error_t je;
	const char *out;
	json_t *o;

	if (run(cmd, NFT_CTX_OUTPUT_JSON, &out, err, errlen) < 0)
		return NULL;
	o = json_loads(out, 0, &je);
	if (!o)
		snprintf(err, errlen, "'%s': unreadable JSON output: %s", cmd, je.text);
	return o;
}

/* {"nftables": [{"metainfo": ...}, {"table": {"family": "ip", "name": ...}}, ...]} */
static bool has_table(const json_t *o, const char *family)
{
	const json_t *e;
	size_t i;

	json_array_foreach(json_object_get(o, "nftables"), i, e)
	{
		const json_t *t = json_object_get(e, "table");
		const char *name = json_string_value(json_object_get(t, "name"));
		const char *fam = json_string_value(json_object_get(t, "family"));

		if (name && fam && strcmp(name, EGRESS_TABLE) == 0 && strcmp(fam, family) == 0)
			return true;
	}
	return false;
}

/* The counter of the masquerade rule: {"rule": {"expr": [..., {"counter":
 * {"packets": N}}, {"masquerade": ...}]}}. */
static long long masq_counter(const json_t *o)
{
	const json_t *e, *x;
	size_t i, j;

	json_array_foreach(json_object_get(o, "nftables"), i, e)
	{
		const json_t *expr = json_object_get(json_object_get(e, "rule"), "expr");
		long long packets = -1;
		bool masq = false;

		json_array_foreach(expr, j, x)
		{
			if (json_object_get(x, "counter"))
				packets = json_integer_value(
					json_object_get(json_object_get(x, "counter"), "packets"));
			if (json_object_get(x, "masquerade"))
				masq = true;
		}
		if (masq)
			return packets;
	}
	return -1;
}

/* The table of one family ("ip", "ip6"): present, and its rule's counter. */
static int family_state(const char *family, bool *ret_present, long long *ret_count, char *err,
			size_t errlen)
{
	char cmd[64];
	json_t *o;

	snprintf(cmd, sizeof(cmd), "list tables %s", family);
	o = run_json(cmd, err, errlen);
	if (!o)
		return -EIO;
	*ret_present = has_table(o, family);
	json_decref(o);
	if (!*ret_present)
		return 0;
	snprintf(cmd, sizeof(cmd), "list chain %s " EGRESS_TABLE " postrouting", family);
	o = run_json(cmd, err, errlen);
	if (!o)
		return -EIO;
	*ret_count = masq_counter(o);
	json_decref(o);
	return 0;
}

int egress_state_get(struct egress_state *ret)
{
	int r;

	memset(ret, 0, sizeof(*ret));
	ret->masqueraded = ret->masqueraded6 = -1;
	pthread_mutex_lock(&nft_mu);
	r = family_state("ip", &ret->present, &ret->masqueraded, ret->error, sizeof(ret->error));
	if (r == 0)
		r = family_state("ip6", &ret->present6, &ret->masqueraded6, ret->error,
				 sizeof(ret->error));
	pthread_mutex_unlock(&nft_mu);
	return r;
}
