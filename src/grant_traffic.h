/* grant_traffic.h - what each grant has carried: the counters of the
 * allow sets' elements (nft_gate.h), read on the daemon's loop without
 * blocking it, and summed per cgroup, for the apps table's sweep.
 * The kernel lists a set a few hundred elements per netlink reply and
 * walks the set from its start for every reply, so a listing costs it
 * time that grows faster than the number of grants (measured on Linux
 * 6.18: 10,000 grants 22 ms, 50,000 270 ms, 100,000 1.4-1.9 s, all in
 * the kernel). The reader therefore takes one reply per turn of the
 * loop, on a netlink socket of its own, so queries are answered between
 * the slices; the whole read still takes that long, and the caller
 * spaces the reads by at least the time the last one took
 * (grant_traffic_interval_ms). */
#ifndef DNSGATE_GRANT_TRAFFIC_H
#define DNSGATE_GRANT_TRAFFIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/nft_dump.h"

struct event_base;

/* One cgroup's grants together. */
struct grant_traffic_cgroup {
	uint64_t cgroup_id;
	uint64_t packets, bytes; /* sent through its live grants */
	size_t grants;           /* how many it has */
};

/* What a read found, valid during the done call. */
struct grant_traffic_totals {
	int error;          /* 0, or -errno (-ENOENT: no table or set) */
	const char *reason; /* error: why; "" */
	/* Per cgroup, by cgroup id. */
	const struct grant_traffic_cgroup *cgroups;
	size_t n_cgroups;
	/* Per (cgroup, address): every live grant, by cgroup id. */
	const struct nft_grant *grants;
	size_t n_grants;
	uint64_t took_ms; /* from the request to the last reply */
};

typedef void grant_traffic_done_fn(void *arg,
				   const struct grant_traffic_totals *t);

struct grant_traffic;

/* Opens the reader's netlink socket (non-blocking) and its event on
 * base. Returns NULL with a reason in err. */
struct grant_traffic *grant_traffic_new(struct event_base *base, char *err,
					size_t errlen);
void grant_traffic_free(struct grant_traffic *t);

/* Starts a read of allow4 and allow6; done(arg, totals) is called once,
 * from the loop, when it is over (or failed). Returns 0, -EBUSY while a
 * read is under way, or -errno when the request cannot be sent. */
int grant_traffic_read(struct grant_traffic *t, grant_traffic_done_fn *done,
		       void *arg);

bool grant_traffic_busy(const struct grant_traffic *t);

/* How long to wait before the next read: every_ms, or longer when the
 * last read took more than a tenth of it (ten times its time), so that
 * the counters never cost the daemon more than a tenth of its time. */
uint64_t grant_traffic_interval_ms(const struct grant_traffic *t,
				   uint64_t every_ms);

/* Sorts grants by cgroup id and writes the sums per cgroup into out (at
 * least n entries). Returns the number of cgroups. For the tests too. */
size_t grant_traffic_sum(struct nft_grant *grants, size_t n,
			 struct grant_traffic_cgroup *out);

#endif
