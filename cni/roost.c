/* SPDX-License-Identifier: MIT */
/*
 * DOC: roost.c - the CNI plugin, a thin client of roostd.
 *
 * The container runtime runs this binary with the request in the environment
 * (CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_ARGS, CNI_PATH)
 * and one network configuration on stdin. The plugin checks all of it first,
 * then forwards one request to roostd over the agent socket ("agentSocket" in
 * the config, see agent/api-proto.h) and prints what the runtime expects on
 * stdout: a result for ADD, the version object for VERSION, nothing for a
 * successful DEL/CHECK/STATUS/GC, or a CNI error object (exit status 1).
 *
 * It owns no state and never touches the network: roostd does the work. It
 * contacts roostd only once every input is known to be valid, so a request
 * the plugin refuses leaves the node exactly as it was. Checklist lines
 * (ENV-*, CFG-*, ...) refer to the CNI conformance checklist in
 * docs/design.md.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "api-proto.h"
#include "rst.h"
#include "rst-util.h"

#define CNI_VERSION_NEWEST "1.1.0"
#define CNI_STDIN_MAX (1024 * 1024)
#define CNI_AGENT_SOCKET_DEFAULT "/run/roost/roostd.sock"
#define CNI_IFNAME_MAX 15
#define CNI_ID_RULE "^[a-zA-Z0-9][a-zA-Z0-9_.-]*$"
#define CNI_IFNAME_RULE "1-15 bytes, not '.' or '..', without '/', ':' or whitespace"

/* CNI error codes (containernetworking/cni SPEC.md, "Error"). */
enum {
	CNI_ERR_VERSION = 1,
	CNI_ERR_ENV = 4,
	CNI_ERR_IO = 5,
	CNI_ERR_DECODE = 6,
	CNI_ERR_CONFIG = 7,
	CNI_ERR_TRY_LATER = 11,
	CNI_ERR_UNAVAILABLE = 50,
};

/* Every version this plugin speaks, oldest first (VER-03: exact strings). */
static const char *const cni_versions[] = {"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"};
#define CNI_VERSIONS_TEXT "[0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0]"

enum cni_verb { CNI_ADD, CNI_DEL, CNI_CHECK, CNI_VERSION, CNI_STATUS, CNI_GC };

/* What a verb reads from the environment (ENV-04, ENV-06). */
#define CNI_NEED_ID (1u << 0)	  /* CNI_CONTAINERID required */
#define CNI_NEED_NETNS (1u << 1)  /* CNI_NETNS required and must exist */
#define CNI_NEED_IFNAME (1u << 2) /* CNI_IFNAME required */
#define CNI_USE_NETNS (1u << 3)	  /* CNI_NETNS optional, forwarded when set */
#define CNI_USE_ARGS (1u << 4)	  /* CNI_ARGS checked */

static const struct cni_verb_info {
	const char *name;
	unsigned env;	/* CNI_NEED_* and CNI_USE_* bits */
	unsigned since; /* index in cni_versions[] of the first version with the verb */
	int timeout_ms; /* whole exchange with roostd */
} cni_verbs[] = {
	[CNI_ADD] = {"ADD", CNI_NEED_ID | CNI_NEED_NETNS | CNI_NEED_IFNAME | CNI_USE_ARGS, 0,
		     10000},
	[CNI_DEL] = {"DEL", CNI_NEED_ID | CNI_NEED_IFNAME | CNI_USE_NETNS | CNI_USE_ARGS, 0, 10000},
	[CNI_CHECK] = {"CHECK", CNI_NEED_ID | CNI_NEED_NETNS | CNI_NEED_IFNAME | CNI_USE_ARGS, 2,
		       10000},
	[CNI_VERSION] = {"VERSION", 0, 0, 0},
	[CNI_STATUS] = {"STATUS", 0, 4, 2000},
	[CNI_GC] = {"GC", 0, 4, 10000},
};

/* Keys accepted in CNI_ARGS (ENV-11); others need IgnoreUnknown (ENV-12). */
static const char *const cni_args_known[] = {"IgnoreUnknown", "K8S_POD_NAMESPACE", "K8S_POD_NAME",
					     "K8S_POD_INFRA_CONTAINER_ID", "K8S_POD_UID"};

/* A CNI error on its way to stdout. Strings are raw bytes; printing makes
 * them valid UTF-8. */
struct cni_err {
	int code;
	char msg[1024];
	char details[3072];
};

/* One invocation. Strings are borrowed from the environment or from conf. */
struct cni_req {
	enum cni_verb verb;
	const char *version;	  /* a cni_versions[] entry; NULL while unknown */
	unsigned version_idx;	  /* its index */
	const char *container_id; /* NULL when unset or empty, like every env value */
	const char *netns;
	const char *ifname;
	const char *args;
	json_t *conf;		  /* owned: stdin, parsed */
	const char *name;	  /* netconf "name" */
	const char *agent_socket; /* netconf "agentSocket" or the default */
	json_t *dns;		  /* owned: the result's "dns" (CFG-09) */
	json_t *prev;		  /* owned: CHECK's "prev" for roostd */
	json_t *valid;		  /* owned: GC's "valid" for roostd */
};

