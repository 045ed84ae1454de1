/* SPDX-License-Identifier: MIT */
/*
 * DOC: test-cni.c - the built CNI plugin, run the way a container runtime
 * runs it.
 *
 * Every case execs $top_builddir/cni/roost with an explicit environment and
 * a network config on a stdin pipe, collects stdout, stderr and the exit
 * status, and checks them against the case's row of the table below (rows
 * name the lines of the CNI conformance checklist in docs/design.md they
 * cover).
 *
 * Behind the plugin sits a fake roostd: a thread that listens on a unix
 * socket in a mkdtemp directory, reads one request per connection with
 * api_recv(), keeps it, and answers as the row says: a canned reply body
 * (sent as is, so it may be malformed), a bad header, nothing at all, or a
 * closed connection. Rows that expect the plugin to refuse its input also
 * assert that the fake agent saw no connection: validation comes first.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "api-proto.h"
#include "rst-util.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

/* ---- the cases ---------------------------------------------------------- */

enum agent_mode {
	AGENT_REPLY,   /* answers with the row's reply body (default: ADD_OK) */
	AGENT_NONE,    /* no socket file at all: ENOENT */
	AGENT_STALE,   /* a socket file nobody listens on: ECONNREFUSED */
	AGENT_CLOSE,   /* reads the request, then closes without a reply */
	AGENT_GARBAGE, /* answers with a header of the wrong magic */
	AGENT_SILENT,  /* reads the request and never answers */
};

/* Special stdin contents (conf is otherwise sent as is). */
#define STDIN_2MIB "\001 2 MiB of spaces"
#define STDIN_DIR "\001 a directory (read fails with EISDIR)"

struct cni_case {
	const char *name;
	const char *env[12]; /* "K=V" sets, "K" unsets; applied in order */
	const char *conf;    /* stdin; @SOCK@ becomes the fake agent's path */
	enum agent_mode mode;
	const char *reply;   /* AGENT_REPLY body; NULL = ADD_OK */
	int code;	     /* CNI error code expected, 0 = exit 0 */
	const char *msg;     /* substring of the error's msg */
	const char *details; /* substring of the error's details */
	const char *version; /* the error's cniVersion */
	const char *out;     /* success: stdout, as JSON (compared with json_equal) */
	const char *req;     /* the request roostd must have received (json_equal) */
	bool contacts_agent; /* roostd gets exactly one request (else none) */
	const char *err_has; /* substring of stderr */
	int min_ms, max_ms;  /* bounds of the run time, 0 = none */
};

#define CID "c0ffee42"
#define NETNS "/proc/self/ns/net"
#define E_ADD                                                                                      \
	"CNI_COMMAND=ADD", "CNI_CONTAINERID=" CID, "CNI_NETNS=" NETNS, "CNI_IFNAME=eth0",          \
		"CNI_PATH=/opt/cni/bin"
#define E_DEL                                                                                      \
	"CNI_COMMAND=DEL", "CNI_CONTAINERID=" CID, "CNI_NETNS=" NETNS, "CNI_IFNAME=eth0",          \
		"CNI_PATH=/opt/cni/bin"
#define E_CHECK                                                                                    \
	"CNI_COMMAND=CHECK", "CNI_CONTAINERID=" CID, "CNI_NETNS=" NETNS, "CNI_IFNAME=eth0",        \
		"CNI_PATH=/opt/cni/bin"
/* libcni exports every variable, empty when the verb has no use for it */
#define E_GC                                                                                       \
	"CNI_COMMAND=GC", "CNI_CONTAINERID=", "CNI_NETNS=", "CNI_IFNAME=", "CNI_ARGS=",            \
		"CNI_PATH=/opt/cni/bin"
#define E_STATUS                                                                                   \
	"CNI_COMMAND=STATUS", "CNI_CONTAINERID=", "CNI_NETNS=", "CNI_IFNAME=", "CNI_ARGS=",        \
		"CNI_PATH=/opt/cni/bin"

#define CONF_HEAD(v) "{\"cniVersion\":\"" v "\",\"name\":\"roost\",\"type\":\"roost\","
#define CONF(v) CONF_HEAD(v) "\"agentSocket\":\"@SOCK@\"}"
#define CONF_X(v, extra) CONF_HEAD(v) "\"agentSocket\":\"@SOCK@\"," extra "}"

#define MAC_BR "0a:58:0a:f4:01:01"
#define MAC_HOST "ee:d1:2c:00:00:07"
#define MAC_POD "0a:58:0a:f4:01:02"
#define ADD_RESULT                                                                                 \
	"{\"bridge\":{\"name\":\"cni0\",\"mac\":\"" MAC_BR "\"},"                                  \
	"\"host\":{\"name\":\"veth5e1f2a3b\",\"mac\":\"" MAC_HOST "\"},"                           \
	"\"container\":{\"name\":\"eth0\",\"mac\":\"" MAC_POD "\",\"sandbox\":\"" NETNS "\"},"     \
	"\"mtu\":1450,\"ip\":{\"address\":\"10.244.1.2/24\",\"gateway\":\"10.244.1.1\"},"          \
	"\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"10.244.1.1\"},"                               \
	"{\"dst\":\"10.244.0.0/16\",\"gw\":\"10.244.1.1\"}]}"
#define ADD_OK "{\"ok\":true,\"result\":" ADD_RESULT "}"
#define OK_EMPTY "{\"ok\":true,\"result\":{}}"

/* The reference result shape (ADD-12), with what differs per version. */
#define RES_IFACES(mtu)                                                                            \
	"\"interfaces\":[{\"name\":\"cni0\",\"mac\":\"" MAC_BR "\"" mtu "},"                       \
	"{\"name\":\"veth5e1f2a3b\",\"mac\":\"" MAC_HOST "\"" mtu "},"                             \
	"{\"name\":\"eth0\",\"mac\":\"" MAC_POD "\",\"sandbox\":\"" NETNS "\"" mtu "}]"
#define RES_IPS(ver)                                                                               \
	"\"ips\":[{\"address\":\"10.244.1.2/24\"," ver "\"gateway\":\"10.244.1.1\","               \
	"\"interface\":2}]"
#define RES_ROUTES                                                                                 \
	"\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"10.244.1.1\"},"                               \
	"{\"dst\":\"10.244.0.0/16\",\"gw\":\"10.244.1.1\"}]"
#define RESULT(v, mtu, ver, dns)                                                                   \
	"{\"cniVersion\":\"" v "\"," RES_IFACES(mtu) "," RES_IPS(ver) "," RES_ROUTES               \
								      ",\"dns\":" dns "}"
#define RESULT_OLD(v) RESULT(v, "", "\"version\":\"4\",", "{}")

/* fd: "true" when the plugin passes the namespace as a file descriptor. */
#define REQ(verb, netns, fd)                                                                       \
	"{\"verb\":\"" verb "\",\"network\":\"roost\",\"container_id\":\"" CID "\","               \
	"\"ifname\":\"eth0\",\"netns\":\"" netns "\",\"netns_fd\":" fd "}"

/* An ADD result as libcni caches it and hands it back on CHECK and DEL. */
#define PREV_RESULT                                                                                \
	"\"prevResult\":{\"cniVersion\":\"1.0.0\","                                                \
	"\"interfaces\":[{\"name\":\"cni0\",\"mac\":\"" MAC_BR "\"},"                              \
	"{\"name\":\"veth5e1f2a3b\",\"mac\":\"" MAC_HOST "\"},"                                    \
	"{\"name\":\"eth0\",\"mac\":\"" MAC_POD "\",\"sandbox\":\"" NETNS "\"}],"                  \
	"\"ips\":[{\"address\":\"10.244.1.2/24\",\"gateway\":\"10.244.1.1\",\"interface\":2}],"    \
	"\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"10.244.1.1\"},{\"dst\":\"10.244.0.0/16\"}],"  \
	"\"dns\":{}}"

