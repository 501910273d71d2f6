/* reloader.c - the policy built in a thread, handed back through a pipe
 * on the loop. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <event2/event.h>

#include "src/clock.h"
#include "src/config_file.h"
#include "src/log.h"
#include "src/policy.h"
#include "src/reloader.h"
#include "src/xmalloc.h"

struct reloader {
	struct event_base *base;
	char *config_path;
	struct policy *const *in_use;
	reloader_done_fn *done;
	void *arg;
	int wake[2]; /* the thread writes a byte when it is done */
	struct event *woken;

	pthread_t thread;
	bool running;
	bool threaded; /* running in thread (else it ran on the loop) */
	struct policy *from; /* held for the build */
	struct reload_result result;
	uint64_t started_ms;

	uint64_t builds; /* started so far */
	bool queued;     /* another build after this one */
	char queued_why[128];
};

static void *
build(void *arg)
{
	struct reloader *r = arg;
	struct reload_result *res = &r->result;
	char byte = 1;

	/* The lowest CPU priority, for this thread only (Linux's nice is a
	 * thread's): on a busy host the loop, which answers queries, gets
	 * the core first whenever it has work. */
	if (r->threaded)
		(void)setpriority(PRIO_PROCESS, (id_t)gettid(), 19);

	res->cfg = config_load(r->config_path, res->err, sizeof res->err);
	if (res->cfg != NULL)
		res->policy = policy_reload(r->from, res->cfg, res->err,
					    sizeof res->err);
	while (write(r->wake[1], &byte, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

static void
start(struct reloader *r, const char *why)
{
	sigset_t all, before;
	int rc;

	memset(&r->result, 0, sizeof r->result);
	r->result.build = ++r->builds;
	snprintf(r->result.why, sizeof r->result.why, "%s", why);
	r->from = policy_ref(*r->in_use);
	r->started_ms = clock_ms();
	/* The loop handles every signal; the thread takes none. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &before);
	r->threaded = true;
	rc = pthread_create(&r->thread, NULL, build, r);
	pthread_sigmask(SIG_SETMASK, &before, NULL);
	if (rc != 0) {
		/* No thread to spare: build here, as before threads. */
		log_warn("%s: cannot start a thread for the reload (%s): "
			 "building it on the loop, which answers no query "
			 "meanwhile",
			 why, strerror(rc));
		r->running = true;
		r->threaded = false;
		build(r);
		return;
	}
	r->running = true;
}

static void
finish(struct reloader *r)
{
	if (r->running && r->threaded)
		pthread_join(r->thread, NULL);
	r->running = false;
	policy_free(r->from);
	r->from = NULL;
	r->result.ms = clock_ms() - r->started_ms;
}

static void
on_woken(evutil_socket_t fd, short what, void *arg)
{
	struct reloader *r = arg;
	char byte;

	if (read(fd, &byte, 1) != 1 || !r->running)
		return;
	finish(r);
	r->done(r->arg, &r->result);
	if (r->queued) {
		r->queued = false;
		start(r, r->queued_why);
	}
}

struct reloader *
reloader_new(struct event_base *base, const char *config_path,
	     struct policy *const *in_use, reloader_done_fn *done, void *arg,
	     char *err, size_t errlen)
{
	struct reloader *r = xcalloc(1, sizeof *r);

	if (pipe2(r->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		snprintf(err, errlen, "cannot make a pipe for reloads: %s",
			 strerror(errno));
		free(r);
		return NULL;
	}
	r->base = base;
	r->config_path = xstrdup(config_path);
	r->in_use = in_use;
	r->done = done;
	r->arg = arg;
	r->woken = event_new(base, r->wake[0], EV_READ | EV_PERSIST, on_woken,
			     r);
	event_add(r->woken, NULL);
	return r;
}

void
reloader_free(struct reloader *r)
{
	uint64_t waited;

	if (r == NULL)
		return;
	if (r->running) {
		waited = clock_ms();
		finish(r);
		log_info("stopping: waited %llu ms for the reload in "
			 "progress (%s), which is not applied",
			 (unsigned long long)(clock_ms() - waited),
			 r->result.why);
		policy_free(r->result.policy);
		config_free(r->result.cfg);
	}
	event_free(r->woken);
	close(r->wake[0]);
	close(r->wake[1]);
	free(r->config_path);
	free(r);
}

uint64_t
reloader_request(struct reloader *r, const char *why)
{
	if (!r->running) {
		start(r, why);
		return r->builds;
	}
	if (!r->queued) {
		r->queued = true;
		snprintf(r->queued_why, sizeof r->queued_why, "%s", why);
	}
	return r->builds + 1;
}

bool
reloader_busy(const struct reloader *r)
{
	return r->running;
}
