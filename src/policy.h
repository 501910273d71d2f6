/* policy.h - the verdict on a name. For now: the configured block lists
 * (plain domains or hosts format); a name is blocked when it or a parent
 * domain is listed. The pipeline asks for the qname before resolving and
 * for every name of the answer's CNAME chain after.
 *
 * A policy is built whole and then swapped in. On a reload each list is
 * judged alone: one that cannot be read, or whose new reading looks broken
 * (see policy_reload), keeps the copy in use, so a failed download cannot
 * turn blocking off. Copies kept, and the public-suffix list (read once,
 * at start), are shared by the old and the new policy, not copied. */
#ifndef DNSGATE_POLICY_H
#define DNSGATE_POLICY_H

#include <stdbool.h>
#include <stddef.h>

/* "A list that had many": below this many domains a list may shrink or be
 * emptied on reload at will (a hand-kept list being edited). */
#define POLICY_KEEP_MIN_DOMAINS 100

struct config;
struct policy;

struct policy_verdict {
	bool blocked;
	const char *list; /* the list's path, owned by the policy */
	const char *rule; /* the listed domain that matched */
};

/* For a status report. */
struct policy_stats {
	size_t lists;             /* block lists */
	size_t domains;           /* domains in them */
	size_t lists_kept;        /* lists on an older copy: their newest
	                             reading was refused (policy_reload) */
	size_t suffixes_refused;  /* lines refused for naming a public suffix */
	bool public_suffix_check; /* the public-suffix list is loaded */
};

/* Loads the public-suffix-list of cfg (missing or unreadable: one warning,
 * and list lines are not checked) and every blocklist. An unreadable list
 * is an error (NULL, with the reason in err); malformed lines and lines
 * naming a public suffix are logged and skipped. */
struct policy *policy_new(const struct config *cfg, char *err, size_t errlen);

/* Builds the policy that replaces old, reading every blocklist of cfg
 * again. A list keeps old's copy, with a warning naming it, the counts and
 * what to do, when it cannot be read, or when its new reading has fewer
 * domains than the copy in use and either
 *   - fewer than half of them, the copy having at least
 *     POLICY_KEEP_MIN_DOMAINS, or
 *   - more malformed or refused lines than domains, and more such lines
 *     than the copy's reading had (an error page, a list in another
 *     format).
 * Restarting dnsgated loads every list as it is. Returns NULL with err
 * only for a list that old does not have and that cannot be read. old is
 * left as it was; the caller frees it when no query uses it. */
struct policy *policy_reload(const struct policy *old, const struct config *cfg,
                             char *err, size_t errlen);

void policy_free(struct policy *p);

/* Fills v for name. Returns v->blocked. */
bool policy_check(const struct policy *p, const char *name,
                  struct policy_verdict *v);

/* Domains loaded from all lists. */
size_t policy_domain_count(const struct policy *p);

void policy_get_stats(const struct policy *p, struct policy_stats *st);

#endif
