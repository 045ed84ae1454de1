/* SPDX-License-Identifier: MIT */
/*
 * DOC: test-reply.c - the BIRD reply grammar and reply parsers, without BIRD.
 *
 * Feeds recorded socket bytes (tests/data/bird-replies/, see its README) and
 * small hand-written replies to bc_line_classify(), bc_reply_parse() and the
 * show-command parsers. Cases are tables: a file and the reply codes it
 * holds; a file, an entry and the value one field must have.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bc-ctl.h"

#define MAX_REPLIES 24

/* ---- loading recorded replies -------------------------------------------- */

static char data_dir[4096];

static void find_data_dir(void)
{
	const char *top = getenv("top_srcdir");
	const char *file = __FILE__;
	const char *tail = "tests/unit/test-reply.c";
	size_t n = strlen(file), t = strlen(tail);

	if (top && *top) {
		snprintf(data_dir, sizeof(data_dir), "%s/tests/data/bird-replies", top);
	} else if (n >= t && strcmp(&file[n - t], tail) == 0) {
		/* built out of tree: __FILE__ is $(srcdir)/tests/unit/test-reply.c */
		snprintf(data_dir, sizeof(data_dir), "%.*stests/data/bird-replies", (int)(n - t),
			 file);
	} else {
		snprintf(data_dir, sizeof(data_dir), "tests/data/bird-replies");
	}
}

/* Reads a data file into an exactly sized buffer (so ASan sees any read past
 * the end). A transcript (.txt) loses its "> command" and "[note" lines. */
static char *load(const char *name, size_t *ret_len)
{
	char path[4200], line[BC_LINE_MAX + 2];
	bool transcript = strstr(name, ".txt") != NULL;
	char *buf = NULL, *exact;
	size_t len = 0, cap = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", data_dir, name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	if (transcript) {
		while (fgets(line, sizeof(line), f)) {
			size_t n = strlen(line);

			if (strncmp(line, "> ", 2) == 0 || line[0] == '[')
				continue;
			if (len + n > cap) {
				cap = (len + n) * 2;
				buf = realloc(buf, cap);
				assert_non_null(buf);
			}
			memcpy(buf + len, line, n);
			len += n;
		}
	} else {
		for (;;) {
			size_t n;

			if (cap - len < 4096) {
				cap = cap ? cap * 2 : 8192;
				buf = realloc(buf, cap);
				assert_non_null(buf);
			}
			n = fread(buf + len, 1, cap - len, f);
			if (n == 0)
				break;
			len += n;
		}
	}
	fclose(f);
	exact = malloc(len ? len : 1);
	assert_non_null(exact);
	memcpy(exact, buf, len);
	free(buf);
	*ret_len = len;
	return exact;
}

/* Parses a whole file: the greeting, then every reply. Returns how many
 * replies followed the greeting; the file must hold nothing else. */
static size_t load_replies(const char *name, struct bc_reply *ret, size_t max)
{
	struct bc_reply greeting = {0};
	size_t len, pos, n = 0;
	char *buf = load(name, &len);
	long used;

	used = bc_reply_parse(buf, len, &greeting);
	if (used <= 0)
		fail_msg("%s: greeting: %ld", name, used);
	assert_int_equal(greeting.code, 1);
	assert_string_equal(greeting.lines[0].text, "BIRD 2.0.12 ready.");
	bc_reply_done(&greeting);
	pos = (size_t)used;
	while (pos < len) {
		if (n == max)
			fail_msg("%s: more than %zu replies", name, max);
		used = bc_reply_parse(buf + pos, len - pos, &ret[n]);
		if (used <= 0)
			fail_msg("%s: reply %zu at byte %zu: %ld", name, n, pos, used);
		pos += (size_t)used;
		n++;
	}
	free(buf);
	return n;
}

static void done_replies(struct bc_reply *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		bc_reply_done(&r[i]);
}

/* Parses a reply given inline (no greeting); it must be complete. */
static void parse_str(const char *s, struct bc_reply *ret)
{
	long used = bc_reply_parse(s, strlen(s), ret);

	if (used != (long)strlen(s))
		fail_msg("'%s': parse returned %ld", s, used);
}

/* ---- the line classifier ------------------------------------------------- */

static const struct {
	const char *line;
	int prev;
	enum bc_line_kind kind;
	int code;
	const char *text;
} classify_cases[] = {
	{"0001 BIRD 2.0.12 ready.", 0, BC_LINE_FINAL, 1, "BIRD 2.0.12 ready."},
	{"1002-device1    Device     ---        up     09:25:55.284  ", 2002, BC_LINE_MORE, 1002,
	 "device1    Device     ---        up     09:25:55.284  "},
	{" pods       Direct     ---        up     09:25:55.284  ", 1002, BC_LINE_CONT, 1002,
	 "pods       Direct     ---        up     09:25:55.284  "},
	{" \tvia 172.31.0.2 on eth0", 1007, BC_LINE_CONT, 1007, "\tvia 172.31.0.2 on eth0"},
	{"1008-\tType: BGP univ", 1007, BC_LINE_MORE, 1008, "\tType: BGP univ"},
	{" ", 1006, BC_LINE_CONT, 1006, ""},
	{"  ", 1006, BC_LINE_CONT, 1006, " "},
	{"1006-", 1002, BC_LINE_MORE, 1006, ""},
	{"0000 ", 1002, BC_LINE_FINAL, 0, ""},
	{"0013 Daemon is up and running  ", 1011, BC_LINE_FINAL, 13, "Daemon is up and running  "},
	{"8002 /x/bird.conf:4:3 syntax error", 2, BC_LINE_FINAL, 8002,
	 "/x/bird.conf:4:3 syntax error"},
	{"9001 syntax error, unexpected CF_SYM_UNDEFINED", 0, BC_LINE_FINAL, 9001,
	 "syntax error, unexpected CF_SYM_UNDEFINED"},
	{"8000-<line overflow>", 1002, BC_LINE_MORE, 8000, "<line overflow>"},
	{"+Config timeout expired, starting undo", 1002, BC_LINE_ASYNC, 0,
	 "Config timeout expired, starting undo"},
	{"+", 0, BC_LINE_ASYNC, 0, ""},
	{"", 0, BC_LINE_BAD, 0, NULL},
	{"0", 0, BC_LINE_BAD, 0, NULL},
	{"000", 0, BC_LINE_BAD, 0, NULL},
	{"0000", 0, BC_LINE_BAD, 0, NULL},
	{"0000x", 0, BC_LINE_BAD, 0, NULL},
	{"12345 x", 0, BC_LINE_BAD, 0, NULL},
	{"00a0 x", 0, BC_LINE_BAD, 0, NULL},
	{"\t0000 x", 0, BC_LINE_BAD, 0, NULL},
	{"-0000 x", 0, BC_LINE_BAD, 0, NULL},
	{"BIRD 2.0.12 ready.", 0, BC_LINE_BAD, 0, NULL},
};

