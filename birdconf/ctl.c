/* SPDX-License-Identifier: MIT */
/*
 * DOC: ctl.c - client for BIRD 2's control socket.
 *
 * Owns one connection (struct bc_ctl): the non-blocking unix socket, the
 * bytes read but not yet parsed, and the version from the greeting. It sends
 * one command at a time and reads to the reply's final line; reply.c does all
 * parsing. Every wait is a poll() bounded by the deadline of the call, so no
 * call takes longer than the timeout given to bc_ctl_open().
 *
 * Reconfiguration helpers map BIRD's codes (doc/reply_codes, nest/cli.c and
 * sysdep/unix/main.c of 2.0.12) to 0 or -EINVAL plus BIRD's words in
 * struct rst_err. It does not own the policy (check first, then configure
 * with a timeout, then confirm or undo): agent/bird.c does.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "bc-ctl.h"
#include "rst-util.h"

struct bc_ctl {
	int fd;
	int timeout_ms;
	bool broken; /* a call failed half-way: the stream is out of step */
	char version[32];
	char *buf; /* owned: bytes received and not yet handed out as a reply */
	size_t len, cap;
	size_t scanned; /* buf[0, scanned) holds whole lines, none of them final */
};

static int ctl_connect(int fd, const char *path, int64_t deadline)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	socklen_t len;
	int err;

	memcpy(sa.sun_path, path, strlen(path) + 1);
	for (;;) {
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			/* a unix socket's listen queue is full: BIRD has not accepted
			 * yet. poll() cannot tell when there is room, so retry shortly. */
			int64_t left = deadline - rst_now_ms();

			if (left <= 0)
				return -ETIMEDOUT;
			(void)poll(NULL, 0, left < 10 ? (int)left : 10);
			continue;
		}
		if (errno != EINPROGRESS)
			return -errno;
		err = rst_fd_wait(fd, POLLOUT, deadline);
		if (err < 0)
			return err;
		len = sizeof(err);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			return -errno;
		return -err;
	}
}

static bool has_code(const char *p, size_t n, char sep)
{
	for (size_t i = 0; i < 4; i++) {
		if (i >= n || p[i] < '0' || p[i] > '9')
			return false;
	}
	return n >= 5 && p[4] == sep;
}

/* Only "DDDD " ends a reply; "DDDD-", " " and "+" lines go on. Anything else
 * can never become a reply: say so now rather than at the timeout. */
static int line_ends_reply(const char *p, size_t n)
{
	if (has_code(p, n, ' '))
		return 1;
	if (has_code(p, n, '-') || (n && (p[0] == ' ' || p[0] == '+')))
		return 0;
	return -EBADMSG;
}

/* Reads until buf holds a whole reply, then parses it into *ret and drops it
 * from buf. Looks at each line once: only a final line triggers the parse. */
static int ctl_read_reply(struct bc_ctl *c, int64_t deadline, struct bc_reply *ret)
{
	for (;;) {
		ssize_t n;
		int err;

		while (c->scanned < c->len) {
			const char *start = c->buf + c->scanned;
			const char *nl = memchr(start, '\n', c->len - c->scanned);
			size_t end;
			long used;

			if (!nl) {
				if (c->len - c->scanned > BC_LINE_MAX)
					return -EBADMSG;
				break;
			}
			end = (size_t)(nl - c->buf) + 1;
			err = line_ends_reply(start, (size_t)(nl - start));
			if (err < 0)
				return err;
			if (err == 0) {
				c->scanned = end;
				continue;
			}
			used = bc_reply_parse(c->buf, end, ret);
			if (used < 0)
				return (int)used;
			if ((size_t)used != end) { /* cannot happen: the grammar ends here */
				bc_reply_done(ret);
				return -EBADMSG;
			}
			memmove(c->buf, c->buf + end, c->len - end);
			c->len -= end;
			c->scanned = 0;
			return 0;
		}

		if (c->len >= BC_REPLY_MAX)
			return -EMSGSIZE;
		if (c->cap - c->len < 4096) {
			size_t ncap = c->cap ? c->cap * 2 : 16384;
			char *p = realloc(c->buf, ncap);

			if (!p)
				return -ENOMEM;
			c->buf = p;
			c->cap = ncap;
		}
		n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
		if (n > 0) {
			c->len += (size_t)n;
			continue;
		}
		if (n == 0)
			return -ECONNRESET; /* BIRD closed the connection mid-reply */
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		err = rst_fd_wait(c->fd, POLLIN, deadline);
		if (err < 0)
			return err;
	}
}

