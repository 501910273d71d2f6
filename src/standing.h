/* standing.h - standing grants: the networks an app may reach whatever it
 * looked up (a rule "allow app X to reach 203.0.113.0/24"), written for
 * every cgroup the rules match into the gate's standing sets (nft_gate.h).
 * Owns the set of cgroup ids already looked at, so that a query from a
 * known cgroup, or a scan that finds no new one, costs a hash lookup and
 * writes nothing. Which networks a cgroup gets is the caller's match
 * function (the policy); this module finds the cgroups, merges what the
 * function gives, and keeps the kernel in step. With no standing rules at
 * all (the usual case) nothing is ever written. */
#ifndef DNSGATE_STANDING_H
#define DNSGATE_STANDING_H

#include <stddef.h>
#include <stdint.h>

#include "src/cgroup.h"
#include "src/nft_gate.h"

/* The standing grants of the cgroup at cgroup_path (relative to the
 * cgroup2 mount, as cgroup_lookup gives it) at that level: fills net and
 * timeout_sec (seconds left, 0: none) of at most max entries of out and
 * returns how many there are. When that is more than max, it is called
 * again with room for all. Networks may overlap: the widest wins. Called
 * for every cgroup on a resync, so it should be cheap for a cgroup that
 * matches nothing. */
typedef size_t standing_match_fn(void *arg, const char *cgroup_path,
                                 unsigned level, struct gate_standing *out,
                                 size_t max);

struct standing;

/* Borrows g and t, which must outlive it (or g be replaced with
 * standing_set_gate). Writes nothing yet: call standing_resync. */
struct standing *standing_new(struct gate *g, struct cgroup_tree *t,
                              standing_match_fn *fn, void *arg);
void standing_free(struct standing *s);

/* The gate was replaced (gate_open or gate_adopt: its standing sets are
 * empty): every cgroup is new again, and the next standing_resync or
 * standing_scan writes all there is. */
void standing_set_gate(struct standing *s, struct gate *g);

/* The rules changed: walks every cgroup, asks fn, and replaces what the
 * standing sets hold with that, in one batch (none at all when there was
 * and is nothing). Returns 0, or -errno with a reason in err when the
 * tree cannot be read or the gate refuses: then nothing may be granted
 * that the rules no longer give, so the sets are emptied if they can be.
 * A full set is no error: the cgroups whose grants do not fit are logged
 * (raise set-size) and the rest are written. */
int standing_resync(struct standing *s, char *err, size_t errlen);

/* Cheap: walks the tree, asks fn only about cgroups not seen before,
 * adds what it gives, and forgets cgroups that are gone (when one of
 * them had standing grants, resyncs, so the sets do not fill with the
 * grants of dead cgroups). Returns 0 or -errno with a reason in err. */
/* After a failed write (resync, notice), the next scan is a resync. */
int standing_scan(struct standing *s, char *err, size_t errlen);

/* A query came from cgroup_id (at path and level): when the cgroup is
 * new, asks fn and adds its grants now, before the answer goes out.
 * Nothing for a known cgroup. Errors are logged. */
void standing_notice(struct standing *s, uint64_t cgroup_id, const char *path,
                     unsigned level);

/* What the module holds, for status and tests. */
struct standing_stats {
	size_t cgroups_known;   /* ids looked at and not gone */
	size_t cgroups_granted; /* of those, with standing grants written */
	size_t elements;        /* written since the sets were last emptied
	                           (some may have timed out since) */
	unsigned long batches;  /* netlink batches sent, in all */
	unsigned long matches;  /* calls of fn, in all */
};

void standing_get_stats(const struct standing *s, struct standing_stats *out);

#endif
