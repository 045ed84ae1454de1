/* SPDX-License-Identifier: MIT */
/*
 * datastore.c - flannel's etcd layout for roostd (see datastore.h).
 *
 * Threads: ds_open() runs on roostd's thread; afterwards one worker owns the
 * etcd client and shares with roostd only what the mutex guards (peers,
 * state, last error) plus a pipe to wake roostd's poll(). Logging from the
 * worker uses log.c's single-write lines.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "datastore.h"
#include "datastore-int.h"
#include "etcd.h"
#include "log.h"
#include "rst.h"
#include "rst-util.h"

/* The worker wakes every DS_TICK_MS for its timers; it asks etcd only when
 * one is due (or, with datastore.watch = false, for a range every tick). */
#define DS_TICK_MS 500
#define DS_TIMEOUT_MS 2000
#define DS_BACKOFF_MAX_S 10
/* A watch with nothing for this long is checked (etcd's own progress
 * notifications come every 10 minutes by default). */
#define DS_WATCH_IDLE_MS 60000

/* ---- parsing (pure) -------------------------------------------------------- */

static int parse_ip(const char *s, struct in_addr *ret)
{
	return s && inet_pton(AF_INET, s, ret) == 1 ? 0 : -EINVAL;
}

static int parse_ip6(const char *s, struct in6_addr *ret)
{
	return s && inet_pton(AF_INET6, s, ret) == 1 ? 0 : -EINVAL;
}

static bool inside6(const struct in6_addr *a, const struct in6_addr *net, unsigned len)
{
	for (unsigned i = 0; i < len; i++)
		if ((a->s6_addr[i / 8] ^ net->s6_addr[i / 8]) & (0x80 >> (i % 8)))
			return false;
	return true;
}

static bool eq6(const struct in6_addr *a, const struct in6_addr *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

int ds_cidr6_parse(const char *s, struct in6_addr *net, unsigned *len)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	unsigned long l;

	if (!s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (!slash)
		return -EINVAL;
	*slash = '\0';
	errno = 0;
	l = strtoul(slash + 1, &end, 10);
	if (slash[1] < '0' || slash[1] > '9' || *end || errno || l > 128 ||
	    inet_pton(AF_INET6, buf, net) != 1)
		return -EINVAL;
	for (unsigned b = (unsigned)l; b < 128; b++)
		if (net->s6_addr[b / 8] & (0x80 >> (b % 8)))
			return -EINVAL;
	*len = (unsigned)l;
	return 0;
}

/* An IPv6 address as two halves, and back. */
static void split6(const struct in6_addr *a, uint64_t *hi, uint64_t *lo)
{
	*hi = *lo = 0;
	for (int i = 0; i < 8; i++) {
		*hi = *hi << 8 | a->s6_addr[i];
		*lo = *lo << 8 | a->s6_addr[8 + i];
	}
}

static void join6(uint64_t hi, uint64_t lo, struct in6_addr *a)
{
	for (int i = 7; i >= 0; i--) {
		a->s6_addr[i] = (uint8_t)hi;
		a->s6_addr[8 + i] = (uint8_t)lo;
		hi >>= 8;
		lo >>= 8;
	}
}

void ds_subnet6_nth(const struct in6_addr *base, unsigned sublen, uint64_t idx,
		    struct in6_addr *ret)
{
	unsigned sh = 128 - sublen;
	uint64_t hi, lo, ahi = 0, alo = 0;

	split6(base, &hi, &lo);
	if (sh >= 128)
		; /* a /0: only the base */
	else if (sh >= 64)
		ahi = idx << (sh - 64);
	else {
		alo = idx << sh;
		ahi = sh ? idx >> (64 - sh) : 0;
	}
	lo += alo;
	hi += ahi + (lo < alo);
	join6(hi, lo, ret);
}

/* The index of subnet a (of sublen) in net (of len), if it fits 63 bits. */
static int subnet6_index(const struct in6_addr *a, const struct in6_addr *net, unsigned sublen,
			 uint64_t *ret)
{
	uint64_t ah, al, nh, nl, dh, dl;
	unsigned sh = 128 - sublen;

	split6(a, &ah, &al);
	split6(net, &nh, &nl);
	dl = al - nl;
	dh = ah - nh - (al < nl);
	if (sh >= 64) {
		*ret = dh >> (sh - 64);
		return 0;
	}
	if (sh && (dh >> sh) != 0)
		return -ERANGE;
	*ret = sh ? (dh << (64 - sh)) | (dl >> sh) : dl;
	return (dh && !sh) ? -ERANGE : 0;
}

int ds_parse_config6(const char *json, struct ds_config6 *ret, char *err, size_t errlen)
{
	json_error_t je;
	json_t *o = json_loads(json, 0, &je), *v;
	uint64_t count;
	int r = -EINVAL;

	memset(ret, 0, sizeof(*ret));
	if (!json_is_object(o)) {
		snprintf(err, errlen, "config is not a JSON object");
		goto out;
	}
	v = json_object_get(o, "EnableIPv4");
	ret->v4 = !v || json_is_true(v); /* flannel's default: on */
	if (v && !json_is_boolean(v)) {
		snprintf(err, errlen, "config: EnableIPv4 is not true or false");
		goto out;
	}
	v = json_object_get(o, "EnableIPv6");
	ret->v6 = json_is_true(v);
	if (v && !json_is_boolean(v)) {
		snprintf(err, errlen, "config: EnableIPv6 is not true or false");
		goto out;
	}
	if (!ret->v4 && !ret->v6) {
		snprintf(err, errlen, "config: EnableIPv4 is false and EnableIPv6 is not true: no family left");
		goto out;
	}
	if (!ret->v6) {
		r = 0;
		goto out;
	}
	if (ds_cidr6_parse(json_string_value(json_object_get(o, "IPv6Network")), &ret->net,
			   &ret->len) < 0 ||
	    ret->len < 8 || ret->len > 124) {
		snprintf(err, errlen, "config: IPv6Network is missing or not an IPv6 CIDR (/8../124)");
		goto out;
	}
	v = json_object_get(o, "IPv6SubnetLen");
	if (v && (!json_is_integer(v) || json_integer_value(v) < 16 ||
		  json_integer_value(v) > 126)) {
		snprintf(err, errlen, "config: IPv6SubnetLen is not a number in 16..126");
		goto out;
	}
	ret->subnet_len = v ? (unsigned)json_integer_value(v)
			    : ret->len <= 62 ? 64 : ret->len + 2; /* flannel's defaults */
	if (ret->subnet_len < ret->len + 2) {
		snprintf(err, errlen, "config: IPv6Network /%u and IPv6SubnetLen %u do not fit (at least four subnets)",
			 ret->len, ret->subnet_len);
		goto out;
	}
	count = ret->subnet_len - ret->len >= 63 ? (1ull << 63)
						  : 1ull << (ret->subnet_len - ret->len);
	ret->min = 1; /* flannel: from the second subnet to the last one */
	ret->max = count - 1;
	for (int i = 0; i < 2; i++) {
		const char *k = i ? "IPv6SubnetMax" : "IPv6SubnetMin";
		struct in6_addr a, back;
		uint64_t idx;

		if (!(v = json_object_get(o, k)))
			continue;

		if (parse_ip6(json_string_value(v), &a) < 0 ||
		    !inside6(&a, &ret->net, ret->len) ||
		    subnet6_index(&a, &ret->net, ret->subnet_len, &idx) < 0 || idx >= count) {
			snprintf(err, errlen, "config: %s is not an IPv6 address in IPv6Network", k);
			goto out;
		}
		ds_subnet6_nth(&ret->net, ret->subnet_len, idx, &back);
		if (!eq6(&back, &a)) {
			snprintf(err, errlen, "config: %s is not on an IPv6SubnetLen boundary", k);
			goto out;
		}
		*(i ? &ret->max : &ret->min) = idx;
	}
	if (ret->min > ret->max) {
		snprintf(err, errlen, "config: IPv6SubnetMin is above IPv6SubnetMax");
		goto out;
	}
	r = 0;
out:
	json_decref(o);
	return r;
}


int ds_parse_config(const char *json, struct in_addr *net, unsigned *len, unsigned *subnet_len,
		    struct in_addr *min, struct in_addr *max, char *err, size_t errlen)
{
	json_error_t je;
	json_t *o = json_loads(json, 0, &je), *v;
	uint32_t n, size;
	int r = -EINVAL;

	if (!json_is_object(o)) {
		snprintf(err, errlen, "config is not a JSON object");
		goto out;
	}
	if (cidr_parse(json_string_value(json_object_get(o, "Network")), net, len, false) < 0) {
		snprintf(err, errlen, "config: Network is missing or not an IPv4 CIDR");
		goto out;
	}
	v = json_object_get(o, "SubnetLen");
	*subnet_len = v ? (unsigned)json_integer_value(v) : 24;
	if (!json_is_integer(v) && v) {
		snprintf(err, errlen, "config: SubnetLen is not a number");
		goto out;
	}
	if (*subnet_len < 16 || *subnet_len > 30 || *len < 8 || *len >= *subnet_len) {
		snprintf(err, errlen, "config: Network /%u and SubnetLen %u do not fit (/8.., 16..30)",
			 *len, *subnet_len);
		goto out;
	}
	n = ntohl(net->s_addr);
	size = 1u << (32 - *subnet_len);
	/* flannel's defaults: from the second subnet to the last one */
	min->s_addr = htonl(n + size);
	max->s_addr = htonl(n + (uint32_t)((1ull << (32 - *len)) - size));
	if ((v = json_object_get(o, "SubnetMin")) && parse_ip(json_string_value(v), min) < 0) {
		snprintf(err, errlen, "config: SubnetMin is not an IPv4 address");
		goto out;
	}
	if ((v = json_object_get(o, "SubnetMax")) && parse_ip(json_string_value(v), max) < 0) {
		snprintf(err, errlen, "config: SubnetMax is not an IPv4 address");
		goto out;
	}
	if (ntohl(min->s_addr) > ntohl(max->s_addr)) {
		snprintf(err, errlen, "config: SubnetMin is above SubnetMax");
		goto out;
	}
	r = 0;
out:
	json_decref(o);
	return r;
}

int ds_parse_lease(const char *keytail, const char *value, struct ds_peer *ret)
{
	char buf[DS_KEY_MAX], *dash, *amp, *v6 = NULL;
	json_error_t je;
	json_t *o;
	const json_t *roost, *pub6;
	const char *type, *name;
	int r = -EINVAL;

	memset(ret, 0, sizeof(*ret));
	if (strlen(keytail) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, keytail); /* "10.244.1.0-24", "10.244.1.0-24&fd00::-64" */
	snprintf(ret->key, sizeof(ret->key), "%s", keytail);
	if ((amp = strchr(buf, '&'))) {
		*amp = '\0';
		v6 = amp + 1;
		dash = strrchr(v6, '-');
		if (!dash)
			return -EINVAL;
		*dash = '/';
		if (ds_cidr6_parse(v6, &ret->net6, &ret->len6) < 0 || ret->len6 == 0)
			return -EINVAL;
	}
	dash = strrchr(buf, '-');
	if (!dash)
		return -EINVAL;
	*dash = '/';
	if (cidr_parse(buf, &ret->net, &ret->len, false) < 0)
		return -EINVAL;
	/* "0.0.0.0-0": no IPv4 subnet (flannel's empty one), IPv6 only */
	if (ret->len == 0 && (ret->net.s_addr || !v6))
		return -EINVAL;
	o = json_loads(value, 0, &je);
	if (!json_is_object(o))
		goto out;
	if (ret->len && parse_ip(json_string_value(json_object_get(o, "PublicIP")),
				 &ret->address) < 0)
		goto out;
	pub6 = json_object_get(o, "PublicIPv6");
	if (v6 && parse_ip6(json_string_value(pub6), &ret->address6) < 0)
		goto out; /* an IPv6 subnet without its next hop */
	type = json_string_value(json_object_get(o, "BackendType"));
	roost = json_object_get(json_object_get(json_object_get(o, "BackendData"), "roost"), "name");
	name = json_string_value(roost);
	if (name) {
		if (!bc_name_ok(name))
			goto out;
		snprintf(ret->name, sizeof(ret->name), "%s", name);
		ret->roost = true;
	} else if (!type || strcmp(type, "host-gw") != 0) {
		r = -ENOTSUP; /* vxlan and the like: not reachable without its overlay */
		goto out;
	}
	r = 0;
out:
	json_decref(o);
	return r;
}

static bool inside(struct in_addr a, struct in_addr net, unsigned len)
{
	uint32_t m = len ? 0xffffffffu << (32 - len) : 0;

	return (ntohl(a.s_addr) & m) == (ntohl(net.s_addr) & m);
}

const char *ds_lease_unfit(const struct ds_peer *p, struct in_addr cluster, unsigned cluster_len,
			   unsigned subnet_len, struct in_addr self)
{
	uint32_t a = ntohl(p->address.s_addr);

	if (p->len != subnet_len)
		return "its subnet is not of the network's SubnetLen";
	if (!cluster_len || p->len <= cluster_len || !inside(p->net, cluster, cluster_len))
		return "its subnet is outside the network's Network";
	if (a == 0 || a == 0xffffffffu || (a >> 24) == 0 || (a >> 24) == 127 ||
	    (a >> 28) == 0xe || (a >> 28) == 0xf || (a >> 16) == 0xa9fe)
		return "its PublicIP is not a usable unicast address";
	if (inside(p->address, cluster, cluster_len))
		return "its PublicIP is inside the pod network";
	if (p->address.s_addr == self.s_addr)
		return "its PublicIP is this node's address";
	return NULL;
}

const char *ds_lease_unfit6(const struct ds_peer *p, const struct ds_check *k)
{
	const struct in6_addr *a = &p->address6;

	if (!p->len6)
		return k->cluster_len ? NULL : "it has no IPv6 subnet (the network is IPv6-only)";
	if (p->len6 != k->subnet_len6)
		return "its IPv6 subnet is not of the network's IPv6SubnetLen";
	if (p->len6 <= k->cluster_len6 || !inside6(&p->net6, &k->cluster6, k->cluster_len6))
		return "its IPv6 subnet is outside the network's IPv6Network";
	/* global unicast (2000::/3) or unique local (fc00::/7): what a node
	 * network uses; never link-local (no use to another node's kernel
	 * route), loopback, multicast, IPv4-mapped or unspecified */
	if ((a->s6_addr[0] & 0xe0) != 0x20 && (a->s6_addr[0] & 0xfe) != 0xfc)
		return "its PublicIPv6 is not a global unicast address";
	if (inside6(a, &k->cluster6, k->cluster_len6))
		return "its PublicIPv6 is inside the IPv6 pod network";
	if (eq6(a, &k->self6))
		return "its PublicIPv6 is this node's address";
	if (eq6(&p->net6, &k->self_net6))
		return "its IPv6 subnet is this node's";
	return NULL;
}

size_t ds_leases_filter(struct ds_peer *p, size_t n, const struct ds_check *k,
			void (*report)(void *arg, const char *key, const char *why), void *arg)
{
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		const char *why = NULL;

		if (!k->cluster_len6) { /* no IPv6 here: its IPv6 part is not ours to route */
			memset(&p[i].address6, 0, sizeof(p[i].address6));
			memset(&p[i].net6, 0, sizeof(p[i].net6));
			p[i].len6 = 0;
		}
		if (k->cluster_len) {
			why = ds_lease_unfit(&p[i], k->cluster, k->cluster_len, k->subnet_len,
					     k->self);
			if (!why && p[i].net.s_addr == k->self_net.s_addr)
				why = "its subnet is this node's";
		} else if (p[i].len) {
			why = "it has an IPv4 subnet (the network is IPv6-only)";
		}
		if (!why && k->cluster_len6)
			why = ds_lease_unfit6(&p[i], k);
		for (size_t j = 0; j < m && !why; j++) {
			if (p[i].len && p[j].address.s_addr == p[i].address.s_addr)
				why = "its PublicIP is another lease's";
			else if (p[i].len && p[j].len && p[j].net.s_addr == p[i].net.s_addr)
				why = "its subnet is another lease's";
			else if (p[i].len6 && p[j].len6 && eq6(&p[j].address6, &p[i].address6))
				why = "its PublicIPv6 is another lease's";
			else if (p[i].len6 && p[j].len6 && eq6(&p[j].net6, &p[i].net6))
				why = "its IPv6 subnet is another lease's";
			else if (p[i].roost && p[j].roost && !strcmp(p[i].name, p[j].name))
				why = "its node name is another lease's";
		}
		if (why) {
			if (report)
				report(arg, p[i].key, why);
			continue;
		}
		if (m != i)
			p[m] = p[i];
		m++;
	}
	return m;
}

