/* SPDX-License-Identifier: MIT */
/*
 * kubesvc.h - Services and EndpointSlices as roost reads them, for
 * bgp.services: which service addresses this node announces to its
 * external peers. Pure functions: no network, no logging.
 *
 * A Service gives addresses of two kinds: status.loadBalancer.ingress[].ip
 * (type LoadBalancer) and spec.externalIPs (any type). With
 * spec.externalTrafficPolicy "Local" its addresses are announced only by
 * nodes with a ready endpoint of it (an EndpointSlice labelled
 * kubernetes.io/service-name with an endpoint whose nodeName is this node
 * and whose conditions.ready is not false: unset means ready, as the API
 * reference has it); with "Cluster" (the default) by every node.
 *
 * Everything the API server sends is untrusted: an address that does not
 * parse, or IPv6 (not routed until dual-stack), is reported through the
 * caller's report(key, why) and skipped, never half used.
 */
#ifndef ROOST_KUBESVC_H
#define ROOST_KUBESVC_H

#include <arpa/inet.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define KSVC_NAME_MAX 253 /* namespace/name and slice names: DNS subdomains */
#define KSVC_ADDRS_MAX 16 /* addresses of one kind one Service may give */

/* The kinds of a service address (bits: one address can be both). */
enum { KSVC_LB = 1, KSVC_EXTERNAL = 2 };

struct kube_service {
	char key[KSVC_NAME_MAX + 2]; /* "namespace/name" */
	bool load_balancer;          /* spec.type LoadBalancer */
	bool local;                  /* spec.externalTrafficPolicy Local */
	struct in_addr lb[KSVC_ADDRS_MAX]; /* status.loadBalancer.ingress[].ip */
	size_t n_lb;
	struct in_addr ext[KSVC_ADDRS_MAX]; /* spec.externalIPs */
	size_t n_ext;
};

/* One EndpointSlice, reduced to what roost needs. */
struct kube_slice {
	char key[KSVC_NAME_MAX + 2];     /* "namespace/name" of the slice */
	char service[KSVC_NAME_MAX + 2]; /* "namespace/service" (its label) */
	bool ready_here;                 /* a ready endpoint on node `node` */
};

typedef void (*ksvc_report_fn)(void *arg, const char *key, const char *why);

/* Parses a Service: 0, or -EINVAL with why (not an object with a
 * namespace and a name). Unusable addresses are reported (key
 * "namespace/name", why says which and why) and skipped. */
int kube_service_parse(const json_t *o, struct kube_service *ret, ksvc_report_fn report,
		       void *arg, char *why, size_t whylen);
/* Parses an EndpointSlice for node `node`: 0, or -EINVAL with why. A slice
 * without the label kubernetes.io/service-name parses (service ""). */
int kube_slice_parse(const json_t *o, const char *node, struct kube_slice *ret, char *why,
		     size_t whylen);

/* One address this node would announce, and why. */
struct svc_addr {
	struct in_addr addr;
	unsigned kinds;  /* KSVC_* */
	char why[160];   /* "default/web LoadBalancer ingress, externalTrafficPolicy Local: ready endpoint here" */
};

/* The addresses of s[0..ns) this node announces given the slices l[0..nl):
 * every LoadBalancer ingress IP (kinds & KSVC_LB) and external IP
 * (KSVC_EXTERNAL) of a Service with policy Cluster, and of a Service with
 * policy Local when one of its slices has a ready endpoint here. Sorted by
 * address, each address once (kinds merged, the first Service's why).
 * Returns the count, and *ret (malloc'ed), or -ENOMEM. */
int kube_svc_addrs(const struct kube_service *s, size_t ns, const struct kube_slice *l,
		   size_t nl, struct svc_addr **ret);

#endif
