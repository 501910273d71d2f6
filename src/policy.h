/* policy.h - what the daemon decides by: the lists of dnsgate.conf
 * (hosts, plain domains or adblock syntax, each read into a list_filter
 * that says whether it blocks a name), and the rules of the rules files, one engine over both
 * (rules.h has the precedence). "blocklist PATH" is the rule "block
 * list=NAME" for every app, its origin the config's line; "list NAME
 * PATH" is a list only rules apply. The pipeline asks for the qname
 * before resolving and for it with every name of the answer's CNAME
 * chain after.
 *
 * A policy is built whole and then swapped in. On a reload each list is
 * judged alone: one that cannot be read, or whose new reading looks broken
 * (see policy_reload), keeps the copy in use, so a failed download cannot
 * turn blocking off. Copies kept, and the public-suffix list (read once,
 * at start), are shared by the old and the new policy, not copied.
 * Rules files are read whole each time: one error in any refuses the new
 * policy (err says file:line:column).
 *
 * A policy is counted: a query holds the policy it started with
 * (policy_ref) until it is answered, so a reload never changes the
 * rules under it; policy_free drops one hold. policy_reload may run in
 * another thread than the one using old (src/reloader.c), when that one
 * holds old for it: it only reads old, and the copies it shares are
 * counted atomically; policy_ref and policy_free are the loop's. */
#ifndef DNSGATE_POLICY_H
#define DNSGATE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <time.h>

#include "lists/list_filter.h"
#include "resolver/message.h"
#include "src/rules.h"

/* "A list that had many": below this many domains a list may shrink or be
 * emptied on reload at will (a hand-kept list being edited). */
#define POLICY_KEEP_MIN_DOMAINS 100

struct app_identity;
struct config;
struct geoip;
struct policy;

/* The verdict for any app whose exe is not known (tests, tools). */
struct policy_verdict {
	bool blocked;
	const char *list; /* the list's path, owned by the policy */
	const char *rule; /* the listed domain that matched: a pointer
			     into the name asked (its matched suffix) */
};

/* For a status report. */
struct policy_stats {
	size_t lists;             /* lists (blocklist and list) */
	size_t rules;             /* rules read from rules files */
	size_t rule_files;        /* files they were read from */
	size_t domains;           /* domains in them */
	size_t lists_kept;        /* lists on an older copy: their newest
	                             reading was refused (policy_reload) */
	size_t suffixes_refused;  /* lines refused for naming a public suffix */
	bool public_suffix_check; /* the public-suffix list is loaded */
	size_t skipped[LIST_SKIP_KINDS]; /* lines of all lists, by reason */
};

struct list_cache_meta;

/* What a build did with a subscription's copy pending (NAME.list.new,
 * list_cache.h). */
enum policy_pending {
	POLICY_PENDING_NONE,    /* there was none */
	POLICY_PENDING_TAKEN,   /* in force, and made the cached copy */
	POLICY_PENDING_REFUSED, /* removed; pending_reason says why */
};

/* One list as in force, for `dnsgatectl status` and `lists`; the
 * strings are the policy's. */
struct policy_list_info {
	const char *name;
	const char *path;         /* read from (a subscription's cached copy) */
	const char *url;          /* NULL: a file */
	bool every_app;           /* blocklist (every app), or list (by rules) */
	enum list_format format;  /* as read (auto: the guess) */
	size_t entries;           /* blocks and exceptions in force */
	const struct list_filter_stats *stats;
	size_t lines;             /* lines of the copy in force */
	size_t rejected;          /* of them, malformed */
	size_t suffixes;          /* of them, refused for a public suffix */
	const char *title, *homepage; /* "! Title:", "! Homepage:" or "" */
	uint32_t expires;         /* "! Expires:" in seconds; 0: none */
	bool kept;                /* on an older copy (policy_reload) */
	int64_t loaded_at;        /* wall clock: that copy was read; 0 = none
				     (a subscription not downloaded yet) */
	enum policy_pending pending; /* what this build did with its copy
					pending */
	const char *pending_reason;  /* why it refused it, or "" */
	const struct list_cache_meta *judged; /* that copy's record; NULL:
	                                         none, or unreadable */
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
 * (A subscription's shrink is judged by its max-shrink= when it is
 * downloaded, so only the second applies to it; one not downloaded yet is
 * served empty, at start too.)
 * A subscription is read again when a new copy is pending in the cache
 * (NAME.list.new, or one a build that failed left claimed): the build
 * claims it (list_cache_claim), and judges it as above and by its
 * max-shrink= on the entries it gives in force; it is refused too when
 * it gives no entry while it has rule lines (whatever is in force), or
 * was downloaded from another URL than the list's now. Accepted, the
 * copy claimed replaces NAME.list once the whole policy is built;
 * refused, it is removed; so a restart loads only copies once accepted.
 * Without one, the copy in use is kept as it is, not read again, unless
 * the list's format= changed (then NAME.list is read again, as a file
 * is).
 * Restarting dnsgated loads every list as it is. Returns NULL with err
 * only for a list that old does not have and that cannot be read. old is
 * left as it was; the caller frees it when no query uses it. */
