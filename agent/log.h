/* SPDX-License-Identifier: MIT */
/*
 * log.h - roostd's log: one line per event on stderr,
 *   2026-11-28T12:00:00.123Z roostd[42] info: bird: started pid=43 recovery=yes
 * with the level first so `grep ' error: '` finds every failure. Only agent/
 * code and main() functions log; libraries return errors instead.
 */
#ifndef ROOST_LOG_H
#define ROOST_LOG_H

#include <stdbool.h>
#include <syslog.h> /* LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG */

void log_init(const char *ident, int max_prio);
/* "error", "warning", "info" or "debug" -> LOG_*, or -1. */
int log_level_parse(const char *s);
void log_set_level(int max_prio);

void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Logs "fmt: strerror(err)" and returns -abs(err). */
int log_errno(int prio, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define log_error(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
