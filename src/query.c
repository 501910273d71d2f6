/* query.c - one query from arrival to answer, and its log line. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "attribution.h"
#include "cache.h"
#include "config_file.h"
#include "listener.h"
#include "log.h"
#include "message.h"
#include "nft_gate.h"
#include "policy.h"
#include "query.h"
#include "upstream.h"
#include "xmalloc.h"

/* A query waiting for its upstream answer. */
struct pending_query {
	struct query_engine *engine;
	struct listener_request *req;
	struct dns_question q;
	struct attribution who;
	const char *stale; /* answered from an expired cache entry (RFC
			      8767): why upstream failed; else NULL */
};

static time_t
monotonic_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static const char *
type_name(uint16_t type, char *buf, size_t len)
{
	const ldns_rr_descriptor *d = ldns_rr_descript(type);

	if (d != NULL && d->_name != NULL)
		return d->_name;
	snprintf(buf, len, "TYPE%u", type);
	return buf;
}

static const char *
rcode_name(uint8_t rcode)
{
	static const char *const names[] = {"NOERROR", "FORMERR", "SERVFAIL",
					    "NXDOMAIN", "NOTIMP", "REFUSED"};

	return rcode < sizeof names / sizeof names[0] ? names[rcode] : "OTHER";
}

static const char *
protocol_name(int protocol)
{
	return protocol == IPPROTO_TCP ? "tcp" : "udp";
}

/* "pid=1234 exe=/usr/bin/curl uid=1000 cgroup=/user.slice/app.scope" */
static void
format_app(const struct attribution *who, char *buf, size_t len)
{
	if (!who->found) {
		snprintf(buf, len,
			 "pid=? exe=? uid=? cgroup=? (client socket already "
			 "closed)");
		return;
	}
	if (who->pid == 0) {
		snprintf(buf, len, "pid=? exe=? uid=%u cgroup=%s", who->uid,
			 who->cgroup_path);
		return;
	}
	snprintf(buf, len, "pid=%ld exe=%s uid=%u cgroup=%s", (long)who->pid,
		 who->exe[0] ? who->exe : "?", who->uid, who->cgroup_path);
}

static void
log_decision(const struct pending_query *pq, const char *decision,
	     const char *detail)
{
	char app[PATH_MAX + 700], tbuf[16];

	if (!pq->engine->cfg->log_queries)
		return;
	format_app(&pq->who, app, sizeof app);
	log_query("%s qname=%s qtype=%s proto=%s decision=%s%s%s", app,
		  pq->q.qname, type_name(pq->q.qtype, tbuf, sizeof tbuf),
		  protocol_name(pq->req->protocol), decision,
		  detail && *detail ? " " : "", detail ? detail : "");
}

static void
reply_rcode(struct pending_query *pq, uint8_t rcode)
{
	uint8_t out[DNS_HEADER_SIZE + DNS_MAX_NAME + 8];
	ssize_t n = message_reply_rcode(pq->req->wire, pq->req->len, rcode, out,
					sizeof out);

	if (n > 0)
		listener_reply(pq->req, out, (size_t)n);
	else
		listener_drop(pq->req);
	pq->req = NULL;
}

static void
pending_free(struct pending_query *pq)
{
	if (pq->req != NULL)
		listener_drop(pq->req);
	free(pq);
}

static uint32_t
grant_timeout(const struct config *cfg, uint32_t ttl)
{
	if (ttl < cfg->grant_ttl_min)
		return cfg->grant_ttl_min;
	if (ttl > cfg->grant_ttl_max)
		return cfg->grant_ttl_max;
	return ttl;
}

/* Writes the answer's addresses for the asking cgroup. Returns 0 when the
 * answer may be sent, -1 when it must not (set full, netlink failure). */