int ds_subnet_env_format(char *buf, size_t len, struct in_addr cluster, unsigned cluster_len,
			 struct in_addr net, unsigned plen, unsigned mtu, bool ipmasq)
{
	return ds_subnet_env_format6(buf, len, cluster, cluster_len, net, plen, NULL, 0, NULL, 0,
				     mtu, ipmasq);
}

/* flannel's order: the IPv4 lines (unless EnableIPv4 is false), the IPv6
 * ones (with EnableIPv6; the subnet's first address, as for IPv4), then
 * MTU and masquerade. FLANNEL_IPMASQ covers both families: flannel's
 * subnet.env has no IPv6 line of its own for it. */
int ds_subnet_env_format6(char *buf, size_t len, struct in_addr cluster, unsigned cluster_len,
			  struct in_addr net, unsigned plen, const struct in6_addr *cluster6,
			  unsigned cluster_len6, const struct in6_addr *net6, unsigned plen6,
			  unsigned mtu, bool ipmasq)
{
	size_t at = 0;
	int n = 0;

	if (len)
		buf[0] = '\0';
	if (cluster_len) {
		char c[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN];
		struct in_addr gw = {.s_addr = htonl(ntohl(net.s_addr) + 1)};

		inet_ntop(AF_INET, &cluster, c, sizeof(c));
		inet_ntop(AF_INET, &gw, g, sizeof(g));
		n = snprintf(buf, len, "FLANNEL_NETWORK=%s/%u\nFLANNEL_SUBNET=%s/%u\n", c,
			     cluster_len, g, plen);
		if (n < 0 || (size_t)n >= len)
			return -ENOSPC;
		at = (size_t)n;
	}
	if (cluster6 && cluster_len6 && net6) {
		char c[INET6_ADDRSTRLEN], g[INET6_ADDRSTRLEN];
		struct in6_addr gw = *net6;

		gw.s6_addr[15] |= 1; /* a subnet is /126 at most */
		inet_ntop(AF_INET6, cluster6, c, sizeof(c));
		inet_ntop(AF_INET6, &gw, g, sizeof(g));
		n = snprintf(buf + at, len - at, "FLANNEL_IPV6_NETWORK=%s/%u\nFLANNEL_IPV6_SUBNET=%s/%u\n",
			     c, cluster_len6, g, plen6);
		if (n < 0 || (size_t)n >= len - at)
			return -ENOSPC;
		at += (size_t)n;
	}
	/* FLANNEL_IPMASQ=true tells flannel's CNI plugin that the agent
	 * masquerades (it then leaves ipMasq off on the bridge it delegates to). */
	n = snprintf(buf + at, len - at, "FLANNEL_MTU=%u\nFLANNEL_IPMASQ=%s\n", mtu,
		     ipmasq ? "true" : "false");
	if (n < 0 || (size_t)n >= len - at)
		return -ENOSPC;
	return (int)(at + (size_t)n);
}

