/* history.c - the SQLite history: a byte ring filled on the loop, a
 * thread that writes it in batches and answers queries. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <ldns/ldns.h>
#include <sqlite3.h>

#include "resolver/message.h"
#include "src/addr.h"
#include "src/clock.h"
#include "src/hash.h"
#include "src/history.h"
#include "src/log.h"
#include "src/xmalloc.h"

#define QUEUE_BYTES_DEFAULT (4u * 1024 * 1024)
#define BATCH_MS_DEFAULT 1000
/* One copy with the lock: small, as the sink on the loop waits for the
 * lock, and the writer runs at a lower priority (a preempted writer
 * holding it would hold the loop). */
#define BATCH_TAKE 64                /* records of one copy */
#define BATCH_BYTES (64u * 1024)     /* a batch's copy; a record is < 48 KiB */
#define TRANSACTION_RECORDS 16384    /* then the queries get their turn */
#define HISTORY_WRITER_NICE 10       /* the writer's nice, above the loop's */
#define STRING_MAX 4095              /* bytes of one string kept */
#define PRUNE_EVERY_MS (3600 * 1000) /* the retention's sweep */
#define PRUNE_CHUNK 5000             /* rows deleted per transaction */
#define RESULT_BYTES_MAX (2u * 1024 * 1024) /* strings of one result */
#define DROP_LOG_EVERY_S 60
#define BUDGET_SLOTS 256   /* apps whose rejected records are counted */
#define BUDGET_KEY_MAX 256 /* bytes of the app key kept with its count */

enum {
	S_APP,
	S_CGROUP,
	S_EXE,
	S_NAME,
	S_RULE,
	S_LIST,
	S_ENTRY,
	S_ANSWER,
	S_DEST,
	S_DETAIL,
	S_GEO,
	S_DROPPED,
	N_STRINGS
};

/* A record in the ring: this head, then its strings (no NULs). */
struct packed {
	uint32_t size; /* the head and the strings */
	uint16_t len[N_STRINGS];
	int32_t kind, decision, reason;
	uint64_t id, packets;
	int64_t time_ms, pid, uid;
	uint32_t latency_us;
	uint16_t qtype, port;
	uint8_t rcode, cached, protocol;
};

/* An app's rejected records in its window (the sink's, on the loop). A
 * slot is the app key's hash: a newer app takes an older one's slot,
 * whose count stays in the total. */
struct rejected_budget {
	uint64_t hash;
	char app[BUDGET_KEY_MAX]; /* "" unused */
	int64_t window_start_ms;
	uint32_t kept; /* in this window */
	uint64_t over; /* not kept, ever */
	uint64_t over_logged;
};

struct pending_query {
	struct history_filter filter;
	history_done_fn *done;
	void *arg;
	struct history_result *result;
	struct pending_query *next;
};

struct history {
	char *path;
	uint32_t days;
	uint64_t max_records;
	size_t prune_chunk;
	uint32_t query_budget_ms;
	size_t batch_records;
	uint32_t batch_ms;
	sqlite3 *db;   /* the writer's */
	sqlite3 *read; /* the queries' */
	sqlite3_stmt *insert;

	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;     /* the writer has work */
	pthread_cond_t progress; /* a batch was committed */
	/* Under lock: */
	unsigned char *ring;
	size_t cap;
	uint64_t head, tail; /* bytes put and taken, ever */
	uint64_t committed;  /* tail as of the last commit (or drop) */
	size_t waiting;      /* records in the ring */
	bool stop;
	uint64_t flush_upto; /* history_flush waits for head as it was */
	struct pending_query *queries, *finished;
	struct history_stats stats;
	uint64_t dropped_logged;

	/* The writer's own. */
	unsigned char *batch;
	size_t batch_cap;
	char text[N_STRINGS][STRING_MAX + 1]; /* one record's strings */
	char failure[256]; /* SQLite's message, before a rollback clears it */
	uint64_t next_prune_ms;
	bool sweeping;              /* the retention's sweep is under way */
	uint64_t query_deadline_ms; /* the running query's (progress) */

	/* The sink's, on the loop. */
	struct rejected_budget *budgets; /* BUDGET_SLOTS */

	int wake_loop[2]; /* the thread writes a byte when queries finished */
	struct event *finished_event;
	struct event *drop_timer;
};

/* --- the ring --------------------------------------------------------- */

static void
ring_put(struct history *h, const void *data, size_t n)
{
	size_t at = (size_t)(h->head % h->cap), first = h->cap - at;

	if (first > n)
		first = n;
	memcpy(h->ring + at, data, first);
	memcpy(h->ring, (const unsigned char *)data + first, n - first);
	h->head += n;
}

static void
ring_get(struct history *h, void *out, size_t n)
{
	size_t at = (size_t)(h->tail % h->cap), first = h->cap - at;

	if (first > n)
		first = n;
	memcpy(out, h->ring + at, first);
	memcpy((unsigned char *)out + first, h->ring, n - first);
	h->tail += n;
}

static size_t
cut_len(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	return n > STRING_MAX ? STRING_MAX : n;
}

/* Whether ev, a rejected connection, is within its app's budget; counts
 * it for the app when it is not. */
static bool
rejected_in_budget(struct history *h, const struct event_record *ev)
{
	/* A rejected connection of no known app counts as "?". */
	const char *app =
	    ev->app != NULL && ev->app[0] != '\0' ? ev->app : "?";
	uint64_t hash = hash_string(app);
	struct rejected_budget *b = &h->budgets[hash_fold(hash) % BUDGET_SLOTS];

	if (b->app[0] == '\0' || b->hash != hash ||
	    strncmp(b->app, app, BUDGET_KEY_MAX - 1) != 0) {
		b->hash = hash;
		snprintf(b->app, sizeof b->app, "%.*s", BUDGET_KEY_MAX - 1,
		         app);
		b->window_start_ms = ev->time_ms;
		b->kept = 0;
		b->over = b->over_logged = 0;
	}
	if (ev->time_ms < b->window_start_ms ||
	    ev->time_ms - b->window_start_ms >= HISTORY_REJECTED_WINDOW_MS) {
		b->window_start_ms = ev->time_ms;
		b->kept = 0;
	}
	if (b->kept < HISTORY_REJECTED_PER_APP) {
		b->kept++;
		return true;
	}
	b->over++;
	pthread_mutex_lock(&h->lock);
	h->stats.rejected_over_budget++;
	pthread_mutex_unlock(&h->lock);
	return false;
}

