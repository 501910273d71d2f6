/* test_history.c - the SQLite history: records of both kinds written
 * and read back whole, every filter of a query, the retention, a full
 * queue that drops and counts, a damaged or newer file refused with a
 * reason, the file's and directory's modes, a "log" request's members
 * read with their errors; the cap on records and the retention deleting
 * a chunk per writer turn, the per-app budget of rejected records, a
 * query cut by its time budget, and a writer woken by a queue half
 * full. */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <sqlite3.h>

#include "src/history.h"
#include "tests/unit/check.h"

static char dir[256];
static struct event_base *base;

#define NOW_MS 1796133600000LL
#define DAY_MS 86400000LL

static struct event_record
query_record(const char *app, const char *name, int64_t time_ms,
             enum query_decision decision)
{
	struct event_record ev;

	memset(&ev, 0, sizeof ev);
	ev.kind = EVENT_QUERY;
	ev.id = 42;
	ev.time_ms = time_ms;
	ev.app = app;
	ev.cgroup = "/dnsgate-test/app";
	ev.pid = 1234;
	ev.uid = 1000;
	ev.exe = "/usr/bin/curl";
	ev.name = name;
	ev.qtype = 28; /* AAAA */
	ev.decision = decision;
	ev.reason = decision == DECISION_BLOCK ? REASON_LISTED : REASON_DEFAULT;
	ev.rule = "rules.d/10.rules:3";
	ev.list = decision == DECISION_BLOCK ? "ads" : "";
	ev.entry = decision == DECISION_BLOCK ? "example.com" : "";
	ev.answer = decision == DECISION_ALLOW ? "2001:db8::1,2001:db8::2" : "";
	ev.rcode = decision == DECISION_BLOCK ? 3 : 0;
	ev.cached = true;
	ev.latency_us = 1500;
	ev.dest = "";
	ev.detail = "a detail";
	ev.geo = decision == DECISION_ALLOW
	             ? "2001:db8::1=JP/AS64502/Example Six;2001:db8::2=JP//"
	             : "";
	ev.dropped = decision == DECISION_ALLOW
	                 ? "2001:db8::9=rules.d/20-places.rules:4"
	                 : "";
	return ev;
}

static struct event_record
rejected_record(const char *app, int64_t time_ms)
{
	struct event_record ev;

	memset(&ev, 0, sizeof ev);
	ev.kind = EVENT_REJECTED;
	ev.time_ms = time_ms;
	ev.app = app;
	ev.cgroup = "/dnsgate-test/other";
	ev.pid = -1;
	ev.uid = -1;
	ev.exe = "";
	ev.name = "";
	ev.rule = ev.list = ev.entry = ev.answer = ev.detail = "";
	ev.dest = "203.0.113.7";
	ev.port = 443;
	ev.protocol = IPPROTO_TCP;
	ev.packets = 3;
	ev.geo = "203.0.113.7=US/AS64501/Documentation Transit";
	return ev;
}

static struct history *
open_at(const char *name, uint32_t days, size_t queue_bytes, char *err,
        size_t errlen)
{
	struct history_options o;
	char path[512];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	memset(&o, 0, sizeof o);
	o.path = path;
	o.days = days;
	o.queue_bytes = queue_bytes;
	o.batch_ms = queue_bytes ? 60000 : 50; /* a small queue: no timer */
	o.batch_records = queue_bytes ? 1000000 : 0;
	return history_open(base, &o, err, errlen);
}

/* With the options of open_at for a timer-driven writer, and these. */
static struct history *
open_with(const char *name, uint64_t max_records, size_t prune_chunk,
          uint32_t query_budget_ms, uint32_t batch_ms)
{
	struct history_options o;
	char path[512], err[512];
	struct history *h;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	memset(&o, 0, sizeof o);
	o.path = path;
	o.days = 30;
	o.batch_ms = batch_ms;
	o.max_records = max_records;
	o.prune_chunk = prune_chunk;
	o.query_budget_ms = query_budget_ms;
	h = history_open(base, &o, err, sizeof err);
	if (h == NULL)
		fprintf(stderr, "%s\n", err);
	return h;
}

/* Waits (5 s at most) for the writer's pruned count to reach n. */
static uint64_t
wait_pruned(struct history *h, uint64_t n)
{
	struct history_stats st;
	int i;

	for (i = 0; i < 500; i++) {
		history_get_stats(h, &st);
		if (st.pruned >= n)
			break;
		usleep(10000);
	}
	return st.pruned;
}

