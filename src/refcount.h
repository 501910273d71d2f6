/* refcount.h - counts of holders shared between threads (a policy's list
 * copies, the GeoIP files, held by the policy in use and by the one a
 * reload builds in its thread). */
#ifndef DNSGATE_REFCOUNT_H
#define DNSGATE_REFCOUNT_H

#include <stdbool.h>

/* One more holder. */
static inline void
refcount_share(unsigned *refs)
{
	__atomic_add_fetch(refs, 1, __ATOMIC_RELAXED);
}

/* One holder fewer; true when it was the last (free it then). */
static inline bool
refcount_unshare(unsigned *refs)
{
	return __atomic_sub_fetch(refs, 1, __ATOMIC_ACQ_REL) == 0;
}

#endif
