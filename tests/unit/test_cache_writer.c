/* test_cache_writer.c - list-cache writes in a thread, the loop called
 * back once each is done. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "src/cache_writer.h"
#include "src/list_cache.h"
#include "tests/unit/check.h"

/* What the store function saw and did; it runs in the writer's thread. */
static struct {
	pthread_mutex_t lock;
	char order[16][16]; /* names, in the order written */
	unsigned stored;    /* calls returned */
	unsigned started;   /* calls begun */
	unsigned sleep_ms;  /* each call takes this long */
	pthread_t thread;   /* the last call's */
	unsigned ticks_at_start, ticks_at_end;
} seen = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* The loop's timer counts here while a store runs. */
static unsigned ticks;

static unsigned
read_ticks(void)
{
	return __atomic_load_n(&ticks, __ATOMIC_RELAXED);
}

static int
slow_store(const char *dir, const char *name, const struct list_cache_meta *m,
           const char *body, size_t len, char *err, size_t errlen)
{
	struct timespec ts;
	unsigned i;

	(void)dir;
	(void)m;
	(void)len;
	pthread_mutex_lock(&seen.lock);
	i = seen.started++;
	seen.thread = pthread_self();
	seen.ticks_at_start = read_ticks();
	pthread_mutex_unlock(&seen.lock);
	ts.tv_sec = seen.sleep_ms / 1000;
	ts.tv_nsec = (long)(seen.sleep_ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);
	pthread_mutex_lock(&seen.lock);
	if (i < 16)
		snprintf(seen.order[i], sizeof seen.order[i], "%s", name);
	seen.ticks_at_end = read_ticks();
	seen.stored++;
	pthread_mutex_unlock(&seen.lock);
	if (strcmp(name, "fails") == 0) {
		snprintf(err, errlen, "disk full (the test's)");
		return -1;
	}
	(void)body;
	return 0;
}

static unsigned
stored_now(void)
{
	unsigned n;

	pthread_mutex_lock(&seen.lock);
	n = seen.stored;
	pthread_mutex_unlock(&seen.lock);
	return n;
}

static void
reset_seen(unsigned sleep_ms)
{
	pthread_mutex_lock(&seen.lock);
	memset(seen.order, 0, sizeof seen.order);
	seen.stored = seen.started = 0;
	seen.sleep_ms = sleep_ms;
	pthread_mutex_unlock(&seen.lock);
}

/* The callbacks, on the loop. */
static struct {
	uint64_t tags[16];
	int rcs[16];
	char errs[16][64];
	unsigned stored_then[16]; /* stores returned when it was called */
	unsigned n;
	pthread_t thread;
} done;

static void
on_done(void *arg, uint64_t tag, int rc, const char *err)
{
	struct event_base *base = arg;

	if (done.n < 16) {
		done.tags[done.n] = tag;
		done.rcs[done.n] = rc;
		snprintf(done.errs[done.n], sizeof done.errs[done.n], "%s",
		         rc < 0 ? err : "");
		done.stored_then[done.n] = stored_now();
	}
	done.n++;
	done.thread = pthread_self();
	(void)base;
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	__atomic_add_fetch(&ticks, 1, __ATOMIC_RELAXED);
}

/* Runs base until n callbacks came, or 5 s. */
static void
run_until(struct event_base *base, unsigned n)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (done.n < n) {
		event_base_loop(base, EVLOOP_ONCE);
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 5)
			break;
	}
}

static struct list_cache_meta
meta(void)
{
	struct list_cache_meta m;

	memset(&m, 0, sizeof m);
	snprintf(m.url, sizeof m.url, "https://lists.example/a.txt");
	return m;
}

static void
store(struct cache_writer *w, struct event_base *base, const char *name,
      const char *body, uint64_t tag)
{
	struct list_cache_meta m = meta();

	cache_writer_store(w, "/nonexistent", name, &m,
	                   body != NULL ? strdup(body) : NULL,
	                   body != NULL ? strlen(body) : 0, on_done, base, tag);
}

