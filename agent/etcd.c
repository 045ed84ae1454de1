/* SPDX-License-Identifier: MIT */
/*
 * etcd.c - etcd v3 over the JSON gateway (etcd 3.4: /v3/kv/range, /v3/kv/put,
 * /v3/kv/txn, /v3/kv/deleterange, /v3/lease/grant, /v3/lease/keepalive,
 * /v3/watch).
 *
 * The gateway speaks protobuf-as-JSON: int64 fields are decimal strings,
 * bytes are base64, and fields at their zero value are left out (a txn that
 * failed has no "succeeded"; a lease that is gone comes back without "TTL").
 */
#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "curl-dl.h"
#include "etcd.h"
#include "rst.h"

#define ETCD_REPLY_MAX (8u << 20)

struct etcd {
	char *const *endpoints;
	size_t n, cur; /* cur: the endpoint that answered last */
	CURL *h;
	long timeout_ms;
	const char *ca, *cert, *key; /* borrowed */
	bool tls;
	int stop_fd; /* readable: every transfer is aborted (-1: none) */
	char err[256];
};

/* A watch: one long POST /v3/watch on its own handle, driven by a multi
 * handle so that the caller waits on it and on its own fd at once. The
 * gateway answers with one JSON object per line: {"result":{...}} for each
 * WatchResponse, {"error":...} when the stream fails. */
struct etcd_watch {
	CURLM *m;   /* NULL: detached (the unit tests feed it by hand) */
	CURL *h;
	struct curl_slist *hdr;
	char *body, *url;
	char *buf;   /* received, not yet taken: buf[off..len) */
	size_t len, off, scanned, cap;
	size_t tail; /* where the response not yet whole starts */
	bool too_big, ended;
	long status;
	char err[256];
};

struct buf {
	char *p;
	size_t len;
	bool too_big;
};

/* ---- base64 --------------------------------------------------------------- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *etcd_b64_encode(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	char *out = malloc((len + 2) / 3 * 4 + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)u[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)u[i + 1] << 8;
		if (i + 2 < len)
			v |= u[i + 2];
		*o++ = b64[v >> 18 & 63];
		*o++ = b64[v >> 12 & 63];
		*o++ = i + 1 < len ? b64[v >> 6 & 63] : '=';
		*o++ = i + 2 < len ? b64[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

char *etcd_b64_decode(const char *s, size_t *ret_len)
{
	size_t len = strlen(s), n = 0;
	char *out;

	if (len % 4)
		return NULL;
	out = malloc(len / 4 * 3 + 1);
	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i += 4) {
		uint32_t v = 0;
		int pad = 0;

		for (int k = 0; k < 4; k++) {
			const char *c = s[i + k] ? strchr(b64, s[i + k]) : NULL;

			if (s[i + k] == '=' && i + 4 == len && k >= 2) {
				pad++;
				v <<= 6;
				continue;
			}
			if (!c || pad) {
				free(out);
				return NULL;
			}
			v = v << 6 | (uint32_t)(c - b64);
		}
		out[n++] = (char)(v >> 16);
		if (pad < 2)
			out[n++] = (char)(v >> 8 & 255);
		if (pad < 1)
			out[n++] = (char)(v & 255);
	}
	out[n] = '\0';
	if (ret_len)
		*ret_len = n;
	return out;
}

/* ---- transport ------------------------------------------------------------ */

static size_t on_data(char *p, size_t size, size_t nmemb, void *arg)
{
	struct buf *b = arg;
	size_t n = size * nmemb;
	char *q;

	if (b->len + n > ETCD_REPLY_MAX) {
		b->too_big = true;
		return 0;
	}
	q = realloc(b->p, b->len + n + 1);
	if (!q)
		return 0;
	memcpy(q + b->len, p, n);
	b->p = q;
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

/* libcurl calls this about once a second, and more often while data
 * flows: a readable stop fd aborts the transfer (CURLE_ABORTED_BY_CALLBACK),
 * so that a thread stopping waits for no timeout. */
static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	const struct etcd *e = arg;
	struct pollfd pf = {.fd = e->stop_fd, .events = POLLIN};

	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	return e->stop_fd >= 0 && poll(&pf, 1, 0) > 0 ? 1 : 0;
}

void etcd_set_stop_fd(struct etcd *e, int fd)
{
	e->stop_fd = fd;
}

