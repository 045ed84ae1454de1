/* SPDX-License-Identifier: MIT */
/*
 * test-kube.c - what roostd takes from the Kubernetes API: kubeconfig files
 * (as kubectl writes them) and the in-cluster configuration, always with a
 * verified TLS server; Node objects (podCIDRs, InternalIP, roost's labels
 * and annotations) and watch events, all untrusted: anything malformed is
 * an error that says what and where, never half used.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "etcd.h"
#include "kube.h"
#include "kubesvc.h"

static char dir[] = "/tmp/roost-test-kube.XXXXXX";

static const char *write_file(const char *name, const char *text)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

#define KCFG_HEAD                                                                                  \
	"apiVersion: v1\n"                                                                         \
	"kind: Config\n"                                                                           \
	"current-context: test\n"                                                                  \
	"contexts:\n"                                                                              \
	"- name: other\n"                                                                          \
	"  context: {cluster: nope, user: nope}\n"                                                 \
	"- name: test\n"                                                                           \
	"  context:\n"                                                                             \
	"    cluster: c1\n"                                                                        \
	"    user: u1\n"

static void test_kubeconfig_token(void **state)
{
	struct kube_conf k;
	char err[512] = "", want[600];
	const char *p = write_file("kc1", KCFG_HEAD "clusters:\n"
						    "- name: c1\n"
						    "  cluster:\n"
						    "    server: https://172.31.0.2:6443\n"
						    "    certificate-authority: pki/ca.crt\n"
						    "users:\n"
						    "- name: u1\n"
						    "  user:\n"
						    "    token: s3cr3t\n");

	assert_int_equal(kube_conf_load(p, NULL, &k, err, sizeof(err)), 0);
	assert_string_equal(k.server, "https://172.31.0.2:6443");
	/* relative to the kubeconfig's folder, as kubectl resolves it */
	snprintf(want, sizeof(want), "%s/pki/ca.crt", dir);
	assert_string_equal(k.ca_file, want);
	assert_string_equal(k.token, "s3cr3t");
	assert_string_equal(k.token_file, "");
	kube_conf_done(&k);
}

static void test_kubeconfig_data(void **state)
{
	struct kube_conf k;
	char err[512] = "", text[2048];
	char *ca = etcd_b64_encode("-----BEGIN CERTIFICATE-----\nCA\n", 31);
	char *crt = etcd_b64_encode("CERT", 4), *key = etcd_b64_encode("KEY", 3);

	snprintf(text, sizeof(text),
		 KCFG_HEAD "clusters:\n- name: c1\n  cluster:\n    server: \"https://[fd00::1]:6443\"\n"
			   "    certificate-authority-data: %s\n"
			   "users:\n- name: u1\n  user:\n    client-certificate-data: %s\n"
			   "    client-key-data: %s\n",
		 ca, crt, key);
	assert_int_equal(kube_conf_load(write_file("kc2", text), NULL, &k, err, sizeof(err)), 0);
	assert_string_equal(k.server, "https://[fd00::1]:6443");
	assert_string_equal(k.ca_pem, "-----BEGIN CERTIFICATE-----\nCA\n");
	assert_string_equal(k.cert_pem, "CERT");
	assert_string_equal(k.key_pem, "KEY");
	kube_conf_done(&k);
	free(ca);
	free(crt);
	free(key);
}

static void refused(const char *name, const char *text, const char *says)
{
	struct kube_conf k;
	char err[512] = "";

	assert_int_equal(kube_conf_load(write_file(name, text), NULL, &k, err, sizeof(err)),
			 -EINVAL);
	if (!strstr(err, says))
		fail_msg("%s: error '%s' does not say '%s'", name, err, says);
	if (!strstr(err, name))
		fail_msg("%s: error '%s' does not name the file", name, err);
}

#define CLUSTER_OK "clusters:\n- name: c1\n  cluster: {server: \"https://h:6443\", certificate-authority: /ca}\n"
#define USER_OK "users:\n- name: u1\n  user: {token: t}\n"

