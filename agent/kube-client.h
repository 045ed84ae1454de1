/* SPDX-License-Identifier: MIT */
/*
 * kube-client.h - a small Kubernetes API client over libcurl: GET and PATCH
 * of JSON, and watch streams, with the credentials of a struct kube_conf
 * (TLS always verified; the token read again from its file before each
 * request, so a rotated service-account token is picked up). Blocking, each
 * call bounded; one thread (the datastore worker) owns a client. A watch
 * waits on its stream and on the caller's stop fd at once. No logging:
 * errors go to kube_client_error().
 */
#ifndef ROOST_KUBE_CLIENT_H
#define ROOST_KUBE_CLIENT_H

#include <jansson.h>
#include <stddef.h>

#include "kube.h"

struct kube_client;
struct kube_watch;

/* kc is borrowed for the client's life. 0, -ENOSYS when libcurl cannot be
 * loaded, -ENOMEM. */
int kube_client_new(const struct kube_conf *kc, long timeout_ms, struct kube_client **ret);
void kube_client_free(struct kube_client *c);
const char *kube_client_error(const struct kube_client *c);

/* GET path ("/api/v1/nodes?..."): 0 with the HTTP status in *status and the
 * body parsed in *ret (owned; NULL when it is not JSON), or -errno when
 * the server did not answer (kube_client_error says why). */
int kube_get(struct kube_client *c, const char *path, long *status, json_t **ret);
/* PATCH path with body, as content_type ("application/strategic-merge-
 * patch+json", ...); like kube_get. */
int kube_patch(struct kube_client *c, const char *path, const char *content_type,
	       const json_t *body, long *status, json_t **ret);

/* Starts GET path as a watch (a stream of one JSON object per line). 0, or
 * -errno. The stream is read by kube_watch_next. */
int kube_watch_open(struct kube_client *c, const char *path, struct kube_watch **ret);
/* The next line of the stream: 1 with *line and *len (valid until the next
 * call), 0 when timeout_ms passed or stop_fd became readable, -EPIPE when
 * the server ended the stream (a watch's timeoutSeconds, or a restart),
 * -EPROTO for an HTTP error status (kube_watch_status), -EMSGSIZE for a
 * line over 4 MiB, other -errno for a failed transfer. */
int kube_watch_next(struct kube_watch *w, int stop_fd, int timeout_ms, const char **line,
		    size_t *len);
long kube_watch_status(const struct kube_watch *w);
void kube_watch_close(struct kube_watch *w);

#endif