/* Copies src into dst[size], cut short when it does not fit. */
static void cni_copy(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Formats "msg\ndetails" into e and returns -EINVAL, so callers can
 * `return cni_fail(...)`. The split is at the first newline of fmt, not of
 * the output, so a value with a newline in it (CNI_ARGS, a path) never
 * moves text from msg to details: the part of fmt before its newline is
 * formatted alone (it reads the first arguments only), then all of it. */
static __attribute__((format(printf, 3, 4))) int cni_fail(struct cni_err *e, int code,
							  const char *fmt, ...)
{
	char buf[sizeof(e->msg) + sizeof(e->details)], head[sizeof(buf)], msg[sizeof(e->msg)];
	const char *nl = strchr(fmt, '\n');
	size_t n;
	va_list ap, aq;

	va_start(ap, fmt);
	va_copy(aq, ap);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	e->code = code;
	if (!nl) {
		va_end(aq);
		cni_copy(e->msg, sizeof(e->msg), buf);
		e->details[0] = '\0';
		return -EINVAL;
	}
	n = (size_t)(nl - fmt);
	if (n >= sizeof(head))
		n = sizeof(head) - 1;
	memcpy(head, fmt, n);
	head[n] = '\0';
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	n = (size_t)vsnprintf(msg, sizeof(msg), head, aq);
#pragma GCC diagnostic pop
	va_end(aq);
	cni_copy(e->msg, sizeof(e->msg), msg);
	cni_copy(e->details, sizeof(e->details), n + 1 < strlen(buf) ? buf + n + 1 : "");
	return -EINVAL;
}

/* An environment variable; NULL when unset or empty (ENV-06). */
static const char *cni_env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

static int cni_version_find(const char *v)
{
	for (size_t i = 0; i < ARRAY_SIZE(cni_versions); i++)
		if (strcmp(v, cni_versions[i]) == 0)
			return (int)i;
	return -1;
}

static bool cni_utf8_valid(const char *s)
{
	json_t *j = json_string(s);

	json_decref(j);
	return j != NULL;
}

static bool cni_ascii_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* CNI_ID_RULE, for container ids and network names. */
static bool cni_id_valid(const char *s)
{
	if (!cni_ascii_alnum(s[0]))
		return false;
	for (s++; *s; s++)
		if (!cni_ascii_alnum(*s) && *s != '_' && *s != '.' && *s != '-')
			return false;
	return true;
}

/* NULL when name is a usable interface name, else why not (ENV-08). */
static const char *cni_ifname_problem(const char *name)
{
	size_t len = strlen(name);

	if (len == 0)
		return "interface name is empty";
	if (len > CNI_IFNAME_MAX)
		return "interface name is too long";
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return "interface name is '.' or '..'";
	if (strpbrk(name, "/: \t\n\v\f\r"))
		return "interface name contains '/', ':' or whitespace";
	if (!cni_utf8_valid(name))
		return "interface name is not valid UTF-8";
	return NULL;
}

/* The address family of an IP address, or 0. */
static int cni_ip_family(const char *s)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, s, a) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, s, a) == 1)
		return AF_INET6;
	return 0;
}

/* The address family of "address/prefix", or 0 when it is not one. */
static int cni_cidr_family(const char *s)
{
	const char *slash = strchr(s, '/');
	char addr[INET6_ADDRSTRLEN];
	unsigned prefix = 0;
	size_t digits;
	int family;

	if (!slash || (size_t)(slash - s) >= sizeof(addr))
		return 0;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	family = cni_ip_family(addr);
	digits = strlen(slash + 1);
	if (!family || digits < 1 || digits > 3 || strspn(slash + 1, "0123456789") != digits)
		return 0;
	prefix = (unsigned)atoi(slash + 1);
	if (prefix > (family == AF_INET ? 32u : 128u))
		return 0;
	return family;
}

/* ---- stdin ------------------------------------------------------------- */

/* Reads stdin, at most CNI_STDIN_MAX bytes. Returns 0 and a NUL-terminated
 * buffer the caller frees, or a negative errno and e filled (CFG-02). */
static int cni_stdin_read(char **ret_buf, size_t *ret_len, struct cni_err *e)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;

	for (;;) {
		ssize_t n;

		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 64 * 1024;
			char *nbuf;

			if (ncap > CNI_STDIN_MAX + 1)
				ncap = CNI_STDIN_MAX + 1;
			nbuf = realloc(buf, ncap + 1);
			if (!nbuf)
				return cni_fail(e, CNI_ERR_IO,
						"I/O failure: cannot read the network config\n"
						"stdin: out of memory");
			buf = nbuf;
			cap = ncap;
		}
		n = read(STDIN_FILENO, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cni_fail(e, CNI_ERR_IO,
					"I/O failure: cannot read the network config\nstdin: %s",
					strerror(errno));
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > CNI_STDIN_MAX)
			return cni_fail(
				e, CNI_ERR_DECODE,
				"decode failure: config larger than 1 MiB\n"
				"stdin holds more than %d bytes; a network config is at most "
				"1 MiB",
				CNI_STDIN_MAX);
	}
	buf[len] = '\0';
	*ret_len = len;
	*ret_buf = TAKE_PTR(buf);
	return 0;
}

/* Parses the network config on stdin into a new reference (CFG-01, CFG-02). */
static int cni_conf_parse(const char *buf, size_t len, json_t **ret, struct cni_err *e)
{
	json_auto_t *conf = NULL;
	json_error_t jerr;

	conf = json_loadb(buf, len, 0, &jerr);
	if (!conf)
		return cni_fail(e, CNI_ERR_DECODE,
				"decode failure: the network config on stdin is not valid JSON\n"
				"stdin line %d, column %d (byte %d): %s",
				jerr.line, jerr.column, jerr.position, jerr.text);
	if (!json_is_object(conf))
		return cni_fail(e, CNI_ERR_DECODE,
				"decode failure: the network config on stdin is not a JSON object\n"
				"stdin holds a JSON %s; expected one plugin configuration object",
				json_is_array(conf)    ? "array"
				: json_is_string(conf) ? "string"
						       : "scalar");
	*ret = TAKE_PTR(conf);
	return 0;
}

/* ---- environment ------------------------------------------------------- */

/* Checks CNI_ARGS: K=V pairs separated by ';' (ENV-11, ENV-12). */
static int cni_args_check(const char *args, struct cni_err *e)
{
	_cleanup_free_ char *copy = strdup(args);
	char unknown[1024] = "", *save = NULL, *pair;
	bool ignore_unknown = false;
	size_t ulen = 0;

	if (!copy)
		return cni_fail(e, CNI_ERR_IO, "I/O failure: out of memory\nCNI_ARGS");
	for (pair = strtok_r(copy, ";", &save); pair; pair = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(pair, '=');
		bool known = false;

		if (!eq || eq == pair)
			return cni_fail(
				e, CNI_ERR_ENV,
				"invalid CNI_ARGS: pair '%.200s' is not KEY=VALUE\n"
				"CNI_ARGS='%.1000s' must be KEY=VALUE pairs separated by ';'",
				pair, args);
		*eq = '\0';
		for (size_t i = 0; i < ARRAY_SIZE(cni_args_known); i++)
			known = known || strcmp(pair, cni_args_known[i]) == 0;
		if (strcmp(pair, "IgnoreUnknown") == 0) {
			if (strcasecmp(eq + 1, "1") == 0 || strcasecmp(eq + 1, "true") == 0)
				ignore_unknown = true;
			else if (strcasecmp(eq + 1, "0") == 0 || strcasecmp(eq + 1, "false") == 0)
				ignore_unknown = false;
			else
				return cni_fail(
					e, CNI_ERR_ENV,
					"invalid CNI_ARGS: IgnoreUnknown='%.200s' is not a "
					"boolean\nCNI_ARGS='%.1000s': IgnoreUnknown takes 1, "
					"true, 0 or false",
					eq + 1, args);
		}
		if (!known && ulen < sizeof(unknown))
			ulen += (size_t)snprintf(unknown + ulen, sizeof(unknown) - ulen, "%s%s",
						 ulen ? "," : "", pair);
	}
	if (ulen && !ignore_unknown)
		return cni_fail(e, CNI_ERR_ENV,
				"invalid CNI_ARGS: unknown args [%s]\n"
				"CNI_ARGS='%.1000s'; known keys: IgnoreUnknown, K8S_POD_NAMESPACE, "
				"K8S_POD_NAME, K8S_POD_INFRA_CONTAINER_ID, K8S_POD_UID (add "
				"IgnoreUnknown=1 to ignore the others)",
				unknown, args);
	return 0;
}

