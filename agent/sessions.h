/* SPDX-License-Identifier: MIT */
/*
 * sessions.h - watches BIRD's BGP sessions and logs each change of state,
 * one line per event:
 *   session: up name=node_node2 kind=mesh address=172.31.0.12 was=Connect
 *   session: down name=node_node2 kind=mesh address=172.31.0.12 state=Active reason="Socket: Connection refused"
 *
 * BIRD logs nothing of this by itself (without `debug protocols`), and a
 * network team asks "when did it go down, and why". The watcher asks BIRD
 * `show protocols` once a second over a control connection of its own,
 * without ever blocking roostd's loop: the socket is non-blocking and its
 * replies are read as they come (a frozen BIRD only delays the watcher).
 */
#ifndef ROOST_SESSIONS_H
#define ROOST_SESSIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "owners.h"

#define SESSIONS_INTERVAL_MS 1000

struct sessions_seen;

struct sessions {
	int fd; /* control connection, -1 when closed */
	enum { SW_IDLE, SW_GREETING, SW_REPLY, SW_ROUTES, SW_FILTERED } phase;
	char *buf; /* reply bytes so far */
	size_t len, cap;
	int64_t next; /* rst_now_ms(): next query */
	struct sessions_seen *seen; /* last known state of each BGP session */
	size_t n_seen;
	bool primed; /* one listing seen: later differences are events */
	unsigned long ups, downs; /* counted since start, for metrics */
	unsigned long rounds;     /* listings seen since start */
	struct owners *owners; /* borrowed; fed BIRD's routes to node subnets, or NULL */
	struct bc_route *routes; /* accepted routes of this round (owned) */
	size_t n_routes;
};

void sessions_init(struct sessions *s);
void sessions_done(struct sessions *s);

/* For poll(): the fd (or -1) and the ms until the watcher wants to run. */
int sessions_fd(const struct sessions *s);
int sessions_timeout_ms(const struct sessions *s);
/* BIRD (re)started: look now, not at the next interval, so that the first
 * listing (which sets what counts as a change) comes before its sessions
 * are up. */
void sessions_kick(struct sessions *s);

/* Does whatever is due: connect, send the query, read what arrived, and log
 * the differences against the last listing; then, with s->owners, ask for
 * the routes to node subnets (accepted and filtered) and hand them to
 * owners_update. Never blocks. */
void sessions_tick(struct sessions *s, const struct roostd_conf *c);

/* Whether BGP protocol name was Established in the last listing. */
bool sessions_established(const struct sessions *s, const char *name);

/* The address of a configured neighbour's session, as text: IPv4 when both
 * ends have one, else its IPv6 address (an IPv6-only node or neighbour, a
 * ToR given by address6). Leaves addr alone when it has neither. */
void session_addr(const struct roostd_conf *c, struct in_addr a4, const struct in6_addr *a6,
		  char *addr, size_t len);

#endif
