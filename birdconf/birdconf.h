/* SPDX-License-Identifier: MIT */
/*
 * birdconf.h - node model -> BIRD 2 configuration text, and `bird -p` checks.
 *
 * A library: no globals, no logging, no exit(). It never sees libnl,
 * libconfig or roostd types; the agent fills a struct bc_node and asks for
 * text. Rendering is deterministic: the same model gives the same bytes, so
 * the agent can compare renders and skip a reconfigure when nothing changed.
 */
#ifndef ROOST_BIRDCONF_H
#define ROOST_BIRDCONF_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rst.h"

#define BC_NAME_MAX 40     /* node and peer names: [a-z0-9-]{1,40} */
#define BC_PASSWORD_MAX 80 /* MD5 password: printable ASCII, no '"' or '\\' */
#define BC_IMPORT_MAX 64   /* allow-listed prefixes per external peer */

enum bc_bfd_mode {
	BC_BFD_OFF,
	BC_BFD_GRACEFUL, /* BFD down hands the session to graceful restart: routes stay */
	BC_BFD_STRICT,   /* BFD down drops the session and its routes */
};

/* Routes a node legitimately sends on a mesh or reflector-client session:
 * its pod subnet (one per family) and a few announced addresses. The receive
 * limit of those sessions; sessions that carry the whole cluster (from a
 * route reflector, between reflectors) use bgp.import_limit. */
#define BC_NODE_ROUTE_LIMIT 8

/* A node-mesh neighbour or a route reflector: BGP on the shared segment. */
struct bc_peer {
	char name[BC_NAME_MAX + 1];
	struct in_addr address;
	struct in_addr pod_net; /* the neighbour's subnet, when known (pod_len > 0): */
	unsigned pod_len;       /* the only prefix its session accepts */
	uint32_t asn;           /* the neighbour's ASN; 0: the cluster ASN */
	/* Dual-stack (see "Dual-stack" in render.c): the neighbour's IPv6
	 * address on the segment (:: when none; an IPv6-only neighbour has
	 * address 0.0.0.0) and its IPv6 subnet, when known (pod_len6 > 0). */
	struct in6_addr address6;
	struct in6_addr pod_net6;
	unsigned pod_len6;
};

/* Who owns a pod subnet: a route to it is accepted only with the owner's
 * address as BGP next hop. From the datastore's leases, or learned from the
 * first node that announced it (roostd keeps those across restarts). */
struct bc_owner {
	struct in_addr net;
	unsigned len;
	struct in_addr via;           /* the owner's address */
	char name[BC_NAME_MAX + 1];   /* for the comment; "" when unknown */
	bool exclusive;               /* the owner announces no other subnet (a lease) */
	bool learned;                 /* first announcer, not configured */
};

/* Who owns an IPv6 pod subnet, beyond bgp.mesh pod_cidr6: the first node
 * that announced it (roostd learns and keeps those, as for IPv4). A route
 * to it is accepted only with via as BGP next hop. */
struct bc_owner6 {
	struct in6_addr net;
	unsigned len;
	struct in6_addr via;        /* the owner's global IPv6 address */
	char name[BC_NAME_MAX + 1]; /* for the comment; "" when unknown */
};

/* A dual-stack route reflector client's IPv6 address: the first global IPv6
 * next hop its IPv4 session (from) announced. Its IPv6 routes then need that
 * next hop, and no other client may use it (roostd learns these). */
struct bc_client6 {
	struct in_addr from;
	struct in6_addr via;
};

struct bc_prefix {
	struct in_addr net;
	unsigned len;
};

struct bc_prefix6 {
	struct in6_addr net;
	unsigned len;
};

/* What an external peer is sent (bgp.peers[].export). BC_EXPORT_BOTH is
 * the default (0): with no bgp.announce it sends the pod subnet only, as
 * before the key existed. */
enum bc_export {
	BC_EXPORT_BOTH,     /* the pod subnet and the announced addresses */
	BC_EXPORT_PODS,     /* the pod subnet only */
	BC_EXPORT_ANNOUNCE, /* the announced addresses only */
};

#define BC_COMMUNITY_MAX 16 /* communities, and large communities, per peer */
#define BC_PREPEND_MAX 10   /* AS-path prepends per peer */
#define BC_ANNOUNCE_MAX 64  /* bgp.announce entries */
#define BC_SVC_MAX 256      /* bgp.services addresses (and the cluster IP range) */

/* A standard community (RFC 1997): "asn:value", 16 bits each. */
struct bc_community {
	uint16_t asn, value;
};

/* A large community (RFC 8092): "global:local1:local2", 32 bits each. */
struct bc_large_community {
	uint32_t global, local1, local2;
};

/* An external peer (bgp.peers), e.g. a top-of-rack router: eBGP when its
 * ASN differs from the node's, iBGP otherwise. */
