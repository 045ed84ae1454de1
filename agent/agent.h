/* SPDX-License-Identifier: MIT */
/*
 * agent.h - roostd's state, shared by its loop (roostd.c), the configuration
 * changes it applies (reload.c) and the datastore merge (dsmerge.c). Every
 * field belongs to the loop's thread, except share and metrics, which lock;
 * see roostd.c for what the other threads may read, and how.
 */
#ifndef ROOST_AGENT_H
#define ROOST_AGENT_H

#include <stdbool.h>
#include <stddef.h>

#include "api.h"
#include "bird.h"
#include "conf.h"
#include "confwatch.h"
#include "datastore.h"
#include "ipam.h"
#include "ipam6.h"
#include "metrics.h"
#include "owners.h"
#include "sessions.h"
#include "share.h"
#include "teardown.h"
#include "worker.h"

struct metrics_server;

/* One configuration change on its way to BIRD: prepared on the loop, applied
 * by the configurer thread (which touches bird, text and the result only),
 * committed on the loop. */
struct apply_job {
	bool reload;      /* SIGHUP; else a datastore change, or (owners) a new */
	bool owners;      /* import policy after a subnet owner was learned, or */
	int start;        /* BIRD_JOB_START/RESTART: bird_start() or
			   * bird_restart(); bird is the agent's, moved in and
			   * back (roostd's start-up, a restart after BIRD died) */
	struct bird bird; /* the configurer's: conf borrowed from nc or the agent */
	char *text;       /* owned; what is applied */
	int r;            /* bird_apply's result */
	struct rst_err e; /* its error */
	struct roostd_conf *nc; /* reload: owned; the new configuration */
	/* datastore change: the arrays that replace the configuration's */
	struct bc_peer *mesh; /* owned */
	size_t n_mesh;
	struct bc_static_route *static_routes; /* owned */
	size_t n_static_routes;
	struct bc_static_route6 *static_routes6; /* owned */
	size_t n_static_routes6;
	struct bc_owner *lease_owners; /* owned; the leases' subnets and owners */
	size_t n_lease_owners;
	struct bc_peer *route_reflectors; /* owned; Kubernetes: reflectors by label */
	size_t n_route_reflectors;
	bool reflector; /* Kubernetes: this node reflects (by label), and how */
	struct in_addr rr_clients_net, rr_cluster_id;
	unsigned rr_clients_len;
	struct ds_peer *peers; /* owned; the datastore's peer list applied */
	size_t n_peers;
	/* reload: the egress table (egress.c), applied before BIRD's change */
	char *egress;          /* owned; the nft script of nc */
	char *egress_undo;     /* owned; the script in force, put back when BIRD
				* refuses; NULL when the same as egress */
	bool egress_required;  /* nc masquerades: a refusal refuses the reload */
	bool egress_failed;    /* nftables refused egress (e says why) */
	/* bgp.services (svc.c): the addresses that replace the configuration's */
	bool svc;
	struct bc_announce *svc_list; /* owned */
	char (*svc_why)[160];         /* owned */
	size_t n_svc;
};

enum { BIRD_JOB_START = 1, BIRD_JOB_RESTART };

struct agent {
	struct roostd_conf *conf; /* owned; published to other threads through share */
	char *text;               /* owned; the rendered BIRD config in force */
	char *egress;             /* owned; the egress nft script in force (egress.c) */
	struct bird bird;
	struct ipam *ipam; /* owned; NULL on an IPv6-only node */
	struct ipam6 *ipam6; /* owned; NULL without node.pod_cidr6 */
	struct teardown *td; /* owned; deletes pod veths in its own threads */
	struct api *api;   /* owned */
	struct metrics metrics;
	struct metrics_server *metrics_server; /* owned; the metrics thread */
	struct sessions sessions; /* logs BGP session changes, feeds owners */
	struct confwatch confwatch; /* the config file, when agent.watch_config */
	struct owners owners;     /* who owns which pod subnet, as BGP tells */
	struct datastore *ds;     /* owned; NULL without a datastore */
	struct ds_peer *ds_peers; /* owned; the datastore's last applied peer list */
	size_t n_ds_peers;
	struct share share;       /* what the other threads read */
	struct share_node node;   /* the figures published into share */
	struct worker *queries;   /* owned; roostctl status and audit */
	struct worker *configurer; /* owned; BIRD configure, one at a time */

