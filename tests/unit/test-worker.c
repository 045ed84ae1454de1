/* SPDX-License-Identifier: MIT */
/*
 * DOC: test-worker.c - the job thread (worker.c) and the loop's share
 * (share.c), without roostd: jobs run in order and their done() runs where
 * the reaper is; a full queue says -EBUSY; freeing drops what did not run;
 * the loop's share_write_try() never waits for a reader, and once asked,
 * new readers wait until share_write_done().
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "share.h"
#include "worker.h"

struct job {
	int id;
	int *order; /* where run() writes id, in run order */
	int *n_run;
	int *done_ran, *done_dropped;
	int *gate; /* when set: run() says it started on gate[1], waits for a byte on gate[2] */
};

static void job_run(void *arg)
{
	struct job *j = arg;
	char c;

	if (j->gate) {
		(void)!write(j->gate[1], "s", 1);
		(void)!read(j->gate[2], &c, 1);
	}
	j->order[(*j->n_run)++] = j->id;
}

static void job_done(void *arg, void *ctx, bool ran)
{
	struct job *j = arg;

	if (ran)
		(*j->done_ran)++;
	else
		(*j->done_dropped)++;
	if (ctx)
		(*(int *)ctx)++;
}

static bool wait_readable(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, ms) == 1;
}

static void test_order_and_reap(void **state)
{
	struct worker *w = NULL;
	struct job jobs[5];
	int order[5] = {0}, n_run = 0, ran = 0, dropped = 0, reaped_here = 0;

	assert_int_equal(worker_new("test", 8, &w), 0);
	for (int i = 0; i < 5; i++) {
		jobs[i] = (struct job){i + 1, order, &n_run, &ran, &dropped, NULL};
		assert_int_equal(worker_submit(w, job_run, job_done, &jobs[i]), 0);
	}
	assert_int_equal(worker_pending(w), 5);
	while (worker_pending(w) > 0) {
		assert_true(wait_readable(worker_fd(w), 5000));
		worker_reap(w, &reaped_here);
	}
	for (int i = 0; i < 5; i++)
		assert_int_equal(order[i], i + 1);
	assert_int_equal(ran, 5);
	assert_int_equal(reaped_here, 5); /* done() got the reaper's ctx */
	assert_int_equal(dropped, 0);
	worker_free(w);
}

static void *release_later(void *arg)
{
	int fd = *(int *)arg;

	/* Long after worker_free() asked the thread to stop. */
	(void)poll(NULL, 0, 300);
	(void)!write(fd, "g", 1);
	return NULL;
}

static void test_busy_and_drop(void **state)
{
	struct worker *w = NULL;
	struct job jobs[4];
	int order[4] = {0}, n_run = 0, ran = 0, dropped = 0;
	int started[2], gate[2], fds[3];
	pthread_t t;
	char c;

	assert_int_equal(pipe(started), 0);
	assert_int_equal(pipe(gate), 0);
	fds[0] = started[0];
	fds[1] = started[1];
	fds[2] = gate[0];
	assert_int_equal(worker_new("test", 2, &w), 0);
	for (int i = 0; i < 4; i++)
		jobs[i] = (struct job){i + 1, order, &n_run, &ran, &dropped, i == 0 ? fds : NULL};
	/* The first runs (held at the gate); two more fill the queue; the
	 * fourth finds it full. */
	assert_int_equal(worker_submit(w, job_run, job_done, &jobs[0]), 0);
	assert_int_equal(read(started[0], &c, 1), 1);
	assert_int_equal(worker_submit(w, job_run, job_done, &jobs[1]), 0);
	assert_int_equal(worker_submit(w, job_run, job_done, &jobs[2]), 0);
	assert_int_equal(worker_submit(w, job_run, job_done, &jobs[3]), -EBUSY);
	/* Freeing waits for the running job and drops the queued ones. */
	assert_int_equal(pthread_create(&t, NULL, release_later, &gate[1]), 0);
	worker_free(w);
	pthread_join(t, NULL);
	assert_int_equal(n_run, 1);
	assert_int_equal(order[0], 1);
	assert_int_equal(ran, 1);
	assert_int_equal(dropped, 2);
	for (int i = 0; i < 2; i++) {
		close(started[i]);
		close(gate[i]);
	}
}

struct reader {
	struct share *s;
	const struct roostd_conf *seen;
	int done[2];
};

static void *read_once(void *arg)
{
	struct reader *r = arg;

	r->seen = share_conf_get(r->s);
	share_conf_put(r->s);
	(void)!write(r->done[1], "x", 1);
	return NULL;
}

static void test_share(void **state)
{
	struct roostd_conf a = {0}, b = {0};
	struct share s;
	struct reader r = {.s = &s};
	pthread_t t;

	share_init(&s, &a);
	/* A reader holds it: the loop is told no, at once. */
	assert_ptr_equal(share_conf_get(&s), &a);
	assert_false(share_write_try(&s));
	assert_true(share_write_waiting(&s));
	/* A new reader now waits for the loop. */
	assert_int_equal(pipe(r.done), 0);
	assert_int_equal(pthread_create(&t, NULL, read_once, &r), 0);
	assert_false(wait_readable(r.done[0], 200));
	share_conf_put(&s);
	assert_true(share_write_try(&s));
	share_write_done(&s, &b);
	/* ...and gets what the loop published. */
	assert_true(wait_readable(r.done[0], 5000));
	pthread_join(t, NULL);
	assert_ptr_equal(r.seen, &b);
	assert_false(share_write_waiting(&s));
	close(r.done[0]);
	close(r.done[1]);
	share_done(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_reap),
		cmocka_unit_test(test_busy_and_drop),
		cmocka_unit_test(test_share),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
