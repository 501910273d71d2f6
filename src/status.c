/* status.c - the daemon's counters as JSON and as log lines. */
#include "config.h"

#include <time.h>

#include <unistd.h>

#include "geoip/geoip.h"
#include "resolver/cache.h"
#include "resolver/upstream.h"
#include "src/attribution.h"
#include "src/clock.h"
#include "src/grant_table.h"
#include "src/history.h"
#include "src/log.h"
#include "src/nft_dump.h"
#include "src/policy.h"
#include "src/query.h"
#include "src/shares.h"
#include "src/status.h"

/* The counters that are not in query_stats, read in one place for the
 * JSON and the log lines alike. */
struct status_reading {
	uint64_t stale;
	uint64_t in_flight;
	size_t live_grants;
	int64_t rejected; /* the kernel's counter; negative: no table */
	long long uptime;
	struct policy_stats policy;
};

static void
status_read(const struct status_sources *s, struct status_reading *r)
{
	const struct query_engine *e = s->engine;
	char err[256];

	r->stale = cache_stale_answers(e->cache);
	r->in_flight = e->n_live;
	r->live_grants = e->grants != NULL ? grant_table_count(e->grants) : 0;
	r->rejected = nft_dump_rejected_packets(err, sizeof err);
	r->uptime = (long long)((time_t)clock_seconds() - s->started);
	policy_get_stats(e->policy, &r->policy);
}

/* How many upstream servers there are to report on. */
static size_t
server_count(const struct status_sources *s)
{
	return s->upstream != NULL ? upstream_server_count(s->upstream) : 0;
}

static const char *
server_state(const struct upstream_server_stats *us)
{
	return us->loop ? "dropped (loop)" : us->up ? "up" : "down";
}

/* Lines skipped by reason: {"malformed": 0, "cosmetic": 12, ...}. */
static void
skipped_json(struct json_out *j, const size_t *skipped)
{
	size_t k;

	json_object_begin(j);
	for (k = 0; k < LIST_SKIP_KINDS; k++) {
		json_key(j, list_skip_name((enum list_skip)k));
		json_uint(j, skipped[k]);
	}
	json_object_end(j);
}

/* One list: what it is, what is in force, what was skipped and why. */
static void
list_json(struct json_out *j, const struct policy *p, size_t i)
{
	struct policy_list_info info;

	policy_list_info(p, i, &info);
	json_object_begin(j);
	json_key(j, "name");
	json_string(j, info.name);
	json_key(j, "path");
	json_string(j, info.path);
	json_key(j, "format");
	json_string(j, list_format_name(info.format));
	json_key(j, "entries");
	json_uint(j, info.entries);
	json_key(j, "exceptions");
	json_uint(j, info.stats->exceptions);
	json_key(j, "lines");
	json_uint(j, info.stats->lines);
	json_key(j, "badfilter_lines");
	json_uint(j, info.stats->badfilters);
	json_key(j, "skipped");
	skipped_json(j, info.stats->skipped);
	json_key(j, "title");
	json_string(j, info.title);
	json_key(j, "homepage");
	json_string(j, info.homepage);
	json_key(j, "expires_seconds");
	json_uint(j, info.expires);
	json_key(j, "kept_after_bad_reload");
	json_bool(j, info.kept);
	json_key(j, "age_seconds"); /* of the copy in force; -1: none yet */
	json_int(j, info.loaded_at > 0 ? (int64_t)time(NULL) - info.loaded_at
				       : -1);
	json_object_end(j);
}

/* "country" or "asn": {"path", "state": "open"|"unusable"|"off", and
 * the file's "type" and "built" (Unix seconds), or the "error"}. */
static void
geoip_json(struct json_out *j, const struct geoip *g, bool asn)
{
	struct geoip_file_info fi;

	geoip_file_info(g, asn, &fi);
	json_key(j, asn ? "asn" : "country");
	json_object_begin(j);
	json_key(j, "state");
	json_string(j, fi.path == NULL ? "off" : fi.open ? "open" : "unusable");
	if (fi.path != NULL) {
		json_key(j, "path");
		json_string(j, fi.path);
	}
	if (fi.open) {
		json_key(j, "type");
		json_string(j, fi.type);
		json_key(j, "built");
		json_uint(j, fi.build_epoch);
	} else if (fi.path != NULL) {
		json_key(j, "error");
		json_string(j, fi.error);
	}
	json_object_end(j);
}