struct bc_ext_peer {
	char name[BC_NAME_MAX + 1];
	struct in_addr address;   /* 0.0.0.0 for a peer over IPv6 (address6) */
	struct in6_addr address6; /* :: unless the session runs over IPv6: ipv6 channel only */
	uint32_t asn;
	char password[BC_PASSWORD_MAX + 1]; /* MD5 (RFC 2385); "" for none */
	unsigned multihop;                  /* 0: single hop (direct); N: multihop N (1-255) */
	enum bc_bfd_mode bfd_mode;
	bool ttl_security; /* GTSM (RFC 5082) */
	unsigned import_limit;
	const struct bc_prefix *import; /* extra prefixes accepted (borrowed) */
	size_t n_import;
	const struct bc_prefix6 *import6; /* likewise, IPv6 (a peer over IPv6; borrowed) */
	size_t n_import6;
	/* Export policy (see "Announced addresses" in render.c). */
	enum bc_export export;
	const struct bc_community *communities; /* added to every route sent (borrowed) */
	size_t n_communities;
	const struct bc_large_community *large_communities; /* likewise (borrowed) */
	size_t n_large_communities;
	unsigned prepend; /* extra copies of the node's AS (eBGP only), 0-BC_PREPEND_MAX */
};

/* When an announced address is announced (bgp.announce[].when). */
enum bc_announce_when {
	BC_ANNOUNCE_ALWAYS, /* unconditionally (a static route in BIRD's table) */
	BC_ANNOUNCE_LOCAL,  /* while an interface that is up has an address with exactly
			     * this prefix (BIRD's direct protocol follows them) */
};

/* A prefix this node announces to its external peers (bgp.announce), e.g.
 * a service VIP: tagged (cluster asn, 2, node id). Never to the mesh. */
struct bc_announce {
	struct in_addr net;
	unsigned len;
	enum bc_announce_when when;
};

/* A static route BIRD installs in the kernel only (a flannel host-gw node's
 * subnet via its address, while a cluster migrates). */
struct bc_static_route {
	struct in_addr net;
	unsigned len;
	struct in_addr via;
};

/* A flannel host-gw node's IPv6 subnet via its global IPv6 address. */
struct bc_static_route6 {
	struct in6_addr net;
	unsigned len;
	struct in6_addr via;
};

struct bc_node {
	/* Where the model came from, for the header comment (borrowed). */
	const char *source;      /* config file path as given */
	const char *source_hash; /* sha256 of its bytes, hex */

	char name[BC_NAME_MAX + 1];
	struct in_addr address; /* router id, BGP source and next hop */
	struct in_addr pod_net; /* this node's pod subnet (unless no_pods) */
	unsigned pod_len;       /* its length: the length of every node's subnet */
	struct in_addr cluster_net; /* the cluster pod CIDR */
	unsigned cluster_len;
	uint32_t cluster_asn;
	uint32_t asn; /* this node's ASN (cluster_asn unless overridden) */

	const struct bc_peer *mesh; /* full-mesh neighbours (borrowed) */
	size_t n_mesh;
	const struct bc_owner *owners; /* subnet owners besides mesh pod_cidr (borrowed) */
	size_t n_owners;
	char password[BC_PASSWORD_MAX + 1];    /* MD5 on mesh and RR-client sessions; "" none */
	char rr_password[BC_PASSWORD_MAX + 1]; /* MD5 on the reflector's client sessions */

	enum bc_bfd_mode bfd_mode;
	unsigned bfd_interval_ms;
	unsigned bfd_multiplier;
	bool gr_enabled;
	unsigned gr_restart_time; /* seconds */
	unsigned hold_time, keepalive_time;
	unsigned import_limit; /* prefixes per session */
	unsigned kernel_metric;
	const char *include; /* operator's BIRD snippet, NULL or "" for none */

	/* Route reflector client: iBGP with these only (no mesh; borrowed). */
	const struct bc_peer *route_reflectors;
	size_t n_route_reflectors;

	/* Route reflector: accepts any iBGP client in clients_net/len. */
	bool reflector;
	bool no_pods; /* a reflector only: no pod subnet, nothing originated */
	const struct bc_static_route *static_routes; /* flannel host-gw nodes */
	size_t n_static_routes;
	const struct bc_static_route6 *static_routes6; /* and their IPv6 subnets */
	size_t n_static_routes6;
	struct in_addr rr_clients_net;
	unsigned rr_clients_len;
	struct in_addr rr_cluster_id;
	/* IPv6-only clients: sessions over IPv6 from this range (client6_<N>);
	 * rr_clients_len6 0: none. */
	struct in6_addr rr_clients_net6;
	unsigned rr_clients_len6;
	const struct bc_client6 *clients6; /* learned client IPv6 addresses (borrowed) */
	size_t n_clients6;

