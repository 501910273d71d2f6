/* test_clock.c - the monotonic clock: never back, seconds and
 * milliseconds the same clock. */
#include "config.h"

#include <unistd.h>

#include "src/clock.h"
#include "tests/unit/check.h"

int
main(void)
{
	uint64_t ms = clock_ms(), s = clock_seconds(), later;

	CHECK(ms / 1000 == s || ms / 1000 + 1 == s);
	usleep(20000);
	later = clock_ms();
	CHECK(later >= ms + 20);
	CHECK(later < ms + 5000);
	CHECK(clock_seconds() >= s);
	CHECK(clock_us() / 1000 >= later);
	CHECK(clock_us() / 1000 < later + 5000);
	return check_exit();
}
