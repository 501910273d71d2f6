/* policy.c - block lists loaded into matchers, and the name verdict. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lists/list_hosts.h"
#include "lists/matcher.h"
#include "lists/public_suffix.h"
#include "src/config_file.h"
#include "src/log.h"
#include "src/policy.h"
#include "src/xmalloc.h"

/* One reading of one list; a copy kept on reload is shared by the old and
 * the new policy, so it is counted. */
struct list_copy {
	unsigned refs;
	struct matcher *matcher;
	struct list_stats stats;
	time_t loaded_at;
};

struct blocklist {
	char *path;
	struct list_copy *copy;
	bool kept; /* copy is older than the newest reading, refused */
};

/* Read once at start and shared by every policy after it. */
struct shared_suffixes {
	unsigned refs;
	struct public_suffix *list;
};

struct policy {
	struct blocklist *lists;
	size_t n_lists;
	struct shared_suffixes *suffixes; /* NULL: lines are not checked */
};

static void
copy_release(struct list_copy *c)
{
	if (c == NULL || --c->refs > 0)
		return;
	matcher_free(c->matcher);
	free(c);
}

static struct list_copy *
copy_load(const char *path, const struct policy *p)
{
	struct list_copy *c = xcalloc(1, sizeof *c);
	int saved_errno;

	c->refs = 1;
	c->matcher = matcher_new();
	c->loaded_at = time(NULL);
	if (list_hosts_load(c->matcher, p->suffixes ? p->suffixes->list : NULL,
	                    path, &c->stats) < 0) {
		saved_errno = errno;
		copy_release(c);
		errno = saved_errno;
		return NULL;
	}
	return c;
}

/* "; 3 malformed lines skipped, 1 public suffix refused (see above)" and
 * the like, for the line that reports a list. */
static const char *
describe_unused(const struct list_stats *st, char *buf, size_t len)
{
	int n = 0;

	buf[0] = '\0';
	if (st->rejected > 0)
		n = snprintf(buf, len, "; %zu malformed line%s skipped",
		             st->rejected, st->rejected == 1 ? "" : "s");
	if (st->suffixes > 0 && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n,
		              "; %zu line%s refused for naming a public suffix",
		              st->suffixes, st->suffixes == 1 ? "" : "s");
	if ((st->rejected > 0 || st->suffixes > 0) && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, " (see above)");
	if (st->wanted > 0 && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n,
		         "; %zu public suffix%s blocked whole, as %s line%s "
		         "say%s '# %s'",
		         st->wanted, st->wanted == 1 ? "" : "es",
		         st->wanted == 1 ? "its" : "their",
		         st->wanted == 1 ? "" : "s", st->wanted == 1 ? "s" : "",
		         LIST_PUBLIC_SUFFIX_WORD);
	return buf;
}

static void
load_suffixes(struct policy *p, const struct config *cfg)
{
	struct public_suffix *list;
	char err[512];

	if (cfg->public_suffix_list == NULL) {
		log_info("public-suffix-list none: block list lines are not "
		         "checked for public suffixes such as 'com'");
		return;
	}
	list = public_suffix_load(cfg->public_suffix_list, err, sizeof err);
	if (list == NULL) {
		log_warn(
		    "public-suffix-list %s: the public-suffix check is off, "
		    "so a block list line such as 'com' would block every "
		    "site under it (install Debian's publicsuffix package, "
		    "or set 'public-suffix-list none' to say so)",
		    err);
		return;
	}
	p->suffixes = xcalloc(1, sizeof *p->suffixes);
	p->suffixes->refs = 1;
	p->suffixes->list = list;
	log_info("public-suffix-list %s: %zu suffixes; block list lines "
	         "naming one are refused",
	         cfg->public_suffix_list, public_suffix_count(list));
}

/* Reads a list for the first time (at start, or new in the config on a
 * reload) into bl. Returns 0, or -1 with err set. */
static int
load_list(struct policy *p, struct blocklist *bl, char *err, size_t errlen)
{
	char notes[256];

	bl->copy = copy_load(bl->path, p);
	if (bl->copy == NULL) {
		snprintf(err, errlen, "blocklist %s: %s", bl->path,
		         strerror(errno));
		return -1;
	}
	log_info("blocklist %s: %zu domains from %zu lines%s", bl->path,
	         matcher_count(bl->copy->matcher), bl->copy->stats.lines,
	         describe_unused(&bl->copy->stats, notes, sizeof notes));
	return 0;
}

struct policy *
policy_new(const struct config *cfg, char *err, size_t errlen)
{
	struct policy *p = xcalloc(1, sizeof *p);
	size_t i;

	load_suffixes(p, cfg);
	p->lists = xcalloc(cfg->n_blocklists, sizeof *p->lists);
	for (i = 0; i < cfg->n_blocklists; i++) {
		struct blocklist *bl = &p->lists[p->n_lists];

		bl->path = xstrdup(cfg->blocklists[i]);
		p->n_lists++;
		if (load_list(p, bl, err, errlen) < 0) {
			policy_free(p);
			return NULL;
		}
	}
	return p;
}

