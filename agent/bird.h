/* SPDX-License-Identifier: MIT */
/*
 * bird.h - roostd's side of BIRD: spawn or adopt it, restart it when it dies,
 * and apply a rendered configuration safely.
 *
 * BIRD runs in its own session (setsid), so it outlives roostd: roostd
 * exiting or crashing changes nothing on the data path. A restarted roostd
 * finds BIRD through its control socket and pid file and adopts it.
 *
 * Applying a configuration (bird_apply):
 *   0. compare the text with the one BIRD last confirmed (or was started
 *      with), recorded in <config>.confirmed - the file alone is not enough:
 *      a crash before `configure confirm` leaves it newer than what BIRD
 *      runs; when both the record and the file hold the text, nothing to do;
 *   1. check the text with `bird -p` (a scratch file next to <config>);
 *   2. write <config> atomically (0600: it holds BGP passwords);
 *   3. `configure check`, then `configure timeout N`: BIRD undoes the change
 *      by itself unless confirmed within N s;
 *   4. reconnect (the socket must answer again), wait until BIRD is up and
 *      running, `configure confirm`, then record the text as confirmed;
 *   5. on any failure: `configure undo` where possible and put back the
 *      previous file, since BIRD never rolls back the file on disk.
 * One operation at a time: in BIRD 2.0.12 any `configure` while a timeout
 * runs (even one that fails to parse) cancels the timeout and makes the
 * unconfirmed configuration permanent.
 *
 * Test hook: with ROOST_TEST_CRASH_AT=confirm in its environment, roostd
 * kills itself (SIGKILL) right before `configure confirm`.
 */
#ifndef ROOST_BIRD_H
#define ROOST_BIRD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "conf.h"
#include "rst.h"

struct bird {
	const struct roostd_conf *conf; /* borrowed; replaced on reload */
	pid_t pid;      /* 0 when unknown or not running */
	int pidfd;      /* -1 when not watched */
	bool child;     /* spawned by this roostd (reaped with waitpid) */
	char *applied;  /* owned; the text BIRD runs, NULL when unknown (then
			 * <config>.confirmed tells) */
	unsigned starts;             /* spawns by this roostd */
	unsigned fast_failures;      /* consecutive deaths soon after start */
	int64_t started_ms;          /* rst_now_ms() of the last spawn */
	int64_t next_start_ms;       /* when a pending (re)start is due; 0 = none */
};

void bird_init(struct bird *b, const struct roostd_conf *conf);
void bird_done(struct bird *b); /* closes fds; never stops BIRD */

/* At roostd start: adopt a BIRD that answers on the socket (applying text if
 * it differs from the file), or write text and spawn BIRD. 0 or -errno.
 * Takes seconds at worst (a BIRD that is slow to answer): roostd runs it on
 * the configurer thread, while its loop already serves. */
int bird_start(struct bird *b, const char *text);

/* Applies text to the running BIRD (see above). 0 when applied or unchanged;
 * -EINVAL with reterr when BIRD refused it (the old config stays); other
 * -errno when BIRD could not be reached (the file is restored too). Takes
 * seconds at worst, so a reload or a datastore change calls it on roostd's
 * configurer thread, with a struct bird of the job's own: it reads b->conf
 * and sets b->applied, nothing else. */
int bird_apply(struct bird *b, const char *text, struct rst_err *reterr);
/* A route reflector: a dynamic client session (client_N, or client6_N from
 * bgp.reflector.clients6) from an address of one of mesh[0..n) (a node that
 * has just become a reflector, or a mesh neighbour, itself)
 * holds the TCP session its static protocol needs, and BIRD never moves
 * it. Disables that client_N and restarts the static protocol, so the peer
 * connects again and is matched to the static one. Logged; best effort. */
void bird_settle_dynamic(struct bird *b, const struct bc_peer *mesh, size_t n);

/* fd that becomes readable when the watched BIRD exits, or -1. */
int bird_fd(const struct bird *b);
/* Call when bird_fd() is readable: logs how BIRD ended, schedules a restart. */
void bird_on_exit(struct bird *b);
/* ms until a scheduled restart is due (-1: none). */
int bird_timeout_ms(const struct bird *b);
bool bird_restart_due(const struct bird *b);
/* The restart that is due: adopts a BIRD that answers on the socket (and
 * applies text to it), else spawns one with text (the file written before).
 * Waits up to seconds for BIRD, so roostd runs it, like bird_start(), on the
 * configurer thread with a struct bird of the job's own. */
void bird_restart(struct bird *b, const char *text);

#endif
