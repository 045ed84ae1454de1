/* SPDX-License-Identifier: MIT */
/*
 * check.c - `bird -p -c FILE` on a rendered file, and the SHA-256 that names
 * the source config in the rendered header.
 *
 * `bird -p` parses the file with the same grammar and post-config checks the
 * daemon uses, needs no socket and takes a few ms. It prints
 * "bird: FILE:LINE:COL message" on stderr and exits 1 on any error. It does
 * not catch a missing router id, interfaces or sockets (BIRD 2.0.12: with no
 * IPv4 address and no router id the daemon dies at start with "Cannot
 * determine router ID"); the renderer always sets the router id.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "birdconf.h"
#include "rst-util.h"

extern char **environ;

#define CHECK_TIMEOUT_MS 10000

/* Reads what the child writes to fd until EOF or the deadline. */
static void read_all(int fd, char *buf, size_t size)
{
	int64_t deadline = rst_now_ms() + CHECK_TIMEOUT_MS;
	size_t len = 0;

	for (;;) {
		ssize_t n;

		if (rst_fd_wait(fd, POLLIN, deadline) < 0)
			break;
		if (len + 1 >= size) {
			char sink[512];

			n = read(fd, sink, sizeof(sink));
		} else {
			n = read(fd, buf + len, size - 1 - len);
			if (n > 0)
				len += (size_t)n;
		}
		if (n == 0 || (n < 0 && errno != EINTR))
			break;
	}
	buf[len] = '\0';
}

int bc_check(const char *bird_bin, const char *path, struct rst_err *reterr)
{
	char out[2048], *msg, *nl;
	const char *argv[] = {bird_bin, "-p", "-c", path, NULL};
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int pfd[2], status, r;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return rst_err_set(reterr, errno, NULL, 0, "pipe: %s", strerror(errno));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], STDERR_FILENO);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	r = posix_spawnp(&pid, bird_bin, &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	if (r != 0) {
		close(pfd[0]);
		return rst_err_set(reterr, r, NULL, 0, "cannot run '%s': %s", bird_bin,
				   strerror(r));
	}
	read_all(pfd[0], out, sizeof(out));
	close(pfd[0]);
	/* EOF on the pipe comes just before the exit; wait for it, bounded. */
	for (int waited = 0; (r = (int)waitpid(pid, &status, WNOHANG)) == 0; waited += 5) {
		if (waited >= CHECK_TIMEOUT_MS) {
			kill(pid, SIGKILL);
			(void)waitpid(pid, &status, 0);
			return rst_err_set(reterr, ETIMEDOUT, NULL, 0,
					   "'%s -p' did not finish in %d ms", bird_bin,
					   CHECK_TIMEOUT_MS);
		}
		(void)poll(NULL, 0, 5);
	}
	if (r < 0)
		return rst_err_set(reterr, errno, NULL, 0, "waitpid: %s", strerror(errno));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;

	/* "bird: FILE:LINE:COL message\n" -> "FILE:LINE:COL message" */
	msg = out;
	if (strncmp(msg, "bird: ", 6) == 0)
		msg += 6;
	nl = strchr(msg, '\n');
	if (nl)
		*nl = '\0';
	if (!msg[0])
		msg = WIFSIGNALED(status) ? "killed by a signal" : "failed without a message";
	return rst_err_set(reterr, EINVAL, NULL, 0, "%s", msg);
}

/* ---- SHA-256 (FIPS 180-4) ------------------------------------------------ */

static const uint32_t sha256_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
	0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
	0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
	0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
	0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2,
};

static uint32_t ror(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

static void sha256_block(uint32_t h[8], const unsigned char *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, hh;

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);

		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
	for (int i = 0; i < 64; i++) {
		uint32_t t1 = hh + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) +
			      sha256_k[i] + w[i];
		uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));

		hh = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
	}
	h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
}

void bc_sha256_hex(const void *buf, size_t len, char out[65])
{
	uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
			 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
	const unsigned char *p = buf;
	unsigned char tail[128] = {0};
	size_t full = len / 64 * 64, rest = len - full, tlen;
	uint64_t bits = (uint64_t)len * 8;

	for (size_t i = 0; i < full; i += 64)
		sha256_block(h, p + i);
	if (rest)
		memcpy(tail, p + full, rest);
	tail[rest] = 0x80;
	tlen = rest + 1 + 8 <= 64 ? 64 : 128;
	for (int i = 0; i < 8; i++)
		tail[tlen - 1 - i] = (unsigned char)(bits >> (8 * i));
	sha256_block(h, tail);
	if (tlen == 128)
		sha256_block(h, tail + 64);
	for (int i = 0; i < 8; i++)
		snprintf(out + 8 * i, 9, "%08x", h[i]);
}
