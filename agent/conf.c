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
		if (!t[0] || *end || errno || t[0] == '-' || t[0] == '+')
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
	if (!parse_ipv4(buf, net) || *end || end == slash + 1 || errno || l > 32)
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

static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > BC_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
			return false;
	return true;
}

static int get_name(struct ctx *x, const config_setting_t *g, const char *key, char *out)
{
	const char *v;
	char name[256];
	int r = get_string(x, g, key, true, &v);

	if (r < 0)
		return r;
	if (!valid_name(v)) {
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
				if (*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\')
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

static int load_node(struct ctx *x, const config_setting_t *root, struct roostd_conf *c)
{
	static const char *const keys[] = {"name", "address", "pod_cidr", "asn", NULL};
	const config_setting_t *g;
	const char *v;
	int r;

	if ((r = get_group(x, root, "node", true, &g)) < 0 || (r = check_keys(x, g, keys)) < 0 ||
	    (r = get_name(x, g, "name", c->name)) < 0 ||
	    (r = get_addr(x, g, "address", &c->address)) < 0 ||
	    (r = get_string(x, g, "pod_cidr", true, &v)) < 0 ||
	    (r = parse_cidr(x, member(g, "pod_cidr"), v, &c->pod_net, &c->pod_len)) < 0)
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
	static const char *const keys[] = {"pod_cidr", "asn", NULL};
	const config_setting_t *g;
	const char *v;
	uint32_t cn, cm;
	int r;

	if ((r = get_group(x, root, "cluster", true, &g)) < 0 || (r = check_keys(x, g, keys)) < 0 ||
	    (r = get_string(x, g, "pod_cidr", true, &v)) < 0 ||
	    (r = parse_cidr(x, member(g, "pod_cidr"), v, &c->cluster_net, &c->cluster_len)) < 0)
		return r;
	c->cluster_asn = 64512;
	if (get_asn(x, g, "asn", &c->cluster_asn) < 0)
		return -EINVAL;
	if (c->asn == 0)
		c->asn = c->cluster_asn;
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

static int load_mesh(struct ctx *x, const config_setting_t *bgp, struct roostd_conf *c)
{
	static const char *const keys[] = {"name", "address", NULL};
	const config_setting_t *list = member(bgp, "mesh");
	int n;

	if (!list)
		return 0;
	if (!config_setting_is_list(list) && !config_setting_is_array(list))
		return fail(x, list, "bgp.mesh: expected a list ( { name = ...; address = ...; }, ... )");
	n = config_setting_length(list);
	if (n > 1024)
		return fail(x, list, "bgp.mesh: %d neighbours; at most 1024 (use route reflectors)",
			    n);
	c->mesh = calloc((size_t)n + 1, sizeof(*c->mesh));
	if (!c->mesh)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		const config_setting_t *p = config_setting_get_elem(list, (unsigned)i);
		struct bc_peer *peer = &c->mesh[i];
		int r;

		if (!config_setting_is_group(p))
			return fail(x, p, "bgp.mesh[%d]: expected a group { name = ...; address = ...; }",
				    i);
		if ((r = check_keys(x, p, keys)) < 0 || (r = get_name(x, p, "name", peer->name)) < 0 ||
		    (r = get_addr(x, p, "address", &peer->address)) < 0)
			return r;
		if (strcmp(peer->name, c->name) == 0)
			return fail(x, member(p, "name"),
				    "bgp.mesh[%d].name: '%s' is this node itself", i, peer->name);
		if (peer->address.s_addr == c->address.s_addr)
			return fail(x, member(p, "address"),
				    "bgp.mesh[%d].address: %s is this node's own address", i,
				    inet_ntoa(peer->address));
		for (int j = 0; j < i; j++) {
			if (strcmp(c->mesh[j].name, peer->name) == 0)
				return fail(x, member(p, "name"),
					    "bgp.mesh[%d].name: '%s' is already bgp.mesh[%d]", i,
					    peer->name, j);
			if (c->mesh[j].address.s_addr == peer->address.s_addr)
				return fail(x, member(p, "address"),
					    "bgp.mesh[%d].address: %s is already bgp.mesh[%d] ('%s')",
					    i, inet_ntoa(peer->address), j, c->mesh[j].name);
		}
		c->n_mesh++;
	}
	return 0;
}

static int load_bgp(struct ctx *x, const config_setting_t *root, struct roostd_conf *c)
{
	static const char *const keys[] = {"mesh", "route_reflectors", "reflector", "peers", "bfd",
					   "graceful_restart", "hold_time", "keepalive_time",
					   "import_limit", NULL};
	static const char *const bfd_keys[] = {"mode", "interval_ms", "multiplier", NULL};
	static const char *const gr_keys[] = {"enabled", "restart_time", NULL};
	static const char *const later[] = {"route_reflectors", "reflector", "peers"};
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
	if ((r = check_keys(x, g, keys)) < 0)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(later); i++)
		if (member(g, later[i]))
			return fail(x, member(g, later[i]),
				    "bgp.%s: not supported by this version of roostd yet", later[i]);
	if ((r = load_mesh(x, g, c)) < 0)
		return r;

	if ((r = get_group(x, g, "bfd", false, &bfd)) < 0 ||
	    (bfd && (r = check_keys(x, bfd, bfd_keys)) < 0) ||
	    (r = get_string(x, bfd, "mode", false, &mode)) < 0 ||
	    get_uint(x, bfd, "interval_ms", 10, 10000, &c->bfd_interval_ms) < 0 ||
	    get_uint(x, bfd, "multiplier", 1, 255, &c->bfd_multiplier) < 0)
		return -EINVAL;
	if (strcmp(mode, "graceful") == 0)
		c->bfd_mode = BC_BFD_GRACEFUL;
	else if (strcmp(mode, "strict") == 0)
		c->bfd_mode = BC_BFD_STRICT;
	else if (strcmp(mode, "off") == 0)
		c->bfd_mode = BC_BFD_OFF;
	else
		return fail(x, member(bfd, "mode"),
			    "bgp.bfd.mode: '%s' is not one of graceful, strict, off", mode);

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
	return 0;
}

static int load_bridge(struct ctx *x, const config_setting_t *root, struct roostd_conf *c)
{
	static const char *const keys[] = {"name", "mtu", NULL};
	const config_setting_t *g;
	const char *name = "cni0";
	int r;

	c->bridge_mtu = 1500;
	if ((r = get_group(x, root, "bridge", false, &g)) < 0 ||
	    (g && (r = check_keys(x, g, keys)) < 0) ||
	    (r = get_string(x, g, "name", false, &name)) < 0 ||
	    get_uint(x, g, "mtu", 68, 65535, &c->bridge_mtu) < 0)
		return -EINVAL;
	if (strlen(name) == 0 || strlen(name) >= IFNAMSIZ || strpbrk(name, "/: \t\n") ||
	    strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return fail(x, member(g, "name"),
			    "bridge.name: '%s' is not a valid interface name (1-15 characters, no '/', ':' or spaces)",
			    name);
	strcpy(c->bridge_name, name);
	return 0;
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
	if (*end || end == colon + 1 || errno || port < 1 || port > 65535)
		return -EINVAL;
	memset(ret, 0, sizeof(*ret));
	ret->sin_family = AF_INET;
	ret->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, buf, &ret->sin_addr) == 1 ? 0 : -EINVAL;
}

static int load_agent(struct ctx *x, const config_setting_t *root, struct roostd_conf *c)
{
	static const char *const keys[] = {"socket",	   "state_dir",	      "log_level",
					   "network",	   "host_local_dir",  "metrics_listen",
					   "metrics_textfile", NULL};
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
	bc_sha256_hex(text, len, c->hash);

	config_init(&cfg);
	/* @include "x" resolves relative to the config file's own folder. */
	dir = strdup(path);
	if (dir && strrchr(dir, '/')) {
		*strrchr(dir, '/') = '\0';
		config_set_include_dir(&cfg, dir[0] ? dir : "/");
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
		static const char *const keys[] = {"node", "cluster", "bgp", "bridge", "bird",
						   "agent", NULL};

		if ((r = check_keys(&x, root, keys)) < 0 || (r = load_node(&x, root, c)) < 0 ||
		    (r = load_cluster(&x, root, c)) < 0 || (r = load_bgp(&x, root, c)) < 0 ||
		    (r = load_bridge(&x, root, c)) < 0 || (r = load_bird(&x, root, c)) < 0 ||
		    (r = load_agent(&x, root, c)) < 0 || (r = check_paths(&x, root, c)) < 0) {
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
	node->cluster_net = c->cluster_net;
	node->cluster_len = c->cluster_len;
	node->cluster_asn = c->cluster_asn;
	node->asn = c->asn;
	node->mesh = c->mesh;
	node->n_mesh = c->n_mesh;
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
}
