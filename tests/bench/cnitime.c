/* SPDX-License-Identifier: MIT */
/*
 * cnitime - times one CNI plugin exec the way a container runtime sees it.
 *
 *   cnitime TIMEFILE NODE_NETNS PROGRAM [ARG...]
 *
 * Joins the network namespace NODE_NETNS (a file such as /run/netns/X),
 * then forks and execs PROGRAM with this process's environment, stdin,
 * stdout and stderr, waits for it, and writes the elapsed microseconds
 * (fork to reaped exit, CLOCK_MONOTONIC) to TIMEFILE. Exits with PROGRAM's
 * status. containerd and CRI-O do the same: they exec the plugin directly,
 * from a process that is already running; `ip netns exec` instead pays for a
 * mount namespace and a remount of /sys on every call (about 3 ms here),
 * which no runtime pays, so the benchmark measures from inside this helper.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	FILE *out;
	pid_t pid;
	int fd, status;

	if (argc < 4) {
		fprintf(stderr, "usage: cnitime TIMEFILE NODE_NETNS PROGRAM [ARG...]\n");
		return 2;
	}
	fd = open(argv[2], O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
		fprintf(stderr, "cnitime: %s: %s\n", argv[2], strerror(errno));
		return 2;
	}
	close(fd);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "cnitime: fork: %s\n", strerror(errno));
		return 2;
	}
	if (pid == 0) {
		execve(argv[3], argv + 3, environ);
		fprintf(stderr, "cnitime: %s: %s\n", argv[3], strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0) {
		fprintf(stderr, "cnitime: waitpid: %s\n", strerror(errno));
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	out = fopen(argv[1], "w");
	if (!out) {
		fprintf(stderr, "cnitime: %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	fprintf(out, "%lld\n",
		(long long)(t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000);
	if (fclose(out) != 0)
		return 2;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
