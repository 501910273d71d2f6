/* matcher.c - a hash set of domain names, matched by walking suffixes. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lists/matcher.h"
#include "src/xmalloc.h"

#define NAME_MAX_LENGTH 253
#define LABEL_MAX_LENGTH 63
#define LABELS_MAX ((NAME_MAX_LENGTH + 1) / 2)
#define INITIAL_CAPACITY 1024
#define ARENA_BLOCK_SIZE 65536

/* One table slot; name == NULL marks it empty. The hash is kept so that a
 * probe rarely touches the string and growing never rehashes text. */
struct slot {
	const char *name;
	uint32_t hash;
	uint32_t length;
};

/* Names live in large blocks so a 100k-entry list is not 100k mallocs, and
 * so the pointers matcher_match hands out never move. */
struct arena_block {
	struct arena_block *next;
	size_t used;
	char data[ARENA_BLOCK_SIZE];
};

struct matcher {
	struct slot *slots;
	size_t capacity; /* a power of two */
	size_t count;
	struct arena_block *blocks;
};

/* FNV-1a, fed from the last byte towards the first. Hashing backwards lets
 * matcher_match get the hash of every suffix from one pass over the name:
 * the state at a label boundary is the hash of the suffix starting there. */
#define FNV_OFFSET_BASIS UINT64_C(14695981039346656037)
#define FNV_PRIME UINT64_C(1099511628211)

static inline uint64_t
hash_step(uint64_t h, unsigned char c)
{
	return (h ^ c) * FNV_PRIME;
}

/* FNV's low bits mix less well than its high ones; fold before masking. */
static inline uint32_t
hash_fold(uint64_t h)
{
	return (uint32_t)(h ^ (h >> 32));
}

static uint32_t
hash_name(const char *name, size_t length)
{
	uint64_t h = FNV_OFFSET_BASIS;

	while (length > 0)
		h = hash_step(h, (unsigned char)name[--length]);
	return hash_fold(h);
}

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

static const char *
arena_store(struct matcher *m, const char *name, size_t length)
{
	struct arena_block *block = m->blocks;
	char *copy;

	if (block == NULL || ARENA_BLOCK_SIZE - block->used < length + 1) {
		block = xmalloc(sizeof *block);
		block->next = m->blocks;
		block->used = 0;
		m->blocks = block;
	}
	copy = block->data + block->used;
	memcpy(copy, name, length);
	copy[length] = '\0';
	block->used += length + 1;
	return copy;
}

/* Linear probing: returns the slot holding name, or the empty slot where it
 * would go. The table is never full (load stays at or below one half). */
static struct slot *
find_slot(const struct matcher *m, const char *name, size_t length,
          uint32_t hash)
{
	size_t mask = m->capacity - 1;
	size_t i = hash & mask;

	for (;;) {
		struct slot *s = &m->slots[i];

		if (s->name == NULL ||
		    (s->hash == hash && s->length == length &&
		     memcmp(s->name, name, length) == 0))
			return s;
		i = (i + 1) & mask;
	}
}

static void
grow(struct matcher *m)
{
	struct slot *old = m->slots;
	size_t old_capacity = m->capacity, i;

	m->capacity = old_capacity * 2;
	m->slots = xcalloc(m->capacity, sizeof *m->slots);
	for (i = 0; i < old_capacity; i++) {
		size_t mask = m->capacity - 1, j;

		if (old[i].name == NULL)
			continue;
		j = old[i].hash & mask;
		while (m->slots[j].name != NULL)
			j = (j + 1) & mask;
		m->slots[j] = old[i];
	}
	free(old);
}

struct matcher *
matcher_new(void)
{
	struct matcher *m = xcalloc(1, sizeof *m);

	m->capacity = INITIAL_CAPACITY;
	m->slots = xcalloc(m->capacity, sizeof *m->slots);
	return m;
}

void
matcher_free(struct matcher *m)
{
	struct arena_block *block, *next;

	if (m == NULL)
		return;
	for (block = m->blocks; block != NULL; block = next) {
		next = block->next;
		free(block);
	}
	free(m->slots);
	free(m);
}

int
matcher_check(const char *domain, const char **reason)
{
	char name[NAME_MAX_LENGTH + 1];

	return normalise_name(domain, name, reason) < 0 ? -1 : 0;
}

int
matcher_add(struct matcher *m, const char *domain, const char **reason)
{
	char name[NAME_MAX_LENGTH + 1];
	int length = normalise_name(domain, name, reason);
	uint32_t hash;
	struct slot *s;

	if (length < 0)
		return -1;
	hash = hash_name(name, (size_t)length);
	s = find_slot(m, name, (size_t)length, hash);
	if (s->name != NULL)
		return 0;
	if ((m->count + 1) * 2 > m->capacity) {
		grow(m);
		s = find_slot(m, name, (size_t)length, hash);
	}
	s->name = arena_store(m, name, (size_t)length);
	s->hash = hash;
	s->length = (uint32_t)length;
	m->count++;
	return 1;
}

const char *
matcher_match(const struct matcher *m, const char *name)
{
	char buf[256];
	size_t starts[LABELS_MAX + 1];
	uint32_t hashes[LABELS_MAX + 1];
	size_t length = strnlen(name, NAME_MAX_LENGTH + 2);
	size_t i, suffixes = 0;
	uint64_t h = FNV_OFFSET_BASIS;

	if (length > 0 && name[length - 1] == '.')
		length--;
	if (length == 0 || length > NAME_MAX_LENGTH)
		return NULL;
	for (i = 0; i < length; i++)
		buf[i] = ascii_lower(name[i]);

	/* Collect the suffixes from the shortest ("com") to the whole name,
	 * then probe the longest first: the nearest listed parent wins. */
	for (i = length; i > 0; i--) {
		h = hash_step(h, (unsigned char)buf[i - 1]);
		if (i == 1 || buf[i - 2] == '.') {
			/* An empty label ("a..b") gives no suffix to try, and
			 * a 253-char name has at most 127 labels. */
			if (buf[i - 1] != '.' && suffixes <= LABELS_MAX) {
				starts[suffixes] = i - 1;
				hashes[suffixes] = hash_fold(h);
				suffixes++;
			}
		}
	}
	while (suffixes > 0) {
		const struct slot *s;
		size_t start;

		suffixes--;
		start = starts[suffixes];
		s = find_slot(m, buf + start, length - start, hashes[suffixes]);
		if (s->name != NULL)
			return s->name;
	}
	return NULL;
}

size_t
matcher_count(const struct matcher *m)
{
	return m->count;
}
