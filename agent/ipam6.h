/* SPDX-License-Identifier: MIT */
/*
 * ipam6.h - IPv6 pod addresses out of the node's IPv6 pod subnet
 * (node.pod_cidr6), kept on disk like ipam.h's IPv4 pool and in the same
 * format, in a folder of its own (network "<agent_network>6"):
 *
 *   <state_dir>/<network>/fd00:10:244:1::5  "<container id>\n<ifname>\n<since epoch s>\n<origin>\n"
 *   <state_dir>/<network>/last_reserved     the last address handed out
 *   <state_dir>/<network>/lock              flock()ed while the pool is open
 *
 * A file is named after the address in its canonical text form (RFC 5952,
 * what inet_ntop() prints), so "who holds fd00:10:244:1::5?" is one `cat`.
 * The pool is the subnet minus its first two addresses (the Subnet-Router
 * anycast address and the gateway on the bridge); IPv6 has no broadcast
 * address. A /64 holds 2^64 addresses: memory keeps the records only, in an
 * array sorted by address (lookups by address bsearch it; allocation walks
 * it from the round-robin cursor).
 *
 * Records are written crash-safely (temp file, fsync, rename, fsync of the
 * folder) before memory changes (a deferred allocation reserves in memory
 * first and takes it back when the write fails); allocation is round-robin
 * from the last address handed out. Not thread-safe: roostd's main thread
 * only (the sync thread touches the folder and its own buffers).
 */
#ifndef ROOST_IPAM6_H
#define ROOST_IPAM6_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ipam.h"

struct ipam6;

struct ipam6_record {
	char container_id[IPAM_ID_MAX + 1];
	char ifname[IPAM_IFNAME_MAX + 1];
	struct in6_addr address;
	time_t since;
	char origin[16]; /* "roost" */
};

/* Opens (creating folders as needed, mode 0700) the pool of network
 * `network` for subnet net/plen (/16../124) under state_dir and loads its
 * records; files named after an address outside the pool, or unreadable,
 * are logged and renamed *.bad. 0 and an owned *ret, -EBUSY when another
 * process holds the lock, -EINVAL for bad arguments, or another -errno. */
int ipam6_open(const char *state_dir, const char *network, const struct in6_addr *net,
	       unsigned plen, struct ipam6 **ret);
void ipam6_free(struct ipam6 *p);

/* As ipam_allocate(): -EEXIST (and *ret_addr) when the attachment has an
 * address already, -ENOSPC when the pool is full, -EINVAL for a bad id or
 * ifname, -errno on I/O errors (nothing stays behind). */
int ipam6_allocate(struct ipam6 *p, const char *container_id, const char *ifname,
		   struct in6_addr *ret_addr);

/* ipam6_allocate() in two steps, as ipam_allocate_deferred() and
 * ipam_commit(): the address is reserved in memory at once and its record
 * written and synced by a thread meanwhile; ipam6_commit() waits for it and
 * returns 0, or -errno with the address released again (nothing on disk).
 * The address is not the pod's before ipam6_commit() returned 0. Every
 * other call that changes the pool (and ipam6_free) commits first. */
int ipam6_allocate_deferred(struct ipam6 *p, const char *container_id, const char *ifname,
			    struct in6_addr *ret_addr);
int ipam6_commit(struct ipam6 *p);

/* As ipam_release(): 0 (and *ret_addr, may be NULL), -ENOENT when the
 * attachment had no address, -errno on I/O errors (the address stays
 * reserved). With hold set, the address is not handed out again until
 * ipam6_unhold() (its interface may still carry it); holds live in memory
 * only. */
int ipam6_release(struct ipam6 *p, const char *container_id, const char *ifname, bool hold,
		  struct in6_addr *ret_addr);
int ipam6_unhold(struct ipam6 *p, const struct in6_addr *addr);

/* ipam6_release() in two steps, as ipam_release_deferred(): a thread
 * removes the record (and syncs the folder) while the caller does its
 * other work; ipam6_commit() then drops the address (or holds it, with
 * hold set), or returns -errno and keeps it reserved. ipam6_abort_release()
 * instead keeps the address and writes its record back. 0 (*ret_addr, may
 * be NULL), -ENOENT when the attachment has no address. */
int ipam6_release_deferred(struct ipam6 *p, const char *container_id, const char *ifname,
			   bool hold, struct in6_addr *ret_addr);
void ipam6_abort_release(struct ipam6 *p);
/* Addresses held (counted in ipam6_used(): no one can have them). */
size_t ipam6_held(const struct ipam6 *p);

int ipam6_find(const struct ipam6 *p, const char *container_id, const char *ifname,
	       struct ipam6_record *ret);
/* Every record, ordered by address; *ret owned (free()), NULL when none. */
int ipam6_list(const struct ipam6 *p, struct ipam6_record **ret, size_t *ret_n);

/* 0 for p == NULL. ipam6_size() saturates at UINT64_MAX. Held addresses
 * count as used. */
size_t ipam6_used(const struct ipam6 *p);
uint64_t ipam6_size(const struct ipam6 *p);

/* As ipam_gc(): releases every record whose attachment is not in valid;
 * with hold set each released address is held (ipam6_unhold()). */
int ipam6_gc(struct ipam6 *p, const struct ipam_key *valid, size_t n_valid, bool hold,
	     struct ipam6_record **ret_released, size_t *ret_n_released);

#endif
