/* query.c - one query from arrival to answer, and its log line. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <ldns/ldns.h>

#include "geoip/geoip.h"
#include "resolver/cache.h"
#include "resolver/listener.h"
#include "resolver/message.h"
#include "resolver/upstream.h"
#include "src/app_identity.h"
#include "src/attribution.h"
#include "src/cgroup.h"
#include "src/clock.h"
#include "src/config_file.h"
#include "src/events.h"
#include "src/exe_check.h"
#include "src/place_memo.h"
#include "src/grant_table.h"
#include "src/log.h"
#include "src/nft_dump.h"
#include "src/nft_gate.h"
#include "src/policy.h"
#include "src/prompt.h"
#include "src/query.h"
#include "src/rule.h"
#include "src/rules.h"
#include "src/standing.h"
#include "src/xmalloc.h"

/* How often grants that ran out are given back to their apps' shares and
 * suppressed log lines are reported. */
#define SWEEP_SECONDS 5

/* The share key of an asker that could not be attributed. */
#define APP_UNKNOWN 0

/* Whose shares an asker takes: its app's, and its user's ceiling over
 * all its apps (user 0: none). Root (uid 0: the system's services, which
 * could remove the gate anyway) and unattributed askers have no user
 * ceiling. */
struct charge {
	uint64_t app;
	uint64_t user;
	uint32_t uid;
};

static struct charge
charge_for(uint64_t cgroup_id, uint32_t uid)
{
	struct charge c;

	c.app = cgroup_id;
	c.uid = uid;
	c.user = uid != 0 ? shares_user_key(uid) : 0;
	return c;
}

static struct charge
charge_of(const struct attribution *who)
{
	return who->found ? charge_for(who->cgroup_id, who->uid)
			  : charge_for(APP_UNKNOWN, 0);
}

/* Whether n more of kind would take the charge past a limit; *by_user
 * says whose. */
static bool
charge_over(const struct shares *s, const struct charge *c,
	    enum share_kind kind, uint64_t n, bool *by_user)
{
	uint32_t limit = shares_limit(s, c->app, kind);

	*by_user = false;
	if (limit != 0 && shares_held(s, c->app, kind) + n > limit)
		return true;
	if (c->user == 0)
		return false;
	limit = shares_limit(s, c->user, kind);
	*by_user = true;
	return limit != 0 && shares_held(s, c->user, kind) + n > limit;
}

static void
charge_add(struct shares *s, const struct charge *c, enum share_kind kind,
	   uint32_t n)
{
	shares_add(s, c->app, kind, n);
	if (c->user != 0)
		shares_add(s, c->user, kind, n);
}

/* Takes n of kind under the app and the user, or nothing. */
static int
charge_take(struct shares *s, const struct charge *c, enum share_kind kind,
	    uint32_t n, bool *by_user)
{
	if (charge_over(s, c, kind, n, by_user))
		return -1;
	charge_add(s, c, kind, n);
	return 0;
}

static void
charge_give_back(struct shares *s, const struct charge *c,
		 enum share_kind kind, uint32_t n)
{
	shares_give_back(s, c->app, kind, n);
	if (c->user != 0)
		shares_give_back(s, c->user, kind, n);
}

struct query {
	uint64_t id;
	uint64_t arrived_us; /* clock_us() when it was read */
	enum query_state state;
	struct query_engine *engine;
	struct listener_request *req; /* NULL once answered */
	struct dns_question q;
	struct attribution who;
	char app_key[APP_IDENTITY_KEY_MAX]; /* who the app is, for people */
	struct charge charge; /* whose shares it takes */
	struct policy *policy; /* held from deciding to freeing: a reload
				  does not change the rules under it */
	struct rules_asker *asker; /* the app, for the policy's rules */
	bool holds_pending;   /* took a pending share under charge */
	struct prompt_wait *wait; /* held on a prompt (QUERY_ASKING) */
	enum rules_outcome asked_default; /* what the ask rule stood for */
	bool answered;        /* a prompt's answer decided the qname */
	struct prompt_answer answer; /* that answer */
	bool exe_unverified;  /* its exe is not the file its path names */
	struct query_verdict verdict;
	const char *stale;  /* answered from an expired cache entry (RFC
			       8767): why upstream failed; else NULL */
	char detail[512];   /* what the verdict's values cannot say */
	/* The addresses place rules took out of its answer (NULL: none):
	 * for the log line (" dropped=ADDR[TAG] rule=FILE:LINE" each), and
	 * for the record (events.h). */
	char *dropped_log, *dropped_rec;
	struct query *prev, *next; /* in engine->live */
};

static const char *
protocol_name(int protocol)
{
	return protocol == IPPROTO_TCP ? "tcp" : "udp";
}

/* "app=flatpak:org.mozilla.firefox pid=1234 exe=/app/lib/firefox/firefox
 * uid=1000 cgroup=/user.slice/..." */
static void
format_app(const struct attribution *who, const char *key, char *buf,
	   size_t len)
{
	if (!who->found) {
		snprintf(buf, len,
			 "app=? pid=? exe=? uid=? cgroup=? (client socket "
			 "already closed)");
		return;
	}
	if (who->pid == 0) {
		snprintf(buf, len, "app=%s pid=? exe=? uid=%u cgroup=%s", key,
			 who->uid, who->cgroup_path);
		return;
	}
	snprintf(buf, len, "app=%s pid=%ld exe=%s uid=%u cgroup=%s", key,
		 (long)who->pid, who->exe[0] ? who->exe : "?", who->uid,
		 who->cgroup_path);
}

/* Who asked, as people and rules name it: the app key (app_identity.h,
 * "?" when nobody is known) and the asker the policy's rules see. */
static void
identify(struct query *qr)
{
	const struct attribution *who = &qr->who;
	struct app_identity_source src;
	struct app_identity id;
	char err[128];

	attr_identity_source(who, &src);
	/* A rule naming a program trusts the exe only when it is the file
	 * its path names here: a process in a mount namespace of its own
	 * can show any path (a bind mount over /usr/bin/firefox), and a
	 * deleted one any file that was there. */
	if (src.exe != NULL && src.exe[0] != '\0' &&
	    rules_need_exe(policy_rules(qr->policy)) &&
	    !exe_check_verified(qr->engine->exe_check, who->pid, src.exe,
				clock_ms())) {
		qr->exe_unverified = true;
		src.exe = NULL;
		src.argv = NULL;
		src.argv_len = 0;
	}
	(void)app_identity_from(&src, &id, err, sizeof err); /* filled even
								 when cut */
	if (!who->found)
		snprintf(id.key, sizeof id.key, "?");
	snprintf(qr->app_key, sizeof qr->app_key, "%s", id.key);
	qr->asker = policy_asker(qr->policy, &id,
				 who->found ? (int64_t)who->uid : -1);
}

/* The policy's decision in the verdict's values. names[0] is the
 * qname, any other a name of its chain. Returns the outcome. */