static void test_classify(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(classify_cases); i++) {
		const char *text = NULL;
		int code = -1;
		enum bc_line_kind k;

		k = bc_line_classify(classify_cases[i].line, classify_cases[i].prev, &code, &text);
		if (k != classify_cases[i].kind || code != classify_cases[i].code)
			fail_msg("'%s': kind %d code %d, want kind %d code %d",
				 classify_cases[i].line, k, code, classify_cases[i].kind,
				 classify_cases[i].code);
		if (classify_cases[i].text)
			assert_string_equal(text, classify_cases[i].text);
	}
}

/* ---- every recorded file: reply codes in order --------------------------- */

static const struct {
	const char *file;
	int codes[MAX_REPLIES];
	size_t n;
} file_cases[] = {
	{"raw-show-protocols.bin", {0}, 1},
	{"raw-show-protocols-all.bin", {0}, 1},
	{"raw-show-route-all.bin", {0}, 1},
	{"ctl-misc.txt", {13, 0, 0, 0, 0, 0, 14, 8001, 9001, 0, 9001, 9001, 20, 19, 19}, 15},
	{"ctl-configure-timeout.txt", {3, 0, 0, 0, 0, 3, 0}, 7},
	{"ctl-configure-bad-during-timeout.txt", {3, 8002, 8002, 0, 0, 19}, 6},
	{"ctl-configure-soft-undo.txt", {4, 3, 3}, 3},
	{"rr-show-protocols.bin", {0}, 1},
	{"rr-show-route-all.bin", {0}, 1},
	{"rr-show-protocols-all-client1.bin", {0}, 1},
	{"rr-client-show-route-all.bin", {0}, 1},
	{"rr-client-show-route.bin", {0}, 1},
	{"rr-client-show-protocols-all.bin", {0}, 1},
	{"show-status.bin", {13}, 1},
	{"show-status-gr.bin", {13}, 1},
	{"show-route-multi.bin", {0}, 1},
	{"show-route-all-multi.bin", {0}, 1},
	{"show-route-not-found.bin", {8001}, 1},
	{"show-route-count.bin", {14}, 1},
	{"show-protocols-static.bin", {0}, 1},
	{"show-protocols-no-match.bin", {8003}, 1},
	{"show-protocols-all-filtered.bin", {0}, 1},
	{"show-protocols-all-bgp-error.bin", {0}, 1},
	{"show-protocols-bgp-error.bin", {0}, 1},
	{"unknown-command.bin", {9001}, 1},
	{"configure-check-ok.bin", {20}, 1},
	{"configure-check-bad.bin", {8002}, 1},
	{"configure-missing-file.bin", {8002}, 1},
	{"configure-timeout.bin", {3}, 1},
	{"configure-confirm.bin", {18}, 1},
	{"configure-confirm-nothing.bin", {19}, 1},
	{"configure-undo.bin", {3}, 1},
	{"configure-undo-nothing.bin", {19}, 1},
	{"configure-denied.bin", {8007}, 1},
	{"configure-timeout-expired.bin", {3, 0}, 2},
	{"made-async-mid-reply.bin", {0}, 1},
	{"made-stopped-reconfig.bin", {8004}, 1},
	{"made-line-overflow-mid.bin", {0}, 1},
	{"made-line-overflow-final.bin", {8000}, 1},
	{"made-route-shapes.bin", {0}, 1},
	{"made-protocols-long-names.bin", {0}, 1},
};

static void test_files(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(file_cases); i++) {
		struct bc_reply r[MAX_REPLIES];
		size_t n = load_replies(file_cases[i].file, r, MAX_REPLIES);

		if (n != file_cases[i].n)
			fail_msg("%s: %zu replies, want %zu", file_cases[i].file, n,
				 file_cases[i].n);
		for (size_t j = 0; j < n; j++) {
			if (r[j].code != file_cases[i].codes[j])
				fail_msg("%s: reply %zu code %d, want %d", file_cases[i].file, j,
					 r[j].code, file_cases[i].codes[j]);
			/* the final line is kept, with the reply's code */
			assert_true(r[j].n_lines >= 1);
			assert_int_equal(r[j].lines[r[j].n_lines - 1].code, r[j].code);
		}
		done_replies(r, n);
	}
}

/* Lines and their codes, continuation codes carried over, text untrimmed. */
static void test_lines(void **state)
{
	struct bc_reply r[1];

	assert_int_equal(load_replies("raw-show-route-all.bin", r, 1), 1);
	assert_int_equal(r[0].n_lines, 13);
	assert_int_equal(r[0].n_async, 0);
	assert_int_equal(r[0].lines[1].code, 1007);
	assert_string_equal(r[0].lines[1].text,
			    "10.244.1.0/24        unicast [pods 09:25:55.285] * (240)");
	assert_int_equal(r[0].lines[2].code, 1007);
	assert_string_equal(r[0].lines[2].text, "\tdev cni0");
	assert_int_equal(r[0].lines[8].code, 1012);
	assert_string_equal(r[0].lines[8].text, "\tBGP.as_path: ");
	assert_int_equal(r[0].lines[12].code, 0);
	assert_string_equal(r[0].lines[12].text, "");
	bc_reply_done(r);
}