/* ---- small helpers ---------------------------------------------------------- */

void ds_state_set(struct datastore *ds, bool up, const char *err)
{
	bool was;

	pthread_mutex_lock(&ds->mu);
	was = ds->up;
	ds->up = up;
	if (err)
		snprintf(ds->last_error, sizeof(ds->last_error), "%s", err);
	if (was != up)
		ds->since = time(NULL);
	pthread_mutex_unlock(&ds->mu);
	if (was && !up)
		log_warn("datastore: %s does not answer, keeping the last known peers: %s",
			 ds->kube ? "the Kubernetes API server" : "etcd", err ? err : "");
	else if (!was && up)
		log_info("datastore: %s answers again",
			 ds->kube ? "the Kubernetes API server" : "etcd");
	if (was != up && ds->wake[1] >= 0)
		(void)!write(ds->wake[1], "s", 1);
}

/* flannel's key: "10.244.1.0-24", with IPv6 "10.244.1.0-24&fd00:0:0:1::-64"
 * (inet_ntop's text is Go's: RFC 5952), IPv6-only "0.0.0.0-0&fd00:0:0:1::-64". */
static void key_of(const struct datastore *ds, struct in_addr net, unsigned len,
		   const struct in6_addr *net6, unsigned len6, char *out, size_t size)
{
	char a[INET_ADDRSTRLEN], b[INET6_ADDRSTRLEN + 8] = "";

	inet_ntop(AF_INET, &net, a, sizeof(a));
	if (len6) {
		b[0] = '&';
		inet_ntop(AF_INET6, net6, b + 1, INET6_ADDRSTRLEN);
		snprintf(b + strlen(b), sizeof(b) - strlen(b), "-%u", len6);
	}
	snprintf(out, size, "%s/subnets/%s-%u%s", ds->prefix, a, len, b);
}

/* Deadlines are rst_now_ms() values; 0 is always due. */
static void ts_in(int64_t *t, int64_t ms)
{
	*t = rst_now_ms() + ms;
}

static bool ts_due(const int64_t *t)
{
	return rst_now_ms() >= *t;
}

/* The cache and subnet.env: atomically (temp + rename), not durably: both
 * are written again on the next change. */
static int write_file(const char *path, const char *text)
{
	int r = rst_mkdir_parent(path, 0755);

	return r < 0 ? r : rst_write_atomic(path, text, strlen(text), 0644, RST_WRITE_NOSYNC);
}

/* flannel's subnet.env, when configured. Written by ds_open() before the
 * worker starts and by the loop (ds_subnet_env_update) afterwards: net,
 * cluster and their lengths do not change after ds_open(). */
void ds_subnet_env_write(struct datastore *ds)
{
	char env[512];

	if (!ds->subnet_env[0])
		return;
	if (ds_subnet_env_format6(env, sizeof(env), ds->cluster, ds->v4 ? ds->cluster_len : 0,
				  ds->net, ds->len, &ds->cluster6, ds->cluster_len6, &ds->net6,
				  ds->len6, ds->mtu, ds->ipmasq) < 0 ||
	    write_file(ds->subnet_env, env) < 0)
		log_warn("datastore: cannot write '%s'", ds->subnet_env);
}

void ds_subnet_env_update(struct datastore *ds, bool ipmasq, unsigned mtu)
{
	ds->ipmasq = ipmasq;
	ds->mtu = mtu;
	ds_subnet_env_write(ds);
}

/* ---- the cache: the last good view ------------------------------------------ */

void ds_cache_write(struct datastore *ds, const struct ds_peer *p, size_t n)
{
	json_t *o = json_object(), *list = json_array();
	char a[INET_ADDRSTRLEN], b[64];
	char *text;

	inet_ntop(AF_INET, &ds->net, a, sizeof(a));
	snprintf(b, sizeof(b), "%s/%u", a, ds->len);
	json_object_set_new(o, "subnet", json_string(b));
	inet_ntop(AF_INET, &ds->cluster, a, sizeof(a));
	snprintf(b, sizeof(b), "%s/%u", a, ds->cluster_len);
	json_object_set_new(o, "network", json_string(b));
	/* This node's own address and ASN as in force: from its Node object in
	 * Kubernetes mode, so a roostd restarted while the API server does not
	 * answer needs neither node.address nor the annotation. */
	if (ds->address.s_addr) {
		inet_ntop(AF_INET, &ds->address, a, sizeof(a));
		json_object_set_new(o, "address", json_string(a));
	}
	if (ds->asn)
		json_object_set_new(o, "asn", json_integer(ds->asn));
	if (!ds->v4)
		json_object_set_new(o, "ipv4", json_false());
	if (ds->cluster_len6) { /* IPv6: the same, for the other family */
		char a6[INET6_ADDRSTRLEN], b6[INET6_ADDRSTRLEN + 8];

		inet_ntop(AF_INET6, &ds->net6, a6, sizeof(a6));
		snprintf(b6, sizeof(b6), "%s/%u", a6, ds->len6);
		json_object_set_new(o, "subnet6", json_string(b6));
		inet_ntop(AF_INET6, &ds->cluster6, a6, sizeof(a6));
		snprintf(b6, sizeof(b6), "%s/%u", a6, ds->cluster_len6);
		json_object_set_new(o, "network6", json_string(b6));
		inet_ntop(AF_INET6, &ds->address6, a6, sizeof(a6));
		json_object_set_new(o, "address6", json_string(a6));
	}
	for (size_t i = 0; i < n; i++) {
		char net[INET_ADDRSTRLEN], addr[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &p[i].net, net, sizeof(net));
		inet_ntop(AF_INET, &p[i].address, addr, sizeof(addr));
		json_t *e = json_pack("{s:s, s:s, s:s, s:I, s:b, s:I}", "name", p[i].name,
				      "address", addr, "net", net, "len", (json_int_t)p[i].len,
				      "roost", p[i].roost, "asn", (json_int_t)p[i].asn);

		if (e && p[i].len6) {
			char a6[INET6_ADDRSTRLEN];

			inet_ntop(AF_INET6, &p[i].net6, a6, sizeof(a6));
			json_object_set_new(e, "net6", json_string(a6));
			json_object_set_new(e, "len6", json_integer(p[i].len6));
			inet_ntop(AF_INET6, &p[i].address6, a6, sizeof(a6));
			json_object_set_new(e, "address6", json_string(a6));
		}
		json_object_set_new(e, "key", json_string(p[i].key));
		if (e && p[i].reflector) {
			json_object_set_new(e, "reflector", json_true());
			inet_ntop(AF_INET, &p[i].cluster_id, addr, sizeof(addr));
			if (p[i].cluster_id.s_addr)
				json_object_set_new(e, "cluster_id", json_string(addr));
		}
		json_array_append_new(list, e);
	}
	json_object_set_new(o, "peers", list);
	if (ds->kube) { /* our own Node's role: the worker's copy, read on its thread */
		char cid[INET_ADDRSTRLEN] = "";

		if (ds->self_cluster_id.s_addr)
			inet_ntop(AF_INET, &ds->self_cluster_id, cid, sizeof(cid));
		json_object_set_new(o, "self", json_pack("{s:b, s:s}", "reflector",
							 ds->self_reflector, "cluster_id", cid));
	}
	text = json_dumps(o, JSON_INDENT(1));
	json_decref(o);
	if (text && write_file(ds->cache, text) < 0)
		log_warn("datastore: cannot write the cache '%s'", ds->cache);
	free(text);
}

int ds_cache_read(struct datastore *ds)
{
	json_error_t je;
	json_t *o = json_load_file(ds->cache, 0, &je), *list, *v;
	size_t i;
	int r = -ENOENT;

	if (!o)
		return -ENOENT;
	ds->v4 = !json_is_false(json_object_get(o, "ipv4"));
	if (ds->v4 && (cidr_parse(json_string_value(json_object_get(o, "subnet")), &ds->net,
				  &ds->len, false) < 0 ||
		       cidr_parse(json_string_value(json_object_get(o, "network")), &ds->cluster,
				  &ds->cluster_len, false) < 0))
		goto out;
	if (json_object_get(o, "subnet6") &&
	    (ds_cidr6_parse(json_string_value(json_object_get(o, "subnet6")), &ds->net6,
			    &ds->len6) < 0 ||
	     ds_cidr6_parse(json_string_value(json_object_get(o, "network6")), &ds->cluster6,
			    &ds->cluster_len6) < 0))
		goto out;
	if (IN6_IS_ADDR_UNSPECIFIED(&ds->address6) && json_object_get(o, "address6") &&
	    parse_ip6(json_string_value(json_object_get(o, "address6")), &ds->address6) < 0)
		goto out;
	/* The cache must be of this node's families (node.address6 added or
	 * removed since: lease again) */
	if (!ds->v4 && !ds->cluster_len6)
		goto out;
	if (!ds->address.s_addr && json_object_get(o, "address") &&
	    parse_ip(json_string_value(json_object_get(o, "address")), &ds->address) < 0)
		goto out;
	if (!ds->asn)
		ds->asn = (uint32_t)json_integer_value(json_object_get(o, "asn")); /* 0: none */
	list = json_object_get(o, "peers");
	ds->peers = calloc(json_array_size(list) + 1, sizeof(*ds->peers));
	if (!ds->peers)
		goto out;
	json_array_foreach(list, i, v)
	{
		struct ds_peer *p = &ds->peers[ds->n_peers];
		const char *name = json_string_value(json_object_get(v, "name"));

		if (parse_ip(json_string_value(json_object_get(v, "address")), &p->address) < 0 ||
		    parse_ip(json_string_value(json_object_get(v, "net")), &p->net) < 0)
			continue;
		p->len = (unsigned)json_integer_value(json_object_get(v, "len"));
		if (json_object_get(v, "net6")) {
			if (parse_ip6(json_string_value(json_object_get(v, "net6")), &p->net6) < 0 ||
			    parse_ip6(json_string_value(json_object_get(v, "address6")),
				      &p->address6) < 0)
				continue;
			p->len6 = (unsigned)json_integer_value(json_object_get(v, "len6"));
			if (!p->len6 || p->len6 > 128)
				continue;
		}
		snprintf(p->key, sizeof(p->key), "%s",
			 json_string_value(json_object_get(v, "key")) ?: "");
		p->roost = json_is_true(json_object_get(v, "roost"));
		p->asn = (uint32_t)json_integer_value(json_object_get(v, "asn")); /* 0: none */
		p->reflector = json_is_true(json_object_get(v, "reflector"));
		if (parse_ip(json_string_value(json_object_get(v, "cluster_id")), &p->cluster_id) < 0)
			p->cluster_id.s_addr = 0;
		snprintf(p->name, sizeof(p->name), "%s", name ? name : "");
		if (p->roost && !bc_name_ok(p->name))
			continue;
		ds->n_peers++;
	}
	ds->peers_changed = true;
	v = json_object_get(o, "self");
	ds->self_reflector = json_is_true(json_object_get(v, "reflector"));
	if (parse_ip(json_string_value(json_object_get(v, "cluster_id")), &ds->self_cluster_id) < 0)
		ds->self_cluster_id.s_addr = 0;
	r = 0;
out:
	json_decref(o);
	return r;
}

