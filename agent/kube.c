/* SPDX-License-Identifier: MIT */
/*
 * kube.c - kubeconfig and in-cluster configuration, Node objects and watch
 * events (see kube.h).
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#include "datastore.h"
#include "etcd.h"
#include "kube.h"
#include "rst.h"

#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), -EINVAL)

void kube_conf_done(struct kube_conf *k)
{
	free(k->server);
	free(k->ca_file);
	free(k->ca_pem);
	free(k->token);
	free(k->token_file);
	free(k->cert_file);
	free(k->key_file);
	free(k->cert_pem);
	free(k->key_pem);
	memset(k, 0, sizeof(*k));
}

static int conf_init(struct kube_conf *k)
{
	char **all[] = {&k->server,    &k->ca_file,  &k->ca_pem,   &k->token,  &k->token_file,
			&k->cert_file, &k->key_file, &k->cert_pem, &k->key_pem};

	for (size_t i = 0; i < ARRAY_SIZE(all); i++)
		if (!(*all[i] = strdup("")))
			return -ENOMEM;
	return 0;
}

static int set(char **field, const char *v)
{
	char *s = strdup(v);

	if (!s)
		return -ENOMEM;
	free(*field);
	*field = s;
	return 0;
}

static int check_server(const struct kube_conf *k, char *err, size_t errlen)
{
	if (strncmp(k->server, "https://", 8) != 0 || !k->server[8])
		return ERR("%s: server '%s' is not an https:// URL (roost talks to the API server over verified TLS only)",
			   k->source, k->server);
	if (!k->ca_file[0] && !k->ca_pem[0])
		return ERR("%s: no certificate authority for '%s' (certificate-authority or certificate-authority-data)",
			   k->source, k->server);
	if (!k->token[0] && !k->token_file[0] && !k->cert_file[0] && !k->cert_pem[0])
		return ERR("%s: no credentials (a token, tokenFile or a client certificate)",
			   k->source);
	return 0;
}

/* ---- in-cluster --------------------------------------------------------------- */

static int in_cluster(const char *sa_dir, struct kube_conf *k, char *err, size_t errlen)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	char buf[PATH_MAX + 64];

	snprintf(k->source, sizeof(k->source), "in-cluster configuration (%s)", sa_dir);
	if (!host || !*host || !port || !*port)
		return ERR("datastore.kubeconfig is empty (in-cluster), but KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set: not running in a pod? Set datastore.kubeconfig");
	if (strlen(host) > 253 || strlen(port) > 5 || strspn(port, "0123456789") != strlen(port))
		return ERR("KUBERNETES_SERVICE_HOST/_PORT '%.64s'/'%.16s' are not a host and a port",
			   host, port);
	/* An IPv6 service address goes in brackets. */
	snprintf(buf, sizeof(buf), strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s", host,
		 port);
	if (set(&k->server, buf) < 0)
		return -ENOMEM;
	snprintf(buf, sizeof(buf), "%s/token", sa_dir);
	if (access(buf, R_OK) != 0)
		return ERR("%s: cannot read the service account token '%s': %s", k->source, buf,
			   strerror(errno));
	if (set(&k->token_file, buf) < 0)
		return -ENOMEM;
	snprintf(buf, sizeof(buf), "%s/ca.crt", sa_dir);
	if (access(buf, R_OK) != 0)
		return ERR("%s: cannot read the cluster CA '%s': %s", k->source, buf,
			   strerror(errno));
	if (set(&k->ca_file, buf) < 0)
		return -ENOMEM;
	return check_server(k, err, errlen);
}

/* ---- kubeconfig (YAML) ---------------------------------------------------------- */

static yaml_node_t *map_get(yaml_document_t *d, yaml_node_t *m, const char *key)
{
	if (!m || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(d, p->key);

		if (k && k->type == YAML_SCALAR_NODE &&
		    strcmp((const char *)k->data.scalar.value, key) == 0)
			return yaml_document_get_node(d, p->value);
	}
	return NULL;
}

static const char *scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* The entry of list (clusters, users, contexts) named name, its inner map
 * (under inner: "cluster", "user", "context"). */
static yaml_node_t *named(yaml_document_t *d, yaml_node_t *root, const char *list,
			  const char *name, const char *inner)
{
	yaml_node_t *seq = map_get(d, root, list);

	if (!seq || seq->type != YAML_SEQUENCE_NODE)
		return NULL;
	for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top;
	     i++) {
		yaml_node_t *e = yaml_document_get_node(d, *i);
		const char *n = scalar(map_get(d, e, "name"));

		if (n && strcmp(n, name) == 0)
			return map_get(d, e, inner);
	}
	return NULL;
}

