/* SPDX-License-Identifier: MIT */
/*
 * sessions.c - logs BGP session changes, from BIRD's `show protocols`.
 *
 * One control connection, kept open, non-blocking: IDLE --(interval)-->
 * send "show protocols" --> REPLY --(whole reply)--> compare, log --> IDLE.
 * A connection that fails or closes (BIRD restarting) is simply opened again
 * at the next interval; the listing kept from before the gap makes the first
 * listing after it report what changed meanwhile.
 *
 * Events: "up" (to Established), "down" (from Established, with BIRD's
 * reason: the rest of the Info column, e.g. "Socket: Connection refused",
 * "Received: Bad peer AS", "BFD session down"), "new" and "gone" (reload
 * added or removed the protocol), and "stuck" when a session that is not up
 * shows a new reason (so a session that never came up still says why, once
 * per distinct reason, not once per connect attempt).
 *
 * With an owners table, each round goes on: "show route all where ..." for
 * the accepted BGP routes to node subnets, then the same with "filtered",
 * and both go to owners_update (first announcers, conflicts).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "bc-ctl.h"
#include "birdconf.h"
#include "log.h"
#include "rst-util.h"
#include "sessions.h"

struct sessions_seen {
	char name[65];
	char state[32];   /* first word of Info: Established, Active, Connect, Idle... */
	char reason[128]; /* the rest of Info, "" when none */
	char logged_reason[128];
};

void sessions_init(struct sessions *s)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->next = rst_now_ms();
}

static void disconnect(struct sessions *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->phase = SW_IDLE;
	s->len = 0;
}

void sessions_done(struct sessions *s)
{
	disconnect(s);
	free(s->buf);
	free(s->seen);
	free(s->routes);
	s->buf = NULL;
	s->seen = NULL;
	s->routes = NULL;
}

int sessions_fd(const struct sessions *s)
{
	return s->phase == SW_IDLE ? -1 : s->fd;
}

int sessions_timeout_ms(const struct sessions *s)
{
	if (s->phase != SW_IDLE)
		return -1; /* waiting on the fd */
	return rst_ms_left(s->next);
}

void sessions_kick(struct sessions *s)
{
	if (s->phase == SW_IDLE)
		s->next = rst_now_ms();
}

static bool due(const struct sessions *s)
{
	return sessions_timeout_ms(s) == 0;
}

static void schedule(struct sessions *s)
{
	s->next = rst_now_ms() + SESSIONS_INTERVAL_MS;
}

static int connect_bird(struct sessions *s, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return -errno;
	/* A unix stream connect completes at once or fails (EAGAIN: backlog full). */
	if (connect(s->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		disconnect(s);
		return r;
	}
	s->phase = SW_GREETING;
	s->len = 0;
	return 0;
}

/* Reads what is there. 1 when a whole reply is parsed into *ret, 0 when more
 * is needed, <0 on a failure (the connection is closed). */
static int read_reply(struct sessions *s, struct bc_reply *ret)
{
	long used;

	for (;;) {
		ssize_t n;

		if (s->cap - s->len < 4096) {
			size_t cap = s->cap ? s->cap * 2 : 16384;
			char *p;

			if (cap > BC_REPLY_MAX)
				return -EMSGSIZE;
			p = realloc(s->buf, cap);
			if (!p)
				return -ENOMEM;
			s->buf = p;
			s->cap = cap;
		}
		n = read(s->fd, s->buf + s->len, s->cap - s->len - 1);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		s->len += (size_t)n;
	}
	used = bc_reply_parse(s->buf, s->len, ret);
	if (used <= 0)
		return used == 0 ? 0 : (int)used;
	memmove(s->buf, s->buf + used, s->len - (size_t)used);
	s->len -= (size_t)used;
	return 1;
}

/* kind and address of a protocol roost rendered, from the configuration. */
void session_addr(const struct roostd_conf *c, struct in_addr a4, const struct in6_addr *a6,
			 char *addr, size_t len)
{
	if (a4.s_addr && (c->address.s_addr || IN6_IS_ADDR_UNSPECIFIED(a6)))
		inet_ntop(AF_INET, &a4, addr, (socklen_t)len);
	else if (!IN6_IS_ADDR_UNSPECIFIED(a6))
		inet_ntop(AF_INET6, a6, addr, (socklen_t)len);
}

static const char *describe(const struct roostd_conf *c, const char *name, char *addr, size_t len)
{
	static const struct {
		const char *prefix, *kind;
	} kinds[] = {{"node_", "mesh"}, {"rr_", "reflector"}, {"peer_", "peer"}};
	char sym[80];

	snprintf(addr, len, "-");
	for (size_t i = 0; i < c->n_mesh; i++) {
		bc_symbol(sym, sizeof(sym), "node_", c->mesh[i].name);
		if (strcmp(sym, name) == 0)
			session_addr(c, c->mesh[i].address, &c->mesh[i].address6, addr, len);
	}
	for (size_t i = 0; i < c->n_route_reflectors; i++) {
		bc_symbol(sym, sizeof(sym), "rr_", c->route_reflectors[i].name);
		if (strcmp(sym, name) == 0)
			session_addr(c, c->route_reflectors[i].address, &c->route_reflectors[i].address6,
				     addr, len);
	}
	for (size_t i = 0; i < c->n_peers; i++) {
		bc_symbol(sym, sizeof(sym), "peer_", c->peers[i].name);
		if (strcmp(sym, name) == 0)
			session_addr(c, c->peers[i].address, &c->peers[i].address6, addr, len);
	}
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strncmp(name, kinds[i].prefix, strlen(kinds[i].prefix)) == 0)
			return kinds[i].kind;
	return strncmp(name, "client", 6) == 0 ? "client" : "other";
}

