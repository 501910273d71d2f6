/* list_adblock.c - parses adblock / AdGuard DNS filtering rules. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lists/list_adblock.h"
#include "lists/list_filter.h"
#include "lists/list_format.h"
#include "lists/list_hosts.h"
#include "lists/matcher.h"
#include "lists/public_suffix.h"
#include "src/xmalloc.h"

#define MAX_OPTIONS 32
/* A line's canonical text (see canonical) fits, as the line does. */
#define CANONICAL_MAX (LIST_FILTER_MAX_LINE + 8)

struct list_adblock {
	char **disabled; /* canonical texts $badfilter lines name */
	size_t n, cap;
	bool sorted;
};

struct list_adblock *
list_adblock_new(void)
{
	return xcalloc(1, sizeof(struct list_adblock));
}

void
list_adblock_free(struct list_adblock *a)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < a->n; i++)
		free(a->disabled[i]);
	free(a->disabled);
	free(a);
}

static const struct {
	const char *name;
	unsigned type;
} dns_types[] = {
    {"A", 1},      {"NS", 2},    {"CNAME", 5},  {"SOA", 6},    {"PTR", 12},
    {"HINFO", 13}, {"MX", 15},   {"TXT", 16},   {"AAAA", 28},  {"SRV", 33},
    {"NAPTR", 35}, {"DS", 43},   {"SSHFP", 44}, {"RRSIG", 46}, {"DNSKEY", 48},
    {"TLSA", 52},  {"SVCB", 64}, {"HTTPS", 65}, {"ANY", 255},  {"CAA", 257},
};

unsigned
list_adblock_type(const char *word)
{
	size_t i;
	char *end;
	unsigned long n;

	for (i = 0; i < sizeof dns_types / sizeof *dns_types; i++)
		if (strcasecmp(word, dns_types[i].name) == 0)
			return dns_types[i].type;
	if (strncasecmp(word, "TYPE", 4) == 0 &&
	    isdigit((unsigned char)word[4])) {
		n = strtoul(word + 4, &end, 10);
		if (*end == '\0' && n > 0 && n <= 65535)
			return (unsigned)n;
	}
	return 0;
}

/* --- pieces of a line ------------------------------------------------------
 */

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
	       c == '\f';
}

/* Copies line without surrounding blanks into buf (CANONICAL_MAX).
 * Returns its length, or -1 when it does not fit. */
static int
trimmed(const char *line, char *buf)
{
	const char *end;
	size_t n;

	while (is_space(*line))
		line++;
	end = line + strlen(line);
	while (end > line && is_space(end[-1]))
		end--;
	n = (size_t)(end - line);
	if (n >= CANONICAL_MAX)
		return -1;
	memcpy(buf, line, n);
	buf[n] = '\0';
	return (int)n;
}

static bool
is_cosmetic(const char *rule)
{
	static const char *const markers[] = {
	    "##",   "#@#",  "#?#",  "#$#", "#%#",
	    "#@$#", "#@?#", "#@%#", "$$",  "$@$",
	};
	size_t i;

	for (i = 0; i < sizeof markers / sizeof *markers; i++)
		if (strstr(rule, markers[i]) != NULL)
			return true;
	return false;
}

/* Where a rule's options start: the '$' after its pattern (for a regex,
 * after its closing '/'), or NULL. */
static char *
options_of(char *rule)
{
	char *dollar;

	if (rule[0] == '/' ||
	    (rule[0] == '@' && rule[1] == '@' && rule[2] == '/')) {
		char *close = strstr(rule + 1, "/$");
		char *last = NULL;

		while (close != NULL) {
			last = close;
			close = strstr(close + 1, "/$");
		}
		return last != NULL ? last + 1 : NULL;
	}
	dollar = strrchr(rule, '$');
	return dollar;
}

