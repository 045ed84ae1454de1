/* SPDX-License-Identifier: MIT */
/*
 * egress.h - the node's egress masquerade: the nftables table roostd owns.
 *
 * Pod traffic that leaves the cluster's networks is masqueraded to the
 * node's address in `table ip roost` (one table per address family: a
 * node with an IPv6 pod subnet has `table ip6 roost` of the same shape). roostd replaces the table
 * as a whole, in one nftables transaction, at every start and reload, and
 * deletes it when egress.masquerade is turned off. It never deletes it on
 * exit: masquerading goes on while roostd restarts.
 */
#ifndef ROOST_EGRESS_H
#define ROOST_EGRESS_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"

#define EGRESS_TABLE "roost"

/* The nft script that makes the kernel's state what c asks for: the table
 * replaced (masquerade on) or removed (off, or a node without pods), in
 * one transaction. Pure (no kernel access): 0 and a malloc'ed *ret_text,
 * or -ENOMEM. */
int egress_render(const struct roostd_conf *c, char **ret_text);

/* Runs script (from egress_render) through libnftables: all or nothing.
 * 0, or -errno with nftables' message in err. Thread-safe (serialised). */
int egress_apply(const char *script, char *err, size_t errlen);

struct egress_state {
	bool present;            /* table ip roost exists */
	long long masqueraded;   /* connections the masquerade rule translated, -1 unknown */
	bool present6;           /* table ip6 roost exists */
	long long masqueraded6;  /* ... its rule's count, -1 unknown */
	char error[256];         /* "" unless nftables could not be asked */
};

/* What the kernel has now (for roostctl status). 0 or -errno (then
 * ret->error says why). Thread-safe. */
int egress_state_get(struct egress_state *ret);

#endif
