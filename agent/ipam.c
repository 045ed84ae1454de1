/* SPDX-License-Identifier: MIT */
/*
 * ipam.c - the node's pod address pool, one file per reserved address.
 *
 * DOC: memory holds one slot per address of the subnet (at most a /16, so
 * 65536 pointers), indexed by the address's offset from the network address;
 * a slot points to its owned record or is NULL. The folder is the truth at
 * ipam_open() time; after that every change is written to disk first (temp
 * file, fsync, rename, fsync of the folder) and only then made in memory, so
 * a failed write leaves both as they were. Lookups by attachment scan the
 * slots (n <= 65534); ipam_gc() sorts the valid list once and bsearch()es it.
 *
 * Held addresses (p->held, p->n_held): slots whose record is off the disk
 * but whose interface may still carry the address; owned by the main
 * thread like everything here, set by a release with hold (DEL, GC) and
 * cleared by ipam_unhold() once the teardown pool reports the veth gone.
 *
 * Files in the folder that are not ours (dotfiles, *.bad, anything that does
 * not look like an address) are left alone; record files that cannot be used
 * are renamed *.bad and logged, never deleted.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <dirent.h>
#include <unistd.h>

#include "rst.h"
#include "ipam.h"
#include "log.h"
#include "rst-util.h"

#define IPAM_NETWORK_MAX 64
#define IPAM_ORIGIN_ROOST "roost"
#define IPAM_ORIGIN_HOST_LOCAL "host-local"
#define IPAM_LAST_RESERVED "last_reserved"
#define IPAM_LOCK "lock"
#define IPAM_TMP_PREFIX ".tmp."
/* A record is at most id + ifname + a time_t + an origin plus four '\n'. */
#define IPAM_RECORD_MAX (IPAM_ID_MAX + IPAM_IFNAME_MAX + 21 + 16 + 4)

struct ipam {
	char *path;   /* owned, "<state_dir>/<network>", for messages */
	int dirfd;    /* the pool's folder */
	int lockfd;   /* "lock", flock()ed while open */
	uint32_t net; /* network address, host byte order */
	unsigned plen;
	uint32_t n_slots; /* 2^(32 - plen) */
	uint32_t last;	  /* offset last handed out, 0 when none */
	size_t used;	  /* records in slots */
	/* Owned array of n_slots, by offset from net; each an owned record or NULL. */
	struct ipam_record **slots;
	char *hl_dir; /* owned; host-local's folder imported from, NULL when none */
	/* Owned array of n_slots: 1 where the slot's attachment is gone (its
	 * record is off the disk) but its address is held until ipam_unhold(),
	 * because an interface may still carry it. */
	unsigned char *held;
	size_t n_held;
	/* The record being written or removed in the background
	 * (ipam_allocate_deferred, ipam_release_deferred). */
	struct {
		bool pending; /* a record awaits ipam_commit() */
		bool running; /* ... and a thread writes it */
		bool release; /* removing it (else writing it) */
		bool was_gone; /* release: the file was gone already */
		bool hold;     /* release: hold the address afterwards */
		pthread_t thread;
		uint32_t off;
		uint32_t prev_last; /* p->last before, restored on failure */
		char content[IPAM_RECORD_MAX + 1];
		int err;	/* the record: 0 or -errno */
		int cursor_err; /* last_reserved: 0 or -errno; read after the join */
		/* The thread sets record_done (under lock, signalling cond)
		 * once the record is durable, then writes the cursor:
		 * ipam_commit() waits for the record only, and the thread is
		 * joined (lingering) before the next one starts. */
		pthread_mutex_t lock;
		pthread_cond_t cond;
		bool record_done;
		bool lingering;
	} sync;
};

static void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

static void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}
#define _cleanup_closedir_ _cleanup_(closedirp)

