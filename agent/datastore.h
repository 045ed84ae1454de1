/* SPDX-License-Identifier: MIT */
/*
 * datastore.h - the node's subnet and its peers from etcd, in flannel's
 * layout, so a cluster can move from flannel host-gw to roost node by node:
 *
 *   <prefix>/config                  {"Network":"10.244.0.0/16","SubnetLen":24,...}
 *   <prefix>/subnets/10.244.1.0-24   {"PublicIP":"172.31.0.11","BackendType":"host-gw",
 *                                     "BackendData":{"roost":{"name":"node1"}}}
 *
 * With "EnableIPv6": true (and "IPv6Network", "IPv6SubnetLen") a lease
 * carries both families, as flannel writes them: the key is the IPv4
 * subnet, "&", the IPv6 subnet ("10.244.1.0-24&fd00:10:244:1::-64"), the
 * value has "PublicIPv6"; an IPv6-only network ("EnableIPv4": false) has
 * the empty IPv4 subnet in the key ("0.0.0.0-0&fd00:10:244:1::-64") and
 * "PublicIP": "0.0.0.0".
 *
 * roost writes BackendType "host-gw" (what it is, on the wire: unencapsulated
 * routing to the node), so flannel host-gw nodes route to roost nodes; its
 * own leases carry BackendData.roost, so roost nodes peer over BGP with each
 * other and install a static route (in BIRD) towards a flannel node.
 *
 * The subnet is leased (an etcd lease of datastore.lease_ttl, kept alive),
 * created only if absent (a txn), and the same one is taken again after a
 * restart (the lease whose PublicIP is ours, or a reservation: a key
 * without a lease). A worker thread keeps the lease alive, reads the
 * subnets once and then follows them with an etcd watch (re-reading them
 * when the watch is compacted away; datastore.watch = false: a read every
 * 500 ms), with backoff while etcd does not answer; roostd's loop is told
 * through ds_fd(). The last
 * good view is kept in state_dir/datastore.json, so a restart while etcd is
 * down comes up with the same subnet and peers.
 */
#ifndef ROOST_DATASTORE_H
#define ROOST_DATASTORE_H

#include <arpa/inet.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "birdconf.h"
#include "conf.h"
#include "kubesvc.h"

/* a lease's key: "255.255.255.255-32&" and an IPv6 subnet "-128" */
#define DS_KEY_MAX (16 + 4 + INET6_ADDRSTRLEN + 4)

struct ds_peer {
	char name[BC_NAME_MAX + 1]; /* roost: its node.name; flannel: "" */
	struct in_addr address;     /* PublicIP, 0.0.0.0 for none (IPv6-only) */
	struct in_addr net;         /* its subnet */
	unsigned len;               /* 0: no IPv4 subnet (IPv6-only) */
	struct in6_addr address6;   /* PublicIPv6, :: for none */
	struct in6_addr net6;       /* its IPv6 subnet */
	unsigned len6;              /* 0: no IPv6 subnet */
	bool roost; /* a roost node (BGP peer); else a flannel host-gw node */
	char key[DS_KEY_MAX]; /* its key under <prefix>/subnets/, "10.244.1.0-24" */
	int64_t lease; /* its etcd lease, 0 for none (a reservation) */
	uint32_t asn;  /* its ASN (Kubernetes: annotation roost.io/asn), 0 = the cluster's */
	bool reflector; /* Kubernetes: label roost.io/route-reflector = "true" */
	struct in_addr cluster_id; /* its annotation roost.io/route-reflector-cluster-id, 0 = none */
};

struct datastore;

/* Connects, reads the network config and leases this node's subnet (or
 * takes it from the cache when etcd does not answer), then starts the
 * worker. Blocks until there is a subnet, retrying with backoff (logged).
 * 0, or -errno with err set (a configuration problem: no point retrying). */
int ds_open(const struct roostd_conf *c, struct datastore **ret, char *err, size_t errlen);
void ds_free(struct datastore *ds); /* stops the worker; the lease is left to expire */

/* This node's address: node.address, or (Kubernetes) its Node's InternalIP. */
struct in_addr ds_address(struct datastore *ds);
/* This node's ASN from the datastore (Kubernetes: its Node's annotation
 * roost.io/asn), 0 when it gives none. */
uint32_t ds_asn(struct datastore *ds);
/* This node's own route-reflector label and cluster id annotation
 * (Kubernetes), as the watch last saw its Node: they follow the Node, so
 * read them whenever ds_take_peers() returned a change. false/0 for etcd. */
void ds_self_role(struct datastore *ds, bool *reflector, struct in_addr *cluster_id);
void ds_subnets(struct datastore *ds, struct in_addr *net, unsigned *len,
		struct in_addr *cluster, unsigned *cluster_len);
/* This node's IPv6 subnet and the cluster's IPv6 network (lengths 0: the
 * datastore gives no IPv6), and its IPv6 address (:: for none). */
void ds_subnets6(struct datastore *ds, struct in6_addr *net, unsigned *len,
		 struct in6_addr *cluster, unsigned *cluster_len);
struct in6_addr ds_address6(struct datastore *ds);

/* The worker's pipe: readable when the peers changed (or the state did). */
int ds_fd(const struct datastore *ds);
/* Drains ds_fd; when the peer list changed since the last call, 1 and an
 * owned copy in *ret (free()), else 0. */
int ds_take_peers(struct datastore *ds, struct ds_peer **ret, size_t *ret_n);

