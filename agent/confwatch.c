/* SPDX-License-Identifier: MIT */
/*
 * confwatch.c - reload when the configuration file changes (see
 * confwatch.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "confwatch.h"
#include "rst-util.h"

#define CONF_MAX (1u << 20)

/* The file's bytes, NUL-terminated; NULL when it cannot be read (gone for a
 * moment while an editor replaces it, or larger than a config can be). */
static char *slurp(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	char *buf;
	size_t len = 0;

	if (fd < 0)
		return NULL;
	buf = malloc(CONF_MAX + 1);
	while (buf && len <= CONF_MAX) {
		ssize_t n = read(fd, buf + len, CONF_MAX + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0) {
				free(buf);
				buf = NULL;
			}
			break;
		}
		len += (size_t)n;
	}
	close(fd);
	if (buf && len > CONF_MAX) {
		free(buf);
		return NULL;
	}
	if (buf)
		buf[len] = '\0';
	return buf;
}

#define WATCH_EVENTS                                                                               \
	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF)

/* Watches the folder of the file w->path leads to (through symlinks), when
 * it is not the path's own folder, and follows it when it moved. */
static void follow_real(struct confwatch *w)
{
	char real[PATH_MAX], dir[PATH_MAX], *d;

	if (!realpath(w->path, real))
		return; /* gone for a moment: the next event tries again */
	d = dirname(real);
	snprintf(dir, sizeof(dir), "%s", w->path);
	if (strcmp(d, dirname(dir)) == 0 || (w->real_dir && strcmp(d, w->real_dir) == 0))
		return;
	if (w->wd_real >= 0)
		(void)inotify_rm_watch(w->fd, w->wd_real);
	free(w->real_dir);
	w->real_dir = strdup(d);
	w->wd_real = inotify_add_watch(w->fd, d, WATCH_EVENTS);
}

int confwatch_open(struct confwatch *w, const char *path)
{
	char dir[PATH_MAX];
	int r;

	memset(w, 0, sizeof(*w));
	w->fd = -1;
	w->wd_real = -1;
	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	w->path = strdup(path);
	if (!w->path)
		return -ENOMEM;
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0 || inotify_add_watch(w->fd, dirname(dir), WATCH_EVENTS) < 0) {
		r = -errno;
		confwatch_close(w);
		return r;
	}
	follow_real(w);
	w->seen = slurp(path);
	return 0;
}

void confwatch_close(struct confwatch *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	free(w->path);
	free(w->seen);
	free(w->real_dir);
	w->path = w->seen = w->real_dir = NULL;
	w->wd_real = -1;
}

int confwatch_fd(const struct confwatch *w)
{
	return w->fd;
}

int confwatch_timeout_ms(const struct confwatch *w)
{
	return w->due ? rst_ms_left(w->due) : -1;
}

int confwatch_tick(struct confwatch *w)
{
	char ev[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool changed;
	char *now;

	if (w->fd < 0)
		return CONFWATCH_NONE;
	/* Any event in the folder (which files changed does not matter: the
	 * path may go through symlinks) restarts the settle time. */
	while (read(w->fd, ev, sizeof(ev)) > 0)
		w->due = rst_now_ms() + CONFWATCH_SETTLE_MS;
	if (!w->due || rst_ms_left(w->due) > 0)
		return CONFWATCH_NONE;
	w->due = 0;
	follow_real(w);
	now = slurp(w->path);
	if (!now)
		return CONFWATCH_NONE; /* gone or unreadable: wait for the next event */
	changed = !w->seen || strcmp(now, w->seen) != 0;
	free(w->seen);
	w->seen = now;
	return changed ? CONFWATCH_CHANGED : CONFWATCH_SAME;
}