static void split_info(const struct bc_protocol *p, struct sessions_seen *out)
{
	const char *rest;
	size_t n = strcspn(p->info, " \t");

	snprintf(out->name, sizeof(out->name), "%s", p->name);
	snprintf(out->state, sizeof(out->state), "%.*s", (int)n, p->info);
	if (!out->state[0]) /* a protocol that is down has an empty Info */
		snprintf(out->state, sizeof(out->state), "%s", p->state);
	rest = p->info + n;
	rest += strspn(rest, " \t");
	snprintf(out->reason, sizeof(out->reason), "%s", rest);
}

static const struct sessions_seen *find(const struct sessions_seen *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return &v[i];
	return NULL;
}

static bool is_up(const struct sessions_seen *x)
{
	return strcmp(x->state, "Established") == 0;
}

/* Logs what changed from s->seen to now, and keeps now (owned) as s->seen. */
static void compare(struct sessions *s, const struct roostd_conf *c, struct sessions_seen *now,
		    size_t n)
{
	char addr[64];
	const char *kind;

	for (size_t i = 0; i < n; i++) {
		struct sessions_seen *x = &now[i];
		const struct sessions_seen *was = find(s->seen, s->n_seen, x->name);

		kind = describe(c, x->name, addr, sizeof(addr));
		if (was)
			snprintf(x->logged_reason, sizeof(x->logged_reason), "%s",
				 was->logged_reason);
		if (!s->primed) {
			log_info("session: %s name=%s kind=%s address=%s state=%s%s%s%s",
				 is_up(x) ? "up" : "not-up", x->name, kind, addr, x->state,
				 x->reason[0] ? " reason=\"" : "", x->reason,
				 x->reason[0] ? "\"" : "");
			snprintf(x->logged_reason, sizeof(x->logged_reason), "%s", x->reason);
			continue;
		}
		if (!was) {
			log_info("session: new name=%s kind=%s address=%s state=%s", x->name, kind,
				 addr, x->state);
		}
		if (is_up(x) && (!was || !is_up(was))) {
			s->ups++;
			log_info("session: up name=%s kind=%s address=%s was=%s", x->name, kind, addr,
				 was ? was->state : "new");
			x->logged_reason[0] = '\0';
		} else if (!is_up(x) && was && is_up(was)) {
			s->downs++;
			log_warn("session: down name=%s kind=%s address=%s state=%s reason=\"%s\"",
				 x->name, kind, addr, x->state,
				 x->reason[0] ? x->reason : "none given");
			snprintf(x->logged_reason, sizeof(x->logged_reason), "%s", x->reason);
		} else if (!is_up(x) && x->reason[0] &&
			   strcmp(x->reason, x->logged_reason) != 0) {
			log_warn("session: stuck name=%s kind=%s address=%s state=%s reason=\"%s\"",
				 x->name, kind, addr, x->state, x->reason);
			snprintf(x->logged_reason, sizeof(x->logged_reason), "%s", x->reason);
		}
	}
	for (size_t i = 0; s->primed && i < s->n_seen; i++)
		if (!find(now, n, s->seen[i].name)) {
			kind = describe(c, s->seen[i].name, addr, sizeof(addr));
			log_info("session: gone name=%s kind=%s address=%s was=%s", s->seen[i].name,
				 kind, addr, s->seen[i].state);
		}
	free(s->seen);
	s->seen = now;
	s->n_seen = n;
	s->primed = true;
	s->rounds++;
}

