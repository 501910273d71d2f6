/* matcher_before.h - the block-list matcher as it was before issue 14: a
 * hash set of the names (name_table), 48 bytes a name. Only for
 * bench/matcher_bench, to measure lookups against lists/matcher.c in the
 * same run. */
#ifndef DNSGATE_MATCHER_BEFORE_H
#define DNSGATE_MATCHER_BEFORE_H

#include <stddef.h>

struct before_matcher;

struct before_matcher *before_matcher_new(void);
void before_matcher_free(struct before_matcher *m);
/* 1 added, 0 there already, -1 with *reason for an invalid name. */
int before_matcher_add(struct before_matcher *m, const char *domain,
                       const char **reason);
/* The listed domain matching name or a parent, or NULL. */
const char *before_matcher_match(const struct before_matcher *m,
                                 const char *name);
size_t before_matcher_count(const struct before_matcher *m);

#endif
