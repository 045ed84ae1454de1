/* SPDX-License-Identifier: MIT */
/*
 * test-netdev.c - agent/netdev.c against the kernel.
 *
 * main() moves the whole process into a new network namespace before any
 * test runs, so nothing here touches the machine's own links, addresses or
 * routes (libnl tests' nltst_netns_enter, iproute2's `unshare -n`). The veth
 * test needs a second namespace: a child process unshares one and waits on a
 * pipe; we reach it through /proc/<child>/ns/net. Needs root; without it the
 * file prints a TAP skip plan. Every test deletes the links it made, so the
 * namespace is empty again between tests.
 */
#ifndef _GNU_SOURCE /* Makefile.am passes -D_GNU_SOURCE */
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "rst.h"
#include "log.h"
#include "netdev.h"
#include "birdconf.h"
#include "pod.h"
#include "teardown.h"
#include <poll.h>

#define RTPROT_BOOT_ 3	 /* what proto 0 asks for */
#define RTPROT_KERNEL_ 2 /* connected routes */
#define RTPROT_BIRD_ 12

struct fixture {
	struct netdev *nd;
	pid_t ns_pid;	/* holds the second namespace */
	int ns_hold_wr; /* closing it lets ns_pid exit */
	int ns_fd;	/* /proc/<ns_pid>/ns/net */
};

static struct in_addr ip4(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a;
}

/* ---- second network namespace ------------------------------------------ */

