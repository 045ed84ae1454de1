/* SPDX-License-Identifier: MIT */
/*
 * svcwatch.c - bgp.services with the Kubernetes datastore: Services and
 * EndpointSlices followed from the API server, turned into the addresses
 * this node announces (kubesvc.c), published to roostd's loop like the
 * peers (ds_take_services, woken through ds_fd).
 *
 * Two threads of the datastore's, one per resource, each with a client of
 * its own: a list (every namespace), then a watch from the list's
 * resourceVersion with bookmarks; a watch that ends is opened again, a 410
 * Gone lists again, an API server that does not answer is retried with
 * backoff while the addresses in force stay. Nothing is published before
 * both resources were listed once, so a restart does not withdraw the
 * Local services for a moment.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "datastore-int.h"
#include "kube-client.h"
#include "log.h"
#include "rst-util.h"

#define SW_TIMEOUT_MS 5000
#define SW_BACKOFF_MAX_S 10
#define SW_WATCH_TIMEOUT_S 300
#define SW_BAD_MAX 1024 /* reported problems remembered (each logged once) */
#define SW_FIRST_MS 3000 /* ds_svc_start waits this long for the first list */

enum { SW_SERVICES, SW_SLICES };

static const struct {
	const char *path, *what;
} res[] = {
	[SW_SERVICES] = {"/api/v1/services", "Services"},
	[SW_SLICES] = {"/apis/discovery.k8s.io/v1/endpointslices", "EndpointSlices"},
};

struct sw {
	struct datastore *ds;
	int kind;
	struct kube_client *kcl;
	struct kube_watch *kw;
	char rv[32];
};

/* A Service's unusable address (or a bad object): logged once. */
static void sw_report(void *arg, const char *key, const char *why)
{
	struct datastore *ds = arg;
	char line[sizeof(*ds->svc_bad)];

	snprintf(line, sizeof(line), "%s: %s", key, why);
	for (size_t i = 0; i < ds->n_svc_bad; i++)
		if (strcmp(ds->svc_bad[i], line) == 0)
			return;
	log_warn("services: %s %s", key, why);
	if (ds->n_svc_bad == SW_BAD_MAX)
		ds->n_svc_bad = 0; /* forget the oldest: churn must not grow memory */
	if (!ds->svc_bad && !(ds->svc_bad = calloc(SW_BAD_MAX, sizeof(*ds->svc_bad))))
		return;
	memcpy(ds->svc_bad[ds->n_svc_bad++], line, sizeof(line));
}

/* The last list published, in state_dir/services.json: a roostd restarted
 * while the API server does not answer keeps announcing them. */
static void sw_cache_write(struct datastore *ds, const struct svc_addr *a, size_t n)
{
	json_t *list = json_array();
	char ip[INET_ADDRSTRLEN], tmp[sizeof(ds->svc_cache) + 8];
	int r = -1;

	for (size_t i = 0; list && i < n; i++) {
		inet_ntop(AF_INET, &a[i].addr, ip, sizeof(ip));
		json_array_append_new(list, json_pack("{s:s, s:I, s:s}", "address", ip, "kinds",
						      (json_int_t)a[i].kinds, "why", a[i].why));
	}
	if (snprintf(tmp, sizeof(tmp), "%s.new", ds->svc_cache) < (int)sizeof(tmp) && list &&
	    json_dump_file(list, tmp, JSON_INDENT(1)) == 0)
		r = rename(tmp, ds->svc_cache);
	if (r < 0)
		log_warn("services: cannot write '%s'", ds->svc_cache);
	json_decref(list);
}

static void sw_cache_read(struct datastore *ds)
{
	json_t *list = json_load_file(ds->svc_cache, 0, NULL), *v;
	struct svc_addr *a;
	size_t i, n = 0;

	if (!json_is_array(list) || !(a = calloc(json_array_size(list) + 1, sizeof(*a)))) {
		json_decref(list);
		return;
	}
	json_array_foreach(list, i, v)
	{
		const char *ip = json_string_value(json_object_get(v, "address"));
		const char *why = json_string_value(json_object_get(v, "why"));

		if (!ip || inet_pton(AF_INET, ip, &a[n].addr) != 1)
			continue;
		a[n].kinds = (unsigned)json_integer_value(json_object_get(v, "kinds")) &
			     (KSVC_LB | KSVC_EXTERNAL);
		snprintf(a[n].why, sizeof(a[n].why), "%s (cached)", why ? why : "");
		n++;
	}
	json_decref(list);
	ds->svc_addrs = a;
	ds->n_svc_addrs = n;
	ds->svc_changed = true;
	log_info("services: %zu address(es) from '%s' until the API server answers", n,
		 ds->svc_cache);
}

