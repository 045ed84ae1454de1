/* SPDX-License-Identifier: MIT */
/*
 * DOC: reply.c - parsers for BIRD 2 control-socket replies.
 *
 * Owns the reply grammar (bc_line_classify, bc_reply_parse) and the readers
 * of three replies roostd acts on: `show protocols [all]`, `show route [all]`
 * and `show status`. It never touches a socket; ctl.c feeds it bytes. Every
 * function works on text alone, so tests can run it on recorded replies.
 *
 * Grammar (BIRD 2.0.12, nest/cli.c): "DDDD-text" more follows, "DDDD text"
 * ends the reply, " text" repeats the previous line's code, "+text" is
 * asynchronous and belongs to no reply. A line is classified before any
 * trimming: its text may start with a TAB, be empty or end in spaces.
 *
 * The readers are strict about what they use (a protocol row must have five
 * fields, a route line its "[proto since]" block, an AS number must be a
 * number) and ignore lines they do not know, so new detail lines in a later
 * BIRD do not break them. A field that does not fit its buffer is -EBADMSG,
 * except free text (Info, Last error), which is cut.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bc-ctl.h"

/* ---- small text helpers ---------------------------------------------------
 * A span is a piece of a longer, const string: no copies until a value is
 * stored in a result struct. */

struct span {
	const char *p;
	size_t n;
};

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static struct span span_of(const char *s)
{
	return (struct span){s, strlen(s)};
}

static struct span span_trim(struct span s)
{
	while (s.n && is_blank(s.p[0])) {
		s.p++;
		s.n--;
	}
	while (s.n && is_blank(s.p[s.n - 1]))
		s.n--;
	return s;
}

/* Takes the next blank-separated word off the front of *rest. */
static bool span_word(struct span *rest, struct span *ret_word)
{
	struct span s = *rest;
	size_t i = 0;

	while (s.n && is_blank(s.p[0])) {
		s.p++;
		s.n--;
	}
	if (!s.n)
		return false;
	while (i < s.n && !is_blank(s.p[i]))
		i++;
	*ret_word = (struct span){s.p, i};
	*rest = (struct span){s.p + i, s.n - i};
	return true;
}

/* If s starts with prefix, drops it from s and returns true. */
static bool span_eat(struct span *s, const char *prefix)
{
	size_t n = strlen(prefix);

	if (s->n < n || memcmp(s->p, prefix, n) != 0)
		return false;
	s->p += n;
	s->n -= n;
	return true;
}

static bool span_eq(struct span s, const char *str)
{
	return s.n == strlen(str) && memcmp(s.p, str, s.n) == 0;
}

/* Copies s into dst; -EBADMSG when it does not fit (a structural field). */
static int span_copy(struct span s, char *dst, size_t size)
{
	if (s.n >= size)
		return -EBADMSG;
	memcpy(dst, s.p, s.n);
	dst[s.n] = '\0';
	return 0;
}

/* Copies as much of s as fits (free text). */
static void span_copy_cut(struct span s, char *dst, size_t size)
{
	size_t n = s.n < size ? s.n : size - 1;

	memcpy(dst, s.p, n);
	dst[n] = '\0';
}

/* A decimal number that fits in 32 bits, with nothing around it. */
static int span_u32(struct span s, uint32_t *ret)
{
	uint64_t v = 0;

	if (!s.n || s.n > 10)
		return -EBADMSG;
	for (size_t i = 0; i < s.n; i++) {
		if (!is_digit(s.p[i]))
			return -EBADMSG;
		v = v * 10 + (uint64_t)(s.p[i] - '0');
	}
	if (v > UINT32_MAX)
		return -EBADMSG;
	*ret = (uint32_t)v;
	return 0;
}

/* Takes a number off the front of *s (at most 10 digits). */
static int span_eat_u32(struct span *s, uint32_t *ret)
{
	size_t i = 0;
	int r;

	while (i < s->n && is_digit(s->p[i]))
		i++;
	r = span_u32((struct span){s->p, i}, ret);
	if (r < 0)
		return r;
	s->p += i;
	s->n -= i;
	return 0;
}

static void span_skip_blanks(struct span *s)
{
	while (s->n && is_blank(s->p[0])) {
		s->p++;
		s->n--;
	}
}

/* Returns arr (of *cap elements of size elem) grown to hold at least need,
 * or NULL for ENOMEM (arr is then still valid). New elements are zeroed. */
