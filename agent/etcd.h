/* SPDX-License-Identifier: MIT */
/*
 * etcd.h - a small etcd v3 client over its JSON gateway (POST /v3/...), with
 * libcurl and jansson: what flannel's layout needs (range, put, txn
 * create-if-absent and compare-and-swap, delete, lease grant and
 * keepalive, watch). Keys and values are base64 in the wire format; this API takes
 * and gives plain strings. Every call tries the endpoints in turn, starting
 * with the last one that answered, each bounded by a timeout. Blocking, but
 * for the watch: one thread (agent/datastore.c) owns a client. No logging: errors go to
 * etcd_error().
 */
#ifndef ROOST_ETCD_H
#define ROOST_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct etcd;

struct etcd_kv {
	char *key, *value; /* owned */
	int64_t lease;     /* 0: none */
	int64_t mod_revision;
	int64_t create_revision; /* when the key was created: who came first */
};

/* endpoints are borrowed for the client's life; ca/cert/key may be NULL/"".
 * The first call loads libcurl (dlopen); -ENOSYS when it cannot, and
 * etcd_error(NULL) says why. */
int etcd_new(char *const *endpoints, size_t n, const char *ca, const char *cert, const char *key,
	     long timeout_ms, struct etcd **ret);
void etcd_free(struct etcd *e);
/* While fd is readable, every call fails at once (checked about once a
 * second and as data flows): a thread that is told to stop waits for no
 * timeout. -1: none. */
void etcd_set_stop_fd(struct etcd *e, int fd);
const char *etcd_error(const struct etcd *e); /* the last failure (e NULL: loading libcurl) */

/* Every key with prefix (or just key when prefix is false), in key order.
 * *ret (free with etcd_kvs_free) may be NULL when none. *ret_rev (may be
 * NULL) gets the store's revision. 0 or -errno. */
int etcd_range(struct etcd *e, const char *key, bool prefix, struct etcd_kv **ret, size_t *ret_n,
	       int64_t *ret_rev);
void etcd_kvs_free(struct etcd_kv *kvs, size_t n);

int etcd_put(struct etcd *e, const char *key, const char *value, int64_t lease);
int etcd_delete(struct etcd *e, const char *key);

/* Puts key only if it does not exist (mod_revision 0) or, with mod_revision
 * > 0, only if it is still at that revision. 1 when put, 0 when the compare
 * failed, -errno. */
int etcd_put_if(struct etcd *e, const char *key, const char *value, int64_t lease,
		int64_t mod_revision);

int etcd_lease_grant(struct etcd *e, int64_t ttl, int64_t *ret_id);
/* Renews lease id: 0 and *ret_ttl (> 0), -ENOENT when the lease is gone. */
int etcd_lease_keepalive(struct etcd *e, int64_t id, int64_t *ret_ttl);

/* The store's revision, from a count-only range of prefix (a linearizable
 * read: it answers only from a member in touch with the quorum). 0 or -errno. */
int etcd_revision(struct etcd *e, const char *prefix, int64_t *ret_rev);
/* Which endpoint answered last (an index into endpoints). */
size_t etcd_endpoint(const struct etcd *e);

/* ---- watch --------------------------------------------------------------------
 * One POST /v3/watch of a key prefix, on a handle of its own: the gateway
 * streams one JSON object per line, {"result":WatchResponse} or
 * {"error":...}. Not blocking: etcd_watch_poll() waits for the stream and
 * for the caller's fd at once, etcd_watch_next() hands out what arrived. */
struct etcd_watch;

struct etcd_event {
	bool deleted;      /* else a put */
	struct etcd_kv kv; /* deleted: key and mod_revision only; value NULL when not base64 */
};

struct etcd_watch_resp {
	int64_t revision; /* header.revision, 0 when absent */
	bool created, canceled;
	int64_t compact_revision; /* canceled: the start revision was compacted */
	char reason[128];         /* cancel_reason */
	struct etcd_event *events;
	size_t n_events;
};
void etcd_watch_resp_clear(struct etcd_watch_resp *w);

/* Watches every key with prefix from start_revision on, with progress
 * notifications, on the endpoint that answered last. 0 or -errno. */
int etcd_watch_open(struct etcd *e, const char *prefix, int64_t start_revision,
		    struct etcd_watch **ret);
void etcd_watch_close(struct etcd_watch *w);
/* Waits up to timeout_ms for the stream or for fd (-1: none) and takes in
 * what arrived. 1 when fd is readable, else 0. */
int etcd_watch_poll(struct etcd_watch *w, int fd, int timeout_ms);
/* The next whole response: 1 and *ret (etcd_watch_resp_clear it), 0 when
 * none yet; when the stream failed or ended: -EPROTO (etcd sent an error),
 * -EINVAL (a malformed response), -E2BIG (one larger than 8 MiB),
 * -ECONNRESET (ended), and etcd_watch_error() says why. */
int etcd_watch_next(struct etcd_watch *w, struct etcd_watch_resp *ret);
const char *etcd_watch_error(const struct etcd_watch *w);

/* Exposed for the unit tests: one response (a line) parsed; a watch with no
 * transfer, fed by hand, and ended by hand. */
int etcd_watch_parse(const char *frame, size_t len, struct etcd_watch_resp *ret, char *err,
		     size_t errlen);
struct etcd_watch *etcd_watch_new_detached(void);
int etcd_watch_feed(struct etcd_watch *w, const char *data, size_t n);
void etcd_watch_end(struct etcd_watch *w);

/* Base64 (RFC 4648, with padding), exposed for the unit tests. */
char *etcd_b64_encode(const char *s, size_t len);
char *etcd_b64_decode(const char *s, size_t *ret_len); /* NULL on bad input */

#endif
