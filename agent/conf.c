/* SPDX-License-Identifier: MIT */
/*
 * conf.c - load and validate roostd.conf.
 *
 * libconfig parses; this file copies every value into struct roostd_conf and
 * destroys the libconfig tree at once (STYLE §5), so the rest of roostd never
 * sees libconfig. Validation is strict: unknown keys, wrong types, numbers
 * out of range, CIDRs with host bits, overlapping or duplicate peers are all
 * errors with the file:line of the offending setting.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "conf.h"
#include "log.h"

struct ctx {
	const char *path;
	struct rst_err *err;
};

static int fail(struct ctx *x, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Records "file:line: <fmt>" for setting s (or the file alone when s is NULL). */
static int fail(struct ctx *x, const config_setting_t *s, const char *fmt, ...)
{
	const char *file = NULL;
	unsigned line = 0;
	va_list ap;

	if (s) {
		file = config_setting_source_file(s);
		line = config_setting_source_line(s);
	}
	rst_err_set(x->err, EINVAL, file ? file : x->path, line, "%s", "");
	va_start(ap, fmt);
	vsnprintf(x->err->msg, sizeof(x->err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Full dotted name of a setting, e.g. "bgp.mesh.[1].address". */
static void setting_path(const config_setting_t *s, char *buf, size_t len)
{
	const config_setting_t *parent = config_setting_parent(s);
	char up[192];

	if (!parent || config_setting_is_root(parent)) {
		snprintf(buf, len, "%s", config_setting_name(s) ? config_setting_name(s) : "");
		return;
	}
	setting_path(parent, up, sizeof(up));
	if (config_setting_name(s))
		snprintf(buf, len, "%s.%s", up, config_setting_name(s));
	else
		snprintf(buf, len, "%s[%d]", up, config_setting_index(s));
}

static int check_keys(struct ctx *x, const config_setting_t *group, const char *const *allowed)
{
	char name[256];
	int n = config_setting_length(group);

	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
		const char *k = config_setting_name(s);
		bool ok = false;

		for (const char *const *a = allowed; *a && k; a++)
			if (strcmp(*a, k) == 0)
				ok = true;
		if (!ok) {
			setting_path(s, name, sizeof(name));
			return fail(x, s, "%s: unknown key", name);
		}
	}
	return 0;
}

static int get_group(struct ctx *x, const config_setting_t *parent, const char *key, bool required,
		     const config_setting_t **ret)
{
	const config_setting_t *s = config_setting_get_member(parent, key);
	char name[256];

	*ret = NULL;
	if (!s) {
		if (!required)
			return 0;
		if (config_setting_is_root(parent))
			return fail(x, NULL, "%s: missing (required group)", key);
		setting_path(parent, name, sizeof(name));
		return fail(x, parent, "%s.%s: missing (required)", name, key);
	}
	if (!config_setting_is_group(s)) {
		setting_path(s, name, sizeof(name));
		return fail(x, s, "%s: expected a group { ... }", name);
	}
	*ret = s;
	return 0;
}

/* Returns 1 when found, 0 when absent and not required, or -EINVAL. */
static int get_string(struct ctx *x, const config_setting_t *g, const char *key, bool required,
		      const char **ret)
{
	const config_setting_t *s = g ? config_setting_get_member(g, key) : NULL;
	char name[256];

	if (!s) {
		if (!required)
			return 0;
		setting_path(g, name, sizeof(name));
		return fail(x, g, "%s.%s: missing (required)", name, key);
	}
	setting_path(s, name, sizeof(name));
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return fail(x, s, "%s: expected a string in double quotes", name);
	*ret = config_setting_get_string(s);
	return 1;
}

static int get_uint(struct ctx *x, const config_setting_t *g, const char *key, long long min,
		    long long max, unsigned *ret)
{
	const config_setting_t *s = g ? config_setting_get_member(g, key) : NULL;
	char name[256];
	long long v;

	if (!s)
		return 0;
	setting_path(s, name, sizeof(name));
	if (config_setting_type(s) != CONFIG_TYPE_INT && config_setting_type(s) != CONFIG_TYPE_INT64)
		return fail(x, s, "%s: expected an integer", name);
	v = config_setting_get_int64(s);
	if (v < min || v > max)
		return fail(x, s, "%s: %lld is out of range %lld..%lld", name, v, min, max);
	*ret = (unsigned)v;
	return 1;
}

/* strto*() skip leading blanks and take a sign; numbers in config strings
 * must start with a digit. */
static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* An ASN: 1..4294967295. libconfig reads a bare integer as 32-bit signed
 * (4200000002 wraps), so 4-byte ASNs are written 4200000002L or as a
 * string "4200000002". */
static int get_asn(struct ctx *x, const config_setting_t *g, const char *key, uint32_t *ret)
{
	const config_setting_t *s = g ? config_setting_get_member(g, key) : NULL;
	char name[256], *end;
	long long v;

	if (!s)
		return 0;
	setting_path(s, name, sizeof(name));
	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		const char *t = config_setting_get_string(s);

		errno = 0;
		v = strtoll(t, &end, 10);
		if (!is_digit(t[0]) || *end || errno)
			return fail(x, s, "%s: '%s' is not an AS number", name, t);
	} else if (config_setting_type(s) == CONFIG_TYPE_INT ||
		   config_setting_type(s) == CONFIG_TYPE_INT64) {
		v = config_setting_get_int64(s);
		if (v < 0 && config_setting_type(s) == CONFIG_TYPE_INT)
			return fail(x, s,
				    "%s: %lld: write AS numbers above 2147483647 with an L suffix (4200000000L) or in quotes",
				    name, v);
	} else {
		return fail(x, s, "%s: expected an AS number", name);
	}
	if (v < 1 || v > 4294967295LL)
		return fail(x, s, "%s: %lld is out of range 1..4294967295", name, v);
	*ret = (uint32_t)v;
	return 1;
}

static int get_bool(struct ctx *x, const config_setting_t *g, const char *key, bool *ret)
{
	const config_setting_t *s = g ? config_setting_get_member(g, key) : NULL;
	char name[256];

	if (!s)
		return 0;
	setting_path(s, name, sizeof(name));
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return fail(x, s, "%s: expected true or false", name);
	*ret = config_setting_get_bool(s);
	return 1;
}

static const config_setting_t *member(const config_setting_t *g, const char *key)
{
	return g ? config_setting_get_member(g, key) : NULL;
}

static bool parse_ipv4(const char *s, struct in_addr *ret)
{
	return inet_pton(AF_INET, s, ret) == 1;
}

/* "a.b.c.d/len" with no host bits set. */
static int parse_cidr(struct ctx *x, const config_setting_t *s, const char *v, struct in_addr *net,
		      unsigned *len)
{
	char buf[32], name[256], *slash, *end;
	unsigned long l;
	uint32_t a, mask;

	setting_path(s, name, sizeof(name));
	if (strlen(v) >= sizeof(buf))
		return fail(x, s, "%s: '%s' is not an IPv4 CIDR like 10.244.0.0/16", name, v);
	strcpy(buf, v);
	slash = strchr(buf, '/');
	if (!slash)
		return fail(x, s, "%s: '%s' has no prefix length (like 10.244.0.0/16)", name, v);
	*slash = '\0';
	errno = 0;
	l = strtoul(slash + 1, &end, 10);
	if (!parse_ipv4(buf, net) || !is_digit(slash[1]) || *end || errno || l > 32)
		return fail(x, s, "%s: '%s' is not an IPv4 CIDR like 10.244.0.0/16", name, v);
	a = ntohl(net->s_addr);
	mask = l ? 0xffffffffu << (32 - l) : 0;
	if (a & ~mask) {
		struct in_addr fixed = {.s_addr = htonl(a & mask)};

		return fail(x, s, "%s: '%s' has host bits set (the network is %s/%lu)", name, v,
			    inet_ntoa(fixed), l);
	}
	*len = (unsigned)l;
	return 0;
}

static int get_name(struct ctx *x, const config_setting_t *g, const char *key, char *out)
{
	const char *v;
	char name[256];
	int r = get_string(x, g, key, true, &v);

	if (r < 0)
		return r;
	if (!bc_name_ok(v)) {
		setting_path(member(g, key), name, sizeof(name));
		return fail(x, member(g, key), "%s: '%s' must be 1-%d characters of a-z, 0-9 and '-'",
			    name, v, BC_NAME_MAX);
	}
	strcpy(out, v);
	return 0;
}

static int get_addr(struct ctx *x, const config_setting_t *g, const char *key, struct in_addr *out)
{
	const char *v;
	char name[256];
	int r = get_string(x, g, key, true, &v);
	uint32_t a;

	if (r < 0)
		return r;
	setting_path(member(g, key), name, sizeof(name));
	if (!parse_ipv4(v, out))
		return fail(x, member(g, key), "%s: '%s' is not an IPv4 address", name, v);
	a = ntohl(out->s_addr);
	if (a == 0 || a >> 24 == 127 || a >> 28 >= 0xe)
		return fail(x, member(g, key),
			    "%s: '%s' cannot be a node address (unspecified, loopback, multicast or reserved)",
			    name, v);
	return 0;
}

/* An absolute path without characters that could break out of a BIRD string. */
static int get_path(struct ctx *x, const config_setting_t *g, const char *key, const char *def,
		    bool allow_empty, size_t max, char **out)
{
	const char *v = def;
	char name[256];
	int r = get_string(x, g, key, false, &v);

	if (r < 0)
		return r;
	if (r > 0) {
		setting_path(member(g, key), name, sizeof(name));
		if (!(allow_empty && !v[0])) {
			if (v[0] != '/')
				return fail(x, member(g, key), "%s: '%s' is not an absolute path",
					    name, v);
			for (const unsigned char *p = (const unsigned char *)v; *p; p++)
				if (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\')
					return fail(x, member(g, key),
						    "%s: quotes, backslashes and control characters are not allowed",
						    name);
			if (strlen(v) > max)
				return fail(x, member(g, key),
					    "%s: '%s' is longer than %zu characters", name, v, max);
		}
	}
	*out = strdup(v);
	return *out ? 0 : -ENOMEM;
}

static bool valid_network(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
				  (s[0] >= '0' && s[0] <= '9')))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-'))
			return false;
	return true;
}

/* datastore.type = "kubernetes" (known before the datastore group is read). */
static bool ds_is_kube(const config_setting_t *root)
{
	const config_setting_t *g = member(root, "datastore");
	const char *t = NULL;

	return g && config_setting_lookup_string(g, "type", &t) && strcmp(t, "kubernetes") == 0;
}

/* ---- Dual-stack (IPv6) ----
 *
 * node.address6 turns IPv6 on: the node's global IPv6 address on the node
 * network (the next hop of its IPv6 subnet), with node.pod_cidr6 (required
 * unless the node is a reflector without pods) inside cluster.pod_cidr6,
 * every node's IPv6 subnet being cluster.node_prefix_len6 long (default 64).
 * node.address6 without node.address makes an IPv6-only node: no IPv4 keys,
 * a mesh only, a router id from node.router_id or the last 32 bits of
 * node.address6. With etcd, node.address6 turns IPv6 on and the IPv6
 * subnet is leased like the IPv4 one (load_ds6); Kubernetes: IPv4 only, so far. */

static int load_mesh6(struct ctx *x, const config_setting_t *p, int i, const struct roostd_conf *c,
		      struct bc_peer *peers);
static int load_peer6(struct ctx *x, const config_setting_t *p, int i, const struct roostd_conf *c,
		      struct bc_ext_peer *peer);
static int load_peer_import6(struct ctx *x, const config_setting_t *p,
			     const struct roostd_conf *c, struct bc_ext_peer *peer);
static int load_rr6(struct ctx *x, const config_setting_t *p, int i, const struct roostd_conf *c,
		    struct bc_peer *peer);
static int load_reflector6(struct ctx *x, const config_setting_t *g, struct roostd_conf *c);

/* node has address6 but no address: an IPv6-only node (conf.c, Dual-stack). */
static bool v6_only_node(const config_setting_t *node)
{
	return member(node, "address6") && !member(node, "address");
}