static void *grow(void *arr, size_t *cap, size_t need, size_t elem)
{
	size_t ncap;
	void *p;

	if (need <= *cap)
		return arr;
	ncap = *cap ? *cap * 2 : 8;
	while (ncap < need)
		ncap *= 2;
	p = reallocarray(arr, ncap, elem);
	if (!p)
		return NULL;
	memset((char *)p + *cap * elem, 0, (ncap - *cap) * elem);
	*cap = ncap;
	return p;
}

/* ---- the line grammar ---------------------------------------------------- */

enum bc_line_kind bc_line_classify(const char *line, int prev_code, int *ret_code,
				   const char **ret_text)
{
	int code = 0;

	if (line[0] == ' ') {
		*ret_code = prev_code;
		*ret_text = line + 1;
		return BC_LINE_CONT;
	}
	if (line[0] == '+') {
		*ret_code = 0;
		*ret_text = line + 1;
		return BC_LINE_ASYNC;
	}
	for (int i = 0; i < 4; i++) {
		if (!is_digit(line[i])) {
			*ret_code = 0;
			*ret_text = line;
			return BC_LINE_BAD;
		}
		code = code * 10 + (line[i] - '0');
	}
	if (line[4] == '-' || line[4] == ' ') {
		*ret_code = code;
		*ret_text = line + 5;
		return line[4] == '-' ? BC_LINE_MORE : BC_LINE_FINAL;
	}
	*ret_code = 0;
	*ret_text = line;
	return BC_LINE_BAD;
}

/* One line of buf, classified. line is NUL-terminated in the caller's scratch
 * buffer; text points into it. */
struct scan {
	size_t start, len; /* of the line in buf, without its '\n' */
	enum bc_line_kind kind;
	int code;
	const char *text;
};

/* Classifies the line of buf at pos into sc, using scratch (BC_LINE_MAX + 1
 * bytes). Returns 1 with a line, 0 when no complete line is left, or -EBADMSG
 * (a line too long, or holding a NUL byte). */
static int scan_line(const char *buf, size_t len, size_t pos, int prev_code, char *scratch,
		     struct scan *sc)
{
	const char *nl = memchr(buf + pos, '\n', len - pos);
	size_t n;

	if (!nl)
		return len - pos > BC_LINE_MAX ? -EBADMSG : 0;
	n = (size_t)(nl - (buf + pos));
	if (n > BC_LINE_MAX || memchr(buf + pos, '\0', n))
		return -EBADMSG;
	memcpy(scratch, buf + pos, n);
	scratch[n] = '\0';
	sc->start = pos;
	sc->len = n;
	sc->kind = bc_line_classify(scratch, prev_code, &sc->code, &sc->text);
	return 1;
}

void bc_reply_done(struct bc_reply *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_lines; i++)
		free(r->lines[i].text);
	free(r->lines);
	for (size_t i = 0; i < r->n_async; i++)
		free(r->async[i]);
	free(r->async);
	memset(r, 0, sizeof(*r));
}

long bc_reply_parse(const char *buf, size_t len, struct bc_reply *ret)
{
	_cleanup_free_ char *scratch = NULL;
	struct bc_reply r = {0};
	struct scan sc;
	size_t pos = 0, end = 0, n_lines = 0, n_async = 0;
	int prev = 0, k = 0;
	bool final = false;

	scratch = malloc(BC_LINE_MAX + 1);
	if (!scratch)
		return -ENOMEM;

	/* Pass 1: find the final line and check every line before it; allocate
	 * nothing, so feeding a reply a few bytes at a time stays cheap. */
	while (!final && (k = scan_line(buf, len, pos, prev, scratch, &sc)) > 0) {
		switch (sc.kind) {
		case BC_LINE_BAD:
			return -EBADMSG;
		case BC_LINE_CONT:
			if (prev == 0) /* nothing to continue */
				return -EBADMSG;
			n_lines++;
			break;
		case BC_LINE_ASYNC:
			n_async++;
			break;
		case BC_LINE_FINAL:
			final = true;
			/* fall through */
		case BC_LINE_MORE:
			prev = sc.code;
			n_lines++;
			break;
		}
		pos = sc.start + sc.len + 1;
	}
	if (!final)
		return k < 0 ? k : 0;
	end = pos;

	/* Pass 2: the same lines again, now stored. */
	r.lines = calloc(n_lines, sizeof(*r.lines));
	if (!r.lines)
		return -ENOMEM;
	if (n_async) {
		r.async = calloc(n_async, sizeof(*r.async));
		if (!r.async)
			goto nomem;
	}
	pos = 0;
	prev = 0;
	while (pos < end && scan_line(buf, end, pos, prev, scratch, &sc) > 0) {
		char *text = strdup(sc.text);

		if (!text)
			goto nomem;
		if (sc.kind == BC_LINE_ASYNC) {
			r.async[r.n_async++] = text;
		} else {
			r.lines[r.n_lines].code = sc.code;
			r.lines[r.n_lines++].text = text;
			prev = sc.code;
			if (sc.kind == BC_LINE_FINAL)
				r.code = sc.code;
		}
		pos = sc.start + sc.len + 1;
	}
	*ret = r;
	return (long)end;

nomem:
	bc_reply_done(&r);
	return -ENOMEM;
}

