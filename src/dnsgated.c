/* dnsgated.c - the daemon: start-up, signals, shutdown.
 * Start-up errors are fatal with one line saying what to do; the table is
 * created only after the DNS sockets are listening, and removed before
 * anything else on exit, so the host is never left redirecting DNS to a
 * daemon that is not there (except after a crash: the next start adopts
 * it with its grants, or `dnsgatectl remove-table` clears it). */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ares.h>
#include <event2/event.h>

#include "attribution.h"
#include "cache.h"
#include "cgroup.h"
#include "config_file.h"
#include "listener.h"
#include "log.h"
#include "nft_gate.h"
#include "nft_watch.h"
#include "nsswitch.h"
#include "policy.h"
#include "query.h"
#include "resolvconf.h"
#include "sockdiag.h"
#include "upstream.h"
#include "xmalloc.h"

struct daemon {
	struct config *cfg;
	const char *config_path;
	struct event_base *base;
	struct cgroup_tree *cgroups;
	struct sockdiag *sockdiag;
	struct attr_ctx *attr;
	struct listener *listener;
	struct upstream *upstream;
	struct gate *gate;
	struct gate_options gate_options;
	struct nft_watch *watch;
	struct event *rebuild;   /* recreates the table, shortly after */
	bool grants_untrusted;   /* since the last rebuild, another program
				    wrote into the grant sets, or we may
				    have missed it */
	int exit_status;
	struct query_engine engine;
	char **upstreams; /* the servers in use, owned here */
	size_t n_upstreams;
};

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: dnsgated [-dhnV] [-c config]\n"
		"  -c FILE  configuration (default " CONFIG_DEFAULT_PATH ")\n"
		"  -d       debug logging\n"
		"  -n       check the configuration, print it and exit\n"
		"  -V       print the version and exit\n");
}

static void
fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
fatal(const char *fmt, ...)
{
	va_list ap;
	char msg[1024];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	log_error("%s", msg);
	exit(1);
}

/* The configured upstreams, or else the host's from resolv.conf. */
static void
choose_upstreams(struct daemon *d)
{
	char skipped[256], err[512];
	size_t i;
	int n;

	for (i = 0; i < d->cfg->n_upstreams; i++) {
		d->upstreams = xreallocarray(d->upstreams, d->n_upstreams + 1,
					     sizeof *d->upstreams);
		d->upstreams[d->n_upstreams++] = xstrdup(d->cfg->upstreams[i]);
	}
	if (d->n_upstreams > 0)
		return;
	n = resolvconf_upstreams(d->cfg->resolv_conf,
				 RESOLVCONF_SYSTEMD_UPSTREAMS, &d->upstreams,
				 &d->n_upstreams, skipped, sizeof skipped, err,
				 sizeof err);
	if (n < 0)
		fatal("no upstream DNS server: %s; set 'upstream' in %s", err,
		      d->config_path);
	if (n == 0)
		fatal("no upstream DNS server: %s lists only %s (loopback ones "
		      "would loop back to dnsgated); set 'upstream' in %s",
		      d->cfg->resolv_conf, skipped[0] ? skipped : "nothing",
		      d->config_path);
	if (skipped[0] != '\0')
		log_info("left out nameservers of %s (loopback, or link-local "
			 "with a scope): %s",
			 d->cfg->resolv_conf, skipped);
}

static void
on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	log_info("%s: stopping", strsignal((int)sig));
	event_base_loopbreak(d->base);
}

static void
on_reload_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	struct policy *p;
	char err[512];

	log_info("SIGHUP: reloading the block lists");
	p = policy_new(d->cfg, err, sizeof err);
	if (p == NULL) {
		log_error("reload failed, keeping the lists in use: %s", err);
		return;
	}
	policy_free(d->engine.policy);
	d->engine.policy = p;
	log_info("block lists reloaded: %zu domains", policy_domain_count(p));
}

/* Makes the table for the cgroup levels the host has now. With report,
 * a table already there keeps its grants when it can (gate_adopt);
 * without, it is replaced, grants and all. */
