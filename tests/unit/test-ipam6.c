/* SPDX-License-Identifier: MIT */
/*
 * test-ipam6.c - the IPv6 pod address pool: allocation (never the
 * Subnet-Router anycast address or the gateway, round-robin from
 * last_reserved, wrap-around, a full pool), one file per address named in
 * canonical form, reopening, crash debris, the lock, holds, GC, I/O
 * failures. Every test gets its own mkdtemp() folder; no root needed.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "rst.h"
#include "ipam6.h"
#include "log.h"

#define NETWORK "roost6"

struct fx {
	char tmp[64];
	char state[128];
	char pool[192];
	struct ipam6 *p;
};

static struct in6_addr ip6(const char *s)
{
	struct in6_addr a;

	assert_int_equal(inet_pton(AF_INET6, s, &a), 1);
	return a;
}

static const char *ntoa6(struct in6_addr a)
{
	static char buf[INET6_ADDRSTRLEN];

	return inet_ntop(AF_INET6, &a, buf, sizeof(buf));
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->tmp, "/tmp/roost-test-ipam6.XXXXXX");
	assert_non_null(mkdtemp(f->tmp));
	snprintf(f->state, sizeof(f->state), "%s/state", f->tmp);
	snprintf(f->pool, sizeof(f->pool), "%s/" NETWORK, f->state);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ipam6_free(f->p);
	assert_int_equal(nftw(f->tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
	free(f);
	return 0;
}

static int pool_open_len(struct fx *f, const char *net, unsigned plen)
{
	struct in6_addr n = ip6(net);

	return ipam6_open(f->state, NETWORK, &n, plen, &f->p);
}

static int pool_open(struct fx *f)
{
	return pool_open_len(f, "fd00:10:244:1::", 64);
}

static void pool_reopen(struct fx *f)
{
	ipam6_free(f->p);
	f->p = NULL;
	assert_int_equal(pool_open(f), 0);
}

static void path_in(const char *dir, const char *name, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);

	assert_true(n > 0 && (size_t)n < len);
}

static void write_in(const char *dir, const char *name, const char *text)
{
	char path[512];
	int fd;

	path_in(dir, name, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(close(fd), 0);
}

static char *read_in(const char *dir, const char *name)
{
	static char buf[4096];
	char path[512];
	ssize_t n;
	int fd;

	path_in(dir, name, path, sizeof(path));
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		assert_int_equal(errno, ENOENT);
		return NULL;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
	return buf;
}

static int count_prefixed(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(d);
	return n;
}

static const char *alloc_ok(struct fx *f, const char *id, const char *ifname)
{
	struct in6_addr a;

	assert_int_equal(ipam6_allocate(f->p, id, ifname, &a), 0);
	return ntoa6(a);
}

static void test_first_addresses(void **state)
{
	struct fx *f = *state;
	struct ipam6_record rec;
	struct in6_addr a;

	assert_int_equal(pool_open(f), 0);
	assert_true(ipam6_size(f->p) == UINT64_MAX - 1); /* 2^64 - 2 */
	assert_int_equal(ipam6_used(f->p), 0);
	assert_int_equal(ipam6_used(f->p), 0);
	/* ::0 (Subnet-Router anycast) and ::1 (the gateway) are never handed out. */
	assert_string_equal(alloc_ok(f, "a", "eth0"), "fd00:10:244:1::2");
	assert_string_equal(alloc_ok(f, "b", "eth0"), "fd00:10:244:1::3");
	assert_string_equal(alloc_ok(f, "a", "net1"), "fd00:10:244:1::4");
	assert_int_equal(ipam6_used(f->p), 3);
	assert_int_equal(ipam6_allocate(f->p, "a", "eth0", &a), -EEXIST);
	assert_string_equal(ntoa6(a), "fd00:10:244:1::2");
	assert_int_equal(ipam6_find(f->p, "b", "eth0", &rec), 0);
	assert_string_equal(ntoa6(rec.address), "fd00:10:244:1::3");
	assert_string_equal(rec.origin, "roost");
	assert_int_equal(ipam6_find(f->p, "c", "eth0", &rec), -ENOENT);
	assert_int_equal(ipam6_allocate(f->p, "-bad", "eth0", &a), -EINVAL);
	assert_int_equal(ipam6_allocate(f->p, "c", "a/b", &a), -EINVAL);
}