/* '+' lines: before a reply and in its middle; never the end of it. */
static void test_async(void **state)
{
	struct bc_reply r[2];
	struct bc_route *rt = NULL;
	size_t n = 0;

	assert_int_equal(load_replies("made-async-mid-reply.bin", r, 1), 1);
	assert_int_equal(r[0].n_async, 3);
	assert_string_equal(r[0].async[0], "Config timeout expired, starting undo");
	assert_string_equal(r[0].async[1], "Reconfiguring");
	assert_string_equal(r[0].async[2], "");
	/* the continuation after the '+' line keeps the code before it */
	assert_int_equal(r[0].lines[2].code, 1007);
	assert_string_equal(r[0].lines[2].text, "\tdev cni0");
	assert_int_equal(bc_parse_routes(&r[0], &rt, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(rt[0].dev, "cni0");
	assert_string_equal(rt[1].via, "172.31.0.2");
	free(rt);
	bc_reply_done(&r[0]);

	/* recorded: the undo notice arrives between two replies */
	assert_int_equal(load_replies("configure-timeout-expired.bin", r, 2), 2);
	assert_int_equal(r[0].n_async, 0);
	assert_int_equal(r[1].n_async, 1);
	assert_string_equal(r[1].async[0], "Config timeout expired, starting undo");
	assert_string_equal(r[1].lines[0].text, "Daemon is up and running");
	done_replies(r, 2);
}

/* ---- show protocols [all] ------------------------------------------------ */

enum pf {
	PF_COUNT, /* number of protocols; name is ignored */
	PF_PROTO,
	PF_TABLE,
	PF_STATE,
	PF_SINCE,
	PF_INFO,
	PF_BGP_STATE,
	PF_NEIGHBOR,
	PF_NEIGHBOR_AS,
	PF_LOCAL_AS,
	PF_NEIGHBOR_ID,
	PF_LAST_ERROR,
	PF_SESSION,
	PF_INPUT_FILTER,
	PF_OUTPUT_FILTER,
	PF_ROUTES, /* "imported/filtered/exported/preferred" or "none" */
	PF_IMPORT, /* "received/rejected/filtered/ignored/accepted" or "none" */
};

static const struct {
	const char *file;
	const char *name;
	enum pf field;
	const char *want;
} proto_cases[] = {
	{"raw-show-protocols.bin", NULL, PF_COUNT, "5"},
	{"raw-show-protocols.bin", "device1", PF_INFO, ""},
	{"raw-show-protocols.bin", "kernel4", PF_TABLE, "master4"},
	{"raw-show-protocols.bin", "node_n2", PF_PROTO, "BGP"},
	{"raw-show-protocols.bin", "node_n2", PF_TABLE, "---"},
	{"raw-show-protocols.bin", "node_n2", PF_STATE, "up"},
	{"raw-show-protocols.bin", "node_n2", PF_SINCE, "09:26:05.074"},
	{"raw-show-protocols.bin", "node_n2", PF_INFO, "Established"},
	{"raw-show-protocols.bin", "node_n2", PF_ROUTES, "none"},
	{"raw-show-protocols-all.bin", NULL, PF_COUNT, "5"},
	{"raw-show-protocols-all.bin", "node_n2", PF_INFO, "Established"},
	{"raw-show-protocols-all.bin", "node_n2", PF_IMPORT, "1/0/0/0/1"},
	{"raw-show-protocols-all.bin", "kernel4", PF_IMPORT, "0/0/0/0/0"},
	{"raw-show-protocols.bin", "node_n2", PF_IMPORT, "none"},
	{"raw-show-protocols-all.bin", "node_n2", PF_BGP_STATE, "Established"},
	{"raw-show-protocols-all.bin", "node_n2", PF_NEIGHBOR, "172.31.0.2"},
	{"raw-show-protocols-all.bin", "node_n2", PF_NEIGHBOR_AS, "64512"},
	{"raw-show-protocols-all.bin", "node_n2", PF_LOCAL_AS, "64512"},
	{"raw-show-protocols-all.bin", "node_n2", PF_NEIGHBOR_ID, "172.31.0.2"},
	{"raw-show-protocols-all.bin", "node_n2", PF_LAST_ERROR, ""},
	{"raw-show-protocols-all.bin", "node_n2", PF_SESSION, "internal AS4"},
	{"raw-show-protocols-all.bin", "node_n2", PF_INPUT_FILTER, "import_from_nodes"},
	{"raw-show-protocols-all.bin", "node_n2", PF_OUTPUT_FILTER, "export_to_nodes"},
	{"raw-show-protocols-all.bin", "node_n2", PF_ROUTES, "1/0/1/1"},
	{"raw-show-protocols-all.bin", "pods", PF_ROUTES, "1/0/0/1"},
	{"raw-show-protocols-all.bin", "pods", PF_INPUT_FILTER, "ACCEPT"},
	{"raw-show-protocols-all.bin", "pods", PF_BGP_STATE, ""},
	{"raw-show-protocols-all.bin", "kernel4", PF_OUTPUT_FILTER, "(unnamed)"},
	{"raw-show-protocols-all.bin", "kernel4", PF_ROUTES, "0/0/1/0"},
	{"raw-show-protocols-all.bin", "device1", PF_ROUTES, "none"},
	{"raw-show-protocols-all.bin", "bfd1", PF_STATE, "up"},
	{"rr-show-protocols.bin", NULL, PF_COUNT, "5"},
	{"rr-show-protocols.bin", "clients", PF_STATE, "start"},
	{"rr-show-protocols.bin", "clients", PF_INFO, "Passive"},
	{"rr-show-protocols.bin", "client2", PF_INFO, "Established"},
	{"rr-show-protocols-all-client1.bin", NULL, PF_COUNT, "1"},
	{"rr-show-protocols-all-client1.bin", "client1", PF_SESSION,
	 "internal route-reflector AS4"},
	{"rr-show-protocols-all-client1.bin", "client1", PF_NEIGHBOR, "172.31.0.2"},
	{"rr-show-protocols-all-client1.bin", "client1", PF_INPUT_FILTER, "(unnamed)"},
	{"rr-client-show-protocols-all.bin", "rr_n1", PF_NEIGHBOR_ID, "172.31.0.1"},
	{"rr-client-show-protocols-all.bin", "rr_n1", PF_ROUTES, "1/0/1/1"},
	{"show-protocols-static.bin", NULL, PF_COUNT, "3"},
	{"show-protocols-static.bin", "s2", PF_PROTO, "Static"},
	{"show-protocols-all-filtered.bin", "s1", PF_ROUTES, "1/1/0/1"},
	{"show-protocols-all-filtered.bin", "s1", PF_INPUT_FILTER, "(unnamed)"},
	{"show-protocols-all-filtered.bin", "k4", PF_ROUTES, "0/0/0/0"},
	{"show-protocols-all-filtered.bin", "peer1", PF_BGP_STATE, "Active"},
	/* a channel that is DOWN prints no Routes: line */
	{"show-protocols-all-filtered.bin", "peer1", PF_ROUTES, "none"},
	{"show-protocols-all-bgp-error.bin", "peer1", PF_STATE, "start"},
	{"show-protocols-all-bgp-error.bin", "peer1", PF_INFO,
	 "Active        Socket: Connection refused"},
	{"show-protocols-all-bgp-error.bin", "peer1", PF_LAST_ERROR, "Socket: Connection refused"},
	{"show-protocols-all-bgp-error.bin", "peer1", PF_NEIGHBOR, "10.255.0.1"},
	{"show-protocols-all-bgp-error.bin", "peer1", PF_NEIGHBOR_AS, "64513"},
	{"show-protocols-all-bgp-error.bin", "peer1", PF_LOCAL_AS, "64512"},
	{"show-protocols-all-bgp-error.bin", "peer1", PF_NEIGHBOR_ID, ""},
	{"show-protocols-all-bgp-error.bin", "peer1", PF_INPUT_FILTER, "ACCEPT"},
	{"show-protocols-all-bgp-error.bin", "dyn", PF_NEIGHBOR, "10.255.9.0/24"},
	{"show-protocols-all-bgp-error.bin", "dyn", PF_BGP_STATE, "Passive"},
	{"show-protocols-bgp-error.bin", "peer1", PF_INFO,
	 "Active        Socket: Connection refused"},
	{"made-protocols-long-names.bin", NULL, PF_COUNT, "2"},
	{"made-protocols-long-names.bin", "node_with_a_rather_long_name", PF_SINCE, "2026-11-27"},
	{"made-protocols-long-names.bin", "node_with_a_rather_long_name", PF_INFO,
	 "Active        Received: Bad peer AS"},
	{"made-protocols-long-names.bin", "kernel4", PF_STATE, "up"},
};

static void proto_field(const struct bc_protocol *p, enum pf f, char *buf, size_t size)
{
	switch (f) {
	case PF_COUNT:
		break;
	case PF_PROTO:
		snprintf(buf, size, "%s", p->proto);
		break;
	case PF_TABLE:
		snprintf(buf, size, "%s", p->table);
		break;
	case PF_STATE:
		snprintf(buf, size, "%s", p->state);
		break;
	case PF_SINCE:
		snprintf(buf, size, "%s", p->since);
		break;
	case PF_INFO:
		snprintf(buf, size, "%s", p->info);
		break;
	case PF_BGP_STATE:
		snprintf(buf, size, "%s", p->bgp_state);
		break;
	case PF_NEIGHBOR:
		snprintf(buf, size, "%s", p->neighbor);
		break;
	case PF_NEIGHBOR_AS:
		snprintf(buf, size, "%u", (unsigned)p->neighbor_as);
		break;
	case PF_LOCAL_AS:
		snprintf(buf, size, "%u", (unsigned)p->local_as);
		break;
	case PF_NEIGHBOR_ID:
		snprintf(buf, size, "%s", p->neighbor_id);
		break;
	case PF_LAST_ERROR:
		snprintf(buf, size, "%s", p->last_error);
		break;
	case PF_SESSION:
		snprintf(buf, size, "%s", p->session);
		break;
	case PF_INPUT_FILTER:
		snprintf(buf, size, "%s", p->input_filter);
		break;
	case PF_OUTPUT_FILTER:
		snprintf(buf, size, "%s", p->output_filter);
		break;
	case PF_ROUTES:
		if (p->has_routes)
			snprintf(buf, size, "%u/%u/%u/%u", p->routes_imported, p->routes_filtered,
				 p->routes_exported, p->routes_preferred);
		else
			snprintf(buf, size, "none");
		break;
	case PF_IMPORT:
		if (p->has_import_stats)
			snprintf(buf, size, "%u/%u/%u/%u/%u", p->import_received, p->import_rejected,
				 p->import_filtered, p->import_ignored, p->import_accepted);
		else
			snprintf(buf, size, "none");
		break;
	}
}

static void test_protocols(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(proto_cases); i++) {
		struct bc_reply r[1];
		struct bc_protocol *p = NULL;
		size_t n = 0, j;
		char got[256] = "";
		int err;

		assert_int_equal(load_replies(proto_cases[i].file, r, 1), 1);
		err = bc_parse_protocols(&r[0], &p, &n);
		if (err < 0)
			fail_msg("%s: bc_parse_protocols: %d", proto_cases[i].file, err);
		if (proto_cases[i].field == PF_COUNT) {
			snprintf(got, sizeof(got), "%zu", n);
		} else {
			for (j = 0; j < n && strcmp(p[j].name, proto_cases[i].name) != 0; j++)
				;
			if (j == n)
				fail_msg("%s: no protocol '%s'", proto_cases[i].file,
					 proto_cases[i].name);
			proto_field(&p[j], proto_cases[i].field, got, sizeof(got));
		}
		if (strcmp(got, proto_cases[i].want) != 0)
			fail_msg("%s: %s field %d: got '%s', want '%s'", proto_cases[i].file,
				 proto_cases[i].name ? proto_cases[i].name : "-",
				 proto_cases[i].field, got, proto_cases[i].want);
		free(p);
		bc_reply_done(&r[0]);
	}
}

/* ---- show route [all] ---------------------------------------------------- */

enum rf {
	RF_COUNT, /* number of routes; index is ignored */
	RF_TABLE,
	RF_PREFIX,
	RF_TYPE,
	RF_PROTO,
	RF_SINCE,
	RF_FROM,
	RF_FLAGS, /* "best", "best sync-error" or "" */
	RF_PREF,
	RF_VIA,
	RF_DEV,
	RF_ROUTE_TYPE,
	RF_BGP_NEXT_HOP,
	RF_LC, /* "(a,b,c) (a,b,c)" */
};

static const struct {
	const char *file;
	size_t index;
	enum rf field;
	const char *want;
} route_cases[] = {
	{"raw-show-route-all.bin", 0, RF_COUNT, "2"},
	{"raw-show-route-all.bin", 0, RF_TABLE, "master4"},
	{"raw-show-route-all.bin", 0, RF_PREFIX, "10.244.1.0/24"},
	{"raw-show-route-all.bin", 0, RF_PROTO, "pods"},
	{"raw-show-route-all.bin", 0, RF_PREF, "240"},
	{"raw-show-route-all.bin", 0, RF_VIA, ""},
	{"raw-show-route-all.bin", 0, RF_DEV, "cni0"},
	{"raw-show-route-all.bin", 0, RF_ROUTE_TYPE, "device univ"},
	{"raw-show-route-all.bin", 0, RF_LC, ""},
	{"raw-show-route-all.bin", 1, RF_PREFIX, "10.244.2.0/24"},
	{"raw-show-route-all.bin", 1, RF_TYPE, "unicast"},
	{"raw-show-route-all.bin", 1, RF_PROTO, "node_n2"},
	{"raw-show-route-all.bin", 1, RF_SINCE, "09:26:08.076"},
	{"raw-show-route-all.bin", 1, RF_FROM, ""},
	{"raw-show-route-all.bin", 1, RF_FLAGS, "best"},
	{"raw-show-route-all.bin", 1, RF_PREF, "100"},
	{"raw-show-route-all.bin", 1, RF_VIA, "172.31.0.2"},
	{"raw-show-route-all.bin", 1, RF_DEV, "eth0"},
	{"raw-show-route-all.bin", 1, RF_ROUTE_TYPE, "BGP univ"},
	{"raw-show-route-all.bin", 1, RF_BGP_NEXT_HOP, "172.31.0.2"},
	{"raw-show-route-all.bin", 1, RF_LC, "(64512,1,2)"},
	{"rr-show-route-all.bin", 0, RF_COUNT, "2"},
	{"rr-show-route-all.bin", 1, RF_PROTO, "client2"},
	{"rr-show-route-all.bin", 1, RF_VIA, "172.31.0.3"},
	{"rr-show-route-all.bin", 1, RF_DEV, "eth1"},
	{"rr-show-route-all.bin", 1, RF_LC, "(64512,1,3)"},
	/* a reflected route: learned from the reflector, next hop of the originator */
	{"rr-client-show-route-all.bin", 0, RF_COUNT, "2"},
	{"rr-client-show-route-all.bin", 0, RF_PREFIX, "10.244.2.0/24"},
	{"rr-client-show-route-all.bin", 0, RF_PROTO, "rr_n1"},
	{"rr-client-show-route-all.bin", 0, RF_SINCE, "12:15:17.172"},
	{"rr-client-show-route-all.bin", 0, RF_FROM, "172.31.0.1"},
	{"rr-client-show-route-all.bin", 0, RF_VIA, "172.31.0.2"},
	{"rr-client-show-route-all.bin", 0, RF_DEV, "eth0"},
	{"rr-client-show-route-all.bin", 0, RF_BGP_NEXT_HOP, "172.31.0.2"},
	{"rr-client-show-route-all.bin", 0, RF_LC, "(64512,1,2)"},
	{"rr-client-show-route-all.bin", 1, RF_PROTO, "pods"},
	{"rr-client-show-route-all.bin", 1, RF_FROM, ""},
	{"rr-client-show-route.bin", 0, RF_FROM, "172.31.0.1"},
	{"rr-client-show-route.bin", 0, RF_ROUTE_TYPE, ""},
	{"rr-client-show-route.bin", 1, RF_DEV, "cni0"},
	{"show-route-multi.bin", 0, RF_COUNT, "4"},
	{"show-route-multi.bin", 0, RF_DEV, "lo"},
	{"show-route-multi.bin", 1, RF_PREFIX, "10.250.0.0/24"},
	{"show-route-multi.bin", 1, RF_TYPE, "blackhole"},
	{"show-route-multi.bin", 1, RF_PROTO, "s1"},
	{"show-route-multi.bin", 1, RF_FLAGS, "best"},
	{"show-route-multi.bin", 1, RF_PREF, "200"},
	{"show-route-multi.bin", 1, RF_DEV, ""},
	/* second route of one network: blank prefix column */
	{"show-route-multi.bin", 2, RF_PREFIX, "10.250.0.0/24"},
	{"show-route-multi.bin", 2, RF_TYPE, "prohibited"},
	{"show-route-multi.bin", 2, RF_PROTO, "s2"},
	{"show-route-multi.bin", 2, RF_FLAGS, ""},
	{"show-route-multi.bin", 2, RF_PREF, "50"},
	{"show-route-multi.bin", 3, RF_PREFIX, "10.251.0.0/24"},
	{"show-route-multi.bin", 3, RF_TYPE, "unreachable"},
	{"show-route-all-multi.bin", 0, RF_COUNT, "4"},
	{"show-route-all-multi.bin", 2, RF_PREFIX, "10.250.0.0/24"},
	{"show-route-all-multi.bin", 2, RF_PROTO, "s2"},
	{"show-route-all-multi.bin", 2, RF_ROUTE_TYPE, "static univ"},
	{"show-route-all-multi.bin", 3, RF_ROUTE_TYPE, "static univ"},
	{"made-route-shapes.bin", 0, RF_COUNT, "3"},
	{"made-route-shapes.bin", 0, RF_FLAGS, "best sync-error"},
	{"made-route-shapes.bin", 0, RF_SINCE, "2026-11-27"},
	{"made-route-shapes.bin", 0, RF_FROM, "172.31.0.9"},
	{"made-route-shapes.bin", 0, RF_VIA, "172.31.0.5"},
	{"made-route-shapes.bin", 0, RF_DEV, "eth0"},
	{"made-route-shapes.bin", 0, RF_LC,
	 "(64512,1,1) (64512,1,2) (64512,1,3) (64512,1,4) (64512,1,5) (64512,1,6) "
	 "(64512,1,7) (64512,1,8)"},
	{"made-route-shapes.bin", 1, RF_PREFIX, "10.244.5.0/24"},
	{"made-route-shapes.bin", 1, RF_PROTO, "node_n6"},
	{"made-route-shapes.bin", 1, RF_FLAGS, ""},
	{"made-route-shapes.bin", 1, RF_ROUTE_TYPE, ""},
	{"made-route-shapes.bin", 2, RF_TABLE, "master6"},
	{"made-route-shapes.bin", 2, RF_PREFIX, "fd00:10:244:5::/64"},
	{"made-route-shapes.bin", 2, RF_VIA, "fe80::1"},
	{"made-route-shapes.bin", 2, RF_BGP_NEXT_HOP, "fd00::5"},
	{"show-route-not-found.bin", 0, RF_COUNT, "0"},
	{"made-async-mid-reply.bin", 0, RF_COUNT, "2"},
};

static void route_field(const struct bc_route *rt, enum rf f, char *buf, size_t size)
{
	size_t off = 0;

	switch (f) {
	case RF_COUNT:
		break;
	case RF_TABLE:
		snprintf(buf, size, "%s", rt->table);
		break;
	case RF_PREFIX:
		snprintf(buf, size, "%s", rt->prefix);
		break;
	case RF_TYPE:
		snprintf(buf, size, "%s", rt->type);
		break;
	case RF_PROTO:
		snprintf(buf, size, "%s", rt->proto);
		break;
	case RF_SINCE:
		snprintf(buf, size, "%s", rt->since);
		break;
	case RF_FROM:
		snprintf(buf, size, "%s", rt->from);
		break;
	case RF_FLAGS:
		snprintf(buf, size, "%s%s", rt->best ? "best" : "",
			 rt->sync_error ? " sync-error" : "");
		break;
	case RF_PREF:
		snprintf(buf, size, "%u", rt->pref);
		break;
	case RF_VIA:
		snprintf(buf, size, "%s", rt->via);
		break;
	case RF_DEV:
		snprintf(buf, size, "%s", rt->dev);
		break;
	case RF_ROUTE_TYPE:
		snprintf(buf, size, "%s", rt->route_type);
		break;
	case RF_BGP_NEXT_HOP:
		snprintf(buf, size, "%s", rt->bgp_next_hop);
		break;
	case RF_LC:
		buf[0] = '\0';
		for (size_t i = 0; i < rt->n_lc && off < size; i++)
			off += (size_t)snprintf(buf + off, size - off, "%s(%u,%u,%u)", i ? " " : "",
						(unsigned)rt->lc[i].asn, (unsigned)rt->lc[i].d1,
						(unsigned)rt->lc[i].d2);
		break;
	}
}

static void test_routes(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(route_cases); i++) {
		struct bc_reply r[1];
		struct bc_route *rt = NULL;
		size_t n = 0;
		char got[512] = "";
		int err;

		assert_int_equal(load_replies(route_cases[i].file, r, 1), 1);
		err = bc_parse_routes(&r[0], &rt, &n);
		if (err < 0)
			fail_msg("%s: bc_parse_routes: %d", route_cases[i].file, err);
		if (route_cases[i].field == RF_COUNT) {
			snprintf(got, sizeof(got), "%zu", n);
		} else {
			if (route_cases[i].index >= n)
				fail_msg("%s: no route %zu", route_cases[i].file,
					 route_cases[i].index);
			route_field(&rt[route_cases[i].index], route_cases[i].field, got,
				    sizeof(got));
		}
		if (strcmp(got, route_cases[i].want) != 0)
			fail_msg("%s: route %zu field %d: got '%s', want '%s'", route_cases[i].file,
				 route_cases[i].index, route_cases[i].field, got,
				 route_cases[i].want);
		free(rt);
		bc_reply_done(&r[0]);
	}
}

