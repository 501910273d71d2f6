/* siphash.h - SipHash-2-4 (Aumasson and Bernstein), the keyed hash for
 * tables whose keys an app chooses: without the key, which is random per
 * process, an app cannot pick addresses that collide and turn a table's
 * lookups and deletions quadratic. */
#ifndef DNSGATE_SIPHASH_H
#define DNSGATE_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

struct siphash_key {
	uint64_t k0, k1;
};

/* A key from getrandom(); falls back to the clock and pid only if the
 * kernel has no entropy to give (never on a booted Linux). */
void siphash_key_random(struct siphash_key *key);

uint64_t siphash24(const struct siphash_key *key, const void *data,
		   size_t len);

#endif
