/* SPDX-License-Identifier: MIT */
/*
 * rst-util.h - the one way roost does each of these small things: a durable
 * atomic file write, mkdir -p, monotonic time, and waiting for an fd with a
 * deadline. No logging, no globals: every function returns a negative errno
 * and leaves reporting to its caller.
 */
#ifndef ROOST_RST_UTIL_H
#define ROOST_RST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* CLOCK_MONOTONIC in milliseconds. Deadlines below are values of it. */
int64_t rst_now_ms(void);
/* CLOCK_MONOTONIC in microseconds, for durations that are reported. */
int64_t rst_now_us(void);

/* Milliseconds from now until deadline: 0 once it has passed, at most
 * INT_MAX; a value poll() takes as its timeout. */
int rst_ms_left(int64_t deadline);

/* Waits until fd reports one of events (POLLIN, POLLOUT ...) or deadline
 * passes; retries on EINTR. Looks at fd at least once, even when deadline
 * has passed. Returns the revents seen (> 0; POLLERR/POLLHUP count as
 * ready, the following read or write tells why), -ETIMEDOUT, or -errno. */
int rst_fd_wait(int fd, short events, int64_t deadline);

/* mkdir -p: creates path and every missing folder above it with mode
 * (umask applies). 0 when it exists as a folder, -ENOTDIR when a part of
 * it is something else, -ENAMETOOLONG beyond PATH_MAX. */
int rst_mkdir_p(const char *path, mode_t mode);

/* rst_mkdir_p() of the folder that holds path ("a/b/c" -> "a/b"). */
int rst_mkdir_parent(const char *path, mode_t mode);

/* Replaces path with len bytes of buf so that after a crash or power loss
 * path holds either the old or the new bytes, never a mix: write
 * "<path>.new" (created with exactly mode, umask ignored), fsync it, rename
 * it over path, then fsync the folder so the rename itself is durable. The
 * folder must exist. One writer per path at a time ("<path>.new" is
 * shared). On error "<path>.new" is removed and path is untouched, except
 * when only the final folder fsync failed (-errno then too: the new bytes
 * are in place but may not survive a power loss).
 *
 * flags RST_WRITE_NOSYNC: the same without either fsync, for files whose
 * loss or emptiness after a power loss does no harm (scratch files, hints
 * that are checked before use): readers still never see a partial file
 * while the system runs. */
#define RST_WRITE_NOSYNC 0x1u
int rst_write_atomic(const char *path, const void *buf, size_t len, mode_t mode, unsigned flags);

/* Network namespaces of pods, as CNI_NETNS names them (/run/netns/<name>,
 * /proc/<pid>/ns/net) or as a file descriptor passed over the agent socket.
 *
 * rst_netns_check: fd is a network namespace (an nsfs file of type
 * CLONE_NEWNET). 0, or -EINVAL with *why (a static string saying what it
 * is not).
 *
 * rst_netns_open: opens path for rst_netns_check without ever blocking (a
 * FIFO or device there is never opened for I/O: O_PATH first, the real
 * open only once it is known to be nsfs). The fd (O_CLOEXEC), or -errno of
 * the open (*why NULL), or -EINVAL with *why as above.
 *
 * rst_netns_is_own: fd is the calling thread's own network namespace. */
int rst_netns_check(int fd, const char **why);
int rst_netns_open(const char *path, const char **why);
bool rst_netns_is_own(int fd);

#endif