/* What every handle of e has: connect timeout, protocols, TLS, the stop fd. */
static void setup_handle(const struct etcd *e, CURL *h)
{
	curl_dl.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_dl.easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_dl.easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_dl.easy_setopt(h, CURLOPT_XFERINFODATA, e);
	curl_dl.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, e->timeout_ms);
	curl_dl.easy_setopt(h, CURLOPT_PROTOCOLS_STR, e->tls ? "https" : "http,https");
	if (e->ca && e->ca[0])
		curl_dl.easy_setopt(h, CURLOPT_CAINFO, e->ca);
	if (e->cert && e->cert[0]) {
		curl_dl.easy_setopt(h, CURLOPT_SSLCERT, e->cert);
		curl_dl.easy_setopt(h, CURLOPT_SSLKEY, e->key);
	}
}

static void url_of(const struct etcd *e, size_t i, const char *path, char *url, size_t size)
{
	const char *ep = e->endpoints[i];

	snprintf(url, size, "%s%s", ep, ep[strlen(ep) - 1] == '/' ? path + 1 : path);
}

int etcd_new(char *const *endpoints, size_t n, const char *ca, const char *cert, const char *key,
	     long timeout_ms, struct etcd **ret)
{
	bool tls = (ca && ca[0]) || (cert && cert[0]);
	struct etcd *e;
	int r;

	if (!endpoints || n == 0)
		return -EINVAL;
	/* TLS asked for: never plain HTTP, and libcurl is held to https
	 * (conf.c already refuses such a configuration with file:line). */
	for (size_t i = 0; tls && i < n; i++)
		if (strncmp(endpoints[i], "https://", 8) != 0)
			return -EPROTONOSUPPORT;
	r = curl_dl_load();
	if (r < 0)
		return r;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->endpoints = endpoints;
	e->n = n;
	e->timeout_ms = timeout_ms;
	e->ca = ca;
	e->cert = cert;
	e->key = key;
	e->tls = tls;
	e->stop_fd = -1;
	e->h = curl_dl.easy_init();
	if (!e->h) {
		free(e);
		return -ENOMEM;
	}
	setup_handle(e, e->h);
	curl_dl.easy_setopt(e->h, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_dl.easy_setopt(e->h, CURLOPT_WRITEFUNCTION, on_data);
	*ret = e;
	return 0;
}

void etcd_free(struct etcd *e)
{
	if (!e)
		return;
	curl_dl.easy_cleanup(e->h);
	free(e);
}

const char *etcd_error(const struct etcd *e)
{
	return e ? e->err : curl_dl_error();
}

/* POSTs body to path on the endpoints in turn; 0 and the parsed reply. */
static int call(struct etcd *e, const char *path, json_t *body, json_t **ret)
{
	_cleanup_free_ char *text = json_dumps(body, JSON_COMPACT);
	struct curl_slist *hdr = NULL;
	int r = -EIO;

	json_decref(body);
	if (!text)
		return -ENOMEM;
	hdr = curl_dl.slist_append(hdr, "Content-Type: application/json");
	for (size_t k = 0; k < e->n; k++) {
		size_t i = (e->cur + k) % e->n;
		struct buf b = {0};
		char url[512];
		long status = 0;
		CURLcode c;
		json_error_t je;

		url_of(e, i, path, url, sizeof(url));
		curl_dl.easy_setopt(e->h, CURLOPT_URL, url);
		curl_dl.easy_setopt(e->h, CURLOPT_HTTPHEADER, hdr);
		curl_dl.easy_setopt(e->h, CURLOPT_POSTFIELDS, text);
		curl_dl.easy_setopt(e->h, CURLOPT_WRITEDATA, &b);
		c = curl_dl.easy_perform(e->h);
		curl_dl.easy_getinfo(e->h, CURLINFO_RESPONSE_CODE, &status);
		if (c != CURLE_OK) {
			snprintf(e->err, sizeof(e->err), "%s: %s", e->endpoints[i],
				 b.too_big ? "reply too large" : curl_dl.easy_strerror(c));
			free(b.p);
			r = -EIO;
			continue;
		}
		*ret = b.p ? json_loads(b.p, 0, &je) : NULL;
		if (status != 200 || !*ret) {
			snprintf(e->err, sizeof(e->err), "%s%s: HTTP %ld: %.120s", e->endpoints[i],
				 path, status, b.p ? b.p : "");
			free(b.p);
			json_decref(*ret);
			*ret = NULL;
			/* An answer, but an error: another member says the same. */
			r = status >= 500 ? -EIO : -EPROTO;
			if (r == -EIO)
				continue;
			break;
		}
		free(b.p);
		e->cur = i;
		e->err[0] = '\0';
		r = 0;
		break;
	}
	curl_dl.slist_free_all(hdr);
	return r;
}

static int64_t int64_of(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	if (json_is_string(v))
		return strtoll(json_string_value(v), NULL, 10);
	if (json_is_integer(v))
		return json_integer_value(v);
	return 0;
}

static json_t *b64_json(const char *s)
{
	_cleanup_free_ char *enc = etcd_b64_encode(s, strlen(s));

	return enc ? json_string(enc) : NULL;
}

static char *i64_str(int64_t v, char buf[static 24])
{
	snprintf(buf, 24, "%" PRId64, v);
	return buf;
}

/* ---- KV ------------------------------------------------------------------- */

void etcd_kvs_free(struct etcd_kv *kvs, size_t n)
{
	for (size_t i = 0; kvs && i < n; i++) {
		free(kvs[i].key);
		free(kvs[i].value);
	}
	free(kvs);
}

/* {"key":..., "range_end":...}: key, or every key with prefix key (the
 * range_end is the prefix with its last byte incremented). */
static json_t *range_req(const char *key, bool prefix)
{
	json_t *req = json_object();

	json_object_set_new(req, "key", b64_json(key));
	if (prefix) {
		_cleanup_free_ char *end = strdup(key);

		if (!end || !end[0]) {
			json_decref(req);
			return NULL;
		}
		end[strlen(end) - 1]++;
		json_object_set_new(req, "range_end", b64_json(end));
	}
	return req;
}

int etcd_revision(struct etcd *e, const char *prefix, int64_t *ret_rev)
{
	json_t *req = range_req(prefix, true), *rep = NULL;
	int r;

	if (!req)
		return -EINVAL;
	json_object_set_new(req, "count_only", json_true());
	r = call(e, "/v3/kv/range", req, &rep);
	if (r < 0)
		return r;
	*ret_rev = int64_of(json_object_get(rep, "header"), "revision");
	json_decref(rep);
	return 0;
}

size_t etcd_endpoint(const struct etcd *e)
{
	return e->cur;
}

int etcd_range(struct etcd *e, const char *key, bool prefix, struct etcd_kv **ret, size_t *ret_n,
	       int64_t *ret_rev)
{
	json_t *req = range_req(key, prefix), *rep = NULL, *kvs;
	struct etcd_kv *out = NULL;
	size_t n = 0, i;
	int r;

	if (!req)
		return -EINVAL;
	r = call(e, "/v3/kv/range", req, &rep);
	if (r < 0)
		return r;
	if (ret_rev)
		*ret_rev = int64_of(json_object_get(rep, "header"), "revision");
	kvs = json_object_get(rep, "kvs");
	if (json_is_array(kvs) && json_array_size(kvs) > 0) {
		out = calloc(json_array_size(kvs), sizeof(*out));
		if (!out) {
			json_decref(rep);
			return -ENOMEM;
		}
		for (i = 0; i < json_array_size(kvs); i++) {
			const json_t *kv = json_array_get(kvs, i);
			const char *k = json_string_value(json_object_get(kv, "key"));
			const char *v = json_string_value(json_object_get(kv, "value"));

			out[n].key = k ? etcd_b64_decode(k, NULL) : NULL;
			out[n].value = v ? etcd_b64_decode(v, NULL) : strdup("");
			if (!out[n].key || !out[n].value) {
				free(out[n].key);
				free(out[n].value);
				continue; /* not ours to read */
			}
			out[n].lease = int64_of(kv, "lease");
			out[n].mod_revision = int64_of(kv, "mod_revision");
			out[n].create_revision = int64_of(kv, "create_revision");
			n++;
		}
	}
	json_decref(rep);
	*ret = out;
	*ret_n = n;
	return 0;
}

static json_t *put_req(const char *key, const char *value, int64_t lease)
{
	json_t *p = json_object();
	char b[24];

	json_object_set_new(p, "key", b64_json(key));
	json_object_set_new(p, "value", b64_json(value));
	if (lease)
		json_object_set_new(p, "lease", json_string(i64_str(lease, b)));
	return p;
}

int etcd_put(struct etcd *e, const char *key, const char *value, int64_t lease)
{
	json_t *rep = NULL;
	int r = call(e, "/v3/kv/put", put_req(key, value, lease), &rep);

	json_decref(rep);
	return r;
}

int etcd_delete(struct etcd *e, const char *key)
{
	json_t *req = json_object(), *rep = NULL;
	int r;

	json_object_set_new(req, "key", b64_json(key));
	r = call(e, "/v3/kv/deleterange", req, &rep);
	json_decref(rep);
	return r;
}

int etcd_put_if(struct etcd *e, const char *key, const char *value, int64_t lease,
		int64_t mod_revision)
{
	json_t *req, *rep = NULL;
	char b[24];
	int r;

	req = json_pack("{s:[{s:o, s:s, s:s}], s:[{s:o}]}", "compare", "key", b64_json(key),
			"target", "MOD", "mod_revision", i64_str(mod_revision, b), "success",
			"request_put", put_req(key, value, lease));
	if (!req)
		return -ENOMEM;
	r = call(e, "/v3/kv/txn", req, &rep);
	if (r < 0)
		return r;
	r = json_is_true(json_object_get(rep, "succeeded")) ? 1 : 0;
	json_decref(rep);
	return r;
}

/* ---- leases --------------------------------------------------------------- */

int etcd_lease_grant(struct etcd *e, int64_t ttl, int64_t *ret_id)
{
	json_t *rep = NULL;
	char b[24];
	int r = call(e, "/v3/lease/grant", json_pack("{s:s}", "TTL", i64_str(ttl, b)), &rep);

	if (r < 0)
		return r;
	*ret_id = int64_of(rep, "ID");
	json_decref(rep);
	if (*ret_id == 0) {
		snprintf(e->err, sizeof(e->err), "lease grant: no ID in the reply");
		return -EPROTO;
	}
	return 0;
}

int etcd_lease_keepalive(struct etcd *e, int64_t id, int64_t *ret_ttl)
{
	json_t *rep = NULL;
	char b[24];
	int r = call(e, "/v3/lease/keepalive", json_pack("{s:s}", "ID", i64_str(id, b)), &rep);

	if (r < 0)
		return r;
	*ret_ttl = int64_of(json_object_get(rep, "result"), "TTL");
	json_decref(rep);
	return *ret_ttl > 0 ? 0 : -ENOENT;
}

/* ---- watch ---------------------------------------------------------------- */

void etcd_watch_resp_clear(struct etcd_watch_resp *w)
{
	for (size_t i = 0; w->events && i < w->n_events; i++) {
		free(w->events[i].kv.key);
		free(w->events[i].kv.value);
	}
	free(w->events);
	memset(w, 0, sizeof(*w));
}

static void werr(char *err, size_t errlen, const char *what, const char *detail)
{
	if (err && errlen)
		snprintf(err, errlen, "watch: %s%.200s", what, detail);
}

int etcd_watch_parse(const char *frame, size_t len, struct etcd_watch_resp *ret, char *err,
		     size_t errlen)
{
	json_error_t je;
	json_t *o = json_loadb(frame, len, 0, &je);
	const json_t *res, *evs, *v;
	int r = -EINVAL;

	memset(ret, 0, sizeof(*ret));
	if (!json_is_object(o)) {
		werr(err, errlen, o ? "not a JSON object" : "not JSON: ", o ? "" : je.text);
		goto out;
	}
	if ((v = json_object_get(o, "error"))) {
		/* {"error":{"grpc_code":14,"message":"..."}} or {"error":"...","message":"..."} */
		const char *msg = json_string_value(json_object_get(o, "message"));

		if (!msg)
			msg = json_string_value(json_object_get(v, "message"));
		if (!msg)
			msg = json_string_value(v);
		werr(err, errlen, "etcd says: ", msg ? msg : "(no message)");
		r = -EPROTO;
		goto out;
	}
	res = json_object_get(o, "result");
	if (!json_is_object(res)) {
		werr(err, errlen, "a response without \"result\"", "");
		goto out;
	}
	ret->revision = int64_of(json_object_get(res, "header"), "revision");
	ret->created = json_is_true(json_object_get(res, "created"));
	ret->canceled = json_is_true(json_object_get(res, "canceled"));
	ret->compact_revision = int64_of(res, "compact_revision");
	v = json_object_get(res, "cancel_reason");
	snprintf(ret->reason, sizeof(ret->reason), "%s", json_is_string(v) ? json_string_value(v) : "");
	evs = json_object_get(res, "events");
	if (evs && !json_is_array(evs)) {
		werr(err, errlen, "\"events\" is not a list", "");
		goto out;
	}
	if (json_array_size(evs) > 0) {
		ret->events = calloc(json_array_size(evs), sizeof(*ret->events));
		if (!ret->events) {
			r = -ENOMEM;
			goto out;
		}
	}
	for (size_t i = 0; i < json_array_size(evs); i++) {
		const json_t *ev = json_array_get(evs, i), *kv = json_object_get(ev, "kv");
		const char *type = json_string_value(json_object_get(ev, "type"));
		const char *k = json_string_value(json_object_get(kv, "key"));
		const char *val = json_string_value(json_object_get(kv, "value"));
		struct etcd_event *e = &ret->events[ret->n_events];

		if (!json_is_object(ev) || !json_is_object(kv) || !k ||
		    (type && strcmp(type, "PUT") != 0 && strcmp(type, "DELETE") != 0)) {
			werr(err, errlen, "an event without a kv, a key or a known type", "");
			goto out;
		}
		e->deleted = type && !strcmp(type, "DELETE");
		e->kv.key = etcd_b64_decode(k, NULL);
		if (!e->kv.key) {
			werr(err, errlen, "an event's key is not base64", "");
			goto out;
		}
		ret->n_events++;
		/* a value that is not base64: NULL, not ours to read */
		if (!e->deleted)
			e->kv.value = val ? etcd_b64_decode(val, NULL) : strdup("");
		e->kv.lease = int64_of(kv, "lease");
		e->kv.mod_revision = int64_of(kv, "mod_revision");
		e->kv.create_revision = int64_of(kv, "create_revision");
	}
	r = 0;
out:
	json_decref(o);
	if (r < 0)
		etcd_watch_resp_clear(ret);
	return r;
}

int etcd_watch_feed(struct etcd_watch *w, const char *data, size_t n)
{
	const char *nl = n ? memrchr(data, '\n', n) : NULL;
	size_t tail = nl ? w->len + (size_t)(nl - data) + 1 : w->tail;

	if (w->too_big)
		return -E2BIG;
	/* The response not yet whole is larger than any reply we take. */
	if (w->len + n - tail > ETCD_REPLY_MAX) {
		w->too_big = true;
		snprintf(w->err, sizeof(w->err), "watch: a response larger than %u bytes",
			 ETCD_REPLY_MAX);
		return -E2BIG;
	}
	if (w->off > 0 && w->off == w->len) {
		w->off = w->len = w->scanned = w->tail = 0;
		tail = nl ? (size_t)(nl - data) + 1 : 0;
	} else if (w->off > 0 && w->len + n + 1 > w->cap) {
		memmove(w->buf, w->buf + w->off, w->len - w->off);
		w->len -= w->off;
		w->scanned -= w->off;
		w->tail -= w->off;
		tail -= w->off;
		w->off = 0;
	}
	if (w->len + n + 1 > w->cap) {
		size_t cap = w->cap ? w->cap : 4096;
		char *p;

		while (cap < w->len + n + 1)
			cap *= 2;
		p = realloc(w->buf, cap);
		if (!p)
			return -ENOMEM;
		w->buf = p;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, data, n);
	w->len += n;
	w->buf[w->len] = '\0';
	w->tail = tail;
	return 0;
}

static bool blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
			return false;
	return true;
}