/* ---- show status ----------------------------------------------------------- */

static void test_status(void **state)
{
	struct bc_reply r[MAX_REPLIES];
	struct bc_status st;
	size_t n;

	assert_int_equal(load_replies("show-status.bin", r, 1), 1);
	assert_int_equal(bc_parse_status(&r[0], &st), 0);
	assert_string_equal(st.version, "2.0.12");
	assert_string_equal(st.router_id, "10.255.0.1");
	assert_string_equal(st.last_reboot, "2026-11-28 12:15:23.087");
	assert_string_equal(st.last_reconfiguration, "2026-11-28 12:15:23.087");
	assert_true(st.running);
	assert_false(st.gr_recovery);
	bc_reply_done(&r[0]);

	assert_int_equal(load_replies("show-status-gr.bin", r, 1), 1);
	assert_int_equal(bc_parse_status(&r[0], &st), 0);
	assert_true(st.gr_recovery);
	assert_true(st.running);
	bc_reply_done(&r[0]);

	n = load_replies("ctl-misc.txt", r, MAX_REPLIES);
	assert_int_equal(bc_parse_status(&r[0], &st), 0);
	assert_string_equal(st.router_id, "172.31.0.1");
	/* not a status reply, or an error */
	assert_int_equal(bc_parse_status(&r[1], &st), -EBADMSG);
	assert_int_equal(bc_parse_status(&r[8], &st), -EINVAL);
	done_replies(r, n);

	parse_str("1000-BIRD 2.0.12\n1011-Router ID is 10.0.0.1\n0013 Shutdown in progress\n", r);
	assert_int_equal(bc_parse_status(&r[0], &st), 0);
	assert_false(st.running);
	bc_reply_done(&r[0]);
}