struct answer {
	struct history_result *r;
};

static void
on_done(void *arg, struct history_result *r)
{
	struct answer *a = arg;

	a->r = r;
	event_base_loopbreak(base);
}

/* Runs the query and waits on the loop for its result. */
static struct history_result *
ask(struct history *h, const struct history_filter *f)
{
	struct answer a = {NULL};

	history_query(h, f, on_done, &a);
	CHECK(a.r == NULL); /* never from inside the call */
	while (a.r == NULL)
		event_base_loop(base, EVLOOP_ONCE);
	return a.r;
}

static size_t
count(struct history *h, const struct history_filter *f)
{
	struct history_result *r = ask(h, f);
	size_t n = r->n;

	CHECK_STR(r->error, "");
	history_result_free(r);
	return n;
}

static void
test_write_and_filters(void)
{
	struct history *h;
	struct history_filter f;
	struct history_result *r;
	struct history_stats st;
	struct event_record ev;
	struct stat sb;
	char err[512], path[512];

	h = open_at("sub/history.db", 30, 0, err, sizeof err);
	CHECK(h != NULL);
	if (h == NULL) {
		fprintf(stderr, "%s\n", err);
		return;
	}
	snprintf(path, sizeof path, "%s/sub", dir);
	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0700);
	snprintf(path, sizeof path, "%s/sub/history.db", dir);
	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600);

	ev = query_record("app:firefox", "www.Example.com", NOW_MS - 3000,
	                  DECISION_ALLOW);
	history_sink(h, &ev);
	ev = query_record("app:firefox", "ads.example.com", NOW_MS - 2000,
	                  DECISION_BLOCK);
	history_sink(h, &ev);
	ev = query_record("unit:curl-fire.service", "example.org",
	                  NOW_MS - 1000, DECISION_ALLOW);
	history_sink(h, &ev);
	ev = query_record("app:curl", "notexample.com", NOW_MS - 500,
	                  DECISION_ALLOW);
	history_sink(h, &ev);
	ev = rejected_record("app:curl", NOW_MS);
	history_sink(h, &ev);
	history_flush(h);
	history_get_stats(h, &st);
	CHECK_INT(st.queued, 5);
	CHECK_INT(st.written, 5);
	CHECK_INT(st.dropped, 0);

	/* Everything, newest first, every field back. */
	memset(&f, 0, sizeof f);
	r = ask(h, &f);
	CHECK_INT(r->n, 5);
	CHECK(!r->more);
	if (r->n == 5) {
		const struct event_record *q = &r->records[3];
		const struct event_record *x = &r->records[0];

		CHECK_INT(x->kind, EVENT_REJECTED);
		CHECK_STR(x->dest, "203.0.113.7");
		CHECK_INT(x->port, 443);
		CHECK_INT(x->protocol, IPPROTO_TCP);
		CHECK_INT(x->packets, 3);
		CHECK_INT(x->pid, -1);
		CHECK_INT(q->kind, EVENT_QUERY);
		CHECK_INT(q->id, 42);
		CHECK_INT(q->time_ms, NOW_MS - 2000);
		CHECK_STR(q->app, "app:firefox");
		CHECK_STR(q->cgroup, "/dnsgate-test/app");
		CHECK_INT(q->pid, 1234);
		CHECK_INT(q->uid, 1000);
		CHECK_STR(q->exe, "/usr/bin/curl");
		CHECK_STR(q->name, "ads.example.com");
		CHECK_INT(q->qtype, 28);
		CHECK_INT(q->decision, DECISION_BLOCK);
		CHECK_INT(q->reason, REASON_LISTED);
		CHECK_STR(q->rule, "rules.d/10.rules:3");
		CHECK_STR(q->list, "ads");
		CHECK_STR(q->entry, "example.com");
		CHECK_INT(q->rcode, 3);
		CHECK(q->cached);
		CHECK_INT(q->latency_us, 1500);
		CHECK_STR(q->detail, "a detail");
		CHECK_STR(r->records[4].answer, "2001:db8::1,2001:db8::2");
		CHECK_STR(
		    r->records[4].geo,
		    "2001:db8::1=JP/AS64502/Example Six;2001:db8::2=JP//");
		CHECK_STR(r->records[4].dropped,
		          "2001:db8::9=rules.d/20-places.rules:4");
		CHECK_STR(q->dropped, "");
		CHECK_STR(q->geo, "");
		CHECK_STR(x->geo,
		          "203.0.113.7=US/AS64501/Documentation Transit");

		/* As the control socket sends it: the verdict's words. */
		{
			char buf[2048];
			struct json_out j;

			json_out_init(&j, buf, sizeof buf);
			history_record_json(&j, q);
			CHECK(strstr(buf, "\"decision\":\"block\"") != NULL);
			CHECK(strstr(buf, "\"reason\":\"listed\"") != NULL);
			CHECK(strstr(buf, "\"type\":\"AAAA\"") != NULL);
			CHECK(strstr(buf, "\"rcode\":\"NXDOMAIN\"") != NULL);
			json_out_init(&j, buf, sizeof buf);
			history_record_json(&j, &r->records[4]);
			CHECK(strstr(buf, "\"dropped\":\"2001:db8::9=rules.d/"
			                  "20-places.rules:4\"") != NULL);
			json_out_init(&j, buf, sizeof buf);
			history_record_json(&j, x);
			CHECK(strstr(buf, "\"kind\":\"rejected\"") != NULL);
			CHECK(strstr(buf, "\"protocol\":\"tcp\"") != NULL);
		}
	}
	history_result_free(r);

	memset(&f, 0, sizeof f);
	f.oldest_first = true;
	f.limit = 2;
	r = ask(h, &f);
	CHECK_INT(r->n, 2);
	CHECK(r->more);
	if (r->n == 2)
		CHECK_STR(r->records[0].name, "www.Example.com");
	history_result_free(r);

	memset(&f, 0, sizeof f);
	snprintf(f.app, sizeof f.app, "app:firefox");
	CHECK_INT(count(h, &f), 2);
	snprintf(f.app, sizeof f.app, "app:fire");
	CHECK_INT(count(h, &f), 0); /* exact: no part of a key */

	memset(&f, 0, sizeof f);
	snprintf(f.app_contains, sizeof f.app_contains, "fire");
	CHECK_INT(count(h, &f), 3);

	/* A name and everything below it, in any case; not a name that
	 * only ends in the same letters. */
	memset(&f, 0, sizeof f);
	snprintf(f.name_suffix, sizeof f.name_suffix, "EXAMPLE.com.");
	CHECK_INT(count(h, &f), 2);
	memset(&f, 0, sizeof f);
	snprintf(f.name, sizeof f.name, "www.example.com");
	CHECK_INT(count(h, &f), 1);
	snprintf(f.name, sizeof f.name, "example.com");
	CHECK_INT(count(h, &f), 0);

	memset(&f, 0, sizeof f);
	f.blocked = true;
	CHECK_INT(count(h, &f), 2); /* the block and the rejected */
	f.kind = EVENT_QUERY;
	CHECK_INT(count(h, &f), 1);
	memset(&f, 0, sizeof f);
	f.kind = EVENT_REJECTED;
	CHECK_INT(count(h, &f), 1);

	memset(&f, 0, sizeof f);
	f.since_ms = NOW_MS - 2000;
	CHECK_INT(count(h, &f), 4);
	f.until_ms = NOW_MS - 500;
	CHECK_INT(count(h, &f), 2);

	history_close(h);

	/* Still there when opened again. */
	h = open_at("sub/history.db", 30, 0, err, sizeof err);
	CHECK(h != NULL);
	if (h != NULL) {
		memset(&f, 0, sizeof f);
		CHECK_INT(count(h, &f), 5);
		history_close(h);
	}
}