/* Reads and checks the environment the verb needs (ENV-04 .. ENV-13). */
static int cni_env_check(struct cni_req *req, struct cni_err *e)
{
	unsigned need = cni_verbs[req->verb].env;
	char missing[128] = "";
	const char *why;
	struct stat st;

	if (need & CNI_NEED_ID) {
		req->container_id = cni_env("CNI_CONTAINERID");
		if (!req->container_id)
			strcat(missing, ",CNI_CONTAINERID");
	}
	if (need & (CNI_NEED_NETNS | CNI_USE_NETNS)) {
		req->netns = cni_env("CNI_NETNS");
		if (!req->netns && (need & CNI_NEED_NETNS))
			strcat(missing, ",CNI_NETNS");
	}
	if (need & CNI_NEED_IFNAME) {
		req->ifname = cni_env("CNI_IFNAME");
		if (!req->ifname)
			strcat(missing, ",CNI_IFNAME");
	}
	if (missing[0])
		return cni_fail(e, CNI_ERR_ENV,
				"required env variables [%s] missing\n"
				"CNI_COMMAND=%s needs %s; an empty variable counts as missing",
				missing + 1, cni_verbs[req->verb].name,
				(need & CNI_NEED_NETNS)
					? "CNI_CONTAINERID, CNI_NETNS and CNI_IFNAME"
					: "CNI_CONTAINERID and CNI_IFNAME");

	if (req->container_id && !cni_id_valid(req->container_id))
		return cni_fail(e, CNI_ERR_ENV,
				"invalid CNI_CONTAINERID: invalid characters in container id\n"
				"CNI_CONTAINERID='%.300s' must match " CNI_ID_RULE,
				req->container_id);
	if (req->ifname && (why = cni_ifname_problem(req->ifname)))
		return cni_fail(
			e, CNI_ERR_ENV,
			"invalid CNI_IFNAME: %s\nCNI_IFNAME='%.300s' must be " CNI_IFNAME_RULE, why,
			req->ifname);
	if (req->netns) {
		if (req->netns[0] != '/')
			return cni_fail(
				e, CNI_ERR_ENV,
				"invalid CNI_NETNS: not an absolute path\n"
				"CNI_NETNS='%.1000s' must be the absolute path of a network "
				"namespace, e.g. /run/netns/<name> or /proc/<pid>/ns/net",
				req->netns);
		if (!cni_utf8_valid(req->netns))
			return cni_fail(
				e, CNI_ERR_ENV,
				"invalid CNI_NETNS: path is not valid UTF-8\nCNI_NETNS='%.1000s'",
				req->netns);
		/* DEL must succeed when the namespace is already gone (DEL-01). */
		if ((need & CNI_NEED_NETNS) && stat(req->netns, &st) < 0)
			return cni_fail(e, CNI_ERR_ENV,
					"invalid CNI_NETNS: cannot open the network namespace\n"
					"CNI_NETNS='%.1000s': %s",
					req->netns, strerror(errno));
	}
	if (need & CNI_USE_ARGS) {
		req->args = cni_env("CNI_ARGS");
		if (req->args)
			return cni_args_check(req->args, e);
	}
	return 0;
}

/* ---- network configuration --------------------------------------------- */

/* A string member of obj at key, or NULL with e filled (code 7) when it is
 * missing (and required) or not a string. path names obj for messages. */
static int cni_json_str(const json_t *obj, const char *path, const char *key, bool required,
			const char **ret, struct cni_err *e)
{
	const json_t *v = json_object_get(obj, key);

	*ret = NULL;
	if (!v || json_is_null(v)) {
		if (required)
			return cni_fail(e, CNI_ERR_CONFIG,
					"invalid network config: missing '%s%s'\n"
					"key '%s%s' is required and must be a string",
					path, key, path, key);
		return 0;
	}
	if (!json_is_string(v))
		return cni_fail(e, CNI_ERR_CONFIG,
				"invalid network config: '%s%s' is not a string\n"
				"key '%s%s' must be a string",
				path, key, path, key);
	*ret = json_string_value(v);
	return 0;
}

/* CFG-09: a "dns" object keeps its meaning and goes into the ADD result. */
static int cni_dns_parse(const json_t *conf, json_t **ret, struct cni_err *e)
{
	static const char *const lists[] = {"nameservers", "search", "options"};
	const json_t *dns = json_object_get(conf, "dns"), *v, *item;
	json_auto_t *out = json_object();
	const char *domain;
	size_t i;
	int r;

	if (!out)
		return cni_fail(e, CNI_ERR_IO, "I/O failure: out of memory\ndns");
	if (dns && !json_is_null(dns)) {
		if (!json_is_object(dns))
			return cni_fail(
				e, CNI_ERR_CONFIG,
				"invalid network config: 'dns' is not an object\n"
				"key 'dns' takes {\"nameservers\": [...], \"domain\": \"...\", "
				"\"search\": [...], \"options\": [...]}");
		for (size_t k = 0; k < ARRAY_SIZE(lists); k++) {
			v = json_object_get(dns, lists[k]);
			if (!v || json_is_null(v))
				continue;
			if (!json_is_array(v))
				return cni_fail(e, CNI_ERR_CONFIG,
						"invalid network config: 'dns.%s' is not a list\n"
						"key 'dns.%s' must be a list of strings",
						lists[k], lists[k]);
			json_array_foreach(v, i, item) {
				if (!json_is_string(item))
					return cni_fail(
						e, CNI_ERR_CONFIG,
						"invalid network config: 'dns.%s[%zu]' is "
						"not a string\nkey 'dns.%s' must be a list of "
						"strings",
						lists[k], i, lists[k]);
			}
			if (json_object_set_new(out, lists[k], json_deep_copy(v)) < 0)
				return cni_fail(e, CNI_ERR_IO, "I/O failure: out of memory\ndns");
		}
		r = cni_json_str(dns, "dns.", "domain", false, &domain, e);
		if (r < 0)
			return r;
		if (domain && json_object_set_new(out, "domain", json_string(domain)) < 0)
			return cni_fail(e, CNI_ERR_IO, "I/O failure: out of memory\ndns");
	}
	*ret = TAKE_PTR(out);
	return 0;
}