/* ---- show protocols [all] ------------------------------------------------ */

enum proto_key {
	PK_BGP_STATE,
	PK_NEIGHBOR,
	PK_NEIGHBOR_AS,
	PK_LOCAL_AS,
	PK_NEIGHBOR_ID,
	PK_LAST_ERROR,
	PK_SESSION,
	PK_INPUT_FILTER,
	PK_OUTPUT_FILTER,
	PK_ROUTES,
	PK_IMPORT_UPDATES,
};

/* Detail lines of `show protocols all` we read; the rest are skipped. */
static const struct {
	const char *key;
	enum proto_key id;
	bool channel; /* inside a "Channel" block (only the first one is used) */
} proto_keys[] = {
	{"BGP state:", PK_BGP_STATE, false},
	{"Neighbor address:", PK_NEIGHBOR, false},
	{"Neighbor range:", PK_NEIGHBOR, false},
	{"Neighbor AS:", PK_NEIGHBOR_AS, false},
	{"Local AS:", PK_LOCAL_AS, false},
	{"Neighbor ID:", PK_NEIGHBOR_ID, false},
	{"Last error:", PK_LAST_ERROR, false},
	{"Session:", PK_SESSION, false},
	{"Input filter:", PK_INPUT_FILTER, true},
	{"Output filter:", PK_OUTPUT_FILTER, true},
	{"Routes:", PK_ROUTES, true},
	{"Import updates:", PK_IMPORT_UPDATES, true},
};

/* "1 imported, 1 filtered, 0 exported, 1 preferred" (filtered only with
 * `import keep filtered`). */
static int parse_route_counts(struct span s, struct bc_protocol *p)
{
	bool imported = false, exported = false, preferred = false;

	p->routes_filtered = 0;
	while (s.n) {
		const char *comma = memchr(s.p, ',', s.n);
		struct span item = {s.p, comma ? (size_t)(comma - s.p) : s.n};
		struct span num, word;
		uint32_t v;

		s = comma ? (struct span){comma + 1, s.n - item.n - 1} : (struct span){s.p, 0};
		if (!span_word(&item, &num) || !span_word(&item, &word) || span_word(&item, &num))
			return -EBADMSG;
		if (span_u32(num, &v) < 0)
			return -EBADMSG;
		if (span_eq(word, "imported")) {
			p->routes_imported = v;
			imported = true;
		} else if (span_eq(word, "filtered")) {
			p->routes_filtered = v;
		} else if (span_eq(word, "exported")) {
			p->routes_exported = v;
			exported = true;
		} else if (span_eq(word, "preferred")) {
			p->routes_preferred = v;
			preferred = true;
		}
	}
	if (!imported || !exported || !preferred)
		return -EBADMSG;
	p->has_routes = true;
	return 0;
}

/* "Import updates:  1  0  0  0  1": received, rejected, filtered, ignored,
 * accepted (the "Route change stats" table of a channel). */
static int parse_import_updates(struct span s, struct bc_protocol *p)
{
	uint32_t v[5];
	struct span w;

	for (size_t i = 0; i < ARRAY_SIZE(v); i++)
		if (!span_word(&s, &w) || span_u32(w, &v[i]) < 0)
			return -EBADMSG;
	p->import_received = v[0];
	p->import_rejected = v[1];
	p->import_filtered = v[2];
	p->import_ignored = v[3];
	p->import_accepted = v[4];
	p->has_import_stats = true;
	return 0;
}

