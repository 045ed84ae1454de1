/* SPDX-License-Identifier: MIT */
/*
 * kubesvc.c - Services and EndpointSlices into the addresses this node
 * announces (see kubesvc.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kubesvc.h"

#define WHY(...) (snprintf(why, whylen, __VA_ARGS__), -EINVAL)

static const char *jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static int key_of(const json_t *o, char *key, size_t len)
{
	const json_t *md = json_object_get(o, "metadata");
	const char *ns = jstr(md, "namespace"), *name = jstr(md, "name");

	int r;

	if (!json_is_object(o) || !ns || !name || !*ns || !*name)
		return -EINVAL;
	r = snprintf(key, len, "%s/%s", ns, name);
	return r < 0 || (size_t)r >= len ? -EINVAL : 0;
}

/* One address of a Service: into out (up to KSVC_ADDRS_MAX), or reported. */
static void addr_take(const char *key, const char *field, size_t i, const json_t *v,
		      struct in_addr *out, size_t *n, ksvc_report_fn report, void *arg)
{
	const char *s = json_string_value(v);
	char why[200];
	struct in_addr a;

	if (!s)
		snprintf(why, sizeof(why), "%s[%zu] is not a string; skipped", field, i);
	else if (strchr(s, ':'))
		snprintf(why, sizeof(why), "%s[%zu] '%.64s' is IPv6; not announced (IPv4 only)",
			 field, i, s);
	else if (inet_pton(AF_INET, s, &a) != 1)
		snprintf(why, sizeof(why), "%s[%zu] '%.64s' is not an IPv4 address; skipped",
			 field, i, s);
	else if (*n >= KSVC_ADDRS_MAX)
		snprintf(why, sizeof(why), "%s: more than %d addresses; %.64s and later skipped",
			 field, KSVC_ADDRS_MAX, s);
	else {
		for (size_t j = 0; j < *n; j++)
			if (out[j].s_addr == a.s_addr)
				return;
		out[(*n)++] = a;
		return;
	}
	if (report)
		report(arg, key, why);
}

int kube_service_parse(const json_t *o, struct kube_service *ret, ksvc_report_fn report,
		       void *arg, char *why, size_t whylen)
{
	const json_t *spec = json_object_get(o, "spec"), *v, *e;
	const char *s;
	size_t i;

	memset(ret, 0, sizeof(*ret));
	if (key_of(o, ret->key, sizeof(ret->key)) < 0)
		return WHY("not a Service with metadata.namespace and metadata.name");
	s = jstr(spec, "type");
	ret->load_balancer = s && strcmp(s, "LoadBalancer") == 0;
	s = jstr(spec, "externalTrafficPolicy");
	ret->local = s && strcmp(s, "Local") == 0;
	v = json_object_get(spec, "externalIPs");
	json_array_foreach(v, i, e)
		addr_take(ret->key, "spec.externalIPs", i, e, ret->ext, &ret->n_ext, report, arg);
	if (!ret->load_balancer)
		return 0;
	v = json_object_get(json_object_get(json_object_get(o, "status"), "loadBalancer"),
			    "ingress");
	json_array_foreach(v, i, e)
	{
		const json_t *ip = json_object_get(e, "ip");

		if (!ip)
			continue; /* a hostname-only ingress (some clouds): nothing to route */
		addr_take(ret->key, "status.loadBalancer.ingress[].ip", i, ip, ret->lb, &ret->n_lb,
			  report, arg);
	}
	return 0;
}

int kube_slice_parse(const json_t *o, const char *node, struct kube_slice *ret, char *why,
		     size_t whylen)
{
	const json_t *md = json_object_get(o, "metadata"), *e;
	const char *ns = jstr(md, "namespace");
	const char *svc = jstr(json_object_get(md, "labels"), "kubernetes.io/service-name");
	size_t i;

	memset(ret, 0, sizeof(*ret));
	if (key_of(o, ret->key, sizeof(ret->key)) < 0)
		return WHY("not an EndpointSlice with metadata.namespace and metadata.name");
	if (svc && *svc) {
		int r = snprintf(ret->service, sizeof(ret->service), "%s/%s", ns, svc);

		if (r < 0 || (size_t)r >= sizeof(ret->service))
			ret->service[0] = '\0';
	}
	json_array_foreach(json_object_get(o, "endpoints"), i, e)
	{
		const char *n = jstr(e, "nodeName");
		const json_t *ready = json_object_get(json_object_get(e, "conditions"), "ready");

		/* ready unset: "should be interpreted as true" (API reference) */
		if (n && strcmp(n, node) == 0 && !json_is_false(ready))
			ret->ready_here = true;
	}
	return 0;
}

static int by_addr(const void *a, const void *b)
{
	uint32_t x = ntohl(((const struct svc_addr *)a)->addr.s_addr);
	uint32_t y = ntohl(((const struct svc_addr *)b)->addr.s_addr);

	if (x != y)
		return x < y ? -1 : 1;
	return strcmp(((const struct svc_addr *)a)->why, ((const struct svc_addr *)b)->why);
}

/* ready: the slices with a ready endpoint here (few, whatever the cluster's size) */
static bool ready_here(const struct kube_service *s, const struct kube_slice **ready, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		if (strcmp(ready[i]->service, s->key) == 0)
			return true;
	return false;
}

int kube_svc_addrs(const struct kube_service *s, size_t ns, const struct kube_slice *l,
		   size_t nl, struct svc_addr **ret)
{
	const struct kube_slice **ready = calloc(nl + 1, sizeof(*ready));
	struct svc_addr *out;
	size_t n = 0, m = 0, nr = 0, cap = 1;

	for (size_t i = 0; i < ns; i++)
		cap += s[i].n_lb + s[i].n_ext;
	out = calloc(cap, sizeof(*out));
	if (!out || !ready) {
		free(out);
		free(ready);
		return -ENOMEM;
	}
	for (size_t i = 0; i < nl; i++)
		if (l[i].ready_here)
			ready[nr++] = &l[i];
	for (size_t i = 0; i < ns; i++) {
		const char *pol = "";

		if (s[i].local) {
			if (!ready_here(&s[i], ready, nr))
				continue;
			pol = ", externalTrafficPolicy Local: a ready endpoint on this node";
		}
		for (size_t k = 0; k < s[i].n_lb + s[i].n_ext; k++) {
			bool lb = k < s[i].n_lb;

			out[n].addr = lb ? s[i].lb[k] : s[i].ext[k - s[i].n_lb];
			out[n].kinds = lb ? KSVC_LB : KSVC_EXTERNAL;
			if (snprintf(out[n].why, sizeof(out[n].why), "service %.80s %s%s", s[i].key,
				     lb ? "LoadBalancer ingress" : "externalIP", pol) < 0)
				out[n].why[0] = '\0';
			n++;
		}
	}
	/* Sorted, each address once (its kinds merged, the why that sorts
	 * first kept: the same output for the same input, whatever the order
	 * the API server listed things in). */
	free(ready);
	qsort(out, n, sizeof(*out), by_addr);
	for (size_t i = 0; i < n; i++) {
		if (m && out[m - 1].addr.s_addr == out[i].addr.s_addr) {
			out[m - 1].kinds |= out[i].kinds;
			continue;
		}
		if (m != i)
			out[m] = out[i];
		m++;
	}
	*ret = out;
	return (int)m;
}
