/* SPDX-License-Identifier: MIT */
/*
 * test-datastore.c - flannel's formats as roost reads and writes them: the
 * network config (defaults of SubnetMin/SubnetMax as flannel computes
 * them), leases written by flannel and by roost, subnet.env, and the etcd
 * gateway's base64 and watch stream (frames captured from etcd 3.4, and
 * malformed, partial and huge ones). The etcd round trips themselves run against a real
 * etcd in tests/integ/etcd.sh.
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

#include <cmocka.h>

#include "datastore.h"
#include "etcd.h"

static const char *ip(struct in_addr a, char buf[static INET_ADDRSTRLEN])
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static void test_config_defaults(void **state)
{
	struct in_addr net, min, max;
	unsigned len, slen;
	char err[256], a[INET_ADDRSTRLEN];

	(void)state;
	assert_int_equal(ds_parse_config("{\"Network\":\"10.244.0.0/16\",\"Backend\":{\"Type\":\"host-gw\"}}",
					 &net, &len, &slen, &min, &max, err, sizeof(err)),
			 0);
	assert_string_equal(ip(net, a), "10.244.0.0");
	assert_int_equal(len, 16);
	assert_int_equal(slen, 24);
	/* flannel: from the second subnet to the last one */
	assert_string_equal(ip(min, a), "10.244.1.0");
	assert_string_equal(ip(max, a), "10.244.255.0");

	assert_int_equal(ds_parse_config("{\"Network\":\"10.0.0.0/8\",\"SubnetLen\":20,"
					 "\"SubnetMin\":\"10.1.0.0\",\"SubnetMax\":\"10.2.0.0\"}",
					 &net, &len, &slen, &min, &max, err, sizeof(err)),
			 0);
	assert_int_equal(slen, 20);
	assert_string_equal(ip(min, a), "10.1.0.0");
	assert_string_equal(ip(max, a), "10.2.0.0");
}

static void test_config_errors(void **state)
{
	static const struct {
		const char *json, *msg;
	} cases[] = {
		{"not json", "not a JSON object"},
		{"{}", "Network is missing"},
		{"{\"Network\":\"10.244.0.1/16\"}", "Network is missing or not an IPv4 CIDR"},
		{"{\"Network\":\"10.244.0.0/16\",\"SubnetLen\":8}", "do not fit"},
		{"{\"Network\":\"10.244.0.0/16\",\"SubnetLen\":\"24\"}", "SubnetLen is not a number"},
		{"{\"Network\":\"10.244.0.0/16\",\"SubnetMin\":\"x\"}", "SubnetMin is not"},
		{"{\"Network\":\"10.244.0.0/16\",\"SubnetMin\":\"10.244.9.0\",\"SubnetMax\":\"10.244.2.0\"}",
		 "above SubnetMax"},
	};
	struct in_addr net, min, max;
	unsigned len, slen;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		assert_int_equal(ds_parse_config(cases[i].json, &net, &len, &slen, &min, &max, err,
						 sizeof(err)),
				 -EINVAL);
		if (!strstr(err, cases[i].msg))
			fail_msg("case %zu: '%s' does not say '%s'", i, err, cases[i].msg);
	}
}

static void test_leases(void **state)
{
	struct ds_peer p;
	char a[INET_ADDRSTRLEN];

	(void)state;
	/* exactly what flannel host-gw writes */
	assert_int_equal(ds_parse_lease("10.244.7.0-24",
					"{\"PublicIP\":\"172.31.0.60\",\"PublicIPv6\":null,"
					"\"BackendType\":\"host-gw\",\"BackendData\":null}",
					&p),
			 0);
	assert_false(p.roost);
	assert_string_equal(ip(p.net, a), "10.244.7.0");
	assert_int_equal(p.len, 24);
	assert_string_equal(ip(p.address, a), "172.31.0.60");
	/* what roost writes */
	assert_int_equal(ds_parse_lease("10.244.8.0-24",
					"{\"PublicIP\":\"172.31.0.12\",\"BackendType\":\"host-gw\","
					"\"BackendData\":{\"roost\":{\"name\":\"node2\"}}}",
					&p),
			 0);
	assert_true(p.roost);
	assert_string_equal(p.name, "node2");
	/* an overlay node cannot be routed to */
	assert_int_equal(ds_parse_lease("10.244.9.0-24",
					"{\"PublicIP\":\"172.31.0.13\",\"BackendType\":\"vxlan\","
					"\"BackendData\":{\"VNI\":1,\"VtepMAC\":\"aa:bb:cc:dd:ee:ff\"}}",
					&p),
			 -ENOTSUP);
	/* broken keys and values, a name that is not a BIRD-safe node name */
	assert_int_equal(ds_parse_lease("10.244.9.0", "{\"PublicIP\":\"1.2.3.4\"}", &p), -EINVAL);
	assert_int_equal(ds_parse_lease("10.244.9.1-24", "{\"PublicIP\":\"1.2.3.4\"}", &p), -EINVAL);
	assert_int_equal(ds_parse_lease("10.244.9.0-24", "{\"PublicIP\":\"x\"}", &p), -EINVAL);
	assert_int_equal(ds_parse_lease("10.244.9.0-24",
					"{\"PublicIP\":\"1.2.3.4\",\"BackendType\":\"host-gw\","
					"\"BackendData\":{\"roost\":{\"name\":\"n\\\"; }\"}}}",
					&p),
			 -EINVAL);
}