static enum rules_outcome
decide(struct query *qr, const char *const *names, size_t n)
{
	struct query_verdict *v = &qr->verdict;
	const struct rule *rule;
	struct rules_verdict rv;
	size_t i;

	/* A name is at most 253 characters unless escaped bytes (\DDD)
	 * lengthen it as written; lists and rules hold no such name, and
	 * its parents could not be looked up whole: fail closed. */
	for (i = 0; i < n; i++) {
		if (strlen(names[i]) > 253) {
			memset(v, 0, sizeof *v);
			v->reason = REASON_NAME_TOO_LONG;
			v->cname = i > 0 ? names[i] : NULL;
			return RULES_BLOCK;
		}
	}
	policy_decide(qr->policy, qr->asker, names, n, qr->q.qtype, &rv);
	rule = rv.rule;
	v->rule = rule;
	v->default_rule = rv.default_rule;
	v->list = NULL;
	v->entry = NULL;
	v->cname = rv.name != NULL && rv.name != names[0] ? rv.name : NULL;
	if (rv.outcome == RULES_UNDECIDED) {
		v->reason = REASON_EXE_UNKNOWN;
		v->rule = NULL;
		v->cname = NULL;
	} else if (rule == NULL) {
		v->reason = REASON_NONE;
	} else if (rv.asked) {
		v->reason = REASON_ASK;
	} else if (rule->is_default) {
		v->reason = REASON_DEFAULT;
	} else if (rule->dest == RULE_DEST_LIST) {
		v->list = policy_list_name(qr->policy, rule->list);
		v->entry = rv.entry;
		/* An allow naming a list lets the app past it. */
		if (rule->action == RULE_BLOCK)
			v->reason = v->cname ? REASON_CNAME_LISTED
					     : REASON_LISTED;
		else
			v->reason = v->cname ? REASON_CNAME_RULE : REASON_RULE;
	} else {
		v->reason = v->cname ? REASON_CNAME_RULE : REASON_RULE;
	}
	/* Paused: what would block (or wait on an exe) is let through, the
	 * rule or list that would have blocked it kept in the verdict. */
	if (rv.outcome != RULES_ALLOW && qr->engine->paused) {
		v->reason = REASON_PAUSED;
		return RULES_ALLOW;
	}
	return rv.outcome;
}

/* Whether a line about app may be written now; a denied line is counted,
 * and an allowed one carries the count denied before it ("" if none). */
static bool
may_log(struct query_engine *e, uint64_t app, char *note, size_t notelen)
{
	uint32_t suppressed;

	note[0] = '\0';
	if (!shares_may_log(e->shares, app, clock_ms(), &suppressed)) {
		e->stats.log_suppressed++;
		return false;
	}
	if (suppressed > 0)
		snprintf(note, notelen,
			 " (%u more lines like it about this app were "
			 "suppressed)",
			 suppressed);
	return true;
}

/* " reason=listed list=easylist entry=ads.example rule=/etc/dnsgate/
 * dnsgate.conf:4" and the like: why, in the verdict's values. */
static void
format_why(const struct query_verdict *v, char *buf, size_t len)
{
	char origin[PATH_MAX + 32], dflt[PATH_MAX + 32];
	size_t used;
	int n;

	buf[0] = '\0';
	if (v->reason == REASON_NONE)
		return;
	n = snprintf(buf, len, " reason=%s", query_reason_name(v->reason));
	used = n > 0 ? (size_t)n : 0;
	if (v->cname != NULL && used < len) {
		n = snprintf(buf + used, len - used, " cname=%s", v->cname);
		used += n > 0 ? (size_t)n : 0;
	}
	if (v->list != NULL && used < len) {
		n = snprintf(buf + used, len - used, " list=%s entry=%s",
			     v->list, v->entry ? v->entry : "?");
		used += n > 0 ? (size_t)n : 0;
	}
	if (v->rule != NULL && used < len) {
		n = snprintf(buf + used, len - used, " rule=%s",
			     rule_origin(v->rule, origin, sizeof origin));
		used += n > 0 ? (size_t)n : 0;
	}
	if (v->reason == REASON_ASK && used < len)
		snprintf(buf + used, len - used, " default=%s",
			 v->default_rule != NULL
			     ? rule_origin(v->default_rule, dflt, sizeof dflt)
			     : "built-in");
}

/* How the query's answer went, for its record: the granted addresses
 * (comma-separated, "" none), the rcode sent, whether from the cache,
 * and the words of the log line after the verdict (" blocked-answer=..",
 * " rcode=.. answer=.."). */
struct outcome {
	const char *addrs;
	const char *geo; /* their places (events.h); NULL: "" */
	uint8_t rcode;
	bool cached;
	const char *tail;
};

/* The query's one record (events.h), made when it is answered: the log
 * line is written from it, then every sink gets it (counters, history,
 * watchers), so they all say the same. Lines about refused queries
 * count against the app's log budget: an app over its share would
 * otherwise flood the log with them; their records still go out. */
static void
conclude(struct query *qr, const struct outcome *o)
{
	struct query_engine *e = qr->engine;
	const struct query_verdict *v = &qr->verdict;
	const struct attribution *who = &qr->who;
	char app[PATH_MAX + APP_IDENTITY_KEY_MAX + 700], tbuf[16];
	char why[1024] = "", note[128] = "", origin[PATH_MAX + 32] = "";
	struct event_record ev = {
		.kind = EVENT_QUERY,
		.id = qr->id,
		.time_ms = events_now_ms(),
		.app = qr->app_key[0] ? qr->app_key : "?",
		.cgroup = who->found ? who->cgroup_path : "",
		.pid = who->found && who->pid > 0 ? (int64_t)who->pid : -1,
		.uid = who->found ? (int64_t)who->uid : -1,
		.exe = who->found ? who->exe : "",
		.name = qr->q.qname,
		.qtype = qr->q.qtype,
		.decision = v->decision,
		.reason = v->reason,
		.rule = origin,
		.list = v->list != NULL ? v->list : "",
		.entry = v->entry != NULL ? v->entry : "",
		.answer = o->addrs != NULL ? o->addrs : "",
		.rcode = o->rcode,
		.cached = o->cached,
		.latency_us = (uint32_t)(clock_us() - qr->arrived_us),
		.dest = "",
		.detail = qr->detail,
		.cgroup_id = who->found ? who->cgroup_id : 0,
		.geo = o->geo != NULL ? o->geo : "",
		.dropped = qr->dropped_rec != NULL ? qr->dropped_rec : "",
	};

	switch (v->decision) { /* the counters, from the same values */
	case DECISION_ALLOW:
		e->stats.allowed++;
		break;
	case DECISION_BLOCK:
		e->stats.blocked++;
		break;
	case DECISION_REFUSED: /* counted by share where refused */
		break;
	default:
		e->stats.failed++;
	}
	if (v->rule != NULL)
		rule_origin(v->rule, origin, sizeof origin);
	if (e->cfg->log_queries &&
	    (v->decision != DECISION_REFUSED ||
	     may_log(e, qr->charge.app, note, sizeof note))) {
		format_app(who, qr->app_key, app, sizeof app);
		format_why(v, why, sizeof why);
		log_query("%s qname=%s qtype=%s proto=%s decision=%s%s%s%s%s%s%s",
			  app, ev.name, message_type_name(ev.qtype, tbuf, sizeof tbuf),
			  protocol_name(qr->req->protocol),
			  query_decision_name(ev.decision), why,
			  o->tail != NULL ? o->tail : "",
			  qr->dropped_log != NULL ? qr->dropped_log : "",
			  qr->detail[0] ? " " : "", qr->detail, note);
	}
	if (e->events != NULL)
		events_publish(e->events, &ev);
}

/* --- the registry ---------------------------------------------------- */

static struct query *
query_new(struct query_engine *e, struct listener_request *req)
{
	struct query *qr = xcalloc(1, sizeof *qr);

	qr->id = ++e->next_id;
	qr->arrived_us = clock_us();
	qr->state = QUERY_RECEIVED;
	qr->engine = e;
	qr->req = req;
	qr->next = e->live;
	if (e->live != NULL)
		e->live->prev = qr;
	e->live = qr;
	e->n_live++;
	return qr;
}

static void
query_free(struct query *qr)
{
	struct query_engine *e = qr->engine;

	if (qr->req != NULL)
		listener_drop(qr->req);
	if (qr->holds_pending)
		charge_give_back(e->shares, &qr->charge, SHARE_PENDING, 1);
	rules_asker_free(qr->asker);
	policy_free(qr->policy);
	free(qr->dropped_log);
	free(qr->dropped_rec);
	if (qr->prev != NULL)
		qr->prev->next = qr->next;
	else
		e->live = qr->next;
	if (qr->next != NULL)
		qr->next->prev = qr->prev;
	e->n_live--;
	free(qr);
}

