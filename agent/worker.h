/* SPDX-License-Identifier: MIT */
/*
 * worker.h - one thread that runs jobs handed over by roostd's loop, one at
 * a time, in order, so that slow work (a BIRD configure, BIRD queries for
 * roostctl) never holds the loop.
 *
 * A job is run(arg) on the worker thread, then done(arg, ctx, true) on the
 * loop's thread once worker_fd() became readable and the loop called
 * worker_reap(). A job that never ran (worker_free() with jobs queued) gets
 * done(arg, NULL, false) on the freeing thread. done() owns arg afterwards.
 * The worker thread touches nothing but what run() reaches through arg.
 */
#ifndef ROOST_WORKER_H
#define ROOST_WORKER_H

#include <stdbool.h>
#include <stddef.h>

struct worker;

typedef void (*worker_run_fn)(void *arg);
typedef void (*worker_done_fn)(void *arg, void *ctx, bool ran);

/* Starts the thread (signals stay blocked in it, as in the caller). At most
 * max_queued jobs wait behind the running one. 0 and an owned *ret, or
 * -errno. */
int worker_new(const char *name, size_t max_queued, struct worker **ret);
/* Waits for the running job, drops the queued ones, stops the thread. */
void worker_free(struct worker *w);

/* Queues a job. 0, or -EBUSY when max_queued jobs wait already (the caller
 * still owns arg), -ENOMEM. */
int worker_submit(struct worker *w, worker_run_fn run, worker_done_fn done, void *arg);

/* Readable when finished jobs wait for worker_reap(). */
int worker_fd(const struct worker *w);
/* Calls done(arg, ctx, true) for each finished job, in order. */
void worker_reap(struct worker *w, void *ctx);
/* Jobs queued, running or finished but not reaped. */
size_t worker_pending(const struct worker *w);

#endif
