/* SPDX-License-Identifier: MIT */
/*
 * api-proto.c - framing of the agent socket protocol (see api-proto.h).
 * No logging: callers report errors. Every read and write is bounded by a
 * deadline with poll(), so a stuck peer cannot hang the plugin or roostd.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "api-proto.h"
#include "rst-util.h"

static int write_all(int fd, const char *buf, size_t len, int64_t deadline)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			int r = rst_fd_wait(fd, POLLOUT, deadline);

			if (r < 0)
				return r;
			continue;
		}
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int read_all(int fd, char *buf, size_t len, int64_t deadline)
{
	while (len > 0) {
		ssize_t n = recv(fd, buf, len, MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			int r = rst_fd_wait(fd, POLLIN, deadline);

			if (r < 0)
				return r;
			continue;
		}
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Sends the first bytes of buf with pass (a file descriptor) attached, as
 * SCM_RIGHTS: the fd travels with the first byte the peer reads. Returns
 * the bytes sent (> 0) or -errno; -EAGAIN when the socket is full. */
static ssize_t send_with_fd(int fd, const char *buf, size_t len, int pass)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			   .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *h = CMSG_FIRSTHDR(&m);
	ssize_t n;

	memset(u.buf, 0, sizeof(u.buf));
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(h), &pass, sizeof(int));
	n = sendmsg(fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
	return n < 0 ? -errno : n;
}

int api_send_fd(int fd, const json_t *msg, int pass, int timeout_ms)
{
	int64_t deadline = rst_now_ms() + timeout_ms;
	char *body = json_dumps(msg, JSON_COMPACT);
	uint32_t hdr[3];
	size_t len, off = 0;
	int r = 0;

	if (!body)
		return -ENOMEM;
	len = strlen(body);
	if (len > ROOST_API_MAX_BODY) {
		free(body);
		return -EMSGSIZE;
	}
	hdr[0] = htonl(ROOST_API_MAGIC);
	hdr[1] = htonl(ROOST_API_VERSION);
	hdr[2] = htonl((uint32_t)len);
	/* The fd goes with the header's first bytes, exactly once. */
	while (pass >= 0) {
		ssize_t n = send_with_fd(fd, (const char *)hdr, sizeof(hdr), pass);

		if (n == -EAGAIN || n == -EINTR) {
			r = rst_fd_wait(fd, POLLOUT, deadline);
			if (r < 0)
				break;
			r = 0;
			continue;
		}
		if (n < 0)
			r = (int)n;
		else
			off = (size_t)n;
		break;
	}
	if (r == 0)
		r = write_all(fd, (const char *)hdr + off, sizeof(hdr) - off, deadline);
	if (r == 0)
		r = write_all(fd, body, len, deadline);
	free(body);
	return r;
}

int api_send(int fd, const json_t *msg, int timeout_ms)
{
	return api_send_fd(fd, msg, -1, timeout_ms);
}

int api_recv(int fd, json_t **ret, int timeout_ms, char *reterr_msg)
{
	int64_t deadline = rst_now_ms() + timeout_ms;
	uint32_t hdr[3], magic, version, len;
	json_error_t jerr;
	json_t *msg;
	char *body;
	int r;

#define WHY(...) (reterr_msg ? (void)snprintf(reterr_msg, 256, __VA_ARGS__) : (void)0)
	r = read_all(fd, (char *)hdr, sizeof(hdr), deadline);
	if (r < 0) {
		WHY("reading the message header: %s", strerror(-r));
		return r;
	}
	magic = ntohl(hdr[0]);
	version = ntohl(hdr[1]);
	len = ntohl(hdr[2]);
	if (magic != ROOST_API_MAGIC) {
		WHY("not a roost agent message (magic 0x%08x)", magic);
		return -EPROTO;
	}
	if (version != ROOST_API_VERSION) {
		WHY("protocol version %u; this side speaks version %u", version, ROOST_API_VERSION);
		return -EPROTO;
	}
	if (len < 2 || len > ROOST_API_MAX_BODY) {
		WHY("message length %u out of range 2..%u", len, ROOST_API_MAX_BODY);
		return -EMSGSIZE;
	}
	body = malloc(len + 1);
	if (!body)
		return -ENOMEM;
	r = read_all(fd, body, len, deadline);
	if (r < 0) {
		WHY("reading a %u-byte message body: %s", len,
		    r == -ECONNRESET ? "connection closed early" : strerror(-r));
		free(body);
		return r;
	}
	body[len] = '\0';
	msg = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	free(body);
	if (!msg || !json_is_object(msg)) {
		WHY("message body is not a JSON object%s%s", msg ? "" : ": ", msg ? "" : jerr.text);
		json_decref(msg);
		return -EBADMSG;
	}
	*ret = msg;
	return 0;
#undef WHY
}

int api_connect(const char *path, int timeout_ms)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int64_t deadline = rst_now_ms() + timeout_ms;
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno != EINPROGRESS && errno != EAGAIN) {
			r = -errno;
			close(fd);
			return r;
		}
		r = rst_fd_wait(fd, POLLOUT, deadline);
		if (r < 0) {
			close(fd);
			return r;
		}
	}
	return fd;
}

int api_call(const char *path, const json_t *req, json_t **ret, int timeout_ms, char *reterr_msg)
{
	int fd = api_connect(path, timeout_ms), r;

	if (fd < 0) {
		if (reterr_msg)
			snprintf(reterr_msg, 256, "cannot connect to '%s': %s", path, strerror(-fd));
		return fd;
	}
	r = api_send(fd, req, timeout_ms);
	if (r < 0) {
		if (reterr_msg)
			snprintf(reterr_msg, 256, "sending to '%s': %s", path, strerror(-r));
	} else {
		r = api_recv(fd, ret, timeout_ms, reterr_msg);
	}
	close(fd);
	return r;
}
