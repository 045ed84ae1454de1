/* SPDX-License-Identifier: MIT */
/*
 * fuzz.h - what every libFuzzer harness here shares: the entry points
 * (declared, as -Wmissing-prototypes wants) and FUZZ_CHECK, which names the
 * harness (FUZZ_NAME, defined before including this), the failed condition
 * and a message, then aborts so libFuzzer saves the input.
 */
#ifndef ROOST_FUZZ_H
#define ROOST_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, ...)                                                                      \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, FUZZ_NAME ": check failed: %s (%s:%d): ", #cond,           \
				__FILE__, __LINE__);                                               \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#endif
