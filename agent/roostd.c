/* SPDX-License-Identifier: MIT */
/*
 * roostd.c - the roost node agent: main(), start-up and the poll() loop.
 *
 * At start: load and check the config, make sure the bridge has the pod
 * gateway address and is up (with the uplink's MTU unless bridge.mtu says),
 * turn on IPv4 forwarding, replace the egress table (egress.c), render BIRD's config,
 * then adopt the running BIRD or spawn one. Afterwards the loop waits for
 * signals (HUP reload, TERM/INT exit), BIRD's death (pidfd), CNI requests,
 * the datastore and finished jobs. roostd never stops BIRD: leaving, for
 * whatever reason, changes no route.
 *
 * The loop only multiplexes: whatever may take longer than a few
 * milliseconds runs on a thread of its own. Threads and what each owns:
 *
 *   loop (main thread): struct agent, i.e. the configuration in force
 *     (a->conf, a->text), the address pool, the agent socket and its
 *     clients, BIRD's supervision (a->bird: pid, pidfd, restarts), the
 *     session watcher, the datastore peer lists. It serves ADD, DEL, CHECK,
 *     GC and PODS itself. It is the only writer of all of it.
 *   configurer (worker.c): one BIRD configure at a time (bird_apply on an
 *     apply_job's own struct bird and text, see reload.c). The loop prepares
 *     the job, and commits the result when the worker is done with it.
 *     BIRD's start and restarts run there too: the loop moves a->bird into
 *     the job and takes it back when the job is done. A reload's job
 *     applies the egress nftables table (egress.c) before BIRD's change.
 *   queries (worker.c): the requests that ask BIRD: CNI STATUS, roostctl
 *     status and audit (NODE_STATUS, AUDIT); the job owns the client's
 *     connection and answers it.
 *   metrics (metrics-http.c): the metrics listener and its clients, and the
 *     textfile timer.
 *   datastore (datastore.c): the etcd client; shares peers and state with
 *     the loop under its own mutex, wakes the loop through ds_fd(); the
 *     loop tells it which nodes route (ds_set_routing) so it keeps their
 *     leases alive.
 *   teardown (teardown.c, 4 threads): delete pod veths (the kernel's slow
 *     RTM_DELLINK); finished jobs come back to the loop (teardown_fd), which
 *     alone touches the pool and parked requests.
 *   ipam writer (ipam.c): writes and fsyncs reservations while the loop
 *     builds the veth; the loop waits for it before replying.
 *
 * The session watcher (on the loop) also feeds struct owners (owners.c):
 * subnet owners learned from BIRD, and conflicts; a learned owner is a
 * configuration change applied through the configurer like the others.
 *
 * What crosses threads: the queries and metrics threads read a->conf only
 * between share_conf_get() and share_conf_put() (share.h); the loop changes
 * or replaces it only between share_write_try() and share_write_done(), and
 * never waits for that: while a reader holds it, the loop keeps serving and
 * tries again. They read the pool size and use, BIRD's pid and the counters
 * as the copy the loop publishes after each iteration (share_node_set). CNI
 * request counters (struct metrics) are under the metrics mutex. BIRD itself
 * is asked by each thread on a control connection of its own, with bounded
 * waits. Signals are blocked in every thread; the loop reads them through
 * a signalfd.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "agent.h"
#include "birdconf.h"
#include "log.h"
#include "metrics-http.h"
#include "pod.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: roostd [-c FILE] [--check-config | --render]\n"
		"\n"
		"roostd is roost's node agent. It keeps the pod bridge (cni0) up with the\n"
		"gateway address of the node's pod subnet, and runs BIRD 2 with a rendered\n"
		"configuration that announces that subnet over iBGP and installs the other\n"
		"nodes' subnets into the kernel. It runs in the foreground and logs to stderr.\n"
		"\n"
		"Options:\n"
		"  -c, --config FILE  configuration file (default " CONF_DEFAULT_PATH ")\n"
		"      --check-config check FILE and the BIRD configuration it renders\n"
		"                     (with `bird -p`); print \"file:line: message\" for each\n"
		"                     problem and exit 1, or exit 0 when all is well\n"
		"      --render       print the BIRD configuration FILE renders, and exit\n"
		"  -h, --help         show this help and exit\n"
		"  -V, --version      show the version and exit\n"
		"\n"
		"Signals:\n"
		"  SIGHUP   reload: parse, render and check the new configuration first; on\n"
		"           any error log it and keep running the old one\n"
		"  SIGTERM  exit; BIRD keeps running and keeps every route, and a restarted\n"
		"           roostd adopts it without restarting it\n"
		"\n"
		"With a `datastore` group (etcd, flannel's layout), the node's subnet and its\n"
		"mesh neighbours come from etcd: roostd leases the subnet, keeps the lease\n"
		"alive, follows the other nodes' leases and writes flannel's subnet.env.\n"
		"\n"
		"BIRD runs as `bird -f [-R] -c bird.config -s bird.socket -P bird.pidfile` in a\n"
		"session of its own; roostd restarts it when it dies, with -R whenever the\n"
		"kernel holds routes it installed, so no pod route is lost meanwhile.\n"
		"\n"
		"Exit status: 0 on SIGTERM or a successful check, 1 on a configuration\n"
		"error, 2 on a usage error.\n"
		"\n"
		"See roostd.conf(5) in README.md for every configuration key.\n");
}

static void print_conf_error(const char *path, const struct rst_err *e)
{
	char buf[1024];

	rst_err_format(e, buf, sizeof(buf));
	fprintf(stderr, "%s\n", buf);
}

/* The same for IPv6 (node.address6 with etcd): fd00:10:244::/48 and its
 * second /64, unless the file gives them. */
