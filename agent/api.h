/* SPDX-License-Identifier: MIT */
/*
 * api.h - roostd's agent socket: the server side of api-proto.h.
 *
 * A unix stream socket, mode 0600, owned by root; peers that are not root
 * (SO_PEERCRED) are refused. One request per connection, handled to the end
 * before the next (roostd is single-threaded, so requests are serialised,
 * and IPAM needs no locks). Every read is bounded, so a client that sends
 * nothing costs at most API_CLIENT_TIMEOUT_MS.
 */
#ifndef ROOST_API_H
#define ROOST_API_H

#include <jansson.h>

#include "bird.h"
#include "conf.h"
#include "ipam.h"
#include "metrics.h"

#define API_CLIENT_TIMEOUT_MS 2000

struct api;

struct api_ctx {
	const struct roostd_conf *conf; /* borrowed */
	struct ipam *ipam;              /* borrowed */
	const struct bird *bird;        /* borrowed */
	struct metrics *metrics;        /* borrowed; may be NULL */
};

/* Binds the socket at path (unlinking a stale one; -EADDRINUSE when another
 * process answers on it). Returns 0 and an owned *ret, or -errno (logged). */
int api_open(const char *path, struct api **ret);
void api_free(struct api *a); /* closes and unlinks the socket */
int api_fd(const struct api *a);

/* Accepts and serves every connection that is pending. */
void api_serve(struct api *a, const struct api_ctx *ctx);

/* Handles one decoded request; returns the reply (new reference). Exposed
 * for tests. */
json_t *api_dispatch(const struct api_ctx *ctx, const json_t *req);

#endif