static int load_node(struct ctx *x, const config_setting_t *root, struct roostd_conf *c)
{
	static const char *const keys[] = {"name",	   "address",	"pod_cidr", "asn",
					   "address6", "pod_cidr6", "router_id", NULL};
	const config_setting_t *g;
	const char *v;
	int r;

	const config_setting_t *bgp = member(root, "bgp");
	/* A route reflector may run without pods: then node.pod_cidr is left
	 * out; with a datastore, the subnet is leased from it. */
	bool ds = member(root, "datastore") != NULL;
	bool pods_optional = ds || (bgp && config_setting_is_group(bgp) && member(bgp, "reflector"));
	bool kube = ds_is_kube(root);

	if ((r = get_group(x, root, "node", !kube, &g)) < 0 || (g && (r = check_keys(x, g, keys)) < 0))
		return r;
	c->node_line = g ? config_setting_source_line(g) : 0;
	if (kube) {
		/* The Node's name: node.name, else NODE_NAME, which the DaemonSet
		 * passes (downward API). Any Node name will do ("ip-10-0-1-5.
		 * ec2.internal"); roost's own name for the node is derived. */
		const char *env = getenv("NODE_NAME");

		if (member(g, "name") && (r = get_string(x, g, "name", true, &env)) < 0)
			return r;
		if (!env || !bc_dns_name_ok(env))
			return fail(x, member(g, "name") ? member(g, "name") : g ? g : root,
				    "node.name: %s%s%s is %s: give the Node's name (a DNS subdomain name: a-z, 0-9, '-' and '.', at most %d characters)",
				    member(g, "name") ? "'" : "not set, and NODE_NAME",
				    member(g, "name") ? env : "", member(g, "name") ? "'" : "",
				    env ? "not a Kubernetes Node name" : "not in the environment",
				    BC_DNS_NAME_MAX);
		snprintf(c->kube_node, sizeof(c->kube_node), "%s", env);
		bc_name_from(env, c->name);
	} else if ((r = get_name(x, g, "name", c->name)) < 0) {
		return r;
	}
	/* With the Kubernetes datastore the address may come from the Node's
	 * InternalIP (ds_fill). */
	if (!(kube && !member(g, "address")) && !v6_only_node(g) &&
	    (r = get_addr(x, g, "address", &c->address)) < 0)
		return r;
	if ((r = get_string(x, g, "pod_cidr", !pods_optional && !v6_only_node(g), &v)) < 0)
		return r;
	if (r == 0 && v6_only_node(g))
		return get_asn(x, g, "asn", &c->asn) < 0 ? -EINVAL : 0;
	if (r == 0) {
		c->no_pods = !ds;
		c->asn = 0;
		return get_asn(x, g, "asn", &c->asn) < 0 ? -EINVAL : 0;
	}
	c->ds_pod_given = ds;
	if ((r = parse_cidr(x, member(g, "pod_cidr"), v, &c->pod_net, &c->pod_len)) < 0)
		return r;
	if (c->pod_len < 16 || c->pod_len > 30)
		return fail(x, member(g, "pod_cidr"),
			    "node.pod_cidr: prefix length /%u is out of range /16../30", c->pod_len);
	c->gateway.s_addr = htonl(ntohl(c->pod_net.s_addr) + 1);
	c->asn = 0;
	return get_asn(x, g, "asn", &c->asn) < 0 ? -EINVAL : 0;
}

static int load_cluster(struct ctx *x, const config_setting_t *root, struct roostd_conf *c)
{
	static const char *const keys[] = {"pod_cidr",	"asn", "node_prefix_len",
					   "pod_cidr6", "node_prefix_len6", NULL};
	const config_setting_t *g;
	const char *v;
	uint32_t cn, cm;
	unsigned plen = 0;
	int r;

	bool ds = member(root, "datastore") != NULL;
	bool v6only = v6_only_node(member(root, "node"));

	if ((r = get_group(x, root, "cluster", !ds, &g)) < 0 || (g && (r = check_keys(x, g, keys)) < 0) ||
	    (r = get_string(x, g, "pod_cidr", !ds && !v6only, &v)) < 0)
		return r;
	if (v6only) {
		/* IPv6-only: IPv4 keys make no sense (load_dual_stack checks the rest). */
		if (r > 0 || member(g, "node_prefix_len"))
			return fail(x, member(g, "pod_cidr") ? member(g, "pod_cidr")
							   : member(g, "node_prefix_len"),
				    "cluster.%s: this node is IPv6-only (node.address6 without node.address)",
				    r > 0 ? "pod_cidr" : "node_prefix_len");
		c->cluster_asn = 64512;
		if (get_asn(x, g, "asn", &c->cluster_asn) < 0)
			return -EINVAL;
		if (c->asn == 0)
			c->asn = c->cluster_asn;
		return 0;
	}
	c->ds_cluster_given = ds && r > 0;
	if (r > 0 && (r = parse_cidr(x, member(g, "pod_cidr"), v, &c->cluster_net,
				     &c->cluster_len)) < 0)
		return r;
	c->cluster_asn = 64512;
	if (get_asn(x, g, "asn", &c->cluster_asn) < 0 ||
	    get_uint(x, g, "node_prefix_len", 16, 30, &plen) < 0)
		return -EINVAL;
	if (c->asn == 0)
		c->asn = c->cluster_asn;
	/* Datastore: checked once etcd (or the Node) says (conf_set_subnets). */
	if (ds && (!c->ds_cluster_given || !c->ds_pod_given)) {
		c->pod_len = plen ? plen : 24; /* what the Node's podCIDR must be */
		return 0;
	}
	if (c->no_pods) {
		c->pod_len = plen ? plen : 24;
		if (c->cluster_len < 8 || c->cluster_len >= c->pod_len)
			return fail(x, member(g, "pod_cidr"),
				    "cluster.pod_cidr: /%u must be shorter than the node subnets (/%u) and at least /8",
				    c->cluster_len, c->pod_len);
		cm = 0xffffffffu << (32 - c->cluster_len);
		if ((ntohl(c->address.s_addr) & cm) == ntohl(c->cluster_net.s_addr))
			return fail(x, member(config_setting_get_member(root, "node"), "address"),
				    "node.address: %s is inside cluster.pod_cidr; it must be the node's address on the node network",
				    inet_ntoa(c->address));
		return 0;
	}
	if (plen && plen != c->pod_len)
		return fail(x, member(g, "node_prefix_len"),
			    "cluster.node_prefix_len: %u differs from node.pod_cidr's length /%u", plen,
			    c->pod_len);
	if (c->cluster_len < 8 || c->cluster_len >= c->pod_len)
		return fail(x, member(g, "pod_cidr"),
			    "cluster.pod_cidr: /%u must be shorter than node.pod_cidr (/%u) and at least /8",
			    c->cluster_len, c->pod_len);
	cn = ntohl(c->cluster_net.s_addr);
	cm = 0xffffffffu << (32 - c->cluster_len);
	if ((ntohl(c->pod_net.s_addr) & cm) != cn) {
		char pod[INET_ADDRSTRLEN], cl[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &c->pod_net, pod, sizeof(pod));
		inet_ntop(AF_INET, &c->cluster_net, cl, sizeof(cl));
		return fail(x, member(config_setting_get_member(root, "node"), "pod_cidr"),
			    "node.pod_cidr: %s/%u is not inside cluster.pod_cidr %s/%u", pod,
			    c->pod_len, cl, c->cluster_len);
	}
	if ((ntohl(c->address.s_addr) & cm) == cn)
		return fail(x, member(config_setting_get_member(root, "node"), "address"),
			    "node.address: %s is inside cluster.pod_cidr; it must be the node's address on the node network",
			    inet_ntoa(c->address));
	return 0;
}

/* A BGP MD5 password at key of g ("" when absent) into out. The password
 * itself never goes into a message: messages reach logs. */
static int get_password(struct ctx *x, const config_setting_t *g, const char *key,
			char out[BC_PASSWORD_MAX + 1])
{
	const char *pw = "";
	char name[256];
	int r;

	if ((r = get_string(x, g, key, false, &pw)) < 0)
		return r;
	if (r == 0)
		return 0;
	setting_path(member(g, key), name, sizeof(name));
	if (strlen(pw) > BC_PASSWORD_MAX)
		return fail(x, member(g, key), "%s: longer than %d characters", name,
			    BC_PASSWORD_MAX);
	for (const unsigned char *q = (const unsigned char *)pw; *q; q++)
		if (*q < 0x20 || *q >= 0x7f || *q == '"' || *q == '\\')
			return fail(x, member(g, key),
				    "%s: only printable ASCII without '\"' and '\\' is allowed",
				    name);
	strcpy(out, pw);
	return 1;
}

/* bgp.mesh[i].pod_cidr: a node subnet of the cluster (when the cluster is
 * known: with a datastore it comes later), not ours, not another entry's. */
static int load_mesh_pod_cidr(struct ctx *x, const config_setting_t *p, int i,
			      const struct roostd_conf *c, struct bc_peer *peers)
{
	struct bc_peer *peer = &peers[i];
	const config_setting_t *s = member(p, "pod_cidr");
	const char *v;
	int r;

	if ((r = get_string(x, p, "pod_cidr", false, &v)) <= 0)
		return r;
	if ((r = parse_cidr(x, s, v, &peer->pod_net, &peer->pod_len)) < 0)
		return r;
	if (c->pod_len && peer->pod_len != c->pod_len)
		return fail(x, s, "bgp.mesh[%d].pod_cidr: '%s' is not a node subnet (/%u)", i, v,
			    c->pod_len);
	if (c->cluster_len) {
		uint32_t cm = 0xffffffffu << (32 - c->cluster_len);

		if ((ntohl(peer->pod_net.s_addr) & cm) != ntohl(c->cluster_net.s_addr) ||
		    peer->pod_len <= c->cluster_len)
			return fail(x, s, "bgp.mesh[%d].pod_cidr: '%s' is not inside cluster.pod_cidr",
				    i, v);
	}
	if (!c->no_pods && c->pod_len && peer->pod_net.s_addr == c->pod_net.s_addr)
		return fail(x, s, "bgp.mesh[%d].pod_cidr: '%s' is this node's own node.pod_cidr", i,
			    v);
	for (int j = 0; j < i; j++)
		if (peers[j].pod_len && peers[j].pod_net.s_addr == peer->pod_net.s_addr)
			return fail(x, s, "bgp.mesh[%d].pod_cidr: '%s' is already bgp.mesh[%d]'s", i,
				    v, j);
	return 0;
}

/* Where address a is already used by a session: "bgp.mesh[1] ('node2')". */
static bool address_used(const struct roostd_conf *c, struct in_addr a, char *where, size_t len)
{
	for (size_t i = 0; i < c->n_mesh; i++)
		if (c->mesh[i].address.s_addr == a.s_addr) {
			snprintf(where, len, "bgp.mesh[%zu] ('%s')", i, c->mesh[i].name);
			return true;
		}
	for (size_t i = 0; i < c->n_route_reflectors; i++)
		if (c->route_reflectors[i].address.s_addr == a.s_addr) {
			snprintf(where, len, "bgp.route_reflectors[%zu] ('%s')", i,
				 c->route_reflectors[i].name);
			return true;
		}
	for (size_t i = 0; i < c->n_peers; i++)
		if (c->peers[i].address.s_addr == a.s_addr) {
			snprintf(where, len, "bgp.peers[%zu] ('%s')", i, c->peers[i].name);
			return true;
		}
	return false;
}

/* bgp.mesh or bgp.route_reflectors: ( { name = ...; address = ...; }, ... ).
 * Mesh entries may also name the neighbour's pod_cidr and asn. */
static int load_peer_list(struct ctx *x, const config_setting_t *bgp, const char *key,
			  struct roostd_conf *c, struct bc_peer **ret, size_t *ret_n)
{
	static const char *const mesh_keys[] = {"name",	    "address",  "pod_cidr", "asn",
						"address6", "pod_cidr6", NULL};
	static const char *const rr_keys[] = {"name", "address", "address6", NULL};
	bool mesh = strcmp(key, "mesh") == 0;
	const char *const *keys = mesh ? mesh_keys : rr_keys;
	const config_setting_t *list = member(bgp, key);
	char where[BC_NAME_MAX + 64];
	int n;

	if (!list)
		return 0;
	if (!config_setting_is_list(list) && !config_setting_is_array(list))
		return fail(x, list, "bgp.%s: expected a list ( { name = ...; address = ...; }, ... )",
			    key);
	n = config_setting_length(list);
	if (n > 1024)
		return fail(x, list, "bgp.%s: %d neighbours; at most 1024 (use route reflectors)",
			    key, n);
	*ret = calloc((size_t)n + 1, sizeof(**ret));
	if (!*ret)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		const config_setting_t *p = config_setting_get_elem(list, (unsigned)i);
		struct bc_peer *peer = &(*ret)[i];
		int r;

		if (!config_setting_is_group(p))
			return fail(x, p, "bgp.%s[%d]: expected a group { name = ...; address = ...; }",
				    key, i);
		if ((r = check_keys(x, p, keys)) < 0 || (r = get_name(x, p, "name", peer->name)) < 0 ||
		    (!((mesh || conf_v6_only(c)) && member(p, "address6") && !member(p, "address")) &&
		     (r = get_addr(x, p, "address", &peer->address)) < 0))
			return r;
		if (!mesh && (r = load_rr6(x, p, i, c, peer)) < 0)
			return r;
		if (strcmp(peer->name, c->name) == 0)
			return fail(x, member(p, "name"), "bgp.%s[%d].name: '%s' is this node itself",
				    key, i, peer->name);
		if (mesh && (r = load_mesh6(x, p, i, c, *ret)) < 0)
			return r;
		if (peer->address.s_addr && peer->address.s_addr == c->address.s_addr)
			return fail(x, member(p, "address"),
				    "bgp.%s[%d].address: %s is this node's own address", key, i,
				    inet_ntoa(peer->address));
		for (int j = 0; j < i; j++)
			if (strcmp((*ret)[j].name, peer->name) == 0)
				return fail(x, member(p, "name"),
					    "bgp.%s[%d].name: '%s' is already bgp.%s[%d]", key, i,
					    peer->name, key, j);
		if (peer->address.s_addr && address_used(c, peer->address, where, sizeof(where)))
			return fail(x, member(p, "address"), "bgp.%s[%d].address: %s is already %s",
				    key, i, inet_ntoa(peer->address), where);
		if (mesh && ((r = load_mesh_pod_cidr(x, p, i, c, *ret)) < 0 ||
			     (r = get_asn(x, p, "asn", &peer->asn)) < 0))
			return r;
		(*ret_n)++;
	}
	return 0;
}

/* datastore.type = "kubernetes": the Nodes' labels say which nodes reflect
 * (dsmerge.c); bgp.reflector only gives the clients range and password they
 * use, and the cluster id is each Node's annotation. */