void
history_sink(void *arg, const struct event_record *ev)
{
	struct history *h = arg;
	const char *s[N_STRINGS] = {
	    ev->app,   ev->cgroup, ev->exe,  ev->name,   ev->rule, ev->list,
	    ev->entry, ev->answer, ev->dest, ev->detail, ev->geo,  ev->dropped};
	struct packed p;
	size_t i, size = sizeof p;

	if (ev->kind == EVENT_REJECTED && !rejected_in_budget(h, ev))
		return;
	memset(&p, 0, sizeof p);
	for (i = 0; i < N_STRINGS; i++) {
		p.len[i] = (uint16_t)cut_len(s[i]);
		size += p.len[i];
	}
	p.size = (uint32_t)size;
	p.kind = (int32_t)ev->kind;
	p.decision = (int32_t)ev->decision;
	p.reason = (int32_t)ev->reason;
	p.id = ev->id;
	p.packets = ev->packets;
	p.time_ms = ev->time_ms;
	p.pid = ev->pid;
	p.uid = ev->uid;
	p.latency_us = ev->latency_us;
	p.qtype = ev->qtype;
	p.port = ev->port;
	p.rcode = ev->rcode;
	p.cached = ev->cached;
	p.protocol = ev->protocol;

	pthread_mutex_lock(&h->lock);
	if (h->stats.failed || h->head - h->tail + size > h->cap) {
		h->stats.dropped++;
		/* No room (a large record, the queue under half): write
		 * what waits now, not at the timer. */
		if (!h->stats.failed && h->head > h->tail)
			pthread_cond_signal(&h->wake);
		pthread_mutex_unlock(&h->lock);
		return;
	}
	ring_put(h, &p, sizeof p);
	for (i = 0; i < N_STRINGS; i++)
		ring_put(h, s[i] != NULL ? s[i] : "", p.len[i]);
	h->stats.queued++;
	/* The writer wakes every batch_ms, or once half the queue is used
	 * (or batch_records wait, when set): few, large transactions.
	 * Each one rewrites the index pages its records land on, which are
	 * spread over the name and app indexes; when a transaction holds a
	 * second of records, a name asked again and again costs its page
	 * once. Measured with 300,000 records in the file and 5,000 a
	 * second (1,000 names): 50 µs of the thread's CPU a record when it
	 * woke every 512 records, 28 µs a second at a time. */
	if (++h->waiting >= h->batch_records ||
	    h->head - h->tail >= h->cap / 2)
		pthread_cond_signal(&h->wake);
	pthread_mutex_unlock(&h->lock);
}

/* --- the database ----------------------------------------------------- */

static const char schema[] =
    "CREATE TABLE records ("
    " id INTEGER PRIMARY KEY,"
    " kind INTEGER NOT NULL," /* enum event_kind */
    " query_id INTEGER NOT NULL,"
    " time_ms INTEGER NOT NULL," /* since the epoch */
    " app TEXT NOT NULL, cgroup TEXT NOT NULL,"
    " pid INTEGER NOT NULL, uid INTEGER NOT NULL, exe TEXT NOT NULL,"
    " name TEXT NOT NULL,"
    " rname TEXT NOT NULL," /* the name's labels reversed, lower
                               case: com.example.www. */
    " qtype INTEGER NOT NULL, decision INTEGER NOT NULL,"
    " reason INTEGER NOT NULL, rule TEXT NOT NULL, list TEXT NOT NULL,"
    " entry TEXT NOT NULL, answer TEXT NOT NULL, rcode INTEGER NOT NULL,"
    " cached INTEGER NOT NULL, latency_us INTEGER NOT NULL,"
    " dest TEXT NOT NULL, port INTEGER NOT NULL,"
    " protocol INTEGER NOT NULL, packets INTEGER NOT NULL,"
    " detail TEXT NOT NULL,"
    " geo TEXT NOT NULL DEFAULT '',"
    " dropped TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX records_time ON records(time_ms);"
    "CREATE INDEX records_app ON records(app, time_ms);"
    "CREATE INDEX records_rname ON records(rname, time_ms);";

#define COLUMNS                                                                \
	"kind, query_id, time_ms, app, cgroup, pid, uid, exe, name, qtype, "   \
	"decision, reason, rule, list, entry, answer, rcode, cached, "         \
	"latency_us, dest, port, protocol, packets, detail, geo, dropped"

/* name's labels in reverse order, lower case, each followed by a dot:
 * "www.Example.com." -> "com.example.www.". A suffix's names all begin
 * with its own reversal, so one index serves both kinds of match. */
static void
reverse_name(const char *name, char *out, size_t outlen)
{
	size_t n = strlen(name), used = 0;

	if (n > 0 && name[n - 1] == '.')
		n--;
	out[0] = '\0';
	while (n > 0 && used + 1 < outlen) {
		size_t start = n, k;

		while (start > 0 && name[start - 1] != '.')
			start--;
		for (k = start; k < n && used + 2 < outlen; k++)
			out[used++] = (char)tolower((unsigned char)name[k]);
		out[used++] = '.';
		out[used] = '\0';
		n = start > 0 ? start - 1 : 0;
	}
}

/* "history PATH: WHAT: MESSAGE" and what to do; message NULL: SQLite's
 * words for rc. */
static void
db_reason(char *err, size_t errlen, const char *path, const char *what,
          const char *message, int rc)
{
	const char *advice = "";

	if (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT)
		advice = ": the file is damaged or not a dnsgate history; move "
		         "it away (dnsgated then makes a new one) or set "
		         "'history off'";
	else if (rc == SQLITE_CANTOPEN || rc == SQLITE_READONLY ||
	         rc == SQLITE_PERM)
		advice = ": check that its directory is writable by root";
	snprintf(err, errlen, "history %s: %s: %s%s", path, what,
	         message != NULL ? message : sqlite3_errstr(rc), advice);
}

/* SQLite's message for db, or NULL (then db_reason names rc). */
static const char *
db_message(sqlite3 *db)
{
	return db != NULL ? sqlite3_errmsg(db) : NULL;
}

static int
exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

static int on_progress(void *arg);

