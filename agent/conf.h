/* SPDX-License-Identifier: MIT */
/*
 * conf.h - roostd.conf (libconfig) -> an owned, validated struct roostd_conf.
 *
 * Every error names file:line (the setting's own line, or its group's line
 * when a key is missing). Unknown keys are errors: a typo must not silently
 * fall back to a default on a router.
 */
#ifndef ROOST_CONF_H
#define ROOST_CONF_H

#include <netinet/in.h>
#include <sys/socket.h>
#include <stdbool.h>
#include <stdint.h>

#include "birdconf.h"
#include "rst.h"

#define CONF_DEFAULT_PATH "/etc/roost/roostd.conf"

/* An IPv4 network, no host bits. */
struct conf_cidr {
	struct in_addr net;
	unsigned len;
};

struct conf_cidr6 {
	struct in6_addr net;
	unsigned len;
};

/* egress.no_masquerade: at most this many networks (both families). */
#define CONF_NO_MASQ_MAX 256

struct roostd_conf {
	char *path;      /* owned; as given */
	char hash[65];   /* sha256 of the parsed config, passwords blanked (conf.c) */

	/* node */
	char name[BC_NAME_MAX + 1];
	/* Kubernetes mode: the Node's own name (node.name or NODE_NAME), which
	 * may be no usable node name (dots, longer): name is then bc_name_from(it). */
	char kube_node[BC_DNS_NAME_MAX + 1];
	struct in_addr address;
	bool no_pods;           /* node.pod_cidr absent: a route reflector without pods */
	struct in_addr pod_net; /* 0.0.0.0 when no_pods */
	unsigned pod_len;       /* node subnet length (cluster.node_prefix_len when no_pods) */
	struct in_addr gateway; /* first address of pod_net, on the bridge; 0 when no_pods */
	uint32_t asn;           /* node.asn, or cluster.asn */

	/* dual-stack (conf.c, "Dual-stack"): IPv6 is on when cluster_len6 > 0.
	 * An IPv6-only node has address 0.0.0.0, no IPv4 subnet or cluster. */
	struct in6_addr address6;   /* node.address6, :: when none */
	struct in6_addr pod_net6;   /* node.pod_cidr6 */
	unsigned pod_len6;          /* its length (cluster.node_prefix_len6 when no_pods) */
	struct in6_addr gateway6;   /* first address of pod_net6, on the bridge */
	struct in6_addr cluster_net6; /* cluster.pod_cidr6 */
	unsigned cluster_len6;        /* 0: no IPv6 */
	struct in_addr router_id;     /* node.router_id, 0.0.0.0 = node.address */

	/* cluster */
	struct in_addr cluster_net;
	unsigned cluster_len;
	uint32_t cluster_asn;

	/* bgp */
	struct bc_peer *mesh; /* owned */
	size_t n_mesh;
	size_t n_mesh_file; /* the first n_mesh_file of mesh come from the file */
	struct bc_owner *owners; /* owned; leases and first announcers (roostd sets them) */
	size_t n_owners;
	char password[BC_PASSWORD_MAX + 1];    /* bgp.password: mesh and RR-client sessions */
	char rr_password[BC_PASSWORD_MAX + 1]; /* bgp.reflector.password (default bgp.password) */
	enum bc_bfd_mode bfd_mode;
	unsigned bfd_interval_ms, bfd_multiplier;
	bool gr_enabled;
	unsigned gr_restart_time;
	unsigned hold_time, keepalive_time;
	unsigned import_limit;
	struct bc_peer *route_reflectors; /* owned */
	size_t n_route_reflectors;
	bool reflector; /* bgp.reflector */
	struct in_addr rr_clients_net;
	unsigned rr_clients_len;
	struct in_addr rr_cluster_id;
	struct in6_addr rr_clients_net6; /* bgp.reflector.clients6 */
	unsigned rr_clients_len6;        /* 0: none */
	struct bc_ext_peer *peers; /* owned, and each peers[i].import, .communities,
				    * .large_communities */
	size_t n_peers;
	struct bc_announce *announce; /* owned; bgp.announce */
	size_t n_announce;
	/* bgp.services (Kubernetes datastore) */
	bool svc_lb;        /* load_balancer: LoadBalancer ingress IPs */
	bool svc_external;  /* external_ips: spec.externalIPs */
	bool svc_range_on;  /* cluster_ip_range given */
	struct bc_announce svc_range; /* cluster_ip_range, when = always */
	/* what roostd announces for Services (agent/svc.c sets them): /32s,
	 * and the cluster IP range, each with why */
	struct bc_announce *svc; /* owned */
	char (*svc_why)[160];    /* owned, n_svc of them */
	size_t n_svc;

