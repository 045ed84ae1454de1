/* SPDX-License-Identifier: MIT */
/*
 * owners.c - who owns which pod subnet (see owners.h).
 *
 * Threads: struct owners belongs to roostd's main loop (the session
 * watcher feeds it); the audit reads the file through owners_load.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "owners.h"
#include "rst-util.h"

/* prefix "a.b.c.d/len" -> a node subnet of c's cluster, or false. */
static bool node_subnet(const struct roostd_conf *c, const char *prefix, struct in_addr *net,
			unsigned *len)
{
	uint32_t cm;

	if (cidr_parse(prefix, net, len, false) < 0 || *len != c->pod_len || !c->cluster_len ||
	    *len <= c->cluster_len)
		return false;
	cm = 0xffffffffu << (32 - c->cluster_len);
	return (ntohl(net->s_addr) & cm) == ntohl(c->cluster_net.s_addr);
}

static void ntop(struct in_addr a, char *buf, size_t len)
{
	inet_ntop(AF_INET, &a, buf, (socklen_t)len);
}

/* The name of the mesh neighbour at address a, or NULL. */
static const char *mesh_name(const struct roostd_conf *c, struct in_addr a)
{
	for (size_t i = 0; i < c->n_mesh; i++)
		if (c->mesh[i].address.s_addr == a.s_addr)
			return c->mesh[i].name;
	return NULL;
}

/* The end of owner_of and owner_of6: n the owner's name (NULL: none),
 * written into name, or when it has none its address via (family af). */
static bool owner_found(const char *n, int af, const void *via, char *name, size_t namelen)
{
	if (!n)
		return false;
	if (name && n[0])
		snprintf(name, namelen, "%s", n);
	else if (name)
		inet_ntop(af, via, name, (socklen_t)namelen);
	return true;
}

/* Who owns net: this node, a mesh entry's pod_cidr, a lease, or (with
 * learned) a first announcer. *via is the owner's address (this node's
 * own for its subnet), name its name or address. */
static bool owner_of(const struct roostd_conf *c, const struct bc_owner *learned, size_t nl,
		     struct in_addr net, unsigned len, struct in_addr *via, char *name,
		     size_t namelen)
{
	const char *n = NULL;

	if (!c->no_pods && c->pod_len == len && c->pod_net.s_addr == net.s_addr) {
		*via = c->address;
		n = c->name;
	}
	for (size_t i = 0; !n && i < c->n_mesh; i++)
		if (c->mesh[i].pod_len == len && c->mesh[i].pod_net.s_addr == net.s_addr) {
			*via = c->mesh[i].address;
			n = c->mesh[i].name;
		}
	for (size_t i = 0; !n && i < c->n_owners; i++)
		if (c->owners[i].len == len && c->owners[i].net.s_addr == net.s_addr) {
			*via = c->owners[i].via;
			n = c->owners[i].name;
		}
	for (size_t i = 0; !n && i < nl; i++)
		if (learned[i].len == len && learned[i].net.s_addr == net.s_addr) {
			*via = learned[i].via;
			n = learned[i].name;
		}
	return owner_found(n, AF_INET, via, name, namelen);
}

/* The route's BGP next hop (its gateway when BIRD did not list one). */
static bool route_next_hop(const struct bc_route *r, struct in_addr *ret)
{
	const char *a = r->bgp_next_hop[0] ? r->bgp_next_hop : r->via;

	return inet_pton(AF_INET, a, ret) == 1;
}

/* A session with another node: mesh, route reflector, reflector client. */
static bool node_session(const char *proto)
{
	return strncmp(proto, "node_", 5) == 0 || strncmp(proto, "rr_", 3) == 0 ||
	       strncmp(proto, "client_", 7) == 0 || strncmp(proto, "client6_", 8) == 0;
}

void owners_query(const struct roostd_conf *c, bool filtered, char *buf, size_t len)
{
	char cl[INET_ADDRSTRLEN], cl6[INET6_ADDRSTRLEN], sets[160] = "";
	bool both = c->cluster_len && conf_has_v6(c);

	if (c->cluster_len) {
		ntop(c->cluster_net, cl, sizeof(cl));
		snprintf(sets, sizeof(sets), "net ~ [ %s/%u{%u,%u} ]", cl, c->cluster_len,
			 c->pod_len, c->pod_len);
	}
	if (conf_has_v6(c)) {
		inet_ntop(AF_INET6, &c->cluster_net6, cl6, sizeof(cl6));
		snprintf(sets + strlen(sets), sizeof(sets) - strlen(sets),
			 "%snet ~ [ %s/%u{%u,%u} ]", both ? " || " : "", cl6, c->cluster_len6,
			 c->pod_len6, c->pod_len6);
	}
	snprintf(buf, len, "all%s where %s%s%s && source = RTS_BGP", filtered ? " filtered" : "",
		 both ? "(" : "", sets, both ? ")" : "");
}