static void
reply_rcode(struct query *qr, uint8_t rcode)
{
	uint8_t out[DNS_HEADER_SIZE + DNS_MAX_NAME + 8];
	ssize_t n = message_reply_rcode(qr->req->wire, qr->req->len, rcode, out,
					sizeof out);

	if (n > 0)
		listener_reply(qr->req, out, (size_t)n);
	else
		listener_drop(qr->req);
	qr->req = NULL;
	qr->state = QUERY_ANSWERED;
}

/* Sets the verdict, counts it, logs it and answers with rcode. */
static void
finish_rcode(struct query *qr, enum query_decision d, enum query_reason r,
	     uint8_t rcode)
{
	qr->verdict.decision = d;
	qr->verdict.reason = r;
	conclude(qr, &(struct outcome){.rcode = rcode});
	reply_rcode(qr, rcode);
}

/* The largest reply dnsgated builds itself: a blocked name's, whose
 * EDE text (a list's name, a rule's file:line) is cut to fit. */
#define OWN_REPLY_MAX 1232

/* Counts and logs a block decided by the verdict, and answers it in the
 * deciding list's answer= mode, else blocked-answer, with an Extended
 * DNS Error naming the list or the rule (when the query had EDNS). No
 * address is granted: a null answer's 0.0.0.0 or :: is nothing to
 * reach, and any upstream answer is thrown away. */
static void
finish_block(struct query *qr)
{
	struct query_engine *e = qr->engine;
	const struct query_verdict *v = &qr->verdict;
	enum message_block_mode mode = e->cfg->blocked_answer;
	char why[PATH_MAX + 32] = "", how[64];
	uint8_t out[OWN_REPLY_MAX];
	size_t max;
	ssize_t n;

	if (v->rule != NULL && v->list != NULL && !v->rule->is_default &&
	    v->rule->dest == RULE_DEST_LIST) {
		policy_list_answer(qr->policy, v->rule->list, &mode);
		snprintf(why, sizeof why, "%s", v->list);
	} else if (v->rule != NULL) {
		rule_origin(v->rule, why, sizeof why);
	}
	qr->verdict.decision = DECISION_BLOCK;
	snprintf(how, sizeof how, " blocked-answer=%s",
		 message_block_mode_name(mode));
	conclude(qr, &(struct outcome){
			     .rcode = mode == MESSAGE_BLOCK_NXDOMAIN
					  ? DNS_RCODE_NXDOMAIN
				  : mode == MESSAGE_BLOCK_REFUSED
					  ? DNS_RCODE_REFUSED
					  : DNS_RCODE_NOERROR,
			     .tail = how});
	max = qr->req->protocol == IPPROTO_TCP ? sizeof out : qr->q.udp_size;
	n = message_reply_blocked(qr->req->wire, qr->req->len, &qr->q, mode,
				  why, max, out, sizeof out);
	if (n > 0) {
		listener_reply(qr->req, out, (size_t)n);
		qr->req = NULL;
		qr->state = QUERY_ANSWERED;
		return;
	}
	reply_rcode(qr, DNS_RCODE_NXDOMAIN); /* no question to answer */
}

/* The names dnsgated answers itself before any rule (doh-canary), so
 * browsers keep DNS on the system resolver, where dnsgate sees it.
 * Returns true when qr was one of them (answered). */
static bool
answer_itself(struct query *qr)
{
	struct query_engine *e = qr->engine;
	uint8_t out[OWN_REPLY_MAX];
	uint8_t rcode;
	ssize_t n;

	if (!e->cfg->doh_canary)
		return false;
	if (strcmp(qr->q.qname, "use-application-dns.net") == 0) {
		qr->verdict.reason = REASON_DOH_CANARY;
		rcode = DNS_RCODE_NXDOMAIN;
		snprintf(qr->detail, sizeof qr->detail,
			 "(Firefox's DoH canary: NXDOMAIN keeps its "
			 "DNS-over-HTTPS off; doh-canary no lets it through)");
	} else if (strcmp(qr->q.qname, "_dns.resolver.arpa") == 0) {
		qr->verdict.reason = REASON_DDR;
		rcode = DNS_RCODE_NOERROR;
		snprintf(qr->detail, sizeof qr->detail,
			 "(DDR, RFC 9462: NODATA, no encrypted resolver to "
			 "move to; doh-canary no lets it through)");
	} else {
		return false;
	}
	qr->verdict.decision = DECISION_BLOCK;
	conclude(qr, &(struct outcome){
			     .rcode = rcode,
			     .tail = rcode == DNS_RCODE_NXDOMAIN
					 ? " blocked-answer=nxdomain"
					 : " blocked-answer=nodata"});
	n = message_reply_local(qr->req->wire, qr->req->len, &qr->q, rcode,
				out, sizeof out);
	if (n > 0) {
		listener_reply(qr->req, out, (size_t)n);
		qr->req = NULL;
		qr->state = QUERY_ANSWERED;
	} else {
		reply_rcode(qr, rcode);
	}
	return true;
}

/* --- grants ------------------------------------------------------------ */

/* A held grant is written again only once a tenth of its time has gone
 * (grant_addresses). */
#define GRANT_RENEW_SLACK 10

static uint32_t
grant_timeout(const struct config *cfg, uint32_t ttl)
{
	if (ttl < cfg->grant_ttl_min)
		return cfg->grant_ttl_min;
	if (ttl > cfg->grant_ttl_max)
		return cfg->grant_ttl_max;
	return ttl;
}

static void
on_grant_expired(uint64_t cgroup_id, uint32_t uid, void *arg)
{
	struct query_engine *e = arg;
	struct charge c = charge_for(cgroup_id, uid);

	charge_give_back(e->shares, &c, SHARE_GRANTS, 1);
}

static int
compare_addr(const void *a, const void *b)
{
	const struct ip_addr *x = a, *y = b;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return memcmp(x->bytes, y->bytes, sizeof x->bytes);
}

/* The addresses of the answer the app does not hold, each counted once
 * (an answer may repeat one through its CNAME chain). Sorting costs more
 * than the plain count, so it is only done when the plain count is over
 * a limit. */
static uint32_t
count_fresh_distinct(struct query_engine *e, const struct answer_info *info,
		     uint64_t cgroup, uint64_t now)
{
	size_t i, n = 0;
	uint32_t distinct = 0;

	for (i = 0; i < info->n_addrs; i++) {
		if (!grant_table_has(e->grants, cgroup, &info->addrs[i], now))
			e->fresh_buf[n++] = info->addrs[i];
	}
	qsort(e->fresh_buf, n, sizeof *e->fresh_buf, compare_addr);
	for (i = 0; i < n; i++) {
		if (i == 0 || compare_addr(&e->fresh_buf[i - 1],
					   &e->fresh_buf[i]) != 0)
			distinct++;
	}
	return distinct;
}

static int
compare_grant(const void *a, const void *b)
{
	const struct gate_grant *x = a, *y = b;

	return compare_addr(&x->addr, &y->addr);
}

/* Each address once (an answer may hold one twice, through its chain),
 * with the longest of its timeouts. Returns how many are left. */
static size_t
unique_grants(struct gate_grant *g, size_t n)
{
	size_t i, w = 0;

	if (n < 2)
		return n;
	qsort(g, n, sizeof *g, compare_grant);
	for (i = 0; i < n; i++) {
		if (w > 0 && compare_grant(&g[w - 1], &g[i]) == 0) {
			if (g[i].timeout_sec > g[w - 1].timeout_sec)
				g[w - 1].timeout_sec = g[i].timeout_sec;
			continue;
		}
		g[w++] = g[i];
	}
	return w;
}