/* Jobs are written one at a time in the order handed over; each
 * callback comes on the loop, after its store returned, never within
 * cache_writer_store; a store's failure reaches its callback. */
static void
test_order(void)
{
	struct event_base *base = event_base_new();
	char err[256];
	struct cache_writer *w = cache_writer_new(base, err, sizeof err);

	CHECK(w != NULL);
	if (w == NULL)
		return;
	cache_writer_set_store(w, slow_store);
	reset_seen(20);
	memset(&done, 0, sizeof done);
	store(w, base, "one", "a\n", 1);
	store(w, base, "two", NULL, 2); /* meta only */
	store(w, base, "fails", "c\n", 3);
	store(w, base, "four", "d\n", 4);
	CHECK_INT(done.n, 0); /* never before cache_writer_store returns */
	run_until(base, 4);
	CHECK_INT(done.n, 4);
	CHECK_STR(seen.order[0], "one");
	CHECK_STR(seen.order[1], "two");
	CHECK_STR(seen.order[2], "fails");
	CHECK_STR(seen.order[3], "four");
	CHECK_INT(done.tags[0], 1);
	CHECK_INT(done.tags[1], 2);
	CHECK_INT(done.tags[2], 3);
	CHECK_INT(done.tags[3], 4);
	/* The i-th callback: its store and those before it returned. */
	CHECK(done.stored_then[0] >= 1);
	CHECK(done.stored_then[1] >= 2);
	CHECK(done.stored_then[2] >= 3);
	CHECK_INT(done.stored_then[3], 4);
	CHECK_INT(done.rcs[0], 0);
	CHECK_INT(done.rcs[2], -1);
	CHECK_STR(done.errs[2], "disk full (the test's)");
	CHECK_INT(done.rcs[3], 0);
	/* Written in a thread, called back on the loop's. */
	CHECK(!pthread_equal(seen.thread, pthread_self()));
	CHECK(pthread_equal(done.thread, pthread_self()));
	cache_writer_free(w);
	event_base_free(base);
}

/* A write that takes its time (a 64 MB fsync): the loop runs meanwhile.
 * The timer ticks every 10 ms; the store sleeps 400 ms. */
static void
test_loop_runs_meanwhile(void)
{
	struct event_base *base = event_base_new();
	struct timeval every = {0, 10000};
	struct event *tick = event_new(base, -1, EV_PERSIST, on_tick, NULL);
	char err[256];
	struct cache_writer *w = cache_writer_new(base, err, sizeof err);

	CHECK(w != NULL);
	if (w == NULL)
		return;
	event_add(tick, &every);
	cache_writer_set_store(w, slow_store);
	reset_seen(400);
	memset(&done, 0, sizeof done);
	store(w, base, "slow", "a\n", 7);
	run_until(base, 1);
	CHECK_INT(done.n, 1);
	fprintf(stderr, "loop ticks while a 400 ms write ran: %u\n",
	        seen.ticks_at_end - seen.ticks_at_start);
	CHECK(seen.ticks_at_end - seen.ticks_at_start >= 10);
	cache_writer_free(w);
	event_free(tick);
	event_base_free(base);
}

/* Freed while a write runs: it waits for that write; the jobs not
 * started are dropped, no callback called. */
