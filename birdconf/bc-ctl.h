/* SPDX-License-Identifier: MIT */
/*
 * bc-ctl.h - BIRD 2 control-socket client and reply parsers.
 *
 * Protocol (nest/cli.c, doc/reply_codes): every reply line is "DDDD-text"
 * (more follows), "DDDD text" (the last line of the reply), " text" (a
 * continuation carrying the previous line's code) or "+text" (asynchronous,
 * not part of any reply). A reply ends at the first "DDDD " line. 0xxx is
 * success, 1xxx a table row, 2xxx a heading, 8xxx a run-time error and 9xxx
 * a parse error.
 *
 * A library: no globals, no logging, no exit(). Every read and write is
 * bounded by the timeout given to bc_ctl_open().
 */
#ifndef ROOST_BC_CTL_H
#define ROOST_BC_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rst.h"

/* ---- reply lines and replies -------------------------------------------- */

/* Longest reply line accepted, without its '\n' (BIRD 2.0.12 formats lines in
 * 512 bytes; longer text becomes "8000 <line overflow>"). */
#define BC_LINE_MAX 8192
/* Longest command bc_ctl_cmd() sends, without its '\n'. BIRD 2.0.12 drops the
 * connection, without a reply, on a command line of 1024 bytes or more
 * (measured; its 4096-byte CLI_RX_BUF_SIZE is not the limit that bites). */
#define BC_CMD_MAX 1022
/* Largest reply bc_ctl_cmd() buffers before giving up with -EMSGSIZE. */
#define BC_REPLY_MAX (16u << 20)

enum bc_line_kind {
	BC_LINE_MORE,  /* "DDDD-text" */
	BC_LINE_FINAL, /* "DDDD text": ends the reply */
	BC_LINE_CONT,  /* " text": same code as the line before */
	BC_LINE_ASYNC, /* "+text" */
	BC_LINE_BAD,   /* none of the above */
};

/* Classifies one line (without its '\n'). *ret_code gets the line's code
 * (prev_code for a continuation, 0 for async/bad); *ret_text points into line
 * after the prefix, untrimmed. */
enum bc_line_kind bc_line_classify(const char *line, int prev_code, int *ret_code,
				   const char **ret_text);

struct bc_line {
	int code;
	char *text; /* owned; the text after the prefix, untrimmed */
};

struct bc_reply {
	int code; /* code of the final line */
	struct bc_line *lines; /* owned; every line of the reply, the final one included */
	size_t n_lines;
	char **async; /* owned; "+" lines seen while reading this reply, without the '+' */
	size_t n_async;
};

/* Parses one complete reply from buf (several lines). Returns the number of
 * bytes consumed (> 0), 0 when buf holds no final line yet, or -EBADMSG on a
 * malformed line. *ret is filled only on success; free with bc_reply_done().
 * Also: a continuation line with no code before it, a line longer than
 * BC_LINE_MAX or holding a NUL byte is -EBADMSG; -ENOMEM. Bytes after the
 * final line are not looked at. */
long bc_reply_parse(const char *buf, size_t len, struct bc_reply *ret);
/* Frees what r owns and zeroes it; a zeroed struct is fine, so is NULL. */
void bc_reply_done(struct bc_reply *r);
/* For `_cleanup_(bc_reply_donep) struct bc_reply r = { 0 };` */
static inline __attribute__((unused)) void bc_reply_donep(struct bc_reply *r)
{
	bc_reply_done(r);
}

static inline bool bc_code_is_error(int code)
{
	return code >= 8000;
}

/* ---- client -------------------------------------------------------------- */

struct bc_ctl; /* one connection to one BIRD */

/* Connects to the control socket at path and reads the greeting
 * ("0001 BIRD 2.0.12 ready."). Every later read/write waits at most
 * timeout_ms. Returns 0 and an owned *ret, or a negative errno (-ENOENT,
 * -ECONNREFUSED, -ETIMEDOUT, -EBADMSG for a bad greeting...).
 * timeout_ms (> 0, else -EINVAL) bounds each call as a whole: bc_ctl_open()
 * (connect + greeting) and each command (send + whole reply) either finish
 * within it or fail with -ETIMEDOUT. -ENAMETOOLONG when path does not fit in
 * sun_path. */
int bc_ctl_open(const char *path, int timeout_ms, struct bc_ctl **ret);
void bc_ctl_free(struct bc_ctl *c);
DEFINE_CLEANUP(struct bc_ctl *, bc_ctl_free)

/* "2.0.12" from the greeting (borrowed from c). */
const char *bc_ctl_version(const struct bc_ctl *c);

/* Sends cmd (one line, no '\n', at most BC_CMD_MAX bytes) and reads its
 * whole reply. Returns 0 when a reply arrived (whatever its code; check
 * ret->code), or a negative errno for transport failures and timeouts.
 * -EINVAL for a bad cmd: empty, holding '\n', or longer than BC_CMD_MAX
 * (nothing is sent, the connection stays usable).
 * "+" lines that arrived since the last reply, or in the middle of this one,
 * are in ret->async. After any other failure (-ETIMEDOUT, -ECONNRESET when
 * BIRD closed the socket, -EBADMSG, -EMSGSIZE past BC_REPLY_MAX) the
 * connection is out of step: later calls return -ENOTCONN; open a new one. */
int bc_ctl_cmd(struct bc_ctl *c, const char *cmd, struct bc_reply *ret);

