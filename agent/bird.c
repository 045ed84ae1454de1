/* SPDX-License-Identifier: MIT */
/*
 * bird.c - spawn, adopt, supervise and reconfigure BIRD (see bird.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bc-ctl.h"
#include "bird.h"
#include "log.h"
#include "netdev.h"
#include "rst-util.h"

#define CTL_TIMEOUT_MS 5000
#define READY_TIMEOUT_MS 10000
#define RESTART_BACKOFF_MAX_S 30

void bird_init(struct bird *b, const struct roostd_conf *conf)
{
	memset(b, 0, sizeof(*b));
	b->conf = conf;
	b->pidfd = -1;
}

void bird_done(struct bird *b)
{
	if (b->pidfd >= 0)
		close(b->pidfd);
	b->pidfd = -1;
	free(b->applied);
	b->applied = NULL;
}

int bird_fd(const struct bird *b)
{
	return b->pidfd;
}

/* ---- files ----------------------------------------------------------------- */

/* Writes text to path (mode 0600: the file may hold BGP passwords), creating
 * its folder if needed. flags: RST_WRITE_NOSYNC for files whose loss does no
 * harm (the `bird -p` scratch file, the confirmed record). */
static int write_text(const char *path, const char *text, unsigned flags)
{
	int r = rst_mkdir_parent(path, 0755);

	return r < 0 ? r : rst_write_atomic(path, text, strlen(text), 0600, flags);
}

static char *read_text(const char *path)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0;
	FILE *m;
	char chunk[4096];
	size_t n;

	if (!f)
		return NULL;
	m = open_memstream(&buf, &len);
	if (!m)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, n, m);
	fclose(m);
	return buf;
}

/*
 * What BIRD runs is not what the file says: BIRD reads the file only when it
 * starts or is told to `configure`, rolls an unconfirmed `configure timeout`
 * back in memory only, and a roostd that dies between `configure timeout`
 * and `configure confirm` leaves the new file on disk while BIRD goes back
 * to the old configuration. So roostd records, in "<config>.confirmed"
 * (0600, like the config: it holds the same passwords), the text BIRD
 * confirmed or was started with, and a text counts as applied only when
 * both that record and the file hold it. A missing or different record, or
 * a file changed behind roostd's back, makes the next apply (at start too)
 * run the full configure cycle; a record written late costs at most one
 * configure that changes nothing.
 */
static void confirmed_path(const struct roostd_conf *c, char *buf, size_t len)
{
	snprintf(buf, len, "%s.confirmed", c->bird_config);
}

static char *read_confirmed(const struct roostd_conf *c)
{
	char path[4200];

	confirmed_path(c, path, sizeof(path));
	return read_text(path);
}

/* Records text as what BIRD runs now. When that fails the record is
 * removed, never left stale: a missing record only costs a configure that
 * changes nothing at the next start, so this is logged, not returned. */
static void record_confirmed(const struct roostd_conf *c, const char *text)
{
	char path[4200];
	int r;

	confirmed_path(c, path, sizeof(path));
	/* No fsync: a record lost or emptied by a power loss only differs
	 * from every text, which costs one configure. */
	r = text ? write_text(path, text, RST_WRITE_NOSYNC) : -ENOENT;
	if (r < 0) {
		(void)unlink(path);
		log_errno(LOG_WARNING, r, "bird: cannot record the confirmed configuration in '%s', ignoring",
			  path);
	}
}

/* Checks text with `bird -p` through a scratch file next to the real one. */
static int check_text(const struct roostd_conf *c, const char *text, struct rst_err *reterr)
{
	char tmp[4200];
	int r;

	snprintf(tmp, sizeof(tmp), "%s.check", c->bird_config);
	r = write_text(tmp, text, RST_WRITE_NOSYNC);
	if (r < 0)
		return rst_err_set(reterr, r, tmp, 0, "cannot write: %s", strerror(-r));
	r = bc_check(c->bird_binary, tmp, reterr);
	unlink(tmp);
	return r;
}