static void
test_retention(void)
{
	struct history *h;
	struct history_filter f;
	struct history_stats st;
	struct event_record ev;
	char err[512];

	/* Written under a long retention, read under a short one. */
	h = open_at("old.db", 3650, 0, err, sizeof err);
	CHECK(h != NULL);
	if (h == NULL)
		return;
	ev = query_record("app:a", "old.example", NOW_MS - 40 * DAY_MS,
	                  DECISION_ALLOW);
	history_sink(h, &ev);
	ev = query_record("app:a", "new.example", events_now_ms(),
	                  DECISION_ALLOW);
	history_sink(h, &ev);
	history_flush(h);
	history_close(h);
	/* The sweep runs when the history opens (and hourly). */
	h = open_at("old.db", 30, 0, err, sizeof err);
	CHECK(h != NULL);
	if (h == NULL)
		return;
	memset(&f, 0, sizeof f);
	CHECK_INT(count(h, &f), 1);
	history_get_stats(h, &st);
	CHECK_INT(st.pruned, 1);
	history_close(h);
}

static void
test_full_queue(void)
{
	struct history *h;
	struct history_filter f;
	struct history_stats st;
	struct event_record ev;
	char err[512];
	int i;

	/* 4 KiB of queue and a writer on a 60 s timer: 100 records at once
	 * overflow it before the writer, woken at half, takes any. */
	h = open_at("full.db", 30, 4096, err, sizeof err);
	CHECK(h != NULL);
	if (h == NULL)
		return;
	ev =
	    query_record("app:busy", "www.example.com", NOW_MS, DECISION_ALLOW);
	for (i = 0; i < 100; i++)
		history_sink(h, &ev);
	history_get_stats(h, &st);
	CHECK(st.dropped > 0);
	CHECK(st.queued > 0);
	CHECK_INT(st.queued + st.dropped, 100);
	history_flush(h);
	history_get_stats(h, &st);
	CHECK_INT(st.written, st.queued);
	memset(&f, 0, sizeof f);
	f.limit = 1000;
	CHECK_INT(count(h, &f), st.written);
	/* Room again once written. */
	history_sink(h, &ev);
	history_get_stats(h, &st);
	CHECK_INT(st.queued + st.dropped, 101);
	CHECK_INT(st.queued, st.written + 1);
	history_close(h);
}

