/* public_suffix.c - the Public Suffix List as a hash set of exact names. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lists/matcher.h"
#include "lists/name_table.h"
#include "lists/public_suffix.h"
#include "src/xmalloc.h"

#define NAME_MAX_LENGTH 253
#define LABEL_MAX_LENGTH 63
#define INITIAL_CAPACITY 4096

/* What a name is to the list; one name can be several (co.uk could be a
 * rule and the base of "*.co.uk"). */
#define KIND_RULE 1u
#define KIND_WILDCARD_BASE 2u
#define KIND_EXCEPTION 4u

/* Bits of the filters below: a block list checks every one of its names,
 * nearly none a suffix; a bit of each name's hash, in 8 KiB that stay in
 * the cache, spares most of them a lookup in the table. */
#define FILTER_BITS 65536u

struct public_suffix {
	struct name_table *names; /* entry flags: the KIND_s of the name */
	size_t rules, skipped;
	uint64_t names_filter[FILTER_BITS / 64];
	uint64_t bases_filter[FILTER_BITS / 64]; /* wildcard bases only */
};

static void
filter_set(uint64_t *filter, uint32_t hash)
{
	hash %= FILTER_BITS;
	filter[hash / 64] |= UINT64_C(1) << (hash % 64);
}

static bool
filter_has(const uint64_t *filter, uint32_t hash)
{
	hash %= FILTER_BITS;
	return (filter[hash / 64] >> (hash % 64)) & 1;
}

static char
ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static void
insert(struct public_suffix *ps, const char *name, size_t length,
       unsigned kinds)
{
	struct name_table_entry *e;
	uint32_t hash = name_table_hash(name, length);
	bool added;

	e = name_table_add(ps->names, name, length, hash, &added);
	e->flags |= (uint16_t)kinds;
	filter_set(ps->names_filter, hash);
	if (kinds & KIND_WILDCARD_BASE)
		filter_set(ps->bases_filter, hash);
}

static unsigned
kinds_of(const struct public_suffix *ps, const char *name, size_t length,
         uint32_t hash)
{
	const struct name_table_entry *e =
	    name_table_find(ps->names, name, length, hash);

	return e != NULL ? e->flags : 0;
}

/* Decodes one UTF-8 character at *p (before end). Returns the code point,
 * or -1 for a byte sequence that is not UTF-8 (overlong forms and
 * surrogates included). */
