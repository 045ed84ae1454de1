/* SPDX-License-Identifier: MIT */
/*
 * ipam6.c - the node's IPv6 pod address pool, one file per reserved address.
 *
 * DOC: an address is a 128-bit number (u128, host order); memory holds an
 * array of entries sorted by address, each an owned record plus a held flag
 * (the record is off the disk but an interface may still carry the
 * address). The folder is the truth at ipam6_open(); after that every change
 * is written to disk first and only then made in memory. Allocation starts
 * after the round-robin cursor and walks the sorted entries from there: the
 * first gap is the address handed out, so it costs O(log n) plus the run of
 * taken addresses right after the cursor.
 *
 * A deferred allocation (ipam6_allocate_deferred) puts the entry in memory
 * at once and has a thread write the record (p->sync); ipam6_commit() joins
 * it and takes the entry back when the write failed. A deferred release
 * (ipam6_release_deferred) has the thread remove the record; ipam6_commit()
 * then drops the entry or marks it held, or keeps it when the removal
 * failed. Every call that changes the pool commits first, so at most one
 * write or removal is in flight.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rst.h"
#include "ipam6.h"
#include "log.h"
#include "rst-util.h"

__extension__ typedef unsigned __int128 u128;

#define IPAM6_NETWORK_MAX 64
#define IPAM6_ORIGIN "roost"
#define IPAM6_LAST_RESERVED "last_reserved"
#define IPAM6_LOCK "lock"
#define IPAM6_TMP_PREFIX ".tmp."
#define IPAM6_RECORD_MAX (IPAM_ID_MAX + IPAM_IFNAME_MAX + 21 + 16 + 4)

struct entry {
	u128 addr;
	struct ipam6_record *rec; /* owned */
	bool held;
};

struct ipam6 {
	char *path; /* owned, "<state_dir>/<network>" */
	int dirfd;
	int lockfd;
	u128 net;
	u128 first, last_addr; /* the pool: net + 2 .. the subnet's last address */
	unsigned plen;
	u128 cursor; /* last handed out, 0 when none */
	struct entry *e; /* owned, sorted by addr */
	size_t n, cap;
	/* ipam6_allocate_deferred(): the record written (and synced) by a
	 * thread while the ADD does its netlink work; ipam6_release_deferred():
	 * the record removed (and the folder synced) by a thread while the DEL
	 * does its own. ipam6_commit() joins it. The thread touches the
	 * folder, name, content, err and was_gone only. */
	struct {
		bool pending;
		bool threaded;
		bool release, hold; /* a removal (else a write); hold: keep the address */
		bool was_gone;      /* the removal found no file */
		pthread_t thread;
		u128 addr;
		u128 prev_cursor;
		char name[INET6_ADDRSTRLEN];
		char content[IPAM6_RECORD_MAX + 1];
		int err;
	} sync;
};

static u128 to_u128(const struct in6_addr *a)
{
	u128 v = 0;
	int i;

	for (i = 0; i < 16; i++)
		v = (v << 8) | a->s6_addr[i];
	return v;
}

static struct in6_addr from_u128(u128 v)
{
	struct in6_addr a;
	int i;

	for (i = 15; i >= 0; i--) {
		a.s6_addr[i] = (uint8_t)v;
		v >>= 8;
	}
	return a;
}

static void u128_name(u128 v, char buf[static INET6_ADDRSTRLEN])
{
	struct in6_addr a = from_u128(v);

	inet_ntop(AF_INET6, &a, buf, INET6_ADDRSTRLEN);
}

static bool in_pool(const struct ipam6 *p, u128 v)
{
	return v >= p->first && v <= p->last_addr;
}

/* Index of the first entry with addr >= v. */
static size_t lower_bound(const struct ipam6 *p, u128 v)
{
	size_t lo = 0, hi = p->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->e[mid].addr < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int insert_at(struct ipam6 *p, size_t i, u128 v, struct ipam6_record *rec)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct entry *ne = reallocarray(p->e, cap, sizeof(*ne));

		if (!ne)
			return -ENOMEM;
		p->e = ne;
		p->cap = cap;
	}
	memmove(p->e + i + 1, p->e + i, (p->n - i) * sizeof(*p->e));
	p->e[i] = (struct entry){.addr = v, .rec = rec};
	p->n++;
	return 0;
}