static int
compare_strings(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* A rule as $badfilter compares it: lower case, its options sorted, the
 * option "badfilter" left out. Sets *badfilter when it was there. */
static int
canonical(const char *line, char *out, bool *badfilter)
{
	char rule[CANONICAL_MAX], *opts, *options[MAX_OPTIONS], *save, *o;
	size_t n = 0, i, used;
	int len;

	*badfilter = false;
	if ((len = trimmed(line, rule)) < 0)
		return -1;
	for (i = 0; rule[i] != '\0'; i++)
		rule[i] = (char)tolower((unsigned char)rule[i]);
	opts = options_of(rule);
	if (opts != NULL) {
		*opts++ = '\0';
		for (o = strtok_r(opts, ",", &save); o != NULL;
		     o = strtok_r(NULL, ",", &save)) {
			if (strcmp(o, "badfilter") == 0) {
				*badfilter = true;
				continue;
			}
			if (n == MAX_OPTIONS)
				return -1;
			options[n++] = o;
		}
	}
	qsort(options, n, sizeof *options, compare_strings);
	used = (size_t)snprintf(out, CANONICAL_MAX, "%s", rule);
	for (i = 0; i < n && used < CANONICAL_MAX; i++)
		used +=
		    (size_t)snprintf(out + used, CANONICAL_MAX - used, "%c%s",
		                     i == 0 ? '$' : ',', options[i]);
	return used < CANONICAL_MAX ? 0 : -1;
}

int
list_adblock_note_badfilter(struct list_adblock *a, const char *line)
{
	char text[CANONICAL_MAX];
	bool badfilter;
	const char *p = line;

	while (is_space(*p))
		p++;
	if (*p == '!' || *p == '#' || *p == '\0')
		return 0;
	if (canonical(p, text, &badfilter) < 0 || !badfilter)
		return 0;
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 8;
		a->disabled =
		    xreallocarray(a->disabled, a->cap, sizeof *a->disabled);
	}
	a->disabled[a->n++] = xstrdup(text);
	a->sorted = false;
	return 1;
}

static bool
is_disabled(struct list_adblock *a, const char *line)
{
	char text[CANONICAL_MAX];
	const char *key = text;
	bool badfilter;

	if (a->n == 0 || canonical(line, text, &badfilter) < 0)
		return false;
	if (!a->sorted) {
		qsort(a->disabled, a->n, sizeof *a->disabled, compare_strings);
		a->sorted = true;
	}
	return bsearch(&key, a->disabled, a->n, sizeof *a->disabled,
	               compare_strings) != NULL;
}

/* --- options ---------------------------------------------------------------
 */

struct options {
	bool important, badfilter;
};

static int
fail(struct list_adblock_note *note, enum list_skip skip, const char *reason)
{
	note->skip = skip;
	note->reason = reason;
	return -1;
}

/* Splits value at '|' into values (at most LIST_ENTRY_MAX_VALUES), those
 * with a leading '~' into negated (NULL: '~' refused). Quotes around a
 * value are removed. */
static int
split_values(char *value, const char **values, size_t *n, const char **negated,
             size_t *n_negated, struct list_adblock_note *note)
{
	char *save, *v;

	for (v = strtok_r(value, "|", &save); v != NULL;
	     v = strtok_r(NULL, "|", &save)) {
		bool negate = *v == '~';
		size_t len;

		if (negate)
			v++;
		len = strlen(v);
		if (len >= 2 && (v[0] == '\'' || v[0] == '"') &&
		    v[len - 1] == v[0]) {
			v[len - 1] = '\0';
			v++;
		}
		if (*v == '\0')
			return fail(note, LIST_SKIP_MALFORMED,
			            "an empty value in an option");
		if (negate && negated == NULL)
			return fail(note, LIST_SKIP_MALFORMED,
			            "'~' is not allowed in $denyallow");
		if ((negate ? *n_negated : *n) == LIST_ENTRY_MAX_VALUES)
			return fail(note, LIST_SKIP_MALFORMED,
			            "more than 16 values in one option");
		if (negate)
			negated[(*n_negated)++] = v;
		else
			values[(*n)++] = v;
	}
	if (*n == 0 && (n_negated == NULL || *n_negated == 0))
		return fail(note, LIST_SKIP_MALFORMED,
		            "an option without a value");
	return 0;
}

static int
parse_dnstype(char *value, struct list_entry *e, struct list_adblock_note *note)
{
	const char *words[LIST_ENTRY_MAX_VALUES],
	    *not_words[LIST_ENTRY_MAX_VALUES];
	size_t n = 0, n_not = 0, i;

	if (split_values(value, words, &n, not_words, &n_not, note) < 0)
		return -1;
	for (i = 0; i < n + n_not; i++) {
		const char *w = i < n ? words[i] : not_words[i - n];
		unsigned type = list_adblock_type(w);

		if (type == 0)
			return fail(note, LIST_SKIP_MALFORMED,
			            "an unknown DNS type in $dnstype (write A, "
			            "AAAA, HTTPS, ... or TYPE65)");
		if (i < n)
			e->types[e->n_types++] = (uint16_t)type;
		else
			e->not_types[e->n_not_types++] = (uint16_t)type;
	}
	return 0;
}

static int
parse_denyallow(char *value, struct list_entry *e,
                struct list_adblock_note *note)
{
	size_t i;
	const char *reason;