static int
grant_addresses(struct pending_query *pq, const struct answer_info *info,
		char *detail, size_t detaillen)
{
	struct query_engine *e = pq->engine;
	struct gate_grant grants[MESSAGE_MAX_ADDRS];
	char err[256];
	size_t i;
	int rc;

	if (info->n_addrs == 0 || e->gate == NULL)
		return 0;
	if (!pq->who.found) {
		snprintf(detail, detaillen,
			 "granted=none (asking socket gone before it could be "
			 "attributed)");
		return 0;
	}
	if (pq->who.cgroup_level == 0) {
		snprintf(detail, detaillen,
			 "granted=none (app runs in the root cgroup, which "
			 "cannot be told apart from others: run it in a "
			 "service or scope)");
		return 0;
	}
	for (i = 0; i < info->n_addrs; i++) {
		grants[i].addr = info->addrs[i];
		grants[i].timeout_sec =
			grant_timeout(e->cfg, info->addr_ttls[i]);
	}
	rc = gate_ensure_level(e->gate, pq->who.cgroup_level);
	if (rc == 0)
		rc = gate_allow(e->gate, pq->who.cgroup_id, grants,
				info->n_addrs, err, sizeof err);
	else
		snprintf(err, sizeof err, "cannot add the gate rule for cgroup "
			 "level %u: %s", pq->who.cgroup_level, strerror(-rc));
	if (rc == -ENFILE) {
		log_error("the allow set is full (set-size %u): %s for %s was "
			  "refused; raise set-size in dnsgate.conf",
			  e->cfg->set_size, pq->q.qname, pq->who.cgroup_path);
		snprintf(detail, detaillen, "reason=allow-set-full");
		return -1;
	}
	if (rc < 0) {
		log_error("cannot grant %s to %s: %s", pq->q.qname,
			  pq->who.cgroup_path, err);
		snprintf(detail, detaillen, "reason=gate-error");
		return -1;
	}
	e->stats.grants += info->n_addrs;
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

/* The upstream's (or the cache's) answer in wire: decide, grant, send. */
static void
finish_with_answer(struct pending_query *pq, uint8_t *wire, size_t len,
		   bool from_cache)
{
	struct query_engine *e = pq->engine;
	struct answer_info info;
	struct policy_verdict v;
	const char *reason;
	char detail[2600], addrs[1024], grant_detail[256] = "";
	char stale_note[1200] = "";
	size_t i;

	message_set_id(wire, len, pq->q.id);
	if (from_cache) /* the asker's own spelling of the name */
		message_copy_question(wire, len, pq->req->wire, pq->req->len);
	if (message_parse_answer(wire, len, pq->q.qname, &info, &reason) < 0) {
		e->stats.failed++;
		log_decision(pq, "servfail", "reason=malformed-upstream-answer");
		reply_rcode(pq, DNS_RCODE_SERVFAIL);
		return;
	}
	for (i = 0; i < info.n_chain; i++) {
		if (policy_check(e->policy, info.chain[i], &v)) {
			e->stats.blocked++;
			snprintf(detail, sizeof detail,
				 "cname=%s list=%s rule=%s", info.chain[i],
				 v.list, v.rule);
			log_decision(pq, "block", detail);
			reply_rcode(pq, DNS_RCODE_NXDOMAIN);
			return;
		}
	}
	if (!from_cache && info.rcode != DNS_RCODE_SERVFAIL) {
		uint32_t ttl = info.min_ttl;

		if (!info.truncated)
			cache_put(e->cache, &pq->q, wire, len, ttl,
				  monotonic_seconds());
	}
	if (grant_addresses(pq, &info, grant_detail, sizeof grant_detail) <
	    0) {
		e->stats.failed++;
		log_decision(pq, "servfail", grant_detail);
		reply_rcode(pq, DNS_RCODE_SERVFAIL);
		return;
	}
	e->stats.allowed++;
	format_addresses(&info, addrs, sizeof addrs);
	if (pq->stale)
		snprintf(stale_note, sizeof stale_note, " upstream=\"%s\"",
			 pq->stale);
	snprintf(detail, sizeof detail, "rcode=%s answer=%s%s%s%s%s",
		 rcode_name(info.rcode), addrs,
		 from_cache ? (pq->stale ? " stale" : " cached") : "",
		 stale_note, grant_detail[0] ? " " : "", grant_detail);
	log_decision(pq, "allow", detail);

	if (pq->req->protocol == IPPROTO_UDP && len > pq->q.udp_size) {
		uint8_t tc[DNS_HEADER_SIZE + DNS_MAX_NAME + 8];
		ssize_t n = message_truncate(wire, len, tc, sizeof tc);

		if (n > 0)
			listener_reply(pq->req, tc, (size_t)n);
		else
			listener_drop(pq->req);
	} else {
		listener_reply(pq->req, wire, len);
	}
	pq->req = NULL;
}

static void
on_upstream_answer(void *arg, int status, const uint8_t *answer, size_t len,
		   const char *reason)
{
	struct pending_query *pq = arg;
	uint8_t *copy;

	if (status < 0) {
		struct query_engine *e = pq->engine;
		uint8_t cached[DNS_MAX_UDP];
		char detail[1400];
		size_t n;

		/* Every upstream failed, or the deadline passed: an answer
		 * cached meanwhile, else a stale one (RFC 8767), else
		 * SERVFAIL. */
		n = cache_get(e->cache, &pq->q, cached, sizeof cached,
			      monotonic_seconds());
		if (n == 0) {
			n = cache_get_stale(e->cache, &pq->q, cached,
					    sizeof cached, monotonic_seconds());
			pq->stale = n > 0 ? reason : NULL;
		}
		if (n > 0) {
			finish_with_answer(pq, cached, n, true);
			pending_free(pq);
			return;
		}
		e->stats.failed++;
		snprintf(detail, sizeof detail, "reason=\"%s\"", reason);
		log_decision(pq, "servfail", detail);
		reply_rcode(pq, DNS_RCODE_SERVFAIL);
		pending_free(pq);
		return;
	}
	copy = xmalloc(len);
	memcpy(copy, answer, len);
	finish_with_answer(pq, copy, len, false);
	free(copy);
	pending_free(pq);
}

void
query_handle(void *arg, struct listener_request *req)
{
	struct query_engine *e = arg;
	struct pending_query *pq;
	struct policy_verdict v;
	enum message_verdict mv;
	const char *reason = NULL;
	char client[64], detail[600];
	uint8_t cached[DNS_MAX_UDP];
	size_t n;

	e->stats.queries++;
	pq = xcalloc(1, sizeof *pq);
	pq->engine = e;
	pq->req = req;
	mv = message_parse_query(req->wire, req->len, &pq->q, &reason);
	if (mv != MESSAGE_QUERY_OK) {
		struct ip_addr a;
		uint16_t port;

		e->stats.malformed++;
		ip_addr_from_sockaddr((struct sockaddr *)&req->client, &a);
		ip_addr_format(&a, client, sizeof client);
		port = ntohs(req->client.ss_family == AF_INET6
				     ? ((struct sockaddr_in6 *)&req->client)
					       ->sin6_port
				     : ((struct sockaddr_in *)&req->client)
					       ->sin_port);
		log_warn("%s %s message from %s port %u (%zu bytes): %s",
			 mv == MESSAGE_DROP ? "dropped a" : "answered a bad",
			 protocol_name(req->protocol), client, port, req->len,
			 reason);
		if (mv == MESSAGE_DROP)
			pending_free(pq);
		else {
			reply_rcode(pq, mv == MESSAGE_NOTIMP ? DNS_RCODE_NOTIMP
							     : DNS_RCODE_FORMERR);
			pending_free(pq);
		}
		return;
	}
	/* Our own loop probe, forwarded back by some resolver: never send
	 * it on (that is the loop). */
	if (upstream_is_loop_probe(e->upstream, pq->q.qname)) {
		reply_rcode(pq, DNS_RCODE_REFUSED);
		pending_free(pq);
		return;
	}

	/* Now, while the client's socket is certainly still open. */
	if (attr_lookup(e->attr, req->protocol,
			(const struct sockaddr *)&req->client,
			(const struct sockaddr *)(req->has_original_dst
							  ? &req->original_dst
							  : &req->local),
			&pq->who) < 0)
		pq->who.found = false;
	if (pq->who.found && pq->who.pid == getpid()) {
		log_decision(pq, "refused",
			     "reason=\"dnsgated's own query came back to it: a "
			     "loop (is its upstream socket unmarked?)\"");
		reply_rcode(pq, DNS_RCODE_REFUSED);
		pending_free(pq);
		return;
	}

	if (policy_check(e->policy, pq->q.qname, &v)) {
		e->stats.blocked++;
		snprintf(detail, sizeof detail, "list=%s rule=%s", v.list,
			 v.rule);
		log_decision(pq, "block", detail);
		reply_rcode(pq, DNS_RCODE_NXDOMAIN);
		pending_free(pq);
		return;
	}

	n = cache_get(e->cache, &pq->q, cached, sizeof cached,
		      monotonic_seconds());
	if (n > 0) {
		e->stats.cache_hits++;
		finish_with_answer(pq, cached, n, true);
		pending_free(pq);
		return;
	}
	upstream_send(e->upstream, req->wire, req->len, on_upstream_answer, pq);
}
