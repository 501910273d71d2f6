/* dnsgated.c - the daemon: start-up, signals, shutdown.
 * Start-up errors are fatal with one line saying what to do; the table is
 * created only after the DNS sockets are listening, and removed before
 * anything else on exit, so the host is never left redirecting DNS to a
 * daemon that is not there (except after a crash: the next start adopts
 * it with its grants, or `dnsgatectl remove-table` clears it). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <ares.h>
#include <event2/event.h>

#include "resolver/cache.h"
#include "resolver/listener.h"
#include "resolver/message.h"
#include "resolver/resolvconf.h"
#include "resolver/upstream.h"
#include "src/apps.h"
#include "src/attribution.h"
#include "src/cgroup.h"
#include "src/clock.h"
#include "src/config_file.h"
#include "src/app_identity.h"
#include "src/control.h"
#include "src/events.h"
#include "src/explain.h"
#include "src/fetch.h"
#include "src/grant_traffic.h"
#include "src/history.h"
#include "src/json.h"
#include "src/list_cache.h"
#include "src/log.h"
#include "src/nft_dump.h"
#include "src/nft_gate.h"
#include "src/nft_watch.h"
#include "src/nsswitch.h"
#include "src/policy.h"
#include "src/prompt_control.h"
#include "src/query.h"
#include "src/rejections.h"
#include "src/reloader.h"
#include "src/rules_file.h"
#include "src/rules_store.h"
#include "src/sockdiag.h"
#include "src/standing.h"
#include "src/status.h"
#include "src/xmalloc.h"

struct update_request;
struct rules_change_reply;

/* A dnsgatectl reload (or an update whose downloads brought new copies)
 * waiting for the build that answers it. */
struct reload_waiter {
	uint64_t ticket; /* control_later's */
	uint64_t build;  /* reloader_request's */
	struct rules_change_reply *change; /* dnsgatectl rules add/delete;
					      NULL: a reload's reply */
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
	struct events events; /* every query's record goes to its sinks */
	struct apps *apps;    /* every app seen, from the records */
	struct history *history; /* the records in SQLite; NULL: off */
	struct event *pause_end; /* dnsgatectl pause DURATION: resumes */
	struct rejections *rejections; /* the gate's, told every second */
	struct event *rejections_timer;
	int rejections_error; /* the last poll's error, said once */
	struct prompt_control *prompts; /* ask rules' prompts, answered on
					  the control socket */
	struct event *prompt_sweep;     /* ends answers that ended */
	struct grant_traffic *traffic; /* the grants' counters, for apps */
	struct event *traffic_timer;
	int traffic_error;    /* the last read's error, said once */
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
		    strncmp(line, "rules ", 6) == 0 ||
		    strncmp(line, "control-admin-group ", 20) == 0 ||
		    strncmp(line, "control-read-group ", 19) == 0)
			continue;
		used += (size_t)sprintf(out + used, "%s\n", line);
	}
	free(text);
	return out;
}

