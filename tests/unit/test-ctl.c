/* SPDX-License-Identifier: MIT */
/*
 * DOC: test-ctl.c - the control-socket client against a real BIRD.
 *
 * Runs as root in a network namespace of its own (unshare(CLONE_NEWNET) at the
 * top of main), so neither BIRD nor the tests touch the machine's routes. It
 * starts `$BIRD -f` on a config in a mkdtemp directory and drives it through
 * bc_ctl_*: show commands, errors, configure check/timeout/confirm/undo.
 * Scripted fake servers (forked children on a unix socket) cover what a real
 * BIRD will not do on demand: bad greetings, replies split across reads,
 * stalls and closes mid-reply. Every child is ended by its pid, and the temp
 * directory removed, from main and from atexit().
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "bc-ctl.h"

#define CTL_MS 3000  /* timeout for calls to the real BIRD */
#define WAIT_MS 5000 /* bound for waiting on BIRD's state */
#define STEP_MS 20   /* polling step while waiting */

static struct {
	char dir[64];
	char sock[100], conf[100], alt[100], bad[100], log[100], pid[100], fake[100];
	pid_t bird;
	pid_t fake_pid;
} g;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void pause_ms(int ms)
{
	(void)poll(NULL, 0, ms);
}

/* Ends a child we started: SIGTERM, up to 2 s for it to go, then SIGKILL. */
static int stop_child(pid_t pid)
{
	int64_t deadline = now_ms() + 2000;
	int status = 0;

	if (pid <= 0)
		return -1;
	(void)kill(pid, SIGTERM);
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (now_ms() > deadline) {
			(void)kill(pid, SIGKILL);
			(void)waitpid(pid, &status, 0);
			break;
		}
		pause_ms(STEP_MS);
	}
	return status;
}

static void print_bird_log(void)
{
	char line[1024];
	FILE *f = fopen(g.log, "r");

	if (!f)
		return;
	printf("# BIRD log (%s):\n", g.log);
	while (fgets(line, sizeof(line), f))
		printf("#   %s", line);
	fclose(f);
}

static void cleanup(void)
{
	DIR *d;
	struct dirent *de;

	if (g.fake_pid > 0)
		(void)stop_child(g.fake_pid);
	g.fake_pid = 0;
	if (g.bird > 0)
		(void)stop_child(g.bird);
	g.bird = 0;
	if (!g.dir[0])
		return;
	d = opendir(g.dir);
	if (d) {
		while ((de = readdir(d))) {
			if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
				(void)unlinkat(dirfd(d), de->d_name, 0);
		}
		closedir(d);
	}
	(void)rmdir(g.dir);
	g.dir[0] = '\0';
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fputs(text, f);
	return fclose(f) == 0 ? 0 : -errno;
}

static int lo_up(void)
{
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int r = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		r = -errno;
	} else {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
			r = -errno;
	}
	close(fd);
	return r;
}

#define CONF_BASE                                                                                  \
	"router id 10.255.0.1;\n"                                                                  \
	"log stderr all;\n"                                                                        \
	"protocol device {}\n"

