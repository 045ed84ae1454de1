/* SPDX-License-Identifier: MIT */
/*
 * test-ipam.c - the pod address pool: allocation (round-robin, never the
 * network, gateway or broadcast address), release, GC, the one-file-per-
 * address format on disk, reopening, crash debris, the lock, I/O failures
 * and the import of host-local's reservations. Every test gets its own
 * mkdtemp() folder under /tmp, removed afterwards; no root, no network.
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
#include "ipam.h"
#include "log.h"
#include "pod.h"
#include "teardown.h"

#define NETWORK "roost"

struct fx {
	char tmp[64];	 /* mkdtemp() folder */
	char state[128]; /* <tmp>/state, the state_dir */
	char pool[192];	 /* <tmp>/state/roost, the pool's folder */
	char hl[128];	 /* <tmp>/host-local, host-local's folder */
	struct ipam *p;	 /* owned, freed by teardown */
};

static struct in_addr ip(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a;
}

static const char *ntoa(struct in_addr a, char buf[static INET_ADDRSTRLEN])
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static unsigned host_byte(struct in_addr a)
{
	return ntohl(a.s_addr) & 0xff;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->tmp, "/tmp/roost-test-ipam.XXXXXX");
	assert_non_null(mkdtemp(f->tmp));
	snprintf(f->state, sizeof(f->state), "%s/state", f->tmp);
	snprintf(f->pool, sizeof(f->pool), "%s/" NETWORK, f->state);
	snprintf(f->hl, sizeof(f->hl), "%s/host-local", f->tmp);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ipam_free(f->p);
	assert_int_equal(nftw(f->tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
	free(f);
	return 0;
}

static int pool_open(struct fx *f)
{
	return ipam_open(f->state, NETWORK, ip("10.244.1.0"), 24, &f->p);
}

static void pool_reopen(struct fx *f)
{
	ipam_free(f->p);
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

/* The file's content, or NULL when it does not exist. */
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

static bool exists_in(const char *dir, const char *name)
{
	char path[512];
	struct stat st;

	path_in(dir, name, path, sizeof(path));
	return lstat(path, &st) == 0;
}

/* Names in dir starting with prefix. */
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

static struct in_addr alloc_ok(struct fx *f, const char *id, const char *ifname)
{
	struct in_addr a = {0};

	assert_int_equal(ipam_allocate(f->p, id, ifname, &a), 0);
	return a;
}

/* s for a TAP comment: control characters as '?', at most 20 bytes. */
static const char *printable(const char *s, char buf[static 21])
{
	size_t i;

	if (!s)
		return "(null)";
	for (i = 0; s[i] && i < 20; i++)
		buf[i] = s[i] < 0x20 ? '?' : s[i];
	buf[i] = '\0';
	return buf;
}

static void mkdir_in(const char *dir, const char *name)
{
	char path[512];

	path_in(dir, name, path, sizeof(path));
	assert_int_equal(mkdir(path, 0700), 0);
}

static void test_sizes(void **state)
{
	static const struct {
		const char *net;
		unsigned plen;
		size_t size;
	} cases[] = {
		{"10.244.0.0", 16, 65533},
		{"10.244.1.0", 24, 253},
		{"10.244.1.128", 25, 125},
		{"10.244.1.4", 30, 1},
	};
	struct fx *f = *state;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct ipam *p = NULL;
		struct in_addr a, b;
		char name[16], buf[INET_ADDRSTRLEN];

		snprintf(name, sizeof(name), "net%zu", i);
		assert_int_equal(ipam_open(f->state, name, ip(cases[i].net), cases[i].plen, &p), 0);
		assert_int_equal(ipam_size(p), cases[i].size);
		assert_int_equal(ipam_used(p), 0);
		/* The first address handed out is network + 2. */
		assert_int_equal(ipam_allocate(p, "c", "eth0", &a), 0);
		assert_int_equal(ntohl(a.s_addr), ntohl(ip(cases[i].net).s_addr) + 2);
		if (cases[i].size == 1)
			assert_int_equal(ipam_allocate(p, "d", "eth0", &b), -ENOSPC);
		print_message("# %s/%u: size %zu, first %s\n", cases[i].net, cases[i].plen,
			      ipam_size(p), ntoa(a, buf));
		ipam_free(p);
	}
}

static void test_fill_24(void **state)
{
	struct fx *f = *state;
	bool seen[256] = {false};
	struct in_addr a, freed = {0};
	char id[16];
	int i;

	assert_int_equal(pool_open(f), 0);
	assert_int_equal(ipam_size(f->p), 253);
	for (i = 0; i < 253; i++) {
		snprintf(id, sizeof(id), "c%03d", i);
		a = alloc_ok(f, id, "eth0");
		assert_int_equal(ntohl(a.s_addr) & 0xffffff00, ntohl(ip("10.244.1.0").s_addr));
		assert_true(host_byte(a) >= 2 && host_byte(a) <= 254);
		assert_false(seen[host_byte(a)]);
		seen[host_byte(a)] = true;
		if (i == 100)
			freed = a;
	}
	assert_int_equal(ipam_used(f->p), 253);
	assert_int_equal(ipam_allocate(f->p, "one-too-many", "eth0", &a), -ENOSPC);
	assert_int_equal(ipam_used(f->p), 253);

	assert_int_equal(ipam_release(f->p, "c100", "eth0", &a), 0);
	assert_int_equal(a.s_addr, freed.s_addr);
	assert_int_equal(ipam_used(f->p), 252);
	a = alloc_ok(f, "newcomer", "eth0");
	assert_int_equal(a.s_addr, freed.s_addr);
	assert_int_equal(ipam_allocate(f->p, "one-too-many", "eth0", &a), -ENOSPC);
}

static void test_duplicate(void **state)
{
	struct fx *f = *state;
	struct in_addr a, again = {0}, b;

	assert_int_equal(pool_open(f), 0);
	a = alloc_ok(f, "pod1", "eth0");
	assert_int_equal(ipam_allocate(f->p, "pod1", "eth0", &again), -EEXIST);
	assert_int_equal(again.s_addr, a.s_addr);
	assert_int_equal(ipam_used(f->p), 1);

	/* ADD-03: another ifname of the same container is another attachment. */
	b = alloc_ok(f, "pod1", "net1");
	assert_int_not_equal(b.s_addr, a.s_addr);
	assert_int_equal(ipam_used(f->p), 2);
}

static void test_release(void **state)
{
	struct fx *f = *state;
	struct in_addr a, r = {0};

	assert_int_equal(pool_open(f), 0);
	assert_int_equal(ipam_release(f->p, "nobody", "eth0", &r), -ENOENT);
	a = alloc_ok(f, "pod1", "eth0");
	/* Right id, wrong ifname: not the same attachment. */
	assert_int_equal(ipam_release(f->p, "pod1", "eth1", NULL), -ENOENT);
	assert_int_equal(ipam_release(f->p, "pod1", "eth0", &r), 0);
	assert_int_equal(r.s_addr, a.s_addr);
	assert_int_equal(ipam_release(f->p, "pod1", "eth0", &r), -ENOENT);
	assert_int_equal(ipam_used(f->p), 0);
	assert_null(read_in(f->pool, "10.244.1.2"));
	/* Names CNI would reject never held anything. */
	assert_int_equal(ipam_release(f->p, "-bad", "eth0", NULL), -ENOENT);
}

/* The two-step allocation: the reservation is in memory when
 * ipam_allocate_deferred() returns and on disk (with its content) when
 * ipam_commit() returns; commit is idempotent, the next allocation commits
 * the previous one, and a reopened pool has both. */
static void test_deferred_commit(void **state)
{
	struct fx *f = *state;
	struct ipam_record rec;
	struct in_addr a, b;
	char path[512], buf[64];
	FILE *fp;

	assert_int_equal(pool_open(f), 0);
	assert_int_equal(ipam_allocate_deferred(f->p, "early", "eth0", &a), 0);
	assert_int_equal(ipam_find(f->p, "early", "eth0", &rec), 0);
	assert_int_equal(ipam_commit(f->p), 0);
	path_in(f->pool, "10.244.1.2", path, sizeof(path));
	fp = fopen(path, "r");
	assert_non_null(fp);
	assert_non_null(fgets(buf, sizeof(buf), fp));
	fclose(fp);
	assert_string_equal(buf, "early\n");
	assert_int_equal(ipam_commit(f->p), 0);
	assert_int_equal(ipam_allocate_deferred(f->p, "next", "eth0", &b), 0);
	assert_int_not_equal(a.s_addr, b.s_addr);
	/* No commit: reopening (ipam_free) commits. */
	pool_reopen(f);
	assert_int_equal(ipam_used(f->p), 2);
	assert_int_equal(ipam_find(f->p, "next", "eth0", &rec), 0);
	assert_int_equal(rec.address.s_addr, b.s_addr);
	assert_int_equal(ipam_commit(f->p), 0);
}

/* A release in two steps: aborted, the record is back on disk and the
 * address still held; committed, both are gone. */
static void test_deferred_release(void **state)
{
	struct fx *f = *state;
	struct ipam_record rec;
	struct in_addr a, r;

	assert_int_equal(pool_open(f), 0);
	a = alloc_ok(f, "pod", "eth0");
	assert_int_equal(ipam_release_deferred(f->p, "pod", "eth0", false, &r), 0);
	assert_int_equal(r.s_addr, a.s_addr);
	ipam_abort_release(f->p);
	assert_int_equal(ipam_find(f->p, "pod", "eth0", &rec), 0);
	assert_non_null(read_in(f->pool, "10.244.1.2"));
	assert_int_equal(strncmp(read_in(f->pool, "10.244.1.2"), "pod\neth0\n", 9), 0);
	assert_int_equal(ipam_used(f->p), 1);
	assert_int_equal(ipam_release_deferred(f->p, "nobody", "eth0", false, &r), -ENOENT);
	assert_int_equal(ipam_release_deferred(f->p, "pod", "eth0", false, &r), 0);
	assert_int_equal(ipam_commit(f->p), 0);
	assert_int_equal(ipam_find(f->p, "pod", "eth0", &rec), -ENOENT);
	assert_int_equal(ipam_used(f->p), 0);
	assert_int_equal(count_prefixed(f->pool, "10.244.1.2"), 0);
	pool_reopen(f);
	assert_int_equal(ipam_used(f->p), 0);
}

static void test_persistence(void **state)
{
	struct fx *f = *state;
	struct ipam_record before[3], rec, *list = NULL;
	static const char *const ids[] = {"alpha", "bravo", "charlie"};
	struct in_addr a;
	size_t i, n = 0;

	assert_int_equal(pool_open(f), 0);
	for (i = 0; i < ARRAY_SIZE(ids); i++) {
		alloc_ok(f, ids[i], "eth0");
		assert_int_equal(ipam_find(f->p, ids[i], "eth0", &before[i]), 0);
	}
	/* .2 .3 .4 handed out; .2 goes back. */
	assert_int_equal(ipam_release(f->p, "alpha", "eth0", NULL), 0);

	pool_reopen(f);
	assert_int_equal(ipam_used(f->p), 2);
	assert_int_equal(ipam_find(f->p, "alpha", "eth0", &rec), -ENOENT);
	for (i = 1; i < ARRAY_SIZE(ids); i++) {
		assert_int_equal(ipam_find(f->p, ids[i], "eth0", &rec), 0);
		assert_string_equal(rec.container_id, before[i].container_id);
		assert_string_equal(rec.ifname, before[i].ifname);
		assert_string_equal(rec.origin, "roost");
		assert_int_equal(rec.address.s_addr, before[i].address.s_addr);
		assert_int_equal(rec.since, before[i].since);
	}
	assert_int_equal(ipam_list(f->p, &list, &n), 0);
	assert_int_equal(n, 2);
	free(list);

	/* Round-robin goes on after the last one handed out: .5, not .2. */
	a = alloc_ok(f, "delta", "eth0");
	assert_int_equal(a.s_addr, ip("10.244.1.5").s_addr);
	/* And survives another restart. */
	pool_reopen(f);
	a = alloc_ok(f, "echo", "eth0");
	assert_int_equal(a.s_addr, ip("10.244.1.6").s_addr);
}

static void test_on_disk_format(void **state)
{
	struct fx *f = *state;
	struct ipam_record rec;
	char want[512], path[512];
	struct stat st;

	assert_int_equal(pool_open(f), 0);
	alloc_ok(f, "0123456789abcdef", "eth0");
	assert_int_equal(ipam_find(f->p, "0123456789abcdef", "eth0", &rec), 0);
	snprintf(want, sizeof(want), "0123456789abcdef\neth0\n%lld\nroost\n", (long long)rec.since);
	assert_string_equal(read_in(f->pool, "10.244.1.2"), want);
	assert_string_equal(read_in(f->pool, "last_reserved"), "10.244.1.2\n");

	path_in(f->pool, "10.244.1.2", path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(stat(f->pool, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_true(exists_in(f->pool, "lock"));
	assert_int_equal(count_prefixed(f->pool, ".tmp."), 0);
	/* Only the record, last_reserved and lock. */
	assert_int_equal(count_prefixed(f->pool, ""), 2 + 3);
}

static void test_crash_debris(void **state)
{
	static const char *const aside[] = {"10.244.1.77", "10.244.1.78",  "10.244.1.79",
					    "10.244.9.9",  "10.244.1.255", "10.244.1.1",
					    "10.244.1.20"};
	struct fx *f = *state;
	struct ipam_record rec, *list = NULL;
	struct in_addr a;
	size_t n = 0, i;

	assert_int_equal(mkdir(f->state, 0700), 0);
	assert_int_equal(mkdir(f->pool, 0700), 0);
	write_in(f->pool, ".tmp.x", "half a rec");
	write_in(f->pool, ".tmp.10.244.1.3.4242", "pod9\neth0\n");
	write_in(f->pool, "10.244.1.77", "");
	write_in(f->pool, "10.244.1.78", "pod\neth0\nnot-a-time\nroost\n");
	write_in(f->pool, "10.244.1.79", "pod\neth0\n1700000000\nroost\nextra\n");
	write_in(f->pool, "10.244.9.9", "pod1\neth0\n1700000000\nroost\n");
	write_in(f->pool, "10.244.1.255", "pod2\neth0\n1700000000\nroost\n");
	write_in(f->pool, "10.244.1.1", "pod3\neth0\n1700000000\nroost\n");
	/* One attachment twice: the older record wins. */
	write_in(f->pool, "10.244.1.20", "twice\neth0\n1700000200\nroost\n");
	write_in(f->pool, "10.244.1.30", "twice\neth0\n1700000100\nroost\n");
	write_in(f->pool, "10.244.1.10", "good\neth0\n1700000000\nroost\n");
	/* Without its last newline, as an editor may leave it. */
	write_in(f->pool, "10.244.1.11", "good\nnet1\n1700000000\nroost");
	write_in(f->pool, "README", "not ours\n");
	write_in(f->pool, "last_reserved", "garbage\n");

	assert_int_equal(pool_open(f), 0);
	assert_false(exists_in(f->pool, ".tmp.x"));
	assert_false(exists_in(f->pool, ".tmp.10.244.1.3.4242"));
	for (i = 0; i < ARRAY_SIZE(aside); i++) {
		char bad[64];

		snprintf(bad, sizeof(bad), "%s.bad", aside[i]);
		assert_false(exists_in(f->pool, aside[i]));
		assert_true(exists_in(f->pool, bad));
	}
	assert_string_equal(read_in(f->pool, "10.244.9.9.bad"), "pod1\neth0\n1700000000\nroost\n");
	assert_string_equal(read_in(f->pool, "README"), "not ours\n");

	assert_int_equal(ipam_used(f->p), 3);
	assert_int_equal(ipam_find(f->p, "twice", "eth0", &rec), 0);
	assert_int_equal(rec.address.s_addr, ip("10.244.1.30").s_addr);
	assert_int_equal(rec.since, 1700000100);
	assert_int_equal(ipam_find(f->p, "good", "net1", &rec), 0);
	assert_int_equal(rec.address.s_addr, ip("10.244.1.11").s_addr);
	assert_int_equal(ipam_list(f->p, &list, &n), 0);
	assert_int_equal(n, 3);
	free(list);

	/* Usable: a bad last_reserved restarts at .2; .77 is free again. */
	a = alloc_ok(f, "after", "eth0");
	assert_int_equal(a.s_addr, ip("10.244.1.2").s_addr);

	/* A second crash of the same kind does not overwrite the first *.bad. */
	ipam_free(f->p);
	f->p = NULL;
	write_in(f->pool, "10.244.9.9", "again\n");
	assert_int_equal(pool_open(f), 0);
	assert_string_equal(read_in(f->pool, "10.244.9.9.bad"), "pod1\neth0\n1700000000\nroost\n");
	assert_string_equal(read_in(f->pool, "10.244.9.9.bad.1"), "again\n");
	assert_int_equal(ipam_used(f->p), 4);
}

static void test_lock(void **state)
{
	struct fx *f = *state;
	struct ipam *second = NULL;

	assert_int_equal(pool_open(f), 0);
	/* flock() locks belong to the open file description: a second open()
	 * of "lock" in this same process conflicts with LOCK_NB. */
	assert_int_equal(ipam_open(f->state, NETWORK, ip("10.244.1.0"), 24, &second), -EBUSY);
	assert_null(second);
	/* Another network's pool is another lock. */
	assert_int_equal(ipam_open(f->state, "other", ip("10.244.1.0"), 24, &second), 0);
	ipam_free(second);
	second = NULL;

	ipam_free(f->p);
	f->p = NULL;
	assert_int_equal(ipam_open(f->state, NETWORK, ip("10.244.1.0"), 24, &second), 0);
	ipam_free(second);
}

static void test_gc(void **state)
{
	struct fx *f = *state;
	static const struct ipam_key valid[] = {
		{"c3", "eth0"},
		{"c1", "eth0"},
		{"c4", "net9"}, /* c4 holds eth0, not net9 */
		{"gone-long-ago", "eth0"},
	};
	static const struct ipam_key broken[] = {{"c1", NULL}};
	struct ipam_record *gone = NULL, rec;
	size_t n = 99;
	char id[16];
	int i;

	assert_int_equal(pool_open(f), 0);
	for (i = 0; i < 5; i++) {
		snprintf(id, sizeof(id), "c%d", i);
		alloc_ok(f, id, "eth0");
	}
	assert_int_equal(ipam_gc(f->p, valid, ARRAY_SIZE(valid), &gone, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(gone[0].container_id, "c0");
	assert_string_equal(gone[1].container_id, "c2");
	assert_string_equal(gone[2].container_id, "c4");
	assert_int_equal(gone[0].address.s_addr, ip("10.244.1.2").s_addr);
	assert_int_equal(gone[2].address.s_addr, ip("10.244.1.6").s_addr);
	free(gone);
	assert_int_equal(ipam_used(f->p), 2);
	assert_int_equal(ipam_find(f->p, "c1", "eth0", &rec), 0);
	assert_int_equal(ipam_find(f->p, "c3", "eth0", &rec), 0);
	assert_int_equal(ipam_find(f->p, "c4", "eth0", &rec), -ENOENT);
	assert_false(exists_in(f->pool, "10.244.1.2"));
	assert_true(exists_in(f->pool, "10.244.1.3"));

	/* GC-06: the same list again is a no-op. */
	gone = NULL;
	assert_int_equal(ipam_gc(f->p, valid, ARRAY_SIZE(valid), &gone, &n), 0);
	assert_int_equal(n, 0);
	assert_null(gone);
	/* The caller may not want the list. */
	assert_int_equal(ipam_gc(f->p, valid, ARRAY_SIZE(valid), NULL, NULL), 0);

	/* GC-04: an empty list releases everything. */
	assert_int_equal(ipam_gc(f->p, NULL, 0, &gone, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(gone[0].container_id, "c1");
	assert_string_equal(gone[1].container_id, "c3");
	free(gone);
	assert_int_equal(ipam_used(f->p), 0);
	assert_int_equal(ipam_gc(f->p, NULL, 0, &gone, &n), 0);
	assert_int_equal(n, 0);

	/* A key without its fields is a caller bug. */
	assert_int_equal(ipam_gc(f->p, broken, 1, NULL, NULL), -EINVAL);
}

static void test_gc_partial_failure(void **state)
{
	struct fx *f = *state;
	struct ipam_record *gone = NULL, rec;
	char path[512];
	size_t n = 0;

	assert_int_equal(pool_open(f), 0);
	alloc_ok(f, "a", "eth0"); /* .2 */
	alloc_ok(f, "b", "eth0"); /* .3 */
	alloc_ok(f, "c", "eth0"); /* .4 */
	/* .3's record cannot be removed: a non-empty folder of that name. */
	path_in(f->pool, "10.244.1.3", path, sizeof(path));
	assert_int_equal(unlink(path), 0);
	mkdir_in(f->pool, "10.244.1.3");
	write_in(f->pool, "10.244.1.3/x", "x");

	/* GC-05: keeps going, returns the error, lists what went. */
	assert_int_equal(ipam_gc(f->p, NULL, 0, &gone, &n), -EISDIR);
	assert_int_equal(n, 2);
	assert_string_equal(gone[0].container_id, "a");
	assert_string_equal(gone[1].container_id, "c");
	free(gone);
	assert_int_equal(ipam_used(f->p), 1);
	assert_int_equal(ipam_find(f->p, "b", "eth0", &rec), 0);
}

/* Filled in by test_validation(). */
static char id255[256], id256[257];

static void test_validation(void **state)
{
	static const struct {
		const char *id, *ifname;
		int r;
	} cases[] = {
		{"", "eth0", -EINVAL},
		{"-x", "eth0", -EINVAL},
		{"_x", "eth0", -EINVAL},
		{".x", "eth0", -EINVAL},
		{"a b", "eth0", -EINVAL},
		{"a/b", "eth0", -EINVAL},
		{"a:b", "eth0", -EINVAL},
		{"a\nb", "eth0", -EINVAL},
		{id256, "eth0", -EINVAL},
		{"ok", "", -EINVAL},
		{"ok", ".", -EINVAL},
		{"ok", "..", -EINVAL},
		{"ok", "a/b", -EINVAL},
		{"ok", "a:b", -EINVAL},
		{"ok", "a b", -EINVAL},
		{"ok", "a\tb", -EINVAL},
		{"ok", "eth0\n", -EINVAL},
		{"ok", "0123456789abcdef", -EINVAL}, /* 16 */
		{"ok", NULL, -EINVAL},
		/* The edges that are fine. */
		{"a", "e", 0},
		{"A.b_c-9", "...", 0},
		{"ok", "0123456789abcde", 0}, /* 15 */
		{"ok", "-eth.0_", 0},
		{id255, "eth0", 0},
	};
	struct fx *f = *state;
	struct in_addr a;
	size_t i;

	memset(id256, 'a', 256);
	memset(id255, 'b', 255);
	assert_int_equal(pool_open(f), 0);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *id = cases[i].id, *ifname = cases[i].ifname;
		char pi[21], pn[21];

		print_message("# case %zu: id '%s' (%zu) ifname '%s' -> %d\n", i, printable(id, pi),
			      strlen(id), printable(ifname, pn), cases[i].r);
		assert_int_equal(ipam_allocate(f->p, id, ifname, &a), cases[i].r);
		assert_int_equal(ipam_container_id_valid(id) && ipam_ifname_valid(ifname),
				 cases[i].r == 0);
	}
	assert_int_equal(ipam_used(f->p), 5);
	assert_int_equal(count_prefixed(f->pool, "10.244.1."), 5);
}

static void test_open_arguments(void **state)
{
	static const struct {
		const char *network, *net;
		unsigned plen;
	} bad[] = {
		{"", "10.244.1.0", 24},
		{"-net", "10.244.1.0", 24},
		{"a/b", "10.244.1.0", 24},
		{"..", "10.244.1.0", 24},
		{"a b", "10.244.1.0", 24},
		{"n12345678901234567890123456789012345678901234567890123456789012345", "10.244.1.0",
		 24}, /* 65 */
		{"net", "10.244.0.0", 15},
		{"net", "10.244.1.0", 31},
		{"net", "10.244.1.0", 32},
		{"net", "10.244.1.1", 24}, /* host bits */
		{"net", "10.244.1.0", 16},
	};
	struct fx *f = *state;
	struct ipam *p = NULL;
	char path[512];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		print_message("# case %zu: '%s' %s/%u\n", i, bad[i].network, bad[i].net,
			      bad[i].plen);
		assert_int_equal(
			ipam_open(f->state, bad[i].network, ip(bad[i].net), bad[i].plen, &p),
			-EINVAL);
		assert_null(p);
	}
	/* Nothing was created for them. */
	assert_false(exists_in(f->tmp, "state"));
	/* 64 is the longest name. */
	assert_int_equal(
		ipam_open(f->state,
			  "n123456789012345678901234567890123456789012345678901234567890123",
			  ip("10.244.1.0"), 24, &p),
		0);
	ipam_free(p);
	p = NULL;
	/* A state_dir that is a file. */
	path_in(f->tmp, "file", path, sizeof(path));
	write_in(f->tmp, "file", "");
	assert_int_equal(ipam_open(path, "net", ip("10.244.1.0"), 24, &p), -ENOTDIR);
	assert_null(p);
}

static void test_io_failure(void **state)
{
	struct fx *f = *state;
	struct ipam_record rec;
	struct in_addr a;
	char path[512];

	assert_int_equal(pool_open(f), 0);
	alloc_ok(f, "first", "eth0"); /* .2 */

	/* We run as root, where a read-only folder does not stop writes: the
	 * next address (.3) is taken by a folder, so the rename fails. */
	mkdir_in(f->pool, "10.244.1.3");
	write_in(f->pool, "10.244.1.3/inside", "x");
	a.s_addr = 0;
	assert_int_equal(ipam_allocate(f->p, "second", "eth0", &a), -EISDIR);
	assert_int_equal(a.s_addr, 0);
	assert_int_equal(ipam_used(f->p), 1);
	assert_int_equal(ipam_find(f->p, "second", "eth0", &rec), -ENOENT);
	assert_int_equal(count_prefixed(f->pool, ".tmp."), 0);
	assert_string_equal(read_in(f->pool, "10.244.1.3/inside"), "x");
	assert_string_equal(read_in(f->pool, "last_reserved"), "10.244.1.2\n");

	/* The same through the two steps: the failure shows at the commit. */
	assert_int_equal(ipam_allocate_deferred(f->p, "second", "eth0", &a), 0);
	assert_int_equal(ipam_commit(f->p), -EISDIR);
	assert_int_equal(ipam_used(f->p), 1);
	assert_int_equal(ipam_find(f->p, "second", "eth0", &rec), -ENOENT);
	assert_int_equal(count_prefixed(f->pool, ".tmp."), 0);

	/* Cleared: the same address is tried again. */
	path_in(f->pool, "10.244.1.3/inside", path, sizeof(path));
	assert_int_equal(unlink(path), 0);
	path_in(f->pool, "10.244.1.3", path, sizeof(path));
	assert_int_equal(rmdir(path), 0);
	a = alloc_ok(f, "second", "eth0");
	assert_int_equal(a.s_addr, ip("10.244.1.3").s_addr);

	/* A release whose unlink fails keeps the reservation. */
	assert_int_equal(unlink(path), 0);
	mkdir_in(f->pool, "10.244.1.3");
	write_in(f->pool, "10.244.1.3/inside", "x");
	assert_int_equal(ipam_release(f->p, "second", "eth0", NULL), -EISDIR);
	assert_int_equal(ipam_used(f->p), 2);
	assert_int_equal(ipam_find(f->p, "second", "eth0", &rec), 0);

	/* A record removed by hand: the release completes. */
	path_in(f->pool, "10.244.1.2", path, sizeof(path));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(ipam_release(f->p, "first", "eth0", NULL), 0);
	assert_int_equal(ipam_used(f->p), 1);

	/* last_reserved cannot be written: a warning, the allocation stands. */
	path_in(f->pool, "last_reserved", path, sizeof(path));
	assert_int_equal(unlink(path), 0);
	mkdir_in(f->pool, "last_reserved");
	write_in(f->pool, "last_reserved/inside", "x");
	a = alloc_ok(f, "third", "eth0");
	assert_int_equal(a.s_addr, ip("10.244.1.4").s_addr);
	assert_int_equal(ipam_used(f->p), 2);
	assert_int_equal(count_prefixed(f->pool, ".tmp."), 0);
	/* Round-robin still goes on in memory. */
	a = alloc_ok(f, "fourth", "eth0");
	assert_int_equal(a.s_addr, ip("10.244.1.5").s_addr);
}

static void test_import_host_local(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *name, *content;
	} files[] = {
		{"10.244.1.5", "abc\r\neth0"},
		{"10.244.1.6", "def"},
		{"10.244.1.7", "ghi\r\nnet1  \n"},
		{"10.244.1.2", "zzz\r\neth0"},	/* roost holds .2 */
		{"10.244.1.9", "abc\r\neth0"},	/* abc/eth0 gets .5 first */
		{"10.244.1.8", "-bad\r\neth0"}, /* not a CNI id */
		{"10.244.1.10", ""},
		{"10.244.2.3", "jkl\r\neth0"}, /* another node's subnet */
		{"10.244.1.255", "mno\r\neth0"},
		{"lock", ""},
		{"last_reserved_ip.0", "10.244.1.7"},
	};
	struct ipam_record rec, *list = NULL;
	struct timespec times[2] = {{.tv_sec = 1600000000}, {.tv_sec = 1600000000}};
	char path[512];
	size_t i, n = 0;

	assert_int_equal(mkdir(f->hl, 0700), 0);
	for (i = 0; i < ARRAY_SIZE(files); i++)
		write_in(f->hl, files[i].name, files[i].content);
	path_in(f->hl, "10.244.1.5", path, sizeof(path));
	assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);

	assert_int_equal(pool_open(f), 0);
	alloc_ok(f, "mine", "eth0"); /* .2 */
	assert_int_equal(ipam_import_host_local(f->p, f->hl), 3);
	assert_int_equal(ipam_used(f->p), 4);

	assert_int_equal(ipam_find(f->p, "abc", "eth0", &rec), 0);
	assert_int_equal(rec.address.s_addr, ip("10.244.1.5").s_addr);
	assert_string_equal(rec.origin, "host-local");
	assert_int_equal(rec.since, 1600000000); /* host-local's file time */
	assert_int_equal(ipam_find(f->p, "def", "eth0", &rec), 0);
	assert_int_equal(rec.address.s_addr, ip("10.244.1.6").s_addr);
	assert_string_equal(rec.origin, "host-local");
	assert_int_equal(ipam_find(f->p, "ghi", "net1", &rec), 0);
	assert_int_equal(rec.address.s_addr, ip("10.244.1.7").s_addr);
	assert_string_equal(rec.origin, "host-local");
	assert_int_equal(ipam_find(f->p, "zzz", "eth0", &rec), -ENOENT);
	assert_int_equal(ipam_find(f->p, "mine", "eth0", &rec), 0);
	assert_int_equal(rec.address.s_addr, ip("10.244.1.2").s_addr);
	assert_string_equal(rec.origin, "roost");
	assert_string_equal(read_in(f->pool, "10.244.1.5"), "abc\neth0\n1600000000\nhost-local\n");

	/* host-local's files are left as they were. */
	for (i = 0; i < ARRAY_SIZE(files); i++)
		assert_string_equal(read_in(f->hl, files[i].name), files[i].content);
	assert_int_equal(count_prefixed(f->hl, ""), (int)ARRAY_SIZE(files) + 2);

	/* Again: nothing new. */
	assert_int_equal(ipam_import_host_local(f->p, f->hl), 0);
	assert_int_equal(ipam_used(f->p), 4);

	/* Imported records are ordinary ones after a restart. */
	pool_reopen(f);
	assert_int_equal(ipam_list(f->p, &list, &n), 0);
	assert_int_equal(n, 4);
	assert_string_equal(list[1].container_id, "abc");
	assert_string_equal(list[1].origin, "host-local");
	free(list);
	/* And an imported reservation is released like any other (DEL-07);
	 * roostd imports at every start, so host-local's file goes too, or the
	 * next start would bring the reservation back. */
	assert_int_equal(ipam_import_host_local(f->p, f->hl), 0);
	assert_int_equal(ipam_release(f->p, "def", "eth0", NULL), 0);
	path_in(f->hl, "10.244.1.6", path, sizeof(path));
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(ipam_import_host_local(f->p, f->hl), 0);
	assert_int_equal(ipam_find(f->p, "def", "eth0", &rec), -ENOENT);
	/* roost's own record leaves host-local's file of that address alone. */
	assert_int_equal(ipam_release(f->p, "mine", "eth0", NULL), 0);
	assert_string_equal(read_in(f->hl, "10.244.1.2"), "zzz\r\neth0");

	/* A missing folder imports nothing; a file is not a folder. */
	path_in(f->tmp, "no-such-dir", path, sizeof(path));
	assert_int_equal(ipam_import_host_local(f->p, path), 0);
	path_in(f->hl, "lock", path, sizeof(path));
	assert_int_equal(ipam_import_host_local(f->p, path), -ENOTDIR);
}

static void test_list_sorted(void **state)
{
	struct fx *f = *state;
	static const char *const want[] = {"10.244.1.2",   "10.244.1.3",   "10.244.1.251",
					   "10.244.1.252", "10.244.1.253", "10.244.1.254"};
	struct ipam_record *list = NULL;
	char id[16], buf[INET_ADDRSTRLEN];
	size_t n = 0, i;

	assert_int_equal(mkdir(f->state, 0700), 0);
	assert_int_equal(mkdir(f->pool, 0700), 0);
	write_in(f->pool, "last_reserved", "10.244.1.250\n");
	assert_int_equal(pool_open(f), 0);
	assert_int_equal(ipam_list(f->p, &list, &n), 0);
	assert_int_equal(n, 0);
	assert_null(list);
	/* .251 .. .254, then round-robin wraps to .2 and .3. */
	for (i = 0; i < ARRAY_SIZE(want); i++) {
		snprintf(id, sizeof(id), "p%zu", i);
		alloc_ok(f, id, "eth0");
	}
	assert_int_equal(ipam_list(f->p, &list, &n), 0);
	assert_int_equal(n, ARRAY_SIZE(want));
	for (i = 0; i < n; i++)
		assert_string_equal(ntoa(list[i].address, buf), want[i]);
	assert_string_equal(list[0].container_id, "p4");
	assert_string_equal(list[5].container_id, "p3");
	free(list);
}

/* A released address can be held until its interface is gone: the
 * attachment is gone at once (DEL again is a no-op), the address is handed
 * to no one until ipam_unhold(), and a failed teardown keeps it held. */
static void test_release_hold(void **state)
{
	struct fx *f = *state;
	struct ipam_record *gone = NULL, *list = NULL, rec;
	struct in_addr a, b;
	struct teardown_job job = {0};
	size_t n = 0;

	/* A /30: exactly one pod address, 10.244.9.2. */
	assert_int_equal(ipam_open(f->state, NETWORK, ip("10.244.9.0"), 30, &f->p), 0);
	assert_int_equal(ipam_allocate(f->p, "a", "eth0", &a), 0);
	assert_int_equal(host_byte(a), 2);

	assert_int_equal(ipam_release_deferred(f->p, "a", "eth0", true, &b), 0);
	assert_int_equal(ipam_commit(f->p), 0);
	assert_int_equal(b.s_addr, a.s_addr);
	assert_null(read_in(f->pool, "10.244.9.2"));	/* off the disk */
	assert_int_equal(ipam_find(f->p, "a", "eth0", &rec), -ENOENT);
	assert_int_equal(ipam_release(f->p, "a", "eth0", NULL), -ENOENT);
	assert_int_equal(ipam_list(f->p, &list, &n), 0);
	assert_int_equal(n, 0);
	free(list);
	assert_int_equal(ipam_held(f->p), 1);
	assert_int_equal(ipam_allocate(f->p, "b", "eth0", &b), -ENOSPC); /* held */
	assert_int_equal(ipam_unhold(f->p, a), 0);
	assert_int_equal(ipam_unhold(f->p, a), -ENOENT);
	assert_int_equal(ipam_held(f->p), 0);
	assert_int_equal(ipam_allocate(f->p, "b", "eth0", &b), 0);
	assert_int_equal(b.s_addr, a.s_addr);

	/* GC holds what it releases; the teardown's result decides. */
	assert_int_equal(ipam_gc_hold(f->p, NULL, 0, &gone, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(gone[0].container_id, "b");
	free(gone);
	assert_int_equal(ipam_allocate(f->p, "c", "eth0", &b), -ENOSPC);
	job.held = true;
	job.addr = a;
	job.result = -EIO; /* the veth could not be deleted: still held */
	pod_teardown_done(f->p, NULL, &job);
	assert_int_equal(ipam_allocate(f->p, "c", "eth0", &b), -ENOSPC);
	job.result = 0;
	pod_teardown_done(f->p, NULL, &job);
	assert_int_equal(ipam_allocate(f->p, "c", "eth0", &b), 0);
	assert_int_equal(b.s_addr, a.s_addr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fill_24, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release, setup, teardown),
		cmocka_unit_test_setup_teardown(test_persistence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deferred_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deferred_release, setup, teardown),
		cmocka_unit_test_setup_teardown(test_on_disk_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_debris, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gc_partial_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_validation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_arguments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_io_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_host_local, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_sorted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_hold, setup, teardown),
	};

	/* Warnings about moved-aside files are expected; keep stderr quiet. */
	log_init("test-ipam", LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
