/* SPDX-License-Identifier: MIT */
/*
 * status.h - what roostctl shows: the node's state and an audit of its
 * routes, gathered by roostd from its config, BIRD (control socket) and the
 * kernel (netlink), as JSON objects for the agent socket.
 */
#ifndef ROOST_STATUS_H
#define ROOST_STATUS_H

#include <jansson.h>

#include "bird.h"
#include "conf.h"
#include "ipam.h"

/* {"node":{...}, "pool":{...}, "config":{...}, "bird":{...},
 *  "sessions":[{name, kind, address, asn, state, since, bfd, imported,
 *               exported, filtered, last_error, expected}], "healthy":bool,
 *  "announced":[{prefix, when, why}]}
 * healthy: BIRD answers and every expected session is Established. */
json_t *status_node(const struct roostd_conf *c, const struct bird *b, const struct ipam *ipam);

/* {"checked":N, "drift":[{kind, prefix, detail, bird_via, kernel_via}]}
 * kinds: missing (should be in the kernel and is not, or a configured node
 * announces nothing), extra (a `proto bird` route BIRD does not have),
 * nexthop (kernel and BIRD disagree), unreachable (BIRD cannot resolve the
 * next hop), sync_error (the kernel refused BIRD's route), filtered (routes
 * a session's import policy dropped). NULL with *reterr when BIRD or the
 * kernel cannot be asked. */
json_t *status_audit(const struct roostd_conf *c, char *reterr, size_t errlen);

/* svc.c: what the node announces to external peers (bgp.announce and
 * bgp.services), and why. */
json_t *svc_status_json(const struct roostd_conf *c);

#endif
