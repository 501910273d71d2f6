/* policy.c - block lists loaded into matchers, and the name verdict. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_file.h"
#include "list_hosts.h"
#include "log.h"
#include "matcher.h"
#include "policy.h"
#include "xmalloc.h"

struct blocklist {
	char *path;
	struct matcher *matcher;
};

struct policy {
	struct blocklist *lists;
	size_t n_lists;
};

struct policy *
policy_new(const struct config *cfg, char *err, size_t errlen)
{
	struct policy *p = xcalloc(1, sizeof *p);
	size_t i;

	p->lists = xcalloc(cfg->n_blocklists, sizeof *p->lists);
	for (i = 0; i < cfg->n_blocklists; i++) {
		struct blocklist *bl = &p->lists[p->n_lists];
		struct list_stats st;

		bl->path = xstrdup(cfg->blocklists[i]);
		bl->matcher = matcher_new();
		p->n_lists++;
		if (list_hosts_load(bl->matcher, bl->path, &st) < 0) {
			snprintf(err, errlen, "blocklist %s: %s", bl->path,
				 strerror(errno));
			policy_free(p);
			return NULL;
		}
		log_info("blocklist %s: %zu domains from %zu lines%s", bl->path,
			 matcher_count(bl->matcher), st.lines,
			 st.rejected ? " (malformed lines skipped, see above)"
				     : "");
	}
	return p;
}

void
policy_free(struct policy *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n_lists; i++) {
		free(p->lists[i].path);
		matcher_free(p->lists[i].matcher);
	}
	free(p->lists);
	free(p);
}

bool
policy_check(const struct policy *p, const char *name,
	     struct policy_verdict *v)
{
	size_t i;

	memset(v, 0, sizeof *v);
	for (i = 0; i < p->n_lists; i++) {
		const char *rule = matcher_match(p->lists[i].matcher, name);

		if (rule != NULL) {
			v->blocked = true;
			v->list = p->lists[i].path;
			v->rule = rule;
			return true;
		}
	}
	return false;
}

size_t
policy_domain_count(const struct policy *p)
{
	size_t i, n = 0;

	for (i = 0; i < p->n_lists; i++)
		n += matcher_count(p->lists[i].matcher);
	return n;
}
