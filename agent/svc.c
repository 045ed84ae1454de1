/* SPDX-License-Identifier: MIT */
/*
 * svc.c - bgp.services on roostd's loop: the addresses the datastore's
 * Service threads publish (svcwatch.c) checked against the configuration
 * and added to what BIRD announces, applied like a reload (a filter and a
 * static protocol change in BIRD: no session restarts).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "log.h"
#include "rst-util.h"
#include "status.h"

/* An address that could not be applied is tried again after this. */
#define SVC_RETRY_MS 5000

static bool inside(struct in_addr a, struct in_addr net, unsigned len)
{
	uint32_t m = len ? 0xffffffffu << (32 - len) : 0;

	return (ntohl(a.s_addr) & m) == (ntohl(net.s_addr) & m);
}

/* Why address a must not be announced by c, else NULL. */
static const char *unfit(const struct roostd_conf *c, struct in_addr a)
{
	uint32_t h = ntohl(a.s_addr);

	if (h == 0 || h >> 24 == 127 || h >> 28 == 14 || h >> 28 == 15 || h == 0xffffffffu)
		return "not a unicast address";
	if (c->cluster_len && inside(a, c->cluster_net, c->cluster_len))
		return "inside the cluster pod CIDR";
	if (a.s_addr == c->address.s_addr)
		return "this node's address";
	for (size_t i = 0; i < c->n_mesh; i++)
		if (c->mesh[i].address.s_addr == a.s_addr)
			return "a node's address";
	for (size_t i = 0; i < c->n_peers; i++)
		if (c->peers[i].address.s_addr == a.s_addr)
			return "an external peer's address";
	for (size_t i = 0; i < c->n_route_reflectors; i++)
		if (c->route_reflectors[i].address.s_addr == a.s_addr)
			return "a route reflector's address";
	for (size_t i = 0; i < c->n_announce; i++)
		if (inside(a, c->announce[i].net, c->announce[i].len))
			return "bgp.announce has it already";
	if (c->svc_range_on && inside(a, c->svc_range.net, c->svc_range.len))
		return "inside bgp.services.cluster_ip_range, announced already";
	return NULL;
}

/* The skipped addresses of this round, logged when they were not skipped
 * in the round before (so each is reported once while it lasts). */
struct skipped {
	char (*now)[200];
	size_t n_now;
};

