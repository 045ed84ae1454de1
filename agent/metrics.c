/* SPDX-License-Identifier: MIT */
/*
 * metrics.c - Prometheus exposition (see metrics.h).
 *
 * The HTTP side is deliberately tiny: one request per connection, read with
 * a short bound, answered and closed; only GET /metrics exists. It runs in
 * roostd's single loop, so a scrape is serialised with CNI requests.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "datastore.h"
#include "status.h"

static const double bucket_le[METRICS_N_BUCKETS] = {0.001, 0.0025, 0.005, 0.01, 0.025,
						    0.05,  0.1,	   0.25,  1,	2.5};
static const char *const verb_names[MV_COUNT] = {"ADD", "DEL", "CHECK", "STATUS", "GC", "other"};

int metrics_open(struct metrics *m, const struct roostd_conf *c)
{
	int one = 1, fd;
	char addr[INET_ADDRSTRLEN];

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	if (!c->metrics_on)
		return 0;
	inet_ntop(AF_INET, &c->metrics_addr.sin_addr, addr, sizeof(addr));
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return log_errno(LOG_ERR, errno, "metrics: socket failed");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&c->metrics_addr, sizeof(c->metrics_addr)) < 0 ||
	    listen(fd, 16) < 0) {
		int r = log_errno(LOG_ERR, errno, "metrics: cannot listen on %s:%u", addr,
				  ntohs(c->metrics_addr.sin_port));

		close(fd);
		return r;
	}
	m->fd = fd;
	log_info("metrics: serving http://%s:%u/metrics", addr, ntohs(c->metrics_addr.sin_port));
	return 0;
}

void metrics_close(struct metrics *m)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
}

void metrics_request(struct metrics *m, const char *verb, bool ok, double seconds)
{
	int v = MV_OTHER;

	for (int i = 0; i < MV_OTHER; i++)
		if (verb && strcmp(verb, verb_names[i]) == 0)
			v = i;
	m->requests[v][ok ? 0 : 1]++;
	for (int b = 0; b < METRICS_N_BUCKETS; b++)
		if (seconds <= bucket_le[b])
			m->buckets[v][b]++;
	m->observations[v]++;
	m->seconds[v] += seconds;
}

/* Label values: BIRD names and addresses only ever hold [A-Za-z0-9_.:-],
 * but escape what the format requires anyway. */