static int load_kube_reflector(struct ctx *x, const config_setting_t *g, struct roostd_conf *c)
{
	static const char *const keys[] = {"clients", "password", NULL};
	const char *v;
	int r;

	if (member(g, "cluster_id"))
		return fail(x, member(g, "cluster_id"),
			    "bgp.reflector.cluster_id: with datastore.type = \"kubernetes\" a reflector's cluster id is its Node's annotation roost.io/route-reflector-cluster-id (default: its address)");
	if ((r = check_keys(x, g, keys)) < 0 || (r = get_string(x, g, "clients", false, &v)) < 0)
		return r;
	if (!member(g, "clients"))
		return 0;
	if ((r = parse_cidr(x, member(g, "clients"), v, &c->kube_rr_clients.net,
			    &c->kube_rr_clients.len)) < 0)
		return r;
	if (c->kube_rr_clients.len < 8)
		return fail(x, member(g, "clients"),
			    "bgp.reflector.clients: /%u is too wide; at least /8",
			    c->kube_rr_clients.len);
	c->kube_rr_clients_given = true;
	return 0;
}

static int load_reflector(struct ctx *x, const config_setting_t *root,
			  const config_setting_t *bgp, struct roostd_conf *c)
{
	static const char *const keys[] = {"clients", "cluster_id", "password", "clients6", NULL};
	const config_setting_t *g;
	const char *v;
	int r;

	if ((r = get_group(x, bgp, "reflector", false, &g)) < 0)
		return r;
	/* The clients' sessions: bgp.password unless the reflector has its own. */
	if (g || ds_is_kube(root))
		strcpy(c->rr_password, c->password);
	if (!g)
		return 0;
	if ((r = get_password(x, g, "password", c->rr_password)) < 0)
		return r;
	if (ds_is_kube(root))
		return load_kube_reflector(x, g, c);
	if ((r = check_keys(x, g, keys)) < 0 || (r = get_string(x, g, "clients", true, &v)) < 0 ||
	    (r = parse_cidr(x, member(g, "clients"), v, &c->rr_clients_net, &c->rr_clients_len)) <
		    0)
		return r;
	if (c->rr_clients_len < 8)
		return fail(x, member(g, "clients"),
			    "bgp.reflector.clients: /%u is too wide; at least /8", c->rr_clients_len);
	c->reflector = true;
	c->rr_cluster_id = c->address;
	if (member(g, "cluster_id") && (r = get_addr(x, g, "cluster_id", &c->rr_cluster_id)) < 0)
		return r;
	if ((r = load_reflector6(x, g, c)) < 0)
		return r;
	if (c->n_route_reflectors > 0)
		return fail(x, g,
			    "bgp.reflector: a route reflector cannot also be a client of bgp.route_reflectors");
	return 0;
}

static int parse_bfd_mode(struct ctx *x, const config_setting_t *s, const char *mode,
			  enum bc_bfd_mode *ret)
{
	char name[256];

	if (strcmp(mode, "graceful") == 0)
		*ret = BC_BFD_GRACEFUL;
	else if (strcmp(mode, "strict") == 0)
		*ret = BC_BFD_STRICT;
	else if (strcmp(mode, "off") == 0)
		*ret = BC_BFD_OFF;
	else {
		setting_path(s, name, sizeof(name));
		return fail(x, s, "%s: '%s' is not one of graceful, strict, off", name, mode);
	}
	return 0;
}

/* A list setting ( "...", ... ) of at most max entries: its length, or a
 * failure saying what it should hold (what: "prefixes", example: one). */
static int list_length(struct ctx *x, const config_setting_t *list, const char *name, int max,
		       const char *what, const char *example)
{
	int n;

	if (!config_setting_is_list(list) && !config_setting_is_array(list))
		return fail(x, list, "%s: expected a list of %s ( \"%s\", ... )", name, what,
			    example);
	n = config_setting_length(list);
	if (n > max)
		return fail(x, list, "%s: %d %s; at most %d", name, n, what, max);
	return n;
}

/* peers[i].import: ( "CIDR", ... ), outside the cluster pod CIDR, no default. */
static int load_peer_import(struct ctx *x, const config_setting_t *p, const struct roostd_conf *c,
			    struct bc_ext_peer *peer)
{
	const config_setting_t *list = member(p, "import");
	struct bc_prefix *pfx;
	char name[256];
	int n;

	if (!list)
		return 0;
	setting_path(list, name, sizeof(name));
	n = list_length(x, list, name, BC_IMPORT_MAX, "prefixes", "192.0.2.0/24");
	if (n < 0)
		return n;
	pfx = calloc((size_t)n + 1, sizeof(*pfx));
	if (!pfx)
		return -ENOMEM;
	peer->import = pfx;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
		uint32_t cm = c->cluster_len ? 0xffffffffu << (32 - c->cluster_len) : 0, m;
		int r;

		setting_path(e, name, sizeof(name));
		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return fail(x, e, "%s: expected a prefix in double quotes", name);
		if ((r = parse_cidr(x, e, config_setting_get_string(e), &pfx[i].net, &pfx[i].len)) <
		    0)
			return r;
		if (pfx[i].len == 0)
			return fail(x, e, "%s: a default route is never imported", name);
		m = pfx[i].len < c->cluster_len ? 0xffffffffu << (32 - pfx[i].len) : cm;
		/* (no cluster CIDR yet with a datastore: etcd's Network comes later) */
		if (c->cluster_len && (ntohl(pfx[i].net.s_addr) & m) == (ntohl(c->cluster_net.s_addr) & m))
			return fail(x, e,
				    "%s: '%s' overlaps cluster.pod_cidr; pod subnets are imported by the pod policy only",
				    name, config_setting_get_string(e));
		for (int j = 0; j < i; j++)
			if (pfx[j].net.s_addr == pfx[i].net.s_addr && pfx[j].len == pfx[i].len)
				return fail(x, e, "%s: '%s' is listed twice", name,
					    config_setting_get_string(e));
		peer->n_import++;
	}
	return 0;
}

/* "N:N" (large: "N:N:N") of digits, each at most max; 0 or -EINVAL. */
static int parse_community(const char *s, int parts, unsigned long long max, uint32_t *out)
{
	const char *p = s;

	for (int i = 0; i < parts; i++) {
		unsigned long long v;
		char *end;

		if (!is_digit(*p))
			return -EINVAL;
		errno = 0;
		v = strtoull(p, &end, 10);
		if (errno || v > max || end - p > 10)
			return -EINVAL;
		out[i] = (uint32_t)v;
		p = end;
		if (i < parts - 1 && *p++ != ':')
			return -EINVAL;
	}
	return *p ? -EINVAL : 0;
}

/* peers[i].communities / .large_communities: ( "65000:100", ... ). */
static int load_peer_communities(struct ctx *x, const config_setting_t *p, bool large,
				 struct bc_ext_peer *peer)
{
	const config_setting_t *list = member(p, large ? "large_communities" : "communities");
	char name[256];
	int n;

	if (!list)
		return 0;
	setting_path(list, name, sizeof(name));
	n = list_length(x, list, name, BC_COMMUNITY_MAX, "communities",
			large ? "65000:1:2" : "65000:100");
	if (n < 0)
		return n;
	if (large) {
		struct bc_large_community *lc = calloc((size_t)n + 1, sizeof(*lc));

		if (!lc)
			return -ENOMEM;
		peer->large_communities = lc;
	} else {
		struct bc_community *sc = calloc((size_t)n + 1, sizeof(*sc));

		if (!sc)
			return -ENOMEM;
		peer->communities = sc;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
		const char *v;
		uint32_t part[3];

		setting_path(e, name, sizeof(name));
		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return fail(x, e, "%s: expected a community in double quotes (\"%s\")", name,
				    large ? "65000:1:2" : "65000:100");
		v = config_setting_get_string(e);
		if (large) {
			struct bc_large_community *lc =
				(struct bc_large_community *)peer->large_communities;

			if (parse_community(v, 3, 4294967295ULL, part) < 0)
				return fail(x, e,
					    "%s: '%s' is not a large community GLOBAL:LOCAL1:LOCAL2 (each 0-4294967295)",
					    name, v);
			lc[i] = (struct bc_large_community){part[0], part[1], part[2]};
			peer->n_large_communities++;
		} else {
			struct bc_community *sc = (struct bc_community *)peer->communities;

			if (parse_community(v, 2, 65535, part) < 0)
				return fail(x, e,
					    "%s: '%s' is not a community ASN:VALUE (each 0-65535)",
					    name, v);
			sc[i] = (struct bc_community){(uint16_t)part[0], (uint16_t)part[1]};
			peer->n_communities++;
		}
	}
	return 0;
}

/* peers[i].export, .communities, .large_communities, .prepend. */
static int load_peer_policy(struct ctx *x, const config_setting_t *p, int i,
			    const struct roostd_conf *c, struct bc_ext_peer *peer)
{
	const char *export = "both";
	int r;

	if ((r = get_string(x, p, "export", false, &export)) < 0)
		return r;
	if (strcmp(export, "both") == 0)
		peer->export = BC_EXPORT_BOTH;
	else if (strcmp(export, "pods") == 0)
		peer->export = BC_EXPORT_PODS;
	else if (strcmp(export, "announce") == 0)
		peer->export = BC_EXPORT_ANNOUNCE;
	else
		return fail(x, member(p, "export"),
			    "bgp.peers[%d].export: '%s' is not one of pods, announce, both", i, export);
	if ((r = load_peer_communities(x, p, false, peer)) < 0 ||
	    (r = load_peer_communities(x, p, true, peer)) < 0 ||
	    (r = get_uint(x, p, "prepend", 0, BC_PREPEND_MAX, &peer->prepend)) < 0)
		return r;
	if (peer->prepend && peer->asn == c->asn)
		return fail(x, member(p, "prepend"),
			    "bgp.peers[%d].prepend: only for eBGP peers; this peer has the node's own AS %u (an iBGP peer drops a path with its own AS in it)",
			    i, c->asn);
	return 0;
}

static bool covers(const struct bc_announce *a, struct in_addr addr)
{
	uint32_t m = a->len ? 0xffffffffu << (32 - a->len) : 0;

	return (ntohl(addr.s_addr) & m) == ntohl(a->net.s_addr);
}

/* bgp.announce: ( { prefix = "192.0.2.10/32"; when = "always" | "local"; }, ... ). */
static int load_announce(struct ctx *x, const config_setting_t *bgp, struct roostd_conf *c)
{
	static const char *const keys[] = {"prefix", "when", NULL};
	const config_setting_t *list = member(bgp, "announce");
	int n;

	if (!list)
		return 0;
	if (!config_setting_is_list(list))
		return fail(x, list,
			    "bgp.announce: expected a list ( { prefix = \"192.0.2.10/32\"; when = \"local\"; }, ... )");
	n = config_setting_length(list);
	if (n > BC_ANNOUNCE_MAX)
		return fail(x, list, "bgp.announce: %d prefixes; at most %d", n, BC_ANNOUNCE_MAX);
	if (n > 0 && c->no_pods)
		return fail(x, list,
			    "bgp.announce: a node without node.pod_cidr has no external peers to announce to");
	c->announce = calloc((size_t)n + 1, sizeof(*c->announce));
	if (!c->announce)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
		struct bc_announce *a = &c->announce[i];
		const char *prefix, *when;
		int r;

		if (!config_setting_is_group(e))
			return fail(x, e,
				    "bgp.announce[%d]: expected a group { prefix = ...; when = ...; }", i);
		if ((r = check_keys(x, e, keys)) < 0 ||
		    (r = get_string(x, e, "prefix", true, &prefix)) < 0 ||
		    (r = parse_cidr(x, member(e, "prefix"), prefix, &a->net, &a->len)) < 0 ||
		    (r = get_string(x, e, "when", true, &when)) < 0)
			return r;
		if (strcmp(when, "always") == 0)
			a->when = BC_ANNOUNCE_ALWAYS;
		else if (strcmp(when, "local") == 0)
			a->when = BC_ANNOUNCE_LOCAL;
		else
			return fail(x, member(e, "when"),
				    "bgp.announce[%d].when: '%s' is not one of always, local", i, when);
		if (a->len == 0)
			return fail(x, member(e, "prefix"),
				    "bgp.announce[%d].prefix: a default route is never announced", i);
		/* (no cluster CIDR yet with a datastore: the renderer checks it then) */
		if (c->cluster_len) {
			unsigned l = a->len < c->cluster_len ? a->len : c->cluster_len;
			uint32_t m = 0xffffffffu << (32 - l);

			if ((ntohl(a->net.s_addr) & m) == (ntohl(c->cluster_net.s_addr) & m))
				return fail(x, member(e, "prefix"),
					    "bgp.announce[%d].prefix: '%s' overlaps cluster.pod_cidr %s/%u; pod subnets are announced by their nodes",
					    i, prefix, inet_ntoa(c->cluster_net), c->cluster_len);
		}
		/* A route covering a session's address would hijack the resolution
		 * of a multihop next hop (the route wins in BIRD's table), and tell
		 * the peers to reach the node's own address through the node. */
		if (covers(a, c->address))
			return fail(x, member(e, "prefix"),
				    "bgp.announce[%d].prefix: '%s' covers node.address %s", i, prefix,
				    inet_ntoa(c->address));
		for (size_t j = 0; j < c->n_peers; j++)
			if (covers(a, c->peers[j].address))
				return fail(x, member(e, "prefix"),
					    "bgp.announce[%d].prefix: '%s' covers the address of bgp.peers[%zu] ('%s')",
					    i, prefix, j, c->peers[j].name);
		for (int j = 0; j < i; j++)
			if (c->announce[j].net.s_addr == a->net.s_addr && c->announce[j].len == a->len)
				return fail(x, member(e, "prefix"),
					    "bgp.announce[%d].prefix: '%s' is already bgp.announce[%d]", i,
					    prefix, j);
		c->n_announce++;
	}
	return 0;
}

