/* SPDX-License-Identifier: MIT */
/*
 * api-proto.h - the agent socket protocol, shared by roostd (server), the
 * CNI plugin and roostctl (clients). One versioned, length-checked format
 * (bgpd's imsg discipline): every message is a 12-byte header followed by a
 * JSON object of exactly `length` bytes.
 *
 *   uint32 magic    "RST1" (0x52535431), network byte order
 *   uint32 version  ROOST_API_VERSION, network byte order
 *   uint32 length   body bytes, 2..ROOST_API_MAX_BODY, network byte order
 *   body            UTF-8 JSON object
 *
 * One request and one reply per connection. The server closes a connection
 * whose header is wrong (bad magic, unknown version, length out of range)
 * after replying with an error when it still can.
 *
 * Requests ("verb" selects; unknown keys are ignored):
 *   {"verb":"ADD", "network":"roost", "container_id":"...", "ifname":"eth0",
 *    "netns":"/run/netns/x", "netns_fd":true}
 *   {"verb":"DEL", "network":..., "container_id":..., "ifname":..., "netns":"" (may be empty)}
 *   {"verb":"CHECK", "network":..., "container_id":..., "ifname":..., "netns":...,
 *    "prev": {"ips":["10.244.1.2/24"], "mac":"..", "routes":[{"dst":..,"gw":..}]}}
 *   {"verb":"STATUS", "network":...}
 *   {"verb":"GC", "network":..., "valid":[{"container_id":..,"ifname":..}, ...]}
 *   {"verb":"PODS"}, {"verb":"NODE_STATUS"}, {"verb":"AUDIT"}   (roostctl)
 *
 * The CNI plugin opens CNI_NETNS itself and passes the namespace as a file
 * descriptor (SCM_RIGHTS, attached to the header) with ADD, CHECK and, when
 * the namespace still exists, DEL; "netns_fd":true says so, and roostd
 * then uses that fd and never opens the path (which, for a roostd in a
 * container without the host's PID or mount namespace, would not resolve
 * or would name another namespace). "netns" still names it in results and
 * logs. Without "netns_fd", roostd opens "netns" itself.
 *
 * Replies:
 *   success: {"ok":true, "result":{...}}
 *     ADD result: {"bridge":{"name":"cni0","mac":"..."},
 *                  "host":{"name":"vethXXXXXXXX","mac":"..."},
 *                  "container":{"name":"eth0","mac":"...","sandbox":"<netns>"},
 *                  "mtu":1500,
 *                  "ip":{"address":"10.244.1.2/24","gateway":"10.244.1.1"},
 *                  "routes":[{"dst":"0.0.0.0/0","gw":"10.244.1.1"},
 *                            {"dst":"10.244.0.0/16","gw":"10.244.1.1"}]}
 *     GC result: {"released":[{"container_id":..,"ifname":..,"address":..}, ...]}
 *     PODS result: {"pods":[{"container_id","ifname","address","host_veth","since",
 *                   "origin"}...], "pool_size":N, "pool_used":N}
 *     NODE_STATUS, AUDIT results: see status.h
 *     other verbs: {}
 *   failure: {"ok":false, "error":{"code":N, "msg":"...", "details":"..."}}
 *     code is a CNI error code (spec: 1-7, 11, 50, 51; >= 100 roost's own).
 */
#ifndef ROOST_API_PROTO_H
#define ROOST_API_PROTO_H

#include <jansson.h>
#include <stdint.h>

#define ROOST_API_MAGIC 0x52535431u /* "RST1" */
#define ROOST_API_VERSION 1u
#define ROOST_API_HDR_LEN 12
#define ROOST_API_MAX_BODY (256u * 1024u)

/* roost's own CNI error codes (>= 100). */
#define ROOST_CNI_ERR_POOL_EXHAUSTED 100 /* no free address in the node's pod subnet */
#define ROOST_CNI_ERR_DUPLICATE 101      /* (container, ifname) already has an address */
#define ROOST_CNI_ERR_INTERNAL 102       /* netlink or file failure on the node */
#define ROOST_CNI_ERR_CHECK 103          /* CHECK: the attachment is not as ADD left it */
#define ROOST_CNI_ERR_DENIED 104         /* the caller is not root */

/* Writes header + body of msg to fd, waiting at most timeout_ms in total.
 * 0 or -errno (-EMSGSIZE when the body is too large). */
int api_send(int fd, const json_t *msg, int timeout_ms);
/* The same, passing the file descriptor pass (when >= 0) along with the
 * header (SCM_RIGHTS); the caller keeps its own copy. */
int api_send_fd(int fd, const json_t *msg, int pass, int timeout_ms);

/* Reads one message from fd, waiting at most timeout_ms in total. Returns 0
 * and a new reference in *ret, or -errno: -EPROTO bad magic/version (reterr
 * gets why), -EMSGSIZE length out of range, -EBADMSG body not a JSON object,
 * -ECONNRESET peer closed early, -ETIMEDOUT. reterr_msg (may be NULL, 256
 * bytes) says what was wrong in words. */
int api_recv(int fd, json_t **ret, int timeout_ms, char *reterr_msg);

/* Connects to the agent socket at path. Returns the fd or -errno. */
int api_connect(const char *path, int timeout_ms);

/* Sends req on a new connection to path and returns the reply in *ret. */
int api_call(const char *path, const json_t *req, json_t **ret, int timeout_ms, char *reterr_msg);

#endif