/* The config's control groups, as control.h takes them. */
static void
control_groups_of(const struct config *cfg, struct control_groups *g)
{
	g->admin_name = cfg->control_admin_group;
	g->admin_gid = cfg->control_admin_gid;
	g->read_name = cfg->control_read_group;
	g->read_gid = cfg->control_read_gid;
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

static int fill_rules_change(void *arg, struct json_out *out, char *err,
			     size_t errlen);

/* A dnsgatectl rules add or delete: the file is written; the reply
 * waits for the reload that puts it in force. */
struct rules_change_reply {
	const char *what; /* "added" or "deleted" */
	char path[PATH_MAX];
	struct rules_store_change change;
	const struct reload_result *result; /* while answered */
};

static void
answer_waiters(struct daemon *d, struct reload_result *r)
{
	size_t i, kept = 0;

	d->built = r->build;
	for (i = 0; i < d->n_waiters; i++) {
		struct reload_waiter *w = &d->waiters[i];

		if (w->build > r->build) {
			d->waiters[kept++] = *w;
		} else if (w->change != NULL) {
			w->change->result = r;
			control_answer(d->control, w->ticket,
				       fill_rules_change, w->change);
			free(w->change);
		} else {
			control_answer(d->control, w->ticket, fill_reload_reply,
				       r);
		}
	}
	d->n_waiters = kept;
}

static void
add_waiter(struct daemon *d, uint64_t ticket, uint64_t build,
	   struct rules_change_reply *change)
{
	d->waiters = xreallocarray(d->waiters, d->n_waiters + 1,
				   sizeof *d->waiters);
	d->waiters[d->n_waiters].ticket = ticket;
	d->waiters[d->n_waiters].build = build;
	d->waiters[d->n_waiters].change = change;
	d->n_waiters++;
}

static int pending_outcome(void *arg, const char *name,
                           struct list_cache_meta *copy, char *reason,
                           size_t reasonlen);

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
		if (d->fetch != NULL)
			fetch_build_done(d->fetch, r->build, NULL, NULL, r->err);
		answer_waiters(d, r);
		config_free(r->cfg);
		return;
	}
	before = settings_text(d->cfg);
	after = settings_text(r->cfg);
	if (before != NULL && after != NULL && strcmp(before, after) != 0)
		log_warn("%s: settings other than blocklist, list, rules and "
			 "the control groups changed: they take effect when "
			 "dnsgated restarts",
			 d->config_path);
	free(before);
	free(after);
	if (d->fetch != NULL)
		fetch_set_lists(d->fetch, r->cfg);
	if (d->control != NULL) {
		struct control_groups g;
		char err[512];

		control_groups_of(r->cfg, &g);
		if (control_set_groups(d->control, &g, err, sizeof err) < 0)
			log_error("%s; the control socket is root's alone "
				  "until a reload sets its groups",
				  err);
	}
	config_free(r->cfg);
	r->cfg = NULL;
	policy_free(d->engine.policy); /* queries in flight hold it */
	d->engine.policy = r->policy;
	if (d->rejections != NULL)
		rejections_set_geoip(d->rejections,
		                     policy_geoip(d->engine.policy));
	resync_standing(d);
	if (d->fetch != NULL)
		fetch_build_done(d->fetch, r->build, pending_outcome,
				 d->engine.policy, NULL);
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
	/* Answers bridged to rules this build holds are the rules' now. */
	prompt_control_sweep(d->prompts, (int64_t)r->build, d->cgroups);
}

/* A new copy of an https:// list is pending in the cache: a build reads
 * it, as a reload does (copies written while one builds share the next
 * build). */
static uint64_t
on_list_downloaded(void *arg, const char *name)
{
	char why[128];

	snprintf(why, sizeof why, "list %.80s: a new copy downloaded", name);
	return request_reload(arg, why);
}