static void test_kubeconfig_refused(void **state)
{
	refused("insecure",
		KCFG_HEAD "clusters:\n- name: c1\n  cluster: {server: \"https://h:6443\", "
			  "insecure-skip-tls-verify: true}\n" USER_OK,
		"insecure-skip-tls-verify");
	refused("plain-http",
		KCFG_HEAD "clusters:\n- name: c1\n  cluster: {server: \"http://h:8080\", "
			  "certificate-authority: /ca}\n" USER_OK,
		"not an https:// URL");
	refused("no-ca", KCFG_HEAD "clusters:\n- name: c1\n  cluster: {server: \"https://h:6443\"}\n" USER_OK,
		"no certificate authority");
	refused("exec",
		KCFG_HEAD CLUSTER_OK "users:\n- name: u1\n  user:\n    exec: {command: aws}\n",
		"exec or auth-provider");
	refused("no-creds", KCFG_HEAD CLUSTER_OK "users:\n- name: u1\n  user: {}\n",
		"no credentials");
	refused("cert-no-key",
		KCFG_HEAD CLUSTER_OK "users:\n- name: u1\n  user: {client-certificate: /c}\n",
		"without its key");
	refused("no-user", KCFG_HEAD CLUSTER_OK, "user 'u1' (of context 'test') is missing");
	refused("no-context", "current-context: gone\n" CLUSTER_OK USER_OK,
		"context 'gone' is missing");
	refused("no-current", CLUSTER_OK USER_OK, "no current-context");
	refused("bad-b64",
		KCFG_HEAD "clusters:\n- name: c1\n  cluster: {server: \"https://h:6443\", "
			  "certificate-authority-data: \"%%%%\"}\n" USER_OK,
		"certificate-authority-data of 'c1' is not base64");
	refused("not-yaml", "current-context: [\n  - {\n", "not YAML");
}

static void test_in_cluster(void **state)
{
	struct kube_conf k;
	char err[512] = "", sa[600], want[700];

	snprintf(sa, sizeof(sa), "%s/sa", dir);
	mkdir(sa, 0700);
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	assert_int_equal(kube_conf_load("", sa, &k, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "KUBERNETES_SERVICE_HOST"));

	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	assert_int_equal(kube_conf_load("", sa, &k, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "service account token"));

	write_file("sa/token", "eyJ...\n");
	write_file("sa/ca.crt", "-----BEGIN CERTIFICATE-----\n");
	assert_int_equal(kube_conf_load(NULL, sa, &k, err, sizeof(err)), 0);
	assert_string_equal(k.server, "https://10.96.0.1:443");
	snprintf(want, sizeof(want), "%s/token", sa);
	assert_string_equal(k.token_file, want); /* re-read on rotation, never cached */
	snprintf(want, sizeof(want), "%s/ca.crt", sa);
	assert_string_equal(k.ca_file, want);
	kube_conf_done(&k);

	setenv("KUBERNETES_SERVICE_HOST", "fd00:10:96::1", 1);
	assert_int_equal(kube_conf_load(NULL, sa, &k, err, sizeof(err)), 0);
	assert_string_equal(k.server, "https://[fd00:10:96::1]:443");
	kube_conf_done(&k);
}

/* ---- Node objects ---- */

static int node(const char *text, struct kube_node *n, char *why)
{
	json_error_t jerr;
	json_t *o = json_loads(text, 0, &jerr);
	int r;

	if (!o)
		fail_msg("test bug: %s", jerr.text);
	r = kube_node_parse(o, n, why, 256);
	json_decref(o);
	return r;
}

