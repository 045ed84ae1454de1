/* SPDX-License-Identifier: MIT */
/*
 * teardown.h - pod interfaces deleted off roostd's main loop.
 *
 * Deleting a veth costs the kernel an RCU grace period (15-27 ms here) in
 * RTM_DELLINK, while everything else a DEL does takes well under a
 * millisecond. So DEL and GC release the record (its address held, see
 * ipam_release_deferred()) and hand the deletion to a job here; a small
 * pool of threads, each with a netlink socket of its own, runs the jobs;
 * deletions in several threads overlap in the kernel. The main loop polls
 * teardown_fd() and reaps finished jobs: only then is the address free.
 *
 * Threads and state: the main thread submits and reaps jobs and asks what
 * is pending; the worker threads run jobs and touch nothing but the job
 * they run and their own netlink socket (never the IPAM pool, never the
 * config). The queue is shared under a mutex.
 */
#ifndef ROOST_TEARDOWN_H
#define ROOST_TEARDOWN_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "ipam.h"
#include "netdev.h"

#define TEARDOWN_THREADS 4

struct teardown;

struct teardown_job {
	int host_ifindex;      /* host end to delete in roostd's namespace (0: none) */
	struct netdev *pod_nd; /* owned by the job: socket in the pod's namespace (NULL: none) */
	int pod_ifindex;       /* ... and the pod end to delete there (0: none) */
	char host[16];         /* host veth name (for ADDs that must wait, and logs) */
	char ifname[16];       /* CNI_IFNAME */
	char container_id[IPAM_ID_MAX + 1];
	dev_t ns_dev;          /* the pod's network namespace (0, 0: unknown) */
	ino_t ns_ino;
	bool held;             /* addr is held in the pool until the job is reaped */
	struct in_addr addr;
	bool held6;            /* addr6 is held in the IPv6 pool (ipam6) likewise */
	struct in6_addr addr6;
	int result;            /* when done: 0 or -errno */
};

/* Starts n_threads workers. 0 and an owned *ret, or -errno (logged). */
int teardown_new(unsigned n_threads, struct teardown **ret);
/* Runs every job still queued, then stops the workers. Jobs not yet
 * reaped are dropped (their held addresses die with the pool). */
void teardown_free(struct teardown *td);

/* Readable (POLLIN) when a job has finished: call teardown_reap(). */
int teardown_fd(const struct teardown *td);

/* Queues a copy of *job; the job owns job->pod_nd from now on, also when
 * this fails. 0 or -ENOMEM. */
int teardown_submit(struct teardown *td, const struct teardown_job *job);

/* Runs a job here and now with nd (a socket in roostd's namespace): for
 * callers without a pool, or when queuing failed. Sets job->result, frees
 * job->pod_nd and returns the result. */
int teardown_run(struct netdev *nd, struct teardown_job *job);

/* Whether a queued or running job still deletes the host veth `host`, or
 * the interface `ifname` in the pod namespace (dev, ino). td may be NULL. */
bool teardown_pending_host(struct teardown *td, const char *host);
bool teardown_pending_pod(struct teardown *td, dev_t dev, ino_t ino, const char *ifname);
/* Jobs queued, running or finished but not reaped. */
size_t teardown_pending(struct teardown *td);

/* Takes the finished jobs out and calls done(arg, job) for each, in the
 * calling (main) thread. Returns how many there were. */
size_t teardown_reap(struct teardown *td, void (*done)(void *arg, const struct teardown_job *job),
		     void *arg);

#endif