static int ctl_write_all(struct bc_ctl *c, const char *p, size_t n, int64_t deadline)
{
	while (n) {
		ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
		int err;

		if (w >= 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		err = rst_fd_wait(c->fd, POLLOUT, deadline);
		if (err < 0)
			return err;
	}
	return 0;
}

/* "BIRD 2.0.12 ready." -> "2.0.12" */
static int parse_greeting(const struct bc_reply *g, char *version, size_t size)
{
	const char *text, *end;
	size_t n;

	if (g->code != 1 || g->n_lines != 1)
		return -EBADMSG;
	text = g->lines[0].text;
	if (strncmp(text, "BIRD ", 5) != 0)
		return -EBADMSG;
	text += 5;
	end = strchr(text, ' ');
	if (!end || strcmp(end, " ready.") != 0)
		return -EBADMSG;
	n = (size_t)(end - text);
	if (n == 0 || n >= size)
		return -EBADMSG;
	memcpy(version, text, n);
	version[n] = '\0';
	return 0;
}

int bc_ctl_open(const char *path, int timeout_ms, struct bc_ctl **ret)
{
	_cleanup_(bc_reply_donep) struct bc_reply greeting = {0};
	_cleanup_(bc_ctl_freep) struct bc_ctl *c = NULL;
	int64_t deadline;
	int err;

	if (!path || !*path || timeout_ms <= 0)
		return -EINVAL;
	if (strlen(path) >= sizeof(((struct sockaddr_un *)NULL)->sun_path))
		return -ENAMETOOLONG;
	deadline = rst_now_ms() + timeout_ms;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->timeout_ms = timeout_ms;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;

	err = ctl_connect(c->fd, path, deadline);
	if (err < 0)
		return err;
	err = ctl_read_reply(c, deadline, &greeting);
	if (err < 0)
		return err;
	err = parse_greeting(&greeting, c->version, sizeof(c->version));
	if (err < 0)
		return err;
	*ret = TAKE_PTR(c);
	return 0;
}

void bc_ctl_free(struct bc_ctl *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	free(c);
}

const char *bc_ctl_version(const struct bc_ctl *c)
{
	return c->version;
}

int bc_ctl_cmd(struct bc_ctl *c, const char *cmd, struct bc_reply *ret)
{
	char line[BC_CMD_MAX + 1];
	size_t n;
	int64_t deadline;
	int err;

	n = strlen(cmd);
	if (n == 0 || n > BC_CMD_MAX || strchr(cmd, '\n'))
		return -EINVAL;
	if (c->broken)
		return -ENOTCONN;
	memcpy(line, cmd, n);
	line[n++] = '\n';

	deadline = rst_now_ms() + c->timeout_ms;
	err = ctl_write_all(c, line, n, deadline);
	if (err >= 0)
		err = ctl_read_reply(c, deadline, ret);
	if (err < 0) {
		c->broken = true;
		return err;
	}
	return 0;
}

/* ---- reconfiguration ----------------------------------------------------- */

/* Text of the final line, trailing blanks dropped. */
static void final_text(const struct bc_reply *r, char *buf, size_t size)
{
	const char *t = r->n_lines ? r->lines[r->n_lines - 1].text : "";
	size_t n = strlen(t);

	while (n && (t[n - 1] == ' ' || t[n - 1] == '\t'))
		n--;
	if (n >= size)
		n = size - 1;
	memcpy(buf, t, n);
	buf[n] = '\0';
}

static bool code_in(int code, const int *codes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (codes[i] == code)
			return true;
	}
	return false;
}

/* Sends cmd and maps the final code: one of ok -> 0; 8002 -> -EINVAL with
 * BIRD's "file:line:col msg"; other refusals -> -EINVAL "BIRD replied ...";
 * anything else -> -EBADMSG. first_code, when not 0, must be the code of the
 * reply's first line (0021 for undo). */
static int ctl_reconfig(struct bc_ctl *c, const char *cmd, const int *ok, size_t n_ok,
			int first_code, struct rst_err *reterr)
{
	_cleanup_(bc_reply_donep) struct bc_reply r = {0};
	char text[400];
	int err;

	err = bc_ctl_cmd(c, cmd, &r);
	if (err < 0)
		return err;
	final_text(&r, text, sizeof(text));
	if (r.code == 8002)
		return rst_err_set(reterr, EINVAL, NULL, 0, "%s", text);
	/* 0006: "Reconfiguration ignored, shutting down" is a refusal too */
	if (bc_code_is_error(r.code) || r.code == 6)
		return rst_err_set(reterr, EINVAL, NULL, 0, "BIRD replied %04d %s", r.code, text);
	if (code_in(r.code, ok, n_ok) && (!first_code || r.lines[0].code == first_code))
		return 0;
	return rst_err_set(reterr, EBADMSG, NULL, 0, "unexpected BIRD reply to '%s': %04d %s", cmd,
			   r.code, text);
}

