/* SPDX-License-Identifier: MIT */
/*
 * test-util.c - the shared helpers: atomic writes (content, exact mode,
 * replace, no debris, failures leave the old file), mkdir -p (nested,
 * idempotent, a file in the way), monotonic time and fd waits with a
 * deadline. Every test gets its own mkdtemp() folder; no root, no network.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "rst.h"
#include "rst-util.h"

struct fx {
	char tmp[64]; /* mkdtemp() folder */
};

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	return remove(p);
}

static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));

	assert_non_null(x);
	strcpy(x->tmp, "/tmp/roost-test-util.XXXXXX");
	assert_non_null(mkdtemp(x->tmp));
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;

	nftw(x->tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(x);
	return 0;
}

static char *slurp(const char *path)
{
	static char buf[4096];
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void test_write_atomic(void **state)
{
	struct fx *x = *state;
	char path[128], tmp[160];
	struct stat st;
	mode_t old;

	snprintf(path, sizeof(path), "%s/f.conf", x->tmp);
	snprintf(tmp, sizeof(tmp), "%s.new", path);

	/* New file, exact mode whatever the umask. */
	old = umask(0);
	assert_int_equal(rst_write_atomic(path, "one\n", 4, 0600, 0), 0);
	umask(old);
	assert_string_equal(slurp(path), "one\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(access(tmp, F_OK), -1);

	/* Replace; a leftover .new from a crash (other mode, longer) is no
	 * obstacle and leaves no trace in the result. */
	assert_int_equal(rst_write_atomic(tmp, "debris debris debris\n", 21, 0644, 0), 0);
	assert_int_equal(rst_write_atomic(path, "two", 3, 0640, 0), 0);
	assert_string_equal(slurp(path), "two");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(access(tmp, F_OK), -1);

	/* Empty content is a valid file. */
	assert_int_equal(rst_write_atomic(path, "", 0, 0600, 0), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 0);

	/* Without the fsyncs: the same replace, the same exact mode. */
	assert_int_equal(rst_write_atomic(path, "three", 5, 0644, RST_WRITE_NOSYNC), 0);
	assert_string_equal(slurp(path), "three");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(access(tmp, F_OK), -1);

	/* A relative path works (folder "."). */
	assert_int_equal(chdir(x->tmp), 0);
	assert_int_equal(rst_write_atomic("rel", "r", 1, 0600, 0), 0);
	assert_string_equal(slurp("rel"), "r");
	assert_int_equal(chdir("/"), 0);
}

static void test_write_atomic_failures(void **state)
{
	struct fx *x = *state;
	char path[128], tmp[160];

	/* No folder: -ENOENT, nothing created. */
	snprintf(path, sizeof(path), "%s/missing/f", x->tmp);
	assert_int_equal(rst_write_atomic(path, "x", 1, 0600, 0), -ENOENT);

	/* The rename fails (a folder is in the way): the folder stays, the
	 * temporary file is gone. */
	snprintf(path, sizeof(path), "%s/dir", x->tmp);
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(rst_write_atomic(path, "x", 1, 0600, 0), -EISDIR);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(rmdir(path), 0);

	/* "<path>.new" as a symlink is not followed. */
	snprintf(path, sizeof(path), "%s/s", x->tmp);
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	assert_int_equal(symlink("/etc/passwd", tmp), 0);
	assert_int_equal(rst_write_atomic(path, "x", 1, 0600, 0), -ELOOP);
}

static void test_mkdir_p(void **state)
{
	struct fx *x = *state;
	char path[256], file[128];
	struct stat st;

	snprintf(path, sizeof(path), "%s/a/b//c/", x->tmp);
	assert_int_equal(rst_mkdir_p(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/a/b/c", x->tmp);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* Again: nothing to do. */
	assert_int_equal(rst_mkdir_p(path, 0755), 0);
	assert_int_equal(rst_mkdir_p("/", 0755), 0);

	/* A file in the way. */
	snprintf(file, sizeof(file), "%s/f", x->tmp);
	assert_int_equal(rst_write_atomic(file, "x", 1, 0600, 0), 0);
	assert_int_equal(rst_mkdir_p(file, 0755), -ENOTDIR);
	snprintf(path, sizeof(path), "%s/f/g", x->tmp);
	assert_int_equal(rst_mkdir_p(path, 0755), -ENOTDIR);
	assert_int_equal(rst_mkdir_p("", 0755), -EINVAL);

	/* The parent of a file path. */
	snprintf(path, sizeof(path), "%s/p/q/file.sock", x->tmp);
	assert_int_equal(rst_mkdir_parent(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/p/q", x->tmp);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	snprintf(path, sizeof(path), "%s/p/q/file.sock", x->tmp);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(rst_mkdir_parent("plain-name", 0700), 0);

	/* Too long for PATH_MAX. */
	{
		char *long_path = malloc(PATH_MAX + 10);

		assert_non_null(long_path);
		memset(long_path, 'a', PATH_MAX + 9);
		long_path[0] = '/';
		long_path[PATH_MAX + 9] = '\0';
		assert_int_equal(rst_mkdir_p(long_path, 0755), -ENAMETOOLONG);
		assert_int_equal(rst_mkdir_parent(long_path, 0755), -ENAMETOOLONG);
		assert_int_equal(rst_write_atomic(long_path, "x", 1, 0600, 0), -ENAMETOOLONG);
		free(long_path);
	}
}

static void test_time(void **state)
{
	int64_t a = rst_now_ms(), b = rst_now_ms(), u = rst_now_us();

	assert_true(a > 0);
	assert_true(b >= a);
	assert_true(u / 1000 >= b && u / 1000 <= rst_now_ms());
	assert_int_equal(rst_ms_left(a - 1), 0);
	assert_int_equal(rst_ms_left(INT64_MAX / 2), INT_MAX);
	assert_in_range(rst_ms_left(rst_now_ms() + 60000), 59000, 60000);
}

static void test_fd_wait(void **state)
{
	int p[2];
	int64_t t0;
	int r;

	assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);

	/* Nothing to read: times out, and only once the deadline has passed. */
	t0 = rst_now_ms();
	assert_int_equal(rst_fd_wait(p[0], POLLIN, t0 + 50), -ETIMEDOUT);
	assert_true(rst_now_ms() >= t0 + 50);
	/* A deadline in the past still looks once. */
	assert_int_equal(rst_fd_wait(p[0], POLLIN, t0 - 1000), -ETIMEDOUT);
	r = rst_fd_wait(p[1], POLLOUT, t0 - 1000);
	assert_true(r > 0 && (r & POLLOUT));

	/* Readable. */
	assert_int_equal(write(p[1], "x", 1), 1);
	r = rst_fd_wait(p[0], POLLIN, rst_now_ms() + 1000);
	assert_true(r > 0 && (r & POLLIN));

	/* Writer gone: POLLHUP counts as ready. */
	close(p[1]);
	r = rst_fd_wait(p[0], POLLIN, rst_now_ms() + 1000);
	assert_true(r > 0);
	close(p[0]);

	/* A closed fd is an error, not a wait. */
	assert_int_equal(rst_fd_wait(p[0], POLLIN, rst_now_ms() + 1000), -EBADF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_atomic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_atomic_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mkdir_p, setup, teardown),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_fd_wait),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
