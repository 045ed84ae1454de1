/* SPDX-License-Identifier: MIT */
/*
 * curl-dl.c - libcurl loaded on first use (see curl-dl.h).
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>

#include "curl-dl.h"

struct curl_dl curl_dl;
static int err = -ENOSYS;
static char msg[256] = "libcurl not loaded";
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
	void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		snprintf(msg, sizeof(msg), "cannot load libcurl (Debian: libcurl4): %s", dlerror());
		return;
	}
#define SYM(field, sym)                                                                            \
	do {                                                                                       \
		*(void **)&curl_dl.field = dlsym(h, sym);                                          \
		if (!curl_dl.field) {                                                              \
			snprintf(msg, sizeof(msg), "libcurl has no %s", sym);                      \
			return;                                                                    \
		}                                                                                  \
	} while (0)
	SYM(global_init, "curl_global_init");
	SYM(easy_init, "curl_easy_init");
	SYM(easy_setopt, "curl_easy_setopt");
	SYM(easy_perform, "curl_easy_perform");
	SYM(easy_getinfo, "curl_easy_getinfo");
	SYM(easy_cleanup, "curl_easy_cleanup");
	SYM(multi_init, "curl_multi_init");
	SYM(multi_add_handle, "curl_multi_add_handle");
	SYM(multi_remove_handle, "curl_multi_remove_handle");
	SYM(multi_perform, "curl_multi_perform");
	SYM(multi_wait, "curl_multi_wait");
	SYM(multi_info_read, "curl_multi_info_read");
	SYM(multi_cleanup, "curl_multi_cleanup");
	SYM(easy_strerror, "curl_easy_strerror");
	SYM(slist_append, "curl_slist_append");
	SYM(slist_free_all, "curl_slist_free_all");
#undef SYM
	err = curl_dl.global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -EIO;
	snprintf(msg, sizeof(msg), "%s", err ? "curl_global_init failed" : "");
}

int curl_dl_load(void)
{
	pthread_once(&once, load);
	return err;
}

const char *curl_dl_error(void)
{
	return msg;
}

void curl_dl_stream_free(CURLM *m, CURL *h, struct curl_slist *hdr)
{
	if (m && h)
		curl_dl.multi_remove_handle(m, h); /* not added yet: refused, harmless */
	if (h)
		curl_dl.easy_cleanup(h);
	if (m)
		curl_dl.multi_cleanup(m);
	if (hdr)
		curl_dl.slist_free_all(hdr);
}