/* Writes the answer's addresses for the asking cgroup, within its share
 * of the set. Returns 0 when the answer may be sent, -1 when it must not
 * (the verdict says why). */
static int
grant_addresses(struct query *qr, const struct answer_info *info)
{
	struct query_engine *e = qr->engine;
	struct gate_grant *grants = e->grant_buf;
	uint64_t now = clock_seconds();
	uint64_t cgroup = qr->who.cgroup_id;
	uint32_t fresh = 0;
	bool by_user;
	char err[256];
	size_t i, n = 0;
	int rc;

	if (info->n_addrs == 0 || e->gate == NULL)
		return 0;
	if (!qr->who.found) {
		snprintf(qr->detail, sizeof qr->detail,
			 "granted=none (asking socket gone before it could be "
			 "attributed)");
		return 0;
	}
	if (qr->who.cgroup_level == 0) {
		snprintf(qr->detail, sizeof qr->detail,
			 "granted=none (app runs in the root cgroup, which "
			 "cannot be told apart from others: run it in a "
			 "service or scope)");
		return 0;
	}
	grant_table_expire(e->grants, now, on_grant_expired, e);
	/* Only what is new or would run out sooner than it should is
	 * written: a grant that outlasts the answer's TTL (as long as the
	 * app may keep the answer) and was renewed within the last tenth of
	 * its time lasts long enough (an app asking for a name again and
	 * again, as on every cache hit, costs no netlink batch). */
	for (i = 0; i < info->n_addrs; i++) {
		uint32_t ttl = info->addr_ttls[i];
		uint32_t timeout = grant_timeout(e->cfg, ttl);
		uint64_t expires =
		    grant_table_expires(e->grants, cgroup, &info->addrs[i]);

		if (expires <= now)
			fresh++;
		/* Whole seconds: expires > now + ttl covers the fraction of
		 * the second now stands for. A TTL beyond grant-ttl-max is
		 * cut to it: the slack alone decides then. */
		if ((ttl > timeout || expires > now + ttl) &&
		    expires >= now + timeout - timeout / GRANT_RENEW_SLACK)
			continue;
		grants[n].addr = info->addrs[i];
		grants[n].timeout_sec = timeout;
		n++;
	}
	n = unique_grants(grants, n);
	/* Only new elements cost: renewing what the app holds never fails
	 * for quota, so its cached names keep working at its limit. */
	if (fresh > 0 &&
	    charge_over(e->shares, &qr->charge, SHARE_GRANTS, fresh, &by_user))
		fresh = count_fresh_distinct(e, info, cgroup, now);
	if (fresh > 0 &&
	    charge_over(e->shares, &qr->charge, SHARE_GRANTS, fresh, &by_user)) {
		uint64_t key = by_user ? qr->charge.user : qr->charge.app;

		e->stats.refused[SHARE_GRANTS]++;
		qr->verdict.decision = DECISION_REFUSED;
		qr->verdict.reason = by_user ? REASON_USER_GRANT_QUOTA
					     : REASON_APP_GRANT_QUOTA;
		snprintf(qr->detail, sizeof qr->detail,
			 "held=%u new=%u (%s: raise %s, or it gets new names "
			 "once its grants expire)",
			 shares_held(e->shares, key, SHARE_GRANTS), fresh,
			 by_user ? "this user's apps hold the user's share of "
				   "the allow sets"
				 : "the app holds its share of the allow sets",
			 by_user ? "user-grant-quota" : "app-grant-quota");
		return -1;
	}
	if (n == 0)
		return 0; /* every one held, for long enough */
	rc = gate_ensure_level(e->gate, qr->who.cgroup_level);
	if (rc == 0)
		rc = gate_allow(e->gate, cgroup, grants, n, err, sizeof err);
	else
		snprintf(err, sizeof err, "cannot add the gate rule for cgroup "
			 "level %u: %s", qr->who.cgroup_level, strerror(-rc));
	if (rc == -ENFILE) {
		char note[128];

		if (may_log(e, cgroup, note, sizeof note))
			log_error("the allow set is full (set-size %u): %s for "
				  "%s was refused; raise set-size in "
				  "dnsgate.conf%s",
				  e->cfg->set_size, qr->q.qname,
				  qr->who.cgroup_path, note);
		qr->verdict.decision = DECISION_SERVFAIL;
		qr->verdict.reason = REASON_SET_FULL;
		return -1;
	}
	if (rc < 0) {
		log_error("cannot grant %s to %s: %s", qr->q.qname,
			  qr->who.cgroup_path, err);
		qr->verdict.decision = DECISION_SERVFAIL;
		qr->verdict.reason = REASON_GATE_ERROR;
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (grant_table_put(e->grants, cgroup, qr->charge.uid,
				    &grants[i].addr, now,
				    grants[i].timeout_sec) == 1)
			charge_add(e->shares, &qr->charge, SHARE_GRANTS, 1);
	}
	e->stats.grants += n;
	return 0;
}

static void
format_addresses(const struct answer_info *info, char *buf, size_t len)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < info->n_addrs && used + 1 < len; i++) {
		char a[64];
		int n;

		ip_addr_format(&info->addrs[i], a, sizeof a);
		n = snprintf(buf + used, len - used, "%s%s", i ? "," : "", a);
		if (n < 0)
			break;
		used += (size_t)n;
	}
	if (info->n_addrs == 0)
		snprintf(buf, len, "-");
}

/* Appends text to buf (used so far: *used), whole or not at all;
 * false when it did not fit. */
static bool
append(char *buf, size_t len, size_t *used, const char *sep,
       const char *text)
{
	size_t need = strlen(sep) + strlen(text);

	if (*used + need + 1 > len)
		return false;
	memcpy(buf + *used, sep, strlen(sep));
	memcpy(buf + *used + strlen(sep), text, strlen(text) + 1);
	*used += need;
	return true;
}

/* The answer's addresses with their places for the log line
 * ("198.51.100.7[NL,AS64500],..."; an address with nothing known bare)
 * and for the record (geo, events.h). GeoIP off: the addresses alone,
 * geo "". Both bounded by their buffers: the lookups stop with the
 * first address the line cannot hold (an answer may have 4096). */
static void
format_places(struct place_memo *memo, const struct geoip *g,
	      const struct answer_info *info, char *shown, size_t shown_len,
	      char *geo, size_t geo_len)
{
	char a[64], word[64 + GEOIP_TAG_MAX + 2];
	size_t i, used = 0, geo_used = 0;

	geo[0] = '\0';
	if (!geoip_enabled(g)) {
		format_addresses(info, shown, shown_len);
		return;
	}
	shown[0] = '\0';
	for (i = 0; i < info->n_addrs; i++) {
		const struct place_memo_entry *p =
		    place_memo_get(memo, g, &info->addrs[i]);

		ip_addr_format(&info->addrs[i], a, sizeof a);
		snprintf(word, sizeof word, p->tag[0] ? "%s[%s]" : "%s%s", a,
			 p->tag);
		if (!append(shown, shown_len, &used, i ? "," : "", word))
			break;
		if (p->entry[0])
			append(geo, geo_len, &geo_used, geo_used ? ";" : "",
			       p->entry);
	}
	if (info->n_addrs == 0)
		snprintf(shown, shown_len, "-");
}

/* --- places ------------------------------------------------------------- */

/* Appends to a growing string (*buf NULL: empty). */
static void
grow_append(char **buf, const char *sep, const char *text)
{
	size_t have = *buf != NULL ? strlen(*buf) : 0;
	size_t need = have + strlen(sep) + strlen(text) + 1;

	*buf = xrealloc(*buf, need);
	snprintf(*buf + have, need - have, "%s%s", have ? sep : "", text);
}

