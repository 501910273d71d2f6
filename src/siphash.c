/* siphash.c - SipHash-2-4 over a byte string, little-endian words. */
#include "config.h"

#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "src/siphash.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

#define SIPROUND                                                               \
	do {                                                                   \
		v0 += v1;                                                      \
		v1 = ROTL(v1, 13);                                             \
		v1 ^= v0;                                                      \
		v0 = ROTL(v0, 32);                                             \
		v2 += v3;                                                      \
		v3 = ROTL(v3, 16);                                             \
		v3 ^= v2;                                                      \
		v0 += v3;                                                      \
		v3 = ROTL(v3, 21);                                             \
		v3 ^= v0;                                                      \
		v2 += v1;                                                      \
		v1 = ROTL(v1, 17);                                             \
		v1 ^= v2;                                                      \
		v2 = ROTL(v2, 32);                                             \
	} while (0)

static uint64_t
load_le64(const uint8_t *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	       (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 |
	       (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
	       (uint64_t)p[7] << 56;
}

void
siphash_key_random(struct siphash_key *key)
{
	uint64_t k[2];

	if (getrandom(k, sizeof k, 0) != (ssize_t)sizeof k) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		k[0] = (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 32;
		k[1] = (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL ^ k[0];
	}
	key->k0 = k[0];
	key->k1 = k[1];
}

uint64_t
siphash24(const struct siphash_key *key, const void *data, size_t len)
{
	const uint8_t *in = data;
	uint64_t v0 = 0x736f6d6570736575ULL ^ key->k0;
	uint64_t v1 = 0x646f72616e646f6dULL ^ key->k1;
	uint64_t v2 = 0x6c7967656e657261ULL ^ key->k0;
	uint64_t v3 = 0x7465646279746573ULL ^ key->k1;
	uint64_t b = (uint64_t)len << 56, m;
	size_t i, left = len & 7;

	for (i = 0; i + 8 <= len; i += 8) {
		m = load_le64(in + i);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	switch (left) {
	case 7:
		b |= (uint64_t)in[i + 6] << 48;
		/* fall through */
	case 6:
		b |= (uint64_t)in[i + 5] << 40;
		/* fall through */
	case 5:
		b |= (uint64_t)in[i + 4] << 32;
		/* fall through */
	case 4:
		b |= (uint64_t)in[i + 3] << 24;
		/* fall through */
	case 3:
		b |= (uint64_t)in[i + 2] << 16;
		/* fall through */
	case 2:
		b |= (uint64_t)in[i + 1] << 8;
		/* fall through */
	case 1:
		b |= (uint64_t)in[i];
		break;
	case 0:
		break;
	}
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}