/* CHECK: turns the runtime's prevResult into roostd's "prev" object: the
 * addresses and MAC of the container interface, and the routes (CHK-02). */
static int cni_prev_parse(const struct cni_req *req, const json_t *prev, json_t **ret,
			  struct cni_err *e)
{
	const json_t *ifaces = json_object_get(prev, "interfaces");
	const json_t *ips = json_object_get(prev, "ips");
	const json_t *routes = json_object_get(prev, "routes");
	json_auto_t *out_ips = json_array(), *out_routes = json_array(), *out = NULL;
	const char *mac = NULL, *s, *gw;
	const json_t *item;
	long long cont = -1;
	char path[64];
	size_t i;
	int r;

	if (!out_ips || !out_routes)
		return cni_fail(e, CNI_ERR_IO, "I/O failure: out of memory\nprevResult");
	if (ifaces && !json_is_array(ifaces))
		return cni_fail(e, CNI_ERR_CONFIG,
				"invalid network config: 'prevResult.interfaces' is not a list\n"
				"prevResult must be a CNI result");
	json_array_foreach(ifaces, i, item) {
		const char *name, *sandbox;

		snprintf(path, sizeof(path), "prevResult.interfaces[%zu].", i);
		if (!json_is_object(item))
			return cni_fail(e, CNI_ERR_CONFIG,
					"invalid network config: '%.40s' is not an object\n"
					"prevResult must be a CNI result",
					path);
		r = cni_json_str(item, path, "name", true, &name, e);
		if (r < 0)
			return r;
		r = cni_json_str(item, path, "sandbox", false, &sandbox, e);
		if (r < 0)
			return r;
		if (strcmp(name, req->ifname) != 0 || !sandbox || strcmp(sandbox, req->netns) != 0)
			continue;
		r = cni_json_str(item, path, "mac", false, &mac, e);
		if (r < 0)
			return r;
		cont = (long long)i;
	}
	if (cont < 0)
		return cni_fail(
			e, CNI_ERR_CONFIG,
			"invalid network config: prevResult has no interface '%s' in the "
			"sandbox\nprevResult.interfaces must list CNI_IFNAME='%s' with sandbox "
			"CNI_NETNS='%.1000s', as the ADD result did",
			req->ifname, req->ifname, req->netns);

	if (ips && !json_is_array(ips))
		return cni_fail(e, CNI_ERR_CONFIG,
				"invalid network config: 'prevResult.ips' is not a list\n"
				"prevResult must be a CNI result");
	json_array_foreach(ips, i, item) {
		const json_t *idx = json_object_get(item, "interface");

		snprintf(path, sizeof(path), "prevResult.ips[%zu].", i);
		if (!json_is_object(item))
			return cni_fail(e, CNI_ERR_CONFIG,
					"invalid network config: '%.40s' is not an object\n"
					"prevResult must be a CNI result",
					path);
		r = cni_json_str(item, path, "address", true, &s, e);
		if (r < 0)
			return r;
		if (!cni_cidr_family(s))
			return cni_fail(
				e, CNI_ERR_CONFIG,
				"invalid network config: '%saddress' is not an address/prefix\n"
				"%saddress='%.100s'",
				path, path, s);
		r = cni_json_str(item, path, "gateway", false, &gw, e);
		if (r < 0)
			return r;
		if (gw && !cni_ip_family(gw))
			return cni_fail(e, CNI_ERR_CONFIG,
					"invalid network config: '%sgateway' is not an IP address\n"
					"%sgateway='%.100s'",
					path, path, gw);
		if (idx && !json_is_null(idx)) {
			if (!json_is_integer(idx) || json_integer_value(idx) < 0 ||
			    (size_t)json_integer_value(idx) >= json_array_size(ifaces))
				return cni_fail(
					e, CNI_ERR_CONFIG,
					"invalid network config: '%sinterface' is not an "
					"index into prevResult.interfaces\n"
					"%sinterface must be 0..%zu",
					path, path,
					json_array_size(ifaces) ? json_array_size(ifaces) - 1 : 0);
			if (json_integer_value(idx) != cont)
				continue;
		}
		if (json_array_append_new(out_ips, json_string(s)) < 0)
			return cni_fail(e, CNI_ERR_IO, "I/O failure: out of memory\nprevResult");
	}

	if (routes && !json_is_array(routes))
		return cni_fail(e, CNI_ERR_CONFIG,
				"invalid network config: 'prevResult.routes' is not a list\n"
				"prevResult must be a CNI result");
	json_array_foreach(routes, i, item) {
		json_t *rt;

		snprintf(path, sizeof(path), "prevResult.routes[%zu].", i);
		if (!json_is_object(item))
			return cni_fail(e, CNI_ERR_CONFIG,
					"invalid network config: '%.40s' is not an object\n"
					"prevResult must be a CNI result",
					path);
		r = cni_json_str(item, path, "dst", true, &s, e);
		if (r < 0)
			return r;
		if (!cni_cidr_family(s))
			return cni_fail(e, CNI_ERR_CONFIG,
					"invalid network config: '%sdst' is not an address/prefix\n"
					"%sdst='%.100s'",
					path, path, s);
		r = cni_json_str(item, path, "gw", false, &gw, e);
		if (r < 0)
			return r;
		if (gw && !cni_ip_family(gw))
			return cni_fail(e, CNI_ERR_CONFIG,
					"invalid network config: '%sgw' is not an IP address\n"
					"%sgw='%.100s'",
					path, path, gw);
		rt = gw ? json_pack("{s:s, s:s}", "dst", s, "gw", gw)
			: json_pack("{s:s}", "dst", s);
		if (json_array_append_new(out_routes, rt) < 0)
			return cni_fail(e, CNI_ERR_IO, "I/O failure: out of memory\nprevResult");
	}