static void test_node(void **state)
{
	struct kube_node n;
	char why[256] = "", a[INET_ADDRSTRLEN];

	assert_int_equal(
		node("{\"metadata\":{\"name\":\"node2\",\"resourceVersion\":\"42\","
		     "\"labels\":{\"roost.io/route-reflector\":\"true\"},"
		     "\"annotations\":{\"roost.io/asn\":\"64513\","
		     "\"roost.io/route-reflector-cluster-id\":\"1.0.0.1\"}},"
		     "\"spec\":{\"podCIDR\":\"fd00:10:244:2::/64\","
		     "\"podCIDRs\":[\"fd00:10:244:2::/64\",\"10.244.2.0/24\"]},"
		     "\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"fd00::12\"},"
		     "{\"type\":\"Hostname\",\"address\":\"node2\"},"
		     "{\"type\":\"InternalIP\",\"address\":\"172.31.0.12\"}]}}",
		     &n, why),
		0);
	assert_string_equal(n.name, "node2");
	assert_string_equal(n.resource_version, "42");
	assert_string_equal(inet_ntop(AF_INET, &n.net, a, sizeof(a)), "10.244.2.0");
	assert_int_equal(n.len, 24);
	assert_string_equal(inet_ntop(AF_INET, &n.address, a, sizeof(a)), "172.31.0.12");
	assert_int_equal(n.asn, 64513);
	assert_true(n.reflector);
	assert_string_equal(inet_ntop(AF_INET, &n.cluster_id, a, sizeof(a)), "1.0.0.1");
	/* dual-stack: one podCIDR and one InternalIP of each family */
	{
		char b[INET6_ADDRSTRLEN];

		assert_int_equal(n.len6, 64);
		assert_string_equal(inet_ntop(AF_INET6, &n.net6, b, sizeof(b)), "fd00:10:244:2::");
		assert_string_equal(inet_ntop(AF_INET6, &n.address6, b, sizeof(b)), "fd00::12");
		/* an IPv6-only Node: podCIDR (and podCIDRs) IPv6, InternalIP IPv6 */
		assert_int_equal(node("{\"metadata\":{\"name\":\"n6\"},\"spec\":{\"podCIDR\":\"fd00:20:244:4::/64\"},"
				      "\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"fd00:172:31::14\"}]}}",
				      &n, why),
				 0);
		assert_int_equal(n.len, 0);
		assert_int_equal(n.address.s_addr, 0);
		assert_int_equal(n.len6, 64);
		assert_string_equal(inet_ntop(AF_INET6, &n.net6, b, sizeof(b)), "fd00:20:244:4::");
		assert_string_equal(inet_ntop(AF_INET6, &n.address6, b, sizeof(b)), "fd00:172:31::14");
	}

	/* older clusters: spec.podCIDR only; a node the controller has not
	 * given a subnet yet parses with len 0 */
	assert_int_equal(node("{\"metadata\":{\"name\":\"n3\"},\"spec\":{\"podCIDR\":\"10.244.3.0/24\"}}",
			      &n, why),
			 0);
	assert_int_equal(n.len, 24);
	assert_int_equal(n.address.s_addr, 0);
	assert_int_equal(node("{\"metadata\":{\"name\":\"n4\"},\"spec\":{}}", &n, why), 0);
	assert_int_equal(n.len, 0);
	assert_false(n.reflector);
	assert_int_equal(n.asn, 0);
}

/* Node names are DNS subdomain names, often a host's FQDN: roost derives
 * a usable node name (BIRD protocol names), stable and distinct. */
static void test_node_names(void **state)
{
	struct kube_node n;
	char why[256] = "", a[BC_NAME_MAX + 1], b[BC_NAME_MAX + 1], big[300];
	const char *eks = "ip-172-31-0-17.eu-west-1.compute.internal";

	assert_int_equal(node("{\"metadata\":{\"name\":\"ip-172-31-0-17.eu-west-1.compute.internal\"}}",
			      &n, why),
			 0);
	assert_string_equal(n.node_name, eks);
	assert_true(bc_name_ok(n.name));
	assert_int_equal(strlen(n.name), BC_NAME_MAX);
	assert_string_equal(n.name, "ip-172-31-0-17-eu-west-1-comput-de2765ba");
	bc_name_from(eks, a);
	assert_string_equal(a, n.name); /* stable */
	bc_name_from("ip-172-31-0-18.eu-west-1.compute.internal", b);
	assert_string_not_equal(a, b); /* the same first 31 characters, another hash */
	bc_name_from("a.b", a);
	bc_name_from("a-b", b);
	assert_string_equal(b, "a-b"); /* usable names stay as they are */
	assert_string_not_equal(a, b);
	assert_true(bc_name_ok(a));

	assert_true(bc_dns_name_ok("node1"));
	assert_true(bc_dns_name_ok("a.b-c.d9"));
	assert_false(bc_dns_name_ok(""));
	assert_false(bc_dns_name_ok("Node1"));
	assert_false(bc_dns_name_ok("-a"));
	assert_false(bc_dns_name_ok("a-.b"));
	assert_false(bc_dns_name_ok("a..b"));
	assert_false(bc_dns_name_ok("a.b."));
	assert_false(bc_dns_name_ok("a_b"));
	memset(big, 'a', 64);
	big[64] = '\0';
	assert_false(bc_dns_name_ok(big)); /* a label of 64 */
	for (int i = 0; i < 254; i++)
		big[i] = i % 2 ? '.' : 'a';
	big[253] = '\0'; /* 253 characters: "a.a. ... .a" */
	assert_true(bc_dns_name_ok(big));
	big[253] = 'a';
	big[254] = '\0';
	assert_false(bc_dns_name_ok(big));
}