#define VERSIONS "[\"0.3.0\",\"0.3.1\",\"0.4.0\",\"1.0.0\",\"1.1.0\"]"
#define LONG_SOCK                                                                                  \
	"/run/roost/0123456789012345678901234567890123456789012345678901234567890123456789"        \
	"01234567890123456789012345678901234567890.sock"

static const struct cni_case cases[] = {
	/* ---- invocation and environment ---- */
	{.name = "ENV-02 unknown CNI_COMMAND",
	 .env = {"CNI_COMMAND=FOO", "CNI_CONTAINERID=" CID, "CNI_NETNS=" NETNS, "CNI_IFNAME=eth0"},
	 .conf = CONF("1.0.0"),
	 .code = 4,
	 .msg = "CNI_COMMAND",
	 .details = "'FOO'",
	 .version = "1.0.0"},
	{.name = "ENV-02 verbs are case-sensitive",
	 .env = {E_ADD, "CNI_COMMAND=add"},
	 .conf = CONF("1.0.0"),
	 .code = 4,
	 .msg = "unknown CNI_COMMAND: add"},
	{.name = "ENV-03 CNI_COMMAND unset prints about on stderr",
	 .env = {E_ADD, "CNI_COMMAND"},
	 .conf = CONF("1.0.0"),
	 .err_has = "CNI protocol versions supported: 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0"},
	{.name = "ENV-03 empty CNI_COMMAND counts as unset",
	 .env = {E_ADD, "CNI_COMMAND="},
	 .conf = CONF("1.0.0"),
	 .err_has = "roost CNI plugin"},
	{.name = "ENV-04/05 ADD lists every missing variable",
	 .env = {"CNI_COMMAND=ADD", "CNI_IFNAME=eth0"},
	 .conf = CONF("1.0.0"),
	 .code = 4,
	 .msg = "required env variables [CNI_CONTAINERID,CNI_NETNS] missing",
	 .version = "1.0.0"},
	{.name = "ENV-04/05 CHECK lists all three",
	 .env = {"CNI_COMMAND=CHECK"},
	 .conf = CONF_X("1.0.0", PREV_RESULT),
	 .code = 4,
	 .msg = "required env variables [CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME] missing"},
	{.name = "ENV-04/05 DEL needs CNI_IFNAME",
	 .env = {E_DEL, "CNI_IFNAME"},
	 .conf = CONF("1.0.0"),
	 .code = 4,
	 .msg = "required env variables [CNI_IFNAME] missing"},
	{.name = "ENV-04 DEL without CNI_NETNS reaches roostd",
	 .env = {E_DEL, "CNI_NETNS"},
	 .conf = CONF("1.0.0"),
	 .reply = OK_EMPTY,
	 .req = REQ("DEL", "", "false"),
	 .contacts_agent = true},
	{.name = "ENV-06 empty CNI_NETNS counts as missing",
	 .env = {E_ADD, "CNI_NETNS="},
	 .conf = CONF("1.0.0"),
	 .code = 4,
	 .msg = "[CNI_NETNS]"},
	{.name = "ENV-06 VERSION ignores libcni's dummy values",
	 .env = {"CNI_COMMAND=VERSION", "CNI_NETNS=dummy", "CNI_IFNAME=dummy", "CNI_PATH=dummy"},
	 .conf = "{\"cniVersion\":\"1.0.0\"}",
	 .out = "{\"cniVersion\":\"1.0.0\",\"supportedVersions\":" VERSIONS "}"},
	{.name = "ENV-07 container id with a bad first character",
	 .env = {E_ADD, "CNI_CONTAINERID=-c0ffee"},
	 .conf = CONF("1.0.0"),
	 .code = 4,
	 .msg = "CNI_CONTAINERID",
	 .details = "'-c0ffee'"},
	{.name = "ENV-07 container id with a slash",
	 .env = {E_DEL, "CNI_CONTAINERID=ab/../cd"},
	 .conf = CONF("1.0.0"),
	 .code = 4,
	 .msg = "CNI_CONTAINERID",
	 .details = "'ab/../cd'"},
	{.name = "ENV-07 container id with all allowed characters",
	 .env = {E_DEL, "CNI_CONTAINERID=Ab9_.-z"},
	 .conf = CONF("1.0.0"),
	 .reply = OK_EMPTY,
	 .contacts_agent = true,
	 .req = "{\"verb\":\"DEL\",\"network\":\"roost\",\"container_id\":\"Ab9_.-z\","
		"\"ifname\":\"eth0\",\"netns\":\"" NETNS "\",\"netns_fd\":true}"},
	{.name = "ENV-08 interface name of 16 bytes",
	 .env = {E_ADD, "CNI_IFNAME=eth0123456789abc"},
	 .conf = CONF("1.0.0"),
	 .code = 4,
	 .msg = "too long",
	 .details = "'eth0123456789abc'"},
	{.name = "ENV-08 interface name '.'",
	 .env = {E_ADD, "CNI_IFNAME=."},
	 .conf = CONF("1.0.0"),
	 .code = 4,
	 .msg = "CNI_IFNAME"},
	{.name = "ENV-08 interface name '..'",
	 .env = {E_DEL, "CNI_IFNAME=.."},
	 .conf = CONF("1.0.0"),
	 .code = 4,
	 .msg = "CNI_IFNAME"},
	{.name = "ENV-08 interface name with '/'",
	 .env = {E_ADD, "CNI_IFNAME=a/b"},
	 .conf = CONF("1.0.0"),
	 .code = 4,
	 .msg = "CNI_IFNAME",
	 .details = "'a/b'"},
	{.name = "ENV-08 interface name with ':'",
	 .env = {E_ADD, "CNI_IFNAME=eth0:1"},
	 .conf = CONF("1.0.0"),
	 .code = 4,
	 .msg = "CNI_IFNAME"},
	{.name = "ENV-08 interface name with a space",
	 .env = {E_CHECK, "CNI_IFNAME=eth 0"},
	 .conf = CONF_X("1.0.0", PREV_RESULT),
	 .code = 4,
	 .msg = "CNI_IFNAME"},
	{.name = "ENV-08 interface name of 15 bytes is fine",
	 .env = {E_DEL, "CNI_IFNAME=eth0123456789ab"},
	 .conf = CONF("1.0.0"),
	 .reply = OK_EMPTY,
	 .contacts_agent = true},
	{.name = "ENV-09 ADD with a netns that does not exist",
	 .env = {E_ADD, "CNI_NETNS=/run/netns/roost-test-nonexistent"},
	 .conf = CONF("1.0.0"),
	 .code = 4,
	 .msg = "CNI_NETNS",
	 .details = "/run/netns/roost-test-nonexistent"},
	{.name = "ENV-09 CHECK with a netns that does not exist",
	 .env = {E_CHECK, "CNI_NETNS=/run/netns/roost-test-nonexistent"},
	 .conf = CONF_X("1.0.0", PREV_RESULT),
	 .code = 4,
	 .msg = "CNI_NETNS",
	 .details = "/run/netns/roost-test-nonexistent"},
	{.name = "ENV-09 relative netns path",
	 .env = {E_ADD, "CNI_NETNS=proc/self/ns/net"},
	 .conf = CONF("1.0.0"),
	 .code = 4,
	 .msg = "CNI_NETNS",
	 .details = "'proc/self/ns/net'"},
	{.name = "ENV-09/DEL-01 DEL with a netns that is gone still reaches roostd",
	 .env = {E_DEL, "CNI_NETNS=/run/netns/roost-test-gone"},
	 .conf = CONF("1.0.0"),
	 .reply = OK_EMPTY,
	 .contacts_agent = true,
	 .req = REQ("DEL", "/run/netns/roost-test-gone", "false")},
	{.name = "ENV-11 kubelet's CNI_ARGS",
	 .env = {E_ADD, "CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;"
			"K8S_POD_INFRA_CONTAINER_ID=" CID ";K8S_POD_UID=9f1c2d3e-1111-2222"},
	 .conf = CONF("1.0.0"),
	 .contacts_agent = true,
	 .out = RESULT("1.0.0", "", "", "{}")},
	{.name = "ENV-12 unknown CNI_ARGS key",
	 .env = {E_ADD, "CNI_ARGS=K8S_POD_NAME=web-0;FOO=bar;BAZ=1"},
	 .conf = CONF("1.0.0"),
	 .code = 4,
	 .msg = "unknown args [FOO,BAZ]",
	 .details = "IgnoreUnknown"},
	{.name = "ENV-12 unknown CNI_ARGS key with IgnoreUnknown=true",
	 .env = {E_DEL, "CNI_ARGS=FOO=bar;IgnoreUnknown=true"},
	 .conf = CONF("1.0.0"),
	 .reply = OK_EMPTY,
	 .contacts_agent = true},
	{.name = "ENV-12 IgnoreUnknown=0 does not ignore",
	 .env = {E_DEL, "CNI_ARGS=IgnoreUnknown=0;FOO=bar"},
	 .conf = CONF("1.0.0"),
	 .code = 4,
	 .msg = "unknown args [FOO]"},
	{.name = "ENV-12 CNI_ARGS pair without '='",
	 .env = {E_ADD, "CNI_ARGS=K8S_POD_NAME=web-0;junk"},
	 .conf = CONF("1.0.0"),
	 .code = 4,
	 .msg = "CNI_ARGS",
	 .details = "K8S_POD_NAME=web-0;junk"},
	{.name = "ENV-12 a newline inside a CNI_ARGS value stays in msg",
	 .env = {E_ADD, "CNI_ARGS=K8S_POD_NAME=web-0;ju\nnk"},
	 .conf = CONF("1.0.0"),
	 .code = 4,
	 .msg = "pair 'ju\nnk' is not KEY=VALUE",
	 .details = "K8S_POD_NAME=web-0;ju\nnk"},
	{.name = "ENV-12 IgnoreUnknown that is not a boolean",
	 .env = {E_ADD, "CNI_ARGS=IgnoreUnknown=maybe"},
	 .conf = CONF("1.0.0"),
	 .code = 4,
	 .msg = "IgnoreUnknown='maybe'"},
	{.name = "ENV-06 GC ignores CNI_ARGS and empty attachment variables",
	 .env = {E_GC, "CNI_ARGS=junk"},
	 .conf = CONF_X("1.1.0", "\"cni.dev/valid-attachments\":[]"),
	 .reply = OK_EMPTY,
	 .contacts_agent = true},
	{.name = "ENV-13 ADD without CNI_PATH",
	 .env = {E_ADD, "CNI_PATH"},
	 .conf = CONF("1.0.0"),
	 .contacts_agent = true,
	 .out = RESULT("1.0.0", "", "", "{}")},
	{.name = "ENV-13 STATUS without CNI_PATH",
	 .env = {E_STATUS, "CNI_PATH"},
	 .conf = CONF("1.1.0"),
	 .reply = OK_EMPTY,
	 .contacts_agent = true},
	{.name = "ENV-13 GC without CNI_PATH",
	 .env = {E_GC, "CNI_PATH"},
	 .conf = CONF_X("1.1.0", "\"cni.dev/valid-attachments\":[]"),
	 .reply = OK_EMPTY,
	 .contacts_agent = true},
	{.name = "ENV-15 the runtime's own environment is ignored",
	 .env = {E_ADD, "TRACEPARENT=00-0af7651916cd43dd-b7ad6b7169203331-01", "HOME=/root"},
	 .conf = CONF("1.0.0"),
	 .contacts_agent = true,
	 .out = RESULT("1.0.0", "", "", "{}")},

	/* ---- stdin ---- */
	{.name = "CFG-02 unreadable stdin",
	 .env = {E_ADD},
	 .conf = STDIN_DIR,
	 .code = 5,
	 .msg = "I/O failure",
	 .details = "stdin"},
	{.name = "CFG-02 invalid JSON reports the position",
	 .env = {E_ADD},
	 .conf = "{\"cniVersion\":\"1.0.0\",\n\"name\": roost}",
	 .code = 6,
	 .msg = "not valid JSON",
	 .details = "line 2, column"},
	{.name = "CFG-02 empty stdin",
	 .env = {E_ADD},
	 .conf = "",
	 .code = 6,
	 .msg = "not valid JSON"},
	{.name = "CFG-02 a JSON array",
	 .env = {E_DEL},
	 .conf = "[" CONF("1.0.0") "]",
	 .code = 6,
	 .msg = "not a JSON object",
	 .details = "array"},
	{.name = "CFG-02 stdin of 2 MiB fails fast",
	 .env = {E_ADD},
	 .conf = STDIN_2MIB,
	 .code = 6,
	 .msg = "larger than 1 MiB",
	 .max_ms = 5000},
	{.name = "CFG-02 missing name",
	 .env = {E_ADD},
	 .conf = "{\"cniVersion\":\"1.0.0\",\"type\":\"roost\"}",
	 .code = 7,
	 .msg = "'name'",
	 .version = "1.0.0"},
	{.name = "CFG-02 name with a space",
	 .env = {E_ADD},
	 .conf = "{\"cniVersion\":\"1.0.0\",\"name\":\"my net\",\"type\":\"roost\"}",
	 .code = 7,
	 .msg = "network name",
	 .details = "'my net'"},
	{.name = "CFG-02 name that is not a string",
	 .env = {E_ADD},
	 .conf = "{\"cniVersion\":\"1.0.0\",\"name\":7,\"type\":\"roost\"}",
	 .code = 7,
	 .msg = "'name' is not a string"},
	{.name = "CFG-02 missing cniVersion",
	 .env = {E_ADD},
	 .conf = "{\"name\":\"roost\",\"type\":\"roost\"}",
	 .code = 7,
	 .msg = "'cniVersion'",
	 .version = "1.1.0"},
	{.name = "CFG-02 cniVersion that is not a string",
	 .env = {E_ADD},
	 .conf = "{\"cniVersion\":1.0,\"name\":\"roost\",\"type\":\"roost\"}",
	 .code = 7,
	 .msg = "'cniVersion' is not a string"},
	{.name = "CFG-02 missing type",
	 .env = {E_ADD},
	 .conf = "{\"cniVersion\":\"1.0.0\",\"name\":\"roost\"}",
	 .code = 7,
	 .msg = "'type'"},
	{.name = "CFG-02 type of another plugin",
	 .env = {E_ADD},
	 .conf = "{\"cniVersion\":\"1.0.0\",\"name\":\"roost\",\"type\":\"bridge\"}",
	 .code = 7,
	 .msg = "type 'bridge'"},
	{.name = "CFG-03 unsupported cniVersion",
	 .env = {E_ADD},
	 .conf = CONF("9.9.9"),
	 .code = 1,
	 .msg = "incompatible CNI versions",
	 .details = "'9.9.9', plugin supports [0.3.0, 0.3.1, "
		    "0.4.0, 1.0.0, 1.1.0]",
	 .version = "1.1.0"},
	{.name = "CFG-03 0.2.0 is not claimed",
	 .env = {E_DEL},
	 .conf = CONF("0.2.0"),
	 .code = 1,
	 .details = "'0.2.0'"},
	{.name = "CFG-04/05/06/08 unknown and well-known keys are tolerated",
	 .env = {E_ADD},
	 .conf = CONF_X("1.0.0",
			"\"capabilities\":{\"portMappings\":true},"
			"\"runtimeConfig\":{\"portMappings\":[]},"
			"\"args\":{\"cni\":{\"ips\":[\"10.244.1.9\"]}},\"ipMasq\":false,"
			"\"ipam\":{\"type\":\"host-local\"},\"mtu\":1450,\"frobnicate\":[1]"),
	 .contacts_agent = true,
	 .out = RESULT("1.0.0", "", "", "{}")},
	{.name = "CFG-09 dns of the config goes into the result",
	 .env = {E_ADD},
	 .conf = CONF_X("1.0.0", "\"dns\":{\"nameservers\":[\"10.96.0.10\"],"
				 "\"domain\":\"cluster.local\",\"search\":[\"svc.cluster.local\"],"
				 "\"options\":[\"ndots:5\"]}"),
	 .contacts_agent = true,
	 .out = RESULT("1.0.0", "", "",
		       "{\"nameservers\":[\"10.96.0.10\"],\"domain\":\"cluster.local\","
		       "\"search\":[\"svc.cluster.local\"],\"options\":[\"ndots:5\"]}")},
	{.name = "CFG-09/10 dns that is not an object",
	 .env = {E_ADD},
	 .conf = CONF_X("1.0.0", "\"dns\":\"10.96.0.10\""),
	 .code = 7,
	 .msg = "'dns'"},
	{.name = "CFG-09/10 dns.nameservers that is not a list",
	 .env = {E_ADD},
	 .conf = CONF_X("1.0.0", "\"dns\":{\"nameservers\":\"10.96.0.10\"}"),
	 .code = 7,
	 .msg = "dns.nameservers"},
	{.name = "CFG-10 relative agentSocket",
	 .env = {E_ADD},
	 .conf = CONF_HEAD("1.0.0") "\"agentSocket\":\"run/roostd.sock\"}",
	 .code = 7,
	 .msg = "agentSocket 'run/roostd.sock'",
	 .details = "absolute"},
	{.name = "CFG-10 agentSocket too long for sun_path",
	 .env = {E_DEL},
	 .conf = CONF_HEAD("1.0.0") "\"agentSocket\":\"" LONG_SOCK "\"}",
	 .code = 7,
	 .msg = "agentSocket",
	 .details = "shorter than 108 bytes"},
	{.name = "CFG-10 agentSocket that is not a string",
	 .env = {E_DEL},
	 .conf = CONF_HEAD("1.0.0") "\"agentSocket\":true}",
	 .code = 7,
	 .msg = "'agentSocket' is not a string"},

	/* ---- ADD ---- */
	{.name = "ADD-06 0.3.0 result has ips[].version",
	 .env = {E_ADD},
	 .conf = CONF("0.3.0"),
	 .contacts_agent = true,
	 .out = RESULT_OLD("0.3.0")},
	{.name = "ADD-06 0.3.1 result has ips[].version",
	 .env = {E_ADD},
	 .conf = CONF("0.3.1"),
	 .contacts_agent = true,
	 .out = RESULT_OLD("0.3.1")},
	{.name = "ADD-06 0.4.0 result has ips[].version",
	 .env = {E_ADD},
	 .conf = CONF("0.4.0"),
	 .contacts_agent = true,
	 .out = RESULT_OLD("0.4.0")},
	{.name = "ADD-06..12 1.0.0 result and the request roostd gets",
	 .env = {E_ADD},
	 .conf = CONF("1.0.0"),
	 .contacts_agent = true,
	 .req = REQ("ADD", NETNS, "true"),
	 .out = RESULT("1.0.0", "", "", "{}")},
	{.name = "ADD-07 1.1.0 result carries mtu",
	 .env = {E_ADD},
	 .conf = CONF("1.1.0"),
	 .contacts_agent = true,
	 .out = RESULT("1.1.0", ",\"mtu\":1450", "", "{}")},
	{.name = "ADD-07 sandbox is CNI_NETNS verbatim, the name is CNI_IFNAME",
	 .env = {E_ADD, "CNI_NETNS=/proc/self/../self/ns/net"},
	 .conf = CONF("1.0.0"),
	 .contacts_agent = true,
	 .reply = "{\"ok\":true,\"result\":{\"bridge\":{\"name\":\"cni0\"},\"host\":{\"name\":"
		  "\"veth1\"},\"container\":{\"mac\":\"" MAC_POD "\"},\"ip\":{\"address\":"
		  "\"10.244.1.3/24\",\"gateway\":\"10.244.1.1\"},\"routes\":[]}}",
	 .out = "{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"cni0\"},{\"name\":\"veth1\"},"
		"{\"name\":\"eth0\",\"mac\":\"" MAC_POD
		"\",\"sandbox\":\"/proc/self/../self/ns/net\"}"
		"],\"ips\":[{\"address\":\"10.244.1.3/24\",\"gateway\":\"10.244.1.1\","
		"\"interface\":2}],\"routes\":[],\"dns\":{}}"},
	{.name = "ADD dual-stack: ip and ip6 become ips[0] and ips[1], routes of both families",
	 .env = {E_ADD},
	 .conf = CONF("1.0.0"),
	 .contacts_agent = true,
	 .reply = "{\"ok\":true,\"result\":{\"bridge\":{\"name\":\"cni0\"},\"host\":{\"name\":"
		  "\"veth1\"},\"container\":{\"mac\":\"" MAC_POD "\"},\"ip\":{\"address\":"
		  "\"10.244.1.3/24\",\"gateway\":\"10.244.1.1\"},\"ip6\":{\"address\":"
		  "\"fd00:10:244:1::3/64\",\"gateway\":\"fd00:10:244:1::1\"},\"routes\":["
		  "{\"dst\":\"0.0.0.0/0\",\"gw\":\"10.244.1.1\"},"
		  "{\"dst\":\"::/0\",\"gw\":\"fd00:10:244:1::1\"}]}}",
	 .out = "{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"cni0\"},{\"name\":\"veth1\"},"
		"{\"name\":\"eth0\",\"mac\":\"" MAC_POD "\",\"sandbox\":\"" NETNS "\"}"
		"],\"ips\":[{\"address\":\"10.244.1.3/24\",\"gateway\":\"10.244.1.1\","
		"\"interface\":2},{\"address\":\"fd00:10:244:1::3/64\",\"gateway\":"
		"\"fd00:10:244:1::1\",\"interface\":2}],\"routes\":["
		"{\"dst\":\"0.0.0.0/0\",\"gw\":\"10.244.1.1\"},"
		"{\"dst\":\"::/0\",\"gw\":\"fd00:10:244:1::1\"}],\"dns\":{}}"},
	{.name = "ADD dual-stack 0.3.1: each ips[] entry says its version",
	 .env = {E_ADD},
	 .conf = CONF("0.3.1"),
	 .contacts_agent = true,
	 .reply = "{\"ok\":true,\"result\":{\"bridge\":{\"name\":\"cni0\"},\"host\":{\"name\":"
		  "\"veth1\"},\"container\":{\"mac\":\"" MAC_POD "\"},\"ip\":{\"address\":"
		  "\"10.244.1.3/24\"},\"ip6\":{\"address\":\"fd00:10:244:1::3/64\"},"
		  "\"routes\":[]}}",
	 .out = "{\"cniVersion\":\"0.3.1\",\"interfaces\":[{\"name\":\"cni0\"},{\"name\":\"veth1\"},"
		"{\"name\":\"eth0\",\"mac\":\"" MAC_POD "\",\"sandbox\":\"" NETNS "\"}"
		"],\"ips\":[{\"address\":\"10.244.1.3/24\",\"version\":\"4\",\"interface\":2},"
		"{\"address\":\"fd00:10:244:1::3/64\",\"version\":\"6\",\"interface\":2}],"
		"\"routes\":[],\"dns\":{}}"},
	{.name = "ADD dual-stack: a malformed ip6 is a bad result",
	 .env = {E_ADD},
	 .conf = CONF("1.0.0"),
	 .contacts_agent = true,
	 .reply = "{\"ok\":true,\"result\":{\"bridge\":{\"name\":\"cni0\"},\"host\":{\"name\":"
		  "\"veth1\"},\"container\":{},\"ip\":{\"address\":\"10.244.1.3/24\"},"
		  "\"ip6\":{\"address\":\"fd00:10:244:1::3\"},\"routes\":[]}}",
	 .code = 11,
	 .msg = "'ip6.address' is not an address/prefix",
	 .version = "1.0.0"},
	{.name = "ADD-04 prevResult present",
	 .env = {E_ADD},
	 .conf = CONF_X("1.0.0", PREV_RESULT),
	 .code = 7,
	 .msg = "first plugin in the chain",
	 .version = "1.0.0"},
	{.name = "ADD-04 empty prevResult is no previous result",
	 .env = {E_ADD},
	 .conf = CONF_X("1.0.0", "\"prevResult\":{}"),
	 .contacts_agent = true,
	 .out = RESULT("1.0.0", "", "", "{}")},
	{.name = "ADD roostd error is passed through",
	 .env = {E_ADD},
	 .conf = CONF("1.0.0"),
	 .reply = "{\"ok\":false,\"error\":{\"code\":100,\"msg\":\"no free address in "
		  "10.244.1.0/24\",\"details\":\"253 of 253 addresses in use\"}}",
	 .contacts_agent = true,
	 .code = 100,
	 .msg = "no free address in 10.244.1.0/24",
	 .details = "253 of 253",
	 .version = "1.0.0"},
	{.name = "ADD result without ip is malformed",
	 .env = {E_ADD},
	 .conf = CONF("1.0.0"),
	 .reply = "{\"ok\":true,\"result\":{\"bridge\":{\"name\":\"cni0\"},\"host\":{\"name\":"
		  "\"veth1\"},\"container\":{}}}",
	 .contacts_agent = true,
	 .code = 11,
	 .msg = "malformed reply from roostd",
	 .details = "@SOCK@"},
	{.name = "ADD reply without a result is malformed",
	 .env = {E_ADD},
	 .conf = CONF("1.0.0"),
	 .reply = "{\"ok\":true}",
	 .contacts_agent = true,
	 .code = 11,
	 .msg = "malformed reply from roostd"},
	{.name = "ADD reply without 'ok' is malformed",
	 .env = {E_ADD},
	 .conf = CONF("1.0.0"),
	 .reply = "{\"result\":" ADD_RESULT "}",
	 .contacts_agent = true,
	 .code = 11,
	 .msg = "malformed reply from roostd: no boolean 'ok'"},
	{.name = "ADD reply body that is not JSON is malformed",
	 .env = {E_ADD},
	 .conf = CONF("1.0.0"),
	 .reply = "{ok: yes",
	 .contacts_agent = true,
	 .code = 11,
	 .msg = "malformed reply from roostd"},
	{.name = "ADD reply error without a code is malformed",
	 .env = {E_ADD},
	 .conf = CONF("1.0.0"),
	 .reply = "{\"ok\":false,\"error\":{\"msg\":\"x\"}}",
	 .contacts_agent = true,
	 .code = 11,
	 .msg = "malformed reply from roostd"},
	{.name = "ADD reply with a garbage header is malformed",
	 .env = {E_ADD},
	 .conf = CONF("1.0.0"),
	 .mode = AGENT_GARBAGE,
	 .contacts_agent = true,
	 .code = 11,
	 .msg = "malformed reply from roostd",
	 .details = "@SOCK@"},
	{.name = "ADD roostd closes without a reply",
	 .env = {E_ADD},
	 .conf = CONF("1.0.0"),
	 .mode = AGENT_CLOSE,
	 .contacts_agent = true,
	 .code = 11,
	 .msg = "roostd is not reachable at '@SOCK@': connection closed"},
	{.name = "ADD roostd down",
	 .env = {E_ADD},
	 .conf = CONF("0.4.0"),
	 .mode = AGENT_NONE,
	 .code = 11,
	 .msg = "roostd is not reachable at '@SOCK@'",
	 .version = "0.4.0"},

	/* ---- DEL ---- */
	{.name = "DEL-01 success prints nothing",
	 .env = {E_DEL},
	 .conf = CONF("1.0.0"),
	 .reply = OK_EMPTY,
	 .contacts_agent = true,
	 .req = REQ("DEL", NETNS, "true")},
	{.name = "DEL-01/07 DEL with a bridge prevResult",
	 .env = {E_DEL},
	 .conf = CONF_X("1.0.0", PREV_RESULT),
	 .reply = OK_EMPTY,
	 .contacts_agent = true},
	{.name = "DEL-06 roostd socket missing",
	 .env = {E_DEL},
	 .conf = CONF("1.0.0"),
	 .mode = AGENT_NONE,
	 .code = 11,
	 .msg = "roostd is not reachable at '@SOCK@'",
	 .version = "1.0.0"},
	{.name = "DEL-06 roostd socket refuses",
	 .env = {E_DEL},
	 .conf = CONF("1.1.0"),
	 .mode = AGENT_STALE,
	 .code = 11,
	 .msg = "Connection refused"},
	{.name = "DEL roostd error is passed through",
	 .env = {E_DEL},
	 .conf = CONF("0.3.1"),
	 .reply = "{\"ok\":false,\"error\":{\"code\":102,\"msg\":\"veth delete failed\"}}",
	 .contacts_agent = true,
	 .code = 102,
	 .msg = "veth delete failed",
	 .version = "0.3.1"},

	/* ---- CHECK ---- */
	{.name = "CHK-02 CHECK forwards prevResult as prev",
	 .env = {E_CHECK},
	 .conf = CONF_X("1.0.0", PREV_RESULT),
	 .reply = OK_EMPTY,
	 .contacts_agent = true,
	 .req = "{\"verb\":\"CHECK\",\"network\":\"roost\",\"container_id\":\"" CID "\","
		"\"ifname\":\"eth0\",\"netns\":\"" NETNS "\",\"netns_fd\":true,"
		"\"prev\":{\"ips\":[\"10.244.1.2/24\"],"
		"\"mac\":\"" MAC_POD "\",\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"10.244.1.1\"},"
		"{\"dst\":\"10.244.0.0/16\"}]}}"},
	{.name = "CFG-07/CHK-02 CHECK without prevResult",
	 .env = {E_CHECK},
	 .conf = CONF("1.0.0"),
	 .code = 7,
	 .msg = "Required prevResult missing",
	 .version = "1.0.0"},
	{.name = "CHK-01 CHECK on 0.3.1",
	 .env = {E_CHECK},
	 .conf = CONF_X("0.3.1", PREV_RESULT),
	 .code = 1,
	 .msg = "config version does not allow CHECK",
	 .version = "0.3.1"},
	{.name = "CHK-02 prevResult without the container interface",
	 .env = {E_CHECK, "CNI_IFNAME=net1"},
	 .conf = CONF_X("1.0.0", PREV_RESULT),
	 .code = 7,
	 .msg = "no interface 'net1'"},
	{.name = "CHK-02 prevResult with a bad address",
	 .env = {E_CHECK},
	 .conf = CONF_X("1.0.0", "\"prevResult\":{\"interfaces\":[{\"name\":\"eth0\","
				 "\"sandbox\":\"" NETNS "\"}],\"ips\":[{\"address\":\"10.244.1.2\","
				 "\"interface\":0}]}"),
	 .code = 7,
	 .msg = "prevResult.ips[0].address",
	 .details = "'10.244.1.2'"},
	{.name = "CHK-02 prevResult ips[].interface out of range",
	 .env = {E_CHECK},
	 .conf = CONF_X("1.0.0", "\"prevResult\":{\"interfaces\":[{\"name\":\"eth0\","
				 "\"sandbox\":\"" NETNS "\"}],\"ips\":[{\"address\":"
				 "\"10.244.1.2/24\",\"interface\":3}]}"),
	 .code = 7,
	 .msg = "prevResult.ips[0].interface"},
	{.name = "CHK-05 roostd reports a missing address",
	 .env = {E_CHECK},
	 .conf = CONF_X("0.4.0", PREV_RESULT),
	 .reply = "{\"ok\":false,\"error\":{\"code\":102,\"msg\":\"address 10.244.1.2/24 missing "
		  "on eth0\"}}",
	 .contacts_agent = true,
	 .code = 102,
	 .msg = "10.244.1.2/24 missing",
	 .version = "0.4.0"},

	/* ---- VERSION ---- */
	{.name = "VER-01 VERSION with empty stdin",
	 .env = {"CNI_COMMAND=VERSION"},
	 .conf = "",
	 .out = "{\"cniVersion\":\"1.1.0\",\"supportedVersions\":" VERSIONS "}"},
	{.name = "VER-02 VERSION echoes 0.4.0",
	 .env = {"CNI_COMMAND=VERSION"},
	 .conf = "{\"cniVersion\":\"0.4.0\"}",
	 .out = "{\"cniVersion\":\"0.4.0\",\"supportedVersions\":" VERSIONS "}"},
	{.name = "VER-02 VERSION with an unknown version answers the newest",
	 .env = {"CNI_COMMAND=VERSION"},
	 .conf = "{\"cniVersion\":\"9.9.9\"}",
	 .out = "{\"cniVersion\":\"1.1.0\",\"supportedVersions\":" VERSIONS "}"},
	{.name = "VER-01 VERSION ignores a config it cannot parse",
	 .env = {"CNI_COMMAND=VERSION"},
	 .conf = "not json",
	 .out = "{\"cniVersion\":\"1.1.0\",\"supportedVersions\":" VERSIONS "}"},

	/* ---- GC ---- */
	{.name = "GC-03 forwards cni.dev/valid-attachments",
	 .env = {E_GC},
	 .conf = CONF_X("1.1.0", "\"cni.dev/valid-attachments\":[{\"containerID\":\"" CID "\","
				 "\"ifname\":\"eth0\"},{\"containerID\":\"d00d\",\"ifname\":"
				 "\"net1\"}]"),
	 .reply = "{\"ok\":true,\"result\":{\"released\":[]}}",
	 .contacts_agent = true,
	 .req = "{\"verb\":\"GC\",\"network\":\"roost\",\"valid\":[{\"container_id\":\"" CID "\","
		"\"ifname\":\"eth0\"},{\"container_id\":\"d00d\",\"ifname\":\"net1\"}]}"},
	{.name = "CFG-11 GC falls back to cni.dev/attachments",
	 .env = {E_GC},
	 .conf = CONF_X("1.1.0", "\"cni.dev/attachments\":[{\"containerID\":\"d00d\","
				 "\"ifname\":\"net1\"}]"),
	 .reply = OK_EMPTY,
	 .contacts_agent = true,
	 .req = "{\"verb\":\"GC\",\"network\":\"roost\",\"valid\":[{\"container_id\":\"d00d\","
		"\"ifname\":\"net1\"}]}"},
	{.name = "CFG-11 GC prefers valid-attachments over attachments",
	 .env = {E_GC},
	 .conf = CONF_X("1.1.0", "\"cni.dev/attachments\":[],\"cni.dev/valid-attachments\":"
				 "[{\"containerID\":\"d00d\",\"ifname\":\"net1\"}]"),
	 .reply = OK_EMPTY,
	 .contacts_agent = true,
	 .req = "{\"verb\":\"GC\",\"network\":\"roost\",\"valid\":[{\"container_id\":\"d00d\","
		"\"ifname\":\"net1\"}]}"},
	{.name = "GC-04 empty list is forwarded",
	 .env = {E_GC},
	 .conf = CONF_X("1.1.0", "\"cni.dev/valid-attachments\":[]"),
	 .reply = OK_EMPTY,
	 .contacts_agent = true,
	 .req = "{\"verb\":\"GC\",\"network\":\"roost\",\"valid\":[]}"},
	{.name = "GC-09 neither key present releases nothing",
	 .env = {E_GC},
	 .conf = CONF("1.1.0"),
	 .code = 7,
	 .msg = "cni.dev/valid-attachments",
	 .details = "nothing was released",
	 .version = "1.1.0"},
	{.name = "GC-09 a bad entry releases nothing",
	 .env = {E_GC},
	 .conf = CONF_X("1.1.0", "\"cni.dev/valid-attachments\":[{\"containerID\":\"" CID "\"}]"),
	 .code = 7,
	 .msg = "cni.dev/valid-attachments[0].ifname"},
	{.name = "GC-09 valid-attachments that is not a list",
	 .env = {E_GC},
	 .conf = CONF_X("1.1.0", "\"cni.dev/valid-attachments\":{}"),
	 .code = 7,
	 .msg = "'cni.dev/valid-attachments' is not a list"},
	{.name = "GC-01 GC on 1.0.0",
	 .env = {E_GC},
	 .conf = CONF_X("1.0.0", "\"cni.dev/valid-attachments\":[]"),
	 .code = 1,
	 .msg = "config version does not allow GC",
	 .version = "1.0.0"},
	{.name = "GC-05 roostd partial failure is passed through",
	 .env = {E_GC},
	 .conf = CONF_X("1.1.0", "\"cni.dev/valid-attachments\":[]"),
	 .reply = "{\"ok\":false,\"error\":{\"code\":102,\"msg\":\"2 releases failed\","
		  "\"details\":\"d00d/net1: veth busy\"}}",
	 .contacts_agent = true,
	 .code = 102,
	 .msg = "2 releases failed",
	 .details = "veth busy"},
	{.name = "GC roostd down",
	 .env = {E_GC},
	 .conf = CONF_X("1.1.0", "\"cni.dev/valid-attachments\":[]"),
	 .mode = AGENT_NONE,
	 .code = 11,
	 .msg = "roostd is not reachable"},

	/* ---- STATUS ---- */
	{.name = "STS-03 STATUS ready prints nothing",
	 .env = {E_STATUS},
	 .conf = CONF("1.1.0"),
	 .reply = OK_EMPTY,
	 .contacts_agent = true,
	 .req = "{\"verb\":\"STATUS\",\"network\":\"roost\"}"},
	{.name = "STS-04 STATUS with roostd down",
	 .env = {E_STATUS},
	 .conf = CONF("1.1.0"),
	 .mode = AGENT_STALE,
	 .code = 50,
	 .msg = "roostd is not reachable at '@SOCK@'",
	 .version = "1.1.0"},
	{.name = "STS-04 STATUS with no socket",
	 .env = {E_STATUS},
	 .conf = CONF("1.1.0"),
	 .mode = AGENT_NONE,
	 .code = 50,
	 .msg = "No such file or directory"},
	{.name = "STS-04 STATUS gives up after 2 s",
	 .env = {E_STATUS},
	 .conf = CONF("1.1.0"),
	 .mode = AGENT_SILENT,
	 .contacts_agent = true,
	 .code = 50,
	 .msg = "no reply within 2 s",
	 .min_ms = 1500,
	 .max_ms = 6000},
	{.name = "STS-04 STATUS with a garbage reply",
	 .env = {E_STATUS},
	 .conf = CONF("1.1.0"),
	 .mode = AGENT_GARBAGE,
	 .contacts_agent = true,
	 .code = 50,
	 .msg = "malformed reply"},
	{.name = "STS-05 roostd says 51",
	 .env = {E_STATUS},
	 .conf = CONF("1.1.0"),
	 .reply = "{\"ok\":false,\"error\":{\"code\":51,\"msg\":\"BIRD is not running\","
		  "\"details\":\"no established BGP session\"}}",
	 .contacts_agent = true,
	 .code = 51,
	 .msg = "BIRD is not running",
	 .details = "no established BGP session",
	 .version = "1.1.0"},
	{.name = "STS-01 STATUS on 1.0.0",
	 .env = {E_STATUS},
	 .conf = CONF("1.0.0"),
	 .code = 1,
	 .msg = "config version does not allow STATUS",
	 .version = "1.0.0"},
};