static void remove_at(struct ipam6 *p, size_t i)
{
	free(p->e[i].rec);
	memmove(p->e + i, p->e + i + 1, (p->n - i - 1) * sizeof(*p->e));
	p->n--;
}

static ssize_t find_attachment(const struct ipam6 *p, const char *id, const char *ifname)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (!p->e[i].held && strcmp(p->e[i].rec->ifname, ifname) == 0 &&
		    strcmp(p->e[i].rec->container_id, id) == 0)
			return (ssize_t)i;
	return -1;
}

/* ---- files (the format and the crash-safety of ipam.c) ----------------- */

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int fsync_dir(const struct ipam6 *p)
{
	return fsync(p->dirfd) < 0 ? -errno : 0;
}

/* All or nothing; with durable, synced (file and folder) and, when the
 * folder's sync fails, name removed again. */
static int write_file_atomic(const struct ipam6 *p, const char *name, const char *content,
			     bool durable)
{
	char tmp[NAME_MAX + 1];
	int fd, r;

	snprintf(tmp, sizeof(tmp), IPAM6_TMP_PREFIX "%s.%ld", name, (long)getpid());
	fd = openat(p->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	r = write_all(fd, content, strlen(content));
	if (r == 0 && durable && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && renameat(p->dirfd, tmp, p->dirfd, name) < 0)
		r = -errno;
	if (r < 0) {
		(void)unlinkat(p->dirfd, tmp, 0);
		return r;
	}
	if (!durable)
		return 0;
	r = fsync_dir(p);
	if (r < 0 && unlinkat(p->dirfd, name, 0) == 0)
		(void)fsync_dir(p);
	return r;
}

static int record_remove(const struct ipam6 *p, u128 v)
{
	char name[INET6_ADDRSTRLEN];

	u128_name(v, name);
	if (unlinkat(p->dirfd, name, 0) < 0 && errno != ENOENT)
		return -errno;
	return fsync_dir(p);
}

/* The record text is the IPv4 pool's: ipam.c parses it and reads files. */
static int record_parse(char *buf, struct ipam6_record *rec)
{
	struct ipam_record r;

	if (ipam_record_parse(buf, &r) < 0)
		return -EINVAL;
	memset(rec, 0, sizeof(*rec));
	strcpy(rec->container_id, r.container_id);
	strcpy(rec->ifname, r.ifname);
	strcpy(rec->origin, r.origin);
	rec->since = r.since;
	return 0;
}

static int move_aside(const struct ipam6 *p, const char *name, const char *why)
{
	char bad[NAME_MAX + 1];
	int i;

	for (i = 0; i < 100; i++) {
		if (i)
			snprintf(bad, sizeof(bad), "%s.bad.%d", name, i);
		else
			snprintf(bad, sizeof(bad), "%s.bad", name);
		if (renameat2(p->dirfd, name, p->dirfd, bad, RENAME_NOREPLACE) == 0 ||
		    ((errno == EINVAL || errno == ENOSYS) &&
		     renameat(p->dirfd, name, p->dirfd, bad) == 0)) {
			log_warn("ipam6: '%s': '%s' %s, renamed to '%s'", p->path, name, why, bad);
			return 0;
		}
		if (errno != EEXIST)
			break;
	}
	return log_errno(LOG_ERR, errno, "ipam6: '%s': '%s' %s and cannot be moved aside",
			 p->path, name, why);
}

/* 1 and *v when name is an address in canonical form (0 when it is not an
 * address: someone else's file, *.bad). */
static int name_addr(const char *name, u128 *v)
{
	char canon[INET6_ADDRSTRLEN];
	struct in6_addr a;

	if (!strchr(name, ':') || inet_pton(AF_INET6, name, &a) != 1)
		return 0;
	inet_ntop(AF_INET6, &a, canon, sizeof(canon));
	if (strcmp(canon, name) != 0)
		return 0;
	*v = to_u128(&a);
	return 1;
}

static int load_one(struct ipam6 *p, const char *name)
{
	char buf[IPAM6_RECORD_MAX + 2];
	struct ipam6_record *rec;
	size_t i;
	u128 v;
	int r;

	if (strncmp(name, IPAM6_TMP_PREFIX, strlen(IPAM6_TMP_PREFIX)) == 0) {
		if (unlinkat(p->dirfd, name, 0) == 0)
			log_warn("ipam6: '%s': removed '%s', left by a write that did not finish",
				 p->path, name);
		return 0;
	}
	if (!name_addr(name, &v))
		return 0;
	if (!in_pool(p, v))
		return move_aside(p, name, "is not an address of the pool");
	r = ipam_file_read(p->dirfd, name, buf, sizeof(buf), NULL);
	if (r < 0 && r != -EINVAL && r != -EFBIG)
		return log_errno(LOG_ERR, r, "ipam6: '%s': cannot read the record '%s'", p->path,
				 name);
	rec = malloc(sizeof(*rec));
	if (!rec)
		return -ENOMEM;
	if (r >= 0)
		r = record_parse(buf, rec);
	if (r >= 0 && find_attachment(p, rec->container_id, rec->ifname) >= 0)
		r = -EEXIST;
	if (r < 0) {
		free(rec);
		return move_aside(p, name, r == -EEXIST ? "duplicates another record of its attachment"
						       : "is not a readable record");
	}
	rec->address = from_u128(v);
	i = lower_bound(p, v);
	r = insert_at(p, i, v, rec);
	if (r < 0)
		free(rec);
	return r;
}

static int names_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int load(struct ipam6 *p)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL, buf[64];
	size_t n = 0, cap = 0, i;
	int fd, r = 0;
	u128 v;

	fd = openat(p->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while (r == 0 && (errno = 0, de = readdir(d))) {
		if (n == cap) {
			char **nn = reallocarray(names, cap ? cap * 2 : 64, sizeof(*names));

			if (!nn) {
				r = -ENOMEM;
				break;
			}
			names = nn;
			cap = cap ? cap * 2 : 64;
		}
		if (!(names[n] = strdup(de->d_name)))
			r = -ENOMEM;
		else
			n++;
	}
	if (r == 0 && errno)
		r = -errno;
	closedir(d);
	/* Sorted, so which of two duplicates is kept does not depend on the
	 * folder's order. */
	if (n)
		qsort(names, n, sizeof(*names), names_cmp);
	for (i = 0; i < n && r >= 0; i++)
		r = load_one(p, names[i]);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (r < 0)
		return r;
	r = ipam_file_read(p->dirfd, IPAM6_LAST_RESERVED, buf, sizeof(buf), NULL);
	if (r >= 0) {
		buf[strcspn(buf, " \t\r\n")] = '\0';
		if (name_addr(buf, &v) && in_pool(p, v))
			p->cursor = v;
		else
			log_warn("ipam6: '%s': '" IPAM6_LAST_RESERVED
				 "' is not an address of the pool, ignoring",
				 p->path);
	}
	return 0;
}

void ipam6_free(struct ipam6 *p)
{
	size_t i;

	if (!p)
		return;
	(void)ipam6_commit(p);
	for (i = 0; i < p->n; i++)
		free(p->e[i].rec);
	free(p->e);
	if (p->lockfd >= 0)
		close(p->lockfd);
	if (p->dirfd >= 0)
		close(p->dirfd);
	free(p->path);
	free(p);
}
DEFINE_CLEANUP(struct ipam6 *, ipam6_free)

int ipam6_open(const char *state_dir, const char *network, const struct in6_addr *net,
	       unsigned plen, struct ipam6 **ret)
{
	_cleanup_(ipam6_freep) struct ipam6 *p = NULL;
	u128 host;
	int r;

	if (!state_dir || !state_dir[0] || !ret || !net || !network ||
	    strlen(network) > IPAM6_NETWORK_MAX || !ipam_container_id_valid(network))
		return -EINVAL;
	if (plen < 16 || plen > 124)
		return -EINVAL;
	host = ((u128)1 << (128 - plen)) - 1;
	if (to_u128(net) & host)
		return -EINVAL;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->dirfd = p->lockfd = -1;
	p->net = to_u128(net);
	p->plen = plen;
	p->first = p->net + 2;
	p->last_addr = p->net | host;
	if (asprintf(&p->path, "%s/%s", state_dir, network) < 0) {
		p->path = NULL;
		return -ENOMEM;
	}
	r = rst_mkdir_p(p->path, 0700);
	if (r < 0)
		return r;
	p->dirfd = open(p->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->dirfd < 0)
		return -errno;
	p->lockfd = openat(p->dirfd, IPAM6_LOCK, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (p->lockfd < 0)
		return -errno;
	if (flock(p->lockfd, LOCK_EX | LOCK_NB) < 0)
		return errno == EWOULDBLOCK ? -EBUSY : -errno;
	r = load(p);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(p);
	return 0;
}

/* The first free address after the cursor (round robin), wrapping once;
 * false when the pool is full. */
static bool next_free(const struct ipam6 *p, u128 *ret)
{
	u128 start = p->cursor && p->cursor < p->last_addr ? p->cursor + 1 : p->first;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		u128 c = start;
		size_t i = lower_bound(p, c);

		for (;;) {
			if (i >= p->n || p->e[i].addr != c) {
				*ret = c;
				return true;
			}
			if (c == p->last_addr)
				break;
			c++;
			i++;
		}
		if (start == p->first)
			break;
		start = p->first;
	}
	return false;
}

static void *sync_thread(void *arg)
{
	struct ipam6 *p = arg;

	if (!p->sync.release) {
		p->sync.err = write_file_atomic(p, p->sync.name, p->sync.content, true);
		return NULL;
	}
	/* A removal: ENOENT (removed by hand) is what was wanted anyway. */
	p->sync.was_gone = false;
	p->sync.err = 0;
	if (unlinkat(p->dirfd, p->sync.name, 0) < 0) {
		p->sync.was_gone = errno == ENOENT;
		p->sync.err = errno == ENOENT ? 0 : -errno;
	}
	if (p->sync.err == 0)
		p->sync.err = fsync_dir(p);
	return NULL;
}

static void sync_start(struct ipam6 *p)
{
	p->sync.pending = true;
	p->sync.threaded = pthread_create(&p->sync.thread, NULL, sync_thread, p) == 0;
	if (!p->sync.threaded)
		(void)sync_thread(p); /* no thread: in line */
}

int ipam6_allocate_deferred(struct ipam6 *p, const char *container_id, const char *ifname,
			    struct in6_addr *ret_addr)
{
	struct ipam6_record *rec;
	ssize_t have;
	u128 v;
	int r;

	if (!p || !ipam_container_id_valid(container_id) || !ipam_ifname_valid(ifname))
		return -EINVAL;
	r = ipam6_commit(p);
	if (r < 0)
		log_errno(LOG_WARNING, r, "ipam6: '%s': an earlier reservation failed", p->path);
	have = find_attachment(p, container_id, ifname);
	if (have >= 0) {
		if (ret_addr)
			*ret_addr = p->e[have].rec->address;
		return -EEXIST;
	}
	if (!next_free(p, &v))
		return -ENOSPC;
	rec = calloc(1, sizeof(*rec));
	if (!rec)
		return -ENOMEM;
	strcpy(rec->container_id, container_id);
	strcpy(rec->ifname, ifname);
	strcpy(rec->origin, IPAM6_ORIGIN);
	rec->since = time(NULL);
	rec->address = from_u128(v);
	snprintf(p->sync.content, sizeof(p->sync.content), "%s\n%s\n%lld\n%s\n",
		 rec->container_id, rec->ifname, (long long)rec->since, rec->origin);
	u128_name(v, p->sync.name);
	/* In memory now (no one else gets the address), on disk once
	 * ipam6_commit() says so. */
	r = insert_at(p, lower_bound(p, v), v, rec);
	if (r < 0) {
		free(rec);
		return r;
	}
	p->sync.release = false;
	p->sync.addr = v;
	p->sync.prev_cursor = p->cursor;
	p->sync.err = 0;
	p->cursor = v;
	sync_start(p);
	if (ret_addr)
		*ret_addr = from_u128(v);
	return 0;
}

int ipam6_commit(struct ipam6 *p)
{
	char buf[INET6_ADDRSTRLEN + 2];
	size_t i;
	int r;

	if (!p || !p->sync.pending)
		return 0;
	if (p->sync.threaded)
		pthread_join(p->sync.thread, NULL);
	p->sync.pending = p->sync.threaded = false;
	if (p->sync.release) {
		i = lower_bound(p, p->sync.addr);
		if (i >= p->n || p->e[i].addr != p->sync.addr)
			return 0; /* cannot happen: nothing else changes the pool meanwhile */
		if (p->sync.err < 0)
			/* Maybe not gone for good: the address stays reserved; a
			 * retry finds the file gone and finishes. */
			return log_errno(LOG_ERR, p->sync.err,
					 "ipam6: '%s': cannot remove the record '%s'", p->path,
					 p->sync.name);
		if (p->sync.was_gone)
			log_warn("ipam6: '%s': the record '%s' was already gone from disk, ignoring",
				 p->path, p->sync.name);
		if (p->sync.hold)
			p->e[i].held = true;
		else
			remove_at(p, i);
		return 0;
	}
	if (p->sync.err < 0) {
		/* Not on disk (write_file_atomic left nothing): not reserved. */
		i = lower_bound(p, p->sync.addr);
		if (i < p->n && p->e[i].addr == p->sync.addr)
			remove_at(p, i);
		p->cursor = p->sync.prev_cursor;
		return p->sync.err;
	}
	/* A hint: losing it in a crash only restarts the round robin. */
	snprintf(buf, sizeof(buf), "%s\n", p->sync.name);
	r = write_file_atomic(p, IPAM6_LAST_RESERVED, buf, false);
	if (r < 0)
		log_errno(LOG_WARNING, r, "ipam6: '%s': cannot write '" IPAM6_LAST_RESERVED "'",
			  p->path);
	return 0;
}

int ipam6_allocate(struct ipam6 *p, const char *container_id, const char *ifname,
		   struct in6_addr *ret_addr)
{
	int r = ipam6_allocate_deferred(p, container_id, ifname, ret_addr);

	if (r < 0)
		return r;
	return ipam6_commit(p);
}

static int release_at(struct ipam6 *p, size_t i, bool hold)
{
	int r = record_remove(p, p->e[i].addr);

	if (r < 0)
		return r;
	if (hold)
		p->e[i].held = true;
	else
		remove_at(p, i);
	return 0;
}

int ipam6_release(struct ipam6 *p, const char *container_id, const char *ifname, bool hold,
		  struct in6_addr *ret_addr)
{
	struct in6_addr a;
	ssize_t i;
	int r;

	if (!p || !ipam_container_id_valid(container_id) || !ipam_ifname_valid(ifname))
		return -ENOENT;
	(void)ipam6_commit(p); /* a failed pending reservation is gone by then */
	i = find_attachment(p, container_id, ifname);
	if (i < 0)
		return -ENOENT;
	a = p->e[i].rec->address;
	r = release_at(p, (size_t)i, hold);
	if (r < 0)
		return log_errno(LOG_ERR, r, "ipam6: '%s': cannot remove the record of '%s' '%s'",
				 p->path, container_id, ifname);
	if (ret_addr)
		*ret_addr = a;
	return 0;
}

int ipam6_release_deferred(struct ipam6 *p, const char *container_id, const char *ifname,
			   bool hold, struct in6_addr *ret_addr)
{
	ssize_t i;
	int r;

	if (!p || !ipam_container_id_valid(container_id) || !ipam_ifname_valid(ifname))
		return -ENOENT;
	r = ipam6_commit(p);
	if (r < 0)
		log_errno(LOG_WARNING, r, "ipam6: '%s': an earlier step failed", p->path);
	i = find_attachment(p, container_id, ifname);
	if (i < 0)
		return -ENOENT;
	if (ret_addr)
		*ret_addr = p->e[i].rec->address;
	p->sync.release = true;
	p->sync.hold = hold;
	p->sync.addr = p->e[i].addr;
	p->sync.err = 0;
	u128_name(p->e[i].addr, p->sync.name);
	sync_start(p);
	return 0;
}

void ipam6_abort_release(struct ipam6 *p)
{
	ssize_t i;
	int r;

	if (!p || !p->sync.pending || !p->sync.release)
		return;
	if (p->sync.threaded)
		pthread_join(p->sync.thread, NULL);
	p->sync.pending = p->sync.threaded = false;
	if (p->sync.was_gone && p->sync.err == 0)
		return; /* it was not on disk before either */
	/* Removed (or maybe): the record goes back as it was. */
	i = (ssize_t)lower_bound(p, p->sync.addr);
	if ((size_t)i >= p->n || p->e[i].addr != p->sync.addr)
		return;
	snprintf(p->sync.content, sizeof(p->sync.content), "%s\n%s\n%lld\n%s\n",
		 p->e[i].rec->container_id, p->e[i].rec->ifname, (long long)p->e[i].rec->since,
		 p->e[i].rec->origin);
	r = write_file_atomic(p, p->sync.name, p->sync.content, true);
	if (r < 0)
		log_errno(LOG_ERR, r,
			  "ipam6: '%s': cannot write back the record %s of '%s'/'%s' (still reserved in memory)",
			  p->path, p->sync.name, p->e[i].rec->container_id, p->e[i].rec->ifname);
}

size_t ipam6_held(const struct ipam6 *p)
{
	size_t i, n = 0;

	for (i = 0; p && i < p->n; i++)
		n += p->e[i].held;
	return n;
}

int ipam6_unhold(struct ipam6 *p, const struct in6_addr *addr)
{
	u128 v;
	size_t i;

	if (!p || !addr)
		return -ENOENT;
	(void)ipam6_commit(p);
	v = to_u128(addr);
	i = lower_bound(p, v);
	if (i >= p->n || p->e[i].addr != v || !p->e[i].held)
		return -ENOENT;
	remove_at(p, i);
	return 0;
}

int ipam6_find(const struct ipam6 *p, const char *container_id, const char *ifname,
	       struct ipam6_record *ret)
{
	ssize_t i;

	if (!p || !container_id || !ifname)
		return -ENOENT;
	i = find_attachment(p, container_id, ifname);
	if (i < 0)
		return -ENOENT;
	if (ret)
		*ret = *p->e[i].rec;
	return 0;
}

int ipam6_list(const struct ipam6 *p, struct ipam6_record **ret, size_t *ret_n)
{
	struct ipam6_record *out = NULL;
	size_t i, n = 0;

	if (p && p->n) {
		out = calloc(p->n, sizeof(*out));
		if (!out)
			return -ENOMEM;
		for (i = 0; i < p->n; i++)
			if (!p->e[i].held)
				out[n++] = *p->e[i].rec;
		if (!n) {
			free(out);
			out = NULL;
		}
	}
	*ret = out;
	*ret_n = n;
	return 0;
}

size_t ipam6_used(const struct ipam6 *p)
{
	return p ? p->n : 0;
}

uint64_t ipam6_size(const struct ipam6 *p)
{
	u128 n;

	if (!p)
		return 0;
	n = p->last_addr - p->first + 1;
	return n > UINT64_MAX ? UINT64_MAX : (uint64_t)n;
}

static int key_cmp(const void *a, const void *b)
{
	const struct ipam_key *x = a, *y = b;
	int c = strcmp(x->container_id, y->container_id);

	return c ? c : strcmp(x->ifname, y->ifname);
}

int ipam6_gc(struct ipam6 *p, const struct ipam_key *valid, size_t n_valid, bool hold,
	     struct ipam6_record **ret_released, size_t *ret_n_released)
{
	struct ipam6_record *gone = NULL;
	struct ipam_key *keys = NULL;
	size_t i = 0, n_gone = 0;
	int first_err = 0;

	if (n_valid && !valid)
		return -EINVAL;
	(void)ipam6_commit(p);
	for (i = 0; i < n_valid; i++)
		if (!valid[i].container_id || !valid[i].ifname)
			return -EINVAL;
	i = 0;
	/* Sorted once, bsearch()ed per record (as ipam.c's GC). */
	if (n_valid) {
		keys = malloc(n_valid * sizeof(*keys));
		if (!keys)
			return -ENOMEM;
		memcpy(keys, valid, n_valid * sizeof(*keys));
		qsort(keys, n_valid, sizeof(*keys), key_cmp);
	}
	if (p && p->n) {
		gone = calloc(p->n, sizeof(*gone));
		if (!gone) {
			free(keys);
			return -ENOMEM;
		}
	}
	while (p && i < p->n) {
		struct ipam6_record rec = *p->e[i].rec;
		struct ipam_key k = {rec.container_id, rec.ifname};
		int r;

		if (p->e[i].held ||
		    (n_valid && bsearch(&k, keys, n_valid, sizeof(*keys), key_cmp))) {
			i++;
			continue;
		}
		r = release_at(p, i, hold);
		if (r < 0) {
			if (!first_err)
				first_err = r;
			i++;
			continue;
		}
		gone[n_gone++] = rec;
		if (hold)
			i++;
	}
	free(keys);
	if (!n_gone) {
		free(gone);
		gone = NULL;
	}
	if (ret_released)
		*ret_released = gone;
	else
		free(gone);
	if (ret_n_released)
		*ret_n_released = n_gone;
	return first_err;
}
