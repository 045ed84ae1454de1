/* SPDX-License-Identifier: MIT */
/*
 * ipam.h - pod addresses out of the node's pod subnet, kept on disk.
 *
 * The pool is the node subnet minus its network address, its gateway (the
 * first address, on the bridge) and its broadcast address. One record per
 * attachment (container id, ifname), as one file per address, like
 * host-local, so "who holds 10.244.1.37?" is `cat <dir>/10.244.1.37`:
 *
 *   <state_dir>/<network>/10.244.1.37    "<container id>\n<ifname>\n<since epoch s>\n<origin>\n"
 *   <state_dir>/<network>/last_reserved  the last address handed out
 *   <state_dir>/<network>/lock           flock()ed while the pool is open
 *
 * Records are written crash-safely (temp file, fsync, rename, fsync of the
 * folder), so a crash leaves either the old or the new record, never half
 * of one. Allocation is round-robin from the last address handed out (as
 * host-local does): a pod that is re-created at once does not get the
 * address its predecessor's peers may still have in their caches.
 *
 * Not thread-safe: only roostd's main thread calls it (the background sync
 * thread inside touches the folder and p->sync only; the teardown threads
 * never touch the pool). The flock keeps a second roostd away from the
 * same folder.
 */
#ifndef ROOST_IPAM_H
#define ROOST_IPAM_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <time.h>

#define IPAM_ID_MAX 255    /* CNI container id, bytes */
#define IPAM_IFNAME_MAX 15 /* IFNAMSIZ - 1 */

struct ipam;

struct ipam_record {
	char container_id[IPAM_ID_MAX + 1];
	char ifname[IPAM_IFNAME_MAX + 1];
	struct in_addr address;
	time_t since;
	char origin[16]; /* "roost", or "host-local" for an imported reservation */
};

struct ipam_key {
	const char *container_id;
	const char *ifname;
};

/* Opens (creating folders as needed, mode 0700) the pool of network `network`
 * ([A-Za-z0-9][A-Za-z0-9_.-]*, at most 64) for subnet net/plen under
 * state_dir, and loads its records. Records outside the subnet, unreadable or
 * for reserved addresses are logged and moved aside (renamed *.bad), never
 * silently dropped. Returns 0 and an owned *ret, -EBUSY when another process
 * holds the lock, -EINVAL for bad arguments, or another -errno. */
int ipam_open(const char *state_dir, const char *network, struct in_addr net, unsigned plen,
	      struct ipam **ret);
void ipam_free(struct ipam *p);

/* Hands out an address to (container_id, ifname) and writes its record.
 * -EEXIST when the attachment has one already (*ret_addr gets it),
 * -ENOSPC when the pool is exhausted, -EINVAL for a bad id or ifname
 * (CNI rules: id ^[A-Za-z0-9][A-Za-z0-9_.-]*$ up to 255 bytes; ifname 1-15
 * bytes, not "." or "..", no '/', ':' or whitespace), -errno on I/O errors
 * (nothing half-written stays behind; the pool is unchanged). */
int ipam_allocate(struct ipam *p, const char *container_id, const char *ifname,
		  struct in_addr *ret_addr);

/* ipam_allocate() in two steps, so an ADD overlaps the disk's two syncs
 * with its netlink work: ipam_allocate_deferred() reserves the address in
 * memory and puts its record in place, and syncs it (file, then folder) in
 * a background thread; ipam_commit() waits for that sync. The address must
 * not be handed to anyone before ipam_commit() returned 0; when the sync
 * failed, ipam_commit() has released the address again and returns -errno.
 * ipam_commit() finishes whichever step is pending (allocation or release,
 * below) and returns 0 when none is. Every other call that changes the
 * pool (and ipam_free) commits first, ignoring (but logging) a failure. */
int ipam_allocate_deferred(struct ipam *p, const char *container_id, const char *ifname,
			   struct in_addr *ret_addr);
int ipam_commit(struct ipam *p);

/* Releases the attachment's address. 0 when released (*ret_addr, may be
 * NULL, gets it), -ENOENT when it had none (DEL is idempotent: callers treat
 * that as success), -errno on I/O errors. An id or ifname that breaks the CNI
 * rules never had an address: -ENOENT, not -EINVAL. After an I/O error the
 * address stays reserved; calling again finishes the job. */
