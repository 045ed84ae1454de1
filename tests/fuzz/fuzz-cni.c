/* SPDX-License-Identifier: MIT */
/*
 * DOC: fuzz-cni.c - libFuzzer harness for the CNI plugin's decoders
 * (cni/roost.c): CNI_ARGS, the network config on stdin (prevResult for
 * CHECK, cni.dev/valid-attachments for GC, dns for ADD) and roostd's reply.
 *
 * The plugin's functions are static, so this file includes cni/roost.c with
 * its main() renamed. It calls the same steps cni_run() does, minus the
 * environment and the socket: nothing here connects anywhere (cni_run() and
 * cni_agent_call() are never called).
 *
 * Input: one verb byte, then CNI_ARGS up to a NUL byte, then stdin up to a
 * second NUL byte, then (optionally) the body of roostd's reply:
 *
 *   [verb % 6: ADD DEL CHECK STATUS GC VERSION] CNI_ARGS \0 stdin [\0 reply]
 *
 * The environment is fixed: CNI_CONTAINERID=fuzz0, CNI_IFNAME=eth0 and
 * CNI_NETNS=/var/run/netns/fuzz for the verbs that take them. The reply is
 * decoded as cni_agent_call() decodes it, then turned into the ADD result.
 * Every refusal must carry a CNI code of its class and a message, and the
 * error object must be printable (stdout goes to /dev/null).
 */
int roost_cni_main(void);
#define main roost_cni_main
#include "../../cni/roost.c"
#undef main

#include <stdint.h>

#define FUZZ_NAME "fuzz-cni"
#include "fuzz.h"


#define FUZZ_ARGS_MAX 4096

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* the plugin prints results and errors on stdout */
	if (!freopen("/dev/null", "w", stdout)) {
		perror("/dev/null");
		abort();
	}
	return 0;
}

/* A refusal: code in the expected set, a message, an error object that can
 * be printed whatever bytes the message holds. */
static void check_err(const struct cni_req *req, const struct cni_err *e, const int *codes,
		      size_t n_codes, const char *step)
{
	json_t *j;
	bool ok = false;

	for (size_t i = 0; i < n_codes; i++)
		ok = ok || e->code == codes[i];
	FUZZ_CHECK(ok, "%s: unexpected CNI code %d: %s", step, e->code, e->msg);
	FUZZ_CHECK(e->msg[0] != '\0', "%s: code %d without a message", step, e->code);
	j = cni_json_text(e->msg);
	FUZZ_CHECK(j != NULL, "%s: message not printable", step);
	json_decref(j);
	j = cni_json_text(e->details);
	FUZZ_CHECK(j != NULL, "%s: details not printable", step);
	json_decref(j);
	cni_err_print(req->version, e);
}