/* The addresses from the views, published when they changed (svc_mu held). */
static void sw_publish(struct datastore *ds)
{
	struct svc_addr *a = NULL;
	int n;
	bool same;

	if (!ds->svc_listed[SW_SERVICES] || !ds->svc_listed[SW_SLICES])
		return;
	n = kube_svc_addrs(ds->ksvcs, ds->n_ksvcs, ds->kslices, ds->n_kslices, &a);
	if (n < 0)
		return;
	pthread_mutex_lock(&ds->mu);
	same = ds->svc_published && ds->n_svc_addrs == (size_t)n &&
	       (!n || memcmp(ds->svc_addrs, a, (size_t)n * sizeof(*a)) == 0);
	if (!same) {
		free(ds->svc_addrs);
		ds->svc_addrs = a;
		ds->n_svc_addrs = (size_t)n;
		ds->svc_changed = true;
		ds->svc_published = true;
		a = NULL;
	}
	pthread_mutex_unlock(&ds->mu);
	free(a);
	if (!same) {
		sw_cache_write(ds, ds->svc_addrs, (size_t)n); /* svc_mu held: stays put */
		(void)!write(ds->wake[1], "v", 1);
	}
}

static void view_put(struct datastore *ds, int kind, const json_t *o)
{
	char why[256];
	void **arr = kind == SW_SERVICES ? (void **)&ds->ksvcs : (void **)&ds->kslices;
	size_t *n = kind == SW_SERVICES ? &ds->n_ksvcs : &ds->n_kslices;
	size_t sz = kind == SW_SERVICES ? sizeof(*ds->ksvcs) : sizeof(*ds->kslices);
	union {
		struct kube_service s;
		struct kube_slice l;
	} u;
	const char *key;
	void *v;
	int r;

	if (kind == SW_SERVICES)
		r = kube_service_parse(o, &u.s, sw_report, ds, why, sizeof(why));
	else
		r = kube_slice_parse(o, ds->name, &u.l, why, sizeof(why));
	if (r < 0) {
		sw_report(ds, res[kind].what, why);
		return;
	}
	key = kind == SW_SERVICES ? u.s.key : u.l.key;
	for (size_t i = 0; i < *n; i++) {
		char *it = (char *)*arr + i * sz;

		/* key is the first member of both */
		if (strcmp(it, key) == 0) {
			memcpy(it, &u, sz);
			return;
		}
	}
	v = realloc(*arr, (*n + 1) * sz);
	if (!v)
		return;
	*arr = v;
	memcpy((char *)v + (*n)++ * sz, &u, sz);
}

static void view_del(struct datastore *ds, int kind, const json_t *o)
{
	const json_t *md = json_object_get(o, "metadata");
	const char *ns = json_string_value(json_object_get(md, "namespace"));
	const char *name = json_string_value(json_object_get(md, "name"));
	char key[KSVC_NAME_MAX + 2];
	char *arr = kind == SW_SERVICES ? (char *)ds->ksvcs : (char *)ds->kslices;
	size_t *n = kind == SW_SERVICES ? &ds->n_ksvcs : &ds->n_kslices;
	size_t sz = kind == SW_SERVICES ? sizeof(*ds->ksvcs) : sizeof(*ds->kslices);

	if (!ns || !name)
		return;
	snprintf(key, sizeof(key), "%s/%s", ns, name);
	for (size_t i = 0; i < *n; i++)
		if (strcmp(arr + i * sz, key) == 0) {
			if (i != *n - 1)
				memcpy(arr + i * sz, arr + (*n - 1) * sz, sz);
			(*n)--;
			return;
		}
}

