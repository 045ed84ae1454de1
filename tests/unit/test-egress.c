/* SPDX-License-Identifier: MIT */
/*
 * test-egress.c - the egress table: the nft script egress_render() makes
 * (pure), and that script applied through libnftables in a network
 * namespace of the test's own (unshare, as test-netdev): on, replaced, off,
 * and what egress_state_get() reports. Needs root; without it the file
 * prints a TAP skip plan.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "egress.h"
#include "log.h"

static struct conf_cidr nm[2];

static void conf_fill(struct roostd_conf *c, bool masq, size_t n_nm)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->name, "node1");
	inet_pton(AF_INET, "10.244.1.0", &c->pod_net);
	c->pod_len = 24;
	inet_pton(AF_INET, "10.244.0.0", &c->cluster_net);
	c->cluster_len = 16;
	inet_pton(AF_INET, "192.0.2.0", &nm[0].net);
	nm[0].len = 24;
	inet_pton(AF_INET, "10.0.0.0", &nm[1].net);
	nm[1].len = 8;
	c->masquerade = masq;
	c->no_masquerade = nm;
	c->n_no_masquerade = n_nm;
}

/* nftables takes a table comment of at most 128 characters: a node name
 * of the longest kind fits. */
static void test_render_long_name(void **state)
{
	struct roostd_conf c;
	char *t = NULL, *cm, *end;

	conf_fill(&c, true, 2);
	memset(c.name, 'n', BC_NAME_MAX);
	c.name[BC_NAME_MAX] = '\0';
	assert_int_equal(egress_render(&c, &t), 0);
	cm = strstr(t, "comment \"");
	assert_non_null(cm);
	end = strchr(cm + 9, '"');
	assert_non_null(end);
	assert_true(end - (cm + 9) <= 128);
	free(t);
}

static void test_render_on(void **state)
{
	struct roostd_conf c;
	char *t = NULL;

	conf_fill(&c, true, 2);
	assert_int_equal(egress_render(&c, &t), 0);
	assert_string_equal(
		t, "add table ip roost\n"
		   "delete table ip roost\n"
		   "add table ip6 roost\n"
		   "delete table ip6 roost\n"
		   "table ip roost {\n"
		   "\tcomment \"roostd egress.masquerade of node node1; replaced at every start and reload\"\n"
		   "\tset cluster {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\telements = { 10.244.0.0/16 }\n\t}\n"
		   "\tset no_masquerade {\n\t\ttype ipv4_addr\n\t\tflags interval\n"
		   "\t\telements = { 192.0.2.0/24, 10.0.0.0/8 }\n\t}\n"
		   "\tchain postrouting {\n"
		   "\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
		   "\t\tip saddr 10.244.1.0/24 ip daddr != @cluster ip daddr != @no_masquerade ip daddr != 224.0.0.0/4 counter masquerade fully-random\n"
		   "\t}\n"
		   "}\n");
	free(t);
}

static void test_render_off(void **state)
{
	struct roostd_conf c;
	char *t = NULL;

	conf_fill(&c, false, 2);
	assert_int_equal(egress_render(&c, &t), 0);
	assert_string_equal(t, "add table ip roost\ndelete table ip roost\nadd table ip6 roost\ndelete table ip6 roost\n");
	free(t);
	/* a node without pods (a route reflector) has nothing to masquerade */
	conf_fill(&c, true, 0);
	c.no_pods = true;
	assert_int_equal(egress_render(&c, &t), 0);
	assert_string_equal(t, "add table ip roost\ndelete table ip roost\nadd table ip6 roost\ndelete table ip6 roost\n");
	free(t);
}

/* A dual-stack node gets table ip6 roost of the same shape; the kernel
 * takes it (applied, then removed). */
static void test_render_dual(void **state)
{
	struct roostd_conf c;
	char *t = NULL, *off = NULL, err[256];

	conf_fill(&c, true, 0);
	inet_pton(AF_INET, "172.31.0.11", &c.address);
	inet_pton(AF_INET6, "fd00:10:244:1::", &c.pod_net6);
	c.pod_len6 = 64;
	inet_pton(AF_INET6, "fd00:10:244::", &c.cluster_net6);
	c.cluster_len6 = 48;
	assert_int_equal(egress_render(&c, &t), 0);
	assert_non_null(strstr(t, "table ip6 roost {\n"
				  "\tcomment \"roostd egress.masquerade of node node1; replaced at every start and reload\"\n"
				  "\tset cluster {\n\t\ttype ipv6_addr\n\t\tflags interval\n\t\telements = { fd00:10:244::/48 }\n\t}\n"
				  "\tset no_masquerade {\n\t\ttype ipv6_addr\n\t\tflags interval\n\t}\n"
				  "\tchain postrouting {\n"
				  "\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
				  "\t\tip6 saddr fd00:10:244:1::/64 ip6 daddr != @cluster ip6 daddr != @no_masquerade ip6 daddr != ff00::/8 counter masquerade fully-random\n"
				  "\t}\n}\n"));
	assert_non_null(strstr(t, "table ip roost {\n"));
	if (egress_apply(t, err, sizeof(err)) != 0)
		fail_msg("dual-stack on: %s", err);
	c.masquerade = false;
	assert_int_equal(egress_render(&c, &off), 0);
	if (egress_apply(off, err, sizeof(err)) != 0)
		fail_msg("off: %s", err);
	free(t);
	free(off);
}