	if (split_values(value, e->denyallow, &e->n_denyallow, NULL, NULL,
	                 note) < 0)
		return -1;
	for (i = 0; i < e->n_denyallow; i++)
		if (strchr(e->denyallow[i], '*') != NULL ||
		    matcher_check(e->denyallow[i], &reason) < 0)
			return fail(note, LIST_SKIP_MALFORMED,
			            "$denyallow takes domain names, no "
			            "wildcards");
	return 0;
}

/* Reads the options of a rule (opts, cut from it) into e and o. */
static int
parse_options(char *opts, struct list_entry *e, struct options *o,
              struct list_adblock_note *note)
{
	char *save, *opt;

	for (opt = strtok_r(opts, ",", &save); opt != NULL;
	     opt = strtok_r(NULL, ",", &save)) {
		char *value = strchr(opt, '=');
		size_t i;

		if (value != NULL)
			*value++ = '\0';
		for (i = 0; opt[i] != '\0'; i++)
			opt[i] = (char)tolower((unsigned char)opt[i]);
		if (strcmp(opt, "important") == 0 && value == NULL)
			o->important = true;
		else if (strcmp(opt, "badfilter") == 0 && value == NULL)
			o->badfilter = true;
		else if (strcmp(opt, "match-case") == 0 && value == NULL)
			; /* names are compared in any case */
		else if (strcmp(opt, "dnstype") == 0 && value != NULL) {
			if (parse_dnstype(value, e, note) < 0)
				return -1;
		} else if (strcmp(opt, "denyallow") == 0 && value != NULL) {
			if (parse_denyallow(value, e, note) < 0)
				return -1;
		} else if (strcmp(opt, "client") == 0 && value != NULL) {
			if (split_values(value, e->clients, &e->n_clients,
			                 e->not_clients, &e->n_not_clients,
			                 note) < 0)
				return -1;
		} else if (strcmp(opt, "dnsrewrite") == 0 ||
		           strcmp(opt, "ctag") == 0) {
			return fail(note, LIST_SKIP_UNSUPPORTED,
			            "$dnsrewrite and $ctag are not supported: "
			            "dnsgate blocks, it does not rewrite, and "
			            "apps are named with $client");
		} else {
			return fail(note, LIST_SKIP_OPTION,
			            "an option for browsers, not for DNS: the "
			            "rule is not read as a block of the host");
		}
	}
	return 0;
}

/* --- the pattern -------------------------------------------------------------
 */

/* A bare line read as a host name ("ads.example.com", as uBlock reads
 * it) and not as a piece of a URL ("-120x600.", "_chartbeat.js"): labels
 * of letters, digits, '-' and '_' not starting or ending with '-', at
 * least two, the first not starting with '_', the last a known top-level
 * domain when the public-suffix list is loaded, else letters. */
static bool
is_host_name(const char *name, const struct public_suffix *suffixes)
{
	const char *p, *label = name, *last;
	size_t labels = 0;
	const char *reason;

	if (*name == '_' || matcher_check(name, &reason) < 0 ||
	    name[strlen(name) - 1] == '.')
		return false;
	for (p = name;; p++) {
		if (*p == '.' || *p == '\0') {
			if (p == label || *label == '-' || p[-1] == '-')
				return false;
			labels++;
			if (*p == '\0')
				break;
			label = p + 1;
		}
	}
	last = label;
	if (labels < 2)
		return false;
	if (suffixes != NULL)
		return public_suffix_is_suffix(suffixes, last);
	for (p = last; *p != '\0'; p++)
		if (!isalpha((unsigned char)*p))
			return false;
	return true;
}

static bool
looks_like_url(const char *host)
{
	return strpbrk(host, "/:?=&%,;") != NULL;
}

/* Cuts the end anchors off a host pattern: "name^", "name^|", "name|". */
static void
cut_end(char *host)
{
	size_t n = strlen(host);

	if (n > 0 && host[n - 1] == '|')
		host[--n] = '\0';
	if (n > 0 && host[n - 1] == '^')
		host[--n] = '\0';
}

/* A name pattern with '*' ("||ad*.example.com^", "|cdn*.example^"): any
 * run of characters, dots too, as AdGuard Home reads it; matched in
 * linear time (list_filter_glob_match). Runs of stars are one. */