static void label(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void help(FILE *f, const char *name, const char *type, const char *text)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

char *metrics_render(const struct metrics *m, const struct roostd_conf *c, const struct bird *b,
		     const struct ipam *ipam)
{
	static const char *const states[] = {"Established", "Idle",	"Connect",
					     "Active",	    "OpenSent", "OpenConfirm"};
	json_t *st = status_node(c, b, ipam), *sessions, *s;
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);

	if (!f) {
		json_decref(st);
		return NULL;
	}
	sessions = json_object_get(st, "sessions");

	help(f, "roost_bird_up", "gauge", "1 when BIRD answers on its control socket");
	fprintf(f, "roost_bird_up %d\n", json_is_true(json_object_get(json_object_get(st, "bird"),
								      "running")));
	help(f, "roost_bird_starts_total", "counter",
	     "BIRD processes started by this roostd (restarts after a death included)");
	fprintf(f, "roost_bird_starts_total %u\n", b ? b->starts : 0);

	help(f, "roost_bgp_sessions", "gauge", "BGP sessions by state");
	for (size_t k = 0; k < ARRAY_SIZE(states); k++) {
		unsigned n = 0;

		json_array_foreach(sessions, i, s)
		{
			if (strcmp(json_string_value(json_object_get(s, "state")), states[k]) == 0)
				n++;
		}
		fprintf(f, "roost_bgp_sessions{state=\"%s\"} %u\n", states[k], n);
	}
	help(f, "roost_bgp_session_up", "gauge", "1 when the session is Established");
	json_array_foreach(sessions, i, s)
	{
		fprintf(f, "roost_bgp_session_up{name=\"");
		label(f, json_string_value(json_object_get(s, "name")));
		fprintf(f, "\",kind=\"%s\",address=\"",
			json_string_value(json_object_get(s, "kind")));
		label(f, json_string_value(json_object_get(s, "address")));
		fprintf(f, "\"} %d\n",
			strcmp(json_string_value(json_object_get(s, "state")), "Established") == 0);
	}
	help(f, "roost_bgp_session_routes", "gauge",
	     "routes per session: imported, exported, and filtered by import policy");
	json_array_foreach(sessions, i, s)
	{
		static const char *const dirs[] = {"imported", "exported", "filtered"};

		for (size_t d = 0; d < ARRAY_SIZE(dirs); d++) {
			fprintf(f, "roost_bgp_session_routes{name=\"");
			label(f, json_string_value(json_object_get(s, "name")));
			fprintf(f, "\",direction=\"%s\"} %lld\n", dirs[d],
				json_integer_value(json_object_get(s, dirs[d])));
		}
	}

	help(f, "roost_pods", "gauge", "pod attachments holding an address");
	fprintf(f, "roost_pods %zu\n", ipam_used(ipam));
	help(f, "roost_pool_size", "gauge", "addresses the node's pod subnet can hand out");
	fprintf(f, "roost_pool_size %zu\n", ipam_size(ipam));
	help(f, "roost_pool_used", "gauge", "addresses handed out");
	fprintf(f, "roost_pool_used %zu\n", ipam_used(ipam));

	help(f, "roost_reloads_total", "counter", "SIGHUP reloads by result");
	fprintf(f, "roost_reloads_total{result=\"ok\"} %lu\n", m->reloads_ok);
	fprintf(f, "roost_reloads_total{result=\"failed\"} %lu\n", m->reloads_failed);

	if (m->ds) {
		help(f, "roost_datastore_up", "gauge", "1 when etcd answers (datastore mode)");
		fprintf(f, "roost_datastore_up %d\n", ds_up(m->ds) ? 1 : 0);
		help(f, "roost_datastore_peers", "gauge",
		     "other nodes' leases in the datastore (roost and flannel host-gw)");
		fprintf(f, "roost_datastore_peers %zu\n", ds_n_peers(m->ds));
	}

	help(f, "roost_bgp_session_transitions_total", "counter",
	     "BGP sessions going up (to Established) and down (from it), seen since roostd started");
	fprintf(f, "roost_bgp_session_transitions_total{to=\"up\"} %lu\n", m->session_ups);
	fprintf(f, "roost_bgp_session_transitions_total{to=\"down\"} %lu\n", m->session_downs);

	help(f, "roost_route_conflicts", "gauge",
	     "pod subnets another node claims besides their owner (the claims are filtered)");
	fprintf(f, "roost_route_conflicts %zu\n", m->conflicts);
	help(f, "roost_route_conflicts_total", "counter",
	     "distinct conflicting claims (subnet, claimant) seen since roostd started");
	fprintf(f, "roost_route_conflicts_total %llu\n", m->conflicts_total);

	help(f, "roost_cni_requests_total", "counter", "agent socket requests by verb and result");
	for (int v = 0; v < MV_COUNT; v++) {
		fprintf(f, "roost_cni_requests_total{verb=\"%s\",result=\"ok\"} %lu\n",
			verb_names[v], m->requests[v][0]);
		fprintf(f, "roost_cni_requests_total{verb=\"%s\",result=\"error\"} %lu\n",
			verb_names[v], m->requests[v][1]);
	}
	help(f, "roost_cni_request_duration_seconds", "histogram",
	     "time roostd took to serve a request, by verb");
	for (int v = 0; v < MV_COUNT; v++) {
		for (int k = 0; k < METRICS_N_BUCKETS; k++)
			fprintf(f, "roost_cni_request_duration_seconds_bucket{verb=\"%s\",le=\"%g\"} %lu\n",
				verb_names[v], bucket_le[k], m->buckets[v][k]);
		fprintf(f, "roost_cni_request_duration_seconds_bucket{verb=\"%s\",le=\"+Inf\"} %lu\n",
			verb_names[v], m->observations[v]);
		fprintf(f, "roost_cni_request_duration_seconds_sum{verb=\"%s\"} %.6f\n",
			verb_names[v], m->seconds[v]);
		fprintf(f, "roost_cni_request_duration_seconds_count{verb=\"%s\"} %lu\n",
			verb_names[v], m->observations[v]);
	}
	json_decref(st);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		struct pollfd pfd = {.fd = fd, .events = POLLOUT};
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (poll(&pfd, 1, 1000) <= 0)
				return;
			continue;
		}
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void serve_http(int fd, const struct metrics *m, const struct roostd_conf *c,
		       const struct bird *b, const struct ipam *ipam)
{
	char req[2048], head[256];
	size_t len = 0;
	char *body = NULL;
	const char *status = "200 OK";
	int n;

	/* Read the request head, bounded in size and time. */
	while (len < sizeof(req) - 1 && !memmem(req, len, "\r\n\r\n", 4) &&
	       !memmem(req, len, "\n\n", 2)) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		ssize_t r;

		if (poll(&pfd, 1, 1000) <= 0)
			return;
		r = recv(fd, req + len, sizeof(req) - 1 - len, MSG_DONTWAIT);
		if (r <= 0)
			return;
		len += (size_t)r;
	}
	req[len] = '\0';
	if (strncmp(req, "GET /metrics ", 13) == 0 || strncmp(req, "GET /metrics?", 13) == 0)
		body = metrics_render(m, c, b, ipam);
	else
		status = "404 Not Found";
	if (!body)
		body = strdup(strcmp(status, "200 OK") == 0 ? "" : "only GET /metrics is served\n");
	n = snprintf(head, sizeof(head),
		     "HTTP/1.0 %s\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
		     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
		     status, body ? strlen(body) : 0);
	send_all(fd, head, (size_t)n);
	if (body)
		send_all(fd, body, strlen(body));
	free(body);
}

void metrics_serve(struct metrics *m, const struct roostd_conf *c, const struct bird *b,
		   const struct ipam *ipam)
{
	for (int i = 0; i < 16; i++) {
		int fd = accept4(m->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd < 0)
			return;
		serve_http(fd, m, c, b, ipam);
		close(fd);
	}
}

int metrics_write_textfile(const struct metrics *m, const struct roostd_conf *c,
			   const struct bird *b, const struct ipam *ipam)
{
	char tmp[4200];
	char *text;
	FILE *f;
	int r = 0;

	if (!c->metrics_textfile[0])
		return 0;
	text = metrics_render(m, c, b, ipam);
	if (!text)
		return -ENOMEM;
	snprintf(tmp, sizeof(tmp), "%s.tmp", c->metrics_textfile);
	f = fopen(tmp, "we");
	if (!f || fputs(text, f) == EOF || fflush(f) != 0)
		r = -errno;
	if (f && fclose(f) != 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, c->metrics_textfile) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		log_errno(LOG_WARNING, r, "metrics: cannot write '%s'", c->metrics_textfile);
	}
	free(text);
	return r;
}
