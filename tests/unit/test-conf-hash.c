/* SPDX-License-Identifier: MIT */
/*
 * test-conf-hash.c - the hash that names a configuration (log, `roostctl
 * status`, bird.conf header) is no oracle for the BGP password: it does
 * not depend on any password (in the file or in an @include), it is not
 * the SHA-256 of the file's bytes, neither of them appears in the rendered
 * header, and it still tells two different configurations apart.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "birdconf.h"
#include "conf.h"
#include "log.h"

static char dir[] = "/tmp/roost-test-conf-hash.XXXXXX";

#define NODE                                                                                      \
	"node = { name = \"n1\"; address = \"172.31.0.11\"; pod_cidr = \"10.244.1.0/24\"; };\n"   \
	"cluster = { pod_cidr = \"10.244.0.0/16\"; };\n"

static const char *write_file(const char *name, const char *text)
{
	static char path[4][256];
	static int k;
	char *p = path[k++ % 4];
	FILE *f;

	snprintf(p, 256, "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return p;
}

static void load(const char *path, char hash[65], char file_hash[65])
{
	struct roostd_conf *c = NULL;
	struct rst_err e = {0};
	FILE *f = fopen(path, "r");
	char buf[8192];
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	bc_sha256_hex(buf, n, file_hash);
	if (conf_load(path, &c, &e) < 0)
		fail_msg("%s:%u: %s", e.file, e.line, e.msg);
	strcpy(hash, c->hash);
	conf_free(c);
}

static void test_hash_ignores_passwords(void **state)
{
	char h1[65], h2[65], h3[65], f1[65], f2[65], f3[65];

	load(write_file("a.conf", NODE "bgp = { peers = ( { name = \"tor1\"; address = "
				  "\"172.31.0.1\"; asn = 65000; password = \"s3cret\"; } ); };\n"),
	     h1, f1);
	/* Another password, another layout, a comment: same settings. */
	load(write_file("b.conf", NODE "# the ToR\nbgp = {\n  peers = ( { name = \"tor1\";\n"
				  "    address = \"172.31.0.1\"; asn = 65000;\n"
				  "    password = \"a-much-longer-other-password\"; } );\n};\n"),
	     h2, f2);
	assert_string_equal(h1, h2);
	assert_string_not_equal(f1, f2);
	/* Neither is the hash of the bytes (password included). */
	assert_string_not_equal(h1, f1);
	assert_string_not_equal(h2, f2);

	/* A change of anything else does change it. */
	load(write_file("c.conf", NODE "bgp = { peers = ( { name = \"tor1\"; address = "
				  "\"172.31.0.1\"; asn = 65001; password = \"s3cret\"; } ); };\n"),
	     h3, f3);
	assert_string_not_equal(h1, h3);
}

static void test_hash_ignores_included_passwords(void **state)
{
	char h1[65], h2[65], f[65];

	write_file("peers1.inc", "peers = ( { name = \"tor1\"; address = \"172.31.0.1\"; asn = 65000; "
				 "password = \"one\"; } );\n");
	write_file("peers2.inc", "peers = ( { name = \"tor1\"; address = \"172.31.0.1\"; asn = 65000; "
				 "password = \"two-two\"; } );\n");
	load(write_file("i1.conf", NODE "bgp = {\n@include \"peers1.inc\"\n};\n"), h1, f);
	load(write_file("i2.conf", NODE "bgp = {\n@include \"peers2.inc\"\n};\n"), h2, f);
	assert_string_equal(h1, h2);
}

/* The rendered header names the source by the secret-free hash; the hash of
 * the file's bytes appears nowhere in the rendered text. */
static void test_header(void **state)
{
	struct roostd_conf *c = NULL;
	struct rst_err e = {0};
	char *text = NULL, want[128], file_hash[65];
	const char *path;
	static const char conf[] =
		NODE "bgp = { peers = ( { name = \"tor1\"; address = \"172.31.0.1\"; asn = 65000; "
		     "password = \"hunter2\"; } ); };\n";
	struct bc_node node;

	path = write_file("h.conf", conf);
	bc_sha256_hex(conf, strlen(conf), file_hash);
	assert_int_equal(conf_load(path, &c, &e), 0);
	conf_to_node(c, &node);
	assert_int_equal(bc_render_string(&node, &text, &e), 0);
	snprintf(want, sizeof(want), "(sha256 %s)", c->hash);
	assert_non_null(strstr(text, want));
	assert_null(strstr(text, file_hash));
	free(text);
	conf_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_ignores_passwords),
		cmocka_unit_test(test_hash_ignores_included_passwords),
		cmocka_unit_test(test_header),
	};
	char cmd[128];
	int r;

	log_init("test-conf-hash", LOG_ERR);
	if (!mkdtemp(dir))
		return 1;
	r = cmocka_run_group_tests(tests, NULL, NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		r = 1;
	return r;
}
