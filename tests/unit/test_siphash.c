/* test_siphash.c - SipHash-2-4 against the reference vectors of its
 * paper (key 00..0f, message 00..len-1). */
#include "config.h"

#include <stdint.h>

#include "src/siphash.h"
#include "tests/unit/check.h"

int
main(void)
{
	struct siphash_key key = {0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};
	struct siphash_key a, b;
	uint8_t msg[64];
	int i;

	for (i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	CHECK_INT(siphash24(&key, msg, 0), (long long)0x726fdb47dd0e0e31ULL);
	CHECK_INT(siphash24(&key, msg, 1), (long long)0x74f839c593dc67fdULL);
	CHECK_INT(siphash24(&key, msg, 7), (long long)0xab0200f58b01d137ULL);
	CHECK_INT(siphash24(&key, msg, 8), (long long)0x93f5f5799a932462ULL);
	CHECK_INT(siphash24(&key, msg, 15), (long long)0xa129ca6149be45e5ULL);
	CHECK_INT(siphash24(&key, msg, 63), (long long)0x958a324ceb064572ULL);
	/* Each table gets its own key. */
	siphash_key_random(&a);
	siphash_key_random(&b);
	CHECK(a.k0 != b.k0 || a.k1 != b.k1);
	CHECK(siphash24(&a, msg, 25) != siphash24(&b, msg, 25));
	return check_exit();
}