	out = json_pack("{s:O, s:O}", "ips", out_ips, "routes", out_routes);
	if (!out || (mac && json_object_set_new(out, "mac", json_string(mac)) < 0))
		return cni_fail(e, CNI_ERR_IO, "I/O failure: out of memory\nprevResult");
	*ret = TAKE_PTR(out);
	return 0;
}

/* GC: the attachments to keep (CFG-11, GC-09). */
static int cni_gc_valid_parse(const struct cni_req *req, json_t **ret, struct cni_err *e)
{
	const char *key = "cni.dev/valid-attachments";
	const json_t *list = json_object_get(req->conf, key), *item;
	json_auto_t *out = json_array();
	char path[96];
	size_t i;
	int r;

	if (!out)
		return cni_fail(e, CNI_ERR_IO, "I/O failure: out of memory\n%s", key);
	if (!list || json_is_null(list)) {
		/* libcni before cni#1101 wrote the old name only */
		key = "cni.dev/attachments";
		list = json_object_get(req->conf, key);
	}
	if (!list || json_is_null(list))
		return cni_fail(
			e, CNI_ERR_CONFIG,
			"invalid network config: GC without 'cni.dev/valid-attachments'\n"
			"neither 'cni.dev/valid-attachments' nor 'cni.dev/attachments' is in "
			"the config; a GC without the list would release every address of "
			"network '%s', so nothing was released",
			req->name);
	if (!json_is_array(list))
		return cni_fail(
			e, CNI_ERR_CONFIG,
			"invalid network config: '%s' is not a list\n"
			"key '%s' takes [{\"containerID\": \"...\", \"ifname\": \"...\"}, ...]; "
			"nothing was released",
			key, key);
	json_array_foreach(list, i, item) {
		const char *id, *ifname, *why;

		snprintf(path, sizeof(path), "%s[%zu].", key, i);
		if (!json_is_object(item))
			return cni_fail(e, CNI_ERR_CONFIG,
					"invalid network config: '%.60s' is not an object\n"
					"key '%s' takes [{\"containerID\": \"...\", \"ifname\": "
					"\"...\"}, ...]; nothing was released",
					path, key);
		r = cni_json_str(item, path, "containerID", true, &id, e);
		if (r < 0)
			return r;
		r = cni_json_str(item, path, "ifname", true, &ifname, e);
		if (r < 0)
			return r;
		if (!cni_id_valid(id))
			return cni_fail(
				e, CNI_ERR_CONFIG,
				"invalid network config: '%scontainerID' is not a container "
				"id\n%scontainerID='%.300s' must match " CNI_ID_RULE
				"; nothing was released",
				path, path, id);
		why = cni_ifname_problem(ifname);
		if (why)
			return cni_fail(e, CNI_ERR_CONFIG,
					"invalid network config: '%sifname': %s\n"
					"%sifname='%.300s' must be " CNI_IFNAME_RULE
					"; nothing was released",
					path, why, path, ifname);
		if (json_array_append_new(
			    out, json_pack("{s:s, s:s}", "container_id", id, "ifname", ifname)) < 0)
			return cni_fail(e, CNI_ERR_IO, "I/O failure: out of memory\n%s", key);
	}
	*ret = TAKE_PTR(out);
	return 0;
}

/* Checks the parsed network config; everything before roostd is asked. */
static int cni_conf_check(struct cni_req *req, struct cni_err *e)
{
	const struct cni_verb_info *vi = &cni_verbs[req->verb];
	const char *version, *type, *sock;
	const json_t *prev;
	int r, idx;

	r = cni_json_str(req->conf, "", "cniVersion", true, &version, e);
	if (r < 0)
		return r;
	idx = cni_version_find(version);
	if (idx < 0)
		return cni_fail(e, CNI_ERR_VERSION,
				"incompatible CNI versions\n"
				"config is '%.100s', plugin supports " CNI_VERSIONS_TEXT,
				version);
	req->version = cni_versions[idx];
	req->version_idx = (unsigned)idx;
	if (req->version_idx < vi->since)
		return cni_fail(e, CNI_ERR_VERSION,
				"config version does not allow %s\n"
				"cniVersion is '%s'; %s needs cniVersion %s or later",
				vi->name, req->version, vi->name, cni_versions[vi->since]);

	r = cni_json_str(req->conf, "", "name", true, &req->name, e);
	if (r < 0)
		return r;
	if (!cni_id_valid(req->name))
		return cni_fail(e, CNI_ERR_CONFIG,
				"invalid network config: invalid network name\n"
				"name='%.300s' must match " CNI_ID_RULE,
				req->name);
	r = cni_json_str(req->conf, "", "type", true, &type, e);
	if (r < 0)
		return r;
	if (strcmp(type, "roost") != 0)
		return cni_fail(e, CNI_ERR_CONFIG,
				"invalid network config: type '%.100s' is not 'roost'\n"
				"this is the roost plugin; the config's 'type' must be \"roost\"",
				type);
	r = cni_json_str(req->conf, "", "agentSocket", false, &sock, e);
	if (r < 0)
		return r;
	if (sock) {
		if (sock[0] != '/' || strlen(sock) >= sizeof(((struct sockaddr_un *)0)->sun_path))
			return cni_fail(
				e, CNI_ERR_CONFIG,
				"invalid network config: agentSocket '%.300s' is not usable\n"
				"agentSocket must be an absolute path shorter than %zu bytes "
				"(default " CNI_AGENT_SOCKET_DEFAULT ")",
				sock, sizeof(((struct sockaddr_un *)0)->sun_path));
		req->agent_socket = sock;
	} else {
		req->agent_socket = CNI_AGENT_SOCKET_DEFAULT;
	}
	if (req->verb == CNI_ADD) {
		r = cni_dns_parse(req->conf, &req->dns, e);
		if (r < 0)
			return r;
	}

	prev = json_object_get(req->conf, "prevResult");
	if (prev && json_is_null(prev))
		prev = NULL;
	switch (req->verb) {
	case CNI_ADD:
		/* ADD-04: roost creates the interface, so it has to come first */
		if (prev && (!json_is_object(prev) || json_object_size(prev) > 0))
			return cni_fail(
				e, CNI_ERR_CONFIG,
				"roost must be the first plugin in the chain (prevResult "
				"present)\nthe ADD config carries a non-empty 'prevResult'; "
				"put roost first in the conflist's 'plugins'");
		break;
	case CNI_CHECK:
		if (!prev)
			return cni_fail(e, CNI_ERR_CONFIG,
					"Required prevResult missing\n"
					"CHECK needs the ADD result as 'prevResult' in the config");
		if (!json_is_object(prev))
			return cni_fail(e, CNI_ERR_CONFIG,
					"invalid network config: 'prevResult' is not an object\n"
					"CHECK needs the ADD result as 'prevResult' in the config");
		return cni_prev_parse(req, prev, &req->prev, e);
	case CNI_GC:
		return cni_gc_valid_parse(req, &req->valid, e);
	default:
		break; /* DEL-07: any prevResult, or none, is fine */
	}
	return 0;
}