static int ns_spawn(struct fixture *f)
{
	int ready[2], hold[2];
	char c, path[64];
	ssize_t n;
	pid_t pid;

	if (pipe2(ready, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(hold, O_CLOEXEC) < 0) {
		close(ready[0]);
		close(ready[1]);
		return -errno;
	}
	pid = fork();
	if (pid < 0) {
		int e = errno;

		close(ready[0]);
		close(ready[1]);
		close(hold[0]);
		close(hold[1]);
		return -e;
	}
	if (pid == 0) {
		close(ready[0]);
		close(hold[1]);
		if (unshare(CLONE_NEWNET) < 0)
			_exit(1);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		/* EOF when the parent closes its end (or dies) */
		while (read(hold[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	f->ns_pid = pid;
	f->ns_hold_wr = hold[1];
	do
		n = read(ready[0], &c, 1);
	while (n < 0 && errno == EINTR);
	close(ready[0]);
	if (n != 1)
		return -EIO;
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	f->ns_fd = open(path, O_RDONLY | O_CLOEXEC);
	return f->ns_fd < 0 ? -errno : 0;
}

static void ns_reap(struct fixture *f)
{
	if (f->ns_fd >= 0)
		close(f->ns_fd);
	if (f->ns_hold_wr >= 0)
		close(f->ns_hold_wr);
	if (f->ns_pid > 0)
		(void)waitpid(f->ns_pid, NULL, 0);
}

enum probe { PROBE_ABSENT = 1, PROBE_MTU = 2, PROBE_SETNS = 3, PROBE_FORK = 4 };

/* Looks up name inside namespace nsfd from a forked child: 0 when it is
 * there with MTU mtu (any MTU when 0), PROBE_ABSENT when not there, another
 * enum probe value on trouble. */
static int ns_probe(int nsfd, const char *name, unsigned mtu)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return PROBE_FORK;
	if (pid == 0) {
		struct ifreq ifr = {0};
		int s;

		if (setns(nsfd, CLONE_NEWNET) < 0)
			_exit(PROBE_SETNS);
		if (if_nametoindex(name) == 0)
			_exit(PROBE_ABSENT);
		if (mtu) {
			s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
			snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
			if (s < 0 || ioctl(s, SIOCGIFMTU, &ifr) < 0 || (unsigned)ifr.ifr_mtu != mtu)
				_exit(PROBE_MTU);
		}
		_exit(0);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return PROBE_FORK;
	return WEXITSTATUS(status);
}

/* ---- fixtures ----------------------------------------------------------- */

static int group_setup(void **state)
{
	static struct fixture f = {.ns_hold_wr = -1, .ns_fd = -1};

	if (netdev_open(&f.nd) < 0)
		return -1;
	if (ns_spawn(&f) < 0) {
		ns_reap(&f);
		netdev_free(f.nd);
		return -1;
	}
	*state = &f;
	return 0;
}

static int group_teardown(void **state)
{
	struct fixture *f = *state;

	ns_reap(f);
	netdev_free(f->nd);
	return 0;
}

/* ---- bridge ------------------------------------------------------------- */

static void test_bridge_ensure(void **state)
{
	/* Steps run in order against the same namespace. */
	static const struct {
		const char *name;
		unsigned mtu;
		int ret; /* -errno, or 1 for "an ifindex" */
		bool created;
		unsigned want_mtu;
		const char *same_as; /* ifindex must equal this earlier bridge's */
	} steps[] = {
		{"rb0", 1450, 1, true, 1450, NULL},
		{"rb0", 1450, 1, false, 1450, "rb0"},	 /* adopt */
		{"rb0", 9000, 1, false, 9000, "rb0"},	 /* adopt, MTU changes */
		{"rb0", 0, 1, false, 9000, "rb0"},	 /* 0: MTU left alone */
		{"rb1", 0, 1, true, 1500, NULL},	 /* kernel default MTU */
		{"rv0", 1500, -EEXIST, false, 0, NULL},	 /* a veth has that name */
		{"rb2", 70000, -EINVAL, false, 0, NULL}, /* above ETH_MAX_MTU: undone */
		{"", 0, -EINVAL, false, 0, NULL},
		{"rb0123456789abcd", 0, -EINVAL, false, 0, NULL}, /* 16 chars */
	};
	struct fixture *f = *state;
	int first_rb0 = 0;

	assert_int_equal(netdev_veth_create(f->nd, "rv0", "rv0p", -1, 0, NULL, NULL), 0);

	for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
		struct netdev_link_info li;
		bool created = !steps[i].created;
		int r;

		r = netdev_bridge_ensure(f->nd, steps[i].name, steps[i].mtu, &created, NULL);
		if (steps[i].ret < 0) {
			assert_int_equal(r, steps[i].ret);
			continue;
		}
		assert_true(r > 0);
		assert_int_equal(created, steps[i].created);
		if (strcmp(steps[i].name, "rb0") == 0 && !first_rb0)
			first_rb0 = r;
		if (steps[i].same_as)
			assert_int_equal(r, first_rb0);
		assert_int_equal(netdev_link_index(f->nd, steps[i].name), r);
		assert_int_equal(netdev_link_is_up(f->nd, r), 1);
		assert_int_equal(netdev_link_get(f->nd, r, &li), 0);
		assert_string_equal(li.kind, "bridge");
		assert_string_equal(li.name, steps[i].name);
		assert_int_equal(li.mtu, steps[i].want_mtu);
		assert_true(li.up);
		assert_int_equal(li.master, 0);
	}
	/* the bridge whose MTU failed was deleted again */
	assert_int_equal(netdev_link_index(f->nd, "rb2"), -ENODEV);
	/* -EEXIST left the veth alone */
	assert_true(netdev_link_index(f->nd, "rv0") > 0);

	assert_int_equal(netdev_link_delete(f->nd, "rb0"), 0);
	assert_int_equal(netdev_link_delete(f->nd, "rb1"), 0);
	assert_int_equal(netdev_link_delete(f->nd, "rv0"), 0);
}

/* ---- addresses ---------------------------------------------------------- */

static void test_addr_ensure(void **state)
{
	static const struct {
		const char *addr;
		unsigned plen;
		int ifindex; /* 0: the bridge, else used as is */
		int ret;
	} steps[] = {
		{"10.88.0.1", 24, 0, 1}, /* added */
		{"10.88.0.1", 24, 0, 0}, /* already there */
		{"10.88.1.1", 24, 0, 1}, /* a second one on the same link */
		{"10.88.0.1", 24, 0, 0}, /* first one still there */
		{"10.88.2.1", 32, 0, 1}, /* /32: no broadcast */
		{"10.88.2.1", 32, 0, 0},
		{"10.88.3.1", 31, 0, 1}, /* /31: no broadcast either */
		{"10.88.0.1", 33, 0, -EINVAL},
		{"10.88.0.1", 24, -1, -EINVAL},
		{"10.88.9.1", 24, 99999, -ENODEV}, /* no such link */
	};
	struct fixture *f = *state;
	struct ifreq ifr = {0};
	struct in_addr b;
	int br, s;

	br = netdev_bridge_ensure(f->nd, "ra0", 0, NULL, NULL);
	assert_true(br > 0);
	for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
		int ifindex = steps[i].ifindex ? steps[i].ifindex : br;

		assert_int_equal(
			netdev_addr_ensure(f->nd, ifindex, ip4(steps[i].addr), steps[i].plen),
			steps[i].ret);
	}

	/* The broadcast address of the primary (first) address, through the
	 * old ioctl, which sees this namespace like netdev does. */
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(s >= 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "ra0");
	assert_int_equal(ioctl(s, SIOCGIFBRDADDR, &ifr), 0);
	close(s);
	b = ((struct sockaddr_in *)(void *)&ifr.ifr_broadaddr)->sin_addr;
	assert_int_equal(b.s_addr, ip4("10.88.0.255").s_addr);

	assert_int_equal(netdev_link_delete(f->nd, "ra0"), 0);
}

/* ---- link lookups ------------------------------------------------------- */

static void test_link_lookup(void **state)
{
	static const struct {
		const char *name;
		int ret; /* 1: lo's ifindex, 2: the bridge's */
	} steps[] = {
		{"lo", 1},
		{"rl0", 2},
		{"nosuchlink0", -ENODEV},
		{"", -EINVAL},
		{"rl0123456789abcde", -EINVAL},
	};
	struct fixture *f = *state;
	struct netdev_link_info vli;
	int br, veth;

	br = netdev_bridge_ensure(f->nd, "rl0", 0, NULL, NULL);
	assert_true(br > 0);
	for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
		int want = steps[i].ret == 1 ? 1 : steps[i].ret == 2 ? br : steps[i].ret;

		assert_int_equal(netdev_link_index(f->nd, steps[i].name), want);
	}

	assert_int_equal(netdev_veth_create(f->nd, "rl1", "rl1p", -1, 0, NULL, &vli), 0);
	veth = vli.ifindex;
	assert_string_equal(vli.name, "rl1");
	assert_int_equal(strlen(vli.mac), 17);
	assert_int_equal(netdev_link_is_up(f->nd, br), 1);
	assert_int_equal(netdev_link_is_up(f->nd, veth), 0); /* veths start down */
	assert_int_equal(netdev_link_is_up(f->nd, 99999), -ENODEV);
	/* peer_netns_fd -1: the peer is created here too */
	assert_true(netdev_link_index(f->nd, "rl1p") > 0);
	assert_int_not_equal(netdev_link_index(f->nd, "rl1p"), veth);
	assert_int_equal(netdev_link_is_up(f->nd, netdev_link_index(f->nd, "rl1p")), 0);

	assert_int_equal(netdev_link_delete(f->nd, "rl1"), 0);
	/* deleting one end of a veth takes the peer with it */
	assert_int_equal(netdev_link_index(f->nd, "rl1p"), -ENODEV);
	assert_int_equal(netdev_link_delete(f->nd, "rl0"), 0);
}

/* ---- routes ------------------------------------------------------------- */

static void test_route_count_proto(void **state)
{
	static const struct {
		const char *dst;
		unsigned plen;
		const char *gw; /* NULL: on-link through the bridge */
		unsigned char proto;
		int ret;
		int bird_after; /* routes with protocol 12 afterwards */
	} steps[] = {
		{"10.90.0.0", 24, "10.89.0.2", RTPROT_BIRD_, 0, 1},
		{"10.90.1.0", 24, "10.89.0.2", RTPROT_BIRD_, 0, 2},
		{"10.90.2.0", 24, "10.89.0.2", 0, 0, 2},	 /* RTPROT_BOOT */
		{"10.91.0.5", 32, NULL, RTPROT_BIRD_, 0, 3},	 /* on-link */
		{"0.0.0.0", 0, "10.89.0.2", RTPROT_BIRD_, 0, 4}, /* default */
		{"10.90.0.0", 24, "10.89.0.3", RTPROT_BIRD_, -EEXIST, 4},
		{"10.90.0.1", 24, "10.89.0.2", RTPROT_BIRD_, -EINVAL, 4}, /* host bits */
		{"10.90.5.0", 33, "10.89.0.2", RTPROT_BIRD_, -EINVAL, 4},
	};
	struct fixture *f = *state;
	struct in_addr any = {.s_addr = INADDR_ANY};
	int br;

	br = netdev_bridge_ensure(f->nd, "rr0", 0, NULL, NULL);
	assert_true(br > 0);
	assert_int_equal(netdev_addr_ensure(f->nd, br, ip4("10.89.0.1"), 24), 1);
	assert_int_equal(netdev_route_count_proto(f->nd, RTPROT_BIRD_), 0);
	/* the connected route of 10.89.0.0/24; the local table's routes do
	 * not count */
	assert_int_equal(netdev_route_count_proto(f->nd, RTPROT_KERNEL_), 1);

	for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
		struct in_addr gw = steps[i].gw ? ip4(steps[i].gw) : any;

		assert_int_equal(netdev_route_add(f->nd, ip4(steps[i].dst), steps[i].plen, gw,
						  steps[i].gw ? 0 : br, steps[i].proto),
				 steps[i].ret);
		assert_int_equal(netdev_route_count_proto(f->nd, RTPROT_BIRD_),
				 steps[i].bird_after);
	}
	assert_int_equal(netdev_route_count_proto(f->nd, RTPROT_BOOT_), 1);
	/* neither a gateway nor a device */
	assert_int_equal(netdev_route_add(f->nd, ip4("10.92.0.0"), 24, any, 0, 0), -EINVAL);

	/* the routes go with the link */
	assert_int_equal(netdev_link_delete(f->nd, "rr0"), 0);
	assert_int_equal(netdev_route_count_proto(f->nd, RTPROT_BIRD_), 0);
}

/* ---- sysctl ------------------------------------------------------------- */

static void test_forwarding_enable(void **state)
{
	static const char path[] = "/proc/sys/net/ipv4/ip_forward";
	char buf[8] = "";
	FILE *fp;

	/* start from 0; this is our own namespace's setting */
	fp = fopen(path, "we");
	assert_non_null(fp);
	assert_true(fputs("0\n", fp) >= 0);
	assert_int_equal(fclose(fp), 0);

	for (int i = 0; i < 2; i++) { /* twice: idempotent */
		assert_int_equal(netdev_ipv4_forwarding_enable(), 0);
		fp = fopen(path, "re");
		assert_non_null(fp);
		assert_non_null(fgets(buf, sizeof(buf), fp));
		fclose(fp);
		assert_string_equal(buf, "1\n");
	}
}

/* ---- dual-stack: the bridge's IPv6 gateway, IPv6 forwarding ------------- */

static void test_addr6_ensure(void **state)
{
	struct fixture *f = *state;
	struct in6_addr a, b;
	char line[512];
	bool seen = false;
	FILE *fp;
	int br;

	assert_int_equal(inet_pton(AF_INET6, "fd00:10:244:1::1", &a), 1);
	assert_int_equal(inet_pton(AF_INET6, "fd00:10:244:2::1", &b), 1);
	br = netdev_bridge_ensure(f->nd, "ra6", 0, NULL, NULL);
	assert_true(br > 0);
	assert_int_equal(netdev_addr6_ensure(f->nd, br, &a, 64), 1); /* added */
	assert_int_equal(netdev_addr6_ensure(f->nd, br, &a, 64), 0); /* already there */
	assert_int_equal(netdev_addr6_ensure(f->nd, br, &b, 64), 1); /* a second one */
	assert_int_equal(netdev_addr6_ensure(f->nd, br, &a, 64), 0);
	assert_int_equal(netdev_addr6_ensure(f->nd, br, &a, 129), -EINVAL);
	assert_int_equal(netdev_addr6_ensure(f->nd, -1, &a, 64), -EINVAL);
	assert_true(netdev_addr6_ensure(f->nd, 99999, &b, 64) < 0); /* no such link */

	/* Added without DAD: /proc/net/if_inet6 lists it with IFA_F_NODAD
	 * (0x02) set and neither tentative (0x40) nor dadfailed (0x08). */
	fp = fopen("/proc/net/if_inet6", "re");
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp)) {
		unsigned idx, plen, scope, flags;
		char hex[33], name[32];

		if (sscanf(line, "%32s %x %x %x %x %31s", hex, &idx, &plen, &scope, &flags,
			   name) != 6 ||
		    strcmp(hex, "fd000010024400010000000000000001") != 0)
			continue;
		seen = true;
		assert_int_equal((int)idx, br);
		assert_int_equal(plen, 64);
		assert_true(flags & 0x02);
		assert_false(flags & (0x40 | 0x08));
	}
	fclose(fp);
	assert_true(seen);
}

