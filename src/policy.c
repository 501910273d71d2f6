/* policy.c - the lists loaded into matchers, the rules read into a book
 * and indexed, and the decisions asked of them. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "geoip/geoip.h"
#include "lists/list_filter.h"
#include "lists/list_hosts.h"
#include "lists/public_suffix.h"
#include "src/app_identity.h"
#include "src/config_file.h"
#include "src/list_cache.h"
#include "src/log.h"
#include "src/policy.h"
#include "src/refcount.h"
#include "src/rules.h"
#include "src/rules_file.h"
#include "src/rules_store.h"
#include "src/xmalloc.h"

/* One reading of one list; a copy kept on reload is shared by the old and
 * the new policy, so it is counted. */
struct list_copy {
	unsigned refs;
	struct list_filter *filter;
	time_t loaded_at;
};

struct blocklist {
	char *name;
	char *path;
	enum list_format format; /* as configured (auto: guessed per read) */
	bool every_app;
	unsigned line;
	bool answer_set; /* answer=: what a name it blocks gets */
	enum message_block_mode answer;
	struct list_copy *copy;
	bool kept; /* copy is older than the newest reading, refused */
	char *url; /* a subscription, read from its cached copy (path) */
	uint32_t max_shrink; /* a subscription's max-shrink=, percent */
	enum policy_pending pending; /* what this build did with its copy
					pending */
	char pending_reason[1536];
	struct list_cache_meta judged; /* the record of that copy; url ""
	                                  when it was unreadable */
};

/* Read once at start and shared by every policy after it. */
struct shared_suffixes {
	unsigned refs;
	struct public_suffix *list;
};

struct policy {
	unsigned refs;
	struct blocklist *lists;
	size_t n_lists;
	struct shared_suffixes *suffixes; /* NULL: lines are not checked */
	struct rule_book book;  /* the lists' rules, then the files' */
	const struct list_filter **filters; /* per list, for the engine */
	struct rules *rules;
	size_t file_rules;      /* rules read from rules files */
	size_t rule_files;      /* files they came from */
	struct geoip *geoip;    /* never NULL; shared across reloads */
};

/* Copies and the suffixes are shared between a policy the loop uses and
 * the next one, built in a thread (src/reloader.c): their counts are
 * atomic. The policies' own counts are the loop's alone. */
static void
copy_release(struct list_copy *c)
{
	if (c == NULL || !refcount_unshare(&c->refs))
		return;
	list_filter_free(c->filter);
	free(c);
}

/* Reads bl from path (its own, or its copy pending). */
static struct list_copy *
copy_load_from(const struct blocklist *bl, const char *path,
	       const struct policy *p)
{
	struct list_copy *c = xcalloc(1, sizeof *c);
	int saved_errno;

	c->refs = 1;
	c->filter = list_filter_new();
	c->loaded_at = time(NULL);
	if (list_filter_load(c->filter, path, bl->format,
			     p->suffixes ? p->suffixes->list : NULL) < 0) {
		saved_errno = errno;
		copy_release(c);
		errno = saved_errno;
		return NULL;
	}
	list_filter_seal(c->filter);
	return c;
}

static struct list_copy *
copy_load(const struct blocklist *bl, const struct policy *p)
{
	return copy_load_from(bl, bl->path, p);
}

/* "; 3 malformed lines skipped; 1 line refused for naming a public
 * suffix; 20000 cosmetic (see above)" and the like, for the line that
 * reports a list. */