/* The schema, made or checked. */
static int
db_setup(struct history *h, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc, version = -1;

	sqlite3_busy_timeout(h->db, 2000);
	rc =
	    sqlite3_prepare_v2(h->db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW &&
		    strcmp((const char *)sqlite3_column_text(st, 0), "wal") !=
		        0)
			rc = SQLITE_CANTOPEN;
		sqlite3_finalize(st);
	}
	if (rc != SQLITE_ROW) {
		db_reason(err, errlen, h->path, "cannot use it",
		          db_message(h->db), rc);
		return -1;
	}
	exec(h->db, "PRAGMA synchronous=NORMAL");
	rc = sqlite3_prepare_v2(h->db, "PRAGMA user_version", -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version < 0) {
		db_reason(err, errlen, h->path, "cannot read it",
		          db_message(h->db), rc);
		return -1;
	}
	if (version > HISTORY_SCHEMA_VERSION) {
		snprintf(err, errlen,
		         "history %s: made by a newer dnsgate (schema %d, this "
		         "one knows %d); move it away or set history to "
		         "another file",
		         h->path, version, HISTORY_SCHEMA_VERSION);
		return -1;
	}
	if (version == 0) {
		char sql[2048];

		snprintf(sql, sizeof sql,
		         "BEGIN; %s PRAGMA user_version=%d; COMMIT;", schema,
		         HISTORY_SCHEMA_VERSION);
		rc = exec(h->db, sql);
		if (rc != SQLITE_OK) {
			db_reason(err, errlen, h->path,
			          "cannot make its tables", db_message(h->db),
			          rc);
			exec(h->db, "ROLLBACK");
			return -1;
		}
	} else if (version < HISTORY_SCHEMA_VERSION) {
		/* Schema 2 added the places of the addresses (geo), schema 3
		 * the addresses place rules dropped: the records before them
		 * have none. */
		rc = exec(h->db,
		          version == 1
		              ? "BEGIN; ALTER TABLE records ADD COLUMN geo "
		                "TEXT NOT NULL DEFAULT ''; ALTER TABLE records "
		                "ADD COLUMN dropped TEXT NOT NULL DEFAULT ''; "
		                "PRAGMA user_version=3; COMMIT;"
		              : "BEGIN; ALTER TABLE records ADD COLUMN dropped "
		                "TEXT NOT NULL DEFAULT ''; "
		                "PRAGMA user_version=3; COMMIT;");
		if (rc != SQLITE_OK) {
			db_reason(err, errlen, h->path,
			          "cannot bring it to schema 3",
			          db_message(h->db), rc);
			exec(h->db, "ROLLBACK");
			return -1;
		}
	}
	rc = sqlite3_prepare_v2(
	    h->db,
	    "INSERT INTO records (" COLUMNS ", rname) VALUES "
	    "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	    -1, &h->insert, NULL);
	if (rc != SQLITE_OK) {
		db_reason(err, errlen, h->path, "cannot use its tables",
		          db_message(h->db), rc);
		return -1;
	}
	rc = sqlite3_open_v2(h->path, &h->read, SQLITE_OPEN_READONLY, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(h->read, 2000);
		rc = exec(h->read, "PRAGMA query_only=1");
		sqlite3_progress_handler(h->read, 1000, on_progress, h);
	}
	if (rc != SQLITE_OK) {
		db_reason(err, errlen, h->path, "cannot open it for reading",
		          db_message(h->read), rc);
		return -1;
	}
	return 0;
}

/* The directory (0700) and the file (0600), before SQLite opens it:
 * what an app asked is nobody else's business. */
static int
make_file(const char *path, char *err, size_t errlen)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	int fd;

	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
			snprintf(err, errlen,
			         "history %s: cannot make its directory %s: %s",
			         path, dir, strerror(errno));
			free(dir);
			return -1;
		}
	}
	free(dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "history %s: cannot open it: %s", path,
		         strerror(errno));
		return -1;
	}
	(void)fchmod(fd, 0600);
	close(fd);
	return 0;
}

/* --- the writer ------------------------------------------------------- */

static const char *
packed_string(const struct packed *p, const unsigned char *strings, int which,
              char *buf)
{
	size_t off = 0;
	int i;

	for (i = 0; i < which; i++)
		off += p->len[i];
	memcpy(buf, strings + off, p->len[which]);
	buf[p->len[which]] = '\0';
	return buf;
}

/* One record into the insert statement; 0 or SQLite's error. */
static int
insert_one(struct history *h, const unsigned char *rec)
{
	char(*text)[STRING_MAX + 1] = h->text;
	char rname[STRING_MAX + 2];
	const unsigned char *strings = rec + sizeof(struct packed);
	struct packed p;
	sqlite3_stmt *st = h->insert;
	int i, rc;

	memcpy(&p, rec, sizeof p);
	for (i = 0; i < N_STRINGS; i++)
		packed_string(&p, strings, i, text[i]);
	reverse_name(text[S_NAME], rname, sizeof rname);
	sqlite3_bind_int(st, 1, p.kind);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)p.id);
	sqlite3_bind_int64(st, 3, p.time_ms);
	sqlite3_bind_text(st, 4, text[S_APP], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, text[S_CGROUP], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, p.pid);
	sqlite3_bind_int64(st, 7, p.uid);
	sqlite3_bind_text(st, 8, text[S_EXE], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, text[S_NAME], -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 10, p.qtype);
	sqlite3_bind_int(st, 11, p.decision);
	sqlite3_bind_int(st, 12, p.reason);
	sqlite3_bind_text(st, 13, text[S_RULE], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 14, text[S_LIST], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 15, text[S_ENTRY], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 16, text[S_ANSWER], -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 17, p.rcode);
	sqlite3_bind_int(st, 18, p.cached);
	sqlite3_bind_int64(st, 19, p.latency_us);
	sqlite3_bind_text(st, 20, text[S_DEST], -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 21, p.port);
	sqlite3_bind_int(st, 22, p.protocol);
	sqlite3_bind_int64(st, 23, (sqlite3_int64)p.packets);
	sqlite3_bind_text(st, 24, text[S_DETAIL], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 25, text[S_GEO], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 26, text[S_DROPPED], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 27, rname, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : rc;
}

