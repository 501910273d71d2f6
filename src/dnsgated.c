/* dnsgated.c - the daemon: start-up, signals, shutdown.
 * Start-up errors are fatal with one line saying what to do; the table is
 * created only after the DNS sockets are listening, and removed before
 * anything else on exit, so the host is never left redirecting DNS to a
 * daemon that is not there (except after a crash: the next start, or
 * `dnsgatectl remove-table`, clears it). */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ares.h>
#include <event2/event.h>

#include "attribution.h"
#include "cache.h"
#include "cgroup.h"
#include "config_file.h"
#include "control.h"
#include "listener.h"
#include "log.h"
#include "nft_gate.h"
#include "nft_watch.h"
#include "nsswitch.h"
#include "policy.h"
#include "query.h"
#include "resolvconf.h"
#include "sockdiag.h"
#include "status.h"
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
	struct control *control;
	struct status_sources status;
	struct event *rebuild;   /* recreates the table, shortly after */
	int exit_status;
	struct query_engine engine;
	char **upstreams; /* the servers in use, owned here */
	size_t n_upstreams;
};

static time_t
monotonic_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static time_t
monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

/* Each list is read again; one that cannot be read or looks broken keeps
 * its copy in use (policy_reload says which, and why). */
static void
on_reload_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	struct policy_stats st;
	struct policy *p;
	char err[512];

	log_info("SIGHUP: reloading the block lists");
	p = policy_reload(d->engine.policy, d->cfg, err, sizeof err);
	if (p == NULL) {
		log_error("reload failed, keeping the lists in use: %s", err);
		return;
	}
	policy_free(d->engine.policy);
	d->engine.policy = p;
	policy_get_stats(p, &st);
	if (st.lists_kept > 0)
		log_warn("block lists reloaded: %zu domains; %zu of %zu lists "
			 "kept their copy in use (see above)",
			 st.domains, st.lists_kept, st.lists);
	else
		log_info("block lists reloaded: %zu domains", st.domains);
}

/* The control socket's requests. */
static int
on_control(void *arg, const char *command, const char *request, size_t len,
	   struct json_out *out, char *err, size_t errlen)
{
	struct daemon *d = arg;

	if (strcmp(command, "status") == 0) {
		status_json(&d->status, out);
		return 0;
	}
	snprintf(err, errlen, "unknown command '%s' (known: status)", command);
	return -1;
}

/* Creates the table for the cgroup levels the host has now. */
static struct gate *
open_gate(struct daemon *d, char *err, size_t errlen)
{
	d->gate_options.max_level = cgroup_max_level(d->cgroups);
	if (d->gate_options.max_level == 0)
		d->gate_options.max_level = 1;
	return gate_open(&d->gate_options, err, errlen);
}

/* Recreates the table someone else changed. Grants are lost with it:
 * apps must resolve again, so say so. If it cannot be recreated, nothing
 * is gated and DNS goes nowhere: stop, loudly, so the service manager can
 * restart dnsgated (and the host's network works without it meanwhile). */
static void
on_rebuild(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	struct gate *g;
	char err[512];

	g = open_gate(d, err, sizeof err);
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
	query_engine_grants_lost(&d->engine);
	nft_watch_set_own_portid(d->watch, gate_netlink_portid(g));
	log_warn("another program changed or deleted the table inet %s (an "
		 "'nft flush ruleset', a firewall reload?): recreated it; "
		 "grants made so far are gone, apps connect again after their "
		 "next lookup",
		 GATE_TABLE_NAME);
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
	if (!evtimer_pending(d->rebuild, NULL))
		evtimer_add(d->rebuild, &soon);
}

/* Every upstream forwards back to dnsgated: nothing could be resolved,
 * so stop (and remove the table) rather than serve SERVFAIL for ever. */
static void
on_loop_check(void *arg, size_t n_usable)
{
	struct daemon *d = arg;

	if (n_usable > 0)
		return;
	log_error("every upstream loops back to dnsgated (see above): "
		  "stopping; set 'upstream' in %s to a resolver that does not "
		  "forward to this host",
		  d->config_path);
	d->exit_status = 1;
	event_base_loopbreak(d->base);
}