/* Writes the configs and starts BIRD; waits (bounded) until it greets. */
static int start_bird(char *why, size_t why_len)
{
	const char *bird = getenv("BIRD");
	int64_t deadline;
	int status;

	if (!bird || !*bird)
		bird = "bird";
	snprintf(g.dir, sizeof(g.dir), "/tmp/roost-test-ctl.XXXXXX");
	if (!mkdtemp(g.dir)) {
		g.dir[0] = '\0';
		snprintf(why, why_len, "mkdtemp: %s", strerror(errno));
		return -1;
	}
	snprintf(g.sock, sizeof(g.sock), "%s/bird.ctl", g.dir);
	snprintf(g.conf, sizeof(g.conf), "%s/bird.conf", g.dir);
	snprintf(g.alt, sizeof(g.alt), "%s/alt.conf", g.dir);
	snprintf(g.bad, sizeof(g.bad), "%s/bad.conf", g.dir);
	snprintf(g.log, sizeof(g.log), "%s/bird.log", g.dir);
	snprintf(g.pid, sizeof(g.pid), "%s/bird.pid", g.dir);
	snprintf(g.fake, sizeof(g.fake), "%s/fake.ctl", g.dir);
	if (write_file(g.conf, CONF_BASE
		       "protocol static s1 { ipv4; route 10.250.0.0/24 blackhole; }\n") < 0 ||
	    write_file(g.alt, CONF_BASE
		       "protocol static s1 { ipv4; route 10.250.0.0/24 blackhole; }\n"
		       "protocol static s2 { ipv4; route 10.251.0.0/24 blackhole; }\n") < 0 ||
	    /* line 4 is wrong */
	    write_file(g.bad, CONF_BASE
		       "protocol static s1 { ipv4; route 10.250.0.0/24 nonsense; }\n") < 0) {
		snprintf(why, why_len, "writing configs in %s: %s", g.dir, strerror(errno));
		return -1;
	}

	g.bird = fork();
	if (g.bird < 0) {
		snprintf(why, why_len, "fork: %s", strerror(errno));
		return -1;
	}
	if (g.bird == 0) {
		int fd = open(g.log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

		/* BIRD must not outlive the test, whatever happens to it */
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fd >= 0) {
			(void)dup2(fd, STDOUT_FILENO);
			(void)dup2(fd, STDERR_FILENO);
		}
		execlp(bird, bird, "-f", "-c", g.conf, "-s", g.sock, "-P", g.pid, (char *)NULL);
		_exit(127);
	}

	deadline = now_ms() + WAIT_MS;
	for (;;) {
		struct bc_ctl *c = NULL;
		int r = bc_ctl_open(g.sock, 500, &c);

		if (r == 0) {
			bc_ctl_free(c);
			return 0;
		}
		if (waitpid(g.bird, &status, WNOHANG) == g.bird) {
			g.bird = 0;
			snprintf(why, why_len, "%s exited (status 0x%x) before its socket answered",
				 bird, status);
			return -1;
		}
		if (now_ms() > deadline) {
			snprintf(why, why_len, "%s: no greeting on %s after %d ms: %s", bird,
				 g.sock, WAIT_MS, strerror(-r));
			return -1;
		}
		pause_ms(STEP_MS);
	}
}

static struct bc_ctl *open_bird(void)
{
	struct bc_ctl *c = NULL;

	assert_int_equal(bc_ctl_open(g.sock, CTL_MS, &c), 0);
	assert_non_null(c);
	return c;
}

/* Polls `show route NET` until the route is there from proto (want) or gone
 * (!want), for at most WAIT_MS. */
static bool route_is(struct bc_ctl *c, const char *net, const char *proto, bool want)
{
	int64_t deadline = now_ms() + WAIT_MS;

	for (;;) {
		struct bc_route *rt = NULL;
		size_t n = 0;
		bool found = false;

		assert_int_equal(bc_ctl_show_route(c, net, &rt, &n), 0);
		for (size_t i = 0; i < n; i++)
			found |= strcmp(rt[i].proto, proto) == 0;
		free(rt);
		if (found == want)
			return true;
		if (now_ms() > deadline)
			return false;
		pause_ms(STEP_MS);
	}
}

/* ---- against the real BIRD ----------------------------------------------- */

static void test_greeting(void **state)
{
	struct bc_ctl *c = open_bird();

	/* "2.0.12" on Debian 12; any 2.x will do */
	assert_true(strlen(bc_ctl_version(c)) > 0);
	assert_int_equal(strncmp(bc_ctl_version(c), "2.", 2), 0);
	bc_ctl_free(c);
}