static const char *
describe_unused(const struct list_filter *f, char *buf, size_t len)
{
	const struct list_filter_stats *st = list_filter_stats(f);
	size_t rejected = st->skipped[LIST_SKIP_MALFORMED];
	size_t suffixes = st->skipped[LIST_SKIP_PUBLIC_SUFFIX];
	int n, i;

	buf[0] = '\0';
	n = 0;
	if (rejected > 0)
		n += snprintf(buf + n, len - (size_t)n,
			      "; %zu malformed line%s skipped", rejected,
			      rejected == 1 ? "" : "s");
	if (suffixes > 0 && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n,
		              "; %zu line%s refused for naming a public suffix",
		              suffixes, suffixes == 1 ? "" : "s");
	for (i = LIST_SKIP_COSMETIC; i < LIST_SKIP_KINDS; i++)
		if (st->skipped[i] > 0 && n >= 0 && (size_t)n < len)
			n += snprintf(buf + n, len - (size_t)n, "; %zu %s",
				      st->skipped[i],
				      list_skip_name((enum list_skip)i));
	if (list_filter_errors(st) > 0 && n >= 0 && (size_t)n < len)
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
	char notes[512];

	bl->copy = copy_load(bl, p);
	if (bl->copy == NULL && bl->url != NULL && errno == ENOENT) {
		/* Never wait for the network: serve without it meanwhile. */
		log_warn("list %s: no copy of %s in the cache yet (%s): "
		         "serving without it until it is downloaded (see "
		         "'dnsgatectl lists')",
		         bl->name, bl->url, bl->path);
		bl->copy = xcalloc(1, sizeof *bl->copy);
		bl->copy->refs = 1;
		bl->copy->filter = list_filter_new();
		list_filter_seal(bl->copy->filter);
		return 0;
	}
	if (bl->copy == NULL) {
		snprintf(err, errlen, "blocklist %s: %s", bl->path,
		         strerror(errno));
		return -1;
	}
	log_info("blocklist %s (%s): %zu entries from %zu lines%s", bl->path,
		 list_format_name(list_filter_format(bl->copy->filter)),
	         list_filter_count(bl->copy->filter),
		 list_filter_stats(bl->copy->filter)->lines,
	         describe_unused(bl->copy->filter, notes, sizeof notes));
	return 0;
}

static void
set_list(struct blocklist *bl, const struct config_list *l)
{
	bl->name = xstrdup(l->name);
	bl->path = xstrdup(l->path);
	bl->format = l->format;
	bl->every_app = l->every_app;
	bl->line = l->line;
	bl->answer_set = l->answer_set;
	bl->answer = l->answer;
	bl->url = l->url != NULL ? xstrdup(l->url) : NULL;
	bl->max_shrink = l->max_shrink;
}

static long
find_list_named(void *arg, const char *name)
{
	const struct policy *p = arg;
	size_t i;

	for (i = 0; i < p->n_lists; i++)
		if (strcmp(p->lists[i].name, name) == 0)
			return (long)i;
	return -1;
}

/* Whether the book read the file whose status is st. */
static bool
book_has_file(const struct rule_book *b, const struct stat *st)
{
	struct stat other;
	size_t i;

	for (i = 0; i < b->n_files; i++)
		if (stat(b->files[i], &other) == 0 &&
		    other.st_dev == st->st_dev && other.st_ino == st->st_ino)
			return true;
	return false;
}

/* The rules dnsgatectl added (rules_store.h) count whatever the config's
 * rules say: read after the others when no directory of them holds the
 * file. */
static int
load_owned_file(struct policy *p, const struct config *cfg,
		const struct rules_file_ctx *ctx, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct stat st;
	long n;

	rules_store_path(cfg, path, sizeof path);
	if (stat(path, &st) < 0 || book_has_file(&p->book, &st))
		return 0;
	n = rules_file_load(&p->book, path, ctx, err, errlen);
	if (n < 0)
		return -1;
	p->file_rules += (size_t)n;
	p->rule_files++;
	log_info("rules %s: %ld rule%s", path, n, n == 1 ? "" : "s");
	return 0;
}

/* The book: a rule "block list=NAME" for each list every app gets (its
 * origin the config's line), then every rules file; and its index. */