static void test_on_disk_format(void **state)
{
	struct fx *f = *state;
	char want[128], *got;

	assert_int_equal(pool_open(f), 0);
	alloc_ok(f, "ctr1", "eth0");
	got = read_in(f->pool, "fd00:10:244:1::2");
	assert_non_null(got);
	assert_true(strncmp(got, "ctr1\neth0\n", 10) == 0);
	snprintf(want, sizeof(want), "%s", got + 10);
	assert_true(strlen(want) > 2 && strcmp(want + strlen(want) - 7, "\nroost\n") == 0);
	assert_string_equal(read_in(f->pool, "last_reserved"), "fd00:10:244:1::2\n");
	assert_int_equal(count_prefixed(f->pool, ".tmp."), 0);
}

static void test_round_robin_and_release(void **state)
{
	struct fx *f = *state;
	struct in6_addr a;

	assert_int_equal(pool_open(f), 0);
	alloc_ok(f, "a", "eth0"); /* ::2 */
	alloc_ok(f, "b", "eth0"); /* ::3 */
	assert_int_equal(ipam6_release(f->p, "a", "eth0", false, &a), 0);
	assert_string_equal(ntoa6(a), "fd00:10:244:1::2");
	assert_null(read_in(f->pool, "fd00:10:244:1::2"));
	assert_int_equal(ipam6_release(f->p, "a", "eth0", false, &a), -ENOENT);
	assert_int_equal(ipam6_release(f->p, "../x", "eth0", false, &a), -ENOENT);
	/* Round robin: ::2 is free again, but ::4 comes next. */
	assert_string_equal(alloc_ok(f, "c", "eth0"), "fd00:10:244:1::4");
	/* The cursor survives a restart. */
	pool_reopen(f);
	assert_int_equal(ipam6_used(f->p), 2);
	assert_string_equal(alloc_ok(f, "d", "eth0"), "fd00:10:244:1::5");
	/* Past a run of taken addresses. */
	write_in(f->pool, "last_reserved", "fd00:10:244:1::1\n");
	pool_reopen(f);
	assert_string_equal(alloc_ok(f, "e", "eth0"), "fd00:10:244:1::2");
	assert_string_equal(alloc_ok(f, "g", "eth0"), "fd00:10:244:1::6");
}