void
status_json(const struct status_sources *s, struct json_out *j)
{
	const struct query_engine *e = s->engine;
	const struct query_stats *st = &e->stats;
	struct status_reading r;
	size_t i;

	status_read(s, &r);
	json_key(j, "version");
	json_string(j, PACKAGE_VERSION);
	json_key(j, "pid");
	json_uint(j, (uint64_t)getpid());
	json_key(j, "uptime_seconds");
	json_uint(j, (uint64_t)r.uptime);
	json_key(j, "packets_rejected");
	json_int(j, r.rejected >= 0 ? r.rejected : -1);
	/* dnsgatectl pause: blocking off until paused_until (0: resume). */
	json_key(j, "paused");
	json_bool(j, e->paused);
	if (e->paused) {
		char when[32] = "resume";
		time_t t = (time_t)e->paused_until;
		struct tm tm;

		if (t > 0 && gmtime_r(&t, &tm) != NULL)
			strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
		json_key(j, "paused_until");
		json_string(j, when);
	}

	json_key(j, "queries");
	json_object_begin(j);
	json_key(j, "total");
	json_uint(j, st->queries);
	json_key(j, "allowed");
	json_uint(j, st->allowed);
	json_key(j, "blocked");
	json_uint(j, st->blocked);
	json_key(j, "failed");
	json_uint(j, st->failed);
	json_key(j, "malformed");
	json_uint(j, st->malformed);
	json_key(j, "from_cache");
	json_uint(j, st->cache_hits);
	json_key(j, "stale");
	json_uint(j, r.stale);
	json_key(j, "in_flight");
	json_uint(j, r.in_flight);
	json_object_end(j);

	json_key(j, "grants");
	json_object_begin(j);
	json_key(j, "written");
	json_uint(j, st->grants);
	json_key(j, "live");
	json_uint(j, r.live_grants);
	json_key(j, "answers_cut");
	json_uint(j, st->addresses_cut);
	json_object_end(j);

	json_key(j, "refused_over_share");
	json_object_begin(j);
	json_key(j, "grants");
	json_uint(j, st->refused[SHARE_GRANTS]);
	json_key(j, "pending_queries");
	json_uint(j, st->refused[SHARE_PENDING]);
	json_key(j, "tcp_connections");
	json_uint(j, st->refused[SHARE_TCP]);
	json_object_end(j);

	json_key(j, "app_shares");
	json_object_begin(j);
	json_key(j, "grants");
	json_uint(j, shares_limit(e->shares, 1, SHARE_GRANTS));
	json_key(j, "pending_queries");
	json_uint(j, shares_limit(e->shares, 1, SHARE_PENDING));
	json_key(j, "tcp_connections");
	json_uint(j, shares_limit(e->shares, 1, SHARE_TCP));
	json_key(j, "tracked");
	json_uint(j, shares_app_count(e->shares));
	json_object_end(j);

	json_key(j, "user_shares");
	json_object_begin(j);
	json_key(j, "grants");
	json_uint(j, shares_limit(e->shares, shares_user_key(1), SHARE_GRANTS));
	json_key(j, "pending_queries");
	json_uint(j, shares_limit(e->shares, shares_user_key(1), SHARE_PENDING));
	json_key(j, "tcp_connections");
	json_uint(j, shares_limit(e->shares, shares_user_key(1), SHARE_TCP));
	json_object_end(j);

	json_key(j, "log_lines_suppressed");
	json_uint(j, st->log_suppressed);
	json_key(j, "loops_refused");
	json_uint(j, st->loops);
	json_key(j, "attribution");
	json_object_begin(j);
	json_key(j, "socket_gone");
	json_uint(j, st->socket_gone);
	json_key(j, "no_process");
	json_uint(j, st->no_process);
	json_key(j, "exe_unknown");
	json_uint(j, st->exe_unknown);
	/* What finding the processes cost: links of /proc/PID/fd read;
	 * and the sockets: found by their 4-tuple, or by a table dump. */
	json_key(j, "fd_links_read");
	json_uint(j, attr_links_read(e->attr));
	{
		struct sockdiag_stats sds;

		sockdiag_get_stats(attr_sockdiag(e->attr), &sds);
		json_key(j, "sockets_by_tuple");
		json_uint(j, sds.exact_found);
		json_key(j, "socket_table_dumps");
		json_uint(j, sds.dumps);
	}
	json_object_end(j);
	json_key(j, "prompted");
	json_uint(j, st->prompted);

	json_key(j, "upstreams");
	json_array_begin(j);
	for (i = 0; i < server_count(s); i++) {
		struct upstream_server_stats us;

		upstream_server_stats(s->upstream, i, &us);
		json_object_begin(j);
		json_key(j, "server");
		json_string(j, us.address);
		json_key(j, "state");
		json_string(j, server_state(&us));
		json_key(j, "queries");
		json_uint(j, us.queries);
		json_key(j, "answers");
		json_uint(j, us.answers);
		json_key(j, "timeouts");
		json_uint(j, us.timeouts);
		json_key(j, "servfail");
		json_uint(j, us.servfail);
		json_key(j, "refused");
		json_uint(j, us.refused);
		json_key(j, "errors");
		json_uint(j, us.errors);
		json_key(j, "srtt_ms");
		json_uint(j, us.srtt_ms);
		json_key(j, "rto_ms");
		json_uint(j, us.rto_ms);
		json_object_end(j);
	}
	json_array_end(j);

	json_key(j, "block_lists");
	json_object_begin(j);
	json_key(j, "lists");
	json_uint(j, r.policy.lists);
	json_key(j, "domains");
	json_uint(j, r.policy.domains);
	json_key(j, "kept_after_bad_reload");
	json_uint(j, r.policy.lists_kept);
	json_key(j, "public_suffix_lines_refused");
	json_uint(j, r.policy.suffixes_refused);
	json_key(j, "public_suffix_check");
	json_bool(j, r.policy.public_suffix_check);
	json_key(j, "skipped");
	skipped_json(j, r.policy.skipped);
	json_key(j, "each");
	json_array_begin(j);
	for (i = 0; i < r.policy.lists; i++)
		list_json(j, e->policy, i);
	json_array_end(j);
	json_object_end(j);

	json_key(j, "geoip");
	json_object_begin(j);
	geoip_json(j, policy_geoip(e->policy), false);
	geoip_json(j, policy_geoip(e->policy), true);
	json_object_end(j);

	json_key(j, "history");
	json_object_begin(j);
	if (s->history != NULL) {
		history_status_json(s->history, j);
	} else {
		json_key(j, "state");
		json_string(j, "off");
	}
	json_object_end(j);
}