/* One line per upstream server, for the exit log. */
static void
start(struct daemon *d)
{
	struct upstream_options uo;
	struct gate_options *go = &d->gate_options;
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
	cache_set_max_stale(d->engine.cache, d->cfg->max_stale);
	d->engine.attr = d->attr;
	d->engine.cgroups = d->cgroups;
	query_engine_start(&d->engine, d->base);

	memset(&uo, 0, sizeof uo);
	uo.servers = d->upstreams;
	uo.n_servers = d->n_upstreams;
	uo.mark = d->cfg->upstream_mark;
	uo.deadline_ms = d->cfg->upstream_deadline_ms;
	uo.try_max_ms = d->cfg->upstream_timeout_ms;
	uo.tries = d->cfg->upstream_tries;
	uo.listen_port = d->cfg->listen_port; /* itself: refused */
	d->upstream = upstream_new(d->base, &uo, err, sizeof err);
	if (d->upstream == NULL)
		fatal("%s", err);
	d->engine.upstream = d->upstream;

	d->listener = listener_new(d->base, d->cfg->listen_port, query_handle,
				   &d->engine, err, sizeof err);
	if (d->listener == NULL)
		fatal("%s", err);
	listener_set_tcp_hooks(d->listener, query_tcp_open, query_tcp_close,
			       &d->engine);
	d->status.engine = &d->engine;
	d->status.upstream = d->upstream;
	d->status.started = monotonic_seconds();
	if (d->cfg->control_socket != NULL) {
		d->control = control_new(d->base, d->cfg->control_socket,
					 on_control, d, err, sizeof err);
		if (d->control == NULL)
			fatal("%s", err);
	}

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
	d->gate = open_gate(d, err, sizeof err);
	if (d->gate == NULL)
		fatal("cannot create the nftables table inet %s: %s",
		      GATE_TABLE_NAME, err);
	d->engine.gate = d->gate;
	nft_watch_set_own_portid(d->watch, gate_netlink_portid(d->gate));
	/* With the redirect in place: a loop through another resolver on
	 * this host shows only now. */
	upstream_check_loops(d->upstream, on_loop_check, d);

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

/* Runs the loop until every TCP answer is written, for at most 200 ms:
 * a client that does not read is not waited for. */
static void
flush_answers(struct daemon *d)
{
	time_t start = monotonic_ms();

	while (listener_output_pending(d->listener) &&
	       monotonic_ms() - start < 200) {
		event_base_loop(d->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		usleep(1000);
	}
}

/* Returns 0, or 1 when the table could not be removed or recreated. */
static int
stop(struct daemon *d)
{
	char err[256];
	int status = d->exit_status;
	size_t i;

	/* No new query is taken; the ones out are answered (SERVFAIL) while
	 * the redirect still exists, for their answers go back through its
	 * NAT, and TCP answers get a moment to be written. Then the watcher
	 * (the table's removal is our own doing) and the table, so DNS works
	 * again at once. */
	control_free(d->control);
	listener_pause(d->listener);
	query_engine_stop(&d->engine);
	flush_answers(d);
	status_log(&d->status, "at exit");
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
	/* The upstream callbacks free the records of the queries answered
	 * above, then the sockets close. */
	upstream_free(d->upstream);
	d->status.upstream = NULL;
	listener_free(d->listener);
	log_info("stopped: %llu queries%s",
		 (unsigned long long)d->engine.stats.queries,
		 status == 0 ? "; table inet " GATE_TABLE_NAME " removed" : "");
	query_engine_free(&d->engine);
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

/* dnsgated -n: one line per file that cannot be used. */
static void
report_config_problem(void *arg, bool error, const char *text)
{
	fprintf(stderr, "dnsgated: %s%s\n", error ? "" : "warning: ", text);
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
		size_t problems =
		    config_check_files(d.cfg, report_config_problem, NULL);

		if (problems > 0) {
			fprintf(stderr,
				"dnsgated: %s: %zu file%s named there cannot "
				"be used\n",
				d.config_path, problems, problems == 1 ? "" : "s");
			config_free(d.cfg);
			return 1;
		}
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