static int parse_proto_detail(const char *text, struct bc_protocol *p, unsigned *channels)
{
	struct span s = span_trim(span_of(text));
	uint32_t v;

	if (span_eat(&s, "Channel ")) {
		(*channels)++;
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(proto_keys); i++) {
		struct span val = s;

		if (!span_eat(&val, proto_keys[i].key))
			continue;
		if (proto_keys[i].channel && *channels != 1)
			return 0;
		val = span_trim(val);
		switch (proto_keys[i].id) {
		case PK_BGP_STATE:
			return span_copy(val, p->bgp_state, sizeof(p->bgp_state));
		case PK_NEIGHBOR:
			return span_copy(val, p->neighbor, sizeof(p->neighbor));
		case PK_NEIGHBOR_AS:
			if (span_u32(val, &v) < 0)
				return -EBADMSG;
			p->neighbor_as = v;
			return 0;
		case PK_LOCAL_AS:
			if (span_u32(val, &v) < 0)
				return -EBADMSG;
			p->local_as = v;
			return 0;
		case PK_NEIGHBOR_ID:
			return span_copy(val, p->neighbor_id, sizeof(p->neighbor_id));
		case PK_LAST_ERROR:
			span_copy_cut(val, p->last_error, sizeof(p->last_error));
			return 0;
		case PK_SESSION:
			return span_copy(val, p->session, sizeof(p->session));
		case PK_INPUT_FILTER:
			return span_copy(val, p->input_filter, sizeof(p->input_filter));
		case PK_OUTPUT_FILTER:
			return span_copy(val, p->output_filter, sizeof(p->output_filter));
		case PK_ROUTES:
			return parse_route_counts(val, p);
		case PK_IMPORT_UPDATES:
			return parse_import_updates(val, p);
		}
	}
	return 0;
}

/* "device1    Device     ---        up     09:25:55.284  Info text  " */
static int parse_proto_row(const char *text, struct bc_protocol *p)
{
	struct span rest = span_of(text), w;
	struct {
		char *dst;
		size_t size;
	} fields[] = {
		{p->name, sizeof(p->name)},   {p->proto, sizeof(p->proto)},
		{p->table, sizeof(p->table)}, {p->state, sizeof(p->state)},
		{p->since, sizeof(p->since)},
	};

	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		if (!span_word(&rest, &w) || span_copy(w, fields[i].dst, fields[i].size) < 0)
			return -EBADMSG;
	}
	span_copy_cut(span_trim(rest), p->info, sizeof(p->info));
	return 0;
}

/* Lines of an 8xxx code in the middle of a reply ("8000-<line overflow>")
 * replace a line we cannot see: the listing is incomplete. */
static bool is_lost_line(int code)
{
	return bc_code_is_error(code);
}

int bc_parse_protocols(const struct bc_reply *r, struct bc_protocol **ret, size_t *ret_n)
{
	_cleanup_free_ struct bc_protocol *arr = NULL;
	size_t n = 0, cap = 0;
	unsigned channels = 0;
	void *p;
	int err;

	if (bc_code_is_error(r->code))
		return -EINVAL;
	if (r->code != 0)
		return -EBADMSG;
	for (size_t i = 0; i < r->n_lines; i++) {
		const struct bc_line *l = &r->lines[i];

		if (is_lost_line(l->code))
			return -EBADMSG;
		if (l->code == 1002) {
			p = grow(arr, &cap, n + 1, sizeof(*arr));
			if (!p)
				return -ENOMEM;
			arr = p;
			err = parse_proto_row(l->text, &arr[n]);
			if (err < 0)
				return err;
			n++;
			channels = 0;
		} else if (l->code == 1006) {
			if (n == 0)
				return -EBADMSG;
			err = parse_proto_detail(l->text, &arr[n - 1], &channels);
			if (err < 0)
				return err;
		}
		/* 2002 heading, 0000 end and unknown codes: nothing to read */
	}
	*ret = n ? TAKE_PTR(arr) : NULL;
	*ret_n = n;
	return 0;
}

/* ---- show route [all] ---------------------------------------------------- */

/* "[node_n2 09:26:08.076]" or "[rr_n1 12:15:17.172 from 172.31.0.1]" */
static int parse_route_source(struct span in, struct bc_route *rt)
{
	struct span w, since;
	const char *from = NULL;

	if (!span_word(&in, &w) || span_copy(w, rt->proto, sizeof(rt->proto)) < 0)
		return -EBADMSG;
	since = span_trim(in);
	/* since may hold a space with a long timeformat; " from " cannot be in it */
	for (size_t i = 0; i + 6 <= since.n; i++) {
		if (memcmp(since.p + i, " from ", 6) == 0) {
			from = since.p + i;
			break;
		}
	}
	if (from) {
		struct span addr =
			span_trim((struct span){from + 6, since.n - (size_t)(from + 6 - since.p)});

		since.n = (size_t)(from - since.p);
		if (!addr.n || span_copy(addr, rt->from, sizeof(rt->from)) < 0)
			return -EBADMSG;
	}
	if (!since.n || span_copy(since, rt->since, sizeof(rt->since)) < 0)
		return -EBADMSG;
	return 0;
}

