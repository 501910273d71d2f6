/* test_name_table.c - unit tests for lists/name_table.c. */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lists/name_table.h"
#include "tests/unit/check.h"

static const struct name_table_entry *
find(const struct name_table *t, const char *name)
{
	return name_table_find(t, name, strlen(name),
	                       name_table_hash(name, strlen(name)));
}

static struct name_table_entry *
add(struct name_table *t, const char *name, bool *added)
{
	return name_table_add(t, name, strlen(name),
	                      name_table_hash(name, strlen(name)), added);
}

static void
test_add_find(void)
{
	struct name_table *t = name_table_new(4);
	struct name_table_entry *e;
	const struct name_table_entry *found;
	char name[] = "example.com";
	bool added = false;

	CHECK_INT(name_table_count(t), 0);
	CHECK(find(t, "example.com") == NULL);
	e = add(t, name, &added);
	CHECK(added);
	CHECK(e != NULL && e->name != name); /* a copy */
	CHECK_STR(e->name, "example.com");
	CHECK_INT(e->length, 11);
	CHECK_INT(e->flags, 0);
	e->flags = 5;
	name[0] = 'X'; /* the caller's buffer is not the table's */
	found = find(t, "example.com");
	CHECK(found == e);
	CHECK_INT(found->flags, 5);

	/* Again: the same entry, flags kept. */
	e = add(t, "example.com", &added);
	CHECK(!added);
	CHECK(e == found);
	CHECK_INT(e->flags, 5);
	CHECK_INT(name_table_count(t), 1);

	/* Only the exact bytes: no prefix, no suffix. */
	CHECK(find(t, "example.co") == NULL);
	CHECK(find(t, "www.example.com") == NULL);
	CHECK(find(t, "com") == NULL);
	CHECK(name_table_find(t, "example.com", 7,
	                      name_table_hash("example.com", 7)) == NULL);
	name_table_free(t);
	name_table_free(NULL);
}

/* Far past the first capacity: every name still found, at the address
 * it was first given (pointers handed out never move). */
static void
test_growth(void)
{
	struct name_table *t = name_table_new(4);
	const char *first[3000];
	char name[32];
	size_t i, moved = 0, lost = 0;
	bool added;

	for (i = 0; i < 3000; i++) {
		snprintf(name, sizeof name, "d%zu.test", i);
		first[i] = add(t, name, &added)->name;
	}
	CHECK_INT(name_table_count(t), 3000);
	for (i = 0; i < 3000; i++) {
		const struct name_table_entry *e;

		snprintf(name, sizeof name, "d%zu.test", i);
		e = find(t, name);
		if (e == NULL)
			lost++;
		else if (e->name != first[i])
			moved++;
	}
	CHECK_INT(lost, 0);
	CHECK_INT(moved, 0);
	CHECK(find(t, "d3000.test") == NULL);
	name_table_free(t);
}

/* Stepping from the last byte gives, at each point, the hash of the
 * suffix read so far. */
static void
test_suffix_hashes(void)
{
	const char *name = "www.example.com";
	size_t length = strlen(name), i;
	uint64_t h = NAME_TABLE_HASH_START;
	size_t same = 0;

	for (i = length; i > 0; i--) {
		h = name_table_hash_step(h, (unsigned char)name[i - 1]);
		same += name_table_hash_fold(h) ==
		        name_table_hash(name + i - 1, length - i + 1);
	}
	CHECK_INT(same, length);
	CHECK(name_table_hash("a.test", 6) != name_table_hash("b.test", 6));
}

int
main(void)
{
	test_add_find();
	test_growth();
	test_suffix_hashes();
	return check_exit();
}