static struct gate *
open_gate(struct daemon *d, struct gate_adoption *report, char *err,
	  size_t errlen)
{
	d->gate_options.max_level = cgroup_max_level(d->cgroups);
	if (d->gate_options.max_level == 0)
		d->gate_options.max_level = 1;
	d->gate_options.max_grant_sec = d->cfg->grant_ttl_max;
	if (report == NULL)
		return gate_open(&d->gate_options, err, errlen);
	return gate_adopt(&d->gate_options, report, err, errlen);
}

/* What happened to the grants of a table that was there before. */
static void
log_adoption(const struct gate_adoption *r, const char *whose)
{
	if (r->kept) {
		log_info("adopted the table inet %s left by %s with %u live "
			 "grants: apps keep connecting to what they resolved; "
			 "its rules and exempt networks are renewed",
			 GATE_TABLE_NAME, whose, r->grants);
		if (r->n_distrusted > 0)
			log_warn("deleted %zu elements of its grant sets that "
				 "dnsgated cannot have written (without a "
				 "timeout, or longer than grant-ttl-max): "
				 "another program added them, or grant-ttl-max "
				 "was lowered",
				 r->n_distrusted);
	} else if (r->found) {
		log_warn("replaced the table inet %s left by %s: %s. Its %u "
			 "grants are dropped: apps connect again after their "
			 "next lookup (restart an app that seems stuck)",
			 GATE_TABLE_NAME, whose, r->why_dropped, r->grants);
	}
}

/* Recreates the table someone else changed. The grants are kept when the
 * watcher saw no other program write into the grant sets (a rule slipped
 * in, an exempt element added): they are then all our own. After a
 * foreign write there, or lost notifications, nothing in the sets can be
 * told from our own grants, so the table is replaced and apps must
 * resolve again. If it cannot be recreated, nothing is gated and DNS goes
 * nowhere: stop, loudly, so the service manager can restart dnsgated
 * (and the host's network works without it meanwhile). */
static void
on_rebuild(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	struct gate_adoption report;
	bool untrusted = d->grants_untrusted;
	struct gate *g;
	char err[512];

	d->grants_untrusted = false;
	memset(&report, 0, sizeof report);
	g = open_gate(d, untrusted ? NULL : &report, err, sizeof err);
	if (g == NULL) {
		log_error("another program changed the table inet %s and it "
			  "cannot be recreated (%s): stopping, since nothing is "
			  "gated without it",
			  GATE_TABLE_NAME, err);
		d->exit_status = 1;
		event_base_loopbreak(d->base);
		return;
	}
	gate_close(d->gate, false, err, sizeof err);
	d->gate = d->engine.gate = g;
	nft_watch_set_own_portid(d->watch, gate_netlink_portid(g));
	if (report.kept) {
		log_warn("another program changed the table inet %s (a rule or "
			 "an exempt network added by hand?): renewed its rules "
			 "and exempt networks around the %u grants, which it "
			 "did not touch",
			 GATE_TABLE_NAME, report.grants);
		return;
	}
	log_warn("another program changed or deleted the table inet %s (an "
		 "'nft flush ruleset', a firewall reload?): recreated it; "
		 "grants made so far are gone%s, apps connect again after "
		 "their next lookup",
		 GATE_TABLE_NAME,
		 untrusted ? " (it wrote into the grant sets, or its changes "
			     "were not all seen)"
			   : "");
	if (report.found)
		log_warn("the changed table could not be kept: %s",
			 report.why_dropped);
}

/* Lost notifications may have hidden any change: rebuild then too. The
 * timer is not pushed back by later events, so a steady stream of them
 * cannot postpone the rebuild. */
static void
on_table_event(void *arg, enum nft_watch_event what)
{
	struct daemon *d = arg;
	struct timeval soon = {0, 50000}; /* one rebuild per burst */

	if (what == NFT_WATCH_LOST)
		log_warn("nftables notifications were lost: recreating the "
			 "table inet %s to be sure of it",
			 GATE_TABLE_NAME);
	if (what != NFT_WATCH_CHANGED)
		d->grants_untrusted = true;
	if (!evtimer_pending(d->rebuild, NULL))
		evtimer_add(d->rebuild, &soon);
}