/* IPv6 routes a previous BIRD left (roostd restarts BIRD with -R on an
 * IPv6-only node too); the IPv4 count does not see them. */
static void test_route6_count_proto(void **state)
{
	struct fixture *f = *state;
	struct in6_addr gw;
	int br;

	assert_int_equal(inet_pton(AF_INET6, "fd00:89::1", &gw), 1);
	br = netdev_bridge_ensure(f->nd, "rr6", 0, NULL, NULL);
	assert_true(br > 0);
	assert_int_equal(netdev_addr6_ensure(f->nd, br, &gw, 64), 1);
	assert_int_equal(netdev_route6_count_proto(f->nd, RTPROT_BIRD_), 0);
	assert_int_equal(system("ip -6 route add fd00:90:0:1::/64 via fd00:89::2 dev rr6 proto bird && "
				"ip -6 route add fd00:90:0:2::/64 via fd00:89::2 dev rr6 proto bird && "
				"ip -6 route add fd00:90:0:3::/64 via fd00:89::2 dev rr6 proto boot"),
			 0);
	assert_int_equal(netdev_route6_count_proto(f->nd, RTPROT_BIRD_), 2);
	assert_int_equal(netdev_route_count_proto(f->nd, RTPROT_BIRD_), 0);
	assert_int_equal(netdev_link_delete(f->nd, "rr6"), 0);
	assert_int_equal(netdev_route6_count_proto(f->nd, RTPROT_BIRD_), 0);
}