/* bgp.services (Kubernetes): when the addresses this node would announce
 * for Services changed since the last call, 1 and an owned copy in *ret
 * (free()), else 0. Call after ds_take_peers (which drains ds_fd). */
int ds_take_services(struct datastore *ds, struct svc_addr **ret, size_t *ret_n);

/* Whether Services are followed (bgp.services asked for them at ds_open). */
bool ds_services_followed(const struct datastore *ds);

/* The roost nodes whose BGP session with this node is Established (names).
 * While a node routes, the others keep its lease alive for it: a lease
 * outlives its roostd as long as its node is routing, and expires only
 * when nobody has a session with it any more. */
void ds_set_routing(struct datastore *ds, char (*names)[BC_NAME_MAX + 1], size_t n);

/* For roostctl status and the metrics. */
json_t *ds_status_json(struct datastore *ds);
bool ds_up(struct datastore *ds);
size_t ds_n_peers(struct datastore *ds);

/* Flannel's subnet.env for these values (exposed for the unit tests).
 * cluster_len 0: no IPv4 lines; cluster6 NULL or cluster_len6 0: no IPv6
 * lines (FLANNEL_IPV6_NETWORK, FLANNEL_IPV6_SUBNET). */
int ds_subnet_env_format(char *buf, size_t len, struct in_addr cluster, unsigned cluster_len,
			 struct in_addr net, unsigned plen, unsigned mtu, bool ipmasq);
int ds_subnet_env_format6(char *buf, size_t len, struct in_addr cluster, unsigned cluster_len,
			  struct in_addr net, unsigned plen, const struct in6_addr *cluster6,
			  unsigned cluster_len6, const struct in6_addr *net6, unsigned plen6,
			  unsigned mtu, bool ipmasq);
/* A reload changed what subnet.env says (masquerade, MTU): writes it again.
 * Called by roostd's loop only (the worker never writes the file). */
void ds_subnet_env_update(struct datastore *ds, bool ipmasq, unsigned mtu);
/* Parses one lease (key suffix "10.244.1.0-24", "10.244.1.0-24&fd00::-64",
 * "0.0.0.0-0&fd00::-64"; value JSON with PublicIP, PublicIPv6); 0 or -EINVAL. */
int ds_parse_lease(const char *keytail, const char *value, struct ds_peer *ret);

/* A lease is untrusted input: its subnet must be a subnet of the cluster's
 * Network of SubnetLen, its PublicIP a usable unicast address outside the
 * cluster that is not self. NULL when it is fit, else why not. */
const char *ds_lease_unfit(const struct ds_peer *p, struct in_addr cluster, unsigned cluster_len,
			   unsigned subnet_len, struct in_addr self);

/* What a lease is checked against: the network's two families and this
 * node. cluster_len 0: the network has no IPv4 ("EnableIPv4": false), a
 * lease must have none either; cluster_len6 0: no IPv6, a lease's IPv6
 * part is ignored. With both, a lease without an IPv6 part is fit (a node
 * that has not turned IPv6 on yet: it gets IPv4 routes only). */
struct ds_check {
	struct in_addr cluster;
	unsigned cluster_len, subnet_len;
	struct in6_addr cluster6;
	unsigned cluster_len6, subnet_len6;
	struct in_addr self;    /* this node's PublicIP */
	struct in6_addr self6;  /* and PublicIPv6 */
	struct in_addr self_net;   /* its subnets (leased by nobody else) */
	struct in6_addr self_net6;
};

/* The IPv6 part of a lease (ds_lease_unfit's twin): NULL when fit. */
const char *ds_lease_unfit6(const struct ds_peer *p, const struct ds_check *k);

/* Drops from p[0..n) the leases that are unfit or that repeat an earlier
 * lease's PublicIP, PublicIPv6, subnet (of either family) or name (the
 * lease created first stays: etcd lists keys in order, callers sort by
 * creation when they know it). Each dropped lease is reported through
 * report(key, why). A lease's IPv6 part is cleared when the network has
 * no IPv6. Returns the new count. */
size_t ds_leases_filter(struct ds_peer *p, size_t n, const struct ds_check *k,
			void (*report)(void *arg, const char *key, const char *why), void *arg);
/* flannel's config, the families: EnableIPv4 (default true), EnableIPv6
 * (default false), IPv6Network, IPv6SubnetLen (default 64, or the
 * network's length + 2 for a network longer than /62), IPv6SubnetMin and
 * IPv6SubnetMax (default: the second subnet to the last one), as subnet
 * indexes in IPv6Network (capped at 2^63). */
struct ds_config6 {
	bool v4, v6;
	struct in6_addr net;
	unsigned len, subnet_len;
	uint64_t min, max;
};
int ds_parse_config6(const char *json, struct ds_config6 *ret, char *err, size_t errlen);
/* The idx-th subnet of length sublen after base. */
void ds_subnet6_nth(const struct in6_addr *base, unsigned sublen, uint64_t idx,
		    struct in6_addr *ret);
/* "x::/len" with no host bits: 0 or -EINVAL. */
int ds_cidr6_parse(const char *s, struct in6_addr *net, unsigned *len);
/* Parses flannel's config JSON: Network, SubnetLen, SubnetMin, SubnetMax. */
int ds_parse_config(const char *json, struct in_addr *net, unsigned *len, unsigned *subnet_len,
		    struct in_addr *min, struct in_addr *max, char *err, size_t errlen);

#endif