/* The writer waits for its timer (60 s here) while the queue fills,
 * and wakes once half of it is used: few large transactions, and no
 * record dropped for want of room. */
static void
test_half_full_wakes(void)
{
	struct history *h;
	struct history_stats st;
	struct event_record ev;
	char err[512];
	int i;

	h = open_at("half.db", 30, 64 * 1024, err, sizeof err);
	CHECK(h != NULL);
	if (h == NULL)
		return;
	ev = query_record("app:steady", "www.example.com", NOW_MS,
	                  DECISION_ALLOW);
	for (i = 0; i < 10; i++)
		history_sink(h, &ev);
	usleep(200000);
	history_get_stats(h, &st);
	CHECK_INT(st.written, 0); /* 3 KB of 64 KiB: it waits */
	/* One at a time, each followed by a wait for the writer, so that
	 * a slow writer is never chasing a stream. */
	for (i = 10; i < 1000 && st.written == 0; i++) {
		int k;

		history_sink(h, &ev);
		for (k = 0; k < 10 && st.written == 0; k++) {
			usleep(1000);
			history_get_stats(h, &st);
		}
	}
	for (i = 0; i < 5000 && st.written == 0; i++) {
		usleep(1000);
		history_get_stats(h, &st);
	}
	CHECK(st.written > 0);
	CHECK_INT(st.dropped, 0);
	history_close(h);
}

/* The nice value of the threads of this process other than the main
 * one, the highest; -100 when none is read. */
static int
highest_thread_nice(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	int best = -100;

	if (d == NULL)
		return best;
	while ((de = readdir(d)) != NULL) {
		char path[300], buf[1024], *close_paren;
		int nice_value = 0, k;
		FILE *f;

		if (de->d_name[0] == '.' || atoi(de->d_name) == getpid())
			continue;
		snprintf(path, sizeof path, "/proc/self/task/%s/stat",
		         de->d_name);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		if (fgets(buf, sizeof buf, f) != NULL &&
		    (close_paren = strrchr(buf, ')')) != NULL) {
			char *tok = strtok(close_paren + 2, " ");

			/* Field 3 is the state; the nice value is field 19. */
			for (k = 3; tok != NULL && k < 19; k++)
				tok = strtok(NULL, " ");
			if (tok != NULL) {
				nice_value = atoi(tok);
				if (nice_value > best)
					best = nice_value;
			}
		}
		fclose(f);
	}
	closedir(d);
	return best;
}

/* The writer runs below the loop: its thread's nice value is 10. */
static void
test_writer_nice(void)
{
	struct history *h;
	char err[512];
	int i, got = -100;

	h = open_at("nice.db", 30, 0, err, sizeof err);
	CHECK(h != NULL);
	if (h == NULL)
		return;
	for (i = 0; i < 100 && got != 10; i++) {
		got = highest_thread_nice();
		if (got != 10)
			usleep(10000);
	}
	CHECK_INT(got, 10);
	history_close(h);
}