/* ---- Dual-stack (IPv6), continued ---- */

static bool same6(const struct in6_addr *a, const struct in6_addr *b, unsigned len)
{
	for (unsigned i = 0; i < len; i++)
		if ((a->s6_addr[i / 8] ^ b->s6_addr[i / 8]) & (0x80 >> (i % 8)))
			return false;
	return true;
}

/* "x:x::/len" with no host bits set. */
static int parse_cidr6(struct ctx *x, const config_setting_t *s, const char *v,
		       struct in6_addr *net, unsigned *len)
{
	char buf[INET6_ADDRSTRLEN + 8], name[256], *slash, *end;
	unsigned long l;

	setting_path(s, name, sizeof(name));
	if (strlen(v) >= sizeof(buf))
		return fail(x, s, "%s: '%s' is not an IPv6 CIDR like fd00:10:244::/48", name, v);
	strcpy(buf, v);
	slash = strchr(buf, '/');
	if (!slash)
		return fail(x, s, "%s: '%s' has no prefix length (like fd00:10:244::/48)", name, v);
	*slash = '\0';
	errno = 0;
	l = strtoul(slash + 1, &end, 10);
	if (inet_pton(AF_INET6, buf, net) != 1 || !is_digit(slash[1]) || *end || errno || l > 128)
		return fail(x, s, "%s: '%s' is not an IPv6 CIDR like fd00:10:244::/48", name, v);
	for (unsigned b = (unsigned)l; b < 128; b++)
		if (net->s6_addr[b / 8] & (0x80 >> (b % 8))) {
			char fixed[INET6_ADDRSTRLEN];

			for (unsigned k = (unsigned)l; k < 128; k++)
				net->s6_addr[k / 8] &= (uint8_t) ~(0x80 >> (k % 8));
			inet_ntop(AF_INET6, net, fixed, sizeof(fixed));
			return fail(x, s, "%s: '%s' has host bits set (the network is %s/%lu)", name,
				    v, fixed, l);
		}
	*len = (unsigned)l;
	return 0;
}

static int get_addr6(struct ctx *x, const config_setting_t *g, const char *key,
		     struct in6_addr *out)
{
	const char *v;
	char name[256];
	int r = get_string(x, g, key, true, &v);

	if (r < 0)
		return r;
	setting_path(member(g, key), name, sizeof(name));
	if (inet_pton(AF_INET6, v, out) != 1)
		return fail(x, member(g, key), "%s: '%s' is not an IPv6 address", name, v);
	if (IN6_IS_ADDR_UNSPECIFIED(out) || IN6_IS_ADDR_LOOPBACK(out) ||
	    IN6_IS_ADDR_MULTICAST(out) || IN6_IS_ADDR_LINKLOCAL(out) || IN6_IS_ADDR_V4MAPPED(out))
		return fail(x, member(g, key),
			    "%s: '%s' must be a global unicast address on the node network (not unspecified, loopback, multicast, link-local or IPv4-mapped: a link-local next hop is no use to the other nodes' kernels)",
			    name, v);
	return 0;
}

static int load_v6_only(struct ctx *x, const config_setting_t *root, struct roostd_conf *c);

/* cluster.pod_cidr6 (present) and cluster.node_prefix_len6 (default
 * *plen6): the cluster's IPv6 pod CIDR into c, the node subnet length into
 * *plen6. 0 or a file:line error. */
static int load_cluster6(struct ctx *x, const config_setting_t *cl, struct roostd_conf *c,
			 unsigned *plen6)
{
	const char *v;
	int r;

	if ((r = get_string(x, cl, "pod_cidr6", true, &v)) < 0 ||
	    (r = parse_cidr6(x, member(cl, "pod_cidr6"), v, &c->cluster_net6, &c->cluster_len6)) < 0)
		return r;
	if (c->cluster_len6 < 8 || c->cluster_len6 > 120)
		return fail(x, member(cl, "pod_cidr6"),
			    "cluster.pod_cidr6: prefix length /%u is out of range /8../120",
			    c->cluster_len6);
	if (get_uint(x, cl, "node_prefix_len6", 16, 124, plen6) < 0)
		return -EINVAL;
	if (*plen6 <= c->cluster_len6)
		return fail(x, member(cl, "node_prefix_len6") ? member(cl, "node_prefix_len6")
							       : member(cl, "pod_cidr6"),
			    "cluster.node_prefix_len6: /%u must be longer than cluster.pod_cidr6 (/%u)",
			    *plen6, c->cluster_len6);
	return 0;
}

/* With a datastore (etcd): node.address6 turns IPv6 on (etcd's config must
 * say "EnableIPv6": true, datastore.c checks); the IPv6 subnet and network
 * come from etcd like the IPv4 ones: node.pod_cidr6 and cluster.pod_cidr6
 * are optional, and must then be what etcd says (conf_set_subnets6). */
static int load_ds6(struct ctx *x, const config_setting_t *root, struct roostd_conf *c)
{
	const config_setting_t *node = member(root, "node"), *cl = member(root, "cluster");
	const char *v;
	int r;

	if (ds_is_kube(root)) {
		unsigned plen6 = 64;

		/* IPv6 is on with cluster.pod_cidr6 (the controller manager's
		 * IPv6 --cluster-cidr); the Node's IPv6 podCIDR is the subnet,
		 * its IPv6 InternalIP the address unless node.address6 says. */
		if (member(node, "pod_cidr6"))
			return fail(x, member(node, "pod_cidr6"),
				    "node.pod_cidr6: not with datastore.type = \"kubernetes\": the Node's spec.podCIDRs gives it");
		if (!member(cl, "pod_cidr6")) {
			const config_setting_t *s = member(node, "address6") ? member(node, "address6")
									      : member(cl, "node_prefix_len6");

			if (s)
				return fail(x, s,
					    "%s: needs cluster.pod_cidr6 (IPv6 with the Kubernetes datastore)",
					    member(node, "address6") ? "node.address6" : "cluster.node_prefix_len6");
			return 0;
		}
		if (member(node, "address6") && (r = get_addr6(x, node, "address6", &c->address6)) < 0)
			return r;
		if ((r = load_cluster6(x, cl, c, &plen6)) < 0)
			return r;
		c->pod_len6 = plen6; /* what the Node's IPv6 podCIDR must be */
		c->ds_cluster6_given = true;
		return 0;
	}
	if (!member(node, "address6")) {
		static const char *const k[] = {"node.pod_cidr6", "cluster.pod_cidr6",
						"cluster.node_prefix_len6"};

		for (int i = 0; i < 3; i++) {
			const config_setting_t *s = member(i < 1 ? node : cl, strchr(k[i], '.') + 1);

			if (s)
				return fail(x, s,
					    "%s: needs node.address6 (the node's IPv6 address on the node network)",
					    k[i]);
		}
		return 0;
	}
	if ((r = get_addr6(x, node, "address6", &c->address6)) < 0)
		return r;
	if (member(cl, "node_prefix_len6"))
		return fail(x, member(cl, "node_prefix_len6"),
			    "cluster.node_prefix_len6: not with a datastore: etcd's IPv6SubnetLen gives the length");
	if (member(cl, "pod_cidr6")) {
		if ((r = get_string(x, cl, "pod_cidr6", true, &v)) < 0 ||
		    (r = parse_cidr6(x, member(cl, "pod_cidr6"), v, &c->cluster_net6,
				     &c->cluster_len6)) < 0)
			return r;
		c->ds_cluster6_given = true;
		if (same6(&c->address6, &c->cluster_net6, c->cluster_len6))
			return fail(x, member(node, "address6"),
				    "node.address6: it is inside cluster.pod_cidr6; it must be the node's address on the node network");
	}
	if (member(node, "pod_cidr6")) {
		if ((r = get_string(x, node, "pod_cidr6", true, &v)) < 0 ||
		    (r = parse_cidr6(x, member(node, "pod_cidr6"), v, &c->pod_net6, &c->pod_len6)) < 0)
			return r;
		if (c->ds_cluster6_given && (c->pod_len6 <= c->cluster_len6 ||
					     !same6(&c->pod_net6, &c->cluster_net6, c->cluster_len6)))
			return fail(x, member(node, "pod_cidr6"),
				    "node.pod_cidr6: '%s' is not inside cluster.pod_cidr6", v);
		c->ds_pod6_given = true;
	}
	return load_v6_only(x, root, c);
}

static int load_dual_stack(struct ctx *x, const config_setting_t *root, struct roostd_conf *c)
{
	static const char *const v6keys[] = {"address6", "pod_cidr6", "pod_cidr6",
					     "node_prefix_len6"};
	const config_setting_t *node = member(root, "node"), *cl = member(root, "cluster");
	const char *v;
	unsigned plen6 = 64;
	int r;

	if (member(node, "router_id") && (r = get_addr(x, node, "router_id", &c->router_id)) < 0)
		return r;
	if (member(root, "datastore"))
		return load_ds6(x, root, c);
	if (!member(node, "address6")) {
		for (int i = 1; i < 4; i++) {
			const config_setting_t *s = member(i < 2 ? node : cl, v6keys[i]);

			if (s)
				return fail(x, s,
					    "%s.%s: needs node.address6 (the node's IPv6 address on the node network)",
					    i < 2 ? "node" : "cluster", v6keys[i]);
		}
		return 0;
	}
	if ((r = get_addr6(x, node, "address6", &c->address6)) < 0)
		return r;
	if (!member(cl, "pod_cidr6"))
		return fail(x, member(node, "address6"),
			    "cluster.pod_cidr6: missing; node.address6 turns IPv6 on and needs the cluster's IPv6 pod CIDR");
	if ((r = load_cluster6(x, cl, c, &plen6)) < 0)
		return r;
	c->pod_len6 = plen6;
	if (same6(&c->address6, &c->cluster_net6, c->cluster_len6))
		return fail(x, member(node, "address6"),
			    "node.address6: it is inside cluster.pod_cidr6; it must be the node's address on the node network");
	if (!member(node, "pod_cidr6")) {
		if (!c->no_pods)
			return fail(x, member(node, "address6"),
				    "node.pod_cidr6: missing; a node with node.address6 needs its IPv6 pod subnet");
	} else {
		unsigned len;

		if (c->no_pods)
			return fail(x, member(node, "pod_cidr6"),
				    "node.pod_cidr6: a node without node.pod_cidr (a reflector without pods) has no IPv6 pods either");
		if ((r = get_string(x, node, "pod_cidr6", true, &v)) < 0 ||
		    (r = parse_cidr6(x, member(node, "pod_cidr6"), v, &c->pod_net6, &len)) < 0)
			return r;
		if (len != plen6)
			return fail(x, member(node, "pod_cidr6"),
				    "node.pod_cidr6: /%u differs from cluster.node_prefix_len6 (/%u)", len,
				    plen6);
		if (!same6(&c->pod_net6, &c->cluster_net6, c->cluster_len6))
			return fail(x, member(node, "pod_cidr6"),
				    "node.pod_cidr6: '%s' is not inside cluster.pod_cidr6", v);
		c->gateway6 = c->pod_net6;
		c->gateway6.s6_addr[15] |= 1; /* the first address (a subnet is /124 at most) */
	}
	return load_v6_only(x, root, c);
}

/* An IPv6-only node: a mesh only, a router id. */
static int load_v6_only(struct ctx *x, const config_setting_t *root, struct roostd_conf *c)
{
	const config_setting_t *node = member(root, "node"), *bgp = member(root, "bgp");

	if (conf_v6_only(c)) {
		static const char *const v4only[] = {"reflector", "announce"};

		for (int i = 0; i < 2; i++)
			if (member(bgp, v4only[i]))
				return fail(x, member(bgp, v4only[i]),
					    "bgp.%s: an IPv6-only node has a mesh or route reflectors only (a reflector and announced addresses need IPv4)",
					    v4only[i]);
		if (!c->router_id.s_addr) {
			uint32_t id;

			/* BGP needs a 32-bit router id that IPv4 would have given. */
			memcpy(&id, &c->address6.s6_addr[12], 4);
			if (id == 0)
				return fail(x, member(node, "address6"),
					    "node.router_id: required: the last 32 bits of node.address6 are 0");
			c->router_id.s_addr = id;
		}
	}
	return 0;
}

static int load_mesh6(struct ctx *x, const config_setting_t *p, int i, const struct roostd_conf *c,
		      struct bc_peer *peers)
{
	struct bc_peer *peer = &peers[i];
	const config_setting_t *s;
	const char *v;
	int r;