static void ds_stand_in6(struct roostd_conf *c, FILE *note)
{
	struct in6_addr cl = c->cluster_net6, pod = c->pod_net6;
	unsigned cl_len = c->cluster_len6, len = c->ds_pod6_given ? c->pod_len6 : 64;
	char err[256], a[INET6_ADDRSTRLEN];

	if (c->ds_kube && c->cluster_len6) {
		/* Kubernetes: the Node's IPv6 podCIDR and InternalIP at run time */
		if (IN6_IS_ADDR_UNSPECIFIED(&c->address6))
			inet_pton(AF_INET6, "2001:db8::1", &c->address6);
		if (!c->address.s_addr && !c->router_id.s_addr)
			inet_pton(AF_INET, "192.0.2.1", &c->router_id);
		len = c->pod_len6;
		c->ds_pod6_given = false;
	} else if (IN6_IS_ADDR_UNSPECIFIED(&c->address6) || c->ds_kube) {
		return;
	}
	if (!c->ds_cluster6_given) {
		inet_pton(AF_INET6, "fd00:10:244::", &cl);
		cl_len = 48;
	}
	if (!c->ds_pod6_given) {
		pod = cl;
		pod.s6_addr[7] |= 1; /* the second /64 */
	}
	inet_ntop(AF_INET6, &pod, a, sizeof(a));
	if (conf_set_subnets6(c, &pod, len, &cl, cl_len, err, sizeof(err)) == 0 && note)
		fprintf(note, "%s: note: the node's IPv6 subnet comes from the datastore; %s/%u stands in for it here\n",
			c->path, a, len);
}

/* --check-config and --render with a datastore: the subnets come from etcd
 * at run time; a stand-in (the cluster's second subnet) lets the rest be
 * rendered and checked. */
static void ds_stand_in(struct roostd_conf *c, FILE *note)
{
	struct in_addr cl = c->cluster_net, pod = c->pod_net;
	unsigned cl_len = c->cluster_len, len = c->pod_len ? c->pod_len : 24;
	char err[256];

	if (!c->ds_on)
		return;
	if (!c->ds_cluster_given) {
		inet_pton(AF_INET, "10.244.0.0", &cl);
		cl_len = 16;
	}
	if (!c->ds_pod_given)
		pod.s_addr = htonl(ntohl(cl.s_addr) + (1u << (32 - len)));
	if (!c->address.s_addr && c->ds_kube && c->ds_cluster_given) {
		/* Kubernetes: the Node's InternalIP at run time. */
		inet_pton(AF_INET, "192.0.2.1", &c->address);
		if (note)
			fprintf(note, "%s: note: the node's address comes from its Node's InternalIP; 192.0.2.1 stands in for it here\n",
				c->path);
	}
	if (!conf_v6_only(c) && conf_set_subnets(c, pod, len, cl, cl_len, err, sizeof(err)) == 0 &&
	    note)
		fprintf(note, "%s: note: the node's subnet and peers come from the datastore; %s/%u stands in for them here\n",
			c->path, inet_ntoa(pod), len);
	ds_stand_in6(c, note);
}