static bool has_conflict(const struct owners_conflict *v, size_t n, const struct owners_conflict *x)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].subnet, x->subnet) && !strcmp(v[i].claimant, x->claimant))
			return true;
	return false;
}

/* Records filtered route r as a claim on the subnet whose owner owner_of
 * wrote into v[n].owner, by the claimant who (a name or an address), unless
 * the same claimant's claim on it is there already. Returns the new n. */
static size_t claim(struct owners_conflict *v, size_t n, const struct bc_route *r, const char *who)
{
	snprintf(v[n].subnet, sizeof(v[n].subnet), "%s", r->prefix);
	snprintf(v[n].session, sizeof(v[n].session), "%s", r->proto);
	snprintf(v[n].claimant, sizeof(v[n].claimant), "%s", who);
	return has_conflict(v, n, &v[n]) ? n : n + 1;
}

int owners_merge(const struct bc_owner *learned, size_t n_learned, const struct roostd_conf *c,
		 struct bc_owner **ret, size_t *ret_n)
{
	struct bc_owner *v = calloc(c->n_owners + n_learned + 1, sizeof(*v));
	size_t n = c->n_owners;

	if (!v)
		return -ENOMEM;
	if (c->n_owners)
		memcpy(v, c->owners, c->n_owners * sizeof(*v));
	for (size_t i = 0; i < n_learned; i++) {
		struct in_addr via;

		if (owner_of(c, NULL, 0, learned[i].net, learned[i].len, &via, NULL, 0))
			continue;
		if (learned[i].via.s_addr == c->address.s_addr)
			continue;
		v[n++] = learned[i];
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

long owners_conflicts(const struct roostd_conf *c, const struct bc_owner *learned,
		      size_t n_learned, const struct bc_route *filt, size_t n_filt,
		      struct owners_conflict **ret)
{
	struct owners_conflict *v = calloc(n_filt + 1, sizeof(*v));
	size_t n = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n_filt; i++) {
		struct in_addr net, via, nh;
		unsigned len;
		const char *who;
		char a[INET_ADDRSTRLEN];

		if (!node_subnet(c, filt[i].prefix, &net, &len) || !node_session(filt[i].proto) ||
		    !route_next_hop(&filt[i], &nh))
			continue;
		if (!owner_of(c, learned, n_learned, net, len, &via, v[n].owner, sizeof(v[n].owner)))
			continue;
		/* The owner's own route, filtered for another reason: no claim. */
		if (nh.s_addr == via.s_addr && via.s_addr != c->address.s_addr)
			continue;
		who = mesh_name(c, nh);
		if (!who) {
			ntop(nh, a, sizeof(a));
			who = a;
		}
		n = claim(v, n, &filt[i], who);
	}
	*ret = v;
	return (long)n;
}

/* ---- IPv6 ---------------------------------------------------------------------
 * The same rules for the IPv6 pod subnets: the owner is this node, a mesh
 * entry's pod_cidr6 (via its address6), else the first node whose route to
 * it BIRD accepted (via its global IPv6 next hop). */

static void ntop6(const struct in6_addr *a, char *buf, size_t len)
{
	inet_ntop(AF_INET6, a, buf, (socklen_t)len);
}

static bool eq6(const struct in6_addr *a, const struct in6_addr *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

/* prefix "x::/len" -> a node subnet of c's IPv6 cluster, or false. */
static bool node_subnet6(const struct roostd_conf *c, const char *prefix, struct in6_addr *net,
			 unsigned *len)
{
	char buf[INET6_ADDRSTRLEN];
	const char *slash = strchr(prefix, '/');
	char *end;
	unsigned long l;

	if (!conf_has_v6(c) || !slash || (size_t)(slash - prefix) >= sizeof(buf))
		return false;
	memcpy(buf, prefix, (size_t)(slash - prefix));
	buf[slash - prefix] = '\0';
	l = strtoul(slash + 1, &end, 10);
	if (inet_pton(AF_INET6, buf, net) != 1 || *end || slash[1] == '\0' ||
	    l != c->pod_len6 || l <= c->cluster_len6)
		return false;
	*len = (unsigned)l;
	for (unsigned b = 0; b < 128; b++) {
		unsigned bit = (0x80 >> (b % 8));
		bool x = net->s6_addr[b / 8] & bit, y = c->cluster_net6.s6_addr[b / 8] & bit;

		if ((b < c->cluster_len6 && x != y) || (b >= l && x))
			return false; /* outside the cluster, or host bits set */
	}
	return true;
}

/* The route's IPv6 BGP next hop: the first (global) address. */
static bool route_next_hop6(const struct bc_route *r, struct in6_addr *ret)
{
	char buf[INET6_ADDRSTRLEN];
	const char *a = r->bgp_next_hop[0] ? r->bgp_next_hop : r->via;
	size_t n = strcspn(a, " \t");

	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, a, n);
	buf[n] = '\0';
	return inet_pton(AF_INET6, buf, ret) == 1;
}

static const char *mesh_name6(const struct roostd_conf *c, const struct in6_addr *a)
{
	for (size_t i = 0; i < c->n_mesh; i++)
		if (eq6(&c->mesh[i].address6, a))
			return c->mesh[i].name;
	return NULL;
}

static bool owner_of6(const struct roostd_conf *c, const struct bc_owner6 *learned, size_t nl,
		      const struct in6_addr *net, unsigned len, struct in6_addr *via, char *name,
		      size_t namelen)
{
	const char *n = NULL;

	if (!c->no_pods && conf_has_v6(c) && c->pod_len6 == len && eq6(&c->pod_net6, net)) {
		*via = c->address6;
		n = c->name;
	}
	for (size_t i = 0; !n && i < c->n_mesh; i++)
		if (c->mesh[i].pod_len6 == len && eq6(&c->mesh[i].pod_net6, net)) {
			*via = c->mesh[i].address6;
			n = c->mesh[i].name;
		}
	for (size_t i = 0; !n && i < nl; i++)
		if (learned[i].len == len && eq6(&learned[i].net, net)) {
			*via = learned[i].via;
			n = learned[i].name;
		}
	return owner_found(n, AF_INET6, via, name, namelen);
}

bool owners_owner6(const struct roostd_conf *c, const struct bc_owner6 *learned, size_t nl,
		   const char *prefix, char *name, size_t namelen)
{
	struct in6_addr net, via;
	unsigned len;

	return node_subnet6(c, prefix, &net, &len) &&
	       owner_of6(c, learned, nl, &net, len, &via, name, namelen);
}

/* ---- a dual-stack reflector's clients and their IPv6 addresses ---- */

static bool reflector6(const struct roostd_conf *c)
{
	return c->reflector && c->address.s_addr && conf_has_v6(c) && c->rr_clients_len;
}

static bool in_clients(const struct roostd_conf *c, struct in_addr a)
{
	uint32_t m = c->rr_clients_len ? 0xffffffffu << (32 - c->rr_clients_len) : 0;

	return a.s_addr && (ntohl(a.s_addr) & m) == ntohl(c->rr_clients_net.s_addr);
}

static bool client6_fits(const struct roostd_conf *c, const struct bc_client6 *x)
{
	return reflector6(c) && in_clients(c, x->from) && x->from.s_addr != c->address.s_addr &&
	       !IN6_IS_ADDR_UNSPECIFIED(&x->via) && !IN6_IS_ADDR_LINKLOCAL(&x->via) &&
	       !IN6_IS_ADDR_MULTICAST(&x->via) && !IN6_IS_ADDR_LOOPBACK(&x->via) &&
	       !IN6_IS_ADDR_V4MAPPED(&x->via) && !eq6(&x->via, &c->address6);
}

int owners_clients6(const struct bc_client6 *v, size_t n, const struct roostd_conf *c,
		    struct bc_client6 **ret, size_t *ret_n)
{
	struct bc_client6 *w = calloc(n + 1, sizeof(*w));
	size_t k = 0;

