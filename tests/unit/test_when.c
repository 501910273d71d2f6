/* test_when.c - the times of dnsgatectl log --since/--until, read at a
 * fixed "now" (Tuesday 2026-12-01 15:00 in Central European time) and
 * TZ, across a daylight-saving change too. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "src/when.h"
#include "tests/unit/check.h"

#define NOW 1796133600000LL /* 2026-12-01 15:00:00 +01:00, a Tuesday */

static long long
at(const char *text)
{
	char err[256];
	int64_t out = -1;

	if (when_parse(text, NOW, &out, err, sizeof err) < 0) {
		fprintf(stderr, "'%s': %s\n", text, err);
		return -1;
	}
	return out;
}

/* The reason a text is refused, or "" when it was read. */
static const char *
refusal(const char *text)
{
	static char err[256];
	int64_t out;

	if (when_parse(text, NOW, &out, err, sizeof err) == 0)
		return "";
	return err;
}

int
main(void)
{
	/* No tzdata needed: a POSIX TZ with its rules. */
	setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
	tzset();

	CHECK_INT(at("now"), NOW);
	CHECK_INT(at("today"), 1796079600000LL);
	CHECK_INT(at("Today"), 1796079600000LL);
	CHECK_INT(at("yesterday"), 1795993200000LL);
	/* A weekday is its latest start, today included; "last" is
	 * before today. */
	CHECK_INT(at("tuesday"), 1796079600000LL);
	CHECK_INT(at("last tuesday"), 1795474800000LL);
	CHECK_INT(at("last Tue"), 1795474800000LL);
	CHECK_INT(at("friday"), 1795734000000LL);
	CHECK_INT(at("last friday"), 1795734000000LL);
	CHECK_INT(at("monday"), 1795993200000LL);
	CHECK_INT(at("last wednesday"), 1795561200000LL);
	CHECK_INT(at("3 hours ago"), NOW - 3 * 3600000LL);
	CHECK_INT(at("1 day ago"), NOW - 86400000LL);
	CHECK_INT(at("2 weeks ago"), NOW - 14 * 86400000LL);
	CHECK_INT(at("90 minutes ago"), NOW - 90 * 60000LL);
	CHECK_INT(at("2h"), NOW - 7200000LL);
	CHECK_INT(at("-2h"), NOW - 7200000LL);
	CHECK_INT(at("30m"), NOW - 1800000LL);
	CHECK_INT(at("3d"), NOW - 3 * 86400000LL);
	CHECK_INT(at("2026-12-01"), 1796079600000LL);
	CHECK_INT(at("2026-12-01 09:30"), 1796113800000LL);
	CHECK_INT(at("2026-12-01T09:30"), 1796113800000LL);
	CHECK_INT(at("09:30"), 1796113800000LL);
	/* Summer time: +02:00. */
	CHECK_INT(at("2026-07-01 12:00:05"), 1782900005000LL);
	CHECK_INT(at("@1796133600"), 1796133600000LL);
	CHECK_INT(at("  now  "), NOW);

	/* Each error names the word it could not read. */
	CHECK(strstr(refusal("last funday"), "'funday'") != NULL);
	CHECK(strstr(refusal("3 fortnights ago"), "'fortnights'") != NULL);
	CHECK(strstr(refusal("three hours ago"), "'three'") != NULL);
	CHECK(strstr(refusal("bogus"), "'bogus'") != NULL);
	CHECK(strstr(refusal("2026-02-31"), "'2026-02-31'") != NULL);
	CHECK(strstr(refusal("2026-12-01 25:00"), "2026-12-01 25:00") != NULL);
	CHECK(strstr(refusal("24:00"), "'24:00'") != NULL);
	CHECK(strstr(refusal("@12x"), "'@12x'") != NULL);
	CHECK(strstr(refusal("3 hours hence"), "'hence'") != NULL);
	/* A span whose product overflows, or reaches before 1970, is
	 * refused with its reason, not read as some far year. */
	CHECK(strstr(refusal("999999999999 weeks ago"), "before 1970") != NULL);
	CHECK(strstr(refusal("999999999999w"), "before 1970") != NULL);
	CHECK(strstr(refusal("-999999999999w"), "before 1970") != NULL);
	CHECK(strstr(refusal("3000 weeks ago"), "before 1970") != NULL);
	CHECK(strstr(refusal("30000d"), "before 1970") != NULL);
	CHECK_INT(at("2900 weeks ago"), NOW - 2900 * 604800000LL);
	CHECK_INT(at("1700000000s"), NOW - 1700000000000LL);
	CHECK(refusal("")[0] != '\0');
	CHECK(refusal("a b c d e")[0] != '\0');
	return check_exit();
}
