/* SPDX-License-Identifier: MIT */
/*
 * log.c - stderr logging with a level and a UTC timestamp, one write(2) per
 * line so lines from roostd and the BIRD it spawned (same stderr) never mix.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char *log_ident = "roostd";
static int log_max_prio = LOG_INFO;

void log_init(const char *ident, int max_prio)
{
	log_ident = ident;
	log_max_prio = max_prio;
}

void log_set_level(int max_prio)
{
	log_max_prio = max_prio;
}

int log_level_parse(const char *s)
{
	static const struct {
		const char *name;
		int prio;
	} levels[] = {
		{"error", LOG_ERR},
		{"warning", LOG_WARNING},
		{"info", LOG_INFO},
		{"debug", LOG_DEBUG},
	};

	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (strcmp(s, levels[i].name) == 0)
			return levels[i].prio;
	return -1;
}

static const char *prio_name(int prio)
{
	switch (prio) {
	case LOG_EMERG:
	case LOG_ALERT:
	case LOG_CRIT:
	case LOG_ERR:
		return "error";
	case LOG_WARNING:
		return "warning";
	case LOG_NOTICE:
	case LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

static __attribute__((format(printf, 3, 0))) void log_vline(int prio, const char *suffix,
							     const char *fmt, va_list ap)
{
	char buf[2048];
	struct timespec ts;
	struct tm tm;
	int n, saved = errno;

	if (prio > log_max_prio)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s[%d] %s: ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		     ts.tv_nsec / 1000000, log_ident, (int)getpid(), prio_name(prio));
	if (n < 0)
		n = 0;
	n += vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	if ((size_t)n >= sizeof(buf) - 1)
		n = sizeof(buf) - 2;
	if (suffix)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%s", suffix);
	if ((size_t)n >= sizeof(buf) - 1)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	(void)!write(STDERR_FILENO, buf, (size_t)n);
	errno = saved;
}

void log_msg(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vline(prio, NULL, fmt, ap);
	va_end(ap);
}

int log_errno(int prio, int err, const char *fmt, ...)
{
	char suffix[160];
	va_list ap;

	if (err < 0)
		err = -err;
	snprintf(suffix, sizeof(suffix), ": %s", strerror(err));
	va_start(ap, fmt);
	log_vline(prio, suffix, fmt, ap);
	va_end(ap);
	return -err;
}