static int sw_list(struct sw *w, char *err, size_t errlen)
{
	struct datastore *ds = w->ds;
	const json_t *items, *o;
	json_t *list = NULL;
	const char *rv;
	long status;
	size_t i;

	if (kube_get(w->kcl, res[w->kind].path, &status, &list) < 0 || status != 200) {
		snprintf(err, errlen, "listing %s: %s%s", res[w->kind].what,
			 kube_client_error(w->kcl),
			 status == 403 ? " (the service account may list and watch services and endpointslices: see README)" : "");
		json_decref(list);
		return -EAGAIN;
	}
	items = json_object_get(list, "items");
	rv = json_string_value(json_object_get(json_object_get(list, "metadata"), "resourceVersion"));
	if (!json_is_array(items) || !rv || strlen(rv) >= sizeof(w->rv)) {
		snprintf(err, errlen, "listing %s: not a list with a resourceVersion",
			 res[w->kind].what);
		json_decref(list);
		return -EPROTO;
	}
	pthread_mutex_lock(&ds->svc_mu);
	if (w->kind == SW_SERVICES)
		ds->n_ksvcs = 0;
	else
		ds->n_kslices = 0;
	json_array_foreach(items, i, o)
		view_put(ds, w->kind, o);
	ds->svc_listed[w->kind] = true;
	sw_publish(ds);
	pthread_mutex_unlock(&ds->svc_mu);
	snprintf(w->rv, sizeof(w->rv), "%s", rv);
	json_decref(list);
	return 0;
}

/* Like kubestore.c's watch_read: 0 go on, 1 stop, -EPIPE reopen, -EAGAIN
 * list again, other -errno failed. */
static int sw_read(struct sw *w, int timeout_ms, char *err, size_t errlen)
{
	struct datastore *ds = w->ds;
	int64_t deadline = rst_now_ms() + timeout_ms;
	bool changed = false;
	int r;

	for (;;) {
		struct kube_event ev;
		const char *line;
		char why[256];
		size_t len;
		json_t *root;
		int left = rst_ms_left(deadline);

		r = left ? kube_watch_next(w->kw, ds->stop[0], left, &line, &len) : 0;
		if (r <= 0)
			break;
		if (kube_event_parse(line, len, &root, &ev, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "watch: %s", why);
			r = -EPROTO;
			break;
		}
		if (ev.type == KUBE_ERROR) {
			snprintf(err, errlen, "watch: %d %s", ev.code, ev.message);
			r = ev.code == 410 ? -EAGAIN : -EPROTO;
			json_decref(root);
			break;
		}
		snprintf(w->rv, sizeof(w->rv), "%s", ev.resource_version);
		if (ev.type != KUBE_BOOKMARK) {
			pthread_mutex_lock(&ds->svc_mu);
			if (ev.type == KUBE_DELETED)
				view_del(ds, w->kind, ev.object);
			else
				view_put(ds, w->kind, ev.object);
			pthread_mutex_unlock(&ds->svc_mu);
			changed = true;
		}
		json_decref(root);
		/* publish each event at once: a path follows its endpoint */
		if (changed) {
			pthread_mutex_lock(&ds->svc_mu);
			sw_publish(ds);
			pthread_mutex_unlock(&ds->svc_mu);
			changed = false;
		}
	}
	if (r == 0) {
		struct pollfd pf = {.fd = ds->stop[0], .events = POLLIN};

		return poll(&pf, 1, 0) > 0 ? 1 : 0;
	}
	if (r == -EPIPE)
		return -EPIPE;
	if (r == -EPROTO && kube_watch_status(w->kw) == 410)
		r = -EAGAIN;
	if (r != -EAGAIN && !err[0])
		snprintf(err, errlen, "%s", kube_client_error(w->kcl));
	return r;
}

static void *sw_thread(void *arg)
{
	struct sw *w = arg;
	struct datastore *ds = w->ds;
	unsigned backoff = 0;
	bool listed = false, failing = false;
	char err[300];

	for (;;) {
		struct pollfd pf = {.fd = ds->stop[0], .events = POLLIN};
		char path[320];
		int r;

		if (backoff && poll(&pf, 1, (int)backoff * 1000) > 0)
			break;
		if (poll(&pf, 1, 0) > 0)
			break;
		err[0] = '\0';
		if (!listed) {
			r = sw_list(w, err, sizeof(err));
			if (r < 0)
				goto failed;
			listed = true;
		}
		snprintf(path, sizeof(path),
			 "%s?watch=true&allowWatchBookmarks=true&resourceVersion=%s&timeoutSeconds=%d",
			 res[w->kind].path, w->rv, SW_WATCH_TIMEOUT_S);
		if (kube_watch_open(w->kcl, path, &w->kw) < 0) {
			snprintf(err, sizeof(err), "watching %s: %s", res[w->kind].what,
				 kube_client_error(w->kcl));
			goto failed;
		}
		do {
			r = sw_read(w, 1000, err, sizeof(err));
			if (r >= 0 && kube_watch_status(w->kw) == 200) {
				if (failing)
					log_info("services: %s followed again", res[w->kind].what);
				failing = false;
				backoff = 0;
			}
		} while (r == 0);
		kube_watch_close(w->kw);
		w->kw = NULL;
		if (r == 1)
			break;
		if (r == -EPIPE)
			continue;
		if (r == -EAGAIN) {
			log_info("services: %s: listing the %s again", err, res[w->kind].what);
			listed = false;
			continue;
		}
	failed:
		if (!failing)
			log_warn("services: %s; the addresses announced stay until the API server answers",
				 err[0] ? err : "the API server does not answer");
		failing = true;
		backoff = backoff ? backoff * 2 : 1;
		if (backoff > SW_BACKOFF_MAX_S)
			backoff = SW_BACKOFF_MAX_S;
	}
	return NULL;
}