static int
build_rules(struct policy *p, const struct config *cfg, char *err,
	    size_t errlen)
{
	struct rules_file_ctx ctx = {find_list_named, p, 0};
	struct stat st;
	size_t i;

	rule_book_init(&p->book);
	for (i = 0; i < p->n_lists; i++) {
		struct rule r;

		if (!p->lists[i].every_app)
			continue;
		memset(&r, 0, sizeof r);
		r.action = RULE_BLOCK;
		r.app = RULE_APP_ANY;
		r.dest = RULE_DEST_LIST;
		r.dest_value = p->lists[i].name;
		r.list = i;
		{
			const char *conf = cfg->path ? cfg->path
						     : "dnsgate.conf";
			char text[600];
			int tl = snprintf(text, sizeof text, "blocklist %s",
					  p->lists[i].name);

			r.id = rule_id_of(conf, text,
					  tl > 0 && (size_t)tl < sizeof text
					      ? (size_t)tl
					      : strlen(text),
					  0);
			rule_book_add(&p->book, &r, conf)->line =
			    p->lists[i].line;
		}
	}
	for (i = 0; i < cfg->n_rules; i++) {
		size_t files_before = p->book.n_files;
		long n;

		/* The default directory counts only when it is there. */
		if (!cfg->rules_set && stat(cfg->rules[i], &st) < 0)
			continue;
		n = rules_file_load(&p->book, cfg->rules[i], &ctx, err,
				    errlen);
		if (n < 0)
			return -1;
		p->file_rules += (size_t)n;
		p->rule_files += p->book.n_files - files_before;
		log_info("rules %s: %ld rule%s", cfg->rules[i], n,
			 n == 1 ? "" : "s");
	}
	if (load_owned_file(p, cfg, &ctx, err, errlen) < 0)
		return -1;
	p->filters = xcalloc(p->n_lists ? p->n_lists : 1, sizeof *p->filters);
	for (i = 0; i < p->n_lists; i++)
		p->filters[i] = p->lists[i].copy->filter;
	p->rules = rules_new(&p->book, p->filters, p->n_lists);
	return 0;
}

/* The geoip-* files of cfg, sharing from previous what did not change;
 * a file that cannot be used is one warning, and the rest works. */
static void
open_geoip(struct policy *p, const struct config *cfg,
           const struct geoip *previous)
{
	struct geoip_settings s = {
	    .country_path = cfg->geoip_country,
	    .asn_path = cfg->geoip_asn,
	    .lookup_documentation = cfg->geoip_lookup_documentation,
	};
	char warn[1200];

	p->geoip = geoip_open(&s, previous, warn, sizeof warn);
	if (warn[0])
		log_warn("%s", warn);
}

/* One kind of place rule whose file (setting, what it holds) is not in
 * use: it drops nothing. */
static void
warn_kind_off(const char *rules, const char *setting, const char *holds,
              const struct geoip_file_info *f)
{
	if (f->open)
		return;
	if (f->path == NULL)
		log_warn("rules: the %s rules drop nothing: no %s is set; "
		         "configure %s with %s (README, \"GeoIP\") and reload",
		         rules, setting, setting, holds);
	else
		log_warn("rules: the %s rules drop nothing: the %s file %s "
		         "cannot be used: %s; configure %s with %s (README, "
		         "\"GeoIP\") and reload",
		         rules, setting, f->path, f->error, setting, holds);
}

/* Place rules whose file is not in use drop nothing (geo features are
 * off, every answer goes out whole): said once per policy built, so a
 * user who blocked a country knows that the block is not in force. */
static void
warn_places_off(const struct policy *p)
{
	struct geoip_file_info country, asn;
	bool need_country, need_asn;

	rules_place_needs(p->rules, &need_country, &need_asn);
	geoip_file_info(p->geoip, false, &country);
	geoip_file_info(p->geoip, true, &asn);
	if (need_country)
		warn_kind_off("country= and continent=", "geoip-country",
		              "a country database", &country);
	if (need_asn)
		warn_kind_off("asn=", "geoip-asn", "an ASN database", &asn);
}