static const struct blocklist *
find_list(const struct policy *p, const char *path)
{
	size_t i;

	for (i = 0; i < p->n_lists; i++)
		if (strcmp(p->lists[i].path, path) == 0)
			return &p->lists[i];
	return NULL;
}

static const char *
format_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "at start");
	return buf;
}

/* Why a new reading of a list looks broken next to the copy in use, or
 * NULL when it does not; see policy.h. */
static const char *
looks_broken(const struct list_copy *in_use, const struct list_copy *fresh)
{
	size_t old_count = matcher_count(in_use->matcher);
	size_t new_count = matcher_count(fresh->matcher);
	size_t old_unused = in_use->stats.rejected + in_use->stats.suffixes;
	size_t new_unused = fresh->stats.rejected + fresh->stats.suffixes;

	if (new_count >= old_count)
		return NULL;
	if (old_count >= POLICY_KEEP_MIN_DOMAINS && new_count * 2 < old_count)
		return "fewer than half";
	if (new_unused > new_count && new_unused > old_unused)
		return "more malformed or refused lines than domains";
	return NULL;
}

/* Reads one list again into bl, or keeps the copy in use (with a warning
 * that says what to do). */
static void
reload_list(struct policy *p, struct blocklist *bl, const struct blocklist *old)
{
	struct list_copy *fresh = copy_load(bl->path, p);
	int read_errno = errno;
	size_t in_use = matcher_count(old->copy->matcher);
	const char *why;
	char when[32], notes[256];

	format_time(old->copy->loaded_at, when, sizeof when);
	if (fresh == NULL) {
		log_warn("blocklist %s: cannot read it on reload (%s): keeping "
		         "the copy in use (%zu domains, read %s); restore the "
		         "file and send SIGHUP again",
		         bl->path, strerror(read_errno), in_use, when);
	} else if ((why = looks_broken(old->copy, fresh)) != NULL) {
		log_warn("blocklist %s: the reload found %zu domains where the "
		         "copy in use has %zu (%s; %zu malformed or refused "
		         "lines): keeping the copy in use (read %s). If the "
		         "file is broken (a failed download?), fix it and send "
		         "SIGHUP again; if the shorter list is meant, restart "
		         "dnsgated to load it as it is",
		         bl->path, matcher_count(fresh->matcher), in_use, why,
		         fresh->stats.rejected + fresh->stats.suffixes, when);
		copy_release(fresh);
		fresh = NULL;
	}
	if (fresh == NULL) {
		bl->copy = old->copy;
		bl->copy->refs++;
		bl->kept = true;
		return;
	}
	bl->copy = fresh;
	log_info("blocklist %s: %zu domains from %zu lines (were %zu)%s",
	         bl->path, matcher_count(fresh->matcher), fresh->stats.lines,
	         in_use, describe_unused(&fresh->stats, notes, sizeof notes));
}

struct policy *
policy_reload(const struct policy *old, const struct config *cfg, char *err,
              size_t errlen)
{
	struct policy *p = xcalloc(1, sizeof *p);
	size_t i;

	p->suffixes = old->suffixes;
	if (p->suffixes != NULL)
		p->suffixes->refs++;
	p->lists = xcalloc(cfg->n_blocklists, sizeof *p->lists);
	for (i = 0; i < cfg->n_blocklists; i++) {
		struct blocklist *bl = &p->lists[p->n_lists];
		const struct blocklist *before =
		    find_list(old, cfg->blocklists[i]);

		bl->path = xstrdup(cfg->blocklists[i]);
		p->n_lists++;
		if (before != NULL) {
			reload_list(p, bl, before);
			continue;
		}
		/* New in the config: nothing to keep, as at start. */
		if (load_list(p, bl, err, errlen) < 0) {
			policy_free(p);
			return NULL;
		}
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
		copy_release(p->lists[i].copy);
	}
	free(p->lists);
	if (p->suffixes != NULL && --p->suffixes->refs == 0) {
		public_suffix_free(p->suffixes->list);
		free(p->suffixes);
	}
	free(p);
}

bool
policy_check(const struct policy *p, const char *name, struct policy_verdict *v)
{
	size_t i;

	memset(v, 0, sizeof *v);
	for (i = 0; i < p->n_lists; i++) {
		const char *rule =
		    matcher_match(p->lists[i].copy->matcher, name);

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
		n += matcher_count(p->lists[i].copy->matcher);
	return n;
}

void
policy_get_stats(const struct policy *p, struct policy_stats *st)
{
	size_t i;

	memset(st, 0, sizeof *st);
	st->lists = p->n_lists;
	st->domains = policy_domain_count(p);
	st->public_suffix_check = p->suffixes != NULL;
	for (i = 0; i < p->n_lists; i++) {
		st->lists_kept += p->lists[i].kept;
		st->suffixes_refused += p->lists[i].copy->stats.suffixes;
	}
}