void
status_log(const struct status_sources *s, const char *what)
{
	const struct query_stats *st = &s->engine->stats;
	struct status_reading r;
	long long up;
	size_t i;

	status_read(s, &r);
	up = r.uptime;
	log_info("statistics %s: %llu queries, %llu allowed, %llu blocked, "
		 "%llu failed, %llu malformed, %llu from cache, %llu stale, "
		 "%llu in flight, %llu grants written, %zu live, %lld packets "
		 "rejected, up %lldh%02lldm%02llds",
		 what, (unsigned long long)st->queries,
		 (unsigned long long)st->allowed,
		 (unsigned long long)st->blocked,
		 (unsigned long long)st->failed,
		 (unsigned long long)st->malformed,
		 (unsigned long long)st->cache_hits,
		 (unsigned long long)r.stale, (unsigned long long)r.in_flight,
		 (unsigned long long)st->grants, r.live_grants,
		 (long long)r.rejected, up / 3600, up / 60 % 60, up % 60);
	log_info("statistics %s: refused over an app's or user's share: %llu for "
		 "grants, %llu for pending queries, %llu TCP connections; "
		 "%llu log lines suppressed; %llu answers cut; %llu loops "
		 "refused",
		 what, (unsigned long long)st->refused[SHARE_GRANTS],
		 (unsigned long long)st->refused[SHARE_PENDING],
		 (unsigned long long)st->refused[SHARE_TCP],
		 (unsigned long long)st->log_suppressed,
		 (unsigned long long)st->addresses_cut,
		 (unsigned long long)st->loops);
	log_info("statistics %s: %zu block lists, %zu domains, %zu kept on an "
		 "older copy after a bad reload, %zu public-suffix lines "
		 "refused",
		 what, r.policy.lists, r.policy.domains, r.policy.lists_kept,
		 r.policy.suffixes_refused);
	for (i = 0; i < server_count(s); i++) {
		struct upstream_server_stats us;

		upstream_server_stats(s->upstream, i, &us);
		log_info("upstream %s: %llu queries, %llu answers, %llu "
			 "timeouts, %llu SERVFAIL, %llu REFUSED, %llu errors, "
			 "srtt %u ms, %s",
			 us.address, (unsigned long long)us.queries,
			 (unsigned long long)us.answers,
			 (unsigned long long)us.timeouts,
			 (unsigned long long)us.servfail,
			 (unsigned long long)us.refused,
			 (unsigned long long)us.errors, us.srtt_ms,
			 server_state(&us));
	}
	if (s->history != NULL) {
		struct history_stats hs;

		history_get_stats(s->history, &hs);
		log_info("statistics %s: history: %llu records written, %llu "
			 "dropped (queue full or history off), %llu pruned%s%s",
			 what, (unsigned long long)hs.written,
			 (unsigned long long)hs.dropped,
			 (unsigned long long)hs.pruned,
			 hs.failed ? "; off: " : "", hs.failed ? hs.reason : "");
	}
}
