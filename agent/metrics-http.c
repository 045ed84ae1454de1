/* SPDX-License-Identifier: MIT */
/*
 * metrics-http.c - the metrics thread (see metrics-http.h).
 *
 * The thread owns the listening socket, its clients and the textfile timer.
 * It reads the configuration through share_conf_get() only while rendering,
 * and the node figures as the loop last published them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "metrics-http.h"
#include "metrics-textfile.h"
#include "rst-util.h"

#define REQUEST_MAX 2048

struct client {
	int fd;
	long long deadline; /* CLOCK_MONOTONIC ms */
	char req[REQUEST_MAX];
	size_t len;
	char *out; /* owned; the whole answer once the request is in */
	size_t out_len, out_off;
};

struct metrics_server {
	struct metrics *m; /* borrowed */
	struct share *share; /* borrowed */
	int fd;       /* listening socket, -1 when off */
	int stop[2];  /* written to stop the thread */
	pthread_t thread;
	struct client clients[METRICS_MAX_CLIENTS];
	size_t n_clients;
	long long next_textfile; /* CLOCK_MONOTONIC ms */
};

static int listen_on(const struct roostd_conf *c)
{
	char addr[INET_ADDRSTRLEN];
	int one = 1, fd, r;

	inet_ntop(AF_INET, &c->metrics_addr.sin_addr, addr, sizeof(addr));
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return log_errno(LOG_ERR, errno, "metrics: socket failed");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&c->metrics_addr, sizeof(c->metrics_addr)) < 0 ||
	    listen(fd, 16) < 0) {
		r = log_errno(LOG_ERR, errno, "metrics: cannot listen on %s:%u", addr,
			      ntohs(c->metrics_addr.sin_port));
		close(fd);
		return r;
	}
	log_info("metrics: serving http://%s:%u/metrics", addr, ntohs(c->metrics_addr.sin_port));
	return fd;
}

static void client_close(struct metrics_server *srv, size_t i)
{
	close(srv->clients[i].fd);
	free(srv->clients[i].out);
	srv->clients[i] = srv->clients[--srv->n_clients];
}

/* The exposition, rendered while the configuration is held. */
static char *render(struct metrics_server *srv, const struct roostd_conf *c)
{
	struct share_node n;

	share_node_get(srv->share, &n);
	return metrics_render(srv->m, c, &n);
}

/* The request head is in: builds the whole answer into c->out. */
static void answer(struct metrics_server *srv, struct client *c)
{
	const char *status = "200 OK", *msg = "only GET /metrics is served\n";
	char *body = NULL, *out = NULL;
	int n;

	c->req[c->len] = '\0';
	if (strncmp(c->req, "GET /metrics ", 13) == 0 || strncmp(c->req, "GET /metrics?", 13) == 0) {
		body = render(srv, share_conf_get(srv->share));
		share_conf_put(srv->share);
		if (!body) {
			status = "500 Internal Server Error";
			msg = "out of memory\n";
		}
	} else {
		status = "404 Not Found";
	}
	n = asprintf(&out,
		     "HTTP/1.0 %s\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
		     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
		     status, strlen(body ? body : msg), body ? body : msg);
	free(body);
	if (n < 0)
		return;
	c->out = out;
	c->out_len = (size_t)n;
}

static bool head_complete(const struct client *c)
{
	return memmem(c->req, c->len, "\r\n\r\n", 4) || memmem(c->req, c->len, "\n\n", 2) ||
	       c->len == sizeof(c->req) - 1;
}

/* Reads or writes what client i is ready for. true when it is done with. */
static bool client_io(struct metrics_server *srv, size_t i)
{
	struct client *c = &srv->clients[i];
	ssize_t r;

	if (!c->out) {
		r = recv(c->fd, c->req + c->len, sizeof(c->req) - 1 - c->len, MSG_DONTWAIT);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return false;
		if (r <= 0)
			return true;
		c->len += (size_t)r;
		if (!head_complete(c))
			return false;
		answer(srv, c);
		if (!c->out)
			return true;
	}
	r = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return false;
	if (r <= 0)
		return true;
	c->out_off += (size_t)r;
	return c->out_off == c->out_len;
}