/* ---- fake roostd --------------------------------------------------------- */

struct agent {
	enum agent_mode mode;
	const char *reply;
	char path[108];
	int listen_fd;
	int stop[2]; /* pipe: the test writes a byte to stop the thread */
	pthread_t thread;
	bool running;
	int nconn; /* connections accepted; written by the thread, read after join */
	int nreq;  /* requests read */
	json_t *req;
	int passed; /* fds passed with the request: -1 none, 1 a network namespace, 0 other */
};

static bool agent_wait_stop(struct agent *a, int fd)
{
	struct pollfd p[2] = {{.fd = a->stop[0], .events = POLLIN}, {.fd = fd, .events = POLLIN}};

	for (;;) {
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			return true;
		if (p[0].revents)
			return true;
		if (p[1].revents)
			return false;
	}
}

static void agent_send_raw(int fd, uint32_t magic, const char *body)
{
	uint32_t hdr[3] = {htonl(magic), htonl(ROOST_API_VERSION), htonl((uint32_t)strlen(body))};

	if (write(fd, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr) ||
	    write(fd, body, strlen(body)) != (ssize_t)strlen(body))
		fprintf(stderr, "# fake roostd: write: %s\n", strerror(errno));
}

/* What fd the client passed with its first bytes (SCM_RIGHTS), looked at
 * with MSG_PEEK so that api_recv() then reads the message as roostd does. */