/* ---- leasing ---------------------------------------------------------------- */

/* The families of the network config against this node's: IPv6 needs
 * node.address6 (the next hop of its IPv6 subnet, which etcd cannot
 * know), an IPv6-only network a node without node.address. -EINVAL with
 * err naming the file when they differ (a configuration problem). */
static int check_families(struct datastore *ds, const struct ds_config6 *c6, const char *key,
			  char *err, size_t errlen)
{
	bool has6 = !IN6_IS_ADDR_UNSPECIFIED(&ds->address6);

	if (c6->v6 && !has6)
		snprintf(err, errlen, "%s:%d: node.address6: missing: %s has \"EnableIPv6\": true, and the node's IPv6 subnet needs this node's global IPv6 address as its next hop",
			 ds->conf_path, ds->node_line, key);
	else if (!c6->v6 && has6)
		snprintf(err, errlen, "%s:%d: node.address6 is set but %s has no \"EnableIPv6\": true (turn IPv6 on there, or remove node.address6)",
			 ds->conf_path, ds->node_line, key);
	else if (c6->v4 && !ds->address.s_addr)
		snprintf(err, errlen, "%s:%d: node.address: missing: %s has IPv4 on (\"EnableIPv4\" is not false), and this node is IPv6-only",
			 ds->conf_path, ds->node_line, key);
	else if (!c6->v4 && ds->address.s_addr)
		snprintf(err, errlen, "%s:%d: node.address is set but %s has \"EnableIPv4\": false (an IPv6-only network: remove node.address)",
			 ds->conf_path, ds->node_line, key);
	else
		return 0;
	return -EINVAL;
}

/* Reads the config; with a cached subnet, it must still fit. */
static int read_config(struct datastore *ds, unsigned *subnet_len, struct in_addr *min,
		       struct in_addr *max, struct ds_config6 *c6, char *err, size_t errlen)
{
	char key[256];
	struct etcd_kv *kv = NULL;
	struct in_addr net = {0};
	unsigned len = 0;
	size_t n = 0;
	int r;

	snprintf(key, sizeof(key), "%s/config", ds->prefix);
	r = etcd_range(ds->e, key, false, &kv, &n, NULL);
	if (r < 0) {
		snprintf(err, errlen, "reading %s: %s", key, etcd_error(ds->e));
		return -EAGAIN;
	}
	if (n == 0) {
		etcd_kvs_free(kv, n);
		snprintf(err, errlen, "%s is missing: put flannel's network config there first", key);
		return -EAGAIN; /* someone may yet write it */
	}
	r = ds_parse_config6(kv[0].value, c6, err, errlen);
	if (r == 0 && c6->v4)
		r = ds_parse_config(kv[0].value, &net, &len, subnet_len, min, max, err, errlen);
	etcd_kvs_free(kv, n);
	if (r < 0 || (r = check_families(ds, c6, key, err, errlen)) < 0)
		return r;
	/* The Network cannot move under running pods: keep the one in use. */
	if ((ds->cluster_len && (net.s_addr != ds->cluster.s_addr || len != ds->cluster_len)) ||
	    (ds->cluster_len6 && (!eq6(&c6->net, &ds->cluster6) || c6->len != ds->cluster_len6))) {
		snprintf(err, errlen, "%s: %s changed from the one in use; restart roostd for that",
			 key, ds->cluster_len6 && !eq6(&c6->net, &ds->cluster6) ? "IPv6Network" : "Network");
		return -EAGAIN;
	}
	pthread_mutex_lock(&ds->mu);
	ds->v4 = c6->v4;
	ds->cluster = net;
	ds->cluster_len = len;
	if (c6->v6) {
		ds->cluster6 = c6->net;
		ds->cluster_len6 = c6->len;
	}
	pthread_mutex_unlock(&ds->mu);
	return 0;
}

/* flannel's LeaseAttrs: PublicIP ("0.0.0.0" on an IPv6-only network, as
 * flannel writes its empty address), PublicIPv6 (null without IPv6). */
static void lease_value(struct datastore *ds)
{
	char a[INET_ADDRSTRLEN], b[INET6_ADDRSTRLEN + 2] = "null";

	inet_ntop(AF_INET, &ds->address, a, sizeof(a));
	if (ds->cluster_len6) {
		b[0] = '"';
		inet_ntop(AF_INET6, &ds->address6, b + 1, INET6_ADDRSTRLEN);
		strcat(b, "\"");
	}
	snprintf(ds->value, sizeof(ds->value),
		 "{\"PublicIP\":\"%s\",\"PublicIPv6\":%s,\"BackendType\":\"host-gw\","
		 "\"BackendData\":{\"roost\":{\"name\":\"%s\"}}}",
		 a, b, ds->name);
}

/* The worker writes the subnet while roostd may read it (ds_subnets). */
static void set_subnet(struct datastore *ds, struct in_addr net, unsigned len,
		       const struct in6_addr *net6, unsigned len6, const char *key)
{
	pthread_mutex_lock(&ds->mu);
	ds->net = net;
	ds->len = len;
	if (len6) {
		ds->net6 = *net6;
		ds->len6 = len6;
	}
	snprintf(ds->key, sizeof(ds->key), "%s", key);
	pthread_mutex_unlock(&ds->mu);
}

/* Takes (or takes again) a subnet: ours if a lease or reservation names our
 * address (node.address; IPv6-only: node.address6) and has the network's
 * families, else want (node.pod_cidr, node.pod_cidr6) or the first free one
 * from a point that depends on our address. With IPv6 the key holds both
 * subnets (flannel's "10.244.1.0-24&fd00:0:0:1::-64"): a txn creates it
 * only if absent, but another key may hold one of the two subnets with a
 * different other half, so a new lease is checked once written and given
 * up when an older lease holds one of its subnets (two nodes picked the
 * same one at once). 0, -EAGAIN (etcd trouble, err says) or -EINVAL. */
static bool mine(const struct datastore *ds, const struct ds_peer *p, unsigned slen,
		 const struct ds_config6 *c6)
{
	if (c6->v4 ? (p->len != slen || p->address.s_addr != ds->address.s_addr ||
		      !inside(p->net, ds->cluster, ds->cluster_len))
		   : (p->len != 0 || !eq6(&p->address6, &ds->address6)))
		return false;
	if (c6->v6 ? (p->len6 != c6->subnet_len || !inside6(&p->net6, &c6->net, c6->len))
		   : p->len6 != 0)
		return false; /* IPv6 turned on (or off) since: a new lease */
	return !(p->roost && strcmp(p->name, ds->name) != 0);
}

/* Our own lease of other families (written before IPv6 was turned on,
 * or off): our address, our name or none (flannel's, from before roost),
 * an IPv4 subnet that still fits. Its subnets are taken over by the new
 * lease, and it is deleted (else, older, it would shadow the new one on
 * every other node, and they would keep it alive for us while we route). */
static bool mine_stale(const struct datastore *ds, const struct ds_peer *p, unsigned slen,
		       const struct ds_config6 *c6)
{
	if (c6->v4 ? (p->len != slen || p->address.s_addr != ds->address.s_addr ||
		      !inside(p->net, ds->cluster, ds->cluster_len))
		   : (p->len != 0 || !p->len6 || !eq6(&p->address6, &ds->address6)))
		return false;
	return !(p->roost && strcmp(p->name, ds->name) != 0);
}

/* A lease created before ours (key) holds one of our subnets (the key
 * skip, our stale one, aside). */
static bool lost_race(struct datastore *ds, const char *prefix, const char *key,
		      const char *skip, const struct ds_peer *ours)
{
	struct etcd_kv *kv = NULL;
	size_t n = 0, i;
	int64_t rev = -1;
	bool lost = false;

	if (etcd_range(ds->e, prefix, true, &kv, &n, NULL) < 0)
		return false; /* unknown: kept (the filter drops a repeat anyway) */
	for (i = 0; i < n; i++)
		if (!strcmp(kv[i].key, key))
			rev = kv[i].create_revision;
	for (i = 0; i < n && rev >= 0 && !lost; i++) {
		struct ds_peer p;

		if (!strcmp(kv[i].key, key) || (skip[0] && !strcmp(kv[i].key, skip)) ||
		    kv[i].create_revision > rev ||
		    strncmp(kv[i].key, prefix, strlen(prefix)) != 0 ||
		    ds_parse_lease(kv[i].key + strlen(prefix), kv[i].value, &p) < 0)
			continue;
		lost = (ours->len && p.len == ours->len && p.net.s_addr == ours->net.s_addr) ||
		       (ours->len6 && p.len6 == ours->len6 && eq6(&p.net6, &ours->net6));
	}
	etcd_kvs_free(kv, n);
	return lost;
}