static void test_ipv6_forwarding_enable(void **state)
{
	static const char path[] = "/proc/sys/net/ipv6/conf/all/forwarding";
	char buf[8] = "";
	FILE *fp;

	fp = fopen(path, "we");
	assert_non_null(fp);
	assert_true(fputs("0\n", fp) >= 0);
	assert_int_equal(fclose(fp), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(netdev_ipv6_forwarding_enable(), 0);
		fp = fopen(path, "re");
		assert_non_null(fp);
		assert_non_null(fgets(buf, sizeof(buf), fp));
		fclose(fp);
		assert_string_equal(buf, "1\n");
	}
}

/* ---- veth into another namespace, bridge port --------------------------- */

static void test_veth_pod(void **state)
{
	static const bool hairpin_steps[] = {true, false, true};
	struct fixture *f = *state;
	struct netdev_link_info li;
	struct netdev_link_info hli = {0}, oli = {0};
	int br, host;

	br = netdev_bridge_ensure(f->nd, "rp0", 1450, NULL, NULL);
	assert_true(br > 0);

	assert_int_equal(netdev_veth_create(f->nd, "rveth0", "eth0", f->ns_fd, 1450, NULL, &hli), 0);
	host = hli.ifindex;
	assert_true(host > 0);
	assert_int_equal(netdev_link_index(f->nd, "rveth0"), host);
	/* the peer was created over there, never here */
	assert_int_equal(netdev_link_index(f->nd, "eth0"), -ENODEV);
	assert_int_equal(ns_probe(f->ns_fd, "eth0", 1450), 0);
	assert_int_equal(ns_probe(f->ns_fd, "rveth0", 0), PROBE_ABSENT);

	assert_int_equal(netdev_link_get(f->nd, host, &li), 0);
	assert_string_equal(li.name, "rveth0");
	assert_string_equal(li.kind, "veth");
	assert_int_equal(li.mtu, 1450);
	assert_false(li.up);
	assert_int_equal(li.master, 0);
	assert_false(li.hairpin);

	/* names taken: here, and over there */
	assert_int_equal(netdev_veth_create(f->nd, "rveth0", "eth1", f->ns_fd, 1450, NULL, NULL),
			 -EEXIST);
	assert_int_equal(netdev_veth_create(f->nd, "rveth1", "eth0", f->ns_fd, 1450, NULL, &oli),
			 -EEXIST);
	assert_int_equal(oli.ifindex, 0); /* not touched on failure */
	assert_int_equal(netdev_link_index(f->nd, "rveth1"), -ENODEV);
	assert_int_equal(netdev_veth_create(f->nd, "rveth0123456789ab", "eth1", f->ns_fd, 0, NULL, NULL),
			 -EINVAL);

	for (size_t i = 0; i < ARRAY_SIZE(hairpin_steps); i++) {
		assert_int_equal(netdev_link_set_master_up(f->nd, host, br, hairpin_steps[i], NULL), 0);
		assert_int_equal(netdev_link_get(f->nd, host, &li), 0);
		assert_int_equal(li.master, br);
		assert_true(li.up);
		assert_int_equal(li.hairpin, hairpin_steps[i]);
		assert_int_equal(netdev_link_is_up(f->nd, host), 1);
	}
	assert_int_equal(netdev_link_set_master_up(f->nd, 99999, br, true, NULL), -ENODEV);
	assert_int_equal(netdev_link_set_master_up(f->nd, host, 0, true, NULL), -EINVAL);
	/* the bridge kept the MTU it was given */
	assert_int_equal(netdev_link_get(f->nd, br, &li), 0);
	assert_int_equal(li.mtu, 1450);

	assert_int_equal(netdev_link_delete(f->nd, "rveth0"), 0);
	assert_int_equal(netdev_link_index(f->nd, "rveth0"), -ENODEV);
	assert_int_equal(ns_probe(f->ns_fd, "eth0", 0), PROBE_ABSENT);
	assert_int_equal(netdev_link_delete(f->nd, "rveth0"), 0); /* already gone */
	assert_int_equal(netdev_link_delete(f->nd, "rp0"), 0);
}

