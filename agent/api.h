/* SPDX-License-Identifier: MIT */
/*
 * api.h - roostd's agent socket: the server side of api-proto.h.
 *
 * A unix stream socket, mode 0600, owned by root; peers that are not root
 * (SO_PEERCRED) are refused. One request per connection. Requests are read
 * from up to API_MAX_CLIENTS connections at once in roostd's poll loop, and
 * each complete one is served to the end before the next, on the loop's
 * thread (so requests are serialised and IPAM needs no locks), except:
 * STATUS, NODE_STATUS and AUDIT ask BIRD, which may take seconds, so the
 * connection goes to the query worker (ctx->queries), which answers it; and
 * an ADD that must wait for a veth teardown (pod.h) is parked and served
 * again when teardown jobs finish (api_teardown_done()), answered "busy"
 * (code 11) after API_PARK_TIMEOUT_MS. A client that does not send a
 * complete request within API_CLIENT_TIMEOUT_MS is dropped; a connection
 * beyond API_MAX_CLIENTS gets "busy" (code 11) at once. Memory is bounded:
 * API_MAX_CLIENTS * ROOST_API_MAX_BODY at most.
 */
#ifndef ROOST_API_H
#define ROOST_API_H

#include <jansson.h>
#include <poll.h>

#include "bird.h"
#include "conf.h"
#include "ipam.h"
#include "ipam6.h"
#include "metrics.h"
#include "share.h"
#include "worker.h"

#define API_CLIENT_TIMEOUT_MS 2000
#define API_MAX_CLIENTS 64
#define API_PARK_TIMEOUT_MS 10000

struct api;

struct api_ctx {
	const struct roostd_conf *conf; /* borrowed */
	struct ipam *ipam;              /* borrowed; NULL on an IPv6-only node */
	struct ipam6 *ipam6;            /* borrowed; NULL without node.pod_cidr6 */
	const struct bird *bird;        /* borrowed */
	struct metrics *metrics;        /* borrowed; may be NULL */
	struct datastore *ds;           /* borrowed; NULL without a datastore */
	struct teardown *td;            /* borrowed; NULL: veths deleted in line */
	struct worker *queries;         /* borrowed; STATUS, NODE_STATUS, AUDIT run there */
	struct share *share;            /* borrowed; what the query worker reads */
};

/* Binds the socket at path (unlinking a stale one; -EADDRINUSE when another
 * process answers on it). Returns 0 and an owned *ret, or -errno (logged). */
int api_open(const char *path, struct api **ret);
void api_free(struct api *a); /* closes and unlinks the socket */
int api_fd(const struct api *a);

/* Accepts the connections that are pending (call when api_fd() is readable). */
void api_serve(struct api *a, const struct api_ctx *ctx);

/* Fills p[0..max) with the open client connections; returns how many. */
size_t api_pollfds(const struct api *a, struct pollfd *p, size_t max);

/* Reads from the clients poll() marked in p[0..n) and serves each complete
 * request; drops clients whose time is up. */
void api_handle(struct api *a, const struct pollfd *p, size_t n, const struct api_ctx *ctx);

/* Reaps the teardown pool's finished jobs (frees their held addresses)
 * and serves the parked requests again. Call when teardown_fd() is
 * readable. */
void api_teardown_done(struct api *a, const struct api_ctx *ctx);

/* ms until the first client's deadline, -1 when none. */
int api_timeout_ms(const struct api *a);

/* A STATUS, NODE_STATUS or AUDIT request for c and the node figures n (any
 * thread; asks BIRD with bounded waits). The reply, a new reference. */
json_t *api_node_query(const json_t *req, const struct roostd_conf *c, const struct share_node *n,
		       struct datastore *ds);

/* Handles one decoded request on the caller's thread, NODE_STATUS and AUDIT
 * included; returns the reply (new reference). Exposed for tests. */
json_t *api_dispatch(const struct api_ctx *ctx, const json_t *req);

#endif