static void test_subnet_env(void **state)
{
	struct in_addr cl, net;
	char buf[512];

	(void)state;
	inet_pton(AF_INET, "10.244.0.0", &cl);
	inet_pton(AF_INET, "10.244.3.0", &net);
	assert_true(ds_subnet_env_format(buf, sizeof(buf), cl, 16, net, 24, 1500, false) > 0);
	assert_string_equal(buf, "FLANNEL_NETWORK=10.244.0.0/16\n"
				 "FLANNEL_SUBNET=10.244.3.1/24\n"
				 "FLANNEL_MTU=1500\n"
				 "FLANNEL_IPMASQ=false\n");
	/* egress.masquerade on: flannel's CNI plugin must not masquerade again */
	assert_true(ds_subnet_env_format(buf, sizeof(buf), cl, 16, net, 24, 9000, true) > 0);
	assert_string_equal(buf, "FLANNEL_NETWORK=10.244.0.0/16\n"
				 "FLANNEL_SUBNET=10.244.3.1/24\n"
				 "FLANNEL_MTU=9000\n"
				 "FLANNEL_IPMASQ=true\n");
	assert_int_equal(ds_subnet_env_format(buf, 10, cl, 16, net, 24, 1500, true), -ENOSPC);
}

static void test_base64(void **state)
{
	static const char *const in[] = {"", "f", "fo", "foo", "/coreos.com/network/config"};
	char *enc, *dec;
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		enc = etcd_b64_encode(in[i], strlen(in[i]));
		dec = etcd_b64_decode(enc, &n);
		assert_non_null(dec);
		assert_int_equal(n, strlen(in[i]));
		assert_string_equal(dec, in[i]);
		free(enc);
		free(dec);
	}
	enc = etcd_b64_encode("foob", 4);
	assert_string_equal(enc, "Zm9vYg==");
	free(enc);
	assert_null(etcd_b64_decode("Zm9", NULL));
	assert_null(etcd_b64_decode("Zm=v", NULL));
	assert_null(etcd_b64_decode("Z!9v", NULL));
}

static struct ds_peer lease(const char *key, const char *public_ip, const char *name)
{
	char value[256];
	struct ds_peer p;

	if (name)
		snprintf(value, sizeof(value),
			 "{\"PublicIP\":\"%s\",\"BackendType\":\"host-gw\",\"BackendData\":{\"roost\":{\"name\":\"%s\"}}}",
			 public_ip, name);
	else
		snprintf(value, sizeof(value), "{\"PublicIP\":\"%s\",\"BackendType\":\"host-gw\"}",
			 public_ip);
	assert_int_equal(ds_parse_lease(key, value, &p), 0);
	assert_string_equal(p.key, key);
	return p;
}

static char reported[16][160];
static size_t n_reported;

static void report(void *arg, const char *key, const char *why)
{
	(void)arg;
	snprintf(reported[n_reported++ % 16], sizeof(reported[0]), "%s: %s", key, why);
}