int ipam_release(struct ipam *p, const char *container_id, const char *ifname,
		 struct in_addr *ret_addr);

/* ipam_release() in two steps, so a DEL overlaps the record's removal with
 * its other work: ipam_release_deferred() starts removing the record in the
 * background (-ENOENT when there is none; *ret_addr gets the address);
 * ipam_commit() then frees the address, or returns -errno and keeps it
 * reserved. With hold set, ipam_commit() removes the attachment (it is
 * found, listed and GCed no more) but holds its address, which no one gets
 * until ipam_unhold(): for an interface that still carries the address
 * until it is deleted. Held addresses live in memory only; after a restart
 * they are free, and reconcile has deleted the interfaces by then.
 * ipam_abort_release() instead keeps the address and puts its record back
 * (for a DEL whose veth could not be deleted). */
int ipam_release_deferred(struct ipam *p, const char *container_id, const char *ifname,
			  bool hold, struct in_addr *ret_addr);
void ipam_abort_release(struct ipam *p);

/* Frees a held address: 0, -ENOENT when it is not held. */
int ipam_unhold(struct ipam *p, struct in_addr addr);
/* Addresses held (counted in ipam_used(): no one can have them). */
size_t ipam_held(const struct ipam *p);

/* Looks up an attachment: 0 and *ret, or -ENOENT. */
int ipam_find(const struct ipam *p, const char *container_id, const char *ifname,
	      struct ipam_record *ret);

/* Every record, ordered by address. *ret is an owned array (free()), NULL
 * when there is none. */
int ipam_list(const struct ipam *p, struct ipam_record **ret, size_t *ret_n);

/* Both 0 for p == NULL (a node without pods has no pool). */
size_t ipam_used(const struct ipam *p);
size_t ipam_size(const struct ipam *p); /* addresses the pool can hand out */

/* Releases every record whose (container_id, ifname) is not in valid[0..n).
 * Keeps going after an I/O error and returns the first one. *ret_released
 * (owned array, may be NULL when the caller does not want it) lists what went.
 * *ret_released and *ret_n_released are set on that error too (what did go),
 * and *ret_released is NULL when nothing went. */
int ipam_gc(struct ipam *p, const struct ipam_key *valid, size_t n_valid,
	    struct ipam_record **ret_released, size_t *ret_n_released);
/* ipam_gc(), but every released address is held (see ipam_release_deferred)
 * until the caller has deleted its interface and calls ipam_unhold(). */
int ipam_gc_hold(struct ipam *p, const struct ipam_key *valid, size_t n_valid,
		 struct ipam_record **ret_released, size_t *ret_n_released);

/* Imports host-local's reservations from dir (e.g.
 * /var/lib/cni/networks/cbr0): every file named after an IPv4 address of the
 * pool, content "<id>\r\n<ifname>" or the older "<id>" alone (ifname then
 * taken as "eth0"), becomes a record with origin "host-local" unless that
 * address or attachment already has one. host-local's files are left as they
 * are until such a record is released (DEL or GC): then its host-local file
 * goes too, when it still names the same container, so the next import does
 * not bring the reservation back. Returns the number imported or -errno; a missing dir imports 0. The
 * record's since is the host-local file's mtime (host-local writes it at
 * ADD); files that are not reservations are logged and skipped. */
int ipam_import_host_local(struct ipam *p, const char *dir);

/* CNI's rules for a container id and an interface name, as ipam_allocate()
 * applies them, for callers that want to check before doing anything else. */
/* Shared with the IPv6 pool (ipam6.c), whose records are the same text:
 * ipam_file_read() reads a small regular file in dirfd into buf
 * (NUL-terminated; -EFBIG when it has more than len - 1 bytes, -EINVAL when
 * it is no file or holds a NUL byte), ipam_record_parse() parses
 * "<id>\n<ifname>\n<since>\n<origin>\n" into *rec (address left 0):
 * 0 or -EINVAL. */
int ipam_file_read(int dirfd, const char *name, char *buf, size_t len, struct stat *ret_st);
int ipam_record_parse(char *buf, struct ipam_record *rec);
bool ipam_container_id_valid(const char *id);
bool ipam_ifname_valid(const char *ifname);

#endif