/* A path from the kubeconfig: relative ones are relative to its folder. */
static int set_path(char **field, const char *dir, const char *v)
{
	char buf[PATH_MAX];

	if (v[0] == '/')
		return set(field, v);
	if (snprintf(buf, sizeof(buf), "%s/%s", dir, v) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	return set(field, buf);
}

static int set_b64(char **field, const char *v)
{
	size_t n;
	char *s = etcd_b64_decode(v, &n);

	if (!s || strlen(s) != n) {
		free(s);
		return -EINVAL;
	}
	free(*field);
	*field = s;
	return 0;
}

static int from_kubeconfig(const char *path, struct kube_conf *k, char *err, size_t errlen)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root, *cluster, *user, *ctx;
	const char *current, *cname, *uname, *v;
	char dirbuf[PATH_MAX], *dir;
	FILE *f;
	int r = 0;

	snprintf(k->source, sizeof(k->source), "kubeconfig '%.250s'", path);
	f = fopen(path, "re");
	if (!f)
		return ERR("%s: %s", k->source, strerror(errno));
	snprintf(dirbuf, sizeof(dirbuf), "%s", path);
	dir = dirname(dirbuf);
	if (!yaml_parser_initialize(&parser)) {
		fclose(f);
		return -ENOMEM;
	}
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		r = ERR("%s:%zu: not YAML: %s", k->source, parser.problem_mark.line + 1,
			parser.problem ? parser.problem : "parse error");
		yaml_parser_delete(&parser);
		fclose(f);
		return r;
	}
	root = yaml_document_get_root_node(&doc);
	current = scalar(map_get(&doc, root, "current-context"));
	if (!current || !*current) {
		r = ERR("%s: no current-context", k->source);
		goto out;
	}
	ctx = named(&doc, root, "contexts", current, "context");
	cname = scalar(map_get(&doc, ctx, "cluster"));
	uname = scalar(map_get(&doc, ctx, "user"));
	if (!ctx || !cname || !uname) {
		r = ERR("%s: context '%s' is missing, or names no cluster or user", k->source,
			current);
		goto out;
	}
	cluster = named(&doc, root, "clusters", cname, "cluster");
	user = named(&doc, root, "users", uname, "user");
	if (!cluster) {
		r = ERR("%s: cluster '%s' (of context '%s') is missing", k->source, cname, current);
		goto out;
	}
	if (!user) {
		r = ERR("%s: user '%s' (of context '%s') is missing", k->source, uname, current);
		goto out;
	}
	if ((v = scalar(map_get(&doc, cluster, "insecure-skip-tls-verify"))) &&
	    strcmp(v, "true") == 0) {
		r = ERR("%s: cluster '%s' sets insecure-skip-tls-verify: roost always verifies the API server's certificate",
			k->source, cname);
		goto out;
	}
	if (map_get(&doc, user, "exec") || map_get(&doc, user, "auth-provider")) {
		r = ERR("%s: user '%s' authenticates with an exec or auth-provider plugin, which roost does not run: use a token, tokenFile or client certificate",
			k->source, uname);
		goto out;
	}
	if ((v = scalar(map_get(&doc, cluster, "server"))))
		r = r ?: set(&k->server, v);
	if ((v = scalar(map_get(&doc, cluster, "certificate-authority"))))
		r = r ?: set_path(&k->ca_file, dir, v);
	if ((v = scalar(map_get(&doc, user, "token"))))
		r = r ?: set(&k->token, v);
	if ((v = scalar(map_get(&doc, user, "tokenFile"))))
		r = r ?: set_path(&k->token_file, dir, v);
	if ((v = scalar(map_get(&doc, user, "client-certificate"))))
		r = r ?: set_path(&k->cert_file, dir, v);
	if ((v = scalar(map_get(&doc, user, "client-key"))))
		r = r ?: set_path(&k->key_file, dir, v);
	if (r < 0)
		goto out;
	{
		static const struct {
			const char *key;
			size_t off;
			bool cluster;
		} data[] = {
			{"certificate-authority-data", offsetof(struct kube_conf, ca_pem), true},
			{"client-certificate-data", offsetof(struct kube_conf, cert_pem), false},
			{"client-key-data", offsetof(struct kube_conf, key_pem), false},
		};

		for (size_t i = 0; i < ARRAY_SIZE(data); i++) {
			v = scalar(map_get(&doc, data[i].cluster ? cluster : user, data[i].key));
			if (v && set_b64((char **)((char *)k + data[i].off), v) < 0) {
				r = ERR("%s: %s of '%s' is not base64", k->source, data[i].key,
					data[i].cluster ? cname : uname);
				goto out;
			}
		}
	}
	if (!!(k->cert_file[0] || k->cert_pem[0]) != !!(k->key_file[0] || k->key_pem[0])) {
		r = ERR("%s: user '%s' has a client certificate without its key, or a key without its certificate",
			k->source, uname);
		goto out;
	}
	r = check_server(k, err, errlen);