	if (conf_v6_only(c) && member(p, "pod_cidr"))
		return fail(x, member(p, "pod_cidr"),
			    "bgp.mesh[%d].pod_cidr: this node is IPv6-only (use pod_cidr6)", i);
	if ((s = member(p, "address6"))) {
		if (!conf_has_v6(c))
			return fail(x, s, "bgp.mesh[%d].address6: this node has no node.address6", i);
		if ((r = get_addr6(x, p, "address6", &peer->address6)) < 0)
			return r;
		if (!memcmp(&peer->address6, &c->address6, sizeof(c->address6)))
			return fail(x, s, "bgp.mesh[%d].address6: this node's own node.address6", i);
		for (int j = 0; j < i; j++)
			if (!memcmp(&peers[j].address6, &peer->address6, sizeof(peer->address6)))
				return fail(x, s, "bgp.mesh[%d].address6: already bgp.mesh[%d]'s", i, j);
	} else if (conf_v6_only(c)) {
		return fail(x, p, "bgp.mesh[%d]: this node is IPv6-only: address6 is required", i);
	}
	if (!(s = member(p, "pod_cidr6")))
		return 0;
	if (!member(p, "address6"))
		return fail(x, s, "bgp.mesh[%d].pod_cidr6: needs the neighbour's address6 (its IPv6 next hop)",
			    i);
	if ((r = get_string(x, p, "pod_cidr6", true, &v)) < 0 ||
	    (r = parse_cidr6(x, s, v, &peer->pod_net6, &peer->pod_len6)) < 0)
		return r;
	if (peer->pod_len6 != c->pod_len6)
		return fail(x, s, "bgp.mesh[%d].pod_cidr6: '%s' is not a node subnet (/%u)", i, v,
			    c->pod_len6);
	if (!same6(&peer->pod_net6, &c->cluster_net6, c->cluster_len6))
		return fail(x, s, "bgp.mesh[%d].pod_cidr6: '%s' is not inside cluster.pod_cidr6", i, v);
	if (!c->no_pods && !memcmp(&peer->pod_net6, &c->pod_net6, sizeof(c->pod_net6)))
		return fail(x, s, "bgp.mesh[%d].pod_cidr6: '%s' is this node's own node.pod_cidr6", i,
			    v);
	for (int j = 0; j < i; j++)
		if (peers[j].pod_len6 && !memcmp(&peers[j].pod_net6, &peer->pod_net6, 16))
			return fail(x, s, "bgp.mesh[%d].pod_cidr6: '%s' is already bgp.mesh[%d]'s", i,
				    v, j);
	return 0;
}

static int load_peer6(struct ctx *x, const config_setting_t *p, int i, const struct roostd_conf *c,
		      struct bc_ext_peer *peer)
{
	const config_setting_t *s = member(p, "address6");
	int r;

	if (!s) {
		if (conf_v6_only(c))
			return fail(x, p, "bgp.peers[%d]: this node is IPv6-only: address6 is required",
				    i);
		return 0;
	}
	if (member(p, "address"))
		return fail(x, member(p, "address"),
			    "bgp.peers[%d]: give address or address6, not both (one session per peer; an IPv6 peer carries IPv6 routes)",
			    i);
	if (!conf_has_v6(c))
		return fail(x, s, "bgp.peers[%d].address6: this node has no node.address6", i);
	if ((r = get_addr6(x, p, "address6", &peer->address6)) < 0)
		return r;
	if (!memcmp(&peer->address6, &c->address6, sizeof(c->address6)))
		return fail(x, s, "bgp.peers[%d].address6: this node's own node.address6", i);
	for (size_t j = 0; j < c->n_mesh; j++)
		if (!memcmp(&c->mesh[j].address6, &peer->address6, 16))
			return fail(x, s, "bgp.peers[%d].address6: already bgp.mesh[%zu]'s", i, j);
	for (int j = 0; j < i; j++)
		if (!memcmp(&c->peers[j].address6, &peer->address6, 16))
			return fail(x, s, "bgp.peers[%d].address6: already bgp.peers[%d]'s", i, j);
	/* multihop: as for an IPv4 peer (load_peers); the next hop resolves
	 * recursively through the node's own IPv6 routes (birdconf). */
	return 0;
}

/* bgp.peers[i].import of a peer over IPv6: IPv6 prefixes. */
/* bgp.route_reflectors[i].address6: the reflector's IPv6 address. An
 * IPv6-only client's session runs to it (over IPv6; the reflector serves
 * it through bgp.reflector.clients6); a dual-stack client's runs to
 * address (over IPv4, with an ipv6 channel) and address6 is not needed. */
static int load_rr6(struct ctx *x, const config_setting_t *p, int i, const struct roostd_conf *c,
		    struct bc_peer *peer)
{
	int r;

	if (!member(p, "address6")) {
		if (conf_v6_only(c))
			return fail(x, p,
				    "bgp.route_reflectors[%d].address6: missing; an IPv6-only node reaches its route reflectors over IPv6",
				    i);
		return 0;
	}
	if (!conf_has_v6(c))
		return fail(x, member(p, "address6"),
			    "bgp.route_reflectors[%d].address6: needs IPv6 on this node (node.address6, cluster.pod_cidr6)",
			    i);
	if (conf_v6_only(c) && member(p, "address"))
		return fail(x, member(p, "address"),
			    "bgp.route_reflectors[%d].address: an IPv6-only node has no IPv4 session; give address6 only",
			    i);
	if ((r = get_addr6(x, p, "address6", &peer->address6)) < 0)
		return r;
	if (memcmp(&peer->address6, &c->address6, sizeof(peer->address6)) == 0)
		return fail(x, member(p, "address6"),
			    "bgp.route_reflectors[%d].address6: this node's own address", i);
	return 0;
}

/* bgp.reflector.clients6: IPv6-only clients, whose sessions run over IPv6
 * from this range (a dynamic protocol of their own, client6_<N>). */
static int load_reflector6(struct ctx *x, const config_setting_t *g, struct roostd_conf *c)
{
	const char *v;
	int r;

	if (!member(g, "clients6"))
		return 0;
	if (!conf_has_v6(c))
		return fail(x, member(g, "clients6"),
			    "bgp.reflector.clients6: needs IPv6 on this node (node.address6, cluster.pod_cidr6)");
	if ((r = get_string(x, g, "clients6", true, &v)) < 0 ||
	    (r = parse_cidr6(x, member(g, "clients6"), v, &c->rr_clients_net6,
			     &c->rr_clients_len6)) < 0)
		return r;
	if (c->rr_clients_len6 < 8)
		return fail(x, member(g, "clients6"),
			    "bgp.reflector.clients6: /%u is too wide; at least /8", c->rr_clients_len6);
	if (!same6(&c->address6, &c->rr_clients_net6, c->rr_clients_len6))
		return fail(x, member(g, "clients6"),
			    "bgp.reflector.clients6: '%s' does not hold node.address6: the clients are on this node's segment",
			    v);
	return 0;
}

static int load_peer_import6(struct ctx *x, const config_setting_t *p,
			     const struct roostd_conf *c, struct bc_ext_peer *peer)
{
	const config_setting_t *list = member(p, "import");
	struct bc_prefix6 *pfx;
	char name[256];
	int n;

	if (!list)
		return 0;
	setting_path(list, name, sizeof(name));
	n = list_length(x, list, name, BC_IMPORT_MAX, "prefixes", "2001:db8::/32");
	if (n < 0)
		return n;
	pfx = calloc((size_t)n + 1, sizeof(*pfx));
	if (!pfx)
		return -ENOMEM;
	peer->import6 = pfx;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
		unsigned m;
		int r;

		setting_path(e, name, sizeof(name));
		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return fail(x, e, "%s: expected a prefix in double quotes", name);
		if ((r = parse_cidr6(x, e, config_setting_get_string(e), &pfx[i].net,
				     &pfx[i].len)) < 0)
			return r;
		if (pfx[i].len == 0)
			return fail(x, e, "%s: a default route is never imported", name);
		m = pfx[i].len < c->cluster_len6 ? pfx[i].len : c->cluster_len6;
		if (same6(&pfx[i].net, &c->cluster_net6, m))
			return fail(x, e,
				    "%s: '%s' overlaps cluster.pod_cidr6; pod subnets are imported by the pod policy only",
				    name, config_setting_get_string(e));
		for (int j = 0; j < i; j++)
			if (!memcmp(&pfx[j].net, &pfx[i].net, 16) && pfx[j].len == pfx[i].len)
				return fail(x, e, "%s: '%s' is listed twice", name,
					    config_setting_get_string(e));
		peer->n_import6++;
	}
	return 0;
}

/* bgp.services = { load_balancer = true; external_ips = true;
 * cluster_ip_range = "10.96.0.0/12"; }: Service addresses announced to the
 * external peers (Kubernetes datastore only; agent/svcwatch.c follows them,
 * agent/svc.c adds them to what BIRD announces). After load_datastore. */
static int load_services(struct ctx *x, const config_setting_t *root, struct roostd_conf *c)
{
	static const char *const keys[] = {"load_balancer", "external_ips", "cluster_ip_range",
					   NULL};
	const config_setting_t *g;
	const char *range = "";
	int r = 0;

	if (!member(root, "bgp") ||
	    (r = get_group(x, member(root, "bgp"), "services", false, &g)) < 0 || !g)
		return r;
	if ((r = check_keys(x, g, keys)) < 0 || get_bool(x, g, "load_balancer", &c->svc_lb) < 0 ||
	    get_bool(x, g, "external_ips", &c->svc_external) < 0 ||
	    (r = get_string(x, g, "cluster_ip_range", false, &range)) < 0)
		return r < 0 ? r : -EINVAL;
	if (!c->ds_kube)
		return fail(x, g,
			    "bgp.services: needs datastore.type = \"kubernetes\" (Services come from the API server)");
	if (*range) {
		struct bc_announce a = {.when = BC_ANNOUNCE_ALWAYS};

		if ((r = parse_cidr(x, member(g, "cluster_ip_range"), range, &a.net, &a.len)) < 0)
			return r;
		if (a.len == 0)
			return fail(x, member(g, "cluster_ip_range"),
				    "bgp.services.cluster_ip_range: a default route is never announced");
		if (c->cluster_len) {
			unsigned l = a.len < c->cluster_len ? a.len : c->cluster_len;
			uint32_t m = 0xffffffffu << (32 - l);

			if ((ntohl(a.net.s_addr) & m) == (ntohl(c->cluster_net.s_addr) & m))
				return fail(x, member(g, "cluster_ip_range"),
					    "bgp.services.cluster_ip_range: '%s' overlaps cluster.pod_cidr %s/%u",
					    range, inet_ntoa(c->cluster_net), c->cluster_len);
		}
		if (c->address.s_addr && covers(&a, c->address))
			return fail(x, member(g, "cluster_ip_range"),
				    "bgp.services.cluster_ip_range: '%s' covers node.address %s", range,
				    inet_ntoa(c->address));
		for (size_t j = 0; j < c->n_peers; j++)
			if (covers(&a, c->peers[j].address))
				return fail(x, member(g, "cluster_ip_range"),
					    "bgp.services.cluster_ip_range: '%s' covers the address of bgp.peers[%zu] ('%s')",
					    range, j, c->peers[j].name);
		c->svc_range = a;
		c->svc_range_on = true;
	}
	return 0;
}

static int load_peers(struct ctx *x, const config_setting_t *bgp, struct roostd_conf *c)
{
	static const char *const keys[] = {"name",	   "address",	 "asn",
					   "password",	   "multihop",	 "bfd",
					   "import",	   "ttl_security", "import_limit",
					   "export",	   "communities", "large_communities",
					   "prepend",	   "address6",	 NULL};
	const config_setting_t *list = member(bgp, "peers");
	char where[BC_NAME_MAX + 64];
	int n;

	if (!list)
		return 0;
	if (!config_setting_is_list(list))
		return fail(x, list,
			    "bgp.peers: expected a list ( { name = ...; address = ...; asn = ...; }, ... )");
	if (c->no_pods)
		return fail(x, list,
			    "bgp.peers: a node without node.pod_cidr has nothing to announce to peers");
	n = config_setting_length(list);
	if (n > 64)
		return fail(x, list, "bgp.peers: %d peers; at most 64", n);
	c->peers = calloc((size_t)n + 1, sizeof(*c->peers));
	if (!c->peers)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		const config_setting_t *p = config_setting_get_elem(list, (unsigned)i);
		struct bc_ext_peer *peer = &c->peers[i];
		const char *bfd = "strict";
		int r;

		if (!config_setting_is_group(p))
			return fail(x, p,
				    "bgp.peers[%d]: expected a group { name = ...; address = ...; asn = ...; }",
				    i);
		peer->bfd_mode = BC_BFD_STRICT;
		peer->import_limit = c->import_limit;
		if ((r = check_keys(x, p, keys)) < 0 || (r = get_name(x, p, "name", peer->name)) < 0 ||
		    (r = load_peer6(x, p, i, c, peer)) < 0 ||
		    (!member(p, "address6") && (r = get_addr(x, p, "address", &peer->address)) < 0))
			return r;
		c->n_peers++; /* from here on conf_free frees peer->import */
		if (!member(p, "asn"))
			return fail(x, p, "bgp.peers[%d].asn: missing (required)", i);
		if ((r = get_asn(x, p, "asn", &peer->asn)) < 0 ||
		    (r = get_password(x, p, "password", peer->password)) < 0 ||
		    (r = get_uint(x, p, "multihop", 0, 255, &peer->multihop)) < 0 ||
		    (r = get_string(x, p, "bfd", false, &bfd)) < 0 ||
		    (r = get_bool(x, p, "ttl_security", &peer->ttl_security)) < 0 ||
		    (r = get_uint(x, p, "import_limit", 1, 1000000, &peer->import_limit)) < 0)
			return r;
		if ((r = parse_bfd_mode(x, member(p, "bfd"), bfd, &peer->bfd_mode)) < 0 ||
		    (r = (member(p, "address6") ? load_peer_import6(x, p, c, peer)
						 : load_peer_import(x, p, c, peer))) < 0 ||
		    (r = load_peer_policy(x, p, i, c, peer)) < 0)
			return r;
		if (strcmp(peer->name, c->name) == 0)
			return fail(x, member(p, "name"), "bgp.peers[%d].name: '%s' is this node itself",
				    i, peer->name);
		if (peer->address.s_addr && peer->address.s_addr == c->address.s_addr)
			return fail(x, member(p, "address"),
				    "bgp.peers[%d].address: %s is this node's own address", i,
				    inet_ntoa(peer->address));
		for (int j = 0; j < i; j++)
			if (strcmp(c->peers[j].name, peer->name) == 0)
				return fail(x, member(p, "name"),
					    "bgp.peers[%d].name: '%s' is already bgp.peers[%d]", i,
					    peer->name, j);
		/* Compare with the sessions loaded before this one only. */
		c->n_peers--;
		if (peer->address.s_addr && address_used(c, peer->address, where, sizeof(where))) {
			c->n_peers++;
			return fail(x, member(p, "address"), "bgp.peers[%d].address: %s is already %s",
				    i, inet_ntoa(peer->address), where);
		}
		c->n_peers++;
	}
	return 0;
}

