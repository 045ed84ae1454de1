/* SPDX-License-Identifier: MIT */
/*
 * teardown.c - the pool of threads that delete pod veths (see teardown.h).
 *
 * DOC: state and its owners.
 *  - td->jobs (a list; each node queued -> running -> done), td->stop and
 *    td->n: shared, only under td->lock. The main thread appends and
 *    removes done nodes; a worker flips queued to running to done.
 *  - A running node's job (its pod_nd, its result): the worker running it,
 *    until it is marked done; then the main thread, which reaps it.
 *  - worker->nd (a netlink socket in roostd's namespace): its worker.
 *  - td->efd: written by workers, read by the main thread (an eventfd).
 */
#include "teardown.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"

enum job_state { JOB_QUEUED, JOB_RUNNING, JOB_DONE };

struct job_node {
	struct teardown_job job;
	enum job_state state;
	struct job_node *next;
};

struct worker {
	struct teardown *td;
	pthread_t thread;
	struct netdev *nd; /* owned by the thread */
	bool started;
};

struct teardown {
	pthread_mutex_t lock;
	pthread_cond_t work;
	struct job_node *jobs, **tail; /* under lock; FIFO */
	size_t n;                      /* nodes in jobs, under lock */
	bool stop;                     /* under lock */
	int efd;
	unsigned n_workers;
	struct worker *workers; /* owned array */
};

int teardown_run(struct netdev *nd, struct teardown_job *job)
{
	int r = 0;

	/* The pod end first: a veth takes its peer with it, so the host end
	 * is then gone too (and its delete a no-op). */
	if (job->pod_nd && job->pod_ifindex > 0)
		r = netdev_link_delete_index(job->pod_nd, job->pod_ifindex);
	if (r == 0 && job->host_ifindex > 0)
		r = netdev_link_delete_index(nd, job->host_ifindex);
	netdev_free(job->pod_nd);
	job->pod_nd = NULL;
	job->result = r;
	return r;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct teardown *td = w->td;
	uint64_t one = 1;

	pthread_mutex_lock(&td->lock);
	for (;;) {
		struct job_node *n;

		for (n = td->jobs; n && n->state != JOB_QUEUED; n = n->next)
			;
		if (!n) {
			if (td->stop)
				break;
			pthread_cond_wait(&td->work, &td->lock);
			continue;
		}
		n->state = JOB_RUNNING;
		pthread_mutex_unlock(&td->lock);
		(void)teardown_run(w->nd, &n->job);
		pthread_mutex_lock(&td->lock);
		n->state = JOB_DONE;
		(void)!write(td->efd, &one, sizeof(one));
	}
	pthread_mutex_unlock(&td->lock);
	return NULL;
}

int teardown_new(unsigned n_threads, struct teardown **ret)
{
	struct teardown *td;
	int r;

	td = calloc(1, sizeof(*td));
	if (!td)
		return log_errno(LOG_ERR, ENOMEM, "teardown: allocation failed");
	pthread_mutex_init(&td->lock, NULL);
	pthread_cond_init(&td->work, NULL);
	td->tail = &td->jobs;
	td->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	td->workers = calloc(n_threads ? n_threads : 1, sizeof(*td->workers));
	if (td->efd < 0 || !td->workers) {
		r = log_errno(LOG_ERR, td->efd < 0 ? errno : ENOMEM, "teardown: setup failed");
		teardown_free(td);
		return r;
	}
	for (unsigned i = 0; i < (n_threads ? n_threads : 1); i++) {
		struct worker *w = &td->workers[i];

		w->td = td;
		r = netdev_open(&w->nd);
		if (r < 0) {
			teardown_free(td);
			return r;
		}
		r = pthread_create(&w->thread, NULL, worker_main, w);
		td->n_workers++;
		if (r != 0) {
			teardown_free(td);
			return log_errno(LOG_ERR, r, "teardown: cannot start a thread");
		}
		w->started = true;
	}
	*ret = td;
	return 0;
}

void teardown_free(struct teardown *td)
{
	struct job_node *n;

	if (!td)
		return;
	pthread_mutex_lock(&td->lock);
	td->stop = true;
	pthread_cond_broadcast(&td->work);
	pthread_mutex_unlock(&td->lock);
	for (unsigned i = 0; i < td->n_workers; i++) {
		if (td->workers[i].started)
			pthread_join(td->workers[i].thread, NULL);
		netdev_free(td->workers[i].nd);
	}
	while ((n = td->jobs)) {
		td->jobs = n->next;
		netdev_free(n->job.pod_nd); /* a job no thread ran */
		free(n);
	}
	if (td->efd >= 0)
		close(td->efd);
	pthread_cond_destroy(&td->work);
	pthread_mutex_destroy(&td->lock);
	free(td->workers);
	free(td);
}

int teardown_fd(const struct teardown *td)
{
	return td ? td->efd : -1;
}

int teardown_submit(struct teardown *td, const struct teardown_job *job)
{
	struct job_node *n = calloc(1, sizeof(*n));

	if (!td || !n) {
		free(n);
		netdev_free(job->pod_nd);
		return -ENOMEM;
	}
	n->job = *job;
	n->state = JOB_QUEUED;
	pthread_mutex_lock(&td->lock);
	*td->tail = n;
	td->tail = &n->next;
	td->n++;
	pthread_cond_signal(&td->work);
	pthread_mutex_unlock(&td->lock);
	return 0;
}

bool teardown_pending_host(struct teardown *td, const char *host)
{
	bool found = false;

	if (!td)
		return false;
	pthread_mutex_lock(&td->lock);
	for (struct job_node *n = td->jobs; n && !found; n = n->next)
		found = n->state != JOB_DONE && strcmp(n->job.host, host) == 0;
	pthread_mutex_unlock(&td->lock);
	return found;
}

bool teardown_pending_pod(struct teardown *td, dev_t dev, ino_t ino, const char *ifname)
{
	bool found = false;

	if (!td)
		return false;
	pthread_mutex_lock(&td->lock);
	for (struct job_node *n = td->jobs; n && !found; n = n->next)
		found = n->state != JOB_DONE && n->job.ns_ino == ino && n->job.ns_dev == dev &&
			ino != 0 && strcmp(n->job.ifname, ifname) == 0;
	pthread_mutex_unlock(&td->lock);
	return found;
}

size_t teardown_pending(struct teardown *td)
{
	size_t n;

	if (!td)
		return 0;
	pthread_mutex_lock(&td->lock);
	n = td->n;
	pthread_mutex_unlock(&td->lock);
	return n;
}

size_t teardown_reap(struct teardown *td, void (*done)(void *arg, const struct teardown_job *job),
		     void *arg)
{
	struct job_node *finished = NULL, **ft = &finished, **pp, *n;
	uint64_t v;
	size_t count = 0;

	if (!td)
		return 0;
	(void)!read(td->efd, &v, sizeof(v));
	pthread_mutex_lock(&td->lock);
	for (pp = &td->jobs; (n = *pp);) {
		if (n->state != JOB_DONE) {
			pp = &n->next;
			continue;
		}
		*pp = n->next;
		n->next = NULL;
		*ft = n;
		ft = &n->next;
		td->n--;
	}
	td->tail = pp;
	pthread_mutex_unlock(&td->lock);
	/* Outside the lock: done() may submit new jobs. */
	while ((n = finished)) {
		finished = n->next;
		done(arg, &n->job);
		free(n);
		count++;
	}
	return count;
}
