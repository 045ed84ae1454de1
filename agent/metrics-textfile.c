/* SPDX-License-Identifier: MIT */
/*
 * metrics-textfile.c - write the exposition for node_exporter (see
 * metrics-textfile.h). Runs on the metrics thread.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "metrics-textfile.h"
#include "rst-util.h"

int metrics_textfile_write(const char *path, const char *text)
{
	/* No fsync: a file lost to a power loss is rewritten within 15 s. The
	 * temp name ("<path>.new") does not end in .prom, so node_exporter
	 * never reads it half written. */
	int r = rst_write_atomic(path, text, strlen(text), 0644, RST_WRITE_NOSYNC);

	if (r < 0)
		log_errno(LOG_WARNING, r, "metrics: cannot write '%s'", path);
	return r;
}