	if (!w)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		bool dup = false;

		for (size_t j = 0; j < k && !dup; j++)
			dup = w[j].from.s_addr == v[i].from.s_addr || eq6(&w[j].via, &v[i].via);
		if (!dup && client6_fits(c, &v[i]))
			w[k++] = v[i];
	}
	*ret = w;
	*ret_n = k;
	return 0;
}

/* A route an IPv4 reflector client sent: its session's address. */
static bool client_route_from(const struct roostd_conf *c, const struct bc_route *r,
			      struct in_addr *ret)
{
	return strncmp(r->proto, "client_", 7) == 0 && inet_pton(AF_INET, r->from, ret) == 1 &&
	       in_clients(c, *ret);
}

int owners_merge6(const struct bc_owner6 *learned6, size_t n_learned6, const struct roostd_conf *c,
		  struct bc_owner6 **ret, size_t *ret_n)
{
	struct bc_owner6 *v = calloc(n_learned6 + 1, sizeof(*v));
	size_t n = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n_learned6 && conf_has_v6(c); i++) {
		struct in6_addr via;

		if (owner_of6(c, NULL, 0, &learned6[i].net, learned6[i].len, &via, NULL, 0) ||
		    eq6(&learned6[i].via, &c->address6))
			continue;
		v[n++] = learned6[i];
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

long owners_conflicts6(const struct roostd_conf *c, const struct bc_owner6 *learned6,
		       size_t n_learned6, const struct bc_route *filt, size_t n_filt,
		       struct owners_conflict **ret)
{
	struct owners_conflict *v = calloc(n_filt + 1, sizeof(*v));
	size_t n = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n_filt; i++) {
		struct in6_addr net, via, nh;
		unsigned len;
		const char *who;
		char a[INET6_ADDRSTRLEN];

		if (!node_subnet6(c, filt[i].prefix, &net, &len) || !node_session(filt[i].proto) ||
		    !route_next_hop6(&filt[i], &nh))
			continue;
		if (!owner_of6(c, learned6, n_learned6, &net, len, &via, v[n].owner,
			       sizeof(v[n].owner)))
			continue;
		/* The owner's own route, filtered for another reason: no claim. */
		if (eq6(&nh, &via) && !eq6(&via, &c->address6))
			continue;
		who = mesh_name6(c, &nh);
		if (!who) {
			ntop6(&nh, a, sizeof(a));
			who = a;
		}
		n = claim(v, n, &filt[i], who);
	}
	*ret = v;
	return (long)n;
}