int ds_svc_start(struct datastore *ds, const char *state_dir)
{
	int64_t deadline = rst_now_ms() + SW_FIRST_MS;

	pthread_mutex_init(&ds->svc_mu, NULL);
	ds->svc_on = true;
	snprintf(ds->svc_cache, sizeof(ds->svc_cache), "%s/services.json", state_dir);
	sw_cache_read(ds);
	for (int k = 0; k < 2; k++) {
		struct sw *w = calloc(1, sizeof(*w));

		if (!w)
			return -ENOMEM;
		w->ds = ds;
		w->kind = k;
		if (kube_client_new(&ds->kc, SW_TIMEOUT_MS, &w->kcl) < 0) {
			free(w);
			return -ENOMEM;
		}
		ds->svc_w[k] = w;
		if (pthread_create(&ds->svc_thread[k], NULL, sw_thread, w) != 0)
			return -EAGAIN;
		ds->svc_started[k] = true;
	}
	log_info("services: following Services and EndpointSlices for bgp.services");
	/* A moment for the first lists, so that a restarted roostd does not
	 * withdraw and announce again what BIRD already announces. */
	for (;;) {
		struct pollfd pf = {.fd = ds->stop[0], .events = POLLIN};
		bool done;

		pthread_mutex_lock(&ds->mu);
		done = ds->svc_published;
		pthread_mutex_unlock(&ds->mu);
		if (done || !rst_ms_left(deadline) || poll(&pf, 1, 50) > 0)
			break;
	}
	return 0;
}

/* After ds->stop was written to. */
void ds_svc_stop(struct datastore *ds)
{
	if (!ds->svc_on)
		return;
	for (int k = 0; k < 2; k++) {
		struct sw *w = ds->svc_w[k];

		if (ds->svc_started[k])
			pthread_join(ds->svc_thread[k], NULL);
		if (w) {
			kube_watch_close(w->kw);
			kube_client_free(w->kcl);
			free(w);
		}
	}
	free(ds->ksvcs);
	free(ds->kslices);
	free(ds->svc_bad);
	free(ds->svc_addrs);
	pthread_mutex_destroy(&ds->svc_mu);
	ds->svc_on = false;
}

json_t *ds_svc_status_json(struct datastore *ds)
{
	size_t ns, nl, na;
	bool listed;

	pthread_mutex_lock(&ds->svc_mu);
	ns = ds->n_ksvcs;
	nl = ds->n_kslices;
	listed = ds->svc_listed[SW_SERVICES] && ds->svc_listed[SW_SLICES];
	pthread_mutex_unlock(&ds->svc_mu);
	pthread_mutex_lock(&ds->mu);
	na = ds->n_svc_addrs;
	pthread_mutex_unlock(&ds->mu);
	return json_pack("{s:I, s:I, s:b, s:I}", "services", (json_int_t)ns, "endpointslices",
			 (json_int_t)nl, "listed", listed, "addresses", (json_int_t)na);
}

bool ds_services_followed(const struct datastore *ds)
{
	return ds && ds->svc_on;
}

int ds_take_services(struct datastore *ds, struct svc_addr **ret, size_t *ret_n)
{
	int r = 0;

	if (!ds || !ds->svc_on)
		return 0;
	pthread_mutex_lock(&ds->mu);
	if (ds->svc_changed) {
		*ret = calloc(ds->n_svc_addrs + 1, sizeof(**ret));
		if (*ret) {
			if (ds->n_svc_addrs)
				memcpy(*ret, ds->svc_addrs, ds->n_svc_addrs * sizeof(**ret));
			*ret_n = ds->n_svc_addrs;
			ds->svc_changed = false;
			r = 1;
		}
	}
	pthread_mutex_unlock(&ds->mu);
	return r;
}
