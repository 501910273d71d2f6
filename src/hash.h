/* hash.h - FNV-1a over strings, for the daemon's small fixed-size memos
 * (a slot per hash, a miss costs one recomputation): not for a table an
 * app could flood with colliding keys, which wants SipHash (siphash.h,
 * as the grant table does). FNV's low bits mix less well than its high
 * ones: hash_fold before taking a modulo. */
#ifndef DNSGATE_HASH_H
#define DNSGATE_HASH_H

#include <stdint.h>

#define HASH_START UINT64_C(14695981039346656037)

static inline uint64_t
hash_step(uint64_t h, unsigned char c)
{
	return (h ^ c) * UINT64_C(1099511628211);
}

static inline uint64_t
hash_string(const char *s)
{
	uint64_t h = HASH_START;

	while (*s != '\0')
		h = hash_step(h, (unsigned char)*s++);
	return h;
}

static inline uint32_t
hash_fold(uint64_t h)
{
	return (uint32_t)(h ^ (h >> 32));
}

#endif
