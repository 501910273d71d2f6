/* rejections.h - the connections the gate rejected, told with their
 * app. The kernel records each rejected new connection in rejected4 or
 * rejected6 (nft_gate.h: one element per cgroup, destination, protocol
 * and port, with its packets counted, the deepest cgroup the gate has
 * rules for); every second the daemon takes them (gate_take_rejected),
 * and this module finds the cgroup's path and app key (cgroup.h,
 * app_identity.h) and, while the cgroup still has processes, a pid and
 * its exe (for at most REJECTIONS_RESOLVE_MAX cgroups a poll, a rescan
 * of the tree every REJECTIONS_RESCAN_MS at most), publishes one EVENT_REJECTED record per element on the bus
 * and logs it for a person, at most REJECTIONS_LOG_BUDGET lines per app
 * a minute (the rest are counted and said in one line). A set that was
 * full is logged once, until it is not full again. What can be known:
 * README.md, "Rejected connections". */
#ifndef DNSGATE_REJECTIONS_H
#define DNSGATE_REJECTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/cgroup.h"
#include "src/events.h"
#include "src/nft_dump.h"

#define REJECTIONS_LOG_BUDGET 10
/* Cgroups looked into (path, app key, a process in it) per poll; the
 * elements of others are told with what the cgroup cache knows, no pid
 * or exe, and logged in one line under this key's budget. */
#define REJECTIONS_RESOLVE_MAX 64
/* The cgroup tree is rescanned for ids it does not know at most once in
 * this long; meanwhile they are told as not looked into. */
#define REJECTIONS_RESCAN_MS 5000
#define REJECTIONS_MANY_CGROUPS_APP "(cgroups not looked into)"
#define REJECTIONS_WINDOW_MS 60000
/* The app key of packets that had no socket (the kernel's own, or a
 * socket already gone). */
#define REJECTIONS_UNKNOWN_APP "unknown"

struct gate;
struct geoip;
struct rejections;

/* Borrows tree and bus (bus may be NULL: log only); proc_root is "/proc"
 * outside the tests. */
struct rejections *rejections_new(struct cgroup_tree *tree, struct events *bus,
				  const char *proc_root);
void rejections_free(struct rejections *r);

/* Where destinations are looked up from now (geoip.h): held until the
 * next call or rejections_free. NULL: not looked up. */
void rejections_set_geoip(struct rejections *r, const struct geoip *g);

/* Takes what the gate recorded and tells it. Returns the number of
 * elements told, or -errno with a reason in err. */
int rejections_poll(struct rejections *r, struct gate *g, char *err,
		    size_t errlen);

/* What rejections_poll does with one element (as a poll of its own), at
 * now_ms (monotonic), and with the reader's word on whether a set was
 * full. For the tests. */
void rejections_tell(struct rejections *r, const struct nft_rejected *el,
		     uint64_t now_ms);
void rejections_set_full(struct rejections *r, bool full);

/* What rejections_poll does with one poll's n elements: sorts els by
 * cgroup, and tells each, with at most REJECTIONS_RESOLVE_MAX cgroups
 * looked into and at most one rescan of the cgroup tree (none when the
 * last was less than REJECTIONS_RESCAN_MS ago). */
void rejections_tell_batch(struct rejections *r, struct nft_rejected *els,
			   size_t n, uint64_t now_ms);

/* Cgroups looked into so far (for the tests). */
uint64_t rejections_resolved(const struct rejections *r);

/* Says the lines the budget held back in windows that are over, at now_ms. */
void rejections_flush(struct rejections *r, uint64_t now_ms);

/* Records published and lines logged so far. */
uint64_t rejections_published(const struct rejections *r);
uint64_t rejections_logged(const struct rejections *r);

#endif