static void
test_free_while_writing(void)
{
	struct event_base *base = event_base_new();
	char err[256];
	struct cache_writer *w = cache_writer_new(base, err, sizeof err);
	unsigned started = 0;
	int i;

	CHECK(w != NULL);
	if (w == NULL)
		return;
	cache_writer_set_store(w, slow_store);
	reset_seen(200);
	memset(&done, 0, sizeof done);
	store(w, base, "running", "a\n", 1);
	store(w, base, "dropped", "b\n", 2);
	for (i = 0; i < 500 && started == 0; i++) {
		usleep(1000);
		pthread_mutex_lock(&seen.lock);
		started = seen.started;
		pthread_mutex_unlock(&seen.lock);
	}
	CHECK_INT(started, 1);
	CHECK_INT(stored_now(), 0); /* still writing */
	cache_writer_free(w);
	CHECK_INT(stored_now(), 1); /* waited for it */
	CHECK_INT(seen.started, 1); /* the other never started */
	event_base_loop(base, EVLOOP_NONBLOCK);
	CHECK_INT(done.n, 0);
	event_base_free(base);
}

/* No thread to spare: the job is written on the loop, and its callback
 * still comes from the loop, after cache_writer_store returned. A
 * thread's stack cannot be mapped while the address space is capped
 * (first in the process: no stack of a finished thread is cached). */
static void
test_no_thread(void)
{
	struct event_base *base = event_base_new();
	char err[256];
	struct cache_writer *w = cache_writer_new(base, err, sizeof err);
	struct rlimit before, capped;
	long pages, page = sysconf(_SC_PAGESIZE);
	FILE *f;

	CHECK(w != NULL);
	if (w == NULL)
		return;
	cache_writer_set_store(w, slow_store);
	reset_seen(0);
	memset(&done, 0, sizeof done);
	f = fopen("/proc/self/statm", "r");
	CHECK(f != NULL && fscanf(f, "%ld", &pages) == 1);
	if (f != NULL)
		fclose(f);
	CHECK_INT(getrlimit(RLIMIT_AS, &before), 0);
	capped = before;
	/* 2 MB over what is mapped: room for malloc, none for 8 MB. */
	capped.rlim_cur = (rlim_t)pages * (rlim_t)page + 2 * 1024 * 1024;
	CHECK_INT(setrlimit(RLIMIT_AS, &capped), 0);
	store(w, base, "on-loop", "a\n", 9);
	setrlimit(RLIMIT_AS, &before);
	CHECK_INT(stored_now(), 1);                        /* written at once */
	CHECK(pthread_equal(seen.thread, pthread_self())); /* here */
	CHECK_INT(done.n, 0);
	run_until(base, 1);
	CHECK_INT(done.n, 1);
	CHECK_INT(done.tags[0], 9);
	CHECK_INT(done.rcs[0], 0);
	/* And the next one has its thread again. */
	store(w, base, "threaded", "b\n", 10);
	run_until(base, 2);
	CHECK_INT(done.n, 2);
	CHECK(!pthread_equal(seen.thread, pthread_self()));
	cache_writer_free(w);
	event_base_free(base);
}

/* The default store: into list-cache, as the copy pending when there is
 * a body. */
static void
test_default_store(void)
{
	struct event_base *base = event_base_new();
	char err[256], dir[] = "/tmp/test_cache_writer.XXXXXX", path[300];
	struct cache_writer *w = cache_writer_new(base, err, sizeof err);
	struct list_cache_meta m = meta();

	CHECK(w != NULL && mkdtemp(dir) != NULL);
	if (w == NULL)
		return;
	memset(&done, 0, sizeof done);
	cache_writer_store(w, dir, "a", &m, strdup("x.example\n"), 10, on_done,
	                   base, 1);
	run_until(base, 1);
	CHECK_INT(done.rcs[0], 0);
	snprintf(path, sizeof path, "%s/a.list.new", dir);
	CHECK(access(path, F_OK) == 0);
	unlink(path);
	snprintf(path, sizeof path, "%s/a.meta.new", dir);
	CHECK(access(path, F_OK) == 0);
	unlink(path);
	rmdir(dir);
	cache_writer_free(w);
	event_base_free(base);
}

int
main(void)
{
	test_no_thread();
	test_order();
	test_loop_runs_meanwhile();
	test_free_while_writing();
	test_default_store();
	return check_exit();
}