struct policy *
policy_new(const struct config *cfg, char *err, size_t errlen)
{
	struct policy *p = xcalloc(1, sizeof *p);
	size_t i;

	load_suffixes(p, cfg);
	open_geoip(p, cfg, NULL);
	p->refs = 1;
	p->lists = xcalloc(cfg->n_lists, sizeof *p->lists);
	for (i = 0; i < cfg->n_lists; i++) {
		struct blocklist *bl = &p->lists[p->n_lists];

		set_list(bl, &cfg->lists[i]);
		p->n_lists++;
		if (load_list(p, bl, err, errlen) < 0) {
			policy_free(p);
			return NULL;
		}
	}
	if (build_rules(p, cfg, err, errlen) < 0) {
		policy_free(p);
		return NULL;
	}
	warn_places_off(p);
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

/* Lines of c that are rules (in force, or skipped for a reason). */
static size_t
rule_lines(const struct list_copy *c)
{
	const struct list_filter_stats *st = list_filter_stats(c->filter);
	size_t n = st->entries + st->badfilters;
	int i;

	for (i = 0; i < LIST_SKIP_KINDS; i++)
		n += st->skipped[i];
	return n;
}

/* Why a new reading of a list looks broken next to the copy in use, or
 * NULL when it does not; see policy.h. A subscription's shrink was judged
 * by its own max-shrink= before it reached the cache (fetch_check). */
static const char *
looks_broken(const struct list_copy *in_use, const struct list_copy *fresh,
	     const struct blocklist *bl)
{
	bool subscription = bl->url != NULL;
	size_t old_count = list_filter_count(in_use->filter);
	size_t new_count = list_filter_count(fresh->filter);
	size_t old_unused = list_filter_errors(list_filter_stats(in_use->filter));
	size_t new_unused = list_filter_errors(list_filter_stats(fresh->filter));

	/* Whatever is in force (nothing, before the first download): a
	 * copy of rules of which dnsgate can use none is no list. */
	if (subscription && new_count == 0 && rule_lines(fresh) > 0)
		return "it has rule lines, but none that dnsgate can use";
	if (new_count >= old_count)
		return NULL;
	/* The download's lines were counted before it was cached; what
	 * counts is the entries it gives in force: a list whose every rule
	 * has an option dnsgate skips is text, and in the cache, and no
	 * list. */
	if (subscription && old_count > 0 &&
	    (uint64_t)new_count * 100 <
		(uint64_t)old_count * (100 - (bl->max_shrink > 100
						  ? 100
						  : bl->max_shrink)))
		return "it lost more of its entries in force than its "
		       "max-shrink= allows";
	if (!subscription && old_count >= POLICY_KEEP_MIN_DOMAINS &&
	    new_count * 2 < old_count)
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
	struct list_copy *fresh = copy_load(bl, p);
	int read_errno = errno;
	size_t in_use = list_filter_count(old->copy->filter);
	const char *why;
	char when[32], notes[512];

	format_time(old->copy->loaded_at, when, sizeof when);
	if (fresh == NULL && bl->url != NULL && read_errno == ENOENT) {
		/* Not downloaded yet: it is still served without. */
	} else if (fresh == NULL) {
		log_warn("blocklist %s: cannot read it on reload (%s): keeping "
		         "the copy in use (%zu domains, read %s); restore the "
		         "file and send SIGHUP again",
		         bl->path, strerror(read_errno), in_use, when);
	} else if ((why = looks_broken(old->copy, fresh, bl)) != NULL &&
		   bl->url != NULL) {
		log_warn("list %s: the new copy of %s gives %zu entries where "
			 "the copy in force has %zu (%s): keeping the copy in "
			 "force (read %s). The cached file is the new one: "
			 "until the server serves a good list ('dnsgatectl "
			 "update %s' tries now), a restart would load it as it "
			 "is",
			 bl->name, bl->url, list_filter_count(fresh->filter),
			 in_use, why, when, bl->name);
		copy_release(fresh);
		fresh = NULL;
	} else if (why != NULL) {
		log_warn("blocklist %s: the reload found %zu domains where the "
		         "copy in use has %zu (%s; %zu malformed or refused "
		         "lines): keeping the copy in use (read %s). If the "
		         "file is broken (a failed download?), fix it and send "
		         "SIGHUP again; if the shorter list is meant, restart "
		         "dnsgated to load it as it is",
		         bl->path, list_filter_count(fresh->filter), in_use, why,
		         list_filter_errors(list_filter_stats(fresh->filter)),
			 when);
		copy_release(fresh);
		fresh = NULL;
	}
	if (fresh == NULL) {
		bl->copy = old->copy;
		refcount_share(&bl->copy->refs);
		bl->kept = true;
		return;
	}
	bl->copy = fresh;
	log_info("blocklist %s (%s): %zu entries from %zu lines (were %zu)%s",
	         bl->path, list_format_name(list_filter_format(fresh->filter)),
		 list_filter_count(fresh->filter),
		 list_filter_stats(fresh->filter)->lines, in_use,
		 describe_unused(fresh->filter, notes, sizeof notes));
}

/* A subscription on reload: its copy pending judged (policy.h), or the
 * copy in use kept as it is, or read again when what it was read as
 * changed (format=). */
static void
reload_subscription(struct policy *p, struct blocklist *bl,
		    const struct blocklist *old)
{
	char *judging;
	size_t in_use = list_filter_count(old->copy->filter);
	struct list_copy *fresh = NULL;
	const char *why = NULL;
	char when[32], notes[512], err[1024];
	int claimed;

	format_time(old->copy->loaded_at, when, sizeof when);
	claimed = list_cache_claim(bl->path, &bl->judged, err, sizeof err);
	if (claimed == 0) {
		if (old->copy->loaded_at == 0 || bl->format != old->format) {
			/* Not downloaded yet at start: its copy may have come
			 * since, as the file itself (a copy left by an older
			 * dnsgated). Or format= changed: the copy in force
			 * read otherwise. */
			reload_list(p, bl, old);
			return;
		}
		bl->copy = old->copy;
		refcount_share(&bl->copy->refs);
		bl->kept = old->kept;
		return;
	}
	judging = list_cache_judging_path(bl->path);
	if (claimed < 0) {
		snprintf(bl->pending_reason, sizeof bl->pending_reason,
		         "the new copy is unusable: %s", err);
	} else if (strcmp(bl->judged.url, bl->url) != 0) {
		snprintf(
		    bl->pending_reason, sizeof bl->pending_reason,
		    "the new copy came from %.1024s, which is no longer the "
		    "list's URL: dropped",
		    bl->judged.url);
	} else if ((fresh = copy_load_from(bl, judging, p)) == NULL) {
		snprintf(bl->pending_reason, sizeof bl->pending_reason,
		         "cannot read the new copy %s: %s", judging,
		         strerror(errno));
	} else if ((why = looks_broken(old->copy, fresh, bl)) != NULL) {
		snprintf(bl->pending_reason, sizeof bl->pending_reason,
			 "the new copy gives %zu entries where the copy in "
			 "force has %zu (%s)",
			 list_filter_count(fresh->filter), in_use, why);
		copy_release(fresh);
		fresh = NULL;
	}
	free(judging);
	if (fresh == NULL) {
		log_warn("list %s: the new copy of %s is refused: %s; keeping "
			 "the copy in force (read %s), which stays the cached "
			 "copy a restart loads; 'dnsgatectl update %s' tries the "
			 "server again",
			 bl->name, bl->url, bl->pending_reason, when, bl->name);
		list_cache_discard(bl->path);
		bl->pending = POLICY_PENDING_REFUSED;
		if (old->copy->loaded_at == 0 || bl->format != old->format) {
			reload_list(p, bl, old);
			bl->kept = true;
			return;
		}
		bl->copy = old->copy;
		refcount_share(&bl->copy->refs);
		bl->kept = true;
		return;
	}
	bl->copy = fresh;
	bl->pending = POLICY_PENDING_TAKEN;
	log_info("list %s (%s): %zu entries from %zu lines of its new copy "
	         "(were %zu)%s",
	         bl->name, list_format_name(list_filter_format(fresh->filter)),
	         list_filter_count(fresh->filter),
	         list_filter_stats(fresh->filter)->lines, in_use,
	         describe_unused(fresh->filter, notes, sizeof notes));
}

/* The copies pending this build took become the cached copies, once the
 * whole policy is built (a build that fails leaves them claimed, for the
 * next one, unless a newer copy comes first). */
static void
accept_pending(const struct policy *p)
{
	char err[1024];
	size_t i;

	for (i = 0; i < p->n_lists; i++)
		if (p->lists[i].pending == POLICY_PENDING_TAKEN &&
		    list_cache_accept(p->lists[i].path, err, sizeof err) < 0)
			log_warn("list %s: its new copy is in force, but %s: a "
				 "restart would load the copy before it",
				 p->lists[i].name, err);
}

struct policy *
policy_reload(const struct policy *old, const struct config *cfg, char *err,
              size_t errlen)
{
	struct policy *p = xcalloc(1, sizeof *p);
	size_t i;

	p->suffixes = old->suffixes;
	if (p->suffixes != NULL)
		refcount_share(&p->suffixes->refs);
	open_geoip(p, cfg, old->geoip);
	p->refs = 1;
	p->lists = xcalloc(cfg->n_lists, sizeof *p->lists);
	for (i = 0; i < cfg->n_lists; i++) {
		struct blocklist *bl = &p->lists[p->n_lists];
		const struct blocklist *before =
		    find_list(old, cfg->lists[i].path);

		set_list(bl, &cfg->lists[i]);
		p->n_lists++;
		if (before != NULL && bl->url != NULL) {
			reload_subscription(p, bl, before);
			continue;
		}
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
	if (build_rules(p, cfg, err, errlen) < 0) {
		policy_free(p);
		return NULL;
	}
	warn_places_off(p);
	accept_pending(p);
	return p;
}

struct policy *
policy_ref(struct policy *p)
{
	p->refs++;
	return p;
}

void
policy_free(struct policy *p)
{
	size_t i;

	if (p == NULL || --p->refs > 0)
		return;
	rules_free(p->rules);
	geoip_free(p->geoip);
	rule_book_free(&p->book);
	free(p->filters);
	for (i = 0; i < p->n_lists; i++) {
		free(p->lists[i].name);
		free(p->lists[i].path);
		free(p->lists[i].url);
		copy_release(p->lists[i].copy);
	}
	free(p->lists);
	if (p->suffixes != NULL && refcount_unshare(&p->suffixes->refs)) {
		public_suffix_free(p->suffixes->list);
		free(p->suffixes);
	}
	free(p);
}

bool
policy_check(const struct policy *p, const char *name, struct policy_verdict *v)
{
	struct app_identity id;
	struct rules_asker *a;
	struct rules_verdict rv;

	memset(v, 0, sizeof *v);
	memset(&id, 0, sizeof id);
	snprintf(id.key, sizeof id.key, "?");
	snprintf(id.cgroup, sizeof id.cgroup, "?");
	a = rules_asker_new(p->rules, &id, -1);
	rules_decide(p->rules, a, &name, 1, 0, (int64_t)time(NULL), &rv);
	rules_asker_free(a);
	if (rv.outcome != RULES_BLOCK)
		return false;
	v->blocked = true;
	if (rv.rule != NULL && !rv.rule->is_default &&
	    rv.rule->dest == RULE_DEST_LIST) {
		v->list = p->lists[rv.rule->list].path;
		v->rule = rv.entry;
	}
	return true;
}

struct rules_asker *
policy_asker(const struct policy *p, const struct app_identity *id,
	     int64_t uid)
{
	return rules_asker_new(p->rules, id, uid);
}

enum rules_outcome
policy_decide(const struct policy *p, const struct rules_asker *a,
	      const char *const *names, size_t n, uint16_t qtype,
	      struct rules_verdict *v)
{
	return rules_decide(p->rules, a, names, n, qtype, (int64_t)time(NULL),
			    v);
}

enum rules_outcome
policy_explain(const struct policy *p, const struct rules_asker *a,
	       const char *const *names, size_t n, rules_trail_fn *fn,
	       void *arg, struct rules_verdict *v)
{
	return rules_explain(p->rules, a, names, n, 0, (int64_t)time(NULL), fn,
			     arg, v);
}

const struct rule_book *
policy_book(const struct policy *p)
{
	return &p->book;
}

long
policy_find_list(void *policy, const char *name)
{
	return find_list_named(policy, name);
}

const struct geoip *
policy_geoip(const struct policy *p)
{
	return p->geoip;
}

const struct rules *
policy_rules(const struct policy *p)
{
	return p->rules;
}

const char *
policy_list_name(const struct policy *p, size_t i)
{
	return i < p->n_lists ? p->lists[i].name : "?";
}

void
policy_lists_knowing(const struct policy *p, const char *name,
		     uint16_t qtype, const char *app, char *buf, size_t len)
{
	struct list_filter_match m;
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < p->n_lists && used + 1 < len; i++) {
		const struct list_filter *f = p->filters[i];
		int n;

		if (f == NULL || !list_filter_match(f, name, qtype, app, &m))
			continue;
		n = snprintf(buf + used, len - used, "%s%s", used ? "," : "",
			     p->lists[i].name);
		if (n < 0 || (size_t)n >= len - used) {
			buf[used] = '\0'; /* cut at a whole name */
			return;
		}
		used += (size_t)n;
	}
}

void
policy_registrable_domain(const struct policy *p, const char *name,
			  char *buf, size_t len)
{
	const struct public_suffix *ps =
	    p->suffixes != NULL ? p->suffixes->list : NULL;
	const char *dot, *candidate = NULL, *s = name + strlen(name);
	int labels = 0;

	/* From the right: the first suffix that is not a public suffix. */
	buf[0] = '\0';
	while (s > name) {
		for (dot = s - 1; dot > name && dot[-1] != '.'; dot--)
			;
		labels++;
		/* A top-level label is a suffix even when the list does not
		 * name it (its implicit "*" rule). */
		if (labels >= 2 &&
		    (ps == NULL || !public_suffix_is_suffix(ps, dot))) {
			candidate = dot;
			break;
		}
		s = dot > name ? dot - 1 : name;
	}
	if (candidate != NULL)
		snprintf(buf, len, "%s", candidate);
}

bool
policy_list_answer(const struct policy *p, size_t i,
		   enum message_block_mode *mode)
{
	if (i >= p->n_lists || !p->lists[i].answer_set)
		return false;
	*mode = p->lists[i].answer;
	return true;
}

int
policy_list_info(const struct policy *p, size_t i, struct policy_list_info *out)
{
	const struct blocklist *bl;
	const struct list_filter_stats *st;

	if (i >= p->n_lists)
		return -1;
	bl = &p->lists[i];
	st = list_filter_stats(bl->copy->filter);
	memset(out, 0, sizeof *out);
	out->name = bl->name;
	out->path = bl->path;
	out->url = bl->url;
	out->every_app = bl->every_app;
	out->kept = bl->kept;
	out->format = list_filter_format(bl->copy->filter);
	out->entries = list_filter_count(bl->copy->filter);
	out->stats = st;
	out->lines = st->lines;
	out->rejected = st->skipped[LIST_SKIP_MALFORMED];
	out->suffixes = st->skipped[LIST_SKIP_PUBLIC_SUFFIX];
	out->title = list_filter_title(bl->copy->filter);
	out->homepage = list_filter_homepage(bl->copy->filter);
	out->expires = list_filter_expires(bl->copy->filter);
	/* 0 for a subscription not downloaded yet (an empty copy). */
	out->loaded_at = (int64_t)bl->copy->loaded_at;
	out->pending = bl->pending;
	out->pending_reason = bl->pending_reason;
	out->judged =
	    bl->pending != POLICY_PENDING_NONE && bl->judged.url[0] != '\0'
	        ? &bl->judged
	        : NULL;
	return 0;
}

size_t
policy_domain_count(const struct policy *p)
{
	size_t i, n = 0;

	for (i = 0; i < p->n_lists; i++)
		n += list_filter_count(p->lists[i].copy->filter);
	return n;
}

void
policy_get_stats(const struct policy *p, struct policy_stats *st)
{
	size_t i;

	memset(st, 0, sizeof *st);
	st->lists = p->n_lists;
	st->rules = p->file_rules;
	st->rule_files = p->rule_files;
	st->domains = policy_domain_count(p);
	st->public_suffix_check = p->suffixes != NULL;
	for (i = 0; i < p->n_lists; i++) {
		const struct list_filter_stats *ls =
		    list_filter_stats(p->lists[i].copy->filter);
		size_t k;

		st->lists_kept += p->lists[i].kept;
		st->suffixes_refused += ls->skipped[LIST_SKIP_PUBLIC_SUFFIX];
		for (k = 0; k < LIST_SKIP_KINDS; k++)
			st->skipped[k] += ls->skipped[k];
	}
}