	const struct bc_ext_peer *peers; /* external peers (borrowed) */
	size_t n_peers;

	const struct bc_announce *announce; /* announced addresses (borrowed) */
	size_t n_announce;

	/* Dual-stack. IPv6 is on when cluster_len6 > 0: then address6 is the
	 * node's global IPv6 address on the segment (the next hop of its IPv6
	 * subnet) and pod_net6/pod_len6 its IPv6 subnet (pod_len6 is every
	 * node's IPv6 subnet length; no subnet of its own when no_pods). An
	 * IPv6-only node has address 0.0.0.0 and no IPv4 subnet or cluster. */
	struct in6_addr address6;
	struct in6_addr pod_net6;
	unsigned pod_len6;
	struct in6_addr cluster_net6;
	unsigned cluster_len6;
	struct in_addr router_id; /* 0.0.0.0: address (required without one) */
	const struct bc_owner6 *owners6; /* IPv6 first announcers (borrowed) */
	size_t n_owners6;
};

/* The kernel metric roost's BIRD installs routes with, unless configured. */
#define BC_KERNEL_METRIC_DEFAULT 33

/* True when the node has a pod subnet of its own to announce. */
static inline bool bc_node_has_pods(const struct bc_node *node)
{
	return !node->no_pods;
}

/* True when the node speaks IPv4 (false: an IPv6-only node). */
static inline bool bc_node_has_v4(const struct bc_node *node)
{
	return node->address.s_addr != 0;
}

/* True when the node routes IPv6 pod subnets (dual-stack or IPv6-only). */
static inline bool bc_node_has_v6(const struct bc_node *node)
{
	return node->cluster_len6 > 0;
}

/* The index of an IPv6 subnet in the IPv6 cluster CIDR (its low 32 bits):
 * an IPv6-only node's id in (cluster asn, 1, id). */
uint32_t bc_node_id6(const struct bc_node *node);

/* A node or peer name: 1-BC_NAME_MAX characters of [a-z0-9-] (it names
 * BIRD protocols and goes into etcd and logs). */
bool bc_name_ok(const char *s);

/* A Kubernetes object name (a DNS-1123 subdomain: 1-253 characters of
 * a-z, 0-9, '-' and '.', labels of 1-63 that start and end with a letter
 * or digit), e.g. "ip-10-0-1-5.ec2.internal". */
#define BC_DNS_NAME_MAX 253
bool bc_dns_name_ok(const char *s);

/* roost's name for a node whose own name (a Kubernetes Node's) is not a
 * usable node name: the name itself when bc_name_ok, else its first 31
 * characters with any other than a-z, 0-9 and '-' turned into '-', then
 * '-' and 8 hex digits of a hash of the whole name (FNV-1a): stable, and
 * distinct for distinct names ("ip-10-0-1-5.ec2.internal" ->
 * "ip-10-0-1-5-ec2-internal-<hash>"). */
void bc_name_from(const char *s, char out[BC_NAME_MAX + 1]);

/* The large communities roost tags its routes with: (cluster asn, KIND,
 * node id), KIND 1 for the node's pod subnet, 2 for an announced address. */
#define BC_LC_POD_SUBNET 1
#define BC_LC_ANNOUNCED 2

/* Name used for the origin-node large community: (cluster asn, 1, BC node id). */
uint32_t bc_node_id(const struct bc_node *node);

/* The BIRD protocol name roost gives a peer: prefix ("node_", "rr_",
 * "peer_") + name with '-' turned into '_' (not allowed in a BIRD symbol). */
void bc_symbol(char *out, size_t len, const char *prefix, const char *name);

/* Checks that every string of the model is safe to place in BIRD syntax and
 * every number in range. Returns 0 or -EINVAL with reterr->msg set. */
int bc_node_validate(const struct bc_node *node, struct rst_err *reterr);

/* Writes the BIRD 2 configuration for node to out. Validates first.
 * Returns 0, -EINVAL (reterr says why) or -EIO. */
int bc_render(const struct bc_node *node, FILE *out, struct rst_err *reterr);

/* As bc_render, into a malloc'ed NUL-terminated string the caller frees. */
int bc_render_string(const struct bc_node *node, char **ret_text, struct rst_err *reterr);

/* Runs `bird_bin -p -c path`. Returns 0 when BIRD accepts the file,
 * -EINVAL with BIRD's "file:line:col message" in reterr when it does not,
 * another negative errno when bird could not be run. */
int bc_check(const char *bird_bin, const char *path, struct rst_err *reterr);

/* SHA-256 of buf as 64 hex digits plus NUL. */
void bc_sha256_hex(const void *buf, size_t len, char out[65]);

#endif
