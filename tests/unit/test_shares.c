/* test_shares.c - per-app limits and log budgets. */
#include "config.h"

#include <stdint.h>

#include "src/shares.h"
#include "tests/unit/check.h"

static uint32_t reported_total;
static uint64_t reported_app;

static void
on_report(uint64_t app, uint32_t n, void *arg)
{
	reported_app = app;
	reported_total += n;
}

static void
test_limits(void)
{
	uint32_t limits[SHARE_KINDS] = {3, 2, 0};
	uint32_t user[SHARE_KINDS] = {5, 0, 0};
	struct shares *s = shares_new(limits, user);

	CHECK_INT(shares_take(s, 7, SHARE_GRANTS, 2), 0);
	CHECK_INT(shares_take(s, 7, SHARE_GRANTS, 2), -1); /* 4 > 3 */
	CHECK_INT(shares_held(s, 7, SHARE_GRANTS), 2);     /* nothing taken */
	CHECK_INT(shares_take(s, 7, SHARE_GRANTS, 1), 0);
	CHECK_INT(shares_take(s, 7, SHARE_GRANTS, 1), -1);
	/* Another app is not affected by the first one's share. */
	CHECK_INT(shares_take(s, 8, SHARE_GRANTS, 3), 0);
	/* Nor another kind. */
	CHECK_INT(shares_take(s, 7, SHARE_PENDING, 2), 0);
	CHECK_INT(shares_take(s, 7, SHARE_PENDING, 1), -1);
	/* A limit of 0 is none. */
	CHECK_INT(shares_take(s, 7, SHARE_TCP, 1000000), 0);
	shares_give_back(s, 7, SHARE_GRANTS, 2);
	CHECK_INT(shares_held(s, 7, SHARE_GRANTS), 1);
	CHECK_INT(shares_take(s, 7, SHARE_GRANTS, 2), 0);
	shares_give_back(s, 7, SHARE_GRANTS, 100); /* never below 0 */
	CHECK_INT(shares_held(s, 7, SHARE_GRANTS), 0);
	shares_give_back(s, 99, SHARE_GRANTS, 1); /* unknown app: no-op */
	CHECK_INT(shares_held(s, 99, SHARE_GRANTS), 0);
	/* add ignores the limit (the caller checked). */
	shares_add(s, 8, SHARE_GRANTS, 5);
	CHECK_INT(shares_held(s, 8, SHARE_GRANTS), 8);
	shares_clear_kind(s, SHARE_GRANTS);
	CHECK_INT(shares_held(s, 8, SHARE_GRANTS), 0);
	CHECK_INT(shares_held(s, 7, SHARE_PENDING), 2);
	CHECK_INT(shares_limit(s, 7, SHARE_PENDING), 2);
	/* A user's key has the user's limits, apart from its apps'. */
	CHECK_INT(shares_limit(s, shares_user_key(1000), SHARE_GRANTS), 5);
	CHECK_INT(shares_take(s, shares_user_key(1000), SHARE_GRANTS, 5), 0);
	CHECK_INT(shares_take(s, shares_user_key(1000), SHARE_GRANTS, 1), -1);
	CHECK_INT(shares_take(s, shares_user_key(1001), SHARE_GRANTS, 1), 0);
	CHECK_INT(shares_held(s, 1000, SHARE_GRANTS), 0); /* not the app 1000 */
	CHECK_INT(shares_take(s, shares_user_key(1000), SHARE_PENDING, 99), 0);
	CHECK(shares_user_key(0) != 0);
	shares_free(s);
}

static void
test_many_apps(void)
{
	uint32_t limits[SHARE_KINDS] = {1, 1, 1};
	struct shares *s = shares_new(limits, limits);
	uint64_t app;
	int bad = 0;

	/* Growth keeps every entry reachable. */
	for (app = 0; app < 5000; app++)
		CHECK_INT(shares_take(s, app * 4096, SHARE_TCP, 1), 0);
	for (app = 0; app < 5000; app++) {
		if (shares_held(s, app * 4096, SHARE_TCP) != 1 ||
		    shares_take(s, app * 4096, SHARE_TCP, 1) != -1)
			bad++;
	}
	CHECK_INT(bad, 0);
	CHECK_INT(shares_app_count(s), 5000);
	for (app = 0; app < 5000; app++)
		shares_give_back(s, app * 4096, SHARE_TCP, 1);
	/* Idle apps are forgotten by the sweep. */
	shares_report_suppressed(s, 0, on_report, NULL);
	CHECK_INT(shares_app_count(s), 0);
	shares_free(s);
}

static void
test_log_budget(void)
{
	uint32_t limits[SHARE_KINDS] = {0, 0, 0};
	struct shares *s = shares_new(limits, limits);
	uint32_t suppressed = 99;
	int i, allowed = 0;

	for (i = 0; i < 100; i++) {
		if (shares_may_log(s, 5, 1000, &suppressed))
			allowed++;
	}
	CHECK_INT(allowed, SHARES_LOG_BURST);
	/* Another app has its own budget. */
	CHECK(shares_may_log(s, 6, 1000, &suppressed));
	CHECK_INT(suppressed, 0);
	/* One interval later, one more line, carrying the count denied. */
	CHECK(!shares_may_log(s, 5, 1000 + SHARES_LOG_INTERVAL_MS - 1,
			      &suppressed));
	CHECK(shares_may_log(s, 5, 1000 + SHARES_LOG_INTERVAL_MS,
			     &suppressed));
	CHECK_INT(suppressed, 100 - SHARES_LOG_BURST + 1);
	CHECK(!shares_may_log(s, 5, 1000 + SHARES_LOG_INTERVAL_MS,
			      &suppressed));
	/* The sweep reports what a quiet app was denied, once. */
	reported_total = 0;
	shares_report_suppressed(s, 3000, on_report, NULL);
	CHECK_INT(reported_total, 1);
	CHECK_INT(reported_app, 5);
	reported_total = 0;
	shares_report_suppressed(s, 3000, on_report, NULL);
	CHECK_INT(reported_total, 0);
	/* A flooding app's entry is kept until its budget is full again,
	 * so forgetting it does not hand it a fresh burst. */
	CHECK(shares_app_count(s) >= 1);
	shares_report_suppressed(s, 1000000, on_report, NULL);
	CHECK_INT(shares_app_count(s), 0);
	shares_free(s);
}

int
main(void)
{
	test_limits();
	test_many_apps();
	test_log_budget();
	return check_exit();
}
