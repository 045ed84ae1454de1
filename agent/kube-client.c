/* SPDX-License-Identifier: MIT */
/*
 * kube-client.c - GET, PATCH and watch against the Kubernetes API server
 * (see kube-client.h).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "curl-dl.h"
#include "kube-client.h"
#include "rst-util.h"

#define KUBE_REPLY_MAX (16u << 20)
#define KUBE_LINE_MAX (4u << 20)
#define KUBE_TOKEN_MAX 16384

struct buf {
	char *p;
	size_t len, off, cap, max;
	bool too_big;
};

/* Appends what arrived; b->off (what the reader took) is dropped by the
 * reader, never here, so a line it handed out stays put until its next call. */
static size_t on_data(char *p, size_t size, size_t nmemb, void *arg)
{
	struct buf *b = arg;
	size_t n = size * nmemb;

	if (b->len - b->off + n > b->max) {
		b->too_big = true;
		return 0; /* aborts the transfer */
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *q = realloc(b->p, cap);

		if (!q)
			return 0;
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

struct kube_client {
	const struct kube_conf *kc;
	CURL *h;
	long timeout_ms;
	char err[300];
};

struct kube_watch {
	struct kube_client *c;
	CURLM *m;
	CURL *h;
	struct curl_slist *hdr;
	struct buf b;
	size_t scanned; /* b.p[b.off..scanned) has no newline */
	bool ended;
	CURLcode result;
	long status;
};

static void set_err(struct kube_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_err(struct kube_client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
}

const char *kube_client_error(const struct kube_client *c)
{
	return c ? c->err : curl_dl_error();
}

int kube_client_new(const struct kube_conf *kc, long timeout_ms, struct kube_client **ret)
{
	struct kube_client *c;

	int r = curl_dl_load();

	if (r < 0)
		return r;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->kc = kc;
	c->timeout_ms = timeout_ms;
	c->h = curl_dl.easy_init();
	if (!c->h) {
		free(c);
		return -ENOMEM;
	}
	*ret = c;
	return 0;
}

void kube_client_free(struct kube_client *c)
{
	if (!c)
		return;
	curl_dl.easy_cleanup(c->h);
	free(c);
}

/* The headers of a request: the bearer token (read again from its file, so
 * a rotated one is used from the next request on), JSON. */
static struct curl_slist *headers(struct kube_client *c, const char *content_type)
{
	const struct kube_conf *kc = c->kc;
	struct curl_slist *h = NULL, *n;
	char line[KUBE_TOKEN_MAX + 32], tok[KUBE_TOKEN_MAX + 1] = "";

	if (kc->token_file[0]) {
		FILE *f = fopen(kc->token_file, "re");
		size_t len = f ? fread(tok, 1, KUBE_TOKEN_MAX, f) : 0;

		if (f)
			fclose(f);
		tok[len] = '\0';
		tok[strcspn(tok, "\r\n \t")] = '\0';
		if (!tok[0]) {
			set_err(c, "cannot read the token in '%s'", kc->token_file);
			return NULL;
		}
	} else {
		snprintf(tok, sizeof(tok), "%s", kc->token);
	}
	if (!(h = curl_dl.slist_append(NULL, "Accept: application/json")))
		return NULL;
	if (tok[0]) {
		snprintf(line, sizeof(line), "Authorization: Bearer %s", tok);
		if (!(n = curl_dl.slist_append(h, line)))
			goto fail;
		h = n;
	}
	if (content_type) {
		snprintf(line, sizeof(line), "Content-Type: %s", content_type);
		if (!(n = curl_dl.slist_append(h, line)))
			goto fail;
		h = n;
	}
	return h;
fail:
	curl_dl.slist_free_all(h);
	return NULL;
}

/* TLS as the kube_conf says, https only, and the URL. */
static void setup(struct kube_client *c, CURL *h, const char *path, struct buf *b)
{
	const struct kube_conf *kc = c->kc;
	char url[2048];

	snprintf(url, sizeof(url), "%s%s", kc->server, path);
	curl_dl.easy_setopt(h, CURLOPT_URL, url);
	curl_dl.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_dl.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	curl_dl.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->timeout_ms);
	curl_dl.easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_dl.easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (kc->ca_file[0]) {
		curl_dl.easy_setopt(h, CURLOPT_CAINFO, kc->ca_file);
	} else {
		struct curl_blob blob = {kc->ca_pem, strlen(kc->ca_pem), CURL_BLOB_COPY};

		curl_dl.easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
	}
	if (kc->cert_file[0]) {
		curl_dl.easy_setopt(h, CURLOPT_SSLCERT, kc->cert_file);
		curl_dl.easy_setopt(h, CURLOPT_SSLKEY, kc->key_file);
	} else if (kc->cert_pem[0]) {
		struct curl_blob cert = {kc->cert_pem, strlen(kc->cert_pem), CURL_BLOB_COPY};
		struct curl_blob key = {kc->key_pem, strlen(kc->key_pem), CURL_BLOB_COPY};

		curl_dl.easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
		curl_dl.easy_setopt(h, CURLOPT_SSLCERT_BLOB, &cert);
		curl_dl.easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
		curl_dl.easy_setopt(h, CURLOPT_SSLKEY_BLOB, &key);
	}
	curl_dl.easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_dl.easy_setopt(h, CURLOPT_WRITEDATA, b);
}

static int request(struct kube_client *c, const char *method, const char *path,
		   const char *content_type, const json_t *body, long *status, json_t **ret)
{
	struct buf b = {.max = KUBE_REPLY_MAX};
	struct curl_slist *hdr = headers(c, content_type);
	char *text = NULL;
	CURLcode cc;
	int r = 0;

	*ret = NULL;
	*status = 0;
	if (!hdr)
		return c->err[0] ? -EACCES : -ENOMEM;
	curl_dl.easy_setopt(c->h, CURLOPT_CUSTOMREQUEST, method);
	curl_dl.easy_setopt(c->h, CURLOPT_HTTPGET, 1L);
	if (body) {
		text = json_dumps(body, JSON_COMPACT);
		if (!text) {
			curl_dl.slist_free_all(hdr);
			return -ENOMEM;
		}
		curl_dl.easy_setopt(c->h, CURLOPT_POSTFIELDS, text);
		curl_dl.easy_setopt(c->h, CURLOPT_CUSTOMREQUEST, method);
	}
	setup(c, c->h, path, &b);
	curl_dl.easy_setopt(c->h, CURLOPT_HTTPHEADER, hdr);
	curl_dl.easy_setopt(c->h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	cc = curl_dl.easy_perform(c->h);
	curl_dl.easy_setopt(c->h, CURLOPT_POSTFIELDS, NULL);
	curl_dl.easy_setopt(c->h, CURLOPT_HTTPHEADER, NULL);
	curl_dl.slist_free_all(hdr);
	free(text);
	if (cc != CURLE_OK) {
		set_err(c, "%s %s%s: %s", method, c->kc->server, path,
			b.too_big ? "reply too large" : curl_dl.easy_strerror(cc));
		r = cc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -ECONNREFUSED;
	} else {
		curl_dl.easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, status);
		*ret = b.len ? json_loadb(b.p, b.len, 0, NULL) : NULL;
		if (*status >= 300)
			set_err(c, "%s %s: HTTP %ld%s%s", method, path, *status,
				json_string_value(json_object_get(*ret, "message")) ? ": " : "",
				json_string_value(json_object_get(*ret, "message"))
					? json_string_value(json_object_get(*ret, "message"))
					: "");
	}
	free(b.p);
	return r;
}

int kube_get(struct kube_client *c, const char *path, long *status, json_t **ret)
{
	return request(c, "GET", path, NULL, NULL, status, ret);
}

int kube_patch(struct kube_client *c, const char *path, const char *content_type,
	       const json_t *body, long *status, json_t **ret)
{
	return request(c, "PATCH", path, content_type, body, status, ret);
}

/* ---- watch ------------------------------------------------------------------- */

int kube_watch_open(struct kube_client *c, const char *path, struct kube_watch **ret)
{
	struct kube_watch *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	w->c = c;
	w->b.max = KUBE_LINE_MAX;
	w->hdr = headers(c, NULL);
	w->m = curl_dl.multi_init();
	w->h = curl_dl.easy_init();
	if (!w->hdr || !w->m || !w->h) {
		int r = w->hdr || !c->err[0] ? -ENOMEM : -EACCES;

		kube_watch_close(w);
		return r;
	}
	setup(c, w->h, path, &w->b);
	curl_dl.easy_setopt(w->h, CURLOPT_HTTPHEADER, w->hdr);
	/* no overall timeout: the server ends the stream (timeoutSeconds);
	 * a dead peer shows as no data, which the caller bounds */
	curl_dl.easy_setopt(w->h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_dl.multi_add_handle(w->m, w->h);
	*ret = w;
	return 0;
}

long kube_watch_status(const struct kube_watch *w)
{
	return w->status;
}

void kube_watch_close(struct kube_watch *w)
{
	if (!w)
		return;
	curl_dl_stream_free(w->m, w->h, w->hdr);
	free(w->b.p);
	free(w);
}

/* A whole line in the buffer: 1 with it, else 0. */
static int take_line(struct kube_watch *w, const char **line, size_t *len)
{
	char *nl;

	if (w->scanned < w->b.off)
		w->scanned = w->b.off;
	nl = w->b.p ? memchr(w->b.p + w->scanned, '\n', w->b.len - w->scanned) : NULL;
	if (!nl) {
		w->scanned = w->b.len;
		return 0;
	}
	*line = w->b.p + w->b.off;
	*len = (size_t)(nl - (w->b.p + w->b.off));
	w->b.off = (size_t)(nl - w->b.p) + 1;
	w->scanned = w->b.off;
	return 1;
}

int kube_watch_next(struct kube_watch *w, int stop_fd, int timeout_ms, const char **line,
		    size_t *len)
{
	int64_t deadline = rst_now_ms() + timeout_ms;

	/* The line handed out last is done with: drop what was taken. */
	if (w->b.off) {
		memmove(w->b.p, w->b.p + w->b.off, w->b.len - w->b.off);
		w->b.len -= w->b.off;
		w->scanned = w->scanned > w->b.off ? w->scanned - w->b.off : 0;
		w->b.off = 0;
	}
	for (;;) {
		struct curl_waitfd extra = {.fd = stop_fd, .events = CURL_WAIT_POLLIN};
		CURLMsg *msg;
		int running = 0, left, n;

		/* a blank line (a keep-alive some proxies send) is no event */
		while (take_line(w, line, len))
			if (*len)
				return 1;
		if (w->ended) {
			if (w->result != CURLE_OK)
				return w->b.too_big ? -EMSGSIZE : -ECONNRESET;
			return w->status >= 300 ? -EPROTO : -EPIPE;
		}
		curl_dl.multi_perform(w->m, &running);
		while ((msg = curl_dl.multi_info_read(w->m, &left)))
			if (msg->msg == CURLMSG_DONE) {
				w->ended = true;
				w->result = msg->data.result;
				curl_dl.easy_getinfo(w->h, CURLINFO_RESPONSE_CODE, &w->status);
				if (w->result != CURLE_OK)
					set_err(w->c, "watch: %s", w->b.too_big ? "an event over 4 MiB"
										: curl_dl.easy_strerror(w->result));
			}
		if (!w->status)
			curl_dl.easy_getinfo(w->h, CURLINFO_RESPONSE_CODE, &w->status);
		if (w->ended || take_line(w, line, len)) {
			if (!w->ended && *len)
				return 1;
			continue;
		}
		left = rst_ms_left(deadline);
		if (left == 0)
			return 0;
		extra.revents = 0;
		curl_dl.multi_wait(w->m, stop_fd >= 0 ? &extra : NULL, stop_fd >= 0 ? 1 : 0,
			      left > 1000 ? 1000 : left, &n);
		if (extra.revents)
			return 0;
	}
}