static void test_show_status(void **state)
{
	struct bc_ctl *c = open_bird();
	struct bc_status st;

	assert_int_equal(bc_ctl_show_status(c, &st), 0);
	assert_true(st.running);
	assert_false(st.gr_recovery);
	assert_string_equal(st.router_id, "10.255.0.1");
	assert_string_equal(st.version, bc_ctl_version(c));
	assert_true(st.last_reboot[0] != '\0');
	bc_ctl_free(c);
}

static void test_show_protocols(void **state)
{
	struct bc_ctl *c = open_bird();
	int64_t deadline = now_ms() + WAIT_MS;

	for (;;) {
		struct bc_protocol *p = NULL;
		size_t n = 0;
		int up = 0;

		assert_int_equal(bc_ctl_show_protocols(c, false, &p, &n), 0);
		assert_int_equal(n, 2);
		for (size_t i = 0; i < n; i++) {
			if (strcmp(p[i].name, "device1") == 0) {
				assert_string_equal(p[i].proto, "Device");
				up += strcmp(p[i].state, "up") == 0;
			} else {
				assert_string_equal(p[i].name, "s1");
				assert_string_equal(p[i].proto, "Static");
				assert_string_equal(p[i].table, "master4");
				up += strcmp(p[i].state, "up") == 0;
			}
		}
		free(p);
		if (up == 2)
			break;
		assert_true(now_ms() < deadline);
		pause_ms(STEP_MS);
	}
	bc_ctl_free(c);
}