static int peek_passed_fd(int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	char byte;
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			   .msg_controllen = sizeof(u.buf)};
	struct pollfd p = {.fd = fd, .events = POLLIN};
	struct cmsghdr *h;
	const char *why;
	int got, r;

	if (poll(&p, 1, 5000) != 1 || recvmsg(fd, &m, MSG_PEEK | MSG_CMSG_CLOEXEC) != 1)
		return -1;
	h = CMSG_FIRSTHDR(&m);
	if (!h || h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&got, CMSG_DATA(h), sizeof(int));
	r = rst_netns_check(got, &why) == 0;
	close(got);
	return r;
}

static void *agent_main(void *arg)
{
	struct agent *a = arg;

	while (!agent_wait_stop(a, a->listen_fd)) {
		int fd = accept4(a->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		json_t *req = NULL;
		char why[256];

		if (fd < 0)
			continue;
		a->nconn++;
		a->passed = peek_passed_fd(fd);
		if (api_recv(fd, &req, 5000, why) == 0) {
			a->nreq++;
			json_decref(a->req);
			a->req = req;
		} else {
			fprintf(stderr, "# fake roostd: %s\n", why);
		}
		switch (a->mode) {
		case AGENT_REPLY:
			agent_send_raw(fd, ROOST_API_MAGIC, a->reply ? a->reply : ADD_OK);
			break;
		case AGENT_GARBAGE:
			agent_send_raw(fd, 0x48545450u /* "HTTP" */, "{}");
			break;
		case AGENT_SILENT:
			(void)agent_wait_stop(a, fd);
			break;
		default:
			break;
		}
		close(fd);
	}
	return NULL;
}

static void agent_start(struct agent *a, const char *dir, int n, enum agent_mode mode,
			const char *reply)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	memset(a, 0, sizeof(*a));
	a->mode = mode;
	a->reply = reply;
	a->listen_fd = -1;
	a->stop[0] = a->stop[1] = -1;
	snprintf(a->path, sizeof(a->path), "%s/roostd-%d.sock", dir, n);
	if (mode == AGENT_NONE)
		return;
	strcpy(sa.sun_path, a->path);
	a->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(a->listen_fd >= 0);
	assert_int_equal(bind(a->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	if (mode == AGENT_STALE) {
		/* the file stays, nobody listens: connect() gets ECONNREFUSED */
		close(a->listen_fd);
		a->listen_fd = -1;
		return;
	}
	assert_int_equal(listen(a->listen_fd, 8), 0);
	assert_int_equal(pipe2(a->stop, O_CLOEXEC), 0);
	assert_int_equal(pthread_create(&a->thread, NULL, agent_main, a), 0);
	a->running = true;
}

static void agent_stop(struct agent *a)
{
	if (a->running) {
		if (write(a->stop[1], "x", 1) != 1)
			fprintf(stderr, "# fake roostd: stop: %s\n", strerror(errno));
		pthread_join(a->thread, NULL);
		a->running = false;
	}
	if (a->listen_fd >= 0)
		close(a->listen_fd);
	if (a->stop[0] >= 0) {
		close(a->stop[0]);
		close(a->stop[1]);
	}
	a->listen_fd = a->stop[0] = a->stop[1] = -1;
	if (a->path[0])
		unlink(a->path);
}

/* ---- running the plugin -------------------------------------------------- */

struct run {
	int status; /* exit status, or 128 + signal */
	char *out, *err;
	size_t out_len, err_len;
	json_t *json; /* stdout, parsed; NULL when it is not JSON */
	long long ms;
};

static char plugin[4096];
static char tmpdir[64];

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void buf_append(char **buf, size_t *len, const char *data, size_t n)
{
	char *nb = realloc(*buf, *len + n + 1);

	assert_non_null(nb);
	memcpy(nb + *len, data, n);
	*len += n;
	nb[*len] = '\0';
	*buf = nb;
}

/* "K=V" replaces or adds K, "K" removes it. */
static void env_apply(char **env, size_t *n, size_t cap, const char *kv)
{
	size_t klen = strcspn(kv, "=");

	for (size_t i = 0; i < *n; i++) {
		if (strncmp(env[i], kv, klen) == 0 && env[i][klen] == '=') {
			free(env[i]);
			env[i] = env[--*n];
			break;
		}
	}
	if (kv[klen] == '=' && *n < cap)
		env[(*n)++] = strdup(kv);
}

/* A copy of s with every @SOCK@ replaced by sock. */
static char *subst(const char *s, const char *sock)
{
	char *out = NULL;
	size_t len = 0;
	const char *at;

	buf_append(&out, &len, "", 0);
	while ((at = strstr(s, "@SOCK@"))) {
		buf_append(&out, &len, s, (size_t)(at - s));
		buf_append(&out, &len, sock, strlen(sock));
		s = at + 6;
	}
	buf_append(&out, &len, s, strlen(s));
	return out;
}

/* Runs the plugin with exactly envp and stdin `in` (or one of the STDIN_*
 * specials), as a runtime does: fork, pipes, execve. */
static void plugin_run(char *const envp[], const char *in, struct run *r)
{
	int pin[2], pout[2], perr[2], dir_fd = -1, status;
	char *big = NULL, buf[65536];
	size_t in_len, in_off = 0;
	struct pollfd p[3];
	long long start = now_ms();
	pid_t pid;

	if (strcmp(in, STDIN_DIR) == 0) {
		dir_fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		assert_true(dir_fd >= 0);
	}
	if (strcmp(in, STDIN_2MIB) == 0) {
		in_len = 2u * 1024 * 1024;
		big = malloc(in_len);
		assert_non_null(big);
		memset(big, ' ', in_len);
		in = big;
	} else {
		in_len = strlen(in);
	}
	assert_int_equal(pipe2(pin, O_CLOEXEC), 0);
	assert_int_equal(pipe2(pout, O_CLOEXEC), 0);
	assert_int_equal(pipe2(perr, O_CLOEXEC), 0);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *argv[] = {plugin, NULL};

		signal(SIGPIPE, SIG_DFL);
		dup2(dir_fd >= 0 ? dir_fd : pin[0], STDIN_FILENO);
		dup2(pout[1], STDOUT_FILENO);
		dup2(perr[1], STDERR_FILENO);
		execve(plugin, argv, envp);
		_exit(127);
	}
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	if (dir_fd >= 0) {
		close(dir_fd);
		close(pin[1]);
		pin[1] = -1;
	}
	if (pin[1] >= 0)
		fcntl(pin[1], F_SETFL, O_NONBLOCK);

	p[0] = (struct pollfd){.fd = pout[0], .events = POLLIN};
	p[1] = (struct pollfd){.fd = perr[0], .events = POLLIN};
	p[2] = (struct pollfd){.fd = pin[1], .events = POLLOUT};
	if (pin[1] >= 0 && in_len == 0) {
		close(pin[1]);
		p[2].fd = -1;
	}
	while (p[0].fd >= 0 || p[1].fd >= 0) {
		int n = poll(p, 3, 30000);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			kill(pid, SIGKILL);
			fail_msg("plugin did not finish within 30 s");
		}
		for (int i = 0; i < 2; i++) {
			ssize_t got;

			if (!p[i].revents)
				continue;
			got = read(p[i].fd, buf, sizeof(buf));
			if (got <= 0) {
				close(p[i].fd);
				p[i].fd = -1;
			} else if (i == 0) {
				buf_append(&r->out, &r->out_len, buf, (size_t)got);
			} else {
				buf_append(&r->err, &r->err_len, buf, (size_t)got);
			}
		}
		if (p[2].fd >= 0 && p[2].revents) {
			ssize_t put = write(p[2].fd, in + in_off, in_len - in_off);

			if (put > 0)
				in_off += (size_t)put;
			/* EPIPE: the plugin stopped reading, as it may */
			if ((put < 0 && errno != EAGAIN) || in_off == in_len) {
				close(p[2].fd);
				p[2].fd = -1;
			}
		}
	}
	if (p[2].fd >= 0)
		close(p[2].fd);
	free(big);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	r->ms = now_ms() - start;
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	buf_append(&r->out, &r->out_len, "", 0);
	buf_append(&r->err, &r->err_len, "", 0);
	r->json = json_loads(r->out, 0, NULL);
}

