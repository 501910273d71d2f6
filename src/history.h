/* history.h - every decision and rejected connection kept in SQLite, to
 * be asked later by time, app and name (dnsgatectl log).
 * The events sink only copies a record into a bounded queue in memory:
 * it never blocks, never waits for the disk, and when the queue is full
 * it drops the record and counts it. A thread of its own owns the
 * database: it writes the queue in batched transactions (WAL,
 * synchronous=NORMAL), prunes what is older than the retention, and
 * keeps at most max_records (the oldest go first), a chunk per turn
 * so the queue keeps draining, and
 * runs the queries on a read connection of its own, each within a
 * time budget and with the queue written between them; their results come
 * back to the loop through a pipe. A database that cannot be opened or
 * written turns the history off, with a reason: queries are answered
 * all the same. */
#ifndef DNSGATE_HISTORY_H
#define DNSGATE_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/events.h"
#include "src/json.h"

#define HISTORY_DEFAULT_PATH "/var/lib/dnsgate/history.db"
#define HISTORY_DEFAULT_DAYS 30
#define HISTORY_SCHEMA_VERSION 3
#define HISTORY_QUERY_LIMIT_MAX 10000 /* records one query returns */
/* history-max-records: a record takes about 420 bytes on disk with its
 * indexes (README, "History"), so about 2 GB. */
#define HISTORY_DEFAULT_MAX_RECORDS 5000000
/* Rejected connections kept per app in a window; the rest are counted
 * per app (status) and not written: one app sending to ever new ports
 * would otherwise fill the disk with 8,192 records a second. */
#define HISTORY_REJECTED_PER_APP 100
#define HISTORY_REJECTED_WINDOW_MS 10000
/* A query's time in the thread; then it is answered with what it found
 * and says that it timed out. */
#define HISTORY_QUERY_BUDGET_MS 250

struct event_base;
struct history;

struct history_options {
	const char *path;         /* the database file; its directory is made
	                             0700 when missing, the file is 0600 */
	uint32_t days;            /* retention: older records are deleted */
	size_t queue_bytes;       /* the queue's room; 0: 4 MiB */
	uint32_t batch_ms;        /* how long a record waits to be written
	                             when the queue stays under half (up to
	                             twice that behind a long turn); 0: 1000 */
	size_t batch_records;     /* or this many wake the writer; 0: only
	                             the time and a queue half full do */
	uint64_t max_records;     /* the newest this many are kept; 0: no cap */
	size_t prune_chunk;       /* rows deleted per writer turn; 0: 5000 */
	uint32_t query_budget_ms; /* 0: HISTORY_QUERY_BUDGET_MS */
};

/* Opens (or creates) the database, checks it and starts the writer.
 * Returns NULL with a reason in err: the caller runs without history. */
struct history *history_open(struct event_base *base,
                             const struct history_options *o, char *err,
                             size_t errlen);

/* Writes what is queued, stops the thread and closes the database.
 * Queries not answered yet are answered with an error. NULL is
 * accepted. */
void history_close(struct history *h);

/* The events sink (events_subscribe(bus, history_sink, h)): copies ev
 * into the queue, or drops it when the queue is full or the history
 * failed, or counts it for its app when it is a rejected connection past
 * HISTORY_REJECTED_PER_APP in its app's window (of ev->time_ms). Never
 * blocks on the disk. Called on the loop only. */
void history_sink(void *arg, const struct event_record *ev);

/* Blocks until every record queued before the call is committed (or
 * dropped, when the history failed). For shutdown and tests. */
void history_flush(struct history *h);

struct history_stats {
	uint64_t queued;  /* records the sink took */
	uint64_t written; /* committed */
	uint64_t dropped; /* the queue was full, or the history failed */
	uint64_t pruned;  /* deleted by the retention or the cap */
	uint64_t rejected_over_budget; /* rejected records not kept: their
	                                  app was over its budget */
	bool failed;                   /* writing failed: the history is off */
	char reason[400];              /* why, when failed */
};

void history_get_stats(struct history *h, struct history_stats *st);

/* The members of the status object's "history" (an object begun). */
void history_status_json(struct history *h, struct json_out *j);

/* What a query asks for; strings "" (and times 0) mean any. */
struct history_filter {
	int64_t since_ms;        /* time_ms >= since_ms */
	int64_t until_ms;        /* time_ms < until_ms; 0: no bound */
	char app[1024];          /* the app key exactly */
	char app_contains[1024]; /* app keys containing this */
	char name[256];          /* the name exactly (any case) */
	char name_suffix[256];   /* the name and every name below it */
	bool blocked;            /* blocked queries and rejected connections */
	enum event_kind kind;    /* 0: both kinds */
	uint32_t limit;          /* 0: 100; at most HISTORY_QUERY_LIMIT_MAX */
	bool oldest_first;       /* else newest first */
};

/* The records found, in the order asked. Their strings live in the
 * result. */
struct history_result {
	struct event_record *records;
	size_t n;
	bool more;       /* more records matched than the limit */
	bool timed_out;  /* the query ran out of its time; records holds
	                    what it found by then */
	char error[512]; /* "": none; else the query failed */
};

/* Called on the loop with the result, which the callee frees with
 * history_result_free. */
typedef void history_done_fn(void *arg, struct history_result *r);

/* Queues a query for the history's thread. done is called later on the
 * loop, never from inside this call (also when the history failed:
 * then with an error). */
void history_query(struct history *h, const struct history_filter *f,
                   history_done_fn *done, void *arg);

void history_result_free(struct history_result *r);

/* One record as the JSON object the control socket's "log" sends (with
 * the verdict's words: query_decision_name ...). */
void history_record_json(struct json_out *j, const struct event_record *ev);
/* Its members only, into an object begun (a log -f line adds "event"). */
void history_record_members(struct json_out *j, const struct event_record *ev);

/* The members "records": [...] and "truncated": bool of a "log" reply,
 * into j (an object begun). The array holds whole records only, as many
 * as leave j room to be ended; truncated says that more matched (more
 * than fit, or than the query's limit) or may have: a query that ran out
 * of time adds "timed_out": true and a "reason". */
void history_result_json(struct json_out *j, const struct history_result *r);

/* Reads a "log" request's filter members (since_ms, until_ms, app,
 * app_contains, name, name_suffix, blocked, kind, limit, order) into f.
 * Returns 0, or -1 with a reason in err. */
int history_filter_from_request(const char *request, size_t len,
                                struct history_filter *f, char *err,
                                size_t errlen);

#endif
