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
#include <time.h>
#include <unistd.h>

#include <ares.h>
#include <event2/event.h>

#include "resolver/cache.h"
#include "resolver/listener.h"
#include "resolver/message.h"
#include "resolver/resolvconf.h"
#include "resolver/upstream.h"
#include "src/attribution.h"
#include "src/cgroup.h"
#include "src/clock.h"
#include "src/config_file.h"
#include "src/control.h"
#include "src/events.h"
#include "src/explain.h"
#include "src/fetch.h"
#include "src/json.h"
#include "src/log.h"
#include "src/nft_dump.h"
#include "src/nft_gate.h"
#include "src/nft_watch.h"
#include "src/nsswitch.h"
#include "src/policy.h"
#include "src/query.h"
#include "src/rejections.h"
#include "src/reloader.h"
#include "src/sockdiag.h"
#include "src/standing.h"
#include "src/status.h"
#include "src/xmalloc.h"

struct update_request;

/* A dnsgatectl reload (or an update whose downloads brought new copies)
 * waiting for the build that answers it. */
struct reload_waiter {
	uint64_t ticket; /* control_later's */
	uint64_t build;  /* reloader_request's */
	struct update_request *update; /* NULL: a reload's reply */
};

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
	bool grants_untrusted;   /* since the last rebuild, another program
				    wrote into the grant sets, or we may
				    have missed it */
	int exit_status;
	struct gate_failsafe *failsafe; /* fail-mode open: for faults */
	struct standing *standing; /* the net= rules' grants */
	struct query_engine engine;
	struct reloader *reloader; /* builds the next policy off the loop */
	struct reload_waiter *waiters; /* dnsgatectl reload: the replies */
	size_t n_waiters;
	uint64_t last_build;  /* the newest build requested */
	uint64_t built;       /* the newest build done (swapped or refused) */
	char **upstreams; /* the servers in use, owned here */
	size_t n_upstreams;
	struct fetch *fetch; /* the https:// lists' downloads */
	struct events events; /* one record per decision and rejection */
	struct rejections *rejections; /* the gate's, told every second */
	struct event *rejections_timer;
	int rejections_error; /* the last poll's error, said once */
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

/* --- signals -------------------------------------------------------------
 * Every signal that can be caught means something or is ignored
 * (dnsgated(8), SIGNALS), so that none ends the daemon by its default
 * action and leaves the host's DNS redirected to nobody. */

/* Signals whose default would end or stop the daemon and which mean
 * nothing to it; the real-time signals are ignored too. */
static const int ignored_signals[] = {
	SIGPIPE, SIGALRM, SIGVTALRM, SIGPROF, SIGIO,   SIGPWR,
	SIGXFSZ, SIGXCPU, SIGSTKFLT, SIGTSTP, SIGTTIN, SIGTTOU,
};

/* Faults cannot be survived: the process dies of them. */
static const int fault_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE,
				    SIGABRT, SIGSYS, SIGTRAP};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static void
ignore_signals(void)
{
	size_t i;
	int sig;

	for (i = 0; i < N_OF(ignored_signals); i++)
		signal(ignored_signals[i], SIG_IGN);
	for (sig = SIGRTMIN; sig <= SIGRTMAX; sig++)
		signal(sig, SIG_IGN);
}

/* The handler of a fault can only use what was made before. */
static const struct gate_failsafe *volatile fault_failsafe;

/* fail-mode open: the table goes with the daemon (one sendto of a batch
 * built at start), then the fault takes its course: the signal, raised
 * again with its default action, ends the process with a core dump. */
static void
on_fault(int sig)
{
	gate_failsafe_fire(fault_failsafe);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* In fail-mode open only; in closed the table stays for the restart to
 * adopt. On its own stack, so a stack overflow can still be handled. */
static void
arm_fault_failsafe(struct daemon *d)
{
	static char fault_stack[64 * 1024];
	stack_t stack;
	struct sigaction sa;
	char err[256];
	size_t i;

	if (d->cfg->fail_mode != CONFIG_FAIL_OPEN)
		return;
	d->failsafe = gate_failsafe_new(err, sizeof err);
	if (d->failsafe == NULL)
		fatal("fail-mode open: cannot prepare the removal of the table "
		      "for a crash: %s",
		      err);
	fault_failsafe = d->failsafe;
	memset(&stack, 0, sizeof stack);
	stack.ss_sp = fault_stack;
	stack.ss_size = sizeof fault_stack;
	sigaltstack(&stack, NULL);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_fault;
	sa.sa_flags = SA_ONSTACK | SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < N_OF(fault_signals); i++)
		sigaction(fault_signals[i], &sa, NULL);
}