static int acquire(struct datastore *ds, const struct in_addr *want, unsigned want_len,
		   const struct in6_addr *want6, unsigned want_len6, char *err, size_t errlen)
{
	struct in_addr min, max;
	unsigned slen = 0;
	struct ds_config6 c6;
	struct etcd_kv *kv = NULL;
	struct ds_peer *all = NULL, bestp, np, stale;
	size_t n = 0, i, n_all = 0;
	char prefix[256], key[256], stale_key[256] = "";
	int64_t lease = 0;
	long best = -1;
	int r;

	r = read_config(ds, &slen, &min, &max, &c6, err, errlen);
	if (r < 0)
		return r;
	if (!c6.v4 || !want_len)
		want = NULL;
	if (!c6.v6 || !want_len6)
		want6 = NULL;
	if (want && want_len != slen) {
		snprintf(err, errlen, "node.pod_cidr is a /%u, the datastore's SubnetLen is %u", want_len,
			 slen);
		return -EINVAL;
	}
	if (want6 && want_len6 != c6.subnet_len) {
		snprintf(err, errlen, "node.pod_cidr6 is a /%u, the datastore's IPv6SubnetLen is %u",
			 want_len6, c6.subnet_len);
		return -EINVAL;
	}
	if (want6 && !inside6(want6, &c6.net, c6.len)) {
		snprintf(err, errlen, "node.pod_cidr6 is not inside the datastore's IPv6Network");
		return -EINVAL;
	}
	snprintf(prefix, sizeof(prefix), "%s/subnets/", ds->prefix);
	r = etcd_range(ds->e, prefix, true, &kv, &n, NULL);
	if (r < 0) {
		snprintf(err, errlen, "reading %s: %s", prefix, etcd_error(ds->e));
		return -EAGAIN;
	}
	lease_value(ds);
	if (!ds->reserved && etcd_lease_grant(ds->e, ds->ttl, &lease) < 0) {
		snprintf(err, errlen, "lease grant: %s", etcd_error(ds->e));
		r = -EAGAIN;
		goto out;
	}
	memset(&bestp, 0, sizeof(bestp));
	all = calloc(n + 1, sizeof(*all));
	if (!all) {
		r = -ENOMEM;
		goto out;
	}
	/* Ours already (a restart, or a reservation for us)? A lease that names
	 * our address but another node is not ours; one that names us wins over
	 * one that names nobody (a flannel lease or a reservation). */
	for (i = 0; i < n; i++) {
		struct ds_peer p;

		if (strncmp(kv[i].key, prefix, strlen(prefix)) != 0 ||
		    ds_parse_lease(kv[i].key + strlen(prefix), kv[i].value, &p) < 0)
			continue;
		all[n_all++] = p; /* every subnet held, for a new one */
		if (!mine(ds, &p, slen, &c6) && mine_stale(ds, &p, slen, &c6) &&
		    (!stale_key[0] || (p.roost && !stale.roost))) {
			stale = p;
			snprintf(stale_key, sizeof(stale_key), "%s", kv[i].key);
		}
		if (!mine(ds, &p, slen, &c6) || (want && p.net.s_addr != want->s_addr) ||
		    (want6 && !eq6(&p.net6, want6)))
			continue;
		if (best < 0 || (p.roost && !bestp.roost)) {
			best = (long)i;
			bestp = p;
		}
	}
	if (best >= 0) {
		i = (size_t)best;
		set_subnet(ds, bestp.net, bestp.len, &bestp.net6, bestp.len6, kv[i].key);
		if (kv[i].lease == 0) {
			/* A reservation (no lease): used as it is, never rewritten. */
			ds->reserved = true;
			ds->lease = 0;
			r = 0;
			goto out;
		}
		r = etcd_put_if(ds->e, ds->key, ds->value, lease, kv[i].mod_revision);
		if (r == 1) {
			ds->lease = lease;
			r = 0;
			goto out;
		}
		snprintf(err, errlen, "re-taking %s: %s", ds->key,
			 r == 0 ? "changed meanwhile" : etcd_error(ds->e));
		r = -EAGAIN;
		goto out;
	}
	/* A new one: a free subnet of each family; our stale lease's subnets
	 * (the IPv4 one its pods have) are ours to take again. */
	memset(&np, 0, sizeof(np));
	if (stale_key[0]) {
		if (c6.v4 && !want)
			want = &stale.net;
		if (c6.v6 && !want6 && stale.len6 == c6.subnet_len && inside6(&stale.net6, &c6.net, c6.len))
			want6 = &stale.net6;
	}
	if (c6.v4) {
		uint32_t size = 1u << (32 - slen), lo = ntohl(min.s_addr) / size,
			 hi = ntohl(max.s_addr) / size, count = hi - lo + 1,
			 start = (ntohl(ds->address.s_addr) * 2654435761u) % count;
		bool found = false;

		for (uint32_t k = 0; k < count && !found; k++) {
			struct in_addr net = {.s_addr = htonl((lo + (start + k) % count) * size)};
			bool taken = false;

			if (want)
				net = *want;
			for (i = 0; i < n_all && !taken; i++)
				taken = all[i].len && all[i].net.s_addr == net.s_addr &&
					!(stale_key[0] && !strcmp(all[i].key, stale.key));
			if (!taken) {
				np.net = net;
				np.len = slen;
				found = true;
			} else if (want) {
				break;
			}
		}
		if (!found) {
			snprintf(err, errlen, want ? "node.pod_cidr's subnet is leased by another node"
						   : "no free subnet between SubnetMin and SubnetMax");
			r = -EAGAIN;
			goto out;
		}
	}
	if (c6.v6) {
		uint64_t count = c6.max - c6.min + 1, tries = count < 65536 ? count : 65536, start;
		uint32_t h;
		bool found = false;

		memcpy(&h, &ds->address6.s6_addr[12], sizeof(h));
		start = ((uint64_t)ntohl(h) * 2654435761u) % count;
		for (uint64_t k = 0; k < tries && !found; k++) {
			struct in6_addr net;
			bool taken = false;

			if (want6)
				net = *want6;
			else
				ds_subnet6_nth(&c6.net, c6.subnet_len, c6.min + (start + k) % count,
					       &net);
			for (i = 0; i < n_all && !taken; i++)
				taken = all[i].len6 && eq6(&all[i].net6, &net) &&
					!(stale_key[0] && !strcmp(all[i].key, stale.key));
			if (!taken) {
				np.net6 = net;
				np.len6 = c6.subnet_len;
				found = true;
			} else if (want6) {
				break;
			}
		}
		if (!found) {
			snprintf(err, errlen, want6 ? "node.pod_cidr6's subnet is leased by another node"
						    : "no free IPv6 subnet between IPv6SubnetMin and IPv6SubnetMax");
			r = -EAGAIN;
			goto out;
		}
	}
	key_of(ds, np.net, np.len, &np.net6, np.len6, key, sizeof(key));
	r = etcd_put_if(ds->e, key, ds->value, lease, 0);
	if (r < 0 || r == 0) {
		snprintf(err, errlen, "creating %s: %s", key,
			 r == 0 ? "created by another node meanwhile" : etcd_error(ds->e));
		r = -EAGAIN;
		goto out;
	}
	if (lost_race(ds, prefix, key, stale_key, &np)) {
		(void)etcd_delete(ds->e, key);
		snprintf(err, errlen, "%s: another node took one of its subnets meanwhile; trying again",
			 key);
		r = -EAGAIN;
		goto out;
	}
	set_subnet(ds, np.net, np.len, &np.net6, np.len6, key);
	ds->lease = lease;
	if (stale_key[0]) {
		if (etcd_delete(ds->e, stale_key) < 0)
			log_warn("datastore: cannot delete %s, replaced by %s: %s", stale_key, key,
				 etcd_error(ds->e));
		else
			log_info("datastore: %s replaces this node's %s (the network's address families changed)",
				 key, stale_key);
	}
	r = 0;
out:
	free(all);
	etcd_kvs_free(kv, n);
	return r;
}

/* ---- the worker ------------------------------------------------------------- */

static bool peers_equal(const struct ds_peer *a, size_t na, const struct ds_peer *b, size_t nb)
{
	return na == nb && (na == 0 || memcmp(a, b, na * sizeof(*a)) == 0);
}

/* An unfit lease: logged once (until it changes or goes). */
void ds_report_bad(void *arg, const char *key, const char *why)
{
	struct datastore *ds = arg;
	char line[192];
	void *v;
	bool seen = false;

	snprintf(line, sizeof(line), "%s: %s", key, why);
	for (size_t i = 0; i < ds->n_bad && !seen; i++)
		seen = strcmp(ds->bad[i], line) == 0;
	if (!seen && ds->kube)
		log_warn("datastore: node %s skipped: %s", key, why);
	else if (!seen)
		log_warn("datastore: lease %s/subnets/%s skipped: %s", ds->prefix, key, why);
	v = realloc(ds->bad_now, (ds->n_bad_now + 1) * sizeof(*ds->bad_now));
	if (!v)
		return;
	ds->bad_now = v;
	memcpy(ds->bad_now[ds->n_bad_now++], line, sizeof(line));
}

static int by_creation(const void *a, const void *b)
{
	const struct etcd_kv *x = a, *y = b;

	if (x->create_revision != y->create_revision)
		return x->create_revision < y->create_revision ? -1 : 1;
	return strcmp(x->key, y->key);
}

/* Publishes a changed list of the fit leases in ds->kvs (every key under
 * <prefix>/subnets/, from a range read and the watch's events since), in
 * the order they were created. */
