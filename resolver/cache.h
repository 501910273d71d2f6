/* cache.h - upstream answers kept for their TTL, keyed by question.
 * The key is the question (name, type, class) and the client's EDNS, DO
 * and CD flags, which shape the answer. An entry holds the answer's wire
 * bytes; a hit is aged (every TTL
 * lowered by the time spent here) and gets the asker's ID. The cache is
 * bounded by an entry count; the least recently used entry goes first.
 * It holds answers, never decisions: each hit is still attributed,
 * decided and granted for the app that asked.
 * An expired entry may be kept for a max-stale window, to answer when
 * every upstream fails (RFC 8767): such a stale answer is handed out
 * only on request (cache_get_stale), with every TTL set to
 * CACHE_STALE_TTL. */
#ifndef DNSGATE_CACHE_H
#define DNSGATE_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "resolver/message.h"

#define CACHE_MAX_TTL 86400
#define CACHE_STALE_TTL 30 /* RFC 8767's stale-answer TTL */

struct cache;

/* max_entries 0 makes a cache that stores nothing. */
struct cache *cache_new(size_t max_entries);
void cache_free(struct cache *c);

/* How long past its expiry an entry is kept for cache_get_stale, in
 * seconds; 0 (the default) drops it at expiry. */
void cache_set_max_stale(struct cache *c, uint32_t seconds);

/* Stores a copy of the answer to q for ttl seconds (capped at
 * CACHE_MAX_TTL; 0 stores nothing), replacing an older entry. now is a
 * monotonic clock in seconds. */
void cache_put(struct cache *c, const struct dns_question *q,
	       const uint8_t *wire, size_t len, uint32_t ttl, time_t now);

/* On a hit writes the aged answer with q's ID into out and returns its
 * length; returns 0 on a miss or when out is too small. Expired entries
 * are a miss, and removed unless still within max-stale. */
size_t cache_get(struct cache *c, const struct dns_question *q, uint8_t *out,
		 size_t outlen, time_t now);

/* Like cache_get, but for an entry that has expired and is still within
 * max-stale: writes it with every TTL CACHE_STALE_TTL and counts it.
 * Returns 0 for a fresh entry (use cache_get), a miss, or beyond
 * max-stale (the entry is then removed). */
size_t cache_get_stale(struct cache *c, const struct dns_question *q,
		       uint8_t *out, size_t outlen, time_t now);

/* Stale answers handed out so far. */
uint64_t cache_stale_answers(const struct cache *c);

size_t cache_count(const struct cache *c);

/* The most entries one bucket holds: a few, whatever names apps ask (the
 * buckets are chosen by a keyed hash). For the tests. */
size_t cache_longest_chain(const struct cache *c);

#endif