/* ---- errors and refusals --------------------------------------------------- */

static void test_error_replies(void **state)
{
	static const struct {
		const char *file;
		int protocols, routes; /* expected returns */
	} cases[] = {
		{"show-protocols-no-match.bin", -EINVAL, -EINVAL},
		{"unknown-command.bin", -EINVAL, -EINVAL},
		{"show-route-not-found.bin", -EINVAL, 0},
		{"made-stopped-reconfig.bin", -EINVAL, -EINVAL},
		{"made-line-overflow-final.bin", -EINVAL, -EINVAL},
		{"made-line-overflow-mid.bin", -EBADMSG, -EBADMSG},
		{"show-route-count.bin", -EBADMSG, -EBADMSG},
		{"show-status.bin", -EBADMSG, -EBADMSG},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct bc_reply r[1];
		struct bc_protocol *p = (void *)1;
		struct bc_route *rt = (void *)1;
		size_t n = 99;
		int err;

		assert_int_equal(load_replies(cases[i].file, r, 1), 1);
		err = bc_parse_protocols(&r[0], &p, &n);
		if (err != cases[i].protocols)
			fail_msg("%s: bc_parse_protocols %d, want %d", cases[i].file, err,
				 cases[i].protocols);
		err = bc_parse_routes(&r[0], &rt, &n);
		if (err != cases[i].routes)
			fail_msg("%s: bc_parse_routes %d, want %d", cases[i].file, err,
				 cases[i].routes);
		if (err == 0) {
			assert_null(rt);
			assert_int_equal(n, 0);
		}
		bc_reply_done(&r[0]);
	}
}