static int publish(struct datastore *ds)
{
	size_t plen = strlen(ds->prefix) + strlen("/subnets/"), m = 0;
	struct ds_peer *p = calloc(ds->n_kvs + 1, sizeof(*p));
	int r;

	if (!p)
		return -ENOMEM;
	ds->n_bad_now = 0;
	/* The lease created first wins a repeat (of a PublicIP, a name). */
	qsort(ds->kvs, ds->n_kvs, sizeof(*ds->kvs), by_creation);
	for (size_t i = 0; i < ds->n_kvs; i++) {
		const struct etcd_kv *kv = &ds->kvs[i];
		const char *tail = kv->key + plen;

		if (strcmp(kv->key, ds->key) == 0)
			continue;
		r = ds_parse_lease(tail, kv->value, &p[m]);
		p[m].lease = kv->lease;
		if (r == -ENOTSUP)
			ds_report_bad(ds, tail, "its backend is not host-gw: not reachable without its overlay");
		else if (r < 0)
			ds_report_bad(ds, tail, "not a lease in flannel's format (key a.b.c.d-len or a.b.c.d-len&x:x::-len, PublicIP, PublicIPv6, BackendType)");
		else
			m++;
	}
	return ds_peers_set(ds, p, m);
}

int ds_peers_set(struct datastore *ds, struct ds_peer *p, size_t m)
{
	bool changed;
	struct ds_check k = {.cluster = ds->cluster,
			     .cluster_len = ds->v4 ? ds->cluster_len : 0,
			     .subnet_len = ds->len,
			     .cluster6 = ds->cluster6,
			     .cluster_len6 = ds->cluster_len6,
			     .subnet_len6 = ds->len6,
			     .self = ds->address,
			     .self6 = ds->address6,
			     .self_net = ds->net,
			     .self_net6 = ds->net6};

	m = ds_leases_filter(p, m, &k, ds_report_bad, ds);
	free(ds->bad);
	ds->bad = ds->bad_now;
	ds->n_bad = ds->n_bad_now;
	ds->bad_now = NULL;
	ds->n_bad_now = 0;
	pthread_mutex_lock(&ds->mu);
	changed = !peers_equal(ds->peers, ds->n_peers, p, m);
	if (changed) {
		free(ds->peers);
		ds->peers = p;
		ds->n_peers = m;
		ds->peers_changed = true;
	}
	pthread_mutex_unlock(&ds->mu);
	if (!changed) {
		free(p);
		return 0;
	}
	ds_cache_write(ds, p, m);
	(void)!write(ds->wake[1], "p", 1);
	return 0;
}

/* Only keys under the prefix, with a readable value, are kept (a range
 * result or an event is untrusted input like any other). */
static bool kv_ours(const struct datastore *ds, const struct etcd_kv *kv, const char *prefix)
{
	return kv->key && kv->value && strncmp(kv->key, prefix, strlen(prefix)) == 0;
}

/* Reads every lease (a range), and publishes when the revision moved. */
static int refresh(struct datastore *ds)
{
	char prefix[256];
	struct etcd_kv *kv = NULL;
	size_t n = 0, m = 0;
	int64_t rev = 0;
	int r;

	snprintf(prefix, sizeof(prefix), "%s/subnets/", ds->prefix);
	r = etcd_range(ds->e, prefix, true, &kv, &n, &rev);
	if (r < 0)
		return r;
	if (rev == ds->revision && ds->listed) {
		etcd_kvs_free(kv, n);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (!kv_ours(ds, &kv[i], prefix)) {
			free(kv[i].key);
			free(kv[i].value);
			continue;
		}
		kv[m++] = kv[i];
	}
	etcd_kvs_free(ds->kvs, ds->n_kvs);
	ds->kvs = kv;
	ds->n_kvs = m;
	ds->revision = rev > 0 && rev < INT64_MAX ? rev : 0; /* untrusted: revision + 1 must hold */
	ds->listed = true;
	return publish(ds);
}

/* Keeps alive the leases of the roost peers that route (their session
 * with us is Established), every two thirds of their TTL: a node whose
 * roostd is down keeps its subnet for as long as it routes. */
static void renew_routing(struct datastore *ds)
{
	char (*names)[BC_NAME_MAX + 1] = NULL;
	size_t n = 0;

	pthread_mutex_lock(&ds->mu);
	if (ds->n_routing && (names = calloc(ds->n_routing, sizeof(*names)))) {
		memcpy(names, ds->routing, ds->n_routing * sizeof(*names));
		n = ds->n_routing;
	}
	pthread_mutex_unlock(&ds->mu);
	for (size_t i = 0; i < ds->n_renews; i++)
		ds->renews[i].seen = false;
	/* ds->peers: written by this thread only, read here without the lock */
	for (size_t i = 0; i < ds->n_peers; i++) {
		const struct ds_peer *p = &ds->peers[i];
		struct ds_renew *w = NULL;
		bool routing = false;
		int64_t ttl = 0;

		for (size_t j = 0; j < n && !routing; j++)
			routing = !strcmp(names[j], p->name);
		if (!p->roost || !p->lease || !routing)
			continue;
		for (size_t j = 0; j < ds->n_renews && !w; j++)
			if (ds->renews[j].lease == p->lease)
				w = &ds->renews[j];
		if (!w) {
			void *v = realloc(ds->renews, (ds->n_renews + 1) * sizeof(*ds->renews));

			if (!v)
				break;
			ds->renews = v;
			w = &ds->renews[ds->n_renews++];
			memset(w, 0, sizeof(*w));
			w->lease = p->lease; /* next = 0: due now */
		}
		w->seen = true;
		if (!ts_due(&w->next))
			continue;
		if (etcd_lease_keepalive(ds->e, p->lease, &ttl) < 0) {
			ts_in(&w->next, 5000); /* gone, or etcd trouble: look again */
			continue;
		}
		log_debug("datastore: renewed the lease of %s (%s) for it: it routes, ttl %" PRId64 " s",
			  p->name, p->key, ttl);
		ts_in(&w->next, ttl * 2000 / 3 > 1000 ? ttl * 2000 / 3 : 1000);
	}
	for (size_t i = ds->n_renews; i-- > 0;)
		if (!ds->renews[i].seen)
			ds->renews[i] = ds->renews[--ds->n_renews];
	free(names);
}

/* ---- the watch ---------------------------------------------------------------- */

/* One event into ds->kvs; true when it changed what is known. */
static bool kvs_apply(struct datastore *ds, struct etcd_event *ev, const char *prefix)
{
	size_t i;

	if (ev->kv.key && strncmp(ev->kv.key, prefix, strlen(prefix)) != 0)
		return false; /* not under the prefix watched: ignored */
	for (i = 0; i < ds->n_kvs && strcmp(ds->kvs[i].key, ev->kv.key) != 0; i++)
		;
	if (ev->deleted || !ev->kv.value) { /* a value that is not base64: not ours to read */
		if (i == ds->n_kvs)
			return false;
		free(ds->kvs[i].key);
		free(ds->kvs[i].value);
		ds->kvs[i] = ds->kvs[--ds->n_kvs];
		return true;
	}
	if (i == ds->n_kvs) {
		void *v = realloc(ds->kvs, (ds->n_kvs + 1) * sizeof(*ds->kvs));

		if (!v)
			return false;
		ds->kvs = v;
		ds->n_kvs++;
	} else {
		free(ds->kvs[i].key);
		free(ds->kvs[i].value);
	}
	ds->kvs[i] = ev->kv; /* moved */
	ev->kv.key = ev->kv.value = NULL;
	return true;
}

static void rev_seen(struct datastore *ds, int64_t rev)
{
	if (rev > ds->revision && rev < INT64_MAX)
		ds->revision = rev;
}

/* etcd answers (a count-only range, on any endpoint); its revision behind
 * ours means a store restored from a backup: a watch from our revision
 * would wait for changes that already happened, so read everything again. */
static int check_etcd(struct datastore *ds, const char *prefix, char *err, size_t errlen)
{
	int64_t rev = 0;

	if (etcd_revision(ds->e, prefix, &rev) < 0) {
		snprintf(err, errlen, "watch: %s", etcd_error(ds->e));
		return -EAGAIN;
	}
	if (rev < ds->revision) {
		log_warn("datastore: etcd's revision %" PRId64 " is behind the one seen, %" PRId64 " (restored?): reading every lease again",
			 rev, ds->revision);
		ds->listed = false;
	}
	return 0;
}

static void watch_close(struct datastore *ds)
{
	if (!ds->watch)
		return;
	etcd_watch_close(ds->watch);
	ds->watch = NULL;
	pthread_mutex_lock(&ds->mu);
	ds->watching = false;
	pthread_mutex_unlock(&ds->mu);
}

/* Opens the watch when there is none, takes in what it brought (events
 * into ds->kvs, then one publish), and checks on it when it ended or has
 * been silent for DS_WATCH_IDLE_MS. 0, or -EAGAIN with err (etcd trouble). */