/* Addresses dropped that the log line and the record name one by one. */
#define DROPPED_SHOWN 20

/* Whether a is in list (n addresses, sorted by compare_addr). */
static bool
in_list(const struct ip_addr *list, size_t n, const struct ip_addr *a)
{
	return bsearch(a, list, n, sizeof *list, compare_addr) != NULL;
}

/* The place rules of the app judge each address of an allowed answer
 * (rules.h: rules_place). The addresses they block are taken out of
 * wire (*len shortened) and info parsed again, so they get no grant and
 * are not sent. Returns 0 to go on (info holds what is left), or -1
 * when every address went, or the answer could not be rewritten: the
 * verdict is then the block's, for finish_block. */
static int
filter_places(struct query *qr, uint8_t *wire, size_t *len,
	      struct answer_info *info)
{
	const struct rules *rules = policy_rules(qr->policy);
	const struct geoip *g = policy_geoip(qr->policy);
	int64_t now = (int64_t)clock_seconds();
	struct ip_addr *drop = NULL, *kept;
	const struct rule *last = NULL;
	size_t i, n_drop = 0, n_kept = 0, dropped;
	const char *reason;
	ssize_t n;

	if (!rules_have_places(rules) || info->n_addrs == 0 ||
	    !geoip_enabled(g) || qr->engine->paused)
		return 0;
	for (i = 0; i < info->n_addrs; i++) {
		const struct place_memo_entry *p =
		    place_memo_get(qr->engine->places, g, &info->addrs[i]);
		const struct rule *rule;
		char a[64], origin[PATH_MAX + 32];
		char word[sizeof a + GEOIP_TAG_MAX + sizeof origin + 32];

		if (p->place.label != NULL)
			continue; /* private, documentation...: nowhere */
		if (rules_place(rules, qr->asker,
				&(struct rules_place){p->place.country,
						      p->place.continent,
						      p->place.asn},
				now, &rule) != RULES_BLOCK)
			continue;
		if (drop == NULL)
			drop = xcalloc(info->n_addrs, sizeof *drop);
		drop[n_drop++] = info->addrs[i];
		last = rule;
		if (n_drop > DROPPED_SHOWN) /* the log and the record say how
					       many more at the end */
			continue;
		ip_addr_format(&info->addrs[i], a, sizeof a);
		rule_origin(rule, origin, sizeof origin);
		snprintf(word, sizeof word, " dropped=%s[%s] rule=%s", a, p->tag,
			 origin);
		grow_append(&qr->dropped_log, "", word);
		snprintf(word, sizeof word, "%s=%s", a, origin);
		grow_append(&qr->dropped_rec, ";", word);
	}
	if (n_drop == 0)
		return 0;
	if (n_drop > DROPPED_SHOWN) {
		char more[64];

		snprintf(more, sizeof more, " dropped-more=%zu",
			 n_drop - DROPPED_SHOWN);
		grow_append(&qr->dropped_log, "", more);
		snprintf(more, sizeof more, "and %zu more",
			 n_drop - DROPPED_SHOWN);
		grow_append(&qr->dropped_rec, ";", more);
	}
	/* What was judged and kept: the only addresses that may be
	 * granted. The rewritten answer is parsed again, but what that
	 * parse finds beyond them (past the cap of addresses read, or a
	 * name a hostile answer made read otherwise after the rewrite) was
	 * never judged: it gets no grant. */
	qsort(drop, n_drop, sizeof *drop, compare_addr);
	kept = xcalloc(info->n_addrs, sizeof *kept);
	for (i = 0; i < info->n_addrs; i++)
		if (!in_list(drop, n_drop, &info->addrs[i]))
			kept[n_kept++] = info->addrs[i];
	n = message_drop_addresses(wire, *len, drop, n_drop, &dropped,
				   &reason);
	free(drop);
	if (n > 0 && message_parse_answer(wire, (size_t)n, qr->q.qname, info,
					  &reason) < 0)
		n = -1;
	if (n > 0)
		message_keep_addresses(info, kept, n_kept);
	free(kept);
	if (n < 0)
		snprintf(qr->detail, sizeof qr->detail,
			 "(the answer could not be rewritten without the "
			 "addresses dropped: %s; the name is blocked)",
			 reason);
	if (n < 0 || info->n_addrs == 0) {
		memset(&qr->verdict, 0, sizeof qr->verdict);
		qr->verdict.rule = last;
		qr->verdict.reason = REASON_PLACE;
		return -1;
	}
	*len = (size_t)n;
	return 0;
}

/* --- the path ---------------------------------------------------------- */

static void
exe_unknown_detail(struct query *qr)
{
	snprintf(qr->detail, sizeof qr->detail,
		 "(a rule naming a program (exe=, or an app key with one) "
		 "could decide this name, and the asking program is not "
		 "known: %s; the app may retry)",
		 qr->exe_unverified
		     ? "its exe is not the file that path names here (replaced "
		       "since it started, or a mount namespace of its own): "
		       "restart it if it was upgraded"
		 : qr->who.found ? "its socket was found, no process holding it"
				 : "its socket was gone before it was found");
}

static enum rules_outcome apply_answer(struct query *qr,
				       const struct prompt_answer *a, bool kept);

/* An ask rule decided on the answer's names (o: its default). The
 * qname's answer at a prompt stands for the qname; a name of the chain
 * is decided by an answer kept for it, else by the default (a query is
 * held on a prompt for its qname only). */
static enum rules_outcome
chain_asked(struct query *qr, enum rules_outcome o)
{
	struct query_engine *e = qr->engine;
	const char *name = qr->verdict.cname ? qr->verdict.cname : qr->q.qname;
	struct prompt_answer a;

	if (qr->verdict.cname == NULL && qr->answered) {
		char detail[sizeof qr->detail];

		a = qr->answer;
		memcpy(detail, qr->detail, sizeof detail);
		o = apply_answer(qr, &a, false);
		memcpy(qr->detail, detail, sizeof detail);
		return o;
	}
	if (e->prompts != NULL &&
	    prompts_answered(e->prompts, qr->app_key,
			     qr->who.found ? qr->who.cgroup_id : 0, name,
			     events_now_ms(), &a))
		return apply_answer(qr, &a, true);
	return o;
}

/* The upstream's (or the cache's) answer in wire: decide, grant, send.
 * just_decided: the qname was decided a moment ago (a cache hit), so an
 * answer without a CNAME chain has nothing new to decide. */