/* --check-config: FILE and its rendered BIRD config, through `bird -p`. */
static int check_config(const char *path)
{
	_cleanup_(conf_freep) struct roostd_conf *c = NULL;
	_cleanup_free_ char *text = NULL;
	char tmp[] = "/tmp/roostd-check.XXXXXX";
	struct bc_node node;
	struct rst_err e;
	int fd, r;

	if (conf_load(path, &c, &e) < 0) {
		print_conf_error(path, &e);
		return 1;
	}
	ds_stand_in(c, stderr);
	conf_to_node(c, &node);
	if (bc_render_string(&node, &text, &e) < 0) {
		fprintf(stderr, "%s: %s\n", path, e.msg);
		return 1;
	}
	fd = mkstemp(tmp);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		fprintf(stderr, "roostd: cannot write a scratch file in /tmp: %s\n", strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		return 1;
	}
	close(fd);
	r = bc_check(c->bird_binary, tmp, &e);
	unlink(tmp);
	if (r < 0) {
		fprintf(stderr, "%s: rendered BIRD configuration rejected: %s\n", path, e.msg);
		return 1;
	}
	printf("%s: configuration OK\n", path);
	return 0;
}

static int render_only(const char *path)
{
	_cleanup_(conf_freep) struct roostd_conf *c = NULL;
	struct bc_node node;
	struct rst_err e;

	if (conf_load(path, &c, &e) < 0) {
		print_conf_error(path, &e);
		return 1;
	}
	ds_stand_in(c, stderr);
	conf_to_node(c, &node);
	if (bc_render(&node, stdout, &e) < 0) {
		fprintf(stderr, "%s: %s\n", path, e.msg);
		return 1;
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

/* ---- the loop ------------------------------------------------------------------- */

static int nearer_ms(int a, int b)
{
	if (b < 0)
		return a;
	return a < 0 || b < a ? b : a;
}

/* poll() timeout: the nearest of BIRD's pending restart (not while a
 * configure runs: the configurer wakes the loop when done), the session
 * watcher's next query, the agent clients' deadlines and pending changes. */
static int loop_timeout_ms(struct agent *a)
{
	int t = sessions_timeout_ms(&a->sessions);

	if (!a->applying)
		t = nearer_ms(t, bird_timeout_ms(&a->bird));
	t = nearer_ms(t, api_timeout_ms(a->api));
	t = nearer_ms(t, confwatch_timeout_ms(&a->confwatch));
	return nearer_ms(t, agent_changes_timeout_ms(a));
}

/* The figures other threads read (share.h), as of now. */
static void publish(struct agent *a)
{
	a->node.pool_size = a->ipam ? ipam_size(a->ipam) : (size_t)ipam6_size(a->ipam6);
	a->node.pool_used = a->ipam ? ipam_used(a->ipam) : ipam6_used(a->ipam6);
	a->node.pool_held = ipam_held(a->ipam);
	a->node.has_pool6 = a->ipam6 != NULL;
	a->node.pool6_size = ipam6_size(a->ipam6);
	a->node.pool6_used = ipam6_used(a->ipam6);
	a->node.pool6_held = ipam6_held(a->ipam6);
	a->node.bird_pid = a->bird.pid;
	a->node.bird_starts = a->bird.starts;
	a->node.session_ups = a->sessions.ups;
	a->node.session_downs = a->sessions.downs;
	a->node.conflicts = a->owners.n_conflicts;
	a->node.conflicts_total = a->owners.conflicts_total;
	share_node_set(&a->share, &a->node);
}

/* A signal: true when it asks roostd to exit. */
static bool on_signal(struct agent *a, int sfd)
{
	struct signalfd_siginfo si;

	if (read(sfd, &si, sizeof(si)) != sizeof(si))
		return false;
	if (si.ssi_signo == SIGHUP) {
		if (a->applying || a->finished)
			log_info("reload: a configuration change is in progress; reloading after it");
		a->reload_wanted = true;
		return false;
	}
	log_info("exiting on signal %u; BIRD pid=%d keeps running and keeps its routes",
		 si.ssi_signo, (int)a->bird.pid);
	return true;
}

/* The datastore's peers changed: applied when the configurer is free. */
static void on_datastore(struct agent *a)
{
	struct ds_peer *p = NULL;
	size_t n = 0;

	struct svc_addr *s = NULL;
	size_t ns = 0;

	if (ds_take_peers(a->ds, &p, &n) > 0) {
		free(a->ds_new);
		a->ds_new = p;
		a->n_ds_new = n;
	}
	if (ds_take_services(a->ds, &s, &ns) > 0) {
		free(a->svc_all);
		a->svc_all = s;
		a->n_svc_all = ns;
		a->svc_wanted = true;
	}
}

enum {
	P_SIGNAL,
	P_BIRD,
	P_API,
	P_SESSIONS,
	P_DS,
	P_CONFIGURER,
	P_QUERIES,
	P_TEARDOWN,
	P_CONFWATCH,
	P_CLIENTS
};

/* agent.watch_config, as the configuration in force has it (a reload may
 * turn it on or off). */
static void confwatch_follow(struct agent *a)
{
	int r;

	if (a->conf->watch_config == (confwatch_fd(&a->confwatch) >= 0))
		return;
	if (!a->conf->watch_config) {
		confwatch_close(&a->confwatch);
		log_info("config: no longer watching '%s' (agent.watch_config is false)",
			 a->conf->path);
		return;
	}
	r = confwatch_open(&a->confwatch, a->conf->path);
	if (r < 0)
		log_errno(LOG_WARNING, r,
			  "config: cannot watch '%s'; reload it with SIGHUP after a change",
			  a->conf->path);
	else
		log_info("config: watching '%s': a change is reloaded as by SIGHUP",
			 a->conf->path);
}

/* Serves until a signal asks roostd to exit (0) or poll fails (1). */
static int loop(struct agent *a, int sfd)
{
	for (;;) {
		struct pollfd p[P_CLIENTS + API_MAX_CLIENTS] = {
			[P_SIGNAL] = {.fd = sfd, .events = POLLIN},
			[P_BIRD] = {.fd = bird_fd(&a->bird), .events = POLLIN},
			[P_API] = {.fd = api_fd(a->api), .events = POLLIN},
			[P_SESSIONS] = {.fd = sessions_fd(&a->sessions), .events = POLLIN},
			[P_DS] = {.fd = ds_fd(a->ds), .events = POLLIN},
			[P_CONFIGURER] = {.fd = worker_fd(a->configurer), .events = POLLIN},
			[P_QUERIES] = {.fd = worker_fd(a->queries), .events = POLLIN},
			[P_TEARDOWN] = {.fd = teardown_fd(a->td), .events = POLLIN},
			[P_CONFWATCH] = {.fd = confwatch_fd(&a->confwatch), .events = POLLIN}};
		size_t n_clients = api_pollfds(a->api, p + P_CLIENTS, API_MAX_CLIENTS);
		struct api_ctx ctx = {.conf = a->conf,
				      .ipam = a->ipam,
				      .ipam6 = a->ipam6,
				      .bird = &a->bird,
				      .metrics = &a->metrics,
				      .ds = a->ds,
				      .td = a->td,
				      .queries = a->queries,
				      .share = &a->share};

		if (poll(p, P_CLIENTS + n_clients, loop_timeout_ms(a)) < 0 && errno != EINTR)
			return log_errno(LOG_ERR, errno, "poll failed"), 1;
		if (p[P_BIRD].fd >= 0 && (p[P_BIRD].revents & POLLIN))
			bird_on_exit(&a->bird);
		if (p[P_CONFIGURER].revents & POLLIN)
			worker_reap(a->configurer, a);
		if (p[P_QUERIES].revents & POLLIN)
			worker_reap(a->queries, a);
		if (a->failed)
			return 1;
		if (a->started) {
			a->started = false;
			log_info("ready: node='%s' pod_cidr=%s/%u pool=%zu/%zu agent='%s' bird=%d",
				 a->conf->name,
				 a->conf->no_pods ? "none" : inet_ntoa(a->conf->pod_net),
				 a->conf->pod_len, ipam_used(a->ipam), ipam_size(a->ipam),
				 a->conf->agent_socket, (int)a->bird.pid);
		}
		/* A restart while a configure runs would start a second one. */
		if (!a->applying && !a->finished && bird_restart_due(&a->bird))
			agent_bird_start(a, BIRD_JOB_RESTART);
		sessions_tick(&a->sessions, a->conf);
		ds_routing_tick(a);
		if (p[P_DS].fd >= 0 && (p[P_DS].revents & POLLIN))
			on_datastore(a);
		if (p[P_TEARDOWN].fd >= 0 && (p[P_TEARDOWN].revents & POLLIN))
			api_teardown_done(a->api, &ctx);
		api_handle(a->api, p + P_CLIENTS, n_clients, &ctx);
		if (p[P_API].revents & POLLIN)
			api_serve(a->api, &ctx);
		if ((p[P_SIGNAL].revents & POLLIN) && on_signal(a, sfd))
			return 0;
		switch (confwatch_tick(&a->confwatch)) {
		case CONFWATCH_CHANGED:
			log_info("config: '%s' changed; reloading", a->conf->path);
			a->reload_wanted = true;
			break;
		case CONFWATCH_SAME:
			log_debug("config: '%s' touched, same bytes: nothing to reload",
				  a->conf->path);
			break;
		}
		agent_changes_step(a);
		confwatch_follow(a);
		publish(a);
	}
}

/* ---- start-up ---------------------------------------------------------------- */

/* ds_open() blocks until etcd answers or the cache has a subnet: it runs on
 * a thread of its own, so that meanwhile SIGTERM and SIGINT still work. */
struct ds_opener {
	const struct roostd_conf *conf; /* borrowed */
	struct datastore *ds;           /* the result, owned */
	char err[256];
	int r;
	int done[2]; /* written to when ds_open returned */
};

static void *ds_open_thread(void *arg)
{
	struct ds_opener *o = arg;

	o->r = ds_open(o->conf, &o->ds, o->err, sizeof(o->err));
	(void)!write(o->done[1], "x", 1);
	return NULL;
}

/* 0 with a->ds, 1 on error (logged), 2 when a signal asked roostd to exit
 * meanwhile: then the opener still reads a->conf, which must stay. */
static int open_datastore(struct agent *a, int sfd)
{
	struct ds_opener *o = calloc(1, sizeof(*o));
	pthread_t t;
	int r;

	if (!o || pipe2(o->done, O_CLOEXEC) < 0) {
		free(o);
		return log_errno(LOG_ERR, errno, "datastore: cannot start"), 1;
	}
	o->conf = a->conf;
	r = pthread_create(&t, NULL, ds_open_thread, o);
	if (r != 0) {
		close(o->done[0]);
		close(o->done[1]);
		free(o);
		return log_errno(LOG_ERR, r, "datastore: cannot start"), 1;
	}
	for (;;) {
		struct pollfd p[2] = {{.fd = sfd, .events = POLLIN},
				      {.fd = o->done[0], .events = POLLIN}};
		struct signalfd_siginfo si;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			continue;
		if (p[1].revents & POLLIN)
			break;
		if (!(p[0].revents & POLLIN) || read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		if (si.ssi_signo == SIGHUP) {
			log_info("reload: waiting for the datastore; reloading once it answers");
			a->reload_wanted = true;
			continue;
		}
		log_info("exiting on signal %u while waiting for the datastore", si.ssi_signo);
		pthread_detach(t);
		return 2;
	}
	pthread_join(t, NULL);
	close(o->done[0]);
	close(o->done[1]);
	a->ds = o->ds;
	if (o->r < 0)
		log_error("datastore: %s", o->err);
	free(o);
	if (!a->ds)
		return 1;
	(void)ds_take_peers(a->ds, &a->ds_peers, &a->n_ds_peers);
	(void)ds_take_services(a->ds, &a->svc_all, &a->n_svc_all);
	if (ds_fill(a->conf, a->ds, a->ds_peers, a->n_ds_peers) < 0)
		return 1;
	return svc_fill(a->conf, a->svc_all, a->n_svc_all, a) < 0 ? 1 : 0;
}

/* The node's address pool, and host-local's reservations when configured. */
static int open_pool(struct agent *a)
{
	const struct roostd_conf *c = a->conf;
	int r = ipam_open(c->state_dir, c->agent_network, c->pod_net, c->pod_len, &a->ipam);

	if (r == -EBUSY)
		return log_errno(LOG_ERR, r, "ipam: '%s/%s' is in use by another roostd",
				 c->state_dir, c->agent_network);
	if (r < 0)
		return log_errno(LOG_ERR, r, "ipam: cannot open '%s/%s'", c->state_dir,
				 c->agent_network);
	if (c->host_local_dir[0]) {
		r = ipam_import_host_local(a->ipam, c->host_local_dir);
		if (r < 0)
			return log_errno(LOG_ERR, r, "ipam: importing host-local reservations from '%s'",
					 c->host_local_dir);
		log_info("ipam: imported %d host-local reservation(s) from '%s'", r,
			 c->host_local_dir);
	}
	return 0;
}

/* Signals are read through a signalfd: blocked here, before any thread
 * starts, so that every thread inherits the mask. */
static int signals_open(void)
{
	sigset_t mask;
	int sfd;

	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		return log_errno(LOG_ERR, errno, "signalfd failed");
	return sfd;
}

/* Bridge, pool and reconcile, unless the node has no pods. 0 or -1. */
static int start_pods(struct agent *a)
{
	int r;

	if (a->conf->no_pods) {
		/* A route reflector without pods: no bridge, no pool. */
		log_info("node: no node.pod_cidr, so no pods: no bridge, no address pool");
		return 0;
	}
	if (agent_setup_node(a->conf) < 0)
		return -1;
	/* An IPv6-only node has the IPv6 pool only. */
	if (!conf_v6_only(a->conf) && open_pool(a) < 0)
		return -1;
	if (conf_has_v6(a->conf) && !IN6_IS_ADDR_UNSPECIFIED(&a->conf->pod_net6) &&
	    agent_open_pool6(a) < 0)
		return -1;
	r = pod_reconcile(a->conf, a->ipam, a->ipam6);
	if (r < 0)
		log_errno(LOG_WARNING, r, "reconcile: pods and address pool not compared, ignoring");
	else
		log_info("reconcile: %d repair(s); %zu pod(s) with an address", r,
			 a->ipam ? ipam_used(a->ipam) : ipam6_used(a->ipam6));
	if (teardown_new(TEARDOWN_THREADS, &a->td) < 0)
		return -1;
	return 0;
}

/* The agent socket, the worker threads and the metrics thread. 0 or -1. */
static int start_serving(struct agent *a)
{
	int r;

	if (api_open(a->conf->agent_socket, &a->api) < 0)
		return -1;
	r = worker_new("queries", 8, &a->queries);
	if (r == 0)
		r = worker_new("configurer", 1, &a->configurer);
	if (r < 0)
		return log_errno(LOG_ERR, r, "cannot start the worker threads"), -1;
	return metrics_server_start(&a->metrics, &a->share, a->conf, &a->metrics_server) < 0 ? -1
											      : 0;
}

/* Stops the threads (each after the job in hand), then frees the rest. */
static void stop(struct agent *a)
{
	/* Readers waiting for a commit that will not come: let them in. */
	share_write_done(&a->share, a->conf);
	metrics_server_stop(a->metrics_server);
	worker_free(a->queries);
	if (a->applying)
		log_info("exit: waiting for the BIRD configure in progress to end");
	worker_free(a->configurer);
	apply_job_free(a->finished);
	bird_done(&a->bird);
	sessions_done(&a->sessions);
	confwatch_close(&a->confwatch);
	owners_done(&a->owners);
	ds_free(a->ds);
	free(a->ds_peers);
	free(a->ds_new);
	free(a->svc_all);
	free(a->svc_skipped);
	metrics_done(&a->metrics);
	api_free(a->api);
	teardown_free(a->td); /* finishes the deletions it has queued */
	ipam_free(a->ipam);
	ipam6_free(a->ipam6);
	free(a->text);
	free(a->egress);
	share_done(&a->share);
	conf_free(a->conf);
}

static int run(const char *path)
{
	struct agent a = {0};
	struct rst_err e;
	int sfd, r = 1;

	sessions_init(&a.sessions);
	a.confwatch.fd = -1;
	a.confwatch.wd_real = -1;
	bird_init(&a.bird, NULL);
	if (conf_load(path, &a.conf, &e) < 0) {
		print_conf_error(path, &e);
		return 1;
	}
	log_set_level(a.conf->log_level);
	log_info("starting: node='%s' address=%s config='%s' hash=%s", a.conf->name,
		 inet_ntoa(a.conf->address), path, a.conf->hash);
	if (conf_has_v6(a.conf)) {
		char a6[INET6_ADDRSTRLEN], p6[INET6_ADDRSTRLEN + 8] = "none",
			rid[INET_ADDRSTRLEN];

		inet_ntop(AF_INET6, &a.conf->address6, a6, sizeof(a6));
		if (!a.conf->no_pods) {
			inet_ntop(AF_INET6, &a.conf->pod_net6, p6, sizeof(p6));
			snprintf(p6 + strlen(p6), sizeof(p6) - strlen(p6), "/%u",
				 a.conf->pod_len6);
		}
		inet_ntop(AF_INET, a.conf->router_id.s_addr ? &a.conf->router_id : &a.conf->address,
			  rid, sizeof(rid));
		log_info("starting: %s: address6=%s pod_cidr6=%s router_id=%s",
			 conf_v6_only(a.conf) ? "IPv6-only" : "dual-stack", a6, p6, rid);
	}
	agent_mtu_resolve(a.conf); /* before the datastore writes FLANNEL_MTU */
	share_init(&a.share, a.conf);
	metrics_init(&a.metrics, NULL);
	sfd = signals_open();
	if (sfd < 0)
		goto out;
	if (a.conf->ds_on) {
		r = open_datastore(&a, sfd);
		if (r == 2)
			return 0; /* the opener thread still reads a.conf */
		if (r != 0)
			goto out;
		r = 1;
		a.metrics.ds = a.ds;
	}
	if (start_pods(&a) < 0 || agent_egress_start(&a) < 0 || owners_open(&a.owners, a.conf) < 0 ||
	    agent_render(a.conf, &a.owners, &a.text) < 0 || start_serving(&a) < 0)
		goto out;
	a.sessions.owners = &a.owners;
	bird_init(&a.bird, a.conf);
	/* BIRD is started (or adopted) on the configurer thread: CNI requests
	 * are served meanwhile, and a SIGHUP or datastore change waits for it. */
	agent_bird_start(&a, BIRD_JOB_START);
	confwatch_follow(&a);
	publish(&a);
	r = loop(&a, sfd);
out:
	if (sfd >= 0)
		close(sfd);
	stop(&a);
	return r;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"check-config", no_argument, NULL, 'k'},
		{"render", no_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{0},
	};
	const char *path = CONF_DEFAULT_PATH;
	int mode = 0, o;

	log_init("roostd", LOG_INFO);
	while ((o = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			path = optarg;
			break;
		case 'k':
		case 'r':
			mode = o;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("roostd %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "roostd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (mode == 'k')
		return check_config(path);
	if (mode == 'r')
		return render_only(path);
	return run(path);
}
