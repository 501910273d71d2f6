/* fuzz_list.c - the shared body of the block-list harnesses. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "src/log.h"
#include "tests/fuzz/fuzz_list.h"

/* Each line through add_line; every name a line added must then match. */
static const struct public_suffix *suffixes;

static void
lines_one_by_one(const uint8_t *data, size_t size,
		 fuzz_list_add_line add_line)
{
	struct matcher *m = matcher_new();
	char *text = malloc(size + 1), *line, *next;

	memcpy(text, data, size);
	text[size] = '\0';
	for (line = text; line != NULL; line = next) {
		struct list_line_note note;
		size_t before = matcher_count(m);
		int added;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		memset(&note, 0, sizeof note);
		added = add_line(m, suffixes, line, &note);
		if (added < 0 && (note.reason == NULL || note.reason[0] == '\0'))
			abort(); /* a line not used says why */
		if (added == LIST_LINE_PUBLIC_SUFFIX &&
		    (suffixes == NULL || note.suffix[0] == '\0'))
			abort(); /* and a suffix refused names it */
		if (added < 0 && matcher_count(m) != before)
			abort(); /* and adds nothing */
		if (added >= 0 && matcher_count(m) != before + (size_t)added)
			abort();
		matcher_match(m, line);
	}
	free(text);
	matcher_free(m);
}

/* The bytes as a file, NULs and all, through load. */
static void
as_a_file(const uint8_t *data, size_t size, fuzz_list_load load)
{
	static int fd = -1;
	char path[64];
	struct matcher *m;
	struct list_stats stats;

	if (fd < 0)
		fd = memfd_create("fuzz-list", 0);
	if (fd < 0 || ftruncate(fd, 0) < 0 ||
	    pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	m = matcher_new();
	if (load(m, suffixes, path, &stats) < 0)
		abort(); /* the file is there: only a read error fails */
	if (stats.added != matcher_count(m) ||
	    stats.rejected + stats.suffixes > stats.lines)
		abort();
	matcher_free(m);
}

int
fuzz_list_format(const uint8_t *data, size_t size,
		 fuzz_list_add_line add_line, fuzz_list_load load)
{
	static int quiet;

	if (!quiet) {
		char err[256];

		log_set_level(LOG_LEVEL_ERROR); /* the malformed-line warnings */
		suffixes = public_suffix_load(PUBLIC_SUFFIX_DEFAULT_PATH, err,
					      sizeof err);
		quiet = 1;
	}
	lines_one_by_one(data, size, add_line);
	as_a_file(data, size, load);
	return 0;
}
