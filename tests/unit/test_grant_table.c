/* test_grant_table.c - the in-memory mirror of the allow sets. */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "src/grant_table.h"
#include "tests/unit/check.h"

static int n_expired;
static uint64_t last_expired;
static uint32_t last_uid;

static void
on_expired(uint64_t cgroup_id, uint32_t uid, void *arg)
{
	n_expired++;
	last_expired = cgroup_id;
	last_uid = uid;
}

static struct ip_addr
v4(uint32_t host_order)
{
	struct ip_addr a;
	uint32_t n = htonl(host_order);

	memset(&a, 0, sizeof a);
	a.family = AF_INET;
	memcpy(a.bytes, &n, 4);
	return a;
}

static void
test_put_has_expire(void)
{
	struct grant_table *t = grant_table_new();
	struct ip_addr a = v4(0xc6336401), b = v4(0xc6336402), c6;

	memset(&c6, 0, sizeof c6);
	c6.family = AF_INET6;
	memcpy(c6.bytes, a.bytes, 4); /* same leading bytes, other family */
	CHECK_INT(grant_table_put(t, 10, 1000, &a, 100, 30), 1);
	CHECK_INT(grant_table_put(t, 10, 1000, &a, 105, 30), 0); /* renewal */
	CHECK_INT(grant_table_put(t, 11, 1000, &a, 100, 30), 1); /* other app */
	CHECK_INT(grant_table_put(t, 10, 1000, &c6, 100, 60), 1);
	CHECK_INT(grant_table_put(t, 10, 1001, &b, 100, 10), 1);
	CHECK_INT(grant_table_count(t), 4);
	CHECK(grant_table_has(t, 10, &a, 134));
	CHECK(!grant_table_has(t, 10, &a, 135)); /* renewed to 135 */
	CHECK(!grant_table_has(t, 12, &a, 100));
	/* Nothing due before 110: no sweep, nothing expired. */
	n_expired = 0;
	grant_table_expire(t, 109, on_expired, NULL);
	CHECK_INT(n_expired, 0);
	grant_table_expire(t, 110, on_expired, NULL);
	CHECK_INT(n_expired, 1);
	CHECK_INT(last_expired, 10);
	CHECK_INT(last_uid, 1001); /* b's, told back with its grant */
	CHECK_INT(grant_table_count(t), 3);
	grant_table_expire(t, 135, on_expired, NULL);
	CHECK_INT(n_expired, 3); /* a for 10 (renewed to 135) and for 11 */
	CHECK(grant_table_has(t, 10, &c6, 135));
	grant_table_clear(t);
	CHECK_INT(grant_table_count(t), 0);
	CHECK(!grant_table_has(t, 10, &c6, 135));
	grant_table_free(t);
}

/* Many entries with mixed expiries: growth and the backward-shift
 * deletion keep every live entry findable. */
static void
test_many(void)
{
	struct grant_table *t = grant_table_new();
	uint32_t i;
	int missing = 0, stale = 0;

	for (i = 0; i < 50000; i++) {
		struct ip_addr a = v4(0xc0000200 + i);

		grant_table_put(t, i % 7, 1000, &a, 0, 1 + i % 2 * 100);
	}
	CHECK_INT(grant_table_count(t), 50000);
	n_expired = 0;
	grant_table_expire(t, 2, on_expired, NULL);
	CHECK_INT(n_expired, 25000);
	for (i = 0; i < 50000; i++) {
		struct ip_addr a = v4(0xc0000200 + i);
		bool has = grant_table_has(t, i % 7, &a, 2);

		if (i % 2 == 1 && !has)
			missing++;
		if (i % 2 == 0 && has)
			stale++;
	}
	CHECK_INT(missing, 0);
	CHECK_INT(stale, 0);
	CHECK_INT(grant_table_count(t), 25000);
	grant_table_free(t);
}

int
main(void)
{
	test_put_has_expire();
	test_many();
	return check_exit();
}