/* ---- partial input ------------------------------------------------------- */

/* Every prefix of a reply that stops before its final '\n' gives 0; the whole
 * reply gives its length. Each prefix is copied to a buffer of its exact size
 * so ASan catches a read past it. */
static void test_partial(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(file_cases); i++) {
		struct bc_reply r = {0};
		size_t len, start;
		char *buf = load(file_cases[i].file, &len);
		long used, whole;

		/* skip the greeting */
		start = (size_t)(strchr(buf, '\n') - buf) + 1;
		whole = bc_reply_parse(buf + start, len - start, &r);
		assert_true(whole > 0);
		bc_reply_done(&r);
		for (size_t k = 0; k <= (size_t)whole; k++) {
			char *part = malloc(k ? k : 1);

			assert_non_null(part);
			memcpy(part, buf + start, k);
			used = bc_reply_parse(part, k, &r);
			if (k < (size_t)whole && used != 0)
				fail_msg("%s: %zu of %ld bytes: %ld", file_cases[i].file, k, whole,
					 used);
			if (k == (size_t)whole) {
				assert_int_equal(used, whole);
				assert_int_equal(r.code, file_cases[i].codes[0]);
				bc_reply_done(&r);
			}
			free(part);
		}
		free(buf);
	}
}

/* ---- malformed input ----------------------------------------------------- */