/* ---- roostd ------------------------------------------------------------ */

/* nsfd: the namespace is passed along as a file descriptor (>= 0). */
static json_t *cni_agent_request(const struct cni_req *req, int nsfd)
{
	const char *verb = cni_verbs[req->verb].name;

	switch (req->verb) {
	case CNI_ADD:
	case CNI_DEL:
		return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "verb", verb, "network",
				 req->name, "container_id", req->container_id, "ifname",
				 req->ifname, "netns", req->netns ? req->netns : "", "netns_fd",
				 nsfd >= 0);
	case CNI_CHECK:
		return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:O}", "verb", verb, "network",
				 req->name, "container_id", req->container_id, "ifname",
				 req->ifname, "netns", req->netns, "netns_fd", nsfd >= 0, "prev",
				 req->prev);
	case CNI_GC:
		return json_pack("{s:s, s:s, s:O}", "verb", verb, "network", req->name, "valid",
				 req->valid);
	default:
		return json_pack("{s:s, s:s}", "verb", verb, "network", req->name);
	}
}

/* ms left until deadline, at least 1: the last exchange still gets a try. */
static int cni_left_ms(int64_t deadline)
{
	int left = rst_ms_left(deadline);

	return left > 0 ? left : 1;
}

/* Reads roostd's error object into e (passed through to the runtime). */
static int cni_agent_error(const struct cni_req *req, const json_t *err, struct cni_err *e)
{
	const json_t *code = json_object_get(err, "code");
	const char *msg = json_string_value(json_object_get(err, "msg"));
	const char *details = json_string_value(json_object_get(err, "details"));
	int unreach = req->verb == CNI_STATUS ? CNI_ERR_UNAVAILABLE : CNI_ERR_TRY_LATER;

	if (!json_is_object(err) || !json_is_integer(code) || json_integer_value(code) < 1 ||
	    json_integer_value(code) > 65535)
		return cni_fail(e, unreach,
				"malformed reply from roostd: error without a valid code\n"
				"roostd at '%s' answered ok=false without error.code 1..65535",
				req->agent_socket);
	e->code = (int)json_integer_value(code);
	/* an empty msg would reach the runtime as an error saying nothing */
	cni_copy(e->msg, sizeof(e->msg), msg && msg[0] ? msg : "roostd reported an error");
	cni_copy(e->details, sizeof(e->details), details ? details : "");
	return -EIO;
}

/* Opens CNI_NETNS for roostd, which may run in a container that sees
 * neither the runtime's /run/netns nor its /proc/<pid>: the fd, -1 when
 * there is none to pass (DEL of a namespace that is gone), or a negative
 * errno with e set (ADD, CHECK: ENV-09, ENV-10). */
static int cni_netns_open(const struct cni_req *req, struct cni_err *e)
{
	const char *why;
	int fd;

	if (!req->netns || !req->netns[0] ||
	    (req->verb != CNI_ADD && req->verb != CNI_CHECK && req->verb != CNI_DEL))
		return -1;
	fd = rst_netns_open(req->netns, &why);
	if (fd >= 0 || req->verb == CNI_DEL)
		return fd >= 0 ? fd : -1; /* DEL-01: a namespace that is gone is fine */
	if (why)
		return cni_fail(e, CNI_ERR_ENV, "invalid CNI_NETNS: %s\nCNI_NETNS='%.1000s'", why,
				req->netns);
	return cni_fail(e, CNI_ERR_ENV,
			"invalid CNI_NETNS: cannot open the network namespace\n"
			"CNI_NETNS='%.1000s': %s",
			req->netns, strerror(-fd));
}

/* One exchange with roostd. On success *ret holds the reply's "result"
 * (a new reference, or NULL when the reply has none). */
static int cni_agent_call(const struct cni_req *req, json_t **ret, struct cni_err *e)
{
	int timeout = cni_verbs[req->verb].timeout_ms;
	int unreach = req->verb == CNI_STATUS ? CNI_ERR_UNAVAILABLE : CNI_ERR_TRY_LATER;
	int64_t deadline = rst_now_ms() + timeout;
	json_auto_t *msg = NULL, *reply = NULL;
	const json_t *ok, *result;
	char why[256] = "";
	int fd, nsfd, r;

	nsfd = cni_netns_open(req, e);
	if (nsfd < -1)
		return nsfd;
	msg = cni_agent_request(req, nsfd);
	if (!msg) {
		if (nsfd >= 0)
			close(nsfd);
		return cni_fail(e, unreach, "cannot build the request to roostd\nout of memory");
	}
	fd = api_connect(req->agent_socket, timeout);
	if (fd < 0) {
		if (nsfd >= 0)
			close(nsfd);
		return cni_fail(e, unreach,
				"roostd is not reachable at '%s': %s\n"
				"connecting to the agent socket failed; is roostd running? "
				"(netconf key agentSocket)",
				req->agent_socket, fd == -ETIMEDOUT ? "timed out" : strerror(-fd));
	}
	r = api_send_fd(fd, msg, nsfd, cni_left_ms(deadline));
	if (nsfd >= 0)
		close(nsfd);
	if (r == 0)
		r = api_recv(fd, &reply, cni_left_ms(deadline), why);
	close(fd);
	switch (r) {
	case 0:
		break;
	case -EPROTO:
	case -EMSGSIZE:
	case -EBADMSG:
		return cni_fail(e, unreach, "malformed reply from roostd: %s\nagent socket '%s'",
				why, req->agent_socket);
	case -ETIMEDOUT:
		return cni_fail(e, unreach,
				"roostd is not reachable at '%s': no reply within %d s\n"
				"%s request timed out",
				req->agent_socket, timeout / 1000, cni_verbs[req->verb].name);
	default:
		return cni_fail(
			e, unreach, "roostd is not reachable at '%s': %s\n%s", req->agent_socket,
			r == -ECONNRESET ? "connection closed without a reply" : strerror(-r),
			why[0] ? why : "sending the request failed");
	}

	ok = json_object_get(reply, "ok");
	if (!json_is_boolean(ok))
		return cni_fail(e, unreach,
				"malformed reply from roostd: no boolean 'ok'\nagent socket '%s'",
				req->agent_socket);
	if (!json_is_true(ok))
		return cni_agent_error(req, json_object_get(reply, "error"), e);
	result = json_object_get(reply, "result");
	if (result && !json_is_null(result) && !json_is_object(result))
		return cni_fail(e, unreach,
				"malformed reply from roostd: 'result' is not an object\n"
				"agent socket '%s'",
				req->agent_socket);
	*ret = json_is_object(result) ? json_incref((json_t *)result) : NULL;
	return 0;
}