static long
utf8_next(const unsigned char **p, const unsigned char *end)
{
	const unsigned char *s = *p;
	unsigned long c;
	size_t n, i;

	if (s[0] < 0x80) {
		*p = s + 1;
		return s[0];
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 1, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 2, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 3, c = s[0] & 0x07;
	else
		return -1;
	if ((size_t)(end - s) <= n)
		return -1;
	for (i = 1; i <= n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((n == 2 && c < 0x800) || (n == 3 && c < 0x10000) || c > 0x10ffff ||
	    (c >= 0xd800 && c <= 0xdfff))
		return -1;
	*p = s + n + 1;
	return (long)c;
}

/* RFC 3492, section 6.1. */
static unsigned long
punycode_adapt(unsigned long delta, unsigned long points, int first)
{
	unsigned long k = 0;

	delta = first ? delta / 700 : delta / 2;
	delta += delta / points;
	while (delta > ((36 - 1) * 26) / 2) {
		delta /= 36 - 1;
		k += 36;
	}
	return k + (36 - 1 + 1) * delta / (delta + 38);
}

static char
punycode_digit(unsigned long d)
{
	return d < 26 ? (char)('a' + d) : (char)('0' + d - 26);
}

/* Appends c to out at *used; fails when outlen would be reached. */
static int
put(char *out, size_t outlen, size_t *used, char c)
{
	if (*used + 1 >= outlen)
		return -1;
	out[(*used)++] = c;
	return 0;
}

/* RFC 3492, section 6.3, on the code points of one label. */
static int
punycode_encode(const unsigned long *cp, size_t n_cp, char *out, size_t outlen,
                size_t *used)
{
	unsigned long n = 128, delta = 0, bias = 72, m, q, k, t;
	size_t h, b = 0, i;

	for (i = 0; i < n_cp; i++) {
		if (cp[i] < 0x80) {
			if (put(out, outlen, used, (char)cp[i]) < 0)
				return -1;
			b++;
		}
	}
	h = b;
	if (b > 0 && put(out, outlen, used, '-') < 0)
		return -1;
	while (h < n_cp) {
		m = 0x110000; /* above every code point */
		for (i = 0; i < n_cp; i++)
			if (cp[i] >= n && cp[i] < m)
				m = cp[i];
		/* Labels are at most 63 code points: no overflow here. */
		delta += (m - n) * (h + 1);
		n = m;
		for (i = 0; i < n_cp; i++) {
			if (cp[i] < n)
				delta++;
			if (cp[i] != n)
				continue;
			q = delta;
			for (k = 36;; k += 36) {
				t = k <= bias        ? 1
				    : k >= bias + 26 ? 26
				                     : k - bias;
				if (q < t)
					break;
				if (put(out, outlen, used,
				        punycode_digit(t +
				                       (q - t) % (36 - t))) < 0)
					return -1;
				q = (q - t) / (36 - t);
			}
			if (put(out, outlen, used, punycode_digit(q)) < 0)
				return -1;
			bias = punycode_adapt(delta, h + 1, h == b);
			delta = 0;
			h++;
		}
		delta++;
		n++;
	}
	return 0;
}

int
public_suffix_to_ascii(const char *name, char *out, size_t outlen)
{
	const unsigned char *p = (const unsigned char *)name;
	const unsigned char *end = p + strlen(name);
	size_t used = 0;

	if (outlen == 0)
		return -1;
	while (p < end) {
		unsigned long cp[LABEL_MAX_LENGTH + 1];
		size_t n_cp = 0, i;
		int ascii = 1;

		while (p < end && *p != '.') {
			long c = utf8_next(&p, end);

			if (c < 0 || n_cp == LABEL_MAX_LENGTH + 1)
				return -1;
			if (c >= 'A' && c <= 'Z')
				c += 'a' - 'A';
			ascii &= c < 0x80;
			cp[n_cp++] = (unsigned long)c;
		}
		if (ascii) {
			for (i = 0; i < n_cp; i++)
				if (put(out, outlen, &used, (char)cp[i]) < 0)
					return -1;
		} else if (put(out, outlen, &used, 'x') < 0 ||
		           put(out, outlen, &used, 'n') < 0 ||
		           put(out, outlen, &used, '-') < 0 ||
		           put(out, outlen, &used, '-') < 0 ||
		           punycode_encode(cp, n_cp, out, outlen, &used) < 0) {
			return -1;
		}
		if (p < end) {
			if (put(out, outlen, &used, '.') < 0)
				return -1;
			p++;
		}
	}
	out[used] = '\0';
	return (int)used;
}

/* Adds the rule at the start of line (read up to the first blank, as the
 * list's format says). */
static void
add_rule(struct public_suffix *ps, char *line)
{
	char ascii[NAME_MAX_LENGTH + 2];
	unsigned kinds = KIND_RULE;
	char *rule = line;
	const char *reason;
	int length;

	rule[strcspn(rule, " \t\r\n")] = '\0';
	if (*rule == '\0')
		return;
	if (rule[0] == '!') {
		kinds = KIND_EXCEPTION;
		rule++;
	} else if (rule[0] == '*' && rule[1] == '.') {
		kinds = KIND_WILDCARD_BASE;
		rule += 2;
	}
	/* A rule must be a name the block lists could hold (no trailing dot
	 * either: a list's "com." is "com"). */
	length = public_suffix_to_ascii(rule, ascii, sizeof ascii);
	if (length <= 0 || ascii[length - 1] == '.' ||
	    matcher_check(ascii, &reason) < 0) {
		ps->skipped++;
		return;
	}
	insert(ps, ascii, (size_t)length, kinds);
	ps->rules++;
}

struct public_suffix *
public_suffix_load(const char *path, char *err, size_t errlen)
{
	struct public_suffix *ps;
	char *line = NULL;
	size_t size = 0;
	ssize_t length;
	int in_private = 0, failed, saved_errno;
	FILE *f = fopen(path, "re");

	if (f == NULL) {
		snprintf(err, errlen, "%s: cannot read it: %s", path,
		         strerror(errno));
		return NULL;
	}
	ps = xcalloc(1, sizeof *ps);
	ps->names = name_table_new(INITIAL_CAPACITY);
	errno = 0;
	while ((length = getline(&line, &size, f)) != -1) {
		char *p = line;

		if (memchr(line, '\0', (size_t)length) != NULL) {
			snprintf(err, errlen,
			         "%s: NUL byte in it: not a public suffix list",
			         path);
			free(line);
			fclose(f);
			public_suffix_free(ps);
			return NULL;
		}
		while (*p == ' ' || *p == '\t')
			p++;
		if (p[0] == '/' && p[1] == '/') {
			if (strstr(p, "===BEGIN PRIVATE DOMAINS===") != NULL)
				in_private = 1;
			else if (strstr(p, "===END PRIVATE DOMAINS===") != NULL)
				in_private = 0;
			continue;
		}
		if (!in_private)
			add_rule(ps, p);
	}
	failed = ferror(f) || !feof(f);
	saved_errno = errno != 0 ? errno : EIO;
	free(line);
	fclose(f);
	if (failed) {
		snprintf(err, errlen, "%s: cannot read it: %s", path,
		         strerror(saved_errno));
		public_suffix_free(ps);
		return NULL;
	}
	if (ps->rules == 0) {
		snprintf(err, errlen,
		         "%s: no rule in it: not a public suffix list", path);
		public_suffix_free(ps);
		return NULL;
	}
	return ps;
}

void
public_suffix_free(struct public_suffix *ps)
{
	if (ps == NULL)
		return;
	name_table_free(ps->names);
	free(ps);
}

bool
public_suffix_is_suffix(const struct public_suffix *ps, const char *name)
{
	char buf[NAME_MAX_LENGTH + 1];
	size_t length = strnlen(name, NAME_MAX_LENGTH + 2), i;

	if (length > 0 && name[length - 1] == '.')
		length--;
	if (length == 0 || length > NAME_MAX_LENGTH)
		return false;
	for (i = 0; i < length; i++)
		buf[i] = ascii_lower(name[i]);
	return public_suffix_is_suffix_lower(ps, buf, length);
}

bool
public_suffix_is_suffix_lower(const struct public_suffix *ps, const char *buf,
                              size_t length)
{
	size_t i;
	const char *dot;
	unsigned kinds;
	uint64_t h = NAME_TABLE_HASH_START;
	uint32_t hash, parent_hash = 0;

	if (length == 0 || length > NAME_MAX_LENGTH)
		return false;
	/* One pass from the end hashes the name and its parent (the
	 * table hashes backwards): the parent's is the state at the first
	 * dot. */
	for (i = length; i-- > 0;) {
		if (buf[i] == '.')
			parent_hash = name_table_hash_fold(h);
		h = name_table_hash_step(h, (unsigned char)buf[i]);
	}
	hash = name_table_hash_fold(h);
	kinds = filter_has(ps->names_filter, hash)
	            ? kinds_of(ps, buf, length, hash)
	            : 0;
	if (kinds & KIND_EXCEPTION)
		return false;
	if (kinds & (KIND_RULE | KIND_WILDCARD_BASE))
		return true;
	dot = memchr(buf, '.', length);
	if (dot == NULL || dot == buf)
		return false;
	dot++;
	return filter_has(ps->bases_filter, parent_hash) &&
	       (kinds_of(ps, dot, length - (size_t)(dot - buf), parent_hash) &
	        KIND_WILDCARD_BASE) != 0;
}

size_t
public_suffix_count(const struct public_suffix *ps)
{
	return ps->rules;
}

size_t
public_suffix_skipped(const struct public_suffix *ps)
{
	return ps->skipped;
}