/* Leases are untrusted: each unfit one is dropped and reported by key. */
static void test_lease_checks(void **state)
{
	struct in_addr cl, self;
	struct ds_peer v[12];
	size_t n = 0, m;

	(void)state;
	inet_pton(AF_INET, "10.244.0.0", &cl);
	inet_pton(AF_INET, "172.31.0.11", &self);
	v[n++] = lease("10.244.2.0-24", "172.31.0.12", "node2");   /* fit */
	v[n++] = lease("8.8.8.0-24", "172.31.0.70", NULL);         /* outside Network */
	v[n++] = lease("10.244.3.0-25", "172.31.0.71", NULL);      /* not SubnetLen */
	v[n++] = lease("10.244.4.0-24", "0.0.0.0", NULL);          /* unusable PublicIP */
	v[n++] = lease("10.244.5.0-24", "127.0.0.1", NULL);        /* loopback */
	v[n++] = lease("10.244.6.0-24", "224.0.0.5", NULL);        /* multicast */
	v[n++] = lease("10.244.7.0-24", "10.244.9.9", NULL);       /* inside the pod network */
	v[n++] = lease("10.244.8.0-24", "172.31.0.11", "node9");   /* this node's address */
	v[n++] = lease("10.244.10.0-24", "172.31.0.12", "node10"); /* node2's address again */
	v[n++] = lease("10.244.11.0-24", "172.31.0.73", "node2");  /* node2's name again */
	v[n++] = lease("10.244.12.0-24", "172.31.0.60", NULL);     /* fit: flannel */
	n_reported = 0;
	m = ds_leases_filter(v, n, &(struct ds_check){.cluster = cl, .cluster_len = 16,
						      .subnet_len = 24, .self = self},
			     report, NULL);
	assert_int_equal(m, 2);
	assert_string_equal(v[0].key, "10.244.2.0-24");
	assert_string_equal(v[1].key, "10.244.12.0-24");
	assert_int_equal(n_reported, 9);
	assert_string_equal(reported[0], "8.8.8.0-24: its subnet is outside the network's Network");
	assert_string_equal(reported[1], "10.244.3.0-25: its subnet is not of the network's SubnetLen");
	assert_string_equal(reported[2], "10.244.4.0-24: its PublicIP is not a usable unicast address");
	assert_string_equal(reported[3], "10.244.5.0-24: its PublicIP is not a usable unicast address");
	assert_string_equal(reported[4], "10.244.6.0-24: its PublicIP is not a usable unicast address");
	assert_string_equal(reported[5], "10.244.7.0-24: its PublicIP is inside the pod network");
	assert_string_equal(reported[6], "10.244.8.0-24: its PublicIP is this node's address");
	assert_string_equal(reported[7], "10.244.10.0-24: its PublicIP is another lease's");
	assert_string_equal(reported[8], "10.244.11.0-24: its node name is another lease's");
}


/* ---- IPv6 (flannel's EnableIPv6) ------------------------------------------------------ */

static const char *ip6(const struct in6_addr *a, char buf[static INET6_ADDRSTRLEN])
{
	return inet_ntop(AF_INET6, a, buf, INET6_ADDRSTRLEN);
}