static void
start(struct daemon *d)
{
	struct upstream_options uo;
	struct gate_options *go = &d->gate_options;
	struct gate_adoption adoption;
	char err[512];
	size_t i;

	choose_upstreams(d);
	d->engine.policy = policy_new(d->cfg, err, sizeof err);
	if (d->engine.policy == NULL)
		fatal("%s", err);
	d->cgroups = cgroup_tree_open(err, sizeof err);
	if (d->cgroups == NULL)
		fatal("%s: dnsgate keys its grants by cgroup v2 and needs it "
		      "mounted",
		      err);
	d->sockdiag = sockdiag_open(err, sizeof err);
	if (d->sockdiag == NULL)
		fatal("%s", err);
	d->attr = attr_new(d->sockdiag, d->cgroups);

	d->base = event_base_new();
	if (d->base == NULL)
		fatal("cannot create the event loop");
	d->engine.cfg = d->cfg;
	d->engine.cache = cache_new(d->cfg->cache_size);
	d->engine.attr = d->attr;

	memset(&uo, 0, sizeof uo);
	uo.servers = d->upstreams;
	uo.n_servers = d->n_upstreams;
	uo.mark = d->cfg->upstream_mark;
	uo.timeout_ms = d->cfg->upstream_timeout_ms;
	uo.tries = d->cfg->upstream_tries;
	d->upstream = upstream_new(d->base, &uo, err, sizeof err);
	if (d->upstream == NULL)
		fatal("%s", err);
	d->engine.upstream = d->upstream;

	d->listener = listener_new(d->base, d->cfg->listen_port, query_handle,
				   &d->engine, err, sizeof err);
	if (d->listener == NULL)
		fatal("%s", err);

	/* Listen for changes before making the table: none is missed. */
	d->watch = nft_watch_new(d->base, on_table_event, d, err, sizeof err);
	if (d->watch == NULL)
		fatal("%s", err);
	d->rebuild = evtimer_new(d->base, on_rebuild, d);

	go->dns_port = d->cfg->listen_port;
	go->upstream_mark = d->cfg->upstream_mark;
	go->exempt = d->cfg->exempt;
	go->n_exempt = d->cfg->n_exempt;
	go->set_size = d->cfg->set_size;
	d->gate = open_gate(d, &adoption, err, sizeof err);
	if (d->gate == NULL)
		fatal("cannot create the nftables table inet %s: %s",
		      GATE_TABLE_NAME, err);
	d->engine.gate = d->gate;
	nft_watch_set_own_portid(d->watch, gate_netlink_portid(d->gate));
	log_adoption(&adoption, "an earlier dnsgated");

	log_info("dnsgated %s: DNS on 127.0.0.1 and ::1 port %u, upstreams %s, "
		 "%zu blocked domains, gate rules for cgroup levels 1..%u",
		 PACKAGE_VERSION, d->cfg->listen_port,
		 upstream_servers(d->upstream),
		 policy_domain_count(d->engine.policy), go->max_level);
	if (nsswitch_hosts_uses_resolve(NSSWITCH_PATH))
		log_warn("%s has 'resolve' on its hosts line: apps ask "
			 "systemd-resolved over a local socket, so their queries "
			 "reach dnsgate as systemd-resolved's and they get no "
			 "grants (their connections are rejected). Remove "
			 "'resolve [!UNAVAIL=return]' from that line: apps then "
			 "query resolved's stub 127.0.0.53 over DNS, which dnsgate "
			 "attributes to them",
			 NSSWITCH_PATH);
	for (i = 0; i < d->cfg->n_exempt; i++) {
		char a[64];

		log_debug("exempt: %s/%u",
			  ip_addr_format(&d->cfg->exempt[i].addr, a, sizeof a),
			  d->cfg->exempt[i].length);
	}
}