static void
on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	log_info("%s: stopping", strsignal((int)sig));
	event_base_loopbreak(d->base);
}

/* dnsmasq's meaning of SIGUSR1. */
static void
on_statistics_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	status_log(&d->status, "(SIGUSR1)");
}

/* For logrotate: the file was moved away, write a new one. */
static void
on_reopen_signal(evutil_socket_t sig, short what, void *arg)
{
	if (log_file_path() == NULL) {
		log_info("SIGUSR2: logging to standard error, no log-file to "
			 "reopen");
		return;
	}
	if (log_reopen() < 0) {
		log_error("SIGUSR2: cannot reopen log-file %s: %s; still "
			  "writing to the file opened before",
			  log_file_path(), strerror(errno));
		return;
	}
	log_info("SIGUSR2: reopened log-file %s", log_file_path());
}

/* The config text without the lines a reload applies (blocklist, list,
 * rules), to tell whether anything else changed. */
static char *
settings_text(const struct config *cfg)
{
	char *text = NULL, *line, *out;
	size_t len = 0, used = 0;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL)
		return NULL;
	config_print(cfg, f);
	fclose(f);
	out = xcalloc(1, len + 1);
	for (line = strtok(text, "\n"); line != NULL;
	     line = strtok(NULL, "\n")) {
		if (strncmp(line, "blocklist ", 10) == 0 ||
		    strncmp(line, "list ", 5) == 0 ||
		    strncmp(line, "rules ", 6) == 0)
			continue;
		used += (size_t)sprintf(out + used, "%s\n", line);
	}
	free(text);
	return out;
}

/* The net= rules' grants written again for every cgroup, from the
 * policy in use (at start, after a reload, after the table is rebuilt). */
static void
resync_standing(struct daemon *d)
{
	char err[512];

	if (d->standing != NULL &&
	    standing_resync(d->standing, err, sizeof err) < 0)
		log_warn("standing grants (net= rules): %s; tried again at the "
			 "next sweep (within 5 s)",
			 err);
}

/* Reads the config, the rules and the lists again into a new policy, in
 * a thread (src/reloader.c): queries are answered meanwhile with the
 * policy in use, and queries in flight keep the policy they started
 * with. The new policy is swapped in only when all of it parsed (a list
 * that cannot be read or looks broken keeps its copy in use:
 * policy_reload). Other settings take effect at the next start. */
static uint64_t
request_reload(struct daemon *d, const char *why)
{
	bool busy = reloader_busy(d->reloader);
	uint64_t build = reloader_request(d->reloader, why);

	d->last_build = build;
	if (busy)
		log_info("%s: a reload is in progress; another one runs when "
			 "it is done",
			 why);
	else
		log_info("%s: reloading %s, its rules and its lists (queries "
			 "are answered with the policy in use meanwhile)",
			 why, d->config_path);
	return build;
}

static int
fill_reload_reply(void *arg, struct json_out *out, char *err, size_t errlen)
{
	const struct reload_result *r = arg;
	struct policy_stats st;

	if (r->policy == NULL) {
		snprintf(err, errlen, "%s", r->err);
		return -1;
	}
	policy_get_stats(r->policy, &st);
	json_key(out, "reloaded");
	json_bool(out, true);
	json_key(out, "rules");
	json_uint(out, st.rules);
	json_key(out, "rule_files");
	json_uint(out, st.rule_files);
	json_key(out, "lists");
	json_uint(out, st.lists);
	json_key(out, "domains");
	json_uint(out, st.domains);
	json_key(out, "lists_kept");
	json_uint(out, st.lists_kept);
	json_key(out, "ms");
	json_uint(out, r->ms);
	return 0;
}

static int fill_update(void *arg, struct json_out *out, char *err,
		       size_t errlen);

static void
answer_waiters(struct daemon *d, struct reload_result *r)
{
	size_t i, kept = 0;

	d->built = r->build;
	for (i = 0; i < d->n_waiters; i++) {
		struct reload_waiter *w = &d->waiters[i];

		if (w->build > r->build) {
			d->waiters[kept++] = *w;
		} else if (w->update != NULL) {
			control_answer(d->control, w->ticket, fill_update,
				       w->update);
			free(w->update);
		} else {
			control_answer(d->control, w->ticket, fill_reload_reply,
				       r);
		}
	}
	d->n_waiters = kept;
}