out:
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	return r;
}

int kube_conf_load(const char *path, const char *sa_dir, struct kube_conf *ret, char *err,
		   size_t errlen)
{
	int r;

	memset(ret, 0, sizeof(*ret));
	r = conf_init(ret);
	if (r == 0)
		r = path && *path ? from_kubeconfig(path, ret, err, errlen)
				  : in_cluster(sa_dir ? sa_dir : KUBE_SA_DIR, ret, err, errlen);
	if (r == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	if (r < 0)
		kube_conf_done(ret);
	return r;
}

/* ---- Node objects ---------------------------------------------------------------- */

static const char *jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static int cidr4(const char *s, struct in_addr *net, unsigned *len)
{
	char buf[INET_ADDRSTRLEN + 4], *slash, *end;
	unsigned long l;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (!slash)
		return -EINVAL;
	*slash = '\0';
	if (inet_pton(AF_INET, buf, net) != 1)
		return -EINVAL;
	l = strtoul(slash + 1, &end, 10);
	if (*end || slash[1] == '\0' || l > 32)
		return -EINVAL;
	*len = (unsigned)l;
	if (l < 32 && (ntohl(net->s_addr) & (0xffffffffu >> l)))
		return -EINVAL; /* host bits set */
	return 0;
}

#define WHY(...) (snprintf(why, whylen, __VA_ARGS__), -EINVAL)

int kube_node_parse(const json_t *node, struct kube_node *ret, char *why, size_t whylen)
{
	const json_t *md = json_object_get(node, "metadata"), *spec = json_object_get(node, "spec");
	const json_t *st = json_object_get(node, "status"), *v, *e;
	const json_t *labels = json_object_get(md, "labels");
	const json_t *ann = json_object_get(md, "annotations");
	const char *name = jstr(md, "name"), *s;
	size_t i;

	memset(ret, 0, sizeof(*ret));
	if (!json_is_object(node) || !name)
		return WHY("not a Node object with metadata.name");
	if (!bc_dns_name_ok(name))
		return WHY("node name '%.64s' is not a DNS subdomain name (a-z, 0-9, '-' and '.', at most %d characters)",
			   name, BC_DNS_NAME_MAX);
	snprintf(ret->node_name, sizeof(ret->node_name), "%s", name);
	bc_name_from(name, ret->name);
	if ((s = jstr(md, "resourceVersion")))
		snprintf(ret->resource_version, sizeof(ret->resource_version), "%s", s);

	/* spec.podCIDRs (one per family) wins over the older spec.podCIDR. */
	v = json_object_get(spec, "podCIDRs");
	if (json_is_array(v) && json_array_size(v)) {
		json_array_foreach(v, i, e)
		{
			s = json_string_value(e);
			if (!s)
				return WHY("node %s: spec.podCIDRs[%zu] is not a string", name, i);
			if (strchr(s, ':')) {
				if (ret->len6)
					return WHY("node %s: spec.podCIDRs has two IPv6 subnets", name);
				if (ds_cidr6_parse(s, &ret->net6, &ret->len6) < 0 || ret->len6 == 0)
					return WHY("node %s: spec.podCIDRs[%zu] '%.64s' is not an IPv6 subnet",
						   name, i, s);
				continue;
			}
			if (ret->len)
				return WHY("node %s: spec.podCIDRs has two IPv4 subnets", name);
			if (cidr4(s, &ret->net, &ret->len) < 0 || ret->len == 0)
				return WHY("node %s: spec.podCIDRs[%zu] '%.64s' is not an IPv4 subnet",
					   name, i, s);
		}
	} else if ((s = jstr(spec, "podCIDR")) && *s && !strchr(s, ':')) {
		if (cidr4(s, &ret->net, &ret->len) < 0 || ret->len == 0)
			return WHY("node %s: spec.podCIDR '%.64s' is not an IPv4 subnet", name, s);
	} else if (s && *s) { /* an IPv6-only Node's */
		if (ds_cidr6_parse(s, &ret->net6, &ret->len6) < 0 || ret->len6 == 0)
			return WHY("node %s: spec.podCIDR '%.64s' is not an IPv6 subnet", name, s);
	}

	v = json_object_get(st, "addresses");
	json_array_foreach(v, i, e)
	{
		const char *type = jstr(e, "type"), *a = jstr(e, "address");

		if (!type || !a || strcmp(type, "InternalIP") != 0)
			continue;
		if (strchr(a, ':')) { /* the first IPv6 InternalIP */
			if (!IN6_IS_ADDR_UNSPECIFIED(&ret->address6))
				continue;
			if (inet_pton(AF_INET6, a, &ret->address6) != 1)
				return WHY("node %s: InternalIP '%.64s' is not an IPv6 address", name, a);
			continue;
		}
		if (ret->address.s_addr)
			continue;
		if (inet_pton(AF_INET, a, &ret->address) != 1)
			return WHY("node %s: InternalIP '%.64s' is not an IPv4 address", name, a);
	}

	if ((s = jstr(ann, "roost.io/asn"))) {
		char *end;
		unsigned long long asn;

		errno = 0;
		asn = strtoull(s, &end, 10);
		if (!*s || *end || errno || asn == 0 || asn > 4294967295ull || asn == 23456)
			return WHY("node %s: annotation roost.io/asn '%.32s' is not an AS number (1-4294967295, not 23456)",
				   name, s);
		ret->asn = (uint32_t)asn;
	}
	if ((s = jstr(labels, "roost.io/route-reflector"))) {
		if (strcmp(s, "true") != 0 && strcmp(s, "false") != 0)
			return WHY("node %s: label roost.io/route-reflector '%.32s' is not \"true\" or \"false\"",
				   name, s);
		ret->reflector = strcmp(s, "true") == 0;
	}
	if ((s = jstr(ann, "roost.io/route-reflector-cluster-id")) &&
	    inet_pton(AF_INET, s, &ret->cluster_id) != 1)
		return WHY("node %s: annotation roost.io/route-reflector-cluster-id '%.32s' is not a dotted quad",
			   name, s);
	return 0;
}

/* ---- watch events ------------------------------------------------------------------ */

int kube_event_parse(const char *line, size_t len, json_t **root, struct kube_event *ev, char *why,
		     size_t whylen)
{
	static const struct {
		const char *name;
		enum kube_event_type type;
	} types[] = {{"ADDED", KUBE_ADDED},
		     {"MODIFIED", KUBE_MODIFIED},
		     {"DELETED", KUBE_DELETED},
		     {"BOOKMARK", KUBE_BOOKMARK},
		     {"ERROR", KUBE_ERROR}};
	json_error_t jerr;
	const char *type, *rv;
	json_t *o;

	memset(ev, 0, sizeof(*ev));
	*root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!*root)
		return WHY("watch event is not JSON: %s", jerr.text);
	type = jstr(*root, "type");
	o = json_object_get(*root, "object");
	for (size_t i = 0; type && i < ARRAY_SIZE(types); i++)
		if (strcmp(type, types[i].name) == 0)
			ev->type = types[i].type;
	if (!ev->type || !json_is_object(o)) {
		json_decref(*root);
		*root = NULL;
		return WHY("watch event without a known type and an object");
	}
	ev->object = o;
	if (ev->type == KUBE_ERROR) {
		json_int_t code = json_integer_value(json_object_get(o, "code"));

		ev->code = code > 0 && code < 1000 ? (int)code : 0;
		snprintf(ev->message, sizeof(ev->message), "%s",
			 jstr(o, "message") ? jstr(o, "message") : "no message");
		return 0;
	}
	rv = jstr(json_object_get(o, "metadata"), "resourceVersion");
	if (!rv || !*rv || strlen(rv) >= sizeof(ev->resource_version)) {
		/* why first: type points into root */
		snprintf(why, whylen, "watch event %s without a usable metadata.resourceVersion",
			 type);
		json_decref(*root);
		*root = NULL;
		return -EINVAL;
	}
	snprintf(ev->resource_version, sizeof(ev->resource_version), "%s", rv);
	return 0;
}