static void
test_refused_files(void)
{
	struct history *h;
	char err[512], path[512];
	sqlite3 *db;
	int fd, i;

	snprintf(path, sizeof path, "%s/junk.db", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	for (i = 0; i < 200; i++)
		CHECK(write(fd, "this is no database. ", 21) == 21);
	close(fd);
	err[0] = '\0';
	h = open_at("junk.db", 30, 0, err, sizeof err);
	CHECK(h == NULL);
	CHECK(strstr(err, "junk.db") != NULL);
	CHECK(strstr(err, "move it away") != NULL);
	history_close(h);

	snprintf(path, sizeof path, "%s/newer.db", dir);
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, "PRAGMA user_version=99", NULL, NULL, NULL) ==
	      SQLITE_OK);
	sqlite3_close(db);
	h = open_at("newer.db", 30, 0, err, sizeof err);
	CHECK(h == NULL);
	CHECK(strstr(err, "newer dnsgate") != NULL);

	h = open_at("no/such/dir/history.db", 30, 0, err, sizeof err);
	CHECK(h == NULL);
	CHECK(strstr(err, "cannot make its directory") != NULL);
}

/* A history of schema 1 (before the places) is brought to schema 2: its
 * records kept, with no places, and new ones written with theirs. */
static void
test_migration(void)
{
	static const char v1[] =
	    "CREATE TABLE records (id INTEGER PRIMARY KEY,"
	    " kind INTEGER NOT NULL, query_id INTEGER NOT NULL,"
	    " time_ms INTEGER NOT NULL, app TEXT NOT NULL, cgroup TEXT NOT "
	    "NULL,"
	    " pid INTEGER NOT NULL, uid INTEGER NOT NULL, exe TEXT NOT NULL,"
	    " name TEXT NOT NULL, rname TEXT NOT NULL, qtype INTEGER NOT NULL,"
	    " decision INTEGER NOT NULL, reason INTEGER NOT NULL,"
	    " rule TEXT NOT NULL, list TEXT NOT NULL, entry TEXT NOT NULL,"
	    " answer TEXT NOT NULL, rcode INTEGER NOT NULL,"
	    " cached INTEGER NOT NULL, latency_us INTEGER NOT NULL,"
	    " dest TEXT NOT NULL, port INTEGER NOT NULL,"
	    " protocol INTEGER NOT NULL, packets INTEGER NOT NULL,"
	    " detail TEXT NOT NULL);"
	    "CREATE INDEX records_time ON records(time_ms);"
	    "CREATE INDEX records_app ON records(app, time_ms);"
	    "CREATE INDEX records_rname ON records(rname, time_ms);"
	    "INSERT INTO records VALUES (1, 1, 7, 1700000000000, 'app:old', '',"
	    " -1, -1, '', 'old.example', 'example.old.', 1, 1, 1, '', '', '',"
	    " '192.0.2.1', 0, 0, 10, '', 0, 0, 0, '');"
	    "PRAGMA user_version=1;";
	struct history *h;
	struct history_filter f;
	struct history_result *r;
	struct event_record ev;
	char err[512], path[512];
	sqlite3 *db;
	sqlite3_stmt *st;
	int version = -1;

	snprintf(path, sizeof path, "%s/v1.db", dir);
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, v1, NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	h = open_at("v1.db", 3650, 0, err, sizeof err);
	CHECK(h != NULL);
	if (h == NULL) {
		fprintf(stderr, "%s\n", err);
		return;
	}
	ev = query_record("app:new", "new.example", NOW_MS, DECISION_ALLOW);
	history_sink(h, &ev);
	history_flush(h);
	memset(&f, 0, sizeof f);
	f.oldest_first = true;
	r = ask(h, &f);
	CHECK_INT(r->n, 2);
	if (r->n == 2) {
		CHECK_STR(r->records[0].app, "app:old");
		CHECK_STR(r->records[0].answer, "192.0.2.1");
		CHECK_STR(r->records[0].geo, "");
		CHECK_STR(r->records[1].app, "app:new");
		CHECK_STR(r->records[1].geo, ev.geo);
		CHECK_STR(r->records[0].dropped, "");
		CHECK_STR(r->records[1].dropped, ev.dropped);
	}
	history_result_free(r);
	history_close(h);
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) ==
	      SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	CHECK_INT(version, 3);
}

