/* SPDX-License-Identifier: MIT */
/*
 * datastore-int.h - what the datastore's backends share: struct datastore
 * and the helpers that publish to roostd's loop. datastore.c is the etcd
 * backend (flannel's layout) and the public API; kubestore.c the Kubernetes
 * one. Private to agent/: roostd's other files use datastore.h.
 */
#ifndef ROOST_DATASTORE_INT_H
#define ROOST_DATASTORE_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "datastore.h"
#include "etcd.h"
#include "kube.h"
#include "kubesvc.h"

/* A peer's lease that this node renews while the peer routes. */
struct ds_renew {
	int64_t lease;
	int64_t next; /* rst_now_ms() */
	bool seen; /* still a routing peer's, this round */
};

struct datastore {
	/* fixed after ds_open */
	char *prefix;
	char name[BC_DNS_NAME_MAX + 1]; /* node.name; Kubernetes: the Node's own name */
	struct in_addr address;
	unsigned ttl, renew, mtu;
	bool ipmasq; /* egress masquerade on (FLANNEL_IPMASQ) */
	char cache[4096], subnet_env[4096];
	struct in_addr net, cluster;
	unsigned len, cluster_len;
	/* IPv6 (etcd: "EnableIPv6"; Kubernetes: cluster.pod_cidr6): lengths 0
	 * = none. v4 false: an IPv6-only network (no IPv4 subnet, cluster). */
	bool v4;
	struct in6_addr address6, net6, cluster6;
	unsigned len6, cluster_len6;
	const char *conf_path; /* roostd.conf, for errors about node.address6 */
	int node_line;         /* its node group's line */
	char key[256], value[512]; /* our lease's key and value */
	char **endpoints;          /* owned copies: the config may be reloaded */
	size_t n_endpoints;
	char *ca, *cert, *tls_key;
	bool reserved;             /* our key is a reservation (no lease) */
	struct etcd *e;            /* the worker's */
	pthread_t thread;
	bool started;
	int wake[2]; /* worker -> roostd */
	int stop[2]; /* roostd -> worker */

	bool use_watch;            /* datastore.watch */

	/* datastore.type = "kubernetes" (kubestore.c): the worker's own */
	bool kube;
	struct kube_conf kc;
	struct kube_client *kcl;
	struct kube_watch *kw;     /* NULL: none open */
	char kube_rv[32];          /* the Node list's resourceVersion seen last */
	struct kube_node *knodes;  /* every Node that parsed, by name */
	size_t n_knodes;
	unsigned node_len;         /* cluster.node_prefix_len */
	unsigned node_len6;        /* cluster.node_prefix_len6 (IPv6 on: cluster_len6 > 0) */
	bool cond_done;            /* NetworkUnavailable=False set on our Node */
	uint32_t asn;              /* our Node's roost.io/asn, 0 = none (fixed after open) */

	/* the worker's own */
	int64_t lease, revision;   /* revision: every change up to it is in kvs */
	bool listed;               /* kvs holds a range read (and events since) */
	struct etcd_kv *kvs;       /* every key under <prefix>/subnets/ */
	size_t n_kvs;
	struct etcd_watch *watch;  /* NULL: none open */
	size_t watch_ep, watch_frames;
	int64_t watch_idle, watch_next; /* rst_now_ms() */
	unsigned watch_backoff_s;
	char (*bad)[192];  /* leases reported unfit ("key: why"), so each is logged once */
	size_t n_bad;
	char (*bad_now)[192];
	size_t n_bad_now;
	struct ds_renew *renews; /* leases of routing peers this node keeps alive */
	size_t n_renews;
	int64_t next_keepalive, next_try; /* rst_now_ms() */
	unsigned backoff_s;

	/* bgp.services (svcwatch.c): two threads, Services and EndpointSlices */
	bool svc_on;
	pthread_t svc_thread[2];
	bool svc_started[2];
	struct sw *svc_w[2];
	pthread_mutex_t svc_mu;       /* guards the views and svc_bad */
	struct kube_service *ksvcs;   /* every Service that parsed */
	size_t n_ksvcs;
	struct kube_slice *kslices;   /* every EndpointSlice that parsed */
	size_t n_kslices;
	bool svc_listed[2];
	char svc_cache[4096];         /* state_dir/services.json */
	char (*svc_bad)[256];         /* problems logged, so each is logged once */
	size_t n_svc_bad;

	pthread_mutex_t mu; /* guards what follows */
	struct svc_addr *svc_addrs;   /* bgp.services: what this node announces */
	size_t n_svc_addrs;
	bool svc_changed, svc_published;
	struct ds_peer *peers;
	size_t n_peers;
	bool peers_changed;
	bool up;
	bool watching; /* a watch is open */
	bool self_reflector;            /* our Node's roost.io/route-reflector (kubestore.c) */
	struct in_addr self_cluster_id; /* and its cluster id annotation, 0 = none */
	char (*routing)[BC_NAME_MAX + 1]; /* ds_set_routing */
	size_t n_routing;
	char last_error[256];
	time_t since; /* when up changed */
};

/* The worker's: a new state (up or not, and why), logged on a change; wakes
 * the loop. */
void ds_state_set(struct datastore *ds, bool up, const char *err);
/* Drops the unfit and repeated entries of p[0..m) (reported once each),
 * then publishes them when they differ from the peers in force: cached in
 * state_dir, and the loop woken. Takes p. 0 or -ENOMEM. */
int ds_peers_set(struct datastore *ds, struct ds_peer *p, size_t m);
/* The worker's: our own Node's reflector role, as the watch saw it; when it
 * changed, the cache is written and the loop told (as for a peer change). */
void ds_self_set(struct datastore *ds, bool reflector, struct in_addr cluster_id);
/* ds_leases_filter's report: one log line per unfit entry, until it changes. */
void ds_report_bad(void *arg, const char *key, const char *why);
void ds_cache_write(struct datastore *ds, const struct ds_peer *p, size_t n);
int ds_cache_read(struct datastore *ds);
void ds_subnet_env_write(struct datastore *ds);

/* kubestore.c */
int ds_kube_open(struct datastore *ds, const struct roostd_conf *c, char *err, size_t errlen);
void *ds_kube_worker(void *arg);
void ds_kube_free(struct datastore *ds);

/* svcwatch.c: starts the threads (ds->kc set), with the last list from
 * state_dir/services.json, and waits up to 3 s for the first lists from
 * the API server; ds_svc_stop after ds->stop
 * was written to joins and frees them. */
int ds_svc_start(struct datastore *ds, const char *state_dir);
void ds_svc_stop(struct datastore *ds);
/* {"services": N, "endpointslices": N, "listed": bool, "addresses": N} */
json_t *ds_svc_status_json(struct datastore *ds);

#endif
