/* cache.c - a hash table of answers with an LRU list for eviction. */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resolver/cache.h"
#include "src/siphash.h"
#include "src/xmalloc.h"

struct entry {
	struct entry *hash_next;
	struct entry *lru_prev, *lru_next; /* most recent at head */
	uint64_t hash;
	char qname[DNS_MAX_NAME];
	uint16_t qtype, qclass;
	bool edns, do_bit, cd_bit;
	time_t stored, expires;
	size_t len;
	uint8_t wire[]; /* len bytes */
};

struct cache {
	struct entry **buckets;
	size_t n_buckets; /* a power of two */
	size_t count, max_entries;
	struct entry *lru_head, *lru_tail;
	uint32_t max_stale;
	uint64_t stale_answers;
	/* Names are what apps ask: keyed, so that no app can choose names
	 * that share a bucket and make every lookup and eviction in it
	 * walk thousands of entries (an unkeyed FNV let it). */
	struct siphash_key key;
};

static uint64_t
key_hash(const struct cache *c, const struct dns_question *q)
{
	uint8_t buf[DNS_MAX_NAME + 5];
	size_t n = strnlen(q->qname, DNS_MAX_NAME);

	memcpy(buf, q->qname, n);
	buf[n] = (uint8_t)(q->qtype >> 8);
	buf[n + 1] = (uint8_t)q->qtype;
	buf[n + 2] = (uint8_t)(q->qclass >> 8);
	buf[n + 3] = (uint8_t)q->qclass;
	buf[n + 4] = (uint8_t)(q->edns << 2 | q->do_bit << 1 | q->cd_bit);
	return siphash24(&c->key, buf, n + 5);
}

static bool
key_equal(const struct entry *e, uint64_t hash, const struct dns_question *q)
{
	return e->hash == hash && e->qtype == q->qtype &&
	       e->qclass == q->qclass && e->edns == q->edns &&
	       e->do_bit == q->do_bit &&
	       e->cd_bit == q->cd_bit && strcmp(e->qname, q->qname) == 0;
}

struct cache *
cache_new(size_t max_entries)
{
	struct cache *c = xcalloc(1, sizeof *c);

	c->max_entries = max_entries;
	c->n_buckets = 64;
	while (c->n_buckets < max_entries && c->n_buckets < (1u << 24))
		c->n_buckets <<= 1;
	c->buckets = xcalloc(c->n_buckets, sizeof *c->buckets);
	siphash_key_random(&c->key);
	return c;
}

void
cache_free(struct cache *c)
{
	struct entry *e, *next;

	if (c == NULL)
		return;
	for (e = c->lru_head; e != NULL; e = next) {
		next = e->lru_next;
		free(e);
	}
	free(c->buckets);
	free(c);
}

void
cache_set_max_stale(struct cache *c, uint32_t seconds)
{
	c->max_stale = seconds;
}

uint64_t
cache_stale_answers(const struct cache *c)
{
	return c->stale_answers;
}

size_t
cache_count(const struct cache *c)
{
	return c->count;
}

static void
lru_unlink(struct cache *c, struct entry *e)
{
	if (e->lru_prev != NULL)
		e->lru_prev->lru_next = e->lru_next;
	else
		c->lru_head = e->lru_next;
	if (e->lru_next != NULL)
		e->lru_next->lru_prev = e->lru_prev;
	else
		c->lru_tail = e->lru_prev;
	e->lru_prev = e->lru_next = NULL;
}

static void
lru_push_head(struct cache *c, struct entry *e)
{
	e->lru_prev = NULL;
	e->lru_next = c->lru_head;
	if (c->lru_head != NULL)
		c->lru_head->lru_prev = e;
	c->lru_head = e;
	if (c->lru_tail == NULL)
		c->lru_tail = e;
}