/* A reply under its limit ends with whole records and says so. */
static void
test_reply_limit(void)
{
	struct history_result r;
	struct event_record ev[20];
	char buf[4096], big[1024];
	struct json_out j;
	size_t i;

	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	for (i = 0; i < 20; i++)
		ev[i] = query_record("app:a", big, NOW_MS, DECISION_ALLOW);
	memset(&r, 0, sizeof r);
	r.records = ev;
	r.n = 20;
	json_out_init(&j, buf, sizeof buf);
	json_object_begin(&j);
	history_result_json(&j, &r);
	json_object_end(&j);
	CHECK(json_out_ok(&j));
	CHECK(strstr(buf, "\"truncated\":true}") != NULL);
	CHECK(strstr(buf, "\"records\":[{") != NULL);
	CHECK(strstr(buf, "},\"truncated\"") != NULL ||
	      strstr(buf, "}],\"truncated\"") != NULL);

	r.n = 2;
	json_out_init(&j, buf, sizeof buf);
	json_object_begin(&j);
	history_result_json(&j, &r);
	json_object_end(&j);
	CHECK(json_out_ok(&j));
	CHECK(strstr(buf, "\"truncated\":false}") != NULL);
	r.more = true; /* over the query's limit */
	json_out_init(&j, buf, sizeof buf);
	json_object_begin(&j);
	history_result_json(&j, &r);
	json_object_end(&j);
	CHECK(strstr(buf, "\"truncated\":true}") != NULL);
}

/* Writing fails while running: a reason, the history off, records
 * dropped and counted, queries answered with the reason. */
static void
test_write_failure(void)
{
	struct history *h;
	struct history_filter f;
	struct history_result *res;
	struct history_stats st;
	struct event_record ev;
	char err[512], path[512];
	sqlite3 *db;

	h = open_at("fail.db", 30, 0, err, sizeof err);
	CHECK(h != NULL);
	if (h == NULL)
		return;
	snprintf(path, sizeof path, "%s/fail.db", dir);
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, "DROP TABLE records", NULL, NULL, NULL) ==
	      SQLITE_OK);
	sqlite3_close(db);
	ev = query_record("app:a", "lost.example", NOW_MS, DECISION_ALLOW);
	history_sink(h, &ev);
	history_flush(h);
	history_get_stats(h, &st);
	CHECK(st.failed);
	CHECK(strstr(st.reason, "fail.db") != NULL);
	CHECK_INT(st.written, 0);
	CHECK_INT(st.dropped, 1);
	history_sink(h, &ev);
	history_get_stats(h, &st);
	CHECK_INT(st.dropped, 2);
	memset(&f, 0, sizeof f);
	res = ask(h, &f);
	CHECK(strstr(res->error, "the history is off") != NULL);
	history_result_free(res);
	history_close(h);
}

static int
filter_of(const char *request, struct history_filter *f, char *err,
          size_t errlen)
{
	return history_filter_from_request(request, strlen(request), f, err,
	                                   errlen);
}

static void
test_request(void)
{
	struct history_filter f;
	char err[256];

	CHECK_INT(filter_of("{\"command\":\"log\",\"since_ms\":1000,"
	                    "\"until_ms\":2000,\"app\":\"app:x\","
	                    "\"name_suffix\":\"example.com\",\"blocked\":true,"
	                    "\"limit\":5,\"kind\":\"rejected\","
	                    "\"order\":\"oldest\"}",
	                    &f, err, sizeof err),
	          0);
	CHECK_INT(f.since_ms, 1000);
	CHECK_INT(f.until_ms, 2000);
	CHECK_STR(f.app, "app:x");
	CHECK_STR(f.name_suffix, "example.com");
	CHECK(f.blocked);
	CHECK_INT(f.limit, 5);
	CHECK_INT(f.kind, EVENT_REJECTED);
	CHECK(f.oldest_first);

	CHECK_INT(filter_of("{\"command\":\"log\"}", &f, err, sizeof err), 0);
	CHECK_INT(f.limit, 0);
	CHECK(!f.oldest_first);

	CHECK_INT(filter_of("{\"limit\":0}", &f, err, sizeof err), -1);
	CHECK(strstr(err, "limit") != NULL);
	CHECK_INT(filter_of("{\"limit\":1.5}", &f, err, sizeof err), -1);
	CHECK_INT(filter_of("{\"since_ms\":-4}", &f, err, sizeof err), -1);
	CHECK(strstr(err, "since_ms") != NULL);
	CHECK_INT(
	    filter_of("{\"since_ms\":5,\"until_ms\":5}", &f, err, sizeof err),
	    -1);
	CHECK_INT(filter_of("{\"kind\":\"other\"}", &f, err, sizeof err), -1);
	CHECK_INT(filter_of("{\"order\":\"random\"}", &f, err, sizeof err), -1);
	CHECK_INT(filter_of("{\"blocked\":\"yes\"}", &f, err, sizeof err), -1);
}