/* ---- host veth names, aliases and the teardown pool ------------------------ */

static void test_host_veth_name(void **state)
{
	char id[301], name[16], alias[72], hex[65], want[72];

	assert_int_equal(pod_host_veth_name("c1", "eth0", name), 0);
	bc_sha256_hex("c1/eth0", 7, hex);
	snprintf(want, sizeof(want), "veth%.11s", hex);
	assert_string_equal(name, want);
	assert_int_equal(strlen(name), 15); /* IFNAMSIZ - 1 */
	assert_int_equal(pod_host_veth_alias("c1", "eth0", alias), 0);
	snprintf(want, sizeof(want), "roost:%s", hex);
	assert_string_equal(alias, want);

	/* Longer than the pool keeps (the hash used to read past its key). */
	memset(id, 'a', 300);
	id[300] = '\0';
	assert_int_equal(pod_host_veth_name(id, "eth0", name), -EINVAL);
	assert_int_equal(pod_host_veth_alias(id, "eth0", alias), -EINVAL);
	id[255] = '\0';
	assert_int_equal(pod_host_veth_name(id, "eth0", name), 0);
	assert_int_equal(pod_host_veth_name("c1", "eth0123456789abc", name), -EINVAL);
	assert_int_equal(pod_host_veth_name("-c1", "eth0", name), -EINVAL);
}

