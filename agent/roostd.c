/* SPDX-License-Identifier: MIT */
/*
 * roostd.c - the roost node agent: main() and its poll() loop.
 *
 * At start: load and check the config, make sure the bridge has the pod
 * gateway address and is up, turn on IPv4 forwarding, render BIRD's config,
 * then adopt the running BIRD or spawn one. Afterwards the loop waits for
 * signals (HUP reload, TERM/INT exit) and for BIRD's death (pidfd).
 * roostd never stops BIRD: leaving, for whatever reason, changes no route.
 * Pod veths are deleted by the teardown pool's threads (teardown.h); the
 * loop polls its eventfd and reaps their jobs in this thread.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "api.h"
#include "bird.h"
#include "birdconf.h"
#include "conf.h"
#include "datastore.h"
#include "ipam.h"
#include "log.h"
#include "metrics.h"
#include "netdev.h"
#include "owners.h"
#include "pod.h"
#include "sessions.h"
#include "teardown.h"

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

/* The node side that roostd owns: bridge up with the gateway, forwarding. */
static int setup_node(const struct roostd_conf *c)
{
	struct netdev *nd = NULL;
	bool created = false;
	int ifindex, r;

	r = netdev_open(&nd);
	if (r < 0)
		return log_errno(LOG_ERR, r, "netlink: cannot open a route socket");
	ifindex = netdev_bridge_ensure(nd, c->bridge_name, c->bridge_mtu, &created, NULL);
	if (ifindex < 0) {
		netdev_free(nd);
		return log_errno(LOG_ERR, ifindex, "bridge '%s': setup failed", c->bridge_name);
	}
	r = netdev_addr_ensure(nd, ifindex, c->gateway, c->pod_len);
	/* An adopted bridge (made by an older roost or by hand) may let its
	 * MAC follow its ports; pin it once at start. */
	if (r >= 0 && !created)
		r = netdev_link_pin_addr(nd, ifindex);
	netdev_free(nd);
	if (r < 0)
		return log_errno(LOG_ERR, r, "bridge '%s': gateway address failed",
				 c->bridge_name);
	log_info("bridge: '%s' %s, up, mtu=%u gateway=%s/%u", c->bridge_name,
		 created ? "created" : "adopted", c->bridge_mtu, inet_ntoa(c->gateway), c->pod_len);
	r = netdev_ipv4_forwarding_enable();
	if (r < 0)
		return log_errno(LOG_ERR, r, "sysctl: cannot enable net.ipv4.ip_forward");
	return 0;
}

/* Renders c, with the subnet owners learned at run time (o, may be NULL). */
static int render(const struct roostd_conf *c, const struct owners *o, char **ret_text)
{
	_cleanup_free_ struct bc_owner *owners = NULL;
	struct bc_node node;
	struct rst_err e;
	char buf[1024];
	int r;

	conf_to_node(c, &node);
	if (o) {
		if (owners_merge(o->learned, o->n_learned, c, &owners, &node.n_owners) < 0)
			return log_errno(LOG_ERR, ENOMEM, "cannot render the BIRD configuration");
		node.owners = owners;
	}
	r = bc_render_string(&node, ret_text, &e);
	if (r < 0) {
		rst_err_format(&e, buf, sizeof(buf));
		log_error("%s: cannot render the BIRD configuration: %s", c->path, buf);
	}
	return r;
}