static int load_bgp(struct ctx *x, const config_setting_t *root, struct roostd_conf *c)
{
	static const char *const keys[] = {"mesh", "route_reflectors", "reflector", "peers", "bfd",
					   "graceful_restart", "hold_time", "keepalive_time",
					   "import_limit", "password", "announce", "services", NULL};
	static const char *const bfd_keys[] = {"mode", "interval_ms", "multiplier", NULL};
	static const char *const gr_keys[] = {"enabled", "restart_time", NULL};
	const config_setting_t *g, *bfd, *gr;
	const char *mode = "graceful";
	int r;

	c->bfd_mode = BC_BFD_GRACEFUL;
	c->bfd_interval_ms = 100;
	c->bfd_multiplier = 3;
	c->gr_enabled = true;
	c->gr_restart_time = 120;
	c->hold_time = 90;
	c->keepalive_time = 30;
	c->import_limit = 1024;

	if ((r = get_group(x, root, "bgp", false, &g)) < 0 || !g)
		return r;
	if ((r = check_keys(x, g, keys)) < 0 || (r = get_password(x, g, "password", c->password)) < 0)
		return r;
	if ((r = load_peer_list(x, g, "mesh", c, &c->mesh, &c->n_mesh)) < 0 ||
	    (r = load_peer_list(x, g, "route_reflectors", c, &c->route_reflectors,
				&c->n_route_reflectors)) < 0)
		return r;
	c->n_mesh_file = c->n_mesh;
	c->n_route_reflectors_file = c->n_route_reflectors;
	if (c->n_route_reflectors > 0 && member(g, "mesh") && c->n_mesh > 0)
		return fail(x, member(g, "route_reflectors"),
			    "bgp.route_reflectors: a route reflector client has no mesh sessions; remove bgp.mesh");
	if ((r = load_reflector(x, root, g, c)) < 0)
		return r;

	if ((r = get_group(x, g, "bfd", false, &bfd)) < 0 ||
	    (bfd && (r = check_keys(x, bfd, bfd_keys)) < 0) ||
	    (r = get_string(x, bfd, "mode", false, &mode)) < 0 ||
	    get_uint(x, bfd, "interval_ms", 10, 10000, &c->bfd_interval_ms) < 0 ||
	    get_uint(x, bfd, "multiplier", 1, 255, &c->bfd_multiplier) < 0)
		return -EINVAL;
	if (parse_bfd_mode(x, member(bfd, "mode"), mode, &c->bfd_mode) < 0)
		return -EINVAL;

	if ((r = get_group(x, g, "graceful_restart", false, &gr)) < 0 ||
	    (gr && (r = check_keys(x, gr, gr_keys)) < 0) ||
	    get_bool(x, gr, "enabled", &c->gr_enabled) < 0 ||
	    get_uint(x, gr, "restart_time", 1, 4095, &c->gr_restart_time) < 0)
		return -EINVAL;

	if (get_uint(x, g, "hold_time", 0, 65535, &c->hold_time) < 0 ||
	    get_uint(x, g, "keepalive_time", 1, 21845, &c->keepalive_time) < 0 ||
	    get_uint(x, g, "import_limit", 1, 1000000, &c->import_limit) < 0)
		return -EINVAL;
	if (c->hold_time != 0 && c->hold_time < 3)
		return fail(x, member(g, "hold_time"),
			    "bgp.hold_time: %u is out of range (0, or 3..65535)", c->hold_time);
	if (c->hold_time != 0 && c->keepalive_time > c->hold_time / 3)
		return fail(x, member(g, "keepalive_time") ? member(g, "keepalive_time")
							    : member(g, "hold_time"),
			    "bgp.keepalive_time: %u is more than a third of bgp.hold_time (%u)",
			    c->keepalive_time, c->hold_time);
	/* Last: peers inherit bgp.import_limit. */
	if ((r = load_peers(x, g, c)) < 0)
		return r;
	return load_announce(x, g, c);
}

static int load_bridge(struct ctx *x, const config_setting_t *root, struct roostd_conf *c)
{
	static const char *const keys[] = {"name", "mtu", NULL};
	const config_setting_t *g;
	const char *name = "cni0";
	int r;

	/* Without bridge.mtu, roostd takes the MTU of the interface that
	 * carries node.address when it starts (agent_mtu_resolve): host-gw
	 * adds no header. 1500 stands in until then (--check-config). */
	c->bridge_mtu = 1500;
	if ((r = get_group(x, root, "bridge", false, &g)) < 0 ||
	    (g && (r = check_keys(x, g, keys)) < 0) ||
	    (r = get_string(x, g, "name", false, &name)) < 0 ||
	    (r = get_uint(x, g, "mtu", 68, 65535, &c->bridge_mtu)) < 0)
		return -EINVAL;
	c->bridge_mtu_auto = r == 0;
	if (strlen(name) == 0 || strlen(name) >= IFNAMSIZ || strpbrk(name, "/: \t\n") ||
	    strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return fail(x, member(g, "name"),
			    "bridge.name: '%s' is not a valid interface name (1-15 characters, no '/', ':' or spaces)",
			    name);
	strcpy(c->bridge_name, name);
	return 0;
}

/* ---- egress ------------------------------------------------------------------------ */

static bool cidr_overlap(const struct conf_cidr *a, const struct conf_cidr *b)
{
	unsigned l = a->len < b->len ? a->len : b->len;
	uint32_t m = l ? 0xffffffffu << (32 - l) : 0;

	return (ntohl(a->net.s_addr) & m) == (ntohl(b->net.s_addr) & m);
}

/* One IPv6 entry of egress.no_masquerade (it has a ':'): not inside the
 * cluster's IPv6 pod CIDR, overlapping no other IPv6 entry. idx6[j] is the
 * list index of c->no_masquerade6[j]. */
static int load_no_masquerade6(struct ctx *x, const config_setting_t *e, const char *name,
			       const int *idx6, struct roostd_conf *c)
{
	struct conf_cidr6 *k = &c->no_masquerade6[c->n_no_masquerade6];
	const char *v = config_setting_get_string(e);
	int r;

	if ((r = parse_cidr6(x, e, v, &k->net, &k->len)) < 0)
		return r;
	if (c->cluster_len6 && k->len >= c->cluster_len6 &&
	    same6(&k->net, &c->cluster_net6, c->cluster_len6))
		return fail(x, e, "%s: '%s' is inside cluster.pod_cidr6, which is never masqueraded",
			    name, v);
	for (size_t j = 0; j < c->n_no_masquerade6; j++) {
		const struct conf_cidr6 *o = &c->no_masquerade6[j];

		if (same6(&k->net, &o->net, k->len < o->len ? k->len : o->len))
			return fail(x, e, "%s: '%s' overlaps egress.no_masquerade[%d]", name, v,
				    idx6[j]);
	}
	c->n_no_masquerade6++;
	return 0;
}

/* egress.no_masquerade: a list of CIDRs of either family (an IPv6 one goes
 * into table ip6 roost), none inside the cluster's pod CIDR of its family
 * (never masqueraded anyway), none overlapping another. */
static int load_no_masquerade(struct ctx *x, const config_setting_t *g, struct roostd_conf *c)
{
	const config_setting_t *l = member(g, "no_masquerade");
	_cleanup_free_ int *idx4 = NULL, *idx6 = NULL;
	int n;

	if (!l)
		return 0;
	if (!config_setting_is_list(l) && !config_setting_is_array(l))
		return fail(x, l, "egress.no_masquerade: expected a list of CIDRs like ( \"192.0.2.0/24\" )");
	n = config_setting_length(l);
	if (n > CONF_NO_MASQ_MAX)
		return fail(x, l, "egress.no_masquerade: %d networks, at most %d", n, CONF_NO_MASQ_MAX);
	c->no_masquerade = calloc((size_t)n + 1, sizeof(*c->no_masquerade));
	c->no_masquerade6 = calloc((size_t)n + 1, sizeof(*c->no_masquerade6));
	idx4 = calloc((size_t)n + 1, sizeof(*idx4));
	idx6 = calloc((size_t)n + 1, sizeof(*idx6));
	if (!c->no_masquerade || !c->no_masquerade6 || !idx4 || !idx6)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
		struct conf_cidr *k = &c->no_masquerade[c->n_no_masquerade];
		struct conf_cidr cl = {c->cluster_net, c->cluster_len};
		char name[256];
		int r;

		setting_path(e, name, sizeof(name));
		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return fail(x, e, "%s: expected a CIDR in double quotes like \"192.0.2.0/24\"",
				    name);
		if (strchr(config_setting_get_string(e), ':')) {
			idx6[c->n_no_masquerade6] = i;
			if ((r = load_no_masquerade6(x, e, name, idx6, c)) < 0)
				return r;
			continue;
		}
		if ((r = parse_cidr(x, e, config_setting_get_string(e), &k->net, &k->len)) < 0)
			return r;
		if (c->cluster_len && k->len >= cl.len && cidr_overlap(k, &cl))
			return fail(x, e,
				    "%s: '%s' is inside cluster.pod_cidr, which is never masqueraded",
				    name, config_setting_get_string(e));
		for (size_t j = 0; j < c->n_no_masquerade; j++)
			if (cidr_overlap(k, &c->no_masquerade[j]))
				return fail(x, e, "%s: '%s' overlaps egress.no_masquerade[%d]", name,
					    config_setting_get_string(e), idx4[j]);
		idx4[c->n_no_masquerade++] = i;
	}
	return 0;
}

static int load_egress(struct ctx *x, const config_setting_t *root, struct roostd_conf *c)
{
	static const char *const keys[] = {"masquerade", "no_masquerade", NULL};
	const config_setting_t *g;
	int r;

	c->masquerade = true; /* as flannel's standard manifest (--ip-masq) */
	if ((r = get_group(x, root, "egress", false, &g)) < 0 ||
	    (g && (r = check_keys(x, g, keys)) < 0) || get_bool(x, g, "masquerade", &c->masquerade) < 0)
		return -EINVAL;
	return load_no_masquerade(x, g, c);
}

static int load_bird(struct ctx *x, const config_setting_t *root, struct roostd_conf *c)
{
	static const char *const keys[] = {"binary", "config", "socket", "pidfile", "spawn",
					   "include", "kernel_metric", "configure_timeout", NULL};
	const config_setting_t *g;
	const char *bin = ROOST_BIRD_BIN;
	/* sun_path is 108 bytes with the NUL (BIRD: "Socket path too long"). */
	const size_t sun_max = sizeof(((struct sockaddr_un *)0)->sun_path) - 1;
	int r;

	c->bird_spawn = true;
	c->kernel_metric = BC_KERNEL_METRIC_DEFAULT;
	c->configure_timeout = 30;
	if ((r = get_group(x, root, "bird", false, &g)) < 0 ||
	    (g && (r = check_keys(x, g, keys)) < 0) ||
	    (r = get_string(x, g, "binary", false, &bin)) < 0 ||
	    (r = get_path(x, g, "config", "/run/roost/bird.conf", false, PATH_MAX,
			  &c->bird_config)) < 0 ||
	    (r = get_path(x, g, "socket", "/run/roost/bird.ctl", false, sun_max,
			  &c->bird_socket)) < 0 ||
	    (r = get_path(x, g, "pidfile", "/run/roost/bird.pid", false, PATH_MAX,
			  &c->bird_pidfile)) < 0 ||
	    (r = get_path(x, g, "include", "", true, PATH_MAX, &c->bird_include)) < 0)
		return r;
	if (get_bool(x, g, "spawn", &c->bird_spawn) < 0 ||
	    get_uint(x, g, "kernel_metric", 1, 4294967295LL, &c->kernel_metric) < 0 ||
	    get_uint(x, g, "configure_timeout", 5, 3600, &c->configure_timeout) < 0)
		return -EINVAL;
	if (c->kernel_metric == 32)
		return fail(x, member(g, "kernel_metric"),
			    "bird.kernel_metric: 32 is the metric of a stock BIRD, which would delete roost's routes; pick another");
	if (!bin[0] || strpbrk(bin, "\n"))
		return fail(x, member(g, "binary"), "bird.binary: '%s' is not a program", bin);
	c->bird_binary = strdup(bin);
	return c->bird_binary ? 0 : -ENOMEM;
}

/* "a.b.c.d:port" */
static int parse_listen(const char *s, struct sockaddr_in *ret)
{
	char buf[32], *colon, *end;
	unsigned long port;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	colon = strrchr(buf, ':');
	if (!colon)
		return -EINVAL;
	*colon = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (!is_digit(colon[1]) || *end || errno || port < 1 || port > 65535)
		return -EINVAL;
	memset(ret, 0, sizeof(*ret));
	ret->sin_family = AF_INET;
	ret->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, buf, &ret->sin_addr) == 1 ? 0 : -EINVAL;
}