/* history-max-records: the newest N kept, the oldest deleted first,
 * one chunk per writer turn (so the queue drains between them). */
static void
test_max_records(void)
{
	struct history *h = open_with("cap.db", 1000, 500, 0, 60000);
	struct history_filter f;
	struct history_result *r;
	struct history_stats st;
	struct event_record ev;
	uint64_t last, now;
	char name[64];
	int i, steps = 0, worst = 0;

	CHECK(h != NULL);
	if (h == NULL)
		return;
	for (i = 0; i < 5000; i++) {
		snprintf(name, sizeof name, "n%d.example", i);
		ev = query_record("app:a", name, NOW_MS + i, DECISION_ALLOW);
		history_sink(h, &ev);
	}
	/* Chunk by chunk: no turn deletes more than one. The writer's
	 * timer is a minute here, so a turn is what a query wakes, and it
	 * does its upkeep before the query: the counts read after two
	 * queries differ by one turn's upkeep. */
	memset(&f, 0, sizeof f);
	f.limit = 1;
	history_result_free(ask(h, &f));
	history_get_stats(h, &st);
	last = st.pruned;
	while (last < 4000 && steps < 100) {
		ev = query_record("app:a", "tick.example", NOW_MS + 9999,
		                  DECISION_ALLOW);
		history_sink(h, &ev);
		history_result_free(ask(h, &f));
		history_get_stats(h, &st);
		now = st.pruned;
		if ((int)(now - last) > worst)
			worst = (int)(now - last);
		last = now;
		steps++;
	}
	CHECK(last >= 4000);
	CHECK(worst <= 500);
	CHECK(steps >= 4);
	memset(&f, 0, sizeof f);
	f.limit = 10000;
	f.oldest_first = true;
	r = ask(h, &f);
	CHECK(r->n <= 1000 && r->n >= 500);
	/* The oldest went first. */
	if (r->n > 0)
		CHECK(r->records[0].time_ms >= NOW_MS + 4000);
	history_result_free(r);
	history_close(h);

	/* 0: no cap. */
	h = open_with("nocap.db", 0, 500, 0, 50);
	CHECK(h != NULL);
	if (h == NULL)
		return;
	for (i = 0; i < 3000; i++) {
		ev = query_record("app:a", "x.example", NOW_MS + i,
		                  DECISION_ALLOW);
		history_sink(h, &ev);
	}
	history_flush(h);
	usleep(200000);
	history_sink(h, &ev);
	history_flush(h);
	memset(&f, 0, sizeof f);
	f.limit = 10000;
	CHECK_INT(count(h, &f), 3001);
	history_get_stats(h, &st);
	CHECK_INT(st.pruned, 0);
	history_close(h);
}

/* The retention's sweep is one chunk per turn too. */
static void
test_sweep_chunks(void)
{
	char err[512];
	struct history *h = open_at("sweep.db", 3650, 0, err, sizeof err);
	struct history_filter f;
	struct event_record ev;
	int i;

	CHECK(h != NULL);
	if (h == NULL)
		return;
	for (i = 0; i < 2000; i++) {
		ev = query_record("app:a", "old.example",
		                  NOW_MS - 400 * DAY_MS + i, DECISION_ALLOW);
		history_sink(h, &ev);
	}
	history_flush(h);
	history_close(h);
	/* The sweep at open deletes 100 a turn: it takes 20 turns, one
	 * after the other (not one a minute, the writer's timer here), and
	 * the records sent meanwhile are written between them. */
	h = open_with("sweep.db", 0, 100, 0, 60000);
	CHECK(h != NULL);
	if (h == NULL)
		return;
	ev = query_record("app:a", "new.example", events_now_ms(),
	                  DECISION_ALLOW);
	history_sink(h, &ev);
	history_flush(h);
	CHECK_INT(wait_pruned(h, 2000), 2000);
	memset(&f, 0, sizeof f);
	f.limit = 10000;
	CHECK_INT(count(h, &f), 1);
	history_close(h);
}

/* At most HISTORY_REJECTED_PER_APP rejected records per app in a
 * window; the rest counted per app, in the status; queries never. */