static void node_refused(const char *text, const char *says)
{
	struct kube_node n;
	char why[256] = "";

	assert_int_equal(node(text, &n, why), -EINVAL);
	if (!strstr(why, says))
		fail_msg("'%s': error '%s' does not say '%s'", text, why, says);
}

static void test_node_refused(void **state)
{
	node_refused("{\"spec\":{}}", "metadata.name");
	node_refused("{\"metadata\":{\"name\":\"bad name!\"}}", "not a DNS subdomain name");
	node_refused("{\"metadata\":{\"name\":\"n\"},\"spec\":{\"podCIDRs\":[\"10.244.2.1/24\"]}}",
		     "not an IPv4 subnet");
	node_refused("{\"metadata\":{\"name\":\"n\"},\"spec\":{\"podCIDRs\":[\"10.244.2.0/24\",\"10.244.3.0/24\"]}}",
		     "two IPv4 subnets");
	node_refused("{\"metadata\":{\"name\":\"n\"},\"spec\":{\"podCIDRs\":[7]}}", "not a string");
	node_refused("{\"metadata\":{\"name\":\"n\"},\"spec\":{\"podCIDRs\":[\"fd00::/64\",\"fd01::/64\"]}}",
		     "two IPv6 subnets");
	node_refused("{\"metadata\":{\"name\":\"n\"},\"spec\":{\"podCIDRs\":[\"10.244.2.0/24\",\"fd00::1/64\"]}}",
		     "not an IPv6 subnet");
	node_refused("{\"metadata\":{\"name\":\"n\"},\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"fd00::g\"}]}}",
		     "InternalIP 'fd00::g' is not an IPv6 address");
	node_refused("{\"metadata\":{\"name\":\"n\"},\"spec\":{\"podCIDR\":\"10.244.2.0/33\"}}",
		     "not an IPv4 subnet");
	node_refused("{\"metadata\":{\"name\":\"n\"},\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"300.1.1.1\"}]}}",
		     "InternalIP '300.1.1.1'");
	node_refused("{\"metadata\":{\"name\":\"n\",\"annotations\":{\"roost.io/asn\":\"4294967296\"}}}",
		     "roost.io/asn");
	node_refused("{\"metadata\":{\"name\":\"n\",\"annotations\":{\"roost.io/asn\":\"23456\"}}}",
		     "roost.io/asn");
	node_refused("{\"metadata\":{\"name\":\"n\",\"annotations\":{\"roost.io/asn\":\"-1\"}}}",
		     "roost.io/asn");
	node_refused("{\"metadata\":{\"name\":\"n\",\"labels\":{\"roost.io/route-reflector\":\"yes\"}}}",
		     "route-reflector 'yes'");
	node_refused("{\"metadata\":{\"name\":\"n\",\"annotations\":{\"roost.io/route-reflector-cluster-id\":\"x\"}}}",
		     "cluster-id");
}

/* ---- watch events ---- */

static void test_events(void **state)
{
	struct kube_event ev;
	char why[256];
	json_t *root;
	const char *added = "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Node\",\"metadata\":{\"name\":\"n1\",\"resourceVersion\":\"7\"}}}";
	const char *bm = "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Node\",\"metadata\":{\"resourceVersion\":\"12\"}}}";
	const char *gone = "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,\"reason\":\"Expired\",\"message\":\"too old resource version: 3 (9)\"}}";

	assert_int_equal(kube_event_parse(added, strlen(added), &root, &ev, why, sizeof(why)), 0);
	assert_int_equal(ev.type, KUBE_ADDED);
	assert_string_equal(ev.resource_version, "7");
	assert_string_equal(json_string_value(json_object_get(json_object_get(ev.object, "metadata"), "name")), "n1");
	json_decref(root);

	assert_int_equal(kube_event_parse(bm, strlen(bm), &root, &ev, why, sizeof(why)), 0);
	assert_int_equal(ev.type, KUBE_BOOKMARK);
	assert_string_equal(ev.resource_version, "12");
	json_decref(root);

	assert_int_equal(kube_event_parse(gone, strlen(gone), &root, &ev, why, sizeof(why)), 0);
	assert_int_equal(ev.type, KUBE_ERROR);
	assert_int_equal(ev.code, 410);
	assert_string_equal(ev.message, "too old resource version: 3 (9)");
	json_decref(root);

	assert_int_equal(kube_event_parse("{\"type\":", 8, &root, &ev, why, sizeof(why)), -EINVAL);
	assert_null(root);
	assert_non_null(strstr(why, "not JSON"));
	assert_int_equal(kube_event_parse("{\"type\":\"FROB\",\"object\":{}}", 27, &root, &ev, why,
					  sizeof(why)),
			 -EINVAL);
	assert_null(root);
	assert_int_equal(kube_event_parse("{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{}}}", 44,
					  &root, &ev, why, sizeof(why)),
			 -EINVAL);
	assert_non_null(strstr(why, "resourceVersion"));
	assert_null(root);
}

