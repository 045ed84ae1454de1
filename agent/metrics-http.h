/* SPDX-License-Identifier: MIT */
/*
 * metrics-http.h - the metrics thread: serves GET /metrics at
 * agent.metrics_listen and writes agent.metrics_textfile every
 * METRICS_TEXTFILE_INTERVAL_S, with a poll() loop of its own, so no scrape,
 * however slow its client or BIRD, delays roostd's loop.
 *
 * HTTP is deliberately tiny: one request per connection, answered and
 * closed; only GET /metrics exists. Clients are non-blocking; at most
 * METRICS_MAX_CLIENTS are served at once (the rest wait in the backlog),
 * and each must have sent its request and read the answer within
 * METRICS_CLIENT_TIMEOUT_MS of connecting, or it is dropped.
 */
#ifndef ROOST_METRICS_HTTP_H
#define ROOST_METRICS_HTTP_H

#include "conf.h"
#include "metrics.h"
#include "share.h"

#define METRICS_MAX_CLIENTS 16
#define METRICS_CLIENT_TIMEOUT_MS 3000

struct metrics_server;

/* Listens on c->metrics_addr when c->metrics_on (on the caller's thread, so
 * a port in use stops roostd's start), then starts the thread. m and s stay
 * the caller's and must outlive the server. 0 and an owned *ret, or -errno
 * (logged). */
int metrics_server_start(struct metrics *m, struct share *s, const struct roostd_conf *c,
			 struct metrics_server **ret);
/* Stops the thread (after the scrape in progress, if any) and closes all. */
void metrics_server_stop(struct metrics_server *srv);

#endif