/* ---- the file ----------------------------------------------------------------- */

/* Entry i (v) of a list in the file at path, into w[n] when it fits c
 * (else a log line): true when taken. */
typedef bool take_fn(const struct roostd_conf *c, const char *path, size_t i, json_t *v, void *w,
		     size_t n);

/* Reads the list key of the owners file at path (absent or unreadable:
 * none) into a calloc'ed array of size-byte entries, those take() keeps. */
static int parse_list(const struct roostd_conf *c, const char *path, const char *key, size_t size,
		      take_fn *take, void **ret, size_t *ret_n)
{
	json_error_t je;
	json_t *o = json_load_file(path, 0, &je), *v;
	void *w;
	size_t i, n = 0;

	*ret = NULL;
	*ret_n = 0;
	if (!o)
		return 0; /* none yet (or unreadable: learn again) */
	w = calloc(json_array_size(json_object_get(o, key)) + 1, size);
	if (!w) {
		json_decref(o);
		return -ENOMEM;
	}
	json_array_foreach(json_object_get(o, key), i, v)
	{
		if (take(c, path, i, v, w, n))
			n++;
	}
	json_decref(o);
	*ret = w;
	*ret_n = n;
	return 0;
}

static bool take_owner(const struct roostd_conf *c, const char *path, size_t i, json_t *v,
		       void *w, size_t n)
{
	const char *subnet = json_string_value(json_object_get(v, "subnet"));
	const char *owner = json_string_value(json_object_get(v, "owner"));
	const char *name = json_string_value(json_object_get(v, "name"));
	struct bc_owner *x = (struct bc_owner *)w + n;
	struct in_addr via;

	if (!subnet || !node_subnet(c, subnet, &x->net, &x->len) || !owner ||
	    inet_pton(AF_INET, owner, &x->via) != 1 || x->via.s_addr == 0 ||
	    x->via.s_addr == c->address.s_addr || owner_of(c, w, n, x->net, x->len, &via, NULL, 0)) {
		log_warn("owner: '%s' entry %zu (%s via %s) does not fit the configuration, dropped",
			 path, i, subnet ? subnet : "?", owner ? owner : "?");
		return false;
	}
	snprintf(x->name, sizeof(x->name), "%s", name && bc_name_ok(name) ? name : "");
	x->learned = true;
	return true;
}

static bool take_owner6(const struct roostd_conf *c, const char *path, size_t i, json_t *v,
			void *w, size_t n)
{
	const char *subnet = json_string_value(json_object_get(v, "subnet"));
	const char *owner = json_string_value(json_object_get(v, "owner"));
	const char *name = json_string_value(json_object_get(v, "name"));
	struct bc_owner6 *x = (struct bc_owner6 *)w + n;
	struct in6_addr via;

	if (!subnet || !node_subnet6(c, subnet, &x->net, &x->len) || !owner ||
	    inet_pton(AF_INET6, owner, &x->via) != 1 || IN6_IS_ADDR_UNSPECIFIED(&x->via) ||
	    IN6_IS_ADDR_LINKLOCAL(&x->via) || eq6(&x->via, &c->address6) ||
	    owner_of6(c, w, n, &x->net, x->len, &via, NULL, 0)) {
		log_warn("owner: '%s' IPv6 entry %zu (%s via %s) does not fit the configuration, dropped",
			 path, i, subnet ? subnet : "?", owner ? owner : "?");
		return false;
	}
	snprintf(x->name, sizeof(x->name), "%s", name && bc_name_ok(name) ? name : "");
	return true;
}

