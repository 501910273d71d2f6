/* reloader.h - builds the next policy in a worker thread, so that the
 * loop keeps answering with the policy in use while a reload reads the
 * config, the rules and the lists (a 1,000,000-name list takes about
 * half a second), and hands the result to the loop, which swaps it in.
 * One build at a time: a request while one builds runs after it (every
 * request meanwhile joins that one). The build reads files and allocates
 * its own memory only; the policy in use is held for it and only read
 * (policy.h says what is shared). */
#ifndef DNSGATE_RELOADER_H
#define DNSGATE_RELOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct event_base;
struct policy;
struct reloader;

/* What a build gives the loop. */
struct reload_result {
	uint64_t build;         /* its number: 1, 2, ... */
	struct config *cfg;     /* the config read; NULL when it failed */
	struct policy *policy;  /* NULL when the build failed: see err */
	char err[1024];
	uint64_t ms;            /* from the request to the result */
	char why[128];          /* what asked for it ("SIGHUP", ...) */
};

/* Called on the loop when a build ends. It owns r->cfg and r->policy
 * (either may be NULL) and must take or free them; r itself is the
 * reloader's. */
typedef void reloader_done_fn(void *arg, struct reload_result *r);

/* *in_use is read on the loop when a build starts: the policy it
 * rebuilds from. Returns NULL with err when the loop cannot be woken
 * (no pipe). */
struct reloader *reloader_new(struct event_base *base, const char *config_path,
			      struct policy *const *in_use,
			      reloader_done_fn *done, void *arg, char *err,
			      size_t errlen);

/* Waits for a build in progress (its result is freed, not swapped in),
 * then frees r. NULL is accepted. */
void reloader_free(struct reloader *r);

/* Asks for a reload, why saying who asked. Returns the number of the
 * build that will answer it: one that starts now, or the one queued
 * after the build in progress. */
uint64_t reloader_request(struct reloader *r, const char *why);

/* A build is in progress. */
bool reloader_busy(const struct reloader *r);

#endif