static void skip(struct skipped *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void skip(struct skipped *k, const char *fmt, ...)
{
	va_list ap;
	void *v = realloc(k->now, (k->n_now + 1) * sizeof(*k->now));

	if (!v)
		return;
	k->now = v;
	va_start(ap, fmt);
	vsnprintf(k->now[k->n_now++], sizeof(*k->now), fmt, ap);
	va_end(ap);
}

static void skipped_done(struct agent *a, struct skipped *k)
{
	for (size_t i = 0; i < k->n_now; i++) {
		bool seen = false;

		for (size_t j = 0; j < a->n_svc_skipped && !seen; j++)
			seen = strcmp(a->svc_skipped[j], k->now[i]) == 0;
		if (!seen)
			log_warn("services: %s", k->now[i]);
	}
	free(a->svc_skipped);
	a->svc_skipped = k->now;
	a->n_svc_skipped = k->n_now;
}

int svc_fill(struct roostd_conf *c, const struct svc_addr *s, size_t n, struct agent *a)
{
	struct bc_announce *out = calloc(BC_SVC_MAX + 1, sizeof(*out));
	char(*why)[160] = calloc(BC_SVC_MAX + 1, sizeof(*why));
	struct skipped k = {0};
	size_t m = 0, want = 0;
	char ip[INET_ADDRSTRLEN];

	if (!out || !why) {
		free(out);
		free(why);
		return -ENOMEM;
	}
	if (c->svc_range_on) {
		out[m] = c->svc_range;
		snprintf(why[m++], sizeof(*why), "bgp.services.cluster_ip_range");
	}
	for (size_t i = 0; i < n; i++) {
		const char *no;

		if (!((c->svc_lb && (s[i].kinds & KSVC_LB)) ||
		      (c->svc_external && (s[i].kinds & KSVC_EXTERNAL))))
			continue;
		inet_ntop(AF_INET, &s[i].addr, ip, sizeof(ip));
		if ((no = unfit(c, s[i].addr))) {
			skip(&k, "%s (%s) not announced: %s", ip, s[i].why, no);
			continue;
		}
		want++;
		if (m >= BC_SVC_MAX)
			continue;
		out[m] = (struct bc_announce){.net = s[i].addr, .len = 32, .when = BC_ANNOUNCE_ALWAYS};
		snprintf(why[m++], sizeof(*why), "%s", s[i].why);
	}
	if (m >= BC_SVC_MAX && want + c->svc_range_on > BC_SVC_MAX)
		skip(&k, "%zu service addresses; announcing the lowest %d (at most %d, with bgp.services.cluster_ip_range)",
		     want, BC_SVC_MAX - (int)c->svc_range_on, BC_SVC_MAX);
	if (a)
		skipped_done(a, &k);
	else
		free(k.now);
	free(c->svc);
	free(c->svc_why);
	c->svc = out;
	c->svc_why = why;
	c->n_svc = m;
	return 0;
}

/* Applies the addresses when the configurer is free; NULL when nothing is
 * to be applied (or it could not be prepared: tried again later). */
struct apply_job *svc_prepare(struct agent *a)
{
	struct roostd_conf *c = a->conf;
	struct bc_announce *old = c->svc;
	char(*old_why)[160] = c->svc_why;
	size_t old_n = c->n_svc;
	struct apply_job *j = NULL;
	char *text = NULL;

	a->svc_wanted = false;
	c->svc = NULL;
	c->svc_why = NULL;
	if (svc_fill(c, a->svc_all, a->n_svc_all, a) < 0 || agent_render(c, &a->owners, &text) < 0 ||
	    !(j = calloc(1, sizeof(*j)))) {
		log_error("services: addresses changed, not applied; trying again in %d ms",
			  SVC_RETRY_MS);
		free(c->svc);
		free(c->svc_why);
		free(text);
		c->svc = old;
		c->svc_why = old_why;
		c->n_svc = old_n;
		a->svc_wanted = true;
		a->svc_retry_ms = rst_now_ms() + SVC_RETRY_MS;
		return NULL;
	}
	j->svc = true;
	j->svc_list = c->svc;
	j->svc_why = c->svc_why;
	j->n_svc = c->n_svc;
	c->svc = old;
	c->svc_why = old_why;
	c->n_svc = old_n;
	if (strcmp(text, a->text) == 0) {
		/* the same BIRD configuration (only reasons changed) */
		svc_commit(a, j);
		free(text);
		apply_job_free(j);
		return NULL;
	}
	j->text = text;
	bird_init(&j->bird, c);
	return j;
}

void svc_commit(struct agent *a, struct apply_job *j)
{
	struct roostd_conf *c = a->conf;
	size_t was = c->n_svc;

	free(c->svc);
	free(c->svc_why);
	c->svc = TAKE_PTR(j->svc_list);
	c->svc_why = TAKE_PTR(j->svc_why);
	c->n_svc = j->n_svc;
	if (j->text) {
		log_info("services: %zu address(es) announced for Services (were %zu)", c->n_svc,
			 was);
		free(a->text);
		a->text = TAKE_PTR(j->text);
	}
}

void svc_refused(struct agent *a, struct apply_job *j)
{
	char buf[1024];

	rst_err_format(&j->e, buf, sizeof(buf));
	log_error("services: addresses changed, not applied, trying again in %d ms: %s",
		  SVC_RETRY_MS, buf);
	a->svc_wanted = true;
	a->svc_retry_ms = rst_now_ms() + SVC_RETRY_MS;
}

json_t *svc_status_json(const struct roostd_conf *c)
{
	json_t *list = json_array();
	char net[INET_ADDRSTRLEN], pfx[48];

	for (size_t i = 0; i < c->n_announce; i++) {
		inet_ntop(AF_INET, &c->announce[i].net, net, sizeof(net));
		snprintf(pfx, sizeof(pfx), "%s/%u", net, c->announce[i].len);
		json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "prefix", pfx, "when",
						      c->announce[i].when == BC_ANNOUNCE_LOCAL
							      ? "local"
							      : "always",
						      "why", "bgp.announce"));
	}
	for (size_t i = 0; i < c->n_svc; i++) {
		inet_ntop(AF_INET, &c->svc[i].net, net, sizeof(net));
		snprintf(pfx, sizeof(pfx), "%s/%u", net, c->svc[i].len);
		json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "prefix", pfx, "when",
						      "always", "why", c->svc_why[i]));
	}
	return list;
}