static bool take_client6(const struct roostd_conf *c, const char *path, size_t i, json_t *v,
			 void *w, size_t n)
{
	const char *from = json_string_value(json_object_get(v, "from"));
	const char *a6 = json_string_value(json_object_get(v, "address6"));
	const struct bc_client6 *k = w;
	struct bc_client6 *x = (struct bc_client6 *)w + n;

	if (!from || !a6 || inet_pton(AF_INET, from, &x->from) != 1 ||
	    inet_pton(AF_INET6, a6, &x->via) != 1 || !client6_fits(c, x)) {
		log_warn("owner: '%s' client entry %zu (%s, %s) does not fit the configuration, dropped",
			 path, i, from ? from : "?", a6 ? a6 : "?");
		return false;
	}
	for (size_t j = 0; j < n; j++)
		if (k[j].from.s_addr == x->from.s_addr || eq6(&k[j].via, &x->via))
			return false;
	return true;
}

static int parse_file(const struct roostd_conf *c, const char *path, struct bc_owner **ret,
		      size_t *ret_n)
{
	void *w;
	int r = parse_list(c, path, "learned", sizeof(**ret), take_owner, &w, ret_n);

	*ret = w;
	return r;
}

static int parse_file6(const struct roostd_conf *c, const char *path, struct bc_owner6 **ret,
		       size_t *ret_n)
{
	void *w;
	int r = parse_list(c, path, "learned6", sizeof(**ret), take_owner6, &w, ret_n);

	*ret = w;
	return r;
}

static int parse_clients6(const struct roostd_conf *c, const char *path, struct bc_client6 **ret,
			  size_t *ret_n)
{
	void *w;
	int r = parse_list(c, path, "clients6", sizeof(**ret), take_client6, &w, ret_n);

	*ret = w;
	return r;
}

int owners_load6(const struct roostd_conf *c, struct bc_owner6 **ret, size_t *ret_n)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/owners.json", c->state_dir);
	return parse_file6(c, path, ret, ret_n);
}

int owners_load(const struct roostd_conf *c, struct bc_owner **ret, size_t *ret_n)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/owners.json", c->state_dir);
	return parse_file(c, path, ret, ret_n);
}

/* A learned owner's entry in the file: net/len and via of family af. */
static json_t *owner_json(int af, const void *net, unsigned len, const void *via, const char *name)
{
	char a[INET6_ADDRSTRLEN], v[INET6_ADDRSTRLEN], p[INET6_ADDRSTRLEN + 8];

	inet_ntop(af, net, a, sizeof(a));
	inet_ntop(af, via, v, sizeof(v));
	snprintf(p, sizeof(p), "%s/%u", a, len);
	return json_pack("{s:s, s:s, s:s}", "subnet", p, "owner", v, "name", name);
}

/* Writes the learned owners (atomically, durably). */
static void save(const struct owners *o)
{
	json_t *root = json_object(), *list = json_array();
	char *text;
	int r = -ENOMEM;

	for (size_t i = 0; i < o->n_learned; i++) {
		const struct bc_owner *x = &o->learned[i];

		json_array_append_new(list, owner_json(AF_INET, &x->net, x->len, &x->via, x->name));
	}
	json_object_set_new(root, "learned", list);
	if (o->n_learned6) {
		list = json_array();
		for (size_t i = 0; i < o->n_learned6; i++) {
			const struct bc_owner6 *x = &o->learned6[i];

			json_array_append_new(list, owner_json(AF_INET6, &x->net, x->len, &x->via,
								 x->name));
		}
		json_object_set_new(root, "learned6", list);
	}
	if (o->n_clients6) {
		char f4[INET_ADDRSTRLEN], v6[INET6_ADDRSTRLEN];

		list = json_array();
		for (size_t i = 0; i < o->n_clients6; i++) {
			ntop(o->clients6[i].from, f4, sizeof(f4));
			ntop6(&o->clients6[i].via, v6, sizeof(v6));
			json_array_append_new(list, json_pack("{s:s, s:s}", "from", f4, "address6", v6));
		}
		json_object_set_new(root, "clients6", list);
	}
	text = json_dumps(root, JSON_INDENT(1));
	json_decref(root);
	if (text && (r = rst_mkdir_p(o->state_dir, 0755)) == 0)
		r = rst_write_atomic(o->path, text, strlen(text), 0644, 0);
	if (r < 0)
		log_warn("owner: cannot write '%s': %s", o->path, strerror(-r));
	free(text);
}