static int setup(void **state)
{
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- Services and EndpointSlices (bgp.services) ------------------------------------ */

static char reported[8][256];
static int n_reported;

static void report(void *arg, const char *key, const char *why)
{
	(void)arg;
	if (n_reported < 8)
		snprintf(reported[n_reported++], sizeof(reported[0]), "%s: %s", key, why);
}

static json_t *jparse(const char *text)
{
	json_error_t e;
	json_t *o = json_loads(text, 0, &e);

	assert_non_null(o);
	return o;
}

static const char *ip4(struct in_addr a)
{
	static char b[INET_ADDRSTRLEN];

	return inet_ntop(AF_INET, &a, b, sizeof(b));
}

static void test_service(void **state)
{
	struct kube_service s;
	char why[256] = "";
	json_t *o = jparse(
		"{\"metadata\":{\"namespace\":\"shop\",\"name\":\"web\"},"
		"\"spec\":{\"type\":\"LoadBalancer\",\"externalTrafficPolicy\":\"Local\","
		"\"externalIPs\":[\"198.51.100.7\",\"nope\",\"2001:db8::1\",7,\"198.51.100.7\"]},"
		"\"status\":{\"loadBalancer\":{\"ingress\":[{\"ip\":\"198.51.100.10\"},"
		"{\"hostname\":\"lb.example.com\"},{\"ip\":\"1.2.3.4.5\"}]}}}");

	(void)state;
	n_reported = 0;
	assert_int_equal(kube_service_parse(o, &s, report, NULL, why, sizeof(why)), 0);
	assert_string_equal(s.key, "shop/web");
	assert_true(s.load_balancer);
	assert_true(s.local);
	assert_int_equal(s.n_ext, 1); /* the repeat is dropped, silently */
	assert_string_equal(ip4(s.ext[0]), "198.51.100.7");
	assert_int_equal(s.n_lb, 1); /* a hostname-only ingress has nothing to route */
	assert_string_equal(ip4(s.lb[0]), "198.51.100.10");
	assert_int_equal(n_reported, 4);
	assert_string_equal(reported[0], "shop/web: spec.externalIPs[1] 'nope' is not an IPv4 address; skipped");
	assert_string_equal(reported[1], "shop/web: spec.externalIPs[2] '2001:db8::1' is IPv6; not announced (IPv4 only)");
	assert_string_equal(reported[2], "shop/web: spec.externalIPs[3] is not a string; skipped");
	assert_non_null(strstr(reported[3], "'1.2.3.4.5' is not an IPv4 address"));
	json_decref(o);

	/* A ClusterIP Service's status is not read; no namespace: refused. */
	o = jparse("{\"metadata\":{\"namespace\":\"a\",\"name\":\"b\"},\"spec\":{},"
		   "\"status\":{\"loadBalancer\":{\"ingress\":[{\"ip\":\"198.51.100.10\"}]}}}");
	assert_int_equal(kube_service_parse(o, &s, report, NULL, why, sizeof(why)), 0);
	assert_false(s.load_balancer);
	assert_false(s.local);
	assert_int_equal(s.n_lb, 0);
	json_decref(o);
	o = jparse("{\"metadata\":{\"name\":\"b\"}}");
	assert_int_equal(kube_service_parse(o, &s, report, NULL, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "not a Service with metadata.namespace and metadata.name");
	json_decref(o);
}

static void test_slice(void **state)
{
	struct kube_slice l;
	char why[256] = "";
	json_t *o = jparse(
		"{\"metadata\":{\"namespace\":\"shop\",\"name\":\"web-x1\","
		"\"labels\":{\"kubernetes.io/service-name\":\"web\"}},"
		"\"endpoints\":[{\"nodeName\":\"node1\",\"conditions\":{\"ready\":false}},"
		"{\"nodeName\":\"node2\"},{\"nodeName\":\"node3\",\"conditions\":{\"ready\":true}}]}");

	(void)state;
	assert_int_equal(kube_slice_parse(o, "node1", &l, why, sizeof(why)), 0);
	assert_string_equal(l.key, "shop/web-x1");
	assert_string_equal(l.service, "shop/web");
	assert_false(l.ready_here); /* ready: false */
	assert_int_equal(kube_slice_parse(o, "node2", &l, why, sizeof(why)), 0);
	assert_true(l.ready_here); /* ready unset: ready, as the API reference says */
	assert_int_equal(kube_slice_parse(o, "node3", &l, why, sizeof(why)), 0);
	assert_true(l.ready_here);
	assert_int_equal(kube_slice_parse(o, "node4", &l, why, sizeof(why)), 0);
	assert_false(l.ready_here);
	json_decref(o);
}

static void test_svc_addrs(void **state)
{
	struct kube_service s[3] = {0};
	struct kube_slice l[2] = {0};
	struct svc_addr *a = NULL;
	int n;

	(void)state;
	/* a: LoadBalancer, policy Cluster, 198.51.100.20 and externalIP .5 */
	snprintf(s[0].key, sizeof(s[0].key), "default/a");
	s[0].load_balancer = true;
	inet_pton(AF_INET, "198.51.100.20", &s[0].lb[s[0].n_lb++]);
	inet_pton(AF_INET, "198.51.100.5", &s[0].ext[s[0].n_ext++]);
	/* b: policy Local, its endpoint ready on another node only */
	snprintf(s[1].key, sizeof(s[1].key), "default/b");
	s[1].load_balancer = s[1].local = true;
	inet_pton(AF_INET, "198.51.100.30", &s[1].lb[s[1].n_lb++]);
	snprintf(l[0].service, sizeof(l[0].service), "default/b");
	/* c: policy Local, ready here; its externalIP repeats a's ingress IP */
	snprintf(s[2].key, sizeof(s[2].key), "default/c");
	s[2].load_balancer = s[2].local = true;
	inet_pton(AF_INET, "198.51.100.40", &s[2].lb[s[2].n_lb++]);
	inet_pton(AF_INET, "198.51.100.20", &s[2].ext[s[2].n_ext++]);
	snprintf(l[1].service, sizeof(l[1].service), "default/c");
	l[1].ready_here = true;

	n = kube_svc_addrs(s, 3, l, 2, &a);
	assert_int_equal(n, 3);
	assert_string_equal(ip4(a[0].addr), "198.51.100.5");
	assert_int_equal(a[0].kinds, KSVC_EXTERNAL);
	assert_string_equal(a[0].why, "service default/a externalIP");
	assert_string_equal(ip4(a[1].addr), "198.51.100.20");
	assert_int_equal(a[1].kinds, KSVC_LB | KSVC_EXTERNAL);
	assert_string_equal(a[1].why, "service default/a LoadBalancer ingress");
	assert_string_equal(ip4(a[2].addr), "198.51.100.40");
	assert_string_equal(a[2].why,
			    "service default/c LoadBalancer ingress, externalTrafficPolicy Local: a ready endpoint on this node");
	free(a);

	/* the endpoint of b becomes ready here: .30 joins */
	l[0].ready_here = true;
	n = kube_svc_addrs(s, 3, l, 2, &a);
	assert_int_equal(n, 4);
	assert_string_equal(ip4(a[2].addr), "198.51.100.30");
	free(a);
	n = kube_svc_addrs(NULL, 0, NULL, 0, &a);
	assert_int_equal(n, 0);
	free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kubeconfig_token),  cmocka_unit_test(test_kubeconfig_data),
		cmocka_unit_test(test_kubeconfig_refused), cmocka_unit_test(test_in_cluster),
		cmocka_unit_test(test_node),		  cmocka_unit_test(test_node_refused),
		cmocka_unit_test(test_node_names),
		cmocka_unit_test(test_events),		  cmocka_unit_test(test_service),
		cmocka_unit_test(test_slice),		  cmocka_unit_test(test_svc_addrs),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
