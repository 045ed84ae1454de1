/* SPDX-License-Identifier: MIT */
/*
 * DOC: fuzz-api.c - libFuzzer harness for roostd's side of the agent socket
 * (agent/api-proto.c): api_recv() on whatever a client sends.
 *
 * The input is the byte stream of one connection, header and body (see
 * api-proto.h: magic, version, length, JSON). It is written into one end of
 * a fresh AF_UNIX socketpair whose writing side is then shut down, so a
 * short message ends in "connection closed" at once rather than in a
 * timeout; api_recv() reads the other end.
 *
 * Checks: a refusal says why (reterr_msg) and returns one of the documented
 * errnos; an accepted message is a JSON object, and sent back with
 * api_send() over a second socketpair it arrives equal (what roostd accepts
 * it can also say).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api-proto.h"

#define FUZZ_NAME "fuzz-api"
#include "fuzz.h"


/* Writes what fits without blocking (a socketpair holds ~200 KiB), then
 * shuts the writing side down. */
static void feed(int fd, const uint8_t *data, size_t size)
{
	while (size > 0) {
		ssize_t n = send(fd, data, size, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n <= 0)
			break;
		data += n;
		size -= (size_t)n;
	}
	(void)shutdown(fd, SHUT_WR);
}

static void roundtrip(const json_t *msg)
{
	json_t *back = NULL;
	char why[256] = "", *body = json_dumps(msg, JSON_COMPACT);
	size_t len = body ? strlen(body) : 0;
	int sv[2], r;

	/* One thread writes, then reads: stay well inside one socket buffer.
	 * (Compact output can outgrow the input: "1e300" is written
	 * 1.0000000000000001e+300.) */
	free(body);
	FUZZ_CHECK(len > 0, "cannot encode an accepted message");
	if (len > 64 * 1024)
		return;

	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair: %s",
		   strerror(errno));
	r = api_send(sv[0], msg, 1000);
	FUZZ_CHECK(r == 0, "api_send of an accepted message: %s", strerror(-r));
	(void)shutdown(sv[0], SHUT_WR);
	r = api_recv(sv[1], &back, 1000, why);
	FUZZ_CHECK(r == 0, "an accepted message sent back is refused: %s", why);
	FUZZ_CHECK(json_equal((json_t *)msg, back), "an accepted message sent back differs");
	json_decref(back);
	close(sv[0]);
	close(sv[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *msg = NULL;
	char why[256];
	int sv[2], r;

	if (size > ROOST_API_HDR_LEN + ROOST_API_MAX_BODY)
		return 0;
	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair: %s",
		   strerror(errno));
	feed(sv[0], data, size);
	memset(why, 0, sizeof(why));
	r = api_recv(sv[1], &msg, 2000, why);
	close(sv[0]);
	close(sv[1]);
	if (r < 0) {
		FUZZ_CHECK(r == -EPROTO || r == -EMSGSIZE || r == -EBADMSG || r == -ECONNRESET ||
				   r == -ENOMEM,
			   "api_recv: unexpected %d (%s)", r, why);
		FUZZ_CHECK(why[0] != '\0' || r == -ENOMEM, "api_recv %d without a reason", r);
		FUZZ_CHECK(memchr(why, '\0', sizeof(why)) != NULL, "reason not terminated");
		FUZZ_CHECK(msg == NULL, "api_recv failed but set *ret");
		return 0;
	}
	FUZZ_CHECK(json_is_object(msg), "api_recv accepted a non-object");
	roundtrip(msg);
	json_decref(msg);
	return 0;
}