static bool is_alnum(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* [A-Za-z0-9][A-Za-z0-9_.-]*, 1..max bytes. */
static bool name_valid(const char *s, size_t max)
{
	size_t i;

	if (!s || !is_alnum(s[0]))
		return false;
	for (i = 1; s[i]; i++) {
		if (i >= max)
			return false;
		if (!is_alnum(s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
			return false;
	}
	return true;
}

bool ipam_container_id_valid(const char *id)
{
	return name_valid(id, IPAM_ID_MAX);
}

bool ipam_ifname_valid(const char *ifname)
{
	size_t i;

	if (!ifname || !ifname[0] || strcmp(ifname, ".") == 0 || strcmp(ifname, "..") == 0)
		return false;
	for (i = 0; ifname[i]; i++) {
		if (i >= IPAM_IFNAME_MAX)
			return false;
		if (ifname[i] == '/' || ifname[i] == ':' || isspace((unsigned char)ifname[i]))
			return false;
	}
	return true;
}

static bool origin_valid(const char *s)
{
	size_t i;

	if (!s[0])
		return false;
	for (i = 0; s[i]; i++) {
		if (i >= sizeof(((struct ipam_record *)0)->origin) - 1)
			return false;
		if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_')
			return false;
	}
	return true;
}

static struct in_addr addr_of(const struct ipam *p, uint32_t off)
{
	struct in_addr a = {.s_addr = htonl(p->net + off)};

	return a;
}

static void addr_name(const struct ipam *p, uint32_t off, char buf[static INET_ADDRSTRLEN])
{
	struct in_addr a = addr_of(p, off);

	inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

/* Offset of the pool address the file name spells, 0 when the name is not
 * an address in canonical dotted-quad form, 1 when it is one outside the
 * pool or reserved (network, gateway, broadcast). */
static uint32_t name_offset(const struct ipam *p, const char *name)
{
	char canon[INET_ADDRSTRLEN];
	struct in_addr a;
	uint32_t h;

	if (inet_pton(AF_INET, name, &a) != 1)
		return 0;
	inet_ntop(AF_INET, &a, canon, sizeof(canon));
	if (strcmp(canon, name) != 0)
		return 0;
	h = ntohl(a.s_addr);
	if ((h & ~(p->n_slots - 1)) != p->net)
		return 1;
	h -= p->net;
	if (h < 2 || h >= p->n_slots - 1)
		return 1;
	return h;
}

static bool is_pool_offset(const struct ipam *p, uint32_t off)
{
	return off >= 2 && off < p->n_slots - 1;
}

/* Offset of the slot holding (id, ifname), 0 when none. */
static uint32_t find_slot(const struct ipam *p, const char *id, const char *ifname)
{
	uint32_t off;

	for (off = 2; off < p->n_slots - 1; off++) {
		const struct ipam_record *r = p->slots[off];

		if (r && !p->held[off] && strcmp(r->ifname, ifname) == 0 &&
		    strcmp(r->container_id, id) == 0)
			return off;
	}
	return 0;
}

static int fsync_dir(const struct ipam *p)
{
	return fsync(p->dirfd) < 0 ? -errno : 0;
}

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

/* Puts content under name in the pool's folder, all or nothing: when this
 * fails, no temp file is left, and name is as it was unless the rename got
 * through and only the sync of the folder failed; with undo set, name is
 * then removed again (it was not there in memory). Without durable, nothing
 * is synced: after a power loss the file may be old, empty or gone (fine for
 * a hint such as the round-robin cursor, never for a reservation). */
static int write_file_atomic(const struct ipam *p, const char *name, const char *content,
			     size_t len, bool undo, bool durable)
{
	char tmp[NAME_MAX + 1];
	int fd, r;

	snprintf(tmp, sizeof(tmp), IPAM_TMP_PREFIX "%s.%ld", name, (long)getpid());
	fd = openat(p->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	r = write_all(fd, content, len);
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
	if (r < 0 && undo && unlinkat(p->dirfd, name, 0) == 0)
		(void)fsync_dir(p);
	return r;
}

static int record_format(const struct ipam_record *rec, char buf[static IPAM_RECORD_MAX + 1])
{
	return snprintf(buf, IPAM_RECORD_MAX + 1, "%s\n%s\n%lld\n%s\n", rec->container_id,
			rec->ifname, (long long)rec->since, rec->origin);
}

/* Writes the record of slot off durably. On failure nothing is left on disk
 * under that address. */
static int record_write(const struct ipam *p, uint32_t off, const struct ipam_record *rec)
{
	char name[INET_ADDRSTRLEN], buf[IPAM_RECORD_MAX + 1];
	int n = record_format(rec, buf);

	addr_name(p, off, name);
	return write_file_atomic(p, name, buf, (size_t)n, true, true);
}

/* The round-robin cursor, a hint: written without a sync, since losing it
 * in a crash only restarts the round robin. */
static int last_reserved_write(const struct ipam *p, uint32_t off)
{
	char name[INET_ADDRSTRLEN], buf[INET_ADDRSTRLEN + 1];

	addr_name(p, off, name);
	snprintf(buf, sizeof(buf), "%s\n", name);
	return write_file_atomic(p, IPAM_LAST_RESERVED, buf, strlen(buf), false, false);
}

int ipam_file_read(int dirfd, const char *name, char *buf, size_t len, struct stat *ret_st)
{
	_cleanup_close_ int fd = -1;
	size_t got = 0;
	struct stat st;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP ? -EINVAL : -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	for (;;) {
		ssize_t n = read(fd, buf + got, len - got);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got == len)
			return -EFBIG;
	}
	buf[got] = '\0';
	if (strlen(buf) != got)
		return -EINVAL; /* a NUL byte inside */
	if (ret_st)
		*ret_st = st;
	return (int)got;
}

/* Next '\n'-terminated line of *s, the last one may lack its '\n'. */
static char *next_line(char **s)
{
	char *line = *s, *nl;

	if (!line || !*line)
		return NULL;
	nl = strchr(line, '\n');
	if (nl) {
		*nl = '\0';
		*s = nl + 1;
	} else {
		*s = NULL;
	}
	return line;
}

int ipam_record_parse(char *buf, struct ipam_record *rec)
{
	char *s = buf, *id, *ifname, *since, *origin, *end;
	long long t;

	id = next_line(&s);
	ifname = next_line(&s);
	since = next_line(&s);
	origin = next_line(&s);
	if (!origin || (s && *s))
		return -EINVAL;
	if (!ipam_container_id_valid(id) || !ipam_ifname_valid(ifname) || !origin_valid(origin))
		return -EINVAL;
	if (!isdigit((unsigned char)since[0]))
		return -EINVAL;
	errno = 0;
	t = strtoll(since, &end, 10);
	if (errno || *end)
		return -EINVAL;
	memset(rec, 0, sizeof(*rec));
	strcpy(rec->container_id, id);
	strcpy(rec->ifname, ifname);
	strcpy(rec->origin, origin);
	rec->since = (time_t)t;
	return 0;
}

/* Renames name to "<name>.bad" (or "<name>.bad.N" when that is taken) so a
 * person can look at it; the caller logs why. */
static int move_aside(const struct ipam *p, const char *name, char bad[static NAME_MAX + 1])
{
	int i, n;

	for (i = 0; i < 100; i++) {
		if (i)
			n = snprintf(bad, NAME_MAX + 1, "%s.bad.%d", name, i);
		else
			n = snprintf(bad, NAME_MAX + 1, "%s.bad", name);
		if (n < 0 || n > NAME_MAX)
			return -ENAMETOOLONG;
		if (renameat2(p->dirfd, name, p->dirfd, bad, RENAME_NOREPLACE) == 0)
			return 0;
		if (errno == EINVAL || errno == ENOSYS)
			/* The filesystem cannot refuse to replace. */
			return renameat(p->dirfd, name, p->dirfd, bad) < 0 ? -errno : 0;
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

static int move_aside_logged(const struct ipam *p, const char *name, const char *why)
{
	char bad[NAME_MAX + 1];
	int r = move_aside(p, name, bad);

	if (r < 0)
		return log_errno(LOG_ERR, r, "ipam: '%s': '%s' %s and cannot be moved aside",
				 p->path, name, why);
	log_warn("ipam: '%s': '%s' %s, renamed to '%s'", p->path, name, why, bad);
	return 0;
}

static int names_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every name in the folder, sorted so loading is deterministic. */
static int list_names(int dirfd, char ***ret, size_t *ret_n)
{
	_cleanup_closedir_ DIR *d = NULL;
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int fd, r = 0;

	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		r = -errno;
		close(fd);
		return r;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de) {
			r = -errno;
			break;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			char **nn = reallocarray(names, cap ? cap * 2 : 64, sizeof(*names));

			if (!nn) {
				r = -ENOMEM;
				break;
			}
			names = nn;
			cap = cap ? cap * 2 : 64;
		}
		names[n] = strdup(de->d_name);
		if (!names[n]) {
			r = -ENOMEM;
			break;
		}
		n++;
	}
	if (r < 0) {
		while (n > 0)
			free(names[--n]);
		free(names);
		return r;
	}
	if (n)
		qsort(names, n, sizeof(*names), names_cmp);
	*ret = names;
	*ret_n = n;
	return 0;
}

static void names_free(char **names, size_t n)
{
	while (n > 0)
		free(names[--n]);
	free(names);
}

/* One directory entry at open time. */
static int load_one(struct ipam *p, const char *name, bool *changed)
{
	char buf[IPAM_RECORD_MAX + 2];
	struct ipam_record *rec;
	uint32_t off;
	int r;

	if (strncmp(name, IPAM_TMP_PREFIX, strlen(IPAM_TMP_PREFIX)) == 0) {
		if (unlinkat(p->dirfd, name, 0) < 0) {
			log_errno(LOG_WARNING, errno, "ipam: '%s': cannot remove '%s', ignoring",
				  p->path, name);
			return 0;
		}
		log_warn("ipam: '%s': removed '%s', left by a write that did not finish", p->path,
			 name);
		*changed = true;
		return 0;
	}
	if (name[0] == '.' || strcmp(name, IPAM_LOCK) == 0 || strcmp(name, IPAM_LAST_RESERVED) == 0)
		return 0;
	off = name_offset(p, name);
	if (off == 0)
		return 0; /* not a record: *.bad or someone else's file */
	if (off == 1) {
		*changed = true;
		return move_aside_logged(p, name, "is not an address of the pool");
	}
	r = ipam_file_read(p->dirfd, name, buf, sizeof(buf), NULL);
	if (r < 0 && r != -EINVAL && r != -EFBIG)
		/* Not the record's fault (EIO, EMFILE...): moving it aside
		 * would free an address that may well be in use. */
		return log_errno(LOG_ERR, r, "ipam: '%s': cannot read the record '%s'", p->path,
				 name);
	rec = malloc(sizeof(*rec));
	if (!rec)
		return -ENOMEM;
	if (r >= 0)
		r = ipam_record_parse(buf, rec);
	if (r < 0) {
		free(rec);
		*changed = true;
		return move_aside_logged(p, name, "is not a readable record");
	}
	rec->address = addr_of(p, off);
	p->slots[off] = rec;
	p->used++;
	return 0;
}

/* Orders slot offsets by attachment, then oldest first, then by address. */
static int dup_cmp(const void *a, const void *b, void *arg)
{
	const struct ipam *p = arg;
	uint32_t oa = *(const uint32_t *)a, ob = *(const uint32_t *)b;
	const struct ipam_record *x = p->slots[oa], *y = p->slots[ob];
	int c = strcmp(x->container_id, y->container_id);

	if (!c)
		c = strcmp(x->ifname, y->ifname);
	if (!c)
		c = (x->since > y->since) - (x->since < y->since);
	if (!c)
		c = (oa > ob) - (oa < ob);
	return c;
}

/* Two records for one attachment (a crash between writing a record and
 * removing another, or a hand edit): keep the oldest, move the rest aside. */
static int drop_duplicates(struct ipam *p, bool *changed)
{
	_cleanup_free_ uint32_t *offs = NULL;
	size_t n = 0, i, keep = 0;
	uint32_t off;

	if (p->used < 2)
		return 0;
	offs = malloc(p->used * sizeof(*offs));
	if (!offs)
		return -ENOMEM;
	for (off = 2; off < p->n_slots - 1; off++)
		if (p->slots[off])
			offs[n++] = off;
	qsort_r(offs, n, sizeof(*offs), dup_cmp, p);
	for (i = 1; i < n; i++) {
		const struct ipam_record *k = p->slots[offs[keep]];
		char name[INET_ADDRSTRLEN], kept[INET_ADDRSTRLEN], why[128 + IPAM_ID_MAX];
		int r;

		if (strcmp(k->container_id, p->slots[offs[i]]->container_id) != 0 ||
		    strcmp(k->ifname, p->slots[offs[i]]->ifname) != 0) {
			keep = i;
			continue;
		}
		addr_name(p, offs[i], name);
		addr_name(p, offs[keep], kept);
		snprintf(why, sizeof(why),
			 "duplicates the older record of container '%s' ifname '%s' at %s",
			 k->container_id, k->ifname, kept);
		r = move_aside_logged(p, name, why);
		if (r < 0)
			return r;
		*changed = true;
		free(p->slots[offs[i]]);
		p->slots[offs[i]] = NULL;
		p->used--;
	}
	return 0;
}

static void last_reserved_load(struct ipam *p)
{
	char buf[64];
	size_t len;
	uint32_t off;
	int r;

	r = ipam_file_read(p->dirfd, IPAM_LAST_RESERVED, buf, sizeof(buf), NULL);
	if (r == -ENOENT)
		return;
	if (r >= 0) {
		len = strlen(buf);
		while (len > 0 && isspace((unsigned char)buf[len - 1]))
			buf[--len] = '\0';
		off = name_offset(p, buf);
		if (off >= 2) {
			p->last = off;
			return;
		}
	}
	log_warn("ipam: '%s': '" IPAM_LAST_RESERVED "' is not an address of the pool, ignoring",
		 p->path);
}

static int load(struct ipam *p)
{
	char **names = NULL;
	size_t n = 0, i;
	bool changed = false;
	int r;

	r = list_names(p->dirfd, &names, &n);
	if (r < 0)
		return r;
	for (i = 0; i < n && r >= 0; i++)
		r = load_one(p, names[i], &changed);
	names_free(names, n);
	if (r >= 0)
		r = drop_duplicates(p, &changed);
	if (r >= 0 && changed) {
		r = fsync_dir(p);
		if (r < 0)
			log_errno(LOG_ERR, r, "ipam: '%s': cannot sync the folder", p->path);
	}
	if (r < 0)
		return r;
	last_reserved_load(p);
	return 0;
}

static void sync_reap(struct ipam *p);

void ipam_free(struct ipam *p)
{
	uint32_t off;

	if (!p)
		return;
	(void)ipam_commit(p);
	sync_reap(p);
	pthread_cond_destroy(&p->sync.cond);
	pthread_mutex_destroy(&p->sync.lock);
	if (p->slots)
		for (off = 0; off < p->n_slots; off++)
			free(p->slots[off]);
	free(p->slots);
	free(p->held);
	if (p->lockfd >= 0)
		close(p->lockfd); /* drops the flock */
	if (p->dirfd >= 0)
		close(p->dirfd);
	free(p->path);
	free(p->hl_dir);
	free(p);
}
DEFINE_CLEANUP(struct ipam *, ipam_free)

int ipam_open(const char *state_dir, const char *network, struct in_addr net, unsigned plen,
	      struct ipam **ret)
{
	_cleanup_(ipam_freep) struct ipam *p = NULL;
	int r;

	if (!state_dir || !state_dir[0] || !ret || !name_valid(network, IPAM_NETWORK_MAX))
		return -EINVAL;
	if (plen < 16 || plen > 30)
		return -EINVAL;
	if (ntohl(net.s_addr) & ((UINT32_C(1) << (32 - plen)) - 1))
		return -EINVAL;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	pthread_mutex_init(&p->sync.lock, NULL);
	pthread_cond_init(&p->sync.cond, NULL);
	p->dirfd = p->lockfd = -1;
	p->net = ntohl(net.s_addr);
	p->plen = plen;
	p->n_slots = UINT32_C(1) << (32 - plen);
	if (asprintf(&p->path, "%s/%s", state_dir, network) < 0) {
		p->path = NULL;
		return -ENOMEM;
	}
	p->slots = calloc(p->n_slots, sizeof(*p->slots));
	p->held = calloc(p->n_slots, 1);
	if (!p->slots || !p->held)
		return -ENOMEM;

	/* Failures here are about the folder as a whole: the caller logs them. */
	r = rst_mkdir_p(p->path, 0700);
	if (r < 0)
		return r;
	p->dirfd = open(p->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->dirfd < 0)
		return -errno;
	p->lockfd = openat(p->dirfd, IPAM_LOCK, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
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

/* An imported reservation is released in host-local's folder too, or the
 * next import (every roostd start) would bring it back. Only when the file
 * still names the same container: host-local may have reused the address. */
static void release_host_local(const struct ipam *p, const char *name, const char *container_id)
{
	char path[PATH_MAX], line[IPAM_ID_MAX + 2] = "";
	FILE *f;

	if (!p->hl_dir)
		return;
	snprintf(path, sizeof(path), "%s/%s", p->hl_dir, name);
	f = fopen(path, "re");
	if (!f)
		return;
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	line[strcspn(line, "\r\n \t")] = '\0';
	if (strcmp(line, container_id) != 0)
		return;
	if (unlink(path) < 0)
		log_errno(LOG_WARNING, errno, "ipam: cannot remove host-local's reservation '%s'",
			  path);
	else
		log_info("ipam: released host-local's reservation '%s' too", path);
}

/* ---- the background write or removal of a record ---------------------- */

/* The record (temp file, fsync, rename, fsync of the folder), then the
 * cursor: the disk work and waits an ADD would otherwise spend in line,
 * done while roostd builds the pod's veth. The thread touches p->sync and
 * the folder only; the reservation is already in memory. */
static void sync_record_done(struct ipam *p)
{
	pthread_mutex_lock(&p->sync.lock);
	p->sync.record_done = true;
	pthread_cond_signal(&p->sync.cond);
	pthread_mutex_unlock(&p->sync.lock);
}

static void *sync_main(void *arg)
{
	struct ipam *p = arg;
	char name[INET_ADDRSTRLEN];
	uint32_t off = p->sync.off;

	addr_name(p, p->sync.off, name);
	p->sync.cursor_err = 0;
	if (p->sync.release) {
		/* A release: unlink (ENOENT: removed by hand, what they wanted
		 * is what we do), then make it last. */
		p->sync.err = 0;
		p->sync.was_gone = false;
		if (unlinkat(p->dirfd, name, 0) < 0) {
			p->sync.err = errno == ENOENT ? 0 : -errno;
			p->sync.was_gone = errno == ENOENT;
		}
		if (p->sync.err == 0)
			p->sync.err = fsync_dir(p);
		sync_record_done(p);
		return NULL;
	}
	p->sync.err = write_file_atomic(p, name, p->sync.content, strlen(p->sync.content), true,
					true);
	if (p->sync.err) {
		sync_record_done(p);
		return NULL;
	}
	/* The ADD waiting in ipam_commit() goes on now; the cursor (a hint,
	 * not synced) follows. Only off and the folder from here on. */
	sync_record_done(p);
	p->sync.cursor_err = last_reserved_write(p, off);
	return NULL;
}

/* Joins a thread that is done with its record but maybe still writing the
 * cursor, and reports the cursor's failure. */
static void sync_reap(struct ipam *p)
{
	if (!p->sync.lingering)
		return;
	pthread_join(p->sync.thread, NULL);
	p->sync.lingering = false;
	if (p->sync.cursor_err < 0)
		log_errno(LOG_WARNING, p->sync.cursor_err,
			  "ipam: '%s': cannot write '" IPAM_LAST_RESERVED "', ignoring", p->path);
	p->sync.cursor_err = 0;
}

static void sync_start(struct ipam *p, uint32_t off, bool release, bool hold)
{
	sync_reap(p);
	p->sync.record_done = false;
	p->sync.off = off;
	p->sync.release = release;
	p->sync.hold = hold;
	p->sync.pending = true;
	p->sync.running = pthread_create(&p->sync.thread, NULL, sync_main, p) == 0;
	if (!p->sync.running) {
		(void)sync_main(p); /* no thread: do it here; ipam_commit() reports */
		if (p->sync.cursor_err < 0)
			log_errno(LOG_WARNING, p->sync.cursor_err,
				  "ipam: '%s': cannot write '" IPAM_LAST_RESERVED "', ignoring",
				  p->path);
	}
}

/* Waits until the thread's record is done; the outcome stays in p->sync
 * (the thread itself is joined by sync_reap()). */
static void sync_join(struct ipam *p)
{
	if (p->sync.running) {
		pthread_mutex_lock(&p->sync.lock);
		while (!p->sync.record_done)
			pthread_cond_wait(&p->sync.cond, &p->sync.lock);
		pthread_mutex_unlock(&p->sync.lock);
		p->sync.lingering = true;
	}
	p->sync.pending = p->sync.running = false;
}

/* A release made good: the slot goes, in memory and in host-local's folder. */
static void release_finish(struct ipam *p, uint32_t off)
{
	char name[INET_ADDRSTRLEN];

	addr_name(p, off, name);
	if (strcmp(p->slots[off]->origin, "host-local") == 0)
		release_host_local(p, name, p->slots[off]->container_id);
	free(p->slots[off]);
	p->slots[off] = NULL;
	p->used--;
}

int ipam_commit(struct ipam *p)
{
	char name[INET_ADDRSTRLEN];
	int r;

	if (!p)
		return -EINVAL;
	if (!p->sync.pending)
		return 0;
	sync_join(p);
	addr_name(p, p->sync.off, name);
	if (p->sync.release) {
		r = p->sync.err;
		if (r < 0)
			/* Maybe not gone for good: the address stays reserved; a
			 * retry finds the file gone and finishes. */
			return log_errno(LOG_ERR, r, "ipam: '%s': cannot remove the record '%s'",
					 p->path, name);
		if (p->sync.was_gone)
			log_warn("ipam: '%s': the record '%s' was already gone from disk, ignoring",
				 p->path, name);
		if (p->sync.hold) {
			p->held[p->sync.off] = 1;
			p->n_held++;
		} else {
			release_finish(p, p->sync.off);
		}
		return 0;
	}
	r = p->sync.err;
	if (r == 0)
		return 0;
	/* Not on disk: take the reservation back (nothing of it is left there). */
	log_errno(LOG_ERR, r, "ipam: '%s': cannot write %s for '%s'/'%s'", p->path, name,
		  p->slots[p->sync.off]->container_id, p->slots[p->sync.off]->ifname);
	free(p->slots[p->sync.off]);
	p->slots[p->sync.off] = NULL;
	p->used--;
	p->last = p->sync.prev_last;
	return r;
}

void ipam_abort_release(struct ipam *p)
{
	const struct ipam_record *rec;
	char name[INET_ADDRSTRLEN];
	int r;

	if (!p || !p->sync.pending || !p->sync.release)
		return;
	sync_join(p);
	if (p->sync.was_gone && p->sync.err == 0)
		return; /* it was not on disk before either */
	/* Unlinked (or maybe): put the record back as it was. */
	rec = p->slots[p->sync.off];
	addr_name(p, p->sync.off, name);
	r = record_write(p, p->sync.off, rec);
	if (r < 0)
		log_errno(LOG_ERR, r,
			  "ipam: '%s': cannot write back the record %s of '%s'/'%s' (still held in memory)",
			  p->path, name, rec->container_id, rec->ifname);
}

int ipam_allocate_deferred(struct ipam *p, const char *container_id, const char *ifname,
			   struct in_addr *ret_addr)
{
	_cleanup_free_ struct ipam_record *rec = NULL;
	uint32_t off, start, i, size;

	if (!p || !ret_addr || !ipam_container_id_valid(container_id) || !ipam_ifname_valid(ifname))
		return -EINVAL;
	(void)ipam_commit(p); /* an earlier step's outcome is logged there */
	off = find_slot(p, container_id, ifname);
	if (off) {
		*ret_addr = p->slots[off]->address;
		return -EEXIST;
	}
	if (p->used >= ipam_size(p))
		return -ENOSPC;

	/* Round-robin: the first free address after the last one handed out. */
	size = (uint32_t)ipam_size(p);
	start = is_pool_offset(p, p->last + 1) ? p->last + 1 : 2;
	for (i = 0, off = 0; i < size; i++) {
		uint32_t o = 2 + (start - 2 + i) % size;

		if (!p->slots[o]) {
			off = o;
			break;
		}
	}
	if (!off)
		return -ENOSPC;

	rec = calloc(1, sizeof(*rec));
	if (!rec)
		return -ENOMEM;
	strcpy(rec->container_id, container_id);
	strcpy(rec->ifname, ifname);
	strcpy(rec->origin, IPAM_ORIGIN_ROOST);
	rec->since = time(NULL);
	rec->address = addr_of(p, off);

	*ret_addr = rec->address;
	p->sync.prev_last = p->last;
	record_format(rec, p->sync.content);
	p->slots[off] = TAKE_PTR(rec);
	p->used++;
	p->last = off;
	sync_start(p, off, false, false);
	return 0;
}

int ipam_allocate(struct ipam *p, const char *container_id, const char *ifname,
		  struct in_addr *ret_addr)
{
	struct in_addr a;
	int r = ipam_allocate_deferred(p, container_id, ifname, &a);

	if (r == 0)
		r = ipam_commit(p);
	sync_reap(p); /* all on disk when this returns, the cursor too */
	if (r == 0 || r == -EEXIST)
		*ret_addr = a;
	return r;
}


/* Removes the record of slot off from disk, then from memory (or holds
 * its address). */
static int release_slot(struct ipam *p, uint32_t off, bool hold)
{
	sync_start(p, off, true, hold);
	return ipam_commit(p);
}

int ipam_release_deferred(struct ipam *p, const char *container_id, const char *ifname,
			  bool hold, struct in_addr *ret_addr)
{
	uint32_t off;

	if (!p || !container_id || !ifname)
		return -EINVAL;
	(void)ipam_commit(p); /* an earlier step's outcome is logged there */
	/* An id or ifname CNI would reject never got an address: DEL of it
	 * is a no-op like any other unknown attachment. */
	off = find_slot(p, container_id, ifname);
	if (!off)
		return -ENOENT;
	if (ret_addr)
		*ret_addr = p->slots[off]->address;
	sync_start(p, off, true, hold);
	return 0;
}

int ipam_unhold(struct ipam *p, struct in_addr addr)
{
	uint32_t h = ntohl(addr.s_addr), off;

	if (!p || (h & ~(p->n_slots - 1)) != p->net)
		return -EINVAL;
	off = h - p->net;
	if (!is_pool_offset(p, off) || !p->held[off] || !p->slots[off])
		return -ENOENT;
	p->held[off] = 0;
	p->n_held--;
	release_finish(p, off);
	return 0;
}

size_t ipam_held(const struct ipam *p)
{
	return p ? p->n_held : 0;
}

int ipam_release(struct ipam *p, const char *container_id, const char *ifname,
		 struct in_addr *ret_addr)
{
	struct in_addr a;
	int r = ipam_release_deferred(p, container_id, ifname, false, &a);

	if (r == 0)
		r = ipam_commit(p);
	if (r == 0 && ret_addr)
		*ret_addr = a;
	return r;
}

int ipam_find(const struct ipam *p, const char *container_id, const char *ifname,
	      struct ipam_record *ret)
{
	uint32_t off;

	if (!p || !container_id || !ifname || !ret)
		return -EINVAL;
	off = find_slot(p, container_id, ifname);
	if (!off)
		return -ENOENT;
	*ret = *p->slots[off];
	return 0;
}

int ipam_list(const struct ipam *p, struct ipam_record **ret, size_t *ret_n)
{
	struct ipam_record *list = NULL;
	size_t n = 0;
	uint32_t off;

	if (!p || !ret || !ret_n)
		return -EINVAL;
	if (p->used) {
		list = malloc(p->used * sizeof(*list));
		if (!list)
			return -ENOMEM;
		/* Slots are by offset, so this is address order already. */
		for (off = 2; off < p->n_slots - 1; off++)
			if (p->slots[off] && !p->held[off])
				list[n++] = *p->slots[off];
	}
	*ret = list;
	*ret_n = n;
	return 0;
}

size_t ipam_used(const struct ipam *p)
{
	return p ? p->used : 0;
}

size_t ipam_size(const struct ipam *p)
{
	return p ? p->n_slots - 3 : 0;
}

static int key_cmp(const void *a, const void *b)
{
	const struct ipam_key *x = a, *y = b;
	int c = strcmp(x->container_id, y->container_id);

	return c ? c : strcmp(x->ifname, y->ifname);
}

static int gc(struct ipam *p, const struct ipam_key *valid, size_t n_valid, bool hold,
	      struct ipam_record **ret_released, size_t *ret_n_released)
{
	_cleanup_free_ struct ipam_key *keys = NULL;
	_cleanup_free_ struct ipam_record *gone = NULL;
	size_t n_gone = 0, i;
	uint32_t off;
	int first = 0;

	if (!p || (n_valid && !valid))
		return -EINVAL;
	(void)ipam_commit(p);
	for (i = 0; i < n_valid; i++)
		if (!valid[i].container_id || !valid[i].ifname)
			return -EINVAL;
	if (n_valid) {
		keys = malloc(n_valid * sizeof(*keys));
		if (!keys)
			return -ENOMEM;
		memcpy(keys, valid, n_valid * sizeof(*keys));
		qsort(keys, n_valid, sizeof(*keys), key_cmp);
	}
	if (ret_released && p->used) {
		gone = malloc(p->used * sizeof(*gone));
		if (!gone)
			return -ENOMEM;
	}
	for (off = 2; off < p->n_slots - 1; off++) {
		const struct ipam_record *rec = p->slots[off];
		struct ipam_record copy;
		struct ipam_key k;
		int r;

		if (!rec || p->held[off])
			continue;
		k.container_id = rec->container_id;
		k.ifname = rec->ifname;
		if (n_valid && bsearch(&k, keys, n_valid, sizeof(*keys), key_cmp))
			continue;
		copy = *rec;
		r = release_slot(p, off, hold);
		if (r < 0) {
			if (!first)
				first = r;
			continue;
		}
		if (gone)
			gone[n_gone++] = copy;
	}
	/* What went is listed even when something else could not go. */
	if (ret_released)
		*ret_released = n_gone ? TAKE_PTR(gone) : NULL;
	if (ret_n_released)
		*ret_n_released = n_gone;
	return first;
}

int ipam_gc(struct ipam *p, const struct ipam_key *valid, size_t n_valid,
	    struct ipam_record **ret_released, size_t *ret_n_released)
{
	return gc(p, valid, n_valid, false, ret_released, ret_n_released);
}

int ipam_gc_hold(struct ipam *p, const struct ipam_key *valid, size_t n_valid,
		 struct ipam_record **ret_released, size_t *ret_n_released)
{
	return gc(p, valid, n_valid, true, ret_released, ret_n_released);
}

/* "<id>\r\n<ifname>" or "<id>", with any trailing whitespace. */
static int host_local_parse(char *buf, const char **ret_id, const char **ret_ifname)
{
	size_t len = strlen(buf);
	char *nl, *ifname = NULL;

	while (len > 0 && isspace((unsigned char)buf[len - 1]))
		buf[--len] = '\0';
	nl = strchr(buf, '\n');
	if (nl) {
		*nl = '\0';
		ifname = nl + 1;
		len = strlen(buf);
		while (len > 0 && isspace((unsigned char)buf[len - 1]))
			buf[--len] = '\0';
	}
	if (!ipam_container_id_valid(buf) || (ifname && !ipam_ifname_valid(ifname)))
		return -EINVAL;
	*ret_id = buf;
	*ret_ifname = ifname ? ifname : "eth0";
	return 0;
}

static int import_one(struct ipam *p, int dirfd, const char *dir, const char *name)
{
	_cleanup_free_ struct ipam_record *rec = NULL;
	const struct ipam_record *h;
	char buf[IPAM_ID_MAX + IPAM_IFNAME_MAX + 64];
	const char *id, *ifname;
	struct stat st;
	uint32_t off, held;
	int r;

	off = name_offset(p, name);
	if (off < 2)
		return 0; /* not an address of this pool */
	r = ipam_file_read(dirfd, name, buf, sizeof(buf), &st);
	if (r >= 0)
		r = host_local_parse(buf, &id, &ifname);
	if (r < 0) {
		log_errno(LOG_WARNING, r, "ipam: host-local '%s/%s' is not a reservation, ignoring",
			  dir, name);
		return 0;
	}
	h = p->slots[off];
	if (h && strcmp(h->container_id, id) == 0 && strcmp(h->ifname, ifname) == 0)
		return 0; /* imported before */
	if (h) {
		log_warn("ipam: host-local '%s/%s' ('%s'/'%s'): taken by '%s'/'%s', ignoring", dir,
			 name, id, ifname, h->container_id, h->ifname);
		return 0;
	}
	held = find_slot(p, id, ifname);
	if (held) {
		char other[INET_ADDRSTRLEN];

		addr_name(p, held, other);
		log_warn("ipam: host-local '%s/%s': '%s'/'%s' holds %s already, ignoring", dir,
			 name, id, ifname, other);
		return 0;
	}

	rec = calloc(1, sizeof(*rec));
	if (!rec)
		return -ENOMEM;
	strcpy(rec->container_id, id);
	strcpy(rec->ifname, ifname);
	strcpy(rec->origin, IPAM_ORIGIN_HOST_LOCAL);
	/* host-local writes the file once, at ADD: its mtime is when. */
	rec->since = st.st_mtime;
	rec->address = addr_of(p, off);
	r = record_write(p, off, rec);
	if (r < 0)
		return log_errno(LOG_ERR, r, "ipam: '%s': cannot write %s imported from host-local",
				 p->path, name);
	p->slots[off] = TAKE_PTR(rec);
	p->used++;
	return 1;
}

int ipam_import_host_local(struct ipam *p, const char *dir)
{
	_cleanup_close_ int dirfd = -1;
	char **names = NULL;
	size_t n = 0, i;
	int r, imported = 0;

	if (!p || !dir)
		return -EINVAL;
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return errno == ENOENT ? 0 : -errno;
	free(p->hl_dir);
	p->hl_dir = strdup(dir);
	if (!p->hl_dir)
		return -ENOMEM;
	r = list_names(dirfd, &names, &n);
	if (r < 0)
		return r;
	for (i = 0; i < n; i++) {
		/* Its "lock" and "last_reserved_ip.<set>" are not addresses,
		 * name_offset() skips them with everything else. */
		if (names[i][0] == '.')
			continue;
		r = import_one(p, dirfd, dir, names[i]);
		if (r < 0)
			break;
		imported += r;
	}
	names_free(names, n);
	return r < 0 ? r : imported;
}