	/* datastore (etcd, flannel's layout): with it, the node's subnet, the
	 * cluster CIDR and the mesh come from etcd (agent/datastore.c) */
	bool ds_on;
	bool ds_pod_given;     /* node.pod_cidr given: lease exactly that subnet */
	bool ds_cluster_given; /* cluster.pod_cidr given: must equal Network */
	bool ds_pod6_given;     /* node.pod_cidr6 given: lease exactly that IPv6 subnet */
	bool ds_cluster6_given; /* cluster.pod_cidr6 given: must equal IPv6Network */
	int node_line;          /* the node group's line (datastore errors name it) */
	char **ds_endpoints;   /* owned, each "http(s)://host:port" */
	size_t n_ds_endpoints;
	char *ds_prefix;     /* "/coreos.com/network" */
	char *ds_ca, *ds_cert, *ds_key; /* "" = none */
	char *ds_subnet_env; /* flannel's subnet.env, "" = do not write */
	unsigned ds_lease_ttl;   /* s */
	unsigned ds_lease_renew; /* s before expiry that the lease is renewed */
	bool ds_watch;           /* watch the subnets (else poll every 500 ms) */
	bool ds_kube;            /* datastore.type = "kubernetes" */
	char *ds_kubeconfig;     /* datastore.kubeconfig, "" = in-cluster */
	/* kubernetes: reflectors from Node labels (agent/topology.h, dsmerge.c) */
	bool kube_rr_clients_given;       /* bgp.reflector.clients in the file */
	struct conf_cidr kube_rr_clients; /* the range a labelled reflector serves */
	size_t n_route_reflectors_file;   /* bgp.route_reflectors in the file */
	struct bc_static_route *static_routes; /* owned; flannel host-gw nodes (datastore) */
	size_t n_static_routes;
	struct bc_static_route6 *static_routes6; /* owned; their IPv6 subnets (datastore) */
	size_t n_static_routes6;

	/* bridge */
	char bridge_name[16];
	unsigned bridge_mtu;   /* bridge.mtu, else the uplink's (agent_mtu_resolve) */
	bool bridge_mtu_auto;  /* bridge.mtu absent: follow node.address's interface */

	/* egress (agent/egress.c) */
	bool masquerade;                /* egress.masquerade (default true) */
	struct conf_cidr *no_masquerade; /* owned; egress.no_masquerade, IPv4 entries */
	size_t n_no_masquerade;
	struct conf_cidr6 *no_masquerade6; /* owned; egress.no_masquerade, IPv6 entries */
	size_t n_no_masquerade6;

	/* bird (all strings owned) */
	char *bird_binary, *bird_config, *bird_socket, *bird_pidfile, *bird_include;
	bool bird_spawn;
	unsigned kernel_metric;
	unsigned configure_timeout; /* s BIRD waits for `configure confirm` */

	/* agent (strings owned) */
	char *agent_socket, *state_dir;
	char *agent_network;  /* the CNI network name served ("roost") */
	char *host_local_dir; /* host-local reservations to import, "" = none */
	bool metrics_on;                 /* agent.metrics_listen is not "" */
	bool watch_config;               /* agent.watch_config: reload when the file changes */
	struct sockaddr_in metrics_addr; /* where Prometheus scrapes /metrics */
	char *metrics_textfile;          /* node_exporter textfile, "" = none */
	int log_level; /* LOG_* */
};

/* Reads and validates path. Returns 0 and an owned *ret, or -EINVAL/-ENOENT/
 * -ENOMEM with reterr naming file:line and what is wrong. */
int conf_load(const char *path, struct roostd_conf **ret, struct rst_err *reterr);
void conf_free(struct roostd_conf *c);
DEFINE_CLEANUP(struct roostd_conf *, conf_free)

/* "a.b.c.d/len" (len 0-32, digits only) into addr and plen; with host_bits
 * false, an address with bits set past len is refused. 0 or -EINVAL. */
int cidr_parse(const char *s, struct in_addr *addr, unsigned *plen, bool host_bits);

/* Datastore mode: sets the node subnet (and gateway) and the cluster CIDR
 * leased from etcd, with load's checks. 0, or -EINVAL with a message. */
int conf_set_subnets(struct roostd_conf *c, struct in_addr pod_net, unsigned pod_len,
		     struct in_addr cluster_net, unsigned cluster_len, char *err, size_t errlen);

/* Datastore mode, IPv6: the node's IPv6 subnet and the cluster's IPv6 CIDR
 * from etcd (or the Node), with load's checks. 0, or -EINVAL with a message. */
int conf_set_subnets6(struct roostd_conf *c, const struct in6_addr *pod_net6, unsigned pod_len6,
		      const struct in6_addr *cluster_net6, unsigned cluster_len6, char *err,
		      size_t errlen);

/* True when c routes IPv6 pod subnets; true when it has no IPv4 at all. */
static inline bool conf_has_v6(const struct roostd_conf *c)
{
	return c->cluster_len6 > 0;
}

static inline bool conf_v6_only(const struct roostd_conf *c)
{
	/* address6 without address: also before a datastore gave the subnets;
	 * Kubernetes: the cluster has no IPv4 CIDR (the address comes from
	 * the Node's InternalIP later) */
	return c->address.s_addr == 0 && !(c->ds_kube && c->ds_cluster_given) &&
	       (c->cluster_len6 > 0 || !IN6_IS_ADDR_UNSPECIFIED(&c->address6));
}

/* Fills *node from c; node borrows c's strings and arrays. */
void conf_to_node(const struct roostd_conf *c, struct bc_node *node);

#endif
