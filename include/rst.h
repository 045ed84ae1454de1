/* SPDX-License-Identifier: MIT */
/*
 * rst.h - the few project-wide types and helpers of roost.
 *
 * struct rst_err carries an error meant for a person (a config file:line, a
 * CNI code, BIRD's own message) from the code that found it to the code that
 * reports it. Everything else returns a negative errno.
 */
#ifndef ROOST_RST_H
#define ROOST_RST_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rst_err {
	int cni_code;   /* CNI error code, 0 when not a CNI error */
	char file[256]; /* file the error is in, "" when none */
	unsigned line;  /* 1-based line in file, 0 when unknown */
	char msg[512];
};

/* Fills *e (when e is not NULL) and returns -err, so callers can
 * `return rst_err_set(e, EINVAL, path, line, "...")`. */
static inline __attribute__((format(printf, 5, 6))) int rst_err_set(struct rst_err *e, int err,
								     const char *file,
								     unsigned line,
								     const char *fmt, ...)
{
	va_list ap;

	if (e) {
		memset(e, 0, sizeof(*e));
		if (file)
			snprintf(e->file, sizeof(e->file), "%s", file);
		e->line = line;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	return err > 0 ? -err : err;
}

/* "file:line: msg", "file: msg" or "msg", as compilers print them. */
static inline void rst_err_format(const struct rst_err *e, char *buf, size_t len)
{
	if (e->file[0] && e->line)
		snprintf(buf, len, "%s:%u: %s", e->file, e->line, e->msg);
	else if (e->file[0])
		snprintf(buf, len, "%s: %s", e->file, e->msg);
	else
		snprintf(buf, len, "%s", e->msg);
}

#define _cleanup_(f) __attribute__((cleanup(f)))
#define TAKE_PTR(p)                                                                                \
	({                                                                                         \
		__typeof__(p) _t = (p);                                                            \
		(p) = NULL;                                                                        \
		_t;                                                                                \
	})
#define DEFINE_CLEANUP(type, fn)                                                                   \
	static inline __attribute__((unused)) void fn##p(type *p)                                  \
	{                                                                                          \
		if (*p)                                                                            \
			fn(*p);                                                                    \
	}

static inline __attribute__((unused)) void freep(void *p)
{
	free(*(void **)p);
}
static inline __attribute__((unused)) void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_fclose_ _cleanup_(fclosep)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