int etcd_watch_next(struct etcd_watch *w, struct etcd_watch_resp *ret)
{
	if (!w->buf) { /* nothing received yet */
		if (!w->ended)
			return 0;
		if (!w->err[0])
			snprintf(w->err, sizeof(w->err), "watch: the stream ended");
		return -ECONNRESET;
	}
	for (;;) {
		char *frame = w->buf + w->off, *nl;
		size_t flen;
		int r;

		if (w->too_big)
			return -E2BIG;
		nl = w->len > w->scanned ? memchr(w->buf + w->scanned, '\n', w->len - w->scanned)
					 : NULL;
		if (nl) {
			flen = (size_t)(nl - frame);
			w->scanned = w->off = (size_t)(nl - w->buf) + 1;
		} else {
			w->scanned = w->len;
			if (!w->ended)
				return 0;
			/* The end: what is left (an error has no newline) is the last. */
			flen = w->len - w->off;
			w->scanned = w->off = w->len;
			if (blank(frame, flen)) {
				if (!w->err[0])
					snprintf(w->err, sizeof(w->err), "watch: the stream ended");
				return -ECONNRESET;
			}
		}
		if (blank(frame, flen))
			continue;
		r = etcd_watch_parse(frame, flen, ret, w->err, sizeof(w->err));
		return r < 0 ? r : 1;
	}
}