bool sessions_established(const struct sessions *s, const char *name)
{
	const struct sessions_seen *x = find(s->seen, s->n_seen, name);

	return x && is_up(x);
}

static void on_listing(struct sessions *s, const struct roostd_conf *c, const struct bc_reply *r)
{
	_cleanup_free_ struct bc_protocol *p = NULL;
	struct sessions_seen *now;
	size_t n = 0, k = 0;

	if (bc_parse_protocols(r, &p, &n) < 0)
		return; /* an error reply (BIRD reconfiguring): try again next time */
	now = calloc(n ? n : 1, sizeof(*now));
	if (!now)
		return;
	for (size_t i = 0; i < n; i++)
		if (strcmp(p[i].proto, "BGP") == 0)
			split_info(&p[i], &now[k++]);
	compare(s, c, now, k);
}

/* Sends one short query line; false (and disconnected) when it fails. A
 * short line into an idle socket never sees EAGAIN. */
static bool ask(struct sessions *s, const char *q, int next_phase)
{
	size_t n = strlen(q);

	if (write(s->fd, q, n) != (ssize_t)n) {
		disconnect(s);
		return false;
	}
	s->phase = next_phase;
	return true;
}

static bool ask_routes(struct sessions *s, const struct roostd_conf *c, bool filtered)
{
	char q[256];

	q[0] = '\0';
	strcat(q, "show route ");
	owners_query(c, filtered, q + strlen(q), sizeof(q) - strlen(q) - 1);
	strcat(q, "\n");
	return ask(s, q, filtered ? SW_FILTERED : SW_ROUTES);
}

/* A route listing arrived: keep the accepted routes until the filtered
 * ones come. An error reply (BIRD reconfiguring) ends the round. */
static void on_routes(struct sessions *s, const struct roostd_conf *c, const struct bc_reply *r)
{
	struct bc_route *v = NULL;
	size_t n = 0;

	if (bc_parse_routes(r, &v, &n) < 0) {
		s->phase = SW_IDLE;
		return;
	}
	if (s->phase == SW_ROUTES) {
		free(s->routes);
		s->routes = v;
		s->n_routes = n;
		(void)ask_routes(s, c, true);
		return;
	}
	owners_update(s->owners, c, s->routes, s->n_routes, v, n, rst_now_ms());
	free(v);
	s->phase = SW_IDLE;
}

void sessions_tick(struct sessions *s, const struct roostd_conf *c)
{
	struct bc_reply r = {0};
	int got;

	if (s->phase == SW_IDLE) {
		if (!due(s))
			return;
		schedule(s);
		if (s->fd < 0 && connect_bird(s, c->bird_socket) < 0)
			return; /* BIRD not there (yet): bird.c says why */
		if (s->fd >= 0 && s->phase == SW_IDLE)
			(void)ask(s, "show protocols\n", SW_REPLY);
		return;
	}
	while ((got = read_reply(s, &r)) > 0) {
		switch (s->phase) {
		case SW_GREETING:
			/* "0001 BIRD 2.0.12 ready.": ask at once, keep the connection. */
			(void)ask(s, "show protocols\n", SW_REPLY);
			break;
		case SW_REPLY:
			on_listing(s, c, &r);
			if (s->owners && (c->cluster_len || conf_has_v6(c)))
				(void)ask_routes(s, c, false);
			else
				s->phase = SW_IDLE;
			break;
		case SW_ROUTES:
		case SW_FILTERED:
			on_routes(s, c, &r);
			break;
		default:
			break;
		}
		bc_reply_done(&r);
		if (s->phase == SW_IDLE || s->fd < 0)
			return;
	}
	if (got < 0)
		disconnect(s);
}