static int watch_step(struct datastore *ds, char *err, size_t errlen)
{
	char prefix[256];
	struct etcd_watch_resp w;
	bool changed = false;
	int r;

	snprintf(prefix, sizeof(prefix), "%s/subnets/", ds->prefix);
	if (!ds->watch) {
		if (!ts_due(&ds->watch_next))
			return 0;
		/* Down (this thread is the only writer of ds->up): opening a
		 * watch proves nothing, a read does, and picks the endpoint. */
		if (!ds->up && check_etcd(ds, prefix, err, errlen) < 0)
			return -EAGAIN;
		if (!ds->listed)
			return 0; /* read everything first (the worker, next round) */
		r = etcd_watch_open(ds->e, prefix, ds->revision + 1, &ds->watch);
		if (r < 0) {
			snprintf(err, errlen, "watch: %s", strerror(-r));
			return -EAGAIN;
		}
		ds->watch_ep = etcd_endpoint(ds->e);
		ds->watch_frames = 0;
		ts_in(&ds->watch_idle, DS_WATCH_IDLE_MS);
		pthread_mutex_lock(&ds->mu);
		ds->watching = true;
		pthread_mutex_unlock(&ds->mu);
		log_debug("datastore: watching %s from revision %" PRId64, prefix, ds->revision + 1);
		return 0;
	}
	while ((r = etcd_watch_next(ds->watch, &w)) == 1) {
		ds->watch_frames++;
		ds->watch_backoff_s = 0;
		ts_in(&ds->watch_idle, DS_WATCH_IDLE_MS);
		if (w.canceled) {
			if (w.compact_revision)
				log_info("datastore: the watch from revision %" PRId64 " was compacted (etcd keeps revision %" PRId64 " on): reading every lease again",
					 ds->revision + 1, w.compact_revision);
			else
				log_info("datastore: etcd canceled the watch (%s): reading every lease again",
					 w.reason[0] ? w.reason : "no reason given");
			etcd_watch_resp_clear(&w);
			watch_close(ds);
			ds->listed = false;
			if (changed)
				publish(ds);
			r = refresh(ds);
			if (r < 0)
				snprintf(err, errlen, "reading the subnets: %s", etcd_error(ds->e));
			return r < 0 ? -EAGAIN : 0;
		}
		for (size_t i = 0; i < w.n_events; i++) {
			if (kvs_apply(ds, &w.events[i], prefix))
				changed = true;
			rev_seen(ds, w.events[i].kv.mod_revision);
		}
		/* A progress notification: every event up to its revision is in. */
		if (!w.created && w.n_events == 0)
			rev_seen(ds, w.revision);
		etcd_watch_resp_clear(&w);
	}
	if (changed)
		publish(ds);
	if (r < 0) {
		/* Ended (a member restarted, a proxy timed out) or failed: see
		 * whether etcd answers (on any endpoint), then watch again from
		 * where this one stopped; only a watch that brought nothing
		 * waits before the next one (a watch refused at once). */
		log_info("datastore: %s; watching again from revision %" PRId64,
			 etcd_watch_error(ds->watch), ds->revision + 1);
		watch_close(ds);
		if (ds->watch_frames == 0) {
			/* Refused at once (a proxy that cannot stream?): wait,
			 * and meanwhile read every lease on each try, so that
			 * changes still arrive. */
			ds->watch_backoff_s = ds->watch_backoff_s ? ds->watch_backoff_s * 2 : 1;
			if (ds->watch_backoff_s > DS_BACKOFF_MAX_S)
				ds->watch_backoff_s = DS_BACKOFF_MAX_S;
			ts_in(&ds->watch_next, (long)ds->watch_backoff_s * 1000);
			ds->listed = false;
		}
		return check_etcd(ds, prefix, err, errlen);
	}
	if (ts_due(&ds->watch_idle)) {
		/* Silent for a while: fine if a member in touch with the quorum
		 * answers, on the endpoint being watched; else watch elsewhere. */
		ts_in(&ds->watch_idle, DS_WATCH_IDLE_MS);
		if (check_etcd(ds, prefix, err, errlen) < 0)
			return -EAGAIN;
		if (!ds->listed || etcd_endpoint(ds->e) != ds->watch_ep) {
			if (ds->listed)
				log_info("datastore: the watched endpoint does not answer; watching another one");
			watch_close(ds);
		}
	}
	return 0;
}

static void *worker(void *arg)
{
	struct datastore *ds = arg;
	char err[256];

	for (;;) {
		struct pollfd pf = {.fd = ds->stop[0], .events = POLLIN};
		int r = 0;

		/* Wakes for the stop pipe, for the watch's stream, or every
		 * DS_TICK_MS for the timers (no request unless one is due). */
		if (ds->watch ? etcd_watch_poll(ds->watch, ds->stop[0], DS_TICK_MS) == 1
			      : poll(&pf, 1, DS_TICK_MS) > 0)
			break;
		if (!ts_due(&ds->next_try))
			continue;
		if (!ds->reserved && ds->lease == 0) {
			r = acquire(ds, &ds->net, ds->len, &ds->net6, ds->len6, err, sizeof(err));
			if (r == 0)
				log_info("datastore: leased %s again", ds->key);
		}
		if (r == 0 && !ds->reserved && ts_due(&ds->next_keepalive)) {
			int64_t ttl = 0;

			r = etcd_lease_keepalive(ds->e, ds->lease, &ttl);
			if (r == -ENOENT) {
				log_warn("datastore: the lease of %s is gone; taking the subnet again",
					 ds->key);
				ds->lease = 0;
				r = acquire(ds, &ds->net, ds->len, &ds->net6, ds->len6, err,
					    sizeof(err));
			} else if (r < 0) {
				snprintf(err, sizeof(err), "keepalive: %s", etcd_error(ds->e));
			}
			if (r == 0)
				ts_in(&ds->next_keepalive, (long)(ds->ttl - ds->renew) * 1000);
		}
		/* Polling (datastore.watch = false): a range every tick, as
		 * before the watch; watching: only when the watch cannot say
		 * what changed (the first time, after a compaction). */
		if (r == 0 && (!ds->use_watch || !ds->listed) && refresh(ds) < 0) {
			snprintf(err, sizeof(err), "reading the subnets: %s", etcd_error(ds->e));
			r = -EAGAIN;
		}
		if (r == 0 && ds->use_watch)
			r = watch_step(ds, err, sizeof(err));
		if (r == 0)
			renew_routing(ds);
		if (r < 0) {
			watch_close(ds);
			ds_state_set(ds, false, err);
			ds->backoff_s = ds->backoff_s ? ds->backoff_s * 2 : 1;
			if (ds->backoff_s > DS_BACKOFF_MAX_S)
				ds->backoff_s = DS_BACKOFF_MAX_S;
			ts_in(&ds->next_try, (long)ds->backoff_s * 1000);
			continue;
		}
		ds->backoff_s = 0;
		ds_state_set(ds, true, NULL);
	}
	watch_close(ds);
	return NULL;
}

/* ---- public ----------------------------------------------------------------- */

/* ds has its subnet: subnet.env, then the worker. */
static int start(struct datastore *ds, void *(*fn)(void *), struct datastore **ret, char *err,
		 size_t errlen)
{
	ds_subnet_env_write(ds);
	if (pthread_create(&ds->thread, NULL, fn, ds) != 0) {
		ds_free(ds);
		snprintf(err, errlen, "cannot start the datastore thread");
		return -EAGAIN;
	}
	ds->started = true;
	*ret = ds;
	return 0;
}

/* The cache is of this node's families: IPv4 with node.address, IPv6 with
 * node.address6 (the file changed since it was written: no). */
static bool cache_fits(struct datastore *ds, const struct roostd_conf *c)
{
	bool ok = ds->v4 == (c->address.s_addr != 0) &&
		  (ds->cluster_len6 > 0) == !IN6_IS_ADDR_UNSPECIFIED(&c->address6);

	if (!ok) {
		memset(&ds->net, 0, sizeof(ds->net));
		memset(&ds->cluster, 0, sizeof(ds->cluster));
		memset(&ds->net6, 0, sizeof(ds->net6));
		memset(&ds->cluster6, 0, sizeof(ds->cluster6));
		ds->len = c->pod_len;
		ds->cluster_len = ds->len6 = ds->cluster_len6 = 0;
		ds->v4 = c->address.s_addr != 0;
		free(ds->peers);
		ds->peers = NULL;
		ds->n_peers = 0;
		ds->peers_changed = false;
		log_warn("datastore: the last known state in '%s' is of other address families than node.address/node.address6 now: not used",
			 ds->cache);
	}
	return ok;
}

