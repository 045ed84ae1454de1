/* SPDX-License-Identifier: MIT */
/*
 * kube.h - what roostd reads from the Kubernetes API, parsed and checked:
 * how to reach the API server (a kubeconfig file, or the in-cluster service
 * account) and Node objects (the node's pod subnets, its address, and the
 * per-node BGP settings roost takes from labels and annotations). Pure
 * functions: no network, no logging; every error says what was wrong and
 * where.
 *
 * Everything the API server sends is untrusted input: a Node whose fields
 * do not parse is reported and skipped, never half used.
 *
 * Per-node settings (documented in README, "Kubernetes datastore"):
 *   annotation roost.io/asn                 the node's ASN (default cluster.asn)
 *   label      roost.io/route-reflector     "true": the node is a route reflector
 *   annotation roost.io/route-reflector-cluster-id
 *                                           its cluster id (dotted quad; default
 *                                           its router id)
 */
#ifndef ROOST_KUBE_H
#define ROOST_KUBE_H

#include <arpa/inet.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "birdconf.h"

#define KUBE_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

/* How to reach the API server. Strings are owned ("" when not set). */
struct kube_conf {
	char *server;     /* "https://host:port" */
	char *ca_file;    /* a file of PEM certificates */
	char *ca_pem;     /* or the certificates themselves (certificate-authority-data) */
	char *token;      /* a bearer token, or */
	char *token_file; /* a file to read it from, again when it changes (rotation) */
	char *cert_file, *key_file; /* a client certificate, or */
	char *cert_pem, *key_pem;   /* the same inline (client-*-data) */
	char source[300];           /* where this came from, for messages */
};

/* Reads a kubeconfig file (YAML: current-context, its cluster and user;
 * relative paths are relative to the file's folder, as kubectl has it), or
 * with path NULL or "", the in-cluster configuration: KUBERNETES_SERVICE_HOST
 * and _PORT, and the service account's token and ca.crt in sa_dir
 * (KUBE_SA_DIR when NULL). TLS is always verified: a server that is not
 * https://, insecure-skip-tls-verify, or no CA at all is refused. 0, or
 * -EINVAL / -errno with err set. */
int kube_conf_load(const char *path, const char *sa_dir, struct kube_conf *ret, char *err,
		   size_t errlen);
void kube_conf_done(struct kube_conf *k);

/* One Node, as roost uses it. */
struct kube_node {
	char name[BC_NAME_MAX + 1];           /* roost's name for it (bc_name_from) */
	char node_name[BC_DNS_NAME_MAX + 1];  /* metadata.name */
	struct in_addr address; /* InternalIP (IPv4); 0 when it has none */
	struct in_addr net;     /* spec.podCIDRs' IPv4 subnet (or spec.podCIDR) */
	unsigned len;           /* 0 when none is assigned yet */
	struct in6_addr address6; /* its IPv6 InternalIP; :: when none */
	struct in6_addr net6;     /* spec.podCIDRs' IPv6 subnet (or an IPv6 spec.podCIDR) */
	unsigned len6;            /* 0: none */
	uint32_t asn;           /* 0: not annotated */
	bool reflector;
	struct in_addr cluster_id; /* 0: not annotated */
	char resource_version[32];
};

/* Parses a Node object. 0, or -EINVAL with why: a name that is no
 * Kubernetes name (bc_dns_name_ok), a podCIDR or address that does not
 * parse, an annotation out of range. A Node without a podCIDR or an
 * InternalIP parses (len 0, address 0): the caller waits or skips. */
int kube_node_parse(const json_t *node, struct kube_node *ret, char *why, size_t whylen);

/* One line of a watch stream. */
enum kube_event_type { KUBE_ADDED = 1, KUBE_MODIFIED, KUBE_DELETED, KUBE_BOOKMARK, KUBE_ERROR };
struct kube_event {
	enum kube_event_type type;
	json_t *object;           /* borrowed from the parsed line; NULL for none */
	char resource_version[32]; /* of the object, or of the bookmark */
	int code;                 /* ERROR: the Status' code (410: re-list) */
	char message[256];        /* ERROR: the Status' message */
};

/* Parses one event (the JSON object of one line); *root gets the parsed
 * line (json_decref it when done with ev->object). 0 or -EINVAL with why. */
int kube_event_parse(const char *line, size_t len, json_t **root, struct kube_event *ev,
		     char *why, size_t whylen);

#endif