/* ---- the test ------------------------------------------------------------ */

struct ctx {
	const struct cni_case *c;
	struct agent agent;
	struct run run;
	char *env[64];
	size_t nenv;
	char *conf;
};

static struct ctx ctx;

static void assert_contains(const char *what, const char *hay, const char *needle)
{
	if (!hay || !strstr(hay, needle))
		fail_msg("%s: '%s' not found in '%s'", what, needle, hay ? hay : "(none)");
}

static void assert_json(const char *what, const json_t *got, const char *expected)
{
	json_error_t jerr;
	json_t *want = json_loads(expected, 0, &jerr);
	char *g;
	bool eq;

	if (!want)
		fail_msg("%s: test bug, expected JSON: %s", what, jerr.text);
	eq = got && json_equal(got, want);
	json_decref(want);
	if (!eq) {
		g = got ? json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		print_error("%s differs\n  got:      %s\n  expected: %s\n", what, g ? g : "(none)",
			    expected);
		free(g);
		fail();
	}
}

static int case_setup(void **state)
{
	static int n;
	const char *pass[] = {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"};

	memset(&ctx, 0, sizeof(ctx));
	ctx.c = *state;
	agent_start(&ctx.agent, tmpdir, n++, ctx.c->mode, ctx.c->reply);
	/* sanitizer settings reach the plugin; nothing else of ours does */
	for (size_t i = 0; i < 3; i++) {
		const char *v = getenv(pass[i]);
		char kv[1024];

		if (v) {
			snprintf(kv, sizeof(kv), "%s=%s", pass[i], v);
			env_apply(ctx.env, &ctx.nenv, 63, kv);
		}
	}
	for (size_t i = 0; i < 12 && ctx.c->env[i]; i++)
		env_apply(ctx.env, &ctx.nenv, 63, ctx.c->env[i]);
	ctx.conf = subst(ctx.c->conf ? ctx.c->conf : "", ctx.agent.path);
	return 0;
}

static int case_teardown(void **state)
{
	agent_stop(&ctx.agent);
	json_decref(ctx.agent.req);
	for (size_t i = 0; i < ctx.nenv; i++)
		free(ctx.env[i]);
	free(ctx.conf);
	free(ctx.run.out);
	free(ctx.run.err);
	json_decref(ctx.run.json);
	memset(&ctx, 0, sizeof(ctx));
	return 0;
}

static void test_case(void **state)
{
	const struct cni_case *c = ctx.c;
	struct run *r = &ctx.run;
	const char *v;
	char *want;

	ctx.env[ctx.nenv] = NULL;
	plugin_run(ctx.env, ctx.conf, r);
	agent_stop(&ctx.agent); /* joins the thread: its counters are final */

	if (strstr(r->err, "Sanitizer") || strstr(r->err, "runtime error:"))
		fail_msg("plugin stderr: %s", r->err);
	if (c->code) {
		assert_int_equal(r->status, 1);
		if (!json_is_object(r->json))
			fail_msg("stdout is not a JSON object: '%s' (stderr '%s')", r->out, r->err);
		assert_int_equal(json_integer_value(json_object_get(r->json, "code")), c->code);
		v = json_string_value(json_object_get(r->json, "msg"));
		assert_non_null(v);
		assert_true(*v);
		if (c->msg) {
			want = subst(c->msg, ctx.agent.path);
			assert_contains("msg", v, want);
			free(want);
		}
		if (c->details) {
			want = subst(c->details, ctx.agent.path);
			assert_contains("details",
					json_string_value(json_object_get(r->json, "details")),
					want);
			free(want);
		}
		v = json_string_value(json_object_get(r->json, "cniVersion"));
		assert_non_null(v);
		if (c->version)
			assert_string_equal(v, c->version);
	} else {
		if (r->status != 0)
			fail_msg("exit status %d, stdout '%s', stderr '%s'", r->status, r->out,
				 r->err);
		if (c->out)
			assert_json("stdout", r->json, c->out);
		else
			assert_int_equal(r->out_len, 0); /* DEL/CHECK/STATUS/GC print nothing */
	}
	if (c->err_has)
		assert_contains("stderr", r->err, c->err_has);
	if (c->min_ms && r->ms < c->min_ms)
		fail_msg("took %lld ms, expected at least %d", r->ms, c->min_ms);
	if (c->max_ms && r->ms > c->max_ms)
		fail_msg("took %lld ms, expected at most %d", r->ms, c->max_ms);

	/* validation before contact: a refused request never reaches roostd */
	if (c->mode != AGENT_NONE && c->mode != AGENT_STALE) {
		assert_int_equal(ctx.agent.nconn, c->contacts_agent ? 1 : 0);
		assert_int_equal(ctx.agent.nreq, c->contacts_agent ? 1 : 0);
	}
	if (c->req) {
		assert_json("request to roostd", ctx.agent.req, c->req);
		/* "netns_fd":true comes with a network namespace, else with no fd */
		assert_int_equal(ctx.agent.passed,
				 json_is_true(json_object_get(ctx.agent.req, "netns_fd")) ? 1 : -1);
	}
}

static int group_setup(void **state)
{
	const char *top = getenv("top_builddir");

	snprintf(plugin, sizeof(plugin), "%s/cni/roost", top && *top ? top : ".");
	if (access(plugin, X_OK) != 0) {
		fprintf(stderr, "# %s: %s (build it first)\n", plugin, strerror(errno));
		return -1;
	}
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test-cni.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		fprintf(stderr, "# mkdtemp: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	if (tmpdir[0] && rmdir(tmpdir) < 0)
		fprintf(stderr, "# rmdir %s: %s\n", tmpdir, strerror(errno));
	return 0;
}

int main(void)
{
	struct CMUnitTest tests[ARRAY_SIZE(cases)];

	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		tests[i] = (struct CMUnitTest){.name = cases[i].name,
					       .test_func = test_case,
					       .setup_func = case_setup,
					       .teardown_func = case_teardown,
					       .initial_state = (void *)&cases[i]};
	return _cmocka_run_group_tests("cni", tests, ARRAY_SIZE(tests), group_setup,
				       group_teardown);
}