static void accept_clients(struct metrics_server *srv)
{
	while (srv->n_clients < METRICS_MAX_CLIENTS) {
		int fd = accept4(srv->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		struct client *c;

		if (fd < 0)
			return;
		c = &srv->clients[srv->n_clients++];
		memset(c, 0, sizeof(*c));
		c->fd = fd;
		c->deadline = rst_now_ms() + METRICS_CLIENT_TIMEOUT_MS;
	}
}

static void textfile_tick(struct metrics_server *srv)
{
	const struct roostd_conf *c;
	char *text;

	if (rst_now_ms() < srv->next_textfile)
		return;
	srv->next_textfile = rst_now_ms() + METRICS_TEXTFILE_INTERVAL_S * 1000;
	c = share_conf_get(srv->share);
	if (c->metrics_textfile[0]) {
		text = render(srv, c);
		if (text)
			(void)metrics_textfile_write(c->metrics_textfile, text);
		free(text);
	}
	share_conf_put(srv->share);
}

static int poll_timeout(const struct metrics_server *srv)
{
	long long first = srv->next_textfile, now = rst_now_ms();

	for (size_t i = 0; i < srv->n_clients; i++)
		if (srv->clients[i].deadline < first)
			first = srv->clients[i].deadline;
	return first <= now ? 0 : (int)(first - now);
}

static void *thread_main(void *arg)
{
	struct metrics_server *srv = arg;

	(void)pthread_setname_np(pthread_self(), "metrics");
	for (;;) {
		struct pollfd p[2 + METRICS_MAX_CLIENTS] = {
			{.fd = srv->stop[0], .events = POLLIN},
			{.fd = srv->n_clients < METRICS_MAX_CLIENTS ? srv->fd : -1, .events = POLLIN}};
		size_t n = srv->n_clients;

		for (size_t i = 0; i < n; i++)
			p[2 + i] = (struct pollfd){.fd = srv->clients[i].fd,
						   .events = srv->clients[i].out ? POLLOUT : POLLIN};
		if (poll(p, 2 + n, poll_timeout(srv)) < 0 && errno != EINTR) {
			log_errno(LOG_ERR, errno, "metrics: poll failed; metrics are off");
			break;
		}
		if (p[0].revents)
			break;
		/* Backwards: closing client i moves the last one into its slot. */
		for (size_t i = n; i-- > 0;)
			if (p[2 + i].revents && client_io(srv, i))
				client_close(srv, i);
		for (size_t i = srv->n_clients; i-- > 0;)
			if (rst_now_ms() >= srv->clients[i].deadline)
				client_close(srv, i);
		if (p[1].fd >= 0 && (p[1].revents & POLLIN))
			accept_clients(srv);
		textfile_tick(srv);
	}
	return NULL;
}

int metrics_server_start(struct metrics *m, struct share *s, const struct roostd_conf *c,
			 struct metrics_server **ret)
{
	struct metrics_server *srv = calloc(1, sizeof(*srv));
	int r;

	if (!srv)
		return log_errno(LOG_ERR, ENOMEM, "metrics");
	srv->m = m;
	srv->share = s;
	srv->fd = -1;
	srv->next_textfile = rst_now_ms();
	if (c->metrics_on) {
		srv->fd = listen_on(c);
		if (srv->fd < 0) {
			r = srv->fd;
			free(srv);
			return r;
		}
	}
	if (pipe2(srv->stop, O_CLOEXEC) < 0) {
		r = log_errno(LOG_ERR, errno, "metrics: pipe failed");
		goto fail;
	}
	r = pthread_create(&srv->thread, NULL, thread_main, srv);
	if (r != 0) {
		close(srv->stop[0]);
		close(srv->stop[1]);
		r = log_errno(LOG_ERR, r, "metrics: cannot start the thread");
		goto fail;
	}
	*ret = srv;
	return 0;
fail:
	if (srv->fd >= 0)
		close(srv->fd);
	free(srv);
	return r;
}

void metrics_server_stop(struct metrics_server *srv)
{
	if (!srv)
		return;
	(void)!write(srv->stop[1], "x", 1);
	pthread_join(srv->thread, NULL);
	while (srv->n_clients)
		client_close(srv, 0);
	close(srv->stop[0]);
	close(srv->stop[1]);
	if (srv->fd >= 0)
		close(srv->fd);
	free(srv);
}