/* What cni_agent_call() does with roostd's reply once api_recv() has it. */
static void decode_reply(struct cni_req *req, const char *buf, size_t len)
{
	static const int codes[] = {CNI_ERR_IO, CNI_ERR_TRY_LATER, CNI_ERR_UNAVAILABLE};
	json_auto_t *reply = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL), *result = NULL;
	json_auto_t *out = NULL;
	struct cni_err e = {0};
	const json_t *ok, *res;
	int r;

	if (!json_is_object(reply))
		return; /* api_recv() refuses it; fuzz-api covers that side */
	ok = json_object_get(reply, "ok");
	if (!json_is_boolean(ok))
		return;
	if (!json_is_true(ok)) {
		r = cni_agent_error(req, json_object_get(reply, "error"), &e);
		FUZZ_CHECK(r < 0, "cni_agent_error succeeded");
		FUZZ_CHECK(e.code >= 1 && e.code <= 65535, "roostd error code %d passed on",
			   e.code);
		FUZZ_CHECK(e.msg[0] != '\0', "roostd error without a message");
		cni_err_print(req->version, &e);
		return;
	}
	res = json_object_get(reply, "result");
	if (res && !json_is_null(res) && !json_is_object(res))
		return;
	result = json_is_object(res) ? json_incref((json_t *)res) : NULL;
	if (req->verb != CNI_ADD)
		return;
	r = cni_result_build(req, result, &out, &e);
	if (r < 0) {
		check_err(req, &e, codes, ARRAY_SIZE(codes), "result");
		return;
	}
	FUZZ_CHECK(json_is_object(out), "ADD result is not an object");
	FUZZ_CHECK(json_array_size(json_object_get(out, "interfaces")) == 3,
		   "ADD result without three interfaces");
	FUZZ_CHECK(json_array_size(json_object_get(out, "ips")) == 1, "ADD result without one ip");
	FUZZ_CHECK(cni_print(out) == 0, "printing the result failed");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum cni_verb verbs[] = {CNI_ADD,	  CNI_DEL, CNI_CHECK,
					      CNI_STATUS, CNI_GC,  CNI_VERSION};
	static const int args_codes[] = {CNI_ERR_ENV, CNI_ERR_IO};
	static const int stdin_codes[] = {CNI_ERR_DECODE};
	static const int conf_codes[] = {CNI_ERR_VERSION, CNI_ERR_CONFIG, CNI_ERR_IO};
	const char *p = (const char *)data, *end = p + size, *nul;
	char args[FUZZ_ARGS_MAX + 1];
	const char *in, *reply = NULL;
	size_t in_len, args_len;
	struct cni_req req = {0};
	struct cni_err e = {0};
	int r;

	if (size < 1)
		return 0;
	req.verb = verbs[data[0] % ARRAY_SIZE(verbs)];
	p++;
	nul = memchr(p, '\0', (size_t)(end - p));
	args_len = (size_t)((nul ? nul : end) - p);
	if (args_len > FUZZ_ARGS_MAX)
		return 0; /* an environment this large is not what we fuzz */
	memcpy(args, p, args_len);
	args[args_len] = '\0';
	in = nul ? nul + 1 : end;
	nul = memchr(in, '\0', (size_t)(end - in));
	in_len = (size_t)((nul ? nul : end) - in);
	if (nul)
		reply = nul + 1;

	if (cni_verbs[req.verb].env & CNI_NEED_ID)
		req.container_id = "fuzz0";
	if (cni_verbs[req.verb].env & CNI_NEED_IFNAME)
		req.ifname = "eth0";
	if (cni_verbs[req.verb].env & (CNI_NEED_NETNS | CNI_USE_NETNS))
		req.netns = "/var/run/netns/fuzz";

	/* cni_run(): stdin first, so that errors carry the request's version */
	r = cni_conf_parse(in, in_len, &req.conf, &e);
	if (r == 0) {
		const char *v = json_string_value(json_object_get(req.conf, "cniVersion"));
		int idx = v ? cni_version_find(v) : -1;

		if (idx >= 0) {
			req.version = cni_versions[idx];
			req.version_idx = (unsigned)idx;
		}
	}
	if (req.verb == CNI_VERSION) {
		FUZZ_CHECK(cni_version_print(&req) == 0, "VERSION failed");
		goto out;
	}
	if (args[0] && (cni_verbs[req.verb].env & CNI_USE_ARGS)) {
		struct cni_err ae = {0};

		if (cni_args_check(args, &ae) < 0) {
			check_err(&req, &ae, args_codes, ARRAY_SIZE(args_codes), "CNI_ARGS");
			goto out;
		}
	}
	if (r < 0) {
		check_err(&req, &e, stdin_codes, ARRAY_SIZE(stdin_codes), "stdin");
		goto out;
	}
	r = cni_conf_check(&req, &e);
	if (r < 0) {
		check_err(&req, &e, conf_codes, ARRAY_SIZE(conf_codes), "config");
		goto out;
	}
	FUZZ_CHECK(req.name && cni_id_valid(req.name), "accepted a bad network name");
	FUZZ_CHECK(req.agent_socket && req.agent_socket[0] == '/', "accepted a bad agentSocket");
	FUZZ_CHECK(req.verb != CNI_CHECK || json_is_object(req.prev), "CHECK without prev");
	FUZZ_CHECK(req.verb != CNI_GC || json_is_array(req.valid), "GC without valid");
	FUZZ_CHECK(req.verb != CNI_ADD || json_is_object(req.dns), "ADD without dns");
	{
		/* what would go to roostd must be buildable */
		json_auto_t *msg = cni_agent_request(&req, -1);
		char *body;

		FUZZ_CHECK(msg != NULL, "cannot build the request to roostd");
		body = json_dumps(msg, JSON_COMPACT);
		FUZZ_CHECK(body != NULL, "cannot encode the request to roostd");
		free(body);
	}
	if (reply)
		decode_reply(&req, reply, (size_t)(end - reply));
out:
	cni_req_done(&req);
	return 0;
}