/* ---- results ----------------------------------------------------------- */

#define CNI_BAD_RESULT(what)                                                                       \
	cni_fail(e, CNI_ERR_TRY_LATER,                                                             \
		 "malformed reply from roostd: ADD result %s\n"                                    \
		 "agent socket '%s'",                                                              \
		 what, req->agent_socket)

/* One interfaces[] entry from roostd's {"name", "mac"}; NULL when malformed. */
static json_t *cni_result_iface(const struct cni_req *req, const json_t *in, const char *name,
				const char *sandbox, const json_t *mtu)
{
	const json_t *mac = json_object_get(in, "mac");
	json_auto_t *out = NULL;

	if (!json_is_object(in) || !name || (mac && !json_is_string(mac)))
		return NULL;
	out = json_pack("{s:s}", "name", name);
	if (!out || (mac && json_object_set(out, "mac", (json_t *)mac) < 0))
		return NULL;
	if (sandbox && json_object_set_new(out, "sandbox", json_string(sandbox)) < 0)
		return NULL;
	/* 1.1.0 interfaces may carry "mtu" */
	if (mtu && req->version_idx >= 4 && json_object_set(out, "mtu", (json_t *)mtu) < 0)
		return NULL;
	return TAKE_PTR(out);
}

/* Turns roostd's ADD result into a CNI result of the request's version
 * (ADD-06 .. ADD-12). */
static int cni_result_build(const struct cni_req *req, const json_t *res, json_t **ret,
			    struct cni_err *e)
{
	const json_t *bridge = json_object_get(res, "bridge"), *host = json_object_get(res, "host");
	const json_t *cont = json_object_get(res, "container"), *ip = json_object_get(res, "ip");
	const json_t *routes = json_object_get(res, "routes"), *mtu = json_object_get(res, "mtu");
	json_auto_t *ifaces = json_array(), *out_routes = json_array(), *ips = NULL;
	json_auto_t *ipent = NULL, *out = NULL;
	const char *cname, *addr, *gw;
	json_t *item;
	size_t i;
	int family;

	if (!ifaces || !out_routes)
		return cni_fail(e, CNI_ERR_IO, "I/O failure: out of memory\nresult");
	if (!json_is_object(res))
		return CNI_BAD_RESULT("missing");
	if (mtu && (!json_is_integer(mtu) || json_integer_value(mtu) < 68 ||
		    json_integer_value(mtu) > 65535))
		return CNI_BAD_RESULT("'mtu' is not 68..65535");
	cname = json_string_value(json_object_get(cont, "name"));
	if (cname && strcmp(cname, req->ifname) != 0)
		return CNI_BAD_RESULT("'container.name' is not CNI_IFNAME");

	item = cni_result_iface(req, bridge, json_string_value(json_object_get(bridge, "name")),
				NULL, mtu);
	if (json_array_append_new(ifaces, item) < 0)
		return CNI_BAD_RESULT("'bridge' is not {\"name\", \"mac\"}");
	item = cni_result_iface(req, host, json_string_value(json_object_get(host, "name")), NULL,
				mtu);
	if (json_array_append_new(ifaces, item) < 0)
		return CNI_BAD_RESULT("'host' is not {\"name\", \"mac\"}");
	/* ADD-07: only the container side has a sandbox: CNI_NETNS verbatim */
	item = cni_result_iface(req, cont, req->ifname, req->netns, mtu);
	if (json_array_append_new(ifaces, item) < 0)
		return CNI_BAD_RESULT("'container' is not {\"name\", \"mac\"}");

	ips = json_array();
	if (!ips)
		return cni_fail(e, CNI_ERR_IO, "I/O failure: out of memory\nresult");
	/* "ip", and on a dual-stack node "ip6": one ips[] entry each, both
	 * on the container interface (index 2). */
	for (int k = 0; k < 2; k++) {
		const json_t *one = k == 0 ? ip : json_object_get(res, "ip6");

		if (k == 1 && !one)
			break;
		addr = json_string_value(json_object_get(one, "address"));
		gw = json_string_value(json_object_get(one, "gateway"));
		family = addr ? cni_cidr_family(addr) : 0;
		if (!family)
			return k == 0 ? CNI_BAD_RESULT("'ip.address' is not an address/prefix")
				      : CNI_BAD_RESULT("'ip6.address' is not an address/prefix");
		if (json_object_get(one, "gateway") && (!gw || cni_ip_family(gw) != family))
			return k == 0
				       ? CNI_BAD_RESULT("'ip.gateway' is not an address of the same family")
				       : CNI_BAD_RESULT("'ip6.gateway' is not an address of the same family");
		json_decref(ipent);
		ipent = json_pack("{s:s}", "address", addr);
		/* 0.3.x and 0.4.0 results say the family; 1.0.0 dropped it */
		if (!ipent ||
		    (req->version_idx < 3 &&
		     json_object_set_new(ipent, "version",
					 json_string(family == AF_INET ? "4" : "6")) < 0) ||
		    (gw && json_object_set_new(ipent, "gateway", json_string(gw)) < 0) ||
		    json_object_set_new(ipent, "interface", json_integer(2)) < 0 ||
		    json_array_append(ips, ipent) < 0)
			return cni_fail(e, CNI_ERR_IO, "I/O failure: out of memory\nresult");
	}

