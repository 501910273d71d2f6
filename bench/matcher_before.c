/* matcher_before.c - lists/matcher.c as it was before issue 14 (a hash
 * set of the names themselves), kept for bench/matcher_bench to compare
 * lookups with. Not part of dnsgated. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bench/matcher_before.h"
#include "lists/name_table.h"
#include "src/xmalloc.h"

#define NAME_MAX_LENGTH 253
#define LABEL_MAX_LENGTH 63
#define LABELS_MAX ((NAME_MAX_LENGTH + 1) / 2)
#define INITIAL_CAPACITY 1024

/* The listed names. The table hashes them backwards, which lets
 * before_matcher_match hash every suffix of a name in one pass over it. */
struct before_matcher {
	struct name_table *names;
};

static inline char
ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static int
is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
	       c == '_';
}

/* Lower-cases domain into out (NAME_MAX_LENGTH + 1 bytes) without its
 * trailing dot and checks it. Returns the length, or -1 with *reason. */
static int
normalise_name(const char *domain, char *out, const char **reason)
{
	size_t length = strnlen(domain, NAME_MAX_LENGTH + 2);
	size_t i, label = 0;

	if (length > 0 && domain[length - 1] == '.')
		length--;
	if (length == 0) {
		*reason = "empty domain name";
		return -1;
	}
	if (length > NAME_MAX_LENGTH) {
		*reason = "domain name longer than 253 characters";
		return -1;
	}
	for (i = 0; i < length; i++) {
		char c = ascii_lower(domain[i]);

		if (c == '.') {
			if (label == 0) {
				*reason = "empty label in domain name";
				return -1;
			}
			label = 0;
		} else if (!is_name_char(c)) {
			*reason = "character other than letter, digit, '-' "
			          "or '_' in domain name";
			return -1;
		} else if (++label > LABEL_MAX_LENGTH) {
			*reason = "label longer than 63 characters";
			return -1;
		}
		out[i] = c;
	}
	if (label == 0) {
		/* Only reachable with two trailing dots ("a.."). */
		*reason = "empty label in domain name";
		return -1;
	}
	out[length] = '\0';
	return (int)length;
}

struct before_matcher *
before_matcher_new(void)
{
	struct before_matcher *m = xcalloc(1, sizeof *m);

	m->names = name_table_new(INITIAL_CAPACITY);
	return m;
}

void
before_matcher_free(struct before_matcher *m)
{
	if (m == NULL)
		return;
	name_table_free(m->names);
	free(m);
}

int
before_matcher_add(struct before_matcher *m, const char *domain, const char **reason)
{
	char name[NAME_MAX_LENGTH + 1];
	int length = normalise_name(domain, name, reason);
	bool added;

	if (length < 0)
		return -1;
	name_table_add(m->names, name, (size_t)length,
	               name_table_hash(name, (size_t)length), &added);
	return added ? 1 : 0;
}

const char *
before_matcher_match(const struct before_matcher *m, const char *name)
{
	char buf[256];
	size_t starts[LABELS_MAX + 1];
	uint32_t hashes[LABELS_MAX + 1];
	size_t length = strnlen(name, NAME_MAX_LENGTH + 2);
	size_t i, suffixes = 0;
	uint64_t h = NAME_TABLE_HASH_START;

	if (length > 0 && name[length - 1] == '.')
		length--;
	if (length == 0 || length > NAME_MAX_LENGTH)
		return NULL;
	for (i = 0; i < length; i++)
		buf[i] = ascii_lower(name[i]);

	/* Collect the suffixes from the shortest ("com") to the whole name,
	 * then probe the longest first: the nearest listed parent wins. */
	for (i = length; i > 0; i--) {
		h = name_table_hash_step(h, (unsigned char)buf[i - 1]);
		if (i == 1 || buf[i - 2] == '.') {
			/* An empty label ("a..b") gives no suffix to try, and
			 * a 253-char name has at most 127 labels. */
			if (buf[i - 1] != '.' && suffixes <= LABELS_MAX) {
				starts[suffixes] = i - 1;
				hashes[suffixes] = name_table_hash_fold(h);
				suffixes++;
			}
		}
	}
	while (suffixes > 0) {
		const struct name_table_entry *e;
		size_t start;

		suffixes--;
		start = starts[suffixes];
		e = name_table_find(m->names, buf + start, length - start,
		                    hashes[suffixes]);
		if (e != NULL)
			return e->name;
	}
	return NULL;
}

size_t
before_matcher_count(const struct before_matcher *m)
{
	return name_table_count(m->names);
}