static void test_config6(void **state)
{
	struct ds_config6 c6;
	struct in6_addr a;
	char err[256], b[INET6_ADDRSTRLEN];

	(void)state;
	/* flannel's defaults: IPv4 on, IPv6 off */
	assert_int_equal(ds_parse_config6("{\"Network\":\"10.244.0.0/16\"}", &c6, err, sizeof(err)), 0);
	assert_true(c6.v4);
	assert_false(c6.v6);
	/* IPv6SubnetLen 64 by default; from the second subnet to the last */
	assert_int_equal(ds_parse_config6("{\"Network\":\"10.244.0.0/16\",\"EnableIPv6\":true,"
					  "\"IPv6Network\":\"fd00:10:244::/48\"}",
					  &c6, err, sizeof(err)),
			 0);
	assert_true(c6.v4 && c6.v6);
	assert_string_equal(ip6(&c6.net, b), "fd00:10:244::");
	assert_int_equal(c6.len, 48);
	assert_int_equal(c6.subnet_len, 64);
	assert_int_equal(c6.min, 1);
	assert_int_equal(c6.max, 65535);
	ds_subnet6_nth(&c6.net, c6.subnet_len, 5, &a);
	assert_string_equal(ip6(&a, b), "fd00:10:244:5::");
	/* a network longer than /62: the length + 2 */
	assert_int_equal(ds_parse_config6("{\"EnableIPv4\":false,\"EnableIPv6\":true,"
					  "\"IPv6Network\":\"fd00::/100\",\"IPv6SubnetMin\":\"fd00::800:0\","
					  "\"IPv6SubnetMax\":\"fd00::c00:0\"}",
					  &c6, err, sizeof(err)),
			 0);
	assert_false(c6.v4);
	assert_int_equal(c6.subnet_len, 102);
	assert_int_equal(c6.min, 2);
	assert_int_equal(c6.max, 3);
	ds_subnet6_nth(&c6.net, c6.subnet_len, 3, &a);
	assert_string_equal(ip6(&a, b), "fd00::c00:0");
	/* not on a subnet boundary */
	assert_int_equal(ds_parse_config6("{\"EnableIPv6\":true,\"IPv6Network\":\"fd00::/100\",\"IPv6SubnetMin\":\"fd00::200:0\"}",
					  &c6, err, sizeof(err)),
			 -EINVAL);
	/* errors */
	assert_int_equal(ds_parse_config6("{\"EnableIPv6\":true}", &c6, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "config: IPv6Network is missing or not an IPv6 CIDR (/8../124)");
	assert_int_equal(ds_parse_config6("{\"EnableIPv6\":true,\"IPv6Network\":\"fd00::/48\","
					  "\"IPv6SubnetLen\":49}",
					  &c6, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(ds_parse_config6("{\"EnableIPv6\":true,\"IPv6Network\":\"fd00::1/48\"}", &c6,
					  err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(ds_parse_config6("{\"EnableIPv4\":false}", &c6, err, sizeof(err)), -EINVAL);
	assert_int_equal(ds_parse_config6("{\"EnableIPv6\":\"yes\"}", &c6, err, sizeof(err)), -EINVAL);
}

static struct ds_peer lease6(const char *key, const char *public_ip, const char *public_ip6,
			     const char *name)
{
	char value[512], pub6[64] = "null";
	struct ds_peer p;

	if (public_ip6)
		snprintf(pub6, sizeof(pub6), "\"%s\"", public_ip6);
	snprintf(value, sizeof(value),
		 "{\"PublicIP\":\"%s\",\"PublicIPv6\":%s,\"BackendType\":\"host-gw\",\"BackendData\":%s%s%s,\"BackendV6Data\":null}",
		 public_ip, pub6, name ? "{\"roost\":{\"name\":\"" : "null", name ? name : "",
		 name ? "\"}}" : "");
	assert_int_equal(ds_parse_lease(key, value, &p), 0);
	assert_string_equal(p.key, key);
	return p;
}

static void test_lease6_parse(void **state)
{
	struct ds_peer p;
	char b[INET6_ADDRSTRLEN], a[INET_ADDRSTRLEN];

	(void)state;
	/* flannel's dual-stack key and value */
	p = lease6("10.244.3.0-24&fd00:10:244:3::-64", "172.31.0.13", "fd00:172:31::13", NULL);
	assert_string_equal(ip(p.net, a), "10.244.3.0");
	assert_int_equal(p.len, 24);
	assert_string_equal(ip6(&p.net6, b), "fd00:10:244:3::");
	assert_int_equal(p.len6, 64);
	assert_string_equal(ip6(&p.address6, b), "fd00:172:31::13");
	assert_false(p.roost);
	/* IPv6-only: flannel's empty IPv4 subnet and PublicIP */
	p = lease6("0.0.0.0-0&fd00:10:244:4::-64", "0.0.0.0", "fd00:172:31::14", "node4");
	assert_int_equal(p.len, 0);
	assert_int_equal(p.address.s_addr, 0);
	assert_int_equal(p.len6, 64);
	assert_true(p.roost);
	assert_string_equal(p.name, "node4");
	/* malformed */
	assert_int_equal(ds_parse_lease("10.244.3.0-24&fd00:10:244:3::", "{\"PublicIP\":\"1.2.3.4\",\"PublicIPv6\":\"fd00::1\"}", &p), -EINVAL);
	assert_int_equal(ds_parse_lease("10.244.3.0-24&fd00:10:244:3::1-64", "{\"PublicIP\":\"1.2.3.4\",\"PublicIPv6\":\"fd00::1\"}", &p), -EINVAL);
	assert_int_equal(ds_parse_lease("10.244.3.0-24&fd00:10:244:3::-64", "{\"PublicIP\":\"1.2.3.4\",\"PublicIPv6\":null,\"BackendType\":\"host-gw\"}", &p), -EINVAL);
	assert_int_equal(ds_parse_lease("0.0.0.0-0", "{\"PublicIP\":\"0.0.0.0\",\"BackendType\":\"host-gw\"}", &p), -EINVAL);
	assert_int_equal(ds_parse_lease("10.0.0.0-0&fd00::-64", "{\"PublicIPv6\":\"fd00::1\",\"BackendType\":\"host-gw\"}", &p), -EINVAL);
}

static struct ds_check check6(bool v4)
{
	struct ds_check k = {.cluster_len = v4 ? 16 : 0, .subnet_len = v4 ? 24 : 0,
			     .cluster_len6 = 48, .subnet_len6 = 64};

	inet_pton(AF_INET, "10.244.0.0", &k.cluster);
	inet_pton(AF_INET, "172.31.0.11", &k.self);
	inet_pton(AF_INET, "10.244.1.0", &k.self_net);
	inet_pton(AF_INET6, "fd00:10:244::", &k.cluster6);
	inet_pton(AF_INET6, "fd00:172:31::11", &k.self6);
	inet_pton(AF_INET6, "fd00:10:244:1::", &k.self_net6);
	return k;
}

/* IPv6 parts are untrusted like the rest: dropped and reported by key. */
static void test_lease6_checks(void **state)
{
	struct ds_check k = check6(true);
	struct ds_peer v[16];
	size_t n = 0, m;

	(void)state;
	v[n++] = lease6("10.244.2.0-24&fd00:10:244:2::-64", "172.31.0.12", "fd00:172:31::12", "node2"); /* fit */
	v[n++] = lease6("10.244.3.0-24", "172.31.0.13", NULL, NULL); /* fit: IPv4 only, not yet on IPv6 */
	v[n++] = lease6("10.244.4.0-24&fd01::-64", "172.31.0.14", "fd00:172:31::14", NULL);        /* outside */
	v[n++] = lease6("10.244.5.0-24&fd00:10:244:5::-80", "172.31.0.15", "fd00:172:31::15", NULL); /* length */
	v[n++] = lease6("10.244.6.0-24&fd00:10:244:6::-64", "172.31.0.16", "fe80::16", NULL);        /* link-local */
	v[n++] = lease6("10.244.7.0-24&fd00:10:244:7::-64", "172.31.0.17", "fd00:172:31::11", NULL); /* self */
	v[n++] = lease6("10.244.8.0-24&fd00:10:244:8::-64", "172.31.0.18", "fd00:172:31::12", NULL); /* its PublicIPv6 again */
	v[n++] = lease6("10.244.9.0-24&fd00:10:244:2::-64", "172.31.0.19", "fd00:172:31::19", NULL); /* its IPv6 subnet again */
	v[n++] = lease6("10.244.2.0-24&fd00:10:244:a::-64", "172.31.0.20", "fd00:172:31::20", NULL); /* its IPv4 subnet again */
	v[n++] = lease6("10.244.10.0-24&fd00:10:244:1::-64", "172.31.0.21", "fd00:172:31::21", NULL); /* our IPv6 subnet */
	v[n++] = lease6("10.244.11.0-24&fd00:10:244::5-128", "172.31.0.22", "fd00:172:31::22", NULL); /* a /128 */
	v[n++] = lease6("10.244.12.0-24&fd00:10:244:c::-64", "172.31.0.23", "ff02::1", NULL);         /* multicast */
	v[n++] = lease6("10.244.13.0-24&fd00:10:244:d::-64", "172.31.0.24", "fd00:10:244:2::9", NULL); /* in the pod network */
	v[n++] = lease6("0.0.0.0-0&fd00:10:244:e::-64", "0.0.0.0", "fd00:172:31::25", NULL);          /* IPv6-only in a dual-stack network */
	n_reported = 0;
	m = ds_leases_filter(v, n, &k, report, NULL);
	assert_int_equal(m, 2);
	assert_string_equal(v[0].key, "10.244.2.0-24&fd00:10:244:2::-64");
	assert_string_equal(v[1].key, "10.244.3.0-24");
	assert_int_equal(n_reported, 12);
	assert_string_equal(reported[0], "10.244.4.0-24&fd01::-64: its IPv6 subnet is outside the network's IPv6Network");
	assert_string_equal(reported[1], "10.244.5.0-24&fd00:10:244:5::-80: its IPv6 subnet is not of the network's IPv6SubnetLen");
	assert_string_equal(reported[2], "10.244.6.0-24&fd00:10:244:6::-64: its PublicIPv6 is not a global unicast address");
	assert_string_equal(reported[3], "10.244.7.0-24&fd00:10:244:7::-64: its PublicIPv6 is this node's address");
	assert_string_equal(reported[4], "10.244.8.0-24&fd00:10:244:8::-64: its PublicIPv6 is another lease's");
	assert_string_equal(reported[5], "10.244.9.0-24&fd00:10:244:2::-64: its IPv6 subnet is another lease's");
	assert_string_equal(reported[6], "10.244.2.0-24&fd00:10:244:a::-64: its subnet is another lease's");
	assert_string_equal(reported[7], "10.244.10.0-24&fd00:10:244:1::-64: its IPv6 subnet is this node's");
	assert_string_equal(reported[8], "10.244.11.0-24&fd00:10:244::5-128: its IPv6 subnet is not of the network's IPv6SubnetLen");
	assert_string_equal(reported[9], "10.244.12.0-24&fd00:10:244:c::-64: its PublicIPv6 is not a global unicast address");
	assert_string_equal(reported[10], "10.244.13.0-24&fd00:10:244:d::-64: its PublicIPv6 is inside the IPv6 pod network");
	assert_string_equal(reported[11], "0.0.0.0-0&fd00:10:244:e::-64: its subnet is not of the network's SubnetLen");

	/* an IPv6-only network: only IPv6-only leases */
	k = check6(false);
	n = 0;
	v[n++] = lease6("0.0.0.0-0&fd00:10:244:2::-64", "0.0.0.0", "fd00:172:31::12", "node2"); /* fit */
	v[n++] = lease6("10.244.3.0-24&fd00:10:244:3::-64", "172.31.0.13", "fd00:172:31::13", NULL);
	v[n++] = lease6("10.244.4.0-24", "172.31.0.14", NULL, NULL);
	v[n++] = lease6("0.0.0.0-0&fd00:10:244:5::-64", "0.0.0.0", "fd00:172:31::12", NULL);
	n_reported = 0;
	m = ds_leases_filter(v, n, &k, report, NULL);
	assert_int_equal(m, 1);
	assert_string_equal(v[0].key, "0.0.0.0-0&fd00:10:244:2::-64");
	assert_int_equal(n_reported, 3);
	assert_string_equal(reported[0], "10.244.3.0-24&fd00:10:244:3::-64: it has an IPv4 subnet (the network is IPv6-only)");
	assert_string_equal(reported[1], "10.244.4.0-24: it has an IPv4 subnet (the network is IPv6-only)");
	assert_string_equal(reported[2], "0.0.0.0-0&fd00:10:244:5::-64: its PublicIPv6 is another lease's");

	/* a network without IPv6: a lease's IPv6 part is ignored */
	k = check6(true);
	k.cluster_len6 = 0;
	n = 0;
	v[n++] = lease6("10.244.2.0-24&fd00:10:244:2::-64", "172.31.0.12", "fe80::1", NULL);
	m = ds_leases_filter(v, n, &k, report, NULL);
	assert_int_equal(m, 1);
	assert_int_equal(v[0].len6, 0);
}

static void test_subnet_env6(void **state)
{
	struct in_addr cl, net;
	struct in6_addr cl6, net6;
	char buf[512];

	(void)state;
	inet_pton(AF_INET, "10.244.0.0", &cl);
	inet_pton(AF_INET, "10.244.3.0", &net);
	inet_pton(AF_INET6, "fd00:10:244::", &cl6);
	inet_pton(AF_INET6, "fd00:10:244:3::", &net6);
	/* flannel's order: IPv4, IPv6, MTU, masquerade */
	assert_true(ds_subnet_env_format6(buf, sizeof(buf), cl, 16, net, 24, &cl6, 48, &net6, 64,
					  1500, true) > 0);
	assert_string_equal(buf, "FLANNEL_NETWORK=10.244.0.0/16\n"
				 "FLANNEL_SUBNET=10.244.3.1/24\n"
				 "FLANNEL_IPV6_NETWORK=fd00:10:244::/48\n"
				 "FLANNEL_IPV6_SUBNET=fd00:10:244:3::1/64\n"
				 "FLANNEL_MTU=1500\n"
				 "FLANNEL_IPMASQ=true\n");
	/* IPv6-only ("EnableIPv4": false): no IPv4 lines */
	assert_true(ds_subnet_env_format6(buf, sizeof(buf), cl, 0, net, 0, &cl6, 48, &net6, 64, 1450,
					  false) > 0);
	assert_string_equal(buf, "FLANNEL_IPV6_NETWORK=fd00:10:244::/48\n"
				 "FLANNEL_IPV6_SUBNET=fd00:10:244:3::1/64\n"
				 "FLANNEL_MTU=1450\n"
				 "FLANNEL_IPMASQ=false\n");
	assert_int_equal(ds_subnet_env_format6(buf, 80, cl, 16, net, 24, &cl6, 48, &net6, 64, 1500,
					       true),
			 -ENOSPC);
}

/* ---- the watch stream (frames as etcd 3.4's gateway sends them) ------------------------- */

#define HDR "{\"cluster_id\":\"14841639068965178418\",\"member_id\":\"10276657743932975437\",\"revision\":\"%s\",\"raft_term\":\"2\"}"
/* captured from etcd 3.4.23: POST /v3/watch, then a put, a put, a delete */
static const char *const frames[] = {
	"{\"result\":{\"header\":" HDR ",\"created\":true}}\n",
	"{\"result\":{\"header\":" HDR ",\"events\":[{\"kv\":{\"key\":\"L3Avc3VibmV0cy9h\",\"create_revision\":\"2\",\"mod_revision\":\"2\",\"version\":\"1\",\"value\":\"djE=\",\"lease\":\"7587875\"}}]}}\n",
	"{\"result\":{\"header\":" HDR ",\"events\":[{\"type\":\"DELETE\",\"kv\":{\"key\":\"L3Avc3VibmV0cy9h\",\"mod_revision\":\"4\"}}]}}\n",
	"{\"result\":{\"header\":" HDR "}}\n", /* a progress notification */
	"{\"result\":{\"header\":{\"cluster_id\":\"1\",\"raft_term\":\"2\"},\"canceled\":true,\"compact_revision\":\"4\"}}\n",
};

/* frames[i] with its "%s" replaced by rev */
static char *frame_text(size_t i, const char *rev)
{
	static char buf[1024];
	const char *at = strstr(frames[i], "%s");

	if (!at) {
		snprintf(buf, sizeof(buf), "%s", frames[i]);
		return buf;
	}
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - frames[i]), frames[i], rev, at + 2);
	return buf;
}

static void check_stream(struct etcd_watch *w)
{
	struct etcd_watch_resp r;

	assert_int_equal(etcd_watch_next(w, &r), 1);
	assert_true(r.created);
	assert_int_equal(r.revision, 2);
	assert_int_equal(r.n_events, 0);
	etcd_watch_resp_clear(&r);
	assert_int_equal(etcd_watch_next(w, &r), 1);
	assert_false(r.created);
	assert_int_equal(r.n_events, 1);
	assert_false(r.events[0].deleted);
	assert_string_equal(r.events[0].kv.key, "/p/subnets/a");
	assert_string_equal(r.events[0].kv.value, "v1");
	assert_int_equal(r.events[0].kv.lease, 7587875);
	assert_int_equal(r.events[0].kv.mod_revision, 2);
	assert_int_equal(r.events[0].kv.create_revision, 2);
	etcd_watch_resp_clear(&r);
	assert_int_equal(etcd_watch_next(w, &r), 1);
	assert_int_equal(r.n_events, 1);
	assert_true(r.events[0].deleted);
	assert_string_equal(r.events[0].kv.key, "/p/subnets/a");
	assert_null(r.events[0].kv.value);
	assert_int_equal(r.events[0].kv.mod_revision, 4);
	etcd_watch_resp_clear(&r);
	assert_int_equal(etcd_watch_next(w, &r), 1);
	assert_int_equal(r.n_events, 0);
	assert_int_equal(r.revision, 5);
	assert_false(r.created || r.canceled);
	etcd_watch_resp_clear(&r);
	assert_int_equal(etcd_watch_next(w, &r), 1);
	assert_true(r.canceled);
	assert_int_equal(r.compact_revision, 4);
	assert_int_equal(r.revision, 0);
	etcd_watch_resp_clear(&r);
}

static const char *const revs[] = {"2", "2", "4", "5", "0"};

static void test_watch_frames(void **state)
{
	struct etcd_watch *w = etcd_watch_new_detached();
	struct etcd_watch_resp r;
	char all[8192] = "";

	(void)state;
	/* all in one piece, then a blank line (a keep-alive) */
	for (size_t i = 0; i < 5; i++)
		strcat(all, frame_text(i, revs[i]));
	strcat(all, "\r\n\n");
	assert_int_equal(etcd_watch_feed(w, all, strlen(all)), 0);
	check_stream(w);
	assert_int_equal(etcd_watch_next(w, &r), 0); /* nothing more yet */
	etcd_watch_end(w);
	assert_int_equal(etcd_watch_next(w, &r), -ECONNRESET);
	assert_string_equal(etcd_watch_error(w), "watch: the stream ended");
	etcd_watch_close(w);

	/* byte by byte: a partial frame is no frame yet */
	w = etcd_watch_new_detached();
	for (size_t i = 0; i < strlen(all); i++) {
		if (i < strlen(frame_text(0, "2")))
			assert_int_equal(etcd_watch_next(w, &r), 0);
		assert_int_equal(etcd_watch_feed(w, all + i, 1), 0);
	}
	check_stream(w);
	etcd_watch_close(w);

	/* many frames, taken one at a time between feeds: the buffer is reused */
	w = etcd_watch_new_detached();
	for (int k = 0; k < 2000; k++) {
		const char *f = frame_text(1, "2");

		assert_int_equal(etcd_watch_feed(w, f, strlen(f) / 2), 0);
		assert_int_equal(etcd_watch_next(w, &r), 0);
		assert_int_equal(etcd_watch_feed(w, f + strlen(f) / 2, strlen(f) - strlen(f) / 2), 0);
		assert_int_equal(etcd_watch_next(w, &r), 1);
		assert_string_equal(r.events[0].kv.value, "v1");
		etcd_watch_resp_clear(&r);
	}
	etcd_watch_close(w);
}

static void test_watch_errors(void **state)
{
	struct etcd_watch *w;
	struct etcd_watch_resp r;
	static const struct {
		const char *frame;
		int want;
	} bad[] = {
		{"not json\n", -EINVAL},
		{"[1,2]\n", -EINVAL},
		{"{\"result\":\n", -EINVAL}, /* cut short, then a newline */
		{"{}\n", -EINVAL},
		{"{\"result\":7}\n", -EINVAL},
		{"{\"result\":{\"events\":{}}}\n", -EINVAL},
		{"{\"result\":{\"events\":[7]}}\n", -EINVAL},
		{"{\"result\":{\"events\":[{\"kv\":{}}]}}\n", -EINVAL},
		{"{\"result\":{\"events\":[{\"kv\":{\"key\":\"!!!!\"}}]}}\n", -EINVAL},
		{"{\"result\":{\"events\":[{\"type\":\"BOOM\",\"kv\":{\"key\":\"YQ==\"}}]}}\n", -EINVAL},
		{"{\"result\":{\"events\":[{\"kv\":{\"key\":\"YQ==\"}},{\"kv\":5}]}}\n", -EINVAL},
		/* what 3.4's gateway sends when the stream fails */
		{"{\"error\":{\"grpc_code\":14,\"http_code\":503,\"message\":\"transport is closing\",\"http_status\":\"Service Unavailable\"}}\n", -EPROTO},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		w = etcd_watch_new_detached();
		assert_int_equal(etcd_watch_feed(w, bad[i].frame, strlen(bad[i].frame)), 0);
		assert_int_equal(etcd_watch_next(w, &r), bad[i].want);
		assert_true(strncmp(etcd_watch_error(w), "watch: ", 7) == 0);
		etcd_watch_close(w);
	}
	w = etcd_watch_new_detached();
	assert_int_equal(etcd_watch_feed(w, bad[11].frame, strlen(bad[11].frame)), 0);
	assert_int_equal(etcd_watch_next(w, &r), -EPROTO);
	assert_string_equal(etcd_watch_error(w), "watch: etcd says: transport is closing");
	etcd_watch_close(w);

	/* a value that is not base64: the event stands, with no value */
	w = etcd_watch_new_detached();
	{
		const char *f = "{\"result\":{\"events\":[{\"kv\":{\"key\":\"YQ==\",\"value\":\"%%%\"}}]}}\n";

		assert_int_equal(etcd_watch_feed(w, f, strlen(f)), 0);
		assert_int_equal(etcd_watch_next(w, &r), 1);
		assert_int_equal(r.n_events, 1);
		assert_string_equal(r.events[0].kv.key, "a");
		assert_null(r.events[0].kv.value);
		etcd_watch_resp_clear(&r);
	}
	etcd_watch_close(w);

	/* the last frame without a newline (an error ends the stream so) */
	w = etcd_watch_new_detached();
	{
		const char *f = "{\"error\":\"invalid character 'g'\",\"message\":\"invalid character 'g'\",\"code\":2}";

		assert_int_equal(etcd_watch_feed(w, f, strlen(f)), 0);
		assert_int_equal(etcd_watch_next(w, &r), 0);
		etcd_watch_end(w);
		assert_int_equal(etcd_watch_next(w, &r), -EPROTO);
		assert_string_equal(etcd_watch_error(w), "watch: etcd says: invalid character 'g'");
	}
	etcd_watch_close(w);

	/* nothing at all, then the end */
	w = etcd_watch_new_detached();
	assert_int_equal(etcd_watch_next(w, &r), 0);
	etcd_watch_end(w);
	assert_int_equal(etcd_watch_next(w, &r), -ECONNRESET);
	etcd_watch_close(w);

	/* a partial frame when the stream ends: malformed */
	w = etcd_watch_new_detached();
	assert_int_equal(etcd_watch_feed(w, "{\"result\":{\"head", 16), 0);
	assert_int_equal(etcd_watch_next(w, &r), 0);
	etcd_watch_end(w);
	assert_int_equal(etcd_watch_next(w, &r), -EINVAL);
	etcd_watch_close(w);

	/* a huge frame: refused once it passes 8 MiB, not buffered on */
	w = etcd_watch_new_detached();
	{
		size_t chunk = 1 << 16, fed = 0;
		char *big = malloc(chunk);
		int r2 = 0;

		assert_non_null(big);
		memset(big, 'x', chunk);
		memcpy(big, "{\"result\":{\"x\":\"", 16);
		while (fed < (9u << 20) && (r2 = etcd_watch_feed(w, big, chunk)) == 0)
			fed += chunk;
		assert_int_equal(r2, -E2BIG);
		assert_true(fed <= (8u << 20));
		assert_int_equal(etcd_watch_next(w, &r), -E2BIG);
		assert_int_equal(etcd_watch_feed(w, "\n", 1), -E2BIG);
		free(big);
	}
	etcd_watch_close(w);

	/* a huge stream of small frames is fine */
	w = etcd_watch_new_detached();
	for (int k = 0; k < 20000; k++) {
		const char *f = frame_text(3, "9");

		assert_int_equal(etcd_watch_feed(w, f, strlen(f)), 0);
	}
	for (int k = 0; k < 20000; k++) {
		assert_int_equal(etcd_watch_next(w, &r), 1);
		assert_int_equal(r.revision, 9);
		etcd_watch_resp_clear(&r);
	}
	assert_int_equal(etcd_watch_next(w, &r), 0);
	etcd_watch_close(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_defaults), cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_leases),		cmocka_unit_test(test_subnet_env),
		cmocka_unit_test(test_base64),          cmocka_unit_test(test_lease_checks),
		cmocka_unit_test(test_config6),         cmocka_unit_test(test_lease6_parse),
		cmocka_unit_test(test_lease6_checks),   cmocka_unit_test(test_subnet_env6),
		cmocka_unit_test(test_watch_frames),	cmocka_unit_test(test_watch_errors),
	};

	return cmocka_run_group_tests_name("datastore", tests, NULL, NULL);
}