static void
add_waiter(struct daemon *d, uint64_t ticket, uint64_t build,
	   struct update_request *update)
{
	d->waiters = xreallocarray(d->waiters, d->n_waiters + 1,
				   sizeof *d->waiters);
	d->waiters[d->n_waiters].ticket = ticket;
	d->waiters[d->n_waiters].build = build;
	d->waiters[d->n_waiters].update = update;
	d->n_waiters++;
}

/* A build is done, on the loop: swap it in, or say why not. */
static void
on_reload_built(void *arg, struct reload_result *r)
{
	struct daemon *d = arg;
	struct policy_stats st;
	char *before, *after;

	if (r->policy == NULL) {
		log_error("reload failed, nothing changed, the policy in use "
			  "stays: %s",
			  r->err);
		answer_waiters(d, r);
		config_free(r->cfg);
		return;
	}
	before = settings_text(d->cfg);
	after = settings_text(r->cfg);
	if (before != NULL && after != NULL && strcmp(before, after) != 0)
		log_warn("%s: settings other than blocklist, list and rules "
			 "changed: they take effect when dnsgated restarts",
			 d->config_path);
	free(before);
	free(after);
	if (d->fetch != NULL)
		fetch_set_lists(d->fetch, r->cfg);
	config_free(r->cfg);
	r->cfg = NULL;
	policy_free(d->engine.policy); /* queries in flight hold it */
	d->engine.policy = r->policy;
	resync_standing(d);
	policy_get_stats(r->policy, &st);
	if (st.lists_kept > 0)
		log_warn("reloaded: %zu rules from %zu files, %zu lists with "
			 "%zu domains; %zu of the lists kept their copy in use "
			 "(see above); %llu ms",
			 st.rules, st.rule_files, st.lists, st.domains,
			 st.lists_kept, (unsigned long long)r->ms);
	else
		log_info("reloaded: %zu rules from %zu files, %zu lists with "
			 "%zu domains; %llu ms",
			 st.rules, st.rule_files, st.lists, st.domains,
			 (unsigned long long)r->ms);
	answer_waiters(d, r);
	r->policy = NULL; /* the engine's now */
}

/* New copies of https:// lists are in the cache: the policy reads them
 * as a reload does. */
static void
on_lists_downloaded(void *arg)
{
	request_reload(arg, "new copies of https:// lists downloaded");
}

static void
on_reload_signal(evutil_socket_t sig, short what, void *arg)
{
	request_reload(arg, "SIGHUP");
}

static int
control_explain(struct daemon *d, const char *request, size_t len,
		struct json_out *out, char *err, size_t errlen)
{
	char app[APP_IDENTITY_KEY_MAX], name[DNS_MAX_NAME + 2];
	struct app_identity *id;
	int64_t uid;

	if (json_flat_get_string(request, len, "app", app, sizeof app) < 0 ||
	    json_flat_get_string(request, len, "name", name, sizeof name) <
		0) {
		snprintf(err, errlen, "explain needs \"app\" (a pid, a cgroup "
			 "path or an app key) and \"name\", strings that fit");
		return -1;
	}
	id = xmalloc(sizeof *id); /* too big for the loop's stack */
	if (explain_identity(app, id, &uid, err, errlen) < 0) {
		free(id);
		return -1;
	}
	explain_json(d->engine.policy, id, uid, name, out);
	free(id);
	return 0;
}

