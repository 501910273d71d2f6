/* grant_table.h - every (cgroup . address) grant the daemon has written
 * to the allow sets, with its expiry, mirrored in memory. The kernel's
 * sets decide the packets; this mirror is what the daemon counts with:
 * which addresses of an answer are new to the asking app (a refresh of a
 * live grant costs the app nothing), and when each grant runs out, so
 * the app's share (shares.h) is given back. Times are a monotonic clock
 * in seconds. */
#ifndef DNSGATE_GRANT_TABLE_H
#define DNSGATE_GRANT_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/addr.h"

struct grant_table;

struct grant_table *grant_table_new(void);
void grant_table_free(struct grant_table *t);

/* Whether (cgroup_id . addr) is granted and not expired at now. */
bool grant_table_has(const struct grant_table *t, uint64_t cgroup_id,
		     const struct ip_addr *addr, uint64_t now);

/* When (cgroup_id . addr) runs out, its expiry as put; 0 when it is not
 * held (or was swept). */
uint64_t grant_table_expires(const struct grant_table *t, uint64_t cgroup_id,
			     const struct ip_addr *addr);

/* Records the grant until now + timeout, made for the user uid (whose
 * share it is charged to). Returns 1 when it is new, 0 when it renewed a
 * live one (its expiry is then the new one, as in the kernel's set; the
 * user stays the first one's). */
int grant_table_put(struct grant_table *t, uint64_t cgroup_id, uint32_t uid,
		    const struct ip_addr *addr, uint64_t now,
		    uint32_t timeout);

/* Forgets the grants whose time is up, calling expired(cgroup_id, uid,
 * arg) for each. Cheap when nothing is due: the table knows its earliest
 * expiry, and sweeps at most once a second. */
void grant_table_expire(struct grant_table *t, uint64_t now,
			void (*expired)(uint64_t cgroup_id, uint32_t uid,
					void *arg),
			void *arg);

/* Forgets every grant (the sets were emptied). */
void grant_table_clear(struct grant_table *t);

/* Grants held, expired ones not yet swept included. */
size_t grant_table_count(const struct grant_table *t);

#endif
