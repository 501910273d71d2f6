/* policy.h - the verdict on a name. For now: the configured block lists
 * (plain domains or hosts format); a name is blocked when it or a parent
 * domain is listed. The pipeline asks for the qname before resolving and
 * for every name of the answer's CNAME chain after. */
#ifndef DNSGATE_POLICY_H
#define DNSGATE_POLICY_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct policy;

struct policy_verdict {
	bool blocked;
	const char *list; /* the list's path, owned by the policy */
	const char *rule; /* the listed domain that matched */
};

/* Loads every blocklist of cfg. An unreadable list is an error (NULL, with
 * the reason in err); malformed lines are logged and skipped. */
struct policy *policy_new(const struct config *cfg, char *err, size_t errlen);
void policy_free(struct policy *p);

/* Fills v for name. Returns v->blocked. */
bool policy_check(const struct policy *p, const char *name,
		  struct policy_verdict *v);

/* Domains loaded from all lists. */
size_t policy_domain_count(const struct policy *p);

#endif
