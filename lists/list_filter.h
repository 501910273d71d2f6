/* list_filter.h - what one block list decides for a name, a query type and
 * an app, whatever format it was written in, and the account of reading
 * it: entries in force, lines skipped by reason, its metadata.
 *
 * A list's entries are blocks and exceptions ("@@"), each either ordinary
 * or $important. For a name, the first of these that matches decides:
 * an important exception, an important block, an exception, a block. So
 * an exception lifts the blocks of its own list only (another list's block
 * of the name still stands), and $important beats exceptions. Entries
 * with no option live in matchers (a lookup per kind); entries with
 * options ($dnstype, $denyallow, $client), /regex/ entries and name
 * patterns with '*' ("||ad*.example.com^") are walked one by one, the
 * latter two bounded by LIST_FILTER_MAX_REGEXES and LIST_FILTER_MAX_GLOBS.
 * A '*' pattern is matched in time linear in the name and the pattern,
 * whatever its stars (no backtracking: list_filter_glob_match). */
#ifndef DNSGATE_LIST_FILTER_H
#define DNSGATE_LIST_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lists/list_format.h"

struct public_suffix;

/* Bounds on a list's regexes: each is compiled (POSIX ERE) and tried on
 * every query the list is asked about. */
#define LIST_FILTER_MAX_REGEXES 256
#define LIST_FILTER_MAX_REGEX_LENGTH 256
/* Bound on a list's name patterns with '*': each is tried on every query
 * the list is asked about (two linear scans of the name). */
#define LIST_FILTER_MAX_GLOBS 1024
/* Longer lines are not read (a name is at most 253 characters; options
 * and a regex fit with room). */
#define LIST_FILTER_MAX_LINE 4096
/* Unused lines logged one by one per list: errors (the list needs
 * fixing) at warning level, lines skipped by design (a browser list's
 * cosmetic rules) at info, a few of each reason. */
#define LIST_FILTER_LOGGED_ERRORS 10
#define LIST_FILTER_LOGGED_PER_SKIP 3

/* Why a line added nothing. */
enum list_skip {
	LIST_SKIP_MALFORMED,     /* not a rule of the list's format */
	LIST_SKIP_PUBLIC_SUFFIX, /* it would block all of .com */
	LIST_SKIP_COSMETIC,      /* ##, #@#, #$#, #?#: page elements */
	LIST_SKIP_URL,           /* ||host/path, a URL pattern: not a host */
	LIST_SKIP_OPTION,        /* an option for browsers ($script) */
	LIST_SKIP_UNSUPPORTED,   /* DNS syntax dnsgate does not do
	                            ($dnsrewrite, $ctag, an IP rule) */
	LIST_SKIP_REGEX,         /* a regex refused (limits, syntax, URL) */
	LIST_SKIP_BADFILTER,     /* disabled by a $badfilter line */
	LIST_SKIP_KINDS,
};

/* "malformed", "public_suffix", "cosmetic", "url", "browser_option",
 * "unsupported", "regex", "badfilter": the keys of the status JSON. */
const char *list_skip_name(enum list_skip s);
/* True for the reasons that say the list needs fixing (malformed, public
 * suffix, regex), as opposed to skipped by design or beyond what dnsgate
 * does (cosmetic, url, browser_option, unsupported, badfilter). */
bool list_skip_is_error(enum list_skip s);

struct list_filter_stats {
	size_t lines;      /* lines read */
	size_t entries;    /* rules in force (blocks and exceptions) */
	size_t exceptions; /* of them, exceptions */
	size_t badfilters; /* $badfilter lines */
	size_t wanted;     /* public suffixes listed on their line's say-so */
	size_t skipped[LIST_SKIP_KINDS];
};

/* The sum of the error reasons of st. */
size_t list_filter_errors(const struct list_filter_stats *st);

struct list_filter;

/* The caller owns the result; list_filter_free accepts NULL. */
struct list_filter *list_filter_new(void);
void list_filter_free(struct list_filter *f);

/* Packs f's name sets for reading (matcher_seal): once it is loaded and
 * before it is shared. Nothing may be added after. */
void list_filter_seal(struct list_filter *f);

/* Reads the file at path in format (AUTO: list_format_detect) into f,
 * which must be new. Lines skipped are counted by reason and the first
 * few logged as "path:line: reason: 'line'". suffixes (NULL: no check)
 * refuses lines naming a public suffix. Returns 0, or -1 with errno set
 * when the file cannot be opened or read. */
int list_filter_load(struct list_filter *f, const char *path,
                     enum list_format format,
                     const struct public_suffix *suffixes);

/* --- for the parsers (list_hosts, list_adblock) ------------------------ */

