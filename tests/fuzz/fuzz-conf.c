/* SPDX-License-Identifier: MIT */
/*
 * DOC: fuzz-conf.c - libFuzzer harness for the roostd.conf loader
 * (agent/conf.c) and the renderer it feeds (birdconf/render.c).
 *
 * The input is the text of a roostd.conf. The harness writes it to
 * roostd.conf in a private folder (made once with mkdtemp under $TMPDIR,
 * removed at exit) and calls conf_load() on that path, as roostd does. The
 * folder also holds two files the input may @include: "inc-bgp.conf" (a
 * valid bgp group) and "inc-bad.conf" (a syntax error on its line 2).
 *
 * A file that loads is rendered twice with bc_render_string(): both renders
 * must succeed (conf_load accepting what the renderer refuses would let
 * --check-config pass a file roostd cannot start with) and be equal, and no
 * line of the result may hold a control character or an odd number of '"'
 * (a config string breaking out of a BIRD string). A file that does not load
 * must say why: a non-empty message, and when the error names roostd.conf
 * itself, a line within the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "birdconf.h"
#include "conf.h"

#define FUZZ_NAME "fuzz-conf"
#include "fuzz.h"


static char dir[4096];
static char conf_path[4200];

static void write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || write(fd, buf, len) != (ssize_t)len || close(fd) < 0) {
		perror(path);
		abort();
	}
}

static void cleanup(void)
{
	static const char *const names[] = {"roostd.conf", "inc-bgp.conf", "inc-bad.conf"};
	char p[4300];

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		(void)unlink(p);
	}
	(void)rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char inc_bgp[] =
		"bgp = { mesh = ( { name = \"node2\"; address = \"172.31.0.12\"; } );\n"
		"  bfd = { mode = \"strict\"; }; };\n";
	static const char inc_bad[] = "bridge = {\n  mtu = ;\n};\n";
	const char *tmp = getenv("TMPDIR");
	char p[4300];

	snprintf(dir, sizeof(dir), "%s/roost-fuzz-conf.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		abort();
	}
	atexit(cleanup);
	snprintf(conf_path, sizeof(conf_path), "%s/roostd.conf", dir);
	snprintf(p, sizeof(p), "%s/inc-bgp.conf", dir);
	write_file(p, inc_bgp, sizeof(inc_bgp) - 1);
	snprintf(p, sizeof(p), "%s/inc-bad.conf", dir);
	write_file(p, inc_bad, sizeof(inc_bad) - 1);
	return 0;
}

/* Every line: no control characters but TAB, an even number of '"'. */
static void check_rendered(const char *text)
{
	unsigned line = 1, quotes = 0;

	for (const unsigned char *p = (const unsigned char *)text;; p++) {
		if (*p == '\n' || *p == '\0') {
			FUZZ_CHECK(quotes % 2 == 0, "rendered line %u has an odd number of '\"'",
				   line);
			if (!*p)
				break;
			line++;
			quotes = 0;
			continue;
		}
		if (*p == '"')
			quotes++;
		FUZZ_CHECK(*p >= 0x20 || *p == '\t', "rendered line %u holds byte 0x%02x", line,
			   *p);
		FUZZ_CHECK(*p != 0x7f, "rendered line %u holds DEL", line);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct roostd_conf *c = NULL;
	struct rst_err err;
	unsigned lines = 1;
	int r;

	/* roostd reads at most 4 MiB; libFuzzer inputs stay far below */
	write_file(conf_path, data, size);
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';

	memset(&err, 0, sizeof(err));
	r = conf_load(conf_path, &c, &err);
	if (r < 0) {
		FUZZ_CHECK(c == NULL, "conf_load failed (%d) but set *ret", r);
		FUZZ_CHECK(err.msg[0] != '\0', "conf_load failed (%d) without a message", r);
		FUZZ_CHECK(memchr(err.msg, '\0', sizeof(err.msg)) &&
				   memchr(err.file, '\0', sizeof(err.file)),
			   "unterminated error");
		FUZZ_CHECK(err.file[0] != '\0', "error without a file: %s", err.msg);
		if (strcmp(err.file, conf_path) == 0)
			FUZZ_CHECK(err.line <= lines,
				   "error line %u beyond the file's %u lines: %s", err.line, lines,
				   err.msg);
		return 0;
	}
	FUZZ_CHECK(c != NULL, "conf_load returned %d without a config", r);

	{
		struct bc_node node;
		char *a = NULL, *b = NULL;
		struct rst_err rerr;

		conf_to_node(c, &node);
		memset(&rerr, 0, sizeof(rerr));
		r = bc_render_string(&node, &a, &rerr);
		FUZZ_CHECK(r == 0, "conf_load accepted a config that does not render: %s",
			   rerr.msg);
		r = bc_render_string(&node, &b, &rerr);
		FUZZ_CHECK(r == 0, "second render failed: %s", rerr.msg);
		FUZZ_CHECK(strcmp(a, b) == 0, "two renders of one config differ");
		check_rendered(a);
		free(a);
		free(b);
	}
	conf_free(c);
	return 0;
}