static void
json_time(struct json_out *out, const char *key, int64_t t)
{
	char buf[32];
	struct tm tm;
	time_t tt = (time_t)t;

	json_key(out, key);
	if (t <= 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		json_string(out, "never");
	else
		json_string(out, buf);
}

/* One subscription's download state, into the list's object. */
static void
json_fetch_status(struct json_out *out, const struct fetch_status *fs)
{
	int64_t now = (int64_t)time(NULL);

	json_time(out, "last_fetch", fs->last_attempt);
	json_key(out, "last_result");
	json_string(out, fs->busy ? "downloading now"
		    : fs->last_result[0] ? fs->last_result
					 : "none yet");
	json_key(out, "last_ok");
	json_bool(out, fs->last_ok);
	json_key(out, "copy_age_seconds");
	json_int(out, fs->copy_fetched_at > 0 ? now - fs->copy_fetched_at : -1);
	json_key(out, "next_refresh_seconds");
	json_int(out, fs->busy ? 0
		 : fs->next_refresh > now ? fs->next_refresh - now : 0);
	json_key(out, "refresh_seconds");
	json_uint(out, fs->interval);
}

/* dnsgatectl lists: each list as in force, and a subscription's
 * downloads. */
static int
control_lists(struct daemon *d, struct json_out *out)
{
	struct policy_list_info li;
	struct fetch_status fs;
	int64_t now = (int64_t)time(NULL);
	size_t i;

	json_key(out, "lists");
	json_array_begin(out);
	for (i = 0; policy_list_info(d->engine.policy, i, &li) == 0; i++) {
		bool sub = li.url != NULL && d->fetch != NULL &&
			   fetch_status_of(d->fetch, li.name, &fs) == 0;

		json_object_begin(out);
		json_key(out, "name");
		json_string(out, li.name);
		json_key(out, "applies");
		json_string(out, li.every_app ? "every app (blocklist)"
					      : "apps whose rules name it");
		json_key(out, "source");
		json_string(out, li.url ? li.url : li.path);
		if (li.url != NULL) {
			json_key(out, "cached_copy");
			json_string(out, li.path);
		}
		json_key(out, "format");
		json_string(out, list_format_name(li.format));
		json_key(out, "entries");
		json_uint(out, li.entries);
		json_key(out, "lines");
		json_uint(out, li.lines);
		json_key(out, "skipped");
		json_object_begin(out);
		{
			int k;

			for (k = 0; k < LIST_SKIP_KINDS; k++) {
				json_key(out, list_skip_name((enum list_skip)k));
				json_uint(out, li.stats->skipped[k]);
			}
		}
		json_object_end(out);
		json_key(out, "kept_older_copy");
		json_bool(out, li.kept);
		if (sub) {
			json_fetch_status(out, &fs);
		} else {
			json_key(out, "copy_age_seconds");
			json_int(out, li.loaded_at > 0 ? now - li.loaded_at
						       : -1);
		}
		json_object_end(out);
	}
	json_array_end(out);
	return 0;
}

static bool
is_list(const struct policy *p, const char *name)
{
	struct policy_list_info li;
	size_t i;

	for (i = 0; policy_list_info(p, i, &li) == 0; i++)
		if (strcmp(li.name, name) == 0)
			return true;
	return false;
}

/* dnsgatectl update: answered when the downloads are over. */
struct update_request {
	struct daemon *d;
	uint64_t ticket; /* control_later's */
	char name[128]; /* "" = all */
};

static int
fill_update(void *arg, struct json_out *out, char *err, size_t errlen)
{
	struct update_request *u = arg;
	struct fetch_status fs;
	size_t i;

	json_key(out, "updated");
	json_array_begin(out);
	for (i = 0; u->d->fetch != NULL &&
		    fetch_status_at(u->d->fetch, i, &fs) == 0;
	     i++) {
		if (u->name[0] != '\0' && strcmp(u->name, fs.name) != 0)
			continue;
		json_object_begin(out);
		json_key(out, "name");
		json_string(out, fs.name);
		json_key(out, "ok");
		json_bool(out, fs.last_ok);
		json_key(out, "result");
		json_string(out, fs.last_result);
		json_object_end(out);
	}
	json_array_end(out);
	return 0;
}

static void
on_update_done(void *arg)
{
	struct update_request *u = arg;

	struct daemon *d = u->d;

	/* New copies went to a reload: answer once they are in force. */
	if (d->last_build > d->built) {
		add_waiter(d, u->ticket, d->last_build, u);
		return;
	}
	control_answer(d->control, u->ticket, fill_update, u);
	free(u);
}

static int
control_update(struct daemon *d, const char *request, size_t len, char *err,
	       size_t errlen)
{
	struct update_request *u = xcalloc(1, sizeof *u);
	struct fetch_status fs;
	int rc = json_flat_get_string(request, len, "list", u->name,
				      sizeof u->name);

	if (rc == -2 || d->fetch == NULL || fetch_count(d->fetch) == 0 ||
	    (rc == 0 && fetch_status_of(d->fetch, u->name, &fs) < 0)) {
		if (rc == -2)
			snprintf(err, errlen, "no list has a name that long");
		else if (d->fetch == NULL || fetch_count(d->fetch) == 0)
			snprintf(err, errlen, "there is no https:// list to "
				 "update (files are read again by 'dnsgatectl "
				 "reload')");
		else
			snprintf(err, errlen, "'%s' is no https:// list%s",
				 u->name,
				 is_list(d->engine.policy, u->name)
				     ? " (a file: 'dnsgatectl reload' reads "
				       "it again)"
				     : "");
		free(u);
		return -1;
	}
	u->d = d;
	u->ticket = control_later(d->control);
	if (fetch_update(d->fetch, u->name[0] ? u->name : NULL,
			 on_update_done, u, err, errlen) < 0) {
		/* Checked above: cannot happen. */
		control_answer(d->control, u->ticket, fill_update, u);
		free(u);
		return CONTROL_LATER;
	}
	return CONTROL_LATER;
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
	if (strcmp(command, "reload") == 0) {
		uint64_t build = request_reload(d, "dnsgatectl reload");

		/* Answered when the build is done (answer_waiters). */
		add_waiter(d, control_later(d->control), build, NULL);
		return CONTROL_LATER;
	}
	if (strcmp(command, "explain") == 0)
		return control_explain(d, request, len, out, err, errlen);
	if (strcmp(command, "lists") == 0)
		return control_lists(d, out);
	if (strcmp(command, "update") == 0)
		return control_update(d, request, len, err, errlen);
	snprintf(err, errlen,
		 "unknown command '%s' (known: status, reload, explain, lists, "
		 "update)",
		 command);
	return -1;
}

/* The signals handled on the event loop, and what each does. They are
 * held until the loop handles them. */
static const struct {
	int sig;
	event_callback_fn fn;
} loop_signals[] = {
	{SIGTERM, on_stop_signal},
	{SIGINT, on_stop_signal},
	{SIGQUIT, on_stop_signal},
	{SIGHUP, on_reload_signal},
	{SIGUSR1, on_statistics_signal},
	{SIGUSR2, on_reopen_signal},
};

static void
loop_signal_set(sigset_t *set)
{
	size_t i;

	sigemptyset(set);
	for (i = 0; i < N_OF(loop_signals); i++)
		sigaddset(set, loop_signals[i].sig);
}

/* Makes the table for the cgroup levels the host has now. With report,
 * a table already there keeps its grants when it can (gate_adopt: at a
 * rebuild the watcher vouches for them, at start they are checked);
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
	return gate_adopt(&d->gate_options, d->gate != NULL, report, err,
			  errlen);
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
	/* The sets of standing grants come back empty either way. */
	standing_set_gate(d->standing, g);
	resync_standing(d);
	if (report.kept) {
		/* It may have deleted grants (nft flush set): count what the
		 * kernel holds now, not what the mirror remembers. */
		query_engine_grants_lost(&d->engine);
		if (query_engine_adopt_grants(&d->engine, err, sizeof err) < 0)
			log_warn("cannot read the grants back (%s): they are "
				 "not counted against their apps' shares",
				 err);
		log_warn("another program changed the table inet %s (a rule or "
			 "an exempt network added by hand?): renewed its rules "
			 "and exempt networks around the grants, which it did "
			 "not touch",
			 GATE_TABLE_NAME);
		return;
	}
	query_engine_grants_lost(&d->engine);
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

/* Every second: the connections the gate rejected, with their apps. */
static void
on_rejections_timer(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	char err[256];
	int ret;

	(void)fd;
	(void)what;
	if (d->gate == NULL)
		return;
	ret = rejections_poll(d->rejections, d->gate, err, sizeof err);
	if (ret < 0 && ret != d->rejections_error)
		log_warn("cannot read the rejected connections (%s): they are "
			 "still rejected and counted, but not told with their "
			 "app until this is fixed",
			 err);
	d->rejections_error = ret < 0 ? ret : 0;
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
	d->reloader = reloader_new(d->base, d->config_path, &d->engine.policy,
				   on_reload_built, d, err, sizeof err);
	if (d->reloader == NULL)
		fatal("%s", err);
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
	d->status.started = (time_t)clock_seconds();
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
	d->gate = open_gate(d, &adoption, err, sizeof err);
	if (d->gate == NULL)
		fatal("cannot create the nftables table inet %s: %s",
		      GATE_TABLE_NAME, err);
	d->engine.gate = d->gate;
	nft_watch_set_own_portid(d->watch, gate_netlink_portid(d->gate));
	log_adoption(&adoption, "an earlier dnsgated");
	d->standing = standing_new(d->gate, d->cgroups, query_standing_match,
				   &d->engine);
	d->engine.standing = d->standing;
	resync_standing(d);
	d->rejections = rejections_new(d->cgroups, &d->events, "/proc");
	d->rejections_timer = event_new(d->base, -1, EV_PERSIST,
					on_rejections_timer, d);
	{
		struct timeval second = {1, 0};

		evtimer_add(d->rejections_timer, &second);
	}
	if (adoption.kept &&
	    query_engine_adopt_grants(&d->engine, err, sizeof err) < 0)
		log_warn("cannot read the adopted grants back (%s): they are "
			 "not counted against their apps' shares",
			 err);
	/* With the redirect in place: a loop through another resolver on
	 * this host shows only now. */
	upstream_check_loops(d->upstream, on_loop_check, d);
	/* The https:// lists: downloads start once the loop runs, through
	 * the gate now in place (their sockets carry the upstream mark). */
	{
		struct fetch_options fo;

		memset(&fo, 0, sizeof fo);
		fo.base = d->base;
		fo.upstream = d->upstream;
		fo.mark = d->cfg->upstream_mark;
		fo.ca_file = d->cfg->ca_file;
		fo.cache_dir = d->cfg->list_cache;
		fo.changed = on_lists_downloaded;
		fo.arg = d;
		d->fetch = fetch_new(&fo, err, sizeof err);
		if (d->fetch == NULL)
			fatal("%s", err);
		fetch_set_lists(d->fetch, d->cfg);
	}

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
	uint64_t start = clock_ms();

	while (listener_output_pending(d->listener) &&
	       clock_ms() - start < 200) {
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
	d->control = NULL;
	listener_pause(d->listener);
	query_engine_stop(&d->engine);
	flush_answers(d);
	status_log(&d->status, "at exit");
	nft_watch_free(d->watch);
	if (d->rebuild != NULL)
		event_free(d->rebuild);
	d->engine.standing = NULL;
	standing_free(d->standing);
	d->standing = NULL;
	/* The last rejections, while the table is there. */
	if (d->rejections_timer != NULL) {
		event_free(d->rejections_timer);
		on_rejections_timer(-1, 0, d);
	}
	rejections_free(d->rejections);
	d->rejections = NULL;
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
	fetch_free(d->fetch); /* after the upstream: its lookups are over */
	d->fetch = NULL;
	listener_free(d->listener);
	log_info("stopped: %llu queries%s",
		 (unsigned long long)d->engine.stats.queries,
		 status == 0 ? "; table inet " GATE_TABLE_NAME " removed" : "");
	query_engine_free(&d->engine);
	cache_free(d->engine.cache);
	reloader_free(d->reloader); /* waits for a build in progress */
	for (i = 0; i < d->n_waiters; i++)
		free(d->waiters[i].update);
	free(d->waiters);
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
	struct event *signal_events[N_OF(loop_signals)];
	sigset_t held;
	bool check_only = false;
	char err[1024];
	size_t i;
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
	ignore_signals();
	/* Held until the loop can handle them: a signal between creating the
	 * table and handling it must not leave the table behind. */
	loop_signal_set(&held);
	sigprocmask(SIG_BLOCK, &held, NULL);
	arm_fault_failsafe(&d);
	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS)
		fatal("cannot initialise c-ares");

	start(&d);
	for (i = 0; i < N_OF(loop_signals); i++) {
		signal_events[i] = evsignal_new(d.base, loop_signals[i].sig,
						loop_signals[i].fn, &d);
		evsignal_add(signal_events[i], NULL);
	}
	sigprocmask(SIG_UNBLOCK, &held, NULL);

	event_base_dispatch(d.base);

	/* Freeing the signal events restores the default actions: hold the
	 * signals from here on, or a second Ctrl-C would kill the daemon
	 * before it removes the table. */
	sigprocmask(SIG_BLOCK, &held, NULL);
	for (i = 0; i < N_OF(loop_signals); i++)
		event_free(signal_events[i]);
	status = stop(&d);
	/* The table is gone: a fault from here on has nothing to remove. */
	fault_failsafe = NULL;
	gate_failsafe_free(d.failsafe);
	ares_library_cleanup();
	log_set_file(NULL);
	return status;
}