enum list_entry_kind {
	LIST_ENTRY_BLOCK,
	LIST_ENTRY_EXCEPTION,
	LIST_ENTRY_IMPORTANT_BLOCK,
	LIST_ENTRY_IMPORTANT_EXCEPTION,
	LIST_ENTRY_KINDS,
};

enum list_entry_scope {
	LIST_SCOPE_SUBTREE, /* the name and every name under it */
	LIST_SCOPE_EXACT,   /* the name alone */
	LIST_SCOPE_ANY,     /* every name (only with an option narrowing it) */
	LIST_SCOPE_REGEX,   /* names the regex matches */
	LIST_SCOPE_GLOB_SUBTREE, /* names the pattern ('*': any characters,
	                            dots too) matches, and names under them */
	LIST_SCOPE_GLOB_EXACT,   /* names the pattern matches, alone */
};

#define LIST_ENTRY_MAX_TYPES 16
#define LIST_ENTRY_MAX_VALUES 16

/* An entry as a parser hands it over; list_filter_add copies what it
 * keeps. */
struct list_entry {
	enum list_entry_kind kind;
	enum list_entry_scope scope;
	const char *pattern; /* the domain, or the regex's source */
	unsigned line;
	/* $dnstype=A|~AAAA: types it applies to / not to. */
	uint16_t types[LIST_ENTRY_MAX_TYPES];
	size_t n_types;
	uint16_t not_types[LIST_ENTRY_MAX_TYPES];
	size_t n_not_types;
	/* $denyallow=a.example|b.example: names it never matches. */
	const char *denyallow[LIST_ENTRY_MAX_VALUES];
	size_t n_denyallow;
	/* $client=KEY|~KEY: app keys it applies to / not to. */
	const char *clients[LIST_ENTRY_MAX_VALUES];
	size_t n_clients;
	const char *not_clients[LIST_ENTRY_MAX_VALUES];
	size_t n_not_clients;
};

/* Adds e. Returns 1 when added, 0 when an entry alike was there, -1 with
 * *reason set when the pattern is not a valid name or the regex is
 * refused (*skip says which reason). */
int list_filter_add(struct list_filter *f, const struct list_entry *e,
                    enum list_skip *skip, const char **reason);

/* The matcher of plain blocks of f (name and subdomains), for a parser
 * that adds names directly (list_hosts). */
struct matcher *list_filter_blocks(struct list_filter *f);

/* Metadata from "! Title:", "! Homepage:", "! Expires:" comments ('#'
 * too): the first of each is kept. */
void list_filter_set_meta(struct list_filter *f, const char *key,
                          const char *value);

/* --- asking ------------------------------------------------------------ */

struct list_filter_match {
	const char *entry; /* the listed domain, or "/regex/" */
	unsigned line;     /* its line, when it had options or was a regex
	                      (0: a plain entry, not kept) */
	bool important;
};

/* Whether f blocks name (lower case, no trailing dot) for a query of type
 * qtype (0: not a query; entries with $dnstype do not apply) from the app
 * whose key is app ("?" or NULL: not known; $client entries naming an app
 * do not apply, those excluding one do). Fills *m when it does. Allocates
 * nothing. */
bool list_filter_match(const struct list_filter *f, const char *name,
                       uint16_t qtype, const char *app,
                       struct list_filter_match *m);

/* Entries in force (blocks and exceptions). */
size_t list_filter_count(const struct list_filter *f);
const struct list_filter_stats *list_filter_stats(const struct list_filter *f);
/* The format it was read as (never AUTO once loaded). */
enum list_format list_filter_format(const struct list_filter *f);
/* "! Title:" and "! Homepage:" ("" when the list has none). */
const char *list_filter_title(const struct list_filter *f);
const char *list_filter_homepage(const struct list_filter *f);
/* "! Expires: 4 days" in seconds, 0 when the list says nothing (or
 * something else): how often its publisher wants it fetched. */
uint32_t list_filter_expires(const struct list_filter *f);

/* Whether name (length bytes) matches pattern (plen bytes), '*' standing
 * for any run of characters, dots and none included, and every other
 * byte for itself. Linear in length + plen: the pieces between stars are
 * found leftmost in turn, which is exact when '*' is the only wildcard,
 * so a hostile pattern ("a*a*a*a*b") costs no more than a plain one. */
bool list_filter_glob_match(const char *pattern, size_t plen,
                            const char *name, size_t length);

/* Parses an Expires value ("12 hours", "4 days (update frequency)",
 * "2d"). Returns seconds, or 0 when it is not one. */
uint32_t list_filter_parse_expires(const char *value);

#endif
