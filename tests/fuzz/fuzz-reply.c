/* SPDX-License-Identifier: MIT */
/*
 * DOC: fuzz-reply.c - libFuzzer harness for the BIRD control-socket reply
 * parsers (birdconf/reply.c).
 *
 * The input is what a BIRD (or anything listening on bird.socket) could
 * send: bytes as read from the control socket, greeting and replies back to
 * back, like the .bin files of tests/data/bird-replies/. The harness cuts it into replies
 * with bc_reply_parse(), as bc_ctl_cmd() does, and hands every reply to
 * bc_parse_protocols(), bc_parse_routes() and bc_parse_status().
 *
 * Besides the sanitizers it checks what the callers rely on: a reply
 * consumes at least one byte and no more than it was given, its final line
 * carries its code, every prefix of a complete reply is "need more" (0, so
 * feeding a reply in pieces gives the same answer), and parsed fields are
 * NUL-terminated inside their buffers.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bc-ctl.h"

#define FUZZ_NAME "fuzz-reply"
#include "fuzz.h"


#define FIELD_OK(f) FUZZ_CHECK(memchr((f), '\0', sizeof(f)) != NULL, "field %s not terminated", #f)

static void check_protocols(const struct bc_reply *r)
{
	struct bc_protocol *p = NULL;
	size_t n = 0;
	int err = bc_parse_protocols(r, &p, &n);

	if (err < 0) {
		FUZZ_CHECK(err == -EINVAL || err == -EBADMSG || err == -ENOMEM, "-");
		return;
	}
	FUZZ_CHECK((n == 0) == (p == NULL), "-");
	for (size_t i = 0; i < n; i++) {
		FIELD_OK(p[i].name);
		FIELD_OK(p[i].proto);
		FIELD_OK(p[i].table);
		FIELD_OK(p[i].state);
		FIELD_OK(p[i].since);
		FIELD_OK(p[i].info);
		FIELD_OK(p[i].bgp_state);
		FIELD_OK(p[i].neighbor);
		FIELD_OK(p[i].neighbor_id);
		FIELD_OK(p[i].last_error);
		FIELD_OK(p[i].session);
		FIELD_OK(p[i].input_filter);
		FIELD_OK(p[i].output_filter);
		FUZZ_CHECK(p[i].name[0] != '\0', "-");
	}
	free(p);
}

static void check_routes(const struct bc_reply *r)
{
	struct bc_route *rt = NULL;
	size_t n = 0;
	int err = bc_parse_routes(r, &rt, &n);

	if (err < 0) {
		FUZZ_CHECK(err == -EINVAL || err == -EBADMSG || err == -ENOMEM, "-");
		return;
	}
	FUZZ_CHECK((n == 0) == (rt == NULL), "-");
	for (size_t i = 0; i < n; i++) {
		FIELD_OK(rt[i].table);
		FIELD_OK(rt[i].prefix);
		FIELD_OK(rt[i].type);
		FIELD_OK(rt[i].proto);
		FIELD_OK(rt[i].since);
		FIELD_OK(rt[i].from);
		FIELD_OK(rt[i].via);
		FIELD_OK(rt[i].dev);
		FIELD_OK(rt[i].route_type);
		FIELD_OK(rt[i].bgp_next_hop);
		FUZZ_CHECK(rt[i].n_lc <= ARRAY_SIZE(rt[i].lc), "-");
		FUZZ_CHECK(rt[i].prefix[0] != '\0' && rt[i].proto[0] != '\0', "-");
		FUZZ_CHECK(!rt[i].sync_error || rt[i].best, "-");
	}
	free(rt);
}

static void check_status(const struct bc_reply *r)
{
	struct bc_status st;
	int err;

	memset(&st, 0xa5, sizeof(st));
	err = bc_parse_status(r, &st);
	if (err < 0) {
		FUZZ_CHECK(err == -EINVAL || err == -EBADMSG, "-");
		return;
	}
	FIELD_OK(st.version);
	FIELD_OK(st.router_id);
	FIELD_OK(st.last_reboot);
	FIELD_OK(st.last_reconfiguration);
	FUZZ_CHECK(st.version[0] && st.router_id[0], "-");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	size_t off = 0;

	while (off < size) {
		struct bc_reply r = {0};
		long used = bc_reply_parse(buf + off, size - off, &r);

		if (used <= 0) {
			FUZZ_CHECK(used == 0 || used == -EBADMSG || used == -ENOMEM, "-");
			break;
		}
		FUZZ_CHECK((size_t)used <= size - off, "-");
		FUZZ_CHECK(buf[off + (size_t)used - 1] == '\n', "-");
		FUZZ_CHECK(r.n_lines > 0 && r.lines[r.n_lines - 1].code == r.code, "-");
		for (size_t i = 0; i < r.n_lines; i++)
			FUZZ_CHECK(r.lines[i].text != NULL &&
				   strlen(r.lines[i].text) <= BC_LINE_MAX, "-");
		for (size_t i = 0; i < r.n_async; i++)
			FUZZ_CHECK(r.async[i] != NULL, "-");

		/* A cut before the final '\n' is "need more", never an error:
		 * bc_ctl_cmd() parses again as bytes arrive. One cut per reply,
		 * chosen from the bytes, keeps this cheap. */
		{
			size_t cut = (size_t)(unsigned char)buf[off] * 131u % (size_t)used;
			struct bc_reply part = {0};
			long p = bc_reply_parse(buf + off, cut, &part);

			FUZZ_CHECK(p == 0 || p == -ENOMEM, "-");
			bc_reply_done(&part);
		}

		check_protocols(&r);
		check_routes(&r);
		check_status(&r);
		bc_reply_done(&r);
		off += (size_t)used;
	}
	return 0;
}