int ds_open(const struct roostd_conf *c, struct datastore **ret, char *err, size_t errlen)
{
	struct datastore *ds = calloc(1, sizeof(*ds));
	unsigned backoff = 1;
	int r;

	if (!ds)
		return -ENOMEM;
	pthread_mutex_init(&ds->mu, NULL);
	ds->wake[0] = ds->wake[1] = ds->stop[0] = ds->stop[1] = -1;
	ds->prefix = strdup(c->ds_prefix);
	snprintf(ds->name, sizeof(ds->name), "%s", c->ds_kube ? c->kube_node : c->name);
	ds->address = c->address;
	ds->address6 = c->address6;
	ds->v4 = c->address.s_addr || c->ds_kube; /* etcd: read_config says */
	ds->conf_path = c->path;
	ds->node_line = c->node_line;
	ds->ttl = c->ds_lease_ttl;
	ds->renew = c->ds_lease_renew;
	ds->mtu = c->bridge_mtu;
	ds->ipmasq = c->masquerade;
	ds->use_watch = c->ds_watch;
	snprintf(ds->cache, sizeof(ds->cache), "%s/datastore.json", c->state_dir);
	snprintf(ds->subnet_env, sizeof(ds->subnet_env), "%s", c->ds_subnet_env);
	if (!ds->prefix || pipe2(ds->wake, O_CLOEXEC | O_NONBLOCK) < 0 ||
	    pipe2(ds->stop, O_CLOEXEC) < 0) {
		r = ds->prefix ? -errno : -ENOMEM;
		ds_free(ds);
		return r;
	}
	if (c->ds_kube) {
		ds->len = c->pod_len;
		r = ds_kube_open(ds, c, err, errlen);
		if (r < 0) {
			ds_free(ds);
			return r;
		}
		if ((c->svc_lb || c->svc_external) && (r = ds_svc_start(ds, c->state_dir)) < 0) {
			(void)!write(ds->stop[1], "x", 1);
			ds_svc_stop(ds);
			ds_free(ds);
			snprintf(err, errlen, "cannot start the threads that follow Services");
			return r;
		}
		return start(ds, ds_kube_worker, ret, err, errlen);
	}
	ds->endpoints = calloc(c->n_ds_endpoints, sizeof(*ds->endpoints));
	for (size_t i = 0; ds->endpoints && i < c->n_ds_endpoints; i++)
		if ((ds->endpoints[i] = strdup(c->ds_endpoints[i])))
			ds->n_endpoints++;
	ds->ca = strdup(c->ds_ca);
	ds->cert = strdup(c->ds_cert);
	ds->tls_key = strdup(c->ds_key);
	if (ds->n_endpoints != c->n_ds_endpoints || !ds->ca || !ds->cert || !ds->tls_key) {
		ds_free(ds);
		return -ENOMEM;
	}
	r = etcd_new(ds->endpoints, ds->n_endpoints, ds->ca, ds->cert, ds->tls_key, DS_TIMEOUT_MS,
		     &ds->e);
	if (r < 0) {
		snprintf(err, errlen, "%s", r == -ENOMEM ? "out of memory" : etcd_error(NULL));
		ds_free(ds);
		return r;
	}
	for (;;) {
		r = acquire(ds, c->ds_pod_given ? &c->pod_net : NULL, c->pod_len,
			    c->ds_pod6_given ? &c->pod_net6 : NULL, c->pod_len6, err, errlen);
		if (r == 0) {
			ds->up = true;
			ds->since = time(NULL);
			log_info("datastore: leased %s (ttl %u s)", ds->key, ds->ttl);
			ts_in(&ds->next_keepalive, (long)(ds->ttl - ds->renew) * 1000);
			if (refresh(ds) < 0)
				log_warn("datastore: reading the subnets: %s", etcd_error(ds->e));
			break;
		}
		if (r == -EINVAL) {
			ds_free(ds);
			return r;
		}
		if (ds_cache_read(ds) == 0 && cache_fits(ds, c)) {
			log_warn("datastore: etcd does not answer (%s); starting from the last known state in '%s'",
				 err, ds->cache);
			snprintf(ds->last_error, sizeof(ds->last_error), "%s", err);
			ds->since = time(NULL);
			ts_in(&ds->next_try, 1000);
			break;
		}
		log_warn("datastore: no subnet yet (%s); retrying in %u s", err, backoff);
		sleep(backoff);
		backoff = backoff < DS_BACKOFF_MAX_S ? backoff * 2 : DS_BACKOFF_MAX_S;
	}
	etcd_set_stop_fd(ds->e, ds->stop[0]); /* ds_free waits for no etcd timeout */
	return start(ds, worker, ret, err, errlen);
}

void ds_free(struct datastore *ds)
{
	if (!ds)
		return;
	if (ds->started) {
		(void)!write(ds->stop[1], "x", 1);
		pthread_join(ds->thread, NULL);
	}
	if (ds->svc_on) {
		(void)!write(ds->stop[1], "x", 1);
		ds_svc_stop(ds);
	}
	for (int i = 0; i < 2; i++) {
		if (ds->wake[i] >= 0)
			close(ds->wake[i]);
		if (ds->stop[i] >= 0)
			close(ds->stop[i]);
	}
	etcd_free(ds->e);
	if (ds->kube)
		ds_kube_free(ds);
	for (size_t i = 0; i < ds->n_endpoints; i++)
		free(ds->endpoints[i]);
	free(ds->endpoints);
	free(ds->ca);
	free(ds->cert);
	free(ds->tls_key);
	free(ds->peers);
	free(ds->bad);
	free(ds->bad_now);
	free(ds->renews);
	etcd_kvs_free(ds->kvs, ds->n_kvs);
	free(ds->routing);
	free(ds->prefix);
	pthread_mutex_destroy(&ds->mu);
	free(ds);
}

void ds_self_set(struct datastore *ds, bool reflector, struct in_addr cluster_id)
{
	bool changed;

	pthread_mutex_lock(&ds->mu);
	changed = ds->self_reflector != reflector ||
		  ds->self_cluster_id.s_addr != cluster_id.s_addr;
	if (changed) {
		ds->self_reflector = reflector;
		ds->self_cluster_id = cluster_id;
		ds->peers_changed = true; /* the loop renders again */
	}
	pthread_mutex_unlock(&ds->mu);
	if (!changed)
		return;
	log_info("datastore: Node %s: %s", ds->name,
		 reflector ? "labelled roost.io/route-reflector: this node reflects"
			   : "not a route reflector (any more)");
	/* ds->peers is written by this thread only: no lock to read it here */
	ds_cache_write(ds, ds->peers, ds->n_peers);
	if (ds->wake[1] >= 0)
		(void)!write(ds->wake[1], "p", 1);
}

void ds_self_role(struct datastore *ds, bool *reflector, struct in_addr *cluster_id)
{
	pthread_mutex_lock(&ds->mu);
	*reflector = ds->self_reflector;
	*cluster_id = ds->self_cluster_id;
	pthread_mutex_unlock(&ds->mu);
}

uint32_t ds_asn(struct datastore *ds)
{
	return ds->asn; /* fixed after ds_open */
}

struct in_addr ds_address(struct datastore *ds)
{
	struct in_addr a;

	pthread_mutex_lock(&ds->mu);
	a = ds->address;
	pthread_mutex_unlock(&ds->mu);
	return a;
}

void ds_subnets(struct datastore *ds, struct in_addr *net, unsigned *len,
		struct in_addr *cluster, unsigned *cluster_len)
{
	pthread_mutex_lock(&ds->mu);
	*net = ds->net;
	*len = ds->len;
	*cluster = ds->cluster;
	*cluster_len = ds->cluster_len;
	pthread_mutex_unlock(&ds->mu);
}

void ds_subnets6(struct datastore *ds, struct in6_addr *net, unsigned *len,
		 struct in6_addr *cluster, unsigned *cluster_len)
{
	pthread_mutex_lock(&ds->mu);
	*net = ds->net6;
	*len = ds->len6;
	*cluster = ds->cluster6;
	*cluster_len = ds->cluster_len6;
	pthread_mutex_unlock(&ds->mu);
}

struct in6_addr ds_address6(struct datastore *ds)
{
	struct in6_addr a;

	pthread_mutex_lock(&ds->mu);
	a = ds->address6;
	pthread_mutex_unlock(&ds->mu);
	return a;
}

int ds_fd(const struct datastore *ds)
{
	return ds ? ds->wake[0] : -1;
}

int ds_take_peers(struct datastore *ds, struct ds_peer **ret, size_t *ret_n)
{
	char b[64];
	int r = 0;

	while (read(ds->wake[0], b, sizeof(b)) > 0)
		;
	pthread_mutex_lock(&ds->mu);
	if (ds->peers_changed) {
		*ret = calloc(ds->n_peers + 1, sizeof(**ret));
		if (*ret) {
			if (ds->n_peers)
				memcpy(*ret, ds->peers, ds->n_peers * sizeof(**ret));
			*ret_n = ds->n_peers;
			ds->peers_changed = false;
			r = 1;
		}
	}
	pthread_mutex_unlock(&ds->mu);
	return r;
}

void ds_set_routing(struct datastore *ds, char (*names)[BC_NAME_MAX + 1], size_t n)
{
	void *v = calloc(n + 1, sizeof(*names));

	if (!v)
		return;
	if (n)
		memcpy(v, names, n * sizeof(*names));
	pthread_mutex_lock(&ds->mu);
	free(ds->routing);
	ds->routing = v;
	ds->n_routing = n;
	pthread_mutex_unlock(&ds->mu);
}

bool ds_up(struct datastore *ds)
{
	bool up;

	pthread_mutex_lock(&ds->mu);
	up = ds->up;
	pthread_mutex_unlock(&ds->mu);
	return up;
}

size_t ds_n_peers(struct datastore *ds)
{
	size_t n;

	pthread_mutex_lock(&ds->mu);
	n = ds->n_peers;
	pthread_mutex_unlock(&ds->mu);
	return n;
}

json_t *ds_status_json(struct datastore *ds)
{
	char net[INET_ADDRSTRLEN], sub[64];
	json_t *o;

	pthread_mutex_lock(&ds->mu);
	inet_ntop(AF_INET, &ds->net, net, sizeof(net));
	snprintf(sub, sizeof(sub), "%s/%u", net, ds->len);
	if (ds->kube)
		o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:I, s:b}", "type", "kubernetes",
			      "state", ds->up ? "up" : "down", "node", ds->name, "server",
			      ds->kc.server ? ds->kc.server : "", "subnet", sub, "peers",
			      (json_int_t)ds->n_peers, "last_error", ds->last_error, "since",
			      (json_int_t)ds->since, "reflector", ds->self_reflector);
	else
		o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:I, s:s, s:b}", "type", "etcd",
			      "state", ds->up ? "up" : "down", "key", ds->key, "subnet", sub,
			      "lease_ttl", (json_int_t)(ds->reserved ? 0 : ds->ttl), "peers",
			      (json_int_t)ds->n_peers, "last_error", ds->last_error, "since",
			      (json_int_t)ds->since, "changes", ds->use_watch ? "watch" : "poll",
			      "watching", ds->watching);
	if (o && ds->cluster_len6) {
		char a6[INET6_ADDRSTRLEN], b6[INET6_ADDRSTRLEN + 8];

		inet_ntop(AF_INET6, &ds->net6, a6, sizeof(a6));
		snprintf(b6, sizeof(b6), "%s/%u", a6, ds->len6);
		json_object_set_new(o, "subnet6", json_string(b6));
	}
	if (o && !ds->v4)
		json_object_set_new(o, "subnet", json_null());
	pthread_mutex_unlock(&ds->mu);
	if (o && ds->svc_on) /* svc_mu before mu, as the Service threads take them */
		json_object_set_new(o, "services", ds_svc_status_json(ds));
	return o;
}
