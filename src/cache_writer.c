/* cache_writer.c - list-cache writes in a thread, the loop woken through
 * a pipe when one is done. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "src/cache_writer.h"
#include "src/log.h"
#include "src/xmalloc.h"

struct job {
	char *dir, *name;
	struct list_cache_meta meta;
	char *body;
	size_t len;
	cache_writer_done_fn *done;
	void *arg;
	uint64_t tag;
	int rc;
	char err[512];
	struct job *next;
};

struct cache_writer {
	int wake[2]; /* the thread writes a byte when its job is done */
	struct event *woken;
	struct job *head, *tail; /* head is being written when running */
	pthread_t thread;
	bool running;
	bool threaded; /* running in thread (else it ran on the loop) */
	cache_writer_store_fn *store;
};

static int
store_in_cache(const char *dir, const char *name,
               const struct list_cache_meta *m, const char *body, size_t len,
               char *err, size_t errlen)
{
	if (body != NULL)
		return list_cache_store_pending(dir, name, m, body, len, err,
		                                errlen);
	return list_cache_store(dir, name, m, NULL, 0, err, errlen);
}

static void *
write_job(void *arg)
{
	struct cache_writer *w = arg;
	struct job *j = w->head;
	char byte = 1;

	j->rc = w->store(j->dir, j->name, &j->meta, j->body, j->len, j->err,
	                 sizeof j->err);
	while (write(w->wake[1], &byte, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

static void
job_free(struct job *j)
{
	free(j->dir);
	free(j->name);
	free(j->body);
	free(j);
}

/* Starts the head job, unless one runs or none waits. */
static void
start(struct cache_writer *w)
{
	sigset_t all, before;
	int rc;

	if (w->running || w->head == NULL)
		return;
	/* The loop handles every signal; the thread takes none. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &before);
	rc = pthread_create(&w->thread, NULL, write_job, w);
	pthread_sigmask(SIG_SETMASK, &before, NULL);
	w->running = true;
	w->threaded = rc == 0;
	if (rc != 0) {
		/* No thread to spare: written here, as before threads; the
		 * pipe wakes the loop all the same. */
		log_warn("list %s: cannot start a thread to write it to "
		         "list-cache (%s): writing it on the loop, which "
		         "answers no query meanwhile",
		         w->head->name, strerror(rc));
		write_job(w);
	}
}

static void
on_woken(evutil_socket_t fd, short what, void *arg)
{
	struct cache_writer *w = arg;
	struct job *j;
	char byte;

	if (read(fd, &byte, 1) != 1 || !w->running)
		return;
	if (w->threaded)
		pthread_join(w->thread, NULL);
	w->running = false;
	j = w->head;
	w->head = j->next;
	if (w->head == NULL)
		w->tail = NULL;
	start(w); /* the next one is written while this one is applied */
	j->done(j->arg, j->tag, j->rc, j->err);
	job_free(j);
}

struct cache_writer *
cache_writer_new(struct event_base *base, char *err, size_t errlen)
{
	struct cache_writer *w = xcalloc(1, sizeof *w);

	if (pipe2(w->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		snprintf(err, errlen,
		         "cannot make a pipe for list-cache writes: %s",
		         strerror(errno));
		free(w);
		return NULL;
	}
	w->store = store_in_cache;
	w->woken =
	    event_new(base, w->wake[0], EV_READ | EV_PERSIST, on_woken, w);
	event_add(w->woken, NULL);
	return w;
}

void
cache_writer_set_store(struct cache_writer *w, cache_writer_store_fn *fn)
{
	w->store = fn;
}

void
cache_writer_free(struct cache_writer *w)
{
	struct job *j;

	if (w == NULL)
		return;
	if (w->running && w->threaded)
		pthread_join(w->thread, NULL);
	while ((j = w->head) != NULL) {
		w->head = j->next;
		job_free(j);
	}
	event_free(w->woken);
	close(w->wake[0]);
	close(w->wake[1]);
	free(w);
}

void
cache_writer_store(struct cache_writer *w, const char *dir, const char *name,
                   const struct list_cache_meta *m, char *body, size_t len,
                   cache_writer_done_fn *done, void *arg, uint64_t tag)
{
	struct job *j = xcalloc(1, sizeof *j);

	j->dir = xstrdup(dir);
	j->name = xstrdup(name);
	j->meta = *m;
	j->body = body;
	j->len = len;
	j->done = done;
	j->arg = arg;
	j->tag = tag;
	if (w->tail != NULL)
		w->tail->next = j;
	else
		w->head = j;
	w->tail = j;
	start(w);
}