static void
finish_with_answer(struct query *qr, uint8_t *wire, size_t len,
		   bool from_cache, bool just_decided)
{
	struct query_engine *e = qr->engine;
	struct answer_info *info = e->answer;
	const char *names[1 + MESSAGE_MAX_CHAIN];
	enum rules_outcome o;
	const char *reason;
	char addrs[1024], shown[2048], geo[2048], answer[2400];
	size_t i;

	qr->state = QUERY_GRANTING;
	message_set_id(wire, len, qr->q.id);
	if (from_cache) /* the asker's own spelling of the name */
		message_copy_question(wire, len, qr->req->wire, qr->req->len);
	if (message_parse_answer(wire, len, qr->q.qname, info, &reason) < 0) {
		snprintf(qr->detail, sizeof qr->detail, "(%s)", reason);
		finish_rcode(qr, DECISION_SERVFAIL, REASON_MALFORMED_ANSWER,
			     DNS_RCODE_SERVFAIL);
		return;
	}
	/* The qname with every name of its chain: the most specific rule
	 * over all of them decides (rules.h). */
	names[0] = qr->q.qname;
	for (i = 0; i < info->n_chain; i++)
		names[1 + i] = info->chain[i];
	o = just_decided && info->n_chain == 0
		? RULES_ALLOW /* the qname's verdict, as decided */
		: decide(qr, names, 1 + info->n_chain);
	if (qr->verdict.reason == REASON_ASK)
		o = chain_asked(qr, o);
	if (o == RULES_BLOCK) {
		finish_block(qr);
		return;
	}
	if (o == RULES_UNDECIDED) {
		e->stats.exe_unknown++;
		exe_unknown_detail(qr);
		finish_rcode(qr, DECISION_SERVFAIL, REASON_EXE_UNKNOWN,
			     DNS_RCODE_SERVFAIL);
		return;
	}
	if (!from_cache && info->rcode != DNS_RCODE_SERVFAIL) {
		uint32_t ttl = info->min_ttl;

		if (!info->truncated)
			cache_put(e->cache, &qr->q, wire, len, ttl,
				  (time_t)clock_seconds());
	}
	if (info->addrs_cut) {
		e->stats.addresses_cut++;
		log_warn("%s: the answer has more than %d addresses: only the "
			 "first %d are granted to %s",
			 qr->q.qname, MESSAGE_MAX_ADDRS, MESSAGE_MAX_ADDRS,
			 qr->who.cgroup_path);
	}
	if (filter_places(qr, wire, &len, info) < 0) {
		finish_block(qr);
		return;
	}
	if (grant_addresses(qr, info) < 0) {
		finish_rcode(qr, qr->verdict.decision, qr->verdict.reason,
			     DNS_RCODE_SERVFAIL);
		return;
	}
	qr->verdict.decision = DECISION_ALLOW;
	format_addresses(info, addrs, sizeof addrs);
	format_places(qr->engine->places, policy_geoip(qr->policy), info,
		      shown, sizeof shown,
		      geo, sizeof geo);
	snprintf(answer, sizeof answer, " rcode=%s answer=%s%s%s%s%s",
		 message_rcode_name(info->rcode), shown,
		 from_cache ? (qr->stale ? " stale" : " cached") : "",
		 qr->stale ? " upstream=\"" : "", qr->stale ? qr->stale : "",
		 qr->stale ? "\"" : "");
	conclude(qr, &(struct outcome){.addrs = info->n_addrs ? addrs : "",
				       .geo = geo,
				       .rcode = info->rcode,
				       .cached = from_cache,
				       .tail = answer});

	if (qr->req->protocol == IPPROTO_UDP && len > qr->q.udp_size) {
		uint8_t tc[DNS_HEADER_SIZE + DNS_MAX_NAME + 8];
		ssize_t n = message_truncate(wire, len, tc, sizeof tc);

		if (n > 0)
			listener_reply(qr->req, tc, (size_t)n);
		else
			listener_drop(qr->req);
	} else {
		listener_reply(qr->req, wire, len);
	}
	qr->req = NULL;
	qr->state = QUERY_ANSWERED;
}

static void
on_upstream_answer(void *arg, int status, const uint8_t *answer, size_t len,
		   const char *reason)
{
	struct query *qr = arg;
	uint8_t *copy;

	if (qr->holds_pending) {
		charge_give_back(qr->engine->shares, &qr->charge, SHARE_PENDING,
				 1);
		qr->holds_pending = false;
	}
	if (qr->req == NULL) { /* answered already: drained at shutdown */
		query_free(qr);
		return;
	}
	if (status < 0) {
		struct query_engine *e = qr->engine;
		uint8_t cached[DNS_MAX_UDP];
		size_t n;

		/* Every upstream failed, or the deadline passed: an answer
		 * cached meanwhile, else a stale one (RFC 8767), else
		 * SERVFAIL. */
		n = cache_get(e->cache, &qr->q, cached, sizeof cached,
			      (time_t)clock_seconds());
		if (n == 0) {
			n = cache_get_stale(e->cache, &qr->q, cached,
					    sizeof cached,
					    (time_t)clock_seconds());
			qr->stale = n > 0 ? reason : NULL;
		}
		if (n > 0) {
			finish_with_answer(qr, cached, n, true, false);
			query_free(qr);
			return;
		}
		snprintf(qr->detail, sizeof qr->detail, "upstream=\"%s\"",
			 reason);
		finish_rcode(qr, DECISION_SERVFAIL, REASON_UPSTREAM_FAILED,
			     DNS_RCODE_SERVFAIL);
		query_free(qr);
		return;
	}
	copy = xmalloc(len);
	memcpy(copy, answer, len);
	finish_with_answer(qr, copy, len, false, false);
	free(copy);
	query_free(qr);
}

/* The client socket's peer as its app sees it, for finding the socket:
 * TCP's original destination, else where the query arrived. */
static const struct sockaddr *
client_peer(const struct listener_request *req)
{
	return (const struct sockaddr *)(req->has_original_dst
						 ? &req->original_dst
						 : &req->local);
}

static void
log_malformed(struct query_engine *e, struct listener_request *req,
	      enum message_verdict mv, const char *reason)
{
	struct attribution who;
	struct ip_addr a;
	char client[64], app[PATH_MAX + 700], note[128];
	uint16_t port;

	/* Only the kernel's part of who sent it: the log budget is per app,
	 * and this costs no /proc scan. */
	if (attr_lookup_owner(e->attr, req->protocol,
			      (const struct sockaddr *)&req->client,
			      client_peer(req), &who) < 0)
		who.found = false;
	if (!may_log(e, who.found ? who.cgroup_id : APP_UNKNOWN, note,
		     sizeof note))
		return;
	ip_addr_from_sockaddr((struct sockaddr *)&req->client, &a);
	ip_addr_format(&a, client, sizeof client);
	port = ntohs(req->client.ss_family == AF_INET6
			     ? ((struct sockaddr_in6 *)&req->client)->sin6_port
			     : ((struct sockaddr_in *)&req->client)->sin_port);
	if (who.found)
		snprintf(app, sizeof app, "uid=%u cgroup=%s", who.uid,
			 who.cgroup_path);
	else
		snprintf(app, sizeof app, "(client socket already closed)");
	log_warn("%s %s message from %s port %u, %s (%zu bytes): %s%s",
		 mv == MESSAGE_DROP ? "dropped a" : "answered a bad",
		 protocol_name(req->protocol), client, port, app, req->len,
		 reason, note);
}

/* The qname decided (o): block it, or answer it from the cache, or send
 * it upstream. Frees qr unless it went upstream. */
static void
proceed(struct query *qr, enum rules_outcome o)
{
	struct query_engine *e = qr->engine;
	struct listener_request *req = qr->req;
	uint8_t cached[DNS_MAX_UDP];
	bool by_user;
	size_t n;

	switch (o) {
	case RULES_BLOCK:
		finish_block(qr);
		query_free(qr);
		return;
	case RULES_UNDECIDED:
		e->stats.exe_unknown++;
		exe_unknown_detail(qr);
		finish_rcode(qr, DECISION_SERVFAIL, REASON_EXE_UNKNOWN,
			     DNS_RCODE_SERVFAIL);
		query_free(qr);
		return;
	case RULES_ALLOW:
		break;
	}

	n = cache_get(e->cache, &qr->q, cached, sizeof cached,
		      (time_t)clock_seconds());
	if (n > 0) {
		e->stats.cache_hits++;
		finish_with_answer(qr, cached, n, true, true);
		query_free(qr);
		return;
	}
	/* A query held on a prompt took its share then. */
	if (!qr->holds_pending &&
	    charge_take(e->shares, &qr->charge, SHARE_PENDING, 1, &by_user) <
		0) {
		e->stats.refused[SHARE_PENDING]++;
		snprintf(qr->detail, sizeof qr->detail,
			 "pending=%u (%s its share of queries waiting for "
			 "upstream: raise %s if it is not misbehaving)",
			 shares_held(e->shares,
				     by_user ? qr->charge.user : qr->charge.app,
				     SHARE_PENDING),
			 by_user ? "this user's apps have" : "the app has",
			 by_user ? "user-pending-quota" : "app-pending-quota");
		finish_rcode(qr, DECISION_REFUSED,
			     by_user ? REASON_USER_PENDING_QUOTA
				     : REASON_APP_PENDING_QUOTA,
			     DNS_RCODE_SERVFAIL);
		query_free(qr);
		return;
	}
	qr->holds_pending = true;
	qr->state = QUERY_RESOLVING;
	upstream_send(e->upstream, req->wire, req->len, on_upstream_answer, qr);
}