struct policy *policy_reload(const struct policy *old, const struct config *cfg,
                             char *err, size_t errlen);

/* Takes one more hold of p; returns p. */
struct policy *policy_ref(struct policy *p);
/* Drops one hold; the last frees it. NULL is accepted. */
void policy_free(struct policy *p);

/* Who asks, for the engine (rules_asker_new): free with
 * rules_asker_free, before the policy it was made for. */
struct rules_asker *policy_asker(const struct policy *p,
				 const struct app_identity *id, int64_t uid);

/* rules_decide (for a query of type qtype) and rules_explain (qtype 0),
 * now. */
enum rules_outcome policy_decide(const struct policy *p,
				 const struct rules_asker *a,
				 const char *const *names, size_t n,
				 uint16_t qtype, struct rules_verdict *v);
enum rules_outcome policy_explain(const struct policy *p,
				  const struct rules_asker *a,
				  const char *const *names, size_t n,
				  rules_trail_fn *fn, void *arg,
				  struct rules_verdict *v);

const struct rules *policy_rules(const struct policy *p);

/* Where addresses are (geoip.h): the geoip-* files as this policy was
 * built (at start, or on the reload that built it: a file changed on
 * disk is opened again, an unchanged one shared). Never NULL; lookups
 * on a file that could not be used know nothing. */
const struct geoip *policy_geoip(const struct policy *p);

/* Every rule of p, in reading order (the config's blocklist rules, then
 * the rules files'), for `dnsgatectl rules`. */
const struct rule_book *policy_book(const struct policy *p);

/* A rules_list_lookup_fn (rules_file.h) over the lists of the policy
 * policy (a const struct policy *): to check a rule against the policy
 * in force before it is written. */
long policy_find_list(void *policy, const char *name);

/* The name of list i (a rule's list index). */
const char *policy_list_name(const struct policy *p, size_t i);

/* The answer= of list i (a rule's list index): true with *mode when
 * the list names one, false when the global blocked-answer applies. */
bool policy_list_answer(const struct policy *p, size_t i,
			enum message_block_mode *mode);

/* Fills v for name. Returns v->blocked. */
bool policy_check(const struct policy *p, const char *name,
                  struct policy_verdict *v);

/* Fills out for list i; returns 0, or -1 past the last. */
int policy_list_info(const struct policy *p, size_t i,
		     struct policy_list_info *out);

/* The names of the lists that would block name (lower case) for app,
 * each list judged alone (its exceptions, $client, $dnstype for qtype),
 * whether or not a rule applies the list to that app: comma-separated
 * into buf ("" none), cut to fit. For a prompt: which lists know it. */
void policy_lists_knowing(const struct policy *p, const char *name,
			  uint16_t qtype, const char *app, char *buf,
			  size_t len);

/* The registrable domain of name (lower case, no trailing dot): the
 * shortest suffix of it, of two labels at least, that is not a public
 * suffix by the public-suffix list (without one: its last two labels).
 * "" when there is none (name is a public suffix, or one label). */
void policy_registrable_domain(const struct policy *p, const char *name,
			       char *buf, size_t len);

/* Domains loaded from all lists. */
size_t policy_domain_count(const struct policy *p);

void policy_get_stats(const struct policy *p, struct policy_stats *st);

#endif