static void count_done(void *arg, const struct teardown_job *job)
{
	int *results = arg;

	results[results[0] + 1] = job->result;
	results[0]++;
}

static void test_teardown(void **state)
{
	struct fixture *f = *state;
	struct teardown *td = NULL;
	struct teardown_job job = {0};
	struct netdev_link_info li;
	int results[8] = {0}, idx[3];
	char name[16], peer[16];

	assert_int_equal(teardown_new(2, &td), 0);
	for (int i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "rtd%d", i);
		snprintf(peer, sizeof(peer), "rtp%d", i);
		assert_int_equal(netdev_veth_create(f->nd, name, peer, -1, 0, "roost:x", &li), 0);
		assert_string_equal(li.alias, "roost:x");
		idx[i] = li.ifindex;
		assert_int_equal(netdev_link_lookup(f->nd, 0, name, &li), 0);
		assert_string_equal(li.alias, "roost:x");
	}
	/* Three deletions queued at once, one of a link that is gone already. */
	for (int i = 0; i < 3; i++) {
		memset(&job, 0, sizeof(job));
		job.host_ifindex = i == 2 ? 999999 : idx[i];
		snprintf(job.host, sizeof(job.host), "rtd%d", i);
		assert_int_equal(teardown_submit(td, &job), 0);
	}
	assert_true(teardown_pending(td) == 3);
	for (int waited = 0; results[0] < 3 && waited < 100; waited++) {
		struct pollfd p = {.fd = teardown_fd(td), .events = POLLIN};

		assert_true(poll(&p, 1, 100) >= 0);
		(void)teardown_reap(td, count_done, results);
	}
	assert_int_equal(results[0], 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(results[i + 1], 0);
	assert_int_equal(teardown_pending(td), 0);
	assert_false(teardown_pending_host(td, "rtd0"));
	assert_int_equal(netdev_link_index(f->nd, "rtd0"), -ENODEV);
	assert_int_equal(netdev_link_index(f->nd, "rtd1"), -ENODEV);
	teardown_free(td);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bridge_ensure),	  cmocka_unit_test(test_addr_ensure),
		cmocka_unit_test(test_link_lookup),	  cmocka_unit_test(test_route_count_proto),
		cmocka_unit_test(test_forwarding_enable), cmocka_unit_test(test_veth_pod),
		cmocka_unit_test(test_host_veth_name),	  cmocka_unit_test(test_teardown),
		cmocka_unit_test(test_addr6_ensure),	  cmocka_unit_test(test_ipv6_forwarding_enable),
		cmocka_unit_test(test_route6_count_proto),
	};

	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root\n");
		return 0;
	}
	/* Before anything else: never touch the machine's own namespace. */
	if (unshare(CLONE_NEWNET) < 0) {
		printf("1..0 # SKIP unshare(CLONE_NEWNET) failed: %s\n", strerror(errno));
		return 0;
	}
	log_init("test-netdev", LOG_DEBUG);
	return cmocka_run_group_tests_name("netdev", tests, group_setup, group_teardown);
}
