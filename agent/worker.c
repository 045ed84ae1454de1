/* SPDX-License-Identifier: MIT */
/*
 * worker.c - a job thread for roostd's loop (see worker.h).
 *
 * The queue and the finished list are guarded by one mutex; the loop is
 * woken through a pipe (one byte per finished job, drained by the reaper).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "worker.h"

struct job {
	worker_run_fn run;
	worker_done_fn done;
	void *arg;
	struct job *next;
};

struct worker {
	char name[16]; /* the thread's name: 15 characters at most */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *queue, *queue_tail; /* guarded by mu */
	struct job *finished, *finished_tail; /* guarded by mu */
	size_t n_queued, max_queued;          /* guarded by mu */
	size_t pending;                       /* loop thread only */
	bool stop;                            /* guarded by mu */
	int wake[2];                          /* [0] polled by the loop */
};

static void append(struct job **head, struct job **tail, struct job *j)
{
	j->next = NULL;
	if (*tail)
		(*tail)->next = j;
	else
		*head = j;
	*tail = j;
}

static struct job *pop(struct job **head, struct job **tail)
{
	struct job *j = *head;

	if (j) {
		*head = j->next;
		if (!*head)
			*tail = NULL;
	}
	return j;
}

static void *thread_main(void *arg)
{
	struct worker *w = arg;

	(void)pthread_setname_np(pthread_self(), w->name); /* shows in top -H, gdb */
	pthread_mutex_lock(&w->mu);
	for (;;) {
		struct job *j;

		while (!w->stop && !w->queue)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->stop)
			break;
		j = pop(&w->queue, &w->queue_tail);
		w->n_queued--;
		pthread_mutex_unlock(&w->mu);
		j->run(j->arg);
		pthread_mutex_lock(&w->mu);
		append(&w->finished, &w->finished_tail, j);
		(void)!write(w->wake[1], "x", 1);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int worker_new(const char *name, size_t max_queued, struct worker **ret)
{
	struct worker *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	snprintf(w->name, sizeof(w->name), "%s", name);
	w->max_queued = max_queued;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if (pipe2(w->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		r = -errno;
		free(w);
		return r;
	}
	r = -pthread_create(&w->thread, NULL, thread_main, w);
	if (r < 0) {
		close(w->wake[0]);
		close(w->wake[1]);
		free(w);
		return r;
	}
	*ret = w;
	return 0;
}

void worker_free(struct worker *w)
{
	struct job *j;

	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	/* Finished first: they ran, so done() learns it; then the dropped. */
	while ((j = pop(&w->finished, &w->finished_tail))) {
		j->done(j->arg, NULL, true);
		free(j);
	}
	while ((j = pop(&w->queue, &w->queue_tail))) {
		j->done(j->arg, NULL, false);
		free(j);
	}
	close(w->wake[0]);
	close(w->wake[1]);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

int worker_submit(struct worker *w, worker_run_fn run, worker_done_fn done, void *arg)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j)
		return -ENOMEM;
	j->run = run;
	j->done = done;
	j->arg = arg;
	pthread_mutex_lock(&w->mu);
	if (w->n_queued >= w->max_queued) {
		pthread_mutex_unlock(&w->mu);
		free(j);
		return -EBUSY;
	}
	append(&w->queue, &w->queue_tail, j);
	w->n_queued++;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	w->pending++;
	return 0;
}

int worker_fd(const struct worker *w)
{
	return w ? w->wake[0] : -1;
}

void worker_reap(struct worker *w, void *ctx)
{
	char buf[64];
	struct job *j;

	while (read(w->wake[0], buf, sizeof(buf)) > 0)
		;
	for (;;) {
		pthread_mutex_lock(&w->mu);
		j = pop(&w->finished, &w->finished_tail);
		pthread_mutex_unlock(&w->mu);
		if (!j)
			return;
		w->pending--;
		j->done(j->arg, ctx, true);
		free(j);
	}
}

size_t worker_pending(const struct worker *w)
{
	return w ? w->pending : 0;
}
