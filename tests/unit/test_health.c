/* test_health.c - unit tests for resolver/health.c. Time is simulated:
 * every call is given "now" in milliseconds. */
#include "config.h"

#include <stdio.h>

#include "resolver/health.h"
#include "tests/unit/check.h"

#define T0 ((int64_t)1000000)

static void
test_unknown_and_samples(void)
{
	struct health h;
	int i, last;

	health_init(&h);
	CHECK_INT(h.rto, HEALTH_RTO_UNKNOWN_MS);
	CHECK_INT(h.rto, 376);
	CHECK(!h.measured);
	CHECK_INT(health_rank(&h), 376);

	/* The first sample is the mean; the RTO comes down slowly. */
	CHECK(!health_answered(&h, T0, 20));
	CHECK(h.measured);
	CHECK_INT(h.srtt, 20);
	CHECK_INT(health_rank(&h), 20);
	CHECK_INT(h.rttvar, 94 + (20 - 94) / 4);
	CHECK_INT(h.rto, 20 + 4 * h.rttvar);

	/* A steady 20 ms: the RTO falls every sample to the floor. */
	last = h.rto;
	for (i = 0; i < 40; i++) {
		health_answered(&h, T0 + i, 20);
		CHECK(h.rto <= last);
		last = h.rto;
	}
	CHECK_INT(h.srtt, 20);
	CHECK(h.rto < 100);
	for (i = 0; i < 40; i++)
		health_answered(&h, T0 + i, 0);
	CHECK_INT(h.rto, HEALTH_RTO_MIN_MS);

	/* A slower spell moves the mean by 1/8 of the difference. */
	health_init(&h);
	health_answered(&h, T0, 100);
	health_answered(&h, T0, 180);
	CHECK_INT(h.srtt, 110);
}

static void
test_backoff(void)
{
	struct health h;
	int sent;

	health_init(&h);
	sent = h.rto;
	health_backoff(&h, sent);
	CHECK_INT(h.rto, 752);
	/* Tries sent together, timing out together: one doubling. */
	health_backoff(&h, sent);
	health_backoff(&h, sent);
	CHECK_INT(h.rto, 752);
	health_backoff(&h, h.rto);
	CHECK_INT(h.rto, 1504);
	CHECK_INT(health_rank(&h), 1504); /* backed off: ranked by RTO */
	for (sent = 0; sent < 20; sent++)
		health_backoff(&h, h.rto);
	CHECK_INT(h.rto, HEALTH_RTO_MAX_MS);

	/* An answer undoes the backoff. */
	health_answered(&h, T0, 10);
	CHECK(h.rto < 376);
	CHECK_INT(health_rank(&h), 10);
}

static void
test_down_and_probes(void)
{
	struct health h;
	unsigned epoch;
	int i;

	health_init(&h);
	/* Tries sent in the same epoch fail together: they count once. */
	epoch = h.epoch;
	CHECK(!health_failed(&h, T0, epoch));
	CHECK(!health_failed(&h, T0, epoch));
	CHECK(!health_failed(&h, T0, epoch));
	CHECK_INT(h.failures_in_row, 1);
	CHECK(!h.down);
	/* One after another: down at the third. */
	CHECK(!health_failed(&h, T0 + 1, h.epoch));
	CHECK(health_failed(&h, T0 + 2, h.epoch));
	CHECK(h.down);
	CHECK_INT(h.failures_in_row, HEALTH_DOWN_AFTER);
	CHECK(!health_failed(&h, T0 + 3, h.epoch)); /* already down */

	/* The probe waits 1 s, then twice as long each time, up to 30 s. */
	CHECK(!health_probe_due(&h, T0 + 2 + 999));
	CHECK(health_probe_due(&h, T0 + 2 + 1000));
	health_probe_failed(&h, T0 + 3000);
	CHECK_INT(h.probe_wait_ms, 2000);
	CHECK(!health_probe_due(&h, T0 + 4999));
	CHECK(health_probe_due(&h, T0 + 5000));
	for (i = 0; i < 10; i++)
		health_probe_failed(&h, T0 + 10000);
	CHECK_INT(h.probe_wait_ms, HEALTH_PROBE_MAX_MS);

	/* Forgetting does not bring a down server back. */
	health_refresh(&h, T0 + 100000000, 1000);
	CHECK(h.down);

	/* An answer does, and starts the count again. */
	CHECK(health_answered(&h, T0 + 20000, 5));
	CHECK(!h.down);
	CHECK_INT(h.failures_in_row, 0);
	CHECK(!health_probe_due(&h, T0 + 100000));
	CHECK(!health_answered(&h, T0 + 20001, 5));

	/* An answer between failures: never three in a row. */
	health_init(&h);
	for (i = 0; i < 10; i++) {
		health_failed(&h, T0 + i, h.epoch);
		health_failed(&h, T0 + i, h.epoch);
		health_answered(&h, T0 + i, 5);
	}
	CHECK(!h.down);
}

static void
test_refresh(void)
{
	struct health h;

	health_init(&h);
	health_refresh(&h, T0, 1000); /* nothing learnt: nothing to forget */
	CHECK_INT(h.rto, 376);
	health_failed(&h, T0, h.epoch);
	health_backoff(&h, h.rto);
	CHECK_INT(health_rank(&h), 752);
	health_refresh(&h, T0 + 1000, 1000);
	CHECK_INT(health_rank(&h), 752); /* not yet */
	health_refresh(&h, T0 + 1001, 1000);
	CHECK_INT(health_rank(&h), HEALTH_RTO_UNKNOWN_MS);
	CHECK_INT(h.failures_in_row, 0);
	CHECK(!h.measured);
}

int
main(void)
{
	test_unknown_and_samples();
	test_backoff();
	test_down_and_probes();
	test_refresh();
	return check_exit();
}
