/* SPDX-License-Identifier: MIT */
/*
 * etcd.h - a small etcd v3 client over its JSON gateway (POST /v3/...), with
 * libcurl and jansson: what flannel's layout needs (range, put, txn
 * create-if-absent and compare-and-swap, delete, lease grant and
 * keepalive). Keys and values are base64 in the wire format; this API takes
 * and gives plain strings. Every call tries the endpoints in turn, starting
 * with the last one that answered, each bounded by a timeout. Blocking: one
 * thread (agent/datastore.c) owns a client. No logging: errors go to
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

/* Base64 (RFC 4648, with padding), exposed for the unit tests. */
char *etcd_b64_encode(const char *s, size_t len);
char *etcd_b64_decode(const char *s, size_t *ret_len); /* NULL on bad input */

#endif