static size_t on_watch_data(char *p, size_t size, size_t nmemb, void *arg)
{
	struct etcd_watch *w = arg;

	return etcd_watch_feed(w, p, size * nmemb) < 0 ? 0 : size * nmemb;
}

struct etcd_watch *etcd_watch_new_detached(void)
{
	return calloc(1, sizeof(struct etcd_watch));
}

void etcd_watch_end(struct etcd_watch *w)
{
	w->ended = true;
}

const char *etcd_watch_error(const struct etcd_watch *w)
{
	return w->err;
}

void etcd_watch_close(struct etcd_watch *w)
{
	if (!w)
		return;
	curl_dl_stream_free(w->m, w->h, w->hdr);
	free(w->body);
	free(w->url);
	free(w->buf);
	free(w);
}

int etcd_watch_open(struct etcd *e, const char *prefix, int64_t start_revision,
		    struct etcd_watch **ret)
{
	json_t *cr = range_req(prefix, true), *req;
	struct etcd_watch *w;
	char url[512], b[24];

	if (!cr)
		return -EINVAL;
	json_object_set_new(cr, "start_revision", json_string(i64_str(start_revision, b)));
	json_object_set_new(cr, "progress_notify", json_true());
	req = json_pack("{s:o}", "create_request", cr); /* takes cr */
	w = calloc(1, sizeof(*w));
	if (!w || !req) {
		json_decref(req);
		free(w);
		return -ENOMEM;
	}
	w->body = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	url_of(e, e->cur, "/v3/watch", url, sizeof(url));
	w->url = strdup(url);
	w->m = curl_dl.multi_init();
	w->h = curl_dl.easy_init();
	w->hdr = curl_dl.slist_append(NULL, "Content-Type: application/json");
	if (!w->body || !w->url || !w->m || !w->h || !w->hdr) {
		etcd_watch_close(w);
		return -ENOMEM;
	}
	setup_handle(e, w->h);
	/* No overall timeout: the stream lasts. A dead peer is found by TCP
	 * keepalives; a silent one by the caller (etcd_revision). */
	curl_dl.easy_setopt(w->h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_dl.easy_setopt(w->h, CURLOPT_TCP_KEEPIDLE, 30L);
	curl_dl.easy_setopt(w->h, CURLOPT_TCP_KEEPINTVL, 10L);
	curl_dl.easy_setopt(w->h, CURLOPT_URL, w->url);
	curl_dl.easy_setopt(w->h, CURLOPT_HTTPHEADER, w->hdr);
	curl_dl.easy_setopt(w->h, CURLOPT_POSTFIELDS, w->body);
	curl_dl.easy_setopt(w->h, CURLOPT_WRITEFUNCTION, on_watch_data);
	curl_dl.easy_setopt(w->h, CURLOPT_WRITEDATA, w);
	if (curl_dl.multi_add_handle(w->m, w->h) != CURLM_OK) {
		etcd_watch_close(w);
		return -ENOMEM;
	}
	*ret = w;
	return 0;
}

int etcd_watch_poll(struct etcd_watch *w, int fd, int timeout_ms)
{
	struct curl_waitfd wfd = {.fd = fd, .events = CURL_WAIT_POLLIN};
	int running = 0, nfds = 0, left = 0;
	CURLMsg *msg;

	if (!w->m || w->ended) {
		struct pollfd pf = {.fd = fd, .events = POLLIN};

		return poll(&pf, fd >= 0 ? 1 : 0, timeout_ms) > 0 ? 1 : 0;
	}
	if (curl_dl.multi_wait(w->m, fd >= 0 ? &wfd : NULL, fd >= 0 ? 1 : 0, timeout_ms, &nfds) !=
	    CURLM_OK) {
		snprintf(w->err, sizeof(w->err), "watch: curl_multi_wait failed");
		etcd_watch_end(w);
		return 0;
	}
	curl_dl.multi_perform(w->m, &running);
	while ((msg = curl_dl.multi_info_read(w->m, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_dl.easy_getinfo(w->h, CURLINFO_RESPONSE_CODE, &w->status);
		if (msg->data.result != CURLE_OK)
			snprintf(w->err, sizeof(w->err), "watch %s: %s", w->url,
				 w->too_big ? "response too large" : curl_dl.easy_strerror(msg->data.result));
		else if (w->status != 200)
			snprintf(w->err, sizeof(w->err), "watch %s: HTTP %ld", w->url, w->status);
		etcd_watch_end(w);
	}
	return fd >= 0 && (wfd.revents & CURL_WAIT_POLLIN) ? 1 : 0;
}
