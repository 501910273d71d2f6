/* test_grant_traffic.c - the grants' counters read on the loop: summed
 * per cgroup, sorted; a second read while one is under way refused; no
 * table is an error said to the caller, in a private network
 * namespace. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include "src/grant_traffic.h"
#include "src/nft_gate.h"
#include "tests/unit/check.h"
#include "tests/unit/nft_test.h"

static struct nft_grant
grant(uint64_t cgroup_id, uint8_t last, uint64_t packets, uint64_t bytes)
{
	struct nft_grant g;

	memset(&g, 0, sizeof g);
	g.cgroup_id = cgroup_id;
	g.addr.family = AF_INET;
	g.addr.bytes[0] = 192;
	g.addr.bytes[2] = 2;
	g.addr.bytes[3] = last;
	g.packets = packets;
	g.bytes = bytes;
	return g;
}

static void
test_sum(void)
{
	struct nft_grant g[4];
	struct grant_traffic_cgroup c[4];

	g[0] = grant(7, 3, 1, 100);
	g[1] = grant(5, 1, 2, 200);
	g[2] = grant(7, 1, 3, 300);
	g[3] = grant(5, 2, 4, 400);
	CHECK_INT((int)grant_traffic_sum(g, 4, c), 2);
	CHECK(c[0].cgroup_id == 5 && c[0].packets == 6 && c[0].bytes == 600 &&
	      c[0].grants == 2);
	CHECK(c[1].cgroup_id == 7 && c[1].packets == 4 && c[1].bytes == 400 &&
	      c[1].grants == 2);
	/* The grants end up by cgroup, then address. */
	CHECK(g[0].cgroup_id == 5 && g[0].addr.bytes[3] == 1);
	CHECK(g[1].cgroup_id == 5 && g[1].addr.bytes[3] == 2);
	CHECK(g[2].cgroup_id == 7 && g[2].addr.bytes[3] == 1);
	CHECK_INT((int)grant_traffic_sum(g, 0, c), 0);
}

struct result {
	bool done;
	int error;
	size_t n_grants, n_cgroups;
	uint64_t first_cgroup, second_cgroup;
	size_t second_grants;
	struct event_base *base;
};

static void
on_done(void *arg, const struct grant_traffic_totals *t)
{
	struct result *r = arg;

	r->done = true;
	r->error = t->error;
	r->n_grants = t->n_grants;
	r->n_cgroups = t->n_cgroups;
	if (t->n_cgroups == 2) {
		r->first_cgroup = t->cgroups[0].cgroup_id;
		r->second_cgroup = t->cgroups[1].cgroup_id;
		r->second_grants = t->cgroups[1].grants;
	}
	event_base_loopbreak(r->base);
}

/* Starts a read and runs the loop until it is done (5 s at most). */
static int
run_read(struct event_base *base, struct grant_traffic *t, struct result *r)
{
	struct timeval limit = {5, 0};
	int ret;

	memset(r, 0, sizeof *r);
	r->base = base;
	ret = grant_traffic_read(t, on_done, r);
	if (ret < 0)
		return ret;
	CHECK(grant_traffic_busy(t));
	CHECK_INT(grant_traffic_read(t, on_done, r), -EBUSY);
	event_base_loopexit(base, &limit);
	event_base_dispatch(base);
	CHECK(r->done);
	CHECK(!grant_traffic_busy(t));
	return 0;
}

static void
test_read(void)
{
	struct gate_options opts;
	struct event_base *base = event_base_new();
	struct grant_traffic *t;
	struct gate_grant grants[3];
	struct result r;
	struct gate *g;
	char err[256];
	size_t i;

	t = grant_traffic_new(base, err, sizeof err);
	CHECK(t != NULL);
	if (t == NULL)
		return;
	/* No table yet: the error reaches the caller. */
	CHECK_INT(run_read(base, t, &r), 0);
	CHECK_INT(r.error, -ENOENT);

	memset(&opts, 0, sizeof opts);
	opts.dns_port = 5453;
	opts.upstream_mark = 0x123;
	opts.set_size = 64;
	opts.max_level = 1;
	g = gate_open(&opts, err, sizeof err);
	CHECK(g != NULL);
	if (g == NULL)
		return;
	memset(grants, 0, sizeof grants);
	for (i = 0; i < 3; i++) {
		grants[i].addr.family = i < 2 ? AF_INET : AF_INET6;
		grants[i].addr.bytes[0] = i < 2 ? 192 : 0x20;
		grants[i].addr.bytes[15] = (uint8_t)(i + 1);
		grants[i].addr.bytes[3] = (uint8_t)(i + 1);
		grants[i].timeout_sec = 60;
	}
	CHECK_INT(gate_allow(g, 900, grants, 1, err, sizeof err), 0);
	CHECK_INT(gate_allow(g, 800, grants + 1, 2, err, sizeof err), 0);
	CHECK_INT(run_read(base, t, &r), 0);
	CHECK_INT(r.error, 0);
	CHECK_INT((int)r.n_grants, 3);
	CHECK_INT((int)r.n_cgroups, 2);
	CHECK(r.first_cgroup == 800 && r.second_cgroup == 900);
	CHECK_INT((int)r.second_grants, 1);
	/* Never below the interval asked for. */
	CHECK(grant_traffic_interval_ms(t, 5000) >= 5000);
	CHECK_INT(gate_close(g, true, err, sizeof err), 0);
	grant_traffic_free(t);
	event_base_free(base);
}

int
main(void)
{
	int skip;

	test_sum();
	skip = enter_test_namespace();
	if (skip != 0)
		return check_exit() != 0 ? 1 : skip;
	test_read();
	return check_exit();
}