/* "10.244.2.0/24        unicast [node_n2 09:26:08.076] * (100) [i]"; the
 * prefix is left blank on the second and later routes of one network. */
static int parse_route_line(const char *text, const struct bc_route *prev, struct bc_route *rt)
{
	struct span rest = span_of(text), w;
	const char *close;
	uint32_t pref;

	if (is_blank(text[0])) {
		if (!prev)
			return -EBADMSG;
		memcpy(rt->prefix, prev->prefix, sizeof(rt->prefix));
	} else if (!span_word(&rest, &w) || span_copy(w, rt->prefix, sizeof(rt->prefix)) < 0) {
		return -EBADMSG;
	}
	if (!span_word(&rest, &w) || span_copy(w, rt->type, sizeof(rt->type)) < 0)
		return -EBADMSG;
	span_skip_blanks(&rest);
	if (!span_eat(&rest, "["))
		return -EBADMSG;
	close = memchr(rest.p, ']', rest.n);
	if (!close || parse_route_source((struct span){rest.p, (size_t)(close - rest.p)}, rt) < 0)
		return -EBADMSG;
	rest = (struct span){close + 1, rest.n - (size_t)(close + 1 - rest.p)};
	span_skip_blanks(&rest);
	if (span_eat(&rest, "*")) {
		rt->best = true;
	} else if (span_eat(&rest, "!")) {
		rt->best = true;
		rt->sync_error = true;
	}
	/* protocol info: always starts with "(pref" ("(100)", OSPF "(150/20)") */
	span_skip_blanks(&rest);
	if (!span_eat(&rest, "(") || span_eat_u32(&rest, &pref) < 0)
		return -EBADMSG;
	rt->pref = pref;
	return 0;
}

/* "\tvia 172.31.0.2 on eth0 [weight 1 ...]" or "\tdev cni0"; only the first
 * next hop of a route is kept. */
static int parse_next_hop(const char *text, struct bc_route *rt)
{
	struct span rest = span_of(text), w, a;

	if (rt->via[0] || rt->dev[0] || !span_word(&rest, &w))
		return 0;
	if (span_eq(w, "via")) {
		if (!span_word(&rest, &a) || span_copy(a, rt->via, sizeof(rt->via)) < 0)
			return -EBADMSG;
		if (span_word(&rest, &w) && span_eq(w, "on")) {
			if (!span_word(&rest, &a) || span_copy(a, rt->dev, sizeof(rt->dev)) < 0)
				return -EBADMSG;
		}
	} else if (span_eq(w, "dev")) {
		if (!span_word(&rest, &a) || span_copy(a, rt->dev, sizeof(rt->dev)) < 0)
			return -EBADMSG;
	}
	return 0;
}

/* "(64512, 1, 2) (64512, 1, 3)": up to ARRAY_SIZE(rt->lc) are kept, the
 * rest only checked. */
static int parse_large_communities(struct span s, struct bc_route *rt)
{
	rt->n_lc = 0;
	for (;;) {
		uint32_t v[3];

		span_skip_blanks(&s);
		if (!s.n)
			return 0;
		if (!span_eat(&s, "("))
			return -EBADMSG;
		for (int i = 0; i < 3; i++) {
			span_skip_blanks(&s);
			if (span_eat_u32(&s, &v[i]) < 0)
				return -EBADMSG;
			span_skip_blanks(&s);
			if (!span_eat(&s, i < 2 ? "," : ")"))
				return -EBADMSG;
		}
		if (rt->n_lc < ARRAY_SIZE(rt->lc))
			rt->lc[rt->n_lc++] = (struct bc_lc){v[0], v[1], v[2]};
	}
}

static int parse_route_attr(const char *text, struct bc_route *rt)
{
	struct span s = span_trim(span_of(text)), w;

	if (span_eat(&s, "BGP.next_hop:")) {
		/* an IPv6 next hop may be followed by its link-local twin */
		if (!span_word(&s, &w) ||
		    span_copy(w, rt->bgp_next_hop, sizeof(rt->bgp_next_hop)) < 0)
			return -EBADMSG;
		return 0;
	}
	if (span_eat(&s, "BGP.large_community:"))
		return parse_large_communities(s, rt);
	return 0;
}