/* Appends ` "file"` to cmd; BIRD's strings have no escapes, so a file name
 * with '"' cannot be said, and a line break would end the command. */
static int append_file(char *cmd, size_t size, const char *file, struct rst_err *reterr)
{
	size_t n = strlen(cmd);
	int w;

	if (!file)
		return 0;
	if (!*file || strpbrk(file, "\"\r\n"))
		return rst_err_set(reterr, EINVAL, NULL, 0,
				   "BIRD config file name is empty or holds '\"' or a line break");
	w = snprintf(cmd + n, size - n, " \"%s\"", file);
	if (w < 0 || (size_t)w >= size - n)
		return rst_err_set(reterr, EINVAL, file, 0,
				   "file name too long for a BIRD command");
	return 0;
}

int bc_ctl_configure_check(struct bc_ctl *c, const char *file, struct rst_err *reterr)
{
	static const int ok[] = {20}; /* Configuration OK */
	char cmd[BC_CMD_MAX + 1] = "configure check";
	int err;

	if (reterr)
		memset(reterr, 0, sizeof(*reterr));
	err = append_file(cmd, sizeof(cmd), file, reterr);
	if (err < 0)
		return err;
	return ctl_reconfig(c, cmd, ok, ARRAY_SIZE(ok), 0, reterr);
}

int bc_ctl_configure(struct bc_ctl *c, const char *file, unsigned timeout_s, struct rst_err *reterr)
{
	/* Reconfigured, in progress, queued; "0022-Undo scheduled" may come first */
	static const int ok[] = {3, 4, 5};
	char cmd[BC_CMD_MAX + 1] = "configure";
	size_t n;
	int err;

	if (reterr)
		memset(reterr, 0, sizeof(*reterr));
	err = append_file(cmd, sizeof(cmd), file, reterr);
	if (err < 0)
		return err;
	if (timeout_s > 0) {
		n = strlen(cmd);
		if ((size_t)snprintf(cmd + n, sizeof(cmd) - n, " timeout %u", timeout_s) >=
		    sizeof(cmd) - n)
			return rst_err_set(reterr, EINVAL, file, 0,
					   "file name too long for a BIRD command");
	}
	return ctl_reconfig(c, cmd, ok, ARRAY_SIZE(ok), 0, reterr);
}

int bc_ctl_configure_confirm(struct bc_ctl *c, struct rst_err *reterr)
{
	static const int ok[] = {18, 19}; /* confirmed, nothing to do */

	if (reterr)
		memset(reterr, 0, sizeof(*reterr));
	return ctl_reconfig(c, "configure confirm", ok, ARRAY_SIZE(ok), 0, reterr);
}

int bc_ctl_configure_undo(struct bc_ctl *c, struct rst_err *reterr)
{
	/* after "0021-Undo requested": reconfigured, in progress, queued,
	 * queued config removed, nothing to do */
	static const int ok[] = {3, 4, 5, 17, 19};

	if (reterr)
		memset(reterr, 0, sizeof(*reterr));
	return ctl_reconfig(c, "configure undo", ok, ARRAY_SIZE(ok), 21, reterr);
}

/* ---- show wrappers ------------------------------------------------------- */

int bc_ctl_show_protocols(struct bc_ctl *c, bool all, struct bc_protocol **ret, size_t *ret_n)
{
	_cleanup_(bc_reply_donep) struct bc_reply r = {0};
	int err;

	err = bc_ctl_cmd(c, all ? "show protocols all" : "show protocols", &r);
	if (err < 0)
		return err;
	return bc_parse_protocols(&r, ret, ret_n);
}

int bc_ctl_show_route(struct bc_ctl *c, const char *args, struct bc_route **ret, size_t *ret_n)
{
	_cleanup_(bc_reply_donep) struct bc_reply r = {0};
	char cmd[BC_CMD_MAX + 1];
	int w, err;

	if (args && *args)
		w = snprintf(cmd, sizeof(cmd), "show route %s", args);
	else
		w = snprintf(cmd, sizeof(cmd), "show route");
	if (w < 0 || (size_t)w >= sizeof(cmd))
		return -EINVAL;
	err = bc_ctl_cmd(c, cmd, &r);
	if (err < 0)
		return err;
	return bc_parse_routes(&r, ret, ret_n);
}

int bc_ctl_show_status(struct bc_ctl *c, struct bc_status *ret)
{
	_cleanup_(bc_reply_donep) struct bc_reply r = {0};
	int err;

	err = bc_ctl_cmd(c, "show status", &r);
	if (err < 0)
		return err;
	return bc_parse_status(&r, ret);
}
