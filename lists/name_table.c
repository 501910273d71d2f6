/* name_table.c - names in a hash table, stored in blocks that never
 * move; see name_table.h. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "lists/name_table.h"
#include "src/xmalloc.h"

#define BLOCK_SIZE 65536

/* Names live in large blocks so a 100k-entry list is not 100k mallocs, and
 * so the pointers handed out never move. */
struct block {
	struct block *next;
	size_t used;
	char data[BLOCK_SIZE];
};

struct name_table {
	struct name_table_entry *slots;
	size_t capacity; /* a power of two */
	size_t count;
	struct block *blocks;
};

struct name_table *
name_table_new(size_t capacity)
{
	struct name_table *t = xcalloc(1, sizeof *t);

	t->capacity = capacity;
	t->slots = xcalloc(t->capacity, sizeof *t->slots);
	return t;
}

void
name_table_free(struct name_table *t)
{
	struct block *block, *next;

	if (t == NULL)
		return;
	for (block = t->blocks; block != NULL; block = next) {
		next = block->next;
		free(block);
	}
	free(t->slots);
	free(t);
}

uint32_t
name_table_hash(const char *name, size_t length)
{
	uint64_t h = NAME_TABLE_HASH_START;

	while (length > 0)
		h = name_table_hash_step(h, (unsigned char)name[--length]);
	return name_table_hash_fold(h);
}

/* Linear probing: returns the slot holding name, or the empty slot where it
 * would go. The table is never full (load stays at or below one half). */
static struct name_table_entry *
find_slot(const struct name_table *t, const char *name, size_t length,
          uint32_t hash)
{
	size_t mask = t->capacity - 1;
	size_t i = hash & mask;

	for (;;) {
		struct name_table_entry *s = &t->slots[i];

		if (s->name == NULL ||
		    (s->hash == hash && s->length == length &&
		     memcmp(s->name, name, length) == 0))
			return s;
		i = (i + 1) & mask;
	}
}

const struct name_table_entry *
name_table_find(const struct name_table *t, const char *name, size_t length,
                uint32_t hash)
{
	const struct name_table_entry *s = find_slot(t, name, length, hash);

	return s->name != NULL ? s : NULL;
}

/* The hash is kept in the slot, so growing never rehashes text. */
static void
grow(struct name_table *t)
{
	struct name_table_entry *old = t->slots;
	size_t old_capacity = t->capacity, i;

	t->capacity = old_capacity * 2;
	t->slots = xcalloc(t->capacity, sizeof *t->slots);
	for (i = 0; i < old_capacity; i++) {
		size_t mask = t->capacity - 1, j;

		if (old[i].name == NULL)
			continue;
		j = old[i].hash & mask;
		while (t->slots[j].name != NULL)
			j = (j + 1) & mask;
		t->slots[j] = old[i];
	}
	free(old);
}

static const char *
store(struct name_table *t, const char *name, size_t length)
{
	struct block *block = t->blocks;
	char *copy;

	if (block == NULL || BLOCK_SIZE - block->used < length + 1) {
		block = xmalloc(sizeof *block);
		block->next = t->blocks;
		block->used = 0;
		t->blocks = block;
	}
	copy = block->data + block->used;
	memcpy(copy, name, length);
	copy[length] = '\0';
	block->used += length + 1;
	return copy;
}

struct name_table_entry *
name_table_add(struct name_table *t, const char *name, size_t length,
               uint32_t hash, bool *added)
{
	struct name_table_entry *s = find_slot(t, name, length, hash);

	*added = s->name == NULL;
	if (!*added)
		return s;
	if ((t->count + 1) * 2 > t->capacity) {
		grow(t);
		s = find_slot(t, name, length, hash);
	}
	s->name = store(t, name, length);
	s->hash = hash;
	s->length = (uint16_t)length;
	s->flags = 0;
	t->count++;
	return s;
}

size_t
name_table_count(const struct name_table *t)
{
	return t->count;
}