static int
glob_pattern(char *host, struct list_entry *e, struct list_adblock_note *note)
{
	char *r, *w;
	size_t n;

	for (r = w = host; *r != '\0'; r++)
		if (*r != '*' || w == host || w[-1] != '*')
			*w++ = *r;
	*w = '\0';
	n = strlen(host);
	if (strcmp(host, "*") == 0) {
		e->scope = LIST_SCOPE_ANY;
		e->pattern = "*";
		return 0;
	}
	if (n >= 2 && strcmp(host + n - 2, ".*") == 0)
		return fail(note, LIST_SKIP_UNSUPPORTED,
		            "a '*' for the top-level domain ('example.*') is "
		            "AdGuard's own syntax: not supported");
	if (host[n - 1] == '.')
		return fail(note, LIST_SKIP_UNSUPPORTED,
		            "a pattern ending in '.' (any top-level domain) is "
		            "not supported");
	e->scope = e->scope == LIST_SCOPE_EXACT ? LIST_SCOPE_GLOB_EXACT
	                                        : LIST_SCOPE_GLOB_SUBTREE;
	e->pattern = host;
	return 0;
}

/* Whether a '*' pattern may match names of many owners: after its last
 * star, from the first dot on, there must be ".DOMAIN", DOMAIN a
 * registrable name (one label or more over a public suffix, or two
 * labels or more under no listed suffix: a private zone), so that no star
 * reaches into it. "ad*.example.com", "*ads.example.com" and "ad*-cdn.example.com"
 * keep to example.com; "*om", "c*m", "*.c*m", "co*", "*o.uk", "*.co.uk",
 * "*-x.com" reach sites of anyone, or all of a public suffix. */
static bool
glob_is_loose(const char *pattern, const struct public_suffix *suffixes)
{
	const char *last = strrchr(pattern, '*'), *dot;

	if (last == NULL)
		return false;
	dot = strchr(last, '.');
	/* One label alone is a top-level domain, listed or not. */
	return dot == NULL || dot[1] == '\0' || strchr(dot + 1, '.') == NULL ||
	       public_suffix_is_suffix(suffixes, dot + 1);
}

/* Fills e's scope and pattern from rule (the text between "@@" and the
 * options). */
static int
parse_pattern(char *rule, bool has_opts, const struct public_suffix *suffixes,
              struct list_entry *e, struct list_adblock_note *note)
{
	char *host = rule;
	size_t n = strlen(rule);

	if (rule[0] == '/' && n >= 2 && rule[n - 1] == '/') {
		rule[n - 1] = '\0';
		e->scope = LIST_SCOPE_REGEX;
		e->pattern = rule + 1;
		if (strstr(e->pattern, "\\/") != NULL)
			return fail(note, LIST_SKIP_URL,
			            "a regex on URLs (it has '\\/'), not on "
			            "names");
		return 0;
	}
	if (strncmp(rule, "||", 2) == 0) {
		host = rule + 2;
		e->scope = LIST_SCOPE_SUBTREE;
	} else if (rule[0] == '|') {
		host = rule + 1;
		e->scope = LIST_SCOPE_EXACT;
	} else {
		e->scope = LIST_SCOPE_SUBTREE;
	}
	cut_end(host);
	if (*host == '\0' && !has_opts)
		return fail(note, LIST_SKIP_MALFORMED,
		            "a rule without a pattern");
	if (looks_like_url(host) || strchr(host, '^') != NULL ||
	    (host == rule && rule[0] == '/'))
		return fail(note, LIST_SKIP_URL,
		            "a URL or path pattern, not a host: it is not read "
		            "as a block of the host it names");
	if (strcmp(host, "*") == 0 ||
	    (host == rule && *host == '\0' && has_opts)) {
		e->scope = LIST_SCOPE_ANY;
		e->pattern = "*";
		return 0;
	}
	/* "*.example.com", as in a wildcard list: the name and below. */
	if (host == rule && strncmp(host, "*.", 2) == 0 &&
	    is_host_name(host + 2, suffixes)) {
		e->pattern = host + 2;
		return 0;
	}
	if (strchr(host, '*') != NULL && host == rule)
		return fail(note, LIST_SKIP_URL,
		            "a '*' pattern inside URLs (no '||' anchor), not "
		            "read as a host; write '||pattern^' for one");
	if (strchr(host, '*') != NULL)
		return glob_pattern(host, e, note);
	if (host == rule) {
		/* No anchor: "ads.example.com" is a host, "-468x60." a piece
		 * of a URL. */
		if (!is_host_name(host, suffixes))
			return fail(
			    note, LIST_SKIP_URL,
			    "a pattern inside URLs (no '||' anchor), not "
			    "read as a host; write '||name^' for one");
	} else if (n > 0 && host[0] != '\0' && host[strlen(host) - 1] == '.') {
		return fail(note, LIST_SKIP_UNSUPPORTED,
		            "a pattern ending in '.' (any top-level domain) is "
		            "not supported");
	}
	e->pattern = host;
	return 0;
}