/* Returns 0, or 1 when the table could not be removed or recreated. */
static int
stop(struct daemon *d)
{
	const struct query_stats *st = &d->engine.stats;
	char err[256];
	int status = d->exit_status;
	size_t i;

	/* The watcher first (the table's removal is our own doing), then the
	 * redirect, so DNS works again at once. */
	nft_watch_free(d->watch);
	if (d->rebuild != NULL)
		event_free(d->rebuild);
	if (gate_close(d->gate, true, err, sizeof err) < 0) {
		log_error("cannot remove the table inet %s: %s; until it is "
			  "removed DNS and new connections fail: run "
			  "'dnsgatectl remove-table'",
			  GATE_TABLE_NAME, err);
		status = 1;
	}
	d->gate = d->engine.gate = NULL;
	upstream_free(d->upstream); /* answers pending queries SERVFAIL */
	listener_free(d->listener);
	log_info("stopped: %llu queries, %llu allowed, %llu blocked, %llu "
		 "failed, %llu malformed, %llu from cache, %llu grants%s",
		 (unsigned long long)st->queries,
		 (unsigned long long)st->allowed,
		 (unsigned long long)st->blocked,
		 (unsigned long long)st->failed,
		 (unsigned long long)st->malformed,
		 (unsigned long long)st->cache_hits,
		 (unsigned long long)st->grants,
		 status == 0 ? "; table inet " GATE_TABLE_NAME " removed" : "");
	cache_free(d->engine.cache);
	policy_free(d->engine.policy);
	attr_free(d->attr);
	sockdiag_close(d->sockdiag);
	cgroup_tree_free(d->cgroups);
	event_base_free(d->base);
	for (i = 0; i < d->n_upstreams; i++)
		free(d->upstreams[i]);
	free(d->upstreams);
	config_free(d->cfg);
	return status;
}

int
main(int argc, char **argv)
{
	struct daemon d;
	struct event *sigint, *sigterm, *sighup;
	sigset_t stop_signals;
	bool check_only = false;
	char err[1024];
	int ch, status;

	memset(&d, 0, sizeof d);
	d.config_path = CONFIG_DEFAULT_PATH;
	while ((ch = getopt(argc, argv, "c:dhnV")) != -1) {
		switch (ch) {
		case 'c':
			d.config_path = optarg;
			break;
		case 'd':
			log_set_level(LOG_LEVEL_DEBUG);
			break;
		case 'n':
			check_only = true;
			break;
		case 'V':
			printf("dnsgated %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	d.cfg = config_load(d.config_path, err, sizeof err);
	if (d.cfg == NULL) {
		fprintf(stderr, "dnsgated: %s\n", err);
		return 1;
	}
	if (check_only) {
		config_print(d.cfg, stdout);
		config_free(d.cfg);
		return 0;
	}
	if (d.cfg->log_file != NULL && log_set_file(d.cfg->log_file) < 0) {
		fprintf(stderr, "dnsgated: cannot open log-file %s: %s\n",
			d.cfg->log_file, strerror(errno));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	/* Held until the loop can handle them: a signal between creating the
	 * table and handling it must not leave the table behind. */
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGHUP);
	sigprocmask(SIG_BLOCK, &stop_signals, NULL);
	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS)
		fatal("cannot initialise c-ares");

	start(&d);
	sigint = evsignal_new(d.base, SIGINT, on_stop_signal, &d);
	sigterm = evsignal_new(d.base, SIGTERM, on_stop_signal, &d);
	sighup = evsignal_new(d.base, SIGHUP, on_reload_signal, &d);
	evsignal_add(sigint, NULL);
	evsignal_add(sigterm, NULL);
	evsignal_add(sighup, NULL);
	sigprocmask(SIG_UNBLOCK, &stop_signals, NULL);

	event_base_dispatch(d.base);

	/* Freeing the signal events restores the default actions: hold the
	 * signals from here on, or a second Ctrl-C would kill the daemon
	 * before it removes the table. */
	sigprocmask(SIG_BLOCK, &stop_signals, NULL);
	event_free(sigint);
	event_free(sigterm);
	event_free(sighup);
	status = stop(&d);
	ares_library_cleanup();
	log_set_file(NULL);
	return status;
}