static void print_conf_error(const char *path, const struct rst_err *e)
{
	char buf[1024];

	rst_err_format(e, buf, sizeof(buf));
	fprintf(stderr, "%s\n", buf);
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
	if (conf_set_subnets(c, pod, len, cl, cl_len, err, sizeof(err)) == 0 && note)
		fprintf(note, "%s: note: the node's subnet and peers come from the datastore; %s/%u stands in for them here\n",
			c->path, inet_ntoa(pod), len);
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

static long ms_until(const struct timespec *t);

/* A datastore change that BIRD refused is tried again after this long. */
#define DS_RETRY_S 5

struct agent {
	struct roostd_conf *conf; /* owned */
	char *text;               /* owned; the rendered BIRD config in force */
	struct bird bird;
	struct ipam *ipam; /* owned */
	struct teardown *td; /* owned; deletes pod veths in its own threads */
	struct api *api;   /* owned */
	struct metrics metrics;
	struct sessions sessions; /* logs BGP session changes */
	struct owners owners;     /* who owns which pod subnet, as BGP tells */
	struct datastore *ds;     /* owned; NULL without a datastore */
	struct ds_peer *ds_peers; /* owned; the datastore's last peer list */
	size_t n_ds_peers;
	struct ds_peer *ds_pending; /* owned; a newer list not applied yet, or NULL */
	size_t n_ds_pending;
	struct timespec ds_retry; /* CLOCK_MONOTONIC: when to try ds_pending again */
	unsigned long ds_rounds;  /* the session watcher's round last told to ds */
	struct timespec next_textfile; /* CLOCK_MONOTONIC */
};

/* What a reload cannot change while pods hold addresses and clients hold
 * the socket path; NULL when nothing of that changed. */
static const char *fixed_key_changed(const struct roostd_conf *o, const struct roostd_conf *n)
{
	if (o->pod_net.s_addr != n->pod_net.s_addr || o->pod_len != n->pod_len)
		return "node.pod_cidr";
	if (strcmp(o->state_dir, n->state_dir) != 0)
		return "agent.state_dir";
	if (strcmp(o->agent_network, n->agent_network) != 0)
		return "agent.network";
	if (strcmp(o->agent_socket, n->agent_socket) != 0)
		return "agent.socket";
	if (strcmp(o->bird_socket, n->bird_socket) != 0)
		return "bird.socket";
	return NULL;
}

/* A lease whose PublicIP is a session of the file (an external peer, a
 * route reflector, a mesh entry) or whose name is one: why, else NULL. */
static const char *lease_clashes(const struct roostd_conf *c, const struct bc_peer *mesh, size_t m,
				 const struct ds_peer *p)
{
	if (p->roost && !strcmp(p->name, c->name))
		return "its node name is this node's";
	for (size_t j = 0; j < m; j++)
		if ((p->roost && !strcmp(mesh[j].name, p->name)) ||
		    mesh[j].address.s_addr == p->address.s_addr)
			return "it repeats a mesh neighbour's name or address";
	for (size_t j = 0; j < c->n_peers; j++)
		if (c->peers[j].address.s_addr == p->address.s_addr)
			return "its PublicIP is an external peer's (bgp.peers)";
	for (size_t j = 0; j < c->n_route_reflectors; j++)
		if (c->route_reflectors[j].address.s_addr == p->address.s_addr)
			return "its PublicIP is a route reflector's";
	return NULL;
}

/* Datastore mode: the leased subnets and the peers from etcd go into c:
 * roost nodes join the mesh after the file's own entries (bgp.mesh, kept),
 * each owning its leased subnet; flannel host-gw nodes become static routes
 * and owners of theirs. A lease that clashes with the file is skipped and
 * logged. 0 or -errno (logged). */
static int ds_fill(struct roostd_conf *c, struct datastore *ds, const struct ds_peer *p, size_t n)
{
	struct bc_peer *mesh = calloc(c->n_mesh_file + n + 1, sizeof(*mesh));
	struct bc_static_route *st = calloc(n + 1, sizeof(*st));
	struct bc_owner *own = calloc(n + 1, sizeof(*own));
	struct in_addr net, cl;
	unsigned len, cl_len;
	size_t m = c->n_mesh_file, k = 0, o = 0;
	char err[256];

	if (!mesh || !st || !own) {
		free(mesh);
		free(st);
		free(own);
		return -ENOMEM;
	}
	ds_subnets(ds, &net, &len, &cl, &cl_len);
	if (conf_set_subnets(c, net, len, cl, cl_len, err, sizeof(err)) < 0) {
		free(mesh);
		free(st);
		free(own);
		log_error("datastore: %s", err);
		return -EINVAL;
	}
	if (c->n_mesh_file)
		memcpy(mesh, c->mesh, c->n_mesh_file * sizeof(*mesh));
	for (size_t i = 0; i < n; i++) {
		const char *why = lease_clashes(c, mesh, m, &p[i]);

		for (size_t j = 0; j < m && !why; j++)
			if (mesh[j].pod_len && mesh[j].pod_net.s_addr == p[i].net.s_addr)
				why = "bgp.mesh gives its subnet to another node";
		if (why) {
			log_warn("datastore: lease %s/subnets/%s skipped: %s (PublicIP %s)",
				 c->ds_prefix, p[i].key, why, inet_ntoa(p[i].address));
			continue;
		}
		if (!p[i].roost) {
			st[k++] = (struct bc_static_route){p[i].net, p[i].len, p[i].address};
			own[o++] = (struct bc_owner){.net = p[i].net, .len = p[i].len,
						     .via = p[i].address, .exclusive = true};
			continue;
		}
		snprintf(mesh[m].name, sizeof(mesh[m].name), "%s", p[i].name);
		mesh[m].address = p[i].address;
		mesh[m].pod_net = p[i].net;
		mesh[m++].pod_len = p[i].len;
	}
	free(c->mesh);
	c->mesh = mesh;
	c->n_mesh = m;
	free(c->static_routes);
	c->static_routes = st;
	c->n_static_routes = k;
	free(c->owners);
	c->owners = own;
	c->n_owners = o;
	return 0;
}

/* The datastore's peers changed: render and apply like a reload (only the
 * sessions that come or go change in BIRD). */
static void ds_apply(struct agent *a, struct ds_peer *p, size_t n)
{
	struct roostd_conf *c = a->conf, was = *c;
	char *text = NULL, buf[1024] = "";
	struct rst_err e;
	int r = -ENOMEM;

	/* ds_fill replaces (and frees) these: hand it copies, keep the old. */
	c->mesh = calloc(was.n_mesh + 1, sizeof(*c->mesh));
	c->static_routes = NULL;
	c->owners = NULL;
	if (c->mesh) {
		if (was.n_mesh)
			memcpy(c->mesh, was.mesh, was.n_mesh * sizeof(*c->mesh));
		r = ds_fill(c, a->ds, p, n);
	}
	if (r == 0)
		r = render(c, &a->owners, &text);
	if (r == 0 && (r = bird_apply(&a->bird, text, &e)) < 0)
		rst_err_format(&e, buf, sizeof(buf));
	if (r < 0) {
		log_error("datastore: peers changed (%zu), not applied, trying again in %d s%s%s", n,
			  DS_RETRY_S, buf[0] ? ": " : "", buf);
		free(c->mesh);
		free(c->static_routes);
		free(c->owners);
		*c = was; /* also the subnets conf_set_subnets may have set */
		free(text);
		free(a->ds_pending);
		a->ds_pending = p;
		a->n_ds_pending = n;
		clock_gettime(CLOCK_MONOTONIC, &a->ds_retry);
		a->ds_retry.tv_sec += DS_RETRY_S;
		return;
	}
	free(was.mesh);
	free(was.static_routes);
	free(was.owners);
	log_info("datastore: peers applied: %zu mesh neighbour(s), %zu flannel host-gw route(s)",
		 c->n_mesh, c->n_static_routes);
	free(a->text);
	a->text = text;
	free(a->ds_peers);
	a->ds_peers = p;
	a->n_ds_peers = n;
}

/* The datastore's peers changed: render and apply like a reload (only the
 * sessions that come or go change in BIRD). A list that could not be
 * applied is tried again (ds_retry_tick) unless a newer one comes. */
static void ds_changed(struct agent *a)
{
	struct ds_peer *p = NULL;
	size_t n = 0;

	if (ds_take_peers(a->ds, &p, &n) <= 0)
		return;
	free(a->ds_pending);
	a->ds_pending = NULL;
	ds_apply(a, p, n);
}

static void ds_retry_tick(struct agent *a)
{
	struct ds_peer *p = a->ds_pending;

	if (!p || ms_until(&a->ds_retry) > 0)
		return;
	a->ds_pending = NULL;
	ds_apply(a, p, a->n_ds_pending);
}

/* SIGHUP: everything is checked before anything changes. */
static void reload(struct agent *a)
{
	struct roostd_conf *nc = NULL;
	struct roostd_conf *old = a->conf;
	char *text = NULL, buf[1024];
	struct rst_err e;
	int r;

	log_info("reload: reading '%s'", old->path);
	if (conf_load(old->path, &nc, &e) < 0) {
		rst_err_format(&e, buf, sizeof(buf));
		log_error("reload: '%s' has errors, not reloading: %s", old->path, buf);
		a->metrics.reloads_failed++;
		return;
	}
	if (a->ds && (!nc->ds_on || ds_fill(nc, a->ds, a->ds_peers, a->n_ds_peers) < 0)) {
		log_error("reload: '%s' %s, not reloading", old->path,
			  nc->ds_on ? "does not fit the datastore's subnets"
				    : "drops the datastore; restart roostd for that");
		a->metrics.reloads_failed++;
		conf_free(nc);
		return;
	}
	if (fixed_key_changed(old, nc)) {
		log_error("reload: %s changed in '%s'; it cannot change while roostd runs (restart roostd after draining the node), not reloading",
			  fixed_key_changed(old, nc), old->path);
		a->metrics.reloads_failed++;
		conf_free(nc);
		return;
	}
	if (render(nc, &a->owners, &text) < 0) {
		a->metrics.reloads_failed++;
		conf_free(nc);
		return;
	}
	a->bird.conf = nc;
	r = bird_apply(&a->bird, text, &e);
	if (r < 0) {
		rst_err_format(&e, buf, sizeof(buf));
		log_error("reload: BIRD refused the new configuration, keeping the old one: %s",
			  buf);
		a->bird.conf = old;
		a->metrics.reloads_failed++;
		conf_free(nc);
		free(text);
		return;
	}
	if (!nc->no_pods &&
	    (strcmp(old->bridge_name, nc->bridge_name) != 0 || old->bridge_mtu != nc->bridge_mtu ||
	     old->gateway.s_addr != nc->gateway.s_addr))
		(void)setup_node(nc);
	log_set_level(nc->log_level);
	log_info("reload: done hash=%s%s", nc->hash,
		 strcmp(a->text, text) == 0 ? " (BIRD configuration unchanged)" : "");
	free(a->text);
	a->text = text;
	a->conf = nc;
	a->metrics.reloads_ok++;
	conf_free(old);
}

/* The session watcher learned or forgot a subnet's owner: render and apply,
 * like a reload (a filter change: no session restarts). */
static void owners_changed(struct agent *a)
{
	char *text = NULL, buf[1024];
	struct rst_err e;

	if (!a->owners.changed)
		return;
	a->owners.changed = false;
	if (render(a->conf, &a->owners, &text) < 0)
		return;
	if (strcmp(text, a->text) == 0) {
		free(text);
		return;
	}
	if (bird_apply(&a->bird, text, &e) < 0) {
		rst_err_format(&e, buf, sizeof(buf));
		log_error("owner: the new import policy was not applied, trying again: %s", buf);
		a->owners.retry = true;
		free(text);
		return;
	}
	log_info("owner: import policy applied: %zu learned owner(s)", a->owners.n_learned);
	free(a->text);
	a->text = text;
}

/* Datastore mode: after each look at BIRD's sessions, tell the datastore
 * which nodes route (so it keeps their leases alive for them). */
static void ds_routing_tick(struct agent *a)
{
	char (*names)[BC_NAME_MAX + 1];
	size_t n = 0;

	if (!a->ds || a->sessions.rounds == a->ds_rounds)
		return;
	a->ds_rounds = a->sessions.rounds;
	names = calloc(a->conf->n_mesh + 1, sizeof(*names));
	if (!names)
		return;
	for (size_t i = 0; i < a->conf->n_mesh; i++) {
		char sym[BC_NAME_MAX + 8];

		bc_symbol(sym, sizeof(sym), "node_", a->conf->mesh[i].name);
		if (sessions_established(&a->sessions, sym))
			memcpy(names[n++], a->conf->mesh[i].name, sizeof(*names));
	}
	ds_set_routing(a->ds, names, n);
	free(names);
}

static long ms_until(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (t->tv_sec - now.tv_sec) * 1000 + (t->tv_nsec - now.tv_nsec) / 1000000;
}

static int nearer_ms(int a, long b)
{
	if (b < 0)
		return a;
	return a < 0 || b < a ? (int)b : a;
}

/* poll() timeout: the nearest of BIRD's pending restart, the session
 * watcher's next query and the textfile. */
static int loop_timeout_ms(const struct agent *a)
{
	int t = nearer_ms(bird_timeout_ms(&a->bird), sessions_timeout_ms(&a->sessions));
	long f;

	if (a->ds_pending) {
		f = ms_until(&a->ds_retry);
		t = nearer_ms(t, f < 0 ? 0 : f);
	}
	if (!a->conf->metrics_textfile[0])
		return t;
	f = ms_until(&a->next_textfile);
	return nearer_ms(t, f < 0 ? 0 : f);
}

static void textfile_tick(struct agent *a)
{
	if (!a->conf->metrics_textfile[0] || ms_until(&a->next_textfile) > 0)
		return;
	(void)metrics_write_textfile(&a->metrics, a->conf, &a->bird, a->ipam);
	clock_gettime(CLOCK_MONOTONIC, &a->next_textfile);
	a->next_textfile.tv_sec += METRICS_TEXTFILE_INTERVAL_S;
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

static int run(const char *path)
{
	struct agent a = {.metrics = {.fd = -1}};

	sessions_init(&a.sessions);
	struct rst_err e;
	sigset_t mask;
	int sfd, r = 1;

	if (conf_load(path, &a.conf, &e) < 0) {
		print_conf_error(path, &e);
		return 1;
	}
	log_set_level(a.conf->log_level);
	log_info("starting: node='%s' address=%s config='%s' hash=%s", a.conf->name,
		 inet_ntoa(a.conf->address), path, a.conf->hash);

	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		log_errno(LOG_ERR, errno, "signalfd failed");
		goto out;
	}

	if (a.conf->ds_on) {
		char err[256];

		r = ds_open(a.conf, &a.ds, err, sizeof(err));
		if (r < 0) {
			log_error("datastore: %s", err);
			r = 1;
			goto out;
		}
		(void)ds_take_peers(a.ds, &a.ds_peers, &a.n_ds_peers);
		if (ds_fill(a.conf, a.ds, a.ds_peers, a.n_ds_peers) < 0) {
			r = 1;
			goto out;
		}
	}
	if (a.conf->no_pods) {
		/* A route reflector without pods: no bridge, no pool. */
		log_info("node: no node.pod_cidr, so no pods: no bridge, no address pool");
	} else {
		if (setup_node(a.conf) < 0 || open_pool(&a) < 0)
			goto out;
		r = pod_reconcile(a.conf, a.ipam);
		if (r < 0)
			log_errno(LOG_WARNING, r,
				  "reconcile: pods and address pool not compared, ignoring");
		else
			log_info("reconcile: %d repair(s); %zu pod(s) with an address", r,
				 ipam_used(a.ipam));
		r = 1;
		if (teardown_new(TEARDOWN_THREADS, &a.td) < 0)
			goto out;
	}
	if (owners_open(&a.owners, a.conf) < 0)
		goto out;
	a.sessions.owners = &a.owners;
	if (render(a.conf, &a.owners, &a.text) < 0)
		goto out;
	if (api_open(a.conf->agent_socket, &a.api) < 0 || metrics_open(&a.metrics, a.conf) < 0)
		goto out;
	a.metrics.ds = a.ds;
	bird_init(&a.bird, a.conf);
	if (bird_start(&a.bird, a.text) < 0) {
		log_error("not starting: BIRD cannot run the rendered configuration");
		goto out;
	}

	log_info("ready: node='%s' pod_cidr=%s/%u pool=%zu/%zu agent='%s'", a.conf->name,
		 a.conf->no_pods ? "none" : inet_ntoa(a.conf->pod_net), a.conf->pod_len,
		 ipam_used(a.ipam), ipam_size(a.ipam), a.conf->agent_socket);
	for (;;) {
		struct pollfd p[7 + API_MAX_CLIENTS] = {{.fd = sfd, .events = POLLIN},
							{.fd = bird_fd(&a.bird), .events = POLLIN},
							{.fd = api_fd(a.api), .events = POLLIN},
							{.fd = a.metrics.fd, .events = POLLIN},
							{.fd = sessions_fd(&a.sessions), .events = POLLIN},
							{.fd = ds_fd(a.ds), .events = POLLIN},
							{.fd = teardown_fd(a.td), .events = POLLIN}};
		size_t n_clients = api_pollfds(a.api, p + 7, API_MAX_CLIENTS);
		struct api_ctx ctx = {.conf = a.conf,
				      .ipam = a.ipam,
				      .bird = &a.bird,
				      .metrics = &a.metrics,
				      .ds = a.ds,
				      .td = a.td};
		struct signalfd_siginfo si;
		int timeout = loop_timeout_ms(&a), at = api_timeout_ms(a.api);

		if (at >= 0 && (timeout < 0 || at < timeout))
			timeout = at;
		if (poll(p, 7 + n_clients, timeout) < 0 && errno != EINTR) {
			log_errno(LOG_ERR, errno, "poll failed");
			break;
		}
		if (p[1].fd >= 0 && (p[1].revents & POLLIN))
			bird_on_exit(&a.bird);
		bird_tick(&a.bird, a.text);
		sessions_tick(&a.sessions, a.conf);
		owners_changed(&a);
		ds_routing_tick(&a);
		a.metrics.conflicts = a.owners.n_conflicts;
		a.metrics.conflicts_total = a.owners.conflicts_total;
		a.metrics.session_ups = a.sessions.ups;
		a.metrics.session_downs = a.sessions.downs;
		if (p[5].fd >= 0 && (p[5].revents & POLLIN))
			ds_changed(&a);
		ds_retry_tick(&a);
		if (p[6].fd >= 0 && (p[6].revents & POLLIN))
			api_teardown_done(a.api, &ctx);
		api_handle(a.api, p + 7, n_clients, &ctx);
		if (p[2].revents & POLLIN)
			api_serve(a.api, &ctx);
		if (p[3].fd >= 0 && (p[3].revents & POLLIN))
			metrics_serve(&a.metrics, a.conf, &a.bird, a.ipam);
		textfile_tick(&a);
		if (!(p[0].revents & POLLIN))
			continue;
		if (read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		if (si.ssi_signo == SIGHUP) {
			reload(&a);
		} else {
			log_info("exiting on signal %u; BIRD pid=%d keeps running and keeps its routes",
				 si.ssi_signo, (int)a.bird.pid);
			r = 0;
			break;
		}
	}
out:
	if (sfd >= 0)
		close(sfd);
	bird_done(&a.bird);
	sessions_done(&a.sessions);
	owners_done(&a.owners);
	ds_free(a.ds);
	free(a.ds_peers);
	free(a.ds_pending);
	metrics_close(&a.metrics);
	api_free(a.api);
	teardown_free(a.td); /* finishes the deletions it has queued */
	ipam_free(a.ipam);
	free(a.text);
	conf_free(a.conf);
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