static void test_malformed_grammar(void **state)
{
	static const char *const bad[] = {
		"foo\n0000 \n",
		"1002-x\nfoo\n0000 \n",
		" continuation with nothing before it\n0000 \n",
		"+async\n continuation after only an async line\n0000 \n",
		"0000\n",
		"000 \n",
		"\n",
		"1002-ok\n\n0000 \n",
		"12x4 a\n",
		"1002-text\t\r\n00000 \n",
		"1002-ok\n 1\n9999\n",
	};
	struct bc_reply r = {0};
	char *big;
	long used;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		used = bc_reply_parse(bad[i], strlen(bad[i]), &r);
		if (used != -EBADMSG)
			fail_msg("'%s': %ld, want -EBADMSG", bad[i], used);
	}
	/* a NUL byte inside a line */
	used = bc_reply_parse("1002-a\0b\n0000 \n", 15, &r);
	assert_int_equal(used, -EBADMSG);

	/* a line longer than BC_LINE_MAX: refused before its '\n' arrives */
	big = malloc(BC_LINE_MAX + 16);
	assert_non_null(big);
	memcpy(big, "1002-", 5);
	memset(big + 5, 'x', BC_LINE_MAX + 10);
	assert_int_equal(bc_reply_parse(big, BC_LINE_MAX, &r), 0);
	assert_int_equal(bc_reply_parse(big, BC_LINE_MAX + 2, &r), -EBADMSG);
	big[BC_LINE_MAX + 15] = '\n';
	assert_int_equal(bc_reply_parse(big, BC_LINE_MAX + 16, &r), -EBADMSG);
	free(big);

	/* what follows the final line is the next reply's business */
	used = bc_reply_parse("0000 \ngarbage\n", 14, &r);
	assert_int_equal(used, 6);
	bc_reply_done(&r);
	/* a lone async line is no reply */
	assert_int_equal(bc_reply_parse("+hello\n", 7, &r), 0);

	/* harmless on a zeroed reply and on NULL */
	bc_reply_done(&r);
	bc_reply_done(NULL);
}