static void test_wrap_and_full(void **state)
{
	struct fx *f = *state;
	struct in6_addr a;
	int i;

	/* A /124: ::2 .. ::f, 14 addresses. */
	assert_int_equal(pool_open_len(f, "fd00:10:244:1::", 124), 0);
	assert_true(ipam6_size(f->p) == 14);
	for (i = 0; i < 14; i++) {
		char id[16];

		snprintf(id, sizeof(id), "c%d", i);
		alloc_ok(f, id, "eth0");
	}
	assert_int_equal(ipam6_allocate(f->p, "more", "eth0", &a), -ENOSPC);
	assert_int_equal(ipam6_release(f->p, "c5", "eth0", false, NULL), 0);
	/* The cursor is at ::f, the last address: wraps to the only gap. */
	assert_string_equal(alloc_ok(f, "more", "eth0"), "fd00:10:244:1::7");
	assert_int_equal(ipam6_allocate(f->p, "more2", "eth0", &a), -ENOSPC);

	/* The end of a /64 wraps too. */
	ipam6_free(f->p);
	f->p = NULL;
	assert_int_equal(nftw(f->pool, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
	assert_int_equal(pool_open(f), 0);
	write_in(f->pool, "last_reserved", "fd00:10:244:1:ffff:ffff:ffff:fffe\n");
	pool_reopen(f);
	assert_string_equal(alloc_ok(f, "x", "eth0"), "fd00:10:244:1:ffff:ffff:ffff:ffff");
	assert_string_equal(alloc_ok(f, "y", "eth0"), "fd00:10:244:1::2");
}

static void test_crash_debris(void **state)
{
	struct fx *f = *state;
	struct ipam6_record rec;
	char path[512];

	assert_int_equal(pool_open(f), 0);
	alloc_ok(f, "a", "eth0"); /* ::2 */
	ipam6_free(f->p);
	f->p = NULL;
	write_in(f->pool, ".tmp.fd00:10:244:1::3.123", "half");
	write_in(f->pool, "fd00:10:244:2::5", "a\neth0\n1\nroost\n");	/* another subnet */
	write_in(f->pool, "fd00:10:244:1::1", "a\neth0\n1\nroost\n");	/* the gateway */
	write_in(f->pool, "fd00:10:244:1::7", "garbage");		/* unreadable */
	write_in(f->pool, "fd00:10:244:1::8", "a\neth0\n2\nroost\n");	/* duplicate of ::2 */
	write_in(f->pool, "fd00:10:244:1:0:0:0:9", "b\neth0\n2\nroost\n"); /* not canonical */
	write_in(f->pool, "notes.txt", "mine");
	write_in(f->pool, "last_reserved", "10.0.0.1\n");
	assert_int_equal(pool_open(f), 0);
	assert_int_equal(ipam6_used(f->p), 1);
	assert_int_equal(ipam6_find(f->p, "a", "eth0", &rec), 0);
	assert_string_equal(ntoa6(rec.address), "fd00:10:244:1::2");
	assert_int_equal(count_prefixed(f->pool, ".tmp."), 0);
	assert_non_null(read_in(f->pool, "fd00:10:244:2::5.bad"));
	assert_non_null(read_in(f->pool, "fd00:10:244:1::1.bad"));
	assert_non_null(read_in(f->pool, "fd00:10:244:1::7.bad"));
	assert_non_null(read_in(f->pool, "fd00:10:244:1::8.bad"));
	assert_non_null(read_in(f->pool, "fd00:10:244:1:0:0:0:9"));
	assert_non_null(read_in(f->pool, "notes.txt"));
	/* The cursor was unusable: the round robin starts over. */
	assert_string_equal(alloc_ok(f, "b", "eth0"), "fd00:10:244:1::3");
	path_in(f->pool, "fd00:10:244:1:0:0:0:9", path, sizeof(path));
	assert_int_equal(unlink(path), 0);
}

static void test_lock_and_arguments(void **state)
{
	struct fx *f = *state;
	struct ipam6 *q = NULL;
	struct in6_addr n = ip6("fd00:10:244:1::");
	struct in6_addr odd = ip6("fd00:10:244:1::4");

	assert_int_equal(pool_open(f), 0);
	assert_int_equal(ipam6_open(f->state, NETWORK, &n, 64, &q), -EBUSY);
	assert_int_equal(ipam6_open(f->state, "other", &odd, 64, &q), -EINVAL);
	assert_int_equal(ipam6_open(f->state, "other", &n, 125, &q), -EINVAL);
	assert_int_equal(ipam6_open(f->state, "../x", &n, 64, &q), -EINVAL);
	assert_null(q);
	assert_int_equal(ipam6_used(NULL), 0);
	assert_true(ipam6_size(NULL) == 0);
}

static void test_hold(void **state)
{
	struct fx *f = *state;
	struct ipam6_record *l = NULL;
	struct in6_addr a, b;
	size_t n;

	char id[16];
	int i;

	assert_int_equal(pool_open_len(f, "fd00:10:244:1::", 124), 0); /* ::2 .. ::f */
	alloc_ok(f, "a", "eth0");
	for (i = 0; i < 13; i++) {
		snprintf(id, sizeof(id), "b%d", i);
		alloc_ok(f, id, "eth0");
	}
	assert_int_equal(ipam6_release(f->p, "a", "eth0", true, &a), 0);
	assert_null(read_in(f->pool, "fd00:10:244:1::2"));
	assert_int_equal(ipam6_find(f->p, "a", "eth0", NULL), -ENOENT);
	assert_int_equal(ipam6_list(f->p, &l, &n), 0);
	assert_int_equal(n, 13);
	free(l);
	assert_int_equal(ipam6_allocate(f->p, "c", "eth0", &b), -ENOSPC);
	assert_int_equal(ipam6_unhold(f->p, &a), 0);
	assert_int_equal(ipam6_unhold(f->p, &a), -ENOENT);
	assert_string_equal(alloc_ok(f, "c", "eth0"), "fd00:10:244:1::2");
}

/* DEL's steps: the record removed by a thread (ipam6_release_deferred),
 * committed held (gone from disk, not handed out, counted) until
 * ipam6_unhold; a failed removal keeps it; an aborted one writes the
 * record back. */
static void test_release_deferred(void **state)
{
	struct fx *f = *state;
	struct ipam6_record r;
	struct in6_addr a, b;
	char id[16], path[512], *rec;
	int i;

	assert_int_equal(pool_open_len(f, "fd00:10:244:1::", 124), 0); /* ::2 .. ::f */
	alloc_ok(f, "a", "eth0");
	for (i = 0; i < 13; i++) {
		snprintf(id, sizeof(id), "b%d", i);
		alloc_ok(f, id, "eth0");
	}
	assert_int_equal(ipam6_release_deferred(f->p, "nobody", "eth0", true, &a), -ENOENT);
	/* aborted: the record is back on disk, the attachment keeps it */
	assert_int_equal(ipam6_release_deferred(f->p, "a", "eth0", true, &a), 0);
	assert_string_equal(ntoa6(a), "fd00:10:244:1::2");
	ipam6_abort_release(f->p);
	rec = read_in(f->pool, "fd00:10:244:1::2");
	assert_non_null(rec);
	assert_true(strncmp(rec, "a\neth0\n", 7) == 0);
	assert_int_equal(ipam6_find(f->p, "a", "eth0", NULL), 0);
	/* committed with hold: off the disk, not the attachment's, not free */
	assert_int_equal(ipam6_release_deferred(f->p, "a", "eth0", true, &a), 0);
	assert_int_equal(ipam6_commit(f->p), 0);
	assert_null(read_in(f->pool, "fd00:10:244:1::2"));
	assert_int_equal(ipam6_find(f->p, "a", "eth0", NULL), -ENOENT);
	assert_int_equal(ipam6_held(f->p), 1);
	assert_int_equal(ipam6_used(f->p), 14);
	assert_int_equal(ipam6_allocate(f->p, "c", "eth0", &b), -ENOSPC);
	assert_int_equal(ipam6_unhold(f->p, &a), 0);
	assert_int_equal(ipam6_held(f->p), 0);
	assert_string_equal(alloc_ok(f, "c", "eth0"), "fd00:10:244:1::2");
	/* without hold: free at the commit */
	assert_int_equal(ipam6_release_deferred(f->p, "b0", "eth0", false, &a), 0);
	assert_int_equal(ipam6_commit(f->p), 0);
	assert_int_equal(ipam6_held(f->p), 0);
	assert_int_equal(ipam6_used(f->p), 13);
	assert_string_equal(alloc_ok(f, "d", "eth0"), ntoa6(a));
	/* a removal that fails (a folder where the record was) keeps the
	 * address reserved; once the folder is gone a retry finishes */
	assert_int_equal(ipam6_find(f->p, "b1", "eth0", &r), 0);
	path_in(f->pool, ntoa6(r.address), path, sizeof(path));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(ipam6_release_deferred(f->p, "b1", "eth0", true, &a), 0);
	assert_true(ipam6_commit(f->p) < 0);
	assert_int_equal(ipam6_find(f->p, "b1", "eth0", NULL), 0);
	assert_int_equal(ipam6_held(f->p), 0);
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(ipam6_release_deferred(f->p, "b1", "eth0", true, &a), 0);
	assert_int_equal(ipam6_commit(f->p), 0);
	assert_int_equal(ipam6_held(f->p), 1);
	assert_int_equal(ipam6_unhold(f->p, &a), 0);
}

static void test_gc_and_list(void **state)
{
	struct fx *f = *state;
	struct ipam_key keep[] = {{"b", "eth0"}};
	struct ipam6_record *gone = NULL, *l = NULL;
	size_t n_gone = 0, n = 0;

	assert_int_equal(pool_open(f), 0);
	alloc_ok(f, "a", "eth0");
	alloc_ok(f, "b", "eth0");
	alloc_ok(f, "c", "eth0");
	assert_int_equal(ipam6_gc(f->p, keep, 1, false, &gone, &n_gone), 0);
	assert_int_equal(n_gone, 2);
	assert_string_equal(gone[0].container_id, "a");
	assert_string_equal(gone[1].container_id, "c");
	free(gone);
	assert_null(read_in(f->pool, "fd00:10:244:1::2"));
	assert_non_null(read_in(f->pool, "fd00:10:244:1::3"));
	assert_null(read_in(f->pool, "fd00:10:244:1::4"));
	assert_int_equal(ipam6_list(f->p, &l, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ntoa6(l[0].address), "fd00:10:244:1::3");
	free(l);
	assert_int_equal(ipam6_gc(f->p, NULL, 0, true, &gone, &n_gone), 0);
	assert_int_equal(n_gone, 1);
	free(gone);
	assert_int_equal(ipam6_used(f->p), 1); /* held */
	assert_int_equal(ipam6_list(f->p, &l, &n), 0);
	assert_int_equal(n, 0);
	assert_null(l);
}

static void test_io_failure(void **state)
{
	struct fx *f = *state;
	struct in6_addr a;
	char path[512];

	assert_int_equal(pool_open(f), 0);
	alloc_ok(f, "first", "eth0"); /* ::2 */
	/* As root a read-only folder does not stop writes: the next address
	 * is taken by a folder, so the rename fails. */
	path_in(f->pool, "fd00:10:244:1::3", path, sizeof(path));
	assert_int_equal(mkdir(path, 0700), 0);
	write_in(f->pool, "fd00:10:244:1::3/inside", "x");
	assert_int_equal(ipam6_allocate(f->p, "second", "eth0", &a), -EISDIR);
	assert_int_equal(ipam6_used(f->p), 1);
	assert_int_equal(ipam6_find(f->p, "second", "eth0", NULL), -ENOENT);
	assert_int_equal(count_prefixed(f->pool, ".tmp."), 0);
	assert_string_equal(read_in(f->pool, "last_reserved"), "fd00:10:244:1::2\n");
	path_in(f->pool, "fd00:10:244:1::3/inside", path, sizeof(path));
	assert_int_equal(unlink(path), 0);
	path_in(f->pool, "fd00:10:244:1::3", path, sizeof(path));
	assert_int_equal(rmdir(path), 0);
	assert_string_equal(alloc_ok(f, "second", "eth0"), "fd00:10:244:1::3");
}

static void test_deferred(void **state)
{
	struct fx *f = *state;
	struct in6_addr a;
	char path[512];

	assert_int_equal(pool_open(f), 0);
	/* Reserved in memory at once; on disk once committed. */
	assert_int_equal(ipam6_allocate_deferred(f->p, "a", "eth0", &a), 0);
	assert_string_equal(ntoa6(a), "fd00:10:244:1::2");
	assert_int_equal(ipam6_used(f->p), 1);
	assert_int_equal(ipam6_commit(f->p), 0);
	assert_int_equal(ipam6_commit(f->p), 0); /* nothing pending: 0 */
	assert_non_null(read_in(f->pool, "fd00:10:244:1::2"));
	assert_string_equal(read_in(f->pool, "last_reserved"), "fd00:10:244:1::2\n");
	/* A write that fails shows at the commit, and takes the address back. */
	path_in(f->pool, "fd00:10:244:1::3", path, sizeof(path));
	assert_int_equal(mkdir(path, 0700), 0);
	write_in(f->pool, "fd00:10:244:1::3/inside", "x");
	assert_int_equal(ipam6_allocate_deferred(f->p, "b", "eth0", &a), 0);
	assert_string_equal(ntoa6(a), "fd00:10:244:1::3");
	assert_int_equal(ipam6_commit(f->p), -EISDIR);
	assert_int_equal(ipam6_used(f->p), 1);
	assert_int_equal(ipam6_find(f->p, "b", "eth0", NULL), -ENOENT);
	assert_int_equal(count_prefixed(f->pool, ".tmp."), 0);
	assert_string_equal(read_in(f->pool, "last_reserved"), "fd00:10:244:1::2\n");
	path_in(f->pool, "fd00:10:244:1::3/inside", path, sizeof(path));
	assert_int_equal(unlink(path), 0);
	path_in(f->pool, "fd00:10:244:1::3", path, sizeof(path));
	assert_int_equal(rmdir(path), 0);
	/* A release right after a deferred allocation commits it first. */
	assert_int_equal(ipam6_allocate_deferred(f->p, "c", "eth0", &a), 0);
	assert_string_equal(ntoa6(a), "fd00:10:244:1::3");
	assert_int_equal(ipam6_release(f->p, "c", "eth0", false, &a), 0);
	assert_null(read_in(f->pool, ntoa6(a)));
	/* So does ipam6_free(): the record is there after a reopen. */
	assert_int_equal(ipam6_allocate_deferred(f->p, "d", "eth0", &a), 0);
	pool_reopen(f);
	assert_int_equal(ipam6_find(f->p, "d", "eth0", NULL), 0);
}

static void test_many(void **state)
{
	struct fx *f = *state;
	struct ipam6_record *l = NULL;
	size_t n, i;
	char id[16];

	assert_int_equal(pool_open(f), 0);
	for (i = 0; i < 300; i++) {
		snprintf(id, sizeof(id), "c%zu", i);
		alloc_ok(f, id, "eth0");
	}
	for (i = 0; i < 300; i += 2) {
		snprintf(id, sizeof(id), "c%zu", i);
		assert_int_equal(ipam6_release(f->p, id, "eth0", false, NULL), 0);
	}
	pool_reopen(f);
	assert_int_equal(ipam6_used(f->p), 150);
	assert_int_equal(ipam6_list(f->p, &l, &n), 0);
	assert_int_equal(n, 150);
	for (i = 1; i < n; i++)
		assert_true(memcmp(&l[i - 1].address, &l[i].address, 16) < 0);
	free(l);
	assert_string_equal(alloc_ok(f, "next", "eth0"), "fd00:10:244:1::12e"); /* 2 + 300 */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_first_addresses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_on_disk_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_robin_and_release, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrap_and_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_debris, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_and_arguments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hold, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_deferred, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gc_and_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_io_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deferred, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many, setup, teardown),
	};

	log_init("test-ipam6", LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