	/* Configuration changes: wanted, in flight, waiting to be committed. */
	bool reload_wanted;          /* SIGHUP seen, reload not started yet */
	struct ds_peer *ds_new;      /* owned; peers not applied yet, NULL when none */
	size_t n_ds_new;
	long long ds_retry_ms;       /* CLOCK_MONOTONIC ms: not before (after a refusal) */
	unsigned long ds_rounds;     /* the session watcher's round last told to ds */
	struct apply_job *applying;  /* on the configurer, NULL when none */
	struct apply_job *finished;  /* applied, its commit waits for the share */
	struct svc_addr *svc_all;    /* owned; bgp.services: the datastore's last list */
	size_t n_svc_all;
	bool svc_wanted;             /* svc_all not applied yet */
	long long svc_retry_ms;      /* CLOCK_MONOTONIC ms: not before (after a refusal) */
	char (*svc_skipped)[200];    /* owned; addresses skipped last time (logged once) */
	size_t n_svc_skipped;
	bool failed;                 /* BIRD cannot run the rendered config: exit 1 */
	bool started;                /* BIRD's first start done, "ready" not logged yet */
};

/* The node side roostd owns: bridge up with the gateway, forwarding. */
int agent_setup_node(const struct roostd_conf *c);
/* Opens a->conf's IPv6 pool into a->ipam6: at start, and at the reload that
 * gives the node an IPv6 pod subnet. 0 or -errno (logged). */
int agent_open_pool6(struct agent *a);
/* bridge.mtu absent: c->bridge_mtu becomes the MTU of the link that has
 * node.address (host-gw adds no header); 1500 when no link has it (logged). */
void agent_mtu_resolve(struct roostd_conf *c);
/* The egress table (egress.c) as c asks, applied at once: roostd's start.
 * 0, or -1 (logged) when masquerade is on and nftables refused it. */
int agent_egress_start(struct agent *a);
/* c's BIRD configuration, with the subnet owners learned at run time (o,
 * may be NULL), malloc'ed into *ret_text. 0 or -errno (logged). */
int agent_render(const struct roostd_conf *c, const struct owners *o, char **ret_text);

/* reload.c: SIGHUP and datastore changes, applied to BIRD on the configurer
 * thread. Call agent_changes_step() after every loop iteration: it starts
 * what is wanted and commits what finished, never waiting. */
void agent_changes_step(struct agent *a);
/* The configurer's done() callback (ctx is the agent, NULL at exit). */
void agent_apply_done(void *arg, void *ctx, bool ran);
/* Starts BIRD (how: BIRD_JOB_START at roostd's start, BIRD_JOB_RESTART when
 * a restart is due) on the configurer thread; a->bird is the job's until it
 * is done. */
void agent_bird_start(struct agent *a, int how);
/* ms until agent_changes_step() wants to run again, -1 when not. */
int agent_changes_timeout_ms(struct agent *a);

/* dsmerge.c: the datastore's leases merged into a configuration. */
int ds_fill(struct roostd_conf *c, struct datastore *ds, const struct ds_peer *p, size_t n);
/* After each look at BIRD's sessions: tell the datastore which nodes route
 * (it keeps their leases alive for them). */
void ds_routing_tick(struct agent *a);
/* The datastore's peers p (taken over) rendered against a->conf, which must
 * not be shared meanwhile (share_write_try) and is unchanged on return: the
 * job to apply, or NULL (logged: not applied). */
struct apply_job *ds_merge_prepare(struct agent *a, struct ds_peer *p, size_t n);
/* After BIRD took j: a->conf gets j's arrays (not shared meanwhile). */
void ds_merge_commit(struct agent *a, struct apply_job *j);
/* After BIRD refused j, or could not be reached. */
void ds_merge_refused(struct agent *a, struct apply_job *j);

void apply_job_free(struct apply_job *j);

/* svc.c: bgp.services. The addresses s[0..n) that c lets this node
 * announce (the kinds it asks for, none inside the cluster pod CIDR or a
 * node's or peer's address: those skipped, logged once through a when not
 * NULL; at most BC_SVC_MAX) into c->svc, c->svc_why, c->n_svc, with
 * bgp.services.cluster_ip_range. 0 or -ENOMEM. */
int svc_fill(struct roostd_conf *c, const struct svc_addr *s, size_t n, struct agent *a);
/* a->svc_all rendered against a->conf (not shared meanwhile): the job to
 * apply, or NULL (nothing to apply, or logged and tried again later). */
struct apply_job *svc_prepare(struct agent *a);
void svc_commit(struct agent *a, struct apply_job *j);
void svc_refused(struct agent *a, struct apply_job *j);

#endif
