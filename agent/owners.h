/* SPDX-License-Identifier: MIT */
/*
 * owners.h - who owns which pod subnet, and who else claims it.
 *
 * A pod subnet is routed only to the node that owns it. The configuration
 * (bgp.mesh pod_cidr) and the datastore's leases say who owns what; where
 * they are silent, the first node whose route to a subnet BIRD accepted owns
 * it ("learned"): roostd writes that into the rendered import policy and
 * keeps it in <state_dir>/owners.json, so a restart changes nothing. A
 * learned owner is forgotten when no route from it has been in BIRD for the
 * graceful-restart time (its node is gone), never sooner.
 *
 * Any other node's route to an owned subnet is filtered by BIRD (import keep
 * filtered), and is a conflict: logged once, counted, and reported by
 * `roostctl audit`. The functions here are pure except owners_open/_save
 * (the file) and the log lines of owners_update.
 *
 * IPv6 pod subnets follow the same rules (bgp.mesh pod_cidr6, else the
 * first node to announce it, by its global IPv6 next hop), kept apart
 * (learned6, "learned6" in the file) so the IPv4 policy renders as before.
 */
#ifndef ROOST_OWNERS_H
#define ROOST_OWNERS_H

#include <stdbool.h>
#include <stddef.h>

#include "bc-ctl.h"
#include "birdconf.h"
#include "conf.h"

struct owners_conflict {
	char subnet[64];   /* "10.244.2.0/24" */
	char owner[64];    /* the owner's name, or its address */
	char claimant[80]; /* the claimant's name, or its address */
	char session[65];  /* the BIRD protocol the claim came on */
};

struct owners {
	char *path;                 /* <state_dir>/owners.json (owned) */
	char *state_dir;            /* owned */
	struct bc_owner *learned;   /* owned */
	long long *absent_since_ms; /* per learned owner: 0 while its route is in BIRD */
	size_t n_learned;
	struct bc_owner6 *learned6;  /* owned: IPv6 first announcers */
	long long *absent6_since_ms; /* per learned6 entry, as absent_since_ms */
	size_t n_learned6;
	/* A dual-stack reflector: each IPv4 client's IPv6 address, the first
	 * global IPv6 next hop its session announced ("clients6" in the file),
	 * kept and forgotten as learned owners are. */
	struct bc_client6 *clients6; /* owned */
	long long *client6_absent_ms;
	size_t n_clients6;
	struct owners_conflict *conflicts; /* the current ones (owned) */
	size_t n_conflicts;
	unsigned long long conflicts_total; /* distinct conflicts seen since start */
	bool changed; /* learned owners changed: render and apply again */
	bool retry;   /* the last apply failed: set changed again next round */
};

/* Reads <state_dir>/owners.json (absent: none). Entries that no longer fit
 * the configuration are dropped with a log line. 0 or -ENOMEM. */
int owners_open(struct owners *o, const struct roostd_conf *c);
void owners_done(struct owners *o);

/* The argument of `show route` that lists the BGP routes to node subnets
 * (of both families on a dual-stack node): accepted ones, or (filtered) the
 * ones an import filter dropped. */
void owners_query(const struct roostd_conf *c, bool filtered, char *buf, size_t len);

/* One look at BIRD: accepted and filtered routes from owners_query. Learns
 * owners of unowned subnets, forgets learned owners that are gone, logs new
 * and resolved conflicts. Sets o->changed and saves the file when the
 * learned owners changed. now_ms: a monotonic clock. */
void owners_update(struct owners *o, const struct roostd_conf *c, const struct bc_route *acc,
		   size_t n_acc, const struct bc_route *filt, size_t n_filt, long long now_ms);

/* The owners to render: c->owners (leases), then the learned ones that
 * neither a lease nor a mesh entry covers. malloc'ed into *ret (may be
 * NULL when there are none). 0 or -ENOMEM. */
int owners_merge(const struct bc_owner *learned, size_t n_learned, const struct roostd_conf *c,
		 struct bc_owner **ret, size_t *ret_n);

/* The IPv6 owners to render: the learned ones that no mesh entry's
 * pod_cidr6 covers (malloc'ed into *ret, may be NULL). 0 or -ENOMEM. */
int owners_merge6(const struct bc_owner6 *learned6, size_t n_learned6, const struct roostd_conf *c,
		  struct bc_owner6 **ret, size_t *ret_n);

/* The client IPv6 addresses to render: those that fit c (a dual-stack
 * reflector, from inside bgp.reflector.clients; malloc'ed into *ret, may be
 * NULL). 0 or -ENOMEM. */
int owners_clients6(const struct bc_client6 *v, size_t n, const struct roostd_conf *c,
		    struct bc_client6 **ret, size_t *ret_n);

/* The conflicts among filtered routes filt, given the learned owners.
 * malloc'ed into *ret. Returns their number, or -ENOMEM. */
long owners_conflicts(const struct roostd_conf *c, const struct bc_owner *learned,
		      size_t n_learned, const struct bc_route *filt, size_t n_filt,
		      struct owners_conflict **ret);

/* As owners_conflicts, for the IPv6 routes of filt (learned6: the IPv6
 * first announcers). */
long owners_conflicts6(const struct roostd_conf *c, const struct bc_owner6 *learned6,
		       size_t n_learned6, const struct bc_route *filt, size_t n_filt,
		       struct owners_conflict **ret);

/* Reads the learned owners of <state_dir>/owners.json that fit c. */
int owners_load(const struct roostd_conf *c, struct bc_owner **ret, size_t *ret_n);

/* Likewise, the IPv6 ones. */
int owners_load6(const struct roostd_conf *c, struct bc_owner6 **ret, size_t *ret_n);

/* Who owns the IPv6 node subnet prefix ("fd00:10:244:2::/64"): this node, a
 * mesh entry's or lease's pod_cidr6, else (with learned) its first
 * announcer; its name (or address) into name. false when nobody does. */
bool owners_owner6(const struct roostd_conf *c, const struct bc_owner6 *learned, size_t nl,
		   const char *prefix, char *name, size_t namelen);

#endif