static void
remove_entry(struct cache *c, struct entry *e)
{
	struct entry **pp = &c->buckets[e->hash & (c->n_buckets - 1)];

	while (*pp != e)
		pp = &(*pp)->hash_next;
	*pp = e->hash_next;
	lru_unlink(c, e);
	c->count--;
	free(e);
}

static struct entry *
find(struct cache *c, const struct dns_question *q, uint64_t hash)
{
	struct entry *e;

	for (e = c->buckets[hash & (c->n_buckets - 1)]; e != NULL;
	     e = e->hash_next) {
		if (key_equal(e, hash, q))
			return e;
	}
	return NULL;
}

void
cache_put(struct cache *c, const struct dns_question *q, const uint8_t *wire,
	  size_t len, uint32_t ttl, time_t now)
{
	uint64_t hash = key_hash(c, q);
	struct entry *e;

	if (c->max_entries == 0 || ttl == 0)
		return;
	if (ttl > CACHE_MAX_TTL)
		ttl = CACHE_MAX_TTL;
	e = find(c, q, hash);
	if (e != NULL)
		remove_entry(c, e);
	while (c->count >= c->max_entries && c->lru_tail != NULL)
		remove_entry(c, c->lru_tail);

	e = xmalloc(sizeof *e + len);
	memset(e, 0, sizeof *e);
	e->hash = hash;
	snprintf(e->qname, sizeof e->qname, "%s", q->qname);
	e->qtype = q->qtype;
	e->qclass = q->qclass;
	e->edns = q->edns;
	e->do_bit = q->do_bit;
	e->cd_bit = q->cd_bit;
	e->stored = now;
	e->expires = now + (time_t)ttl;
	e->len = len;
	memcpy(e->wire, wire, len);
	e->hash_next = c->buckets[hash & (c->n_buckets - 1)];
	c->buckets[hash & (c->n_buckets - 1)] = e;
	lru_push_head(c, e);
	c->count++;
}

/* Copies e into out with the asker's id and makes it the most recently
 * used. Returns its length, or 0 when out is too small. */
static size_t
copy_out(struct cache *c, struct entry *e, const struct dns_question *q,
	 uint8_t *out, size_t outlen)
{
	if (e->len > outlen)
		return 0;
	lru_unlink(c, e);
	lru_push_head(c, e);
	memcpy(out, e->wire, e->len);
	message_set_id(out, e->len, q->id);
	return e->len;
}

size_t
cache_get(struct cache *c, const struct dns_question *q, uint8_t *out,
	  size_t outlen, time_t now)
{
	uint64_t hash = key_hash(c, q);
	struct entry *e = find(c, q, hash);
	size_t n;

	if (e == NULL)
		return 0;
	if (now >= e->expires) {
		if (now >= e->expires + (time_t)c->max_stale)
			remove_entry(c, e);
		return 0;
	}
	n = copy_out(c, e, q, out, outlen);
	if (n == 0 || message_age_ttls(out, n, (uint32_t)(now - e->stored)) < 0)
		return 0;
	return n;
}

size_t
cache_get_stale(struct cache *c, const struct dns_question *q, uint8_t *out,
		size_t outlen, time_t now)
{
	uint64_t hash = key_hash(c, q);
	struct entry *e = find(c, q, hash);
	size_t n;

	if (e == NULL || now < e->expires)
		return 0;
	if (now >= e->expires + (time_t)c->max_stale) {
		remove_entry(c, e);
		return 0;
	}
	n = copy_out(c, e, q, out, outlen);
	if (n == 0 || message_set_ttls(out, n, CACHE_STALE_TTL) < 0)
		return 0;
	c->stale_answers++;
	return n;
}

size_t
cache_longest_chain(const struct cache *c)
{
	size_t i, longest = 0;

	for (i = 0; i < c->n_buckets; i++) {
		size_t n = 0;

		for (const struct entry *e = c->buckets[i]; e != NULL;
		     e = e->hash_next)
			n++;
		if (n > longest)
			longest = n;
	}
	return longest;
}
