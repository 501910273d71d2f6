/* list_filter.c - one list's entries and the decision they give, and the
 * reading of a list file line by line into them. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <strings.h>
#include <sys/types.h>

#include "lists/list_adblock.h"
#include "lists/list_filter.h"
#include "lists/list_hosts.h"
#include "lists/matcher.h"
#include "src/log.h"
#include "src/xmalloc.h"

#define SHOWN_LINE_MAX 80
#define META_MAX 256

/* An entry with options, or a regex: kept whole and walked. */
struct entry {
	enum list_entry_scope scope;
	char *pattern; /* lower-case domain or '*' pattern, or "/regex/" as
	                  shown */
	size_t length; /* of a domain or '*' pattern */
	char *under;   /* a subtree '*' pattern: "*." and it, for the names
	                  under what it matches */
	regex_t *regex;
	unsigned line;
	uint16_t types[LIST_ENTRY_MAX_TYPES];
	size_t n_types;
	uint16_t not_types[LIST_ENTRY_MAX_TYPES];
	size_t n_not_types;
	char *denyallow[LIST_ENTRY_MAX_VALUES];
	size_t n_denyallow;
	char *clients[LIST_ENTRY_MAX_VALUES];
	size_t n_clients;
	char *not_clients[LIST_ENTRY_MAX_VALUES];
	size_t n_not_clients;
};

/* The entries of one kind (block, exception, and their important
 * forms). */
struct level {
	struct matcher *subtree; /* ||name^ and hosts lines; NULL: none */
	struct matcher *exact;   /* |name^ */
	struct entry *walked;
	size_t n_walked, cap_walked;
};

struct list_filter {
	struct level levels[LIST_ENTRY_KINDS];
	size_t regexes;
	size_t globs;
	enum list_format format;
	struct list_filter_stats stats;
	char title[META_MAX];
	char homepage[META_MAX];
	uint32_t expires;
};

static const char *const skip_names[LIST_SKIP_KINDS] = {
    "malformed",      "public_suffix", "cosmetic", "url",
    "browser_option", "unsupported",   "regex",    "badfilter",
};

const char *
list_skip_name(enum list_skip s)
{
	return (size_t)s < LIST_SKIP_KINDS ? skip_names[s] : "?";
}

bool
list_skip_is_error(enum list_skip s)
{
	return s == LIST_SKIP_MALFORMED || s == LIST_SKIP_PUBLIC_SUFFIX ||
	       s == LIST_SKIP_REGEX;
}

size_t
list_filter_errors(const struct list_filter_stats *st)
{
	size_t i, n = 0;

	for (i = 0; i < LIST_SKIP_KINDS; i++)
		if (list_skip_is_error((enum list_skip)i))
			n += st->skipped[i];
	return n;
}

struct list_filter *
list_filter_new(void)
{
	struct list_filter *f = xcalloc(1, sizeof *f);

	f->format = LIST_FORMAT_AUTO;
	return f;
}

static void
entry_free(struct entry *e)
{
	size_t i;

	free(e->pattern);
	free(e->under);
	if (e->regex != NULL) {
		regfree(e->regex);
		free(e->regex);
	}
	for (i = 0; i < e->n_denyallow; i++)
		free(e->denyallow[i]);
	for (i = 0; i < e->n_clients; i++)
		free(e->clients[i]);
	for (i = 0; i < e->n_not_clients; i++)
		free(e->not_clients[i]);
}

void
list_filter_seal(struct list_filter *f)
{
	size_t i;

	for (i = 0; i < LIST_ENTRY_KINDS; i++) {
		if (f->levels[i].subtree != NULL)
			matcher_seal(f->levels[i].subtree);
		if (f->levels[i].exact != NULL)
			matcher_seal(f->levels[i].exact);
	}
}

void
list_filter_free(struct list_filter *f)
{
	size_t i, j;

	if (f == NULL)
		return;
	for (i = 0; i < LIST_ENTRY_KINDS; i++) {
		struct level *l = &f->levels[i];

		matcher_free(l->subtree);
		matcher_free(l->exact);
		for (j = 0; j < l->n_walked; j++)
			entry_free(&l->walked[j]);
		free(l->walked);
	}
	free(f);
}