/* Called with the lock held; unlocks to log. */
static void
fail_locked(struct history *h, const char *what, int rc)
{
	char err[sizeof h->stats.reason];

	db_reason(err, sizeof err, h->path, what,
	          h->failure[0] != '\0' ? h->failure : NULL, rc);
	h->stats.failed = true;
	snprintf(h->stats.reason, sizeof h->stats.reason, "%s", err);
	pthread_mutex_unlock(&h->lock);
	log_warn("%s; the history is off until dnsgated restarts (queries "
	         "are answered all the same)",
	         err);
	pthread_mutex_lock(&h->lock);
}

/* Inserts the n records of h->batch; 0 or SQLite's error. */
static int
insert_batch(struct history *h, size_t n)
{
	size_t off = 0, i;
	int rc = 0;

	for (i = 0; rc == 0 && i < n; i++) {
		struct packed p;

		memcpy(&p, h->batch + off, sizeof p);
		rc = insert_one(h, h->batch + off);
		off += p.size;
	}
	return rc;
}

/* One DELETE of at most a chunk; rows deleted, or -rc. */
static int64_t
delete_chunk(struct history *h, const char *sql)
{
	int rc = exec(h->db, sql);

	if (rc != SQLITE_OK) {
		snprintf(h->failure, sizeof h->failure, "%s",
		         sqlite3_errmsg(h->db));
		return -rc;
	}
	return sqlite3_changes(h->db);
}

/* Records beyond max_records, counted from the ids (they only grow;
 * what was deleted is below the lowest), so no scan of the table. */
static int64_t
records_over_cap(struct history *h, int64_t *newest_id)
{
	sqlite3_stmt *st;
	int64_t span = 0;

	*newest_id = 0;
	if (sqlite3_prepare_v2(h->db,
	                       "SELECT (SELECT max(id) FROM records), "
	                       "(SELECT min(id) FROM records)",
	                       -1, &st, NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*newest_id = sqlite3_column_int64(st, 0);
		span = *newest_id - sqlite3_column_int64(st, 1) + 1;
	}
	sqlite3_finalize(st);
	return span > (int64_t)h->max_records ? span - (int64_t)h->max_records
	                                      : 0;
}

/* The upkeep of one writer turn: one chunk of the retention's sweep
 * (hourly, and at start) and one chunk of what is over the cap, oldest
 * first, so that the queue drains between chunks. Returns rows deleted,
 * or -rc. */
static int64_t
prune(struct history *h)
{
	char sql[256];
	int64_t total = 0, n, newest;

	if (!h->sweeping && clock_ms() >= h->next_prune_ms)
		h->sweeping = true;
	if (h->sweeping) {
		snprintf(
		    sql, sizeof sql,
		    "DELETE FROM records WHERE id IN (SELECT id FROM "
		    "records WHERE time_ms < %lld LIMIT %zu)",
		    (long long)(events_now_ms() - (int64_t)h->days * 86400 * 1000),
		    h->prune_chunk);
		n = delete_chunk(h, sql);
		if (n < 0)
			return n;
		total += n;
		if ((size_t)n < h->prune_chunk) {
			h->sweeping = false;
			h->next_prune_ms = clock_ms() + PRUNE_EVERY_MS;
		}
	}
	if (h->max_records != 0 && records_over_cap(h, &newest) > 0) {
		snprintf(sql, sizeof sql,
		         "DELETE FROM records WHERE id IN (SELECT id FROM "
		         "records WHERE id <= %lld ORDER BY id LIMIT %zu)",
		         (long long)(newest - (int64_t)h->max_records),
		         h->prune_chunk);
		n = delete_chunk(h, sql);
		if (n < 0)
			return n;
		total += n;
	}
	return total;
}

/* --- queries ---------------------------------------------------------- */

static void
bind_filter(sqlite3_stmt *st, const struct history_filter *f, char *lo,
            char *hi)
{
	int k = 1;

	if (f->since_ms != 0)
		sqlite3_bind_int64(st, k++, f->since_ms);
	if (f->until_ms != 0)
		sqlite3_bind_int64(st, k++, f->until_ms);
	if (f->app[0] != '\0')
		sqlite3_bind_text(st, k++, f->app, -1, SQLITE_STATIC);
	if (f->app_contains[0] != '\0')
		sqlite3_bind_text(st, k++, f->app_contains, -1, SQLITE_STATIC);
	if (f->name[0] != '\0') {
		reverse_name(f->name, lo, 260);
		sqlite3_bind_text(st, k++, lo, -1, SQLITE_STATIC);
	} else if (f->name_suffix[0] != '\0') {
		size_t n;

		reverse_name(f->name_suffix, lo, 260);
		snprintf(hi, 260, "%s", lo);
		n = strlen(hi);
		if (n > 0)
			hi[n - 1] = '/'; /* the character after '.' */
		sqlite3_bind_text(st, k++, lo, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, k++, hi, -1, SQLITE_STATIC);
	}
	if (f->kind != 0)
		sqlite3_bind_int(st, k++, (int)f->kind);
	sqlite3_bind_int64(st, k, (sqlite3_int64)f->limit + 1);
}

static char *
column_text(sqlite3_stmt *st, int col, size_t *bytes)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	char *s = xstrdup(t != NULL ? (const char *)t : "");

	*bytes += strlen(s);
	return s;
}

/* SQLite's progress callback on the read connection: a query past its
 * budget is interrupted, so that it cannot hold the writer. */
static int
on_progress(void *arg)
{
	struct history *h = arg;

	return clock_ms() > h->query_deadline_ms;
}