/* An answer from a prompt, as the query's verdict: reason answered,
 * the answer's words in its detail. Returns the outcome it gives. */
static enum rules_outcome
apply_answer(struct query *qr, const struct prompt_answer *a, bool kept)
{
	struct query_verdict *v = &qr->verdict;

	qr->answered = true;
	qr->answer = *a;
	v->reason = REASON_ANSWERED;
	v->rule = NULL; /* the answer decided, not the ask rule */
	v->list = NULL;
	v->entry = NULL;
	snprintf(qr->detail, sizeof qr->detail,
		 "(%s at the prompt by %s: %s %s%s%s, scope %s)",
		 kept ? "answered before" : "answered", a->by,
		 prompt_action_name(a->action),
		 prompt_duration_name(a->duration),
		 a->duration == PROMPT_FOR ? " " : "",
		 a->duration == PROMPT_FOR ? "a while" : "",
		 prompt_scope_name(a->scope));
	return a->action == PROMPT_ALLOW ? RULES_ALLOW : RULES_BLOCK;
}

/* An ask rule decided the qname (*o: the default it stands for). An
 * answer kept from an earlier prompt decides now; else the query is
 * held on its prompt (true: query_prompt_resume goes on). False: go on
 * with *o. */
static bool
ask(struct query *qr, enum rules_outcome *o)
{
	struct query_engine *e = qr->engine;
	const struct attribution *who = &qr->who;
	struct prompt_answer a;
	struct prompt_asker asker;
	char domain[256], lists[PROMPT_FIELD_MAX];

	bool by_user;

	/* Paused: what would be asked is let through (decide said so for
	 * a block; an allow default needs no question either). */
	if (e->prompts == NULL || *o == RULES_UNDECIDED || e->paused)
		return false;
	if (prompts_answered(e->prompts, qr->app_key,
			     who->found ? who->cgroup_id : 0, qr->q.qname,
			     events_now_ms(), &a)) {
		*o = apply_answer(qr, &a, true);
		return false;
	}
	policy_registrable_domain(qr->policy, qr->q.qname, domain,
				  sizeof domain);
	policy_lists_knowing(qr->policy, qr->q.qname, qr->q.qtype,
			     qr->app_key, lists, sizeof lists);
	asker = (struct prompt_asker){
	    .app = qr->app_key,
	    .exe = who->found ? who->exe : "",
	    .cgroup = who->found ? who->cgroup_path : "",
	    .cgroup_id = who->found ? who->cgroup_id : 0,
	    .pid = who->found && who->pid > 0 ? (int64_t)who->pid : -1,
	    .uid = who->found ? (int64_t)who->uid : -1,
	    .name = qr->q.qname,
	    .qtype = qr->q.qtype,
	    .domain = domain,
	    .lists = lists,
	};
	qr->asked_default = *o;
	/* A held query counts as one waiting for upstream: an app flooding
	 * one name while its prompt is open is bounded by its share. */
	if (charge_take(e->shares, &qr->charge, SHARE_PENDING, 1, &by_user) <
	    0) {
		snprintf(qr->detail, sizeof qr->detail,
			 "(%s its share of queries waiting: not held on a "
			 "prompt; the app's default)",
			 by_user ? "this user's apps have" : "the app has");
		return false;
	}
	qr->holds_pending = true;
	qr->wait = prompts_hold(e->prompts, &asker, qr);
	if (qr->wait == NULL) {
		snprintf(qr->detail, sizeof qr->detail,
			 "(nobody is there to answer the prompt: the app's "
			 "default; the prompt waits in 'dnsgatectl prompt')");
		return false;
	}
	qr->state = QUERY_ASKING;
	e->stats.prompted++;
	return true;
}

void
query_prompt_resume(void *waiter, const struct prompt_answer *a)
{
	struct query *qr = waiter;

	qr->wait = NULL;
	qr->state = QUERY_DECIDING;
	if (a != NULL) {
		proceed(qr, apply_answer(qr, a, false));
		return;
	}
	snprintf(qr->detail, sizeof qr->detail,
		 "(the prompt was not answered in time: the app's default; "
		 "it waits in 'dnsgatectl prompt')");
	proceed(qr, qr->asked_default);
}

void
query_handle(void *arg, struct listener_request *req)
{
	struct query_engine *e = arg;
	struct query *qr;
	const char *names[1];
	enum message_verdict mv;
	enum rules_outcome o;
	const char *reason = NULL;

	e->stats.queries++;
	qr = query_new(e, req);
	mv = message_parse_query(req->wire, req->len, &qr->q, &reason);
	if (mv != MESSAGE_QUERY_OK) {
		e->stats.malformed++;
		log_malformed(e, req, mv, reason);
		if (mv != MESSAGE_DROP)
			reply_rcode(qr, mv == MESSAGE_NOTIMP ? DNS_RCODE_NOTIMP
							     : DNS_RCODE_FORMERR);
		query_free(qr);
		return;
	}

	/* Our own loop probe, forwarded back by some resolver: never send
	 * it on (that is the loop). */
	if (upstream_is_loop_probe(e->upstream, qr->q.qname)) {
		e->stats.loops++;
		log_debug("dnsgated's loop probe %s came back to it: answered "
			  "REFUSED (the upstream check logs which server)",
			  qr->q.qname);
		reply_rcode(qr, DNS_RCODE_REFUSED);
		query_free(qr);
		return;
	}

	/* Now, while the client's socket is certainly still open. */
	if (attr_lookup(e->attr, req->protocol,
			(const struct sockaddr *)&req->client, client_peer(req),
			&qr->who) < 0)
		qr->who.found = false;
	if (!qr->who.found)
		e->stats.socket_gone++;
	else if (qr->who.pid == 0)
		e->stats.no_process++;
	qr->charge = charge_of(&qr->who);
	if (e->standing != NULL && qr->who.found && qr->who.cgroup_level > 0)
		standing_notice(e->standing, qr->who.cgroup_id,
				qr->who.cgroup_path, qr->who.cgroup_level);
	qr->policy = policy_ref(e->policy);
	identify(qr);
	qr->state = QUERY_DECIDING;
	if (qr->who.found && qr->who.pid == getpid()) {
		e->stats.loops++;
		snprintf(qr->detail, sizeof qr->detail,
			 "(dnsgated's own query came back to it: a loop; is its "
			 "upstream socket unmarked, or another table "
			 "redirecting it?)");
		finish_rcode(qr, DECISION_REFUSED, REASON_LOOP,
			     DNS_RCODE_REFUSED);
		query_free(qr);
		return;
	}

	if (answer_itself(qr)) {
		query_free(qr);
		return;
	}
	names[0] = qr->q.qname;
	o = decide(qr, names, 1);
	if (qr->verdict.reason == REASON_ASK && ask(qr, &o))
		return; /* held: query_prompt_resume goes on */
	proceed(qr, o);
}

/* --- TCP connections ------------------------------------------------- */

