/* fetch.h - downloads the https:// lists (subscriptions) on the daemon's
 * libevent loop, with libcurl's multi interface: no thread, no other
 * process, and the loop never waits for the network (queries are answered
 * all along). Why not a separate unprivileged fetcher: it would need the
 * daemon's upstream and socket mark all the same, and a second process
 * and a hand-over protocol to get them; libcurl parses the server's
 * replies here, with certificate checking, within a size limit.
 *
 * Each list is fetched at start (conditionally: If-None-Match and
 * If-Modified-Since with what its cached copy was served with) and then
 * every refresh= seconds, or its "! Expires:", or daily. The name of the
 * list's host is resolved through the daemon's own upstream (never
 * through the redirect back to dnsgated, never the system resolver) and
 * handed to curl with CURLOPT_RESOLVE; every socket carries the upstream
 * mark, so the gate lets it out. Redirects are followed here, to https://
 * only, each new host resolved the same way. A download fetch_check
 * refuses leaves the cache as it was: the last good copy stays in force.
 * A new copy is handed to a thread (cache_writer.h) that writes it into
 * the cache as the copy pending (list_cache.h), so the loop never waits
 * for the disk; then the changed callback asks the daemon for a build,
 * each list as soon as its own copy is written (the reloader coalesces
 * those that come while a build runs). The build judges the copy pending
 * and puts it in force, or refuses it (policy.h); fetch_build_done tells
 * what it did, and the list's download is over then. */
#ifndef DNSGATE_FETCH_H
#define DNSGATE_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FETCH_MAX_REDIRECTS 5
#define FETCH_RETRY_MAX 3600 /* after a failure, retried within an hour */

struct config;
struct event_base;
struct upstream;
struct fetch;

struct fetch_options {
	struct event_base *base;
	struct upstream *upstream;  /* resolves the lists' hosts */
	uint32_t mark;              /* SO_MARK of every download socket */
	const char *ca_file;        /* CAs to trust; NULL = the system's */
	const char *cache_dir;      /* list-cache */
	/* List name's new copy is pending in the cache: returns the number
	 * of the build that will read it (reloader_request). */
	uint64_t (*changed)(void *arg, const char *name);
	void *arg;
};

/* NULL with a reason in err when libcurl cannot be set up. Copies what
 * it keeps of o. */
struct fetch *fetch_new(const struct fetch_options *o, char *err,
                        size_t errlen);

/* Stops every download; pending fetch_update callers get theirs. */
void fetch_free(struct fetch *f);

/* Takes the subscriptions of cfg (at start, and after each reload): a new
 * one is fetched now, one no longer there is dropped, one kept keeps its
 * state and timer (a changed URL is fetched now). */
void fetch_set_lists(struct fetch *f, const struct config *cfg);

/* Downloads name now (NULL: every subscription); done(arg) is called
 * once, when its download is over (for NULL: every one), a new copy in
 * force or refused by then. Another list's slow server does not hold it
 * back. Returns the number of lists being downloaded, or -1 with a
 * reason in err (no such subscription). */
typedef void fetch_done_fn(void *arg);
int fetch_update(struct fetch *f, const char *name, fetch_done_fn *done,
                 void *arg, char *err, size_t errlen);

/* What build did with list name's copy pending: 1 took it, 0 refused it
 * (reason says why), -1 read none. For 1 and 0, copy gets the record of
 * the copy it judged (url "" when it was unreadable), which may be an
 * older one than the download in flight: that one then stays pending. */
struct list_cache_meta;
typedef int fetch_outcome_fn(void *arg, const char *name,
                             struct list_cache_meta *copy, char *reason,
                             size_t reasonlen);

/* Build number build is over: outcome asked of each subscription; NULL
 * when the build failed (failed says why: a copy pending stays so, for
 * the next build). The lists it was asked for are done. */
void fetch_build_done(struct fetch *f, uint64_t build,
                      fetch_outcome_fn *outcome, void *arg,
                      const char *failed);

/* What `dnsgatectl lists` shows of a subscription. */
struct fetch_status {
	const char *name; /* owned by f, valid until fetch_set_lists */
	const char *url;
	bool busy;               /* downloading, or its copy being put
	                            in force */
	bool have_copy;          /* a copy is in the cache */
	int64_t copy_fetched_at; /* wall clock: it was downloaded; 0 = none */
	int64_t last_attempt;    /* wall clock: the last download ended */
	bool last_ok;            /* it brought a new copy or a 304 */
	const char *last_result; /* what it did, in words ("" before any) */
	int64_t next_refresh;    /* wall clock */
	uint32_t interval;       /* seconds between refreshes, as in force */
	uint64_t copy_entries;   /* entry lines of the copy (fetch_check) */
};

size_t fetch_count(const struct fetch *f);
/* Fills out for subscription i; returns 0, or -1 past the last. */
int fetch_status_at(const struct fetch *f, size_t i, struct fetch_status *out);
/* The same by list name; -1 when it is no subscription. */
int fetch_status_of(const struct fetch *f, const char *name,
                    struct fetch_status *out);

#endif
