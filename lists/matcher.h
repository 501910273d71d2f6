/* matcher.h - a set of domain names answering "is this name listed?".
 * A name matches when it, or any of its parent domains, is in the set
 * (listing example.com blocks www.example.com). Lookups allocate nothing.
 *
 * No name is stored: only a 64-bit fingerprint of each (SipHash-2-4 under
 * a key drawn from getrandom() when the process makes its first matcher),
 * in one sorted array looked up by interpolation search: 8 bytes a name,
 * a million names in 8 MB. A name that is not listed matches only when
 * the fingerprint of one of its suffixes equals one of a listed name's:
 * with n names listed and k suffixes tried, odds of k * n / 2^64 a lookup
 * (4 suffixes against 1,000,000 names: 2.2e-13; at 1,000 lookups a second
 * for a year, 1 in 150). The key is secret and new at every start, so no
 * one can pick a name that collides, and a name that collided by chance
 * no longer does after a restart.
 *
 * Life: matcher_new, matcher_add each name (into a hash set that says
 * which were there already) or matcher_add_normalised_many many of them
 * (appended as they come, 8 bytes a name: a large list loads in no more
 * memory than it keeps), matcher_seal (the sorted array; the set is
 * freed, bulk adds are sorted in place and their duplicates dropped),
 * then lookups from any thread: a sealed matcher is never written.
 * A matcher not sealed answers lookups too, from its set, once its bulk
 * adds are packed, which the first question asked of it (a lookup,
 * matcher_count, matcher_memory) does: until sealed, a matcher belongs
 * to the one thread building it. matcher_add on a sealed one opens a set
 * again (slow: for tests and small lists). */
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
 * '-' and '_'). */
int matcher_add(struct matcher *m, const char *domain, const char **reason);

/* The validation matcher_add does, without adding: returns 0 when domain
 * would be accepted, or -1 with *reason set. Lets a parser check every
 * name of a line before adding any of them. */
int matcher_check(const char *domain, const char **reason);

/* For a parser that checks a name, looks at it, then adds it (list_hosts:
 * the public-suffix check between): matcher_check that also writes the
 * normalised name into out (MATCHER_NAME_BUFFER bytes, NUL-terminated)
 * and returns its length, or -1 with *reason; and matcher_add of a name
 * so normalised, without doing it again (1 added, 0 there already). */
#define MATCHER_NAME_BUFFER 254
int matcher_normalise(const char *domain, char *out, const char **reason);
int matcher_add_normalised(struct matcher *m, const char *name,
                           size_t length);

/* Adds n names normalised as matcher_normalise does, in bulk: appended
 * without looking whether they are there, so nothing says which were
 * new; matcher_count after tells how many the matcher holds, duplicates
 * dropped. Returns n. */
size_t matcher_add_normalised_many(struct matcher *m,
                                   const char *const *names,
                                   const size_t *lengths, size_t n);

/* Tells m that about n names will be added in bulk, so their array is
 * mapped that big at once (address space: pages unused take no memory).
 * A hint: more may come. */
void matcher_reserve(struct matcher *m, size_t n);

/* Packs what was added into the sorted array and frees the hash set.
 * Lookups are as right before and after; only memory and speed change. */
void matcher_seal(struct matcher *m);

/* Where in name the listed domain that matches starts: 0 for name itself,
 * the offset of the nearest listed parent ("www.example.com" with
 * example.com listed: 4), or -1 for no match. The listed entry is then
 * name + that offset, as name spells it (its case, its trailing dot).
 * Case-insensitive; a trailing dot on name is ignored; a name over 253
 * characters matches nothing. */
int matcher_match(const struct matcher *m, const char *name);

/* Whether name itself is listed, its parents not looked at: 0 (where the
 * match starts, as in matcher_match) or -1. For lists whose entries block
 * one name only (adblock's "|name^"), kept in a matcher of their own. */
int matcher_match_exact(const struct matcher *m, const char *name);

/* Number of distinct domains in the set. */
size_t matcher_count(const struct matcher *m);

/* Bytes of memory the set holds (the array or the hash set), for the
 * tests and a status report. */
size_t matcher_memory(const struct matcher *m);

#endif