/* ---- reconfiguration ------------------------------------------------------
 * Each returns 0 on success, -EINVAL with BIRD's message in reterr when BIRD
 * refused (e.g. 8002 "file:line:col msg"), or a transport errno. file may be
 * NULL for the file BIRD was started with.
 * reterr (may be NULL) is cleared first and filled only when the call fails:
 * msg is BIRD's own text for 8002, "BIRD replied CODE TEXT" for other
 * refusals (8xxx, 9xxx, 0006 shutting down), or says what was wrong with the
 * request. A file name holding '"', '\r' or '\n' is -EINVAL, never sent. A
 * reply that fits none of the codes expected is -EBADMSG. */
int bc_ctl_configure_check(struct bc_ctl *c, const char *file, struct rst_err *reterr);
/* `configure ["file"] timeout N` (timeout_s > 0) or plain `configure`.
 * 0003, 0004 and 0005 count as success. */
int bc_ctl_configure(struct bc_ctl *c, const char *file, unsigned timeout_s,
		     struct rst_err *reterr);
int bc_ctl_configure_confirm(struct bc_ctl *c, struct rst_err *reterr); /* 0018 or 0019 */
int bc_ctl_configure_undo(struct bc_ctl *c, struct rst_err *reterr);    /* 0021 then 000x/0019 */

/* ---- show protocols [all] ----------------------------------------------- */

struct bc_protocol {
	char name[65];
	char proto[16];  /* "BGP", "Kernel", ... */
	char table[32];  /* "---" for BGP */
	char state[8];   /* up|start|stop|down|flush */
	char since[32];  /* "09:26:05.074" or "2026-11-28" */
	char info[128];  /* trimmed: "Established", "Active Socket: No route to host" */
	/* BGP details, from `show protocols all` (empty/0 otherwise) */
	char bgp_state[32];   /* "Established" */
	char neighbor[64];    /* "Neighbor address:" or "Neighbor range:" */
	uint32_t neighbor_as; /* 0 when unknown */
	uint32_t local_as;
	char neighbor_id[16];
	char last_error[128];
	char session[64];  /* "internal AS4" */
	char input_filter[65];
	char output_filter[65];
	/* first channel's "Routes: N imported, N filtered?, N exported, N preferred" */
	unsigned routes_imported, routes_filtered, routes_exported, routes_preferred;
	bool has_routes;
	/* first channel's "Import updates:" row of "Route change stats" */
	unsigned import_received, import_rejected, import_filtered, import_ignored,
		import_accepted;
	bool has_import_stats;
	/* the "ipv6" channel's figures (the first channel's or the second's),
	 * when the protocol has one: routes imported and exported, and import
	 * updates rejected plus filtered */
	bool has_v6;
	bool v6_first; /* it is the first channel (the fields above are its too) */
	unsigned v6_imported, v6_exported, v6_dropped;
};

/* Parses a `show protocols` or `show protocols all` reply. Returns 0 with an
 * owned array (free()) in *ret and its length in *ret_n, -EINVAL when the
 * reply is an error, -EBADMSG when it cannot be understood, -ENOMEM.
 * *ret is NULL when *ret_n is 0. An 8xxx line in the middle of the reply
 * (8000 "<line overflow>" stands in for a lost line) is -EBADMSG. Info and
 * Last error are cut to fit; any other field that does not fit is -EBADMSG. */
int bc_parse_protocols(const struct bc_reply *r, struct bc_protocol **ret, size_t *ret_n);
int bc_ctl_show_protocols(struct bc_ctl *c, bool all, struct bc_protocol **ret, size_t *ret_n);

/* ---- show route [all] ---------------------------------------------------- */

struct bc_lc {
	uint32_t asn, d1, d2;
};

struct bc_route {
	char table[32];  /* "master4" */
	char prefix[64]; /* "10.244.2.0/24" */
	char type[16];   /* unicast|blackhole|unreachable|prohibited */
	char proto[65];  /* "node_node2" */
	char since[32];
	char from[64];    /* "from IP" part, "" when absent */
	bool best;        /* '*' (also set for '!') */
	bool sync_error;  /* '!' : best, but the kernel refused it */
	unsigned pref;    /* (100) */
	char via[64];     /* first next hop "via A on IF" -> A; "" for "dev IF" */
	char dev[32];     /* interface of the first next hop */
	/* `all` only */
	char route_type[32]; /* "BGP univ" */
	char bgp_next_hop[64]; /* first address of BGP.next_hop */
	struct bc_lc lc[8]; /* BGP.large_community values, the first 8 */
	size_t n_lc;
};

/* Parses a `show route [all] ...` reply; several routes for one prefix each
 * get an entry (the prefix is repeated). Same returns as bc_parse_protocols;
 * an empty result ("0000 " only) is success with *ret_n = 0. A reply that is
 * 8001 "Network not found" also gives success with *ret_n = 0.
 * An error after partial output (8004 "Stopped due to reconfiguration") is
 * -EINVAL and returns no routes; a reply with any other final code than 0000
 * (e.g. 0014 of `show route count`) is -EBADMSG. */
int bc_parse_routes(const struct bc_reply *r, struct bc_route **ret, size_t *ret_n);
/* args: what follows "show route", e.g. "all" or "all where net ~ [...]" */
int bc_ctl_show_route(struct bc_ctl *c, const char *args, struct bc_route **ret, size_t *ret_n);

/* `show status`: version, router id, whether the daemon is "up and running"
 * (0013), and graceful-restart recovery (0024) in progress. */
struct bc_status {
	char version[32];
	char router_id[16];
	char last_reboot[40];
	char last_reconfiguration[40];
	bool running;
	bool gr_recovery;
};
/* 0, -EINVAL for an error reply, -EBADMSG without a 0013 final line, a
 * version or a router id. running is false while reconfiguring or shutting
 * down. */
int bc_parse_status(const struct bc_reply *r, struct bc_status *ret);
int bc_ctl_show_status(struct bc_ctl *c, struct bc_status *ret);

#endif