/* "http://host:port" or "https://host:port[/]": what libcurl is given. */
static bool endpoint_ok(const char *v)
{
	const char *h = strncmp(v, "http://", 7) == 0 ? v + 7 : strncmp(v, "https://", 8) == 0 ? v + 8
												    : NULL;

	if (!h || !*h || strlen(v) > 255)
		return false;
	for (const char *p = h; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      strchr(".-:[]/", *p)))
			return false;
	return true;
}

/* With a CA or a client certificate the operator asked for TLS: a plain
 * http:// endpoint would send the lease traffic (and accept answers) in
 * clear, so it is an error, not a silent downgrade. */
static int check_datastore_tls(struct ctx *x, const config_setting_t *g,
			       const struct roostd_conf *c)
{
	const config_setting_t *eps = member(g, "endpoints");

	if (!c->ds_ca[0] && !c->ds_cert[0])
		return 0;
	for (size_t i = 0; i < c->n_ds_endpoints; i++)
		if (strncmp(c->ds_endpoints[i], "https://", 8) != 0)
			return fail(x, config_setting_get_elem(eps, (unsigned)i),
				    "datastore.endpoints[%zu]: \"%s\" is not https:// but datastore.%s is set",
				    i, c->ds_endpoints[i], c->ds_ca[0] ? "ca" : "cert");
	return 0;
}

static int load_datastore(struct ctx *x, const config_setting_t *root, struct roostd_conf *c)
{
	static const char *const keys[] = {"type", "endpoints", "prefix", "ca", "cert", "key",
					   "subnet_env", "lease_ttl", "lease_renew_margin", "watch", NULL};
	static const char *const kube_keys[] = {"type", "kubeconfig", "subnet_env", NULL};
	const config_setting_t *g, *eps;
	const char *type = NULL, *prefix = "/coreos.com/network";
	int r, n;

	if ((r = get_group(x, root, "datastore", false, &g)) < 0 || !g)
		return r;
	c->ds_on = true;
	c->ds_lease_ttl = 24 * 3600; /* flannel's: a lease outlives any restart */
	c->ds_lease_renew = 0;
	if ((r = get_string(x, g, "type", true, &type)) < 0)
		return r;
	if (strcmp(type, "kubernetes") == 0) {
		c->ds_kube = true;
		if ((r = check_keys(x, g, kube_keys)) < 0 ||
		    (r = get_path(x, g, "kubeconfig", "", true, PATH_MAX, &c->ds_kubeconfig)) < 0 ||
		    (r = get_path(x, g, "subnet_env", "/run/flannel/subnet.env", true, PATH_MAX,
				  &c->ds_subnet_env)) < 0)
			return r;
		if (!(c->ds_prefix = strdup("")) || !(c->ds_ca = strdup("")) ||
		    !(c->ds_cert = strdup("")) || !(c->ds_key = strdup("")))
			return -ENOMEM;
		if (!c->ds_cluster_given && !c->ds_cluster6_given)
			return fail(x, g,
				    "cluster.pod_cidr: required with datastore.type = \"kubernetes\" (the controller manager's --cluster-cidr; the API does not publish it; cluster.pod_cidr6 for an IPv6-only cluster)");
		if (c->no_pods || c->reflector)
			return fail(x, g, "datastore: not for a route reflector without pods");
		return 0;
	}
	if ((r = check_keys(x, g, keys)) < 0)
		return r;
	if (strcmp(type, "etcd") != 0)
		return fail(x, member(g, "type"),
			    "datastore.type: '%s' is not supported (\"etcd\" or \"kubernetes\")", type);
	eps = member(g, "endpoints");
	if (!eps)
		return fail(x, g, "datastore.endpoints: missing (a list like ( \"http://127.0.0.1:2379\" ))");
	if (!config_setting_is_list(eps) && !config_setting_is_array(eps))
		return fail(x, eps, "datastore.endpoints: expected a list of URLs in ( )");
	n = config_setting_length(eps);
	if (n < 1 || n > 16)
		return fail(x, eps, "datastore.endpoints: give 1 to 16 URLs");
	c->ds_endpoints = calloc((size_t)n, sizeof(*c->ds_endpoints));
	if (!c->ds_endpoints)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(eps, (unsigned)i);
		const char *v = config_setting_type(e) == CONFIG_TYPE_STRING
					? config_setting_get_string(e)
					: NULL;

		if (!v || !endpoint_ok(v))
			return fail(x, e,
				    "datastore.endpoints[%d]: expected \"http://host:port\" or \"https://host:port\"",
				    i);
		if (!(c->ds_endpoints[i] = strdup(v)))
			return -ENOMEM;
		c->n_ds_endpoints++;
	}
	if ((r = get_string(x, g, "prefix", false, &prefix)) < 0)
		return r;
	if (prefix[0] != '/' || strlen(prefix) > 200 || strchr(prefix, '"') || strchr(prefix, '\\') ||
	    prefix[strlen(prefix) - 1] == '/')
		return fail(x, member(g, "prefix"),
			    "datastore.prefix: '%s' must start with '/', not end with one, at most 200 characters",
			    prefix);
	if (!(c->ds_prefix = strdup(prefix)))
		return -ENOMEM;
	if ((r = get_path(x, g, "ca", "", true, PATH_MAX, &c->ds_ca)) < 0 ||
	    (r = get_path(x, g, "cert", "", true, PATH_MAX, &c->ds_cert)) < 0 ||
	    (r = get_path(x, g, "key", "", true, PATH_MAX, &c->ds_key)) < 0 ||
	    (r = get_path(x, g, "subnet_env", "/run/flannel/subnet.env", true, PATH_MAX,
			  &c->ds_subnet_env)) < 0)
		return r;
	if (!c->ds_cert[0] != !c->ds_key[0])
		return fail(x, member(g, c->ds_cert[0] ? "cert" : "key"),
			    "datastore: cert and key go together");
	c->ds_watch = true; /* an etcd watch; false: a range every 500 ms */
	if (get_bool(x, g, "watch", &c->ds_watch) < 0)
		return -EINVAL;
	if (get_uint(x, g, "lease_ttl", 5, 30 * 24 * 3600, &c->ds_lease_ttl) < 0 ||
	    get_uint(x, g, "lease_renew_margin", 1, 30 * 24 * 3600, &c->ds_lease_renew) < 0 ||
	    check_datastore_tls(x, g, c) < 0)
		return -EINVAL;
	/* Renewed an hour before expiry, as flannel does; a short lease (tests,
	 * small labs) at two thirds of its life. */
	if (!member(g, "lease_renew_margin"))
		c->ds_lease_renew = c->ds_lease_ttl >= 2 * 3600 ? 3600 : c->ds_lease_ttl / 3;
	if (c->ds_lease_renew >= c->ds_lease_ttl || c->ds_lease_renew < 1)
		return fail(x, member(g, "lease_renew_margin") ? member(g, "lease_renew_margin")
								: member(g, "lease_ttl"),
			    "datastore.lease_renew_margin: %u s must be at least 1 s and less than datastore.lease_ttl (%u s)",
			    c->ds_lease_renew, c->ds_lease_ttl);
	if (c->no_pods || c->reflector)
		return fail(x, g, "datastore: not for a route reflector (it leases no subnet)");
	return 0;
}

int cidr_parse(const char *s, struct in_addr *addr, unsigned *plen, bool host_bits)
{
	char buf[32], *slash, *end;
	unsigned long l;

	if (!s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (!slash || !is_digit(slash[1]))
		return -EINVAL;
	*slash = '\0';
	l = strtoul(slash + 1, &end, 10);
	if (*end || l > 32 || inet_pton(AF_INET, buf, addr) != 1)
		return -EINVAL;
	if (!host_bits && l < 32 && (ntohl(addr->s_addr) & (0xffffffffu >> l)))
		return -EINVAL;
	*plen = (unsigned)l;
	return 0;
}

int conf_set_subnets(struct roostd_conf *c, struct in_addr pod_net, unsigned pod_len,
		     struct in_addr cluster_net, unsigned cluster_len, char *err, size_t errlen)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	uint32_t cm = cluster_len ? 0xffffffffu << (32 - cluster_len) : 0;

	inet_ntop(AF_INET, &pod_net, a, sizeof(a));
	inet_ntop(AF_INET, &cluster_net, b, sizeof(b));
	if (pod_len < 16 || pod_len > 30 || cluster_len < 8 || cluster_len >= pod_len) {
		snprintf(err, errlen, "subnet %s/%u of network %s/%u: lengths out of range (/8../29, /16../30)",
			 a, pod_len, b, cluster_len);
		return -EINVAL;
	}
	if ((ntohl(pod_net.s_addr) & cm) != ntohl(cluster_net.s_addr)) {
		snprintf(err, errlen, "subnet %s/%u is not inside network %s/%u", a, pod_len, b,
			 cluster_len);
		return -EINVAL;
	}
	if ((ntohl(c->address.s_addr) & cm) == ntohl(cluster_net.s_addr)) {
		snprintf(err, errlen, "node.address %s is inside network %s/%u",
			 inet_ntoa(c->address), b, cluster_len);
		return -EINVAL;
	}
	if (c->ds_cluster_given &&
	    (c->cluster_net.s_addr != cluster_net.s_addr || c->cluster_len != cluster_len)) {
		snprintf(err, errlen, "cluster.pod_cidr differs from the datastore's Network %s/%u", b,
			 cluster_len);
		return -EINVAL;
	}
	/* bgp.announce was checked against the cluster CIDR only if one was given */
	for (size_t i = 0; i < c->n_announce; i++) {
		unsigned l = c->announce[i].len < cluster_len ? c->announce[i].len : cluster_len;
		uint32_t m = l ? 0xffffffffu << (32 - l) : 0;

		if ((ntohl(c->announce[i].net.s_addr) & m) == (ntohl(cluster_net.s_addr) & m)) {
			snprintf(err, errlen, "bgp.announce[%zu] %s/%u overlaps the datastore's Network %s/%u",
				 i, inet_ntoa(c->announce[i].net), c->announce[i].len, b, cluster_len);
			return -EINVAL;
		}
	}
	c->pod_net = pod_net;
	c->pod_len = pod_len;
	c->gateway.s_addr = htonl(ntohl(pod_net.s_addr) + 1);
	c->cluster_net = cluster_net;
	c->cluster_len = cluster_len;
	c->no_pods = false;
	return 0;
}

int conf_set_subnets6(struct roostd_conf *c, const struct in6_addr *pod_net6, unsigned pod_len6,
		      const struct in6_addr *cluster_net6, unsigned cluster_len6, char *err,
		      size_t errlen)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET6, pod_net6, a, sizeof(a));
	inet_ntop(AF_INET6, cluster_net6, b, sizeof(b));
	if (cluster_len6 < 8 || cluster_len6 > 120 || pod_len6 <= cluster_len6 || pod_len6 > 124) {
		snprintf(err, errlen, "IPv6 subnet %s/%u of network %s/%u: lengths out of range (/8../120, at most /124)",
			 a, pod_len6, b, cluster_len6);
		return -EINVAL;
	}
	if (!same6(pod_net6, cluster_net6, cluster_len6)) {
		snprintf(err, errlen, "IPv6 subnet %s/%u is not inside network %s/%u", a, pod_len6, b,
			 cluster_len6);
		return -EINVAL;
	}
	if (same6(&c->address6, cluster_net6, cluster_len6)) {
		snprintf(err, errlen, "node.address6 is inside the IPv6 network %s/%u", b,
			 cluster_len6);
		return -EINVAL;
	}
	if (c->ds_cluster6_given &&
	    (!same6(&c->cluster_net6, cluster_net6, 128) || c->cluster_len6 != cluster_len6)) {
		snprintf(err, errlen, "cluster.pod_cidr6 differs from the datastore's IPv6Network %s/%u",
			 b, cluster_len6);
		return -EINVAL;
	}
	c->pod_net6 = *pod_net6;
	c->pod_len6 = pod_len6;
	c->gateway6 = *pod_net6;
	c->gateway6.s6_addr[15] |= 1;
	c->cluster_net6 = *cluster_net6;
	c->cluster_len6 = cluster_len6;
	return 0;
}

static int load_agent(struct ctx *x, const config_setting_t *root, struct roostd_conf *c)
{
	static const char *const keys[] = {"socket",	   "state_dir",	      "log_level",
					   "network",	   "host_local_dir",  "metrics_listen",
					   "metrics_textfile", "watch_config", NULL};
	const size_t sun_max = sizeof(((struct sockaddr_un *)0)->sun_path) - 1;
	const config_setting_t *g;
	const char *level = "info", *network = "roost", *listen = "127.0.0.1:9638";
	int r;

	if ((r = get_group(x, root, "agent", false, &g)) < 0 ||
	    (g && (r = check_keys(x, g, keys)) < 0) ||
	    (r = get_path(x, g, "socket", "/run/roost/roostd.sock", false, sun_max,
			  &c->agent_socket)) < 0 ||
	    (r = get_path(x, g, "state_dir", "/var/lib/roost", false, PATH_MAX, &c->state_dir)) <
		    0 ||
	    (r = get_path(x, g, "host_local_dir", "", true, PATH_MAX, &c->host_local_dir)) < 0 ||
	    (r = get_string(x, g, "log_level", false, &level)) < 0 ||
	    (r = get_string(x, g, "network", false, &network)) < 0 ||
	    (r = get_string(x, g, "metrics_listen", false, &listen)) < 0 ||
	    (r = get_path(x, g, "metrics_textfile", "", true, PATH_MAX, &c->metrics_textfile)) <
		    0)
		return r;
	if (g && (r = get_bool(x, g, "watch_config", &c->watch_config)) < 0)
		return r;
	if (listen[0] && parse_listen(listen, &c->metrics_addr) < 0)
		return fail(x, member(g, "metrics_listen"),
			    "agent.metrics_listen: '%s' is not IPv4:port (like 127.0.0.1:9638), or \"\" for none",
			    listen);
	c->metrics_on = listen[0] != '\0';
	if (!valid_network(network))
		return fail(x, member(g, "network"),
			    "agent.network: '%s' is not a CNI network name ([A-Za-z0-9][A-Za-z0-9_.-]*, at most 64)",
			    network);
	c->agent_network = strdup(network);
	if (!c->agent_network)
		return -ENOMEM;
	c->log_level = log_level_parse(level);
	if (c->log_level < 0)
		return fail(x, member(g, "log_level"),
			    "agent.log_level: '%s' is not one of error, warning, info, debug", level);
	return 0;
}