struct matcher *
list_filter_blocks(struct list_filter *f)
{
	struct level *l = &f->levels[LIST_ENTRY_BLOCK];

	if (l->subtree == NULL)
		l->subtree = matcher_new();
	return l->subtree;
}

/* --- the matcher, asked in these two places only ------------------------ */

/* The listed domain that name is or is under, as the suffix of name it
 * is (the matcher keeps no names), or NULL. */
static const char *
match_subtree(const struct matcher *m, const char *name)
{
	int at = m != NULL ? matcher_match(m, name) : -1;

	return at >= 0 ? name + at : NULL;
}

/* name itself (length bytes) when it is listed, or NULL. */
static const char *
match_exact(const struct matcher *m, const char *name, size_t length)
{
	(void)length;
	return m != NULL && matcher_match_exact(m, name) >= 0 ? name : NULL;
}

/* --- adding --------------------------------------------------------------- */

static char *
lower_copy(const char *s)
{
	char *copy = xstrdup(s);
	char *p;

	for (p = copy; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return copy;
}

static bool
has_options(const struct list_entry *e)
{
	return e->n_types > 0 || e->n_not_types > 0 || e->n_denyallow > 0 ||
	       e->n_clients > 0 || e->n_not_clients > 0;
}

/* The counted repetition a list's regex may use: "{m}", "{m,}" or
 * "{m,n}" after a single character, "." or a bracket expression, m and
 * n at most this. glibc compiles counted repetition by copying, so a
 * repetition of a group of repetitions (((a{1,100}){1,100}){1,100})
 * would take gigabytes; and a back-reference makes its matcher
 * exponential. Neither is ever needed to name hosts. */
#define REGEX_MAX_COUNT 16

/* Whether source stays within what compiles small and matches in time
 * linear in the name: no back-reference, counted repetition only as
 * above. Sets *reason when not. */
static bool
regex_is_bounded(const char *source, const char **reason)
{
	const char *p = source;
	bool after_atom = false; /* the previous token may take a count */

	while (*p != '\0') {
		if (*p == '\\') {
			if (p[1] >= '1' && p[1] <= '9') {
				*reason = "a back-reference (\\1 .. \\9) in a "
				          "regex (refused: it can take minutes "
				          "to match one name)";
				return false;
			}
			if (p[1] == '\0')
				return true; /* regcomp refuses it */
			p += 2;
			after_atom = true;
			continue;
		}
		if (*p == '[') {
			/* A bracket expression: up to its ']' (a ']' first
			 * in it, or after '^', is a member). */
			p++;
			if (*p == '^')
				p++;
			if (*p == ']')
				p++;
			while (*p != '\0' && *p != ']')
				p++;
			if (*p == ']')
				p++;
			after_atom = true;
			continue;
		}
		if (*p == '{') {
			unsigned long m, n;
			char *end;

			if (!after_atom) {
				*reason = "counted repetition ({m,n}) of a group "
				          "in a regex (refused: it compiles to "
				          "gigabytes); count single characters "
				          "only";
				return false;
			}
			m = strtoul(p + 1, &end, 10);
			n = m;
			if (*end == ',')
				n = end[1] == '}' ? m : strtoul(end + 1, &end, 10);
			if (m > REGEX_MAX_COUNT || n > REGEX_MAX_COUNT) {
				*reason = "a count over 16 in a regex's {m,n} "
				          "(refused: it compiles too big)";
				return false;
			}
			p = strchr(p, '}');
			if (p == NULL)
				return true; /* regcomp refuses it */
			p++;
			after_atom = false;
			continue;
		}
		after_atom = *p != '(' && *p != '|' && *p != ')' && *p != '*' &&
		             *p != '+' && *p != '?' && *p != '^';
		p++;
	}
	return true;
}

static int
compile_regex(struct list_filter *f, const char *source, regex_t **out,
              enum list_skip *skip, const char **reason)
{
	static char error[128];
	regex_t *re;
	int rc;

	*skip = LIST_SKIP_REGEX;
	if (!regex_is_bounded(source, reason))
		return -1;
	if (strlen(source) > LIST_FILTER_MAX_REGEX_LENGTH) {
		*reason = "regex longer than the 256 characters a list's "
		          "regex may have";
		return -1;
	}
	if (f->regexes >= LIST_FILTER_MAX_REGEXES) {
		*reason = "more than the 256 regexes a list may have (each is "
		          "tried on every query)";
		return -1;
	}
	re = xmalloc(sizeof *re);
	rc = regcomp(re, source, REG_EXTENDED | REG_ICASE | REG_NOSUB);
	if (rc != 0) {
		char why[96];

		regerror(rc, re, why, sizeof why);
		snprintf(error, sizeof error, "regex does not compile: %s",
		         why);
		*reason = error;
		free(re);
		return -1;
	}
	f->regexes++;
	*out = re;
	return 0;
}

/* A '*' pattern is a name once its stars are letters: the characters and
 * lengths matcher_check takes. */
static int
check_glob(const char *pattern, const char **reason)
{
	char name[LIST_FILTER_MAX_LINE];
	size_t i, n = strlen(pattern);

	if (n >= sizeof name) {
		*reason = "domain name longer than 253 characters";
		return -1;
	}
	for (i = 0; i <= n; i++)
		name[i] = pattern[i] == '*' ? 'x' : pattern[i];
	return matcher_check(name, reason);
}

bool
list_filter_glob_match(const char *pattern, size_t plen, const char *name,
                       size_t length)
{
	const char *star = memchr(pattern, '*', plen), *last, *p, *end;
	size_t head, tail;

	if (star == NULL)
		return plen == length && memcmp(pattern, name, length) == 0;
	/* What comes before the first star starts the name, what comes
	 * after the last ends it, and neither may overlap the other. */
	head = (size_t)(star - pattern);
	if (head > length || memcmp(pattern, name, head) != 0)
		return false;
	name += head;
	length -= head;
	last = memrchr(star, '*', plen - head);
	tail = plen - (size_t)(last - pattern) - 1;
	if (tail > length || memcmp(last + 1, name + length - tail, tail) != 0)
		return false;
	length -= tail;
	/* Each piece between: leftmost, after the one before it. */
	for (p = star + 1, end = last; p < end;) {
		const char *next = memchr(p, '*', (size_t)(end - p));
		const char *at;
		size_t n;

		if (next == NULL)
			next = end;
		n = (size_t)(next - p);
		if (n > 0) {
			at = memmem(name, length, p, n);
			if (at == NULL)
				return false;
			length -= (size_t)(at - name) + n;
			name = at + n;
		}
		p = next + 1;
	}
	return true;
}

int
list_filter_add(struct list_filter *f, const struct list_entry *e,
                enum list_skip *skip, const char **reason)
{
	struct level *l = &f->levels[e->kind];
	regex_t *re = NULL;
	struct entry *w;
	size_t i;

	*skip = LIST_SKIP_MALFORMED;
	if (e->scope == LIST_SCOPE_SUBTREE || e->scope == LIST_SCOPE_EXACT) {
		if (matcher_check(e->pattern, reason) < 0)
			return -1;
		if (!has_options(e)) {
			struct matcher **m = e->scope == LIST_SCOPE_SUBTREE
			                         ? &l->subtree
			                         : &l->exact;

			if (*m == NULL)
				*m = matcher_new();
			return matcher_add(*m, e->pattern, reason);
		}
	}
	if (e->scope == LIST_SCOPE_ANY && !has_options(e)) {
		*reason = "a rule for every name needs an option narrowing it "
		          "($dnstype, $denyallow or $client)";
		return -1;
	}
	if (e->scope == LIST_SCOPE_REGEX &&
	    compile_regex(f, e->pattern, &re, skip, reason) < 0)
		return -1;
	if (e->scope == LIST_SCOPE_GLOB_SUBTREE ||
	    e->scope == LIST_SCOPE_GLOB_EXACT) {
		if (check_glob(e->pattern, reason) < 0)
			return -1;
		if (f->globs >= LIST_FILTER_MAX_GLOBS) {
			*skip = LIST_SKIP_UNSUPPORTED;
			*reason = "more than the 1024 '*' patterns a list may "
			          "have (each is tried on every query)";
			return -1;
		}
		f->globs++;
	}
	if (l->n_walked == l->cap_walked) {
		l->cap_walked = l->cap_walked ? l->cap_walked * 2 : 8;
		l->walked =
		    xreallocarray(l->walked, l->cap_walked, sizeof *l->walked);
	}
	w = &l->walked[l->n_walked++];
	memset(w, 0, sizeof *w);
	w->scope = e->scope;
	w->regex = re;
	w->line = e->line;
	if (e->scope == LIST_SCOPE_REGEX) {
		size_t n = strlen(e->pattern) + 3;

		w->pattern = xmalloc(n);
		snprintf(w->pattern, n, "/%s/", e->pattern);
	} else {
		w->pattern =
		    lower_copy(e->scope == LIST_SCOPE_ANY ? "*" : e->pattern);
		w->length = strlen(w->pattern);
		if (w->length > 0 && w->pattern[w->length - 1] == '.')
			w->pattern[--w->length] = '\0';
		if (e->scope == LIST_SCOPE_GLOB_SUBTREE) {
			w->under = xmalloc(w->length + 3);
			snprintf(w->under, w->length + 3, "*.%s", w->pattern);
		}
	}
	memcpy(w->types, e->types, e->n_types * sizeof *e->types);
	w->n_types = e->n_types;
	memcpy(w->not_types, e->not_types,
	       e->n_not_types * sizeof *e->not_types);
	w->n_not_types = e->n_not_types;
	for (i = 0; i < e->n_denyallow; i++) {
		w->denyallow[i] = lower_copy(e->denyallow[i]);
		w->n_denyallow++;
	}
	for (i = 0; i < e->n_clients; i++)
		w->clients[w->n_clients++] = xstrdup(e->clients[i]);
	for (i = 0; i < e->n_not_clients; i++)
		w->not_clients[w->n_not_clients++] = xstrdup(e->not_clients[i]);
	return 1;
}

static void
copy_meta(char *out, const char *value)
{
	size_t i, n = 0;

	if (out[0] != '\0')
		return;
	while (*value == ' ' || *value == '\t')
		value++;
	for (i = 0; value[i] != '\0' && n + 1 < META_MAX; i++) {
		unsigned char c = (unsigned char)value[i];

		out[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

uint32_t
list_filter_parse_expires(const char *value)
{
	char *end;
	unsigned long n;
	uint64_t seconds;

	while (*value == ' ' || *value == '\t')
		value++;
	if (!isdigit((unsigned char)*value))
		return 0;
	n = strtoul(value, &end, 10);
	while (*end == ' ')
		end++;
	if (strncasecmp(end, "day", 3) == 0 ||
	    (tolower((unsigned char)*end) == 'd' &&
	     !isalpha((unsigned char)end[1])))
		seconds = (uint64_t)n * 86400;
	else if (strncasecmp(end, "hour", 4) == 0 ||
	         (tolower((unsigned char)*end) == 'h' &&
	          !isalpha((unsigned char)end[1])))
		seconds = (uint64_t)n * 3600;
	else if (strncasecmp(end, "minute", 6) == 0)
		seconds = (uint64_t)n * 60;
	else
		return 0;
	return seconds > UINT32_MAX ? UINT32_MAX : (uint32_t)seconds;
}

void
list_filter_set_meta(struct list_filter *f, const char *key, const char *value)
{
	if (strcasecmp(key, "title") == 0)
		copy_meta(f->title, value);
	else if (strcasecmp(key, "homepage") == 0)
		copy_meta(f->homepage, value);
	else if (strcasecmp(key, "expires") == 0 && f->expires == 0)
		f->expires = list_filter_parse_expires(value);
}

/* --- asking -------------------------------------------------------------- */

/* name is d or under it. */
static bool
is_within(const char *name, size_t length, const char *d, size_t dlength)
{
	return length == dlength
	           ? memcmp(name, d, length) == 0
	           : length > dlength && name[length - dlength - 1] == '.' &&
	                 memcmp(name + length - dlength, d, dlength) == 0;
}

static bool
has_type(const uint16_t *types, size_t n, uint16_t qtype)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (types[i] == qtype)
			return true;
	return false;
}

static bool
has_value(char *const *values, size_t n, const char *value)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(values[i], value) == 0)
			return true;
	return false;
}

static bool
entry_matches(const struct entry *e, const char *name, size_t length,
              uint16_t qtype, const char *app)
{
	size_t i;

	if (e->n_types > 0 || e->n_not_types > 0) {
		if (qtype == 0 ||
		    (e->n_types > 0 &&
		     !has_type(e->types, e->n_types, qtype)) ||
		    has_type(e->not_types, e->n_not_types, qtype))
			return false;
	}
	if (e->n_clients > 0 &&
	    (app == NULL || !has_value(e->clients, e->n_clients, app)))
		return false;
	if (app != NULL && has_value(e->not_clients, e->n_not_clients, app))
		return false;
	switch (e->scope) {
	case LIST_SCOPE_SUBTREE:
		if (!is_within(name, length, e->pattern, e->length))
			return false;
		break;
	case LIST_SCOPE_EXACT:
		if (length != e->length ||
		    memcmp(name, e->pattern, length) != 0)
			return false;
		break;
	case LIST_SCOPE_ANY:
		break;
	case LIST_SCOPE_REGEX:
		if (regexec(e->regex, name, 0, NULL, 0) != 0)
			return false;
		break;
	case LIST_SCOPE_GLOB_EXACT:
		if (!list_filter_glob_match(e->pattern, e->length, name, length))
			return false;
		break;
	case LIST_SCOPE_GLOB_SUBTREE:
		if (!list_filter_glob_match(e->pattern, e->length, name,
		                            length) &&
		    !list_filter_glob_match(e->under, e->length + 2, name,
		                            length))
			return false;
		break;
	}
	for (i = 0; i < e->n_denyallow; i++)
		if (is_within(name, length, e->denyallow[i],
		              strlen(e->denyallow[i])))
			return false;
	return true;
}

/* The entry of level l naming name, or NULL. */
static const char *
level_match(const struct level *l, const char *name, size_t length,
            uint16_t qtype, const char *app, unsigned *line)
{
	const char *listed;
	size_t i;

	*line = 0;
	if ((listed = match_exact(l->exact, name, length)) != NULL ||
	    (listed = match_subtree(l->subtree, name)) != NULL)
		return listed;
	for (i = 0; i < l->n_walked; i++)
		if (entry_matches(&l->walked[i], name, length, qtype, app)) {
			*line = l->walked[i].line;
			return l->walked[i].pattern;
		}
	return NULL;
}

bool
list_filter_match(const struct list_filter *f, const char *name, uint16_t qtype,
                  const char *app, struct list_filter_match *m)
{
	static const enum list_entry_kind order[] = {
	    LIST_ENTRY_IMPORTANT_EXCEPTION,
	    LIST_ENTRY_IMPORTANT_BLOCK,
	    LIST_ENTRY_EXCEPTION,
	    LIST_ENTRY_BLOCK,
	};
	size_t length = strlen(name), i;

	if (app != NULL && strcmp(app, "?") == 0)
		app = NULL;
	if (length == 0 || length > 253)
		return false;
	for (i = 0; i < sizeof order / sizeof *order; i++) {
		unsigned line;
		const char *listed = level_match(&f->levels[order[i]], name,
		                                 length, qtype, app, &line);

		if (listed == NULL)
			continue;
		if (order[i] == LIST_ENTRY_EXCEPTION ||
		    order[i] == LIST_ENTRY_IMPORTANT_EXCEPTION)
			return false;
		m->entry = listed;
		m->line = line;
		m->important = order[i] == LIST_ENTRY_IMPORTANT_BLOCK;
		return true;
	}
	return false;
}

size_t
list_filter_count(const struct list_filter *f)
{
	size_t i, n = 0;

	for (i = 0; i < LIST_ENTRY_KINDS; i++) {
		const struct level *l = &f->levels[i];

		n += (l->subtree ? matcher_count(l->subtree) : 0) +
		     (l->exact ? matcher_count(l->exact) : 0) + l->n_walked;
	}
	return n;
}

static size_t
count_exceptions(const struct list_filter *f)
{
	static const enum list_entry_kind kinds[] = {
	    LIST_ENTRY_EXCEPTION, LIST_ENTRY_IMPORTANT_EXCEPTION};
	size_t i, n = 0;

	for (i = 0; i < 2; i++) {
		const struct level *l = &f->levels[kinds[i]];

		n += (l->subtree ? matcher_count(l->subtree) : 0) +
		     (l->exact ? matcher_count(l->exact) : 0) + l->n_walked;
	}
	return n;
}

const struct list_filter_stats *
list_filter_stats(const struct list_filter *f)
{
	return &f->stats;
}

enum list_format
list_filter_format(const struct list_filter *f)
{
	return f->format;
}

const char *
list_filter_title(const struct list_filter *f)
{
	return f->title;
}

const char *
list_filter_homepage(const struct list_filter *f)
{
	return f->homepage;
}

uint32_t
list_filter_expires(const struct list_filter *f)
{
	return f->expires;
}

/* --- reading a file --------------------------------------------------------
 */

/* Up to SHOWN_LINE_MAX bytes of line, printable ASCII only, so a hostile
 * list cannot write control sequences to a terminal or forge log lines.
 * Returns "..." when the line was cut, else "". */
static const char *
shown_line(const char *line, size_t length, char *out)
{
	size_t i, n;

	while (length > 0 && isspace((unsigned char)line[length - 1]))
		length--;
	n = length < SHOWN_LINE_MAX ? length : SHOWN_LINE_MAX;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)line[i];

		out[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	out[n] = '\0';
	return length > SHOWN_LINE_MAX ? "..." : "";
}

struct reading {
	struct list_filter *f;
	const char *path;
	const struct public_suffix *suffixes;
	struct list_adblock *adblock; /* adblock format */
	struct list_hosts_batch *batch; /* hosts and domains formats */
	size_t logged_errors;
	size_t logged[LIST_SKIP_KINDS];
};

static void
note_skip(struct reading *r, size_t number, enum list_skip skip,
          const char *reason, const char *line, size_t length)
{
	char shown[SHOWN_LINE_MAX + 1];
	const char *cut;

	r->f->stats.skipped[skip]++;
	if (list_skip_is_error(skip)
	        ? r->logged_errors++ >= LIST_FILTER_LOGGED_ERRORS
	        : r->logged[skip]++ >= LIST_FILTER_LOGGED_PER_SKIP)
		return;
	cut = shown_line(line, length, shown);
	if (list_skip_is_error(skip))
		log_warn("%s:%zu: %s: '%s'%s", r->path, number, reason, shown,
		         cut);
	else
		log_info("%s:%zu: skipped (%s): '%s'%s", r->path, number,
		         reason, shown, cut);
}

/* "! Title: X" and "# Title: X": metadata, read in any format. */
static void
read_meta(struct list_filter *f, const char *text)
{
	static const char *const keys[] = {"Title", "Homepage", "Expires"};
	size_t i;

	if (*text != '!' && *text != '#')
		return;
	text++;
	while (*text == ' ' || *text == '\t')
		text++;
	for (i = 0; i < sizeof keys / sizeof *keys; i++) {
		size_t n = strlen(keys[i]);

		if (strncasecmp(text, keys[i], n) == 0 && text[n] == ':')
			list_filter_set_meta(f, keys[i], text + n + 1);
	}
}

static void
read_hosts_line(struct reading *r, size_t number, const char *text,
                const char *line, size_t length)
{
	struct list_line_note note;
	int added = r->batch != NULL
	                ? list_hosts_batch_add_line(r->batch, r->suffixes, text,
	                                            &note)
	                : list_hosts_add_line(list_filter_blocks(r->f),
	                                      r->suffixes, text, &note);
	char why[800];

	if (added == LIST_LINE_PUBLIC_SUFFIX) {
		snprintf(
		    why, sizeof why,
		    "%s is a public suffix (it would block every site "
		    "under .%s): line skipped; to block it anyway, end the "
		    "line with '# %s'",
		    note.suffix, note.suffix, LIST_PUBLIC_SUFFIX_WORD);
		note_skip(r, number, LIST_SKIP_PUBLIC_SUFFIX, why, line,
		          length);
	} else if (added < 0) {
		note_skip(r, number, LIST_SKIP_MALFORMED, note.reason, line,
		          length);
	} else {
		r->f->stats.wanted += (size_t)note.wanted;
	}
}

static void
read_adblock_line(struct reading *r, size_t number, const char *text,
                  const char *line, size_t length)
{
	struct list_adblock_note note;

	if (list_adblock_add_line(r->adblock, r->f, r->suffixes, text,
	                          (unsigned)number, &note) < 0)
		note_skip(r, number, note.skip, note.reason, line, length);
	else
		r->f->stats.wanted += (size_t)note.wanted;
}

/* Reads every line of in, calling the format's parser. */
static void
read_lines(struct reading *r, FILE *in)
{
	char *line = NULL;
	size_t size = 0, number = 0;
	ssize_t length;

	errno = 0;
	while ((length = getline(&line, &size, in)) != -1) {
		const char *text = line;

		number++;
		if (length > 0 && line[length - 1] == '\n')
			line[--length] = '\0';
		if (length > 0 && line[length - 1] == '\r')
			line[--length] = '\0';
		/* Lists saved by Windows editors start with a UTF-8 BOM. */
		if (number == 1 && strncmp(line, "\xEF\xBB\xBF", 3) == 0)
			text += 3;
		if (memchr(line, '\0', (size_t)length) != NULL) {
			note_skip(r, number, LIST_SKIP_MALFORMED,
			          "NUL byte in line (not a text file?)", line,
			          (size_t)length);
			continue;
		}
		if ((size_t)length > LIST_FILTER_MAX_LINE) {
			note_skip(r, number, LIST_SKIP_MALFORMED,
			          "line longer than 4096 characters", line,
			          (size_t)length);
			continue;
		}
		read_meta(r->f, text);
		if (r->adblock != NULL)
			read_adblock_line(r, number, text, line,
			                  (size_t)length);
		else
			read_hosts_line(r, number, text, line, (size_t)length);
	}
	r->f->stats.lines = number;
	free(line);
}

/* The first pass of an adblock list: its $badfilter lines, which disable
 * rules before or after them. */
static void
read_badfilters(struct reading *r, FILE *in)
{
	char *line = NULL;
	size_t size = 0;
	ssize_t length;

	while ((length = getline(&line, &size, in)) != -1)
		if ((size_t)length <= LIST_FILTER_MAX_LINE + 2 &&
		    strcasestr(line, "badfilter") != NULL)
			r->f->stats.badfilters +=
			    list_adblock_note_badfilter(r->adblock, line);
	free(line);
	rewind(in);
}

static void
log_summary(const struct reading *r)
{
	const struct list_filter_stats *st = &r->f->stats;
	size_t errors = list_filter_errors(st);

	if (errors > LIST_FILTER_LOGGED_ERRORS)
		log_warn("%s: %zu more malformed or refused lines not shown "
		         "(%zu in all)",
		         r->path, errors - LIST_FILTER_LOGGED_ERRORS, errors);
}

int
list_filter_load(struct list_filter *f, const char *path,
                 enum list_format format, const struct public_suffix *suffixes)
{
	struct reading r;
	int failed, saved_errno;
	FILE *in;

	memset(&r, 0, sizeof r);
	r.f = f;
	r.path = path;
	r.suffixes = suffixes;
	if (format == LIST_FORMAT_AUTO && list_format_detect(path, &format) < 0)
		return -1;
	f->format = format;
	in = fopen(path, "re");
	if (in == NULL)
		return -1;
	if (format == LIST_FORMAT_ADBLOCK) {
		r.adblock = list_adblock_new();
		read_badfilters(&r, in);
	} else {
		struct stat st;

		/* Lines of a list are 15 to 40 bytes: a hint from below, so
		 * the set doubles once or twice rather than twenty times. */
		if (fstat(fileno(in), &st) == 0 && st.st_size > 0)
			matcher_reserve(list_filter_blocks(f),
			                (size_t)st.st_size / 40);
		r.batch = list_hosts_batch_new(list_filter_blocks(f));
	}
	read_lines(&r, in);
	list_hosts_batch_finish(r.batch);
	/* getline returns -1 both at the end and on a read error. */
	failed = ferror(in) || !feof(in);
	saved_errno = errno != 0 ? errno : EIO;
	list_adblock_free(r.adblock);
	fclose(in);
	f->stats.entries = list_filter_count(f);
	f->stats.exceptions = count_exceptions(f);
	log_summary(&r);
	if (failed) {
		errno = saved_errno;
		return -1;
	}
	return 0;
}