int
query_tcp_open(void *arg, const struct sockaddr *client,
	       const struct sockaddr *original_dst, uint64_t *tag)
{
	struct query_engine *e = arg;
	struct attribution who;
	struct charge c, *held;
	char note[128], uid[16];
	bool by_user;

	if (attr_lookup_owner(e->attr, IPPROTO_TCP, client, original_dst,
			      &who) < 0)
		who.found = false;
	c = charge_of(&who);
	if (charge_take(e->shares, &c, SHARE_TCP, 1, &by_user) == 0) {
		held = xmalloc(sizeof *held);
		*held = c;
		*tag = (uint64_t)(uintptr_t)held;
		return 0;
	}
	e->stats.refused[SHARE_TCP]++;
	if (who.found)
		snprintf(uid, sizeof uid, "%u", who.uid);
	else
		snprintf(uid, sizeof uid, "?");
	if (may_log(e, c.app, note, sizeof note))
		log_warn("refused a DNS-over-TCP connection from uid=%s "
			 "cgroup=%s: %s %u open, its share (%s); other %s are "
			 "not affected%s",
			 uid, who.found ? who.cgroup_path : "?",
			 by_user ? "this user's apps have" : "the app has",
			 shares_held(e->shares, by_user ? c.user : c.app,
				     SHARE_TCP),
			 by_user ? "user-tcp-quota" : "app-tcp-quota",
			 by_user ? "users" : "apps", note);
	return -1;
}

void
query_tcp_close(void *arg, uint64_t tag)
{
	struct query_engine *e = arg;
	struct charge *held = (struct charge *)(uintptr_t)tag;

	charge_give_back(e->shares, held, SHARE_TCP, 1);
	free(held);
}

/* --- the engine -------------------------------------------------------- */

static void
report_suppressed(uint64_t app, uint32_t n, void *arg)
{
	struct query_engine *e = arg;
	char path[512];
	unsigned level;

	if (app == APP_UNKNOWN ||
	    cgroup_lookup(e->cgroups, app, path, sizeof path, &level) < 0)
		snprintf(path, sizeof path, "%s",
			 app == APP_UNKNOWN ? "(unattributed)" : "?");
	log_warn("%u more log lines about cgroup=%s were suppressed in the "
		 "last seconds (malformed or refused traffic; at most %d at "
		 "once, then one a second, per app)",
		 n, path, SHARES_LOG_BURST);
}

static void
on_sweep(evutil_socket_t fd, short what, void *arg)
{
	struct query_engine *e = arg;

	grant_table_expire(e->grants, clock_seconds(), on_grant_expired, e);
	shares_report_suppressed(e->shares, clock_ms(), report_suppressed,
				 e);
	/* Cgroups made since: their standing grants, before they connect. */
	if (e->standing != NULL && rules_have_nets(policy_rules(e->policy))) {
		char err[256];

		/* Said once when it starts failing, once when it works
		 * again: the sweep tries every 5 s. */
		if (standing_scan(e->standing, err, sizeof err) < 0) {
			if (!e->standing_failing)
				log_warn("standing grants (net= rules) cannot "
					 "be written: %s; apps may lack their "
					 "net= networks until this works (tried "
					 "again every %d s)",
					 err, SWEEP_SECONDS);
			e->standing_failing = true;
		} else if (e->standing_failing) {
			log_info("standing grants (net= rules) written again");
			e->standing_failing = false;
		}
	}
}

struct net_fill {
	struct gate_standing *out;
	size_t max, n;
};

static void
on_net(void *arg, const struct rule *rule, uint32_t seconds_left)
{
	struct net_fill *f = arg;

	if (f->n < f->max) {
		memset(&f->out[f->n], 0, sizeof f->out[f->n]);
		f->out[f->n].net = rule->net;
		f->out[f->n].timeout_sec = seconds_left;
	}
	f->n++;
}

size_t
query_standing_match(void *arg, const char *cgroup_path, unsigned level,
		     struct gate_standing *out, size_t max)
{
	struct query_engine *e = arg;
	const struct rules *r = policy_rules(e->policy);
	struct app_identity_source src;
	struct app_identity *id;
	struct rules_asker *a;
	struct net_fill f = {out, max, 0};
	char err[128];

	if (!rules_have_nets(r))
		return 0;
	memset(&src, 0, sizeof src);
	src.cgroup_path = cgroup_path;
	src.uid = APP_IDENTITY_UID_UNKNOWN;
	id = xmalloc(sizeof *id);
	(void)app_identity_from(&src, id, err, sizeof err);
	/* The user the path names (user-1000.slice), root's word. */
	a = policy_asker(e->policy, id, id->cgroup_uid);
	rules_nets(r, a, (int64_t)time(NULL), on_net, &f);
	rules_asker_free(a);
	free(id);
	return f.n;
}

void
query_engine_start(struct query_engine *e, struct event_base *base)
{
	uint32_t limits[SHARE_KINDS], user_limits[SHARE_KINDS];
	struct timeval every = {SWEEP_SECONDS, 0};

	user_limits[SHARE_GRANTS] = e->cfg->user_grant_quota;
	user_limits[SHARE_PENDING] = e->cfg->user_pending_quota;
	user_limits[SHARE_TCP] = e->cfg->user_tcp_quota;
	limits[SHARE_GRANTS] = e->cfg->app_grant_quota;
	limits[SHARE_PENDING] = e->cfg->app_pending_quota;
	limits[SHARE_TCP] = e->cfg->app_tcp_quota;
	e->shares = shares_new(limits, user_limits);
	e->fresh_buf = xcalloc(MESSAGE_MAX_ADDRS, sizeof *e->fresh_buf);
	e->grants = grant_table_new();
	e->exe_check = exe_check_new();
	e->places = place_memo_new();
	e->answer = xmalloc(sizeof *e->answer);
	e->grant_buf = xcalloc(MESSAGE_MAX_ADDRS, sizeof *e->grant_buf);
	e->sweep = event_new(base, -1, EV_PERSIST, on_sweep, e);
	event_add(e->sweep, &every);
}

void
query_engine_stop(struct query_engine *e)
{
	struct query *qr;

	for (qr = e->live; qr != NULL; qr = qr->next) {
		if (qr->req == NULL)
			continue;
		if (qr->wait != NULL) { /* held on a prompt: answered here */
			prompts_cancel(e->prompts, qr->wait);
			qr->wait = NULL;
		}
		finish_rcode(qr, DECISION_SERVFAIL, REASON_SHUTTING_DOWN,
			     DNS_RCODE_SERVFAIL);
	}
	if (e->sweep != NULL)
		event_free(e->sweep);
	e->sweep = NULL;
}

void
query_engine_free(struct query_engine *e)
{
	while (e->live != NULL)
		query_free(e->live);
	grant_table_free(e->grants);
	exe_check_free(e->exe_check);
	place_memo_free(e->places);
	shares_free(e->shares);
	free(e->answer);
	free(e->grant_buf);
	free(e->fresh_buf);
	e->grants = NULL;
	e->shares = NULL;
}

static void
adopt_grant(const struct nft_grant *g, void *arg)
{
	struct query_engine *e = arg;
	/* Rounded down: the mirror must never outlive the kernel's
	 * element (a grant it believes long enough is not written again). */
	uint64_t left = g->expires_ms / 1000;

	if (left == 0)
		return; /* gone within the second */
	/* Who asked is not in the set: charged to the app alone. */
	if (grant_table_put(e->grants, g->cgroup_id, 0, &g->addr,
			    clock_seconds(),
			    left > UINT32_MAX ? UINT32_MAX : (uint32_t)left) == 1)
		shares_add(e->shares, g->cgroup_id, SHARE_GRANTS, 1);
}

int
query_engine_adopt_grants(struct query_engine *e, char *err, size_t errlen)
{
	return nft_dump_grants(adopt_grant, e, err, errlen);
}

void
query_engine_grants_lost(struct query_engine *e)
{
	grant_table_clear(e->grants);
	shares_clear_kind(e->shares, SHARE_GRANTS);
}