/* Replies that follow the grammar but not the command's format. */
static void test_malformed_content(void **state)
{
	static const struct {
		const char *reply;
		bool routes; /* else protocols */
	} cases[] = {
		{"1002-device1 Device ---\n0000 \n", false},
		{"1006-  BGP state: Established\n0000 \n", false}, /* detail before a row */
		{"1002-p BGP --- up 10:00:00.000 Established\n1006-  Neighbor AS: 12x\n0000 \n",
		 false},
		{"1002-p BGP --- up 10:00:00.000\n1006-  Local AS: 4294967296\n0000 \n", false},
		{"1002-p Static master4 up 10:00:00.000\n1006-  Channel ipv4\n"
		 "     Routes:         many imported\n0000 \n",
		 false},
		{"1002-p Static master4 up 10:00:00.000\n1006-  Channel ipv4\n"
		 "     Routes:         1 imported, 1 exported\n0000 \n",
		 false},
		{"1002-p Static toolongtabletoolongtabletoolongtable up 10:00:00.000\n0000 \n",
		 false},
		{"1007-Table master4:\n 10.0.0.0/24 unicast s1 * (200)\n0000 \n", true},
		{"1007-Table master4:\n 10.0.0.0/24 unicast [s1 10:00:00.000 * (200)\n0000 \n",
		 true},
		{"1007-Table master4:\n 10.0.0.0/24 unicast [s1 10:00:00.000] *\n0000 \n", true},
		{"1007-Table master4:\n 10.0.0.0/24 unicast [s1] * (200)\n0000 \n", true},
		{"1007-Table master4:\n                     unicast [s1 10:00:00.000] (200)\n"
		 "0000 \n",
		 true},
		{"1007-Table master4:\n \tvia 10.0.0.1 on eth0\n0000 \n", true},
		{"1008-\tType: BGP univ\n0000 \n", true},
		{"1007-Table master4:\n 10.0.0.0/24 unicast [b 10:00:00.000] * (100)\n"
		 "1012-\tBGP.large_community: (64512, 1)\n0000 \n",
		 true},
		{"1007-Table master4:\n 10.0.0.0/24 unicast [b 10:00:00.000] * (100)\n"
		 "1012-\tBGP.large_community: (64512, 1, 2\n0000 \n",
		 true},
		{"1007-Table master4:\n 10.0.0.0/24 unicast [b 10:00:00.000] * (100)\n"
		 "1012-\tBGP.large_community: (64512, 1, 99999999999)\n0000 \n",
		 true},
		{"1007-Table master4\n0000 \n", true},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct bc_reply r;
		void *arr = NULL;
		size_t n = 0;
		int err;

		parse_str(cases[i].reply, &r);
		if (cases[i].routes)
			err = bc_parse_routes(&r, (struct bc_route **)&arr, &n);
		else
			err = bc_parse_protocols(&r, (struct bc_protocol **)&arr, &n);
		if (err != -EBADMSG)
			fail_msg("'%s': %d, want -EBADMSG", cases[i].reply, err);
		bc_reply_done(&r);
	}
}

/* ---- both tables ------------------------------------------------------------- */

/* Recorded (BIRD 2.0.12, `show route all where net ~ [ 10.244.0.0/16{24,24} ]
 * || net ~ [ fd00:10:244::/48{64,64} ]` on a dual-stack node): a blank 1007
 * line separates master4 from master6. */
static void test_two_tables(void **state)
{
	static const char text[] = "1007-Table master4:\n"
				   " 10.244.2.0/24        blackhole [s4 15:38:31.222] * (200)\n"
				   "1008-\tType: static univ\n"
				   "1007-\n"
				   " Table master6:\n"
				   " fd00:10:244:2::/64   blackhole [s6 15:38:31.222] * (200)\n"
				   "1008-\tType: static univ\n"
				   "0000 \n";
	struct bc_reply r;
	struct bc_route *rt = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(bc_reply_parse(text, sizeof(text) - 1, &r), (long)(sizeof(text) - 1));
	assert_int_equal(bc_parse_routes(&r, &rt, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(rt[0].table, "master4");
	assert_string_equal(rt[0].prefix, "10.244.2.0/24");
	assert_string_equal(rt[1].table, "master6");
	assert_string_equal(rt[1].prefix, "fd00:10:244:2::/64");
	assert_string_equal(rt[1].route_type, "static univ");
	free(rt);
	bc_reply_done(&r);
}

/* ---- a big reply ------------------------------------------------------------ */

static void test_big_reply(void **state)
{
	const size_t routes = 20000;
	size_t cap = routes * 100 + 64, len = 0, n = 0;
	char *buf = malloc(cap);
	struct bc_reply r;
	struct bc_route *rt = NULL;

	assert_non_null(buf);
	len += (size_t)snprintf(buf + len, cap - len, "1007-Table master4:\n");
	for (size_t i = 0; i < routes; i++)
		len += (size_t)snprintf(buf + len, cap - len,
					" 10.%zu.%zu.0/24 unicast [s1 10:00:00.000] * (200)\n"
					" \tdev eth0\n",
					i / 256, i % 256);
	len += (size_t)snprintf(buf + len, cap - len, "0000 \n");
	assert_int_equal(bc_reply_parse(buf, len, &r), (long)len);
	assert_int_equal(r.n_lines, 2 * routes + 2);
	assert_int_equal(bc_parse_routes(&r, &rt, &n), 0);
	assert_int_equal(n, routes);
	assert_string_equal(rt[routes - 1].prefix, "10.78.31.0/24");
	free(rt);
	bc_reply_done(&r);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_async),
		cmocka_unit_test(test_two_tables),
		cmocka_unit_test(test_protocols),
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_error_replies),
		cmocka_unit_test(test_partial),
		cmocka_unit_test(test_malformed_grammar),
		cmocka_unit_test(test_malformed_content),
		cmocka_unit_test(test_big_reply),
	};

	find_data_dir();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
