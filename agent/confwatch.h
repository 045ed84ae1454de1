/* SPDX-License-Identifier: MIT */
/*
 * confwatch.h - notices when roostd's configuration file changes, so that a
 * change reaches roostd as a reload (as SIGHUP does) without anyone sending
 * a signal: a Kubernetes ConfigMap update, an edit on the node.
 *
 * inotify watches the folder that holds the path, and the folder that holds
 * the file the path leads to when that is another one (a ConfigMap volume:
 * roostd.conf -> ..data/roostd.conf, ..data -> ..2026_12_03_..., followed
 * again after each change). That covers every way the file is replaced:
 * written in place (IN_CLOSE_WRITE), renamed over by an editor or a config
 * manager (IN_MOVED_TO), and the kubelet's ConfigMap update, which swaps the
 * "..data" symlink (IN_MOVED_TO of "..data"). Files the configuration
 * @includes are not watched: after changing one, send SIGHUP. A subPath
 * mount of a ConfigMap never changes (Kubernetes does not update those).
 * Any event starts a short settle time (CONFWATCH_SETTLE_MS); then
 * the file's bytes are read and compared with the ones seen last, and only
 * a real difference counts as a change. Never blocks: the loop polls
 * confwatch_fd() and calls confwatch_tick().
 */
#ifndef ROOST_CONFWATCH_H
#define ROOST_CONFWATCH_H

#include <stdbool.h>
#include <stdint.h>

#define CONFWATCH_SETTLE_MS 300

struct confwatch {
	int fd;         /* inotify, -1 when not watching */
	int wd_real;    /* the watch on the real file's folder, -1 when the same */
	char *path;     /* owned: the configuration file */
	char *real_dir; /* owned: the folder of the file path leads to */
	char *seen;     /* owned: its bytes when last looked at, NULL when unreadable */
	int64_t due;    /* rst_now_ms() when to look, 0 when nothing is pending */
};

/* Starts watching path's folder; the file's current bytes are the baseline.
 * 0 or -errno (logged by the caller; roostd runs on without the watch). */
int confwatch_open(struct confwatch *w, const char *path);
void confwatch_close(struct confwatch *w);

int confwatch_fd(const struct confwatch *w);
/* ms until confwatch_tick() wants to run, -1 when not. */
int confwatch_timeout_ms(const struct confwatch *w);
/* Reads pending events and, once the settle time has passed, compares the
 * file: CONFWATCH_CHANGED when its bytes changed since the last look (the
 * new bytes are the baseline from then on), CONFWATCH_SAME when something
 * happened in the folder but the bytes are the same, else CONFWATCH_NONE. */
enum { CONFWATCH_NONE, CONFWATCH_SAME, CONFWATCH_CHANGED };
int confwatch_tick(struct confwatch *w);

#endif