static void
run_query(struct history *h, struct pending_query *q)
{
	const struct history_filter *f = &q->filter;
	struct history_result *r = xcalloc(1, sizeof *r);
	char sql[1024], lo[260], hi[260];
	size_t used = 0, bytes = 0;
	sqlite3_stmt *st;
	int rc;

	q->result = r;
	h->query_deadline_ms = clock_ms() + h->query_budget_ms;
	if (h->stats.failed) {
		snprintf(r->error, sizeof r->error, "the history is off: %s",
		         h->stats.reason);
		return;
	}
	used += (size_t)snprintf(sql + used, sizeof sql - used,
	                         "SELECT " COLUMNS " FROM records WHERE 1");
#define ADD(text) used += (size_t)snprintf(sql + used, sizeof sql - used, text)
	if (f->since_ms != 0)
		ADD(" AND time_ms >= ?");
	if (f->until_ms != 0)
		ADD(" AND time_ms < ?");
	if (f->app[0] != '\0')
		ADD(" AND app = ?");
	if (f->app_contains[0] != '\0')
		ADD(" AND instr(app, ?) > 0");
	if (f->name[0] != '\0')
		ADD(" AND rname = ?");
	else if (f->name_suffix[0] != '\0')
		ADD(" AND rname >= ? AND rname < ?");
	if (f->blocked)
		used += (size_t)snprintf(sql + used, sizeof sql - used,
		                         " AND (kind = %d OR decision = %d)",
		                         EVENT_REJECTED, DECISION_BLOCK);
	if (f->kind != 0)
		ADD(" AND kind = ?");
	if (f->oldest_first)
		ADD(" ORDER BY time_ms, id LIMIT ?");
	else
		ADD(" ORDER BY time_ms DESC, id DESC LIMIT ?");
#undef ADD
	rc = sqlite3_prepare_v2(h->read, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		snprintf(r->error, sizeof r->error, "cannot read %s: %s",
		         h->path, sqlite3_errmsg(h->read));
		return;
	}
	bind_filter(st, f, lo, hi);
	r->records = xcalloc(f->limit, sizeof *r->records);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct event_record *ev;

		if (r->n == f->limit || bytes > RESULT_BYTES_MAX) {
			r->more = true;
			break;
		}
		ev = &r->records[r->n++];
		ev->kind = (enum event_kind)sqlite3_column_int(st, 0);
		ev->id = (uint64_t)sqlite3_column_int64(st, 1);
		ev->time_ms = sqlite3_column_int64(st, 2);
		ev->app = column_text(st, 3, &bytes);
		ev->cgroup = column_text(st, 4, &bytes);
		ev->pid = sqlite3_column_int64(st, 5);
		ev->uid = sqlite3_column_int64(st, 6);
		ev->exe = column_text(st, 7, &bytes);
		ev->name = column_text(st, 8, &bytes);
		ev->qtype = (uint16_t)sqlite3_column_int(st, 9);
		ev->decision = (enum query_decision)sqlite3_column_int(st, 10);
		ev->reason = (enum query_reason)sqlite3_column_int(st, 11);
		ev->rule = column_text(st, 12, &bytes);
		ev->list = column_text(st, 13, &bytes);
		ev->entry = column_text(st, 14, &bytes);
		ev->answer = column_text(st, 15, &bytes);
		ev->rcode = (uint8_t)sqlite3_column_int(st, 16);
		ev->cached = sqlite3_column_int(st, 17) != 0;
		ev->latency_us = (uint32_t)sqlite3_column_int64(st, 18);
		ev->dest = column_text(st, 19, &bytes);
		ev->port = (uint16_t)sqlite3_column_int(st, 20);
		ev->protocol = (uint8_t)sqlite3_column_int(st, 21);
		ev->packets = (uint64_t)sqlite3_column_int64(st, 22);
		ev->detail = column_text(st, 23, &bytes);
		ev->geo = column_text(st, 24, &bytes);
		ev->dropped = column_text(st, 25, &bytes);
	}
	if (rc == SQLITE_INTERRUPT) {
		/* What was found by then is answered, and said to be cut. */
		r->timed_out = true;
		r->more = true;
	} else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		snprintf(r->error, sizeof r->error, "cannot read %s: %s",
		         h->path, sqlite3_errmsg(h->read));
	}
	sqlite3_finalize(st);
}

void
history_result_free(struct history_result *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++) {
		struct event_record *ev = &r->records[i];

		free((char *)ev->app);
		free((char *)ev->cgroup);
		free((char *)ev->exe);
		free((char *)ev->name);
		free((char *)ev->rule);
		free((char *)ev->list);
		free((char *)ev->entry);
		free((char *)ev->answer);
		free((char *)ev->dest);
		free((char *)ev->detail);
		free((char *)ev->geo);
		free((char *)ev->dropped);
	}
	free(r->records);
	free(r);
}

/* --- the thread ------------------------------------------------------- */