static void
test_rejected_budget(void)
{
	struct history *h = open_with("budget.db", 0, 0, 0, 50);
	struct history_filter f;
	struct history_stats st;
	struct event_record ev;
	struct json_out j;
	char buf[8192];
	int i;

	CHECK(h != NULL);
	if (h == NULL)
		return;
	for (i = 0; i < 150; i++) {
		ev = rejected_record("app:flood", NOW_MS + i);
		ev.port = (uint16_t)(1000 + i);
		history_sink(h, &ev);
	}
	for (i = 0; i < 50; i++) {
		ev = rejected_record("app:quiet", NOW_MS + i);
		history_sink(h, &ev);
	}
	for (i = 0; i < 150; i++) {
		ev = query_record("app:flood", "q.example", NOW_MS + i,
		                  DECISION_ALLOW);
		history_sink(h, &ev);
	}
	/* A new window, a new budget. */
	ev = rejected_record("app:flood", NOW_MS + HISTORY_REJECTED_WINDOW_MS);
	history_sink(h, &ev);
	/* Connections of no known app share one budget, as "?". */
	for (i = 0; i < 120; i++) {
		ev = rejected_record("", NOW_MS + i);
		history_sink(h, &ev);
	}
	history_flush(h);
	history_get_stats(h, &st);
	CHECK_INT(st.rejected_over_budget, 50 + 20);
	CHECK_INT(st.written, HISTORY_REJECTED_PER_APP + 50 + 150 + 1 +
	                          HISTORY_REJECTED_PER_APP);
	memset(&f, 0, sizeof f);
	f.limit = 10000;
	f.kind = EVENT_REJECTED;
	snprintf(f.app, sizeof f.app, "app:flood");
	CHECK_INT(count(h, &f), HISTORY_REJECTED_PER_APP + 1);
	json_out_init(&j, buf, sizeof buf);
	json_object_begin(&j);
	history_status_json(h, &j);
	json_object_end(&j);
	CHECK(json_out_ok(&j));
	CHECK(strstr(buf, "\"rejected_over_budget\":70") != NULL);
	CHECK(strstr(buf, "\"rejected_over_budget_apps\":[{\"app\":"
	                  "\"app:flood\",\"not_kept\":50},{\"app\":\"?\","
	                  "\"not_kept\":20}]") != NULL);
	history_close(h);
}

/* A query past its time budget is answered with what it found and says
 * so; the writer goes on. */
static void
test_query_budget(void)
{
	struct history *h = open_with("slow.db", 0, 0, 1, 50);
	struct history_filter f;
	struct history_stats st;
	struct history_result *r;
	struct event_record ev;
	struct json_out j;
	char buf[4096], name[64];
	int i;

	CHECK(h != NULL);
	if (h == NULL)
		return;
	for (i = 0; i < 60000; i++) {
		snprintf(name, sizeof name, "n%d.example", i);
		ev = query_record("app:a", name, NOW_MS + i, DECISION_ALLOW);
		history_sink(h, &ev);
		if (i % 10000 == 9999)
			history_flush(h);
	}
	history_flush(h);
	/* A part of an app key scans every record: 60,000 take longer
	 * than 1 ms. */
	memset(&f, 0, sizeof f);
	snprintf(f.app_contains, sizeof f.app_contains, "nomatch");
	r = ask(h, &f);
	CHECK_STR(r->error, "");
	CHECK(r->timed_out);
	CHECK(r->more);
	json_out_init(&j, buf, sizeof buf);
	json_object_begin(&j);
	history_result_json(&j, r);
	json_object_end(&j);
	CHECK(strstr(buf,
	             "\"truncated\":true,\"timed_out\":true,"
	             "\"reason\":\"the query ran out of its time") != NULL);
	history_result_free(r);
	/* The writer went on: a record sent now is written. */
	ev = query_record("app:b", "after.example", NOW_MS, DECISION_ALLOW);
	history_sink(h, &ev);
	history_flush(h);
	history_get_stats(h, &st);
	CHECK_INT(st.written, 60001);
	history_close(h);
}

int
main(void)
{
	char cmd[300];

	snprintf(dir, sizeof dir, "/tmp/test_history.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 99;
	base = event_base_new();
	test_write_and_filters();
	test_retention();
	test_full_queue();
	test_half_full_wakes();
	test_writer_nice();
	test_refused_files();
	test_migration();
	test_request();
	test_reply_limit();
	test_write_failure();
	test_max_records();
	test_sweep_chunks();
	test_rejected_budget();
	test_query_budget();
	event_base_free(base);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return check_exit();
}
