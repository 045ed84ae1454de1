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
 *    segment, so the next hop is used as the gateway as is);
 *  - announced addresses (bgp.announce) and per-peer export policy (export,
 *    communities, prepend): see "Announced addresses" below.
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

bool bc_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > BC_NAME_MAX)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
			return false;
	return true;
}

bool bc_dns_name_ok(const char *s)
{
	size_t n = strlen(s), label = 0;

	if (n == 0 || n > BC_DNS_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false; /* an empty label, or one ending in '-' */
			label = 0;
			continue;
		}
		if (!alnum && c != '-')
			return false;
		if (label == 0 && !alnum)
			return false; /* a label starts with a letter or digit */
		if (++label > 63)
			return false;
	}
	return s[n - 1] != '-' && s[n - 1] != '.';
}

void bc_name_from(const char *s, char out[BC_NAME_MAX + 1])
{
	uint32_t h = 2166136261u; /* FNV-1a, 32 bits */
	size_t i;

	if (bc_name_ok(s)) {
		strcpy(out, s);
		return;
	}
	for (const char *p = s; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	for (i = 0; s[i] && i < BC_NAME_MAX - 9; i++)
		out[i] = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ? s[i] : '-';
	snprintf(out + i, BC_NAME_MAX + 1 - i, "-%08x", h);
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

static bool password_ok(const char *s)
{
	size_t n = strnlen(s, BC_PASSWORD_MAX + 1);

	if (n > BC_PASSWORD_MAX)
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\')
			return false;
	return true;
}

static bool overlaps(struct in_addr a, unsigned alen, struct in_addr b, unsigned blen)
{
	unsigned len = alen < blen ? alen : blen;

	return (ip4(a) & mask4(len)) == (ip4(b) & mask4(len));
}

static bool v6_zero(const struct in6_addr *a)
{
	return IN6_IS_ADDR_UNSPECIFIED(a);
}

static bool v6_eq(const struct in6_addr *a, const struct in6_addr *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

/* Session i of the model (mesh, then reflectors, then peers): its name and
 * the address it runs between (IPv4 when both ends have one, else IPv6). */
static const char *session_addr(const struct bc_node *node, size_t i, struct in_addr *ret4,
				struct in6_addr *ret6)
{
	const struct bc_peer *p = NULL;
	const struct bc_ext_peer *e = NULL;

	if (i < node->n_mesh)
		p = &node->mesh[i];
	else if (i < node->n_mesh + node->n_route_reflectors)
		p = &node->route_reflectors[i - node->n_mesh];
	else
		e = &node->peers[i - node->n_mesh - node->n_route_reflectors];
	*ret4 = p ? p->address : e->address;
	*ret6 = p ? p->address6 : e->address6;
	if (ret4->s_addr && node->address.s_addr)
		*ret6 = in6addr_any;
	else
		ret4->s_addr = 0;
	return p ? p->name : e->name;
}

/* Every BGP session of the model goes to a distinct address. */
static int check_session_addresses(const struct bc_node *node, struct rst_err *reterr)
{
	size_t n = node->n_mesh + node->n_route_reflectors + node->n_peers;

	for (size_t i = 0; i < n; i++) {
		struct in_addr ai;
		struct in6_addr ai6;
		const char *ni = session_addr(node, i, &ai, &ai6);

		if ((ai.s_addr == 0 && v6_zero(&ai6)) || (ai.s_addr && ai.s_addr == node->address.s_addr) ||
		    (!v6_zero(&ai6) && v6_eq(&ai6, &node->address6)))
			return rst_err_set(reterr, EINVAL, NULL, 0,
					   "neighbour '%s' has no address or this node's own", ni);
		for (size_t j = 0; j < i; j++) {
			struct in_addr aj;
			struct in6_addr aj6;

			session_addr(node, j, &aj, &aj6);
			if ((ai.s_addr && ai.s_addr == aj.s_addr) ||
			    (!v6_zero(&ai6) && v6_eq(&ai6, &aj6)))
				return rst_err_set(reterr, EINVAL, NULL, 0,
						   "neighbour '%s' has the address of another session", ni);
		}
	}
	return 0;
}

static int check_names(const struct bc_peer *p, size_t n, const char *what,
		       struct rst_err *reterr)
{
	for (size_t i = 0; i < n; i++) {
		if (!bc_name_ok(p[i].name))
			return rst_err_set(reterr, EINVAL, NULL, 0,
					   "%s name '%s' is not 1-%d characters of [a-z0-9-]", what,
					   p[i].name, BC_NAME_MAX);
		for (size_t j = 0; j < i; j++)
			if (strcmp(p[i].name, p[j].name) == 0)
				return rst_err_set(reterr, EINVAL, NULL, 0,
						   "%s name '%s' is used twice", what, p[i].name);
	}
	return 0;
}

/* A node subnet of the cluster: node-sized, inside the cluster CIDR. */
static bool node_subnet_ok(const struct bc_node *node, struct in_addr net, unsigned len)
{
	return prefix_ok(net, len) && len == node->pod_len && len > node->cluster_len &&
	       (ip4(net) & mask4(node->cluster_len)) == ip4(node->cluster_net);
}

/* Mesh pod_cidr and owners: node subnets, each owned once, never ours. */
static int check_owners(const struct bc_node *node, struct rst_err *reterr)
{
	size_t n = node->n_mesh + node->n_owners;

#define BAD(...) rst_err_set(reterr, EINVAL, NULL, 0, __VA_ARGS__)
	for (size_t i = 0; i < n; i++) {
		struct in_addr net, via;
		unsigned len;
		const char *who;

		if (i < node->n_mesh) {
			if (!node->mesh[i].pod_len)
				continue;
			net = node->mesh[i].pod_net;
			len = node->mesh[i].pod_len;
			via = node->mesh[i].address;
			who = node->mesh[i].name;
		} else {
			const struct bc_owner *o = &node->owners[i - node->n_mesh];

			net = o->net;
			len = o->len;
			via = o->via;
			who = o->name;
			if (o->name[0] && !bc_name_ok(o->name))
				return BAD("owner name '%s' is not 1-%d characters of [a-z0-9-]",
					   o->name, BC_NAME_MAX);
		}
		if (!node_subnet_ok(node, net, len))
			return BAD("the subnet of '%s' is not a node-sized subnet of the cluster pod CIDR",
				   who);
		if (via.s_addr == 0 || via.s_addr == node->address.s_addr)
			return BAD("the owner of the subnet of '%s' has no address or this node's own",
				   who);
		if (bc_node_has_pods(node) && net.s_addr == node->pod_net.s_addr)
			return BAD("'%s' owns this node's own pod subnet", who);
		for (size_t j = 0; j < i; j++) {
			struct in_addr nj;

			if (j < node->n_mesh) {
				if (!node->mesh[j].pod_len)
					continue;
				nj = node->mesh[j].pod_net;
			} else {
				nj = node->owners[j - node->n_mesh].net;
			}
			if (nj.s_addr == net.s_addr)
				return BAD("the subnet of '%s' has two owners", who);
		}
	}
	return 0;
#undef BAD
}

static int check_ext_peer(const struct bc_node *node, size_t i, struct rst_err *reterr)
{
	const struct bc_ext_peer *p = &node->peers[i];

#define BAD(...) rst_err_set(reterr, EINVAL, NULL, 0, __VA_ARGS__)
	if (!bc_name_ok(p->name))
		return BAD("peer name '%s' is not 1-%d characters of [a-z0-9-]", p->name,
			   BC_NAME_MAX);
	for (size_t j = 0; j < i; j++)
		if (strcmp(p->name, node->peers[j].name) == 0)
			return BAD("peer name '%s' is used twice", p->name);
	if (p->asn == 0)
		return BAD("peer '%s': ASN 0 is reserved", p->name);
	/* Never echo the password: it must not reach a log. */
	if (!password_ok(p->password))
		return BAD("peer '%s': the password must be at most %d printable ASCII characters without '\"' or '\\'",
			   p->name, BC_PASSWORD_MAX);
	if (p->multihop > 255)
		return BAD("peer '%s': multihop must be 0-255", p->name);
	if (p->bfd_mode != BC_BFD_OFF && p->bfd_mode != BC_BFD_GRACEFUL &&
	    p->bfd_mode != BC_BFD_STRICT)
		return BAD("peer '%s': unknown BFD mode", p->name);
	if (p->import_limit < 1)
		return BAD("peer '%s': import limit must be at least 1", p->name);
	if (p->n_import > BC_IMPORT_MAX)
		return BAD("peer '%s': at most %d import prefixes", p->name, BC_IMPORT_MAX);
	for (size_t k = 0; k < p->n_import; k++) {
		if (!prefix_ok(p->import[k].net, p->import[k].len) || p->import[k].len == 0)
			return BAD("peer '%s': import prefix %zu is not a network address, or is a default route",
				   p->name, k);
		if (bc_node_has_v4(node) &&
		    overlaps(p->import[k].net, p->import[k].len, node->cluster_net,
			     node->cluster_len))
			return BAD("peer '%s': import prefix %zu overlaps the cluster pod CIDR",
				   p->name, k);
	}
	if (p->export != BC_EXPORT_BOTH && p->export != BC_EXPORT_PODS &&
	    p->export != BC_EXPORT_ANNOUNCE)
		return BAD("peer '%s': unknown export policy", p->name);
	if (p->n_communities > BC_COMMUNITY_MAX || p->n_large_communities > BC_COMMUNITY_MAX)
		return BAD("peer '%s': at most %d communities and %d large communities", p->name,
			   BC_COMMUNITY_MAX, BC_COMMUNITY_MAX);
	if (p->prepend > BC_PREPEND_MAX)
		return BAD("peer '%s': prepend must be 0-%d", p->name, BC_PREPEND_MAX);
	/* An iBGP peer would find its own AS in the path and drop the route. */
	if (p->prepend && p->asn == node->asn)
		return BAD("peer '%s': prepend is for eBGP peers only", p->name);
	return 0;
#undef BAD
}

/* bgp.announce: network addresses, not a default route, outside the
 * cluster pod CIDR, each once. */
static int check_announce(const struct bc_node *node, struct rst_err *reterr)
{
#define BAD(...) rst_err_set(reterr, EINVAL, NULL, 0, __VA_ARGS__)
	if (node->n_announce > BC_ANNOUNCE_MAX + BC_SVC_MAX)
		return BAD("at most %d announced prefixes", BC_ANNOUNCE_MAX + BC_SVC_MAX);
	if (node->n_announce && !bc_node_has_pods(node))
		return BAD("a node without a pod subnet announces no addresses");
	for (size_t i = 0; i < node->n_announce; i++) {
		const struct bc_announce *a = &node->announce[i];

		if (!prefix_ok(a->net, a->len) || a->len == 0)
			return BAD("announced prefix %zu is not a network address, or is a default route",
				   i);
		if (overlaps(a->net, a->len, node->cluster_net, node->cluster_len))
			return BAD("announced prefix %zu overlaps the cluster pod CIDR", i);
		if (a->when != BC_ANNOUNCE_ALWAYS && a->when != BC_ANNOUNCE_LOCAL)
			return BAD("announced prefix %zu: unknown condition", i);
		/* It would win over the routes that resolve a multihop next hop. */
		if (overlaps(a->net, a->len, node->address, 32))
			return BAD("announced prefix %zu covers the node's address", i);
		for (size_t k = 0; k < node->n_peers; k++)
			if (overlaps(a->net, a->len, node->peers[k].address, 32))
				return BAD("announced prefix %zu covers the address of peer '%s'", i,
					   node->peers[k].name);
		for (size_t j = 0; j < i; j++)
			if (node->announce[j].net.s_addr == a->net.s_addr &&
			    node->announce[j].len == a->len)
				return BAD("announced prefix %zu is listed twice", i);
	}
	return 0;
#undef BAD
}

/* ---- Dual-stack: IPv6 checks ----
 * IPv6 is on when the model has an IPv6 cluster CIDR. The node then has a
 * global IPv6 address on the segment (the next hop it announces) and an
 * IPv6 subnet (unless it is a reflector without pods). An IPv6-only node
 * (address 0.0.0.0) has a mesh only: sessions to route reflectors and
 * reflector clients run over IPv4. */

/* The bits of a past len are 0. */
static bool prefix6_ok(const struct in6_addr *a, unsigned len)
{
	if (len > 128)
		return false;
	for (unsigned b = len; b < 128; b++)
		if (a->s6_addr[b / 8] & (0x80 >> (b % 8)))
			return false;
	return true;
}

/* a and b share their first len bits. */
static bool same6(const struct in6_addr *a, const struct in6_addr *b, unsigned len)
{
	for (unsigned b8 = 0; b8 < len; b8++)
		if ((a->s6_addr[b8 / 8] ^ b->s6_addr[b8 / 8]) & (0x80 >> (b8 % 8)))
			return false;
	return true;
}

/* A global unicast address a node or peer can use on the segment. */
static bool addr6_ok(const struct in6_addr *a)
{
	return !v6_zero(a) && !IN6_IS_ADDR_LOOPBACK(a) && !IN6_IS_ADDR_MULTICAST(a) &&
	       !IN6_IS_ADDR_LINKLOCAL(a) && !IN6_IS_ADDR_V4MAPPED(a);
}

uint32_t bc_node_id6(const struct bc_node *node)
{
	unsigned lo = node->cluster_len6, hi = node->pod_len6;
	uint32_t id = 0;

	if (hi <= lo || hi > 128)
		return 0;
	/* The subnet's index: the bits between the two lengths, at most the
	 * last 32 of them. */
	if (hi - lo > 32)
		lo = hi - 32;
	for (unsigned b = lo; b < hi; b++)
		id = id << 1 | ((node->pod_net6.s6_addr[b / 8] >> (7 - b % 8)) & 1);
	return id;
}

/* A node subnet of the IPv6 cluster: node-sized, inside the cluster CIDR. */
static bool node_subnet6_ok(const struct bc_node *node, const struct in6_addr *net, unsigned len)
{
	return prefix6_ok(net, len) && len == node->pod_len6 && len > node->cluster_len6 &&
	       same6(net, &node->cluster_net6, node->cluster_len6);
}

/* The node has an IPv6 subnet of its own. */
static bool has_pods6(const struct bc_node *node)
{
	return bc_node_has_v6(node) && !node->no_pods;
}

static int validate6_peers(const struct bc_node *node, struct rst_err *reterr)
{
#define BAD(...) rst_err_set(reterr, EINVAL, NULL, 0, __VA_ARGS__)
	bool v4 = bc_node_has_v4(node), v6 = bc_node_has_v6(node);

	for (size_t i = 0; i < node->n_mesh; i++) {
		const struct bc_peer *p = &node->mesh[i];

		if (!v6 && (!v6_zero(&p->address6) || p->pod_len6))
			return BAD("mesh peer '%s' has IPv6 settings but the cluster has no IPv6 pod CIDR",
				   p->name);
		if (!v6_zero(&p->address6) && !addr6_ok(&p->address6))
			return BAD("mesh peer '%s': the IPv6 address is not a global unicast address",
				   p->name);
		if (!(v4 && p->address.s_addr) && v6_zero(&p->address6))
			return BAD("mesh peer '%s' has no address of a family this node has", p->name);
		if (!v6_zero(&p->address6) && v6_eq(&p->address6, &node->address6))
			return BAD("mesh peer '%s' has this node's own IPv6 address", p->name);
		for (size_t j = 0; j < i; j++)
			if (!v6_zero(&p->address6) && v6_eq(&node->mesh[j].address6, &p->address6))
				return BAD("mesh peer '%s' has the IPv6 address of another", p->name);
		if (!p->pod_len6)
			continue;
		if (v6_zero(&p->address6))
			return BAD("mesh peer '%s' has an IPv6 subnet but no IPv6 address", p->name);
		if (!node_subnet6_ok(node, &p->pod_net6, p->pod_len6))
			return BAD("the IPv6 subnet of '%s' is not a node-sized subnet of the cluster IPv6 pod CIDR",
				   p->name);
		if (has_pods6(node) && v6_eq(&p->pod_net6, &node->pod_net6))
			return BAD("'%s' owns this node's own IPv6 pod subnet", p->name);
		for (size_t j = 0; j < i; j++)
			if (node->mesh[j].pod_len6 && v6_eq(&node->mesh[j].pod_net6, &p->pod_net6))
				return BAD("the IPv6 subnet of '%s' has two owners", p->name);
	}
	/* A dual-stack client's session with a reflector runs over IPv4 (with
	 * an ipv6 channel), an IPv6-only client's over IPv6. */
	for (size_t i = 0; i < node->n_route_reflectors; i++) {
		const struct bc_peer *p = &node->route_reflectors[i];

		if (v4 && !p->address.s_addr)
			return BAD("route reflector '%s': a node with IPv4 reaches its route reflectors over IPv4",
				   p->name);
		if (!v4 && (p->address.s_addr || v6_zero(&p->address6)))
			return BAD("route reflector '%s': an IPv6-only node reaches its route reflectors over IPv6 (their IPv6 address only)",
				   p->name);
		if (!v6_zero(&p->address6) && (!v6 || !addr6_ok(&p->address6)))
			return BAD("route reflector '%s': an IPv6 address needs IPv6 on the node and a global unicast address",
				   p->name);
	}
	for (size_t i = 0; i < node->n_clients6; i++) {
		const struct bc_client6 *x = &node->clients6[i];

		if (!node->reflector || !v4 || !v6 || !addr6_ok(&x->via) ||
		    v6_eq(&x->via, &node->address6) || !x->from.s_addr ||
		    !overlaps(x->from, 32, node->rr_clients_net, node->rr_clients_len))
			return BAD("route reflector client IPv6 address %zu does not fit", i);
		for (size_t j = 0; j < i; j++)
			if (node->clients6[j].from.s_addr == x->from.s_addr ||
			    v6_eq(&node->clients6[j].via, &x->via))
				return BAD("route reflector client IPv6 address %zu is listed twice", i);
	}
	if (node->rr_clients_len6 &&
	    (!node->reflector || !v4 || !v6 ||
	     !prefix6_ok(&node->rr_clients_net6, node->rr_clients_len6) ||
	     node->rr_clients_len6 < 8 ||
	     !same6(&node->address6, &node->rr_clients_net6, node->rr_clients_len6)))
		return BAD("route reflector IPv6 clients: a dual-stack reflector's range of 8-128 bits that holds its IPv6 address");
	for (size_t i = 0; i < node->n_peers; i++) {
		const struct bc_ext_peer *p = &node->peers[i];

		if (!v6_zero(&p->address6) == !!p->address.s_addr)
			return BAD("peer '%s' needs exactly one address, IPv4 or IPv6", p->name);
		if (p->address.s_addr && !v4)
			return BAD("peer '%s' has an IPv4 address but this node has none", p->name);
		if (!v6_zero(&p->address6) && (!v6 || !addr6_ok(&p->address6)))
			return BAD("peer '%s': an IPv6 peer needs IPv6 on the node and a global unicast address",
				   p->name);
		if (p->n_import6 && v6_zero(&p->address6))
			return BAD("peer '%s': IPv6 import prefixes need a peer over IPv6", p->name);
		if (p->n_import && p->address.s_addr == 0)
			return BAD("peer '%s': IPv4 import prefixes need a peer over IPv4", p->name);
		if (p->n_import6 > BC_IMPORT_MAX)
			return BAD("peer '%s': at most %d import prefixes", p->name, BC_IMPORT_MAX);
		for (size_t k = 0; k < p->n_import6; k++) {
			const struct bc_prefix6 *x = &p->import6[k];

			if (!prefix6_ok(&x->net, x->len) || x->len == 0)
				return BAD("peer '%s': import prefix %zu is not a network address, or is a default route",
					   p->name, k);
			if (same6(&x->net, &node->cluster_net6,
				  x->len < node->cluster_len6 ? x->len : node->cluster_len6))
				return BAD("peer '%s': import prefix %zu overlaps the cluster IPv6 pod CIDR",
					   p->name, k);
		}
	}
	return 0;
#undef BAD
}

/* IPv6 first announcers: node subnets, not ours, not a mesh entry's, each
 * once, via a usable address that is not ours. */
static int check_owners6(const struct bc_node *node, struct rst_err *reterr)
{
#define BAD(...) rst_err_set(reterr, EINVAL, NULL, 0, __VA_ARGS__)
	for (size_t i = 0; i < node->n_owners6; i++) {
		const struct bc_owner6 *o = &node->owners6[i];
		const char *who = o->name[0] ? o->name : "?";

		if (o->name[0] && !bc_name_ok(o->name))
			return BAD("owner name '%s' is not 1-%d characters of [a-z0-9-]", o->name,
				   BC_NAME_MAX);
		if (!node_subnet6_ok(node, &o->net, o->len))
			return BAD("the IPv6 subnet of '%s' is not a node-sized subnet of the cluster IPv6 pod CIDR",
				   who);
		if (!addr6_ok(&o->via) || v6_eq(&o->via, &node->address6))
			return BAD("the owner of the IPv6 subnet of '%s' has no usable address or this node's own",
				   who);
		if (has_pods6(node) && v6_eq(&o->net, &node->pod_net6))
			return BAD("'%s' owns this node's own IPv6 pod subnet", who);
		for (size_t j = 0; j < node->n_mesh; j++)
			if (node->mesh[j].pod_len6 && v6_eq(&node->mesh[j].pod_net6, &o->net))
				return BAD("the IPv6 subnet of '%s' has two owners", who);
		for (size_t j = 0; j < i; j++)
			if (v6_eq(&node->owners6[j].net, &o->net))
				return BAD("the IPv6 subnet of '%s' has two owners", who);
	}
	return 0;
#undef BAD
}

static int validate6(const struct bc_node *node, struct rst_err *reterr)
{
	int r;

#define BAD(...) rst_err_set(reterr, EINVAL, NULL, 0, __VA_ARGS__)
	if (!bc_node_has_v6(node)) {
		if (!bc_node_has_v4(node))
			return BAD("node address is not set");
		if (!v6_zero(&node->address6) || node->pod_len6 || node->n_owners6)
			return BAD("node IPv6 settings need a cluster IPv6 pod CIDR");
		return validate6_peers(node, reterr);
	}
	if (!addr6_ok(&node->address6))
		return BAD("node IPv6 address is not set or not a global unicast address (a link-local next hop is not usable by the kernel route)");
	if (!prefix6_ok(&node->cluster_net6, node->cluster_len6) || node->cluster_len6 < 8 ||
	    node->cluster_len6 > 120)
		return BAD("cluster IPv6 pod CIDR is not a network address with a length of 8-120");
	if (node->pod_len6 <= node->cluster_len6 || node->pod_len6 > 124)
		return BAD("node IPv6 subnet length must be longer than the cluster IPv6 pod CIDR's, at most 124");
	if (has_pods6(node) && !node_subnet6_ok(node, &node->pod_net6, node->pod_len6))
		return BAD("node IPv6 pod subnet is not a network address inside the cluster IPv6 pod CIDR");
	if (!bc_node_has_v4(node)) {
		if (node->router_id.s_addr == 0)
			return BAD("an IPv6-only node needs a router id");
		if (node->no_pods || node->reflector)
			return BAD("an IPv6-only node has pods and is no route reflector (a reflector needs IPv4)");
		if (node->n_announce || node->n_static_routes)
			return BAD("an IPv6-only node announces no IPv4 addresses and has no flannel routes");
	}
	if ((r = validate6_peers(node, reterr)) < 0)
		return r;
	return check_owners6(node, reterr);
#undef BAD
}

int bc_node_validate(const struct bc_node *node, struct rst_err *reterr)
{
	int r;

#define BAD(...) rst_err_set(reterr, EINVAL, NULL, 0, __VA_ARGS__)
	if (!bc_name_ok(node->name))
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
	if (!bc_node_has_v4(node)) {
		/* IPv6-only: validate6 checks it */
	} else if (!prefix_ok(node->cluster_net, node->cluster_len) || node->cluster_len < 1) {
		return BAD("cluster pod CIDR is not a network address");
	} else if (bc_node_has_pods(node)) {
		if (!prefix_ok(node->pod_net, node->pod_len) || node->pod_len < 8)
			return BAD("node pod subnet is not a network address with a length of 8-32");
		if (node->cluster_len >= node->pod_len ||
		    (ip4(node->pod_net) & mask4(node->cluster_len)) != ip4(node->cluster_net))
			return BAD("node pod subnet is not inside the cluster pod CIDR");
	} else {
		if (node->pod_len <= node->cluster_len || node->pod_len > 32)
			return BAD("node subnet length must be longer than the cluster pod CIDR's, at most 32");
		if (!node->reflector)
			return BAD("a node without a pod subnet must be a route reflector");
		if (node->n_peers > 0)
			return BAD("a node without a pod subnet has nothing to announce to external peers");
	}
	if ((r = validate6(node, reterr)) < 0)
		return r;
	if (node->asn == 0 || node->cluster_asn == 0)
		return BAD("ASN 0 is reserved");
	if ((r = check_names(node->mesh, node->n_mesh, "mesh peer", reterr)) < 0 ||
	    (r = check_names(node->route_reflectors, node->n_route_reflectors, "route reflector",
			     reterr)) < 0)
		return r;
	if (node->n_route_reflectors > 0 && node->n_mesh > 0)
		return BAD("a route reflector client has no mesh sessions");
	if (node->n_route_reflectors > 0 && node->reflector)
		return BAD("a route reflector cannot also be a client of route reflectors");
	if (node->reflector) {
		if (!prefix_ok(node->rr_clients_net, node->rr_clients_len) ||
		    node->rr_clients_len < 8)
			return BAD("route reflector clients are not a network address with a length of 8-32");
		if (node->rr_cluster_id.s_addr == 0)
			return BAD("route reflector cluster id 0.0.0.0 is not allowed");
	}
	for (size_t i = 0; i < node->n_peers; i++)
		if ((r = check_ext_peer(node, i, reterr)) < 0)
			return r;
	if ((r = check_session_addresses(node, reterr)) < 0 || (r = check_owners(node, reterr)) < 0 ||
	    (r = check_announce(node, reterr)) < 0)
		return r;
	if (!password_ok(node->password) || !password_ok(node->rr_password))
		return BAD("the BGP password must be at most %d printable ASCII characters without '\"' or '\\'",
			   BC_PASSWORD_MAX);
	if ((node->bfd_mode != BC_BFD_OFF || node->n_peers > 0) &&
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

void bc_symbol(char *out, size_t len, const char *prefix, const char *name)
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

static void ntop(struct in_addr a, char out[INET_ADDRSTRLEN])
{
	inet_ntop(AF_INET, &a, out, INET_ADDRSTRLEN);
}

static bool any_peer_import(const struct bc_node *n)
{
	for (size_t i = 0; i < n->n_peers; i++)
		if (n->peers[i].n_import > 0)
			return true;
	return false;
}

/* A multihop peer over IPv4 (one over IPv6: any_multihop6). */
static bool any_multihop(const struct bc_node *n)
{
	for (size_t i = 0; i < n->n_peers; i++)
		if (n->peers[i].multihop > 0 && n->peers[i].address.s_addr)
			return true;
	return false;
}

static bool prefix_seen(const struct bc_node *n, size_t pi, size_t k)
{
	const struct bc_prefix *x = &n->peers[pi].import[k];

	for (size_t i = 0; i <= pi; i++)
		for (size_t j = 0; j < (i == pi ? k : n->peers[i].n_import); j++)
			if (n->peers[i].import[j].net.s_addr == x->net.s_addr &&
			    n->peers[i].import[j].len == x->len)
				return true;
	return false;
}

/* A BIRD prefix set of the peers' allow-lists, in config order, once each. */
static void render_peer_nets(const struct bc_node *n, FILE *f)
{
	const char *sep = "";
	char a[INET_ADDRSTRLEN];

	fprintf(f, "define PEER_NETS = [ ");
	for (size_t i = 0; i < n->n_peers; i++)
		for (size_t k = 0; k < n->peers[i].n_import; k++) {
			if (prefix_seen(n, i, k))
				continue;
			ntop(n->peers[i].import[k].net, a);
			fprintf(f, "%s%s/%u", sep, a, n->peers[i].import[k].len);
			sep = ", ";
		}
	fprintf(f, " ];   # bgp.peers[].import, all peers\n");
}

/* ---- Announced addresses and the export policy towards external peers ----
 *
 * bgp.announce prefixes are originated by two protocols of their own:
 * `announce_always` (static, BIRD's table only) and `announce_local` (direct:
 * BIRD follows the interface addresses through netlink, and a prefix exists
 * exactly while an interface that is up carries an address with that
 * prefix, so removing a VIP from lo withdraws it at once, without roostd).
 * Neither reaches the kernel (roost_to_kernel takes BGP routes only) nor
 * the mesh (roost_export sends the pod subnet only); external peers get them
 * through a filter of their own, tagged (CLUSTER_AS, 2, NODE_ID), next hop
 * self: the ToR sees one path per announcing node and can do ECMP.
 * A peer whose policy is the plain one (the pod subnet, no communities, no
 * prepend) keeps roost_export, so configs without the new keys render as
 * before. */

/* A BIRD prefix set of the announced prefixes with condition when, or all
 * of them (when < 0). */
static void render_announce_set(const struct bc_node *n, int when, FILE *f)
{
	char a[INET_ADDRSTRLEN];
	const char *sep = "";

	fprintf(f, "[ ");
	for (size_t i = 0; i < n->n_announce; i++) {
		if (when >= 0 && n->announce[i].when != (enum bc_announce_when)when)
			continue;
		ntop(n->announce[i].net, a);
		fprintf(f, "%s%s/%u", sep, a, n->announce[i].len);
		sep = ", ";
	}
	fprintf(f, " ]");
}

static void render_announce_nets(const struct bc_node *n, FILE *f)
{
	fprintf(f, "define ANNOUNCE_NETS = ");
	render_announce_set(n, -1, f);
	fprintf(f, ";   # bgp.announce\n");
}

static bool any_announce(const struct bc_node *n, enum bc_announce_when when)
{
	for (size_t i = 0; i < n->n_announce; i++)
		if (n->announce[i].when == when)
			return true;
	return false;
}

static bool peer_sends_pods(const struct bc_ext_peer *p)
{
	return p->export != BC_EXPORT_ANNOUNCE;
}

static bool peer_sends_announce(const struct bc_node *n, const struct bc_ext_peer *p)
{
	return p->export != BC_EXPORT_PODS && n->n_announce > 0;
}

/* The peer needs an export filter of its own (else roost_export). */
static bool peer_own_export(const struct bc_node *n, const struct bc_ext_peer *p)
{
	return !peer_sends_pods(p) || peer_sends_announce(n, p) || p->n_communities ||
	       p->n_large_communities || p->prepend;
}

static void render_announce_protocols(const struct bc_node *n, FILE *f)
{
	if (!n->n_announce)
		return;
	fprintf(f, "# Announced addresses (bgp.announce): to external peers only, never to\n"
		   "# the mesh or the kernel. Preference 250: above any other route to them.\n");
	if (any_announce(n, BC_ANNOUNCE_ALWAYS)) {
		fprintf(f, "# when = \"always\": unconditionally (a blackhole in BIRD's table only).\n"
			   "protocol static announce_always {\n"
			   "\tipv4 {\n"
			   "\t\tpreference 250;\n"
			   "\t};\n");
		for (size_t i = 0; i < n->n_announce; i++) {
			char a[INET_ADDRSTRLEN];

			if (n->announce[i].when != BC_ANNOUNCE_ALWAYS)
				continue;
			ntop(n->announce[i].net, a);
			fprintf(f, "\troute %s/%u blackhole;\n", a, n->announce[i].len);
		}
		fprintf(f, "}\n\n");
	}
	if (any_announce(n, BC_ANNOUNCE_LOCAL)) {
		fprintf(f, "# when = \"local\": while an interface that is up has an address with\n"
			   "# exactly this prefix (a VIP as a /32 on lo). BIRD follows the interface\n"
			   "# addresses: removing the address withdraws the route at once.\n"
			   "protocol direct announce_local {\n"
			   "\tipv4 {\n"
			   "\t\tpreference 250;\n"
			   "\t\timport where net ~ ");
		render_announce_set(n, BC_ANNOUNCE_LOCAL, f);
		fprintf(f, ";\n"
			   "\t};\n"
			   "}\n\n");
	}
}

static void render_export_filter(const struct bc_node *n, const struct bc_ext_peer *p, FILE *f)
{
	static const char *const what[] = {
		[BC_EXPORT_BOTH] = "both",
		[BC_EXPORT_PODS] = "pods",
		[BC_EXPORT_ANNOUNCE] = "announce",
	};
	char sym[BC_NAME_MAX + 32];
	bool pods = peer_sends_pods(p), ann = peer_sends_announce(n, p);
	bool always = any_announce(n, BC_ANNOUNCE_ALWAYS), local = any_announce(n, BC_ANNOUNCE_LOCAL);

	bc_symbol(sym, sizeof(sym), "roost_export_", p->name);
	fprintf(f, "# To peer %s, export \"%s\":\n", p->name, what[p->export]);
	if (pods)
		fprintf(f, "#  - this node's subnet, tagged (CLUSTER_AS, 1, NODE_ID)\n");
	if (ann)
		fprintf(f, "#  - the announced addresses, tagged (CLUSTER_AS, 2, NODE_ID)\n");
	if (!pods && !ann)
		fprintf(f, "#  - nothing: bgp.announce is empty\n");
	if (p->n_communities || p->n_large_communities)
		fprintf(f, "#  - with the peer's communities\n");
	if (p->prepend)
		fprintf(f, "#  - with %u more NODE_AS in the AS path\n", p->prepend);
	fprintf(f, "filter %s {\n", sym);
	if (pods || ann) {
		fprintf(f, "\t");
		if (pods)
			fprintf(f, "if proto = \"pods\" && net = OWN_POD_NET then {\n"
				   "\t\tbgp_large_community.add((CLUSTER_AS, 1, NODE_ID));\n"
				   "\t} else ");
		if (ann)
			fprintf(f, "if (%s%s%s) && net ~ ANNOUNCE_NETS then {\n"
				   "\t\tbgp_large_community.add((CLUSTER_AS, 2, NODE_ID));\n"
				   "\t} else ",
				always ? "proto = \"announce_always\"" : "",
				always && local ? " || " : "", local ? "proto = \"announce_local\"" : "");
		fprintf(f, "reject;\n");
		for (size_t i = 0; i < p->n_communities; i++)
			fprintf(f, "\tbgp_community.add((%u, %u));\n", p->communities[i].asn,
				p->communities[i].value);
		for (size_t i = 0; i < p->n_large_communities; i++)
			fprintf(f, "\tbgp_large_community.add((%u, %u, %u));\n",
				p->large_communities[i].global, p->large_communities[i].local1,
				p->large_communities[i].local2);
		for (unsigned i = 0; i < p->prepend; i++)
			fprintf(f, "\tbgp_path.prepend(NODE_AS);\n");
		fprintf(f, "\taccept;\n");
	} else {
		fprintf(f, "\treject;\n");
	}
	fprintf(f, "}\n\n");
}

static void render_globals6(const struct bc_node *n, FILE *f);

static void render_globals(const struct bc_node *n, FILE *f)
{
	char addr[INET_ADDRSTRLEN], pod[INET_ADDRSTRLEN], cluster[INET_ADDRSTRLEN];

	ntop(n->address, addr);
	ntop(n->pod_net, pod);
	ntop(n->cluster_net, cluster);

	fprintf(f, "log stderr all;\n");
	if (n->router_id.s_addr) {
		char rid[INET_ADDRSTRLEN];

		ntop(n->router_id, rid);
		fprintf(f, "router id %s;\n\n", rid);
	} else {
		fprintf(f, "router id %s;\n\n", addr);
	}
	fprintf(f, "# From roostd.conf: node, cluster and policy constants.\n");
	fprintf(f, "define CLUSTER_AS = %u;\n", n->cluster_asn);
	fprintf(f, "define NODE_AS = %u;\n", n->asn);
	if (!bc_node_has_v4(n)) {
		render_globals6(n, f);
		fprintf(f, "\n");
		return;
	}
	if (bc_node_has_pods(n))
		fprintf(f,
			"define NODE_ID = %u;       # index of this node's subnet in the cluster CIDR\n",
			bc_node_id(n));
	fprintf(f, "define NODE_ADDR = %s;\n", addr);
	if (bc_node_has_pods(n))
		fprintf(f, "define OWN_POD_NET = %s/%u;\n", pod, n->pod_len);
	else
		fprintf(f, "# No node.pod_cidr: this node reflects routes and has no pods.\n");
	fprintf(f, "define POD_NETS = [ %s/%u{%u,%u} ];\n", cluster, n->cluster_len, n->pod_len,
		n->pod_len);
	if (any_multihop(n))
		fprintf(f, "define CLUSTER_NETS = [ %s/%u+ ];   # the whole cluster CIDR\n", cluster,
			n->cluster_len);
	if (any_peer_import(n))
		render_peer_nets(n, f);
	if (n->n_announce)
		render_announce_nets(n, f);
	render_globals6(n, f);
	fprintf(f, "\n");
}

/* The kernel protocol (and, for multihop peers, what resolves their next
 * hops). */
static void render_kernel(const struct bc_node *n, FILE *f)
{
	static const char head[] =
		"# Install what BGP learned and roost_to_kernel allows, nothing else. Own\n"
		"# metric (%u): a second BIRD on the default metric cannot delete these\n"
		"# routes. Graceful restart: with `bird -R` the routes stay through a BIRD\n"
		"# restart.\n";

	if (!any_multihop(n)) {
		fprintf(f, head, n->kernel_metric);
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
		return;
	}
	/* A multihop peer's next hop is not on the segment: BIRD resolves it
	 * (gateway recursive) through master4, which then needs the node's own
	 * routes. One kernel protocol per kernel table, so this one learns. */
	fprintf(f, "# A multihop peer's next hop resolves through the node's own routes: the\n"
		   "# kernel's (learned, alien routes only) and the connected subnets, outside\n"
		   "# the cluster CIDR (roost_learn). roost_to_kernel and every BGP export take\n"
		   "# BGP routes only, so these stay in BIRD.\n"
		   "filter roost_learn {\n"
		   "\tif net.type != NET_IP4 then reject;\n"
		   "\tif net ~ CLUSTER_NETS then reject;\n"
		   "\taccept;\n"
		   "}\n\n");
	fprintf(f, head, n->kernel_metric);
	fprintf(f, "# It also learns the kernel's other routes, through roost_learn.\n");
	fprintf(f, "protocol kernel kernel4 {\n"
		   "\tmetric %u;\n"
		   "\tmerge paths on;\n"
		   "\tgraceful restart on;\n"
		   "\tlearn;\n"
		   "\tipv4 {\n"
		   "\t\timport filter roost_learn;\n"
		   "\t\texport filter roost_to_kernel;\n"
		   "\t};\n"
		   "}\n\n",
		n->kernel_metric);
	fprintf(f, "protocol direct connected {\n"
		   "\tipv4 {\n"
		   "\t\timport filter roost_learn;\n"
		   "\t};\n"
		   "}\n\n");
}

static void render_protocols6(const struct bc_node *n, FILE *f);

static void render_protocols(const struct bc_node *n, FILE *f)
{
	bool bfd = n->bfd_mode != BC_BFD_OFF;

	for (size_t i = 0; i < n->n_peers; i++)
		if (n->peers[i].bfd_mode != BC_BFD_OFF)
			bfd = true;

	fprintf(f, "protocol device {\n}\n\n");

	if (bc_node_has_v4(n) && bc_node_has_pods(n)) {
		fprintf(f, "# This node's pod subnet, originated once. The blackhole lives in BIRD's\n"
			   "# table only: the kernel already routes it to cni0.\n");
		fprintf(f, "protocol static pods {\n"
			   "\tipv4;\n"
			   "\troute OWN_POD_NET blackhole;\n"
			   "}\n\n");
	}
	render_announce_protocols(n, f);

	if (bc_node_has_v4(n))
		render_kernel(n, f);
	render_protocols6(n, f);

	if (n->n_static_routes) {
		fprintf(f, "# Nodes still on flannel host-gw (leases in the datastore without roost):\n"
			   "# their subnets via their addresses, to the kernel only (no BGP export\n"
			   "# takes a static route).\n"
			   "protocol static flannel_hostgw {\n"
			   "\tipv4;\n");
		for (size_t i = 0; i < n->n_static_routes; i++) {
			char a[INET_ADDRSTRLEN], v[INET_ADDRSTRLEN];

			ntop(n->static_routes[i].net, a);
			ntop(n->static_routes[i].via, v);
			fprintf(f, "\troute %s/%u via %s;\n", a, n->static_routes[i].len, v);
		}
		fprintf(f, "}\n\n");
	}

	if (bfd)
		fprintf(f, "# BFD sessions are requested by the BGP sessions below.\n"
			   "protocol bfd roost_bfd {\n}\n\n");
}

/* The ASN a mesh neighbour has: its own, or the cluster's. */
static uint32_t mesh_asn(const struct bc_node *n, const struct bc_peer *p)
{
	return p->asn ? p->asn : n->cluster_asn;
}

/* Who owns which subnet: one line per known owner (mesh pod_cidr, leases,
 * first announcers), then the addresses of exclusive owners, which announce
 * nothing else. */
static void render_owners(const struct bc_node *n, FILE *f)
{
	char a[INET_ADDRSTRLEN], v[INET_ADDRSTRLEN];
	const char *sep = "";
	bool any_exclusive = false;

	fprintf(f, "# Ownership: a route to a known node's subnet is accepted only with that\n"
		   "# node's address as next hop (bgp.mesh pod_cidr, a datastore lease, or the\n"
		   "# node that announced it first). A node whose subnet is known from the\n"
		   "# configuration or a lease announces nothing else. Any other claimant's\n"
		   "# route is filtered: `birdc show route filtered` shows it.\n");
	fprintf(f, "function roost_owner_ok()\n{\n");
	for (size_t i = 0; i < n->n_mesh; i++) {
		if (!n->mesh[i].pod_len)
			continue;
		ntop(n->mesh[i].pod_net, a);
		ntop(n->mesh[i].address, v);
		fprintf(f, "\tif net = %s/%u then return bgp_next_hop = %s;   # %s (bgp.mesh)\n", a,
			n->mesh[i].pod_len, v, n->mesh[i].name);
		any_exclusive = true;
	}
	for (size_t i = 0; i < n->n_owners; i++) {
		const struct bc_owner *o = &n->owners[i];

		ntop(o->net, a);
		ntop(o->via, v);
		fprintf(f, "\tif net = %s/%u then return bgp_next_hop = %s;   # %s%s\n", a, o->len, v,
			o->name[0] ? o->name : v, o->learned ? " (first announcer)" : " (lease)");
		any_exclusive |= o->exclusive;
	}
	if (any_exclusive) {
		fprintf(f, "\tif bgp_next_hop ~ [ ");
		for (size_t i = 0; i < n->n_mesh; i++)
			if (n->mesh[i].pod_len) {
				ntop(n->mesh[i].address, v);
				fprintf(f, "%s%s", sep, v);
				sep = ", ";
			}
		for (size_t i = 0; i < n->n_owners; i++) {
			bool seen = false;

			if (!n->owners[i].exclusive)
				continue;
			for (size_t j = 0; j < n->n_mesh && !seen; j++)
				seen = n->mesh[j].pod_len &&
				       n->mesh[j].address.s_addr == n->owners[i].via.s_addr;
			for (size_t j = 0; j < i && !seen; j++)
				seen = n->owners[j].exclusive &&
				       n->owners[j].via.s_addr == n->owners[i].via.s_addr;
			if (seen)
				continue;
			ntop(n->owners[i].via, v);
			fprintf(f, "%s%s", sep, v);
			sep = ", ";
		}
		fprintf(f, " ] then return false;\n");
	}
	fprintf(f, "\treturn true;\n}\n\n");
}

/* The checks every route to a pod subnet passes, from any node session. */
static void render_pod_checks(const struct bc_node *n, FILE *f)
{
	fprintf(f, "\tif net.type != NET_IP4 then reject;\n"
		   "\tif net.len = 0 then reject;\n");
	if (bc_node_has_pods(n))
		fprintf(f, "\tif net = OWN_POD_NET then reject;\n");
	fprintf(f, "\tif net !~ POD_NETS then reject;\n");
}

/* Sessions that carry reflected routes (next hop = the originator): a
 * client's sessions to its reflectors, and a reflector's mesh with the
 * other reflectors. Every other node session takes roost_import (next
 * hop = the neighbour); a pure reflector client has none. */
static bool uses_import_reflected(const struct bc_node *n)
{
	return n->n_route_reflectors > 0 || (n->reflector && n->n_mesh > 0);
}

/* A mesh neighbour of another AS: a reflector reflects what it sends too. */
static bool has_ebgp_mesh(const struct bc_node *n)
{
	for (size_t i = 0; i < n->n_mesh; i++)
		if (mesh_asn(n, &n->mesh[i]) != n->asn)
			return true;
	return false;
}

static void render_filters6(const struct bc_node *n, FILE *f);

static void render_filters(const struct bc_node *n, FILE *f)
{
	bool pods = bc_node_has_pods(n);

	if (!bc_node_has_v4(n)) {
		render_filters6(n, f);
		return;
	}
	render_owners(n, f);
	if (n->n_route_reflectors == 0) {
		fprintf(f, "# From %s: node-sized subnets of the cluster CIDR, never\n"
			   "# our own, never a default route. A node announces its own subnet: the\n"
			   "# next hop is the neighbour itself, and the subnet's owner if it has one.\n",
			n->reflector ? "route reflector clients" : "mesh neighbours");
		fprintf(f, "filter roost_import {\n");
		render_pod_checks(n, f);
		fprintf(f, "\tif bgp_next_hop != from then reject;\n"
			   "\tif !roost_owner_ok() then reject;\n"
			   "\taccept;\n"
			   "}\n\n");
	}
	if (uses_import_reflected(n)) {
		fprintf(f, "# From route reflectors: the same, but reflected routes keep their\n"
			   "# originator's next hop, which must be the subnet's owner.\n");
		fprintf(f, "filter roost_import_reflected {\n");
		render_pod_checks(n, f);
		fprintf(f, "\tif !roost_owner_ok() then reject;\n"
			   "\taccept;\n"
			   "}\n\n");
	}
	if (pods) {
		fprintf(f, "# Announce only this node's subnet, tagged (CLUSTER_AS, 1, NODE_ID).\n");
		fprintf(f, "filter roost_export {\n"
			   "\tif proto = \"pods\" && net = OWN_POD_NET then {\n"
			   "\t\tbgp_large_community.add((CLUSTER_AS, 1, NODE_ID));\n"
			   "\t\taccept;\n"
			   "\t}\n"
			   "\treject;\n"
			   "}\n\n");
	}
	if (n->reflector) {
		fprintf(f, "# Route reflector: our own subnet (if any) and the pod subnets learned\n"
			   "# inside the AS (empty AS path), with their next hop unchanged.\n");
		fprintf(f, "filter roost_reflect {\n");
		if (pods)
			fprintf(f, "\tif proto = \"pods\" && net = OWN_POD_NET then {\n"
				   "\t\tbgp_large_community.add((CLUSTER_AS, 1, NODE_ID));\n"
				   "\t\taccept;\n"
				   "\t}\n");
		fprintf(f, "\tif source = RTS_BGP && bgp_path.len = 0 && net ~ POD_NETS then accept;\n");
		if (has_ebgp_mesh(n))
			fprintf(f, "\t# and the nodes of other ASes, from their node_ sessions (eBGP)\n"
				   "\tif source = RTS_BGP && proto ~ \"node_*\" && net ~ POD_NETS then accept;\n");
		fprintf(f, "\treject;\n"
			   "}\n\n");
	}
	for (size_t i = 0; i < n->n_peers; i++) {
		const struct bc_ext_peer *p = &n->peers[i];
		char sym[BC_NAME_MAX + 32], a[INET_ADDRSTRLEN];

		if (!p->address.s_addr)
			continue; /* a peer over IPv6: render_filters6 */
		bc_symbol(sym, sizeof(sym), "roost_import_", p->name);
		fprintf(f, "# From peer %s: pod subnets as from nodes%s.\n", p->name,
			p->n_import ? ", and its allow-list" : "; nothing else");
		fprintf(f, "filter %s {\n"
			   "\tif net.type != NET_IP4 then reject;\n"
			   "\tif net.len = 0 then reject;\n",
			sym);
		if (pods)
			fprintf(f, "\tif net = OWN_POD_NET then reject;\n");
		fprintf(f, "\tif net ~ POD_NETS then accept;\n");
		if (p->n_import) {
			fprintf(f, "\tif net ~ [ ");
			for (size_t k = 0; k < p->n_import; k++) {
				ntop(p->import[k].net, a);
				fprintf(f, "%s%s/%u", k ? ", " : "", a, p->import[k].len);
			}
			fprintf(f, " ] then accept;\n");
		}
		fprintf(f, "\treject;\n"
			   "}\n\n");
		if (peer_own_export(n, p))
			render_export_filter(n, p, f);
	}
	fprintf(f, "# The kernel gets unicast BGP routes to pod subnets of other nodes and to\n"
		   "# the peers' allow-listed prefixes; never a default route, never our own\n"
		   "# subnet, never an unresolved (unreachable) next hop.\n");
	fprintf(f, "filter roost_to_kernel {\n");
	if (n->n_static_routes) {
		fprintf(f, "\tif proto = \"flannel_hostgw\" then {   # nodes still on flannel\n"
			   "\t\tif net.len = 0 then reject;\n");
		if (pods)
			fprintf(f, "\t\tif net = OWN_POD_NET then reject;\n");
		fprintf(f, "\t\tif net ~ POD_NETS then accept;\n"
			   "\t\treject;\n"
			   "\t}\n");
	}
	fprintf(f, "\tif source != RTS_BGP then reject;\n"
		   "\tif dest != RTD_UNICAST then reject;\n"
		   "\tif net.len = 0 then reject;\n");
	if (pods)
		fprintf(f, "\tif net = OWN_POD_NET then reject;\n");
	fprintf(f, "\tif net ~ POD_NETS then accept;\n");
	if (any_peer_import(n))
		fprintf(f, "\tif net ~ PEER_NETS then accept;\n");
	fprintf(f, "\treject;\n"
		   "}\n\n");
	render_filters6(n, f);
}

static const char *const bfd_comment[] = {
	[BC_BFD_OFF] = "off",
	[BC_BFD_GRACEFUL] = "graceful: a lost peer's routes stay for the restart time",
	[BC_BFD_STRICT] = "strict: a lost peer's routes go within the detection time",
};

static void render_session_opts(const struct bc_node *n, enum bc_bfd_mode bfd, FILE *f)
{
	fprintf(f, "\thold time %u;\n"
		   "\tkeepalive time %u;\n"
		   "\tconnect delay time 1;\n"
		   "\terror wait time 1, 30;\n",
		n->hold_time, n->keepalive_time);
	if (n->gr_enabled)
		fprintf(f, "\tgraceful restart on;\n\tgraceful restart time %u;\n",
			n->gr_restart_time);
	else
		fprintf(f, "\tgraceful restart aware;\n");
	fprintf(f, "\t# BFD %s\n", bfd_comment[bfd]);
	if (bfd != BC_BFD_OFF)
		fprintf(f, "\tbfd { interval %u ms; multiplier %u;%s };\n", n->bfd_interval_ms,
			n->bfd_multiplier, bfd == BC_BFD_GRACEFUL ? " graceful;" : "");
}

static void render_ext_peer6(const struct bc_node *n, const struct bc_ext_peer *p, FILE *f);

static void render_ext_peer(const struct bc_node *n, const struct bc_ext_peer *p, FILE *f)
{
	char sym[BC_NAME_MAX + 32], fsym[BC_NAME_MAX + 32], esym[BC_NAME_MAX + 32];
	char addr[INET_ADDRSTRLEN];
	bool ebgp = p->asn != n->asn;

	if (!p->address.s_addr) {
		render_ext_peer6(n, p, f);
		return;
	}
	bc_symbol(sym, sizeof(sym), "peer_", p->name);
	bc_symbol(fsym, sizeof(fsym), "roost_import_", p->name);
	if (peer_own_export(n, p))
		bc_symbol(esym, sizeof(esym), "roost_export_", p->name);
	else
		snprintf(esym, sizeof(esym), "roost_export");
	ntop(p->address, addr);
	fprintf(f, "# External peer %s: %s, %s%s%s.\n", p->name, ebgp ? "eBGP" : "iBGP",
		p->multihop ? "multihop" : "single hop", p->password[0] ? ", MD5 password" : "",
		p->ttl_security ? ", TTL security" : "");
	fprintf(f, "protocol bgp %s {\n"
		   "\tdescription \"peer %s\";\n"
		   "\tlocal NODE_ADDR as NODE_AS;\n"
		   "\tneighbor %s as %u;\n",
		sym, p->name, addr, p->asn);
	if (p->multihop)
		fprintf(f, "\tmultihop %u;\n", p->multihop);
	else
		fprintf(f, "\tdirect;\n");
	if (p->password[0])
		fprintf(f, "\tpassword \"%s\";\n", p->password);
	if (p->ttl_security)
		fprintf(f, "\tttl security on;\n");
	render_session_opts(n, p->bfd_mode, f);
	fprintf(f, "\tipv4 {\n"
		   "\t\tpreference 90;   # a pod subnet learned from the nodes wins\n"
		   "\t\tnext hop self;\n"
		   "\t\tgateway %s;\n"
		   "\t\timport filter %s;\n"
		   "\t\texport filter %s;\n"
		   "\t\treceive limit %u action block;\n"
		   "\t};\n"
		   "}\n\n",
		p->multihop ? "recursive" : "direct", fsym, esym, p->import_limit);
}

/* A template for sessions with other nodes: direct, next hop self unless
 * reflecting, node-policy import with routes kept when filtered (so
 * `show route filtered` and roostd see a conflicting claim). */
static void render_channel6(const struct bc_node *n, FILE *f, const char *import,
			   unsigned limit);

static void render_template(const struct bc_node *n, FILE *f, const char *name,
			    const char *password, const char *import, unsigned limit)
{
	fprintf(f, "template bgp %s {\n"
		   "\tlocal %s as NODE_AS;\n"
		   "\tdirect;\n",
		name, bc_node_has_v4(n) ? "NODE_ADDR" : "NODE_ADDR6");
	if (password[0])
		fprintf(f, "\tpassword \"%s\";\n", password);
	render_session_opts(n, n->bfd_mode, f);
	if (!bc_node_has_v4(n)) {
		render_channel6(n, f, import, limit);
		fprintf(f, "}\n\n");
		return;
	}
	fprintf(f, "\tipv4 {\n"
		   "%s"
		   "\t\tgateway direct;\n"
		   "\t\timport keep filtered on;\n"
		   "\t\timport filter %s;\n"
		   "\t\texport filter %s;\n"
		   "\t\treceive limit %u action block;\n"
		   "\t};\n",
		n->reflector ? "" : "\t\tnext hop self;\n", import,
		n->reflector ? "roost_reflect" : "roost_export", limit);
	render_channel6(n, f, import, limit);
	fprintf(f, "}\n\n");
}

static void render_neighbor(const struct bc_node *n, FILE *f, const char *sym,
			    const char *tmpl, const char *what, const struct bc_peer *p)
{
	char addr[INET6_ADDRSTRLEN], as[16];
	uint32_t asn = mesh_asn(n, p);
	/* IPv4 when both ends have an IPv4 address, else IPv6. */
	bool over6 = !(bc_node_has_v4(n) && p->address.s_addr);

	if (over6)
		inet_ntop(AF_INET6, &p->address6, addr, sizeof(addr));
	else
		ntop(p->address, addr);
	if (asn == n->asn)
		snprintf(as, sizeof(as), "NODE_AS");
	else
		snprintf(as, sizeof(as), "%u", asn);
	fprintf(f, "protocol bgp %s from %s {\n"
		   "\tdescription \"%s %s\";\n",
		sym, tmpl, what, p->name);
	if (over6 && bc_node_has_v4(n))
		fprintf(f, "\tlocal NODE_ADDR6 as NODE_AS;   # an IPv6-only neighbour\n");
	fprintf(f, "\tneighbor %s as %s;\n"
		   "}\n\n",
		addr, as);
}

static void render_reflector6(const struct bc_node *n, FILE *f, const char *cid);

static void render_bgp(const struct bc_node *n, FILE *f)
{
	char sym[BC_NAME_MAX + 16], addr[INET_ADDRSTRLEN];
	/* Sessions that carry other nodes' routes (from reflectors, between
	 * reflectors) take up to bgp.import_limit; a node's own, a handful. */
	bool reflected = uses_import_reflected(n);

	if (n->reflector)
		fprintf(f, "# BGP on the shared segment: single hop (direct). A route reflector\n"
			   "# never rewrites the next hop of what it reflects: no next hop self.\n"
			   "# Short connect and error waits: a blip must not cost a minute.\n");
	else
		fprintf(f, "# BGP between nodes on the shared segment: single hop (direct), next hop\n"
			   "# self. Short connect and error waits: a blip must not cost a minute.\n");
	render_template(n, f, "roost_node", n->password,
			reflected ? "roost_import_reflected" : "roost_import",
			reflected ? n->import_limit : BC_NODE_ROUTE_LIMIT);

	for (size_t i = 0; i < n->n_mesh; i++) {
		bc_symbol(sym, sizeof(sym), "node_", n->mesh[i].name);
		render_neighbor(n, f, sym, "roost_node",
				n->reflector ? "route reflector" : "mesh node", &n->mesh[i]);
	}
	for (size_t i = 0; i < n->n_route_reflectors; i++) {
		bc_symbol(sym, sizeof(sym), "rr_", n->route_reflectors[i].name);
		render_neighbor(n, f, sym, "roost_node", "route reflector",
				&n->route_reflectors[i]);
	}
	if (n->reflector) {
		char cid[INET_ADDRSTRLEN];

		ntop(n->rr_clients_net, addr);
		ntop(n->rr_cluster_id, cid);
		fprintf(f, "# Route reflector clients: nodes, each announcing its own subnet.\n");
		render_template(n, f, "roost_client", n->rr_password, "roost_import",
				BC_NODE_ROUTE_LIMIT);
		fprintf(f, "# Route reflector: any iBGP speaker in %s/%u may connect; its session\n"
			   "# shows up as client_<N>. Routes keep their originator's next hop.\n",
			addr, n->rr_clients_len);
		fprintf(f, "protocol bgp reflector from roost_client {\n"
			   "\tdescription \"route reflector for %s/%u\";\n"
			   "\tneighbor range %s/%u internal;\n"
			   "\tdynamic name \"client_\";\n"
			   "\trr client;\n"
			   "\trr cluster id %s;\n"
			   "}\n\n",
			addr, n->rr_clients_len, addr, n->rr_clients_len, cid);
		render_reflector6(n, f, cid);
	}
	for (size_t i = 0; i < n->n_peers; i++)
		render_ext_peer(n, &n->peers[i], f);
}

/* ---- Dual-stack: the IPv6 half ----
 *
 * IPv6 pod subnets travel on the same BGP sessions as IPv4 ones, in an
 * `ipv6` channel (MP-BGP, RFC 4760): one session per neighbour, run between
 * the IPv4 addresses when both ends have one, else between the IPv6 ones
 * (IPv6-only nodes). The IPv6 next hop is always the node's global IPv6
 * address on the segment (`next hop address NODE_ADDR6`: an IPv4 session
 * has no IPv6 source address to default to). BIRD also sends its
 * link-local address as a second next hop on a single-hop session; in
 * `gateway direct` mode it resolves the global one first, so the kernel
 * route goes via the owner's global address. The policy is IPv4's, with
 * IPv6 sets: roost_import6 (node-sized subnets of the IPv6 cluster CIDR,
 * never ours, never ::/0, the neighbour's own IPv6 address as next hop,
 * ownership), roost_export6 (our IPv6 subnet, the same large community),
 * static pods6, kernel6 with roost's metric. Nothing here is rendered
 * unless the model has an IPv6 cluster CIDR. */

static void ntop6(const struct in6_addr *a, char out[INET6_ADDRSTRLEN])
{
	inet_ntop(AF_INET6, a, out, INET6_ADDRSTRLEN);
}

static bool any_peer_import6(const struct bc_node *n)
{
	for (size_t i = 0; i < n->n_peers; i++)
		if (n->peers[i].n_import6 > 0)
			return true;
	return false;
}

static bool prefix6_seen(const struct bc_node *n, size_t pi, size_t k)
{
	const struct bc_prefix6 *x = &n->peers[pi].import6[k];

	for (size_t i = 0; i <= pi; i++)
		for (size_t j = 0; j < (i == pi ? k : n->peers[i].n_import6); j++)
			if (v6_eq(&n->peers[i].import6[j].net, &x->net) &&
			    n->peers[i].import6[j].len == x->len)
				return true;
	return false;
}

/* A multihop peer over IPv6: its next hop resolves through master6. */
static bool any_multihop6(const struct bc_node *n)
{
	for (size_t i = 0; i < n->n_peers; i++)
		if (n->peers[i].multihop > 0 && !v6_zero(&n->peers[i].address6))
			return true;
	return false;
}

static void render_globals6(const struct bc_node *n, FILE *f)
{
	char a[INET6_ADDRSTRLEN];
	const char *sep = "";

	if (!bc_node_has_v6(n))
		return;
	if (!bc_node_has_v4(n) && has_pods6(n))
		fprintf(f, "define NODE_ID = %u;       # index of this node's IPv6 subnet in the cluster CIDR\n",
			bc_node_id6(n));
	ntop6(&n->address6, a);
	fprintf(f, "define NODE_ADDR6 = %s;   # the IPv6 next hop this node announces\n", a);
	if (has_pods6(n)) {
		ntop6(&n->pod_net6, a);
		fprintf(f, "define OWN_POD_NET6 = %s/%u;\n", a, n->pod_len6);
	}
	ntop6(&n->cluster_net6, a);
	fprintf(f, "define POD_NETS6 = [ %s/%u{%u,%u} ];\n", a, n->cluster_len6, n->pod_len6,
		n->pod_len6);
	if (any_multihop6(n))
		fprintf(f, "define CLUSTER_NETS6 = [ %s/%u+ ];   # the whole cluster IPv6 CIDR\n", a,
			n->cluster_len6);
	if (!any_peer_import6(n))
		return;
	fprintf(f, "define PEER_NETS6 = [ ");
	for (size_t i = 0; i < n->n_peers; i++)
		for (size_t k = 0; k < n->peers[i].n_import6; k++) {
			if (prefix6_seen(n, i, k))
				continue;
			ntop6(&n->peers[i].import6[k].net, a);
			fprintf(f, "%s%s/%u", sep, a, n->peers[i].import6[k].len);
			sep = ", ";
		}
	fprintf(f, " ];   # bgp.peers[].import of the peers over IPv6\n");
}

/* The IPv6 next hop a node session may carry: the neighbour's own IPv6
 * address (its bgp.mesh address6 on an IPv4 session, the session's address
 * on an IPv6 one). A route reflector client has none: reflected routes keep
 * their originator's next hop (roost_import6_reflected). */
static void render_nh6(const struct bc_node *n, FILE *f)
{
	char v[INET6_ADDRSTRLEN], from[INET_ADDRSTRLEN];

	if (n->n_route_reflectors)
		return;
	fprintf(f, "# IPv6 routes: a neighbour announces its own global IPv6 address as next\n"
		   "# hop; on an IPv4 session that is its bgp.mesh address6.\n"
		   "function roost_nh6_ok()\n{\n");
	for (size_t i = 0; i < n->n_mesh; i++) {
		const struct bc_peer *p = &n->mesh[i];

		if (!bc_node_has_v4(n) || !p->address.s_addr || v6_zero(&p->address6))
			continue;
		ntop(p->address, from);
		ntop6(&p->address6, v);
		fprintf(f, "\tif from = %s then return bgp_next_hop = %s;   # %s\n", from, v,
			p->name);
	}
	for (size_t i = 0; i < n->n_clients6; i++) {
		ntop(n->clients6[i].from, from);
		ntop6(&n->clients6[i].via, v);
		fprintf(f, "\tif from = %s then return bgp_next_hop = %s;   # a client's first IPv6 next hop\n",
			from, v);
	}
	if (n->n_clients6) {
		fprintf(f, "\tif bgp_next_hop ~ [ ");
		for (size_t i = 0; i < n->n_clients6; i++) {
			ntop6(&n->clients6[i].via, v);
			fprintf(f, "%s%s", i ? ", " : "", v);
		}
		fprintf(f, " ] then return false;   # another client's address\n");
	}
	if (n->reflector && bc_node_has_v4(n) && n->rr_clients_len6) {
		ntop(n->rr_clients_net, from);
		ntop6(&n->rr_clients_net6, v);
		fprintf(f, "\t# a dual-stack client (IPv4 session): its IPv6 next hop on the segment,\n"
			   "\t# in bgp.reflector.clients6; ownership decides the rest. An IPv6-only\n"
			   "\t# client (IPv6 session, client6_*) announces its own address, below.\n"
			   "\tif from ~ %s/%u then return bgp_next_hop ~ %s/%u;\n",
			from, n->rr_clients_len, v, n->rr_clients_len6);
	} else if (n->reflector && bc_node_has_v4(n)) {
		ntop(n->rr_clients_net, from);
		fprintf(f, "\tif from ~ %s/%u then return true;   # a reflector client: on the segment, ownership decides\n",
			from, n->rr_clients_len);
	}
	fprintf(f, "\treturn bgp_next_hop = from;\n"
		   "}\n\n");
}

/* Who owns which IPv6 subnet (bgp.mesh pod_cidr6, first announcers). */
static void render_owners6(const struct bc_node *n, FILE *f)
{
	char a[INET6_ADDRSTRLEN], v[INET6_ADDRSTRLEN];
	const char *sep = "";
	bool any = false;

	render_nh6(n, f);
	if (n->n_owners6)
		fprintf(f, "# IPv6 ownership: a known node's IPv6 subnet only via that node's IPv6\n"
			   "# address (bgp.mesh pod_cidr6, or the node that announced it first); a\n"
			   "# node known from bgp.mesh announces nothing else.\n");
	else
		fprintf(f, "# IPv6 ownership: a known node's IPv6 subnet only via that node's IPv6\n"
			   "# address (bgp.mesh pod_cidr6); such a node announces nothing else.\n");
	fprintf(f, "function roost_owner6_ok()\n{\n");
	for (size_t i = 0; i < n->n_mesh; i++) {
		if (!n->mesh[i].pod_len6)
			continue;
		ntop6(&n->mesh[i].pod_net6, a);
		ntop6(&n->mesh[i].address6, v);
		fprintf(f, "\tif net = %s/%u then return bgp_next_hop = %s;   # %s (bgp.mesh)\n", a,
			n->mesh[i].pod_len6, v, n->mesh[i].name);
		any = true;
	}
	for (size_t i = 0; i < n->n_static_routes6; i++) {
		ntop6(&n->static_routes6[i].net, a);
		ntop6(&n->static_routes6[i].via, v);
		fprintf(f, "\tif net = %s/%u then return bgp_next_hop = %s;   # a flannel host-gw node (lease)\n",
			a, n->static_routes6[i].len, v);
		any = true;
	}
	for (size_t i = 0; i < n->n_owners6; i++) {
		const struct bc_owner6 *o = &n->owners6[i];

		ntop6(&o->net, a);
		ntop6(&o->via, v);
		fprintf(f, "\tif net = %s/%u then return bgp_next_hop = %s;   # %s (first announcer)\n",
			a, o->len, v, o->name[0] ? o->name : v);
	}
	if (any) {
		fprintf(f, "\tif bgp_next_hop ~ [ ");
		for (size_t i = 0; i < n->n_mesh; i++)
			if (n->mesh[i].pod_len6) {
				ntop6(&n->mesh[i].address6, v);
				fprintf(f, "%s%s", sep, v);
				sep = ", ";
			}
		for (size_t i = 0; i < n->n_static_routes6; i++) {
			ntop6(&n->static_routes6[i].via, v);
			fprintf(f, "%s%s", sep, v);
			sep = ", ";
		}
		fprintf(f, " ] then return false;\n");
	}
	fprintf(f, "\treturn true;\n}\n\n");
}

static void render_pod_checks6(const struct bc_node *n, FILE *f)
{
	fprintf(f, "\tif net.type != NET_IP6 then reject;\n"
		   "\tif net.len = 0 then reject;\n");
	if (has_pods6(n))
		fprintf(f, "\tif net = OWN_POD_NET6 then reject;\n");
	fprintf(f, "\tif net !~ POD_NETS6 then reject;\n");
}

static void render_export_filter6(const struct bc_node *n, const struct bc_ext_peer *p, FILE *f)
{
	char sym[BC_NAME_MAX + 32];

	bc_symbol(sym, sizeof(sym), "roost_export6_", p->name);
	fprintf(f, "# To peer %s: this node's IPv6 subnet, tagged (CLUSTER_AS, 1, NODE_ID), with\n"
		   "# the peer's communities and prepends (announced addresses are IPv4 only).\n"
		   "filter %s {\n",
		p->name, sym);
	if (p->export == BC_EXPORT_ANNOUNCE) {
		fprintf(f, "\treject;\n}\n\n");
		return;
	}
	fprintf(f, "\tif proto != \"pods6\" || net != OWN_POD_NET6 then reject;\n"
		   "\tbgp_large_community.add((CLUSTER_AS, 1, NODE_ID));\n");
	for (size_t i = 0; i < p->n_communities; i++)
		fprintf(f, "\tbgp_community.add((%u, %u));\n", p->communities[i].asn,
			p->communities[i].value);
	for (size_t i = 0; i < p->n_large_communities; i++)
		fprintf(f, "\tbgp_large_community.add((%u, %u, %u));\n",
			p->large_communities[i].global, p->large_communities[i].local1,
			p->large_communities[i].local2);
	for (unsigned i = 0; i < p->prepend; i++)
		fprintf(f, "\tbgp_path.prepend(NODE_AS);\n");
	fprintf(f, "\taccept;\n}\n\n");
}

static void render_filters6(const struct bc_node *n, FILE *f)
{
	bool pods = has_pods6(n);

	if (!bc_node_has_v6(n))
		return;
	render_owners6(n, f);
	if (n->n_route_reflectors == 0) {
		fprintf(f, "# IPv6 from %s: node-sized subnets of the cluster IPv6 CIDR,\n"
			   "# never our own, never ::/0, via the neighbour's own IPv6 address.\n",
			n->reflector ? "route reflector clients" : "mesh neighbours");
		fprintf(f, "filter roost_import6 {\n");
		render_pod_checks6(n, f);
		fprintf(f, "\tif !roost_nh6_ok() then reject;\n"
			   "\tif !roost_owner6_ok() then reject;\n"
			   "\taccept;\n"
			   "}\n\n");
	}
	if (uses_import_reflected(n)) {
		fprintf(f, "# IPv6 from route reflectors: reflected routes keep their originator's\n"
			   "# next hop, which must be the subnet's owner.\n");
		fprintf(f, "filter roost_import6_reflected {\n");
		render_pod_checks6(n, f);
		fprintf(f, "\tif !roost_owner6_ok() then reject;\n"
			   "\taccept;\n"
			   "}\n\n");
	}
	if (pods) {
		fprintf(f, "# Announce only this node's IPv6 subnet, tagged (CLUSTER_AS, 1, NODE_ID).\n");
		fprintf(f, "filter roost_export6 {\n"
			   "\tif proto = \"pods6\" && net = OWN_POD_NET6 then {\n"
			   "\t\tbgp_large_community.add((CLUSTER_AS, 1, NODE_ID));\n"
			   "\t\taccept;\n"
			   "\t}\n"
			   "\treject;\n"
			   "}\n\n");
	}
	if (n->reflector) {
		fprintf(f, "# Route reflector, IPv6: our own subnet (if any) and the IPv6 pod subnets\n"
			   "# learned inside the AS, with their next hop unchanged.\n");
		fprintf(f, "filter roost_reflect6 {\n");
		if (pods)
			fprintf(f, "\tif proto = \"pods6\" && net = OWN_POD_NET6 then {\n"
				   "\t\tbgp_large_community.add((CLUSTER_AS, 1, NODE_ID));\n"
				   "\t\taccept;\n"
				   "\t}\n");
		fprintf(f, "\tif source = RTS_BGP && bgp_path.len = 0 && net ~ POD_NETS6 then accept;\n"
			   "\treject;\n"
			   "}\n\n");
	}
	for (size_t i = 0; i < n->n_peers; i++) {
		const struct bc_ext_peer *p = &n->peers[i];
		char sym[BC_NAME_MAX + 32], a[INET6_ADDRSTRLEN];

		if (p->address.s_addr)
			continue;
		bc_symbol(sym, sizeof(sym), "roost_import6_", p->name);
		fprintf(f, "# From peer %s (IPv6): pod subnets as from nodes%s.\n", p->name,
			p->n_import6 ? ", and its allow-list" : "; nothing else");
		fprintf(f, "filter %s {\n"
			   "\tif net.type != NET_IP6 then reject;\n"
			   "\tif net.len = 0 then reject;\n",
			sym);
		if (pods)
			fprintf(f, "\tif net = OWN_POD_NET6 then reject;\n");
		fprintf(f, "\tif net ~ POD_NETS6 then accept;\n");
		if (p->n_import6) {
			fprintf(f, "\tif net ~ [ ");
			for (size_t k = 0; k < p->n_import6; k++) {
				ntop6(&p->import6[k].net, a);
				fprintf(f, "%s%s/%u", k ? ", " : "", a, p->import6[k].len);
			}
			fprintf(f, " ] then accept;\n");
		}
		fprintf(f, "\treject;\n"
			   "}\n\n");
		render_export_filter6(n, p, f);
	}
	fprintf(f, "# The kernel gets unicast BGP routes to other nodes' IPv6 subnets%s;\n"
		   "# never ::/0, never our own subnet, never an unresolved next hop.\n",
		any_peer_import6(n) ? " and to\n# the IPv6 peers' allow-listed prefixes" : "");
	fprintf(f, "filter roost_to_kernel6 {\n");
	if (n->n_static_routes6) {
		fprintf(f, "\tif proto = \"flannel_hostgw6\" then {   # nodes still on flannel\n"
			   "\t\tif net.len = 0 then reject;\n");
		if (pods)
			fprintf(f, "\t\tif net = OWN_POD_NET6 then reject;\n");
		fprintf(f, "\t\tif net ~ POD_NETS6 then accept;\n"
			   "\t\treject;\n"
			   "\t}\n");
	}
	fprintf(f, "\tif source != RTS_BGP then reject;\n"
		   "\tif dest != RTD_UNICAST then reject;\n"
		   "\tif net.len = 0 then reject;\n");
	if (pods)
		fprintf(f, "\tif net = OWN_POD_NET6 then reject;\n");
	fprintf(f, "\tif net ~ POD_NETS6 then accept;\n");
	if (any_peer_import6(n))
		fprintf(f, "\tif net ~ PEER_NETS6 then accept;\n");
	fprintf(f, "\treject;\n"
		   "}\n\n");
}

/* kernel6 when a peer over IPv6 is multihop: render_kernel's reasoning for
 * IPv6. Its next hop is not on the segment: BIRD resolves it (gateway
 * recursive) through master6, which then needs the node's own IPv6 routes.
 * They stay in BIRD: roost_to_kernel6 takes BGP routes (and flannel_hostgw6)
 * only, every IPv6 BGP export takes pods6 or BGP routes only. */
static void render_kernel6_learn(const struct bc_node *n, FILE *f)
{
	fprintf(f, "# A multihop IPv6 peer's next hop resolves through the node's own IPv6\n"
		   "# routes: the kernel's (learned, alien routes only) and the connected\n"
		   "# subnets, outside the cluster IPv6 CIDR and never link-local\n"
		   "# (roost_learn6). roost_to_kernel6 and every BGP export take BGP routes\n"
		   "# only, so these stay in BIRD.\n"
		   "filter roost_learn6 {\n"
		   "\tif net.type != NET_IP6 then reject;\n"
		   "\tif net ~ CLUSTER_NETS6 then reject;\n"
		   "\tif net ~ [ fe80::/10+ ] then reject;\n"
		   "\taccept;\n"
		   "}\n\n");
	fprintf(f, "# Learned IPv6 subnets to the kernel, as kernel4 does for IPv4: own metric\n"
		   "# (%u), graceful restart. It also learns the kernel's other IPv6 routes,\n"
		   "# through roost_learn6.\n"
		   "protocol kernel kernel6 {\n"
		   "\tmetric %u;\n"
		   "\tmerge paths on;\n"
		   "\tgraceful restart on;\n"
		   "\tlearn;\n"
		   "\tipv6 {\n"
		   "\t\timport filter roost_learn6;\n"
		   "\t\texport filter roost_to_kernel6;\n"
		   "\t};\n"
		   "}\n\n",
		n->kernel_metric, n->kernel_metric);
	fprintf(f, "protocol direct connected6 {\n"
		   "\tipv6 {\n"
		   "\t\timport filter roost_learn6;\n"
		   "\t};\n"
		   "}\n\n");
}

static void render_protocols6(const struct bc_node *n, FILE *f)
{
	if (!bc_node_has_v6(n))
		return;
	if (has_pods6(n))
		fprintf(f, "# This node's IPv6 pod subnet, originated once (BIRD's table only: the\n"
			   "# kernel routes it to the bridge).\n"
			   "protocol static pods6 {\n"
			   "\tipv6;\n"
			   "\troute OWN_POD_NET6 blackhole;\n"
			   "}\n\n");
	if (any_multihop6(n))
		render_kernel6_learn(n, f);
	else
		fprintf(f, "# Learned IPv6 subnets to the kernel, as kernel4 does for IPv4: own metric\n"
			   "# (%u), graceful restart.\n"
			   "protocol kernel kernel6 {\n"
			   "\tmetric %u;\n"
			   "\tmerge paths on;\n"
			   "\tgraceful restart on;\n"
			   "\tipv6 {\n"
			   "\t\timport none;\n"
			   "\t\texport filter roost_to_kernel6;\n"
			   "\t};\n"
			   "}\n\n",
			n->kernel_metric, n->kernel_metric);
	if (n->n_static_routes6) {
		fprintf(f, "# Nodes still on flannel host-gw with an IPv6 lease: their IPv6 subnets via\n"
			   "# their PublicIPv6, to the kernel only (no BGP export takes them).\n"
			   "protocol static flannel_hostgw6 {\n"
			   "\tipv6;\n");
		for (size_t i = 0; i < n->n_static_routes6; i++) {
			char a[INET6_ADDRSTRLEN], v[INET6_ADDRSTRLEN];

			ntop6(&n->static_routes6[i].net, a);
			ntop6(&n->static_routes6[i].via, v);
			fprintf(f, "\troute %s/%u via %s;\n", a, n->static_routes6[i].len, v);
		}
		fprintf(f, "}\n\n");
	}
}

/* The ipv6 channel of a node session (template): the import filter is the
 * IPv4 one's IPv6 twin. */
static void render_channel6(const struct bc_node *n, FILE *f, const char *import,
			    unsigned limit)
{
	if (!bc_node_has_v6(n))
		return;
	fprintf(f, "\tipv6 {\n"
		   "%s"
		   "\t\tnext hop address NODE_ADDR6;   # global, on the segment: never a link-local\n"
		   "\t\tgateway direct;\n"
		   "\t\timport keep filtered on;\n"
		   "\t\timport filter %s;\n"
		   "\t\texport filter %s;\n"
		   "\t\treceive limit %u action block;\n"
		   "\t};\n",
		n->reflector ? "" : "\t\tnext hop self;\n",
		strcmp(import, "roost_import_reflected") == 0 ? "roost_import6_reflected"
							       : "roost_import6",
		n->reflector ? "roost_reflect6" : "roost_export6", limit);
}

static void render_ext_peer6(const struct bc_node *n, const struct bc_ext_peer *p, FILE *f)
{
	char sym[BC_NAME_MAX + 32], fsym[BC_NAME_MAX + 32], esym[BC_NAME_MAX + 32];
	char addr[INET6_ADDRSTRLEN];
	bool ebgp = p->asn != n->asn;

	bc_symbol(sym, sizeof(sym), "peer_", p->name);
	bc_symbol(fsym, sizeof(fsym), "roost_import6_", p->name);
	bc_symbol(esym, sizeof(esym), "roost_export6_", p->name);
	ntop6(&p->address6, addr);
	fprintf(f, "# External peer %s over IPv6 (IPv6 routes only): %s, %s%s%s.\n",
		p->name, ebgp ? "eBGP" : "iBGP", p->multihop ? "multihop" : "single hop",
		p->password[0] ? ", MD5 password" : "", p->ttl_security ? ", TTL security" : "");
	fprintf(f, "protocol bgp %s {\n"
		   "\tdescription \"peer %s\";\n"
		   "\tlocal NODE_ADDR6 as NODE_AS;\n"
		   "\tneighbor %s as %u;\n",
		sym, p->name, addr, p->asn);
	if (p->multihop)
		fprintf(f, "\tmultihop %u;\n", p->multihop);
	else
		fprintf(f, "\tdirect;\n");
	if (p->password[0])
		fprintf(f, "\tpassword \"%s\";\n", p->password);
	if (p->ttl_security)
		fprintf(f, "\tttl security on;\n");
	render_session_opts(n, p->bfd_mode, f);
	fprintf(f, "\tipv6 {\n"
		   "\t\tpreference 90;   # a pod subnet learned from the nodes wins\n"
		   "\t\tnext hop self;\n"
		   "\t\tnext hop address NODE_ADDR6;\n"
		   "\t\tgateway %s;\n"
		   "\t\timport filter %s;\n"
		   "\t\texport filter %s;\n"
		   "\t\treceive limit %u action block;\n"
		   "\t};\n"
		   "}\n\n",
		p->multihop ? "recursive" : "direct", fsym, esym, p->import_limit);
}

/* IPv6-only route reflector clients: a second dynamic protocol, sessions
 * over IPv6 from bgp.reflector.clients6, named client6_<N>. Their IPv6
 * routes must carry the client's own address as next hop (roost_nh6_ok:
 * the session's address), as an IPv4 client's must carry its address. */
static void render_reflector6(const struct bc_node *n, FILE *f, const char *cid)
{
	char a[INET6_ADDRSTRLEN];

	if (!n->rr_clients_len6)
		return;
	ntop6(&n->rr_clients_net6, a);
	fprintf(f, "# Route reflector, IPv6-only clients: any iBGP speaker in %s/%u may\n"
		   "# connect over IPv6; its session shows up as client6_<N>.\n",
		a, n->rr_clients_len6);
	fprintf(f, "protocol bgp reflector6 from roost_client {\n"
		   "\tdescription \"route reflector for %s/%u\";\n"
		   "\tlocal NODE_ADDR6 as NODE_AS;\n"
		   "\tneighbor range %s/%u internal;\n"
		   "\tdynamic name \"client6_\";\n"
		   "\trr client;\n"
		   "\trr cluster id %s;\n"
		   "}\n\n",
		a, n->rr_clients_len6, a, n->rr_clients_len6, cid);
}

int bc_render(const struct bc_node *node, FILE *out, struct rst_err *reterr)
{
	int r = bc_node_validate(node, reterr);

	if (r < 0)
		return r;
	render_header(node, out);
	render_globals(node, out);
	render_filters(node, out);
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
