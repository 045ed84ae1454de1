/* SPDX-License-Identifier: MIT */
/*
 * metrics-textfile.h - the exposition as a file for node_exporter's textfile
 * collector: written whole to <path>.tmp, then renamed over <path>, so the
 * collector never reads half a file.
 */
#ifndef ROOST_METRICS_TEXTFILE_H
#define ROOST_METRICS_TEXTFILE_H

/* Writes text to path. 0 or -errno (logged as a warning). */
int metrics_textfile_write(const char *path, const char *text);

#endif
