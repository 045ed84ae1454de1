/* SPDX-License-Identifier: MIT */
/*
 * metrics.h - Prometheus text exposition of a roost node.
 *
 * Served over HTTP at agent.metrics_listen (loopback by default: GET
 * /metrics) and/or written to agent.metrics_textfile for node_exporter's
 * textfile collector (temp + rename, every METRICS_TEXTFILE_INTERVAL_S).
 * Session and route figures are read from BIRD at scrape time; counters
 * (reloads, CNI requests) live in struct metrics.
 */
#ifndef ROOST_METRICS_H
#define ROOST_METRICS_H

#include <stdbool.h>

#include "bird.h"
#include "conf.h"
#include "ipam.h"

#define METRICS_TEXTFILE_INTERVAL_S 15
#define METRICS_N_BUCKETS 10

enum metrics_verb { MV_ADD, MV_DEL, MV_CHECK, MV_STATUS, MV_GC, MV_OTHER, MV_COUNT };

struct metrics {
	int fd; /* listening TCP socket, -1 when off */
	unsigned long reloads_ok, reloads_failed;
	unsigned long session_ups, session_downs; /* seen by the session watcher */
	size_t conflicts;                         /* subnets claimed by a non-owner, now */
	unsigned long long conflicts_total;       /* distinct conflicts since start */
	struct datastore *ds; /* borrowed; NULL without a datastore */
	unsigned long requests[MV_COUNT][2]; /* [verb][0 ok, 1 error] */
	unsigned long buckets[MV_COUNT][METRICS_N_BUCKETS];
	unsigned long observations[MV_COUNT];
	double seconds[MV_COUNT];
};

/* Listens on c->metrics_addr when c->metrics_on. 0 or -errno (logged). */
int metrics_open(struct metrics *m, const struct roostd_conf *c);
void metrics_close(struct metrics *m);

/* Records one agent request: its verb ("ADD", ...), outcome and duration. */
void metrics_request(struct metrics *m, const char *verb, bool ok, double seconds);

/* The whole exposition, malloc'ed (free()). */
char *metrics_render(const struct metrics *m, const struct roostd_conf *c, const struct bird *b,
		     const struct ipam *ipam);

/* Serves the pending HTTP connections on m->fd. */
void metrics_serve(struct metrics *m, const struct roostd_conf *c, const struct bird *b,
		   const struct ipam *ipam);

/* Writes the exposition to c->metrics_textfile (when set). 0 or -errno. */
int metrics_write_textfile(const struct metrics *m, const struct roostd_conf *c,
			   const struct bird *b, const struct ipam *ipam);

#endif