static void
add_ms(struct timespec *ts, uint32_t ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

/* Takes whole records from the ring into h->batch, at most a batch of
 * them (and BATCH_BYTES), with the lock: the sink waits for the lock
 * only as long as that copy takes. */
static size_t
take_batch(struct history *h, size_t *bytes)
{
	size_t n = 0;

	*bytes = 0;
	while (h->head > h->tail && n < BATCH_TAKE) {
		struct packed p;
		uint64_t at = h->tail;

		ring_get(h, &p, sizeof p);
		h->tail = at;
		if (*bytes + p.size > h->batch_cap)
			break;
		ring_get(h, h->batch + *bytes, p.size);
		*bytes += p.size;
		n++;
	}
	h->waiting -= n;
	return n;
}

/* Writes what the ring holds in one transaction (of at most
 * TRANSACTION_RECORDS), taking it a batch at a time so that the lock is
 * held only for each copy. Once the history failed, what is taken is
 * dropped. Returns 0 or SQLite's error; *taken records were taken, up to
 * *upto in the ring. */
static int
write_queue(struct history *h, size_t *taken, uint64_t *upto)
{
	bool failed = h->stats.failed, begun = false;
	size_t n, bytes;
	int rc = 0;

	*taken = 0;
	do {
		pthread_mutex_lock(&h->lock);
		n = take_batch(h, &bytes);
		*upto = h->tail;
		pthread_mutex_unlock(&h->lock);
		if (n == 0)
			break;
		*taken += n;
		if (failed)
			continue;
		if (!begun) {
			rc = exec(h->db, "BEGIN");
			begun = rc == SQLITE_OK;
		}
		if (rc == 0)
			rc = insert_batch(h, n);
	} while (rc == 0 && *taken < TRANSACTION_RECORDS);
	if (begun && rc == 0)
		rc = exec(h->db, "COMMIT");
	if (rc != 0) {
		snprintf(h->failure, sizeof h->failure, "%s",
		         sqlite3_errmsg(h->db));
		if (begun)
			exec(h->db, "ROLLBACK");
	}
	return rc;
}

/* What the ring holds, written and counted; one chunk of the upkeep. */
static void
write_turn(struct history *h, bool upkeep)
{
	size_t n;
	uint64_t upto;
	int rc = write_queue(h, &n, &upto);

	pthread_mutex_lock(&h->lock);
	if (rc != 0)
		fail_locked(h, "cannot write to it", rc);
	if (h->stats.failed)
		h->stats.dropped += n;
	else
		h->stats.written += n;
	h->committed = upto;
	pthread_cond_broadcast(&h->progress);
	pthread_mutex_unlock(&h->lock);
	if (!upkeep || h->stats.failed)
		return;
	{
		int64_t pruned = prune(h);

		pthread_mutex_lock(&h->lock);
		if (pruned < 0) {
			h->sweeping = false; /* the writer waits again */
			fail_locked(h, "cannot delete old records",
			            (int)-pruned);
		} else
			h->stats.pruned += (uint64_t)pruned;
		pthread_mutex_unlock(&h->lock);
	}
}

static void *
writer(void *arg)
{
	struct history *h = arg;
	char byte = 1;

	/* Below the loop: on cores the answers need, the writer takes what
	 * is left (the queue holds 4 MiB meanwhile; what overflows it is
	 * dropped and counted, never waited for). Linux sets a thread's own
	 * nice value by its thread id. */
	{
		id_t self = (id_t)syscall(SYS_gettid);
		int now;

		errno = 0;
		now = getpriority(PRIO_PROCESS, self);
		if (errno == 0)
			(void)setpriority(PRIO_PROCESS, self,
			                  now + HISTORY_WRITER_NICE > 19
			                      ? 19
			                      : now + HISTORY_WRITER_NICE);
	}
	pthread_mutex_lock(&h->lock);
	for (;;) {
		struct timespec deadline;
		struct pending_query *queries, *q;

		add_ms(&deadline, h->batch_ms);
		while (!h->stop && h->tail >= h->flush_upto &&
		       h->queries == NULL && h->waiting < h->batch_records &&
		       h->head - h->tail < h->cap / 2 && !h->sweeping)
			if (pthread_cond_timedwait(&h->wake, &h->lock,
			                           &deadline) == ETIMEDOUT)
				break;
		queries = h->queries;
		h->queries = NULL;
		pthread_mutex_unlock(&h->lock);

		/* The upkeep before the queries: none shows what is due to
		 * go. */
		write_turn(h, true);
		for (q = queries; q != NULL; q = q->next) {
			run_query(h, q);
			/* Queries do not starve the writes. */
			if (q->next != NULL)
				write_turn(h, false);
		}

		pthread_mutex_lock(&h->lock);
		if (queries != NULL) {
			for (q = queries; q->next != NULL;)
				q = q->next;
			q->next = h->finished;
			h->finished = queries;
			while (write(h->wake_loop[1], &byte, 1) < 0 &&
			       errno == EINTR)
				;
		}
		if (h->stop && h->head == h->tail && h->queries == NULL)
			break;
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

/* On the loop: the finished queries' callbacks. */
static void
on_finished(evutil_socket_t fd, short what, void *arg)
{
	struct history *h = arg;
	struct pending_query *q, *next;
	char bytes[64];

	while (read(fd, bytes, sizeof bytes) > 0)
		;
	pthread_mutex_lock(&h->lock);
	q = h->finished;
	h->finished = NULL;
	pthread_mutex_unlock(&h->lock);
	for (; q != NULL; q = next) {
		next = q->next;
		q->done(q->arg, q->result);
		free(q);
	}
}

/* The apps whose rejected connections were not all kept in the last
 * minute, the busiest named. */
static void
say_over_budget(struct history *h)
{
	const struct rejected_budget *top = NULL;
	uint64_t total = 0;
	size_t i, apps = 0;

	for (i = 0; i < BUDGET_SLOTS; i++) {
		struct rejected_budget *b = &h->budgets[i];
		uint64_t n = b->over - b->over_logged;

		if (b->app[0] == '\0' || n == 0)
			continue;
		if (top == NULL || n > top->over - top->over_logged)
			top = b;
		total += n;
		apps++;
	}
	if (top == NULL)
		return;
	log_warn("history: %llu rejected connections of %zu app%s not kept in "
	         "the last minute (more than %d an app in %d s), most of "
	         "%s (%llu): the gate rejected them all the same; "
	         "'dnsgatectl rejected' counts them, 'dnsgatectl status' "
	         "names the apps",
	         (unsigned long long)total, apps, apps == 1 ? "" : "s",
	         HISTORY_REJECTED_PER_APP, HISTORY_REJECTED_WINDOW_MS / 1000,
	         top->app, (unsigned long long)(top->over - top->over_logged));
	for (i = 0; i < BUDGET_SLOTS; i++)
		h->budgets[i].over_logged = h->budgets[i].over;
}

/* At most once a minute: how many records the queue could not take. */
static void
on_drop_timer(evutil_socket_t fd, short what, void *arg)
{
	struct history *h = arg;
	uint64_t dropped, queued;
	bool failed;

	pthread_mutex_lock(&h->lock);
	dropped = h->stats.dropped - h->dropped_logged;
	h->dropped_logged = h->stats.dropped;
	queued = h->stats.queued;
	failed = h->stats.failed;
	pthread_mutex_unlock(&h->lock);
	if (dropped > 0 && !failed)
		log_warn("history: %llu records dropped in the last minute "
		         "(%llu kept so far): %s was too slow to take them; "
		         "queries were answered all the same",
		         (unsigned long long)dropped,
		         (unsigned long long)queued, h->path);
	say_over_budget(h);
}

static void
free_history(struct history *h)
{
	sqlite3_finalize(h->insert);
	sqlite3_close(h->read);
	sqlite3_close(h->db);
	if (h->finished_event != NULL)
		event_free(h->finished_event);
	if (h->drop_timer != NULL)
		event_free(h->drop_timer);
	if (h->wake_loop[0] >= 0) {
		close(h->wake_loop[0]);
		close(h->wake_loop[1]);
	}
	pthread_cond_destroy(&h->wake);
	pthread_cond_destroy(&h->progress);
	pthread_mutex_destroy(&h->lock);
	free(h->ring);
	free(h->batch);
	free(h->budgets);
	free(h->path);
	free(h);
}

struct history *
history_open(struct event_base *base, const struct history_options *o,
             char *err, size_t errlen)
{
	struct history *h = xcalloc(1, sizeof *h);
	struct timeval minute = {DROP_LOG_EVERY_S, 0};
	pthread_condattr_t ca;
	sigset_t all, before;
	int rc;

	h->path = xstrdup(o->path);
	h->days = o->days;
	h->max_records = o->max_records;
	h->prune_chunk = o->prune_chunk ? o->prune_chunk : PRUNE_CHUNK;
	h->query_budget_ms =
	    o->query_budget_ms ? o->query_budget_ms : HISTORY_QUERY_BUDGET_MS;
	h->budgets = xcalloc(BUDGET_SLOTS, sizeof *h->budgets);
	h->cap = o->queue_bytes ? o->queue_bytes : QUEUE_BYTES_DEFAULT;
	h->batch_ms = o->batch_ms ? o->batch_ms : BATCH_MS_DEFAULT;
	h->batch_records = o->batch_records ? o->batch_records : SIZE_MAX;
	h->wake_loop[0] = h->wake_loop[1] = -1;
	pthread_mutex_init(&h->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->wake, &ca);
	pthread_cond_init(&h->progress, NULL);
	pthread_condattr_destroy(&ca);

	if (make_file(h->path, err, errlen) < 0)
		goto fail;
	rc = sqlite3_open_v2(h->path, &h->db,
	                     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		db_reason(err, errlen, h->path, "cannot open it",
		          db_message(h->db), rc);
		goto fail;
	}
	if (db_setup(h, err, errlen) < 0)
		goto fail;
	if (pipe2(h->wake_loop, O_CLOEXEC | O_NONBLOCK) < 0) {
		snprintf(err, errlen, "history: cannot make a pipe: %s",
		         strerror(errno));
		goto fail;
	}
	h->ring = xmalloc(h->cap);
	h->batch_cap = h->cap < BATCH_BYTES ? h->cap : BATCH_BYTES;
	h->batch = xmalloc(h->batch_cap);
	h->finished_event = event_new(base, h->wake_loop[0],
	                              EV_READ | EV_PERSIST, on_finished, h);
	event_add(h->finished_event, NULL);
	h->drop_timer = event_new(base, -1, EV_PERSIST, on_drop_timer, h);
	event_add(h->drop_timer, &minute);
	/* The loop handles every signal; the thread takes none. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &before);
	rc = pthread_create(&h->thread, NULL, writer, h);
	pthread_sigmask(SIG_SETMASK, &before, NULL);
	if (rc != 0) {
		snprintf(err, errlen, "history: cannot start its thread: %s",
		         strerror(rc));
		goto fail;
	}
	return h;
fail:
	free_history(h);
	return NULL;
}

void
history_flush(struct history *h)
{
	uint64_t target;

	pthread_mutex_lock(&h->lock);
	target = h->head;
	if (h->flush_upto < target)
		h->flush_upto = target;
	pthread_cond_signal(&h->wake);
	while (h->committed < target)
		pthread_cond_wait(&h->progress, &h->lock);
	pthread_mutex_unlock(&h->lock);
}

void
history_close(struct history *h)
{
	struct pending_query *q, *next;

	if (h == NULL)
		return;
	pthread_mutex_lock(&h->lock);
	h->stop = true;
	pthread_cond_signal(&h->wake);
	pthread_mutex_unlock(&h->lock);
	pthread_join(h->thread, NULL);
	/* Answered, so that their callers free what they hold. */
	for (q = h->finished; q != NULL; q = next) {
		next = q->next;
		q->done(q->arg, q->result);
		free(q);
	}
	h->finished = NULL;
	free_history(h);
}

void
history_query(struct history *h, const struct history_filter *f,
              history_done_fn *done, void *arg)
{
	struct pending_query *q = xcalloc(1, sizeof *q);

	q->filter = *f;
	if (q->filter.limit == 0)
		q->filter.limit = 100;
	if (q->filter.limit > HISTORY_QUERY_LIMIT_MAX)
		q->filter.limit = HISTORY_QUERY_LIMIT_MAX;
	q->done = done;
	q->arg = arg;
	pthread_mutex_lock(&h->lock);
	q->next = h->queries;
	h->queries = q;
	pthread_cond_signal(&h->wake);
	pthread_mutex_unlock(&h->lock);
}

void
history_get_stats(struct history *h, struct history_stats *st)
{
	pthread_mutex_lock(&h->lock);
	*st = h->stats;
	pthread_mutex_unlock(&h->lock);
}

void
history_status_json(struct history *h, struct json_out *j)
{
	struct history_stats st;
	size_t i;

	history_get_stats(h, &st);
	json_key(j, "path");
	json_string(j, h->path);
	json_key(j, "retention_days");
	json_uint(j, h->days);
	json_key(j, "state");
	json_string(j, st.failed ? st.reason : "writing");
	json_key(j, "records_queued");
	json_uint(j, st.queued);
	json_key(j, "records_written");
	json_uint(j, st.written);
	json_key(j, "records_dropped");
	json_uint(j, st.dropped);
	json_key(j, "records_pruned");
	json_uint(j, st.pruned);
	json_key(j, "max_records");
	json_uint(j, h->max_records);
	json_key(j, "rejected_per_app");
	json_uint(j, HISTORY_REJECTED_PER_APP);
	json_key(j, "rejected_window_ms");
	json_uint(j, HISTORY_REJECTED_WINDOW_MS);
	json_key(j, "rejected_over_budget");
	json_uint(j, st.rejected_over_budget);
	/* The apps whose slot still holds their count. */
	json_key(j, "rejected_over_budget_apps");
	json_array_begin(j);
	for (i = 0; i < BUDGET_SLOTS; i++) {
		const struct rejected_budget *b = &h->budgets[i];

		if (b->app[0] == '\0' || b->over == 0)
			continue;
		json_object_begin(j);
		json_key(j, "app");
		json_string(j, b->app);
		json_key(j, "not_kept");
		json_uint(j, b->over);
		json_object_end(j);
	}
	json_array_end(j);
}

/* --- the protocol's side ---------------------------------------------- */

static void
member_string(struct json_out *j, const char *key, const char *value)
{
	json_key(j, key);
	json_string(j, value != NULL ? value : "");
}

void
history_record_json(struct json_out *j, const struct event_record *ev)
{
	json_object_begin(j);
	history_record_members(j, ev);
	json_object_end(j);
}

void
history_record_members(struct json_out *j, const struct event_record *ev)
{
	char buf[16];

	member_string(j, "kind",
	              ev->kind == EVENT_REJECTED ? "rejected" : "query");
	json_key(j, "time_ms");
	json_int(j, ev->time_ms);
	member_string(j, "app", ev->app);
	member_string(j, "cgroup", ev->cgroup);
	json_key(j, "pid");
	json_int(j, ev->pid);
	json_key(j, "uid");
	json_int(j, ev->uid);
	member_string(j, "exe", ev->exe);
	member_string(j, "detail", ev->detail);
	if (ev->kind == EVENT_REJECTED) {
		member_string(j, "dest", ev->dest);
		json_key(j, "port");
		json_uint(j, ev->port);
		member_string(j, "protocol",
		              ip_protocol_name(ev->protocol, buf, sizeof buf));
		json_key(j, "packets");
		json_uint(j, ev->packets);
		member_string(j, "geo", ev->geo != NULL ? ev->geo : "");
	} else {
		json_key(j, "id");
		json_uint(j, ev->id);
		member_string(j, "name", ev->name);
		member_string(j, "type", message_type_name(ev->qtype, buf, sizeof buf));
		member_string(j, "decision", query_decision_name(ev->decision));
		member_string(j, "reason", query_reason_name(ev->reason));
		member_string(j, "rule", ev->rule);
		member_string(j, "list", ev->list);
		member_string(j, "entry", ev->entry);
		member_string(j, "answer", ev->answer);
		member_string(j, "geo", ev->geo != NULL ? ev->geo : "");
		member_string(j, "dropped",
		              ev->dropped != NULL ? ev->dropped : "");
		member_string(j, "rcode", message_rcode_name(ev->rcode));
		json_key(j, "cached");
		json_bool(j, ev->cached);
		json_key(j, "latency_us");
		json_uint(j, ev->latency_us);
	}
}

/* Room kept for what ends a reply after the records. */
#define REPLY_TAIL 64

void
history_result_json(struct json_out *j, const struct history_result *r)
{
	static char scratch[64 * 1024]; /* one record: its strings are cut */
	bool truncated = r->more;
	size_t i;

	json_key(j, "records");
	json_array_begin(j);
	for (i = 0; i < r->n; i++) {
		struct json_out probe;

		/* Measured first, so that the reply ends with whole
		 * records. */
		json_out_init(&probe, scratch, sizeof scratch);
		history_record_json(&probe, &r->records[i]);
		if (!json_out_ok(&probe) ||
		    j->len + probe.len + 1 + REPLY_TAIL >= j->size) {
			truncated = true;
			break;
		}
		history_record_json(j, &r->records[i]);
	}
	json_array_end(j);
	json_key(j, "truncated");
	json_bool(j, truncated);
	if (r->timed_out) {
		json_key(j, "timed_out");
		json_bool(j, true);
		json_key(j, "reason");
		json_string(j, "the query ran out of its time in the history's "
		               "thread (a part of an app key scans every "
		               "record): narrow it with --since/--until or a "
		               "whole app key");
	}
}

static int
get_string(const char *request, size_t len, const char *key, char *out,
           size_t outlen, char *err, size_t errlen)
{
	int rc = json_flat_get_string(request, len, key, out, outlen);

	if (rc == -2) {
		snprintf(err, errlen, "\"%s\" is too long (at most %zu bytes)",
		         key, outlen - 1);
		return -1;
	}
	if (rc < 0)
		out[0] = '\0';
	return 0;
}

static int
get_time(const char *request, size_t len, const char *key, int64_t *out,
         char *err, size_t errlen)
{
	int rc = json_flat_get_int(request, len, key, out);

	if (rc == -2 || (rc == 0 && *out < 0)) {
		snprintf(err, errlen,
		         "\"%s\" is milliseconds since the "
		         "epoch, a whole number not below 0",
		         key);
		return -1;
	}
	if (rc < 0)
		*out = 0;
	return 0;
}

int
history_filter_from_request(const char *request, size_t len,
                            struct history_filter *f, char *err, size_t errlen)
{
	char word[16];
	int64_t limit;
	int rc;

	memset(f, 0, sizeof *f);
	if (get_time(request, len, "since_ms", &f->since_ms, err, errlen) < 0 ||
	    get_time(request, len, "until_ms", &f->until_ms, err, errlen) < 0 ||
	    get_string(request, len, "app", f->app, sizeof f->app, err,
	               errlen) < 0 ||
	    get_string(request, len, "app_contains", f->app_contains,
	               sizeof f->app_contains, err, errlen) < 0 ||
	    get_string(request, len, "name", f->name, sizeof f->name, err,
	               errlen) < 0 ||
	    get_string(request, len, "name_suffix", f->name_suffix,
	               sizeof f->name_suffix, err, errlen) < 0)
		return -1;
	if (json_flat_get_bool(request, len, "blocked", &f->blocked) == -2) {
		snprintf(err, errlen, "\"blocked\" is true or false");
		return -1;
	}
	rc = json_flat_get_int(request, len, "limit", &limit);
	if (rc == -2 ||
	    (rc == 0 && (limit < 1 || limit > HISTORY_QUERY_LIMIT_MAX))) {
		snprintf(err, errlen, "\"limit\" is a number from 1 to %d",
		         HISTORY_QUERY_LIMIT_MAX);
		return -1;
	}
	if (rc == 0)
		f->limit = (uint32_t)limit;
	rc = json_flat_get_string(request, len, "kind", word, sizeof word);
	if (rc == 0 && strcmp(word, "query") == 0)
		f->kind = EVENT_QUERY;
	else if (rc == 0 && strcmp(word, "rejected") == 0)
		f->kind = EVENT_REJECTED;
	else if (rc != -1) {
		snprintf(err, errlen, "\"kind\" is \"query\" or \"rejected\"");
		return -1;
	}
	rc = json_flat_get_string(request, len, "order", word, sizeof word);
	if (rc == 0 && strcmp(word, "oldest") == 0)
		f->oldest_first = true;
	else if (rc != -1 && !(rc == 0 && strcmp(word, "newest") == 0)) {
		snprintf(err, errlen, "\"order\" is \"newest\" or \"oldest\"");
		return -1;
	}
	if (f->until_ms != 0 && f->until_ms <= f->since_ms) {
		snprintf(err, errlen,
		         "\"until_ms\" is not after \"since_ms\": "
		         "no record can be between them");
		return -1;
	}
	return 0;
}
