/* cache_writer.h - writes the subscriptions' downloads into list-cache in
 * a thread, so that the loop, which answers queries, never waits for the
 * disk (a copy may be 64 MB, and its fsync takes what the disk takes).
 * The loop hands a job over with its buffer and is called back, on the
 * loop, once the files are written. One job at a time, in the order
 * handed over (a thread each: few downloads, each of them large). */
#ifndef DNSGATE_CACHE_WRITER_H
#define DNSGATE_CACHE_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/list_cache.h"

struct event_base;
struct cache_writer;

/* tag is the one handed over with the job; rc is 0, or -1 with err saying
 * why (the files are then as before). */
typedef void cache_writer_done_fn(void *arg, uint64_t tag, int rc,
                                  const char *err);

/* What writes one job, in the thread: by default list_cache_store_pending
 * when body is not NULL, else list_cache_store. Returns 0, or -1 with a
 * reason in err. */
typedef int cache_writer_store_fn(const char *dir, const char *name,
                                  const struct list_cache_meta *m,
                                  const char *body, size_t len, char *err,
                                  size_t errlen);

/* NULL with a reason in err when the loop cannot be woken (no pipe). */
struct cache_writer *cache_writer_new(struct event_base *base, char *err,
                                      size_t errlen);

/* Another store function (the tests': one that takes its time, one that
 * fails), before the first job. */
void cache_writer_set_store(struct cache_writer *w, cache_writer_store_fn *fn);

/* Waits for the job being written; the jobs not started are dropped,
 * their callbacks not called. NULL is accepted. */
void cache_writer_free(struct cache_writer *w);

/* Writes m and body into dir for list name: pending (list_cache_store_
 * pending, NAME.list.new) when body is not NULL, else only NAME.meta
 * (list_cache_store). Takes body, a malloc'ed buffer of len bytes, and
 * frees it. done(arg, tag, ...) is called on the loop, never before this
 * returns. */
void cache_writer_store(struct cache_writer *w, const char *dir,
                        const char *name, const struct list_cache_meta *m,
                        char *body, size_t len, cache_writer_done_fn *done,
                        void *arg, uint64_t tag);

#endif
