/* SPDX-License-Identifier: MIT */
/*
 * curl-dl.h - libcurl, loaded with dlopen() when roostd first needs it (a
 * datastore: etcd or the Kubernetes API), not linked: its dependencies (TLS,
 * GSSAPI, LDAP, SSH, HTTP/2: 30 libraries) cost every roostd about 6 MiB of
 * RSS, and most nodes never talk to a datastore. The development headers
 * give the types; these are the functions roost uses.
 */
#ifndef ROOST_CURL_DL_H
#define ROOST_CURL_DL_H

#include <curl/curl.h>

struct curl_dl {
	CURLcode (*global_init)(long);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	void (*easy_cleanup)(CURL *);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_add_handle)(CURLM *, CURL *);
	CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
	CURLMcode (*multi_perform)(CURLM *, int *);
	CURLMcode (*multi_wait)(CURLM *, struct curl_waitfd *, unsigned, int, int *);
	CURLMsg *(*multi_info_read)(CURLM *, int *);
	CURLMcode (*multi_cleanup)(CURLM *);
	const char *(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
};

/* The functions, valid once curl_dl_load() returned 0. */
extern struct curl_dl curl_dl;

/* Loads libcurl once (thread-safe): 0, or -ENOSYS / -EIO with
 * curl_dl_error() saying why (the same answer on every later call). */
int curl_dl_load(void);
const char *curl_dl_error(void);

/* Frees a streaming transfer: h taken out of m (when both are set), then
 * each of h, m and hdr that is not NULL. */
void curl_dl_stream_free(CURLM *m, CURL *h, struct curl_slist *hdr);

#endif