static void test_show_protocols_all(void **state)
{
	struct bc_ctl *c = open_bird();
	struct bc_protocol *p = NULL;
	size_t n = 0;

	assert_int_equal(bc_ctl_show_protocols(c, true, &p, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(p[1].name, "s1");
	assert_true(p[1].has_routes);
	assert_int_equal(p[1].routes_imported, 1);
	assert_int_equal(p[1].routes_preferred, 1);
	assert_string_equal(p[1].input_filter, "ACCEPT");
	assert_false(p[0].has_routes);
	free(p);
	bc_ctl_free(c);
}

static void test_show_route(void **state)
{
	struct bc_ctl *c = open_bird();
	struct bc_route *rt = NULL;
	size_t n = 0;

	assert_int_equal(bc_ctl_show_route(c, NULL, &rt, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(rt[0].table, "master4");
	assert_string_equal(rt[0].prefix, "10.250.0.0/24");
	assert_string_equal(rt[0].type, "blackhole");
	assert_string_equal(rt[0].proto, "s1");
	assert_true(rt[0].best);
	assert_false(rt[0].sync_error);
	assert_int_equal(rt[0].pref, 200);
	free(rt);

	assert_int_equal(bc_ctl_show_route(c, "all for 10.250.0.7", &rt, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(rt[0].route_type, "static univ");
	free(rt);
	bc_ctl_free(c);
}

static void test_show_route_missing(void **state)
{
	struct bc_ctl *c = open_bird();
	struct bc_reply r = {0};
	struct bc_route *rt = (void *)1;
	size_t n = 99;

	assert_int_equal(bc_ctl_cmd(c, "show route 10.99.0.0/24", &r), 0);
	assert_int_equal(r.code, 8001);
	bc_reply_done(&r);
	assert_int_equal(bc_ctl_show_route(c, "10.99.0.0/24", &rt, &n), 0);
	assert_int_equal(n, 0);
	assert_null(rt);
	bc_ctl_free(c);
}

static void test_unknown_command(void **state)
{
	struct bc_ctl *c = open_bird();
	struct bc_reply r = {0};
	struct bc_status st;

	assert_int_equal(bc_ctl_cmd(c, "frobnicate the routes", &r), 0);
	assert_int_equal(r.code, 9001);
	assert_true(bc_code_is_error(r.code));
	bc_reply_done(&r);
	/* the connection is still in step */
	assert_int_equal(bc_ctl_show_status(c, &st), 0);
	bc_ctl_free(c);
}

static void test_command_limits(void **state)
{
	struct bc_ctl *c = open_bird();
	struct bc_reply r = {0};
	char *cmd = malloc(4097);

	assert_non_null(cmd);
	assert_int_equal(bc_ctl_cmd(c, "show status\nshow route", &r), -EINVAL);
	assert_int_equal(bc_ctl_cmd(c, "", &r), -EINVAL);
	memset(cmd, ' ', 4096);
	memcpy(cmd, "show status", 11);
	cmd[4096] = '\0';
	assert_int_equal(bc_ctl_cmd(c, cmd, &r), -EINVAL);
	cmd[BC_CMD_MAX + 1] = '\0';
	assert_int_equal(bc_ctl_cmd(c, cmd, &r), -EINVAL);
	/* the longest command BIRD 2.0.12 takes: nothing refused was sent */
	cmd[BC_CMD_MAX] = '\0';
	assert_int_equal(bc_ctl_cmd(c, cmd, &r), 0);
	assert_int_equal(r.code, 13);
	bc_reply_done(&r);
	free(cmd);
	bc_ctl_free(c);
}

static void test_configure_check(void **state)
{
	struct bc_ctl *c = open_bird();
	struct rst_err e;
	char want[160];

	assert_int_equal(bc_ctl_configure_check(c, NULL, &e), 0);
	assert_string_equal(e.msg, "");
	assert_int_equal(bc_ctl_configure_check(c, g.conf, &e), 0);
	assert_int_equal(bc_ctl_configure_check(c, g.alt, NULL), 0);

	/* "<dir>/bad.conf:4:<col> syntax error, ..." */
	assert_int_equal(bc_ctl_configure_check(c, g.bad, &e), -EINVAL);
	snprintf(want, sizeof(want), "%s:4:", g.bad);
	if (strncmp(e.msg, want, strlen(want)) != 0)
		fail_msg("msg '%s' does not start with '%s'", e.msg, want);

	assert_int_equal(bc_ctl_configure_check(c, "/nonexistent/roost.conf", &e), -EINVAL);
	assert_non_null(strstr(e.msg, "/nonexistent/roost.conf"));
	assert_non_null(strstr(e.msg, "No such file"));

	/* refused before anything is sent */
	assert_int_equal(bc_ctl_configure_check(c, "/tmp/a\"b.conf", &e), -EINVAL);
	assert_true(e.msg[0] != '\0');
	assert_int_equal(bc_ctl_configure_check(c, "/tmp/a\nshow status", &e), -EINVAL);
	assert_int_equal(bc_ctl_configure_check(c, "", &e), -EINVAL);
	assert_int_equal(bc_ctl_configure_check(c, NULL, &e), 0);
	bc_ctl_free(c);
}

static void test_configure_bad_file(void **state)
{
	struct bc_ctl *c = open_bird();
	struct rst_err e;

	assert_int_equal(bc_ctl_configure(c, g.bad, 0, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "bad.conf:4:"));
	/* the running config is untouched */
	assert_true(route_is(c, "10.250.0.0/24", "s1", true));
	assert_int_equal(bc_ctl_configure(c, NULL, 0, &e), 0);
	bc_ctl_free(c);
}

static void test_configure_confirm(void **state)
{
	struct bc_ctl *c = open_bird();
	struct rst_err e;

	assert_int_equal(bc_ctl_configure(c, g.alt, 30, &e), 0);
	assert_true(route_is(c, "10.251.0.0/24", "s2", true));
	assert_int_equal(bc_ctl_configure_confirm(c, &e), 0);
	/* 0019 Nothing to do */
	assert_int_equal(bc_ctl_configure_confirm(c, &e), 0);
	/* back to the -c file */
	assert_int_equal(bc_ctl_configure(c, NULL, 0, &e), 0);
	assert_true(route_is(c, "10.251.0.0/24", "s2", false));
	bc_ctl_free(c);
}

static void test_configure_undo(void **state)
{
	struct bc_ctl *c = open_bird();
	struct rst_err e;

	assert_int_equal(bc_ctl_configure(c, g.alt, 30, &e), 0);
	assert_true(route_is(c, "10.251.0.0/24", "s2", true));
	assert_int_equal(bc_ctl_configure_undo(c, &e), 0);
	assert_true(route_is(c, "10.251.0.0/24", "s2", false));
	assert_true(route_is(c, "10.250.0.0/24", "s1", true));
	/* 0021 then 0019: one level of undo only */
	assert_int_equal(bc_ctl_configure_undo(c, &e), 0);
	bc_ctl_free(c);
}

/* Unconfirmed: BIRD undoes it alone and tells this session with a '+' line. */
static void test_configure_timeout_expires(void **state)
{
	struct bc_ctl *c = open_bird();
	int64_t deadline;
	struct rst_err e;
	bool seen = false;

	assert_int_equal(bc_ctl_configure(c, g.alt, 1, &e), 0);
	deadline = now_ms() + WAIT_MS;
	while (!seen) {
		struct bc_reply r = {0};

		assert_int_equal(bc_ctl_cmd(c, "configure status", &r), 0);
		assert_int_equal(r.code, 0);
		for (size_t i = 0; i < r.n_async; i++)
			seen |= strcmp(r.async[i], "Config timeout expired, starting undo") == 0;
		bc_reply_done(&r);
		if (!seen) {
			assert_true(now_ms() < deadline);
			pause_ms(50);
		}
	}
	assert_true(route_is(c, "10.251.0.0/24", "s2", false));
	bc_ctl_free(c);
}

static void test_configure_refused(void **state)
{
	struct bc_ctl *c = open_bird();
	struct bc_reply r = {0};
	struct rst_err e;

	assert_int_equal(bc_ctl_cmd(c, "restrict", &r), 0);
	assert_int_equal(r.code, 16);
	bc_reply_done(&r);
	assert_int_equal(bc_ctl_configure(c, NULL, 0, &e), -EINVAL);
	assert_string_equal(e.msg, "BIRD replied 8007 Access denied");
	assert_int_equal(bc_ctl_configure_undo(c, &e), -EINVAL);
	assert_string_equal(e.msg, "BIRD replied 8007 Access denied");
	bc_ctl_free(c);
}

/* ---- connecting ---------------------------------------------------------- */

static void test_open_errors(void **state)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct bc_ctl *c = NULL;
	char path[100], longp[200];
	int64_t t0;
	int fd;

	snprintf(path, sizeof(path), "%s/nobody.ctl", g.dir);
	t0 = now_ms();
	assert_int_equal(bc_ctl_open(path, 5000, &c), -ENOENT);
	assert_true(now_ms() - t0 < 1000);

	/* a socket file nobody listens on */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	t0 = now_ms();
	assert_int_equal(bc_ctl_open(path, 5000, &c), -ECONNREFUSED);
	assert_true(now_ms() - t0 < 1000);
	unlink(path);

	memset(longp, 'x', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	longp[0] = '/';
	assert_int_equal(bc_ctl_open(longp, 100, &c), -ENAMETOOLONG);
	assert_int_equal(bc_ctl_open(g.sock, 0, &c), -EINVAL);
	assert_null(c);
}

/* Someone listens but never greets: bounded by the timeout. */
static void test_open_timeout(void **state)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct bc_ctl *c = NULL;
	int64_t t0, dt;
	int fd;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", g.fake);
	unlink(g.fake);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	t0 = now_ms();
	assert_int_equal(bc_ctl_open(g.fake, 300, &c), -ETIMEDOUT);
	dt = now_ms() - t0;
	assert_true(dt >= 250 && dt < 2000);
	close(fd);
	unlink(g.fake);
}

/* ---- scripted fake servers ----------------------------------------------- */

enum step_kind {
	SEND,	/* data, in chunks of `chunk` bytes (0: at once) 2 ms apart */
	EXPECT, /* read one line; it must be data (without '\n') */
	STALL,	/* read until the client closes */
};

struct step {
	enum step_kind kind;
	const char *data;
	size_t chunk;
};

static int child_read_line(int fd, char *buf, size_t size)
{
	size_t n = 0;

	while (n + 1 < size) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		char ch;

		if (poll(&pfd, 1, 5000) <= 0 || read(fd, &ch, 1) != 1)
			return -1;
		if (ch == '\n') {
			buf[n] = '\0';
			return 0;
		}
		buf[n++] = ch;
	}
	return -1;
}

static void child_run(int lfd, const struct step *steps, size_t n_steps)
{
	char line[4200];
	int fd = accept(lfd, NULL, NULL);

	if (fd < 0)
		_exit(3);
	for (size_t i = 0; i < n_steps; i++) {
		const struct step *s = &steps[i];
		size_t len, off = 0;

		switch (s->kind) {
		case SEND:
			len = strlen(s->data);
			while (off < len) {
				size_t k = s->chunk && s->chunk < len - off ? s->chunk : len - off;

				if (send(fd, s->data + off, k, MSG_NOSIGNAL) != (ssize_t)k)
					_exit(4);
				off += k;
				if (s->chunk)
					pause_ms(2);
			}
			break;
		case EXPECT:
			if (child_read_line(fd, line, sizeof(line)) < 0 ||
			    strcmp(line, s->data) != 0)
				_exit(2);
			break;
		case STALL:
			while (read(fd, line, sizeof(line)) > 0)
				;
			break;
		}
	}
	close(fd);
	_exit(0);
}

/* Listens on g.fake and forks a child that plays steps to one client. */
static void fake_start(const struct step *steps, size_t n_steps)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	pid_t pid;

	assert_true(lfd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", g.fake);
	unlink(g.fake);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		child_run(lfd, steps, n_steps);
	}
	close(lfd);
	g.fake_pid = pid;
}

/* Waits (bounded) for the fake server to finish; 0 when it played its whole
 * script and saw the commands it expected. */
static int fake_finish(void)
{
	int64_t deadline = now_ms() + 3000;
	int status = -1;
	pid_t pid = g.fake_pid;

	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (now_ms() > deadline) {
			(void)kill(pid, SIGKILL);
			(void)waitpid(pid, &status, 0);
			break;
		}
		pause_ms(STEP_MS);
	}
	g.fake_pid = 0;
	unlink(g.fake);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

#define GREETING "0001 BIRD 2.0.12 ready.\n"

static void test_fake_greetings(void **state)
{
	static const struct {
		const char *bytes;
		size_t chunk;
		bool stall; /* keep the connection open afterwards */
		int want;
	} cases[] = {
		{GREETING, 0, true, 0},
		{GREETING, 1, true, 0},
		{"+early notice\n" GREETING, 3, true, 0},
		{"0001 Welcome\n", 0, true, -EBADMSG},
		{"0001 BIRD  ready.\n", 0, true, -EBADMSG},
		{"0001 BIRD 2.0.12 ready\n", 0, true, -EBADMSG},
		{"0013 BIRD 2.0.12 ready.\n", 0, true, -EBADMSG},
		{"0001-BIRD 2.0.12 ready.\n0000 \n", 0, true, -EBADMSG},
		{"hello\n", 0, true, -EBADMSG},
		{"", 0, false, -ECONNRESET},
		{"0001 BIRD 2.0.12 rea", 0, true, -ETIMEDOUT},
		{"0001 BIRD 2.0.12 rea", 0, false, -ECONNRESET},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct step steps[] = {
			{SEND, cases[i].bytes, cases[i].chunk},
			{STALL, NULL, 0},
		};
		struct bc_ctl *c = NULL;
		int r;

		fake_start(steps, cases[i].stall ? 2 : 1);
		r = bc_ctl_open(g.fake, 400, &c);
		if (r != cases[i].want)
			fail_msg("greeting '%s': %d, want %d", cases[i].bytes, r, cases[i].want);
		if (r == 0)
			assert_string_equal(bc_ctl_version(c), "2.0.12");
		bc_ctl_free(c);
		assert_int_equal(fake_finish(), 0);
	}
}

/* Replies trickle in a few bytes at a time, with '+' lines inside a reply and
 * between two replies. */
static void test_fake_split_reply(void **state)
{
	static const struct step steps[] = {
		{SEND, GREETING, 1},
		{EXPECT, "show route all", 0},
		{SEND,
		 "1007-Table master4:\n 10.244.1.0/24        unicast [pods 09:25:55.285] * (240)\n"
		 "+Reconfiguring\n \tdev cni0\n1008-\tType: device univ\n"
		 "1007-10.244.2.0/24        unicast [node_n2 09:26:08.076] * (100) [i]\n"
		 " \tvia 172.31.0.2 on eth0\n1008-\tType: BGP univ\n1012-\tBGP.origin: IGP\n"
		 " \tBGP.large_community: (64512, 1, 2)\n0000 \n+between replies\n",
		 5},
		{EXPECT, "show status", 0},
		{SEND,
		 "1000-BIRD 2.0.12\n1011-Router ID is 172.31.0.1\n Hostname is vm\n"
		 "0013 Daemon is up and running\n",
		 3},
		{STALL, NULL, 0},
	};
	struct bc_ctl *c = NULL;
	struct bc_reply r = {0};
	struct bc_route *rt = NULL;
	struct bc_status st;
	size_t n = 0;

	fake_start(steps, ARRAY_SIZE(steps));
	assert_int_equal(bc_ctl_open(g.fake, 2000, &c), 0);
	assert_int_equal(bc_ctl_cmd(c, "show route all", &r), 0);
	assert_int_equal(r.code, 0);
	assert_int_equal(r.n_async, 1);
	assert_string_equal(r.async[0], "Reconfiguring");
	assert_int_equal(bc_parse_routes(&r, &rt, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(rt[1].via, "172.31.0.2");
	assert_string_equal(rt[1].dev, "eth0");
	assert_int_equal(rt[1].n_lc, 1);
	free(rt);
	bc_reply_done(&r);

	assert_int_equal(bc_ctl_cmd(c, "show status", &r), 0);
	assert_int_equal(r.n_async, 1);
	assert_string_equal(r.async[0], "between replies");
	assert_int_equal(bc_parse_status(&r, &st), 0);
	assert_string_equal(st.router_id, "172.31.0.1");
	bc_reply_done(&r);
	bc_ctl_free(c);
	assert_int_equal(fake_finish(), 0);
}

/* A reply that stops half-way: -ETIMEDOUT, then the connection is unusable. */
static void test_fake_stall(void **state)
{
	static const struct step steps[] = {
		{SEND, GREETING, 0},
		{EXPECT, "show protocols", 0},
		{SEND, "2002-Name       Proto      Table      State  Since         Info\n1002-dev",
		 0},
		{STALL, NULL, 0},
	};
	struct bc_ctl *c = NULL;
	struct bc_protocol *p = NULL;
	struct bc_reply r = {0};
	size_t n = 0;
	int64_t t0, dt;

	fake_start(steps, ARRAY_SIZE(steps));
	assert_int_equal(bc_ctl_open(g.fake, 300, &c), 0);
	t0 = now_ms();
	assert_int_equal(bc_ctl_show_protocols(c, false, &p, &n), -ETIMEDOUT);
	dt = now_ms() - t0;
	assert_true(dt >= 250 && dt < 2000);
	assert_int_equal(bc_ctl_cmd(c, "show status", &r), -ENOTCONN);
	bc_ctl_free(c);
	assert_int_equal(fake_finish(), 0);
}

/* BIRD goes away in the middle of a reply. */
static void test_fake_close(void **state)
{
	static const struct step steps[] = {
		{SEND, GREETING, 0},
		{EXPECT, "configure", 0},
		{SEND, "0002-Reading configuration from /etc/bird/bird.conf\n", 0},
	};
	struct bc_ctl *c = NULL;
	struct rst_err e;

	fake_start(steps, ARRAY_SIZE(steps));
	assert_int_equal(bc_ctl_open(g.fake, 2000, &c), 0);
	assert_int_equal(bc_ctl_configure(c, NULL, 0, &e), -ECONNRESET);
	assert_int_equal(bc_ctl_configure_confirm(c, &e), -ENOTCONN);
	bc_ctl_free(c);
	assert_int_equal(fake_finish(), 0);
}

/* Replies no BIRD command should get. */
static void test_fake_odd_replies(void **state)
{
	static const struct step steps[] = {
		{SEND, GREETING, 0},
		{EXPECT, "configure undo", 0},
		{SEND, "0003 Reconfigured\n", 0}, /* no 0021 first */
		{EXPECT, "configure confirm", 0},
		{SEND, "0020 Configuration OK\n", 0},
		{EXPECT, "configure \"/etc/x.conf\" timeout 5", 0},
		{SEND,
		 "0002-Reading configuration from /etc/x.conf\n0022-Undo scheduled in 5 s\n"
		 "0006 Reconfiguration ignored, shutting down\n",
		 0},
		{EXPECT, "show status", 0},
		{SEND, "1000-BIRD 2.0.12\nnot a reply line\n0013 Daemon is up and running\n", 0},
		{STALL, NULL, 0},
	};
	struct bc_ctl *c = NULL;
	struct bc_status st;
	struct rst_err e;

	fake_start(steps, ARRAY_SIZE(steps));
	assert_int_equal(bc_ctl_open(g.fake, 2000, &c), 0);
	assert_int_equal(bc_ctl_configure_undo(c, &e), -EBADMSG);
	assert_int_equal(bc_ctl_configure_confirm(c, &e), -EBADMSG);
	assert_non_null(strstr(e.msg, "0020 Configuration OK"));
	assert_int_equal(bc_ctl_configure(c, "/etc/x.conf", 5, &e), -EINVAL);
	assert_string_equal(e.msg, "BIRD replied 0006 Reconfiguration ignored, shutting down");
	assert_int_equal(bc_ctl_show_status(c, &st), -EBADMSG);
	bc_ctl_free(c);
	assert_int_equal(fake_finish(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_greeting),
		cmocka_unit_test(test_show_status),
		cmocka_unit_test(test_show_protocols),
		cmocka_unit_test(test_show_protocols_all),
		cmocka_unit_test(test_show_route),
		cmocka_unit_test(test_show_route_missing),
		cmocka_unit_test(test_unknown_command),
		cmocka_unit_test(test_command_limits),
		cmocka_unit_test(test_configure_check),
		cmocka_unit_test(test_configure_bad_file),
		cmocka_unit_test(test_configure_confirm),
		cmocka_unit_test(test_configure_undo),
		cmocka_unit_test(test_configure_timeout_expires),
		cmocka_unit_test(test_configure_refused),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_open_timeout),
		cmocka_unit_test(test_fake_greetings),
		cmocka_unit_test(test_fake_split_reply),
		cmocka_unit_test(test_fake_stall),
		cmocka_unit_test(test_fake_close),
		cmocka_unit_test(test_fake_odd_replies),
	};
	char why[512];
	int r;

	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root\n");
		return 0;
	}
	/* a namespace of our own: BIRD's device and kernel scans see only lo */
	if (unshare(CLONE_NEWNET) < 0) {
		printf("Bail out! unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return 1;
	}
	r = lo_up();
	if (r < 0) {
		printf("Bail out! bringing lo up: %s\n", strerror(-r));
		return 1;
	}
	atexit(cleanup);
	if (start_bird(why, sizeof(why)) < 0) {
		printf("Bail out! %s\n", why);
		print_bird_log();
		cleanup();
		return 1;
	}
	r = cmocka_run_group_tests(tests, NULL, NULL);
	if (r != 0)
		print_bird_log();
	cleanup();
	return r;
}
