/* SPDX-License-Identifier: MIT */
/*
 * reload.c - changing the configuration in force: SIGHUP reloads and
 * datastore changes, each checked and rendered on the loop, applied to BIRD
 * on the configurer thread (bird_apply: `bird -p`, configure, confirm, which
 * can take tens of seconds), then committed on the loop. One change at a
 * time: a second `configure` while BIRD's timeout runs would make the first
 * permanent. A SIGHUP or a datastore change that comes meanwhile waits for
 * its turn (several SIGHUPs make one reload). CNI requests are served all
 * along, against the configuration in force until the commit.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent.h"
#include "birdconf.h"
#include "egress.h"
#include "log.h"
#include "netdev.h"
#include "rst-util.h"

/* While the share is busy, look again this soon. */
#define SHARE_RETRY_MS 20

/* Dual-stack: the IPv6 gateway (first address of node.pod_cidr6) on the
 * bridge, without DAD. */
static int setup_node6(struct netdev *nd, int ifindex, const struct roostd_conf *c)
{
	if (!conf_has_v6(c) || c->no_pods)
		return 0;
	return netdev_addr6_ensure(nd, ifindex, &c->gateway6, c->pod_len6);
}

/* The node side that roostd owns: bridge up with the gateway, forwarding. */
int agent_setup_node(const struct roostd_conf *c)
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
	r = conf_v6_only(c) ? 0 : netdev_addr_ensure(nd, ifindex, c->gateway, c->pod_len);
	if (r >= 0)
		r = setup_node6(nd, ifindex, c);
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
	if (conf_has_v6(c) && !c->no_pods) {
		char g6[INET6_ADDRSTRLEN];

		inet_ntop(AF_INET6, &c->gateway6, g6, sizeof(g6));
		log_info("bridge: '%s' IPv6 gateway=%s/%u", c->bridge_name, g6, c->pod_len6);
		r = netdev_ipv6_forwarding_enable();
		if (r < 0)
			return log_errno(LOG_ERR, r,
					 "sysctl: cannot enable net.ipv6.conf.all.forwarding");
	}
	if (conf_v6_only(c))
		return 0;
	r = netdev_ipv4_forwarding_enable();
	if (r < 0)
		return log_errno(LOG_ERR, r, "sysctl: cannot enable net.ipv4.ip_forward");
	return 0;
}

/* An IPv6-only node: the MTU of the interface of node.address6 (IPv6
 * needs at least 1280). */
static void mtu_resolve6(struct netdev *nd, struct roostd_conf *c)
{
	struct netdev_link_info li;
	char a6[INET6_ADDRSTRLEN];
	int ifindex = netdev_addr6_link(nd, &c->address6);

	inet_ntop(AF_INET6, &c->address6, a6, sizeof(a6));
	if (ifindex > 0 && netdev_link_lookup(nd, ifindex, NULL, &li) == 0 && li.mtu >= 1280) {
		c->bridge_mtu = li.mtu;
		log_info("bridge: mtu %u, as '%s', the interface of node.address6 %s", li.mtu,
			 li.name, a6);
	} else {
		log_warn("bridge: no interface has node.address6 %s; mtu 1500 (bridge.mtu sets it)",
			 a6);
	}
}

void agent_mtu_resolve(struct roostd_conf *c)
{
	struct netdev *nd = NULL;
	struct netdev_link_info li;
	int ifindex, r;

	if (!c->bridge_mtu_auto)
		return;
	c->bridge_mtu = 1500;
	r = netdev_open(&nd);
	if (r < 0) {
		log_errno(LOG_WARNING, r, "bridge: mtu: cannot open a route socket; mtu 1500");
		return;
	}
	if (conf_v6_only(c)) {
		mtu_resolve6(nd, c);
		netdev_free(nd);
		return;
	}
	ifindex = netdev_addr_link(nd, c->address);
	if (ifindex > 0 && netdev_link_lookup(nd, ifindex, NULL, &li) == 0 && li.mtu >= 68) {
		c->bridge_mtu = li.mtu;
		log_info("bridge: mtu %u, as '%s', the interface of node.address %s", li.mtu,
			 li.name, inet_ntoa(c->address));
	} else {
		log_warn("bridge: no interface has node.address %s; mtu 1500 (bridge.mtu sets it)",
			 inet_ntoa(c->address));
	}
	netdev_free(nd);
}