	if (routes && !json_is_array(routes))
		return CNI_BAD_RESULT("'routes' is not a list");
	json_array_foreach(routes, i, item) {
		const char *dst = json_string_value(json_object_get(item, "dst"));
		const char *rgw = json_string_value(json_object_get(item, "gw"));
		json_t *rt;

		if (!dst || !cni_cidr_family(dst) ||
		    (json_object_get(item, "gw") && (!rgw || !cni_ip_family(rgw))))
			return CNI_BAD_RESULT(
				"has a route that is not {\"dst\": CIDR, \"gw\": IP}");
		rt = rgw ? json_pack("{s:s, s:s}", "dst", dst, "gw", rgw)
			 : json_pack("{s:s}", "dst", dst);
		if (json_array_append_new(out_routes, rt) < 0)
			return cni_fail(e, CNI_ERR_IO, "I/O failure: out of memory\nresult");
	}

	out = json_pack("{s:s, s:O, s:O, s:O, s:O}", "cniVersion", req->version, "interfaces",
			ifaces, "ips", ips, "routes", out_routes, "dns", req->dns);
	if (!out)
		return cni_fail(e, CNI_ERR_IO, "I/O failure: out of memory\nresult");
	*ret = TAKE_PTR(out);
	return 0;
}

/* ---- output ------------------------------------------------------------ */

/* json_string() that never fails on bytes that are not UTF-8: such bytes
 * are written as \xNN (env values may hold anything). */
static json_t *cni_json_text(const char *s)
{
	_cleanup_free_ char *esc = NULL;
	json_t *j = json_string(s);
	size_t n = 0;

	if (j)
		return j;
	esc = malloc(strlen(s) * 4 + 1);
	if (!esc)
		return NULL;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x80)
			esc[n++] = (char)c;
		else
			n += (size_t)sprintf(esc + n, "\\x%02x", c);
	}
	esc[n] = '\0';
	return json_string(esc);
}

static int cni_print(const json_t *obj)
{
	if (json_dumpf(obj, stdout, JSON_INDENT(4) | JSON_PRESERVE_ORDER) < 0 ||
	    fputc('\n', stdout) == EOF || fflush(stdout) == EOF) {
		fprintf(stderr, "roost: writing the reply to stdout: %s\n", strerror(errno));
		return -EIO;
	}
	return 0;
}

/* ERR-02: the error object, in the request's version when it is known. */
static void cni_err_print(const char *version, const struct cni_err *e)
{
	json_auto_t *obj =
		json_pack("{s:s, s:i, s:o}", "cniVersion", version ? version : CNI_VERSION_NEWEST,
			  "code", e->code, "msg", cni_json_text(e->msg));

	if (obj && e->details[0])
		json_object_set_new(obj, "details", cni_json_text(e->details));
	if (!obj) {
		fprintf(stderr, "roost: out of memory reporting error %d: %s\n", e->code, e->msg);
		return;
	}
	(void)cni_print(obj);
}

/* VER-01/02: the request's version when it is one of ours, else the newest. */
static int cni_version_print(const struct cni_req *req)
{
	json_auto_t *list = json_array(), *obj = NULL;

	for (size_t i = 0; list && i < ARRAY_SIZE(cni_versions); i++)
		json_array_append_new(list, json_string(cni_versions[i]));
	obj = json_pack("{s:s, s:O}", "cniVersion",
			req->version ? req->version : CNI_VERSION_NEWEST, "supportedVersions",
			list);
	return obj ? cni_print(obj) : -ENOMEM;
}

/* ---- main -------------------------------------------------------------- */

static void cni_req_done(struct cni_req *req)
{
	json_decref(req->conf);
	json_decref(req->dns);
	json_decref(req->prev);
	json_decref(req->valid);
}

static int cni_run(const char *command, struct cni_req *req, struct cni_err *e)
{
	_cleanup_free_ char *buf = NULL;
	json_auto_t *result = NULL, *out = NULL;
	struct cni_err stdin_err = {0};
	const char *v;
	size_t len = 0;
	int stdin_r, verb = -1, idx, r;

	/* stdin first, so that every error can carry the request's version */
	stdin_r = cni_stdin_read(&buf, &len, &stdin_err);
	if (stdin_r == 0)
		stdin_r = cni_conf_parse(buf, len, &req->conf, &stdin_err);
	v = json_string_value(json_object_get(req->conf, "cniVersion"));
	idx = v ? cni_version_find(v) : -1;
	if (idx >= 0) {
		req->version = cni_versions[idx];
		req->version_idx = (unsigned)idx;
	}

	for (size_t i = 0; i < ARRAY_SIZE(cni_verbs); i++)
		if (strcmp(command, cni_verbs[i].name) == 0)
			verb = (int)i;
	if (verb < 0)
		return cni_fail(
			e, CNI_ERR_ENV,
			"unknown CNI_COMMAND: %.100s\n"
			"CNI_COMMAND='%.100s' must be ADD, DEL, CHECK, VERSION, STATUS or GC",
			command, command);
	req->verb = (enum cni_verb)verb;
	if (req->verb == CNI_VERSION)
		return cni_version_print(req); /* needs nothing else (VER-01) */

	r = cni_env_check(req, e);
	if (r < 0)
		return r;
	if (stdin_r < 0) {
		*e = stdin_err;
		return stdin_r;
	}
	r = cni_conf_check(req, e);
	if (r < 0)
		return r;

	r = cni_agent_call(req, &result, e);
	if (r < 0)
		return r;
	if (req->verb != CNI_ADD)
		return 0; /* DEL, CHECK, STATUS, GC: silent success */
	r = cni_result_build(req, result, &out, e);
	if (r < 0)
		return r;
	return cni_print(out) < 0 ? -EIO : 0;
}

int main(void)
{
	const char *command = cni_env("CNI_COMMAND");
	struct cni_req req = {0};
	struct cni_err err = {0};
	int r;

	if (!command) {
		/* ENV-03: a person ran us by hand */
		fprintf(stderr,
			"roost CNI plugin " PACKAGE_VERSION
			": pod networking through the roostd node agent\n"
			"CNI protocol versions supported: 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0\n");
		return 0;
	}
	r = cni_run(command, &req, &err);
	if (r < 0 && err.code)
		cni_err_print(req.version, &err);
	cni_req_done(&req);
	return r < 0 ? 1 : 0;
}