/* --- the line
 * ----------------------------------------------------------------- */

/* A hosts line ("0.0.0.0 ads.example") in an adblock list, or a lone
 * address, which AdGuard reads as "block names answered with it". */
static int
add_hosts_line(struct list_filter *f, const struct public_suffix *suffixes,
               const char *rule, struct list_adblock_note *note)
{
	struct list_line_note hosts_note;
	const char *p = rule;
	int added;

	while (*p != '\0' && !is_space(*p))
		p++;
	while (is_space(*p))
		p++;
	if (*p == '\0' || *p == '#')
		return fail(note, LIST_SKIP_UNSUPPORTED,
		            "an IP address rule (blocking by the address of "
		            "an answer is not supported)");
	added = list_hosts_add_line(list_filter_blocks(f), suffixes, rule,
	                            &hosts_note);
	note->wanted = hosts_note.wanted;
	if (added == LIST_LINE_PUBLIC_SUFFIX)
		return fail(note, LIST_SKIP_PUBLIC_SUFFIX,
		            "names a public suffix: it would block every site "
		            "under it");
	if (added < 0)
		return fail(note, LIST_SKIP_MALFORMED, hosts_note.reason);
	return added;
}

int
list_adblock_add_line(struct list_adblock *a, struct list_filter *f,
                      const struct public_suffix *suffixes, const char *line,
                      unsigned number, struct list_adblock_note *note)
{
	char rule[CANONICAL_MAX], *pattern, *opts;
	struct list_entry e;
	struct options o = {false, false};
	enum list_skip skip;
	bool exception = false;
	int rc;

	note->skip = LIST_SKIP_MALFORMED;
	note->reason = NULL;
	note->wanted = 0;
	if (trimmed(line, rule) < 0)
		return fail(note, LIST_SKIP_MALFORMED, "line too long");
	if (rule[0] == '\0' || rule[0] == '!' || rule[0] == '[')
		return 0; /* blank, comment, "[Adblock Plus 2.0]" */
	if (is_cosmetic(rule))
		return fail(note, LIST_SKIP_COSMETIC,
		            "a cosmetic rule (page elements): nothing for DNS");
	if (rule[0] == '#')
		return 0;
	if (list_format_of_line(rule) == LIST_FORMAT_HOSTS)
		return add_hosts_line(f, suffixes, rule, note);
	memset(&e, 0, sizeof e);
	e.line = number;
	pattern = rule;
	if (strncmp(pattern, "@@", 2) == 0) {
		exception = true;
		pattern += 2;
	}
	opts = options_of(pattern);
	if (opts != NULL) {
		*opts++ = '\0';
		if (parse_options(opts, &e, &o, note) < 0)
			return -1;
	}
	if (o.badfilter)
		return 0; /* read in the first pass */
	if (is_disabled(a, line))
		return fail(note, LIST_SKIP_BADFILTER,
		            "disabled by a $badfilter line");
	if (parse_pattern(pattern, opts != NULL, suffixes, &e, note) < 0)
		return -1;
	e.kind = exception ? (o.important ? LIST_ENTRY_IMPORTANT_EXCEPTION
	                                  : LIST_ENTRY_EXCEPTION)
	                   : (o.important ? LIST_ENTRY_IMPORTANT_BLOCK
	                                  : LIST_ENTRY_BLOCK);
	/* Options narrow a block of a public suffix only in part
	 * (||com^$dnstype=A still blocks every site's A record): only
	 * $denyallow, which names what stays reachable, makes it a rule a
	 * list means (AdGuard's "block a TLD but these"). */
	if (!exception && suffixes != NULL && e.scope == LIST_SCOPE_SUBTREE &&
	    e.n_denyallow == 0 && public_suffix_is_suffix(suffixes, e.pattern))
		return fail(note, LIST_SKIP_PUBLIC_SUFFIX,
		            "names a public suffix: it would block every site "
		            "under it");
	if (!exception && suffixes != NULL && e.n_denyallow == 0 &&
	    (e.scope == LIST_SCOPE_GLOB_SUBTREE ||
	     e.scope == LIST_SCOPE_GLOB_EXACT) &&
	    glob_is_loose(e.pattern, suffixes))
		return fail(note, LIST_SKIP_PUBLIC_SUFFIX,
		            "a '*' pattern with no registrable domain after its "
		            "last '*' (as in '||ad*.example.com^'): it would "
		            "block sites of every owner under a public suffix");
	rc = list_filter_add(f, &e, &skip, &note->reason);
	if (rc < 0)
		note->skip = skip;
	return rc;
}