/* Whether c needs the egress table (else the script only removes it). */
static bool egress_wanted(const struct roostd_conf *c)
{
	return c->masquerade && !c->no_pods && !conf_v6_only(c);
}

int agent_egress_start(struct agent *a)
{
	char err[256];
	int64_t t0;
	int r;

	if (egress_render(a->conf, &a->egress) < 0)
		return log_errno(LOG_ERR, ENOMEM, "egress: cannot render the nftables table"), -1;
	t0 = rst_now_us();
	r = egress_apply(a->egress, err, sizeof(err));
	if (r < 0 && egress_wanted(a->conf)) {
		log_error("egress: nftables refused table ip " EGRESS_TABLE ": %s (egress.masquerade = false runs without masquerade)",
			  err);
		return -1;
	}
	if (r < 0)
		log_warn("egress: masquerade off; a leftover table ip " EGRESS_TABLE " could not be removed: %s, ignoring",
			 err);
	else
		log_info("egress: masquerade %s: table ip " EGRESS_TABLE " %s in %.1f ms",
			 egress_wanted(a->conf) ? "on" : "off",
			 egress_wanted(a->conf) ? "replaced" : "absent",
			 (double)(rst_now_us() - t0) / 1000.0);
	return 0;
}

int agent_render(const struct roostd_conf *c, const struct owners *o, char **ret_text)
{
	_cleanup_free_ struct bc_owner *owners = NULL;
	_cleanup_free_ struct bc_owner6 *owners6 = NULL;
	_cleanup_free_ struct bc_client6 *clients6 = NULL;
	_cleanup_free_ struct bc_announce *ann = NULL;
	struct bc_node node;
	struct rst_err e;
	char buf[1024];
	int r;

	conf_to_node(c, &node);
	if (o) {
		if (owners_merge(o->learned, o->n_learned, c, &owners, &node.n_owners) < 0)
			return log_errno(LOG_ERR, ENOMEM, "cannot render the BIRD configuration");
		node.owners = owners;
		if (owners_merge6(o->learned6, o->n_learned6, c, &owners6, &node.n_owners6) < 0)
			return log_errno(LOG_ERR, ENOMEM, "cannot render the BIRD configuration");
		node.owners6 = owners6;
		if (owners_clients6(o->clients6, o->n_clients6, c, &clients6, &node.n_clients6) < 0)
			return log_errno(LOG_ERR, ENOMEM, "cannot render the BIRD configuration");
		node.clients6 = clients6;
	}
	if (c->n_svc) { /* bgp.services: after bgp.announce */
		ann = calloc(c->n_announce + c->n_svc, sizeof(*ann));
		if (!ann)
			return log_errno(LOG_ERR, ENOMEM, "cannot render the BIRD configuration");
		if (c->n_announce)
			memcpy(ann, c->announce, c->n_announce * sizeof(*ann));
		memcpy(ann + c->n_announce, c->svc, c->n_svc * sizeof(*ann));
		node.announce = ann;
		node.n_announce = c->n_announce + c->n_svc;
	}
	r = bc_render_string(&node, ret_text, &e);
	if (r < 0) {
		rst_err_format(&e, buf, sizeof(buf));
		log_error("%s: cannot render the BIRD configuration: %s", c->path, buf);
	}
	return r;
}

/* Dual-stack: the IPv6 pool, in its own folder "<agent_network>6". */
int agent_open_pool6(struct agent *a)
{
	const struct roostd_conf *c = a->conf;
	char network[80];
	int r;

	snprintf(network, sizeof(network), "%s6", c->agent_network);
	r = ipam6_open(c->state_dir, network, &c->pod_net6, c->pod_len6, &a->ipam6);
	if (r == -EBUSY)
		return log_errno(LOG_ERR, r, "ipam6: '%s/%s' is in use by another roostd",
				 c->state_dir, network);
	if (r < 0)
		return log_errno(LOG_ERR, r, "ipam6: cannot open '%s/%s'", c->state_dir, network);
	return 0;
}

/* What a reload cannot change while pods hold addresses and clients hold
 * the socket path; NULL when nothing of that changed. */