/* egress.no_masquerade's IPv6 entries go into table ip6 roost's own set
 * (the IPv4 ones stay in table ip roost's); the kernel takes it, and
 * egress_state_get() sees both tables. */
static void test_render_dual_no_masq(void **state)
{
	struct conf_cidr6 nm6[2];
	struct roostd_conf c;
	struct egress_state st;
	char *t = NULL, *off = NULL, err[256];

	conf_fill(&c, true, 1);
	inet_pton(AF_INET, "172.31.0.11", &c.address);
	inet_pton(AF_INET6, "fd00:10:244:1::", &c.pod_net6);
	c.pod_len6 = 64;
	inet_pton(AF_INET6, "fd00:10:244::", &c.cluster_net6);
	c.cluster_len6 = 48;
	inet_pton(AF_INET6, "2001:db8::", &nm6[0].net);
	nm6[0].len = 32;
	inet_pton(AF_INET6, "fd00:172:31::", &nm6[1].net);
	nm6[1].len = 64;
	c.no_masquerade6 = nm6;
	c.n_no_masquerade6 = 2;
	assert_int_equal(egress_render(&c, &t), 0);
	assert_non_null(strstr(t, "table ip6 roost {\n"
				  "\tcomment \"roostd egress.masquerade of node node1; replaced at every start and reload\"\n"
				  "\tset cluster {\n\t\ttype ipv6_addr\n\t\tflags interval\n\t\telements = { fd00:10:244::/48 }\n\t}\n"
				  "\tset no_masquerade {\n\t\ttype ipv6_addr\n\t\tflags interval\n"
				  "\t\telements = { 2001:db8::/32, fd00:172:31::/64 }\n\t}\n"
				  "\tchain postrouting {\n"
				  "\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
				  "\t\tip6 saddr fd00:10:244:1::/64 ip6 daddr != @cluster ip6 daddr != @no_masquerade ip6 daddr != ff00::/8 counter masquerade fully-random\n"
				  "\t}\n}\n"));
	/* the IPv4 set keeps the IPv4 entry only */
	assert_non_null(strstr(t, "\tset no_masquerade {\n\t\ttype ipv4_addr\n\t\tflags interval\n"
				  "\t\telements = { 192.0.2.0/24 }\n\t}\n"));
	if (egress_apply(t, err, sizeof(err)) != 0)
		fail_msg("dual-stack with IPv6 no_masquerade: %s", err);
	assert_int_equal(egress_state_get(&st), 0);
	assert_true(st.present);
	assert_true(st.present6);
	assert_int_equal(st.masqueraded6, 0);
	c.masquerade = false;
	assert_int_equal(egress_render(&c, &off), 0);
	if (egress_apply(off, err, sizeof(err)) != 0)
		fail_msg("off: %s", err);
	assert_int_equal(egress_state_get(&st), 0);
	assert_false(st.present);
	assert_false(st.present6);
	free(t);
	free(off);
}

/* The kernel takes the script; replacing it is idempotent; off removes it. */
static void test_apply(void **state)
{
	struct roostd_conf c;
	struct egress_state st;
	char *on = NULL, *on1 = NULL, *off = NULL, err[256];

	conf_fill(&c, true, 0);
	assert_int_equal(egress_render(&c, &on1), 0); /* empty no_masquerade set */
	conf_fill(&c, true, 2);
	assert_int_equal(egress_render(&c, &on), 0);
	conf_fill(&c, false, 0);
	assert_int_equal(egress_render(&c, &off), 0);

	assert_int_equal(egress_state_get(&st), 0);
	assert_false(st.present);
	/* off when there is nothing to remove */
	if (egress_apply(off, err, sizeof(err)) != 0)
		fail_msg("off: %s", err);
	if (egress_apply(on1, err, sizeof(err)) != 0)
		fail_msg("on, empty set: %s", err);
	if (egress_apply(on, err, sizeof(err)) != 0 || egress_apply(on, err, sizeof(err)) != 0)
		fail_msg("on, twice: %s", err);
	assert_int_equal(egress_state_get(&st), 0);
	assert_true(st.present);
	assert_int_equal(st.masqueraded, 0);
	assert_string_equal(st.error, "");
	if (egress_apply(off, err, sizeof(err)) != 0)
		fail_msg("off: %s", err);
	assert_int_equal(egress_state_get(&st), 0);
	assert_false(st.present);
	/* nftables' own message comes back */
	assert_true(egress_apply("table ip roost { chain x { bogus } }", err, sizeof(err)) < 0);
	assert_true(strlen(err) > 0);
	free(on);
	free(on1);
	free(off);
}

int main(void)
{
	const struct CMUnitTest all[] = {
		cmocka_unit_test(test_render_on),
		cmocka_unit_test(test_render_long_name),
		cmocka_unit_test(test_render_off),
		/* the kernel's (in a network namespace of the test's own): */
		cmocka_unit_test(test_render_dual),
		cmocka_unit_test(test_render_dual_no_masq),
		cmocka_unit_test(test_apply),
	};

	log_init("test-egress", LOG_DEBUG);
	/* The kernel test runs only in a namespace of its own: never in the
	 * machine's. Without one, only the pure tests run (one TAP plan). */
	if (geteuid() != 0 || unshare(CLONE_NEWNET) < 0) {
		printf("# test_apply left out: %s\n",
		       geteuid() != 0 ? "needs root" : "unshare(CLONE_NEWNET) failed");
		return _cmocka_run_group_tests("egress", all, 3, NULL, NULL);
	}
	return cmocka_run_group_tests(all, NULL, NULL);
}
