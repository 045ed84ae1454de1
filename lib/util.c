/* SPDX-License-Identifier: MIT */
/*
 * util.c - durable atomic writes, mkdir -p, monotonic time, fd waits and
 * network namespace checks (see rst-util.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "rst-util.h"

int64_t rst_now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

int64_t rst_now_ms(void)
{
	return rst_now_us() / 1000;
}

int rst_ms_left(int64_t deadline)
{
	int64_t left = deadline - rst_now_ms();

	if (left <= 0)
		return 0;
	return left > INT_MAX ? INT_MAX : (int)left;
}

int rst_fd_wait(int fd, short events, int64_t deadline)
{
	struct pollfd p = {.fd = fd, .events = events};
	int r;

	for (;;) {
		r = poll(&p, 1, rst_ms_left(deadline));
		if (r > 0)
			return p.revents & POLLNVAL ? -EBADF : p.revents;
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

int rst_mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	struct stat st;
	size_t n = strlen(path);

	if (n == 0)
		return -EINVAL;
	if (n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	for (char *p = buf + 1;; p++) {
		char c = *p;

		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		/* EEXIST says nothing about what is there. */
		if (stat(buf, &st) < 0)
			return -errno;
		if (!S_ISDIR(st.st_mode))
			return -ENOTDIR;
		if (c == '\0')
			return 0;
		*p = '/';
		while (p[1] == '/')
			p++;
	}
}

int rst_mkdir_parent(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	char *slash;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	slash = strrchr(buf, '/');
	if (!slash || slash == buf)
		return 0; /* the current folder or "/" */
	*slash = '\0';
	return rst_mkdir_p(buf, mode);
}

static int fsync_parent(const char *path)
{
	char buf[PATH_MAX];
	char *slash;
	int fd, r = 0;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	slash = strrchr(buf, '/');
	if (!slash)
		strcpy(buf, ".");
	else if (slash == buf)
		buf[1] = '\0';
	else
		*slash = '\0';
	fd = open(buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

int rst_write_atomic(const char *path, const void *buf, size_t len, mode_t mode, unsigned flags)
{
	bool sync = !(flags & RST_WRITE_NOSYNC);
	char tmp[PATH_MAX];
	const char *p = buf;
	int fd, r = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.new", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -errno;
	/* The mode is exact: open() applied the umask, and a leftover
	 * "<path>.new" keeps whatever mode it had. */
	if (fchmod(fd, mode) < 0)
		r = -errno;
	while (r == 0 && len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	if (r == 0 && sync && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		(void)unlink(tmp);
		return r;
	}
	return sync ? fsync_parent(path) : 0;
}

int rst_netns_check(int fd, const char **why)
{
	struct statfs fs;

	if (fstatfs(fd, &fs) < 0 || fs.f_type != NSFS_MAGIC) {
		*why = "not a network namespace (not a file of nsfs)";
		return -EINVAL;
	}
	if (ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET) {
		*why = "not a network namespace";
		return -EINVAL;
	}
	return 0;
}

bool rst_netns_is_own(int fd)
{
	struct stat self, st;

	return fstat(fd, &st) == 0 && stat("/proc/thread-self/ns/net", &self) == 0 &&
	       st.st_dev == self.st_dev && st.st_ino == self.st_ino;
}

int rst_netns_open(const char *path, const char **why)
{
	struct statfs fs;
	char proc[64];
	int pfd, fd, r;

	*why = NULL;
	pfd = open(path, O_PATH | O_CLOEXEC);
	if (pfd < 0)
		return -errno;
	if (fstatfs(pfd, &fs) < 0 || fs.f_type != NSFS_MAGIC) {
		close(pfd);
		*why = "not a network namespace (not a file of nsfs)";
		return -EINVAL;
	}
	/* NS_GET_NSTYPE needs a real open; of an nsfs file it never blocks. */
	snprintf(proc, sizeof(proc), "/proc/thread-self/fd/%d", pfd);
	fd = open(proc, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	r = -errno;
	close(pfd);
	if (fd < 0)
		return r;
	r = rst_netns_check(fd, why);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}
