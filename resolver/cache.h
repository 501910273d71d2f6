/* cache.h - upstream answers kept for their TTL, keyed by question.
 * The key is the question (name, type, class) and the client's EDNS, DO
 * and CD flags, which shape the answer. An entry holds the answer's wire
 * bytes; a hit is aged (every TTL
 * lowered by the time spent here) and gets the asker's ID. The cache is
 * bounded by an entry count; the least recently used entry goes first.
 * It holds answers, never decisions: each hit is still attributed,
 * decided and granted for the app that asked. */
#ifndef DNSGATE_CACHE_H
#define DNSGATE_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "message.h"

#define CACHE_MAX_TTL 86400

struct cache;

/* max_entries 0 makes a cache that stores nothing. */
struct cache *cache_new(size_t max_entries);
void cache_free(struct cache *c);

/* Stores a copy of the answer to q for ttl seconds (capped at
 * CACHE_MAX_TTL; 0 stores nothing), replacing an older entry. now is a
 * monotonic clock in seconds. */
void cache_put(struct cache *c, const struct dns_question *q,
	       const uint8_t *wire, size_t len, uint32_t ttl, time_t now);

/* On a hit writes the aged answer with q's ID into out and returns its
 * length; returns 0 on a miss or when out is too small. Expired entries
 * are removed. */
size_t cache_get(struct cache *c, const struct dns_question *q, uint8_t *out,
		 size_t outlen, time_t now);

size_t cache_count(const struct cache *c);

#endif