int owners_open(struct owners *o, const struct roostd_conf *c)
{
	int r;

	memset(o, 0, sizeof(*o));
	if (asprintf(&o->path, "%s/owners.json", c->state_dir) < 0) {
		o->path = NULL;
		return -ENOMEM;
	}
	o->state_dir = strdup(c->state_dir);
	if (!o->state_dir)
		return -ENOMEM;
	r = parse_file(c, o->path, &o->learned, &o->n_learned);
	if (r < 0)
		return r;
	o->absent_since_ms = calloc(o->n_learned + 1, sizeof(*o->absent_since_ms));
	if (!o->absent_since_ms)
		return -ENOMEM;
	r = parse_file6(c, o->path, &o->learned6, &o->n_learned6);
	if (r < 0)
		return r;
	o->absent6_since_ms = calloc(o->n_learned6 + 1, sizeof(*o->absent6_since_ms));
	if (!o->absent6_since_ms)
		return -ENOMEM;
	r = parse_clients6(c, o->path, &o->clients6, &o->n_clients6);
	if (r < 0)
		return r;
	o->client6_absent_ms = calloc(o->n_clients6 + 1, sizeof(*o->client6_absent_ms));
	if (!o->client6_absent_ms)
		return -ENOMEM;
	if (o->n_learned || o->n_learned6)
		log_info("owner: %zu subnet owner(s) learned earlier, from '%s'",
			 o->n_learned + o->n_learned6, o->path);
	return 0;
}

void owners_done(struct owners *o)
{
	free(o->path);
	free(o->state_dir);
	free(o->learned);
	free(o->absent_since_ms);
	free(o->learned6);
	free(o->absent6_since_ms);
	free(o->clients6);
	free(o->client6_absent_ms);
	free(o->conflicts);
	memset(o, 0, sizeof(*o));
}

/* ---- one look at BIRD ------------------------------------------------------------ */

/* The learned lists (learned, learned6, clients6) each keep a parallel
 * array of absent-since times; these keep the two in step. */

/* How long a learned entry outlives its last route. */
static long long hold_ms(const struct roostd_conf *c)
{
	return (long long)(c->gr_enabled ? c->gr_restart_time : 120) * 1000;
}

/* Removes entry i (of size bytes) from v and absent_ms, *n entries long. */
static void drop(void *v, long long *absent_ms, size_t *n, size_t i, size_t size)
{
	char *b = v;

	memmove(b + i * size, b + (i + 1) * size, (*n - i - 1) * size);
	memmove(&absent_ms[i], &absent_ms[i + 1], (*n - i - 1) * sizeof(*absent_ms));
	(*n)--;
}

/* Makes room for one more entry (of size bytes) after the n of v and of
 * *absent_ms: returns v moved, its new entry zeroed and absent, or NULL
 * when out of memory (v and *absent_ms still valid). */
static void *grow(void *v, long long **absent_ms, size_t n, size_t size)
{
	long long *t = realloc(*absent_ms, (n + 1) * sizeof(*t));
	char *w;

	if (!t)
		return NULL;
	*absent_ms = t;
	t[n] = 0;
	w = realloc(v, (n + 1) * size);
	if (w)
		memset(w + n * size, 0, size);
	return w;
}

/* Notes whether an entry's route is present now; true when it has been
 * absent for the hold time (forget it). */
static bool gone(long long *absent_ms, bool present, long long now_ms, long long hold)
{
	if (present)
		*absent_ms = 0;
	else if (!*absent_ms)
		*absent_ms = now_ms ? now_ms : 1;
	else if (now_ms - *absent_ms >= hold)
		return true;
	return false;
}

/* The log line of forget and forget6: net/len and via of family af. */
static void log_forgotten(int af, const void *net, unsigned len, const void *via, const char *name,
			  const char *why)
{
	char a[INET6_ADDRSTRLEN], v[INET6_ADDRSTRLEN];

	inet_ntop(af, net, a, sizeof(a));
	inet_ntop(af, via, v, sizeof(v));
	log_info("owner: forgotten subnet=%s/%u owner=%s (%s)", a, len, name[0] ? name : v, why);
}

static void forget(struct owners *o, size_t i, const char *why)
{
	const struct bc_owner *x = &o->learned[i];

	log_forgotten(AF_INET, &x->net, x->len, &x->via, x->name, why);
	drop(o->learned, o->absent_since_ms, &o->n_learned, i, sizeof(*o->learned));
	o->changed = true;
}

/* Learned owners whose route is gone for the restart time, or whom the
 * configuration or a lease now names, are forgotten. */
static void expire(struct owners *o, const struct roostd_conf *c, const struct bc_route *acc,
		   size_t n_acc, long long now_ms)
{
	for (size_t i = o->n_learned; i-- > 0;) {
		struct bc_owner *x = &o->learned[i];
		struct in_addr via;
		bool present = false;

		if (owner_of(c, NULL, 0, x->net, x->len, &via, NULL, 0)) {
			forget(o, i, "the configuration or the datastore names the owner now");
			continue;
		}
		for (size_t j = 0; j < n_acc && !present; j++) {
			struct in_addr net, nh;
			unsigned len;

			present = node_subnet(c, acc[j].prefix, &net, &len) &&
				  net.s_addr == x->net.s_addr && route_next_hop(&acc[j], &nh) &&
				  nh.s_addr == x->via.s_addr;
		}
		if (gone(&o->absent_since_ms[i], present, now_ms, hold_ms(c)))
			forget(o, i, "no route from it for the graceful restart time");
	}
}

