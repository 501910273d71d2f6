/* matcher.h - a set of domain names answering "is this name listed?".
 * A name matches when it, or any of its parent domains, is in the set
 * (listing example.com blocks www.example.com). Lookups allocate nothing. */
#ifndef DNSGATE_MATCHER_H
#define DNSGATE_MATCHER_H

#include <stddef.h>

struct matcher;

/* The caller owns the result and frees it with matcher_free (NULL is
 * accepted there). */
struct matcher *matcher_new(void);
void matcher_free(struct matcher *m);

/* Adds a domain. It is normalised: ASCII lower case, one trailing dot
 * removed. Returns 1 when added, 0 when it was already there, -1 with
 * *reason set when it is not a valid domain name (empty label, label over
 * 63 or name over 253 characters, a character other than letters, digits,
 * '-' and '_'). The matcher keeps its own copy of the name. */
int matcher_add(struct matcher *m, const char *domain, const char **reason);

/* The validation matcher_add does, without adding: returns 0 when domain
 * would be accepted, or -1 with *reason set. Lets a parser check every
 * name of a line before adding any of them. */
int matcher_check(const char *domain, const char **reason);

/* Returns the listed domain that matches name (name itself or the nearest
 * listed parent), or NULL. Case-insensitive; a trailing dot on name is
 * ignored; a name over 253 characters matches nothing. The returned string
 * is owned by the matcher and stays valid until matcher_free. */
const char *matcher_match(const struct matcher *m, const char *name);

/* Number of distinct domains in the set. */
size_t matcher_count(const struct matcher *m);

#endif