int bc_parse_routes(const struct bc_reply *r, struct bc_route **ret, size_t *ret_n)
{
	_cleanup_free_ struct bc_route *arr = NULL;
	char table[sizeof(arr->table)] = "";
	size_t n = 0, cap = 0;
	void *p;
	int err;

	if (r->code == 8001) { /* "Network not found" */
		*ret = NULL;
		*ret_n = 0;
		return 0;
	}
	if (bc_code_is_error(r->code))
		return -EINVAL;
	if (r->code != 0) /* e.g. 0014 from `show route count`: not a route list */
		return -EBADMSG;
	for (size_t i = 0; i < r->n_lines; i++) {
		const struct bc_line *l = &r->lines[i];
		struct bc_route *cur = n ? &arr[n - 1] : NULL;

		if (is_lost_line(l->code))
			return -EBADMSG;
		switch (l->code) {
		case 1007: {
			struct span s = span_of(l->text);

			if (l->text[0] == '\0')
				break; /* the blank line between two tables (master4, master6) */
			if (l->text[0] == '\t') {
				if (!cur)
					return -EBADMSG;
				err = parse_next_hop(l->text, cur);
				if (err < 0)
					return err;
				break;
			}
			if (span_eat(&s, "Table ")) {
				s = span_trim(s);
				if (!s.n || s.p[s.n - 1] != ':')
					return -EBADMSG;
				s.n--;
				if (span_copy(s, table, sizeof(table)) < 0)
					return -EBADMSG;
				break;
			}
			p = grow(arr, &cap, n + 1, sizeof(*arr));
			if (!p)
				return -ENOMEM;
			arr = p;
			/* arr may have moved */
			cur = n ? &arr[n - 1] : NULL;
			/* the prefix carries over only within one table */
			if (cur && strcmp(cur->table, table) != 0)
				cur = NULL;
			err = parse_route_line(l->text, cur, &arr[n]);
			if (err < 0)
				return err;
			memcpy(arr[n].table, table, sizeof(table));
			n++;
			break;
		}
		case 1008: {
			struct span s = span_trim(span_of(l->text));

			if (!cur)
				return -EBADMSG;
			if (span_eat(&s, "Type:") &&
			    span_copy(span_trim(s), cur->route_type, sizeof(cur->route_type)) < 0)
				return -EBADMSG;
			break;
		}
		case 1012:
			if (!cur)
				return -EBADMSG;
			err = parse_route_attr(l->text, cur);
			if (err < 0)
				return err;
			break;
		default: /* 0000 end, unknown codes */
			break;
		}
	}
	*ret = n ? TAKE_PTR(arr) : NULL;
	*ret_n = n;
	return 0;
}

/* ---- show status --------------------------------------------------------- */

int bc_parse_status(const struct bc_reply *r, struct bc_status *ret)
{
	struct bc_status st = {0};

	if (bc_code_is_error(r->code))
		return -EINVAL;
	if (r->code != 13)
		return -EBADMSG;
	for (size_t i = 0; i < r->n_lines; i++) {
		const struct bc_line *l = &r->lines[i];
		struct span s = span_trim(span_of(l->text));

		if (is_lost_line(l->code))
			return -EBADMSG;
		switch (l->code) {
		case 1000:
			if (!span_eat(&s, "BIRD ") ||
			    span_copy(span_trim(s), st.version, sizeof(st.version)) < 0)
				return -EBADMSG;
			break;
		case 1011:
			if (span_eat(&s, "Router ID is ")) {
				if (span_copy(span_trim(s), st.router_id, sizeof(st.router_id)) < 0)
					return -EBADMSG;
			} else if (span_eat(&s, "Last reboot on ")) {
				if (span_copy(span_trim(s), st.last_reboot,
					      sizeof(st.last_reboot)) < 0)
					return -EBADMSG;
			} else if (span_eat(&s, "Last reconfiguration on ")) {
				if (span_copy(span_trim(s), st.last_reconfiguration,
					      sizeof(st.last_reconfiguration)) < 0)
					return -EBADMSG;
			}
			break;
		case 24:
			if (span_eq(s, "Graceful restart recovery in progress"))
				st.gr_recovery = true;
			break;
		case 13:
			/* or "Reconfiguration in progress" / "Shutdown in progress" */
			st.running = span_eq(s, "Daemon is up and running");
			break;
		default:
			break;
		}
	}
	if (!st.version[0] || !st.router_id[0])
		return -EBADMSG;
	*ret = st;
	return 0;
}