/* What the policy just built did with list name's copy pending. */
static int
pending_outcome(void *arg, const char *name, struct list_cache_meta *copy,
                char *reason, size_t reasonlen)
{
	const struct policy *p = arg;
	struct policy_list_info li;
	size_t i;

	for (i = 0; policy_list_info(p, i, &li) == 0; i++) {
		if (strcmp(li.name, name) != 0)
			continue;
		if (li.judged != NULL)
			*copy = *li.judged;
		if (li.pending == POLICY_PENDING_TAKEN)
			return 1;
		if (li.pending == POLICY_PENDING_REFUSED) {
			snprintf(reason, reasonlen, "%s", li.pending_reason);
			return 0;
		}
		return -1;
	}
	return -1;
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

	/* Its new copy, if any, is in force or refused by now. */
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

/* {"command": "apps"}: every app seen; {"command": "apps", "by":
 * "country"}: which apps sent to which countries; {"command": "app",
 * "app": KEY}: the apps whose key is KEY or contains it, with their
 * recent names and destinations (where each is, with GeoIP). */
static int
control_apps(struct daemon *d, bool one, const char *request, size_t len,
	     struct json_out *out, char *err, size_t errlen)
{
	char app[APP_IDENTITY_KEY_MAX], by[16];
	const struct geoip *geo = policy_geoip(d->engine.policy);

	if (!one &&
	    json_flat_get_string(request, len, "by", by, sizeof by) == 0) {
		if (strcmp(by, "country") != 0) {
			snprintf(err, errlen,
			         "apps: \"by\" can only be "
			         "\"country\"");
			return -1;
		}
		apps_by_country_json(d->apps, geo, out);
		return 0;
	}
	if (one && json_flat_get_string(request, len, "app", app,
					sizeof app) < 0) {
		snprintf(err, errlen, "app needs \"app\": an app key or a "
			 "part of one (dnsgatectl apps lists them)");
		return -1;
	}
	if (apps_json(d->apps, one ? app : NULL, geo, out) == 0 && one) {
		snprintf(err, errlen, "no app seen whose key contains '%s' "
			 "(dnsgatectl apps lists them)", app);
		return -1;
	}
	return 0;
}

/* --- dnsgatectl rules, allow, block, pause ----------------------------- */

/* What a rule is checked against before it is written: the lists of the
 * policy in force, and now for its for=. */
static struct rules_file_ctx
rules_ctx(struct daemon *d)
{
	struct rules_file_ctx ctx;

	ctx.find_list = policy_find_list;
	ctx.arg = d->engine.policy;
	ctx.mtime = time(NULL);
	return ctx;
}

static bool
contains_nocase(const char *hay, const char *needle)
{
	size_t n = strlen(needle), i;

	for (; *hay != '\0'; hay++) {
		for (i = 0; i < n && hay[i] != '\0' &&
			    tolower((unsigned char)hay[i]) ==
				tolower((unsigned char)needle[i]);
		     i++)
			;
		if (i == n)
			return true;
	}
	return n == 0;
}

/* dnsgatectl rules [--app A]: every rule in force, with its id, where it
 * was written and whether dnsgatectl may delete it. */
static int
control_rules(struct daemon *d, const char *request, size_t len,
	      struct json_out *out, char *err, size_t errlen)
{
	const struct rule_book *book = policy_book(d->engine.policy);
	char owned[PATH_MAX], app[APP_IDENTITY_KEY_MAX], text[2 * 4096];
	char origin[PATH_MAX + 16], id[RULE_ID_TEXT_MAX];
	struct rules_store_notes *notes;
	struct stat owned_st, st;
	bool have_owned, filter;
	int64_t now = (int64_t)time(NULL);
	const char *file = NULL;
	bool file_owned = false;
	size_t i, shown = 0, matched = 0;
	int rc;

	rc = json_flat_get_string(request, len, "app", app, sizeof app);
	if (rc == -2) {
		snprintf(err, errlen, "no app key is that long");
		return -1;
	}
	filter = rc == 0;
	rules_store_path(d->cfg, owned, sizeof owned);
	have_owned = stat(owned, &owned_st) == 0;
	notes = have_owned ? rules_store_notes_read(owned) : NULL;
	json_key(out, "file");
	json_string(out, owned);
	json_key(out, "rules");
	json_array_begin(out);
	for (i = 0; i < book->n; i++) {
		const struct rule *r = &book->rules[i];

		if (filter && (r->app_value == NULL ||
			       !contains_nocase(r->app_value, app)))
			continue;
		/* A rule takes at most about 9 KB (its text twice, quoted,
		 * and its file): stop while the rest still fits. */
		if (matched++ > shown || out->len + 24 * 1024 > CONTROL_REPLY_MAX)
			continue;
		shown++;
		if (r->file != file) { /* the book keeps one copy of each */
			file = r->file;
			file_owned = have_owned && stat(file, &st) == 0 &&
				     st.st_dev == owned_st.st_dev &&
				     st.st_ino == owned_st.st_ino;
		}
		json_object_begin(out);
		json_key(out, "id");
		json_string(out, rule_id_format(r->id, id, sizeof id));
		json_key(out, "origin");
		json_string(out, rule_origin(r, origin, sizeof origin));
		json_key(out, "rule");
		json_string(out, rule_format(r, text, sizeof text));
		json_key(out, "file");
		json_string(out, r->file);
		json_key(out, "line");
		json_uint(out, r->line);
		json_key(out, "deletable");
		json_bool(out, file_owned);
		/* Who wrote it: dnsgatectl's file (with the note it wrote
		 * after the rule, or a person's comment), the config's
		 * blocklist line, or another rules file. */
		json_key(out, "source");
		json_string(out, file_owned ? "dnsgatectl"
				 : strcmp(r->file, d->config_path) == 0
				     ? "config"
				     : "file");
		if (file_owned && rules_store_note(notes, r->line)[0]) {
			json_key(out, "note");
			json_string(out, rules_store_note(notes, r->line));
		}
		if (r->until != 0 && r->until <= now) {
			json_key(out, "expired");
			json_bool(out, true);
		}
		json_object_end(out);
	}
	json_array_end(out);
	rules_store_notes_free(notes);
	json_key(out, "total");
	json_uint(out, matched);
	if (shown < matched) {
		json_key(out, "truncated");
		json_bool(out, true);
	}
	return 0;
}

/* dnsgatectl log: answered when the history's thread has read the
 * records. */
struct log_request {
	struct daemon *d;
	uint64_t ticket; /* control_later's */
};

static int
fill_log(void *arg, struct json_out *out, char *err, size_t errlen)
{
	struct history_result *r = arg;

	if (r->error[0] != '\0') {
		snprintf(err, errlen, "%s", r->error);
		return -1;
	}
	history_result_json(out, r);
	return 0;
}

static void
on_log_done(void *arg, struct history_result *r)
{
	struct log_request *lr = arg;

	control_answer(lr->d->control, lr->ticket, fill_log, r);
	history_result_free(r);
	free(lr);
}

static int
control_log(struct daemon *d, const char *request, size_t len, char *err,
	    size_t errlen)
{
	struct history_filter f;
	struct log_request *lr;

	if (d->history == NULL) {
		snprintf(err, errlen, "the history is off (%s)",
			 d->cfg->history == NULL
			     ? "'history off' in the config"
			     : "it could not be opened at start: see the log");
		return -1;
	}
	if (history_filter_from_request(request, len, &f, err, errlen) < 0)
		return -1;
	lr = xcalloc(1, sizeof *lr);
	lr->d = d;
	lr->ticket = control_later(d->control);
	history_query(d->history, &f, on_log_done, lr);
	return CONTROL_LATER;
}

static int
fill_rules_change(void *arg, struct json_out *out, char *err, size_t errlen)
{
	const struct rules_change_reply *c = arg;
	char id[RULE_ID_TEXT_MAX];

	rule_id_format(c->change.id, id, sizeof id);
	if (c->result != NULL && c->result->policy == NULL) {
		snprintf(err, errlen,
			 "rule %s was %s (%s:%u) but the reload failed, so the "
			 "policy in use is unchanged: %s",
			 id, c->what, c->path, c->change.line, c->result->err);
		return -1;
	}
	json_key(out, c->what);
	json_bool(out, !c->change.existed || c->what[0] == 'd');
	json_key(out, "id");
	json_string(out, id);
	json_key(out, "rule");
	json_string(out, c->change.text);
	json_key(out, "file");
	json_string(out, c->path);
	json_key(out, "line");
	json_uint(out, c->change.line);
	json_key(out, "in_force");
	json_bool(out, strcmp(c->what, "added") == 0);
	return 0;
}

/* Written: reload, and answer when the new policy is in force. */
static int
answer_after_reload(struct daemon *d, struct rules_change_reply *c,
		    const char *why)
{
	char id[RULE_ID_TEXT_MAX];
	uint64_t build;

	log_info("%s: rule %s %s: %s (%s:%u)", why,
		 rule_id_format(c->change.id, id, sizeof id), c->what,
		 c->change.text, c->path, c->change.line);
	build = request_reload(d, why);
	add_waiter(d, control_later(d->control), build, c);
	return CONTROL_LATER;
}

static int
control_rules_add(struct daemon *d, const char *request, size_t len,
		  struct json_out *out, char *err, size_t errlen)
{
	struct rules_change_reply *c;
	struct rules_file_ctx ctx = rules_ctx(d);
	char rule[RULES_FILE_LINE_MAX + 2];
	int rc = json_flat_get_string(request, len, "rule", rule, sizeof rule);

	if (rc < 0) {
		snprintf(err, errlen, rc == -2 ? "the rule is longer than a "
			 "rules file's line may be (%d bytes)"
					       : "rules-add needs \"rule\": a "
						 "rule as a rules file has it "
						 "(dnsgate.rules(5))",
			 RULES_FILE_LINE_MAX);
		return -1;
	}
	c = xcalloc(1, sizeof *c);
	c->what = "added";
	rules_store_path(d->cfg, c->path, sizeof c->path);
	if (rules_store_add(c->path, rule, strlen(rule), &ctx,
			    "added by dnsgatectl", &c->change, err,
			    errlen) < 0) {
		log_warn("dnsgatectl rules add refused: %s", err);
		free(c);
		return -1;
	}
	if (c->change.existed) { /* nothing written, nothing to reload */
		c->result = NULL;
		fill_rules_change(c, out, err, errlen);
		json_key(out, "existed");
		json_bool(out, true);
		free(c);
		return 0;
	}
	return answer_after_reload(d, c, "dnsgatectl rules add");
}

static int
control_rules_delete(struct daemon *d, const char *request, size_t len,
		     char *err, size_t errlen)
{
	const struct rule_book *book = policy_book(d->engine.policy);
	struct rules_file_ctx ctx = rules_ctx(d);
	struct rules_change_reply *c;
	char text[32], origin[PATH_MAX + 16];
	uint32_t id;
	size_t i;
	int rc;

	if (json_flat_get_string(request, len, "id", text, sizeof text) < 0 ||
	    rule_id_parse(text, &id) < 0) {
		snprintf(err, errlen, "rules-delete needs \"id\": the 8 hex "
			 "digits 'dnsgatectl rules' shows");
		return -1;
	}
	c = xcalloc(1, sizeof *c);
	c->what = "deleted";
	rules_store_path(d->cfg, c->path, sizeof c->path);
	rc = rules_store_delete(c->path, id, &ctx, &c->change, err, errlen);
	if (rc == 0)
		return answer_after_reload(d, c, "dnsgatectl rules delete");
	free(c);
	if (rc < 0)
		return -1;
	for (i = 0; i < book->n; i++)
		if (book->rules[i].id == id) {
			snprintf(err, errlen,
				 "rule %s is in %s, which dnsgatectl does not "
				 "own: edit that file, then 'dnsgatectl "
				 "reload'",
				 text,
				 rule_origin(&book->rules[i], origin,
					     sizeof origin));
			return -1;
		}
	snprintf(err, errlen, "no rule has the id %s ('dnsgatectl rules' "
		 "lists them)", text);
	return -1;
}

static void
pause_over(struct daemon *d, const char *why)
{
	d->engine.paused = false;
	d->engine.paused_until = 0;
	log_warn("%s: the pause is over, lists and rules block again", why);
}

static void
on_pause_end(evutil_socket_t fd, short what, void *arg)
{
	pause_over(arg, "dnsgatectl pause: its time is up");
}

static void
json_pause(struct daemon *d, struct json_out *out)
{
	json_key(out, "paused");
	json_bool(out, d->engine.paused);
	if (d->engine.paused && d->engine.paused_until == 0) {
		json_key(out, "paused_until");
		json_string(out, "resume");
	} else if (d->engine.paused) {
		json_time(out, "paused_until", d->engine.paused_until);
	}
}

/* dnsgatectl pause [DURATION]: what lists and rules block is let
 * through (the gate stays: only names resolved get routes) until the
 * duration is over, or until dnsgatectl resume. A reload keeps it; a
 * restart ends it. */
static int
control_pause(struct daemon *d, const char *request, size_t len,
	      struct json_out *out, char *err, size_t errlen)
{
	char text[64], until[32] = "";
	int64_t seconds = 0;
	const char *reason;
	struct timeval tv;
	struct tm tm;
	time_t t;
	int rc;

	rc = json_flat_get_string(request, len, "duration", text, sizeof text);
	if (rc == -2 ||
	    (rc == 0 && rules_parse_duration(text, &seconds, &reason) < 0)) {
		snprintf(err, errlen, "pause %.40s: %s", text,
			 rc == -2 ? "too long" : reason);
		return -1;
	}
	if (d->pause_end == NULL)
		d->pause_end = evtimer_new(d->base, on_pause_end, d);
	evtimer_del(d->pause_end);
	d->engine.paused = true;
	d->engine.paused_until = seconds ? (int64_t)time(NULL) + seconds : 0;
	if (seconds > 0) {
		tv.tv_sec = (time_t)seconds;
		tv.tv_usec = 0;
		evtimer_add(d->pause_end, &tv);
		t = (time_t)d->engine.paused_until;
		if (gmtime_r(&t, &tm) != NULL)
			strftime(until, sizeof until, " until %H:%M:%S UTC",
				 &tm);
	}
	log_warn("dnsgatectl pause: blocking is paused%s: names that lists "
		 "and rules block are answered and granted (the log says "
		 "reason=paused); %s",
		 seconds ? until : " until 'dnsgatectl resume'",
		 seconds ? "'dnsgatectl resume' ends it sooner"
			 : "a restart of dnsgated ends it too");
	json_pause(d, out);
	return 0;
}

static int
control_resume(struct daemon *d, struct json_out *out)
{
	bool was = d->engine.paused;

	if (d->pause_end != NULL)
		evtimer_del(d->pause_end);
	if (was)
		pause_over(d, "dnsgatectl resume");
	json_pause(d, out);
	json_key(out, "was_paused");
	json_bool(out, was);
	return 0;
}

/* The control socket's commands (src/control.h): each with what it may
 * do; hello and version are control.c's own. */
static int
ctl_status(void *arg, const char *command, const char *request, size_t len,
	   struct json_out *out, char *err, size_t errlen)
{
	struct daemon *d = arg;

	status_json(&d->status, out);
	return 0;
}

static int
ctl_reload(void *arg, const char *command, const char *request, size_t len,
	   struct json_out *out, char *err, size_t errlen)
{
	struct daemon *d = arg;
	uint64_t build = request_reload(d, "dnsgatectl reload");

	/* Answered when the build is done (answer_waiters). */
	add_waiter(d, control_later(d->control), build, NULL);
	return CONTROL_LATER;
}

static int
ctl_explain(void *arg, const char *command, const char *request, size_t len,
	    struct json_out *out, char *err, size_t errlen)
{
	return control_explain(arg, request, len, out, err, errlen);
}

static int
ctl_lists(void *arg, const char *command, const char *request, size_t len,
	  struct json_out *out, char *err, size_t errlen)
{
	return control_lists(arg, out);
}

static int
ctl_update(void *arg, const char *command, const char *request, size_t len,
	   struct json_out *out, char *err, size_t errlen)
{
	return control_update(arg, request, len, err, errlen);
}

static int
ctl_apps(void *arg, const char *command, const char *request, size_t len,
	 struct json_out *out, char *err, size_t errlen)
{
	return control_apps(arg, strcmp(command, "app") == 0, request, len,
			    out, err, errlen);
}

static int
ctl_log(void *arg, const char *command, const char *request, size_t len,
	struct json_out *out, char *err, size_t errlen)
{
	struct daemon *d = arg;
	bool follow = false;

	/* log -f: every record from now on, as it is made (the client
	 * filters); the history is not needed for it. */
	if (json_flat_get_bool(request, len, "follow", &follow) == 0 &&
	    follow) {
		if (control_watch(d->control, "log") < 0) {
			snprintf(err, errlen, "this connection watches too "
				 "many topics already: open another");
			return -1;
		}
		json_key(out, "following");
		json_bool(out, true);
		return 0;
	}
	return control_log(arg, request, len, err, errlen);
}

static int
ctl_rules(void *arg, const char *command, const char *request, size_t len,
	  struct json_out *out, char *err, size_t errlen)
{
	return control_rules(arg, request, len, out, err, errlen);
}

static int
ctl_rules_add(void *arg, const char *command, const char *request, size_t len,
	      struct json_out *out, char *err, size_t errlen)
{
	return control_rules_add(arg, request, len, out, err, errlen);
}

static int
ctl_rules_delete(void *arg, const char *command, const char *request,
		 size_t len, struct json_out *out, char *err, size_t errlen)
{
	return control_rules_delete(arg, request, len, err, errlen);
}

static int
ctl_pause(void *arg, const char *command, const char *request, size_t len,
	  struct json_out *out, char *err, size_t errlen)
{
	return control_pause(arg, request, len, out, err, errlen);
}

static int
ctl_resume(void *arg, const char *command, const char *request, size_t len,
	   struct json_out *out, char *err, size_t errlen)
{
	return control_resume(arg, out);
}

/* prompt_keep_rule_fn: a prompt's answer for a time or forever, into
 * the owned rules file; the build that holds it is the next. */
static int64_t
keep_answer(void *arg, const char *rule, const char *note, char *err,
	    size_t errlen)
{
	struct daemon *d = arg;
	struct rules_file_ctx ctx = rules_ctx(d);
	struct rules_store_change change;
	char path[PATH_MAX];

	rules_store_path(d->cfg, path, sizeof path);
	if (rules_store_add(path, rule, strlen(rule), &ctx, note, &change, err,
			    errlen) < 0) {
		log_warn("a prompt's answer could not be kept as a rule in %s: "
			 "%s; it holds until dnsgated restarts", path, err);
		return -1;
	}
	if (change.existed)
		return (int64_t)d->built; /* in force already */
	return (int64_t)request_reload(d, "a prompt's answer became a rule");
}

static int
ctl_prompt(void *arg, const char *command, const char *request, size_t len,
	   struct json_out *out, char *err, size_t errlen)
{
	struct daemon *d = arg;

	return prompt_control_watch(d->prompts, out, err, errlen);
}

static int
ctl_answer(void *arg, const char *command, const char *request, size_t len,
	   struct json_out *out, char *err, size_t errlen)
{
	struct daemon *d = arg;

	return prompt_control_answer(d->prompts, request, len, out, err,
				     errlen);
}

static void
on_watcher_gone(void *arg, const struct control_peer *peer)
{
	struct daemon *d = arg;

	(void)peer;
	if (d->prompts != NULL)
		prompt_control_watcher_gone(d->prompts);
}

/* Every 5 s: answers until an app exits end with its cgroup; answers
 * for a time with their time. */
static void
on_prompt_sweep(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	(void)fd;
	(void)what;
	prompt_control_sweep(d->prompts, (int64_t)d->built, d->cgroups);
}

/* log -f: each record as it is made, to the watchers of "log". */
static int
fill_log_line(void *arg, struct json_out *out, char *err, size_t errlen)
{
	const struct event_record *ev = arg;

	(void)err;
	(void)errlen;
	json_key(out, "event");
	json_string(out, "record");
	history_record_members(out, ev);
	return 0;
}

static void
log_stream_sink(void *arg, const struct event_record *ev)
{
	struct daemon *d = arg;

	if (d->control != NULL && control_watched(d->control, "log"))
		control_publish(d->control, "log", fill_log_line,
				(void *)ev);
}

static const struct control_command control_commands[] = {
	{"status", CONTROL_READ, ctl_status},
	{"lists", CONTROL_READ, ctl_lists},
	{"explain", CONTROL_READ, ctl_explain},
	{"reload", CONTROL_ADMIN, ctl_reload},
	{"update", CONTROL_ADMIN, ctl_update},
	{"apps", CONTROL_READ, ctl_apps},
	{"app", CONTROL_READ, ctl_apps},
	{"log", CONTROL_READ, ctl_log},
	{"rules", CONTROL_READ, ctl_rules},
	{"rules-add", CONTROL_ADMIN, ctl_rules_add},
	{"rules-delete", CONTROL_ADMIN, ctl_rules_delete},
	{"pause", CONTROL_ADMIN, ctl_pause},
	{"resume", CONTROL_ADMIN, ctl_resume},
	/* A prompter holds every asked query while it is connected: only
	 * one who may answer may be one. */
	{"prompt", CONTROL_ADMIN, ctl_prompt},
	{"answer", CONTROL_ADMIN, ctl_answer},
};

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

/* The grants' counters read: what each carried goes to its app. */
static void arm_traffic(struct daemon *d);

static void
on_traffic_read(void *arg, const struct grant_traffic_totals *t)
{
	struct daemon *d = arg;

	if (t->error < 0 && t->error != -ENOENT && t->error != d->traffic_error)
		log_warn("cannot read the grants' counters (%s): dnsgatectl "
			 "apps shows no bytes until this is fixed",
			 t->reason);
	d->traffic_error = t->error < 0 ? t->error : 0;
	if (t->error == 0)
		apps_add_traffic(d->apps, t->grants, t->n_grants);
	arm_traffic(d);
}

static void
on_traffic_timer(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	(void)fd;
	(void)what;
	if (grant_traffic_read(d->traffic, on_traffic_read, d) < 0)
		arm_traffic(d);
}

/* The next read, spaced so that it costs a tenth of the time at most. */
#define TRAFFIC_EVERY_MS 5000

static void
arm_traffic(struct daemon *d)
{
	uint64_t ms = grant_traffic_interval_ms(d->traffic, TRAFFIC_EVERY_MS);
	struct timeval tv = {(time_t)(ms / 1000),
			     (suseconds_t)(ms % 1000) * 1000};

	evtimer_add(d->traffic_timer, &tv);
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

/* The history, when the config keeps one. One that cannot be opened
 * is not fatal: DNS matters more than its record. */
static void
open_history(struct daemon *d)
{
	struct history_options ho;
	char err[512];

	if (d->cfg->history == NULL)
		return;
	memset(&ho, 0, sizeof ho);
	ho.path = d->cfg->history;
	ho.days = d->cfg->history_days;
	ho.max_records = d->cfg->history_max_records;
	d->history = history_open(d->base, &ho, err, sizeof err);
	if (d->history == NULL) {
		log_warn("%s; the history is off until dnsgated restarts "
			 "(dnsgatectl log has nothing new); queries are "
			 "answered all the same",
			 err);
		return;
	}
	(void)events_subscribe(&d->events, history_sink, d->history);
	d->status.history = d->history;
	if (d->cfg->history_max_records != 0)
		log_info("history: every decision and rejected connection goes "
			 "to %s, kept %u days, the newest %u at most "
			 "(dnsgatectl log)",
			 d->cfg->history, d->cfg->history_days,
			 d->cfg->history_max_records);
	else
		log_info("history: every decision and rejected connection goes "
			 "to %s, kept %u days (dnsgatectl log)",
			 d->cfg->history, d->cfg->history_days);
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
	d->apps = apps_new();
	(void)events_subscribe(&d->events, apps_sink, d->apps);
	d->engine.events = &d->events;
	open_history(d);
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
		struct control_options co;

		memset(&co, 0, sizeof co);
		co.commands = control_commands;
		co.n_commands = N_OF(control_commands);
		co.arg = d;
		co.watcher_gone = on_watcher_gone;
		control_groups_of(d->cfg, &co.groups);
		d->control = control_new(d->base, d->cfg->control_socket, &co,
					 err, sizeof err);
		if (d->control == NULL)
			fatal("%s", err);
	}
	d->prompts = prompt_control_new(d->base, d->cfg->prompt_timeout_ms,
					keep_answer, d);
	prompt_control_set_control(d->prompts, d->control);
	d->engine.prompts = prompt_control_prompts(d->prompts);
	d->prompt_sweep = event_new(d->base, -1, EV_PERSIST, on_prompt_sweep,
				    d);
	{
		struct timeval five = {5, 0};

		evtimer_add(d->prompt_sweep, &five);
	}
	(void)events_subscribe(&d->events, log_stream_sink, d);

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
	rejections_set_geoip(d->rejections, policy_geoip(d->engine.policy));
	d->rejections_timer = event_new(d->base, -1, EV_PERSIST,
					on_rejections_timer, d);
	{
		struct timeval second = {1, 0};

		evtimer_add(d->rejections_timer, &second);
	}
	d->traffic = grant_traffic_new(d->base, err, sizeof err);
	if (d->traffic == NULL) {
		log_warn("cannot read the grants' counters (%s): dnsgatectl "
			 "apps shows no bytes", err);
	} else {
		d->traffic_timer = evtimer_new(d->base, on_traffic_timer, d);
		arm_traffic(d);
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
		fo.changed = on_list_downloaded;
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
	prompt_control_stop(d->prompts);
	control_free(d->control);
	d->control = NULL;
	listener_pause(d->listener);
	query_engine_stop(&d->engine);
	flush_answers(d);
	status_log(&d->status, "at exit");
	nft_watch_free(d->watch);
	if (d->rebuild != NULL)
		event_free(d->rebuild);
	if (d->pause_end != NULL)
		event_free(d->pause_end);
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
	if (d->traffic_timer != NULL)
		event_free(d->traffic_timer);
	d->traffic_timer = NULL;
	grant_traffic_free(d->traffic);
	d->traffic = NULL;
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
	d->engine.prompts = NULL;
	if (d->prompt_sweep != NULL)
		event_free(d->prompt_sweep);
	prompt_control_free(d->prompts); /* no query holds on it now */
	d->prompts = NULL;
	events_unsubscribe(&d->events, log_stream_sink, d);
	/* After the drain above: its records are written too. */
	events_unsubscribe(&d->events, history_sink, d->history);
	history_close(d->history);
	d->history = d->status.history = NULL;
	events_unsubscribe(&d->events, apps_sink, d->apps);
	apps_free(d->apps);
	cache_free(d->engine.cache);
	reloader_free(d->reloader); /* waits for a build in progress */
	for (i = 0; i < d->n_waiters; i++)
		free(d->waiters[i].change);
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
