/* SPDX-License-Identifier: MIT */
/*
 * share.h - what roostd's loop shares with its other threads (the metrics
 * thread and the roostctl worker), and how.
 *
 * The configuration in force: the loop owns it and is its only writer. A
 * reader (share_conf_get .. share_conf_put) may hold it across BIRD queries;
 * the loop never waits for one: it asks for the write side with
 * share_write_try() and, while readers hold it, keeps serving and asks again
 * a moment later. Once the loop has asked, new readers wait, so a steady
 * stream of scrapes cannot starve a reload. Between share_write_try() and
 * share_write_done() the loop may change or replace the configuration.
 *
 * Node figures (pool, BIRD pid, reload and session counters): a copy the
 * loop publishes after each event, read whole under a mutex.
 */
#ifndef ROOST_SHARE_H
#define ROOST_SHARE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "conf.h"

struct share_node {
	size_t pool_size, pool_used; /* the IPv4 pool; the IPv6 one on an IPv6-only node */
	size_t pool_held;            /* IPv4: released, their veths still going */
	bool has_pool6;              /* node.pod_cidr6 is set: the IPv6 pool below */
	uint64_t pool6_size;         /* saturates at UINT64_MAX (a /64) */
	size_t pool6_used, pool6_held; /* held: released, their veths still going */
	pid_t bird_pid; /* 0 when not running or unknown */
	unsigned bird_starts;
	unsigned long reloads_ok, reloads_failed;
	unsigned long session_ups, session_downs;
	size_t conflicts;                   /* subnets a non-owner claims, now */
	unsigned long long conflicts_total; /* distinct conflicts since start */
};

struct share {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	const struct roostd_conf *conf; /* borrowed from the loop; guarded by mu */
	unsigned readers;               /* guarded by mu */
	bool writer;                    /* guarded by mu: the loop wants to write */
	struct share_node node;         /* guarded by mu */
};

void share_init(struct share *s, const struct roostd_conf *conf);
void share_done(struct share *s);

/* Reader side (any thread but the loop's). */
const struct roostd_conf *share_conf_get(struct share *s);
void share_conf_put(struct share *s);
void share_node_get(struct share *s, struct share_node *ret);

/* Loop side. true: no reader holds the configuration and none gets it until
 * share_write_done(conf) publishes conf (the same or a new one). false: call
 * again later (readers still hold it; new ones wait). */
bool share_write_try(struct share *s);
void share_write_done(struct share *s, const struct roostd_conf *conf);
bool share_write_waiting(struct share *s);
void share_node_set(struct share *s, const struct share_node *n);

#endif