/* ---- process --------------------------------------------------------------- */

static int pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static pid_t read_pidfile(const char *path)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	long pid;

	if (!f || fscanf(f, "%ld", &pid) != 1 || pid <= 1 || pid > 1 << 22)
		return 0;
	return (pid_t)pid;
}

/* Does the BIRD control socket answer with a greeting? */
static bool socket_answers(const char *sock, int timeout_ms)
{
	_cleanup_(bc_ctl_freep) struct bc_ctl *ctl = NULL;

	return bc_ctl_open(sock, timeout_ms, &ctl) == 0;
}

/* Waits, polling with a bound, until the socket answers. */
static bool wait_ready(const struct bird *b)
{
	int64_t deadline = rst_now_ms() + READY_TIMEOUT_MS;

	while (rst_now_ms() < deadline) {
		if (socket_answers(b->conf->bird_socket, 1000))
			return true;
		if (b->child && b->pid > 0) {
			siginfo_t si = {0};

			/* Died? Leave the zombie for bird_on_exit() to report. */
			if (waitid(P_PID, (id_t)b->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 ||
			    si.si_pid != 0)
				return false;
		}
		(void)poll(NULL, 0, 20);
	}
	return false;
}

/* Whether the kernel holds routes a previous BIRD installed: then BIRD must
 * start with -R, so its kernel protocol keeps them until BGP has relearned
 * them. Without any, -R would only delay the first routes (the kernel sync
 * waits for every graceful-restart peer, up to `graceful restart wait`). */
static bool kernel_has_bird_routes(void)
{
	struct netdev *nd = NULL;
	int n = 0;

	if (netdev_open(&nd) == 0) {
		n = netdev_route_count_proto(nd, RTPROT_BIRD);
		/* Dual-stack: an IPv6-only node has IPv6 routes only. */
		if (n == 0)
			n = netdev_route6_count_proto(nd, RTPROT_BIRD);
		netdev_free(nd);
	}
	return n > 0;
}

static int spawn(struct bird *b)
{
	const struct roostd_conf *c = b->conf;
	bool recover = kernel_has_bird_routes();
	const char *argv[12];
	int argc = 0, r;
	pid_t pid;

	r = rst_mkdir_parent(c->bird_socket, 0755);
	if (r < 0 || (r = rst_mkdir_parent(c->bird_pidfile, 0755)) < 0)
		return log_errno(LOG_ERR, r, "bird: cannot create the folder of '%s'",
				 c->bird_socket);
	argv[argc++] = c->bird_binary;
	argv[argc++] = "-f";
	if (recover)
		argv[argc++] = "-R";
	argv[argc++] = "-c";
	argv[argc++] = c->bird_config;
	argv[argc++] = "-s";
	argv[argc++] = c->bird_socket;
	argv[argc++] = "-P";
	argv[argc++] = c->bird_pidfile;
	argv[argc] = NULL;

	/* The BIRD about to start reads exactly the file on disk. */
	{
		_cleanup_free_ char *ondisk = read_text(c->bird_config);

		record_confirmed(c, ondisk);
	}
	pid = fork();
	if (pid < 0)
		return log_errno(LOG_ERR, errno, "bird: fork failed");
	if (pid == 0) {
		sigset_t none;
		int fd;

		/* Own session and process group: BIRD outlives roostd and gets
		 * no signal meant for roostd's group. stderr stays roostd's. */
		setsid();
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		fd = open("/dev/null", O_RDWR);
		if (fd >= 0) {
			dup2(fd, STDIN_FILENO);
			if (fd > STDERR_FILENO)
				close(fd);
		}
		dup2(STDERR_FILENO, STDOUT_FILENO);
		syscall(SYS_close_range, 3U, ~0U, 0U);
		execvp(argv[0], (char *const *)argv);
		dprintf(STDERR_FILENO, "roostd: bird: cannot run '%s': %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	b->pid = pid;
	b->child = true;
	b->starts++;
	b->started_ms = rst_now_ms();
	b->pidfd = pidfd_open_(pid);
	if (b->pidfd < 0)
		log_errno(LOG_WARNING, errno, "bird: pid %d: pidfd_open failed, not supervised",
			  (int)pid);
	log_info("bird: started pid=%d recovery=%s config='%s' socket='%s'", (int)pid,
		 recover ? "yes (-R: kernel routes kept until BGP has relearned them)" : "no",
		 c->bird_config, c->bird_socket);
	return 0;
}

static int adopt(struct bird *b)
{
	pid_t pid = read_pidfile(b->conf->bird_pidfile);

	b->child = false;
	b->pid = 0;
	if (pid == 0) {
		log_warn("bird: answers on '%s' but pid file '%s' is unreadable; not supervised",
			 b->conf->bird_socket, b->conf->bird_pidfile);
		return 0;
	}
	b->pidfd = pidfd_open_(pid);
	if (b->pidfd < 0) {
		log_errno(LOG_WARNING, errno, "bird: pid %d from '%s': not supervised", (int)pid,
			  b->conf->bird_pidfile);
		return 0;
	}
	b->pid = pid;
	log_info("bird: adopted running pid=%d socket='%s'", (int)pid, b->conf->bird_socket);
	return 0;
}

/* ---- configuration ----------------------------------------------------------- */

static int restore(const struct roostd_conf *c, const char *prev)
{
	int r;

	if (!prev)
		return 0;
	r = write_text(c->bird_config, prev, 0);
	if (r < 0)
		log_errno(LOG_ERR, r, "bird: cannot restore previous '%s'", c->bird_config);
	return r;
}

/* ROOST_TEST_CRASH_AT=<where>: the integration tests kill roostd (SIGKILL,
 * like kill -9) at a named point to check what a restart recovers. */
static void test_crash_point(const char *where)
{
	const char *at = getenv("ROOST_TEST_CRASH_AT");

	if (at && strcmp(at, where) == 0) {
		log_warn("bird: ROOST_TEST_CRASH_AT=%s: killing roostd here (test hook)", where);
		raise(SIGKILL);
	}
}

int bird_apply(struct bird *b, const char *text, struct rst_err *reterr)
{
	const struct roostd_conf *c = b->conf;
	_cleanup_free_ char *confirmed = b->applied ? NULL : read_confirmed(c);
	_cleanup_free_ char *ondisk = read_text(c->bird_config);
	const char *running = b->applied ? b->applied : confirmed;
	_cleanup_free_ char *prev = NULL;
	_cleanup_(bc_ctl_freep) struct bc_ctl *ctl = NULL;
	struct bc_status st;
	struct rst_err e;
	int r;

	/* Only a changed text is applied: even a no-op `configure` costs BIRD
	 * 2.0.12 up to 3 s of held UPDATEs. Unchanged means: BIRD confirmed
	 * this text, and the file (what a BIRD restart would read) holds it. */
	if (running && strcmp(running, text) == 0 && ondisk && strcmp(ondisk, text) == 0) {
		if (!b->applied)
			b->applied = TAKE_PTR(confirmed);
		return 0;
	}
	if (!running)
		log_info("bird: no record of what BIRD confirmed ('%s.confirmed'); applying the configuration",
			 c->bird_config);
	else if (strcmp(running, text) == 0)
		log_warn("bird: '%s' differs from the configuration BIRD confirmed (edited by hand?); applying it again",
			 c->bird_config);
	/* On failure the file goes back to what BIRD runs, as far as known. */
	prev = running ? strdup(running) : TAKE_PTR(ondisk);

	r = check_text(c, text, reterr);
	if (r < 0)
		return r;
	r = write_text(c->bird_config, text, 0);
	if (r < 0)
		return rst_err_set(reterr, r, c->bird_config, 0, "cannot write: %s", strerror(-r));

	r = bc_ctl_open(c->bird_socket, CTL_TIMEOUT_MS, &ctl);
	if (r < 0) {
		/* Not running: the next start reads the new file (and spawn()
		 * records it). */
		log_warn("bird: socket '%s' does not answer (%s); new configuration takes effect when BIRD starts",
			 c->bird_socket, strerror(-r));
		goto applied;
	}
	r = bc_ctl_configure_check(ctl, c->bird_config, reterr);
	if (r < 0)
		goto undo_file;
	r = bc_ctl_configure(ctl, c->bird_config, c->configure_timeout, reterr);
	if (r < 0)
		goto undo_file;

	/* Confirm only once BIRD answers on a fresh connection. */
	bc_ctl_free(TAKE_PTR(ctl));
	r = bc_ctl_open(c->bird_socket, CTL_TIMEOUT_MS, &ctl);
	/* While a removed protocol shuts down BIRD says "Reconfiguration in
	 * progress": wait for "up and running", bounded, before confirming. */
	for (int tries = 0; r == 0; tries++) {
		r = bc_ctl_show_status(ctl, &st);
		if (r < 0 || st.running)
			break;
		if (tries >= 200) {
			r = -EAGAIN;
			break;
		}
		(void)poll(NULL, 0, 50);
	}
	if (r == 0) {
		test_crash_point("confirm");
		r = bc_ctl_configure_confirm(ctl, &e);
	}
	if (r < 0) {
		rst_err_set(reterr, r, NULL, 0,
			    "BIRD did not answer after `configure` (%s); undoing", strerror(-r));
		if (ctl && bc_ctl_configure_undo(ctl, &e) < 0)
			log_warn("bird: configure undo failed: %s; BIRD undoes by itself in %u s",
				 e.msg, c->configure_timeout);
		goto undo_file;
	}
	record_confirmed(c, text);
	log_info("bird: configuration applied and confirmed config='%s'", c->bird_config);
applied:
	free(b->applied);
	b->applied = strdup(text);
	return 0;

undo_file:
	restore(c, prev);
	return r;
}

int bird_start(struct bird *b, const char *text)
{
	const struct roostd_conf *c = b->conf;
	struct rst_err e;
	int r;

	if (socket_answers(c->bird_socket, CTL_TIMEOUT_MS)) {
		adopt(b);
		r = bird_apply(b, text, &e);
		if (r < 0) {
			char buf[1024];

			rst_err_format(&e, buf, sizeof(buf));
			log_error("bird: new configuration not applied, the running one stays: %s",
				  buf);
		}
		return 0;
	}
	if (!c->bird_spawn) {
		log_warn("bird: nothing answers on '%s' and bird.spawn is false; waiting for it",
			 c->bird_socket);
		r = write_text(c->bird_config, text, 0);
		b->next_start_ms = rst_now_ms();
		return r;
	}

	r = check_text(c, text, &e);
	if (r < 0) {
		char buf[1024];

		rst_err_format(&e, buf, sizeof(buf));
		return log_errno(LOG_ERR, r, "bird: rendered configuration rejected by `%s -p`: %s",
				 c->bird_binary, buf);
	}
	r = write_text(c->bird_config, text, 0);
	if (r < 0)
		return log_errno(LOG_ERR, r, "bird: cannot write '%s'", c->bird_config);
	free(b->applied);
	b->applied = strdup(text);
	if (spawn(b) < 0) {
		b->next_start_ms = rst_now_ms() + 5000;
		return 0;
	}
	if (wait_ready(b))
		log_info("bird: ready pid=%d", (int)b->pid);
	else
		log_warn("bird: pid=%d does not answer on '%s' after %d ms", (int)b->pid,
			 c->bird_socket, READY_TIMEOUT_MS);
	return 0;
}

void bird_on_exit(struct bird *b)
{
	int status;
	int64_t uptime = rst_now_ms() - b->started_ms;

	if (b->child && waitpid(b->pid, &status, WNOHANG) == b->pid) {
		if (WIFSIGNALED(status))
			log_error("bird: pid=%d killed by signal %d (%s)", (int)b->pid,
				  WTERMSIG(status), strsignal(WTERMSIG(status)));
		else
			log_error("bird: pid=%d exited with status %d", (int)b->pid,
				  WEXITSTATUS(status));
	} else {
		log_error("bird: pid=%d is gone", (int)b->pid);
	}
	close(b->pidfd);
	b->pidfd = -1;
	b->pid = 0;

	/* Restart at once; back off (1, 2, 4 ... 30 s) while it keeps dying
	 * within 10 s of its start. */
	if (b->child && uptime < 10000)
		b->fast_failures++;
	else
		b->fast_failures = 0;
	b->next_start_ms = rst_now_ms();
	if (b->fast_failures > 1) {
		unsigned delay = 1u << (b->fast_failures - 2 < 5 ? b->fast_failures - 2 : 5);

		if (delay > RESTART_BACKOFF_MAX_S)
			delay = RESTART_BACKOFF_MAX_S;
		b->next_start_ms += delay * 1000;
		log_warn("bird: died %u times in a row soon after start; next start in %u s",
			 b->fast_failures, delay);
	}
}

int bird_timeout_ms(const struct bird *b)
{
	int left;

	if (b->next_start_ms == 0)
		return -1;
	left = rst_ms_left(b->next_start_ms);
	return left > 60000 ? 60000 : left;
}

bool bird_restart_due(const struct bird *b)
{
	return bird_timeout_ms(b) == 0;
}

void bird_restart(struct bird *b, const char *text)
{
	b->next_start_ms = 0;
	if (socket_answers(b->conf->bird_socket, 1000)) {
		/* Someone else started one meanwhile (or, with bird.spawn
		 * false, the one roostd waits for is there): adopt it. */
		bird_start(b, text);
		return;
	}
	if (!b->conf->bird_spawn) {
		b->next_start_ms = rst_now_ms() + 2000;
		return;
	}
	if (spawn(b) < 0)
		b->next_start_ms = rst_now_ms() + 5000;
}

void bird_settle_dynamic(struct bird *b, const struct bc_peer *mesh, size_t n)
{
	_cleanup_(bc_ctl_freep) struct bc_ctl *ctl = NULL;
	_cleanup_free_ struct bc_protocol *p = NULL;
	size_t np = 0;

	if (!n || bc_ctl_open(b->conf->bird_socket, CTL_TIMEOUT_MS, &ctl) < 0 ||
	    bc_ctl_show_protocols(ctl, true, &p, &np) < 0)
		return;
	for (size_t i = 0; i < np; i++) {
		char addr[INET_ADDRSTRLEN], addr6[INET6_ADDRSTRLEN], sym[BC_NAME_MAX + 8], cmd[128];
		struct bc_reply r;

		/* client_N: an IPv4 client; client6_N: an IPv6-only one (clients6) */
		if ((strncmp(p[i].name, "client_", 7) != 0 && strncmp(p[i].name, "client6_", 8) != 0) ||
		    !strcmp(p[i].state, "down"))
			continue;
		for (size_t j = 0; j < n; j++) {
			inet_ntop(AF_INET, &mesh[j].address, addr, sizeof(addr));
			inet_ntop(AF_INET6, &mesh[j].address6, addr6, sizeof(addr6));
			if (!(mesh[j].address.s_addr && !strcmp(p[i].neighbor, addr)) &&
			    !(!IN6_IS_ADDR_UNSPECIFIED(&mesh[j].address6) &&
			      !strcmp(p[i].neighbor, addr6)))
				continue;
			bc_symbol(sym, sizeof(sym), "node_", mesh[j].name);
			log_info("bird: %s is %s's session from when it was a client: disabling it, restarting %s",
				 p[i].name, mesh[j].name, sym);
			snprintf(cmd, sizeof(cmd), "disable %s", p[i].name);
			if (bc_ctl_cmd(ctl, cmd, &r) == 0)
				bc_reply_done(&r);
			snprintf(cmd, sizeof(cmd), "restart %s", sym);
			if (bc_ctl_cmd(ctl, cmd, &r) == 0)
				bc_reply_done(&r);
			break;
		}
	}
}
