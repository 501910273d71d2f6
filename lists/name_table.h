/* name_table.h - the hash table of names that the block-list matcher and
 * the public-suffix list keep: open addressing with linear probing, never
 * more than half full, the names copied into blocks that never move (a
 * name handed out stays valid until name_table_free). Hashed from the
 * last byte towards the first, so that one pass over a name gives the
 * hash of each of its suffixes (matcher_match walks them). */
#ifndef DNSGATE_NAME_TABLE_H
#define DNSGATE_NAME_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct name_table;

struct name_table_entry {
	const char *name; /* NUL-terminated; NULL marks an empty slot */
	uint32_t hash;
	uint16_t length;
	uint16_t flags; /* the owner's to use; 0 when added */
};

/* capacity: the slots to start with, a power of two. The caller owns the
 * table and frees it with name_table_free (NULL is accepted there). */
struct name_table *name_table_new(size_t capacity);
void name_table_free(struct name_table *t);

/* FNV-1a, fed from the last byte of the name towards the first: start
 * from NAME_TABLE_HASH_START, take name_table_hash_step for each byte,
 * and name_table_hash_fold the state for the hash of the suffix read so
 * far. name_table_hash does all of it for one name. */
#define NAME_TABLE_HASH_START UINT64_C(14695981039346656037)

static inline uint64_t
name_table_hash_step(uint64_t h, unsigned char c)
{
	return (h ^ c) * UINT64_C(1099511628211);
}

/* FNV's low bits mix less well than its high ones; fold before masking. */
static inline uint32_t
name_table_hash_fold(uint64_t h)
{
	return (uint32_t)(h ^ (h >> 32));
}

uint32_t name_table_hash(const char *name, size_t length);

/* The entry of name (length bytes, hash its name_table_hash), or NULL. */
const struct name_table_entry *name_table_find(const struct name_table *t,
                                               const char *name, size_t length,
                                               uint32_t hash);

/* The entry of name, added with a copy of it (flags 0) when it was not
 * there; *added says which. length is at most 65535. */
struct name_table_entry *name_table_add(struct name_table *t, const char *name,
                                        size_t length, uint32_t hash,
                                        bool *added);

/* The names in the table. */
size_t name_table_count(const struct name_table *t);

#endif