static const char *fixed_key_changed(const struct roostd_conf *o, const struct roostd_conf *n)
{
	if (o->pod_net.s_addr != n->pod_net.s_addr || o->pod_len != n->pod_len)
		return "node.pod_cidr";
	/* Dual-stack: IPv6 may be turned on by a reload (the gateway is
	 * added, the pool opened), but an IPv6 subnet is neither swapped for
	 * another nor taken away while pods may hold its addresses. */
	if (o->pod_len6 && !o->no_pods && !n->no_pods &&
	    (memcmp(&o->pod_net6, &n->pod_net6, sizeof(o->pod_net6)) != 0 ||
	     o->pod_len6 != n->pod_len6))
		return "node.pod_cidr6";
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

void apply_job_free(struct apply_job *j)
{
	if (!j)
		return;
	bird_done(&j->bird);
	free(j->text);
	conf_free(j->nc);
	free(j->mesh);
	free(j->static_routes);
	free(j->static_routes6);
	free(j->lease_owners);
	free(j->route_reflectors);
	free(j->peers);
	free(j->egress);
	free(j->egress_undo);
	free(j->svc_list);
	free(j->svc_why);
	free(j);
}

/* SIGHUP: everything is checked before anything changes. The job to apply,
 * or NULL when the new configuration is refused (logged). */
static struct apply_job *reload_prepare(struct agent *a)
{
	struct roostd_conf *nc = NULL;
	const struct roostd_conf *old = a->conf;
	struct apply_job *j;
	char *text = NULL, buf[1024];
	struct rst_err e;

	log_info("reload: reading '%s'", old->path);
	if (conf_load(old->path, &nc, &e) < 0) {
		rst_err_format(&e, buf, sizeof(buf));
		log_error("reload: '%s' has errors, not reloading: %s", old->path, buf);
		return NULL;
	}
	if (a->ds && (!nc->ds_on || ds_fill(nc, a->ds, a->ds_peers, a->n_ds_peers) < 0)) {
		log_error("reload: '%s' %s, not reloading", old->path,
			  nc->ds_on ? "does not fit the datastore's subnets"
				    : "drops the datastore; restart roostd for that");
		conf_free(nc);
		return NULL;
	}
	if (a->ds && svc_fill(nc, a->svc_all, a->n_svc_all, a) < 0) {
		log_error("reload: out of memory, not reloading");
		conf_free(nc);
		return NULL;
	}
	if ((nc->svc_lb || nc->svc_external) && !ds_services_followed(a->ds))
		log_warn("reload: bgp.services: Services are followed from roostd's start; restart roostd to announce them");
	if (fixed_key_changed(old, nc)) {
		log_error("reload: %s changed in '%s'; it cannot change while roostd runs (restart roostd after draining the node), not reloading",
			  fixed_key_changed(old, nc), old->path);
		conf_free(nc);
		return NULL;
	}
	if (agent_render(nc, &a->owners, &text) < 0) {
		conf_free(nc);
		return NULL;
	}
	agent_mtu_resolve(nc);
	j = calloc(1, sizeof(*j));
	if (!j) {
		log_error("reload: out of memory, not reloading");
		conf_free(nc);
		free(text);
		return NULL;
	}
	j->reload = true;
	j->nc = nc;
	j->text = text;
	j->egress_required = egress_wanted(nc);
	bird_init(&j->bird, nc);
	if (egress_render(nc, &j->egress) < 0 ||
	    (a->egress && strcmp(a->egress, j->egress) != 0 &&
	     !(j->egress_undo = strdup(a->egress)))) {
		log_error("reload: out of memory, not reloading");
		apply_job_free(j);
		return NULL;
	}
	return j;
}

/* BIRD runs j's configuration: it becomes the one in force. */
static void reload_commit(struct agent *a, struct apply_job *j)
{
	struct roostd_conf *old = a->conf, *nc = TAKE_PTR(j->nc);

	a->bird.conf = nc;
	if (!nc->no_pods &&
	    (strcmp(old->bridge_name, nc->bridge_name) != 0 || old->bridge_mtu != nc->bridge_mtu ||
	     old->gateway.s_addr != nc->gateway.s_addr ||
	     memcmp(&old->gateway6, &nc->gateway6, sizeof(old->gateway6)) != 0))
		(void)agent_setup_node(nc);
	log_set_level(nc->log_level);
	if (egress_wanted(old) != egress_wanted(nc))
		log_info("egress: masquerade %s: table ip " EGRESS_TABLE " %s",
			 egress_wanted(nc) ? "on" : "off", egress_wanted(nc) ? "created" : "removed");
	free(a->egress);
	a->egress = TAKE_PTR(j->egress);
	if (a->ds && (egress_wanted(old) != egress_wanted(nc) || old->bridge_mtu != nc->bridge_mtu))
		ds_subnet_env_update(a->ds, egress_wanted(nc), nc->bridge_mtu);
	log_info("reload: done hash=%s%s", nc->hash,
		 strcmp(a->text, j->text) == 0 ? " (BIRD configuration unchanged)" : "");
	free(a->text);
	a->text = TAKE_PTR(j->text);
	a->conf = nc;
	/* IPv6 turned on: pods added from now on get an IPv6 address too. */
	if (!nc->no_pods && !a->ipam6 && conf_has_v6(nc) &&
	    !IN6_IS_ADDR_UNSPECIFIED(&nc->pod_net6) && agent_open_pool6(a) == 0) {
		char p6[INET6_ADDRSTRLEN];

		inet_ntop(AF_INET6, &nc->pod_net6, p6, sizeof(p6));
		log_info("reload: IPv6 pool %s/%u opened; pods added from now on get an IPv6 address too",
			 p6, nc->pod_len6);
	}
	a->node.reloads_ok++;
	conf_free(old);
}

/* A reload: the egress table first (one nftables transaction: all or
 * nothing), then BIRD; when BIRD refuses, the old table is put back, so a
 * refused reload changes nothing. A change of BIRD's alone has no egress. */
static int egress_then_bird(struct apply_job *j)
{
	char err[200];
	int r;

	if (j->egress) {
		int64_t t0 = rst_now_us();

		r = egress_apply(j->egress, err, sizeof(err));
		log_debug("egress: nft script applied in %.1f ms (%s)",
			  (double)(rst_now_us() - t0) / 1000.0, r < 0 ? "refused" : "ok");
		if (r < 0 && j->egress_required) {
			j->egress_failed = true;
			return rst_err_set(&j->e, -r, j->nc->path, 0,
					   "nftables refused table ip " EGRESS_TABLE ": %s", err);
		}
		if (r < 0)
			log_warn("egress: masquerade off; table ip " EGRESS_TABLE " could not be removed: %s, ignoring",
				 err);
	}
	r = bird_apply(&j->bird, j->text, &j->e);
	if (r == 0 && (j->nc ? j->nc->reflector : j->reflector))
		bird_settle_dynamic(&j->bird, j->nc ? j->nc->mesh : j->mesh,
				    j->nc ? j->nc->n_mesh : j->n_mesh);
	if (r < 0 && j->egress_undo && egress_apply(j->egress_undo, err, sizeof(err)) < 0)
		log_error("egress: the previous table ip " EGRESS_TABLE " could not be put back: %s",
			  err);
	return r;
}

static void apply_run(void *arg)
{
	struct apply_job *j = arg;

	if (j->start == BIRD_JOB_START)
		j->r = bird_start(&j->bird, j->text);
	else if (j->start == BIRD_JOB_RESTART)
		bird_restart(&j->bird, j->text);
	else
		j->r = egress_then_bird(j);
}

/* A start or restart ran: the BIRD it left (pid, pidfd, applied text, the
 * next restart if it failed) is the agent's again. */
static void bird_start_done(struct agent *a, struct apply_job *j)
{
	bird_done(&a->bird);
	a->bird = j->bird;
	a->bird.conf = a->conf;
	bird_init(&j->bird, NULL);
	sessions_kick(&a->sessions);
	if (j->start != BIRD_JOB_START)
		return;
	if (j->r < 0) {
		log_error("not starting: BIRD cannot run the rendered configuration");
		a->failed = true;
	} else {
		a->started = true;
	}
}

void agent_apply_done(void *arg, void *ctx, bool ran)
{
	struct apply_job *j = arg;
	struct agent *a = ctx;
	char buf[1024];

	if (!a) {
		/* roostd is exiting: nothing to commit. */
		apply_job_free(j);
		return;
	}
	a->applying = NULL;
	if (j->start) {
		bird_start_done(a, j);
		apply_job_free(j);
		return;
	}
	if (j->r == 0) {
		a->finished = j;
		return;
	}
	if (j->reload) {
		rst_err_format(&j->e, buf, sizeof(buf));
		log_error("reload: %s the new configuration, keeping the old one: %s",
			  j->egress_failed ? "egress refused" : "BIRD refused", buf);
		a->node.reloads_failed++;
	} else if (j->owners) {
		rst_err_format(&j->e, buf, sizeof(buf));
		log_error("owner: the new import policy was not applied, trying again: %s", buf);
		a->owners.retry = true;
	} else if (j->svc) {
		svc_refused(a, j);
	} else {
		ds_merge_refused(a, j);
	}
	apply_job_free(j);
}

static void submit(struct agent *a, struct apply_job *j)
{
	a->applying = j;
	if (worker_submit(a->configurer, apply_run, agent_apply_done, j) < 0) {
		/* Out of memory for the queue entry: apply here, late beats never. */
		apply_run(j);
		agent_apply_done(j, a, true);
	}
}

void agent_bird_start(struct agent *a, int how)
{
	struct apply_job *j = calloc(1, sizeof(*j));

	if (j)
		j->text = strdup(a->text);
	if (!j || !j->text) {
		free(j);
		log_errno(LOG_ERR, ENOMEM, "bird: cannot start; trying again in 1 s");
		a->bird.next_start_ms = rst_now_ms() + 1000;
		return;
	}
	j->start = how;
	j->bird = a->bird;
	bird_init(&a->bird, a->conf);
	submit(a, j);
}

static void commit(struct agent *a, struct apply_job *j)
{
	/* BIRD's config file is j's now, and so is what BIRD runs. */
	free(a->bird.applied);
	a->bird.applied = TAKE_PTR(j->bird.applied);
	if (j->reload) {
		reload_commit(a, j);
	} else if (j->owners) {
		log_info("owner: import policy applied: %zu learned owner(s)",
			 a->owners.n_learned + a->owners.n_learned6);
		free(a->text);
		a->text = TAKE_PTR(j->text);
	} else if (j->svc) {
		svc_commit(a, j);
	} else {
		ds_merge_commit(a, j);
	}
	apply_job_free(j);
}

/* The session watcher learned or forgot a subnet's owner: the same
 * configuration rendered again (a filter change: no session restarts). */
static struct apply_job *owners_prepare(struct agent *a)
{
	struct apply_job *j;
	char *text = NULL;

	a->owners.changed = false;
	if (agent_render(a->conf, &a->owners, &text) < 0)
		return NULL;
	if (strcmp(text, a->text) == 0 || !(j = calloc(1, sizeof(*j)))) {
		free(text);
		return NULL;
	}
	j->owners = true;
	j->text = text;
	bird_init(&j->bird, a->conf);
	return j;
}

void agent_changes_step(struct agent *a)
{
	struct apply_job *j;

	if (a->finished) {
		if (!share_write_try(&a->share))
			return;
		commit(a, TAKE_PTR(a->finished));
		share_write_done(&a->share, a->conf);
	}
	if (a->applying)
		return;
	/* The datastore first: once share_write_try() was asked, readers wait
	 * for share_write_done(), so nothing may start before it. */
	if (a->ds_new && rst_now_ms() >= a->ds_retry_ms) {
		if (!share_write_try(&a->share))
			return;
		j = ds_merge_prepare(a, TAKE_PTR(a->ds_new), a->n_ds_new);
		share_write_done(&a->share, a->conf);
		if (j) {
			submit(a, j);
			return;
		}
	}
	if (a->svc_wanted && rst_now_ms() >= a->svc_retry_ms) {
		if (!share_write_try(&a->share))
			return;
		j = svc_prepare(a);
		share_write_done(&a->share, a->conf);
		if (j) {
			submit(a, j);
			return;
		}
	}
	if (a->owners.changed && (j = owners_prepare(a))) {
		submit(a, j);
		return;
	}
	if (a->reload_wanted) {
		a->reload_wanted = false;
		j = reload_prepare(a);
		if (j)
			submit(a, j);
		else
			a->node.reloads_failed++;
	}
}

int agent_changes_timeout_ms(struct agent *a)
{
	long long d;

	if (a->finished)
		return SHARE_RETRY_MS;
	if (a->applying)
		return -1;
	if (a->reload_wanted || a->owners.changed)
		return 0;
	if (a->svc_wanted) {
		d = a->svc_retry_ms - rst_now_ms();
		if (d <= 0)
			return SHARE_RETRY_MS;
		if (!a->ds_new || a->ds_retry_ms - rst_now_ms() > d)
			return (int)d;
	}
	if (!a->ds_new)
		return -1;
	d = a->ds_retry_ms - rst_now_ms();
	return d <= 0 ? SHARE_RETRY_MS : (int)d;
}
