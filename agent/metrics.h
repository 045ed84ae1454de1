/* SPDX-License-Identifier: MIT */
/*
 * metrics.h - Prometheus text exposition of a roost node.
 *
 * Three parts: this one renders the exposition and keeps the request
 * counters behind it; metrics-http.h serves it at agent.metrics_listen
 * (loopback by default: GET /metrics) from a thread of its own; and
 * metrics-textfile.h writes it to agent.metrics_textfile for node_exporter's
 * textfile collector (temp + rename, every METRICS_TEXTFILE_INTERVAL_S),
 * from that same thread. Session and route figures are read from BIRD at
 * render time, on a control connection of the caller's.
 */
#ifndef ROOST_METRICS_H
#define ROOST_METRICS_H

#include <pthread.h>
#include <stdbool.h>

#include "bird.h"
#include "conf.h"
#include "share.h"

#define METRICS_TEXTFILE_INTERVAL_S 15
#define METRICS_N_BUCKETS 10

enum metrics_verb { MV_ADD, MV_DEL, MV_CHECK, MV_STATUS, MV_GC, MV_OTHER, MV_COUNT };

struct metrics_counters {
	unsigned long requests[MV_COUNT][2]; /* [verb][0 ok, 1 error] */
	unsigned long buckets[MV_COUNT][METRICS_N_BUCKETS];
	unsigned long observations[MV_COUNT];
	double seconds[MV_COUNT];
};

struct metrics {
	pthread_mutex_t mu;
	struct metrics_counters counters; /* guarded by mu */
	struct datastore *ds; /* borrowed (its calls lock); NULL without a datastore */
};

void metrics_init(struct metrics *m, struct datastore *ds);
void metrics_done(struct metrics *m);

/* Records one agent request: its verb ("ADD", ...), outcome and duration.
 * Any thread. */
void metrics_request(struct metrics *m, const char *verb, bool ok, double seconds);

/* The whole exposition, malloc'ed (free()); NULL when out of memory. Asks
 * BIRD (bounded waits), so never call it on roostd's loop. c must stay valid
 * meanwhile (share_conf_get); n is the loop's published node figures. */
char *metrics_render(struct metrics *m, const struct roostd_conf *c, const struct share_node *n);

#endif