/* The best route to an unowned node subnet makes its next hop the owner. */
static void learn(struct owners *o, const struct roostd_conf *c, const struct bc_route *acc,
		  size_t n_acc)
{
	for (size_t i = 0; i < n_acc; i++) {
		struct in_addr net, nh, via;
		unsigned len;
		struct bc_owner *w, *x;
		const char *name;

		if (!acc[i].best || !node_session(acc[i].proto) ||
		    !node_subnet(c, acc[i].prefix, &net, &len) || !route_next_hop(&acc[i], &nh) ||
		    nh.s_addr == 0 || nh.s_addr == c->address.s_addr ||
		    owner_of(c, o->learned, o->n_learned, net, len, &via, NULL, 0))
			continue;
		w = grow(o->learned, &o->absent_since_ms, o->n_learned, sizeof(*w));
		if (!w)
			return;
		o->learned = w;
		x = &o->learned[o->n_learned++];
		x->net = net;
		x->len = len;
		x->via = nh;
		x->learned = true;
		name = mesh_name(c, nh);
		snprintf(x->name, sizeof(x->name), "%s", name ? name : "");
		o->changed = true;
		log_info("owner: learned subnet=%s owner=%s address=%s session=%s (the first node to announce it)",
			 acc[i].prefix, name ? name : "-", acc[i].bgp_next_hop[0] ? acc[i].bgp_next_hop : acc[i].via,
			 acc[i].proto);
	}
}

static void forget6(struct owners *o, size_t i, const char *why)
{
	const struct bc_owner6 *x = &o->learned6[i];

	log_forgotten(AF_INET6, &x->net, x->len, &x->via, x->name, why);
	drop(o->learned6, o->absent6_since_ms, &o->n_learned6, i, sizeof(*o->learned6));
	o->changed = true;
}

static void expire6(struct owners *o, const struct roostd_conf *c, const struct bc_route *acc,
		    size_t n_acc, long long now_ms)
{
	for (size_t i = o->n_learned6; i-- > 0;) {
		struct bc_owner6 *x = &o->learned6[i];
		struct in6_addr via;
		bool present = false;

		if (owner_of6(c, NULL, 0, &x->net, x->len, &via, NULL, 0)) {
			forget6(o, i, "the configuration names the owner now");
			continue;
		}
		for (size_t j = 0; j < n_acc && !present; j++) {
			struct in6_addr net, nh;
			unsigned len;

			present = node_subnet6(c, acc[j].prefix, &net, &len) &&
				  eq6(&net, &x->net) && route_next_hop6(&acc[j], &nh) &&
				  eq6(&nh, &x->via);
		}
		if (gone(&o->absent6_since_ms[i], present, now_ms, hold_ms(c)))
			forget6(o, i, "no route from it for the graceful restart time");
	}
}

static void learn6(struct owners *o, const struct roostd_conf *c, const struct bc_route *acc,
		   size_t n_acc)
{
	for (size_t i = 0; i < n_acc; i++) {
		struct in6_addr net, nh, via;
		char a[INET6_ADDRSTRLEN];
		unsigned len;
		struct bc_owner6 *w, *x;
		const char *name;

		if (!acc[i].best || !node_session(acc[i].proto) ||
		    !node_subnet6(c, acc[i].prefix, &net, &len) || !route_next_hop6(&acc[i], &nh) ||
		    IN6_IS_ADDR_UNSPECIFIED(&nh) || IN6_IS_ADDR_LINKLOCAL(&nh) ||
		    eq6(&nh, &c->address6) ||
		    owner_of6(c, o->learned6, o->n_learned6, &net, len, &via, NULL, 0))
			continue;
		w = grow(o->learned6, &o->absent6_since_ms, o->n_learned6, sizeof(*w));
		if (!w)
			return;
		o->learned6 = w;
		x = &o->learned6[o->n_learned6++];
		x->net = net;
		x->len = len;
		x->via = nh;
		name = mesh_name6(c, &nh);
		snprintf(x->name, sizeof(x->name), "%s", name ? name : "");
		o->changed = true;
		ntop6(&nh, a, sizeof(a));
		log_info("owner: learned subnet=%s owner=%s address=%s session=%s (the first node to announce it)",
			 acc[i].prefix, name ? name : "-", a, acc[i].proto);
	}
}

