/* SPDX-License-Identifier: MIT */
/*
 * metrics-textfile.c - write the exposition for node_exporter (see
 * metrics-textfile.h). Runs on the metrics thread.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "log.h"
#include "metrics-textfile.h"

int metrics_textfile_write(const char *path, const char *text)
{
	char tmp[4200];
	FILE *f;
	int r = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f || fputs(text, f) == EOF || fflush(f) != 0)
		r = -errno;
	if (f && fclose(f) != 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		log_errno(LOG_WARNING, r, "metrics: cannot write '%s'", path);
	}
	return r;
}