/* The paths roostd and BIRD write must not collide: a BIRD socket on top of
 * the rendered config would destroy it. */
static int check_paths(struct ctx *x, const config_setting_t *root, const struct roostd_conf *c)
{
	const char *p[] = {c->bird_config, c->bird_socket, c->bird_pidfile, c->agent_socket};
	static const char *const names[] = {"bird.config", "bird.socket", "bird.pidfile",
					    "agent.socket"};

	for (size_t i = 0; i < ARRAY_SIZE(p); i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(p[i], p[j]) == 0) {
				config_setting_t *si, *sj;

				si = config_setting_lookup((config_setting_t *)root, names[i]);
				sj = config_setting_lookup((config_setting_t *)root, names[j]);
				if (!si && sj)
					return fail(x, sj, "%s: '%s' is the same file as %s%s",
						    names[j], p[j], names[i], " (its default)");
				return fail(x, si, "%s: '%s' is the same file as %s%s", names[i],
					    p[i], names[j], sj ? "" : " (its default)");
			}
	return 0;
}

static int read_file(const char *path, char **ret, size_t *ret_len)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f)
		return -errno;
	do {
		if (len + 4096 > cap) {
			char *nb = realloc(buf, cap = cap ? cap * 2 : 8192);

			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (len > 4 * 1024 * 1024) {
			free(buf);
			return -EFBIG;
		}
	} while (n > 0);
	if (ferror(f)) {
		free(buf);
		return -EIO;
	}
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return 0;
}

/* libconfig 1.5 opens an @include target with fopen() and, when that is a
 * directory or a device, its scanner gives up with exit(2) from inside the
 * library. Walk the @include lines first (as libconfig does: at the start of a
 * line, outside comments, relative to the including file's folder, at most
 * 10 deep) and refuse any target that is not a readable regular file, naming
 * file:line. */
static int check_includes(const char *file, const char *text, const char *dir, int depth,
			  struct rst_err *reterr)
{
	bool in_comment = false;
	unsigned line = 0;

	for (const char *p = text; *p; line++) {
		const char *ls = p, *eol = strchr(p, '\n'), *le, *q, *start, *end;
		char target[PATH_MAX];
		_cleanup_free_ char *sub = NULL;
		size_t sublen;
		struct stat st;
		bool was_comment = in_comment;
		int r;

		le = eol ? eol : p + strlen(p);
		p = eol ? eol + 1 : le;
		/* Track block comments only well enough to skip lines inside them. */
		for (const char *c = ls; c + 1 < le; c++) {
			if (!in_comment && c[0] == '/' && c[1] == '*')
				in_comment = true, c++;
			else if (in_comment && c[0] == '*' && c[1] == '/')
				in_comment = false, c++;
		}
		if (was_comment)
			continue;
		for (q = ls; *q == ' ' || *q == '\t'; q++)
			;
		if (le - q < 8 || strncmp(q, "@include", 8) != 0)
			continue;
		for (q += 8; *q == ' ' || *q == '\t'; q++)
			;
		if (*q != '"')
			continue; /* libconfig reports the syntax error itself */
		start = q + 1;
		end = memchr(start, '"', (size_t)(le - start));
		if (!end)
			continue;
		if (depth >= 10)
			return rst_err_set(reterr, EINVAL, file, line + 1,
					   "@include: nested more than 10 deep");
		if ((size_t)(end - start) + (dir ? strlen(dir) : 0) + 2 > sizeof(target))
			return rst_err_set(reterr, ENAMETOOLONG, file, line + 1,
					   "@include: file name too long");
		if (start[0] != '/' && dir)
			snprintf(target, sizeof(target), "%s/%.*s", dir, (int)(end - start), start);
		else
			snprintf(target, sizeof(target), "%.*s", (int)(end - start), start);
		if (stat(target, &st) < 0)
			return rst_err_set(reterr, errno, file, line + 1, "@include \"%s\": %s",
					   target, strerror(errno));
		if (!S_ISREG(st.st_mode))
			return rst_err_set(reterr, EINVAL, file, line + 1,
					   "@include \"%s\": not a regular file", target);
		r = read_file(target, &sub, &sublen);
		if (r < 0)
			return rst_err_set(reterr, r, file, line + 1, "@include \"%s\": %s", target,
					   strerror(-r));
		if (strlen(sub) != sublen)
			return rst_err_set(reterr, EINVAL, target, 0, "has a NUL byte; not a text file");
		r = check_includes(target, sub, dir, depth + 1, reterr);
		if (r < 0)
			return r;
	}
	return 0;
}

static void blank_passwords(config_setting_t *s)
{
	int n = config_setting_is_aggregate(s) ? config_setting_length(s) : 0;

	for (int i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *name = config_setting_name(e);

		if (name && strcmp(name, "password") == 0 &&
		    config_setting_type(e) == CONFIG_TYPE_STRING)
			config_setting_set_string(e, "");
		else
			blank_passwords(e);
	}
}

/*
 * The hash that names a configuration in the log, in `roostctl status` and
 * in the rendered bird.conf header: SHA-256 of the configuration as parsed
 * (includes resolved; comments and layout dropped), written back out by
 * libconfig with every `password` blanked. A hash of the file's bytes
 * would be a brute-force oracle for a short password to anyone who reads a
 * log. Blanking (rather than a keyed hash) keeps the value reproducible
 * (`roostd --render` prints it) and equal for equal settings on any node;
 * the price is that a change of a password alone leaves it unchanged (the
 * rendered BIRD configuration still changes and is applied). Blanks the
 * passwords in cfg: call it after everything has been read.
 */
static int hash_without_secrets(config_t *cfg, char out[65])
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	FILE *m;

	blank_passwords(config_root_setting(cfg));
	m = open_memstream(&buf, &len);
	if (!m)
		return -ENOMEM;
	config_write(cfg, m);
	if (fclose(m) != 0 || !buf)
		return -ENOMEM;
	bc_sha256_hex(buf, len, out);
	return 0;
}

int conf_load(const char *path, struct roostd_conf **ret, struct rst_err *reterr)
{
	struct ctx x = {.path = path, .err = reterr};
	_cleanup_free_ char *text = NULL;
	_cleanup_(conf_freep) struct roostd_conf *c = NULL;
	_cleanup_free_ char *dir = NULL;
	const config_setting_t *root;
	size_t len;
	config_t cfg;
	int r;

	r = read_file(path, &text, &len);
	if (r < 0)
		return rst_err_set(reterr, r, path, 0, "cannot read: %s", strerror(-r));
	if (strlen(text) != len)
		return rst_err_set(reterr, EINVAL, path, 0, "has a NUL byte; not a text file");
	c = calloc(1, sizeof(*c));
	if (!c || !(c->path = strdup(path)))
		return rst_err_set(reterr, ENOMEM, path, 0, "out of memory");

	config_init(&cfg);
	/* @include "x" resolves relative to the config file's own folder. */
	dir = strdup(path);
	if (dir && strrchr(dir, '/')) {
		*strrchr(dir, '/') = '\0';
		config_set_include_dir(&cfg, dir[0] ? dir : "/");
	}
	r = check_includes(path, text, dir && strrchr(path, '/') ? (dir[0] ? dir : "/") : NULL, 0,
			   reterr);
	if (r < 0) {
		config_destroy(&cfg);
		return r;
	}
	if (config_read_string(&cfg, text) != CONFIG_TRUE) {
		rst_err_set(reterr, EINVAL,
			    config_error_file(&cfg) ? config_error_file(&cfg) : path,
			    (unsigned)config_error_line(&cfg), "%s", config_error_text(&cfg));
		config_destroy(&cfg);
		return -EINVAL;
	}
	root = config_root_setting(&cfg);
	{
		static const char *const keys[] = {"node", "cluster", "bgp", "bridge", "bird", "datastore",
						   "agent", "egress", NULL};

		if ((r = check_keys(&x, root, keys)) < 0 || (r = load_node(&x, root, c)) < 0 ||
		    (r = load_cluster(&x, root, c)) < 0 || (r = load_dual_stack(&x, root, c)) < 0 || (r = load_bgp(&x, root, c)) < 0 ||
		    (r = load_bridge(&x, root, c)) < 0 || (r = load_egress(&x, root, c)) < 0 ||
		    (r = load_bird(&x, root, c)) < 0 ||
		    (r = load_agent(&x, root, c)) < 0 || (r = load_datastore(&x, root, c)) < 0 ||
		    (r = load_services(&x, root, c)) < 0 || (r = check_paths(&x, root, c)) < 0 || (r = hash_without_secrets(&cfg, c->hash)) < 0) {
			config_destroy(&cfg);
			if (r == -ENOMEM)
				return rst_err_set(reterr, ENOMEM, path, 0, "out of memory");
			return r;
		}
	}
	config_destroy(&cfg);
	*ret = TAKE_PTR(c);
	return 0;
}

void conf_free(struct roostd_conf *c)
{
	if (!c)
		return;
	free(c->path);
	free(c->mesh);
	free(c->owners);
	for (size_t i = 0; i < c->n_ds_endpoints; i++)
		free(c->ds_endpoints[i]);
	free(c->ds_endpoints);
	free(c->ds_prefix);
	free(c->ds_kubeconfig);
	free(c->ds_ca);
	free(c->ds_cert);
	free(c->ds_key);
	free(c->ds_subnet_env);
	free(c->static_routes);
	free(c->static_routes6);
	free(c->no_masquerade);
	free(c->no_masquerade6);
	free(c->route_reflectors);
	for (size_t i = 0; i < c->n_peers; i++) {
		free((void *)c->peers[i].import);
		free((void *)c->peers[i].import6);
		free((void *)c->peers[i].communities);
		free((void *)c->peers[i].large_communities);
	}
	free(c->peers);
	free(c->announce);
	free(c->svc);
	free(c->svc_why);
	free(c->bird_binary);
	free(c->bird_config);
	free(c->bird_socket);
	free(c->bird_pidfile);
	free(c->bird_include);
	free(c->agent_socket);
	free(c->state_dir);
	free(c->agent_network);
	free(c->host_local_dir);
	free(c->metrics_textfile);
	free(c);
}

void conf_to_node(const struct roostd_conf *c, struct bc_node *node)
{
	memset(node, 0, sizeof(*node));
	node->source = c->path;
	node->source_hash = c->hash;
	strcpy(node->name, c->name);
	node->address = c->address;
	node->pod_net = c->pod_net;
	node->pod_len = c->pod_len;
	node->static_routes = c->static_routes;
	node->n_static_routes = c->n_static_routes;
	node->static_routes6 = c->static_routes6;
	node->n_static_routes6 = c->n_static_routes6;
	node->cluster_net = c->cluster_net;
	node->cluster_len = c->cluster_len;
	node->cluster_asn = c->cluster_asn;
	node->asn = c->asn;
	node->mesh = c->mesh;
	node->n_mesh = c->n_mesh;
	node->owners = c->owners;
	node->n_owners = c->n_owners;
	strcpy(node->password, c->password);
	strcpy(node->rr_password, c->rr_password);
	node->bfd_mode = c->bfd_mode;
	node->bfd_interval_ms = c->bfd_interval_ms;
	node->bfd_multiplier = c->bfd_multiplier;
	node->gr_enabled = c->gr_enabled;
	node->gr_restart_time = c->gr_restart_time;
	node->hold_time = c->hold_time;
	node->keepalive_time = c->keepalive_time;
	node->import_limit = c->import_limit;
	node->kernel_metric = c->kernel_metric;
	node->include = c->bird_include;
	node->no_pods = c->no_pods;
	node->route_reflectors = c->route_reflectors;
	node->n_route_reflectors = c->n_route_reflectors;
	node->reflector = c->reflector;
	node->rr_clients_net = c->rr_clients_net;
	node->rr_clients_len = c->rr_clients_len;
	node->rr_clients_net6 = c->rr_clients_net6;
	node->rr_clients_len6 = c->rr_clients_len6;
	node->rr_cluster_id = c->rr_cluster_id;
	node->peers = c->peers;
	node->n_peers = c->n_peers;
	node->announce = c->announce;
	node->n_announce = c->n_announce;
	node->address6 = c->address6;
	node->pod_net6 = c->pod_net6;
	node->pod_len6 = c->pod_len6;
	node->cluster_net6 = c->cluster_net6;
	node->cluster_len6 = c->cluster_len6;
	node->router_id = c->router_id;
}