static void forget_client6(struct owners *o, size_t i, const char *why)
{
	char f4[INET_ADDRSTRLEN], v6[INET6_ADDRSTRLEN];

	ntop(o->clients6[i].from, f4, sizeof(f4));
	ntop6(&o->clients6[i].via, v6, sizeof(v6));
	log_info("owner: forgotten client=%s address6=%s (%s)", f4, v6, why);
	drop(o->clients6, o->client6_absent_ms, &o->n_clients6, i, sizeof(*o->clients6));
	o->changed = true;
}

/* A dual-stack reflector: the first global IPv6 next hop of an accepted
 * route from an IPv4 client's session is that client's IPv6 address. */
static void clients6_update(struct owners *o, const struct roostd_conf *c,
			    const struct bc_route *acc, size_t n_acc, long long now_ms)
{
	for (size_t i = o->n_clients6; i-- > 0;) {
		bool present = false;

		if (!client6_fits(c, &o->clients6[i])) {
			forget_client6(o, i, "no longer a client of this reflector");
			continue;
		}
		for (size_t j = 0; j < n_acc && !present; j++) {
			struct in_addr from;
			struct in6_addr nh;

			present = client_route_from(c, &acc[j], &from) &&
				  from.s_addr == o->clients6[i].from.s_addr &&
				  route_next_hop6(&acc[j], &nh) && eq6(&nh, &o->clients6[i].via);
		}
		if (gone(&o->client6_absent_ms[i], present, now_ms, hold_ms(c)))
			forget_client6(o, i, "no IPv6 route from it for the graceful restart time");
	}
	for (size_t i = 0; i < n_acc && reflector6(c); i++) {
		struct bc_client6 x, *w;
		struct in6_addr net;
		unsigned len;
		bool known = false;
		char v6[INET6_ADDRSTRLEN];

		if (!client_route_from(c, &acc[i], &x.from) ||
		    !node_subnet6(c, acc[i].prefix, &net, &len) || !route_next_hop6(&acc[i], &x.via) ||
		    !client6_fits(c, &x))
			continue;
		for (size_t j = 0; j < o->n_clients6 && !known; j++)
			known = o->clients6[j].from.s_addr == x.from.s_addr ||
				eq6(&o->clients6[j].via, &x.via);
		if (known)
			continue;
		w = grow(o->clients6, &o->client6_absent_ms, o->n_clients6, sizeof(*w));
		if (!w)
			return;
		o->clients6 = w;
		o->clients6[o->n_clients6++] = x;
		o->changed = true;
		ntop6(&x.via, v6, sizeof(v6));
		log_info("owner: learned client=%s address6=%s session=%s (the first IPv6 next hop it announced)",
			 acc[i].from, v6, acc[i].proto);
	}
}

void owners_update(struct owners *o, const struct roostd_conf *c, const struct bc_route *acc,
		   size_t n_acc, const struct bc_route *filt, size_t n_filt, long long now_ms)
{
	struct owners_conflict *now = NULL;
	long n;
	bool was_changed = o->changed || o->retry;

	o->changed = false;
	o->retry = false;
	if (c->cluster_len) {
		expire(o, c, acc, n_acc, now_ms);
		learn(o, c, acc, n_acc);
	}
	expire6(o, c, acc, n_acc, now_ms);
	learn6(o, c, acc, n_acc);
	clients6_update(o, c, acc, n_acc, now_ms);
	if (o->changed && o->path)
		save(o);
	o->changed |= was_changed;

	n = owners_conflicts(c, o->learned, o->n_learned, filt, n_filt, &now);
	if (n < 0)
		return;
	if (conf_has_v6(c)) {
		struct owners_conflict *six = NULL, *both;
		long n6 = owners_conflicts6(c, o->learned6, o->n_learned6, filt, n_filt, &six);

		both = n6 > 0 ? realloc(now, (size_t)(n + n6 + 1) * sizeof(*now)) : now;
		if (n6 < 0 || !both) {
			free(six);
			free(now);
			return;
		}
		now = both;
		if (n6 > 0)
			memcpy(now + n, six, (size_t)n6 * sizeof(*now));
		n += n6;
		free(six);
	}
	for (long i = 0; i < n; i++)
		if (!has_conflict(o->conflicts, o->n_conflicts, &now[i])) {
			o->conflicts_total++;
			log_warn("conflict subnet=%s owner=%s claimant=%s session=%s: the claim is filtered, traffic stays with the owner",
				 now[i].subnet, now[i].owner, now[i].claimant, now[i].session);
		}
	for (size_t i = 0; i < o->n_conflicts; i++)
		if (!has_conflict(now, (size_t)n, &o->conflicts[i]))
			log_info("conflict resolved subnet=%s owner=%s claimant=%s",
				 o->conflicts[i].subnet, o->conflicts[i].owner,
				 o->conflicts[i].claimant);
	free(o->conflicts);
	o->conflicts = now;
	o->n_conflicts = (size_t)n;
}
